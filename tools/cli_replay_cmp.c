/*
 * cli_replay_cmp.c - the pure parts of `slipwatch replay` (cli_replay.h):
 * its time arguments, and the comparison of what the replay sent with what
 * was sent.  No store, no I/O: tests/unit/test_replay.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tools/cli_replay.h"

int replay_parse_time(const char *s, int64_t *ret_at, char *err, size_t errlen)
{
	enum sw_time_kind kind;
	struct sw_date d;
	struct sw_time t;
	char why[128];

	if (!s || !*s) {
		snprintf(err, errlen, "an empty time (want RFC 3339 or YYYY-MM-DD)");
		return -1;
	}
	if (sw_time_parse_any(s, &kind, &d, &t, why, sizeof(why)) != SW_OK) {
		snprintf(err, errlen, "'%.64s' is not a time (%s; want RFC 3339 with a zone, or "
				      "YYYY-MM-DD)", s, why);
		return -1;
	}
	if (kind == SW_TIME_KIND_DATE) {
		*ret_at = sw_date_to_days(&d) * 86400;
		return 0;
	}
	if (!(t.flags & SW_TIME_HAS_OFFSET)) {
		snprintf(err, errlen, "'%.64s' has no zone (add Z or an offset such as +05:30)", s);
		return -1;
	}
	*ret_at = t.utc_sec;
	return 0;
}

void replay_items_free(struct replay_items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].kind);
		free(l->v[i].who);
		free(l->v[i].what);
		free(l->v[i].inc);
	}
	free(l->v);
}

/* Orders by kind, who, what (as the queries do; sent_at is not compared). */
int replay_item_cmp(const struct replay_item *a, const struct replay_item *b)
{
	int c = strcmp(a->kind, b->kind);

	if (!c)
		c = strcmp(a->who, b->who);
	return c ? c : strcmp(a->what, b->what);
}

/* Distinct non-empty incident keys of l. */
size_t replay_incidents(const struct replay_items *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		bool seen = !*l->v[i].inc;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(l->v[j].inc, l->v[i].inc) == 0;
		n += !seen;
	}
	return n;
}

/* ---- output ----------------------------------------------------------------------- */

/* Calls fn for each item of a (sorted) missing from b (sorted), as a
 * multiset difference. */
void replay_diff(const struct replay_items *a, const struct replay_items *b,
		 void (*fn)(const struct replay_item *it, void *arg), void *arg)
{
	size_t i = 0, j = 0;

	while (i < a->n) {
		int c = j < b->n ? replay_item_cmp(&a->v[i], &b->v[j]) : -1;

		if (c < 0)
			fn(&a->v[i++], arg);
		else if (c > 0)
			j++;
		else
			i++, j++;
	}
}

/* Per-kind counts of the two lists (sorted by kind), into a new array. */
struct replay_kind_count *replay_by_kind(const struct replay_items *r,
					 const struct replay_items *s, size_t *ret_n)
{
	struct replay_kind_count *v = xcalloc(r->n + s->n + 1, sizeof(*v));
	size_t n = 0;

	for (int side = 0; side < 2; side++) {
		const struct replay_items *l = side ? s : r;

		for (size_t i = 0; i < l->n; i++) {
			size_t k = 0;

			while (k < n && strcmp(v[k].kind, l->v[i].kind) != 0)
				k++;
			if (k == n)
				v[n++].kind = l->v[i].kind;
			if (side)
				v[k].sent++;
			else
				v[k].replay++;
		}
	}
	*ret_n = n;
	return v;
}
