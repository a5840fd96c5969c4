/*
 * generic_conf.c - compiles a generic adapter description ([courier NAME]
 * with adapter = generic, struct sw_generic_conf) into the immutable
 * struct sw_courier_generic the adapter reads (generic_int.h).
 *
 * Design: everything that can be wrong in the configuration is found here,
 * once, and reported as "KEY: what: 'bad text'" (the caller prefixes file,
 * line and section): templates checked for known placeholders, paths and
 * conditions parsed (generic_path.c), the time format checked, the zone
 * loaded, the status map and rules parsed, the auth and batch keys checked
 * against each other.  Tables list the path and string options so that
 * sw_generic_conf_used and the compile loop need no per-key code.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/courier/common.h"
#include "collector/courier/generic_int.h"
#include "lib/xmalloc.h"

#define MAP_MAX	    256 /* status_map entries */
#define INVALID_MAX 32	/* invalid_codes entries */

#define GC(f) offsetof(struct sw_generic_conf, f)
#define GS(f) offsetof(struct sw_courier_generic, f)

/* Every path option: its key, its text in the conf, its place in the spec. */
static const struct {
	const char *key;
	size_t conf_off, spec_off;
} path_opts[] = {
    {"path_shipment", GC(path_shipment), GS(shipment)},
    {"path_status", GC(path_status), GS(status)},
    {"path_status_text", GC(path_status_text), GS(status_text)},
    {"path_events", GC(path_events), GS(events)},
    {"path_event_time", GC(path_event_time), GS(ev_time)},
    {"path_event_code", GC(path_event_code), GS(ev_code)},
    {"path_event_text", GC(path_event_text), GS(ev_text)},
    {"path_event_location", GC(path_event_location), GS(ev_loc)},
    {"path_event_offset", GC(path_event_offset), GS(ev_offset)},
    {"path_eta", GC(path_eta), GS(eta)},
    {"path_delivered_at", GC(path_delivered_at), GS(delivered)},
    {"path_not_found", GC(path_not_found), GS(not_found)},
    {"path_error", GC(path_error), GS(error)},
    {"path_error_code", GC(path_error_code), GS(error_code)},
    {"path_rejected", GC(path_rejected), GS(rejected)},
    {"token_path", GC(token_path), GS(token)},
    {"token_lifetime_path", GC(token_lifetime_path), GS(token_life)},
};
#define N_PATHS (sizeof(path_opts) / sizeof(path_opts[0]))

/* Every other string option (for sw_generic_conf_used). */
static const struct {
	const char *key;
	size_t off;
} str_opts[] = {
    {"url", GC(url)},
    {"body", GC(body)},
    {"header_1", GC(header[0])},
    {"header_2", GC(header[1])},
    {"header_3", GC(header[2])},
    {"header_4", GC(header[3])},
    {"time_format", GC(time_format)},
    {"time_zone", GC(time_zone)},
    {"status_map", GC(status_map[0])},
    {"status_map_2", GC(status_map[1])},
    {"status_map_3", GC(status_map[2])},
    {"status_map_4", GC(status_map[3])},
    {"status_rule_1", GC(status_rule[0])},
    {"status_rule_2", GC(status_rule[1])},
    {"status_rule_3", GC(status_rule[2])},
    {"status_rule_4", GC(status_rule[3])},
    {"status_rule_5", GC(status_rule[4])},
    {"status_rule_6", GC(status_rule[5])},
    {"status_rule_7", GC(status_rule[6])},
    {"status_rule_8", GC(status_rule[7])},
    {"eta_unless", GC(eta_unless)},
    {"auth_scope", GC(auth_scope)},
    {"login_user_field", GC(login_user_field)},
    {"batch_separator", GC(batch_separator)},
    {"batch_item", GC(batch_item)},
    {"invalid_codes", GC(invalid_codes)},
};
#define N_STRS	   (sizeof(str_opts) / sizeof(str_opts[0]))
#define STR_HEADER 2  /* index of header_1 in str_opts */
#define STR_MAP	   8  /* index of status_map */
#define STR_RULE   12 /* index of status_rule_1 */

const char *const sw_generic_method_words[] = {"GET", "POST", NULL};
const char *const sw_generic_auth_words[] = {"header", "basic", "oauth", "login", NULL};
const char *const sw_generic_auth_body_words[] = {"form", "json", NULL};

static const char *conf_str(const struct sw_generic_conf *gc, size_t off)
{
	const char *s = *(char *const *)((const char *)gc + off);

	return s && *s ? s : NULL;
}

static enum sw_err bad(char *errbuf, size_t errlen, const char *key, const char *what,
		       const char *text)
{
	snprintf(errbuf, errlen, "%s: %s: '%s'", key, what, text ? text : "");
	return SW_ECONF;
}

static struct gp_path **spec_path(struct sw_courier_generic *g, size_t i)
{
	return (struct gp_path **)((char *)g + path_opts[i].spec_off);
}

void sw_generic_free(struct sw_courier_generic *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < N_PATHS; i++)
		gp_path_free(*spec_path(g, i));
	for (size_t i = 0; i < g->n_hdr; i++) {
		free(g->hdr[i].name);
		free(g->hdr[i].value);
	}
	for (size_t i = 0; i < g->n_map; i++)
		free(g->map[i].code);
	for (size_t i = 0; i < g->n_rules; i++)
		gp_conds_free(&g->rules[i].when);
	gp_conds_free(g->eta_unless);
	free(g->eta_unless);
	for (size_t i = 0; i < g->n_invalid; i++)
		free(g->invalid_codes[i]);
	free(g->invalid_codes);
	free(g->map);
	free(g->url);
	free(g->body);
	free(g->batch_item);
	free(g->pattern);
	free(g->zone);
	free(g->scope);
	free(g->user_field);
	free(g->separator);
	free(g);
}

const char *sw_generic_conf_used(const struct sw_generic_conf *gc)
{
	for (size_t i = 0; i < N_STRS; i++)
		if (conf_str(gc, str_opts[i].off))
			return str_opts[i].key;
	for (size_t i = 0; i < N_PATHS; i++)
		if (conf_str(gc, path_opts[i].conf_off))
			return path_opts[i].key;
	if (gc->not_found_status != 0)
		return "not_found_status";
	if (gc->invalid_status != 0)
		return "invalid_status";
	if (gc->batch_max > 1)
		return "batch_max";
	if (gc->auth != GP_AUTH_HEADER)
		return "auth";
	if (gc->auth_body != 0)
		return "auth_body";
	if (gc->token_lifetime != 0 && gc->token_lifetime != 3600000) /* its default */
		return "token_lifetime";
	return gc->method != SW_COURIER_GET ? "method" : NULL;
}

/* ---- templates ---------------------------------------------------------- */

enum { USE_TRACKING = 1, USE_KEY = 2, USE_TOKEN = 4, USE_NUMBERS = 8 };

/* Checks template t of key; ORs USE_* into *uses.  allowed: the USE_*
 * placeholders key may hold. */
static enum sw_err tmpl_check(const char *key, const char *t, unsigned allowed, unsigned *uses,
			      char *errbuf, size_t errlen)
{
	static const char *const words[] = {"tracking", "api_key", "token", "numbers"};
	const char *w;

	for (; *t != '\0'; t++) {
		size_t len = gp_placeholder(t, &w), k;

		for (k = 0; len > 0 && k < 4 && !gp_is_word(w, len, words[k]); k++)
			;
		if (len > 0 && (k == 4 || !(allowed & (1u << k))))
			return bad(errbuf, errlen, key,
				   k == 4 ? "unknown placeholder (want {tracking} {api_key} "
					    "{token} {numbers})"
					  : "placeholder not allowed here",
				   t);
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return bad(errbuf, errlen, key, "control character", "");
		if (len > 0)
			*uses |= 1u << k;
		t += len ? len + 1 : 0;
	}
	return SW_OK;
}

/* A header name is an RFC 9110 token. */
static bool token_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return false;
	return len > 0;
}

/* Header names that carry credentials (their value must use {api_key} or
 * {token}). */
static bool secret_name(const char *name)
{
	return sw_courier_contains(name, "auth") || sw_courier_contains(name, "key") ||
	       sw_courier_contains(name, "token") || sw_courier_contains(name, "secret");
}

static enum sw_err compile_header(struct sw_courier_generic *g, const char *key, const char *text,
				  unsigned *uses, char *errbuf, size_t errlen)
{
	const char *colon = strchr(text, ':'), *v;
	unsigned mine = 0;
	struct gp_header *h = &g->hdr[g->n_hdr];

	if (colon == NULL || !token_ok(text, (size_t)(colon - text)))
		return bad(errbuf, errlen, key, "want 'Name: value'", text);
	v = colon + 1 + strspn(colon + 1, " \t");
	if (tmpl_check(key, v, USE_TRACKING | USE_KEY | USE_TOKEN, &mine, errbuf, errlen) != SW_OK)
		return SW_ECONF;
	h->name = xstrndup(text, (size_t)(colon - text));
	if (secret_name(h->name) && !(mine & (USE_KEY | USE_TOKEN))) {
		snprintf(errbuf, errlen,
			 "%s: secrets are not written in the file; use {api_key} with "
			 "api_key_file or api_key_env, or {token}: '%s'",
			 key, h->name);
		free(h->name);
		return SW_ECONF;
	}
	h->value = xstrdup(v);
	g->has_accept |= strcasecmp(h->name, "Accept") == 0;
	g->has_ctype |= strcasecmp(h->name, "Content-Type") == 0;
	g->has_auth_hdr |= strcasecmp(h->name, "Authorization") == 0;
	g->token_hdr |= (mine & USE_TOKEN) != 0;
	g->n_hdr++;
	*uses |= mine;
	return SW_OK;
}

static enum sw_err compile_body(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				unsigned *uses, char *errbuf, size_t errlen)
{
	unsigned item = 0;

	if (gc->body && *gc->body) {
		if (g->method != SW_COURIER_POST)
			return bad(errbuf, errlen, "body", "only with method = POST", gc->body);
		if (tmpl_check("body", gc->body, USE_TRACKING | USE_KEY | USE_NUMBERS, uses, errbuf,
			       errlen) != SW_OK)
			return SW_ECONF;
		g->body = xstrdup(gc->body);
	}
	if (gc->batch_item && *gc->batch_item) {
		if (!(*uses & USE_NUMBERS))
			return bad(errbuf, errlen, "batch_item", "only with {numbers} in body",
				   gc->batch_item);
		if (tmpl_check("batch_item", gc->batch_item, USE_TRACKING, &item, errbuf, errlen) !=
		    SW_OK)
			return SW_ECONF;
		if (!(item & USE_TRACKING))
			return bad(errbuf, errlen, "batch_item", "does not use {tracking}",
				   gc->batch_item);
		g->batch_item = xstrdup(gc->batch_item);
	}
	return SW_OK;
}

static enum sw_err compile_request(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				   unsigned *uses, char *errbuf, size_t errlen)
{
	const char *url = gc->url;

	if (url == NULL || *url == '\0')
		return bad(errbuf, errlen, "url", "required with adapter = generic", "");
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return bad(errbuf, errlen, "url", "want an http:// or https:// URL", url);
	if (strpbrk(url, " \"<>\\^`|") != NULL)
		return bad(errbuf, errlen, "url", "characters not allowed in a URL", url);
	if (tmpl_check("url", url, USE_TRACKING | USE_KEY, uses, errbuf, errlen) != SW_OK)
		return SW_ECONF;
	g->url = xstrdup(url);
	g->method = gc->method == SW_COURIER_POST ? SW_COURIER_POST : SW_COURIER_GET;
	if (compile_body(g, gc, uses, errbuf, errlen) != SW_OK)
		return SW_ECONF;
	for (size_t i = 0; i < SW_GENERIC_HEADERS; i++)
		if (gc->header[i] && *gc->header[i] &&
		    compile_header(g, str_opts[STR_HEADER + i].key, gc->header[i], uses, errbuf,
				   errlen) != SW_OK)
			return SW_ECONF;
	if (!(*uses & (USE_TRACKING | USE_NUMBERS)))
		return bad(errbuf, errlen, "url", "neither url nor body uses {tracking}", url);
	g->needs_key = *uses & USE_KEY;
	return SW_OK;
}

static enum sw_err compile_paths(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				 char *errbuf, size_t errlen)
{
	const char *what;

	for (size_t i = 0; i < N_PATHS; i++) {
		const char *text = conf_str(gc, path_opts[i].conf_off);

		if (text == NULL)
			continue;
		if (strncmp(path_opts[i].key, "path_event_", 11) == 0 && gc->path_events == NULL)
			return bad(errbuf, errlen, path_opts[i].key, "needs path_events", text);
		*spec_path(g, i) = gp_path_parse(text, &what);
		if (*spec_path(g, i) == NULL)
			return bad(errbuf, errlen, path_opts[i].key, what, text);
	}
	if (g->status == NULL && g->events == NULL)
		return bad(errbuf, errlen, "path_status", "set path_status or path_events", "");
	return SW_OK;
}

static enum sw_err compile_time(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				char *errbuf, size_t errlen)
{
	const char *f = gc->time_format;

	if (f == NULL || *f == '\0' || strcmp(f, "rfc3339") == 0) {
		g->tfmt = GP_TF_RFC3339;
	} else if (strcmp(f, "epoch") == 0 || strcmp(f, "epoch_ms") == 0) {
		g->tfmt = f[5] ? GP_TF_EPOCH_MS : GP_TF_EPOCH;
	} else if (gp_pattern_ok(f)) {
		g->tfmt = GP_TF_PATTERN;
		g->pattern = xstrdup(f);
	} else {
		return bad(errbuf, errlen, "time_format",
			   "want rfc3339, epoch, epoch_ms or a pattern with %Y %m %d %H %M "
			   "(also %y %b %S %f %z %%)",
			   f);
	}
	if (gc->time_zone && *gc->time_zone) {
		if (!sw_tz_valid(gc->time_zone))
			return bad(errbuf, errlen, "time_zone", "unknown time zone", gc->time_zone);
		g->zone = xstrdup(gc->time_zone);
	}
	return SW_OK;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* One "CODE=status" item of key; appended to g->map. */
static enum sw_err map_item(struct sw_courier_generic *g, const char *key, const char *item,
			    size_t len, char *errbuf, size_t errlen)
{
	char code[GP_NAME_MAX + 1], status[32], whole[2 * GP_NAME_MAX];
	const char *eq = memchr(item, '=', len), *st;
	size_t clen = eq ? (size_t)(eq - item) : 0, slen;
	enum sw_ship_status s;

	snprintf(whole, sizeof(whole), "%.*s", (int)len, item);
	if (eq == NULL)
		return bad(errbuf, errlen, key, "want CODE=status", whole);
	st = eq + 1;
	slen = len - clen - 1;
	trim(&item, &clen);
	trim(&st, &slen);
	if (clen == 0 || clen > GP_NAME_MAX || slen >= sizeof(status))
		return bad(errbuf, errlen, key, "want CODE=status", whole);
	snprintf(code, sizeof(code), "%.*s", (int)clen, item);
	snprintf(status, sizeof(status), "%.*s", (int)slen, st);
	if (sw_store_ship_status_parse(status, &s) != SW_OK)
		return bad(errbuf, errlen, key, "unknown canonical status", status);
	for (size_t i = 0; i < g->n_map; i++)
		if (strcasecmp(g->map[i].code, code) == 0)
			return bad(errbuf, errlen, key, "code mapped twice", code);
	if (g->n_map >= MAP_MAX)
		return bad(errbuf, errlen, key, "too many codes (max 256)", code);
	g->map = xreallocarray(g->map, g->n_map + 1, sizeof(*g->map));
	g->map[g->n_map].code = xstrdup(code);
	g->map[g->n_map++].status = s;
	return SW_OK;
}

static enum sw_err compile_map(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
			       char *errbuf, size_t errlen)
{
	for (size_t k = 0; k < SW_GENERIC_MAPS; k++) {
		const char *key = str_opts[STR_MAP + k].key, *s = gc->status_map[k];

		while (s != NULL && *s != '\0') {
			size_t len = strcspn(s, ","), tlen = len;
			const char *t = s;

			trim(&t, &tlen);
			if (tlen > 0 && map_item(g, key, s, len, errbuf, errlen) != SW_OK)
				return SW_ECONF;
			s += len + (s[len] == ',');
		}
	}
	return SW_OK;
}

/* status_rule_N and eta_unless. */
static enum sw_err compile_rules(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				 char *errbuf, size_t errlen)
{
	char at[GP_COND_TEXT];
	const char *what;

	for (size_t k = 0; k < SW_GENERIC_RULES; k++) {
		const char *key = str_opts[STR_RULE + k].key, *text = gc->status_rule[k];

		if (text == NULL || *text == '\0')
			continue;
		if (gp_rule_parse(text, &g->rules[g->n_rules], &what, at, sizeof(at)) != SW_OK)
			return bad(errbuf, errlen, key, what, at);
		g->n_rules++;
	}
	if (g->n_map == 0 && g->n_rules == 0)
		return bad(errbuf, errlen, "status_map",
			   "required with adapter = generic (or status_rule_1)", "");
	if (gc->eta_unless && *gc->eta_unless) {
		if (g->eta == NULL)
			return bad(errbuf, errlen, "eta_unless", "needs path_eta", gc->eta_unless);
		g->eta_unless = xcalloc(1, sizeof(*g->eta_unless));
		if (gp_conds_parse(gc->eta_unless, true, g->eta_unless, &what, at, sizeof(at)) !=
		    SW_OK)
			return bad(errbuf, errlen, "eta_unless", what, at);
	}
	return SW_OK;
}

/* auth and its keys; uses: the placeholders the request templates use. */
static enum sw_err compile_auth(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				unsigned uses, char *errbuf, size_t errlen)
{
	const char *word = sw_generic_auth_words[gc->auth];
	bool token = gc->auth == GP_AUTH_OAUTH || gc->auth == GP_AUTH_LOGIN;

	g->auth = (enum gp_auth)gc->auth;
	g->auth_json = gc->auth_body == 1 || gc->auth == GP_AUTH_LOGIN;
	if ((uses & USE_TOKEN) && !token)
		return bad(errbuf, errlen, "auth", "{token} needs auth = oauth or login", word);
	if (g->auth == GP_AUTH_BASIC && g->has_auth_hdr)
		return bad(errbuf, errlen, "auth",
			   "basic sets the Authorization header itself; drop the header", word);
	if (!token && (gc->auth_scope || gc->login_user_field || gc->token_path ||
		       gc->token_lifetime_path || gc->auth_body != 0))
		return bad(errbuf, errlen, "auth",
			   "auth_body, auth_scope, login_user_field and token_* need auth = "
			   "oauth or login",
			   word);
	if (gc->login_user_field && g->auth != GP_AUTH_LOGIN)
		return bad(errbuf, errlen, "login_user_field", "only with auth = login",
			   gc->login_user_field);
	if (gc->auth_scope && *gc->auth_scope && g->auth != GP_AUTH_OAUTH)
		return bad(errbuf, errlen, "auth_scope", "only with auth = oauth", gc->auth_scope);
	if (gc->login_user_field && !token_ok(gc->login_user_field, strlen(gc->login_user_field)))
		return bad(errbuf, errlen, "login_user_field", "want a plain JSON key",
			   gc->login_user_field);
	g->scope = gc->auth_scope && *gc->auth_scope ? xstrdup(gc->auth_scope) : NULL;
	g->user_field = xstrdup(gc->login_user_field ? gc->login_user_field : "email");
	g->token_life_s = gc->token_lifetime > 0 ? gc->token_lifetime / 1000 : 3600;
	if (token && g->token == NULL)
		g->token = gp_path_parse("access_token", &word);
	if (token && g->token_life == NULL)
		g->token_life = gp_path_parse("expires_in", &word);
	return SW_OK;
}

/* batch_* and the error keys. */
static enum sw_err compile_batch(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				 unsigned uses, char *errbuf, size_t errlen)
{
	const char *sep = gc->batch_separator ? gc->batch_separator : ",";
	char num[24];

	g->batch_max =
	    gc->batch_max >= 1 && gc->batch_max <= SW_COURIER_BATCH_MAX ? (size_t)gc->batch_max : 1;
	if (*sep == '\0' || strlen(sep) > 8 || strpbrk(sep, " \"<>\\^`|{}#?") != NULL)
		return bad(errbuf, errlen, "batch_separator", "want 1 to 8 URL characters", sep);
	g->separator = xstrdup(sep);
	if ((uses & USE_NUMBERS) && g->batch_max == 1)
		return bad(errbuf, errlen, "body", "{numbers} needs batch_max above 1", gc->body);
	snprintf(num, sizeof(num), "%zu", g->batch_max);
	if (g->batch_max > 1 && (g->shipment == NULL || !g->shipment->uses_tracking))
		return bad(errbuf, errlen, "batch_max",
			   "needs path_shipment with a [field={tracking}] selector (answers are "
			   "matched back by it)",
			   num);
	return SW_OK;
}

static enum sw_err compile_errors(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				  char *errbuf, size_t errlen)
{
	const char *s = gc->invalid_codes;
	char num[24];
	long st[2] = {(long)gc->not_found_status, (long)gc->invalid_status};

	for (int i = 0; i < 2; i++) {
		if (st[i] != 0 &&
		    (st[i] < 400 || st[i] > 499 || st[i] == 401 || st[i] == 403 || st[i] == 429)) {
			snprintf(num, sizeof(num), "%ld", st[i]);
			return bad(errbuf, errlen, i ? "invalid_status" : "not_found_status",
				   "want a 4xx other than 401 403 429", num);
		}
	}
	if (st[0] != 0 && st[0] == st[1]) {
		snprintf(num, sizeof(num), "%ld", st[1]);
		return bad(errbuf, errlen, "invalid_status", "same as not_found_status", num);
	}
	g->not_found_status = st[0];
	g->invalid_status = st[1];
	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, ","), tlen = len;
		const char *t = s;

		trim(&t, &tlen);
		if (tlen > GP_NAME_MAX || g->n_invalid >= INVALID_MAX)
			return bad(errbuf, errlen, "invalid_codes",
				   "want at most 32 codes of at most 64 bytes", gc->invalid_codes);
		if (tlen > 0) {
			g->invalid_codes = xreallocarray(g->invalid_codes, g->n_invalid + 1,
							 sizeof(*g->invalid_codes));
			g->invalid_codes[g->n_invalid++] = xstrndup(t, tlen);
		}
		s += len + (s[len] == ',');
	}
	if (g->n_invalid > 0 && g->error_code == NULL)
		return bad(errbuf, errlen, "invalid_codes", "needs path_error_code",
			   gc->invalid_codes);
	return SW_OK;
}

enum sw_err sw_generic_compile(const struct sw_generic_conf *gc,
			       struct sw_courier_generic **ret_spec, char *errbuf, size_t errlen)
{
	struct sw_courier_generic *g;
	unsigned uses = 0;

	if (ret_spec == NULL)
		return SW_EINVAL;
	*ret_spec = NULL;
	if (gc == NULL)
		return SW_EINVAL;
	g = xcalloc(1, sizeof(*g));
	if (compile_request(g, gc, &uses, errbuf, errlen) != SW_OK ||
	    compile_paths(g, gc, errbuf, errlen) != SW_OK ||
	    compile_time(g, gc, errbuf, errlen) != SW_OK ||
	    compile_map(g, gc, errbuf, errlen) != SW_OK ||
	    compile_rules(g, gc, errbuf, errlen) != SW_OK ||
	    compile_auth(g, gc, uses, errbuf, errlen) != SW_OK ||
	    compile_batch(g, gc, uses, errbuf, errlen) != SW_OK ||
	    compile_errors(g, gc, errbuf, errlen) != SW_OK)
		goto fail;
	*ret_spec = g;
	return SW_OK;
fail:
	sw_generic_free(g);
	return SW_ECONF;
}
