/*
 * push_easypost.c - EasyPost webhooks (a kind of push.h).
 *
 * Signature (docs.easypost.com/docs/webhooks, "HMAC Validation", and the
 * official clients' validate_webhook): header X-Hmac-Signature =
 * "hmac-sha256-hex=" + lowercase hex HMAC-SHA256 of the raw body, keyed
 * with the UTF-8 bytes of the NFKD-normalised webhook secret.  NFKD is not
 * computed here: push_conf.c accepts ASCII secrets only, whose NFKD form
 * is themselves.
 *
 * Payload: an Event {"object":"Event", "id", "description", "result"};
 * tracker.created and tracker.updated carry a Tracker in result (fields in
 * /work/shared/couriers.md 6b: status, status_detail, tracking_details[]
 * oldest first with datetime in UTC, est_delivery_date, signed_by).  Other
 * events (batch.updated, ...) are answered 200 and applied to nothing.
 * Status: pre_transit -> info_received, return_to_sender -> returning,
 * failure -> exception, cancelled/canceled -> cancelled, error/unknown ->
 * unknown, the others 1:1.  The delivery time is that of the newest event
 * whose status is delivered.  Matched by tracking_code, then by the
 * tracker's id (trk_...).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "collector/push.h"
#include "lib/xmalloc.h"

#define PREFIX	   "hmac-sha256-hex="
#define PREFIX_LEN (sizeof(PREFIX) - 1)

static bool ep_verify(const char *key, size_t keylen, const char *sig, const char *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char want[PREFIX_LEN + 64], got[PREFIX_LEN + 64];
	unsigned char mac[32];
	size_t n;

	if (sig == NULL || !sw_push_hmac(key, keylen, body, len, mac))
		return false;
	n = strnlen(sig, SW_PUSH_SIG_MAX);
	while (n > 0 && (sig[n - 1] == ' ' || sig[n - 1] == '\t'))
		n--;
	if (n != sizeof(want))
		return false;
	memcpy(want, PREFIX, PREFIX_LEN);
	for (size_t i = 0; i < 32; i++) {
		want[PREFIX_LEN + 2 * i] = hex[mac[i] >> 4];
		want[PREFIX_LEN + 2 * i + 1] = hex[mac[i] & 15];
	}
	for (size_t i = 0; i < n; i++) /* hex digits in either case */
		got[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + ('a' - 'A') : sig[i]);
	return sw_push_equal(want, got, sizeof(want));
}

static const struct {
	const char *word;
	enum sw_ship_status status;
} ep_statuses[] = {
    {"pre_transit", SW_SHIP_INFO_RECEIVED},
    {"in_transit", SW_SHIP_IN_TRANSIT},
    {"out_for_delivery", SW_SHIP_OUT_FOR_DELIVERY},
    {"available_for_pickup", SW_SHIP_AVAILABLE_FOR_PICKUP},
    {"delivered", SW_SHIP_DELIVERED},
    {"return_to_sender", SW_SHIP_RETURNING},
    {"failure", SW_SHIP_EXCEPTION},
    {"cancelled", SW_SHIP_CANCELLED},
    {"canceled", SW_SHIP_CANCELLED},
    {"error", SW_SHIP_UNKNOWN},
    {"unknown", SW_SHIP_UNKNOWN},
};

static enum sw_ship_status ep_map(const char *s)
{
	for (size_t i = 0; s && i < sizeof(ep_statuses) / sizeof(ep_statuses[0]); i++)
		if (strcmp(s, ep_statuses[i].word) == 0)
			return ep_statuses[i].status;
	return SW_SHIP_UNKNOWN;
}

static void ep_event(struct sw_courier_result *r, json_t *d)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	const char *ts = sw_cj_str(d, "datetime");

	e->has_time = sw_courier_time(ts, &e->at);
	e->raw_time = sw_courier_strdup(ts);
	e->status = ep_map(sw_cj_str(d, "status"));
	e->code = sw_cj_dup(d, "status_detail");
	if (e->code == NULL)
		e->code = sw_cj_dup(d, "status");
	e->text = sw_cj_dup(d, "message");
	if (e->text == NULL)
		e->text = sw_cj_dup(d, "description");
	e->location = sw_cj_dup(d, "tracking_location.city");
}

/* The Tracker t into r (FOUND), or r ERROR bad_response. */
static void ep_tracker(struct sw_courier_result *r, json_t *t)
{
	json_t *list = sw_cj_get(t, "tracking_details"), *d;
	const char *status = sw_cj_str(t, "status");
	size_t i;

	if (status == NULL) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE, "tracker without status");
		return;
	}
	if (!sw_courier_events_fit(r, list, "tracking_details"))
		return;
	sw_courier_set_found(r, ep_map(status), status, sw_cj_str(t, "status_detail"));
	json_array_foreach(list, i, d) ep_event(r, d);
	sw_courier_finish(r);
	r->has_eta = sw_courier_date(sw_cj_str(t, "est_delivery_date"), &r->eta);
	for (i = r->n_events; i > 0 && !r->has_delivered; i--)
		if (r->events[i - 1].status == SW_SHIP_DELIVERED && r->events[i - 1].has_time) {
			r->has_delivered = true;
			r->delivered = r->events[i - 1].at;
		}
	r->signer = sw_cj_dup(t, "signed_by");
}

static const char *const ep_events[] = {"tracker.updated", "tracker.created", NULL};

static const struct sw_push_envelope ep_envelope = {
    .type_key = "object",
    .type_value = "Event",
    .event_key = "description",
    .events = ep_events,
    .object_key = "result",
    .number_key = "tracking_code",
    .id_key = "id",
    .not_this = "not an EasyPost Event (object, description)",
    .carries = "tracker",
    .read = ep_tracker,
};

static enum sw_push_parsed ep_parse(const char *body, size_t len, struct sw_courier_result *r,
				    char **ret_alt, char *err, size_t errlen)
{
	return sw_push_parse_envelope(&ep_envelope, body, len, r, ret_alt, err, errlen);
}

const struct sw_push_kind sw_push_easypost = {
    .name = "easypost",
    .sig_header = "X-Hmac-Signature",
    .verify = ep_verify,
    .parse = ep_parse,
};
