/*
 * courier.h - the courier adapter contract: how to ask a courier's tracking
 * API about parcels and how to turn its answer into canonical results.
 *
 * An adapter is pure code with no network and no state: it builds HTTP
 * requests (struct sw_courier_request) that the poll engine sends with
 * libcurl, and parses the answers (struct sw_courier_response) into one
 * struct sw_courier_result per tracking number asked.  Each adapter is one
 * file in collector/courier/ exporting one const struct sw_courier; the
 * table sw_courier_table lists them in the order of SW_COURIER_LIST
 * (slipwatch/courier_info.h), the one list of couriers (style.md,
 * "Pluggable parts are const descriptor tables").  Adding a courier is
 * adding a file and a row there.  What each adapter relies on about its
 * courier's API (endpoints, auth, status codes, errors, limits) is written
 * down in doc/couriers.md.
 *
 * Rules every adapter follows (doc/couriers.md, "Rules for every adapter"):
 * - Bodies are untrusted: parsed with an explicit length, every field type
 *   checked, strings capped at SW_COURIER_STR_MAX bytes, event lists at
 *   SW_COURIER_MAX_EVENTS (more is an error: a truncated list could hide
 *   the newest event).
 * - "Not found" is decided per courier (FedEx, UPS answer HTTP 200).
 * - An error answer gives SW_COURIER_ERROR results and never a status: the
 *   poller must not change a parcel's stored status on error.
 * - Status comes from the shipment-level field first; events only refine.
 * - Events are sorted by parsed time, never by array order; ties keep the
 *   carrier's order.  A time without a zone is kept as a wall clock and
 *   flagged (SW_TIME_ZONE_UNKNOWN), never guessed, except where a courier
 *   is documented to use one zone (Shiprocket: IST, +05:30).
 * - An estimated delivery is a calendar date as written, never shifted
 *   through UTC.
 *
 * Everything here is pure and may be called from any thread; results and
 * requests own their memory and are freed with the functions below.
 */
#ifndef SW_COURIER_H
#define SW_COURIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/swtime.h"
#include "slipwatch/courier_info.h"
#include "slipwatch/status.h"

/* Limits applied to every response. */
#define SW_COURIER_MAX_BODY                                                                        \
	(4u * 1024 * 1024)	   /* larger body: bad_response;                                   \
				      size the HTTP buffer to it */
#define SW_COURIER_MAX_EVENTS 1000 /* more events: bad_response */
#define SW_COURIER_STR_MAX                                                                         \
	512			    /* longer strings are cut (at a UTF-8                          \
				       character boundary) */
#define SW_COURIER_TOKEN_MAX   8192 /* longer access token: SW_EPROTO */
#define SW_COURIER_MAX_HEADERS 8    /* headers in one request */
#define SW_COURIER_BATCH_MAX   50   /* largest max_batch of any adapter */

/* How an adapter authenticates. */
enum sw_courier_auth {
	SW_COURIER_AUTH_NONE,
	SW_COURIER_AUTH_API_KEY, /* static key in a header (DHL, AfterShip) */
	SW_COURIER_AUTH_OAUTH,	 /* OAuth client credentials -> bearer
				    token (FedEx form body, UPS Basic) */
	SW_COURIER_AUTH_LOGIN,	 /* user/password login -> bearer token
				    (Shiprocket) */
	SW_COURIER_AUTH_LAST
};

enum sw_courier_method { SW_COURIER_GET, SW_COURIER_POST, SW_COURIER_METHOD_LAST };

/* What a poll of one tracking number came to. */
enum sw_courier_outcome {
	SW_COURIER_FOUND,     /* status (and maybe events) known */
	SW_COURIER_NOT_FOUND, /* the courier does not know the number */
	SW_COURIER_ERROR,     /* no answer about this number: see errkind */
	SW_COURIER_OUTCOME_LAST
};

/* Why a result is SW_COURIER_ERROR. */
enum sw_courier_errkind {
	SW_COURIER_ERR_NONE,	     /* not an error */
	SW_COURIER_ERR_RATE_LIMITED, /* HTTP 429 or a rate-limit body: back off
					(Retry-After / X-RateLimit-Reset are
					headers, read by the poll engine) */
	SW_COURIER_ERR_UNAUTHORIZED, /* 401/403: renew the token or fix keys */
	SW_COURIER_ERR_SERVER,	     /* 5xx: retry later */
	SW_COURIER_ERR_BAD_RESPONSE, /* malformed or truncated JSON, wrong
					content type, empty or oversized body,
					unexpected shape, too many events */
	SW_COURIER_ERR_OTHER,	     /* anything else the courier said about
					the request as a whole */
	SW_COURIER_ERR_REJECTED,     /* the courier refused THIS number (invalid,
					unknown format, a per-number error in a
					batch answer, or the number a whole-batch
					rejection names): only this parcel backs
					off (doubling interval, given up after
					give_up_after); never a courier failure */
	SW_COURIER_ERR_BATCH,	     /* no word on this number because the
					request as a whole was refused for
					another number's sake (one REJECTED in
					the same answer) or for a bad number it
					does not name: the engine resends it
					without the rejected ones (bisecting when
					none is named); never a courier failure */
	SW_COURIER_ERR_LAST
};

struct sw_courier_generic; /* a compiled generic-adapter description; opaque
			     (collector/courier/generic.h) */

/* Per-courier settings from the configuration ([courier NAME] section).
 * Strings are only read during the calls that take this struct. */
struct sw_courier_conf {
	const char *base_url;	/* API base without trailing '/' (one is
				   tolerated); NULL: the descriptor's
				   default_base_url */
	const char *auth_url;	/* full token/login URL; NULL: derived from
				   base_url (see each adapter's file) */
	const char *api_key;	/* DHL/AfterShip key; FedEx/UPS client id */
	const char *api_secret; /* FedEx/UPS client secret */
	const char *username;	/* Shiprocket API user e-mail */
	const char *password;	/* Shiprocket API user password */
	const struct sw_courier_generic *generic; /* adapter generic: its
						     description; else NULL */
};

/* One request header; both strings owned by the request. */
struct sw_courier_header {
	char *name;
	char *value;
};

/* An HTTP request to send (built by an adapter, owned by the caller; free
 * with sw_courier_request_free).  Contains secrets: never log headers or
 * body. */
struct sw_courier_request {
	enum sw_courier_method method;
	char *url; /* absolute, tracking numbers already escaped */
	struct sw_courier_header headers[SW_COURIER_MAX_HEADERS];
	size_t n_headers;
	char *body;	 /* NULL for GET; NUL-terminated */
	size_t body_len; /* bytes of body without the NUL */
};

/* An HTTP answer as received (borrowed for the duration of a call). */
struct sw_courier_response {
	long http_status;	  /* 0 if none (transport error) */
	const char *content_type; /* Content-Type header value, or NULL */
	const char *body;	  /* may be NULL if len is 0; need not be
				     NUL-terminated */
	size_t len;
};

/* An access token from an auth answer (free with sw_courier_token_clear). */
struct sw_courier_token {
	char *token;	    /* the bearer token */
	int64_t lifetime_s; /* seconds it is valid from issue, > 0 */
};

/* One tracking event, as the courier reported it. */
struct sw_courier_event {
	bool has_time;		    /* false: no parseable time (sorted first) */
	struct sw_time at;	    /* SW_TIME_HAS_OFFSET: a true instant with
				       the offset written;
				       SW_TIME_ZONE_UNKNOWN: local wall clock
				       only (sorted by it as if UTC) */
	enum sw_ship_status status; /* event-level mapping; SW_SHIP_UNKNOWN
				       if the code says nothing */
	char *code;		    /* courier's event code, or NULL */
	char *text;		    /* description, or NULL */
	char *location;		    /* city/place, or NULL */
	char *raw_time;		    /* the time as written, or NULL */
};

/* What one courier answer says about one tracking number.  Fill with an
 * adapter's parse_response; clear with sw_courier_result_clear. */
struct sw_courier_result {
	char *tracking_number; /* as asked */
	enum sw_courier_outcome outcome;
	enum sw_courier_errkind errkind; /* SW_COURIER_ERR_NONE unless ERROR */
	char *message;			 /* courier's error/not-found text, or
					    the reason we rejected the body;
					    NULL if none.  For logs. */
	/* Set only when outcome is SW_COURIER_FOUND: */
	enum sw_ship_status status;	 /* SW_SHIP_LAST when not FOUND */
	char *raw_code;			 /* shipment-level code, or NULL */
	char *raw_text;			 /* shipment-level text, or NULL */
	struct sw_courier_event *events; /* sorted oldest first */
	size_t n_events;
	bool has_latest;
	struct sw_time latest; /* newest event that is an instant */
	bool has_eta;
	struct sw_date eta; /* estimated delivery, as written */
	bool has_delivered;
	struct sw_time delivered; /* delivery time (may be ZONE_UNKNOWN) */
	char *signer;		  /* who signed, or NULL */
};

/*
 * An adapter.  All function pointers are set unless noted; all are pure.
 */
struct sw_courier {
	const char *name; /* "adapter" word, logs, metrics */
	const struct sw_courier_info *info; /* its row of SW_COURIER_LIST
					       (display name, API line);
					       NULL for the generic adapter */
	size_t max_batch; /* most numbers per build_request */
	enum sw_courier_auth auth;
	const char *default_base_url; /* production API base */

	/*
	 * Builds the token request (NULL for AUTH_NONE / AUTH_API_KEY).
	 * SW_OK with *ret_req filled (caller frees), or SW_EAUTH if the
	 * credentials it needs are missing from conf, or SW_EINVAL for NULL
	 * arguments.  *ret_req is empty on error.
	 */
	enum sw_err (*build_auth_request)(const struct sw_courier_conf *conf,
					  struct sw_courier_request *ret_req);

	/*
	 * Reads the answer to build_auth_request (NULL when that is NULL).
	 * expires_in is accepted as an integer or a digit string (UPS); when
	 * absent the courier's documented lifetime is used.  Returns SW_OK
	 * (*ret_tok filled, caller clears), SW_EAUTH (400/401/403: credentials
	 * refused, do not retry soon), SW_EAGAIN (429, 5xx, no answer: retry
	 * later), SW_EPROTO (2xx but no usable token).  errbuf, if not NULL,
	 * gets a one-line reason on error (never the token).
	 */
	enum sw_err (*parse_auth_response)(const struct sw_courier_response *resp,
					   struct sw_courier_token *ret_tok, char *errbuf,
					   size_t errlen);

	/*
	 * Builds the tracking request for numbers[0..n-1].  token is the
	 * bearer token (required for AUTH_OAUTH / AUTH_LOGIN, ignored
	 * otherwise).  req_id is a caller-chosen unique request id (UPS
	 * transId, FedEx x-customer-transaction-id); NULL lets the adapter
	 * use the first tracking number.  Returns SW_OK with *ret_req filled
	 * (caller frees), SW_ERANGE if n is 0 or above max_batch (split the
	 * batch), SW_EINVAL for a NULL, empty or over-long (> 64 bytes)
	 * number, SW_EAUTH if the key or token is missing.
	 */
	enum sw_err (*build_request)(const struct sw_courier_conf *conf, const char *token,
				     const char *req_id, const char *const *numbers, size_t n,
				     struct sw_courier_request *ret_req);

	/*
	 * Parses the answer to build_request(numbers, n) into
	 * ret_results[0..n-1] (caller's array of n; every element is
	 * overwritten, so it needs no initialisation; clear each with
	 * sw_courier_result_clear afterwards).  Every result is filled, each
	 * with FOUND, NOT_FOUND or ERROR: a transport error (http_status 0),
	 * 429, 401/403, 5xx and unusable bodies give ERROR for all numbers.
	 * Returns SW_OK, or SW_EINVAL (NULL arguments, n 0 or above
	 * max_batch; results then untouched).
	 */
	enum sw_err (*parse_response)(const struct sw_courier_response *resp,
				      const char *const *numbers, size_t n,
				      struct sw_courier_result *ret_results);

	/*
	 * Optional (NULL for all but the generic adapter, whose answers are
	 * read as its configuration says): parse_response with the conf given
	 * to build_request.  When set, callers use it instead of
	 * parse_response (which then returns SW_EINVAL).  Return codes and
	 * results as parse_response; SW_EINVAL also for a conf it cannot use.
	 */
	enum sw_err (*parse_response_conf)(const struct sw_courier_conf *conf,
					   const struct sw_courier_response *resp,
					   const char *const *numbers, size_t n,
					   struct sw_courier_result *ret_results);

	/*
	 * Optional, for adapters whose authentication and batch size come
	 * from the configuration (the generic adapter); NULL for the built-in
	 * ones.  Callers go through sw_courier_auth_of, sw_courier_max_batch
	 * and sw_courier_parse_auth below, never the fields directly.
	 *   auth_of:  the authentication conf asks for (auth is then a
	 *             default only).  A token is fetched (build_auth_request,
	 *             parse_auth_response_conf) for AUTH_OAUTH and AUTH_LOGIN.
	 *   max_batch_of: most numbers per build_request for conf (1..
	 *             SW_COURIER_BATCH_MAX).
	 *   parse_auth_response_conf: parse_auth_response with the conf
	 *             given to build_auth_request (the token's field, its
	 *             lifetime's field).
	 */
	enum sw_courier_auth (*auth_of)(const struct sw_courier_conf *conf);
	size_t (*max_batch_of)(const struct sw_courier_conf *conf);
	enum sw_err (*parse_auth_response_conf)(const struct sw_courier_conf *conf,
						const struct sw_courier_response *resp,
						struct sw_courier_token *ret_tok, char *errbuf,
						size_t errlen);
};

/* The authentication adapter ad uses with conf (auth_of, else ad->auth). */
enum sw_courier_auth sw_courier_auth_of(const struct sw_courier *ad,
					const struct sw_courier_conf *conf);

/* true if ad with conf needs a bearer token fetched before tracking
 * requests (AUTH_OAUTH, AUTH_LOGIN with a build_auth_request). */
bool sw_courier_needs_token(const struct sw_courier *ad, const struct sw_courier_conf *conf);

/* Most numbers per request for ad with conf (max_batch_of, else
 * ad->max_batch; at least 1). */
size_t sw_courier_max_batch(const struct sw_courier *ad, const struct sw_courier_conf *conf);

/* ad's parse_auth_response_conf(conf, ...) when set, else
 * parse_auth_response(...); SW_EINVAL when ad has neither. */
enum sw_err sw_courier_parse_auth(const struct sw_courier *ad, const struct sw_courier_conf *conf,
				  const struct sw_courier_response *resp,
				  struct sw_courier_token *ret_tok, char *errbuf, size_t errlen);

/* ad's parse_response_conf(conf, ...) when set, else parse_response(...). */
enum sw_err sw_courier_parse(const struct sw_courier *ad, const struct sw_courier_conf *conf,
			     const struct sw_courier_response *resp, const char *const *numbers,
			     size_t n, struct sw_courier_result *ret_results);

/* The first line of a built-in adapter's descriptor: name and info from
 * the row id of SW_COURIER_LIST, as in
 *   const struct sw_courier sw_courier_dhl = { SW_COURIER_ROW(dhl), ... };
 * (a descriptor whose id has no row does not compile). */
#define SW_COURIER_ROW(id) .name = #id, .info = &sw_courier_info_##id

/* The built-in adapters, one per row of SW_COURIER_LIST in its order
 * (sw_courier_table[i]->info == sw_courier_info_table[i]), NULL-terminated.
 * The generic adapter is not in it (it needs its configuration). */
extern const struct sw_courier *const sw_courier_table[];

/* The built-in adapter named name, or NULL if none (or name is NULL). */
const struct sw_courier *sw_courier_find(const char *name);

/* The [courier NAME] keys an authentication kind needs, for help and
 * error texts: "api_key", "api_key and api_secret", "username and
 * password"; "nothing" for SW_COURIER_AUTH_NONE, "?" out of range.
 * Static strings. */
const char *sw_courier_auth_keys(enum sw_courier_auth a);

/* Frees what a request owns and empties it.  NULL is a no-op; safe on a
 * zeroed or already freed request. */
void sw_courier_request_free(struct sw_courier_request *req);

/* The value of header name (case-insensitive) in req, or NULL. */
const char *sw_courier_request_header(const struct sw_courier_request *req, const char *name);

/* Frees what a result owns and zeroes it.  NULL is a no-op. */
void sw_courier_result_clear(struct sw_courier_result *r);

/* Frees the token string and zeroes tok.  NULL is a no-op. */
void sw_courier_token_clear(struct sw_courier_token *tok);

/* Percent-encodes s for a URL path segment or query value (RFC 3986:
 * unreserved bytes kept, every other byte as %XX).  New string, caller
 * frees; never NULL (s NULL gives ""). */
char *sw_courier_url_escape(const char *s);

/* Names for logs and tests ("found", "rate_limited", "oauth"); "?" if out
 * of range.  Static strings. */
const char *sw_courier_outcome_name(enum sw_courier_outcome o);
const char *sw_courier_errkind_name(enum sw_courier_errkind k);
const char *sw_courier_auth_name(enum sw_courier_auth a);
const char *sw_courier_method_name(enum sw_courier_method m);

#endif /* SW_COURIER_H */
