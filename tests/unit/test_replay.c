/*
 * test_replay.c - the pure parts of `slipwatch replay`
 * (tools/cli_replay_cmp.c): its time arguments, and the comparison of the
 * messages a replay sent with those that were sent.  Table-driven.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lib/xmalloc.h"
#include "tools/cli_replay.h"

static const struct {
	const char *in;
	int64_t want; /* -1: refused */
	const char *err; /* a part of the message when refused */
} times[] = {
    {"2026-11-01T00:00:00Z", 1793491200, NULL},
    {"2026-11-01T05:30:00+05:30", 1793491200, NULL},
    {"2026-11-01", 1793491200, NULL},
    {"1970-01-01", 0, NULL},
    {"2026-11-01T00:00:00", -1, "has no zone"},
    {"yesterday", -1, "'yesterday' is not a time"},
    {"2026-13-01", -1, "is not a time"},
    {"2026-11-01T25:00:00Z", -1, "is not a time"},
    {"", -1, "an empty time"},
    {"2026-11-01 junk", -1, "is not a time"},
};

static void test_times(void)
{
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char err[256] = "";
		int64_t at = -2;
		int rc = replay_parse_time(times[i].in, &at, err, sizeof(err));

		if (times[i].want >= 0) {
			ok(rc == 0, "time '%s' parses (%s)", times[i].in, err);
			is_int(at, times[i].want, "time '%s'", times[i].in);
		} else {
			ok(rc == -1, "time '%s' is refused", times[i].in);
			ok(strstr(err, times[i].err) != NULL, "time '%s': '%s' says '%s'", times[i].in,
			   err, times[i].err);
		}
	}
}

/* A list from "kind who what inc" lines (inc "-" for none), sorted. */
static void list(struct replay_items *l, const char *const *rows)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; rows[i]; i++) {
		char k[64], w[64], e[64], inc[64];

		if (sscanf(rows[i], "%63s %63s %63s %63s", k, w, e, inc) != 4)
			tap_bail("bad row '%s'", rows[i]);
		l->v = xreallocarray(l->v, ++l->n, sizeof(*l->v));
		l->v[l->n - 1] = (struct replay_item){xstrdup(k), xstrdup(w), xstrdup(e),
						      xstrdup(strcmp(inc, "-") ? inc : ""),
						      (int64_t)i};
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v),
		      (int (*)(const void *, const void *))replay_item_cmp);
}

static void collect(const struct replay_item *it, void *arg)
{
	char *buf = arg;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s%s %s", len ? ";" : "", it->kind, it->what);
}

static const struct {
	const char *name;
	const char *a[8], *b[8];
	const char *only_a, *only_b;
} diffs[] = {
    {"equal", {"stalled x p:1 -", "late y p:2 -", NULL}, {"late y p:2 -", "stalled x p:1 -", NULL},
     "", ""},
    {"one more", {"stalled x p:1 -", "stalled z p:3 -", NULL}, {"stalled x p:1 -", NULL},
     "stalled p:3", ""},
    {"both sides", {"stalled x p:1 -", NULL}, {"late x p:1 -", NULL}, "stalled p:1", "late p:1"},
    {"a multiset", {"late x p:1 -", "late x p:1 -", NULL}, {"late x p:1 -", NULL}, "late p:1",
     ""},
    {"empty", {NULL}, {"ship_late x o:1 -", NULL}, "", "ship_late o:1"},
    {"recipient differs", {"late x p:1 -", NULL}, {"late y p:1 -", NULL}, "late p:1", "late p:1"},
};

static void test_diffs(void)
{
	for (size_t i = 0; i < sizeof(diffs) / sizeof(diffs[0]); i++) {
		struct replay_items a, b;
		char got[512] = "";

		list(&a, diffs[i].a);
		list(&b, diffs[i].b);
		replay_diff(&a, &b, collect, got);
		is_str(got, diffs[i].only_a, "%s: only in a", diffs[i].name);
		got[0] = '\0';
		replay_diff(&b, &a, collect, got);
		is_str(got, diffs[i].only_b, "%s: only in b", diffs[i].name);
		replay_items_free(&a);
		replay_items_free(&b);
	}
}

static void test_counts(void)
{
	static const char *const r_rows[] = {"stalled a p:1 -", "late b p:2 -", "stalled c p:3 -",
					     NULL};
	static const char *const s_rows[] = {"stalled a p:1 -", "ship_late d o:1 -", NULL};
	static const char *const pages[] = {"trigger ops r_s 1", "trigger pd r_s 1",
					    "resolve ops r_s -", "trigger ops r_t 2", NULL};
	struct replay_items r, s, p;
	struct replay_kind_count *kc;
	size_t n;
	char got[256] = "";

	list(&r, r_rows);
	list(&s, s_rows);
	kc = replay_by_kind(&r, &s, &n);
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s=%lld/%lld",
			 i ? " " : "", kc[i].kind, (long long)kc[i].replay, (long long)kc[i].sent);
	is_str(got, "late=1/0 stalled=2/1 ship_late=0/1", "counts per kind, both sides");
	free(kc);
	kc = replay_by_kind(&s, &(struct replay_items){0}, &n);
	is_int(n, 2, "one side empty: its kinds");
	free(kc);
	list(&p, pages);
	is_int(replay_incidents(&p), 2, "two incidents: one paged to two receivers, one more");
	is_int(replay_incidents(&r), 0, "customer messages hold no incident");
	replay_items_free(&r);
	replay_items_free(&s);
	replay_items_free(&p);
}

int main(void)
{
	test_times();
	test_diffs();
	test_counts();
	return tap_done();
}
