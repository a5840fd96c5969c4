/*
 * dash_conf.h - slipwatch-dash's share of slipwatch.conf: section [dash]
 * (where the site goes, its title, time zone, on-time target, how often
 * pages reload themselves, what counts as at risk, graph size) and [rrd]
 * (where the RRD files are, and rrdcached), as one part of the
 * configuration registry (lib/daemon.h, struct sw_daemon_part), so that
 * every program can judge [dash] the same way.
 */
#ifndef SW_DASH_CONF_H
#define SW_DASH_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/conf.h"
#include "lib/daemon.h"
#include "lib/rrd.h"

/* Filled from [dash] with sw_dash_conf_table. */
struct sw_dash_conf {
	char *out;	    /* the site: a symlink to its current generation */
	char *defs;	    /* directory of the NAME.dash definitions */
	char *title;	    /* the site's name on every page */
	char *timezone;	    /* IANA zone of graphs and times; "" = the system's */
	double target;	    /* on-time target, % (hrule = target) */
	int64_t refresh_ms; /* pages reload themselves this often; 0 = never */
	int64_t at_risk_ms; /* at risk: promise due within this, not out for delivery */
	int64_t width;	    /* graph canvas, pixels */
	int64_t height;
	char *listen;	    /* serve the site over HTTP here (dash_serve.h); "" = off */
	bool listen_public; /* listen may be a non-loopback address */
};

extern const struct sw_conf_opt sw_dash_conf_table[];

/* The part's state: [dash] and [rrd]. */
struct sw_dash_state {
	struct sw_dash_conf dash;
	struct sw_rrd_conf rrd;
};

/* [dash] and [rrd] of slipwatch-dash: configure fills a struct
 * sw_dash_state; the time zone is loaded unless checked as text only. */
extern const struct sw_daemon_part sw_dash_part;

/* An address to serve the site on ([dash] listen, --listen), numeric:
 * "IPV4:PORT" or "[IPV6]:PORT". */
#define SW_DASH_LISTEN_MAX 64 /* bytes of its text, with the NUL */
struct sw_dash_listen {
	struct sockaddr_storage addr;
	socklen_t len;
	bool loopback;		       /* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 */
	char text[SW_DASH_LISTEN_MAX]; /* as given, for messages */
};

/*
 * Parses text into *ret and judges it: a non-loopback address is refused
 * unless public_ok ([dash] listen_public).  SW_OK, or SW_ECONF with err
 * holding what is wrong ("not a loopback address: set [dash]
 * listen_public = yes to serve other machines"), without the text: the
 * caller says where it came from.  Pure; any thread.
 */
enum sw_err sw_dash_listen_parse(const char *text, bool public_ok, struct sw_dash_listen *ret,
				 char *err, size_t errlen);

/* The listening socket on a (non-blocking, close-on-exec, SO_REUSEADDR,
 * IPv6 only for an IPv6 address, backlog 64): the fd, or -1 with err
 * "cannot listen on TEXT: why".  Shared by slipwatch-dash --listen and the
 * collector's [push] listener. */
int sw_dash_listen_socket(const struct sw_dash_listen *a, char *err, size_t errlen);

#endif /* SW_DASH_CONF_H */
