/*
 * test_event.c - unit tests for collector/event.c.
 *
 * The bulk is data: tests/data/events/index.tsv lists each payload file,
 * the topic's warehouse, the expected result (ok or a reject reason) and a
 * substring the detail must contain.  Edge cases that need exact values or
 * generated input (limits, date promises, nesting depth, sizes) follow.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/event.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

#define MAXP 65536

static char *data_path(const char *file)
{
	const char *dir = getenv("SW_TEST_DATA");

	return xasprintf("%s/events/%s", dir && *dir ? dir : "tests/data", file);
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	*ret_len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fclose(f);
		return NULL;
	}
	rewind(f);
	data = xmalloc((size_t)n + 1);
	*ret_len = fread(data, 1, (size_t)n, f);
	data[*ret_len] = '\0';
	fclose(f);
	return data;
}

/* Parses a NUL-terminated payload; returns the reason name or "ok". */
static const char *parse(const char *topic_wh, const char *text, size_t max, struct sw_event *ev,
			 struct sw_event_reject *rej)
{
	if (sw_event_parse(topic_wh, text, strlen(text), max, ev, rej) == SW_OK)
		return "ok";
	return sw_event_reason_name(rej->reason);
}

/* One row of index.tsv. */
static void table_row(char *line, int *seen)
{
	char *file = line, *topic, *expect, *detail, *path, *payload, *nl;
	struct sw_event ev;
	struct sw_event_reject rej;
	enum sw_err rc;
	size_t len;

	if ((nl = strchr(line, '\n')))
		*nl = '\0';
	if (!(topic = strchr(file, '\t')) || !(expect = strchr(topic + 1, '\t')) ||
	    !(detail = strchr(expect + 1, '\t'))) {
		ok(0, "index.tsv: malformed line '%s'", line);
		return;
	}
	*topic++ = *expect++ = *detail++ = '\0';
	path = data_path(file);
	payload = slurp(path, &len);
	if (!ok(payload != NULL, "%s: readable", file)) {
		free(path);
		return;
	}
	rc = sw_event_parse(strcmp(topic, "-") ? topic : NULL, payload, len, MAXP, &ev, &rej);
	if (strcmp(expect, "ok") == 0) {
		if (!ok(rc == SW_OK, "%s: accepted", file))
			printf("#   %s: %s\n", sw_event_reason_name(rej.reason), rej.detail);
		else
			seen[SW_EVENT_REASON_LAST]++;
	} else {
		is_str(rc == SW_OK ? "ok" : sw_event_reason_name(rej.reason), expect,
		       "%s: rejected as %s", file, expect);
		if (strcmp(detail, "-"))
			ok(strstr(rej.detail, detail) != NULL, "%s: detail has \"%s\": %s", file,
			   detail, rej.detail);
		if (rc != SW_OK && (unsigned)rej.reason < SW_EVENT_REASON_LAST)
			seen[rej.reason]++;
		ok(ev.event_id == NULL && ev.type == SW_STAGE_LAST, "%s: event left empty", file);
	}
	sw_event_free(&ev);
	free(payload);
	free(path);
}

static void test_table(void)
{
	int seen[SW_EVENT_REASON_LAST + 1] = {0};
	char *path = data_path("index.tsv");
	FILE *f = fopen(path, "r");
	char line[1024];
	int i, rows = 0;

	if (!ok(f != NULL, "open %s", path)) {
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		table_row(line, seen);
		rows++;
	}
	fclose(f);
	free(path);
	ok(rows >= 40, "index.tsv has %d rows", rows);
	ok(seen[SW_EVENT_REASON_LAST] >= 6, "valid events of each type accepted");
	for (i = 0; i < SW_EVENT_REASON_LAST; i++)
		ok(seen[i] > 0, "reason %s covered by the table",
		   sw_event_reason_name((enum sw_event_reason)i));
}

/* The fields of the fully populated created event. */
static void test_created_fields(void)
{
	char *path = data_path("created.json");
	struct sw_event ev;
	struct sw_event_reject rej;
	size_t len;
	char *p = slurp(path, &len);

	is_int(sw_event_parse("blr1", p, len, 0, &ev, &rej), SW_OK, "created.json parses");
	is_int(ev.type, SW_STAGE_CREATED, "type created");
	is_str(ev.event_id, "blr1-000001", "event_id");
	is_str(ev.warehouse_id, "blr1", "warehouse_id");
	is_str(ev.order_id, "SO-1001", "order_id");
	is_int(ev.occurred_at.at, 1795491900, "occurred_at 2026-11-24T03:45:00Z");
	is_int(ev.occurred_at.offset, 19800, "occurred_at offset +05:30");
	is_str(ev.customer_name, "Priya Sharma", "customer name");
	is_str(ev.customer_email, "priya@example.in", "customer email");
	is_str(ev.customer_locale, "hi-IN", "locale");
	is_str(ev.customer_timezone, "Asia/Kolkata", "timezone");
	is_int(ev.promised_ship_by.at, 1795609800, "promised_ship_by 2026-11-25T12:30:00Z");
	is_int(ev.promised_delivery_by.kind, SW_PROMISE_DATE, "delivery promise is a date");
	is_str(ev.promised_delivery_by.text, "2026-11-30", "  as written");
	/* 2026-11-30T23:59:59+05:30 = 2026-11-30T18:29:59Z */
	is_int(ev.promised_delivery_by.at.at, 1796063399, "  end of day in Asia/Kolkata");
	is_int(ev.promised_delivery_by.at.offset, 19800, "  with the zone's offset");
	is_str(ev.service_level, "standard", "service level");
	is_str(ev.dest_country, "IN", "country");
	is_str(ev.dest_postal_code, "560001", "postal code");
	is_str(ev.dest_city, "Bengaluru", "city");
	ok(ev.courier == NULL && ev.tracking_number == NULL, "no parcel on created");
	ok(ev.customer_phone == NULL && ev.customer_channel == NULL,
	   "no phone, no notify channel: both absent");
	sw_event_free(&ev);
	ok(ev.event_id == NULL && ev.type == SW_STAGE_LAST, "free empties the event");
	sw_event_free(&ev);
	sw_event_free(NULL);
	free(p);
	free(path);

	path = data_path("created_contact.json");
	p = slurp(path, &len);
	is_int(sw_event_parse("blr1", p, len, 0, &ev, &rej), SW_OK, "created_contact.json parses");
	is_str(ev.customer_phone, "+919812345678", "customer.phone as written");
	is_str(ev.customer_channel, "webhook", "customer.notify");
	is_str(ev.customer_email, "priya@example.in", "  the other customer fields too");
	sw_event_free(&ev);
	ok(ev.customer_phone == NULL && ev.customer_channel == NULL, "free empties them");
	free(p);
	free(path);

	path = data_path("created_contact_null.json");
	p = slurp(path, &len);
	is_int(sw_event_parse("blr1", p, len, 0, &ev, &rej), SW_OK, "null phone and notify parse");
	ok(ev.customer_phone == NULL && ev.customer_channel == NULL, "  as absent");
	sw_event_free(&ev);
	free(p);
	free(path);
}

static void test_other_fields(void)
{
	struct sw_event ev;
	struct sw_event_reject rej;

	is_str(parse("w1",
		     "{\"event_id\":\"s1\",\"type\":\"order.shipped\",\"occurred_at\":"
		     "\"2026-11-24T14:30:00.250-03:00\",\"warehouse_id\":\"w1\",\"order_id\":"
		     "\"o1\",\"courier\":\"dhl\",\"tracking_number\":\"JD01\",\"customer\":42}",
		     0, &ev, &rej),
	       "ok", "shipped parses (customer ignored)");
	is_int(ev.occurred_at.at, 1795541400, "fraction dropped, -03:00 applied");
	is_int(ev.occurred_at.offset, -10800, "offset kept");
	is_str(ev.courier, "dhl", "courier");
	is_str(ev.tracking_number, "JD01", "tracking number");
	ok(ev.customer_name == NULL && ev.promised_delivery_by.kind == SW_PROMISE_NONE,
	   "no created fields on shipped");
	sw_event_free(&ev);

	is_str(parse(NULL,
		     "{\"event_id\":\"c1\",\"type\":\"order.created\",\"occurred_at\":"
		     "\"2026-11-24T14:30:00Z\",\"warehouse_id\":\"w1\",\"order_id\":\"o1\","
		     "\"customer\":{\"name\":\"Zoë\",\"email\":\"z@b.example\",\"locale\":"
		     "\"zh-Hant-TW\",\"timezone\":\"America/New_York\"},\"promised_ship_by\":"
		     "\"2026-11-25T00:00:00Z\",\"promised_delivery_by\":\"2026-03-08\"}",
		     0, &ev, &rej),
	       "ok", "created without topic warehouse");
	is_int(ev.promised_delivery_by.kind, SW_PROMISE_DATE, "date promise");
	/* 2026-03-08 is the DST start day in New York: 23:59:59 EDT = 03:59:59Z */
	is_int(ev.promised_delivery_by.at.at, 1773028799, "end of a DST day");
	is_int(ev.promised_delivery_by.at.offset, -4 * 3600, "  at EDT");
	ok(ev.service_level == NULL && ev.dest_city == NULL, "optional fields absent");
	sw_event_free(&ev);
}

/* A picked event whose id (or order id) is n bytes of 'a'. */
static char *picked_with(const char *field, size_t n)
{
	char *v = xmalloc(n + 1), *s;

	memset(v, 'a', n);
	v[n] = '\0';
	s = xasprintf("{\"event_id\":\"%s\",\"type\":\"order.picked\",\"occurred_at\":"
		      "\"2026-11-24T11:00:00Z\",\"warehouse_id\":\"w1\",\"order_id\":\"%s\"}",
		      strcmp(field, "event_id") ? "e1" : v, strcmp(field, "order_id") ? "o1" : v);
	free(v);
	return s;
}

static void test_limits(void)
{
	struct sw_event ev;
	struct sw_event_reject rej;
	char *s, *deep;
	size_t len;
	int i;

	s = picked_with("event_id", 128);
	is_str(parse("w1", s, 0, &ev, &rej), "ok", "128-byte event id accepted");
	is_int(ev.event_id ? strlen(ev.event_id) : 0, 128, "  all of it");
	sw_event_free(&ev);
	free(s);
	s = picked_with("event_id", 129);
	is_str(parse("w1", s, 0, &ev, &rej), "bad_value", "129-byte event id rejected");
	ok(strstr(rej.detail, "129 bytes") != NULL, "  detail: %s", rej.detail);
	free(s);
	s = picked_with("order_id", 129);
	is_str(parse("w1", s, 0, &ev, &rej), "bad_value", "129-byte order id rejected");
	free(s);

	/* Payload exactly max, and max + 1. */
	s = picked_with("event_id", 10);
	len = strlen(s);
	is_int(sw_event_parse("w1", s, len, len, &ev, &rej), SW_OK, "payload of exactly max");
	sw_event_free(&ev);
	is_int(sw_event_parse("w1", s, len, len - 1, &ev, &rej), SW_EPARSE, "payload of max + 1");
	is_str(sw_event_reason_name(rej.reason), "too_big", "  too_big");
	ok(strstr(rej.detail, "at most") != NULL, "  detail: %s", rej.detail);
	/* too_big is decided before parsing: garbage over the limit too. */
	is_int(sw_event_parse("w1", "xxxxxxxx", 8, 4, &ev, &rej), SW_EPARSE, "garbage over max");
	is_str(sw_event_reason_name(rej.reason), "too_big", "  too_big before not_json");
	free(s);

	/* Nesting: 32 levels are fine, 33 are not. */
	for (i = 31; i <= 32; i++) {
		char *open = xmalloc((size_t)i + 1), *close = xmalloc((size_t)i + 1);

		memset(open, '[', (size_t)i);
		memset(close, ']', (size_t)i);
		open[i] = close[i] = '\0';
		deep = xasprintf("{\"event_id\":\"e1\",\"type\":\"order.picked\",\"occurred_at\":"
				 "\"2026-11-24T11:00:00Z\",\"warehouse_id\":\"w1\",\"order_id\":"
				 "\"o1\",\"x\":%s%s,\"s\":\"[[[[{{{{\"}",
				 open, close);
		is_str(parse("w1", deep, 0, &ev, &rej), i == 31 ? "ok" : "too_big",
		       "%d levels of nesting", i + 1);
		sw_event_free(&ev);
		free(deep);
		free(open);
		free(close);
	}
	/* Very deep input is refused without recursion. */
	deep = xmalloc(200001);
	memset(deep, '[', 200000);
	deep[200000] = '\0';
	is_str(parse("w1", deep, 0, &ev, &rej), "too_big", "200000 levels refused");
	free(deep);

	/* Raw NUL byte inside the payload. */
	is_int(sw_event_parse("w1", "{\"a\":\"b\0c\"}", 11, 0, &ev, &rej), SW_EPARSE,
	       "raw NUL byte");
	is_str(sw_event_reason_name(rej.reason), "not_json", "  not_json");
	is_int(sw_event_parse("w1", NULL, 0, 0, &ev, &rej), SW_EPARSE, "NULL empty payload");
	is_int(sw_event_parse("w1", NULL, 3, 0, &ev, &rej), SW_EINVAL, "NULL payload, len 3");
	is_int(sw_event_parse("w1", "{}", 2, 0, NULL, &rej), SW_EINVAL, "NULL ret_event");
	is_int(sw_event_parse("w1", "{}", 2, 0, &ev, NULL), SW_EINVAL, "NULL ret_reject");
}

/* A created event whose customer object ends with `extra` (JSON members,
 * each with a leading comma). */
static char *created_with(const char *extra)
{
	return xasprintf("{\"event_id\":\"c1\",\"type\":\"order.created\",\"occurred_at\":"
			 "\"2026-11-24T14:30:00Z\",\"warehouse_id\":\"w1\",\"order_id\":\"o1\","
			 "\"customer\":{\"name\":\"N\",\"email\":\"a@b.example\",\"locale\":"
			 "\"en\",\"timezone\":\"UTC\"%s},\"promised_ship_by\":"
			 "\"2026-11-25T00:00:00Z\",\"promised_delivery_by\":\"2026-11-30\"}",
			 extra);
}

/* customer.phone (E.164: '+' and 8..15 digits) and customer.notify. */
static void test_contact_values(void)
{
	static const struct {
		const char *phone; /* JSON text of the value */
		const char *want;  /* "ok" or the reason */
	} phones[] = {
	    {"\"+12345678\"", "ok"},
	    {"\"+123456789012345\"", "ok"},
	    {"\"+919812345678\"", "ok"},
	    {"\"+9779812345678\"", "ok"},
	    {"\"+1234567\"", "bad_value"},	    /* 7 digits */
	    {"\"+1234567890123456\"", "bad_value"}, /* 16 digits */
	    {"\"919812345678\"", "bad_value"},
	    {"\"00919812345678\"", "bad_value"},
	    {"\"+91 9812345678\"", "bad_value"},
	    {"\"+91-9812345678\"", "bad_value"},
	    {"\"+(91)9812345678\"", "bad_value"},
	    {"\"++919812345678\"", "bad_value"},
	    {"\"+919812345678 \"", "bad_value"},
	    {"\"+91981234567x\"", "bad_value"},
	    {"\"+\\u0663\\u0664\\u0665\\u0666\\u0667\\u0668\\u0669\\u0660\"", "bad_value"},
	    {"\"+\"", "bad_value"},
	    {"\"\"", "bad_value"},
	    {"\"+9198123\\n45678\"", "bad_value"},
	    {"919812345678", "wrong_type"},
	    {"true", "wrong_type"},
	    {"{}", "wrong_type"},
	    {"null", "ok"},
	};
	static const struct {
		const char *notify;
		const char *want;
	} channels[] = {
	    {"\"email\"", "ok"},	   {"\"webhook\"", "ok"},      {"null", "ok"},
	    {"\"sms\"", "bad_value"},	   {"\"Email\"", "bad_value"}, {"\"email \"", "bad_value"},
	    {"\"\"", "bad_value"},	   {"\"slack\"", "bad_value"}, {"1", "wrong_type"},
	    {"[\"email\"]", "wrong_type"},
	};
	struct sw_event ev;
	struct sw_event_reject rej;
	size_t i;

	for (i = 0; i < sizeof(phones) / sizeof(phones[0]); i++) {
		char *extra = xasprintf(",\"phone\":%s", phones[i].phone);
		char *s = created_with(extra);
		const char *got = parse("w1", s, 0, &ev, &rej);

		is_str(got, phones[i].want, "phone %s", phones[i].phone);
		if (strcmp(got, "ok") != 0)
			ok(strstr(rej.detail, "field 'customer.phone'") != NULL, "  detail: %s",
			   rej.detail);
		sw_event_free(&ev);
		free(s);
		free(extra);
	}
	for (i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		char *extra = xasprintf(",\"notify\":%s", channels[i].notify);
		char *s = created_with(extra);
		const char *got = parse("w1", s, 0, &ev, &rej);

		is_str(got, channels[i].want, "notify %s", channels[i].notify);
		if (strcmp(got, "ok") != 0)
			ok(strstr(rej.detail, "field 'customer.notify'") != NULL, "  detail: %s",
			   rej.detail);
		sw_event_free(&ev);
		free(s);
		free(extra);
	}
	/* Read only on order.created, like the rest of the customer. */
	is_str(parse("w1",
		     "{\"event_id\":\"s1\",\"type\":\"order.shipped\",\"occurred_at\":"
		     "\"2026-11-24T14:30:00Z\",\"warehouse_id\":\"w1\",\"order_id\":\"o1\","
		     "\"courier\":\"dhl\",\"tracking_number\":\"JD01\",\"customer\":"
		     "{\"phone\":\"bad\",\"notify\":\"pigeon\"}}",
		     0, &ev, &rej),
	       "ok", "phone and notify ignored on shipped");
	ok(ev.customer_phone == NULL && ev.customer_channel == NULL, "  and not kept");
	sw_event_free(&ev);
	/* The detail quotes a long bad phone short. */
	{
		char *digits = xmalloc(101), *extra, *s;

		memset(digits, '9', 100);
		digits[100] = '\0';
		extra = xasprintf(",\"phone\":\"+%s\"", digits);
		s = created_with(extra);
		is_str(parse("w1", s, 0, &ev, &rej), "bad_value", "101-byte phone");
		ok(strlen(rej.detail) < SW_EVENT_DETAIL_MAX - 1 && strstr(rej.detail, "...'"),
		   "  detail quotes it short: %s", rej.detail);
		free(s);
		free(extra);
		free(digits);
	}
}

static void test_values(void)
{
	static const struct {
		const char *email;
		int valid;
	} emails[] = {
	    {"a@b.example", 1},	     {"first.last+tag@sub.example.co.in", 1},
	    {"ü@bücher.example", 1}, {"a@b", 0},
	    {"@b.example", 0},	     {"a@", 0},
	    {"a..b@c.example", 0},   {".a@c.example", 0},
	    {"a.@c.example", 0},     {"a b@c.example", 0},
	    {"a@c..example", 0},     {"a@-c.example", 0},
	    {"a@c-.example", 0},     {"<a@c.example>", 0},
	    {"a@b@c.example", 0},    {"a,b@c.example", 0},
	};
	static const struct {
		const char *locale;
		int valid;
	} locales[] = {
	    {"hi-IN", 1}, {"en", 1},	 {"zh-Hant-TW", 1},   {"es-419", 1}, {"de-CH-1901", 1},
	    {"e", 0},	  {"", 0},	 {"hi_IN", 0},	      {"hi-", 0},    {"-IN", 0},
	    {"12-IN", 0}, {"hi--IN", 0}, {"hi-INDIAxxxx", 0}, {"hi IN", 0},
	};
	struct sw_event ev;
	struct sw_event_reject rej;
	size_t i;

	test_contact_values();
	for (i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
		char *s =
		    xasprintf("{\"event_id\":\"c1\",\"type\":\"order.created\",\"occurred_at\":"
			      "\"2026-11-24T14:30:00Z\",\"warehouse_id\":\"w1\",\"order_id\":"
			      "\"o1\",\"customer\":{\"name\":\"N\",\"email\":\"%s\",\"locale\":"
			      "\"en\",\"timezone\":\"UTC\"},\"promised_ship_by\":"
			      "\"2026-11-25T00:00:00Z\",\"promised_delivery_by\":\"2026-11-30\"}",
			      emails[i].email);

		is_str(parse("w1", s, 0, &ev, &rej), emails[i].valid ? "ok" : "bad_value",
		       "email '%s'", emails[i].email);
		sw_event_free(&ev);
		free(s);
	}
	for (i = 0; i < sizeof(locales) / sizeof(locales[0]); i++) {
		char *s =
		    xasprintf("{\"event_id\":\"c1\",\"type\":\"order.created\",\"occurred_at\":"
			      "\"2026-11-24T14:30:00Z\",\"warehouse_id\":\"w1\",\"order_id\":"
			      "\"o1\",\"customer\":{\"name\":\"N\",\"email\":\"a@b.example\","
			      "\"locale\":\"%s\",\"timezone\":\"UTC\"},\"promised_ship_by\":"
			      "\"2026-11-25T00:00:00Z\",\"promised_delivery_by\":\"2026-11-30\"}",
			      locales[i].locale);

		is_str(parse("w1", s, 0, &ev, &rej), locales[i].valid ? "ok" : "bad_value",
		       "locale '%s'", locales[i].locale);
		sw_event_free(&ev);
		free(s);
	}
	/* The detail quotes at most a short, sanitised piece of the input. */
	{
		char *junk = xmalloc(1001), *s;

		memset(junk, 'q', 1000);
		junk[1000] = '\0';
		s = xasprintf(
		    "{\"event_id\":\"e1\",\"type\":\"%s\",\"occurred_at\":"
		    "\"2026-11-24T11:00:00Z\",\"warehouse_id\":\"w1\",\"order_id\":\"o\"}",
		    junk);
		is_str(parse("w1", s, 0, &ev, &rej), "bad_value", "long unknown type");
		ok(strlen(rej.detail) < 100 && strstr(rej.detail, "...") != NULL,
		   "  detail is short: %s", rej.detail);
		free(s);
		s = xasprintf(
		    "{\"event_id\":\"e1\",\"type\":\"ord\xc3\xa9r\",\"occurred_at\":"
		    "\"2026-11-24T11:00:00Z\",\"warehouse_id\":\"w1\",\"order_id\":\"o\"}");
		is_str(parse("w1", s, 0, &ev, &rej), "bad_value", "non-ASCII unknown type");
		ok(strstr(rej.detail, "'ord??r'") != NULL, "  detail is ASCII: %s", rej.detail);
		free(s);
		free(junk);
	}
}

static void test_names(void)
{
	is_str(sw_event_reason_name(SW_EVENT_TOO_BIG), "too_big", "reason name too_big");
	is_str(sw_event_reason_name(SW_EVENT_WAREHOUSE_MISMATCH), "warehouse_mismatch",
	       "reason name warehouse_mismatch");
	is_str(sw_event_reason_name(SW_EVENT_REASON_LAST), "?", "reason LAST");
	is_str(sw_event_reason_name((enum sw_event_reason) - 1), "?", "reason -1");
	is_str(sw_event_type_name(SW_STAGE_BACKORDERED), "order.backordered", "type name");
	is_str(sw_event_type_name(SW_STAGE_LAST), "?", "type LAST");
}

static void test_topic(void)
{
	char buf[16];

	is_int(sw_event_topic_warehouse("warehouse/blr1/events", 1, buf, sizeof(buf)), SW_OK,
	       "topic level 1");
	is_str(buf, "blr1", "  blr1");
	is_int(sw_event_topic_warehouse("blr-2.x_y", 0, buf, sizeof(buf)), SW_OK,
	       "level 0, one level");
	is_str(buf, "blr-2.x_y", "  whole topic");
	is_int(sw_event_topic_warehouse("a/b/c/w9", 3, buf, sizeof(buf)), SW_OK, "last level");
	is_str(buf, "w9", "  w9");
	is_int(sw_event_topic_warehouse("warehouse/blr1/events", 3, buf, sizeof(buf)), SW_ENOTFOUND,
	       "level past the end");
	is_str(buf, "", "  buf emptied");
	is_int(sw_event_topic_warehouse("warehouse//events", 1, buf, sizeof(buf)), SW_EINVAL,
	       "empty level");
	is_int(sw_event_topic_warehouse("warehouse/a b/events", 1, buf, sizeof(buf)), SW_EINVAL,
	       "space in id");
	is_str(buf, "", "  buf emptied");
	is_int(sw_event_topic_warehouse("warehouse/../events", 1, buf, sizeof(buf)), SW_EINVAL,
	       "dot-dot id");
	is_int(sw_event_topic_warehouse("warehouse/+/events", 1, buf, sizeof(buf)), SW_EINVAL,
	       "wildcard id");
	is_int(sw_event_topic_warehouse("warehouse/0123456789abcdef/events", 1, buf, sizeof(buf)),
	       SW_ETOOBIG, "buffer too small");
	is_int(sw_event_topic_warehouse("warehouse/x/events", -1, buf, sizeof(buf)), SW_EINVAL,
	       "negative level");
	is_int(sw_event_topic_warehouse(NULL, 1, buf, sizeof(buf)), SW_EINVAL, "NULL topic");
	ok(sw_event_warehouse_valid("BLR_1.a-b") && !sw_event_warehouse_valid(".hidden") &&
	       !sw_event_warehouse_valid("") && !sw_event_warehouse_valid(NULL) &&
	       !sw_event_warehouse_valid("w/1") && !sw_event_warehouse_valid("wä"),
	   "warehouse id charset");
}

int main(void)
{
	test_names();
	test_table();
	test_created_fields();
	test_other_fields();
	test_limits();
	test_values();
	test_topic();
	return tap_done();
}
