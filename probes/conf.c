/*
 * conf.c - slipwatch-probes' part of the configuration registry (see
 * conf.h): [probes] and [canary NAME] through option tables, and the
 * sections the probes aim at read by their owners' loaders, so that a
 * file -t accepts is one the probes can run: [courier NAME]
 * (sw_poll_conf_load), [mqtt] (sw_mqtt_conf_load), [smtp] (the mailer's
 * table and checks, without "from": a probe sends no mail) and [rrd].
 *
 * Cross-key checks come after the tables and name the key's line: a kind
 * in kinds that no row of sw_probe_table has, a canary whose courier has
 * no [courier NAME] section, an interval that is not whole seconds.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/probe.h"

/* What the [probes] table fills: the public struct and what it holds in
 * another type (samples is an int there, an INT option is int64_t). */
struct probes_state {
	struct sw_probes_conf c; /* first: the state is a struct sw_probes_conf */
	int64_t samples;
};

/* What the [canary NAME] table fills (max_age in ms). */
struct canary_opts {
	char *courier;
	char *tracking_number;
	int64_t max_age_ms;
};

static const struct sw_conf_opt probes_table[] = {
    {.name = "interval",
     .type = SW_CONF_DURATION,
     .offset = offsetof(struct probes_state, c.interval_ms),
     .min = 1000,
     .max = 3600000,
     .help = "how often every probe runs, whole seconds (default: [rrd] step)"},
    {.name = "samples",
     .type = SW_CONF_INT,
     .offset = offsetof(struct probes_state, samples),
     .min = 1,
     .max = SW_PROBE_SAMPLES_MAX,
     .def = "5",
     .help = "samples per run (feed takes one)"},
    {.name = "timeout",
     .type = SW_CONF_DURATION,
     .offset = offsetof(struct probes_state, c.timeout_ms),
     .min = 100,
     .max = 60000,
     .def = "10s",
     .help = "one sample at most"},
    {.name = "kinds",
     .type = SW_CONF_STRING,
     .offset = offsetof(struct probes_state, c.kinds),
     .help = "the kinds to run, comma-separated (default: every kind)"},
    {.name = "topic",
     .type = SW_CONF_STRING,
     .offset = offsetof(struct probes_state, c.topic),
     .def = "slipwatch/probe",
     .help = "broker: the topic prefix the probe publishes to"},
    {.name = "feed_max_silence",
     .type = SW_CONF_DURATION,
     .offset = offsetof(struct probes_state, c.feed_max_silence_ms),
     .min = 1000,
     .max = 30LL * 86400 * 1000,
     .def = "30m",
     .help = "feed: a warehouse silent for longer fails"},
    {.name = NULL},
};

static const struct sw_conf_opt canary_table[] = {
    {.name = "courier",
     .type = SW_CONF_STRING,
     .offset = offsetof(struct canary_opts, courier),
     .flags = SW_CONF_REQUIRED,
     .help = "the [courier NAME] section whose adapter looks the parcel up"},
    {.name = "tracking_number",
     .type = SW_CONF_STRING,
     .offset = offsetof(struct canary_opts, tracking_number),
     .flags = SW_CONF_REQUIRED,
     .help = "a known parcel of that courier, looked up every run"},
    {.name = "max_age",
     .type = SW_CONF_DURATION,
     .offset = offsetof(struct canary_opts, max_age_ms),
     .min = 60000,
     .max = 3650LL * 86400 * 1000,
     .def = "365d",
     .help = "events older than this are implausible"},
    {.name = NULL},
};

static const char *const probes_kinds[] = {"probes", "canary", "courier", "mqtt",
					   "smtp",   "rrd",    NULL};

static void conf_free(void *p)
{
	struct probes_state *s = p;
	struct sw_probes_conf *c = p;

	if (s == NULL)
		return;
	sw_conf_free_struct(probes_table, s);
	for (size_t i = 0; i < c->n_canaries; i++) {
		free(c->canaries[i].name);
		free(c->canaries[i].courier);
		free(c->canaries[i].tracking_number);
	}
	free(c->canaries);
	sw_poll_conf_free(c->poll);
	if (c->mqtt)
		sw_mqtt_conf_free(c->mqtt);
	free(c->mqtt);
	if (c->smtp)
		sw_mail_conf_free(c->smtp);
	free(c->smtp);
	sw_conf_free_struct(sw_rrd_conf_table, &c->rrd);
	free(s);
}

/* Every name in kinds is a row of sw_probe_table. */
static enum sw_err check_kinds(struct sw_conf *file, const char *kinds, char *errbuf, size_t errlen)
{
	char where[4200], word[64];
	const char *p = kinds;

	while (p && *p) {
		size_t n = strcspn(p, ", \t");

		if (n > 0) {
			snprintf(word, sizeof(word), "%.*s", (int)n, p);
			if (n >= sizeof(word) || sw_probe_find(word) == NULL) {
				snprintf(errbuf, errlen, "%s: [probes] kinds: no such kind: '%.*s'",
					 sw_conf_where(file, "probes", NULL, "kinds", where,
						       sizeof(where)),
					 (int)(n > 60 ? 60 : n), p);
				return SW_ECONF;
			}
		}
		p += n;
		p += strspn(p, ", \t");
	}
	return SW_OK;
}

static enum sw_err load_probes(struct sw_conf *file, struct probes_state *s, char *errbuf,
			       size_t errlen)
{
	char where[4200];
	enum sw_err rc;

	rc = sw_conf_apply(file, "probes", NULL, probes_table, s, errbuf, errlen);
	if (rc)
		return rc;
	s->c.samples = (int)s->samples;
	if (s->c.interval_ms % 1000 != 0) {
		snprintf(errbuf, errlen, "%s: [probes] interval: whole seconds only: '%lld ms'",
			 sw_conf_where(file, "probes", NULL, "interval", where, sizeof(where)),
			 (long long)s->c.interval_ms);
		return SW_ECONF;
	}
	return check_kinds(file, s->c.kinds, errbuf, errlen);
}

/* One [canary NAME], after the couriers are loaded. */
static enum sw_err load_canary(struct sw_conf *file, struct sw_probes_conf *c, const char *name,
			       char *errbuf, size_t errlen)
{
	struct canary_opts o = {0};
	struct sw_canary_conf *k;
	char where[4200];
	enum sw_err rc;

	rc = sw_conf_apply(file, "canary", name, canary_table, &o, errbuf, errlen);
	if (rc == SW_OK &&
	    (o.courier[0] == '\0' || sw_poll_conf_find(c->poll, o.courier) == NULL)) {
		snprintf(errbuf, errlen, "%s: [canary %s] courier: no [courier %s] section: '%s'",
			 sw_conf_where(file, "canary", name, "courier", where, sizeof(where)), name,
			 o.courier, o.courier);
		rc = SW_ECONF;
	}
	if (rc == SW_OK && o.tracking_number[0] == '\0') {
		snprintf(
		    errbuf, errlen, "%s: [canary %s] tracking_number: empty",
		    sw_conf_where(file, "canary", name, "tracking_number", where, sizeof(where)),
		    name);
		rc = SW_ECONF;
	}
	if (rc) {
		sw_conf_free_struct(canary_table, &o);
		return rc;
	}
	c->canaries = xreallocarray(c->canaries, c->n_canaries + 1, sizeof(*c->canaries));
	k = &c->canaries[c->n_canaries++];
	k->name = xstrdup(name);
	k->courier = o.courier;
	k->tracking_number = o.tracking_number;
	k->max_age_s = o.max_age_ms / 1000;
	return SW_OK;
}

/* [mqtt] and [smtp] when the file has them. */
static enum sw_err load_targets(struct sw_conf *file, struct sw_probes_conf *c, char *errbuf,
				size_t errlen)
{
	enum sw_err rc;

	if (sw_conf_has(file, "mqtt", NULL)) {
		c->mqtt = xcalloc(1, sizeof(*c->mqtt));
		rc = sw_mqtt_conf_load(file, c->mqtt, errbuf, errlen);
		if (rc) {
			free(c->mqtt);
			c->mqtt = NULL;
			return rc;
		}
	}
	if (!sw_conf_has(file, "smtp", NULL))
		return SW_OK;
	c->smtp = xcalloc(1, sizeof(*c->smtp));
	rc = sw_conf_apply(file, "smtp", NULL, sw_mail_conf_table, c->smtp, errbuf, errlen);
	if (rc == SW_OK && (rc = sw_mail_conf_check(c->smtp, errbuf, errlen)) != SW_OK)
		sw_conf_locate(file, errbuf, errlen);
	return rc ? SW_ECONF : SW_OK;
}

static enum sw_err conf_load(struct sw_conf *file, void **ret_state, char *errbuf, size_t errlen)
{
	struct probes_state *s = xcalloc(1, sizeof(*s));
	struct sw_probes_conf *c = &s->c;
	const char *name;
	enum sw_err rc;

	rc = sw_rrd_conf_load(file, &c->rrd, errbuf, errlen);
	if (rc == SW_OK)
		rc = load_probes(file, s, errbuf, errlen);
	if (rc == SW_OK && c->interval_ms == 0)
		c->interval_ms = c->rrd.step_ms;
	if (rc == SW_OK)
		rc = sw_poll_conf_load(file, &c->poll, errbuf, errlen);
	for (size_t i = 0; rc == SW_OK && (name = sw_conf_named(file, "canary", i)); i++)
		rc = load_canary(file, c, name, errbuf, errlen);
	if (rc == SW_OK)
		rc = load_targets(file, c, errbuf, errlen);
	if (rc) {
		conf_free(s);
		return rc;
	}
	*ret_state = s;
	return SW_OK;
}

static void conf_dump(const void *p, struct sw_buf *out)
{
	const struct probes_state *s = p;
	const struct sw_probes_conf *c = p;

	sw_conf_dump("probes", NULL, probes_table, s, out);
	for (size_t i = 0; i < c->n_canaries; i++) {
		struct canary_opts o = {.courier = c->canaries[i].courier,
					.tracking_number = c->canaries[i].tracking_number,
					.max_age_ms = c->canaries[i].max_age_s * 1000};

		sw_conf_dump("canary", c->canaries[i].name, canary_table, &o, out);
	}
}

const struct sw_daemon_part sw_probes_part = {
    .name = "probes",
    .kinds = probes_kinds,
    .configure = conf_load,
    .dump = conf_dump,
    .free_state = conf_free,
};
