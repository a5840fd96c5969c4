/*
 * test_poll_commit.c - the poll engine's group commit (collector/
 * poll_apply.c): answers queued as their transfers finish are applied by
 * pl_answers_flush in ONE store transaction, a savepoint per parcel.
 *
 * No courier, no network, no timing: answers are built by hand and
 * queued through the engine's internal pl_answer_queue (what
 * pl_track_done does once the adapter has parsed a body), then flushed.
 * Commits are counted with SQLite's commit hook on the store's
 * connection (store_int.h), or on PostgreSQL (tests/store_tmp.h) by a
 * deferred trigger that notes each transaction writing the tables a flush
 * writes as it commits.  Checked: N answers queued -> nothing written
 * or counted before the flush, one commit after it, each parcel's status,
 * journal and schedule as a lone answer would leave them; a parcel whose
 * writes fail (a trigger refuses its update) is undone alone and
 * counted in store_fail, the others kept; a flush whose transaction cannot
 * start applies nothing, keeps every parcel due and backs the courier
 * off; the scheduler commits the queue at once when nothing is in
 * flight, else once PL_FLUSH_WAIT_MS passed or PL_FLUSH_ANSWERS wait,
 * and does not ask for a queued parcel again.  The journal payloads
 * written without jansson match jansson's, byte for byte.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <sqlite3.h>

#include "collector/poll.h"
#include "collector/poll_int.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/store.h"
#include "lib/db_sqlite.h"
#include "lib/store_int.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"
#include "slipwatch/metrics.h"
#include "tests/log_capture.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define COURIER "dhl"

static struct sw_loop *loop;
static struct sw_store *store;
static struct sw_metrics *metrics;
static struct sw_conf *conf;
static struct sw_poll_conf *pc;
static struct sw_poll_engine *eng;
static int hooked;	      /* SQLite: commits the hook saw */
static long long commits_base; /* PostgreSQL: rows of sw_test_commits before */

static int on_commit(void *arg)
{
	(void)arg;
	hooked++;
	return 0; /* let it commit */
}

/* PostgreSQL has no commit hook: a deferred trigger runs as a transaction
 * commits, in the transaction itself (a savepoint's writes included), and
 * notes its id once; a transaction rolled back notes nothing. */
#define PG_COMMIT_COUNTER                                                                          \
	"CREATE TABLE sw_test_commits (xact text PRIMARY KEY);"                                    \
	"CREATE FUNCTION sw_test_commit() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"           \
	" INSERT INTO sw_test_commits VALUES (pg_current_xact_id()::text) ON CONFLICT DO NOTHING;" \
	" RETURN NULL; END $f$;"                                                                   \
	PG_COUNT_ON("parcels") PG_COUNT_ON("poll_schedule") PG_COUNT_ON("journal")
#define PG_COUNT_ON(table)                                                                         \
	"CREATE CONSTRAINT TRIGGER sw_test_commit AFTER INSERT OR UPDATE OR DELETE ON " table      \
	" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sw_test_commit();"

/* Counts the store connection's commits from now on. */
static bool count_commits(void)
{
	if (!raw_is_pg(store_path)) {
		sqlite3_commit_hook(sw_db_sqlite_handle(sw_store_int_db(store)), on_commit, NULL);
		return true;
	}
	return raw_exec(store_path, PG_COMMIT_COUNTER) == 0;
}

static long long commits_all(void)
{
	return raw_is_pg(store_path) ? raw_int(store_path, "SELECT count(*) FROM sw_test_commits")
				     : hooked;
}

static void commits_reset(void)
{
	commits_base = commits_all();
}

/* The commits since commits_reset(). */
static long long commits(void)
{
	return commits_all() - commits_base;
}

/* The courier: a loopback socket that listens and never accepts, so a
 * request sent to it stays in flight (the loop never runs: no timeout). */
static int silent_fd = -1;

static int silent_server(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	silent_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (silent_fd < 0 || bind(silent_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(silent_fd, 16) != 0 || getsockname(silent_fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	return ntohs(a.sin_port);
}

static const char conf_fmt[] = "[courier " COURIER "]\n"
			       "base_url = http://127.0.0.1:%d/dhl\n"
			       "api_key_env = SWT_DHL_KEY\n"
			       "concurrency = 2\n"
			       "interval = 10s\n"
			       "interval_near = 5s\n"
			       "interval_max = 40s\n";

static bool setup(void)
{
	char err[512] = "", *text;
	int port = silent_server();
	enum sw_err rc;

	if (!ok(port > 0, "a silent loopback server") || !(store = store_tmp_open()))
		return false;
	text = xasprintf(conf_fmt, port);
	rc = sw_loop_new(&loop);
	metrics = sw_metrics_new();
	if (rc == SW_OK)
		rc = sw_conf_load_string(text, "t.conf", &conf, err, sizeof(err));
	free(text);
	if (rc == SW_OK)
		rc = sw_poll_conf_load(conf, &pc, err, sizeof(err));
	if (rc == SW_OK)
		rc = sw_poll_new(loop, store, metrics, pc, &eng, err, sizeof(err));
	if (!ok(rc == SW_OK, "engine (not started)"))
		printf("#   %s: %s\n", sw_err_name(rc), err);
	return rc == SW_OK && ok(count_commits(), "the store's commits counted");
}

/* A parcel of the courier due for ago s, interval 10 s. */
static void add_parcel_ago(const char *tn, int64_t ago)
{
	struct sw_poll sp = {0};

	sw_store_parcel_upsert(store, COURIER, tn, NULL, NULL, (struct sw_stamp){1773000000, 0});
	sp.courier = COURIER;
	sp.tracking_number = tn;
	sp.next_poll_at = time(NULL) - ago;
	sp.interval_s = 10;
	sw_store_poll_upsert(store, &sp);
}

static void add_parcel(const char *tn)
{
	add_parcel_ago(tn, 1);
}

/* A FOUND result in transit with two timed events, as an adapter fills
 * it (everything owned, cleared by the engine). */
static struct sw_courier_result found(const char *tn)
{
	struct sw_courier_result r = {0};
	char raw[2][32];

	r.tracking_number = xstrdup(tn);
	r.outcome = SW_COURIER_FOUND;
	r.status = SW_SHIP_IN_TRANSIT;
	r.raw_code = xstrdup("transit");
	r.raw_text = xstrdup("On its way");
	r.n_events = 2;
	r.events = xcalloc(2, sizeof(*r.events));
	for (int i = 0; i < 2; i++) {
		snprintf(raw[i], sizeof(raw[i]), "2026-03-1%dT09:00:00Z", i);
		sw_time_parse(raw[i], &r.events[i].at, NULL, 0);
		r.events[i].has_time = true;
		r.events[i].status = i ? SW_SHIP_IN_TRANSIT : SW_SHIP_INFO_RECEIVED;
		r.events[i].code = xstrdup(i ? "transit" : "pickup");
		r.events[i].text = xasprintf("event %d of %s", i, tn);
		r.events[i].raw_time = xstrdup(raw[i]);
	}
	r.has_latest = true;
	r.latest = r.events[1].at;
	return r;
}

/* Queues one answer about tn alone, as one finished transfer would;
 * true if the queue took the result over (zeroed it). */
static bool queue_found(const char *tn)
{
	struct item it = {.tn = (char *)tn, .interval_s = 10, .failures = 0};
	struct batch b = {.items = &it, .n = 1};
	struct sw_courier_result r = found(tn);

	pl_answer_queue(&eng->cs[0], &b, &r);
	return r.tracking_number == NULL && r.events == NULL;
}

static struct sw_poll_stats stats(void)
{
	struct sw_poll_stats s = {0};

	sw_poll_get_stats(eng, COURIER, &s);
	return s;
}

static enum sw_ship_status status_of(const char *tn)
{
	struct sw_parcel *p = NULL;
	enum sw_ship_status s = SW_SHIP_LAST;

	if (sw_store_parcel_get(store, COURIER, tn, &p) == SW_OK)
		s = p->status;
	sw_store_parcel_free(p);
	return s;
}

/* Is tn due now (its schedule not moved by an answer)? */
static bool due_now(const char *tn)
{
	struct sw_poll *due = NULL;
	size_t n = 0;
	bool found_it = false;

	sw_store_poll_due_courier(store, COURIER, time(NULL), 1000, &due, &n);
	for (size_t i = 0; i < n; i++)
		found_it |= strcmp(due[i].tracking_number, tn) == 0;
	sw_store_poll_free(due, n);
	return found_it;
}

static int64_t journal_count(void)
{
	int64_t n = -1;

	sw_store_journal_count(store, &n);
	return n;
}

static void test_one_commit(void)
{
	static const char *const tns[] = {"GC001", "GC002", "GC003", "GC004", "GC005"};
	const size_t n = sizeof(tns) / sizeof(tns[0]);
	int64_t journal0 = journal_count();
	size_t ok_parcels = 0, taken = 0;

	for (size_t i = 0; i < n; i++)
		add_parcel(tns[i]);
	commits_reset();
	for (size_t i = 0; i < n; i++)
		taken += queue_found(tns[i]);
	is_int(taken, 5, "five answers queued, results taken over");
	is_int(stats().found, 0, "five answers queued: none counted before the commit");
	is_int(status_of(tns[0]), SW_SHIP_PENDING, "  nor written");
	ok(due_now(tns[0]), "  still due in the store");
	is_int(commits(), 0, "  no commit yet");

	pl_answers_flush(eng);
	is_int(commits(), 1, "flushed: one commit for five answers");
	is_int(eng->flushes, 1, "  one flush");
	ok(eng->answers == NULL, "  queue empty");
	is_int(stats().found, 5, "  five found");
	is_int(stats().events_new, 10, "  ten new events");
	is_int(stats().store_fail, 0, "  no store failure");
	is_int(journal_count() - journal0, 10, "  ten journal rows");
	for (size_t i = 0; i < n; i++)
		ok_parcels += status_of(tns[i]) == SW_SHIP_IN_TRANSIT && !due_now(tns[i]);
	is_int(ok_parcels, 5, "  every parcel in transit and rescheduled");

	commits_reset();
	pl_answers_flush(eng);
	is_int(commits(), 0, "an empty queue: no transaction");
}

static void test_bad_row(void)
{
	static const char *const tns[] = {"GB001", "GB002", "GB003"};
	struct sw_poll_stats s0 = stats();

	for (size_t i = 0; i < 3; i++)
		add_parcel(tns[i]);
	is_int(raw_refuse(store_path, "refuse_gb002", "parcels", "UPDATE",
			  "NEW.tracking_number = 'GB002'", "refused by the test"),
	       0, "a trigger refuses GB002's update");
	for (size_t i = 0; i < 3; i++)
		queue_found(tns[i]);
	commits_reset();
	pl_answers_flush(eng);
	is_int(commits(), 1, "one bad row: still one commit");
	is_int(stats().found - s0.found, 2, "  the two others found");
	is_int(stats().store_fail - s0.store_fail, 1, "  one store failure");
	is_int(status_of("GB001"), SW_SHIP_IN_TRANSIT, "  GB001 stored");
	is_int(status_of("GB003"), SW_SHIP_IN_TRANSIT, "  GB003 stored (after the bad row)");
	is_int(status_of("GB002"), SW_SHIP_PENDING, "  GB002 unchanged");
	ok(due_now("GB002"), "  GB002 still due: asked again");
	ok(strstr(logbuf, "cannot store the answer for GB002") != NULL, "  logged with its number");
	ok(!due_now("GB001") && !due_now("GB003"), "  the others rescheduled");
	raw_unrefuse(store_path, "refuse_gb002", "parcels");
}

static void test_failed_flush(void)
{
	struct sw_poll_stats s0 = stats();

	add_parcel("GF001");
	add_parcel("GF002");
	queue_found("GF001");
	queue_found("GF002");
	/* a transaction left open: the flush cannot begin its own */
	sw_store_begin(store);
	commits_reset();
	pl_answers_flush(eng);
	sw_store_rollback(store);
	is_int(commits(), 0, "a flush that cannot begin: no commit");
	ok(eng->answers == NULL, "  queue dropped (not applied twice)");
	is_int(stats().found - s0.found, 0, "  nothing counted");
	is_int(stats().store_fail - s0.store_fail, 2, "  both in store_fail");
	ok(stats().backoff_ms > 0 && stats().paused_ms > 0, "  the courier backs off");
	is_int(status_of("GF001"), SW_SHIP_PENDING, "  GF001 unchanged");
	ok(due_now("GF001") && due_now("GF002"), "  both still due: asked again later");
}

/* An answer queued while nothing is in flight is committed by the next
 * scheduler pass: an idle engine adds no delay.  (The courier is paused,
 * by test_failed_flush, so the pass sends nothing.) */
static void test_idle_flush(void)
{
	struct courier *c = &eng->cs[0];

	c->paused_until = INT64_MAX / 2;
	add_parcel("GI001");
	queue_found("GI001");
	commits_reset();
	pl_sched_fired(loop, 0, eng);
	is_int(commits(), 1, "nothing in flight: the next pass commits at once");
	ok(eng->answers == NULL, "  queue empty");
	is_int(status_of("GI001"), SW_SHIP_IN_TRANSIT, "  GI001 stored");
}

/* With transfers in flight (the silent server never answers) the queue
 * waits for more answers, bounded by PL_FLUSH_WAIT_MS and
 * PL_FLUSH_ANSWERS; a queued parcel is busy for the scheduler.  The
 * loop never runs: its clock stands still, the age is set by hand. */
static void test_flush_bounds(void)
{
	struct courier *c = &eng->cs[0];
	bool q_sent = false, other_sent = false;
	char tn[16];
	uint64_t f0;
	int64_t d;
	int stored = 0;

	c->paused_until = 0;
	c->backoff = 0;
	/* due before the parcels left due by the tests above */
	add_parcel_ago("GQ001", 100);
	add_parcel_ago("GQ002", 99);
	queue_found("GQ001");
	commits_reset();
	f0 = eng->flushes; /* a pass's claim commits too: count the flushes */
	d = pl_sched_fired(loop, 0, eng);
	for (const struct xfer *x = c->xfers; x; x = x->next)
		for (size_t i = 0; x->b && i < x->b->n; i++) {
			q_sent |= strcmp(x->b->items[i].tn, "GQ001") == 0;
			other_sent |= strcmp(x->b->items[i].tn, "GQ002") == 0;
		}
	ok(other_sent, "a pass sends the due parcel that is not queued");
	ok(!q_sent, "  and not the queued one (due in the store until the commit)");
	is_int(eng->flushes - f0, 0, "  transfers in flight, queue young: not committed yet");
	ok(d > 0 && d <= PL_FLUSH_WAIT_MS, "  the next pass within the wait bound (%d ms)", (int)d);
	ok(stats().in_flight >= 2, "  the queued answer counts as in flight (%d)",
	   stats().in_flight);

	eng->answers_since -= PL_FLUSH_WAIT_MS;
	d = pl_sched_fired(loop, 0, eng);
	is_int(eng->flushes - f0, 1, "the oldest waited PL_FLUSH_WAIT_MS: committed");
	is_int(status_of("GQ001"), SW_SHIP_IN_TRANSIT, "  GQ001 stored");
	ok(c->in_flight > 0, "  transfers still in flight");

	for (int i = 0; i < PL_FLUSH_ANSWERS; i++) {
		snprintf(tn, sizeof(tn), "GN%03d", i);
		add_parcel_ago(tn, -3600); /* not due: never sent */
	}
	for (int i = 0; i < PL_FLUSH_ANSWERS - 1; i++) {
		snprintf(tn, sizeof(tn), "GN%03d", i);
		queue_found(tn);
	}
	commits_reset();
	pl_sched_fired(loop, 0, eng);
	is_int(commits(), 0, "PL_FLUSH_ANSWERS - 1 queued, in flight: waiting");
	snprintf(tn, sizeof(tn), "GN%03d", PL_FLUSH_ANSWERS - 1);
	queue_found(tn);
	pl_sched_fired(loop, 0, eng);
	is_int(commits(), 1, "PL_FLUSH_ANSWERS queued: one commit");
	for (int i = 0; i < PL_FLUSH_ANSWERS; i++) {
		snprintf(tn, sizeof(tn), "GN%03d", i);
		stored += status_of(tn) == SW_SHIP_IN_TRANSIT;
	}
	is_int(stored, PL_FLUSH_ANSWERS, "  every one stored");
}

/* The payload as the engine built it with jansson before
 * pl_event_payload: the reference. */
static char *jansson_payload(const struct sw_courier_result *r, const struct sw_courier_event *e)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "status", json_string(sw_store_ship_status_name(e->status)));
	json_object_set_new(o, "shipment_status",
			    json_string(sw_store_ship_status_name(r->status)));
	json_object_set_new(o, "code", e->code ? json_string(e->code) : json_null());
	json_object_set_new(o, "text", e->text ? json_string(e->text) : json_null());
	json_object_set_new(o, "location", e->location ? json_string(e->location) : json_null());
	json_object_set_new(o, "time", e->raw_time ? json_string(e->raw_time) : json_null());
	json_object_set_new(o, "zone_known",
			    json_boolean(e->has_time && (e->at.flags & SW_TIME_HAS_OFFSET)));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

static void test_payload(void)
{
	static const char *const texts[] = {
	    NULL,
	    "",
	    "plain",
	    "quote \" and back\\slash",
	    "tab\tnl\ncr\rbs\bff\f",
	    "ctl \x01\x1f\x7f end",
	    "slash / kept",
	    "utf-8 \xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x93\xa6",
	    "bad \xc3",
	    "overlong \xc0\xaf",
	    "surrogate \xed\xa0\x80",
	    "big \xf4\x90\x80\x80",
	    "\"",
	    "\\\\\"\"",
	};
	const size_t n = sizeof(texts) / sizeof(texts[0]);
	struct sw_courier_result r = {0};
	struct sw_courier_event e = {0};
	size_t same = 0;

	r.status = SW_SHIP_IN_TRANSIT;
	for (size_t i = 0; i < n; i++) {
		char *mine, *ref;

		e.code = (char *)texts[i];
		e.text = (char *)texts[(i + 1) % n];
		e.location = (char *)texts[(i + 5) % n];
		e.raw_time = (char *)texts[(i + 9) % n];
		e.status = (enum sw_ship_status)(i % (SW_SHIP_LAST + 1));
		e.has_time = i % 2;
		e.at.flags = i % 4 == 1 ? SW_TIME_HAS_OFFSET : 0;
		mine = pl_event_payload(&r, &e);
		ref = jansson_payload(&r, &e);
		if (ref && strcmp(mine, ref) == 0)
			same++;
		else
			printf("#   case %zu: %s\n#   jansson %s\n", i, mine, ref ? ref : "(null)");
		free(mine);
		free(ref);
	}
	is_int(same, n, "journal payloads byte for byte as jansson wrote them (%zu cases)", n);
}

int main(void)
{
	setenv("SWT_DHL_KEY", "k-dhl", 1);
	setenv("TZ", "UTC", 1);
	sw_log_set_sink(log_capture, NULL);
	if (setup()) {
		test_one_commit();
		test_bad_row();
		test_failed_flush();
		test_idle_flush();
		test_flush_bounds();
	}
	test_payload();
	sw_poll_free(eng);
	sw_poll_conf_free(pc);
	sw_conf_free(conf);
	sw_metrics_free(metrics);
	sw_loop_free(loop);
	sw_log_set_sink(NULL, NULL);
	if (silent_fd >= 0)
		close(silent_fd);
	return store_tmp_done(store);
}
