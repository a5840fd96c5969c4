/*
 * test_signals.c - unit tests for alerts/signals.c (and the store counts
 * and RRD reads under it) on a real temporary store (SQLite, or
 * PostgreSQL: tests/store_tmp.h) and real RRD files written by the
 * project's writer at explicit step times (60 s steps in the past: the
 * wall clock is never read).
 *
 * Every measurement's figures must parse as a JSON object (jansson); the
 * text is checked where a tired on-call engineer reads it.  Hostile
 * subject ids ('/', '..', a leading '.') are refused before any file is
 * touched, even when a real RRD file waits where they would lead.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "alerts/rules.h"
#include "alerts/signals.h"
#include "lib/conf.h"
#include "lib/matcher.h"
#include "lib/store_feeds.h"
#include "lib/store_probes.h"
#include "lib/rrd.h"
#include "lib/store.h"
#include "lib/store_signals.h"
#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define STEP 60
#define T0   ((int64_t)1700006400) /* aligned to STEP */
#define T(k) (T0 + (int64_t)(k)*STEP)
#define NOW  T(60)

static char *rrddir;
static struct sw_rrd_conf rconf;
static struct sw_store *st;
static struct sw_sig_ctx ctx;

/* ---- writing RRD steps as the collector does ---------------------------------- */

struct kv {
	const char *metric;
	uint64_t n;
};

/* One step of file at t with the counts given (every other counter 0). */
static enum sw_err put(const char *file, int64_t t, const struct kv *kv, size_t n)
{
	struct sw_metrics *m = sw_metrics_new();
	struct sw_rrd *w = NULL;
	char err[512];
	enum sw_err rc;

	sw_rrd_new(&rconf, &w, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		sw_metrics_count(m, file, kv[i].metric, kv[i].n);
	rc = sw_rrd_flush(w, m, t, err, sizeof(err));
	if (rc)
		printf("# flush %s at %lld: %s\n", file, (long long)t, err);
	sw_rrd_free(w);
	sw_metrics_free(m);
	return rc;
}

static void write_rrd(void)
{
	enum sw_err rc = SW_OK;

	for (int k = 1; k <= 60; k++) {
		/* courier dhl: 45 on time, 15 late; 480 2xx, 60 4xx, 60 5xx,
		 * 6 timeouts, 1 unparseable answer */
		struct kv dhl[] = {{"delivered_ontime", k % 4 ? 1 : 0},
				   {"delivered_late", k % 4 ? 0 : 1},
				   {"resp_2xx", 8},
				   {"resp_4xx", 1},
				   {"resp_5xx", 1},
				   {"resp_timeout", k % 10 == 0},
				   {"parse_fail", k == 30}};
		struct kv blr1[] = {{"created", k <= 40 ? 2 : 0}, {"shipped", k == 40}};
		struct kv quiet[] = {{"created", 0}};

		rc |= put("courier/dhl", T(k), dhl, 7);
		rc |= put("warehouse/blr1", T(k), blr1, 2);
		rc |= put("warehouse/quiet", T(k), quiet, 1);
		if (k <= 30) /* the collector stopped writing this one at T30 */
			rc |= put("warehouse/stopped", T(k), quiet, 1);
	}
	is_int(rc, SW_OK, "RRD steps written");
}

/* ---- seeding the store ---------------------------------------------------------- */

static void order(const char *wh, const char *id, int64_t ship_by, int64_t created, int64_t picked,
		  int64_t shipped, int64_t cancelled)
{
	struct sw_order o = {.warehouse_id = wh, .order_id = id};

	o.promised_ship_by.at = ship_by;
	o.stage[SW_STAGE_CREATED].at = created;
	o.stage[SW_STAGE_PICKED].at = picked;
	o.stage[SW_STAGE_SHIPPED].at = shipped;
	o.stage[SW_STAGE_CANCELLED].at = cancelled;
	if (sw_store_order_upsert(st, &o) != SW_OK)
		printf("# order %s/%s: %s\n", wh, id, sw_store_errmsg(st));
}

static void seed_orders(void)
{
	/* blr1: o1 and o2 past ship-by and waiting; o3 past but shipped; o4
	 * past but cancelled; o5 not due yet */
	order("blr1", "o1", NOW - 3600, NOW - 7200, 0, 0, 0);
	order("blr1", "o2", NOW - 600, NOW - 3000, 0, 0, 0);
	order("blr1", "o3", NOW - 600, NOW - 5000, NOW - 4000, NOW - 3000, 0);
	order("blr1", "o4", NOW - 600, NOW - 9000, 0, 0, NOW - 100);
	order("blr1", "o5", NOW + 600, NOW - 60, 0, 0, 0);
	order("blr1", "o6", NOW - 60, NOW - 500, NOW - 400, 0, 0); /* picked, late */
	order("del2", "x1", NOW - 30, NOW - 400, 0, 0, 0);
	order("bad/../id", "y1", NOW + 600, NOW - 400, 0, 0, 0);
}

/* A customer notice (or, with receiver, a page row) created at created
 * and left in state as marked with why. */
static void notice(const char *entity, int64_t created, const char *state, const char *why,
		   const char *receiver)
{
	struct sw_outbox_msg m = {.entity = entity,
				  .slip_kind = "late",
				  .channel = "email",
				  .recipient = "a@example.com",
				  .subject = "s",
				  .body = "b",
				  .next_attempt_at = created,
				  .created_at = created,
				  .receiver = receiver};
	struct sw_outbox_msg *got = NULL;
	size_t n = 0;
	int64_t id = 0;
	enum sw_err rc;

	if ((rc = sw_store_outbox_enqueue(st, &m, &id)) || strcmp(state, "queued") == 0 || receiver)
		goto out;
	/* claim it (it is the only due one) and finish it as asked */
	if ((rc = sw_store_outbox_claim(st, NOW, 60, 10, &got, &n)) || n != 1 || got[0].id != id) {
		printf("# claim of %s: %zu rows\n", entity, n);
		goto out;
	}
	if (strcmp(state, "sent") == 0)
		rc = sw_store_outbox_mark_sent(st, id, NOW, why);
	else if (strcmp(state, "failed") == 0)
		rc = sw_store_outbox_mark_failed(st, id, why);
	else
		rc = sw_store_outbox_mark_deferred(st, id, NOW + 3600, why);
out:
	if (rc)
		printf("# notice %s: %s\n", entity, sw_store_errmsg(st));
	sw_store_outbox_free(got, n);
}

static void seed_notices(void)
{
	notice("order:w:old", NOW - 7200, "failed", "550 too old to count", NULL);
	notice("order:w:1", NOW - 600, "sent", "250 ok", NULL);
	notice("order:w:2", NOW - 600, "failed", "550 no such user", NULL);
	notice("order:w:3", NOW - 500, "deferred", "quiet hours", NULL);
	notice("order:w:4", NOW - 500, "deferred",
	       "held: the dhl tracking API is not answering, the late notice waits for its word",
	       NULL);
	notice("order:w:5", NOW - 400, "deferred", "smtp 127.0.0.1:2525: connection refused", NULL);
	notice("order:w:6", NOW - 400, "deferred", "not tried: smtp: 421 try later", NULL);
	notice("order:w:7", NOW - 300, "deferred", "not tried: stopping", NULL);
	notice("order:w:8", NOW - 300, "queued", "", NULL);
	notice("page:1", NOW - 100, "queued", "", "oncall");
	/* a failed page row is not a customer notice */
	raw_exec(store_path, "UPDATE outbox SET state = 'failed' WHERE receiver IS NOT NULL");
	is_int(raw_int(store_path, "SELECT count(*) FROM outbox WHERE state = 'failed'"), 3,
	       "seeded: 3 failed rows (one old, one a page row)");
}

static void seed_journal(void)
{
	for (int i = 1; i <= 3; i++) {
		char id[16];
		struct sw_journal_event ev = {.source = "warehouse:blr1",
					      .source_event_id = id,
					      .kind = "order.created",
					      .occurred_at = {NOW - 1000, 0},
					      .received_at = NOW - 400 + 100 * i};

		snprintf(id, sizeof(id), "e%d", i);
		if (sw_store_journal_append(st, &ev, NULL) != SW_OK)
			printf("# journal: %s\n", sw_store_errmsg(st));
	}
	sw_store_courier_health_note(st, "dhl", 1, NOW - 60, NULL);
	sw_store_courier_health_note(st, "ups", 0, NOW - 60, "timeout");
	sw_store_courier_health_note(st, "x/../y", 1, NOW - 60, NULL);
}

/* ---- measuring ---------------------------------------------------------------------- */

static struct sw_sig_args args(int64_t now, int64_t window, int64_t min_count)
{
	return (struct sw_sig_args){
	    .now = now, .window_s = window, .min_count = min_count, .nodata_after_s = 900};
}

/* Measures name on id; checks that figures parse as a JSON object and
 * returns it (new reference, NULL on failure). */
static json_t *measure(const char *name, const char *id, const struct sw_sig_args *a,
		       struct sw_sig_value *v, enum sw_err *ret_rc, char *err, size_t len)
{
	const struct sw_signal *sig = sw_signal_find(name);
	json_t *j;

	memset(v, 0, sizeof(*v));
	err[0] = '\0';
	*ret_rc = sig ? sig->measure(&ctx, id, a, v, err, len) : SW_EINVAL;
	if (*ret_rc)
		return NULL;
	j = json_loads(v->figures, 0, NULL);
	ok(json_is_object(j), "%s %s: figures are a JSON object: %s", name, id, v->figures);
	ok(v->text[0] != '\0', "%s %s: text: %s", name, id, v->text);
	return j;
}

static int64_t fig(json_t *j, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(j, key));
}

static double figr(json_t *j, const char *key)
{
	return json_number_value(json_object_get(j, key));
}

static void test_table(void)
{
	size_t n = 0;

	for (; sw_signal_table[n]; n++) {
		const struct sw_signal *s = sw_signal_table[n];

		ok(sw_signal_find(s->name) == s && s->measure && s->unit && s->what,
		   "row %s is complete and found by name", s->name);
		ok((s->subject == SW_SIG_GLOBAL) == (s->subjects == NULL),
		   "%s: subjects() exactly when it has subjects", s->name);
		ok((s->subject_of == NULL) == (s->members == NULL),
		   "%s: subject_of and members come together (cohort signals)", s->name);
	}
	is_int(n, 12, "twelve signals");
	ok(sw_signal_find("nope") == NULL && sw_signal_find(NULL) == NULL, "unknown name: NULL");
	is_str(sw_signal_subject_label(sw_signal_find("courier_ontime")), "courier",
	       "courier label");
	is_str(sw_signal_subject_label(sw_signal_find("warehouse_feed_silent")), "warehouse",
	       "warehouse label");
	ok(sw_signal_subject_label(sw_signal_find("journal_lag")) == NULL, "global: no label");
	is_str(sw_signal_subject_label(sw_signal_find("cohort_ship_late")), "warehouse",
	       "a warehouse's ship day: the warehouse label (reserved)");
	ok(!sw_signal_find("courier_ontime")->above && sw_signal_find("courier_api_errors")->above,
	   "directions");
	is_str(sw_signal_subject_label(sw_signal_find("probe")), "probe", "probe label");
}

static void test_subjects(void)
{
	char err[512] = "", **ids = NULL;
	size_t n = 0;
	enum sw_err rc;

	rc = sw_signal_find("courier_ontime")->subjects(&ctx, &ids, &n, err, sizeof(err));
	is_int(rc, SW_OK, "courier subjects %s", err);
	ok(n == 3 && strcmp(ids[0], "broken") == 0 && strcmp(ids[1], "dhl") == 0 &&
	       strcmp(ids[2], "ups") == 0,
	   "couriers: files and courier_health, sorted, once each, no unsafe id (%zu)", n);
	sw_signal_ids_free(ids, n);

	rc = sw_signal_find("warehouse_ship_late")->subjects(&ctx, &ids, &n, err, sizeof(err));
	is_int(rc, SW_OK, "warehouse subjects %s", err);
	ok(n == 5 && strcmp(ids[0], "bad/../id") == 0 && strcmp(ids[1], "blr1") == 0 &&
	       strcmp(ids[2], "del2") == 0 && strcmp(ids[3], "quiet") == 0 &&
	       strcmp(ids[4], "stopped") == 0,
	   "store signals: every warehouse of orders and files (%zu)", n);
	sw_signal_ids_free(ids, n);

	rc = sw_signal_find("warehouse_feed_silent")->subjects(&ctx, &ids, &n, err, sizeof(err));
	ok(rc == SW_OK && n == 4 && strcmp(ids[0], "blr1") == 0,
	   "feed signal: only ids that can name a file (%zu)", n);
	sw_signal_ids_free(ids, n);
}

static void test_courier_ontime(void)
{
	struct sw_sig_args a = args(NOW, 3600, 10);
	struct sw_sig_value v;
	char err[512];
	enum sw_err rc;
	json_t *j;

	j = measure("courier_ontime", "dhl", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_OK, "ontime: measured %s", err);
	ok(v.has_data && v.enough, "ontime: data, enough");
	ok(fabs(v.value - 75.0) < 1e-9, "ontime: 75%% (%g)", v.value);
	is_int(v.count, 60, "ontime: 60 deliveries");
	is_str(v.stage, "courier", "ontime: stage");
	is_str(v.text, "45 of 60 deliveries on time (75.0%) in the last 1h", "ontime: text");
	ok(fig(j, "on_time") == 45 && fig(j, "late") == 15 &&
	       fabs(figr(j, "rate_pct") - 75) < 1e-9 && fig(j, "window_s") == 3600,
	   "ontime: figures");
	json_decref(j);

	a = args(NOW, 3600, 100);
	j = measure("courier_ontime", "dhl", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && !v.enough, "ontime: 60 < min_count 100: not enough");
	json_decref(j);

	a = args(NOW, 600, 1); /* (T50, T60]: steps 52, 56, 60 late */
	j = measure("courier_ontime", "dhl", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.count == 10 && fabs(v.value - 70.0) < 1e-9,
	   "ontime: a 10m window reads 7 of 10 (%g of %lld)", v.value, (long long)v.count);
	json_decref(j);

	a = args(NOW + 16 * 60, 3600, 1); /* nothing written for 16 min > nodata 15 min */
	j = measure("courier_ontime", "dhl", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data, "ontime: the series stopped: no data");
	ok(strstr(v.text, "no data") != NULL, "ontime: text says no data: %s", v.text);
	json_decref(j);

	a = args(NOW + 14 * 60, 3600, 1);
	j = measure("courier_ontime", "dhl", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data, "ontime: 14 min of silence is still data");
	json_decref(j);

	a = args(NOW, 600, 1);
	a.nodata_after_s = 7200; /* longer than the window: read further back */
	j = measure("courier_ontime", "dhl", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.count == 10, "ontime: nodata_after beyond the window");
	json_decref(j);

	a = args(NOW, 3600, 1);
	j = measure("courier_ontime", "ups", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data && !v.enough, "ontime: a courier without a file: no data");
	ok(j && json_is_false(json_object_get(j, "file_exists")), "ontime: figures say no file");
	json_decref(j);
}

static void test_api_errors(void)
{
	struct sw_sig_args a = args(NOW, 3600, 1);
	struct sw_sig_value v;
	char err[512];
	enum sw_err rc;
	json_t *j;

	j = measure("courier_api_errors", "dhl", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_OK, "api: measured %s", err);
	/* errors 60 + 0 + 6 + 1 = 67 of 67 + 480 + 60 (404s answer) = 607 */
	is_int(v.count, 607, "api: 607 requests");
	ok(fabs(v.value - 100.0 * 67 / 607) < 1e-9, "api: %g%%", v.value);
	ok(fig(j, "errors") == 67 && fig(j, "resp_4xx") == 60 && fig(j, "timeout") == 6 &&
	       fig(j, "parse_fail") == 1,
	   "api: figures");
	ok(strstr(v.text, "67 of 607 tracking API requests failed (11.0%) in the last 1h") != NULL,
	   "api: text");
	json_decref(j);
	a = args(NOW, 3600, 1000);
	j = measure("courier_api_errors", "dhl", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.enough, "api: below min_count: not enough");
	json_decref(j);
}

static void test_feed_silent(void)
{
	struct sw_sig_args a = args(NOW, 3600, 1);
	struct sw_sig_value v;
	char err[512];
	enum sw_err rc;
	json_t *j;

	j = measure("warehouse_feed_silent", "blr1", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_OK, "feed: measured %s", err);
	ok(v.has_data && v.enough, "feed: data");
	ok(fabs(v.value - 20.0) < 1e-9, "feed: 20 min since the last step with events (%g)",
	   v.value);
	is_int(v.count, 81, "feed: 80 created + 1 shipped in the window");
	is_int(fig(j, "last_event_step"), T(40), "feed: figures name the step");
	json_decref(j);

	j = measure("warehouse_feed_silent", "quiet", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && fabs(v.value - 60.0) < 1e-9,
	   "feed: zero rows are data: silent the whole window (%g min)", v.value);
	ok(strstr(v.text, "no warehouse events in the last 1h") != NULL, "feed: text %s", v.text);
	json_decref(j);

	j = measure("warehouse_feed_silent", "stopped", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data, "feed: the collector stopped writing: no data");
	json_decref(j);

	j = measure("warehouse_feed_silent", "del2", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data, "feed: a warehouse of orders without a file: no data");
	json_decref(j);
}

static void test_orders(void)
{
	struct sw_sig_args a = args(NOW, 3600, 5);
	struct sw_sig_value v;
	char err[512];
	enum sw_err rc;
	json_t *j;

	j = measure("warehouse_ship_late", "blr1", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_OK, "ship late: measured %s", err);
	ok(v.has_data && v.enough, "ship late: always data, judged whatever min_count");
	is_int(v.count, 3, "ship late: o1, o2, o6 (not shipped, not cancelled)");
	ok(v.value == 3.0, "ship late: value is the count");
	is_int(fig(j, "most_overdue_s"), 3600, "ship late: the oldest 1h overdue");
	is_str(v.text,
	       "3 orders past their promised ship-by and not shipped, the oldest 1h overdue",
	       "ship late: text");
	json_decref(j);
	j = measure("warehouse_ship_late", "quiet", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.count == 0, "ship late: a warehouse without orders: 0");
	json_decref(j);

	j = measure("warehouse_pick_backlog", "blr1", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_OK, "pick backlog: measured %s", err);
	is_int(v.count, 3, "pick backlog: o1, o2, o5");
	is_int(fig(j, "oldest_wait_s"), 7200, "pick backlog: the oldest waits 2h");
	json_decref(j);
	j = measure("warehouse_pick_backlog", "bad/../id", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.count == 1, "pick backlog: store ids need no file name");
	json_decref(j);
}

static void test_email(void)
{
	struct sw_sig_args a = args(NOW, 3600, 1);
	struct sw_sig_value v;
	char err[512];
	enum sw_err rc;
	json_t *j;

	j = measure("email_failures", "", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_OK, "email: measured %s", err);
	is_int(v.count, 3, "email: 1 failed + 2 deferred after a channel failure");
	ok(fig(j, "failed") == 1 && fig(j, "retrying") == 2 && fig(j, "sent") == 1 &&
	       fig(j, "deferred_on_purpose") == 3 && fig(j, "waiting") == 1,
	   "email: figures (quiet hours, held and stopping are not failures; page rows and "
	   "old rows not counted)");
	is_str(v.stage, "email", "email: stage");
	json_decref(j);
	a = args(NOW, 450, 1);
	j = measure("email_failures", "", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.count == 2, "email: a shorter window: the 2 retrying only (%lld)",
	   (long long)v.count);
	json_decref(j);
}

static void test_journal(void)
{
	struct sw_sig_args a = args(NOW, 3600, 1);
	struct sw_sig_value v;
	char err[512];
	enum sw_err rc;
	json_t *j;

	j = measure("journal_lag", "", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.value == 300 && v.count == 3,
	   "journal: never run: 300 s behind, 3 events");
	json_decref(j);
	sw_store_cursor_set(st, "alerts", 1);
	j = measure("journal_lag", "", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.value == 200 && v.count == 2, "journal: cursor 1: 200 s behind");
	ok(fig(j, "cursor") == 1 && fig(j, "newest") == 3 && fig(j, "behind") == 2,
	   "journal: figures");
	is_str(v.stage, "engine", "journal: stage");
	json_decref(j);
	sw_store_cursor_set(st, "alerts", 3);
	j = measure("journal_lag", "", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.value == 0 && v.count == 0 && v.has_data, "journal: caught up: 0");
	json_decref(j);
}

/* The probe signal on probe_results rows (store_probes.h). */
static void test_probe(void)
{
	struct sw_probe_row smtp = {.name = "smtp", .kind = "smtp", .at = NOW - 60, .ok = false,
				    .sent = 5, .lost = 5, .lat_p50 = -1, .lat_max = -1,
				    .reason = "smtp://relay: 554 5.3.2 no service (at the greeting)"};
	struct sw_probe_row api = {.name = "courier_api-dhl", .kind = "courier_api", .at = NOW - 30,
				   .ok = true, .sent = 5, .lat_p50 = 0.120, .lat_max = 0.300,
				   .has_value = true, .value = 41, .detail = "HTTP 200"};
	struct sw_probe_row old = {.name = "broker", .kind = "broker", .at = NOW - 3600, .ok = false,
				   .sent = 5, .lost = 5, .lat_p50 = -1, .lat_max = -1,
				   .reason = "broker 127.0.0.1:1883: cannot connect"};
	struct sw_sig_args a = args(NOW, 3600, 1);
	struct sw_sig_value v;
	char err[512] = "", **ids = NULL;
	size_t n = 0;
	enum sw_err rc;
	json_t *j;

	ok(sw_store_probe_put(st, &smtp) == SW_OK && sw_store_probe_put(st, &api) == SW_OK &&
		   sw_store_probe_put(st, &old) == SW_OK,
	   "probe rows stored");
	rc = sw_signal_find("probe")->subjects(&ctx, &ids, &n, err, sizeof(err));
	ok(rc == SW_OK && n == 3 && strcmp(ids[0], "broker") == 0 &&
		   strcmp(ids[1], "courier_api-dhl") == 0 && strcmp(ids[2], "smtp") == 0,
	   "probe subjects: every stored probe, sorted (%zu) %s", n, err);
	sw_signal_ids_free(ids, n);

	j = measure("probe", "smtp", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.enough && v.value == 1, "probe smtp failing: 1");
	ok(strstr(v.text, "554 5.3.2 no service") && strstr(v.text, "5 of 5"),
	   "probe smtp: the reason in the text: %s", v.text);
	ok(fig(j, "sent") == 5 && fig(j, "lost") == 5 && figr(j, "lat_p50") == -1 &&
		   json_is_null(json_object_get(j, "value")) && fig(j, "failing") == 1,
	   "probe smtp: figures sent, lost, lat_p50, value");
	is_str(v.stage, "email", "probe smtp: stage email");
	json_decref(j);

	j = measure("probe", "courier_api-dhl", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.value == 0, "probe courier_api-dhl passing: 0");
	ok(fabs(figr(j, "lat_p50") - 0.12) < 1e-9 && fabs(figr(j, "lat_max") - 0.3) < 1e-9 &&
		   figr(j, "value") == 41,
	   "probe courier_api-dhl: latencies and value in the figures");
	is_str(v.stage, "courier", "probe courier_api: stage courier");
	json_decref(j);

	j = measure("probe", "broker", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data && strstr(v.text, "no data") && strstr(v.text, "1h"),
	   "probe broker an hour old (nodata_after 15m): no data: %s", v.text);
	json_decref(j);
	a.nodata_after_s = 2 * 3600;
	j = measure("probe", "broker", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.value == 1, "probe broker within nodata_after 2h: 1");
	json_decref(j);

	j = measure("probe", "nope", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data && strstr(v.text, "no stored result"),
	   "probe without a row: no data: %s", v.text);
	json_decref(j);
}

/* courier_feed_silent and warehouse_feed on the store's feed tables. */
static void test_feeds(void)
{
	struct sw_sig_args a = args(NOW, 3600, 1);
	const struct sw_signal *sig = sw_signal_find("warehouse_feed");
	struct sw_alerts_conf ac;
	struct sw_rules r;
	struct sw_conf *conf = NULL;
	struct sw_sig_value v;
	char err[512], **ids = NULL;
	size_t n = 0;
	enum sw_err rc;
	json_t *j;

	sw_store_courier_health_note(st, "fx", 1, NOW - 1500, NULL);
	sw_store_courier_polls_note(st, "fx", NOW - 600, 1, 9);
	j = measure("courier_feed_silent", "fx", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.value == 0.0 && strstr(v.text, "nothing to ask"),
	   "courier feed: no poll due since the last useful answer: idle, 0 (%g, %s)", v.value,
	   v.text);
	json_decref(j);
	sw_store_courier_health_note(st, "fx", 0, NOW - 1200, "HTTP 503");
	j = measure("courier_feed_silent", "fx", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && fabs(v.value - 25.0) < 1e-9,
	   "courier feed: failing: 25 min since the last useful answer (%g)", v.value);
	is_int(fig(j, "failed"), 9, "courier feed: figures count the window's failures");
	ok(strstr(v.text, "9 of 10 answers failed in the last 1h") != NULL, "courier feed: %s",
	   v.text);
	json_decref(j);
	sw_store_courier_health_note(st, "nx", 0, NOW - 60, "HTTP 503");
	j = measure("courier_feed_silent", "nx", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data, "courier feed: never answered usefully: no data");
	json_decref(j);

	ok(sig && sig->subjects(&ctx, &ids, &n, err, sizeof(err)) == SW_OK && n == 0,
	   "warehouse feed: no warehouse published yet, no subjects");
	sw_signal_ids_free(ids, n);
	sw_store_warehouse_seen(st, "w9", NOW - 3 * 3600);
	ok(sig->subjects(&ctx, &ids, &n, err, sizeof(err)) == SW_OK && n == 1 &&
	       strcmp(ids[0], "w9") == 0,
	   "warehouse feed: subjects from warehouse_health");
	sw_signal_ids_free(ids, n);
	j = measure("warehouse_feed", "w9", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && fabs(v.value - 180.0) < 1e-9,
	   "warehouse feed: no hours known: all day, 180 min (%g)", v.value);
	json_decref(j);
	/* NOW is 2026-11-24 (UTC): working 00:00-00:01 only, so now is outside */
	if (sw_conf_load_string("[rule w9]\nwarehouse = w9\nworking_hours = 00:00-00:01\n",
				"t.conf", &conf, err, sizeof(err)) == SW_OK &&
	    sw_rules_load(conf, &ac, &r, err, sizeof(err)) == SW_OK) {
		ctx.rules = &r;
		ctx.alerts = &ac;
		j = measure("warehouse_feed", "w9", &a, &v, &rc, err, sizeof(err));
		ok(rc == SW_OK && v.has_data && v.value == 0.0,
		   "warehouse feed: outside its working hours: 0 (%g)", v.value);
		ok(strstr(v.text, "outside its working hours") != NULL, "warehouse feed: %s",
		   v.text);
		json_decref(j);
		ctx.rules = NULL;
		ctx.alerts = NULL;
		sw_alerts_conf_free(&ac);
		sw_rules_free(&r);
	} else
		ok(0, "rules load: %s", err);
	sw_conf_free(conf);
	j = measure("warehouse_feed", "w0", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && !v.has_data, "warehouse feed: never published: no data");
	json_decref(j);
}

static void test_hostile(void)
{
	const char *bad[] = {"../escape", "..", ".hidden", "a/b", "", "dhl/../dhl"};
	struct sw_sig_args a = args(NOW, 3600, 1);
	struct sw_sig_value v;
	char err[512], *path;
	enum sw_err rc;
	FILE *f;

	/* a real RRD file one level up, where "../escape" would lead */
	path = xasprintf("%s/courier/dhl.rrd", rrddir);
	char *cmd = xasprintf("cp '%s' '%s/escape.rrd'", path, rrddir);
	ok(system(cmd) == 0, "a real RRD file outside courier/");
	free(cmd);
	free(path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		measure("courier_ontime", bad[i], &a, &v, &rc, err, sizeof(err));
		ok(rc == SW_EINVAL && !v.has_data, "id '%s' refused: %s", bad[i], err);
	}
	measure("warehouse_feed_silent", "bad/../id", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_EINVAL, "feed: an unsafe warehouse id is an error");

	path = xasprintf("%s/courier/broken.rrd", rrddir);
	f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	measure("courier_ontime", "broken", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_EIO && strstr(err, "courier/broken.rrd"), "a broken file is an error: %s", err);
	free(path);
}

/* ---- cohort_slips ---------------------------------------------------------------- */

#define DAY 86400

/* n parcels of one lane, numbered from first: shipped at shipped,
 * promised by promised, delivered at delivered (0: in transit), and with
 * an open slip of kind (NULL: none; stage every second one "first_mile",
 * else stage) or a resolved one when resolved. */
struct lane_batch {
	const char *courier, *wh, *country, *postal;
	int first, n;
	int64_t shipped, promised, delivered;
	const char *kind, *stage;
	bool resolved;
};

static int lane_seed(const struct lane_batch *b)
{
	int bad = 0;

	for (int i = b->first; i < b->first + b->n; i++) {
		char oid[48], tn[48], entity[96];
		struct sw_order o = {.warehouse_id = b->wh, .order_id = oid};
		struct sw_parcel_update u = {.status = b->delivered ? SW_SHIP_DELIVERED
								    : SW_SHIP_IN_TRANSIT};

		snprintf(oid, sizeof(oid), "%s-%s-%d", b->courier, b->postal, i);
		snprintf(tn, sizeof(tn), "%s-%s-%d", b->wh, b->postal, i);
		o.dest_country = b->country;
		o.dest_postal_code = b->postal;
		o.promised_delivery_by =
		    (struct sw_promise){SW_PROMISE_INSTANT, "promise", {b->promised, 0}};
		o.stage[SW_STAGE_CREATED].at = b->shipped - 3600;
		o.stage[SW_STAGE_SHIPPED].at = b->shipped;
		u.event_at.at = b->delivered ? b->delivered : b->shipped + 600;
		u.delivered_at.at = b->delivered;
		bad |= sw_store_order_upsert(st, &o) != SW_OK;
		bad |= sw_store_parcel_upsert(st, b->courier, tn, b->wh, oid,
					      (struct sw_stamp){b->shipped, 0}) != SW_OK;
		bad |= sw_store_parcel_set_status(st, b->courier, tn, &u) != SW_OK;
		if (!b->kind)
			continue;
		snprintf(entity, sizeof(entity), "parcel:%s:%s", b->courier, tn);
		bad |= sw_store_alert_record(
			   st,
			   &(struct sw_alert){.entity = entity,
					      .kind = b->kind,
					      .promise = "",
					      .stage = i % 4 ? b->stage : "first_mile",
					      .detected_at = NOW - 600},
			   NULL) != SW_OK;
		if (b->resolved)
			bad |= sw_store_alert_resolve(st, entity, NULL, NOW - 300, NULL) != SW_OK;
	}
	return bad;
}

/* 200 stalled parcels of dhl w1 -> IN 560 among 5,000 on time across
 * lanes; ups w2 -> IN 110 with its usual 2% late, now as before. */
static void seed_cohorts(void)
{
	static const struct lane_batch b[] = {
	    /* dhl w1 -> IN 560: 200 stalled two days, 800 in transit since
	     * an hour, 1,000 delivered on time ten days ago */
	    {"dhl", "w1", "IN", "560001", 0, 200, NOW - 2 * DAY, NOW + DAY, 0, "stalled",
	     "line_haul", false},
	    {"dhl", "w1", "IN", "560001", 200, 800, NOW - 3600, NOW + DAY, 0, NULL, NULL, false},
	    {"dhl", "w1", "in", "560099", 1000, 1000, NOW - 10 * DAY, NOW - 7 * DAY, NOW - 8 * DAY,
	     NULL, NULL, false},
	    /* other lanes on time: 1,230 delivered, 500 in transit */
	    {"dhl", "w1", "IN", "110001", 0, 730, NOW - 9 * DAY, NOW - 6 * DAY, NOW - 8 * DAY, NULL,
	     NULL, false},
	    {"dhl", "w2", "IN", "560001", 0, 500, NOW - 9 * DAY, NOW - 6 * DAY, NOW - 8 * DAY, NULL,
	     NULL, false},
	    {"ups", "w1", "IN", "400001", 0, 500, NOW - 3600, NOW + DAY, 0, NULL, NULL, false},
	    /* ups w2 -> IN 110: 980 on time and 20 late ten days ago (2%), 490 in
	     * transit and 10 late now (2%) */
	    {"ups", "w2", "IN", "110001", 0, 980, NOW - 10 * DAY, NOW - 7 * DAY, NOW - 8 * DAY,
	     NULL, NULL, false},
	    {"ups", "w2", "IN", "110001", 980, 10, NOW - 10 * DAY, NOW - 9 * DAY, NOW - 7 * DAY,
	     NULL, NULL, false},
	    {"ups", "w2", "IN", "110001", 990, 10, NOW - 10 * DAY, NOW - 9 * DAY, NOW - 7 * DAY,
	     "late", "last_mile", true},
	    {"ups", "w2", "IN", "110001", 1000, 490, NOW - 3600, NOW + DAY, 0, NULL, NULL, false},
	    {"ups", "w2", "IN", "110001", 1490, 10, NOW - 3 * DAY, NOW - 3600, 0, "late",
	     "last_mile", false},
	};
	int bad = sw_store_begin(st) != SW_OK;

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		bad |= lane_seed(&b[i]);
	/* a second open kind of one member: still one parcel */
	bad |= sw_store_alert_record(st,
				     &(struct sw_alert){.entity = "parcel:dhl:w1-560001-1",
							.kind = "late",
							.stage = "last_mile",
							.detected_at = NOW - 60},
				     NULL) != SW_OK;
	bad |= sw_store_commit(st) != SW_OK;
	is_int(bad, 0, "cohorts seeded: %s", bad ? sw_store_errmsg(st) : "ok");
	is_int(raw_int(store_path, "SELECT count(*) FROM parcels WHERE order_ref IN (SELECT id FROM "
			       "orders WHERE warehouse_id IN ('w1', 'w2'))"),
	       5230, "5,230 parcels: 200 stalled, 30 late, 5,000 on time");
}

static void test_cohort_id(void)
{
	char id[SW_LABEL_VALUE_MAX + 1], big[400];

	sw_signal_cohort_id("dhl", "w1", "IN 560", id, sizeof(id));
	is_str(id, "dhl/w1/IN_560", "a cohort id: blanks as '_'");
	sw_signal_cohort_id("a,b=c", "w/1", "FR saint-\xc3\xa9tienne", id, sizeof(id));
	is_str(id, "a_b_c/w_1/FR_saint-__tienne", "what a label cannot hold is '_'");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sw_signal_cohort_id(big, "w1", "IN", id, sizeof(id));
	is_int(strlen(id), SW_LABEL_VALUE_MAX, "cut to a label value's length");
}

/* Feeds are dependencies: with [alerts] known, a lane whose courier's
 * feed is unhealthy is not judged. */
static void cohort_feed_held(const struct sw_sig_args *a)
{
	struct sw_conf *conf = NULL;
	struct sw_alerts_conf ac;
	struct sw_sig_value v;
	struct sw_rules r;
	char err[512] = "";
	enum sw_err rc;

	if (sw_conf_load_string("[alerts]\nfeed_window = 30m\n", "t.conf", &conf, err,
				sizeof(err)) != SW_OK ||
	    sw_rules_load(conf, &ac, &r, err, sizeof(err)) != SW_OK) {
		ok(0, "rules load: %s", err);
		sw_conf_free(conf);
		return;
	}
	ctx.rules = &r;
	ctx.alerts = &ac;
	json_decref(measure("cohort_slips", "dhl/w1/IN_560", a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && v.enough && v.value == 200.0, "dhl answered a minute ago: judged (%s)",
	   v.text);
	json_decref(measure("cohort_slips", "ups/w2/IN_110", a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && !v.enough, "ups never answered usefully: its lane is not judged");
	ok(strstr(v.text, "not judged while its feed is unhealthy: the ups tracking API") != NULL,
	   "and says why: %s", v.text);
	ctx.alerts = NULL;
	json_decref(measure("cohort_slips", "ups/w2/IN_110", a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && v.enough, "without [alerts] (the CLI) it is judged as ever");
	ctx.rules = NULL;
	ctx.alerts = NULL;
	sw_alerts_conf_free(&ac);
	sw_rules_free(&r);
	sw_conf_free(conf);
}

static void test_cohorts(void)
{
	const struct sw_signal *sig = sw_signal_find("cohort_slips");
	struct sw_sig_args a = args(NOW, 3 * DAY, 100);
	char err[512] = "", **ids = NULL;
	struct sw_sig_value v;
	size_t n = 0;
	enum sw_err rc;
	json_t *j;

	test_cohort_id();
	is_str(sw_signal_subject_label(sig), "lane", "cohorts are per lane");
	rc = sig->subjects(&ctx, &ids, &n, err, sizeof(err));
	is_int(rc, SW_OK, "cohort subjects %s", err);
	ok(n == 0, "no open parcel slips: no cohort (%zu)", n);
	sw_signal_ids_free(ids, n);
	seed_cohorts();
	rc = sig->subjects(&ctx, &ids, &n, err, sizeof(err));
	ok(rc == SW_OK && n == 2 && strcmp(ids[0], "dhl/w1/IN_560") == 0 &&
	       strcmp(ids[1], "ups/w2/IN_110") == 0,
	   "two cohorts, by lane, sorted (%zu: %s)", n, n ? ids[0] : "");
	sw_signal_ids_free(ids, n);

	j = measure("cohort_slips", "dhl/w1/IN_560", &a, &v, &rc, err, sizeof(err));
	is_int(rc, SW_OK, "stalled lane measured %s", err);
	ok(v.has_data && v.enough && v.count == 200 && v.value == 200.0,
	   "200 stalled of the lane (one with two kinds open): value 200 (%lld, %.0f)",
	   (long long)v.count, v.value);
	ok(fig(j, "size") == 1000 && fig(j, "baseline_parcels") == 1000 &&
	       fig(j, "baseline_slipped") == 0 && json_is_true(json_object_get(j, "unusual")),
	   "size 1,000, usual 0 of 1,000: unusual");
	ok(fabs(figr(j, "share_pct") - 20.0) < 0.01 && figr(j, "factor") == 3.0,
	   "share 20%%, factor 3");
	is_str(json_string_value(json_object_get(j, "stage")), "line_haul", "mostly line_haul");
	is_str(v.stage, "line_haul", "the stage that ran over");
	ok(json_array_size(json_object_get(j, "members")) >= 5 &&
	       json_array_size(json_object_get(j, "members")) <= 20 &&
	       strncmp(json_string_value(json_array_get(json_object_get(j, "members"), 0)),
		       "parcel:dhl:w1-560001-", 21) == 0,
	   "members listed, as many as fit (%zu)", json_array_size(json_object_get(j, "members")));
	is_str(v.text,
	       "200 of 1,000 parcels dhl w1 -> IN 560 slipped (20.0%, usual 0.0%), mostly "
	       "line_haul",
	       "the text");
	json_decref(j);
	cohort_feed_held(&a);

	a.min_count = 1001;
	json_decref(measure("cohort_slips", "dhl/w1/IN_560", &a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && !v.enough, "a lane smaller than min_count: not enough to judge");
	a.min_count = 100;

	j = measure("cohort_slips", "ups/w2/IN_110", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.count == 10 && v.value == 0.0 && v.enough,
	   "the lane's usual 2%%: count 10, value 0 (%.0f)", v.value);
	ok(fig(j, "size") == 500 && fig(j, "baseline_parcels") == 1000 &&
	       fig(j, "baseline_slipped") == 20 && json_is_false(json_object_get(j, "unusual")),
	   "size 500, usual 20 of 1,000 (late or slipped): not unusual");
	ok(strstr(v.text, "(2.0%, usual 2.0%), mostly last_mile: as usual") != NULL,
	   "text says as usual: %s", v.text);
	json_decref(j);
	a.factor = 1; /* the rule's factor: any share at its usual rate counts */
	json_decref(measure("cohort_slips", "ups/w2/IN_110", &a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && v.value == 10.0, "factor 1: the same lane is unusual, value 10 (%.0f)",
	   v.value);
	a.factor = 0;

	j = measure("cohort_slips", "dhl/w9/XX", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.enough && v.count == 0 && v.value == 0.0,
	   "a lane with no open slips (a cohort gone): value 0, judged (resolves)");
	json_decref(j);

	/* the stalled parcels delivered, their slips resolved: the cohort is gone */
	raw_exec(store_path, "UPDATE alerts SET resolved_at = 1 WHERE entity LIKE 'parcel:dhl:%'");
	json_decref(measure("cohort_slips", "dhl/w1/IN_560", &a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && v.count == 0 && v.value == 0.0, "slips resolved: value 0");
}

/* ---- a lane's counts: its members wherever and whenever they shipped ------------- */

/* fedex w3 -> IN 600: three members (one shipped before the baseline
 * days, one delivered with its slip still open, one shipped in the
 * baseline days), four others on their way (a fifth returned), two
 * delivered in the window; twelve in the baseline days, two of them
 * slipped (one delivered late, one with a resolved slip); one before the
 * baseline days; three of another destination. */
static void seed_lane_counts(void)
{
	static const struct lane_batch b[] = {
	    {"fedex", "w3", "IN", "600001", 0, 1, NOW - 60 * DAY, NOW - 50 * DAY, 0, "stalled",
	     "line_haul", false},
	    {"fedex", "w3", "IN", "600001", 1, 1, NOW - 2 * DAY, NOW - DAY, NOW - 3600, "late",
	     "last_mile", false},
	    {"fedex", "w3", "IN", "600001", 2, 1, NOW - 10 * DAY, NOW - 9 * DAY, 0, "stalled",
	     "line_haul", false},
	    {"fedex", "w3", "IN", "600001", 3, 5, NOW - DAY, NOW + DAY, 0, NULL, NULL, false},
	    {"fedex", "w3", "IN", "600001", 8, 2, NOW - DAY, NOW + DAY, NOW - 3600, NULL, NULL,
	     false},
	    {"fedex", "w3", "IN", "600001", 10, 10, NOW - 10 * DAY, NOW - 8 * DAY, NOW - 9 * DAY,
	     NULL, NULL, false},
	    {"fedex", "w3", "IN", "600001", 20, 1, NOW - 10 * DAY, NOW - 9 * DAY, NOW - 8 * DAY,
	     NULL, NULL, false},
	    {"fedex", "w3", "IN", "600001", 21, 1, NOW - 10 * DAY, NOW - 8 * DAY, NOW - 9 * DAY,
	     "late", "last_mile", true},
	    {"fedex", "w3", "IN", "600001", 22, 1, NOW - 40 * DAY, NOW - 38 * DAY, NOW - 39 * DAY,
	     NULL, NULL, false},
	    {"fedex", "w3", "IN", "110001", 0, 3, NOW - DAY, NOW + DAY, 0, NULL, NULL, false},
	};
	int bad = sw_store_begin(st) != SW_OK;

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		bad |= lane_seed(&b[i]);
	bad |= sw_store_commit(st) != SW_OK;
	is_int(bad, 0, "lane counts seeded: %s", bad ? sw_store_errmsg(st) : "ok");
	raw_exec(store_path, "UPDATE parcels SET status = 'returned', terminal = 1"
			" WHERE tracking_number = 'w3-600001-7'");
	is_int(raw_int(store_path, "SELECT count(*) FROM parcels WHERE courier = 'fedex'"
			       " AND terminal = 1 AND delivered_at IS NULL"),
	       1, "one of the lane's parcels returned");
}

static void test_lane_counts(void)
{
	const struct sw_signal *sig = sw_signal_find("cohort_slips");
	struct sw_sig_args a = args(NOW, 3 * DAY, 1);
	char err[512] = "", id[SW_LABEL_VALUE_MAX + 1], **ids = NULL;
	struct sw_sig_lane lane;
	struct sw_sig_value v;
	size_t n = 0;
	enum sw_err rc;
	json_t *j;

	seed_lane_counts();
	rc = sw_store_sig_lane(st, "fedex", "w3", "IN 600", NOW - 3 * DAY, NOW - 31 * DAY, &lane);
	is_int(rc, SW_OK, "lane counted %s", rc ? sw_store_errmsg(st) : "");
	ok(lane.others == 4 && lane.base_parcels == 12 && lane.base_slipped == 2,
	   "others 4 (not the members, the delivered or the returned), baseline 12, 2 slipped "
	   "(%lld, %lld, %lld)",
	   (long long)lane.others, (long long)lane.base_parcels, (long long)lane.base_slipped);
	rc = sw_store_sig_lane(st, "fedex", "w3", "IN 600", NOW - 3 * DAY, NOW, &lane);
	ok(rc == SW_EINVAL, "a baseline after the window: SW_EINVAL");
	rc = sw_store_sig_lane(st, "fedex", "", "IN 600", NOW - 3 * DAY, NOW - 31 * DAY, &lane);
	ok(rc == SW_EINVAL, "no warehouse: SW_EINVAL");

	j = measure("cohort_slips", "fedex/w3/IN_600", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.count == 3 && fig(j, "size") == 7 && fig(j, "baseline_parcels") == 12 &&
	       fig(j, "baseline_slipped") == 2,
	   "size = 3 members (one shipped 60 days ago, one delivered) + 4 others: 7 (%lld, %lld)",
	   (long long)v.count, (long long)fig(j, "size"));
	json_decref(j);

	rc = sw_signal_members(sig, &ctx, "fedex/w3/IN_600", &ids, &n, err, sizeof(err));
	ok(rc == SW_OK && n == 3 && strcmp(ids[0], "parcel:fedex:w3-600001-0") == 0 &&
	       strcmp(ids[1], "parcel:fedex:w3-600001-1") == 0 &&
	       strcmp(ids[2], "parcel:fedex:w3-600001-2") == 0,
	   "members: the three, sorted (%zu)", n);
	sw_signal_ids_free(ids, n);
	rc = sw_signal_members(sig, &ctx, "fedex/w3/IN_110", &ids, &n, err, sizeof(err));
	ok(rc == SW_OK && n == 0 && ids == NULL, "a lane without slips: no members");
	rc = sw_signal_members(sw_signal_find("journal_lag"), &ctx, "", &ids, &n, err, sizeof(err));
	ok(rc == SW_EINVAL && strstr(err, "not a cohort signal") && ids == NULL,
	   "members of a signal without cohorts: SW_EINVAL (%s)", err);

	rc = sw_signal_subject_of(sig, &ctx, "parcel:fedex:w3-600001-0", id, sizeof(id), err,
				  sizeof(err));
	ok(rc == SW_OK && strcmp(id, "fedex/w3/IN_600") == 0, "subject_of a member: its lane (%s)",
	   id);
	rc = sw_signal_subject_of(sig, &ctx, "parcel:fedex:w3-110001-1", id, sizeof(id), err,
				  sizeof(err));
	ok(rc == SW_OK && strcmp(id, "fedex/w3/IN_110") == 0,
	   "subject_of a parcel without a slip: its lane all the same (%s)", id);
	ok(sw_signal_subject_of(sig, &ctx, "parcel:fedex:nope", id, sizeof(id), err, sizeof(err)) ==
		   SW_ENOTFOUND &&
	       id[0] == '\0',
	   "an unknown parcel: SW_ENOTFOUND, id empty");
	ok(sw_signal_subject_of(sig, &ctx, "order:blr1:o1", id, sizeof(id), err, sizeof(err)) ==
	       SW_ENOTFOUND,
	   "an order is not a parcel cohort's unit: SW_ENOTFOUND");
	ok(sw_signal_subject_of(sig, &ctx, "parcel:", id, sizeof(id), err, sizeof(err)) ==
		   SW_ENOTFOUND &&
	       sw_signal_subject_of(sig, &ctx, "parcel:fedex:", id, sizeof(id), err, sizeof(err)) ==
		   SW_ENOTFOUND &&
	       sw_signal_subject_of(sig, &ctx, "junk", id, sizeof(id), err, sizeof(err)) ==
		   SW_ENOTFOUND,
	   "malformed entities: SW_ENOTFOUND");
	ok(sw_signal_subject_of(sw_signal_find("courier_ontime"), &ctx, "parcel:fedex:x", id,
				sizeof(id), err, sizeof(err)) == SW_EINVAL,
	   "subject_of with a signal without cohorts: SW_EINVAL");

	/* A member whose latest slip ran over at the warehouse (it left late)
	 * is its warehouse's cohort, not its lane's. */
	rc = sw_store_alert_record(st,
				   &(struct sw_alert){.entity = "parcel:fedex:w3-600001-2",
						      .kind = "late",
						      .stage = "warehouse",
						      .stage_ratio = 1.5,
						      .detected_at = NOW},
				   NULL);
	is_int(rc, SW_OK, "a newer late slip, stage warehouse, for one member");
	j = measure("cohort_slips", "fedex/w3/IN_600", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.count == 2, "  the lane counts the other two (%lld)", (long long)v.count);
	json_decref(j);
	rc = sw_signal_members(sig, &ctx, "fedex/w3/IN_600", &ids, &n, err, sizeof(err));
	ok(rc == SW_OK && n == 2 && strcmp(ids[1], "parcel:fedex:w3-600001-1") == 0,
	   "  and lists them as its members (%zu)", n);
	sw_signal_ids_free(ids, n);
	ok(sw_signal_subject_of(sig, &ctx, "parcel:fedex:w3-600001-2", id, sizeof(id), err,
				sizeof(err)) == SW_ENOTFOUND,
	   "  subject_of it: no lane (its customer hears of its own slip)");
	sw_store_alert_resolve(st, "parcel:fedex:w3-600001-2", ",stalled,", NOW, NULL);
}

/* ---- cohort_ship_late: a warehouse's ship day --------------------------------------- */

/* n orders of wh ids PREFIX-i, due to ship by ship_by, shipped at shipped
 * (0: not), cancelled at cancelled, with an open ship_late slip when
 * slip. */
static int ship_batch(const char *wh, const char *prefix, int n, int64_t ship_by, int64_t shipped,
		      int64_t cancelled, bool slip)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		char id[48], entity[96];

		snprintf(id, sizeof(id), "%s-%02d", prefix, i);
		order(wh, id, ship_by, ship_by - DAY, 0, shipped, cancelled);
		if (!slip)
			continue;
		snprintf(entity, sizeof(entity), "order:%s:%s", wh, id);
		bad |= sw_store_alert_record(st,
					     &(struct sw_alert){.entity = entity,
								.kind = "ship_late",
								.stage = "warehouse",
								.detected_at = ship_by + 60},
					     NULL) != SW_OK;
	}
	return bad;
}

/*
 * NOW is 2023-11-15T01:00Z, 06:30 in Asia/Kolkata (wsl's zone), whose
 * 2023-11-15 runs from NOW - 6h30 to NOW + 17h30.
 * wsl: 30 of the 120 orders due that day are past their ship-by (5 of
 * them at 01:30 IST, still 2023-11-14 in UTC); 70 shipped on time, 20
 * due later, one cancelled; one from 2023-11-14 (IST) still waiting; 200
 * due five days ago, 4 shipped late (2%).
 * wus (UTC): 12 of 100 due today waiting, as usual (10 of 100 before).
 */
static void seed_ship_days(void)
{
	int bad = sw_store_begin(st) != SW_OK;

	bad |= ship_batch("wsl", "late", 25, NOW - 3600, 0, 0, true);
	bad |= ship_batch("wsl", "early", 5, NOW - 5 * 3600, 0, 0, true);
	bad |= ship_batch("wsl", "ok", 70, NOW - 3600, NOW - 7200, 0, false);
	bad |= ship_batch("wsl", "later", 20, NOW + 10 * 3600, 0, 0, false);
	bad |= ship_batch("wsl", "cancel", 1, NOW - 3600, 0, NOW - 7200, false);
	bad |= ship_batch("wsl", "yday", 1, NOW - 20 * 3600, 0, 0, true);
	bad |= ship_batch("wsl", "base", 196, NOW - 5 * DAY, NOW - 5 * DAY - 3600, 0, false);
	bad |= ship_batch("wsl", "baselate", 4, NOW - 5 * DAY, NOW - 5 * DAY + 3600, 0, false);
	bad |= ship_batch("wsl", "old", 1, NOW - 40 * DAY, NOW - 39 * DAY, 0, false);
	bad |= ship_batch("wus", "base", 90, NOW - 5 * DAY, NOW - 5 * DAY - 3600, 0, false);
	bad |= ship_batch("wus", "baselate", 10, NOW - 5 * DAY, NOW - 4 * DAY, 0, false);
	bad |= ship_batch("wus", "ok", 88, NOW - 3600, NOW - 7200, 0, false);
	bad |= ship_batch("wus", "late", 12, NOW - 3600, 0, 0, true);
	bad |= sw_store_commit(st) != SW_OK;
	is_int(bad, 0, "ship days seeded: %s", bad ? sw_store_errmsg(st) : "ok");
	is_int(raw_int(store_path, "SELECT count(*) FROM orders WHERE warehouse_id IN ('wsl', 'wus')"),
	       523, "523 orders of wsl and wus");
}

/* Loads "[rule wsl] working_timezone = Asia/Kolkata" into ctx. */
static bool ist_rules(struct sw_alerts_conf *ac, struct sw_rules *r)
{
	struct sw_conf *conf = NULL;
	char err[512];
	bool good =
	    sw_conf_load_string("[rule wsl]\nwarehouse = wsl\nworking_timezone = Asia/Kolkata\n",
				"t.conf", &conf, err, sizeof(err)) == SW_OK &&
	    sw_rules_load(conf, ac, r, err, sizeof(err)) == SW_OK;

	ok(good, "rules with wsl's zone: %s", good ? "loaded" : err);
	sw_conf_free(conf);
	if (good) {
		ctx.rules = r;
		ctx.alerts = ac;
	}
	return good;
}

static void test_ship_day_ids(void)
{
	const struct sw_signal *sig = sw_signal_find("cohort_ship_late");
	char id[SW_LABEL_VALUE_MAX + 1], err[256], **ids = NULL;
	size_t n = 0;

	sw_signal_ship_day_id(&ctx, "wsl", NOW - 5 * 3600, id, sizeof(id));
	is_str(id, "wsl/2023-11-15", "ship day in the warehouse's zone: 01:30 IST is the 15th");
	sw_signal_ship_day_id(&ctx, "wus", NOW - 5 * 3600, id, sizeof(id));
	is_str(id, "wus/2023-11-14", "a warehouse without a zone: default_timezone (UTC)");
	sw_signal_ship_day_id(&ctx, "w/1 x,y", NOW, id, sizeof(id));
	is_str(id, "w_1_x_y/2023-11-15", "what a label cannot hold is '_'");
	ok(sw_signal_subject_of(sig, &ctx, "order:wsl:early-03", id, sizeof(id), err,
				sizeof(err)) == SW_OK &&
	       strcmp(id, "wsl/2023-11-15") == 0,
	   "subject_of an order: its warehouse's ship day (%s)", id);
	ok(sw_signal_subject_of(sig, &ctx, "order:wsl:ok-03", id, sizeof(id), err, sizeof(err)) ==
		   SW_OK &&
	       strcmp(id, "wsl/2023-11-15") == 0,
	   "subject_of an order shipped on time: its ship day all the same");
	ok(sw_signal_subject_of(sig, &ctx, "parcel:fedex:w3-600001-0", id, sizeof(id), err,
				sizeof(err)) == SW_ENOTFOUND,
	   "a parcel is not an order cohort's unit: SW_ENOTFOUND");
	ok(sw_signal_subject_of(sig, &ctx, "order:wsl:nope", id, sizeof(id), err, sizeof(err)) ==
		   SW_ENOTFOUND &&
	       sw_signal_subject_of(sig, &ctx, "order:blr1:", id, sizeof(id), err, sizeof(err)) ==
		   SW_ENOTFOUND,
	   "an unknown or malformed order: SW_ENOTFOUND");
	order("wsl", "noshipby", 0, NOW - DAY, 0, 0, 0);
	ok(sw_signal_subject_of(sig, &ctx, "order:wsl:noshipby", id, sizeof(id), err,
				sizeof(err)) == SW_ENOTFOUND,
	   "an order without a ship-by has no ship day: SW_ENOTFOUND");
	ok(sig->subjects(&ctx, &ids, &n, err, sizeof(err)) == SW_OK && n == 3 &&
	       strcmp(ids[0], "wsl/2023-11-14") == 0 && strcmp(ids[1], "wsl/2023-11-15") == 0 &&
	       strcmp(ids[2], "wus/2023-11-15") == 0,
	   "subjects: the days with open ship_late slips, sorted (%zu)", n);
	sw_signal_ids_free(ids, n);
}

static void test_ship_days(void)
{
	const struct sw_signal *sig = sw_signal_find("cohort_ship_late");
	struct sw_sig_args a = args(NOW, DAY, 50);
	char err[512] = "", **ids = NULL;
	struct sw_sig_ship_day d;
	struct sw_alerts_conf ac;
	struct sw_sig_value v;
	struct sw_rules r;
	size_t n = 0;
	enum sw_err rc;
	json_t *j;

	seed_ship_days();
	/* without the rules, every day is UTC's */
	ok(sw_signal_members(sig, &ctx, "wsl/2023-11-15", &ids, &n, err, sizeof(err)) == SW_OK &&
	       n == 25,
	   "UTC: the 15th has 25 members (%zu)", n);
	sw_signal_ids_free(ids, n);
	if (!ist_rules(&ac, &r))
		return;
	test_ship_day_ids();
	rc = sw_signal_members(sig, &ctx, "wsl/2023-11-15", &ids, &n, err, sizeof(err));
	ok(rc == SW_OK && n == 30 && strcmp(ids[0], "order:wsl:early-00") == 0 &&
	       strcmp(ids[29], "order:wsl:late-24") == 0,
	   "IST: the 15th has 30 members, sorted (%zu)", n);
	sw_signal_ids_free(ids, n);
	rc = sw_store_sig_ship_day(st, "wsl", NOW - 6 * 3600 - 1800 - 28 * DAY,
				   NOW - 6 * 3600 - 1800, NOW + 17 * 3600 + 1800, NOW, &d);
	ok(rc == SW_OK && d.due == 120 && d.base_orders == 201 && d.base_late == 5,
	   "the day's 120 due (not the cancelled one), 201 before, 5 late (%lld, %lld, %lld)",
	   (long long)d.due, (long long)d.base_orders, (long long)d.base_late);
	ok(sw_store_sig_ship_day(st, "wsl", NOW, NOW, NOW, NOW, &d) == SW_EINVAL,
	   "an empty day: SW_EINVAL");

	j = measure("cohort_ship_late", "wsl/2023-11-15", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.enough && v.count == 30 && v.value == 30.0,
	   "a missed cut-off: 30 of 120, value 30 (%lld, %.0f)", (long long)v.count, v.value);
	ok(fig(j, "size") == 120 && fig(j, "baseline_orders") == 201 &&
	       fig(j, "baseline_late") == 5 && fabs(figr(j, "share_pct") - 25.0) < 0.01 &&
	       json_is_true(json_object_get(j, "unusual")),
	   "figures: size 120, usual 5 of 201, share 25%%, unusual");
	is_str(json_string_value(json_object_get(j, "ship_day")), "2023-11-15", "figures: the day");
	is_str(json_string_value(json_object_get(j, "stage")), "warehouse", "figures: the stage");
	is_str(v.stage, "warehouse", "the stage that ran over: the warehouse");
	ok(json_array_size(json_object_get(j, "members")) == 20 &&
	       strcmp(json_string_value(json_array_get(json_object_get(j, "members"), 0)),
		      "order:wsl:early-00") == 0,
	   "figures: members as many as listed (%zu)",
	   json_array_size(json_object_get(j, "members")));
	is_str(v.text,
	       "30 of 120 orders of wsl due to ship on 2023-11-15 not shipped by their ship-by "
	       "(25.0%, usual 2.5% late)",
	       "the text");
	json_decref(j);

	j = measure("cohort_ship_late", "wus/2023-11-15", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.enough && v.count == 12 && v.value == 0.0 &&
	       json_is_false(json_object_get(j, "unusual")),
	   "the warehouse's usual few (12%% against 10%%): value 0 (%.0f)", v.value);
	ok(strstr(v.text, "(12.0%, usual 10.0% late): as usual for the warehouse") != NULL,
	   "text says as usual: %s", v.text);
	json_decref(j);
	a.factor = 1;
	json_decref(measure("cohort_ship_late", "wus/2023-11-15", &a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && v.value == 12.0, "factor 1: unusual, value 12 (%.0f)", v.value);
	a.factor = 0;

	json_decref(measure("cohort_ship_late", "wsl/2023-11-14", &a, &v, &rc, err, sizeof(err)));
	ok(rc == SW_OK && v.count == 1 && !v.enough,
	   "yesterday's one late order: a day of 1 order, below min_count");

	/* the warehouse catches up: the slips resolve */
	raw_exec(store_path, "UPDATE alerts SET resolved_at = 1 WHERE entity LIKE 'order:wsl:%'");
	j = measure("cohort_ship_late", "wsl/2023-11-15", &a, &v, &rc, err, sizeof(err));
	ok(rc == SW_OK && v.has_data && v.enough && v.count == 0 && v.value == 0.0,
	   "shipped: no members, value 0, judged (resolves)");
	json_decref(j);
	ctx.rules = NULL;
	ctx.alerts = NULL;
	sw_alerts_conf_free(&ac);
	sw_rules_free(&r);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	if (!(st = store_tmp_open()))
		return store_tmp_done(NULL);
	rrddir = xasprintf("%s/rrd", tmpdir);
	rconf = (struct sw_rrd_conf){
	    .dir = rrddir, .step_ms = STEP * 1000, .rrdcached = "", .reconnect_max_ms = 60000};
	ctx = (struct sw_sig_ctx){.st = st, .rrd = &rconf, .cursor = "alerts"};

	write_rrd();
	seed_orders();
	seed_notices();
	seed_journal();
	/* a file that is not an RRD file, for the subjects and errors */
	char *broken = xasprintf("%s/courier/broken.rrd", rrddir);
	FILE *f = fopen(broken, "w");
	if (f)
		fclose(f);
	free(broken);

	test_table();
	test_subjects();
	test_courier_ontime();
	test_api_errors();
	test_feed_silent();
	test_orders();
	test_email();
	test_journal();
	test_probe();
	test_feeds();
	test_hostile();
	test_cohorts();
	test_lane_counts();
	test_ship_days();

	free(rrddir);
	return store_tmp_done(st);
}
