/*
 * test_rrd.c - unit tests for lib/rrd.c and lib/rrd_catalogue.c with real
 * librrd files and a real rrdcached (started on a unix socket and on a
 * free loopback TCP port with tests/rrdcached.h, killed at exit even on
 * failure).
 *
 * Steps are 10 s and timestamps lie in the past (T0, aligned), so the test
 * never waits for the clock.  Values are read back with rrd_fetch_r:
 * ABSOLUTE data sources come back per second (count / step), gauges and
 * quantiles as written; the quantiles expected are computed here from the
 * samples fed (numpy "linear", as lib/metrics.c documents).  rrdcached runs
 * with -w 3600 so nothing reaches disk until "rrdtool flushcached".
 * SIGPIPE is left at its default on purpose: the writer must guard it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>

#include "lib/conf.h"
#include "lib/rrd.h"
#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"
#include "tests/rrdcached.h"
#include "tests/tap.h"

#define STEP 10
#define T0 ((int64_t)1700000000) /* aligned to STEP */
#define NSTEPS 4

static char tmpdir[] = "/tmp/test_rrd.XXXXXX";
static void cleanup(void)
{
	rrdcached_cleanup(tmpdir);
}

/* rrdcached over base (rrdcached.h), its log in tmpdir. */
static bool start_daemon(const char *listen, const char *base, const char *sock, int port)
{
	char *log = xasprintf("%s/rrdcached.log", tmpdir);
	bool started = rrdcached_start(listen, base, sock, port, log);

	free(log);
	return started;
}

static bool flushcached(const char *addr, const char *file)
{
	char *cmd = xasprintf("rrdtool flushcached --daemon '%s' '%s' 2>&1", addr, file);
	int r = system(cmd);

	free(cmd);
	return r == 0;
}

/* The value of ds at time t (AVERAGE), NaN if unknown; -999 on error. */
static double fetch(const char *path, const char *ds, int64_t t)
{
	time_t start = (time_t)(t - STEP), end = (time_t)t;
	unsigned long step = 0, cnt = 0;
	char **names = NULL;
	rrd_value_t *data = NULL;
	double v = -999;

	if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &cnt, &names, &data) != 0) {
		printf("# fetch %s: %s\n", path, rrd_get_error());
		rrd_clear_error();
		return v;
	}
	long row = (long)((t - start) / (int64_t)step) - 1;
	long rows = (long)((end - start) / (time_t)step);
	for (unsigned long i = 0; i < cnt; i++) {
		if (strcmp(names[i], ds) == 0 && row >= 0 && row < rows)
			v = data[row * (long)cnt + (long)i];
		free(names[i]);
	}
	free(names);
	free(data);
	return v;
}

static bool near(double got, double want)
{
	if (isnan(want))
		return isnan(got);
	return fabs(got - want) <= 1e-9 * (fabs(want) + 1);
}

#define is_num(got, want, ...)                                                     \
	do {                                                                       \
		double g_ = (got), w_ = (want);                                    \
		if (!ok(near(g_, w_), __VA_ARGS__))                                \
			printf("#   got %.17g, want %.17g\n", g_, w_);             \
	} while (0)

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* numpy "linear" quantile of n values (sorted here). */
static double quant(double *x, size_t n, double p)
{
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);

	qsort(x, n, sizeof(*x), cmpd);
	return lo + 1 < n ? x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]) : x[lo];
}

/* What step k feeds, and checks of what came back. */
#define NSAMP 7
static double sample(int k, int i)
{
	return 30.0 + k * 3 + ((i * 37) % NSAMP) * 4.5;
}

static void feed(struct sw_metrics *m, const char *file, int k)
{
	sw_metrics_count(m, file, "created", (uint64_t)(5 * (k + 1)));
	sw_metrics_count(m, file, "shipped", (uint64_t)k);
	sw_metrics_gauge(m, file, "backlog_pick", 100.0 + k);
	for (int i = 0; i < NSAMP; i++)
		sw_metrics_sample(m, file, "pick_duration", sample(k, i));
}

static void check_step(const char *path, int k, const char *what)
{
	int64_t t = T0 + k * STEP;
	double x[NSAMP];

	for (int i = 0; i < NSAMP; i++)
		x[i] = sample(k, i);
	is_num(fetch(path, "created", t), 5.0 * (k + 1) / STEP, "%s step %d: created per s", what, k);
	is_num(fetch(path, "shipped", t), (double)k / STEP, "%s step %d: shipped per s", what, k);
	is_num(fetch(path, "picked", t), 0.0, "%s step %d: counter never reported is 0", what, k);
	is_num(fetch(path, "backlog_pick", t), 100.0 + k, "%s step %d: gauge", what, k);
	is_num(fetch(path, "ship_late", t), NAN, "%s step %d: gauge never set is unknown", what, k);
	is_num(fetch(path, "pick_p10", t), quant(x, NSAMP, 0.1), "%s step %d: pick_p10", what, k);
	is_num(fetch(path, "pick_p50", t), quant(x, NSAMP, 0.5), "%s step %d: pick_p50", what, k);
	is_num(fetch(path, "pick_p90", t), quant(x, NSAMP, 0.9), "%s step %d: pick_p90", what, k);
	is_num(fetch(path, "pick_max", t), quant(x, NSAMP, 1.0), "%s step %d: pick_max", what, k);
	is_num(fetch(path, "pack_p50", t), NAN, "%s step %d: no samples: unknown", what, k);
}

static struct sw_rrd *writer(const char *dir, const char *daemon)
{
	struct sw_rrd_conf c = { .dir = (char *)dir, .step_ms = STEP * 1000,
				 .rrdcached = (char *)daemon, .reconnect_max_ms = 60000 };
	struct sw_rrd *w = NULL;
	char err[256];

	if (sw_rrd_new(&c, &w, err, sizeof(err)) != SW_OK)
		printf("# sw_rrd_new: %s\n", err);
	return w;
}

/* ---- tests --------------------------------------------------------------- */

/* [rrd] rrdcached: what sw_rrd_conf_check accepts (why == NULL) and, for
 * what it refuses, a part of the reason it gives. */
static const struct {
	const char *addr, *why;
} addr_cases[] = {
	{ "", NULL },
	{ "unix:/run/rrdcached.sock", NULL },
	{ "/run/rrdcached.sock", NULL },
	{ "127.0.0.1:42217", NULL },
	{ "rrd.internal:42217", NULL },
	{ "rrd-1.dc_2.example:1", NULL },
	{ "[::1]:42217", NULL },
	{ "[2001:db8::7]:65535", NULL },
	{ "[fe80::1%eth0]:42217", NULL },
	{ "unix:", "socket path must be absolute" },
	{ "unix:rrdcached.sock", "socket path must be absolute" },
	{ "/run/" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxx.sock", "too long for a unix socket" },
	{ "rrdcached.sock", "neither a socket path nor host:port" },
	{ "rrd.internal", "default port is 42217" },
	{ "rrd.internal:", "port is not a number in 1..65535" },
	{ "rrd.internal:0", "port is not a number in 1..65535" },
	{ "rrd.internal:65536", "port is not a number in 1..65535" },
	{ "rrd.internal:http", "port is not a number in 1..65535" },
	{ ":42217", "no host before ':'" },
	{ "rrd/internal:42217", "not a host name or address" },
	{ "::1:42217", "IPv6 address needs brackets" },
	{ "::1", "IPv6 address needs brackets" },
	{ "[::1", "'[' without ']'" },
	{ "[::1]", "no :PORT after ']'" },
	{ "[::1]x42217", "no :PORT after ']'" },
	{ "[::1]:", "port is not a number" },
	{ "[]:42217", "not an IPv6 address" },
	{ "[127.0.0.1]:42217", "not an IPv6 address" },
	{ "[fe80::1%]:42217", "bad IPv6 zone" },
	{ "127.0.0.1:42217 ", "space or control character" },
	{ "unix:/run/rrd cached.sock", "space or control character" },
};

static void test_addresses(void)
{
	char err[512];

	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		struct sw_rrd_conf c = { .dir = "/x", .step_ms = 60000,
					 .rrdcached = (char *)addr_cases[i].addr };
		enum sw_err rc;

		err[0] = '\0';
		rc = sw_rrd_conf_check(&c, err, sizeof(err));
		if (addr_cases[i].why == NULL) {
			is_int(rc, SW_OK, "address '%s' accepted %s", c.rrdcached, err);
			continue;
		}
		is_int(rc, SW_ECONF, "address '%s' refused", c.rrdcached);
		ok(strncmp(err, "[rrd] rrdcached: ", 17) == 0 && strstr(err, addr_cases[i].why) &&
		   strstr(err, c.rrdcached),
		   "...names the key, says '%s' and quotes the value: %s", addr_cases[i].why, err);
	}
}

static void test_catalogue(void)
{
	char err[256] = "";
	struct sw_rrd_conf c = { 0 };

	is_int(sw_rrd_catalogue_check(err, sizeof(err)), SW_OK, "catalogue is consistent %s", err);
	is_int(sw_conf_table_check(sw_rrd_conf_table, err, sizeof(err)), SW_OK,
	       "[rrd] table is consistent %s", err);
	is_int(sw_conf_apply(NULL, "rrd", NULL, sw_rrd_conf_table, &c, err, sizeof(err)), SW_OK,
	       "[rrd] defaults apply");
	is_int(c.step_ms, 60000, "default step 60 s");
	ok(c.dir && strstr(c.dir, "/lib/slipwatch/rrd"), "default dir %s", c.dir);
	is_str(c.rrdcached, "", "default: no rrdcached");
	sw_conf_free_struct(sw_rrd_conf_table, &c);

	ok(sw_rrd_kind_find("warehouse/blr1") == &sw_rrd_catalogue[0], "warehouse/blr1 matches");
	ok(sw_rrd_kind_find("courier/dhl-express") != NULL, "courier/dhl-express matches");
	ok(sw_rrd_kind_find("notify") != NULL, "notify matches");
	ok(sw_rrd_kind_find("collector") != NULL, "collector matches");
	ok(sw_rrd_kind_find("probe/broker") != NULL, "probe/broker matches");
	ok(sw_rrd_kind_find("warehouse/") == NULL, "empty segment does not match");
	ok(sw_rrd_kind_find("warehouse/..") == NULL, ".. does not match");
	ok(sw_rrd_kind_find("warehouse/../etc") == NULL, "no escape from the directory");
	ok(sw_rrd_kind_find("warehouse/a/b") == NULL, "* does not match /");
	ok(sw_rrd_kind_find("notifyx") == NULL, "fixed names match exactly");
	ok(sw_rrd_kind_find("ware") == NULL, "prefix does not match");
	ok(sw_rrd_kind_find(NULL) == NULL, "NULL matches nothing");

	const struct sw_rrd_kind *k = sw_rrd_kind_find("courier/x");
	size_t st = 0;
	for (size_t i = 0; i < k->n_ds; i++)
		st += strncmp(k->ds[i].name, "st_", 3) == 0;
	is_int(st, 13, "courier: one data source per canonical status");
	k = sw_rrd_kind_find("collector");
	bool all = k->n_ds == 8;
	for (size_t i = 0; i < k->n_ds; i++)
		all &= strncmp(k->ds[i].metric, "rejected_", 9) == 0;
	ok(all, "collector: 8 reject reasons fed by rejected_*");

	c.dir = "/x";
	c.step_ms = 1500;
	struct sw_rrd *w = (struct sw_rrd *)1;
	is_int(sw_rrd_new(&c, &w, err, sizeof(err)), SW_ECONF, "step 1.5 s refused");
	ok(w == NULL && strstr(err, "step"), "error says step: %s", err);
	c.dir = "";
	c.step_ms = 60000;
	is_int(sw_rrd_new(&c, &w, err, sizeof(err)), SW_ECONF, "empty dir refused");

	/* the same check at load time, with the line: -t refuses what start would */
	struct sw_rrd_conf lc = { 0 };
	struct sw_conf *conf = NULL;

	sw_conf_load_string("[rrd]\ndir = /x\nstep = 1500ms\n", "t.conf", &conf, err, sizeof(err));
	is_int(sw_rrd_conf_load(conf, &lc, err, sizeof(err)), SW_ECONF, "load: step 1500ms refused");
	is_str(err, "t.conf:3: [rrd] step: not whole seconds in 1s..1h: '1500ms'",
	       "load: the error names file:line");
	ok(lc.dir == NULL, "load: nothing kept on error");
	sw_conf_free(conf);
	sw_conf_load_string("[rrd]\ndir = /x\nrrdcached = rrdcached.sock\n", "t.conf", &conf, err,
			    sizeof(err));
	is_int(sw_rrd_conf_load(conf, &lc, err, sizeof(err)), SW_ECONF, "load: bad address refused");
	ok(strncmp(err, "t.conf:3: [rrd] rrdcached: neither a socket path nor host:port", 62) == 0,
	   "load: the address error names file:line and key: %s", err);
	sw_conf_free(conf);
	sw_conf_load_string("[rrd]\nstep = 2m\n", "t.conf", &conf, err, sizeof(err));
	is_int(sw_rrd_conf_load(conf, &lc, err, sizeof(err)), SW_OK, "load: 2m accepted");
	is_int(lc.step_ms, 120000, "load: step read");
	sw_conf_free_struct(sw_rrd_conf_table, &lc);
	sw_conf_free(conf);
}

static void test_direct(void)
{
	char *dir = xasprintf("%s/direct/new", tmpdir), err[512] = "";
	char *path = xasprintf("%s/warehouse/blr1.rrd", dir);
	struct sw_metrics *m = sw_metrics_new();
	struct sw_rrd *w = writer(dir, "");
	struct sw_rrd_stats st;
	enum sw_err rc = SW_OK;

	for (int k = 0; k < NSTEPS; k++) {
		feed(m, "warehouse/blr1", k);
		rc |= sw_rrd_flush(w, m, T0 + k * STEP + 3, err, sizeof(err));
	}
	is_int(rc, SW_OK, "direct: %d flushes ok %s", NSTEPS, err);
	ok(access(path, F_OK) == 0, "missing directories created: %s", path);
	for (int k = 0; k < NSTEPS; k++)
		check_step(path, k, "direct");

	/* A second flush in the same step: no snapshot, nothing lost. */
	sw_metrics_count(m, "warehouse/blr1", "created", 7);
	rc = sw_rrd_flush(w, m, T0 + (NSTEPS - 1) * STEP + 9, err, sizeof(err));
	is_int(rc, SW_EDUP, "same step again: skipped");
	rc = sw_rrd_flush(w, m, T0 + (NSTEPS - 1) * STEP, err, sizeof(err));
	is_int(rc, SW_EDUP, "same second again: skipped");
	rc = sw_rrd_flush(w, m, T0, err, sizeof(err));
	is_int(rc, SW_EDUP, "clock went back: skipped");
	sw_metrics_count(m, "warehouse/blr1", "created", 3);
	sw_metrics_count(m, "warehouse/blr1", "bogus", 3);
	sw_metrics_count(m, "nowhere/x", "created", 1);
	sw_metrics_count(m, "warehouse/../x", "created", 1);
	rc = sw_rrd_flush(w, m, T0 + NSTEPS * STEP, err, sizeof(err));
	is_int(rc, SW_OK, "next step written %s", err);
	is_num(fetch(path, "created", T0 + NSTEPS * STEP), 10.0 / STEP,
	       "counts of a skipped flush carried into the next step");
	is_num(fetch(path, "backlog_pick", T0 + NSTEPS * STEP), 100.0 + NSTEPS - 1,
	       "gauge kept across steps");
	is_num(fetch(path, "pick_p50", T0 + NSTEPS * STEP), NAN, "no samples this step: U");
	sw_rrd_get_stats(w, &st);
	is_int(st.skipped, 3, "3 skipped flushes counted");
	is_int(st.updates, NSTEPS + 1, "one update per step");
	is_int(st.created, 1, "one file created");
	ok(st.unmapped_metrics >= 1, "unknown data source counted (%llu)",
	   (unsigned long long)st.unmapped_metrics);
	ok(st.unmapped_files >= 1, "unknown file counted (%llu)",
	   (unsigned long long)st.unmapped_files);
	ok(access(path, F_OK) == 0 && sw_rrd_file_error(w, "warehouse/blr1") == NULL,
	   "no error on the file");
	sw_rrd_free(w);

	/* A new writer (a restart within the same step) must not fail on it. */
	w = writer(dir, "");
	sw_metrics_count(m, "warehouse/blr1", "created", 1);
	rc = sw_rrd_flush(w, m, T0 + NSTEPS * STEP + 5, err, sizeof(err));
	is_int(rc, SW_OK, "restart in a written step: no librrd error %s", err);
	sw_rrd_get_stats(w, &st);
	is_int(st.carried, 1, "restart: the update for the step the file has moves one step on");
	is_int(st.data_errors, 0, "restart: no data error");
	is_num(fetch(path, "created", T0 + (NSTEPS + 1) * STEP), 1.0 / STEP,
	       "restart: what was counted since the restart is not lost (next step)");
	sw_metrics_count(m, "warehouse/blr1", "created", 3);
	rc = sw_rrd_flush(w, m, T0 + (NSTEPS + 1) * STEP, err, sizeof(err));
	is_int(rc, SW_EDUP, "restart: the step it moved into is not written twice");
	rc = sw_rrd_flush(w, m, T0 + (NSTEPS + 2) * STEP, err, sizeof(err));
	is_int(rc, SW_OK, "restart: the step after is written %s", err);
	is_num(fetch(path, "created", T0 + (NSTEPS + 2) * STEP), 3.0 / STEP,
	       "restart: the later counts carried into the step after");
	sw_rrd_free(w);
	sw_metrics_free(m);
	free(path);
	free(dir);
}

static void test_errors(void)
{
	char *base = xasprintf("%s/errs", tmpdir), err[512] = "", *cmd, *f;
	struct sw_metrics *m = sw_metrics_new();
	struct sw_rrd *w;
	struct sw_rrd_stats st;
	enum sw_err rc;

	mkdir(base, 0755);
	/* Under a regular file: ENOTDIR even for root. */
	f = xasprintf("%s/file", base);
	FILE *fp = fopen(f, "w");
	if (fp)
		fclose(fp);
	char *bad = xasprintf("%s/sub", f);
	w = writer(bad, "");
	feed(m, "warehouse/a", 0);
	rc = sw_rrd_flush(w, m, T0 + 1, err, sizeof(err));
	is_int(rc, SW_EIO, "dir under a regular file: SW_EIO");
	ok(strstr(err, f) && strstr(err, "Not a directory"), "error names the path: %s", err);
	ok(sw_rrd_file_error(w, "warehouse/a") != NULL, "file error kept");
	sw_rrd_free(w);

	/* Mismatched files: another step; a missing data source. */
	cmd = xasprintf("mkdir -p %s/ok/warehouse && cd %s/ok/warehouse && "
			"rrdtool create old.rrd -b %lld --step 300 DS:created:ABSOLUTE:600:0:U "
			"RRA:AVERAGE:0.5:1:10 && "
			"rrdtool create nodsr.rrd -b %lld --step %d DS:created:ABSOLUTE:20:0:U "
			"RRA:AVERAGE:0.5:1:10",
			base, base, (long long)T0 - 100, (long long)T0 - 100, STEP);
	is_int(system(cmd), 0, "rrdtool create of mismatched files");
	free(cmd);
	char *okdir = xasprintf("%s/ok", base);
	w = writer(okdir, "");
	sw_metrics_free(m);
	m = sw_metrics_new();
	feed(m, "warehouse/old", 0);
	feed(m, "warehouse/nodsr", 0);
	feed(m, "warehouse/good", 0);
	rc = sw_rrd_flush(w, m, T0, err, sizeof(err));
	is_int(rc, SW_EVERSION, "mismatch: SW_EVERSION");
	ok(strstr(err, "(and 1 more)") != NULL, "both files reported: %s", err);
	const char *e1 = sw_rrd_file_error(w, "warehouse/old");
	const char *e2 = sw_rrd_file_error(w, "warehouse/nodsr");
	ok(e1 && strstr(e1, "warehouse/old.rrd: step is 300 s, the catalogue says 10 s"),
	   "step difference named: %s", e1 ? e1 : "(null)");
	ok(e2 && strstr(e2, "warehouse/nodsr.rrd:") && strstr(e2, "data source 'picked' missing"),
	   "missing data source named: %s", e2 ? e2 : "(null)");
	char *gp = xasprintf("%s/warehouse/good.rrd", okdir);
	check_step(gp, 0, "beside bad files");
	is_int(sw_rrd_check_file(w, "warehouse/good", err, sizeof(err)), SW_OK, "check good: %s",
	       err);
	is_int(sw_rrd_check_file(w, "warehouse/old", err, sizeof(err)), SW_EVERSION,
	       "check old: %s", err);
	is_int(sw_rrd_check_file(w, "warehouse/none", err, sizeof(err)), SW_ENOTFOUND,
	       "check missing: %s", err);
	is_int(sw_rrd_check_file(w, "nothing", err, sizeof(err)), SW_EINVAL,
	       "check uncatalogued: %s", err);
	feed(m, "warehouse/old", 1);
	rc = sw_rrd_flush(w, m, T0 + STEP, err, sizeof(err));
	is_int(rc, SW_OK, "a refused file is reported once, not every step %s", err);

	/* Migrate. */
	is_int(sw_rrd_migrate(w, "warehouse/old", T0 + STEP + 1, err, sizeof(err)), SW_OK,
	       "migrate: %s", err);
	char *oldf = xasprintf("%s/warehouse/old.rrd.old-%lld", okdir, (long long)T0 + STEP + 1);
	ok(access(oldf, F_OK) == 0, "old file kept as %s", oldf);
	is_int(sw_rrd_check_file(w, "warehouse/old", err, sizeof(err)), SW_OK,
	       "migrated file matches: %s", err);
	feed(m, "warehouse/old", 2);
	rc = sw_rrd_flush(w, m, T0 + 2 * STEP, err, sizeof(err));
	is_int(rc, SW_OK, "nodsr still refused, not reported again %s", err);
	ok(sw_rrd_file_error(w, "warehouse/nodsr") != NULL, "nodsr keeps its error");
	char *op = xasprintf("%s/warehouse/old.rrd", okdir);
	is_num(fetch(op, "created", T0 + 2 * STEP), 15.0 / STEP, "migrated file written");
	is_int(sw_rrd_migrate(w, "warehouse/gone", T0, err, sizeof(err)), SW_ENOTFOUND,
	       "migrate missing: %s", err);
	sw_rrd_get_stats(w, &st);
	is_int(st.layout_errors, 2, "two layout errors counted");
	sw_rrd_free(w);
	sw_metrics_free(m);
	free(op);
	free(oldf);
	free(gp);
	free(okdir);
	free(bad);
	free(f);
	free(base);
}

/* Writes through rrdcached at addr; kills and restarts it in the middle. */
static void test_daemon(const char *what, const char *listen, const char *sock, int port)
{
	char *base = xasprintf("%s/%s", tmpdir, what), err[512] = "";
	char *addr = port ? xasprintf("127.0.0.1:%d", port) : xasprintf("unix:%s", sock);
	char *path = xasprintf("%s/warehouse/w1.rrd", base);
	const char *flushname = port ? "warehouse/w1.rrd" : path;
	struct sw_metrics *m = sw_metrics_new();
	struct sw_rrd_stats st;
	struct sw_rrd *w;
	enum sw_err rc = SW_OK;
	int k;

	mkdir(base, 0755);
	if (!ok(start_daemon(listen, base, sock, port), "%s: rrdcached started", what))
		goto out;
	w = writer(base, addr);
	for (k = 0; k < 2; k++) {
		feed(m, "warehouse/w1", k);
		rc |= sw_rrd_flush(w, m, T0 + k * STEP + 3, err, sizeof(err));
	}
	is_int(rc, SW_OK, "%s: first steps written %s", what, err);
	ok(flushcached(addr, flushname), "%s: flushcached", what);
	check_step(path, 0, what);
	check_step(path, 1, what);

	rrdcached_stop();
	for (; k < 4; k++) {
		feed(m, "warehouse/w1", k);
		rc = sw_rrd_flush(w, m, T0 + k * STEP + 3, err, sizeof(err));
		is_int(rc, SW_EAGAIN, "%s: daemon down, step %d queued: %s", what, k, err);
	}
	sw_rrd_get_stats(w, &st);
	is_int(st.pending, 2, "%s: two steps queued", what);
	if (!ok(start_daemon(listen, base, sock, port), "%s: rrdcached restarted", what))
		goto free;
	feed(m, "warehouse/w1", k);
	rc = sw_rrd_flush(w, m, T0 + k * STEP + 3, err, sizeof(err));
	is_int(rc, SW_OK, "%s: after restart, queued and new steps written %s", what, err);
	sw_rrd_get_stats(w, &st);
	is_int(st.pending, 0, "%s: queue drained", what);
	is_int(st.reconnects, 2, "%s: reconnected by itself", what);
	is_int(st.data_errors, 0, "%s: no data error", what);
	ok(flushcached(addr, flushname), "%s: flushcached after restart", what);
	for (int j = 0; j <= k; j++)
		check_step(path, j, what);

	/* Same step twice through the daemon. */
	rc = sw_rrd_flush(w, m, T0 + k * STEP + 9, err, sizeof(err));
	is_int(rc, SW_EDUP, "%s: same step skipped", what);

	/* Another client writes a later step: the daemon refuses ours.  That
	 * is a data error for the file, not a reason to reconnect. */
	char *cmd = xasprintf("cd '%s' && rrdtool update --daemon '%s' '%s' -t created %lld:1",
			      base, addr, flushname, (long long)(T0 + 100));
	is_int(system(cmd), 0, "%s: foreign update at T0+100", what);
	free(cmd);
	feed(m, "warehouse/w1", 5);
	rc = sw_rrd_flush(w, m, T0 + 5 * STEP + 3, err, sizeof(err));
	is_int(rc, SW_EIO, "%s: refused update is a data error", what);
	ok(strstr(err, "warehouse/w1.rrd") && strstr(err, "illegal attempt"),
	   "%s: error names the file and the daemon's text: %s", what, err);
	sw_rrd_get_stats(w, &st);
	is_int(st.data_errors, 1, "%s: data error counted", what);
	is_int(st.reconnects, 2, "%s: no reconnect for a data error", what);
	is_int(st.pending, 0, "%s: refused line dropped, not retried", what);
	feed(m, "warehouse/w1", 11);
	rc = sw_rrd_flush(w, m, T0 + 11 * STEP + 3, err, sizeof(err));
	is_int(rc, SW_OK, "%s: later step written on the same connection %s", what, err);
	ok(sw_rrd_file_error(w, "warehouse/w1") == NULL, "%s: file error cleared", what);
free:
	sw_rrd_free(w);
	rrdcached_stop();
out:
	sw_metrics_free(m);
	free(path);
	free(addr);
	free(base);
}

/*
 * rrdcached killed with SIGKILL after accepting steps, restarted on the
 * same journal: its journal is written through a stdio buffer, so what it
 * accepted last may be gone.  The writer asks for each file's last update
 * after reconnecting and sends the rest again; every step ends up in the
 * file.
 */
static void test_daemon_kill9(const char *what, const char *listen, const char *sock, int port)
{
	char *base = xasprintf("%s/%s-kill9", tmpdir, what), err[512] = "";
	char *addr = port ? xasprintf("127.0.0.1:%d", port) : xasprintf("unix:%s", sock);
	char *path = xasprintf("%s/warehouse/w1.rrd", base);
	const char *flushname = port ? "warehouse/w1.rrd" : path;
	struct sw_metrics *m = sw_metrics_new();
	struct sw_rrd_stats st;
	struct sw_rrd *w;
	enum sw_err rc = SW_OK;
	int k;

	if (!ok(start_daemon(listen, base, sock, port), "%s kill -9: rrdcached started", what))
		goto out;
	w = writer(base, addr);
	for (k = 0; k < 3; k++) {
		feed(m, "warehouse/w1", k);
		rc |= sw_rrd_flush(w, m, T0 + k * STEP + 3, err, sizeof(err));
	}
	is_int(rc, SW_OK, "%s kill -9: three steps accepted %s", what, err);
	rrdcached_kill9();
	if (!ok(start_daemon(listen, base, sock, port), "%s kill -9: restarted on its journal", what))
		goto free;
	feed(m, "warehouse/w1", k);
	rc = sw_rrd_flush(w, m, T0 + k * STEP + 3, err, sizeof(err));
	/* Over TCP the first request finds the old connection dead: the step
	 * is queued, and written with the next one.  Through a unix socket
	 * librrd reconnects by itself and the writer sees the restart in the
	 * daemon's counters. */
	if (rc == SW_EAGAIN) {
		feed(m, "warehouse/w1", ++k);
		rc = sw_rrd_flush(w, m, T0 + k * STEP + 3, err, sizeof(err));
	}
	is_int(rc, SW_OK, "%s kill -9: written after the restart %s", what, err);
	sw_rrd_get_stats(w, &st);
	is_int(st.pending, 0, "%s kill -9: nothing left queued", what);
	is_int(st.data_errors, 0, "%s kill -9: nothing sent twice into the file", what);
	is_int(st.restarts + (st.reconnects > 1), 1, "%s kill -9: the restart was seen", what);
	printf("# %s kill -9: %llu steps sent again\n", what, (unsigned long long)st.resent);
	ok(flushcached(addr, flushname), "%s kill -9: flushcached", what);
	for (int j = 0; j <= k; j++)
		check_step(path, j, what);
free:
	sw_rrd_free(w);
	rrdcached_stop();
out:
	sw_metrics_free(m);
	free(path);
	free(addr);
	free(base);
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	setenv("TZ", "UTC", 1);
	unsetenv("RRDCACHED_ADDRESS");

	test_catalogue();
	test_addresses();
	test_direct();
	test_errors();

	char *sock = xasprintf("%s/rrdcached.sock", tmpdir);
	char *listen = xasprintf("unix:%s", sock);
	test_daemon("unix", listen, sock, 0);
	test_daemon_kill9("unix", listen, sock, 0);
	free(listen);
	int port = rrdcached_free_port();
	if (ok(port > 0, "free loopback port %d", port)) {
		listen = xasprintf("127.0.0.1:%d", port);
		test_daemon("tcp", listen, NULL, port);
		test_daemon_kill9("tcp", listen, NULL, port);
		free(listen);
	}
	free(sock);
	return tap_done();
}
