/*
 * ingest.c - applying warehouse events to the store with group commit (see
 * ingest.h for the contract with the MQTT layer).
 *
 * Design:
 * - One batch = one store transaction, opened lazily by the first message
 *   that needs the store and closed by sw_ingest_commit/abort.  A store
 *   failure (SW_ESTORE) loses the whole batch: the caller abandons it
 *   (SW_INGEST_RETRY) because its PUBACKs must not go out, and the broker
 *   delivers it all again.
 * - Store refusals of an event's values (SW_EINVAL/SW_ERANGE, a constraint
 *   the row breaks) are deterministic: retrying would redeliver the same
 *   poison message forever, so they must end as rejects (bad_value), with
 *   nothing of the message in the store.  The parser is meant to make
 *   them impossible, so messages are written without a savepoint of their
 *   own (savepoints and their statement journals were a measurable part of
 *   ingest).  Each store call checks its values before writing, so a
 *   refusal of the first write (the journal row) is a plain reject.  A
 *   refusal after it cannot be undone alone: the batch is abandoned
 *   (RETRY, counted in stats.careful) and the ingest turns careful: the
 *   batches that follow run each message in a savepoint, so the
 *   redelivered message is rolled back alone and rejected, until a batch
 *   commits.
 * - Stage durations need the stage times before the message: the order is
 *   read before it is changed, in the same transaction.  A duration is
 *   reported by the message that makes both of its stage times known, so
 *   once per order whatever the arrival order.
 * - Metrics and counts are recorded as pending operations and replayed into
 *   the registry on commit (dropped on abort): the registry is never told
 *   about an event the broker will deliver again.
 * - Each warehouse with a stored event in the batch (applied or duplicate:
 *   either way it published) is remembered with the latest receive time,
 *   and written to warehouse_health (store_feeds.h) once per warehouse
 *   just before the batch commits, in its transaction: the alert engine's
 *   "has this warehouse's feed gone silent" costs one upsert per
 *   warehouse per batch, not per event.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "collector/ingest.h"
#include "lib/clock.h"
#include "lib/store_feeds.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define WAREHOUSE_FILE "warehouse/"
#define BACKLOG_TRACK_MAX 100000 /* warehouses whose zero backlog is reported */
#define COLLECTOR_FILE "collector"

enum op_kind { OP_COUNT, OP_SAMPLE };

/* One metric report waiting for its batch to commit. */
struct pending {
	enum op_kind kind;
	char *file;
	const char *ds; /* static */
	double value;
};

/* A warehouse that published in the open batch, and when (received). */
struct wh_seen {
	char *wh;
	int64_t at;
};

struct sw_ingest {
	struct sw_store *st;
	struct sw_ingest_opts opts;
	int in_batch; /* our transaction is open */
	int careful;  /* next batches: a savepoint per message (see top) */
	int batch_careful; /* the open batch is careful */
	int broken;   /* a message returned RETRY: only abort is left */
	struct pending *pend;
	size_t n_pend, alloc_pend;
	struct sw_ingest_stats stats; /* committed */
	struct sw_ingest_stats batch; /* pending: applied, dups, rejects */
	char **backlog_whs;	      /* warehouses seen or with gauges, sorted */
	size_t n_backlog_whs;
	struct wh_seen *seen; /* warehouses with events in the open batch */
	size_t n_seen;
	char errmsg[512];
};

static const char *const result_names[SW_INGEST_RESULT_LAST] = {
    [SW_INGEST_APPLIED] = "applied",
    [SW_INGEST_DUPLICATE] = "duplicate",
    [SW_INGEST_REJECTED] = "rejected",
    [SW_INGEST_RETRY] = "retry",
};

/* Data source names per stage, and "rejected_<reason>". */
static const char *const stage_ds[SW_STAGE_LAST] = {
    [SW_STAGE_CREATED] = "created",	[SW_STAGE_PICKED] = "picked",
    [SW_STAGE_PACKED] = "packed",	[SW_STAGE_SHIPPED] = "shipped",
    [SW_STAGE_CANCELLED] = "cancelled", [SW_STAGE_BACKORDERED] = "backordered",
};
static const char *const rejected_ds[SW_EVENT_REASON_LAST] = {
    [SW_EVENT_TOO_BIG] = "rejected_too_big",
    [SW_EVENT_NOT_JSON] = "rejected_not_json",
    [SW_EVENT_NOT_OBJECT] = "rejected_not_object",
    [SW_EVENT_MISSING_FIELD] = "rejected_missing_field",
    [SW_EVENT_WRONG_TYPE] = "rejected_wrong_type",
    [SW_EVENT_BAD_VALUE] = "rejected_bad_value",
    [SW_EVENT_BAD_TIMESTAMP] = "rejected_bad_timestamp",
    [SW_EVENT_WAREHOUSE_MISMATCH] = "rejected_warehouse_mismatch",
};

/* Stage pairs whose time difference is a duration sample. */
static const struct {
	enum sw_stage from, to;
	const char *ds;
} durations[] = {
    {SW_STAGE_CREATED, SW_STAGE_PICKED, "pick_duration"},
    {SW_STAGE_PICKED, SW_STAGE_PACKED, "pack_duration"},
    {SW_STAGE_PACKED, SW_STAGE_SHIPPED, "ship_duration"},
};

const char *sw_ingest_result_name(enum sw_ingest_result r)
{
	return (unsigned)r < SW_INGEST_RESULT_LAST ? result_names[r] : "?";
}

/* ---- life cycle ---------------------------------------------------------- */

enum sw_err sw_ingest_new(struct sw_store *st, const struct sw_ingest_opts *opts,
			  struct sw_ingest **ret)
{
	struct sw_ingest *ing;

	if (ret)
		*ret = NULL;
	if (st == NULL || opts == NULL || ret == NULL ||
	    opts->topic_level < SW_INGEST_NO_TOPIC_LEVEL)
		return SW_EINVAL;
	ing = xcalloc(1, sizeof(*ing));
	ing->st = st;
	ing->opts = *opts;
	*ret = ing;
	return SW_OK;
}

static void pending_clear(struct sw_ingest *ing)
{
	size_t i;

	for (i = 0; i < ing->n_pend; i++)
		free(ing->pend[i].file);
	ing->n_pend = 0;
	memset(&ing->batch, 0, sizeof(ing->batch));
	for (i = 0; i < ing->n_seen; i++)
		free(ing->seen[i].wh);
	ing->n_seen = 0;
}

static void backlog_whs_free(struct sw_ingest *ing)
{
	size_t i;

	for (i = 0; i < ing->n_backlog_whs; i++)
		free(ing->backlog_whs[i]);
	free(ing->backlog_whs);
	ing->backlog_whs = NULL;
	ing->n_backlog_whs = 0;
}

void sw_ingest_free(struct sw_ingest *ing)
{
	if (ing == NULL)
		return;
	sw_ingest_abort(ing);
	free(ing->pend);
	free(ing->seen);
	backlog_whs_free(ing);
	free(ing);
}

int sw_ingest_in_batch(const struct sw_ingest *ing)
{
	return ing->in_batch;
}

void sw_ingest_stats(const struct sw_ingest *ing, struct sw_ingest_stats *ret)
{
	*ret = ing->stats;
}

const char *sw_ingest_errmsg(const struct sw_ingest *ing)
{
	return ing->errmsg;
}

/* ---- pending metrics ------------------------------------------------------ */

static void pend(struct sw_ingest *ing, enum op_kind kind, const char *file, const char *ds,
		 double value)
{
	struct pending *p;

	if (ing->opts.metrics == NULL)
		return;
	if (ing->n_pend == ing->alloc_pend) {
		ing->alloc_pend = ing->alloc_pend ? ing->alloc_pend * 2 : 64;
		ing->pend = xreallocarray(ing->pend, ing->alloc_pend, sizeof(*ing->pend));
	}
	p = &ing->pend[ing->n_pend++];
	p->kind = kind;
	p->file = xstrdup(file);
	p->ds = ds;
	p->value = value;
}

static void pend_wh(struct sw_ingest *ing, enum op_kind kind, const char *wh, const char *ds,
		    double value)
{
	char file[SW_METRICS_NAME_MAX + 16 + SW_EVENT_ID_MAX];

	snprintf(file, sizeof(file), WAREHOUSE_FILE "%s", wh);
	pend(ing, kind, file, ds, value);
}

static int cmp_str(const void *a, const void *b);

/* Remembers a warehouse that had events, so that the next backlog refresh
 * reports 0 for it rather than leaving its gauges unknown when nothing of
 * it waits (the backlog query only returns warehouses with a backlog). */
static void backlog_track(struct sw_ingest *ing, const char *file)
{
	const char *wh = file;
	size_t lo = 0, hi = ing->n_backlog_whs;

	if (strncmp(file, WAREHOUSE_FILE, strlen(WAREHOUSE_FILE)) != 0 ||
	    ing->n_backlog_whs >= BACKLOG_TRACK_MAX)
		return;
	wh += strlen(WAREHOUSE_FILE);
	while (lo < hi) { /* binary search for the insertion point */
		size_t mid = (lo + hi) / 2;
		int c = strcmp(ing->backlog_whs[mid], wh);

		if (c == 0)
			return;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	ing->backlog_whs = xreallocarray(ing->backlog_whs, ing->n_backlog_whs + 1,
					 sizeof(*ing->backlog_whs));
	memmove(ing->backlog_whs + lo + 1, ing->backlog_whs + lo,
		(ing->n_backlog_whs - lo) * sizeof(*ing->backlog_whs));
	ing->backlog_whs[lo] = xstrdup(wh);
	ing->n_backlog_whs++;
}

/* Reports the batch's pending metrics and statistics, then clears them. */
static void pending_flush(struct sw_ingest *ing)
{
	struct sw_ingest_stats *s = &ing->stats, *b = &ing->batch;
	size_t i;
	int r;

	for (i = 0; i < ing->n_pend; i++) {
		const struct pending *p = &ing->pend[i];

		if (p->kind == OP_COUNT) {
			sw_metrics_count(ing->opts.metrics, p->file, p->ds, (uint64_t)p->value);
			backlog_track(ing, p->file);
		} else
			sw_metrics_sample(ing->opts.metrics, p->file, p->ds, p->value);
	}
	s->applied += b->applied;
	s->duplicates += b->duplicates;
	s->rejected += b->rejected;
	s->deadletters += b->deadletters;
	for (r = 0; r < SW_EVENT_REASON_LAST; r++)
		s->rejected_by[r] += b->rejected_by[r];
	pending_clear(ing);
}

/* ---- batches ------------------------------------------------------------ */

static void set_errmsg(struct sw_ingest *ing, const char *what)
{
	snprintf(ing->errmsg, sizeof(ing->errmsg), "%s: %s", what, sw_store_errmsg(ing->st));
}

/* Remembers that wh published at `at` in the open batch.  Batches hold
 * events of few warehouses, so a linear search is enough. */
static void seen_note(struct sw_ingest *ing, const char *wh, int64_t at)
{
	for (size_t i = 0; i < ing->n_seen; i++)
		if (strcmp(ing->seen[i].wh, wh) == 0) {
			if (at > ing->seen[i].at)
				ing->seen[i].at = at;
			return;
		}
	ing->seen = xreallocarray(ing->seen, ing->n_seen + 1, sizeof(*ing->seen));
	ing->seen[ing->n_seen].wh = xstrdup(wh);
	ing->seen[ing->n_seen++].at = at;
}

/* Writes the batch's warehouses to warehouse_health (inside the batch). */
static enum sw_err seen_write(struct sw_ingest *ing)
{
	for (size_t i = 0; i < ing->n_seen; i++)
		if (sw_store_warehouse_seen(ing->st, ing->seen[i].wh, ing->seen[i].at) != SW_OK) {
			set_errmsg(ing, "warehouse health");
			return SW_ESTORE;
		}
	return SW_OK;
}

enum sw_err sw_ingest_commit(struct sw_ingest *ing)
{
	enum sw_err rc;

	if (ing->broken) {
		sw_ingest_abort(ing);
		snprintf(ing->errmsg, sizeof(ing->errmsg),
			 "commit refused: a message of the batch failed; batch rolled back");
		return SW_ESTORE;
	}
	if (ing->in_batch) {
		if (seen_write(ing) != SW_OK) {
			char why[256];

			snprintf(why, sizeof(why), "%.200s", ing->errmsg);
			sw_ingest_abort(ing);
			snprintf(ing->errmsg, sizeof(ing->errmsg), "%s; batch rolled back", why);
			return SW_ESTORE;
		}
		ing->in_batch = 0;
		rc = sw_store_commit(ing->st);
		if (rc != SW_OK) {
			set_errmsg(ing, "commit");
			pending_clear(ing);
			ing->stats.aborts++;
			return SW_ESTORE;
		}
		ing->stats.commits++;
		ing->careful = 0;
	}
	pending_flush(ing);
	return SW_OK;
}

enum sw_err sw_ingest_abort(struct sw_ingest *ing)
{
	enum sw_err rc = SW_OK;

	pending_clear(ing);
	if (ing->in_batch) {
		ing->in_batch = 0;
		ing->stats.aborts++;
		if (sw_store_rollback(ing->st) != SW_OK) {
			set_errmsg(ing, "rollback");
			rc = SW_ESTORE;
		}
	}
	ing->broken = 0;
	return rc;
}

/* ---- one message ------------------------------------------------------- */

/* Records a rejection (pending) and returns SW_INGEST_REJECTED. */
static enum sw_ingest_result rejected(struct sw_ingest *ing, const char *topic_wh,
				      const struct sw_event_reject *rej)
{
	enum sw_event_reason r = rej->reason;

	if ((unsigned)r >= SW_EVENT_REASON_LAST)
		r = SW_EVENT_BAD_VALUE;
	ing->batch.rejected++;
	ing->batch.rejected_by[r]++;
	pend(ing, OP_COUNT, COLLECTOR_FILE, rejected_ds[r], 1);
	if (topic_wh)
		pend_wh(ing, OP_COUNT, topic_wh, "rejected", 1);
	return SW_INGEST_REJECTED;
}

/* The stage times of the order before this message (all 0 if new). */
static enum sw_err stages_before(struct sw_ingest *ing, const struct sw_event *ev,
				 struct sw_stamp ret[SW_STAGE_LAST])
{
	enum sw_err rc = sw_store_order_stages(ing->st, ev->warehouse_id, ev->order_id, ret);

	return rc == SW_ENOTFOUND ? SW_OK : rc;
}

static void order_details(const struct sw_event *ev, struct sw_order *o)
{
	o->customer_name = ev->customer_name;
	o->customer_email = ev->customer_email;
	o->customer_locale = ev->customer_locale;
	o->customer_timezone = ev->customer_timezone;
	o->customer_phone = ev->customer_phone;
	o->customer_channel = ev->customer_channel;
	o->promised_ship_by = ev->promised_ship_by;
	o->promised_delivery_by = ev->promised_delivery_by;
	o->service_level = ev->service_level;
	o->dest_country = ev->dest_country;
	o->dest_postal_code = ev->dest_postal_code;
	o->dest_city = ev->dest_city;
}

/* Journal, order, details, parcel: the store calls of one event.  SW_EDUP
 * if the event was journaled before.  *wrote is set once something of the
 * message is in the batch (each store call checks its values before it
 * writes, so a refusal of the journal row leaves nothing behind). */
static enum sw_err apply(struct sw_ingest *ing, const struct sw_event *ev, const char *text,
			 int64_t received_at, struct sw_stamp before[SW_STAGE_LAST], int *wrote)
{
	struct sw_journal_event j = {0};
	struct sw_order o = {0};
	enum sw_err rc;
	char *source = xasprintf("warehouse:%s", ev->warehouse_id);

	j.source = source;
	j.source_event_id = ev->event_id;
	j.kind = sw_event_type_name(ev->type);
	j.warehouse_id = ev->warehouse_id;
	j.order_id = ev->order_id;
	j.courier = ev->courier;
	j.tracking_number = ev->tracking_number;
	j.occurred_at = ev->occurred_at;
	j.received_at = received_at;
	j.payload = text;
	rc = sw_store_journal_append(ing->st, &j, NULL);
	free(source);
	if (rc != SW_OK)
		return rc;
	*wrote = 1; /* a later failure leaves the journal row in the batch */
	if ((rc = stages_before(ing, ev, before)))
		return rc;
	o.warehouse_id = ev->warehouse_id;
	o.order_id = ev->order_id;
	o.stage[ev->type] = ev->occurred_at;
	if ((rc = sw_store_order_upsert(ing->st, &o)))
		return rc;
	if (ev->type == SW_STAGE_CREATED) {
		order_details(ev, &o);
		rc =
		    sw_store_order_set_details(ing->st, &o, ev->occurred_at.at, ev->event_id, NULL);
	} else if (ev->type == SW_STAGE_SHIPPED) {
		rc = sw_store_parcel_upsert(ing->st, ev->courier, ev->tracking_number,
					    ev->warehouse_id, ev->order_id, ev->occurred_at);
	}
	return rc;
}

/* Pending metrics of an applied event: its counter and the durations it
 * completes. */
static void applied_metrics(struct sw_ingest *ing, const struct sw_event *ev,
			    const struct sw_stamp before[SW_STAGE_LAST])
{
	struct sw_stamp after[SW_STAGE_LAST];
	size_t i;

	memcpy(after, before, sizeof(after));
	if (after[ev->type].at == 0 || ev->occurred_at.at < after[ev->type].at)
		after[ev->type] = ev->occurred_at;
	ing->batch.applied++;
	pend_wh(ing, OP_COUNT, ev->warehouse_id, stage_ds[ev->type], 1);
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		enum sw_stage a = durations[i].from, b = durations[i].to;

		if ((ev->type == a || ev->type == b) && !(before[a].at && before[b].at) &&
		    after[a].at && after[b].at)
			pend_wh(ing, OP_SAMPLE, ev->warehouse_id, durations[i].ds,
				(double)(after[b].at - after[a].at));
	}
}

/* Opens the batch if needed, and in careful mode a savepoint for one
 * message. */
static enum sw_err open_message(struct sw_ingest *ing)
{
	if (!ing->in_batch) {
		if (sw_store_begin(ing->st) != SW_OK) {
			set_errmsg(ing, "begin");
			return SW_ESTORE;
		}
		ing->in_batch = 1;
		ing->batch_careful = ing->careful;
	}
	if (ing->batch_careful && sw_store_savepoint(ing->st) != SW_OK) {
		set_errmsg(ing, "savepoint");
		return SW_ESTORE;
	}
	return SW_OK;
}

/* A store refusal of a message's values (SW_EINVAL/SW_ERANGE): a reject if
 * nothing of the message is left in the batch, else the batch is lost
 * (RETRY) and the next ones run careful (see the top of the file). */
static enum sw_ingest_result refused(struct sw_ingest *ing, enum sw_err rc, int wrote,
				     struct sw_event_reject *rej)
{
	if (rc != SW_EINVAL && rc != SW_ERANGE)
		return SW_INGEST_RETRY; /* the batch is abandoned as a whole */
	if (ing->batch_careful) {
		if (sw_store_savepoint_rollback(ing->st) != SW_OK)
			return SW_INGEST_RETRY;
	} else if (wrote) {
		ing->careful = 1;
		ing->stats.careful++;
		return SW_INGEST_RETRY;
	}
	rej->reason = SW_EVENT_BAD_VALUE;
	snprintf(rej->detail, sizeof(rej->detail), "refused by the store: %.150s",
		 sw_store_errmsg(ing->st));
	return SW_INGEST_REJECTED;
}

/* Runs apply() (in careful mode in a savepoint) and turns its outcome into
 * a result. */
static enum sw_ingest_result store_event(struct sw_ingest *ing, const struct sw_event *ev,
					 const char *text, int64_t received_at,
					 struct sw_event_reject *rej)
{
	struct sw_stamp before[SW_STAGE_LAST];
	enum sw_ingest_result res;
	enum sw_err rc;
	int wrote = 0;

	if (open_message(ing))
		goto retry;
	rc = apply(ing, ev, text, received_at, before, &wrote);
	if (rc == SW_OK || rc == SW_EDUP) {
		if (ing->batch_careful && sw_store_savepoint_release(ing->st) != SW_OK) {
			set_errmsg(ing, "release");
			goto retry;
		}
		if (received_at > 0)
			seen_note(ing, ev->warehouse_id, received_at);
		if (rc == SW_EDUP) {
			ing->batch.duplicates++;
			pend_wh(ing, OP_COUNT, ev->warehouse_id, "duplicates", 1);
			return SW_INGEST_DUPLICATE;
		}
		applied_metrics(ing, ev, before);
		return SW_INGEST_APPLIED;
	}
	set_errmsg(ing, "apply");
	if ((res = refused(ing, rc, wrote, rej)) == SW_INGEST_REJECTED)
		return res;
retry:
	ing->broken = 1;
	ing->stats.retries++;
	return SW_INGEST_RETRY;
}

/* The topic's warehouse id into buf, or a reject. */
static int topic_warehouse(struct sw_ingest *ing, const char *topic, char *buf, size_t len,
			   struct sw_event_reject *rej)
{
	enum sw_err rc = sw_event_topic_warehouse(topic, ing->opts.topic_level, buf, len);
	char *p;

	if (rc == SW_OK)
		return 0;
	rej->reason = SW_EVENT_WAREHOUSE_MISMATCH;
	snprintf(rej->detail, sizeof(rej->detail), "topic '%.60s': level %d is %s",
		 topic ? topic : "", ing->opts.topic_level,
		 rc == SW_ENOTFOUND ? "missing" : "not a valid warehouse id");
	for (p = rej->detail; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return -1;
}

enum sw_ingest_result sw_ingest_message(struct sw_ingest *ing, const char *topic,
					const void *payload, size_t len, int64_t received_at,
					struct sw_event_reject *ret_reject)
{
	struct sw_event_reject local, *rej = ret_reject ? ret_reject : &local;
	char wh[SW_EVENT_ID_MAX + 1];
	const char *topic_wh = NULL;
	struct sw_event ev;
	enum sw_ingest_result res;
	char *text;

	memset(rej, 0, sizeof(*rej));
	rej->reason = SW_EVENT_REASON_LAST;
	if (ing->broken) {
		ing->stats.retries++;
		return SW_INGEST_RETRY;
	}
	if (ing->opts.topic_level != SW_INGEST_NO_TOPIC_LEVEL) {
		if (topic_warehouse(ing, topic, wh, sizeof(wh), rej))
			return rejected(ing, NULL, rej);
		topic_wh = wh;
	}
	if (sw_event_parse(topic_wh, payload, len, ing->opts.max_payload, &ev, rej) != SW_OK) {
		if (rej->reason == SW_EVENT_REASON_LAST) { /* SW_EINVAL: NULL payload */
			rej->reason = SW_EVENT_NOT_JSON;
			snprintf(rej->detail, sizeof(rej->detail), "no payload");
		}
		return rejected(ing, topic_wh, rej);
	}
	/* The parser refused NUL bytes: the text is the whole payload. */
	text = xstrndup(payload, len);
	res = store_event(ing, &ev, text, received_at, rej);
	if (res == SW_INGEST_REJECTED)
		rejected(ing, topic_wh, rej);
	free(text);
	sw_event_free(&ev);
	return res;
}

enum sw_err sw_ingest_queue_deadletter(struct sw_ingest *ing, const char *topic, const void *letter,
				       size_t len)
{
	if (topic == NULL || *topic == '\0' || (letter == NULL && len > 0))
		return SW_EINVAL;
	if (ing->broken) {
		snprintf(ing->errmsg, sizeof(ing->errmsg),
			 "dead letter: a message of the batch failed");
		return SW_ESTORE;
	}
	if (!ing->in_batch) {
		if (sw_store_begin(ing->st) != SW_OK) {
			set_errmsg(ing, "begin");
			goto broken;
		}
		ing->in_batch = 1;
	}
	/* One statement, atomic on its own: no savepoint needed. */
	if (sw_store_deadletter_enqueue(ing->st, topic, letter, len, 0, NULL) != SW_OK) {
		set_errmsg(ing, "dead letter");
		goto broken;
	}
	ing->batch.deadletters++;
	return SW_OK;
broken:
	ing->broken = 1;
	ing->stats.retries++;
	return SW_ESTORE;
}

/* ---- backlog gauges --------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_backlog(struct sw_ingest *ing, const char *wh, const struct sw_backlog *b)
{
	char file[SW_METRICS_NAME_MAX + 16 + SW_EVENT_ID_MAX];

	snprintf(file, sizeof(file), WAREHOUSE_FILE "%s", wh);
	sw_metrics_gauge(ing->opts.metrics, file, "backlog_pick", b ? (double)b->pick : 0);
	sw_metrics_gauge(ing->opts.metrics, file, "backlog_ship", b ? (double)b->ship : 0);
	sw_metrics_gauge(ing->opts.metrics, file, "ship_late", b ? (double)b->ship_late : 0);
}

enum sw_err sw_ingest_refresh_backlog(struct sw_ingest *ing)
{
	struct sw_backlog *bl = NULL;
	char **whs;
	size_t n = 0, i;

	if (ing->in_batch)
		return SW_EINVAL;
	if (ing->opts.metrics == NULL)
		return SW_OK;
	if (sw_store_order_backlog(ing->st, sw_clock_now(), &bl, &n) != SW_OK) {
		set_errmsg(ing, "backlog");
		return SW_ESTORE;
	}
	/* bl is sorted by warehouse_id, its first member, so cmp_str can
	 * search it; warehouses that emptied get 0. */
	for (i = 0; i < ing->n_backlog_whs; i++) {
		struct sw_backlog key = {.warehouse_id = ing->backlog_whs[i]};

		if (!n || !bsearch(&key, bl, n, sizeof(*bl), cmp_str))
			set_backlog(ing, ing->backlog_whs[i], NULL);
	}
	whs = n ? xreallocarray(NULL, n, sizeof(*whs)) : NULL;
	for (i = 0; i < n; i++) {
		set_backlog(ing, bl[i].warehouse_id, &bl[i]);
		whs[i] = bl[i].warehouse_id;
		bl[i].warehouse_id = NULL; /* moved into whs */
	}
	backlog_whs_free(ing);
	ing->backlog_whs = whs;
	ing->n_backlog_whs = n;
	sw_store_backlog_free(bl, n);
	return SW_OK;
}

/* ---- dead letters ------------------------------------------------------- */

static char *base64(const unsigned char *in, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = tab[in[i] >> 2];
		*o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = tab[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = tab[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = tab[(in[i + 1] & 15) << 2];
		} else {
			*o++ = tab[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* The topic as a JSON string: bytes that break UTF-8 become '?'. */
static json_t *topic_json(const char *topic)
{
	json_t *v;
	char *copy;
	size_t i;

	if (topic == NULL)
		return json_null();
	if ((v = json_string(topic)) != NULL)
		return v;
	copy = xstrdup(topic);
	for (i = 0; copy[i]; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

/* The largest n' <= n such that the first n' bytes of the valid UTF-8
 * text s (len bytes) do not end inside a character. */
static size_t utf8_cut(const unsigned char *s, size_t n, size_t len)
{
	if (n >= len)
		return len;
	while (n > 0 && (s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* The dead letter with the payload's first n bytes (n < len: truncated);
 * NULL if it does not fit in room bytes. */
static char *deadletter_doc(json_t *base, const unsigned char *p, size_t n, size_t len, int utf8,
			    size_t room)
{
	json_t *doc = json_deep_copy(base);
	char *b64, *text;

	if (utf8) {
		json_object_set_new(doc, "payload", json_stringn((const char *)p, n));
	} else {
		b64 = base64(p, n);
		json_object_set_new(doc, "payload_base64", json_string(b64));
		free(b64);
	}
	if (n < len)
		json_object_set_new(doc, "payload_truncated", json_true());
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (text && strlen(text) > room) {
		free(text);
		return NULL;
	}
	return text;
}

/* The fixed fields of a dead letter. */
static json_t *deadletter_base(const char *topic, size_t len, const struct sw_event_reject *rej,
			       int64_t received_at)
{
	struct sw_time t = {.utc_sec = received_at, .flags = SW_TIME_HAS_OFFSET};
	char when[SW_TIME_STRLEN];
	json_t *doc = json_object();

	if (sw_time_format_utc(&t, when, sizeof(when)) != SW_OK)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00Z");
	json_object_set_new(doc, "reason", json_string(sw_event_reason_name(rej->reason)));
	json_object_set_new(doc, "detail",
			    json_stringn(rej->detail, strnlen(rej->detail, sizeof(rej->detail))));
	json_object_set_new(doc, "topic", topic_json(topic));
	json_object_set_new(doc, "received_at", json_string(when));
	json_object_set_new(doc, "payload_len", json_integer((json_int_t)len));
	return doc;
}

enum sw_err sw_ingest_deadletter(const char *topic, const void *payload, size_t len,
				 const struct sw_event_reject *rej, int64_t received_at,
				 struct sw_buf *out)
{
	const unsigned char *p = payload;
	size_t room, n;
	json_t *base, *probe;
	char *text = NULL;
	enum sw_err rc;
	int utf8;

	if (rej == NULL || out == NULL || (payload == NULL && len > 0))
		return SW_EINVAL;
	room = out->max - out->len;
	/* Text: valid UTF-8 (jansson checks) without NUL bytes, which many
	 * JSON readers refuse even escaped (jansson without JSON_ALLOW_NUL). */
	probe = len && !memchr(payload, '\0', len) ? json_stringn(payload, len) : NULL;
	utf8 = len == 0 || probe != NULL;
	json_decref(probe);
	base = deadletter_base(topic, len, rej, received_at);
	/* Whole payload first; else halve it until the letter fits. */
	for (n = len;; n /= 2) {
		size_t cut = utf8 ? utf8_cut(p, n, len) : n;

		if ((text = deadletter_doc(base, p, cut, len, utf8, room)) != NULL || n == 0)
			break;
	}
	json_decref(base);
	if (text == NULL)
		return SW_ETOOBIG;
	rc = sw_buf_adds(out, text);
	free(text);
	return rc;
}
