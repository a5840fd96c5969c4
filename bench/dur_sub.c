/*
 * dur_sub.c - the plain subscriber of bench/broker-durability.sh: a
 * persistent session (fixed client id, clean session off, QoS 1) that only
 * remembers which events it received, so that the broker's loss can be
 * counted without the collector's ingest rate in the way.
 *
 * Events are gen-events.py lines; the number after the last '-' of the
 * event_id is the event's index (0..N-1).  It reconnects by itself after
 * the broker goes away (every 50 ms, and subscribes again on each connect:
 * a broker that lost the session has forgotten the subscription), and stops
 * when the event with index N arrives (the marker the bench publishes after
 * the stream, once every event of it was acknowledged: the broker queues in
 * order, so everything still queued before it has arrived by then) or after
 * --timeout seconds.
 *
 * usage: dur_sub HOST PORT CLIENT_ID TOPIC N [--prime] [--timeout S]
 * --prime: subscribe, wait for the SUBACK, disconnect (creates the session).
 * prints: distinct_received duplicates elapsed_s  (time from start to marker)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "bench.h"

struct sub {
	const char *topic;
	long n, distinct, dups;
	unsigned char *seen; /* n + 1 entries, the last one the marker */
	int subscribed, lost;
};

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct sub *s = arg;

	if (rc != 0) {
		s->lost = 1;
		return;
	}
	mosquitto_subscribe(m, NULL, s->topic, 1);
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
	struct sub *s = arg;

	(void)m;
	(void)mid;
	(void)n;
	(void)granted;
	s->subscribed = 1;
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct sub *s = arg;

	(void)m;
	(void)rc;
	s->lost = 1;
}

/* The index in "event_id":"wh-123", or -1. */
static long event_index(const char *p, int len)
{
	static const char key[] = "\"event_id\":\"";
	const char *e, *end = p + len, *dash = NULL;
	char *stop;
	long v;

	e = memmem(p, (size_t)len, key, sizeof key - 1);
	if (e == NULL)
		return -1;
	for (e += sizeof key - 1; e < end && *e != '"'; e++)
		if (*e == '-')
			dash = e;
	if (dash == NULL || e == end)
		return -1;
	v = strtol(dash + 1, &stop, 10);
	return stop == e ? v : -1;
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct sub *s = arg;
	long i = event_index(msg->payload, msg->payloadlen);

	(void)m;
	if (i < 0 || i > s->n)
		return;
	if (s->seen[i])
		s->dups++;
	else if (i < s->n)
		s->distinct++;
	s->seen[i] = 1;
}

int main(int argc, char **argv)
{
	struct sub s = {0};
	struct mosquitto *m;
	struct timespec pause = {0, 50 * 1000 * 1000};
	double timeout = 600, t0, deadline;
	int port, prime = 0, a, up = 0;

	if (argc < 6) {
		fprintf(stderr,
			"usage: dur_sub HOST PORT CLIENT_ID TOPIC N [--prime] [--timeout S]\n");
		return 2;
	}
	port = (int)arg_long("dur_sub", argv[2], "port", 65535);
	s.topic = argv[4];
	s.n = arg_long("dur_sub", argv[5], "N", 100000000L);
	for (a = 6; a < argc; a++) {
		if (strcmp(argv[a], "--prime") == 0)
			prime = 1;
		else if (strcmp(argv[a], "--timeout") == 0 && a + 1 < argc)
			timeout = (double)arg_long("dur_sub", argv[++a], "timeout", 86400);
		else {
			fprintf(stderr, "dur_sub: unknown argument '%s'\n", argv[a]);
			return 2;
		}
	}
	s.seen = calloc((size_t)s.n + 1, 1);
	if (s.seen == NULL)
		abort();
	mosquitto_lib_init();
	m = mosquitto_new(argv[3], false, &s);
	if (m == NULL)
		abort();
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	mosquitto_disconnect_callback_set(m, on_disconnect);
	t0 = now_mono();
	deadline = t0 + timeout;
	while (now_mono() < deadline && !s.seen[s.n] && !(prime && s.subscribed)) {
		if (!up) {
			s.lost = 0;
			if (mosquitto_connect(m, argv[1], port, 30) != MOSQ_ERR_SUCCESS) {
				nanosleep(&pause, NULL);
				continue;
			}
			up = 1;
		}
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS || s.lost) {
			mosquitto_disconnect(m);
			up = 0;
			nanosleep(&pause, NULL);
		}
	}
	if (up) {
		mosquitto_disconnect(m);
		mosquitto_loop(m, 100, 1);
	}
	if (!prime)
		printf("%ld %ld %.3f\n", s.distinct, s.dups, now_mono() - t0);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return prime ? !s.subscribed : !s.seen[s.n];
}
