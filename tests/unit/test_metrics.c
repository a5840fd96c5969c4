/*
 * test_metrics.c - unit tests for lib/metrics.c.
 *
 * Quantiles are checked against values worked out by hand with numpy's
 * "linear" definition (h = (n - 1) p, interpolate between x[floor h] and
 * the next); the reservoir path is checked for exact count/min/max, for
 * quantiles within a tolerance, and for really being uniform (a stream
 * whose first quarter differs from the rest).  Snapshots are recorded into
 * a table (strings copied: they are valid only during the callback).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipwatch/metrics.h"
#include "tests/tap.h"

#define REC_MAX 128

struct rec {
	char file[SW_METRICS_NAME_MAX + 1], ds[SW_METRICS_NAME_MAX + 1];
	struct sw_metric_value v; /* strings not to be used */
};

struct recs {
	size_t n;
	struct rec r[REC_MAX];
};

static void record(const struct sw_metric_value *v, void *arg)
{
	struct recs *rs = arg;
	struct rec *r;

	if (rs->n >= REC_MAX)
		return;
	r = &rs->r[rs->n++];
	snprintf(r->file, sizeof(r->file), "%s", v->file);
	snprintf(r->ds, sizeof(r->ds), "%s", v->ds);
	r->v = *v;
}

static size_t snap(struct sw_metrics *m, struct recs *rs)
{
	memset(rs, 0, sizeof(*rs));
	return sw_metrics_snapshot(m, record, rs);
}

/* The recorded value, or one that fails every check when there is none. */
static const struct rec *rec_find(const struct recs *rs, const char *file, const char *ds)
{
	static struct rec missing;
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].file, file) && !strcmp(rs->r[i].ds, ds))
			return &rs->r[i];
	printf("# %s %s not in the snapshot\n", file, ds);
	missing.v.kind = SW_METRIC_KIND_LAST;
	missing.v.count = missing.v.dist.count = UINT64_MAX;
	missing.v.gauge = missing.v.dist.min = missing.v.dist.p10 = NAN;
	missing.v.dist.p50 = missing.v.dist.p90 = missing.v.dist.max = NAN;
	return &missing;
}

static void is_near(double got, double want, double tol, const char *what)
{
	if (!ok(fabs(got - want) <= tol, "%s", what))
		printf("#   got %.17g, want %.17g (+-%g)\n", got, want, tol);
}

static int all_nan(const struct sw_metric_dist *d)
{
	return isnan(d->min) && isnan(d->p10) && isnan(d->p50) && isnan(d->p90) && isnan(d->max);
}

/* Checks one distribution against hand-computed values. */
static void is_dist(const struct sw_metric_dist *d, uint64_t count, double min, double p10,
		    double p50, double p90, double max, const char *what)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s: count", what);
	is_int(d->count, count, "%s", buf);
	snprintf(buf, sizeof(buf), "%s: min", what);
	is_near(d->min, min, 1e-9, buf);
	snprintf(buf, sizeof(buf), "%s: p10", what);
	is_near(d->p10, p10, 1e-9, buf);
	snprintf(buf, sizeof(buf), "%s: p50", what);
	is_near(d->p50, p50, 1e-9, buf);
	snprintf(buf, sizeof(buf), "%s: p90", what);
	is_near(d->p90, p90, 1e-9, buf);
	snprintf(buf, sizeof(buf), "%s: max", what);
	is_near(d->max, max, 1e-9, buf);
}

/* A deterministic permutation of 1..n into a (Fisher-Yates with an LCG). */
static void shuffled(double *a, size_t n)
{
	uint64_t s = 12345;
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = (double)(i + 1);
	for (i = n - 1; i > 0; i--) {
		size_t j;
		double t;

		s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		j = (size_t)((s >> 33) % (i + 1));
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* ------------------------------------------------------------ counters */

static void test_counters(void)
{
	struct sw_metrics *m = sw_metrics_new();
	const struct sw_metric_value *v;
	struct recs rs;

	sw_metrics_count(m, "warehouse/blr1", "created", 3);
	sw_metrics_count(m, "warehouse/blr1", "created", 4);
	sw_metrics_count(m, "warehouse/blr1", "created", 0);
	v = sw_metrics_peek(m, "warehouse/blr1", "created");
	ok(v != NULL, "counter: peek finds it");
	if (v) {
		is_int(v->kind, SW_METRIC_COUNTER, "counter: kind");
		is_int(v->count, 7, "counter: 3 + 4 + 0");
		is_str(v->file, "warehouse/blr1", "counter: file name");
		is_str(v->ds, "created", "counter: ds name");
		ok(isnan(v->gauge) && all_nan(&v->dist), "counter: other fields NaN");
	}
	v = sw_metrics_peek(m, "warehouse/blr1", "created");
	is_int(v ? v->count : 99, 7, "counter: peek does not reset");

	is_int(snap(m, &rs), 1, "counter: snapshot returns 1");
	is_int(rs.n, 1, "counter: callback called once");
	is_int(rs.r[0].v.count, 7, "counter: snapshot value");
	v = sw_metrics_peek(m, "warehouse/blr1", "created");
	is_int(v ? v->count : 99, 0, "counter: reset by snapshot");

	is_int(snap(m, &rs), 1, "counter: quiet step still listed");
	is_int(rs.r[0].v.count, 0, "counter: quiet step is 0");
	is_int(rs.r[0].v.kind, SW_METRIC_COUNTER, "counter: quiet step kind");

	sw_metrics_count(m, "warehouse/blr1", "created", 2);
	is_int(snap(m, &rs), 1, "counter: next step");
	is_int(rs.r[0].v.count, 2, "counter: counts again after reset");

	sw_metrics_count(m, "x", "big", UINT64_MAX - 1);
	sw_metrics_count(m, "x", "big", 5);
	v = sw_metrics_peek(m, "x", "big");
	ok(v && v->count == UINT64_MAX, "counter: saturates at UINT64_MAX");
	is_int(sw_metrics_dropped(m), 0, "counter: nothing dropped");
	sw_metrics_free(m);
}

/* ------------------------------------------------------------ gauges */

static void test_gauges(void)
{
	struct sw_metrics *m = sw_metrics_new();
	const struct sw_metric_value *v;
	struct recs rs;

	sw_metrics_gauge(m, "warehouse/blr1", "backlog_pick", 5);
	sw_metrics_gauge_add(m, "warehouse/blr1", "backlog_pick", 2.5);
	v = sw_metrics_peek(m, "warehouse/blr1", "backlog_pick");
	ok(v && v->kind == SW_METRIC_GAUGE, "gauge: kind");
	is_near(v ? v->gauge : NAN, 7.5, 0, "gauge: set 5 add 2.5");
	ok(v && v->count == 0 && all_nan(&v->dist), "gauge: other fields 0/NaN");
	sw_metrics_gauge_add(m, "warehouse/blr1", "backlog_pick", -10);
	v = sw_metrics_peek(m, "warehouse/blr1", "backlog_pick");
	is_near(v ? v->gauge : NAN, -2.5, 0, "gauge: add negative");

	sw_metrics_gauge_add(m, "warehouse/blr1", "backlog_pack", 3);
	v = sw_metrics_peek(m, "warehouse/blr1", "backlog_pack");
	is_near(v ? v->gauge : NAN, 3, 0, "gauge: add on a new gauge starts from 0");

	is_int(snap(m, &rs), 2, "gauge: snapshot returns 2");
	is_near(rec_find(&rs, "warehouse/blr1", "backlog_pick")->v.gauge, -2.5, 0,
		"gauge: snapshot value");
	is_int(snap(m, &rs), 2, "gauge: second snapshot");
	is_near(rec_find(&rs, "warehouse/blr1", "backlog_pick")->v.gauge, -2.5, 0,
		"gauge: kept across snapshots");
	is_near(rec_find(&rs, "warehouse/blr1", "backlog_pack")->v.gauge, 3, 0,
		"gauge: other gauge kept too");

	sw_metrics_gauge(m, "warehouse/blr1", "backlog_pick", 0);
	v = sw_metrics_peek(m, "warehouse/blr1", "backlog_pick");
	is_near(v ? v->gauge : NAN, 0, 0, "gauge: set overrides");

	sw_metrics_gauge(m, "g", "big", 1.7e308);
	sw_metrics_gauge_add(m, "g", "big", 1.7e308);
	v = sw_metrics_peek(m, "g", "big");
	is_near(v ? v->gauge : NAN, 1.7e308, 0, "gauge: add overflowing to inf is ignored");
	is_int(sw_metrics_dropped(m), 1, "gauge: ... and counted");
	sw_metrics_free(m);
}

/* ------------------------------------------------------------ samples */

static void test_samples_small(void)
{
	static const double ten[] = {7, 3, 10, 1, 5, 9, 2, 8, 6, 4};
	static const double four[] = {15, 1, 7, 3};
	struct sw_metrics *m = sw_metrics_new();
	const struct sw_metric_value *v;
	struct recs rs;
	size_t i;

	sw_metrics_sample(m, "s", "one", 4.25);
	v = sw_metrics_peek(m, "s", "one");
	ok(v && v->kind == SW_METRIC_SAMPLES, "samples: kind");
	ok(v && v->count == 0 && isnan(v->gauge), "samples: other fields 0/NaN");
	if (v)
		is_dist(&v->dist, 1, 4.25, 4.25, 4.25, 4.25, 4.25, "samples {4.25}");

	/* {1, 3}: h = 0.1 -> 1 + 0.1 * 2; h = 0.5 -> 2; h = 0.9 -> 2.8 */
	sw_metrics_sample(m, "s", "two", 3);
	sw_metrics_sample(m, "s", "two", 1);
	v = sw_metrics_peek(m, "s", "two");
	if (v)
		is_dist(&v->dist, 2, 1, 1.2, 2, 2.8, 3, "samples {3, 1}");

	/* 1..10: h = 0.9 -> 1.9; h = 4.5 -> 5.5; h = 8.1 -> 9.1 */
	for (i = 0; i < 10; i++)
		sw_metrics_sample(m, "s", "ten", ten[i]);
	v = sw_metrics_peek(m, "s", "ten");
	if (v)
		is_dist(&v->dist, 10, 1, 1.9, 5.5, 9.1, 10, "samples 1..10");

	/* {1, 3, 7, 15}: h = 0.3 -> 1.6; h = 1.5 -> 5; h = 2.7 -> 12.6 */
	for (i = 0; i < 4; i++)
		sw_metrics_sample(m, "s", "four", four[i]);
	v = sw_metrics_peek(m, "s", "four");
	if (v)
		is_dist(&v->dist, 4, 1, 1.6, 5, 12.6, 15, "samples {15, 1, 7, 3}");

	/* a sample after a peek (which sorted the values) still counts */
	sw_metrics_sample(m, "s", "four", -1);
	v = sw_metrics_peek(m, "s", "four");
	/* {-1, 1, 3, 7, 15}: h = 0.4 -> -0.2; h = 2 -> 3; h = 3.6 -> 11.8 */
	if (v)
		is_dist(&v->dist, 5, -1, -0.2, 3, 11.8, 15, "samples after a peek");

	/* far apart ends do not overflow */
	sw_metrics_sample(m, "s", "huge", -1.7e308);
	sw_metrics_sample(m, "s", "huge", 1.7e308);
	v = sw_metrics_peek(m, "s", "huge");
	ok(v && isfinite(v->dist.p10) && isfinite(v->dist.p50) && isfinite(v->dist.p90),
	   "samples: +-1.7e308 give finite quantiles");
	ok(v && fabs(v->dist.p50) < 1e300, "samples: p50 of +-1.7e308 near 0");

	is_int(snap(m, &rs), 5, "samples: snapshot returns 5");
	is_dist(&rec_find(&rs, "s", "ten")->v.dist, 10, 1, 1.9, 5.5, 9.1, 10,
		"samples 1..10 in snapshot");
	v = sw_metrics_peek(m, "s", "ten");
	ok(v && v->dist.count == 0 && all_nan(&v->dist), "samples: reset after snapshot");
	is_int(snap(m, &rs), 5, "samples: quiet step still listed");
	ok(rs.r[0].v.dist.count == 0 && all_nan(&rs.r[0].v.dist),
	   "samples: quiet step count 0, all NaN");

	sw_metrics_sample(m, "s", "ten", 42);
	v = sw_metrics_peek(m, "s", "ten");
	if (v)
		is_dist(&v->dist, 1, 42, 42, 42, 42, 42, "samples: new step starts afresh");
	is_int(sw_metrics_dropped(m), 0, "samples: nothing dropped");
	sw_metrics_free(m);
}

static void test_samples_large(void)
{
	enum { N = 10000 };
	struct sw_metrics *m = sw_metrics_new();
	const struct sw_metric_value *v;
	double *a = malloc(N * sizeof(*a));
	struct recs rs;
	size_t i;

	/* exactly K values: still exact; 0..4095 -> h = 409.5, 2047.5, 3685.5 */
	for (i = 0; i < SW_METRICS_MAX_SAMPLES; i++)
		sw_metrics_sample(m, "s", "k", (double)(SW_METRICS_MAX_SAMPLES - 1 - i));
	v = sw_metrics_peek(m, "s", "k");
	if (v)
		is_dist(&v->dist, 4096, 0, 409.5, 2047.5, 3685.5, 4095, "samples 0..4095 exact");

	/* 10000 values: reservoir; count/min/max exact, quantiles close */
	shuffled(a, N);
	for (i = 0; i < N; i++)
		sw_metrics_sample(m, "s", "n", a[i]);
	v = sw_metrics_peek(m, "s", "n");
	ok(v != NULL, "reservoir: peek");
	if (v) {
		is_int(v->dist.count, N, "reservoir: count exact");
		is_near(v->dist.min, 1, 0, "reservoir: min exact");
		is_near(v->dist.max, N, 0, "reservoir: max exact");
		is_near(v->dist.p10, 1000.9, 300, "reservoir: p10 within 300");
		is_near(v->dist.p50, 5000.5, 300, "reservoir: p50 within 300");
		is_near(v->dist.p90, 9000.1, 300, "reservoir: p90 within 300");
		ok(v->dist.min <= v->dist.p10 && v->dist.p10 <= v->dist.p50 &&
		       v->dist.p50 <= v->dist.p90 && v->dist.p90 <= v->dist.max,
		   "reservoir: min <= p10 <= p50 <= p90 <= max");
	}

	/* 4096 zeros, then 12288 ones: a uniform reservoir is ~25 % zeros, so
	 * p10 = 0 and p50 = 1 (keeping the first K would give p50 = 0,
	 * keeping the last K would give p10 = 1) */
	for (i = 0; i < 4 * SW_METRICS_MAX_SAMPLES; i++)
		sw_metrics_sample(m, "s", "mix", i < SW_METRICS_MAX_SAMPLES ? 0 : 1);
	v = sw_metrics_peek(m, "s", "mix");
	if (v)
		is_dist(&v->dist, 16384, 0, 0, 1, 1, 1, "reservoir: uniform over the stream");

	/* the reservoir empties on snapshot and refills exactly */
	snap(m, &rs);
	sw_metrics_sample(m, "s", "n", 2);
	sw_metrics_sample(m, "s", "n", 4);
	v = sw_metrics_peek(m, "s", "n");
	if (v)
		is_dist(&v->dist, 2, 2, 2.2, 3, 3.8, 4, "reservoir: exact again after reset");
	is_int(sw_metrics_dropped(m), 0, "reservoir: nothing dropped");
	free(a);
	sw_metrics_free(m);
}

/* ------------------------------------------------------------ order */

static void test_order(void)
{
	static const char *const want[][2] = {
	    {"courier/dhl", "errors"},
	    {"courier/dhl", "polls"},
	    {"notify", "sent"},
	    {"warehouse-x", "a"},
	    {"warehouse/blr1", "backlog_pick"},
	    {"warehouse/blr1", "created"},
	    {"warehouse/blr1", "ship_duration"},
	};
	size_t nwant = sizeof(want) / sizeof(want[0]), i;
	struct sw_metrics *m = sw_metrics_new();
	struct recs rs;
	int good = 1;

	sw_metrics_count(m, "warehouse/blr1", "created", 1);
	sw_metrics_count(m, "courier/dhl", "polls", 1);
	sw_metrics_gauge(m, "warehouse/blr1", "backlog_pick", 3);
	sw_metrics_count(m, "courier/dhl", "errors", 1);
	sw_metrics_count(m, "notify", "sent", 1);
	sw_metrics_count(m, "warehouse-x", "a", 1);
	sw_metrics_sample(m, "warehouse/blr1", "ship_duration", 1);

	is_int(snap(m, &rs), nwant, "order: snapshot returns %zu", nwant);
	is_int(rs.n, nwant, "order: callback count");
	for (i = 0; i < nwant && i < rs.n; i++)
		if (strcmp(rs.r[i].file, want[i][0]) || strcmp(rs.r[i].ds, want[i][1])) {
			good = 0;
			printf("#   %zu: got %s %s, want %s %s\n", i, rs.r[i].file, rs.r[i].ds,
			       want[i][0], want[i][1]);
		}
	ok(good, "order: files sorted, data sources of a file together");

	/* a data source added later is placed with its file */
	sw_metrics_count(m, "courier/dhl", "delays", 1);
	sw_metrics_count(m, "a", "z", 1);
	is_int(snap(m, &rs), nwant + 2, "order: two more");
	is_str(rs.r[0].file, "a", "order: new first file first");
	is_str(rs.r[1].ds, "delays", "order: new ds with its file");
	is_str(rs.r[2].ds, "errors", "order: ... before the others");
	is_str(rs.r[nwant + 1].ds, "ship_duration", "order: last unchanged");
	sw_metrics_free(m);
}

/* reports into m from the callback: counted at the next snapshot */
static void reentrant_cb(const struct sw_metric_value *v, void *arg)
{
	struct sw_metrics *m = arg;
	char ds[32];
	int i;

	(void)v;
	for (i = 0; i < 100; i++) { /* enough to rehash and move the list */
		snprintf(ds, sizeof(ds), "d%d", i);
		sw_metrics_count(m, "zz", ds, 1);
	}
}

static void test_reentrant(void)
{
	struct sw_metrics *m = sw_metrics_new();
	struct recs rs;

	sw_metrics_count(m, "a", "b", 1);
	is_int(sw_metrics_snapshot(m, reentrant_cb, m), 1, "reentrant: one visited");
	is_int(snap(m, &rs), 101, "reentrant: new ones in the next snapshot");
	is_int(rec_find(&rs, "zz", "d99")->v.count, 1,
	       "reentrant: value reported during the callback kept");
	is_int(sw_metrics_snapshot(m, NULL, NULL), 101, "snapshot with NULL cb");
	is_int(snap(m, &rs), 101, "after a NULL-cb snapshot");
	is_int(rec_find(&rs, "zz", "d99")->v.count, 0, "NULL-cb snapshot reset counters");
	sw_metrics_free(m);
}

/* ------------------------------------------------------------ bad input */

static void test_names(void)
{
	static const char *const bad[] = {
	    "../x", "/abs", "a b",  "",	      "a/../b", "..",  ".",	"a/..",
	    "a/.",  "./a",  "a//b", "a/",     "/",	"x\n", "tab\t", "\xc3\xa9t\xc3\xa9",
	    "a\\b", "a:b",  "a*",   "%2e%2e",
	};
	size_t nbad = sizeof(bad) / sizeof(bad[0]), i;
	struct sw_metrics *m = sw_metrics_new();
	char n64[SW_METRICS_NAME_MAX + 1], n65[SW_METRICS_NAME_MAX + 2];
	uint64_t want = 0;
	struct recs rs;

	memset(n64, 'a', SW_METRICS_NAME_MAX);
	n64[SW_METRICS_NAME_MAX] = '\0';
	memset(n65, 'b', SW_METRICS_NAME_MAX + 1);
	n65[SW_METRICS_NAME_MAX + 1] = '\0';

	for (i = 0; i < nbad; i++) {
		sw_metrics_count(m, bad[i], "ds", 1);
		sw_metrics_count(m, "file", bad[i], 1);
		sw_metrics_gauge(m, bad[i], "ds", 1);
		sw_metrics_sample(m, bad[i], "ds", 1);
		want += 4;
		ok(sw_metrics_peek(m, bad[i], "ds") == NULL, "bad name %zu: peek NULL", i);
	}
	is_int(sw_metrics_dropped(m), want, "bad names: each report dropped");

	sw_metrics_count(m, n65, "ds", 1);
	sw_metrics_count(m, "file", n65, 1);
	sw_metrics_count(m, NULL, "ds", 1);
	sw_metrics_count(m, "file", NULL, 1);
	want += 4;
	is_int(sw_metrics_dropped(m), want, "65-byte and NULL names dropped");
	ok(sw_metrics_peek(m, n65, "ds") == NULL, "65-byte name: peek NULL");
	ok(sw_metrics_peek(m, NULL, NULL) == NULL, "NULL names: peek NULL");
	is_int(snap(m, &rs), 0, "bad names: nothing listed");

	/* just inside the rule */
	sw_metrics_count(m, n64, n64, 1);
	sw_metrics_count(m, "a..b/...x", "x.y-z_0", 1);
	sw_metrics_count(m, "A-Z_a-z.0-9/x", "ds", 1);
	sw_metrics_count(m, "...", "ds", 1);
	is_int(sw_metrics_dropped(m), want, "valid names not dropped");
	ok(sw_metrics_peek(m, n64, n64) != NULL, "64-byte names accepted");
	is_int(snap(m, &rs), 4, "valid names listed");
	sw_metrics_free(m);
}

static void test_kind_conflict(void)
{
	struct sw_metrics *m = sw_metrics_new();
	const struct sw_metric_value *v;

	sw_metrics_count(m, "f", "x", 2);
	sw_metrics_gauge(m, "f", "x", 1);
	sw_metrics_gauge_add(m, "f", "x", 1);
	sw_metrics_sample(m, "f", "x", 1);
	is_int(sw_metrics_dropped(m), 3, "kind: gauge/add/sample on a counter dropped");
	v = sw_metrics_peek(m, "f", "x");
	ok(v && v->kind == SW_METRIC_COUNTER && v->count == 2, "kind: counter unchanged");

	sw_metrics_sample(m, "f", "s", 1);
	sw_metrics_count(m, "f", "s", 1);
	sw_metrics_gauge(m, "f", "g", 1);
	sw_metrics_sample(m, "f", "g", 5);
	sw_metrics_count(m, "f", "g", 1);
	is_int(sw_metrics_dropped(m), 6, "kind: other conflicts dropped");
	v = sw_metrics_peek(m, "f", "s");
	ok(v && v->kind == SW_METRIC_SAMPLES && v->dist.count == 1, "kind: samples unchanged");
	v = sw_metrics_peek(m, "f", "g");
	ok(v && v->kind == SW_METRIC_GAUGE && v->gauge == 1, "kind: gauge unchanged");
	sw_metrics_free(m);
}

static void test_nonfinite(void)
{
	struct sw_metrics *m = sw_metrics_new();
	const struct sw_metric_value *v;

	sw_metrics_sample(m, "f", "s", 2);
	sw_metrics_sample(m, "f", "s", NAN);
	sw_metrics_sample(m, "f", "s", INFINITY);
	sw_metrics_sample(m, "f", "s", -INFINITY);
	is_int(sw_metrics_dropped(m), 3, "NaN/inf samples dropped");
	v = sw_metrics_peek(m, "f", "s");
	if (v)
		is_dist(&v->dist, 1, 2, 2, 2, 2, 2, "NaN/inf samples not kept");

	sw_metrics_gauge(m, "f", "g", 5);
	sw_metrics_gauge(m, "f", "g", NAN);
	sw_metrics_gauge_add(m, "f", "g", INFINITY);
	is_int(sw_metrics_dropped(m), 5, "NaN/inf gauge values dropped");
	v = sw_metrics_peek(m, "f", "g");
	is_near(v ? v->gauge : NAN, 5, 0, "gauge unchanged by NaN/inf");

	sw_metrics_sample(m, "f", "new", NAN);
	ok(sw_metrics_peek(m, "f", "new") == NULL, "NaN does not create a data source");
	is_int(sw_metrics_dropped(m), 6, "... and is counted");
	sw_metrics_free(m);
}

static void test_peek(void)
{
	struct sw_metrics *m = sw_metrics_new();

	ok(sw_metrics_peek(m, "f", "x") == NULL, "peek: empty registry");
	sw_metrics_count(m, "f", "x", 1);
	ok(sw_metrics_peek(m, "f", "y") == NULL, "peek: other ds of a known file");
	ok(sw_metrics_peek(m, "g", "x") == NULL, "peek: same ds in another file");
	ok(sw_metrics_peek(m, "f", "x") != NULL, "peek: known");
	ok(sw_metrics_peek(m, "../f", "x") == NULL, "peek: invalid name");
	is_int(sw_metrics_dropped(m), 0, "peek: never counts as dropped");
	sw_metrics_free(m);
	sw_metrics_free(NULL);
	ok(1, "free(NULL) is a no-op");
}

/* many data sources: hash growth, lookups, the MAX_ENTRIES bound */
static void test_many(void)
{
	struct sw_metrics *m = sw_metrics_new();
	char file[32], ds[32];
	size_t i, n, missing = 0, wrong = 0;
	const struct sw_metric_value *v;

	for (n = 0; n < 200000 && sw_metrics_dropped(m) == 0; n++) {
		snprintf(file, sizeof(file), "f%zu", n % 1000);
		snprintf(ds, sizeof(ds), "d%zu", n);
		sw_metrics_count(m, file, ds, n);
	}
	ok(n > 1000 && n < 200000, "many: registry bounded (%zu accepted)", n - 1);
	for (i = 0; i < n - 1; i++) {
		snprintf(file, sizeof(file), "f%zu", i % 1000);
		snprintf(ds, sizeof(ds), "d%zu", i);
		v = sw_metrics_peek(m, file, ds);
		if (!v)
			missing++;
		else if (v->count != i)
			wrong++;
	}
	is_int(missing, 0, "many: every accepted one found");
	is_int(wrong, 0, "many: every value right");
	is_int(sw_metrics_snapshot(m, NULL, NULL), n - 1, "many: snapshot count");
	sw_metrics_count(m, "f0", "d0", 1);
	is_int(sw_metrics_dropped(m), 1, "many: existing ones still reportable");
	sw_metrics_free(m);
}

int main(void)
{
	test_counters();
	test_gauges();
	test_samples_small();
	test_samples_large();
	test_order();
	test_reentrant();
	test_names();
	test_kind_conflict();
	test_nonfinite();
	test_peek();
	test_many();
	return tap_done();
}
