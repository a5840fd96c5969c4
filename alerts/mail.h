/*
 * mail.h - the alert engine's mailer: one customer email per call, over
 * SMTP with libcurl, or written to a directory instead (dry run).
 *
 * A struct sw_mail holds ONE libcurl easy handle for its whole life, so
 * libcurl keeps the SMTP connection open between messages (its connection
 * cache): N messages in a row cost one TCP/TLS/AUTH setup, not N.  After
 * any failed transfer the next send opens a fresh connection.
 *
 * Messages are multipart/alternative (text/plain and text/html, both
 * charset=UTF-8) built with the curl MIME API (curl_mime_*); the mail
 * headers go in through CURLOPT_HTTPHEADER, which libcurl writes as the
 * top-level headers of the MIME document for SMTP.  One function builds
 * the header lines for both the SMTP and the dry-run path.  No value from
 * a message can add a header line: addresses must be plain addr-specs,
 * names and subjects have control characters (CR, LF, ...) replaced, and
 * anything not printable ASCII is RFC 2047 encoded.
 *
 * Result classification (what the outbox does next):
 *   SW_MAIL_SENT      the relay answered 250 to the end of the data: the
 *                     message is the relay's responsibility now
 *   SW_MAIL_TEMPFAIL  try again later: 4xx replies, no connection, time-
 *                     outs, TLS failures, and 5xx replies that say the
 *                     sender or relay setup is wrong rather than this
 *                     message (greeting, EHLO, STARTTLS, AUTH, MAIL FROM
 *                     except 552, and enhanced codes 5.5.x protocol and
 *                     5.7.x policy/relay/auth denied at any stage):
 *                     those would fail every message, and calling them
 *                     permanent would lose every customer's email
 *   SW_MAIL_PERMFAIL  this message will never be accepted: a bad message
 *                     (checked before anything is sent: recipient not a
 *                     plain address, missing part, ...), or a 5xx reply to
 *                     RCPT TO, DATA or the end of the data (e.g. 550 5.1.1
 *                     unknown user), or 552 to MAIL FROM (too big)
 * What libcurl 7.88 returns (measured against tests/tools/smtp_sink.py):
 * a 4xx/5xx to RCPT TO or MAIL FROM is CURLE_SEND_ERROR ("RCPT failed:
 * 550"), a 4xx/5xx after the data is CURLE_WEIRD_SERVER_REPLY ("Weird
 * server reply"), a connection dropped before the final reply is
 * CURLE_RECV_ERROR, a refused connection CURLE_COULDNT_CONNECT.  Since
 * the curl code does not say which command failed, the mailer follows the
 * dialogue itself (CURLOPT_DEBUGFUNCTION: the verbs it sends, the replies
 * it gets; AUTH arguments are never looked at or kept) and classifies on
 * the command and the reply code.  After a failure libcurl sends QUIT and
 * closes the connection itself; the mailer also sets CURLOPT_FRESH_CONNECT
 * for the next send, so a broken connection is never reused.
 *
 * The detail text (one line, printable ASCII) is the relay's final reply
 * line, e.g. "250 2.0.0 Ok: queued as 4F2A1", or for failures
 * "550 5.1.1 unknown user (at RCPT TO; curl: RCPT failed: 550)" or
 * "no SMTP reply: Couldn't connect to server (curl: Failed to connect to
 * 127.0.0.1 port 2525 after 0 ms: ...)".  It starts with the 3-digit
 * reply code whenever there was a reply.  It never holds the password.
 *
 * Process setup: the daemon calls curl_global_init(CURL_GLOBAL_DEFAULT)
 * once at start, before any sw_mail_new(), and curl_global_cleanup() at
 * exit; tests and benches do the same.
 *
 * Blocking: sw_mail_send() blocks until the relay answers, at most
 * connect_timeout + timeout.  A struct sw_mail is used from one thread.
 * Nothing here prints or logs.
 */
#ifndef SW_MAIL_H
#define SW_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/error.h"

#define SW_MAIL_ADDR_MAX    254		  /* bytes in an address (RFC 5321) */
#define SW_MAIL_NAME_MAX    200		  /* display name, bytes after cleaning */
#define SW_MAIL_SUBJECT_MAX 900		  /* subject bytes kept (cut on a char) */
#define SW_MAIL_BODY_MAX    (1024 * 1024) /* each of text and html, bytes */
#define SW_MAIL_UNSUB_MAX   2000	  /* list_unsubscribe, bytes */
#define SW_MAIL_MSGID_LEN   160		  /* buffer for sw_mail_message_id */
#define SW_MAIL_DATE_LEN    40		  /* buffer for sw_mail_format_date */
#define SW_MAIL_DETAIL_LEN  512		  /* a detail buffer that loses nothing */
#define SW_MAIL_ENCODED_MAX 4096	  /* sw_mail_encode_header_word output */

/* Values of struct sw_mail_conf.tls ("tls = ..." in [smtp]). */
enum sw_mail_tls {
	SW_MAIL_TLS_AUTO,	   /* "auto" (default): STARTTLS required, except
				      to a loopback host (127.0.0.0/8, ::1,
				      localhost), where no TLS is used */
	SW_MAIL_TLS_STARTTLS,	   /* "starttls": STARTTLS required
				      (CURLUSESSL_ALL); no TLS, no mail */
	SW_MAIL_TLS_OPPORTUNISTIC, /* "opportunistic": STARTTLS if offered
				      (CURLUSESSL_TRY); an attacker on the path
				      can strip it */
	SW_MAIL_TLS_OFF,	   /* "off": plain SMTP (CURLUSESSL_NONE) */
	SW_MAIL_TLS_LAST
};

/*
 * Section [smtp] of slipwatch.conf, filled by sw_conf_apply() with
 * sw_mail_conf_table, checked with sw_mail_conf_check(), released with
 * sw_mail_conf_free().  Keys:
 *
 *   url = smtp://127.0.0.1:25      relay; smtp://HOST[:PORT][/EHLO-NAME] or
 *                                  smtps://... (TLS from the first byte,
 *                                  port 465).  Nothing else: no user or
 *                                  password in the URL, no query.  The
 *                                  optional path is the name sent in EHLO
 *                                  (default: this machine's host name).
 *   tls = auto                     auto | starttls | opportunistic | off,
 *                                  for smtp:// (smtps:// is always TLS).
 *       Why "auto": the design wants TLS verified by default, and a relay
 *       across a network must not get mail (or a password) in the clear,
 *       so any host but loopback requires STARTTLS.  The default url is a
 *       local relay on 127.0.0.1:25, where TLS protects nothing (the bytes
 *       never leave the machine) and where Debian's Postfix offers STARTTLS
 *       with a self-signed "snakeoil" certificate that verification would
 *       (rightly) reject: "opportunistic" would then fail every message,
 *       "starttls" too.  So loopback means plain SMTP, anything else means
 *       STARTTLS required; set tls explicitly to override either way.
 *   tls_verify = yes               verify the relay's certificate and host
 *                                  name; "no" is for tests only
 *   ca_file = PATH                 CA bundle (default: system store)
 *   username = NAME                AUTH user; needs password
 *   password_file = PATH           AUTH password (or password_env = VAR);
 *                                  refused unless the connection is
 *                                  verified TLS for sure (smtps://, tls =
 *                                  starttls, or auto to a non-loopback
 *                                  host; tls_verify = yes) or loopback
 *   from = Shop <orders@shop.example>   From: and envelope sender; a bare
 *                                  address works too.  Required to send.
 *   reply_to = Support <help@shop.example>   optional Reply-To:
 *   connect_timeout = 10s          TCP (+TLS) connect limit
 *   timeout = 60s                  whole-message limit (connect included)
 *   dry_run_dir = PATH             send nothing: write each message as
 *                                  PATH/<message-id local part>.eml
 *                                  (complete RFC 5322 text, mode 0600,
 *                                  temp file + fsync + rename)
 */
struct sw_mail_conf {
	char *url;			/* smtp:// or smtps:// */
	int tls;			/* enum sw_mail_tls */
	bool tls_verify;		/* peer and host name verification */
	char *ca_file;			/* NULL: system CA store */
	char *username;			/* NULL: no AUTH */
	struct sw_conf_secret password; /* password_file / password_env */
	char *from;			/* "Name <addr>" or "addr" */
	char *reply_to;			/* NULL: no Reply-To */
	int64_t connect_timeout;	/* ms */
	int64_t timeout;		/* ms */
	char *dry_run_dir;		/* NULL: really send */
};

/* The option table for [smtp] (NULL-name terminated). */
extern const struct sw_conf_opt sw_mail_conf_table[];

/*
 * Checks what one option cannot check alone, after sw_conf_apply(): url is
 * smtp:// or smtps:// with a host and no user, password, query or
 * fragment; tls = off is not combined with smtps://; password only with
 * username and username only with password; the password is not sent
 * where it could be read (see password_file above); ca_file not with TLS
 * off; from and reply_to (when set) are "Name <addr>" or "addr" with a
 * plain address; connect_timeout <= timeout.  from may be unset here (a
 * program that sends no mail need not set it); sw_mail_new() requires it.
 * Returns SW_OK, or SW_ECONF with errbuf (if errlen > 0) holding
 * "[smtp] KEY: what: 'bad text'" (secrets and URLs with credentials are
 * never quoted).  Pure: any thread, no I/O.
 */
enum sw_err sw_mail_conf_check(const struct sw_mail_conf *c, char *errbuf, size_t errlen);

/* What sw_mail_new() checks on the file system: dry_run_dir (when set)
 * an existing directory we may create files in.  SW_OK, or SW_ECONF with
 * errbuf "[smtp] dry_run_dir: what: 'DIR'".  Any thread; stats only. */
enum sw_err sw_mail_conf_check_files(const struct sw_mail_conf *c, char *errbuf, size_t errlen);

/* Frees the strings and the secret (wiped) in c; c itself is the
 * caller's.  Safe on a zeroed struct. */
void sw_mail_conf_free(struct sw_mail_conf *c);

struct sw_mail; /* one mailer: a curl handle and what it needs; opaque */

/*
 * Creates a mailer from a checked or unchecked conf (checked again here).
 * Everything needed is copied: conf may be freed afterwards.  Needs from;
 * with dry_run_dir the directory must exist and be writable, and no curl
 * handle is created (nothing ever connects).  No connection is made here:
 * the first sw_mail_send() connects.
 * Returns SW_OK with *ret_m (free with sw_mail_free), or with *ret_m NULL:
 *   SW_ECONF  conf is invalid, from is missing, dry_run_dir unusable
 *             (errbuf: "[smtp] KEY: ...")
 *   SW_EIO    libcurl could not create or set up a handle (errbuf says)
 * curl_global_init() must have been called.  Any thread.
 */
enum sw_err sw_mail_new(const struct sw_mail_conf *conf, struct sw_mail **ret_m, char *errbuf,
			size_t errlen);

/* Closes the connection (QUIT) and frees m, wiping the password copy.
 * NULL is a no-op. */
void sw_mail_free(struct sw_mail *m);

/* The domain of the from address ("shop.example"), for
 * sw_mail_message_id().  Owned by m. */
const char *sw_mail_from_domain(const struct sw_mail *m);

/* One message.  Every string is borrowed for the call only. */
struct sw_mail_msg {
	const char *to_addr;	      /* required: plain addr-spec local@domain
					 (ASCII, no quotes, spaces, <>,; CR LF) */
	const char *to_name;	      /* optional display name, UTF-8; control
					 characters become spaces */
	const char *subject;	      /* required, UTF-8, one line; control
					 characters (CR, LF, ...) become spaces,
					 longer than SW_MAIL_SUBJECT_MAX is cut */
	const char *text;	      /* required: text/plain part, UTF-8, LF or
					 CRLF line ends */
	const char *html;	      /* required: text/html part, UTF-8 */
	int64_t date;		      /* Date: header, unix seconds; <= 0: now */
	const char *message_id;	      /* required: "<local@domain>" from
					 sw_mail_message_id(); local part of
					 [A-Za-z0-9._+-] (the dry-run file name) */
	const char *list_unsubscribe; /* optional: 1..4 https:, http: or mailto:
					 URLs separated by blanks (commas belong
					 to a URL) -> "List-Unsubscribe: <u>,
					 <v>"; none may hold < > " or spaces */
	bool list_unsubscribe_post;   /* add "List-Unsubscribe-Post:
					 List-Unsubscribe=One-Click" (RFC 8058)
					 when list_unsubscribe has an https URL */
};

enum sw_mail_result {
	SW_MAIL_SENT,	  /* accepted by the relay (or written, dry run) */
	SW_MAIL_TEMPFAIL, /* not sent; the same message may succeed later */
	SW_MAIL_PERMFAIL, /* not sent; this message never will be */
	SW_MAIL_RESULT_LAST
};

/* "sent", "tempfail", "permfail"; "?" for other values. */
const char *sw_mail_result_name(enum sw_mail_result r);

/*
 * Sends msg (see the classification at the top of this file).  detail
 * (if detail_len > 0) gets one line saying what happened; for a dry run
 * "dry-run: DIR/LOCAL.eml".  With the same message_id a dry run
 * overwrites the earlier file (same message).  Dry-run write failures are
 * TEMPFAIL.  Blocks, at most connect_timeout + timeout (the connect is
 * part of timeout).  The caller calls it again for a TEMPFAIL, later.
 */
enum sw_mail_result sw_mail_send(struct sw_mail *m, const struct sw_mail_msg *msg, char *detail,
				 size_t detail_len);

/* Counters since sw_mail_new. */
/* True if the last sw_mail_send gave SW_MAIL_TEMPFAIL for a reason that
 * is not the message's: no reply (connection refused, timeout, TLS
 * handshake) or a refusal before RCPT TO (greeting, EHLO, STARTTLS, AUTH,
 * MAIL FROM).  Other messages would fail the same way now: a caller with
 * a queue waits before trying the next one. */
bool sw_mail_server_fault(const struct sw_mail *m);

struct sw_mail_stats {
	uint64_t sent;	      /* SW_MAIL_SENT results (dry run included) */
	uint64_t tempfail;    /* SW_MAIL_TEMPFAIL results */
	uint64_t permfail;    /* SW_MAIL_PERMFAIL results */
	uint64_t connections; /* SMTP connections opened (CURLINFO_NUM_CONNECTS) */
};

/* Copies m's counters to *ret_stats. */
void sw_mail_get_stats(const struct sw_mail *m, struct sw_mail_stats *ret_stats);

/* ---- pure helpers (any thread; exported for tests and reuse) ---------- */

/*
 * Encodes UTF-8 text as the body of an unstructured header (Subject) or a
 * display name: first control characters (C0, DEL, C1, U+2028, U+2029)
 * become spaces and invalid UTF-8 becomes U+FFFD, the text is cut to
 * SW_MAIL_SUBJECT_MAX bytes on a character boundary; then, if it is all
 * printable ASCII, has no "=?" and fits the line, it is copied unchanged;
 * otherwise it becomes RFC 2047 "=?UTF-8?B?...?=" words of at most 75
 * characters, each holding whole UTF-8 characters, separated by a fold
 * ("\r\n "), so that no line is longer than 76 characters.  first_col is
 * how many characters precede the text on the first line ("Subject: " is
 * 9).  Returns SW_OK, SW_EINVAL (text NULL or first_col > 900), or
 * SW_ETOOBIG (buf shorter than the result; SW_MAIL_ENCODED_MAX is always
 * enough).
 */
enum sw_err sw_mail_encode_header_word(const char *text, size_t first_col, char *buf, size_t len);

/* Writes t (unix seconds) as an RFC 5322 date in UTC:
 * "Tue, 24 Nov 2026 09:15:00 +0000".  SW_OK, SW_ERANGE (t < 0 or past
 * year 9999) or SW_ETOOBIG (buf too short; SW_MAIL_DATE_LEN is enough). */
enum sw_err sw_mail_format_date(int64_t t, char *buf, size_t len);

/*
 * A Message-ID for outbox row outbox_id (>= 0) created at created_at (unix
 * seconds, >= 0): "<slipwatch.ID.CREATED@from_domain>".  The same row gives
 * the same id on every attempt, so a message resent after a crash (the
 * server had accepted it, the mark was lost) carries the id of the first
 * copy and mail clients fold the two; the creation time keeps ids of two
 * stores (or a store rebuilt from scratch) apart.  from_domain must be a
 * valid domain (sw_mail_from_domain).  Returns SW_OK, SW_EINVAL (negative
 * id or time, bad domain) or SW_ETOOBIG (SW_MAIL_MSGID_LEN is enough).
 */
enum sw_err sw_mail_message_id(int64_t outbox_id, int64_t created_at, const char *from_domain,
			       char *buf, size_t len);

/* True if addr is a plain addr-spec slipwatch will send to: ASCII
 * dot-atom local part (at most 64 bytes) "@" a domain of LDH labels
 * (single label allowed, e.g. "localhost"), at most SW_MAIL_ADDR_MAX
 * bytes.  No quoted local parts, no address literals, no spaces, control
 * characters, <>()[],;:"\ or non-ASCII.  NULL is false. */
bool sw_mail_addr_valid(const char *addr);

#endif /* SW_MAIL_H */
