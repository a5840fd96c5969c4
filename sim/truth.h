/*
 * truth.h - slipwatch-sim's ground truth (doc/simulator.md, "The truth
 * file"): which customers should hear what and from when, which must hear
 * nothing, the pages each trouble should cause and the windows in which
 * feed-dependent notices are held; written once, beside the run.
 */
#ifndef SW_SIM_TRUTH_H
#define SW_SIM_TRUTH_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "sim/world_int.h"

/* Totals of a world's truth (also in the file's "totals"). */
struct sim_totals {
	size_t orders, cancelled, parcels, events, distinct_events, events_in_run;
	size_t orders_expect;  /* orders with at least one expected slip */
	size_t orders_may;     /* orders with only "may" slips */
	size_t orders_silent;  /* orders that must hear nothing */
	size_t slips_expect, slips_may;
};

void sim_truth_totals(const struct sim_world *w, struct sim_totals *ret);

/* The truth as JSON text (deterministic: same world, same bytes); the
 * caller frees it. */
char *sim_truth_json(const struct sim_world *w);

/* Writes DIR/truth.json atomically (a temporary file renamed).  SW_OK or
 * SW_EIO with err naming the file. */
enum sw_err sim_truth_write(const struct sim_world *w, const char *dir, char *err,
			    size_t errlen);

/* Writes text to DIR/NAME atomically. */
enum sw_err sim_write_file(const char *dir, const char *name, const char *text, char *err,
			   size_t errlen);

#endif
