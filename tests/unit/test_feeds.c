/*
 * test_feeds.c - feeds as dependencies (alerts/feeds.h): a rule's
 * working hours and the [alerts] feed settings as rules.c reads them
 * (errors naming FILE:LINE), working-time silence (all day, a day shift,
 * a night shift across midnight, another zone), and the courier and
 * warehouse judgments on a real store in a private temp dir (or on
 * PostgreSQL: tests/store_tmp.h), settling after a warehouse resumes
 * included.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/feeds.h"
#include "alerts/rules.h"
#include "lib/conf.h"
#include "lib/store.h"
#include "lib/store_feeds.h"
#include "lib/store_probes.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "store_tmp.h"
#include "tap.h"

#define H 3600
#define BASE "[alerts]\nemail = yes\nshop_name = Shop\nunsubscribe_url = https://s.example/u?e={email}\n"

static enum sw_err load(const char *text, struct sw_alerts_conf *c, struct sw_rules *r,
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

/* A UTC instant of a local wall clock. */
static int64_t at(const char *zone, int d, int h, int m)
{
	int64_t t = 0;

	sw_tz_local_to_utc(zone, 2027, 1, d, h, m, 0, 0, &t, NULL);
	return t;
}

static void test_conf(void)
{
	struct sw_alerts_conf c;
	struct sw_rules r;
	const struct sw_wh_hours *h;
	char err[512];

	is_int(load(BASE, &c, &r, err, sizeof(err)), SW_OK, "defaults load");
	is_int(c.warehouse_feed_window_ms, 30 * 60 * 1000, "warehouse_feed_window 30m");
	is_int(c.warehouse_feed_settle_ms, 5 * 60 * 1000, "warehouse_feed_settle 5m");
	ok(c.feed_error_rate == 50.0, "feed_error_rate 50 %%");
	h = sw_rules_warehouse(&r, "w1");
	ok(h->all_day && h->timezone == NULL, "no rules: all day, default_timezone");
	sw_alerts_conf_free(&c);
	sw_rules_free(&r);

	is_int(load(BASE "[rule std]\nworking_hours = 07:00-19:00\n"
			 "[rule w1]\nwarehouse = w1\nworking_hours = 08:00-20:00\n"
			 "working_timezone = Europe/Berlin\n"
			 "[rule w1-dhl]\nwarehouse = w1\ncourier = dhl\nworking_hours = 01:00-02:00\n"
			 "[rule night]\nwarehouse = night\nworking_hours = 22:00-06:00\n",
		    &c, &r, err, sizeof(err)),
	       SW_OK, "rules with working hours load");
	h = sw_rules_warehouse(&r, "w1");
	ok(!h->all_day && h->start_min == 8 * 60 && h->end_min == 20 * 60 && h->timezone &&
		   strcmp(h->timezone, "Europe/Berlin") == 0,
	   "w1: its own rule, 08:00-20:00 Europe/Berlin (not the w1-dhl rule's)");
	h = sw_rules_warehouse(&r, "night");
	ok(h->start_min == 22 * 60 && h->end_min == 6 * 60 && h->timezone == NULL,
	   "night: 22:00-06:00 in default_timezone");
	h = sw_rules_warehouse(&r, "other");
	ok(!h->all_day && h->start_min == 7 * 60 && h->end_min == 19 * 60,
	   "other: the default rule's hours");
	sw_alerts_conf_free(&c);
	sw_rules_free(&r);

	is_int(load(BASE "[rule w1]\nwarehouse = w1\nworking_hours = 8-20\n", &c, &r, err,
		    sizeof(err)),
	       SW_ECONF, "malformed working hours refused");
	ok(strstr(err, "t.conf:7: [rule w1] working_hours: '8-20'") != NULL, "  %s", err);
	is_int(load(BASE "[rule w1]\nwarehouse = w1\nworking_timezone = Mars/Olympus\n", &c, &r,
		    err, sizeof(err)),
	       SW_ECONF, "unknown zone refused");
	ok(strstr(err, "t.conf:7: [rule w1] working_timezone: 'Mars/Olympus'") != NULL, "  %s",
	   err);
	is_int(load(BASE "[rule d]\nworking_hours = 09:00-09:00\n", &c, &r, err, sizeof(err)),
	       SW_ECONF, "working hours of no length refused");
	is_int(load(BASE "feed_error_rate = 120\n", &c, &r, err, sizeof(err)), SW_ECONF,
	       "feed_error_rate over 100 refused");
	is_int(load(BASE "warehouse_feed_settle = 2h\n", &c, &r, err, sizeof(err)), SW_ECONF,
	       "warehouse_feed_settle over 1h refused");
	ok(strstr(err, "t.conf:5") != NULL && strstr(err, "warehouse_feed_settle") != NULL, "  %s",
	   err);
}

static void test_silence(void)
{
	struct sw_wh_hours day = { "Europe/Berlin", false, 8 * 60, 20 * 60 };
	struct sw_wh_hours night = { NULL, false, 22 * 60, 6 * 60 };
	struct sw_wh_hours all = { NULL, true, 0, 0 };
	const char *B = "Europe/Berlin";

	is_int(sw_feeds_working_silence(&all, "UTC", at("UTC", 5, 3, 0), at("UTC", 5, 4, 0)), H,
	       "all day: an hour of silence at 04:00 is an hour");
	is_int(sw_feeds_working_silence(&day, "UTC", at(B, 5, 10, 0), at(B, 5, 10, 45)), 45 * 60,
	       "day shift: silent 10:00-10:45 Berlin: 45 min");
	is_int(sw_feeds_working_silence(&day, "UTC", at(B, 4, 19, 50), at(B, 5, 2, 0)), 0,
	       "day shift: silent since yesterday 19:50, at 02:00: outside hours, 0");
	is_int(sw_feeds_working_silence(&day, "UTC", at(B, 4, 19, 50), at(B, 5, 8, 10)), 10 * 60,
	       "day shift: at 08:10 only the 10 working minutes count");
	is_int(sw_feeds_working_silence(&day, "UTC", at(B, 5, 9, 0), at(B, 5, 20, 0)), 0,
	       "day shift: 20:00 is outside (the end is exclusive)");
	is_int(sw_feeds_working_silence(&night, "UTC", at("UTC", 4, 23, 0), at("UTC", 5, 1, 0)), 2 * H,
	       "night shift: silent 23:00-01:00: 2 h across midnight");
	is_int(sw_feeds_working_silence(&night, "UTC", at("UTC", 4, 5, 0), at("UTC", 5, 0, 30)),
	       2 * H + 30 * 60, "night shift: at 00:30, working since 22:00: 2 h 30");
	is_int(sw_feeds_working_silence(&night, "UTC", at("UTC", 4, 5, 0), at("UTC", 5, 12, 0)), 0,
	       "night shift: noon is outside");
}

/* down(now) of warehouse w, its why into the caller's why. */
#define WH_DOWN(w, t) sw_feeds_warehouse_down(st, c, r, w, t, why, sizeof(why))

/* Settling after a resume: all day (the pause's length and the settle
 * time, each across its boundary; a quiet spell ending it), working hours
 * (a night off is no pause, a pause from the start of the hours is), and
 * warehouse_feed_settle = 0. */
static void test_settling(struct sw_store *st, const struct sw_alerts_conf *c,
			  const struct sw_rules *r)
{
	int64_t t = at("UTC", 6, 12, 0);
	struct sw_alerts_conf off;
	struct sw_rules roff;
	char why[160], err[256];

	sw_store_warehouse_seen(st, "s1", t - 40 * 60);
	sw_store_warehouse_seen(st, "s1", t); /* back after 40 min */
	ok(WH_DOWN("s1", t), "all day, back after 40 min: settling at once");
	ok(WH_DOWN("s1", t + 299), "  and 4 min 59 s later");
	ok(strstr(why, "the warehouse s1 feed resumed 4 min ago after 40 min of silence; its "
		       "backlog is still landing") != NULL,
	   "  %s", why);
	ok(!WH_DOWN("s1", t + 300), "  healthy 5 min after (warehouse_feed_settle)");
	sw_store_warehouse_seen(st, "s1", t + 40);
	sw_store_warehouse_seen(st, "s1", t + 90);
	ok(WH_DOWN("s1", t + 120), "  backlog batches 40 and 50 s apart: still settling");
	sw_store_warehouse_seen(st, "s1", t + 200);
	ok(!WH_DOWN("s1", t + 201), "  an event after 110 s of quiet: the backlog landed, healthy");

	sw_store_warehouse_seen(st, "s2", t - 30 * 60 + 1);
	sw_store_warehouse_seen(st, "s2", t);
	ok(!WH_DOWN("s2", t + 1), "back after 29 min 59 s (under the 30 min window): healthy");
	sw_store_warehouse_seen(st, "s3", t - 30 * 60);
	sw_store_warehouse_seen(st, "s3", t);
	ok(WH_DOWN("s3", t + 1), "back after 30 min: settling");

	sw_store_warehouse_seen(st, "d1", at("UTC", 5, 13, 0));
	sw_store_warehouse_seen(st, "d1", at("UTC", 6, 8, 10));
	ok(!WH_DOWN("d1", at("UTC", 6, 8, 12)),
	   "08:00-20:00, silent since yesterday 13:00, back at 08:10: 10 working min, healthy");
	sw_store_warehouse_seen(st, "d1", at("UTC", 6, 19, 30));
	sw_store_warehouse_seen(st, "d1", at("UTC", 6, 20, 30));
	ok(!WH_DOWN("d1", at("UTC", 6, 20, 31)),
	   "  back at 20:30 after an hour (after its hours: no silence counted), healthy");
	sw_store_warehouse_seen(st, "d2", at("UTC", 6, 7, 0));
	sw_store_warehouse_seen(st, "d2", at("UTC", 6, 8, 40));
	ok(WH_DOWN("d2", at("UTC", 6, 8, 42)),
	   "08:00-20:00, silent since 07:00, back at 08:40: 40 working min, settling");
	ok(strstr(why, "resumed 2 min ago after 40 min of silence") != NULL, "  %s", why);

	if (!ok(load(BASE "warehouse_feed_settle = 0\n", &off, &roff, err, sizeof(err)) == SW_OK,
		"warehouse_feed_settle = 0 loads: %s", err))
		return;
	ok(!sw_feeds_warehouse_down(st, &off, &roff, "s3", t + 1, why, sizeof(why)),
	   "  settle 0: back after 30 min is healthy at once");
	ok(sw_feeds_warehouse_down(st, &off, &roff, "s3", t + 30 * 60, why, sizeof(why)),
	   "  and silence is still judged");
	sw_alerts_conf_free(&off);
	sw_rules_free(&roff);
}

/* A courier whose courier_api probe fails (a fresh row) has an unhealthy
 * feed, whatever its polls say; a stale or passing row says nothing. */
static void test_probe_row(struct sw_store *st, const struct sw_alerts_conf *c, int64_t t)
{
	struct sw_probe_row r = {.name = "courier_api-dhl", .kind = "courier_api", .at = t - 120,
				 .ok = false, .sent = 5, .lost = 5, .lat_p50 = -1, .lat_max = -1,
				 .reason = "dhl: TLS certificate not trusted (self-signed)"};
	char why[200];

	ok(sw_store_probe_put(st, &r) == SW_OK, "courier_api-dhl probe row, failing 2 min ago");
	ok(sw_feeds_courier_down(st, c, "dhl", t, why, sizeof(why)),
	   "a failing API probe: the feed is unhealthy though polls answer");
	is_str(why, "the dhl API probe fails: dhl: TLS certificate not trusted (self-signed)",
	       "  the probe's reason");
	ok(!sw_feeds_courier_down(st, c, "dhl", t + H - 60, why, sizeof(why)),
	   "the same row older than feed_window (1 h 1 min) says nothing: healthy");
	r.at = t - 60;
	r.ok = true;
	r.lost = 0;
	r.reason = NULL;
	ok(sw_store_probe_put(st, &r) == SW_OK && !sw_feeds_courier_down(st, c, "dhl", t, why,
									  sizeof(why)),
	   "the probe passing again: healthy");
	ok(!sw_feeds_courier_down(st, c, "ups", t, why, sizeof(why)) || strstr(why, "probe") == NULL,
	   "no probe row for ups: the probe says nothing");
}

/* A parcel of courier (order w1/tn) whose next poll is due at due. */
static bool poll_due_at(struct sw_store *st, const char *courier, const char *tn, int64_t due)
{
	struct sw_poll p = {0};

	p.courier = courier;
	p.tracking_number = tn;
	p.next_poll_at = due;
	p.interval_s = 3600;
	return sw_store_parcel_upsert(st, courier, tn, "w1", tn, (struct sw_stamp){due - 86400, 0}) ==
		   SW_OK &&
	       sw_store_poll_upsert(st, &p) == SW_OK;
}

static void test_judgments(void)
{
	char err[512], why[160];
	struct sw_alerts_conf c;
	struct sw_rules r;
	struct sw_store *st = NULL;
	int64_t now = at("UTC", 5, 12, 0);

	if (!ok(load(BASE "feed_window = 1h\n[rule w1]\nwarehouse = w1\nworking_hours = 08:00-20:00\n"
			  "[rule w2]\nwarehouse = w2\nworking_hours = 13:00-20:00\n"
			  "[rule d1]\nwarehouse = d1\nworking_hours = 08:00-20:00\n"
			  "[rule d2]\nwarehouse = d2\nworking_hours = 08:00-20:00\n",
		     &c, &r, err, sizeof(err)) == SW_OK,
		"config: %s", err) ||
	    !(st = store_tmp_open()))
		goto out;
	ok(sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)), "courier never answered: down");
	ok(strstr(why, "has not answered usefully yet") != NULL, "  %s", why);
	sw_store_courier_health_note(st, "dhl", 1, now - 2 * H, NULL);
	ok(!sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)),
	   "last useful answer 2 h ago, window 1 h, no poll due since: idle, not down");
	ok(poll_due_at(st, "dhl", "JD1", now + H), "a parcel, its poll due in an hour");
	ok(!sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)),
	   "  still idle: nothing to ask before then");
	ok(poll_due_at(st, "dhl", "JD2", now - 90 * 60), "a parcel, its poll overdue 90 min");
	ok(sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)),
	   "  silent since it fell due, 90 min > 1 h: down (API or collector down)");
	ok(strstr(why, "for 1 h 30 min") != NULL, "  %s", why);
	ok(poll_due_at(st, "dhl", "JD2", now - 3 * H), "its poll overdue 3 h, before the last answer");
	ok(sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)) &&
	       strstr(why, "for 2 h 0 min") != NULL,
	   "  silent since the last useful answer (the later): %s", why);
	sw_store_courier_health_note(st, "dhl", 0, now - 60, "HTTP 503");
	ok(poll_due_at(st, "dhl", "JD2", now + H), "  the poll failed a minute ago, retried later");
	ok(sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)) &&
	       strstr(why, "for 2 h 0 min") != NULL,
	   "  failing since the last useful answer, whatever is due: down (%s)", why);
	sw_store_courier_health_note(st, "dhl", 1, now - 60, NULL);
	sw_store_courier_polls_note(st, "dhl", now - 30 * 60, 10, 10);
	ok(!sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)),
	   "answered a minute ago, 50 %% failed: not above the rate, healthy");
	sw_store_courier_polls_note(st, "dhl", now - 60, 0, 1);
	ok(sw_feeds_courier_down(st, &c, "dhl", now, why, sizeof(why)),
	   "11 of 21 failed: above 50 %%, down");
	ok(strstr(why, "failed 11 of its 21 answers in the last 1 h 0 min") != NULL, "  %s", why);
	sw_store_courier_health_note(st, "dhl", 1, now + 2 * H - 1200, NULL);
	sw_store_courier_polls_note(st, "dhl", now + 2 * H - 1200, 1, 0);
	ok(!sw_feeds_courier_down(st, &c, "dhl", now + 2 * H - 1200, why, sizeof(why)),
	   "2 h later, one useful answer: the failures left the window, healthy");
	test_probe_row(st, &c, now + 2 * H - 1200);

	ok(!sw_feeds_warehouse_down(st, &c, &r, "w1", now, why, sizeof(why)),
	   "a warehouse that never published cannot be judged: healthy");
	sw_store_warehouse_seen(st, "w1", now - 29 * 60);
	ok(!sw_feeds_warehouse_down(st, &c, &r, "w1", now, why, sizeof(why)),
	   "w1 silent 29 min at noon: healthy");
	ok(sw_feeds_warehouse_down(st, &c, &r, "w1", now + 60, why, sizeof(why)),
	   "w1 silent 30 min at noon: down");
	ok(strstr(why, "warehouse w1 has published nothing for 30 min of its working hours") !=
		   NULL,
	   "  %s", why);
	ok(!sw_feeds_warehouse_down(st, &c, &r, "w1", at("UTC", 5, 21, 0), why, sizeof(why)),
	   "w1 silent at 21:00, after its hours: healthy");
	sw_store_warehouse_seen(st, "w2", now - 5 * H);
	ok(!sw_feeds_warehouse_down(st, &c, &r, "w2", at("UTC", 5, 13, 20), why, sizeof(why)),
	   "w2 silent since 07:00, its hours began at 13:00: 20 min, healthy");
	ok(sw_feeds_warehouse_down(st, &c, &r, "w2", at("UTC", 5, 13, 30), why, sizeof(why)),
	   "  and down at 13:30");
	test_settling(st, &c, &r);
out:
	sw_store_close(st);
	sw_alerts_conf_free(&c);
	sw_rules_free(&r);
}

int main(void)
{
	test_conf();
	test_silence();
	test_judgments();
	return store_tmp_done(NULL);
}
