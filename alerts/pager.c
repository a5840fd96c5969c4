/*
 * pager.c - delivers page notifications: the outbox rows with a receiver
 * that pages.c queued, through each receiver's channel (channel.h).
 *
 * Each round claims the due rows, oldest first and at most one waiting
 * row per page and receiver (sw_store_page_claim: a resolve never
 * overtakes its trigger), and for each:
 *   receiver no longer configured        -> failed, saying so
 *   its channel not open                 -> deferred (retry_min)
 *   that channel failed for a server
 *   reason earlier in this round         -> deferred without an attempt
 *   sent                                 -> sent, with the receiver's answer
 *   temporary failure                    -> deferred, retry_min doubling up
 *                                           to retry_max or the receiver's
 *                                           Retry-After; failed once the
 *                                           row is older than give_up_after
 *   refused (4xx that will never pass)   -> failed with the receiver's reason
 * A row is marked right after its send, so a crash resends at most the
 * one notification the receiver took before the mark committed; the
 * resend has the same idempotency key (webhook Idempotency-Key, email
 * Message-ID, PagerDuty dedup_key), built from the row.
 * Single thread (the daemon's loop).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/pages.h"
#include "lib/log.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"

#define ROUND_MAX 100 /* rows claimed per round */
#define MAX_RECEIVERS SW_PAGES_MAX_RECEIVERS

struct sw_pager {
	struct sw_store *st;
	const struct sw_pages_conf *conf;
	struct sw_metrics *metrics;
	struct sw_channel *chs[MAX_RECEIVERS]; /* per conf->receivers[i] */
	size_t n_chs;
	struct sw_channel *email;
	bool (*interrupt)(void);
	struct sw_pager_stats stats;
};

struct sw_pager *sw_pager_new(struct sw_store *st, const struct sw_pages_conf *conf,
			      struct sw_metrics *metrics)
{
	struct sw_pager *pg = xcalloc(1, sizeof(*pg));

	pg->st = st;
	pg->conf = conf;
	pg->metrics = metrics;
	return pg;
}

void sw_pager_set_conf(struct sw_pager *pg, const struct sw_pages_conf *conf)
{
	pg->conf = conf;
}

void sw_pager_set_channels(struct sw_pager *pg, struct sw_channel *const *chs, size_t n,
			   struct sw_channel *email)
{
	pg->n_chs = n < MAX_RECEIVERS ? n : MAX_RECEIVERS;
	for (size_t i = 0; i < pg->n_chs; i++)
		pg->chs[i] = chs[i];
	pg->email = email;
}

void sw_pager_set_interrupt(struct sw_pager *pg, bool (*fn)(void))
{
	pg->interrupt = fn;
}

void sw_pager_free(struct sw_pager *pg)
{
	free(pg);
}

void sw_pager_get_stats(const struct sw_pager *pg, struct sw_pager_stats *ret)
{
	*ret = pg->stats;
}

/* ---- one row ------------------------------------------------------------------ */

/* The open channel of receiver name, and the receiver (NULL: not
 * configured).  *ret_ch may be NULL: configured but not open. */
static const struct sw_receiver_conf *channel_of(struct sw_pager *pg, const char *name,
						  struct sw_channel **ret_ch)
{
	*ret_ch = NULL;
	for (size_t i = 0; name && i < pg->conf->n_receivers; i++) {
		const struct sw_receiver_conf *r = &pg->conf->receivers[i];

		if (strcmp(r->name, name) != 0)
			continue;
		if (strcmp(r->ops->name, "email") == 0)
			*ret_ch = pg->email;
		else if (i < pg->n_chs)
			*ret_ch = pg->chs[i];
		return r;
	}
	return NULL;
}

static int64_t backoff_s(const struct sw_pager *pg, int attempts)
{
	int64_t s = pg->conf->retry_min_s, max = pg->conf->retry_max_s;

	for (int i = 1; i < attempts && s < max; i++)
		s *= 2;
	return s < max ? s : max;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The notice for row m; facts is the parsed template_vars (kept alive by
 * the caller while the notice is used). */
static void notice_of(const struct sw_outbox_msg *m, json_t *facts, char *key, size_t klen,
		      char *figures, size_t flen, struct sw_page_notice *pn, struct sw_notice *n,
		      int64_t now)
{
	char *fig = json_dumps(json_object_get(facts, "figures"), JSON_COMPACT | JSON_SORT_KEYS);

	snprintf(key, klen, "slipwatch-page-%lld", (long long)m->id);
	snprintf(figures, flen, "%s", fig ? fig : "{}");
	free(fig);
	memset(pn, 0, sizeof(*pn));
	pn->event = m->slip_kind;
	pn->dedup_key = jstr(facts, "dedup_key");
	pn->severity = jstr(facts, "severity");
	pn->state = jstr(facts, "state");
	pn->rule = jstr(facts, "rule");
	pn->source = jstr(facts, "source");
	pn->labels = jstr(facts, "labels");
	pn->figures_json = figures;
	/* a row queued before pages carried "stage": its figures' (cohorts) */
	pn->stage = jstr(facts, "stage");
	if (!pn->stage)
		pn->stage = jstr(json_object_get(facts, "figures"), "stage");
	pn->acked_by = jstr(facts, "acked_by");
	pn->receiver = m->receiver;
	pn->since = json_integer_value(json_object_get(facts, "since"));
	pn->repeat = json_is_true(json_object_get(facts, "repeat"));
	pn->escalation = json_is_true(json_object_get(facts, "escalation"));
	memset(n, 0, sizeof(*n));
	n->id = m->id;
	n->created_at = m->created_at;
	n->key = key;
	n->kind = m->slip_kind;
	n->recipient = m->recipient;
	n->subject = m->subject;
	n->text = m->body;
	n->facts_json = m->template_vars;
	n->date = now;
	n->page = pn;
}

/* One more in oncall.rrd's registry data source ds. */
static void count(struct sw_pager *pg, const char *ds)
{
	if (pg->metrics)
		sw_metrics_count(pg->metrics, "oncall", ds, 1);
}

/* Marks m after a send that returned res. */
static enum sw_err settle(struct sw_pager *pg, const struct sw_outbox_msg *m,
			  enum sw_chan_result res, int64_t retry, const char *detail, int64_t now)
{
	char why[SW_CHAN_DETAIL_LEN + 64];

	switch (res) {
	case SW_CHAN_SENT:
		pg->stats.sent++;
		count(pg, "sent");
		sw_log_info("pages", "page row %lld (%s) to %s: sent: %s", (long long)m->id,
			    m->slip_kind, m->receiver, detail);
		return sw_store_outbox_mark_sent(pg->st, m->id, now, detail);
	case SW_CHAN_TEMPFAIL:
		if (now - m->created_at >= pg->conf->give_up_after_s) {
			snprintf(why, sizeof(why), "gave up after %lld attempts: %s",
				 (long long)m->attempts, detail);
			break;
		}
		pg->stats.deferred++;
		count(pg, "deferred");
		return sw_store_outbox_mark_deferred(
		    pg->st, m->id, now + (retry > 0 ? retry : backoff_s(pg, m->attempts)), detail);
	default:
		snprintf(why, sizeof(why), "%s", detail);
		break;
	}
	pg->stats.failed++;
	count(pg, "failed");
	sw_log_warn("pages", "page row %lld (%s) to %s failed: %s", (long long)m->id, m->slip_kind,
		    m->receiver, why);
	return sw_store_outbox_mark_failed(pg->st, m->id, why);
}

/* Delivers one claimed row.  down[] notes channels that failed for a
 * server reason this round. */
static enum sw_err deliver(struct sw_pager *pg, const struct sw_outbox_msg *m, int64_t now,
			   struct sw_channel **down, size_t *n_down)
{
	char key[64], figures[2048], detail[SW_CHAN_DETAIL_LEN];
	struct sw_page_notice pn;
	struct sw_notice n;
	struct sw_channel *ch;
	const struct sw_receiver_conf *r = channel_of(pg, m->receiver, &ch);
	json_t *facts;
	int64_t retry = 0;
	enum sw_chan_result res;

	if (!r)
		return settle(pg, m, SW_CHAN_FAILED, 0, "receiver is no longer configured", now);
	if (!ch)
		return settle(pg, m, SW_CHAN_TEMPFAIL, 0, "the receiver's channel is not open",
			      now);
	for (size_t i = 0; i < *n_down; i++)
		if (down[i] == ch)
			return settle(pg, m, SW_CHAN_TEMPFAIL, 0,
				      "not tried: the receiver failed earlier this round", now);
	if (!(facts = json_loads(m->template_vars ? m->template_vars : "", 0, NULL)))
		return settle(pg, m, SW_CHAN_FAILED, 0, "the row's facts are not JSON", now);
	notice_of(m, facts, key, sizeof(key), figures, sizeof(figures), &pn, &n, now);
	res = sw_channel_send(ch, &n, &retry, detail, sizeof(detail));
	json_decref(facts);
	if (res == SW_CHAN_TEMPFAIL && sw_channel_server_fault(ch) && *n_down < MAX_RECEIVERS)
		down[(*n_down)++] = ch;
	return settle(pg, m, res, retry, detail, now);
}

enum sw_err sw_pager_run(struct sw_pager *pg, int64_t now, int64_t *ret_delay_ms, char *err,
			 size_t len)
{
	struct sw_channel *down[MAX_RECEIVERS];
	struct sw_outbox_msg *rows = NULL;
	size_t n = 0, n_down = 0, i = 0;
	enum sw_err rc = SW_OK;

	*ret_delay_ms = 1000;
	if (sw_store_page_claim(pg->st, now, (int)pg->conf->lease_s, ROUND_MAX, &rows, &n)) {
		snprintf(err, len, "%s", sw_store_errmsg(pg->st));
		return SW_ESTORE;
	}
	for (; i < n && rc == SW_OK; i++) {
		if (pg->interrupt && i > 0 && pg->interrupt())
			break;
		rc = deliver(pg, &rows[i], now, down, &n_down);
	}
	/* interrupted: the rest goes back to the queue at once */
	for (; rc == SW_OK && i < n; i++)
		rc = sw_store_outbox_mark_deferred(pg->st, rows[i].id, now, "daemon stopping");
	if (rc != SW_OK)
		snprintf(err, len, "%s", sw_store_errmsg(pg->st));
	else if (n == ROUND_MAX)
		*ret_delay_ms = 0;
	sw_store_outbox_free(rows, n);
	return rc == SW_OK ? SW_OK : SW_ESTORE;
}
