/*
 * rrd_bench.c - the slipwatch side of bench/rrd-update.sh: RRD updates per
 * second through the writer (lib/rrd.h), directly with librrd or through
 * rrdcached, and the input for the rrdtool baseline on the same files.
 *
 * usage: rrd_bench DIR FILES STEPS [RRDCACHED_ADDR]
 *
 * Builds one metrics registry with FILES warehouse files ("warehouse/bNNN")
 * reporting every data source of the warehouse kind in the catalogue
 * (counters, gauges, three sample sets), then flushes STEPS + 1 steps with
 * now = t0 + k * step (t0 on a step boundary, far enough in the past that
 * every timestamp, the baseline's included, is before the real clock).
 * Flush 0 creates the files; it is timed on its own and left out of the
 * rate.  Only the sw_rrd_flush calls are timed (CLOCK_MONOTONIC): reporting
 * into the registry is the observers' cost, not the writer's.
 *
 * Then writes DIR/pipe.txt: FILES * STEPS lines "update PATH T:v1:...:vN"
 * for the same files at the STEPS steps after the writer's, values in
 * catalogue order, in the writer's order (step by step, files in name
 * order), for `rrdtool -` to apply.
 *
 * Prints: "create FILES seconds S" and "updates N seconds S".
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slipwatch/metrics.h"
#include "lib/rrd.h"
#include "lib/xmalloc.h"
#include "bench/bench.h"

#define STEP 60 /* s */

/* One step's worth of reports for file i at step k: every warehouse data
 * source of the catalogue gets a value, so no update carries U. */
static void report(struct sw_metrics *m, const char *file, long i, long k)
{
	static const char *const counters[] = { "created", "picked", "packed", "shipped",
						"cancelled", "backordered", "rejected",
						"duplicates" };
	static const char *const durations[] = { "pick_duration", "pack_duration",
						 "ship_duration" };

	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++)
		sw_metrics_count(m, file, counters[c], (uint64_t)((i + k + (long)c) % 13));
	sw_metrics_gauge(m, file, "backlog_pick", (double)(100 + (i * 7 + k) % 50));
	sw_metrics_gauge(m, file, "backlog_ship", (double)(80 + (i * 3 + k) % 40));
	sw_metrics_gauge(m, file, "ship_late", (double)((i + k) % 5));
	for (size_t d = 0; d < sizeof(durations) / sizeof(durations[0]); d++)
		for (long s = 0; s < 8; s++)
			sw_metrics_sample(m, file, durations[d],
					  (double)(60 * (long)(d + 1) + (i + k * s) % 600));
}

/* The baseline's lines: the same files, the STEPS steps after t_last. */
static int write_pipe(const char *dir, long files, long steps, int64_t t_last)
{
	const struct sw_rrd_kind *k = sw_rrd_kind_find("warehouse/b000");
	char *path = xasprintf("%s/pipe.txt", dir);
	FILE *f;

	f = fopen(path, "w");
	free(path);
	if (f == NULL)
		return -1;
	for (long s = 1; s <= steps; s++) {
		for (long i = 0; i < files; i++) {
			fprintf(f, "update %s/warehouse/b%03ld.rrd %lld", dir, i,
				(long long)(t_last + s * STEP));
			for (size_t d = 0; d < k->n_ds; d++) {
				long v = k->ds[d].type == SW_RRD_ABSOLUTE ? (i + s + (long)d) % 13
									  : 60 + (i * 7 + s + (long)d) % 500;
				fprintf(f, ":%ld", v);
			}
			fputc('\n', f);
		}
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* One flush at now = t, timed.  Exits on any error: a benchmark of failing
 * writes measures nothing. */
static double flush_step(struct sw_rrd *w, struct sw_metrics *m, int64_t t)
{
	char err[1024];
	double a = now_mono(), b;
	enum sw_err rc = sw_rrd_flush(w, m, t, err, sizeof(err));

	b = now_mono();
	if (rc != SW_OK) {
		fprintf(stderr, "rrd_bench: flush at %lld: %s: %s\n", (long long)t,
			sw_strerror(rc), err);
		exit(1);
	}
	return b - a;
}

int main(int argc, char **argv)
{
	struct sw_rrd_conf conf = { 0 };
	struct sw_rrd_stats st;
	struct sw_metrics *m;
	struct sw_rrd *w;
	char err[1024], (*names)[32];
	long files, steps;
	int64_t t0;
	double t_create, t_upd = 0;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: rrd_bench DIR FILES STEPS [RRDCACHED_ADDR]\n");
		return 2;
	}
	files = arg_long("rrd_bench", argv[2], "FILES", 999);
	steps = arg_long("rrd_bench", argv[3], "STEPS", 1000);
	signal(SIGPIPE, SIG_IGN);
	conf.dir = argv[1];
	conf.step_ms = STEP * 1000;
	conf.rrdcached = argc == 5 ? argv[4] : "";
	conf.reconnect_max_ms = 60000;
	if (sw_rrd_new(&conf, &w, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "rrd_bench: %s\n", err);
		return 1;
	}
	/* The writer's STEPS + 1 steps, then the baseline's STEPS, all past. */
	t0 = (int64_t)time(NULL) - (2 * steps + 10) * STEP;
	t0 -= t0 % STEP;
	m = sw_metrics_new();
	names = xcalloc((size_t)files, sizeof(*names));
	for (long i = 0; i < files; i++)
		snprintf(names[i], sizeof(names[i]), "warehouse/b%03ld", i);

	for (long i = 0; i < files; i++)
		report(m, names[i], i, 0);
	t_create = flush_step(w, m, t0);
	for (long k = 1; k <= steps; k++) {
		for (long i = 0; i < files; i++)
			report(m, names[i], i, k);
		t_upd += flush_step(w, m, t0 + k * STEP);
	}
	sw_rrd_get_stats(w, &st);
	sw_rrd_free(w);
	sw_metrics_free(m);
	free(names);
	if (st.created != (uint64_t)files || st.updates != (uint64_t)(files * (steps + 1))) {
		fprintf(stderr, "rrd_bench: created %llu files and wrote %llu updates, expected %ld and %ld\n",
			(unsigned long long)st.created, (unsigned long long)st.updates, files,
			files * (steps + 1));
		return 1;
	}
	if (write_pipe(argv[1], files, steps, t0 + steps * STEP) != 0) {
		fprintf(stderr, "rrd_bench: cannot write %s/pipe.txt\n", argv[1]);
		return 1;
	}
	printf("create %ld seconds %.6f\n", files, t_create);
	printf("updates %ld seconds %.6f\n", files * steps, t_upd);
	return 0;
}
