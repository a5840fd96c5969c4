/*
 * fedex.c - FedEx Track API v1.  The API facts this file relies on, with
 * their sources: doc/couriers.md, "FedEx (`fedex`)".
 *
 * Auth: POST {base}/oauth/token, form-encoded client credentials, bearer
 * token of about 60 minutes.  Track: POST {base}/track/v1/trackingnumbers
 * with up to 30 numbers in one JSON body.  Default base
 * https://apis.fedex.com.
 *
 * The answer is output.completeTrackResults[], one per number, each with
 * trackResults[] (several when a number was reused: the first without an
 * error is used).  Not found is HTTP 200 with trackResults[0].error
 * TRACKING.TRACKINGNUMBER.NOTFOUND; any other per-number error there
 * (TRACKING.TRACKINGNUMBER.INVALID) is that number's rejection, and a
 * number left out of an answer about the others is asked again (batch).
 * A whole-batch 400 names the bad number in its message: that one is
 * rejected, the others resent (sw_courier_set_refused).  Status: latestStatusDetail.code, then
 * .derivedCode, then the newest scan; DE is attempt_fail when an ancillary
 * reason or deliveryAttempts > 0 shows an attempt.  Events map on
 * eventType, never on derivedStatusCode (live data has OD with derived IT).
 * A scan without an offset stays zone-unknown.  Estimated delivery, as a
 * date as written: dateAndTimes[ESTIMATED_DELIVERY], else
 * estimatedDeliveryTimeWindow.window.ends, else
 * standardTransitTimeWindow.window.ends.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "lib/xmalloc.h"

#define FEDEX_TOKEN_LIFE 3600

struct code_map {
	const char *codes; /* space-separated, with leading and trailing space */
	enum sw_ship_status status;
};

static const struct code_map fedex_codes[] = {
    {" OC OX EP IN ", SW_SHIP_INFO_RECEIVED},
    {" PU PX AA AC AD AF AR AX DP EA EO FD IT IX LO OW PF PL PM SF TR CC CP PD DD DY ",
     SW_SHIP_IN_TRANSIT},
    {" OD ED ", SW_SHIP_OUT_FOR_DELIVERY},
    {" HL HP ", SW_SHIP_AVAILABLE_FOR_PICKUP},
    {" DL ", SW_SHIP_DELIVERED},
    {" DE SE CD ", SW_SHIP_EXCEPTION},
    {" RS ", SW_SHIP_RETURNING},
    {" CA ", SW_SHIP_CANCELLED},
};

static enum sw_ship_status fedex_map(const char *code)
{
	char key[8];

	if (code == NULL || strlen(code) > 4)
		return SW_SHIP_UNKNOWN;
	for (const char *c = code; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c))
			return SW_SHIP_UNKNOWN;
	snprintf(key, sizeof(key), " %s ", code);
	for (size_t i = 0; i < sizeof(fedex_codes) / sizeof(fedex_codes[0]); i++)
		if (strcasestr(fedex_codes[i].codes, key) != NULL)
			return fedex_codes[i].status;
	return SW_SHIP_UNKNOWN;
}

/* DE with signs of a failed attempt is attempt_fail. */
static bool fedex_attempted(json_t *tr)
{
	json_t *anc = sw_cj_array(tr, "latestStatusDetail.ancillaryDetails");
	int64_t attempts = 0;

	return (anc != NULL && json_array_size(anc) > 0) ||
	       (sw_cj_int(tr, "deliveryDetails.deliveryAttempts", &attempts) && attempts > 0);
}

static void fedex_event(struct sw_courier_result *r, json_t *ev)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	const char *ts = sw_cj_str(ev, "date");

	e->has_time = sw_courier_time(ts, &e->at);
	e->raw_time = sw_courier_strdup(ts);
	e->code = sw_cj_dup(ev, "eventType");
	e->status = fedex_map(e->code);
	e->text = sw_cj_dup(ev, "eventDescription");
	e->location = sw_cj_dup(ev, "scanLocation.city");
}

static const char *fedex_date_of(json_t *tr, const char *type)
{
	json_t *dt = sw_cj_array(tr, "dateAndTimes"), *it;
	size_t i;

	json_array_foreach(dt, i, it)
	{
		const char *t = sw_cj_str(it, "type");

		if (t != NULL && strcmp(t, type) == 0)
			return sw_cj_str(it, "dateTime");
	}
	return NULL;
}

static void fedex_found(struct sw_courier_result *r, json_t *tr)
{
	json_t *scans = sw_cj_get(tr, "scanEvents"), *ev;
	const char *code = sw_cj_str(tr, "latestStatusDetail.code");
	enum sw_ship_status st = fedex_map(code);
	const char *eta;
	size_t i;

	if (!sw_courier_events_fit(r, scans, "scanEvents"))
		return;
	if (st == SW_SHIP_UNKNOWN && sw_cj_str(tr, "latestStatusDetail.derivedCode") != NULL) {
		code = sw_cj_str(tr, "latestStatusDetail.derivedCode");
		st = fedex_map(code);
	}
	if (code != NULL && strcasecmp(code, "DE") == 0 && fedex_attempted(tr))
		st = SW_SHIP_ATTEMPT_FAIL;
	sw_courier_set_found(r, st, code, sw_cj_str(tr, "latestStatusDetail.description"));
	json_array_foreach(scans, i, ev) fedex_event(r, ev);
	sw_courier_finish(r);
	if (code == NULL && r->n_events > 0) {
		/* no shipment-level status at all: the newest scan's */
		r->status = r->events[r->n_events - 1].status;
		r->raw_code = sw_courier_strdup(r->events[r->n_events - 1].code);
	}
	eta = fedex_date_of(tr, "ESTIMATED_DELIVERY");
	if (eta == NULL)
		eta = sw_cj_str(tr, "estimatedDeliveryTimeWindow.window.ends");
	if (eta == NULL)
		eta = sw_cj_str(tr, "standardTransitTimeWindow.window.ends");
	r->has_eta = sw_courier_date(eta, &r->eta);
	r->has_delivered = sw_courier_time(fedex_date_of(tr, "ACTUAL_DELIVERY"), &r->delivered);
	r->signer = sw_cj_dup(tr, "deliveryDetails.signedByName");
	if (r->signer == NULL)
		r->signer = sw_cj_dup(tr, "deliveryDetails.receivedByName");
}

static void fedex_one(struct sw_courier_result *r, json_t *ctr)
{
	json_t *trs = sw_cj_array(ctr, "trackResults"), *tr, *pick = NULL;
	const char *ecode, *emsg;
	size_t i;

	json_array_foreach(trs, i, tr)
	{
		if (json_is_object(tr) && sw_cj_get(tr, "error") == NULL) {
			pick = tr;
			break;
		}
	}
	if (pick != NULL) {
		fedex_found(r, pick);
		return;
	}
	tr = json_array_get(trs, 0);
	ecode = sw_cj_str(tr, "error.code");
	emsg = sw_cj_str(tr, "error.message");
	if (ecode != NULL && strstr(ecode, "NOTFOUND") != NULL)
		sw_courier_set_not_found(r, emsg ? emsg : ecode);
	else if (ecode != NULL) /* about this number only (INVALID, ...) */
		sw_courier_set_error(r, SW_COURIER_ERR_REJECTED, "%s: %s", ecode, emsg ? emsg : "");
	else
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE, "no usable trackResults");
}

static enum sw_err fedex_parse(const struct sw_courier_response *resp, const char *const *numbers,
			       size_t n, struct sw_courier_result *res)
{
	bool seen[SW_COURIER_BATCH_MAX] = {false};
	json_t *root, *ctrs, *ctr;
	size_t i, n_seen = 0;
	char *msg;

	if (resp == NULL || numbers == NULL || res == NULL || n == 0 ||
	    n > sw_courier_fedex.max_batch)
		return SW_EINVAL;
	root = sw_courier_open(resp, numbers, n, res, false);
	if (root == NULL)
		return SW_OK;
	ctrs = sw_cj_array(root, "output.completeTrackResults");
	if (ctrs == NULL) {
		msg = sw_courier_body_message(root);
		sw_courier_set_error_all(res, n,
					 msg ? SW_COURIER_ERR_OTHER : SW_COURIER_ERR_BAD_RESPONSE,
					 "%s", msg ? msg : "no output.completeTrackResults");
		free(msg);
	}
	json_array_foreach(ctrs, i, ctr)
	{
		long k = sw_courier_find_number(numbers, n, sw_cj_str(ctr, "trackingNumber"));

		/* the first answer for a number wins; later duplicates and
		 * numbers not asked are ignored */
		if (k >= 0 && !seen[k]) {
			seen[k] = true;
			n_seen++;
			fedex_one(&res[k], ctr);
		}
	}
	/* numbers left out of an answer about the others: asked again */
	for (i = 0; n_seen > 0 && i < n; i++)
		if (!seen[i])
			sw_courier_set_error(&res[i], SW_COURIER_ERR_BATCH,
					     "number not in the courier's answer");
	json_decref(root);
	return SW_OK;
}

static enum sw_err fedex_build(const struct sw_courier_conf *conf, const char *token,
			       const char *req_id, const char *const *numbers, size_t n,
			       struct sw_courier_request *ret_req)
{
	json_t *body, *infos;
	char *base, *text;
	enum sw_err rc;

	rc = sw_courier_build_start(conf, ret_req, numbers, n, sw_courier_fedex.max_batch);
	if (rc != SW_OK)
		return rc;
	if (req_id != NULL && !sw_courier_cred_ok(req_id))
		return SW_EINVAL;
	if (!sw_courier_cred_ok(token))
		return SW_EAUTH;
	infos = json_array();
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(infos, json_pack("{s:{s:s}}", "trackingNumberInfo",
							   "trackingNumber", numbers[i])) != 0)
			break; /* not valid UTF-8 */
	body = json_array_size(infos) == n
		   ? json_pack("{s:b,s:O}", "includeDetailedScans", 1, "trackingInfo", infos)
		   : NULL;
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(infos);
	json_decref(body);
	if (text == NULL)
		return SW_EINVAL; /* a number that is not valid UTF-8 */
	base = sw_courier_base(conf, sw_courier_fedex.default_base_url);
	sw_courier_req_init(ret_req, SW_COURIER_POST,
			    xasprintf("%s/track/v1/trackingnumbers", base));
	sw_courier_req_header(ret_req, "Authorization", "Bearer %s", token);
	sw_courier_req_header(ret_req, "Content-Type", "application/json");
	sw_courier_req_header(ret_req, "Accept", "application/json");
	sw_courier_req_header(ret_req, "X-locale", "en_US");
	sw_courier_req_header(ret_req, "x-customer-transaction-id", "%s",
			      req_id ? req_id : numbers[0]);
	sw_courier_req_body(ret_req, xstrdup(text));
	free(text);
	free(base);
	return SW_OK;
}

static enum sw_err fedex_build_auth(const struct sw_courier_conf *conf,
				    struct sw_courier_request *ret_req)
{
	char *base, *id, *secret;

	if (conf == NULL || ret_req == NULL)
		return SW_EINVAL;
	memset(ret_req, 0, sizeof(*ret_req));
	if (!sw_courier_cred_ok(conf->api_key) || !sw_courier_cred_ok(conf->api_secret))
		return SW_EAUTH;
	base = sw_courier_base(conf, sw_courier_fedex.default_base_url);
	sw_courier_req_init(ret_req, SW_COURIER_POST,
			    conf->auth_url ? xstrdup(conf->auth_url)
					   : xasprintf("%s/oauth/token", base));
	sw_courier_req_header(ret_req, "Content-Type", "application/x-www-form-urlencoded");
	sw_courier_req_header(ret_req, "Accept", "application/json");
	id = sw_courier_url_escape(conf->api_key);
	secret = sw_courier_url_escape(conf->api_secret);
	sw_courier_req_body(
	    ret_req,
	    xasprintf("grant_type=client_credentials&client_id=%s&client_secret=%s", id, secret));
	free(id);
	free(secret);
	free(base);
	return SW_OK;
}

static enum sw_err fedex_parse_auth(const struct sw_courier_response *resp,
				    struct sw_courier_token *ret_tok, char *errbuf, size_t errlen)
{
	return sw_courier_parse_token(resp, "access_token", FEDEX_TOKEN_LIFE, ret_tok, errbuf,
				      errlen);
}

const struct sw_courier sw_courier_fedex = {
    SW_COURIER_ROW(fedex),
    .max_batch = 30,
    .auth = SW_COURIER_AUTH_OAUTH,
    .default_base_url = "https://apis.fedex.com",
    .build_auth_request = fedex_build_auth,
    .parse_auth_response = fedex_parse_auth,
    .build_request = fedex_build,
    .parse_response = fedex_parse,
};
