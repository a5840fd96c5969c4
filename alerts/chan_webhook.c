/*
 * chan_webhook.c - the customer webhook row of the channel table: each
 * notice is POSTed as signed JSON to the shop's own gateway (its SMS or
 * WhatsApp sender), which talks to the customer.
 *
 * [customer_webhook]
 *   url = https://gw.shop.example/slipwatch   required; https://, or http://
 *                              to a loopback host (127.0.0.0/8, ::1,
 *                              localhost), or http:// anywhere with
 *                              allow_plaintext = yes.  No user:password@,
 *                              no #fragment (a ?query is kept but never
 *                              shown in errors)
 *   allow_plaintext = no       yes: http:// to a host across the network
 *                              (customer data in clear text; the secret is
 *                              never sent, only the signature)
 *   secret_file = PATH         HMAC key (or secret_env = VAR); required, at
 *                              least 16 bytes, the file not readable by
 *                              every user
 *   tls_verify = yes           verify the gateway's certificate and name
 *   ca_file = PATH             CA bundle (default: system store)
 *   connect_timeout = 10s      TCP (+TLS) connect limit
 *   timeout = 30s              whole-request limit, connect included
 *   user_agent = slipwatch/V   User-Agent header
 *   max_response = 64k         response bytes read; more is not read
 *
 * Request: POST url, Content-Type: application/json, body (UTF-8, compact)
 *   {"id": KEY, "type": KIND, "created_at": "2026-11-24T09:15:00Z",
 *    "order": {"warehouse_id": W, "order_id": O},
 *    "customer": {"name": N, "email": E, "phone": P, "locale": L},
 *    "message": {"subject": S, "text": T},
 *    "facts": {...}}                     (facts only when the notice has them)
 * with null for what the notice lacks (customer.email is the recipient when
 * it holds an '@', customer.phone the notice's phone, else a recipient
 * without '@').  Headers: Idempotency-Key: KEY (the same on every retry),
 * X-Slipwatch-Timestamp: T (unix s, the notice's date), and
 * X-Slipwatch-Signature: sha256=HEX, HEX being the lowercase hex HMAC-SHA256
 * with the secret of the bytes "T.BODY".  A receiver recomputes it over
 * the raw body, compares in constant time, rejects stale T, and folds
 * repeats of one Idempotency-Key.
 *
 * Results:
 *   2xx                        SENT, detail "HTTP 200"
 *   408, 425                   TEMPFAIL
 *   429, 5xx                   TEMPFAIL, server fault (the round waits)
 *   401, 407                   TEMPFAIL, server fault: the signature or the
 *                              credentials were not accepted, which is the
 *                              setup's fault and would fail every notice;
 *                              calling it permanent would lose them all
 *   1xx, 3xx (not followed)    TEMPFAIL, server fault (fix url)
 *   other 4xx                  FAILED, detail "HTTP 400: <receiver's text>"
 *   no reply, timeout, TLS     TEMPFAIL, server fault
 * Retry-After (seconds or an HTTP-date) of a TEMPFAIL answer becomes the
 * retry hint.  A response body longer than max_response is not read past
 * that (the transfer is cut, the connection dropped): the status still
 * decides, and the detail says so.
 *
 * One libcurl easy handle per open channel, so the connection is kept
 * between notices; after a failed transfer the next one connects afresh.
 * Proxies from the environment are not used: a loopback url stays on this
 * machine.  The HTTP part (handle, bounded response, classification,
 * Retry-After) is separate from the payload part, so that the on-call
 * webhook, Slack and PagerDuty rows can share it when they come.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alerts/channel.h"
#include "lib/buf.h"
#include "lib/netaddr.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define SECTION	       "customer_webhook"
#define SECRET_MIN     16		   /* bytes of HMAC key */
#define BODY_MAX       (2 * 1024 * 1024)   /* a request body */
#define REASON_MAX     200		   /* receiver text kept in a detail */
#define QUOTE_MAX      60		   /* bad config text quoted */
#define UA_MAX	       200		   /* user_agent bytes */
#define RETRY_HDR_MAX  64		   /* a Retry-After value kept */
#define REPLACEMENT    "\xef\xbf\xbd"	   /* U+FFFD */

struct webhook_conf {
	char *url;			/* http:// or https:// */
	bool allow_plaintext;		/* http:// beyond loopback */
	bool tls_verify;		/* peer and host name verification */
	char *ca_file;			/* NULL: system CA store */
	struct sw_conf_secret secret;	/* secret_file / secret_env */
	int64_t connect_timeout;	/* ms */
	int64_t timeout;		/* ms */
	char *user_agent;		/* User-Agent */
	int64_t max_response;		/* bytes */
};

#define C(f) offsetof(struct webhook_conf, f)
static const struct sw_conf_opt webhook_opts[] = {
    {.name = "url",
     .type = SW_CONF_STRING,
     .offset = C(url),
     .help = "the gateway: https://HOST[:PORT]/PATH (http:// to loopback)"},
    {.name = "allow_plaintext",
     .type = SW_CONF_BOOL,
     .offset = C(allow_plaintext),
     .def = "no",
     .help = "allow http:// to a host that is not loopback (data in clear text)"},
    {.name = "secret",
     .type = SW_CONF_SECRET,
     .offset = C(secret),
     .help = "HMAC-SHA256 signing key (secret_file or secret_env), >= 16 bytes"},
    {.name = "tls_verify",
     .type = SW_CONF_BOOL,
     .offset = C(tls_verify),
     .def = "yes",
     .help = "verify the gateway's certificate and host name"},
    {.name = "ca_file",
     .type = SW_CONF_PATH,
     .offset = C(ca_file),
     .help = "CA bundle (default: system store)"},
    {.name = "connect_timeout",
     .type = SW_CONF_DURATION,
     .offset = C(connect_timeout),
     .min = 100,
     .max = 600000,
     .def = "10s",
     .help = "connect (and TLS) time limit"},
    {.name = "timeout",
     .type = SW_CONF_DURATION,
     .offset = C(timeout),
     .min = 1000,
     .max = 600000,
     .def = "30s",
     .help = "time limit per notice, connect included"},
    {.name = "user_agent",
     .type = SW_CONF_STRING,
     .offset = C(user_agent),
     .def = "slipwatch/" PACKAGE_VERSION,
     .help = "User-Agent header"},
    {.name = "max_response",
     .type = SW_CONF_SIZE,
     .offset = C(max_response),
     .min = 1024,
     .max = 16 * 1024 * 1024,
     .def = "64k",
     .help = "response body bytes read at most"},
    {.name = NULL},
};
#undef C

/* ---- configuration ------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
put_text(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* "FILE:LINE: [customer_webhook] KEY: what: 'bad'" (bad cleaned and cut;
 * LINE the key's, else the section's); without "FILE:LINE: " when file is
 * NULL, without the quote when bad is. */
static enum sw_err conf_err(char *err, size_t len, const struct sw_conf *file, const char *key,
			    const char *what, const char *bad)
{
	char q[QUOTE_MAX + 8], where[4200] = "";

	if (bad)
		sw_channel_excerpt(bad, strlen(bad), QUOTE_MAX + 3, q, sizeof q);
	if (file)
		sw_conf_where(file, SECTION, NULL, key, where, sizeof where);
	put_text(err, len, "%s%s[" SECTION "] %s: %s%s%s%s", where, file ? ": " : "", key, what,
		 bad ? ": '" : "", bad ? q : "", bad ? "'" : "");
	return SW_ECONF;
}

/* What the url says that other checks need. */
struct url_info {
	bool https;
	bool loopback;
};

/* The url as errors may show it: nothing after '?' (it may hold a token),
 * nothing at all if it holds credentials.  Returns buf or a literal. */
static const char *url_shown(const char *url, char *buf, size_t len)
{
	if (strchr(url, '@'))
		return "(not shown: it may hold a password)";
	snprintf(buf, len, "%.*s", (int)strcspn(url, "?#"), url);
	return buf;
}

static enum sw_err check_url(const char *url, const struct sw_conf *file, struct url_info *ret_ui,
			     char *err, size_t len)
{
	static const CURLUPart forbidden[] = {CURLUPART_USER, CURLUPART_PASSWORD,
					      CURLUPART_OPTIONS, CURLUPART_FRAGMENT};
	char shown_buf[256], *host = NULL, *scheme = NULL, *part;
	const char *shown;
	enum sw_err rc = SW_OK;
	CURLU *u;
	size_t i;

	if (!url || !*url)
		return conf_err(err, len, file, "url", "required but not set", NULL);
	shown = url_shown(url, shown_buf, sizeof shown_buf);
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return conf_err(err, len, file, "url", "not an https:// (or http://) URL", shown);
	u = curl_url();
	if (!u)
		return conf_err(err, len, file, "url", "libcurl: out of memory", NULL);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		rc = conf_err(err, len, file, "url", "not a valid URL with a host", shown);
		goto out;
	}
	for (i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
		if (curl_url_get(u, forbidden[i], &part, 0) == CURLUE_OK) {
			curl_free(part);
			rc = conf_err(err, len, file, "url",
				      "no user, password or fragment here (the request is "
				      "signed with secret_file)",
				      NULL);
			goto out;
		}
	}
	ret_ui->https = strcasecmp(scheme, "https") == 0;
	ret_ui->loopback = sw_host_is_loopback(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static bool header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static enum sw_err webhook_check(const void *conf, const struct sw_conf *file, char *err,
				 size_t len)
{
	const struct webhook_conf *c = conf;
	struct url_info ui = {0};
	enum sw_err rc;
	char shown[256];

	if ((rc = check_url(c->url, file, &ui, err, len)))
		return rc;
	if (!ui.https && !ui.loopback && !c->allow_plaintext)
		return conf_err(err, len, file, "url",
				"https:// required for a host that is not loopback (customer "
				"data would cross the network in clear text; allow_plaintext = "
				"yes to accept that)",
				url_shown(c->url, shown, sizeof shown));
	if (!c->secret.value)
		return conf_err(err, len, file, "secret",
				"required but not set; use secret_file or secret_env", NULL);
	if (strlen(c->secret.value) < SECRET_MIN)
		return conf_err(err, len, file, "secret",
				"shorter than 16 bytes (use e.g. 32 random bytes, hex)", NULL);
	if (c->secret.world_readable)
		return conf_err(err, len, file, "secret_file",
				"readable by every user of this machine (chmod 600 it)", NULL);
	if (c->ca_file && !ui.https)
		return conf_err(err, len, file, "ca_file", "set but url is not https://",
				c->ca_file);
	if (c->user_agent && (strlen(c->user_agent) > UA_MAX || !header_safe(c->user_agent)))
		return conf_err(err, len, file, "user_agent",
				"not printable ASCII of at most 200 bytes", c->user_agent);
	if (c->connect_timeout > c->timeout)
		return conf_err(err, len, file, "connect_timeout",
				"longer than timeout (which includes the connect)", NULL);
	return SW_OK;
}

static void webhook_conf_free(void *conf)
{
	sw_conf_free_struct(webhook_opts, conf);
}

/* ---- HTTP: one POST with a bounded response ----------------------------- */

struct webhook {
	CURL *curl;
	char *secret;			    /* copy; wiped on close */
	size_t secret_len;
	struct sw_buf resp;		    /* response body, max_response */
	bool resp_over;			    /* the body did not fit */
	char retry_after[RETRY_HDR_MAX + 1]; /* of the final response */
	bool fresh_next;		    /* last transfer failed: new connection */
	bool server_fault;		    /* of the last send */
	char errbuf[CURL_ERROR_SIZE];	    /* CURLOPT_ERRORBUFFER */
};

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct webhook *w = arg;
	size_t n = size * nmemb, room = w->resp.max - w->resp.len;

	if (n <= room && sw_buf_add(&w->resp, data, n) == SW_OK)
		return n;
	sw_buf_add(&w->resp, data, room); /* keep the first bytes for the reason */
	w->resp_over = true;
	return 0; /* cut the transfer: CURLE_WRITE_ERROR */
}

/* Keeps the Retry-After value of the final response. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct webhook *w = arg;
	size_t n = size * nmemb, vl;
	const char *v;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		w->retry_after[0] = '\0'; /* a new response (after a 1xx) */
	} else if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		v = data + 12;
		vl = n - 12;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		snprintf(w->retry_after, sizeof w->retry_after, "%.*s",
			 (int)(vl < RETRY_HDR_MAX ? vl : RETRY_HDR_MAX), v);
	}
	return n;
}

/* Sets the handle's fixed options: everything but the request. */
static enum sw_err setup_curl(struct webhook *w, const struct webhook_conf *c, char *err,
			      size_t len)
{
	CURLcode rc;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if ((rc = curl_easy_setopt(w->curl, opt, val)) != CURLE_OK) {                      \
			put_text(err, len, "[" SECTION "] libcurl refused %s: %s", #opt,           \
				 curl_easy_strerror(rc));                                          \
			return SW_EIO;                                                             \
		}                                                                                  \
	} while (0)
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, ""); /* not from the environment: loopback stays here */
	SET(CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file)
		SET(CURLOPT_CAINFO, c->ca_file);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout);
	SET(CURLOPT_TIMEOUT_MS, (long)c->timeout);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, w->errbuf);
	if (c->user_agent && *c->user_agent)
		SET(CURLOPT_USERAGENT, c->user_agent);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, w);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, w);
#undef SET
	return SW_OK;
}

/* Replaces every occurrence of the secret in detail with "(secret)": a
 * receiver could echo it back. */
static void scrub(const struct webhook *w, char *detail, size_t len)
{
	char *p, *rest;
	size_t tail;

	while (w->secret_len && (p = strstr(detail, w->secret)) != NULL) {
		rest = xstrdup(p + w->secret_len);
		tail = (size_t)(p - detail);
		snprintf(p, len - tail, "(secret)%s", rest);
		free(rest);
	}
}

/* The result of a transfer that got a status line (see the top). */
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

/* Sends the request built in body with headers hdrs and classifies the
 * answer; the detail is written here. */
static enum sw_chan_result http_post(struct webhook *w, const char *body, size_t body_len,
				     struct curl_slist *hdrs, int64_t now,
				     int64_t *ret_retry_after_s, char *detail, size_t len)
{
	char reason[REASON_MAX + 8];
	enum sw_chan_result r;
	long status = 0;
	CURLcode rc;
	size_t o;

	sw_buf_reset(&w->resp);
	w->resp_over = false;
	w->retry_after[0] = '\0';
	w->errbuf[0] = '\0';
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(w->curl, CURLOPT_FRESH_CONNECT, w->fresh_next ? 1L : 0L);
	rc = curl_easy_perform(w->curl);
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, NULL);
	w->fresh_next = rc != CURLE_OK;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && w->resp_over && status > 0)) {
		w->server_fault = true;
		o = status ? (size_t)snprintf(detail, len, "HTTP %ld, then ", status) : 0;
		snprintf(detail + (o < len ? o : len), o < len ? len - o : 0,
			 "no complete HTTP reply: %s (curl: %s)", curl_easy_strerror(rc),
			 w->errbuf[0] ? w->errbuf : "-");
		return SW_CHAN_TEMPFAIL;
	}
	r = classify_status(status, &w->server_fault);
	o = (size_t)snprintf(detail, len, "HTTP %ld", status);
	if (r != SW_CHAN_SENT && w->resp.len &&
	    sw_channel_excerpt(w->resp.data, w->resp.len, REASON_MAX, reason, sizeof reason))
		o += (size_t)snprintf(detail + (o < len ? o : len), o < len ? len - o : 0, ": %s",
				      reason);
	if (r == SW_CHAN_TEMPFAIL &&
	    (*ret_retry_after_s = sw_channel_retry_after(w->retry_after, now)) > 0)
		o += (size_t)snprintf(detail + (o < len ? o : len), o < len ? len - o : 0,
				      " (retry after %" PRId64 " s)", *ret_retry_after_s);
	if (w->resp_over)
		snprintf(detail + (o < len ? o : len), o < len ? len - o : 0,
			 " (response body over %zu bytes, not read)", w->resp.max);
	if (status >= 300 && status <= 399)
		w->server_fault = true; /* redirects are not followed: fix url */
	return r;
}

/* ---- the payload -------------------------------------------------------- */

/* A JSON string of s (invalid UTF-8 replaced by U+FFFD), or null. */
static json_t *jtext(const char *s)
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

/* The request body (new string, see the top), or NULL with why set. */
static char *build_body(const struct sw_notice *n, char *why, size_t whylen)
{
	const char *email = strchr(n->recipient, '@') ? n->recipient : NULL;
	const char *phone = n->phone ? n->phone : email ? NULL : n->recipient;
	json_t *root = json_object(), *o, *facts = NULL;
	char created[32], *body = NULL;
	json_error_t jerr;

	if (sw_channel_rfc3339(n->created_at, created, sizeof created)) {
		put_text(why, whylen, "created_at out of range");
		goto out;
	}
	if (n->facts_json) {
		facts = json_loads(n->facts_json, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(facts)) {
			put_text(why, whylen, "facts_json is not a JSON object: %s",
				 facts ? "another JSON value" : jerr.text);
			goto out;
		}
	}
	json_object_set_new(root, "id", jtext(n->key));
	json_object_set_new(root, "type", jtext(n->kind));
	json_object_set_new(root, "created_at", json_string(created));
	o = json_object();
	json_object_set_new(o, "warehouse_id", jtext(n->warehouse_id));
	json_object_set_new(o, "order_id", jtext(n->order_id));
	json_object_set_new(root, "order", o);
	o = json_object();
	json_object_set_new(o, "name", jtext(n->recipient_name));
	json_object_set_new(o, "email", jtext(email));
	json_object_set_new(o, "phone", jtext(phone));
	json_object_set_new(o, "locale", jtext(n->locale));
	json_object_set_new(root, "customer", o);
	o = json_object();
	json_object_set_new(o, "subject", jtext(n->subject));
	json_object_set_new(o, "text", jtext(n->text));
	json_object_set_new(root, "message", o);
	if (facts)
		json_object_set(root, "facts", facts);
	body = json_dumps(root, JSON_COMPACT);
	if (!body)
		put_text(why, whylen, "cannot encode the notice as JSON");
out:
	json_decref(facts);
	json_decref(root);
	return body;
}

/* "sha256=" and the hex HMAC-SHA256 of "TS.BODY" into out (72 bytes). */
static bool sign(const struct webhook *w, const char *ts, const char *body, size_t body_len,
		 char *out, size_t outlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;
	size_t tl = strlen(ts);
	char *data = xmalloc(tl + 1 + body_len);
	bool ok;

	memcpy(data, ts, tl);
	data[tl] = '.';
	memcpy(data + tl + 1, body, body_len);
	ok = HMAC(EVP_sha256(), w->secret, (int)w->secret_len, (const unsigned char *)data,
		  tl + 1 + body_len, mac, &maclen) != NULL;
	free(data);
	if (!ok || outlen < 8 + 2 * (size_t)maclen)
		return false;
	memcpy(out, "sha256=", 7);
	for (i = 0; i < maclen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
	explicit_bzero(mac, sizeof mac);
	return true;
}

static struct curl_slist *hdr_add(struct curl_slist *list, const char *s)
{
	struct curl_slist *l = curl_slist_append(list, s);

	if (!l) {
		fputs("slipwatch: out of memory (curl_slist_append)\n", stderr);
		abort();
	}
	return l;
}

static enum sw_chan_result webhook_send(void *state, const struct sw_notice *n,
					int64_t *ret_retry_after_s, char *detail, size_t len)
{
	struct webhook *w = state;
	int64_t now = n->date > 0 ? n->date : (int64_t)time(NULL);
	char why[256], ts[24], sig[80], line[SW_CHAN_KEY_MAX + 40];
	struct curl_slist *h = NULL;
	enum sw_chan_result r;
	size_t body_len;
	char *body;

	w->server_fault = false;
	body = build_body(n, why, sizeof why);
	if (!body) {
		put_text(detail, len, "bad notice: %s", why);
		return SW_CHAN_FAILED;
	}
	body_len = strlen(body);
	snprintf(ts, sizeof ts, "%" PRId64, now);
	if (body_len > BODY_MAX) {
		put_text(detail, len, "bad notice: the JSON body is over %d bytes", BODY_MAX);
		free(body);
		return SW_CHAN_FAILED;
	}
	if (!sign(w, ts, body, body_len, sig, sizeof sig)) {
		put_text(detail, len, "cannot sign: libcrypto HMAC-SHA256 failed");
		free(body);
		return SW_CHAN_TEMPFAIL;
	}
	h = hdr_add(h, "Content-Type: application/json");
	h = hdr_add(h, "Expect:"); /* no 100-continue round trip */
	snprintf(line, sizeof line, "Idempotency-Key: %s", n->key);
	h = hdr_add(h, line);
	snprintf(line, sizeof line, "X-Slipwatch-Timestamp: %s", ts);
	h = hdr_add(h, line);
	snprintf(line, sizeof line, "X-Slipwatch-Signature: %s", sig);
	h = hdr_add(h, line);
	r = http_post(w, body, body_len, h, now, ret_retry_after_s, detail, len);
	scrub(w, detail, len);
	curl_slist_free_all(h);
	free(body);
	return r;
}

/* ---- life cycle --------------------------------------------------------- */

static void webhook_close(void *state)
{
	struct webhook *w = state;

	if (!w)
		return;
	if (w->curl)
		curl_easy_cleanup(w->curl);
	if (w->secret) {
		explicit_bzero(w->secret, w->secret_len);
		free(w->secret);
	}
	sw_buf_free(&w->resp);
	free(w);
}

static enum sw_err webhook_open(const void *conf, void **ret_state, char *err, size_t len)
{
	const struct webhook_conf *c = conf;
	struct webhook *w;
	enum sw_err rc;

	*ret_state = NULL;
	if ((rc = webhook_check(c, NULL, err, len)))
		return rc;
	w = xcalloc(1, sizeof *w);
	w->secret = xstrdup(c->secret.value);
	w->secret_len = strlen(w->secret);
	sw_buf_init(&w->resp, (size_t)c->max_response);
	w->curl = curl_easy_init();
	if (!w->curl) {
		put_text(err, len, "[" SECTION "] libcurl: curl_easy_init failed");
		rc = SW_EIO;
		goto fail;
	}
	if ((rc = setup_curl(w, c, err, len)))
		goto fail;
	*ret_state = w;
	return SW_OK;
fail:
	webhook_close(w);
	return rc;
}

static bool webhook_server_fault(void *state)
{
	const struct webhook *w = state;

	return w->server_fault;
}

const struct sw_channel_ops sw_chan_webhook = {
    .name = "webhook",
    .section = SECTION,
    .opts = webhook_opts,
    .conf_size = sizeof(struct webhook_conf),
    .check = webhook_check,
    .open = webhook_open,
    .close = webhook_close,
    .send = webhook_send,
    .server_fault = webhook_server_fault,
    .conf_free = webhook_conf_free,
};
