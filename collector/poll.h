/*
 * poll.h - the courier poll engine: asks each configured courier's tracking
 * API about the parcels that are due and writes what it learns to the store.
 *
 * One engine per collector, on the collector's event loop.  HTTP goes
 * through one libcurl multi handle wired to the loop as curl's
 * docs/examples/ephiperfifo.c does it (socket callback adds, modifies and
 * removes loop fds; timer callback arms one loop timer; completed transfers
 * are drained with curl_multi_info_read after every action): nothing here
 * blocks on the network.  The courier adapters (include/slipwatch/courier.h)
 * build the requests and parse the answers; this module schedules, sends,
 * rate-limits, backs off and applies.
 *
 * Per courier ([courier NAME] section; NAME is the parcels' courier value):
 * due parcels are taken from the store's poll schedule, batched up to the
 * adapter's max_batch, and sent within the courier's concurrency, token
 * bucket (rate, burst) and daily quota.  Results:
 *   FOUND     new events journaled (source "courier:NAME", duplicates
 *             skipped), status applied, schedule moved on (interval_near
 *             when out for delivery; doubled up to interval_max while
 *             nothing changes; back to interval on change); a terminal
 *             status removes the schedule.
 *   NOT_FOUND, and ERROR rejected (the courier refused this number):
 *             parcel untouched; only this parcel backs off: its interval
 *             doubles (at least interval) up to not_found_max, failures
 *             stay 0 (the courier's word, which the alert engine's
 *             no_first_scan reads), last_error "not found: TEXT" or
 *             "rejected: TEXT".  Once give_up_after has passed since the
 *             parcel shipped, it is given up: its schedule row is kept with
 *             last_error "given up after 14d: not found: TEXT" and its next
 *             poll ten years away (a push or a found answer revives it).
 *   ERROR batch (no word on this number because the request was refused
 *             for another one): resent at once without the rejected
 *             numbers; when the refusal names none, the batch is split in
 *             halves and each resent, until the bad number is alone (then
 *             it is rejected).  Never a courier failure; no token dropped.
 *   ERROR     parcel never changed.  429: the whole courier pauses for
 *             Retry-After (or cooldown); 5xx, timeouts, connection errors:
 *             the courier backs off (doubling from backoff_min to
 *             backoff_max, with jitter) and is restored on the next success;
 *             401/403 with a token: the token is dropped and the batch
 *             retried once with a fresh one (no other 4xx drops a token).
 *             An answer that says nothing usable about any number
 *             (unparseable or truncated JSON, a type other than JSON such
 *             as an HTML page with 200, an empty or oversized body, an
 *             unexpected shape, a request-level 4xx) is a courier failure:
 *             it backs off with the reason logged, parse_fail counted, and
 *             its parcels are rescheduled with failures + 1 and a doubled
 *             interval (up to interval_max), status unchanged.  One bad
 *             result among usable ones (too many events for one number)
 *             does the same to that parcel alone.
 * Tokens (OAuth, login) are fetched through the same multi handle, cached
 * until their lifetime minus a margin, and requests wait for them.
 * Leases: the engine polls only parcels it has claimed in the store under
 * its instance (conf->instance) for conf->lease_ms, and applies an answer
 * only while it still holds the parcel, releasing it in the same
 * transaction; so several collectors on one store poll each due parcel
 * once, and a dead one's parcels are taken by the others when its leases
 * end (lib/store_polllease.h, doc/scale-out-collectors.md).  Its own
 * leases are released when it starts and when it stops.
 * Schedules of parcels that have none are created periodically (seed), and
 * the per-status parcel gauges are refreshed periodically.
 *
 * Metrics (registry file "courier/NAME", names from lib/rrd_catalogue.c):
 * resp_2xx, resp_4xx, resp_429, resp_5xx, resp_timeout, parse_fail,
 * api_latency (samples, s), transit_duration (samples, s, on delivery),
 * status_<canonical status> (gauges), and events (new events journaled; not
 * in the RRD catalogue yet).
 *
 * Single-threaded: every function here is called from the loop's thread,
 * never from a libcurl or loop callback of this engine unless noted.
 * Secrets and tokens are never logged.
 */
#ifndef SW_POLL_H
#define SW_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/courier/generic.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "lib/store.h"
#include "slipwatch/courier_info.h"
#include "slipwatch/metrics.h"

/* Values of sw_poll_courier_conf.adapter ("adapter = ..."): the index of
 * its word in sw_poll_adapter_words, which is "auto", then the built-in
 * adapters in the order of SW_COURIER_LIST (1 .. SW_COURIER_INFO_COUNT,
 * sw_courier_table[adapter - 1]), then "generic". */
enum sw_poll_adapter {
	SW_POLL_ADAPTER_AUTO, /* "auto": the section's NAME names the adapter */
	/* "generic": described by the section (url, path_*) */
	SW_POLL_ADAPTER_GENERIC = SW_COURIER_INFO_COUNT + 1,
	SW_POLL_ADAPTER_LAST
};

/* One [courier NAME] section, filled by sw_conf_apply() with
 * sw_poll_courier_table.  Durations in ms, sizes in bytes. */
struct sw_poll_courier_conf {
	char *name;                       /* NAME (not from the table); owned */
	int adapter;                      /* enum sw_poll_adapter, resolved by
					     sw_poll_conf_load (never AUTO) */
	char *base_url;                   /* NULL: the adapter's default */
	char *auth_url;                   /* NULL: derived by the adapter */
	struct sw_conf_secret api_key;    /* api_key_file / api_key_env */
	struct sw_conf_secret api_secret; /* api_secret_file / _env */
	char *username;                   /* login user (AUTH_LOGIN) */
	struct sw_conf_secret password;   /* password_file / password_env */
	char *ca_file;                    /* CA bundle; NULL: system store */
	bool allow_plaintext;             /* credentials over http:// beyond
					     loopback (lib/netaddr.h) */
	int64_t concurrency;              /* transfers in flight, 1..64 */
	double rate;                      /* requests per second (bucket) */
	int64_t burst;                    /* bucket size, requests */
	int64_t timeout;                  /* whole transfer, ms */
	int64_t max_response;             /* body bytes, <= SW_COURIER_MAX_BODY */
	int64_t interval;                 /* normal poll interval, ms */
	int64_t interval_near;            /* while out for delivery, ms */
	int64_t interval_max;             /* cap for unchanged parcels, ms */
	int64_t daily_quota;              /* requests per quota day; 0 = none */
	char *quota_reset;                /* "HH:MM" the quota day starts */
	char *quota_zone;                 /* "UTC" or an IANA zone */
	int64_t quota_reserve;            /* requests kept out of the plan */
	int quota_reset_min;              /* quota_reset in minutes after
					     midnight (sw_poll_conf_load) */
	int64_t cooldown;                 /* 429 without Retry-After, ms */
	int64_t backoff_min;              /* first error backoff, ms */
	int64_t backoff_max;              /* error backoff cap, ms */
	int64_t not_found_max;            /* a number the courier does not
					     know or refuses: its interval
					     doubles up to this, ms */
	int64_t give_up_after;            /* ... and it is given up this long
					     after shipping, ms; 0 = never */
	struct sw_generic_conf generic;   /* adapter generic: url, path_*, ...
					     (rejected for other adapters) */
	struct sw_courier_generic *spec;  /* compiled from generic by
					     sw_poll_conf_load; owned */
};

/* The option table for [courier NAME] (NULL-name terminated). */
extern const struct sw_conf_opt sw_poll_courier_table[];

/* Words of the adapter option, indexed by enum sw_poll_adapter. */
extern const char *const sw_poll_adapter_words[];

/* Every courier section plus engine-wide timing (defaults set by
 * sw_poll_conf_load; tests may shorten them before sw_poll_new). */
struct sw_poll_conf {
	struct sw_poll_courier_conf *couriers; /* n entries, file order */
	size_t n;
	int64_t tick_ms;  /* scheduler period (1000) */
	int64_t seed_ms;  /* schedule new parcels every (60 s) */
	int64_t gauge_ms; /* refresh status gauges every (60 s) */
	/* Poll leases (lib/store_polllease.h): set from [collector] by the
	 * collector's configure; sw_poll_conf_load leaves NULL and 60 s. */
	char *instance;   /* lease holder; NULL: "HOSTNAME:PID" at sw_poll_new */
	int64_t lease_ms; /* how long a claimed parcel is held, ms (>= 1 s) */
};

/*
 * Reads every [courier NAME] section of conf (sw_conf_named) with
 * sw_poll_courier_table, resolves the adapter and checks what the table
 * cannot: an unknown NAME with adapter auto, missing credentials for the
 * adapter, the generic adapter's description (sw_generic_compile) or its
 * keys in another adapter's section, interval_near/interval <= interval_max, backoff_min <=
 * backoff_max, max_response <= SW_COURIER_MAX_BODY, base_url and auth_url
 * http(s) URLs, and no credentials over http:// to a host that is not
 * loopback (base_url, auth_url, the generic url) unless allow_plaintext =
 * yes.  With sw_conf_text_only(conf) secrets are checked as text only.  conf NULL or without
 * courier sections gives an empty list.  Returns SW_OK with *ret_conf (free
 * with sw_poll_conf_free), or SW_ECONF with *ret_conf NULL and errbuf
 * holding "FILE:LINE: [courier NAME] what: 'bad text'" (conf's own texts
 * for syntax and type errors).  Never writes a secret into errbuf.
 * Any thread; does no I/O beyond reading secret files.
 */
enum sw_err sw_poll_conf_load(struct sw_conf *conf, struct sw_poll_conf **ret_conf, char *errbuf,
			      size_t errlen);

/* Frees a list from sw_poll_conf_load (secrets wiped); NULL is a no-op. */
void sw_poll_conf_free(struct sw_poll_conf *pc);

/* The courier section named name in pc, or NULL. */
struct sw_poll_courier_conf *sw_poll_conf_find(struct sw_poll_conf *pc, const char *name);

/* The adapter of a courier section (its resolved adapter; the generic one
 * for adapter generic), or NULL when it has none (cf NULL, adapter auto
 * not resolved).  Shared with the probes (probes/courier_http.c). */
const struct sw_courier *sw_poll_adapter(const struct sw_poll_courier_conf *cf);

/* The adapter's view of a courier section: URLs, credentials (borrowed
 * from cf, never copied), the generic description.  Zeroes cc first. */
void sw_poll_courier_view(const struct sw_poll_courier_conf *cf, struct sw_courier_conf *cc);

struct sw_poll_engine; /* opaque */

/*
 * Creates an engine for the couriers in conf on loop, writing to store and
 * metrics.  conf, loop, store and metrics are borrowed and must outlive the
 * engine.  Nothing is sent until sw_poll_start().  Returns SW_OK with
 * *ret_poll, SW_EINVAL (NULL argument, or a courier whose adapter is
 * unknown) or SW_EIO (libcurl could not be initialised), with errbuf set.
 * Not from a callback of this engine.
 */
enum sw_err sw_poll_new(struct sw_loop *loop, struct sw_store *store, struct sw_metrics *metrics,
			const struct sw_poll_conf *conf, struct sw_poll_engine **ret_poll, char *errbuf,
			size_t errlen);

/* Arms the engine's timers: seeding and gauges run at once, the scheduler
 * on the next loop iteration.  SW_OK, or SW_EINVAL if already started. */
enum sw_err sw_poll_start(struct sw_poll_engine *p);

/*
 * Stops polling: aborts every transfer in flight (their parcels stay due in
 * the store and are polled after the next start), forgets batches waiting
 * for a token and disarms the timers.  Cached tokens, pauses and backoffs
 * are kept.  Safe when not started.  Not from a callback of this engine.
 */
void sw_poll_stop(struct sw_poll_engine *p);

/* Stops and frees the engine; NULL is a no-op. */
void sw_poll_free(struct sw_poll_engine *p);

/* Counters since sw_poll_new() for one courier (tests, status output). */
struct sw_poll_stats {
	uint64_t requests;      /* tracking requests sent */
	uint64_t auth_requests; /* token requests sent */
	uint64_t tokens;        /* tokens obtained */
	uint64_t token_drops;   /* tokens dropped after a 401 */
	uint64_t found, not_found, errors; /* per parcel result */
	uint64_t rejected;      /* numbers the courier refused (per parcel) */
	uint64_t given_up;      /* parcels given up (give_up_after) */
	uint64_t resent;        /* numbers resent after a batch was refused
				   for another number's sake */
	uint64_t events_new;    /* events journaled (duplicates not counted) */
	uint64_t rate_limited;  /* 429 answers (tracking and token) */
	uint64_t backoffs;      /* times the courier backed off on errors */
	uint64_t too_big;       /* bodies over max_response */
	uint64_t parse_fail;    /* answers that could not be parsed */
	uint64_t store_fail;    /* results the store could not take */
	uint64_t quota_waits;   /* scheduler passes stopped by the quota */
	uint64_t seeded;        /* schedules created by seeding */
	uint64_t claimed;       /* parcels claimed (leased) to be polled */
	uint64_t lease_lost;    /* answers dropped: another collector had
				   taken the parcel over (our lease ended) */
	int in_flight;          /* transfers in flight, or answered and not yet committed */
	int64_t paused_ms;      /* ms until the courier may send again; 0 */
	int64_t backoff_ms;     /* current error backoff; 0 when healthy */
	bool has_token;         /* a usable token is cached */
};

/* Fills *ret_stats for courier name.  SW_OK or SW_ENOTFOUND. */
enum sw_err sw_poll_get_stats(const struct sw_poll_engine *p, const char *name,
			      struct sw_poll_stats *ret_stats);

/*
 * A tracking update pushed by courier name's webhook (collector/push*.c),
 * already verified and parsed into r (outcome FOUND, r->tracking_number
 * set): applied like a poll answer (events journaled once: the same event
 * pushed twice, or pushed and polled, is journaled once), and the courier
 * is noted as pushing, so its parcels are polled only as a fallback
 * (push.h) until pushes stop.  Returns SW_OK, SW_ENOTFOUND (no courier
 * section name, or no such parcel: nothing changed), SW_EINVAL (r not
 * FOUND), SW_ESTORE (the store failed: the sender should retry).  From the
 * loop's thread.
 */
enum sw_err sw_poll_push(struct sw_poll_engine *p, const char *name,
			 const struct sw_courier_result *r, uint64_t *ret_new_events);

/* Runs the scheduler now (as its timer would); for tests and for a
 * "poll now" command.  Not from a callback of this engine. */
void sw_poll_kick(struct sw_poll_engine *p);

/* Schedules parcels shipped since the last look (new parcels without a
 * poll schedule) now, instead of at the next seeding period; cheap (it only
 * looks at parcels newer than the last one seen).  The collector calls it
 * after committing warehouse events.  From the loop. */
void sw_poll_seed_now(struct sw_poll_engine *p);

#endif /* SW_POLL_H */
