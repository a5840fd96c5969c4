/*
 * dur_pub.c - the publisher of bench/broker-durability.sh: publishes every
 * line of FILE at QoS 1 and keeps at it, across broker restarts, until the
 * broker has acknowledged each one, like a warehouse system that retries
 * what was never acknowledged.
 *
 * A message the broker acknowledged is never sent again, whatever happens
 * to the broker afterwards: that is what QoS 1 promises a publisher (and
 * what sw_pub and libmosquitto do).  So a message a killed broker had
 * acknowledged but not yet saved is lost, and the bench counts exactly
 * those.  Unacknowledged messages are published again on a new connection
 * (a new client, clean session: only this program knows what is missing).
 *
 * With --kill-at K PID it sends SIGKILL to PID once K messages are
 * acknowledged (at most once), so that the kill lands at the same point of
 * the stream in every run.  Gives up after --timeout seconds (default 300).
 *
 * usage: dur_pub HOST PORT TOPIC FILE [--inflight W] [--kill-at K PID]
 *                [--rate R] [--timeout S]
 * --rate R: at most R messages per second (first sends, counted from the
 * start), for a steady stream instead of a burst.
 * prints: acked elapsed_s publish_rate reconnects acked_at_kill
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <mosquitto.h>

#include "bench.h"

#define MAX_LINES 10000000L

struct pub {
	char **line; /* the messages */
	size_t *len;
	unsigned char *acked;
	long n, nacked;
	long mid_idx[65536]; /* message id -> line, for this connection */
	long inflight;
	int connected, lost;
};

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct pub *p = arg;

	(void)m;
	if (rc == 0)
		p->connected = 1;
	else
		p->lost = 1;
}

static void on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct pub *p = arg;
	long i = p->mid_idx[mid & 0xffff];

	(void)m;
	if (i >= 0 && !p->acked[i]) {
		p->acked[i] = 1;
		p->nacked++;
	}
	p->mid_idx[mid & 0xffff] = -1;
	p->inflight--;
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct pub *p = arg;

	(void)m;
	(void)rc;
	p->lost = 1;
}

static void read_lines(struct pub *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t n;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while ((n = getline(&buf, &cap, f)) > 0 && p->n < MAX_LINES) {
		if (buf[n - 1] == '\n')
			buf[--n] = '\0';
		if ((size_t)p->n == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			p->line = realloc(p->line, alloc * sizeof *p->line);
			p->len = realloc(p->len, alloc * sizeof *p->len);
			if (p->line == NULL || p->len == NULL)
				abort();
		}
		p->line[p->n] = strdup(buf);
		if (p->line[p->n] == NULL)
			abort();
		p->len[p->n++] = (size_t)n;
	}
	free(buf);
	fclose(f);
	p->acked = calloc((size_t)p->n + 1, 1);
	if (p->acked == NULL)
		abort();
}

/* A connected client with CONNACK received, or NULL once the deadline has
 * passed. */
static struct mosquitto *connect_until(struct pub *p, const char *host, int port, long inflight,
				       double deadline)
{
	struct timespec pause = {0, 50 * 1000 * 1000};

	while (now_mono() < deadline) {
		struct mosquitto *m = mosquitto_new(NULL, true, p);

		if (m == NULL)
			abort();
		mosquitto_connect_callback_set(m, on_connect);
		mosquitto_publish_callback_set(m, on_publish);
		mosquitto_disconnect_callback_set(m, on_disconnect);
		mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, (int)inflight);
		p->connected = p->lost = 0;
		if (mosquitto_connect(m, host, port, 30) == MOSQ_ERR_SUCCESS) {
			while (!p->connected && !p->lost && now_mono() < deadline)
				if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
					break;
			if (p->connected && !p->lost)
				return m;
		}
		mosquitto_destroy(m);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct pub p;
	struct mosquitto *m;
	long inflight = 1000, kill_at = 0, at_kill = -1, cursor = 0, reconnects = 0, i;
	pid_t kill_pid = 0;
	double timeout = 300, rate = 0, t0, deadline;
	int port, a;

	if (argc < 5) {
		fprintf(stderr, "usage: dur_pub HOST PORT TOPIC FILE [--inflight W] "
				"[--kill-at K PID] [--rate R] [--timeout S]\n");
		return 2;
	}
	port = (int)arg_long("dur_pub", argv[2], "port", 65535);
	for (a = 5; a < argc; a++) {
		if (strcmp(argv[a], "--inflight") == 0 && a + 1 < argc)
			inflight = arg_long("dur_pub", argv[++a], "inflight", 65000);
		else if (strcmp(argv[a], "--kill-at") == 0 && a + 2 < argc) {
			kill_at = arg_long("dur_pub", argv[++a], "kill-at", MAX_LINES);
			kill_pid = (pid_t)arg_long("dur_pub", argv[++a], "pid", 1L << 30);
		} else if (strcmp(argv[a], "--timeout") == 0 && a + 1 < argc)
			timeout = (double)arg_long("dur_pub", argv[++a], "timeout", 86400);
		else if (strcmp(argv[a], "--rate") == 0 && a + 1 < argc)
			rate = (double)arg_long("dur_pub", argv[++a], "rate", 10000000L);
		else {
			fprintf(stderr, "dur_pub: unknown argument '%s'\n", argv[a]);
			return 2;
		}
	}
	read_lines(&p, argv[4]);
	for (i = 0; i < 65536; i++)
		p.mid_idx[i] = -1;
	mosquitto_lib_init();
	t0 = now_mono();
	deadline = t0 + timeout;
	m = connect_until(&p, argv[1], port, inflight, deadline);
	while (m != NULL && p.nacked < p.n && now_mono() < deadline) {
		long limit = rate > 0 ? (long)((now_mono() - t0) * rate) + 1 : p.n;

		while (p.inflight < inflight && cursor < p.n && cursor < limit) {
			int mid;

			if (!p.acked[cursor]) {
				if (mosquitto_publish(m, &mid, argv[3], (int)p.len[cursor],
						      p.line[cursor], 1, false) != MOSQ_ERR_SUCCESS)
					break;
				p.mid_idx[mid & 0xffff] = cursor;
				p.inflight++;
			}
			cursor++;
		}
		if (kill_at > 0 && at_kill < 0 && p.nacked >= kill_at) {
			at_kill = p.nacked;
			if (kill(kill_pid, SIGKILL) != 0)
				fprintf(stderr, "dur_pub: kill %ld: %s\n", (long)kill_pid,
					strerror(errno));
		}
		if (!p.lost && mosquitto_loop(m, rate > 0 ? 1 : 100, 1) == MOSQ_ERR_SUCCESS &&
		    !p.lost)
			continue;
		/* Connection gone: everything not acknowledged goes out again. */
		mosquitto_destroy(m);
		reconnects++;
		p.inflight = 0;
		cursor = 0;
		for (i = 0; i < 65536; i++)
			p.mid_idx[i] = -1;
		m = connect_until(&p, argv[1], port, inflight, deadline);
	}
	if (m != NULL) {
		mosquitto_disconnect(m);
		mosquitto_loop(m, 100, 1);
		mosquitto_destroy(m);
	}
	{
		double el = now_mono() - t0;

		printf("%ld %.3f %.0f %ld %ld\n", p.nacked, el, p.nacked / el, reconnects, at_kill);
	}
	mosquitto_lib_cleanup();
	return p.nacked == p.n ? 0 : 1;
}
