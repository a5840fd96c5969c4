/*
 * test_store_promise.c - unit tests for lib/store_promise.c, the promise
 * report.
 *
 * A store in a temp dir is seeded through the normal store API from the
 * case table below: each order with its parcels (deliveries, attempts as
 * status updates or as journaled courier events, first and later ETAs) and
 * slips, and beside each the answer written by hand: excluded, on time,
 * late or pending, the courier that decides it, the reason of a late one,
 * its day, ISO week and month in Asia/Kolkata.  The test sums those
 * answers itself per warehouse, courier, service level, lane and region,
 * per day, week and month, and checks every cell and total of the report
 * against them; then the cases the definition singles out one by one
 * (a split order by its last parcel, a cancelled order, an attempt before
 * the promise, 23:30 on a date promise in Kolkata, week and month
 * boundaries that move with the zone), the target marks, the ETA figures
 * and the errors.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/store.h"
#include "lib/store_promise.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW   INT64_C(1796212800) /* 2026-12-02T12:00:00Z */
#define ZONE  "Asia/Kolkata"
#define MAXP  3
#define NSLIP 3

/* ---- the cases ---------------------------------------------------------------- */

struct pcase {
	const char *courier, *tn;
	const char *delivered;	  /* RFC 3339 (its offset kept), or NULL */
	const char *attempt;	  /* a status update available_for_pickup */
	const char *attempt_ev;	  /* a journaled attempt_fail event */
	const char *blind_ev;	  /* a journaled attempt_fail with no zone */
	const char *eta1, *eta2;  /* the first ETA, a later one */
	enum sw_ship_status last; /* when not delivered */
};

struct slip {
	const char *entity, *kind, *stage, *at;
};

struct ocase {
	const char *wh, *oid, *service, *country, *postal, *city;
	const char *promise; /* "YYYY-MM-DD" (end of day in Kolkata), RFC 3339, NULL */
	int cancelled;
	struct pcase p[MAXP];
	struct slip s[NSLIP];
	/* the answer */
	const char *verdict; /* "excluded", "on_time", "late", "pending" */
	const char *courier; /* the deciding courier ("" none) */
	const char *region, *lane;
	const char *reason; /* of a late order */
	const char *day, *week, *month;
};

/* A parcel delivered at when; the others spelt out with designators. */
#define DELIVERED(c, t, when)                                                                      \
	{                                                                                          \
		.courier = c, .tn = t, .delivered = when                                           \
	}
#define GOING(c, t, status)                                                                        \
	{                                                                                          \
		.courier = c, .tn = t, .last = status                                              \
	}
#define IN_560 "IN", "560001", "Bengaluru"
#define IN_110 "IN", "110001", "New Delhi"

static const struct ocase cases[] = {
    /* delivered before the promise */
    {"W1",
     "O1",
     "standard",
     IN_560,
     "2026-11-10T18:00:00+05:30",
     0,
     {DELIVERED("dhl", "T1", "2026-11-10T12:00:00+05:30")},
     {{0}},
     "on_time",
     "dhl",
     "IN 560",
     "W1 -> IN 560",
     NULL,
     "2026-11-10",
     "2026-W46",
     "2026-11"},
    /* split: the first parcel on time, the last one late */
    {"W1",
     "O2",
     "standard",
     IN_560,
     "2026-11-11T18:00:00+05:30",
     0,
     {DELIVERED("dhl", "T2a", "2026-11-10T10:00:00+05:30"),
      DELIVERED("ups", "T2b", "2026-11-12T09:00:00+05:30")},
     {{"parcel:ups:T2b", "late", "line_haul", "2026-11-11T19:00:00+05:30"}},
     "late",
     "ups",
     "IN 560",
     "W1 -> IN 560",
     "line_haul",
     "2026-11-11",
     "2026-W46",
     "2026-11"},
    /* split, both on time: counted once, by the one delivered last */
    {"W1",
     "O3",
     "standard",
     IN_560,
     "2026-11-12T18:00:00+05:30",
     0,
     {DELIVERED("ups", "T3a", "2026-11-12T15:00:00+05:30"),
      DELIVERED("dhl", "T3b", "2026-11-12T11:00:00+05:30")},
     {{0}},
     "on_time",
     "ups",
     "IN 560",
     "W1 -> IN 560",
     NULL,
     "2026-11-12",
     "2026-W46",
     "2026-11"},
    /* cancelled (and delivered late): excluded */
    {"W1",
     "O4",
     "standard",
     IN_560,
     "2026-11-12T18:00:00+05:30",
     1,
     {DELIVERED("dhl", "T4", "2026-11-14T10:00:00+05:30")},
     {{0}},
     "excluded",
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL},
    /* a failed attempt before the promise (a courier event in the
     * journal), delivered the day after: on time */
    {"W2",
     "O5",
     "express",
     IN_110,
     "2026-11-13T18:00:00+05:30",
     0,
     {{.courier = "dhl",
       .tn = "T5",
       .delivered = "2026-11-14T10:00:00+05:30",
       .attempt_ev = "2026-11-13T14:00:00+05:30"}},
     {{0}},
     "on_time",
     "dhl",
     "IN 110",
     "W2 -> IN 110",
     NULL,
     "2026-11-13",
     "2026-W46",
     "2026-11"},
    /* waiting at a pickup point before the promise (a status update) */
    {"W2",
     "O6",
     "express",
     IN_110,
     "2026-11-13T12:00:00+05:30",
     0,
     {{.courier = "ups", .tn = "T6", .attempt = "2026-11-13T11:00:00+05:30"}},
     {{0}},
     "on_time",
     "ups",
     "IN 110",
     "W2 -> IN 110",
     NULL,
     "2026-11-13",
     "2026-W46",
     "2026-11"},
    /* a date promise in Kolkata kept at 23:30 local */
    {"W2",
     "O7",
     "standard",
     IN_110,
     "2026-11-20",
     0,
     {DELIVERED("dhl", "T7", "2026-11-20T23:30:00+05:30")},
     {{0}},
     "on_time",
     "dhl",
     "IN 110",
     "W2 -> IN 110",
     NULL,
     "2026-11-20",
     "2026-W47",
     "2026-11"},
    /* ... and broken at 00:30 the next day */
    {"W2",
     "O8",
     "standard",
     IN_110,
     "2026-11-20",
     0,
     {DELIVERED("dhl", "T8", "2026-11-21T00:30:00+05:30")},
     {{"parcel:dhl:T8", "late", "last_mile", "2026-11-21T00:00:00+05:30"}},
     "late",
     "dhl",
     "IN 110",
     "W2 -> IN 110",
     "last_mile",
     "2026-11-20",
     "2026-W47",
     "2026-11"},
    /* not delivered, promise passed; its ETA slip came two days early */
    {"W1",
     "O9",
     "standard",
     IN_560,
     "2026-11-25T18:00:00+05:30",
     0,
     {GOING("eta1", "T9", SW_SHIP_IN_TRANSIT)},
     {{"parcel:eta1:T9", "eta_slip", "courier", "2026-11-23T18:00:00+05:30"},
      {"parcel:eta1:T9", "late", "line_haul", "2026-11-25T19:00:00+05:30"}},
     "late",
     "eta1",
     "IN 560",
     "W1 -> IN 560",
     "line_haul",
     "2026-11-25",
     "2026-W48",
     "2026-11"},
    /* never shipped, no destination */
    {"W1",
     "O10",
     NULL,
     NULL,
     NULL,
     NULL,
     "2026-11-26T18:00:00+05:30",
     0,
     {{0}},
     {{"order:W1:O10", "ship_late", "warehouse", "2026-11-25T18:00:00+05:30"},
      {"order:W1:O10", "late", "warehouse", "2026-11-26T19:00:00+05:30"}},
     "late",
     "",
     "",
     "W1 -> ?",
     "warehouse",
     "2026-11-26",
     "2026-W48",
     "2026-11"},
    /* promise ahead, on its way: not judged yet */
    {"W1",
     "O11",
     "standard",
     IN_560,
     "2026-12-05T18:00:00+05:30",
     0,
     {GOING("dhl", "T11", SW_SHIP_IN_TRANSIT)},
     {{0}},
     "pending",
     "dhl",
     "IN 560",
     "W1 -> IN 560",
     NULL,
     "2026-12-05",
     "2026-W49",
     "2026-12"},
    /* a courier exception outranks the stage of the late slip */
    {"W2",
     "O12",
     "express",
     IN_110,
     "2026-11-24T18:00:00+05:30",
     0,
     {GOING("eta1", "T12", SW_SHIP_EXCEPTION)},
     {{"parcel:eta1:T12", "exception", "courier", "2026-11-24T10:00:00+05:30"},
      {"parcel:eta1:T12", "late", "last_mile", "2026-11-24T19:00:00+05:30"}},
     "late",
     "eta1",
     "IN 110",
     "W2 -> IN 110",
     "courier_exception",
     "2026-11-24",
     "2026-W48",
     "2026-11"},
    /* late, no slip; an attempt whose time has no zone does not count */
    {"W2",
     "O13",
     "standard",
     "IN",
     NULL,
     "Delhi",
     "2026-11-24T12:00:00+05:30",
     0,
     {{.courier = "ups",
       .tn = "T13",
       .delivered = "2026-11-25T12:00:00+05:30",
       .blind_ev = "2026-11-24T10:00:00+05:30"}},
     {{0}},
     "late",
     "ups",
     "IN delhi",
     "W2 -> IN delhi",
     "unknown",
     "2026-11-24",
     "2026-W48",
     "2026-11"},
    /* late, only a stalled slip with a stage */
    {"W2",
     "O14",
     "standard",
     IN_110,
     "2026-11-24T12:00:00+05:30",
     0,
     {GOING("ups", "T14", SW_SHIP_IN_TRANSIT)},
     {{"parcel:ups:T14", "stalled", "first_mile", "2026-11-23T12:00:00+05:30"}},
     "late",
     "ups",
     "IN 110",
     "W2 -> IN 110",
     "first_mile",
     "2026-11-24",
     "2026-W48",
     "2026-11"},
    /* Monday 00:30 in Kolkata, Sunday in UTC */
    {"W1",
     "O15",
     "standard",
     IN_560,
     "2026-11-29T19:00:00Z",
     0,
     {DELIVERED("dhl", "T15", "2026-11-29T10:00:00Z")},
     {{0}},
     "on_time",
     "dhl",
     "IN 560",
     "W1 -> IN 560",
     NULL,
     "2026-11-30",
     "2026-W49",
     "2026-11"},
    /* 1 December in Kolkata, 30 November in UTC */
    {"W1",
     "O16",
     "standard",
     IN_560,
     "2026-11-30T20:00:00Z",
     0,
     {DELIVERED("dhl", "T16", "2026-11-30T18:00:00Z")},
     {{0}},
     "on_time",
     "dhl",
     "IN 560",
     "W1 -> IN 560",
     NULL,
     "2026-12-01",
     "2026-W49",
     "2026-12"},
    /* promise ahead, already delivered: on time */
    {"W2",
     "O17",
     "express",
     IN_110,
     "2026-12-06T18:00:00+05:30",
     0,
     {DELIVERED("dhl", "T17", "2026-12-01T10:00:00+05:30")},
     {{0}},
     "on_time",
     "dhl",
     "IN 110",
     "W2 -> IN 110",
     NULL,
     "2026-12-06",
     "2026-W49",
     "2026-12"},
    /* no promise */
    {"W2",
     "O18",
     "standard",
     IN_110,
     NULL,
     0,
     {DELIVERED("dhl", "T18", "2026-11-20T10:00:00+05:30")},
     {{0}},
     "excluded",
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL},
    /* before the range (inside the margin the query reads) */
    {"W1",
     "O19",
     "standard",
     IN_560,
     "2026-10-31T18:00:00+05:30",
     0,
     {DELIVERED("dhl", "T19", "2026-11-02T10:00:00+05:30")},
     {{0}},
     "excluded",
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL},
    /* a voided label beside the parcel that went */
    {"W1",
     "O20",
     "standard",
     IN_560,
     "2026-11-15T18:00:00+05:30",
     0,
     {GOING("dhl", "T20a", SW_SHIP_CANCELLED),
      DELIVERED("ups", "T20b", "2026-11-15T10:00:00+05:30")},
     {{0}},
     "on_time",
     "ups",
     "IN 560",
     "W1 -> IN 560",
     NULL,
     "2026-11-15",
     "2026-W46",
     "2026-11"},
    /* the range's end is not in it */
    {"W2",
     "O21",
     "standard",
     IN_110,
     "2026-12-08T10:00:00+05:30",
     0,
     {GOING("dhl", "T21", SW_SHIP_IN_TRANSIT)},
     {{0}},
     "excluded",
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     NULL},
    /* ETA accuracy of eta1: the first ETA missed by 2 days (the later
     * one was right), one delivered a day early, one on the day in the
     * courier's offset (the day before in UTC) */
    {"W2",
     "E1",
     "eco",
     IN_110,
     "2026-11-18T18:00:00+05:30",
     0,
     {{.courier = "eta1",
       .tn = "TE1",
       .delivered = "2026-11-12T10:00:00+05:30",
       .eta1 = "2026-11-10",
       .eta2 = "2026-11-12"}},
     {{0}},
     "on_time",
     "eta1",
     "IN 110",
     "W2 -> IN 110",
     NULL,
     "2026-11-18",
     "2026-W47",
     "2026-11"},
    {"W2",
     "E2",
     "eco",
     IN_110,
     "2026-11-18T18:00:00+05:30",
     0,
     {{.courier = "eta1",
       .tn = "TE2",
       .delivered = "2026-11-14T10:00:00+05:30",
       .eta1 = "2026-11-15"}},
     {{0}},
     "on_time",
     "eta1",
     "IN 110",
     "W2 -> IN 110",
     NULL,
     "2026-11-18",
     "2026-W47",
     "2026-11"},
    {"W2",
     "E3",
     "eco",
     IN_110,
     "2026-11-18T18:00:00+05:30",
     0,
     {{.courier = "eta1",
       .tn = "TE3",
       .delivered = "2026-11-16T01:30:00+05:30",
       .eta1 = "2026-11-16"}},
     {{0}},
     "on_time",
     "eta1",
     "IN 110",
     "W2 -> IN 110",
     NULL,
     "2026-11-18",
     "2026-W47",
     "2026-11"},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- seeding --------------------------------------------------------------------- */

static struct sw_stamp at(const char *s)
{
	struct sw_time t;

	if (!s)
		return (struct sw_stamp){0, 0};
	if (sw_time_parse(s, &t, NULL, 0) != SW_OK) {
		printf("# bad time %s\n", s);
		exit(1);
	}
	return (struct sw_stamp){t.utc_sec, t.offset_sec};
}

static void check(struct sw_store *st, enum sw_err rc, const char *what)
{
	if (rc != SW_OK) {
		printf("# %s: %s\n", what, sw_store_errmsg(st));
		exit(1);
	}
}

static void seed_order(struct sw_store *st, const struct ocase *c)
{
	struct sw_order o = {0};
	struct sw_date d;
	char key[64];

	o.warehouse_id = c->wh;
	o.order_id = c->oid;
	o.customer_timezone = ZONE;
	o.service_level = c->service;
	o.dest_country = c->country;
	o.dest_postal_code = c->postal;
	o.dest_city = c->city;
	if (c->promise && strlen(c->promise) == 10) {
		o.promised_delivery_by.kind = SW_PROMISE_DATE;
		sw_date_parse(c->promise, &d, NULL, 0);
		sw_date_end_of_day(ZONE, &d, &o.promised_delivery_by.at.at);
		o.promised_delivery_by.at.offset = 19800;
	} else if (c->promise) {
		o.promised_delivery_by.kind = SW_PROMISE_INSTANT;
		o.promised_delivery_by.at = at(c->promise);
	}
	o.promised_delivery_by.text = c->promise;
	snprintf(key, sizeof(key), "created-%s", c->oid);
	check(st, sw_store_order_set_details(st, &o, NOW - 60 * 86400, key, NULL), "details");
	memset(&o, 0, sizeof(o));
	o.warehouse_id = c->wh;
	o.order_id = c->oid;
	o.stage[SW_STAGE_CREATED] = at("2026-10-20T10:00:00+05:30");
	if (c->cancelled)
		o.stage[SW_STAGE_CANCELLED] = at("2026-11-01T10:00:00+05:30");
	check(st, sw_store_order_upsert(st, &o), "order");
}

static void journal_attempt(struct sw_store *st, const struct pcase *p, const char *when,
			    bool zone_known)
{
	struct sw_journal_event ev = {0};
	char id[64];

	snprintf(id, sizeof(id), "%s-attempt-%d", p->tn, zone_known);
	ev.source = "courier:test";
	ev.source_event_id = id;
	ev.kind = "parcel.status";
	ev.courier = p->courier;
	ev.tracking_number = p->tn;
	ev.occurred_at = at(when);
	ev.payload = zone_known ? "{\"status\":\"attempt_fail\",\"zone_known\":true}"
				: "{\"status\":\"attempt_fail\",\"zone_known\":false}";
	check(st, sw_store_journal_append(st, &ev, NULL), "journal");
}

static void update(struct sw_store *st, const struct pcase *p, enum sw_ship_status status,
		   struct sw_stamp event_at, const char *eta, struct sw_stamp delivered)
{
	struct sw_parcel_update u = {0};

	u.status = status;
	u.event_at = event_at;
	u.eta_date = eta;
	u.delivered_at = delivered;
	check(st, sw_store_parcel_set_status(st, p->courier, p->tn, &u), "parcel status");
}

static void seed_parcel(struct sw_store *st, const struct ocase *c, const struct pcase *p)
{
	struct sw_stamp shipped = at("2026-10-25T10:00:00+05:30");

	check(st, sw_store_parcel_upsert(st, p->courier, p->tn, c->wh, c->oid, shipped), "parcel");
	update(st, p, SW_SHIP_IN_TRANSIT, (struct sw_stamp){shipped.at + 3600, 19800}, p->eta1,
	       (struct sw_stamp){0, 0});
	if (p->eta2)
		update(st, p, SW_SHIP_IN_TRANSIT, (struct sw_stamp){shipped.at + 7200, 19800},
		       p->eta2, (struct sw_stamp){0, 0});
	if (p->attempt_ev)
		journal_attempt(st, p, p->attempt_ev, true);
	if (p->blind_ev)
		journal_attempt(st, p, p->blind_ev, false);
	if (p->attempt)
		update(st, p, SW_SHIP_AVAILABLE_FOR_PICKUP, at(p->attempt), NULL,
		       (struct sw_stamp){0, 0});
	if (p->delivered)
		update(st, p, SW_SHIP_DELIVERED, at(p->delivered), NULL, at(p->delivered));
	else if (p->last && !p->attempt)
		update(st, p, p->last, (struct sw_stamp){shipped.at + 10800, 19800}, NULL,
		       (struct sw_stamp){0, 0});
}

static void seed(struct sw_store *st)
{
	for (size_t i = 0; i < NCASES; i++) {
		const struct ocase *c = &cases[i];

		seed_order(st, c);
		for (int j = 0; j < MAXP && c->p[j].courier; j++)
			seed_parcel(st, c, &c->p[j]);
		for (int j = 0; j < NSLIP && c->s[j].entity; j++) {
			struct sw_alert a = {0};

			a.entity = c->s[j].entity;
			a.kind = c->s[j].kind;
			a.stage = c->s[j].stage;
			a.detected_at = at(c->s[j].at).at;
			check(st, sw_store_alert_record(st, &a, NULL), "alert");
		}
	}
}

/* ---- the answers, summed by the test -------------------------------------------------- */

struct want {
	int64_t on_time, late, pending, reason[SW_REASON_LAST];
};

/* The case's key in dimension by. */
static const char *case_key(const struct ocase *c, enum sw_promise_by by)
{
	switch (by) {
	case SW_PROMISE_BY_WAREHOUSE:
		return c->wh;
	case SW_PROMISE_BY_COURIER:
		return c->courier;
	case SW_PROMISE_BY_SERVICE:
		return c->service ? c->service : "";
	case SW_PROMISE_BY_LANE:
		return c->lane;
	case SW_PROMISE_BY_REGION:
		return c->region;
	default:
		return "";
	}
}

static const char *case_period(const struct ocase *c, enum sw_promise_period p)
{
	return p == SW_PROMISE_DAY ? c->day : p == SW_PROMISE_WEEK ? c->week : c->month;
}

/* The answers of the cases with key (NULL: any) in period label (NULL:
 * any). */
static struct want want_of(enum sw_promise_by by, const char *key, enum sw_promise_period p,
			   const char *label)
{
	struct want w = {0};

	for (size_t i = 0; i < NCASES; i++) {
		const struct ocase *c = &cases[i];
		enum sw_promise_reason r;

		if (strcmp(c->verdict, "excluded") == 0 ||
		    (key && strcmp(case_key(c, by), key) != 0) ||
		    (label && strcmp(case_period(c, p), label) != 0))
			continue;
		if (strcmp(c->verdict, "on_time") == 0)
			w.on_time++;
		else if (strcmp(c->verdict, "pending") == 0)
			w.pending++;
		else {
			w.late++;
			for (r = 0; r < SW_REASON_LAST; r++)
				if (strcmp(sw_promise_reason_name(r), c->reason) == 0)
					w.reason[r]++;
		}
	}
	return w;
}

/* Compares one cell with the answers; returns 1 if all agree (one check
 * per cell, so a failure names it). */
static int cell_agrees(const struct sw_promise_cell *c, const struct want *w, double target,
		       char *why, size_t len)
{
	int64_t judged = w->on_time + w->late;
	double rate = judged ? 100.0 * (double)w->on_time / (double)judged : -1;

	if (c->on_time != w->on_time || c->late != w->late || c->pending != w->pending ||
	    c->judged != judged) {
		snprintf(why, len, "counts %lld/%lld/%lld, want %lld/%lld/%lld",
			 (long long)c->on_time, (long long)c->late, (long long)c->pending,
			 (long long)w->on_time, (long long)w->late, (long long)w->pending);
		return 0;
	}
	if (fabs(c->rate - rate) > 1e-9 || c->below != (judged && rate < target)) {
		snprintf(why, len, "rate %.3f below %d, want %.3f", c->rate, c->below, rate);
		return 0;
	}
	for (int r = 0; r < SW_REASON_LAST; r++)
		if (c->reason[r] != w->reason[r]) {
			snprintf(why, len, "reason %s %lld, want %lld",
				 sw_promise_reason_name((enum sw_promise_reason)r),
				 (long long)c->reason[r], (long long)w->reason[r]);
			return 0;
		}
	return 1;
}

static struct sw_promise_query query(const char *zone)
{
	struct sw_promise_query q = {.zone = zone, .now = NOW};

	sw_date_parse("2026-11-01", &q.from, NULL, 0);
	sw_date_parse("2026-12-08", &q.to, NULL, 0);
	return q;
}

/* Every cell and total of every grouping against the answers. */
static void test_every_cell(struct sw_store *st)
{
	struct sw_promise_query q = query(ZONE);
	struct sw_promise_data *d;
	const double target = 75;

	if (!ok(sw_store_promise_read(st, &q, &d) == SW_OK, "read the range")) {
		printf("#   %s\n", sw_store_errmsg(st));
		return;
	}
	for (int by = 0; by < SW_PROMISE_BY_LAST; by++)
		for (int per = 0; per < SW_PROMISE_PERIOD_LAST; per++) {
			struct sw_promise_report *r;
			int bad = 0;
			size_t used = 0;
			char why[200] = "", label[SW_PROMISE_LABEL_LEN];

			if (sw_promise_aggregate(d, by, per, target, &r) != SW_OK) {
				ok(0, "aggregate %d %d", by, per);
				continue;
			}
			for (size_t k = 0; k < r->n_keys && !bad; k++)
				for (size_t p = 0; p < r->n_periods && !bad; p++) {
					struct want w;

					sw_promise_period_label(per, &r->periods[p], label,
								sizeof(label));
					w = want_of(by, r->keys[k], per, label);
					used += w.on_time + w.late + w.pending;
					if (!cell_agrees(sw_promise_cell_at(r, k, p), &w, target,
							 why, sizeof(why)))
						bad = printf("#   %s %s: %s\n", r->keys[k], label,
							     why);
				}
			for (size_t p = 0; p < r->n_periods && !bad; p++) {
				struct want w;

				sw_promise_period_label(per, &r->periods[p], label, sizeof(label));
				w = want_of(by, NULL, per, label);
				if (!cell_agrees(&r->totals[p], &w, target, why, sizeof(why)))
					bad = printf("#   total %s: %s\n", label, why);
			}
			{
				struct want w = want_of(by, NULL, per, NULL);

				if (!bad && !cell_agrees(&r->total, &w, target, why, sizeof(why)))
					bad = printf("#   the total: %s\n", why);
				/* every order with an answer sits in some cell */
				if (!bad && used != (size_t)(w.on_time + w.late + w.pending))
					bad = printf("#   %zu orders in cells, want %lld\n", used,
						     (long long)(w.on_time + w.late + w.pending));
			}
			ok(!bad, "by %s per %s: every cell, total and mark as the cases say",
			   sw_promise_by_name(by), sw_promise_period_name(per));
			sw_promise_report_free(r);
		}
	sw_promise_data_free(d);
}

/* ---- single cases ---------------------------------------------------------------------- */

static struct sw_promise_report *report(struct sw_store *st, const char *zone,
					enum sw_promise_by by, enum sw_promise_period per,
					double target)
{
	struct sw_promise_query q = query(zone);
	struct sw_promise_report *r = NULL;

	if (sw_store_promise_report(st, &q, by, per, target, &r) != SW_OK)
		printf("# report: %s\n", sw_store_errmsg(st));
	return r;
}

static const struct sw_promise_cell *find(const struct sw_promise_report *r, const char *key,
					  const char *label)
{
	char l[SW_PROMISE_LABEL_LEN];

	for (size_t k = 0; r && k < r->n_keys; k++)
		for (size_t p = 0; strcmp(r->keys[k], key) == 0 && p < r->n_periods; p++) {
			sw_promise_period_label(r->period, &r->periods[p], l, sizeof(l));
			if (strcmp(l, label) == 0)
				return sw_promise_cell_at(r, k, p);
		}
	return NULL;
}

static void test_definition(struct sw_store *st)
{
	struct sw_promise_report *r = report(st, ZONE, SW_PROMISE_BY_COURIER, SW_PROMISE_DAY, 0);
	const struct sw_promise_cell *c;

	/* O2: dhl on time, ups late: one late order, for ups */
	c = find(r, "ups", "2026-11-11");
	ok(c && c->late == 1 && c->judged == 1, "a split order counts once, by its last parcel");
	ok(!find(r, "dhl", "2026-11-11") || find(r, "dhl", "2026-11-11")->judged == 0,
	   "and not for the courier of its first");
	c = find(r, "ups", "2026-11-12");
	ok(c && c->on_time == 1, "both on time: the courier of the one delivered last");
	c = find(r, "dhl", "2026-11-13");
	ok(c && c->on_time == 1 && c->late == 0,
	   "a failed attempt (a journaled event) before the promise is on time, though "
	   "delivered after");
	c = find(r, "ups", "2026-11-13");
	ok(c && c->on_time == 1, "waiting at a pickup point before the promise is on time");
	c = find(r, "dhl", "2026-11-20");
	ok(c && c->on_time == 1 && c->late == 1,
	   "a date promise in Kolkata: 23:30 local on time, 00:30 the next day late");
	c = find(r, "ups", "2026-11-24");
	ok(c && c->late == 2 && c->on_time == 0,
	   "an attempt whose time has no zone does not count");
	c = find(r, "", "2026-11-26");
	ok(c && c->late == 1 && c->reason[SW_REASON_WAREHOUSE] == 1,
	   "an order never shipped is late once its promise passed, for the warehouse");
	c = find(r, "dhl", "2026-12-05");
	ok(c && c->pending == 1 && c->judged == 0 && c->rate == -1,
	   "a promise ahead, not delivered: pending, not judged");
	c = find(r, "dhl", "2026-12-06");
	ok(c && c->on_time == 1, "a promise ahead, already delivered: on time");
	c = find(r, "ups", "2026-11-15");
	ok(c && c->on_time == 1 && find(r, "dhl", "2026-11-15")->judged == 0,
	   "a voided label is left out of its order");
	ok(r && r->total.judged == 19 && r->total.pending == 1,
	   "cancelled, promise-less and out-of-range orders are left out (19 judged)");
	sw_promise_report_free(r);
}

static void test_zone_boundaries(struct sw_store *st)
{
	struct sw_promise_report *kol = report(st, ZONE, SW_PROMISE_BY_NONE, SW_PROMISE_WEEK, 0);
	struct sw_promise_report *utc = report(st, "UTC", SW_PROMISE_BY_NONE, SW_PROMISE_WEEK, 0);
	const struct sw_promise_cell *c;
	char l[SW_PROMISE_LABEL_LEN];

	ok(kol && kol->n_periods == 7, "weeks W44..W50 touch 2026-11-01..12-07");
	if (kol) {
		sw_promise_period_label(SW_PROMISE_WEEK, &kol->periods[0], l, sizeof(l));
		is_str(l, "2026-W44", "the first week holds Sunday 1 November");
		ok(kol->periods[0].day == 26 && kol->periods[0].month == 10,
		   "and starts on Monday 26 October");
	}
	c = find(kol, "", "2026-W49");
	ok(c && c->judged == 3 && c->pending == 1,
	   "Kolkata: Monday 00:30 opens week 49 (3 judged, 1 pending)");
	c = find(utc, "", "2026-W49");
	ok(c && c->judged == 2, "UTC: the same instant is Sunday, week 48");
	c = find(utc, "", "2026-W48");
	ok(c && find(kol, "", "2026-W48") && c->judged == find(kol, "", "2026-W48")->judged + 1,
	   "week 48 has it in UTC only");
	sw_promise_report_free(kol);
	sw_promise_report_free(utc);

	kol = report(st, ZONE, SW_PROMISE_BY_NONE, SW_PROMISE_MONTH, 0);
	utc = report(st, "UTC", SW_PROMISE_BY_NONE, SW_PROMISE_MONTH, 0);
	ok(find(kol, "", "2026-12") && find(kol, "", "2026-12")->judged == 2,
	   "Kolkata: 01:30 on 1 December is December (2 judged)");
	ok(find(utc, "", "2026-12") && find(utc, "", "2026-12")->judged == 1,
	   "UTC: 30 November 20:00 is November");
	ok(kol && utc && kol->total.judged == utc->total.judged,
	   "the range's total is the same in both zones");
	sw_promise_report_free(kol);
	sw_promise_report_free(utc);
}

static void test_target(struct sw_store *st)
{
	struct sw_promise_report *r =
	    report(st, ZONE, SW_PROMISE_BY_WAREHOUSE, SW_PROMISE_MONTH, 70);
	const struct sw_promise_cell *w1 = find(r, "W1", "2026-11"), *w2 = find(r, "W2", "2026-11");

	/* W1 in November: O1 O3 O15 O20 on time, O2 O9 O10 late: 4/7 */
	ok(w1 && w1->judged == 7 && fabs(w1->rate - 400.0 / 7) < 1e-9 && w1->below,
	   "W1 57.1%% is below a 70%% target");
	/* W2: O5 O6 O7 E1 E2 E3 on time, O8 O12 O13 O14 late: 6/10 */
	ok(w2 && w2->judged == 10 && fabs(w2->rate - 60) < 1e-9 && w2->below,
	   "W2 60%% is below it too");
	ok(find(r, "W1", "2026-12") && !find(r, "W1", "2026-12")->below &&
	       find(r, "W1", "2026-12")->rate == 100,
	   "W1 in December 100%% is not");
	ok(find(r, "W1", "2026-12") && find(r, "W1", "2026-12")->pending == 1,
	   "pending orders are counted apart");
	sw_promise_report_free(r);
	r = report(st, ZONE, SW_PROMISE_BY_WAREHOUSE, SW_PROMISE_MONTH, 60);
	ok(find(r, "W2", "2026-11") && !find(r, "W2", "2026-11")->below,
	   "a rate equal to the target is not below it");
	sw_promise_report_free(r);
	r = report(st, ZONE, SW_PROMISE_BY_WAREHOUSE, SW_PROMISE_MONTH, 0);
	ok(find(r, "W1", "2026-11") && !find(r, "W1", "2026-11")->below, "target 0 marks nothing");
	sw_promise_report_free(r);
}

static void test_reasons(struct sw_store *st)
{
	struct sw_promise_report *r = report(st, ZONE, SW_PROMISE_BY_NONE, SW_PROMISE_MONTH, 0);
	const struct sw_promise_cell *c = r ? &r->total : NULL;

	ok(c && c->late == 7, "7 late orders");
	ok(c && c->reason[SW_REASON_LINE_HAUL] == 2,
	   "line haul twice (a late slip's stage; the late slip over an earlier eta_slip's)");
	ok(c && c->reason[SW_REASON_LAST_MILE] == 1 && c->reason[SW_REASON_FIRST_MILE] == 1,
	   "last mile once, first mile once (a stalled slip's stage when no late slip has one)");
	ok(c && c->reason[SW_REASON_WAREHOUSE] == 1, "warehouse once");
	ok(c && c->reason[SW_REASON_COURIER_EXCEPTION] == 1,
	   "a courier exception once (over its late slip's last mile)");
	ok(c && c->reason[SW_REASON_UNKNOWN] == 1, "unknown once (no slip)");
	sw_promise_report_free(r);
}

static void test_eta(struct sw_store *st)
{
	struct sw_promise_report *r = report(st, ZONE, SW_PROMISE_BY_COURIER, SW_PROMISE_MONTH, 0);
	const struct sw_promise_cell *c = find(r, "eta1", "2026-11");

	ok(c && c->eta_parcels == 3 && c->eta_met == 2,
	   "eta1: 2 of 3 delivered by the FIRST ETA (the later ETA would say 3)");
	ok(c && fabs(c->eta_rate - 200.0 / 3) < 1e-9, "ETA share 66.7%%");
	ok(c && fabs(c->eta_error_days - 1.0) < 1e-9,
	   "mean error 1 day (2, 1, 0: the delivery's day at the courier's offset)");
	ok(c && c->warned == 2 && c->warn_median_s == (172800 - 3600) / 2,
	   "a miss known 2 days before and 1 hour after the promise: median 23.5 h before");
	c = find(r, "dhl", "2026-11");
	ok(c && c->eta_parcels == 0 && c->eta_rate == -1 && c->eta_error_days == -1,
	   "no first ETA: no ETA figures");
	ok(c && c->warned == 1 && c->warn_median_s == -1,
	   "dhl's one late parcel: its late slip came a second after the promise");
	ok(r && r->total.eta_parcels == 3 && r->total.warned == 4,
	   "the total counts each parcel once (4 late parcels with a slip, of 3 couriers)");
	sw_promise_report_free(r);
	r = report(st, ZONE, SW_PROMISE_BY_WAREHOUSE, SW_PROMISE_MONTH, 0);
	c = find(r, "W2", "2026-11");
	ok(c && c->eta_parcels == 3 && c->warned == 2 && c->warn_median_s == (-1 - 3600) / 2,
	   "other dimensions: the parcels of the cell's orders");
	sw_promise_report_free(r);
}

static void test_names_and_errors(struct sw_store *st)
{
	struct sw_promise_query q = query(ZONE);
	struct sw_promise_report *r;
	struct sw_promise_data *d;
	enum sw_promise_by by;
	enum sw_promise_period per;
	struct sw_date dt, s;
	char l[SW_PROMISE_LABEL_LEN];

	ok(sw_promise_by_parse("lane", &by) == SW_OK && by == SW_PROMISE_BY_LANE, "parse lane");
	ok(sw_promise_by_parse("lanes", &by) == SW_EINVAL, "an unknown dimension");
	ok(sw_promise_period_parse("month", &per) == SW_OK && per == SW_PROMISE_MONTH,
	   "parse month");
	is_str(sw_promise_reason_name(SW_REASON_COURIER_EXCEPTION), "courier_exception",
	       "reason name");
	is_str(sw_promise_by_name(SW_PROMISE_BY_LAST), "?", "out of range");
	sw_date_parse("2027-01-01", &dt, NULL, 0);
	sw_promise_period_start(SW_PROMISE_WEEK, &dt, &s);
	sw_promise_period_label(SW_PROMISE_WEEK, &s, l, sizeof(l));
	ok(s.year == 2026 && s.month == 12 && s.day == 28,
	   "1 January 2027 is in the week of 28 December");
	is_str(l, "2026-W53", "which is 2026's week 53");
	sw_date_parse("2027-01-04", &dt, NULL, 0);
	sw_promise_period_label(SW_PROMISE_WEEK, &dt, l, sizeof(l));
	is_str(l, "2027-W01", "4 January 2027 starts week 1");

	q.zone = "Mars/Olympus";
	ok(sw_store_promise_read(st, &q, &d) == SW_ENOTFOUND && d == NULL &&
	       strstr(sw_store_errmsg(st), "Mars/Olympus"),
	   "an unknown zone is named");
	q = query(ZONE);
	q.to = q.from;
	ok(sw_store_promise_read(st, &q, &d) == SW_EINVAL &&
	       strstr(sw_store_errmsg(st), "after its start"),
	   "an empty range");
	q = query(ZONE);
	q.from.year = 2020;
	ok(sw_store_promise_read(st, &q, &d) == SW_ERANGE, "a range of more than %d days",
	   SW_PROMISE_MAX_DAYS);
	q = query(ZONE);
	q.from.day = 31;
	q.from.month = 11;
	ok(sw_store_promise_read(st, &q, &d) == SW_EINVAL, "31 November");
	q = query(ZONE);
	ok(sw_store_promise_report(st, &q, SW_PROMISE_BY_NONE, SW_PROMISE_DAY, 100.5, &r) ==
		   SW_ERANGE &&
	       r == NULL,
	   "a target above 100");
	ok(sw_store_promise_report(st, &q, SW_PROMISE_BY_LAST, SW_PROMISE_DAY, 50, &r) == SW_EINVAL,
	   "a bad dimension");
}

static void test_empty(struct sw_store *st)
{
	struct sw_promise_query q = query(ZONE);
	struct sw_promise_report *r;

	sw_date_parse("2025-01-01", &q.from, NULL, 0);
	sw_date_parse("2025-02-01", &q.to, NULL, 0);
	ok(sw_store_promise_report(st, &q, SW_PROMISE_BY_COURIER, SW_PROMISE_DAY, 90, &r) ==
		   SW_OK &&
	       r->n_keys == 0 && r->n_periods == 31 && r->total.judged == 0 &&
	       r->total.rate == -1 && !r->total.below,
	   "a month without orders: 31 empty days, no keys, nothing below target");
	sw_promise_report_free(r);
	ok(sw_store_promise_report(st, &q, SW_PROMISE_BY_NONE, SW_PROMISE_MONTH, 90, &r) == SW_OK &&
	       r->n_keys == 1 && r->keys[0][0] == '\0' && r->n_periods == 1,
	   "by none: one row even when empty");
	sw_promise_report_free(r);
}

int main(void)
{
	struct sw_store *st = store_tmp_open();
	struct sw_store *ro = NULL;
	char err[512];

	if (!st)
		return store_tmp_done(NULL);
	seed(st);
	sw_store_close(st);
	if (!ok(sw_store_open(store_path, SW_STORE_RDONLY, &ro, err, sizeof(err)) == SW_OK,
		"open the store read-only")) {
		printf("#   %s\n", err);
		return store_tmp_done(NULL);
	}
	test_every_cell(ro);
	test_definition(ro);
	test_zone_boundaries(ro);
	test_target(ro);
	test_reasons(ro);
	test_eta(ro);
	test_names_and_errors(ro);
	test_empty(ro);
	return store_tmp_done(ro);
}
