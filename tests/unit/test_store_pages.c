/*
 * test_store_pages.c - unit tests for the store's on-call side
 * (lib/store_pages.h): store_pages.c (pages, page rows) and
 * store_silence.c (silences, acknowledgements), on a store in a private
 * temp dir at a fixed "now".  Each section has its own banner and its own
 * entry in main(); rows are checked through the API and, where what
 * another process sees matters, on a raw connection (tests/sqlite_raw.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/error.h"
#include "lib/store.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"
#include "tests/sqlite_raw.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW  INT64_C(1795521600) /* 2026-11-24T12:00:00Z */
#define HOUR INT64_C(3600)


static long long count(const char *sql)
{
	return raw_int(store_path, sql);
}

/* ==== silences and acks (store_silence.c) ================================== */

static struct sw_silence silence(const char *matchers, int64_t starts, int64_t ends)
{
	struct sw_silence s = {.matchers = matchers,
			       .starts_at = starts,
			       .ends_at = ends,
			       .created_by = "asha",
			       .comment = "dhl maintenance",
			       .created_at = NOW};
	return s;
}

static void test_silence_refused(struct sw_store *st)
{
	struct sw_silence s = silence("courier=dhl", NOW, NOW + HOUR);
	int64_t id = -1;

	s.matchers = "";
	is_int(sw_store_silence_add(st, &s, &id), SW_EINVAL, "silence: empty matchers refused");
	s = silence("courier=dhl", NOW, NOW + HOUR);
	s.created_by = NULL;
	is_int(sw_store_silence_add(st, &s, &id), SW_EINVAL, "silence: no author refused");
	s = silence("courier=dhl", NOW, NOW + HOUR);
	s.comment = "";
	is_int(sw_store_silence_add(st, &s, &id), SW_EINVAL, "silence: empty comment refused");
	ok(strstr(sw_store_errmsg(st), "comment") != NULL, "saying what is needed: %s",
	   sw_store_errmsg(st));
	s = silence("courier=dhl", NOW, NOW);
	is_int(sw_store_silence_add(st, &s, &id), SW_EINVAL, "silence: ends == starts refused");
	is_int(sw_store_silence_add(st, NULL, &id), SW_EINVAL, "silence: NULL refused");
	is_int(id, -1, "no id given back");
	is_int(count("SELECT count(*) FROM silences"), 0, "nothing stored");
}

/* Adds: 1 active now, 2 ended an hour ago, 3 starting in an hour. */
static void test_silence_add_list(struct sw_store *st)
{
	struct sw_silence s =
	    silence("courier=dhl,severity=~warning|critical", NOW - HOUR, NOW + 2 * HOUR);
	struct sw_silence *list = NULL;
	int64_t id = 0;
	size_t n = 0;

	is_int(sw_store_silence_add(st, &s, &id), SW_OK, "silence added");
	is_int(id, 1, "its id");
	s = silence("warehouse=w1", NOW - 3 * HOUR, NOW - HOUR);
	is_int(sw_store_silence_add(st, &s, &id), SW_OK, "a past silence added");
	s = silence("warehouse=w2", NOW + HOUR, NOW + 3 * HOUR);
	s.created_by = "ravi";
	s.comment = "move";
	is_int(sw_store_silence_add(st, &s, NULL), SW_OK, "a future silence (no id wanted)");
	is_int(count("SELECT count(*) FROM silences WHERE id = 3 AND matcher = 'warehouse=w2'"
		     " AND created_by = 'ravi' AND reason = 'move' AND created_at = 1795521600"),
	       1, "stored in the schema's columns (comment as reason)");

	is_int(sw_store_silence_list(st, NOW, false, &list, &n), SW_OK, "list current");
	is_int(n, 2, "the active and the future one");
	if (n == 2) {
		is_int(list[0].id, 1, "in id order");
		is_str(list[0].matchers, "courier=dhl,severity=~warning|critical", "matchers");
		is_int(list[0].starts_at, NOW - HOUR, "starts_at");
		is_int(list[0].ends_at, NOW + 2 * HOUR, "ends_at");
		is_str(list[0].created_by, "asha", "created_by");
		is_str(list[0].comment, "dhl maintenance", "comment");
		is_int(list[0].created_at, NOW, "created_at");
		is_int(list[1].id, 3, "then the future one");
	}
	sw_store_silence_free(list, n);
	is_int(sw_store_silence_list(st, NOW, true, &list, &n), SW_OK, "list all");
	is_int(n, 3, "all three");
	sw_store_silence_free(list, n);
	is_int(sw_store_silence_list(st, NOW + 2 * HOUR, false, &list, &n), SW_OK,
	       "list at the first one's end");
	ok(n == 1 && list[0].id == 3, "a silence is over at its ends_at");
	sw_store_silence_free(list, n);
}

static void test_silence_expire(struct sw_store *st)
{
	struct sw_silence *list = NULL;
	size_t n = 0;

	is_int(sw_store_silence_expire(st, 1, NOW), SW_OK, "expire the active silence");
	is_int(count("SELECT ends_at = 1795521600 AND starts_at = 1795518000 FROM silences"
		     " WHERE id = 1"),
	       1, "it ends now; its start is kept");
	is_int(sw_store_silence_expire(st, 1, NOW + 10), SW_ENOTFOUND, "expiring it again");
	ok(strstr(sw_store_errmsg(st), "silence 1 already ended at 2026-11-24T12:00:00Z") != NULL,
	   "says when it ended: %s", sw_store_errmsg(st));
	is_int(sw_store_silence_expire(st, 2, NOW), SW_ENOTFOUND, "expiring a past silence");
	is_int(sw_store_silence_expire(st, 99, NOW), SW_ENOTFOUND, "expiring no silence");
	ok(strstr(sw_store_errmsg(st), "silence 99: no such silence") != NULL, "says so: %s",
	   sw_store_errmsg(st));
	is_int(sw_store_silence_expire(st, 3, NOW), SW_OK, "expire one still to come");
	is_int(count("SELECT ends_at = 1795521600 AND starts_at = 1795521599 FROM silences"
		     " WHERE id = 3"),
	       1, "it ends now, a second after its start moved back to now");
	is_int(sw_store_silence_list(st, NOW, false, &list, &n), SW_OK, "list current");
	is_int(n, 0, "none left");
	ok(list == NULL, "an empty list is NULL");
	sw_store_silence_free(list, n);
}

static void test_ack(struct sw_store *st)
{
	char *by = NULL;
	int64_t at = 0;
	bool acked = true;

	is_int(sw_store_page_acked(st, 7, 3, &acked, &at, &by), SW_OK, "acked? before any");
	ok(!acked && at == 0 && by == NULL, "not acknowledged");
	is_int(sw_store_page_ack(st, 7, 3, "asha", "looking", NOW), SW_OK, "ack page 7 #3");
	is_int(count("SELECT count(*) FROM acks WHERE alert_key = 'page:7#3' AND acked_by ="
		     " 'asha' AND comment = 'looking' AND acked_at = 1795521600"),
	       1, "one acks row, key page:ID#INCIDENT");
	is_int(sw_store_page_ack(st, 7, 3, "ravi", NULL, NOW + 60), SW_EDUP, "ack it again");
	ok(strstr(sw_store_errmsg(st), "already acknowledged") != NULL, "says so: %s",
	   sw_store_errmsg(st));
	is_int(count("SELECT count(*) FROM acks"), 1, "still one row");
	is_int(sw_store_page_acked(st, 7, 3, &acked, &at, &by), SW_OK, "acked?");
	ok(acked && at == NOW, "acknowledged, at the first ack's time");
	is_str(by, "asha", "by the first");
	free(by);
	by = NULL;
	is_int(sw_store_page_acked(st, 7, 4, &acked, NULL, NULL), SW_OK, "the next incident?");
	ok(!acked, "is not acknowledged");
	is_int(sw_store_page_acked(st, 70, 3, &acked, NULL, NULL), SW_OK, "page 70 incident 3?");
	ok(!acked, "is not (no key prefix confusion)");
	is_int(sw_store_page_ack(st, 7, 4, "ravi", "", NOW), SW_OK, "ack the next incident");
	is_int(count("SELECT count(*) FROM acks WHERE alert_key = 'page:7#4' AND comment IS NULL"),
	       1, "an empty comment is stored as none");
	is_int(sw_store_page_ack(st, 7, 0, "asha", NULL, NOW), SW_EINVAL, "incident 0 refused");
	is_int(sw_store_page_ack(st, 0, 1, "asha", NULL, NOW), SW_EINVAL, "page 0 refused");
	is_int(sw_store_page_ack(st, 7, 5, "", NULL, NOW), SW_EINVAL, "nobody refused");
	is_int(count("SELECT count(*) FROM acks"), 2, "nothing stored by the refusals");
}

static void test_silences_and_acks(struct sw_store *st)
{
	test_silence_refused(st);
	test_silence_add_list(st);
	test_silence_expire(st);
	test_ack(st);
}

/* ==== pages and page rows =================================================== */

static struct sw_page page(const char *rule, const char *subject)
{
	struct sw_page p = { 0 };

	p.rule = rule;
	p.subject = subject;
	p.labels = "rule=r,warehouse=w1";
	p.state = SW_PAGE_FIRING;
	p.severity = SW_SEV_CRITICAL;
	p.has_value = true;
	p.value = 42.5;
	p.summary = "42 orders late";
	p.figures = "{\"orders\":42}";
	p.state_since = NOW - 60;
	p.active_since = NOW - 600;
	p.firing_since = NOW - 60;
	p.incident = 3;
	p.evaluated_at = NOW;
	p.notified_state = SW_PAGE_FIRING;
	p.notified_severity = SW_SEV_WARNING;
	p.notified_incident = 3;
	p.receiver = "pd";
	p.flap_changes = 2;
	return p;
}

static void test_page_put_get(struct sw_store *st)
{
	struct sw_page p = page("wh-late", "warehouse=w1"), *got = NULL, *list = NULL;
	int64_t id = 0, id2 = 0;
	size_t n = 0;

	is_int(sw_store_page_put(st, &p, &id), SW_OK, "page inserted");
	ok(id > 0, "  with an id");
	is_int(sw_store_page_put(st, &p, &id2), SW_EDUP, "the same rule and subject again: EDUP");
	is_int(sw_store_page_get(st, "wh-late", "warehouse=w1", &got), SW_OK, "read back");
	ok(got && got->id == id && got->state == SW_PAGE_FIRING && got->severity == SW_SEV_CRITICAL &&
	       got->has_value && got->value == 42.5 && got->incident == 3 && got->flap_changes == 2 &&
	       !strcmp(got->receiver, "pd") && !strcmp(got->figures, "{\"orders\":42}") &&
	       got->notified_severity == SW_SEV_WARNING && !got->escalated_to,
	   "  every field as written");
	sw_store_page_free(got, 1);
	p.id = id;
	p.state = SW_PAGE_OK;
	p.notified_state = SW_PAGE_OK;
	p.has_value = false;
	p.receiver = NULL;
	is_int(sw_store_page_put(st, &p, NULL), SW_OK, "updated whole");
	is_int(sw_store_page_get_id(st, id, &got), SW_OK, "read by id");
	ok(got && got->state == SW_PAGE_OK && !got->has_value && !got->receiver, "  the update");
	sw_store_page_free(got, 1);
	p.id = id + 100;
	is_int(sw_store_page_put(st, &p, NULL), SW_ENOTFOUND, "an unknown id: ENOTFOUND");
	p.rule = NULL;
	is_int(sw_store_page_put(st, &p, NULL), SW_EINVAL, "no rule: EINVAL");
	is_int(sw_store_page_get(st, "nope", "", &got), SW_ENOTFOUND, "no such page");
	/* ok and told ok: not listed unless all */
	is_int(sw_store_page_list(st, false, &list, &n), SW_OK, "list open");
	is_int(n, 0, "  a page ok and told ok is not open");
	sw_store_page_free(list, n);
	p = page("wh-late", "warehouse=w2");
	sw_store_page_put(st, &p, NULL);
	is_int(sw_store_page_list(st, false, &list, &n), SW_OK, "list open again");
	ok(n == 1 && !strcmp(list[0].subject, "warehouse=w2"), "  the firing one");
	sw_store_page_free(list, n);
	is_int(sw_store_page_list(st, true, &list, &n), SW_OK, "list all");
	is_int(n, 2, "  both");
	sw_store_page_free(list, n);
	is_int(sw_page_state_parse("nodata"), SW_PAGE_NODATA, "state names parse");
	is_int(sw_page_state_parse("gone"), -1, "  an unknown one does not");
	is_str(sw_page_severity_name(SW_SEV_CRITICAL), "critical", "severity names");
}

/* Queues one page row: entity page:PAGE, event, receiver. */
static int64_t note(struct sw_store *st, int page_id, const char *event, const char *receiver,
		    int seq)
{
	char entity[32], promise[64];
	struct sw_outbox_msg m = { 0 };
	int64_t id = 0;

	snprintf(entity, sizeof(entity), "page:%d", page_id);
	snprintf(promise, sizeof(promise), "1#%d@%s", seq, receiver);
	m.entity = entity;
	m.slip_kind = event;
	m.promise = promise;
	m.channel = "webhook";
	m.receiver = receiver;
	m.recipient = receiver;
	m.subject = "s";
	m.body = "b";
	m.created_at = NOW;
	m.next_attempt_at = NOW;
	if (sw_store_outbox_enqueue(st, &m, &id) != SW_OK)
		return -1;
	return id;
}

static void test_page_claim(struct sw_store *st)
{
	struct sw_outbox_msg *rows = NULL, *last = NULL;
	int64_t t1 = note(st, 1, "trigger", "pd", 1), r1 = note(st, 1, "resolve", "pd", 2);
	int64_t s1 = note(st, 1, "trigger", "slack", 3), t2 = note(st, 2, "trigger", "pd", 1);
	int64_t counts[SW_OUTBOX_LAST];
	struct sw_outbox_msg cust = { 0 };
	size_t n = 0;

	cust.entity = "order:w1:A";
	cust.slip_kind = "ship_late";
	cust.channel = "email";
	cust.recipient = "a@c.example";
	cust.subject = "Your order";
	cust.body = "is late";
	cust.next_attempt_at = NOW;
	is_int(sw_store_outbox_enqueue(st, &cust, NULL), SW_OK, "a customer notice queued");
	ok(t1 > 0 && r1 > 0 && s1 > 0 && t2 > 0, "page rows queued");
	is_int(sw_store_page_claim(st, NOW, 60, 100, &rows, &n), SW_OK, "claim");
	ok(n == 3 && rows[0].id == t1 && rows[1].id == s1 && rows[2].id == t2,
	   "  the first row per page and receiver; the resolve waits behind its trigger; no "
	   "customer notice");
	ok(n > 0 && rows[0].receiver && !strcmp(rows[0].receiver, "pd") && rows[0].attempts == 1,
	   "  with receiver and attempts");
	sw_store_outbox_free(rows, n);
	is_int(sw_store_outbox_claim(st, NOW, 60, 100, &rows, &n), SW_OK, "the customer claim");
	if (!ok(n == 1 && !rows[0].receiver, "  takes only the customer notice"))
		printf("#   %zu rows, first %s\n", n, n ? rows[0].entity : "-");
	sw_store_outbox_free(rows, n);
	is_int(sw_store_page_claim(st, NOW, 60, 100, &rows, &n), SW_OK, "claim again");
	is_int(n, 0, "  nothing: the trigger is leased, the resolve still waits");
	sw_store_outbox_free(rows, n);
	sw_store_outbox_mark_deferred(st, t1, NOW + 30, "HTTP 500");
	is_int(sw_store_page_claim(st, NOW + 29, 60, 100, &rows, &n), SW_OK, "before the retry");
	is_int(n, 0, "  nothing due");
	sw_store_outbox_free(rows, n);
	is_int(sw_store_page_claim(st, NOW + 30, 60, 100, &rows, &n), SW_OK, "at the retry");
	ok(n == 1 && rows[0].id == t1 && rows[0].attempts == 2, "  the trigger, attempt 2");
	sw_store_outbox_free(rows, n);
	sw_store_outbox_mark_sent(st, t1, NOW + 30, "HTTP 202");
	is_int(sw_store_page_claim(st, NOW + 30, 60, 100, &rows, &n), SW_OK, "after it went");
	ok(n == 1 && rows[0].id == r1, "  the resolve");
	sw_store_outbox_free(rows, n);
	is_int(sw_store_page_outbox_counts(st, 1, counts), SW_OK, "counts of page 1");
	ok(counts[SW_OUTBOX_SENT] == 1 && counts[SW_OUTBOX_SENDING] == 2 &&
	       counts[SW_OUTBOX_QUEUED] == 0,
	   "  one sent, two sending");
	is_int(sw_store_page_last_note(st, 1, &last), SW_OK, "last notification");
	ok(last && last->id == s1, "  the newest row");
	sw_store_outbox_free(last, last ? 1 : 0);
	is_int(sw_store_page_last_note(st, 99, &last), SW_ENOTFOUND, "none for a page never told");
	is_int(sw_store_page_claim(st, NOW, 0, 100, &rows, &n), SW_ERANGE, "lease 0 refused");
}

/* A claim takes at most its limit of page rows, the earliest first; on
 * PostgreSQL its select once ran again for each row of a nested loop,
 * skipping the rows the statement had already updated, and took them all. */
static void test_page_claim_limit(struct sw_store *st)
{
	struct sw_outbox_msg *rows = NULL;
	int64_t ids[5];
	size_t n = 0, most = 0;
	int mine = 0;

	for (int i = 0; i < 5; i++)
		ids[i] = note(st, 10 + i, "trigger", "pd", 1);
	is_int(sw_store_page_claim(st, NOW + 60, 60, 2, &rows, &n), SW_OK, "a claim of 2 of 5 due");
	ok(n == 2 && rows[0].id == ids[0] && rows[1].id == ids[1], "  the first two, no more (%zu)",
	   n);
	sw_store_outbox_free(rows, n);
	/* the rows test_page_claim leased until NOW + 60 are due again too */
	for (int i = 0; i < 3 && sw_store_page_claim(st, NOW + 60, 60, 2, &rows, &n) == SW_OK;
	     i++) {
		most = n > most ? n : most;
		for (size_t j = 0; j < n; j++)
			mine +=
			    rows[j].id == ids[2] || rows[j].id == ids[3] || rows[j].id == ids[4];
		sw_store_outbox_free(rows, n);
	}
	is_int(most, 2, "  three more claims of 2 take 2 at most");
	is_int(mine, 3, "  the other three among them");
}

/* ==== main ================================================================= */

int main(void)
{
	struct sw_store *st = store_tmp_open();

	if (!st)
		return store_tmp_done(NULL);
	test_silences_and_acks(st);
	test_page_put_get(st);
	test_page_claim(st);
	test_page_claim_limit(st);
	return store_tmp_done(st);
}
