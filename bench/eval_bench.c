/*
 * eval_bench.c - one full evaluation pass of the alert engine over a store
 * (sw_engine_scan: every active parcel loaded with its order, a rule
 * picked, slips evaluated, a deadline queued), against a bare baseline in
 * the same run: the same rows read with the same store query and nothing
 * done with them.  Prints the times, the ratio, and the engine's memory
 * per active parcel (the deadline queue, and the process's RSS growth).
 *
 *   eval_bench STORE
 *
 * The journal tail is measured by bench/tail_bench.c (alerts-tail.sh).
 *
 * The store is seeded by bench/alerts-eval.sh (tests/tools/sw_seed bulk).
 * Both passes run in the same process on a warm page cache; the engine's
 * pass records no slip and queues no email (the seeded parcels are on
 * time), so it measures evaluation, not writing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts/engine.h"
#include "alerts/rules.h"
#include "bench/bench.h"
#include "lib/conf.h"
#include "lib/store.h"

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/* The baseline: page through the rows the engine's pass reads, with the
 * same query (sw_store_track_scan), both units (parcels with their orders,
 * then orders with no parcel), and nothing done with them. */
static size_t bare_pass(struct sw_store *st)
{
	size_t total = 0, n;
	struct sw_track *list;

	for (int unit = SW_TRACK_PARCEL; unit <= SW_TRACK_ORDER; unit++) {
		int64_t after = 0;

		do {
			if (sw_store_track_scan(st, (enum sw_track_unit)unit, after, 2000, &list,
						&n) != SW_OK) {
				fprintf(stderr, "eval_bench: %s\n", sw_store_errmsg(st));
				exit(1);
			}
			if (n)
				after = unit == SW_TRACK_PARCEL ? list[n - 1].parcel->id
								: list[n - 1].order->id;
			total += n;
			sw_store_track_free(list, n);
		} while (n == 2000);
	}
	return total;
}

int main(int argc, char **argv)
{
	struct sw_alerts_conf conf;
	struct sw_rules rules;
	struct sw_engine_stats es;
	struct sw_engine *e;
	struct sw_store *st;
	struct sw_conf *cf;
	char err[512];
	double t0, t_bare, t_eval;
	long rss0, rss1;
	size_t n_bare;

	if (argc != 2) {
		fprintf(stderr, "usage: eval_bench STORE\n");
		return 2;
	}
	if (sw_store_open(argv[1], SW_STORE_NOCREATE, &st, err, sizeof(err)) != SW_OK ||
	    sw_conf_load_string("[alerts]\nemail = no\n[rule default]\nstalled = 48h\n", "bench",
				&cf, err, sizeof(err)) != SW_OK ||
	    sw_rules_load(cf, &conf, &rules, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "eval_bench: %s\n", err);
		return 1;
	}
	conf.batch = 500;
	t0 = now_mono();
	n_bare = bare_pass(st);
	t_bare = now_mono() - t0;
	rss0 = rss_kib();
	if (sw_engine_new(st, &conf, &rules, NULL, &e, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "eval_bench: %s\n", err);
		return 1;
	}
	t0 = now_mono();
	if (sw_engine_scan(e, (int64_t)time(NULL), err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "eval_bench: %s\n", err);
		return 1;
	}
	t_eval = now_mono() - t0;
	rss1 = rss_kib();
	sw_engine_get_stats(e, &es);
	printf("active parcels:            %zu (engine evaluated %llu units, %llu slips)\n",
	       n_bare, (unsigned long long)es.evaluated, (unsigned long long)es.slips);
	printf("bare scan (store only):    %.2f s  (%.0f parcels/s)\n", t_bare,
	       (double)n_bare / t_bare);
	printf("evaluation pass (engine):  %.2f s  (%.0f parcels/s)\n", t_eval,
	       (double)es.evaluated / t_eval);
	printf("ratio bare/engine:         %.2f\n", t_bare / t_eval);
	printf("deadline queue:            %zu units waiting, %.1f bytes per active parcel\n",
	       es.open, (double)es.queue_bytes / (double)(n_bare ? n_bare : 1));
	printf("RSS growth during pass:    %.1f bytes per active parcel (%ld KiB)\n",
	       (double)(rss1 - rss0) * 1024.0 / (double)(n_bare ? n_bare : 1), rss1 - rss0);
	sw_engine_free(e);
	sw_rules_free(&rules);
	sw_alerts_conf_free(&conf);
	sw_conf_free(cf);
	sw_store_close(st);
	return 0;
}
