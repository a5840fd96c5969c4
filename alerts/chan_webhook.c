/*
 * chan_webhook.c - the webhook row of the channel table: each notice is
 * POSTed as signed JSON.  A customer notice goes to the shop's own gateway
 * (its SMS or WhatsApp sender, [customer_webhook]), which talks to the
 * customer; an on-call page (n->page set) goes to a [receiver NAME] with
 * channel = webhook (the same keys as [customer_webhook]), whatever the
 * on-call team runs behind it.
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
 * without '@').
 *
 * Page body (n->page set; doc/channels-oncall.md):
 *   {"id": KEY, "type": "page", "event": "trigger"|"acknowledge"|"resolve",
 *    "dedup_key": "slipwatch/RULE/SUBJECT/INCIDENT", "state": "firing",
 *    "severity": "critical", "rule": R, "source": "warehouse w1",
 *    "summary": SUBJECT, "details": TEXT, "labels": {"k": "v", ...},
 *    "figures": {...}, "stage": "line_haul"|null (the stage that ran
 *    over, as slips name it), "since": "2026-11-24T09:15:00Z",
 *    "acked_by": null|WHO, "repeat": false, "escalation": false,
 *    "receiver": NAME, "created_at": "2026-11-24T09:16:00Z"}
 * One incident's notifications share dedup_key; a receiver folds resends
 * by id (the Idempotency-Key).
 *
 * Both bodies carry the same headers: Idempotency-Key: KEY (the same on every retry),
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
 * The HTTP part (one libcurl easy handle per open channel, so the
 * connection is kept between notices; bounded response; classification;
 * Retry-After; no proxy from the environment) and the open channel's
 * state (struct sw_http_chan: the handle and a copy of the secret, its
 * close and server fault) are alerts/chan_http.c, shared with the Slack
 * and PagerDuty rows; this file is the options, the payload and its
 * signature.
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

#include "alerts/chan_http.h"
#include "alerts/channel.h"
#include "lib/clock.h"
#include "lib/xmalloc.h"

#define SECTION	   "customer_webhook"
#define SECRET_MIN 16		     /* bytes of HMAC key */
#define BODY_MAX   (2 * 1024 * 1024) /* a request body */
#define UA_MAX	   200		     /* user_agent bytes */

struct webhook_conf {
	char *url;		      /* http:// or https:// */
	bool allow_plaintext;	      /* http:// beyond loopback */
	bool tls_verify;	      /* peer and host name verification */
	char *ca_file;		      /* NULL: system CA store */
	struct sw_conf_secret secret; /* secret_file / secret_env */
	int64_t connect_timeout;      /* ms */
	int64_t timeout;	      /* ms */
	char *user_agent;	      /* User-Agent */
	int64_t max_response;	      /* bytes */
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

/* "[customer_webhook] key: what: 'bad'" for the section the conf came from. */
#define BAD(key, what, bad) sw_channel_conf_err(err, len, file, kind, name, key, what, bad)

static enum sw_err webhook_check(const void *conf, const struct sw_conf *file, const char *kind,
				 const char *name, char *err, size_t len)
{
	const struct webhook_conf *c = conf;
	struct sw_http_url_info ui;
	enum sw_err rc;
	char shown[256];

	if ((rc = sw_http_check_url(c->url, false, file, kind, name, "url", &ui, err, len)))
		return rc;
	if (!ui.https && !ui.loopback && !c->allow_plaintext)
		return BAD("url",
			   "https:// required for a host that is not loopback (the notice "
			   "would cross the network in clear text; allow_plaintext = yes to "
			   "accept that)",
			   sw_http_url_shown(c->url, shown, sizeof shown));
	if (!c->secret.value)
		return BAD("secret", "required but not set; use secret_file or secret_env", NULL);
	if (strlen(c->secret.value) < SECRET_MIN)
		return BAD("secret", "shorter than 16 bytes (use e.g. 32 random bytes, hex)", NULL);
	if (c->secret.world_readable)
		return BAD("secret_file", "readable by every user of this machine (chmod 600 it)",
			   NULL);
	if (c->ca_file && !ui.https)
		return BAD("ca_file", "set but url is not https://", c->ca_file);
	if (c->user_agent &&
	    (strlen(c->user_agent) > UA_MAX || !sw_http_header_safe(c->user_agent)))
		return BAD("user_agent", "not printable ASCII of at most 200 bytes", c->user_agent);
	if (c->connect_timeout > c->timeout)
		return BAD("connect_timeout", "longer than timeout (which includes the connect)",
			   NULL);
	return SW_OK;
}
#undef BAD

static void webhook_conf_free(void *conf)
{
	sw_conf_free_struct(webhook_opts, conf);
}

/* ---- the payload -------------------------------------------------------- */

/* The customer body (see the top) into root; false with why set. */
static bool customer_body(const struct sw_notice *n, json_t *root, char *why, size_t whylen)
{
	const char *email = strchr(n->recipient, '@') ? n->recipient : NULL;
	const char *phone = n->phone ? n->phone : email ? NULL : n->recipient;
	json_t *o, *facts = NULL;

	if (n->facts_json && !(facts = sw_http_object(n->facts_json, "facts_json", why, whylen)))
		return false;
	json_object_set_new(root, "type", sw_http_jtext(n->kind));
	o = json_object();
	json_object_set_new(o, "warehouse_id", sw_http_jtext(n->warehouse_id));
	json_object_set_new(o, "order_id", sw_http_jtext(n->order_id));
	json_object_set_new(root, "order", o);
	o = json_object();
	json_object_set_new(o, "name", sw_http_jtext(n->recipient_name));
	json_object_set_new(o, "email", sw_http_jtext(email));
	json_object_set_new(o, "phone", sw_http_jtext(phone));
	json_object_set_new(o, "locale", sw_http_jtext(n->locale));
	json_object_set_new(root, "customer", o);
	o = json_object();
	json_object_set_new(o, "subject", sw_http_jtext(n->subject));
	json_object_set_new(o, "text", sw_http_jtext(n->text));
	json_object_set_new(root, "message", o);
	if (facts)
		json_object_set_new(root, "facts", facts);
	return true;
}

/* The page body (see "Page body" at the top) into root; false with why. */
static bool page_body(const struct sw_notice *n, json_t *root, char *why, size_t whylen)
{
	const struct sw_page_notice *p = n->page;
	json_t *figures = sw_http_object(p->figures_json, "figures_json", why, whylen);
	char since[32];

	if (!figures)
		return false;
	if (sw_channel_rfc3339(p->since, since, sizeof since)) {
		json_decref(figures);
		snprintf(why, whylen, "page since out of range");
		return false;
	}
	json_object_set_new(root, "type", json_string("page"));
	json_object_set_new(root, "event", sw_http_jtext(p->event));
	json_object_set_new(root, "dedup_key", sw_http_jtext(p->dedup_key));
	json_object_set_new(root, "state", sw_http_jtext(p->state));
	json_object_set_new(root, "severity", sw_http_jtext(p->severity));
	json_object_set_new(root, "rule", sw_http_jtext(p->rule));
	json_object_set_new(root, "source", sw_http_jtext(p->source));
	json_object_set_new(root, "summary", sw_http_jtext(n->subject));
	json_object_set_new(root, "details", sw_http_jtext(n->text));
	json_object_set_new(root, "labels", sw_http_labels(p->labels));
	json_object_set_new(root, "figures", figures);
	json_object_set_new(root, "stage", sw_http_jtext(p->stage && *p->stage ? p->stage : NULL));
	json_object_set_new(root, "since", json_string(since));
	json_object_set_new(root, "acked_by", sw_http_jtext(p->acked_by));
	json_object_set_new(root, "repeat", json_boolean(p->repeat));
	json_object_set_new(root, "escalation", json_boolean(p->escalation));
	json_object_set_new(root, "receiver", sw_http_jtext(p->receiver));
	return true;
}

/* The request body (new string, see the top), or NULL with why set. */
static char *build_body(const struct sw_notice *n, char *why, size_t whylen)
{
	json_t *root = json_object();
	char created[32], *body = NULL;
	bool ok;

	if (sw_channel_rfc3339(n->created_at, created, sizeof created)) {
		snprintf(why, whylen, "created_at out of range");
		goto out;
	}
	json_object_set_new(root, "id", sw_http_jtext(n->key));
	ok = n->page ? page_body(n, root, why, whylen) : customer_body(n, root, why, whylen);
	if (!ok)
		goto out;
	json_object_set_new(root, "created_at", json_string(created));
	body = sw_http_dump(root, BODY_MAX, why, whylen);
out:
	json_decref(root);
	return body;
}

/* "sha256=" and the hex HMAC-SHA256 with the key of "TS.BODY" into out
 * (72 bytes). */
static bool sign(const struct sw_http_chan *w, const char *ts, const char *body, size_t body_len,
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
	ok = HMAC(EVP_sha256(), w->key, (int)w->key_len, (const unsigned char *)data,
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

static enum sw_chan_result webhook_send(void *state, const struct sw_notice *n,
					int64_t *ret_retry_after_s, char *detail, size_t len)
{
	struct sw_http_chan *w = state;
	int64_t now = n->date > 0 ? n->date : sw_clock_now();
	char why[256], ts[24], sig[80];
	struct curl_slist *h = NULL;
	char *body;

	body = build_body(n, why, sizeof why);
	if (!body) {
		snprintf(detail, len, "bad notice: %s", why);
		return SW_CHAN_FAILED;
	}
	snprintf(ts, sizeof ts, "%" PRId64, now);
	if (!sign(w, ts, body, strlen(body), sig, sizeof sig)) {
		snprintf(detail, len, "cannot sign: libcrypto HMAC-SHA256 failed");
		free(body);
		return SW_CHAN_TEMPFAIL;
	}
	h = sw_http_header(h, "Idempotency-Key: %s", n->key);
	h = sw_http_header(h, "X-Slipwatch-Timestamp: %s", ts);
	h = sw_http_header(h, "X-Slipwatch-Signature: %s", sig);
	return sw_http_chan_post(w, body, "application/json", h, now, NULL, ret_retry_after_s,
				 detail, len);
}

/* ---- life cycle --------------------------------------------------------- */

static enum sw_err webhook_open(const void *conf, void **ret_state, char *err, size_t len)
{
	const struct webhook_conf *c = conf;
	struct sw_http_setup hs = {0};
	enum sw_err rc;

	*ret_state = NULL;
	if ((rc = webhook_check(c, NULL, SECTION, NULL, err, len)))
		return rc;
	hs.label = "[" SECTION "]";
	hs.url = c->url;
	hs.tls_verify = c->tls_verify;
	hs.ca_file = c->ca_file;
	hs.connect_timeout_ms = c->connect_timeout;
	hs.timeout_ms = c->timeout;
	hs.user_agent = c->user_agent;
	hs.max_response = (size_t)c->max_response;
	hs.secrets[0] = c->secret.value;
	return sw_http_chan_open(&hs, c->secret.value, ret_state, err, len);
}

const struct sw_channel_ops sw_chan_webhook = {
    .name = "webhook",
    .section = SECTION,
    .opts = webhook_opts,
    .conf_size = sizeof(struct webhook_conf),
    .pages_only = false,
    .check = webhook_check,
    .open = webhook_open,
    .close = sw_http_chan_close,
    .send = webhook_send,
    .server_fault = sw_http_chan_server_fault,
    .conf_free = webhook_conf_free,
};
