/*
 * test_engine_tail.c - the alert engine's journal tail (alerts/engine.c,
 * sw_engine_tail) on a real store: a batch of events evaluates each unit
 * it touches once, however many events name it (a parcel named by its
 * own events and through its order's order.shipped counts once), and
 * finds the same slips as the same events tailed one per batch (what the
 * tail did for every event before it batched), parcels and orders alike
 * (an order event names every parcel of its order; an order without one
 * is a unit of its own).  Also the batch's reads of lib/store_journal.h:
 * the journal's keys only, and one query for open slips with awkward
 * entity strings.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alerts/engine.h"
#include "alerts/rules.h"
#include "lib/conf.h"
#include "lib/store.h"
#include "lib/store_journal.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define DAY 86400

struct run {
	struct sw_engine_stats stats;
	int exc_t0, exc_t1; /* open "exception" slips of T0, T1 */
	int exc_t0_after;   /* T0's after it moved on (round two) */
	uint64_t evaluated_after, events_after;
	int tails; /* sw_engine_tail calls that read events */
};

/* Order B<i> shipped with parcel dhl T<i>; T0 in exception (a slip),
 * T1 in transit since an hour ago (none). */
static void seed(struct sw_store *st, int64_t now)
{
	for (int i = 0; i < 2; i++) {
		struct sw_order o = { 0 };
		struct sw_parcel_update u = { 0 };
		struct sw_stamp shipped = { now - 4 * DAY, 0 };
		char oid[16], tn[16];

		snprintf(oid, sizeof(oid), "B%d", i);
		snprintf(tn, sizeof(tn), "T%d", i);
		o.warehouse_id = "wh";
		o.order_id = oid;
		o.stage[SW_STAGE_CREATED].at = now - 5 * DAY;
		o.stage[SW_STAGE_SHIPPED] = shipped;
		o.promised_ship_by.at = now - 4 * DAY + 3600; /* met: a promise known */
		u.status = i == 0 ? SW_SHIP_EXCEPTION : SW_SHIP_IN_TRANSIT;
		u.event_at.at = now - 3600;
		u.first_scan_at = u.event_at;
		if (sw_store_order_upsert(st, &o) != SW_OK ||
		    sw_store_parcel_upsert(st, "dhl", tn, "wh", oid, shipped) != SW_OK ||
		    sw_store_parcel_set_status(st, "dhl", tn, &u) != SW_OK)
			tap_bail("seeding: %s", sw_store_errmsg(st));
	}
}

/* Events from = 0 .. to - 1: for T0 and T1 in turn (two of three for
 * T0), and event 10 order.shipped of B0 naming both its order and its
 * parcel T0.  0..19: 12 for T0, 7 for T1. */
static void journal(struct sw_store *st, int64_t now, int from, int to)
{
	for (int i = from; i < to; i++) {
		struct sw_journal_event ev = { 0 };
		char id[16];

		snprintf(id, sizeof(id), "e%d", i);
		ev.source = "test";
		ev.source_event_id = id;
		ev.occurred_at.at = now - 60 + i;
		if (i == 10) {
			ev.kind = "order.shipped";
			ev.warehouse_id = "wh";
			ev.order_id = "B0";
			ev.courier = "dhl";
			ev.tracking_number = "T0";
		} else {
			ev.kind = "parcel.status";
			ev.courier = "dhl";
			ev.tracking_number = i % 3 == 2 ? "T1" : "T0";
		}
		if (sw_store_journal_append(st, &ev, NULL) != SW_OK)
			tap_bail("journal: %s", sw_store_errmsg(st));
	}
}

static int open_exception(struct sw_store *st, const char *entity)
{
	struct sw_alert *a;
	size_t n;
	int found = 0;

	if (sw_store_alert_open(st, entity, &a, &n) != SW_OK)
		return -1;
	for (size_t i = 0; i < n; i++)
		found += strcmp(a[i].kind, "exception") == 0;
	sw_store_alert_free(a, n);
	return found;
}

/* Round two: T0 moves on (in transit), 6 more events; its exception
 * resolves. */
static void drain_round_two(struct sw_store *st, struct sw_engine *e, int64_t now,
			    struct run *r)
{
	struct sw_parcel_update u = { 0 };
	struct sw_engine_stats before, after;
	char err[512];
	int got;

	sw_engine_get_stats(e, &before);
	u.status = SW_SHIP_IN_TRANSIT;
	u.event_at.at = now - 60;
	if (sw_store_parcel_set_status(st, "dhl", "T0", &u) != SW_OK)
		tap_bail("round two: %s", sw_store_errmsg(st));
	journal(st, now, 20, 26);
	do {
		if (sw_engine_tail(e, now + 1, &got, err, sizeof(err)) != SW_OK)
			tap_bail("tail: %s", err);
	} while (got > 0);
	sw_engine_get_stats(e, &after);
	r->evaluated_after = after.evaluated - before.evaluated;
	r->events_after = after.events;
	r->exc_t0_after = open_exception(st, "parcel:dhl:T0");
}

/* A fresh store called name (store_tmp_new), seeded and journaled, tailed
 * to the end with the given batch size. */
static void tail_all(const char *name, int batch, int64_t now, struct run *r)
{
	char err[512];
	struct sw_alerts_conf conf;
	struct sw_rules rules;
	struct sw_engine *e;
	struct sw_store *st;
	struct sw_conf *cf;
	int got;

	memset(r, 0, sizeof(*r));
	if (sw_store_open(store_tmp_new(name), 0, &st, err, sizeof(err)) != SW_OK ||
	    sw_conf_load_string("[alerts]\nemail = no\n[rule default]\n", "test",
				&cf, err, sizeof(err)) != SW_OK ||
	    sw_rules_load(cf, &conf, &rules, err, sizeof(err)) != SW_OK)
		tap_bail("setup: %s", err);
	seed(st, now);
	journal(st, now, 0, 20);
	conf.batch = batch;
	if (sw_engine_new(st, &conf, &rules, NULL, &e, err, sizeof(err)) != SW_OK)
		tap_bail("engine: %s", err);
	do {
		if (sw_engine_tail(e, now, &got, err, sizeof(err)) != SW_OK)
			tap_bail("tail: %s", err);
		r->tails += got > 0;
	} while (got > 0);
	sw_engine_get_stats(e, &r->stats);
	r->exc_t0 = open_exception(st, "parcel:dhl:T0");
	r->exc_t1 = open_exception(st, "parcel:dhl:T1");
	drain_round_two(st, e, now, r);
	sw_engine_free(e);
	sw_rules_free(&rules);
	sw_alerts_conf_free(&conf);
	sw_conf_free(cf);
	sw_store_close(st);
}

static void test_batch(void)
{
	int64_t now = (int64_t)time(NULL);
	struct run one, batch;

	tail_all("one.db", 1, now, &one);
	tail_all("batch.db", 500, now, &batch);

	/* one event per batch: every event evaluates what it names */
	is_int(one.tails, 20, "one per batch: 20 batches");
	is_int((int)one.stats.events, 20, "one per batch: 20 events counted");
	/* (order.shipped names T0 itself and through B0: still one unit) */
	is_int((int)one.stats.evaluated, 20, "one per batch: 20 evaluations");

	/* one batch: T0 and T1 once each */
	is_int(batch.tails, 1, "batch: one batch read them all");
	is_int((int)batch.stats.events, 20, "batch: still 20 events counted");
	is_int((int)batch.stats.evaluated, 2, "batch: 2 distinct units, 2 evaluations");
	is_int((int)batch.stats.cursor, (int)one.stats.cursor, "batch: the same cursor");

	/* the same findings */
	is_int((int)batch.stats.slips, (int)one.stats.slips, "the same number of slips");
	is_int((int)batch.stats.slips, 1, "one slip: T0 in exception");
	is_int(one.exc_t0, 1, "one per batch: T0 in exception");
	is_int(batch.exc_t0, 1, "batch: T0 in exception");
	is_int(one.exc_t1, 0, "one per batch: T1 has no slip");
	is_int(batch.exc_t1, 0, "batch: T1 has no slip");
	is_int((int)batch.stats.open, (int)one.stats.open, "the same units wait for a deadline");

	/* round two: an open slip resolves the same way */
	is_int((int)one.evaluated_after, 6, "round two, one per batch: 6 evaluations");
	is_int((int)batch.evaluated_after, 2, "round two, batch: 2 evaluations");
	is_int(one.exc_t0_after, 0, "round two, one per batch: T0's exception resolved");
	is_int(batch.exc_t0_after, 0, "round two, batch: T0's exception resolved");
	is_int((int)batch.events_after, 26, "round two: 26 events counted");
}

/* Order M shipped as parcels dhl M1 and M2, order N still in the
 * warehouse (no parcel), its ship-by passed an hour ago (a slip). */
static void seed_orders(struct sw_store *st, int64_t now)
{
	struct sw_order m = { 0 }, n = { 0 };
	struct sw_stamp shipped = { now - DAY, 0 };

	m.warehouse_id = n.warehouse_id = "wh";
	m.order_id = "M";
	n.order_id = "N";
	m.stage[SW_STAGE_CREATED].at = n.stage[SW_STAGE_CREATED].at = now - 2 * DAY;
	m.stage[SW_STAGE_SHIPPED] = shipped;
	m.promised_ship_by.at = now - DAY + 3600;
	n.promised_ship_by.at = now - 3600;
	if (sw_store_order_upsert(st, &m) != SW_OK || sw_store_order_upsert(st, &n) != SW_OK ||
	    sw_store_parcel_upsert(st, "dhl", "M1", "wh", "M", shipped) != SW_OK ||
	    sw_store_parcel_upsert(st, "dhl", "M2", "wh", "M", shipped) != SW_OK)
		tap_bail("seeding orders: %s", sw_store_errmsg(st));
}

/* Events naming M (both its parcels), M1, N, M1, N, M2, then an order
 * event without order id and a parcel event without tracking number. */
static void journal_orders(struct sw_store *st, int64_t now)
{
	/* and two whose keys have an empty part: they name nothing */
	static const char *const names[][2] = { { "M", NULL }, { NULL, "M1" }, { "N", NULL },
						 { NULL, "M1" }, { "N", NULL }, { NULL, "M2" },
						 { "", NULL },	 { NULL, "" } };

	for (int i = 0; i < 8; i++) {
		struct sw_journal_event ev = { 0 };
		char id[16];

		snprintf(id, sizeof(id), "o%d", i);
		ev.source = "test";
		ev.source_event_id = id;
		ev.occurred_at.at = now - 60 + i;
		ev.kind = names[i][0] ? "order.packed" : "parcel.status";
		ev.warehouse_id = names[i][0] ? "wh" : NULL;
		ev.order_id = names[i][0];
		ev.courier = names[i][1] ? "dhl" : NULL;
		ev.tracking_number = names[i][1];
		if (sw_store_journal_append(st, &ev, NULL) != SW_OK)
			tap_bail("journal: %s", sw_store_errmsg(st));
	}
}

/* Tails the order events with the given batch size. */
static void tail_orders(const char *name, int batch, int64_t now, struct sw_engine_stats *ret,
			int *ret_late_n)
{
	char err[512];
	struct sw_alerts_conf conf;
	struct sw_rules rules;
	struct sw_engine *e;
	struct sw_store *st;
	struct sw_conf *cf;
	struct sw_alert *a;
	size_t n;
	int got;

	if (sw_store_open(store_tmp_new(name), 0, &st, err, sizeof(err)) != SW_OK ||
	    sw_conf_load_string("[alerts]\nemail = no\n[rule default]\n", "test", &cf, err,
				sizeof(err)) != SW_OK ||
	    sw_rules_load(cf, &conf, &rules, err, sizeof(err)) != SW_OK)
		tap_bail("setup: %s", err);
	seed_orders(st, now);
	journal_orders(st, now);
	conf.batch = batch;
	if (sw_engine_new(st, &conf, &rules, NULL, &e, err, sizeof(err)) != SW_OK)
		tap_bail("engine: %s", err);
	do {
		if (sw_engine_tail(e, now, &got, err, sizeof(err)) != SW_OK)
			tap_bail("tail: %s", err);
	} while (got > 0);
	sw_engine_get_stats(e, ret);
	*ret_late_n = -1;
	if (sw_store_alert_open(st, "order:wh:N", &a, &n) == SW_OK) {
		*ret_late_n = 0;
		for (size_t i = 0; i < n; i++)
			*ret_late_n += strcmp(a[i].kind, "ship_late") == 0;
		sw_store_alert_free(a, n);
	}
	sw_engine_free(e);
	sw_rules_free(&rules);
	sw_alerts_conf_free(&conf);
	sw_conf_free(cf);
	sw_store_close(st);
}

/* Orders in the batch: an order names all its parcels, an order without
 * parcels is its own unit; each unit still once per batch. */
static void test_batch_orders(void)
{
	int64_t now = (int64_t)time(NULL);
	struct sw_engine_stats one, batch;
	int late_one, late_batch;

	tail_orders("orders-one.db", 1, now, &one, &late_one);
	tail_orders("orders-batch.db", 500, now, &batch, &late_batch);
	/* M: M1 + M2; M1; N; M1; N; M2 */
	is_int((int)one.evaluated, 7, "orders, one per batch: 7 evaluations");
	is_int((int)batch.evaluated, 3, "orders, batch: M1, M2 and N once each");
	is_int((int)batch.events, 8, "orders, batch: 8 events counted (empty keys too)");
	is_int(late_one, 1, "orders, one per batch: N late to ship");
	is_int(late_batch, 1, "orders, batch: N late to ship");
	is_int((int)batch.slips, (int)one.slips, "orders: the same number of slips");
	is_int((int)batch.open, (int)one.open, "orders: the same units wait for a deadline");
}

/* The events as text: "seq kind wh/oid courier/tn;" each. */
struct ev_text {
	char buf[4096];
	size_t len;
};

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static enum sw_err note_event(const struct sw_journal_event *ev, void *arg)
{
	struct ev_text *t = arg;

	t->len += (size_t)snprintf(t->buf + t->len, sizeof(t->buf) - t->len,
				   "%lld %s %s/%s %s/%s;", (long long)ev->seq, ev->kind,
				   or_dash(ev->warehouse_id), or_dash(ev->order_id),
				   or_dash(ev->courier), or_dash(ev->tracking_number));
	return t->len < 3000 ? SW_OK : SW_ERANGE;
}

/* sw_store_journal_keys: the keys sw_store_journal_read gives, pages and
 * limits alike. */
static void test_journal_keys(void)
{
	struct ev_text full = { .len = 0 }, keys = { .len = 0 };
	char err[512];
	struct sw_store *st;
	int n_full = 0, n_keys = 0, n;

	if (sw_store_open(store_tmp_new("keys.db"), 0, &st, err, sizeof(err)) != SW_OK)
		tap_bail("store: %s", err);
	journal(st, 1000000, 0, 20);
	journal_orders(st, 1000000);
	for (int64_t after = 0;; after += 7) {
		if (sw_store_journal_read(st, after, 7, note_event, &full, &n) != SW_OK)
			tap_bail("read: %s", sw_store_errmsg(st));
		n_full += n;
		is_int(sw_store_journal_keys(st, after, 7, note_event, &keys, &n), SW_OK,
		       "keys after %lld", (long long)after);
		n_keys += n;
		if (n < 7)
			break;
	}
	is_int(n_keys, 28, "keys: all 28 events");
	is_int(n_full, n_keys, "as many as the full read");
	ok(full.len > 0 && strcmp(full.buf, keys.buf) == 0, "the same seqs, kinds and keys");
	is_int(sw_store_journal_keys(st, 0, 0, note_event, &keys, &n), SW_ERANGE, "limit 0");
	is_int(sw_store_journal_keys(st, 0, 5, NULL, NULL, &n), SW_EINVAL, "no callback");
	sw_store_close(st);
}

/* sw_store_alert_open_among: one query for a list, whatever its strings. */
static void test_open_among(void)
{
	static const char *const ent[] = { "parcel:dhl:a\"b\\c", "order:w:\001x", "parcel:x:y",
					   "order:w:resolved", "parcel:dhl:a\"b" };
	bool open[5];
	const char *empty[] = { "parcel:x:y", "" };
	char err[512];
	struct sw_store *st;

	if (sw_store_open(store_tmp_new("among.db"), 0, &st, err, sizeof(err)) != SW_OK)
		tap_bail("store: %s", err);
	for (int i = 0; i < 4; i += 1) {
		struct sw_alert a = { .entity = ent[i], .kind = "stalled", .detected_at = 1000 };

		if (i != 2 && sw_store_alert_record(st, &a, NULL) != SW_OK)
			tap_bail("alert: %s", sw_store_errmsg(st));
	}
	if (sw_store_alert_resolve(st, ent[3], ",", 2000, NULL) != SW_OK)
		tap_bail("resolve: %s", sw_store_errmsg(st));
	is_int(sw_store_alert_open_among(st, ent, 5, open), SW_OK, "open among: a list of 5");
	ok(open[0], "quote and backslash in the entity: open");
	ok(open[1], "control character in the entity: open");
	ok(!open[2], "no alert: not open");
	ok(!open[3], "resolved: not open");
	ok(!open[4], "a prefix of an open entity: not open");
	is_int(sw_store_alert_open_among(st, ent, 0, open), SW_OK, "an empty list");
	is_int(sw_store_alert_open_among(st, empty, 2, open), SW_EINVAL, "an empty entity: EINVAL");
	ok(strstr(sw_store_errmsg(st), "entity 1 is empty") != NULL, "the message names it: %s",
	   sw_store_errmsg(st));
	sw_store_close(st);
}

int main(void)
{
	test_batch();
	test_batch_orders();
	test_journal_keys();
	test_open_among();
	return store_tmp_done(NULL);
}
