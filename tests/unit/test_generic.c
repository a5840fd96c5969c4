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
#include "tests/stub_proc.h"
#include "tests/store_tmp.h"
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
     "t.conf:1: [courier acme] url: unknown placeholder (want {tracking} {api_key} {token} "
     "{numbers}): "
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
    /* rules, conditions, nested selectors */
    {NULL, "status_rule_1 = state.code=RT\n",
     "t.conf:1: [courier acme] status_rule_1: want 'COND & COND -> status': 'state.code=RT'"},
    {NULL, "status_rule_2 = state.code=RT -> retourned\n",
     "t.conf:1: [courier acme] status_rule_2: unknown canonical status after ->: 'retourned'"},
    {NULL, "status_rule_1 = state.code=RT & -> returning\n",
     "t.conf:1: [courier acme] status_rule_1: empty condition: ' '"},
    {NULL, "status_rule_1 = state.code= -> returning\n",
     "t.conf:1: [courier acme] status_rule_1: want values of 1 to 64 bytes after the operator: "
     "'state.code= '"},
    {NULL, "status_rule_1 = state..code=RT -> returning\n",
     "t.conf:1: [courier acme] status_rule_1: bad path (want key.key[N].key[field=value]): "
     "'state..code=RT '"},
    {NULL, "status_rule_1 = @status=returning -> returned\n",
     "t.conf:1: [courier acme] status_rule_1: @status only in eta_unless: '@status=returning '"},
    {NULL, "status_rule_1 = a & b & c & d & e & f & g & h & i -> returned\n",
     "t.conf:1: [courier acme] status_rule_1: too many conditions (max 8): ' i '"},
    {NULL, "status_rule_1 = x -> a -> returned\n",
     "t.conf:1: [courier acme] status_rule_1: want 'COND & COND -> status'"},
    {NULL, "eta_unless = @status=retour\n",
     "t.conf:1: [courier acme] eta_unless: @status wants = or != and canonical statuses: "
     "'@status=retour'"},
    {NULL, "eta_unless = @status~returned\n",
     "t.conf:1: [courier acme] eta_unless: @status wants = or != and canonical statuses"},
    {"path_eta", "eta_unless = @status=returned\n",
     "t.conf:1: [courier acme] eta_unless: needs path_eta: '@status=returned'"},
    {"path_shipment", "path_shipment = result.parcels[.awb={tracking}]\n",
     "t.conf:1: [courier acme] path_shipment: bad selector (want [N], [field=value] or "
     "[a.b=value])"},
    {"path_shipment", "path_shipment = result.parcels[a..b={tracking}]\n",
     "t.conf:1: [courier acme] path_shipment: bad selector"},
    /* authentication */
    {"header_1", "header_1 = Authorization: Bearer {token}\n",
     "t.conf:1: [courier acme] auth: {token} needs auth = oauth or login: 'header'"},
    {"header_1", "auth = basic\nheader_1 = Authorization: Basic {api_key}\n",
     "t.conf:1: [courier acme] auth: basic sets the Authorization header itself"},
    {NULL, "token_path = jwt\n",
     "t.conf:1: [courier acme] auth: auth_body, auth_scope, login_user_field and token_* need "
     "auth = oauth or login: 'header'"},
    {NULL, "auth = oauth\nlogin_user_field = user\n",
     "t.conf:1: [courier acme] login_user_field: only with auth = login: 'user'"},
    {NULL, "auth = login\nauth_scope = tracking\n",
     "t.conf:1: [courier acme] auth_scope: only with auth = oauth: 'tracking'"},
    {NULL, "auth = login\nlogin_user_field = e mail\n",
     "t.conf:1: [courier acme] login_user_field: want a plain JSON key: 'e mail'"},
    {NULL, "auth = sso\n",
     "t.conf:23: [courier acme] auth: 'sso' is not one of: header, basic, oauth, login"},
    {NULL, "auth = oauth\nauth_url = https://acme.example/token\n",
     "t.conf:1: [courier acme] credentials: the generic adapter needs api_key and api_secret"},
    {NULL, "auth = oauth\n",
     "t.conf:1: [courier acme] credentials: the generic adapter needs api_key and api_secret, "
     "and auth_url (the token URL)"},
    /* batches and errors */
    {"path_shipment", "batch_max = 10\npath_shipment = result.parcels[0]\n",
     "t.conf:1: [courier acme] batch_max: needs path_shipment with a [field={tracking}] "
     "selector (answers are matched back by it): '10'"},
    {NULL, "batch_max = 51\n", "t.conf:23: [courier acme] batch_max: '51' is out of range (1..50)"},
    {NULL, "batch_max = 5\nbatch_separator = a b\n",
     "t.conf:1: [courier acme] batch_separator: want 1 to 8 URL characters: 'a b'"},
    {"url", "url = https://acme.example/t\nmethod = POST\nbody = {\"awbs\":{numbers}}\n",
     "t.conf:1: [courier acme] body: {numbers} needs batch_max above 1"},
    {"url", "url = https://acme.example/{numbers}\n",
     "t.conf:1: [courier acme] url: placeholder not allowed here: '{numbers}'"},
    {NULL, "method = POST\nbatch_max = 2\nbody = {\"a\":{numbers}}\nbatch_item = {\"n\":1}\n",
     "t.conf:1: [courier acme] batch_item: does not use {tracking}"},
    {NULL, "batch_item = {\"n\":\"{tracking}\"}\n",
     "t.conf:1: [courier acme] batch_item: only with {numbers} in body"},
    {NULL, "invalid_status = 429\n",
     "t.conf:1: [courier acme] invalid_status: want a 4xx other than 401 403 429: '429'"},
    {NULL, "invalid_status = 404\n",
     "t.conf:1: [courier acme] invalid_status: same as not_found_status: '404'"},
    {NULL, "invalid_codes = E1, E2\n",
     "t.conf:1: [courier acme] invalid_codes: needs path_error_code: 'E1, E2'"},
    {NULL, "path_error = error..message\n", "t.conf:1: [courier acme] path_error: bad path"},
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
	if (load("[courier dhl]\napi_key_env = SWT_ACME_KEY\ntoken_lifetime = 2h\n", &conf, &pc,
		 err, sizeof(err)) == SW_OK)
		err[0] = '\0';
	is_str(err,
	       "t.conf:1: [courier dhl] token_lifetime: only with adapter = generic: "
	       "'token_lifetime'",
	       "generic token_lifetime refused for dhl");
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

/* ---- the worked examples of doc/couriers.md -------------------------------- */

/* The [courier NAME] block after "<!-- generic-example: NAME -->" in
 * doc/couriers.md (the tests use the documented text itself); new string,
 * "" if absent. */
static char *example_text(const char *name)
{
	const char *dir = getenv("SW_SRCDIR");
	char *path = xasprintf("%s/doc/couriers.md", dir && *dir ? dir : ".");
	char *mark = xasprintf("<!-- generic-example: %s -->\n```ini\n", name);
	FILE *f = fopen(path, "rb");
	char *buf = xcalloc(1, 256 * 1024), *at, *end;
	size_t len = f ? fread(buf, 1, 256 * 1024 - 1, f) : 0;

	if (f)
		fclose(f);
	buf[len] = '\0';
	at = strstr(buf, mark);
	end = at ? strstr(at + strlen(mark), "```") : NULL;
	if (end == NULL)
		printf("# no example %s in %s\n", name, path);
	at = end ? xstrndup(at + strlen(mark), (size_t)(end - at - strlen(mark))) : xstrdup("");
	free(buf);
	free(mark);
	free(path);
	return at;
}

/* Loads the documented example name (plus extra lines) into a. */
static bool example_load(struct acme *a, const char *name, const char *extra)
{
	char err[512] = "";
	char *block = example_text(name), *text = xasprintf("%s%s", block, extra ? extra : "");
	enum sw_err rc = load(text, &a->conf, &a->pc, err, sizeof(err));
	struct sw_poll_courier_conf *cf;

	free(block);
	free(text);
	memset(&a->cc, 0, sizeof(a->cc));
	if (!ok(rc == SW_OK, "example %s loads", name)) {
		printf("# config: %s\n", err);
		return false;
	}
	cf = sw_poll_conf_find(a->pc, name);
	sw_poll_courier_view(cf, &a->cc);
	return cf->spec != NULL;
}

/* The result of number in the answer body (HTTP http) to numbers[0..n). */
static enum sw_err parse_n(const struct acme *a, long http, const char *body,
			   const char *const *numbers, size_t n, struct sw_courier_result *res)
{
	struct sw_courier_response resp = {http, "application/json", body, strlen(body)};

	return sw_courier_parse(&sw_courier_generic, &a->cc, &resp, numbers, n, res);
}

static void auth_answer(const struct acme *a, long http, const char *body,
			struct sw_courier_token *tok, enum sw_err want, const char *what)
{
	struct sw_courier_response resp = {http, "application/json", body, strlen(body)};
	char err[256] = "";

	is_int(sw_courier_parse_auth(&sw_courier_generic, &a->cc, &resp, tok, err, sizeof(err)),
	       want, "%s", what);
	if (want != SW_OK)
		printf("#   %s\n", err);
}

static void test_usps(void)
{
	struct acme a;
	struct sw_courier_request req;
	struct sw_courier_token tok = {0};
	struct sw_courier_result r;
	const char *nums[] = {"9400100000000000000001"};
	size_t len;
	char *body;

	if (!example_load(&a, "usps", NULL))
		return;
	is_int(sw_courier_auth_of(&sw_courier_generic, &a.cc), SW_COURIER_AUTH_OAUTH,
	       "usps: oauth");
	ok(sw_courier_needs_token(&sw_courier_generic, &a.cc), "usps: needs a token");
	is_int(sw_courier_max_batch(&sw_courier_generic, &a.cc), 1, "usps: one number a request");
	is_int(sw_courier_generic.build_auth_request(&a.cc, &req), SW_OK, "usps: token request");
	is_str(req.url, "https://apis.usps.com/oauth2/v3/token", "  to auth_url");
	is_int(req.method, SW_COURIER_POST, "  POST");
	is_str(sw_courier_request_header(&req, "Content-Type"), "application/json", "  JSON");
	is_str(req.body,
	       "{\"client_id\":\"usps-id\",\"client_secret\":\"usps-s\\\"ecret\","
	       "\"grant_type\":\"client_credentials\"}",
	       "  client credentials in a JSON body, escaped");
	sw_courier_request_free(&req);

	body = slurp("usps_token.json", &len);
	auth_answer(&a, 200, body, &tok, SW_OK, "usps: token answer read");
	is_str(tok.token, "usps-test-token-1", "  access_token");
	is_int(tok.lifetime_s, 28799, "  expires_in");
	sw_courier_token_clear(&tok);
	free(body);
	auth_answer(&a, 200, "{\"access_token\":\"t2\",\"expires_in\":\"600\"}", &tok, SW_OK,
		    "usps: expires_in as a digit string");
	is_int(tok.lifetime_s, 600, "  600 s");
	sw_courier_token_clear(&tok);
	auth_answer(&a, 200, "{\"access_token\":\"t3\"}", &tok, SW_OK, "usps: no expires_in");
	is_int(tok.lifetime_s, 3600, "  token_lifetime's default");
	sw_courier_token_clear(&tok);
	auth_answer(&a, 200, "{\"access_token\":\"t4\",\"expires_in\":\"soon\"}", &tok, SW_EPROTO,
		    "usps: bad expires_in is a protocol error");
	auth_answer(&a, 200, "{\"token\":\"t5\"}", &tok, SW_EPROTO, "usps: no access_token");
	auth_answer(&a, 401,
		    "{\"error\":{\"code\":\"401\",\"message\":\"The client application identifier "
		    "is invalid.\"}}",
		    &tok, SW_EAUTH, "usps: refused credentials");
	auth_answer(&a, 503, "<html>", &tok, SW_EAGAIN, "usps: 503 retried later");

	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 1, &req), SW_EAUTH,
	       "usps: no token, no request");
	sw_courier_request_free(&req);
	is_int(sw_courier_generic.build_request(&a.cc, "tk-1", NULL, nums, 1, &req), SW_OK,
	       "usps: tracking request");
	is_str(req.url,
	       "https://apis.usps.com/tracking/v3/tracking/9400100000000000000001?expand=DETAIL",
	       "  URL");
	is_str(sw_courier_request_header(&req, "Authorization"), "Bearer tk-1", "  bearer token");
	sw_courier_request_free(&req);

	parse_file(&a, "usps_delivered.json", nums[0], &r);
	is_str(sw_store_ship_status_name(r.status), "delivered", "usps: statusCategory Delivered");
	is_int(r.n_events, 6, "  6 events");
	is_str(r.n_events ? r.events[0].code : NULL, "GX", "  newest-first list sorted: GX first");
	is_str(r.n_events ? sw_store_ship_status_name(r.events[5].status) : NULL, "delivered",
	       "  event 01 delivered");
	ok(r.has_delivered, "  delivered time from the 01 event");
	is_str(utc(&r.delivered), "2024-11-18T17:06:00Z", "  its GMTTimestamp");
	ok(r.has_eta, "  ETA kept");
	is_str(date(&r.eta), "2024-11-18", "  ETA as written");
	sw_courier_result_clear(&r);
	parse_file(&a, "usps_return.json", "9400100000000000000002", &r);
	is_str(sw_store_ship_status_name(r.status), "returning",
	       "usps: 'Return to Sender' text beats category In Transit (rule)");
	ok(!r.has_eta, "  ETA dropped (eta_unless)");
	sw_courier_result_clear(&r);

	body = slurp("usps_not_found.json", &len);
	parse(&a, 404, "application/json", body, len, nums[0], &r);
	is_str(sw_courier_outcome_name(r.outcome), "not_found", "usps: 404 not found");
	is_str(r.message, "Tracking is not available for this item at this time.",
	       "  message from error.message");
	sw_courier_result_clear(&r);
	free(body);
	body = slurp("usps_invalid.json", &len);
	parse(&a, 400, "application/json", body, len, nums[0], &r);
	is_str(sw_courier_errkind_name(r.errkind), "rejected", "usps: 400 rejects the number");
	is_str(r.message, "HTTP 400: The tracking number is not valid.", "  with its message");
	sw_courier_result_clear(&r);
	parse(&a, 401, "application/json", body, len, nums[0], &r);
	is_str(sw_courier_errkind_name(r.errkind), "unauthorized", "usps: 401 unauthorized");
	is_str(r.message, "HTTP 401: The tracking number is not valid.", "  envelope message");
	sw_courier_result_clear(&r);
	free(body);
	acme_free(&a);
}

static void check_one(const struct sw_courier_result *r, const char *outcome, const char *status,
		      const char *what)
{
	is_str(sw_courier_outcome_name(r->outcome), outcome, "%s: %s", what, outcome);
	if (status != NULL)
		is_str(sw_store_ship_status_name(r->status), status, "  %s", status);
}

static void test_delhivery(void)
{
	struct acme a;
	struct sw_courier_request req;
	struct sw_courier_result r[6];
	const char *nums[] = {"1490000000001", "1490000000002", "1490000000003",
			      "1490000000004", "1490000000005", "1490000000099"};
	size_t len;
	char *body;

	if (!example_load(&a, "delhivery", NULL))
		return;
	is_int(sw_courier_auth_of(&sw_courier_generic, &a.cc), SW_COURIER_AUTH_API_KEY,
	       "delhivery: static key");
	ok(!sw_courier_needs_token(&sw_courier_generic, &a.cc), "  no token");
	is_int(sw_courier_max_batch(&sw_courier_generic, &a.cc), 50, "delhivery: 50 a request");
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 3, &req), SW_OK,
	       "delhivery: batch request");
	is_str(req.url,
	       "https://track.delhivery.com/api/v1/packages/json/"
	       "?waybill=1490000000001,1490000000002,1490000000003",
	       "  waybills joined");
	is_str(sw_courier_request_header(&req, "Authorization"), "Token dl-key", "  Token header");
	sw_courier_request_free(&req);

	body = slurp("delhivery_batch.json", &len);
	is_int(parse_n(&a, 200, body, nums, 6, r), SW_OK, "delhivery: batch answer read");
	check_one(&r[0], "found", "in_transit", "UD + In Transit");
	is_int(r[0].n_events, 3, "  3 scans");
	is_str(r[0].n_events ? utc(&r[0].events[0].at) : NULL, "2024-09-20T04:32:31.4Z",
	       "  zone-less IST time, one fractional digit");
	is_str(r[0].n_events ? utc(&r[0].events[2].at) : NULL, "2024-09-21T12:41:04.124Z",
	       "  three fractional digits");
	is_str(r[0].n_events ? utc(&r[0].events[1].at) : NULL, "2024-09-20T15:06:53Z", "  none");
	ok(r[0].has_eta, "  ETA kept");
	is_str(date(&r[0].eta), "2024-09-24", "  ExpectedDeliveryDate as written");
	check_one(&r[1], "found", "returning", "RT + In Transit");
	ok(!r[1].has_eta, "  stale forward ETA dropped");
	check_one(&r[2], "found", "returned", "RT + RTO");
	ok(!r[2].has_eta, "  ETA dropped after RTO");
	check_one(&r[3], "found", "delivered", "DL + Delivered");
	is_str(utc(&r[3].delivered), "2024-09-22T08:32:11.5Z", "  DeliveryDate in IST");
	ok(r[3].has_eta, "  delivered parcel keeps its ETA");
	check_one(&r[4], "found", "attempt_fail", "UD + Pending + NDR code");
	check_one(&r[5], "not_found", NULL, "number left out of the answer");
	for (size_t i = 0; i < 6; i++)
		sw_courier_result_clear(&r[i]);
	free(body);

	parse_n(&a, 200, "{\"ShipmentData\":[]}", nums, 2, r);
	check_one(&r[0], "not_found", NULL, "delhivery: empty ShipmentData");
	check_one(&r[1], "not_found", NULL, "  for every number");
	sw_courier_result_clear(&r[0]);
	sw_courier_result_clear(&r[1]);
	parse_n(&a, 200, "{\"Error\":\"x\"}", nums, 2, r);
	is_str(sw_courier_errkind_name(r[0].errkind), "bad_response",
	       "delhivery: no ShipmentData is a bad answer");
	sw_courier_result_clear(&r[0]);
	sw_courier_result_clear(&r[1]);
	acme_free(&a);
}

static void test_easypost(void)
{
	struct acme a;
	struct sw_courier_request req;
	struct sw_courier_result r;
	const char *nums[] = {"EZ2000000002"};
	size_t len;
	char *body, *b64, *want;

	if (!example_load(&a, "easypost", NULL))
		return;
	is_int(sw_courier_auth_of(&sw_courier_generic, &a.cc), SW_COURIER_AUTH_API_KEY,
	       "easypost: key");
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 1, &req), SW_OK,
	       "easypost: request");
	is_str(req.url, "https://api.easypost.com/v2/trackers", "  POST /v2/trackers");
	is_str(req.body, "{\"tracker\":{\"tracking_code\":\"EZ2000000002\"}}", "  body");
	b64 = xstrdup("ZXAta2V5Og=="); /* "ep-key:" */
	want = xasprintf("Basic %s", b64);
	is_str(sw_courier_request_header(&req, "Authorization"), want,
	       "  Basic, key as user, empty password");
	free(b64);
	free(want);
	sw_courier_request_free(&req);

	body = slurp("easypost_in_transit.json", &len);
	parse(&a, 200, "application/json", body, len, nums[0], &r);
	check_one(&r, "found", "in_transit", "easypost: tracker");
	is_int(r.n_events, 3, "  3 tracking_details");
	is_str(r.n_events ? sw_store_ship_status_name(r.events[0].status) : NULL, "info_received",
	       "  pre_transit");
	is_str(r.n_events ? r.events[2].location : NULL, "MEMPHIS", "  tracking_location.city");
	is_str(date(&r.eta), "2024-11-19", "  est_delivery_date");
	sw_courier_result_clear(&r);
	free(body);
	parse(&a, 200, "application/json", "{\"status\":\"canceled\"}", 21, nums[0], &r);
	check_one(&r, "found", "unknown", "easypost: 'canceled' spelling");
	sw_courier_result_clear(&r);
	body = slurp("easypost_error.json", &len);
	parse(&a, 422, "application/json", body, len, nums[0], &r);
	is_str(sw_courier_errkind_name(r.errkind), "rejected", "easypost: 422 rejects the number");
	is_str(r.message, "HTTP 422: Invalid tracking code for this carrier.", "  error.message");
	sw_courier_result_clear(&r);
	parse(&a, 200, "application/json", body, len, nums[0], &r);
	is_str(sw_courier_errkind_name(r.errkind), "rejected",
	       "easypost: error envelope in a 200 with an invalid code");
	sw_courier_result_clear(&r);
	parse(&a, 500, "application/json", body, len, nums[0], &r);
	is_str(sw_courier_errkind_name(r.errkind), "server", "easypost: 500 stays a server error");
	sw_courier_result_clear(&r);
	free(body);
	acme_free(&a);
}

/* Batches of the made-up acme API: per-number errors, envelopes. */
static void test_acme_batch(void)
{
	static const char answer[] =
	    "{\"result\":{\"parcels\":[{\"awb\":\"N1\",\"state\":{\"code\":\"OFD\"}},"
	    "{\"awb\":\"N3\",\"state\":{\"code\":\"DLV\"}}],"
	    "\"rejected\":[{\"awb\":\"N2\",\"message\":\"N2 is not ours\"}]}}";
	struct acme a;
	struct sw_courier_request req;
	struct sw_courier_result r[4];
	const char *nums[] = {"N1", "N2", "N3", "N4"};

	if (!acme_load(&a, "url",
		       "url = https://acme.example/t?awb={tracking}\nbatch_max = 4\n"
		       "batch_separator = +\npath_rejected = result.rejected[awb={tracking}]\n"
		       "path_error = fault.text\npath_error_code = fault.code\n"
		       "invalid_codes = BAD_AWB\n")) {
		ok(0, "acme batch loads");
		return;
	}
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 4, &req), SW_OK,
	       "acme: 4 numbers");
	is_str(req.url, "https://acme.example/t?awb=N1+N2+N3+N4", "  separator +");
	sw_courier_request_free(&req);
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 5, &req), SW_ERANGE,
	       "acme: 5 is above batch_max");
	sw_courier_request_free(&req);
	parse_n(&a, 200, answer, nums, 4, r);
	check_one(&r[0], "found", "out_for_delivery", "acme batch: N1");
	is_str(sw_courier_errkind_name(r[1].errkind), "rejected", "acme batch: N2 rejected alone");
	is_str(r[1].message, "N2 is not ours", "  its own message");
	check_one(&r[2], "found", "delivered", "acme batch: N3 unharmed");
	check_one(&r[3], "not_found", NULL, "acme batch: N4 missing from a good answer");
	for (size_t i = 0; i < 4; i++)
		sw_courier_result_clear(&r[i]);
	parse_n(&a, 200, "{\"fault\":{\"code\":\"BAD_AWB\",\"text\":\"bad awb\"}}", nums, 2, r);
	is_str(sw_courier_errkind_name(r[0].errkind), "batch",
	       "acme: envelope naming no number in a batch: resend (batch)");
	is_str(r[0].message, "bad awb", "  envelope message");
	sw_courier_result_clear(&r[0]);
	sw_courier_result_clear(&r[1]);
	parse_n(&a, 200, "{\"fault\":{\"code\":\"BAD_AWB\",\"text\":\"bad awb\"}}", nums, 1, r);
	is_str(sw_courier_errkind_name(r[0].errkind), "rejected", "acme: same for one: rejected");
	sw_courier_result_clear(&r[0]);
	parse_n(&a, 200, "{\"fault\":{\"code\":\"DOWN\",\"text\":\"maintenance\"}}", nums, 2, r);
	is_str(sw_courier_errkind_name(r[1].errkind), "other", "acme: other envelope: other");
	sw_courier_result_clear(&r[0]);
	sw_courier_result_clear(&r[1]);
	parse_n(&a, 404, "{}", nums, 2, r);
	is_str(sw_courier_errkind_name(r[0].errkind), "batch",
	       "acme: not_found_status for a batch names no number: batch");
	sw_courier_result_clear(&r[0]);
	sw_courier_result_clear(&r[1]);
	acme_free(&a);
}

/* HTTP Basic from api_key:api_secret (EasyPost's key-only form is in
 * test_easypost). */
static void test_acme_basic(void)
{
	struct acme a;
	struct sw_courier_request req;
	const char *nums[] = {"N1"};

	if (!acme_load(&a, "header_1", "auth = basic\napi_secret_env = SWT_ACME_SECRET\n")) {
		ok(0, "acme basic loads");
		return;
	}
	sw_poll_courier_view(sw_poll_conf_find(a.pc, "acme"), &a.cc);
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 1, &req), SW_OK,
	       "basic: request");
	is_str(sw_courier_request_header(&req, "Authorization"),
	       "Basic ay1hY21lOnMmPXg=", "  Basic k-acme:s&=x");
	sw_courier_request_free(&req);
	a.cc.api_key = NULL;
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 1, &req), SW_EAUTH,
	       "basic: no key, no request");
	sw_courier_request_free(&req);
	acme_free(&a);
}

/* A POST of an array of objects, one per number (USPS v3r2-like). */
static void test_acme_items(void)
{
	struct acme a;
	struct sw_courier_request req;
	const char *nums[] = {"N1", "N2"};

	if (!acme_load(&a, "url",
		       "url = https://acme.example/t\nmethod = POST\nbatch_max = 35\n"
		       "body = {\"items\":{numbers},\"key\":\"{api_key}\"}\n"
		       "batch_item = {\"trackingNumber\":\"{tracking}\",\"x\":1}\n")) {
		ok(0, "acme items loads");
		return;
	}
	is_int(sw_courier_max_batch(&sw_courier_generic, &a.cc), 35, "items: batch_max 35");
	is_int(sw_courier_generic.build_request(&a.cc, NULL, NULL, nums, 2, &req), SW_OK,
	       "items: request");
	is_str(req.body,
	       "{\"items\":[{\"trackingNumber\":\"N1\",\"x\":1},{\"trackingNumber\":\"N2\","
	       "\"x\":1}],\"key\":\"k-acme\"}",
	       "  batch_item per number");
	sw_courier_request_free(&req);
	acme_free(&a);
}

/* OAuth with a form body, login, {numbers} in a JSON body. */
static void test_acme_auth(void)
{
	struct acme a;
	struct sw_courier_request req;
	struct sw_courier_token tok = {0};
	const char *nums[] = {"N1", "N\"2"};
	struct sw_poll_courier_conf *cf;

	if (acme_load(&a, "header_1",
		      "auth = oauth\nauth_url = https://acme.example/oauth\nauth_scope = track "
		      "read\napi_secret_env = SWT_ACME_SECRET\n")) {
		is_int(sw_courier_generic.build_auth_request(&a.cc, &req), SW_EAUTH,
		       "oauth: no secret in cc, no token request");
		cf = sw_poll_conf_find(a.pc, "acme");
		sw_poll_courier_view(cf, &a.cc);
		is_int(sw_courier_generic.build_auth_request(&a.cc, &req), SW_OK, "oauth: form");
		is_str(req.body,
		       "grant_type=client_credentials&client_id=k-acme&client_secret=s%26%3Dx&"
		       "scope=track%20read",
		       "  form-encoded");
		is_str(sw_courier_request_header(&req, "Content-Type"),
		       "application/x-www-form-urlencoded", "  form type");
		sw_courier_request_free(&req);
		is_int(sw_courier_generic.build_request(&a.cc, "tok", NULL, nums, 1, &req), SW_OK,
		       "oauth: request");
		is_str(sw_courier_request_header(&req, "Authorization"), "Bearer tok",
		       "  Bearer added without an Authorization header");
		sw_courier_request_free(&req);
		acme_free(&a);
	} else {
		ok(0, "oauth acme loads");
	}
	if (acme_load(&a, "header_1 api_key_env url",
		      "url = https://acme.example/t\nauth = login\nauth_url = "
		      "https://acme.example/login\nusername = ops@example.com\npassword_env = "
		      "SWT_ACME_SECRET\ntoken_path = data.jwt\ntoken_lifetime = 240h\n"
		      "header_1 = X-Auth: JWT {token}\nmethod = POST\nbatch_max = 2\n"
		      "body = {\"awbs\":{numbers}}\n")) {
		sw_poll_courier_view(sw_poll_conf_find(a.pc, "acme"), &a.cc);
		is_int(sw_courier_auth_of(&sw_courier_generic, &a.cc), SW_COURIER_AUTH_LOGIN,
		       "login: auth kind");
		is_int(sw_courier_generic.build_auth_request(&a.cc, &req), SW_OK, "login: request");
		is_str(req.body, "{\"email\":\"ops@example.com\",\"password\":\"s&=x\"}",
		       "  JSON login");
		sw_courier_request_free(&req);
		auth_answer(&a, 200, "{\"data\":{\"jwt\":\"j1\"}}", &tok, SW_OK, "login: token");
		is_str(tok.token, "j1", "  at token_path");
		is_int(tok.lifetime_s, 864000, "  token_lifetime");
		sw_courier_token_clear(&tok);
		is_int(sw_courier_generic.build_request(&a.cc, "j1", NULL, nums, 2, &req), SW_OK,
		       "login: batch request");
		is_str(req.body, "{\"awbs\":[\"N1\",\"N\\\"2\"]}", "  {numbers} a JSON array");
		is_str(sw_courier_request_header(&req, "X-Auth"), "JWT j1", "  {token} header");
		ok(sw_courier_request_header(&req, "Authorization") == NULL, "  no extra bearer");
		sw_courier_request_free(&req);
		acme_free(&a);
	} else {
		ok(0, "login acme loads");
	}
}

/* ---- end to end ----------------------------------------------------------- */

/* The scripted Acme API (tests/data/generic/stub_generic.py). */
static void start_stub(struct stub_proc *s)
{
	char *script = stub_data_path("generic/stub_generic.py");
	char *portfile = xasprintf("%s/port", tmpdir);
	const char *args[] = {script, portfile, NULL};

	stub_proc_start(s, portfile, false, args);
	free(script);
	free(portfile);
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
	struct stub_proc stub = {0};

	if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
		printf("# python3 not available: end-to-end test skipped\n");
		return;
	}
	store_tmp_dir(); /* the stub's port file goes there */
	start_stub(&stub);
	sw_log_set_sink(sink, NULL);
	if (ok(stub.port > 0, "stub Acme API started") && (store = store_tmp_open())) {
		sw_loop_new(&loop);
		run_engine(store, loop, stub.port);
		sw_loop_free(loop);
	}
	sw_store_close(store);
	sw_log_set_sink(NULL, NULL);
	stub_proc_stop(&stub);
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
	setenv("USPS_CLIENT_ID", "usps-id", 1);
	setenv("USPS_CLIENT_SECRET", "usps-s\"ecret", 1);
	setenv("DELHIVERY_TOKEN", "dl-key", 1);
	setenv("EASYPOST_API_KEY", "ep-key", 1);
	setenv("SWT_ACME_SECRET", "s&=x", 1);
	test_usps();
	test_delhivery();
	test_easypost();
	test_acme_batch();
	test_acme_items();
	test_acme_basic();
	test_acme_auth();
	test_end_to_end();
	return store_tmp_done(NULL);
}
