/*
 * load_pub.c - the warehouse publisher of bench/e2e-latency.sh and
 * bench/collector-rss.sh: generates warehouse events itself and publishes
 * them at QoS 1 to one topic, either paced (a steady stream of R events
 * per second for S seconds) or as fast as the broker acknowledges them (a
 * burst of N events).
 *
 * Background events are normal and make no slip: each order gets
 * order.created (a customer in UTC, ship-by two days and delivery five days
 * after its publication), order.picked, order.packed and order.shipped
 * (courier "dhl", an unconfigured courier in these benchmarks), in that
 * order, stamped with the wall clock.  Event ids are "bg-K" from --start,
 * so chunks published one after the other never collide.
 *
 * With --triggers K (paced mode only) K events that make a slip true the
 * moment they are journaled are mixed into the stream, evenly spread over
 * the run (the i-th at (i + 0.5) * S / K seconds): an order.created whose
 * promised_ship_by passed an hour ago (ship_late, threshold 0), order
 * E2E-i, customer e2e-i@c.example.  They take the place of background
 * events, so the rate stays R.  The wall-clock time (CLOCK_REALTIME, the
 * clock file times are in) at which each was handed to the socket is
 * written to --trigger-out FILE as "i SECONDS.NANOSECONDS" lines.
 *
 * The pace is counted from the start: the publisher sends what is due,
 * never more than --inflight (default 1000) unacknowledged, so a broker
 * that cannot keep up shows as a rate below R (reported, never hidden).
 *
 * usage: load_pub HOST PORT TOPIC WAREHOUSE (--rate R --seconds S | --count N)
 *                 [--start K] [--triggers K --trigger-out FILE] [--inflight W]
 * prints: sent acked elapsed_s rate_per_s max_behind
 *   elapsed_s and rate_per_s: until the last event was handed to the
 *   socket (the acknowledgements of the last ones are waited for after)
 *   max_behind: the most events that were due but not yet sent at any time
 *   (0 when the pace was held throughout)
 * Exit status 0 when every event was acknowledged, 1 otherwise, 2 on bad
 * arguments.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "bench.h"

#define PAYLOAD_MAX 1024
#define ACK_WAIT_S  60.0 /* after the last send, for the last PUBACKs */

struct load {
	long sent, acked, inflight;
	bool lost;
	long start; /* first background event number */
	long bg;    /* background events made so far */
	const char *warehouse;
	long triggers, next_trigger;
	double *trigger_at; /* wall-clock publication of each trigger */
};

static void on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct load *l = arg;

	(void)m;
	(void)mid;
	l->acked++;
	l->inflight--;
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct load *l = arg;

	(void)m;
	(void)rc;
	l->lost = true;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* t (Unix seconds) as RFC 3339 in UTC with an explicit offset. */
static void rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

/* The next background event: stage k % 4 of order k / 4. */
static int background(struct load *l, char *buf, size_t len)
{
	static const char *const type[] = {"order.created", "order.picked", "order.packed",
					   "order.shipped"};
	long k = l->start + l->bg++, order = k / 4;
	int stage = (int)(k % 4);
	time_t now = time(NULL);
	char at[40], ship_by[40], deliver_by[40];

	rfc3339(now, at, sizeof(at));
	if (stage == 0) {
		rfc3339(now + 2 * 86400, ship_by, sizeof(ship_by));
		rfc3339(now + 5 * 86400, deliver_by, sizeof(deliver_by));
		return snprintf(
		    buf, len,
		    "{\"event_id\":\"bg-%ld\",\"type\":\"%s\",\"occurred_at\":\"%s\","
		    "\"warehouse_id\":\"%s\",\"order_id\":\"BG-%ld\",\"customer\":"
		    "{\"name\":\"Customer %ld\",\"email\":\"bg%ld@c.example\","
		    "\"locale\":\"en\",\"timezone\":\"UTC\"},\"promised_ship_by\":\"%s\","
		    "\"promised_delivery_by\":\"%s\",\"service_level\":\"standard\"}",
		    k, type[stage], at, l->warehouse, order, order, order, ship_by, deliver_by);
	}
	if (stage == 3)
		return snprintf(
		    buf, len,
		    "{\"event_id\":\"bg-%ld\",\"type\":\"%s\",\"occurred_at\":\"%s\","
		    "\"warehouse_id\":\"%s\",\"order_id\":\"BG-%ld\",\"courier\":\"dhl\","
		    "\"tracking_number\":\"JDBG%010ld\"}",
		    k, type[stage], at, l->warehouse, order, order);
	return snprintf(buf, len,
			"{\"event_id\":\"bg-%ld\",\"type\":\"%s\",\"occurred_at\":\"%s\","
			"\"warehouse_id\":\"%s\",\"order_id\":\"BG-%ld\"}",
			k, type[stage], at, l->warehouse, order);
}

/* Trigger i: a new order whose ship-by passed an hour ago. */
static int trigger(const struct load *l, long i, char *buf, size_t len)
{
	time_t now = time(NULL);
	char at[40], ship_by[40], deliver_by[40];

	rfc3339(now, at, sizeof(at));
	rfc3339(now - 3600, ship_by, sizeof(ship_by));
	rfc3339(now + 3 * 86400, deliver_by, sizeof(deliver_by));
	return snprintf(
	    buf, len,
	    "{\"event_id\":\"e2e-%ld\",\"type\":\"order.created\",\"occurred_at\":\"%s\","
	    "\"warehouse_id\":\"%s\",\"order_id\":\"E2E-%ld\",\"customer\":"
	    "{\"name\":\"Trigger %ld\",\"email\":\"e2e-%ld@c.example\",\"locale\":\"en\","
	    "\"timezone\":\"UTC\"},\"promised_ship_by\":\"%s\","
	    "\"promised_delivery_by\":\"%s\",\"service_level\":\"standard\"}",
	    i, at, l->warehouse, i, i, i, ship_by, deliver_by);
}

/* Publishes one event (a trigger when one is due at elapsed seconds). */
static bool publish_one(struct mosquitto *m, struct load *l, const char *topic, double elapsed,
			double seconds)
{
	char buf[PAYLOAD_MAX];
	bool is_trigger =
	    l->next_trigger < l->triggers &&
	    elapsed >= ((double)l->next_trigger + 0.5) * seconds / (double)l->triggers;
	int n = is_trigger ? trigger(l, l->next_trigger, buf, sizeof(buf))
			   : background(l, buf, sizeof(buf));
	double at = now_real();
	int rc = mosquitto_publish(m, NULL, topic, n, buf, 1, false);

	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "load_pub: publish: %s\n", mosquitto_strerror(rc));
		return false;
	}
	if (is_trigger)
		l->trigger_at[l->next_trigger++] = at;
	l->sent++;
	l->inflight++;
	return true;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: load_pub HOST PORT TOPIC WAREHOUSE (--rate R --seconds S | --count N)"
		" [--start K] [--triggers K --trigger-out FILE] [--inflight W]\n");
	exit(2);
}

static bool write_triggers(const struct load *l, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return false;
	}
	for (long i = 0; i < l->next_trigger; i++)
		fprintf(f, "%ld %.6f\n", i, l->trigger_at[i]);
	return fclose(f) == 0;
}

int main(int argc, char **argv)
{
	static struct load l;
	struct mosquitto *m;
	long rate = 0, seconds = 0, count = 0, inflight = 1000, max_behind = 0;
	const char *trigger_out = NULL;
	double t0, el, send_el;
	int port, rc = 0;

	if (argc < 5)
		usage();
	port = (int)arg_long("load_pub", argv[2], "port", 65535);
	l.warehouse = argv[4];
	for (int a = 5; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (v == NULL)
			usage();
		if (strcmp(argv[a], "--rate") == 0)
			rate = arg_long("load_pub", v, "rate", 10000000L);
		else if (strcmp(argv[a], "--seconds") == 0)
			seconds = arg_long("load_pub", v, "seconds", 86400);
		else if (strcmp(argv[a], "--count") == 0)
			count = arg_long("load_pub", v, "count", 1000000000L);
		else if (strcmp(argv[a], "--start") == 0)
			l.start =
			    strcmp(v, "0") == 0 ? 0 : arg_long("load_pub", v, "start", 1L << 40);
		else if (strcmp(argv[a], "--triggers") == 0)
			l.triggers = arg_long("load_pub", v, "triggers", 1000000);
		else if (strcmp(argv[a], "--trigger-out") == 0)
			trigger_out = v;
		else if (strcmp(argv[a], "--inflight") == 0)
			inflight = arg_long("load_pub", v, "inflight", 65000);
		else
			usage();
		a++;
	}
	if ((count > 0) == (rate > 0 && seconds > 0) || (l.triggers > 0 && (!trigger_out || !rate)))
		usage();
	if (rate)
		count = rate * seconds;
	l.trigger_at = calloc((size_t)l.triggers + 1, sizeof(*l.trigger_at));
	if (l.trigger_at == NULL)
		abort();

	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, &l);
	if (m == NULL)
		abort();
	mosquitto_publish_callback_set(m, on_publish);
	mosquitto_disconnect_callback_set(m, on_disconnect);
	mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, (int)inflight);
	if ((rc = mosquitto_connect(m, argv[1], port, 60)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "load_pub: connect to %s:%d: %s\n", argv[1], port,
			mosquitto_strerror(rc));
		return 1;
	}
	t0 = now_mono();
	while (l.sent < count && !l.lost) {
		long due;

		el = now_mono() - t0;
		due = rate ? (long)(el * (double)rate) + 1 : count;
		if (due > count)
			due = count;
		if (due - l.sent > max_behind && rate)
			max_behind = due - l.sent;
		while (l.sent < due && l.inflight < inflight)
			if (!publish_one(m, &l, argv[3], el, (double)seconds))
				goto out;
		if (mosquitto_loop(m, rate ? 1 : 100, 1) != MOSQ_ERR_SUCCESS)
			break;
	}
out:
	send_el = now_mono() - t0;
	while (l.acked < l.sent && !l.lost && now_mono() - t0 < send_el + ACK_WAIT_S)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			break;
	mosquitto_disconnect(m);
	mosquitto_loop(m, 100, 1);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	printf("%ld %ld %.3f %.0f %ld\n", l.sent, l.acked, send_el, (double)l.sent / send_el,
	       max_behind);
	if (trigger_out && !write_triggers(&l, trigger_out))
		return 1;
	free(l.trigger_at);
	return l.acked == count ? 0 : 1;
}
