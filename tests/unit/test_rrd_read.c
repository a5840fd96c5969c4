/*
 * test_rrd_read.c - unit tests for lib/rrd_read.c: sums read back from real
 * RRD files written by the project's writer (lib/rrd.c) at explicit step
 * times (10 s steps in the past, aligned: the wall clock is never read),
 * gaps that turn rows unknown, files of another layout, broken files,
 * names that try to leave the directory, the listing of a kind's files,
 * and reads through a real rrdcached (unix socket and loopback TCP;
 * tests/rrdcached.h) that holds every update in memory (-w 3600) until
 * the reader flushes it.
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

#include "lib/rrd.h"
#include "lib/rrd_read.h"
#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"
#include "tests/rrdcached.h"
#include "tests/tap.h"

#define STEP 10
#define T0   ((int64_t)1700000000) /* aligned to STEP */
#define T(k) (T0 + (int64_t)(k)*STEP)

static char tmpdir[] = "/tmp/test_rrd_read.XXXXXX";
static void cleanup(void)
{
	rrdcached_cleanup(tmpdir);
}

static struct sw_rrd_conf conf_of(const char *dir, const char *daemon)
{
	return (struct sw_rrd_conf){.dir = (char *)dir,
				    .step_ms = STEP * 1000,
				    .rrdcached = (char *)daemon,
				    .reconnect_max_ms = 60000};
}

/* Writes one step of courier/NAME as the collector would: ontime, late
 * and 2xx counts (every other counter 0). */
static enum sw_err put(struct sw_rrd *w, const char *file, int64_t t, int ontime, int late,
		       int ok2xx)
{
	struct sw_metrics *m = sw_metrics_new();
	char err[512];
	enum sw_err rc;

	sw_metrics_count(m, file, "delivered_ontime", (uint64_t)ontime);
	sw_metrics_count(m, file, "delivered_late", (uint64_t)late);
	sw_metrics_count(m, file, "resp_2xx", (uint64_t)ok2xx);
	rc = sw_rrd_flush(w, m, t, err, sizeof(err));
	if (rc)
		printf("# flush %s at %lld: %s\n", file, (long long)t, err);
	sw_metrics_free(m);
	return rc;
}

static const char *const ds2[] = {"delivered_ontime", "delivered_late"};

/* ---- direct files ---------------------------------------------------------- */

static void test_sums(void)
{
	char *dir = xasprintf("%s/direct", tmpdir), err[512] = "";
	struct sw_rrd_conf c = conf_of(dir, "");
	struct sw_rrd *w = NULL;
	struct sw_rrd_sum s;
	enum sw_err rc = SW_OK;

	sw_rrd_new(&c, &w, err, sizeof(err));
	/* steps 1..6: ontime k, late 1 except step 5 (all zero); then a gap
	 * longer than the heartbeat (2 steps) up to step 12, then 13, 14 */
	for (int k = 1; k <= 6; k++)
		rc |= put(w, "courier/dhl", T(k), k == 5 ? 0 : k, k == 5 ? 0 : 1, 0);
	rc |= put(w, "courier/dhl", T(12), 7, 7, 0);
	rc |= put(w, "courier/dhl", T(13), 2, 0, 0);
	rc |= put(w, "courier/dhl", T(14), 0, 0, 0);
	is_int(rc, SW_OK, "writer: steps written");
	sw_rrd_free(w);

	rc = sw_rrd_read_sum(&c, "courier/dhl", ds2, 2, T(0), T(6), &s, err, sizeof(err));
	is_int(rc, SW_OK, "read (T0, T6] %s", err);
	ok(fabs(s.sum[0] - (1 + 2 + 3 + 4 + 6)) < 1e-6, "ontime is the sum of the counts: %g",
	   s.sum[0]);
	ok(fabs(s.sum[1] - 5) < 1e-6, "late summed: %g", s.sum[1]);
	ok(fabs(s.total - 21) < 1e-6, "total is the sum of both: %g", s.total);
	is_int(s.rows, 6, "six rows in the range");
	is_int(s.known, 6, "all known");
	is_int(s.last_known, T(6), "last known row");
	is_int(s.last_nonzero, T(6), "last non-zero row");
	is_int(s.step, STEP, "raw resolution");

	rc = sw_rrd_read_sum(&c, "courier/dhl", ds2, 2, T(2), T(5), &s, err, sizeof(err));
	is_int(s.rows, 3, "(T2, T5]: the rows stamped T3, T4, T5");
	ok(fabs(s.sum[0] - 7) < 1e-6, "(T2, T5]: 3 + 4 + 0: %g", s.sum[0]);
	is_int(s.last_nonzero, T(4), "a row of zeros is known but not non-zero");
	is_int(s.last_known, T(5), "... and counts as known");

	/* the gap: an update after more than the heartbeat makes the whole
	 * interval unknown, its counts included */
	rc = sw_rrd_read_sum(&c, "courier/dhl", ds2, 2, T(6), T(14), &s, err, sizeof(err));
	is_int(rc, SW_OK, "read across the gap %s", err);
	is_int(s.rows, 8, "eight rows");
	is_int(s.known, 2, "only T13 and T14 known");
	ok(fabs(s.sum[0] - 2) < 1e-6, "the update after the gap is lost: %g", s.sum[0]);
	is_int(s.last_nonzero, T(13), "last non-zero T13");
	is_int(s.last_known, T(14), "last known T14");

	/* after the last update: rows not written yet are unknown */
	rc = sw_rrd_read_sum(&c, "courier/dhl", ds2, 2, T(14), T(20), &s, err, sizeof(err));
	is_int(s.known, 0, "nothing known after the last update");
	is_int(s.last_known, 0, "no last known row");
	/* mid-step end: the row stamped after end is not counted */
	rc = sw_rrd_read_sum(&c, "courier/dhl", ds2, 2, T(0), T(3) + 7, &s, err, sizeof(err));
	is_int(s.rows, 3, "end inside a step: rows up to T3 only");
	ok(fabs(s.sum[0] - 6) < 1e-6, "end inside a step: 1 + 2 + 3: %g", s.sum[0]);
	free(dir);
}

static void test_errors(void)
{
	char *dir = xasprintf("%s/direct", tmpdir), err[512] = "", *path;
	struct sw_rrd_conf c = conf_of(dir, "");
	const char *bad_ds[] = {"nonsense"}, *late[] = {"delivered_late"};
	const char *args[] = {"DS:delivered_ontime:ABSOLUTE:20:0:U", "RRA:AVERAGE:0.5:1:100"};
	struct sw_rrd_sum s;
	FILE *f;

	is_int(sw_rrd_read_sum(&c, "courier/nope", ds2, 2, T(0), T(6), &s, err, sizeof(err)),
	       SW_ENOTFOUND, "missing file");
	ok(strstr(err, "courier/nope.rrd") != NULL, "error names the file: %s", err);
	is_int(sw_rrd_read_sum(&c, "courier/../../etc/passwd", ds2, 2, T(0), T(6), &s, err,
			       sizeof(err)),
	       SW_EINVAL, "a name with .. is refused before any file is touched");
	is_int(sw_rrd_read_sum(&c, "courier/.hidden", ds2, 2, T(0), T(6), &s, err, sizeof(err)),
	       SW_EINVAL, "a name starting with . is refused");
	is_int(sw_rrd_read_sum(&c, "courier/a/b", ds2, 2, T(0), T(6), &s, err, sizeof(err)),
	       SW_EINVAL, "a name with two segments is refused");
	is_int(sw_rrd_read_sum(&c, "elsewhere", ds2, 2, T(0), T(6), &s, err, sizeof(err)),
	       SW_EINVAL, "a name outside the catalogue is refused");
	is_int(sw_rrd_read_sum(&c, "courier/dhl", bad_ds, 1, T(0), T(6), &s, err, sizeof(err)),
	       SW_EINVAL, "a data source outside the kind is refused");
	ok(strstr(err, "nonsense") != NULL, "error names it: %s", err);
	is_int(sw_rrd_read_sum(&c, "courier/dhl", ds2, 2, T(6), T(6), &s, err, sizeof(err)),
	       SW_EINVAL, "an empty range is refused");
	is_int(sw_rrd_read_sum(&c, "courier/dhl", ds2, 0, T(0), T(6), &s, err, sizeof(err)),
	       SW_EINVAL, "no data source is refused");

	/* a file of an older layout: the data source missing is named */
	path = xasprintf("%s/courier/old.rrd", dir);
	is_int(rrd_create_r(path, STEP, (time_t)T(0), 2, args), 0, "old layout file created");
	is_int(sw_rrd_read_sum(&c, "courier/old", late, 1, T(0), T(6), &s, err, sizeof(err)),
	       SW_EINVAL, "a data source missing from the file");
	ok(strstr(err, "delivered_late") && strstr(err, "migrate"), "error says which: %s", err);
	free(path);

	/* a broken file */
	path = xasprintf("%s/courier/broken.rrd", dir);
	f = fopen(path, "w");
	fputs("this is not an RRD file\n", f);
	fclose(f);
	is_int(sw_rrd_read_sum(&c, "courier/broken", ds2, 2, T(0), T(6), &s, err, sizeof(err)),
	       SW_EIO, "a broken file is an I/O error, not a crash");
	ok(strstr(err, "courier/broken.rrd: cannot read") != NULL, "error: %s", err);
	free(path);
	free(dir);
}

static void test_list(void)
{
	char *dir = xasprintf("%s/direct", tmpdir), err[512] = "", **names = NULL, *p;
	struct sw_rrd_conf c = conf_of(dir, "");
	size_t n = 99;
	FILE *f;

	/* noise: not .rrd, hidden, a directory */
	const char *noise[] = {"courier/readme.txt", "courier/.hidden.rrd", "courier/.rrd"};
	for (size_t i = 0; i < 3; i++) {
		p = xasprintf("%s/%s", dir, noise[i]);
		f = fopen(p, "w");
		if (f)
			fclose(f);
		free(p);
	}
	p = xasprintf("%s/courier/sub.rrd", dir);
	mkdir(p, 0755);
	free(p);
	is_int(sw_rrd_list(&c, "courier", &names, &n, err, sizeof(err)), SW_OK, "list %s", err);
	/* broken, dhl, old, sub.rrd (a directory named like a file: still a
	 * name; reading it fails) */
	ok(n >= 3 && strcmp(names[0], "broken") == 0 && strcmp(names[1], "dhl") == 0 &&
	       strcmp(names[2], "old") == 0,
	   "sorted names, noise left out (%zu)", n);
	for (size_t i = 0; i < n; i++)
		ok(names[i][0] != '.' && !strchr(names[i], '/'), "name %s is one safe segment",
		   names[i]);
	sw_rrd_names_free(names, n);
	is_int(sw_rrd_list(&c, "warehouse", &names, &n, err, sizeof(err)), SW_OK,
	       "a kind without a directory: SW_OK");
	ok(n == 0 && names == NULL, "... and nothing");
	free(dir);
}

/* ---- sw_rrdput, the tests' tool (built beside this test) ------------------------- */

/* Runs sw_rrdput with step 10 on courier/ups of dir at t; its exit status. */
static int run(const char *tool, const char *dir, long long t, const char *vals)
{
	char *cmd =
	    xasprintf("'%s' -s 10 '%s' courier/ups %lld %s 2>/dev/null", tool, dir, t, vals);
	int r = system(cmd);

	free(cmd);
	return r;
}

static void test_rrdput(void)
{
	const char *bdir = getenv("SW_BUILDDIR");
	char *tool, *dir = xasprintf("%s/put", tmpdir), err[512] = "";
	struct sw_rrd_conf c = conf_of(dir, "");
	struct sw_rrd_sum s;

	tool = xasprintf("%s/tests/tools/sw_rrdput", bdir ? bdir : ".");
	if (!ok(access(tool, X_OK) == 0, "sw_rrdput built: %s", tool))
		goto out;
	is_int(run(tool, dir, (long long)T(1), "delivered_ontime=4 delivered_late=1"), 0,
	       "sw_rrdput: a step written (file created)");
	is_int(run(tool, dir, (long long)T(2) + 5, "delivered_ontime=2 st_in_transit=7"), 0,
	       "sw_rrdput: a time inside a step writes that step");
	ok(run(tool, dir, (long long)T(2), "delivered_ontime=1") != 0,
	   "sw_rrdput: a step already written is refused");
	ok(run(tool, dir, (long long)T(3), "delivered_ontime=-1") != 0,
	   "sw_rrdput: a negative count is refused");
	ok(run(tool, dir, (long long)T(3), "pick_p50=1") != 0,
	   "sw_rrdput: a data source of another kind is refused");
	is_int(sw_rrd_read_sum(&c, "courier/ups", ds2, 2, T(0), T(2), &s, err, sizeof(err)), SW_OK,
	       "sw_rrdput: read back %s", err);
	ok(s.known == 2 && fabs(s.sum[0] - 6) < 1e-6 && fabs(s.sum[1] - 1) < 1e-6,
	   "sw_rrdput: the counts are per step (%g, %g)", s.sum[0], s.sum[1]);
out:
	free(tool);
	free(dir);
}

/* ---- through rrdcached -------------------------------------------------------- */

static void test_daemon(const char *what, const char *listen, const char *sock, int port)
{
	char *base = xasprintf("%s/%s", tmpdir, what), err[512] = "";
	struct sw_rrd_conf direct = conf_of(base, ""), via = conf_of(base, listen);
	struct sw_rrd *w = NULL;
	struct sw_rrd_sum s;
	enum sw_err rc = SW_OK;

	if (!ok(rrdcached_start(listen, base, sock, port, NULL), "%s: rrdcached started", what))
		goto out;
	sw_rrd_new(&via, &w, err, sizeof(err));
	for (int k = 1; k <= 4; k++)
		rc |= put(w, "courier/fedex", T(k), 10, k, 0);
	is_int(rc, SW_OK, "%s: steps sent to rrdcached", what);
	/* the daemon holds the updates (-w 3600): the file on disk has none */
	rc = sw_rrd_read_sum(&direct, "courier/fedex", ds2, 2, T(0), T(4), &s, err, sizeof(err));
	is_int(rc, SW_OK, "%s: the file exists on disk %s", what, err);
	is_int(s.known, 0, "%s: ... without the cached steps", what);
	rc = sw_rrd_read_sum(&via, "courier/fedex", ds2, 2, T(0), T(4), &s, err, sizeof(err));
	is_int(rc, SW_OK, "%s: read through rrdcached %s", what, err);
	is_int(s.known, 4, "%s: flushed first: every step known", what);
	ok(fabs(s.sum[0] - 40) < 1e-6 && fabs(s.sum[1] - 10) < 1e-6, "%s: sums %g %g", what,
	   s.sum[0], s.sum[1]);
	rc = sw_rrd_read_sum(&via, "courier/none", ds2, 2, T(0), T(4), &s, err, sizeof(err));
	ok(rc == SW_ENOTFOUND, "%s: a missing file through the daemon: %s (%s)", what,
	   sw_strerror(rc), err);
	sw_rrd_free(w);
	rrdcached_stop();
	rc = sw_rrd_read_sum(&via, "courier/fedex", ds2, 2, T(0), T(4), &s, err, sizeof(err));
	is_int(rc, SW_EAGAIN, "%s: daemon gone: SW_EAGAIN (%s)", what, err);
out:
	free(base);
}

int main(void)
{
	char *sock, *listen;
	int port;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	setenv("TZ", "UTC", 1);
	unsetenv("RRDCACHED_ADDRESS");

	test_sums();
	test_errors();
	test_list();
	test_rrdput();

	sock = xasprintf("%s/rrdcached.sock", tmpdir);
	listen = xasprintf("unix:%s", sock);
	test_daemon("unix", listen, sock, 0);
	free(listen);
	port = rrdcached_free_port();
	if (ok(port > 0, "free loopback port %d", port)) {
		listen = xasprintf("127.0.0.1:%d", port);
		test_daemon("tcp", listen, NULL, port);
		free(listen);
	}
	free(sock);
	return tap_done();
}
