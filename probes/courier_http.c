/*
 * courier_http.c - one blocking lookup at a courier for the probes
 * (courier_http.h): the adapter builds and parses, a libcurl easy handle
 * sends.
 *
 * The transfer options are the poll engine's (collector/poll.c
 * xfer_setopt): http and https only, no redirects, peer and host
 * verification on, the section's ca_file, the answer capped at its
 * max_response; plus CURLOPT_CERTINFO on https for the leaf's expiry.  A
 * new handle per request, so each sample pays its own connection and TLS
 * handshake, as a customer's first request would.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector/courier/generic.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"
#include "probes/courier_http.h"

/* One HTTP exchange. */
struct xfer {
	CURLcode res;
	long http;
	char *ctype; /* copy of Content-Type, or NULL */
	struct sw_buf body;
	double seconds;
	bool has_days;
	double days_left;
	char errbuf[CURL_ERROR_SIZE];
};

const struct sw_courier *sw_probe_courier_adapter(const struct sw_poll_courier_conf *cf)
{
	return sw_poll_adapter(cf);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;

	return sw_buf_add(&x->body, data, len) == SW_OK ? len : 0;
}

/* The leaf certificate's days left at now, from CURLINFO_CERTINFO. */
static void cert_days(CURL *e, int64_t now, struct xfer *x)
{
	struct curl_certinfo *ci = NULL;
	const char *key = "Expire date:";

	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return;
	for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
		if (strncasecmp(l->data, key, strlen(key)) != 0)
			continue;
		time_t t = curl_getdate(l->data + strlen(key), NULL);
		if (t != (time_t)-1) {
			x->has_days = true;
			x->days_left = (double)((int64_t)t - now) / 86400.0;
		}
		return;
	}
}

static struct curl_slist *headers_of(const struct sw_courier_request *req)
{
	struct curl_slist *h = NULL;

	for (size_t i = 0; i < req->n_headers; i++) {
		char *line = xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);
		h = curl_slist_append(h, line);
		explicit_bzero(line, strlen(line)); /* may hold a key */
		free(line);
	}
	return curl_slist_append(h, "Expect:");
}

/* Sends req, blocking at most timeout_ms, into x (xfer_clear it). */
static void xfer_send(const struct sw_poll_courier_conf *cf, const struct sw_courier_request *req,
		      int64_t timeout_ms, int64_t now, struct xfer *x)
{
	CURL *e = curl_easy_init();
	struct curl_slist *hdrs = headers_of(req);
	curl_off_t us = 0;
	char *ct = NULL;

	memset(x, 0, sizeof(*x));
	sw_buf_init(&x->body, cf->max_response > 0 ? (size_t)cf->max_response : SW_COURIER_MAX_BODY);
	if (e == NULL || hdrs == NULL) {
		x->res = CURLE_OUT_OF_MEMORY;
		goto out;
	}
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	if (cf->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, cf->ca_file);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "slipwatch-probes/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	if (req->method == SW_COURIER_POST) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	x->res = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->http);
	if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		x->seconds = (double)us / 1e6;
	if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		x->ctype = xstrdup(ct);
	if (x->res == CURLE_OK)
		cert_days(e, now, x);
out:
	curl_slist_free_all(hdrs);
	if (e)
		curl_easy_cleanup(e);
}

static void xfer_clear(struct xfer *x)
{
	free(x->ctype);
	sw_buf_free(&x->body);
}

static void xfer_response(const struct xfer *x, struct sw_courier_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->http_status = x->http;
	resp->content_type = x->ctype;
	resp->body = x->body.data;
	resp->len = x->body.len;
}

/* libcurl's error text without anything from a '?' on (a query could
 * follow a URL some backends quote). */
static void curl_text(const struct xfer *x, char *buf, size_t len)
{
	snprintf(buf, len, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->res));
	buf[strcspn(buf, "?")] = '\0';
}

/* Why a transfer got no answer, one line. */
static void why_of(const struct xfer *x, int64_t timeout_ms, char *buf, size_t len)
{
	char text[CURL_ERROR_SIZE];

	curl_text(x, text, sizeof(text));
	switch (x->res) {
	case CURLE_COULDNT_CONNECT:
		snprintf(buf, len, "connection refused (%.120s)", text);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(buf, len, "timeout after %lld ms", (long long)timeout_ms);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(buf, len, "TLS certificate not trusted: %.120s", text);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(buf, len, "TLS handshake failed: %.120s", text);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(buf, len, "cannot resolve the host (%.120s)", text);
		break;
	case CURLE_WRITE_ERROR:
		snprintf(buf, len, "answer over max_response");
		break;
	default:
		snprintf(buf, len, "%.120s", text);
		break;
	}
}

static void account(struct sw_probe_lookup *ret, const struct xfer *x)
{
	ret->seconds += x->seconds;
	ret->http = x->http;
	if (x->has_days) {
		ret->has_days = true;
		ret->days_left = x->days_left;
	}
}

/* Fetches a token into tok; false with ret->why set when none came. */
static bool get_token(const struct sw_poll_courier_conf *cf, const struct sw_courier *ad,
		      const struct sw_courier_conf *cc, int64_t timeout_ms, int64_t now,
		      struct sw_probe_token *tok, struct sw_probe_lookup *ret)
{
	struct sw_courier_request req;
	struct sw_courier_response resp;
	struct sw_courier_token t = {0};
	struct xfer x;
	char err[SW_PROBE_WHY_MAX] = "";
	enum sw_err rc;

	if (ad->build_auth_request(cc, &req) != SW_OK) {
		sw_courier_request_free(&req);
		snprintf(ret->why, sizeof(ret->why), "cannot build the token request (credentials)");
		return false;
	}
	xfer_send(cf, &req, timeout_ms, now, &x);
	sw_courier_request_free(&req);
	account(ret, &x);
	if (x.res != CURLE_OK) {
		why_of(&x, timeout_ms, err, sizeof(err));
		snprintf(ret->why, sizeof(ret->why), "token endpoint: %.150s", err);
		xfer_clear(&x);
		return false;
	}
	xfer_response(&x, &resp);
	rc = sw_courier_parse_auth(ad, cc, &resp, &t, err, sizeof(err));
	if (rc != SW_OK)
		snprintf(ret->why, sizeof(ret->why), "authentication failed: HTTP %ld: %.120s", x.http,
			 err[0] ? err : sw_strerror(rc));
	else
		tok->token = xstrdup(t.token);
	sw_courier_token_clear(&t);
	xfer_clear(&x);
	return rc == SW_OK;
}

/* Sends the tracking request and parses its answer into ret. */
static void track(const struct sw_poll_courier_conf *cf, const struct sw_courier *ad,
		  const struct sw_courier_conf *cc, struct sw_courier_request *req,
		  const char *number, int64_t timeout_ms, int64_t now, struct sw_probe_lookup *ret)
{
	struct sw_courier_response resp;
	const char *nums[] = {number};
	struct xfer x;
	enum sw_err rc;

	xfer_send(cf, req, timeout_ms, now, &x);
	account(ret, &x);
	if (x.res != CURLE_OK) {
		why_of(&x, timeout_ms, ret->why, sizeof(ret->why));
		xfer_clear(&x);
		return;
	}
	xfer_response(&x, &resp);
	rc = sw_courier_parse(ad, cc, &resp, nums, 1, &ret->res);
	if (rc == SW_OK)
		ret->answered = true;
	else
		snprintf(ret->why, sizeof(ret->why), "the adapter cannot read the answer: %s",
			 sw_strerror(rc));
	xfer_clear(&x);
}

enum sw_err sw_probe_courier_lookup(const struct sw_poll_courier_conf *cf, const char *number,
				    int64_t timeout_ms, int64_t now, struct sw_probe_token *tok,
				    struct sw_probe_lookup *ret, char *err, size_t errlen)
{
	const struct sw_courier *ad = sw_probe_courier_adapter(cf);
	struct sw_courier_conf cc;
	struct sw_courier_request req;
	const char *nums[] = {number};
	enum sw_err rc;

	memset(ret, 0, sizeof(*ret));
	if (ad == NULL) {
		snprintf(err, errlen, "courier %s: no adapter", cf ? cf->name : "?");
		return SW_EINVAL;
	}
	sw_poll_courier_view(cf, &cc);
	if (sw_courier_needs_token(ad, &cc) && tok->token == NULL &&
	    !get_token(cf, ad, &cc, timeout_ms, now, tok, ret))
		return SW_OK;
	rc = ad->build_request(&cc, tok->token, NULL, nums, 1, &req);
	if (rc != SW_OK) {
		sw_courier_request_free(&req);
		snprintf(err, errlen, "courier %s: cannot build a request for '%s': %s", cf->name,
			 number, sw_strerror(rc));
		return SW_EINVAL;
	}
	track(cf, ad, &cc, &req, number, timeout_ms - (int64_t)(ret->seconds * 1000), now, ret);
	sw_courier_request_free(&req);
	if (ret->answered && ret->res.errkind == SW_COURIER_ERR_UNAUTHORIZED)
		sw_probe_token_clear(tok); /* fetched afresh next time, as poll.c does */
	return SW_OK;
}

void sw_probe_lookup_clear(struct sw_probe_lookup *l)
{
	if (l->answered)
		sw_courier_result_clear(&l->res);
	memset(l, 0, sizeof(*l));
}

void sw_probe_token_clear(struct sw_probe_token *tok)
{
	if (tok->token) {
		explicit_bzero(tok->token, strlen(tok->token));
		free(tok->token);
	}
	tok->token = NULL;
}
