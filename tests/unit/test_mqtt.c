/*
 * test_mqtt.c - collector/mqtt against a scripted broker and a real one.
 *
 * Part 1 checks the [mqtt] option table and sw_mqtt_conf_check() on text.
 * Part 2 plays the broker on a raw loopback socket, so that it can look at
 * the wire while on_message runs: no PUBACK may be readable before the
 * callback returns, one must follow after; a RETRY must end the
 * connection with no PUBACK at all and the module must come back.  A plain
 * libmosquitto client, non-threaded, is the control showing the test sees
 * an early PUBACK when there is one.
 * Part 3 starts /usr/sbin/mosquitto (or $SW_MOSQUITTO) on a free loopback
 * port with a temp dir and etc/mosquitto-slipwatch.conf, and checks
 * delivery, the persistent session (stop, publish, start), redelivery after
 * RETRY, a broker restart mid-stream, dead-letter publishing and MQTT v5
 * (session expiry, shared subscription).  The broker is started with
 * PR_SET_PDEATHSIG and killed from atexit(), so no run leaves one behind.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "collector/mqtt.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/xmalloc.h"
#include "tap.h"

#define MAXIDX 4000

static struct sw_loop *loop;

/* ---- log capture -------------------------------------------------------- */

static char **logs;
static size_t nlogs;

static void sink(enum sw_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	logs = xreallocarray(logs, nlogs + 1, sizeof(*logs));
	logs[nlogs++] = xstrdup(line);
	if (getenv("SW_TEST_VERBOSE"))
		printf("# log: %s\n", line);
}

/* Lines from index from on that contain s. */
static int count_logs(size_t from, const char *s)
{
	int n = 0;

	for (size_t i = from; i < nlogs; i++)
		n += strstr(logs[i], s) != NULL;
	return n;
}

/* ---- receiver --------------------------------------------------------------- */

struct rx {
	int count;
	int seen[MAXIDX];       /* deliveries per payload index */
	int retry_idx;          /* answer RETRY to its first delivery */
	int probe_fd;           /* fake broker side: must be empty now */
	int probe_n, probe_errno;
	char topic[128];
	char payload[128];
	int acked_mid, acked_n; /* on_published: last mid, calls */
	bool acked_ok;
};

static int on_message(void *arg, const char *topic, const void *payload,
		      size_t len)
{
	struct rx *r = arg;
	unsigned char b[64];
	const char *dash;
	int idx;

	r->count++;
	snprintf(r->topic, sizeof(r->topic), "%s", topic);
	snprintf(r->payload, sizeof(r->payload), "%.*s",
		 (int)(len < 127 ? len : 127), (const char *)payload);
	if (r->probe_fd >= 0) {
		r->probe_n = (int)recv(r->probe_fd, b, sizeof(b), MSG_DONTWAIT);
		r->probe_errno = errno;
	}
	dash = strrchr(r->payload, '-');
	idx = dash ? (int)strtol(dash + 1, NULL, 10) : -1;
	if (idx < 0 || idx >= MAXIDX)
		return SW_MQTT_ACK;
	if (r->seen[idx]++ == 0 && idx == r->retry_idx)
		return SW_MQTT_RETRY;
	return SW_MQTT_ACK;
}

static void on_published(void *arg, int mid, bool ok)
{
	struct rx *r = arg;

	r->acked_mid = mid;
	r->acked_ok = ok;
	r->acked_n++;
}

static int got_puback(void *arg)
{
	return ((struct rx *)arg)->acked_n > 0;
}

static int all_seen(const struct rx *r, int first, int n)
{
	for (int i = first; i < first + n; i++)
		if (r->seen[i] < 1)
			return 0;
	return 1;
}

/* Timeouts below are failure bounds, never expectations: each is
 * multiplied by WAIT_SCALE so that a loaded machine (two suites on two
 * cores, sanitizers) does not reach it; a passing test waits only as long
 * as the state takes. */
#define WAIT_SCALE 10

/* Runs the loop until pred(arg) or timeout (x WAIT_SCALE); returns pred's
 * last value. */
static int run_until(int (*pred)(void *), void *arg, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (pred(arg))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 > (long)timeout_ms * WAIT_SCALE)
			return pred(arg);
		sw_loop_run_once(loop, 20);
	}
}

static int is_connected(void *m) { return sw_mqtt_connected(m); }
static int is_down(void *m) { return !sw_mqtt_connected(m); }

/* A module that has failed to connect at least n times in all. */
struct failing {
	struct sw_mqtt *m;
	unsigned long long n;
};
static int failed_n(void *a)
{
	struct failing *f = a;
	struct sw_mqtt_stats st;

	sw_mqtt_get_stats(f->m, &st);
	return st.connect_failures >= f->n;
}

struct want {
	struct rx *r;
	int first, n;
};
static int got_all(void *a)
{
	struct want *w = a;

	return all_seen(w->r, w->first, w->n);
}
/* Message w->first has come (at least) twice. */
static int seen_twice(void *a)
{
	struct want *w = a;

	return w->r->seen[w->first] >= 2;
}

static void run_ms(int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sw_loop_run_once(loop, 20);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
		 (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/* ---- configuration -------------------------------------------------------- */

/* Loads text as "t.conf", applies [mqtt] and checks; err holds the first
 * message. */
static enum sw_err conf_text(const char *text, struct sw_mqtt_conf *c,
			     char *err, size_t errlen)
{
	struct sw_conf *conf = NULL;
	enum sw_err rc;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	rc = sw_conf_load_string(text, "t.conf", &conf, err, errlen);
	if (rc == SW_OK)
		rc = sw_conf_apply(conf, "mqtt", NULL, sw_mqtt_conf_table, c,
				   err, errlen);
	if (rc == SW_OK)
		rc = sw_mqtt_conf_check(c, err, errlen);
	sw_conf_free(conf);
	return rc;
}

static void test_conf(void)
{
	struct sw_mqtt_conf c;
	char err[512];
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[mqtt]\nport = 70000\n", "t.conf:2: [mqtt] port: '70000' is out of range" },
		{ "[mqtt]\nport = 0\n", "t.conf:2: [mqtt] port:" },
		{ "[mqtt]\n\nqos = 3\n", "t.conf:3: [mqtt] qos:" },
		{ "[mqtt]\nprotocol = v4\n", "t.conf:2: [mqtt] protocol:" },
		{ "[mqtt]\nkeepalive = 1s\n", "t.conf:2: [mqtt] keepalive:" },
		{ "[mqtt]\nkeepalive = 70000s\n", "t.conf:2: [mqtt] keepalive:" },
		{ "[mqtt]\ntls = maybe\n", "t.conf:2: [mqtt] tls:" },
		{ "[mqtt]\nmax_payload = 1G\n", "t.conf:2: [mqtt] max_payload:" },
		{ "[mqtt]\npassword = hunter2\n", "t.conf:2: [mqtt] password:" },
		{ "[mqtt]\nprot = v5\n", "t.conf:2: unknown key 'prot'" },
		{ "[mqtt]\ntls_ca_file =\n", "t.conf:2: [mqtt] tls_ca_file:" },
		{ "[mqtt]\nqos = 2\n", "[mqtt] qos: QoS 2 is not crash-safe" },
		{ "[mqtt]\nshared_group = g1\n", "[mqtt] shared_group: shared subscriptions need protocol = v5: 'g1'" },
		{ "[mqtt]\nprotocol = v5\nshared_group = a/b\n", "[mqtt] shared_group: not a valid group name" },
		{ "[mqtt]\ntopics = warehouse/#/events\n", "[mqtt] topics: not a valid subscription filter: 'warehouse/#/events'" },
		{ "[mqtt]\ntopics = a/b, c/d+\n", "[mqtt] topics: not a valid subscription filter: 'c/d+'" },
		{ "[mqtt]\ntopics = ,\n", "[mqtt] topics: no topic filter" },
		{ "[mqtt]\ntopics = $share/g/a\n", "[mqtt] topics: use shared_group" },
		{ "[mqtt]\nclient_id =\n", "[mqtt] client_id: must be a fixed non-empty" },
		{ "[mqtt]\nhost =\n", "[mqtt] host: empty" },
		{ "[mqtt]\ndeadletter_topic = dl/+\n", "[mqtt] deadletter_topic: not a valid topic" },
		{ "[mqtt]\nreconnect_min = 2m\nreconnect_max = 1m\n", "[mqtt] reconnect_min: must be positive and not above reconnect_max" },
		{ "[mqtt]\nkeepalive = 5500ms\n", "[mqtt] keepalive: must be whole seconds" },
		{ "[mqtt]\ntls_ca_file = /x\n", "[mqtt] tls_ca_file: set, but tls is off" },
		{ "[mqtt]\ntls_insecure = yes\n", "[mqtt] tls_insecure: set, but tls is off" },
		{ "[mqtt]\ntls = yes\ntls_cert_file = /c.pem\n", "[mqtt] tls_key_file: client certificate and key go together" },
		{ "[mqtt]\npassword_env = SW_TEST_MQTT_PW\n", "[mqtt] password: a password needs a username" },
	};
	size_t i;

	ok(sw_conf_table_check(sw_mqtt_conf_table, err, sizeof(err)) == SW_OK,
	   "option table is consistent %s", err);
	is_int(conf_text("", &c, err, sizeof(err)), SW_OK, "defaults pass");
	is_str(c.host, "127.0.0.1", "default host");
	is_int(c.port, 1883, "default port");
	is_str(c.client_id, "slipwatch-collector", "default client id");
	is_str(c.topics, "warehouse/+/events", "default topics");
	is_int(c.qos, 1, "default qos");
	is_int(c.keepalive, 60000, "default keepalive");
	is_int(c.protocol, SW_MQTT_V311, "default protocol");
	ok(!c.tls && !c.tls_insecure, "TLS off, verification on by default");
	is_str(c.deadletter_topic, "slipwatch/deadletter", "default dead-letter topic");
	is_int(c.reconnect_min, 1000, "default reconnect_min");
	is_int(c.reconnect_max, 60000, "default reconnect_max");
	is_int(c.max_payload, 256 * 1024, "default max_payload");
	ok(c.shared_group == NULL && c.username == NULL && !c.password.value,
	   "no group, user or password by default");
	sw_mqtt_conf_free(&c);

	setenv("SW_TEST_MQTT_PW", "s3cret", 1);
	is_int(conf_text("[mqtt]\nprotocol = v5\nshared_group = g1\n"
			 "topics = a/+/b c/#,d\nusername = u\n"
			 "password_env = SW_TEST_MQTT_PW\ntls = yes\n"
			 "tls_insecure = yes\nqos = 0\ndeadletter_topic =\n",
			 &c, err, sizeof(err)),
	       SW_OK, "a full v5 section passes %s", err);
	is_str(c.password.value, "s3cret", "password from the environment");
	sw_mqtt_conf_free(&c);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sw_err rc = conf_text(bad[i].text, &c, err, sizeof(err));

		ok(rc == SW_ECONF && strstr(err, bad[i].want) != NULL,
		   "rejected: %s", bad[i].want);
		if (rc != SW_ECONF || !strstr(err, bad[i].want))
			printf("#   got %d '%s'\n", rc, err);
		ok(strstr(err, "s3cret") == NULL && strstr(err, "hunter2") == NULL,
		   "no secret in the error text");
		sw_mqtt_conf_free(&c);
	}
}

/* sw_mqtt_conf_load of text as "t.conf" (text_only as given); err holds
 * the message. */
static enum sw_err load_text(const char *text, bool text_only, char *err, size_t errlen)
{
	struct sw_mqtt_conf c = { 0 };
	struct sw_conf *conf = NULL;
	enum sw_err rc;

	err[0] = '\0';
	rc = sw_conf_load_string(text, "t.conf", &conf, err, errlen);
	sw_conf_set_text_only(conf, text_only);
	if (rc == SW_OK)
		rc = sw_mqtt_conf_load(conf, &c, err, errlen);
	sw_mqtt_conf_free(&c);
	sw_conf_free(conf);
	return rc;
}

/* The password never crosses the network in clear text; what
 * sw_mqtt_new() would refuse is refused at load time, with the line. */
static void test_conf_load(void)
{
	static const char *const allowed[] = {
		"[mqtt]\nhost = 127.0.0.1\nusername = u\npassword_env = SW_TEST_MQTT_PW\n",
		"[mqtt]\nhost = localhost\nusername = u\npassword_env = SW_TEST_MQTT_PW\n",
		"[mqtt]\nhost = ::1\nusername = u\npassword_env = SW_TEST_MQTT_PW\n",
		"[mqtt]\nhost = broker.example\nusername = u\npassword_env = SW_TEST_MQTT_PW\n"
		"tls = yes\n",
		"[mqtt]\nhost = broker.example\nusername = u\npassword_env = SW_TEST_MQTT_PW\n"
		"allow_plaintext = yes\n",
		"[mqtt]\nhost = broker.example\nusername = u\n",
	};
	char err[512];

	setenv("SW_TEST_MQTT_PW", "s3cret", 1);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		is_int(load_text(allowed[i], false, err, sizeof(err)), SW_OK,
		       "accepted: case %zu (%s)", i, err);
	is_int(load_text("[mqtt]\nhost = broker.example\nusername = u\n"
			 "password_env = SW_TEST_MQTT_PW\n", false, err, sizeof(err)),
	       SW_ECONF, "a password without TLS to another host is refused");
	is_str(err, "t.conf:4: [mqtt] password: tls = no to a non-loopback host would send the "
		    "password in clear text; set tls = yes or allow_plaintext = yes: "
		    "'broker.example'", "...naming the password's line and what to do");
	ok(!strstr(err, "s3cret"), "...without the password");
	unsetenv("SW_TEST_MQTT_UNSET");
	is_int(load_text("[mqtt]\nhost = broker.example\nusername = u\n"
			 "password_env = SW_TEST_MQTT_UNSET\n", true, err, sizeof(err)),
	       SW_ECONF, "text only: the same, though the password is not read");
	is_int(load_text("[mqtt]\ntls = yes\ntls_ca_file = /nonexistent/ca.pem\n", false, err,
			 sizeof(err)), SW_ECONF, "an unreadable CA file is refused at load");
	is_str(err, "t.conf:3: [mqtt] tls_ca_file: cannot read: No such file or directory: "
		    "'/nonexistent/ca.pem'", "...with its line");
	is_int(load_text("[mqtt]\ntls = yes\ntls_ca_file = /nonexistent/ca.pem\n", true, err,
			 sizeof(err)), SW_OK, "text only: the CA file is not opened");
	is_int(load_text("[mqtt]\ntls = yes\ntls_ca_dir = /nonexistent/certs\n", false, err,
			 sizeof(err)), SW_ECONF, "a CA directory that is not one is refused");
	ok(strstr(err, "t.conf:3: [mqtt] tls_ca_dir: not a directory") != NULL, "...%s", err);
	is_int(load_text("[mqtt]\nusername = \xff\n", false, err, sizeof(err)), SW_ECONF,
	       "a username that is not UTF-8 is refused");
	ok(strstr(err, "t.conf:2: [mqtt] username: not UTF-8") != NULL, "...%s", err);
	is_int(load_text("[mqtt]\nqos = 2\n", false, err, sizeof(err)), SW_ECONF,
	       "the other checks run too");
	ok(strncmp(err, "t.conf:2: [mqtt] qos:", 21) == 0, "...with the key's line: %s", err);
}

/* ---- module set-up ------------------------------------------------------------ */

static int test_port;

static struct sw_mqtt *make(const char *extra, struct rx *r, int port)
{
	struct sw_mqtt_callbacks cb = { .on_message = on_message,
					.on_published = on_published };
	struct sw_mqtt_conf c;
	struct sw_mqtt *m = NULL;
	char err[512], *text;
	enum sw_err rc;

	text = xasprintf("[mqtt]\nport = %d\nreconnect_min = 100ms\n"
			 "reconnect_max = 400ms\nkeepalive = 5s\n%s",
			 port, extra);
	rc = conf_text(text, &c, err, sizeof(err));
	if (rc == SW_OK)
		rc = sw_mqtt_new(loop, &c, &cb, r, &m, err, sizeof(err));
	ok(rc == SW_OK, "module created (%s)", err);
	sw_mqtt_conf_free(&c);
	free(text);
	r->probe_fd = -1;
	r->retry_idx = -1;
	return m;
}

/* ---- scripted broker on a raw socket ---------------------------------------- */

static int fb_listen(int *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 4) || getsockname(fd, (struct sockaddr *)&a, &len))
		abort();
	*ret_port = ntohs(a.sin_port);
	return fd;
}

static int accepted = -1;
static int lfd_global = -1;
static int try_accept(void *arg)
{
	(void)arg;
	accepted = accept4(lfd_global, NULL, NULL, SOCK_NONBLOCK);
	return accepted >= 0;
}

/* Reads one whole MQTT packet into buf, running the loop while waiting;
 * returns its length, 0 on EOF, -1 on timeout (5 s x WAIT_SCALE) or error. */
static int fb_read(int fd, unsigned char *buf, size_t cap)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n = recv(fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);
		size_t rl = 0, mult = 1, i = 1;

		if (n == 0)
			return 0;
		if (n < 0 && errno != EAGAIN)
			return -1;
		while (n > 0 && i < (size_t)n) {
			rl += (buf[i] & 127) * mult;
			mult *= 128;
			if (!(buf[i++] & 128))
				break;
		}
		if (n > 0 && !(buf[i - 1] & 128) && i > 1 &&
		    (size_t)n >= i + rl && i + rl <= cap)
			return (int)recv(fd, buf, i + rl, 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    5000L * WAIT_SCALE)
			return -1;
		sw_loop_run_once(loop, 20);
	}
}

static void fb_publish(int fd, const char *topic, int mid, const char *payload)
{
	unsigned char b[256];
	size_t tl = strlen(topic), pl = strlen(payload), n = 0;

	b[n++] = 0x32; /* PUBLISH, QoS 1 */
	b[n++] = (unsigned char)(2 + tl + 2 + pl);
	b[n++] = 0;
	b[n++] = (unsigned char)tl;
	memcpy(b + n, topic, tl);
	n += tl;
	b[n++] = (unsigned char)(mid >> 8);
	b[n++] = (unsigned char)mid;
	memcpy(b + n, payload, pl);
	n += pl;
	if (write(fd, b, n) != (ssize_t)n)
		abort();
}

/* Accepts the module's connection and answers CONNECT and SUBSCRIBE. */
static int fb_session(int lfd, unsigned char *connect, int *ret_clen)
{
	unsigned char b[512];
	unsigned char connack[] = { 0x20, 2, 0, 0 };
	unsigned char suback[] = { 0x90, 3, 0, 0, 1 };
	int n;

	lfd_global = lfd;
	if (!run_until(try_accept, NULL, 3000))
		return -1;
	n = fb_read(accepted, connect, 512);
	*ret_clen = n;
	if (n < 2 || connect[0] != 0x10 || write(accepted, connack, 4) != 4)
		return -1;
	n = fb_read(accepted, b, sizeof(b));
	if (n < 5 || b[0] != 0x82)
		return -1;
	suback[2] = b[2];
	suback[3] = b[3];
	if (write(accepted, suback, 5) != 5)
		return -1;
	return accepted;
}

static void test_puback_order(void)
{
	struct rx r = { 0 };
	struct sw_mqtt *m;
	unsigned char connect[512], b[512];
	int lfd, port, fd, fd2, n, clen;
	struct sw_mqtt_stats st;

	lfd = fb_listen(&port);
	m = make("client_id = t-fake\n", &r, port);
	sw_mqtt_start(m);
	fd = fb_session(lfd, connect, &clen);
	ok(fd >= 0, "scripted broker: CONNECT and SUBSCRIBE seen");
	ok(clen > 10 && (connect[9] & 0x02) == 0,
	   "CONNECT has clean session off");
	ok(run_until(is_connected, m, 2000), "module connected to it");

	r.probe_fd = fd;
	fb_publish(fd, "warehouse/w1/events", 7, "first-1");
	{
		struct want w = { &r, 1, 1 };
		ok(run_until(got_all, &w, 2000), "on_message called");
	}
	is_int(r.probe_n, -1, "nothing on the wire while on_message ran");
	is_int(r.probe_errno, EAGAIN, "... recv said EAGAIN");
	r.probe_fd = -1;
	n = fb_read(fd, b, sizeof(b));
	ok(n == 4 && b[0] == 0x40 && b[1] == 2 && b[2] == 0 && b[3] == 7,
	   "PUBACK for mid 7 after on_message returned");

	/* RETRY: the connection ends without any PUBACK. */
	r.retry_idx = 2;
	r.probe_fd = fd;
	fb_publish(fd, "warehouse/w1/events", 8, "second-2");
	n = fb_read(fd, b, sizeof(b));
	is_int(n, 0, "RETRY: broker side sees EOF, no PUBACK before it");
	is_int(r.probe_n, -1, "nothing on the wire during the RETRY callback");
	sw_mqtt_get_stats(m, &st);
	is_int(st.retries, 1, "retry counted");
	ok(!sw_mqtt_connected(m), "module not connected after RETRY");
	ok(sw_mqtt_reconnect_delay(m) >= 80 && sw_mqtt_reconnect_delay(m) <= 120,
	   "reconnect scheduled after reconnect_min +-20%% (%lld ms)",
	   (long long)sw_mqtt_reconnect_delay(m));
	close(fd);
	r.probe_fd = -1;

	fd2 = fb_session(lfd, connect, &clen);
	ok(fd2 >= 0, "module reconnected and resubscribed by itself");
	ok(run_until(is_connected, m, 2000), "connected again");
	fb_publish(fd2, "warehouse/w1/events", 8, "second-2"); /* redelivery */
	n = fb_read(fd2, b, sizeof(b));
	ok(n == 4 && b[0] == 0x40 && b[3] == 8, "redelivered mid 8 acknowledged");
	is_int(r.seen[2], 2, "message 2 seen twice (RETRY, then ACK)");
	sw_mqtt_free(m);
	n = fb_read(fd2, b, sizeof(b));
	ok(n == 2 && b[0] == 0xe0, "DISCONNECT sent on free");
	close(fd2);
	close(lfd);
}

/* The control: libmosquitto on its own (not threaded) writes the PUBACK
 * before it calls on_message. */
static int ctl_fd = -1, ctl_probe = -2;
static void ctl_on_message(struct mosquitto *mosq, void *obj,
			   const struct mosquitto_message *msg)
{
	unsigned char b[16];

	(void)mosq;
	(void)obj;
	(void)msg;
	ctl_probe = (int)recv(ctl_fd, b, sizeof(b), MSG_DONTWAIT);
	if (ctl_probe == 4 && b[0] != 0x40)
		ctl_probe = -3;
}

static void test_control(void)
{
	struct mosquitto *c = mosquitto_new("t-ctl", true, NULL);
	unsigned char b[512], connack[] = { 0x20, 2, 0, 0 };
	int lfd, port, i;

	lfd = fb_listen(&port);
	mosquitto_message_callback_set(c, ctl_on_message);
	ok(mosquitto_connect(c, "127.0.0.1", port, 30) == MOSQ_ERR_SUCCESS,
	   "control client connected (blocking)");
	lfd_global = lfd;
	run_until(try_accept, NULL, 2000);
	ctl_fd = accepted;
	ok(fb_read(ctl_fd, b, sizeof(b)) > 0 && b[0] == 0x10, "control CONNECT");
	if (write(ctl_fd, connack, 4) != 4)
		abort();
	mosquitto_loop(c, 100, 1);
	fb_publish(ctl_fd, "warehouse/w1/events", 9, "ctl-9");
	for (i = 0; i < 20 * WAIT_SCALE && ctl_probe == -2; i++)
		mosquitto_loop(c, 100, 1); /* returns when the PUBLISH is read */
	is_int(ctl_probe, 4, "control: plain libmosquitto %s sent the PUBACK "
	       "before on_message (the test can see it)", "2.0");
	mosquitto_destroy(c);
	close(ctl_fd);
	close(lfd);
}

/* ---- real broker ------------------------------------------------------------ */

static pid_t broker_pid;
static char broker_dir[] = "/tmp/sw_test_mqtt_XXXXXX";
static char *broker_conf;

static void broker_kill(void)
{
	if (broker_pid > 0) {
		kill(broker_pid, SIGKILL);
		waitpid(broker_pid, NULL, 0);
		broker_pid = 0;
	}
}

static int port_open(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	(void)arg;
	a.sin_port = htons((uint16_t)test_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return rc;
}

static int free_port(void)
{
	int port, fd = fb_listen(&port);

	close(fd);
	return port;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = xcalloc(1, 65536);

	if (!f || fread(s, 1, 65535, f) == 0) {
		free(s);
		s = NULL;
	}
	if (f)
		fclose(f);
	return s;
}

static int write_broker_conf(void)
{
	const char *src = getenv("SW_SRCDIR");
	char *path = xasprintf("%s/etc/mosquitto-slipwatch.conf",
			       src && *src ? src : ".");
	char *snippet = read_file(path);
	FILE *f;

	free(path);
	if (!snippet || !mkdtemp(broker_dir))
		return -1;
	broker_conf = xasprintf("%s/mosquitto.conf", broker_dir);
	f = fopen(broker_conf, "w");
	if (!f)
		return -1;
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n"
		   "persistence_location %s/\nlog_dest file %s/broker.log\n%s"
		   "%s", test_port, broker_dir, broker_dir,
		geteuid() == 0 ? "user root\n" : "", snippet);
	fclose(f);
	free(snippet);
	return 0;
}

static int broker_start(void)
{
	const char *bin = getenv("SW_MOSQUITTO");

	bin = bin && *bin ? bin : "/usr/sbin/mosquitto";
	broker_pid = fork();
	if (broker_pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(bin, "mosquitto", "-c", broker_conf, (char *)NULL);
		_exit(127);
	}
	return run_until(port_open, NULL, 5000) ? 0 : -1;
}

/* SIGTERM: the broker saves its database and exits. */
static void broker_stop(void)
{
	if (broker_pid > 0) {
		kill(broker_pid, SIGTERM);
		waitpid(broker_pid, NULL, 0);
		broker_pid = 0;
	}
}

/* Removes the temp dir and whatever the broker left in it. */
static void broker_cleanup(void)
{
	DIR *d = opendir(broker_dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", broker_dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(broker_dir);
	free(broker_conf);
}

static int acked;
static void pub_on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	(void)mosq;
	(void)obj;
	(void)mid;
	acked++;
}

/* Publishes "tag-i" for i in first..first+n-1 at QoS 1 to topic and waits
 * for the broker's PUBACKs. */
static void publish(const char *topic, const char *tag, int first, int n)
{
	struct mosquitto *p = mosquitto_new(NULL, true, NULL);
	char payload[64];
	int i, rc;

	acked = 0;
	mosquitto_publish_callback_set(p, pub_on_publish);
	mosquitto_max_inflight_messages_set(p, 0);
	rc = mosquitto_connect(p, "127.0.0.1", test_port, 30);
	for (i = first; rc == MOSQ_ERR_SUCCESS && i < first + n; i++) {
		snprintf(payload, sizeof(payload), "%s-%d", tag, i);
		rc = mosquitto_publish(p, NULL, topic, (int)strlen(payload),
				       payload, 1, false);
	}
	for (i = 0; rc == MOSQ_ERR_SUCCESS && acked < n && i < 20000; i++)
		mosquitto_loop(p, 10, 100);
	ok(acked == n, "publisher: %d of %d %s messages acknowledged", acked,
	   n, tag);
	mosquitto_disconnect(p);
	mosquitto_loop(p, 20, 1);
	mosquitto_destroy(p);
}

static void test_broker(void)
{
	struct rx r = { 0 }, dl = { 0 }, v5 = { 0 }, sh = { 0 };
	struct sw_mqtt *m, *mdl, *m5, *msh;
	struct sw_mqtt_stats st;
	struct want w = { &r, 0, 5 };
	size_t mark;
	int lines, dl_mid = 0;

	/* delivery through the loop */
	m = make("client_id = t-main\n", &r, test_port);
	mark = nlogs;
	is_int(sw_mqtt_start(m), SW_OK, "started");
	is_int(sw_mqtt_start(m), SW_EDUP, "second start is SW_EDUP");
	ok(run_until(is_connected, m, 3000), "connected to the broker");
	lines = count_logs(mark, "collector notice: mqtt 127.0.0.1:");
	ok(lines == 1 && count_logs(mark, ": connected, subscribed to "
				    "warehouse/+/events (qos 1)") == 1,
	   "one notice: connected, subscribed to warehouse/+/events (qos 1)");
	publish("warehouse/w1/events", "a", 0, 5);
	ok(run_until(got_all, &w, 3000), "all 5 messages received");
	is_str(r.topic, "warehouse/w1/events", "topic handed over");
	is_str(r.payload, "a-4", "payload handed over");

	/* dead letters */
	mdl = make("client_id = t-dl\ntopics = slipwatch/deadletter\n", &dl,
		   test_port);
	sw_mqtt_start(mdl);
	ok(run_until(is_connected, mdl, 3000), "dead-letter watcher connected");
	is_str(sw_mqtt_deadletter_topic(m), "slipwatch/deadletter",
	       "dead-letter topic from the configuration");
	is_int(sw_mqtt_publish(m, "slipwatch/deadletter", "dl-7", 4, 1, &dl_mid), SW_OK,
	       "dead letter published");
	is_int(sw_mqtt_publish(m, "slipwatch/+", "x", 1, 1, NULL), SW_EINVAL,
	       "wildcard topic refused");
	is_int(sw_mqtt_publish(m, "a", "x", 1, 3, NULL), SW_EINVAL, "qos 3 refused");
	is_int(sw_mqtt_publish(m, "a", NULL, (size_t)300 << 20, 1, NULL), SW_EINVAL,
	       "NULL payload with a length refused");
	w = (struct want){ &dl, 7, 1 };
	ok(run_until(got_all, &w, 3000), "dead letter arrived");
	is_str(dl.topic, "slipwatch/deadletter", "on the dead-letter topic");
	ok(run_until(got_puback, &r, 3000), "on_published called");
	ok(dl_mid > 0 && r.acked_mid == dl_mid && r.acked_ok && r.acked_n == 1,
	   "  once, with the mid sw_mqtt_publish returned (%d, %d)", dl_mid, r.acked_mid);

	/* offline persistence: stop, publish, start */
	is_int(sw_mqtt_stop(m), SW_OK, "stopped (DISCONNECT flushed)");
	ok(!sw_mqtt_connected(m) && sw_mqtt_get_state(m) == SW_MQTT_STOPPED,
	   "state is %s", sw_mqtt_state_name(sw_mqtt_get_state(m)));
	is_int(sw_mqtt_publish(m, "slipwatch/deadletter", "x", 1, 1, NULL), SW_EAGAIN,
	       "publish while stopped is SW_EAGAIN");
	publish("warehouse/w2/events", "b", 1000, 2000);
	run_ms(200);
	is_int(r.count, 5, "nothing received while stopped");
	sw_mqtt_start(m);
	w = (struct want){ &r, 1000, 2000 };
	ok(run_until(got_all, &w, 10000), "all 2000 messages published while "
	   "stopped arrived after start");

	/* RETRY: redelivered after reconnect */
	sw_mqtt_get_stats(m, &st);
	r.retry_idx = 302;
	mark = nlogs;
	publish("warehouse/w3/events", "c", 300, 5);
	w = (struct want){ &r, 300, 5 };
	ok(run_until(got_all, &w, 3000), "retry batch received");
	ok(run_until(is_connected, m, 3000), "reconnected after the RETRY");
	w = (struct want){ &r, 302, 1 };
	run_until(seen_twice, &w, 3000);
	is_int(r.seen[302], 2, "message answered RETRY came again");
	{
		struct sw_mqtt_stats st2;

		sw_mqtt_get_stats(m, &st2);
		is_int(st2.retries - st.retries, 1, "one retry counted");
		is_int(st2.connects - st.connects, 1, "one reconnect for it");
	}
	is_int(count_logs(mark, "message on warehouse/w3/events not stored: "
			  "dropping the connection"), 1, "RETRY logged once");

	/* broker restart mid-stream */
	sw_mqtt_get_stats(m, &st);
	publish("warehouse/w4/events", "d", 400, 10);
	w = (struct want){ &r, 400, 10 };
	ok(run_until(got_all, &w, 3000), "first half received");
	mark = nlogs;
	broker_stop();
	ok(run_until(is_down, m, 3000), "broker gone: module noticed");
	{
		struct failing f = { m, 3 }; /* attempts at 100..400 ms */

		run_until(failed_n, &f, 3000);
	}
	sw_mqtt_get_stats(m, &st);
	ok(st.connect_failures >= 3, "kept retrying (%llu failed attempts)",
	   (unsigned long long)st.connect_failures);
	is_int(count_logs(mark, "collector warning: mqtt 127.0.0.1:"), 2,
	       "loss logged once per module (2 modules), not per attempt");
	ok(count_logs(mark, "connection lost: ") == 2 &&
	   count_logs(mark, ", retry in 0.") == 2,
	   "log says 'connection lost: ..., retry in 0.N s'");
	ok(broker_start() == 0, "broker restarted on the same port");
	ok(run_until(is_connected, m, 3000), "module reconnected by itself");
	ok(count_logs(mark, "connected, subscribed to warehouse/+/events "
		      "(qos 1)") == 1, "recovery logged once");
	publish("warehouse/w4/events", "d", 410, 10);
	w = (struct want){ &r, 410, 10 };
	ok(run_until(got_all, &w, 3000), "second half received after restart "
	   "(resubscribed, session kept)");
	ok(run_until(is_connected, mdl, 3000), "dead-letter watcher back too");

	/* MQTT v5: session expiry (offline persistence) and shared groups */
	m5 = make("client_id = t-v5\nprotocol = v5\ntopics = v5/+/events\n",
		  &v5, test_port);
	sw_mqtt_start(m5);
	ok(run_until(is_connected, m5, 3000), "v5 client connected");
	is_int(sw_mqtt_stop(m5), SW_OK, "v5 client stopped");
	publish("v5/w1/events", "e", 500, 20);
	sw_mqtt_start(m5);
	w = (struct want){ &v5, 500, 20 };
	ok(run_until(got_all, &w, 3000), "v5: messages published while "
	   "stopped arrived (Session Expiry Interval sent)");
	msh = make("client_id = t-sh\nprotocol = v5\nshared_group = g1\n"
		   "topics = shared/+/events\n", &sh, test_port);
	mark = nlogs;
	sw_mqtt_start(msh);
	ok(run_until(is_connected, msh, 3000), "v5 shared client connected");
	is_int(count_logs(mark, "subscribed to $share/g1/shared/+/events"), 1,
	       "subscribed as $share/g1/shared/+/events");
	publish("shared/w1/events", "f", 600, 10);
	w = (struct want){ &sh, 600, 10 };
	ok(run_until(got_all, &w, 3000), "shared subscription delivers");

	/* TLS is really on: a TLS client never gets through to a plain
	 * listener (system CA store, verification on) */
	{
		struct rx t = { 0 };
		struct sw_mqtt *mt = make("client_id = t-tls\ntls = yes\n", &t,
					  test_port);
		struct sw_mqtt_stats ts;
		struct failing f = { mt, 1 };

		sw_mqtt_start(mt);
		run_until(failed_n, &f, 3000);
		sw_mqtt_get_stats(mt, &ts);
		ok(!sw_mqtt_connected(mt) && ts.connect_failures >= 1 &&
		   ts.connects == 0, "tls = yes against a plain listener: "
		   "%llu failed attempts, no connection",
		   (unsigned long long)ts.connect_failures);
		sw_mqtt_free(mt);
	}

	sw_mqtt_get_stats(m, &st);
	ok(st.connects >= 4 && st.received >= 2030 && st.published == 1 &&
	   st.publish_acked == 1 && st.publish_refused == 0,
	   "counters: %llu connects, %llu received, %llu published, %llu acknowledged",
	   (unsigned long long)st.connects, (unsigned long long)st.received,
	   (unsigned long long)st.published, (unsigned long long)st.publish_acked);
	sw_mqtt_free(msh);
	sw_mqtt_free(m5);
	sw_mqtt_free(mdl);
	sw_mqtt_free(m);
}

int main(void)
{
	struct sw_mqtt_conf c;
	struct sw_mqtt_callbacks cb = { .on_message = on_message };
	struct sw_mqtt *m = NULL;
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	sw_log_init("collector", SW_LOG_INFO, SW_LOG_DEST_STDERR);
	sw_log_set_sink(sink, NULL);
	if (sw_loop_new(&loop))
		return 1;
	test_conf();
	test_conf_load();

	conf_text("", &c, err, sizeof(err));
	is_int(sw_mqtt_new(loop, &c, &cb, NULL, &m, err, sizeof(err)), SW_EINVAL,
	       "sw_mqtt_new before sw_mqtt_lib_init is SW_EINVAL");
	is_int(sw_mqtt_lib_init(), SW_OK, "library initialised");
	cb.on_message = NULL;
	is_int(sw_mqtt_new(loop, &c, &cb, NULL, &m, err, sizeof(err)), SW_EINVAL,
	       "on_message is required");
	sw_mqtt_conf_free(&c);
	conf_text("[mqtt]\ntls = yes\ntls_ca_file = /nonexistent/ca.pem\n", &c,
		  err, sizeof(err));
	cb.on_message = on_message;
	ok(sw_mqtt_new(loop, &c, &cb, NULL, &m, err, sizeof(err)) == SW_ECONF &&
	   strstr(err, "/nonexistent/ca.pem"), "unreadable CA file: %s", err);
	sw_mqtt_conf_free(&c);

	test_control();
	test_puback_order();

	test_port = free_port();
	atexit(broker_kill);
	if (write_broker_conf() || broker_start()) {
		ok(0, "cannot start the broker (%s)", getenv("SW_MOSQUITTO") ?
		   getenv("SW_MOSQUITTO") : "/usr/sbin/mosquitto");
	} else {
		test_broker();
	}
	broker_kill();
	broker_cleanup();

	sw_mqtt_lib_fini();
	sw_loop_free(loop);
	sw_log_set_sink(NULL, NULL);
	sw_log_fini();
	for (size_t i = 0; i < nlogs; i++)
		free(logs[i]);
	free(logs);
	return tap_done();
}
