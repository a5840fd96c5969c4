/*
 * conf.h - slipwatch-probes' share of slipwatch.conf (lib/daemon.h
 * struct sw_daemon_part): [probes] and [canary NAME], plus the sections
 * the probes aim at, read the way their owners read them: every
 * [courier NAME] (collector/poll.h sw_poll_conf_load: base URL,
 * credentials, adapter), [mqtt] (collector/mqtt.h), [smtp]
 * (alerts/mail.h) and [rrd].
 *
 *   [probes]
 *   interval = 1m      how often every probe runs (one RRD step; default:
 *                      [rrd] step)
 *   samples = 5        samples per run (1..20; feed takes one)
 *   timeout = 10s      one sample at most (100ms..60s)
 *   kinds = ...        the kinds to run, comma-separated (default: all of
 *                      sw_probe_table that have instances)
 *   topic = slipwatch/probe   broker: the topic prefix it publishes to
 *   feed_max_silence = 30m    feed: a warehouse silent longer fails
 *
 *   [canary NAME]      NAME: a catalogue segment, the instance id
 *   courier = dhl      a [courier NAME] section
 *   tracking_number = 00340434161094042557
 *   max_age = 30d      events older than this are implausible (default 1y)
 */
#ifndef SW_PROBES_CONF_H
#define SW_PROBES_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/mail.h"
#include "collector/mqtt.h"
#include "collector/poll.h"
#include "lib/daemon.h"
#include "lib/rrd.h"

/* [canary NAME] */
struct sw_canary_conf {
	char *name;	       /* the instance id */
	char *courier;	       /* a [courier NAME] of poll */
	char *tracking_number; /* looked up every run */
	int64_t max_age_s;     /* events older than this are implausible */
};

struct sw_probes_conf {
	int64_t interval_ms;
	int samples;
	int64_t timeout_ms;
	char *kinds;	/* NULL: every kind */
	char *topic;	/* broker probe topic prefix */
	int64_t feed_max_silence_ms; /* feed: longer without an event fails */
	struct sw_canary_conf *canaries;
	size_t n_canaries;
	struct sw_poll_conf *poll;     /* every [courier NAME]; never NULL */
	struct sw_mqtt_conf *mqtt;     /* NULL when the file has no [mqtt] */
	struct sw_mail_conf *smtp;     /* NULL when the file has no [smtp] */
	struct sw_rrd_conf rrd;	       /* [rrd] */
};

/* The probes' part ([probes], [canary NAME]; the others read as their
 * owners do).  State: struct sw_probes_conf. */
extern const struct sw_daemon_part sw_probes_part;

#endif /* SW_PROBES_CONF_H */
