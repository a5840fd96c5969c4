/*
 * main.c - slipwatch-sim: publishes a simulated world's warehouse events
 * over MQTT and serves its couriers' tracking APIs, on the one clock
 * (lib/clock.h, SLIPWATCH_CLOCK), and writes the ground truth beside the
 * run (man/slipwatch-sim.1, doc/simulator.md).
 *
 *   slipwatch-sim -c FILE [--out DIR] [--once-world]
 *
 * Start-up: the configuration, the world (from the seed), OUT/truth.json,
 * the API server, OUT/couriers.conf; the port bound is the first line on
 * stdout.  Then one loop: publish what is due, rewrite OUT/progress once a
 * real second, until the simulated run is over or SIGTERM/SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "sim/api.h"
#include "sim/publish.h"
#include "sim/simconf.h"
#include "sim/truth.h"
#include "sim/world_int.h"

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: slipwatch-sim -c FILE [--out DIR] [--once-world]\n"
		   "  -c, --config FILE  the simulator's configuration (sim.conf.example)\n"
		   "  -o, --out DIR      where truth.json, couriers.conf, progress go\n"
		   "                     (default: [sim] out)\n"
		   "      --once-world   build the world, write the truth, print a summary,"
		   " exit\n"
		   "  -h, --help         this text\n"
		   "The clock is SLIPWATCH_CLOCK (START*SPEED@ANCHOR), as for every slipwatch"
		   " program.\n");
}

struct opts {
	const char *config, *out;
	bool once;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
					    {"out", required_argument, NULL, 'o'},
					    {"once-world", no_argument, NULL, 'W'},
					    {"help", no_argument, NULL, 'h'},
					    {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:o:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'o': o->out = optarg; break;
		case 'W': o->once = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !o->config) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static int64_t start_of(const struct sim_conf *c)
{
	struct sw_time t;

	if (strcmp(c->start_text, "now") == 0 ||
	    sw_time_parse(c->start_text, &t, NULL, 0) != SW_OK)
		return sw_clock_now();
	return t.utc_sec;
}

static void summary(FILE *f, const struct sim_world *w)
{
	struct sim_totals t;
	char a[SW_TIME_STRLEN], b[SW_TIME_STRLEN];

	sim_truth_totals(w, &t);
	sim_format_time(w->start, 0, a, sizeof(a));
	sim_format_time(w->end, 0, b, sizeof(b));
	fprintf(f,
		"slipwatch-sim: world %s .. %s: %zu orders (%zu cancelled), %zu parcels, "
		"%zu events (%zu distinct, %zu within the run); orders: %zu expect slips, "
		"%zu may, %zu must hear nothing; slips: %zu expected, %zu may\n",
		a, b, t.orders, t.cancelled, t.parcels, t.events, t.distinct_events,
		t.events_in_run, t.orders_expect, t.orders_may, t.orders_silent, t.slips_expect,
		t.slips_may);
}

static bool courier_used(const struct sim_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_wh; i++)
		for (size_t j = 0; j < c->wh[i].n_couriers; j++)
			if (strcmp(c->wh[i].couriers[j], name) == 0)
				return true;
	return false;
}

/* OUT/secrets/NAME (mode 0600) and OUT/couriers.conf. */
static enum sw_err write_couriers(const struct sim_conf *c, const char *out, int port,
				  char *err, size_t errlen)
{
	static const struct {
		const char *name, *path;
		bool oauth;
	} cs[] = {{"dhl", "dhl/track", false}, {"fedex", "fedex", true}, {"ups", "ups/api", true}};
	char dir[4096], abs_out[4096];
	struct sw_buf b;
	enum sw_err rc;

	snprintf(dir, sizeof(dir), "%s/secrets", out);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%.900s/secrets: cannot create: %s", out, strerror(errno));
		return SW_EIO;
	}
	if ((rc = sim_write_file(dir, "api-key", c->api_key, err, errlen)) ||
	    (rc = sim_write_file(dir, "client-id", c->client_id_api, err, errlen)) ||
	    (rc = sim_write_file(dir, "client-secret", c->client_secret, err, errlen)))
		return rc;
	for (size_t i = 0; i < 3; i++) {
		static const char *const f[] = {"api-key", "client-id", "client-secret"};
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, f[i]);
		chmod(path, 0600);
	}
	if (!realpath(out, abs_out))
		snprintf(abs_out, sizeof(abs_out), "%s", out);
	sw_buf_init(&b, 1 << 16);
	sw_buf_printf(&b, "; written by slipwatch-sim: the couriers of its world, to include\n"
			  "; in slipwatch.conf (API on %s:%d)\n",
		      c->api_bind, port);
	for (size_t i = 0; i < 3; i++) {
		if (!courier_used(c, cs[i].name))
			continue;
		sw_buf_printf(&b, "[courier %s]\nbase_url = http://%s:%d/%s\n", cs[i].name,
			      c->api_bind, port, cs[i].path);
		if (cs[i].oauth)
			sw_buf_printf(&b, "api_key_file = %s/secrets/client-id\n"
					  "api_secret_file = %s/secrets/client-secret\n",
				      abs_out, abs_out);
		else
			sw_buf_printf(&b, "api_key_file = %s/secrets/api-key\n", abs_out);
	}
	rc = sim_write_file(out, "couriers.conf", sw_buf_str(&b), err, errlen);
	sw_buf_free(&b);
	return rc;
}

static size_t parcels_visible(const struct sim_world *w, int64_t now)
{
	size_t n = 0;
	for (size_t i = 0; i < w->n_parcels; i++)
		n += w->index[i]->n_scans && w->index[i]->scans[0].at <= now;
	return n;
}

static void write_progress(const struct sim_world *w, const char *out, struct sim_pub *pub,
			   struct sim_api *api, int64_t now)
{
	struct sim_pub_stats ps;
	struct sim_api_stats as = {0};
	char t[SW_TIME_STRLEN], line[512], err[256];

	sim_pub_get_stats(pub, &ps);
	if (api)
		sim_api_get_stats(api, &as);
	sim_format_time(now, 0, t, sizeof(t));
	snprintf(line, sizeof(line),
		 "sim_time=%s events_published=%llu events_acked=%llu events_total=%zu "
		 "parcels_visible=%zu api_requests=%llu api_outage_answers=%llu done=%d\n",
		 t, (unsigned long long)ps.published, (unsigned long long)ps.acked, w->n_events,
		 parcels_visible(w, now), (unsigned long long)as.requests,
		 (unsigned long long)as.outage, now >= w->end);
	if (sim_write_file(out, "progress", line, err, sizeof(err)) != SW_OK)
		fprintf(stderr, "slipwatch-sim: %s\n", err);
}

static int64_t mono_real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Publishes until the run is over (and acknowledged, for at most 10 real
 * seconds more) or a signal; the progress file once a real second. */
static void run(const struct sim_world *w, const char *out, struct sim_pub *pub,
		struct sim_api *api)
{
	int64_t next_progress = 0, drain_until = -1;
	char err[256], last[256] = "";

	for (;;) {
		int64_t now = sw_clock_now(), real = mono_real_ms();
		int64_t due = sim_pub_next_at(pub), wait;

		/* Nothing after the run's end is published (the truth's
		 * events_in_run: publish_at <= end). */
		if (now > w->end)
			now = w->end;

		if (stop_sig && drain_until < 0)
			drain_until = real + 2000;
		if (now >= w->end && drain_until < 0)
			drain_until = real + 10000;
		if (drain_until >= 0 && (real >= drain_until || sim_pub_idle(pub, now)))
			break;
		/* due is INT64_MAX when nothing is left to publish */
		wait = due > now ? sw_clock_real_wait_ms(due - now > 3600 ? 3600000 : (due - now) * 1000)
				 : 0;
		if (wait < 0 || wait > 200)
			wait = 200;
		sim_pub_step(pub, drain_until >= 0 && stop_sig ? INT64_MIN : now, (int)wait, err,
			     sizeof(err));
		if (*err && strcmp(err, last) != 0)
			fprintf(stderr, "slipwatch-sim: %s\n", err);
		snprintf(last, sizeof(last), "%s", err);
		if (real >= next_progress) {
			write_progress(w, out, pub, api, now);
			next_progress = real + 1000;
		}
	}
	write_progress(w, out, pub, api, sw_clock_now());
}

static int fail(const char *what)
{
	fprintf(stderr, "slipwatch-sim: %s\n", what);
	return 1;
}

static int serve(const struct sim_conf *c, const struct sim_world *w, const char *out)
{
	struct sim_api_opts ao = {c->api_bind, (int)c->api_port, c->api_key, c->client_id_api,
				  c->client_secret};
	struct sim_api *api = NULL;
	struct sim_pub *pub = NULL;
	char err[1024];
	int port = 0;

	if (sim_api_start(w, &ao, &api, &port, err, sizeof(err)) != SW_OK)
		return fail(err);
	printf("%d\n", port);
	fflush(stdout);
	if (write_couriers(c, out, port, err, sizeof(err)) != SW_OK ||
	    sim_pub_new(w, c, &pub, err, sizeof(err)) != SW_OK) {
		sim_api_stop(api);
		return fail(err);
	}
	run(w, out, pub, api);
	{
		struct sim_pub_stats ps;
		struct sim_api_stats as;
		sim_pub_get_stats(pub, &ps);
		sim_api_get_stats(api, &as);
		fprintf(stderr,
			"slipwatch-sim: %s: published %llu events (%llu acknowledged), "
			"%llu API requests (%llu answered, %llu not found, %llu outage, "
			"%llu refused)\n",
			stop_sig ? "stopped by a signal" : "run over",
			(unsigned long long)ps.published, (unsigned long long)ps.acked,
			(unsigned long long)as.requests, (unsigned long long)as.answered,
			(unsigned long long)as.not_found, (unsigned long long)as.outage,
			(unsigned long long)as.refused);
	}
	sim_pub_free(pub);
	sim_api_stop(api);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct sim_conf c;
	struct sim_world *w = NULL;
	char err[1024];
	bool set;
	int rc;

	if ((rc = parse_args(argc, argv, &o)))
		return rc;
	if (sw_clock_from_env(&set, err, sizeof(err)) != SW_OK)
		return fail(err);
	if (sim_conf_load(o.config, &c, err, sizeof(err)) != SW_OK)
		return fail(err);
	if (!o.out)
		o.out = c.out;
	if (mkdir(o.out, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "slipwatch-sim: %s: cannot create: %s\n", o.out, strerror(errno));
		sim_conf_free(&c);
		return 1;
	}
	if (sim_world_build(&c, start_of(&c), &w, err, sizeof(err)) != SW_OK ||
	    sim_truth_write(w, o.out, err, sizeof(err)) != SW_OK) {
		sim_world_free(w);
		sim_conf_free(&c);
		return fail(err);
	}
	summary(stderr, w);
	if (!o.once) {
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		rc = serve(&c, w, o.out);
	}
	sim_world_free(w);
	sim_conf_free(&c);
	return rc;
}
