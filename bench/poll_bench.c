/*
 * poll_bench.c - the slipwatch side of bench/courier-poll.sh: tracking
 * lookups per second through the courier poll engine (collector/poll.h)
 * against the fake courier server (tests/fakecourier/server.py).
 *
 * usage: poll_bench DIR PORT N [CONCURRENCY [dhl|fedex]]
 *
 * Creates a store in DIR with N parcels of one courier (dhl by default: one
 * number per request; fedex: batches of up to 30 numbers per request, after
 * one OAuth token request), every one with a schedule due now and an
 * interval of an hour, so each is polled exactly once.  The engine is
 * configured from a generated [courier NAME] section pointing at
 * 127.0.0.1:PORT, then its token bucket is widened in code past what the
 * config table allows (rate 1000/s, burst 1000) so that the bucket never
 * holds a request back; the scheduler tick is 10 ms (a finished transfer
 * kicks the scheduler at once anyway), seeding and gauges hourly.
 *
 * Timed (CLOCK_MONOTONIC) from sw_poll_start until every parcel has a
 * result (sw_poll_get_stats: found + not_found + errors = N); fails unless
 * all N were found, without store failures.  Everything the engine does per
 * answer is in the time: HTTP, parsing by the adapter, journaling the
 * events, the status update and the schedule, and the store transactions
 * that commit them (synchronous=FULL: an fdatasync per commit; answers
 * are committed in groups, see collector/poll_apply.c, and counted as
 * found only once committed, so the last commit is in the time too).
 *
 * Prints: "lookups N seconds S" and "requests R events E".
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/poll.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/store.h"
#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"
#include "bench/bench.h"

#define TIME_LIMIT_S 600 /* give up: the server or the engine is stuck */

static const char conf_fmt[] = "[courier %s]\n"
			       "base_url = http://127.0.0.1:%ld/%s\n"
			       "api_key_env = SW_BENCH_KEY\n"
			       "api_secret_env = SW_BENCH_SECRET\n"
			       "concurrency = %ld\n"
			       "rate = 1000\n"
			       "burst = 1000\n"
			       "timeout = 30s\n"
			       "interval = 1h\n"
			       "interval_near = 1h\n"
			       "interval_max = 4h\n";

static void die(const char *what, enum sw_err rc, const char *text)
{
	fprintf(stderr, "poll_bench: %s: %s: %s\n", what, sw_strerror(rc), text);
	exit(1);
}

/* The tracking number of parcel i: in transit at the fake server (no NF or
 * DL prefix), 20 digits for DHL, 12 for FedEx. */
static void number(char *buf, size_t len, const char *courier, long i)
{
	if (strcmp(courier, "fedex") == 0)
		snprintf(buf, len, "79%010ld", i);
	else
		snprintf(buf, len, "00340434%012ld", i);
}

/* N parcels of courier, each due now once, in one transaction. */
static void fill(struct sw_store *st, const char *courier, long n)
{
	struct sw_poll sp = {0};
	char tn[32];
	enum sw_err rc;

	if ((rc = sw_store_begin(st)) != SW_OK)
		die("begin", rc, sw_store_errmsg(st));
	for (long i = 0; i < n; i++) {
		number(tn, sizeof(tn), courier, i);
		rc = sw_store_parcel_upsert(st, courier, tn, NULL, NULL,
					    (struct sw_stamp){time(NULL) - 86400, 0});
		if (rc != SW_OK)
			die("parcel", rc, sw_store_errmsg(st));
		sp.courier = courier;
		sp.tracking_number = tn;
		sp.next_poll_at = time(NULL) - 1;
		sp.interval_s = 3600;
		if ((rc = sw_store_poll_upsert(st, &sp)) != SW_OK)
			die("schedule", rc, sw_store_errmsg(st));
	}
	if ((rc = sw_store_commit(st)) != SW_OK)
		die("commit", rc, sw_store_errmsg(st));
}

/* An engine for one courier section on port, bucket widened. */
static struct sw_poll_conf *make_conf(struct sw_conf **ret_conf, const char *courier, long port,
				      long conc)
{
	const char *path = strcmp(courier, "fedex") == 0 ? "fedex" : "dhl/track";
	char *text = xasprintf(conf_fmt, courier, port, path, conc);
	struct sw_poll_conf *pc = NULL;
	char err[512] = "";
	enum sw_err rc;

	rc = sw_conf_load_string(text, "poll_bench.conf", ret_conf, err, sizeof(err));
	if (rc == SW_OK)
		rc = sw_poll_conf_load(*ret_conf, &pc, err, sizeof(err));
	free(text);
	if (rc != SW_OK)
		die("config", rc, err);
	pc->couriers[0].rate = 1e6;
	pc->couriers[0].burst = 1000000;
	pc->tick_ms = 10;
	pc->seed_ms = 3600000;
	pc->gauge_ms = 3600000;
	return pc;
}

static uint64_t done_count(const struct sw_poll_stats *s)
{
	return s->found + s->not_found + s->errors;
}

int main(int argc, char **argv)
{
	const char *courier = argc > 5 ? argv[5] : "dhl";
	struct sw_poll_engine *p = NULL;
	struct sw_poll_stats s = {0};
	struct sw_poll_conf *pc;
	struct sw_metrics *m;
	struct sw_store *st;
	struct sw_conf *conf;
	struct sw_loop *loop;
	char err[512] = "", *path;
	long port, n, conc;
	enum sw_err rc;
	double t0, t1;

	if (argc < 4 || argc > 6 ||
	    (argc == 6 && strcmp(courier, "dhl") != 0 && strcmp(courier, "fedex") != 0)) {
		fprintf(stderr, "usage: poll_bench DIR PORT N [CONCURRENCY [dhl|fedex]]\n");
		return 2;
	}
	port = arg_long("poll_bench", argv[2], "PORT", 65535);
	n = arg_long("poll_bench", argv[3], "N", 1000000);
	conc = argc > 4 ? arg_long("poll_bench", argv[4], "CONCURRENCY", 64) : 8;
	setenv("SW_BENCH_KEY", "bench-key", 1);
	setenv("SW_BENCH_SECRET", "bench-secret", 1);
	sw_log_init("poll_bench", SW_LOG_WARNING, SW_LOG_DEST_STDERR);

	path = xasprintf("%s/store.db", argv[1]);
	if ((rc = sw_store_open(path, 0, &st, err, sizeof(err))) != SW_OK)
		die("store", rc, err);
	free(path);
	fill(st, courier, n);
	pc = make_conf(&conf, courier, port, conc);
	if ((rc = sw_loop_new(&loop)) != SW_OK)
		die("loop", rc, "");
	m = sw_metrics_new();
	if ((rc = sw_poll_new(loop, st, m, pc, &p, err, sizeof(err))) != SW_OK)
		die("engine", rc, err);

	t0 = now_mono();
	if ((rc = sw_poll_start(p)) != SW_OK)
		die("start", rc, "");
	while (done_count(&s) < (uint64_t)n && now_mono() - t0 < TIME_LIMIT_S) {
		sw_loop_run_once(loop, 100);
		sw_poll_get_stats(p, courier, &s);
	}
	t1 = now_mono();

	sw_poll_free(p);
	sw_metrics_free(m);
	sw_loop_free(loop);
	sw_poll_conf_free(pc);
	sw_conf_free(conf);
	sw_store_close(st);
	sw_log_fini();
	if (s.found != (uint64_t)n || s.store_fail) {
		fprintf(stderr,
			"poll_bench: %" PRIu64 " of %ld found (not found %" PRIu64 ", errors %" PRIu64
			", store failures %" PRIu64 ") in %.1f s\n",
			s.found, n, s.not_found, s.errors, s.store_fail, t1 - t0);
		return 1;
	}
	printf("lookups %ld seconds %.6f\n", n, t1 - t0);
	printf("requests %" PRIu64 " events %" PRIu64 "\n", s.requests, s.events_new);
	return 0;
}
