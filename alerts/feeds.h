/*
 * feeds.h - feeds are dependencies (design.md "Slips"): is a courier's or
 * a warehouse's feed healthy enough for a customer notice that depends on
 * it to be believed?
 *
 * A courier's feed is unhealthy when it has been silent for longer than
 * [alerts] feed_window (sw_feeds_courier_silence: its API is down, or the
 * collector itself is and its polls fall overdue; a courier with nothing
 * to ask is idle, not silent), or when more than
 * [alerts] feed_error_rate % of its answers within feed_window failed
 * (courier_polls), or when its courier_api probe (slipwatch-probes:
 * probe_results row "courier_api-COURIER") ran within feed_window and
 * failed: "the dhl API probe fails: <its reason>".  A warehouse's feed is unhealthy when it published
 * nothing for [alerts] warehouse_feed_window of its working hours
 * (a rule's working_hours, rules.h; silence outside them does not count).  A
 * warehouse that never published since schema 7 (no warehouse_health
 * row) cannot be judged and counts as healthy.
 *
 * A warehouse that comes back replays what it buffered, and the first
 * event of the backlog would make its feed healthy before, say, the
 * order.shipped that makes a held ship_late untrue has landed.  So after
 * it resumes from a pause that made its feed unhealthy its feed is still
 * unhealthy ("settling") for [alerts] warehouse_feed_settle (0: off).
 * The pause counts in working time, measured when the warehouse resumed:
 * its silence within the working period that first event falls in, as
 * the down judgment would have seen it just before (a warehouse back at
 * 08:05 from a night off its 08:00-20:00 hours paused 5 min, not 12 h,
 * and does not hold the morning's notices).  The settle time itself is
 * wall time: a backlog lands whatever the hours.  An event after a quiet
 * spell of over a minute within it ends settling early (store_feeds.h
 * SW_FEEDS_PAUSE: what was buffered had landed before the spell).
 *
 * The re-check before a customer notice goes (recheck.c) holds a notice
 * whose feed is unhealthy: courier feeds hold stalled, no_first_scan and
 * late (every kind judged on the courier's word), warehouse feeds hold
 * ship_late.
 */
#ifndef SW_ALERTS_FEEDS_H
#define SW_ALERTS_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/rules.h"
#include "lib/store.h"

/*
 * Seconds of working time the warehouse has been silent at now, given its
 * last event at last (unix s, > 0): 0 when now is outside its working
 * hours h (in h's zone, else default_zone), else now minus the later of
 * last and the start of the current working period (all day: now - last).
 * Local wall-clock minutes: a DST change inside the period moves its start
 * by the change.  Pure.
 */
int64_t sw_feeds_working_silence(const struct sw_wh_hours *h, const char *default_zone,
				 int64_t last, int64_t now);

/*
 * How long the courier's tracking API has been silent at now, in seconds,
 * into *ret_silent, with courier_health's last useful answer and last
 * failure (unix s, 0: none) into *ret_ok_at and *ret_fail_at:
 * - -1 when it never answered usefully;
 * - now - last useful answer when an answer failed since (the API is
 *   failing, for at most that long);
 * - else 0 when none of its parcels' polls is due (nothing was asked since
 *   its last useful answer: an idle courier is not a silent one);
 * - else since the later of its last useful answer and the oldest poll
 *   due (the collector is not asking: it is down or held back).
 * SW_OK, or the store's error.
 */
enum sw_err sw_feeds_courier_silence(struct sw_store *st, const char *courier, int64_t now,
				     int64_t *ret_silent, int64_t *ret_ok_at,
				     int64_t *ret_fail_at);

/* The courier's feed at now: true when unhealthy, with why (a clause for
 * "held: ..." texts, e.g. "the dhl tracking API has not answered usefully
 * for 2 h 10 min").  A store error counts as unhealthy (the notice waits). */
bool sw_feeds_courier_down(struct sw_store *st, const struct sw_alerts_conf *c,
			   const char *courier, int64_t now, char *why, size_t whylen);

/* The warehouse's feed at now, as sw_feeds_courier_down: down while silent
 * for warehouse_feed_window of its working hours, or while settling
 * (why: "the warehouse w1 feed resumed 2 min ago after 40 min of silence;
 * its backlog is still landing"). */
bool sw_feeds_warehouse_down(struct sw_store *st, const struct sw_alerts_conf *c,
			     const struct sw_rules *r, const char *warehouse, int64_t now,
			     char *why, size_t whylen);

#endif /* SW_ALERTS_FEEDS_H */
