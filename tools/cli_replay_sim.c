/*
 * cli_replay_sim.c - the simulation behind `slipwatch replay`
 * (cli_replay.h): a scratch store rebuilt from the source journal, the
 * alert engine, notice sender and on-call pages run over it on a stepped
 * clock, through channels that record instead of sending.
 *
 * Time.  The clock (lib/clock.h) is stepped: it stands at the first
 * event's received_at and moves only forward, to each deadline (the
 * engine's queue, the outbox's next attempt, the next [pages] evaluation)
 * and each event's received_at in time order, as fast as the machine
 * goes.  The engine, sender and pages also take that time as their "now"
 * argument.
 *
 * Inputs the source keeps apart from the journal:
 *   courier_polls (per courier and minute) are copied minute by minute
 *   as the clock passes them, and courier_health.last_ok_at follows the
 *   latest of: a copied minute with useful answers, the source's own
 *   last_ok_at once passed, a courier event's received_at; probe_results
 *   keeps only each probe's latest result, which is copied once the clock
 *   passes it (earlier results are lost).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "alerts/channel.h"
#include "alerts/engine.h"
#include "alerts/notify.h"
#include "alerts/pages.h"
#include "alerts/rules.h"
#include "alerts/signals.h"
#include "alerts/template.h"
#include "collector/ingest.h"
#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/rrd.h"
#include "lib/store.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tools/cli_replay.h"

#define MAX_RCHS 64 /* receivers with a recording channel */

/* ---- the recording channels ---------------------------------------------- */

/* A channel that takes every notice and sends nothing: the outbox row
 * becomes 'sent' at the simulated time, which is what the report reads. */
static enum sw_err rec_check(const void *conf, const struct sw_conf *file, const char *kind,
			     const char *name, char *err, size_t len)
{
	return SW_OK;
}

static enum sw_err rec_open(const void *conf, void **ret_state, char *err, size_t len)
{
	*ret_state = xmalloc(1);
	return SW_OK;
}

static void rec_close(void *state)
{
	free(state);
}

static enum sw_chan_result rec_send(void *state, const struct sw_notice *n,
				    int64_t *ret_retry_after_s, char *detail, size_t len)
{
	snprintf(detail, len, "replay: recorded, not sent");
	return SW_CHAN_SENT;
}

static bool rec_fault(void *state)
{
	return false;
}

static void rec_conf_free(void *conf)
{
}

static const struct sw_conf_opt rec_opts[] = {
    {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL},
};

/* One recording row per channel name a notice or page may name. */
#define REC_OPS(var, nm)                                                                        \
	static const struct sw_channel_ops var = {                                             \
	    .name = nm,                                                                         \
	    .section = "replay",                                                                \
	    .opts = rec_opts,                                                                   \
	    .conf_size = 1,                                                                     \
	    .check = rec_check,                                                                 \
	    .open = rec_open,                                                                   \
	    .close = rec_close,                                                                 \
	    .send = rec_send,                                                                   \
	    .server_fault = rec_fault,                                                          \
	    .conf_free = rec_conf_free,                                                         \
	}
REC_OPS(rec_email, "email");
REC_OPS(rec_webhook, "webhook");
REC_OPS(rec_slack, "slack");
REC_OPS(rec_pagerduty, "pagerduty");

static const struct sw_channel_ops *rec_ops_for(const char *name)
{
	static const struct sw_channel_ops *const all[] = {&rec_email, &rec_webhook, &rec_slack,
							   &rec_pagerduty};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

/* ---- the replay's state ---------------------------------------------------- */

struct sim {
	int64_t now, from, to;
	char *err;
	size_t errlen;
	/* configuration */
	struct sw_alerts_conf ac;
	struct sw_rules rules;
	struct sw_tpl_set *tpl;
	struct sw_pages_conf pc;
	struct sw_rrd_conf rrd;
	bool conf_loaded, pages_loaded;
	/* stores: the scratch one (API and a raw handle with the source
	 * attached read-only as "src") and the source (raw, read-only) */
	struct sw_store *st;
	sqlite3 *db, *src;
	int64_t feeds_upto; /* courier_polls copied up to this time */
	/* the parts */
	struct sw_ingest *ing;
	struct sw_engine *engine;
	struct sw_notify *notify;
	struct sw_channel *chs[SW_NOTIFY_CHANNELS];
	size_t n_chs;
	struct sw_sig_ctx sig;
	struct sw_pages *pages;
	struct sw_pager *pager;
	struct sw_channel *rchs[MAX_RCHS];
	struct sw_channel *page_email;
	int64_t next_pages; /* the next [pages] evaluation, 0: none */
	int64_t mono_ms;    /* the sender's rate-limiter clock: never goes back */
	bool ing_open;      /* warehouse events applied, not yet committed */
	struct replay_counts *counts;
};

static int sim_err(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int sim_err(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- configuration ----------------------------------------------------------- */

static int load_conf(struct sim *s, const char *path)
{
	struct sw_conf *conf = NULL;
	char err[1024];
	int rc = -1;

	if (sw_conf_load(path, &conf, err, sizeof(err)) != SW_OK)
		return sim_err(s, "%s", err);
	if (sw_rules_load(conf, &s->ac, &s->rules, err, sizeof(err)) != SW_OK) {
		sim_err(s, "%s", err);
		goto out;
	}
	s->conf_loaded = true;
	s->ac.webhook_on = sw_conf_has(conf, "customer_webhook", NULL);
	if (sw_tpl_load(s->ac.templates, &s->tpl, err, sizeof(err)) != SW_OK) {
		sim_err(s, "%s: the templates: %s", path, err);
		goto out;
	}
	if (sw_rrd_conf_load(conf, &s->rrd, err, sizeof(err)) != SW_OK ||
	    sw_pages_conf_load(conf, &s->pc, err, sizeof(err)) != SW_OK) {
		sim_err(s, "%s", err);
		goto out;
	}
	s->pages_loaded = true;
	rc = 0;
out:
	sw_conf_free(conf);
	return rc;
}

/* The recording channels: the customer channels the configuration turns
 * on, and one per receiver (email receivers share one). */
static int open_channels(struct sim *s)
{
	char err[512];
	static const char dummy[1];

	if (s->ac.email &&
	    sw_channel_open(&rec_email, dummy, &s->chs[s->n_chs++], err, sizeof(err)) != SW_OK)
		return sim_err(s, "replay channel: %s", err);
	if (s->ac.webhook_on &&
	    sw_channel_open(&rec_webhook, dummy, &s->chs[s->n_chs++], err, sizeof(err)) != SW_OK)
		return sim_err(s, "replay channel: %s", err);
	for (size_t i = 0; i < s->pc.n_receivers && i < MAX_RCHS; i++) {
		const struct sw_receiver_conf *r = &s->pc.receivers[i];
		const struct sw_channel_ops *ops = rec_ops_for(r->ops->name);

		if (r->chconf && ops) {
			if (sw_channel_open(ops, dummy, &s->rchs[i], err, sizeof(err)) != SW_OK)
				return sim_err(s, "replay channel: %s", err);
		} else if (!r->chconf && !s->page_email &&
			   sw_channel_open(&rec_email, dummy, &s->page_email, err, sizeof(err)) !=
			       SW_OK) {
			return sim_err(s, "replay channel: %s", err);
		}
	}
	return 0;
}

/* ---- stores ---------------------------------------------------------------- */

static int exec_sql(struct sim *s, sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sim_err(s, "replay: %s: %s", sql, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int open_stores(struct sim *s, const char *src_path, const char *scratch)
{
	char err[1024], *sql;
	int rc;

	if (sqlite3_open_v2(src_path, &s->src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return sim_err(s, "%s: cannot open the store read-only: %s", src_path,
			       sqlite3_errmsg(s->src));
	sqlite3_busy_timeout(s->src, 5000);
	if (sw_store_open(scratch, 0, &s->st, err, sizeof(err)) != SW_OK)
		return sim_err(s, "the scratch store: %s", err);
	if (sqlite3_open_v2(scratch, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) !=
	    SQLITE_OK)
		return sim_err(s, "%s: %s", scratch, sqlite3_errmsg(s->db));
	sqlite3_busy_timeout(s->db, 5000);
	sql = sqlite3_mprintf("ATTACH 'file:%q?mode=ro' AS src", src_path);
	rc = exec_sql(s, s->db, sql);
	sqlite3_free(sql);
	/* the couriers the collector polled: their parcels have schedules */
	if (rc == 0)
		rc = exec_sql(s, s->db,
			      "CREATE TEMP TABLE polled AS SELECT courier FROM src.courier_health"
			      " UNION SELECT courier FROM src.courier_polls UNION SELECT p.courier"
			      " FROM src.poll_schedule s JOIN src.parcels p ON p.id = s.parcel_ref");
	return rc;
}

/* Copies what the source knows about the courier feeds up to now (see the
 * head of this file), in one transaction. */
static int feeds_sync(struct sim *s)
{
	static const char *const steps[] = {
	    "INSERT OR REPLACE INTO main.courier_polls (courier, minute, ok, failed)"
	    " SELECT courier, minute, ok, failed FROM src.courier_polls"
	    " WHERE minute > ?1 AND minute <= ?2",
	    "INSERT INTO main.courier_health (courier, last_ok_at)"
	    " SELECT courier, max(minute) FROM src.courier_polls"
	    " WHERE ok > 0 AND minute > ?1 AND minute <= ?2 GROUP BY courier"
	    " ON CONFLICT (courier) DO UPDATE SET last_ok_at ="
	    " max(coalesce(last_ok_at, 0), excluded.last_ok_at)",
	    "INSERT INTO main.courier_health (courier, last_fail_at)"
	    " SELECT courier, max(minute) FROM src.courier_polls"
	    " WHERE failed > 0 AND minute > ?1 AND minute <= ?2 GROUP BY courier"
	    " ON CONFLICT (courier) DO UPDATE SET last_fail_at ="
	    " max(coalesce(last_fail_at, 0), excluded.last_fail_at)",
	    "INSERT INTO main.courier_health (courier, last_ok_at)"
	    " SELECT courier, last_ok_at FROM src.courier_health"
	    " WHERE last_ok_at > ?1 AND last_ok_at <= ?2"
	    " ON CONFLICT (courier) DO UPDATE SET last_ok_at ="
	    " max(coalesce(last_ok_at, 0), excluded.last_ok_at)",
	    "INSERT OR REPLACE INTO main.probe_results SELECT * FROM src.probe_results"
	    " WHERE at > ?1 AND at <= ?2",
	    /* parcels of polled couriers get a schedule, as the collector
	     * seeds one for each new parcel */
	    "INSERT INTO main.poll_schedule (parcel_ref, next_poll_at, interval_s)"
	    " SELECT p.id, ?2, 60 FROM main.parcels p WHERE p.terminal = 0"
	    " AND p.courier IN (SELECT courier FROM temp.polled)"
	    " AND p.id NOT IN (SELECT parcel_ref FROM main.poll_schedule)",
	    /* a courier that answered usefully in a minute answered each of
	     * its open parcels then (the polls without news are not
	     * journaled: an assumption, see slipwatch(1)) */
	    "UPDATE main.poll_schedule SET failures = 0, last_error = NULL, last_polled_at ="
	    " max(coalesce(last_polled_at, 0), (SELECT max(c.minute) FROM src.courier_polls c"
	    "  JOIN main.parcels p ON p.courier = c.courier WHERE p.id = parcel_ref"
	    "  AND c.ok > 0 AND c.minute > ?1 AND c.minute <= ?2))"
	    " WHERE parcel_ref IN (SELECT p.id FROM main.parcels p JOIN src.courier_polls c"
	    "  ON c.courier = p.courier WHERE p.terminal = 0 AND c.ok > 0"
	    "  AND c.minute > ?1 AND c.minute <= ?2)",
	    /* the source's own last poll of each parcel, once passed */
	    "UPDATE main.poll_schedule SET failures = 0, last_error = NULL, last_polled_at ="
	    " max(coalesce(last_polled_at, 0), (SELECT s.last_polled_at FROM src.poll_schedule s"
	    "  JOIN src.parcels sp ON sp.id = s.parcel_ref JOIN main.parcels p"
	    "  ON p.courier = sp.courier AND p.tracking_number = sp.tracking_number"
	    "  WHERE p.id = parcel_ref AND s.failures = 0))"
	    " WHERE parcel_ref IN (SELECT p.id FROM main.parcels p JOIN src.parcels sp"
	    "  ON p.courier = sp.courier AND p.tracking_number = sp.tracking_number"
	    "  JOIN src.poll_schedule s ON s.parcel_ref = sp.id WHERE s.failures = 0"
	    "  AND s.last_polled_at > ?1 AND s.last_polled_at <= ?2)",
	};

	if (exec_sql(s, s->db, "BEGIN IMMEDIATE"))
		return -1;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sqlite3_stmt *q = NULL;
		int rc = sqlite3_prepare_v2(s->db, steps[i], -1, &q, NULL);

		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(q, 1, s->feeds_upto);
			sqlite3_bind_int64(q, 2, s->now);
			rc = sqlite3_step(q);
		}
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE) {
			sim_err(s, "replay: copying the courier feeds: %s", sqlite3_errmsg(s->db));
			exec_sql(s, s->db, "ROLLBACK");
			return -1;
		}
	}
	s->feeds_upto = s->now;
	return exec_sql(s, s->db, "COMMIT");
}

/* The courier answered usefully about one parcel at `at` (its events were
 * journaled then): the courier's health and the parcel's last poll. */
static int courier_ok(struct sim *s, const char *courier, const char *tn, int64_t at)
{
	static const char *const steps[] = {
	    "INSERT INTO courier_health (courier, last_ok_at) VALUES (?1, ?3)"
	    " ON CONFLICT (courier) DO UPDATE SET last_ok_at ="
	    " max(coalesce(last_ok_at, 0), excluded.last_ok_at)",
	    "INSERT INTO poll_schedule (parcel_ref, next_poll_at, interval_s, last_polled_at)"
	    " SELECT id, ?3, 60, ?3 FROM parcels WHERE courier = ?1 AND tracking_number = ?2"
	    " ON CONFLICT (parcel_ref) DO UPDATE SET failures = 0, last_error = NULL,"
	    " last_polled_at = max(coalesce(last_polled_at, 0), excluded.last_polled_at)",
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sqlite3_stmt *q = NULL;
		int rc = sqlite3_prepare_v2(s->db, steps[i], -1, &q, NULL);

		if (rc == SQLITE_OK) {
			sqlite3_bind_text(q, 1, courier, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, tn, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 3, at);
			rc = sqlite3_step(q);
		}
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE)
			return sim_err(s, "replay: courier health: %s", sqlite3_errmsg(s->db));
	}
	return 0;
}

/* ---- running the parts at now ------------------------------------------------- */

static void start_parts(struct sim *s)
{
	s->sig.st = s->st;
	s->sig.rrd = &s->rrd;
	s->sig.cursor = SW_ENGINE_CURSOR;
	s->sig.rules = &s->rules;
	s->sig.alerts = &s->ac;
	if (s->n_chs > 0) { /* as the daemon: no customer channel, no sender */
		s->notify = sw_notify_new(s->st, &s->ac, s->tpl, s->engine, NULL);
		sw_notify_set_channels(s->notify, s->chs, s->n_chs);
		sw_notify_set_pages(s->notify, &s->pc, &s->sig);
	}
	if (s->pc.n_rules > 0) {
		s->pages = sw_pages_new(s->st, &s->sig, &s->pc, NULL);
		s->pager = sw_pager_new(s->st, &s->pc, NULL);
		sw_pager_set_channels(s->pager, s->rchs, s->pc.n_receivers, s->page_email);
		s->next_pages = s->now;
	}
}

static int run_engine(struct sim *s)
{
	char err[1024];
	int n, guard = 0;

	do {
		if (sw_engine_tail(s->engine, s->now, &n, err, sizeof(err)) != SW_OK)
			return sim_err(s, "replay: the journal: %s", err);
	} while (n == s->ac.batch && ++guard < 1000000);
	while (sw_engine_next_due(s->engine) && sw_engine_next_due(s->engine) <= s->now) {
		if (sw_engine_due(s->engine, s->now, &n, err, sizeof(err)) != SW_OK)
			return sim_err(s, "replay: deadlines: %s", err);
		if (n == 0)
			break;
	}
	return 0;
}

static int run_senders(struct sim *s)
{
	char err[1024] = "";
	int64_t delay = 0;
	int guard = 0;

	do {
		/* the rate limiter's clock: simulated time, rounds a second apart */
		s->mono_ms = s->mono_ms + 1000 > s->now * 1000 ? s->mono_ms + 1000 : s->now * 1000;
		if (s->notify && sw_notify_run(s->notify, s->now, s->mono_ms, 1000, &delay, err,
					       sizeof(err)) != SW_OK)
			return sim_err(s, "replay: the sender: %s", err);
	} while (s->notify && delay == 0 && ++guard < 10000);
	if (!s->pages)
		return 0;
	if (s->next_pages && s->next_pages <= s->now) {
		err[0] = '\0';
		if (sw_pages_eval(s->pages, s->now, err, sizeof(err)) != SW_OK)
			return sim_err(s, "replay: pages: %s", err);
		s->next_pages = s->now + (s->pc.interval_ms + 999) / 1000;
	}
	guard = 0;
	do {
		if (sw_pager_run(s->pager, s->now, &delay, err, sizeof(err)) != SW_OK)
			return sim_err(s, "replay: the pager: %s", err);
	} while (delay == 0 && ++guard < 10000);
	return 0;
}

/* Everything the daemon would do at now. */
static int run_at(struct sim *s)
{
	s->counts->steps++;
	if (feeds_sync(s) || run_engine(s) || run_senders(s))
		return -1;
	return 0;
}

/* The earliest waiting outbox row's next attempt, 0 if none. */
static int64_t outbox_next(struct sim *s)
{
	sqlite3_stmt *q = NULL;
	int64_t at = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT min(next_attempt_at) FROM outbox"
			       " WHERE state IN ('queued', 'deferred', 'sending')",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		at = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return at;
}

static void clock_to(struct sim *s, int64_t t)
{
	if (t > s->now) {
		sw_clock_step((t - s->now) * 1000);
		s->now = t;
	}
}

static int64_t earlier(int64_t a, int64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* Runs every deadline up to t in time order, then stands at t. */
static int advance_to(struct sim *s, int64_t t)
{
	for (;;) {
		int64_t next = earlier(earlier(sw_engine_next_due(s->engine), outbox_next(s)),
				       s->next_pages);

		if (!next || next > t)
			break;
		/* something due now and still waiting (rate, a lease): a
		 * second later, as the daemon's next round would be */
		clock_to(s, next > s->now ? next : s->now + 1);
		if (s->now > t)
			break;
		if (run_at(s))
			return -1;
	}
	clock_to(s, t);
	return 0;
}

/* ---- applying the source journal -------------------------------------------- */

struct jrow {
	int64_t seq, occurred_at, occurred_off, received_at;
	const char *source, *event_id, *kind, *wh, *order, *courier, *tn, *payload;
};

static void jrow_read(sqlite3_stmt *q, struct jrow *r)
{
	r->seq = sqlite3_column_int64(q, 0);
	r->source = (const char *)sqlite3_column_text(q, 1);
	r->event_id = (const char *)sqlite3_column_text(q, 2);
	r->kind = (const char *)sqlite3_column_text(q, 3);
	r->wh = (const char *)sqlite3_column_text(q, 4);
	r->order = (const char *)sqlite3_column_text(q, 5);
	r->courier = (const char *)sqlite3_column_text(q, 6);
	r->tn = (const char *)sqlite3_column_text(q, 7);
	r->occurred_at = sqlite3_column_int64(q, 8);
	r->occurred_off = sqlite3_column_int64(q, 9);
	r->received_at = sqlite3_column_int64(q, 10);
	r->payload = (const char *)sqlite3_column_text(q, 11);
}

static void skip(struct sim *s, const struct jrow *r, const char *why)
{
	s->counts->skipped++;
	if (!s->counts->first_skipped[0])
		snprintf(s->counts->first_skipped, sizeof(s->counts->first_skipped),
			 "seq %" PRId64 " source %.60s: %s", r->seq, r->source, why);
}

/* Commits the warehouse events applied so far (one batch, as the
 * collector commits a burst). */
static int ingest_commit(struct sim *s)
{
	if (!s->ing_open)
		return 0;
	s->ing_open = false;
	if (sw_ingest_commit(s->ing) != SW_OK)
		return sim_err(s, "replay: the scratch store: %s", sw_ingest_errmsg(s->ing));
	return 0;
}

static int apply_warehouse(struct sim *s, const struct jrow *r)
{
	struct sw_event_reject rej;
	enum sw_ingest_result res;

	if (!r->payload) {
		skip(s, r, "no payload");
		return 0;
	}
	res = sw_ingest_message(s->ing, "replay", r->payload, strlen(r->payload), r->received_at,
				&rej);
	s->ing_open = true;
	if (res == SW_INGEST_RETRY) {
		sw_ingest_abort(s->ing);
		s->ing_open = false;
		return sim_err(s, "replay: the scratch store refused seq %" PRId64 ": %s", r->seq,
			       sw_ingest_errmsg(s->ing));
	}
	if (res == SW_INGEST_REJECTED)
		s->counts->rejected++;
	else
		s->counts->warehouse++;
	return 0;
}

/* What one courier event's payload says (pl_event_payload's fields). */
struct cev {
	enum sw_ship_status status, shipment;
	const char *code, *text;
	bool zone_known;
};

static bool is_scan(enum sw_ship_status st)
{
	return st > SW_SHIP_INFO_RECEIVED && st != SW_SHIP_UNKNOWN && st != SW_SHIP_CANCELLED &&
	       st != SW_SHIP_EXPIRED;
}

static int cev_parse(json_t *doc, struct cev *c)
{
	const char *st = json_string_value(json_object_get(doc, "status"));
	const char *sh = json_string_value(json_object_get(doc, "shipment_status"));

	if (!st || !sh || sw_store_ship_status_parse(st, &c->status) != SW_OK ||
	    sw_store_ship_status_parse(sh, &c->shipment) != SW_OK)
		return -1;
	c->code = json_string_value(json_object_get(doc, "code"));
	c->text = json_string_value(json_object_get(doc, "text"));
	c->zone_known = json_is_true(json_object_get(doc, "zone_known"));
	return 0;
}

/* Journals one courier event and folds it into u, as one poll answer's
 * events are (poll_apply.c update_of: the answer's status, its latest
 * timed event, its earliest scan). */
static enum sw_err courier_event(struct sim *s, const struct jrow *r, const struct cev *c,
				 struct sw_parcel_update *u)
{
	struct sw_journal_event ev = {0};
	struct sw_stamp at = {r->occurred_at, (int32_t)r->occurred_off};
	enum sw_err rc;

	ev.source = r->source;
	ev.source_event_id = r->event_id;
	ev.kind = r->kind;
	ev.warehouse_id = r->wh;
	ev.order_id = r->order;
	ev.courier = r->courier;
	ev.tracking_number = r->tn;
	ev.occurred_at = at;
	ev.received_at = r->received_at;
	ev.payload = r->payload;
	rc = sw_store_journal_append(s->st, &ev, NULL);
	if (rc != SW_OK && rc != SW_EDUP)
		return rc;
	u->status = c->shipment;
	if (c->zone_known && at.at >= u->event_at.at) {
		u->event_at = at;
		u->raw_code = c->code;
		u->raw_text = c->text;
	}
	if (c->zone_known && is_scan(c->status) &&
	    (!u->first_scan_at.at || at.at < u->first_scan_at.at))
		u->first_scan_at = at;
	if (c->zone_known && c->status == SW_SHIP_DELIVERED)
		u->delivered_at = at;
	return SW_OK;
}

/* The key of one poll answer: its events share source, parcel and
 * received_at (copied: the row's text goes with the next step). */
struct answer_key {
	char *source, *courier, *tn;
	int64_t received_at;
};

static bool same_answer(const struct answer_key *k, const struct jrow *r)
{
	return strcmp(k->source, r->source) == 0 && r->tn && strcmp(k->tn, r->tn) == 0 &&
	       r->courier && strcmp(k->courier, r->courier) == 0 &&
	       k->received_at == r->received_at;
}

/* One event of an answer: journaled and folded into u (skipped when its
 * payload says nothing usable).  doc is kept in docs (u points into it). */
static enum sw_err answer_event(struct sim *s, const struct jrow *r, json_t **docs, size_t *n,
				struct sw_parcel_update *u)
{
	struct cev c;
	json_t *doc = r->payload ? json_loads(r->payload, 0, NULL) : NULL;
	enum sw_err rc;

	if (!doc || cev_parse(doc, &c) != 0) {
		skip(s, r, "a courier event without a valid status payload");
		json_decref(doc);
		return SW_OK;
	}
	docs[(*n)++] = doc;
	if ((rc = courier_event(s, r, &c, u)) == SW_OK)
		s->counts->courier++;
	return rc;
}

#define ANSWER_MAX 256 /* events of one answer applied together */

/* The courier events of one poll answer (consecutive rows of one source
 * and parcel received together), starting at *r, the row q stands on; on
 * return *r is the row after them when *ret_more. */
static int apply_courier(struct sim *s, sqlite3_stmt *q, struct jrow *r, bool *ret_more)
{
	struct sw_parcel_update u = {0};
	struct answer_key k;
	json_t *docs[ANSWER_MAX];
	size_t n = 0;
	enum sw_err rc;
	int res = 0;

	if (!r->courier || !r->tn) {
		skip(s, r, "a courier event without courier or tracking number");
		*ret_more = sqlite3_step(q) == SQLITE_ROW;
		if (*ret_more)
			jrow_read(q, r);
		return 0;
	}
	k.source = xstrdup(r->source);
	k.courier = xstrdup(r->courier);
	k.tn = xstrdup(r->tn);
	k.received_at = r->received_at;
	if ((rc = sw_store_begin(s->st)) != SW_OK) {
		res = sim_err(s, "replay: %s", sw_store_errmsg(s->st));
		goto out;
	}
	do {
		rc = answer_event(s, r, docs, &n, &u);
		*ret_more = sqlite3_step(q) == SQLITE_ROW;
		if (*ret_more)
			jrow_read(q, r);
	} while (rc == SW_OK && *ret_more && n < ANSWER_MAX && same_answer(&k, r));
	if (rc == SW_OK && n > 0) {
		rc = sw_store_parcel_set_status(s->st, k.courier, k.tn, &u);
		rc = rc == SW_ENOTFOUND ? SW_OK : rc; /* never shipped: the collector
						       * would not have polled it */
	}
	if (rc == SW_OK)
		rc = sw_store_commit(s->st);
	else
		sw_store_rollback(s->st);
	if (rc != SW_OK)
		res = sim_err(s, "replay: %s %s: %s", k.courier, k.tn, sw_store_errmsg(s->st));
	else if (n > 0)
		res = courier_ok(s, k.courier, k.tn, k.received_at);
out:
	for (size_t i = 0; i < n; i++)
		json_decref(docs[i]);
	free(k.source);
	free(k.courier);
	free(k.tn);
	return res;
}

/* Reads the source journal up to `to` and applies it in seq order.  The
 * engine runs once the events of one second are in (the daemon reads the
 * journal in batches too: events committed together are judged together),
 * and at every deadline between. */
static int replay_journal(struct sim *s)
{
	sqlite3_stmt *q = NULL;
	struct jrow r;
	bool more, pending = false;
	int rc = 0;

	if (sqlite3_prepare_v2(s->src,
			       "SELECT seq, source, source_event_id, kind, warehouse_id, order_id,"
			       " courier, tracking_number, occurred_at, occurred_off, received_at,"
			       " payload FROM journal WHERE received_at <= ?1 ORDER BY seq",
			       -1, &q, NULL) != SQLITE_OK)
		return sim_err(s, "the source journal: %s", sqlite3_errmsg(s->src));
	sqlite3_bind_int64(q, 1, s->to);
	more = sqlite3_step(q) == SQLITE_ROW;
	if (more)
		jrow_read(q, &r);
	while (more && rc == 0) {
		int64_t before = s->counts->warehouse + s->counts->rejected + s->counts->courier +
				 s->counts->skipped;
		bool warm = r.received_at < s->from;

		if (r.received_at > s->now) { /* the second before is complete */
			if ((rc = ingest_commit(s)) != 0 || (pending && (rc = run_at(s)) != 0) ||
			    (rc = advance_to(s, r.received_at)) != 0)
				break;
			pending = false;
		} else if (strncmp(r.source, "warehouse:", 10) != 0 && (rc = ingest_commit(s)) != 0) {
			break;
		}
		if (strncmp(r.source, "warehouse:", 10) == 0) {
			rc = apply_warehouse(s, &r);
			more = sqlite3_step(q) == SQLITE_ROW;
			if (more)
				jrow_read(q, &r);
		} else if (strncmp(r.source, "courier:", 8) == 0 && r.kind &&
			   strcmp(r.kind, "parcel.status") == 0) {
			rc = apply_courier(s, q, &r, &more);
		} else {
			skip(s, &r, "not a warehouse or courier event");
			more = sqlite3_step(q) == SQLITE_ROW;
			if (more)
				jrow_read(q, &r);
		}
		before = s->counts->warehouse + s->counts->rejected + s->counts->courier +
			 s->counts->skipped - before;
		s->counts->events += before;
		if (warm)
			s->counts->warm += before;
		pending = true;
	}
	sqlite3_finalize(q);
	if (rc == 0)
		rc = ingest_commit(s);
	if (rc == 0 && pending)
		rc = run_at(s);
	return rc;
}

/* ---- the whole run ------------------------------------------------------------- */

/* The first event's received_at (the replay's start), else from. */
static int64_t first_time(struct sim *s)
{
	sqlite3_stmt *q = NULL;
	int64_t at = s->from;

	if (sqlite3_prepare_v2(s->src, "SELECT min(received_at) FROM journal", -1, &q, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(q, 0) < at)
		at = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return at;
}

static int simulate(struct sim *s)
{
	struct sw_ingest_opts io = {0};
	char err[1024];

	io.topic_level = SW_INGEST_NO_TOPIC_LEVEL;
	if (sw_ingest_new(s->st, &io, &s->ing) != SW_OK)
		return sim_err(s, "replay: cannot set up the ingest");
	s->now = first_time(s) - 1;
	s->feeds_upto = s->now - 1;
	sw_clock_set_stepped(s->now * 1000);
	if (sw_engine_new(s->st, &s->ac, &s->rules, NULL, &s->engine, err, sizeof(err)) != SW_OK ||
	    sw_engine_scan(s->engine, s->now, err, sizeof(err)) != SW_OK)
		return sim_err(s, "replay: the engine: %s", err);
	start_parts(s);
	if (replay_journal(s) || advance_to(s, s->to) || run_at(s))
		return -1;
	return 0;
}

static void sim_free(struct sim *s)
{
	sw_notify_free(s->notify);
	sw_pages_free(s->pages);
	sw_pager_free(s->pager);
	sw_engine_free(s->engine);
	sw_ingest_free(s->ing);
	for (size_t i = 0; i < s->n_chs; i++)
		sw_channel_close(s->chs[i]);
	for (size_t i = 0; i < MAX_RCHS; i++)
		sw_channel_close(s->rchs[i]);
	sw_channel_close(s->page_email);
	if (s->pages_loaded) {
		sw_pages_conf_free(&s->pc);
		sw_conf_free_struct(sw_rrd_conf_table, &s->rrd);
	}
	sw_tpl_free(s->tpl);
	if (s->conf_loaded) {
		sw_rules_free(&s->rules);
		sw_alerts_conf_free(&s->ac);
	}
	sqlite3_close(s->db);
	sqlite3_close(s->src);
	sw_store_close(s->st);
	sw_clock_reset();
}

void replay_scratch_remove(const char *scratch_path)
{
	static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
	char path[4096], *slash;

	if (!scratch_path || !*scratch_path)
		return;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", scratch_path, tails[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s", scratch_path);
	if ((slash = strrchr(path, '/'))) {
		*slash = '\0';
		rmdir(path);
	}
}

int replay_run(const char *src_path, const char *conf_path, int64_t from, int64_t to,
	       const char *tmpdir, char *scratch_path, size_t pathlen,
	       struct replay_counts *ret_counts, char *err, size_t errlen)
{
	struct sim s = {0};
	char dir[4096];
	int rc;

	memset(ret_counts, 0, sizeof(*ret_counts));
	s.from = from;
	s.to = to;
	s.err = err;
	s.errlen = errlen;
	s.counts = ret_counts;
	scratch_path[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/slipwatch-replay.XXXXXX", tmpdir);
	if (!mkdtemp(dir))
		return sim_err(&s, "%s: cannot make a scratch directory: %s", tmpdir,
			       strerror(errno));
	snprintf(scratch_path, pathlen, "%s/store.db", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* the engine's routine lines (a slip found, a notice "sent") would
	 * bury the report: warnings and errors only */
	sw_log_set_level(SW_LOG_WARNING);
	rc = load_conf(&s, conf_path);
	if (rc == 0)
		rc = open_channels(&s);
	if (rc == 0)
		rc = open_stores(&s, src_path, scratch_path);
	if (rc == 0)
		rc = simulate(&s);
	sim_free(&s);
	curl_global_cleanup();
	if (rc != 0) {
		replay_scratch_remove(scratch_path);
		scratch_path[0] = '\0';
	}
	return rc;
}
