/*
 * pages.c - the on-call lifecycle: every interval each ops rule measures
 * each of its subjects (signals.h), the page's state moves (ok, pending,
 * firing, nodata), and what receivers should hear is compared with what
 * they last heard; the difference is queued as outbox rows in the same
 * transaction that writes the page (see pages.h for the rules).
 *
 * Design:
 * - Level-based: nothing here remembers anything between evaluations but
 *   the store.  A restart evaluates again and finds receivers already
 *   told (no re-page); a resolve that happened while the daemon was down
 *   is a page that is ok now but whose receivers were told "firing".
 * - One transaction per page: the page row and its notifications commit
 *   together, so a crash leaves either both or neither.
 * - Silences and acknowledgements are read from the store (the CLI
 *   writes them) at each evaluation; silences once per evaluation, acks
 *   per open page.
 * - Texts are plain English for on-call staff: what slipped, where, since
 *   when, how many, which stage, and the figures behind the rule.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alerts/pages.h"
#include "alerts/stage.h"
#include "lib/log.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"

#define LABELS_LEN  1024
#define SUMMARY_LEN 512
#define DETAILS_LEN 4096

struct silence {
	struct sw_matchers *m;
	int64_t starts_at, ends_at;
	int64_t id;
};

struct sw_pages {
	struct sw_store *st;
	const struct sw_sig_ctx *ctx;
	const struct sw_pages_conf *conf;
	struct sw_metrics *metrics;
	struct sw_pages_stats stats;
	struct silence *silences; /* this evaluation's active ones */
	size_t n_silences;
};

struct sw_pages *sw_pages_new(struct sw_store *st, const struct sw_sig_ctx *ctx,
			      const struct sw_pages_conf *conf, struct sw_metrics *metrics)
{
	struct sw_pages *p = xcalloc(1, sizeof(*p));

	p->st = st;
	p->ctx = ctx;
	p->conf = conf;
	p->metrics = metrics;
	return p;
}

void sw_pages_set_conf(struct sw_pages *p, const struct sw_pages_conf *conf)
{
	p->conf = conf;
}

static void silences_clear(struct sw_pages *p)
{
	for (size_t i = 0; i < p->n_silences; i++)
		sw_matchers_free(p->silences[i].m);
	free(p->silences);
	p->silences = NULL;
	p->n_silences = 0;
}

void sw_pages_free(struct sw_pages *p)
{
	if (!p)
		return;
	silences_clear(p);
	free(p);
}

void sw_pages_get_stats(const struct sw_pages *p, struct sw_pages_stats *ret)
{
	*ret = p->stats;
}

/* Counts n in oncall.rrd's registry data source ds (no registry: nothing). */
static void count(struct sw_pages *p, const char *ds, uint64_t n)
{
	if (p->metrics)
		sw_metrics_count(p->metrics, "oncall", ds, n);
}

/* ---- thresholds ---------------------------------------------------------------- */

/* The severity value v crosses (NONE: neither threshold). */
static int severity_of(const struct sw_page_rule *r, double v)
{
	bool above = r->signal->above;

	if (r->has_critical && (above ? v >= r->critical : v <= r->critical))
		return SW_SEV_CRITICAL;
	if (r->has_warning && (above ? v >= r->warning : v <= r->warning))
		return SW_SEV_WARNING;
	return SW_SEV_NONE;
}

/* Back past recover: a firing page resolves. */
static bool recovered(const struct sw_page_rule *r, double v)
{
	return r->signal->above ? v < r->recover : v > r->recover;
}

/* ---- state ------------------------------------------------------------------------ */

/* What receivers hear of a state: pending is still "ok" to them. */
static enum sw_page_state level(enum sw_page_state s)
{
	return s == SW_PAGE_PENDING ? SW_PAGE_OK : s;
}

/* Moves pg to state s at now, keeping the incident and flap counts. */
static void set_state(const struct sw_pages_conf *c, struct sw_page *pg, enum sw_page_state s,
		      int64_t now)
{
	if (pg->state == s)
		return;
	if (pg->state == SW_PAGE_OK) {
		/* leaving ok: a new incident unless receivers still hear the
		 * last one (a resolve held back by flap damping or a silence) */
		if (pg->notified_state == SW_PAGE_OK || pg->notified_incident != pg->incident) {
			pg->incident++;
			pg->receiver = NULL;
			pg->escalated_to = NULL;
			pg->escalated_at = 0;
			pg->ack_notified = false;
			pg->first_notified_at = 0;
		}
		pg->active_since = now;
	}
	if (level(pg->state) != level(s)) {
		if (pg->flap_changes <= c->flap_limit && now - pg->flap_start > c->flap_window_s) {
			pg->flap_start = now;
			pg->flap_changes = 1;
		} else {
			pg->flap_changes++;
		}
	}
	if (s == SW_PAGE_FIRING && pg->state != SW_PAGE_FIRING)
		pg->firing_since = now;
	if (s == SW_PAGE_OK) {
		pg->active_since = 0;
		pg->firing_since = 0;
		pg->severity = SW_SEV_NONE;
	}
	pg->state = s;
	pg->state_since = now;
}

/* The state a measurement leads to (see pages.h). */
static void step(const struct sw_pages_conf *c, const struct sw_page_rule *r, struct sw_page *pg,
		 const struct sw_sig_value *v, int64_t now)
{
	int sev;

	if (!v->has_data) {
		set_state(c, pg, SW_PAGE_NODATA, now);
		pg->severity = r->nodata_severity;
		return;
	}
	if (!v->enough) {
		if (pg->state == SW_PAGE_NODATA)
			set_state(c, pg, SW_PAGE_OK, now);
		return;
	}
	sev = severity_of(r, v->value);
	switch (pg->state) {
	case SW_PAGE_FIRING:
		if (recovered(r, v->value)) {
			set_state(c, pg, SW_PAGE_OK, now);
			return;
		}
		if (sev != SW_SEV_NONE)
			pg->severity = sev;
		return;
	case SW_PAGE_PENDING:
		if (sev == SW_SEV_NONE) {
			set_state(c, pg, SW_PAGE_OK, now);
			return;
		}
		break;
	case SW_PAGE_NODATA:
		set_state(c, pg, SW_PAGE_OK, now);
		/* judged afresh */
		__attribute__((fallthrough));
	case SW_PAGE_OK:
	default:
		if (sev == SW_SEV_NONE)
			return;
		set_state(c, pg, SW_PAGE_PENDING, now);
		break;
	}
	pg->severity = sev;
	if (now - pg->active_since >= r->for_s)
		set_state(c, pg, SW_PAGE_FIRING, now);
}

/* Flap damping: too many changes in the window hold notifications until
 * the page has been stable for a whole window. */
static bool flapping(const struct sw_pages_conf *c, struct sw_page *pg, int64_t now)
{
	if (pg->flap_changes <= c->flap_limit)
		return false;
	if (now - pg->state_since >= c->flap_window_s) {
		pg->flap_changes = 0;
		pg->flap_start = now;
		return false;
	}
	return true;
}

/* ---- texts ------------------------------------------------------------------------- */

static void fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "-");
}

static void fmt_age(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "m", s / 60);
}

/* "courier dhl" from "courier=dhl"; the installation for "". */
static void where_of(const char *subject, char *buf, size_t len)
{
	const char *eq = strchr(subject, '=');

	if (!*subject || !eq)
		snprintf(buf, len, "slipwatch");
	else
		snprintf(buf, len, "%.*s %s", (int)(eq - subject), subject, eq + 1);
}

static void thresholds(const struct sw_page_rule *r, char *buf, size_t len)
{
	const char *cmp = r->signal->above ? ">=" : "<=";
	const char *unit = r->signal->unit;
	int n = 0;

	buf[0] = 0;
	if (!r->has_warning && !r->has_critical) {
		snprintf(buf, len, "no thresholds (the rule is gone)");
		return;
	}
	if (r->has_warning)
		n = snprintf(buf, len, "warning %s %g%s", cmp, r->warning, unit);
	if (r->has_critical && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "%scritical %s %g%s", n ? ", " : "", cmp,
			      r->critical, unit);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "; resolves %s %g%s", r->signal->above ? "below" : "above",
			 r->recover, unit);
}

/* The one line every channel shows first. */
static void summary_of(const struct sw_page_rule *r, const struct sw_page *pg,
		       const char *event, char *buf, size_t len)
{
	char where[160];
	const char *tag;

	where_of(pg->subject, where, sizeof(where));
	if (strcmp(event, "resolve") == 0)
		tag = "RESOLVED";
	else if (strcmp(event, "acknowledge") == 0)
		tag = "ACKNOWLEDGED";
	else
		tag = pg->severity == SW_SEV_CRITICAL ? "CRITICAL" : "WARNING";
	if (pg->state == SW_PAGE_NODATA && strcmp(event, "trigger") == 0)
		snprintf(buf, len, "[%s] %s: %s: no data (%s)", tag, r->name, where,
			 pg->summary ? pg->summary : "the series stopped");
	else
		snprintf(buf, len, "[%s] %s: %s: %s", tag, r->name, where,
			 pg->summary ? pg->summary : "");
}

/* The details: what, where, since when, how many, the stage (NULL:
 * none), the figures. */
static void details_of(const struct sw_page_rule *r, const struct sw_page *pg,
		       const struct sw_sig_value *v, const char *stage, const char *event,
		       int64_t now, char *buf, size_t len)
{
	char where[160], since[40], age[24], th[200];
	const char *words = sw_stage_words(stage);

	where_of(pg->subject, where, sizeof(where));
	fmt_time(pg->active_since ? pg->active_since : pg->state_since, since, sizeof(since));
	fmt_age(now - (pg->active_since ? pg->active_since : pg->state_since), age, sizeof(age));
	thresholds(r, th, sizeof(th));
	snprintf(buf, len,
		 "What:      %s (%s)\n"
		 "Where:     %s\n"
		 "%s%s%s"
		 "State:     %s%s, severity %s\n"
		 "Since:     %s (%s ago)\n"
		 "Value:     %s\n"
		 "Count:     %" PRId64 "\n"
		 "Rule:      [page %s] signal %s: %s\n"
		 "Figures:   %s\n"
		 "Labels:    %s\n"
		 "%s%s%s",
		 r->signal->what, r->signal->name, where, words ? "Stage that ran over: " : "",
		 words ? words : "", words ? "\n" : "",
		 strcmp(event, "resolve") == 0 ? "resolved" : sw_page_state_name(pg->state),
		 strcmp(event, "acknowledge") == 0 ? " (acknowledged)" : "",
		 sw_page_severity_name(pg->severity), since, age,
		 v->text[0] ? v->text : (pg->summary ? pg->summary : "-"), v->count, r->name,
		 r->signal->name, th, v->figures[0] ? v->figures : "{}", pg->labels,
		 r->description ? "Note:      " : "", r->description ? r->description : "",
		 r->description ? "\n" : "");
}

/* ---- silences and routing ------------------------------------------------------------------ */

/* Loads the silences active at now (malformed ones are skipped: the CLI
 * refuses them, so one here was written by hand). */
static enum sw_err silences_load(struct sw_pages *p, int64_t now, char *err, size_t len)
{
	struct sw_silence *list = NULL;
	size_t n = 0;
	char perr[256];

	silences_clear(p);
	if (sw_store_silence_list(p->st, now, false, &list, &n) != SW_OK) {
		snprintf(err, len, "%s", sw_store_errmsg(p->st));
		return SW_ESTORE;
	}
	p->silences = xcalloc(n ? n : 1, sizeof(*p->silences));
	for (size_t i = 0; i < n; i++) {
		struct silence *s = &p->silences[p->n_silences];

		if (list[i].starts_at > now)
			continue;
		if (sw_matchers_parse(list[i].matchers, &s->m, perr, sizeof(perr)) != SW_OK) {
			sw_log_warn("pages", "silence %" PRId64 " ignored: %s", list[i].id, perr);
			continue;
		}
		s->id = list[i].id;
		s->starts_at = list[i].starts_at;
		s->ends_at = list[i].ends_at;
		p->n_silences++;
	}
	sw_store_silence_free(list, n);
	return SW_OK;
}

/* The severity a notification of pg carries: a resolve the one it had. */
static int sev_now(const struct sw_page *pg)
{
	if (pg->severity != SW_SEV_NONE)
		return pg->severity;
	return pg->notified_severity != SW_SEV_NONE ? pg->notified_severity : SW_SEV_WARNING;
}

/* labels plus severity, canonical. */
static void labels_sev(const struct sw_page *pg, int sev, char *buf, size_t len)
{
	char tmp[LABELS_LEN + 32], err[128];

	snprintf(tmp, sizeof(tmp), "%s%sseverity=%s", pg->labels, *pg->labels ? "," : "",
		 sw_page_severity_name(sev));
	if (sw_labels_canon(tmp, buf, len, err, sizeof(err)) != SW_OK)
		snprintf(buf, len, "%s", pg->labels);
}

static bool silenced(const struct sw_pages *p, const char *labels)
{
	for (size_t i = 0; i < p->n_silences; i++)
		if (sw_matchers_match(p->silences[i].m, labels))
			return true;
	return false;
}

/* ---- notifications ------------------------------------------------------------------------- */

/* What one evaluation of one page works with. */
struct eval {
	struct sw_pages *p;
	const struct sw_page_rule *r;
	struct sw_page *pg;
	const struct sw_sig_value *v;
	const char *prev_figures; /* the page row's figures before this
				     evaluation, or NULL */
	int64_t now;
	char labels[LABELS_LEN]; /* with severity */
	const char *acked_by;	 /* NULL: not acknowledged */
};

/* The "stage" of figures (JSON object text; a cohort's figures have
 * one) into buf: true if there is one. */
static bool figures_stage(const char *figures, char *buf, size_t len)
{
	const char *st;
	json_t *fig;

	buf[0] = 0;
	if (!figures || !*figures || !(fig = json_loads(figures, 0, NULL)))
		return false;
	st = json_string_value(json_object_get(fig, "stage"));
	snprintf(buf, len, "%s", st ? st : "");
	json_decref(fig);
	return buf[0] != 0;
}

/*
 * The stage that ran over, for a notification of event (NULL: none): the
 * signal's (v->stage), else the figures' (all a retired page has left).
 * A resolve says the stage of the incident it ends, from the figures it
 * fired with: a cohort that is gone has no stage any more.
 */
static const char *stage_of(const struct eval *e, const char *event, char *buf, size_t len)
{
	if (strcmp(event, "resolve") == 0 && figures_stage(e->prev_figures, buf, len))
		return buf;
	if (e->v->stage[0])
		return e->v->stage;
	return figures_stage(e->v->figures, buf, len) ? buf : NULL;
}

/* The facts every channel reads from the row (struct sw_page_notice). */
static char *facts_json(const struct eval *e, const char *event, const char *stg,
			const char *receiver, bool repeat, bool escalation)
{
	char dedup[512], source[200];
	json_t *o = json_object(), *fig = NULL;
	char *text;

	snprintf(dedup, sizeof(dedup), "slipwatch/%s/%s/%" PRId64, e->r->name,
		 *e->pg->subject ? e->pg->subject : "all", e->pg->incident);
	where_of(e->pg->subject, source, sizeof(source));
	if (!*e->pg->subject && e->p->conf->source)
		snprintf(source, sizeof(source), "%s", e->p->conf->source);
	if (e->v->figures[0])
		fig = json_loads(e->v->figures, 0, NULL);
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "dedup_key", json_string(dedup));
	json_object_set_new(o, "severity", json_string(sw_page_severity_name(sev_now(e->pg))));
	json_object_set_new(o, "state", json_string(strcmp(event, "resolve") == 0
							? "resolved"
							: sw_page_state_name(e->pg->state)));
	json_object_set_new(o, "rule", json_string(e->r->name));
	json_object_set_new(o, "signal", json_string(e->r->signal->name));
	json_object_set_new(o, "source", json_string(source));
	json_object_set_new(o, "labels", json_string(e->labels));
	json_object_set_new(o, "figures", fig ? fig : json_object());
	json_object_set_new(o, "stage", stg ? json_string(stg) : json_null());
	json_object_set_new(o, "since", json_integer(e->pg->active_since ? e->pg->active_since
									 : e->pg->state_since));
	json_object_set_new(o, "incident", json_integer(e->pg->incident));
	json_object_set_new(o, "receiver", json_string(receiver));
	json_object_set_new(o, "acked_by", e->acked_by ? json_string(e->acked_by) : json_null());
	json_object_set_new(o, "repeat", json_boolean(repeat));
	json_object_set_new(o, "escalation", json_boolean(escalation));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* Queues one notification of event to receiver name (one row per address
 * for email).  SW_OK, SW_ECONF (no such receiver: logged, nothing queued),
 * SW_ESTORE. */
static enum sw_err queue(struct eval *e, const char *event, const char *name, bool repeat,
			 bool escalation, char *err, size_t len)
{
	const struct sw_receiver_conf *rc = sw_pages_receiver(e->p->conf, name);
	char summary[SUMMARY_LEN], details[DETAILS_LEN], entity[40], promise[300], stage[32];
	struct sw_outbox_msg m = { 0 };
	const char *stg;
	char *facts;
	enum sw_err r = SW_OK;

	if (!rc) {
		sw_log_warn("pages", "page %s %s: receiver %s is not configured", e->r->name,
			    e->pg->subject, name);
		return SW_ECONF;
	}
	if (strcmp(event, "resolve") == 0 && !rc->send_resolved)
		return SW_OK;
	stg = stage_of(e, event, stage, sizeof(stage));
	summary_of(e->r, e->pg, event, summary, sizeof(summary));
	details_of(e->r, e->pg, e->v, stg, event, e->now, details, sizeof(details));
	facts = facts_json(e, event, stg, name, repeat, escalation);
	snprintf(entity, sizeof(entity), "page:%" PRId64, e->pg->id);
	m.entity = entity;
	m.slip_kind = event;
	m.channel = rc->ops->name;
	m.receiver = name;
	m.subject = summary;
	m.body = details;
	m.template_vars = facts;
	m.next_attempt_at = e->now;
	m.created_at = e->now;
	m.promise = promise;
	e->pg->notify_seq++;
	for (size_t i = 0; r == SW_OK && i < (rc->n_to ? rc->n_to : 1); i++) {
		m.recipient = rc->n_to ? rc->to[i] : name;
		snprintf(promise, sizeof(promise), "%" PRId64 "#%" PRId64 "@%s", e->pg->incident,
			 e->pg->notify_seq, m.recipient);
		r = sw_store_outbox_enqueue(e->p->st, &m, NULL);
		if (r == SW_EDUP)
			r = SW_OK;
	}
	free(facts);
	if (r != SW_OK) {
		snprintf(err, len, "%s", sw_store_errmsg(e->p->st));
		return SW_ESTORE;
	}
	e->p->stats.queued++;
	count(e->p, "queued", 1);
	return SW_OK;
}

/* Rows of this page to receiver still waiting: a reminder would only pile
 * up behind them while the receiver is down. */
static bool backlog(struct eval *e)
{
	int64_t counts[SW_OUTBOX_LAST];

	if (sw_store_page_outbox_counts(e->p->st, e->pg->id, counts) != SW_OK)
		return true;
	return counts[SW_OUTBOX_QUEUED] + counts[SW_OUTBOX_DEFERRED] + counts[SW_OUTBOX_SENDING] >
	       0;
}

/* The receiver a new incident goes to, and its route (may be NULL). */
static const char *route_of(struct eval *e, const struct sw_page_route **ret_route)
{
	const struct sw_page_route *rt = sw_pages_route(e->p->conf, e->labels);

	*ret_route = rt;
	return rt ? rt->receiver : e->p->conf->receiver;
}

/* Sends event to the incident's receiver and, when escalated, to the
 * escalation receiver too. */
static enum sw_err queue_both(struct eval *e, const char *event, bool repeat, char *err,
			      size_t len)
{
	enum sw_err rc = queue(e, event, e->pg->receiver, repeat, false, err, len);

	if (rc == SW_ESTORE || !e->pg->escalated_to)
		return rc;
	return queue(e, event, e->pg->escalated_to, repeat, true, err, len);
}

/* Firing or no data: what receivers have not heard yet. */
static enum sw_err notify_open(struct eval *e, enum sw_page_state lv, char *err, size_t len)
{
	struct sw_page *pg = e->pg;
	const struct sw_page_route *rt;
	int64_t repeat_s;
	enum sw_err rc = SW_OK;

	if (pg->notified_state == SW_PAGE_OK || pg->notified_incident != pg->incident ||
	    !pg->receiver) {
		const char *to = route_of(e, &rt);

		if (!to) {
			sw_log_warn("pages", "page %s %s: no route and no [pages] receiver",
				    e->r->name, pg->subject);
			return SW_OK;
		}
		pg->receiver = to;
		if ((rc = queue(e, "trigger", to, false, false, err, len)) == SW_ESTORE)
			return rc;
		pg->first_notified_at = e->now;
		goto told;
	}
	route_of(e, &rt);
	if (lv != pg->notified_state || pg->severity > pg->notified_severity) {
		if ((rc = queue_both(e, "trigger", false, err, len)) == SW_ESTORE)
			return rc;
		goto told;
	}
	if (e->acked_by && !pg->ack_notified) {
		if ((rc = queue_both(e, "acknowledge", false, err, len)) == SW_ESTORE)
			return rc;
		pg->ack_notified = true;
		return SW_OK;
	}
	if (e->acked_by || backlog(e))
		return SW_OK;
	if (rt && rt->escalate_to && !pg->escalated_at &&
	    e->now - pg->first_notified_at >= rt->escalate_after_s) {
		if ((rc = queue(e, "trigger", rt->escalate_to, false, true, err, len)) == SW_ESTORE)
			return rc;
		pg->escalated_to = rt->escalate_to;
		pg->escalated_at = e->now;
		return SW_OK;
	}
	repeat_s = rt && rt->repeat_s >= 0 ? rt->repeat_s : e->p->conf->repeat_s;
	if (repeat_s > 0 && e->now - pg->notified_at >= repeat_s) {
		if ((rc = queue_both(e, "trigger", true, err, len)) == SW_ESTORE)
			return rc;
		pg->notified_at = e->now;
	}
	return SW_OK;
told:
	pg->notified_state = lv;
	pg->notified_severity = pg->severity;
	pg->notified_incident = pg->incident;
	pg->notified_at = e->now;
	return SW_OK;
}

/* Decides and queues what receivers should hear now. */
static enum sw_err notify(struct eval *e, char *err, size_t len)
{
	struct sw_page *pg = e->pg;
	enum sw_page_state lv = level(pg->state);
	enum sw_err rc;

	if (lv == SW_PAGE_OK && pg->notified_state == SW_PAGE_OK)
		return SW_OK;
	if (flapping(e->p->conf, pg, e->now)) {
		e->p->stats.held_flapping++;
		count(e->p, "held_flapping", 1);
		return SW_OK;
	}
	if (silenced(e->p, e->labels)) {
		e->p->stats.held_silenced++;
		count(e->p, "held_silenced", 1);
		return SW_OK;
	}
	if (lv != SW_PAGE_OK)
		return notify_open(e, lv, err, len);
	if (pg->receiver && (rc = queue_both(e, "resolve", false, err, len)) == SW_ESTORE)
		return rc;
	pg->notified_state = SW_PAGE_OK;
	pg->notified_severity = SW_SEV_NONE;
	pg->notified_at = e->now;
	return SW_OK;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

/* subject "warehouse=w1" and the page's labels (rule, signal, the subject,
 * the rule's own), canonical. */
static enum sw_err page_labels(const struct sw_page_rule *r, const char *id, char *subject,
			       size_t slen, char *labels, size_t llen)
{
	const char *key = sw_signal_subject_label(r->signal);
	char tmp[LABELS_LEN * 2], err[160];

	if (key)
		snprintf(subject, slen, "%s=%s", key, id);
	else
		subject[0] = 0;
	snprintf(tmp, sizeof(tmp), "rule=%s,signal=%s%s%s%s%s", r->name, r->signal->name,
		 *subject ? "," : "", subject, r->labels && *r->labels ? "," : "",
		 r->labels ? r->labels : "");
	return sw_labels_canon(tmp, labels, llen, err, sizeof(err));
}

/* The tail of one page's evaluation, inside the transaction the caller
 * began: the acknowledgement read, notifications decided and queued, the
 * page written, committed (rolled back on failure, err set). */
static enum sw_err finish(struct sw_pages *p, struct eval *e, char *err, size_t len)
{
	struct sw_page *pg = e->pg;
	char *acked_by = NULL;
	bool acked = false;
	int64_t acked_at;
	enum sw_err rc = SW_OK;

	if (!pg->id && sw_store_page_put(p->st, pg, &pg->id) != SW_OK)
		rc = SW_ESTORE;
	labels_sev(pg, sev_now(pg), e->labels, sizeof(e->labels));
	if (rc == SW_OK && pg->state != SW_PAGE_OK && pg->incident > 0) {
		if (sw_store_page_acked(p->st, pg->id, pg->incident, &acked, &acked_at, &acked_by))
			rc = SW_ESTORE;
		e->acked_by = acked ? (acked_by ? acked_by : "someone") : NULL;
	}
	if (rc == SW_OK && (notify(e, err, len) != SW_OK ||
			    sw_store_page_put(p->st, pg, NULL) != SW_OK ||
			    sw_store_commit(p->st) != SW_OK))
		rc = SW_ESTORE;
	if (rc != SW_OK) {
		snprintf(err, len, "%s", sw_store_errmsg(p->st));
		sw_store_rollback(p->st);
	} else {
		p->stats.firing += pg->state == SW_PAGE_FIRING;
		p->stats.pending += pg->state == SW_PAGE_PENDING;
		p->stats.nodata += pg->state == SW_PAGE_NODATA;
	}
	free(acked_by);
	return rc;
}

/* One rule on one subject, in one transaction. */
static enum sw_err eval_one(struct sw_pages *p, const struct sw_page_rule *r, const char *id,
			    const struct sw_sig_value *v, int64_t now, char *err, size_t len)
{
	char subject[200], labels[LABELS_LEN];
	struct sw_page *stored = NULL, pg = { 0 };
	struct eval e = { .p = p, .r = r, .pg = &pg, .v = v, .now = now };
	enum sw_err rc;

	if (page_labels(r, id, subject, sizeof(subject), labels, sizeof(labels)) != SW_OK)
		return SW_OK; /* an id no label can hold: signals never give one */
	if (r->match && !sw_matchers_match(r->match, labels))
		return SW_OK;
	if (sw_store_begin(p->st) != SW_OK) {
		snprintf(err, len, "%s", sw_store_errmsg(p->st));
		return SW_ESTORE;
	}
	rc = sw_store_page_get(p->st, r->name, subject, &stored);
	if (rc == SW_ENOTFOUND && !v->has_data) { /* never had data: nothing to say */
		sw_store_rollback(p->st);
		return SW_OK;
	}
	if (rc != SW_OK && rc != SW_ENOTFOUND) {
		snprintf(err, len, "%s", sw_store_errmsg(p->st));
		sw_store_rollback(p->st);
		return SW_ESTORE;
	}
	if (stored) {
		pg = *stored;
		e.prev_figures = stored->figures;
	} else {
		pg.rule = r->name;
		pg.subject = subject;
		pg.state_since = now;
		pg.flap_start = now;
	}
	pg.labels = labels;
	pg.evaluated_at = now;
	step(p->conf, r, &pg, v, now);
	pg.has_value = v->has_data && v->enough;
	pg.value = v->value;
	pg.summary = v->text[0] ? v->text : NULL;
	pg.figures = v->figures[0] ? v->figures : NULL;
	rc = finish(p, &e, err, len);
	sw_store_page_free(stored, 1);
	return rc;
}

/*
 * A page whose rule is no longer in the configuration: it is ok now, and
 * receivers that were told it fires are told it is resolved (saying why),
 * so no incident stays open at a receiver for a rule that is gone.
 */
static enum sw_err retire(struct sw_pages *p, const struct sw_page *stored, int64_t now,
			  char *err, size_t len)
{
	char sig[64] = "";
	struct sw_page_rule r = { 0 };
	struct sw_sig_value v;
	struct sw_page pg = *stored;
	struct eval e = {
	    .p = p, .r = &r, .pg = &pg, .v = &v, .prev_figures = stored->figures, .now = now};

	sw_labels_get(stored->labels, "signal", sig, sizeof(sig));
	r.name = (char *)stored->rule;
	r.signal = sw_signal_find(sig) ? sw_signal_find(sig) : sw_signal_table[0];
	r.description = (char *)"the rule was removed from the configuration";
	memset(&v, 0, sizeof(v));
	v.has_data = v.enough = true;
	snprintf(v.text, sizeof(v.text), "[page %s] is no longer in the configuration",
		 stored->rule);
	snprintf(v.figures, sizeof(v.figures), "%s", stored->figures ? stored->figures : "{}");
	if (sw_store_begin(p->st) != SW_OK) {
		snprintf(err, len, "%s", sw_store_errmsg(p->st));
		return SW_ESTORE;
	}
	sw_log_notice("pages", "page %s %s: its rule is gone: resolved", stored->rule,
		      stored->subject);
	pg.evaluated_at = now;
	set_state(p->conf, &pg, SW_PAGE_OK, now);
	pg.has_value = false;
	pg.summary = v.text;
	pg.flap_changes = 0; /* told at once, whatever it did before */
	return finish(p, &e, err, len);
}

/* Retires the open pages whose rule is not configured any more. */
static enum sw_err retire_orphans(struct sw_pages *p, const struct sw_page *pages, size_t n,
				  int64_t now, char *err, size_t len)
{
	enum sw_err rc = SW_OK;

	for (size_t i = 0; rc == SW_OK && i < n; i++) {
		bool known = false;

		for (size_t j = 0; !known && j < p->conf->n_rules; j++)
			known = strcmp(p->conf->rules[j].name, pages[i].rule) == 0;
		if (!known)
			rc = retire(p, &pages[i], now, err, len);
	}
	return rc;
}

/* The subjects of r now: the signal's, plus those of r's pages that are
 * not ok (a subject that vanished must still turn "no data"). */
static void subjects_of(struct sw_pages *p, const struct sw_page_rule *r,
			const struct sw_page *pages, size_t n_pages, char ***ids, size_t *n)
{
	const char *key = sw_signal_subject_label(r->signal);
	char err[256];

	*ids = NULL;
	*n = 0;
	if (!key) {
		*ids = xcalloc(1, sizeof(char *));
		(*ids)[0] = xstrdup("");
		*n = 1;
		return;
	}
	if (r->signal->subjects(p->ctx, ids, n, err, sizeof(err)) != SW_OK) {
		sw_log_warn("pages", "[page %s]: %s", r->name, err);
		*ids = NULL;
		*n = 0;
	}
	for (size_t i = 0; i < n_pages; i++) {
		const char *eq = strchr(pages[i].subject, '=');
		bool have = false;

		if (strcmp(pages[i].rule, r->name) != 0 || !eq ||
		    (pages[i].state == SW_PAGE_OK && pages[i].notified_state == SW_PAGE_OK))
			continue;
		for (size_t j = 0; j < *n && !have; j++)
			have = strcmp((*ids)[j], eq + 1) == 0;
		if (!have) {
			*ids = xreallocarray(*ids, *n + 1, sizeof(char *));
			(*ids)[(*n)++] = xstrdup(eq + 1);
		}
	}
}

enum sw_err sw_pages_eval(struct sw_pages *p, int64_t now, char *err, size_t len)
{
	struct sw_page *pages = NULL;
	size_t n_pages = 0;
	char merr[512];
	enum sw_err rc = SW_OK;

	err[0] = 0;
	p->stats.firing = p->stats.pending = p->stats.nodata = 0;
	if (!p->conf)
		return SW_OK;
	if ((rc = silences_load(p, now, err, len)))
		return rc;
	if (sw_store_page_list(p->st, false, &pages, &n_pages) != SW_OK) {
		snprintf(err, len, "%s", sw_store_errmsg(p->st));
		return SW_ESTORE;
	}
	rc = retire_orphans(p, pages, n_pages, now, err, len);
	for (size_t i = 0; rc == SW_OK && i < p->conf->n_rules; i++) {
		const struct sw_page_rule *r = &p->conf->rules[i];
		struct sw_sig_args a = {
		    .now = now,
		    .window_s = r->window_s,
		    .min_count = r->min_count,
		    .nodata_after_s = r->nodata_after_s,
		    .baseline_days = r->baseline_days,
		    .factor = r->factor,
		};
		char **ids;
		size_t n;

		subjects_of(p, r, pages, n_pages, &ids, &n);
		for (size_t j = 0; rc == SW_OK && j < n; j++) {
			struct sw_sig_value v;

			memset(&v, 0, sizeof(v));
			p->stats.evaluations++;
			if (r->signal->measure(p->ctx, ids[j], &a, &v, merr, sizeof(merr)) != SW_OK) {
				p->stats.errors++;
				count(p, "errors", 1);
				if (!err[0])
					snprintf(err, len, "[page %s] %s: %s", r->name, ids[j], merr);
				continue;
			}
			rc = eval_one(p, r, ids[j], &v, now, err, len);
		}
		sw_signal_ids_free(ids, n);
	}
	sw_store_page_free(pages, n_pages);
	if (p->metrics && rc == SW_OK) {
		sw_metrics_gauge(p->metrics, "oncall", "firing", (double)p->stats.firing);
		sw_metrics_gauge(p->metrics, "oncall", "pending", (double)p->stats.pending);
		sw_metrics_gauge(p->metrics, "oncall", "nodata", (double)p->stats.nodata);
	}
	return rc;
}
