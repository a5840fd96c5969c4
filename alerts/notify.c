/*
 * notify.c - customer notices from the outbox (see notify.h).
 *
 * Design: a round claims due rows, then works one order (group) at a time:
 * the group's rows are re-checked one by one (recheck.c), what is still
 * true becomes one message (notice.c), and the message goes through the
 * lead row's channel (channel.h).  Every row ends the round in a state
 * that says what happened to it and why.  Between the re-check and the
 * message, each row still true is looked up in the cohort incidents of
 * the [page] rules that want a cohort message (one subject_of and one
 * page read per row and rule): the page's state, read from the store as
 * the pages engine left it, decides its wording or a hold.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/notice.h"
#include "alerts/notify.h"
#include "alerts/pages.h"
#include "lib/log.h"
#include "lib/store_pages.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

struct sw_notify {
	struct sw_store *st;
	const struct sw_alerts_conf *conf;
	const struct sw_tpl_set *tpl;
	struct sw_engine *engine;
	struct sw_metrics *metrics;
	struct sw_channel *chs[SW_NOTIFY_CHANNELS];
	size_t n_chs;
	double tokens;
	int64_t tokens_ms; /* when tokens was last refilled */
	struct sw_notify_stats stats;
	struct sw_log_complain send_c;
	bool (*interrupt)(void);
	const struct sw_pages_conf *pages; /* cohort rules; NULL: none */
	const struct sw_sig_ctx *sig;
	struct unmarked *unm; /* sent, not yet recorded (see unmarked_flush) */
	size_t n_unm;
};

/* A row whose message went out but whose outbox update failed (the store
 * locked past its busy timeout, or failing): recorded again before the
 * next round claims anything, so that its lease running out can never
 * send it a second time.  Only a crash in between still can (the
 * documented duplicate window). */
struct unmarked {
	int64_t id;
	int64_t lead; /* 0: the message's own row, sent; else merged into lead */
	int64_t at;
	char *detail;
};

/* What one round knows besides the rows. */
struct round {
	int64_t now;
	bool stopping;
	char down[SW_NOTIFY_CHANNELS][SW_CHAN_DETAIL_LEN + 16]; /* "" or why a channel waits */
};

struct sw_notify *sw_notify_new(struct sw_store *st, const struct sw_alerts_conf *conf,
				const struct sw_tpl_set *tpl, struct sw_engine *engine,
				struct sw_metrics *metrics)
{
	struct sw_notify *n = xcalloc(1, sizeof(*n));

	n->st = st;
	n->engine = engine;
	n->metrics = metrics;
	sw_notify_set(n, conf, tpl);
	n->tokens = 1;
	return n;
}

void sw_notify_set(struct sw_notify *n, const struct sw_alerts_conf *conf,
		   const struct sw_tpl_set *tpl)
{
	n->conf = conf;
	n->tpl = tpl;
}

void sw_notify_set_channels(struct sw_notify *n, struct sw_channel *const *chs, size_t n_chs)
{
	n->n_chs = n_chs < SW_NOTIFY_CHANNELS ? n_chs : SW_NOTIFY_CHANNELS;
	for (size_t i = 0; i < n->n_chs; i++)
		n->chs[i] = chs[i];
}

void sw_notify_set_pages(struct sw_notify *n, const struct sw_pages_conf *pages,
			 const struct sw_sig_ctx *ctx)
{
	n->pages = pages;
	n->sig = ctx;
}

void sw_notify_set_interrupt(struct sw_notify *n, bool (*fn)(void))
{
	n->interrupt = fn;
}

void sw_notify_free(struct sw_notify *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n_unm; i++)
		free(n->unm[i].detail);
	free(n->unm);
	free(n);
}

void sw_notify_get_stats(const struct sw_notify *n, struct sw_notify_stats *ret)
{
	*ret = n->stats;
}

static void count(struct sw_notify *n, const char *ds)
{
	if (n->metrics)
		sw_metrics_count(n->metrics, "notify", ds, 1);
}

/* ---- one row's end ------------------------------------------------------- */

static enum sw_err suppress(struct sw_notify *n, const struct sw_outbox_msg *m,
			    const char *reason, const char *ds)
{
	enum sw_err rc = sw_store_outbox_mark_suppressed(n->st, m->id, reason);

	if (rc == SW_OK) {
		n->stats.suppressed++;
		count(n, "suppressed");
		count(n, ds);
		sw_log_info("notify", "notice %lld suppressed: %s", (long long)m->id, reason);
	}
	return rc;
}

static enum sw_err fail(struct sw_notify *n, const struct sw_outbox_msg *m, const char *reason)
{
	enum sw_err rc = sw_store_outbox_mark_failed(n->st, m->id, reason);

	if (rc == SW_OK) {
		n->stats.failed++;
		count(n, "failed");
		sw_log_warn("notify", "notice %lld failed: %s", (long long)m->id, reason);
	}
	return rc;
}

static enum sw_err defer(struct sw_notify *n, const struct sw_outbox_msg *m, int64_t until,
			 const char *reason)
{
	enum sw_err rc = sw_store_outbox_mark_deferred(n->st, m->id, until, reason);

	if (rc == SW_OK) {
		n->stats.deferred++;
		count(n, "deferred");
	}
	return rc;
}

static enum sw_err obsolete(struct sw_notify *n, const struct sw_outbox_msg *m, const char *why)
{
	enum sw_err rc = sw_store_outbox_mark_obsolete(n->st, m->id, why);

	if (rc == SW_OK) {
		n->stats.obsolete++;
		count(n, "obsolete");
		sw_log_info("notify", "notice %lld (%s, %s) not sent: %s", (long long)m->id,
			    m->slip_kind, m->entity, why);
	}
	return rc;
}

/* ---- a group of rows ----------------------------------------------------- */

struct group {
	struct sw_notice_part *parts;
	size_t n, cap;
};

static void group_add(struct group *g, const struct sw_outbox_msg *m)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		g->parts = xreallocarray(g->parts, g->cap, sizeof(*g->parts));
	}
	memset(&g->parts[g->n], 0, sizeof(g->parts[0]));
	g->parts[g->n++].row = m;
}

static void group_free(struct group *g)
{
	for (size_t i = 0; i < g->n; i++)
		json_decref(g->parts[i].vars);
	free(g->parts);
	memset(g, 0, sizeof(*g));
}

/* Each of the group's rows, re-checked: what is still true stays in the
 * group, the rest ends here (obsolete, held or failed). */
static enum sw_err recheck_all(struct sw_notify *n, struct group *g, int64_t now, char *errbuf,
			       size_t errlen)
{
	char why[sizeof(((struct sw_recheck_out *)0)->why) + 64];
	size_t keep = 0;
	enum sw_err rc = SW_OK;

	for (size_t i = 0; i < g->n && rc == SW_OK; i++) {
		struct sw_notice_part *p = &g->parts[i];
		const struct sw_outbox_msg *m = p->row;

		p->vars = m->template_vars ? json_loads(m->template_vars, 0, NULL) : NULL;
		if (!json_is_object(p->vars)) {
			rc = fail(n, m, "the outbox row has no usable template values");
		} else if (n->engine &&
			   (rc = sw_engine_recheck(n->engine, m, now, &p->chk, errbuf, errlen))) {
			break;
		} else if (p->chk.verdict == SW_RECHECK_OBSOLETE) {
			rc = obsolete(n, m, p->chk.why);
		} else if (p->chk.verdict == SW_RECHECK_HOLD &&
			   now - m->created_at >= n->conf->give_up_ms / 1000) {
			snprintf(why, sizeof(why), "never confirmed: %s", p->chk.why);
			rc = obsolete(n, m, why);
		} else if (p->chk.verdict == SW_RECHECK_HOLD) {
			if ((rc = defer(n, m, p->chk.hold_until, p->chk.why)) == SW_OK) {
				n->stats.held++;
				count(n, "held");
			}
		} else {
			g->parts[keep++] = *p;
			continue;
		}
		json_decref(p->vars);
		p->vars = NULL;
	}
	for (size_t i = keep; i < g->n; i++)
		json_decref(g->parts[i].vars);
	g->n = keep;
	return rc;
}

/* ---- cohort incidents ------------------------------------------------------ */

/* What the cohort incidents say about a group: hold it until, and why. */
struct cohort_hold {
	bool hold;
	int64_t until;
	char why[SW_LABEL_VALUE_MAX * 2 + 64];
};

/* The page's figures "stage" into c->stage ("" if none). */
static void figures_stage(const char *figures, struct sw_notice_cohort *c)
{
	json_t *f = figures ? json_loads(figures, 0, NULL) : NULL;
	const char *st = json_string_value(json_object_get(f, "stage"));

	snprintf(c->stage, sizeof(c->stage), "%s", st ? st : "");
	json_decref(f);
}

/* Until when row m waits for the forming incident pg of r: the next
 * evaluation, at most until pg should have fired and never past m's
 * give_up_after; 0 when that is past (m goes out in its own wording). */
static int64_t forming_until(const struct sw_notify *n, const struct sw_page_rule *r,
			     const struct sw_page *pg, const struct sw_outbox_msg *m, int64_t now)
{
	int64_t every = n->pages->interval_ms / 1000 > 0 ? n->pages->interval_ms / 1000 : 1;
	int64_t limit = pg->state_since + r->for_s + 2 * every;
	int64_t give_up = m->created_at + n->conf->give_up_ms / 1000;

	if (give_up < limit)
		limit = give_up;
	if (now >= limit)
		return 0;
	return now + every < limit ? now + every : limit;
}

/* The page of r whose subject m's entity falls in now (id: the subject
 * id), into *ret_pg (the caller's: sw_store_page_free(pg, 1)); NULL when
 * m is none of r's cohorts, r has no page there, or r's match does not
 * hold for it.  SW_OK, or a store error with errbuf set. */
static enum sw_err cohort_page(struct sw_notify *n, const struct sw_page_rule *r,
			       const struct sw_outbox_msg *m, char *id, size_t idlen,
			       struct sw_page **ret_pg, char *errbuf, size_t errlen)
{
	char subject[SW_LABEL_KEY_MAX + SW_LABEL_VALUE_MAX + 2], err[256];
	const char *key = sw_signal_subject_label(r->signal);
	enum sw_err rc;

	*ret_pg = NULL;
	rc = sw_signal_subject_of(r->signal, n->sig, m->entity, id, idlen, err, sizeof(err));
	if (rc == SW_ENOTFOUND)
		return SW_OK;
	if (rc != SW_OK) {
		snprintf(errbuf, errlen, "notice %lld: the [page %s] cohort of %s: %s",
			 (long long)m->id, r->name, m->entity, err);
		return rc;
	}
	if (key)
		snprintf(subject, sizeof(subject), "%s=%s", key, id);
	else
		subject[0] = '\0';
	rc = sw_store_page_get(n->st, r->name, subject, ret_pg);
	if (rc == SW_ENOTFOUND)
		return SW_OK;
	if (rc != SW_OK) {
		snprintf(errbuf, errlen, "notice %lld: page %s %s: %s", (long long)m->id, r->name,
			 subject, sw_store_errmsg(n->st));
		return SW_ESTORE;
	}
	if (r->match && !sw_matchers_match(r->match, (*ret_pg)->labels ? (*ret_pg)->labels : "")) {
		sw_store_page_free(*ret_pg, 1);
		*ret_pg = NULL;
	}
	return SW_OK;
}

/* Marks p a cohort notice of pg (r's, subject id). */
static void cohort_set(struct sw_notice_part *p, const struct sw_page_rule *r,
		       const struct sw_page *pg)
{
	struct sw_notice_cohort *c = &p->cohort;

	c->on = true;
	snprintf(c->rule, sizeof(c->rule), "%s", r->name);
	snprintf(c->subject, sizeof(c->subject), "%s", pg->subject);
	c->incident = pg->incident;
	figures_stage(pg->figures, c);
	sw_log_info("notify",
		    "notice %lld (%s, %s): the cohort incident %s %s (#%lld) fires: a "
		    "cohort notice",
		    (long long)p->row->id, p->row->slip_kind, p->row->entity, r->name, pg->subject,
		    (long long)pg->incident);
}

/* p in the cohort rules, in file order: the first whose incident over p
 * fires makes p a cohort notice, or, forming, holds p's group (*h). */
static enum sw_err cohort_one(struct sw_notify *n, struct sw_notice_part *p, int64_t now,
			      struct cohort_hold *h, char *errbuf, size_t errlen)
{
	char id[SW_LABEL_VALUE_MAX + 1];
	bool decided = false;
	enum sw_err rc = SW_OK;

	for (size_t i = 0; !decided && rc == SW_OK && i < n->pages->n_rules; i++) {
		const struct sw_page_rule *r = &n->pages->rules[i];
		struct sw_page *pg = NULL;
		int64_t until;

		if (!r->cohort_message ||
		    (rc = cohort_page(n, r, p->row, id, sizeof(id), &pg, errbuf, errlen)) || !pg)
			continue;
		if (pg->state == SW_PAGE_FIRING) {
			cohort_set(p, r, pg);
			decided = true;
		} else if (pg->state == SW_PAGE_PENDING &&
			   (until = forming_until(n, r, pg, p->row, now))) {
			if (!h->hold || until < h->until)
				h->until = until;
			if (!h->hold)
				snprintf(h->why, sizeof(h->why),
					 "held: the cohort incident %s/%s is forming", r->name, id);
			h->hold = decided = true;
		} else if (pg->state == SW_PAGE_PENDING) {
			sw_log_info("notify",
				    "notice %lld: the cohort incident %s/%s is still forming: "
				    "sent in its own wording",
				    (long long)p->row->id, r->name, id);
		}
		sw_store_page_free(pg, 1);
	}
	return rc;
}

/* The group's rows in the cohort rules (follow-ups never are cohort
 * notices); *ret_held when the group was held for a forming incident. */
static enum sw_err cohort_all(struct sw_notify *n, struct group *g, int64_t now, bool *ret_held,
			      char *errbuf, size_t errlen)
{
	struct cohort_hold h = { 0 };
	enum sw_err rc = SW_OK;

	*ret_held = false;
	if (!n->pages || !n->sig)
		return SW_OK;
	for (size_t i = 0; i < g->n && rc == SW_OK; i++)
		if (strncmp(g->parts[i].row->slip_kind, "resolved_", 9) != 0)
			rc = cohort_one(n, &g->parts[i], now, &h, errbuf, errlen);
	if (rc != SW_OK || !h.hold)
		return rc;
	*ret_held = true;
	for (size_t i = 0; i < g->n && rc == SW_OK; i++)
		if ((rc = defer(n, g->parts[i].row, h.until, h.why)) == SW_OK) {
			n->stats.held++;
			count(n, "held");
		}
	sw_log_info("notify", "notice %lld (%zu rows) %s", (long long)g->parts[0].row->id, g->n,
		    h.why);
	return rc;
}

typedef enum sw_err (*mark_fn)(struct sw_notify *, const struct sw_outbox_msg *, const char *,
			       const char *);

static enum sw_err suppress_all(struct sw_notify *n, struct group *g, const char *reason,
				const char *ds)
{
	enum sw_err rc = SW_OK;

	for (size_t i = 0; i < g->n && rc == SW_OK; i++)
		rc = suppress(n, g->parts[i].row, reason, ds);
	return rc;
}

static enum sw_err defer_all(struct sw_notify *n, struct group *g, int64_t until,
			     const char *reason)
{
	enum sw_err rc = SW_OK;

	for (size_t i = 0; i < g->n && rc == SW_OK; i++)
		rc = defer(n, g->parts[i].row, until, reason);
	return rc;
}

static enum sw_err fail_all(struct sw_notify *n, struct group *g, const char *reason)
{
	enum sw_err rc = SW_OK;

	for (size_t i = 0; i < g->n && rc == SW_OK; i++)
		rc = fail(n, g->parts[i].row, reason);
	return rc;
}

static int64_t backoff_s(const struct sw_notify *n, int attempts)
{
	int64_t s = n->conf->retry_min_ms / 1000, max = n->conf->retry_max_ms / 1000;

	for (int i = 1; i < attempts && s < max; i++)
		s *= 2;
	return s < max ? s : max;
}

/* The start of today in zone (for the daily cap). */
static int64_t local_day_start(const char *zone, int64_t now)
{
	struct sw_tz_local lt;
	int64_t start;

	if (sw_tz_utc_to_local(zone, now, &lt) != SW_OK ||
	    sw_tz_start_of_day(zone, &lt.date, &start) != SW_OK)
		return now - 86400;
	return start;
}

static const char *group_zone(const struct sw_notify *n, const struct group *g)
{
	const char *zone = json_string_value(json_object_get(g->parts[0].vars, "zone"));

	return zone && sw_tz_valid(zone) ? zone : n->conf->default_timezone;
}

/* Customer care before sending, on the lead row: SW_OK with *ret_done if
 * the group was settled (suppressed or deferred). */
static enum sw_err care(struct sw_notify *n, struct group *g, int64_t now, bool *ret_done)
{
	const struct sw_outbox_msg *lead = g->parts[0].row;
	enum sw_slip kind = SW_SLIP_LAST;
	const char *zone = group_zone(n, g);
	int64_t until, sent;
	char reason[96];
	int unsub = 0;
	enum sw_err rc;

	*ret_done = true;
	if (strcmp(lead->channel, "email") == 0 &&
	    (rc = sw_store_unsub_check(n->st, lead->recipient, &unsub)))
		return rc;
	if (unsub)
		return suppress_all(n, g, "unsubscribed", "suppressed_unsubscribed");
	sw_slip_from_name(lead->slip_kind, &kind);
	if (kind == SW_SLIP_LAST || !n->conf->is_urgent[kind]) {
		sw_rules_quiet_until(n->conf, zone, now, &until, NULL);
		if (until > now) {
			n->stats.quiet++;
			return defer_all(n, g, until, "quiet hours");
		}
	}
	if (n->conf->daily_cap > 0) {
		if ((rc = sw_store_outbox_sent_since(n->st, lead->recipient,
						     local_day_start(zone, now), &sent)))
			return rc;
		if (sent >= n->conf->daily_cap) {
			snprintf(reason, sizeof(reason), "daily cap %lld reached",
				 (long long)n->conf->daily_cap);
			return suppress_all(n, g, reason, "suppressed_daily_cap");
		}
	}
	*ret_done = false;
	return SW_OK;
}

static void unmarked_add(struct sw_notify *n, int64_t id, int64_t lead, int64_t at,
			 const char *detail)
{
	n->unm = xreallocarray(n->unm, n->n_unm + 1, sizeof(*n->unm));
	n->unm[n->n_unm++] = (struct unmarked){id, lead, at, detail ? xstrdup(detail) : NULL};
}

/* Records the rows sent but not recorded, oldest first; stops at the first
 * failure (the rest wait for the next round). */
static enum sw_err unmarked_flush(struct sw_notify *n)
{
	enum sw_err rc = SW_OK;
	size_t i;

	for (i = 0; i < n->n_unm && rc == SW_OK; i++) {
		const struct unmarked *u = &n->unm[i];

		rc = u->lead ? sw_store_outbox_mark_merged(n->st, u->id, u->lead, u->at)
			     : sw_store_outbox_mark_sent(n->st, u->id, u->at, u->detail);
		if (rc != SW_OK)
			break;
		sw_log_notice("notify", "notice %lld: sent earlier, now recorded as %s",
			      (long long)u->id, u->lead ? "merged" : "sent");
		free(u->detail);
	}
	if (i > 0) {
		memmove(n->unm, n->unm + i, (n->n_unm - i) * sizeof(*n->unm));
		n->n_unm -= i;
	}
	return rc;
}

/* The lead is sent; the other rows went inside its message.  A row the
 * store does not take now is remembered (unmarked_add): the message went
 * out either way. */
static enum sw_err mark_sent(struct sw_notify *n, struct group *g, int64_t now,
			     const char *detail)
{
	const struct sw_outbox_msg *lead = g->parts[0].row;
	enum sw_err rc = sw_store_outbox_mark_sent(n->st, lead->id, now, detail);

	n->stats.sent++;
	n->stats.cohort += g->parts[0].cohort.on;
	count(n, "sent");
	sw_log_release(&n->send_c, SW_LOG_NOTICE, "notify", "sending notices again");
	sw_log_info("notify", "notice %lld (%s%s, %s, %zu rows) sent: %s", (long long)lead->id,
		    lead->slip_kind, g->parts[0].cohort.on ? " as a cohort notice" : "",
		    lead->channel, g->n, detail);
	if (rc != SW_OK)
		unmarked_add(n, lead->id, 0, now, detail);
	for (size_t i = 1; i < g->n; i++) {
		if (rc == SW_OK)
			rc = sw_store_outbox_mark_merged(n->st, g->parts[i].row->id, lead->id, now);
		if (rc != SW_OK)
			unmarked_add(n, g->parts[i].row->id, lead->id, now, NULL);
		n->stats.merged++;
		count(n, "merged");
	}
	return rc;
}

/* Sends the group's message; *ret_tried: a send was attempted. */
static enum sw_err send_group(struct sw_notify *n, struct group *g, struct round *r,
			      struct sw_channel *ch, char *down, bool *ret_tried)
{
	const struct sw_outbox_msg *lead = g->parts[0].row;
	char detail[SW_CHAN_DETAIL_LEN], err[300], why[SW_CHAN_DETAIL_LEN + 64];
	struct sw_notice_built b;
	enum sw_chan_result res;
	int64_t retry = 0;
	enum sw_err rc;

	if (sw_notice_build(n->conf, n->tpl, g->parts, g->n, r->now, &b, err, sizeof(err))) {
		sw_notice_built_free(&b);
		return fail_all(n, g, err);
	}
	*ret_tried = true;
	res = sw_channel_send(ch, &b.notice, &retry, detail, sizeof(detail));
	sw_notice_built_free(&b);
	if (res == SW_CHAN_SENT)
		return mark_sent(n, g, r->now, detail);
	if (res != SW_CHAN_TEMPFAIL)
		return fail_all(n, g, detail);
	sw_log_complain(&n->send_c, SW_LOG_WARNING, "notify", "notice %lld not sent (%s): %s",
			(long long)lead->id, lead->channel, detail);
	if (sw_channel_server_fault(ch))
		snprintf(down, sizeof(r->down[0]), "not tried: %s", detail);
	if (r->now - lead->created_at >= n->conf->give_up_ms / 1000) {
		snprintf(why, sizeof(why), "gave up after %d attempts: %s", lead->attempts, detail);
		rc = fail_all(n, g, why);
	} else {
		rc = defer_all(n, g, r->now + (retry > 0 ? retry : backoff_s(n, lead->attempts)),
			       detail);
	}
	return rc;
}

/* One group: re-check, care, then send.  *ret_tried as for send_group. */
static enum sw_err handle_group(struct sw_notify *n, struct group *g, struct round *r,
				bool *ret_tried, char *errbuf, size_t errlen)
{
	char why[SW_CHAN_DETAIL_LEN + 64];
	size_t c;
	bool done;
	enum sw_err rc;

	*ret_tried = false;
	if ((rc = recheck_all(n, g, r->now, errbuf, errlen)) || g->n == 0 ||
	    (rc = cohort_all(n, g, r->now, &done, errbuf, errlen)) || done)
		return rc;
	sw_notice_sort(g->parts, g->n);
	if (!r->stopping && n->interrupt && n->interrupt())
		r->stopping = true;
	if (r->stopping) /* back to the queue, due at once */
		return defer_all(n, g, r->now, "not tried: stopping");
	if ((rc = care(n, g, r->now, &done)) || done)
		return rc;
	for (c = 0; c < n->n_chs; c++)
		if (strcmp(sw_channel_name(n->chs[c]), g->parts[0].row->channel) == 0)
			break;
	if (c == n->n_chs) {
		snprintf(why, sizeof(why), "channel %s is not configured",
			 g->parts[0].row->channel);
		return fail_all(n, g, why);
	}
	if (r->down[c][0]) /* not tried: the receiver is not taking notices now */
		return defer_all(n, g, r->now + backoff_s(n, 1), r->down[c]);
	return send_group(n, g, r, n->chs[c], r->down[c], ret_tried);
}

/* The claimed rows from i on that belong with msgs[i] (same group and
 * channel), plus the group's rows due within the settle window. */
static enum sw_err collect(struct sw_notify *n, struct sw_outbox_msg *msgs, size_t got,
			   size_t i, bool *taken, int64_t now, struct group *g,
			   struct sw_outbox_msg **ret_extra, size_t *ret_n_extra)
{
	const struct sw_outbox_msg *m = &msgs[i];

	*ret_extra = NULL;
	*ret_n_extra = 0;
	group_add(g, m);
	taken[i] = true;
	if (!m->grp)
		return SW_OK;
	for (size_t j = i + 1; j < got; j++)
		if (!taken[j] && msgs[j].grp && strcmp(msgs[j].grp, m->grp) == 0 &&
		    strcmp(msgs[j].channel, m->channel) == 0) {
			group_add(g, &msgs[j]);
			taken[j] = true;
		}
	if (sw_store_outbox_claim_group(n->st, m->grp, m->channel,
					now + n->conf->settle_ms / 1000,
					now + n->conf->lease_ms / 1000, ret_extra, ret_n_extra))
		return SW_ESTORE;
	for (size_t j = 0; j < *ret_n_extra; j++)
		group_add(g, &(*ret_extra)[j]);
	return SW_OK;
}

/* ---- rounds ------------------------------------------------------------ */

static void refill(struct sw_notify *n, int64_t now_ms)
{
	double burst = n->conf->send_rate > 1 ? n->conf->send_rate : 1;

	if (n->tokens_ms && now_ms > n->tokens_ms)
		n->tokens += (double)(now_ms - n->tokens_ms) * n->conf->send_rate / 1000.0;
	if (n->tokens > burst)
		n->tokens = burst;
	n->tokens_ms = now_ms;
}

static int64_t token_wait_ms(const struct sw_notify *n)
{
	return (int64_t)ceil((1 - n->tokens) * 1000.0 / n->conf->send_rate);
}

enum sw_err sw_notify_run(struct sw_notify *n, int64_t now, int64_t now_ms, int64_t poll_ms,
			  int64_t *ret_delay_ms, char *errbuf, size_t errlen)
{
	struct sw_outbox_msg *msgs = NULL;
	struct round r = { .now = now };
	bool *taken;
	size_t got = 0;
	int limit;
	enum sw_err rc;

	*ret_delay_ms = poll_ms;
	if (errlen > 0)
		errbuf[0] = '\0';
	if ((rc = unmarked_flush(n)) != SW_OK) {
		snprintf(errbuf, errlen, "recording notices already sent: %s",
			 sw_store_errmsg(n->st));
		return rc;
	}
	refill(n, now_ms);
	if (n->tokens < 1) {
		*ret_delay_ms = token_wait_ms(n);
		return SW_OK;
	}
	limit = (int)floor(n->tokens);
	if (limit > n->conf->batch)
		limit = (int)n->conf->batch;
	rc = sw_store_outbox_claim(n->st, now, (int)(n->conf->lease_ms / 1000), limit, &msgs, &got);
	if (rc != SW_OK) {
		snprintf(errbuf, errlen, "claiming notices: %s", sw_store_errmsg(n->st));
		return rc;
	}
	taken = xcalloc(got ? got : 1, sizeof(*taken));
	for (size_t i = 0; i < got && rc == SW_OK; i++) {
		struct sw_outbox_msg *extra = NULL;
		struct group g = { 0 };
		size_t n_extra = 0;
		bool tried = false;

		if (taken[i])
			continue;
		rc = collect(n, msgs, got, i, taken, now, &g, &extra, &n_extra);
		if (rc == SW_OK)
			rc = handle_group(n, &g, &r, &tried, errbuf, errlen);
		if (rc != SW_OK && !errbuf[0]) /* the rows stay claimed; their lease brings them back */
			snprintf(errbuf, errlen, "notice %lld: %s", (long long)msgs[i].id,
				 sw_store_errmsg(n->st));
		if (tried)
			n->tokens -= 1;
		group_free(&g);
		sw_store_outbox_free(extra, n_extra);
	}
	if (rc == SW_OK && got == (size_t)limit)
		*ret_delay_ms = n->tokens >= 1 ? 0 : token_wait_ms(n);
	free(taken);
	sw_store_outbox_free(msgs, got);
	return rc;
}
