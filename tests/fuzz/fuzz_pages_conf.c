/*
 * fuzz_pages_conf.c - fuzz target for the on-call configuration
 * (alerts/pages_conf.c: [pages], [page NAME], [route NAME]; through it
 * alerts/receivers.c: [receiver NAME]).
 *
 * Input: a slipwatch.conf, loaded as text only (sw_conf_set_text_only: no
 * secret file or variable is read, as another program's -t does), then
 * sw_pages_conf_load.  Properties checked on every input (a violation
 * aborts):
 * - nothing crashes, leaks or reads out of bounds;
 * - an error is one line without control characters, starting with the
 *   file name and naming the section it is about ([pages], [page NAME],
 *   [route NAME], [receiver NAME]);
 * - an accepted config obeys pages.h: each rule has a signal and at least
 *   one threshold, critical is on the worse side of warning and recover
 *   on the safe side of the first threshold crossed (by the signal's
 *   direction), percentages are 0..100 and nothing is negative, labels
 *   are canonical, every receiver named exists, rules have a receiver;
 * - its dump loads again, and the config loaded from the dump dumps to
 *   the same text (a fixed point).  The dump shows a secret as where it
 *   comes from ("key = (secret from file P)"), which is not a key; the
 *   target turns such a line back into "key_file = P" / "key_env = V"
 *   before loading, which is what the line says.
 *
 * Found by fuzzing and fixed (their inputs stay in the corpus): a value
 * written "key =;x" (';' right after the '=' is not a comment) and a
 * line "key=VALUE" that the dump's blanks pushed over SW_CONF_MAX_LINE;
 * sw_conf_dump_kv now writes such values "key=value".
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/pages.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/matcher.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"

#define NAME	 "fuzz.conf"
#define ERR_LEN	 1024
#define DUMP_MAX (1 << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const section_words[] = {"[pages]", "[page ", "[route ", "[receiver ", NULL};

/* One line, no control bytes, "NAME..." and a section named. */
static void check_error(const char *err, const char *name)
{
	bool named = false;

	if (!err[0] || strncmp(err, name, strlen(name)) != 0)
		abort();
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	for (const char *const *w = section_words; *w && !named; w++)
		named = strstr(err, *w) != NULL;
	if (!named)
		abort();
}

/* Thresholds and recover on the sides pages.h promises. */
static void check_rule(const struct sw_page_rule *r)
{
	const struct sw_signal *sig = r->signal;
	bool pct;
	double first;

	if (!sig || !r->name || !r->labels || (!r->has_warning && !r->has_critical))
		abort();
	pct = strcmp(sig->unit, "%") == 0;
	if ((r->has_warning && (r->warning < 0 || (pct && r->warning > 100))) ||
	    (r->has_critical && (r->critical < 0 || (pct && r->critical > 100))) ||
	    r->recover < 0 || (pct && r->recover > 100))
		abort();
	if (r->has_warning && r->has_critical &&
	    (sig->above ? r->critical < r->warning : r->critical > r->warning))
		abort(); /* critical on the safe side of warning */
	first = r->has_warning ? r->warning : r->critical;
	if (sig->above ? r->recover > first : r->recover < first)
		abort(); /* could resolve while still crossed */
	if (r->for_s < 0 || r->window_s <= 0 || r->min_count < 1 || r->nodata_after_s <= 0 ||
	    (r->nodata_severity != SW_SEV_WARNING && r->nodata_severity != SW_SEV_CRITICAL))
		abort();
}

static void check_labels(const char *labels)
{
	char canon[8192], why[512];

	if (!*labels)
		return;
	if (sw_labels_canon(labels, canon, sizeof(canon), why, sizeof(why)) != SW_OK ||
	    strcmp(canon, labels) != 0)
		abort();
}

static void check_conf(const struct sw_pages_conf *c)
{
	if (c->n_rules > SW_PAGES_MAX_RULES || c->n_routes > SW_PAGES_MAX_ROUTES || !c->source ||
	    c->retry_min_s > c->retry_max_s)
		abort();
	if (c->receiver && !sw_pages_receiver(c, c->receiver))
		abort();
	if (c->n_rules > 0 && !c->receiver && c->n_routes == 0)
		abort();
	for (size_t i = 0; i < c->n_rules; i++) {
		check_rule(&c->rules[i]);
		check_labels(c->rules[i].labels);
	}
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct sw_page_route *r = &c->routes[i];

		if (!sw_pages_receiver(c, r->receiver) ||
		    (r->escalate_to &&
		     (!sw_pages_receiver(c, r->escalate_to) || r->escalate_after_s <= 0)))
			abort();
	}
}

static char *dump_text(const struct sw_pages_conf *c)
{
	struct sw_buf b;
	char *s;

	sw_buf_init(&b, DUMP_MAX);
	sw_pages_conf_dump(c, &b);
	s = xstrdup(sw_buf_str(&b));
	sw_buf_free(&b);
	return s;
}

/* The dump with "key = (secret from file P)" lines made "key_file = P"
 * and "... environment variable V)" lines "key_env = V". */
static char *secrets_back(const char *dump)
{
	static const struct {
		const char *from, *suffix;
	} kinds[] = {{"(secret from file ", "_file"},
		     {"(secret from environment variable ", "_env"}};
	struct sw_buf b;
	char *s;

	sw_buf_init(&b, 2 * DUMP_MAX);
	for (const char *p = dump; *p;) {
		size_t n = strcspn(p, "\n"), k = strcspn(p, " ");
		bool done = false;

		for (size_t i = 0; i < 2 && !done && k + 3 < n && strncmp(p + k, " = ", 3) == 0;
		     i++) {
			const char *v = p + k + 3;
			size_t fl = strlen(kinds[i].from);

			if ((size_t)(p + n - v) > fl && strncmp(v, kinds[i].from, fl) == 0 &&
			    p[n - 1] == ')') {
				char *key = xasprintf("%.*s%s", (int)k, p, kinds[i].suffix);
				char *val = xstrndup(v + fl, (size_t)(p + n - 1 - v - (ptrdiff_t)fl));

				sw_conf_dump_kv(&b, key, val); /* as the dump writes values */
				free(key), free(val);
				done = true;
			}
		}
		if (!done)
			sw_buf_printf(&b, "%.*s\n", (int)n, p);
		p += n;
		p += *p == '\n';
	}
	s = xstrdup(sw_buf_str(&b));
	sw_buf_free(&b);
	return s;
}

/* Loads text as text only; SW_OK with *c, else err is set. */
static enum sw_err load(const char *text, const char *name, struct sw_pages_conf *c, char *err)
{
	struct sw_conf *file;
	enum sw_err rc;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	if ((rc = sw_conf_load_string(text, name, &file, err, ERR_LEN)) != SW_OK) {
		if (strchr(err, '\n') || strncmp(err, name, strlen(name)) != 0)
			abort(); /* the reader's error: one line naming the file */
		return rc;
	}
	sw_conf_set_text_only(file, true);
	rc = sw_pages_conf_load(file, c, err, ERR_LEN);
	sw_conf_free(file);
	if (rc != SW_OK)
		check_error(err, name);
	return rc;
}

/* dump(c) loads again to a config whose dump is the same text. */
static void check_round_trip(const struct sw_pages_conf *c)
{
	char *d1 = dump_text(c), *again = secrets_back(d1), *d2, err[ERR_LEN];
	struct sw_pages_conf c2;

	if (load(again, "dump", &c2, err) != SW_OK) {
		fprintf(stderr, "the dump does not load again: %s\n%s", err, again);
		abort();
	}
	check_conf(&c2);
	d2 = dump_text(&c2);
	if (strcmp(d1, d2) != 0) {
		fprintf(stderr, "not a fixed point:\n--- first dump\n%s--- second dump\n%s", d1,
			d2);
		abort();
	}
	sw_pages_conf_free(&c2);
	free(d2), free(again), free(d1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), err[ERR_LEN];
	struct sw_pages_conf c;

	if (load(text, NAME, &c, err) == SW_OK) {
		check_conf(&c);
		check_round_trip(&c);
		sw_pages_conf_free(&c);
	}
	free(text);
	return 0;
}
