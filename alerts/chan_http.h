/*
 * chan_http.h - the HTTP part the channel rows that POST JSON share (the
 * webhook, Slack and PagerDuty rows; channel.h): one libcurl easy handle
 * per open channel (the connection is kept between notices, a failed
 * transfer makes the next one connect afresh), TLS verification on
 * unless a row's own setting turns it off, a connect and a whole-request
 * time limit, no proxy from the environment (a loopback url stays on
 * this machine), no redirects followed, a response body read up to a
 * bound, and one classification of the answer:
 *
 *   2xx                        SENT
 *   408, 425                   TEMPFAIL
 *   429, 5xx                   TEMPFAIL, server fault (the round waits)
 *   401, 407                   TEMPFAIL, server fault (the setup's fault:
 *                              it would fail every notice)
 *   1xx, 3xx (not followed)    TEMPFAIL, server fault
 *   other 4xx                  FAILED
 *   no reply, timeout, TLS     TEMPFAIL, server fault
 *
 * The detail line is "HTTP 400: <reason>" with the reason the row's
 * reason function reads out of the body (default: the body itself as
 * one clean line, sw_channel_excerpt), " (retry after N s)" for a
 * TEMPFAIL with a Retry-After (sw_channel_retry_after), and a note when
 * the body was over the bound.  Every secret the row names (a signing
 * key, a routing key, a secret URL) is replaced by "(secret)" in it.
 *
 * The rows' state, close, server_fault and the post-and-free of a send
 * are here too (struct sw_http_chan): a row file is its options, checks,
 * payload and the open that sets the handle up from its conf.
 *
 * Single thread per handle (the daemon's loop); sw_http_post blocks at
 * most the timeout.  curl_global_init() must have been called.
 */
#ifndef SW_ALERTS_CHAN_HTTP_H
#define SW_ALERTS_CHAN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "alerts/channel.h"
#include "lib/conf.h"
#include "lib/error.h"

#define SW_HTTP_SECRETS	   3   /* secrets one handle scrubs from details */
#define SW_HTTP_REASON_MAX 200 /* receiver text kept in a detail */

/* What a row sets up a handle with; strings are copied. */
struct sw_http_setup {
	const char *label;		      /* errors: "[customer_webhook]" */
	const char *url;		      /* checked by sw_http_check_url */
	bool tls_verify;		      /* peer and host name (on by default) */
	const char *ca_file;		      /* NULL: the system store */
	int64_t connect_timeout_ms;	      /* TCP + TLS */
	int64_t timeout_ms;		      /* the whole request */
	const char *user_agent;		      /* NULL or "": libcurl sends none */
	size_t max_response;		      /* body bytes read at most */
	const char *secrets[SW_HTTP_SECRETS]; /* scrubbed from details; NULL
						 or "" for none */
};

struct sw_http; /* opaque */

/* A new handle: SW_OK with *ret, or SW_EIO with err ("LABEL libcurl
 * refused ...") and *ret NULL.  Connects nothing. */
enum sw_err sw_http_new(const struct sw_http_setup *s, struct sw_http **ret, char *err, size_t len);

/* Closes the connection and frees h (secret copies wiped).  NULL: no-op. */
void sw_http_free(struct sw_http *h);

/* What a body says, as one line into out (at most SW_HTTP_REASON_MAX
 * bytes), for a detail; returns the bytes written (0: nothing to add).
 * Called for every answer with a status, SENT included. */
typedef size_t (*sw_http_reason_fn)(long status, const char *body, size_t n, char *out,
				    size_t outlen);

/* The default reason: nothing for a 2xx, else the body as one clean line
 * (sw_channel_excerpt, SW_HTTP_REASON_MAX bytes). */
size_t sw_http_reason_text(long status, const char *body, size_t n, char *out, size_t outlen);

/*
 * POSTs body (body_len bytes) with the header lines hdrs (borrowed) and
 * classifies the answer (see the top).  reason NULL: sw_http_reason_text.
 * The detail is "HTTP 400: REASON" for an answer that is not SENT, "HTTP
 * 202 REASON" for one that is (when reason gives one), or "no complete
 * HTTP reply: ..." with libcurl's text.  now (unix s) dates a Retry-After
 * given as an HTTP-date; *ret_retry_after_s gets the hint of a TEMPFAIL
 * (0: none).
 */
enum sw_chan_result sw_http_post(struct sw_http *h, const char *body, size_t body_len,
				 const struct curl_slist *hdrs, int64_t now,
				 sw_http_reason_fn reason, int64_t *ret_retry_after_s, char *detail,
				 size_t len);

/* What a receiver answered with a status line (for sw_http_answer). */
struct sw_http_answer {
	long status;
	const char *body; /* the bytes read (NULL: none) */
	size_t n;
	bool over; /* the body was over max bytes, not read */
	size_t max;
	const char *retry_after; /* the Retry-After value (NULL or "": none) */
};

/*
 * What sw_http_post makes of an answer with a status, without a
 * transfer (tests and fuzz targets feed it any answer): the result and
 * the detail as described there, with reason (NULL: sw_http_reason_text)
 * and the Retry-After hint of a TEMPFAIL in *ret_retry_after_s (0:
 * none); *ret_fault is true for an answer that is the server's or the
 * path's fault.  The detail is not yet scrubbed of secrets (sw_http_post
 * does that).
 */
enum sw_chan_result sw_http_answer(const struct sw_http_answer *a, int64_t now,
				   sw_http_reason_fn reason, bool *ret_fault,
				   int64_t *ret_retry_after_s, char *detail, size_t len);

/* PagerDuty's reason (chan_pagerduty.c): "dedup_key D" for a 2xx, "M: E;
 * E" for an error with Events v2 JSON ({"message": M, "errors": [E]}),
 * else sw_http_reason_text. */
size_t sw_http_pagerduty_reason(long status, const char *body, size_t n, char *out, size_t outlen);

/* The last post was a TEMPFAIL that was the server's or the path's fault. */
bool sw_http_server_fault(const struct sw_http *h);

/* The status of the last answer (0: none). */
long sw_http_status(const struct sw_http *h);

/* Appends one header line ("Name: value", printf format) to list; out of
 * memory aborts.  Returns the list. */
struct curl_slist *sw_http_header(struct curl_slist *list, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the state of an open HTTP row ---------------------------------------- */

/*
 * What an open webhook, Slack or PagerDuty channel holds: the rows use
 * this struct as their state, sw_http_chan_close and
 * sw_http_chan_server_fault as their close and server_fault, and keep
 * only their payload (and what a key is for) to themselves.
 */
struct sw_http_chan {
	struct sw_http *http;
	char *key;	/* the row's own secret (the webhook's HMAC key,
			   PagerDuty's routing key), NULL for none; a copy,
			   wiped on close */
	size_t key_len; /* strlen(key) */
};

/* The setup every receiver-only row (Slack, PagerDuty) uses: TLS
 * verified against the system store, the connect limited to the smaller
 * of timeout_ms and 10 s, the whole request to timeout_ms, User-Agent
 * slipwatch/VERSION, a response read up to 16 KiB, no secrets (the row
 * adds its own).  label and url are borrowed. */
void sw_http_receiver_setup(struct sw_http_setup *hs, const char *label, const char *url,
			    int64_t timeout_ms);

/* A new row state (struct sw_http_chan) into *ret_state: a handle from
 * hs and a copy of key (NULL: none).  SW_OK, or sw_http_new's error with
 * err set and *ret_state NULL. */
enum sw_err sw_http_chan_open(const struct sw_http_setup *hs, const char *key, void **ret_state,
			      char *err, size_t len);

/* The rows' close (NULL: no-op; the key wiped) and server_fault. */
void sw_http_chan_close(void *state);
bool sw_http_chan_server_fault(void *state);

/*
 * POSTs body (a NUL-terminated JSON text: wiped, since it may hold the
 * key, and freed here) with the header lines "Content-Type:
 * content_type", "Expect:" (no 100-continue round trip), then those of
 * extra (NULL: none; freed here), as sw_http_post does.
 */
enum sw_chan_result sw_http_chan_post(struct sw_http_chan *c, char *body, const char *content_type,
				      struct curl_slist *extra, int64_t now,
				      sw_http_reason_fn reason, int64_t *ret_retry_after_s,
				      char *detail, size_t len);

/* A row's body for a notice, built with the row's key (c->key): a new
 * string, or NULL with why set. */
typedef char *(*sw_http_body_fn)(const struct sw_notice *n, const char *key, char *why,
				 size_t whylen);

/*
 * The send of a receiver-only row: a notice without a page is FAILED
 * ("bad notice: ROW takes on-call pages only"), one build cannot encode
 * FAILED ("bad notice: WHY"); else the body is posted (sw_http_chan_post,
 * no extra headers) at the notice's date (the clock when it has none).
 */
enum sw_chan_result sw_http_chan_send_page(struct sw_http_chan *c, const char *row,
					   const struct sw_notice *n, sw_http_body_fn build,
					   const char *content_type, sw_http_reason_fn reason,
					   int64_t *ret_retry_after_s, char *detail, size_t len);

/* ---- JSON helpers for the bodies ------------------------------------------ */

/* A JSON string of s (invalid UTF-8 replaced by U+FFFD), or null for
 * NULL.  New reference. */
json_t *sw_http_jtext(const char *s);

/* An object of "k=v,k=v" labels (NULL or "": {}); an item without '=' is
 * a key with the value "".  New reference. */
json_t *sw_http_labels(const char *labels);

/* figures_json parsed: a JSON object (NULL: {}), or NULL with why set
 * when it is not one.  New reference. */
json_t *sw_http_object(const char *json_text, const char *what, char *why, size_t whylen);

/* The first bytes of s, at most max, cut on a UTF-8 character boundary
 * (new string; NULL: ""). */
char *sw_http_cut(const char *s, size_t max);

/* The body as compact UTF-8 JSON (new string; jansson's malloc), or NULL
 * with why set when it cannot be encoded or is over max bytes. */
char *sw_http_dump(const json_t *root, size_t max, char *why, size_t whylen);

/* ---- configuration helpers ------------------------------------------------ */

/* What sw_http_check_url found. */
struct sw_http_url_info {
	bool https;    /* https:// */
	bool loopback; /* the host is this machine (lib/netaddr.h) */
};

/*
 * Checks url, the value of key in [kind] / [kind name] of file: http://
 * or https:// with a host, no user:password@, no #fragment.  secret:
 * the URL itself is a secret (a Slack incoming webhook): errors never
 * quote it; otherwise they quote it up to the '?' (a query may hold a
 * token).  Does not judge https against plaintext (rows say why in their
 * own words): *ret_info says which.  SW_OK, or SW_ECONF with err
 * "FILE:LINE: [kind name] key: what: 'bad'" (sw_channel_conf_err).
 */
enum sw_err sw_http_check_url(const char *url, bool secret, const struct sw_conf *file,
			      const char *kind, const char *name, const char *key,
			      struct sw_http_url_info *ret_info, char *err, size_t len);

/* The url as an error may show it: nothing after '?' or '#', nothing at
 * all if it holds '@'.  Returns buf or a literal. */
const char *sw_http_url_shown(const char *url, char *buf, size_t len);

/* True if s is printable ASCII (a header value). */
bool sw_http_header_safe(const char *s);

#endif /* SW_ALERTS_CHAN_HTTP_H */
