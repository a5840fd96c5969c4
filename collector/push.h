/*
 * push.h - tracking webhooks: couriers (aggregators) that push their
 * updates to the collector instead of waiting to be polled.
 *
 * An HTTP listener (GNU libmicrohttpd) on the collector's own loop, not in
 * a thread of its own: libmicrohttpd runs without its internal thread, its
 * epoll descriptor is a read event of the loop and a loop timer follows
 * MHD_get_timeout, so every request is answered on the loop's thread and
 * goes to the store through the poll engine like a poll answer would
 * (sw_poll_push).  Loopback by default; TLS when tls_cert and tls_key are
 * set.  doc/push.md is the user's guide.
 *
 * Configuration:
 *   [push]        listen (127.0.0.1:8787), listen_public, tls_cert,
 *                 tls_key, max_body; present only when a [push NAME] is
 *   [push NAME]   one webhook: kind (aftership | easypost), courier (the
 *                 [courier NAME] its parcels belong to), secret_file /
 *                 secret_env (the webhook secret), path (/push/NAME),
 *                 poll_interval_while_pushing (24h), push_silence (2h)
 *
 * A webhook kind is one file (push_aftership.c, push_easypost.c) exporting
 * one const struct sw_push_kind, listed in sw_push_kinds[] (push_table.c):
 * the header carrying the signature, its verification, the payload's
 * parser.  Adding a kind is adding a file and a row.
 *
 * Answers (the sender retries what is not 2xx):
 *   200  journaled, or nothing new (the same event pushed again), or an
 *        event that carries no tracking update, or a parcel we do not
 *        know (logged: retrying would not make it known)
 *   400  malformed body;   401  missing or wrong signature
 *   404  no webhook at that path;   405  not POST
 *   413  body over max_body;   500  the store failed (retry)
 * Nothing refused changes anything.
 *
 * Fallback polling: a pushed parcel's next poll is put
 * poll_interval_while_pushing ahead; once no push came for push_silence,
 * the courier's parcels polled that far ahead are brought back to its
 * normal interval (sw_poll_push_idle, from a timer of the listener).
 *
 * Secrets are never logged.  Everything here runs on the loop's thread.
 */
#ifndef SW_PUSH_H
#define SW_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "collector/poll.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "slipwatch/courier.h"

#define SW_PUSH_SIG_MAX 512 /* bytes of a signature header we look at */

/* ---- webhook kinds ------------------------------------------------------ */

/* What a payload came to. */
enum sw_push_parsed {
	SW_PUSH_UPDATE,	   /* a tracking update: the result is FOUND */
	SW_PUSH_IGNORED,   /* a well-formed event that is no tracking update
			      (AfterShip tracking_pending_time, EasyPost
			      batch.updated): answered 200, nothing changed */
	SW_PUSH_MALFORMED, /* not the documented payload: 400 */
	SW_PUSH_PARSED_LAST
};

/* One webhook kind: how it is signed and what it sends. */
struct sw_push_kind {
	const char *name;	/* "aftership": the kind word */
	const char *sig_header; /* the request header with the signature */
	/*
	 * true if sig (the header's value, NULL when absent) is the kind's
	 * signature of body[0..len) with key[0..keylen).  Compared in constant
	 * time.  Pure.
	 */
	bool (*verify)(const char *key, size_t keylen, const char *sig, const char *body,
		       size_t len);
	/*
	 * Parses a verified body[0..len) (not NUL-terminated).  On
	 * SW_PUSH_UPDATE ret (zeroed by the caller) is FOUND with its
	 * tracking_number set, and *ret_alt (may be NULL) is the courier's own
	 * id of the tracking (AfterShip's tracking id, EasyPost's trk_...),
	 * tried when no parcel has the tracking number; caller frees both.
	 * err gets a one-line reason for SW_PUSH_IGNORED and
	 * SW_PUSH_MALFORMED.  Pure.
	 */
	enum sw_push_parsed (*parse)(const char *body, size_t len, struct sw_courier_result *ret,
				     char **ret_alt, char *err, size_t errlen);
};

extern const struct sw_push_kind sw_push_aftership;
extern const struct sw_push_kind sw_push_easypost;

/* Every kind, in the order of enum sw_push_kind_id, NULL-terminated. */
enum sw_push_kind_id { SW_PUSH_KIND_AFTERSHIP, SW_PUSH_KIND_EASYPOST, SW_PUSH_KIND_LAST };
extern const struct sw_push_kind *const sw_push_kinds[];
/* The kind words, indexed by enum sw_push_kind_id (the ENUM option). */
extern const char *const sw_push_kind_words[];

/* HMAC-SHA256 of data with key into mac (32 bytes).  false if libcrypto
 * failed. */
bool sw_push_hmac(const char *key, size_t keylen, const char *data, size_t len,
		  unsigned char mac[32]);

/* Makes s one printable line in place: control bytes (newlines included)
 * become '?'.  For reasons and numbers that came from a body and go to the
 * log or an answer.  Returns s. */
char *sw_push_oneline(char *s);

/*
 * A webhook's documented envelope, for sw_push_parse_envelope: an object
 * whose type_key (NULL: none checked) is type_value, whose event_key names
 * the event, one of events carrying the tracking object under object_key,
 * matched by its number_key and, failing that, its id_key.
 */
struct sw_push_envelope {
	const char *type_key, *type_value; /* EasyPost: "object": "Event" */
	const char *event_key;		   /* "event", "description" */
	const char *const *events;	   /* those carrying a tracking, NULL-ended */
	const char *object_key;		   /* "msg", "result" */
	const char *number_key;		   /* "tracking_number", "tracking_code" */
	const char *id_key;		   /* the courier's own id: "id" */
	const char *not_this;		   /* why the envelope is refused */
	const char *carries;		   /* what the events above carry */
	/* Reads the tracking object into r (tracking_number set): FOUND, or
	 * ERROR with a message. */
	void (*read)(struct sw_courier_result *r, json_t *obj);
};

/* The parse of a kind whose payload is envelope env (the contract of
 * sw_push_kind.parse): JSON (duplicate keys refused), the envelope, then
 * env->read.  Reasons are one line (sw_push_oneline). */
enum sw_push_parsed sw_push_parse_envelope(const struct sw_push_envelope *env, const char *body,
					   size_t len, struct sw_courier_result *r,
					   char **ret_alt, char *err, size_t errlen);

/* true if a[0..n) equals b[0..n), in time independent of where they
 * differ. */
bool sw_push_equal(const void *a, const void *b, size_t n);

/* ---- configuration ------------------------------------------------------ */

/* One [push NAME] section. */
struct sw_push_hook_conf {
	char *name;		      /* NAME (not from the table); owned */
	int kind;		      /* enum sw_push_kind_id */
	char *courier;		      /* [courier NAME] of its parcels */
	struct sw_conf_secret secret; /* secret_file / secret_env */
	char *path;		      /* URL path; NULL: /push/NAME */
	int64_t poll_while_pushing;   /* ms; next poll of a pushed parcel */
	int64_t silence;	      /* ms without a push: polling resumes */
};

/* [push] and every [push NAME]. */
struct sw_push_conf {
	char *listen;	    /* IPV4:PORT or [IPV6]:PORT */
	bool listen_public; /* a non-loopback listen address allowed */
	char *tls_cert;	    /* PEM files; both or neither */
	char *tls_key;
	int64_t max_body;		 /* bytes */
	struct sw_push_hook_conf *hooks; /* n, file order */
	size_t n;
};

extern const struct sw_conf_opt sw_push_table[];      /* [push] */
extern const struct sw_conf_opt sw_push_hook_table[]; /* [push NAME] */

/*
 * Reads [push] and every [push NAME] of conf and checks what the tables
 * cannot: courier names a section of poll (a [courier NAME]) whose
 * interval is shorter than poll_interval_while_pushing, a secret is set
 * (from a file only its owner may read; EasyPost's: ASCII, as NFKD
 * normalisation is not done here), paths that start with '/' and differ, tls_cert and tls_key both
 * or neither (and readable unless text only), the listen address (a
 * loopback one unless listen_public).  SW_OK with *ret (free with
 * sw_push_conf_free; n 0 without [push NAME]), or SW_ECONF with errbuf
 * "FILE:LINE: [push NAME] key: what: 'text'" and *ret NULL.  Never writes
 * a secret.  Any thread.
 */
enum sw_err sw_push_conf_load(struct sw_conf *conf, const struct sw_poll_conf *poll,
			      struct sw_push_conf **ret, char *errbuf, size_t errlen);

/* Frees a conf from sw_push_conf_load (secrets wiped); NULL is a no-op. */
void sw_push_conf_free(struct sw_push_conf *pc);

/* Appends [push] and every [push NAME] as INI text (-t -v); no secret. */
void sw_push_conf_dump(const struct sw_push_conf *pc, struct sw_buf *out);

/* ---- the listener -------------------------------------------------------- */

struct sw_push; /* opaque */

/* Counters since sw_push_start (tests, logs). */
struct sw_push_stats {
	uint64_t requests;   /* requests answered */
	uint64_t applied;    /* updates the store took (2xx) */
	uint64_t events_new; /* events journaled */
	uint64_t ignored;    /* 2xx with nothing to apply */
	uint64_t unknown;    /* updates for a parcel we do not know */
	uint64_t bad_sig;    /* 401 */
	uint64_t malformed;  /* 400 */
	uint64_t too_big;    /* 413 */
	uint64_t store_fail; /* 500 */
};

/*
 * Listens as conf says on loop and hands verified updates to poll (which
 * has every courier a hook names).  conf, loop and poll are borrowed and
 * must outlive the listener.  SW_OK with *ret, or SW_EIO (cannot bind, TLS
 * files unreadable, libmicrohttpd refused) with errbuf saying why.  From
 * the loop's thread, not from a callback of the listener.
 */
enum sw_err sw_push_start(struct sw_loop *loop, struct sw_poll_engine *poll,
			  const struct sw_push_conf *conf, struct sw_push **ret, char *errbuf,
			  size_t errlen);

/* Closes every connection and the socket; NULL is a no-op. */
void sw_push_stop(struct sw_push *ps);

/* The listener's counters. */
void sw_push_get_stats(const struct sw_push *ps, struct sw_push_stats *ret);

/* ---- the poll engine's side (poll_push.c) ------------------------------- */

/*
 * Sets courier name's push fallback: a pushed parcel is next polled after
 * while_pushing_ms; silence_ms without a push brings its parcels back to
 * the normal interval.  SW_OK or SW_ENOTFOUND (no such courier).
 */
enum sw_err sw_poll_push_setup(struct sw_poll_engine *p, const char *name, int64_t while_pushing_ms,
			       int64_t silence_ms);

/*
 * For every courier that was pushing and has had no push for its
 * silence: its parcels scheduled further ahead than its normal interval
 * are due again within that interval (spread), and it is no longer
 * pushing.  Returns how many schedules were brought back; store failures
 * are logged and retried on the next call.  From the loop.
 */
int64_t sw_poll_push_idle(struct sw_poll_engine *p);

/* true while courier name had a push within its silence. */
bool sw_poll_pushing(const struct sw_poll_engine *p, const char *name);

#endif /* SW_PUSH_H */
