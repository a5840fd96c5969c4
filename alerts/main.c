/*
 * main.c - slipwatch-alerts: the alert engine daemon.
 *
 * Glue between the shared daemon life cycle (lib/daemon) and the engine's
 * parts: engine.c (slips: start-up pass, journal tail, deadlines),
 * notify.c (customer emails from the outbox), mail.c (SMTP), template.c,
 * rules.c (settings), pages.c and pager.c (on-call), role.c (which of
 * several engines on one store is active).  Seven timers drive everything
 * on one loop:
 *   role     - every third of engine_lease, take or renew the lease;
 *   journal  - every journal_interval, read new events (until drained);
 *   due      - at the earliest deadline of the queue;
 *   notify   - send due outbox rows at the configured rate;
 *   pages    - every [pages] interval, evaluate the ops rules;
 *   pager    - send due page rows;
 *   rrd      - the notify.rrd time series (lib/daemon series).
 * All but the role timer run only while this engine holds the lease
 * (active); a standby engine keeps its configuration and open channels
 * but no engine, sender, pager or series, and evaluates and sends nothing.
 * On taking the lease the engine starts afresh (become_active): the
 * start-up pass runs before the other timers start, so the queue is
 * complete when the first deadline is checked, and the journal is read
 * from the cursor in the store, where the previous active engine left it.
 * On losing it (or when its last renewal is too old: role.h) every timer
 * but the role's stops at once and a send round in progress ends before
 * its next message (notify's interrupt).
 */
#include "config.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alerts/channel.h"
#include "alerts/conf.h"
#include "alerts/engine.h"
#include "alerts/mail.h"
#include "alerts/notify.h"
#include "alerts/pages.h"
#include "alerts/role.h"
#include "alerts/rules.h"
#include "alerts/template.h"
#include "conf/registry.h"
#include "lib/clock.h"
#include "lib/daemon.h"
#include "lib/xmalloc.h"

/* Journal batches read per timer call before other work gets a turn. */
#define JOURNAL_ROUNDS 8

struct alerts {
	struct sw_daemon *d;
	struct sw_alerts_state *conf; /* d->state */
	struct sw_metrics *metrics;
	struct sw_engine *engine;
	struct sw_channel *chs[SW_NOTIFY_CHANNELS]; /* the open channels */
	size_t n_chs;
	struct sw_notify *notify;
	struct sw_daemon_series series;
	/* on-call: the ops rules, the pager, each receiver's open channel
	 * (rchs[i] for receivers[i]; NULL for email receivers, which use
	 * page_email, an [smtp] channel of their own) */
	struct sw_sig_ctx sig;
	struct sw_pages *pages;
	struct sw_pager *pager;
	struct sw_channel *rchs[SW_PAGES_MAX_RECEIVERS];
	size_t n_rchs;
	struct sw_channel *page_email;
	/* the timers of the active role, stopped together (go_standby) */
	uint64_t journal_timer, due_timer, notify_timer, pages_timer, pager_timer;
	int64_t due_armed; /* the deadline due_timer is set for (0: none) */
	struct sw_role *role; /* the lease (role.h) */
	uint64_t role_timer;
	char *instance;	      /* this engine's name in the lease */
	struct sw_log_complain store_c, notify_c, pages_c, pager_c, role_c;
};

static struct alerts alerts;

/* ---- timers ----------------------------------------------------------------- */

static int64_t now_s(void)
{
	return sw_clock_now();
}

/* engine_lease is real time: how long a dead engine's customers may wait.
 * On a simulated clock (tests, the demo, slipwatch-sim) the role runs on
 * that clock, so the lease is as many simulated milliseconds as pass in
 * that real time; at 5000x a 30 s lease would otherwise be 6 real ms, and
 * any pause of the machine would hand it over. */
static int64_t lease_on_clock(int64_t lease_ms)
{
	return sw_clock_simulated() ? (int64_t)((double)lease_ms * sw_clock_speed()) : lease_ms;
}

static int64_t mono_ms(void)
{
	return sw_clock_mono_ms();
}

static void store_trouble(struct alerts *a, const char *err)
{
	sw_log_complain(&a->store_c, SW_LOG_ERR, "store", "%s", err);
}

static int64_t due_timer_cb(struct sw_loop *loop, uint64_t id, void *arg);
static bool still_active(struct alerts *a);

/* (Re)arms the deadline timer for the queue's earliest deadline. */
static void arm_due(struct alerts *a)
{
	int64_t next = sw_engine_next_due(a->engine), delay;

	if (next == a->due_armed && a->due_timer)
		return;
	if (a->due_timer)
		sw_loop_timer_del(a->d->loop, a->due_timer);
	a->due_timer = 0;
	a->due_armed = next;
	if (!next)
		return;
	delay = (next - now_s()) * 1000;
	sw_loop_timer_add(a->d->loop, delay > 0 ? delay : 0, due_timer_cb, a, &a->due_timer);
}

/* Emails may have been queued: send soon rather than at the next poll. */
static void kick_notify(struct alerts *a, uint64_t queued_before)
{
	struct sw_engine_stats st;

	sw_engine_get_stats(a->engine, &st);
	if (a->notify_timer && st.queued != queued_before)
		sw_loop_timer_set(a->d->loop, a->notify_timer, 0);
}

static int64_t journal_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct alerts *a = arg;
	struct sw_engine_stats st;
	char err[768];
	int n;

	int rounds = 0;

	if (!still_active(a))
		return -1;
	sw_engine_get_stats(a->engine, &st);
	do {
		if (sw_engine_tail(a->engine, now_s(), &n, err, sizeof(err)) != SW_OK) {
			store_trouble(a, err);
			n = 0;
			break;
		}
		sw_log_release(&a->store_c, SW_LOG_NOTICE, "store", "reading the journal again");
	} while (n == a->conf->alerts.batch && ++rounds < JOURNAL_ROUNDS);
	arm_due(a);
	kick_notify(a, st.queued);
	/* a backlog: go on at the next loop iteration, after the other timers
	 * and signals had their turn */
	return n == a->conf->alerts.batch ? 0 : a->conf->alerts.journal_ms;
}

static int64_t due_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct alerts *a = arg;
	struct sw_engine_stats st;
	char err[768];
	int n;

	a->due_timer = 0; /* this one ends: arm_due sets the next */
	a->due_armed = 0;
	if (!still_active(a))
		return -1;
	sw_engine_get_stats(a->engine, &st);
	if (sw_engine_due(a->engine, now_s(), &n, err, sizeof(err)) != SW_OK)
		store_trouble(a, err);
	arm_due(a);
	kick_notify(a, st.queued);
	return -1;
}

static int64_t notify_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct alerts *a = arg;
	int64_t delay = 1000;
	char err[768];

	if (!a->notify || !still_active(a))
		return -1;
	if (sw_notify_run(a->notify, now_s(), mono_ms(), 1000, &delay, err, sizeof(err)) !=
	    SW_OK) {
		sw_log_complain(&a->notify_c, SW_LOG_ERR, "notify", "%s", err);
		return 5000;
	}
	sw_log_release(&a->notify_c, SW_LOG_NOTICE, "notify", "outbox readable again");
	return delay;
}

static int64_t pager_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct alerts *a = arg;
	int64_t delay = 1000;
	char err[768];

	if (!a->pager || !still_active(a))
		return -1;
	if (sw_pager_run(a->pager, now_s(), &delay, err, sizeof(err)) != SW_OK) {
		sw_log_complain(&a->pager_c, SW_LOG_ERR, "pager", "%s", err);
		return 5000;
	}
	sw_log_release(&a->pager_c, SW_LOG_NOTICE, "pager", "outbox readable again");
	return delay;
}

static int64_t pages_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct alerts *a = arg;
	struct sw_pages_stats before, after;
	char err[768];

	if (!a->pages || !still_active(a))
		return -1;
	sw_pages_get_stats(a->pages, &before);
	if (sw_pages_eval(a->pages, now_s(), err, sizeof(err)) != SW_OK)
		sw_log_complain(&a->pages_c, SW_LOG_ERR, "pages", "%s", err);
	else if (err[0])
		sw_log_complain(&a->pages_c, SW_LOG_WARNING, "pages", "%s", err);
	else
		sw_log_release(&a->pages_c, SW_LOG_NOTICE, "pages", "rules measured again");
	sw_pages_get_stats(a->pages, &after);
	if (after.queued != before.queued && a->pager_timer)
		sw_loop_timer_set(a->d->loop, a->pager_timer, 0);
	return a->conf->pages.interval_ms;
}

/* ---- life cycle ---------------------------------------------------------- */

/* The daemon is stopping, or SIGTERM / SIGINT is waiting (the loop blocks
 * them outside its wait): a long send round ends early. */
static bool stop_pending(void)
{
	sigset_t set;

	if (alerts.d && sw_loop_stopping(alerts.d->loop))
		return true;
	return sigpending(&set) == 0 && (sigismember(&set, SIGTERM) == 1 ||
					 sigismember(&set, SIGINT) == 1);
}

/* Asked between two sends of a round: renews the lease when a renewal is
 * due (the role timer cannot fire during a long round), and ends the round
 * when the daemon stops or this engine may no longer send (its lease could
 * be another's by now).  A hold found broken ends the active role: the
 * role timer starts afresh (role_step). */
static bool round_interrupt(void)
{
	struct alerts *a = &alerts;
	char err[768];

	if (stop_pending() || !a->role)
		return true;
	if (sw_role_active(a->role, mono_ms()) && sw_role_tick_due(a->role, mono_ms())) {
		enum sw_role_change ch = sw_role_tick(a->role, now_s(), mono_ms(), err, sizeof(err));

		if (err[0])
			sw_log_complain(&a->role_c, SW_LOG_ERR, "alerts", "%s", err);
		if (ch == SW_ROLE_TOOK_OVER)
			sw_role_drop(a->role, "the hold was broken");
	}
	return !sw_role_active(a->role, mono_ms());
}

/* Opens the channels of c into chs; SW_OK or the first failure (the
 * ones opened are closed again). */
static enum sw_err open_channels(const struct sw_alerts_state *c, struct sw_channel **chs,
				 size_t *ret_n, char *errbuf, size_t errlen)
{
	enum sw_err rc;

	*ret_n = 0;
	for (size_t i = 0; i < SW_NOTIFY_CHANNELS && sw_channel_table[i]; i++) {
		if (!c->chconf[i])
			continue;
		if ((rc = sw_channel_open(sw_channel_table[i], c->chconf[i], &chs[*ret_n], errbuf,
					  errlen))) {
			while (*ret_n > 0)
				sw_channel_close(chs[--*ret_n]);
			return rc;
		}
		(*ret_n)++;
	}
	return SW_OK;
}

static void close_channels(struct sw_channel **chs, size_t *n)
{
	while (*n > 0)
		sw_channel_close(chs[--*n]);
}

/* Sending starts (or stops) with the channels in use. */
static void notify_follow(struct alerts *a, struct sw_alerts_state *c)
{
	if (a->n_chs && !a->notify) {
		a->notify = sw_notify_new(a->d->store, &c->alerts, c->tpl, a->engine, a->metrics);
		sw_notify_set_interrupt(a->notify, round_interrupt);
		sw_loop_timer_add(a->d->loop, 0, notify_timer_cb, a, &a->notify_timer);
	} else if (!a->n_chs && a->notify) {
		sw_log_notice("notify", "reload: no customer channel in use: sending stops");
		sw_loop_timer_del(a->d->loop, a->notify_timer);
		a->notify_timer = 0;
		sw_notify_free(a->notify);
		a->notify = NULL;
	}
	if (a->notify) {
		sw_notify_set(a->notify, &c->alerts, c->tpl);
		sw_notify_set_channels(a->notify, a->chs, a->n_chs);
		/* a->sig is filled by pages_follow, before the loop runs a round */
		sw_notify_set_pages(a->notify, &c->pages, &a->sig);
	}
}

/* Opens each receiver's channel of c (rchs) and, for email receivers, an
 * [smtp] channel of the pager's own; SW_OK or the first failure (what was
 * opened is closed again). */
static enum sw_err open_receivers(const struct sw_alerts_state *c, struct sw_channel **rchs,
				  size_t *ret_n, struct sw_channel **ret_email, char *errbuf,
				  size_t errlen)
{
	const struct sw_pages_conf *pc = &c->pages;
	enum sw_err rc = SW_OK;

	*ret_n = 0;
	*ret_email = NULL;
	for (size_t i = 0; rc == SW_OK && i < pc->n_receivers && i < SW_PAGES_MAX_RECEIVERS;
	     i++) {
		const struct sw_receiver_conf *r = &pc->receivers[i];

		rchs[i] = NULL;
		*ret_n = i + 1;
		if (r->chconf)
			rc = sw_channel_open(r->ops, r->chconf, &rchs[i], errbuf, errlen);
		else if (!*ret_email && c->page_smtp)
			rc = sw_channel_open(&sw_chan_email, c->page_smtp, ret_email, errbuf,
					     errlen);
	}
	if (rc != SW_OK) {
		while (*ret_n > 0)
			sw_channel_close(rchs[--*ret_n]);
		sw_channel_close(*ret_email);
		*ret_email = NULL;
	}
	return rc;
}

static void close_receivers(struct sw_channel **rchs, size_t *n, struct sw_channel **email)
{
	while (*n > 0)
		sw_channel_close(rchs[--*n]);
	sw_channel_close(*email);
	*email = NULL;
}

/* Paging starts (or stops) with the ops rules in the configuration. */
static void pages_follow(struct alerts *a, struct sw_alerts_state *c)
{
	a->sig.st = a->d->store;
	a->sig.rrd = &c->rrd;
	a->sig.cursor = SW_ENGINE_CURSOR;
	a->sig.rules = &c->rules;
	a->sig.alerts = &c->alerts;
	if (!a->pages) {
		a->pages = sw_pages_new(a->d->store, &a->sig, &c->pages, a->metrics);
		a->pager = sw_pager_new(a->d->store, &c->pages, a->metrics);
		sw_pager_set_interrupt(a->pager, round_interrupt);
		sw_loop_timer_add(a->d->loop, 0, pages_timer_cb, a, &a->pages_timer);
		sw_loop_timer_add(a->d->loop, 0, pager_timer_cb, a, &a->pager_timer);
	}
	sw_pages_set_conf(a->pages, &c->pages);
	sw_pager_set_conf(a->pager, &c->pages);
	sw_pager_set_channels(a->pager, a->rchs, a->n_rchs, a->page_email);
	if (c->pages.n_rules == 0)
		sw_log_notice("pages", "no [page] rules: nobody on call is paged");
	else
		sw_log_notice("pages", "%zu ops rules, %zu receivers, %zu routes",
			      c->pages.n_rules, c->pages.n_receivers, c->pages.n_routes);
}

/* ---- the active role ----------------------------------------------------- */

/* [alerts] instance, or HOST:PID. */
static char *instance_name(const struct sw_alerts_conf *c)
{
	char h[101];

	if (c->instance && c->instance[0])
		return xstrdup(c->instance);
	if (gethostname(h, sizeof(h)) != 0 || !h[0])
		snprintf(h, sizeof(h), "slipwatch");
	h[sizeof(h) - 1] = '\0';
	return xasprintf("%s:%ld", h, (long)getpid());
}

/* What the engine and the sender did, on leaving the active role. */
static void log_totals(struct alerts *a, const char *why)
{
	struct sw_engine_stats st;
	struct sw_notify_stats ns = { 0 };

	sw_engine_get_stats(a->engine, &st);
	if (a->notify)
		sw_notify_get_stats(a->notify, &ns);
	sw_log_notice("alerts",
		      "%s: %llu events, %llu evaluations, %llu new slips, %llu "
		      "notices queued; sent %llu, deferred %llu, failed %llu, suppressed "
		      "%llu, obsolete %llu, merged %llu",
		      why, (unsigned long long)st.events, (unsigned long long)st.evaluated,
		      (unsigned long long)st.slips, (unsigned long long)st.queued,
		      (unsigned long long)ns.sent, (unsigned long long)ns.deferred,
		      (unsigned long long)ns.failed, (unsigned long long)ns.suppressed,
		      (unsigned long long)ns.obsolete, (unsigned long long)ns.merged);
}

/* Leaves the active role (a no-op when standby): every timer but the
 * role's stops, the engine, sender, pager and series are freed; the open
 * channels stay (the configuration's).  Safe from any of those timers'
 * callbacks (sw_loop_timer_del wins over their return value). */
static void go_standby(struct alerts *a, const char *why)
{
	if (!a->engine)
		return;
	for (uint64_t *t = &a->journal_timer; t <= &a->pager_timer; t++) {
		if (*t)
			sw_loop_timer_del(a->d->loop, *t);
		*t = 0;
	}
	a->due_armed = 0;
	log_totals(a, why);
	sw_daemon_series_stop(a->d, &a->series);
	sw_notify_free(a->notify);
	sw_pages_free(a->pages);
	sw_pager_free(a->pager);
	sw_engine_free(a->engine);
	a->notify = NULL;
	a->pages = NULL;
	a->pager = NULL;
	a->engine = NULL;
}

/* Whether this engine may go on evaluating and sending: else it goes
 * standby now (its last renewal is too old), and the role timer tries
 * the lease again at once. */
static bool still_active(struct alerts *a)
{
	if (sw_role_active(a->role, mono_ms()))
		return true;
	sw_role_drop(a->role, "not renewed in time");
	go_standby(a, "standby");
	sw_loop_timer_set(a->d->loop, a->role_timer, 0);
	return false;
}

/* Takes up the active role: the engine and its start-up pass, the series,
 * the sender, the ops rules and the pager, then the journal and deadline
 * timers.  SW_OK, or the first failure (errbuf set; what was started is
 * stopped again). */
static enum sw_err become_active(struct alerts *a, char *errbuf, size_t errlen)
{
	struct sw_engine_stats st;
	int64_t t0 = sw_clock_real_mono_ms(); /* the pass's real duration, logged */
	int64_t m0 = mono_ms(), took;
	enum sw_err rc;

	rc = sw_engine_new(a->d->store, &a->conf->alerts, &a->conf->rules, a->metrics,
			   &a->engine, errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_engine_scan(a->engine, now_s(), errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_daemon_series_start(a->d, &a->series, &a->conf->rrd, a->metrics, NULL, NULL,
					    errbuf, errlen);
	if (rc != SW_OK) {
		sw_engine_free(a->engine);
		a->engine = NULL;
		return rc;
	}
	sw_engine_get_stats(a->engine, &st);
	sw_log_notice("alerts",
		      "start-up pass: %llu units in %lld ms, %zu waiting for a deadline, "
		      "%llu new slips; journal from seq %lld",
		      (unsigned long long)st.evaluated, (long long)(sw_clock_real_mono_ms() - t0),
		      st.open, (unsigned long long)st.slips, (long long)st.cursor);
	/* no renewal during the pass: one as long as the lease loses it */
	if ((took = mono_ms() - m0) > 2 * sw_role_interval_ms(a->role))
		sw_log_warn("alerts",
			    "the start-up pass took %lld ms, over two thirds of [alerts] "
			    "engine_lease: a standby engine may take the lease during it; raise "
			    "engine_lease",
			    (long long)took);
	if (!a->n_chs)
		sw_log_notice("notify", "[alerts] email = no and no [customer_webhook]: slips are "
					"recorded, no customer is told");
	notify_follow(a, a->conf);
	pages_follow(a, a->conf);
	sw_loop_timer_add(a->d->loop, 0, journal_timer_cb, a, &a->journal_timer);
	arm_due(a);
	return SW_OK;
}

/* One tick of the lease: start or stop the active role as it says. */
static void role_step(struct alerts *a)
{
	char err[768];
	enum sw_role_change ch = sw_role_tick(a->role, now_s(), mono_ms(), err, sizeof(err));

	if (err[0])
		sw_log_complain(&a->role_c, SW_LOG_ERR, "alerts", "%s", err);
	else
		sw_log_release(&a->role_c, SW_LOG_NOTICE, "alerts", "lease readable again");
	if (ch == SW_ROLE_LOST) {
		go_standby(a, "standby");
	} else if (ch == SW_ROLE_TOOK_OVER) {
		go_standby(a, "the hold was broken, starting afresh");
		if (become_active(a, err, sizeof(err)) != SW_OK) {
			sw_log_err("alerts", "taking over: %s; lease given up", err);
			sw_role_release(a->role, now_s(), err, sizeof(err));
			return;
		}
		/* the start-up pass may have taken a while: renew now */
		if (sw_role_tick(a->role, now_s(), mono_ms(), err, sizeof(err)) == SW_ROLE_LOST)
			go_standby(a, "standby");
	}
}

static int64_t role_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct alerts *a = arg;

	role_step(a);
	return sw_role_interval_ms(a->role);
}

static enum sw_err alerts_start(struct sw_daemon *d, char *errbuf, size_t errlen)
{
	struct alerts *a = &alerts;
	const struct sw_rrd_kind *k;
	enum sw_err rc;

	a->d = d;
	a->conf = d->state;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "cannot initialise libcurl");
		return SW_EIO;
	}
	a->metrics = sw_metrics_new();
	/* Every data source of notify.rrd from the first step on, zeros
	 * included: a file written only once something happens would leave a
	 * gap longer than RRD's heartbeat after a restart, and the counts of
	 * the step closing that gap would read as unknown. */
	k = sw_rrd_kind_find("notify");
	for (size_t i = 0; k && i < k->n_ds; i++)
		sw_metrics_count(a->metrics, "notify", k->ds[i].metric, 0);
	/* oncall.rrd likewise, once paging is configured */
	k = sw_rrd_kind_find("oncall");
	for (size_t i = 0; k && a->conf->pages.n_rules && i < k->n_ds; i++)
		if (k->ds[i].type == SW_RRD_ABSOLUTE)
			sw_metrics_count(a->metrics, "oncall", k->ds[i].metric, 0);
	if ((rc = open_channels(a->conf, a->chs, &a->n_chs, errbuf, errlen)))
		return rc;
	if ((rc = open_receivers(a->conf, a->rchs, &a->n_rchs, &a->page_email, errbuf, errlen)))
		return rc;
	a->instance = instance_name(&a->conf->alerts);
	a->role = sw_role_new(d->store, a->instance, lease_on_clock(a->conf->alerts.engine_lease_ms));
	/* The first tick here: an engine that gets the lease at start runs its
	 * start-up pass before the loop serves, and a failing one ends the
	 * start as it always did. */
	if (sw_role_tick(a->role, now_s(), mono_ms(), errbuf, errlen) == SW_ROLE_TOOK_OVER &&
	    (rc = become_active(a, errbuf, errlen)))
		return rc;
	if (errbuf[0])
		sw_log_complain(&a->role_c, SW_LOG_ERR, "alerts", "%s", errbuf);
	errbuf[0] = '\0';
	sw_loop_timer_add(d->loop, sw_role_interval_ms(a->role), role_timer_cb, a, &a->role_timer);
	return SW_OK;
}

/* Whether c names this engine as it runs (an unset or empty instance is
 * HOST:PID, which does not change). */
static bool instance_same(const struct alerts *a, const struct sw_alerts_conf *c)
{
	const char *old = a->conf->alerts.instance, *new = c->instance;

	if (!old || !old[0])
		return !new || !new[0];
	return new && strcmp(old, new) == 0;
}

static enum sw_err alerts_reload(struct sw_daemon *d, void *new_state, char *errbuf,
				 size_t errlen)
{
	struct alerts *a = &alerts;
	struct sw_alerts_state *c = new_state;
	struct sw_channel *chs[SW_NOTIFY_CHANNELS], *rchs[SW_PAGES_MAX_RECEIVERS], *page_email;
	size_t n_chs, n_rchs;

	if (open_channels(c, chs, &n_chs, errbuf, errlen) != SW_OK)
		return SW_ECONF;
	if (open_receivers(c, rchs, &n_rchs, &page_email, errbuf, errlen) != SW_OK) {
		close_channels(chs, &n_chs);
		return SW_ECONF;
	}
	if (c->rrd.step_ms != a->conf->rrd.step_ms || strcmp(c->rrd.dir, a->conf->rrd.dir) != 0)
		sw_log_warn(NULL, "reload: [rrd] changes apply after a restart");
	if (!instance_same(a, &c->alerts))
		sw_log_warn(NULL, "reload: [alerts] instance changes apply after a restart (%s "
				  "holds or waits for the lease)", a->instance);
	sw_role_set_lease(a->role, lease_on_clock(c->alerts.engine_lease_ms));
	if (a->engine)
		sw_engine_set_conf(a->engine, &c->alerts, &c->rules);
	close_channels(a->chs, &a->n_chs);
	memcpy(a->chs, chs, sizeof(chs));
	a->n_chs = n_chs;
	a->conf = c;
	close_receivers(a->rchs, &a->n_rchs, &a->page_email);
	memcpy(a->rchs, rchs, sizeof(rchs));
	a->n_rchs = n_rchs;
	a->page_email = page_email;
	if (a->engine) { /* active; a standby follows c when it takes over */
		notify_follow(a, c);
		pages_follow(a, c);
	}
	return SW_OK;
}

static void alerts_flush(struct sw_daemon *d)
{
	sw_daemon_series_flush(&alerts.series, true);
}

static void alerts_stop(struct sw_daemon *d)
{
	struct alerts *a = &alerts;
	char err[768];

	if (a->role_timer)
		sw_loop_timer_del(d->loop, a->role_timer);
	a->role_timer = 0;
	go_standby(a, "stopping");
	/* a clean stop hands over at once: the standby's next tick takes it */
	if (a->role && sw_role_release(a->role, now_s(), err, sizeof(err)) != SW_OK)
		sw_log_err("alerts", "%s (a standby takes over when it runs out)", err);
	sw_role_free(a->role);
	a->role = NULL;
	free(a->instance);
	a->instance = NULL;
	close_receivers(a->rchs, &a->n_rchs, &a->page_email);
	close_channels(a->chs, &a->n_chs);
	sw_metrics_free(a->metrics);
	a->metrics = NULL;
	curl_global_cleanup();
}

static const struct sw_daemon_desc alerts_desc = {
	.name = "alerts",
	.summary = "Detect delivery slips, email the customers whose orders slipped, and page "
		   "on-call staff when something systemic slips.",
	.part = &sw_alerts_part,
	.registry = sw_registry,
	.start = alerts_start,
	.reload = alerts_reload,
	.stop = alerts_stop,
	.flush = alerts_flush,
};

int main(int argc, char **argv)
{
	return sw_daemon_main(argc, argv, &alerts_desc);
}
