/*
 * test_plan.c - unit tests for collector/plan.c, the courier quota
 * planner: pure inputs, pure outputs, no clock (the quota window takes
 * its "now" as an argument).
 *
 * Cases: no quota and an ample quota stretch nothing; a short quota
 * stretches the least important classes first and most, spare quota of a
 * class that asks for little goes to the others, nothing is ever planned
 * faster than asked, the planned total fits the capacity; an exhausted
 * quota waits for the reset; batching multiplies the capacity; coverage
 * counts in priority order; reset times and windows in UTC and in zones
 * with DST; the -t -v description.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/plan.h"
#include "lib/buf.h"
#include "lib/swtime.h"
#include "tests/tap.h"

#define F SW_POLL_CLASS_FINAL
#define N SW_POLL_CLASS_NEAR
#define M SW_POLL_CLASS_MOVED
#define O SW_POLL_CLASS_OTHER

/* n parcels of class c asking to be polled every interval_s. */
static void add(struct sw_plan_in *in, int c, int64_t n, double interval_s)
{
	in->cls[c].count += n;
	in->cls[c].rate += (double)n / interval_s;
}

static struct sw_plan_in base(int64_t left, int64_t secs)
{
	struct sw_plan_in in;

	memset(&in, 0, sizeof(in));
	in.quota_left = left;
	in.secs_left = secs;
	in.per_request = 1;
	return in;
}

/* Parcel polls the plan makes until the reset. */
static double planned(const struct sw_plan_in *in, const struct sw_plan *p)
{
	double t = 0;

	for (int c = 0; c < SW_POLL_CLASS_LAST; c++)
		if (in->cls[c].count > 0)
			t += in->cls[c].rate / p->stretch[c] * (double)in->secs_left;
	return t;
}

static void test_no_quota(void)
{
	struct sw_plan_in in = base(-1, 3600);
	struct sw_plan p;

	add(&in, F, 10, 1800);
	add(&in, O, 1000, 7200);
	sw_plan_compute(&in, &p);
	ok(!p.limited && !p.is_short && !p.exhausted, "no quota: not limited");
	is_int(p.active, 1010, "  1010 active");
	is_int(p.covered, 1010, "  all covered");
	is_int(sw_plan_interval(&p, O, 7200, 3600), 7200, "  interval unchanged");
	ok(fabs(p.interval_s[F] - 1800) < 1e-6, "  final every 30 min (%.1f)", p.interval_s[F]);

	in = base(1000, 86400);
	add(&in, N, 10, 7200); /* 120 polls a day */
	sw_plan_compute(&in, &p);
	ok(p.limited && !p.is_short, "ample quota: not short (demand %.0f, capacity %.0f)",
	   p.demand, p.capacity);
	is_int(sw_plan_interval(&p, N, 7200, 86400), 7200, "  interval unchanged");
}

static void test_short(void)
{
	struct sw_plan_in in = base(250, 86400);
	struct sw_plan p;
	double total;

	/* 5 out for delivery every 30 min (240 a day), 20 near every 2 h
	 * (240), 50 moved every 2 h (600), 200 other every 2 h (2400) */
	add(&in, F, 5, 1800);
	add(&in, N, 20, 7200);
	add(&in, M, 50, 7200);
	add(&in, O, 200, 7200);
	sw_plan_compute(&in, &p);
	ok(p.is_short && !p.exhausted, "250 a day for 3480 asked: short");
	for (int c = 0; c < SW_POLL_CLASS_LAST; c++)
		ok(p.stretch[c] >= 1, "  %s never faster than asked (x%.2f)", sw_poll_class_name(c),
		   p.stretch[c]);
	/* per parcel, shares go 8:4:2:1: the more a parcel matters, the more
	 * often it is polled (a stretch is relative to what it asked) */
	ok(p.interval_s[F] < p.interval_s[N] && p.interval_s[N] < p.interval_s[M] &&
	       p.interval_s[M] < p.interval_s[O],
	   "  the more it matters, the more often: %.0f %.0f %.0f %.0f s", p.interval_s[F],
	   p.interval_s[N], p.interval_s[M], p.interval_s[O]);
	ok(fabs(p.interval_s[O] / p.interval_s[N] - 4) < 1e-6 &&
	       fabs(p.interval_s[M] / p.interval_s[N] - 2) < 1e-6 &&
	       fabs(p.interval_s[N] / p.interval_s[F] - 2) < 1e-6,
	   "  in the weights' ratios 8:4:2:1");
	total = planned(&in, &p);
	ok(total <= p.capacity + 1e-6 && total >= p.capacity * 0.999,
	   "  the plan uses the capacity, no more (%.2f of %.0f)", total, p.capacity);
	ok(sw_plan_interval(&p, O, 7200, 86400) > 7200 * 10, "  other: hours apart (%lld s)",
	   (long long)sw_plan_interval(&p, O, 7200, 86400));
	is_int(p.covered, 5 + 0, "  covered at their intervals: the 5 final ones (240 of 250)");
	/* every class still polled: none starved */
	for (int c = 0; c < SW_POLL_CLASS_LAST; c++)
		ok(isfinite(p.stretch[c]) && p.interval_s[c] > 0 && p.interval_s[c] < 86400 * 30,
		   "  %s still polled every %.0f s", sw_poll_class_name(c), p.interval_s[c]);
}

static void test_spare_goes_to_others(void)
{
	struct sw_plan_in in = base(100, 10000);
	struct sw_plan p;

	/* final parcels ask for little (1 poll each in the window): capped
	 * at what they ask, the rest of the capacity goes to "other" */
	add(&in, F, 10, 10000); /* 10 polls */
	add(&in, O, 100, 1000); /* 1000 polls */
	sw_plan_compute(&in, &p);
	ok(p.is_short, "short");
	ok(fabs(p.stretch[F] - 1) < 1e-9, "  final at its own interval (x%.3f)", p.stretch[F]);
	/* other gets the remaining 90 polls: stretch 1000 / 90 */
	ok(fabs(p.stretch[O] - 1000.0 / 90) < 1e-6, "  other gets the 90 left (x%.4f)",
	   p.stretch[O]);
	is_int(p.covered, 10 + 9, "  covered: 10 final and 9 of the other 100");

	/* the same with the weights' shares binding: two classes both
	 * asking far more than they get share 8:1 per parcel */
	in = base(90, 1000);
	add(&in, F, 10, 1); /* 10000 polls */
	add(&in, O, 10, 1); /* 10000 polls */
	sw_plan_compute(&in, &p);
	ok(fabs(p.stretch[O] / p.stretch[F] - 8) < 1e-6, "  weights: other stretched 8x final's");
	ok(fabs(planned(&in, &p) - 90) < 1e-6, "  and together they use the 90");
}

static void test_exhausted_and_batches(void)
{
	struct sw_plan_in in = base(0, 5000);
	struct sw_plan p;

	add(&in, F, 3, 1800);
	sw_plan_compute(&in, &p);
	ok(p.exhausted && p.is_short, "nothing left: exhausted");
	is_int(sw_plan_interval(&p, F, 1800, 5000), 5000, "  next poll after the reset");
	is_int(sw_plan_interval(&p, F, 9000, 5000), 9000, "  or later if its interval is longer");
	is_int(p.covered, 0, "  covers none");

	in = base(100, 86400);
	add(&in, O, 100, 7200); /* 1200 polls a day */
	sw_plan_compute(&in, &p);
	ok(p.is_short, "100 requests of 1 for 1200 polls: short");
	in.per_request = 50;
	sw_plan_compute(&in, &p);
	ok(!p.is_short, "  batches of 50: 5000 parcel polls, not short");
	is_int(sw_plan_interval(&p, O, 7200, 86400), 7200, "  interval unchanged");

	/* nonsense in, sane out */
	in = base(10, -5);
	in.per_request = 0;
	in.cls[M].count = -3;
	in.cls[O].count = 4;
	in.cls[O].rate = NAN;
	sw_plan_compute(&in, &p);
	is_int(p.active, 4, "bad counts and rates ignored");
	ok(!p.is_short, "  nothing asked: not short");
	is_int(sw_plan_interval(&p, SW_POLL_CLASS_LAST, 60, 10), 60, "  unknown class: unchanged");
	is_int(sw_plan_interval(&p, O, 0, 10), 1, "  interval at least 1 s");
}

static void test_cap(void)
{
	struct sw_plan_in in = base(1, 86400);
	struct sw_plan p;

	add(&in, O, 100000, 60);
	sw_plan_compute(&in, &p);
	is_int(sw_plan_interval(&p, O, 60, 86400), SW_PLAN_MAX_S, "stretch capped at 30 days");
	is_int(sw_plan_interval(&p, O, SW_PLAN_MAX_S * 2, 86400), SW_PLAN_MAX_S * 2,
	       "  a longer own interval kept");
}

static void test_reset_parse(void)
{
	static const char *const bad[] = {"",	    "0:00",  "24:00", "12:60", "1200",
					  "12:00 ", "ab:cd", "-1:00", "12:5"};
	int m;

	is_int(sw_plan_parse_reset("00:00", &m), SW_OK, "00:00");
	is_int(m, 0, "  0 min");
	is_int(sw_plan_parse_reset("23:59", &m), SW_OK, "23:59");
	is_int(m, 23 * 60 + 59, "  1439 min");
	is_int(sw_plan_parse_reset("09:30", &m), SW_OK, "09:30");
	is_int(m, 570, "  570 min");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(sw_plan_parse_reset(bad[i], &m), SW_EINVAL, "'%s' refused", bad[i]);
	is_int(sw_plan_parse_reset(NULL, &m), SW_EINVAL, "NULL refused");
}

static void test_window(void)
{
	int64_t from = 0, until = 0;
	/* 2026-03-10T15:00:00Z */
	const int64_t t = 1773154800;

	is_int(sw_plan_window("UTC", 0, t, &from, &until), SW_OK, "UTC midnight");
	is_int(from, 1773100800, "  from 2026-03-10T00:00Z");
	is_int(until, 1773187200, "  until 2026-03-11T00:00Z");
	sw_plan_window("UTC", 16 * 60, t, &from, &until);
	is_int(from, 1773100800 - 8 * 3600, "UTC 16:00 at 15:00: from yesterday 16:00");
	is_int(until, 1773100800 + 16 * 3600, "  until today 16:00");
	sw_plan_window("UTC", 15 * 60, t, &from, &until);
	is_int(from, t, "a reset at exactly now starts the window");
	sw_plan_window(NULL, 0, t, &from, &until);
	is_int(until, 1773187200, "NULL zone is UTC");

	if (!sw_tz_valid("Asia/Kolkata") || !sw_tz_valid("America/New_York")) {
		printf("# tzdata missing: zone windows skipped\n");
		return;
	}
	/* 15:00Z = 20:30 IST: midnight IST is 18:30Z */
	is_int(sw_plan_window("Asia/Kolkata", 0, t, &from, &until), SW_OK, "Asia/Kolkata midnight");
	is_int(from, 1773100800 - 5 * 3600 - 1800, "  from 2026-03-09T18:30Z");
	is_int(until, 1773187200 - 5 * 3600 - 1800, "  until 2026-03-10T18:30Z");
	/* New York moved to EDT on 2026-03-08: a day across it is 23 h */
	sw_plan_window("America/New_York", 0, 1772960400 /* 2026-03-08T09:00Z */, &from, &until);
	is_int(from, 1772946000, "New York: from 2026-03-08 00:00 EST (05:00Z)");
	is_int(until, 1773028800, "  until 2026-03-09 00:00 EDT (04:00Z)");
	is_int(until - from, 23 * 3600, "  a 23-hour quota day");
	is_int(sw_plan_window("Nowhere/City", 0, t, &from, &until), SW_ENOTFOUND,
	       "unknown zone: SW_ENOTFOUND");
}

static void test_describe(void)
{
	struct sw_plan_in in = base(250, 9 * 3600 + 720);
	struct sw_plan p;
	struct sw_buf b;

	add(&in, F, 5, 1800);
	add(&in, O, 200, 7200);
	sw_plan_compute(&in, &p);
	sw_buf_init(&b, 4096);
	sw_plan_describe("dhl", &in, &p, &b);
	/* 250 of 1012 asked: final 8x other's share per parcel */
	is_str(sw_buf_str(&b),
	       "courier dhl: 250 requests left for 9h12m; 205 active parcels, final 5 every 1h6m "
	       "(asked 30m), other 200 every 8h49m (asked 2h); the quota covers 39 of 205 at their "
	       "own intervals\n",
	       "description");
	sw_buf_free(&b);

	in = base(-1, 100);
	add(&in, O, 3, 60);
	sw_plan_compute(&in, &p);
	sw_buf_init(&b, 4096);
	sw_plan_describe("ups", &in, &p, &b);
	is_str(sw_buf_str(&b), "courier ups: no daily quota; 3 active parcels at their intervals\n",
	       "no quota described");
	sw_buf_free(&b);

	sw_buf_init(&b, 4096);
	sw_plan_fmt_duration(&b, 0);
	sw_buf_adds(&b, " ");
	sw_plan_fmt_duration(&b, 45);
	sw_buf_adds(&b, " ");
	sw_plan_fmt_duration(&b, 86400 + 3 * 3600 + 5);
	sw_buf_adds(&b, " ");
	sw_plan_fmt_duration(&b, 3600 + 1);
	is_str(sw_buf_str(&b), "0s 45s 1d3h 1h", "durations: two largest units");
	sw_buf_free(&b);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_no_quota();
	test_short();
	test_spare_goes_to_others();
	test_exhausted_and_batches();
	test_cap();
	test_reset_parse();
	test_window();
	test_describe();
	return tap_done();
}
