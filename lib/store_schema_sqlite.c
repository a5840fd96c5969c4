/*
 * store_schema_sqlite.c - the SQLite store's file: its schema texts and
 * forward migrations, and the open path that checks, configures and
 * migrates the file (split from store.c; the design notes are there).
 *
 * The schema version is PRAGMA user_version (transactional, readable
 * before any table exists); PRAGMA application_id marks the file as a
 * slipwatch store so that another program's database is never migrated.
 * migrations[] is applied forward in one transaction on open.
 * Requires SQLite >= 3.35 (UPSERT, RETURNING).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/db.h"
#include "lib/db_sqlite.h"

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/store.h"
#define SW_STORE_INT_SHORT_NAMES /* stmt(), run(), b_text(), ... */
#include "lib/store_int.h"
#include "lib/xmalloc.h"

#define STORE_APPLICATION_ID  0x536c5077 /* "SlPw" */
#define STORE_MIN_SQLITE      3035000

/*
 * Schema version 1.
 *
 * Time columns: INTEGER unix seconds UTC; NULL = not known (yet).  Where the
 * offset the source wrote matters (event times, promises), a sibling *_off
 * column holds it in seconds east of UTC, so local times can be shown as
 * written.  Bookkeeping times (received_at, created_at, ...) are UTC only.
 * Stage columns (created_at .. backordered_at) are the times of the
 * warehouse events order.<stage>, not row bookkeeping.
 * Entities in alerts/outbox are text keys ("parcel:<courier>:<tracking>",
 * "order:<warehouse>:<order>") because UNIQUE over nullable foreign keys
 * would never deduplicate an order-level slip.
 */
#define ORDER_LATEST                                                                               \
	"max(coalesce(created_at, -1), coalesce(picked_at, -1), "                                  \
	"coalesce(packed_at, -1), coalesce(shipped_at, -1), "                                      \
	"coalesce(cancelled_at, -1), coalesce(backordered_at, -1))"
/* The status is the stage with the latest time; WHEN order breaks ties. */
#define ORDER_STATUS_SET                                                                           \
	"UPDATE orders SET status = CASE "                                                         \
	"WHEN cancelled_at = " ORDER_LATEST " THEN 'cancelled' "                                   \
	"WHEN shipped_at = " ORDER_LATEST " THEN 'shipped' "                                       \
	"WHEN packed_at = " ORDER_LATEST " THEN 'packed' "                                         \
	"WHEN picked_at = " ORDER_LATEST " THEN 'picked' "                                         \
	"WHEN backordered_at = " ORDER_LATEST " THEN 'backordered' "                               \
	"WHEN created_at = " ORDER_LATEST " THEN 'created' "                                       \
	"ELSE NULL END WHERE id = NEW.id;"
#define SHIP_STATUSES                                                                              \
	"'pending','info_received','in_transit','out_for_delivery',"                               \
	"'attempt_fail','available_for_pickup','delivered','exception',"                           \
	"'returning','returned','expired','cancelled','unknown'"

static const char schema_v1[] =
    "CREATE TABLE schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " applied_at INTEGER NOT NULL);"

    "CREATE TABLE orders ("
    " id INTEGER PRIMARY KEY,"
    " warehouse_id TEXT NOT NULL,"
    " order_id TEXT NOT NULL,"
    " customer_name TEXT, customer_email TEXT,"
    " customer_locale TEXT, customer_tz TEXT,"
    " promised_ship_by_at INTEGER, promised_ship_by_off INTEGER,"
    " promised_delivery_kind TEXT"
    "  CHECK (promised_delivery_kind IN ('instant', 'date')),"
    " promised_delivery_text TEXT," /* as written in the event */
    " promised_delivery_at INTEGER, promised_delivery_off INTEGER,"
    " service_level TEXT,"
    " dest_country TEXT, dest_postal_code TEXT, dest_city TEXT,"
    " created_at INTEGER, created_off INTEGER,"
    " picked_at INTEGER, picked_off INTEGER,"
    " packed_at INTEGER, packed_off INTEGER,"
    " shipped_at INTEGER, shipped_off INTEGER,"
    " cancelled_at INTEGER, cancelled_off INTEGER,"
    " backordered_at INTEGER, backordered_off INTEGER,"
    " status TEXT CHECK (status IN ('created', 'picked', 'packed',"
    "  'shipped', 'cancelled', 'backordered')),"
    " UNIQUE (warehouse_id, order_id));"
    "CREATE INDEX orders_unshipped ON orders (promised_ship_by_at)"
    " WHERE shipped_at IS NULL AND cancelled_at IS NULL;"
    "CREATE INDEX orders_delivery ON orders (promised_delivery_at);"
    "CREATE TRIGGER orders_status_ins AFTER INSERT ON orders BEGIN " ORDER_STATUS_SET " END;"
    "CREATE TRIGGER orders_status_upd AFTER UPDATE OF created_at,"
    " picked_at, packed_at, shipped_at, cancelled_at, backordered_at"
    " ON orders BEGIN " ORDER_STATUS_SET " END;"

    "CREATE TABLE parcels ("
    " id INTEGER PRIMARY KEY,"
    " order_ref INTEGER REFERENCES orders (id) ON DELETE CASCADE,"
    " courier TEXT NOT NULL,"
    " tracking_number TEXT NOT NULL,"
    " shipped_at INTEGER, shipped_off INTEGER,"
    " status TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK (status IN (" SHIP_STATUSES ")),"
    " raw_code TEXT, raw_text TEXT,"
    " last_event_at INTEGER, last_event_off INTEGER,"
    " eta_date TEXT," /* YYYY-MM-DD, a calendar date, not an instant */
    " delivered_at INTEGER, delivered_off INTEGER,"
    " first_scan_at INTEGER, first_scan_off INTEGER,"
    " terminal INTEGER NOT NULL DEFAULT 0 CHECK (terminal IN (0, 1)),"
    " UNIQUE (courier, tracking_number));"
    "CREATE INDEX parcels_order ON parcels (order_ref);"
    "CREATE INDEX parcels_active ON parcels (status) WHERE terminal = 0;"

    /* Append-only; AUTOINCREMENT so seqs are never reused (cursors). */
    "CREATE TABLE journal ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " source TEXT NOT NULL,"
    " source_event_id TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " warehouse_id TEXT, order_id TEXT,"
    " courier TEXT, tracking_number TEXT,"
    " occurred_at INTEGER NOT NULL, occurred_off INTEGER NOT NULL,"
    " received_at INTEGER NOT NULL,"
    " payload TEXT,"
    " UNIQUE (source, source_event_id));"
    "CREATE INDEX journal_order ON journal (warehouse_id, order_id)"
    " WHERE order_id IS NOT NULL;"
    "CREATE INDEX journal_parcel ON journal (courier, tracking_number)"
    " WHERE tracking_number IS NOT NULL;"
    "CREATE TRIGGER journal_append_only BEFORE UPDATE ON journal BEGIN"
    " SELECT RAISE(ABORT, 'the journal is append-only'); END;"

    "CREATE TABLE poll_schedule ("
    " parcel_ref INTEGER PRIMARY KEY"
    "  REFERENCES parcels (id) ON DELETE CASCADE,"
    " next_poll_at INTEGER NOT NULL,"
    " interval_s INTEGER NOT NULL CHECK (interval_s > 0),"
    " failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),"
    " last_polled_at INTEGER,"
    " last_error TEXT);"
    "CREATE INDEX poll_due ON poll_schedule (next_poll_at);"

    "CREATE TABLE alerts ("
    " id INTEGER PRIMARY KEY,"
    " entity TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " promise TEXT NOT NULL DEFAULT '',"
    " stage TEXT,"
    " detected_at INTEGER NOT NULL,"
    " resolved_at INTEGER,"
    " UNIQUE (entity, kind, promise));"
    "CREATE INDEX alerts_open ON alerts (detected_at)"
    " WHERE resolved_at IS NULL;"

    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " entity TEXT NOT NULL,"
    " slip_kind TEXT NOT NULL,"
    " promise TEXT NOT NULL DEFAULT '',"
    " channel TEXT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " subject TEXT, body TEXT,"
    " template_name TEXT, template_vars TEXT,"
    " state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
    "  ('queued', 'sending', 'sent', 'failed', 'deferred')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL," /* while sending: lease end */
    " last_error TEXT,"
    " created_at INTEGER NOT NULL,"
    " sent_at INTEGER,"
    " smtp_response TEXT,"
    " UNIQUE (entity, slip_kind, promise));"
    "CREATE INDEX outbox_due ON outbox (state, next_attempt_at);"

    "CREATE TABLE silences ("
    " id INTEGER PRIMARY KEY,"
    " matcher TEXT NOT NULL," /* 'courier:dhl', 'kind:stalled', ... */
    " starts_at INTEGER NOT NULL,"
    " ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),"
    " created_by TEXT, reason TEXT,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX silences_active ON silences (ends_at);"

    "CREATE TABLE acks ("
    " id INTEGER PRIMARY KEY,"
    " alert_key TEXT NOT NULL," /* the alert or incident acknowledged */
    " acked_by TEXT, comment TEXT,"
    " acked_at INTEGER NOT NULL,"
    " expires_at INTEGER);"
    "CREATE INDEX acks_key ON acks (alert_key);"

    "CREATE TABLE unsubscribes ("
    " email TEXT PRIMARY KEY COLLATE NOCASE,"
    " added_at INTEGER NOT NULL,"
    " reason TEXT);"

    "CREATE TABLE cursors ("
    " name TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL CHECK (seq >= 0),"
    " updated_at INTEGER NOT NULL);";

/*
 * Schema version 2: the collector's ingest.
 * details_at/details_key: the (time, event id) of the order.created event
 * whose customer and promise data the row holds, so that the latest one
 * wins whatever order events arrive in (sw_store_order_set_details).
 * Partial indexes holding only waiting orders keep the per-warehouse
 * backlog count (sw_store_order_backlog) proportional to the backlog.
 */
static const char schema_v2[] =
    "ALTER TABLE orders ADD COLUMN details_at INTEGER;"
    "ALTER TABLE orders ADD COLUMN details_key TEXT;"
    "CREATE INDEX orders_backlog_pick ON orders (warehouse_id)"
    " WHERE created_at IS NOT NULL AND picked_at IS NULL"
    " AND cancelled_at IS NULL;"
    "CREATE INDEX orders_backlog_ship ON orders (warehouse_id)"
    " WHERE picked_at IS NOT NULL AND shipped_at IS NULL"
    " AND cancelled_at IS NULL;";

/*
 * Schema version 3: the alert engine.
 * - outbox gains the final state 'suppressed' (unsubscribed address, daily
 *   cap): SQLite cannot change a CHECK constraint, so the table is rebuilt
 *   with its rows.  recipient compares case-insensitively, and a partial
 *   index over sent rows answers "how many emails did this address get
 *   today" (the per-customer daily cap).
 * - courier_health: when each courier's API last answered usefully and
 *   last failed, written by the collector with each answer; the engine
 *   judges `stalled` only while a courier's feed is healthy.
 */
static const char schema_v3[] =
    "CREATE TABLE outbox_v3 ("
    " id INTEGER PRIMARY KEY,"
    " entity TEXT NOT NULL,"
    " slip_kind TEXT NOT NULL,"
    " promise TEXT NOT NULL DEFAULT '',"
    " channel TEXT NOT NULL,"
    " recipient TEXT NOT NULL COLLATE NOCASE,"
    " subject TEXT, body TEXT,"
    " template_name TEXT, template_vars TEXT,"
    " state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
    "  ('queued', 'sending', 'sent', 'failed', 'deferred', 'suppressed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL,"
    " sent_at INTEGER,"
    " smtp_response TEXT,"
    " UNIQUE (entity, slip_kind, promise));"
    "INSERT INTO outbox_v3 (id, entity, slip_kind, promise, channel, recipient,"
    " subject, body, template_name, template_vars, state, attempts,"
    " next_attempt_at, last_error, created_at, sent_at, smtp_response)"
    " SELECT id, entity, slip_kind, promise, channel, recipient, subject, body,"
    " template_name, template_vars, state, attempts, next_attempt_at,"
    " last_error, created_at, sent_at, smtp_response FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_v3 RENAME TO outbox;"
    "CREATE INDEX outbox_due ON outbox (state, next_attempt_at);"
    "CREATE INDEX outbox_recipient ON outbox (recipient, sent_at)"
    " WHERE state = 'sent';"
    "CREATE TABLE courier_health ("
    " courier TEXT PRIMARY KEY,"
    " last_ok_at INTEGER,"
    " last_fail_at INTEGER,"
    " last_error TEXT);";

/*
 * Schema version 4: customer notices that are true when they arrive.
 * - outbox gains the final states 'obsolete' (the slip no longer held when
 *   the row was due: resolved, order cancelled or delivered; last_error
 *   says why) and 'merged' (its content went out inside another row's
 *   message: smtp_response names that row), and the column grp, the
 *   order a customer notice belongs to, so that the slips of one order due
 *   together go out as one message (outbox_group indexes the waiting
 *   rows of a group).  Rebuilt for the CHECK constraint, rows kept.
 * - orders gain the customer's phone (for an SMS/WhatsApp gateway) and
 *   the channel the customer is to be told through (NULL: the shop's).
 */
static const char schema_v4[] =
    "CREATE TABLE outbox_v4 ("
    " id INTEGER PRIMARY KEY,"
    " entity TEXT NOT NULL,"
    " slip_kind TEXT NOT NULL,"
    " promise TEXT NOT NULL DEFAULT '',"
    " channel TEXT NOT NULL,"
    " recipient TEXT NOT NULL COLLATE NOCASE,"
    " subject TEXT, body TEXT,"
    " template_name TEXT, template_vars TEXT,"
    " state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
    "  ('queued', 'sending', 'sent', 'failed', 'deferred', 'suppressed',"
    "   'obsolete', 'merged')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL,"
    " sent_at INTEGER,"
    " smtp_response TEXT,"
    " grp TEXT,"
    " UNIQUE (entity, slip_kind, promise));"
    "INSERT INTO outbox_v4 (id, entity, slip_kind, promise, channel, recipient,"
    " subject, body, template_name, template_vars, state, attempts,"
    " next_attempt_at, last_error, created_at, sent_at, smtp_response)"
    " SELECT id, entity, slip_kind, promise, channel, recipient, subject, body,"
    " template_name, template_vars, state, attempts, next_attempt_at,"
    " last_error, created_at, sent_at, smtp_response FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_v4 RENAME TO outbox;"
    "CREATE INDEX outbox_due ON outbox (state, next_attempt_at);"
    "CREATE INDEX outbox_recipient ON outbox (recipient, sent_at)"
    " WHERE state = 'sent';"
    "CREATE INDEX outbox_group ON outbox (grp, next_attempt_at)"
    " WHERE grp IS NOT NULL AND state IN ('queued', 'deferred');"
    "ALTER TABLE orders ADD COLUMN customer_phone TEXT;"
    "ALTER TABLE orders ADD COLUMN customer_channel TEXT;";

/*
 * Schema version 5: the collector's dead-letter queue.
 * - deadletters: copies of rejected warehouse messages waiting to be
 *   published to the dead-letter topic.  A copy is inserted in the same
 *   transaction as the burst of messages it came in (so it is durable
 *   before the rejected message is acknowledged to the broker), published
 *   from here at QoS 1, and deleted only once the broker has acknowledged
 *   it.  topic is where it goes (the dead-letter topic at the time of the
 *   rejection), payload the bytes to publish (the letter: JSON text).
 *   AUTOINCREMENT, because the publisher pages through the queue by id
 *   ("id > the last one handed over"): a plain rowid may hand a new copy
 *   the id of a deleted one below that mark, and it would be skipped.
 */
static const char schema_v5[] =
    "CREATE TABLE deadletters ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " topic TEXT NOT NULL,"
    " payload BLOB NOT NULL,"
    " created_at INTEGER NOT NULL);";

/*
 * Schema version 6: on-call pages (alerts/pages.h, lib/store_pages.h).
 * - pages: one row per ops rule and subject (a warehouse, a courier, or
 *   the whole installation), kept for good: its current state (ok,
 *   pending, firing, nodata), the current incident, and what receivers
 *   were last told (notified_*), so that a restart neither re-pages nor
 *   forgets a resolve, and repeats run from durable time.  Written only
 *   by the alert engine.
 * - outbox gains receiver: NULL for a customer notice, else the on-call
 *   receiver a page notification goes to (its channel in channel); the
 *   two senders claim disjoint rows.  outbox_page orders the page rows of
 *   one page and receiver (a resolve never overtakes its trigger).
 * - silences hold matchers in the label syntax (lib/matcher.h) and acks
 *   name a page's incident ("page:ID#INCIDENT"); both are written by the
 *   CLI and read by the engine.
 * - orders_late_wh and outbox_customer_created keep the ops rules'
 *   counts (lib/store_signals.c) proportional to one warehouse's late
 *   orders and to the window's notices.
 */
static const char schema_v6[] =
    "CREATE TABLE pages ("
    " id INTEGER PRIMARY KEY,"
    " rule TEXT NOT NULL,"
    " subject TEXT NOT NULL," /* 'warehouse=w1', 'courier=dhl', '' */
    " labels TEXT NOT NULL,"  /* 'k=v,k=v' sorted, severity excluded */
    " state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN"
    "  ('ok', 'pending', 'firing', 'nodata')),"
    " severity INTEGER NOT NULL DEFAULT 0 CHECK (severity BETWEEN 0 AND 2),"
    " value REAL," /* NULL: no value */
    " summary TEXT, figures TEXT,"
    " state_since INTEGER NOT NULL,"
    " active_since INTEGER NOT NULL DEFAULT 0,"
    " firing_since INTEGER NOT NULL DEFAULT 0,"
    " incident INTEGER NOT NULL DEFAULT 0,"
    " evaluated_at INTEGER NOT NULL,"
    " notified_state TEXT NOT NULL DEFAULT 'ok' CHECK (notified_state IN"
    "  ('ok', 'pending', 'firing', 'nodata')),"
    " notified_severity INTEGER NOT NULL DEFAULT 0,"
    " notified_incident INTEGER NOT NULL DEFAULT 0,"
    " notified_at INTEGER NOT NULL DEFAULT 0,"
    " first_notified_at INTEGER NOT NULL DEFAULT 0,"
    " notify_seq INTEGER NOT NULL DEFAULT 0,"
    " receiver TEXT,"
    " escalated_to TEXT,"
    " escalated_at INTEGER NOT NULL DEFAULT 0,"
    " ack_notified INTEGER NOT NULL DEFAULT 0,"
    " flap_start INTEGER NOT NULL DEFAULT 0,"
    " flap_changes INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (rule, subject));"
    "ALTER TABLE outbox ADD COLUMN receiver TEXT;"
    "CREATE INDEX outbox_page ON outbox (entity, receiver, id)"
    " WHERE receiver IS NOT NULL;"
    "CREATE INDEX outbox_page_due ON outbox (next_attempt_at)"
    " WHERE receiver IS NOT NULL AND state IN ('queued', 'deferred', 'sending');"
    /* ops rules: one warehouse's late orders, customer notices by age */
    "CREATE INDEX orders_late_wh ON orders (warehouse_id, promised_ship_by_at)"
    " WHERE shipped_at IS NULL AND cancelled_at IS NULL;"
    "CREATE INDEX outbox_customer_created ON outbox (created_at)"
    " WHERE receiver IS NULL;";

/*
 * Schema version 7: feeds as dependencies (lib/store_feeds.h).
 * - warehouse_health: when each warehouse last published an event the
 *   collector stored, one upsert per warehouse per committed batch (not
 *   an index over the journal), so "has it published in the last N
 *   minutes" is one primary-key read.
 * - courier_polls: per courier and UTC minute, how many parcel answers
 *   were useful (found, not found) and how many failed, written with
 *   courier_health; the engine sums the minutes of its feed_window for
 *   the courier's error rate.  Rows older than SW_FEEDS_KEEP are pruned
 *   by the writer.
 */
static const char schema_v7[] =
    "CREATE TABLE warehouse_health ("
    " warehouse_id TEXT PRIMARY KEY,"
    " last_event_at INTEGER NOT NULL);"
    "CREATE TABLE courier_polls ("
    " courier TEXT NOT NULL,"
    " minute INTEGER NOT NULL," /* unix s, a multiple of 60 */
    " ok INTEGER NOT NULL DEFAULT 0,"
    " failed INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (courier, minute)) WITHOUT ROWID;";

/*
 * Schema version 8: cohorts and the stage that ran over (issue 13).
 * - parcels_courier_shipped: a courier's parcels by shipping time, so a
 *   lane's counts (store_signals.h sw_store_sig_lane) read the parcels
 *   shipped in the window and its baseline days, not every parcel ever.
 * - orders_wh_ship_by: a warehouse's orders by promised ship-by, so a
 *   ship day's counts (sw_store_sig_ship_day) read that day and its
 *   baseline days, not every order of the warehouse.
 * - alerts.stage_ratio: how far the stage that ran over went past its
 *   lane's p90 (duration / p90, > 1), NULL when no stage did.
 * - warehouse_health.resumed_at, resumed_gap: when the warehouse last
 *   published again after a pause, and how long that pause was (the
 *   backlog it buffered lands first: feeds.h settles on it).
 * - The promise report (store_promise.h, issue 14):
 *   parcels.first_eta_date, the courier's first estimate (set once, by
 *   sw_store_parcel_set_status, when an ETA first appears; a parcel from
 *   before this version gets the ETA it had then), and
 *   parcels.first_attempt_at/_off, the first delivery attempt (a courier
 *   event attempt_fail or available_for_pickup with a known zone): the
 *   earliest of what the status updates and the journal's parcel.status
 *   events say, kept by sw_store_parcel_set_status and by the trigger
 *   parcels_first_attempt on each journaled event (the collector journals
 *   every event of a poll, the update carries only the latest), and
 *   backfilled from the journal for parcels from before this version.
 * - probe_results (store_probes.h, issue 15): the latest run of every
 *   probe instance, one row each, upserted by slipwatch-probes; the
 *   history is in the RRD files.  failing_since is kept across failing
 *   runs and cleared by a passing one (0).
 */
#define ATTEMPT_EVENT(j)                                                                           \
	"CASE WHEN json_valid(" j ".payload) THEN"                                                 \
	" json_extract(" j ".payload, '$.status') IN ('attempt_fail', 'available_for_pickup')"     \
	" AND json_extract(" j ".payload, '$.zone_known') IS NOT 0 END"
static const char schema_v8[] =
    "CREATE INDEX parcels_courier_shipped ON parcels (courier, shipped_at);"
    "CREATE INDEX orders_wh_ship_by ON orders (warehouse_id, promised_ship_by_at);"
    "ALTER TABLE alerts ADD COLUMN stage_ratio REAL;"
    "ALTER TABLE warehouse_health ADD COLUMN resumed_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE warehouse_health ADD COLUMN resumed_gap INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE parcels ADD COLUMN first_eta_date TEXT;"
    "ALTER TABLE parcels ADD COLUMN first_attempt_at INTEGER;"
    "ALTER TABLE parcels ADD COLUMN first_attempt_off INTEGER;"
    "UPDATE parcels SET first_eta_date = eta_date;"
    "UPDATE parcels SET (first_attempt_at, first_attempt_off) = ("
    " SELECT j.occurred_at, j.occurred_off FROM journal j"
    " WHERE j.courier = parcels.courier AND j.tracking_number = parcels.tracking_number"
    " AND j.kind = 'parcel.status' AND " ATTEMPT_EVENT("j") " ORDER BY j.occurred_at LIMIT 1)"
    " WHERE first_scan_at IS NOT NULL;"
    "CREATE TRIGGER parcels_first_attempt AFTER INSERT ON journal"
    " WHEN NEW.kind = 'parcel.status' AND NEW.tracking_number IS NOT NULL"
    " AND " ATTEMPT_EVENT("NEW") " BEGIN"
    " UPDATE parcels SET first_attempt_at = NEW.occurred_at,"
    " first_attempt_off = NEW.occurred_off"
    " WHERE courier = NEW.courier AND tracking_number = NEW.tracking_number"
    " AND (first_attempt_at IS NULL OR NEW.occurred_at < first_attempt_at); END;"
    "CREATE TABLE probe_results ("
    " name TEXT PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " at INTEGER NOT NULL,"
    " ok INTEGER NOT NULL,"
    " sent INTEGER NOT NULL,"
    " lost INTEGER NOT NULL,"
    " lat_p50 REAL NOT NULL," /* s; -1 without a sample */
    " lat_max REAL NOT NULL,"
    " value REAL," /* NULL: the kind has none */
    " reason TEXT,"
    " detail TEXT,"
    " failing_since INTEGER NOT NULL DEFAULT 0);";

/*
 * Version 9 changes no data and no table layout: the CHECK constraints
 * written as `col IN ('a', 'b', ...)` are rewritten in place as
 * `(col = 'a' OR col = 'b' ...)`, which allows and refuses exactly the
 * same values (NULL included).  SQLite evaluates a CHECK's IN list of more
 * than two values through a temporary b-tree built again by every
 * statement that writes the table: a new in-memory pager and a zeroed page
 * per insert or update of an order, a parcel, an outbox row or a page,
 * about a quarter of the collector's instructions per event.  SQLite
 * cannot ALTER a CHECK; its documented way for changes that leave the
 * stored content valid is an edit of sqlite_schema under writable_schema
 * with the schema cookie incremented (lang_altertable.html, "otheralter"),
 * done by check_in_rewrite() below.
 *
 * It also drops the two triggers that kept orders.status, the latest
 * stage, by running an UPDATE of the row after every insert and update of
 * a stage time (a sub-program and a second write of the row: a third of
 * the order upsert).  The only statement that writes stage times, the
 * order upsert (ST_ORDER_UPSERT in store_orders.c), now computes the
 * status itself with the same rule (ORDER_STATUS_OF); rows already stored
 * keep theirs.
 */
static const char schema_v9[] = "DROP TRIGGER orders_status_ins;"
				"DROP TRIGGER orders_status_upd;";

/*
 * Version 10: poll leases (lib/store_polllease.h).  Several collectors
 * share one store; a collector claims the due parcels it polls by writing
 * its instance into lease_holder and the end of the lease (unix s) into
 * lease_until, and releases them when the answer is applied.  A row whose
 * lease_until has passed may be claimed by anyone.  Existing rows start
 * unleased.
 */
static const char schema_v10[] = "ALTER TABLE poll_schedule ADD COLUMN lease_holder TEXT;"
				 "ALTER TABLE poll_schedule ADD COLUMN lease_until INTEGER"
				 " NOT NULL DEFAULT 0;";

/*
 * Schema version 11: leases (store_lease.h, issue 19), which of several
 * alert engines on one store is the active one.  One row per lease name;
 * expires_at and the other times are unix s of the holders' clock.
 */
static const char schema_v11[] = "CREATE TABLE leases ("
				 " name TEXT PRIMARY KEY,"
				 " holder TEXT NOT NULL,"
				 " acquired_at INTEGER NOT NULL,"
				 " renewed_at INTEGER NOT NULL,"
				 " expires_at INTEGER NOT NULL);";

/* Forward migrations, in version order; element i brings version i to
 * version i + 1.  Add a step, never edit a released one. */
static const char *const migrations[] = {
    schema_v1,
    schema_v2,
    schema_v3,
    schema_v4,
    schema_v5,
    schema_v6,
    schema_v7,
    schema_v8,
    schema_v9,
    schema_v10,
    schema_v11,
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == SW_STORE_SCHEMA_VERSION,
	       "one migration step per schema version");

/* ---- check, configure, migrate, open the file ------------------------- */

/* Runs a PRAGMA (or any one-row query) not worth caching; its first
 * column as int into *ret_int and/or as text into ret_text. */
static enum sw_err pragma(struct sw_store *st, const char *sql, int *ret_int, char *ret_text,
			  size_t text_len)
{
	struct sw_db_stmt *s = NULL;
	int rc = sw_db_prepare(st->db, sql, &s);

	if (rc == SW_DB_OK) {
		rc = sw_db_step(s);
		if (rc == SW_DB_ROW && ret_int)
			*ret_int = sw_db_column_int(s, 0);
		if (rc == SW_DB_ROW && ret_text) {
			const unsigned char *t = sw_db_column_text(s, 0);

			snprintf(ret_text, text_len, "%s", t ? (const char *)t : "");
		}
	}
	if (rc != SW_DB_OK && rc != SW_DB_ROW && rc != SW_DB_DONE) {
		set_err(st, SW_ESTORE, "%s", sw_db_errmsg(st->db));
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}

/* Reads the version and refuses files that are not ours or too new,
 * before anything (even the journal mode) is written. */
static enum sw_err check_file(struct sw_store *st)
{
	int app_id = 0, objects = 0;

	if (pragma(st, "PRAGMA application_id", &app_id, NULL, 0) ||
	    pragma(st, "PRAGMA user_version", &st->version, NULL, 0) ||
	    pragma(st, "SELECT count(*) FROM sqlite_master", &objects, NULL, 0))
		return SW_ESTORE;
	if (app_id != STORE_APPLICATION_ID && (app_id != 0 || st->version != 0 || objects != 0))
		return set_err(st, SW_EINVAL,
			       "an SQLite database, but not a slipwatch store "
			       "(application_id %d); not touching it",
			       app_id);
	if (st->version > SW_STORE_SCHEMA_VERSION)
		return set_err(st, SW_EVERSION,
			       "schema version %d is newer than this program's "
			       "%d; not touching it (upgrade slipwatch)",
			       st->version, SW_STORE_SCHEMA_VERSION);
	if (st->version < SW_STORE_SCHEMA_VERSION && (st->flags & SW_STORE_RDONLY))
		return set_err(st, SW_EVERSION,
			       "schema version %d, this program needs %d; start "
			       "a daemon (read-write) once to migrate it",
			       st->version, SW_STORE_SCHEMA_VERSION);
	return SW_OK;
}

/* ---- version 9: CHECK IN-lists as OR chains ----------------------------- */

#define SCHEMA_TEXT_MAX	  (1 << 20) /* a table's CREATE text */
#define SCHEMA_TABLES_MAX 64	    /* tables with CHECK constraints */

/* Skips spaces. */
static const char *skip_sp(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

/* One 'literal' (no quote inside) at p: its end after the closing quote,
 * or NULL. */
static const char *sql_literal_end(const char *p)
{
	if (*p != '\'')
		return NULL;
	p = strchr(p + 1, '\'');
	return p && p[1] != '\'' ? p + 1 : NULL;
}

/* At p, after "CHECK (": `ident IN (lit, lit, ...)`.  On a match appends
 * the OR chain to out and returns the end of the list (after its ')');
 * else NULL and out unchanged. */
static const char *check_in_one(const char *p, struct sw_buf *out)
{
	const char *id = p, *q, *lit;
	size_t idlen;
	struct sw_buf tmp;
	int n = 0;

	sw_buf_init(&tmp, SCHEMA_TEXT_MAX);
	while (*p == '_' || (*p >= 'a' && *p <= 'z'))
		p++;
	idlen = (size_t)(p - id);
	q = skip_sp(p);
	if (idlen == 0 || strncmp(q, "IN", 2) != 0)
		return NULL;
	q = skip_sp(q + 2);
	if (*q++ != '(')
		return NULL;
	for (;;) {
		q = skip_sp(q);
		lit = q;
		if (!(q = sql_literal_end(q)))
			break;
		sw_buf_printf(&tmp, "%s%.*s = %.*s", n++ ? " OR " : "(", (int)idlen, id,
			      (int)(q - lit), lit);
		q = skip_sp(q);
		if (*q == ')') {
			sw_buf_adds(&tmp, ")");
			sw_buf_add(out, tmp.data, tmp.len);
			sw_buf_free(&tmp);
			return q + 1;
		}
		if (*q++ != ',')
			break;
	}
	sw_buf_free(&tmp);
	return NULL;
}

/* The table's CREATE text with every CHECK IN-list of literals rewritten;
 * NULL if there is none. */
static char *check_in_text(const char *sql)
{
	struct sw_buf out;
	const char *p = sql, *c, *end;
	int changed = 0;

	sw_buf_init(&out, SCHEMA_TEXT_MAX);
	while ((c = strstr(p, "CHECK ("))) {
		c += strlen("CHECK (");
		sw_buf_add(&out, p, (size_t)(c - p));
		if ((end = check_in_one(c, &out))) {
			changed = 1;
			p = end;
		} else
			p = c;
	}
	sw_buf_adds(&out, p);
	if (!changed) {
		sw_buf_free(&out);
		return NULL;
	}
	return sw_buf_steal(&out, NULL);
}

/* Rewrites the tables' texts (see schema_v9), inside the migration's
 * transaction, and increments the schema cookie so that every connection
 * parses the schema again.  The texts are read first: sqlite_schema is not
 * written while a read of it is open. */
static enum sw_err check_in_rewrite(struct sw_store *st)
{
	struct sw_db_stmt *s = NULL;
	char *name[SCHEMA_TABLES_MAX], *text[SCHEMA_TABLES_MAX];
	int n = 0, i, cookie = 0, rc;
	char sql[96];

	rc = sw_db_prepare(st->db,
			   "SELECT name, sql FROM sqlite_schema WHERE type = 'table' "
			   "AND sql LIKE '%CHECK (%'",
			   &s);
	while (rc == SW_DB_OK && n < SCHEMA_TABLES_MAX && sw_db_step(s) == SW_DB_ROW)
		if ((text[n] = check_in_text((const char *)sw_db_column_text(s, 1))))
			name[n++] = xstrdup((const char *)sw_db_column_text(s, 0));
	sw_db_finalize(s);
	s = NULL;
	if (rc == SW_DB_OK)
		rc = sw_db_exec(st->db, "PRAGMA writable_schema = ON");
	if (rc == SW_DB_OK)
		rc = sw_db_prepare(st->db,
				   "UPDATE sqlite_schema SET sql = ?1 WHERE "
				   "type = 'table' AND name = ?2",
				   &s);
	for (i = 0; rc == SW_DB_OK && i < n; i++) {
		sw_db_bind_text(s, 1, text[i], -1, SW_DB_STATIC);
		sw_db_bind_text(s, 2, name[i], -1, SW_DB_STATIC);
		rc = sw_db_step(s) == SW_DB_DONE ? SW_DB_OK : SW_DB_ERROR;
		sw_db_reset(s);
	}
	sw_db_finalize(s);
	for (i = 0; i < n; i++) {
		free(name[i]);
		free(text[i]);
	}
	if (rc == SW_DB_OK && pragma(st, "PRAGMA schema_version", &cookie, NULL, 0) == SW_OK) {
		/* An integer read from the file, not input. */
		snprintf(sql, sizeof(sql), "PRAGMA schema_version = %d", cookie + 1);
		rc = sw_db_exec(st->db, sql);
	} else if (rc == SW_DB_OK)
		rc = SW_DB_ERROR;
	if (rc != SW_DB_OK)
		db_err(st, "rewriting the CHECK constraints");
	sw_db_exec(st->db, "PRAGMA writable_schema = OFF");
	return rc == SW_DB_OK ? SW_OK : SW_ESTORE;
}

int sw_store_int_record_migration(struct sw_db *db, int v)
{
	struct sw_db_stmt *s = NULL;
	int rc = sw_db_prepare(db, "INSERT INTO schema_migrations (version, applied_at)"
				   " VALUES (?1, ?2)",
			       &s);

	if (rc == SW_DB_OK)
		rc = sw_db_bind_int(s, 1, v) | sw_db_bind_int64(s, 2, sw_clock_now());
	if (rc == SW_DB_OK)
		rc = sw_db_step(s);
	sw_db_finalize(s);
	return rc;
}

/* Applies one migration step inside the open transaction. */
static enum sw_err migrate_step(struct sw_store *st, int to)
{
	char sql[128];

	if (sw_db_exec(st->db, migrations[to - 1])) {
		set_err(st, SW_ESTORE, "migrating to schema version %d: %s", to,
			sw_db_errmsg(st->db));
		return SW_ESTORE;
	}
	if (to == 9 && check_in_rewrite(st) != SW_OK)
		return SW_ESTORE;
	/* Integers from this file only, never input. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d;", to,
		 STORE_APPLICATION_ID);
	if (sw_db_exec(st->db, sql))
		return db_err(st, "setting the schema version");
	if (sw_store_int_record_migration(st->db, to) != SW_DB_DONE)
		return db_err(st, "recording the migration");
	return SW_OK;
}

/* Brings the schema to SW_STORE_SCHEMA_VERSION in one transaction.  The
 * version is read again under the write lock: another process may have
 * migrated the file meanwhile. */
static enum sw_err migrate(struct sw_store *st)
{
	enum sw_err rc;
	int v;

	if (sw_db_exec(st->db, "BEGIN IMMEDIATE"))
		return db_err(st, "locking for migration");
	rc = check_file(st);
	for (v = st->version + 1; rc == SW_OK && v <= SW_STORE_SCHEMA_VERSION; v++)
		rc = migrate_step(st, v);
	if (rc == SW_OK && sw_db_exec(st->db, "COMMIT"))
		rc = db_err(st, "committing the migration");
	if (rc != SW_OK) {
		sw_db_exec(st->db, "ROLLBACK");
		return rc;
	}
	st->version = SW_STORE_SCHEMA_VERSION;
	return SW_OK;
}

/* Per-connection settings (see sw_store_open for the why). */
static enum sw_err configure(struct sw_store *st)
{
	char mode[16] = "";

	if (pragma(st, "PRAGMA foreign_keys = ON", NULL, NULL, 0))
		return SW_ESTORE;
	/* Savepoint (statement) journals and sorts stay in memory: ingest
	 * opens a savepoint per event, and a temp file each time costs more
	 * than the event.  The page cache is 32 MiB: the hot indexes of a
	 * large shop stay in memory between bursts. */
	if (pragma(st, "PRAGMA temp_store = MEMORY", NULL, NULL, 0) ||
	    pragma(st, "PRAGMA cache_size = -32768", NULL, NULL, 0))
		return SW_ESTORE;
	if (st->flags & SW_STORE_RDONLY)
		return SW_OK;
	if (pragma(st, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode)))
		return SW_ESTORE;
	if (strcmp(mode, "wal") != 0)
		return set_err(st, SW_ESTORE, "cannot use WAL journal mode (got \"%s\")", mode);
	return pragma(st, "PRAGMA synchronous = FULL", NULL, NULL, 0);
}

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * SQLite's busy handler: the database is locked by another process (the
 * collector and the alert engine share one file; a write transaction is
 * one writer at a time).  sqlite3_busy_timeout() sleeps 1, 2, 5, 10, 15,
 * 20, 25, 25, 25, 50, 50, 100 ms... between tries, so against a writer that
 * commits every few milliseconds (the collector under load) the waiter
 * nearly always wakes inside the next transaction: measured at 5,000
 * events/s, the alert engine spent 14.6 of 20 s asleep here and customers
 * heard seconds late (bench/e2e-latency.sh).  Trying again every
 * millisecond until busy_ms have passed finds the gaps between commits.
 */
static int busy_wait(void *arg, int tries)
{
	struct sw_store *st = arg;
	struct timespec pause = {0, 1000000};
	int64_t now = mono_ns();

	if (tries == 0)
		st->busy_since_ns = now;
	if (now - st->busy_since_ns >= (int64_t)st->busy_ms * 1000000)
		return 0; /* SW_DB_BUSY to the caller */
	nanosleep(&pause, NULL);
	return 1;
}

static enum sw_err open_db(struct sw_store *st)
{
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc, err;
	sqlite3 *h;

	if (st->flags & SW_STORE_RDONLY)
		oflags = SQLITE_OPEN_READONLY;
	else if (st->flags & SW_STORE_NOCREATE)
		oflags = SQLITE_OPEN_READWRITE;
	/* A handle is used by one thread (the daemons have one loop and no
	 * threads): no connection mutex, taken and released on every call. */
	oflags |= SQLITE_OPEN_NOMUTEX;
	rc = sw_db_sqlite_open(st->path, oflags, &st->db);
	h = sw_db_sqlite_handle(st->db);
	if (rc != SW_DB_OK) {
		err = h ? sqlite3_system_errno(h) : 0;
		return set_err(st, SW_ESTORE, "cannot open: %s%s%s%s",
			       h ? sqlite3_errmsg(h) : sqlite3_errstr(rc), err ? " (" : "",
			       err ? strerror(err) : "", err ? ")" : "");
	}
	sqlite3_extended_result_codes(h, 1);
	st->busy_ms = SW_STORE_BUSY_TIMEOUT_MS;
	sqlite3_busy_handler(h, busy_wait, st);
	return SW_OK;
}

/* Library-wide settings, before SQLite initialises itself on the first
 * open (later calls are refused by SQLite, harmlessly): no memory
 * statistics, whose global mutex every allocation took (nothing reads
 * them). */
static void lib_config(void)
{
	static int done;

	if (!done)
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	done = 1;
}

/* The SQLite part of sw_store_open_pw: st->path and st->flags are set. */
enum sw_err sw_store_int_sqlite_open(struct sw_store *st)
{
	enum sw_err rc;

	lib_config();
	if (sqlite3_libversion_number() < STORE_MIN_SQLITE)
		return set_err(st, SW_ESTORE, "SQLite %s is too old (need 3.35)",
			       sqlite3_libversion());
	if ((rc = open_db(st)) || (rc = check_file(st)) || (rc = configure(st)))
		return rc;
	if (st->version < SW_STORE_SCHEMA_VERSION && (rc = migrate(st)))
		return rc;
	return SW_OK;
}
