/*
 * probe_broker.c - the broker probe (probe.h): does a QoS 1 message make
 * the round trip through the MQTT broker of [mqtt], and how fast.
 *
 * One instance (named "broker") when the file has [mqtt].  A run is one
 * libmosquitto client of its own, used blocking from this thread (no
 * library thread: mosquitto_connect_async, then mosquitto_loop() with the
 * time left to a deadline until what is awaited has happened):
 *   - it connects with client id "<[mqtt] client_id>-probe" and a clean
 *     session, never the collector's persistent session, with the
 *     credentials and TLS settings of [mqtt] (set as collector/mqtt.c sets
 *     them; that file keeps its helpers static, so the few calls are
 *     repeated here);
 *   - subscribes at QoS 1 to "<[probes] topic>/<random token>", a topic
 *     no other client uses, and waits for the SUBACK;
 *   - per sample publishes "slipwatch-probe <token> <seq>" at QoS 1 and
 *     times it until that very payload comes back; one that does not
 *     within [probes] timeout is lost (a late one is ignored afterwards).
 * A broker that cannot be reached, refuses the connection or the
 * subscription loses every sample, with the reason.  The run is ok only
 * when no sample was lost.  The password is handed to libmosquitto only;
 * no text here ever holds it.
 *
 * Blocking: at most (samples + 2) x timeout.  Calls sw_mqtt_lib_init()
 * and sw_mqtt_lib_fini() around the run (counted: the daemon may hold
 * the library open).  Nothing here logs.
 */
#include "config.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/kinds.h"
#include "probes/probe.h"

#define DEFAULT_TOPIC "slipwatch/probe"
#define SYSTEM_CA_DIR "/etc/ssl/certs" /* as collector/mqtt.c */
#define PAYLOAD_MAX   96

/* One run's client and what its callbacks saw. */
struct bprobe {
	struct mosquitto *mosq;
	char target[112];	/* "HOST:PORT", the host cut to 100 */
	char topic[300];	/* "<topic>/<token>" */
	char want[PAYLOAD_MAX]; /* the payload awaited now ("" none) */
	bool connected;		/* CONNACK accepted */
	int connack;		/* CONNACK code when refused, else -1 */
	bool subscribed;	/* SUBACK with QoS 1 granted */
	bool sub_refused;	/* SUBACK refused the filter */
	bool arrived;		/* want came back */
	bool gone;		/* the connection ended */
	char why[96];		/* why it ended (errno or libmosquitto text) */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libmosquitto's text for rc (errno-based ones included), no final '.'. */
static void mosq_text(int rc, int saved_errno, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s",
		 rc == MOSQ_ERR_ERRNO ? strerror(saved_errno) : mosquitto_strerror(rc));
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

/* ---- callbacks ------------------------------------------------------------ */

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct bprobe *b = obj;

	(void)mosq;
	if (rc == 0)
		b->connected = true;
	else
		b->connack = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct bprobe *b = obj;

	(void)mosq;
	b->gone = true;
	if (!b->why[0])
		mosq_text(rc, errno, b->why, sizeof(b->why));
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
	struct bprobe *b = obj;

	(void)mosq;
	(void)mid;
	if (n >= 1 && granted[0] >= 0 && granted[0] <= 2)
		b->subscribed = true;
	else
		b->sub_refused = true;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
	struct bprobe *b = obj;
	size_t n = strlen(b->want);

	(void)mosq;
	if (n && m->payloadlen == (int)n && memcmp(m->payload, b->want, n) == 0 &&
	    strcmp(m->topic, b->topic) == 0)
		b->arrived = true;
}

/* ---- the client ------------------------------------------------------------ */

/* Runs the client until *flag, the connection ends or deadline (mono s). */
static bool pump(struct bprobe *b, const bool *flag, double deadline)
{
	int rc;

	while (!*flag && !b->gone) {
		double left = deadline - mono_s();

		if (left <= 0)
			return false;
		rc = mosquitto_loop(b->mosq, left > 1.0 ? 1000 : (int)(left * 1000) + 1, 1);
		if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
			if (!b->why[0])
				mosq_text(rc, errno, b->why, sizeof(b->why));
			b->gone = true;
		} else if (rc == MOSQ_ERR_NO_CONN) {
			b->gone = true;
		}
	}
	return *flag;
}

/* Credentials and TLS of [mqtt] (as collector/mqtt.c setup_mosq/set_tls). */
static bool setup(struct bprobe *b, const struct sw_mqtt_conf *c, char *err, size_t errlen)
{
	const char *ca_dir = c->tls_ca_dir;
	int rc = MOSQ_ERR_SUCCESS;

	/* Nagle's delay against the broker's delayed ACK would add ~40 ms
	 * to every round trip: time the broker, not TCP. */
	mosquitto_int_option(b->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (c->protocol == SW_MQTT_V5)
		rc = mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	if (rc == MOSQ_ERR_SUCCESS && c->username)
		rc = mosquitto_username_pw_set(b->mosq, c->username, c->password.value);
	if (rc == MOSQ_ERR_SUCCESS && c->tls) {
		if (!c->tls_ca_file && !ca_dir) {
			ca_dir = SYSTEM_CA_DIR;
			mosquitto_int_option(b->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		}
		rc = mosquitto_tls_set(b->mosq, c->tls_ca_file, ca_dir, c->tls_cert_file,
				       c->tls_key_file, NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_opts_set(b->mosq, 1, NULL, NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_insecure_set(b->mosq, c->tls_insecure);
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "broker %s: libmosquitto refused the [mqtt] settings: %s",
			 b->target, mosquitto_strerror(rc));
		return false;
	}
	mosquitto_connect_callback_set(b->mosq, on_connect);
	mosquitto_disconnect_callback_set(b->mosq, on_disconnect);
	mosquitto_subscribe_callback_set(b->mosq, on_subscribe);
	mosquitto_message_callback_set(b->mosq, on_message);
	return true;
}

/* Connects and subscribes; false with reason set when the broker is not
 * there for us. */
static bool open_session(struct bprobe *b, const struct sw_mqtt_conf *c, double tmo, char *reason,
			 size_t len)
{
	int keepalive = (int)(c->keepalive / 1000), rc;

	rc = mosquitto_connect_async(b->mosq, c->host, (int)c->port, keepalive < 5 ? 5 : keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		mosq_text(rc, errno, b->why, sizeof(b->why));
		snprintf(reason, len, "broker %s: cannot connect: %s", b->target, b->why);
		return false;
	}
	if (!pump(b, &b->connected, mono_s() + tmo)) {
		if (b->connack > 0)
			snprintf(reason, len, "broker %s: connection refused: %s", b->target,
				 mosquitto_connack_string(b->connack));
		else
			snprintf(reason, len, "broker %s: cannot connect: %s", b->target,
				 b->why[0] ? b->why : "no CONNACK in time");
		return false;
	}
	rc = mosquitto_subscribe(b->mosq, NULL, b->topic, 1);
	if (rc == MOSQ_ERR_SUCCESS && pump(b, &b->subscribed, mono_s() + tmo))
		return true;
	snprintf(reason, len, "broker %s: subscription to %.50s %.60s", b->target, b->topic,
		 b->sub_refused ? "refused"
		 : b->why[0]	? b->why
				: "not acknowledged in time");
	return false;
}

/* One sample: publish seq, wait for it.  True with its latency. */
static bool sample(struct bprobe *b, const char *token, int seq, double tmo, double *ret_lat)
{
	double t0 = mono_s();
	int rc;

	snprintf(b->want, sizeof(b->want), "slipwatch-probe %s %d", token, seq);
	b->arrived = false;
	rc = mosquitto_publish(b->mosq, NULL, b->topic, (int)strlen(b->want), b->want, 1, false);
	if (rc != MOSQ_ERR_SUCCESS) {
		if (!b->why[0])
			mosq_text(rc, errno, b->why, sizeof(b->why));
		return false;
	}
	if (!pump(b, &b->arrived, t0 + tmo))
		return false;
	*ret_lat = mono_s() - t0;
	return true;
}

static void random_token(char *out, size_t len)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(out, len, "%lx%lx", (unsigned long)ts.tv_nsec, (unsigned long)getpid());
		return;
	}
	snprintf(out, len, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
		 r[6], r[7]);
}

/* The samples of one run into out, the client b set up. */
static void measure(struct bprobe *b, const struct sw_probe_env *env, const char *token,
		    struct sw_probe_result *out)
{
	const struct sw_mqtt_conf *c = env->conf->mqtt;
	double tmo = (double)env->timeout_ms / 1000.0, lat = 0;
	int late = 0;

	if (!open_session(b, c, tmo, out->reason, sizeof(out->reason))) {
		for (int i = 0; i < env->samples; i++)
			sw_probe_sample(out, false, 0);
		return;
	}
	for (int i = 0; i < env->samples; i++) {
		bool ok = !b->gone && sample(b, token, i + 1, tmo, &lat);

		sw_probe_sample(out, ok, lat);
		late += !ok && !b->gone;
	}
	if (b->gone && out->lost)
		snprintf(out->reason, sizeof(out->reason),
			 "broker %s: the connection ended mid-run (%.80s); %d of %d messages lost",
			 b->target, b->why[0] ? b->why : "closed", out->lost, out->sent);
	else if (out->lost)
		snprintf(out->reason, sizeof(out->reason),
			 "broker %s: %d of %d QoS 1 messages did not come back within %lld ms",
			 b->target, late, out->sent, (long long)env->timeout_ms);
	mosquitto_disconnect(b->mosq);
	mosquitto_loop(b->mosq, 50, 1); /* let the DISCONNECT out */
}

static enum sw_err broker_instances(const struct sw_probe_env *env, char ***ret_ids, size_t *ret_n,
				    char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*ret_ids = NULL;
	*ret_n = 0;
	if (!env->conf || !env->conf->mqtt || !env->conf->mqtt->host)
		return SW_OK;
	*ret_ids = xcalloc(1, sizeof(char *));
	(*ret_ids)[0] = xstrdup("");
	*ret_n = 1;
	return SW_OK;
}

static enum sw_err broker_run(const struct sw_probe_env *env, const char *id,
			      struct sw_probe_result *out, char *err, size_t errlen)
{
	const struct sw_mqtt_conf *c = env->conf ? env->conf->mqtt : NULL;
	const char *prefix =
	    env->conf && env->conf->topic && *env->conf->topic ? env->conf->topic : DEFAULT_TOPIC;
	struct bprobe b = {.connack = -1};
	char token[24], *cid;
	enum sw_err rc = SW_OK;

	(void)id;
	if (!c || !c->host) {
		snprintf(err, errlen, "broker: no [mqtt] host");
		return SW_ECONF;
	}
	if (sw_mqtt_lib_init() != SW_OK) {
		snprintf(err, errlen, "broker: libmosquitto could not be initialised");
		return SW_EIO;
	}
	snprintf(b.target, sizeof(b.target), strchr(c->host, ':') ? "[%.100s]:%lld" : "%.100s:%lld",
		 c->host, (long long)c->port);
	random_token(token, sizeof(token));
	snprintf(b.topic, sizeof(b.topic), "%s/%s", prefix, token);
	cid = xasprintf("%s-probe", c->client_id && *c->client_id ? c->client_id : "slipwatch");
	b.mosq = mosquitto_new(cid, true, &b);
	free(cid);
	if (!b.mosq) {
		snprintf(err, errlen, "broker %s: libmosquitto could not make a client", b.target);
		rc = SW_EIO;
	} else if (!setup(&b, c, err, errlen)) {
		rc = SW_ECONF;
	} else {
		measure(&b, env, token, out);
		out->ok = out->sent > 0 && out->lost == 0;
		if (out->ok)
			out->reason[0] = '\0';
		snprintf(out->detail, sizeof(out->detail), "%d of %d messages back via %.120s",
			 out->n_lat, out->sent, b.topic);
	}
	mosquitto_destroy(b.mosq);
	sw_mqtt_lib_fini();
	return rc;
}

const struct sw_probe_desc sw_probe_broker = {
    .kind = "broker",
    .what = "the [mqtt] broker: a QoS 1 message published to a probe topic, timed until it "
	    "comes back",
    .instances = broker_instances,
    .run = broker_run,
};
