/*
 * dhl.c - DHL Shipment Tracking - Unified.  The API facts this file relies
 * on, with their sources: doc/couriers.md, "DHL (`dhl`)".
 *
 * GET {base}/shipments?trackingNumber=N with "DHL-API-Key: <key>"; one
 * number per request (no batch parameter exists).  Default base
 * https://api-eu.dhl.com/track.
 *
 * Not found is HTTP 404 with an application/problem+json body (or a 200
 * with no shipments).  The shipment whose id equals the number asked is
 * used, else the first.  Status comes from shipments[i].status.statusCode
 * (pre-transit, transit, delivered, failure, unknown) refined by the
 * parcel-de short code (ZF/LA pickup, PO out for delivery, ZN attempt) or
 * the text, and returnFlag; event-level "unknown" codes are only event
 * statuses and never override the shipment.  Timestamps may lack an offset
 * (express): those events stay zone-unknown.  The estimated delivery is
 * the date as written of estimatedTimeOfDelivery, else of
 * estimatedDeliveryTimeFrame.estimatedThrough.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "lib/xmalloc.h"

/* parcel-de puts a short code ("ZU") in status and the text elsewhere. */
static bool is_short_code(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len > 3)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

/* Maps a status object (the shipment's or an event's); return_flag is the
 * shipment's returnFlag (false for events). */
static enum sw_ship_status dhl_map(json_t *st, bool return_flag)
{
	const char *code = sw_cj_str(st, "statusCode");
	const char *sc = sw_cj_str(st, "status");
	const char *desc = sw_cj_str(st, "description");
	const char *shortc = is_short_code(sc) ? sc : "";

	if (code == NULL)
		return SW_SHIP_UNKNOWN;
	if (strcmp(code, "pre-transit") == 0)
		return SW_SHIP_INFO_RECEIVED;
	if (strcmp(code, "transit") == 0) {
		if (strcmp(shortc, "ZF") == 0 || strcmp(shortc, "LA") == 0)
			return SW_SHIP_AVAILABLE_FOR_PICKUP;
		if (strcmp(shortc, "PO") == 0 || sw_courier_contains(desc, "out for delivery") ||
		    sw_courier_contains(sc, "out for delivery") ||
		    sw_courier_contains(desc, "with courier for delivery") ||
		    sw_courier_contains(sc, "with courier for delivery"))
			return SW_SHIP_OUT_FOR_DELIVERY;
		return SW_SHIP_IN_TRANSIT;
	}
	if (strcmp(code, "delivered") == 0)
		return return_flag ? SW_SHIP_RETURNED : SW_SHIP_DELIVERED;
	if (strcmp(code, "failure") == 0) {
		if (strcmp(shortc, "ZN") == 0 || sw_courier_contains(desc, "attempt") ||
		    sw_courier_contains(sc, "attempt"))
			return SW_SHIP_ATTEMPT_FAIL;
		return SW_SHIP_EXCEPTION;
	}
	return SW_SHIP_UNKNOWN;
}

/* Code and text of a status object: the short code if any, else
 * statusCode; description, else remark, else a long status title. */
static const char *dhl_code(json_t *st)
{
	const char *sc = sw_cj_str(st, "status");

	return is_short_code(sc) ? sc : sw_cj_str(st, "statusCode");
}

static const char *dhl_text(json_t *st)
{
	const char *t = sw_cj_str(st, "description");
	const char *sc = sw_cj_str(st, "status");

	if (t == NULL)
		t = sw_cj_str(st, "remark");
	if (t == NULL && !is_short_code(sc))
		t = sc;
	return t;
}

static void dhl_event(struct sw_courier_result *r, json_t *ev)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	const char *ts = sw_cj_str(ev, "timestamp");

	e->has_time = sw_courier_time(ts, &e->at);
	e->raw_time = sw_courier_strdup(ts);
	e->status = dhl_map(ev, false);
	e->code = sw_courier_strdup(dhl_code(ev));
	e->text = sw_courier_strdup(dhl_text(ev));
	e->location = sw_cj_dup(ev, "location.address.addressLocality");
}

static void dhl_signer(struct sw_courier_result *r, json_t *pod)
{
	const char *name = sw_cj_str(pod, "signed.name");
	const char *given = sw_cj_str(pod, "signed.givenName");
	const char *family = sw_cj_str(pod, "signed.familyName");
	char *both;

	if (name != NULL) {
		r->signer = sw_courier_strdup(name);
	} else if (given != NULL || family != NULL) {
		both = xasprintf("%s%s%s", given ? given : "", given && family ? " " : "",
				 family ? family : "");
		r->signer = sw_courier_strdup(both);
		free(both);
	}
}

static void dhl_shipment(struct sw_courier_result *r, json_t *sh)
{
	json_t *st = sw_cj_get(sh, "status"), *events = sw_cj_get(sh, "events"), *ev;
	json_t *pod = sw_cj_get(sh, "details.proofOfDelivery");
	bool ret = json_is_true(sw_cj_get(sh, "returnFlag"));
	const char *eta;
	size_t i;

	if (!json_is_object(st) || sw_cj_str(st, "statusCode") == NULL) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE, "shipment without status");
		return;
	}
	if (!sw_courier_events_fit(r, events, "events"))
		return;
	sw_courier_set_found(r, dhl_map(st, ret), dhl_code(st), dhl_text(st));
	json_array_foreach(events, i, ev) dhl_event(r, ev);
	eta = sw_cj_str(sh, "estimatedTimeOfDelivery");
	if (eta == NULL)
		eta = sw_cj_str(sh, "estimatedDeliveryTimeFrame.estimatedThrough");
	r->has_eta = sw_courier_date(eta, &r->eta);
	if (r->status == SW_SHIP_DELIVERED || r->status == SW_SHIP_RETURNED)
		r->has_delivered = sw_courier_time(sw_cj_str(st, "timestamp"), &r->delivered);
	if (!r->has_delivered)
		r->has_delivered = sw_courier_time(sw_cj_str(pod, "timestamp"), &r->delivered);
	dhl_signer(r, pod);
	sw_courier_finish(r);
}

static enum sw_err dhl_parse(const struct sw_courier_response *resp, const char *const *numbers,
			     size_t n, struct sw_courier_result *res)
{
	json_t *root, *ships, *sh, *pick = NULL;
	size_t i;

	if (resp == NULL || numbers == NULL || res == NULL || n != 1)
		return SW_EINVAL;
	root = sw_courier_open(resp, numbers, n, res, true);
	if (root == NULL)
		return SW_OK;
	ships = sw_cj_get(root, "shipments");
	if (resp->http_status == 404) {
		if (json_is_object(root) &&
		    (sw_cj_str(root, "title") || sw_cj_str(root, "detail"))) {
			char *msg = sw_courier_body_message(root);

			sw_courier_set_not_found(&res[0], msg);
			free(msg);
		} else {
			sw_courier_set_error(&res[0], SW_COURIER_ERR_OTHER,
					     "HTTP 404 without a problem body");
		}
	} else if (json_is_array(ships) && json_array_size(ships) == 0) {
		sw_courier_set_not_found(&res[0], "no shipments");
	} else if (!json_is_array(ships)) {
		sw_courier_set_error(&res[0], SW_COURIER_ERR_BAD_RESPONSE, "no shipments array");
	} else {
		json_array_foreach(ships, i, sh)
		{
			const char *id = sw_cj_str(sh, "id");

			if (pick == NULL && id != NULL && strcmp(id, numbers[0]) == 0)
				pick = sh;
		}
		dhl_shipment(&res[0], pick ? pick : json_array_get(ships, 0));
	}
	json_decref(root);
	return SW_OK;
}

static enum sw_err dhl_build(const struct sw_courier_conf *conf, const char *token,
			     const char *req_id, const char *const *numbers, size_t n,
			     struct sw_courier_request *ret_req)
{
	char *base, *num;
	enum sw_err rc;

	(void)token;
	(void)req_id;
	rc = sw_courier_build_start(conf, ret_req, numbers, n, sw_courier_dhl.max_batch);
	if (rc != SW_OK)
		return rc;
	if (!sw_courier_cred_ok(conf->api_key))
		return SW_EAUTH;
	base = sw_courier_base(conf, sw_courier_dhl.default_base_url);
	num = sw_courier_url_escape(numbers[0]);
	sw_courier_req_init(ret_req, SW_COURIER_GET,
			    xasprintf("%s/shipments?trackingNumber=%s", base, num));
	sw_courier_req_header(ret_req, "DHL-API-Key", "%s", conf->api_key);
	sw_courier_req_header(ret_req, "Accept", "application/json");
	free(base);
	free(num);
	return SW_OK;
}

const struct sw_courier sw_courier_dhl = {
    SW_COURIER_ROW(dhl),
    .max_batch = 1,
    .auth = SW_COURIER_AUTH_API_KEY,
    .default_base_url = "https://api-eu.dhl.com/track",
    .build_auth_request = NULL,
    .parse_auth_response = NULL,
    .build_request = dhl_build,
    .parse_response = dhl_parse,
};
