/*
 * poll_conf.c - [courier NAME] sections: the option table, loading and
 * the checks the table cannot make (see poll.h).
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
#include "collector/plan.h"
#include "collector/poll_int.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/store_feeds.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"

/* ---- configuration ------------------------------------------------------ */

#define ADAPTER_WORD(name, display_name, api) #name,
const char *const sw_poll_adapter_words[] = {"auto", SW_COURIER_LIST(ADAPTER_WORD) "generic", NULL};
#undef ADAPTER_WORD

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
     .max = INT64_C(1000000000), .def = "0",
     .help = "requests per quota day (quota_reset in quota_zone); 0: no limit"},
    /* the quota day and its planner (doc/quota.md) */
    {.name = "quota_reset", .type = SW_CONF_STRING, .offset = C(quota_reset), .def = "00:00",
     .help = "HH:MM the courier's quota day starts, in quota_zone"},
    {.name = "quota_zone", .type = SW_CONF_STRING, .offset = C(quota_zone), .def = "UTC",
     .help = "zone of quota_reset: UTC or an IANA name (Asia/Kolkata)"},
    {.name = "quota_reserve", .type = SW_CONF_INT, .offset = C(quota_reserve), .min = 0,
     .max = INT64_C(1000000000), .def = "0",
     .help = "requests of daily_quota the planner leaves for new parcels and retries"},
    {.name = "cooldown", .type = SW_CONF_DURATION, .offset = C(cooldown), .min = 1000,
     .max = 86400000, .def = "60s", .help = "pause after a 429 without Retry-After"},
    {.name = "backoff_min", .type = SW_CONF_DURATION, .offset = C(backoff_min), .min = 1000,
     .max = 86400000, .def = "30s", .help = "first pause after an API failure"},
    {.name = "backoff_max", .type = SW_CONF_DURATION, .offset = C(backoff_max), .min = 1000,
     .max = 86400000, .def = "1h", .help = "longest pause after repeated failures"},
    /* per-parcel backoff (doc/polling.md) */
    {.name = "not_found_max", .type = SW_CONF_DURATION, .offset = C(not_found_max),
     .min = 1000, .max = INT64_C(30) * 86400000, .def = "1d",
     .help = "a number the courier does not know or refuses is polled at a doubling "
	     "interval up to this"},
    {.name = "give_up_after", .type = SW_CONF_DURATION, .offset = C(give_up_after), .min = 0,
     .max = INT64_C(365) * 86400000, .def = "14d",
     .help = "stop polling such a number this long after it shipped; 0: never"},
    /* adapter = generic only (collector/courier/generic.h) */
    SW_GENERIC_CONF_ROWS(C)
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

	if (sw_courier_needs_token(ad, cc))
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
		snprintf(errbuf, errlen, "%s:%d: [courier %s] credentials: the %s adapter needs %s%s",
			 file, line, cf->name, sw_poll_adapter_words[cf->adapter],
			 ad ? sw_courier_auth_keys(sw_courier_auth_of(ad, &cc)) : "a known adapter",
			 ad && ad->auth_of && sw_courier_needs_token(ad, &cc) && !cc.auth_url
				 ? ", and auth_url (the token URL)"
				 : "");
		return SW_ECONF;
	}
	if (cf->interval > cf->interval_max || cf->interval_near > cf->interval_max) {
		snprintf(errbuf, errlen,
			 "%s:%d: [courier %s] interval_max: shorter than interval or "
			 "interval_near: '%" PRId64 "s'",
			 file, line, cf->name, cf->interval_max / 1000);
		return SW_ECONF;
	}
	if (cf->not_found_max < cf->interval) {
		snprintf(errbuf, errlen,
			 "%s:%d: [courier %s] not_found_max: shorter than interval: '%" PRId64 "s'",
			 file, line, cf->name, cf->not_found_max / 1000);
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

/* The quota block (doc/quota.md): quota_reset a time of day, quota_zone a
 * zone that loads, quota_reserve below daily_quota. */
static enum sw_err conf_check_quota(const struct sw_conf *conf, struct sw_poll_courier_conf *cf,
				    char *errbuf, size_t errlen)
{
	const char *zone = cf->quota_zone && *cf->quota_zone ? cf->quota_zone : "UTC";
	char where[4200];
	enum sw_err rc;

	if (sw_plan_parse_reset(cf->quota_reset ? cf->quota_reset : "00:00",
				&cf->quota_reset_min) != SW_OK) {
		sw_conf_where(conf, "courier", cf->name, "quota_reset", where, sizeof(where));
		snprintf(errbuf, errlen, "%s: [courier %s] quota_reset: not a time HH:MM: '%s'",
			 where, cf->name, cf->quota_reset);
		return SW_ECONF;
	}
	if (strcmp(zone, "UTC") != 0 && (rc = sw_tz_check(zone)) != SW_OK) {
		sw_conf_where(conf, "courier", cf->name, "quota_zone", where, sizeof(where));
		snprintf(errbuf, errlen, "%s: [courier %s] quota_zone: %s: '%s'", where, cf->name,
			 rc == SW_ENOTFOUND ? "no such zone" : "not a usable IANA zone", zone);
		return SW_ECONF;
	}
	if (cf->quota_reserve > 0 && cf->quota_reserve >= cf->daily_quota) {
		sw_conf_where(conf, "courier", cf->name, "quota_reserve", where, sizeof(where));
		snprintf(errbuf, errlen,
			 "%s: [courier %s] quota_reserve: not below daily_quota (%" PRId64
			 "): '%" PRId64 "'",
			 where, cf->name, cf->daily_quota, cf->quota_reserve);
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
	pc->lease_ms = 60000;
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
		if (rc == SW_OK)
			rc = conf_check_quota(conf, cf, errbuf, errlen);
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
	free(pc->instance);
	free(pc);
}

struct sw_poll_courier_conf *sw_poll_conf_find(struct sw_poll_conf *pc, const char *name)
{
	for (size_t i = 0; pc && name && i < pc->n; i++)
		if (strcmp(pc->couriers[i].name, name) == 0)
			return &pc->couriers[i];
	return NULL;
}

