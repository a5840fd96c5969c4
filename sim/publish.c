/*
 * publish.c - slipwatch-sim's warehouse feed (publish.h).
 *
 * One libmosquitto handle driven from the caller's loop with
 * mosquitto_loop() (the simulator's main thread; the courier API server
 * has its own thread and never touches this).  At most MAX_INFLIGHT
 * messages are unacknowledged at once, so a slow or absent broker holds
 * the feed back instead of queueing without bound; libmosquitto resends
 * what was in flight after a reconnect.
 */
#include "config.h"

#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/xmalloc.h"
#include "sim/publish.h"

#define MAX_INFLIGHT 200
#define RETRY_MS 1000

struct sim_pub {
	const struct sim_world *w;
	const struct sim_conf *c;
	struct mosquitto *m;
	bool connected, ever;
	int64_t retry_at_ms; /* real monotonic ms of the next connect attempt */
	struct sim_pub_stats st;
	char last_err[256];
};

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct sim_pub *p = arg;
	(void)m;
	if (rc == 0) {
		p->connected = true;
		p->st.connects++;
	} else {
		snprintf(p->last_err, sizeof(p->last_err), "broker refused: %s",
			 mosquitto_connack_string(rc));
	}
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct sim_pub *p = arg;
	(void)m;
	(void)rc;
	p->connected = false;
}

static void on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct sim_pub *p = arg;
	(void)m;
	(void)mid;
	p->st.acked++;
}

enum sw_err sim_pub_new(const struct sim_world *w, const struct sim_conf *c,
			struct sim_pub **ret, char *err, size_t errlen)
{
	struct sim_pub *p = xcalloc(1, sizeof(*p));

	mosquitto_lib_init();
	p->w = w;
	p->c = c;
	p->m = mosquitto_new(c->client_id, true, p);
	if (!p->m) {
		snprintf(err, errlen, "mqtt: cannot create a client");
		free(p);
		return SW_EIO;
	}
	mosquitto_connect_callback_set(p->m, on_connect);
	mosquitto_disconnect_callback_set(p->m, on_disconnect);
	mosquitto_publish_callback_set(p->m, on_publish);
	*ret = p;
	return SW_OK;
}

static void set_err(struct sim_pub *p, const char *what, int rc)
{
	snprintf(p->last_err, sizeof(p->last_err), "mqtt %s:%lld: %s: %s", p->c->mqtt_host,
		 (long long)p->c->mqtt_port, what, mosquitto_strerror(rc));
}

static void try_connect(struct sim_pub *p)
{
	int rc;

	if (real_ms() < p->retry_at_ms)
		return;
	p->retry_at_ms = real_ms() + RETRY_MS;
	rc = p->ever ? mosquitto_reconnect(p->m)
		     : mosquitto_connect(p->m, p->c->mqtt_host, (int)p->c->mqtt_port, 30);
	if (rc != MOSQ_ERR_SUCCESS) {
		p->st.failures++;
		set_err(p, "connect", rc);
		return;
	}
	p->ever = true;
}

static void publish_due(struct sim_pub *p, int64_t now)
{
	char topic[256], id[64], payload[2048];

	while (p->connected && p->st.next < p->w->n_events &&
	       p->w->events[p->st.next].publish_at <= now &&
	       p->st.published - p->st.acked < MAX_INFLIGHT) {
		const struct sim_event *ev = &p->w->events[p->st.next];
		size_t n = sim_event_json(p->w, ev, payload, sizeof(payload));
		int rc;

		sim_event_id(p->w, ev, id, sizeof(id));
		snprintf(topic, sizeof(topic), "%s/%s/events", p->c->topic_prefix,
			 p->w->orders[ev->order].warehouse);
		rc = mosquitto_publish(p->m, NULL, topic, (int)n, payload, 1, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			set_err(p, "publish", rc);
			return;
		}
		p->st.published++;
		p->st.next++;
	}
}

void sim_pub_step(struct sim_pub *p, int64_t now, int wait_ms, char *err, size_t errlen)
{
	int rc;

	p->last_err[0] = '\0';
	if (!p->ever || (!p->connected && mosquitto_socket(p->m) < 0))
		try_connect(p);
	publish_due(p, now);
	if (mosquitto_socket(p->m) >= 0) {
		rc = mosquitto_loop(p->m, wait_ms, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			p->connected = false;
			p->st.failures++;
			set_err(p, "connection lost", rc);
			try_connect(p);
		}
		publish_due(p, now);
	} else if (wait_ms > 0) {
		poll(NULL, 0, wait_ms);
	}
	if (err && errlen)
		snprintf(err, errlen, "%s", p->last_err);
}

int64_t sim_pub_next_at(const struct sim_pub *p)
{
	return p->st.next < p->w->n_events ? p->w->events[p->st.next].publish_at : INT64_MAX;
}

bool sim_pub_idle(const struct sim_pub *p, int64_t now)
{
	return sim_pub_next_at(p) > now && p->st.acked >= p->st.published;
}

void sim_pub_get_stats(const struct sim_pub *p, struct sim_pub_stats *ret)
{
	*ret = p->st;
}

void sim_pub_free(struct sim_pub *p)
{
	if (!p)
		return;
	if (p->connected) {
		mosquitto_disconnect(p->m);
		mosquitto_loop(p->m, 100, 1);
	}
	mosquitto_destroy(p->m);
	mosquitto_lib_cleanup();
	free(p);
}
