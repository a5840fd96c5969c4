/*
 * signals_int.h - what the signal table (signals.c) and the cohort
 * signals (sig_cohort.c) share, and nothing else includes: the small
 * helpers of the measure functions and the cohort rows of the table.
 *
 * Same conventions as signals.h: single thread, errors into err.
 */
#ifndef SW_ALERTS_SIGNALS_INT_H
#define SW_ALERTS_SIGNALS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/signals.h"
#include "lib/error.h"

/* vsnprintf into out (len > 0): always terminated, cut if long. */
void sw_sig_int_put(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The store's error text into err; returns rc. */
enum sw_err sw_sig_int_store_failed(const struct sw_sig_ctx *ctx, enum sw_err rc, char *err,
				    size_t len);

/* 100 * part / whole; 0 when whole is not positive. */
double sw_sig_int_pct(int64_t part, int64_t whole);

/* Sorts ids (new strings) bytewise and frees duplicates; *n shrinks. */
void sw_sig_int_sort_unique(char **ids, size_t *n);

/*
 * Feeds are dependencies for ops rules too (feeds.h): when the feed the
 * measurement rests on is unhealthy (the warehouse's, given warehouse;
 * else the courier's, given courier, when the courier has ever been
 * polled), the figures cannot be believed: out->enough becomes false (the
 * rule keeps its state: nothing fires, nothing resolves) and out->text
 * says why.  The one page about the feed is the feed rule's.  True when
 * held.  No [alerts] in ctx: never held.
 */
bool sw_sig_int_feed_held(const struct sw_sig_ctx *ctx, const char *courier,
			  const char *warehouse, int64_t now, struct sw_sig_value *out);

/* The cohort rows of sw_signal_table[] (sig_cohort.c). */
extern const struct sw_signal sw_sig_cohort_slips;
extern const struct sw_signal sw_sig_cohort_ship_late;

#endif /* SW_ALERTS_SIGNALS_INT_H */
