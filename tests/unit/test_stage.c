/*
 * test_stage.c - unit tests for the stage that ran over: the baselines of
 * lib/store_stage.c (p90 per lane and per warehouse / courier, the window,
 * a parcel's journal marks) and alerts/stage.c's choice.  A store in a
 * private temp dir (or on PostgreSQL: tests/store_tmp.h) is seeded with
 * one lane's history (30 parcels of W1 to IN 560 via dhl, whose durations
 * are known), a thin lane (3 parcels to DE via dhl) and a thin courier (5
 * parcels via ups); slipped units are then judged at a fixed "now".
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/stage.h"
#include "lib/error.h"
#include "lib/store.h"
#include "lib/store_stage.h"
#include "lib/xmalloc.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW  INT64_C(1795521600) /* 2026-11-24T12:00:00Z */
#define HOUR INT64_C(3600)
#define DAY  (24 * HOUR)

struct unit {
	const char *wh, *oid, *country, *postal, *courier, *tn;
	int64_t created, shipped, first_scan, ofd, delivered; /* 0: not yet */
};

static void mk_order(struct sw_store *st, const struct unit *u)
{
	struct sw_order o = {0};

	o.warehouse_id = u->wh;
	o.order_id = u->oid;
	o.dest_country = u->country;
	o.dest_postal_code = u->postal;
	o.stage[SW_STAGE_CREATED].at = u->created;
	o.stage[SW_STAGE_SHIPPED].at = u->shipped;
	if (sw_store_order_upsert(st, &o) != SW_OK)
		printf("# order %s: %s\n", u->oid, sw_store_errmsg(st));
}

static void mk_ofd(struct sw_store *st, const struct unit *u)
{
	struct sw_journal_event ev = {0};
	enum sw_err rc;
	char id[64];

	snprintf(id, sizeof(id), "%s-ofd", u->tn);
	ev.source = "courier:test";
	ev.source_event_id = id;
	ev.kind = "parcel.status";
	ev.courier = u->courier;
	ev.tracking_number = u->tn;
	ev.occurred_at.at = u->ofd;
	ev.payload = "{\"shipment_status\":\"delivered\",\"status\":\"out_for_delivery\"}";
	rc = sw_store_journal_append(st, &ev, NULL);
	if (rc != SW_OK && rc != SW_EDUP) /* SW_EDUP: the unit seeded again */
		printf("# ofd %s: %s\n", u->tn, sw_store_errmsg(st));
}

/* An order with one parcel, as far as u's times go. */
static void mk_unit(struct sw_store *st, const struct unit *u)
{
	struct sw_parcel_update up = {0};

	mk_order(st, u);
	if (!u->shipped)
		return;
	if (sw_store_parcel_upsert(st, u->courier, u->tn, u->wh, u->oid,
				   (struct sw_stamp){u->shipped, 0}) != SW_OK)
		printf("# parcel %s: %s\n", u->tn, sw_store_errmsg(st));
	if (u->ofd)
		mk_ofd(st, u);
	if (!u->first_scan)
		return;
	up.status = u->delivered ? SW_SHIP_DELIVERED : SW_SHIP_IN_TRANSIT;
	up.event_at.at = u->delivered ? u->delivered : u->first_scan;
	up.first_scan_at.at = u->first_scan;
	up.delivered_at.at = u->delivered;
	if (sw_store_parcel_set_status(st, u->courier, u->tn, &up) != SW_OK)
		printf("# status %s: %s\n", u->tn, sw_store_errmsg(st));
}

/* History: n parcels of wh to country/postal via courier, delivered; the
 * i-th (1..n) spent 2i h in the warehouse, i h in the first mile, 24 h
 * in line haul and 3 h in the last mile, all ending within 10 days. */
static void seed_lane(struct sw_store *st, const char *wh, const char *country, const char *postal,
		      const char *courier, int n)
{
	for (int i = 1; i <= n; i++) {
		char oid[64], tn[64];
		struct unit u = {wh, oid, country, postal, courier, tn, 0, 0, 0, 0, 0};

		snprintf(oid, sizeof(oid), "%s-%s-%s-%d", wh, country, courier, i);
		snprintf(tn, sizeof(tn), "TN-%s-%s-%d", country, courier, i);
		u.shipped = NOW - 10 * DAY + i * HOUR;
		u.created = u.shipped - 2 * i * HOUR;
		u.first_scan = u.shipped + i * HOUR;
		u.ofd = u.first_scan + 24 * HOUR;
		u.delivered = u.ofd + 3 * HOUR;
		mk_unit(st, &u);
	}
	/* outside the 28-day window: huge durations that must not count */
	for (int i = 1; i <= 5; i++) {
		char oid[64], tn[64];
		struct unit u = {wh, oid, country, postal, courier, tn, 0, 0, 0, 0, 0};

		snprintf(oid, sizeof(oid), "old-%s-%s-%d", country, courier, i);
		snprintf(tn, sizeof(tn), "OLD-%s-%s-%d", country, courier, i);
		u.shipped = NOW - 60 * DAY;
		u.created = u.shipped - 20 * DAY;
		u.first_scan = u.shipped + 20 * DAY;
		u.delivered = u.first_scan + 10 * DAY;
		mk_unit(st, &u);
	}
}

static const struct sw_leg_p90 *row(const struct sw_leg_p90 *r, size_t n, enum sw_leg leg,
				    const char *wh, const char *dest, const char *courier)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].leg == leg && !strcmp(r[i].warehouse_id ? r[i].warehouse_id : "", wh) &&
		    !strcmp(r[i].dest ? r[i].dest : "", dest) &&
		    !strcmp(r[i].courier ? r[i].courier : "", courier))
			return &r[i];
	return NULL;
}

static void test_dest(void)
{
	char b[SW_STAGE_DEST_MAX];

	sw_store_stage_dest("in", "560001", NULL, b, sizeof(b));
	is_str(b, "IN 560", "dest: country and postal prefix, upper-cased");
	sw_store_stage_dest("DE", "", "Berlin", b, sizeof(b));
	is_str(b, "DE berlin", "dest: city without a postal code");
	sw_store_stage_dest("fr",
			    "75\xc3\xa9"
			    "01",
			    NULL, b, sizeof(b));
	is_str(b, "FR 75\xc3\xa9", "dest: the prefix counts UTF-8 characters");
	sw_store_stage_dest(NULL, NULL, NULL, b, sizeof(b));
	is_str(b, "", "dest: nothing known");
	ok(strcmp(sw_leg_name(SW_LEG_LINE_HAUL), "line_haul") == 0 &&
	       strcmp(sw_leg_name(SW_LEG_LAST), "?") == 0,
	   "leg names");
}

static void test_p90(struct sw_store *st)
{
	struct sw_leg_p90 *r;
	size_t n;
	const struct sw_leg_p90 *x;
	struct sw_leg_marks m;

	is_int(sw_store_stage_p90(st, NOW - 28 * DAY, NOW, &r, &n), SW_OK, "p90 read");
	x = row(r, n, SW_LEG_FIRST_MILE, "W1", "IN 560", "dhl");
	ok(x && x->p90_s == 27 * HOUR && x->samples == 30, "first mile lane p90 27 h over 30");
	x = row(r, n, SW_LEG_WAREHOUSE, "W1", "IN 560", "");
	ok(x && x->p90_s == 54 * HOUR && x->samples == 30, "warehouse lane p90 54 h over 30");
	x = row(r, n, SW_LEG_LINE_HAUL, "W1", "IN 560", "dhl");
	ok(x && x->p90_s == 24 * HOUR && x->samples == 30, "line haul lane p90 24 h");
	x = row(r, n, SW_LEG_LAST_MILE, "W1", "IN 560", "dhl");
	ok(x && x->p90_s == 3 * HOUR && x->samples == 30, "last mile lane p90 3 h");
	x = row(r, n, SW_LEG_FIRST_MILE, "W1", "DE 101", "dhl");
	ok(x && x->samples == 3, "thin lane has its own row of 3");
	x = row(r, n, SW_LEG_FIRST_MILE, "", "", "dhl");
	ok(x && x->samples == 33 && x->p90_s == 27 * HOUR, "courier-wide first mile: 33, p90 27 h");
	x = row(r, n, SW_LEG_WAREHOUSE, "W1", "", "");
	ok(x && x->samples == 38, "warehouse-wide row counts every lane of W1");
	sw_store_stage_p90_free(r, n);
	is_int(sw_store_stage_p90(st, NOW, NOW - 1, &r, &n), SW_EINVAL, "a window backwards");
	is_int(sw_store_stage_marks(st, "dhl", "TN-IN-dhl-1", &m), SW_OK, "marks read");
	is_int(m.out_for_delivery_at, NOW - 10 * DAY + 2 * HOUR + 24 * HOUR,
	       "out for delivery mark");
	is_int(m.attempt_at, 0, "no attempt mark");
}

static void judge(struct sw_stage_table *t, struct sw_store *st, const struct unit *u,
		  struct sw_stage_verdict *v)
{
	struct sw_order *o = NULL;
	struct sw_parcel *p = NULL;

	mk_unit(st, u);
	if (sw_store_order_get(st, u->wh, u->oid, &o) != SW_OK)
		printf("# get order %s\n", u->oid);
	if (u->shipped && sw_store_parcel_get(st, u->courier, u->tn, &p) != SW_OK)
		printf("# get parcel %s\n", u->tn);
	if (sw_stage_judge_unit(t, st, o, p, NOW, v) != SW_OK)
		printf("# judge: %s\n", sw_store_errmsg(st));
	sw_store_order_free(o);
	sw_store_parcel_free(p);
}

static void test_choice(struct sw_store *st)
{
	struct sw_stage_table *t = sw_stage_new(), *empty = sw_stage_new();
	struct sw_stage_verdict v;
	char text[256];
	struct unit slow = {"W1", "slow", "IN", "560017", "dhl", "SLOW1", 0, 0, 0, 0, 0};
	struct unit thin = {"W1", "thin", "DE", "10115", "dhl", "THIN1", 0, 0, 0, 0, 0};
	struct unit ups = {"W1", "ups", "IN", "560017", "ups", "UPS1", 0, 0, 0, 0, 0};
	struct unit wh = {"W1", "wh", "IN", "560017", NULL, NULL, 0, 0, 0, 0, 0};

	is_int(sw_stage_refresh(t, st, NOW, 28, 20, false), SW_OK, "baselines read");
	ok(sw_stage_count(t) > 0, "baselines kept");
	/* first mile 3x the lane's p90, the warehouse on time */
	slow.created = NOW - 90 * HOUR;
	slow.shipped = NOW - 81 * HOUR;
	judge(t, st, &slow, &v);
	is_str(sw_stage_pick(&v, "courier"), "first_mile", "3x first mile: first_mile");
	ok(v.ratio > 2.99 && v.ratio < 3.01, "ratio 3.0 (%.3f)", v.ratio);
	ok(v.leg[SW_LEG_FIRST_MILE].running, "first mile still running");
	is_str(v.leg[SW_LEG_FIRST_MILE].scope, "lane", "the lane's own p90");
	ok(v.leg[SW_LEG_WAREHOUSE].ratio < 1, "warehouse leg within its p90");
	sw_stage_describe(&v, text, sizeof(text));
	ok(strstr(text, "first_mile ran over: 3.0x") && strstr(text, "W1 -> IN 560 via dhl"),
	   "describe: %s", text);
	/* a thin lane falls back to the courier's p90 */
	thin.created = NOW - 30 * HOUR;
	thin.shipped = NOW - 28 * HOUR;
	thin.first_scan = NOW - 2 * HOUR;
	judge(t, st, &thin, &v);
	is_str(v.leg[SW_LEG_FIRST_MILE].scope, "courier", "thin lane: the courier's p90");
	is_int(v.leg[SW_LEG_FIRST_MILE].samples, 33, "... over the courier's 33");
	is_str(sw_stage_pick(&v, "courier"), "courier", "26 h < 27 h: nothing ran over");
	/* a courier too thin everywhere: no baseline, the static stage */
	ups.created = NOW - 3 * HOUR;
	ups.shipped = NOW - 2 * HOUR;
	ups.first_scan = 0;
	judge(t, st, &ups, &v);
	ok(v.leg[SW_LEG_FIRST_MILE].scope == NULL, "thin courier: no first mile baseline");
	is_str(sw_stage_pick(&v, "courier"), "courier", "no baseline: static stage");
	/* an order still in the warehouse 3x its lane's p90 */
	wh.created = NOW - 162 * HOUR;
	judge(t, st, &wh, &v);
	is_str(sw_stage_pick(&v, "warehouse"), "warehouse", "order 3x in the warehouse");
	ok(v.over == SW_LEG_WAREHOUSE && v.ratio > 2.99 && v.ratio < 3.01, "ratio 3.0");
	/* no history at all */
	judge(empty, st, &slow, &v);
	is_str(sw_stage_pick(&v, "courier"), "courier", "no history: static stage");
	sw_stage_describe(&v, text, sizeof(text));
	ok(strstr(text, "no baseline") != NULL, "describe without baseline: %s", text);
	is_int(sw_stage_refresh(t, st, NOW, 0, 20, false), SW_EINVAL, "0 days refused");
	sw_stage_free(t);
	sw_stage_free(empty);
}

/* Past the last mile: out for delivery, then a failed attempt. */
static void test_last_mile(struct sw_store *st)
{
	struct sw_stage_table *t = sw_stage_new();
	struct sw_stage_verdict v;
	struct unit u = {"W1", "lm", "IN", "560001", "dhl", "LM1", 0, 0, 0, 0, 0};
	struct sw_parcel_update up = {0};

	sw_stage_refresh(t, st, NOW, 28, 20, true);
	u.created = NOW - 3 * DAY;
	u.shipped = NOW - 3 * DAY + HOUR;
	u.first_scan = NOW - 3 * DAY + 2 * HOUR;
	u.ofd = NOW - 12 * HOUR;
	mk_unit(st, &u);
	up.status = SW_SHIP_OUT_FOR_DELIVERY;
	up.event_at.at = u.ofd;
	sw_store_parcel_set_status(st, "dhl", "LM1", &up);
	judge(t, st, &u, &v);
	is_str(sw_stage_pick(&v, "courier"), "last_mile",
	       "12 h out for delivery vs 3 h: last_mile");
	ok(v.leg[SW_LEG_LINE_HAUL].ratio > 2.4 && !v.leg[SW_LEG_LINE_HAUL].running,
	   "line haul ended at out for delivery (%.2f)", v.leg[SW_LEG_LINE_HAUL].ratio);
	sw_stage_free(t);
}

/* One wording of a stage for people, one listing form for the CLI. */
static void test_words(void)
{
	char buf[64];

	is_str(sw_stage_words("line_haul"), "line haul", "line_haul in words");
	is_str(sw_stage_words("first_mile"), "first mile", "first_mile in words");
	is_str(sw_stage_words("last_mile"), "last mile", "last_mile in words");
	is_str(sw_stage_words("warehouse"), "warehouse", "warehouse as itself");
	is_str(sw_stage_words("courier"), "courier", "a static stage as itself");
	is_str(sw_stage_words("hub_x"), "hub_x", "an unknown name unchanged");
	ok(sw_stage_words(NULL) == NULL && sw_stage_words("") == NULL, "none: NULL");
	for (int k = 0; k < SW_LEG_LAST; k++)
		ok(!strchr(sw_stage_words(sw_leg_name((enum sw_leg)k)), '_'),
		   "every leg has words (%s)", sw_leg_name((enum sw_leg)k));
	sw_stage_with_ratio("line_haul", 2.4, buf, sizeof(buf));
	is_str(buf, "line_haul 2.4x p90", "a listing: the stage and its ratio");
	sw_stage_with_ratio("warehouse", 0, buf, sizeof(buf));
	is_str(buf, "warehouse", "no ratio: the stage alone");
	sw_stage_with_ratio(NULL, 3, buf, sizeof(buf));
	is_str(buf, "", "no stage: empty");
}

int main(void)
{
	struct sw_store *st = store_tmp_open();

	if (!st)
		return store_tmp_done(NULL);
	test_dest();
	test_words();
	seed_lane(st, "W1", "IN", "560001", "dhl", 30);
	seed_lane(st, "W1", "DE", "10115", "dhl", 3);
	seed_lane(st, "W1", "IN", "400002", "ups", 5);
	test_p90(st);
	test_choice(st);
	test_last_mile(st);
	return store_tmp_done(st);
}
