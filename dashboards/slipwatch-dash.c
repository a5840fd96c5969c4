/*
 * slipwatch-dash.c - writes slipwatch's dashboards as a static site: the
 * graphs of the definitions in [dash] defs (dashboards/NAME.dash, see
 * dash_defs.h) drawn from the RRD files for 4 hours, a day, a week, a
 * month and a year, as HTML pages with SVG (or PNG) images.
 *
 *   slipwatch-dash [-c FILE] [-o DIR] [-d DIR] [--png] [--every SECONDS | --once]
 *                  [--listen ADDR:PORT] [-t [-v]]
 *
 * Design: one thread draws (with --listen, libmicrohttpd serves the site
 * from a thread of its own, dash_serve.h; --once then serves until a stop
 * signal).  Each generation is written whole into a fresh
 * directory and swapped in atomically (dash_site.h); with --every the
 * next one starts SECONDS after the last one started (at once if it took
 * longer).  SIGTERM and SIGINT are blocked and waited for with
 * sigtimedwait between generations, and polled between graphs, so a stop
 * never leaves a half-written site: an unfinished generation is removed.
 * The configuration is judged whole, as every slipwatch program judges
 * it (lib/daemon.h); the definitions are read again before each
 * generation, so an edited file takes effect without a restart (a broken
 * edit is reported, and the last good definitions are kept).  The store
 * ([store] path) is opened read-only; one that cannot be opened (not
 * created yet, a newer schema) is no error: its parts of the pages say
 * "store not available", and each later generation tries again.
 *
 * Exit status: 0 done (--once: every graph drawn or "no data yet";
 * --every: stopped by a signal), 1 a configuration, definition or site
 * error, or (--once) a graph librrd refused, 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts/rules.h"
#include "conf/registry.h"
#include "dashboards/dash_conf.h"
#include "dashboards/dash_defs.h"
#include "dashboards/dash_render.h"
#include "dashboards/dash_serve.h"
#include "dashboards/dash_site.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/daemon.h"
#include "lib/log.h"
#include "lib/store.h"
#include "lib/xmalloc.h"

#define ERR_LEN	  1024
#define EVERY_MAX 86400

static const struct sw_daemon_desc dash_desc = {
    .name = "dash",
    .summary = "write slipwatch's dashboards as a static site",
    .part = &sw_dash_part,
    .registry = sw_registry,
};

struct args {
	const char *conf_path;
	const char *out, *defs; /* overrides of [dash] out, defs; NULL: none */
	const char *listen;	/* override of [dash] listen; NULL: none */
	bool png, test, verbose;
	long every; /* seconds; 0: once */
};

struct run {
	struct args args;
	struct sw_dash_state *conf;
	struct sw_dash_defs defs;
	struct sw_dash_site *site;
	struct sw_dash_serve *serve; /* --listen: the site over HTTP; NULL: off */
	struct sw_dash_listen listen;
	struct sw_dash_opts opts;
	const char *store_path;	      /* [store] path */
	struct sw_alerts_conf alerts; /* [alerts], for its tracking_url */
	char store_err[ERR_LEN];      /* why opts.store is NULL */
	sigset_t stop_set;
	struct sw_log_complain defs_complain, site_complain, graph_complain, store_complain;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: slipwatch-dash [-c FILE] [-o DIR] [-d DIR] [--png] [--every SECONDS | "
		"--once]\n"
		"                      [--listen ADDR:PORT] [-t [-v]]\n"
		"       slipwatch-dash -h | --version\n"
		"write slipwatch's dashboards as a static site (HTML and SVG graphs from the RRD "
		"files)\n\n"
		"  -c, --config FILE    configuration file (default %s)\n"
		"  -o, --out DIR        the site, a symbolic link swapped to each new generation\n"
		"                       (default [dash] out)\n"
		"  -d, --defs DIR       dashboard definitions NAME.dash (default [dash] defs)\n"
		"      --png            PNG images instead of SVG\n"
		"      --every SECONDS  write the site again every SECONDS until SIGTERM or "
		"SIGINT\n"
		"      --once           write the site once and exit (the default)\n"
		"      --listen ADDR:PORT\n"
		"                       also serve the site over HTTP, e.g. 127.0.0.1:8080\n"
		"                       or [::1]:8080 (with --once: until SIGTERM or SIGINT)\n"
		"  -t, --test           check the configuration and the definitions, and exit\n"
		"  -v, --verbose        with -t, print the effective [dash] and [rrd] settings\n"
		"  -h, --help           this text\n"
		"      --version        print the version\n"
		"Exit status: 0 done, 1 a configuration, definition, site or graph error, 2 usage "
		"error.\n",
		sw_daemon_default_conf());
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "slipwatch-dash: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	return 2;
}

/* --every's value: whole seconds 1..EVERY_MAX, or -1. */
static long seconds(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return *end || errno || v < 1 || v > EVERY_MAX ? -1 : v;
}

/* Parses argv into *a: -1 to go on, else the exit status (help, version,
 * usage errors). */
static int parse_args(int argc, char **argv, struct args *a)
{
	/* clang-format off */
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"out", required_argument, NULL, 'o'},
	    {"defs", required_argument, NULL, 'd'},
	    {"png", no_argument, NULL, 'P'},
	    {"every", required_argument, NULL, 'E'},
	    {"once", no_argument, NULL, '1'},
	    {"listen", required_argument, NULL, 'L'},
	    {"test", no_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	/* clang-format on */
	bool once = false;
	int c;

	memset(a, 0, sizeof(*a));
	a->conf_path = sw_daemon_default_conf();
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:o:d:tvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->conf_path = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'd':
			a->defs = optarg;
			break;
		case 'P':
			a->png = true;
			break;
		case '1':
			once = true;
			break;
		case 'L':
			a->listen = optarg;
			break;
		case 't':
			a->test = true;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("slipwatch-dash %s\n", PACKAGE_VERSION);
			return 0;
		case 'E':
			if ((a->every = seconds(optarg)) < 0)
				return usage_error("--every: want whole seconds 1..86400: '%s'",
						   optarg);
			break;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (a->verbose && !a->test)
		return usage_error("-v goes with -t");
	if (once && a->every)
		return usage_error("--once and --every exclude each other");
	if (!*a->conf_path || (a->out && !*a->out) || (a->defs && !*a->defs))
		return usage_error("an empty file name is not a file");
	if (a->listen && !*a->listen)
		return usage_error("--listen: want ADDRESS:PORT");
	return -1;
}

/* SIGTERM or SIGINT is pending (polled between graphs). */
static bool stop_pending(void)
{
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return false;
	return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

/* Reads the definitions again; a broken edit keeps the last good ones. */
static void reload_defs(struct run *r)
{
	struct sw_dash_defs fresh;
	char err[ERR_LEN];

	if (sw_dash_defs_load(r->conf->dash.defs, &fresh, err, sizeof(err)) != SW_OK) {
		sw_log_complain(&r->defs_complain, SW_LOG_ERR, "definitions",
				"%s (the last good definitions are drawn)", err);
		return;
	}
	sw_log_release(&r->defs_complain, SW_LOG_NOTICE, "definitions", "read again");
	sw_dash_defs_free(&r->defs);
	r->defs = fresh;
}

/* The graphs librrd refused in a generation: each generation with --once,
 * rate-limited with --every. */
static void report_graphs(struct run *r, const struct sw_dash_stats *st)
{
	if (st->failed == 0) {
		sw_log_release(&r->graph_complain, SW_LOG_NOTICE, "graphs", "all drawn again");
		return;
	}
	if (r->args.every)
		sw_log_complain(&r->graph_complain, SW_LOG_ERR, "graphs",
				"%zu of %zu failed (shown on their pages); the first: %s",
				st->failed, st->graphs, st->first_error);
	else
		sw_log_err("graphs", "%zu of %zu failed (shown on their pages); the first: %s",
			   st->failed, st->graphs, st->first_error);
}

/* Opens the store read-only unless it is open: one missing at start (the
 * collector has not made it yet) is found by a later generation.  On
 * failure opts.store stays NULL and store_err says why. */
static void open_store(struct run *r, bool quiet)
{
	if (r->opts.store)
		return;
	if (sw_store_open(r->store_path, SW_STORE_RDONLY, &r->opts.store, r->store_err,
			  sizeof(r->store_err)) == SW_OK) {
		r->store_err[0] = '\0';
		return;
	}
	if (!quiet)
		sw_log_complain(&r->store_complain, SW_LOG_WARNING, "store",
				"%s (pages say the store is not available)", r->store_err);
}

/* After a generation: a store that could not be read is closed, so that
 * the next generation opens it afresh (a schema the collector upgraded
 * meanwhile is then judged again). */
static void report_store(struct run *r, const struct sw_dash_stats *st)
{
	if (!r->opts.store)
		return;
	if (st->store_error[0] == '\0') {
		sw_log_release(&r->store_complain, SW_LOG_NOTICE, "store", "read");
		return;
	}
	sw_log_complain(&r->store_complain, SW_LOG_WARNING, "store",
			"%s: %s (pages say the store is not available)", r->store_path,
			st->store_error);
	sw_store_close(r->opts.store);
	r->opts.store = NULL;
}

/* One generation: 0 written, 1 failed, 2 stopped. */
static int generation(struct run *r)
{
	struct sw_dash_stats st;
	const char *dir, *warn;
	char err[ERR_LEN];
	enum sw_err rc;

	open_store(r, false);
	rc = sw_dash_site_begin(r->site, &dir, err, sizeof(err));
	if (rc == SW_OK)
		rc = sw_dash_render(&r->defs, &r->opts, dir, sw_clock_now(), stop_pending, &st,
				    err, sizeof(err));
	if (rc == SW_EAGAIN) {
		sw_dash_site_abort(r->site);
		return 2;
	}
	if (rc == SW_OK)
		rc = sw_dash_site_commit(r->site, &warn, err, sizeof(err));
	if (rc) {
		sw_dash_site_abort(r->site);
		sw_log_complain(&r->site_complain, SW_LOG_ERR, "site", "%s", err);
		return 1;
	}
	sw_log_release(&r->site_complain, SW_LOG_NOTICE, "site", "written again");
	if (warn)
		sw_log_warn("site", "%s", warn);
	sw_log_at(r->args.every ? SW_LOG_DEBUG : SW_LOG_INFO, "site",
		  "%s: %zu pages, %zu graphs (%zu images, %zu no data yet, %zu failed)",
		  r->conf->dash.out, st.pages, st.graphs, st.images, st.nodata, st.failed);
	report_graphs(r, &st);
	report_store(r, &st);
	return st.failed ? 1 : 0;
}

/* Waits until next (sw_clock_mono_ms: on a simulated clock the wait is
 * shorter); true when a stop signal came. */
static bool wait_until(struct run *r, int64_t next)
{
	for (;;) {
		int64_t ms = sw_clock_real_wait_ms(next - sw_clock_mono_ms());
		struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};

		if (ms == 0)
			return stop_pending();
		/* ms < 0: a stepped clock nobody steps here; only a signal ends it */
		if (sigtimedwait(&r->stop_set, NULL, ms > 0 ? &left : NULL) > 0)
			return true;
		if (errno == EAGAIN)
			return false; /* the time has come */
	}
}

/* --once with --listen: the site is served until a stop signal. */
static void serve_until_stop(struct run *r)
{
	int sig;

	sigwait(&r->stop_set, &sig);
	sw_log_notice(NULL, "stopped");
}

/* --once, or --every until a stop signal.  The exit status. */
static int run(struct run *r)
{
	int64_t next;
	int status;

	for (bool first = true;; first = false) {
		next = sw_clock_mono_ms() + (int64_t)r->args.every * 1000;
		if (!first)
			reload_defs(r);
		status = generation(r);
		if (!r->args.every && r->serve && status != 2)
			serve_until_stop(r);
		if (!r->args.every)
			return status == 2 ? 0 : status;
		if (status == 2 || wait_until(r, next))
			break;
	}
	sw_log_notice(NULL, "stopped");
	return 0;
}

/* The options of the site from the configuration. */
static void set_opts(struct run *r)
{
	struct sw_dash_conf *d = &r->conf->dash;

	r->opts.rrd = &r->conf->rrd;
	r->opts.site_title = d->title;
	r->opts.zone = d->timezone;
	r->opts.target = d->target;
	r->opts.refresh = d->refresh_ms / 1000;
	r->opts.width = (int)d->width;
	r->opts.height = (int)d->height;
	r->opts.png = r->args.png;
	r->opts.at_risk_s = d->at_risk_ms / 1000;
	r->opts.tracking_url = r->alerts.tracking_url;
	if (d->timezone[0]) {
		setenv("TZ", d->timezone, 1); /* librrd's axes follow the process's zone */
		tzset();
	}
}

/* [alerts] tracking_url, the customers' tracking page the tables link:
 * read with the alert engine's own table (text only: its secrets are not
 * ours), already judged by the registry.  0, or 1 (printed). */
static int read_alerts(struct run *r, struct sw_conf *file)
{
	char err[ERR_LEN];
	enum sw_err rc;

	sw_conf_set_text_only(file, true);
	rc =
	    sw_conf_apply(file, "alerts", NULL, sw_alerts_conf_table, &r->alerts, err, sizeof(err));
	sw_conf_set_text_only(file, false);
	if (rc != SW_OK) {
		fprintf(stderr, "slipwatch-dash: %s\n", err);
		return 1;
	}
	return 0;
}

/* Loads the configuration and the definitions: 0, or 1 (printed). */
static int load(struct run *r, struct sw_conf **ret_file, struct sw_daemon_conf *dconf)
{
	char err[ERR_LEN];
	void *state = NULL;

	if (sw_daemon_load_conf(&dash_desc, r->args.conf_path, ret_file, dconf, &state, err,
				sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-dash: %s\n", err);
		return 1;
	}
	r->conf = state;
	r->store_path = dconf->store_path;
	if (sw_daemon_clock(dconf, r->args.conf_path, NULL, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-dash: %s\n", err);
		return 1;
	}
	sw_log_init("dash", (enum sw_log_level)dconf->log_level, SW_LOG_DEST_STDERR);
	if (sw_clock_simulated() && !r->args.test) {
		sw_daemon_clock_describe(err, sizeof(err));
		sw_log_notice(NULL, "clock: %s", err);
	}
	if (r->args.out) {
		free(r->conf->dash.out);
		r->conf->dash.out = xstrdup(r->args.out);
	}
	if (r->args.defs) {
		free(r->conf->dash.defs);
		r->conf->dash.defs = xstrdup(r->args.defs);
	}
	if (r->args.listen) {
		free(r->conf->dash.listen);
		r->conf->dash.listen = xstrdup(r->args.listen);
	}
	if (r->conf->dash.listen[0] &&
	    sw_dash_listen_parse(r->conf->dash.listen, r->conf->dash.listen_public, &r->listen, err,
				 sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-dash: %s: %s: '%s'\n",
			r->args.listen ? "--listen" : "[dash] listen", err, r->conf->dash.listen);
		return 1;
	}
	if (sw_dash_defs_load(r->conf->dash.defs, &r->defs, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-dash: %s\n", err);
		return 1;
	}
	if (read_alerts(r, *ret_file) != 0)
		return 1;
	set_opts(r);
	return 0;
}

/* -t: the configuration and definitions are good; -v: the settings. */
static void report_check(struct run *r)
{
	struct sw_buf out;

	if (r->args.verbose) {
		sw_buf_init(&out, 1 << 20);
		sw_dash_part.dump(r->conf, &out);
		fputs(sw_buf_str(&out), stdout);
		sw_buf_free(&out);
	}
	if (sw_clock_simulated()) {
		char clock[128];

		sw_daemon_clock_describe(clock, sizeof(clock));
		printf("clock: %s\n", clock);
	}
	printf("%s: configuration OK; %zu dashboard definitions in %s\n", r->args.conf_path,
	       r->defs.n, r->conf->dash.defs);
	if (r->opts.store)
		printf("store %s: open read-only (schema %d)\n", r->store_path,
		       sw_store_schema_version(r->opts.store));
	else
		printf("store not available (pages will say so): %s\n", r->store_err);
}

int main(int argc, char **argv)
{
	struct run r = {.graph_complain = SW_LOG_COMPLAIN_INIT,
			.store_complain = SW_LOG_COMPLAIN_INIT};
	struct sw_daemon_conf dconf = {0};
	struct sw_conf *file = NULL;
	char err[ERR_LEN];
	int status = parse_args(argc, argv, &r.args);

	if (status >= 0)
		return status;
	sigemptyset(&r.stop_set);
	sigaddset(&r.stop_set, SIGTERM);
	sigaddset(&r.stop_set, SIGINT);
	sigprocmask(SIG_BLOCK, &r.stop_set, NULL);
	status = load(&r, &file, &dconf);
	if (status == 0 && r.args.test) {
		open_store(&r, true);
		report_check(&r);
	} else if (status == 0 &&
		   sw_dash_site_open(r.conf->dash.out, &r.site, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-dash: %s\n", err);
		status = 1;
	} else if (status == 0 && r.conf->dash.listen[0] &&
		   sw_dash_serve_start(r.conf->dash.out, &r.listen, &r.serve, err, sizeof(err)) !=
		       SW_OK) {
		fprintf(stderr, "slipwatch-dash: %s\n", err);
		status = 1;
	} else if (status == 0) {
		status = run(&r);
	}
	sw_dash_serve_stop(r.serve);
	sw_dash_site_close(r.site);
	sw_store_close(r.opts.store);
	sw_conf_free_struct(sw_alerts_conf_table, &r.alerts);
	sw_dash_defs_free(&r.defs);
	if (r.conf)
		sw_dash_part.free_state(r.conf);
	sw_daemon_conf_free(&dconf);
	sw_conf_free(file);
	sw_log_fini();
	return status;
}
