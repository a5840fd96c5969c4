/*
 * mqtt.h - the collector's MQTT client: warehouse events in, dead letters out.
 *
 * One struct sw_mqtt is one libmosquitto client driven by the daemon's
 * event loop (lib/loop.h): no library threads, no blocking except where
 * noted.  It keeps a persistent session (fixed client id, clean session
 * off; for MQTT v5 a Session Expiry Interval), resubscribes on every
 * connect, reconnects by itself with capped exponential backoff, and hands
 * every message to on_message.  The PUBACK for a message leaves only after
 * on_message has returned SW_MQTT_ACK; SW_MQTT_RETRY drops the connection
 * without it so that the broker delivers the message again (see mqtt.c for
 * how and why).
 *
 * Process setup: sw_mqtt_lib_init() once in main() before the first
 * sw_mqtt_new(), sw_mqtt_lib_fini() after the last sw_mqtt_free().
 *
 * Everything here runs on the loop's thread only.  Nothing here prints
 * except through lib/log (target "mqtt HOST:PORT").
 */
#ifndef SW_MQTT_H
#define SW_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/error.h"
#include "lib/loop.h"

/* Values of struct sw_mqtt_conf.protocol. */
enum sw_mqtt_protocol {
	SW_MQTT_V311, /* "v311": MQTT 3.1.1 */
	SW_MQTT_V5,   /* "v5": MQTT 5, needed for shared subscriptions */
	SW_MQTT_PROTOCOL_LAST
};

/* Most topic filters in "topics". */
#define SW_MQTT_MAX_TOPICS 64

/* Section [mqtt] of slipwatch.conf; filled by sw_conf_apply() with
 * sw_mqtt_conf_table, released with sw_mqtt_conf_free(). */
struct sw_mqtt_conf {
	char *host;                    /* broker host name or address */
	int64_t port;                  /* 1..65535 */
	char *client_id;               /* fixed, so the session persists */
	char *topics;                  /* filters, blank- or comma-separated */
	int64_t qos;                   /* subscription QoS; see conf_check */
	int64_t keepalive;             /* ms, whole seconds 5s..65535s */
	int protocol;                  /* enum sw_mqtt_protocol */
	char *shared_group;            /* v5: subscribe as $share/GROUP/... */
	char *username;                /* NULL: none */
	struct sw_conf_secret password; /* password_file / password_env */
	bool tls;                      /* TLS with verification */
	bool allow_plaintext;          /* password without TLS beyond loopback */
	char *tls_ca_file;             /* CA bundle; neither: system store */
	char *tls_ca_dir;              /* c_rehash'ed CA directory */
	char *tls_cert_file;           /* client certificate (with key) */
	char *tls_key_file;            /* client key (with certificate) */
	bool tls_insecure;             /* skip host name check: dangerous */
	char *deadletter_topic;        /* empty: no dead-letter topic */
	int64_t reconnect_min;         /* ms, first reconnect delay */
	int64_t reconnect_max;         /* ms, cap of the doubling */
	int64_t max_payload;           /* bytes; enforced by the ingest layer */
};

/* The option table for [mqtt] (NULL-name terminated). */
extern const struct sw_conf_opt sw_mqtt_conf_table[];

/*
 * Checks the rules one option cannot check alone, after sw_conf_apply():
 * each topic filter valid (and none "$share/..."; use shared_group),
 * shared_group only with protocol v5 and without / + #, qos 2 refused
 * (libmosquitto keeps QoS 2 receive state in memory: not crash-safe),
 * client_id non-empty, password only with username, tls_* only with
 * tls = yes, certificate and key together, reconnect_min <= reconnect_max,
 * keepalive in whole seconds, deadletter_topic a valid publish topic, a
 * UTF-8 username (libmosquitto refuses others), and no password without
 * TLS to a host that is not loopback (lib/netaddr.h) unless
 * allow_plaintext = yes.
 * Returns SW_OK, or SW_ECONF with errbuf (if errlen > 0) holding
 * "[mqtt] KEY: what: 'bad text'".  Any thread; no side effects.
 */
enum sw_err sw_mqtt_conf_check(const struct sw_mqtt_conf *conf, char *errbuf,
			       size_t errlen);

/*
 * Applies [mqtt] of file into conf (zeroed, or from an earlier load),
 * runs sw_mqtt_conf_check() and, unless sw_conf_text_only(file), opens the
 * TLS files as sw_mqtt_new() will (tls_ca_file, tls_cert_file,
 * tls_key_file readable; tls_ca_dir a directory): a file this accepts does
 * not make the collector's start fail.  SW_OK, or SW_ECONF with errbuf
 * "FILE:LINE: [mqtt] KEY: what: 'bad text'" and conf freed.
 */
enum sw_err sw_mqtt_conf_load(struct sw_conf *file, struct sw_mqtt_conf *conf,
			      char *errbuf, size_t errlen);

/* Frees the strings and the secret in conf (wiping the secret); NULL-safe
 * on the fields.  conf itself is the caller's. */
void sw_mqtt_conf_free(struct sw_mqtt_conf *conf);

/* on_message's verdict. */
enum sw_mqtt_verdict {
	SW_MQTT_ACK,   /* durably handled: stored, or rejected and dead-lettered */
	SW_MQTT_RETRY, /* not stored (the store failed): deliver it again */
	SW_MQTT_VERDICT_LAST
};

struct sw_mqtt_callbacks {
	/*
	 * Required.  Called from the loop for every message received, with
	 * the topic (NUL-terminated) and the payload (len bytes, not
	 * NUL-terminated; non-NULL even when len is 0), both valid only
	 * during the call: copy what you keep.  No size limit is applied
	 * here: the ingest layer enforces max_payload (and dead-letters what
	 * is too big).  Returns SW_MQTT_ACK only once the message is durable;
	 * SW_MQTT_RETRY makes the module drop the connection so the broker
	 * redelivers it (and any other message not yet acknowledged) after a
	 * reconnect.  It may call sw_mqtt_publish(), sw_mqtt_connected() and
	 * sw_mqtt_get_stats(); it must not call sw_mqtt_stop/start/free.
	 * Messages at QoS 0 cannot be redelivered: RETRY loses them (logged).
	 */
	int (*on_message)(void *arg, const char *topic, const void *payload,
			  size_t len);
	/* Optional: called from the loop when the module becomes connected
	 * (subscribed) or stops being connected. */
	void (*on_state)(void *arg, bool connected);
	/*
	 * Optional, for group commit: called once after each burst of reads
	 * in which on_message was called at least once, BEFORE any
	 * acknowledgement of the burst's messages is written.  on_message may
	 * then answer SW_MQTT_ACK for a message that is only staged (say, in
	 * an open transaction), and on_burst_end makes the burst durable
	 * (commits) and returns SW_MQTT_ACK; SW_MQTT_RETRY (the commit
	 * failed) drops the connection without sending any acknowledgement of
	 * the burst, so the broker redelivers all of it.  Also called when
	 * the connection broke during the burst (commit anyway: the broker
	 * redelivers, and duplicates must be no-ops).
	 */
	int (*on_burst_end)(void *arg);
	/*
	 * Optional: called from the loop (inside the read of a burst, so
	 * possibly while a batch is open) when the broker acknowledged the
	 * message sw_mqtt_publish() returned mid for (PUBACK at QoS 1);
	 * ok is false when a v5 broker refused it (reason code >= 0x80).
	 * Only record it here: no store transaction, no sw_mqtt_stop/free.
	 * A message published on this handle and not yet acknowledged is
	 * sent again by libmosquitto after a reconnect, so every mid gets
	 * its call unless the handle is freed first.
	 */
	void (*on_published)(void *arg, int mid, bool ok);
};

/* Counters since sw_mqtt_new(), for tests and metrics. */
struct sw_mqtt_stats {
	uint64_t connects;         /* CONNACKs accepted */
	uint64_t disconnects;      /* accepted connections that ended */
	uint64_t connect_failures; /* attempts that never got a CONNACK */
	uint64_t received;         /* messages handed to on_message */
	uint64_t retries;          /* on_message returned SW_MQTT_RETRY */
	uint64_t qos0_lost;        /* QoS 0 messages answered with RETRY */
	uint64_t published;        /* sw_mqtt_publish() calls accepted */
	uint64_t publish_acked;    /* of those, acknowledged by the broker */
	uint64_t publish_refused;  /* of those, refused by a v5 broker */
};

/* Connection states, for logs and tests. */
enum sw_mqtt_state {
	SW_MQTT_STOPPED,    /* new, or after sw_mqtt_stop() */
	SW_MQTT_WAITING,    /* disconnected, a reconnect is scheduled */
	SW_MQTT_CONNECTING, /* socket open, no CONNACK yet */
	SW_MQTT_CONNECTED,  /* CONNACK accepted, subscriptions sent */
	SW_MQTT_STATE_LAST
};

struct sw_mqtt; /* opaque */

/*
 * Once per process, before the first sw_mqtt_new() (and before other
 * libraries that initialise OpenSSL are torn down): runs
 * mosquitto_lib_init().  Counted: every successful call needs one
 * sw_mqtt_lib_fini().  Returns SW_OK or SW_EIO.  Main thread only.
 */
enum sw_err sw_mqtt_lib_init(void);

/* Undoes sw_mqtt_lib_init(); the last call runs mosquitto_lib_cleanup().
 * Only once every struct sw_mqtt is freed. */
void sw_mqtt_lib_fini(void);

/*
 * Creates a client for loop from conf (which should have passed
 * sw_mqtt_conf_check(); it is checked again here).  Everything needed is
 * copied: conf may be freed afterwards.  Nothing connects until
 * sw_mqtt_start().  cb->on_message is required; cb is copied; arg is
 * passed to the callbacks.  Returns SW_OK and *ret_m; SW_EINVAL if
 * sw_mqtt_lib_init() was not called or on_message is NULL; SW_ECONF if
 * conf is invalid or libmosquitto refused a setting (TLS files that
 * cannot be read, ...), with errbuf saying which.
 */
enum sw_err sw_mqtt_new(struct sw_loop *loop, const struct sw_mqtt_conf *conf,
			const struct sw_mqtt_callbacks *cb, void *arg,
			struct sw_mqtt **ret_m, char *errbuf, size_t errlen);

/*
 * Starts connecting: the first attempt runs from a timer on the next loop
 * iteration, later ones after backoff.  Failures are logged and retried
 * for ever; they are not errors here.  Returns SW_OK, or SW_EDUP if
 * already started.  From the loop's thread, not from on_message.
 */
enum sw_err sw_mqtt_start(struct sw_mqtt *m);

/*
 * Stops: cancels any reconnect, sends DISCONNECT and flushes what is
 * queued (acknowledgements of handled messages, dead letters), blocking
 * for at most 2 s, then closes the socket.  The session stays at the
 * broker, which keeps queueing messages for it.  Returns SW_OK (also when
 * already stopped), SW_ETIMEOUT if the flush did not finish (unsent
 * acknowledgements only cause redeliveries), or SW_EINVAL when called
 * from inside on_message.  sw_mqtt_start() may be called again after.
 */
enum sw_err sw_mqtt_stop(struct sw_mqtt *m);

/* Stops (as sw_mqtt_stop) and frees m.  NULL is a no-op.  Not from a
 * callback of m. */
void sw_mqtt_free(struct sw_mqtt *m);

/*
 * Publishes len bytes to topic (retain off), e.g. a dead letter.  While
 * connected the message is queued in libmosquitto's memory and written on
 * the next loop iteration; at QoS 1/2 it is kept until the broker
 * acknowledges it (cb.on_published with *ret_mid), across reconnects, but
 * not across sw_mqtt_free() or a process exit: whatever must survive
 * those stays in the caller's durable queue until on_published.  While
 * not connected nothing is queued: SW_EAGAIN.  libmosquitto sends at most
 * 20 messages at once (v5: the broker's Receive Maximum) and holds the
 * rest in memory: the caller bounds how many it hands over.  Returns SW_OK
 * with *ret_mid (may be NULL) the message id; SW_EINVAL for a bad topic
 * (wildcards, invalid UTF-8) or qos; SW_ETOOBIG if len exceeds the MQTT
 * maximum (268435455); SW_EAGAIN as above or when libmosquitto refused
 * (logged at debug).  From the loop's thread, also from on_message.
 */
enum sw_err sw_mqtt_publish(struct sw_mqtt *m, const char *topic,
			    const void *payload, size_t len, int qos,
			    int *ret_mid);

/* True from the broker's SUBACK on a connection it accepted until that
 * connection ends (messages published from then on reach on_message). */
bool sw_mqtt_connected(const struct sw_mqtt *m);

/* The current state. */
enum sw_mqtt_state sw_mqtt_get_state(const struct sw_mqtt *m);

/* "stopped", "waiting", "connecting", "connected"; "?" out of range. */
const char *sw_mqtt_state_name(enum sw_mqtt_state state);

/* Copies the counters to *ret_stats. */
void sw_mqtt_get_stats(const struct sw_mqtt *m, struct sw_mqtt_stats *ret_stats);

/* The configured dead-letter topic, or NULL if disabled.  Owned by m. */
const char *sw_mqtt_deadletter_topic(const struct sw_mqtt *m);

/* The delay before the next reconnect attempt if one is scheduled, in ms
 * (after jitter), else -1.  For tests and status output. */
int64_t sw_mqtt_reconnect_delay(const struct sw_mqtt *m);

#endif /* SW_MQTT_H */
