/*
 * channel.h - notification channels: one descriptor table, one row per
 * way of delivering a notice (email, a shop's own webhook, and later the
 * on-call channels: generic webhook, Slack, PagerDuty).
 *
 * A channel is one .c file exporting one const struct sw_channel_ops (a
 * name, its config section and option table, and function pointers) and
 * one row in sw_channel_table[] (tmux cmd_table[], curl's TLS backends).
 * Adding a channel is adding a file and a row; the outbox sender
 * (notify.c) and the page sender (pager.c) know channels only through
 * this header.  The rows that POST JSON (webhook, Slack, PagerDuty) share
 * their HTTP part (alerts/chan_http.h).
 *
 * Two kinds of row: customer channels (email, webhook: a section of their
 * own, [smtp] and [customer_webhook], and [alerts] channel picks one for
 * customer notices) and receiver-only channels (slack, pagerduty:
 * pages_only; they are set up only in [receiver NAME] sections, their
 * section member is a reserved name that sw_channel_conf_load refuses).
 * Every row but email can also be set up in a [receiver NAME] section
 * with the row's own option table (sw_receivers_load); email receivers
 * send through the [smtp] channel.
 *
 * A customer channel is used like this:
 *
 *   ops = sw_channel_find(row->channel);          the outbox column value
 *   sw_channel_conf_load(ops, file, &cc, ...);    [section] -> conf struct
 *   sw_channel_open(ops, cc, &ch, ...);           no connection made yet
 *   r = sw_channel_send(ch, &notice, &retry_after, detail, sizeof detail);
 *   if (r == SW_CHAN_TEMPFAIL && sw_channel_server_fault(ch)) the rest of
 *       the round waits (the server or the path to it is the trouble)
 *   sw_channel_close(ch); sw_channel_conf_free(ops, cc);
 *
 * Results (what the outbox does next):
 *   SW_CHAN_SENT      the receiver took the notice (SMTP 250 to the data,
 *                     HTTP 2xx): it is the receiver's responsibility now
 *   SW_CHAN_TEMPFAIL  not delivered; the same notice may succeed later
 *                     (retry_after, when > 0, is the receiver's own hint)
 *   SW_CHAN_FAILED    not delivered and it never will be: the receiver
 *                     refused this notice, or the notice itself is unusable
 * Retries of one notice must carry the same key (the outbox row's
 * idempotency key) and the same id/created_at, so a receiver that took a
 * notice whose acknowledgement was lost can fold the resend (email:
 * Message-ID; webhook: Idempotency-Key and the body's "id").
 *
 * Ownership: the table and its rows are static const data.  A conf struct
 * from sw_channel_conf_load() belongs to the caller; an open channel copies
 * what it needs from it, so the conf may be freed (or replaced on reload)
 * while the channel stays open.  struct sw_notice strings are borrowed for
 * one call.
 *
 * Threads and blocking: an open channel is used from one thread (the
 * daemon's loop).  sw_channel_send() blocks, bounded by the channel's own
 * timeout (the mailer's connect_timeout + timeout, the webhook's timeout).
 * Channels that use libcurl need curl_global_init() before the first
 * open.  Nothing here prints or logs; details and errors come back as
 * text, never holding a secret.
 */
#ifndef SW_ALERTS_CHANNEL_H
#define SW_ALERTS_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/error.h"

#define SW_CHAN_DETAIL_LEN      600   /* a detail buffer that loses nothing */
#define SW_CHAN_RETRY_AFTER_MAX 86400 /* retry_after hints are capped to this */
#define SW_CHAN_KEY_MAX         200   /* bytes in a notice key */

/* What an on-call page adds to a notice (alerts/pages.h).  Strings
 * borrowed for the call. */
struct sw_page_notice {
	const char *event;     /* "trigger", "acknowledge", "resolve" (the
				  PagerDuty event_action words) */
	const char *dedup_key; /* stable for one incident of one page:
				  "slipwatch/RULE/SUBJECT/INCIDENT" */
	const char *severity;  /* "critical", "warning" */
	const char *state;     /* "firing", "nodata", "resolved" */
	const char *rule;      /* [page NAME] */
	const char *source;    /* where it happens: "warehouse w1",
				  "courier dhl", or [pages] source */
	const char *labels;    /* "k=v,k=v" */
	const char *figures_json; /* JSON object: the numbers behind it */
	const char *stage;	  /* the stage that ran over, as named by
				     slips and signals ("line_haul",
				     "warehouse"; sw_stage_words in
				     alerts/stage.h words it); NULL: none */
	const char *acked_by;  /* acknowledge: who; else NULL */
	const char *receiver;  /* [receiver NAME] */
	int64_t since;	       /* incident start (unix s) */
	bool repeat;	       /* a reminder of a trigger already sent */
	bool escalation;       /* sent to the escalation receiver */
};

/* One notice to deliver, already rendered.  Strings borrowed for the call. */
struct sw_notice {
	int64_t id;		    /* outbox row id of the lead row (>= 0) */
	int64_t created_at;	    /* that row's creation time (unix s, >= 0) */
	const char *key;	    /* idempotency key, stable across retries of
				       this notice: 1..SW_CHAN_KEY_MAX bytes of
				       printable ASCII without spaces */
	const char *kind;	    /* lead kind: "late", "ship_late", "shipped", "cohort", ... */
	const char *recipient;	    /* email address (email) / customer email or
				       phone (webhook) */
	const char *recipient_name; /* may be NULL */
	const char *phone;	    /* may be NULL */
	const char *locale;	    /* may be NULL */
	const char *order_id, *warehouse_id; /* may be NULL */
	const char *subject, *text, *html;   /* rendered; html may be NULL */
	const char *unsubscribe_link;	     /* may be NULL */
	bool one_click;			     /* RFC 8058 List-Unsubscribe-Post */
	const char *facts_json; /* JSON object text with the notice's facts
				   (kinds, parcels...); may be NULL */
	int64_t date;		/* now (unix s); <= 0: the system clock */
	const struct sw_page_notice *page; /* an on-call page (recipient: the
					      address for email, else the
					      receiver's name; subject: the
					      summary; text: the details);
					      NULL: a customer notice */
};

enum sw_chan_result {
	SW_CHAN_SENT,	  /* delivered: the receiver has it */
	SW_CHAN_TEMPFAIL, /* not delivered; the same notice may succeed later */
	SW_CHAN_FAILED,	  /* not delivered; this notice never will be */
	SW_CHAN_RESULT_LAST
};

/* "sent", "tempfail", "failed"; "?" for other values. */
const char *sw_chan_result_name(enum sw_chan_result r);

struct sw_channel; /* an open channel: its row and its state (opaque) */

/*
 * One row of the table.  Every member is set (no NULL pointers); the
 * functions are called only through the wrappers below, which check their
 * arguments, so a row may assume them valid.
 */
struct sw_channel_ops {
	const char *name;	      /* outbox channel column value: "email", "webhook" */
	const char *section;	      /* its config section: "smtp", "customer_webhook";
					 pages_only rows: a reserved name
					 ("slack"), never read */
	const struct sw_conf_opt *opts; /* option table of that section (and of
					   its [receiver NAME] sections) */
	size_t conf_size;	      /* size of the struct opts fills */
	bool pages_only;	      /* on-call only: set up in [receiver NAME],
					 never a customer's channel */
	/* Cross-field checks after sw_conf_apply: everything open needs, so
	 * that a conf it accepts opens.  kind and name are the section the
	 * conf came from ("customer_webhook", NULL; "receiver", "ops"), for
	 * the errors and sw_conf_where.  SW_OK, or SW_ECONF with err
	 * "FILE:LINE: [kind name] key: what: 'bad'" (the key's line, else the
	 * section's; secrets never quoted), without "FILE:LINE: " when file
	 * is NULL (called again by open).  With a file that is not
	 * sw_conf_text_only() it also checks what open checks on the file
	 * system (a directory to write to); otherwise no I/O. */
	enum sw_err (*check)(const void *conf, const struct sw_conf *file, const char *kind,
			     const char *name, char *err, size_t len);
	/* A new state from a checked conf (copied: conf may go away).
	 * Connects nothing.  SW_OK with *ret_state, else SW_ECONF or SW_EIO
	 * with err set and *ret_state NULL. */
	enum sw_err (*open)(const void *conf, void **ret_state, char *err, size_t len);
	/* Closes connections and frees state (secret copies wiped). */
	void (*close)(void *state);
	/* Delivers n (already checked by sw_channel_send); see Results above.
	 * *ret_retry_after_s is preset to 0; detail is preset to "". */
	enum sw_chan_result (*send)(void *state, const struct sw_notice *n,
				    int64_t *ret_retry_after_s, char *detail, size_t len);
	/* The last send was a TEMPFAIL that was the server's or the path's
	 * fault, not this notice's: the rest of a round should wait. */
	bool (*server_fault)(void *state);
	/* Frees what sw_conf_apply and check put in conf (not conf itself). */
	void (*conf_free)(void *conf);
};

/* Every channel, email first, NULL-terminated.  Callers look rows up by
 * name (sw_channel_find) or walk this table. */
extern const struct sw_channel_ops *const sw_channel_table[];

/* The rows, one per file; declared here so that each file is checked
 * against the table's type.  A new channel adds a line here and a row
 * in channel.c. */
extern const struct sw_channel_ops sw_chan_email;   /* chan_email.c: "email", [smtp] */
extern const struct sw_channel_ops sw_chan_webhook; /* chan_webhook.c: "webhook",
						       [customer_webhook] */
extern const struct sw_channel_ops sw_chan_slack;   /* chan_slack.c: "slack",
						       receivers only */
extern const struct sw_channel_ops sw_chan_pagerduty; /* chan_pagerduty.c:
							 "pagerduty", receivers
							 only */

/* The row whose name is name ("email", "webhook"), or NULL (also for a
 * NULL name).  Pure. */
const struct sw_channel_ops *sw_channel_find(const char *name);

/*
 * Loads ops's section from conf (sw_conf_apply with ops->opts, which marks
 * the section used) into a new zeroed struct of ops->conf_size bytes, then
 * runs ops->check.  A missing section gives every option its default (and
 * check then says what is missing).  conf may be NULL: defaults only.
 * With sw_conf_text_only(conf) secrets are not read (lib/conf.h).
 * Returns SW_OK with *ret_conf (the caller's: free with
 * sw_channel_conf_free), or SW_ECONF with *ret_conf NULL and err holding
 * the first problem, naming the file (and the line when the conf library
 * knows it).  A pages_only row has no section of its own: SW_ECONF
 * ("FILE:LINE: [slack]: slack is set up in [receiver NAME] sections
 * (channel = slack)").  Reads secret files; any thread that owns conf.
 */
enum sw_err sw_channel_conf_load(const struct sw_channel_ops *ops, struct sw_conf *conf,
				 void **ret_conf, char *err, size_t len);

/* Frees a conf struct from sw_channel_conf_load (secrets wiped).  NULL is
 * a no-op. */
void sw_channel_conf_free(const struct sw_channel_ops *ops, void *chconf);

/* Appends the effective settings of chconf as INI text (sw_conf_dump; no
 * secret value is ever written).  SW_OK or SW_ETOOBIG. */
enum sw_err sw_channel_conf_dump(const struct sw_channel_ops *ops, const void *chconf,
				 struct sw_buf *out);

/*
 * Opens a channel from a conf struct of the same row (checked again by the
 * row).  No connection is made: the first send connects.  Returns SW_OK
 * with *ret_ch (close with sw_channel_close), or with *ret_ch NULL:
 *   SW_EINVAL  ops or chconf NULL
 *   SW_ECONF   the conf is not usable (err says which key)
 *   SW_EIO     a library could not set up (err has its text)
 * curl_global_init() must have been called.
 */
enum sw_err sw_channel_open(const struct sw_channel_ops *ops, const void *chconf,
			    struct sw_channel **ret_ch, char *err, size_t len);

/*
 * Delivers one notice; blocks at most the channel's timeout.  Checks what
 * every row needs first (id and created_at >= 0, key as described in
 * struct sw_notice, kind, recipient, subject and text set): a notice
 * failing that is SW_CHAN_FAILED ("bad notice: ...") and nothing is sent.
 * *ret_retry_after_s (may be NULL) gets the receiver's hint in seconds,
 * 0..SW_CHAN_RETRY_AFTER_MAX, 0 meaning none (the caller's own backoff).
 * detail (if len > 0) gets one line for the outbox and the log, e.g.
 * "HTTP 200", "HTTP 400: phone number not on WhatsApp",
 * "250 2.0.0 OK: queued as 12"; SW_CHAN_DETAIL_LEN loses nothing.
 */
enum sw_chan_result sw_channel_send(struct sw_channel *ch, const struct sw_notice *n,
				    int64_t *ret_retry_after_s, char *detail, size_t len);

/* True if the last send was a TEMPFAIL that was not the notice's fault
 * (no connection, timeout, TLS, an SMTP refusal before RCPT TO; HTTP 5xx,
 * 429, 401, 407, or a redirect): the next notice would fail the same way
 * now.  False before any send and after a send that was not a TEMPFAIL. */
bool sw_channel_server_fault(const struct sw_channel *ch);

/* The channel's row (never NULL) and its name ("email"). */
const struct sw_channel_ops *sw_channel_ops_of(const struct sw_channel *ch);
const char *sw_channel_name(const struct sw_channel *ch);

/* Closes connections and frees ch.  NULL is a no-op. */
void sw_channel_close(struct sw_channel *ch);

/* ---- on-call receivers ([receiver NAME]) ----------------------------------- */

/*
 * A receiver: a named destination for pages, of one channel.
 *   [receiver oncall-mail]  channel = email, to = a@x.example, b@y.example
 *                           (sent through the [smtp] channel: its
 *                           connection and settings)
 *   [receiver ops-hook]     channel = webhook and the [customer_webhook]
 *                           keys (url, secret_file, ...)
 *   [receiver ops-slack]    channel = slack, url_file / url_env (the
 *                           incoming webhook URL is a secret), timeout
 *   [receiver pd]           channel = pagerduty, routing_key_file /
 *                           routing_key_env, url (default the Events
 *                           API v2 enqueue endpoint), timeout
 * Every receiver also takes send_resolved (default yes).
 */
struct sw_receiver_conf {
	char *name;
	const struct sw_channel_ops *ops; /* its channel's row */
	char **to;			  /* email: addresses (n_to >= 1) */
	size_t n_to;
	bool send_resolved;
	void *chconf; /* the channel's conf for the receiver (open it with
			 sw_channel_open); NULL for email (the [smtp] one) */
};

/* Loads every [receiver NAME] section into a new array (NULL/0 if none).
 * SW_OK or SW_ECONF with "FILE:LINE: [receiver NAME] key: what: 'bad'"
 * (unknown channel, a key the channel does not take, an address that is
 * not one, a URL that is not https:// unless loopback, a missing secret).
 * Secrets are read unless sw_conf_text_only(file). */
enum sw_err sw_receivers_load(struct sw_conf *file, struct sw_receiver_conf **ret,
			      size_t *ret_n, char *err, size_t len);

void sw_receivers_free(struct sw_receiver_conf *r, size_t n);

/* Appends the receivers' effective settings (no secret values). */
void sw_receivers_dump(const struct sw_receiver_conf *r, size_t n, struct sw_buf *out);

/* ---- helpers for rows (pure, any thread) -------------------------------- */

/* A check's error: "FILE:LINE: [kind name] key: what: 'bad'" into err (bad
 * cleaned and cut to 60 bytes; LINE the key's, else the section's; no
 * "FILE:LINE: " when file is NULL; no quote when bad is NULL; no key part
 * when key is NULL).  Returns SW_ECONF. */
enum sw_err sw_channel_conf_err(char *err, size_t len, const struct sw_conf *file,
				const char *kind, const char *name, const char *key,
				const char *what, const char *bad);

/* What is wrong with a page notice (event, dedup_key at most 255 bytes of
 * printable ASCII, severity, state, rule set), or NULL.  sw_channel_send
 * checks it for every notice with a page. */
const char *sw_channel_page_problem(const struct sw_page_notice *p);

/* Writes t (unix s, 0..year 9999) as RFC 3339 UTC, "2026-11-24T09:15:00Z".
 * SW_OK, SW_ERANGE, or SW_ETOOBIG (21 bytes are enough). */
enum sw_err sw_channel_rfc3339(int64_t t, char *buf, size_t len);

/*
 * Copies a receiver's text (n bytes, not NUL-terminated, any bytes) into
 * out as one clean line for a detail: control characters (C0, DEL, C1,
 * U+2028/9) and runs of blanks become one space, invalid UTF-8 becomes
 * '?', ends trimmed, at most max bytes (cut on a character boundary, "..."
 * appended when cut) and at most outlen - 1.  Returns the bytes written.
 */
size_t sw_channel_excerpt(const char *in, size_t n, size_t max, char *out, size_t outlen);

/* The value of a Retry-After header (RFC 9110: delay-seconds or an
 * HTTP-date) as seconds after now, 0..SW_CHAN_RETRY_AFTER_MAX; 0 for a
 * past date or a value that is neither. */
int64_t sw_channel_retry_after(const char *value, int64_t now);

#endif /* SW_ALERTS_CHANNEL_H */
