/*
 * main.c - slipwatch-probes: the synthetic checks daemon (probe.h).
 *
 * Every [probes] interval, at the interval's boundaries of the wall clock,
 * one round runs each kind of sw_probe_table (those of [probes] kinds)
 * over its instances, blocking, one after another (a round takes at most
 * instances x samples x timeout; a round that overruns the interval is
 * logged and the next one waits for the next boundary).  Each result goes
 * to the metrics registry for probe/<name>.rrd (the samples' spread: the
 * registry keeps min, p10, p50, p90 and max of the step, lib/daemon's
 * series writes them once per [rrd] step) and to the store's
 * probe_results (lib/store_probes.h), where the alert engine reads it.
 * A probe that starts or stops failing is logged once, not every round
 * (the store's failing_since says which).
 *
 * -T runs every probe once, prints one line per instance and exits 0 when
 * all passed, 1 otherwise; it writes neither RRD files nor the store
 * (which it opens read-only, for the feed kind).
 */
#include "config.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/mqtt.h"
#include "conf/registry.h"
#include "lib/clock.h"
#include "lib/daemon.h"
#include "lib/store_probes.h"
#include "lib/store_signals.h"
#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/probe.h"
#include "slipwatch/metrics.h"

#define ERR_LEN 4400

/* What a round does with each result. */
typedef void round_fn(void *arg, const struct sw_probe_desc *k, const struct sw_probe_result *r);

struct probes {
	struct sw_daemon *d;
	struct sw_probes_conf *conf; /* d->state */
	struct sw_metrics *metrics;
	struct sw_daemon_series series;
	uint64_t timer;
	struct sw_log_complain store_c;
};

static struct probes probes;

/* The one clock (lib/clock.h): rounds fall on boundaries of its wall
 * clock, and a round's length is judged against the interval on it. */
static int64_t mono_ms(void)
{
	return sw_clock_mono_ms();
}

static int64_t wall_ms(void)
{
	return sw_clock_now_ms();
}

/* True if kind is in the comma-separated list (NULL: every kind). */
static bool kind_wanted(const char *list, const char *kind)
{
	size_t len = strlen(kind);

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ", \t");

		if (n == len && strncmp(p, kind, n) == 0)
			return true;
		p += n;
		p += strspn(p, ", \t");
	}
	return list == NULL;
}

/*
 * Runs every instance of k.  A kind that cannot list or run an instance
 * gives a failed result saying why (the round goes on).  Returns the
 * number of instances.
 */
static size_t run_kind(const struct sw_probe_env *env, const struct sw_probe_desc *k, round_fn *fn,
		       void *arg)
{
	struct sw_probe_result r;
	char err[ERR_LEN], **ids = NULL;
	size_t n = 0;

	if (k->instances(env, &ids, &n, err, sizeof(err)) != SW_OK) {
		memset(&r, 0, sizeof(r));
		sw_probe_name(k->kind, "", &r);
		snprintf(r.reason, sizeof(r.reason), "cannot list the instances: %.200s", err);
		fn(arg, k, &r);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		if (!sw_probe_name(k->kind, ids[i], &r)) {
			sw_log_warn("probes", "%s: instance '%.64s' is not a valid name; skipped",
				    k->kind, ids[i]);
			continue;
		}
		if (k->run(env, ids[i], &r, err, sizeof(err)) != SW_OK) {
			r.ok = false;
			snprintf(r.reason, sizeof(r.reason), "cannot run: %.200s", err);
		}
		sw_probe_median(&r); /* sorts lat */
		fn(arg, k, &r);
	}
	sw_store_sig_ids_free(ids, n);
	return n;
}

/* One round over every wanted kind; the number of instances run. */
static size_t run_round(const struct sw_probes_conf *c, struct sw_store *st, int64_t now,
			round_fn *fn, void *arg)
{
	struct sw_probe_env env = {
	    .conf = c, .st = st, .now = now, .samples = c->samples, .timeout_ms = c->timeout_ms};
	size_t n = 0;

	for (size_t i = 0; sw_probe_table[i]; i++)
		if (kind_wanted(c->kinds, sw_probe_table[i]->kind))
			n += run_kind(&env, sw_probe_table[i], fn, arg);
	return n;
}

/* ---- the daemon ---------------------------------------------------------- */

static void record_metrics(struct probes *p, const struct sw_probe_result *r)
{
	char file[SW_PROBE_NAME_MAX + 8];

	snprintf(file, sizeof(file), "probe/%s", r->name);
	sw_metrics_count(p->metrics, file, "ok", r->ok ? 1 : 0);
	sw_metrics_count(p->metrics, file, "fail", r->ok ? 0 : 1);
	sw_metrics_count(p->metrics, file, "sent", (uint64_t)r->sent);
	sw_metrics_count(p->metrics, file, "lost", (uint64_t)r->lost);
	for (int i = 0; i < r->n_lat; i++)
		sw_metrics_sample(p->metrics, file, "latency", r->lat[i]);
	if (r->has_value)
		sw_metrics_gauge(p->metrics, file, "value", r->value);
}

/* The store row; logs when the probe starts or stops failing. */
static void record_store(struct probes *p, const struct sw_probe_desc *k,
			 const struct sw_probe_result *r, int64_t now)
{
	struct sw_probe_row row = {.name = (char *)r->name,
				   .kind = (char *)k->kind,
				   .at = now,
				   .ok = r->ok,
				   .sent = r->sent,
				   .lost = r->lost,
				   .lat_max = r->n_lat ? r->lat[r->n_lat - 1] : -1,
				   .has_value = r->has_value,
				   .value = r->value,
				   .reason = (char *)r->reason,
				   .detail = (char *)r->detail};
	struct sw_probe_row *old = NULL;
	bool was_ok = true;
	struct sw_probe_result tmp = *r;

	row.lat_p50 = sw_probe_median(&tmp); /* r->lat is sorted already */
	if (sw_store_probe_get(p->d->store, r->name, &old) == SW_OK)
		was_ok = old->ok;
	sw_store_probe_rows_free(old, old ? 1 : 0);
	if (sw_store_probe_put(p->d->store, &row) != SW_OK) {
		sw_log_complain(&p->store_c, SW_LOG_ERR, "store", "cannot store a probe result: %s",
				sw_store_errmsg(p->d->store));
		return;
	}
	sw_log_release(&p->store_c, SW_LOG_NOTICE, "store", "storing probe results again");
	if (was_ok && !r->ok)
		sw_log_warn(r->name, "failing: %s", r->reason[0] ? r->reason : "(no reason given)");
	else if (!was_ok && r->ok)
		sw_log_notice(r->name, "passing again: %s", r->detail);
}

struct round_ctx {
	struct probes *p;
	int64_t now;
};

static void on_result(void *arg, const struct sw_probe_desc *k, const struct sw_probe_result *r)
{
	struct round_ctx *ctx = arg;

	record_metrics(ctx->p, r);
	record_store(ctx->p, k, r, ctx->now);
}

/* Milliseconds from now to the next multiple of interval_ms of the wall
 * clock (at least 1). */
static int64_t to_boundary(int64_t interval_ms)
{
	int64_t left = interval_ms - wall_ms() % interval_ms;

	return left > 0 ? left : 1;
}

static int64_t round_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct probes *p = arg;
	int64_t interval = p->conf->interval_ms, t0 = mono_ms(), took;
	/* the boundary this round is for: the timer fires at or just after
	 * it (a little slack for the wall clock and the monotonic one to
	 * disagree) */
	struct round_ctx ctx = {.p = p, .now = (wall_ms() + 200) / interval * interval / 1000};
	size_t n;

	(void)loop;
	(void)id;
	n = run_round(p->conf, p->d->store, ctx.now, on_result, &ctx);
	took = mono_ms() - t0;
	if (took > interval)
		sw_log_warn("probes",
			    "a round of %zu probes took %lld ms, over the interval of %lld ms", n,
			    (long long)took, (long long)interval);
	else
		sw_log_debug("probes", "round of %zu probes in %lld ms", n, (long long)took);
	return to_boundary(interval);
}

static void probes_flush(struct sw_daemon *d)
{
	(void)d;
	sw_daemon_series_flush(&probes.series, true);
}

static enum sw_err probes_start(struct sw_daemon *d, char *errbuf, size_t errlen)
{
	struct probes *p = &probes;
	enum sw_err rc;

	p->d = d;
	p->conf = d->state;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "cannot initialise libcurl");
		return SW_EIO;
	}
	p->metrics = sw_metrics_new();
	rc = sw_daemon_series_start(d, &p->series, &p->conf->rrd, p->metrics, NULL, NULL, errbuf,
				    errlen);
	if (rc)
		return rc;
	sw_log_info("probes", "every %lld s, %d samples of at most %lld ms",
		    (long long)(p->conf->interval_ms / 1000), p->conf->samples,
		    (long long)p->conf->timeout_ms);
	return sw_loop_timer_add(d->loop, to_boundary(p->conf->interval_ms), round_timer_cb, p,
				 &p->timer);
}

static enum sw_err probes_reload(struct sw_daemon *d, void *new_state, char *errbuf, size_t errlen)
{
	struct probes *p = &probes;
	struct sw_probes_conf *c = new_state;

	(void)errbuf;
	(void)errlen;
	if (strcmp(c->rrd.dir, p->conf->rrd.dir) != 0 || c->rrd.step_ms != p->conf->rrd.step_ms) {
		/* The running writer keeps the old settings: keep them in the
		 * new state too, so that the step timer agrees with it. */
		sw_log_warn(NULL, "reload: [rrd] changes apply after a restart");
		free(c->rrd.dir);
		c->rrd.dir = xstrdup(p->conf->rrd.dir);
		c->rrd.step_ms = p->conf->rrd.step_ms;
	}
	if (c->interval_ms != p->conf->interval_ms)
		sw_loop_timer_set(d->loop, p->timer, to_boundary(c->interval_ms));
	p->conf = c; /* a round runs within one callback: none holds the old one */
	return SW_OK;
}

static void probes_stop(struct sw_daemon *d)
{
	struct probes *p = &probes;

	if (p->timer)
		sw_loop_timer_del(d->loop, p->timer);
	p->timer = 0;
	sw_daemon_series_stop(d, &p->series);
	sw_metrics_free(p->metrics);
	p->metrics = NULL;
	curl_global_cleanup();
}

static const struct sw_daemon_desc probes_desc = {
    .name = "probes",
    .summary = "Run synthetic checks of couriers, broker, mail relay and feeds "
	       "(-T: run every probe once, print the results).",
    .part = &sw_probes_part,
    .registry = sw_registry,
    .start = probes_start,
    .reload = probes_reload,
    .stop = probes_stop,
    .flush = probes_flush,
};

/* ---- -T: every probe once ------------------------------------------------ */

struct test_ctx {
	size_t failed;
};

/* "0.012s", or "-" without a value. */
static const char *secs(char *buf, size_t len, double v)
{
	if (v < 0 || !isfinite(v))
		return "-";
	snprintf(buf, len, "%.3fs", v);
	return buf;
}

static void print_result(void *arg, const struct sw_probe_desc *k, const struct sw_probe_result *r)
{
	struct test_ctx *ctx = arg;
	char med[32], max[32], val[48] = "-";
	struct sw_probe_result tmp = *r;
	double m = sw_probe_median(&tmp);

	(void)k;
	if (r->has_value)
		snprintf(val, sizeof(val), "%.0f", r->value);
	printf("%-24s %-4s sent=%d lost=%d median=%s max=%s value=%s %s\n", r->name,
	       r->ok ? "ok" : "FAIL", r->sent, r->lost, secs(med, sizeof(med), m),
	       secs(max, sizeof(max), r->n_lat ? tmp.lat[r->n_lat - 1] : -1), val,
	       r->ok ? r->detail : r->reason);
	ctx->failed += !r->ok;
}

/* argv without -T / --test-probes; true if it was there. */
static bool take_test_flag(int *argc, char **argv)
{
	bool found = false;
	int j = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "-T") == 0 || strcmp(argv[i], "--test-probes") == 0)
			found = true;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

static int test_probes(int argc, char **argv)
{
	struct sw_daemon_args args;
	struct sw_daemon_conf dconf = {0};
	struct sw_conf *file = NULL;
	struct sw_store *st = NULL;
	struct test_ctx ctx = {0};
	char err[ERR_LEN];
	void *state = NULL;
	size_t n;

	if (sw_daemon_parse_args(argc, argv, &args, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-probes: %s\n", err);
		return 2;
	}
	if (args.help || args.version || args.check_only) /* they win, as without -T */
		return sw_daemon_main(argc, argv, &probes_desc);
	if (sw_daemon_load_conf(&probes_desc, args.conf_path, &file, &dconf, &state, err,
				sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-probes: %s\n", err);
		return 1;
	}
	if (sw_daemon_clock(&dconf, args.conf_path, args.clock_spec, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-probes: %s\n", err);
		sw_probes_part.free_state(state);
		sw_daemon_conf_free(&dconf);
		sw_conf_free(file);
		return 1;
	}
	sw_log_init("probes", (enum sw_log_level)dconf.log_level, SW_LOG_DEST_STDERR);
	if (sw_store_open(dconf.store_path, SW_STORE_RDONLY, &st, err, sizeof(err)) != SW_OK)
		fprintf(stderr, "slipwatch-probes: %s (the feed probe cannot run)\n", err);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	n = run_round(state, st, sw_clock_now(), print_result, &ctx);
	if (n == 0)
		fprintf(stderr, "slipwatch-probes: no probe has anything to check\n");
	curl_global_cleanup();
	sw_store_close(st);
	sw_probes_part.free_state(state);
	sw_daemon_conf_free(&dconf);
	sw_conf_free(file);
	fflush(stdout);
	return ctx.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	int status;

	if (sw_mqtt_lib_init() != SW_OK) {
		fprintf(stderr, "slipwatch-probes: cannot initialise libmosquitto\n");
		return 1;
	}
	if (take_test_flag(&argc, argv))
		status = test_probes(argc, argv);
	else
		status = sw_daemon_main(argc, argv, &probes_desc);
	sw_mqtt_lib_fini();
	return status;
}
