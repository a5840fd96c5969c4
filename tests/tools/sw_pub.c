/*
 * sw_pub.c - a test publisher that is sure of what it published: reads one
 * message per line from stdin, publishes each to TOPIC at QoS 1 and exits 0
 * only when the broker has acknowledged every one (exit 1 otherwise).
 *
 * mosquitto_pub -l is not usable for this: the 2.0.11 client here exits at
 * end of input with messages still queued, and silently loses them (seen:
 * 34,467 of 100,000 delivered with exit status 0).
 *
 * usage: sw_pub HOST PORT TOPIC [MAX_INFLIGHT]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

static long acked;

static void on_publish(struct mosquitto *m, void *arg, int mid)
{
	acked++;
}

int main(int argc, char **argv)
{
	struct mosquitto *m;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long sent = 0;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: sw_pub HOST PORT TOPIC [MAX_INFLIGHT]\n");
		return 2;
	}
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, NULL);
	if (m == NULL)
		return 1;
	mosquitto_publish_callback_set(m, on_publish);
	mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, argc > 4 ? (int)strtol(argv[4], NULL, 10) : 100);
	if (mosquitto_connect(m, argv[1], (int)strtol(argv[2], NULL, 10), 60) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "sw_pub: cannot connect to %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		rc = mosquitto_publish(m, NULL, argv[3], (int)n, line, 1, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "sw_pub: publish: %s\n", mosquitto_strerror(rc));
			return 1;
		}
		sent++;
		/* Keep the socket moving so the library queue stays short. */
		while (sent - acked > 1000)
			if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
				fprintf(stderr, "sw_pub: connection lost after %ld of %ld acknowledged\n",
					acked, sent);
				return 1;
			}
	}
	while (acked < sent)
		if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "sw_pub: connection lost after %ld of %ld acknowledged\n", acked,
				sent);
			return 1;
		}
	mosquitto_disconnect(m);
	mosquitto_loop(m, 100, 1);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	free(line);
	return 0;
}
