/*
 * pages.h - on-call: ops rules over the store and RRD series, a durable
 * alert lifecycle, routing to receivers, silences, acknowledgements,
 * escalation.  Customers hear through notify.h; on-call hears through
 * this.
 *
 * Configuration (pages_conf.c; slipwatch.conf(5) documents every key):
 *   [pages]          interval, repeat_interval, flap_window, flap_limit,
 *                    receiver (the default), lease, retry_min, retry_max,
 *                    give_up_after, source
 *   [page NAME]      one ops rule: signal (signals.h), warning, critical,
 *                    recover, for, window, min_count, nodata_after,
 *                    nodata_severity, match (which subjects), labels,
 *                    description, customer_message (cohort signals:
 *                    the customers' wording, notify.h)
 *   [route NAME]     in file order, the first whose match holds: receiver,
 *                    escalate_to, escalate_after, repeat_interval
 *   [receiver NAME]  channel = email | webhook | slack | pagerduty and the
 *                    channel's keys (channel.h, sw_receivers_load)
 *
 * Lifecycle of one page (a rule on one subject), evaluated every interval
 * (sw_pages_eval), kept in the store (lib/store_pages.h):
 *   ok -> pending      a threshold is crossed (warning or critical)
 *   pending -> firing  still crossed after `for`
 *   pending -> ok      recovered before `for`: nobody is told
 *   firing -> ok       the value is back past `recover` (hysteresis; by
 *                      default the warning threshold)
 *   any -> nodata      the series stopped (has_data false) after data;
 *                      a page of its own ("no data"), never a resolve
 *   nodata -> ok/...   data again: judged afresh
 * Too little data (enough false) keeps the state.  An incident runs from
 * leaving ok to coming back to ok as receivers heard it.
 *
 * Notifications are level-based: each evaluation compares what receivers
 * were last told (notified_*) with the page now and queues at most one
 * outbox row per receiver, in the transaction that updates the page:
 *   firing/nodata, not told          trigger
 *   severity rose (warning->critical) trigger (an update)
 *   told firing/nodata, now ok       resolve (to the receiver and, when
 *                                    escalated, the escalation receiver)
 *   acknowledged (slipwatch ack)     acknowledge, once per incident
 *   firing, told repeat_interval ago repeat (a trigger again; 0: never)
 *   unacknowledged escalate_after
 *     after the first trigger        trigger to escalate_to, once
 * A silence matching the page's labels (severity included) holds every
 * notification while it lasts: the page keeps its state and, when the
 * silence ends, receivers are told what is true then (nothing, if it
 * resolved meanwhile unheard).  Flap damping: more than flap_limit state
 * changes within flap_window hold notifications until the page has been
 * stable for flap_window.  Because the comparison is with durable state,
 * a restart re-pages nothing and a resolve that happened while the engine
 * was down is sent at the first evaluation after it starts.
 * Single thread (the daemon's loop).
 */
#ifndef SW_ALERTS_PAGES_H
#define SW_ALERTS_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/channel.h"
#include "alerts/signals.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/matcher.h"
#include "lib/rrd.h"
#include "lib/store.h"
#include "slipwatch/metrics.h"

#define SW_PAGES_MAX_RULES  256
#define SW_PAGES_MAX_ROUTES 64
#define SW_PAGES_MAX_RECEIVERS 64

/* [page NAME] */
struct sw_page_rule {
	char *name;
	const struct sw_signal *signal;
	bool has_warning, has_critical; /* at least one of the two */
	double warning, critical;	/* in the signal's unit and direction:
					   above: critical >= warning; below:
					   critical <= warning */
	double recover;			/* back past this to resolve (default:
					   the lower threshold that is set) */
	int64_t for_s;			/* crossed this long before firing (0) */
	int64_t window_s;		/* the signal's look-back (default 1h) */
	int64_t min_count;		/* samples needed to judge (default 1) */
	int64_t nodata_after_s;		/* RRD signals: silence this long is no
					   data (default 3 x the rrd step,
					   at least 15m) */
	int nodata_severity;		/* SW_SEV_WARNING (default) or CRITICAL */
	struct sw_matchers *match;	/* subjects it applies to (NULL: all);
					   over the subject's labels */
	char *labels;			/* extra labels, canonical; may be "" */
	char *description;		/* added to every page; may be NULL */
	int64_t baseline_days;		/* cohort_slips: the lane's history (0:
					   [alerts] stage_baseline_days) */
	double factor;			/* cohort_slips: unusual at this many
					   times the usual rate (default 3) */
	bool cohort_message;		/* customer_message = cohort: members of
					   a firing incident get the cohort
					   email (signals with subject_of) */
};

/* [route NAME] */
struct sw_page_route {
	char *name;
	struct sw_matchers *match;   /* NULL: everything */
	char *receiver;		     /* required; a [receiver NAME] */
	char *escalate_to;	     /* NULL: no escalation */
	int64_t escalate_after_s;    /* required with escalate_to */
	int64_t repeat_s;	     /* -1: [pages] repeat_interval */
};

/* [pages] and everything above, as loaded. */
struct sw_pages_conf {
	int64_t interval_ms;	    /* evaluation period (1m) */
	int64_t repeat_s;	    /* repeat_interval (4h; 0: never) */
	int64_t flap_window_s;	    /* 30m */
	int64_t flap_limit;	    /* 4 changes */
	char *receiver;		    /* default receiver (NULL: none; then
				       every rule needs a route) */
	int64_t lease_s;	    /* a claimed row's lease (60s) */
	int64_t retry_min_s;	    /* 30s, doubling ... */
	int64_t retry_max_s;	    /* ... up to 10m */
	int64_t give_up_after_s;    /* a row still failing this long after
				       it was queued fails for good (1d) */
	char *source;		    /* PagerDuty payload.source etc.: default
				       the host name */
	struct sw_page_rule *rules;
	size_t n_rules;
	struct sw_page_route *routes;
	size_t n_routes;
	struct sw_receiver_conf *receivers; /* channel.h */
	size_t n_receivers;
};

/*
 * Loads [pages], every [page NAME], [route NAME] and [receiver NAME] into
 * c (zeroed first).  A file without [page] sections gives n_rules 0 (no
 * paging; every other key still checked).  Errors are SW_ECONF with
 * "FILE:LINE: [section NAME] key: what: 'bad'": an unknown signal, a
 * threshold on the wrong side, a bad duration or matcher, a route or
 * [pages] receiver naming no [receiver], escalate_to without
 * escalate_after.  With sw_conf_text_only(file) no secret is read.
 */
enum sw_err sw_pages_conf_load(struct sw_conf *file, struct sw_pages_conf *c, char *errbuf,
			       size_t errlen);

void sw_pages_conf_free(struct sw_pages_conf *c);

/* Appends the effective settings as INI text (no secret values). */
void sw_pages_conf_dump(const struct sw_pages_conf *c, struct sw_buf *out);

/* The receiver named name in c, or NULL. */
const struct sw_receiver_conf *sw_pages_receiver(const struct sw_pages_conf *c,
						  const char *name);

/* The first route of c whose match holds for labels (canonical, severity
 * included), or NULL (then [pages] receiver applies). */
const struct sw_page_route *sw_pages_route(const struct sw_pages_conf *c, const char *labels);

/* ---- the lifecycle (pages.c) ---------------------------------------------- */

struct sw_pages;

struct sw_pages_stats {
	uint64_t evaluations;	/* rule x subject measurements */
	uint64_t errors;	/* measurements that failed */
	uint64_t queued;	/* notifications queued */
	uint64_t held_silenced; /* notifications held by a silence */
	uint64_t held_flapping; /* held by flap damping */
	size_t firing, pending, nodata;
};

/* A new engine on st and the signal context (both borrowed); conf
 * borrowed until sw_pages_set_conf or free; metrics may be NULL. */
struct sw_pages *sw_pages_new(struct sw_store *st, const struct sw_sig_ctx *ctx,
			      const struct sw_pages_conf *conf, struct sw_metrics *metrics);

void sw_pages_set_conf(struct sw_pages *p, const struct sw_pages_conf *conf);

void sw_pages_free(struct sw_pages *p);

/* One evaluation of every rule and subject at now: states updated and
 * notifications queued, one transaction per page.  A measurement that
 * fails is counted and its page kept as it was; err gets the first such
 * failure.  SW_OK, or SW_ESTORE when the store failed (err set; the rest
 * waits for the next evaluation). */
enum sw_err sw_pages_eval(struct sw_pages *p, int64_t now, char *err, size_t len);

void sw_pages_get_stats(const struct sw_pages *p, struct sw_pages_stats *ret);

/* ---- delivery (pager.c) ----------------------------------------------------- */

struct sw_pager;

struct sw_pager_stats {
	uint64_t sent, deferred, failed;
};

/* A sender of page rows; st and conf borrowed (sw_pager_set_conf).  The
 * open channels are given with sw_pager_set_channels: one per receiver
 * (chs[i] for conf->receivers[i]; NULL for a receiver that could not be
 * opened) and the email channel for email receivers. */
struct sw_pager *sw_pager_new(struct sw_store *st, const struct sw_pages_conf *conf,
			      struct sw_metrics *metrics);
void sw_pager_set_conf(struct sw_pager *pg, const struct sw_pages_conf *conf);
void sw_pager_set_channels(struct sw_pager *pg, struct sw_channel *const *chs, size_t n,
			   struct sw_channel *email);
void sw_pager_set_interrupt(struct sw_pager *pg, bool (*fn)(void));
void sw_pager_free(struct sw_pager *pg);

/* Sends every page row due at now (in order per page and receiver).
 * *ret_delay_ms: when another round is worth running.  SW_OK, or
 * SW_ESTORE (err set; claimed rows come back after their lease). */
enum sw_err sw_pager_run(struct sw_pager *pg, int64_t now, int64_t *ret_delay_ms, char *err,
			 size_t len);

void sw_pager_get_stats(const struct sw_pager *pg, struct sw_pager_stats *ret);

#endif /* SW_ALERTS_PAGES_H */
