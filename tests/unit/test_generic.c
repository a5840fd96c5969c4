/*
 * test_generic.c - unit tests for the generic courier adapter
 * (collector/courier/generic.c) and its configuration in the poll engine.
 *
 * "Acme" is a made-up courier (tests/data/generic/): parcels in a list
 * selected by awb, a status object, a history array in no particular order
 * with "dd/mm/yyyy HH:MM" times and a separate offset field (missing on
 * some events), an ETA date, a proof of delivery without zone.  The tests
 * load a [courier acme] section through sw_poll_conf_load (so errors carry
 * file:line), build requests (URL escaping, headers, JSON body), parse the
 * fixtures and broken answers, check config errors, and finally poll a
 * stub API (tests/data/generic/stub_generic.py) end to end through the
 * engine (skipped without python3).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collector/courier/generic.h"
#include "collector/poll.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/store.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"
#include "slipwatch/metrics.h"
#include "tests/tap.h"

/* The base section; tests drop keys from it and add lines. */
static const char *const base_lines[] = {
    "adapter = generic",
    "url = https://api.acme.example/v2/track?awb={tracking}&lang=en",
    "header_1 = X-Acme-Key: {api_key}",
    "header_2 = X-Client: slipwatch",
    "api_key_env = SWT_ACME_KEY",
    "path_shipment = result.parcels[awb={tracking}]",
    "path_status = state.code",
    "path_status_text = state.label",
    "path_events = history",
    "path_event_time = ts",
    "path_event_offset = tz",
    "path_event_code = code",
    "path_event_text = what",
    "path_event_location = hub",
    "path_eta = eta",
    "path_delivered_at = pod.at",
    "path_not_found = errors[awb={tracking}]",
    "not_found_status = 404",
    "time_format = %d/%m/%Y %H:%M",
    "status_map = MAN=info_received, PKP=in_transit, HUB=in_transit, 300=in_transit",
    "status_map_2 = OFD=out_for_delivery, DLV=delivered, RTO=returning, NDR=attempt_fail",
    NULL,
};

/* "[courier NAME]" + base lines without those whose key is in drop
 * (space-separated keys) + extra. */
static char *conf_text(const char *name, const char *drop, const char *extra)
{
	char *text = xasprintf("[courier %s]\n", name), *next;

	for (size_t i = 0; base_lines[i] != NULL; i++) {
		size_t klen = strcspn(base_lines[i], " ");
		char key[64];

		snprintf(key, sizeof(key), " %.*s ", (int)klen, base_lines[i]);
		if (drop != NULL) {
			char *d = xasprintf(" %s ", drop);
			bool skip = strstr(d, key) != NULL;

			free(d);
			if (skip)
				continue;
		}
		next = xasprintf("%s%s\n", text, base_lines[i]);
		free(text);
		text = next;
	}
	next = xasprintf("%s%s", text, extra ? extra : "");
	free(text);
	return next;
}

/* Loads text; SW_OK with *ret_pc, else the error in err. */
static enum sw_err load(const char *text, struct sw_conf **ret_conf, struct sw_poll_conf **ret_pc,
			char *err, size_t errlen)
{
	enum sw_err rc;

	*ret_pc = NULL;
	rc = sw_conf_load_string(text, "t.conf", ret_conf, err, errlen);
	if (rc == SW_OK)
		rc = sw_poll_conf_load(*ret_conf, ret_pc, err, errlen);
	return rc;
}

/* A loaded acme section for the adapter tests. */
struct acme {
	struct sw_conf *conf;
	struct sw_poll_conf *pc;
	struct sw_courier_conf cc;
};

static bool acme_load(struct acme *a, const char *drop, const char *extra)
{
	char err[512] = "";
	char *text = conf_text("acme", drop, extra);
	struct sw_poll_courier_conf *cf;
	enum sw_err rc = load(text, &a->conf, &a->pc, err, sizeof(err));

	free(text);
	memset(&a->cc, 0, sizeof(a->cc));
	if (rc != SW_OK) {
		printf("# config: %s\n", err);
		return false;
	}
	cf = sw_poll_conf_find(a->pc, "acme");
	a->cc.api_key = cf->api_key.value;
	a->cc.generic = cf->spec;
	return cf->spec != NULL;
}

static void acme_free(struct acme *a)
{
	sw_poll_conf_free(a->pc);
	sw_conf_free(a->conf);
	memset(a, 0, sizeof(*a));
}

static char *slurp(const char *file, size_t *ret_len)
{
	const char *dir = getenv("SW_TEST_DATA");
	char *path = xasprintf("%s/generic/%s", dir && *dir ? dir : "tests/data", file);
	FILE *f = fopen(path, "rb");
	char *buf = xmalloc(65536);
	size_t len = f ? fread(buf, 1, 65535, f) : 0;

	if (f == NULL)
		printf("# cannot open %s\n", path);
	else
		fclose(f);
	buf[len] = '\0';
	free(path);
	*ret_len = len;
	return buf;
}

static void parse(const struct acme *a, long http, const char *ctype, const char *body, size_t len,
		  const char *number, struct sw_courier_result *r)
{
	struct sw_courier_response resp = {http, ctype, body, len};
	const char *nums[1] = {number};

	if (sw_courier_generic.parse_response_conf(&a->cc, &resp, nums, 1, r) != SW_OK)
		printf("# parse_response_conf refused\n");
}

static void parse_file(const struct acme *a, const char *file, const char *number,
		       struct sw_courier_result *r)
{
	size_t len;
	char *body = slurp(file, &len);

	parse(a, 200, "application/json", body, len, number, r);
	free(body);
}

static const char *utc(const struct sw_time *t)
{
	static char buf[4][SW_TIME_STRLEN];
	static int k;
	char *b = buf[k++ % 4];

	if ((t->flags & SW_TIME_ZONE_UNKNOWN ? sw_time_format(t, b, SW_TIME_STRLEN)
					     : sw_time_format_utc(t, b, SW_TIME_STRLEN)) != SW_OK)
		snprintf(b, SW_TIME_STRLEN, "(bad)");
	return b;
}

static const char *date(const struct sw_date *d)
{
	static char buf[SW_DATE_STRLEN];

	if (sw_date_format(d, buf, sizeof(buf)) != SW_OK)
		snprintf(buf, sizeof(buf), "(bad)");
	return buf;
}

/* ---- requests ------------------------------------------------------------ */

static void test_build(void)
{
	struct acme a;
	struct sw_courier_request req;
	const char *num[] = {"AB 12/3&x"}, *two[] = {"A1", "A2"}, *ctl[] = {"A\r\nX: y"};

	if (!ok(acme_load(&a, NULL, NULL), "acme section loads"))
		return;
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, num, 1, &req), SW_OK,
	       "GET built");
	is_str(req.url, "https://api.acme.example/v2/track?awb=AB%2012%2F3%26x&lang=en",
	       "  number URL-escaped into the template");
	is_str(sw_courier_method_name(req.method), "GET", "  GET");
	is_str(sw_courier_request_header(&req, "X-Acme-Key"), "k-acme", "  key header from env");
	is_str(sw_courier_request_header(&req, "x-client"), "slipwatch", "  literal header");
	is_str(sw_courier_request_header(&req, "Accept"), "application/json", "  Accept added");
	ok(req.body == NULL && sw_courier_request_header(&req, "Content-Type") == NULL,
	   "  no body");
	sw_courier_request_free(&req);
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, two, 2, &req), SW_ERANGE,
	       "one number per request");
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, ctl, 1, &req), SW_EINVAL,
	       "control bytes in a number refused");
	a.cc.api_key = NULL;
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, num, 1, &req), SW_EAUTH,
	       "no key: SW_EAUTH");
	a.cc.generic = NULL;
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, num, 1, &req), SW_EINVAL,
	       "no spec: SW_EINVAL");
	acme_free(&a);

	if (!ok(acme_load(&a, "url header_1 header_2",
			  "url = http://127.0.0.1:9/t/{tracking}\nmethod = POST\n"
			  "body = {\"q\":{\"awb\":\"{tracking}\",\"k\":\"{api_key}\"}}\n"
			  "header_1 = Accept: application/vnd.acme+json\n"),
		"POST section loads"))
		return;
	num[0] = "A\"B\\C/1";
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, num, 1, &req), SW_OK,
	       "POST built");
	is_str(req.url, "http://127.0.0.1:9/t/A%22B%5CC%2F1", "  path segment escaped");
	is_str(sw_courier_method_name(req.method), "POST", "  POST");
	is_str(req.body, "{\"q\":{\"awb\":\"A\\\"B\\\\C/1\",\"k\":\"k-acme\"}}",
	       "  body JSON-escaped, literal braces kept");
	is_int(req.body_len, strlen(req.body ? req.body : ""), "  body_len");
	is_str(sw_courier_request_header(&req, "Content-Type"), "application/json",
	       "  Content-Type added");
	is_str(sw_courier_request_header(&req, "Accept"), "application/vnd.acme+json",
	       "  configured Accept kept, not doubled");
	is_int(req.n_headers, 2, "  two headers");
	sw_courier_request_free(&req);
	acme_free(&a);
}

/* ---- answers ------------------------------------------------------------- */

static void test_found(void)
{
	struct acme a;
	struct sw_courier_result r;

	if (!acme_load(&a, NULL, NULL))
		return;
	parse_file(&a, "out_for_delivery.json", "ACM123456789", &r);
	is_str(sw_courier_outcome_name(r.outcome), "found", "OFD: found");
	is_str(sw_store_ship_status_name(r.status), "out_for_delivery", "  status mapped");
	is_str(r.raw_code, "OFD", "  raw code");
	is_str(r.raw_text, "Out for delivery", "  raw text");
	is_int(r.n_events, 4, "  four events (the other parcel's ignored)");
	if (r.n_events == 4) {
		is_str(r.events[0].code, "MAN", "  sorted by time, not array order: MAN first");
		ok(r.events[0].at.flags & SW_TIME_ZONE_UNKNOWN, "  no tz, no zone: zone-unknown");
		is_str(utc(&r.events[0].at), "2026-11-21T10:00:00", "  wall clock kept");
		is_str(sw_store_ship_status_name(r.events[0].status), "info_received",
		       "  event status mapped");
		is_str(r.events[1].code, "PKP", "  then PKP");
		is_str(utc(&r.events[1].at), "2026-11-22T13:10:00Z", "  18:40 +05:30");
		is_str(r.events[2].code, "HUB", "  then HUB");
		is_str(r.events[3].code, "OFD", "  OFD last");
		is_str(utc(&r.events[3].at), "2026-11-24T03:45:00Z", "  09:15 +05:30");
		is_int(r.events[3].at.offset_sec, 19800, "  offset from the tz field");
		is_str(r.events[3].raw_time, "24/11/2026 09:15", "  raw time kept");
		is_str(r.events[3].text, "Out for delivery", "  text");
		is_str(r.events[3].location, "Bengaluru", "  location");
	}
	ok(r.has_latest, "  latest set");
	is_str(utc(&r.latest), "2026-11-24T03:45:00Z", "  latest = OFD");
	ok(r.has_eta, "  eta set");
	is_str(date(&r.eta), "2026-11-26", "  eta as written");
	ok(!r.has_delivered, "  pod null: no delivered time");
	sw_courier_result_clear(&r);

	parse_file(&a, "delivered.json", "ACM555000111", &r);
	is_str(sw_store_ship_status_name(r.status), "delivered", "DLV: delivered");
	is_int(r.n_events, 3, "  three events");
	if (r.n_events == 3) {
		ok(!r.events[0].has_time, "  unparseable time sorted first");
		is_str(r.events[0].raw_time, "someday", "  raw kept");
		is_str(sw_store_ship_status_name(r.events[0].status), "unknown",
		       "  unmapped code: unknown");
		is_str(r.events[1].code, "300", "  integer code read");
		is_str(sw_store_ship_status_name(r.events[1].status), "in_transit",
		       "  integer code mapped");
		is_str(r.events[2].code, "DLV", "  DLV last");
	}
	ok(r.has_delivered && (r.delivered.flags & SW_TIME_ZONE_UNKNOWN), "  pod.at zone-unknown");
	is_str(utc(&r.delivered), "2026-11-25T14:01:00", "  pod.at wall clock");
	ok(r.has_eta, "  eta in the time_format's date part");
	is_str(date(&r.eta), "2026-11-25", "  25/11/2026");
	sw_courier_result_clear(&r);
	acme_free(&a);

	/* a fixed zone resolves zone-less times; the tz field still wins */
	if (!acme_load(&a, NULL, "time_zone = Asia/Kolkata\n"))
		return;
	parse_file(&a, "delivered.json", "ACM555000111", &r);
	ok(r.has_delivered && (r.delivered.flags & SW_TIME_HAS_OFFSET), "zone: pod.at an instant");
	is_str(utc(&r.delivered), "2026-11-25T08:31:00Z", "  14:01 in Asia/Kolkata");
	sw_courier_result_clear(&r);
	parse_file(&a, "out_for_delivery.json", "ACM123456789", &r);
	if (r.n_events == 4)
		is_str(utc(&r.events[0].at), "2026-11-21T04:30:00Z", "  MAN resolved in the zone");
	sw_courier_result_clear(&r);
	acme_free(&a);

	/* no shipment status: the newest event decides */
	if (!acme_load(&a, "path_status", NULL))
		return;
	parse_file(&a, "out_for_delivery.json", "ACM123456789", &r);
	is_str(sw_store_ship_status_name(r.status), "out_for_delivery",
	       "without path_status: newest event's status");
	ok(r.raw_code == NULL, "  no raw code");
	sw_courier_result_clear(&r);
	acme_free(&a);
}

static void test_not_found(void)
{
	struct acme a;
	struct sw_courier_result r;
	const char *html = "<html>Not here</html>";

	if (!acme_load(&a, NULL, NULL))
		return;
	parse_file(&a, "not_found.json", "ACM999999999", &r);
	is_str(sw_courier_outcome_name(r.outcome), "not_found", "errors[awb=N]: not found");
	ok(r.status == SW_SHIP_LAST && r.n_events == 0, "  no status");
	sw_courier_result_clear(&r);
	parse_file(&a, "unknown_awb.json", "ACM999999999", &r);
	is_str(sw_courier_outcome_name(r.outcome), "not_found", "no parcel matches: not found");
	sw_courier_result_clear(&r);
	parse(&a, 404, "text/html", html, strlen(html), "ACM1", &r);
	is_str(sw_courier_outcome_name(r.outcome), "not_found", "not_found_status 404: not found");
	is_str(r.message, "HTTP 404", "  message");
	is_str(r.tracking_number, "ACM1", "  number kept");
	sw_courier_result_clear(&r);
	acme_free(&a);

	if (!acme_load(&a, "not_found_status path_not_found", NULL))
		return;
	parse(&a, 404, "text/html", html, strlen(html), "ACM1", &r);
	ok(r.outcome == SW_COURIER_ERROR && r.errkind == SW_COURIER_ERR_OTHER,
	   "without not_found_status a 404 is an error");
	sw_courier_result_clear(&r);
	parse_file(&a, "not_found.json", "ACM999999999", &r);
	is_str(sw_courier_outcome_name(r.outcome), "not_found",
	       "  empty parcel list still not found");
	sw_courier_result_clear(&r);
	acme_free(&a);
}

struct bad_case {
	const char *what;
	long http;
	const char *ctype;
	const char *body; /* NULL: half the OFD fixture */
	const char *kind;
};

static const struct bad_case bad_cases[] = {
    {"truncated", 200, "application/json", NULL, "bad_response"},
    {"wrong content type", 200, "text/html", "{\"result\":{}}", "bad_response"},
    {"empty body", 200, "application/json", "", "bad_response"},
    {"not JSON", 200, "application/json", "<html>", "bad_response"},
    {"no result", 200, "application/json", "{\"result\":{}}", "bad_response"},
    {"parcels not a list", 200, "application/json", "{\"result\":{\"parcels\":{}}}",
     "bad_response"},
    {"shipment a string", 200, "application/json",
     "{\"result\":{\"parcels\":[{\"awb\":\"N1\"}],\"x\":1}}", "bad_response"},
    {"history not a list", 200, "application/json",
     "{\"result\":{\"parcels\":[{\"awb\":\"N1\",\"state\":{\"code\":\"OFD\"},"
     "\"history\":{}}]}}",
     "bad_response"},
    {"429", 429, "application/json", "{}", "rate_limited"},
    {"401", 401, "application/json", "{\"message\":\"bad key\"}", "unauthorized"},
    {"503", 503, "text/html", "<html>", "server"},
    {"409", 409, "application/json", "{}", "other"},
    {"no HTTP", 0, NULL, "", "other"},
};

static void test_errors(void)
{
	struct acme a;
	struct sw_courier_result r;
	size_t flen;
	char *fixture = slurp("out_for_delivery.json", &flen);
	struct sw_courier_response resp = {200, "application/json", "{}", 2};
	const char *nums[] = {"N1"};

	if (!acme_load(&a, NULL, NULL)) {
		free(fixture);
		return;
	}
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];

		parse(&a, b->http, b->ctype, b->body ? b->body : fixture,
		      b->body ? strlen(b->body) : flen / 2, "N1", &r);
		is_str(sw_courier_errkind_name(r.errkind), b->kind, "%s: %s", b->what, b->kind);
		ok(r.outcome == SW_COURIER_ERROR && r.status == SW_SHIP_LAST && r.n_events == 0 &&
		       !r.has_eta && r.raw_code == NULL && r.message != NULL,
		   "  %s: ERROR, no status", b->what);
		sw_courier_result_clear(&r);
	}
	is_int(sw_courier_generic.parse_response(&resp, nums, 1, &r), SW_EINVAL,
	       "plain parse_response needs the conf");
	is_int(sw_courier_generic.parse_response_conf(NULL, &resp, nums, 1, &r), SW_EINVAL,
	       "NULL conf refused");
	is_int(sw_courier_generic.parse_response_conf(&a.cc, &resp, nums, 0, &r), SW_EINVAL,
	       "n 0 refused");
	free(fixture);
	acme_free(&a);
}

static void test_too_many_events(void)
{
	struct acme a;
	struct sw_courier_result r;
	char *body = xstrdup("{\"result\":{\"parcels\":[{\"awb\":\"N1\",\"state\":{\"code\":"
			     "\"HUB\"},\"history\":[{}"),
	     *next;

	if (!acme_load(&a, NULL, NULL)) {
		free(body);
		return;
	}
	for (int i = 0; i < SW_COURIER_MAX_EVENTS; i++) {
		next = xasprintf("%s,{\"ts\":\"01/01/2026 00:00\"}", body);
		free(body);
		body = next;
	}
	next = xasprintf("%s]}]}}", body);
	free(body);
	body = next;
	parse(&a, 200, "application/json", body, strlen(body), "N1", &r);
	is_str(sw_courier_errkind_name(r.errkind), "bad_response", "1001 events: bad_response");
	sw_courier_result_clear(&r);
	free(body);
	acme_free(&a);
}

/* ---- configuration -------------------------------------------------------- */

struct conf_case {
	const char *drop;  /* keys to drop from the base */
	const char *extra; /* lines to add */
	const char *want;  /* error text starts with */
};

static const struct conf_case conf_cases[] = {
    {"path_status", "path_status = state..code\n",
     "t.conf:1: [courier acme] path_status: bad path (want key.key[N].key[field=value]): "
     "'state..code'"},
    {"path_shipment", "path_shipment = result.parcels[awb={tracking}\n",
     "t.conf:1: [courier acme] path_shipment: bad or unclosed [selector]"},
    {"path_shipment", "path_shipment = result.parcels[awb]\n",
     "t.conf:1: [courier acme] path_shipment: bad selector"},
    {"path_shipment", "path_shipment = result.parcels[awb={trk}]\n",
     "t.conf:1: [courier acme] path_shipment: selector value must be"},
    {"path_eta", "path_eta = eta.\n", "t.conf:1: [courier acme] path_eta: bad path"},
    {"status_map", "status_map = MAN=info_received, OFD=out_for_dlivery\n",
     "t.conf:1: [courier acme] status_map: unknown canonical status: 'out_for_dlivery'"},
    {"status_map", "status_map = MAN info_received\n",
     "t.conf:1: [courier acme] status_map: want CODE=status: 'MAN info_received'"},
    {"status_map_2", "status_map_2 = man=delivered\n",
     "t.conf:1: [courier acme] status_map_2: code mapped twice: 'man'"},
    {"status_map status_map_2", "", "t.conf:1: [courier acme] status_map: required"},
    {"url", "url = https://acme.example/t?awb={trackin}\n",
     "t.conf:1: [courier acme] url: unknown placeholder (want {tracking} {api_key} {token} {numbers}): "
     "'{trackin}'"},
    {"url", "url = https://acme.example/t\n",
     "t.conf:1: [courier acme] url: neither url nor body uses {tracking}"},
    {"url", "url = ftp://acme.example/{tracking}\n",
     "t.conf:1: [courier acme] url: want an http:// or https:// URL"},
    {"url", "", "t.conf:1: [courier acme] url: required with adapter = generic"},
    {"header_1", "header_1 = Authorization: Bearer s3cr3t\n",
     "t.conf:1: [courier acme] header_1: secrets are not written in the file"},
    {"header_2", "header_2 = X Client: slipwatch\n",
     "t.conf:1: [courier acme] header_2: want 'Name: value'"},
    {"header_2", "header_2 = X-Client: {shop}\n",
     "t.conf:1: [courier acme] header_2: unknown placeholder"},
    {NULL, "body = {\"awb\":\"{tracking}\"}\n",
     "t.conf:1: [courier acme] body: only with method = POST"},
    {"time_format", "time_format = %d/%m/%Q %H:%M\n",
     "t.conf:1: [courier acme] time_format: want rfc3339"},
    {"time_format", "time_format = %d/%m/%Y\n",
     "t.conf:1: [courier acme] time_format: want rfc3339"},
    {NULL, "time_zone = Mars/Olympus_Mons\n",
     "t.conf:1: [courier acme] time_zone: unknown time zone: 'Mars/Olympus_Mons'"},
    {"not_found_status", "not_found_status = 401\n",
     "t.conf:1: [courier acme] not_found_status: want a 4xx"},
    {"not_found_status", "not_found_status = 200\n",
     "t.conf:1: [courier acme] not_found_status: want a 4xx"},
    {"path_events", "", "t.conf:1: [courier acme] path_event_time: needs path_events"},
    {"path_status path_events path_event_time path_event_offset path_event_code "
     "path_event_text path_event_location",
     "", "t.conf:1: [courier acme] path_status: set path_status or path_events"},
    {NULL, "base_url = https://acme.example\n",
     "t.conf:1: [courier acme] base_url: not used by the generic adapter"},
    {"api_key_env", "", "t.conf:1: [courier acme] credentials: the generic adapter needs api_key"},
    {NULL, "path_shipment2 = x\n", "t.conf:23: unknown key 'path_shipment2'"},
};

static void test_conf_errors(void)
{
	char err[512], errtbl[256];
	struct sw_conf *conf = NULL;
	struct sw_poll_conf *pc = NULL;

	for (size_t i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
		const struct conf_case *c = &conf_cases[i];
		char *text = conf_text("acme", c->drop, c->extra);
		enum sw_err rc = load(text, &conf, &pc, err, sizeof(err));

		is_int(rc, SW_ECONF, "config error %zu refused", i);
		if (!ok(rc == SW_ECONF && strncmp(err, c->want, strlen(c->want)) == 0, "  '%s'",
			c->want))
			printf("#   got '%s'\n", rc == SW_OK ? "(loaded)" : err);
		ok(strstr(err, "s3cr3t") == NULL && strstr(err, "k-acme") == NULL,
		   "  no secret in the text");
		ok(pc == NULL, "  no list on error");
		sw_poll_conf_free(pc);
		sw_conf_free(conf);
		conf = NULL;
		free(text);
	}
	/* generic keys in another adapter's section */
	if (load("[courier dhl]\napi_key_env = SWT_ACME_KEY\npath_status = a.b\n", &conf, &pc, err,
		 sizeof(err)) == SW_OK)
		err[0] = '\0';
	is_str(err,
	       "t.conf:1: [courier dhl] path_status: only with adapter = generic: "
	       "'path_status'",
	       "generic key refused for dhl");
	sw_poll_conf_free(pc);
	sw_conf_free(conf);
	conf = NULL;
	if (load("[courier dhl]\napi_key_env = SWT_ACME_KEY\n", &conf, &pc, err, sizeof(err)) ==
	    SW_OK)
		is_int(pc->couriers[0].spec == NULL, 1, "dhl section still loads, no spec");
	else
		ok(0, "dhl section still loads: %s", err);
	sw_poll_conf_free(pc);
	sw_conf_free(conf);
	is_int(sw_conf_table_check(sw_poll_courier_table, errtbl, sizeof(errtbl)), SW_OK,
	       "option table well-formed");
}

/* ---- end to end ----------------------------------------------------------- */

static char tmpdir[] = "/tmp/test_generic.XXXXXX";

static pid_t start_stub(int *ret_port)
{
	const char *dir = getenv("SW_TEST_DATA");
	char *script = xasprintf("%s/generic/stub_generic.py", dir && *dir ? dir : "tests/data");
	char *portfile = xasprintf("%s/port", tmpdir);
	FILE *f = NULL;
	pid_t pid = fork();

	*ret_port = 0;
	if (pid == 0) {
		execlp("python3", "python3", script, portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200 && pid > 0 && f == NULL; i++) /* 60 s: a failure bound */
		if ((f = fopen(portfile, "r")) == NULL)
			usleep(50000);
	if (f) {
		if (fscanf(f, "%d", ret_port) != 1)
			*ret_port = 0;
		fclose(f);
	}
	free(script);
	free(portfile);
	return pid;
}

static struct sw_poll_engine *eng;

static bool all_settled(void)
{
	struct sw_poll_stats st;

	memset(&st, 0, sizeof(st));
	sw_poll_get_stats(eng, "acme", &st);
	return st.found + st.not_found + st.errors >= 3 && st.in_flight == 0;
}

static void add_parcel(struct sw_store *store, const char *tn)
{
	struct sw_poll sp = {0};

	sw_store_parcel_upsert(store, "acme", tn, NULL, NULL, (struct sw_stamp){1795000000, 0});
	sp.courier = "acme";
	sp.tracking_number = tn;
	sp.next_poll_at = time(NULL) - 1;
	sp.interval_s = 60;
	sw_store_poll_upsert(store, &sp);
}

static void check_parcel(struct sw_store *store, const char *tn, const char *status,
			 int64_t last_at)
{
	struct sw_parcel *par = NULL;

	sw_store_parcel_get(store, "acme", tn, &par);
	if (ok(par != NULL, "%s stored", tn)) {
		is_str(sw_store_ship_status_name(par->status), status, "  %s", status);
		if (last_at)
			is_int(par->last_event_at.at, last_at, "  last event");
	}
	sw_store_parcel_free(par);
}

static void run_engine(struct sw_store *store, struct sw_loop *loop, int port)
{
	struct sw_metrics *metrics = sw_metrics_new();
	struct sw_conf *conf = NULL;
	struct sw_poll_conf *pc = NULL;
	char err[512] = "", *url = xasprintf("url = http://127.0.0.1:%d/acme/track?awb={tracking}\n"
					     "rate = 50\nburst = 10\n",
					     port);
	char *text = conf_text("acme", "url", url);
	struct sw_poll_stats st;
	int64_t j0 = -1, j1 = -1;

	add_parcel(store, "ACM777");
	add_parcel(store, "DLV42");
	add_parcel(store, "NF1");
	sw_store_journal_count(store, &j0);
	if (!ok(load(text, &conf, &pc, err, sizeof(err)) == SW_OK &&
		    sw_poll_new(loop, store, metrics, pc, &eng, err, sizeof(err)) == SW_OK,
		"engine with a generic courier")) {
		printf("#   %s\n", err);
		goto out;
	}
	pc->tick_ms = 50;
	sw_poll_start(eng);
	{
		time_t end = time(NULL) + 60; /* only a failure bound */

		while (!all_settled() && time(NULL) < end)
			sw_loop_run_once(loop, 20);
	}
	sw_poll_get_stats(eng, "acme", &st);
	is_int(st.found, 2, "  two found");
	is_int(st.not_found, 1, "  one not found (404)");
	is_int(st.errors, 0, "  no errors");
	check_parcel(store, "ACM777", "out_for_delivery", 1795491900);
	check_parcel(store, "DLV42", "delivered", 1795595520);
	check_parcel(store, "NF1", "pending", 0);
	sw_store_journal_count(store, &j1);
	is_int(j1 - j0, 4 + 3, "  every event journaled");
out:
	sw_poll_free(eng);
	eng = NULL;
	sw_poll_conf_free(pc);
	sw_conf_free(conf);
	sw_metrics_free(metrics);
	free(text);
	free(url);
}

static void sink(enum sw_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}

static void test_end_to_end(void)
{
	struct sw_store *store = NULL;
	struct sw_loop *loop = NULL;
	char err[256], *path, *cmd;
	int port;
	pid_t pid;

	if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0 || !mkdtemp(tmpdir)) {
		printf("# python3 or a temp dir not available: end-to-end test skipped\n");
		return;
	}
	pid = start_stub(&port);
	path = xasprintf("%s/store.db", tmpdir);
	sw_log_set_sink(sink, NULL);
	if (ok(port > 0, "stub Acme API started") &&
	    ok(sw_store_open(path, 0, &store, err, sizeof(err)) == SW_OK, "store opened")) {
		sw_loop_new(&loop);
		run_engine(store, loop, port);
		sw_loop_free(loop);
	}
	sw_store_close(store);
	sw_log_set_sink(NULL, NULL);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	free(path);
}

int main(void)
{
	setenv("SWT_ACME_KEY", "k-acme", 1);
	setenv("TZ", "UTC", 1);
	test_build();
	test_found();
	test_not_found();
	test_errors();
	test_too_many_events();
	test_conf_errors();
	test_end_to_end();
	return tap_done();
}
