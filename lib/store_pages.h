/*
 * store_pages.h - the store's on-call side: pages (ops alerts with a
 * durable lifecycle), their notifications in the outbox, silences and
 * acknowledgements.  Schema version 6 (lib/store.c) holds the tables.
 *
 * Who writes what (so that no two writers race on one row):
 *   pages                 the alert engine alone (alerts/pages.c), a whole
 *                         row at a time (sw_store_page_put)
 *   outbox page rows      queued by the engine in the transaction that
 *                         changed the page; sent by the pager
 *                         (alerts/pager.c), marked with the outbox
 *                         functions of store.h (mark_sent/_deferred/_failed)
 *   silences, acks        the CLI (slipwatch silence, slipwatch ack);
 *                         the engine reads them each evaluation
 * Implemented in store_pages.c (pages, page rows) and store_silence.c
 * (silences, acks).  Single handle, single thread, like store.h.
 */
#ifndef SW_STORE_PAGES_H
#define SW_STORE_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/* ---- pages ---------------------------------------------------------------- */

enum sw_page_state {
	SW_PAGE_OK,	 /* the rule holds nothing against the subject */
	SW_PAGE_PENDING, /* over a threshold, not yet for the rule's `for` */
	SW_PAGE_FIRING,	 /* over a threshold for `for` or longer */
	SW_PAGE_NODATA,	 /* the series the rule reads stopped */
	SW_PAGE_STATE_LAST
};

/* "ok", "pending", "firing", "nodata"; "?" otherwise. */
const char *sw_page_state_name(enum sw_page_state s);
/* The state named s, or -1. */
int sw_page_state_parse(const char *s);

enum sw_page_severity { SW_SEV_NONE, SW_SEV_WARNING, SW_SEV_CRITICAL, SW_SEV_LAST };

/* "none", "warning", "critical"; "?" otherwise. */
const char *sw_page_severity_name(int sev);

/*
 * One page: a rule applied to one subject.  Strings are owned by the
 * struct when it comes from the store (sw_store_page_free), borrowed for
 * the call when it goes in.
 */
struct sw_page {
	int64_t id;	     /* 0 in a new row */
	const char *rule;    /* [page NAME] */
	const char *subject; /* "warehouse=w1", "courier=dhl", "" (global) */
	const char *labels;  /* "k=v,k=v" sorted by key, severity excluded */
	enum sw_page_state state;
	int severity;	     /* enum sw_page_severity; NONE when ok/pending */
	bool has_value;
	double value;	     /* the last evaluation's value */
	const char *summary; /* the last evaluation's one line, or NULL */
	const char *figures; /* JSON object text, or NULL */
	int64_t state_since; /* when state began */
	int64_t active_since; /* start of the current incident; 0 when ok */
	int64_t firing_since; /* when it went firing in this incident; 0 */
	int64_t incident;     /* 1, 2, ...: one per incident; 0 before any */
	int64_t evaluated_at;
	/* what receivers were last told (durable: restarts neither repeat
	 * nor forget) */
	enum sw_page_state notified_state; /* OK, FIRING or NODATA */
	int notified_severity;
	int64_t notified_incident;
	int64_t notified_at;	   /* last notification queued (repeats) */
	int64_t first_notified_at; /* first of this incident (escalation) */
	int64_t notify_seq;	   /* notifications queued so far, all time */
	const char *receiver;	   /* the incident's receiver, or NULL */
	const char *escalated_to;  /* the incident's escalation receiver */
	int64_t escalated_at;	   /* 0: not escalated this incident */
	bool ack_notified;	   /* the incident's ack went to receivers */
	int64_t flap_start;	   /* flap damping: window start, changes */
	int flap_changes;
};

/* Writes p whole: a new row when p->id is 0 (*ret_id gets its id), else
 * the row p->id.  SW_OK; SW_EDUP (a new row whose rule + subject exists);
 * SW_ENOTFOUND (no row p->id); SW_EINVAL; SW_ESTORE. */
enum sw_err sw_store_page_put(struct sw_store *st, const struct sw_page *p, int64_t *ret_id);

/* The page of rule + subject, as a new one-element array
 * (sw_store_page_free(p, 1)).  SW_OK, SW_ENOTFOUND, SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_page_get(struct sw_store *st, const char *rule, const char *subject,
			      struct sw_page **ret_page);

/* The page with id, likewise.  SW_OK, SW_ENOTFOUND, SW_ESTORE. */
enum sw_err sw_store_page_get_id(struct sw_store *st, int64_t id, struct sw_page **ret_page);

/* Pages in id order as a new array (NULL if none): every page when all,
 * else those not ok or whose last notification was not "ok" (something
 * receivers still hear about).  SW_OK, SW_ESTORE. */
enum sw_err sw_store_page_list(struct sw_store *st, bool all, struct sw_page **ret_list,
			       size_t *ret_n);

void sw_store_page_free(struct sw_page *list, size_t n);

/* ---- page notifications (outbox rows with a receiver) ------------------ */

/*
 * Claims up to limit (1..SW_STORE_MAX_BATCH) page rows due at now (queued
 * or deferred and due, or sending with an expired lease) whose page and
 * receiver have no earlier row still waiting (queued, deferred, sending):
 * a page's notifications reach each receiver in the order queued.  Each
 * becomes sending, attempts + 1, lease until now + lease_s.  New array in
 * id order (NULL if none; sw_store_outbox_free).  SW_OK, SW_ERANGE,
 * SW_ESTORE.
 */
enum sw_err sw_store_page_claim(struct sw_store *st, int64_t now, int lease_s, int limit,
				struct sw_outbox_msg **ret_msgs, size_t *ret_n);

/* Counts of the page rows of page id in each outbox state (indexed by
 * enum sw_outbox_state).  SW_OK, SW_ESTORE. */
enum sw_err sw_store_page_outbox_counts(struct sw_store *st, int64_t page_id,
					int64_t counts[SW_OUTBOX_LAST]);

/* The last page row queued for page id (highest id) as a new one-element
 * array, or SW_ENOTFOUND.  For `slipwatch pages`: the last notification. */
enum sw_err sw_store_page_last_note(struct sw_store *st, int64_t page_id,
				    struct sw_outbox_msg **ret_msg);

/* ---- silences (store_silence.c) ------------------------------------------ */

struct sw_silence {
	int64_t id;		/* output */
	const char *matchers;	/* "k=v,k!=v,k=~re,k!~re" (lib/matcher.h) */
	int64_t starts_at;	/* unix s */
	int64_t ends_at;	/* > starts_at */
	const char *created_by; /* required */
	const char *comment;	/* required */
	int64_t created_at;
};

/* Adds s (matchers checked by the caller with sw_matchers_parse).  SW_OK
 * with *ret_id; SW_EINVAL (empty matchers or author or comment, ends_at
 * <= starts_at); SW_ESTORE. */
enum sw_err sw_store_silence_add(struct sw_store *st, const struct sw_silence *s,
				 int64_t *ret_id);

/* Silences in id order: those with ends_at > now (active or to come), or
 * all when all is true.  New array (NULL if none).  SW_OK, SW_ESTORE. */
enum sw_err sw_store_silence_list(struct sw_store *st, int64_t now, bool all,
				  struct sw_silence **ret_list, size_t *ret_n);

/* Ends silence id at now (ends_at = now; starts_at too when it had not
 * started).  SW_OK; SW_ENOTFOUND (no such silence, or it already ended:
 * the message says which); SW_ESTORE. */
enum sw_err sw_store_silence_expire(struct sw_store *st, int64_t id, int64_t now);

void sw_store_silence_free(struct sw_silence *list, size_t n);

/* ---- acknowledgements (store_silence.c) ---------------------------------- */

/* Acknowledges incident of page page_id: an acks row with alert_key
 * "page:ID#INCIDENT".  An acknowledgement lasts until the incident ends
 * (the engine opens a new incident after a resolve).  SW_OK; SW_EDUP
 * (already acknowledged: nothing changed); SW_EINVAL; SW_ESTORE. */
enum sw_err sw_store_page_ack(struct sw_store *st, int64_t page_id, int64_t incident,
			      const char *by, const char *comment, int64_t now);

/* Whether incident of page page_id is acknowledged: *ret_acked, and when
 * so *ret_at and a new *ret_by (may be NULL; free()).  SW_OK, SW_ESTORE. */
enum sw_err sw_store_page_acked(struct sw_store *st, int64_t page_id, int64_t incident,
				bool *ret_acked, int64_t *ret_at, char **ret_by);

#endif /* SW_STORE_PAGES_H */
