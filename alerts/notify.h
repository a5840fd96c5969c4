/*
 * notify.h - the alert engine's delivery side: customer notices from the
 * store's outbox, through the channels of channel.h (email, the shop's
 * webhook).
 *
 * Each round claims due rows (queued, deferred and due, or claimed by a
 * sender whose lease ran out), at most as many messages as the global
 * send rate allows, groups them by order (with the order's other rows
 * waiting to go within the settle window, claimed too), and for each
 * group, in this order:
 *   re-check every row (sw_engine_recheck): no longer true -> obsolete,
 *     with the reason; cannot be confirmed (courier feed down) -> held
 *     (deferred) and judged again later, obsolete once older than
 *     give_up_after
 *   cohorts (sw_notify_set_pages): a row whose entity falls in the
 *     subject of a [page NAME] with customer_message = cohort
 *     (sw_signal_subject_of, the rule's match holding) and whose page
 *     is firing becomes a cohort notice (notice.h); if that page is
 *     pending (the incident is forming) the whole group is held
 *     ("held: the cohort incident RULE/ID is forming") until the next
 *     evaluation, so that nobody gets the per-parcel wording a minute
 *     before the cohort one, at most until the page should have fired
 *     (its state_since + the rule's for + two [pages] intervals) and
 *     never past give_up_after: then the slip's own wording.  ok, no
 *     data or no page: the slip's own wording.  Follow-ups never are
 *     cohort notices.  The first such rule (file order) whose page over
 *     the row fires or forms decides.
 *   the rows left make one message led by the most serious (notice.h):
 *   unsubscribed address           -> suppressed ("unsubscribed")
 *   customer's quiet hours, unless
 *   the lead kind is urgent        -> deferred to the end of them
 *   daily cap reached (messages sent
 *   today in the customer's zone)  -> suppressed ("daily cap N reached")
 *   render and send through the row's channel:
 *     delivered                    -> lead row sent, the others merged
 *     temporary failure            -> all deferred, retry_min doubling up
 *                                     to retry_max (or the receiver's
 *                                     Retry-After); failed once the lead
 *                                     is older than give_up_after
 *     refused, render error        -> all failed, with the reason
 * Deferred rows are re-checked when they come back: a message held
 * overnight must still be true in the morning.
 * When a send fails for a reason that is not the message's (no reply,
 * a 5xx or 429 from a webhook: sw_channel_server_fault), the rest of the
 * round on that channel is deferred without an attempt each; when the
 * daemon is asked to stop (sw_notify_set_interrupt), the rest goes back
 * to the queue.  A row is marked right after its own send, so a crash
 * can resend at most the one message the receiver accepted before the
 * mark was committed; the resend has the same Message-ID / idempotency
 * key (built from the row).  Single thread (the daemon's loop); a send
 * blocks for at most the channel's timeout.
 */
#ifndef SW_ALERTS_NOTIFY_H
#define SW_ALERTS_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts/channel.h"
#include "alerts/engine.h"
#include "alerts/rules.h"
#include "alerts/template.h"
#include "lib/error.h"
#include "lib/store.h"
#include "slipwatch/metrics.h"

#define SW_NOTIFY_CHANNELS 8 /* open channels at most */

struct sw_notify;
struct sw_pages_conf; /* pages.h */
struct sw_sig_ctx;    /* signals.h */

struct sw_notify_stats {
	uint64_t sent, deferred, failed, suppressed, quiet, obsolete, merged, held;
	uint64_t cohort; /* messages sent as cohort notices */
};

/* A new sender.  All arguments are borrowed until sw_notify_set or free;
 * engine (the re-check) and metrics may be NULL (no re-check: tests of
 * the sending alone). */
struct sw_notify *sw_notify_new(struct sw_store *st, const struct sw_alerts_conf *conf,
				const struct sw_tpl_set *tpl, struct sw_engine *engine,
				struct sw_metrics *metrics);

/* Replaces the borrowed settings (reload). */
void sw_notify_set(struct sw_notify *n, const struct sw_alerts_conf *conf,
		   const struct sw_tpl_set *tpl);

/* The open channels rows are sent through (borrowed, at most
 * SW_NOTIFY_CHANNELS; a row whose channel is not among them fails with
 * "channel NAME is not configured"). */
void sw_notify_set_channels(struct sw_notify *n, struct sw_channel *const *chs, size_t n_chs);

/* The ops rules whose cohort incidents change what customers are told
 * ([page NAME] customer_message = cohort) and the signal context their
 * subjects are found in; both borrowed until the next call or free (call
 * again on reload).  NULL (the default): no cohort notices. */
void sw_notify_set_pages(struct sw_notify *n, const struct sw_pages_conf *pages,
			 const struct sw_sig_ctx *ctx);

void sw_notify_free(struct sw_notify *n);

/* fn (may be NULL) is asked between two sends of a round; true ends the
 * round at once, the rows not yet tried going back to the queue (a
 * daemon asked to stop should not first send a whole round). */
void sw_notify_set_interrupt(struct sw_notify *n, bool (*fn)(void));

/*
 * One round at now (unix s; now_ms monotonic ms for the rate limiter).
 * *ret_delay_ms is when another round is worth running: soon if rows are
 * waiting for rate tokens, else poll_ms.  SW_OK, or SW_ESTORE (errbuf set;
 * claimed rows are retried after their lease).
 */
enum sw_err sw_notify_run(struct sw_notify *n, int64_t now, int64_t now_ms, int64_t poll_ms,
			  int64_t *ret_delay_ms, char *errbuf, size_t errlen);

void sw_notify_get_stats(const struct sw_notify *n, struct sw_notify_stats *ret);

#endif /* SW_ALERTS_NOTIFY_H */
