/*
 * fuzz_event.c - fuzz target for the warehouse event parser
 * (collector/event.c) and the dead-letter builder (collector/ingest.c).
 *
 * Properties checked on every input, with and without a topic warehouse:
 * - a reject has a reason in range and a non-empty one-line ASCII detail,
 *   and the event is left empty;
 * - an accepted event, serialised again from its fields, parses to the
 *   same fields (nothing the parser accepts is lost or changed on the way
 *   to the store), and its warehouse id matches the topic's;
 * - the dead letter of a reject is a JSON object carrying the reason.
 * Leaks are caught by ASan/LSan in make check.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/event.h"
#include "collector/ingest.h"
#include "lib/buf.h"
#include "lib/swtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static int same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int same_stamp(struct sw_stamp a, struct sw_stamp b)
{
	return a.at == b.at && a.offset == b.offset;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		CHECK(json_object_set_new(o, key, json_string(v)) == 0);
}

static void set_stamp(json_t *o, const char *key, struct sw_stamp s)
{
	struct sw_time t = {.utc_sec = s.at, .offset_sec = s.offset, .flags = SW_TIME_HAS_OFFSET};
	char buf[SW_TIME_STRLEN];

	CHECK(sw_time_format(&t, buf, sizeof(buf)) == SW_OK);
	set_str(o, key, buf);
}

/* The event as a payload again. */
static char *serialise(const struct sw_event *ev)
{
	json_t *o = json_object(), *c, *d;
	char *text;

	set_str(o, "event_id", ev->event_id);
	set_str(o, "type", sw_event_type_name(ev->type));
	set_stamp(o, "occurred_at", ev->occurred_at);
	set_str(o, "warehouse_id", ev->warehouse_id);
	set_str(o, "order_id", ev->order_id);
	if (ev->type == SW_STAGE_CREATED) {
		c = json_object();
		set_str(c, "name", ev->customer_name);
		set_str(c, "email", ev->customer_email);
		set_str(c, "locale", ev->customer_locale);
		set_str(c, "timezone", ev->customer_timezone);
		set_str(c, "phone", ev->customer_phone);
		set_str(c, "notify", ev->customer_channel);
		json_object_set_new(o, "customer", c);
		set_stamp(o, "promised_ship_by", ev->promised_ship_by);
		set_str(o, "promised_delivery_by", ev->promised_delivery_by.text);
		set_str(o, "service_level", ev->service_level);
		d = json_object();
		set_str(d, "country", ev->dest_country);
		set_str(d, "postal_code", ev->dest_postal_code);
		set_str(d, "city", ev->dest_city);
		json_object_set_new(o, "destination", d);
	}
	set_str(o, "courier", ev->courier);
	set_str(o, "tracking_number", ev->tracking_number);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	CHECK(text != NULL);
	return text;
}

static void check_same(const struct sw_event *a, const struct sw_event *b)
{
	CHECK(a->type == b->type);
	CHECK(same_str(a->event_id, b->event_id) && same_str(a->warehouse_id, b->warehouse_id) &&
	      same_str(a->order_id, b->order_id));
	CHECK(same_stamp(a->occurred_at, b->occurred_at));
	CHECK(same_str(a->customer_name, b->customer_name) &&
	      same_str(a->customer_email, b->customer_email) &&
	      same_str(a->customer_locale, b->customer_locale) &&
	      same_str(a->customer_timezone, b->customer_timezone) &&
	      same_str(a->customer_phone, b->customer_phone) &&
	      same_str(a->customer_channel, b->customer_channel));
	CHECK(same_stamp(a->promised_ship_by, b->promised_ship_by));
	CHECK(a->promised_delivery_by.kind == b->promised_delivery_by.kind &&
	      same_str(a->promised_delivery_by.text, b->promised_delivery_by.text) &&
	      same_stamp(a->promised_delivery_by.at, b->promised_delivery_by.at));
	CHECK(same_str(a->service_level, b->service_level) &&
	      same_str(a->dest_country, b->dest_country) &&
	      same_str(a->dest_postal_code, b->dest_postal_code) &&
	      same_str(a->dest_city, b->dest_city));
	CHECK(same_str(a->courier, b->courier) && same_str(a->tracking_number, b->tracking_number));
}

static void check_reject(const uint8_t *data, size_t size, const struct sw_event *ev,
			 const struct sw_event_reject *rej)
{
	struct sw_buf b;
	json_t *j;
	size_t i, n = strnlen(rej->detail, sizeof(rej->detail));

	CHECK((unsigned)rej->reason < SW_EVENT_REASON_LAST);
	CHECK(n > 0 && n < sizeof(rej->detail));
	for (i = 0; i < n; i++)
		CHECK(rej->detail[i] >= 0x20 && rej->detail[i] < 0x7f);
	CHECK(ev->event_id == NULL && ev->type == SW_STAGE_LAST);

	sw_buf_init(&b, 1 << 20);
	CHECK(sw_ingest_deadletter("warehouse/blr1/events", data, size, rej, 1795491900, &b) ==
	      SW_OK);
	j = json_loads(sw_buf_str(&b), 0, NULL);
	CHECK(j && json_is_object(j));
	CHECK(same_str(json_string_value(json_object_get(j, "reason")),
		       sw_event_reason_name(rej->reason)));
	json_decref(j);
	sw_buf_free(&b);
}

static void one(const char *topic_wh, const uint8_t *data, size_t size)
{
	struct sw_event ev, ev2;
	struct sw_event_reject rej;
	char *text;

	if (sw_event_parse(topic_wh, data, size, 1 << 16, &ev, &rej) != SW_OK) {
		check_reject(data, size, &ev, &rej);
		return;
	}
	CHECK(ev.type < SW_STAGE_LAST && ev.event_id && ev.order_id && ev.occurred_at.at > 0);
	CHECK(sw_event_warehouse_valid(ev.warehouse_id));
	CHECK(topic_wh == NULL || strcmp(topic_wh, ev.warehouse_id) == 0);
	text = serialise(&ev);
	CHECK(sw_event_parse(ev.warehouse_id, text, strlen(text), 0, &ev2, &rej) == SW_OK);
	check_same(&ev, &ev2);
	sw_event_free(&ev2);
	sw_event_free(&ev);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char wh[SW_EVENT_ID_MAX + 1];

	one(NULL, data, size);
	one("blr1", data, size);
	/* The topic parser on the same bytes, as a topic. */
	if (size < 256 && memchr(data, 0, size) == NULL) {
		char topic[256];

		memcpy(topic, data, size);
		topic[size] = '\0';
		if (sw_event_topic_warehouse(topic, 1, wh, sizeof(wh)) == SW_OK)
			CHECK(sw_event_warehouse_valid(wh));
	}
	return 0;
}
