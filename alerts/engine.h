/*
 * engine.h - the alert engine's detection side: which units to evaluate
 * and when, and what a new slip leads to (an alert row, and a customer
 * email row in the outbox).
 *
 * Units are evaluated from their current state in the store (eval.h):
 *   - once each at start (sw_engine_scan), which fills the deadline queue;
 *   - whenever a journal event touches them (sw_engine_tail reads the
 *     journal after the cursor "alerts" and moves the cursor in the same
 *     transaction as the slips found, so a restart neither skips nor
 *     repeats; replaying an event is harmless anyway: slips are unique per
 *     unit, kind and promise);
 *   - whenever their deadline passes (sw_engine_due).
 * After an event, the unit's open slips that are no longer true are
 * resolved (alerts.resolved_at; time passing only adds slips, events take
 * them away), and one seen true again is open again.
 * A slip recorded for the first time (sw_store_alert_record gives SW_OK,
 * not SW_EDUP) queues one email to the order's customer, keyed by the same
 * unit + kind + promise, so no restart, replay or re-detection queues a
 * second one; a new promise may earn a new one.  Quiet hours decide the
 * queued row's first attempt; an unsubscribed address gets a row marked
 * suppressed (kept for the record).  Sending is notify.h's job.
 * Single thread (the daemon's loop).
 */
#ifndef SW_ALERTS_ENGINE_H
#define SW_ALERTS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/eval.h"
#include "alerts/rules.h"
#include "lib/error.h"
#include "lib/store.h"
#include "slipwatch/metrics.h"

#define SW_ENGINE_CURSOR "alerts" /* the engine's journal cursor name */

struct sw_engine;

struct sw_engine_stats {
	uint64_t evaluated; /* unit evaluations */
	uint64_t slips;	    /* new slips recorded */
	uint64_t queued;    /* emails queued */
	uint64_t suppressed; /* emails queued as suppressed (unsubscribed) */
	uint64_t no_email;   /* slips whose order has no customer address */
	uint64_t events;     /* journal events read */
	int64_t cursor;	     /* journal seq processed */
	size_t open;	     /* units waiting for a deadline */
	size_t queue_bytes;  /* memory of the deadline queue */
};

/* A new engine on st (borrowed).  conf and rules are borrowed until
 * replaced by sw_engine_set_conf or the engine is freed; metrics may be
 * NULL.  Reads the cursor: SW_OK, or SW_ESTORE (errbuf set). */
enum sw_err sw_engine_new(struct sw_store *st, const struct sw_alerts_conf *conf,
			  const struct sw_rules *rules, struct sw_metrics *metrics,
			  struct sw_engine **ret_engine, char *errbuf, size_t errlen);

void sw_engine_free(struct sw_engine *e);

/* Switches to new settings (reload); units are re-evaluated with them as
 * their events or deadlines come. */
void sw_engine_set_conf(struct sw_engine *e, const struct sw_alerts_conf *conf,
			const struct sw_rules *rules);

/*
 * The start-up pass: evaluates every open unit (parcels not terminal,
 * orders not shipped) at now, in batches of one transaction each.
 * SW_OK or SW_ESTORE (errbuf set; units evaluated so far keep their
 * results and the pass can be run again).
 */
enum sw_err sw_engine_scan(struct sw_engine *e, int64_t now, char *errbuf, size_t errlen);

/* Reads up to the configured batch of journal events after the cursor and
 * evaluates the units they touch, each once per batch however many of its
 * events the batch holds (its state in the store is already the newest),
 * in the order of their last mention, in one transaction with the new
 * cursor.
 * *ret_count (may be NULL) is the number of events read; fewer than the
 * batch means the journal is drained.  SW_OK or SW_ESTORE (nothing kept;
 * the same events are read again next time). */
enum sw_err sw_engine_tail(struct sw_engine *e, int64_t now, int *ret_count, char *errbuf,
			   size_t errlen);

/* Evaluates up to a batch of units whose deadline is <= now.  *ret_count
 * (may be NULL) as for sw_engine_tail.  SW_OK or SW_ESTORE (the units are
 * put back to be tried again in a few seconds). */
enum sw_err sw_engine_due(struct sw_engine *e, int64_t now, int *ret_count, char *errbuf,
			  size_t errlen);

/* The store the engine works on (borrowed). */
struct sw_store *sw_engine_store(struct sw_engine *e);

/* The settings and rules the engine works with now (borrowed; replaced by
 * sw_engine_set_conf): the re-check's feed judgments read them. */
const struct sw_alerts_conf *sw_engine_conf(const struct sw_engine *e);
const struct sw_rules *sw_engine_rules(const struct sw_engine *e);

/* The earliest deadline in the queue, 0 if none. */
int64_t sw_engine_next_due(struct sw_engine *e);

void sw_engine_get_stats(const struct sw_engine *e, struct sw_engine_stats *ret);

/* Evaluates one unit at now with the engine's rules and courier health,
 * recording nothing (the re-check before a notice goes).  *ret_feed_healthy
 * (may be NULL): false when the unit is a polled parcel whose courier has
 * not answered usefully within feed_window.  Returns the rule used. */
const struct sw_rule *sw_engine_eval_unit(struct sw_engine *e, const struct sw_track *t,
					  int64_t now, struct sw_eval_out *out,
					  bool *ret_feed_healthy);

/* What the re-check of one waiting notice found, just before it goes. */
enum sw_recheck {
	SW_RECHECK_TRUE,     /* still true: send it */
	SW_RECHECK_OBSOLETE, /* no longer true: never send (why says so) */
	SW_RECHECK_HOLD,     /* cannot be confirmed now (courier feed down):
			      * wait until hold_until and check again */
	SW_RECHECK_LAST
};

struct sw_recheck_out {
	enum sw_recheck verdict;
	char why[192];	   /* OBSOLETE, HOLD: the reason, for the outbox row */
	char news[16];	   /* follow-ups: "shipped", "delivered" or "moving" */
	char eta[16];	   /* the parcel's courier ETA now (YYYY-MM-DD), or "" */
	char status[24];   /* the parcel's canonical status now, or "" */
	char courier[64];  /* the first parcel's courier and tracking number */
	char tracking[128]; /* now ("" if none: not shipped), for follow-ups */
	int parcels;	   /* parcels of the order (or the one parcel) now */
	int64_t hold_until;
};

/*
 * Re-reads the order and parcels behind outbox row m and judges its
 * notice again at now (alerts/recheck.c): a slip notice is true while the
 * same slip (kind and promise) still evaluates true; held while the feed
 * it depends on is unhealthy (alerts/feeds.h: the courier's for stalled,
 * no_first_scan and late of a polled parcel, no useful answer within
 * feed_window or errors above feed_error_rate; the warehouse's for
 * ship_late, silent for warehouse_feed_window of its working hours);
 * obsolete once resolved, cancelled or delivered; a follow-up ("resolved_KIND") is true while its slip stays
 * resolved and there is good news to tell (out->news).  SW_OK, or
 * SW_ESTORE (errbuf set; nothing decided).
 */
enum sw_err sw_engine_recheck(struct sw_engine *e, const struct sw_outbox_msg *m, int64_t now,
			      struct sw_recheck_out *out, char *errbuf, size_t errlen);

#endif /* SW_ALERTS_ENGINE_H */
