/*
 * poll.c - the courier poll engine (see poll.h for the behaviour).
 *
 * Design.  One CURLM on the loop, wired like curl's ephiperfifo.c:
 * curl_sock_cb() mirrors libcurl's wishes into loop fds, curl_timer_cb()
 * keeps ONE loop timer armed, and every curl_multi_socket_action() is
 * followed by drain(), which finishes completed transfers.  Completions
 * never start transfers themselves: they kick the scheduler timer, so
 * libcurl is never re-entered from its own callbacks.
 *
 * The scheduler timer runs pump() for every courier: it takes the due
 * parcels of that courier from the store (skipping those already in
 * flight, which stay due until their answer is applied: no lease writes),
 * groups them into batches of max_batch and sends while the courier has
 * room (concurrency), a request token (bucket refilled at rate up to
 * burst), quota left today, no pause, and a token if its API needs one.
 * Courier-wide failures (429, 5xx, timeouts, refused credentials) only set
 * paused_until; parcels are never touched then and simply stay due.
 * Per-parcel outcomes are applied in one store transaction per answer,
 * with a savepoint per parcel so one bad row does not lose the others.
 *
 * Times: loop milliseconds (monotonic) for pauses, buckets and tokens;
 * wall-clock unix seconds for the store's schedule.  The daily quota is
 * counted per UTC day in memory (a restart forgets what was used).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "collector/courier/generic.h"
#include "collector/poll.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/store_feeds.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"

#define TOKEN_MARGIN_MS ((int64_t)60 * 1000) /* renew a token this early */
#define RETRY_AFTER_MAX_S 86400               /* longest Retry-After honoured */
#define SEED_SPREAD_DIV 10                    /* new parcels spread over interval/10 */

/* ---- configuration ------------------------------------------------------ */

#define ADAPTER_WORD(name, display_name, api) #name,
const char *const sw_poll_adapter_words[] = {"auto", SW_COURIER_LIST(ADAPTER_WORD) "generic", NULL};
#undef ADAPTER_WORD
static const char *const method_words[] = {"GET", "POST", NULL}; /* enum sw_courier_method */

#define C(f) offsetof(struct sw_poll_courier_conf, f)
const struct sw_conf_opt sw_poll_courier_table[] = {
    {.name = "adapter", .type = SW_CONF_ENUM, .offset = C(adapter),
     .words = sw_poll_adapter_words, .def = "auto",
     .help = "tracking API: " SW_COURIER_INFO_NAMES "generic; auto: the section name"},
    {.name = "base_url", .type = SW_CONF_STRING, .offset = C(base_url),
     .help = "API base URL (default: the adapter's production URL)"},
    {.name = "auth_url", .type = SW_CONF_STRING, .offset = C(auth_url),
     .help = "token/login URL (default: derived from base_url)"},
    {.name = "api_key", .type = SW_CONF_SECRET, .offset = C(api_key),
     .help = "API key or OAuth client id (api_key_file or api_key_env)"},
    {.name = "api_secret", .type = SW_CONF_SECRET, .offset = C(api_secret),
     .help = "OAuth client secret (api_secret_file or api_secret_env)"},
    {.name = "username", .type = SW_CONF_STRING, .offset = C(username),
     .help = "login user (adapters that log in)"},
    {.name = "password", .type = SW_CONF_SECRET, .offset = C(password),
     .help = "login password (password_file or password_env)"},
    {.name = "ca_file", .type = SW_CONF_PATH, .offset = C(ca_file),
     .help = "CA bundle for the API (default: system store)"},
    {.name = "allow_plaintext", .type = SW_CONF_BOOL, .offset = C(allow_plaintext), .def = "no",
     .help = "allow credentials over http:// to a host that is not loopback"},
    {.name = "concurrency", .type = SW_CONF_INT, .offset = C(concurrency), .min = 1, .max = 64,
     .def = "4", .help = "requests in flight at once"},
    {.name = "rate", .type = SW_CONF_DOUBLE, .offset = C(rate), .dmin = 0.001, .dmax = 1000,
     .def = "1", .help = "requests per second (token bucket)"},
    {.name = "burst", .type = SW_CONF_INT, .offset = C(burst), .min = 1, .max = 1000,
     .def = "4", .help = "requests that may go at once after a quiet time"},
    {.name = "timeout", .type = SW_CONF_DURATION, .offset = C(timeout), .min = 1000,
     .max = 600000, .def = "20s", .help = "whole request, connect included"},
    {.name = "max_response", .type = SW_CONF_SIZE, .offset = C(max_response), .min = 1024,
     .max = SW_COURIER_MAX_BODY, .def = "4M", .help = "largest answer body accepted"},
    {.name = "interval", .type = SW_CONF_DURATION, .offset = C(interval), .min = 1000,
     .max = INT64_C(30) * 86400000, .def = "2h", .help = "time between polls of a parcel"},
    {.name = "interval_near", .type = SW_CONF_DURATION, .offset = C(interval_near),
     .min = 1000, .max = INT64_C(30) * 86400000, .def = "30m",
     .help = "time between polls while out for delivery"},
    {.name = "interval_max", .type = SW_CONF_DURATION, .offset = C(interval_max), .min = 1000,
     .max = INT64_C(30) * 86400000, .def = "12h",
     .help = "unchanged parcels back off up to this"},
    {.name = "daily_quota", .type = SW_CONF_INT, .offset = C(daily_quota), .min = 0,
     .max = INT64_C(1000000000), .def = "0", .help = "requests per UTC day; 0: no limit"},
    {.name = "cooldown", .type = SW_CONF_DURATION, .offset = C(cooldown), .min = 1000,
     .max = 86400000, .def = "60s", .help = "pause after a 429 without Retry-After"},
    {.name = "backoff_min", .type = SW_CONF_DURATION, .offset = C(backoff_min), .min = 1000,
     .max = 86400000, .def = "30s", .help = "first pause after an API failure"},
    {.name = "backoff_max", .type = SW_CONF_DURATION, .offset = C(backoff_max), .min = 1000,
     .max = 86400000, .def = "1h", .help = "longest pause after repeated failures"},
    /* adapter = generic only (collector/courier/generic.h) */
    {.name = "url", .type = SW_CONF_STRING, .offset = C(generic.url),
     .help = "generic: tracking URL template, http(s), {tracking} and {api_key} URL-escaped"},
    {.name = "method", .type = SW_CONF_ENUM, .offset = C(generic.method), .words = method_words,
     .def = "GET", .help = "generic: GET or POST"},
    {.name = "body", .type = SW_CONF_STRING, .offset = C(generic.body),
     .help = "generic: POST body template ({tracking} {api_key} JSON-escaped)"},
    {.name = "header_1", .type = SW_CONF_STRING, .offset = C(generic.header[0]),
     .help = "generic: 'Name: value' header; credentials only as {api_key}"},
    {.name = "header_2", .type = SW_CONF_STRING, .offset = C(generic.header[1]),
     .help = "generic: another 'Name: value' header"},
    {.name = "header_3", .type = SW_CONF_STRING, .offset = C(generic.header[2]),
     .help = "generic: another 'Name: value' header"},
    {.name = "header_4", .type = SW_CONF_STRING, .offset = C(generic.header[3]),
     .help = "generic: another 'Name: value' header"},
    {.name = "path_shipment", .type = SW_CONF_STRING, .offset = C(generic.path_shipment),
     .help = "generic: path from the root to the shipment, e.g. data.items[awb={tracking}]"},
    {.name = "path_status", .type = SW_CONF_STRING, .offset = C(generic.path_status),
     .help = "generic: shipment status code (mapped by status_map)"},
    {.name = "path_status_text", .type = SW_CONF_STRING, .offset = C(generic.path_status_text),
     .help = "generic: shipment status text"},
    {.name = "path_events", .type = SW_CONF_STRING, .offset = C(generic.path_events),
     .help = "generic: the shipment's array of events"},
    {.name = "path_event_time", .type = SW_CONF_STRING, .offset = C(generic.path_event_time),
     .help = "generic: event time (read with time_format)"},
    {.name = "path_event_code", .type = SW_CONF_STRING, .offset = C(generic.path_event_code),
     .help = "generic: event code (mapped by status_map)"},
    {.name = "path_event_text", .type = SW_CONF_STRING, .offset = C(generic.path_event_text),
     .help = "generic: event description"},
    {.name = "path_event_location", .type = SW_CONF_STRING,
     .offset = C(generic.path_event_location), .help = "generic: event place"},
    {.name = "path_event_offset", .type = SW_CONF_STRING, .offset = C(generic.path_event_offset),
     .help = "generic: UTC offset of a zone-less event time ('+05:30')"},
    {.name = "path_eta", .type = SW_CONF_STRING, .offset = C(generic.path_eta),
     .help = "generic: estimated delivery date (kept as written)"},
    {.name = "path_delivered_at", .type = SW_CONF_STRING, .offset = C(generic.path_delivered_at),
     .help = "generic: delivery time"},
    {.name = "path_not_found", .type = SW_CONF_STRING, .offset = C(generic.path_not_found),
     .help = "generic: path from the root whose presence means not found"},
    {.name = "not_found_status", .type = SW_CONF_INT, .offset = C(generic.not_found_status),
     .min = 0, .max = 499, .def = "0", .help = "generic: HTTP status meaning not found; 0: none"},
    {.name = "time_format", .type = SW_CONF_STRING, .offset = C(generic.time_format),
     .help = "generic: rfc3339 (default), epoch, epoch_ms or a pattern like %d/%m/%Y %H:%M"},
    {.name = "time_zone", .type = SW_CONF_STRING, .offset = C(generic.time_zone),
     .help = "generic: IANA zone of zone-less times (default: flagged zone-unknown)"},
    {.name = "status_map", .type = SW_CONF_STRING, .offset = C(generic.status_map[0]),
     .help = "generic: CODE=status, ... (canonical statuses; unmapped codes: unknown)"},
    {.name = "status_map_2", .type = SW_CONF_STRING, .offset = C(generic.status_map[1]),
     .help = "generic: more of status_map"},
    {.name = "status_map_3", .type = SW_CONF_STRING, .offset = C(generic.status_map[2]),
     .help = "generic: more of status_map"},
    {.name = "status_map_4", .type = SW_CONF_STRING, .offset = C(generic.status_map[3]),
     .help = "generic: more of status_map"},
    {.name = NULL},
};
#undef C

void sw_poll_courier_view(const struct sw_poll_courier_conf *cf, struct sw_courier_conf *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->base_url = cf->base_url && *cf->base_url ? cf->base_url : NULL;
	cc->auth_url = cf->auth_url && *cf->auth_url ? cf->auth_url : NULL;
	cc->api_key = cf->api_key.value;
	cc->api_secret = cf->api_secret.value;
	cc->username = cf->username;
	cc->password = cf->password.value;
	cc->generic = cf->spec;
}

const struct sw_courier *sw_poll_adapter(const struct sw_poll_courier_conf *cf)
{
	if (cf == NULL || cf->adapter <= SW_POLL_ADAPTER_AUTO || cf->adapter >= SW_POLL_ADAPTER_LAST)
		return NULL;
	if (cf->adapter == SW_POLL_ADAPTER_GENERIC) /* not in sw_courier_table */
		return &sw_courier_generic;
	return sw_courier_table[cf->adapter - 1];
}

/* true if the adapter has the credentials it needs (asks the adapter: it
 * answers SW_EAUTH when one is missing). */
static bool creds_ok(const struct sw_courier *ad, const struct sw_courier_conf *cc)
{
	struct sw_courier_request req;
	const char *num[] = {"SW0000000001"};
	enum sw_err rc;

	if (ad->build_auth_request)
		rc = ad->build_auth_request(cc, &req);
	else
		rc = ad->build_request(cc, "token", NULL, num, 1, &req);
	sw_courier_request_free(&req);
	return rc != SW_EAUTH;
}

/* Compiles the generic adapter's description, or rejects its keys in
 * another adapter's section. */
static enum sw_err conf_check_generic(const char *file, int line, struct sw_poll_courier_conf *cf,
				      char *errbuf, size_t errlen)
{
	const char *used = sw_generic_conf_used(&cf->generic);
	char err[384];

	if (cf->adapter != SW_POLL_ADAPTER_GENERIC) {
		if (used == NULL)
			return SW_OK;
		snprintf(errbuf, errlen, "%s:%d: [courier %s] %s: only with adapter = generic: '%s'",
			 file, line, cf->name, used, used);
		return SW_ECONF;
	}
	if (cf->base_url != NULL && *cf->base_url != '\0') {
		snprintf(errbuf, errlen,
			 "%s:%d: [courier %s] base_url: not used by the generic adapter (set url): "
			 "'%s'",
			 file, line, cf->name, cf->base_url);
		return SW_ECONF;
	}
	if (sw_generic_compile(&cf->generic, &cf->spec, err, sizeof(err)) != SW_OK) {
		snprintf(errbuf, errlen, "%s:%d: [courier %s] %s", file, line, cf->name, err);
		return SW_ECONF;
	}
	return SW_OK;
}

/* Checks one applied section; line is its line for the error text. */
static enum sw_err conf_check(const char *file, int line, struct sw_poll_courier_conf *cf,
			      char *errbuf, size_t errlen)
{
	const struct sw_courier *ad;
	struct sw_courier_conf cc;

	if (cf->adapter == SW_POLL_ADAPTER_AUTO) {
		for (int i = 1; i < SW_POLL_ADAPTER_LAST; i++)
			if (strcmp(sw_poll_adapter_words[i], cf->name) == 0)
				cf->adapter = i;
		if (cf->adapter == SW_POLL_ADAPTER_AUTO) {
			snprintf(errbuf, errlen,
				 "%s:%d: [courier %s] adapter: not set and the name is no "
				 "adapter (" SW_COURIER_INFO_NAMES "generic): '%s'",
				 file, line, cf->name, cf->name);
			return SW_ECONF;
		}
	}
	if (conf_check_generic(file, line, cf, errbuf, errlen) != SW_OK)
		return SW_ECONF;
	ad = sw_poll_adapter(cf);
	sw_poll_courier_view(cf, &cc);
	if (ad == NULL || !creds_ok(ad, &cc)) {
		snprintf(errbuf, errlen, "%s:%d: [courier %s] credentials: the %s adapter needs %s",
			 file, line, cf->name, sw_poll_adapter_words[cf->adapter],
			 ad ? sw_courier_auth_keys(ad->auth) : "a known adapter");
		return SW_ECONF;
	}
	if (cf->interval > cf->interval_max || cf->interval_near > cf->interval_max) {
		snprintf(errbuf, errlen,
			 "%s:%d: [courier %s] interval_max: shorter than interval or "
			 "interval_near: '%" PRId64 "s'",
			 file, line, cf->name, cf->interval_max / 1000);
		return SW_ECONF;
	}
	if (cf->backoff_min > cf->backoff_max) {
		snprintf(errbuf, errlen,
			 "%s:%d: [courier %s] backoff_max: shorter than backoff_min: '%" PRId64 "s'",
			 file, line, cf->name, cf->backoff_max / 1000);
		return SW_ECONF;
	}
	return SW_OK;
}

/* The credentials a section sends, for the plaintext error: NULL if none. */
static const char *secret_sent(const struct sw_poll_courier_conf *cf)
{
	if (cf->api_key.source)
		return "the API key";
	if (cf->password.source)
		return "the password";
	if (cf->api_secret.source)
		return "the API secret";
	return NULL;
}

/* Every URL the courier's credentials go to (base_url, auth_url, the
 * generic url): http(s), and https:// unless the host is loopback or the
 * section says allow_plaintext = yes.  conf gives the key's line. */
static enum sw_err conf_check_urls(const struct sw_conf *conf, const struct sw_poll_courier_conf *cf,
				   char *errbuf, size_t errlen)
{
	const char *key[] = {"base_url", "auth_url", "url"};
	const char *url[] = {cf->base_url, cf->auth_url, cf->generic.url};
	const char *secret = secret_sent(cf);
	char where[4200], host[SW_NETADDR_HOST_MAX], scheme[16];

	for (size_t i = 0; i < sizeof(key) / sizeof(key[0]); i++) {
		enum sw_url_transport t = url[i] && *url[i] ? sw_url_transport(url[i]) : SW_URL_TLS;

		if (t == SW_URL_TLS || t == SW_URL_LOOPBACK)
			continue;
		sw_conf_where(conf, "courier", cf->name, key[i], where, sizeof(where));
		if (t == SW_URL_BAD && i < 2) { /* the generic url: sw_generic_compile's */
			snprintf(errbuf, errlen,
				 "%s: [courier %s] %s: not an http:// or https:// URL with a host",
				 where, cf->name, key[i]);
			return SW_ECONF;
		}
		if (t != SW_URL_PLAINTEXT || !secret || cf->allow_plaintext)
			continue;
		sw_url_host(url[i], scheme, sizeof(scheme), host, sizeof(host));
		snprintf(errbuf, errlen,
			 "%s: [courier %s] %s: http:// to a non-loopback host would send %s in "
			 "clear text; use https:// or set allow_plaintext = yes: '%s'",
			 where, cf->name, key[i], secret, host);
		return SW_ECONF;
	}
	return SW_OK;
}

enum sw_err sw_poll_conf_load(struct sw_conf *conf, struct sw_poll_conf **ret_conf, char *errbuf,
			      size_t errlen)
{
	struct sw_poll_conf *pc = xcalloc(1, sizeof(*pc));
	const char *name;
	enum sw_err rc = SW_OK;
	size_t n = 0;
	int line;

	*ret_conf = NULL;
	pc->tick_ms = 1000;
	pc->seed_ms = 60000;
	pc->gauge_ms = 60000;
	while (conf && sw_conf_named(conf, "courier", n) != NULL)
		n++;
	pc->couriers = n ? xcalloc(n, sizeof(*pc->couriers)) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct sw_poll_courier_conf *cf = &pc->couriers[i];

		name = sw_conf_named(conf, "courier", i);
		line = sw_conf_section_line(conf, "courier", name);
		rc = sw_conf_apply(conf, "courier", name, sw_poll_courier_table, cf, errbuf, errlen);
		pc->n = i + 1;
		cf->name = xstrdup(name);
		if (rc == SW_OK)
			rc = conf_check(sw_conf_file(conf), line, cf, errbuf, errlen);
		if (rc == SW_OK)
			rc = conf_check_urls(conf, cf, errbuf, errlen);
		if (rc != SW_OK)
			goto fail;
	}
	*ret_conf = pc;
	return SW_OK;
fail:
	sw_poll_conf_free(pc);
	return SW_ECONF;
}

void sw_poll_conf_free(struct sw_poll_conf *pc)
{
	if (pc == NULL)
		return;
	for (size_t i = 0; i < pc->n; i++) {
		sw_conf_free_struct(sw_poll_courier_table, &pc->couriers[i]);
		sw_generic_free(pc->couriers[i].spec);
		free(pc->couriers[i].name);
	}
	free(pc->couriers);
	free(pc);
}

struct sw_poll_courier_conf *sw_poll_conf_find(struct sw_poll_conf *pc, const char *name)
{
	for (size_t i = 0; pc && name && i < pc->n; i++)
		if (strcmp(pc->couriers[i].name, name) == 0)
			return &pc->couriers[i];
	return NULL;
}

/* ---- engine state ------------------------------------------------------- */

/* One parcel in a batch, with its schedule as read from the store. */
struct item {
	char *tn;
	int interval_s;
	int failures;
};

/* Parcels asked about in one request. */
struct batch {
	struct batch *next;
	struct item *items;
	size_t n;
	bool auth_retried; /* already retried once after a 401 */
};

struct courier;

/* One HTTP transfer in flight. */
struct xfer {
	struct xfer *next;
	struct courier *c;
	bool is_auth;        /* token request (else tracking) */
	struct batch *b;     /* tracking: what was asked; owned */
	uint64_t token_gen;  /* tracking: the token generation it carried */
	CURL *easy;
	struct curl_slist *hdrs;
	struct sw_courier_request req; /* kept alive: libcurl reads the body */
	struct sw_buf body;
	bool too_big;        /* the body passed max_response */
	int64_t started_ms;
	char errbuf[CURL_ERROR_SIZE];
};

struct courier {
	struct sw_poll_engine *p;
	const struct sw_poll_courier_conf *cf;
	const struct sw_courier *ad;
	struct sw_courier_conf cc;
	char *target; /* "courier NAME" for logs */
	char *file;   /* "courier/NAME" for metrics */
	char *source; /* "courier:NAME" for the journal */
	struct xfer *xfers;
	int in_flight;
	struct batch *waiting; /* to resend with a fresh token */
	double bucket;
	int64_t bucket_ms;
	int64_t paused_until; /* loop ms */
	int64_t backoff;      /* ms; 0 = healthy */
	int64_t quota_day;    /* UTC day number of quota_used */
	int64_t quota_used;
	char *token;
	int64_t token_until; /* loop ms */
	uint64_t token_gen;  /* bumped on every new token */
	bool token_busy;     /* a token request is in flight */
	int64_t seed_upto;   /* parcels up to this id were seeded */
	struct sw_log_complain api_c, auth_c, store_c, parse_c;
	struct sw_poll_stats st;
};

struct sw_poll_engine {
	struct sw_loop *loop;
	struct sw_store *store;
	struct sw_metrics *metrics;
	const struct sw_poll_conf *conf;
	CURLM *multi;
	struct courier *cs;
	size_t n;
	uint64_t curl_timer, sched_timer, seed_timer, gauge_timer;
	bool in_curl_timer, curl_timer_touched;
	uint64_t rng;
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t rnd(struct sw_poll_engine *p)
{
	/* xorshift64*: plenty for jitter */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * UINT64_C(2685821657736338717);
}

/* v +- 10 %, never below 1. */
static int64_t jitter(struct sw_poll_engine *p, int64_t v)
{
	int64_t span = v / 5;
	int64_t r = span > 0 ? (int64_t)(rnd(p) % (uint64_t)(span + 1)) - span / 2 : 0;

	return v + r > 0 ? v + r : 1;
}

static bool needs_token(const struct courier *c)
{
	return c->ad->build_auth_request != NULL;
}

static bool token_ok(const struct courier *c, int64_t now)
{
	return c->token != NULL && now < c->token_until;
}

static void token_drop(struct courier *c)
{
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = NULL;
	c->token_until = 0;
}

static void batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i].tn);
	free(b->items);
	free(b);
}

static void kick(struct sw_poll_engine *p)
{
	if (p->sched_timer)
		sw_loop_timer_set(p->loop, p->sched_timer, 0);
}

static void count(struct courier *c, const char *ds, uint64_t n)
{
	sw_metrics_count(c->p->metrics, c->file, ds, n);
}

/* Counts an HTTP answer in its class. */
static void count_status(struct courier *c, long http)
{
	if (http == 429)
		count(c, "resp_429", 1);
	else if (http >= 500 && http <= 599)
		count(c, "resp_5xx", 1);
	else if (http >= 400 && http <= 499)
		count(c, "resp_4xx", 1);
	else if (http >= 200 && http <= 299)
		count(c, "resp_2xx", 1);
}

/* ---- courier health: pause, backoff ------------------------------------- */

static void pause_for(struct courier *c, int64_t ms)
{
	int64_t until = sw_loop_now_ms(c->p->loop) + ms;

	if (until > c->paused_until)
		c->paused_until = until;
}

/* An API-wide failure: doubles the backoff (from backoff_min, up to
 * backoff_max) and pauses the courier for it, with jitter.  Returns the
 * pause in ms. */
static int64_t backoff(struct courier *c)
{
	int64_t d;

	c->backoff = c->backoff ? c->backoff * 2 : c->cf->backoff_min;
	if (c->backoff > c->cf->backoff_max)
		c->backoff = c->cf->backoff_max;
	d = jitter(c->p, c->backoff);
	pause_for(c, d);
	c->st.backoffs++;
	return d;
}

static void __attribute__((format(printf, 2, 3))) fail_api(struct courier *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	int64_t d;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	d = backoff(c);
	sw_log_complain(&c->api_c, SW_LOG_WARNING, c->target, "%s, retry in %" PRId64 " s", why,
			(d + 999) / 1000);
}

static void api_ok(struct courier *c)
{
	c->backoff = 0;
	sw_log_release(&c->api_c, SW_LOG_NOTICE, c->target, "API answering again");
}

/* Retry-After of a finished transfer, in seconds (delta-seconds or an
 * HTTP date), or -1 if absent or unreadable. */
static int64_t retry_after(CURL *easy)
{
	struct curl_header *h = NULL;
	const char *v;
	char *end;
	long long s;
	time_t t;

	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return -1;
	v = h->value;
	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		s = strtoll(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0' || s < 0)
			return -1;
		return s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s;
	}
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	s = (long long)(t - time(NULL));
	return s < 0 ? 0 : (s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s);
}

/* A 429: pauses the whole courier for Retry-After, else cooldown. */
static void rate_limited(struct courier *c, CURL *easy, const char *what)
{
	int64_t s = retry_after(easy);
	int64_t ms = s >= 0 ? s * 1000 : c->cf->cooldown;

	if (ms < 1000)
		ms = 1000;
	pause_for(c, ms);
	c->st.rate_limited++;
	sw_log_complain(&c->api_c, SW_LOG_WARNING, c->target, "%sHTTP 429, retry in %" PRId64 " s",
			what, ms / 1000);
}

/* ---- transfers ---------------------------------------------------------- */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;

	if (sw_buf_add(&x->body, data, len) != SW_OK) {
		x->too_big = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return len;
}

static void xfer_free(struct xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	sw_courier_request_free(&x->req);
	sw_buf_free(&x->body);
	batch_free(x->b);
	free(x);
}

/* Sets the options every transfer gets; the request is already in x. */
static void xfer_setopt(struct xfer *x)
{
	const struct sw_poll_courier_conf *cf = x->c->cf;
	CURL *e = x->easy;

	curl_easy_setopt(e, CURLOPT_URL, x->req.url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cf->timeout);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cf->max_response);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cf->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, cf->ca_file);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "slipwatch/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	if (x->req.method == SW_COURIER_POST) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.body ? x->req.body : "");
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
}

/* Starts a transfer of req (taken over) for c; b (taken over) is the
 * batch for a tracking request, NULL for a token request.  SW_OK, or
 * SW_EIO if libcurl refused (everything freed). */
static enum sw_err xfer_start(struct courier *c, struct sw_courier_request *req, struct batch *b)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	char *line;

	x->c = c;
	x->is_auth = b == NULL;
	x->b = b;
	x->token_gen = c->token_gen;
	x->req = *req;
	memset(req, 0, sizeof(*req));
	sw_buf_init(&x->body, (size_t)c->cf->max_response);
	for (size_t i = 0; i < x->req.n_headers; i++) {
		line = xasprintf("%s: %s", x->req.headers[i].name, x->req.headers[i].value);
		x->hdrs = curl_slist_append(x->hdrs, line);
		explicit_bzero(line, strlen(line)); /* may hold a key */
		free(line);
	}
	/* no "Expect: 100-continue" round trip for POST bodies */
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	x->easy = curl_easy_init();
	if (x->easy == NULL || x->hdrs == NULL)
		goto fail;
	xfer_setopt(x);
	x->started_ms = sw_loop_now_ms(c->p->loop);
	if (curl_multi_add_handle(c->p->multi, x->easy) != CURLM_OK)
		goto fail;
	x->next = c->xfers;
	c->xfers = x;
	c->in_flight++;
	return SW_OK;
fail:
	xfer_free(x);
	return SW_EIO;
}

/* Unlinks x from its courier's list. */
static void xfer_unlink(struct xfer *x)
{
	struct xfer **pp = &x->c->xfers;

	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	x->c->in_flight--;
}

/* The answer of a finished transfer as the adapters take it. */
static void xfer_response(struct xfer *x, struct sw_courier_response *resp)
{
	char *ct = NULL;

	memset(resp, 0, sizeof(*resp));
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp->http_status);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	resp->content_type = ct;
	resp->body = x->body.data;
	resp->len = x->body.len;
}

/* ---- tokens ------------------------------------------------------------- */

static void auth_start(struct courier *c)
{
	struct sw_courier_request req;
	enum sw_err rc = c->ad->build_auth_request(&c->cc, &req);

	if (rc != SW_OK) {
		sw_courier_request_free(&req);
		backoff(c);
		sw_log_complain(&c->auth_c, SW_LOG_ERR, c->target, "cannot build the token request: %s",
				sw_strerror(rc));
		return;
	}
	if (xfer_start(c, &req, NULL) != SW_OK) {
		fail_api(c, "cannot start the token request");
		return;
	}
	c->token_busy = true;
	c->st.auth_requests++;
}

static void auth_done(struct courier *c, struct xfer *x, CURLcode res)
{
	struct sw_courier_response resp;
	struct sw_courier_token tok = {0};
	char err[256] = "";
	int64_t now = sw_loop_now_ms(c->p->loop), margin;
	enum sw_err rc;

	c->token_busy = false;
	xfer_response(x, &resp);
	if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
		c->st.too_big++;
		fail_api(c, "token answer larger than %" PRId64 " bytes", c->cf->max_response);
		return;
	}
	if (res != CURLE_OK) {
		count(c, "resp_timeout", 1);
		fail_api(c, "token request: %s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		return;
	}
	count_status(c, resp.http_status);
	if (resp.http_status == 429) {
		rate_limited(c, x->easy, "token request: ");
		return;
	}
	rc = c->ad->parse_auth_response(&resp, &tok, err, sizeof(err));
	if (rc != SW_OK) {
		sw_courier_token_clear(&tok);
		if (rc == SW_EAUTH) {
			backoff(c);
			sw_log_complain(&c->auth_c, SW_LOG_ERR, c->target,
					"credentials refused by the token endpoint: %s", err);
		} else {
			fail_api(c, "token request: %s", err);
		}
		return;
	}
	token_drop(c);
	c->token = tok.token;
	margin = tok.lifetime_s * 1000 / 2;
	if (margin > TOKEN_MARGIN_MS)
		margin = TOKEN_MARGIN_MS;
	c->token_until = now + tok.lifetime_s * 1000 - margin;
	c->token_gen++;
	c->st.tokens++;
	sw_log_release(&c->auth_c, SW_LOG_NOTICE, c->target, "token obtained again");
}

/* ---- applying answers --------------------------------------------------- */

/* FNV-1a over a length-prefixed field, so ("ab","c") != ("a","bc"). */
static uint64_t fnv_field(uint64_t h, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(s ? (n >> (8 * i)) : 0xff);
	for (int i = 0; i < 8; i++)
		h = (h ^ len[i]) * UINT64_C(1099511628211);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

/* The journal id of an event: tracking number, then a hash of (tracking
 * number, time as written, code, text); stable across polls. */
static char *event_id(const char *tn, const struct sw_courier_event *e)
{
	uint64_t h = UINT64_C(14695981039346656037);

	h = fnv_field(h, tn);
	h = fnv_field(h, e->raw_time);
	h = fnv_field(h, e->code);
	h = fnv_field(h, e->text);
	return xasprintf("%s:%016" PRIx64, tn, h);
}

static bool is_instant(const struct sw_time *t)
{
	return (t->flags & SW_TIME_HAS_OFFSET) != 0;
}

static struct sw_stamp stamp_of(const struct sw_time *t)
{
	struct sw_stamp s = {t->utc_sec > 0 ? t->utc_sec : 0, t->offset_sec};

	return s;
}

static char *event_payload(const struct sw_courier_result *r, const struct sw_courier_event *e)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "status", json_string(sw_store_ship_status_name(e->status)));
	json_object_set_new(o, "shipment_status", json_string(sw_store_ship_status_name(r->status)));
	json_object_set_new(o, "code", e->code ? json_string(e->code) : json_null());
	json_object_set_new(o, "text", e->text ? json_string(e->text) : json_null());
	json_object_set_new(o, "location", e->location ? json_string(e->location) : json_null());
	json_object_set_new(o, "time", e->raw_time ? json_string(e->raw_time) : json_null());
	json_object_set_new(o, "zone_known", json_boolean(e->has_time && is_instant(&e->at)));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* Journals r's events; *ret_new counts those not seen before. */
static enum sw_err journal_events(struct courier *c, const struct sw_courier_result *r,
				  const char *tn, int64_t now_s, int *ret_new)
{
	enum sw_err rc = SW_OK;

	*ret_new = 0;
	for (size_t i = 0; i < r->n_events && rc == SW_OK; i++) {
		const struct sw_courier_event *e = &r->events[i];
		struct sw_journal_event ev = {0};
		char *id = event_id(tn, e), *payload = event_payload(r, e);

		ev.source = c->source;
		ev.source_event_id = id;
		ev.kind = "parcel.status";
		ev.courier = c->cf->name;
		ev.tracking_number = tn;
		/* a zone-unknown time is kept as its wall clock (payload
		 * zone_known false); an untimed event at the time we saw it */
		ev.occurred_at = e->has_time ? stamp_of(&e->at) : (struct sw_stamp){now_s, 0};
		if (!e->has_time || !is_instant(&e->at))
			ev.occurred_at.offset = 0;
		if (ev.occurred_at.at <= 0)
			ev.occurred_at.at = now_s;
		ev.payload = payload;
		rc = sw_store_journal_append(c->p->store, &ev, NULL);
		if (rc == SW_OK)
			(*ret_new)++;
		else if (rc == SW_EDUP)
			rc = SW_OK;
		free(id);
		free(payload);
	}
	return rc;
}

/* A scan: an event after the courier merely got the data. */
static bool is_scan(enum sw_ship_status s)
{
	return s > SW_SHIP_INFO_RECEIVED && s != SW_SHIP_UNKNOWN && s != SW_SHIP_CANCELLED &&
	       s != SW_SHIP_EXPIRED;
}

static void update_of(const struct sw_courier_result *r, struct sw_parcel_update *u,
		      char eta[SW_DATE_STRLEN])
{
	memset(u, 0, sizeof(*u));
	u->status = r->status;
	u->raw_code = r->raw_code;
	u->raw_text = r->raw_text;
	if (r->has_latest && is_instant(&r->latest))
		u->event_at = stamp_of(&r->latest);
	if (r->has_eta && sw_date_format(&r->eta, eta, SW_DATE_STRLEN) == SW_OK)
		u->eta_date = eta;
	if (r->has_delivered && is_instant(&r->delivered))
		u->delivered_at = stamp_of(&r->delivered);
	for (size_t i = 0; i < r->n_events; i++) {
		const struct sw_courier_event *e = &r->events[i];

		if (e->has_time && is_instant(&e->at) && is_scan(e->status) &&
		    (u->first_scan_at.at == 0 || e->at.utc_sec < u->first_scan_at.at))
			u->first_scan_at = stamp_of(&e->at);
	}
}

/* Writes the next schedule of a parcel polled at now_s. */
static enum sw_err reschedule(struct courier *c, const struct item *it, int64_t now_s,
			      int interval_s, int failures, const char *error)
{
	struct sw_poll sp = {0};
	enum sw_err rc;

	sp.courier = c->cf->name;
	sp.tracking_number = it->tn;
	sp.interval_s = interval_s > 0 ? interval_s : 1;
	sp.next_poll_at = now_s + (jitter(c->p, (int64_t)sp.interval_s * 1000) + 999) / 1000;
	sp.failures = failures;
	sp.last_polled_at = now_s;
	sp.last_error = error;
	rc = sw_store_poll_upsert(c->p->store, &sp);
	return rc == SW_ENOTFOUND ? SW_OK : rc; /* parcel gone: nothing to do */
}

static int secs(int64_t ms)
{
	return ms / 1000 > 0 ? (int)(ms / 1000) : 1;
}

/* A parcel just delivered: its transit time, and whether its order's
 * delivery promise was kept (nothing counted without a known promise). */
static void count_delivery(struct courier *c, const struct sw_parcel *old,
			   const struct sw_parcel *cur)
{
	struct sw_order *o = NULL;
	int64_t promise;

	if (old->shipped_at.at > 0 && cur->delivered_at.at > old->shipped_at.at)
		sw_metrics_sample(c->p->metrics, c->file, "transit_duration",
				  (double)(cur->delivered_at.at - old->shipped_at.at));
	if (!cur->warehouse_id || !cur->order_id || cur->delivered_at.at == 0 ||
	    sw_store_order_get(c->p->store, cur->warehouse_id, cur->order_id, &o) != SW_OK)
		return;
	promise = o->promised_delivery_by.kind != SW_PROMISE_NONE ? o->promised_delivery_by.at.at
								   : 0;
	if (promise > 0)
		count(c, cur->delivered_at.at <= promise ? "delivered_ontime" : "delivered_late", 1);
	sw_store_order_free(o);
}

/* A FOUND result: journal, status, schedule (inside the caller's
 * transaction). */
static enum sw_err apply_found(struct courier *c, const struct item *it,
			       const struct sw_courier_result *r, int64_t now_s, int *ret_new)
{
	struct sw_store *st = c->p->store;
	struct sw_parcel *old = NULL, *cur = NULL;
	struct sw_parcel_update u;
	char eta[SW_DATE_STRLEN];
	enum sw_err rc;
	int interval;

	*ret_new = 0;
	rc = sw_store_parcel_get(st, c->cf->name, it->tn, &old);
	if (rc != SW_OK)
		return rc == SW_ENOTFOUND ? SW_OK : rc;
	if ((rc = journal_events(c, r, it->tn, now_s, ret_new)))
		goto out;
	update_of(r, &u, eta);
	if ((rc = sw_store_parcel_set_status(st, c->cf->name, it->tn, &u)))
		goto out;
	if ((rc = sw_store_parcel_get(st, c->cf->name, it->tn, &cur)))
		goto out;
	if (cur->status == SW_SHIP_DELIVERED && old->status != SW_SHIP_DELIVERED)
		count_delivery(c, old, cur);
	if (cur->terminal) {
		rc = sw_store_poll_remove(st, c->cf->name, it->tn);
		rc = rc == SW_ENOTFOUND ? SW_OK : rc;
		goto out;
	}
	if (cur->status == SW_SHIP_OUT_FOR_DELIVERY)
		interval = secs(c->cf->interval_near);
	else if (*ret_new > 0 || cur->status != old->status)
		interval = secs(c->cf->interval);
	else if ((int64_t)it->interval_s * 2 < c->cf->interval_max / 1000)
		interval = it->interval_s * 2;
	else
		interval = secs(c->cf->interval_max);
	rc = reschedule(c, it, now_s, interval, 0, NULL);
out:
	sw_store_parcel_free(old);
	sw_store_parcel_free(cur);
	return rc;
}

/* Tallies of one answer, counted once it is committed. */
struct tally {
	uint64_t found, not_found, errors, events, store_fail;
};

static enum sw_err apply_one(struct courier *c, const struct item *it,
			     const struct sw_courier_result *r, int64_t now_s, struct tally *t)
{
	char msg[200];
	enum sw_err rc;
	int n = 0;

	switch (r->outcome) {
	case SW_COURIER_FOUND:
		rc = apply_found(c, it, r, now_s, &n);
		if (rc == SW_OK) {
			t->found++;
			t->events += (uint64_t)n;
		}
		return rc;
	case SW_COURIER_NOT_FOUND:
		snprintf(msg, sizeof(msg), "not found%s%s", r->message ? ": " : "",
			 r->message ? r->message : "");
		t->not_found++;
		return reschedule(c, it, now_s, secs(c->cf->interval), 0, msg);
	default:
		snprintf(msg, sizeof(msg), "%s%s%s", sw_courier_errkind_name(r->errkind),
			 r->message ? ": " : "", r->message ? r->message : "");
		t->errors++;
		return reschedule(c, it, now_s, secs(c->cf->interval), it->failures + 1, msg);
	}
}

/* Applies the per-parcel results of one answer in one transaction. */
static void apply_results(struct courier *c, const struct batch *b,
			  const struct sw_courier_result *res)
{
	struct sw_store *st = c->p->store;
	struct tally t = {0};
	int64_t now_s = time(NULL);
	enum sw_err rc;

	if ((rc = sw_store_begin(st)) != SW_OK)
		goto fail;
	for (size_t i = 0; i < b->n; i++) {
		if ((rc = sw_store_savepoint(st)) != SW_OK)
			break;
		rc = apply_one(c, &b->items[i], &res[i], now_s, &t);
		if (rc == SW_OK) {
			rc = sw_store_savepoint_release(st);
		} else {
			t.store_fail++;
			sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
					"cannot store the answer for one parcel: %s",
					sw_store_errmsg(st));
			rc = sw_store_savepoint_rollback(st);
		}
		if (rc != SW_OK)
			break;
	}
	/* the feed's health, for the alert engine's `stalled` */
	if (rc == SW_OK)
		rc = sw_store_courier_health_note(st, c->cf->name, t.found + t.not_found > 0, now_s,
						  t.found + t.not_found > 0 ? NULL
									    : res[0].message);
	/* and its error rate, minute by minute (store_feeds.h) */
	if (rc == SW_OK)
		rc = sw_store_courier_polls_note(st, c->cf->name, now_s, t.found + t.not_found,
						 t.errors);
	if (rc != SW_OK) {
		sw_store_rollback(st);
		goto fail;
	}
	if ((rc = sw_store_commit(st)) != SW_OK)
		goto fail;
	c->st.found += t.found;
	c->st.not_found += t.not_found;
	c->st.errors += t.errors;
	c->st.events_new += t.events;
	c->st.store_fail += t.store_fail;
	if (t.events)
		count(c, "events", t.events);
	if (t.store_fail == 0)
		sw_log_release(&c->store_c, SW_LOG_NOTICE, c->target, "storing answers again");
	return;
fail:
	/* the parcels stay due; pause so a broken store is not a busy loop */
	c->st.store_fail += b->n;
	backoff(c);
	sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot store answers: %s",
			sw_store_errmsg(st));
}

/* Marks every parcel of b as failed with reason (an answer we could not
 * use for any of them) and schedules it after interval. */
static void fail_batch(struct courier *c, const struct batch *b, const char *reason)
{
	struct sw_courier_result *res = xcalloc(b->n, sizeof(*res));

	for (size_t i = 0; i < b->n; i++) {
		res[i].outcome = SW_COURIER_ERROR;
		res[i].errkind = SW_COURIER_ERR_BAD_RESPONSE;
		res[i].message = (char *)reason;
	}
	apply_results(c, b, res);
	free(res);
}

/* The worst courier-wide error kind among results, or NONE. */
static enum sw_courier_errkind batch_kind(const struct sw_courier_result *res, size_t n)
{
	bool unauth = false, server = false;

	for (size_t i = 0; i < n; i++) {
		if (res[i].outcome != SW_COURIER_ERROR)
			continue;
		if (res[i].errkind == SW_COURIER_ERR_RATE_LIMITED)
			return SW_COURIER_ERR_RATE_LIMITED;
		unauth |= res[i].errkind == SW_COURIER_ERR_UNAUTHORIZED;
		server |= res[i].errkind == SW_COURIER_ERR_SERVER;
	}
	if (unauth)
		return SW_COURIER_ERR_UNAUTHORIZED;
	return server ? SW_COURIER_ERR_SERVER : SW_COURIER_ERR_NONE;
}

/* A 401/403 on a tracking request: with a token, drop it (unless a newer
 * one came meanwhile) and retry the batch once; else an error. */
static void unauthorized(struct courier *c, struct xfer *x, long http)
{
	if (needs_token(c) && !x->b->auth_retried) {
		if (x->token_gen == c->token_gen && c->token) {
			token_drop(c);
			c->st.token_drops++;
		}
		x->b->auth_retried = true;
		x->b->next = c->waiting;
		c->waiting = x->b;
		x->b = NULL;
		return;
	}
	backoff(c);
	sw_log_complain(&c->auth_c, SW_LOG_ERR, c->target, "HTTP %ld: credentials refused", http);
}

static void track_done(struct courier *c, struct xfer *x, CURLcode res)
{
	struct sw_courier_response resp;
	struct sw_courier_result *results;
	const char **names;
	const struct batch *b = x->b;
	int64_t now = sw_loop_now_ms(c->p->loop);
	char why[96];

	xfer_response(x, &resp);
	if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
		count_status(c, resp.http_status);
		count(c, "parse_fail", 1);
		c->st.too_big++;
		c->st.parse_fail++;
		snprintf(why, sizeof(why), "answer larger than %" PRId64 " bytes",
			 c->cf->max_response);
		sw_log_complain(&c->parse_c, SW_LOG_WARNING, c->target, "%s", why);
		fail_batch(c, b, why);
		return;
	}
	if (res != CURLE_OK) {
		count(c, "resp_timeout", 1);
		fail_api(c, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		return;
	}
	count_status(c, resp.http_status);
	sw_metrics_sample(c->p->metrics, c->file, "api_latency", (double)(now - x->started_ms) / 1000);
	names = xcalloc(b->n, sizeof(*names));
	results = xcalloc(b->n, sizeof(*results));
	for (size_t i = 0; i < b->n; i++)
		names[i] = b->items[i].tn;
	if ((c->ad->parse_response_conf
		 ? c->ad->parse_response_conf(&c->cc, &resp, names, b->n, results)
		 : c->ad->parse_response(&resp, names, b->n, results)) != SW_OK) {
		fail_api(c, "adapter refused the batch"); /* a bug: cannot happen */
		goto out;
	}
	switch (batch_kind(results, b->n)) {
	case SW_COURIER_ERR_RATE_LIMITED:
		rate_limited(c, x->easy, "");
		break;
	case SW_COURIER_ERR_UNAUTHORIZED:
		unauthorized(c, x, resp.http_status);
		break;
	case SW_COURIER_ERR_SERVER:
		fail_api(c, "HTTP %ld", resp.http_status);
		if (retry_after(x->easy) > 0) /* 503 often says when */
			pause_for(c, retry_after(x->easy) * 1000);
		break;
	default:
		api_ok(c);
		for (size_t i = 0; i < b->n; i++)
			if (results[i].outcome == SW_COURIER_ERROR &&
			    results[i].errkind == SW_COURIER_ERR_BAD_RESPONSE) {
				count(c, "parse_fail", 1);
				c->st.parse_fail++;
				sw_log_complain(&c->parse_c, SW_LOG_WARNING, c->target,
						"unusable answer: %s",
						results[i].message ? results[i].message : "?");
				break;
			}
		apply_results(c, b, results);
	}
out:
	for (size_t i = 0; i < b->n; i++)
		sw_courier_result_clear(&results[i]);
	free(results);
	free(names);
}

/* ---- libcurl on the loop (ephiperfifo) ---------------------------------- */

static void drain(struct sw_poll_engine *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
		CURL *easy = msg->easy_handle;
		CURLcode res = msg->data.result;
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(p->multi, easy);
		xfer_unlink(x);
		if (x->is_auth)
			auth_done(x->c, x, res);
		else
			track_done(x->c, x, res);
		xfer_free(x);
		kick(p);
	}
}

static void fd_ready(struct sw_loop *loop, int fd, int events, void *arg)
{
	struct sw_poll_engine *p = arg;
	int flags = 0, running;

	(void)loop;
	if (events & SW_LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & SW_LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(p->multi, fd, flags, &running);
	drain(p);
}

static int curl_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct sw_poll_engine *p = userp;
	int mask = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		sw_loop_fd_del(p->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		mask |= SW_LOOP_READ;
	if (what & CURL_POLL_OUT)
		mask |= SW_LOOP_WRITE;
	if (mask == 0) {
		sw_loop_fd_del(p->loop, s);
		return 0;
	}
	if (sw_loop_fd_mask(p->loop, s) == 0)
		return sw_loop_fd_add(p->loop, s, mask, fd_ready, p) == SW_OK ? 0 : -1;
	return sw_loop_fd_modify(p->loop, s, mask) == SW_OK ? 0 : -1;
}

static int64_t curl_timer_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;
	int running;

	(void)loop;
	(void)id;
	p->in_curl_timer = true;
	p->curl_timer_touched = false;
	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(p);
	p->in_curl_timer = false;
	if (!p->curl_timer_touched)
		p->curl_timer = 0; /* deleted by the NOMORE below */
	return SW_LOOP_NOMORE;  /* ignored if libcurl re-armed it meanwhile */
}

/* CURLMOPT_TIMERFUNCTION: keeps one loop timer at libcurl's wish. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct sw_poll_engine *p = userp;

	(void)multi;
	if (p->in_curl_timer)
		p->curl_timer_touched = true;
	if (timeout_ms < 0) {
		if (p->curl_timer)
			sw_loop_timer_del(p->loop, p->curl_timer);
		p->curl_timer = 0;
		return 0;
	}
	if (p->curl_timer && sw_loop_timer_set(p->loop, p->curl_timer, timeout_ms) == SW_OK)
		return 0;
	return sw_loop_timer_add(p->loop, timeout_ms, curl_timer_fired, p, &p->curl_timer) == SW_OK
		   ? 0
		   : -1;
}

/* ---- scheduling --------------------------------------------------------- */

static void refill(struct courier *c, int64_t now)
{
	if (c->bucket_ms == 0)
		c->bucket = (double)c->cf->burst;
	else if (now > c->bucket_ms)
		c->bucket += (double)(now - c->bucket_ms) * c->cf->rate / 1000;
	if (c->bucket > (double)c->cf->burst)
		c->bucket = (double)c->cf->burst;
	c->bucket_ms = now;
}

/* true if c may send one more tracking request now. */
static bool can_send(struct courier *c, int64_t now)
{
	int64_t day = (int64_t)time(NULL) / 86400;

	if (now < c->paused_until || c->in_flight >= c->cf->concurrency || c->bucket < 1)
		return false;
	if (needs_token(c) && !token_ok(c, now))
		return false;
	if (day != c->quota_day) {
		c->quota_day = day;
		c->quota_used = 0;
	}
	if (c->cf->daily_quota > 0 && c->quota_used >= c->cf->daily_quota) {
		c->st.quota_waits++;
		return false;
	}
	return true;
}

/* A tracking number the adapter will not take (too long, bad bytes): its
 * schedule moves to interval_max with the reason, so it is not retried
 * every tick. */
static void park(struct courier *c, const struct item *it)
{
	struct sw_store *st = c->p->store;

	if (reschedule(c, it, time(NULL), secs(c->cf->interval_max), it->failures + 1,
		       "tracking number rejected by the adapter") != SW_OK)
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot park a parcel: %s",
				sw_store_errmsg(st));
	sw_log_warn(c->target, "tracking number '%s' rejected by the %s adapter", it->tn,
		    c->ad->name);
}

/* Builds b's request, dropping numbers the adapter refuses.  SW_OK with
 * *req filled, or an error with b possibly emptied. */
static enum sw_err build(struct courier *c, struct batch *b, struct sw_courier_request *req)
{
	const char **names = xcalloc(b->n ? b->n : 1, sizeof(*names));
	enum sw_err rc;
	size_t k = 0;

	for (size_t i = 0; i < b->n; i++)
		names[i] = b->items[i].tn;
	rc = c->ad->build_request(&c->cc, c->token, NULL, names, b->n, req);
	if (rc == SW_EINVAL) {
		sw_courier_request_free(req);
		for (size_t i = 0; i < b->n; i++) {
			rc = c->ad->build_request(&c->cc, c->token, NULL, &names[i], 1, req);
			sw_courier_request_free(req);
			if (rc == SW_EINVAL) {
				park(c, &b->items[i]);
				free(b->items[i].tn);
			} else {
				b->items[k++] = b->items[i];
				names[k - 1] = b->items[k - 1].tn;
			}
		}
		b->n = k;
		rc = k ? c->ad->build_request(&c->cc, c->token, NULL, names, k, req) : SW_EINVAL;
	}
	free(names);
	return rc;
}

/* Sends b (taken over). */
static void send_batch(struct courier *c, struct batch *b)
{
	struct sw_courier_request req;
	enum sw_err rc = build(c, b, &req);

	if (rc == SW_EAUTH && needs_token(c)) {
		token_drop(c); /* the token is unusable: fetch another */
		b->next = c->waiting;
		c->waiting = b;
		return;
	}
	if (rc != SW_OK) {
		sw_courier_request_free(&req);
		if (b->n)
			fail_api(c, "cannot build a request: %s", sw_strerror(rc));
		batch_free(b);
		return;
	}
	if (xfer_start(c, &req, b) != SW_OK) {
		fail_api(c, "cannot start a request");
		return;
	}
	c->bucket -= 1;
	c->quota_used++;
	c->st.requests++;
}

/* true if tracking number tn is in flight or waiting. */
static bool busy(const struct courier *c, const char *tn)
{
	for (const struct xfer *x = c->xfers; x; x = x->next)
		for (size_t i = 0; x->b && i < x->b->n; i++)
			if (strcmp(x->b->items[i].tn, tn) == 0)
				return true;
	for (const struct batch *b = c->waiting; b; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			if (strcmp(b->items[i].tn, tn) == 0)
				return true;
	return false;
}

static size_t busy_count(const struct courier *c)
{
	size_t n = 0;

	for (const struct xfer *x = c->xfers; x; x = x->next)
		n += x->b ? x->b->n : 0;
	for (const struct batch *b = c->waiting; b; b = b->next)
		n += b->n;
	return n;
}

/* Sends new batches of due parcels while c may send. */
static void send_due(struct courier *c, int64_t now)
{
	size_t max = c->ad->max_batch ? c->ad->max_batch : 1, n = 0, i = 0;
	int64_t room = c->cf->concurrency - c->in_flight;
	int64_t limit = room * (int64_t)max + (int64_t)busy_count(c);
	struct sw_poll *due = NULL;
	struct batch *b = NULL;
	enum sw_err rc;

	if (limit > SW_STORE_MAX_BATCH)
		limit = SW_STORE_MAX_BATCH;
	rc = sw_store_poll_due_courier(c->p->store, c->cf->name, time(NULL), (int)limit, &due, &n);
	if (rc != SW_OK) {
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot read the poll schedule: %s",
				sw_store_errmsg(c->p->store));
		return;
	}
	while (i < n && can_send(c, now)) {
		b = xcalloc(1, sizeof(*b));
		b->items = xcalloc(max, sizeof(*b->items));
		for (; i < n && b->n < max; i++) {
			if (busy(c, due[i].tracking_number))
				continue;
			b->items[b->n].tn = xstrdup(due[i].tracking_number);
			b->items[b->n].interval_s = due[i].interval_s;
			b->items[b->n].failures = due[i].failures;
			b->n++;
		}
		if (b->n == 0) {
			batch_free(b);
			break;
		}
		send_batch(c, b);
	}
	sw_store_poll_free(due, n);
}

/* One scheduler pass for one courier. */
static void pump(struct courier *c)
{
	int64_t now = sw_loop_now_ms(c->p->loop);
	struct batch *b;

	if (now < c->paused_until)
		return;
	if (needs_token(c) && !token_ok(c, now)) {
		if (!c->token_busy)
			auth_start(c);
		return;
	}
	refill(c, now);
	while (c->waiting && can_send(c, now)) {
		b = c->waiting;
		c->waiting = b->next;
		b->next = NULL;
		send_batch(c, b);
	}
	if (!c->waiting && can_send(c, now))
		send_due(c, now);
}

static int64_t sched_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;

	(void)loop;
	(void)id;
	for (size_t i = 0; i < p->n; i++)
		pump(&p->cs[i]);
	return p->conf->tick_ms;
}

static int64_t seed_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;
	int64_t now_s = time(NULL), added;

	(void)loop;
	(void)id;
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];
		int interval = secs(c->cf->interval);
		int spread = interval / SEED_SPREAD_DIV > 0 ? interval / SEED_SPREAD_DIV : 1;

		if (sw_store_poll_seed(p->store, c->cf->name, c->seed_upto, now_s, spread, interval,
				       &added, &c->seed_upto) != SW_OK) {
			sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
					"cannot schedule new parcels: %s", sw_store_errmsg(p->store));
			continue;
		}
		c->st.seeded += (uint64_t)added;
		if (added > 0)
			kick(p);
	}
	return p->conf->seed_ms;
}

static int64_t gauge_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;
	struct sw_status_count *list = NULL;
	char ds[SW_METRICS_NAME_MAX];
	size_t n = 0;

	(void)loop;
	(void)id;
	if (sw_store_parcel_status_counts(p->store, &list, &n) != SW_OK) {
		if (p->n)
			sw_log_complain(&p->cs[0].store_c, SW_LOG_ERR, "courier",
					"cannot count parcels: %s", sw_store_errmsg(p->store));
		return p->conf->gauge_ms;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];

		for (int s = 0; s < SW_SHIP_LAST; s++) {
			double v = 0;

			for (size_t k = 0; k < n; k++)
				if (list[k].status == (enum sw_ship_status)s &&
				    strcmp(list[k].courier, c->cf->name) == 0)
					v = (double)list[k].count;
			snprintf(ds, sizeof(ds), "status_%s", sw_store_ship_status_name(s));
			sw_metrics_gauge(p->metrics, c->file, ds, v);
		}
	}
	sw_store_status_counts_free(list, n);
	return p->conf->gauge_ms;
}

/* ---- API ---------------------------------------------------------------- */

enum sw_err sw_poll_new(struct sw_loop *loop, struct sw_store *store, struct sw_metrics *metrics,
			const struct sw_poll_conf *conf, struct sw_poll_engine **ret_poll, char *errbuf,
			size_t errlen)
{
	struct sw_poll_engine *p;

	if (ret_poll)
		*ret_poll = NULL;
	if (!loop || !store || !metrics || !conf || !ret_poll) {
		snprintf(errbuf, errlen, "poll: missing argument");
		return SW_EINVAL;
	}
	for (size_t i = 0; i < conf->n; i++)
		if (sw_poll_adapter(&conf->couriers[i]) == NULL) {
			snprintf(errbuf, errlen, "courier %s: no adapter", conf->couriers[i].name);
			return SW_EINVAL;
		}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "poll: libcurl initialisation failed");
		return SW_EIO;
	}
	p = xcalloc(1, sizeof(*p));
	p->loop = loop;
	p->store = store;
	p->metrics = metrics;
	p->conf = conf;
	p->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)p;
	if (p->rng == 0)
		p->rng = 1;
	p->multi = curl_multi_init();
	if (p->multi == NULL) {
		free(p);
		curl_global_cleanup();
		snprintf(errbuf, errlen, "poll: curl_multi_init failed");
		return SW_EIO;
	}
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	p->n = conf->n;
	p->cs = p->n ? xcalloc(p->n, sizeof(*p->cs)) : NULL;
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];

		c->p = p;
		c->cf = &conf->couriers[i];
		c->ad = sw_poll_adapter(c->cf);
		sw_poll_courier_view(c->cf, &c->cc);
		c->target = xasprintf("courier %s", c->cf->name);
		c->file = xasprintf("courier/%s", c->cf->name);
		c->source = xasprintf("courier:%s", c->cf->name);
	}
	*ret_poll = p;
	return SW_OK;
}

enum sw_err sw_poll_start(struct sw_poll_engine *p)
{
	if (p->sched_timer)
		return SW_EINVAL;
	sw_loop_timer_add(p->loop, 0, sched_fired, p, &p->sched_timer);
	sw_loop_timer_add(p->loop, p->conf->seed_ms, seed_fired, p, &p->seed_timer);
	sw_loop_timer_add(p->loop, p->conf->gauge_ms, gauge_fired, p, &p->gauge_timer);
	seed_fired(p->loop, p->seed_timer, p);
	gauge_fired(p->loop, p->gauge_timer, p);
	return SW_OK;
}

static void timer_off(struct sw_poll_engine *p, uint64_t *id)
{
	if (*id)
		sw_loop_timer_del(p->loop, *id);
	*id = 0;
}

void sw_poll_stop(struct sw_poll_engine *p)
{
	struct xfer *x;
	struct batch *b;

	if (p == NULL)
		return;
	timer_off(p, &p->sched_timer);
	timer_off(p, &p->seed_timer);
	timer_off(p, &p->gauge_timer);
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];

		while ((x = c->xfers) != NULL) {
			c->xfers = x->next;
			curl_multi_remove_handle(p->multi, x->easy);
			xfer_free(x);
		}
		c->in_flight = 0;
		c->token_busy = false;
		while ((b = c->waiting) != NULL) {
			c->waiting = b->next;
			batch_free(b);
		}
	}
	timer_off(p, &p->curl_timer);
}

void sw_poll_free(struct sw_poll_engine *p)
{
	if (p == NULL)
		return;
	sw_poll_stop(p);
	curl_multi_cleanup(p->multi);
	for (size_t i = 0; i < p->n; i++) {
		token_drop(&p->cs[i]);
		free(p->cs[i].target);
		free(p->cs[i].file);
		free(p->cs[i].source);
	}
	free(p->cs);
	free(p);
	curl_global_cleanup();
}

enum sw_err sw_poll_get_stats(const struct sw_poll_engine *p, const char *name,
			      struct sw_poll_stats *ret_stats)
{
	int64_t now = sw_loop_now_ms(p->loop);

	for (size_t i = 0; name && i < p->n; i++) {
		const struct courier *c = &p->cs[i];

		if (strcmp(c->cf->name, name) != 0)
			continue;
		*ret_stats = c->st;
		ret_stats->in_flight = c->in_flight;
		ret_stats->paused_ms = c->paused_until > now ? c->paused_until - now : 0;
		ret_stats->backoff_ms = c->backoff;
		ret_stats->has_token = token_ok(c, now);
		return SW_OK;
	}
	return SW_ENOTFOUND;
}

void sw_poll_kick(struct sw_poll_engine *p)
{
	sched_fired(p->loop, p->sched_timer, p);
}

void sw_poll_seed_now(struct sw_poll_engine *p)
{
	seed_fired(p->loop, p->seed_timer, p);
}
