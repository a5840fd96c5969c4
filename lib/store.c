/*
 * store.c - the SQLite backend of the slipwatch store (see store.h).
 *
 * Design:
 * - One sqlite3 connection per handle; every statement the API runs is a
 *   static SQL text with named parameters, prepared once on first use and
 *   cached in the handle (stmt_sql[] below).  Input never becomes SQL.
 * - Merging rules live in the SQL (UPSERT ... DO UPDATE with CASE, and a
 *   trigger deriving an order's status), so each API call is one atomic
 *   statement wherever possible; the few two-statement calls run inside
 *   op_begin()/op_end() (BEGIN IMMEDIATE, or a SAVEPOINT within a caller's
 *   transaction).
 * - The schema version is PRAGMA user_version (transactional, readable
 *   before any table exists); PRAGMA application_id marks the file as a
 *   slipwatch store so that another program's database is never migrated.
 *   migrations[] is applied forward in one transaction on open.
 * - Every SQLite failure becomes SW_ESTORE with "store PATH: what: sqlite
 *   text" in st->errmsg.
 * Requires SQLite >= 3.35 (UPSERT, RETURNING).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/db.h"
#include "lib/db_pg.h"
#include "lib/db_sqlite.h"

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_pg.h"
#include "lib/xmalloc.h"

#define STORE_BUSY_TIMEOUT_MS 5000
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
/* The same status from six expressions for the stage times (created,
 * picked, packed, shipped, cancelled, backordered): what the order upsert
 * writes itself since schema 9 (the triggers are gone, see schema_v9). */
#define ORDER_LATEST_OF(c, p, k, s, x, b)                                                          \
	"max(coalesce(" c ", -1), coalesce(" p ", -1), coalesce(" k ", -1), coalesce(" s          \
	", -1), coalesce(" x ", -1), coalesce(" b ", -1))"
#define ORDER_STATUS_OF(c, p, k, s, x, b)                                                          \
	"CASE WHEN " x " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'cancelled' "               \
	"WHEN " s " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'shipped' "                      \
	"WHEN " k " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'packed' "                       \
	"WHEN " p " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'picked' "                       \
	"WHEN " b " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'backordered' "                  \
	"WHEN " c " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'created' ELSE NULL END"
/* A claim (UPDATE ... WHERE id IN (SELECT ... LIMIT)) taken by two
 * connections at once: on PostgreSQL the second skips the rows the first
 * has locked (SQLite has one writer at a time), and a row it waited on is
 * judged again by the outer WHERE, which a row claimed meanwhile (its
 * next_attempt_at now the claimer's lease end) no longer meets. */
#define CLAIM_SKIP_LOCKED "/*pg: FOR UPDATE SKIP LOCKED */"
#define CLAIM_STILL_DUE	  "state IN ('queued', 'deferred', 'sending') AND next_attempt_at <= :now"
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
 * order upsert (ST_ORDER_UPSERT), now computes the status itself with the
 * same rule (ORDER_STATUS_OF); rows already stored keep theirs.
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

/* Statements cached in the handle, prepared on first use. */
enum stmt_id {
	ST_BEGIN_WRITE,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_SP_BEGIN,
	ST_SP_RELEASE,
	ST_SP_ROLLBACK,
	ST_JOURNAL_INSERT,
	ST_JOURNAL_SEQ,
	ST_JOURNAL_READ,
	ST_JOURNAL_COUNT,
	ST_CURSOR_GET,
	ST_CURSOR_SET,
	ST_ORDER_UPSERT,
	ST_ORDER_GET,
	ST_ORDER_STAGES,
	ST_ORDER_STUB,
	ST_ORDER_DETAILS,
	ST_ORDER_BACKLOG,
	ST_PARCEL_UPSERT,
	ST_PARCEL_STATUS,
	ST_PARCEL_GET,
	ST_POLL_UPSERT,
	ST_POLL_REMOVE,
	ST_POLL_DUE,
	ST_ALERT_INSERT,
	ST_ALERT_ID,
	ST_OUTBOX_INSERT,
	ST_OUTBOX_ID,
	ST_OUTBOX_CLAIM,
	ST_OUTBOX_GET,
	ST_OUTBOX_SENT,
	ST_OUTBOX_DEFER,
	ST_OUTBOX_FAIL,
	ST_OUTBOX_COUNT,
	ST_UNSUB_ADD,
	ST_UNSUB_DEL,
	ST_UNSUB_CHECK,
	ST_UNSUB_LIST,
	ST_POLL_DUE_COURIER,
	ST_POLL_SEED,
	ST_PARCEL_COUNTS,
	ST_PARCEL_MAX_ID,
	ST_OUTBOX_SUPPRESS,
	ST_OUTBOX_SENT_SINCE,
	ST_OUTBOX_OBSOLETE,
	ST_OUTBOX_OBSOLETE_KEY,
	ST_OUTBOX_GET_KEY,
	ST_OUTBOX_CLAIM_GROUP,
	ST_OUTBOX_MERGED,
	ST_ALERT_OPEN,
	ST_HEALTH_OK,
	ST_HEALTH_FAIL,
	ST_HEALTH_GET,
	ST_ALERT_EXISTS,
	ST_ALERT_RESOLVE,
	ST_ALERT_REOPEN,
	ST_TRACK_SCAN_PARCELS,
	ST_TRACK_SCAN_ORDERS,
	ST_TRACK_PARCEL_ID,
	ST_TRACK_PARCEL_KEY,
	ST_TRACK_ORDER_ID,
	ST_TRACK_ORDER_KEY,
	ST_TRACK_ORDER_PARCELS,
	ST_TRACK_AMONG_PARCELS,
	ST_TRACK_AMONG_ORDERS,
	ST_DL_INSERT,
	ST_DL_LIST,
	ST_DL_DELETE,
	ST_DL_COUNT,
	ST_LAST
};

/* A pair (at, off) replaced when the new value is present. */
#define SET_IF_PRESENT(c)                                                                          \
	c "_off = CASE WHEN excluded." c "_at IS NOT NULL THEN excluded." c "_off ELSE " c         \
	  "_off END, " c "_at = coalesce(excluded." c "_at, " c "_at)"
/* A pair (at, off) keeping the earliest time. */
#define KEEP_EARLIEST(c)                                                                           \
	c "_off = CASE WHEN " c "_at IS NULL OR excluded." c "_at < " c "_at THEN excluded." c     \
	  "_off ELSE " c "_off END, " c "_at = CASE "                                              \
	  "WHEN " c "_at IS NULL OR excluded." c "_at < " c "_at THEN "                            \
	  "excluded." c "_at ELSE " c "_at END"
#define KEEP(c) c " = coalesce(excluded." c ", " c ")"
/* A stage time as KEEP_EARLIEST leaves it (an upsert's SET expressions all
 * read the row as it was). */
#define MERGED_AT(c)                                                                               \
	"(CASE WHEN " c "_at IS NULL OR excluded." c "_at < " c "_at THEN excluded." c "_at "      \
	"ELSE " c "_at END)"

#define ORDER_COLS                                                                                 \
	"id, warehouse_id, order_id, customer_name, customer_email, "                              \
	"customer_locale, customer_tz, promised_ship_by_at, "                                      \
	"promised_ship_by_off, promised_delivery_kind, "                                           \
	"promised_delivery_text, promised_delivery_at, "                                           \
	"promised_delivery_off, service_level, dest_country, "                                     \
	"dest_postal_code, dest_city, created_at, created_off, picked_at, "                        \
	"picked_off, packed_at, packed_off, shipped_at, shipped_off, "                             \
	"cancelled_at, cancelled_off, backordered_at, backordered_off, status, "                   \
	"customer_phone, customer_channel"
#define ORDER_STAGE_COL0 17 /* index of created_at in ORDER_COLS */
#define ORDER_PHONE_COL	 30 /* index of customer_phone (then customer_channel) */
#define ORDER_NCOLS	 32 /* columns in ORDER_COLS */

/* A parcel with its order, for the alert engine: the parcel columns of
 * ST_PARCEL_GET (PARCEL_NCOLS), then the order's ORDER_COLS (NULL when the
 * parcel has no order).  An order without parcel has NULL parcel columns. */
#define TRACK_PARCEL_COLS                                                                          \
	"p.id, p.courier, p.tracking_number, o.warehouse_id, o.order_id, "                         \
	"p.shipped_at, p.shipped_off, p.status, p.raw_code, p.raw_text, "                          \
	"p.last_event_at, p.last_event_off, p.eta_date, p.delivered_at, "                          \
	"p.delivered_off, p.first_scan_at, p.first_scan_off, p.terminal"
#define TRACK_NO_PARCEL                                                                            \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "                       \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL"
#define PARCEL_NCOLS 18
#define TRACK_ORDER_COLS                                                                           \
	"o.id, o.warehouse_id, o.order_id, o.customer_name, o.customer_email, "                    \
	"o.customer_locale, o.customer_tz, o.promised_ship_by_at, "                                \
	"o.promised_ship_by_off, o.promised_delivery_kind, "                                       \
	"o.promised_delivery_text, o.promised_delivery_at, "                                       \
	"o.promised_delivery_off, o.service_level, o.dest_country, "                               \
	"o.dest_postal_code, o.dest_city, o.created_at, o.created_off, o.picked_at, "              \
	"o.picked_off, o.packed_at, o.packed_off, o.shipped_at, o.shipped_off, "                   \
	"o.cancelled_at, o.cancelled_off, o.backordered_at, o.backordered_off, o.status, "         \
	"o.customer_phone, o.customer_channel"
/* After the parcel and order columns: polled_ok_at, the last poll that got
 * the courier's word (failures 0: found or not found; the poller writes
 * failures > 0 only for transport errors, 5xx, 429 and unusable answers),
 * and polled, whether the parcel has a poll schedule at all. */
/* clang-format off */
#define TRACK_PARCEL_ROW                                                                           \
	"SELECT " TRACK_PARCEL_COLS ", " TRACK_ORDER_COLS ", "                                     \
	"CASE WHEN s.failures = 0 THEN s.last_polled_at END, "                                     \
	"CASE WHEN s.parcel_ref IS NOT NULL THEN 1 ELSE 0 END"
#define TRACK_FROM_PARCELS                                                                         \
	TRACK_PARCEL_ROW " FROM parcels p LEFT JOIN orders o ON o.id = p.order_ref"                \
	" LEFT JOIN poll_schedule s ON s.parcel_ref = p.id WHERE "
/* clang-format on */
/* An order still in the warehouse: not shipped, not cancelled, no parcel. */
#define TRACK_FROM_ORDERS                                                                          \
	"SELECT " TRACK_NO_PARCEL ", " TRACK_ORDER_COLS ", NULL, 0 FROM orders o WHERE "
#define TRACK_ORDER_OPEN                                                                           \
	"o.shipped_at IS NULL AND o.cancelled_at IS NULL AND NOT EXISTS "                          \
	"(SELECT 1 FROM parcels q WHERE q.order_ref = o.id)"

/* The batched reads (sw_store_track_among): :list is a JSON array of
 * [a, b] pairs (courier + tracking number, or warehouse + order id); each
 * row ends with its pair's index (j.key, column TRACK_KEY_COL).  The same
 * columns and joins as TRACK_FROM_PARCELS / TRACK_FROM_ORDERS, the list
 * the outer loop (CROSS JOIN), one index seek per pair.  No ORDER BY (a
 * sorter costs a fifth of the read): the rows come in pair order per
 * branch, an order's parcels in id order (parcels_order ends in the
 * rowid), and the C side puts the orders' two branches in pair order. */
/* clang-format off */
#define TRACK_KEY_COL (PARCEL_NCOLS + ORDER_NCOLS + 2)
#define TRACK_PAIR(a, b)                                                                           \
	a " = json_extract(j.value, '$[0]') AND " b " = json_extract(j.value, '$[1]')"
#define TRACK_AMONG_PARCELS                                                                        \
	TRACK_PARCEL_ROW ", j.key FROM json_each(:list) j"                                         \
	" CROSS JOIN parcels p ON " TRACK_PAIR("p.courier", "p.tracking_number")                   \
	" LEFT JOIN orders o ON o.id = p.order_ref"                                                \
	" LEFT JOIN poll_schedule s ON s.parcel_ref = p.id"
/* an order's parcels, or the order alone (whatever its state) if it has
 * none: sw_store_track_order's rows */
#define TRACK_AMONG_ORDERS                                                                         \
	TRACK_PARCEL_ROW ", j.key FROM json_each(:list) j"                                         \
	" CROSS JOIN orders o ON " TRACK_PAIR("o.warehouse_id", "o.order_id")                      \
	" CROSS JOIN parcels p ON p.order_ref = o.id"                                              \
	" LEFT JOIN poll_schedule s ON s.parcel_ref = p.id"                                        \
	" UNION ALL SELECT " TRACK_NO_PARCEL ", " TRACK_ORDER_COLS ", NULL, 0, j.key"              \
	" FROM json_each(:list) j"                                                                 \
	" CROSS JOIN orders o ON " TRACK_PAIR("o.warehouse_id", "o.order_id")                      \
	" WHERE NOT EXISTS (SELECT 1 FROM parcels q WHERE q.order_ref = o.id)"
/* clang-format on */

/* An upsert into an existing order: descriptive fields replaced when
 * present, the delivery promise as a whole (kind, text, time), stage times
 * keeping the earliest.  (clang-format cannot lay out macro-built SQL.) */
/* clang-format off */
#define ORDER_UPSERT_SET                                                                           \
	KEEP("customer_name") ", " KEEP("customer_email") ", " KEEP("customer_locale") ", "        \
	KEEP("customer_tz") ", " KEEP("customer_phone") ", " KEEP("customer_channel") ", "         \
	SET_IF_PRESENT("promised_ship_by") ", "                                                    \
	"promised_delivery_text = CASE WHEN excluded.promised_delivery_kind IS NULL "              \
	"THEN promised_delivery_text ELSE excluded.promised_delivery_text END, "                   \
	"promised_delivery_at = CASE WHEN excluded.promised_delivery_kind IS NULL "                \
	"THEN promised_delivery_at ELSE excluded.promised_delivery_at END, "                       \
	"promised_delivery_off = CASE WHEN excluded.promised_delivery_kind IS NULL "               \
	"THEN promised_delivery_off ELSE excluded.promised_delivery_off END, "                     \
	KEEP("promised_delivery_kind") ", " KEEP("service_level") ", " KEEP("dest_country") ", "   \
	KEEP("dest_postal_code") ", " KEEP("dest_city") ", " KEEP_EARLIEST("created") ", "         \
	KEEP_EARLIEST("picked") ", " KEEP_EARLIEST("packed") ", " KEEP_EARLIEST("shipped") ", "    \
	KEEP_EARLIEST("cancelled") ", " KEEP_EARLIEST("backordered")
/* clang-format on */

#define PARCEL_FRESH "coalesce(:event_at, 0) >= coalesce(last_event_at, 0)"
/* An update reporting a delivery attempt earlier than any known (schema 8). */
#define PARCEL_ATTEMPT                                                                             \
	":status IN ('attempt_fail', 'available_for_pickup') AND :event_at IS NOT NULL AND "       \
	"(first_attempt_at IS NULL OR :event_at < first_attempt_at)"
#define OUTBOX_COLS SW_STORE_OUTBOX_COLS
#define POLL_COLS                                                                                  \
	"s.parcel_ref, p.courier, p.tracking_number, s.next_poll_at, "                             \
	"s.interval_s, s.failures, s.last_polled_at, s.last_error"

static const char *const stmt_sql[ST_LAST] = {
    [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT sw_op",
    [ST_RELEASE] = "RELEASE sw_op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO sw_op",
    [ST_SP_BEGIN] = "SAVEPOINT sw_caller",
    [ST_SP_RELEASE] = "RELEASE sw_caller",
    [ST_SP_ROLLBACK] = "ROLLBACK TO sw_caller",

    [ST_JOURNAL_INSERT] = "INSERT INTO journal (source, source_event_id, kind, "
			  "warehouse_id, order_id, courier, tracking_number, occurred_at, "
			  "occurred_off, received_at, payload) VALUES (:source, :seid, "
			  ":kind, :wh, :oid, :courier, :tn, :at, :off, :recv, :payload) "
			  "ON CONFLICT (source, source_event_id) DO NOTHING",
    [ST_JOURNAL_SEQ] = "SELECT seq FROM journal WHERE source = :source "
		       "AND source_event_id = :seid",
    [ST_JOURNAL_READ] = "SELECT seq, source, source_event_id, kind, warehouse_id, "
			"order_id, courier, tracking_number, occurred_at, occurred_off, "
			"received_at, payload FROM journal WHERE seq > :after "
			"ORDER BY seq LIMIT :limit",
    [ST_JOURNAL_COUNT] = "SELECT count(*) FROM journal",

    [ST_CURSOR_GET] = "SELECT seq FROM cursors WHERE name = :name",
    [ST_CURSOR_SET] = "INSERT INTO cursors (name, seq, updated_at) VALUES (:name, "
		      ":seq, :now) ON CONFLICT (name) DO UPDATE SET "
		      "seq = excluded.seq, updated_at = excluded.updated_at",

    [ST_ORDER_UPSERT] = "INSERT INTO orders (warehouse_id, order_id, customer_name, "
			"customer_email, customer_locale, customer_tz, customer_phone, "
			"customer_channel, promised_ship_by_at, promised_ship_by_off, "
			"promised_delivery_kind, promised_delivery_text, "
			"promised_delivery_at, promised_delivery_off, service_level, "
			"dest_country, dest_postal_code, dest_city, created_at, "
			"created_off, picked_at, picked_off, packed_at, packed_off, "
			"shipped_at, shipped_off, cancelled_at, cancelled_off, "
			"backordered_at, backordered_off, status) VALUES (:wh, :oid, :cname, "
			":cemail, :clocale, :ctz, :cphone, :cchannel, :ship_by_at, "
			":ship_by_off, :pd_kind, :pd_text, :pd_at, :pd_off, :service, "
			":country, :postal, :city, :created_at, :created_off, "
			":picked_at, :picked_off, :packed_at, :packed_off, :shipped_at, "
			":shipped_off, :cancelled_at, :cancelled_off, :backordered_at, "
			":backordered_off, " ORDER_STATUS_OF(":created_at", ":picked_at", ":packed_at",
							      ":shipped_at", ":cancelled_at",
							      ":backordered_at") ") "
			"ON CONFLICT (warehouse_id, order_id) "
			"DO UPDATE SET " ORDER_UPSERT_SET ", status = " ORDER_STATUS_OF(
			    MERGED_AT("created"), MERGED_AT("picked"), MERGED_AT("packed"),
			    MERGED_AT("shipped"), MERGED_AT("cancelled"), MERGED_AT("backordered")),
    [ST_ORDER_STAGES] = "SELECT created_at, created_off, picked_at, picked_off, packed_at, "
			"packed_off, shipped_at, shipped_off, cancelled_at, cancelled_off, "
			"backordered_at, backordered_off FROM orders WHERE "
			"warehouse_id = :wh AND order_id = :oid",
    [ST_ORDER_GET] = "SELECT " ORDER_COLS " FROM orders WHERE "
		     "warehouse_id = :wh AND order_id = :oid",
    [ST_ORDER_STUB] = "INSERT INTO orders (warehouse_id, order_id) "
		      "VALUES (:wh, :oid) ON CONFLICT DO NOTHING",
    [ST_ORDER_DETAILS] = "UPDATE orders SET customer_name = :cname, "
			 "customer_email = :cemail, customer_locale = :clocale, "
			 "customer_tz = :ctz, customer_phone = :cphone, "
			 "customer_channel = :cchannel, promised_ship_by_at = :ship_by_at, "
			 "promised_ship_by_off = :ship_by_off, "
			 "promised_delivery_kind = :pd_kind, "
			 "promised_delivery_text = :pd_text, "
			 "promised_delivery_at = :pd_at, promised_delivery_off = :pd_off, "
			 "service_level = :service, dest_country = :country, "
			 "dest_postal_code = :postal, dest_city = :city, "
			 "details_at = :dat, details_key = :dkey "
			 "WHERE warehouse_id = :wh AND order_id = :oid AND "
			 "(details_at IS NULL OR details_at < :dat OR "
			 "(details_at = :dat AND details_key < :dkey))",
    /* Each branch's WHERE is its partial index's: a covering scan of only
     * the waiting orders.  INDEXED BY because the planner would otherwise
     * take orders_unshipped (also partial, not covering) for the second;
     * it also makes the statement fail to prepare if the index is gone. */
    [ST_ORDER_BACKLOG] = "SELECT warehouse_id, sum(p), sum(s), sum(l) FROM ("
			 "SELECT warehouse_id, 1 AS p, 0 AS s, 0 AS l FROM orders "
			 "INDEXED BY orders_backlog_pick "
			 "WHERE created_at IS NOT NULL AND picked_at IS NULL "
			 "AND cancelled_at IS NULL UNION ALL "
			 "SELECT warehouse_id, 0, 1, 0 FROM orders "
			 "INDEXED BY orders_backlog_ship "
			 "WHERE picked_at IS NOT NULL AND shipped_at IS NULL "
			 "AND cancelled_at IS NULL UNION ALL "
			 /* past ship-by: the range of a partial index of
			  * unshipped orders keyed by ship-by */
			 "SELECT warehouse_id, 0, 0, 1 FROM orders "
			 "INDEXED BY orders_unshipped "
			 "WHERE shipped_at IS NULL AND cancelled_at IS NULL "
			 "AND promised_ship_by_at < :now) AS backlog "
			 "GROUP BY warehouse_id ORDER BY warehouse_id",

    [ST_PARCEL_UPSERT] = "INSERT INTO parcels (order_ref, courier, tracking_number, "
			 "shipped_at, shipped_off) VALUES ((SELECT id FROM orders WHERE "
			 "warehouse_id = :wh AND order_id = :oid), :courier, :tn, "
			 ":shipped_at, :shipped_off) "
			 "ON CONFLICT (courier, tracking_number) DO UPDATE SET " KEEP(
			     "order_ref") ", " KEEP_EARLIEST("shipped"),
    [ST_PARCEL_STATUS] = "UPDATE parcels SET "
			 "status = CASE WHEN " PARCEL_FRESH " THEN :status "
			 "ELSE status END, "
			 "raw_code = CASE WHEN " PARCEL_FRESH " THEN :raw_code "
			 "ELSE raw_code END, "
			 "raw_text = CASE WHEN " PARCEL_FRESH " THEN :raw_text "
			 "ELSE raw_text END, "
			 "terminal = CASE WHEN " PARCEL_FRESH " THEN :terminal "
			 "ELSE terminal END, "
			 "eta_date = CASE WHEN " PARCEL_FRESH " AND :eta IS NOT NULL "
			 "THEN :eta ELSE eta_date END, "
			 "first_eta_date = coalesce(first_eta_date, :eta), "
			 "first_attempt_off = CASE WHEN " PARCEL_ATTEMPT " THEN :event_off "
			 "ELSE first_attempt_off END, "
			 "first_attempt_at = CASE WHEN " PARCEL_ATTEMPT " THEN :event_at "
			 "ELSE first_attempt_at END, "
			 "last_event_off = CASE WHEN " PARCEL_FRESH " AND :event_at IS "
			 "NOT NULL THEN :event_off ELSE last_event_off END, "
			 "last_event_at = CASE WHEN " PARCEL_FRESH " AND :event_at IS "
			 "NOT NULL THEN :event_at ELSE last_event_at END, "
			 "first_scan_off = CASE WHEN :first_at IS NOT NULL AND "
			 "(first_scan_at IS NULL OR :first_at < first_scan_at) THEN "
			 ":first_off ELSE first_scan_off END, "
			 "first_scan_at = CASE WHEN :first_at IS NOT NULL AND "
			 "(first_scan_at IS NULL OR :first_at < first_scan_at) THEN "
			 ":first_at ELSE first_scan_at END, "
			 "delivered_off = CASE WHEN :deliv_at IS NOT NULL THEN "
			 ":deliv_off ELSE delivered_off END, "
			 "delivered_at = coalesce(:deliv_at, delivered_at) "
			 "WHERE courier = :courier AND tracking_number = :tn",
    [ST_PARCEL_GET] = "SELECT p.id, p.courier, p.tracking_number, o.warehouse_id, "
		      "o.order_id, p.shipped_at, p.shipped_off, p.status, p.raw_code, "
		      "p.raw_text, p.last_event_at, p.last_event_off, p.eta_date, "
		      "p.delivered_at, p.delivered_off, p.first_scan_at, "
		      "p.first_scan_off, p.terminal FROM parcels p LEFT JOIN orders o "
		      "ON o.id = p.order_ref WHERE p.courier = :courier AND "
		      "p.tracking_number = :tn",

    [ST_POLL_UPSERT] = "INSERT INTO poll_schedule (parcel_ref, next_poll_at, "
		       "interval_s, failures, last_polled_at, last_error) SELECT id, "
		       ":next, :interval, :failures, :last, :error FROM parcels WHERE "
		       "courier = :courier AND tracking_number = :tn "
		       "ON CONFLICT (parcel_ref) DO UPDATE SET "
		       "next_poll_at = excluded.next_poll_at, "
		       "interval_s = excluded.interval_s, "
		       "failures = excluded.failures, "
		       "last_polled_at = excluded.last_polled_at, "
		       "last_error = excluded.last_error",
    [ST_POLL_REMOVE] = "DELETE FROM poll_schedule WHERE parcel_ref = (SELECT id FROM "
		       "parcels WHERE courier = :courier AND tracking_number = :tn)",
    [ST_POLL_DUE] = "SELECT " POLL_COLS " FROM poll_schedule s JOIN "
		    "parcels p ON p.id = s.parcel_ref WHERE "
		    "s.next_poll_at <= :before AND p.terminal = 0 "
		    "ORDER BY s.next_poll_at, s.parcel_ref LIMIT :limit",

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
    [ST_OUTBOX_CLAIM] = "UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
			"next_attempt_at = :lease_end WHERE id IN (SELECT id FROM outbox "
			"WHERE state IN ('queued', 'deferred', 'sending') AND "
			"receiver IS NULL AND next_attempt_at <= :now ORDER BY next_attempt_at, id "
			"LIMIT :limit " CLAIM_SKIP_LOCKED ") AND " CLAIM_STILL_DUE " RETURNING " OUTBOX_COLS,
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

    /* CROSS JOIN keeps poll_schedule the outer loop, so SQLite walks the
     * poll_due index in due order and stops at LIMIT; a plain JOIN let the
     * planner read every parcel of the courier and sort (measured: the due
     * query took half the poll engine's time at 8,000 parcels). */
    [ST_POLL_DUE_COURIER] = "SELECT " POLL_COLS " FROM poll_schedule s CROSS JOIN "
			    "parcels p ON p.id = s.parcel_ref WHERE "
			    "p.courier = :courier AND s.next_poll_at <= :before AND "
			    "p.terminal = 0 ORDER BY s.next_poll_at, s.parcel_ref "
			    "LIMIT :limit",
    /* New parcels get a schedule spread over [next, next + spread); only
     * ids in (after, upto] are looked at, so repeated calls stay cheap. */
    [ST_POLL_SEED] = "INSERT INTO poll_schedule (parcel_ref, next_poll_at, interval_s, "
		     "failures) SELECT p.id, :next + abs(random() % :spread), :interval, 0 "
		     "FROM parcels p WHERE p.id > :after AND p.id <= :upto AND "
		     "p.courier = :courier AND p.terminal = 0 AND "
		     "NOT EXISTS (SELECT 1 FROM poll_schedule s WHERE s.parcel_ref = p.id)",
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
    [ST_TRACK_SCAN_PARCELS] = TRACK_FROM_PARCELS "p.id > :after AND p.terminal = 0 "
					      "ORDER BY p.id LIMIT :limit",
    [ST_TRACK_SCAN_ORDERS] = TRACK_FROM_ORDERS "o.id > :after AND " TRACK_ORDER_OPEN
					     " ORDER BY o.id LIMIT :limit",
    [ST_TRACK_PARCEL_ID] = TRACK_FROM_PARCELS "p.id = :id",
    [ST_TRACK_PARCEL_KEY] = TRACK_FROM_PARCELS "p.courier = :courier AND "
					    "p.tracking_number = :tn",
    [ST_TRACK_ORDER_ID] = TRACK_FROM_ORDERS "o.id = :id",
    [ST_TRACK_ORDER_KEY] = TRACK_FROM_ORDERS "o.warehouse_id = :wh AND o.order_id = :oid",
    [ST_TRACK_ORDER_PARCELS] = TRACK_FROM_PARCELS "p.order_ref = :id ORDER BY p.id",
    [ST_TRACK_AMONG_PARCELS] = TRACK_AMONG_PARCELS,
    [ST_TRACK_AMONG_ORDERS] = TRACK_AMONG_ORDERS,
    [ST_DL_INSERT] = "INSERT INTO deadletters (topic, payload, created_at) "
		     "VALUES (:topic, :payload, :at) RETURNING id",
    [ST_DL_LIST] = "SELECT id, topic, payload, created_at FROM deadletters "
		   "WHERE id > :after ORDER BY id LIMIT :limit",
    [ST_DL_DELETE] = "DELETE FROM deadletters WHERE id = :id",
    [ST_DL_COUNT] = "SELECT count(*) FROM deadletters",
    [ST_PARCEL_MAX_ID] = "SELECT coalesce(max(id), 0) FROM parcels",
    [ST_PARCEL_COUNTS] = "SELECT courier, status, count(*) FROM parcels "
			 "GROUP BY courier, status ORDER BY courier, status",
};

struct sw_store {
	struct sw_db *db;
	char *path;
	unsigned flags;
	int in_txn;  /* sw_store_begin succeeded, no commit/rollback yet */
	int in_sp;   /* sw_store_savepoint open (only while in_txn) */
	int version; /* schema version of the file */
	int busy_ms; /* how long a locked write waits (busy_wait) */
	int64_t busy_since_ns; /* monotonic start of the current wait */
	struct sw_db_stmt *stmt[ST_LAST];
	char errmsg[512];
};

/* ---- names ------------------------------------------------------------- */

static const char *const stage_names[SW_STAGE_LAST] = {
    [SW_STAGE_CREATED] = "created",	[SW_STAGE_PICKED] = "picked",
    [SW_STAGE_PACKED] = "packed",	[SW_STAGE_SHIPPED] = "shipped",
    [SW_STAGE_CANCELLED] = "cancelled", [SW_STAGE_BACKORDERED] = "backordered",
};

static const char *const ship_names[SW_SHIP_LAST] = {
    [SW_SHIP_PENDING] = "pending",
    [SW_SHIP_INFO_RECEIVED] = "info_received",
    [SW_SHIP_IN_TRANSIT] = "in_transit",
    [SW_SHIP_OUT_FOR_DELIVERY] = "out_for_delivery",
    [SW_SHIP_ATTEMPT_FAIL] = "attempt_fail",
    [SW_SHIP_AVAILABLE_FOR_PICKUP] = "available_for_pickup",
    [SW_SHIP_DELIVERED] = "delivered",
    [SW_SHIP_EXCEPTION] = "exception",
    [SW_SHIP_RETURNING] = "returning",
    [SW_SHIP_RETURNED] = "returned",
    [SW_SHIP_EXPIRED] = "expired",
    [SW_SHIP_CANCELLED] = "cancelled",
    [SW_SHIP_UNKNOWN] = "unknown",
};

static const char *const outbox_names[SW_OUTBOX_LAST] = {
    [SW_OUTBOX_QUEUED] = "queued", [SW_OUTBOX_SENDING] = "sending",   [SW_OUTBOX_SENT] = "sent",
    [SW_OUTBOX_FAILED] = "failed", [SW_OUTBOX_DEFERRED] = "deferred",
    [SW_OUTBOX_SUPPRESSED] = "suppressed", [SW_OUTBOX_OBSOLETE] = "obsolete",
    [SW_OUTBOX_MERGED] = "merged",
};

static const char *const promise_names[SW_PROMISE_LAST] = {
    [SW_PROMISE_NONE] = "none",
    [SW_PROMISE_INSTANT] = "instant",
    [SW_PROMISE_DATE] = "date",
};

const char *sw_store_stage_name(enum sw_stage s)
{
	return (unsigned)s < SW_STAGE_LAST ? stage_names[s] : "?";
}

const char *sw_store_ship_status_name(enum sw_ship_status s)
{
	return (unsigned)s < SW_SHIP_LAST ? ship_names[s] : "?";
}

const char *sw_store_outbox_state_name(enum sw_outbox_state s)
{
	return (unsigned)s < SW_OUTBOX_LAST ? outbox_names[s] : "?";
}

const char *sw_store_promise_kind_name(enum sw_promise_kind k)
{
	return (unsigned)k < SW_PROMISE_LAST ? promise_names[k] : "?";
}

/* Index of name in names[n], or n if absent (or name NULL). */
static int name_index(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n;
}

enum sw_err sw_store_ship_status_parse(const char *name, enum sw_ship_status *ret_status)
{
	int i = name_index(ship_names, SW_SHIP_LAST, name);

	if (i == SW_SHIP_LAST)
		return SW_EINVAL;
	*ret_status = (enum sw_ship_status)i;
	return SW_OK;
}

int sw_store_ship_status_terminal(enum sw_ship_status s)
{
	return s == SW_SHIP_DELIVERED || s == SW_SHIP_RETURNED || s == SW_SHIP_EXPIRED ||
	       s == SW_SHIP_CANCELLED;
}

/* ---- errors, statements, binding -------------------------------------- */

/* "store PATH: " + the text; returns rc (defined with store_int.h). */
#define set_err sw_store_int_err

/* Records SQLite's text for the failed operation `what`; SW_ESTORE. */
static enum sw_err db_err(struct sw_store *st, const char *what)
{
	return set_err(st, SW_ESTORE, "%s: %s", what, sw_db_errmsg(st->db));
}

/*
 * Parameter numbers by name, remembered: sw_db_bind_parameter_index() is
 * a linear search comparing names, a tenth of the collector's instructions
 * per event.  Keyed by the statement's and the name's addresses (the names
 * are string literals), for the handle's cached statements only (the b_*
 * helpers below are used with nothing else); emptied whenever one of
 * those is finalized (stmt() after a failed prepare, sw_store_close), so
 * a new statement at a freed one's address never finds its numbers.  A
 * collision only costs a lookup.
 */
#define PIDX_SLOTS 1024
static _Thread_local struct { /* handles are per thread (store.h) */
	const struct sw_db_stmt *s;
	const char *name;
	int idx;
} pidx_cache[PIDX_SLOTS];

static int pidx(struct sw_db_stmt *s, const char *name)
{
	uintptr_t h = ((uintptr_t)s >> 4) * 2654435761u ^ ((uintptr_t)name >> 2);
	size_t slot = (size_t)(h ^ (h >> 11)) % PIDX_SLOTS;

	if (pidx_cache[slot].s != s || pidx_cache[slot].name != name) {
		pidx_cache[slot].s = s;
		pidx_cache[slot].name = name;
		pidx_cache[slot].idx = sw_db_bind_parameter_index(s, name);
	}
	return pidx_cache[slot].idx;
}

static void pidx_forget(void)
{
	memset(pidx_cache, 0, sizeof(pidx_cache));
}

/* The cached statement id, reset and ready to bind; NULL on error. */
static struct sw_db_stmt *stmt(struct sw_store *st, enum stmt_id id)
{
	int rc;

	if (st->stmt[id]) {
		sw_db_reset(st->stmt[id]);
		sw_db_clear_bindings(st->stmt[id]);
		return st->stmt[id];
	}
	rc = sw_db_prepare_persistent(st->db, stmt_sql[id], &st->stmt[id]);
	if (rc != SW_DB_OK) {
		db_err(st, "prepare");
		sw_db_finalize(st->stmt[id]);
		pidx_forget();
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

/* Releases a statement's read state and bound copies after use. */
static void stmt_done(struct sw_db_stmt *s)
{
	sw_db_reset(s);
	sw_db_clear_bindings(s);
}

/* Steps s to completion (no rows expected), resets it.  what names the
 * operation in the error text. */
static enum sw_err run(struct sw_store *st, struct sw_db_stmt *s, const char *what)
{
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW)
		;
	if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		return SW_ESTORE;
	}
	stmt_done(s);
	return SW_OK;
}

/* As run(), for the writes of one event's values: a constraint the row
 * breaks (a CHECK, NOT NULL, a trigger's RAISE) refuses the caller's values
 * and is SW_EINVAL, deterministic like the checks in C before it, so that
 * the collector rejects the event rather than retrying it forever. */
static enum sw_err run_values(struct sw_store *st, struct sw_db_stmt *s, const char *what)
{
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW)
		;
	if (rc != SW_DB_DONE) {
		enum sw_err e = (rc & 0xff) == SW_DB_CONSTRAINT ? SW_EINVAL : SW_ESTORE;

		set_err(st, e, "%s: %s", what, sw_db_errmsg(st->db));
		stmt_done(s);
		return e;
	}
	stmt_done(s);
	return SW_OK;
}

static enum sw_err run_id(struct sw_store *st, enum stmt_id id, const char *what)
{
	struct sw_db_stmt *s = stmt(st, id);

	return s ? run(st, s, what) : SW_ESTORE;
}

/* Binding by parameter name; NULL text and 0 times bind SQL NULL.  Each
 * returns an SQLite code; callers OR them and check once. */
static int b_text(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = pidx(s, name);

	if (v == NULL)
		return sw_db_bind_null(s, i);
	return sw_db_bind_text(s, i, v, -1, SW_DB_TRANSIENT);
}

/* As b_text, without SQLite's copy: only for statements stepped to their
 * end (and reset) before the caller's strings go, such as the collector's
 * per-event writes, where the copies were a measurable share of ingest. */
static int b_text_ref(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = pidx(s, name);

	if (v == NULL)
		return sw_db_bind_null(s, i);
	return sw_db_bind_text(s, i, v, -1, SW_DB_STATIC);
}

static int b_int(struct sw_db_stmt *s, const char *name, int64_t v)
{
	return sw_db_bind_int64(s, pidx(s, name), v);
}

/* A ratio: 0 binds SQL NULL ("none"). */
static int b_ratio(struct sw_db_stmt *s, const char *name, double v)
{
	int i = pidx(s, name);

	return v != 0 ? sw_db_bind_double(s, i, v) : sw_db_bind_null(s, i);
}

static int b_time(struct sw_db_stmt *s, const char *name, int64_t v)
{
	int i = pidx(s, name);

	return v ? sw_db_bind_int64(s, i, v) : sw_db_bind_null(s, i);
}

static int b_stamp(struct sw_db_stmt *s, const char *at_name, const char *off_name, struct sw_stamp v)
{
	int i = pidx(s, off_name);
	int rc = b_time(s, at_name, v.at);

	if (v.at)
		return rc | sw_db_bind_int(s, i, v.offset);
	return rc | sw_db_bind_null(s, i);
}

/* A bind failed (a bug, or a value too big for SQLite). */
static enum sw_err bind_failed(struct sw_store *st, struct sw_db_stmt *s)
{
	db_err(st, "bind");
	stmt_done(s);
	return SW_ESTORE;
}

#define col_str sw_store_int_col_str
#define col_stamp sw_store_int_col_stamp

static int nonempty(const char *s)
{
	return s && *s;
}

/* SW_OK if v is a valid (possibly absent) stamp, else SW_ERANGE. */
static enum sw_err check_stamp(struct sw_store *st, const char *what, struct sw_stamp v)
{
	if (v.at < 0)
		return set_err(st, SW_ERANGE, "%s: negative time %lld", what, (long long)v.at);
	if (v.at && (v.offset > SW_STORE_MAX_OFFSET || v.offset < -SW_STORE_MAX_OFFSET))
		return set_err(st, SW_ERANGE, "%s: UTC offset %ld s out of range", what,
			       (long)v.offset);
	return SW_OK;
}

static enum sw_err check_limit(struct sw_store *st, int limit)
{
	if (limit < 1 || limit > SW_STORE_MAX_BATCH)
		return set_err(st, SW_ERANGE, "batch limit %d not in 1..%d", limit,
			       SW_STORE_MAX_BATCH);
	return SW_OK;
}

/* A single-valued query's int64 result (0 if no row). */
static enum sw_err query_int(struct sw_store *st, struct sw_db_stmt *s, const char *what, int64_t *ret,
			     int *ret_found)
{
	int rc = sw_db_step(s);

	*ret = 0;
	if (ret_found)
		*ret_found = rc == SW_DB_ROW;
	if (rc == SW_DB_ROW) {
		*ret = sw_db_column_int64(s, 0);
		/* Run to completion: an INSERT ... RETURNING finishes here. */
		while ((rc = sw_db_step(s)) == SW_DB_ROW)
			;
	}
	if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		return SW_ESTORE;
	}
	stmt_done(s);
	return SW_OK;
}

/* ---- for the other backend files (store_int.h) ------------------------ */

struct sw_db *sw_store_int_db(struct sw_store *st)
{
	return st->db;
}

enum sw_err sw_store_int_err(struct sw_store *st, enum sw_err rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(st->errmsg, sizeof(st->errmsg), "store %s: ", st->path);
	if (n < 0 || (size_t)n >= sizeof(st->errmsg))
		return rc;
	va_start(ap, fmt);
	vsnprintf(st->errmsg + n, sizeof(st->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

enum sw_err sw_store_int_dberr(struct sw_store *st, const char *what)
{
	return db_err(st, what);
}

struct sw_db_stmt *sw_store_int_prepare(struct sw_store *st, const char *sql, const char *what)
{
	struct sw_db_stmt *s = NULL;

	if (sw_db_prepare(st->db, sql, &s) != SW_DB_OK) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return NULL;
	}
	return s;
}

int sw_store_int_bind_text(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = sw_db_bind_parameter_index(s, name);

	if (i == 0)
		return SW_DB_RANGE;
	return v ? sw_db_bind_text(s, i, v, -1, SW_DB_TRANSIENT) : sw_db_bind_null(s, i);
}

int sw_store_int_bind_int(struct sw_db_stmt *s, const char *name, int64_t v)
{
	int i = sw_db_bind_parameter_index(s, name);

	return i ? sw_db_bind_int64(s, i, v) : SW_DB_RANGE;
}

void sw_store_int_json_str(struct sw_buf *b, const char *s)
{
	char esc[8];

	sw_buf_adds(b, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			sw_buf_add(b, esc, 2);
		} else if (*c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			sw_buf_adds(b, esc);
		} else {
			sw_buf_add(b, c, 1);
		}
	}
	sw_buf_adds(b, "\"");
}

char *sw_store_int_col_str(struct sw_db_stmt *s, int i)
{
	const unsigned char *t = sw_db_column_text(s, i);

	return t ? xstrndup((const char *)t, (size_t)sw_db_column_bytes(s, i)) : NULL;
}

struct sw_stamp sw_store_int_col_stamp(struct sw_db_stmt *s, int i)
{
	struct sw_stamp v = {0, 0};

	if (sw_db_column_type(s, i) != SW_DB_NULL) {
		v.at = sw_db_column_int64(s, i);
		v.offset = sw_db_column_int(s, i + 1);
	}
	return v;
}

/* ---- atomic multi-statement operations -------------------------------- */

/* Starts an operation that runs several statements: its own write
 * transaction, or a savepoint inside the caller's. */
static enum sw_err op_begin(struct sw_store *st)
{
	return run_id(st, st->in_txn ? ST_SAVEPOINT : ST_BEGIN_WRITE, "begin");
}

/* Ends the operation: keeps its effects if rc is SW_OK, else undoes them
 * (keeping the original error text).  Returns rc or a commit failure. */
static enum sw_err op_end(struct sw_store *st, enum sw_err rc)
{
	char saved[sizeof(st->errmsg)];

	if (rc == SW_OK) {
		rc = run_id(st, st->in_txn ? ST_RELEASE : ST_COMMIT, "commit");
		if (rc == SW_OK)
			return SW_OK;
	}
	memcpy(saved, st->errmsg, sizeof(saved));
	if (st->in_txn) {
		if (!sw_db_get_autocommit(st->db)) {
			run_id(st, ST_ROLLBACK_TO, "rollback");
			run_id(st, ST_RELEASE, "rollback");
		}
	} else if (!sw_db_get_autocommit(st->db)) {
		run_id(st, ST_ROLLBACK, "rollback");
	}
	memcpy(st->errmsg, saved, sizeof(saved));
	return rc;
}

/* ---- open, migrate, close --------------------------------------------- */

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

/* Applies one migration step inside the open transaction. */
static enum sw_err migrate_step(struct sw_store *st, int to)
{
	char sql[128];
	struct sw_db_stmt *s = NULL;
	int rc;

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
	rc = sw_db_prepare(st->db,
			   "INSERT INTO schema_migrations (version, "
			   "applied_at) VALUES (?1, ?2)",
			   &s);
	if (rc == SW_DB_OK)
		rc = sw_db_bind_int(s, 1, to) | sw_db_bind_int64(s, 2, sw_clock_now());
	if (rc == SW_DB_OK)
		rc = sw_db_step(s);
	sw_db_finalize(s);
	if (rc != SW_DB_DONE)
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
	st->busy_ms = STORE_BUSY_TIMEOUT_MS;
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

/* Opens the PostgreSQL store at url into st (store_pg.c does the work). */
static enum sw_err open_pg(struct sw_store *st, const char *url, const char *password)
{
	char err[sizeof(st->errmsg)] = "";
	enum sw_err rc = sw_store_pg_open(url, password, st->flags, &st->db, &st->version, err,
					  sizeof(err));

	return rc ? set_err(st, rc, "%s", err) : SW_OK;
}

static char *pg_password; /* sw_store_set_password */

void sw_store_set_password(const char *password)
{
	if (pg_password) {
		explicit_bzero(pg_password, strlen(pg_password));
		free(pg_password);
	}
	pg_password = password ? xstrdup(password) : NULL;
}

enum sw_err sw_store_open(const char *path, unsigned flags, struct sw_store **ret_store,
			  char *errbuf, size_t errlen)
{
	return sw_store_open_pw(path, NULL, flags, ret_store, errbuf, errlen);
}

enum sw_err sw_store_open_pw(const char *path, const char *password, unsigned flags,
			     struct sw_store **ret_store, char *errbuf, size_t errlen)
{
	struct sw_store *st;
	enum sw_err rc;
	char shown[512];

	*ret_store = NULL;
	if (!nonempty(path) || (flags & ~(SW_STORE_RDONLY | SW_STORE_NOCREATE))) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "store: bad path or flags");
		return SW_EINVAL;
	}
	if (sw_db_driver_for(path) == &sw_db_pg_driver) {
		st = xcalloc(1, sizeof(*st));
		sw_db_pg_describe(path, shown, sizeof(shown));
		st->path = xstrdup(shown);
		st->flags = flags;
		if ((rc = open_pg(st, path, password ? password : pg_password)))
			goto fail;
		*ret_store = st;
		return SW_OK;
	}
	lib_config();
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->flags = flags;
	if (sqlite3_libversion_number() < STORE_MIN_SQLITE) {
		rc = set_err(st, SW_ESTORE, "SQLite %s is too old (need 3.35)",
			     sqlite3_libversion());
		goto fail;
	}
	if ((rc = open_db(st)) || (rc = check_file(st)) || (rc = configure(st)))
		goto fail;
	if (st->version < SW_STORE_SCHEMA_VERSION && (rc = migrate(st)))
		goto fail;
	*ret_store = st;
	return SW_OK;
fail:
	if ((flags & SW_STORE_RDONLY) && st->db && sw_db_dialect(st->db) == SW_DB_SQLITE &&
	    sw_db_errcode(st->db) == SW_DB_READONLY) {
		size_t n = strlen(st->errmsg);

		/* WAL: a reader maps PATH-shm, which it must create when no
		 * writer has the file open */
		snprintf(st->errmsg + n, sizeof(st->errmsg) - n,
			 " (reading a store needs write access to its directory while no "
			 "slipwatch daemon has it open: run as the daemons' user)");
	}
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", st->errmsg);
	sw_store_close(st);
	return rc;
}

void sw_store_close(struct sw_store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_LAST; i++)
		sw_db_finalize(st->stmt[i]);
	pidx_forget();
	if (st->db && !sw_db_get_autocommit(st->db))
		sw_db_exec(st->db, "ROLLBACK");
	sw_db_close(st->db);
	free(st->path);
	free(st);
}

const char *sw_store_errmsg(const struct sw_store *st)
{
	return st->errmsg;
}

int sw_store_schema_version(const struct sw_store *st)
{
	return st->version;
}

/* ---- transactions ------------------------------------------------------ */

enum sw_err sw_store_begin(struct sw_store *st)
{
	enum stmt_id id = (st->flags & SW_STORE_RDONLY) ? ST_BEGIN_READ : ST_BEGIN_WRITE;
	enum sw_err rc;

	if (st->in_txn)
		return set_err(st, SW_EINVAL,
			       "begin: a transaction is already open "
			       "(nesting is not supported)");
	rc = run_id(st, id, "begin");
	if (rc == SW_OK)
		st->in_txn = 1;
	return rc;
}

enum sw_err sw_store_commit(struct sw_store *st)
{
	enum sw_err rc;

	if (!st->in_txn)
		return set_err(st, SW_EINVAL, "commit: no transaction is open");
	st->in_txn = 0;
	st->in_sp = 0;
	if (sw_db_get_autocommit(st->db))
		return set_err(st, SW_ESTORE,
			       "commit: the transaction was already rolled "
			       "back by an earlier error");
	rc = run_id(st, ST_COMMIT, "commit");
	if (rc != SW_OK)
		op_end(st, rc); /* not in_txn: plain ROLLBACK */
	return rc;
}

enum sw_err sw_store_rollback(struct sw_store *st)
{
	if (!st->in_txn)
		return set_err(st, SW_EINVAL, "rollback: no transaction is open");
	st->in_txn = 0;
	st->in_sp = 0;
	if (sw_db_get_autocommit(st->db))
		return SW_OK; /* SQLite already rolled it back */
	return run_id(st, ST_ROLLBACK, "rollback");
}

enum sw_err sw_store_savepoint(struct sw_store *st)
{
	enum sw_err rc;

	if (!st->in_txn || st->in_sp)
		return set_err(st, SW_EINVAL, "savepoint: %s",
			       st->in_txn ? "one is already open" : "no transaction is open");
	/* Outside a transaction SAVEPOINT would start one of its own. */
	if (sw_db_get_autocommit(st->db))
		return set_err(st, SW_ESTORE,
			       "savepoint: the transaction was already rolled "
			       "back by an earlier error");
	rc = run_id(st, ST_SP_BEGIN, "savepoint");
	if (rc == SW_OK)
		st->in_sp = 1;
	return rc;
}

enum sw_err sw_store_savepoint_release(struct sw_store *st)
{
	if (!st->in_sp)
		return set_err(st, SW_EINVAL, "release: no savepoint is open");
	if (sw_db_get_autocommit(st->db)) {
		st->in_sp = 0;
		return set_err(st, SW_ESTORE,
			       "release: the transaction was already rolled "
			       "back by an earlier error");
	}
	st->in_sp = 0;
	return run_id(st, ST_SP_RELEASE, "release savepoint");
}

enum sw_err sw_store_savepoint_rollback(struct sw_store *st)
{
	enum sw_err rc;

	if (!st->in_sp)
		return set_err(st, SW_EINVAL, "rollback to: no savepoint is open");
	st->in_sp = 0;
	if (sw_db_get_autocommit(st->db))
		return set_err(st, SW_ESTORE,
			       "rollback to: the transaction was already rolled "
			       "back by an earlier error");
	rc = run_id(st, ST_SP_ROLLBACK, "rollback to savepoint");
	if (rc == SW_OK)
		rc = run_id(st, ST_SP_RELEASE, "release savepoint");
	return rc;
}

enum sw_err sw_store_set_busy_timeout(struct sw_store *st, int ms)
{
	if (ms < 0)
		return set_err(st, SW_EINVAL, "busy timeout: negative");
	st->busy_ms = ms;
	return SW_OK;
}

/* ---- journal ----------------------------------------------------------- */

static enum sw_err journal_check(struct sw_store *st, const struct sw_journal_event *ev)
{
	if (!nonempty(ev->source) || !nonempty(ev->source_event_id) || !nonempty(ev->kind))
		return set_err(st, SW_EINVAL,
			       "journal append: source, "
			       "source event id and kind are required");
	if (ev->occurred_at.at == 0)
		return set_err(st, SW_EINVAL, "journal append: occurred_at is required");
	if (ev->received_at < 0)
		return set_err(st, SW_ERANGE, "journal append: negative received_at");
	return check_stamp(st, "journal append: occurred_at", ev->occurred_at);
}

/* Looks up an existing row's id by a key query; result SW_EDUP. */
static enum sw_err existing_id(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			       int64_t *ret_id)
{
	int64_t id;
	enum sw_err rc = query_int(st, s, what, &id, NULL);

	if (rc)
		return rc;
	if (ret_id)
		*ret_id = id;
	return SW_EDUP;
}

enum sw_err sw_store_journal_append(struct sw_store *st, const struct sw_journal_event *ev,
				    int64_t *ret_seq)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = journal_check(st, ev)))
		return rc;
	if (!(s = stmt(st, ST_JOURNAL_INSERT)))
		return SW_ESTORE;
	if (b_text_ref(s, ":source", ev->source) | b_text_ref(s, ":seid", ev->source_event_id) |
	    b_text_ref(s, ":kind", ev->kind) | b_text_ref(s, ":wh", ev->warehouse_id) |
	    b_text_ref(s, ":oid", ev->order_id) | b_text_ref(s, ":courier", ev->courier) |
	    b_text_ref(s, ":tn", ev->tracking_number) | b_int(s, ":at", ev->occurred_at.at) |
	    b_int(s, ":off", ev->occurred_at.offset) |
	    b_int(s, ":recv", ev->received_at ? ev->received_at : sw_clock_now()) |
	    b_text_ref(s, ":payload", ev->payload))
		return bind_failed(st, s);
	/* No RETURNING: SQLite collects RETURNING rows in a temporary b-tree
	 * per statement, a measurable part of ingest.  The row count and the
	 * last rowid say the same (a trigger's writes count in neither). */
	if ((rc = run_values(st, s, "journal append")))
		return rc;
	if (sw_db_changes(st->db) == 1) {
		if (ret_seq)
			*ret_seq = sw_db_last_insert_rowid(st->db);
		return SW_OK;
	}
	if (!(s = stmt(st, ST_JOURNAL_SEQ)))
		return SW_ESTORE;
	if (b_text(s, ":source", ev->source) | b_text(s, ":seid", ev->source_event_id))
		return bind_failed(st, s);
	return existing_id(st, s, "journal append", ret_seq);
}

static void journal_row(struct sw_db_stmt *s, struct sw_journal_event *ev)
{
	ev->seq = sw_db_column_int64(s, 0);
	ev->source = col_str(s, 1);
	ev->source_event_id = col_str(s, 2);
	ev->kind = col_str(s, 3);
	ev->warehouse_id = col_str(s, 4);
	ev->order_id = col_str(s, 5);
	ev->courier = col_str(s, 6);
	ev->tracking_number = col_str(s, 7);
	ev->occurred_at = col_stamp(s, 8);
	ev->received_at = sw_db_column_int64(s, 10);
	ev->payload = col_str(s, 11);
}

static void journal_free(struct sw_journal_event *evs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)evs[i].source);
		free((char *)evs[i].source_event_id);
		free((char *)evs[i].kind);
		free((char *)evs[i].warehouse_id);
		free((char *)evs[i].order_id);
		free((char *)evs[i].courier);
		free((char *)evs[i].tracking_number);
		free((char *)evs[i].payload);
	}
	free(evs);
}

/* Fetches up to limit events after after_seq into a new array. */
static enum sw_err journal_fetch(struct sw_store *st, int64_t after_seq, int limit,
				 struct sw_journal_event **ret, size_t *ret_n)
{
	struct sw_journal_event *evs = NULL;
	size_t n = 0, alloc = 0;
	struct sw_db_stmt *s;
	int rc;

	if (!(s = stmt(st, ST_JOURNAL_READ)))
		return SW_ESTORE;
	if (b_int(s, ":after", after_seq) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			evs = xreallocarray(evs, alloc, sizeof(*evs));
		}
		journal_row(s, &evs[n++]);
	}
	if (rc != SW_DB_DONE) {
		db_err(st, "journal read");
		stmt_done(s);
		journal_free(evs, n);
		return SW_ESTORE;
	}
	stmt_done(s);
	*ret = evs;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_store_journal_read(struct sw_store *st, int64_t after_seq, int limit,
				  enum sw_err (*cb)(const struct sw_journal_event *ev, void *arg),
				  void *arg, int *ret_count)
{
	struct sw_journal_event *evs;
	size_t i, n;
	enum sw_err rc;

	if (ret_count)
		*ret_count = 0;
	if (cb == NULL)
		return set_err(st, SW_EINVAL, "journal read: no callback");
	if ((rc = check_limit(st, limit)) || (rc = journal_fetch(st, after_seq, limit, &evs, &n)))
		return rc;
	for (i = 0; i < n && rc == SW_OK; i++) {
		rc = cb(&evs[i], arg);
		if (ret_count)
			*ret_count = (int)i + 1;
	}
	journal_free(evs, n);
	return rc;
}

enum sw_err sw_store_journal_count(struct sw_store *st, int64_t *ret_count)
{
	struct sw_db_stmt *s = stmt(st, ST_JOURNAL_COUNT);

	if (!s)
		return SW_ESTORE;
	return query_int(st, s, "journal count", ret_count, NULL);
}

/* ---- cursors ----------------------------------------------------------- */

enum sw_err sw_store_cursor_get(struct sw_store *st, const char *name, int64_t *ret_seq)
{
	struct sw_db_stmt *s;

	*ret_seq = 0;
	if (!nonempty(name))
		return set_err(st, SW_EINVAL, "cursor: empty name");
	if (!(s = stmt(st, ST_CURSOR_GET)))
		return SW_ESTORE;
	if (b_text(s, ":name", name))
		return bind_failed(st, s);
	return query_int(st, s, "cursor get", ret_seq, NULL);
}

enum sw_err sw_store_cursor_set(struct sw_store *st, const char *name, int64_t seq)
{
	struct sw_db_stmt *s;

	if (!nonempty(name) || seq < 0)
		return set_err(st, SW_EINVAL, "cursor: empty name or seq < 0");
	if (!(s = stmt(st, ST_CURSOR_SET)))
		return SW_ESTORE;
	if (b_text(s, ":name", name) | b_int(s, ":seq", seq) |
	    b_int(s, ":now", sw_clock_now()))
		return bind_failed(st, s);
	return run(st, s, "cursor set");
}

/* ---- orders ------------------------------------------------------------ */

static enum sw_err order_check(struct sw_store *st, const struct sw_order *o)
{
	const struct sw_promise *pd = &o->promised_delivery_by;
	enum sw_err rc;
	int i;

	if (!nonempty(o->warehouse_id) || !nonempty(o->order_id))
		return set_err(st, SW_EINVAL, "order: warehouse id and order id are required");
	if ((unsigned)pd->kind >= SW_PROMISE_LAST ||
	    (pd->kind != SW_PROMISE_NONE && !nonempty(pd->text)))
		return set_err(st, SW_EINVAL, "order %s: bad delivery promise", o->order_id);
	if ((rc = check_stamp(st, "order: promised_ship_by", o->promised_ship_by)) ||
	    (rc = check_stamp(st, "order: promised_delivery_by", pd->at)))
		return rc;
	for (i = 0; i < SW_STAGE_LAST; i++)
		if ((rc = check_stamp(st, "order: stage time", o->stage[i])))
			return rc;
	return SW_OK;
}

/* The stage parameters of the order statements, in enum sw_stage order
 * (literals: pidx() keys on the name's address). */
static const char *const stage_at_params[SW_STAGE_LAST] = {
    ":created_at", ":picked_at", ":packed_at", ":shipped_at", ":cancelled_at", ":backordered_at",
};
static const char *const stage_off_params[SW_STAGE_LAST] = {
    ":created_off", ":picked_off", ":packed_off", ":shipped_off", ":cancelled_off",
    ":backordered_off",
};

static int order_bind(struct sw_db_stmt *s, const struct sw_order *o)
{
	const struct sw_promise *pd = &o->promised_delivery_by;
	int has_pd = pd->kind != SW_PROMISE_NONE;
	int i, rc;

	rc = b_text_ref(s, ":wh", o->warehouse_id) | b_text_ref(s, ":oid", o->order_id) |
	     b_text_ref(s, ":cname", o->customer_name) | b_text_ref(s, ":cemail", o->customer_email) |
	     b_text_ref(s, ":clocale", o->customer_locale) | b_text_ref(s, ":ctz", o->customer_timezone) |
	     b_text_ref(s, ":cphone", o->customer_phone) | b_text_ref(s, ":cchannel", o->customer_channel) |
	     b_stamp(s, ":ship_by_at", ":ship_by_off", o->promised_ship_by) |
	     b_text_ref(s, ":pd_kind", has_pd ? promise_names[pd->kind] : NULL) |
	     b_text_ref(s, ":pd_text", has_pd ? pd->text : NULL) |
	     b_stamp(s, ":pd_at", ":pd_off", pd->at) | b_text_ref(s, ":service", o->service_level) |
	     b_text_ref(s, ":country", o->dest_country) | b_text_ref(s, ":postal", o->dest_postal_code) |
	     b_text_ref(s, ":city", o->dest_city);
	for (i = 0; i < SW_STAGE_LAST; i++)
		rc |= b_stamp(s, stage_at_params[i], stage_off_params[i], o->stage[i]);
	return rc;
}

enum sw_err sw_store_order_upsert(struct sw_store *st, const struct sw_order *o)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = order_check(st, o)))
		return rc;
	if (!(s = stmt(st, ST_ORDER_UPSERT)))
		return SW_ESTORE;
	if (order_bind(s, o))
		return bind_failed(st, s);
	return run_values(st, s, "order upsert");
}

/* The order in ORDER_COLS order from column b on. */
static struct sw_order *order_row_at(struct sw_db_stmt *s, int b)
{
	struct sw_order *o = xcalloc(1, sizeof(*o));
	struct sw_promise *pd = &o->promised_delivery_by;
	char *kind;
	int i;

	o->id = sw_db_column_int64(s, b);
	o->warehouse_id = col_str(s, b + 1);
	o->order_id = col_str(s, b + 2);
	o->customer_name = col_str(s, b + 3);
	o->customer_email = col_str(s, b + 4);
	o->customer_locale = col_str(s, b + 5);
	o->customer_timezone = col_str(s, b + 6);
	o->customer_phone = col_str(s, b + ORDER_PHONE_COL);
	o->customer_channel = col_str(s, b + ORDER_PHONE_COL + 1);
	o->promised_ship_by = col_stamp(s, b + 7);
	kind = col_str(s, b + 9);
	pd->kind = (enum sw_promise_kind)name_index(promise_names, SW_PROMISE_LAST, kind);
	if (pd->kind == SW_PROMISE_LAST)
		pd->kind = SW_PROMISE_NONE;
	free(kind);
	pd->text = col_str(s, b + 10);
	pd->at = col_stamp(s, b + 11);
	o->service_level = col_str(s, b + 13);
	o->dest_country = col_str(s, b + 14);
	o->dest_postal_code = col_str(s, b + 15);
	o->dest_city = col_str(s, b + 16);
	for (i = 0; i < SW_STAGE_LAST; i++)
		o->stage[i] = col_stamp(s, b + ORDER_STAGE_COL0 + 2 * i);
	o->status = (enum sw_stage)name_index(
	    stage_names, SW_STAGE_LAST,
	    (const char *)sw_db_column_text(s, b + ORDER_STAGE_COL0 + 2 * SW_STAGE_LAST));
	return o;
}

static struct sw_order *order_row(struct sw_db_stmt *s)
{
	return order_row_at(s, 0);
}

/* Steps a keyed single-row SELECT and converts the row with conv. */
static enum sw_err get_one(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			   void *(*conv)(struct sw_db_stmt *), void **ret)
{
	int rc = sw_db_step(s);

	*ret = NULL;
	if (rc == SW_DB_ROW)
		*ret = conv(s);
	else if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		return SW_ESTORE;
	}
	stmt_done(s);
	return *ret ? SW_OK : SW_ENOTFOUND;
}

static void *order_conv(struct sw_db_stmt *s)
{
	return order_row(s);
}

/* Statement id with an order's key (warehouse, order id) bound. */
static enum sw_err order_key_stmt(struct sw_store *st, enum stmt_id id, const char *warehouse_id,
				  const char *order_id, const char *what, struct sw_db_stmt **ret_s)
{
	struct sw_db_stmt *s;

	if (!nonempty(warehouse_id) || !nonempty(order_id))
		return set_err(st, SW_EINVAL, "%s: empty key", what);
	if (!(s = stmt(st, id)))
		return SW_ESTORE;
	if (b_text(s, ":wh", warehouse_id) | b_text(s, ":oid", order_id))
		return bind_failed(st, s);
	*ret_s = s;
	return SW_OK;
}

enum sw_err sw_store_order_get(struct sw_store *st, const char *warehouse_id, const char *order_id,
			       struct sw_order **ret_order)
{
	struct sw_db_stmt *s;
	void *o;
	enum sw_err rc;

	*ret_order = NULL;
	if ((rc = order_key_stmt(st, ST_ORDER_GET, warehouse_id, order_id, "order get", &s)))
		return rc;
	rc = get_one(st, s, "order get", order_conv, &o);
	*ret_order = o;
	return rc;
}

enum sw_err sw_store_order_stages(struct sw_store *st, const char *warehouse_id,
				  const char *order_id, struct sw_stamp ret[SW_STAGE_LAST])
{
	struct sw_db_stmt *s;
	enum sw_err e;
	int rc, i;

	memset(ret, 0, sizeof(struct sw_stamp) * SW_STAGE_LAST);
	if ((e = order_key_stmt(st, ST_ORDER_STAGES, warehouse_id, order_id, "order stages", &s)))
		return e;
	rc = sw_db_step(s);
	if (rc == SW_DB_ROW)
		for (i = 0; i < SW_STAGE_LAST; i++)
			ret[i] = col_stamp(s, 2 * i);
	stmt_done(s);
	if (rc == SW_DB_ROW)
		return SW_OK;
	return rc == SW_DB_DONE ? SW_ENOTFOUND : db_err(st, "order stages");
}

void sw_store_order_free(struct sw_order *o)
{
	if (o == NULL)
		return;
	free((char *)o->warehouse_id);
	free((char *)o->order_id);
	free((char *)o->customer_name);
	free((char *)o->customer_email);
	free((char *)o->customer_locale);
	free((char *)o->customer_timezone);
	free((char *)o->customer_phone);
	free((char *)o->customer_channel);
	free((char *)o->promised_delivery_by.text);
	free((char *)o->service_level);
	free((char *)o->dest_country);
	free((char *)o->dest_postal_code);
	free((char *)o->dest_city);
	free(o);
}

static int details_bind(struct sw_db_stmt *s, const struct sw_order *o, int64_t at, const char *key)
{
	const struct sw_promise *pd = &o->promised_delivery_by;
	int has_pd = pd->kind != SW_PROMISE_NONE;

	return b_text(s, ":wh", o->warehouse_id) | b_text(s, ":oid", o->order_id) |
	       b_text(s, ":cname", o->customer_name) | b_text(s, ":cemail", o->customer_email) |
	       b_text(s, ":clocale", o->customer_locale) | b_text(s, ":ctz", o->customer_timezone) |
	       b_text(s, ":cphone", o->customer_phone) |
	       b_text(s, ":cchannel", o->customer_channel) |
	       b_stamp(s, ":ship_by_at", ":ship_by_off", o->promised_ship_by) |
	       b_text(s, ":pd_kind", has_pd ? promise_names[pd->kind] : NULL) |
	       b_text(s, ":pd_text", has_pd ? pd->text : NULL) |
	       b_stamp(s, ":pd_at", ":pd_off", has_pd ? pd->at : (struct sw_stamp){0, 0}) |
	       b_text(s, ":service", o->service_level) | b_text(s, ":country", o->dest_country) |
	       b_text(s, ":postal", o->dest_postal_code) | b_text(s, ":city", o->dest_city) |
	       b_int(s, ":dat", at) | b_text(s, ":dkey", key);
}

/* The two statements of sw_store_order_set_details, inside op_begin. */
static enum sw_err details_stmts(struct sw_store *st, const struct sw_order *o, int64_t at,
				 const char *key, int *ret_applied)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (!(s = stmt(st, ST_ORDER_STUB)))
		return SW_ESTORE;
	if (b_text(s, ":wh", o->warehouse_id) | b_text(s, ":oid", o->order_id))
		return bind_failed(st, s);
	if ((rc = run_values(st, s, "order details: order")))
		return rc;
	if (!(s = stmt(st, ST_ORDER_DETAILS)))
		return SW_ESTORE;
	if (details_bind(s, o, at, key))
		return bind_failed(st, s);
	if ((rc = run_values(st, s, "order details")))
		return rc;
	*ret_applied = sw_db_changes(st->db) > 0;
	return SW_OK;
}

enum sw_err sw_store_order_set_details(struct sw_store *st, const struct sw_order *o,
				       int64_t details_at, const char *details_key,
				       int *ret_applied)
{
	enum sw_err rc;
	int applied = 0;

	if (ret_applied)
		*ret_applied = 0;
	if ((rc = order_check(st, o)))
		return rc;
	if (details_at <= 0 || !nonempty(details_key))
		return set_err(st, SW_EINVAL, "order %s: details need a time and a key",
			       o->order_id);
	if ((rc = op_begin(st)))
		return rc;
	rc = op_end(st, details_stmts(st, o, details_at, details_key, &applied));
	if (rc == SW_OK && ret_applied)
		*ret_applied = applied;
	return rc;
}

/* ---- parcels ----------------------------------------------------------- */

static enum sw_err parcel_key_check(struct sw_store *st, const char *courier,
				    const char *tracking_number)
{
	if (!nonempty(courier) || !nonempty(tracking_number))
		return set_err(st, SW_EINVAL,
			       "parcel: courier and tracking number are "
			       "required");
	return SW_OK;
}

static enum sw_err parcel_upsert_stmts(struct sw_store *st, const char *courier, const char *tn,
				       const char *wh, const char *oid, struct sw_stamp shipped)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (wh) {
		if (!(s = stmt(st, ST_ORDER_STUB)))
			return SW_ESTORE;
		if (b_text(s, ":wh", wh) | b_text(s, ":oid", oid))
			return bind_failed(st, s);
		if ((rc = run_values(st, s, "parcel upsert: order")))
			return rc;
	}
	if (!(s = stmt(st, ST_PARCEL_UPSERT)))
		return SW_ESTORE;
	if (b_text(s, ":wh", wh) | b_text(s, ":oid", oid) | b_text(s, ":courier", courier) |
	    b_text(s, ":tn", tn) | b_stamp(s, ":shipped_at", ":shipped_off", shipped))
		return bind_failed(st, s);
	return run_values(st, s, "parcel upsert");
}

enum sw_err sw_store_parcel_upsert(struct sw_store *st, const char *courier,
				   const char *tracking_number, const char *warehouse_id,
				   const char *order_id, struct sw_stamp shipped_at)
{
	enum sw_err rc;

	if ((rc = parcel_key_check(st, courier, tracking_number)) ||
	    (rc = check_stamp(st, "parcel: shipped_at", shipped_at)))
		return rc;
	if (!nonempty(warehouse_id) != !nonempty(order_id))
		return set_err(st, SW_EINVAL,
			       "parcel %s: warehouse id and "
			       "order id go together",
			       tracking_number);
	if ((rc = op_begin(st)))
		return rc;
	rc = parcel_upsert_stmts(st, courier, tracking_number,
				 nonempty(warehouse_id) ? warehouse_id : NULL,
				 nonempty(order_id) ? order_id : NULL, shipped_at);
	return op_end(st, rc);
}

/* 1 if s is a calendar date YYYY-MM-DD (digits checked, not the calendar). */
static int is_date(const char *s)
{
	int i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static enum sw_err update_check(struct sw_store *st, const struct sw_parcel_update *u)
{
	enum sw_err rc;

	if ((unsigned)u->status >= SW_SHIP_LAST)
		return set_err(st, SW_EINVAL, "parcel status: bad status %d", (int)u->status);
	if (u->eta_date && !is_date(u->eta_date))
		return set_err(st, SW_EINVAL,
			       "parcel status: eta \"%.40s\" is "
			       "not YYYY-MM-DD",
			       u->eta_date);
	if ((rc = check_stamp(st, "parcel status: event_at", u->event_at)) ||
	    (rc = check_stamp(st, "parcel status: first_scan_at", u->first_scan_at)) ||
	    (rc = check_stamp(st, "parcel status: delivered_at", u->delivered_at)))
		return rc;
	return SW_OK;
}

enum sw_err sw_store_parcel_set_status(struct sw_store *st, const char *courier,
				       const char *tracking_number,
				       const struct sw_parcel_update *u)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = parcel_key_check(st, courier, tracking_number)) || (rc = update_check(st, u)))
		return rc;
	if (!(s = stmt(st, ST_PARCEL_STATUS)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number) |
	    b_text(s, ":status", ship_names[u->status]) | b_text(s, ":raw_code", u->raw_code) |
	    b_text(s, ":raw_text", u->raw_text) |
	    b_int(s, ":terminal", sw_store_ship_status_terminal(u->status)) |
	    b_text(s, ":eta", u->eta_date) | b_stamp(s, ":event_at", ":event_off", u->event_at) |
	    b_stamp(s, ":first_at", ":first_off", u->first_scan_at) |
	    b_stamp(s, ":deliv_at", ":deliv_off", u->delivered_at))
		return bind_failed(st, s);
	if ((rc = run(st, s, "parcel status")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "parcel %s/%s not found", courier,
			       tracking_number);
	return SW_OK;
}

/* The parcel in ST_PARCEL_GET column order. */
static struct sw_parcel *parcel_row(struct sw_db_stmt *s)
{
	struct sw_parcel *p = xcalloc(1, sizeof(*p));
	enum sw_ship_status status;

	p->id = sw_db_column_int64(s, 0);
	p->courier = col_str(s, 1);
	p->tracking_number = col_str(s, 2);
	p->warehouse_id = col_str(s, 3);
	p->order_id = col_str(s, 4);
	p->shipped_at = col_stamp(s, 5);
	if (sw_store_ship_status_parse((const char *)sw_db_column_text(s, 7), &status))
		status = SW_SHIP_UNKNOWN;
	p->status = status;
	p->raw_code = col_str(s, 8);
	p->raw_text = col_str(s, 9);
	p->last_event_at = col_stamp(s, 10);
	p->eta_date = col_str(s, 12);
	p->delivered_at = col_stamp(s, 13);
	p->first_scan_at = col_stamp(s, 15);
	p->terminal = sw_db_column_int(s, 17);
	return p;
}

static void *parcel_conv(struct sw_db_stmt *s)
{
	return parcel_row(s);
}

enum sw_err sw_store_parcel_get(struct sw_store *st, const char *courier,
				const char *tracking_number, struct sw_parcel **ret_parcel)
{
	struct sw_db_stmt *s;
	void *p;
	enum sw_err rc;

	*ret_parcel = NULL;
	if ((rc = parcel_key_check(st, courier, tracking_number)))
		return rc;
	if (!(s = stmt(st, ST_PARCEL_GET)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number))
		return bind_failed(st, s);
	rc = get_one(st, s, "parcel get", parcel_conv, &p);
	*ret_parcel = p;
	return rc;
}

void sw_store_parcel_free(struct sw_parcel *p)
{
	if (p == NULL)
		return;
	free((char *)p->courier);
	free((char *)p->tracking_number);
	free((char *)p->warehouse_id);
	free((char *)p->order_id);
	free((char *)p->raw_code);
	free((char *)p->raw_text);
	free((char *)p->eta_date);
	free(p);
}

/* ---- lists ------------------------------------------------------------- */

/* Steps s, appending each row (elem_size bytes, filled by fill) to a new
 * array.  On error frees what was filled with free_fn. */
static enum sw_err list_rows(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			     size_t elem_size, void (*fill)(struct sw_db_stmt *, void *),
			     void (*free_fn)(void *, size_t), void **ret, size_t *ret_n)
{
	char *arr = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	*ret = NULL;
	*ret_n = 0;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			arr = xreallocarray(arr, alloc, elem_size);
		}
		memset(arr + n * elem_size, 0, elem_size);
		fill(s, arr + n * elem_size);
		n++;
	}
	if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		free_fn(arr, n);
		return SW_ESTORE;
	}
	stmt_done(s);
	*ret = arr;
	*ret_n = n;
	return SW_OK;
}

/* list_rows for a cached statement without parameters: every row, into a
 * new array (*ret NULL and *ret_n 0 first, so that failure leaves them so). */
static enum sw_err list_all(struct sw_store *st, enum stmt_id id, const char *what,
			    size_t elem_size,
			    void (*fill)(struct sw_db_stmt *, void *), void (*free_fn)(void *, size_t),
			    void **ret, size_t *ret_n)
{
	struct sw_db_stmt *s;

	*ret = NULL;
	*ret_n = 0;
	if (!(s = stmt(st, id)))
		return SW_ESTORE;
	return list_rows(st, s, what, elem_size, fill, free_fn, ret, ret_n);
}

/* ---- poll schedule ----------------------------------------------------- */

enum sw_err sw_store_poll_upsert(struct sw_store *st, const struct sw_poll *p)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = parcel_key_check(st, p->courier, p->tracking_number)))
		return rc;
	if (p->next_poll_at <= 0 || p->interval_s <= 0 || p->failures < 0 || p->last_polled_at < 0)
		return set_err(st, SW_EINVAL, "poll %s/%s: bad schedule values", p->courier,
			       p->tracking_number);
	if (!(s = stmt(st, ST_POLL_UPSERT)))
		return SW_ESTORE;
	if (b_text(s, ":courier", p->courier) | b_text(s, ":tn", p->tracking_number) |
	    b_int(s, ":next", p->next_poll_at) | b_int(s, ":interval", p->interval_s) |
	    b_int(s, ":failures", p->failures) | b_time(s, ":last", p->last_polled_at) |
	    b_text(s, ":error", p->last_error))
		return bind_failed(st, s);
	if ((rc = run(st, s, "poll upsert")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "poll: parcel %s/%s not found", p->courier,
			       p->tracking_number);
	return SW_OK;
}

enum sw_err sw_store_poll_remove(struct sw_store *st, const char *courier,
				 const char *tracking_number)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = parcel_key_check(st, courier, tracking_number)))
		return rc;
	if (!(s = stmt(st, ST_POLL_REMOVE)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number))
		return bind_failed(st, s);
	if ((rc = run(st, s, "poll remove")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "poll: no schedule for %s/%s", courier,
			       tracking_number);
	return SW_OK;
}

static void poll_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_poll *p = elem;

	p->parcel_id = sw_db_column_int64(s, 0);
	p->courier = col_str(s, 1);
	p->tracking_number = col_str(s, 2);
	p->next_poll_at = sw_db_column_int64(s, 3);
	p->interval_s = sw_db_column_int(s, 4);
	p->failures = sw_db_column_int(s, 5);
	p->last_polled_at = sw_db_column_int64(s, 6);
	p->last_error = col_str(s, 7);
}

static void poll_free_v(void *arr, size_t n)
{
	sw_store_poll_free(arr, n);
}

enum sw_err sw_store_poll_due(struct sw_store *st, int64_t before, int limit,
			      struct sw_poll **ret_polls, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *arr;
	enum sw_err rc;

	*ret_polls = NULL;
	*ret_n = 0;
	if ((rc = check_limit(st, limit)))
		return rc;
	if (!(s = stmt(st, ST_POLL_DUE)))
		return SW_ESTORE;
	if (b_int(s, ":before", before) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	rc = list_rows(st, s, "poll due", sizeof(struct sw_poll), poll_fill, poll_free_v, &arr,
		       ret_n);
	*ret_polls = arr;
	return rc;
}

void sw_store_poll_free(struct sw_poll *polls, size_t n)
{
	size_t i;

	for (i = 0; polls && i < n; i++) {
		free((char *)polls[i].courier);
		free((char *)polls[i].tracking_number);
		free((char *)polls[i].last_error);
	}
	free(polls);
}

enum sw_err sw_store_poll_due_courier(struct sw_store *st, const char *courier, int64_t before,
				      int limit, struct sw_poll **ret_polls, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *arr;
	enum sw_err rc;

	*ret_polls = NULL;
	*ret_n = 0;
	if (!nonempty(courier))
		return set_err(st, SW_EINVAL, "poll due: courier is required");
	if ((rc = check_limit(st, limit)))
		return rc;
	if (!(s = stmt(st, ST_POLL_DUE_COURIER)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_int(s, ":before", before) |
	    b_int(s, ":limit", limit))
		return bind_failed(st, s);
	rc = list_rows(st, s, "poll due", sizeof(struct sw_poll), poll_fill, poll_free_v, &arr,
		       ret_n);
	*ret_polls = arr;
	return rc;
}

enum sw_err sw_store_poll_seed(struct sw_store *st, const char *courier, int64_t after_id,
			       int64_t next_poll_at, int spread_s, int interval_s,
			       int64_t *ret_added, int64_t *ret_upto)
{
	struct sw_db_stmt *s;
	enum sw_err rc;
	int64_t upto;

	if (ret_added)
		*ret_added = 0;
	if (!nonempty(courier) || after_id < 0 || next_poll_at <= 0 || spread_s < 1 ||
	    interval_s < 1)
		return set_err(st, SW_EINVAL, "poll seed: bad arguments");
	if (!(s = stmt(st, ST_PARCEL_MAX_ID)))
		return SW_ESTORE;
	if ((rc = query_int(st, s, "poll seed", &upto, NULL)))
		return rc;
	if (!(s = stmt(st, ST_POLL_SEED)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_int(s, ":next", next_poll_at) |
	    b_int(s, ":spread", spread_s) | b_int(s, ":interval", interval_s) |
	    b_int(s, ":after", after_id) | b_int(s, ":upto", upto))
		return bind_failed(st, s);
	if ((rc = run(st, s, "poll seed")))
		return rc;
	if (ret_added)
		*ret_added = sw_db_changes(st->db);
	if (ret_upto)
		*ret_upto = upto > after_id ? upto : after_id;
	return SW_OK;
}

static void count_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_status_count *c = elem;
	const unsigned char *name = sw_db_column_text(s, 1);

	c->courier = col_str(s, 0);
	c->status = SW_SHIP_UNKNOWN; /* the CHECK constraint makes this moot */
	if (name)
		sw_store_ship_status_parse((const char *)name, &c->status);
	c->count = sw_db_column_int64(s, 2);
}

static void count_free_v(void *arr, size_t n)
{
	sw_store_status_counts_free(arr, n);
}

enum sw_err sw_store_parcel_status_counts(struct sw_store *st, struct sw_status_count **ret_list,
					  size_t *ret_n)
{
	void *list;
	enum sw_err rc = list_all(st, ST_PARCEL_COUNTS, "parcel counts",
				  sizeof(struct sw_status_count), count_fill, count_free_v, &list, ret_n);

	*ret_list = list;
	return rc;
}

void sw_store_status_counts_free(struct sw_status_count *list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		free(list[i].courier);
	free(list);
}

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

/* ---- backlog ----------------------------------------------------------- */

static void backlog_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_backlog *b = elem;

	b->warehouse_id = col_str(s, 0);
	b->pick = sw_db_column_int64(s, 1);
	b->ship = sw_db_column_int64(s, 2);
	b->ship_late = sw_db_column_int64(s, 3);
}

static void backlog_free_v(void *arr, size_t n)
{
	sw_store_backlog_free(arr, n);
}

enum sw_err sw_store_order_backlog(struct sw_store *st, int64_t now, struct sw_backlog **ret_list,
				   size_t *ret_n)
{
	void *list = NULL;
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if (!(s = stmt(st, ST_ORDER_BACKLOG)))
		return SW_ESTORE;
	if (b_int(s, ":now", now))
		return bind_failed(st, s);
	rc = list_rows(st, s, "order backlog", sizeof(struct sw_backlog), backlog_fill,
		       backlog_free_v, &list, ret_n);
	*ret_list = list;
	return rc;
}

void sw_store_backlog_free(struct sw_backlog *list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		free(list[i].warehouse_id);
	free(list);
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

/* ---- alert engine: parcels with their orders --------------------------- */

static void track_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_track *t = elem;

	if (sw_db_column_type(s, 0) != SW_DB_NULL)
		t->parcel = parcel_row(s);
	if (sw_db_column_type(s, PARCEL_NCOLS) != SW_DB_NULL)
		t->order = order_row_at(s, PARCEL_NCOLS);
	t->polled_ok_at = sw_db_column_int64(s, PARCEL_NCOLS + ORDER_NCOLS);
	t->polled = sw_db_column_int(s, PARCEL_NCOLS + ORDER_NCOLS + 1);
}

static void track_free_v(void *arr, size_t n)
{
	sw_store_track_free(arr, n);
}

void sw_store_track_free(struct sw_track *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		sw_store_order_free(list[i].order);
		sw_store_parcel_free(list[i].parcel);
	}
	free(list);
}

static enum sw_err track_list(struct sw_store *st, struct sw_db_stmt *s, struct sw_track **ret_list,
			      size_t *ret_n)
{
	return list_rows(st, s, "track", sizeof(struct sw_track), track_fill, track_free_v,
			 (void **)ret_list, ret_n);
}

enum sw_err sw_store_track_scan(struct sw_store *st, enum sw_track_unit unit, int64_t after_id,
				int limit, struct sw_track **ret_list, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if ((rc = check_limit(st, limit)))
		return rc;
	if (!(s = stmt(st, unit == SW_TRACK_PARCEL ? ST_TRACK_SCAN_PARCELS
						   : ST_TRACK_SCAN_ORDERS)))
		return SW_ESTORE;
	if (b_int(s, ":after", after_id) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	return track_list(st, s, ret_list, ret_n);
}

enum sw_err sw_store_track_get(struct sw_store *st, enum sw_track_unit unit, int64_t id,
			       struct sw_track **ret_list, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if (unit == SW_TRACK_PARCEL) {
		if (!(s = stmt(st, ST_TRACK_PARCEL_ID)))
			return SW_ESTORE;
		if (b_int(s, ":id", id))
			return bind_failed(st, s);
		return track_list(st, s, ret_list, ret_n);
	}
	/* an order: its parcels if it has any, else the order alone */
	if (!(s = stmt(st, ST_TRACK_ORDER_PARCELS)))
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	if ((rc = track_list(st, s, ret_list, ret_n)) || *ret_n)
		return rc;
	if (!(s = stmt(st, ST_TRACK_ORDER_ID)))
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	return track_list(st, s, ret_list, ret_n);
}

enum sw_err sw_store_track_parcel(struct sw_store *st, const char *courier,
				  const char *tracking_number, struct sw_track **ret_list,
				  size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if ((rc = parcel_key_check(st, courier, tracking_number)))
		return rc;
	if (!(s = stmt(st, ST_TRACK_PARCEL_KEY)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number))
		return bind_failed(st, s);
	return track_list(st, s, ret_list, ret_n);
}

enum sw_err sw_store_track_order(struct sw_store *st, const char *warehouse_id,
				 const char *order_id, struct sw_track **ret_list, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;
	int64_t id;

	*ret_list = NULL;
	*ret_n = 0;
	if (!nonempty(warehouse_id) || !nonempty(order_id))
		return set_err(st, SW_EINVAL, "order: warehouse and order id are required");
	if (!(s = stmt(st, ST_TRACK_ORDER_KEY)))
		return SW_ESTORE;
	if (b_text(s, ":wh", warehouse_id) | b_text(s, ":oid", order_id))
		return bind_failed(st, s);
	if ((rc = track_list(st, s, ret_list, ret_n)) || *ret_n == 0)
		return rc;
	id = (*ret_list)[0].order->id;
	sw_store_track_free(*ret_list, *ret_n);
	return sw_store_track_get(st, SW_TRACK_ORDER, id, ret_list, ret_n);
}

/* keys as the JSON array of [a, b] pairs the among statements read; NULL
 * (SW_EINVAL set, naming the key) if a part is empty. */
static char *track_key_list(struct sw_store *st, enum sw_track_unit unit,
			    const struct sw_track_key *keys, size_t n)
{
	struct sw_buf b;

	sw_buf_init(&b, SW_STORE_INT_JSON_MAX);
	sw_buf_adds(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if (!nonempty(keys[i].a) || !nonempty(keys[i].b)) {
			sw_buf_free(&b);
			set_err(st, SW_EINVAL, "%s key %zu of %zu: both parts are required",
				unit == SW_TRACK_PARCEL ? "parcel" : "order", i, n);
			return NULL;
		}
		sw_buf_adds(&b, i ? ",[" : "[");
		sw_store_int_json_str(&b, keys[i].a);
		sw_buf_adds(&b, ",");
		sw_store_int_json_str(&b, keys[i].b);
		sw_buf_adds(&b, "]");
	}
	sw_buf_adds(&b, "]");
	return sw_buf_steal(&b, NULL);
}

/* Puts list[0..n-1] in key order (of[i] < n_keys, rows of one key keeping
 * their order): a counting sort, in place. */
static void track_key_order(struct sw_track *list, size_t *of, size_t n, size_t n_keys)
{
	size_t *start = xcalloc(n_keys + 1, sizeof(*start)), *to_of = xmalloc(n * sizeof(*of));
	struct sw_track *to = xmalloc(n * sizeof(*list));

	for (size_t i = 0; i < n; i++)
		start[of[i] + 1]++;
	for (size_t k = 0; k < n_keys; k++)
		start[k + 1] += start[k];
	for (size_t i = 0; i < n; i++) {
		size_t at = start[of[i]]++;

		to[at] = list[i];
		to_of[at] = of[i];
	}
	memcpy(list, to, n * sizeof(*list));
	memcpy(of, to_of, n * sizeof(*of));
	free(to);
	free(to_of);
	free(start);
}

/* Steps an among statement for n_keys keys: the rows as track_list would,
 * in key order, and each row's key index (its last column) into a new
 * *ret_of when wanted. */
static enum sw_err track_keyed(struct sw_store *st, struct sw_db_stmt *s, size_t n_keys,
			       struct sw_track **ret_list, size_t **ret_of, size_t *ret_n)
{
	int sorted = 1;
	struct sw_track *list = NULL;
	size_t *of = NULL, n = 0, alloc = 0;
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			list = xreallocarray(list, alloc, sizeof(*list));
			of = xreallocarray(of, alloc, sizeof(*of));
		}
		memset(&list[n], 0, sizeof(*list));
		track_fill(s, &list[n]);
		of[n] = (size_t)sw_db_column_int64(s, TRACK_KEY_COL);
		if (of[n] >= n_keys) /* json_each's key of a list: cannot be */
			of[n] = n_keys - 1;
		sorted &= n == 0 || of[n - 1] <= of[n];
		n++;
	}
	if (rc != SW_DB_DONE) {
		db_err(st, "track among");
		stmt_done(s);
		sw_store_track_free(list, n);
		free(of);
		return SW_ESTORE;
	}
	stmt_done(s);
	if (!sorted)
		track_key_order(list, of, n, n_keys);
	*ret_list = list;
	*ret_n = n;
	if (ret_of)
		*ret_of = of;
	else
		free(of);
	return SW_OK;
}

enum sw_err sw_store_track_among(struct sw_store *st, enum sw_track_unit unit,
				 const struct sw_track_key *keys, size_t n,
				 struct sw_track **ret_list, size_t **ret_of, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;
	char *list;

	*ret_list = NULL;
	*ret_n = 0;
	if (ret_of)
		*ret_of = NULL;
	if (unit != SW_TRACK_PARCEL && unit != SW_TRACK_ORDER)
		return set_err(st, SW_EINVAL, "track among: unit %d", (int)unit);
	if (n == 0)
		return SW_OK;
	if (!(list = track_key_list(st, unit, keys, n)))
		return SW_EINVAL;
	if (!(s = stmt(st,
		       unit == SW_TRACK_PARCEL ? ST_TRACK_AMONG_PARCELS : ST_TRACK_AMONG_ORDERS))) {
		free(list);
		return SW_ESTORE;
	}
	rc = b_text(s, ":list", list) != SW_DB_OK ? bind_failed(st, s)
						   : track_keyed(st, s, n, ret_list, ret_of, ret_n);
	free(list);
	return rc;
}

/* ---- dead-letter queue ------------------------------------------------- */

enum sw_err sw_store_deadletter_enqueue(struct sw_store *st, const char *topic, const void *payload,
					size_t len, int64_t created_at, int64_t *ret_id)
{
	struct sw_db_stmt *s;
	int64_t id;
	enum sw_err rc;

	if (!nonempty(topic) || (payload == NULL && len > 0))
		return set_err(st, SW_EINVAL, "dead letter: a topic and a payload are required");
	if (len > SW_STORE_DEADLETTER_MAX)
		return set_err(st, SW_ERANGE, "dead letter: %zu bytes, at most %d", len,
			       SW_STORE_DEADLETTER_MAX);
	if (created_at < 0)
		return set_err(st, SW_ERANGE, "dead letter: negative time");
	if (!(s = stmt(st, ST_DL_INSERT)))
		return SW_ESTORE;
	if (b_text(s, ":topic", topic) |
	    sw_db_bind_blob(s, sw_db_bind_parameter_index(s, ":payload"), len ? payload : "",
			      (int)len, SW_DB_TRANSIENT) |
	    b_int(s, ":at", created_at ? created_at : sw_clock_now()))
		return bind_failed(st, s);
	if ((rc = query_int(st, s, "dead letter enqueue", &id, NULL)))
		return rc;
	if (ret_id)
		*ret_id = id;
	return SW_OK;
}

static void deadletter_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_deadletter *d = elem;
	const void *p = sw_db_column_blob(s, 2);

	d->id = sw_db_column_int64(s, 0);
	d->topic = col_str(s, 1);
	d->len = (size_t)sw_db_column_bytes(s, 2);
	d->payload = xmalloc(d->len + 1);
	if (d->len)
		memcpy(d->payload, p, d->len);
	d->payload[d->len] = '\0';
	d->created_at = sw_db_column_int64(s, 3);
}

static void deadletter_free_v(void *arr, size_t n)
{
	sw_store_deadletter_free(arr, n);
}

enum sw_err sw_store_deadletter_list(struct sw_store *st, int64_t after_id, int limit,
				     struct sw_deadletter **ret_list, size_t *ret_n)
{
	void *list = NULL;
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if ((rc = check_limit(st, limit)))
		return rc;
	if (after_id < 0)
		return set_err(st, SW_EINVAL, "dead letters: negative id");
	if (!(s = stmt(st, ST_DL_LIST)))
		return SW_ESTORE;
	if (b_int(s, ":after", after_id) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	rc = list_rows(st, s, "dead letters", sizeof(struct sw_deadletter), deadletter_fill,
		       deadletter_free_v, &list, ret_n);
	*ret_list = list;
	return rc;
}

void sw_store_deadletter_free(struct sw_deadletter *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].topic);
		free(list[i].payload);
	}
	free(list);
}

enum sw_err sw_store_deadletter_delete(struct sw_store *st, int64_t id)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (!(s = stmt(st, ST_DL_DELETE)))
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	if ((rc = run(st, s, "dead letter delete")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "dead letter %lld: not queued", (long long)id);
	return SW_OK;
}

enum sw_err sw_store_deadletter_count(struct sw_store *st, int64_t *ret_count)
{
	struct sw_db_stmt *s;

	*ret_count = 0;
	if (!(s = stmt(st, ST_DL_COUNT)))
		return SW_ESTORE;
	return query_int(st, s, "dead letter count", ret_count, NULL);
}
