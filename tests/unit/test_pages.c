/*
 * test_pages.c - the on-call lifecycle (alerts/pages.c) on a real store,
 * with a scripted signal: each evaluation measures what the test set, so
 * every transition and every notification decision is checked without
 * RRD files or a clock (the test passes `now`).
 *
 * What is checked is what reaches the outbox: the page rows queued (their
 * event and receiver, in order) and the page's state in the store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alerts/pages.h"
#include "lib/store.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

/* ---- the scripted signal -------------------------------------------------------- */

static struct {
	bool has_data, enough;
	double value;
	int calls;
	const char *stage;     /* NULL: "warehouse" */
	const char *fig_stage; /* the figures' "stage" (a cohort's); NULL: none */
} script;

static enum sw_err fake_subjects(const struct sw_sig_ctx *ctx, char ***ret, size_t *n, char *err,
				 size_t len)
{
	*ret = xcalloc(1, sizeof(char *));
	(*ret)[0] = xstrdup("w1");
	*n = 1;
	return SW_OK;
}

static enum sw_err fake_measure(const struct sw_sig_ctx *ctx, const char *id,
				const struct sw_sig_args *a, struct sw_sig_value *out, char *err,
				size_t len)
{
	script.calls++;
	out->has_data = script.has_data;
	out->enough = script.enough;
	out->value = script.value;
	out->count = (int64_t)script.value;
	snprintf(out->stage, sizeof(out->stage), "%s", script.stage ? script.stage : "warehouse");
	if (script.fig_stage)
		snprintf(out->figures, sizeof(out->figures), "{\"late\":%g,\"stage\":\"%s\"}",
			 script.value, script.fig_stage);
	else
		snprintf(out->figures, sizeof(out->figures), "{\"late\":%g}", script.value);
	snprintf(out->text, sizeof(out->text), "%g orders past ship-by", script.value);
	return SW_OK;
}

static const struct sw_signal fake_signal = {
	.name = "warehouse_ship_late",
	.subject = SW_SIG_WAREHOUSE,
	.above = true,
	.unit = "",
	.what = "orders past their ship-by time",
	.subjects = fake_subjects,
	.measure = fake_measure,
};

/* ---- the setting -------------------------------------------------------------------- */

static struct sw_store *st;
static struct sw_pages_conf pc;
static struct sw_page_rule rule;
static struct sw_receiver_conf recv[3];
static struct sw_page_route route;
static struct sw_sig_ctx ctx;

static void conf_init(void)
{
	memset(&pc, 0, sizeof(pc));
	memset(&rule, 0, sizeof(rule));
	rule.name = (char *)"late-wh";
	rule.signal = &fake_signal;
	rule.has_warning = rule.has_critical = true;
	rule.warning = 10;
	rule.critical = 50;
	rule.recover = 5;
	rule.for_s = 300;
	rule.window_s = 3600;
	rule.min_count = 1;
	rule.nodata_after_s = 900;
	rule.nodata_severity = SW_SEV_WARNING;
	rule.labels = (char *)"team=ops";
	recv[0] = (struct sw_receiver_conf){ .name = (char *)"pd", .ops = &sw_chan_webhook,
					     .send_resolved = true };
	recv[1] = (struct sw_receiver_conf){ .name = (char *)"slack", .ops = &sw_chan_webhook,
					     .send_resolved = true };
	recv[2] = (struct sw_receiver_conf){ .name = (char *)"boss", .ops = &sw_chan_webhook,
					     .send_resolved = true };
	pc.interval_ms = 60000;
	pc.repeat_s = 0;
	pc.flap_window_s = 1800;
	pc.flap_limit = 4;
	pc.receiver = (char *)"pd";
	pc.lease_s = 60;
	pc.retry_min_s = 30;
	pc.retry_max_s = 600;
	pc.give_up_after_s = 86400;
	pc.rules = &rule;
	pc.n_rules = 1;
	pc.receivers = recv;
	pc.n_receivers = 3;
}

static void fresh_store(void)
{
	char err[512];

	sw_store_close(st);
	if (sw_store_open(store_tmp_new("store.db"), 0, &st, err, sizeof(err)) != SW_OK) {
		printf("Bail out! store: %s\n", err);
		exit(1);
	}
	ctx.st = st;
	conf_init();
}

/* The page rows queued so far: "event@receiver" joined by spaces. */
static char notes_buf[4096];
static const char *notes(void)
{
	if (raw_text(store_path,
		     "SELECT slip_kind || '@' || receiver FROM outbox WHERE receiver IS NOT NULL"
		     " ORDER BY id",
		     notes_buf, sizeof(notes_buf)) < 0)
		return "(error)";
	return notes_buf;
}

/* The one text value of query on the store ("(none)" without a row). */
static const char *sql_text(const char *query)
{
	static char buf[512];
	int n = raw_text(store_path, query, buf, sizeof(buf));

	return n < 0 ? "(error)" : n == 0 ? "(none)" : buf;
}

static const char *state(void)
{
	static char buf[64];
	struct sw_page *p;

	if (sw_store_page_get(st, "late-wh", "warehouse=w1", &p) != SW_OK)
		return "none";
	snprintf(buf, sizeof(buf), "%s/%s", sw_page_state_name(p->state),
		 sw_page_severity_name(p->severity));
	sw_store_page_free(p, 1);
	return buf;
}

/* One evaluation at t with the value v (data, enough). */
static void eval_at(struct sw_pages *p, int64_t t, double v)
{
	char err[512];

	script.has_data = script.enough = true;
	script.value = v;
	if (!ok(sw_pages_eval(p, t, err, sizeof(err)) == SW_OK, "eval at %lld", (long long)t))
		printf("# %s\n", err);
}

/* Marks every waiting page row sent (the pager's part, not tested here). */
static void all_sent(void)
{
	if (raw_exec(store_path, "UPDATE outbox SET state = 'sent' WHERE receiver IS NOT NULL") != 0)
		printf("# all_sent failed\n");
}

#define T0 1800000000

/* ---- cases ------------------------------------------------------------------------ */

static void test_fire_once_resolve_once(void)
{
	struct sw_pages *p;

	fresh_store();
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 3);
	is_str(state(), "ok/none", "below the thresholds: a page, ok");
	eval_at(p, T0 + 60, 12);
	is_str(state(), "pending/warning", "crossed: pending");
	is_str(notes(), "", "pending tells nobody");
	eval_at(p, T0 + 360, 12);
	is_str(state(), "firing/warning", "crossed for `for`: firing");
	is_str(notes(), "trigger@pd", "one trigger to the default receiver");
	eval_at(p, T0 + 420, 12);
	eval_at(p, T0 + 480, 8);
	is_str(state(), "firing/warning", "between recover and warning: still firing");
	is_str(notes(), "trigger@pd", "no second trigger while firing");
	sw_pages_free(p);
	p = sw_pages_new(st, &ctx, &pc, NULL); /* a restart */
	eval_at(p, T0 + 540, 12);
	is_str(notes(), "trigger@pd", "a restart re-pages nothing");
	eval_at(p, T0 + 600, 4);
	is_str(state(), "ok/none", "back past recover: ok");
	is_str(notes(), "trigger@pd resolve@pd", "one resolve");
	eval_at(p, T0 + 660, 4);
	is_str(notes(), "trigger@pd resolve@pd", "no second resolve");
	sw_pages_free(p);
}

/* oncall.rrd's registry data sources follow the evaluations. */
static void test_metrics(void)
{
	struct sw_metrics *m = sw_metrics_new();
	const struct sw_metric_value *v;
	struct sw_pages *p;

	fresh_store();
	p = sw_pages_new(st, &ctx, &pc, m);
	eval_at(p, T0, 20);
	v = sw_metrics_peek(m, "oncall", "pending");
	ok(v && v->gauge == 1, "metrics: one pending");
	eval_at(p, T0 + 300, 20);
	v = sw_metrics_peek(m, "oncall", "firing");
	ok(v && v->gauge == 1, "metrics: one firing");
	v = sw_metrics_peek(m, "oncall", "queued");
	ok(v && v->count == 1, "metrics: one notification queued");
	sw_pages_free(p);
	sw_metrics_free(m);
}

static void test_pending_clears(void)
{
	struct sw_pages *p;

	fresh_store();
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 12);
	eval_at(p, T0 + 120, 2);
	is_str(state(), "ok/none", "recovered before `for`: ok");
	eval_at(p, T0 + 600, 2);
	is_str(notes(), "", "nobody was told of a pending page");
	sw_pages_free(p);
}

static void test_resolve_while_down(void)
{
	struct sw_pages *p;

	fresh_store();
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 60);
	eval_at(p, T0 + 300, 60);
	is_str(notes(), "trigger@pd", "critical trigger");
	sw_pages_free(p);
	/* the daemon is down for an hour; the backlog clears meanwhile */
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0 + 3900, 0);
	is_str(notes(), "trigger@pd resolve@pd", "the resolve that happened while down is sent");
	sw_pages_free(p);
}

static void test_nodata(void)
{
	struct sw_pages *p;
	char err[256];

	fresh_store();
	p = sw_pages_new(st, &ctx, &pc, NULL);
	script.has_data = false;
	ok(sw_pages_eval(p, T0, err, sizeof(err)) == SW_OK, "eval without data");
	is_str(state(), "none", "never had data: no page");
	eval_at(p, T0 + 60, 1);
	is_str(state(), "ok/none", "data: a page, ok");
	script.has_data = false;
	sw_pages_eval(p, T0 + 120, err, sizeof(err));
	is_str(state(), "nodata/warning", "the series stopped: nodata");
	is_str(notes(), "trigger@pd", "no data is paged (a trigger), never a resolve");
	eval_at(p, T0 + 180, 1);
	is_str(state(), "ok/none", "data again, fine: ok");
	is_str(notes(), "trigger@pd resolve@pd", "then resolved");
	/* too little data keeps the state */
	eval_at(p, T0 + 240, 60);
	script.enough = false;
	sw_pages_eval(p, T0 + 600, err, sizeof(err));
	is_str(state(), "pending/critical", "not enough samples: state kept");
	sw_pages_free(p);
}

static void test_severity_and_routes(void)
{
	struct sw_pages *p;
	char err[256];

	fresh_store();
	route.name = (char *)"crit";
	if (sw_matchers_parse("severity=critical", &route.match, err, sizeof(err)) != SW_OK)
		printf("Bail out! %s\n", err);
	route.receiver = (char *)"pd";
	route.repeat_s = -1;
	pc.receiver = (char *)"slack";
	pc.routes = &route;
	pc.n_routes = 1;
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 20);
	eval_at(p, T0 + 300, 20);
	is_str(notes(), "trigger@slack", "warning: the default receiver");
	eval_at(p, T0 + 360, 70);
	is_str(state(), "firing/critical", "now critical");
	is_str(notes(), "trigger@slack trigger@slack",
	       "the rise is an update to the incident's receiver");
	eval_at(p, T0 + 420, 20);
	is_str(notes(), "trigger@slack trigger@slack", "a fall is not notified");
	eval_at(p, T0 + 480, 0);
	eval_at(p, T0 + 540, 70);
	eval_at(p, T0 + 840, 70);
	is_str(notes(), "trigger@slack trigger@slack resolve@slack trigger@pd",
	       "a new critical incident routes to pd");
	sw_pages_free(p);
	sw_matchers_free(route.match);
	route.match = NULL;
}

static void test_silence(void)
{
	struct sw_pages *p;
	struct sw_silence s = { 0 };
	int64_t id;

	fresh_store();
	s.matchers = "warehouse=w1,team=ops";
	s.starts_at = T0;
	s.ends_at = T0 + 3600;
	s.created_by = "test";
	s.comment = "maintenance";
	ok(sw_store_silence_add(st, &s, &id) == SW_OK, "silence added");
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 20);
	eval_at(p, T0 + 300, 20);
	is_str(state(), "firing/warning", "silenced pages still fire");
	is_str(notes(), "", "a silence holds the trigger");
	eval_at(p, T0 + 3600, 20);
	is_str(notes(), "trigger@pd", "when it ends, the page is told");
	sw_pages_free(p);
	/* a page that resolved under a silence is never told */
	fresh_store();
	sw_store_silence_add(st, &s, &id);
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 20);
	eval_at(p, T0 + 300, 20);
	eval_at(p, T0 + 600, 0);
	eval_at(p, T0 + 3700, 0);
	is_str(notes(), "", "resolved unheard under a silence: nothing");
	sw_pages_free(p);
}

static void test_ack_and_escalation(void)
{
	struct sw_pages *p;
	char err[256];

	fresh_store();
	route.name = (char *)"all";
	route.match = NULL;
	route.receiver = (char *)"pd";
	route.escalate_to = (char *)"boss";
	route.escalate_after_s = 900;
	route.repeat_s = -1;
	pc.routes = &route;
	pc.n_routes = 1;
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 20);
	eval_at(p, T0 + 300, 20);
	all_sent();
	eval_at(p, T0 + 1100, 20);
	is_str(notes(), "trigger@pd", "not yet escalated");
	eval_at(p, T0 + 1200, 20);
	is_str(notes(), "trigger@pd trigger@boss", "unacknowledged 15m: escalated once");
	eval_at(p, T0 + 1300, 20);
	all_sent();
	ok(sw_store_page_ack(st, 1, 1, "asha", "on it", T0 + 1300) == SW_OK, "acknowledged");
	eval_at(p, T0 + 1360, 20);
	is_str(notes(), "trigger@pd trigger@boss acknowledge@pd acknowledge@boss",
	       "the acknowledgement goes to both");
	eval_at(p, T0 + 1420, 0);
	is_str(notes(),
	       "trigger@pd trigger@boss acknowledge@pd acknowledge@boss resolve@pd resolve@boss",
	       "the resolve goes to both");
	sw_pages_free(p);
	/* acknowledged before the delay: no escalation */
	fresh_store();
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 20);
	eval_at(p, T0 + 300, 20);
	ok(sw_store_page_ack(st, 1, 1, "ravi", "looking", T0 + 400) == SW_OK, "acknowledged early");
	eval_at(p, T0 + 460, 20);
	all_sent();
	eval_at(p, T0 + 2000, 20);
	is_str(notes(), "trigger@pd acknowledge@pd", "acknowledged: never escalated");
	sw_pages_free(p);
	pc.routes = NULL;
	pc.n_routes = 0;
	(void)err;
}

static void test_repeat(void)
{
	struct sw_pages *p;

	fresh_store();
	pc.repeat_s = 3600;
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 20);
	eval_at(p, T0 + 300, 20);
	eval_at(p, T0 + 3900, 20);
	is_str(notes(), "trigger@pd", "no reminder while the trigger still waits to go");
	all_sent();
	eval_at(p, T0 + 3960, 20);
	is_str(notes(), "trigger@pd trigger@pd", "a reminder after repeat_interval");
	all_sent();
	eval_at(p, T0 + 4000, 20);
	is_str(notes(), "trigger@pd trigger@pd", "one reminder per interval");
	sw_pages_free(p);
	pc.repeat_s = 0;
}

static void test_flapping(void)
{
	struct sw_pages *p;

	fresh_store();
	rule.for_s = 0;
	p = sw_pages_new(st, &ctx, &pc, NULL);
	for (int i = 0; i < 10; i++)
		eval_at(p, T0 + 60 * i, i % 2 ? 0 : 20);
	/* 10 evaluations flip the level 10 times: up to flap_limit (4) changes
	 * notify, then notifications are held */
	is_str(notes(), "trigger@pd resolve@pd trigger@pd resolve@pd", "flapping: held after 4");
	eval_at(p, T0 + 600, 20);
	eval_at(p, T0 + 600 + 1800, 20);
	is_str(notes(), "trigger@pd resolve@pd trigger@pd resolve@pd trigger@pd",
	       "stable for the flap window: told once");
	sw_pages_free(p);
	rule.for_s = 300;
}

static void test_rule_removed(void)
{
	struct sw_pages *p;
	char err[256];
	struct sw_page *pg = NULL;

	fresh_store();
	p = sw_pages_new(st, &ctx, &pc, NULL);
	eval_at(p, T0, 20);
	eval_at(p, T0 + 300, 20);
	is_str(notes(), "trigger@pd", "firing, paged");
	pc.n_rules = 0; /* a reload without the rule */
	script.calls = 0;
	ok(sw_pages_eval(p, T0 + 360, err, sizeof(err)) == SW_OK, "evaluated without the rule");
	is_str(notes(), "trigger@pd resolve@pd", "the rule is gone: its page is resolved");
	is_int(script.calls, 0, "  nothing measured");
	sw_store_page_get(st, "late-wh", "warehouse=w1", &pg);
	ok(pg && pg->state == SW_PAGE_OK && pg->notified_state == SW_PAGE_OK &&
	       strstr(pg->summary, "no longer in the configuration"),
	   "  ok, told ok, and why");
	sw_store_page_free(pg, 1);
	sw_pages_eval(p, T0 + 420, err, sizeof(err));
	is_str(notes(), "trigger@pd resolve@pd", "  once");
	sw_pages_free(p);
}

/* The stage that ran over travels with each page row (its facts, for the
 * channels, and its body, for email); a resolve keeps the incident's. */
static void test_stage(void)
{
	struct sw_pages *p;

	fresh_store();
	rule.for_s = 0;
	p = sw_pages_new(st, &ctx, &pc, NULL);
	script.stage = script.fig_stage = "line_haul";
	eval_at(p, T0, 20);
	is_str(notes(), "trigger@pd", "a cohort fires");
	is_str(sql_text("SELECT json_extract(template_vars, '$.stage') FROM outbox"), "line_haul",
	       "the row's facts carry its stage");
	is_str(sql_text("SELECT count(*) FROM outbox WHERE body LIKE "
			"'%Where:     warehouse w1\nStage that ran over: line haul\n%'"),
	       "1", "its details say it in words, after where");
	/* the cohort is gone: its signal's stage falls back, its figures have none */
	script.stage = "courier";
	script.fig_stage = NULL;
	eval_at(p, T0 + 60, 0);
	is_str(notes(), "trigger@pd resolve@pd", "it resolves");
	is_str(
	    sql_text("SELECT json_extract(template_vars, '$.stage') FROM outbox WHERE slip_kind ="
		     " 'resolve'"),
	    "line_haul", "the resolve says the stage of the incident it ends");
	/* a measurement without a stage of its own: its figures' */
	script.stage = "";
	script.fig_stage = "last_mile";
	eval_at(p, T0 + 120, 20);
	is_str(
	    sql_text("SELECT json_extract(template_vars, '$.stage') FROM outbox ORDER BY id DESC"
		     " LIMIT 1"),
	    "last_mile", "no signal stage: the figures' stage");
	/* neither: no stage, no line */
	script.stage = "";
	script.fig_stage = NULL;
	eval_at(p, T0 + 180, 60);
	/* (SQLite's json_type is PostgreSQL's json_typeof) */
	is_str(sql_text(raw_is_pg(store_path)
			    ? "SELECT coalesce(json_typeof(template_vars::json -> 'stage'), 'absent')"
			      " FROM outbox ORDER BY id DESC LIMIT 1"
			    : "SELECT coalesce(json_type(template_vars, '$.stage'), 'absent')"
			      " FROM outbox ORDER BY id DESC LIMIT 1"),
	       "null", "no stage at all: stage null");
	is_str(sql_text("SELECT count(*) FROM outbox WHERE id = (SELECT max(id) FROM outbox) AND "
			"body NOT LIKE '%Stage that ran over%'"),
	       "1", "  and no line in the details");
	script.stage = script.fig_stage = NULL;
	rule.for_s = 300;
	sw_pages_free(p);
}

int main(void)
{
	test_fire_once_resolve_once();
	test_pending_clears();
	test_metrics();
	test_resolve_while_down();
	test_nodata();
	test_severity_and_routes();
	test_silence();
	test_ack_and_escalation();
	test_repeat();
	test_flapping();
	test_rule_removed();
	test_stage();
	return store_tmp_done(st);
}
