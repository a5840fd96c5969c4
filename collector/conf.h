/*
 * conf.h - slipwatch-collector's share of slipwatch.conf: [collector],
 * [mqtt], [rrd] and every [courier NAME], as one part of the registry
 * (lib/daemon.h, conf/registry.h).
 *
 * Every slipwatch program applies this part on each load, so that any
 * program's -t judges these sections too; only slipwatch-collector keeps
 * the result and reads the secrets and files they name.
 */
#ifndef SW_COLLECTOR_CONF_H
#define SW_COLLECTOR_CONF_H

#include <stdint.h>

#include "collector/mqtt.h"
#include "collector/poll.h"
#include "collector/push.h"
#include "lib/daemon.h"
#include "lib/rrd.h"

/* The collector's state from its part's configure; freed by free_state. */
struct sw_collector_conf {
	char *deadletter_file;	   /* [collector] deadletter_file */
	int64_t topic_level;	   /* [collector] warehouse_topic_level */
	int64_t backlog_interval;  /* [collector] backlog_interval, ms */
	char *instance;		   /* [collector] instance; NULL: HOSTNAME:PID */
	int64_t poll_lease;	   /* [collector] poll_lease, ms */
	struct sw_mqtt_conf mqtt;  /* [mqtt] */
	struct sw_rrd_conf rrd;	   /* [rrd] */
	struct sw_poll_conf *poll; /* every [courier NAME]; never NULL */
	struct sw_push_conf *push; /* [push], every [push NAME]; never NULL */
	char *store_path;	   /* [store] path, for the quota plan of -t -v */
};

/* The option table for [collector] (NULL-name terminated). */
extern const struct sw_conf_opt sw_collector_conf_table[];

/*
 * The collector's part.  configure applies, in this order, [collector]
 * (deadletter_file: its directory must let us create and append to it),
 * [mqtt] (sw_mqtt_conf_load), [rrd] (sw_rrd_conf_load) and every
 * [courier NAME] (sw_poll_conf_load), [push] and [push NAME]
 * (sw_push_conf_load), into a struct sw_collector_conf.
 */
extern const struct sw_daemon_part sw_collector_part;

#endif /* SW_COLLECTOR_CONF_H */
