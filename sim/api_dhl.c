/*
 * api_dhl.c - DHL Shipment Tracking - Unified, as slipwatch-sim serves it
 * (../shared/couriers.md section 1; the fixtures in
 * tests/data/couriers/dhl/).
 *
 *   GET /dhl/track/shipments?trackingNumber=N   header DHL-API-Key
 *
 * One number per request.  The answer is {"shipments":[...]} with the
 * shipment's status and its events newest-first, each a statusCode of
 * DHL's coarse enum (pre-transit, transit, delivered, failure, unknown), a
 * short title in "status" and the world's text in "description";
 * timestamps with the parcel's local offset; estimatedTimeOfDelivery from
 * the world's ETA.  Not found is 404 application/problem+json, as is
 * every error (401 key, 400 request, 503 outage).
 *
 * The titles are chosen so that slipwatch's adapter
 * (collector/courier/dhl.c, dhl_map) reads each canonical status back:
 * out for delivery and attempt_fail are told apart from transit and
 * failure only by text ("out for delivery", "attempt"), so those words sit
 * in the title; a world text that would flip the other rows (an in-transit
 * text saying "out for delivery", an exception text saying "attempt") is
 * replaced by the title.  available_for_pickup is parcel-de's short code
 * "LA" (held for pickup); returned is "delivered" with returnFlag.  DHL
 * has no code for returning (written as transit: in_transit) nor for
 * cancelled/expired (unknown).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sim/api_int.h"

struct dhl_code {
	const char *status_code; /* DHL's statusCode */
	const char *title;	 /* DHL's "status" */
	const char *avoid1;	 /* words the description must not carry */
	const char *avoid2;
};

static const struct dhl_code dhl_codes[SW_SHIP_LAST] = {
    [SW_SHIP_PENDING] = {"unknown", "STATUS NOT AVAILABLE", NULL, NULL},
    [SW_SHIP_INFO_RECEIVED] = {"pre-transit", "SHIPMENT INFORMATION RECEIVED", NULL, NULL},
    [SW_SHIP_IN_TRANSIT] = {"transit", "IN TRANSIT", "out for delivery",
			    "with courier for delivery"},
    [SW_SHIP_OUT_FOR_DELIVERY] = {"transit", "OUT FOR DELIVERY", NULL, NULL},
    [SW_SHIP_ATTEMPT_FAIL] = {"failure", "DELIVERY ATTEMPTED - RECIPIENT NOT AVAILABLE", NULL,
			      NULL},
    [SW_SHIP_AVAILABLE_FOR_PICKUP] = {"transit", "LA", NULL, NULL},
    [SW_SHIP_DELIVERED] = {"delivered", "DELIVERED", NULL, NULL},
    [SW_SHIP_EXCEPTION] = {"failure", "SHIPMENT ON HOLD", "attempt", NULL},
    [SW_SHIP_RETURNING] = {"transit", "RETURNING TO SENDER", "out for delivery",
			   "with courier for delivery"},
    [SW_SHIP_RETURNED] = {"delivered", "RETURNED TO SENDER", NULL, NULL},
    [SW_SHIP_EXPIRED] = {"unknown", "TRACKING EXPIRED", NULL, NULL},
    [SW_SHIP_CANCELLED] = {"unknown", "SHIPMENT CANCELLED", NULL, NULL},
    [SW_SHIP_UNKNOWN] = {"unknown", "STATUS NOT AVAILABLE", NULL, NULL},
};

static const struct dhl_code *dhl_code_of(enum sw_ship_status st)
{
	return (unsigned)st < SW_SHIP_LAST ? &dhl_codes[st] : &dhl_codes[SW_SHIP_UNKNOWN];
}

static json_t *dhl_error(enum sim_api_errkind kind, const char *detail)
{
	static const char *const titles[] = {"Bad Request", "Unauthorized", "No result found",
					     "Service Unavailable"};
	static const char *const details[] = {
	    "Invalid request.", "Unauthorized for given resource.",
	    "No shipment with given tracking number found.",
	    "The service is temporarily unavailable, please try again later."};
	unsigned k = (unsigned)kind < SIM_API_ERR_LAST ? kind : SIM_API_ERR_BAD;

	return json_pack("{s:I,s:s,s:s}", "status", (json_int_t)sim_api_err_status(k), "title",
			 titles[k], "detail", detail ? detail : details[k]);
}

/* One status object (the shipment's or an event's) for scan s. */
static json_t *dhl_status(const struct sim_scan *s, int32_t off)
{
	const struct dhl_code *c = dhl_code_of(s->status);
	const char *desc = s->text && s->text[0] ? s->text : c->title;
	char ts[SIM_API_TIME_LEN];

	if ((c->avoid1 && strcasestr(desc, c->avoid1)) ||
	    (c->avoid2 && strcasestr(desc, c->avoid2)))
		desc = c->title;
	sim_api_fmt_time(s->at, off, ts);
	return json_pack("{s:s,s:{s:{s:s?}},s:s,s:s,s:s}", "timestamp", ts, "location", "address",
			 "addressLocality", s->city, "statusCode", c->status_code, "status",
			 c->title, "description", desc);
}

static json_t *dhl_shipment(const struct sim_parcel *p, size_t vis)
{
	const struct sim_scan *last = &p->scans[vis - 1];
	int32_t off = sim_api_offset(p);
	json_t *events = json_array(), *sh;
	char ts[SIM_API_TIME_LEN];

	for (size_t i = vis; i-- > 0;) /* newest first */
		json_array_append_new(events, dhl_status(&p->scans[i], off));
	sh = json_pack("{s:s,s:s,s:o,s:b,s:o}", "id", p->tracking, "service", "ecommerce", "status",
		       dhl_status(last, off), "returnFlag", last->status == SW_SHIP_RETURNED,
		       "events", events);
	if (p->order != NULL)
		json_object_set_new(sh, "destination",
				    json_pack("{s:{s:s?,s:s?,s:s?}}", "address", "addressLocality",
					      p->order->city, "postalCode", p->order->postal_code,
					      "countryCode", p->order->country));
	if (p->eta > 0) {
		sim_api_fmt_time(p->eta, off, ts);
		json_object_set_new(sh, "estimatedTimeOfDelivery", json_string(ts));
	}
	if (last->status == SW_SHIP_DELIVERED) {
		sim_api_fmt_time(last->at, off, ts);
		json_object_set_new(sh, "details",
				    json_pack("{s:{s:s}}", "proofOfDelivery", "timestamp", ts));
	}
	return sh;
}

static void dhl_track(struct sim_api_req *req)
{
	const char *num = sim_api_arg(req, "trackingNumber");
	const struct sim_parcel *p;
	size_t vis;

	if (!sim_api_key_ok(req->api, sim_api_header(req, "DHL-API-Key"))) {
		sim_api_fail(req, SIM_API_ERR_AUTH, NULL);
		return;
	}
	if (num == NULL || num[0] == '\0') {
		sim_api_fail(req, SIM_API_ERR_BAD, "trackingNumber must be given once");
		return;
	}
	p = sim_api_parcel(req, num, &vis);
	if (p == NULL) {
		sim_api_fail(req, SIM_API_ERR_NOT_FOUND, NULL);
		req->outcome = SIM_API_OUT_NOT_FOUND;
		return;
	}
	req->status = 200;
	req->reply = json_pack("{s:[o]}", "shipments", dhl_shipment(p, vis));
	req->outcome = SIM_API_OUT_ANSWERED;
}

static const struct sim_api_route dhl_routes[] = {
    {"GET", "/dhl/track/shipments", true, dhl_track},
    {NULL, NULL, false, NULL},
};

const struct sim_api_courier sim_api_dhl = {
    .name = "dhl",
    .routes = dhl_routes,
    .error_ctype = "application/problem+json",
    .error_body = dhl_error,
};
