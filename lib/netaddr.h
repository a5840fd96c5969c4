/*
 * netaddr.h - is this host this machine, and does this URL cross the
 * network in clear text: the one answer every slipwatch part uses before
 * it sends a secret (courier API keys, the MQTT password, SMTP AUTH, the
 * customer webhook).
 *
 * Loopback is 127.0.0.0/8, ::1 and the name localhost (libcurl and the
 * resolver map it to loopback without asking DNS).  Everything else,
 * including names that merely resolve to loopback today, counts as across
 * the network.  The answers are conservative: text that is not plainly a
 * loopback host is not loopback.
 *
 * Pure functions on strings: no resolving, no I/O, any thread.
 */
#ifndef SW_NETADDR_H
#define SW_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

/* Longest host (name or address, IPv6 brackets included) sw_url_host()
 * returns; DNS names are at most 253 bytes. */
#define SW_NETADDR_HOST_MAX 256

/* True if host names this machine: an IPv4 address in 127.0.0.0/8, the
 * IPv6 address ::1 (bare or in brackets, "[::1]"), or "localhost" (also
 * "localhost.", any case).  NULL and "" are false. */
bool sw_host_is_loopback(const char *host);

/*
 * Splits an absolute URL "SCHEME://[USERINFO@]HOST[:PORT][/PATH][?Q][#F]"
 * into its scheme, lower-cased, and its host as written (an IPv6 literal
 * with its brackets).  Nothing is decoded.  SW_OK and both filled, or
 * SW_EINVAL when url is NULL, has no "SCHEME://" or no host, or
 * SW_ETOOBIG when a part does not fit its buffer (scheme at most 15
 * bytes).  The buffers are "" on error.
 */
enum sw_err sw_url_host(const char *url, char *ret_scheme, size_t scheme_len, char *ret_host,
			size_t host_len);

/* How a URL would carry a secret. */
enum sw_url_transport {
	SW_URL_TLS,	  /* https:// */
	SW_URL_LOOPBACK,  /* http:// to a loopback host */
	SW_URL_PLAINTEXT, /* http:// to any other host: readable on the way */
	SW_URL_BAD,	  /* not http:// or https://, or no host */
	SW_URL_TRANSPORT_LAST
};

/* The transport of url (see above).  Pure. */
enum sw_url_transport sw_url_transport(const char *url);

#endif /* SW_NETADDR_H */
