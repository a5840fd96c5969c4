/*
 * event.c - parsing and validating one warehouse event (see event.h).
 *
 * Design:
 * - Cheap checks first: size against max_payload, raw NUL bytes, then a
 *   linear scan bounding the nesting depth (jansson 2.14's own limit,
 *   JSON_PARSER_MAX_DEPTH, is 2048 levels of recursion: too deep for input
 *   we expect two levels of, so we stop at SW_EVENT_DEPTH_MAX before the
 *   parser runs).
 * - jansson parses with JSON_REJECT_DUPLICATES (a repeated key is not
 *   JSON we accept: which value would win is undefined), JSON_DECODE_ANY
 *   (so that "42" is not_object rather than not_json) and
 *   JSON_DECODE_INT_AS_REAL (an oversized integer in an ignored field is
 *   not a reason to reject).  Without JSON_ALLOW_NUL, "\u0000" in a string
 *   is an error; jansson also rejects invalid UTF-8.
 * - Fields are then read in a fixed order, the first problem wins, and
 *   every string is length-checked and copied into struct sw_event, so the
 *   json_t tree is freed before returning.
 * - Reject details are built by this file from field names and short,
 *   sanitised quotes (bytes outside printable ASCII become '?'), so they are
 *   one line of ASCII: safe in logs and in the dead-letter JSON.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/event.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define QUOTE_MAX 40 /* bytes of input quoted in a detail */

static const char *const reason_names[SW_EVENT_REASON_LAST] = {
    [SW_EVENT_TOO_BIG] = "too_big",
    [SW_EVENT_NOT_JSON] = "not_json",
    [SW_EVENT_NOT_OBJECT] = "not_object",
    [SW_EVENT_MISSING_FIELD] = "missing_field",
    [SW_EVENT_WRONG_TYPE] = "wrong_type",
    [SW_EVENT_BAD_VALUE] = "bad_value",
    [SW_EVENT_BAD_TIMESTAMP] = "bad_timestamp",
    [SW_EVENT_WAREHOUSE_MISMATCH] = "warehouse_mismatch",
};

static const char *const type_names[SW_STAGE_LAST] = {
    [SW_STAGE_CREATED] = "order.created",     [SW_STAGE_PICKED] = "order.picked",
    [SW_STAGE_PACKED] = "order.packed",	      [SW_STAGE_SHIPPED] = "order.shipped",
    [SW_STAGE_CANCELLED] = "order.cancelled", [SW_STAGE_BACKORDERED] = "order.backordered",
};

const char *sw_event_reason_name(enum sw_event_reason r)
{
	return (unsigned)r < SW_EVENT_REASON_LAST ? reason_names[r] : "?";
}

const char *sw_event_type_name(enum sw_stage type)
{
	return (unsigned)type < SW_STAGE_LAST ? type_names[type] : "?";
}

/* ---- rejects ------------------------------------------------------------ */

/* Replaces every byte outside printable ASCII with '?'. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static enum sw_err __attribute__((format(printf, 3, 4)))
reject(struct sw_event_reject *rej, enum sw_event_reason r, const char *fmt, ...)
{
	va_list ap;

	rej->reason = r;
	va_start(ap, fmt);
	vsnprintf(rej->detail, sizeof(rej->detail), fmt, ap);
	va_end(ap);
	sanitize(rej->detail);
	return SW_EPARSE;
}

/* A short quote of s for a detail: at most QUOTE_MAX bytes, "..." if cut.
 * (sanitize() later makes it ASCII.) */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (n > QUOTE_MAX)
		snprintf(buf, len, "%.*s...", QUOTE_MAX, s);
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

/* ---- cheap checks before parsing ---------------------------------------- */

/* 1 if the {/[ nesting of the text exceeds max (strings skipped). */
static int too_deep(const char *s, size_t len, int max)
{
	int depth = 0, in_str = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return 1;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* ---- field readers ------------------------------------------------------- */

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/*
 * Looks up field `name` ("customer.email": the key is after the last dot)
 * in obj and checks its JSON type.  Absent or null: *ret NULL and SW_OK if
 * optional, else missing_field.
 */
static enum sw_err field(struct sw_event_reject *rej, const json_t *obj, const char *name,
			 json_type type, int required, json_t **ret)
{
	const char *key = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return SW_OK;
		return reject(rej, SW_EVENT_MISSING_FIELD, "field '%s': %s", name,
			      v ? "is null" : "missing");
	}
	if (json_typeof(v) != type)
		return reject(rej, SW_EVENT_WRONG_TYPE, "field '%s': expected %s, got %s", name,
			      type == JSON_OBJECT ? "an object" : "a string", json_type_name(v));
	*ret = v;
	return SW_OK;
}

/* Checks a string value: not empty, at most max bytes, no control
 * characters (jansson already refused NUL). */
static enum sw_err check_text(struct sw_event_reject *rej, const char *name, const json_t *v,
			      size_t max)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), i;

	if (n == 0)
		return reject(rej, SW_EVENT_BAD_VALUE, "field '%s': empty string", name);
	if (n > max)
		return reject(rej, SW_EVENT_BAD_VALUE, "field '%s': %zu bytes, at most %zu allowed",
			      name, n, max);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return reject(rej, SW_EVENT_BAD_VALUE,
				      "field '%s': control character at byte %zu", name, i);
	return SW_OK;
}

/* Reads an optional or required string field into a new copy (*ret NULL
 * when optional and absent). */
static enum sw_err get_str(struct sw_event_reject *rej, const json_t *obj, const char *name,
			   int required, size_t max, char **ret)
{
	json_t *v;
	enum sw_err rc;

	*ret = NULL;
	if ((rc = field(rej, obj, name, JSON_STRING, required, &v)) || v == NULL)
		return rc;
	if ((rc = check_text(rej, name, v, max)))
		return rc;
	*ret = xstrndup(json_string_value(v), json_string_length(v));
	return SW_OK;
}

/* Turns a parsed date-time into a stamp: it must have an offset and lie
 * after the epoch (0 means "absent" in the store). */
static enum sw_err time_stamp(struct sw_event_reject *rej, const char *name,
			      const struct sw_time *t, struct sw_stamp *ret)
{
	if (!(t->flags & SW_TIME_HAS_OFFSET))
		return reject(rej, SW_EVENT_BAD_TIMESTAMP,
			      "field '%s': no UTC offset ('Z' or +hh:mm required)", name);
	if (t->utc_sec <= 0)
		return reject(rej, SW_EVENT_BAD_TIMESTAMP,
			      "field '%s': before 1970-01-01T00:00:01Z", name);
	ret->at = t->utc_sec;
	ret->offset = t->offset_sec;
	return SW_OK;
}

/* A required RFC 3339 instant with offset. */
static enum sw_err get_stamp(struct sw_event_reject *rej, const json_t *obj, const char *name,
			     struct sw_stamp *ret)
{
	char err[128];
	struct sw_time t;
	json_t *v;
	enum sw_err rc;

	if ((rc = field(rej, obj, name, JSON_STRING, 1, &v)))
		return rc;
	if (sw_time_parse(json_string_value(v), &t, err, sizeof(err)) != SW_OK)
		return reject(rej, SW_EVENT_BAD_TIMESTAMP, "field '%s': %s", name, err);
	return time_stamp(rej, name, &t, ret);
}

/* ---- value checks ----------------------------------------------------- */

int sw_event_warehouse_valid(const char *id)
{
	size_t i, n;

	if (id == NULL || id[0] == '\0' || id[0] == '.')
		return 0;
	n = strlen(id);
	if (n > SW_EVENT_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* BCP 47 shape: a 2..8 letter language, then '-'-separated subtags of
 * 1..8 letters or digits ("hi-IN", "zh-Hant-TW", "es-419"). */
static int locale_valid(const char *s)
{
	size_t len = 0;
	int first = 1;

	for (;; s++) {
		if (*s == '-' || *s == '\0') {
			if (len == 0 || len > 8 || (first && len < 2))
				return 0;
			if (*s == '\0')
				return 1;
			len = 0;
			first = 0;
		} else if (first ? is_alpha(*s) : is_alnum(*s)) {
			len++;
		} else {
			return 0;
		}
	}
}

/* An address we can hand to SMTP: local@domain with RFC 5322 atext (or
 * UTF-8) dot-atoms, domain labels of letters, digits and '-' (or UTF-8),
 * at least two labels.  No quoting, comments or brackets. */
static int email_valid(const char *s)
{
	const char *at = strrchr(s, '@');
	const char *p;
	size_t label = 0;
	int labels = 0;

	if (at == NULL || at == s || at - s > 64 || s[0] == '.' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.'
			? p[1] == '.'
			: !(c >= 0x80 || is_alnum((char)c) || strchr("!#$%&'*+/=?^_`{|}~-", c)))
			return 0;
	}
	for (p = at + 1;; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.' || c == '\0') {
			if (label == 0 || p[-1] == '-' || p[-(long)label] == '-')
				return 0;
			labels++;
			label = 0;
			if (c == '\0')
				return labels >= 2;
		} else if (c >= 0x80 || is_alnum((char)c) || c == '-') {
			label++;
		} else {
			return 0;
		}
	}
}

/* E.164 as the contract states it: '+' then SW_EVENT_PHONE_MIN..MAX ASCII
 * digits, nothing else (no spaces, dashes or brackets to normalise: the
 * gateway gets the number exactly as stored). */
static int phone_valid(const char *s)
{
	size_t n = 0;

	if (*s++ != '+')
		return 0;
	for (; *s; s++, n++)
		if (*s < '0' || *s > '9')
			return 0;
	return n >= SW_EVENT_PHONE_MIN && n <= SW_EVENT_PHONE_MAX;
}

/* The channels a customer may ask to be told through (customer.notify):
 * the names of the customer notification channels of slipwatch-alerts. */
static const char *const notify_channels[] = {"email", "webhook", NULL};

static int channel_valid(const char *s)
{
	for (size_t i = 0; notify_channels[i]; i++)
		if (strcmp(s, notify_channels[i]) == 0)
			return 1;
	return 0;
}

/* ---- the event ---------------------------------------------------------- */

static enum sw_err get_type(struct sw_event_reject *rej, const json_t *root,
			    enum sw_stage *ret_type)
{
	char q[64];
	json_t *v;
	enum sw_err rc;
	int i;

	if ((rc = field(rej, root, "type", JSON_STRING, 1, &v)))
		return rc;
	for (i = 0; i < SW_STAGE_LAST; i++) {
		if (strcmp(json_string_value(v), type_names[i]) == 0) {
			*ret_type = (enum sw_stage)i;
			return SW_OK;
		}
	}
	return reject(rej, SW_EVENT_BAD_VALUE, "field 'type': unknown type '%s'",
		      quote(json_string_value(v), q, sizeof(q)));
}

static enum sw_err get_warehouse(struct sw_event_reject *rej, const json_t *root,
				 const char *topic_wh, char **ret)
{
	char q1[64], q2[64];
	enum sw_err rc;

	if ((rc = get_str(rej, root, "warehouse_id", 1, SW_EVENT_ID_MAX, ret)))
		return rc;
	if (!sw_event_warehouse_valid(*ret))
		return reject(rej, SW_EVENT_BAD_VALUE,
			      "field 'warehouse_id': '%s' is not a valid warehouse id "
			      "(letters, digits, '.', '_', '-')",
			      quote(*ret, q1, sizeof(q1)));
	if (topic_wh && strcmp(*ret, topic_wh) != 0)
		return reject(rej, SW_EVENT_WAREHOUSE_MISMATCH,
			      "field 'warehouse_id': '%s' does not match the topic's '%s'",
			      quote(*ret, q1, sizeof(q1)), quote(topic_wh, q2, sizeof(q2)));
	return SW_OK;
}

/* The optional customer.phone and customer.notify. */
static enum sw_err get_contact(struct sw_event_reject *rej, const json_t *c, struct sw_event *ev)
{
	char q[64];
	enum sw_err rc;

	if ((rc = get_str(rej, c, "customer.phone", 0, SW_EVENT_ID_MAX, &ev->customer_phone)))
		return rc;
	if (ev->customer_phone && !phone_valid(ev->customer_phone))
		return reject(rej, SW_EVENT_BAD_VALUE,
			      "field 'customer.phone': '%s' is not an E.164 number ('+' and "
			      "%d to %d digits, e.g. +919812345678)",
			      quote(ev->customer_phone, q, sizeof(q)), SW_EVENT_PHONE_MIN,
			      SW_EVENT_PHONE_MAX);
	if ((rc = get_str(rej, c, "customer.notify", 0, SW_EVENT_ID_MAX, &ev->customer_channel)))
		return rc;
	if (ev->customer_channel && !channel_valid(ev->customer_channel))
		return reject(rej, SW_EVENT_BAD_VALUE,
			      "field 'customer.notify': unknown channel '%s' (email or webhook)",
			      quote(ev->customer_channel, q, sizeof(q)));
	return SW_OK;
}

static enum sw_err get_customer(struct sw_event_reject *rej, const json_t *root,
				struct sw_event *ev)
{
	char q[64];
	json_t *c;
	enum sw_err rc;

	if ((rc = field(rej, root, "customer", JSON_OBJECT, 1, &c)) ||
	    (rc = get_str(rej, c, "customer.name", 1, SW_EVENT_NAME_MAX, &ev->customer_name)) ||
	    (rc = get_str(rej, c, "customer.email", 1, SW_EVENT_EMAIL_MAX, &ev->customer_email)))
		return rc;
	if (!email_valid(ev->customer_email))
		return reject(rej, SW_EVENT_BAD_VALUE,
			      "field 'customer.email': '%s' is not an address",
			      quote(ev->customer_email, q, sizeof(q)));
	if ((rc = get_str(rej, c, "customer.locale", 1, SW_EVENT_LOCALE_MAX, &ev->customer_locale)))
		return rc;
	if (!locale_valid(ev->customer_locale))
		return reject(rej, SW_EVENT_BAD_VALUE,
			      "field 'customer.locale': '%s' is not a BCP 47 tag (e.g. hi-IN)",
			      quote(ev->customer_locale, q, sizeof(q)));
	if ((rc = get_str(rej, c, "customer.timezone", 1, SW_EVENT_TZ_MAX, &ev->customer_timezone)))
		return rc;
	if (!sw_tz_valid(ev->customer_timezone))
		return reject(rej, SW_EVENT_BAD_VALUE,
			      "field 'customer.timezone': unknown time zone '%s'",
			      quote(ev->customer_timezone, q, sizeof(q)));
	return get_contact(rej, c, ev);
}

/* promised_delivery_by: an instant with offset, or a date meaning the end
 * of that day in the customer's zone (read before this). */
static enum sw_err get_delivery(struct sw_event_reject *rej, const json_t *root,
				struct sw_event *ev)
{
	static const char name[] = "promised_delivery_by";
	struct sw_promise *pd = &ev->promised_delivery_by;
	struct sw_tz_local local;
	enum sw_time_kind kind;
	struct sw_date date;
	struct sw_time t;
	char err[128];
	json_t *v;
	enum sw_err rc;

	if ((rc = field(rej, root, name, JSON_STRING, 1, &v)))
		return rc;
	if (sw_time_parse_any(json_string_value(v), &kind, &date, &t, err, sizeof(err)))
		return reject(rej, SW_EVENT_BAD_TIMESTAMP, "field '%s': %s", name, err);
	if (kind == SW_TIME_KIND_DATETIME) {
		if ((rc = time_stamp(rej, name, &t, &pd->at)))
			return rc;
		pd->kind = SW_PROMISE_INSTANT;
	} else {
		if (sw_date_end_of_day(ev->customer_timezone, &date, &t.utc_sec) != SW_OK ||
		    sw_tz_utc_to_local(ev->customer_timezone, t.utc_sec, &local) != SW_OK)
			return reject(rej, SW_EVENT_BAD_TIMESTAMP,
				      "field '%s': no end of day for this date in %s", name,
				      ev->customer_timezone);
		t.flags = SW_TIME_HAS_OFFSET;
		t.offset_sec = local.offset_sec;
		if ((rc = time_stamp(rej, name, &t, &pd->at)))
			return rc;
		pd->kind = SW_PROMISE_DATE;
	}
	pd->text = xstrdup(json_string_value(v));
	return SW_OK;
}

static enum sw_err get_created(struct sw_event_reject *rej, const json_t *root, struct sw_event *ev)
{
	json_t *d;
	enum sw_err rc;

	if ((rc = get_customer(rej, root, ev)) ||
	    (rc = get_stamp(rej, root, "promised_ship_by", &ev->promised_ship_by)) ||
	    (rc = get_delivery(rej, root, ev)) ||
	    (rc = get_str(rej, root, "service_level", 0, SW_EVENT_ID_MAX, &ev->service_level)) ||
	    (rc = field(rej, root, "destination", JSON_OBJECT, 0, &d)) || d == NULL)
		return rc;
	if ((rc = get_str(rej, d, "destination.country", 0, SW_EVENT_ID_MAX, &ev->dest_country)) ||
	    (rc = get_str(rej, d, "destination.postal_code", 0, SW_EVENT_ID_MAX,
			  &ev->dest_postal_code)) ||
	    (rc = get_str(rej, d, "destination.city", 0, SW_EVENT_NAME_MAX, &ev->dest_city)))
		return rc;
	return SW_OK;
}

static enum sw_err get_event(const json_t *root, const char *topic_wh, struct sw_event *ev,
			     struct sw_event_reject *rej)
{
	enum sw_err rc;

	if ((rc = get_str(rej, root, "event_id", 1, SW_EVENT_ID_MAX, &ev->event_id)) ||
	    (rc = get_type(rej, root, &ev->type)) ||
	    (rc = get_stamp(rej, root, "occurred_at", &ev->occurred_at)) ||
	    (rc = get_warehouse(rej, root, topic_wh, &ev->warehouse_id)) ||
	    (rc = get_str(rej, root, "order_id", 1, SW_EVENT_ID_MAX, &ev->order_id)))
		return rc;
	if (ev->type == SW_STAGE_CREATED)
		return get_created(rej, root, ev);
	if (ev->type == SW_STAGE_SHIPPED &&
	    ((rc = get_str(rej, root, "courier", 1, SW_EVENT_ID_MAX, &ev->courier)) ||
	     (rc =
		  get_str(rej, root, "tracking_number", 1, SW_EVENT_ID_MAX, &ev->tracking_number))))
		return rc;
	return SW_OK;
}

/* Size, NUL bytes, depth, then jansson.  *ret_root on SW_OK. */
static enum sw_err load(const char *s, size_t len, size_t max_payload, struct sw_event_reject *rej,
			json_t **ret_root)
{
	const char *nul;
	json_error_t jerr;
	json_t *root;

	*ret_root = NULL;
	if (max_payload && len > max_payload)
		return reject(rej, SW_EVENT_TOO_BIG, "payload of %zu bytes, at most %zu allowed",
			      len, max_payload);
	if (len == 0)
		return reject(rej, SW_EVENT_NOT_JSON, "empty payload");
	if ((nul = memchr(s, '\0', len)) != NULL)
		return reject(rej, SW_EVENT_NOT_JSON, "NUL byte at offset %zu", (size_t)(nul - s));
	if (too_deep(s, len, SW_EVENT_DEPTH_MAX))
		return reject(rej, SW_EVENT_TOO_BIG, "JSON nested deeper than %d levels",
			      SW_EVENT_DEPTH_MAX);
	root = json_loadb(
	    s, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr);
	if (root == NULL)
		return reject(rej, SW_EVENT_NOT_JSON, "not JSON: at offset %d: %s", jerr.position,
			      jerr.text);
	if (!json_is_object(root)) {
		reject(rej, SW_EVENT_NOT_OBJECT, "payload is %s, not an object",
		       json_type_name(root));
		json_decref(root);
		return SW_EPARSE;
	}
	*ret_root = root;
	return SW_OK;
}

enum sw_err sw_event_parse(const char *topic_warehouse, const void *payload, size_t len,
			   size_t max_payload, struct sw_event *ret_event,
			   struct sw_event_reject *ret_reject)
{
	json_t *root;
	enum sw_err rc;

	if (ret_event == NULL || ret_reject == NULL || (payload == NULL && len > 0))
		return SW_EINVAL;
	memset(ret_event, 0, sizeof(*ret_event));
	ret_event->type = SW_STAGE_LAST;
	memset(ret_reject, 0, sizeof(*ret_reject));
	ret_reject->reason = SW_EVENT_REASON_LAST;
	if ((rc = load(payload, len, max_payload, ret_reject, &root)))
		return rc;
	rc = get_event(root, topic_warehouse, ret_event, ret_reject);
	json_decref(root);
	if (rc != SW_OK) {
		sw_event_free(ret_event);
		return rc;
	}
	ret_reject->reason = SW_EVENT_REASON_LAST;
	return SW_OK;
}

void sw_event_free(struct sw_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->event_id);
	free(ev->warehouse_id);
	free(ev->order_id);
	free(ev->customer_name);
	free(ev->customer_email);
	free(ev->customer_locale);
	free(ev->customer_timezone);
	free(ev->customer_phone);
	free(ev->customer_channel);
	free((char *)ev->promised_delivery_by.text);
	free(ev->service_level);
	free(ev->dest_country);
	free(ev->dest_postal_code);
	free(ev->dest_city);
	free(ev->courier);
	free(ev->tracking_number);
	memset(ev, 0, sizeof(*ev));
	ev->type = SW_STAGE_LAST;
}

enum sw_err sw_event_topic_warehouse(const char *topic, int level, char *buf, size_t len)
{
	const char *start, *end;
	size_t n;

	if (buf && len)
		buf[0] = '\0';
	if (topic == NULL || buf == NULL || level < 0)
		return SW_EINVAL;
	for (start = topic; level > 0; level--) {
		start = strchr(start, '/');
		if (start == NULL)
			return SW_ENOTFOUND;
		start++;
	}
	end = strchr(start, '/');
	n = end ? (size_t)(end - start) : strlen(start);
	if (n == 0 || n > SW_EVENT_ID_MAX || start[0] == '.')
		return SW_EINVAL;
	if (n >= len)
		return SW_ETOOBIG;
	memcpy(buf, start, n);
	buf[n] = '\0';
	if (!sw_event_warehouse_valid(buf)) {
		buf[0] = '\0';
		return SW_EINVAL;
	}
	return SW_OK;
}
