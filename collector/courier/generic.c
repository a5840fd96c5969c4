/*
 * generic.c - the generic courier adapter: URL, headers, authentication,
 * batching and the JSON layout of the answer come from the configuration
 * (see generic.h and doc/couriers.md for the keys and their syntax).
 *
 * Design: sw_generic_compile() (generic_conf.c) finds everything that can
 * be wrong in the configuration once and hands a compiled spec; this file
 * only uses it.  Requests expand the templates with the numbers ({tracking}
 * joined by batch_separator in url, {numbers} as a JSON array in body), the
 * key and the token; token requests are OAuth2 client credentials (form or
 * JSON body) or a JSON login, their answers read by the configured paths.
 * Answers go through the shared checks of sw_courier_open(), then each
 * number is looked up on its own (path_rejected, the error envelope,
 * path_not_found, path_shipment with its {tracking} selector), so one bad
 * number of a batch never spoils the others and a number missing from an
 * otherwise good answer is not found.  Status: the first status rule that
 * holds, else status_map of path_status, else the newest event that maps.
 * Results follow the adapter rules of courier.h: a status only with FOUND,
 * events sorted by time, zone-less times flagged unless the event carries
 * an offset or time_zone names a zone, ETA as written (dropped when
 * eta_unless holds).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "collector/courier/generic_int.h"
#include "lib/xmalloc.h"

#define FORMAT_MAX 64 /* time_format pattern bytes */

/* ---- times -------------------------------------------------------------- */

#define SEEN_DATE 7 /* year, month, day */

struct tparts {
	int y, mo, d, h, mi, s;
	int32_t nsec, off;
	bool has_off;
	unsigned seen; /* 1 year, 2 month, 4 day, 8 hour, 16 minute */
};

static const char *take_digits(const char *s, int min, int max, int *ret)
{
	int v = 0, i = 0;

	while (i < max && isdigit((unsigned char)s[i]))
		v = v * 10 + (s[i++] - '0');
	if (i < min)
		return NULL;
	*ret = v;
	return s + i;
}

static const char *take_month(const char *s, int *ret)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, months + 3 * i, 3) == 0) {
			*ret = i + 1;
			return s + 3;
		}
	return NULL;
}

static const char *take_offset(const char *s, struct tparts *tp)
{
	char buf[8];
	size_t len = strspn(s, "+-0123456789:Zz");

	if (len == 0 || len >= sizeof(buf))
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sw_time_parse_offset(buf, &tp->off, NULL, 0) != SW_OK)
		return NULL;
	tp->has_off = true;
	return s + len;
}

/* One directive c at s; the rest of s, or NULL. */
static const char *take_field(char c, const char *s, struct tparts *tp)
{
	int v = 0;
	const char *e;

	switch (c) {
	case 'Y':
		tp->seen |= 1;
		return take_digits(s, 4, 4, &tp->y);
	case 'y':
		tp->seen |= 1;
		e = take_digits(s, 2, 2, &v);
		tp->y = 2000 + v;
		return e;
	case 'm':
		tp->seen |= 2;
		return take_digits(s, 1, 2, &tp->mo);
	case 'b':
		tp->seen |= 2;
		return take_month(s, &tp->mo);
	case 'd':
		tp->seen |= 4;
		return take_digits(s, 1, 2, &tp->d);
	case 'H':
		tp->seen |= 8;
		return take_digits(s, 1, 2, &tp->h);
	case 'M':
		tp->seen |= 16;
		return take_digits(s, 2, 2, &tp->mi);
	case 'S':
		return take_digits(s, 2, 2, &tp->s);
	case 'z':
		return take_offset(s, tp);
	case 'f':
		e = take_digits(s, 1, 9, &v);
		tp->nsec = v;
		for (long k = e ? e - s : 9; k < 9; k++)
			tp->nsec *= 10;
		return e;
	case '%':
		return *s == '%' ? s + 1 : NULL;
	default:
		return NULL;
	}
}

/* Matches s against fmt.  date_only: the end of s is fine once year,
 * month and day are read (ETA "26/11/2026" against "%d/%m/%Y %H:%M"). */
static bool scan_pattern(const char *fmt, const char *s, bool date_only, struct tparts *tp)
{
	memset(tp, 0, sizeof(*tp));
	while (*fmt != '\0' && s != NULL) {
		if (date_only && *s == '\0' && (tp->seen & SEEN_DATE) == SEEN_DATE)
			return true;
		if (*fmt == '%') {
			s = take_field(fmt[1], s, tp);
			fmt += fmt[1] ? 2 : 1;
		} else if (*fmt == ' ') {
			if (*s != ' ')
				return false;
			s += strspn(s, " ");
			fmt++;
		} else if (*s++ != *fmt++) {
			return false;
		}
	}
	return s != NULL && *s == '\0' && *fmt == '\0';
}

/* true if fmt has only known directives and at least a date, hour and
 * minute. */
bool gp_pattern_ok(const char *fmt)
{
	struct tparts tp = {0};

	if (strlen(fmt) > FORMAT_MAX)
		return false;
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '\0' || strchr("YymbdHMSzf%", p[1]) == NULL)
			return false;
		tp.seen |= strchr("Yy", p[1])	? 1
			   : strchr("mb", p[1]) ? 2
			   : p[1] == 'd'	? 4
			   : p[1] == 'H'	? 8
			   : p[1] == 'M'	? 16
						: 0;
		p++;
	}
	return tp.seen == 31;
}

static bool parts_time(const struct tparts *tp, struct sw_time *ret)
{
	char d[48], t[48];

	snprintf(d, sizeof(d), "%04d-%02d-%02d", tp->y, tp->mo, tp->d);
	snprintf(t, sizeof(t), "%02d:%02d:%02d", tp->h, tp->mi, tp->s);
	if (sw_time_parse_parts(d, t, ret, NULL, 0) != SW_OK)
		return false;
	ret->nsec = tp->nsec;
	return !tp->has_off || sw_time_assume_offset(ret, tp->off) == SW_OK;
}

static bool epoch_time(const char *s, bool ms, struct sw_time *ret)
{
	size_t len = strlen(s);
	int64_t v = 0;

	if (len == 0 || len > 16 || strspn(s, "0123456789") != len)
		return false;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	if (v > (ms ? INT64_C(253402300799999) : INT64_C(253402300799)))
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->utc_sec = ms ? v / 1000 : v;
	ret->nsec = ms ? (int32_t)(v % 1000) * 1000000 : 0;
	ret->flags = SW_TIME_HAS_OFFSET;
	return true;
}

/* Parses s as the spec says; a zone-less value takes offset (if given and
 * valid) or the spec's zone, else stays SW_TIME_ZONE_UNKNOWN. */
static bool spec_time(const struct sw_courier_generic *g, const char *s, const char *offset,
		      struct sw_time *ret)
{
	struct tparts tp;
	int32_t off;
	bool okp;

	if (s == NULL)
		return false;
	if (g->tfmt == GP_TF_RFC3339)
		okp = sw_courier_time(s, ret);
	else if (g->tfmt == GP_TF_PATTERN)
		okp = scan_pattern(g->pattern, s, false, &tp) && parts_time(&tp, ret);
	else
		okp = epoch_time(s, g->tfmt == GP_TF_EPOCH_MS, ret);
	if (!okp || !(ret->flags & SW_TIME_ZONE_UNKNOWN))
		return okp;
	if (offset != NULL && sw_time_parse_offset(offset, &off, NULL, 0) == SW_OK)
		sw_time_assume_offset(ret, off);
	else if (g->zone != NULL)
		sw_time_resolve_zone(ret, g->zone, 0);
	return true;
}

static bool spec_date(const struct sw_courier_generic *g, const char *s, struct sw_date *ret)
{
	struct tparts tp;

	if (sw_courier_date(s, ret))
		return true;
	if (s == NULL || g->tfmt != GP_TF_PATTERN || !scan_pattern(g->pattern, s, true, &tp))
		return false;
	ret->year = tp.y;
	ret->month = tp.mo;
	ret->day = tp.d;
	return sw_date_valid(ret);
}

/* ---- templates ---------------------------------------------------------- */

enum esc { ESC_URL, ESC_JSON, ESC_NONE };

/* What placeholders stand for in one request. */
struct vals {
	const struct sw_courier_generic *g;
	const char *const *numbers;
	size_t n;
	const char *key, *token;
};

static void put_escaped(FILE *f, const char *v, enum esc esc)
{
	char *u;

	if (esc == ESC_URL) {
		u = sw_courier_url_escape(v);
		fputs(u, f);
		free(u);
		return;
	}
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (esc == ESC_JSON && (c == '"' || c == '\\'))
			fprintf(f, "\\%c", c);
		else if (esc == ESC_JSON && c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static char *tmpl_expand(const char *t, const struct vals *v, enum esc esc);

/* {numbers}: a JSON array of the numbers, each as batch_item says. */
static void put_numbers(FILE *f, const struct vals *v)
{
	fputc('[', f);
	for (size_t i = 0; i < v->n; i++) {
		struct vals one = *v;
		char *item;

		one.numbers = &v->numbers[i];
		one.n = 1;
		if (i > 0)
			fputc(',', f);
		if (v->g->batch_item == NULL) {
			fputc('"', f);
			put_escaped(f, v->numbers[i], ESC_JSON);
			fputc('"', f);
			continue;
		}
		item = tmpl_expand(v->g->batch_item, &one, ESC_JSON);
		fputs(item, f);
		free(item);
	}
	fputc(']', f);
}

/* t with its placeholders replaced; new string.  {tracking} is the
 * numbers joined by batch_separator. */
static char *tmpl_expand(const char *t, const struct vals *v, enum esc esc)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	const char *w;

	if (f == NULL)
		abort(); /* out of memory, as xmalloc */
	for (; *t != '\0'; t++) {
		size_t len = gp_placeholder(t, &w);

		if (gp_is_word(w, len, "tracking")) {
			for (size_t i = 0; i < v->n; i++) {
				if (i > 0)
					fputs(v->g->separator, f);
				put_escaped(f, v->numbers[i], esc);
			}
		} else if (gp_is_word(w, len, "api_key")) {
			put_escaped(f, v->key ? v->key : "", esc);
		} else if (gp_is_word(w, len, "token")) {
			put_escaped(f, v->token ? v->token : "", esc);
		} else if (gp_is_word(w, len, "numbers")) {
			put_numbers(f, v);
		} else {
			fputc(*t, f);
			continue;
		}
		t += len + 1;
	}
	if (fclose(f) != 0 || out == NULL)
		abort();
	return out;
}

/* ---- answers ------------------------------------------------------------ */

static enum sw_ship_status map_code(const struct sw_courier_generic *g, const char *code)
{
	for (size_t i = 0; code != NULL && i < g->n_map; i++)
		if (strcasecmp(g->map[i].code, code) == 0)
			return g->map[i].status;
	return SW_SHIP_UNKNOWN;
}

static void read_event(const struct sw_courier_generic *g, struct sw_courier_result *r, json_t *ev,
		       const char *tn)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	char b1[32], b2[32], b3[32];
	const char *ts = gp_path_str(g->ev_time, ev, tn, b1, sizeof(b1));
	const char *code = gp_path_str(g->ev_code, ev, tn, b2, sizeof(b2));

	e->has_time = spec_time(g, ts, gp_path_str(g->ev_offset, ev, tn, b3, sizeof(b3)), &e->at);
	e->raw_time = sw_courier_strdup(ts);
	e->code = sw_courier_strdup(code);
	e->status = map_code(g, code);
	e->text = sw_courier_strdup(gp_path_str(g->ev_text, ev, tn, b3, sizeof(b3)));
	e->location = sw_courier_strdup(gp_path_str(g->ev_loc, ev, tn, b3, sizeof(b3)));
}

/* Without a shipment-level status: the newest event that says something;
 * a delivered parcel without delivered_at: its newest delivery event. */
static void refine(struct sw_courier_result *r, bool has_status)
{
	for (size_t i = r->n_events; !has_status && i-- > 0;)
		if (r->events[i].status != SW_SHIP_UNKNOWN) {
			r->status = r->events[i].status;
			break;
		}
	for (size_t i = r->n_events;
	     r->status == SW_SHIP_DELIVERED && !r->has_delivered && i-- > 0;)
		if (r->events[i].status == SW_SHIP_DELIVERED && r->events[i].has_time) {
			r->delivered = r->events[i].at;
			r->has_delivered = true;
		}
}

/* The status of the first rule that holds for sh; *ret_hit if one did. */
static enum sw_ship_status rule_status(const struct sw_courier_generic *g, json_t *sh,
				       const char *tn, bool *ret_hit)
{
	for (size_t i = 0; i < g->n_rules; i++)
		if (gp_conds_hold(&g->rules[i].when, sh, tn, SW_SHIP_UNKNOWN)) {
			*ret_hit = true;
			return g->rules[i].status;
		}
	*ret_hit = false;
	return SW_SHIP_UNKNOWN;
}

static void read_shipment(const struct sw_courier_generic *g, struct sw_courier_result *r,
			  json_t *sh, const char *tn)
{
	json_t *events = NULL, *ev;
	char b1[32], b2[32];
	const char *code = gp_path_str(g->status, sh, tn, b1, sizeof(b1));
	bool ruled;
	enum sw_ship_status st = rule_status(g, sh, tn, &ruled);
	size_t i;

	if (g->events && gp_path_get(g->events, sh, tn, &events) != GP_HIT)
		events = NULL;
	if (code == NULL && !ruled && json_array_size(events) == 0) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE,
				     "shipment has neither a status nor events");
		return;
	}
	if (!sw_courier_events_fit(r, events, "events"))
		return;
	sw_courier_set_found(r, ruled ? st : map_code(g, code), code,
			     gp_path_str(g->status_text, sh, tn, b2, sizeof(b2)));
	json_array_foreach(events, i, ev) read_event(g, r, ev, tn);
	sw_courier_finish(r);
	r->has_delivered =
	    spec_time(g, gp_path_str(g->delivered, sh, tn, b2, sizeof(b2)), NULL, &r->delivered);
	refine(r, code != NULL || ruled);
	r->has_eta = spec_date(g, gp_path_str(g->eta, sh, tn, b2, sizeof(b2)), &r->eta);
	if (r->has_eta && g->eta_unless && gp_conds_hold(g->eta_unless, sh, tn, r->status))
		r->has_eta = false;
}

/* The message at p from root: a string, or the message of an object
 * there (sw_courier_body_message); NULL if none. */
static char *message_at(const struct gp_path *p, json_t *root, const char *tn)
{
	json_t *v = NULL;
	char buf[32];
	const char *s;

	if (p == NULL || gp_path_get(p, root, tn, &v) != GP_HIT)
		return NULL;
	if (json_is_object(v))
		return sw_courier_body_message(v);
	s = gp_path_str(p, root, tn, buf, sizeof(buf));
	return s ? sw_courier_strdup(s) : NULL;
}

/* The error envelope of root: its message (path_error, else the usual
 * fields), or NULL; *ret_invalid if its code is one of invalid_codes. */
static char *envelope(const struct sw_courier_generic *g, json_t *root, const char *tn,
		      bool *ret_invalid)
{
	char buf[32];
	const char *code = gp_path_str(g->error_code, root, tn, buf, sizeof(buf));

	*ret_invalid = false;
	for (size_t i = 0; code != NULL && i < g->n_invalid; i++)
		*ret_invalid |= strcasecmp(code, g->invalid_codes[i]) == 0;
	if (root == NULL)
		return NULL;
	return g->error ? message_at(g->error, root, tn) : sw_courier_body_message(root);
}

/* One number of a 2xx answer.  whole: the envelope's message when the
 * answer as a whole is an error (invalid: it says the number is bad). */
static void parse_one(const struct sw_courier_generic *g, json_t *root, const char *tn, size_t n,
		      const char *whole, bool invalid, struct sw_courier_result *r)
{
	json_t *v = NULL, *sh = root;
	char *msg;

	if (g->rejected && gp_path_get(g->rejected, root, tn, &v) == GP_HIT && !json_is_null(v) &&
	    !json_is_false(v)) {
		msg = message_at(g->rejected, root, tn);
		sw_courier_set_error(r, SW_COURIER_ERR_REJECTED, "%s",
				     msg ? msg : "the courier rejected the number");
		free(msg);
		return;
	}
	if (whole != NULL) {
		sw_courier_set_error(r,
				     !invalid ? SW_COURIER_ERR_OTHER
				     : n == 1 ? SW_COURIER_ERR_REJECTED
					      : SW_COURIER_ERR_BATCH,
				     "%s", whole);
		return;
	}
	if (g->not_found && gp_path_get(g->not_found, root, tn, &v) == GP_HIT && !json_is_null(v) &&
	    !json_is_false(v)) {
		msg = message_at(g->not_found, root, tn);
		sw_courier_set_not_found(r, msg ? msg : "not found (path_not_found)");
		free(msg);
		return;
	}
	switch (g->shipment ? gp_path_get(g->shipment, root, tn, &sh) : GP_HIT) {
	case GP_NO_MATCH:
		sw_courier_set_not_found(r, "no shipment for the number in the answer");
		return;
	case GP_MISSING:
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE,
				     "no shipment at path_shipment");
		return;
	case GP_HIT:
		break;
	}
	if (!json_is_object(sh))
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE, "shipment is not an object");
	else
		read_shipment(g, r, sh, tn);
}

/* A non-2xx answer: results already ERROR (sw_courier_open); refined by
 * not_found_status, invalid_status, invalid_codes and the envelope. */
static void parse_failed(const struct sw_courier_generic *g, const struct sw_courier_response *resp,
			 const char *const *numbers, size_t n, struct sw_courier_result *res)
{
	long st = resp->http_status;
	json_t *root = NULL;
	bool invalid;
	char *msg, code[32];

	if (resp->body != NULL && resp->len > 0 && resp->len <= SW_COURIER_MAX_BODY)
		root = json_loadb(resp->body, resp->len, 0, NULL);
	msg = envelope(g, root, n == 1 ? numbers[0] : NULL, &invalid);
	invalid = (invalid && st >= 400 && st <= 499 && st != 401 && st != 403 && st != 429) ||
		  (g->invalid_status != 0 && st == g->invalid_status);
	snprintf(code, sizeof(code), "HTTP %ld", st);
	for (size_t i = 0; i < n; i++) {
		if (g->not_found_status != 0 && st == g->not_found_status && n == 1)
			sw_courier_set_not_found(&res[i], msg ? msg : code);
		else if ((g->not_found_status != 0 && st == g->not_found_status) || invalid)
			sw_courier_set_error(
			    &res[i], n == 1 ? SW_COURIER_ERR_REJECTED : SW_COURIER_ERR_BATCH,
			    "HTTP %ld%s%s", st, msg ? ": " : "", msg ? msg : "");
		else if (msg != NULL && g->error != NULL)
			sw_courier_set_error(&res[i], res[i].errkind, "HTTP %ld: %s", st, msg);
	}
	free(msg);
	json_decref(root);
}

static enum sw_err generic_parse_conf(const struct sw_courier_conf *conf,
				      const struct sw_courier_response *resp,
				      const char *const *numbers, size_t n,
				      struct sw_courier_result *res)
{
	const struct sw_courier_generic *g = conf ? conf->generic : NULL;
	json_t *root;
	char *whole;
	bool invalid = false;

	if (g == NULL || resp == NULL || numbers == NULL || res == NULL || n == 0 ||
	    n > g->batch_max)
		return SW_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (numbers[i] == NULL)
			return SW_EINVAL;
	root = sw_courier_open(resp, numbers, n, res, false);
	if (root == NULL) {
		if (resp->http_status < 200 || resp->http_status > 299)
			parse_failed(g, resp, numbers, n, res);
		return SW_OK;
	}
	whole = g->error ? envelope(g, root, n == 1 ? numbers[0] : NULL, &invalid) : NULL;
	for (size_t i = 0; i < n; i++)
		parse_one(g, root, numbers[i], n, whole, invalid, &res[i]);
	free(whole);
	json_decref(root);
	return SW_OK;
}

static enum sw_err generic_parse(const struct sw_courier_response *resp, const char *const *numbers,
				 size_t n, struct sw_courier_result *res)
{
	(void)resp;
	(void)numbers;
	(void)n;
	(void)res;
	return SW_EINVAL; /* needs the configuration: parse_response_conf */
}

/* ---- tokens ------------------------------------------------------------- */

static enum sw_courier_auth generic_auth_of(const struct sw_courier_conf *conf)
{
	const struct sw_courier_generic *g = conf ? conf->generic : NULL;

	if (g == NULL)
		return SW_COURIER_AUTH_API_KEY;
	switch (g->auth) {
	case GP_AUTH_OAUTH:
		return SW_COURIER_AUTH_OAUTH;
	case GP_AUTH_LOGIN:
		return SW_COURIER_AUTH_LOGIN;
	case GP_AUTH_BASIC:
		return SW_COURIER_AUTH_API_KEY;
	case GP_AUTH_HEADER:
		break;
	}
	return g->needs_key ? SW_COURIER_AUTH_API_KEY : SW_COURIER_AUTH_NONE;
}

static size_t generic_max_batch_of(const struct sw_courier_conf *conf)
{
	return conf && conf->generic ? conf->generic->batch_max : 1;
}

static bool utf8_ok(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/* The token request's body: OAuth form or JSON, or the JSON login. */
static char *auth_body(const struct sw_courier_generic *g, const struct sw_courier_conf *conf)
{
	json_t *o = json_object();
	char *dump, *out;

	if (g->auth == GP_AUTH_OAUTH && !g->auth_json) {
		char *id = sw_courier_url_escape(conf->api_key);
		char *sec = sw_courier_url_escape(conf->api_secret);
		char *sc = g->scope ? sw_courier_url_escape(g->scope) : NULL;

		out = xasprintf("grant_type=client_credentials&client_id=%s&client_secret=%s%s%s",
				id, sec, sc ? "&scope=" : "", sc ? sc : "");
		explicit_bzero(sec, strlen(sec));
		free(id);
		free(sec);
		free(sc);
		json_decref(o);
		return out;
	}
	if (g->auth == GP_AUTH_OAUTH) {
		json_object_set_new(o, "client_id", json_string(conf->api_key));
		json_object_set_new(o, "client_secret", json_string(conf->api_secret));
		json_object_set_new(o, "grant_type", json_string("client_credentials"));
		if (g->scope)
			json_object_set_new(o, "scope", json_string(g->scope));
	} else {
		json_object_set_new(o, g->user_field, json_string(conf->username));
		json_object_set_new(o, "password", json_string(conf->password));
	}
	dump = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (dump == NULL)
		abort(); /* out of memory, or a credential that is not UTF-8 */
	out = xstrdup(dump);
	explicit_bzero(dump, strlen(dump));
	free(dump);
	return out;
}

static enum sw_err generic_auth_build(const struct sw_courier_conf *conf,
				      struct sw_courier_request *ret_req)
{
	const struct sw_courier_generic *g = conf ? conf->generic : NULL;
	bool oauth;

	if (g == NULL || ret_req == NULL)
		return SW_EINVAL;
	memset(ret_req, 0, sizeof(*ret_req));
	if (g->auth != GP_AUTH_OAUTH && g->auth != GP_AUTH_LOGIN)
		return SW_EINVAL;
	oauth = g->auth == GP_AUTH_OAUTH;
	if (conf->auth_url == NULL ||
	    (oauth &&
	     (!sw_courier_cred_ok(conf->api_key) || !sw_courier_cred_ok(conf->api_secret))) ||
	    (!oauth &&
	     (!sw_courier_cred_ok(conf->username) || !sw_courier_cred_ok(conf->password))))
		return SW_EAUTH;
	/* a JSON body cannot carry text that is not UTF-8 */
	if (g->auth_json && (!utf8_ok(oauth ? conf->api_key : conf->username) ||
			     !utf8_ok(oauth ? conf->api_secret : conf->password)))
		return SW_EAUTH;
	sw_courier_req_init(ret_req, SW_COURIER_POST, xstrdup(conf->auth_url));
	sw_courier_req_header(ret_req, "Accept", "application/json");
	sw_courier_req_header(ret_req, "Content-Type", "%s",
			      g->auth_json ? "application/json"
					   : "application/x-www-form-urlencoded");
	sw_courier_req_body(ret_req, auth_body(g, conf));
	return SW_OK;
}

/* The lifetime at g->token_life in root: SW_OK (*ret set, or left alone
 * when absent), SW_EPROTO when present but not a positive integer. */
static enum sw_err token_life(const struct sw_courier_generic *g, json_t *root, int64_t *ret)
{
	char buf[32];
	const char *s = gp_path_str(g->token_life, root, NULL, buf, sizeof(buf));
	int64_t v = 0;
	size_t i;

	if (s == NULL)
		return SW_OK;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 12)
			return SW_EPROTO;
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return SW_EPROTO;
	*ret = v;
	return SW_OK;
}

static enum sw_err generic_auth_parse(const struct sw_courier_conf *conf,
				      const struct sw_courier_response *resp,
				      struct sw_courier_token *ret_tok, char *errbuf, size_t errlen)
{
	const struct sw_courier_generic *g = conf ? conf->generic : NULL;
	char dummy[1], buf[32], *msg;
	long st = resp ? resp->http_status : 0;
	json_t *root = NULL;
	const char *tok;
	int64_t life;
	bool invalid;

	if (errbuf == NULL || errlen == 0) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';
	if (g == NULL || resp == NULL || ret_tok == NULL || g->token == NULL)
		return SW_EINVAL;
	memset(ret_tok, 0, sizeof(*ret_tok));
	if (resp->body != NULL && resp->len > 0 && resp->len <= SW_COURIER_MAX_BODY)
		root = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, NULL);
	if (st < 200 || st > 299) {
		msg = envelope(g, root, NULL, &invalid);
		snprintf(errbuf, errlen, "token request %s: HTTP %ld%s%s",
			 st == 400 || st == 401 || st == 403 ? "refused" : "failed", st,
			 msg ? ": " : "", msg ? msg : "");
		free(msg);
		json_decref(root);
		return st == 400 || st == 401 || st == 403 ? SW_EAUTH : SW_EAGAIN;
	}
	life = g->token_life_s;
	tok = gp_path_str(g->token, root, NULL, buf, sizeof(buf));
	if (root == NULL || !sw_courier_cred_ok(tok) || token_life(g, root, &life) != SW_OK) {
		snprintf(errbuf, errlen, "token answer lacks a usable token or lifetime%s",
			 root == NULL ? " (not JSON)" : "");
		json_decref(root);
		return SW_EPROTO;
	}
	ret_tok->token = xstrdup(tok);
	ret_tok->lifetime_s = life;
	json_decref(root);
	return SW_OK;
}

/* ---- requests ----------------------------------------------------------- */

static void add_headers(const struct sw_courier_generic *g, const struct sw_courier_conf *conf,
			const struct vals *v, struct sw_courier_request *req)
{
	for (size_t i = 0; i < g->n_hdr; i++) {
		char *val = tmpl_expand(g->hdr[i].value, v, ESC_NONE);

		sw_courier_req_header(req, g->hdr[i].name, "%s", val);
		explicit_bzero(val, strlen(val)); /* may hold the key */
		free(val);
	}
	if (!g->has_accept)
		sw_courier_req_header(req, "Accept", "application/json");
	if ((g->auth == GP_AUTH_OAUTH || g->auth == GP_AUTH_LOGIN) && !g->token_hdr &&
	    !g->has_auth_hdr)
		sw_courier_req_header(req, "Authorization", "Bearer %s", v->token);
	if (g->auth == GP_AUTH_BASIC) {
		char *b =
		    sw_courier_basic_auth(conf->api_key, conf->api_secret ? conf->api_secret : "");

		sw_courier_req_header(req, "Authorization", "Basic %s", b);
		explicit_bzero(b, strlen(b));
		free(b);
	}
}

static enum sw_err generic_build(const struct sw_courier_conf *conf, const char *token,
				 const char *req_id, const char *const *numbers, size_t n,
				 struct sw_courier_request *ret_req)
{
	const struct sw_courier_generic *g = conf ? conf->generic : NULL;
	struct vals v = {g, numbers, n, conf ? conf->api_key : NULL, token};
	bool tok = g && (g->auth == GP_AUTH_OAUTH || g->auth == GP_AUTH_LOGIN);
	enum sw_err rc;

	(void)req_id;
	rc = sw_courier_build_start(conf, ret_req, numbers, n, g ? g->batch_max : 1);
	if (rc != SW_OK)
		return rc;
	if (g == NULL)
		return SW_EINVAL;
	for (size_t i = 0; i < n; i++)
		for (const char *p = numbers[i]; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return SW_EINVAL; /* could split a header */
	if (((g->needs_key || g->auth == GP_AUTH_BASIC) && !sw_courier_cred_ok(v.key)) ||
	    (tok && !sw_courier_cred_ok(token)))
		return SW_EAUTH;
	sw_courier_req_init(ret_req, g->method, tmpl_expand(g->url, &v, ESC_URL));
	add_headers(g, conf, &v, ret_req);
	if (g->method == SW_COURIER_POST) {
		sw_courier_req_body(ret_req,
				    g->body ? tmpl_expand(g->body, &v, ESC_JSON) : xstrdup(""));
		if (!g->has_ctype)
			sw_courier_req_header(ret_req, "Content-Type", "application/json");
	}
	return SW_OK;
}

const struct sw_courier sw_courier_generic = {
    .name = "generic",
    .info = NULL,		       /* no courier of its own */
    .max_batch = SW_COURIER_BATCH_MAX, /* the most; max_batch_of says */
    .auth = SW_COURIER_AUTH_API_KEY,   /* a default; auth_of says */
    .default_base_url = "",
    .build_auth_request = generic_auth_build,
    .parse_auth_response = NULL,
    .build_request = generic_build,
    .parse_response = generic_parse,
    .parse_response_conf = generic_parse_conf,
    .auth_of = generic_auth_of,
    .max_batch_of = generic_max_batch_of,
    .parse_auth_response_conf = generic_auth_parse,
};
