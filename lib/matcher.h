/*
 * matcher.h - label sets and label matchers, shared by the on-call routes
 * ([route NAME] match), the rules' scopes ([page NAME] match), silences
 * (slipwatch silence add) and the engine that applies them.
 *
 * Labels: "key=value,key=value" (no blanks), keys [a-z_][a-z0-9_]* at
 * most 32 bytes, values 1..128 bytes of printable ASCII other than ',',
 * '=', '!', '~', '"' and blanks; sorted by key, each key once (the
 * canonical text that the store keeps in pages.labels).
 *
 * Matchers: one or more of, separated by commas (blanks around them are
 * ignored):
 *   key=value     the label is value
 *   key!=value    the label is not value (or the page lacks it)
 *   key=~regex    the label matches regex (POSIX extended, anchored at
 *                 both ends as Alertmanager does; no commas in it, so no
 *                 {n,m} bounds: commas split matchers; a regex whose
 *                 repetitions would expand too far is refused as "too
 *                 complex", since glibc's regcomp can take gigabytes on
 *                 such nesting)
 *   key!~regex    it does not (or the page lacks the label)
 * A page matches when every matcher holds.  Pure; any thread.
 */
#ifndef SW_MATCHER_H
#define SW_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define SW_LABEL_KEY_MAX   32
#define SW_LABEL_VALUE_MAX 128
#define SW_LABELS_MAX	   16 /* labels in one set, matchers in one list */

struct sw_matchers; /* opaque: a parsed, compiled list */

/*
 * Parses text into a new list.  SW_OK with *ret; else SW_EPARSE with
 * *ret NULL and err saying which matcher and what is wrong, e.g.
 * "matcher 2 'courier=~(dhl': bad regex: parentheses not balanced".
 */
enum sw_err sw_matchers_parse(const char *text, struct sw_matchers **ret, char *err, size_t len);

/* The list as canonical text ("k=v,k!~re"), for the store and listings.
 * Borrowed from m. */
const char *sw_matchers_text(const struct sw_matchers *m);

/* True if labels (canonical text) satisfy every matcher of m.  A NULL m
 * matches everything. */
bool sw_matchers_match(const struct sw_matchers *m, const char *labels);

void sw_matchers_free(struct sw_matchers *m);

/*
 * Checks a "k=v,k=v" list (blanks around items allowed) and writes it in
 * canonical form (sorted, no blanks) to out.  SW_OK; SW_EPARSE (err says
 * which item and why, duplicate keys included); SW_ETOOBIG (out too
 * small).
 */
enum sw_err sw_labels_canon(const char *text, char *out, size_t outlen, char *err, size_t len);

/* The value of key in canonical labels, copied to out: true if present. */
bool sw_labels_get(const char *labels, const char *key, char *out, size_t outlen);

#endif /* SW_MATCHER_H */
