-- A slipwatch store at schema version 4, as slipwatch before schema v5
-- wrote it: tests/data/store/v3.sql, then the SQL of migration v4 of
-- lib/store.c at commit 763d117 and a few rows using what v4 added (an
-- order's phone and channel, an outbox row with its group), dumped with
-- Python's sqlite3 iterdump.  test_store.c loads it into a new file and
-- opens it with the current program to check that the v5 migration keeps
-- every row and adds an empty, usable dead-letter queue.
PRAGMA application_id = 1399607415; -- 0x536c5077, "SlPw"
PRAGMA user_version = 4;
BEGIN TRANSACTION;
CREATE TABLE acks ( id INTEGER PRIMARY KEY, alert_key TEXT NOT NULL, acked_by TEXT, comment TEXT, acked_at INTEGER NOT NULL, expires_at INTEGER);
CREATE TABLE alerts ( id INTEGER PRIMARY KEY, entity TEXT NOT NULL, kind TEXT NOT NULL, promise TEXT NOT NULL DEFAULT '', stage TEXT, detected_at INTEGER NOT NULL, resolved_at INTEGER, UNIQUE (entity, kind, promise));
INSERT INTO "alerts" VALUES(1,'parcel:dhl:JD014600006','stalled','2026-11-30','courier',1795590000,NULL);
CREATE TABLE courier_health ( courier TEXT PRIMARY KEY, last_ok_at INTEGER, last_fail_at INTEGER, last_error TEXT);
INSERT INTO "courier_health" VALUES('dhl',1795590000,1795580000,'server: HTTP 503');
CREATE TABLE cursors ( name TEXT PRIMARY KEY, seq INTEGER NOT NULL CHECK (seq >= 0), updated_at INTEGER NOT NULL);
INSERT INTO "cursors" VALUES('alerts',2,1795590010);
CREATE TABLE journal ( seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, source_event_id TEXT NOT NULL, kind TEXT NOT NULL, warehouse_id TEXT, order_id TEXT, courier TEXT, tracking_number TEXT, occurred_at INTEGER NOT NULL, occurred_off INTEGER NOT NULL, received_at INTEGER NOT NULL, payload TEXT, UNIQUE (source, source_event_id));
INSERT INTO "journal" VALUES(1,'warehouse:blr1','blr1-000001','order.created','blr1','SO-1',NULL,NULL,1795491900,19800,1795491901,'{"event_id":"blr1-000001"}');
INSERT INTO "journal" VALUES(2,'courier:dhl','JD014600006:1795560000:transit','parcel.status',NULL,NULL,'dhl','JD014600006',1795560000,3600,1795590000,NULL);
CREATE TABLE orders ( id INTEGER PRIMARY KEY, warehouse_id TEXT NOT NULL, order_id TEXT NOT NULL, customer_name TEXT, customer_email TEXT, customer_locale TEXT, customer_tz TEXT, promised_ship_by_at INTEGER, promised_ship_by_off INTEGER, promised_delivery_kind TEXT  CHECK (promised_delivery_kind IN ('instant', 'date')), promised_delivery_text TEXT, promised_delivery_at INTEGER, promised_delivery_off INTEGER, service_level TEXT, dest_country TEXT, dest_postal_code TEXT, dest_city TEXT, created_at INTEGER, created_off INTEGER, picked_at INTEGER, picked_off INTEGER, packed_at INTEGER, packed_off INTEGER, shipped_at INTEGER, shipped_off INTEGER, cancelled_at INTEGER, cancelled_off INTEGER, backordered_at INTEGER, backordered_off INTEGER, status TEXT CHECK (status IN ('created', 'picked', 'packed',  'shipped', 'cancelled', 'backordered')), details_at INTEGER, details_key TEXT, customer_phone TEXT, customer_channel TEXT, UNIQUE (warehouse_id, order_id));
INSERT INTO "orders" VALUES(1,'blr1','SO-1','Asha Rao','asha@example.in','hi-IN','Asia/Kolkata',1795609800,19800,'date','2026-11-30',1796063399,19800,'standard','IN','560001','Bengaluru',1795491900,19800,NULL,NULL,NULL,NULL,1795530000,19800,NULL,NULL,NULL,NULL,'shipped',1795491900,'blr1-000001','+919812345678','webhook');
INSERT INTO "orders" VALUES(2,'blr1','SO-2',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,1795500000,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'picked',NULL,NULL,NULL,NULL);
CREATE TABLE "outbox" ( id INTEGER PRIMARY KEY, entity TEXT NOT NULL, slip_kind TEXT NOT NULL, promise TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL, recipient TEXT NOT NULL COLLATE NOCASE, subject TEXT, body TEXT, template_name TEXT, template_vars TEXT, state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN  ('queued', 'sending', 'sent', 'failed', 'deferred', 'suppressed',   'obsolete', 'merged')), attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT, created_at INTEGER NOT NULL, sent_at INTEGER, smtp_response TEXT, grp TEXT, UNIQUE (entity, slip_kind, promise));
INSERT INTO "outbox" VALUES(1,'parcel:dhl:JD014600006','stalled','2026-11-30','email','asha@example.in',NULL,NULL,'stalled','{"order_id":"SO-1"}','sent',1,1795590000,NULL,1795590000,1795590005,'250 2.0.0 queued as 4F2A',NULL);
INSERT INTO "outbox" VALUES(2,'order:blr1:SO-2','ship_late','','email','gone@example.in',NULL,NULL,'ship_late',NULL,'suppressed',0,1795590000,'unsubscribed',1795590000,NULL,NULL,NULL);
INSERT INTO "outbox" VALUES(3,'order:blr1:SO-1','late','2026-11-30','email','asha@example.in',NULL,NULL,'late',NULL,'queued',0,1796063400,NULL,1796063400,NULL,NULL,'order:blr1:SO-1');
CREATE TABLE parcels ( id INTEGER PRIMARY KEY, order_ref INTEGER REFERENCES orders (id) ON DELETE CASCADE, courier TEXT NOT NULL, tracking_number TEXT NOT NULL, shipped_at INTEGER, shipped_off INTEGER, status TEXT NOT NULL DEFAULT 'pending'  CHECK (status IN ('pending','info_received','in_transit','out_for_delivery','attempt_fail','available_for_pickup','delivered','exception','returning','returned','expired','cancelled','unknown')), raw_code TEXT, raw_text TEXT, last_event_at INTEGER, last_event_off INTEGER, eta_date TEXT, delivered_at INTEGER, delivered_off INTEGER, first_scan_at INTEGER, first_scan_off INTEGER, terminal INTEGER NOT NULL DEFAULT 0 CHECK (terminal IN (0, 1)), UNIQUE (courier, tracking_number));
INSERT INTO "parcels" VALUES(1,1,'dhl','JD014600006',1795530000,19800,'in_transit','transit','Arrived at hub',1795560000,3600,'2026-11-29',NULL,NULL,1795540000,19800,0);
CREATE TABLE poll_schedule ( parcel_ref INTEGER PRIMARY KEY  REFERENCES parcels (id) ON DELETE CASCADE, next_poll_at INTEGER NOT NULL, interval_s INTEGER NOT NULL CHECK (interval_s > 0), failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0), last_polled_at INTEGER, last_error TEXT);
INSERT INTO "poll_schedule" VALUES(1,1795600000,900,0,1795590000,NULL);
CREATE TABLE schema_migrations ( version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
INSERT INTO "schema_migrations" VALUES(1,1795400000);
INSERT INTO "schema_migrations" VALUES(2,1795400000);
INSERT INTO "schema_migrations" VALUES(3,1795400000);
INSERT INTO "schema_migrations" VALUES(4,1795600000);
CREATE TABLE silences ( id INTEGER PRIMARY KEY, matcher TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL CHECK (ends_at > starts_at), created_by TEXT, reason TEXT, created_at INTEGER NOT NULL);
CREATE TABLE unsubscribes ( email TEXT PRIMARY KEY COLLATE NOCASE, added_at INTEGER NOT NULL, reason TEXT);
INSERT INTO "unsubscribes" VALUES('Gone@Example.in',1795500000,'asked');
CREATE INDEX orders_unshipped ON orders (promised_ship_by_at) WHERE shipped_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX orders_delivery ON orders (promised_delivery_at);
CREATE TRIGGER orders_status_ins AFTER INSERT ON orders BEGIN UPDATE orders SET status = CASE WHEN cancelled_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'cancelled' WHEN shipped_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'shipped' WHEN packed_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'packed' WHEN picked_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'picked' WHEN backordered_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'backordered' WHEN created_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'created' ELSE NULL END WHERE id = NEW.id; END;
CREATE TRIGGER orders_status_upd AFTER UPDATE OF created_at, picked_at, packed_at, shipped_at, cancelled_at, backordered_at ON orders BEGIN UPDATE orders SET status = CASE WHEN cancelled_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'cancelled' WHEN shipped_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'shipped' WHEN packed_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'packed' WHEN picked_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'picked' WHEN backordered_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'backordered' WHEN created_at = max(coalesce(created_at, -1), coalesce(picked_at, -1), coalesce(packed_at, -1), coalesce(shipped_at, -1), coalesce(cancelled_at, -1), coalesce(backordered_at, -1)) THEN 'created' ELSE NULL END WHERE id = NEW.id; END;
CREATE INDEX parcels_order ON parcels (order_ref);
CREATE INDEX parcels_active ON parcels (status) WHERE terminal = 0;
CREATE INDEX journal_order ON journal (warehouse_id, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX journal_parcel ON journal (courier, tracking_number) WHERE tracking_number IS NOT NULL;
CREATE TRIGGER journal_append_only BEFORE UPDATE ON journal BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE INDEX poll_due ON poll_schedule (next_poll_at);
CREATE INDEX alerts_open ON alerts (detected_at) WHERE resolved_at IS NULL;
CREATE INDEX silences_active ON silences (ends_at);
CREATE INDEX acks_key ON acks (alert_key);
CREATE INDEX orders_backlog_pick ON orders (warehouse_id) WHERE created_at IS NOT NULL AND picked_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX orders_backlog_ship ON orders (warehouse_id) WHERE picked_at IS NOT NULL AND shipped_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient, sent_at) WHERE state = 'sent';
CREATE INDEX outbox_group ON outbox (grp, next_attempt_at) WHERE grp IS NOT NULL AND state IN ('queued', 'deferred');
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('journal',2);
COMMIT;
