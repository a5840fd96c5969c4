/*
 * bare_sub.c - the baseline for bench/mqtt-ingest.sh: a bare libmosquitto
 * subscriber that drains N messages from a persistent session as fast as
 * the library allows (mosquitto_loop_forever, no processing, no storage)
 * and prints the elapsed time.
 *
 * usage: bare_sub HOST PORT CLIENT_ID TOPIC QOS N [--prime]
 * --prime only creates the persistent session (subscribe, disconnect), so
 * that messages published afterwards are queued for it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

struct state {
	const char *topic;
	int qos;
	long want, got;
	int prime;
	struct timespec first;
};

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct state *s = arg;

	if (rc != 0) {
		fprintf(stderr, "bare_sub: connect refused: %s\n", mosquitto_connack_string(rc));
		exit(1);
	}
	mosquitto_subscribe(m, NULL, s->topic, s->qos);
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
	struct state *s = arg;

	if (s->prime)
		mosquitto_disconnect(m);
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct state *s = arg;

	if (s->got++ == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->first);
	if (s->got >= s->want)
		mosquitto_disconnect(m);
}

int main(int argc, char **argv)
{
	struct state s = { 0 };
	struct mosquitto *m;
	struct timespec t0, t1;
	double secs;

	if (argc < 7) {
		fprintf(stderr, "usage: bare_sub HOST PORT CLIENT_ID TOPIC QOS N [--prime]\n");
		return 2;
	}
	s.topic = argv[4];
	s.qos = (int)strtol(argv[5], NULL, 10);
	s.want = strtol(argv[6], NULL, 10);
	s.prime = argc > 7 && strcmp(argv[7], "--prime") == 0;
	mosquitto_lib_init();
	m = mosquitto_new(argv[3], false, &s);
	if (m == NULL)
		return 1;
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mosquitto_connect(m, argv[1], (int)strtol(argv[2], NULL, 10), 60) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bare_sub: cannot connect\n");
		return 1;
	}
	mosquitto_loop_forever(m, 1000, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!s.prime)
		printf("%ld %.6f\n", s.got, secs);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return s.prime || s.got >= s.want ? 0 : 1;
}
