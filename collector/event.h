/*
 * event.h - parsing and validating one warehouse event (design.md,
 * "Warehouse events (MQTT)").
 *
 * sw_event_parse() turns one MQTT payload into a struct sw_event or a
 * reject reason with a one-line detail naming the field and the problem.
 * It is a pure function (no store, no logging, no globals except the time
 * zone cache of lib/swtime.c): the collector's ingest applies what it
 * returns, logs and dead-letters what it rejects.
 *
 * What is read depends on the type: customer, promises, service level and
 * destination only on order.created; courier and tracking number only on
 * order.shipped.  Elsewhere those fields are ignored like unknown fields.
 */
#ifndef SW_EVENT_H
#define SW_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/* Length limits in bytes (UTF-8), checked on every string read.  ID_MAX
 * covers the event, warehouse and order ids, courier, tracking number,
 * service level, country and postal code. */
#define SW_EVENT_ID_MAX	    128
#define SW_EVENT_NAME_MAX   256 /* customer name, city */
#define SW_EVENT_EMAIL_MAX  254 /* RFC 5321 path limit */
#define SW_EVENT_LOCALE_MAX 35	/* RFC 5646 4.4.1 */
#define SW_EVENT_TZ_MAX	    255 /* as lib/swtime.h */
#define SW_EVENT_PHONE_MIN  8	/* E.164 digits after the '+' */
#define SW_EVENT_PHONE_MAX  15
#define SW_EVENT_DEPTH_MAX  32	/* JSON nesting ({ and [) */
#define SW_EVENT_DETAIL_MAX 200 /* reject detail, with the NUL */

/* Why a message was rejected.  Names (sw_event_reason_name) are stable:
 * they appear in logs, metrics (collector/rejected_<name>) and dead
 * letters. */
enum sw_event_reason {
	SW_EVENT_TOO_BIG,	     /* payload over the maximum, or nested
					deeper than SW_EVENT_DEPTH_MAX */
	SW_EVENT_NOT_JSON,	     /* not JSON (or not UTF-8) */
	SW_EVENT_NOT_OBJECT,	     /* JSON, but not an object */
	SW_EVENT_MISSING_FIELD,	     /* a required field is absent or null */
	SW_EVENT_WRONG_TYPE,	     /* a field has the wrong JSON type */
	SW_EVENT_BAD_VALUE,	     /* unknown type, empty or over-long
					string, bad email/locale/zone/id/
					phone/notify channel, control
					characters */
	SW_EVENT_BAD_TIMESTAMP,	     /* not RFC 3339 with an offset, or
					before 1970-01-01T00:00:01Z */
	SW_EVENT_WAREHOUSE_MISMATCH, /* warehouse_id differs from the topic's
					(or the topic has no valid one) */
	SW_EVENT_REASON_LAST
};

struct sw_event_reject {
	enum sw_event_reason reason;
	/* one line naming the field and the problem ("field 'occurred_at': at
	 * offset 19: expected offset or 'Z'"); quotes at most a short,
	 * escaped piece of the input, never the payload */
	char detail[SW_EVENT_DETAIL_MAX];
};

/*
 * A valid event.  All strings are copies owned by the struct (free with
 * sw_event_free); fields not carried by the type are NULL / zero.
 * Times are instants with the offset they were written with.
 */
struct sw_event {
	enum sw_stage type; /* order.<stage>; SW_STAGE_LAST only when empty */
	char *event_id;
	char *warehouse_id;
	char *order_id;
	struct sw_stamp occurred_at;
	/* order.created */
	char *customer_name;
	char *customer_email;
	char *customer_locale;
	char *customer_timezone;
	char *customer_phone;	/* optional: E.164, '+' and 8..15 digits */
	char *customer_channel; /* optional, customer.notify: "email" or
				   "webhook" (NULL: the shop's default) */
	struct sw_stamp promised_ship_by;
	/* kind INSTANT or DATE; text as written (owned, a char * in
	 * disguise); at: the instant, for a date the end of that day in the
	 * customer's zone with that zone's offset then */
	struct sw_promise promised_delivery_by;
	char *service_level; /* optional */
	char *dest_country;  /* optional, each */
	char *dest_postal_code;
	char *dest_city;
	/* order.shipped */
	char *courier;
	char *tracking_number;
};

/*
 * Parses and validates payload (len bytes, not necessarily NUL-terminated)
 * as one warehouse event.  topic_warehouse is the warehouse id taken from
 * the topic (sw_event_topic_warehouse), or NULL when the topic carries none;
 * when given, warehouse_id must equal it.  max_payload: larger payloads are
 * rejected (too_big) before any parsing; 0 means no limit.
 * Returns SW_OK with *ret_event filled (the caller owns it: sw_event_free);
 * SW_EPARSE with *ret_reject filled if the payload is rejected;
 * SW_EINVAL for NULL ret pointers (or NULL payload with len > 0).
 * On any error *ret_event is empty (sw_event_free on it is harmless).
 * Uses the zone cache of lib/swtime.h: call from one thread.
 */
enum sw_err sw_event_parse(const char *topic_warehouse, const void *payload, size_t len,
			   size_t max_payload, struct sw_event *ret_event,
			   struct sw_event_reject *ret_reject);

/* Frees the strings of ev and empties it.  NULL is a no-op. */
void sw_event_free(struct sw_event *ev);

/* Stable snake_case name of a reason ("missing_field"); "?" out of range. */
const char *sw_event_reason_name(enum sw_event_reason r);

/* The wire name of a type ("order.picked"); "?" out of range. */
const char *sw_event_type_name(enum sw_stage type);

/*
 * 1 if id is an acceptable warehouse id: 1..SW_EVENT_ID_MAX bytes of
 * [A-Za-z0-9._-], not starting with '.'.  (It becomes a topic level, a
 * metrics file name "warehouse/<id>" and an RRD file name.)  Else 0.
 */
int sw_event_warehouse_valid(const char *id);

/*
 * Copies the warehouse id from level `level` (0-based, '/'-separated; 1 for
 * "warehouse/<id>/events") of topic into buf (len bytes, NUL-terminated).
 * Returns SW_OK; SW_ENOTFOUND if the topic has no such level; SW_EINVAL if
 * that level is not a valid warehouse id (sw_event_warehouse_valid), or for
 * NULL topic/buf or level < 0; SW_ETOOBIG if buf is too small.  buf holds
 * "" on error.  Pure, safe anywhere.
 */
enum sw_err sw_event_topic_warehouse(const char *topic, int level, char *buf, size_t len);

#endif /* SW_EVENT_H */
