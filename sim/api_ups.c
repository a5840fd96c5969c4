/*
 * api_ups.c - UPS Track API v1, as slipwatch-sim serves it
 * (../shared/couriers.md section 3; the fixtures in
 * tests/data/couriers/ups/).
 *
 *   POST /ups/security/v1/oauth/token   HTTP Basic client_id:client_secret,
 *                                       form grant_type=client_credentials
 *   GET  /ups/api/track/v1/details/N    Bearer token, transId and
 *                                       transactionSrc headers; N 7..34
 *
 * The token answer's fields are all strings (expires_in "14399"), as UPS
 * documents.  The answer is trackResponse.shipment[0].package[0] with
 * currentStatus {type, description, 3-digit code} and activity[]
 * newest-first, each with a local date/time and gmtDate/gmtTime/gmtOffset
 * (the parcel's offset), and deliveryDate[SDD] from the world's ETA.  Not
 * found is HTTP 200 with shipment[0].warnings[TW0001] and no package.
 * Errors use {"response":{"errors":[{"code","message"}]}}: 401 250002,
 * 400 TV1001 for missing transId/transactionSrc and TV1002 for a bad
 * inquiry number, token 400 10400 / 401 10401; 503 10503 (an invented
 * code, as the fake's TV1001).
 *
 * Status type and code pairs are from UPS's tables and read back by
 * collector/courier/ups.c (ups_map): M 003 info_received, I 005
 * in_transit, I 021 out_for_delivery, X 022 attempt_fail, I 040
 * available_for_pickup, D 011 delivered, X 013 exception, X 035 returning,
 * X 034 returned, MV 043 cancelled, NA unknown.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sim/api_int.h"

#define UPS_TOKEN_LIFE 14399

struct ups_code {
	const char *type;	 /* activity status.type */
	const char *status_code; /* 3-digit statusCode */
	const char *code;	 /* 2-letter activity code */
	const char *text;
};

static const struct ups_code ups_codes[SW_SHIP_LAST] = {
    [SW_SHIP_PENDING] = {"NA", "000", "NA", "Status not available"},
    [SW_SHIP_INFO_RECEIVED] = {"M", "003", "MP",
			       "Shipper created a label, UPS has not received the package yet."},
    [SW_SHIP_IN_TRANSIT] = {"I", "005", "DP", "On the Way"},
    [SW_SHIP_OUT_FOR_DELIVERY] = {"I", "021", "OT", "Out For Delivery Today"},
    [SW_SHIP_ATTEMPT_FAIL] = {"X", "022", "48",
			      "The receiver was not available at the time of the first delivery "
			      "attempt."},
    [SW_SHIP_AVAILABLE_FOR_PICKUP] = {"I", "040", "ZP", "Ready for Customer Pickup"},
    [SW_SHIP_DELIVERED] = {"D", "011", "KB", "Delivered"},
    [SW_SHIP_EXCEPTION] = {"X", "013", "X1", "Exception: action required"},
    [SW_SHIP_RETURNING] = {"X", "035", "RS", "Returning to Sender"},
    [SW_SHIP_RETURNED] = {"X", "034", "RT", "Returned to Sender"},
    [SW_SHIP_EXPIRED] = {"NA", "000", "NA", "Status not available"},
    [SW_SHIP_CANCELLED] = {"MV", "043", "MV", "Shipment voided"},
    [SW_SHIP_UNKNOWN] = {"NA", "000", "NA", "Status not available"},
};

static const struct ups_code *ups_code_of(enum sw_ship_status st)
{
	return (unsigned)st < SW_SHIP_LAST ? &ups_codes[st] : &ups_codes[SW_SHIP_UNKNOWN];
}

static json_t *ups_envelope(const char *code, const char *msg)
{
	return json_pack("{s:{s:[{s:s,s:s}]}}", "response", "errors", "code", code, "message", msg);
}

static json_t *ups_error(enum sim_api_errkind kind, const char *detail)
{
	static const char *const codes[] = {"TV1002", "250002", "TW0001", "10503"};
	static const char *const msgs[] = {"Invalid inquiry number",
					   "Invalid Authentication Information.",
					   "Tracking Information Not Found", "Service Unavailable"};
	unsigned k = (unsigned)kind < SIM_API_ERR_LAST ? kind : SIM_API_ERR_BAD;

	return ups_envelope(codes[k], detail ? detail : msgs[k]);
}

/* An error of kind with UPS's code and message. */
static void ups_fail(struct sim_api_req *req, enum sim_api_errkind kind, const char *code,
		     const char *msg)
{
	sim_api_fail(req, kind, msg);
	json_decref(req->reply);
	req->reply = ups_envelope(code, msg);
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 s into buf (NUL-terminated); false if malformed, too long
 * or containing a NUL byte. */
static bool b64_decode(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), o = 0;
	unsigned acc = 0, bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= len || ((acc >> bits) & 0xff) == 0)
				return false;
			buf[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	buf[o] = '\0';
	return true;
}

/* The client id and secret of a Basic Authorization header. */
static bool ups_basic(const struct sim_api_req *req, char *id, size_t len, const char **secret)
{
	const char *h = sim_api_header(req, "Authorization");
	char *colon;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0 || !b64_decode(h + 6, id, len))
		return false;
	colon = strchr(id, ':');
	if (colon == NULL)
		return false;
	*colon = '\0';
	*secret = colon + 1;
	return true;
}

static void ups_token(struct sim_api_req *req)
{
	char grant[32], cred[512], tok[64], life[24], issued[24];
	const char *secret = NULL;

	if (!sim_api_form(req->body, "grant_type", grant, sizeof(grant)) ||
	    strcmp(grant, "client_credentials") != 0) {
		ups_fail(req, SIM_API_ERR_BAD, "10400", "Invalid/Missing grant_type");
		return;
	}
	if (!ups_basic(req, cred, sizeof(cred), &secret) ||
	    !sim_api_client_ok(req->api, cred, secret)) {
		ups_fail(req, SIM_API_ERR_AUTH, "10401", "ClientId is Invalid");
		return;
	}
	sim_api_token_issue(req->api, "ups", req->now, UPS_TOKEN_LIFE, tok, sizeof(tok));
	snprintf(life, sizeof(life), "%d", UPS_TOKEN_LIFE);
	snprintf(issued, sizeof(issued), "%lld", (long long)req->now * 1000);
	req->status = 200;
	req->reply = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "token_type", "Bearer",
			       "issued_at", issued, "client_id", cred, "access_token", tok, "scope",
			       "", "expires_in", life, "refresh_count", "0", "status", "approved");
}

static json_t *ups_activity(const struct sim_scan *s, int32_t off)
{
	const struct ups_code *c = ups_code_of(s->status);
	char date[16], tm[16], gdate[16], gtm[16], goff[8];
	struct tm local, utc;

	sim_api_tm(s->at, off, &local);
	sim_api_tm(s->at, 0, &utc);
	strftime(date, sizeof(date), "%Y%m%d", &local);
	strftime(tm, sizeof(tm), "%H%M%S", &local);
	strftime(gdate, sizeof(gdate), "%Y%m%d", &utc);
	strftime(gtm, sizeof(gtm), "%H:%M:%S", &utc);
	sim_api_fmt_offset(off, goff, sizeof(goff));
	return json_pack("{s:{s:{s:s?,s:s,s:s}},s:{s:s,s:s,s:s,s:s},s:s,s:s,s:s,s:s,s:s}",
			 "location", "address", "city", s->city, "countryCode", "IN", "country",
			 "IN", "status", "type", c->type, "description",
			 s->text && s->text[0] ? s->text : c->text, "code", c->code, "statusCode",
			 c->status_code, "date", date, "time", tm, "gmtDate", gdate, "gmtOffset",
			 goff, "gmtTime", gtm);
}

static json_t *ups_package(const struct sim_parcel *p, size_t vis)
{
	const struct sim_scan *last = &p->scans[vis - 1];
	const struct ups_code *c = ups_code_of(last->status);
	int32_t off = sim_api_offset(p);
	json_t *acts = json_array(), *dates = json_array();
	char date[16];
	struct tm tm;

	for (size_t i = vis; i-- > 0;) /* newest first */
		json_array_append_new(acts, ups_activity(&p->scans[i], off));
	if (p->eta > 0) {
		sim_api_tm(p->eta, off, &tm);
		strftime(date, sizeof(date), "%Y%m%d", &tm);
		json_array_append_new(dates, json_pack("{s:s,s:s}", "type", "SDD", "date", date));
	}
	if (last->status == SW_SHIP_DELIVERED) {
		sim_api_tm(last->at, off, &tm);
		strftime(date, sizeof(date), "%Y%m%d", &tm);
		json_array_append_new(dates, json_pack("{s:s,s:s}", "type", "DEL", "date", date));
	}
	return json_pack("{s:s,s:o,s:{s:s},s:o,s:{s:s,s:s,s:s},s:i}", "trackingNumber", p->tracking,
			 "deliveryDate", dates, "deliveryTime", "type", "EOD", "activity", acts,
			 "currentStatus", "type", c->type, "description", c->text, "code",
			 c->status_code, "packageCount", 1);
}

static void ups_track(struct sim_api_req *req)
{
	const char *tid = sim_api_header(req, "transId");
	const char *src = sim_api_header(req, "transactionSrc");
	const char *num = req->param;
	size_t len = strlen(num), vis;
	const struct sim_parcel *p;

	if (!sim_api_bearer_ok(req)) {
		sim_api_fail(req, SIM_API_ERR_AUTH, NULL);
		return;
	}
	if (tid == NULL || tid[0] == '\0' || src == NULL || src[0] == '\0') {
		ups_fail(req, SIM_API_ERR_BAD, "TV1001",
			 "Missing or invalid transId or transactionSrc header");
		return;
	}
	if (len < 7 || len > 34) {
		sim_api_fail(req, SIM_API_ERR_BAD, NULL);
		return;
	}
	p = sim_api_parcel(req, num, &vis);
	req->status = 200;
	if (p == NULL) {
		req->reply = json_pack("{s:{s:[{s:s,s:[{s:s,s:s}]}]}}", "trackResponse", "shipment",
				       "inquiryNumber", num, "warnings", "code", "TW0001",
				       "message", "Tracking Information Not Found");
		req->outcome = SIM_API_OUT_NOT_FOUND;
		return;
	}
	req->reply = json_pack("{s:{s:[{s:s,s:[o]}]}}", "trackResponse", "shipment",
			       "inquiryNumber", num, "package", ups_package(p, vis));
	req->outcome = SIM_API_OUT_ANSWERED;
}

static const struct sim_api_route ups_routes[] = {
    {"POST", "/ups/security/v1/oauth/token", false, ups_token},
    {"GET", "/ups/api/track/v1/details/", true, ups_track},
    {NULL, NULL, false, NULL},
};

const struct sim_api_courier sim_api_ups = {
    .name = "ups",
    .routes = ups_routes,
    .error_ctype = NULL,
    .error_body = ups_error,
};
