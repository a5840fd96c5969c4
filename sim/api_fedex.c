/*
 * api_fedex.c - FedEx Track API v1, as slipwatch-sim serves it
 * (../shared/couriers.md section 2; the fixtures in
 * tests/data/couriers/fedex/).
 *
 *   POST /fedex/oauth/token              form grant_type=client_credentials
 *                                        &client_id=..&client_secret=..
 *   POST /fedex/track/v1/trackingnumbers Bearer token; JSON body with
 *                                        includeDetailedScans and
 *                                        trackingInfo[1..30]
 *
 * Tokens last FEDEX_TOKEN_LIFE simulated seconds.  The answer is
 * output.completeTrackResults[], one per number asked, in order; a number
 * the world does not have (or whose first scan is still to come) is HTTP
 * 200 with trackResults[0].error TRACKING.TRACKINGNUMBER.NOTFOUND.  Errors
 * use {"transactionId","errors":[{"code","message"}]}: 401
 * NOT.AUTHORIZED.ERROR, 400 TRACKING.TRACKINGNUMBER.EMPTY (no numbers) or
 * INVALID.INPUT.EXCEPTION (bad body, more than 30 numbers: invented
 * wording, as tests/fakecourier/server.py), 503 SERVICE.UNAVAILABLE.ERROR.
 *
 * Codes (latestStatusDetail.code and scanEvents[].eventType) are from
 * FedEx's status table and read back by collector/courier/fedex.c
 * (fedex_codes): OC info_received, IT in_transit, OD out_for_delivery, DE
 * with ancillaryDetails and deliveryAttempts > 0 attempt_fail, HP
 * available_for_pickup, DL delivered, SE exception, RS returning, CA
 * cancelled.  FedEx has no code for returned (written RS: returning).
 * Scans newest-first with the parcel's local offset; the ETA is
 * dateAndTimes[ESTIMATED_DELIVERY].
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sim/api_int.h"

#define FEDEX_TOKEN_LIFE 3600
#define FEDEX_MAX_BATCH	 30

struct fedex_code {
	const char *code;
	const char *text; /* FedEx's status description */
};

static const struct fedex_code fedex_codes[SW_SHIP_LAST] = {
    [SW_SHIP_PENDING] = {"NA", "Status not available"},
    [SW_SHIP_INFO_RECEIVED] = {"OC", "Shipment information sent to FedEx"},
    [SW_SHIP_IN_TRANSIT] = {"IT", "In transit"},
    [SW_SHIP_OUT_FOR_DELIVERY] = {"OD", "On FedEx vehicle for delivery"},
    [SW_SHIP_ATTEMPT_FAIL] = {"DE", "Delivery exception"},
    [SW_SHIP_AVAILABLE_FOR_PICKUP] = {"HP", "Ready for recipient pickup"},
    [SW_SHIP_DELIVERED] = {"DL", "Delivered"},
    [SW_SHIP_EXCEPTION] = {"SE", "Shipment exception"},
    [SW_SHIP_RETURNING] = {"RS", "Return to shipper"},
    [SW_SHIP_RETURNED] = {"RS", "Returned to shipper"},
    [SW_SHIP_EXPIRED] = {"NA", "Status not available"},
    [SW_SHIP_CANCELLED] = {"CA", "Shipment cancelled by sender"},
    [SW_SHIP_UNKNOWN] = {"NA", "Status not available"},
};

static const struct fedex_code *fedex_code_of(enum sw_ship_status st)
{
	return (unsigned)st < SW_SHIP_LAST ? &fedex_codes[st] : &fedex_codes[SW_SHIP_UNKNOWN];
}

static json_t *fedex_error(enum sim_api_errkind kind, const char *detail)
{
	static const char *const codes[] = {"INVALID.INPUT.EXCEPTION", "NOT.AUTHORIZED.ERROR",
					    "NOT.FOUND.ERROR", "SERVICE.UNAVAILABLE.ERROR"};
	static const char *const msgs[] = {
	    "Invalid field value in the input",
	    "Access token expired. Please modify your request and try again.",
	    "The resource you requested is no longer available.",
	    "The service is currently unavailable and we are working to resolve the issue."};
	unsigned k = (unsigned)kind < SIM_API_ERR_LAST ? kind : SIM_API_ERR_BAD;

	return json_pack("{s:s,s:[{s:s,s:s}]}", "transactionId", "sim-fedex", "errors", "code",
			 codes[k], "message", detail ? detail : msgs[k]);
}

/* A 400 with FedEx's code and message. */
static void fedex_bad(struct sim_api_req *req, const char *code, const char *msg)
{
	sim_api_fail(req, SIM_API_ERR_BAD, msg);
	json_decref(req->reply);
	req->reply = json_pack("{s:s,s:[{s:s,s:s}]}", "transactionId", "sim-fedex", "errors",
			       "code", code, "message", msg);
}

static void fedex_token(struct sim_api_req *req)
{
	const char *ct = sim_api_header(req, "Content-Type");
	char grant[32], id[256], secret[256], tok[64];

	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
	    !sim_api_form(req->body, "grant_type", grant, sizeof(grant)) ||
	    strcmp(grant, "client_credentials") != 0) {
		fedex_bad(req, "BAD.REQUEST.ERROR",
			  "Missing or duplicate parameters. Please modify your request and try "
			  "again.");
		return;
	}
	if (!sim_api_form(req->body, "client_id", id, sizeof(id)) ||
	    !sim_api_form(req->body, "client_secret", secret, sizeof(secret)) ||
	    !sim_api_client_ok(req->api, id, secret)) {
		sim_api_fail(req, SIM_API_ERR_AUTH,
			     "The given client credentials were not valid. Please modify your "
			     "request and try again.");
		return;
	}
	sim_api_token_issue(req->api, "fedex", req->now, FEDEX_TOKEN_LIFE, tok, sizeof(tok));
	req->status = 200;
	req->reply = json_pack("{s:s,s:s,s:I,s:s}", "access_token", tok, "token_type", "bearer",
			       "expires_in", (json_int_t)FEDEX_TOKEN_LIFE, "scope", "CXS");
}

static json_t *fedex_scan(const struct sim_scan *s, int32_t off)
{
	const struct fedex_code *c = fedex_code_of(s->status);
	char ts[SIM_API_TIME_LEN];

	sim_api_fmt_time(s->at, off, ts);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s?,s:s},s:s,s:s}", "date", ts, "eventType",
			 c->code, "eventDescription", s->text && s->text[0] ? s->text : c->text,
			 "exceptionCode", "", "exceptionDescription", "", "scanLocation", "city",
			 s->city, "countryCode", "IN", "derivedStatusCode", c->code,
			 "derivedStatus", c->text);
}

static json_t *fedex_dates(const struct sim_parcel *p, const struct sim_scan *last, int32_t off)
{
	json_t *dates = json_array();
	char ts[SIM_API_TIME_LEN];

	if (p->eta > 0) {
		sim_api_fmt_time(p->eta, off, ts);
		json_array_append_new(
		    dates, json_pack("{s:s,s:s}", "type", "ESTIMATED_DELIVERY", "dateTime", ts));
	}
	if (last->status == SW_SHIP_DELIVERED) {
		sim_api_fmt_time(last->at, off, ts);
		json_array_append_new(
		    dates, json_pack("{s:s,s:s}", "type", "ACTUAL_DELIVERY", "dateTime", ts));
	}
	return dates;
}

static json_t *fedex_found(const struct sim_parcel *p, size_t vis)
{
	const struct sim_scan *last = &p->scans[vis - 1];
	const struct fedex_code *c = fedex_code_of(last->status);
	int32_t off = sim_api_offset(p);
	json_t *scans = json_array(), *latest;
	unsigned attempts = 0;
	char n_att[16];

	for (size_t i = vis; i-- > 0;) { /* newest first */
		json_array_append_new(scans, fedex_scan(&p->scans[i], off));
		attempts += p->scans[i].status == SW_SHIP_ATTEMPT_FAIL;
	}
	snprintf(n_att, sizeof(n_att), "%u", attempts);
	latest = json_pack("{s:s,s:s,s:s,s:s,s:{s:s?}}", "code", c->code, "derivedCode", c->code,
			   "statusByLocale", c->text, "description", c->text, "scanLocation",
			   "city", last->city);
	if (last->status == SW_SHIP_ATTEMPT_FAIL)
		json_object_set_new(latest, "ancillaryDetails",
				    json_pack("[{s:s,s:s,s:s}]", "reason", "08",
					      "reasonDescription",
					      "Customer not available or business closed", "action",
					      "A new delivery attempt will be made"));
	return json_pack("{s:{s:s,s:s,s:s},s:o,s:o,s:o,s:{s:s}}", "trackingNumberInfo",
			 "trackingNumber", p->tracking, "trackingNumberUniqueId", "", "carrierCode",
			 "FDXE", "latestStatusDetail", latest, "dateAndTimes",
			 fedex_dates(p, last, off), "scanEvents", scans, "deliveryDetails",
			 "deliveryAttempts", n_att);
}

static json_t *fedex_not_found(const char *num)
{
	return json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s}}", "trackingNumberInfo", "trackingNumber",
			 num, "trackingNumberUniqueId", "", "carrierCode", "", "error", "code",
			 "TRACKING.TRACKINGNUMBER.NOTFOUND", "message",
			 "Tracking number cannot be found. Please correct the tracking number "
			 "and try again.");
}

/* The numbers of a track request body into nums; false (req answered
 * 400) if the body is not as documented. */
static bool fedex_numbers(struct sim_api_req *req, json_t *root, const char **nums, size_t *ret_n)
{
	json_t *infos = json_object_get(root, "trackingInfo"), *it;
	size_t i;

	if (!json_is_array(infos) || json_array_size(infos) == 0) {
		fedex_bad(req, "TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number.");
		return false;
	}
	if (json_object_get(root, "includeDetailedScans") == NULL ||
	    json_array_size(infos) > FEDEX_MAX_BATCH) {
		fedex_bad(req, "INVALID.INPUT.EXCEPTION",
			  json_array_size(infos) > FEDEX_MAX_BATCH
			      ? "trackingInfo: at most 30 tracking numbers per request"
			      : "includeDetailedScans is required");
		return false;
	}
	json_array_foreach(infos, i, it)
	{
		const char *n = json_string_value(
		    json_object_get(json_object_get(it, "trackingNumberInfo"), "trackingNumber"));

		if (n == NULL || n[0] == '\0') {
			fedex_bad(req, "TRACKING.TRACKINGNUMBER.EMPTY",
				  "Please provide tracking number.");
			return false;
		}
		nums[i] = n;
	}
	*ret_n = json_array_size(infos);
	return true;
}

static void fedex_track(struct sim_api_req *req)
{
	const char *nums[FEDEX_MAX_BATCH], *ctid;
	json_t *root, *ctrs;
	size_t n, vis;
	bool any = false;

	if (!sim_api_bearer_ok(req)) {
		sim_api_fail(req, SIM_API_ERR_AUTH, NULL);
		return;
	}
	root = json_loadb(req->body, req->body_len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		fedex_bad(req, "INVALID.INPUT.EXCEPTION", "The request body is not a JSON object");
		return;
	}
	if (!fedex_numbers(req, root, nums, &n)) {
		json_decref(root);
		return;
	}
	ctrs = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct sim_parcel *p = sim_api_parcel(req, nums[i], &vis);

		any = any || p != NULL;
		json_array_append_new(
		    ctrs, json_pack("{s:s,s:[o]}", "trackingNumber", nums[i], "trackResults",
				    p ? fedex_found(p, vis) : fedex_not_found(nums[i])));
	}
	req->status = 200;
	req->reply = json_pack("{s:s,s:{s:o}}", "transactionId", "sim-fedex", "output",
			       "completeTrackResults", ctrs);
	ctid = sim_api_header(req, "x-customer-transaction-id");
	if (ctid != NULL && req->reply != NULL)
		json_object_set_new(req->reply, "customerTransactionId", json_string(ctid));
	req->outcome = any ? SIM_API_OUT_ANSWERED : SIM_API_OUT_NOT_FOUND;
	json_decref(root); /* nums point into it */
}

static const struct sim_api_route fedex_routes[] = {
    {"POST", "/fedex/oauth/token", false, fedex_token},
    {"POST", "/fedex/track/v1/trackingnumbers", true, fedex_track},
    {NULL, NULL, false, NULL},
};

const struct sim_api_courier sim_api_fedex = {
    .name = "fedex",
    .routes = fedex_routes,
    .error_ctype = NULL,
    .error_body = fedex_error,
};
