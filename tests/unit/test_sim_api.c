/*
 * test_sim_api.c - slipwatch-sim's courier APIs (sim/api*.c) read back by
 * slipwatch's own courier adapters (collector/courier/).
 *
 * The test builds a small world of its own (struct sim_world and the three
 * world functions are defined here; the program is built from the
 * sim/api*.c sources, not from sim/libswsim.a, so the real world.c is not
 * linked), starts the server on a loopback port chosen by the system, and
 * drives it on a stepped clock with real HTTP requests (libcurl) that the
 * adapters themselves build (build_auth_request, build_request).  Every
 * answer goes through the adapter's parse_response:
 *   - for each courier and each canonical status a parcel ends in, the
 *     adapter gives back the status the courier can express (a table),
 *     the newest visible scan as latest (UTC and offset), every visible
 *     scan and no future one, and the world's ETA as a local date;
 *   - a number the world lacks, and a parcel whose first scan is still to
 *     come, are not found (then found once the clock reaches the scan);
 *   - an outage is 503 (server error), bad credentials and an expired
 *     token 401 (unauthorized), missing UPS headers and a FedEx batch of
 *     31 numbers 400 (rejected / batch), each in the courier's envelope;
 *   - the counters add up.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "collector/courier/common.h"
#include "lib/clock.h"
#include "lib/xmalloc.h"
#include "sim/api.h"
#include "sim/api_int.h"
#include "sim/world.h"
#include "slipwatch/courier.h"
#include "tap.h"

#define HOUR 3600
#define BASE 1796083200 /* 2026-12-01T00:00:00Z */
#define NOW0 (BASE + 3 * HOUR)
#define IST  (5 * HOUR + 30 * 60)
#define NPT  (5 * HOUR + 45 * 60)

/* ---- the test's world --------------------------------------------------- */

struct outage {
	const char *courier;
	int64_t from, to;
};

struct sim_world {
	struct sim_parcel *parcels;
	size_t n;
	const struct outage *outages;
};

static const struct outage outages[] = {
    {"dhl", BASE + 5 * HOUR, BASE + 6 * HOUR},
    {"fedex", BASE + 5 * HOUR, BASE + 6 * HOUR},
    {"ups", BASE + 5 * HOUR, BASE + 6 * HOUR},
    {NULL, 0, 0},
};

const struct sim_parcel *sim_world_parcel(const struct sim_world *w, const char *courier,
					  const char *tracking)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->parcels[i].courier, courier) == 0 &&
		    strcmp(w->parcels[i].tracking, tracking) == 0)
			return &w->parcels[i];
	return NULL;
}

enum sim_api_state sim_world_api_state(const struct sim_world *w, const char *courier, int64_t now)
{
	for (const struct outage *o = w->outages; o->courier; o++)
		if (strcmp(o->courier, courier) == 0 && now >= o->from && now < o->to)
			return SIM_API_DOWN;
	return SIM_API_UP;
}

/* What each courier's adapter reads back for a parcel ending in a status
 * (the courier has no code for some: documented in sim/api_<name>.c). */
struct status_case {
	enum sw_ship_status world;
	enum sw_ship_status dhl, fedex, ups;
};

static const struct status_case status_cases[] = {
    {SW_SHIP_INFO_RECEIVED, SW_SHIP_INFO_RECEIVED, SW_SHIP_INFO_RECEIVED, SW_SHIP_INFO_RECEIVED},
    {SW_SHIP_IN_TRANSIT, SW_SHIP_IN_TRANSIT, SW_SHIP_IN_TRANSIT, SW_SHIP_IN_TRANSIT},
    {SW_SHIP_OUT_FOR_DELIVERY, SW_SHIP_OUT_FOR_DELIVERY, SW_SHIP_OUT_FOR_DELIVERY,
     SW_SHIP_OUT_FOR_DELIVERY},
    {SW_SHIP_ATTEMPT_FAIL, SW_SHIP_ATTEMPT_FAIL, SW_SHIP_ATTEMPT_FAIL, SW_SHIP_ATTEMPT_FAIL},
    {SW_SHIP_AVAILABLE_FOR_PICKUP, SW_SHIP_AVAILABLE_FOR_PICKUP, SW_SHIP_AVAILABLE_FOR_PICKUP,
     SW_SHIP_AVAILABLE_FOR_PICKUP},
    {SW_SHIP_DELIVERED, SW_SHIP_DELIVERED, SW_SHIP_DELIVERED, SW_SHIP_DELIVERED},
    {SW_SHIP_EXCEPTION, SW_SHIP_EXCEPTION, SW_SHIP_EXCEPTION, SW_SHIP_EXCEPTION},
    {SW_SHIP_RETURNING, SW_SHIP_IN_TRANSIT, SW_SHIP_RETURNING, SW_SHIP_RETURNING},
    {SW_SHIP_RETURNED, SW_SHIP_RETURNED, SW_SHIP_RETURNING, SW_SHIP_RETURNED},
    {SW_SHIP_CANCELLED, SW_SHIP_UNKNOWN, SW_SHIP_CANCELLED, SW_SHIP_CANCELLED},
    {SW_SHIP_UNKNOWN, SW_SHIP_UNKNOWN, SW_SHIP_UNKNOWN, SW_SHIP_UNKNOWN},
};
#define N_STATUS (sizeof(status_cases) / sizeof(status_cases[0]))

static const char *const couriers[] = {"dhl", "fedex", "ups"};
#define N_COURIER 3

static enum sw_ship_status expected(const struct status_case *c, size_t courier)
{
	return courier == 0 ? c->dhl : courier == 1 ? c->fedex : c->ups;
}

/* World texts that would mislead a careless writer (DHL reads text). */
static const char *text_of(enum sw_ship_status st)
{
	switch (st) {
	case SW_SHIP_IN_TRANSIT:
		return "Arrived at hub; next: out for delivery";
	case SW_SHIP_EXCEPTION:
		return "Held: address incomplete, no attempt made";
	default:
		return "Scan";
	}
}

static struct sim_order orders[2] = {
    {.order_id = "ORD-1",
     .timezone = "Asia/Kolkata",
     .city = "Surat",
     .postal_code = "395003",
     .country = "IN"},
    {.order_id = "ORD-2",
     .timezone = "Asia/Kathmandu",
     .city = "Kathmandu",
     .postal_code = "44600",
     .country = "NP"},
};

/* Parcels: per courier and status case, scans info_received @BASE,
 * in_transit @BASE+1h, the case's status @BASE+2h (fewer for the first
 * two cases), and a delivered scan ten days on that must never show; then
 * per courier one parcel whose first scan comes at BASE+4h ("late"). */
static void add_parcel(struct sim_world *w, const char *courier, const char *tracking,
		       const struct sim_order *o, const enum sw_ship_status *sts, size_t n,
		       int64_t first)
{
	struct sim_parcel *p = &w->parcels[w->n++];

	p->courier = courier;
	snprintf(p->tracking, sizeof(p->tracking), "%s", tracking);
	p->order = o;
	p->shipped_at = first - HOUR;
	p->eta = BASE + 2 * 24 * HOUR + 20 * HOUR; /* 2026-12-03T20:00Z: Dec 4 locally */
	p->n_scans = n + 1;
	p->scans = xcalloc(n + 1, sizeof(*p->scans));
	for (size_t i = 0; i < n; i++)
		p->scans[i] =
		    (struct sim_scan){first + (int64_t)i * HOUR, sts[i], "Surat", text_of(sts[i])};
	p->scans[n] =
	    (struct sim_scan){first + 10 * 24 * HOUR, SW_SHIP_DELIVERED, "Surat", "Delivered"};
}

static void tracking_of(size_t courier, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s%08zu", courier == 0 ? "GM" : courier == 1 ? "7946" : "1ZSIM", i);
}

static void build_world(struct sim_world *w)
{
	char num[40];

	w->parcels = xcalloc(N_COURIER * (N_STATUS + 1), sizeof(*w->parcels));
	w->outages = outages;
	for (size_t c = 0; c < N_COURIER; c++) {
		for (size_t i = 0; i < N_STATUS; i++) {
			enum sw_ship_status sts[3] = {SW_SHIP_INFO_RECEIVED, SW_SHIP_IN_TRANSIT,
						      status_cases[i].world};
			size_t n = i == 0 ? 1 : i == 1 ? 2 : 3;

			tracking_of(c, i, num, sizeof(num));
			add_parcel(w, couriers[c], num, &orders[i % 2], sts, n, BASE);
		}
		tracking_of(c, 900, num, sizeof(num));
		add_parcel(w, couriers[c], num, &orders[0],
			   (enum sw_ship_status[]){SW_SHIP_INFO_RECEIVED}, 1, BASE + 4 * HOUR);
	}
}

static void free_world(struct sim_world *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->parcels[i].scans);
	free(w->parcels);
}

/* ---- HTTP ---------------------------------------------------------------- */

struct answer {
	long status;
	char ctype[128];
	char *body;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
	struct answer *a = cls;

	a->body = xreallocarray(a->body, a->len + size * n + 1, 1);
	memcpy(a->body + a->len, p, size * n);
	a->len += size * n;
	a->body[a->len] = '\0';
	return size * n;
}

/* Sends rq, leaving out header skip (NULL: none). */
static void send_req(const struct sw_courier_request *rq, const char *skip, struct answer *a)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char *line, *ct = NULL;
	CURLcode rc;

	memset(a, 0, sizeof(*a));
	if (h == NULL)
		tap_bail("curl_easy_init failed");
	for (size_t i = 0; i < rq->n_headers; i++) {
		if (skip && strcasecmp(rq->headers[i].name, skip) == 0)
			continue;
		line = xasprintf("%s: %s", rq->headers[i].name, rq->headers[i].value);
		hdrs = curl_slist_append(hdrs, line);
		free(line);
	}
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	if (rq->method == SW_COURIER_POST) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)rq->body_len);
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
		printf("# %s: %s\n", rq->url, curl_easy_strerror(rc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(a->ctype, sizeof(a->ctype), "%s", ct ? ct : "");
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
}

/* ---- the courier side ------------------------------------------------------ */

static int port;
static struct sim_api *api;
static char base_urls[N_COURIER][96];
/* tracking requests sent, by the class the server should count */
static struct sim_api_stats want;

static const struct sw_courier *adapter(size_t c)
{
	return sw_courier_find(couriers[c]);
}

static struct sw_courier_conf conf_of(size_t c, const char *key, const char *secret)
{
	struct sw_courier_conf conf = {
	    .base_url = base_urls[c], .api_key = key, .api_secret = secret};

	return conf;
}

/* A token from the courier's token endpoint (NULL if refused); *ret_http
 * the HTTP status. */
static char *get_token(size_t c, const char *id, const char *secret, long *ret_http)
{
	struct sw_courier_conf conf = conf_of(c, id, secret);
	struct sw_courier_request rq;
	struct sw_courier_response resp;
	struct sw_courier_token tok;
	struct answer a;
	char err[160];
	char *t = NULL;

	if (adapter(c)->build_auth_request(&conf, &rq) != SW_OK)
		tap_bail("%s: cannot build the token request", couriers[c]);
	send_req(&rq, NULL, &a);
	*ret_http = a.status;
	resp = (struct sw_courier_response){a.status, a.ctype, a.body, a.len};
	if (adapter(c)->parse_auth_response(&resp, &tok, err, sizeof(err)) == SW_OK) {
		t = xstrdup(tok.token);
		sw_courier_token_clear(&tok);
	}
	sw_courier_request_free(&rq);
	free(a.body);
	return t;
}

/* Asks courier c about numbers[0..n-1] with key/token; the results in
 * res (cleared by the caller); the HTTP answer's status and type. */
static void track(size_t c, const char *key, const char *token, const char *skip_header,
		  const char *const *numbers, size_t n, struct sw_courier_result *res,
		  struct answer *ret)
{
	struct sw_courier_conf conf = conf_of(c, key, "csec");
	struct sw_courier_request rq;
	struct sw_courier_response resp;
	enum sw_err rc;

	rc = adapter(c)->build_request(&conf, token, "t-1", numbers, n, &rq);
	if (rc != SW_OK)
		tap_bail("%s: cannot build the request (%s)", couriers[c], sw_strerror(rc));
	send_req(&rq, skip_header, ret);
	resp = (struct sw_courier_response){ret->status, ret->ctype, ret->body, ret->len};
	if (adapter(c)->parse_response(&resp, numbers, n, res) != SW_OK)
		tap_bail("%s: parse_response refused its arguments", couriers[c]);
	sw_courier_request_free(&rq);
}

/* ---- the checks ------------------------------------------------------------- */

struct tokens {
	char *fedex, *ups;
};

static const char *key_of(size_t c, const struct tokens *t)
{
	return c == 0 ? "k-dhl" : "cid";
}

static const char *token_of(size_t c, const struct tokens *t)
{
	return c == 1 ? t->fedex : c == 2 ? t->ups : NULL;
}

static void local_date(int64_t at, int32_t off, struct sw_date *d)
{
	time_t t = (time_t)(at + off);
	struct tm tm;

	gmtime_r(&t, &tm);
	*d = (struct sw_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

static void check_found(const struct sim_world *w, size_t c, size_t i, const struct tokens *t)
{
	char num[40];
	const char *nums[1] = {num};
	const struct sim_parcel *p;
	struct sw_courier_result r;
	struct answer a;
	size_t vis;
	int32_t off;
	struct sw_date eta;
	const char *what;

	tracking_of(c, i, num, sizeof(num));
	p = sim_world_parcel(w, couriers[c], num);
	vis = sim_parcel_visible(p, NOW0);
	off = strcmp(p->order->timezone, "Asia/Kathmandu") == 0 ? NPT : IST;
	what = sw_store_ship_status_name(status_cases[i].world);
	track(c, key_of(c, t), token_of(c, t), NULL, nums, 1, &r, &a);
	want.requests++;
	want.answered++;
	is_int(a.status, 200, "%s %s: HTTP 200", couriers[c], what);
	is_str(sw_courier_outcome_name(r.outcome), "found", "%s %s: found", couriers[c], what);
	is_str(sw_store_ship_status_name(r.status),
	       sw_store_ship_status_name(expected(&status_cases[i], c)), "%s %s: status read back",
	       couriers[c], what);
	is_int(r.n_events, vis, "%s %s: the %zu visible scans, no future one", couriers[c], what,
	       vis);
	ok(r.has_latest && r.latest.utc_sec == p->scans[vis - 1].at &&
	       (r.latest.flags & SW_TIME_HAS_OFFSET) && r.latest.offset_sec == off,
	   "%s %s: latest is the newest scan at its local offset", couriers[c], what);
	local_date(p->eta, off, &eta);
	ok(r.has_eta && sw_date_cmp(&r.eta, &eta) == 0, "%s %s: ETA %04d-%02d-%02d", couriers[c],
	   what, eta.year, eta.month, eta.day);
	if (r.n_events > 0)
		ok(r.events[0].has_time && r.events[0].at.utc_sec == BASE &&
		       r.events[0].status == SW_SHIP_INFO_RECEIVED,
		   "%s %s: oldest event is the first scan", couriers[c], what);
	if (a.status != 200 || r.outcome != SW_COURIER_FOUND)
		printf("# body: %.400s\n", a.body ? a.body : "");
	sw_courier_result_clear(&r);
	free(a.body);
}

/* One error or not-found case. */
struct err_case {
	const char *name;
	size_t courier;
	const char *number; /* NULL: the late parcel */
	int bad_creds;	    /* 1: wrong key / token */
	const char *skip;   /* header left out */
	long http;
	enum sw_courier_outcome outcome;
	enum sw_courier_errkind kind;
	int klass; /* 0 not_found, 1 outage, 2 refused */
};

static const struct err_case now0_cases[] = {
    {"unknown number", 0, "GM404", 0, NULL, 404, SW_COURIER_NOT_FOUND, SW_COURIER_ERR_NONE, 0},
    {"unknown number", 1, "794600000404", 0, NULL, 200, SW_COURIER_NOT_FOUND, SW_COURIER_ERR_NONE,
     0},
    {"unknown number", 2, "1ZSIM00000404", 0, NULL, 200, SW_COURIER_NOT_FOUND, SW_COURIER_ERR_NONE,
     0},
    {"first scan still to come", 0, NULL, 0, NULL, 404, SW_COURIER_NOT_FOUND, SW_COURIER_ERR_NONE,
     0},
    {"first scan still to come", 1, NULL, 0, NULL, 200, SW_COURIER_NOT_FOUND, SW_COURIER_ERR_NONE,
     0},
    {"first scan still to come", 2, NULL, 0, NULL, 200, SW_COURIER_NOT_FOUND, SW_COURIER_ERR_NONE,
     0},
    {"bad key or token", 0, "GM00000001", 1, NULL, 401, SW_COURIER_ERROR,
     SW_COURIER_ERR_UNAUTHORIZED, 2},
    {"bad key or token", 1, "794600000001", 1, NULL, 401, SW_COURIER_ERROR,
     SW_COURIER_ERR_UNAUTHORIZED, 2},
    {"bad key or token", 2, "1ZSIM00000001", 1, NULL, 401, SW_COURIER_ERROR,
     SW_COURIER_ERR_UNAUTHORIZED, 2},
    {"no transId", 2, "1ZSIM00000001", 0, "transId", 400, SW_COURIER_ERROR, SW_COURIER_ERR_REJECTED,
     2},
    {"no transactionSrc", 2, "1ZSIM00000001", 0, "transactionSrc", 400, SW_COURIER_ERROR,
     SW_COURIER_ERR_REJECTED, 2},
    {"no key header", 0, "GM00000001", 0, "DHL-API-Key", 401, SW_COURIER_ERROR,
     SW_COURIER_ERR_UNAUTHORIZED, 2},
    {"no bearer token", 1, "794600000001", 0, "Authorization", 401, SW_COURIER_ERROR,
     SW_COURIER_ERR_UNAUTHORIZED, 2},
};

static const struct err_case outage_cases[] = {
    {"outage", 0, "GM00000001", 0, NULL, 503, SW_COURIER_ERROR, SW_COURIER_ERR_SERVER, 1},
    {"outage", 1, "794600000001", 0, NULL, 503, SW_COURIER_ERROR, SW_COURIER_ERR_SERVER, 1},
    {"outage", 2, "1ZSIM00000001", 0, NULL, 503, SW_COURIER_ERROR, SW_COURIER_ERR_SERVER, 1},
};

static void count_want(int klass)
{
	want.requests++;
	if (klass == 0)
		want.not_found++;
	else if (klass == 1)
		want.outage++;
	else
		want.refused++;
}

static void check_error(const struct err_case *e, const struct tokens *t)
{
	const char *c = couriers[e->courier];
	char num[40];
	const char *nums[1] = {num};
	struct sw_courier_result r;
	struct answer a;
	const char *key = e->bad_creds ? "wrong" : key_of(e->courier, t);
	const char *tok = e->bad_creds ? "sim-bogus" : token_of(e->courier, t);

	if (e->number)
		snprintf(num, sizeof(num), "%s", e->number);
	else
		tracking_of(e->courier, 900, num, sizeof(num));
	track(e->courier, key, tok, e->skip, nums, 1, &r, &a);
	count_want(e->klass);
	is_int(a.status, e->http, "%s %s: HTTP %ld", c, e->name, e->http);
	is_str(sw_courier_outcome_name(r.outcome), sw_courier_outcome_name(e->outcome), "%s %s: %s",
	       c, e->name, sw_courier_outcome_name(e->outcome));
	is_str(sw_courier_errkind_name(r.errkind), sw_courier_errkind_name(e->kind), "%s %s: %s", c,
	       e->name, sw_courier_errkind_name(e->kind));
	if (e->http != 200)
		ok(strstr(a.ctype, "json") != NULL && r.message != NULL,
		   "%s %s: the courier's JSON envelope, with a message (%s)", c, e->name,
		   r.message ? r.message : "none");
	if (e->courier == 0 && e->http != 200)
		is_str(a.ctype, "application/problem+json", "dhl %s: problem+json", e->name);
	sw_courier_result_clear(&r);
	free(a.body);
}

/* A FedEx batch: 30 distinct numbers (some known, some not) answered per number;
 * 31 refused with 400, which the adapter reads as a batch to split. */
static void check_fedex_batch(const struct tokens *t)
{
	char nums[31][40];
	const char *ptrs[31];
	struct sw_courier_result res[30];
	struct answer a;
	struct sw_courier_request rq = {0};
	struct sw_courier_response resp;
	json_t *infos = json_array(), *root;
	size_t found = 0, nf = 0, batch = 0;
	char *body;

	for (size_t i = 0; i < 31; i++) {
		tracking_of(1, i, nums[i], sizeof(nums[i])); /* known below N_STATUS */
		ptrs[i] = nums[i];
	}
	track(1, "cid", t->fedex, NULL, ptrs, 30, res, &a);
	want.requests++;
	want.answered++;
	for (size_t i = 0; i < 30; i++) {
		found += res[i].outcome == SW_COURIER_FOUND && i < N_STATUS;
		nf += res[i].outcome == SW_COURIER_NOT_FOUND && i >= N_STATUS;
		sw_courier_result_clear(&res[i]);
	}
	free(a.body);
	is_int(found, N_STATUS, "fedex batch of 30: every known number found");
	is_int(nf, 30 - N_STATUS, "fedex batch of 30: every unknown number not found");

	for (size_t i = 0; i < 31; i++)
		json_array_append_new(
		    infos, json_pack("{s:{s:s}}", "trackingNumberInfo", "trackingNumber", nums[i]));
	root = json_pack("{s:b,s:o}", "includeDetailedScans", 1, "trackingInfo", infos);
	body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	rq.method = SW_COURIER_POST;
	rq.url = xasprintf("%s/track/v1/trackingnumbers", base_urls[1]);
	sw_courier_req_header(&rq, "Authorization", "Bearer %s", t->fedex);
	sw_courier_req_header(&rq, "Content-Type", "application/json");
	rq.body = body;
	rq.body_len = strlen(body);
	send_req(&rq, NULL, &a);
	count_want(2);
	is_int(a.status, 400, "fedex batch of 31: HTTP 400");
	ok(a.body && strstr(a.body, "INVALID.INPUT.EXCEPTION") && strstr(a.body, "30"),
	   "fedex batch of 31: INVALID.INPUT.EXCEPTION saying at most 30");
	resp = (struct sw_courier_response){a.status, a.ctype, a.body, a.len};
	sw_courier_fedex.parse_response(&resp, ptrs, 30, res);
	for (size_t i = 0; i < 30; i++) {
		batch += res[i].errkind == SW_COURIER_ERR_BATCH;
		sw_courier_result_clear(&res[i]);
	}
	is_int(batch, 30, "fedex batch of 31: the adapter resends every number (batch)");
	sw_courier_request_free(&rq);
	free(a.body);
}

/* Requests no adapter would send, answered in the courier's envelope. */
struct raw_case {
	const char *name;
	const char *method;
	const char *path;   /* after http://127.0.0.1:PORT */
	const char *hdr[3]; /* "Name: value"; "$FEDEX"/"$UPS": that bearer token */
	const char *body;   /* NULL: none */
	long http;
	const char *needle; /* in the answer's body */
	int track;	    /* a tracking request (counted as refused) */
};

static const struct raw_case raw_cases[] = {
    {"dhl without trackingNumber",
     "GET",
     "/dhl/track/shipments",
     {"DHL-API-Key: k-dhl"},
     NULL,
     400,
     "trackingNumber must be given",
     1},
    {"fedex body not JSON",
     "POST",
     "/fedex/track/v1/trackingnumbers",
     {"$FEDEX", "Content-Type: application/json"},
     "{not json",
     400,
     "INVALID.INPUT.EXCEPTION",
     1},
    {"fedex empty trackingInfo",
     "POST",
     "/fedex/track/v1/trackingnumbers",
     {"$FEDEX", "Content-Type: application/json"},
     "{\"includeDetailedScans\":true,\"trackingInfo\":[]}",
     400,
     "TRACKING.TRACKINGNUMBER.EMPTY",
     1},
    {"fedex number not a string",
     "POST",
     "/fedex/track/v1/trackingnumbers",
     {"$FEDEX", "Content-Type: application/json"},
     "{\"includeDetailedScans\":true,\"trackingInfo\":[{\"trackingNumberInfo\":"
     "{\"trackingNumber\":7}}]}",
     400,
     "TRACKING.TRACKINGNUMBER.EMPTY",
     1},
    {"fedex without includeDetailedScans",
     "POST",
     "/fedex/track/v1/trackingnumbers",
     {"$FEDEX", "Content-Type: application/json"},
     "{\"trackingInfo\":[{\"trackingNumberInfo\":{\"trackingNumber\":\"794600000001\"}}]}",
     400,
     "includeDetailedScans is required",
     1},
    {"fedex token, wrong grant",
     "POST",
     "/fedex/oauth/token",
     {"Content-Type: application/x-www-form-urlencoded"},
     "grant_type=password&client_id=cid&client_secret=csec",
     400,
     "BAD.REQUEST.ERROR",
     0},
    {"fedex token, secret given twice",
     "POST",
     "/fedex/oauth/token",
     {"Content-Type: application/x-www-form-urlencoded"},
     "grant_type=client_credentials&client_id=cid&client_secret=csec&client_secret=csec",
     401,
     "NOT.AUTHORIZED.ERROR",
     0},
    {"fedex token, percent-encoded",
     "POST",
     "/fedex/oauth/token",
     {"Content-Type: application/x-www-form-urlencoded"},
     "grant_type=client_credentials&client_id=%63id&client_secret=c%73ec",
     200,
     "access_token",
     0},
    {"fedex token, bad escape",
     "POST",
     "/fedex/oauth/token",
     {"Content-Type: application/x-www-form-urlencoded"},
     "grant_type=client_credentials&client_id=cid&client_secret=csec%",
     401,
     "NOT.AUTHORIZED.ERROR",
     0},
    {"ups token without Basic",
     "POST",
     "/ups/security/v1/oauth/token",
     {"Content-Type: application/x-www-form-urlencoded"},
     "grant_type=client_credentials",
     401,
     "10401",
     0},
    {"ups token, Basic not base64",
     "POST",
     "/ups/security/v1/oauth/token",
     {"Authorization: Basic !!!", "Content-Type: application/x-www-form-urlencoded"},
     "grant_type=client_credentials",
     401,
     "10401",
     0},
    {"ups token, no grant",
     "POST",
     "/ups/security/v1/oauth/token",
     {"Authorization: Basic Y2lkOmNzZWM="},
     "",
     400,
     "10400",
     0},
    {"ups token, Basic cid:csec",
     "POST",
     "/ups/security/v1/oauth/token",
     {"Authorization: Basic Y2lkOmNzZWM=", "Content-Type: application/x-www-form-urlencoded"},
     "grant_type=client_credentials",
     200,
     "\"expires_in\":\"14399\"",
     0},
    {"ups number too short",
     "GET",
     "/ups/api/track/v1/details/1ZABCD",
     {"$UPS", "transId: t1", "transactionSrc: test"},
     NULL,
     400,
     "TV1002",
     1},
    {"no such route", "GET", "/dhl/track/nothing", {NULL}, NULL, 404, "no route", 0},
    {"wrong method", "POST", "/dhl/track/shipments", {NULL}, "", 404, "no route", 0},
};

static void check_raw(const struct raw_case *rc, const struct tokens *t)
{
	struct sw_courier_request rq = {0};
	struct answer a;

	rq.method = strcmp(rc->method, "POST") == 0 ? SW_COURIER_POST : SW_COURIER_GET;
	rq.url = xasprintf("http://127.0.0.1:%d%s", port, rc->path);
	for (size_t i = 0; i < 3 && rc->hdr[i]; i++) {
		const char *h = rc->hdr[i];
		const char *colon = strchr(h, ':');

		if (strcmp(h, "$FEDEX") == 0 || strcmp(h, "$UPS") == 0)
			sw_courier_req_header(&rq, "Authorization", "Bearer %s",
					      h[1] == 'F' ? t->fedex : t->ups);
		else if (colon == NULL || colon[1] != ' ')
			tap_bail("raw case %s: header '%s' is not 'Name: value'", rc->name, h);
		else
			sw_courier_req_header(&rq, "", "%s", colon + 2);
		if (colon != NULL) {
			free(rq.headers[rq.n_headers - 1].name);
			rq.headers[rq.n_headers - 1].name = xstrndup(h, (size_t)(colon - h));
		}
	}
	if (rc->body != NULL) {
		rq.body = xstrdup(rc->body);
		rq.body_len = strlen(rc->body);
	}
	send_req(&rq, NULL, &a);
	if (rc->track)
		count_want(2);
	is_int(a.status, rc->http, "%s: HTTP %ld", rc->name, rc->http);
	ok(a.body && strstr(a.body, rc->needle), "%s: says %s", rc->name, rc->needle);
	if (a.body && !strstr(a.body, rc->needle))
		printf("# body: %.300s\n", a.body);
	sw_courier_request_free(&rq);
	free(a.body);
}

/* A body over the limit is refused, not read. */
static void check_big_body(const struct tokens *t)
{
	struct sw_courier_request rq = {0};
	struct answer a;

	rq.method = SW_COURIER_POST;
	rq.url = xasprintf("%s/track/v1/trackingnumbers", base_urls[1]);
	sw_courier_req_header(&rq, "Authorization", "Bearer %s", t->fedex);
	sw_courier_req_header(&rq, "Content-Type", "application/json");
	rq.body_len = SIM_API_MAX_BODY + 1;
	rq.body = xmalloc(rq.body_len + 1);
	memset(rq.body, ' ', rq.body_len);
	rq.body[rq.body_len] = '\0';
	send_req(&rq, NULL, &a);
	count_want(2);
	is_int(a.status, 400, "fedex body over %d bytes: HTTP 400", SIM_API_MAX_BODY);
	ok(a.body && strstr(a.body, "too large"), "fedex body over the limit: says too large");
	sw_courier_request_free(&rq);
	free(a.body);
}

/* The form reader on its own. */
static void check_form(void)
{
	static const struct {
		const char *body, *key, *want; /* want NULL: false */
	} cases[] = {
	    {"a=1&b=2", "b", "2"},     {"a=1&b=2", "c", NULL}, {"ab=1", "a", NULL},
	    {"a=x+y%21", "a", "x y!"}, {"a=%2", "a", NULL},    {"a=%zz", "a", NULL},
	    {"a=%00", "a", NULL},      {"a=1&a=1", "a", NULL}, {"a=", "a", ""},
	    {"&&a=5&", "a", "5"},      {"", "a", NULL},	       {"a=0123456789", "a", NULL},
	};
	char buf[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = sim_api_form(cases[i].body, cases[i].key, buf, sizeof(buf));

		ok(got == (cases[i].want != NULL) && (!got || strcmp(buf, cases[i].want) == 0),
		   "form '%s' key %s: %s", cases[i].body, cases[i].key,
		   cases[i].want ? cases[i].want : "refused");
	}
}

static void check_tokens(struct tokens *t)
{
	long http;
	char *bad;

	t->fedex = get_token(1, "cid", "csec", &http);
	ok(t->fedex != NULL && http == 200, "fedex: token issued (HTTP %ld)", http);
	t->ups = get_token(2, "cid", "csec", &http);
	ok(t->ups != NULL && http == 200, "ups: token issued (HTTP %ld)", http);
	bad = get_token(1, "cid", "wrong", &http);
	ok(bad == NULL && http == 401, "fedex: wrong secret refused (HTTP %ld)", http);
	free(bad);
	bad = get_token(2, "intruder", "csec", &http);
	ok(bad == NULL && http == 401, "ups: wrong client id refused (HTTP %ld)", http);
	free(bad);
	if (t->fedex == NULL || t->ups == NULL)
		tap_bail("no tokens");
}

/* After the outage: FedEx's token (3600 s) has expired, UPS's (14399 s)
 * not yet; then it has too.  The late parcel is found now. */
static void check_later(struct tokens *t)
{
	const struct err_case fedex_expired = {"expired token",
					       1,
					       "794600000001",
					       0,
					       NULL,
					       401,
					       SW_COURIER_ERROR,
					       SW_COURIER_ERR_UNAUTHORIZED,
					       2};
	const struct err_case ups_expired = {"expired token",
					     2,
					     "1ZSIM00000001",
					     0,
					     NULL,
					     401,
					     SW_COURIER_ERROR,
					     SW_COURIER_ERR_UNAUTHORIZED,
					     2};
	char num[40];
	const char *nums[1] = {num};
	struct sw_courier_result r;
	struct answer a;
	long http;

	check_error(&fedex_expired, t);
	for (size_t c = 0; c < N_COURIER; c++) {
		tracking_of(c, 900, num, sizeof(num));
		track(c, key_of(c, t), token_of(c, t), NULL, nums, 1, &r, &a);
		want.requests++;
		if (c == 1) {
			want.refused++;
		} else {
			want.answered++;
			ok(r.outcome == SW_COURIER_FOUND && r.status == SW_SHIP_INFO_RECEIVED,
			   "%s: the late parcel is found once its first scan is due", couriers[c]);
		}
		sw_courier_result_clear(&r);
		free(a.body);
	}
	free(t->fedex);
	t->fedex = get_token(1, "cid", "csec", &http);
	tracking_of(1, 900, num, sizeof(num));
	track(1, "cid", t->fedex, NULL, nums, 1, &r, &a);
	want.requests++;
	want.answered++;
	ok(r.outcome == SW_COURIER_FOUND, "fedex: a new token works, the late parcel is found");
	sw_courier_result_clear(&r);
	free(a.body);
	sw_clock_step(2 * HOUR * 1000LL); /* UPS token issued at NOW0 + 14399 s passed */
	check_error(&ups_expired, t);
}

static void check_start_errors(const struct sim_world *w)
{
	static const char *const binds[] = {"0.0.0.0", "192.0.2.1", "localhost", "::"};
	struct sim_api_opts o = {.port = 0};
	struct sim_api *x;
	char err[200];

	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		o.bind = binds[i];
		err[0] = '\0';
		ok(sim_api_start(w, &o, &x, NULL, err, sizeof(err)) == SW_EINVAL && x == NULL &&
		       strstr(err, binds[i]) != NULL,
		   "bind %s refused: %s", binds[i], err);
	}
	o.bind = "127.0.0.1";
	o.port = 70000;
	ok(sim_api_start(w, &o, &x, NULL, err, sizeof(err)) == SW_EINVAL, "port 70000: %s", err);
}

static void check_table(void)
{
	const char *const *names = sim_api_couriers();
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		ok(sim_api_table[i] != NULL && strcmp(sim_api_table[i]->name, names[i]) == 0,
		   "courier %zu: %s is the table's row", i, names[i]);
		ok(sw_courier_find(names[i]) != NULL, "courier %s: slipwatch has its adapter",
		   names[i]);
	}
	ok(sim_api_table[i] == NULL, "sim_api_couriers lists every row of the table");
}

static void check_stats(void)
{
	struct sim_api_stats s;

	sim_api_get_stats(api, &s);
	is_int(s.requests, want.requests, "stats: tracking requests");
	is_int(s.answered, want.answered, "stats: answered");
	is_int(s.not_found, want.not_found, "stats: not found");
	is_int(s.outage, want.outage, "stats: outage");
	is_int(s.refused, want.refused, "stats: refused");
}

int main(void)
{
	static const char *const paths[] = {"/dhl/track", "/fedex", "/ups/api"};
	struct sim_world w = {0};
	struct sim_api_opts opts = {.bind = "127.0.0.1",
				    .port = 0,
				    .api_key = "k-dhl",
				    .client_id = "cid",
				    .client_secret = "csec"};
	struct tokens t = {0};
	char err[200];

	build_world(&w);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sw_clock_set_stepped((int64_t)NOW0 * 1000);
	check_table();
	check_form();
	check_start_errors(&w);
	if (sim_api_start(&w, &opts, &api, &port, err, sizeof(err)) != SW_OK)
		tap_bail("sim_api_start: %s", err);
	ok(port > 0, "listening on port %d", port);
	for (size_t c = 0; c < N_COURIER; c++)
		snprintf(base_urls[c], sizeof(base_urls[c]), "http://127.0.0.1:%d%s", port,
			 paths[c]);

	check_tokens(&t);
	for (size_t c = 0; c < N_COURIER; c++)
		for (size_t i = 0; i < N_STATUS; i++)
			check_found(&w, c, i, &t);
	for (size_t i = 0; i < sizeof(now0_cases) / sizeof(now0_cases[0]); i++)
		check_error(&now0_cases[i], &t);
	check_fedex_batch(&t);
	for (size_t i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++)
		check_raw(&raw_cases[i], &t);
	check_big_body(&t);

	sw_clock_step(2 * HOUR * 1000LL + 30 * 60 * 1000LL); /* BASE + 5.5 h: outage */
	for (size_t i = 0; i < sizeof(outage_cases) / sizeof(outage_cases[0]); i++)
		check_error(&outage_cases[i], &t);
	for (size_t c = 1; c < N_COURIER; c++) {
		long http;
		char *tok = get_token(c, "cid", "csec", &http);

		ok(tok == NULL && http == 503, "%s: the token endpoint is down too (HTTP %ld)",
		   couriers[c], http);
		free(tok);
	}

	sw_clock_step(60 * 60 * 1000LL); /* BASE + 6.5 h */
	check_later(&t);
	check_stats();

	sim_api_stop(api);
	free(t.fedex);
	free(t.ups);
	free_world(&w);
	curl_global_cleanup();
	sw_clock_reset();
	return tap_done();
}
