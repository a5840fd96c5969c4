/*
 * test_ingest.c - unit tests for collector/ingest.c against a real SQLite
 * store in a private temp dir (or PostgreSQL: tests/store_tmp.h) and a
 * real metrics registry.
 *
 * Streams of events (valid, duplicate, out of order, bad) go through
 * sw_ingest_message and sw_ingest_commit; the store and the registry are
 * then checked independently: the journal holds exactly the unique valid
 * events, orders and parcels have the right stage times, metrics count only
 * committed batches.  Failure paths: abort, a write lock held by another
 * connection past the busy timeout (RETRY), a store refusal after the
 * event's first write (careful mode), and a commit that cannot write (the
 * file size limit, RLIMIT_FSIZE, makes SQLite's WAL write fail; on
 * PostgreSQL a deferred trigger fails the commit as a full disk would).
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "collector/ingest.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define T0 1795491900 /* 2026-11-24T03:45:00Z */

static struct sw_store *st;
static struct sw_metrics *met;
static struct sw_ingest *ing;

/* ---- helpers -------------------------------------------------------------- */

static long long db_int(const char *sql)
{
	return raw_int(store_path, sql);
}

static long long journal_count(void)
{
	return db_int("SELECT count(*) FROM journal");
}

/* "2026-11-24T03:45:00Z" + minutes, as text (the ingest's own parser
 * reads it back; the tests compare unix seconds). */
static char *at(int minutes)
{
	struct sw_time t = {.utc_sec = T0 + 60 * (int64_t)minutes, .flags = SW_TIME_HAS_OFFSET};
	char buf[SW_TIME_STRLEN];

	sw_time_format_utc(&t, buf, sizeof(buf));
	return xstrdup(buf);
}

static char *ev_stage(const char *wh, const char *eid, const char *type, const char *oid,
		      int minutes)
{
	char *a = at(minutes);
	char *s = xasprintf("{\"event_id\":\"%s\",\"type\":\"order.%s\",\"occurred_at\":\"%s\","
			    "\"warehouse_id\":\"%s\",\"order_id\":\"%s\"}",
			    eid, type, a, wh, oid);

	free(a);
	return s;
}

static char *ev_created(const char *wh, const char *eid, const char *oid, int minutes,
			const char *name, const char *city)
{
	char *a = at(minutes);
	char *dest = city ? xasprintf(",\"destination\":{\"city\":\"%s\"}", city) : xstrdup("");
	char *s = xasprintf(
	    "{\"event_id\":\"%s\",\"type\":\"order.created\",\"occurred_at\":\"%s\","
	    "\"warehouse_id\":\"%s\",\"order_id\":\"%s\",\"customer\":{\"name\":\"%s\","
	    "\"email\":\"c@example.in\",\"locale\":\"hi-IN\",\"timezone\":\"Asia/Kolkata\"},"
	    "\"promised_ship_by\":\"2026-11-25T18:00:00+05:30\",\"promised_delivery_by\":"
	    "\"2026-11-30\"%s}",
	    eid, a, wh, oid, name, dest);

	free(a);
	free(dest);
	return s;
}

static char *ev_shipped(const char *wh, const char *eid, const char *oid, int minutes,
			const char *courier, const char *tn)
{
	char *a = at(minutes);
	char *s = xasprintf("{\"event_id\":\"%s\",\"type\":\"order.shipped\",\"occurred_at\":"
			    "\"%s\",\"warehouse_id\":\"%s\",\"order_id\":\"%s\",\"courier\":\"%s\","
			    "\"tracking_number\":\"%s\"}",
			    eid, a, wh, oid, courier, tn);

	free(a);
	return s;
}

/* Sends payload (freed) on warehouse/<wh>/events. */
static enum sw_ingest_result send_to(struct sw_ingest *in, const char *wh, char *payload,
				     struct sw_event_reject *rej)
{
	char *topic = xasprintf("warehouse/%s/events", wh);
	enum sw_ingest_result r =
	    sw_ingest_message(in, topic, payload, strlen(payload), T0 + 7200, rej);

	free(topic);
	free(payload);
	return r;
}

static enum sw_ingest_result send(char *payload)
{
	return send_to(ing, "w1", payload, NULL);
}

#define is_res(got, want, ...)                                                                     \
	do {                                                                                       \
		enum sw_ingest_result r_ = (got);                                                  \
		if (!ok(r_ == (want), __VA_ARGS__))                                                \
			printf("#   got %s, want %s\n", sw_ingest_result_name(r_),                 \
			       sw_ingest_result_name(want));                                       \
	} while (0)

/* A counter's value, 0 if never reported. */
static long long counter(const char *file, const char *ds)
{
	const struct sw_metric_value *v = sw_metrics_peek(met, file, ds);

	return v ? (long long)v->count : 0;
}

static const struct sw_metric_value *value(const char *file, const char *ds)
{
	return sw_metrics_peek(met, file, ds);
}

static struct sw_order *order(const char *wh, const char *oid)
{
	struct sw_order *o = NULL;

	sw_store_order_get(st, wh, oid, &o);
	return o;
}

static int64_t stage_at(const char *wh, const char *oid, enum sw_stage s)
{
	struct sw_order *o = order(wh, oid);
	int64_t v = o ? o->stage[s].at : -1;

	sw_store_order_free(o);
	return v;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_stream(void)
{
	struct sw_event_reject rej;
	struct sw_ingest_stats stats;
	const struct sw_metric_value *v;
	struct sw_parcel *p = NULL;
	long long j0 = journal_count();

	/* Batch 1: created + picked, picked before created, a duplicate in the
	 * same batch, bad payloads. */
	is_res(send(ev_created("w1", "c1", "o1", 0, "Asha", "Pune")), SW_INGEST_APPLIED,
	       "created o1");
	ok(sw_ingest_in_batch(ing), "batch opened by the first message");
	is_res(send(ev_stage("w1", "p1", "picked", "o1", 60)), SW_INGEST_APPLIED, "picked o1");
	is_res(send(ev_stage("w1", "p2", "picked", "o2", 90)), SW_INGEST_APPLIED,
	       "picked o2 before its created");
	is_res(send(ev_created("w1", "c1", "o1", 0, "Asha", "Pune")), SW_INGEST_DUPLICATE,
	       "created o1 again in the same batch");
	is_res(send_to(ing, "w1", xstrdup("{\"event_id\":"), &rej), SW_INGEST_REJECTED,
	       "truncated JSON");
	is_str(sw_event_reason_name(rej.reason), "not_json", "  not_json");
	is_res(send_to(ing, "w1", ev_stage("w2", "x1", "picked", "o9", 10), &rej),
	       SW_INGEST_REJECTED, "payload of w2 on w1's topic");
	is_str(sw_event_reason_name(rej.reason), "warehouse_mismatch", "  warehouse_mismatch");
	ok(value("warehouse/w1", "created") == NULL &&
	       value("collector", "rejected_not_json") == NULL,
	   "nothing counted before commit");
	sw_ingest_stats(ing, &stats);
	is_int(stats.applied + stats.rejected, 0, "no stats before commit");
	is_int(sw_ingest_commit(ing), SW_OK, "commit batch 1");
	ok(!sw_ingest_in_batch(ing), "batch closed");
	is_int(journal_count(), j0 + 3, "journal: the 3 unique valid events");
	is_int(counter("warehouse/w1", "created"), 1, "created counted");
	is_int(counter("warehouse/w1", "picked"), 2, "picked counted");
	is_int(counter("warehouse/w1", "duplicates"), 1, "duplicate counted");
	is_int(counter("warehouse/w1", "rejected"), 2,
	       "rejections counted for the topic's warehouse");
	ok(value("warehouse/w2", "rejected") == NULL, "not for the payload's warehouse");
	is_int(counter("collector", "rejected_not_json"), 1, "collector rejected_not_json");
	is_int(counter("collector", "rejected_warehouse_mismatch"), 1,
	       "collector rejected_warehouse_mismatch");
	v = value("warehouse/w1", "pick_duration");
	ok(v && v->dist.count == 1 && v->dist.min == 3600, "pick_duration o1: 3600 s");
	sw_ingest_stats(ing, &stats);
	is_int(stats.applied, 3, "stats applied");
	is_int(stats.duplicates, 1, "stats duplicates");
	is_int(stats.rejected, 2, "stats rejected");
	is_int(stats.rejected_by[SW_EVENT_NOT_JSON], 1, "stats rejected not_json");
	is_int(stats.commits, 1, "stats commits");
	is_int(db_int("SELECT count(*) FROM warehouse_health"), 1,
	       "warehouse_health: one row, for w1 (w2's payload was refused)");
	is_int(db_int("SELECT last_event_at FROM warehouse_health WHERE warehouse_id = 'w1'"),
	       T0 + 7200, "  w1's last event: the batch's receive time");

	/* Batch 2: o2's created arrives after its picked; packed and two
	 * parcels for o1; duplicates across batches. */
	is_res(send(ev_created("w1", "c2", "o2", 60, "Ravi", NULL)), SW_INGEST_APPLIED,
	       "created o2 after its picked");
	is_res(send(ev_stage("w1", "k1", "packed", "o1", 100)), SW_INGEST_APPLIED, "packed o1");
	is_res(send(ev_shipped("w1", "s1", "o1", 130, "bluedart", "BD1")), SW_INGEST_APPLIED,
	       "shipped o1 parcel 1");
	is_res(send(ev_shipped("w1", "s2", "o1", 140, "bluedart", "BD2")), SW_INGEST_APPLIED,
	       "shipped o1 parcel 2");
	is_res(send(ev_stage("w1", "p2", "picked", "o2", 90)), SW_INGEST_DUPLICATE,
	       "picked o2 redelivered");
	is_res(send(ev_stage("w1", "p1", "picked", "o1", 60)), SW_INGEST_DUPLICATE,
	       "picked o1 redelivered");
	is_int(sw_ingest_commit(ing), SW_OK, "commit batch 2");
	is_int(journal_count(), j0 + 7, "journal: 7 unique valid events");
	is_int(stage_at("w1", "o2", SW_STAGE_CREATED), T0 + 3600, "o2 created time");
	is_int(stage_at("w1", "o2", SW_STAGE_PICKED), T0 + 5400, "o2 picked time kept");
	is_int(stage_at("w1", "o1", SW_STAGE_SHIPPED), T0 + 130 * 60,
	       "o1 shipped: earliest parcel");
	is_int(stage_at("w1", "o1", SW_STAGE_PACKED), T0 + 100 * 60, "o1 packed");
	{
		struct sw_order *o = order("w1", "o2");

		is_str(o ? o->customer_name : NULL, "Ravi", "o2 customer from the late created");
		is_int(o ? (int)o->status : -1, SW_STAGE_PICKED, "o2 status picked");
		sw_store_order_free(o);
	}
	is_int(sw_store_parcel_get(st, "bluedart", "BD2", &p), SW_OK, "parcel 2 stored");
	is_str(p ? p->order_id : NULL, "o1", "  linked to o1");
	is_int(p ? p->shipped_at.at : 0, T0 + 140 * 60, "  its own shipped time");
	sw_store_parcel_free(p);
	is_int(db_int("SELECT count(*) FROM parcels p JOIN orders o ON o.id = p.order_ref "
		       "WHERE o.order_id = 'o1'"),
	       2, "o1 has two parcels");
	v = value("warehouse/w1", "pick_duration");
	ok(v && v->dist.count == 2 && v->dist.min == 1800 && v->dist.max == 3600,
	   "pick_duration o2 (1800 s) added by the late created");
	v = value("warehouse/w1", "pack_duration");
	ok(v && v->dist.count == 1 && v->dist.min == 2400, "pack_duration o1: 2400 s");
	v = value("warehouse/w1", "ship_duration");
	ok(v && v->dist.count == 1 && v->dist.min == 1800, "ship_duration once for two parcels");
	is_int(counter("warehouse/w1", "shipped"), 2, "shipped counts parcels");
	is_int(counter("warehouse/w1", "duplicates"), 3, "duplicates across batches");
}

static void test_abort(void)
{
	long long j0 = journal_count();
	struct sw_order *o;

	is_res(send(ev_created("w1", "c3", "o3", 0, "Meera", NULL)), SW_INGEST_APPLIED,
	       "created o3");
	is_res(send(ev_stage("w1", "p3", "picked", "o3", 10)), SW_INGEST_APPLIED, "picked o3");
	is_res(send(xstrdup("[]")), SW_INGEST_REJECTED, "a reject in the batch");
	is_res(send_to(ing, "w9", ev_stage("w9", "x9", "picked", "o9", 10), NULL),
	       SW_INGEST_APPLIED, "an event of w9 in the batch");
	is_int(sw_ingest_abort(ing), SW_OK, "abort");
	is_int(journal_count(), j0, "abort leaves no journal entry");
	is_int(db_int("SELECT count(*) FROM warehouse_health WHERE warehouse_id = 'w9'"), 0,
	       "abort notes no warehouse event (w9)");
	o = order("w1", "o3");
	ok(o == NULL, "abort leaves no order");
	sw_store_order_free(o);
	is_int(counter("warehouse/w1", "created"), 2, "aborted created not counted");
	is_int(counter("collector", "rejected_not_object"), 0, "aborted reject not counted");
	is_int(sw_ingest_abort(ing), SW_OK, "abort without a batch");

	/* Redelivery after abort applies, not a duplicate. */
	is_res(send(ev_created("w1", "c3", "o3", 0, "Meera", NULL)), SW_INGEST_APPLIED,
	       "created o3 redelivered");
	is_res(send(ev_stage("w1", "p3", "picked", "o3", 10)), SW_INGEST_APPLIED,
	       "picked o3 redelivered");
	is_int(sw_ingest_commit(ing), SW_OK, "commit");
	is_int(journal_count(), j0 + 2, "now journaled");
	is_int(counter("warehouse/w1", "created"), 3, "counted once");
	is_int(sw_ingest_commit(ing), SW_OK, "commit without a batch");
}

/* Another connection holds the lock every event's write needs: SQLite's
 * one write lock, or on PostgreSQL the journal (an event's first write)
 * locked against writers. */
static struct sw_db *hold_write_lock(void)
{
	struct sw_db *db = raw_db(store_path);

	if (db && sw_db_exec(db, raw_is_pg(store_path)
				     ? "BEGIN; LOCK TABLE journal IN EXCLUSIVE MODE"
				     : "BEGIN IMMEDIATE") != SW_DB_OK) {
		printf("# %s\n", sw_db_errmsg(db));
		sw_db_close(db);
		db = NULL;
	}
	return db;
}

static void test_lock_retry(void)
{
	struct sw_ingest_stats stats;
	long long j0 = journal_count();
	struct sw_db *db;

	is_int(sw_store_set_busy_timeout(st, 50), SW_OK, "busy timeout 50 ms");
	db = hold_write_lock();
	ok(db != NULL, "another connection takes the write lock");
	alarm(60); /* a store that waited for ever would hang the suite: killed */
	is_res(send(ev_stage("w1", "p4", "picked", "o4", 10)), SW_INGEST_RETRY,
	       "message while locked: retry");
	alarm(0);
	ok(strstr(sw_ingest_errmsg(ing), "lock") != NULL, "  errmsg: %s", sw_ingest_errmsg(ing));
	if (db)
		sw_db_exec(db, "ROLLBACK");
	sw_db_close(db);
	is_res(send(ev_stage("w1", "p5", "picked", "o5", 10)), SW_INGEST_RETRY,
	       "later messages of the batch: retry until abort");
	is_int(sw_ingest_commit(ing), SW_ESTORE, "commit of an abandoned batch refused");
	sw_ingest_abort(ing);
	is_res(send(ev_stage("w1", "p4", "picked", "o4", 10)), SW_INGEST_APPLIED,
	       "redelivered after abort: applied");
	is_int(sw_ingest_commit(ing), SW_OK, "commit");
	is_int(journal_count(), j0 + 1, "one event");
	sw_ingest_stats(ing, &stats);
	is_int(stats.retries, 2, "two retries counted");
	sw_store_set_busy_timeout(st, 5000);
}

/* A store refusal after the event's journal row (here a trigger that
 * refuses one parcel, standing for any deterministic refusal of a value
 * the parser let through): without a savepoint per message the batch is
 * abandoned (RETRY) and the ingest turns careful; the redelivered batch
 * then runs message by message in savepoints, the poison event alone is
 * rejected, the others are applied, and the next batch is fast again. */
static void test_careful(void)
{
	struct sw_ingest_stats stats;
	struct sw_event_reject rej;
	long long j0 = journal_count();
	int pass;

	is_int(raw_refuse(store_path, "poison", "parcels", "INSERT",
			  "NEW.tracking_number = 'POISON'", "poisoned parcel"),
	       0, "a trigger refuses the parcel POISON");
	for (pass = 0; pass < 2; pass++) {
		is_res(send_to(ing, "wc", ev_created("wc", "cf1", "ok1", 0, "Ravi", NULL), NULL),
		       SW_INGEST_APPLIED, "pass %d: created ok1", pass);
		is_res(send_to(ing, "wc", ev_created("wc", "cf2", "bad1", 0, "Sita", NULL), NULL),
		       SW_INGEST_APPLIED, "pass %d: created bad1", pass);
		is_res(
		    send_to(ing, "wc", ev_shipped("wc", "cf3", "bad1", 5, "dhl", "POISON"), &rej),
		    pass == 0 ? SW_INGEST_RETRY : SW_INGEST_REJECTED,
		    "pass %d: the refused parcel: %s", pass, pass ? "rejected" : "retry");
		if (pass == 0) {
			is_int(sw_ingest_commit(ing), SW_ESTORE, "  the batch cannot commit");
			sw_ingest_abort(ing);
			is_int(journal_count(), j0, "  nothing of it stays");
			sw_ingest_stats(ing, &stats);
			is_int(stats.careful, 1, "  counted as careful");
			continue;
		}
		is_int(rej.reason, SW_EVENT_BAD_VALUE, "  reason bad_value");
		ok(strstr(rej.detail, "poisoned parcel") != NULL, "  detail: %s", rej.detail);
		is_res(send_to(ing, "wc", ev_shipped("wc", "cf4", "ok1", 6, "dhl", "GOOD1"), NULL),
		       SW_INGEST_APPLIED, "  a later event of the batch applied");
		is_int(sw_ingest_commit(ing), SW_OK, "  the careful batch commits");
	}
	is_int(journal_count(), j0 + 3, "three events journaled, the refused one not");
	is_int(db_int("SELECT count(*) FROM journal WHERE source_event_id = 'cf3'"), 0,
	       "no journal row of the refused event");
	is_int(db_int("SELECT count(*) FROM parcels WHERE tracking_number IN "
		      "('POISON', 'GOOD1')"),
	       1, "only the good parcel");
	/* Fast again: a refused journal row (its first write) is a plain
	 * reject that keeps the batch. */
	is_res(send_to(ing, "wc", ev_stage("wc", "cf5", "picked", "ok1", 7), NULL),
	       SW_INGEST_APPLIED, "next batch: applied");
	is_res(sw_ingest_message(ing, "warehouse/wc/events",
				 "{\"event_id\":\"cf6\",\"type\":"
				 "\"order.packed\",\"occurred_at\":\"2026-11-24T04:00:00Z\","
				 "\"warehouse_id\":\"wc\",\"order_id\":\"ok1\"}",
				 strlen("{\"event_id\":\"cf6\",\"type\":\"order.packed\","
					"\"occurred_at\":\"2026-11-24T04:00:00Z\","
					"\"warehouse_id\":\"wc\",\"order_id\":\"ok1\"}"),
				 -1, &rej),
	       SW_INGEST_REJECTED, "a journal row the store refuses (negative receive time)");
	is_int(sw_ingest_commit(ing), SW_OK, "  and the batch still commits");
	sw_ingest_stats(ing, &stats);
	is_int(stats.careful, 1, "careful counted once");
	is_int(journal_count(), j0 + 4, "the picked event kept");
	raw_unrefuse(store_path, "poison", "parcels");
}

/* A deferred trigger on the journal that fails the commit of any
 * transaction that wrote to it, as a full disk would (disk_full).  Made
 * before the batch: it must lock the journal, which the batch would hold. */
#define PG_DISK_FULL                                                                               \
	"CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "               \
	"RAISE EXCEPTION 'no room for the commit' USING ERRCODE = 'disk_full'; END $f$; "          \
	"CREATE CONSTRAINT TRIGGER disk_full AFTER INSERT ON journal DEFERRABLE INITIALLY "        \
	"DEFERRED FOR EACH ROW EXECUTE FUNCTION disk_full()"

/* sw_ingest_commit with no room to write: on SQLite no file may grow past
 * 1 byte, so the WAL write at commit fails (on PostgreSQL PG_DISK_FULL
 * does it). */
static enum sw_err commit_without_room(void)
{
	struct rlimit old, lim;
	enum sw_err rc;

	if (raw_is_pg(store_path))
		return sw_ingest_commit(ing);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 1;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = sw_ingest_commit(ing);
	setrlimit(RLIMIT_FSIZE, &old);
	return rc;
}

static void test_commit_failure(void)
{
	long long j0 = journal_count(), created0 = counter("warehouse/w1", "created");

	if (raw_is_pg(store_path))
		is_int(raw_exec(store_path, PG_DISK_FULL), 0,
		       "a deferred trigger will fail the commit");
	is_res(send(ev_created("w1", "c6", "o6", 0, "Kiran", NULL)), SW_INGEST_APPLIED,
	       "created o6");
	is_res(send(xstrdup("{}")), SW_INGEST_REJECTED, "a reject");
	is_int(commit_without_room(), SW_ESTORE, "commit fails when there is no room to write");
	if (raw_is_pg(store_path))
		raw_exec(store_path, "DROP TRIGGER disk_full ON journal; DROP FUNCTION disk_full()");
	ok(*sw_ingest_errmsg(ing) != '\0', "  errmsg: %s", sw_ingest_errmsg(ing));
	ok(!sw_ingest_in_batch(ing), "batch closed");
	is_int(journal_count(), j0, "nothing journaled");
	is_int(db_int("SELECT count(*) FROM orders WHERE order_id = 'o6'"), 0, "no order");
	is_int(counter("warehouse/w1", "created"), created0, "nothing counted");
	is_int(counter("collector", "rejected_missing_field"), 0, "reject not counted");
	is_int(sw_ingest_abort(ing), SW_OK, "abort after a failed commit is harmless");
	is_res(send(ev_created("w1", "c6", "o6", 0, "Kiran", NULL)), SW_INGEST_APPLIED,
	       "redelivered: applied");
	is_int(sw_ingest_commit(ing), SW_OK, "commit works again");
	is_int(journal_count(), j0 + 1, "journaled");
}

static void test_later_created_wins(void)
{
	struct sw_order *o;

	/* Newer first, then older (arrival order reversed). */
	send(ev_created("w1", "c7b", "o7", 120, "New Name", NULL));
	send(ev_created("w1", "c7a", "o7", 0, "Old Name", "Pune"));
	/* Older first, then newer. */
	send(ev_created("w1", "c8a", "o8", 0, "Old Name", "Pune"));
	send(ev_created("w1", "c8b", "o8", 120, "New Name", NULL));
	is_int(sw_ingest_commit(ing), SW_OK, "commit");
	o = order("w1", "o7");
	is_str(o ? o->customer_name : NULL, "New Name", "later created wins (arrived first)");
	ok(o && o->dest_city == NULL, "  the older one's destination not merged in");
	is_int(o ? o->stage[SW_STAGE_CREATED].at : 0, T0, "  created time is the earliest");
	sw_store_order_free(o);
	o = order("w1", "o8");
	is_str(o ? o->customer_name : NULL, "New Name", "later created wins (arrived last)");
	ok(o && o->dest_city == NULL, "  same row as the other arrival order");
	is_int(o ? o->promised_delivery_by.at.at : 0, 1796063399,
	       "  date promise at end of day in Asia/Kolkata");
	sw_store_order_free(o);
}

static void test_backlog(void)
{
	const struct sw_metric_value *v;

	/* w1 so far: o1 shipped, o2 picked, o3 picked, o4 picked (no created),
	 * o6, o7, o8 created only. */
	is_int(sw_ingest_refresh_backlog(ing), SW_OK, "refresh backlog");
	v = value("warehouse/w1", "backlog_pick");
	ok(v && v->kind == SW_METRIC_GAUGE && v->gauge == 3, "w1 backlog_pick 3");
	v = value("warehouse/w1", "backlog_ship");
	ok(v && v->gauge == 3, "w1 backlog_ship 3");
	v = value("warehouse/w1", "ship_late");
	ok(v && v->kind == SW_METRIC_GAUGE, "w1 ship_late gauge fed (counted by the store test)");

	send_to(ing, "w2", ev_created("w2", "c1", "q1", 0, "Dev", NULL), NULL);
	sw_ingest_commit(ing);
	sw_ingest_refresh_backlog(ing);
	v = value("warehouse/w2", "backlog_pick");
	ok(v && v->gauge == 1, "w2 backlog_pick 1");
	send_to(ing, "w2", ev_stage("w2", "x1", "cancelled", "q1", 5), NULL);
	send(ev_stage("w1", "x8", "cancelled", "o8", 5));
	ok(sw_ingest_refresh_backlog(ing) == SW_EINVAL, "refresh refused inside a batch");
	sw_ingest_commit(ing);
	is_int(sw_ingest_refresh_backlog(ing), SW_OK, "refresh");
	v = value("warehouse/w2", "backlog_pick");
	ok(v && v->gauge == 0, "w2 emptied: backlog_pick 0");
	v = value("warehouse/w1", "backlog_pick");
	ok(v && v->gauge == 2, "w1 cancelled order leaves the backlog");
	is_int(counter("warehouse/w2", "cancelled"), 1, "w2 cancelled counted");
}

static void test_topics(void)
{
	struct sw_ingest_opts opts = {.max_payload = 4096, .topic_level = SW_INGEST_NO_TOPIC_LEVEL};
	struct sw_ingest *in2 = NULL;
	struct sw_event_reject rej;
	char *big;
	enum sw_ingest_result r;

	r = sw_ingest_message(ing, "warehouse", "{}", 2, 0, &rej);
	is_res(r, SW_INGEST_REJECTED, "topic without a warehouse level");
	is_str(sw_event_reason_name(rej.reason), "warehouse_mismatch", "  warehouse_mismatch");
	ok(strstr(rej.detail, "level 1 is missing") != NULL, "  detail: %s", rej.detail);
	r = sw_ingest_message(ing, "warehouse/a\nb/events", "{}", 2, 0, &rej);
	is_res(r, SW_INGEST_REJECTED, "topic with a bad warehouse id");
	ok(strchr(rej.detail, '\n') == NULL, "  detail is one line: %s", rej.detail);
	sw_ingest_commit(ing);
	is_int(counter("collector", "rejected_warehouse_mismatch"), 3, "counted globally");
	is_int(counter("warehouse/w1", "rejected"), 2, "not per warehouse");

	is_int(sw_ingest_new(st, &opts, &in2), SW_OK, "ingest without topic level or metrics");
	big = ev_stage("w3", "t1", "picked", "z", 435);
	r = sw_ingest_message(in2, "anything/at/all", big, strlen(big), 0, &rej);
	free(big);
	is_res(r, SW_INGEST_APPLIED, "warehouse from the payload only");
	big = xmalloc(4097);
	memset(big, ' ', 4097);
	r = sw_ingest_message(in2, "t", big, 4097, 0, &rej);
	is_res(r, SW_INGEST_REJECTED, "payload over max_payload");
	is_str(sw_event_reason_name(rej.reason), "too_big", "  too_big");
	free(big);
	is_int(sw_ingest_commit(in2), SW_OK, "commit");
	is_int(stage_at("w3", "z", SW_STAGE_PICKED), 1795518000, "applied");
	sw_ingest_free(in2);
	opts.topic_level = -2;
	is_int(sw_ingest_new(st, &opts, &in2), SW_EINVAL, "bad topic level");
	ok(in2 == NULL, "  no handle");
	/* Freeing with an open batch rolls it back. */
	sw_ingest_new(st, &(struct sw_ingest_opts){.topic_level = 1}, &in2);
	send_to(in2, "w1", ev_stage("w1", "gone", "picked", "gone", 1), NULL);
	sw_ingest_free(in2);
	is_int(db_int("SELECT count(*) FROM journal WHERE source_event_id = 'gone'"), 0,
	       "free rolls back the open batch");
	is_int(sw_store_begin(st), SW_OK, "store usable after free");
	sw_store_rollback(st);
}

/* Parses a dead letter; NULL if not a JSON object. */
static json_t *letter(struct sw_buf *b)
{
	json_t *j = json_loads(sw_buf_str(b), 0, NULL);

	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static const char *jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static void test_deadletter(void)
{
	struct sw_event_reject rej = {.reason = SW_EVENT_BAD_TIMESTAMP};
	const char *text = "{\"event_id\":\"e\",\"note\":\"na\xc3\xafve \\\"q\\\"\"}";
	struct sw_buf b;
	json_t *j;
	char *big;

	snprintf(rej.detail, sizeof(rej.detail), "field 'occurred_at': no UTC offset");
	sw_buf_init(&b, 4096);
	is_int(sw_ingest_deadletter("warehouse/w1/events", text, strlen(text), &rej, T0, &b), SW_OK,
	       "dead letter");
	j = letter(&b);
	ok(j != NULL, "  is a JSON object: %s", sw_buf_str(&b));
	is_str(jstr(j, "reason"), "bad_timestamp", "  reason");
	is_str(jstr(j, "detail"), "field 'occurred_at': no UTC offset", "  detail");
	is_str(jstr(j, "topic"), "warehouse/w1/events", "  topic");
	is_str(jstr(j, "received_at"), "2026-11-24T03:45:00Z", "  received_at in UTC");
	is_str(jstr(j, "payload"), text, "  payload: the original text");
	is_int(json_integer_value(json_object_get(j, "payload_len")), strlen(text),
	       "  payload_len");
	ok(json_object_get(j, "payload_base64") == NULL &&
	       json_object_get(j, "payload_truncated") == NULL,
	   "  no base64, not truncated");
	json_decref(j);

	sw_buf_reset(&b);
	rej.reason = SW_EVENT_NOT_JSON;
	is_int(sw_ingest_deadletter(NULL, "\xff\xfe{\x00", 4, &rej, T0, &b), SW_OK,
	       "dead letter of invalid UTF-8");
	j = letter(&b);
	ok(j && json_is_null(json_object_get(j, "topic")), "  NULL topic is null");
	is_str(jstr(j, "payload_base64"), "//57AA==", "  payload_base64");
	ok(j && json_object_get(j, "payload") == NULL, "  no payload text");
	json_decref(j);

	sw_buf_reset(&b);
	is_int(sw_ingest_deadletter("w/\xff/e", "", 0, &rej, T0, &b), SW_OK,
	       "invalid UTF-8 topic, empty payload");
	j = letter(&b);
	is_str(jstr(j, "topic"), "w/?/e", "  topic sanitised");
	is_str(jstr(j, "payload"), "", "  empty payload");
	json_decref(j);

	/* Too big for the buffer: the payload is cut to fit. */
	big = xmalloc(3001);
	memset(big, 'a', 3000);
	memcpy(big + 374, "\xe0\xa4\xb9", 3); /* a 3-byte character at the cut */
	big[3000] = '\0';
	sw_buf_free(&b);
	sw_buf_init(&b, 700);
	is_int(sw_ingest_deadletter("t", big, 3000, &rej, T0, &b), SW_OK, "oversized payload");
	j = letter(&b);
	ok(j != NULL && b.len <= 700, "  fits in the buffer (%zu bytes)", b.len);
	ok(j && json_is_true(json_object_get(j, "payload_truncated")), "  payload_truncated");
	ok(j && jstr(j, "payload") && strlen(jstr(j, "payload")) < 700 &&
	       strncmp(jstr(j, "payload"), big, strlen(jstr(j, "payload"))) == 0,
	   "  a prefix of the payload");
	is_int(json_integer_value(json_object_get(j, "payload_len")), 3000, "  full length told");
	json_decref(j);
	sw_buf_reset(&b);
	big[375] = (char)0xe0; /* break UTF-8 near where the cut will fall */
	is_int(sw_ingest_deadletter("t", big, 3000, &rej, T0, &b), SW_OK, "oversized binary");
	j = letter(&b);
	ok(j && jstr(j, "payload_base64") && json_is_true(json_object_get(j, "payload_truncated")),
	   "  truncated base64");
	json_decref(j);
	free(big);
	sw_buf_free(&b);

	sw_buf_init(&b, 20);
	is_int(sw_ingest_deadletter("t", "x", 1, &rej, T0, &b), SW_ETOOBIG, "buffer far too small");
	is_int(b.len, 0, "  buffer unchanged");
	is_int(sw_ingest_deadletter("t", NULL, 1, &rej, T0, &b), SW_EINVAL, "NULL payload");
	is_int(sw_ingest_deadletter("t", "x", 1, NULL, T0, &b), SW_EINVAL, "NULL reject");
	sw_buf_free(&b);
}

/* An order.created for warehouse w8 whose customer object ends with
 * `contact` (JSON members with leading commas). */
static char *ev_created_contact(const char *eid, const char *oid, int minutes, const char *contact)
{
	char *a = at(minutes);
	char *s = xasprintf(
	    "{\"event_id\":\"%s\",\"type\":\"order.created\",\"occurred_at\":\"%s\","
	    "\"warehouse_id\":\"w8\",\"order_id\":\"%s\",\"customer\":{\"name\":\"Mina\","
	    "\"email\":\"m@example.np\",\"locale\":\"ne-NP\",\"timezone\":\"Asia/Kathmandu\"%s},"
	    "\"promised_ship_by\":\"2026-11-25T18:00:00+05:45\",\"promised_delivery_by\":"
	    "\"2026-11-30\"}",
	    eid, a, oid, contact);

	free(a);
	return s;
}

/* customer.phone and customer.notify reach the order, and the latest
 * order.created decides them like the other customer fields. */
static void test_contact(void)
{
	struct sw_event_reject rej;
	struct sw_order *o;
	long long j0;

	is_res(send_to(ing, "w8",
		       ev_created_contact("n1", "P1", 0,
					  ",\"phone\":\"+9779812345678\",\"notify\":\"webhook\""),
		       &rej),
	       SW_INGEST_APPLIED, "created with phone and notify");
	is_int(sw_ingest_commit(ing), SW_OK, "commit");
	o = order("w8", "P1");
	is_str(o ? o->customer_phone : NULL, "+9779812345678", "phone stored on the order");
	is_str(o ? o->customer_channel : NULL, "webhook", "notify stored as its channel");
	sw_store_order_free(o);

	/* a later created without them clears them; an older one arriving
	 * afterwards changes nothing */
	send_to(ing, "w8", ev_created_contact("n2", "P1", 60, ",\"notify\":\"email\""), NULL);
	send_to(ing, "w8",
		ev_created_contact("n0", "P1", -60,
				   ",\"phone\":\"+9779800000000\",\"notify\":\"webhook\""),
		NULL);
	is_int(sw_ingest_commit(ing), SW_OK, "commit");
	o = order("w8", "P1");
	ok(o && o->customer_phone == NULL, "the latest created has no phone: none");
	is_str(o ? o->customer_channel : NULL, "email", "  its notify channel");
	sw_store_order_free(o);

	/* a bad phone rejects the event: nothing applied */
	j0 = journal_count();
	is_res(send_to(ing, "w8", ev_created_contact("n3", "P2", 0, ",\"phone\":\"98123\""), &rej),
	       SW_INGEST_REJECTED, "bad phone: rejected");
	is_str(sw_event_reason_name(rej.reason), "bad_value", "  bad_value");
	ok(strstr(rej.detail, "customer.phone") != NULL, "  detail names the field: %s",
	   rej.detail);
	is_res(send_to(ing, "w8", ev_created_contact("n4", "P2", 0, ",\"notify\":\"sms\""), &rej),
	       SW_INGEST_REJECTED, "unknown notify channel: rejected");
	ok(strstr(rej.detail, "customer.notify") != NULL, "  detail names the field: %s",
	   rej.detail);
	is_int(sw_ingest_commit(ing), SW_OK, "commit");
	is_int(journal_count(), j0, "  nothing journaled");
	is_int(db_int("SELECT count(*) FROM orders WHERE order_id = 'P2'"), 0, "  no order");
}

static void test_names(void)
{
	is_str(sw_ingest_result_name(SW_INGEST_APPLIED), "applied", "result applied");
	is_str(sw_ingest_result_name(SW_INGEST_RETRY), "retry", "result retry");
	is_str(sw_ingest_result_name(SW_INGEST_RESULT_LAST), "?", "result LAST");
}

int main(void)
{
	struct sw_ingest_opts opts = {.max_payload = 65536, .topic_level = SW_INGEST_TOPIC_LEVEL};

	if (!(st = store_tmp_open()))
		return store_tmp_done(NULL);
	met = sw_metrics_new();
	opts.metrics = met;
	{
		struct sw_ingest *bad = (struct sw_ingest *)&opts;

		is_int(sw_ingest_new(NULL, &opts, &bad), SW_EINVAL, "ingest new without store");
		ok(bad == NULL, "  no handle");
	}
	is_int(sw_ingest_new(st, &opts, &ing), SW_OK, "ingest new");
	test_names();
	test_stream();
	test_abort();
	test_lock_retry();
	test_careful();
	test_commit_failure();
	test_later_created_wins();
	test_backlog();
	test_topics();
	test_deadletter();
	test_contact();
	is_int(sw_metrics_dropped(met), 0, "no metric report dropped");
	sw_ingest_free(ing);
	sw_ingest_free(NULL);
	sw_metrics_free(met);
	return store_tmp_done(st);
}
