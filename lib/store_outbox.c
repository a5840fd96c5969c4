/*
 * store_outbox.c - the SQLite store's alerts, notification outbox and
 * unsubscribes, and what the alert engine keeps beside them (suppression,
 * daily cap, courier health) (split from store.c; the design notes are
 * there).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/clock.h"
#include "lib/store.h"
#define SW_STORE_INT_SHORT_NAMES /* stmt(), run(), b_text(), ... */
#include "lib/store_int.h"
#include "lib/xmalloc.h"

#define OUTBOX_COLS SW_STORE_OUTBOX_COLS

/* The statements of this file, cached in the handle (store_int.h). */
/* A claim (WITH due AS MATERIALIZED (SELECT ... LIMIT) UPDATE ... WHERE
 * id IN due) taken by two connections at once: on PostgreSQL the second
 * skips the rows the first has locked (SQLite has one writer at a time),
 * and a row it waited on is judged again by the outer WHERE, which a row
 * claimed meanwhile (its next_attempt_at now the claimer's lease end) no
 * longer meets.  The rows are chosen in a materialized WITH, run once:
 * as an IN (SELECT ... LIMIT ... FOR UPDATE SKIP LOCKED) PostgreSQL may
 * run the select again for each row of a nested-loop semi join, each run
 * skipping the rows the statement itself has updated so far, and the
 * claim took every due row whatever the limit.  MATERIALIZED: SQLite >=
 * 3.35 and PostgreSQL >= 12 take it. */
#define CLAIM_SKIP_LOCKED "/*pg: FOR UPDATE SKIP LOCKED */"
#define CLAIM_STILL_DUE	  "state IN ('queued', 'deferred', 'sending') AND next_attempt_at <= :now"

static const char *const stmt_sql[ST_LAST] = {
    [ST_ALERT_INSERT] = "INSERT INTO alerts (entity, kind, promise, stage, stage_ratio, "
			"detected_at) VALUES (:entity, :kind, :promise, :stage, :ratio, :at) "
			"ON CONFLICT (entity, kind, promise) DO NOTHING RETURNING id",
    [ST_ALERT_ID] = "SELECT id FROM alerts WHERE entity = :entity AND "
		    "kind = :kind AND promise = :promise",
    [ST_OUTBOX_INSERT] = "INSERT INTO outbox (entity, slip_kind, promise, channel, "
			 "recipient, subject, body, template_name, template_vars, "
			 "next_attempt_at, created_at, grp, receiver) VALUES (:entity, :kind, "
			 ":promise, :channel, :recipient, :subject, :body, :template, :vars, "
			 ":next, :now, :grp, :receiver) ON CONFLICT (entity, slip_kind, promise) "
			 "DO NOTHING RETURNING id",
    [ST_OUTBOX_ID] = "SELECT id FROM outbox WHERE entity = :entity AND "
		     "slip_kind = :kind AND promise = :promise",
    [ST_OUTBOX_CLAIM] = "WITH due AS MATERIALIZED (SELECT id FROM outbox "
			"WHERE state IN ('queued', 'deferred', 'sending') AND "
			"receiver IS NULL AND next_attempt_at <= :now ORDER BY next_attempt_at, id "
			"LIMIT :limit " CLAIM_SKIP_LOCKED ") "
			"UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
			"next_attempt_at = :lease_end WHERE id IN (SELECT id FROM due) AND "
			CLAIM_STILL_DUE " RETURNING " OUTBOX_COLS,
    [ST_OUTBOX_GET] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id = :id",
    [ST_OUTBOX_SENT] = "UPDATE outbox SET state = 'sent', sent_at = :at, "
		       "smtp_response = :response, last_error = NULL "
		       "WHERE id = :id AND state = 'sending'",
    [ST_OUTBOX_DEFER] = "UPDATE outbox SET state = 'deferred', "
			"next_attempt_at = :next, last_error = :error "
			"WHERE id = :id AND state = 'sending'",
    [ST_OUTBOX_FAIL] = "UPDATE outbox SET state = 'failed', "
		       "last_error = :error WHERE id = :id AND "
		       "state = 'sending'",
    [ST_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE state = :state",
    [ST_UNSUB_ADD] = "INSERT INTO unsubscribes (email, added_at, reason) "
		     "VALUES (:email, :now, :reason) ON CONFLICT DO NOTHING",
    [ST_UNSUB_DEL] = "DELETE FROM unsubscribes WHERE email = :email",
    [ST_UNSUB_CHECK] = "SELECT 1 FROM unsubscribes WHERE email = :email",
    [ST_UNSUB_LIST] = "SELECT email, added_at, reason FROM unsubscribes "
		      "ORDER BY added_at, email",
    [ST_OUTBOX_SUPPRESS] = "UPDATE outbox SET state = 'suppressed', last_error = :error "
			   "WHERE id = :id AND state IN ('queued', 'deferred', 'sending')",
    [ST_OUTBOX_OBSOLETE] = "UPDATE outbox SET state = 'obsolete', last_error = :error "
			   "WHERE id = :id AND state IN ('queued', 'deferred', 'sending')",
    [ST_OUTBOX_OBSOLETE_KEY] = "UPDATE outbox SET state = 'obsolete', last_error = :error "
			       "WHERE entity = :entity AND slip_kind = :kind AND "
			       "promise = :promise AND state IN ('queued', 'deferred')",
    [ST_OUTBOX_GET_KEY] = "SELECT " OUTBOX_COLS " FROM outbox WHERE entity = :entity AND "
			  "slip_kind = :kind AND promise = :promise",
    [ST_OUTBOX_CLAIM_GROUP] = "UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
			      "next_attempt_at = :lease_end WHERE grp = :grp AND "
			      "channel = :channel AND state IN ('queued', 'deferred') AND "
			      "next_attempt_at <= :before RETURNING " OUTBOX_COLS,
    [ST_OUTBOX_MERGED] = "UPDATE outbox SET state = 'merged', sent_at = :at, "
			 "smtp_response = :response, last_error = NULL "
			 "WHERE id = :id AND state = 'sending'",
    [ST_ALERT_OPEN] = "SELECT kind, promise, stage, coalesce(stage_ratio, 0), detected_at "
		      "FROM alerts WHERE entity = :entity AND resolved_at IS NULL ORDER BY id",
    [ST_OUTBOX_SENT_SINCE] = "SELECT count(*) FROM outbox WHERE recipient = :recipient "
			     "AND state = 'sent' AND sent_at >= :since",
    [ST_HEALTH_OK] = "INSERT INTO courier_health (courier, last_ok_at) VALUES (:courier, :at) "
		     "ON CONFLICT (courier) DO UPDATE SET last_ok_at = "
		     "max(coalesce(last_ok_at, 0), excluded.last_ok_at)",
    [ST_HEALTH_FAIL] = "INSERT INTO courier_health (courier, last_fail_at, last_error) "
		       "VALUES (:courier, :at, :error) ON CONFLICT (courier) DO UPDATE SET "
		       "last_fail_at = max(coalesce(last_fail_at, 0), excluded.last_fail_at), "
		       "last_error = excluded.last_error",
    [ST_HEALTH_GET] = "SELECT coalesce(last_ok_at, 0), coalesce(last_fail_at, 0) "
		      "FROM courier_health WHERE courier = :courier",
    [ST_ALERT_EXISTS] = "SELECT count(*) FROM alerts WHERE entity = :entity AND "
			"kind = :kind AND promise = :promise",
    /* :keep is ",kind,kind," (fixed SQL whatever the list) */
    [ST_ALERT_RESOLVE] = "UPDATE alerts SET resolved_at = :now WHERE entity = :entity AND "
			 "resolved_at IS NULL AND instr(:keep, ',' || kind || ',') = 0",
    [ST_ALERT_REOPEN] = "UPDATE alerts SET resolved_at = NULL WHERE id = :id AND "
			"resolved_at IS NOT NULL",
};

/* ---- alerts ------------------------------------------------------------ */

enum sw_err sw_store_alert_record(struct sw_store *st, const struct sw_alert *a, int64_t *ret_id)
{
	const char *promise = a->promise ? a->promise : "";
	struct sw_db_stmt *s;
	enum sw_err rc;
	int64_t id;
	int found;

	if (!nonempty(a->entity) || !nonempty(a->kind) || a->detected_at < 0)
		return set_err(st, SW_EINVAL, "alert: entity and kind are required");
	if (!isfinite(a->stage_ratio) || a->stage_ratio < 0)
		return set_err(st, SW_EINVAL, "alert %s %s: stage_ratio %g is not a ratio",
			       a->entity, a->kind, a->stage_ratio);
	if (!(s = stmt(st, ST_ALERT_INSERT)))
		return SW_ESTORE;
	if (b_text(s, ":entity", a->entity) | b_text(s, ":kind", a->kind) |
	    b_text(s, ":promise", promise) | b_text(s, ":stage", a->stage) |
	    b_ratio(s, ":ratio", a->stage_ratio) |
	    b_int(s, ":at", a->detected_at ? a->detected_at : sw_clock_now()))
		return bind_failed(st, s);
	if ((rc = query_int(st, s, "alert record", &id, &found)))
		return rc;
	if (found) {
		if (ret_id)
			*ret_id = id;
		return SW_OK;
	}
	if (!(s = stmt(st, ST_ALERT_ID)))
		return SW_ESTORE;
	if (b_text(s, ":entity", a->entity) | b_text(s, ":kind", a->kind) |
	    b_text(s, ":promise", promise))
		return bind_failed(st, s);
	if ((rc = existing_id(st, s, "alert record", &id)) != SW_EDUP)
		return rc;
	if (ret_id)
		*ret_id = id;
	/* seen again: open again if it had been resolved */
	if (!(s = stmt(st, ST_ALERT_REOPEN)))
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	return (rc = run(st, s, "alert reopen")) ? rc : SW_EDUP;
}

enum sw_err sw_store_alert_resolve(struct sw_store *st, const char *entity, const char *keep,
				   int64_t now, int *ret_resolved)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (ret_resolved)
		*ret_resolved = 0;
	if (!nonempty(entity) || now <= 0)
		return set_err(st, SW_EINVAL, "alert resolve: entity and time are required");
	if (!(s = stmt(st, ST_ALERT_RESOLVE)))
		return SW_ESTORE;
	if (b_text(s, ":entity", entity) | b_text(s, ":keep", keep ? keep : ",") |
	    b_int(s, ":now", now))
		return bind_failed(st, s);
	rc = run(st, s, "alert resolve");
	if (rc == SW_OK && ret_resolved)
		*ret_resolved = sw_db_changes(st->db);
	return rc;
}

/* ---- outbox ------------------------------------------------------------ */

static enum sw_err outbox_check(struct sw_store *st, const struct sw_outbox_msg *m)
{
	if (!nonempty(m->entity) || !nonempty(m->slip_kind) || !nonempty(m->channel) ||
	    !nonempty(m->recipient))
		return set_err(st, SW_EINVAL,
			       "outbox: entity, slip kind, "
			       "channel and recipient are required");
	if (!m->body && !m->template_name)
		return set_err(st, SW_EINVAL, "outbox: a body or a template is required");
	if (m->next_attempt_at < 0)
		return set_err(st, SW_ERANGE, "outbox: negative next attempt");
	return SW_OK;
}

enum sw_err sw_store_outbox_enqueue(struct sw_store *st, const struct sw_outbox_msg *m,
				    int64_t *ret_id)
{
	const char *promise = m->promise ? m->promise : "";
	int64_t now = sw_clock_now(), id;
	struct sw_db_stmt *s;
	enum sw_err rc;
	int found;

	if ((rc = outbox_check(st, m)))
		return rc;
	if (!(s = stmt(st, ST_OUTBOX_INSERT)))
		return SW_ESTORE;
	if (b_text(s, ":entity", m->entity) | b_text(s, ":kind", m->slip_kind) |
	    b_text(s, ":promise", promise) | b_text(s, ":channel", m->channel) |
	    b_text(s, ":recipient", m->recipient) | b_text(s, ":subject", m->subject) |
	    b_text(s, ":body", m->body) | b_text(s, ":template", m->template_name) |
	    b_text(s, ":vars", m->template_vars) |
	    b_int(s, ":next", m->next_attempt_at ? m->next_attempt_at : now) |
	    b_int(s, ":now", m->created_at > 0 ? m->created_at : now) |
	    b_text(s, ":grp", m->grp) | b_text(s, ":receiver", m->receiver))
		return bind_failed(st, s);
	if ((rc = query_int(st, s, "outbox enqueue", &id, &found)))
		return rc;
	if (found) {
		if (ret_id)
			*ret_id = id;
		return SW_OK;
	}
	if (!(s = stmt(st, ST_OUTBOX_ID)))
		return SW_ESTORE;
	if (b_text(s, ":entity", m->entity) | b_text(s, ":kind", m->slip_kind) |
	    b_text(s, ":promise", promise))
		return bind_failed(st, s);
	return existing_id(st, s, "outbox enqueue", ret_id);
}

static void outbox_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_outbox_msg *m = elem;
	int state;

	m->id = sw_db_column_int64(s, 0);
	m->entity = col_str(s, 1);
	m->slip_kind = col_str(s, 2);
	m->promise = col_str(s, 3);
	m->channel = col_str(s, 4);
	m->recipient = col_str(s, 5);
	m->subject = col_str(s, 6);
	m->body = col_str(s, 7);
	m->template_name = col_str(s, 8);
	m->template_vars = col_str(s, 9);
	m->next_attempt_at = sw_db_column_int64(s, 10);
	state = name_index(outbox_names, SW_OUTBOX_LAST, (const char *)sw_db_column_text(s, 11));
	m->state = (enum sw_outbox_state)state;
	m->attempts = sw_db_column_int(s, 12);
	m->last_error = col_str(s, 13);
	m->created_at = sw_db_column_int64(s, 14);
	m->sent_at = sw_db_column_int64(s, 15);
	m->smtp_response = col_str(s, 16);
	m->grp = col_str(s, 17);
	m->receiver = col_str(s, 18);
}

void sw_store_int_outbox_fill(struct sw_db_stmt *s, struct sw_outbox_msg *m)
{
	outbox_fill(s, m);
}

static void outbox_free_v(void *arr, size_t n)
{
	sw_store_outbox_free(arr, n);
}

static int outbox_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct sw_outbox_msg *)a)->id;
	int64_t y = ((const struct sw_outbox_msg *)b)->id;

	return (x > y) - (x < y);
}

enum sw_err sw_store_outbox_claim(struct sw_store *st, int64_t now, int lease_s, int limit,
				  struct sw_outbox_msg **ret_msgs, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *arr;
	enum sw_err rc;

	*ret_msgs = NULL;
	*ret_n = 0;
	if ((rc = check_limit(st, limit)))
		return rc;
	if (lease_s <= 0 || now < 0)
		return set_err(st, SW_ERANGE, "outbox claim: bad lease or time");
	if (!(s = stmt(st, ST_OUTBOX_CLAIM)))
		return SW_ESTORE;
	if (b_int(s, ":now", now) | b_int(s, ":lease_end", now + lease_s) |
	    b_int(s, ":limit", limit))
		return bind_failed(st, s);
	rc = list_rows(st, s, "outbox claim", sizeof(struct sw_outbox_msg), outbox_fill,
		       outbox_free_v, &arr, ret_n);
	if (rc == SW_OK && *ret_n > 1)
		qsort(arr, *ret_n, sizeof(struct sw_outbox_msg), outbox_cmp);
	*ret_msgs = arr;
	return rc;
}

/* Runs one of the mark statements; SW_ENOTFOUND if the row is not sending. */
static enum sw_err outbox_mark(struct sw_store *st, struct sw_db_stmt *s, int64_t id)
{
	enum sw_err rc = run(st, s, "outbox mark");

	if (rc)
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "outbox: message %lld is not being sent",
			       (long long)id);
	return SW_OK;
}

enum sw_err sw_store_outbox_mark_sent(struct sw_store *st, int64_t id, int64_t sent_at,
				      const char *response)
{
	struct sw_db_stmt *s = stmt(st, ST_OUTBOX_SENT);

	if (!s)
		return SW_ESTORE;
	if (b_int(s, ":id", id) | b_int(s, ":at", sent_at) | b_text(s, ":response", response))
		return bind_failed(st, s);
	return outbox_mark(st, s, id);
}

enum sw_err sw_store_outbox_mark_deferred(struct sw_store *st, int64_t id, int64_t next_attempt_at,
					  const char *error)
{
	struct sw_db_stmt *s = stmt(st, ST_OUTBOX_DEFER);

	if (!s)
		return SW_ESTORE;
	if (b_int(s, ":id", id) | b_int(s, ":next", next_attempt_at) | b_text(s, ":error", error))
		return bind_failed(st, s);
	return outbox_mark(st, s, id);
}

enum sw_err sw_store_outbox_mark_failed(struct sw_store *st, int64_t id, const char *error)
{
	struct sw_db_stmt *s = stmt(st, ST_OUTBOX_FAIL);

	if (!s)
		return SW_ESTORE;
	if (b_int(s, ":id", id) | b_text(s, ":error", error))
		return bind_failed(st, s);
	return outbox_mark(st, s, id);
}

enum sw_err sw_store_outbox_get(struct sw_store *st, int64_t id, struct sw_outbox_msg **ret_msg)
{
	struct sw_db_stmt *s = stmt(st, ST_OUTBOX_GET);
	void *arr;
	size_t n;
	enum sw_err rc;

	*ret_msg = NULL;
	if (!s)
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	rc = list_rows(st, s, "outbox get", sizeof(struct sw_outbox_msg), outbox_fill,
		       outbox_free_v, &arr, &n);
	if (rc)
		return rc;
	if (n == 0)
		return set_err(st, SW_ENOTFOUND, "outbox: no message %lld", (long long)id);
	*ret_msg = arr;
	return SW_OK;
}

enum sw_err sw_store_outbox_count(struct sw_store *st, enum sw_outbox_state state,
				  int64_t *ret_count)
{
	struct sw_db_stmt *s;

	*ret_count = 0;
	if ((unsigned)state >= SW_OUTBOX_LAST)
		return set_err(st, SW_EINVAL, "outbox count: bad state");
	if (!(s = stmt(st, ST_OUTBOX_COUNT)))
		return SW_ESTORE;
	if (b_text(s, ":state", outbox_names[state]))
		return bind_failed(st, s);
	return query_int(st, s, "outbox count", ret_count, NULL);
}

void sw_store_outbox_free(struct sw_outbox_msg *msgs, size_t n)
{
	size_t i;

	for (i = 0; msgs && i < n; i++) {
		struct sw_outbox_msg *m = &msgs[i];

		free((char *)m->entity);
		free((char *)m->slip_kind);
		free((char *)m->promise);
		free((char *)m->channel);
		free((char *)m->recipient);
		free((char *)m->subject);
		free((char *)m->body);
		free((char *)m->template_name);
		free((char *)m->template_vars);
		free((char *)m->grp);
		free((char *)m->receiver);
		free((char *)m->last_error);
		free((char *)m->smtp_response);
	}
	free(msgs);
}

/* ---- unsubscribes ------------------------------------------------------ */

/* Runs a keyed statement on email; *ret_changes gets sqlite3_changes. */
static enum sw_err unsub_run(struct sw_store *st, enum stmt_id id, const char *email,
			     const char *reason, int *ret_changes)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (!nonempty(email))
		return set_err(st, SW_EINVAL, "unsubscribe: empty address");
	if (!(s = stmt(st, id)))
		return SW_ESTORE;
	if (b_text(s, ":email", email) ||
	    (id == ST_UNSUB_ADD &&
	     (b_text(s, ":reason", reason) | b_int(s, ":now", sw_clock_now()))))
		return bind_failed(st, s);
	if ((rc = run(st, s, "unsubscribe")))
		return rc;
	*ret_changes = sw_db_changes(st->db);
	return SW_OK;
}

enum sw_err sw_store_unsub_add(struct sw_store *st, const char *email, const char *reason)
{
	int changes = 0;
	enum sw_err rc = unsub_run(st, ST_UNSUB_ADD, email, reason, &changes);

	if (rc == SW_OK && changes == 0)
		return SW_EDUP;
	return rc;
}

enum sw_err sw_store_unsub_remove(struct sw_store *st, const char *email)
{
	int changes = 0;
	enum sw_err rc = unsub_run(st, ST_UNSUB_DEL, email, NULL, &changes);

	if (rc == SW_OK && changes == 0)
		return set_err(st, SW_ENOTFOUND, "unsubscribe: not listed");
	return rc;
}

enum sw_err sw_store_unsub_check(struct sw_store *st, const char *email, int *ret_unsubscribed)
{
	struct sw_db_stmt *s;
	int64_t one;

	*ret_unsubscribed = 0;
	if (!nonempty(email))
		return set_err(st, SW_EINVAL, "unsubscribe: empty address");
	if (!(s = stmt(st, ST_UNSUB_CHECK)))
		return SW_ESTORE;
	if (b_text(s, ":email", email))
		return bind_failed(st, s);
	return query_int(st, s, "unsubscribe check", &one, ret_unsubscribed);
}

static void unsub_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_unsub *u = elem;

	u->email = col_str(s, 0);
	u->added_at = sw_db_column_int64(s, 1);
	u->reason = col_str(s, 2);
}

static void unsub_free_v(void *arr, size_t n)
{
	sw_store_unsub_free(arr, n);
}

enum sw_err sw_store_unsub_list(struct sw_store *st, struct sw_unsub **ret_list, size_t *ret_n)
{
	void *list;
	enum sw_err rc = list_all(st, ST_UNSUB_LIST, "unsubscribe list", sizeof(struct sw_unsub),
				  unsub_fill, unsub_free_v, &list, ret_n);

	*ret_list = list;
	return rc;
}

void sw_store_unsub_free(struct sw_unsub *list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++) {
		free((char *)list[i].email);
		free((char *)list[i].reason);
	}
	free(list);
}

/* ---- alert engine: suppression, daily cap, courier health ------------- */

enum sw_err sw_store_outbox_mark_suppressed(struct sw_store *st, int64_t id, const char *reason)
{
	struct sw_db_stmt *s = stmt(st, ST_OUTBOX_SUPPRESS);

	if (!s)
		return SW_ESTORE;
	if (b_int(s, ":id", id) | b_text(s, ":error", reason))
		return bind_failed(st, s);
	return outbox_mark(st, s, id);
}

enum sw_err sw_store_outbox_sent_since(struct sw_store *st, const char *recipient, int64_t since,
				       int64_t *ret_count)
{
	struct sw_db_stmt *s;

	*ret_count = 0;
	if (!nonempty(recipient))
		return set_err(st, SW_EINVAL, "outbox: empty recipient");
	if (!(s = stmt(st, ST_OUTBOX_SENT_SINCE)))
		return SW_ESTORE;
	if (b_text(s, ":recipient", recipient) | b_int(s, ":since", since))
		return bind_failed(st, s);
	return query_int(st, s, "outbox sent count", ret_count, NULL);
}

/* The cached statement id with :entity, :kind and :promise (NULL = "")
 * bound into *ret_s, for the calls keyed by a slip.  SW_OK, SW_EINVAL
 * (entity or kind empty), SW_ESTORE. */
static enum sw_err slip_key_stmt(struct sw_store *st, enum stmt_id id, const char *entity,
				 const char *kind, const char *promise, struct sw_db_stmt **ret_s)
{
	struct sw_db_stmt *s;

	if (!nonempty(entity) || !nonempty(kind))
		return set_err(st, SW_EINVAL, "entity and kind are required");
	if (!(s = stmt(st, id)))
		return SW_ESTORE;
	if (b_text(s, ":entity", entity) | b_text(s, ":kind", kind) |
	    b_text(s, ":promise", promise ? promise : ""))
		return bind_failed(st, s);
	*ret_s = s;
	return SW_OK;
}

enum sw_err sw_store_outbox_mark_obsolete(struct sw_store *st, int64_t id, const char *reason)
{
	struct sw_db_stmt *s = stmt(st, ST_OUTBOX_OBSOLETE);

	if (!s)
		return SW_ESTORE;
	if (b_int(s, ":id", id) | b_text(s, ":error", reason))
		return bind_failed(st, s);
	return outbox_mark(st, s, id);
}

enum sw_err sw_store_outbox_obsolete_key(struct sw_store *st, const char *entity,
					 const char *kind, const char *promise,
					 const char *reason, int *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (ret_n)
		*ret_n = 0;
	if ((rc = slip_key_stmt(st, ST_OUTBOX_OBSOLETE_KEY, entity, kind, promise, &s)))
		return rc;
	if (b_text(s, ":error", reason))
		return bind_failed(st, s);
	rc = run(st, s, "outbox obsolete");
	if (rc == SW_OK && ret_n)
		*ret_n = sw_db_changes(st->db);
	return rc;
}

enum sw_err sw_store_outbox_get_key(struct sw_store *st, const char *entity, const char *kind,
				    const char *promise, struct sw_outbox_msg **ret_msg)
{
	struct sw_db_stmt *s;
	void *arr;
	size_t n;
	enum sw_err rc;

	*ret_msg = NULL;
	if ((rc = slip_key_stmt(st, ST_OUTBOX_GET_KEY, entity, kind, promise, &s)))
		return rc;
	rc = list_rows(st, s, "outbox get", sizeof(struct sw_outbox_msg), outbox_fill,
		       outbox_free_v, &arr, &n);
	if (rc)
		return rc;
	if (n == 0)
		return SW_ENOTFOUND;
	*ret_msg = arr;
	return SW_OK;
}

enum sw_err sw_store_outbox_claim_group(struct sw_store *st, const char *grp,
					const char *channel, int64_t before, int64_t lease_end,
					struct sw_outbox_msg **ret_msgs, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *arr;
	enum sw_err rc;

	*ret_msgs = NULL;
	*ret_n = 0;
	if (!nonempty(grp) || !nonempty(channel))
		return set_err(st, SW_EINVAL, "outbox: group and channel are required");
	if (!(s = stmt(st, ST_OUTBOX_CLAIM_GROUP)))
		return SW_ESTORE;
	if (b_text(s, ":grp", grp) | b_text(s, ":channel", channel) |
	    b_int(s, ":before", before) | b_int(s, ":lease_end", lease_end))
		return bind_failed(st, s);
	rc = list_rows(st, s, "outbox claim group", sizeof(struct sw_outbox_msg), outbox_fill,
		       outbox_free_v, &arr, ret_n);
	if (rc == SW_OK && *ret_n > 1)
		qsort(arr, *ret_n, sizeof(struct sw_outbox_msg), outbox_cmp);
	*ret_msgs = arr;
	return rc;
}

enum sw_err sw_store_outbox_mark_merged(struct sw_store *st, int64_t id, int64_t into_id,
					int64_t at)
{
	struct sw_db_stmt *s = stmt(st, ST_OUTBOX_MERGED);
	char why[64];

	if (!s)
		return SW_ESTORE;
	snprintf(why, sizeof(why), "sent in message %lld", (long long)into_id);
	if (b_int(s, ":id", id) | b_int(s, ":at", at) | b_text(s, ":response", why))
		return bind_failed(st, s);
	return outbox_mark(st, s, id);
}

static void open_alert_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_alert *a = elem;

	a->kind = col_str(s, 0);
	a->promise = col_str(s, 1);
	a->stage = col_str(s, 2);
	a->stage_ratio = sw_db_column_double(s, 3);
	a->detected_at = sw_db_column_int64(s, 4);
}

void sw_store_alert_free(struct sw_alert *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free((char *)list[i].entity);
		free((char *)list[i].kind);
		free((char *)list[i].promise);
		free((char *)list[i].stage);
	}
	free(list);
}

static void open_alert_free_v(void *arr, size_t n)
{
	sw_store_alert_free(arr, n);
}

enum sw_err sw_store_alert_open(struct sw_store *st, const char *entity,
				struct sw_alert **ret_list, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *arr;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if (!nonempty(entity))
		return set_err(st, SW_EINVAL, "alerts: entity is required");
	if (!(s = stmt(st, ST_ALERT_OPEN)))
		return SW_ESTORE;
	if (b_text(s, ":entity", entity))
		return bind_failed(st, s);
	rc = list_rows(st, s, "open alerts", sizeof(struct sw_alert), open_alert_fill,
		       open_alert_free_v, &arr, ret_n);
	*ret_list = arr;
	return rc;
}

enum sw_err sw_store_courier_health_note(struct sw_store *st, const char *courier, int ok,
					 int64_t at, const char *error)
{
	struct sw_db_stmt *s;

	if (!nonempty(courier) || at <= 0)
		return set_err(st, SW_EINVAL, "courier health: courier and time are required");
	if (!(s = stmt(st, ok ? ST_HEALTH_OK : ST_HEALTH_FAIL)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_int(s, ":at", at) |
	    (ok ? 0 : b_text(s, ":error", error)))
		return bind_failed(st, s);
	return run(st, s, "courier health");
}

enum sw_err sw_store_courier_health_get(struct sw_store *st, const char *courier,
					int64_t *ret_last_ok, int64_t *ret_last_fail)
{
	struct sw_db_stmt *s;
	int rc;

	*ret_last_ok = *ret_last_fail = 0;
	if (!nonempty(courier))
		return set_err(st, SW_EINVAL, "courier health: empty courier");
	if (!(s = stmt(st, ST_HEALTH_GET)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier))
		return bind_failed(st, s);
	rc = sw_db_step(s);
	if (rc == SW_DB_ROW) {
		*ret_last_ok = sw_db_column_int64(s, 0);
		*ret_last_fail = sw_db_column_int64(s, 1);
		stmt_done(s);
		return SW_OK;
	}
	stmt_done(s);
	if (rc != SW_DB_DONE)
		return db_err(st, "courier health");
	return SW_ENOTFOUND;
}

enum sw_err sw_store_alert_exists(struct sw_store *st, const char *entity, const char *kind,
				  const char *promise, int *ret_exists)
{
	struct sw_db_stmt *s;
	int64_t n = 0;
	enum sw_err rc;

	*ret_exists = 0;
	if ((rc = slip_key_stmt(st, ST_ALERT_EXISTS, entity, kind, promise, &s)))
		return rc;
	rc = query_int(st, s, "alert exists", &n, NULL);
	*ret_exists = n > 0;
	return rc;
}
