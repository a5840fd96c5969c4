/*
 * dlq.h - the collector's dead-letter publisher: drains the store's
 * dead-letter queue to the broker.
 *
 * The copy of a rejected warehouse message is queued in the store by the
 * ingest batch that rejected it (sw_ingest_queue_deadletter), so it is
 * durable before the message is acknowledged.  This module publishes the
 * queued copies at QoS 1, at most SW_DLQ_WINDOW at a time, and deletes each
 * one from the store only after the broker acknowledged it (PUBACK).  A
 * broker that is down leaves the copies queued; a restart publishes every
 * copy still queued again (duplicates of those acknowledged just before a
 * crash, never losses).  See dlq.c for the design.
 *
 * Everything here runs on the daemon's loop.  Nothing here prints except
 * through lib/log (target "deadletter").
 */
#ifndef SW_DLQ_H
#define SW_DLQ_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/mqtt.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "lib/store.h"

/* Most copies handed to libmosquitto and not yet acknowledged. */
#define SW_DLQ_WINDOW 256

/* Counters since sw_dlq_new(). */
struct sw_dlq_stats {
	uint64_t published; /* copies handed to the broker (again, after a
			       reconnect to a new handle, counted again) */
	uint64_t acked;	    /* PUBACKs for them */
	uint64_t refused;   /* refused by a v5 broker: left queued */
	uint64_t deleted;   /* removed from the store after their PUBACK */
	uint64_t skipped;   /* cannot be published (bad topic): left queued */
	int64_t at_start;   /* copies queued when the handle was made */
};

struct sw_dlq; /* opaque */

/*
 * Creates the publisher over st (not owned; must outlive it) on loop, and
 * counts the copies already queued (logged at notice when there are any:
 * they are published again once connected).  Nothing is published until
 * sw_dlq_set_mqtt().  SW_OK with *ret; SW_EINVAL (NULL argument);
 * SW_ESTORE if the queue cannot be read (sw_store_errmsg).
 */
enum sw_err sw_dlq_new(struct sw_loop *loop, struct sw_store *st, struct sw_dlq **ret);

/*
 * Publishes through m (not owned; NULL: none) from now on.  Copies handed
 * to an earlier handle and not acknowledged are forgotten (that handle is
 * about to be freed, its queue with it) and published again through m,
 * after the acknowledged ones are deleted.  Call it before the loop runs
 * again after freeing the previous handle.
 */
void sw_dlq_set_mqtt(struct sw_dlq *q, struct sw_mqtt *m);

/* New copies were committed, or the connection came up: publish what fits
 * in the window, from a timer on the next loop iteration.  Safe anywhere
 * on the loop, also inside a batch. */
void sw_dlq_kick(struct sw_dlq *q);

/* For cb.on_published: the broker acknowledged (ok) or refused the
 * message mid.  Only records it (safe inside a batch); the store is
 * updated from the timer.  Unknown mids are ignored. */
void sw_dlq_published(struct sw_dlq *q, int mid, bool ok);

/* Deletes the acknowledged copies now (one transaction), so that a stop
 * does not publish them again at the next start.  Not inside a batch.
 * SW_OK, or SW_ESTORE (logged; they are published again later). */
enum sw_err sw_dlq_flush(struct sw_dlq *q);

/* The copies queued in the store now, into *ret_count.  SW_OK, SW_ESTORE. */
enum sw_err sw_dlq_backlog(struct sw_dlq *q, int64_t *ret_count);

void sw_dlq_get_stats(const struct sw_dlq *q, struct sw_dlq_stats *ret);

/* Deletes its timer and frees q (acknowledged copies not yet deleted are
 * published again next time: call sw_dlq_flush first).  NULL is a no-op. */
void sw_dlq_free(struct sw_dlq *q);

#endif /* SW_DLQ_H */
