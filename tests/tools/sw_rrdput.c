/*
 * sw_rrdput.c - writes one step of one RRD file the way the collector
 * does, at a time the test chooses (tests of the ops rules' signals).
 *
 *   sw_rrdput [-s STEP] [-c RRDCACHED] RRD_DIR FILE TIME [DS=VALUE ...]
 *
 * FILE is a registry file name of the metric catalogue ("courier/dhl",
 * "warehouse/blr1", "notify"); TIME a unix time, written as the step
 * boundary at or before it; DS a data source of that kind by its RRD name
 * (doc/metrics.md): an ABSOLUTE one takes the count of that step (a
 * non-negative integer), a gauge its level.  Data sources not given are
 * written as the collector writes them: counts 0, gauges unknown.  STEP
 * is the [rrd] step in seconds (default 60), RRDCACHED an [rrd] rrdcached
 * address (default: write the file directly).
 *
 * The values go through the project's own writer (lib/rrd.c) from a
 * metrics registry, so a missing file is created with the catalogue's
 * layout and archives exactly as the collector would create it.  Unlike
 * the collector, a TIME whose step is not after the file's last update is
 * refused (the writer would carry it one step on).  Exit 0, or 1 with
 * "sw_rrdput: what" on stderr.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "lib/rrd.h"
#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"

static int usage(void)
{
	fprintf(stderr, "usage: sw_rrdput [-s STEP] [-c RRDCACHED] RRD_DIR FILE TIME "
			"[DS=VALUE ...]\n");
	return 1;
}

static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sw_rrdput: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static bool parse_i64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*ret = v;
	return true;
}

/* Puts one DS=VALUE of kind k for file into m.  0, or 1 after a message. */
static int put_value(struct sw_metrics *m, const struct sw_rrd_kind *k, const char *file,
		     const char *arg)
{
	const char *eq = strchr(arg, '=');
	const struct sw_rrd_ds *ds = NULL;
	char *end;

	for (size_t i = 0; eq && i < k->n_ds && !ds; i++)
		if (strlen(k->ds[i].name) == (size_t)(eq - arg) &&
		    strncmp(k->ds[i].name, arg, (size_t)(eq - arg)) == 0)
			ds = &k->ds[i];
	if (ds == NULL)
		return fail("'%s': not DS=VALUE with a data source of %s", arg, k->pattern);
	if (ds->type == SW_RRD_ABSOLUTE) {
		int64_t n;

		if (!parse_i64(eq + 1, &n) || n < 0)
			return fail("'%s': a count is a non-negative integer", arg);
		sw_metrics_count(m, file, ds->metric, (uint64_t)n);
	} else if (ds->stat == SW_RRD_STAT_VALUE) {
		double v;

		errno = 0;
		v = strtod(eq + 1, &end);
		if (errno || end == eq + 1 || *end || !isfinite(v))
			return fail("'%s': a level is a finite number", arg);
		sw_metrics_gauge(m, file, ds->metric, v);
	} else {
		return fail("'%s': a quantile of samples cannot be set", arg);
	}
	return 0;
}

/* Refuses a step at or before the file's last update (direct files only:
 * rrdcached holds what it has not written yet). */
static int check_later(const struct sw_rrd_conf *c, const char *file, int64_t t)
{
	char *path = xasprintf("%s/%s.rrd", c->dir, file);
	struct stat sb;
	time_t last;
	int rc = 0;

	if (c->rrdcached[0] == '\0' && stat(path, &sb) == 0) {
		last = rrd_last_r(path);
		if (last == (time_t)-1) {
			rc = fail("%s: %s", path, rrd_get_error());
		} else if ((int64_t)last >= t) {
			rc = fail("%s: last update at %lld, step %lld is not later", path,
				  (long long)last, (long long)t);
		}
	}
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	struct sw_rrd_conf c = {
	    .step_ms = 60000, .rrdcached = (char *)"", .reconnect_max_ms = 1000};
	const struct sw_rrd_kind *k;
	struct sw_metrics *m;
	struct sw_rrd *w;
	char err[1024];
	int64_t t, step = 60;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "s:c:")) != -1) {
		if (opt == 's' && parse_i64(optarg, &step) && step >= 1 && step <= 3600)
			c.step_ms = step * 1000;
		else if (opt == 'c')
			c.rrdcached = optarg;
		else
			return usage();
	}
	if (argc - optind < 3)
		return usage();
	c.dir = argv[optind];
	if ((k = sw_rrd_kind_find(argv[optind + 1])) == NULL)
		return fail("'%s': not a file of the metric catalogue", argv[optind + 1]);
	if (!parse_i64(argv[optind + 2], &t) || t <= 0)
		return fail("'%s': TIME is a unix time", argv[optind + 2]);
	if (check_later(&c, argv[optind + 1], t - t % step))
		return 1;
	m = sw_metrics_new();
	/* the file is in the snapshot even with no value given: a row of 0 */
	for (size_t i = 0; i < k->n_ds; i++)
		if (k->ds[i].type == SW_RRD_ABSOLUTE) {
			sw_metrics_count(m, argv[optind + 1], k->ds[i].metric, 0);
			break;
		}
	for (int i = optind + 3; i < argc && rc == 0; i++)
		rc = put_value(m, k, argv[optind + 1], argv[i]);
	if (rc == 0 && sw_rrd_new(&c, &w, err, sizeof(err)) != SW_OK)
		rc = fail("%s", err);
	if (rc == 0) {
		if (sw_rrd_flush(w, m, t, err, sizeof(err)) != SW_OK)
			rc = fail("%s/%s", c.dir, err);
		sw_rrd_free(w);
	}
	sw_metrics_free(m);
	return rc;
}
