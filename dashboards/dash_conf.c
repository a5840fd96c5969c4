/*
 * dash_conf.c - [dash] and [rrd] for slipwatch-dash (see dash_conf.h).
 * Options are a table (lib/conf.h); what the table cannot say (the time
 * zone exists) is checked after it, naming the key's line.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static enum sw_err configure(struct sw_conf *file, void **ret_state, char *errbuf, size_t errlen)
{
	struct sw_dash_state *s = xcalloc(1, sizeof(*s));
	enum sw_err rc;

	rc = sw_conf_apply(file, "dash", NULL, sw_dash_conf_table, &s->dash, errbuf, errlen);
	if (rc == SW_OK)
		rc = check(file, &s->dash, errbuf, errlen);
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
