/*
 * courier_http.h - one blocking lookup of a tracking number at a courier,
 * shared by the courier_api and canary probes (probe_courier_api.c,
 * probe_canary.c).
 *
 * The request is the collector's: the adapter of the [courier NAME]
 * section (collector/courier/, include/slipwatch/courier.h) builds the
 * token request and the tracking request, and parses both answers, exactly
 * as the poll engine (collector/poll.c) does; only the sending differs: a
 * libcurl easy handle, blocking, bounded by the probe's timeout, with the
 * section's CA bundle (ca_file) and peer verification always on, and the
 * leaf certificate's expiry read back (CURLOPT_CERTINFO) on https.
 *
 * Secrets: headers and bodies (keys, tokens) are never copied into a
 * message; the texts here name the courier, the HTTP status and libcurl's
 * reason, never a URL.
 *
 * Single thread (the probes daemon); blocks for the timeout at most per
 * request.
 */
#ifndef SW_PROBES_COURIER_HTTP_H
#define SW_PROBES_COURIER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/poll.h"
#include "slipwatch/courier.h"

#define SW_PROBE_WHY_MAX 200

/* What one lookup (token if needed, then the tracking request) came to. */
struct sw_probe_lookup {
	bool answered;		      /* the tracking request got an HTTP
					 answer that the adapter parsed into
					 res (FOUND, NOT_FOUND or ERROR) */
	char why[SW_PROBE_WHY_MAX];   /* !answered: what failed ("connection
					 refused", "authentication failed:
					 ..."), no URL, no secret */
	long http;		      /* HTTP status of the last answer; 0 */
	double seconds;		      /* libcurl's total time of the requests
					 sent (token and tracking) */
	bool has_days;		      /* https and the leaf certificate seen */
	double days_left;	      /* its "Expire date" minus now, days */
	struct sw_courier_result res; /* answered: the adapter's result */
};

/* A token kept from one lookup to the next within a run (the collector
 * too fetches one and keeps it while it lasts). */
struct sw_probe_token {
	char *token; /* NULL: none yet */
};

/* The adapter of section cf (the poll engine's rule: generic or the row of
 * sw_courier_table), or NULL. */
const struct sw_courier *sw_probe_courier_adapter(const struct sw_poll_courier_conf *cf);

/*
 * Looks number up at cf's courier: a token first when the adapter has a
 * token endpoint and tok holds none, then the tracking request, each
 * bounded by what is left of timeout_ms.  now (unix s) dates the
 * certificate's days left.  Fills *ret (clear with sw_probe_lookup_clear).
 * SW_OK whatever the courier did (see ret->answered; a token request the
 * adapter cannot build is such a failure: "cannot build the token
 * request"), or SW_EINVAL with err set when cf has no adapter or the
 * adapter refuses to build the tracking request (a bad number, no key).
 */
enum sw_err sw_probe_courier_lookup(const struct sw_poll_courier_conf *cf, const char *number,
				    int64_t timeout_ms, int64_t now, struct sw_probe_token *tok,
				    struct sw_probe_lookup *ret, char *err, size_t errlen);

/* Frees what a lookup holds. */
void sw_probe_lookup_clear(struct sw_probe_lookup *l);

/* Forgets the token (wiped). */
void sw_probe_token_clear(struct sw_probe_token *tok);

#endif /* SW_PROBES_COURIER_HTTP_H */
