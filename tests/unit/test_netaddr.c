/*
 * test_netaddr.c - unit tests for lib/netaddr.c: loopback hosts, the
 * split of a URL into scheme and host, and a URL's transport.  Cases are
 * data: a text and what it must give.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lib/netaddr.h"
#include "tests/tap.h"

static void test_loopback(void)
{
	static const struct {
		const char *host;
		bool loopback;
	} cases[] = {
	    {"127.0.0.1", true},
	    {"127.9.8.7", true},
	    {"127.255.255.255", true},
	    {"[::1]", true},
	    {"::1", true},
	    {"0:0:0:0:0:0:0:1", true},
	    {"localhost", true},
	    {"LocalHost", true},
	    {"localhost.", true},
	    {"128.0.0.1", false},
	    {"126.255.255.255", false},
	    {"10.0.0.1", false},
	    {"[::2]", false},
	    {"::2", false},
	    {"localhost.example", false},
	    {"127.1", false},
	    {"0x7f.0.0.1", false},
	    {"[127.0.0.1]", false},
	    {"[::1", false},
	    {"::1]", false},
	    {"127.0.0.1.", false},
	    {"", false},
	    {"api.dhl.example", false},
	    {"[::ffff:127.0.0.1]", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(sw_host_is_loopback(cases[i].host) == cases[i].loopback, "'%s' is %sloopback",
		   cases[i].host, cases[i].loopback ? "" : "not ");
	ok(!sw_host_is_loopback(NULL), "NULL is not loopback");
}

static void test_url_host(void)
{
	static const struct {
		const char *url;
		enum sw_err rc;
		const char *scheme, *host;
	} cases[] = {
	    {"https://api-eu.dhl.com/track", SW_OK, "https", "api-eu.dhl.com"},
	    {"HTTP://Example.COM:8080/x?y#z", SW_OK, "http", "Example.COM"},
	    {"http://127.0.0.1:9/t/{tracking}", SW_OK, "http", "127.0.0.1"},
	    {"http://[::1]:8080/hook", SW_OK, "http", "[::1]"},
	    {"http://user:pw@127.0.0.1/x", SW_OK, "http", "127.0.0.1"},
	    {"http://127.0.0.1@evil.example/x", SW_OK, "http", "evil.example"},
	    {"http://a@b@host.example/", SW_OK, "http", "host.example"},
	    {"http://host.example?q=a@b", SW_OK, "http", "host.example"},
	    {"http://h/p:1", SW_OK, "http", "h"},
	    {"smtp://mail.example", SW_OK, "smtp", "mail.example"},
	    {"api.dhl.com/track", SW_EINVAL, "", ""},
	    {"http:/x", SW_EINVAL, "", ""},
	    {"http://", SW_EINVAL, "", ""},
	    {"http://:80/x", SW_EINVAL, "", ""},
	    {"http://user@/x", SW_EINVAL, "", ""},
	    {"http://[::1/x", SW_EINVAL, "", ""},
	    {"1http://x", SW_EINVAL, "", ""},
	    {"", SW_EINVAL, "", ""},
	    {"averyveryverylongscheme://x", SW_ETOOBIG, "", ""},
	};
	char scheme[16], host[SW_NETADDR_HOST_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sw_err rc =
		    sw_url_host(cases[i].url, scheme, sizeof(scheme), host, sizeof(host));

		ok(rc == cases[i].rc && strcmp(scheme, cases[i].scheme) == 0 &&
		       strcmp(host, cases[i].host) == 0,
		   "'%s': %d '%s' '%s'", cases[i].url, (int)rc, scheme, host);
	}
	is_int(sw_url_host(NULL, scheme, sizeof(scheme), host, sizeof(host)), SW_EINVAL,
	       "NULL url");
	is_int(sw_url_host("http://host.example/", scheme, sizeof(scheme), host, 5), SW_ETOOBIG,
	       "a host longer than its buffer");
	ok(host[0] == '\0', "...leaves the buffer empty");
}

static void test_transport(void)
{
	static const struct {
		const char *url;
		enum sw_url_transport t;
	} cases[] = {
	    {"https://api-eu.dhl.com/track", SW_URL_TLS},
	    {"HTTPS://x.example", SW_URL_TLS},
	    {"http://127.0.0.1:8080/dhl", SW_URL_LOOPBACK},
	    {"http://localhost/x", SW_URL_LOOPBACK},
	    {"http://[::1]:1/x", SW_URL_LOOPBACK},
	    {"http://api.dhl.example/track", SW_URL_PLAINTEXT},
	    {"http://127.0.0.1@evil.example/", SW_URL_PLAINTEXT},
	    {"http://localhost.evil.example/", SW_URL_PLAINTEXT},
	    {"ftp://x.example/", SW_URL_BAD},
	    {"x.example/track", SW_URL_BAD},
	    {NULL, SW_URL_BAD},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(sw_url_transport(cases[i].url), cases[i].t, "transport of '%s'",
		       cases[i].url ? cases[i].url : "(null)");
}

int main(void)
{
	test_loopback();
	test_url_host();
	test_transport();
	return tap_done();
}
