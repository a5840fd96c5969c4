/*
 * notify.h - the alert engine's delivery side: customer emails from the
 * store's outbox.
 *
 * Each round claims due rows (queued, deferred and due, or claimed by a
 * sender whose lease ran out), at most as many as the global send rate
 * allows, and for each one, in this order:
 *   unsubscribed address           -> suppressed ("unsubscribed")
 *   customer's quiet hours, unless
 *   the kind is urgent             -> deferred to the end of them
 *   daily cap reached (sent today
 *   in the customer's zone)        -> suppressed ("daily cap N reached")
 *   render (template per kind and locale) and send through the mailer:
 *     accepted                     -> sent, with the server's answer
 *     4xx / connection failure     -> deferred, retry_min doubling up to
 *                                     retry_max; failed once the row is
 *                                     older than give_up_after
 *     5xx, bad address, render error -> failed, with the reason
 * When a send fails for a reason that is not the message's (no reply, a
 * refusal before RCPT TO: sw_mail_server_fault), the rest of the round is
 * deferred without a connection attempt each; when the daemon is asked to
 * stop (sw_notify_set_interrupt), the rest goes back to the queue.
 * A row is marked right after its own send, so a crash can resend at most
 * the one message the server accepted before the mark was committed; the
 * resend has the same Message-ID (built from the row), so mail clients
 * can fold it.  Single thread (the daemon's loop); a send blocks for at
 * most the mailer's timeout.
 */
#ifndef SW_ALERTS_NOTIFY_H
#define SW_ALERTS_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts/mail.h"
#include "alerts/rules.h"
#include "alerts/template.h"
#include "lib/error.h"
#include "lib/store.h"
#include "slipwatch/metrics.h"

struct sw_notify;

struct sw_notify_stats {
	uint64_t sent, deferred, failed, suppressed, quiet;
};

/* A new sender.  All arguments are borrowed until sw_notify_set or free;
 * metrics may be NULL. */
struct sw_notify *sw_notify_new(struct sw_store *st, const struct sw_alerts_conf *conf,
				const struct sw_tpl_set *tpl, struct sw_mail *mail,
				struct sw_metrics *metrics);

/* Replaces the borrowed settings (reload). */
void sw_notify_set(struct sw_notify *n, const struct sw_alerts_conf *conf,
		   const struct sw_tpl_set *tpl, struct sw_mail *mail);

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
