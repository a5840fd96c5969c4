/*
 * poll_int.h - the poll engine's state and the functions its files share
 * (internal to collector/poll*.c; the contract is poll.h).
 *
 *   poll.c        helpers, transfers, tokens, libcurl on the loop, API
 *   poll_conf.c   [courier NAME] option table and checks
 *   poll_sched.c  courier health (pause, backoff, 429) and scheduling
 *   poll_apply.c  reading answers, queueing them and committing the
 *                 queue to the store (one transaction per scheduler pass)
 *   poll_lease.c  claiming due parcels and releasing them (several
 *                 collectors on one store)
 */
#ifndef SW_POLL_INT_H
#define SW_POLL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "collector/plan.h"
#include "collector/poll.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "slipwatch/courier.h"

#define TOKEN_MARGIN_MS ((int64_t)60 * 1000) /* renew a token this early */
#define RETRY_AFTER_MAX_S 86400               /* longest Retry-After honoured */
#define SEED_SPREAD_DIV 10                    /* new parcels spread over interval/10 */
/* Group commit bounds (poll_sched.c): queued answers are committed once
 * this many wait, once the oldest waited this long, or when no transfer
 * is in flight. */
#define PL_FLUSH_ANSWERS 64
#define PL_FLUSH_WAIT_MS 20
/* Due parcels a scheduler pass claims beyond what it sends at once
 * (poll_sched.c): they wait in the courier's batches for the next passes,
 * so that not every request costs a claim. */
#define PL_CLAIM_AHEAD 64

/* ---- engine state ------------------------------------------------------- */

/* One parcel in a batch, with its schedule as read from the store. */
struct item {
	char *tn;
	int interval_s;
	int failures;
	bool lost; /* pl_lease_hold: another collector holds it now */
};

/* Parcels asked about in one request. */
struct batch {
	struct batch *next;
	struct item *items;
	size_t n;
	bool auth_retried; /* already retried once after a 401 */
};

struct courier;

/* What one answer did, counted once its transaction is committed. */
struct tally {
	uint64_t found, not_found, rejected, given_up, errors, events, store_fail;
	uint64_t lease_lost;
};

/* An answer waiting for the engine's next commit (poll_apply.c): the
 * parcels it speaks for and their results, both owned. */
struct answer {
	struct answer *next;
	struct courier *c;
	struct item *items;
	struct sw_courier_result *res;
	size_t n;
	struct tally t; /* filled while it is applied */
};

/* One HTTP transfer in flight. */
struct xfer {
	struct xfer *next;
	struct courier *c;
	bool is_auth;        /* token request (else tracking) */
	struct batch *b;     /* tracking: what was asked; owned */
	uint64_t token_gen;  /* tracking: the token generation it carried */
	CURL *easy;
	struct curl_slist *hdrs;
	struct sw_courier_request req; /* kept alive: libcurl reads the body */
	struct sw_buf body;
	bool too_big;        /* the body passed max_response */
	int64_t started_ms;
	char errbuf[CURL_ERROR_SIZE];
};

struct courier {
	struct sw_poll_engine *p;
	const struct sw_poll_courier_conf *cf;
	const struct sw_courier *ad;
	struct sw_courier_conf cc;
	char *target; /* "courier NAME" for logs */
	char *file;   /* "courier/NAME" for metrics */
	char *source; /* "courier:NAME" for the journal */
	struct xfer *xfers;
	int in_flight;
	struct batch *waiting; /* to resend with a fresh token */
	double bucket;
	int64_t bucket_ms;
	int64_t paused_until; /* loop ms */
	int64_t backoff;      /* ms; 0 = healthy */
	struct sw_quota_state quota; /* poll_sched.c: window and plan */
	int64_t quota_used;   /* requests sent in quota.from .. quota.until */
	char *token;
	int64_t token_until; /* loop ms */
	uint64_t token_gen;  /* bumped on every new token */
	bool token_busy;     /* a token request is in flight */
	int64_t seed_upto;   /* parcels up to this id were seeded */
	struct sw_log_complain api_c, auth_c, store_c, parse_c;
	struct sw_poll_stats st;
	int64_t push_last;    /* poll_push.c: loop ms of the last push; 0: not pushing */
	int push_next_s;      /* poll_push.c: next poll of a pushed parcel, s; 0: interval */
	int64_t push_silence; /* poll_push.c: ms without a push before polls resume */
};

struct sw_poll_engine {
	struct sw_loop *loop;
	struct sw_store *store;
	struct sw_metrics *metrics;
	const struct sw_poll_conf *conf;
	CURLM *multi;
	struct courier *cs;
	size_t n;
	uint64_t curl_timer, sched_timer, seed_timer, gauge_timer;
	bool in_curl_timer, curl_timer_touched;
	uint64_t rng;
	struct answer *answers, *answers_last; /* queued, oldest first */
	size_t n_answers;      /* how many are queued */
	int64_t answers_since; /* loop ms the oldest was queued */
	uint64_t flushes; /* transactions that committed queued answers */
	char *holder;     /* poll_lease.c: this engine's instance; owned */
	int lease_s;      /* how long a claim holds a parcel, s */
	struct sw_log_complain lease_c;
};


/* ---- shared inside the engine ------------------------------------------ */

/* poll.c: small helpers, transfers, tokens */
uint64_t pl_rnd(struct sw_poll_engine *p);
int64_t pl_jitter(struct sw_poll_engine *p, int64_t v); /* v +- 10 %, >= 1 */
bool pl_needs_token(const struct courier *c);
bool pl_token_ok(const struct courier *c, int64_t now);
void pl_token_drop(struct courier *c);
void pl_batch_free(struct batch *b);
void pl_kick(struct sw_poll_engine *p); /* run the scheduler soon */
void pl_count(struct courier *c, const char *ds, uint64_t n);
void pl_count_status(struct courier *c, long http);
void pl_xfer_free(struct xfer *x);
enum sw_err pl_xfer_start(struct courier *c, struct sw_courier_request *req, struct batch *b);
void pl_xfer_unlink(struct xfer *x);
void pl_xfer_response(struct xfer *x, struct sw_courier_response *resp);
void pl_auth_start(struct courier *c);
void pl_auth_done(struct courier *c, struct xfer *x, CURLcode res);
void pl_curl_now(struct sw_poll_engine *p); /* libcurl's timeout work, now */

/* poll_sched.c: courier health and scheduling */
void pl_rate_headers(struct courier *c, CURL *easy); /* X-RateLimit-*: pause at 0 left */
void pl_pause_for(struct courier *c, int64_t ms);
int64_t pl_backoff(struct courier *c);
void pl_fail_api(struct courier *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_api_ok(struct courier *c);
int64_t pl_retry_after(CURL *easy);
void pl_rate_limited(struct courier *c, CURL *easy, const char *what);
void pl_pump(struct courier *c);
int64_t pl_sched_fired(struct sw_loop *loop, uint64_t id, void *arg);

/* poll_sched.c (quota planner): the interval the daily quota allows a
 * parcel now in state cur whose schedule would otherwise be interval_s
 * (never shorter than interval_s). */
int pl_plan_interval(struct courier *c, const struct sw_parcel *cur, int interval_s);

/* poll_lease.c: leases (lib/store_polllease.h).  pl_lease_init sets the
 * holder (conf->instance, else HOSTNAME:PID); pl_lease_release_all frees
 * every parcel this engine holds (at start and stop). */
void pl_lease_init(struct sw_poll_engine *p);
void pl_lease_release_all(struct sw_poll_engine *p, const char *when);
/* Claims up to limit due parcels of c (priority order when by_priority). */
enum sw_err pl_lease_claim(struct courier *c, bool by_priority, int limit, struct sw_poll **ret,
			   size_t *ret_n);
/* Releases parcel tn of c (claimed, then not sent); errors logged. */
void pl_lease_release(struct courier *c, const char *tn);
/* Inside the flush's transaction, before applying: releases the parcels
 * of every answer in list and marks those held by another (item.lost).
 * SW_OK or SW_ESTORE (the transaction then rolls back). */
enum sw_err pl_lease_hold(struct sw_poll_engine *p, struct answer *list);

/* poll_apply.c: answers */
enum sw_err pl_reschedule(struct courier *c, const struct item *it, int64_t now_s, int interval_s,
			  int failures, const char *error);
int pl_secs(int64_t ms); /* ms as whole seconds, >= 1 */
void pl_track_done(struct courier *c, struct xfer *x, CURLcode res);
/* The journal payload of event e of result r (a new string): compact
 * JSON, keys sorted, as json_dumps(JSON_COMPACT | JSON_SORT_KEYS) of
 * {code, location, shipment_status, status, text, time, zone_known}. */
char *pl_event_payload(const struct sw_courier_result *r, const struct sw_courier_event *e);
/* Queues the answer about b's parcels with their results res (b->n of
 * them, taken over: res[i] is zeroed; b's items are copied) for the next
 * pl_answers_flush.  Nothing is written or counted before that. */
void pl_answer_queue(struct courier *c, const struct batch *b, struct sw_courier_result *res);
/* Applies every queued answer in ONE store transaction, a savepoint per
 * parcel (a row that fails is undone alone and counted in store_fail),
 * with one feed-health note per courier, then counts them.  If the
 * transaction itself fails, nothing is applied: their parcels stay due
 * and each courier concerned backs off once.  No-op when none is queued.
 * Runs at the end of a scheduler pass when the queue is due (the bounds
 * above; after the pass sent its requests: queued parcels count as busy
 * there), before a pushed result is applied and when the engine stops. */
void pl_answers_flush(struct sw_poll_engine *p);
/* Applies a pushed FOUND result r about parcel tn of c in its own store
 * transaction, as a poll answer would be (journal with duplicates skipped,
 * status, delivery counting, schedule: removed when terminal, else next
 * poll after next_s seconds).  SW_OK, SW_ENOTFOUND (no such parcel:
 * nothing changed), SW_EINVAL (r not FOUND), SW_ESTORE. */
enum sw_err pl_apply_push(struct courier *c, const char *tn, const struct sw_courier_result *r,
			  int next_s, int *ret_new_events);

#endif /* SW_POLL_INT_H */
