/*
 * metrics.c - the in-memory metrics registry (see include/slipwatch/metrics.h).
 *
 * Design:
 * - One entry per (file, ds), allocated once with both names copied into it
 *   and never freed before sw_metrics_free(), so the string pointers handed
 *   out stay put.  Entries are found through a chained hash table (FNV-1a
 *   over file NUL ds, doubled at load 3/4) and also listed in one array
 *   that is sorted by (file, ds) with qsort at snapshot time, only when an
 *   entry was added since the last sort: O(n log n) per snapshot at most.
 * - Names: 1..SW_METRICS_NAME_MAX bytes of [A-Za-z0-9_./-], split on '/'
 *   into components none of which is empty, "." or "..".  That rules out a
 *   leading or trailing '/', "//", and any way out of the RRD directory, and
 *   gives every path exactly one spelling.  Data source names follow the
 *   same rule (the RRD layer maps them through its catalogue).
 * - Every ignored report counts in sw_metrics_dropped(): an invalid name, a
 *   kind other than the one the data source was created with, a NaN or
 *   infinite value (samples and gauges alike: a gauge keeps its value, so
 *   one inf would stick), or a new data source beyond MAX_ENTRIES (names
 *   come from input; this bounds the registry's memory).
 * - Samples: the first SW_METRICS_MAX_SAMPLES of a step are kept as is;
 *   after that Algorithm R (Vitter) replaces a uniformly chosen slot with
 *   probability K/t, drawn from a splitmix64 generator with a fixed seed, so
 *   runs are reproducible.  count/min/max are tracked exactly on the side.
 *   The reservoir is sorted in place when read; slot order does not matter
 *   to Algorithm R.  Quantiles: see quantile().
 * - Counters are saturating; they and samples reset after each snapshot
 *   callback, gauges are kept.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"

#define MAX_ENTRIES	100000 /* distinct data sources per registry */
#define INITIAL_BUCKETS 64     /* power of two */
#define INITIAL_SAMPLES 16
#define RNG_SEED	UINT64_C(0x5eed5117a7c4e11a)

struct entry {
	struct entry *next; /* hash chain */
	uint64_t hash;
	const char *file, *ds;	  /* point into names[] */
	enum sw_metric_kind kind; /* fixed at creation */
	uint64_t count;		  /* COUNTER: events; SAMPLES: observations */
	double gauge;		  /* GAUGE */
	double min, max;	  /* SAMPLES: exact, NaN when count is 0 */
	double *res;		  /* SAMPLES: reservoir, ressize kept */
	size_t ressize, rescap;
	bool sorted;  /* res is in ascending order */
	char names[]; /* "file\0ds\0" */
};

struct sw_metrics {
	struct entry **buckets;
	size_t nbuckets;    /* power of two */
	struct entry **all; /* every entry, sorted when all_sorted */
	size_t nall, capall;
	bool all_sorted;
	uint64_t dropped;
	uint64_t rng;		     /* splitmix64 state */
	struct sw_metric_value peek; /* what sw_metrics_peek() returns */
};

/* ------------------------------------------------------------ helpers */

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/' || c == '-';
}

/* See the file comment for the rule.  Reads at most NAME_MAX + 1 bytes. */
static bool name_ok(const char *s)
{
	size_t len, i, start = 0;

	if (!s)
		return false;
	len = strnlen(s, SW_METRICS_NAME_MAX + 1);
	if (len == 0 || len > SW_METRICS_NAME_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		size_t clen = i - start;

		if (i < len && s[i] != '/') {
			if (!name_char_ok(s[i]))
				return false;
			continue;
		}
		if (clen == 0 || (clen == 1 && s[start] == '.') ||
		    (clen == 2 && s[start] == '.' && s[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static uint64_t key_hash(const char *file, const char *ds)
{
	uint64_t h = fnv1a(UINT64_C(0xcbf29ce484222325), file);

	h *= UINT64_C(0x100000001b3); /* the NUL separator */
	return fnv1a(h, ds);
}

static uint64_t rng_next(struct sw_metrics *m)
{
	uint64_t z = (m->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, bound), bound > 0, without modulo bias. */
static uint64_t rng_below(struct sw_metrics *m, uint64_t bound)
{
	uint64_t threshold = (0 - bound) % bound; /* 2^64 mod bound */
	uint64_t r;

	do
		r = rng_next(m);
	while (r < threshold);
	return r % bound;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a;
	const struct entry *y = *(struct entry *const *)b;
	int c = strcmp(x->file, y->file);

	return c ? c : strcmp(x->ds, y->ds);
}

/* ------------------------------------------------------------ entries */

static struct entry *find(const struct sw_metrics *m, const char *file, const char *ds,
			  uint64_t hash)
{
	struct entry *e;

	for (e = m->buckets[hash & (m->nbuckets - 1)]; e; e = e->next)
		if (e->hash == hash && !strcmp(e->file, file) && !strcmp(e->ds, ds))
			return e;
	return NULL;
}

static void rehash(struct sw_metrics *m)
{
	size_t n = m->nbuckets * 2, i;
	struct entry **b = xcalloc(n, sizeof(*b));

	for (i = 0; i < m->nall; i++) {
		struct entry *e = m->all[i];

		e->next = b[e->hash & (n - 1)];
		b[e->hash & (n - 1)] = e;
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

static void reset_samples(struct entry *e)
{
	e->count = 0;
	e->ressize = 0;
	e->min = e->max = NAN;
	e->sorted = true;
}

static struct entry *add(struct sw_metrics *m, const char *file, const char *ds, uint64_t hash,
			 enum sw_metric_kind kind)
{
	size_t flen = strlen(file), dlen = strlen(ds);
	struct entry *e = xcalloc(1, sizeof(*e) + flen + dlen + 2);

	memcpy(e->names, file, flen + 1);
	memcpy(e->names + flen + 1, ds, dlen + 1);
	e->file = e->names;
	e->ds = e->names + flen + 1;
	e->hash = hash;
	e->kind = kind;
	reset_samples(e);
	if (m->nall == m->capall) {
		m->capall = m->capall ? m->capall * 2 : 64;
		m->all = xreallocarray(m->all, m->capall, sizeof(*m->all));
	}
	m->all[m->nall++] = e;
	m->all_sorted = false;
	if (m->nall > m->nbuckets / 4 * 3)
		rehash(m); /* links every entry, e included */
	else {
		e->next = m->buckets[hash & (m->nbuckets - 1)];
		m->buckets[hash & (m->nbuckets - 1)] = e;
	}
	return e;
}

/* The entry for a report of this kind, created if new; NULL (and counted
 * as dropped) for an invalid name, a kind conflict or a full registry. */
static struct entry *get(struct sw_metrics *m, const char *file, const char *ds,
			 enum sw_metric_kind kind)
{
	struct entry *e;
	uint64_t hash;

	if (!name_ok(file) || !name_ok(ds))
		goto drop;
	hash = key_hash(file, ds);
	e = find(m, file, ds, hash);
	if (e && e->kind != kind)
		goto drop; /* a programming error, but never fatal */
	if (e)
		return e;
	if (m->nall >= MAX_ENTRIES)
		goto drop;
	return add(m, file, ds, hash, kind);
drop:
	m->dropped++;
	return NULL;
}

/* ------------------------------------------------------------ reading */

/*
 * The p-quantile (0 <= p <= 1) of n >= 1 ascending values by linear
 * interpolation between closest ranks, numpy's default ("linear", Hyndman
 * and Fan type 7): h = (n - 1) * p, q = x[floor h] + (h - floor h) *
 * (x[floor h + 1] - x[floor h]).  E.g. for {1, 2, ..., 10}: p10 = 1.9,
 * p50 = 5.5, p90 = 9.1; for one value every quantile is that value.
 */
static double quantile(const double *x, size_t n, double p)
{
	double h = p * (double)(n - 1), frac, d;
	size_t lo = (size_t)h;

	if (lo >= n - 1)
		return x[n - 1];
	frac = h - (double)lo;
	d = x[lo + 1] - x[lo];
	if (isfinite(d))
		return x[lo] + frac * d;
	return (1 - frac) * x[lo] + frac * x[lo + 1]; /* ends +-DBL_MAX apart */
}

static void fill_dist(struct entry *e, struct sw_metric_dist *d)
{
	d->count = e->count;
	if (!e->ressize) {
		d->min = d->p10 = d->p50 = d->p90 = d->max = NAN;
		return;
	}
	if (!e->sorted) {
		qsort(e->res, e->ressize, sizeof(*e->res), cmp_double);
		e->sorted = true;
	}
	d->min = e->min;
	d->max = e->max;
	d->p10 = quantile(e->res, e->ressize, 0.10);
	d->p50 = quantile(e->res, e->ressize, 0.50);
	d->p90 = quantile(e->res, e->ressize, 0.90);
}

/* Fields that do not belong to the kind are 0 (count) or NaN. */
static void fill_value(struct entry *e, struct sw_metric_value *v)
{
	memset(v, 0, sizeof(*v));
	v->file = e->file;
	v->ds = e->ds;
	v->kind = e->kind;
	v->gauge = NAN;
	v->dist.min = v->dist.p10 = v->dist.p50 = v->dist.p90 = v->dist.max = NAN;
	switch (e->kind) {
	case SW_METRIC_COUNTER:
		v->count = e->count;
		break;
	case SW_METRIC_GAUGE:
		v->gauge = e->gauge;
		break;
	case SW_METRIC_SAMPLES:
		fill_dist(e, &v->dist);
		break;
	case SW_METRIC_KIND_LAST:
		break;
	}
}

/* ------------------------------------------------------------ API */

struct sw_metrics *sw_metrics_new(void)
{
	struct sw_metrics *m = xcalloc(1, sizeof(*m));

	m->nbuckets = INITIAL_BUCKETS;
	m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
	m->all_sorted = true;
	m->rng = RNG_SEED;
	return m;
}

void sw_metrics_free(struct sw_metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nall; i++) {
		free(m->all[i]->res);
		free(m->all[i]);
	}
	free(m->all);
	free(m->buckets);
	free(m);
}

void sw_metrics_count(struct sw_metrics *m, const char *file, const char *ds, uint64_t n)
{
	struct entry *e = get(m, file, ds, SW_METRIC_COUNTER);

	if (e)
		e->count = n > UINT64_MAX - e->count ? UINT64_MAX : e->count + n;
}

void sw_metrics_gauge(struct sw_metrics *m, const char *file, const char *ds, double v)
{
	struct entry *e;

	if (!isfinite(v)) {
		m->dropped++;
		return;
	}
	e = get(m, file, ds, SW_METRIC_GAUGE);
	if (e)
		e->gauge = v;
}

void sw_metrics_gauge_add(struct sw_metrics *m, const char *file, const char *ds, double v)
{
	struct entry *e;

	if (!isfinite(v)) {
		m->dropped++;
		return;
	}
	e = get(m, file, ds, SW_METRIC_GAUGE);
	if (e && isfinite(e->gauge + v))
		e->gauge += v;
	else if (e)
		m->dropped++; /* would overflow to inf */
}

void sw_metrics_sample(struct sw_metrics *m, const char *file, const char *ds, double v)
{
	struct entry *e;
	uint64_t j;

	if (!isfinite(v)) {
		m->dropped++;
		return;
	}
	e = get(m, file, ds, SW_METRIC_SAMPLES);
	if (!e)
		return;
	if (e->count == UINT64_MAX) {
		m->dropped++;
		return;
	}
	e->count++;
	if (e->count == 1 || v < e->min)
		e->min = v;
	if (e->count == 1 || v > e->max)
		e->max = v;
	if (e->ressize < SW_METRICS_MAX_SAMPLES) {
		if (e->ressize == e->rescap) {
			e->rescap = e->rescap ? e->rescap * 2 : INITIAL_SAMPLES;
			e->res = xreallocarray(e->res, e->rescap, sizeof(*e->res));
		}
		e->res[e->ressize++] = v;
		e->sorted = false;
		return;
	}
	/* Algorithm R: the t-th observation replaces slot j if j < K. */
	j = rng_below(m, e->count);
	if (j < SW_METRICS_MAX_SAMPLES) {
		e->res[j] = v;
		e->sorted = false;
	}
}

const struct sw_metric_value *sw_metrics_peek(struct sw_metrics *m, const char *file,
					      const char *ds)
{
	struct entry *e;

	if (!name_ok(file) || !name_ok(ds))
		return NULL;
	e = find(m, file, ds, key_hash(file, ds));
	if (!e)
		return NULL;
	fill_value(e, &m->peek);
	return &m->peek;
}

/*
 * Entries the callback creates (reporting into m is allowed) land after the
 * ones being walked and are not visited or reset until the next snapshot.
 * A NULL cb just resets the step.
 */
size_t sw_metrics_snapshot(struct sw_metrics *m,
			   void (*cb)(const struct sw_metric_value *v, void *arg), void *arg)
{
	size_t n = m->nall, i;
	struct sw_metric_value v;

	if (!m->all_sorted) {
		qsort(m->all, m->nall, sizeof(*m->all), cmp_entry);
		m->all_sorted = true;
	}
	for (i = 0; i < n; i++) {
		struct entry *e = m->all[i]; /* m->all may move in cb */

		if (cb) {
			fill_value(e, &v);
			cb(&v, arg);
		}
		if (e->kind == SW_METRIC_COUNTER)
			e->count = 0;
		else if (e->kind == SW_METRIC_SAMPLES)
			reset_samples(e);
	}
	return n;
}

uint64_t sw_metrics_dropped(const struct sw_metrics *m)
{
	return m->dropped;
}
