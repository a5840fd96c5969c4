/*
 * dash_conf.h - slipwatch-dash's share of slipwatch.conf: section [dash]
 * (where the site goes, its title, time zone, on-time target, how often
 * pages reload themselves, graph size) and [rrd] (where the RRD files
 * are, and rrdcached), as one part of the configuration registry
 * (lib/daemon.h, struct sw_daemon_part), so that every program can judge
 * [dash] the same way.
 */
#ifndef SW_DASH_CONF_H
#define SW_DASH_CONF_H

#include <stdint.h>

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
	int64_t width;	    /* graph canvas, pixels */
	int64_t height;
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

#endif /* SW_DASH_CONF_H */
