/*
 * sw_seed.c - writes test scenarios into a slipwatch store through the
 * store API (tests and benchmarks of the alert engine).
 *
 *   sw_seed STORE [NOW] < lines
 *
 * One JSON object per input line; times are either RFC 3339 strings or
 * integers = seconds relative to NOW (default: the current time), so a
 * scenario says "shipped two hours ago" as -7200.  Operations ("op"):
 *   order   wh, id, [name, email, locale, tz, phone, notify (email or
 *           webhook), ship_by, deliver_by (a time,
 *           or "YYYY-MM-DD" = end of that day in tz), service_level,
 *           created, shipped, cancelled]
 *   parcel  courier, tn, [wh, id (its order), shipped, status, event_at,
 *           first_scan, eta (YYYY-MM-DD), delivered, and one of:
 *           polled       the last poll that got the courier's word: a poll
 *                        schedule is written (failures 0, no error); with
 *                        "not_found": true that answer was "not found"
 *                        (failures 0, last_error "not found"), which the
 *                        alert engine counts as the courier's word too;
 *           poll_failed  the last poll failed (transport error, 5xx, 429,
 *                        unusable answer): failures 1, last_error set, so
 *                        the parcel has no answer from its courier;
 *           with either, next_poll (time, default NOW + 1 h): when the
 *           next poll is due (in the past: overdue, the collector down)]
 *   health  courier, ok (time of the last useful answer)
 *   warehouse  wh, last_event (time): the warehouse's last published event
 *           (warehouse_health, as the collector notes it per batch)
 *   polls   courier, ok, failed (counts), [at (default NOW)]: the courier's
 *           useful and failed answers in at's minute (courier_polls)
 *   unsub   email
 *   bulk    n, courier, [wh, status, event_at, deliver_by, email_domain,
 *           prefix (of order ids and tracking numbers, so that several
 *           bulk lines do not meet; default none), country, postal, city
 *           (the destination), shipped (default -80000), delivered,
 *           ship_by, service_level, parcel (false: orders only, shipped
 *           only if "shipped" is given; courier then unused)]:
 *           n orders with one parcel each, in one transaction (benchmarks,
 *           cohorts of a lane or of a warehouse's ship day)
 * Every op except bulk also journals an event (source "seed", a fresh id)
 * naming what it touched, as the collector would, so a running engine
 * notices.  Exit 0, or 1 with "line N: what" on stderr.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/store.h"
#include "lib/store_feeds.h"
#include "lib/swtime.h"

static int64_t now;
static long lineno;
static int64_t seq_id;

static void die(const char *what, struct sw_store *st)
{
	fprintf(stderr, "sw_seed: line %ld: %s%s%s\n", lineno, what, st ? ": " : "",
		st ? sw_store_errmsg(st) : "");
	exit(1);
}

/* A time field: integer = relative to now, string = RFC 3339. */
static struct sw_stamp stamp(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	struct sw_stamp s = { 0, 0 };
	struct sw_time t;

	if (json_is_integer(v)) {
		s.at = now + json_integer_value(v);
	} else if (json_is_string(v)) {
		if (sw_time_parse(json_string_value(v), &t, NULL, 0) != SW_OK)
			die("bad time", NULL);
		s.at = t.utc_sec;
		s.offset = t.offset_sec;
	}
	return s;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An event id unique across runs with the same NOW, growing with time (so
 * a later run's order details win). */
static const char *fresh_id(void)
{
	static char id[64];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(id, sizeof(id), "seed-%lld.%09ld-%06lld", (long long)ts.tv_sec, ts.tv_nsec,
		 (long long)++seq_id);
	return id;
}

static void journal(struct sw_store *st, const char *kind, const char *wh, const char *oid,
		    const char *courier, const char *tn)
{
	struct sw_journal_event ev = { 0 };
	const char *id = fresh_id();

	ev.source = "seed";
	ev.source_event_id = id;
	ev.kind = kind;
	ev.warehouse_id = wh;
	ev.order_id = oid;
	ev.courier = courier;
	ev.tracking_number = tn;
	ev.occurred_at.at = now;
	if (sw_store_journal_append(st, &ev, NULL) != SW_OK)
		die("journal", st);
}

static void promise(const json_t *o, const char *tz, struct sw_promise *p)
{
	const json_t *v = json_object_get(o, "deliver_by");
	const char *text = json_string_value(v);
	struct sw_date d;
	static char buf[64];

	if (!v)
		return;
	if (text && sw_date_parse(text, &d, NULL, 0) == SW_OK) {
		p->kind = SW_PROMISE_DATE;
		p->text = text;
		if (sw_date_end_of_day(tz ? tz : "UTC", &d, &p->at.at) != SW_OK)
			die("bad deliver_by date or zone", NULL);
		return;
	}
	p->kind = SW_PROMISE_INSTANT;
	p->at = stamp(o, "deliver_by");
	if (text) {
		p->text = text;
	} else {
		time_t t = (time_t)p->at.at;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		p->text = buf;
	}
}

static void op_order(struct sw_store *st, const json_t *o)
{
	struct sw_order ord = { 0 };

	ord.warehouse_id = str(o, "wh");
	ord.order_id = str(o, "id");
	ord.customer_name = str(o, "name");
	ord.customer_email = str(o, "email");
	ord.customer_locale = str(o, "locale");
	ord.customer_timezone = str(o, "tz");
	ord.customer_phone = str(o, "phone");
	ord.customer_channel = str(o, "notify");
	ord.promised_ship_by = stamp(o, "ship_by");
	ord.service_level = str(o, "service_level");
	promise(o, ord.customer_timezone, &ord.promised_delivery_by);
	if (sw_store_order_set_details(st, &ord, now, fresh_id(), NULL) != SW_OK)
		die("order details", st);
	memset(&ord.promised_delivery_by, 0, sizeof(ord.promised_delivery_by));
	ord.customer_name = ord.customer_email = ord.customer_locale = NULL;
	ord.customer_timezone = ord.service_level = NULL;
	ord.customer_phone = ord.customer_channel = NULL;
	ord.promised_ship_by.at = 0;
	ord.stage[SW_STAGE_CREATED] = stamp(o, "created");
	if (!ord.stage[SW_STAGE_CREATED].at)
		ord.stage[SW_STAGE_CREATED].at = now - 86400;
	ord.stage[SW_STAGE_SHIPPED] = stamp(o, "shipped");
	ord.stage[SW_STAGE_CANCELLED] = stamp(o, "cancelled");
	if (sw_store_order_upsert(st, &ord) != SW_OK)
		die("order", st);
	journal(st, "order.created", ord.warehouse_id, ord.order_id, NULL, NULL);
}

/* The parcel's poll schedule as the collector leaves it after its last
 * poll: "polled" (answered; "not_found": true for a not-found answer) or
 * "poll_failed" (no answer).  Nothing without either. */
static void poll_schedule(struct sw_store *st, const json_t *o, const char *courier,
			  const char *tn)
{
	const json_t *polled = json_object_get(o, "polled");
	const json_t *failed = json_object_get(o, "poll_failed");
	struct sw_poll sp = { 0 };

	if (json_is_true(json_object_get(o, "not_found")) && !polled)
		die("not_found needs polled (the time of that answer)", NULL);
	if (polled && failed)
		die("polled and poll_failed: a schedule keeps only the last poll", NULL);
	if (!polled && !failed)
		return;
	sp.courier = courier;
	sp.tracking_number = tn;
	sp.next_poll_at = json_object_get(o, "next_poll") ? stamp(o, "next_poll").at : now + 3600;
	sp.interval_s = 600;
	if (polled) {
		sp.last_polled_at = stamp(o, "polled").at;
		/* as collector/poll.c writes a not-found answer */
		if (json_is_true(json_object_get(o, "not_found")))
			sp.last_error = "not found";
	} else {
		sp.last_polled_at = stamp(o, "poll_failed").at;
		sp.failures = 1;
		sp.last_error = "server: HTTP 503";
	}
	if (sp.last_polled_at <= 0)
		die("polled or poll_failed: not a time", NULL);
	if (sw_store_poll_upsert(st, &sp) != SW_OK)
		die("poll schedule", st);
}

static void op_parcel(struct sw_store *st, const json_t *o)
{
	struct sw_parcel_update u = { 0 };
	const char *courier = str(o, "courier"), *tn = str(o, "tn");

	if (sw_store_parcel_upsert(st, courier, tn, str(o, "wh"), str(o, "id"),
				   stamp(o, "shipped")) != SW_OK)
		die("parcel", st);
	if (str(o, "status")) {
		if (sw_store_ship_status_parse(str(o, "status"), &u.status) != SW_OK)
			die("bad status", NULL);
		u.event_at = stamp(o, "event_at");
		u.first_scan_at = stamp(o, "first_scan");
		u.eta_date = str(o, "eta");
		u.delivered_at = stamp(o, "delivered");
		if (sw_store_parcel_set_status(st, courier, tn, &u) != SW_OK)
			die("parcel status", st);
	}
	poll_schedule(st, o, courier, tn);
	journal(st, "parcel.status", str(o, "wh"), str(o, "id"), courier, tn);
}

/* The creation time of a bulk order: an hour before it shipped (or, not
 * shipped, two before its ship-by), and at least a day before now. */
static int64_t bulk_created(int64_t shipped, int64_t ship_by)
{
	int64_t at = shipped ? shipped - 3600 : ship_by ? ship_by - 7200 : now;

	return at < now - 86400 ? at : now - 86400;
}

static void op_bulk(struct sw_store *st, const json_t *o)
{
	json_int_t n = json_integer_value(json_object_get(o, "n"));
	const char *courier = str(o, "courier"), *wh = str(o, "wh") ? str(o, "wh") : "bulk";
	const char *domain = str(o, "email_domain") ? str(o, "email_domain") : "example.com";
	const char *prefix = str(o, "prefix") ? str(o, "prefix") : "";
	bool parcel = !json_is_false(json_object_get(o, "parcel"));
	struct sw_stamp shipped = { 0, 0 };
	struct sw_parcel_update u = { 0 };
	char oid[80], tn[80], email[96];

	if (json_object_get(o, "shipped"))
		shipped = stamp(o, "shipped");
	else if (parcel)
		shipped.at = now - 80000;
	if (sw_store_ship_status_parse(str(o, "status") ? str(o, "status") : "in_transit",
				       &u.status) != SW_OK)
		die("bad status", NULL);
	u.event_at = stamp(o, "event_at");
	u.first_scan_at = u.event_at;
	u.delivered_at = stamp(o, "delivered");
	if (strlen(prefix) > 40)
		die("bulk: prefix longer than 40", NULL);
	for (json_int_t i = 0; i < n; i++) {
		struct sw_poll sp = { 0 };
		struct sw_order ord = { 0 };

		snprintf(oid, sizeof(oid), "%sB%lld", prefix, (long long)i);
		snprintf(tn, sizeof(tn), "%sT%lld", prefix, (long long)i);
		snprintf(email, sizeof(email), "c%lld@%s", (long long)i, domain);
		ord.warehouse_id = wh;
		ord.order_id = oid;
		ord.customer_email = email;
		ord.customer_timezone = "Asia/Kolkata";
		ord.customer_locale = i % 2 ? "hi-IN" : "en-IN";
		ord.customer_name = "Bulk Customer";
		ord.dest_country = str(o, "country");
		ord.dest_postal_code = str(o, "postal");
		ord.dest_city = str(o, "city");
		ord.service_level = str(o, "service_level");
		ord.promised_ship_by = stamp(o, "ship_by");
		promise(o, "Asia/Kolkata", &ord.promised_delivery_by);
		ord.stage[SW_STAGE_CREATED].at = bulk_created(shipped.at, ord.promised_ship_by.at);
		ord.stage[SW_STAGE_SHIPPED] = shipped;
		if (sw_store_order_upsert(st, &ord) != SW_OK)
			die("bulk order", st);
		if (!parcel)
			continue;
		if (sw_store_parcel_upsert(st, courier, tn, wh, oid, ord.stage[SW_STAGE_SHIPPED]) !=
			    SW_OK ||
		    sw_store_parcel_set_status(st, courier, tn, &u) != SW_OK)
			die("bulk", st);
		sp.courier = courier;
		sp.tracking_number = tn;
		sp.last_polled_at = now - 300;
		sp.next_poll_at = now + 600 + i % 3600;
		sp.interval_s = 900;
		if (sw_store_poll_upsert(st, &sp) != SW_OK)
			die("bulk poll", st);
	}
}

static void apply(struct sw_store *st, const json_t *o)
{
	const char *op = str(o, "op");

	if (!op)
		die("no op", NULL);
	if (strcmp(op, "order") == 0)
		op_order(st, o);
	else if (strcmp(op, "parcel") == 0)
		op_parcel(st, o);
	else if (strcmp(op, "health") == 0) {
		if (sw_store_courier_health_note(st, str(o, "courier"), 1, stamp(o, "ok").at,
						 NULL) != SW_OK)
			die("health", st);
	} else if (strcmp(op, "warehouse") == 0) {
		if (sw_store_warehouse_seen(st, str(o, "wh"), stamp(o, "last_event").at) != SW_OK)
			die("warehouse", st);
	} else if (strcmp(op, "polls") == 0) {
		int64_t at = json_object_get(o, "at") ? stamp(o, "at").at : now;

		if (sw_store_courier_polls_note(st, str(o, "courier"), at,
						json_integer_value(json_object_get(o, "ok")),
						json_integer_value(json_object_get(o, "failed"))) !=
		    SW_OK)
			die("polls", st);
	} else if (strcmp(op, "unsub") == 0) {
		enum sw_err rc = sw_store_unsub_add(st, str(o, "email"), "test");

		if (rc != SW_OK && rc != SW_EDUP)
			die("unsub", st);
	} else if (strcmp(op, "bulk") == 0)
		op_bulk(st, o);
	else
		die("unknown op", NULL);
}

int main(int argc, char **argv)
{
	struct sw_store *st;
	char err[512], line[8192];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: sw_seed STORE [NOW] < scenario.jsonl\n");
		return 2;
	}
	now = argc == 3 ? strtoll(argv[2], NULL, 10) : (int64_t)time(NULL);
	if (sw_store_open(argv[1], 0, &st, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "sw_seed: %s\n", err);
		return 1;
	}
	if (sw_store_begin(st) != SW_OK)
		die("begin", st);
	while (fgets(line, sizeof(line), stdin)) {
		json_t *o;

		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0' || line[0] == '#')
			continue;
		if (!(o = json_loads(line, 0, NULL)) || !json_is_object(o))
			die("not a JSON object", NULL);
		apply(st, o);
		json_decref(o);
	}
	if (sw_store_commit(st) != SW_OK)
		die("commit", st);
	sw_store_close(st);
	return 0;
}
