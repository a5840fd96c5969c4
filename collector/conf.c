/*
 * conf.c - slipwatch-collector's part of the configuration registry
 * (see conf.h).
 *
 * configure does, at load time, every check the collector's start would
 * otherwise make on the file's values: the MQTT settings libmosquitto
 * refuses (sw_mqtt_conf_load), the RRD step (sw_rrd_conf_load), the
 * courier sections (sw_poll_conf_load), and that the dead-letter file can
 * be opened for appending.  What it cannot know in advance (the store, the
 * broker being up) is the start's own business.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/conf.h"
#include "collector/plan.h"
#include "lib/store_polllease.h"
#include "lib/xmalloc.h"

const struct sw_conf_opt sw_collector_conf_table[] = {
    {.name = "deadletter_file",
     .type = SW_CONF_PATH,
     .offset = offsetof(struct sw_collector_conf, deadletter_file),
     .help = "append rejected messages here (JSON lines) instead of publishing them"},
    {.name = "warehouse_topic_level",
     .type = SW_CONF_INT,
     .offset = offsetof(struct sw_collector_conf, topic_level),
     .min = 0,
     .max = 15,
     .def = "1",
     .help = "0-based topic level holding the warehouse id"},
    {.name = "backlog_interval",
     .type = SW_CONF_DURATION,
     .offset = offsetof(struct sw_collector_conf, backlog_interval),
     .min = 1000,
     .max = 3600000,
     .def = "60s",
     .help = "how often the backlog gauges are recomputed"},
    {.name = "instance",
     .type = SW_CONF_STRING,
     .offset = offsetof(struct sw_collector_conf, instance),
     .help = "this collector's name in the store's poll leases, unique among the collectors "
	     "sharing it (default: HOSTNAME:PID)"},
    {.name = "poll_lease",
     .type = SW_CONF_DURATION,
     .offset = offsetof(struct sw_collector_conf, poll_lease),
     .min = 10000,
     .max = 3600000,
     .def = "60s",
     .help = "how long a claimed parcel stays this collector's; a dead collector's parcels "
	     "are polled by the others after it"},
    {.name = NULL},
};

static const char *const collector_kinds[] = {"collector", "mqtt", "rrd", "courier", "push", NULL};

static void conf_free(void *p)
{
	struct sw_collector_conf *c = p;

	if (c == NULL)
		return;
	sw_conf_free_struct(sw_collector_conf_table, c);
	sw_mqtt_conf_free(&c->mqtt);
	sw_conf_free_struct(sw_rrd_conf_table, &c->rrd);
	sw_poll_conf_free(c->poll);
	sw_push_conf_free(c->push);
	free(c->store_path);
	free(c);
}

/* The start opens deadletter_file for appending (creating it): an
 * existing file must be writable, else its directory must let us create
 * it.  Nothing is created here. */
static enum sw_err check_deadletter(struct sw_conf *file, const char *path, char *errbuf,
				    size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char where[4200], *dir;
	struct stat st;
	int err = 0;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			err = EISDIR;
		else if (access(path, W_OK) < 0)
			err = errno;
	} else if (errno != ENOENT) {
		err = errno;
	} else {
		dir = slash == NULL   ? xstrdup(".")
		      : slash == path ? xstrdup("/")
				      : xstrndup(path, (size_t)(slash - path));
		if (access(dir, W_OK | X_OK) < 0)
			err = errno;
		free(dir);
	}
	if (err == 0)
		return SW_OK;
	snprintf(errbuf, errlen, "%s: [collector] deadletter_file: cannot append to it: %s: '%s'",
		 sw_conf_where(file, "collector", NULL, "deadletter_file", where, sizeof(where)),
		 strerror(err), path);
	return SW_ECONF;
}

/* instance: printable ASCII without blanks, at most SW_POLL_HOLDER_MAX
 * bytes; poll_lease: longer than every courier's timeout (a request still
 * running when its lease ends may be asked again by another collector). */
static enum sw_err check_lease(struct sw_conf *file, const struct sw_collector_conf *c,
			       char *errbuf, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)c->instance;
	char where[4200];

	for (size_t i = 0; s && (s[i] || i == 0); i++)
		if (i >= SW_POLL_HOLDER_MAX || s[i] <= ' ' || s[i] >= 0x7f) {
			snprintf(errbuf, errlen,
				 "%s: [collector] instance: 1 to %d printable ASCII characters "
				 "without blanks: '%s'",
				 sw_conf_where(file, "collector", NULL, "instance", where,
					       sizeof(where)),
				 SW_POLL_HOLDER_MAX, c->instance);
			return SW_ECONF;
		}
	for (size_t i = 0; i < c->poll->n; i++)
		if (c->poll->couriers[i].timeout + 5000 > c->poll_lease) {
			snprintf(errbuf, errlen,
				 "%s: [collector] poll_lease: must be at least 5 s longer than "
				 "[courier %s] timeout (%" PRId64 " s): '%" PRId64 "s'",
				 sw_conf_where(file, "collector", NULL, "poll_lease", where,
					       sizeof(where)),
				 c->poll->couriers[i].name, c->poll->couriers[i].timeout / 1000,
				 c->poll_lease / 1000);
			return SW_ECONF;
		}
	c->poll->instance = c->instance ? xstrdup(c->instance) : NULL;
	c->poll->lease_ms = c->poll_lease;
	return SW_OK;
}

/* The [store] path (the daemon reads it too; the collector keeps a copy
 * to count the parcels its quota plan covers for -t -v). */
static enum sw_err store_path(struct sw_conf *file, char **ret_path, char *errbuf, size_t errlen)
{
	struct sw_daemon_conf dc = {0};
	enum sw_err rc = sw_daemon_store_apply(file, &dc, errbuf, errlen);

	if (rc == SW_OK)
		*ret_path = dc.store_path ? xstrdup(dc.store_path) : NULL;
	sw_conf_free_struct(sw_daemon_store_table, &dc);
	return rc;
}

static enum sw_err conf_load(struct sw_conf *file, void **ret_state, char *errbuf, size_t errlen)
{
	struct sw_collector_conf *c = xcalloc(1, sizeof(*c));
	enum sw_err rc;

	rc = sw_conf_apply(file, "collector", NULL, sw_collector_conf_table, c, errbuf, errlen);
	if (rc == SW_OK && c->deadletter_file && !sw_conf_text_only(file))
		rc = check_deadletter(file, c->deadletter_file, errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_mqtt_conf_load(file, &c->mqtt, errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_rrd_conf_load(file, &c->rrd, errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_poll_conf_load(file, &c->poll, errbuf, errlen);
	if (rc == SW_OK)
		rc = check_lease(file, c, errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_push_conf_load(file, c->poll, &c->push, errbuf, errlen);
	if (rc == SW_OK)
		rc = store_path(file, &c->store_path, errbuf, errlen);
	if (rc) {
		conf_free(c);
		return rc;
	}
	*ret_state = c;
	return SW_OK;
}

static void conf_dump(const void *p, struct sw_buf *out)
{
	const struct sw_collector_conf *c = p;

	sw_conf_dump("collector", NULL, sw_collector_conf_table, c, out);
	sw_conf_dump("mqtt", NULL, sw_mqtt_conf_table, &c->mqtt, out);
	sw_conf_dump("rrd", NULL, sw_rrd_conf_table, &c->rrd, out);
	for (size_t i = 0; c->poll && i < c->poll->n; i++)
		sw_conf_dump("courier", c->poll->couriers[i].name, sw_poll_courier_table,
			     &c->poll->couriers[i], out);
	sw_push_conf_dump(c->push, out);
	sw_plan_describe_all(c->poll, c->store_path, out);
}

const struct sw_daemon_part sw_collector_part = {
    .name = "collector",
    .kinds = collector_kinds,
    .configure = conf_load,
    .dump = conf_dump,
    .free_state = conf_free,
};
