/*
 * shiprocket.c - Shiprocket tracking.  The API facts this file relies on,
 * with their sources: doc/couriers.md, "Shiprocket (`shiprocket`)".
 *
 * Auth: POST {base}/v1/external/auth/login with {"email","password"}; the
 * answer's "token" is valid for 10 days (no expires_in is sent).  Track:
 * one number is GET {base}/v1/external/courier/track/awb/{awb}; two to 50
 * are POST {base}/v1/external/courier/track/awbs {"awbs":[...]}, answered
 * by an object keyed by AWB whose values hold "tracking_data" (an array of
 * such objects is accepted too; the batch shape is not in the fixtures).
 * A number missing from a batch answer about others is asked again
 * (errkind batch), never "not found".  Default base
 * https://apiv2.shiprocket.in.
 *
 * A missing AWB is HTTP 404 {"message","status_code":404} (couriers.md
 * 5a): "not found" on the single endpoint, and for an entry of a batch
 * object.  The same 404 for the batch endpoint as a whole names no AWB:
 * every AWB is "batch" (asked again in halves, until the unknown one is
 * alone and its own 404 says "not found"), so one unknown AWB never marks
 * its neighbours not found.  A 404 without that body (a wrong base_url, an
 * HTML page) is a request error.  After a return to origin (returning,
 * returned) etd is the forward delivery's estimate and is dropped.
 *
 * "No activities yet" is HTTP 200 with track_status 0 and an error text:
 * that is FOUND and pending (EXPECTED.md), not an error.  A missing AWB is
 * HTTP 404 {"message","status_code":404}.  Status: shipment_status (an
 * integer; the webhook's current_status_id scheme is not used), else the
 * newest activity's sr-status (a string, "NA" for unmapped).  Times are
 * "YYYY-MM-DD HH:MM:SS" without a zone, read as IST (+05:30) as
 * EXPECTED.md says; an explicit offset, if one ever appears, wins.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "lib/xmalloc.h"

#define SR_TOKEN_LIFE (10 * 86400)
#define SR_IST	      (5 * 3600 + 30 * 60)

struct sr_map {
	int codes[10]; /* 0-terminated (0 is not a status) */
	enum sw_ship_status status;
};

static const struct sr_map sr_codes[] = {
    {{5, 52, 27}, SW_SHIP_INFO_RECEIVED},
    {{19, 13, 15, 20}, SW_SHIP_PENDING},
    {{6, 42, 18, 38, 48, 50, 51, 49, 22}, SW_SHIP_IN_TRANSIT},
    {{17}, SW_SHIP_OUT_FOR_DELIVERY},
    {{21}, SW_SHIP_ATTEMPT_FAIL},
    {{7, 23, 26, 43}, SW_SHIP_DELIVERED},
    {{9, 14, 40, 41, 46}, SW_SHIP_RETURNING},
    {{10}, SW_SHIP_RETURNED},
    {{12, 24, 25, 39, 44, 47}, SW_SHIP_EXCEPTION},
    {{8, 16, 45}, SW_SHIP_CANCELLED},
};

static enum sw_ship_status sr_map(json_t *node, const char *path)
{
	int64_t code;

	if (!sw_cj_int(node, path, &code) || code <= 0)
		return SW_SHIP_UNKNOWN;
	for (size_t i = 0; i < sizeof(sr_codes) / sizeof(sr_codes[0]); i++)
		for (size_t j = 0; j < 10 && sr_codes[i].codes[j] != 0; j++)
			if (code == sr_codes[i].codes[j])
				return sr_codes[i].status;
	return SW_SHIP_UNKNOWN;
}

/* A Shiprocket time: IST unless an offset is written. */
static bool sr_time(const char *s, struct sw_time *t)
{
	if (!sw_courier_time(s, t))
		return false;
	if (t->flags & SW_TIME_ZONE_UNKNOWN)
		sw_time_assume_offset(t, SR_IST);
	return true;
}

static void sr_event(struct sw_courier_result *r, json_t *act)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	const char *ts = sw_cj_str(act, "date");

	e->has_time = sr_time(ts, &e->at);
	e->raw_time = sw_courier_strdup(ts);
	e->status = sr_map(act, "sr-status");
	e->code = sw_cj_dup(act, "status");
	e->text = sw_cj_dup(act, "activity");
	e->location = sw_cj_dup(act, "location");
}

static void sr_tracking(struct sw_courier_result *r, json_t *td)
{
	json_t *acts = sw_cj_get(td, "shipment_track_activities"), *act;
	int64_t track_status = 1, code;
	const char *eta;
	char raw[24];
	size_t i;

	if (!json_is_object(td)) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE,
				     "tracking_data is not an object");
		return;
	}
	if (!sw_courier_events_fit(r, acts, "shipment_track_activities"))
		return;
	sw_cj_int(td, "track_status", &track_status);
	if (track_status == 0 && json_array_size(acts) == 0) {
		sw_courier_set_found(r, SW_SHIP_PENDING, NULL, sw_cj_str(td, "error"));
		return;
	}
	raw[0] = '\0';
	if (sw_cj_int(td, "shipment_status", &code))
		snprintf(raw, sizeof(raw), "%lld", (long long)code);
	sw_courier_set_found(r, sr_map(td, "shipment_status"), raw[0] ? raw : NULL,
			     sw_cj_str(td, "shipment_track.0.current_status"));
	json_array_foreach(acts, i, act) sr_event(r, act);
	sw_courier_finish(r);
	if (raw[0] == '\0' && r->n_events > 0)
		r->status = r->events[r->n_events - 1].status;
	eta = sw_cj_str(td, "etd");
	if (eta == NULL)
		eta = sw_cj_str(td, "shipment_track.0.edd");
	/* etd is the forward delivery's: stale once the parcel goes back */
	if (r->status != SW_SHIP_RETURNING && r->status != SW_SHIP_RETURNED)
		r->has_eta = sw_courier_date(eta, &r->eta);
	r->has_delivered = sr_time(sw_cj_str(td, "shipment_track.0.delivered_date"), &r->delivered);
}

/* A body-level error ({"message","status_code"}) sent with any HTTP
 * status; true if root was one and r is set. */
static bool sr_body_error(struct sw_courier_result *r, json_t *root)
{
	int64_t sc;
	const char *msg = sw_cj_str(root, "message");
	enum sw_courier_errkind kind = SW_COURIER_ERR_OTHER;

	if (!sw_cj_int(root, "status_code", &sc))
		return false;
	if (sc == 404) {
		sw_courier_set_not_found(r, msg);
		return true;
	}
	if (sc == 429)
		kind = SW_COURIER_ERR_RATE_LIMITED;
	else if (sc == 401 || sc == 403)
		kind = SW_COURIER_ERR_UNAUTHORIZED;
	else if (sc >= 500 && sc <= 599)
		kind = SW_COURIER_ERR_SERVER;
	sw_courier_set_error(r, kind, "status_code %lld: %s", (long long)sc, msg ? msg : "");
	return true;
}

/* One entry of a batch answer: {"<awb>": {"tracking_data": ...}, ...}. */
static void sr_batch_object(json_t *obj, const char *const *numbers, size_t n,
			    struct sw_courier_result *res, bool *seen)
{
	if (!json_is_object(obj))
		return;
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val)
	{
		long k = sw_courier_find_number(numbers, n, key);
		json_t *td = sw_cj_get(val, "tracking_data");

		if (k < 0 || seen[k])
			continue;
		seen[k] = true;
		if (sr_body_error(&res[k], val))
			continue;
		sr_tracking(&res[k], td ? td : val);
	}
}

/* AWBs left out of a batch answer about others: asked again (batch). */
static void sr_unseen(const char *const *numbers, size_t n, struct sw_courier_result *res,
		      const bool *seen)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += seen[i];
	for (size_t i = 0; k > 0 && i < n; i++)
		if (!seen[i])
			sw_courier_set_error(&res[i], SW_COURIER_ERR_BATCH, "%s: %s", numbers[i],
					     "AWB not in the courier's answer");
}

static enum sw_err sr_parse(const struct sw_courier_response *resp, const char *const *numbers,
			    size_t n, struct sw_courier_result *res)
{
	bool seen[SW_COURIER_BATCH_MAX] = {false};
	json_t *root, *td, *it;
	size_t i;

	if (resp == NULL || numbers == NULL || res == NULL || n == 0 ||
	    n > sw_courier_shiprocket.max_batch)
		return SW_EINVAL;
	root = sw_courier_open(resp, numbers, n, res, true);
	if (root == NULL)
		return SW_OK;
	td = sw_cj_get(root, "tracking_data");
	if (n > 1 && json_is_object(root) && resp->http_status == 404 &&
	    sw_cj_get(root, "status_code") != NULL) {
		/* the batch endpoint's 404 for one unknown AWB among good ones:
		 * no word on any; resent in halves until the unknown one is
		 * asked alone, where its 404 is "not found" */
		sw_courier_set_refused(resp, numbers, n, res);
	} else if (json_is_object(root) && sw_cj_get(root, "status_code") != NULL) {
		for (i = 0; i < n; i++)
			if (!sr_body_error(&res[i], root))
				sw_courier_set_error(&res[i], SW_COURIER_ERR_BAD_RESPONSE,
						     "bad status_code");
	} else if (resp->http_status == 404) {
		sw_courier_set_error_all(res, n, SW_COURIER_ERR_OTHER,
					 "HTTP 404 without status_code");
	} else if (td != NULL && n == 1) {
		sr_tracking(&res[0], td);
	} else if (json_is_object(root) && td == NULL) {
		sr_batch_object(root, numbers, n, res, seen);
	} else if (json_is_array(root)) {
		json_array_foreach(root, i, it) sr_batch_object(it, numbers, n, res, seen);
	} else {
		sw_courier_set_error_all(res, n, SW_COURIER_ERR_BAD_RESPONSE,
					 "unexpected answer shape");
	}
	sr_unseen(numbers, n, res, seen);
	json_decref(root);
	return SW_OK;
}

static enum sw_err sr_build(const struct sw_courier_conf *conf, const char *token,
			    const char *req_id, const char *const *numbers, size_t n,
			    struct sw_courier_request *ret_req)
{
	json_t *awbs, *body;
	char *base, *num, *text;
	enum sw_err rc;

	(void)req_id;
	rc = sw_courier_build_start(conf, ret_req, numbers, n, sw_courier_shiprocket.max_batch);
	if (rc != SW_OK)
		return rc;
	if (!sw_courier_cred_ok(token))
		return SW_EAUTH;
	base = sw_courier_base(conf, sw_courier_shiprocket.default_base_url);
	if (n == 1) {
		num = sw_courier_url_escape(numbers[0]);
		sw_courier_req_init(ret_req, SW_COURIER_GET,
				    xasprintf("%s/v1/external/courier/track/awb/%s", base, num));
		free(num);
	} else {
		awbs = json_array();
		for (size_t i = 0; i < n; i++)
			if (json_array_append_new(awbs, json_string(numbers[i])) != 0)
				break; /* not valid UTF-8 */
		body = json_array_size(awbs) == n ? json_pack("{s:O}", "awbs", awbs) : NULL;
		text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(awbs);
		json_decref(body);
		if (text == NULL) {
			free(base);
			return SW_EINVAL;
		}
		sw_courier_req_init(ret_req, SW_COURIER_POST,
				    xasprintf("%s/v1/external/courier/track/awbs", base));
		sw_courier_req_header(ret_req, "Content-Type", "application/json");
		sw_courier_req_body(ret_req, xstrdup(text));
		free(text);
	}
	sw_courier_req_header(ret_req, "Authorization", "Bearer %s", token);
	sw_courier_req_header(ret_req, "Accept", "application/json");
	free(base);
	return SW_OK;
}

static enum sw_err sr_build_auth(const struct sw_courier_conf *conf,
				 struct sw_courier_request *ret_req)
{
	json_t *body;
	char *base, *text;

	if (conf == NULL || ret_req == NULL)
		return SW_EINVAL;
	memset(ret_req, 0, sizeof(*ret_req));
	if (!sw_courier_cred_ok(conf->username) || !sw_courier_cred_ok(conf->password))
		return SW_EAUTH;
	body = json_pack("{s:s,s:s}", "email", conf->username, "password", conf->password);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL)
		return SW_EAUTH; /* not valid UTF-8 */
	base = sw_courier_base(conf, sw_courier_shiprocket.default_base_url);
	sw_courier_req_init(ret_req, SW_COURIER_POST,
			    conf->auth_url ? xstrdup(conf->auth_url)
					   : xasprintf("%s/v1/external/auth/login", base));
	sw_courier_req_header(ret_req, "Content-Type", "application/json");
	sw_courier_req_header(ret_req, "Accept", "application/json");
	sw_courier_req_body(ret_req, xstrdup(text));
	free(text);
	free(base);
	return SW_OK;
}

static enum sw_err sr_parse_auth(const struct sw_courier_response *resp,
				 struct sw_courier_token *ret_tok, char *errbuf, size_t errlen)
{
	return sw_courier_parse_token(resp, "token", SR_TOKEN_LIFE, ret_tok, errbuf, errlen);
}

const struct sw_courier sw_courier_shiprocket = {
    SW_COURIER_ROW(shiprocket),
    .max_batch = 50,
    .auth = SW_COURIER_AUTH_LOGIN,
    .default_base_url = "https://apiv2.shiprocket.in",
    .build_auth_request = sr_build_auth,
    .parse_auth_response = sr_parse_auth,
    .build_request = sr_build,
    .parse_response = sr_parse,
};
