/*
 * ups.c - UPS Track API v1.  The API facts this file relies on, with their
 * sources: doc/couriers.md, "UPS (`ups`)".
 *
 * Auth: POST {auth_url} with HTTP Basic client_id:client_secret and body
 * grant_type=client_credentials; every field of the answer is a string,
 * expires_in included.  auth_url defaults to base_url with a trailing
 * "/api" replaced by "/security/v1/oauth/token".  Track: GET
 * {base}/track/v1/details/{number} with transId and transactionSrc
 * headers, one number per request.  Default base
 * https://onlinetools.ups.com/api.
 *
 * Not found is HTTP 200 with shipment[0].warnings[TW0001] and no package
 * (the documented 404 with the error envelope is accepted too).  Status:
 * currentStatus (live data often has only {code: "011", description}; the
 * 3-digit code is compared as an integer), its type taken from the newest
 * activity with the same code when absent, else inferred from the code;
 * then the newest activity.  Event times: gmtDate + gmtTime are UTC and
 * gmtOffset the local offset; without them date + time are a zone-unknown
 * wall clock.  Estimated delivery: deliveryDate[RDD], else [SDD], a
 * zone-less YYYYMMDD date.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "lib/xmalloc.h"

#define UPS_TOKEN_LIFE 14399
#define UPS_TRANS_SRC  "slipwatch"

static const int ofd_codes[] = {6, 21, 37, 72, 89, 91, 146, 162, -1};
static const int pickup_codes[] = {17, 40, 144, 161, -1};
static const int access_point_codes[] = {144, 161, -1};
static const int delivered_codes[] = {11, 26, 143, -1};
static const int attempt_codes[] = {22, 23, 24, 60, 61, 62, 145, -1};
static const int returning_codes[] = {33, 35, 36, 119, -1};
static const int returned_codes[] = {34, 67, -1};
static const int cancel_codes[] = {7, 43, -1};
static const int info_codes[] = {3, 157, -1};
static const int exception_codes[] = {13, 29, 59, 64, 68, 69, 81, 147, 149, -1};

static bool in_set(int64_t code, const int *set)
{
	for (; *set >= 0; set++)
		if (code == *set)
			return true;
	return false;
}

/* The activity type a bare status code implies, or NULL. */
static const char *type_of_code(int64_t code)
{
	if (code < 0)
		return NULL;
	if (in_set(code, info_codes))
		return "M";
	if (in_set(code, delivered_codes) || in_set(code, access_point_codes))
		return "D";
	if (in_set(code, attempt_codes) || in_set(code, returning_codes) ||
	    in_set(code, returned_codes) || in_set(code, exception_codes))
		return "X";
	return "I";
}

/* Maps an activity type and 3-digit status code (-1 if none). */
static enum sw_ship_status ups_map(const char *type, int64_t code)
{
	if (in_set(code, cancel_codes))
		return SW_SHIP_CANCELLED;
	if (type == NULL)
		type = type_of_code(code);
	if (type == NULL)
		return SW_SHIP_UNKNOWN;
	if (strcmp(type, "M") == 0)
		return SW_SHIP_INFO_RECEIVED;
	if (strcmp(type, "MV") == 0)
		return SW_SHIP_CANCELLED;
	if (strcmp(type, "D") == 0)
		return in_set(code, access_point_codes) ? SW_SHIP_AVAILABLE_FOR_PICKUP
							: SW_SHIP_DELIVERED;
	if (strcmp(type, "I") == 0) {
		if (in_set(code, ofd_codes))
			return SW_SHIP_OUT_FOR_DELIVERY;
		return in_set(code, pickup_codes) ? SW_SHIP_AVAILABLE_FOR_PICKUP
						  : SW_SHIP_IN_TRANSIT;
	}
	if (strcmp(type, "X") == 0) {
		if (in_set(code, attempt_codes))
			return SW_SHIP_ATTEMPT_FAIL;
		if (in_set(code, returning_codes))
			return SW_SHIP_RETURNING;
		return in_set(code, returned_codes) ? SW_SHIP_RETURNED : SW_SHIP_EXCEPTION;
	}
	if (strcmp(type, "W") == 0 || strcmp(type, "DO") == 0 || strcmp(type, "DD") == 0 ||
	    strcmp(type, "P") == 0)
		return SW_SHIP_IN_TRANSIT; /* warehousing, freight CFS, pickup */
	if (strcmp(type, "RS") == 0)
		return SW_SHIP_RETURNING;
	return SW_SHIP_UNKNOWN; /* NA, U, anything new */
}

/* The 3-digit status code of a status object: statusCode, else code when
 * it is numeric (live currentStatus); -1 if none. */
static int64_t ups_code(json_t *st)
{
	int64_t c;

	if (sw_cj_int(st, "statusCode", &c) || sw_cj_int(st, "code", &c))
		return c;
	return -1;
}

/* An activity's time: UTC from gmtDate/gmtTime with gmtOffset as the
 * written offset; else the local wall clock (at gmtOffset if given). */
static bool ups_time(json_t *act, struct sw_time *t)
{
	const char *gd = sw_cj_str(act, "gmtDate"), *gt = sw_cj_str(act, "gmtTime");
	const char *go = sw_cj_str(act, "gmtOffset");
	int32_t off = 0;
	bool has_off = go != NULL && sw_time_parse_offset(go, &off, NULL, 0) == SW_OK;

	if (gd != NULL && gt != NULL && sw_time_parse_parts(gd, gt, t, NULL, 0) == SW_OK &&
	    sw_time_assume_offset(t, 0) == SW_OK) {
		if (has_off)
			t->offset_sec = off;
		return true;
	}
	if (sw_time_parse_parts(sw_cj_str(act, "date") ? sw_cj_str(act, "date") : "",
				sw_cj_str(act, "time") ? sw_cj_str(act, "time") : "", t, NULL,
				0) != SW_OK)
		return false;
	if (has_off)
		sw_time_assume_offset(t, off);
	return true;
}

static void ups_event(struct sw_courier_result *r, json_t *act)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	const char *d = sw_cj_str(act, "date"), *tm = sw_cj_str(act, "time");
	char *raw;

	e->has_time = ups_time(act, &e->at);
	if (d != NULL) {
		raw = xasprintf("%s%s%s", d, tm ? " " : "", tm ? tm : "");
		e->raw_time = sw_courier_strdup(raw);
		free(raw);
	}
	e->status = ups_map(sw_cj_str(act, "status.type"), ups_code(sw_cj_get(act, "status")));
	e->code = sw_cj_dup(act, "status.statusCode");
	if (e->code == NULL)
		e->code = sw_cj_dup(act, "status.code");
	e->text = sw_cj_dup(act, "status.description");
	e->location = sw_cj_dup(act, "location.address.city");
}

/* The shipment status, after events are read and sorted. */
static void ups_status(struct sw_courier_result *r, json_t *pkg, json_t *acts)
{
	json_t *cs = sw_cj_get(pkg, "currentStatus"), *act;
	const char *type = sw_cj_str(cs, "type");
	int64_t code = ups_code(cs);
	size_t i;

	if (!json_is_object(cs) || (type == NULL && code < 0)) {
		if (r->n_events > 0) {
			r->status = r->events[r->n_events - 1].status;
			r->raw_code = sw_courier_strdup(r->events[r->n_events - 1].code);
			r->raw_text = sw_courier_strdup(r->events[r->n_events - 1].text);
		} else {
			r->status = SW_SHIP_UNKNOWN;
		}
		return;
	}
	/* activities are newest-first in the answer: the first match is
	 * the newest one with this code */
	json_array_foreach(acts, i, act)
	{
		if (type == NULL && ups_code(sw_cj_get(act, "status")) == code)
			type = sw_cj_str(act, "status.type");
	}
	r->status = ups_map(type, code);
	r->raw_code = sw_cj_dup(cs, "code");
	if (r->raw_code == NULL)
		r->raw_code = sw_cj_dup(cs, "statusCode");
	r->raw_text = sw_cj_dup(cs, "description");
}

static void ups_dates(struct sw_courier_result *r, json_t *pkg)
{
	json_t *dd = sw_cj_array(pkg, "deliveryDate"), *it;
	const char *sdd = NULL, *rdd = NULL;
	size_t i;

	json_array_foreach(dd, i, it)
	{
		const char *t = sw_cj_str(it, "type");

		if (t != NULL && strcmp(t, "SDD") == 0 && sdd == NULL)
			sdd = sw_cj_str(it, "date");
		if (t != NULL && strcmp(t, "RDD") == 0 && rdd == NULL)
			rdd = sw_cj_str(it, "date");
	}
	r->has_eta = sw_courier_date(rdd ? rdd : sdd, &r->eta);
	/* delivered: the newest delivered event (sorted oldest first) */
	for (i = r->n_events; i-- > 0;) {
		if (r->events[i].status == SW_SHIP_DELIVERED && r->events[i].has_time) {
			r->delivered = r->events[i].at;
			r->has_delivered = true;
			break;
		}
	}
	r->signer = sw_cj_dup(pkg, "deliveryInformation.receivedBy");
}

static void ups_shipment(struct sw_courier_result *r, json_t *sh)
{
	json_t *pkg = sw_cj_get(sh, "package.0"), *acts, *act;
	const char *wcode = sw_cj_str(sh, "warnings.0.code");
	const char *wmsg = sw_cj_str(sh, "warnings.0.message");
	size_t i;

	if (!json_is_object(pkg)) {
		if (wcode != NULL && strcmp(wcode, "TW0001") == 0)
			sw_courier_set_not_found(r, wmsg ? wmsg : wcode);
		else if (wcode != NULL)
			sw_courier_set_error(r, SW_COURIER_ERR_OTHER, "%s: %s", wcode,
					     wmsg ? wmsg : "");
		else
			sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE,
					     "shipment without package");
		return;
	}
	acts = sw_cj_get(pkg, "activity");
	if (!sw_courier_events_fit(r, acts, "activities"))
		return;
	sw_courier_set_found(r, SW_SHIP_UNKNOWN, NULL, NULL);
	json_array_foreach(acts, i, act) ups_event(r, act);
	sw_courier_finish(r);
	ups_status(r, pkg, acts);
	ups_dates(r, pkg);
}

static enum sw_err ups_parse(const struct sw_courier_response *resp, const char *const *numbers,
			     size_t n, struct sw_courier_result *res)
{
	json_t *root, *sh;
	const char *ecode;

	if (resp == NULL || numbers == NULL || res == NULL || n != 1)
		return SW_EINVAL;
	root = sw_courier_open(resp, numbers, n, res, true);
	if (root == NULL)
		return SW_OK;
	sh = sw_cj_get(root, "trackResponse.shipment.0");
	ecode = sw_cj_str(root, "response.errors.0.code");
	if (resp->http_status == 404 && ecode != NULL) {
		sw_courier_set_not_found(&res[0], sw_cj_str(root, "response.errors.0.message"));
	} else if (ecode != NULL) {
		sw_courier_set_error(&res[0],
				     strcmp(ecode, "10429") == 0 ? SW_COURIER_ERR_RATE_LIMITED
								 : SW_COURIER_ERR_OTHER,
				     "%s: %s", ecode,
				     sw_cj_str(root, "response.errors.0.message")
					 ? sw_cj_str(root, "response.errors.0.message")
					 : "");
	} else if (resp->http_status == 404) {
		sw_courier_set_error(&res[0], SW_COURIER_ERR_OTHER,
				     "HTTP 404 without an error body");
	} else if (!json_is_object(sh)) {
		sw_courier_set_error(&res[0], SW_COURIER_ERR_BAD_RESPONSE,
				     "no trackResponse.shipment");
	} else {
		ups_shipment(&res[0], sh);
	}
	json_decref(root);
	return SW_OK;
}

static enum sw_err ups_build(const struct sw_courier_conf *conf, const char *token,
			     const char *req_id, const char *const *numbers, size_t n,
			     struct sw_courier_request *ret_req)
{
	char *base, *num;
	enum sw_err rc;

	rc = sw_courier_build_start(conf, ret_req, numbers, n, sw_courier_ups.max_batch);
	if (rc != SW_OK)
		return rc;
	if (req_id != NULL && !sw_courier_cred_ok(req_id))
		return SW_EINVAL;
	if (!sw_courier_cred_ok(token))
		return SW_EAUTH;
	base = sw_courier_base(conf, sw_courier_ups.default_base_url);
	num = sw_courier_url_escape(numbers[0]);
	sw_courier_req_init(ret_req, SW_COURIER_GET,
			    xasprintf("%s/track/v1/details/%s?locale=en_US&returnSignature=false"
				      "&returnMilestones=false&returnPOD=false",
				      base, num));
	sw_courier_req_header(ret_req, "Authorization", "Bearer %s", token);
	sw_courier_req_header(ret_req, "transId", "%s", req_id ? req_id : numbers[0]);
	sw_courier_req_header(ret_req, "transactionSrc", UPS_TRANS_SRC);
	sw_courier_req_header(ret_req, "Accept", "application/json");
	free(base);
	free(num);
	return SW_OK;
}

static enum sw_err ups_build_auth(const struct sw_courier_conf *conf,
				  struct sw_courier_request *ret_req)
{
	char *base, *basic, *url;
	size_t len;

	if (conf == NULL || ret_req == NULL)
		return SW_EINVAL;
	memset(ret_req, 0, sizeof(*ret_req));
	if (!sw_courier_cred_ok(conf->api_key) || !sw_courier_cred_ok(conf->api_secret) ||
	    strchr(conf->api_key, ':') != NULL)
		return SW_EAUTH;
	if (conf->auth_url != NULL) {
		url = xstrdup(conf->auth_url);
	} else {
		base = sw_courier_base(conf, sw_courier_ups.default_base_url);
		len = strlen(base);
		if (len >= 4 && strcmp(base + len - 4, "/api") == 0)
			base[len - 4] = '\0';
		url = xasprintf("%s/security/v1/oauth/token", base);
		free(base);
	}
	sw_courier_req_init(ret_req, SW_COURIER_POST, url);
	basic = sw_courier_basic_auth(conf->api_key, conf->api_secret);
	sw_courier_req_header(ret_req, "Authorization", "Basic %s", basic);
	sw_courier_req_header(ret_req, "Content-Type", "application/x-www-form-urlencoded");
	sw_courier_req_header(ret_req, "Accept", "application/json");
	sw_courier_req_body(ret_req, xstrdup("grant_type=client_credentials"));
	free(basic);
	return SW_OK;
}

static enum sw_err ups_parse_auth(const struct sw_courier_response *resp,
				  struct sw_courier_token *ret_tok, char *errbuf, size_t errlen)
{
	return sw_courier_parse_token(resp, "access_token", UPS_TOKEN_LIFE, ret_tok, errbuf,
				      errlen);
}

const struct sw_courier sw_courier_ups = {
    SW_COURIER_ROW(ups),
    .max_batch = 1,
    .auth = SW_COURIER_AUTH_OAUTH,
    .default_base_url = "https://onlinetools.ups.com/api",
    .build_auth_request = ups_build_auth,
    .parse_auth_response = ups_parse_auth,
    .build_request = ups_build,
    .parse_response = ups_parse,
};
