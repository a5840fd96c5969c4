/*
 * test_alerts.c - the alert engine's pure parts: deadline queue (against
 * a brute-force model), slip evaluation per kind, rules and quiet hours.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alerts/dueq.h"
#include "alerts/notice.h"
#include "alerts/eval.h"
#include "alerts/rules.h"
#include "lib/conf.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tap.h"

/* ---- dueq ------------------------------------------------------------------ */

#define NKEYS 600

static void test_dueq_basic(void)
{
	struct sw_dueq *q = sw_dueq_new();
	int64_t key;

	ok(sw_dueq_next(q) == 0, "empty queue: no next");
	ok(!sw_dueq_pop(q, 1000, &key), "empty queue: nothing to pop");
	sw_dueq_set(q, 5, 100);
	sw_dueq_set(q, -7, 50);
	sw_dueq_set(q, 9, 200);
	is_int(sw_dueq_next(q), 50, "earliest first");
	sw_dueq_set(q, -7, 300); /* moved later */
	is_int(sw_dueq_next(q), 100, "a moved deadline is not the earliest any more");
	is_int(sw_dueq_get(q, -7), 300, "get gives the current deadline");
	ok(!sw_dueq_pop(q, 99, &key), "nothing due before 100");
	ok(sw_dueq_pop(q, 100, &key) && key == 5, "pop the due key");
	is_int(sw_dueq_get(q, 5), 0, "popped key is gone");
	sw_dueq_set(q, 9, 0);
	is_int(sw_dueq_len(q), 1, "removed key no longer counted");
	ok(sw_dueq_pop(q, 1000, &key) && key == -7, "stale heap entries skipped");
	ok(!sw_dueq_pop(q, 1000, &key), "queue drained");
	sw_dueq_free(q);
}

/* Random operations against an array model; every pop must match. */
static void test_dueq_model(void)
{
	static int64_t model[NKEYS];
	struct sw_dueq *q = sw_dueq_new();
	int mismatches = 0, pops = 0;
	int64_t now = 0;

	srand(42);
	for (int step = 0; step < 200000; step++) {
		int k = rand() % NKEYS, op = rand() % 10;
		int64_t key = k % 2 ? k + 1 : -(k + 1);

		if (op < 6) {
			int64_t due = rand() % 5 ? now + 1 + rand() % 1000 : 0;

			sw_dueq_set(q, key, due);
			model[k] = due;
		} else if (op < 9) {
			int64_t got;

			now += rand() % 50;
			while (sw_dueq_pop(q, now, &got)) {
				int gk = got > 0 ? (int)got - 1 : (int)-got - 1;

				pops++;
				if (gk < 0 || gk >= NKEYS || model[gk] == 0 || model[gk] > now)
					mismatches++;
				else
					model[gk] = 0;
			}
			for (int i = 0; i < NKEYS; i++)
				if (model[i] && model[i] <= now)
					mismatches++;
		} else {
			if (sw_dueq_get(q, key) != model[k])
				mismatches++;
		}
	}
	size_t live = 0;
	for (int i = 0; i < NKEYS; i++)
		live += model[i] != 0;
	is_int(mismatches, 0, "200000 random operations agree with the model");
	ok(pops > 1000, "the model run popped keys (%d)", pops);
	is_int(sw_dueq_len(q), live, "live key count agrees");
	ok(sw_dueq_bytes(q) < 200000, "stale entries are compacted (%zu bytes)", sw_dueq_bytes(q));
	sw_dueq_free(q);
}

/* ---- eval ------------------------------------------------------------------ */

#define H 3600
#define T0 1795000000 /* 2026-11-18T... UTC */

static struct sw_rule rule;

static void rule_defaults(void)
{
	memset(&rule, 0, sizeof(rule));
	rule.after_ms[SW_SLIP_NO_FIRST_SCAN] = 24 * H * 1000LL;
	rule.after_ms[SW_SLIP_STALLED] = 48 * H * 1000LL;
}

static struct sw_order order_at(int64_t ship_by, int64_t deliver_by)
{
	struct sw_order o = { 0 };

	o.id = 11;
	o.warehouse_id = "blr1";
	o.order_id = "A-1";
	o.promised_ship_by.at = ship_by;
	if (deliver_by) {
		o.promised_delivery_by.kind = SW_PROMISE_INSTANT;
		o.promised_delivery_by.text = "2026-11-20T18:00:00+05:30";
		o.promised_delivery_by.at.at = deliver_by;
	}
	o.stage[SW_STAGE_CREATED].at = T0 - 10 * H;
	return o;
}

static struct sw_parcel parcel_at(int64_t shipped, enum sw_ship_status st, int64_t last_event)
{
	struct sw_parcel p = { 0 };

	p.id = 21;
	p.courier = "dhl";
	p.tracking_number = "JD1";
	p.shipped_at.at = shipped;
	p.status = st;
	p.last_event_at.at = last_event;
	if (st != SW_SHIP_PENDING)
		p.first_scan_at.at = shipped + H;
	return p;
}

/* polled_ok_at of the next run: -1 = "just now" */
static int64_t polled_at = -1;
/* the parcel of the next run has a poll schedule */
static bool polled = false;

static struct sw_eval_out run(const struct sw_order *o, const struct sw_parcel *p, int64_t now,
			      int64_t feed_ok)
{
	struct sw_eval_in in = { .order = o,
				 .parcel = p,
				 .rule = &rule,
				 .zone = "Asia/Kolkata",
				 .now = now,
				 .feed_ok_at = feed_ok,
				 .feed_window = 2 * H,
				 .polled_ok_at = polled_at < 0 ? now - 1 : polled_at,
				 .polled = polled };
	struct sw_eval_out out;

	sw_eval(&in, &out);
	return out;
}

static bool has(const struct sw_eval_out *out, enum sw_slip k, const char *stage)
{
	for (int i = 0; i < out->n; i++)
		if (out->slips[i].kind == k && (!stage || strcmp(out->slips[i].stage, stage) == 0))
			return true;
	return false;
}

static void test_eval_order(void)
{
	struct sw_order o = order_at(T0, T0 + 48 * H);
	struct sw_eval_out out;

	rule_defaults();
	out = run(&o, NULL, T0 - H, 0);
	is_int(out.n, 0, "order before ship-by: no slip");
	is_int(out.next_due, T0, "order: next deadline is the ship-by");
	out = run(&o, NULL, T0, 0);
	ok(has(&out, SW_SLIP_SHIP_LATE, "warehouse"), "ship_late at the ship-by, stage warehouse");
	ok(strncmp(out.slips[0].promise, "ship_by:", 8) == 0, "ship_late keyed by the ship-by");
	is_int(out.next_due, T0 + 48 * H, "then waits for the delivery promise");
	rule.after_ms[SW_SLIP_SHIP_LATE] = 2 * H * 1000;
	out = run(&o, NULL, T0 + H, 0);
	is_int(out.n, 0, "a 2 h grace delays ship_late");
	rule.off[SW_SLIP_SHIP_LATE] = true;
	out = run(&o, NULL, T0 + 3 * H, 0);
	is_int(out.n, 0, "ship_late off: nothing");
	rule_defaults();
	out = run(&o, NULL, T0 + 49 * H, 0);
	ok(has(&out, SW_SLIP_LATE, "warehouse"), "late while still in the warehouse");
	is_str(out.slips[1].promise, "delivery:2026-11-20T18:00:00+05:30",
	       "late keyed by the delivery promise as written");
	o.stage[SW_STAGE_CANCELLED].at = T0 - H;
	out = run(&o, NULL, T0 + 49 * H, 0);
	ok(out.closed && out.n == 0, "cancelled order: closed, nothing");
}

static void test_eval_parcel(void)
{
	struct sw_order o = order_at(T0, T0 + 72 * H);
	struct sw_parcel p = parcel_at(T0 - H, SW_SHIP_PENDING, 0);
	struct sw_eval_out out;

	rule_defaults();
	out = run(&o, &p, T0, 0);
	is_int(out.n, 0, "shipped on time, no scan yet: nothing");
	is_int(out.next_due, T0 - H + 24 * H, "waits for the no_first_scan threshold");
	out = run(&o, &p, T0 + 24 * H, 0);
	ok(has(&out, SW_SLIP_NO_FIRST_SCAN, "courier"), "no_first_scan after 24 h");
	polled_at = T0 + 20 * H;
	out = run(&o, &p, T0 + 24 * H, 0);
	ok(!has(&out, SW_SLIP_NO_FIRST_SCAN, NULL), "no_first_scan: not polled since the deadline");
	is_int(out.next_due, T0 + 24 * H + SW_EVAL_RECHECK, "no_first_scan: re-checked later");
	polled_at = 0;
	out = run(&o, &p, T0 + 30 * H, 0);
	ok(!has(&out, SW_SLIP_NO_FIRST_SCAN, NULL), "no_first_scan: never polled, never judged");
	polled_at = -1;

	p = parcel_at(T0 - H, SW_SHIP_IN_TRANSIT, T0);
	out = run(&o, &p, T0 + 47 * H, T0 + 47 * H);
	is_int(out.n, 0, "in transit 47 h since the last event: nothing");
	is_int(out.next_due, T0 + 48 * H, "waits for the stalled threshold");
	out = run(&o, &p, T0 + 49 * H, T0 + 49 * H - 60);
	ok(has(&out, SW_SLIP_STALLED, "courier"), "stalled with a healthy feed");
	out = run(&o, &p, T0 + 49 * H, T0 + 40 * H);
	ok(!has(&out, SW_SLIP_STALLED, NULL), "silent feed: not stalled");
	is_int(out.next_due, T0 + 49 * H + SW_EVAL_RECHECK, "silent feed: re-checked later");
	out = run(&o, &p, T0 + 49 * H, 0);
	ok(!has(&out, SW_SLIP_STALLED, NULL), "feed never answered: not stalled");
	polled_at = T0 + 47 * H;
	out = run(&o, &p, T0 + 49 * H, T0 + 49 * H - 60);
	ok(!has(&out, SW_SLIP_STALLED, NULL), "parcel not polled since the deadline: not stalled");
	polled_at = -1;

	static const struct {
		enum sw_ship_status st;
		enum sw_slip kind;
	} status_kinds[] = {
		{ SW_SHIP_ATTEMPT_FAIL, SW_SLIP_ATTEMPT_FAIL },
		{ SW_SHIP_EXCEPTION, SW_SLIP_EXCEPTION },
		{ SW_SHIP_RETURNING, SW_SLIP_RETURNING },
		{ SW_SHIP_AVAILABLE_FOR_PICKUP, SW_SLIP_AVAILABLE_FOR_PICKUP },
	};
	for (size_t i = 0; i < sizeof(status_kinds) / sizeof(status_kinds[0]); i++) {
		p = parcel_at(T0 - H, status_kinds[i].st, T0 + H);
		out = run(&o, &p, T0 + 2 * H, T0 + 2 * H);
		ok(out.n == 1 && has(&out, status_kinds[i].kind, "courier"), "status %s -> %s",
		   sw_store_ship_status_name(status_kinds[i].st),
		   sw_slip_name(status_kinds[i].kind));
	}
	rule.after_ms[SW_SLIP_EXCEPTION] = 6 * H * 1000LL;
	p = parcel_at(T0 - H, SW_SHIP_EXCEPTION, T0 + H);
	out = run(&o, &p, T0 + 2 * H, T0 + 2 * H);
	ok(out.n == 0 && out.next_due == T0 + 7 * H, "exception with a 6 h threshold waits");
	rule_defaults();

	/* promise 2026-11-21T... ; eta dates in Asia/Kolkata */
	p = parcel_at(T0 - H, SW_SHIP_IN_TRANSIT, T0);
	{
		struct sw_order od = o;
		struct sw_date dd = { 2026, 11, 25 };
		int64_t end;

		od.promised_delivery_by.kind = SW_PROMISE_DATE;
		od.promised_delivery_by.text = "2026-11-25";
		sw_date_end_of_day("Asia/Kolkata", &dd, &end);
		od.promised_delivery_by.at.at = end;
		p.eta_date = "2026-11-25";
		out = run(&od, &p, T0 + H, T0 + H);
		ok(!has(&out, SW_SLIP_ETA_SLIP, NULL), "ETA on the promised day: no eta_slip");
		p.eta_date = "2026-11-26";
		out = run(&od, &p, T0 + H, T0 + H);
		ok(has(&out, SW_SLIP_ETA_SLIP, "courier"), "ETA the day after: eta_slip");
		is_str(out.slips[0].promise, "delivery:2026-11-25", "eta_slip keyed by the promise");
		rule.after_ms[SW_SLIP_ETA_SLIP] = 24 * H * 1000LL;
		out = run(&od, &p, T0 + H, T0 + H);
		ok(!has(&out, SW_SLIP_ETA_SLIP, NULL), "one day of ETA grace: no eta_slip");
		rule_defaults();
	}

	p = parcel_at(T0 - H, SW_SHIP_IN_TRANSIT, T0 + 70 * H);
	out = run(&o, &p, T0 + 72 * H, T0 + 72 * H);
	ok(has(&out, SW_SLIP_LATE, "courier"), "late after the promise, shipped on time: courier");
	p = parcel_at(T0 + 5 * H, SW_SHIP_IN_TRANSIT, T0 + 70 * H);
	out = run(&o, &p, T0 + 72 * H, T0 + 72 * H);
	ok(has(&out, SW_SLIP_LATE, "warehouse"), "late, shipped after the ship-by: warehouse");

	/* late of a polled parcel waits for the courier's word after the
	 * promise: an API down across it cannot make a parcel late */
	polled = true;
	polled_at = T0 + 71 * H; /* the last answer came before the promise */
	p = parcel_at(T0 - H, SW_SHIP_IN_TRANSIT, T0 + 70 * H);
	out = run(&o, &p, T0 + 90 * H, T0 + 90 * H);
	ok(!has(&out, SW_SLIP_LATE, NULL), "polled, no answer since the promise: no late yet");
	is_int(out.next_due, T0 + 90 * H + SW_EVAL_RECHECK, "late re-checked later");
	polled_at = T0 + 89 * H; /* answered (found or not found) after it */
	out = run(&o, &p, T0 + 90 * H, T0 + 90 * H);
	ok(has(&out, SW_SLIP_LATE, "courier"), "polled, answered after the promise: late");
	polled_at = -1;
	polled = false;

	p = parcel_at(T0 - H, SW_SHIP_DELIVERED, T0 + 80 * H);
	p.terminal = 1;
	out = run(&o, &p, T0 + 90 * H, T0 + 90 * H);
	ok(out.closed && out.n == 0 && out.next_due == 0, "delivered: closed, nothing");

	p = parcel_at(T0 - H, SW_SHIP_EXCEPTION, T0);
	out = run(NULL, &p, T0 + 49 * H, T0 + 49 * H);
	ok(out.n == 0 && !out.closed && out.next_due == 0,
	   "a parcel whose order is not known yet is not judged (waits for the order)");
	{
		struct sw_order stub = { 0 };

		stub.warehouse_id = "blr1";
		stub.order_id = "A-2";
		out = run(&stub, &p, T0 + 49 * H, T0 + 49 * H);
		ok(out.n == 0, "an order stub without promises: not judged either");
	}
}

/* ---- rules ---------------------------------------------------------------- */

static enum sw_err load_rules(const char *text, struct sw_alerts_conf *c, struct sw_rules *r,
			      char *err, size_t len)
{
	struct sw_conf *conf;
	enum sw_err rc;

	if ((rc = sw_conf_load_string(text, "t.conf", &conf, err, len)))
		return rc;
	rc = sw_rules_load(conf, c, r, err, len);
	sw_conf_free(conf);
	return rc;
}

#define BASE "[alerts]\nemail = yes\nshop_name = Shop\nunsubscribe_url = https://s.example/u?e={email}\n"

static void test_rules(void)
{
	struct sw_alerts_conf c;
	struct sw_rules r;
	const struct sw_rule *p;
	char err[512];
	enum sw_err rc;

	rc = load_rules(BASE, &c, &r, err, sizeof(err));
	is_int(rc, SW_OK, "defaults load");
	if (rc)
		printf("# %s\n", err);
	p = sw_rules_pick(&r, "blr1", "dhl", "express");
	is_str(p->name, "(built-in)", "no rules: the built-in default");
	is_int(p->after_ms[SW_SLIP_STALLED], 48 * H * 1000LL, "built-in stalled 48 h");
	ok(c.has_quiet && c.quiet_start_min == 21 * 60 && c.quiet_end_min == 8 * 60,
	   "quiet hours default 21:00-08:00");
	ok(c.is_urgent[SW_SLIP_ATTEMPT_FAIL] && c.is_urgent[SW_SLIP_AVAILABLE_FOR_PICKUP] &&
		   !c.is_urgent[SW_SLIP_LATE],
	   "urgent default: attempt_fail, available_for_pickup");
	sw_alerts_conf_free(&c);
	sw_rules_free(&r);

	rc = load_rules(BASE "[rule std]\nstalled = 36h\nlate = 2h\n"
			     "[rule dhl]\ncourier = dhl\nstalled = 24h\noff = eta_slip\n"
			     "[rule blr]\nwarehouse = blr1\nship_late = 30m\n"
			     "[rule express]\nservice_level = express\nlate = 0s\n"
			     "[rule dhl-express]\ncourier = dhl\nservice_level = express\n"
			     "stalled = 12h\n",
			&c, &r, err, sizeof(err));
	is_int(rc, SW_OK, "rules load");
	if (rc)
		printf("# %s\n", err);
	p = sw_rules_pick(&r, "del1", "ups", "standard");
	is_str(p->name, "std", "no match: the default rule");
	is_int(p->after_ms[SW_SLIP_STALLED], 36 * H * 1000LL, "default rule's own stalled");
	is_int(p->after_ms[SW_SLIP_NO_FIRST_SCAN], 24 * H * 1000LL,
	       "unset in the default rule: built-in");
	p = sw_rules_pick(&r, "del1", "dhl", "standard");
	is_str(p->name, "dhl", "courier rule");
	is_int(p->after_ms[SW_SLIP_LATE], 2 * H * 1000LL, "unset key inherits the default rule's");
	ok(p->off[SW_SLIP_ETA_SLIP] && !p->off[SW_SLIP_LATE], "off list");
	p = sw_rules_pick(&r, "blr1", "dhl", "standard");
	is_str(p->name, "dhl", "courier beats warehouse at one key each");
	p = sw_rules_pick(&r, "blr1", "ups", "express");
	is_str(p->name, "express", "service level beats warehouse");
	p = sw_rules_pick(&r, "blr1", "dhl", "express");
	is_str(p->name, "dhl-express", "two keys beat one");
	is_int(p->after_ms[SW_SLIP_STALLED], 12 * H * 1000LL, "most specific threshold");
	p = sw_rules_pick(&r, NULL, NULL, NULL);
	is_str(p->name, "std", "unknown keys match only the default");
	is_int(p->settle_ms[SW_SLIP_LATE], 5 * 60 * 1000LL, "settle: 5 minutes by default");
	ok(c.has_followup[SW_SLIP_SHIP_LATE] && c.has_followup[SW_SLIP_LATE] &&
		   !c.has_followup[SW_SLIP_RETURNING],
	   "follow-ups by default for ship_late and late, not returning");
	is_str(c.channel, "email", "customers are emailed by default");
	sw_alerts_conf_free(&c);
	sw_rules_free(&r);

	rc = load_rules(BASE "settle = 2m\nfollowup = late\n"
			     "[rule std]\nsettle_available_for_pickup = 0s\n"
			     "[rule dhl]\ncourier = dhl\nsettle_late = 20m\n",
			&c, &r, err, sizeof(err));
	is_int(rc, SW_OK, "settle keys load");
	p = sw_rules_pick(&r, NULL, NULL, NULL);
	is_int(p->settle_ms[SW_SLIP_STALLED], 2 * 60 * 1000LL, "[alerts] settle is every kind's");
	is_int(p->settle_ms[SW_SLIP_AVAILABLE_FOR_PICKUP], 0, "per kind in the default rule");
	p = sw_rules_pick(&r, NULL, "dhl", NULL);
	is_int(p->settle_ms[SW_SLIP_LATE], 20 * 60 * 1000LL, "per kind in a specific rule");
	is_int(p->settle_ms[SW_SLIP_AVAILABLE_FOR_PICKUP], 0, "inherited from the default rule");
	ok(c.has_followup[SW_SLIP_LATE] && !c.has_followup[SW_SLIP_SHIP_LATE], "followup list");
	sw_alerts_conf_free(&c);
	sw_rules_free(&r);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{ BASE "[rule a]\nstalled = 5 fortnights\n", "t.conf:6" },
		{ BASE "[rule a]\noff = late,lost\n", "'lost' is not a slip kind" },
		{ BASE "[rule a]\ncourier = dhl\n[rule b]\ncourier = dhl\n",
		  "matches exactly what [rule a]" },
		{ BASE "[rule a]\nlate = 1h\n[rule b]\nstalled = 1h\n", "a second default rule" },
		{ BASE "quiet_hours = 9pm-8am\n", "quiet_hours" },
		{ BASE "quiet_hours = 08:00-08:00\n", "quiet_hours" },
		{ BASE "urgent = late,soon\n", "'soon' is not a slip kind" },
		{ BASE "followup = late,gone\n", "'gone' is not a slip kind" },
		{ BASE "channel = sms\n", "'sms' is not a customer channel" },
		{ BASE "settle = soon\n", "settle" },
		{ BASE "[rule a]\nsettle_late = -1s\n", "settle_late" },
		{ BASE "default_timezone = Mars/Olympus\n", "not an IANA zone" },
		{ "[alerts]\nemail = yes\nshop_name = S\n", "unsubscribe_url: required" },
		{ "[alerts]\nemail = yes\nunsubscribe_url = https://x/{email}\n", "shop_name: required" },
		{ BASE "tracking_url = javascript:alert(1)\n", "not an http(s) URL" },
		{ BASE "[rule a]\nstalled_for = 1h\n", "unknown key" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = load_rules(bad[i].text, &c, &r, err, sizeof(err));
		ok(rc == SW_ECONF && strstr(err, bad[i].want), "bad config %zu: %s", i, bad[i].want);
		if (rc != SW_ECONF || !strstr(err, bad[i].want))
			printf("#   got: %s\n", rc ? err : "(loaded)");
		if (rc == SW_OK) {
			sw_alerts_conf_free(&c);
			sw_rules_free(&r);
		}
	}
	rc = load_rules("[alerts]\nemail = no\n", &c, &r, err, sizeof(err));
	is_int(rc, SW_OK, "email = no needs no shop name or unsubscribe URL");
	if (rc == SW_OK) {
		sw_alerts_conf_free(&c);
		sw_rules_free(&r);
	}
}

static void test_quiet(void)
{
	struct sw_alerts_conf c;
	struct sw_rules r;
	char err[512];
	int64_t until, t;
	bool zok;

	if (load_rules(BASE, &c, &r, err, sizeof(err)) != SW_OK) {
		ok(0, "quiet: config loads: %s", err);
		return;
	}
	/* 2026-11-24 22:30 IST = 17:00 UTC */
	sw_tz_local_to_utc("Asia/Kolkata", 2026, 11, 24, 22, 30, 0, 0, &t, NULL);
	sw_rules_quiet_until(&c, "Asia/Kolkata", t, &until, &zok);
	is_int(until - t, 9 * H + 30 * 60, "22:30 IST -> deferred to 08:00 IST");
	ok(zok, "zone loaded");
	sw_tz_local_to_utc("Asia/Kolkata", 2026, 11, 25, 7, 59, 10, 0, &t, NULL);
	sw_rules_quiet_until(&c, "Asia/Kolkata", t, &until, NULL);
	is_int(until - t, 50, "07:59:10 -> 50 s to 08:00");
	sw_tz_local_to_utc("Asia/Kolkata", 2026, 11, 25, 8, 0, 0, 0, &t, NULL);
	sw_rules_quiet_until(&c, "Asia/Kolkata", t, &until, NULL);
	is_int(until, t, "08:00 is not quiet");
	sw_tz_local_to_utc("America/New_York", 2026, 11, 24, 12, 0, 0, 0, &t, NULL);
	sw_rules_quiet_until(&c, "Asia/Kolkata", t, &until, NULL);
	ok(until > t, "noon in New York is 22:30 in Kolkata: quiet there");
	sw_rules_quiet_until(&c, "America/New_York", t, &until, NULL);
	is_int(until, t, "noon in New York: not quiet");
	sw_rules_quiet_until(&c, "Nowhere/Else", t, &until, &zok);
	ok(!zok, "unknown zone reported (UTC used)");
	free(c.quiet_hours);
	c.quiet_hours = xstrdup("01:00-05:00");
	c.has_quiet = true;
	c.quiet_start_min = 60;
	c.quiet_end_min = 300;
	sw_tz_local_to_utc("UTC", 2026, 11, 24, 3, 0, 0, 0, &t, NULL);
	sw_rules_quiet_until(&c, "UTC", t, &until, NULL);
	is_int(until - t, 2 * H, "same-day window 01-05: 03:00 -> 05:00");
	sw_alerts_conf_free(&c);
	sw_rules_free(&r);
}

/* ---- one message per order: which row leads ------------------------------- */

static void test_notice_rank(void)
{
	static const char *const kinds[] = { "ship_late", "eta_slip", "late", "stalled",
					     "returning", "no_first_scan", "exception",
					     "available_for_pickup", "attempt_fail" };
	static const char *const want[] = { "returning", "exception", "attempt_fail",
					    "available_for_pickup", "late", "stalled",
					    "no_first_scan", "eta_slip", "ship_late" };
	struct sw_outbox_msg rows[9] = { { 0 } };
	struct sw_notice_part parts[9] = { { 0 } };
	struct sw_outbox_msg fu = { 0 };
	struct sw_notice_part f = { 0 };
	bool in_order = true;

	for (int i = 0; i < 9; i++) {
		rows[i].id = i + 1;
		rows[i].slip_kind = kinds[i];
		parts[i].row = &rows[i];
	}
	sw_notice_sort(parts, 9);
	for (int i = 0; i < 9; i++)
		in_order &= strcmp(parts[i].row->slip_kind, want[i]) == 0;
	ok(in_order, "rows lead in the documented order of seriousness");
	fu.slip_kind = "resolved_late";
	f.row = &fu;
	snprintf(f.chk.news, sizeof(f.chk.news), "delivered");
	ok(sw_notice_rank(&f) > sw_notice_rank(&parts[8]), "a follow-up ranks after every slip");
	{
		enum sw_tpl_kind k;

		ok(sw_notice_tpl_kind(&f, &k) == SW_OK && k == SW_TPL_DELIVERED,
		   "a follow-up's template is its news");
	}
}

int main(void)
{
	test_dueq_basic();
	test_dueq_model();
	test_eval_order();
	test_eval_parcel();
	test_rules();
	test_quiet();
	test_notice_rank();
	return tap_done();
}
