/*
 * common.c - helpers shared by the courier adapters (see common.h), and the
 * public free/name/escape functions of include/slipwatch/courier.h.
 *
 * Design: a response is checked in one place (sw_courier_open) before any
 * adapter looks at it, so that 429, 401/403, 5xx, a wrong content type, an
 * empty, oversized, truncated or malformed body each give the same ERROR
 * kind for every courier.  Results start as ERROR bad_response and only an
 * adapter that finds a number in the answer turns them into FOUND or
 * NOT_FOUND; a number missing from a batched answer therefore stays an
 * error.  A 400 or 422 refuses the request as a whole: the numbers its
 * body names (or the only one asked) are rejected, the others "batch"
 * (sw_courier_set_refused; the poll engine resends or bisects them).  JSON is read through typed path helpers that return NULL for
 * anything missing or of the wrong type.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "lib/xmalloc.h"

#define NUMBER_MAX 64 /* longest tracking number accepted */

/* ---- names, freeing, escaping (public) --------------------------------- */

const char *sw_courier_outcome_name(enum sw_courier_outcome o)
{
	static const char *const names[] = {"found", "not_found", "error"};

	return (unsigned)o < SW_COURIER_OUTCOME_LAST ? names[o] : "?";
}

const char *sw_courier_errkind_name(enum sw_courier_errkind k)
{
	static const char *const names[] = {"none",	    "rate_limited", "unauthorized",
					    "server",	    "bad_response", "other",
					    "rejected",	    "batch"};

	return (unsigned)k < SW_COURIER_ERR_LAST ? names[k] : "?";
}

const char *sw_courier_auth_name(enum sw_courier_auth a)
{
	static const char *const names[] = {"none", "api_key", "oauth", "login"};

	return (unsigned)a < SW_COURIER_AUTH_LAST ? names[a] : "?";
}

const char *sw_courier_auth_keys(enum sw_courier_auth a)
{
	static const char *const keys[] = {"nothing", "api_key", "api_key and api_secret",
					   "username and password"};

	return (unsigned)a < SW_COURIER_AUTH_LAST ? keys[a] : "?";
}

enum sw_courier_auth sw_courier_auth_of(const struct sw_courier *ad,
					const struct sw_courier_conf *conf)
{
	return ad->auth_of ? ad->auth_of(conf) : ad->auth;
}

bool sw_courier_needs_token(const struct sw_courier *ad, const struct sw_courier_conf *conf)
{
	enum sw_courier_auth a = sw_courier_auth_of(ad, conf);

	return ad->build_auth_request != NULL && (a == SW_COURIER_AUTH_OAUTH || a == SW_COURIER_AUTH_LOGIN);
}

size_t sw_courier_max_batch(const struct sw_courier *ad, const struct sw_courier_conf *conf)
{
	size_t n = ad->max_batch_of ? ad->max_batch_of(conf) : ad->max_batch;

	return n ? n : 1;
}

enum sw_err sw_courier_parse_auth(const struct sw_courier *ad, const struct sw_courier_conf *conf,
				  const struct sw_courier_response *resp,
				  struct sw_courier_token *ret_tok, char *errbuf, size_t errlen)
{
	if (ad->parse_auth_response_conf)
		return ad->parse_auth_response_conf(conf, resp, ret_tok, errbuf, errlen);
	if (ad->parse_auth_response)
		return ad->parse_auth_response(resp, ret_tok, errbuf, errlen);
	return SW_EINVAL;
}

enum sw_err sw_courier_parse(const struct sw_courier *ad, const struct sw_courier_conf *conf,
			     const struct sw_courier_response *resp, const char *const *numbers,
			     size_t n, struct sw_courier_result *ret_results)
{
	if (ad->parse_response_conf)
		return ad->parse_response_conf(conf, resp, numbers, n, ret_results);
	return ad->parse_response(resp, numbers, n, ret_results);
}

const char *sw_courier_method_name(enum sw_courier_method m)
{
	static const char *const names[] = {"GET", "POST"};

	return (unsigned)m < SW_COURIER_METHOD_LAST ? names[m] : "?";
}

void sw_courier_request_free(struct sw_courier_request *req)
{
	if (req == NULL)
		return;
	for (size_t i = 0; i < req->n_headers; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->url);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

const char *sw_courier_request_header(const struct sw_courier_request *req, const char *name)
{
	if (req == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static void drop_found(struct sw_courier_result *r)
{
	for (size_t i = 0; i < r->n_events; i++) {
		free(r->events[i].code);
		free(r->events[i].text);
		free(r->events[i].location);
		free(r->events[i].raw_time);
	}
	free(r->events);
	free(r->raw_code);
	free(r->raw_text);
	free(r->signer);
	r->events = NULL;
	r->n_events = 0;
	r->raw_code = r->raw_text = r->signer = NULL;
	r->has_latest = r->has_eta = r->has_delivered = false;
	r->status = SW_SHIP_LAST;
}

void sw_courier_result_clear(struct sw_courier_result *r)
{
	if (r == NULL)
		return;
	drop_found(r);
	free(r->tracking_number);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

void sw_courier_token_clear(struct sw_courier_token *tok)
{
	if (tok == NULL)
		return;
	free(tok->token);
	memset(tok, 0, sizeof(*tok));
}

char *sw_courier_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = s ? strlen(s) : 0, j = 0;
	char *out = xmalloc(len * 3 + 1);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			out[j++] = (char)c;
		} else {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		}
	}
	out[j] = '\0';
	return out;
}

/* ---- JSON by path ------------------------------------------------------ */

json_t *sw_cj_get(json_t *node, const char *path)
{
	char seg[64];

	while (node != NULL && *path != '\0') {
		size_t len = strcspn(path, ".");

		if (len == 0 || len >= sizeof(seg))
			return NULL;
		memcpy(seg, path, len);
		seg[len] = '\0';
		path += len + (path[len] == '.');
		if (json_is_array(node) && isdigit((unsigned char)seg[0]))
			node = json_array_get(node, strtoul(seg, NULL, 10));
		else if (json_is_object(node))
			node = json_object_get(node, seg);
		else
			return NULL;
	}
	return node;
}

const char *sw_cj_str(json_t *node, const char *path)
{
	json_t *v = sw_cj_get(node, path);
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	return *s != '\0' ? s : NULL;
}

char *sw_cj_dup(json_t *node, const char *path)
{
	return sw_courier_strdup(sw_cj_str(node, path));
}

bool sw_cj_int(json_t *node, const char *path, int64_t *ret_value)
{
	json_t *v = sw_cj_get(node, path);
	const char *s;
	int64_t n = 0;
	size_t i;

	if (json_is_integer(v)) {
		*ret_value = (int64_t)json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 18)
			return false;
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0)
		return false;
	*ret_value = n;
	return true;
}

json_t *sw_cj_array(json_t *node, const char *path)
{
	json_t *v = sw_cj_get(node, path);

	return json_is_array(v) ? v : NULL;
}

/* ---- strings and times ------------------------------------------------- */

char *sw_courier_strdup(const char *s)
{
	size_t len;

	if (s == NULL)
		return NULL;
	len = strnlen(s, SW_COURIER_STR_MAX + 1);
	if (len > SW_COURIER_STR_MAX) {
		len = SW_COURIER_STR_MAX;
		/* do not cut a UTF-8 sequence: back up over continuations */
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	return xstrndup(s, len);
}

bool sw_courier_contains(const char *haystack, const char *needle)
{
	return haystack != NULL && strcasestr(haystack, needle) != NULL;
}

bool sw_courier_time(const char *s, struct sw_time *ret_time)
{
	return s != NULL && sw_time_parse(s, ret_time, NULL, 0) == SW_OK;
}

bool sw_courier_date(const char *s, struct sw_date *ret_date)
{
	enum sw_time_kind kind;
	struct sw_time t;

	if (s == NULL)
		return false;
	if (sw_time_parse_any(s, &kind, ret_date, &t, NULL, 0) == SW_OK)
		return true;
	if (strlen(s) == 8 && sw_time_parse_parts(s, "000000", &t, NULL, 0) == SW_OK) {
		sw_time_date(&t, ret_date);
		return true;
	}
	return false;
}

/* ---- responses --------------------------------------------------------- */

/* Messages go to one-line logs: control bytes become '?'. */
static char *one_line(const char *s)
{
	char *m = sw_courier_strdup(s);

	for (char *p = m; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return m;
}

static void result_init(struct sw_courier_result *r, const char *number)
{
	memset(r, 0, sizeof(*r));
	r->tracking_number = sw_courier_strdup(number ? number : "");
	r->outcome = SW_COURIER_ERROR;
	r->errkind = SW_COURIER_ERR_BAD_RESPONSE;
	r->message = xstrdup("number not in the courier's answer");
	r->status = SW_SHIP_LAST;
}

void sw_courier_set_found(struct sw_courier_result *r, enum sw_ship_status status,
			  const char *raw_code, const char *raw_text)
{
	drop_found(r);
	free(r->message);
	r->message = NULL;
	r->outcome = SW_COURIER_FOUND;
	r->errkind = SW_COURIER_ERR_NONE;
	r->status = status;
	r->raw_code = sw_courier_strdup(raw_code);
	r->raw_text = sw_courier_strdup(raw_text);
}

void sw_courier_set_not_found(struct sw_courier_result *r, const char *message)
{
	drop_found(r);
	free(r->message);
	r->message = one_line(message);
	r->outcome = SW_COURIER_NOT_FOUND;
	r->errkind = SW_COURIER_ERR_NONE;
}

static void set_error_v(struct sw_courier_result *r, enum sw_courier_errkind kind, const char *fmt,
			va_list ap)
{
	char buf[SW_COURIER_STR_MAX + 1];

	drop_found(r);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	free(r->message);
	r->message = one_line(buf);
	r->outcome = SW_COURIER_ERROR;
	r->errkind = kind;
}

void sw_courier_set_error(struct sw_courier_result *r, enum sw_courier_errkind kind,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_v(r, kind, fmt, ap);
	va_end(ap);
}

void sw_courier_set_error_all(struct sw_courier_result *r, size_t n, enum sw_courier_errkind kind,
			      const char *fmt, ...)
{
	for (size_t i = 0; i < n; i++) {
		va_list ap;

		va_start(ap, fmt);
		set_error_v(&r[i], kind, fmt, ap);
		va_end(ap);
	}
}

char *sw_courier_body_message(json_t *root)
{
	static const char *const paths[] = {
	    "detail",	   "message",	       "title",
	    "error",	   "errors.0.message", "response.errors.0.message",
	    "meta.message"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *s = sw_cj_str(root, paths[i]);

		if (s != NULL)
			return sw_courier_strdup(s);
	}
	return NULL;
}

static bool ctype_is_json(const char *ct)
{
	size_t len;

	if (ct == NULL)
		return true; /* no header: let the parser judge the body */
	while (*ct == ' ')
		ct++;
	len = strcspn(ct, "; ");
	if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	/* application/problem+json and other structured +json types */
	return len > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	       strncasecmp(ct + len - 5, "+json", 5) == 0;
}

/* Parses the body as one JSON value; NULL with a reason in err. */
static json_t *load_body(const struct sw_courier_response *resp, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	if (resp->len > SW_COURIER_MAX_BODY) {
		snprintf(err, errlen, "body of %zu bytes exceeds %u", resp->len,
			 SW_COURIER_MAX_BODY);
		return NULL;
	}
	if (!ctype_is_json(resp->content_type)) {
		snprintf(err, errlen, "content type is not JSON");
		return NULL;
	}
	if (resp->len == 0 || resp->body == NULL) {
		snprintf(err, errlen, "empty body");
		return NULL;
	}
	root = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		snprintf(err, errlen, "bad JSON at byte %d: %.80s", jerr.position, jerr.text);
	return root;
}

/* The error kind of a status that always means "no answer about these
 * numbers", or SW_COURIER_ERR_NONE. */
static enum sw_courier_errkind status_kind(long status)
{
	if (status == 429)
		return SW_COURIER_ERR_RATE_LIMITED;
	if (status == 401 || status == 403)
		return SW_COURIER_ERR_UNAUTHORIZED;
	if (status >= 500 && status <= 599)
		return SW_COURIER_ERR_SERVER;
	return SW_COURIER_ERR_NONE;
}

json_t *sw_courier_open(const struct sw_courier_response *resp, const char *const *numbers,
			size_t n, struct sw_courier_result *results, bool accept_404)
{
	enum sw_courier_errkind kind;
	char err[160] = "";
	json_t *root;
	char *msg;
	long st = resp->http_status;

	for (size_t i = 0; i < n; i++)
		result_init(&results[i], numbers[i]);
	if (st < 100 || st > 599) {
		sw_courier_set_error_all(results, n, SW_COURIER_ERR_OTHER, "no HTTP status (%ld)",
					 st);
		return NULL;
	}
	root = load_body(resp, err, sizeof(err));
	if ((st >= 200 && st <= 299) || (st == 404 && accept_404)) {
		if (root != NULL)
			return root;
		sw_courier_set_error_all(
		    results, n, st == 404 ? SW_COURIER_ERR_OTHER : SW_COURIER_ERR_BAD_RESPONSE,
		    "HTTP %ld: %s", st, err);
		return NULL;
	}
	kind = status_kind(st);
	msg = sw_courier_body_message(root);
	sw_courier_set_error_all(results, n, kind ? kind : SW_COURIER_ERR_OTHER, "HTTP %ld%s%s", st,
				 msg ? ": " : "", msg ? msg : "");
	if (st == 400 || st == 422)
		sw_courier_set_refused(resp, numbers, n, results);
	free(msg);
	json_decref(root);
	return NULL;
}

/* true if body[0..len) names number as a whole word (not inside a longer
 * run of letters and digits). */
static bool body_names(const char *body, size_t len, const char *number)
{
	size_t nl = strlen(number);

	for (size_t i = 0; nl > 0 && i + nl <= len; i++) {
		if (memcmp(body + i, number, nl) != 0)
			continue;
		if ((i == 0 || !isalnum((unsigned char)body[i - 1])) &&
		    (i + nl == len || !isalnum((unsigned char)body[i + nl])))
			return true;
	}
	return false;
}

void sw_courier_set_refused(const struct sw_courier_response *resp, const char *const *numbers,
			    size_t n, struct sw_courier_result *results)
{
	const char *body = resp->body ? resp->body : "";
	size_t len = resp->body ? resp->len : 0;
	bool named[SW_COURIER_BATCH_MAX] = {false};
	char *msg;

	for (size_t i = 0; i < n && i < SW_COURIER_BATCH_MAX; i++)
		named[i] = n == 1 || body_names(body, len, numbers[i]);
	for (size_t i = 0; i < n && i < SW_COURIER_BATCH_MAX; i++) {
		msg = results[i].message;
		results[i].message = NULL;
		if (named[i])
			sw_courier_set_error(&results[i], SW_COURIER_ERR_REJECTED, "%s",
					     msg ? msg : "refused");
		else
			sw_courier_set_error(&results[i], SW_COURIER_ERR_BATCH,
					     "batch refused for another number%s%s",
					     msg ? ": " : "", msg ? msg : "");
		free(msg);
	}
}

bool sw_courier_events_fit(struct sw_courier_result *r, json_t *arr, const char *what)
{
	if (arr == NULL || json_is_null(arr))
		return true;
	if (!json_is_array(arr)) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE, "%s is not an array", what);
		return false;
	}
	if (json_array_size(arr) > SW_COURIER_MAX_EVENTS) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE,
				     "%zu %s exceed the limit of %d", json_array_size(arr), what,
				     SW_COURIER_MAX_EVENTS);
		return false;
	}
	return true;
}

struct sw_courier_event *sw_courier_event_add(struct sw_courier_result *r)
{
	struct sw_courier_event *e;

	r->events = xreallocarray(r->events, r->n_events + 1, sizeof(*r->events));
	e = &r->events[r->n_events++];
	memset(e, 0, sizeof(*e));
	e->status = SW_SHIP_UNKNOWN;
	return e;
}

struct sort_key {
	int64_t sec;
	int32_t nsec;
	size_t idx; /* array position: ties keep the carrier's order */
};

static int key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void sw_courier_finish(struct sw_courier_result *r)
{
	size_t n = r->n_events;
	struct sort_key *keys;
	struct sw_courier_event *sorted;

	if (n > 1) {
		keys = xcalloc(n, sizeof(*keys));
		for (size_t i = 0; i < n; i++) {
			keys[i].sec = r->events[i].has_time ? r->events[i].at.utc_sec : INT64_MIN;
			keys[i].nsec = r->events[i].has_time ? r->events[i].at.nsec : 0;
			keys[i].idx = i;
		}
		qsort(keys, n, sizeof(*keys), key_cmp);
		sorted = xcalloc(n, sizeof(*sorted));
		for (size_t i = 0; i < n; i++)
			sorted[i] = r->events[keys[i].idx];
		free(r->events);
		free(keys);
		r->events = sorted;
	}
	r->has_latest = false;
	for (size_t i = 0; i < n; i++) {
		const struct sw_courier_event *e = &r->events[i];

		if (e->has_time && (e->at.flags & SW_TIME_HAS_OFFSET) &&
		    (!r->has_latest || sw_time_cmp(&e->at, &r->latest) > 0)) {
			r->latest = e->at;
			r->has_latest = true;
		}
	}
}

long sw_courier_find_number(const char *const *numbers, size_t n, const char *number)
{
	if (number == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(numbers[i], number) == 0)
			return (long)i;
	return -1;
}

enum sw_err sw_courier_parse_token(const struct sw_courier_response *resp, const char *token_field,
				   int64_t default_life, struct sw_courier_token *ret_tok,
				   char *errbuf, size_t errlen)
{
	char err[160] = "", dummy[1];
	const char *tok;
	int64_t life = default_life;
	long st = resp ? resp->http_status : 0;
	json_t *root;

	if (errbuf == NULL || errlen == 0) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';
	if (resp == NULL || ret_tok == NULL)
		return SW_EINVAL;
	memset(ret_tok, 0, sizeof(*ret_tok));
	if (st == 400 || st == 401 || st == 403) {
		snprintf(errbuf, errlen, "token request refused: HTTP %ld", st);
		return SW_EAUTH;
	}
	if (st < 200 || st > 299) {
		snprintf(errbuf, errlen, "token request failed: HTTP %ld", st);
		return SW_EAGAIN;
	}
	root = load_body(resp, err, sizeof(err));
	if (root == NULL) {
		snprintf(errbuf, errlen, "token answer: %s", err);
		return SW_EPROTO;
	}
	tok = sw_cj_str(root, token_field);
	if (!sw_courier_cred_ok(tok) ||
	    (json_object_get(root, "expires_in") != NULL &&
	     !sw_cj_int(root, "expires_in", &life)) ||
	    life <= 0) {
		json_decref(root);
		snprintf(errbuf, errlen, "token answer lacks a usable %s or expires_in",
			 token_field);
		return SW_EPROTO;
	}
	ret_tok->token = xstrdup(tok);
	ret_tok->lifetime_s = life;
	json_decref(root);
	return SW_OK;
}

/* ---- requests ---------------------------------------------------------- */

enum sw_err sw_courier_check_numbers(const char *const *numbers, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return SW_ERANGE;
	if (numbers == NULL)
		return SW_EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t len = numbers[i] ? strnlen(numbers[i], NUMBER_MAX + 1) : 0;

		if (len == 0 || len > NUMBER_MAX)
			return SW_EINVAL;
	}
	return SW_OK;
}

bool sw_courier_cred_ok(const char *s)
{
	size_t len = s ? strnlen(s, SW_COURIER_TOKEN_MAX + 1) : 0;

	if (len == 0 || len > SW_COURIER_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

char *sw_courier_base(const struct sw_courier_conf *conf, const char *fallback)
{
	const char *b = conf->base_url ? conf->base_url : fallback;
	size_t len = strlen(b);

	while (len > 0 && b[len - 1] == '/')
		len--;
	return xstrndup(b, len);
}

void sw_courier_req_init(struct sw_courier_request *req, enum sw_courier_method method, char *url)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
	req->url = url;
}

void sw_courier_req_header(struct sw_courier_request *req, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (req->n_headers >= SW_COURIER_MAX_HEADERS)
		abort(); /* a programming error in an adapter */
	va_start(ap, fmt);
	req->headers[req->n_headers].name = xstrdup(name);
	req->headers[req->n_headers].value = xvasprintf(fmt, ap);
	va_end(ap);
	req->n_headers++;
}

void sw_courier_req_body(struct sw_courier_request *req, char *body)
{
	free(req->body);
	req->body = body;
	req->body_len = strlen(body);
}

char *sw_courier_basic_auth(const char *user, const char *pass)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *in = xasprintf("%s:%s", user, pass);
	size_t len = strlen(in), j = 0;
	char *out = xmalloc((len + 2) / 3 * 4 + 1);

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		out[j++] = b64[(v >> 18) & 63];
		out[j++] = b64[(v >> 12) & 63];
		out[j++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[j++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[j] = '\0';
	free(in);
	return out;
}

enum sw_err sw_courier_build_start(const struct sw_courier_conf *conf,
				   struct sw_courier_request *ret_req,
				   const char *const *numbers, size_t n, size_t max_batch)
{
	if (conf == NULL || ret_req == NULL)
		return SW_EINVAL;
	memset(ret_req, 0, sizeof(*ret_req));
	return sw_courier_check_numbers(numbers, n, max_batch);
}
