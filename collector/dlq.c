/*
 * dlq.c - the collector's dead-letter publisher (see dlq.h).
 *
 * Design:
 * - The store's dead-letter queue is the only copy that counts: a copy
 *   leaves it only after the broker's PUBACK for the message that carried
 *   it.  libmosquitto's memory queue is just the transport.
 * - A window of at most SW_DLQ_WINDOW copies is handed to libmosquitto at
 *   once, each remembered as (mid, id).  The queue is paged by id:
 *   next_after is the highest id handed over, and copies above it are
 *   listed when the window has room (the store's ids only grow).  Memory
 *   stays bounded however long the broker was away.
 * - sw_dlq_published() (inside libmosquitto's read, maybe while an ingest
 *   batch is open) only moves the id from the window to a list of
 *   acknowledged ids.  Deleting them is batched: one transaction for up to
 *   PURGE_BATCH ids, or PURGE_DELAY_MS after the first, so the queue costs
 *   one commit per few hundred copies besides the ingest commits.  Dying
 *   between the PUBACK and the delete publishes those copies again:
 *   duplicates, never losses.
 * - All store work runs from one loop timer (kicked with delay 0), never
 *   from a libmosquitto callback: the ingest batch only exists inside a
 *   read burst, so the timer never meets it.
 * - While not connected nothing is handed over.  Copies in the window stay
 *   in libmosquitto, which sends them again after a reconnect on the same
 *   handle (2.0.11: message__reconnect_reset, then message__retry_check on
 *   CONNACK); a new handle (reload) starts from the lowest queued id again.
 * - A copy libmosquitto will not take (SW_EAGAIN while connected) stops the
 *   round and is tried again after RETRY_MS; one that can never be
 *   published (a bad stored topic) or that a v5 broker refuses is left in
 *   the store, logged, and tried again at the next start.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "collector/dlq.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define PURGE_BATCH    256  /* acknowledged ids deleted in one transaction */
#define PURGE_DELAY_MS 200  /* ... or this long after the first of them */
#define RETRY_MS       1000 /* after a store or publish failure */
#define TARGET	       "deadletter"

struct inflight {
	int mid;    /* libmosquitto's message id */
	int64_t id; /* the copy's id in the store */
};

struct sw_dlq {
	struct sw_loop *loop;
	struct sw_store *st;
	struct sw_mqtt *mqtt; /* NULL: not publishing */
	uint64_t timer;	      /* 0: not armed */
	int64_t next_after;   /* highest id handed over */
	int64_t retry_at_ms;  /* 0, or when to try again */
	struct inflight win[SW_DLQ_WINDOW];
	int n_win;
	int64_t *done; /* acknowledged, not yet deleted */
	size_t n_done, cap_done;
	int64_t done_since_ms; /* when done became non-empty */
	struct sw_dlq_stats stats;
	struct sw_log_complain store_c, publish_c, refused_c;
};

static int64_t work_cb(struct sw_loop *loop, uint64_t id, void *arg);

enum sw_err sw_dlq_new(struct sw_loop *loop, struct sw_store *st, struct sw_dlq **ret)
{
	struct sw_dlq *q;
	int64_t n = 0;

	if (ret)
		*ret = NULL;
	if (!loop || !st || !ret)
		return SW_EINVAL;
	if (sw_store_deadletter_count(st, &n) != SW_OK)
		return SW_ESTORE;
	q = xcalloc(1, sizeof(*q));
	q->loop = loop;
	q->st = st;
	q->stats.at_start = n;
	if (n > 0)
		sw_log_notice(TARGET,
			      "%lld dead letters queued before this start: "
			      "publishing them (again) once connected",
			      (long long)n);
	*ret = q;
	return SW_OK;
}

void sw_dlq_kick(struct sw_dlq *q)
{
	if (q->timer)
		sw_loop_timer_set(q->loop, q->timer, 0);
	else
		sw_loop_timer_add(q->loop, 0, work_cb, q, &q->timer);
}

void sw_dlq_published(struct sw_dlq *q, int mid, bool ok)
{
	int i;

	for (i = 0; i < q->n_win && q->win[i].mid != mid; i++)
		;
	if (i == q->n_win)
		return; /* not ours, or from a handle we forgot */
	if (ok) {
		if (q->n_done == q->cap_done) {
			q->cap_done = q->cap_done ? 2 * q->cap_done : PURGE_BATCH;
			q->done = xreallocarray(q->done, q->cap_done, sizeof(*q->done));
		}
		if (q->n_done == 0)
			q->done_since_ms = sw_loop_now_ms(q->loop);
		q->done[q->n_done++] = q->win[i].id;
		q->stats.acked++;
	} else {
		q->stats.refused++;
		sw_log_complain(&q->refused_c, SW_LOG_ERR, TARGET,
				"the broker refused dead letter %lld (not authorised to publish "
				"to the dead-letter topic?); it stays queued until the next start",
				(long long)q->win[i].id);
	}
	q->win[i] = q->win[--q->n_win];
	sw_dlq_kick(q); /* room in the window; maybe time to purge */
}

/* Deletes the acknowledged copies in one transaction. */
enum sw_err sw_dlq_flush(struct sw_dlq *q)
{
	enum sw_err rc;
	size_t i;

	if (q->n_done == 0)
		return SW_OK;
	rc = sw_store_begin(q->st);
	for (i = 0; rc == SW_OK && i < q->n_done; i++) {
		rc = sw_store_deadletter_delete(q->st, q->done[i]);
		if (rc == SW_ENOTFOUND) /* deleted before: nothing to do */
			rc = SW_OK;
	}
	if (rc == SW_OK)
		rc = sw_store_commit(q->st);
	else if (rc != SW_EINVAL) /* EINVAL: begin found a transaction open */
		sw_store_rollback(q->st);
	if (rc != SW_OK) {
		sw_log_complain(&q->store_c, SW_LOG_ERR, TARGET,
				"cannot delete %zu published dead letters: %s; "
				"they may be published twice",
				q->n_done, sw_store_errmsg(q->st));
		return SW_ESTORE;
	}
	sw_log_release(&q->store_c, SW_LOG_NOTICE, TARGET, "dead-letter queue usable again");
	q->stats.deleted += q->n_done;
	q->n_done = 0;
	return SW_OK;
}

/* Hands one listed copy to libmosquitto.  false: stop this round. */
static bool publish_one(struct sw_dlq *q, const struct sw_deadletter *d)
{
	enum sw_err rc;
	int mid = 0;

	rc = sw_mqtt_publish(q->mqtt, d->topic, d->payload, d->len, 1, &mid);
	if (rc == SW_OK) {
		q->win[q->n_win++] = (struct inflight){.mid = mid, .id = d->id};
		q->next_after = d->id;
		q->stats.published++;
		sw_log_release(&q->publish_c, SW_LOG_NOTICE, TARGET,
			       "publishing dead letters again");
		return true;
	}
	if (rc == SW_EAGAIN) { /* libmosquitto refused it for now */
		sw_log_complain(&q->publish_c, SW_LOG_WARNING, TARGET,
				"cannot hand dead letter %lld to the MQTT client; retrying",
				(long long)d->id);
		q->retry_at_ms = sw_loop_now_ms(q->loop) + RETRY_MS;
		return false;
	}
	sw_log_err(TARGET,
		   "dead letter %lld cannot be published to '%s': %s; "
		   "left in the store",
		   (long long)d->id, d->topic, sw_strerror(rc));
	q->next_after = d->id;
	q->stats.skipped++;
	return true;
}

/* Fills the window from the store while connected. */
static void fill(struct sw_dlq *q)
{
	struct sw_deadletter *list;
	size_t n, i;
	int room;

	while (q->mqtt && sw_mqtt_connected(q->mqtt) && (room = SW_DLQ_WINDOW - q->n_win) > 0) {
		if (sw_store_deadletter_list(q->st, q->next_after, room, &list, &n) != SW_OK) {
			sw_log_complain(&q->store_c, SW_LOG_ERR, TARGET,
					"cannot read the dead-letter queue: %s",
					sw_store_errmsg(q->st));
			q->retry_at_ms = sw_loop_now_ms(q->loop) + RETRY_MS;
			return;
		}
		for (i = 0; i < n && publish_one(q, &list[i]); i++)
			;
		sw_store_deadletter_free(list, n);
		if (i < n || n < (size_t)room)
			return; /* stopped, or nothing more queued */
	}
}

/* The delay until t (ms on the loop's clock), at least 0. */
static int64_t until(int64_t t, int64_t now)
{
	return t > now ? t - now : 0;
}

/* Purges if due, fills the window, and says when to come back: for the
 * next purge or retry, or never until kicked. */
static int64_t work_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_dlq *q = arg;
	int64_t now = sw_loop_now_ms(loop), next = -1;

	(void)id;
	if (q->n_done >= PURGE_BATCH || (q->n_done && now - q->done_since_ms >= PURGE_DELAY_MS))
		if (sw_dlq_flush(q) != SW_OK) /* next attempt RETRY_MS from now */
			q->done_since_ms = now + RETRY_MS - PURGE_DELAY_MS;
	if (q->retry_at_ms == 0 || now >= q->retry_at_ms) {
		q->retry_at_ms = 0;
		fill(q);
	}
	if (q->n_done)
		next = until(q->done_since_ms + PURGE_DELAY_MS, now);
	if (q->retry_at_ms && (next < 0 || until(q->retry_at_ms, now) < next))
		next = until(q->retry_at_ms, now);
	if (next < 0) {
		q->timer = 0;
		return SW_LOOP_NOMORE;
	}
	return next;
}

void sw_dlq_set_mqtt(struct sw_dlq *q, struct sw_mqtt *m)
{
	if (q->n_win > 0 || q->mqtt != m) {
		sw_dlq_flush(q); /* so that acknowledged copies are not listed again */
		q->n_win = 0;
		q->next_after = 0;
	}
	q->mqtt = m;
	sw_dlq_kick(q);
}

enum sw_err sw_dlq_backlog(struct sw_dlq *q, int64_t *ret_count)
{
	return sw_store_deadletter_count(q->st, ret_count);
}

void sw_dlq_get_stats(const struct sw_dlq *q, struct sw_dlq_stats *ret)
{
	*ret = q->stats;
}

void sw_dlq_free(struct sw_dlq *q)
{
	if (!q)
		return;
	if (q->timer)
		sw_loop_timer_del(q->loop, q->timer);
	free(q->done);
	free(q);
}
