/*
 * test_poll.c - unit tests for collector/poll.c, the courier poll engine.
 *
 * A scripted courier API (tests/data/poll/stub_courier.py, found through
 * $SW_TEST_DATA, else tests/data) runs as a child process on a free local
 * port and logs every request with its time; the engine runs on a real
 * loop against a real store in a private temp dir (or on PostgreSQL:
 * tests/store_tmp.h).  Behaviour is chosen by
 * tracking number (see the stub): end to end DHL, duplicate events, 429
 * with Retry-After, 500 backoff, FedEx token refresh on 401, oversized
 * bodies, timeouts, stop with transfers in flight, and config errors.
 * Skipped (TAP plan 0) when python3 is missing.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collector/poll.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/store.h"
#include "lib/store_feeds.h"
#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"
#include "tests/stub_proc.h"
#include "tests/log_capture.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

static struct stub_proc stub;
static int stub_port;
static char *stub_log;

static struct sw_loop *loop;
static struct sw_store *store;
static struct sw_metrics *metrics;

static int start_stub(void)
{
	char *script = stub_data_path("poll/stub_courier.py");
	char *portfile = xasprintf("%s/port", tmpdir);
	const char *args[] = {script, portfile, NULL, NULL};

	stub_log = xasprintf("%s/requests.log", tmpdir);
	args[2] = stub_log;
	stub_proc_start(&stub, portfile, false, args);
	stub_port = stub.port;
	free(script);
	free(portfile);
	return stub_port > 0;
}

static void stop_stub(void)
{
	stub_proc_stop(&stub);
}

/* Times (unix s) of the stub's requests for tracking number tn (a
 * substring match on the logged "tn"), up to max; returns how many. */
static int request_times(const char *tn, double *times, int max)
{
	char line[1024], key[128];
	FILE *f = fopen(stub_log, "r");
	int n = 0;

	snprintf(key, sizeof(key), "\"tn\": \"%s", tn);
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, key) && n < max)
			times[n++] = strtod(line + strlen("{\"t\": "), NULL);
	if (f)
		fclose(f);
	return n;
}

static const char conf_fmt[] = "[courier %s]\n"
			       "adapter = dhl\n"
			       "base_url = http://127.0.0.1:%d/dhl\n"
			       "api_key_env = SWT_DHL_KEY\n"
			       "interval = 10s\n"
			       "interval_near = 5s\n"
			       "interval_max = 40s\n"
			       "rate = 50\n"
			       "burst = 10\n"
			       "backoff_min = 2s\n"
			       "backoff_max = 8s\n"
			       "%s";

struct eng {
	struct sw_conf *conf;
	struct sw_poll_conf *pc;
	struct sw_poll_engine *p;
};

/* An engine for conf_fmt (a DHL courier called name) plus extra lines,
 * started.  Each test uses its own courier name, so that parcels left by
 * one test are never polled by the next. */
static bool eng_start(struct eng *e, const char *name, const char *extra)
{
	char err[512] = "";
	char *text = xasprintf(conf_fmt, name, stub_port, extra);
	enum sw_err rc;

	memset(e, 0, sizeof(*e));
	rc = sw_conf_load_string(text, "t.conf", &e->conf, err, sizeof(err));
	if (rc == SW_OK)
		rc = sw_poll_conf_load(e->conf, &e->pc, err, sizeof(err));
	if (rc == SW_OK) {
		e->pc->tick_ms = 50;
		e->pc->seed_ms = 200;
		e->pc->gauge_ms = 200;
		rc = sw_poll_new(loop, store, metrics, e->pc, &e->p, err, sizeof(err));
	}
	if (rc == SW_OK)
		rc = sw_poll_start(e->p);
	free(text);
	if (!ok(rc == SW_OK, "engine started"))
		printf("#   %s: %s\n", sw_err_name(rc), err);
	return rc == SW_OK;
}

static void eng_end(struct eng *e)
{
	sw_poll_free(e->p);
	sw_poll_conf_free(e->pc);
	sw_conf_free(e->conf);
	memset(e, 0, sizeof(*e));
}

static struct sw_poll_stats stats(struct eng *e, const char *name)
{
	struct sw_poll_stats st;

	memset(&st, 0, sizeof(st));
	sw_poll_get_stats(e->p, name, &st);
	return st;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop until cond(e) or ms pass; returns cond's last value.
 * ms is a failure bound, never an expectation: it is multiplied by
 * WAIT_SCALE so that a loaded machine (two suites on two cores,
 * sanitizers) does not reach it.  No test runs the loop for a time and
 * then counts: each waits for the state it then checks. */
#define WAIT_SCALE 10
static bool run_until(struct eng *e, bool (*cond)(struct eng *), int64_t ms)
{
	int64_t end = now_ms() + ms * WAIT_SCALE;

	while (!cond(e) && now_ms() < end)
		sw_loop_run_once(loop, 20);
	return cond(e);
}

/* A parcel of courier due now with an interval. */
static void add_parcel(const char *courier, const char *tn, int interval_s)
{
	struct sw_poll sp = {0};

	sw_store_parcel_upsert(store, courier, tn, NULL, NULL, (struct sw_stamp){1773000000, 0});
	sp.courier = courier;
	sp.tracking_number = tn;
	sp.next_poll_at = time(NULL) - 1;
	sp.interval_s = interval_s;
	sw_store_poll_upsert(store, &sp);
}

/* The schedule of one parcel (any due time), or found = false. */
static bool schedule_of(const char *courier, const char *tn, struct sw_poll *ret)
{
	struct sw_poll *due = NULL;
	size_t n = 0;
	bool found = false;

	sw_store_poll_due_courier(store, courier, INT64_C(1) << 40, 1000, &due, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(due[i].tracking_number, tn) == 0) {
			*ret = due[i];
			ret->courier = ret->tracking_number = NULL;
			ret->last_error = NULL;
			found = true;
		}
	sw_store_poll_free(due, n);
	return found;
}

static char *last_error_of(const char *courier, const char *tn)
{
	struct sw_poll *due = NULL;
	size_t n = 0;
	char *err = NULL;

	sw_store_poll_due_courier(store, courier, INT64_C(1) << 40, 1000, &due, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(due[i].tracking_number, tn) == 0 && due[i].last_error)
			err = xstrdup(due[i].last_error);
	sw_store_poll_free(due, n);
	return err;
}

static void make_due(const char *courier, const char *tn)
{
	struct sw_poll sp;

	if (!schedule_of(courier, tn, &sp))
		return;
	sp.courier = courier;
	sp.tracking_number = tn;
	sp.next_poll_at = time(NULL) - 1;
	sw_store_poll_upsert(store, &sp);
}

static int64_t journal_count(void)
{
	int64_t n = -1;

	sw_store_journal_count(store, &n);
	return n;
}

static uint64_t counter(const char *file, const char *ds)
{
	const struct sw_metric_value *v = sw_metrics_peek(metrics, file, ds);

	return v ? (v->kind == SW_METRIC_SAMPLES ? v->dist.count : v->count) : 0;
}

/* ---- conditions --------------------------------------------------------- */

static const char *cond_name;
static uint64_t cond_want;

static bool found_n(struct eng *e)
{
	return stats(e, cond_name).found >= cond_want && stats(e, cond_name).in_flight == 0;
}

static bool requests_done(struct eng *e)
{
	struct sw_poll_stats st = stats(e, cond_name);

	return st.requests >= cond_want && st.in_flight == 0;
}

static bool settled(struct eng *e)
{
	struct sw_poll_stats st = stats(e, cond_name);

	return st.found + st.not_found + st.errors + st.rejected >= cond_want && st.in_flight == 0;
}

static bool backed_off(struct eng *e)
{
	struct sw_poll_stats st = stats(e, cond_name);

	return st.backoffs >= cond_want && st.in_flight == 0;
}

static bool sending(struct eng *e)
{
	return stats(e, cond_name).in_flight >= (int)cond_want;
}

/* The daily quota held a scheduler pass back after cond_want requests. */
static bool quota_held(struct eng *e)
{
	struct sw_poll_stats st = stats(e, cond_name);

	return st.quota_waits > 0 && st.requests >= cond_want && st.in_flight == 0;
}

/* A gauge pass has counted cond_want parcels of courier/dhl in transit. */
static bool gauges_in_transit(struct eng *e)
{
	const struct sw_metric_value *g =
	    sw_metrics_peek(metrics, "courier/dhl", "status_in_transit");

	(void)e;
	return g && g->kind == SW_METRIC_GAUGE && g->gauge == (double)cond_want;
}

/* ---- tests -------------------------------------------------------------- */

static void test_conf(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"[courier acme]\napi_key_env = SWT_DHL_KEY\n", "t.conf:1: [courier acme] adapter"},
	    {"[mqtt]\n\n[courier dhl]\ninterval = 1h\n", "t.conf:3: [courier dhl] credentials"},
	    {"[courier fx]\nadapter = fedex\napi_key_env = SWT_FX_ID\n",
	     "t.conf:1: [courier fx] credentials: the fedex adapter needs api_key and api_secret"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nrate = fast\n", "t.conf:3:"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nadapter = pigeon\n", "t.conf:3:"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nmax_response = 8M\n", "t.conf:3:"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\ninterval = 13h\n",
	     "t.conf:1: [courier dhl] interval_max"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nbackoff_min = 2h\n",
	     "t.conf:1: [courier dhl] backoff_max"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nnot_found_max = 1h\n",
	     "t.conf:1: [courier dhl] not_found_max: shorter than interval: '3600s'"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\ngive_up_after = 400d\n", "t.conf:3:"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\ngive_up_after = soon\n", "t.conf:3:"},
	    {"[courier dhl]\napi_key = k-dhl\n", "t.conf:2:"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nbase_url = http://api.dhl.example/track\n",
	     "t.conf:3: [courier dhl] base_url: http:// to a non-loopback host would send the API "
	     "key in clear text; use https:// or set allow_plaintext = yes: 'api.dhl.example'"},
	    {"[courier fx]\nadapter = fedex\napi_key_env = SWT_FX_ID\napi_secret_env = SWT_FX_SECRET\n"
	     "auth_url = http://10.1.2.3/oauth\n",
	     "t.conf:5: [courier fx] auth_url: http:// to a non-loopback host would send the API key"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nbase_url = api.dhl.example/track\n",
	     "t.conf:3: [courier dhl] base_url: not an http:// or https:// URL with a host"},
	};
	static const char *const plain_ok[] = {
	    "[courier dhl]\napi_key_env = SWT_DHL_KEY\nbase_url = http://127.0.0.1:8080/dhl\n",
	    "[courier dhl]\napi_key_env = SWT_DHL_KEY\nbase_url = http://localhost/dhl\n",
	    "[courier dhl]\napi_key_env = SWT_DHL_KEY\nbase_url = http://[::1]:8080/dhl\n",
	    "[courier dhl]\napi_key_env = SWT_DHL_KEY\nbase_url = https://api.dhl.example/track\n",
	    "[courier dhl]\napi_key_env = SWT_DHL_KEY\nbase_url = http://api.dhl.example/track\n"
	    "allow_plaintext = yes\n",
	};
	struct sw_poll_conf *pc = NULL;
	struct sw_poll_courier_conf *cf;
	struct sw_conf *conf = NULL;
	char err[512];

	is_int(sw_conf_table_check(sw_poll_courier_table, err, sizeof(err)), SW_OK,
	       "option table is consistent");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sw_err rc;

		err[0] = '\0';
		sw_conf_load_string(bad[i].text, "t.conf", &conf, err, sizeof(err));
		rc = sw_poll_conf_load(conf, &pc, err, sizeof(err));
		is_int(rc, SW_ECONF, "bad config %zu refused", i);
		ok(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0, "  error '%s' starts '%s'",
		   err, bad[i].want);
		ok(strstr(err, "k-dhl") == NULL, "  no secret in the error");
		ok(pc == NULL, "  no list");
		sw_conf_free(conf);
		conf = NULL;
	}

	for (size_t i = 0; i < sizeof(plain_ok) / sizeof(plain_ok[0]); i++) {
		err[0] = '\0';
		sw_conf_load_string(plain_ok[i], "t.conf", &conf, err, sizeof(err));
		is_int(sw_poll_conf_load(conf, &pc, err, sizeof(err)), SW_OK,
		       "loopback, https or allow_plaintext: case %zu accepted %s", i, err);
		sw_poll_conf_free(pc);
		sw_conf_free(conf);
		pc = NULL;
		conf = NULL;
	}
	/* another program's -t: the key is not read, the rule holds */
	sw_conf_load_string("[courier dhl]\napi_key_env = SWT_UNSET_KEY\n"
			    "base_url = http://api.dhl.example/track\n",
			    "t.conf", &conf, err, sizeof(err));
	sw_conf_set_text_only(conf, true);
	unsetenv("SWT_UNSET_KEY");
	is_int(sw_poll_conf_load(conf, &pc, err, sizeof(err)), SW_ECONF,
	       "text only: an unread key still may not go out in clear text");
	ok(strncmp(err, "t.conf:3: [courier dhl] base_url: http://", 41) == 0, "  %s", err);
	sw_conf_free(conf);
	conf = NULL;

	sw_conf_load_string("[courier dhl]\napi_key_env = SWT_DHL_KEY\n"
			    "[courier fx]\nadapter = fedex\napi_key_env = SWT_FX_ID\n"
			    "api_secret_env = SWT_FX_SECRET\ndaily_quota = 100\n",
			    "t.conf", &conf, err, sizeof(err));
	is_int(sw_poll_conf_load(conf, &pc, err, sizeof(err)), SW_OK, "good config");
	is_int(pc ? pc->n : 0, 2, "  two couriers");
	cf = sw_poll_conf_find(pc, "dhl");
	if (ok(cf != NULL, "  dhl found")) {
		is_str(sw_poll_adapter_words[cf->adapter], "dhl", "  adapter auto = dhl");
		is_int(cf->concurrency, 4, "  concurrency default 4");
		is_int(cf->timeout, 20000, "  timeout default 20 s");
		is_int(cf->max_response, 4 * 1024 * 1024, "  max_response default 4M");
		is_int(cf->interval, 7200000, "  interval default 2h");
		is_int(cf->interval_near, 1800000, "  interval_near default 30m");
		is_int(cf->interval_max, 43200000, "  interval_max default 12h");
		is_int(cf->cooldown, 60000, "  cooldown default 60 s");
		is_int(cf->backoff_max, 3600000, "  backoff_max default 1h");
		is_int(cf->not_found_max, 86400000, "  not_found_max default 1d");
		is_int(cf->give_up_after, INT64_C(14) * 86400000, "  give_up_after default 14d");
		is_str(cf->api_key.value, "k-dhl", "  key from the environment");
		ok(cf->base_url == NULL, "  base_url: adapter default");
	}
	cf = sw_poll_conf_find(pc, "fx");
	if (ok(cf != NULL, "  fx found")) {
		is_str(sw_poll_adapter_words[cf->adapter], "fedex", "  adapter fedex");
		is_int(cf->daily_quota, 100, "  daily_quota");
	}
	ok(sw_poll_conf_find(pc, "ups") == NULL, "  no ups");
	sw_poll_conf_free(pc);
	sw_conf_free(conf);

	is_int(sw_poll_conf_load(NULL, &pc, err, sizeof(err)), SW_OK, "no file: empty list");
	is_int(pc ? pc->n : 99, 0, "  zero couriers");
	sw_poll_conf_free(pc);
}

static void test_dhl_end_to_end(void)
{
	struct eng e;
	struct sw_parcel *par = NULL;
	struct sw_poll sp;
	int64_t j0 = journal_count(), t0 = time(NULL);
	const struct sw_metric_value *g;

	add_parcel("dhl", "JD001", 10);
	{
		/* DL001 belongs to an order promised an hour after its delivery */
		struct sw_order o = { 0 };

		o.warehouse_id = "w1";
		o.order_id = "O-DL";
		o.promised_delivery_by.kind = SW_PROMISE_INSTANT;
		o.promised_delivery_by.text = "2026-03-11T15:00:00Z";
		o.promised_delivery_by.at.at = 1773237600 + 3600;
		sw_store_order_set_details(store, &o, 1, "t", NULL);
		sw_store_parcel_upsert(store, "dhl", "DL001", "w1", "O-DL",
				       (struct sw_stamp){ 1773000000, 0 });
	}
	add_parcel("dhl", "DL001", 10);
	add_parcel("dhl", "NF001", 10);
	add_parcel("dhl", "OF001", 10);
	if (!eng_start(&e, "dhl", "give_up_after = 0\n"))
		return;
	cond_name = "dhl";
	cond_want = 4;
	ok(run_until(&e, settled, 5000), "four parcels answered");
	is_int(stats(&e, "dhl").found, 3, "  three found");
	is_int(stats(&e, "dhl").not_found, 1, "  one not found");
	is_int(stats(&e, "dhl").requests, 4, "  one request each (max_batch 1)");
	{
		int64_t okn = -1, failed = -1;

		sw_store_courier_polls_sum(store, "dhl", 0, &okn, &failed);
		ok(okn == 4 && failed == 0, "  courier_polls: 4 useful answers, 0 failed (%lld, %lld)",
		   (long long)okn, (long long)failed);
	}
	is_int(journal_count() - j0, 2 + 3 + 3, "  every event journaled once");
	is_int(stats(&e, "dhl").events_new, 8, "  events_new");
	is_int(counter("courier/dhl", "events"), 8, "  events counter");
	is_int(counter("courier/dhl", "resp_2xx"), 3, "  resp_2xx");
	is_int(counter("courier/dhl", "resp_4xx"), 1, "  resp_4xx (the 404)");
	is_int(counter("courier/dhl", "api_latency"), 4, "  api_latency samples");

	sw_store_parcel_get(store, "dhl", "JD001", &par);
	if (ok(par != NULL, "JD001 stored")) {
		is_str(sw_store_ship_status_name(par->status), "in_transit", "  status");
		is_str(par->raw_code, "transit", "  raw code");
		is_str(par->raw_text, "Arrived at hub", "  raw text");
		is_int(par->last_event_at.at, 1773133200, "  last event 2026-03-10T09:00Z");
		is_int(par->last_event_at.offset, 3600, "  with its offset");
		is_str(par->eta_date, "2026-03-12", "  eta");
		is_int(par->first_scan_at.at, 1773133200, "  first scan: not the info event");
	}
	sw_store_parcel_free(par);
	if (ok(schedule_of("dhl", "JD001", &sp), "JD001 still scheduled")) {
		is_int(sp.interval_s, 10, "  changed: interval");
		ok(sp.next_poll_at >= t0 + 9 && sp.next_poll_at <= time(NULL) + 12,
		   "  next poll in about 10 s (%lld)", (long long)(sp.next_poll_at - t0));
		is_int(sp.failures, 0, "  no failures");
	}
	par = NULL;
	sw_store_parcel_get(store, "dhl", "DL001", &par);
	if (ok(par != NULL, "DL001 stored")) {
		is_str(sw_store_ship_status_name(par->status), "delivered", "  delivered");
		is_int(par->terminal, 1, "  terminal");
		is_int(par->delivered_at.at, 1773237600, "  delivered_at");
	}
	sw_store_parcel_free(par);
	ok(!schedule_of("dhl", "DL001", &sp), "  terminal: schedule removed");
	is_int(counter("courier/dhl", "transit_duration"), 1, "  transit_duration sample");
	is_int(counter("courier/dhl", "delivered_ontime"), 1, "  delivered by the order's promise");
	is_int(counter("courier/dhl", "delivered_late"), 0, "  none delivered late");
	if (ok(schedule_of("dhl", "OF001", &sp), "OF001 scheduled"))
		is_int(sp.interval_s, 5, "  out for delivery: interval_near");
	par = NULL;
	sw_store_parcel_get(store, "dhl", "NF001", &par);
	if (ok(par != NULL, "NF001 stored"))
		is_str(sw_store_ship_status_name(par->status), "pending", "  not found: unchanged");
	sw_store_parcel_free(par);
	{
		char *le = last_error_of("dhl", "NF001");

		ok(le && strncmp(le, "not found", 9) == 0, "  last_error '%s'", le ? le : "");
		free(le);
	}
	if (ok(schedule_of("dhl", "NF001", &sp), "  still scheduled"))
		ok(sp.interval_s == 20 && sp.failures == 0,
		   "  not found: its own interval doubled (%d), failures 0", sp.interval_s);

	/* the same answer again: no new events, interval doubles */
	make_due("dhl", "JD001");
	j0 = journal_count();
	cond_want = 4;
	sw_poll_kick(e.p);
	cond_want = 5;
	ok(run_until(&e, requests_done, 5000), "second poll of JD001");
	is_int(journal_count() - j0, 0, "  no new journal rows");
	is_int(stats(&e, "dhl").events_new, 8, "  events_new unchanged");
	if (ok(schedule_of("dhl", "JD001", &sp), "  scheduled"))
		is_int(sp.interval_s, 20, "  unchanged: interval doubled");
	make_due("dhl", "JD001");
	cond_want = 6;
	run_until(&e, requests_done, 5000);
	if (schedule_of("dhl", "JD001", &sp))
		is_int(sp.interval_s, 40, "  doubled again");
	make_due("dhl", "JD001");
	cond_want = 7;
	run_until(&e, requests_done, 5000);
	if (schedule_of("dhl", "JD001", &sp))
		is_int(sp.interval_s, 40, "  capped at interval_max");

	/* a parcel without a schedule is seeded and polled */
	sw_store_parcel_upsert(store, "dhl", "JD002", NULL, NULL, (struct sw_stamp){0, 0});
	cond_want = 7; /* JD001 three times, DL001, OF001, JD001 again twice */
	ok(run_until(&e, found_n, 4000), "unscheduled parcel seeded and polled");
	ok(stats(&e, "dhl").seeded >= 1, "  seeded counted");

	cond_want = 2;
	run_until(&e, gauges_in_transit, 5000); /* a gauge pass after JD002's answer */
	g = sw_metrics_peek(metrics, "courier/dhl", "status_in_transit");
	ok(g && g->kind == SW_METRIC_GAUGE && g->gauge == 2, "gauge status_in_transit = 2");
	g = sw_metrics_peek(metrics, "courier/dhl", "status_delivered");
	ok(g && g->gauge == 1, "gauge status_delivered = 1");
	g = sw_metrics_peek(metrics, "courier/dhl", "status_returned");
	ok(g && g->gauge == 0, "gauge status_returned = 0");
	eng_end(&e);
}

static void test_rate_limited(void)
{
	struct eng e;
	double t[4];
	int n;

	add_parcel("dhl_rl", "RL001", 10);
	loglen = 0;
	if (!eng_start(&e, "dhl_rl", ""))
		return;
	cond_name = "dhl_rl";
	cond_want = 1;
	ok(run_until(&e, found_n, 8000), "429 then found");
	is_int(stats(&e, "dhl_rl").rate_limited, 1, "  one 429");
	is_int(counter("courier/dhl_rl", "resp_429"), 1, "  resp_429");
	n = request_times("RL001", t, 4);
	is_int(n, 2, "  two requests");
	/* the stub's arrival times; the lower bound holds however slow the
	 * engine is (it pauses from when it read the 429), the upper one only
	 * tells the 2 s pause from the parcel's 10 s interval */
	if (n == 2)
		ok(t[1] - t[0] >= 1.9 && t[1] - t[0] < 9, "  paused %.2f s for Retry-After: 2",
		   t[1] - t[0]);
	ok(strstr(logbuf, "courier dhl_rl: HTTP 429, retry in 2 s") != NULL, "  logged: %.*s",
	   (int)strcspn(logbuf, "\n"), logbuf);
	eng_end(&e);
}

static void test_server_error(void)
{
	struct sw_parcel_update u = {0};
	struct sw_parcel *par = NULL;
	struct sw_poll sp = {0};
	struct eng e;
	double t[4];
	int n;

	add_parcel("dhl_se", "SE001", 10);
	u.status = SW_SHIP_IN_TRANSIT;
	u.raw_code = "transit";
	u.event_at = (struct sw_stamp){1773000000, 0};
	sw_store_parcel_set_status(store, "dhl_se", "SE001", &u);
	if (!eng_start(&e, "dhl_se", ""))
		return;
	cond_name = "dhl_se";
	cond_want = 1;
	ok(run_until(&e, requests_done, 3000), "500 answered");
	is_int(stats(&e, "dhl_se").backoffs, 1, "  courier backed off");
	is_int(stats(&e, "dhl_se").backoff_ms, 2000, "  backoff_min");
	ok(stats(&e, "dhl_se").paused_ms > 0, "  paused (%lld ms left)",
	   (long long)stats(&e, "dhl_se").paused_ms);
	is_int(counter("courier/dhl_se", "resp_5xx"), 1, "  resp_5xx");
	sw_store_parcel_get(store, "dhl_se", "SE001", &par);
	if (ok(par != NULL, "  parcel there")) {
		is_str(sw_store_ship_status_name(par->status), "in_transit", "  status unchanged");
		is_str(par->raw_code, "transit", "  raw code unchanged");
	}
	sw_store_parcel_free(par);
	ok(schedule_of("dhl_se", "SE001", &sp) && sp.next_poll_at < time(NULL) && sp.failures == 0,
	   "  schedule untouched (still due)");
	cond_want = 2;
	ok(run_until(&e, requests_done, 5000), "  retried after the backoff");
	is_int(stats(&e, "dhl_se").backoff_ms, 4000, "  backoff doubled");
	/* Nothing was sent during the backoff: judged on the stub's arrival
	 * times, not on how long this test ran the loop.  2 s - 10% jitter,
	 * less 0.3 s for the engine's loop clock (the pause counts from the
	 * loop iteration that read the answer); no backoff would be ~0 s. */
	n = request_times("SE001", t, 4);
	if (ok(n == 2, "  two requests"))
		ok(t[1] - t[0] >= 1.5,
		   "  nothing sent during the backoff: %.2f s apart (2 s +- 10%%)", t[1] - t[0]);
	eng_end(&e);
	sw_store_poll_remove(store, "dhl_se", "SE001");
}

static void test_token_refresh(void)
{
	static const char fx[] = "[courier fx]\n"
				 "adapter = fedex\n"
				 "base_url = http://127.0.0.1:%d/fedex\n"
				 "api_key_env = SWT_FX_ID\n"
				 "api_secret_env = SWT_FX_SECRET\n"
				 "rate = 50\n";
	struct sw_parcel *par = NULL;
	struct eng e;
	char *extra = xasprintf(fx, stub_port);
	struct sw_poll_stats st;

	add_parcel("fx", "FX001", 10);
	add_parcel("fx", "FX002", 10);
	loglen = 0;
	if (!eng_start(&e, "dhl_unused", extra))
		goto out;
	cond_name = "fx";
	cond_want = 2;
	ok(run_until(&e, found_n, 5000), "fedex: found after a token refresh");
	st = stats(&e, "fx");
	is_int(st.auth_requests, 2, "  two token requests");
	is_int(st.tokens, 2, "  two tokens");
	is_int(st.token_drops, 1, "  exactly one refresh");
	is_int(st.requests, 2, "  one batch, sent twice");
	ok(st.has_token, "  token cached");
	sw_store_parcel_get(store, "fx", "FX002", &par);
	if (ok(par != NULL, "  parcel"))
		is_str(sw_store_ship_status_name(par->status), "in_transit", "  status in_transit");
	sw_store_parcel_free(par);

	/* a second poll reuses the cached token */
	make_due("fx", "FX001");
	cond_want = 3;
	ok(run_until(&e, found_n, 5000), "  polled again");
	is_int(stats(&e, "fx").auth_requests, 2, "  no new token request");
	eng_end(&e);

	/* refused whatever the token: one refresh, then an error */
	add_parcel("fx", "AL001", 10);
	if (!eng_start(&e, "dhl_unused", extra))
		goto out;
	cond_name = "fx";
	cond_want = 1;
	run_until(&e, backed_off, 5000);
	st = stats(&e, "fx");
	is_int(st.requests, 2, "always 401: the batch is retried once");
	is_int(st.auth_requests, 2, "  two token requests");
	is_int(st.token_drops, 1, "  one refresh");
	is_int(st.backoffs, 1, "  then backs off");
	ok(strstr(logbuf, "credentials refused") != NULL, "  logged");
	ok(strstr(logbuf, "tok") == NULL && strstr(logbuf, "k-dhl") == NULL, "  no token in logs");
	eng_end(&e);
	sw_store_poll_remove(store, "fx", "AL001");
out:
	free(extra);
}

static void test_too_big(void)
{
	struct sw_parcel *par = NULL;
	struct sw_poll sp;
	struct eng e;
	char *le;

	add_parcel("dhl_big", "BIG001", 10);
	add_parcel("dhl_big", "BGS001", 10);
	if (!eng_start(&e, "dhl_big", "max_response = 16k\n"))
		return;
	cond_name = "dhl_big";
	cond_want = 2;
	ok(run_until(&e, settled, 5000), "oversized answers handled");
	is_int(stats(&e, "dhl_big").too_big, 2, "  both too big (length known, streamed)");
	is_int(stats(&e, "dhl_big").errors, 2, "  parcel errors");
	ok(stats(&e, "dhl_big").backoffs >= 1, "  a courier failure: backed off");
	is_int(counter("courier/dhl_big", "parse_fail"), 2, "  parse_fail");
	sw_store_parcel_get(store, "dhl_big", "BGS001", &par);
	if (ok(par != NULL, "  parcel"))
		is_str(sw_store_ship_status_name(par->status), "pending", "  status unchanged");
	sw_store_parcel_free(par);
	le = last_error_of("dhl_big", "BGS001");
	ok(le && strstr(le, "larger than 16384 bytes"), "  last_error '%s'", le ? le : "");
	free(le);
	if (ok(schedule_of("dhl_big", "BIG001", &sp), "  scheduled"))
		ok(sp.failures == 1 && sp.interval_s == 20 && sp.next_poll_at > time(NULL),
		   "  rescheduled: failures 1, interval doubled (%d)", sp.interval_s);
	eng_end(&e);
	sw_store_poll_remove(store, "dhl_big", "BIG001");
	sw_store_poll_remove(store, "dhl_big", "BGS001");
}

/* A parcel of courier due now, shipped at shipped (unix s). */
static void add_shipped(const char *courier, const char *tn, int64_t shipped)
{
	struct sw_poll sp = {0};

	sw_store_parcel_upsert(store, courier, tn, NULL, NULL, (struct sw_stamp){shipped, 0});
	sp.courier = courier;
	sp.tracking_number = tn;
	sp.next_poll_at = time(NULL) - 1;
	sp.interval_s = 10;
	sw_store_poll_upsert(store, &sp);
}

static void set_in_transit(const char *courier, const char *tn)
{
	struct sw_parcel_update u = {0};

	u.status = SW_SHIP_IN_TRANSIT;
	u.raw_code = "transit";
	sw_store_parcel_set_status(store, courier, tn, &u);
}

/* Truncated JSON and an HTML page with 200: courier failures (backoff,
 * parse_fail, reason logged); the parcels are never changed. */
static void test_bad_answers(void)
{
	static const char *const tns[] = {"TR001", "HT001"};
	struct sw_parcel *par = NULL;
	struct sw_poll sp;
	struct eng e;
	char *le;

	for (size_t i = 0; i < 2; i++) {
		add_parcel("dhl_bad", tns[i], 10);
		set_in_transit("dhl_bad", tns[i]);
	}
	loglen = 0;
	if (!eng_start(&e, "dhl_bad", ""))
		return;
	cond_name = "dhl_bad";
	cond_want = 2;
	ok(run_until(&e, settled, 5000), "bad answers handled");
	is_int(stats(&e, "dhl_bad").found, 0, "  nothing found");
	is_int(stats(&e, "dhl_bad").parse_fail, 2, "  parse_fail counted for each");
	is_int(counter("courier/dhl_bad", "parse_fail"), 2, "  parse_fail metric");
	ok(stats(&e, "dhl_bad").backoffs >= 1, "  the courier backed off (%llu)",
	   (unsigned long long)stats(&e, "dhl_bad").backoffs);
	ok(stats(&e, "dhl_bad").paused_ms > 0, "  and is paused");
	ok(strstr(logbuf, "courier dhl_bad: unusable answer: HTTP 200: ") != NULL,
	   "  reason logged: %.*s", (int)strcspn(logbuf, "\n"), logbuf);
	for (size_t i = 0; i < 2; i++) {
		par = NULL;
		sw_store_parcel_get(store, "dhl_bad", tns[i], &par);
		ok(par && par->status == SW_SHIP_IN_TRANSIT && strcmp(par->raw_code, "transit") == 0,
		   "  %s: status unchanged", tns[i]);
		sw_store_parcel_free(par);
		if (ok(schedule_of("dhl_bad", tns[i], &sp), "  %s: scheduled", tns[i]))
			ok(sp.failures == 1 && sp.interval_s == 20,
			   "  %s: failures 1, interval doubled (%d, %d)", tns[i], sp.failures,
			   sp.interval_s);
	}
	le = last_error_of("dhl_bad", "TR001");
	ok(le && strstr(le, "bad JSON"), "  TR001 last_error '%s'", le ? le : "");
	free(le);
	le = last_error_of("dhl_bad", "HT001");
	ok(le && strstr(le, "content type is not JSON"), "  HT001 last_error '%s'", le ? le : "");
	free(le);
	eng_end(&e);
	for (size_t i = 0; i < 2; i++)
		sw_store_poll_remove(store, "dhl_bad", tns[i]);
}

/* A number the courier calls invalid: only that parcel backs off, on a
 * doubling interval up to not_found_max, failures 0; given up after
 * give_up_after since shipping, the row kept with the reason. */
static void test_rejected_backoff(void)
{
	static const int want[] = {20, 40, 60, 60};
	struct sw_poll sp;
	struct eng e;
	char *le;
	int64_t now = time(NULL);

	add_shipped("dhl_iv", "IV001", now - 3600);
	add_shipped("dhl_iv", "IV002", now - 20 * 86400);
	if (!eng_start(&e, "dhl_iv", "not_found_max = 60s\ngive_up_after = 14d\n"))
		return;
	cond_name = "dhl_iv";
	cond_want = 2;
	ok(run_until(&e, requests_done, 5000), "invalid numbers answered");
	is_int(stats(&e, "dhl_iv").rejected, 2, "  two rejected");
	is_int(stats(&e, "dhl_iv").backoffs, 0, "  not a courier failure");
	is_int(stats(&e, "dhl_iv").errors, 0, "  no parcel errors");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (i > 0) {
			make_due("dhl_iv", "IV001");
			cond_want = 2 + i;
			run_until(&e, requests_done, 5000);
		}
		if (ok(schedule_of("dhl_iv", "IV001", &sp), "  IV001 scheduled"))
			ok(sp.interval_s == want[i] && sp.failures == 0,
			   "  poll %zu: interval %d (want %d), failures %d", i + 1, sp.interval_s,
			   want[i], sp.failures);
	}
	le = last_error_of("dhl_iv", "IV001");
	ok(le && strncmp(le, "rejected: HTTP 400", 18) == 0, "  last_error '%s'", le ? le : "");
	free(le);
	if (ok(schedule_of("dhl_iv", "IV002", &sp), "shipped 20 days ago: row kept"))
		ok(sp.failures == 0 && sp.next_poll_at > now + 365 * 86400,
		   "  given up: next poll years away, failures 0");
	le = last_error_of("dhl_iv", "IV002");
	ok(le && strncmp(le, "given up after 14d: rejected: HTTP 400", 38) == 0,
	   "  reason recorded: '%s'", le ? le : "");
	free(le);
	is_int(stats(&e, "dhl_iv").given_up, 1, "  given_up counted");
	eng_end(&e);
	sw_store_poll_remove(store, "dhl_iv", "IV001");
	sw_store_poll_remove(store, "dhl_iv", "IV002");
}

/* FedEx batches with one bad number: a per-number error, a 400 naming it,
 * a 400 naming none (bisected).  The good parcels all get their status;
 * the bad one is rejected alone; no token is dropped for a 400. */
static void test_batch_isolation(void)
{
	static const char fx[] = "[courier %s]\n"
				 "adapter = fedex\n"
				 "base_url = http://127.0.0.1:%d/fedex\n"
				 "api_key_env = SWT_FX_ID\n"
				 "api_secret_env = SWT_FX_SECRET\n"
				 "rate = 50\n"
				 "burst = 50\n"
				 "concurrency = 1\n"
				 "interval = 60s\n"
				 "interval_near = 5s\n"
				 "interval_max = 4m\n";
	static const struct {
		const char *name, *bad;
		uint64_t max_requests;
	} cases[] = {
	    {"fx_pe", "PE001", 2}, /* 401 (odd token), then one answer */
	    {"fx_px", "PX001", 3}, /* 401, 400 naming PX001, the rest resent */
	    {"fx_pa", "PA001", 6},  /* 401, [6] 400, [3] ok, [3] 400, [1] [2] */
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *name = cases[k].name;
		char *extra = xasprintf(fx, name, stub_port), tn[16];
		struct sw_poll_stats st;
		struct sw_poll sp;
		struct eng e;
		int good = 0;

		for (int i = 1; i <= 6; i++) {
			snprintf(tn, sizeof(tn), "FB%03d", i);
			add_shipped(name, i == 4 ? cases[k].bad : tn, time(NULL) - 3600);
		}
		if (!eng_start(&e, "dhl_unused", extra)) {
			free(extra);
			continue;
		}
		cond_name = name;
		cond_want = 5;
		ok(run_until(&e, found_n, 8000), "%s: the five good parcels found", name);
		cond_want = 6;
		run_until(&e, settled, 5000);
		st = stats(&e, name);
		is_int(st.found, 5, "  five found");
		is_int(st.rejected, 1, "  the bad number rejected");
		is_int(st.errors, 0, "  no parcel errors");
		ok(st.requests <= cases[k].max_requests, "  %llu requests (at most %llu)",
		   (unsigned long long)st.requests, (unsigned long long)cases[k].max_requests);
		ok(st.token_drops <= 1 && st.auth_requests <= 2,
		   "  no token loop (%llu drops, %llu token requests)",
		   (unsigned long long)st.token_drops, (unsigned long long)st.auth_requests);
		is_int(st.backoffs, 0, "  no courier backoff");
		for (int i = 1; i <= 6; i++) {
			struct sw_parcel *par = NULL;

			snprintf(tn, sizeof(tn), "FB%03d", i);
			sw_store_parcel_get(store, name, i == 4 ? cases[k].bad : tn, &par);
			good += par && par->status == SW_SHIP_IN_TRANSIT;
			sw_store_parcel_free(par);
		}
		is_int(good, 5, "  five parcels in transit");
		if (ok(schedule_of(name, cases[k].bad, &sp), "  %s scheduled", cases[k].bad))
			ok(sp.failures == 0 && sp.interval_s == 60, "  backed off alone (%d, %d)",
			   sp.failures, sp.interval_s);
		eng_end(&e);
		free(extra);
	}
}

static void test_timeout_and_stop(void)
{
	struct sw_poll sp = {0};
	struct eng e;

	add_parcel("dhl_slow", "SLOW001", 10);
	if (!eng_start(&e, "dhl_slow", "timeout = 1s\n"))
		return;
	cond_name = "dhl_slow";
	cond_want = 1;
	ok(run_until(&e, requests_done, 4000), "slow answer");
	is_int(counter("courier/dhl_slow", "resp_timeout"), 1, "  resp_timeout");
	is_int(stats(&e, "dhl_slow").backoffs, 1, "  timeout backs off");
	eng_end(&e);

	/* stop with a transfer in flight: aborted, schedule kept */
	if (!eng_start(&e, "dhl_slow", ""))
		return;
	cond_want = 1;
	run_until(&e, sending, 4000); /* the stub answers SLOW* after 3 s */
	is_int(stats(&e, "dhl_slow").in_flight, 1, "one transfer in flight");
	sw_poll_stop(e.p);
	is_int(stats(&e, "dhl_slow").in_flight, 0, "  stop aborts it");
	ok(schedule_of("dhl_slow", "SLOW001", &sp) && sp.next_poll_at < time(NULL),
	   "  parcel stays due");
	is_int(sw_poll_start(e.p), SW_OK, "  restart");
	is_int(sw_poll_start(e.p), SW_EINVAL, "  double start refused");
	eng_end(&e);
	sw_store_poll_remove(store, "dhl_slow", "SLOW001");
}

static void test_quota(void)
{
	struct eng e;

	add_parcel("dhl_q", "JQ001", 10);
	add_parcel("dhl_q", "JQ002", 10);
	add_parcel("dhl_q", "JQ003", 10);
	if (!eng_start(&e, "dhl_q", "daily_quota = 2\n"))
		return;
	cond_name = "dhl_q";
	cond_want = 2;
	run_until(&e, quota_held, 5000);
	is_int(stats(&e, "dhl_q").requests, 2, "daily quota: two requests, then none");
	is_int(stats(&e, "dhl_q").found, 2, "  two answered");
	ok(stats(&e, "dhl_q").quota_waits > 0, "  quota waits counted");
	eng_end(&e);
}

int main(void)
{
	int rc;

	setenv("SWT_DHL_KEY", "k-dhl", 1);
	setenv("SWT_FX_ID", "fx-id", 1);
	setenv("SWT_FX_SECRET", "fx-secret", 1);
	setenv("TZ", "UTC", 1);
	store_tmp_dir(); /* the stub's files go there too */
	test_conf();
	if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
		printf("# python3 not available: engine tests skipped\n");
		return store_tmp_done(NULL);
	}
	if (!ok(start_stub(), "stub courier API started")) {
		stop_stub();
		return store_tmp_done(NULL);
	}
	sw_log_set_sink(log_capture, NULL);
	if (!(store = store_tmp_open())) {
		stop_stub();
		store_tmp_done(NULL);
		return 1;
	}
	sw_loop_new(&loop);
	metrics = sw_metrics_new();

	test_dhl_end_to_end();
	test_rate_limited();
	test_server_error();
	test_token_refresh();
	test_too_big();
	test_bad_answers();
	test_rejected_backoff();
	test_batch_isolation();
	test_timeout_and_stop();
	test_quota();

	sw_metrics_free(metrics);
	sw_loop_free(loop);
	sw_log_set_sink(NULL, NULL);
	stop_stub();
	rc = store_tmp_done(store);
	free(stub_log);
	return rc;
}
