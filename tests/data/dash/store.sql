-- The store's rows sw_seed does not write, for 505-dash-store and
-- 510-dash-browser (with tests/data/dash/store.jsonl); times relative to
-- @now (sqlite3 -cmd ".parameter set @now SECONDS").
-- Shipped orders were picked when they shipped: the pick backlog is the
-- orders not shipped (O-4, O-8; C-1 is cancelled).
UPDATE orders SET picked_at = shipped_at, picked_off = 0 WHERE shipped_at IS NOT NULL;
-- The courier's own words, with markup in them.
UPDATE parcels SET raw_code = 'HLD', raw_text = 'Held at <b>customs</b>' WHERE tracking_number = 'TN-2';
-- Slips: O-1's parcel is stalled in line haul at 2.4 times its p90 (open);
-- an older warehouse slip of it is resolved and shows nowhere.
INSERT INTO alerts (entity, kind, promise, stage, stage_ratio, detected_at, resolved_at) VALUES
 ('parcel:dhl:TN-1', 'stalled', '', 'line_haul', 2.4, @now - 90000, NULL),
 ('parcel:dhl:TN-1', 'ship_late', '', 'warehouse', 5.0, @now - 240000, @now - 230000),
 ('parcel:dhl:TN-2', 'exception', '', 'courier', NULL, @now - 20000, NULL);
-- Customer notices: O-1 was told twice (the order's ship_late long ago,
-- the parcel's late two hours ago: the latest counts); O-2's notice is
-- still queued, and an on-call page row about it (a receiver) is no
-- customer notice.
INSERT INTO outbox (entity, slip_kind, promise, channel, recipient, state, next_attempt_at,
 created_at, sent_at, receiver) VALUES
 ('order:w1:O-1<script>alert(1)</script>', 'ship_late', '', 'email', 'eve@example.com', 'sent',
  @now - 200000, @now - 200000, @now - 199000, NULL),
 ('parcel:dhl:TN-1', 'late', '', 'email', 'eve@example.com', 'sent', @now - 7260, @now - 7260,
  @now - 7200, NULL),
 ('parcel:dhl:TN-2', 'late', '', 'email', 'bob@example.com', 'queued', @now + 600, @now - 600,
  NULL, NULL),
 ('order:w1:O-2', 'trigger', '1#1@oncall', 'webhook', 'oncall', 'sent', @now - 900, @now - 900,
  @now - 900, 'oncall');
-- On-call pages: one firing (critical, its summary with markup), one
-- with no data, one pending, one ok (not open).
INSERT INTO pages (rule, subject, labels, state, severity, value, summary, figures, state_since,
 active_since, firing_since, incident, evaluated_at, notified_state, notified_severity,
 notified_incident, receiver) VALUES
 ('backlog', 'warehouse=w1', 'warehouse=w1', 'firing', 2, 512,
  'backlog 512 <script>alert(4)</script>', NULL, @now - 7200, @now - 7300, @now - 7200, 3,
  @now - 30, 'firing', 2, 3, 'oncall'),
 ('feed', '', '', 'nodata', 1, NULL, 'no data for 20m', NULL, @now - 1200, @now - 1200, 0, 1,
  @now - 30, 'nodata', 1, 1, 'oncall'),
 ('stalled', 'courier=dhl', 'courier=dhl', 'pending', 0, 7, '7 stalled parcels', NULL,
  @now - 60, @now - 60, 0, 2, @now - 30, 'ok', 0, 1, NULL),
 ('courier_errors', 'courier=ups', 'courier=ups', 'ok', 0, 0.01, 'error rate 1%', NULL,
  @now - 7200, 0, 0, 1, @now - 30, 'ok', 0, 1, NULL);
