/*
 * dash_conf.c - [dash] and [rrd] for slipwatch-dash (see dash_conf.h).
 * Options are a table (lib/conf.h); what the table cannot say (the time
 * zone exists) is checked after it, naming the key's line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dashboards/dash_conf.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define D(f) offsetof(struct sw_dash_conf, f)

const struct sw_conf_opt sw_dash_conf_table[] = {
    {.name = "out",
     .type = SW_CONF_PATH,
     .offset = D(out),
     .def = LOCALSTATEDIR "/lib/slipwatch/dash",
     .help = "the site: a symlink to its current generation, swapped atomically"},
    {.name = "defs",
     .type = SW_CONF_PATH,
     .offset = D(defs),
     .def = DATADIR "/dashboards",
     .help = "directory of the dashboard definitions (NAME.dash)"},
    {.name = "title",
     .type = SW_CONF_STRING,
     .offset = D(title),
     .def = "slipwatch",
     .help = "the site's name on every page"},
    {.name = "timezone",
     .type = SW_CONF_STRING,
     .offset = D(timezone),
     .def = "",
     .help = "IANA time zone of the graphs' axes and the pages' times; empty = the system's"},
    {.name = "target",
     .type = SW_CONF_DOUBLE,
     .offset = D(target),
     .dmin = 0,
     .dmax = 100,
     .def = "95",
     .help = "on-time target in % (graphs draw it with hrule = target)"},
    {.name = "refresh",
     .type = SW_CONF_DURATION,
     .offset = D(refresh_ms),
     .min = 0,
     .max = 86400000,
     .def = "60s",
     .help = "pages reload themselves this often (whole seconds); 0 = never"},
    {.name = "at_risk_within",
     .type = SW_CONF_DURATION,
     .offset = D(at_risk_ms),
     .min = 0,
     .max = 30LL * 86400000,
     .def = "24h",
     .help = "a parcel not out for delivery whose promise falls due within this is at risk"},
    {.name = "width",
     .type = SW_CONF_INT,
     .offset = D(width),
     .min = 100,
     .max = 4000,
     .def = "500",
     .help = "width of a graph's canvas in pixels"},
    {.name = "height",
     .type = SW_CONF_INT,
     .offset = D(height),
     .min = 40,
     .max = 2000,
     .def = "140",
     .help = "height of a graph's canvas in pixels"},
    {.name = "listen",
     .type = SW_CONF_STRING,
     .offset = D(listen),
     .def = "",
     .help = "serve the site over HTTP on IPV4:PORT or [IPV6]:PORT; empty = do not serve"},
    {.name = "listen_public",
     .type = SW_CONF_BOOL,
     .offset = D(listen_public),
     .def = "no",
     .help = "allow listen to be a non-loopback address (other machines can read the site)"},
    {.name = NULL},
};

static const char *const dash_kinds[] = {"dash", "rrd", NULL};

static void state_free(void *p)
{
	struct sw_dash_state *s = p;

	if (s == NULL)
		return;
	sw_conf_free_struct(sw_dash_conf_table, &s->dash);
	sw_conf_free_struct(sw_rrd_conf_table, &s->rrd);
	free(s);
}

/* What the table cannot say: the zone exists, refresh is whole seconds. */
static enum sw_err check(struct sw_conf *file, const struct sw_dash_conf *c, char *errbuf,
			 size_t errlen)
{
	enum sw_err rc;

	if (c->refresh_ms % 1000) {
		snprintf(errbuf, errlen, "[dash] refresh: want whole seconds: '%lldms'",
			 (long long)c->refresh_ms);
		sw_conf_locate(file, errbuf, errlen);
		return SW_ECONF;
	}
	if (c->timezone[0] == '\0' || sw_conf_text_only(file))
		return SW_OK;
	rc = sw_tz_check(c->timezone);
	if (rc == SW_OK)
		return SW_OK;
	snprintf(errbuf, errlen, "[dash] timezone: %s: '%s'",
		 rc == SW_EINVAL      ? "not an IANA zone name"
		 : rc == SW_ENOTFOUND ? "no such zone"
				      : sw_strerror(rc),
		 c->timezone);
	sw_conf_locate(file, errbuf, errlen);
	return SW_ECONF;
}

/* The numeric host text[0..len) (IPv4 or IPv6 by family) into ret's
 * address and loopback: SW_OK or SW_ECONF. */
static enum sw_err listen_host(const char *text, size_t len, int family, struct sw_dash_listen *ret)
{
	char host[INET6_ADDRSTRLEN];
	struct sockaddr_in *in = (struct sockaddr_in *)&ret->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ret->addr;

	if (len == 0 || len >= sizeof(host))
		return SW_ECONF;
	memcpy(host, text, len);
	host[len] = '\0';
	if (family == AF_INET) {
		in->sin_family = AF_INET;
		ret->len = sizeof(*in);
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return SW_ECONF;
		ret->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		return SW_OK;
	}
	in6->sin6_family = AF_INET6;
	ret->len = sizeof(*in6);
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
		return SW_ECONF;
	ret->loopback =
	    IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
	return SW_OK;
}

enum sw_err sw_dash_listen_parse(const char *text, bool public_ok, struct sw_dash_listen *ret,
				 char *err, size_t errlen)
{
	const char *host = text, *port, *end;
	int family = AF_INET;
	char *stop;
	long p;

	memset(ret, 0, sizeof(*ret));
	if (text[0] == '[') {
		family = AF_INET6;
		host = text + 1;
		end = strchr(host, ']');
		port = end && end[1] == ':' ? end + 2 : NULL;
	} else {
		end = strrchr(text, ':');
		port = end && end == strchr(text, ':') ? end + 1 : NULL;
	}
	if (port == NULL || strlen(text) >= sizeof(ret->text)) {
		snprintf(err, errlen, "want IPV4:PORT or [IPV6]:PORT (127.0.0.1:8080, [::1]:8080)");
		return SW_ECONF;
	}
	p = *port >= '0' && *port <= '9' ? strtol(port, &stop, 10) : 0;
	if (p < 1 || p > 65535 || *stop) {
		snprintf(err, errlen, "the port: want 1..65535");
		return SW_ECONF;
	}
	if (listen_host(host, (size_t)(end - host), family, ret) != SW_OK) {
		snprintf(err, errlen, "not a numeric %s address",
			 family == AF_INET ? "IPv4" : "IPv6");
		return SW_ECONF;
	}
	if (family == AF_INET)
		((struct sockaddr_in *)&ret->addr)->sin_port = htons((uint16_t)p);
	else
		((struct sockaddr_in6 *)&ret->addr)->sin6_port = htons((uint16_t)p);
	if (!ret->loopback && !public_ok) {
		snprintf(err, errlen,
			 "not a loopback address: set [dash] listen_public = yes to serve other "
			 "machines");
		return SW_ECONF;
	}
	snprintf(ret->text, sizeof(ret->text), "%s", text);
	return SW_OK;
}

/* [dash] listen, when set, is an address we may listen on. */
static enum sw_err check_listen(struct sw_conf *file, const struct sw_dash_conf *c, char *errbuf,
				size_t errlen)
{
	struct sw_dash_listen l;
	char why[256];

	if (c->listen[0] == '\0' ||
	    sw_dash_listen_parse(c->listen, c->listen_public, &l, why, sizeof(why)) == SW_OK)
		return SW_OK;
	snprintf(errbuf, errlen, "[dash] listen: %s: '%s'", why, c->listen);
	sw_conf_locate(file, errbuf, errlen);
	return SW_ECONF;
}

static enum sw_err configure(struct sw_conf *file, void **ret_state, char *errbuf, size_t errlen)
{
	struct sw_dash_state *s = xcalloc(1, sizeof(*s));
	enum sw_err rc;

	rc = sw_conf_apply(file, "dash", NULL, sw_dash_conf_table, &s->dash, errbuf, errlen);
	if (rc == SW_OK)
		rc = check(file, &s->dash, errbuf, errlen);
	if (rc == SW_OK)
		rc = check_listen(file, &s->dash, errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_rrd_conf_load(file, &s->rrd, errbuf, errlen);
	if (rc) {
		state_free(s);
		return rc;
	}
	*ret_state = s;
	return SW_OK;
}

static void dump(const void *p, struct sw_buf *out)
{
	const struct sw_dash_state *s = p;

	sw_conf_dump("dash", NULL, sw_dash_conf_table, &s->dash, out);
	sw_conf_dump("rrd", NULL, sw_rrd_conf_table, &s->rrd, out);
}

const struct sw_daemon_part sw_dash_part = {
    .name = "dash",
    .kinds = dash_kinds,
    .configure = configure,
    .dump = dump,
    .free_state = state_free,
};

int sw_dash_listen_socket(const struct sw_dash_listen *a, char *err, size_t errlen)
{
	int one = 1, fd, e;

	fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->addr, a->len) == 0 && listen(fd, 64) == 0)
		return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "cannot listen on %s: %s", a->text, strerror(e));
	return -1;
}
