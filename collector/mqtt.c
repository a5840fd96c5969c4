/*
 * mqtt.c - the collector's MQTT client on the daemon's event loop.
 *
 * Driving libmosquitto without its thread (style.md, "One event loop per
 * daemon"): the socket from mosquitto_socket() is watched for READ always
 * and for WRITE only while mosquitto_want_write(); READ runs
 * mosquitto_loop_read() (a bounded burst), then any queued output is
 * written with mosquitto_loop_write(); a 1 s timer runs mosquitto_loop_misc()
 * (keepalive PINGREQ, keepalive timeout).  Connecting is
 * mosquitto_connect_bind_async() the first time and mosquitto_reconnect_async()
 * later, always from a loop timer, never from a library callback.  After
 * any loss the fd leaves the loop, the loss is logged once through
 * sw_log_complain() and the next attempt waits reconnect_min, doubling up
 * to reconnect_max, +-20% jitter; the delay starts again from reconnect_min
 * after a connection that stayed up SW_MQTT_STABLE_MS (so a connection
 * that flaps, e.g. two collectors sharing one client id, still backs
 * off).  Name resolution (getaddrinfo inside libmosquitto) blocks: use an
 * address or a local resolver.
 *
 * Durability (design.md, "No event the broker handed over is lost").
 * libmosquitto 2.0.11 queues the QoS 1 PUBACK *before* it calls on_message
 * (handle__publish: send__puback() then the callback; eclipse/mosquitto
 * #2884, #118), and when the client is not in threaded mode packet__queue()
 * writes it to the socket at once; a crash inside on_message would then
 * lose an event the broker considers delivered.  So we call
 * mosquitto_threaded_set(mosq, true): we still drive the socket ourselves,
 * but packet__queue() now only queues (and pokes an internal socketpair
 * nobody reads; it is non-blocking, the pokes just stop once it is full),
 * and the PUBACK leaves when fd_ready() calls mosquitto_loop_write() after
 * loop_read, i.e. after on_message has returned and the store has
 * committed.  tests/unit/test_mqtt.c checks this against a scripted
 * broker on a raw socket: nothing is readable on the broker side while
 * on_message runs, the PUBACK is after it returns; and as a control that
 * a plain libmosquitto client does send it before the callback.
 *
 * SW_MQTT_RETRY (the store failed): the PUBACK already queued must never
 * leave.  on_message_cb() at once calls shutdown(SHUT_RDWR) on the socket,
 * before any further loop_write, skips every later message of the same
 * read burst (their PUBACKs are queued too and die with the socket), and
 * drop() schedules a reconnect after backoff.  mosquitto_reconnect_async()
 * discards the queued packets and closes the old socket; the broker, which
 * never saw the PUBACK, redelivers the message (and every other
 * unacknowledged one) to the persistent session.  Earlier messages of the
 * burst whose PUBACK had not been written yet come again too: duplicates,
 * which the ingest layer ignores by event_id.
 *
 * QoS 2 is refused by sw_mqtt_conf_check(): libmosquitto 2.0.11 sends
 * PUBREC on receipt, keeps the message in memory and calls on_message only
 * on PUBREL, after removing it; a crash, or a RETRY, between PUBREC and
 * the callback loses it for good (the broker only resends PUBREL).
 * Subscribing at QoS 1 downgrades QoS 2 publications to QoS 1.  QoS 0
 * subscriptions are accepted but at most once: not queued while we are
 * away, not redelivered, a RETRY loses the message (counted, logged).
 *
 * Persistent session: mosquitto_new(client_id, clean_session = false).  For
 * MQTT v5 clean_start = false is not enough, the broker ends the session
 * at disconnect unless CONNECT carries a Session Expiry Interval; 2.0.11
 * stores CONNECT properties only in the blocking mosquitto_connect_bind_v5()
 * (it copies them before validating the port), so set_v5_properties()
 * calls it with port -1, which stores them and fails before connecting;
 * the async connects then send them (checked by the v5 offline test).
 *
 * Publishing (the dead letters of collector/dlq.c) goes through
 * libmosquitto's queue, which lives in memory: a QoS 1 message in flight
 * survives a reconnect on the same handle (2.0.11 message__reconnect_reset,
 * sent again with DUP after the CONNACK) but not sw_mqtt_free() or the
 * process.  So the caller keeps its own durable copy until
 * on_publish_cb() reports the broker's PUBACK for that mid through
 * cb.on_published (with MQTT v5 a reason code >= 0x80 means refused).
 *
 * mosquitto_lib_init()/cleanup(): sw_mqtt_lib_init()/fini(), from the
 * collector's main() around everything else (OpenSSL set-up).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "collector/mqtt.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/xmalloc.h"

#define SW_MQTT_MISC_MS 1000          /* loop_misc period */
#define SW_MQTT_STABLE_MS 10000       /* up this long: backoff restarts */
#define SW_MQTT_CONNECT_TIMEOUT_MS 30000 /* TCP + CONNACK, at most keepalive */
#define SW_MQTT_STOP_FLUSH_MS 2000    /* sw_mqtt_stop() flush bound */
#define SW_MQTT_READ_BURST 1024         /* packets per READ wake-up */
#define SW_MQTT_PAYLOAD_MAX 268435455 /* MQTT remaining-length limit */
#define SW_MQTT_SYSTEM_CA_DIR "/etc/ssl/certs"

enum drop_reason {
	DROP_NONE,
	DROP_RETRY, /* on_message said RETRY: socket already shut down */
	DROP_ERROR, /* a callback failed (subscribe): m->why says why */
};

struct sw_mqtt {
	struct sw_loop *loop;
	struct mosquitto *mosq;
	struct sw_mqtt_callbacks cb;
	void *arg;

	char *host;                   /* copied configuration */
	int port, keepalive_s, protocol, qos;
	char **filters;               /* as subscribed ($share/... with v5) */
	int nfilters;
	char *filters_text;           /* "a, b" for log lines */
	char *deadletter;             /* NULL: disabled */
	int64_t reconnect_min, reconnect_max;
	char target[SW_LOG_TARGET_MAX]; /* "mqtt HOST:PORT" */

	enum sw_mqtt_state state;
	int fd;                       /* watched by the loop, or -1 */
	uint64_t misc_timer, connect_timer; /* 0: not armed */
	int64_t backoff_ms;           /* base of the next delay */
	int64_t next_delay_ms;        /* scheduled delay, -1: none */
	int64_t attempt_ms;           /* current attempt started */
	int64_t up_ms;                /* current connection accepted */
	bool lib_has_host;            /* connect_async succeeded once */
	bool subscribed;              /* SUBACK seen on this connection */
	bool ever_subscribed;
	bool complaining;             /* conn_c has an unreleased complaint */
	bool in_message;              /* inside cb.on_message */
	bool plain;                   /* v3.1.1 without TLS: bytes are packets */
	size_t read_bytes;            /* the last loop_read's PUBLISH, 0: unknown */
	enum drop_reason pending_drop;
	char why[192];                /* reason set by a library callback */
	char retry_topic[128];        /* topic of the message that failed */
	uint64_t rng;                 /* xorshift64 state for jitter */
	struct sw_log_complain conn_c, retry_c, qos0_c;
	struct sw_mqtt_stats stats;
};

static int lib_refs;

/* ---- configuration ---------------------------------------------------- */

static const char *const protocol_words[] = { "v311", "v5", NULL };

#define C(f) offsetof(struct sw_mqtt_conf, f)
const struct sw_conf_opt sw_mqtt_conf_table[] = {
	{ .name = "host", .type = SW_CONF_STRING, .offset = C(host),
	  .def = "127.0.0.1", .help = "broker host name or address" },
	{ .name = "port", .type = SW_CONF_INT, .offset = C(port), .min = 1,
	  .max = 65535, .def = "1883", .help = "broker port" },
	{ .name = "client_id", .type = SW_CONF_STRING, .offset = C(client_id),
	  .def = "slipwatch-collector",
	  .help = "fixed client id: the broker keeps the session under it" },
	{ .name = "topics", .type = SW_CONF_STRING, .offset = C(topics),
	  .def = "warehouse/+/events",
	  .help = "subscription filters, blank- or comma-separated" },
	{ .name = "qos", .type = SW_CONF_INT, .offset = C(qos), .min = 0,
	  .max = 2, .def = "1", .help = "subscription QoS (1; 2 is refused)" },
	{ .name = "keepalive", .type = SW_CONF_DURATION, .offset = C(keepalive),
	  .min = 5000, .max = INT64_C(65535000), .def = "60s",
	  .help = "MQTT keepalive, whole seconds" },
	{ .name = "protocol", .type = SW_CONF_ENUM, .offset = C(protocol),
	  .words = protocol_words, .def = "v311", .help = "v311 or v5" },
	{ .name = "shared_group", .type = SW_CONF_STRING,
	  .offset = C(shared_group),
	  .help = "v5 shared subscription group: $share/GROUP/FILTER" },
	{ .name = "username", .type = SW_CONF_STRING, .offset = C(username),
	  .help = "broker user name" },
	{ .name = "password", .type = SW_CONF_SECRET, .offset = C(password),
	  .help = "broker password (password_file or password_env)" },
	{ .name = "tls", .type = SW_CONF_BOOL, .offset = C(tls), .def = "no",
	  .help = "TLS to the broker, certificate verified" },
	{ .name = "allow_plaintext", .type = SW_CONF_BOOL,
	  .offset = C(allow_plaintext), .def = "no",
	  .help = "allow the password without TLS to a host that is not loopback" },
	{ .name = "tls_ca_file", .type = SW_CONF_PATH, .offset = C(tls_ca_file),
	  .help = "CA bundle (default: system store)" },
	{ .name = "tls_ca_dir", .type = SW_CONF_PATH, .offset = C(tls_ca_dir),
	  .help = "CA directory (c_rehash)" },
	{ .name = "tls_cert_file", .type = SW_CONF_PATH,
	  .offset = C(tls_cert_file), .help = "client certificate" },
	{ .name = "tls_key_file", .type = SW_CONF_PATH, .offset = C(tls_key_file),
	  .help = "client private key" },
	{ .name = "tls_insecure", .type = SW_CONF_BOOL, .offset = C(tls_insecure),
	  .def = "no",
	  .help = "DANGEROUS: accept a certificate for another host name" },
	{ .name = "deadletter_topic", .type = SW_CONF_STRING,
	  .offset = C(deadletter_topic), .def = "slipwatch/deadletter",
	  .help = "topic for rejected messages; empty: none" },
	{ .name = "reconnect_min", .type = SW_CONF_DURATION,
	  .offset = C(reconnect_min), .min = 100, .max = 600000, .def = "1s",
	  .help = "first reconnect delay" },
	{ .name = "reconnect_max", .type = SW_CONF_DURATION,
	  .offset = C(reconnect_max), .min = 100, .max = 3600000, .def = "60s",
	  .help = "longest reconnect delay" },
	{ .name = "max_payload", .type = SW_CONF_SIZE, .offset = C(max_payload),
	  .min = 1, .max = SW_MQTT_PAYLOAD_MAX, .def = "256k",
	  .help = "largest event accepted (larger: dead-lettered)" },
	{ .name = NULL },
};
#undef C

static enum sw_err conf_err(char *errbuf, size_t errlen, const char *key,
			    const char *what, const char *bad)
{
	if (errlen > 0)
		snprintf(errbuf, errlen, "[mqtt] %s: %s: '%s'", key, what,
			 bad ? bad : "");
	return SW_ECONF;
}

static bool utf8_ok(const char *s)
{
	size_t len = strlen(s);

	return len <= 65535 && mosquitto_validate_utf8(s, (int)len) ==
					MOSQ_ERR_SUCCESS;
}

/* Splits text on blanks and commas into a new array of new strings. */
static int split_topics(const char *text, char ***ret_list)
{
	const char *p = text ? text : "";
	char **list = NULL;
	int n = 0;
	size_t len;

	for (;;) {
		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == 0)
			break;
		list = xreallocarray(list, (size_t)n + 1, sizeof(*list));
		list[n++] = xstrndup(p, len);
		p += len;
	}
	*ret_list = list;
	return n;
}

static void free_list(char **list, int n)
{
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static enum sw_err check_filters(const char *topics, char *errbuf,
				 size_t errlen)
{
	char **list;
	int n = split_topics(topics, &list), i;
	enum sw_err rc = SW_OK;

	if (n == 0)
		rc = conf_err(errbuf, errlen, "topics", "no topic filter", topics);
	else if (n > SW_MQTT_MAX_TOPICS)
		rc = conf_err(errbuf, errlen, "topics",
			      "too many filters (max 64)", topics);
	for (i = 0; i < n && rc == SW_OK; i++) {
		if (!utf8_ok(list[i]) ||
		    mosquitto_sub_topic_check(list[i]) != MOSQ_ERR_SUCCESS)
			rc = conf_err(errbuf, errlen, "topics",
				      "not a valid subscription filter", list[i]);
		else if (strncmp(list[i], "$share/", 7) == 0)
			rc = conf_err(errbuf, errlen, "topics",
				      "use shared_group for shared subscriptions",
				      list[i]);
	}
	free_list(list, n);
	return rc;
}

static enum sw_err check_tls(const struct sw_mqtt_conf *c, char *errbuf,
			     size_t errlen)
{
	const char *set = c->tls_ca_file ? "tls_ca_file" :
			  c->tls_ca_dir ? "tls_ca_dir" :
			  c->tls_cert_file ? "tls_cert_file" :
			  c->tls_key_file ? "tls_key_file" :
			  c->tls_insecure ? "tls_insecure" : NULL;

	if (!c->tls && set)
		return conf_err(errbuf, errlen, set, "set, but tls is off",
				"tls = no");
	if (!c->tls_cert_file != !c->tls_key_file)
		return conf_err(errbuf, errlen,
				c->tls_cert_file ? "tls_key_file" : "tls_cert_file",
				"client certificate and key go together",
				c->tls_cert_file ? c->tls_cert_file : c->tls_key_file);
	return SW_OK;
}

/* Rules on identities, subscription and topics. */
static enum sw_err check_names(const struct sw_mqtt_conf *c, char *errbuf,
			       size_t errlen)
{
	const char *g = c->shared_group;

	if (!c->host || !*c->host)
		return conf_err(errbuf, errlen, "host", "empty", c->host);
	if (!c->client_id || !*c->client_id || !utf8_ok(c->client_id))
		return conf_err(errbuf, errlen, "client_id",
				"must be a fixed non-empty UTF-8 id", c->client_id);
	if (c->username && !utf8_ok(c->username))
		return conf_err(errbuf, errlen, "username",
				"not UTF-8 of at most 65535 bytes", c->username);
	if (g && c->protocol != SW_MQTT_V5)
		return conf_err(errbuf, errlen, "shared_group",
				"shared subscriptions need protocol = v5", g);
	if (g && (!*g || strpbrk(g, "/+#") || !utf8_ok(g)))
		return conf_err(errbuf, errlen, "shared_group",
				"not a valid group name (no / + #)", g);
	if (c->qos == 2)
		return conf_err(errbuf, errlen, "qos",
				"QoS 2 is not crash-safe with libmosquitto "
				"(message held in memory between PUBREC and "
				"PUBREL); use 1", "2");
	if (c->qos < 0 || c->qos > 2)
		return conf_err(errbuf, errlen, "qos", "out of range (0..1)",
				NULL);
	if (c->deadletter_topic && *c->deadletter_topic &&
	    (!utf8_ok(c->deadletter_topic) ||
	     mosquitto_pub_topic_check(c->deadletter_topic) != MOSQ_ERR_SUCCESS))
		return conf_err(errbuf, errlen, "deadletter_topic",
				"not a valid topic (no wildcards)",
				c->deadletter_topic);
	return check_filters(c->topics, errbuf, errlen);
}

enum sw_err sw_mqtt_conf_check(const struct sw_mqtt_conf *c, char *errbuf,
			       size_t errlen)
{
	char num[32];
	enum sw_err rc;

	rc = check_names(c, errbuf, errlen);
	if (rc)
		return rc;
	if (c->password.value && !c->username)
		return conf_err(errbuf, errlen, "password",
				"a password needs a username",
				c->password.source);
	if (c->password.value && !c->tls && !c->allow_plaintext &&
	    !sw_host_is_loopback(c->host))
		return conf_err(errbuf, errlen, "password",
				"tls = no to a non-loopback host would send the "
				"password in clear text; set tls = yes or "
				"allow_plaintext = yes", c->host);
	if (c->port < 1 || c->port > 65535) {
		snprintf(num, sizeof(num), "%" PRId64, c->port);
		return conf_err(errbuf, errlen, "port", "out of range", num);
	}
	if (c->keepalive % 1000 || c->keepalive < 5000 ||
	    c->keepalive > INT64_C(65535000)) {
		snprintf(num, sizeof(num), "%" PRId64 "ms", c->keepalive);
		return conf_err(errbuf, errlen, "keepalive",
				"must be whole seconds, 5s..65535s", num);
	}
	if (c->reconnect_min <= 0 || c->reconnect_min > c->reconnect_max) {
		snprintf(num, sizeof(num), "%" PRId64 "ms", c->reconnect_min);
		return conf_err(errbuf, errlen, "reconnect_min",
				"must be positive and not above reconnect_max",
				num);
	}
	return check_tls(c, errbuf, errlen);
}

/* What mosquitto_tls_set() opens (CA bundle, certificate, key) must be
 * readable, and a CA directory a directory. */
static enum sw_err check_tls_files(const struct sw_mqtt_conf *c, char *errbuf,
				   size_t errlen)
{
	const char *key[] = { "tls_ca_file", "tls_cert_file", "tls_key_file" };
	const char *path[] = { c->tls_ca_file, c->tls_cert_file, c->tls_key_file };
	char why[160];
	struct stat st;
	int fd;

	for (size_t i = 0; c->tls && i < sizeof(key) / sizeof(key[0]); i++) {
		if (!path[i])
			continue;
		fd = open(path[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			snprintf(why, sizeof(why), "cannot read: %s", strerror(errno));
			return conf_err(errbuf, errlen, key[i], why, path[i]);
		}
		close(fd);
	}
	if (c->tls && c->tls_ca_dir &&
	    (stat(c->tls_ca_dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		snprintf(why, sizeof(why), "not a directory%s%s",
			 errno ? ": " : "", errno ? strerror(errno) : "");
		return conf_err(errbuf, errlen, "tls_ca_dir", why, c->tls_ca_dir);
	}
	return SW_OK;
}

enum sw_err sw_mqtt_conf_load(struct sw_conf *file, struct sw_mqtt_conf *conf,
			      char *errbuf, size_t errlen)
{
	enum sw_err rc;

	rc = sw_conf_apply(file, "mqtt", NULL, sw_mqtt_conf_table, conf, errbuf,
			   errlen);
	if (rc)
		return rc;
	rc = sw_mqtt_conf_check(conf, errbuf, errlen);
	if (rc == SW_OK && !sw_conf_text_only(file)) {
		errno = 0;
		rc = check_tls_files(conf, errbuf, errlen);
	}
	if (rc) {
		sw_conf_locate(file, errbuf, errlen);
		sw_mqtt_conf_free(conf);
	}
	return rc;
}

void sw_mqtt_conf_free(struct sw_mqtt_conf *conf)
{
	sw_conf_free_struct(sw_mqtt_conf_table, conf);
}

/* ---- small helpers ------------------------------------------------------- */

/* Text for a libmosquitto error code, errno-based ones included, without
 * the library's trailing full stop. */
static const char *mosq_text(int rc, int saved_errno, char *buf, size_t len)
{
	size_t n;

	if (rc == MOSQ_ERR_ERRNO)
		snprintf(buf, len, "%s", strerror(saved_errno));
	else
		snprintf(buf, len, "%s", mosquitto_strerror(rc));
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return buf;
}

static uint64_t next_rand(struct sw_mqtt *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

/* The next reconnect delay: backoff_ms +-20%; doubles backoff_ms. */
static int64_t take_delay(struct sw_mqtt *m)
{
	int64_t base = m->backoff_ms, spread = base * 2 / 5, d;

	d = base - base / 5 + (spread > 0 ? (int64_t)(next_rand(m) %
						      (uint64_t)(spread + 1)) : 0);
	m->backoff_ms = base > m->reconnect_max / 2 ? m->reconnect_max
						     : base * 2;
	return d > 0 ? d : 1;
}

static const char *fmt_delay(int64_t ms, char *buf, size_t len)
{
	if (ms < 10000)
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
	else
		snprintf(buf, len, "%" PRId64 " s", (ms + 500) / 1000);
	return buf;
}

/* Stops watching the socket (which libmosquitto may already have closed). */
static void unwatch(struct sw_mqtt *m)
{
	if (m->fd >= 0)
		sw_loop_fd_del(m->loop, m->fd);
	m->fd = -1;
}

/* Watches the current socket for READ, plus WRITE while output is queued. */
static void watch(struct sw_mqtt *m)
{
	int mask = SW_LOOP_READ;

	if (m->fd < 0)
		return;
	if (mosquitto_want_write(m->mosq))
		mask |= SW_LOOP_WRITE;
	if (sw_loop_fd_mask(m->loop, m->fd) != mask)
		sw_loop_fd_modify(m->loop, m->fd, mask);
}

/* ---- connection life cycle ---------------------------------------------- */

static int64_t connect_timer_cb(struct sw_loop *loop, uint64_t id, void *arg);

/* Ends the current connection or attempt and schedules the next one.
 * what is the log phrase, why the cause. */
static void drop(struct sw_mqtt *m, struct sw_log_complain *c,
		 const char *what, const char *why)
{
	bool was_up = m->state == SW_MQTT_CONNECTED;
	bool was_subscribed = m->subscribed;
	int64_t now = sw_loop_now_ms(m->loop);
	int sock = mosquitto_socket(m->mosq);
	char d[32];

	unwatch(m);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR); /* nothing more reaches the broker */
	if (was_up) {
		m->stats.disconnects++;
		if (now - m->up_ms >= SW_MQTT_STABLE_MS)
			m->backoff_ms = m->reconnect_min;
	} else if (m->state == SW_MQTT_CONNECTING) {
		m->stats.connect_failures++;
	}
	m->state = SW_MQTT_WAITING;
	m->subscribed = false;
	m->next_delay_ms = take_delay(m);
	if (m->connect_timer)
		sw_loop_timer_del(m->loop, m->connect_timer);
	sw_loop_timer_add(m->loop, m->next_delay_ms, connect_timer_cb, m,
			  &m->connect_timer);
	if (c == &m->conn_c)
		m->complaining = true;
	sw_log_complain(c, SW_LOG_WARNING, m->target, "%s: %s, retry in %s",
			what, why, fmt_delay(m->next_delay_ms, d, sizeof(d)));
	if (was_subscribed && m->cb.on_state)
		m->cb.on_state(m->arg, false);
}

/* Drops after the library closed the socket or a call failed with rc. */
static void drop_rc(struct sw_mqtt *m, int rc, int saved_errno)
{
	char buf[160];
	const char *why = m->why[0] ? m->why
				    : mosq_text(rc ? rc : MOSQ_ERR_CONN_LOST,
						saved_errno, buf, sizeof(buf));

	drop(m, &m->conn_c,
	     m->state == SW_MQTT_CONNECTED ? "connection lost" : "cannot connect",
	     why);
}

/* Acts on what a library callback decided during loop_read. */
static void drop_pending(struct sw_mqtt *m)
{
	char what[200];

	if (m->pending_drop == DROP_RETRY) {
		snprintf(what, sizeof(what), "%s not stored",
			 m->retry_topic);
		drop(m, &m->retry_c, what, "dropping the connection so that "
		     "the broker redelivers it");
	} else
		drop(m, &m->conn_c, "connection dropped", m->why);
}


/*
 * Whether more input waits, so the burst (and the batch committed after it)
 * can go on.  errno after mosquitto_loop_read() cannot tell: the library
 * pokes its internal socketpair for every queued PUBACK and that write
 * fails with EAGAIN once the pair is full, so errno is EAGAIN even when
 * the broker's data is still waiting.  TLS records already decrypted are
 * drained by loop_read itself.  *ret_n: the bytes waiting.
 */
static bool socket_has_data(int fd, size_t *ret_n)
{
	int n = 0;

	*ret_n = 0;
	if (ioctl(fd, FIONREAD, &n) != 0 || n <= 0)
		return false;
	*ret_n = (size_t)n;
	return true;
}

/* Bytes of a v3.1.1 PUBLISH on the wire: fixed header (type byte and the
 * remaining length as a 1-4 byte varint), topic length and topic, packet
 * id (QoS > 0), payload. */
static size_t publish_bytes(const struct mosquitto_message *msg)
{
	size_t rl = 2 + strlen(msg->topic) + (msg->qos > 0 ? 2 : 0) +
		    (msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);

	return 1 + (rl < 128 ? 1 : rl < 16384 ? 2 : rl < 2097152 ? 3 : 4) + rl;
}

/* Reads one burst: packets one at a time while the socket has data.  The
 * FIONREAD behind socket_has_data() is a system call per message; with a
 * plain connection the bytes of what was read are known, so it is asked
 * again only once the bytes it reported last are used up (a wrong count
 * costs an extra ioctl or an empty non-blocking read, never a message). */
static int read_burst(struct sw_mqtt *m, int *ret_errno)
{
	size_t waiting = 0;
	int rc = MOSQ_ERR_SUCCESS, i;

	for (i = 0; i < SW_MQTT_READ_BURST; i++) {
		errno = 0;
		m->read_bytes = 0;
		rc = mosquitto_loop_read(m->mosq, 1);
		*ret_errno = errno;
		if (rc || m->pending_drop || mosquitto_socket(m->mosq) != m->fd)
			break;
		if (m->plain && m->read_bytes > 0 && m->read_bytes < waiting) {
			waiting -= m->read_bytes;
			continue;
		}
		if (!socket_has_data(m->fd, &waiting))
			break;
	}
	return rc;
}

/* Group commit: the owner makes the burst durable before any PUBACK of
 * it is written; if it cannot, the PUBACKs must never leave. */
static void burst_end(struct sw_mqtt *m)
{
	int sock;

	m->in_message = true;
	if (m->cb.on_burst_end(m->arg) == SW_MQTT_ACK) {
		m->in_message = false;
		return;
	}
	m->in_message = false;
	m->stats.retries++;
	if (m->pending_drop)
		return; /* already going down without PUBACKs */
	snprintf(m->retry_topic, sizeof(m->retry_topic), "%s", "a burst of messages");
	m->pending_drop = DROP_RETRY;
	sock = mosquitto_socket(m->mosq);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR); /* the queued PUBACKs never leave */
}

/* The socket is ready: read a burst (calling on_message), then write what
 * is queued, acknowledgements included, since every callback returned. */
static void fd_ready(struct sw_loop *loop, int fd, int events, void *arg)
{
	struct sw_mqtt *m = arg;
	int rc = MOSQ_ERR_SUCCESS, saved = 0;

	(void)loop;
	(void)fd;
	if (events & SW_LOOP_READ) {
		uint64_t before = m->stats.received;

		rc = read_burst(m, &saved);
		if (m->stats.received != before && m->cb.on_burst_end)
			burst_end(m);
		if (m->pending_drop) {
			drop_pending(m); /* before any loop_write */
			return;
		}
		if (rc) {
			drop_rc(m, rc, saved);
			return;
		}
	}
	if (mosquitto_socket(m->mosq) == m->fd && mosquitto_want_write(m->mosq)) {
		errno = 0;
		rc = mosquitto_loop_write(m->mosq, 1);
		if (rc) {
			drop_rc(m, rc, errno);
			return;
		}
	}
	if (mosquitto_socket(m->mosq) != m->fd) {
		drop_rc(m, MOSQ_ERR_CONN_LOST, 0);
		return;
	}
	watch(m);
}

static void try_connect(struct sw_mqtt *m)
{
	int rc, saved;

	m->pending_drop = DROP_NONE;
	m->why[0] = '\0';
	m->subscribed = false;
	m->state = SW_MQTT_CONNECTING;
	m->attempt_ms = sw_loop_now_ms(m->loop);
	m->next_delay_ms = -1;
	errno = 0;
	if (m->lib_has_host)
		rc = mosquitto_reconnect_async(m->mosq);
	else
		rc = mosquitto_connect_bind_async(m->mosq, m->host, m->port,
						  m->keepalive_s, NULL);
	saved = errno;
	if (rc != MOSQ_ERR_SUCCESS) {
		drop_rc(m, rc, saved);
		return;
	}
	m->lib_has_host = true;
	m->fd = mosquitto_socket(m->mosq);
	if (m->fd < 0) {
		drop_rc(m, MOSQ_ERR_NO_CONN, 0);
		return;
	}
	rc = sw_loop_fd_add(m->loop, m->fd, SW_LOOP_READ, fd_ready, m);
	if (rc) {
		saved = errno;
		m->fd = -1;
		drop_rc(m, MOSQ_ERR_ERRNO, saved);
		return;
	}
	watch(m); /* WRITE while CONNECT is queued */
}

static int64_t connect_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_mqtt *m = arg;

	(void)loop;
	(void)id;
	m->connect_timer = 0;
	try_connect(m);
	return SW_LOOP_NOMORE;
}

/* Keepalive (PINGREQ, timeout) and the connect timeout. */
static int64_t misc_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_mqtt *m = arg;
	int64_t limit = (int64_t)m->keepalive_s * 1000;
	int rc;

	(void)id;
	if (limit > SW_MQTT_CONNECT_TIMEOUT_MS)
		limit = SW_MQTT_CONNECT_TIMEOUT_MS;
	if (m->state == SW_MQTT_CONNECTING &&
	    sw_loop_now_ms(loop) - m->attempt_ms >= limit) {
		snprintf(m->why, sizeof(m->why), "no CONNACK within %" PRId64 " s",
			 limit / 1000);
		drop(m, &m->conn_c, "cannot connect", m->why);
		return SW_MQTT_MISC_MS;
	}
	if (m->state != SW_MQTT_CONNECTING && m->state != SW_MQTT_CONNECTED)
		return SW_MQTT_MISC_MS;
	rc = mosquitto_loop_misc(m->mosq);
	if (mosquitto_socket(m->mosq) != m->fd) {
		snprintf(m->why, sizeof(m->why),
			 "no answer from the broker within keepalive");
		drop_rc(m, rc, 0);
		return SW_MQTT_MISC_MS;
	}
	watch(m); /* a PINGREQ may be queued */
	return SW_MQTT_MISC_MS;
}

/* ---- libmosquitto callbacks (run inside loop_read/write/misc) ------------ */

static void subscribe_all(struct sw_mqtt *m)
{
	int rc;

	rc = mosquitto_subscribe_multiple(m->mosq, NULL, m->nfilters,
					  m->filters, m->qos, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(m->why, sizeof(m->why), "cannot subscribe: %s",
			 mosquitto_strerror(rc));
		m->pending_drop = DROP_ERROR;
	}
}

static void on_connect_cb(struct mosquitto *mosq, void *obj, int rc,
			  int flags, const mosquitto_property *props)
{
	struct sw_mqtt *m = obj;

	(void)mosq;
	(void)props;
	if (rc != 0) {
		snprintf(m->why, sizeof(m->why), "refused by the broker: %s",
			 m->protocol == SW_MQTT_V5 ? mosquitto_reason_string(rc)
						   : mosquitto_connack_string(rc));
		return; /* loop_read fails next and closes the socket */
	}
	m->state = SW_MQTT_CONNECTED;
	m->up_ms = sw_loop_now_ms(m->loop);
	m->stats.connects++;
	if (!(flags & 1) && m->ever_subscribed)
		sw_log_warn(m->target, "the broker had no session for this "
			    "client id: messages published while disconnected "
			    "are lost (broker restarted without persistence?)");
	else if (!(flags & 1))
		sw_log_info(m->target, "new session at the broker");
	subscribe_all(m);
}

static void on_subscribe_cb(struct mosquitto *mosq, void *obj, int mid,
			    int count, const int *granted)
{
	struct sw_mqtt *m = obj;
	int i;

	(void)mosq;
	(void)mid;
	for (i = 0; i < count && i < m->nfilters; i++) {
		if (granted[i] >= 0x80)
			sw_log_err(m->target, "subscription to %s refused by "
				   "the broker (not authorised?)", m->filters[i]);
		else if (granted[i] < m->qos)
			sw_log_warn(m->target, "subscription to %s granted at "
				    "qos %d only", m->filters[i], granted[i]);
	}
	m->subscribed = true;
	if (!m->ever_subscribed)
		sw_log_notice(m->target, "connected, subscribed to %s (qos %d)",
			      m->filters_text, m->qos);
	else if (m->complaining)
		sw_log_release(&m->conn_c, SW_LOG_NOTICE, m->target,
			       "connected, subscribed to %s (qos %d)",
			       m->filters_text, m->qos);
	else
		sw_log_info(m->target, "connected, subscribed to %s (qos %d)",
			    m->filters_text, m->qos);
	m->complaining = false;
	m->ever_subscribed = true;
	if (m->cb.on_state)
		m->cb.on_state(m->arg, true);
}

static void on_message_cb(struct mosquitto *mosq, void *obj,
			  const struct mosquitto_message *msg)
{
	struct sw_mqtt *m = obj;
	const void *payload = msg->payload ? msg->payload : "";
	int sock, v;

	if (m->pending_drop)
		return; /* going down without PUBACKs: it comes again */
	m->stats.received++;
	m->read_bytes = publish_bytes(msg);
	m->in_message = true;
	v = m->cb.on_message(m->arg, msg->topic, payload,
			     msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
	m->in_message = false;
	if (v == SW_MQTT_ACK)
		return;
	m->stats.retries++;
	if (msg->qos == 0) {
		m->stats.qos0_lost++;
		sw_log_complain(&m->qos0_c, SW_LOG_ERR, m->target,
				"message on %s lost: not stored, and QoS 0 "
				"messages are not redelivered", msg->topic);
		return;
	}
	snprintf(m->retry_topic, sizeof(m->retry_topic), "message on %s", msg->topic);
	m->pending_drop = DROP_RETRY;
	sock = mosquitto_socket(mosq);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR); /* the queued PUBACK never leaves */
}

/* The broker's PUBACK (QoS 1) or PUBCOMP (QoS 2) for one of our
 * publications; for QoS 0, once it was written.  v5 brokers may refuse
 * with a reason code >= 0x80 (not authorised, ...): the message was not
 * taken.  A v3.1.1 broker cannot say so (mosquitto acknowledges a publish
 * its ACL refuses and drops it). */
static void on_publish_cb(struct mosquitto *mosq, void *obj, int mid,
			  int reason, const mosquitto_property *props)
{
	struct sw_mqtt *m = obj;
	bool ok = reason < 0x80;

	(void)mosq;
	(void)props;
	if (ok)
		m->stats.publish_acked++;
	else
		m->stats.publish_refused++;
	if (m->cb.on_published)
		m->cb.on_published(m->arg, mid, ok);
}

static void on_log_cb(struct mosquitto *mosq, void *obj, int level,
		      const char *str)
{
	struct sw_mqtt *m = obj;

	(void)mosq;
	(void)level;
	sw_log_debug(m->target, "libmosquitto: %s", str);
}

/* ---- set-up ---------------------------------------------------------------- */

enum sw_err sw_mqtt_lib_init(void)
{
	if (lib_refs == 0 && mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
		return SW_EIO;
	lib_refs++;
	return SW_OK;
}

void sw_mqtt_lib_fini(void)
{
	if (lib_refs > 0 && --lib_refs == 0)
		mosquitto_lib_cleanup();
}

/* Makes every CONNECT carry Session Expiry Interval = never (see top). */
static int set_v5_properties(struct sw_mqtt *m)
{
	mosquitto_property *props = NULL;
	int rc;

	rc = mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
				  MQTT_PROTOCOL_V5);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_property_add_int32(&props,
			MQTT_PROP_SESSION_EXPIRY_INTERVAL, UINT32_MAX);
	if (rc == MOSQ_ERR_SUCCESS) {
		rc = mosquitto_connect_bind_v5(m->mosq, m->host, -1,
					       m->keepalive_s, NULL, props);
		rc = rc == MOSQ_ERR_INVAL ? MOSQ_ERR_SUCCESS : rc;
	}
	mosquitto_property_free_all(&props);
	return rc;
}

static enum sw_err set_tls(struct sw_mqtt *m, const struct sw_mqtt_conf *c,
			   char *errbuf, size_t errlen)
{
	const char *ca_dir = c->tls_ca_dir;
	int rc;

	if (!c->tls)
		return SW_OK;
	if (!c->tls_ca_file && !ca_dir) {
		ca_dir = SW_MQTT_SYSTEM_CA_DIR;
		mosquitto_int_option(m->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
	}
	rc = mosquitto_tls_set(m->mosq, c->tls_ca_file, ca_dir,
			       c->tls_cert_file, c->tls_key_file, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		return conf_err(errbuf, errlen, "tls",
				"libmosquitto refused the TLS files (missing or "
				"unreadable?)", c->tls_ca_file ? c->tls_ca_file
							       : ca_dir);
	rc = mosquitto_tls_opts_set(m->mosq, 1, NULL, NULL); /* verify peer */
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_tls_insecure_set(m->mosq, c->tls_insecure);
	if (rc != MOSQ_ERR_SUCCESS)
		return conf_err(errbuf, errlen, "tls", mosquitto_strerror(rc),
				NULL);
	return SW_OK;
}

/* Applies conf to the new mosquitto handle. */
static enum sw_err setup_mosq(struct sw_mqtt *m, const struct sw_mqtt_conf *c,
			      char *errbuf, size_t errlen)
{
	int rc;

	mosquitto_threaded_set(m->mosq, true); /* PUBACK after on_message */
	mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (c->protocol == SW_MQTT_V5 && set_v5_properties(m) != MOSQ_ERR_SUCCESS)
		return conf_err(errbuf, errlen, "protocol",
				"libmosquitto refused MQTT v5 settings", "v5");
	if (c->username) {
		rc = mosquitto_username_pw_set(m->mosq, c->username,
					       c->password.value);
		if (rc != MOSQ_ERR_SUCCESS)
			return conf_err(errbuf, errlen, "username",
					mosquitto_strerror(rc), c->username);
	}
	mosquitto_connect_v5_callback_set(m->mosq, on_connect_cb);
	mosquitto_subscribe_callback_set(m->mosq, on_subscribe_cb);
	mosquitto_message_callback_set(m->mosq, on_message_cb);
	mosquitto_publish_v5_callback_set(m->mosq, on_publish_cb);
	if (sw_log_enabled(SW_LOG_DEBUG)) /* libmosquitto formats every line */
		mosquitto_log_callback_set(m->mosq, on_log_cb);
	return set_tls(m, c, errbuf, errlen);
}

/* Copies what the module needs from conf. */
static void copy_conf(struct sw_mqtt *m, const struct sw_mqtt_conf *c)
{
	char **list;
	size_t len = 0;
	int i;

	m->host = xstrdup(c->host);
	m->port = (int)c->port;
	m->keepalive_s = (int)(c->keepalive / 1000);
	m->protocol = c->protocol;
	m->plain = !c->tls && c->protocol != SW_MQTT_V5;
	m->qos = (int)c->qos;
	m->reconnect_min = c->reconnect_min;
	m->reconnect_max = c->reconnect_max;
	m->backoff_ms = c->reconnect_min;
	if (c->deadletter_topic && *c->deadletter_topic)
		m->deadletter = xstrdup(c->deadletter_topic);
	m->nfilters = split_topics(c->topics, &list);
	m->filters = list;
	for (i = 0; c->shared_group && i < m->nfilters; i++) {
		char *plain = list[i];

		list[i] = xasprintf("$share/%s/%s", c->shared_group, plain);
		free(plain);
	}
	for (i = 0; i < m->nfilters; i++)
		len += strlen(m->filters[i]) + 2;
	m->filters_text = xcalloc(1, len + 1);
	for (i = 0; i < m->nfilters; i++)
		snprintf(m->filters_text + strlen(m->filters_text),
			 len + 1 - strlen(m->filters_text), "%s%s",
			 i ? ", " : "", m->filters[i]);
	snprintf(m->target, sizeof(m->target),
		 strchr(m->host, ':') ? "mqtt [%s]:%d" : "mqtt %s:%d", m->host,
		 m->port);
}

enum sw_err sw_mqtt_new(struct sw_loop *loop, const struct sw_mqtt_conf *conf,
			const struct sw_mqtt_callbacks *cb, void *arg,
			struct sw_mqtt **ret_m, char *errbuf, size_t errlen)
{
	struct sw_mqtt *m;
	enum sw_err rc;

	*ret_m = NULL;
	if (errlen > 0)
		errbuf[0] = '\0';
	if (lib_refs == 0 || !loop || !cb || !cb->on_message)
		return SW_EINVAL;
	rc = sw_mqtt_conf_check(conf, errbuf, errlen);
	if (rc)
		return rc;
	m = xcalloc(1, sizeof(*m));
	m->loop = loop;
	m->cb = *cb;
	m->arg = arg;
	m->fd = -1;
	m->next_delay_ms = -1;
	m->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		 (uint64_t)(uintptr_t)m;
	m->rng = m->rng ? m->rng : 88172645463325252ULL;
	copy_conf(m, conf);
	m->mosq = mosquitto_new(conf->client_id, false, m);
	if (!m->mosq) {
		rc = conf_err(errbuf, errlen, "client_id",
			      "libmosquitto refused it", conf->client_id);
		goto fail;
	}
	rc = setup_mosq(m, conf, errbuf, errlen);
	if (rc)
		goto fail;
	*ret_m = m;
	return SW_OK;
fail:
	sw_mqtt_free(m);
	return rc;
}

enum sw_err sw_mqtt_start(struct sw_mqtt *m)
{
	if (m->state != SW_MQTT_STOPPED)
		return SW_EDUP;
	if (m->in_message)
		return SW_EINVAL;
	m->state = SW_MQTT_WAITING;
	m->next_delay_ms = 0;
	sw_loop_timer_add(m->loop, SW_MQTT_MISC_MS, misc_timer_cb, m,
			  &m->misc_timer);
	sw_loop_timer_add(m->loop, 0, connect_timer_cb, m, &m->connect_timer);
	return SW_OK;
}

/* Writes what is queued (DISCONNECT last) for at most ms; true if done. */
static bool flush(struct sw_mqtt *m, int64_t ms)
{
	struct timespec t0, t;
	struct pollfd p;
	int64_t left = ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (mosquitto_socket(m->mosq) >= 0 && mosquitto_want_write(m->mosq)) {
		p.fd = mosquitto_socket(m->mosq);
		p.events = POLLOUT;
		if (left <= 0 || poll(&p, 1, (int)left) < 0)
			return false;
		if (mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
			return false;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 +
			     (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
	return true;
}

enum sw_err sw_mqtt_stop(struct sw_mqtt *m)
{
	bool was_subscribed = m->subscribed, live;
	enum sw_err rc = SW_OK;

	if (m->in_message)
		return SW_EINVAL;
	if (m->state == SW_MQTT_STOPPED)
		return SW_OK;
	if (m->connect_timer)
		sw_loop_timer_del(m->loop, m->connect_timer);
	if (m->misc_timer)
		sw_loop_timer_del(m->loop, m->misc_timer);
	m->connect_timer = m->misc_timer = 0;
	live = (m->state == SW_MQTT_CONNECTED || m->state == SW_MQTT_CONNECTING)
	       && !m->pending_drop && mosquitto_socket(m->mosq) >= 0;
	unwatch(m);
	if (live) {
		mosquitto_disconnect(m->mosq); /* queued after pending PUBACKs */
		if (!flush(m, SW_MQTT_STOP_FLUSH_MS))
			rc = SW_ETIMEOUT;
	}
	if (mosquitto_socket(m->mosq) >= 0)
		shutdown(mosquitto_socket(m->mosq), SHUT_RDWR);
	if (m->state == SW_MQTT_CONNECTED)
		m->stats.disconnects++;
	m->state = SW_MQTT_STOPPED;
	m->subscribed = false;
	m->pending_drop = DROP_NONE;
	m->next_delay_ms = -1;
	sw_log_info(m->target, "%s%s", live ? "disconnected" : "stopped",
		    rc ? " (flush timed out: unacknowledged messages will be "
			 "redelivered)" : "");
	if (was_subscribed && m->cb.on_state)
		m->cb.on_state(m->arg, false);
	return rc;
}

void sw_mqtt_free(struct sw_mqtt *m)
{
	if (!m)
		return;
	if (m->mosq) {
		sw_mqtt_stop(m);
		mosquitto_destroy(m->mosq);
	}
	free(m->host);
	free_list(m->filters, m->nfilters);
	free(m->filters_text);
	free(m->deadletter);
	free(m);
}

/* ---- publishing and status ------------------------------------------------- */

enum sw_err sw_mqtt_publish(struct sw_mqtt *m, const char *topic,
			    const void *payload, size_t len, int qos,
			    int *ret_mid)
{
	int rc, mid = 0;

	if (!topic || !utf8_ok(topic) ||
	    mosquitto_pub_topic_check(topic) != MOSQ_ERR_SUCCESS ||
	    qos < 0 || qos > 2 || (!payload && len > 0))
		return SW_EINVAL;
	if (len > SW_MQTT_PAYLOAD_MAX)
		return SW_ETOOBIG;
	if (!m->subscribed || m->pending_drop)
		return SW_EAGAIN;
	rc = mosquitto_publish(m->mosq, &mid, topic, (int)len, payload, qos,
			       false);
	if (rc != MOSQ_ERR_SUCCESS) {
		sw_log_debug(m->target, "publish to %s refused: %s", topic,
			     mosquitto_strerror(rc));
		return SW_EAGAIN;
	}
	m->stats.published++;
	if (ret_mid)
		*ret_mid = mid;
	if (!m->in_message)
		watch(m); /* written on the next iteration */
	return SW_OK;
}

bool sw_mqtt_connected(const struct sw_mqtt *m)
{
	return m->state == SW_MQTT_CONNECTED && m->subscribed;
}

enum sw_mqtt_state sw_mqtt_get_state(const struct sw_mqtt *m)
{
	return m->state;
}

const char *sw_mqtt_state_name(enum sw_mqtt_state state)
{
	static const char *const names[] = { "stopped", "waiting",
					     "connecting", "connected" };

	return (unsigned)state < SW_MQTT_STATE_LAST ? names[state] : "?";
}

void sw_mqtt_get_stats(const struct sw_mqtt *m, struct sw_mqtt_stats *ret_stats)
{
	*ret_stats = m->stats;
}

const char *sw_mqtt_deadletter_topic(const struct sw_mqtt *m)
{
	return m->deadletter;
}

int64_t sw_mqtt_reconnect_delay(const struct sw_mqtt *m)
{
	return m->state == SW_MQTT_WAITING ? m->next_delay_ms : -1;
}
