/*
 * store_feeds.h - the store's side of "feeds are dependencies" (design.md):
 * when each warehouse last published (and last resumed after a pause:
 * schema 8), and how a courier's API answers went minute by minute
 * (schema 7: warehouse_health, courier_polls).
 *
 * Written by the collector inside the transactions it already commits
 * (a batch of warehouse events, a batch of poll answers); read by the
 * alert engine to hold customer notices while a feed is unhealthy and by
 * the ops rules' feed signals.  Conventions as in store.h: SW_OK,
 * SW_EINVAL for bad arguments, SW_ESTORE with sw_store_errmsg() set; a
 * handle is used by one thread at a time.
 */
#ifndef SW_STORE_FEEDS_H
#define SW_STORE_FEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/* courier_polls rows older than this (s) are pruned by the writer; it is
 * [alerts] feed_window's maximum plus a day. */
#define SW_FEEDS_KEEP (8LL * 86400)

/* A warehouse that publishes again more than this many seconds after its
 * last event has resumed from a pause (warehouse_health.resumed_at,
 * resumed_gap).  It is [alerts] warehouse_feed_window's minimum: a
 * shorter pause never made a feed unhealthy, and the events of a backlog
 * land closer together than this, so they do not replace the resume they
 * follow.  A longer pause does, even one too short to matter: the
 * warehouse went quiet again after it resumed, so what it had buffered
 * has landed (feeds.h settles only on a pause that made the feed
 * unhealthy). */
#define SW_FEEDS_PAUSE 60

/* Notes that warehouse_id published an event at `at` (unix s): its
 * last_event_at becomes the later of the stored one and at.  When at is
 * more than SW_FEEDS_PAUSE after the stored last_event_at, the warehouse
 * resumed: resumed_at becomes at and resumed_gap the pause (at minus the
 * stored time); otherwise both stay (a time at or before the stored one,
 * e.g. a late batch, never moves anything back).  The first row of a
 * warehouse is no resume (0, 0).  One upsert; call it once per warehouse
 * per batch, inside the batch's transaction, with the batch's latest
 * time (a backlog replayed in one burst is one resume, not many). */
enum sw_err sw_store_warehouse_seen(struct sw_store *st, const char *warehouse_id, int64_t at);

/* The warehouse's last event time into *ret_at: 0 (and SW_OK) when it
 * never published. */
enum sw_err sw_store_warehouse_last_event(struct sw_store *st, const char *warehouse_id,
					  int64_t *ret_at);

/* The warehouse's row: its last event time into *ret_last, when it last
 * resumed after a pause longer than SW_FEEDS_PAUSE into *ret_resumed_at
 * and that pause (s) into *ret_resumed_gap; all 0 (and SW_OK) when it
 * never published, the last two 0 when it never paused. */
enum sw_err sw_store_warehouse_health(struct sw_store *st, const char *warehouse_id,
				      int64_t *ret_last, int64_t *ret_resumed_at,
				      int64_t *ret_resumed_gap);

/* The warehouses in warehouse_health, sorted (bytewise), as a new array
 * of new strings (NULL, 0 when none; free with sw_store_sig_ids_free of
 * store_signals.h). */
enum sw_err sw_store_feed_warehouses(struct sw_store *st, char ***ret_ids, size_t *ret_n);

/* Adds ok useful answers and failed failures of courier's API to the UTC
 * minute of `at` (both >= 0), and prunes that courier's minutes older
 * than at - SW_FEEDS_KEEP.  Call it with courier_health's note. */
enum sw_err sw_store_courier_polls_note(struct sw_store *st, const char *courier, int64_t at,
					int64_t ok, int64_t failed);

/* The courier's answers in the minutes starting at or after since:
 * useful ones into *ret_ok, failures into *ret_failed (0, 0 when none). */
enum sw_err sw_store_courier_polls_sum(struct sw_store *st, const char *courier, int64_t since,
				       int64_t *ret_ok, int64_t *ret_failed);

#endif /* SW_STORE_FEEDS_H */
