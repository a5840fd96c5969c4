/*
 * aftership.c - AfterShip Tracking API, 2024-04 envelope.  The API facts
 * this file relies on, with their sources: doc/couriers.md, "AfterShip
 * (`aftership`)".
 *
 * GET {base}/trackings/{id} with "as-api-key: <key>", one tracking per
 * request.  The identifier is AfterShip's tracking id (returned when the
 * tracking was created with POST /trackings, which is not this adapter's
 * job).  Default base https://api.aftership.com/tracking/2024-04.
 *
 * The tracking is read from data.tracking (2024-04), else from data itself
 * when it holds a tag (newer versions, unconfirmed), else from
 * data.trackings[] by tracking_number (the list endpoint).  Not found is
 * HTTP 404 with meta.code 4004.  Status: tag, with the Exception subtags
 * 010 (returning) and 011 (returned).  checkpoint_time is local, with or
 * without an offset (zone-unknown when without).  Estimated delivery, as a
 * date as written: latest_estimated_delivery.datetime, else
 * aftership_estimated_delivery_date.estimated_delivery_date, else
 * expected_delivery.  The tracking object reader is shared with the
 * tracking webhook (aftership.h, collector/push_aftership.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/aftership.h"
#include "collector/courier/common.h"
#include "lib/xmalloc.h"

static const struct {
	const char *tag;
	enum sw_ship_status status;
} as_tags[] = {
    {"Pending", SW_SHIP_PENDING},
    {"InfoReceived", SW_SHIP_INFO_RECEIVED},
    {"InTransit", SW_SHIP_IN_TRANSIT},
    {"OutForDelivery", SW_SHIP_OUT_FOR_DELIVERY},
    {"AttemptFail", SW_SHIP_ATTEMPT_FAIL},
    {"Delivered", SW_SHIP_DELIVERED},
    {"AvailableForPickup", SW_SHIP_AVAILABLE_FOR_PICKUP},
    {"Exception", SW_SHIP_EXCEPTION},
    {"Expired", SW_SHIP_EXPIRED},
};

static enum sw_ship_status as_map(const char *tag, const char *subtag)
{
	if (tag == NULL)
		return SW_SHIP_UNKNOWN;
	if (strcmp(tag, "Exception") == 0 && subtag != NULL) {
		if (strcmp(subtag, "Exception_010") == 0)
			return SW_SHIP_RETURNING;
		if (strcmp(subtag, "Exception_011") == 0)
			return SW_SHIP_RETURNED;
	}
	for (size_t i = 0; i < sizeof(as_tags) / sizeof(as_tags[0]); i++)
		if (strcmp(tag, as_tags[i].tag) == 0)
			return as_tags[i].status;
	return SW_SHIP_UNKNOWN;
}

static void as_event(struct sw_courier_result *r, json_t *cp)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	const char *ts = sw_cj_str(cp, "checkpoint_time");

	e->has_time = sw_courier_time(ts, &e->at);
	e->raw_time = sw_courier_strdup(ts);
	e->status = as_map(sw_cj_str(cp, "tag"), sw_cj_str(cp, "subtag"));
	e->code = sw_cj_dup(cp, "raw_tag");
	if (e->code == NULL)
		e->code = sw_cj_dup(cp, "subtag");
	e->text = sw_cj_dup(cp, "message");
	e->location = sw_cj_dup(cp, "city");
	if (e->location == NULL)
		e->location = sw_cj_dup(cp, "location");
}

static void as_tracking(struct sw_courier_result *r, json_t *t)
{
	json_t *cps = sw_cj_get(t, "checkpoints"), *cp;
	const char *tag = sw_cj_str(t, "tag"), *subtag = sw_cj_str(t, "subtag");
	const char *eta;
	size_t i;

	if (!json_is_object(t) || tag == NULL) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE, "tracking without tag");
		return;
	}
	if (!sw_courier_events_fit(r, cps, "checkpoints"))
		return;
	sw_courier_set_found(r, as_map(tag, subtag), subtag ? subtag : tag,
			     sw_cj_str(t, "subtag_message"));
	json_array_foreach(cps, i, cp) as_event(r, cp);
	sw_courier_finish(r);
	eta = sw_cj_str(t, "latest_estimated_delivery.datetime");
	if (eta == NULL)
		eta = sw_cj_str(t, "aftership_estimated_delivery_date.estimated_delivery_date");
	if (eta == NULL)
		eta = sw_cj_str(t, "expected_delivery");
	r->has_eta = sw_courier_date(eta, &r->eta);
	r->has_delivered = sw_courier_time(sw_cj_str(t, "shipment_delivery_date"), &r->delivered);
	r->signer = sw_cj_dup(t, "signed_by");
}

void sw_aftership_tracking(struct sw_courier_result *r, json_t *t)
{
	as_tracking(r, t);
}

static void as_list(json_t *list, const char *const *numbers, size_t n,
		    struct sw_courier_result *res)
{
	bool seen[SW_COURIER_BATCH_MAX] = {false};
	json_t *t;
	size_t i;

	json_array_foreach(list, i, t)
	{
		long k = sw_courier_find_number(numbers, n, sw_cj_str(t, "tracking_number"));

		if (k >= 0 && !seen[k]) {
			seen[k] = true;
			as_tracking(&res[k], t);
		}
	}
	for (i = 0; i < n; i++)
		if (!seen[i])
			sw_courier_set_not_found(&res[i], "not in the tracking list");
}

static enum sw_err as_parse(const struct sw_courier_response *resp, const char *const *numbers,
			    size_t n, struct sw_courier_result *res)
{
	json_t *root, *data;
	int64_t meta = 0;

	if (resp == NULL || numbers == NULL || res == NULL || n != 1)
		return SW_EINVAL;
	root = sw_courier_open(resp, numbers, n, res, true);
	if (root == NULL)
		return SW_OK;
	data = sw_cj_get(root, "data");
	sw_cj_int(root, "meta.code", &meta);
	if (meta == 4004) {
		sw_courier_set_not_found(&res[0], sw_cj_str(root, "meta.message"));
	} else if (resp->http_status == 404 || (meta != 0 && meta != 200 && meta != 201)) {
		sw_courier_set_error(
		    &res[0],
		    meta == 429	  ? SW_COURIER_ERR_RATE_LIMITED
		    : meta == 401 ? SW_COURIER_ERR_UNAUTHORIZED
				  : SW_COURIER_ERR_OTHER,
		    "meta.code %lld: %s", (long long)meta,
		    sw_cj_str(root, "meta.message") ? sw_cj_str(root, "meta.message") : "");
	} else if (json_is_object(sw_cj_get(data, "tracking"))) {
		as_tracking(&res[0], sw_cj_get(data, "tracking"));
	} else if (sw_cj_str(data, "tag") != NULL) {
		as_tracking(&res[0], data);
	} else if (sw_cj_array(data, "trackings") != NULL) {
		as_list(sw_cj_array(data, "trackings"), numbers, n, res);
	} else {
		sw_courier_set_error(&res[0], SW_COURIER_ERR_BAD_RESPONSE, "no data.tracking");
	}
	json_decref(root);
	return SW_OK;
}

static enum sw_err as_build(const struct sw_courier_conf *conf, const char *token,
			    const char *req_id, const char *const *numbers, size_t n,
			    struct sw_courier_request *ret_req)
{
	char *base, *id;
	enum sw_err rc;

	(void)token;
	(void)req_id;
	rc = sw_courier_build_start(conf, ret_req, numbers, n, sw_courier_aftership.max_batch);
	if (rc != SW_OK)
		return rc;
	if (!sw_courier_cred_ok(conf->api_key))
		return SW_EAUTH;
	base = sw_courier_base(conf, sw_courier_aftership.default_base_url);
	id = sw_courier_url_escape(numbers[0]);
	sw_courier_req_init(ret_req, SW_COURIER_GET, xasprintf("%s/trackings/%s", base, id));
	sw_courier_req_header(ret_req, "as-api-key", "%s", conf->api_key);
	sw_courier_req_header(ret_req, "Accept", "application/json");
	free(base);
	free(id);
	return SW_OK;
}

const struct sw_courier sw_courier_aftership = {
    SW_COURIER_ROW(aftership),
    .max_batch = 1,
    .auth = SW_COURIER_AUTH_API_KEY,
    .default_base_url = "https://api.aftership.com/tracking/2024-04",
    .build_auth_request = NULL,
    .parse_auth_response = NULL,
    .build_request = as_build,
    .parse_response = as_parse,
};
