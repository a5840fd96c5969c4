/*
 * store_pages.c - the SQLite side of the pages half of store_pages.h: one
 * row per ops rule and subject, and the page rows of the outbox.
 *
 * Design:
 * - A file of its own, like store_report.c: statements are prepared per
 *   call (a few hundred pages per evaluation at most, nothing on the
 *   ingest path), using only what store_int.h shares.
 * - A page is written whole (sw_store_page_put): the engine is its only
 *   writer and always holds the row it read, so there is nothing to merge.
 *   The CLI writes acks and silences (store_silence.c), never this table.
 * - The page claim takes, for each page and receiver, only the oldest row
 *   still waiting: a resolve queued while its trigger is deferred waits
 *   for the trigger (index outbox_page walks a page's rows in id order).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"

/* ---- names ------------------------------------------------------------------ */

static const char *const state_names[SW_PAGE_STATE_LAST] = {"ok", "pending", "firing", "nodata"};
static const char *const sev_names[SW_SEV_LAST] = {"none", "warning", "critical"};

const char *sw_page_state_name(enum sw_page_state s)
{
	return (unsigned)s < SW_PAGE_STATE_LAST ? state_names[s] : "?";
}

int sw_page_state_parse(const char *s)
{
	for (int i = 0; s && i < SW_PAGE_STATE_LAST; i++)
		if (strcmp(state_names[i], s) == 0)
			return i;
	return -1;
}

const char *sw_page_severity_name(int sev)
{
	return sev >= 0 && sev < SW_SEV_LAST ? sev_names[sev] : "?";
}

/* ---- helpers ------------------------------------------------------------------ */

#define prep sw_store_int_prepare

#define bind_text sw_store_int_bind_text
#define bind_int sw_store_int_bind_int

/* ---- pages --------------------------------------------------------------------- */

#define PAGE_COLS                                                                                  \
	"id, rule, subject, labels, state, severity, value, summary, figures, "                     \
	"state_since, active_since, firing_since, incident, evaluated_at, "                        \
	"notified_state, notified_severity, notified_incident, notified_at, "                      \
	"first_notified_at, notify_seq, receiver, escalated_to, escalated_at, "                    \
	"ack_notified, flap_start, flap_changes"

static const char page_insert_sql[] =
    "INSERT INTO pages (rule, subject, labels, state, severity, value, summary, figures,"
    " state_since, active_since, firing_since, incident, evaluated_at, notified_state,"
    " notified_severity, notified_incident, notified_at, first_notified_at, notify_seq,"
    " receiver, escalated_to, escalated_at, ack_notified, flap_start, flap_changes)"
    " VALUES (:rule, :subject, :labels, :state, :severity, :value, :summary, :figures,"
    " :state_since, :active_since, :firing_since, :incident, :evaluated_at, :nstate,"
    " :nsev, :nincident, :nat, :nfirst, :nseq, :receiver, :escalated_to, :escalated_at,"
    " :ack_notified, :flap_start, :flap_changes)"
    " ON CONFLICT (rule, subject) DO NOTHING RETURNING id";

static const char page_update_sql[] =
    "UPDATE pages SET labels = :labels, state = :state, severity = :severity,"
    " value = :value, summary = :summary, figures = :figures, state_since = :state_since,"
    " active_since = :active_since, firing_since = :firing_since, incident = :incident,"
    " evaluated_at = :evaluated_at, notified_state = :nstate, notified_severity = :nsev,"
    " notified_incident = :nincident, notified_at = :nat, first_notified_at = :nfirst,"
    " notify_seq = :nseq, receiver = :receiver, escalated_to = :escalated_to,"
    " escalated_at = :escalated_at, ack_notified = :ack_notified,"
    " flap_start = :flap_start, flap_changes = :flap_changes"
    " WHERE id = :id AND rule = :rule AND subject = :subject";

static bool page_valid(const struct sw_page *p)
{
	return p && p->rule && *p->rule && p->subject && p->labels &&
	       (unsigned)p->state < SW_PAGE_STATE_LAST &&
	       (unsigned)p->notified_state < SW_PAGE_STATE_LAST && p->severity >= 0 &&
	       p->severity < SW_SEV_LAST && p->notified_severity >= 0 &&
	       p->notified_severity < SW_SEV_LAST;
}

static int page_bind(struct sw_db_stmt *s, const struct sw_page *p)
{
	int i = sw_db_bind_parameter_index(s, ":value");

	return bind_text(s, ":rule", p->rule) | bind_text(s, ":subject", p->subject) |
	       bind_text(s, ":labels", p->labels) |
	       bind_text(s, ":state", sw_page_state_name(p->state)) |
	       bind_int(s, ":severity", p->severity) |
	       (p->has_value ? sw_db_bind_double(s, i, p->value) : sw_db_bind_null(s, i)) |
	       bind_text(s, ":summary", p->summary) | bind_text(s, ":figures", p->figures) |
	       bind_int(s, ":state_since", p->state_since) |
	       bind_int(s, ":active_since", p->active_since) |
	       bind_int(s, ":firing_since", p->firing_since) |
	       bind_int(s, ":incident", p->incident) |
	       bind_int(s, ":evaluated_at", p->evaluated_at) |
	       bind_text(s, ":nstate", sw_page_state_name(p->notified_state)) |
	       bind_int(s, ":nsev", p->notified_severity) |
	       bind_int(s, ":nincident", p->notified_incident) |
	       bind_int(s, ":nat", p->notified_at) | bind_int(s, ":nfirst", p->first_notified_at) |
	       bind_int(s, ":nseq", p->notify_seq) | bind_text(s, ":receiver", p->receiver) |
	       bind_text(s, ":escalated_to", p->escalated_to) |
	       bind_int(s, ":escalated_at", p->escalated_at) |
	       bind_int(s, ":ack_notified", p->ack_notified) |
	       bind_int(s, ":flap_start", p->flap_start) |
	       bind_int(s, ":flap_changes", p->flap_changes);
}

enum sw_err sw_store_page_put(struct sw_store *st, const struct sw_page *p, int64_t *ret_id)
{
	bool insert = p && p->id == 0;
	struct sw_db_stmt *s;
	enum sw_err rc = SW_OK;
	int r;

	if (!page_valid(p))
		return sw_store_int_err(st, SW_EINVAL, "page put: incomplete page");
	if (!(s = prep(st, insert ? page_insert_sql : page_update_sql, "page put")))
		return SW_ESTORE;
	if (page_bind(s, p) != SW_DB_OK || (!insert && bind_int(s, ":id", p->id) != SW_DB_OK)) {
		rc = sw_store_int_dberr(st, "page put (bind)");
		goto out;
	}
	r = sw_db_step(s);
	if (insert && r == SW_DB_ROW) {
		if (ret_id)
			*ret_id = sw_db_column_int64(s, 0);
		r = sw_db_step(s);
	} else if (insert && r == SW_DB_DONE) {
		rc = sw_store_int_err(st, SW_EDUP, "page %s %s exists", p->rule, p->subject);
		goto out;
	}
	if (r != SW_DB_DONE)
		rc = sw_store_int_dberr(st, "page put");
	else if (!insert && sw_db_changes(sw_store_int_db(st)) == 0)
		rc = sw_store_int_err(st, SW_ENOTFOUND, "page %lld (%s %s) not found",
				      (long long)p->id, p->rule, p->subject);
	else if (!insert && ret_id)
		*ret_id = p->id;
out:
	sw_db_finalize(s);
	return rc;
}

static void page_fill(struct sw_db_stmt *s, struct sw_page *p)
{
	int v;

	memset(p, 0, sizeof(*p));
	p->id = sw_db_column_int64(s, 0);
	p->rule = sw_store_int_col_str(s, 1);
	p->subject = sw_store_int_col_str(s, 2);
	p->labels = sw_store_int_col_str(s, 3);
	v = sw_page_state_parse((const char *)sw_db_column_text(s, 4));
	p->state = v < 0 ? SW_PAGE_OK : (enum sw_page_state)v;
	p->severity = sw_db_column_int(s, 5);
	p->has_value = sw_db_column_type(s, 6) != SW_DB_NULL;
	p->value = sw_db_column_double(s, 6);
	p->summary = sw_store_int_col_str(s, 7);
	p->figures = sw_store_int_col_str(s, 8);
	p->state_since = sw_db_column_int64(s, 9);
	p->active_since = sw_db_column_int64(s, 10);
	p->firing_since = sw_db_column_int64(s, 11);
	p->incident = sw_db_column_int64(s, 12);
	p->evaluated_at = sw_db_column_int64(s, 13);
	v = sw_page_state_parse((const char *)sw_db_column_text(s, 14));
	p->notified_state = v < 0 ? SW_PAGE_OK : (enum sw_page_state)v;
	p->notified_severity = sw_db_column_int(s, 15);
	p->notified_incident = sw_db_column_int64(s, 16);
	p->notified_at = sw_db_column_int64(s, 17);
	p->first_notified_at = sw_db_column_int64(s, 18);
	p->notify_seq = sw_db_column_int64(s, 19);
	p->receiver = sw_store_int_col_str(s, 20);
	p->escalated_to = sw_store_int_col_str(s, 21);
	p->escalated_at = sw_db_column_int64(s, 22);
	p->ack_notified = sw_db_column_int(s, 23) != 0;
	p->flap_start = sw_db_column_int64(s, 24);
	p->flap_changes = sw_db_column_int(s, 25);
}

/* Runs s (bound) and collects its rows as pages. */
static enum sw_err page_rows(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			     struct sw_page **ret_list, size_t *ret_n)
{
	struct sw_page *arr = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = sw_db_step(s)) == SW_DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			arr = xreallocarray(arr, cap, sizeof(*arr));
		}
		page_fill(s, &arr[n++]);
	}
	if (r != SW_DB_DONE) {
		sw_store_page_free(arr, n);
		return sw_store_int_dberr(st, what);
	}
	*ret_list = arr;
	*ret_n = n;
	return SW_OK;
}

static enum sw_err page_one(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			    struct sw_page **ret_page)
{
	size_t n = 0;
	enum sw_err rc = page_rows(st, s, what, ret_page, &n);

	if (rc == SW_OK && n == 0)
		rc = sw_store_int_err(st, SW_ENOTFOUND, "%s: no such page", what);
	return rc;
}

enum sw_err sw_store_page_get(struct sw_store *st, const char *rule, const char *subject,
			      struct sw_page **ret_page)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_page = NULL;
	if (!rule || !subject)
		return sw_store_int_err(st, SW_EINVAL, "page get: rule and subject needed");
	if (!(s = prep(st, "SELECT " PAGE_COLS " FROM pages WHERE rule = :rule AND"
			   " subject = :subject", "page get")))
		return SW_ESTORE;
	if ((bind_text(s, ":rule", rule) | bind_text(s, ":subject", subject)) != SW_DB_OK)
		rc = sw_store_int_dberr(st, "page get (bind)");
	else
		rc = page_one(st, s, "page get", ret_page);
	sw_db_finalize(s);
	return rc;
}

enum sw_err sw_store_page_get_id(struct sw_store *st, int64_t id, struct sw_page **ret_page)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_page = NULL;
	if (!(s = prep(st, "SELECT " PAGE_COLS " FROM pages WHERE id = :id", "page get")))
		return SW_ESTORE;
	if (bind_int(s, ":id", id) != SW_DB_OK)
		rc = sw_store_int_dberr(st, "page get (bind)");
	else
		rc = page_one(st, s, "page get", ret_page);
	if (rc == SW_ENOTFOUND)
		sw_store_int_err(st, SW_ENOTFOUND, "page %lld: no such page", (long long)id);
	sw_db_finalize(s);
	return rc;
}

enum sw_err sw_store_page_list(struct sw_store *st, bool all, struct sw_page **ret_list,
			       size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if (!(s = prep(st, "SELECT " PAGE_COLS " FROM pages WHERE :all OR state != 'ok' OR"
			   " notified_state != 'ok' ORDER BY id", "page list")))
		return SW_ESTORE;
	if (bind_int(s, ":all", all) != SW_DB_OK)
		rc = sw_store_int_dberr(st, "page list (bind)");
	else
		rc = page_rows(st, s, "page list", ret_list, ret_n);
	sw_db_finalize(s);
	return rc;
}

void sw_store_page_free(struct sw_page *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free((char *)list[i].rule);
		free((char *)list[i].subject);
		free((char *)list[i].labels);
		free((char *)list[i].summary);
		free((char *)list[i].figures);
		free((char *)list[i].receiver);
		free((char *)list[i].escalated_to);
	}
	free(list);
}

/* ---- page rows of the outbox ----------------------------------------------------- */

/*
 * A row is due when it waits (queued, deferred, or sending past its lease)
 * and no older row of the same page and receiver still waits.  The inner
 * EXISTS walks outbox_page; the outer scan walks outbox_page_due.
 */
static const char page_claim_sql[] =
    /* chosen once, in a WITH: see CLAIM_SKIP_LOCKED in store_outbox.c */
    "WITH due AS MATERIALIZED ("
    " SELECT o.id FROM outbox o INDEXED BY outbox_page_due"
    " WHERE o.receiver IS NOT NULL AND o.state IN ('queued', 'deferred', 'sending')"
    "  AND o.next_attempt_at <= :now"
    "  AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.entity = o.entity"
    "   AND e.receiver = o.receiver AND e.id < o.id"
    "   AND e.state IN ('queued', 'deferred', 'sending'))"
    " ORDER BY o.next_attempt_at, o.id LIMIT :limit"
    /* two claims at once on PostgreSQL: see CLAIM_SKIP_LOCKED in store_outbox.c */
    " /*pg: FOR UPDATE OF o SKIP LOCKED */)"
    " UPDATE outbox SET state = 'sending', attempts = attempts + 1,"
    " next_attempt_at = :lease_end WHERE id IN (SELECT id FROM due)"
    " AND state IN ('queued', 'deferred', 'sending') AND next_attempt_at <= :now"
    " RETURNING " SW_STORE_OUTBOX_COLS;

static int msg_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct sw_outbox_msg *)a)->id;
	int64_t y = ((const struct sw_outbox_msg *)b)->id;

	return (x > y) - (x < y);
}

/* Runs s (bound) and collects its rows as outbox messages. */
static enum sw_err msg_rows(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			    struct sw_outbox_msg **ret, size_t *ret_n)
{
	struct sw_outbox_msg *arr = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = sw_db_step(s)) == SW_DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			arr = xreallocarray(arr, cap, sizeof(*arr));
		}
		memset(&arr[n], 0, sizeof(arr[n]));
		sw_store_int_outbox_fill(s, &arr[n++]);
	}
	if (r != SW_DB_DONE) {
		sw_store_outbox_free(arr, n);
		return sw_store_int_dberr(st, what);
	}
	if (n > 1)
		qsort(arr, n, sizeof(*arr), msg_cmp);
	*ret = arr;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_store_page_claim(struct sw_store *st, int64_t now, int lease_s, int limit,
				struct sw_outbox_msg **ret_msgs, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_msgs = NULL;
	*ret_n = 0;
	if (limit < 1 || limit > SW_STORE_MAX_BATCH || lease_s <= 0 || now < 0)
		return sw_store_int_err(st, SW_ERANGE, "page claim: bad limit, lease or time");
	if (!(s = prep(st, page_claim_sql, "page claim")))
		return SW_ESTORE;
	if ((bind_int(s, ":now", now) | bind_int(s, ":lease_end", now + lease_s) |
	     bind_int(s, ":limit", limit)) != SW_DB_OK)
		rc = sw_store_int_dberr(st, "page claim (bind)");
	else
		rc = msg_rows(st, s, "page claim", ret_msgs, ret_n);
	sw_db_finalize(s);
	return rc;
}

/* The entity of page id's rows: "page:ID". */
static void page_entity(int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "page:%lld", (long long)id);
}

enum sw_err sw_store_page_outbox_counts(struct sw_store *st, int64_t page_id,
					int64_t counts[SW_OUTBOX_LAST])
{
	struct sw_db_stmt *s;
	char entity[40];
	enum sw_err rc = SW_OK;
	int r;

	memset(counts, 0, sizeof(int64_t) * SW_OUTBOX_LAST);
	page_entity(page_id, entity, sizeof(entity));
	if (!(s = prep(st, "SELECT state, count(*) FROM outbox WHERE entity = :entity AND"
			   " receiver IS NOT NULL GROUP BY state", "page counts")))
		return SW_ESTORE;
	if (bind_text(s, ":entity", entity) != SW_DB_OK) {
		rc = sw_store_int_dberr(st, "page counts (bind)");
		goto out;
	}
	while ((r = sw_db_step(s)) == SW_DB_ROW) {
		const char *name = (const char *)sw_db_column_text(s, 0);

		for (int i = 0; name && i < SW_OUTBOX_LAST; i++)
			if (strcmp(sw_store_outbox_state_name((enum sw_outbox_state)i), name) == 0)
				counts[i] = sw_db_column_int64(s, 1);
	}
	if (r != SW_DB_DONE)
		rc = sw_store_int_dberr(st, "page counts");
out:
	sw_db_finalize(s);
	return rc;
}

enum sw_err sw_store_page_last_note(struct sw_store *st, int64_t page_id,
				    struct sw_outbox_msg **ret_msg)
{
	struct sw_db_stmt *s;
	char entity[40];
	size_t n = 0;
	enum sw_err rc;

	*ret_msg = NULL;
	page_entity(page_id, entity, sizeof(entity));
	if (!(s = prep(st, "SELECT " SW_STORE_OUTBOX_COLS " FROM outbox WHERE entity = :entity"
			   " AND receiver IS NOT NULL ORDER BY id DESC LIMIT 1", "page note")))
		return SW_ESTORE;
	if (bind_text(s, ":entity", entity) != SW_DB_OK)
		rc = sw_store_int_dberr(st, "page note (bind)");
	else
		rc = msg_rows(st, s, "page note", ret_msg, &n);
	if (rc == SW_OK && n == 0)
		rc = sw_store_int_err(st, SW_ENOTFOUND, "page %lld has no notification",
				      (long long)page_id);
	sw_db_finalize(s);
	return rc;
}
