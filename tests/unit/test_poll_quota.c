/*
 * test_poll_quota.c - the poll engine's quota and rate limits
 * (collector/poll_sched.c, plan.c, lib/store_pollplan.c) end to end.
 *
 * A scripted DHL-like API (tests/data/quota/stub.py, found through
 * $SW_TEST_DATA, else tests/data) runs as a child process on a free local
 * port and logs every request; the engine runs on a real loop against a
 * real store in a private temp dir (or on PostgreSQL: tests/store_tmp.h).
 * Nothing here depends on how fast the machine is: the tests wait for a
 * state (with a generous failure bound) and then check the stub's own
 * records, the store and the planner's pure outputs.  Each quota day is
 * placed 12 h around now, so no reset falls inside a run; an interval that
 * depends on the seconds left before the reset is bounded by the seconds
 * left before and after the run.
 * Cases: the quota block's config checks; due parcels sent in priority
 * order while the quota is short; intervals stretched to the reset when
 * the quota is used up and by the planner when it is short; the count of
 * a quota day kept across an engine restart; a 429 paused until
 * X-RateLimit-Reset (unix seconds) or ratelimit-reset (seconds) instead of
 * the cooldown; the -t -v description.
 * Skipped (TAP plan 0) when python3 is missing.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collector/plan.h"
#include "collector/poll.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/store.h"
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

/* The quota day: resets 12 h from now (UTC), as "HH:MM" and minutes. */
static char reset_text[8];
static int reset_min;

static int start_stub(void)
{
	char *script = stub_data_path("quota/stub.py");
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

/* The stub's requests whose number starts with prefix, in arrival order:
 * numbers into tns (each up to 15 bytes), times into ts; returns how many
 * (up to max). */
static int requests(const char *prefix, char tns[][16], double *ts, int max)
{
	char line[512], key[64];
	FILE *f = fopen(stub_log, "r");
	int n = 0;

	snprintf(key, sizeof(key), "\"tn\": \"%s", prefix);
	while (f && fgets(line, sizeof(line), f) && n < max) {
		char *p = strstr(line, key);

		if (!p)
			continue;
		p += strlen("\"tn\": \"");
		snprintf(tns[n], 16, "%.*s", (int)strcspn(p, "\""), p);
		ts[n++] = strtod(line + strlen("{\"t\": "), NULL);
	}
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
			       "quota_reset = %s\n"
			       "%s";

struct eng {
	struct sw_conf *conf;
	struct sw_poll_conf *pc;
	struct sw_poll_engine *p;
};

static bool eng_start(struct eng *e, const char *name, const char *extra)
{
	char err[512] = "";
	char *text = xasprintf(conf_fmt, name, stub_port, reset_text, extra);
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
	if (!ok(rc == SW_OK, "engine for %s started", name))
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

/* Runs the loop until cond(e) or ms * 10 pass (a failure bound for a
 * loaded machine, never an expectation); returns cond's last value. */
static bool run_until(struct eng *e, bool (*cond)(struct eng *), int64_t ms)
{
	int64_t end = now_ms() + ms * 10;

	while (!cond(e) && now_ms() < end)
		sw_loop_run_once(loop, 20);
	return cond(e);
}

static const char *cond_name;
static uint64_t cond_want;

static bool quota_held(struct eng *e)
{
	struct sw_poll_stats st = stats(e, cond_name);

	return st.quota_waits > 0 && st.requests >= cond_want && st.in_flight == 0;
}

static bool found_n(struct eng *e)
{
	return stats(e, cond_name).found >= cond_want && stats(e, cond_name).in_flight == 0;
}

/* A parcel of courier due at due (unix s), interval_s. */
static void add_parcel(const char *courier, const char *tn, int64_t due, int interval_s)
{
	struct sw_poll sp = {0};

	sw_store_parcel_upsert(store, courier, tn, NULL, NULL, (struct sw_stamp){1773000000, 0});
	sp.courier = courier;
	sp.tracking_number = tn;
	sp.next_poll_at = due;
	sp.interval_s = interval_s;
	sw_store_poll_upsert(store, &sp);
}

static void set_status(const char *courier, const char *tn, enum sw_ship_status s, int64_t at)
{
	struct sw_parcel_update u = {0};

	u.status = s;
	u.event_at = (struct sw_stamp){at, 0};
	sw_store_parcel_set_status(store, courier, tn, &u);
}

/* Links parcel tn to an order promised for delivery at promise. */
static void promise(const char *courier, const char *tn, int64_t promise_at)
{
	struct sw_order o = {0};

	o.warehouse_id = "w1";
	o.order_id = tn;
	o.promised_delivery_by.kind = SW_PROMISE_INSTANT;
	o.promised_delivery_by.text = "2026-12-31T00:00:00Z";
	o.promised_delivery_by.at.at = promise_at;
	sw_store_order_set_details(store, &o, 1, "t", NULL);
	sw_store_parcel_upsert(store, courier, tn, "w1", tn, (struct sw_stamp){1773000000, 0});
}

static bool schedule_of(const char *courier, const char *tn, struct sw_poll *ret)
{
	struct sw_poll *due = NULL;
	size_t n = 0;
	bool found = false;

	sw_store_poll_due_courier(store, courier, INT64_C(1) << 40, 1000, &due, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(due[i].tracking_number, tn) == 0) {
			*ret = due[i];
			ret->courier = ret->tracking_number = ret->last_error = NULL;
			found = true;
		}
	sw_store_poll_free(due, n);
	return found;
}

/* Seconds from t to the next reset of the test's quota day. */
static int64_t to_reset(int64_t t)
{
	int64_t from, until;

	sw_plan_window("UTC", reset_min, t, &from, &until);
	return until - t;
}

/* ---- tests -------------------------------------------------------------- */

static void test_conf(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nquota_reset = 24:00\n",
	     "t.conf:3: [courier dhl] quota_reset: not a time HH:MM: '24:00'"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nquota_reset = 7:00\n",
	     "t.conf:3: [courier dhl] quota_reset: not a time HH:MM: '7:00'"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\n\nquota_zone = Mars/Olympus\n",
	     "t.conf:4: [courier dhl] quota_zone: no such zone: 'Mars/Olympus'"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nquota_zone = ../etc/passwd\n",
	     "t.conf:3: [courier dhl] quota_zone: not a usable IANA zone: '../etc/passwd'"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\ndaily_quota = 10\nquota_reserve = 10\n",
	     "t.conf:4: [courier dhl] quota_reserve: not below daily_quota (10): '10'"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nquota_reserve = 5\n",
	     "t.conf:3: [courier dhl] quota_reserve: not below daily_quota (0): '5'"},
	    {"[courier dhl]\napi_key_env = SWT_DHL_KEY\nquota_reserve = -1\n", "t.conf:3:"},
	};
	struct sw_poll_conf *pc = NULL;
	struct sw_poll_courier_conf *cf;
	struct sw_conf *conf = NULL;
	char err[512];

	is_int(sw_conf_table_check(sw_poll_courier_table, err, sizeof(err)), SW_OK,
	       "option table is consistent");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		sw_conf_load_string(bad[i].text, "t.conf", &conf, err, sizeof(err));
		is_int(sw_poll_conf_load(conf, &pc, err, sizeof(err)), SW_ECONF,
		       "bad quota %zu refused", i);
		ok(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0, "  '%s'", err);
		sw_conf_free(conf);
		conf = NULL;
	}
	sw_conf_load_string("[courier dhl]\napi_key_env = SWT_DHL_KEY\n", "t.conf", &conf, err,
			    sizeof(err));
	is_int(sw_poll_conf_load(conf, &pc, err, sizeof(err)), SW_OK, "defaults");
	if ((cf = sw_poll_conf_find(pc, "dhl")) != NULL) {
		is_str(cf->quota_reset, "00:00", "  quota_reset 00:00");
		is_str(cf->quota_zone, "UTC", "  quota_zone UTC");
		is_int(cf->quota_reserve, 0, "  quota_reserve 0");
		is_int(cf->quota_reset_min, 0, "  midnight");
	}
	sw_poll_conf_free(pc);
	sw_conf_free(conf);
	if (!sw_tz_valid("Asia/Kolkata"))
		return;
	sw_conf_load_string("[courier dhl]\napi_key_env = SWT_DHL_KEY\ndaily_quota = 100\n"
			    "quota_reset = 05:30\nquota_zone = Asia/Kolkata\nquota_reserve = 10\n",
			    "t.conf", &conf, err, sizeof(err));
	is_int(sw_poll_conf_load(conf, &pc, err, sizeof(err)), SW_OK, "a zone and a reserve: %s",
	       err);
	if ((cf = sw_poll_conf_find(pc, "dhl")) != NULL) {
		is_int(cf->quota_reset_min, 330, "  05:30 is 330 min");
		is_int(cf->quota_reserve, 10, "  reserve 10");
	}
	sw_poll_conf_free(pc);
	sw_conf_free(conf);
}

static void test_priority_and_restart(void)
{
	const char *name = "q_prio";
	int64_t t0 = time(NULL), t1;
	struct sw_poll sp;
	char tns[8][16];
	double ts[8];
	struct eng e;
	int n;

	/* due earliest first: other, other, moved, near, final; the plain
	 * due order would send the two "other" ones */
	add_parcel(name, "PA001", t0 - 100, 10);
	add_parcel(name, "PB001", t0 - 90, 10);
	add_parcel(name, "PM001", t0 - 80, 10);
	set_status(name, "PM001", SW_SHIP_IN_TRANSIT, t0 - 3600); /* moved an hour ago */
	promise(name, "PN001", t0 + 3600);			  /* promised in an hour */
	add_parcel(name, "PN001", t0 - 70, 10);
	add_parcel(name, "PF001", t0 - 60, 10);
	set_status(name, "PF001", SW_SHIP_OUT_FOR_DELIVERY, 1773000000); /* long ago */
	loglen = 0;
	if (!eng_start(&e, name, "daily_quota = 2\n"))
		return;
	cond_name = name;
	cond_want = 2;
	ok(run_until(&e, quota_held, 5000), "quota of 2 used, then held");
	t1 = time(NULL);
	is_int(stats(&e, name).requests, 2, "  two requests");
	n = requests("P", tns, ts, 8);
	if (ok(n == 2, "  the stub saw two (%d)", n))
		ok((strcmp(tns[0], "PF001") == 0 && strcmp(tns[1], "PN001") == 0) ||
		       (strcmp(tns[0], "PN001") == 0 && strcmp(tns[1], "PF001") == 0),
		   "  out for delivery and near its promise first: %s, %s", tns[0], tns[1]);
	ok(strstr(logbuf, "courier q_prio: daily quota of 2 requests used up") != NULL,
	   "  logged once used up");
	/* both answered after the quota was used: next poll after the reset */
	if (ok(schedule_of(name, "PF001", &sp), "  PF001 scheduled"))
		ok(sp.interval_s >= to_reset(t1) && sp.interval_s <= to_reset(t0) + 1,
		   "  interval to the reset: %d s (%lld..%lld)", sp.interval_s,
		   (long long)to_reset(t1), (long long)to_reset(t0));
	{
		struct sw_buf b;

		sw_buf_init(&b, 4096);
		sw_plan_describe_courier(store, &e.pc->couriers[0], time(NULL), &b);
		ok(strstr(sw_buf_str(&b), "daily_quota 2 from ") &&
		       strstr(sw_buf_str(&b), " UTC, 2 used"),
		   "  -t -v: %.*s", (int)strcspn(sw_buf_str(&b), "\n"), sw_buf_str(&b));
		ok(strstr(sw_buf_str(&b), "courier q_prio: 0 requests left for ") &&
		       strstr(sw_buf_str(&b), "5 active parcels, near 1 after the reset, moved 1 "
					      "after the reset, other 3 after the reset; the quota "
					      "covers 0 of 5"),
		   "  nothing left: 5 parcels by class, none covered");
		sw_buf_free(&b);
		sw_buf_init(&b, 4096);
		sw_plan_describe_courier(NULL, &e.pc->couriers[0], time(NULL), &b);
		ok(strstr(sw_buf_str(&b), "daily_quota 2 from ") &&
		       strstr(sw_buf_str(&b), "UTC, 0 used, reserve 0\ncourier q_prio: parcels not "
					      "counted (no store)\n"),
		   "  without a store: the settings alone");
		sw_buf_free(&b);
		sw_buf_init(&b, 4096);
		sw_plan_describe_all(e.pc, store_path, &b);
		ok(strstr(sw_buf_str(&b), "daily_quota 2 from ") &&
		       strstr(sw_buf_str(&b), "covers 0 of 5"),
		   "  all couriers, the store opened read-only: %.*s",
		   (int)strcspn(sw_buf_str(&b), "\n"), sw_buf_str(&b));
		sw_buf_free(&b);
		sw_buf_init(&b, 4096);
		sw_plan_describe_all(e.pc, "/nonexistent/store.db", &b);
		ok(strncmp(sw_buf_str(&b), "quota plans without parcel counts: ", 35) == 0 &&
		       strstr(sw_buf_str(&b), "parcels not counted (no store)"),
		   "  a store that cannot be opened: said, settings alone");
		sw_buf_free(&b);
	}
	eng_end(&e);

	/* a restart within the day keeps its count: 3 allowed, 2 used */
	if (!eng_start(&e, name, "daily_quota = 3\n"))
		return;
	cond_want = 1;
	ok(run_until(&e, quota_held, 5000), "restarted: held after one more request");
	is_int(stats(&e, name).requests, 1, "  one request: the store counted two today");
	n = requests("P", tns, ts, 8);
	if (ok(n == 3, "  the stub saw three in all (%d)", n))
		is_str(tns[2], "PM001", "  then the parcel that moved recently");
	eng_end(&e);
}

static void test_stretch(void)
{
	const char *name = "q_str";
	int64_t t0 = time(NULL), t1, lo, hi;
	struct sw_poll sp;
	struct eng e;
	char tn[16];

	/* 50 parcels asking for a poll every 10 s, not due; one due */
	for (int i = 0; i < 50; i++) {
		snprintf(tn, sizeof(tn), "SL%03d", i);
		add_parcel(name, tn, t0 + 1000000, 10);
	}
	add_parcel(name, "SD001", t0 - 1, 10);
	if (!eng_start(&e, name, "daily_quota = 5\n"))
		return;
	cond_name = name;
	cond_want = 1;
	ok(run_until(&e, found_n, 5000), "short quota: the due parcel answered");
	t1 = time(NULL);
	is_int(stats(&e, name).requests, 1, "  one request");
	/* 4 requests left for 51 parcels asking 5.1 polls/s: each "other"
	 * parcel's interval x 51 * secs_left / 4 / 10, i.e. 10 s ->
	 * 12.75 * secs_left */
	lo = (int64_t)(12.75 * (double)to_reset(t1)) - 1;
	hi = (int64_t)(12.75 * (double)(to_reset(t0) + 1)) + 1;
	if (ok(schedule_of(name, "SD001", &sp), "  rescheduled"))
		ok(sp.interval_s >= lo && sp.interval_s <= hi, "  stretched to %d s (%lld..%lld)",
		   sp.interval_s, (long long)lo, (long long)hi);
	eng_end(&e);

	/* an ample quota changes nothing */
	add_parcel("q_ample", "SA001", t0 - 1, 10);
	if (!eng_start(&e, "q_ample", "daily_quota = 1000000\n"))
		return;
	cond_name = "q_ample";
	ok(run_until(&e, found_n, 5000), "ample quota: answered");
	if (ok(schedule_of("q_ample", "SA001", &sp), "  rescheduled"))
		is_int(sp.interval_s, 10, "  at its own interval");
	eng_end(&e);
}

/* A 429 without Retry-After whose pause comes from a reset header: with
 * a cooldown of an hour, a second request within the failure bound can
 * only come from the header. */
static void check_reset_429(const char *name, const char *tn, double min_gap)
{
	char tns[4][16];
	double ts[4];
	struct eng e;
	int n;

	add_parcel(name, tn, time(NULL) - 1, 10);
	loglen = 0;
	if (!eng_start(&e, name, "cooldown = 1h\n"))
		return;
	cond_name = name;
	cond_want = 1;
	ok(run_until(&e, found_n, 8000), "%s: 429, then found without waiting the cooldown", tn);
	is_int(stats(&e, name).rate_limited, 1, "  one 429");
	n = requests(tn, tns, ts, 4);
	if (ok(n == 2, "  two requests (%d)", n))
		ok(ts[1] - ts[0] >= min_gap, "  paused %.2f s for the reset (>= %.1f)",
		   ts[1] - ts[0], min_gap);
	ok(strstr(logbuf, "HTTP 429, retry in ") && !strstr(logbuf, "retry in 3600 s"),
	   "  logged: %.*s", (int)strcspn(logbuf, "\n"), logbuf);
	eng_end(&e);
}

/* A 200 that says X-RateLimit-Remaining: 0 pauses the courier until the
 * reset (the stub's whole second + 2): one request at a time, the second
 * parcel's request comes only after the pause, however busy the machine
 * (a lower bound on the stub's own arrival times). */
static void check_remaining_zero(void)
{
	char tns[4][16];
	double ts[4];
	struct eng e;
	int n;

	add_parcel("q_z0", "Z0001", time(NULL) - 2, 10);
	add_parcel("q_z0", "Z0002", time(NULL) - 1, 10);
	loglen = 0;
	if (!eng_start(&e, "q_z0", "concurrency = 1\ncooldown = 1h\n"))
		return;
	cond_name = "q_z0";
	cond_want = 2;
	ok(run_until(&e, found_n, 10000), "Remaining 0: both parcels answered");
	is_int(stats(&e, "q_z0").rate_limited, 0, "  no 429");
	n = requests("Z0", tns, ts, 4);
	if (ok(n == 2, "  two requests (%d)", n))
		ok(ts[1] - ts[0] >= 0.9, "  the second waited %.2f s for the reset (>= 0.9)",
		   ts[1] - ts[0]);
	ok(strstr(logbuf, "rate limit used up, next request in ") != NULL, "  logged: %.*s",
	   (int)strcspn(logbuf, "\n"), logbuf);
	eng_end(&e);
}

static void test_rate_headers(void)
{
	check_remaining_zero();
	/* X-RateLimit-Reset = the stub's whole second + 2: at least 1 s */
	check_reset_429("q_xr", "XR001", 0.9);
	/* ratelimit-reset: 2 (seconds), the pause counted from the answer */
	check_reset_429("q_dr", "DR001", 1.9);
}

int main(void)
{
	int64_t r = time(NULL) + 12 * 3600;
	int rc;

	setenv("SWT_DHL_KEY", "k-dhl", 1);
	setenv("TZ", "UTC", 1);
	reset_min = (int)(r % 86400 / 60);
	snprintf(reset_text, sizeof(reset_text), "%02d:%02d", reset_min / 60, reset_min % 60);
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

	test_priority_and_restart();
	test_stretch();
	test_rate_headers();

	sw_metrics_free(metrics);
	sw_loop_free(loop);
	sw_log_set_sink(NULL, NULL);
	stop_stub();
	rc = store_tmp_done(store);
	free(stub_log);
	return rc;
}
