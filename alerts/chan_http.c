/*
 * chan_http.c - one JSON POST with a bounded response and one
 * classification of the answer, for the webhook, Slack and PagerDuty rows
 * (see chan_http.h).
 *
 * The handle's fixed options (url, TLS, time limits, callbacks) are set
 * once; each post sets the body and headers and clears them afterwards.
 * The response body goes into a buffer with an explicit maximum: past it
 * the transfer is cut (CURLE_WRITE_ERROR) and the status line already
 * read still decides.  The Retry-After of the final response is kept (a
 * 1xx before it is forgotten).
 *
 * Below the handle, the rows' common state (struct sw_http_chan): the
 * open from a setup, the close that wipes the key, the server fault, the
 * post with the JSON headers, and the whole send of a receiver-only row.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alerts/chan_http.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/netaddr.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define RETRY_HDR_MAX 64 /* a Retry-After value kept */
#define LABEL_MAX     80
#define REPLACEMENT   "\xef\xbf\xbd" /* U+FFFD */

struct sw_http {
	CURL *curl;
	char label[LABEL_MAX];
	char *secrets[SW_HTTP_SECRETS];	     /* copies; wiped on free */
	struct sw_buf resp;		     /* response body, max_response */
	bool resp_over;			     /* the body did not fit */
	char retry_after[RETRY_HDR_MAX + 1]; /* of the final response */
	bool fresh_next;		     /* last transfer failed: new connection */
	bool server_fault;		     /* of the last post */
	long status;			     /* of the last post */
	char errbuf[CURL_ERROR_SIZE];	     /* CURLOPT_ERRORBUFFER */
};

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sw_http *h = arg;
	size_t n = size * nmemb, room = h->resp.max - h->resp.len;

	if (n <= room && sw_buf_add(&h->resp, data, n) == SW_OK)
		return n;
	sw_buf_add(&h->resp, data, room); /* keep the first bytes for the reason */
	h->resp_over = true;
	return 0; /* cut the transfer: CURLE_WRITE_ERROR */
}

/* Keeps the Retry-After value of the final response. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sw_http *h = arg;
	size_t n = size * nmemb, vl;
	const char *v;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		h->retry_after[0] = '\0'; /* a new response (after a 1xx) */
	} else if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		v = data + 12;
		vl = n - 12;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		snprintf(h->retry_after, sizeof h->retry_after, "%.*s",
			 (int)(vl < RETRY_HDR_MAX ? vl : RETRY_HDR_MAX), v);
	}
	return n;
}

/* Sets the handle's fixed options: everything but the request. */
static enum sw_err setup_curl(struct sw_http *h, const struct sw_http_setup *s, char *err,
			      size_t len)
{
	CURLcode rc;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if ((rc = curl_easy_setopt(h->curl, opt, val)) != CURLE_OK) {                      \
			snprintf(err, len, "%s libcurl refused %s: %s", h->label, #opt,            \
				 curl_easy_strerror(rc));                                          \
			return SW_EIO;                                                             \
		}                                                                                  \
	} while (0)
	SET(CURLOPT_URL, s->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, ""); /* not from the environment: loopback stays here */
	SET(CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	if (s->ca_file)
		SET(CURLOPT_CAINFO, s->ca_file);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)s->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	if (s->user_agent && *s->user_agent)
		SET(CURLOPT_USERAGENT, s->user_agent);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, h);
#undef SET
	return SW_OK;
}

void sw_http_free(struct sw_http *h)
{
	size_t i;

	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	for (i = 0; i < SW_HTTP_SECRETS; i++)
		if (h->secrets[i]) {
			explicit_bzero(h->secrets[i], strlen(h->secrets[i]));
			free(h->secrets[i]);
		}
	sw_buf_free(&h->resp);
	free(h);
}

enum sw_err sw_http_new(const struct sw_http_setup *s, struct sw_http **ret, char *err, size_t len)
{
	struct sw_http *h = xcalloc(1, sizeof *h);
	enum sw_err rc;
	size_t i, o = 0;

	*ret = NULL;
	snprintf(h->label, sizeof h->label, "%s", s->label ? s->label : "http");
	for (i = 0; i < SW_HTTP_SECRETS; i++) /* longest first: see scrub() */
		if (s->secrets[i] && *s->secrets[i])
			h->secrets[o++] = xstrdup(s->secrets[i]);
	for (i = 1; i < o; i++)
		for (size_t j = i; j > 0 && strlen(h->secrets[j]) > strlen(h->secrets[j - 1]);
		     j--) {
			char *t = h->secrets[j];

			h->secrets[j] = h->secrets[j - 1];
			h->secrets[j - 1] = t;
		}
	sw_buf_init(&h->resp, s->max_response ? s->max_response : 65536);
	h->curl = curl_easy_init();
	if (!h->curl) {
		snprintf(err, len, "%s libcurl: curl_easy_init failed", h->label);
		rc = SW_EIO;
		goto fail;
	}
	if ((rc = setup_curl(h, s, err, len)))
		goto fail;
	*ret = h;
	return SW_OK;
fail:
	sw_http_free(h);
	return rc;
}

bool sw_http_server_fault(const struct sw_http *h)
{
	return h->server_fault;
}

long sw_http_status(const struct sw_http *h)
{
	return h->status;
}

struct curl_slist *sw_http_header(struct curl_slist *list, const char *fmt, ...)
{
	char line[1024];
	struct curl_slist *l;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	l = curl_slist_append(list, line);
	if (!l) {
		fputs("slipwatch: out of memory (curl_slist_append)\n", stderr);
		abort();
	}
	return l;
}

/* Replaces every occurrence of each secret in detail with "(secret)": a
 * receiver could echo one back, libcurl could name a url. */
static void scrub(const struct sw_http *h, char *detail, size_t len)
{
	size_t i, sl, tail;
	char *p, *rest;

	for (i = 0; i < SW_HTTP_SECRETS && h->secrets[i]; i++) {
		sl = strlen(h->secrets[i]);
		while ((p = strstr(detail, h->secrets[i])) != NULL) {
			rest = xstrdup(p + sl);
			tail = (size_t)(p - detail);
			snprintf(p, len - tail, "(secret)%s", rest);
			free(rest);
		}
	}
}

/* The result of a transfer that got a status line (see chan_http.h). */
static enum sw_chan_result classify_status(long status, bool *ret_fault)
{
	*ret_fault = false;
	if (status >= 200 && status <= 299)
		return SW_CHAN_SENT;
	if (status == 408 || status == 425)
		return SW_CHAN_TEMPFAIL;
	if (status >= 400 && status <= 499 && status != 401 && status != 407 && status != 429)
		return SW_CHAN_FAILED;
	*ret_fault = true; /* 1xx, 3xx, 401, 407, 429, 5xx, nonsense */
	return SW_CHAN_TEMPFAIL;
}

size_t sw_http_reason_text(long status, const char *body, size_t n, char *out, size_t outlen)
{
	if (status >= 200 && status <= 299)
		return 0;
	return sw_channel_excerpt(body, n, SW_HTTP_REASON_MAX, out, outlen);
}

/* Appends printf text to detail at *o (bounded). */
static void __attribute__((format(printf, 4, 5)))
add(char *detail, size_t len, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*o >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(detail + *o, len - *o, fmt, ap);
	va_end(ap);
	if (w > 0)
		*o += (size_t)w;
}

enum sw_chan_result sw_http_answer(const struct sw_http_answer *a, int64_t now,
				   sw_http_reason_fn reason, bool *ret_fault,
				   int64_t *ret_retry_after_s, char *detail, size_t len)
{
	char why[SW_HTTP_REASON_MAX + 8];
	enum sw_chan_result r = classify_status(a->status, ret_fault);
	size_t o = 0;

	*ret_retry_after_s = 0;
	add(detail, len, &o, "HTTP %ld", a->status);
	why[0] = '\0';
	if ((reason ? reason : sw_http_reason_text)(a->status, a->body ? a->body : "", a->n, why,
						    sizeof why) &&
	    why[0])
		add(detail, len, &o, "%s%s", r == SW_CHAN_SENT ? " " : ": ", why);
	if (r == SW_CHAN_TEMPFAIL && a->retry_after &&
	    (*ret_retry_after_s = sw_channel_retry_after(a->retry_after, now)) > 0)
		add(detail, len, &o, " (retry after %" PRId64 " s)", *ret_retry_after_s);
	if (a->over)
		add(detail, len, &o, " (response body over %zu bytes, not read)", a->max);
	return r;
}

/* The detail and retry hint of the answer h got (sw_http_answer). */
static enum sw_chan_result answered(struct sw_http *h, long status, int64_t now,
				    sw_http_reason_fn reason, int64_t *ret_retry_after_s,
				    char *detail, size_t len)
{
	const struct sw_http_answer a = {
	    .status = status,
	    .body = h->resp.data,
	    .n = h->resp.len,
	    .over = h->resp_over,
	    .max = h->resp.max,
	    .retry_after = h->retry_after,
	};

	return sw_http_answer(&a, now, reason, &h->server_fault, ret_retry_after_s, detail, len);
}

enum sw_chan_result sw_http_post(struct sw_http *h, const char *body, size_t body_len,
				 const struct curl_slist *hdrs, int64_t now,
				 sw_http_reason_fn reason, int64_t *ret_retry_after_s, char *detail,
				 size_t len)
{
	enum sw_chan_result r;
	long status = 0;
	CURLcode rc;
	size_t o = 0;

	*ret_retry_after_s = 0;
	sw_buf_reset(&h->resp);
	h->resp_over = false;
	h->retry_after[0] = '\0';
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h->curl, CURLOPT_FRESH_CONNECT, h->fresh_next ? 1L : 0L);
	rc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	h->fresh_next = rc != CURLE_OK;
	h->status = status;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && h->resp_over && status > 0)) {
		h->server_fault = true;
		if (status)
			add(detail, len, &o, "HTTP %ld, then ", status);
		add(detail, len, &o, "no complete HTTP reply: %s (curl: %s)",
		    curl_easy_strerror(rc), h->errbuf[0] ? h->errbuf : "-");
		r = SW_CHAN_TEMPFAIL;
	} else {
		r = answered(h, status, now, reason ? reason : sw_http_reason_text,
			     ret_retry_after_s, detail, len);
		if (status >= 300 && status <= 399)
			h->server_fault = true; /* redirects are not followed: fix url */
	}
	scrub(h, detail, len);
	return r;
}

/* ---- the state of an open HTTP row --------------------------------------- */

void sw_http_receiver_setup(struct sw_http_setup *hs, const char *label, const char *url,
			    int64_t timeout_ms)
{
	memset(hs, 0, sizeof *hs);
	hs->label = label;
	hs->url = url;
	hs->tls_verify = true;
	hs->connect_timeout_ms = timeout_ms < 10000 ? timeout_ms : 10000;
	hs->timeout_ms = timeout_ms;
	hs->user_agent = "slipwatch/" PACKAGE_VERSION;
	hs->max_response = 16 * 1024;
}

void sw_http_chan_close(void *state)
{
	struct sw_http_chan *c = state;

	if (!c)
		return;
	sw_http_free(c->http);
	if (c->key) {
		explicit_bzero(c->key, c->key_len);
		free(c->key);
	}
	free(c);
}

enum sw_err sw_http_chan_open(const struct sw_http_setup *hs, const char *key, void **ret_state,
			      char *err, size_t len)
{
	struct sw_http_chan *c = xcalloc(1, sizeof *c);
	enum sw_err rc;

	*ret_state = NULL;
	if (key) {
		c->key = xstrdup(key);
		c->key_len = strlen(key);
	}
	if ((rc = sw_http_new(hs, &c->http, err, len))) {
		sw_http_chan_close(c);
		return rc;
	}
	*ret_state = c;
	return SW_OK;
}

bool sw_http_chan_server_fault(void *state)
{
	const struct sw_http_chan *c = state;

	return sw_http_server_fault(c->http);
}

enum sw_chan_result sw_http_chan_post(struct sw_http_chan *c, char *body, const char *content_type,
				      struct curl_slist *extra, int64_t now,
				      sw_http_reason_fn reason, int64_t *ret_retry_after_s,
				      char *detail, size_t len)
{
	struct curl_slist *h = NULL, *tail;
	size_t blen = strlen(body);
	enum sw_chan_result r;

	h = sw_http_header(h, "Content-Type: %s", content_type);
	h = sw_http_header(h, "Expect:");
	for (tail = h; tail->next; tail = tail->next)
		;
	tail->next = extra;
	r = sw_http_post(c->http, body, blen, h, now, reason, ret_retry_after_s, detail, len);
	curl_slist_free_all(h);
	explicit_bzero(body, blen);
	free(body);
	return r;
}

enum sw_chan_result sw_http_chan_send_page(struct sw_http_chan *c, const char *row,
					   const struct sw_notice *n, sw_http_body_fn build,
					   const char *content_type, sw_http_reason_fn reason,
					   int64_t *ret_retry_after_s, char *detail, size_t len)
{
	int64_t now = n->date > 0 ? n->date : sw_clock_now();
	char why[256], *body;

	if (!n->page) {
		snprintf(detail, len, "bad notice: %s takes on-call pages only", row);
		return SW_CHAN_FAILED;
	}
	if (!(body = build(n, c->key, why, sizeof why))) {
		snprintf(detail, len, "bad notice: %s", why);
		return SW_CHAN_FAILED;
	}
	return sw_http_chan_post(c, body, content_type, NULL, now, reason, ret_retry_after_s,
				 detail, len);
}

/* ---- JSON helpers ------------------------------------------------------------ */

json_t *sw_http_jtext(const char *s)
{
	size_t n, i = 0, o = 0, cl;
	json_t *j;
	char *clean;

	if (!s)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	n = strlen(s);
	clean = xmalloc(3 * n + 1);
	while (i < n) {
		cl = sw_utf8_decode((const unsigned char *)s + i, n - i, NULL);
		if (cl == 0) {
			memcpy(clean + o, REPLACEMENT, 3);
			o += 3;
			i++;
		} else {
			memcpy(clean + o, s + i, cl);
			o += cl;
			i += cl;
		}
	}
	clean[o] = '\0';
	j = json_string(clean);
	free(clean);
	return j ? j : json_null();
}

json_t *sw_http_labels(const char *labels)
{
	json_t *o = json_object();
	char *copy, *item, *next, *eq;

	if (!labels || !*labels)
		return o;
	copy = xstrdup(labels);
	for (item = copy; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		if (!*item)
			continue;
		eq = strchr(item, '=');
		if (eq)
			*eq = '\0';
		json_object_set_new(o, item, sw_http_jtext(eq ? eq + 1 : ""));
	}
	free(copy);
	return o;
}

json_t *sw_http_object(const char *json_text, const char *what, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *j;

	if (!json_text)
		return json_object();
	j = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(j))
		return j;
	snprintf(why, whylen, "%s is not a JSON object: %s", what,
		 j ? "another JSON value" : jerr.text);
	json_decref(j);
	return NULL;
}

char *sw_http_cut(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	char *out;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* s[n] continues a character: cut before it starts */
	}
	out = xmalloc(n + 1);
	if (n)
		memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

char *sw_http_dump(const json_t *root, size_t max, char *why, size_t whylen)
{
	char *body = json_dumps(root, JSON_COMPACT);

	if (!body) {
		snprintf(why, whylen, "cannot encode the notice as JSON");
		return NULL;
	}
	if (strlen(body) > max) {
		snprintf(why, whylen, "the JSON body is over %zu bytes", max);
		free(body);
		return NULL;
	}
	return body;
}

/* ---- configuration helpers ------------------------------------------------ */

const char *sw_http_url_shown(const char *url, char *buf, size_t len)
{
	if (strchr(url, '@'))
		return "(not shown: it may hold a password)";
	snprintf(buf, len, "%.*s", (int)strcspn(url, "?#"), url);
	return buf;
}

bool sw_http_header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* url's scheme and host through libcurl's parser, and no credentials or
 * fragment; SW_OK or the error. */
static enum sw_err parse_url(const char *url, const char *shown, const struct sw_conf *file,
			     const char *kind, const char *name, const char *key,
			     struct sw_http_url_info *ret_info, char *err, size_t len)
{
	static const CURLUPart forbidden[] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS,
					      CURLUPART_FRAGMENT};
	char *host = NULL, *scheme = NULL, *part;
	enum sw_err rc = SW_OK;
	CURLU *u = curl_url();
	size_t i;

	if (!u)
		return sw_channel_conf_err(err, len, file, kind, name, key,
					   "libcurl: out of memory", NULL);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		rc = sw_channel_conf_err(err, len, file, kind, name, key,
					 "not a valid URL with a host", shown);
		goto out;
	}
	for (i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
		if (curl_url_get(u, forbidden[i], &part, 0) == CURLUE_OK) {
			curl_free(part);
			rc = sw_channel_conf_err(err, len, file, kind, name, key,
						 "no user, password or fragment here (the "
						 "request is authenticated otherwise)",
						 NULL);
			goto out;
		}
	}
	ret_info->https = strcasecmp(scheme, "https") == 0;
	ret_info->loopback = sw_host_is_loopback(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

enum sw_err sw_http_check_url(const char *url, bool secret, const struct sw_conf *file,
			      const char *kind, const char *name, const char *key,
			      struct sw_http_url_info *ret_info, char *err, size_t len)
{
	char shown_buf[256];
	const char *shown;

	memset(ret_info, 0, sizeof *ret_info);
	if (!url || !*url)
		return sw_channel_conf_err(err, len, file, kind, name, key, "required but not set",
					   NULL);
	shown = secret ? NULL : sw_http_url_shown(url, shown_buf, sizeof shown_buf);
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return sw_channel_conf_err(err, len, file, kind, name, key,
					   "not an https:// (or http://) URL", shown);
	return parse_url(url, shown, file, kind, name, key, ret_info, err, len);
}
