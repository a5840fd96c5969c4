/*
 * netaddr.c - loopback hosts and the transport of a URL (see netaddr.h).
 *
 * Addresses are recognised with inet_pton, which accepts only the full
 * dotted quad and the standard IPv6 forms: "127.1" or "0x7f.0.0.1" (which
 * a resolver might still map to loopback) are not loopback here, which
 * only ever refuses a URL, never lets one through.  The URL split follows
 * RFC 3986's authority rules (userinfo ends at the last '@' of the
 * authority; an IPv6 literal is bracketed) without decoding anything.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "lib/netaddr.h"

#define SCHEME_MAX 16 /* bytes of a scheme buffer, NUL included */

bool sw_host_is_loopback(const char *host)
{
	char h[64];
	size_t n = host ? strlen(host) : 0;
	struct in_addr a4;
	struct in6_addr a6;

	if (n == 0)
		return false;
	if (host[0] == '[') {
		if (n < 2 || host[n - 1] != ']' || n - 2 >= sizeof h)
			return false;
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* Length of the scheme at url ([A-Za-z][A-Za-z0-9+.-]*) if "://" follows
 * it, else 0. */
static size_t scheme_span(const char *url)
{
	size_t n = 0;

	if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
		return 0;
	while ((url[n] >= 'a' && url[n] <= 'z') || (url[n] >= 'A' && url[n] <= 'Z') ||
	       (url[n] >= '0' && url[n] <= '9') || url[n] == '+' || url[n] == '.' || url[n] == '-')
		n++;
	return strncmp(url + n, "://", 3) == 0 ? n : 0;
}

enum sw_err sw_url_host(const char *url, char *ret_scheme, size_t scheme_len, char *ret_host,
			size_t host_len)
{
	const char *auth, *host, *at, *end;
	size_t sn, alen, hlen, i;

	if (scheme_len)
		ret_scheme[0] = '\0';
	if (host_len)
		ret_host[0] = '\0';
	sn = url ? scheme_span(url) : 0;
	if (sn == 0)
		return SW_EINVAL;
	auth = url + sn + 3;
	alen = strcspn(auth, "/?#");
	host = auth;
	for (at = auth; at < auth + alen; at++) /* userinfo: up to the last '@' */
		if (*at == '@')
			host = at + 1;
	end = auth + alen;
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (!close)
			return SW_EINVAL;
		hlen = (size_t)(close - host) + 1;
	} else {
		hlen = strcspn(host, ":");
		if (host + hlen > end)
			hlen = (size_t)(end - host);
	}
	if (hlen == 0)
		return SW_EINVAL;
	if (sn >= scheme_len || sn >= SCHEME_MAX || hlen >= host_len)
		return SW_ETOOBIG;
	for (i = 0; i < sn; i++)
		ret_scheme[i] =
		    (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] - 'A' + 'a' : url[i]);
	ret_scheme[sn] = '\0';
	memcpy(ret_host, host, hlen);
	ret_host[hlen] = '\0';
	return SW_OK;
}

enum sw_url_transport sw_url_transport(const char *url)
{
	char scheme[SCHEME_MAX], host[SW_NETADDR_HOST_MAX];

	if (sw_url_host(url, scheme, sizeof scheme, host, sizeof host) != SW_OK)
		return SW_URL_BAD;
	if (strcmp(scheme, "https") == 0)
		return SW_URL_TLS;
	if (strcmp(scheme, "http") != 0)
		return SW_URL_BAD;
	return sw_host_is_loopback(host) ? SW_URL_LOOPBACK : SW_URL_PLAINTEXT;
}
