/*
 * test_dash_serve.c - unit tests for slipwatch-dash --listen's pure parts:
 * the address ([dash] listen, sw_dash_listen_parse in dash_conf.c: numeric
 * forms, ports, what counts as loopback, listen_public), the paths the
 * server may open (sw_dash_serve_path_ok) and the Content-Type by
 * extension (sw_dash_serve_type).  What the server does with them is
 * tests/integration/520-dash-listen.sh, against curl.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dashboards/dash_conf.h"
#include "dashboards/dash_serve.h"
#include "tests/tap.h"

/* ok: 1 accepted loopback, 2 accepted only with public_ok, 0 refused
 * whatever; why: a part of the error text (refused). */
static const struct {
	const char *text;
	int ok;
	int family, port;
	const char *why;
} addrs[] = {
    {"127.0.0.1:8080", 1, AF_INET, 8080, ""},
    {"127.1.2.3:1", 1, AF_INET, 1, ""},
    {"127.0.0.1:65535", 1, AF_INET, 65535, ""},
    {"[::1]:8080", 1, AF_INET6, 8080, ""},
    {"[::ffff:127.0.0.1]:80", 1, AF_INET6, 80, ""},
    {"0.0.0.0:8080", 2, AF_INET, 8080, "not a loopback address"},
    {"192.0.2.7:80", 2, AF_INET, 80, "set [dash] listen_public = yes"},
    {"128.0.0.1:80", 2, AF_INET, 80, "not a loopback"},
    {"[::]:8080", 2, AF_INET6, 8080, "not a loopback"},
    {"[2001:db8::1]:443", 2, AF_INET6, 443, "not a loopback"},
    {"[::ffff:192.0.2.7]:80", 2, AF_INET6, 80, "not a loopback"},
    {"127.0.0.1", 0, 0, 0, "want IPV4:PORT or [IPV6]:PORT"},
    {"", 0, 0, 0, "want IPV4:PORT"},
    {":8080", 0, 0, 0, "not a numeric IPv4 address"},
    {"127.0.0.1:", 0, 0, 0, "the port: want 1..65535"},
    {"127.0.0.1:0", 0, 0, 0, "the port"},
    {"127.0.0.1:65536", 0, 0, 0, "the port"},
    {"127.0.0.1:-1", 0, 0, 0, "the port"},
    {"127.0.0.1:+80", 0, 0, 0, "the port"},
    {"127.0.0.1: 80", 0, 0, 0, "the port"},
    {"127.0.0.1:80 ", 0, 0, 0, "the port"},
    {"127.0.0.1:99999999999999999999", 0, 0, 0, "the port"},
    {"::1:8080", 0, 0, 0, "want IPV4:PORT"},
    {"[::1]8080", 0, 0, 0, "want IPV4:PORT"},
    {"[::1:8080", 0, 0, 0, "want IPV4:PORT"},
    {"[]:8080", 0, 0, 0, "not a numeric IPv6 address"},
    {"[127.0.0.1]:80", 0, 0, 0, "not a numeric IPv6 address"},
    {"[fe80::1%lo]:80", 0, 0, 0, "not a numeric IPv6 address"},
    {"localhost:8080", 0, 0, 0, "not a numeric IPv4 address"},
    {"127.0.0.01:80", 0, 0, 0, "not a numeric IPv4 address"},
    {"300.0.0.1:80", 0, 0, 0, "not a numeric IPv4 address"},
    {"[0000:0000:0000:0000:0000:0000:0000:0000:0000]:80000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000",
     0, 0, 0, "want IPV4:PORT"},
};

static int port_of(const struct sw_dash_listen *l)
{
	if (l->addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
}

static void addresses(void)
{
	struct sw_dash_listen l;
	char err[256], err2[256];

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		const char *t = addrs[i].text;
		enum sw_err rc;

		err[0] = '\0';
		rc = sw_dash_listen_parse(t, false, &l, err, sizeof(err));
		is_int(rc, addrs[i].ok == 1 ? SW_OK : SW_ECONF, "'%s' without listen_public", t);
		rc = sw_dash_listen_parse(t, true, &l, err2, sizeof(err2));
		is_int(rc, addrs[i].ok ? SW_OK : SW_ECONF, "'%s' with listen_public", t);
		if (addrs[i].ok) {
			is_int(l.addr.ss_family, addrs[i].family, "'%s': the family", t);
			is_int(port_of(&l), addrs[i].port, "'%s': the port", t);
			is_int(l.loopback, addrs[i].ok == 1, "'%s': loopback or not", t);
			is_int(l.len,
			       addrs[i].family == AF_INET ? sizeof(struct sockaddr_in)
							  : sizeof(struct sockaddr_in6),
			       "'%s': the length", t);
			ok(strcmp(l.text, t) == 0, "'%s': its text kept (%s)", t, l.text);
		}
		if (addrs[i].why[0])
			ok(strstr(err, addrs[i].why) != NULL, "'%s': says '%s' (%s)", t,
			   addrs[i].why, err);
	}
}

static const struct {
	const char *path;
	bool ok;
} paths[] = {
    {"/", true},
    {"/index.html", true},
    {"/img/warehouse-del-2.b/pick-4h.svg", true},
    {"/courier-DHL_x.html", true},
    {"/a..b", true}, /* dots inside a name are a name */
    {"", false},
    {"index.html", false},
    {"//", false},
    {"//index.html", false},
    {"/img/", false},
    {"/img//x.svg", false},
    {"/..", false},
    {"/../etc/passwd", false},
    {"/img/../index.html", false},
    {"/.", false},
    {"/./index.html", false},
    {"/.hidden", false},
    {"/img/.x/y.svg", false},
    {"/a b.html", false},
    {"/a%2e.html", false},
    {"/a\\b", false},
    {"/a:b", false},
    {"/caf\xc3\xa9.html", false},
    {"/a\tb", false},
};

static void path_rules(void)
{
	char big[1200];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		is_int(sw_dash_serve_path_ok(paths[i].path), paths[i].ok, "path '%s'",
		       paths[i].path);
	big[0] = '/';
	memset(big + 1, 'a', 255);
	big[256] = '\0';
	ok(sw_dash_serve_path_ok(big), "a segment of NAME_MAX bytes");
	big[256] = 'a';
	big[257] = '\0';
	ok(!sw_dash_serve_path_ok(big), "one more byte is too long");
	for (size_t i = 0; i < 1024; i += 2) {
		big[i] = '/';
		big[i + 1] = 'a';
	}
	big[1024] = '\0';
	ok(sw_dash_serve_path_ok(big), "a path of 1024 bytes");
	big[1024] = '/';
	big[1025] = 'a';
	big[1026] = '\0';
	ok(!sw_dash_serve_path_ok(big), "longer is refused");
}

static void types(void)
{
	static const char *const cases[][2] = {
	    {"/index.html", "text/html; charset=utf-8"},
	    {"/img/p/g-4h.svg", "image/svg+xml"},
	    {"/img/p/g-4h.png", "image/png"},
	    {"/style.css", "text/css; charset=utf-8"},
	    {"/app.js", "text/javascript; charset=utf-8"},
	    {"/report.csv", "text/csv; charset=utf-8"},
	    {"/report.json", "application/json"},
	    {"/README", "application/octet-stream"},
	    {"/x.HTML", "application/octet-stream"},
	    {"/x.html.gz", "application/octet-stream"},
	    {"/x.svgz", "application/octet-stream"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(sw_dash_serve_type(cases[i][0]), cases[i][1], "type of %s", cases[i][0]);
}

int main(void)
{
	addresses();
	path_rules();
	types();
	return tap_done();
}
