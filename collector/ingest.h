/*
 * ingest.h - applying warehouse events to the store with group commit.
 *
 * The MQTT layer calls sw_ingest_message() for each message read from the
 * socket, then sw_ingest_commit() once per read burst, and lets libmosquitto
 * send the PUBACKs of that burst only after the commit returned SW_OK: an
 * event is durable before the broker is told (design.md, "Non-negotiables").
 * If a message returns SW_INGEST_RETRY or the commit fails, the caller calls
 * sw_ingest_abort() (after a failed commit the batch is already gone), drops
 * the connection without acknowledging the burst, and the broker
 * redelivers; the journal makes redelivery a no-op for what did commit.
 *
 * Each message is applied inside its own savepoint of the batch
 * transaction: journal entry (source "warehouse:<id>", unique on the event
 * id), order stage time (the store keeps the earliest per stage, so events
 * in any order and twice give the same row), on order.created the customer
 * and promises (the created event with the latest occurred_at wins, ties
 * broken by the larger event id: sw_store_order_set_details), on
 * order.shipped the parcel.  A message is applied entirely or not at all.
 *
 * Metrics and statistics of a batch are kept pending and reported only
 * when it commits (dropped on abort), so a redelivered batch is counted
 * once.  Metrics (include/slipwatch/metrics.h):
 *   file "warehouse/<id>": counters created, picked, packed, shipped,
 *     cancelled, backordered (applied events), duplicates, rejected (only
 *     when the topic names the warehouse); samples pick_duration (picked -
 *     created), pack_duration (packed - picked), ship_duration (shipped -
 *     packed) in seconds, reported once per order, by the event that makes
 *     both stage times known; gauges backlog_pick, backlog_ship
 *     (sw_ingest_refresh_backlog).
 *   file "collector": counters rejected_<reason> (sw_event_reason_name).
 *
 * One handle per store handle; single-threaded (the daemon's loop).
 */
#ifndef SW_INGEST_H
#define SW_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "collector/event.h"
#include "slipwatch/metrics.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/store.h"

/* The topic level of the warehouse id in "warehouse/<id>/events". */
#define SW_INGEST_TOPIC_LEVEL 1
/* opts.topic_level when topics carry no warehouse id. */
#define SW_INGEST_NO_TOPIC_LEVEL (-1)

struct sw_ingest_opts {
	size_t max_payload;	    /* larger payloads are rejected; 0: none */
	int topic_level;	    /* 0-based level of the warehouse id in
				       the topic, or SW_INGEST_NO_TOPIC_LEVEL */
	struct sw_metrics *metrics; /* may be NULL; not owned */
};

enum sw_ingest_result {
	SW_INGEST_APPLIED,   /* new event, applied in the open batch */
	SW_INGEST_DUPLICATE, /* event id already journaled: nothing applied */
	SW_INGEST_REJECTED,  /* invalid: *ret_reject says why; dead-letter it */
	SW_INGEST_RETRY,     /* store failure: abandon the batch
				(sw_ingest_abort), do not acknowledge */
	SW_INGEST_RESULT_LAST
};

/* Counts since sw_ingest_new; applied, duplicates and rejected only for
 * committed batches (a rejected message counts when the batch it came in
 * commits, so a redelivered burst counts it once). */
struct sw_ingest_stats {
	uint64_t applied;
	uint64_t duplicates;
	uint64_t rejected;			    /* sum of rejected_by */
	uint64_t rejected_by[SW_EVENT_REASON_LAST]; /* per reason */
	uint64_t deadletters;			    /* copies queued in the store */
	uint64_t commits;			    /* batches committed */
	uint64_t aborts;			    /* batches aborted or failed */
	uint64_t retries;			    /* SW_INGEST_RETRY results */
	uint64_t careful; /* batches abandoned for a store refusal after a
			   * message's first write (see ingest.c) */
};

struct sw_ingest; /* opaque */

/* Creates an ingest over st (not owned; it must outlive the handle and must
 * not have a transaction of its own open while a batch is).  opts is
 * copied.  SW_OK with *ret, or SW_EINVAL (NULL st/opts/ret, topic_level <
 * -1). */
enum sw_err sw_ingest_new(struct sw_store *st, const struct sw_ingest_opts *opts,
			  struct sw_ingest **ret);

/* Aborts an open batch and frees the handle.  NULL is a no-op. */
void sw_ingest_free(struct sw_ingest *ing);

/*
 * Validates one message (topic as received, payload of len bytes, not
 * necessarily NUL-terminated) and applies it in the current batch, opening
 * the batch's transaction if none is open.  received_at: unix seconds, 0 =
 * now.  ret_reject (may be NULL) gets the reason and detail for
 * SW_INGEST_REJECTED (reason SW_EVENT_REASON_LAST otherwise).  A topic
 * whose warehouse level is missing or invalid is rejected as
 * warehouse_mismatch.  After SW_INGEST_RETRY (see sw_ingest_errmsg) every
 * further message also returns SW_INGEST_RETRY until sw_ingest_abort().
 */
enum sw_ingest_result sw_ingest_message(struct sw_ingest *ing, const char *topic,
					const void *payload, size_t len, int64_t received_at,
					struct sw_event_reject *ret_reject);

/*
 * Commits the open batch (durable on SW_OK) and reports its pending
 * metrics and statistics; with no batch open it only reports them (a burst
 * of rejects) and returns SW_OK.  On failure the batch is rolled back, its
 * pending counts dropped, and it returns SW_ESTORE (sw_ingest_errmsg): no
 * message of the batch may be acknowledged.  Also SW_ESTORE, rolling back,
 * when a message of the batch returned SW_INGEST_RETRY.
 */
enum sw_err sw_ingest_commit(struct sw_ingest *ing);

/* Rolls the open batch back and drops its pending counts.  Safe with no
 * batch open.  SW_OK, or SW_ESTORE if the rollback failed (the store then
 * rolled back anyway, or the connection is unusable). */
enum sw_err sw_ingest_abort(struct sw_ingest *ing);

/*
 * Queues a dead letter (len bytes, e.g. built by sw_ingest_deadletter) for
 * topic in the store's dead-letter queue (sw_store_deadletter_enqueue),
 * inside the open batch, opening it if none is open: the copy becomes
 * durable with the batch's commit, before any acknowledgement of the
 * burst, and disappears with it on abort (the broker then delivers the
 * message again, and it is rejected and queued again).  Call it for a
 * message sw_ingest_message answered SW_INGEST_REJECTED, before the next
 * message.  Counted in deadletters when the batch commits.  SW_OK;
 * SW_EINVAL (empty topic, NULL letter with len > 0; nothing changed);
 * SW_ESTORE (sw_ingest_errmsg): the batch is broken as after
 * SW_INGEST_RETRY: do not acknowledge the message, sw_ingest_abort().
 */
enum sw_err sw_ingest_queue_deadletter(struct sw_ingest *ing, const char *topic, const void *letter,
				       size_t len);

/* 1 if a batch transaction is open. */
int sw_ingest_in_batch(const struct sw_ingest *ing);

/*
 * Reads each warehouse's backlog from the store and sets the gauges
 * backlog_pick and backlog_ship of "warehouse/<id>"; warehouses reported
 * before and now without backlog are set to 0.  Call between batches (once
 * per metrics step).  SW_OK (also without metrics: nothing done), SW_EINVAL
 * if a batch is open, SW_ESTORE.
 */
enum sw_err sw_ingest_refresh_backlog(struct sw_ingest *ing);

/* Copies the statistics into *ret. */
void sw_ingest_stats(const struct sw_ingest *ing, struct sw_ingest_stats *ret);

/* The store's text for the last SW_INGEST_RETRY or failed commit ("" if
 * none).  Valid until the next call on ing. */
const char *sw_ingest_errmsg(const struct sw_ingest *ing);

/* Stable names ("applied", "duplicate", "rejected", "retry"); "?". */
const char *sw_ingest_result_name(enum sw_ingest_result r);

/*
 * Builds the dead-letter message for a rejected payload into out (appended;
 * out's max bounds it): one JSON object
 *   {"reason", "detail", "topic" (null if NULL), "received_at" (RFC 3339
 *    UTC), "payload_len", and "payload" (the text, when it is valid UTF-8
 *    without NUL bytes) or "payload_base64"; "payload_truncated": true when the payload had to
 *    be cut (at a character boundary) to fit in out}.
 * An invalid-UTF-8 topic is written with '?' for the bad bytes.
 * SW_OK; SW_ETOOBIG if not even the message without payload fits (out
 * unchanged); SW_EINVAL for NULL rej/out or NULL payload with len > 0.
 * Pure; safe anywhere.
 */
enum sw_err sw_ingest_deadletter(const char *topic, const void *payload, size_t len,
				 const struct sw_event_reject *rej, int64_t received_at,
				 struct sw_buf *out);

#endif /* SW_INGEST_H */
