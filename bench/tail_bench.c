/*
 * tail_bench.c - the alert engine's journal tail (sw_engine_tail until it
 * reads nothing) against a bare read of the same journal rows
 * (sw_store_journal_read with a callback that does nothing), in one run.
 *
 *   tail_bench STORE PARCELS EVENTS
 *
 * STORE holds PARCELS on-time parcels seeded by bench/alerts-tail.sh
 * (tests/tools/sw_seed bulk: courier dhl, tracking numbers T0..T<n-1>).
 * EVENTS parcel.status events naming random ones of them are journaled
 * first (not timed).  The bare read goes first and warms the page cache
 * for both.  Prints both rates, the ratio, the units the engine evaluated,
 * the CPU time of each (steadier than the wall clock on a shared machine)
 * and the peak RSS (getrusage), then one line for the script:
 *   RESULT-TAIL <engine events/s> <bare events/s> <peak RSS KiB>
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "alerts/engine.h"
#include "alerts/rules.h"
#include "bench/bench.h"
#include "lib/conf.h"
#include "lib/store.h"

#define PROG "tail_bench"

static void die_store(struct sw_store *st)
{
	fprintf(stderr, PROG ": %s\n", sw_store_errmsg(st));
	exit(1);
}

static enum sw_err nothing_cb(const struct sw_journal_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return SW_OK;
}

/* The process's CPU time (user + system), in seconds. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Journals n events in one transaction, each naming a random parcel. */
static void journal_events(struct sw_store *st, long n, long parcels)
{
	char id[32], tn[32];
	int64_t at = (int64_t)time(NULL);

	if (sw_store_begin(st) != SW_OK)
		die_store(st);
	srand(7);
	for (long i = 0; i < n; i++) {
		struct sw_journal_event ev = { 0 };

		snprintf(id, sizeof(id), "tail-bench-%ld", i);
		snprintf(tn, sizeof(tn), "T%ld", (long)rand() % parcels);
		ev.source = "courier:dhl";
		ev.source_event_id = id;
		ev.kind = "parcel.status";
		ev.courier = "dhl";
		ev.tracking_number = tn;
		ev.occurred_at.at = at;
		if (sw_store_journal_append(st, &ev, NULL) != SW_OK)
			die_store(st);
	}
	if (sw_store_commit(st) != SW_OK)
		die_store(st);
}

/* The baseline: the journal after `after`, in pages of `page`, read and
 * dropped.  Returns the rows read. */
static long bare_read(struct sw_store *st, int64_t after, int page)
{
	long total = 0;
	int got;

	do {
		if (sw_store_journal_read(st, after, page, nothing_cb, NULL, &got) != SW_OK)
			die_store(st);
		after += got; /* seqs are dense: one transaction appended them */
		total += got;
	} while (got == page);
	return total;
}

/* The engine drains the journal; returns the events it read. */
static long engine_drain(struct sw_engine *e)
{
	char err[512];
	long total = 0;
	int got;

	do {
		if (sw_engine_tail(e, (int64_t)time(NULL), &got, err, sizeof(err)) != SW_OK) {
			fprintf(stderr, PROG ": %s\n", err);
			exit(1);
		}
		total += got;
	} while (got > 0);
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
	struct rusage ru;
	char err[512];
	double t0, t_bare, t_eng, c0, c_bare, c_eng;
	long parcels, events, n_bare, n_eng;
	int64_t cursor;

	if (argc != 4) {
		fprintf(stderr, "usage: " PROG " STORE PARCELS EVENTS\n");
		return 2;
	}
	parcels = arg_long(PROG, argv[2], "PARCELS", 100000000L);
	events = arg_long(PROG, argv[3], "EVENTS", 100000000L);
	if (sw_store_open(argv[1], SW_STORE_NOCREATE, &st, err, sizeof(err)) != SW_OK ||
	    sw_conf_load_string("[alerts]\nemail = no\n[rule default]\nstalled = 48h\n", "bench",
				&cf, err, sizeof(err)) != SW_OK ||
	    sw_rules_load(cf, &conf, &rules, err, sizeof(err)) != SW_OK ||
	    sw_engine_new(st, &conf, &rules, NULL, &e, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	engine_drain(e); /* the seed's own events: not measured */
	if (sw_store_cursor_get(st, SW_ENGINE_CURSOR, &cursor) != SW_OK)
		die_store(st);
	journal_events(st, events, parcels);

	t0 = now_mono();
	c0 = cpu_s();
	n_bare = bare_read(st, cursor, (int)conf.batch);
	t_bare = now_mono() - t0;
	c_bare = cpu_s() - c0;
	t0 = now_mono();
	c0 = cpu_s();
	n_eng = engine_drain(e);
	t_eng = now_mono() - t0;
	c_eng = cpu_s() - c0;
	sw_engine_get_stats(e, &es);
	getrusage(RUSAGE_SELF, &ru);

	printf("events journaled:     %ld over %ld parcels (batch %ld)\n", events, parcels,
	       (long)conf.batch);
	printf("bare journal read:    %ld events in %.3f s (%.0f/s)\n", n_bare, t_bare,
	       (double)n_bare / t_bare);
	printf("engine tail:          %ld events in %.3f s (%.0f/s), %llu unit evaluations\n",
	       n_eng, t_eng, (double)n_eng / t_eng, (unsigned long long)es.evaluated);
	printf("ratio engine/bare:    %.3f\n", t_bare / t_eng);
	printf("CPU time:             bare %.3f s, engine %.3f s (%.1f us per event)\n", c_bare,
	       c_eng, c_eng * 1e6 / (double)(n_eng ? n_eng : 1));
	printf("peak RSS:             %ld KiB\n", ru.ru_maxrss);
	printf("RESULT-TAIL %.0f %.0f %ld\n", (double)n_eng / t_eng, (double)n_bare / t_bare,
	       ru.ru_maxrss);
	sw_engine_free(e);
	sw_rules_free(&rules);
	sw_alerts_conf_free(&conf);
	sw_conf_free(cf);
	sw_store_close(st);
	return n_eng == events && n_bare == events ? 0 : 1;
}
