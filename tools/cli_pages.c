/*
 * cli_pages.c - the on-call commands of slipwatch(1): pages (what the
 * ops rules hold against each subject), ack (acknowledge a page's
 * incident) and silence add/list/expire.
 *
 * Design:
 * - pages opens the store read-only; ack and silence add/expire open it
 *   read-write but never create it (SW_STORE_NOCREATE), like unsubscribe.
 *   The CLI writes only acks and silences (lib/store_pages.h); the alert
 *   engine reads them at its next evaluation and tells receivers (an
 *   acknowledgement) or holds their notifications (a silence), so the
 *   output says "at its next evaluation", never "sent".
 * - Matchers are parsed with lib/matcher.h before anything is stored: a
 *   malformed one is a usage error naming it, and the store keeps the
 *   canonical text, the same the engine parses.
 * - Who acts (--by) defaults to $USER, then the login name; operator text
 *   (who, comments) is refused with control characters and kept short, and
 *   everything shown from the store goes through clean() (tools/cli.h).
 * - pages --members ID lists the members of a cohort page as its signal
 *   finds them now (sw_signal_members), each with what the store says of
 *   it (its order, its status, its open slips and their stages: a few
 *   indexed reads per member).  The signal is the page's rule's in the
 *   configuration (read text only: no secret is opened); with --store and
 *   no -c no configuration is read, and the signal the page's labels name
 *   is used.
 * - JSON follows the other commands: one object, lists under a named key,
 *   times in UTC RFC 3339 (null when absent), field names as in the store
 *   (a page's last notification is an outbox row in the shape of
 *   `slipwatch outbox --json`).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alerts/engine.h"
#include "alerts/pages.h"
#include "alerts/rules.h"
#include "alerts/signals.h"
#include "alerts/stage.h"
#include "lib/clock.h"
#include "lib/matcher.h"
#include "lib/rrd.h"
#include "lib/store.h"
#include "lib/store_pages.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "lib/store_report.h"
#include "tools/cli.h"

#define MAX_WHO	       64			     /* bytes of --by */
#define MAX_COMMENT    500			     /* bytes of --comment */
#define MAX_SILENCE_MS (INT64_C(366) * 86400 * 1000) /* --duration, --until */

/* ---- arguments --------------------------------------------------------------- */

/* A page or silence id: decimal, 1..INT64_MAX. */
static int parse_id(const char *cmd, const char *what, const char *arg, int64_t *ret)
{
	char *end, *shown;
	long long v;
	int status;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (arg[0] >= '0' && arg[0] <= '9' && !*end && !errno && v > 0) {
		*ret = v;
		return 0;
	}
	shown = clean(arg, NULL);
	status = usage_err(cmd, "'%s' is not a %s id (a number from 1)", shown, what);
	free(shown);
	return status;
}

/* Operator text: 1..max bytes, no control characters.  0 or EXIT_USAGE. */
static int text_arg(const char *cmd, const char *opt, const char *arg, size_t max)
{
	if (!*arg)
		return usage_err(cmd, "%s: may not be empty", opt);
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return usage_err(cmd, "%s: control characters are not allowed", opt);
	if (strlen(arg) > max)
		return usage_err(cmd, "%s: at most %zu bytes", opt, max);
	return 0;
}

/* Who acts: --by, else $USER, else the login name, else the user name of
 * the uid.  0 or EXIT_USAGE. */
static int who(const char *cmd, const char *by, const char **ret)
{
	const struct passwd *pw;

	if (!by && (by = getenv("USER")) && !*by)
		by = NULL;
	if (!by)
		by = getlogin();
	if (!by && (pw = getpwuid(getuid())))
		by = pw->pw_name;
	if (!by)
		return usage_err(cmd, "who is this? give --by WHO");
	*ret = by;
	return text_arg(cmd, "--by", by, MAX_WHO);
}

/* An instant for --start/--until: RFC 3339 with an offset. */
static int parse_instant(const char *cmd, const char *opt, const char *arg, int64_t *ret)
{
	struct sw_time t;
	char err[128], *shown;
	int status;

	if (sw_time_parse(arg, &t, err, sizeof(err)) == SW_OK && (t.flags & SW_TIME_HAS_OFFSET)) {
		*ret = t.utc_sec;
		return 0;
	}
	shown = clean(arg, NULL);
	status = usage_err(cmd,
			   "%s: '%s' is not a time with an offset, e.g. 2026-11-24T18:00:00Z "
			   "or 2026-11-24T23:30:00+05:30",
			   opt, shown);
	free(shown);
	return status;
}

/* ---- pages ------------------------------------------------------------------------ */

static const char *page_state_at(int i)
{
	return sw_page_state_name((enum sw_page_state)i);
}

static const struct choices page_states = {"a page state", page_state_at, SW_PAGE_STATE_LAST,
					   false};

/* What the listing shows of one page besides the row itself. */
struct page_extra {
	struct sw_outbox_msg *note; /* the last notification, or NULL */
	bool acked;		    /* the current incident */
	int64_t acked_at;
	char *acked_by;
};

/* The page's incident is still running: not ok, or receivers have not
 * heard that it is. */
static bool page_open(const struct sw_page *p)
{
	return p->incident > 0 && (p->state != SW_PAGE_OK || p->notified_state != SW_PAGE_OK);
}

static enum sw_err page_extra_read(struct sw_store *st, const struct sw_page *p,
				   struct page_extra *x)
{
	enum sw_err rc;

	memset(x, 0, sizeof(*x));
	rc = sw_store_page_last_note(st, p->id, &x->note);
	if (rc != SW_OK && rc != SW_ENOTFOUND)
		return rc;
	if (!page_open(p))
		return SW_OK;
	return sw_store_page_acked(st, p->id, p->incident, &x->acked, &x->acked_at, &x->acked_by);
}

static void page_extra_free(struct page_extra *x)
{
	sw_store_outbox_free(x->note, x->note ? 1 : 0);
	free(x->acked_by);
}

/* "trigger sent 5m ago" into buf[len]; "-" if none. */
static const char *note_text(const struct sw_outbox_msg *m, int64_t now, char *buf, size_t len)
{
	char span[TBUF];
	int64_t at;

	if (!m) {
		snprintf(buf, len, "-");
		return buf;
	}
	at = m->sent_at ? m->sent_at : m->created_at;
	snprintf(buf, len, "%s %s %s ago", m->slip_kind ? m->slip_kind : "?",
		 sw_store_outbox_state_name(m->state), fmt_span(now - at, span));
	return buf;
}

static void page_text_row(struct table *t, const struct sw_page *p, const struct page_extra *x,
			  int64_t now)
{
	char id[24], age[TBUF], note[TBUF + 64], when[TBUF], *receiver, *acked = NULL;
	const char *cells[10];

	snprintf(id, sizeof(id), "%" PRId64, p->id);
	receiver = p->escalated_to
		       ? xasprintf("%s -> %s", p->receiver ? p->receiver : "-", p->escalated_to)
		       : xstrdup(p->receiver ? p->receiver : "-");
	if (x->acked)
		acked = xasprintf("%s %s ago", x->acked_by ? x->acked_by : "?",
				  fmt_span(now - x->acked_at, when));
	cells[0] = id;
	cells[1] = p->rule;
	cells[2] = *p->subject ? p->subject : "(global)";
	cells[3] = sw_page_state_name(p->state);
	cells[4] = p->severity == SW_SEV_NONE ? "-" : sw_page_severity_name(p->severity);
	cells[5] = fmt_span(now - p->state_since, age);
	cells[6] = receiver;
	cells[7] = note_text(x->note, now, note, sizeof(note));
	cells[8] = acked;
	cells[9] = p->summary;
	table_row(t, cells);
	free(receiver);
	free(acked);
}

/* An outbox row as `slipwatch outbox --json` shows one. */
/* A page row in the shape of an element of `slipwatch outbox --json`. */
static json_t *note_json(const struct sw_outbox_msg *m)
{
	const struct sw_report_outbox r = {
	    .id = m->id,
	    .entity = (char *)m->entity,
	    .slip_kind = (char *)m->slip_kind,
	    .promise = (char *)m->promise,
	    .channel = (char *)m->channel,
	    .recipient = (char *)m->recipient,
	    .state = (char *)sw_store_outbox_state_name(m->state),
	    .attempts = m->attempts,
	    .next_attempt_at = m->next_attempt_at,
	    .last_error = (char *)m->last_error,
	    .created_at = m->created_at,
	    .sent_at = m->sent_at,
	    .receiver = (char *)m->receiver,
	};

	return cli_outbox_json(&r);
}

static json_t *page_json(const struct sw_page *p, const struct page_extra *x)
{
	json_t *j = json_object(), *figures = NULL;

	jset_int(j, "id", p->id);
	jset_str(j, "rule", p->rule);
	jset_str(j, "subject", p->subject);
	jset_str(j, "labels", p->labels);
	jset_str(j, "state", sw_page_state_name(p->state));
	jset_str(j, "severity", sw_page_severity_name(p->severity));
	json_object_set_new(j, "value", p->has_value ? json_real(p->value) : json_null());
	jset_str(j, "summary", p->summary);
	if (p->figures)
		figures = json_loads(p->figures, 0, NULL);
	json_object_set_new(j, "figures", figures ? figures : jstr(p->figures));
	jset_utc(j, "state_since", p->state_since);
	jset_utc(j, "active_since", p->active_since);
	jset_utc(j, "firing_since", p->firing_since);
	jset_int(j, "incident", p->incident);
	jset_utc(j, "evaluated_at", p->evaluated_at);
	jset_str(j, "receiver", p->receiver);
	jset_str(j, "escalated_to", p->escalated_to);
	jset_utc(j, "escalated_at", p->escalated_at);
	jset_str(j, "acked_by", x->acked ? x->acked_by : NULL);
	jset_utc(j, "acked_at", x->acked ? x->acked_at : 0);
	json_object_set_new(j, "last_notification", x->note ? note_json(x->note) : json_null());
	return j;
}

static bool page_shown(const struct sw_page *p, int state)
{
	return state < 0 || p->state == (enum sw_page_state)state;
}

static void pages_text(const struct sw_page *list, size_t n, int state, const struct page_extra *x,
		       int64_t now)
{
	static const char *const head[] = {"ID",       "RULE",	 "SUBJECT",  "STATE",
					   "SEVERITY", "AGE",	 "RECEIVER", "LAST NOTIFICATION",
					   "ACKED",    "SUMMARY"};
	struct table t;

	table_init(&t, 10);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++)
		if (page_shown(&list[i], state))
			page_text_row(&t, &list[i], &x[i], now);
	table_print(&t, "");
}

static int pages_json(const struct sw_page *list, size_t n, int state, const struct page_extra *x)
{
	struct jlist l;

	jlist_named(&l, "pages");
	for (size_t i = 0; i < n; i++)
		if (page_shown(&list[i], state))
			jlist_add(&l, page_json(&list[i], &x[i]));
	return jlist_end(&l, "}\n");
}

/* Shows list[0..n) (those in state when state >= 0) as text or JSON,
 * each with what page_extra_read finds, all read before anything is
 * printed. */
static int pages_show(struct sw_store *st, const struct sw_page *list, size_t n, int state,
		      bool all, bool json)
{
	struct page_extra *x = xcalloc(n ? n : 1, sizeof(*x));
	size_t shown = 0;
	int status = 0;

	for (size_t i = 0; status == 0 && i < n; i++)
		if (page_shown(&list[i], state) && ++shown &&
		    page_extra_read(st, &list[i], &x[i]) != SW_OK)
			status = fail("%s", sw_store_errmsg(st));
	if (status == 0 && json)
		status = pages_json(list, n, state, x);
	else if (status == 0 && shown)
		pages_text(list, n, state, x, sw_clock_now());
	else if (status == 0)
		printf("no %spages%s%s\n", all || state >= 0 ? "" : "open ",
		       state >= 0 ? " in state " : "",
		       state >= 0 ? sw_page_state_name((enum sw_page_state)state) : "");
	for (size_t i = 0; i < n; i++)
		page_extra_free(&x[i]);
	free(x);
	return status;
}

/* ---- pages --members ------------------------------------------------------------ */

/* What --members reads from the configuration: the rules and what a
 * signal's context needs.  Each part's flag says it is loaded. */
struct members_conf {
	struct sw_conf *file;
	struct sw_pages_conf pc;
	struct sw_alerts_conf ac;
	struct sw_rules rules;
	struct sw_rrd_conf rrd;
	bool pc_loaded, rules_loaded, rrd_loaded;
};

static void members_conf_free(struct members_conf *mc)
{
	if (mc->pc_loaded)
		sw_pages_conf_free(&mc->pc);
	if (mc->rules_loaded) {
		sw_rules_free(&mc->rules);
		sw_alerts_conf_free(&mc->ac);
	}
	if (mc->rrd_loaded)
		sw_conf_free_struct(sw_rrd_conf_table, &mc->rrd);
	sw_conf_free(mc->file);
}

/* Loads the configuration as text only (open_store has judged the whole
 * file already).  0 or EXIT_RUNTIME. */
static int members_conf_load(const struct cli *cli, struct members_conf *mc)
{
	char err[1024];

	if (sw_conf_load(cli->conf_path, &mc->file, err, sizeof(err)) != SW_OK)
		return fail("%s", err);
	sw_conf_set_text_only(mc->file, true);
	if (sw_pages_conf_load(mc->file, &mc->pc, err, sizeof(err)) != SW_OK)
		return fail("%s", err);
	mc->pc_loaded = true;
	if (sw_rules_load(mc->file, &mc->ac, &mc->rules, err, sizeof(err)) != SW_OK)
		return fail("%s", err);
	mc->rules_loaded = true;
	if (sw_rrd_conf_load(mc->file, &mc->rrd, err, sizeof(err)) != SW_OK)
		return fail("%s", err);
	mc->rrd_loaded = true;
	return 0;
}

/* The signal of page p: its rule's in the configuration, else (no
 * configuration read) the one its labels name.  0 or EXIT_RUNTIME with
 * the reason. */
static int members_signal(const struct cli *cli, const struct members_conf *mc,
			  const struct sw_page *p, const struct sw_signal **ret)
{
	char name[64] = "";

	*ret = NULL;
	if (mc->pc_loaded) {
		for (size_t i = 0; i < mc->pc.n_rules; i++)
			if (strcmp(mc->pc.rules[i].name, p->rule) == 0)
				*ret = mc->pc.rules[i].signal;
		if (!*ret)
			return fail("page %" PRId64 " (rule %s): [page %s] is no longer in %s, so "
				    "its signal and members are unknown",
				    p->id, p->rule, p->rule, cli->conf_path);
		return 0;
	}
	if (sw_labels_get(p->labels, "signal", name, sizeof(name)) && (*ret = sw_signal_find(name)))
		return 0;
	return fail("page %" PRId64 " (rule %s): no configuration read and its labels name no "
		    "signal; give -c FILE",
		    p->id, p->rule);
}

/* One member as the store knows it now. */
struct member {
	const char *entity;	/* borrowed from the signal's list */
	struct sw_track *track; /* a parcel with its order, or NULL */
	size_t n_track;
	struct sw_order *order; /* an order member's order, or NULL */
	struct sw_alert *slips; /* its open slips, oldest first */
	size_t n_slips;
};

static void member_free(struct member *m)
{
	sw_store_track_free(m->track, m->n_track);
	sw_store_order_free(m->order);
	sw_store_alert_free(m->slips, m->n_slips);
}

/* Splits "KIND:A:B" (B may hold ':') into a and b.  False if it is not
 * one. */
static bool entity_split(const char *entity, const char *kind, char *a, size_t alen, char *b,
			 size_t blen)
{
	size_t k = strlen(kind), n;
	const char *colon;

	if (strncmp(entity, kind, k) != 0 || entity[k] != ':')
		return false;
	entity += k + 1;
	if (!(colon = strchr(entity, ':')) || colon == entity || !colon[1])
		return false;
	n = (size_t)(colon - entity);
	if (n >= alen || strlen(colon + 1) >= blen)
		return false;
	snprintf(a, alen, "%.*s", (int)n, entity);
	snprintf(b, blen, "%s", colon + 1);
	return true;
}

/* Reads what the store says of m->entity.  An entity it does not know
 * (gone meanwhile) is kept with nothing but its slips.  SW_OK or the
 * store's error. */
static enum sw_err member_read(struct sw_store *st, struct member *m)
{
	char a[256], b[256];
	enum sw_err rc = SW_OK;

	if (entity_split(m->entity, "parcel", a, sizeof(a), b, sizeof(b)))
		rc = sw_store_track_parcel(st, a, b, &m->track, &m->n_track);
	else if (entity_split(m->entity, "order", a, sizeof(a), b, sizeof(b)))
		rc = sw_store_order_get(st, a, b, &m->order);
	if (rc != SW_OK && rc != SW_ENOTFOUND)
		return rc;
	return sw_store_alert_open(st, m->entity, &m->slips, &m->n_slips);
}

static const struct sw_order *member_order(const struct member *m)
{
	return m->order ? m->order : m->n_track ? m->track[0].order : NULL;
}

static const struct sw_parcel *member_parcel(const struct member *m)
{
	return m->n_track ? m->track[0].parcel : NULL;
}

/* The parcel's status, else the order's ("shipped"), else NULL. */
static const char *member_status(const struct member *m)
{
	const struct sw_parcel *p = member_parcel(m);
	const struct sw_order *o = member_order(m);

	if (p)
		return sw_store_ship_status_name(p->status);
	return o ? sw_store_stage_name(o->status) : NULL;
}

/* The open slip whose stage ran over most, else the first with a stage. */
static const struct sw_alert *member_stage(const struct member *m)
{
	const struct sw_alert *best = NULL;

	for (size_t i = 0; i < m->n_slips; i++)
		if (m->slips[i].stage && (!best || m->slips[i].stage_ratio > best->stage_ratio))
			best = &m->slips[i];
	return best;
}

static void members_text(const struct sw_page *p, const struct member *m, size_t n)
{
	static const char *const head[] = {"MEMBER", "WAREHOUSE", "ORDER",
					   "STATUS", "SLIPS",	  "STAGE"};
	char stage[64], *shown = clean(p->subject, NULL);
	struct table t;

	printf("page %" PRId64 " (rule %s, %s): %zu member%s now\n", p->id, p->rule, shown, n,
	       n == 1 ? "" : "s");
	free(shown);
	if (!n)
		return;
	table_init(&t, 6);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		const struct sw_order *o = member_order(&m[i]);
		const struct sw_alert *a = member_stage(&m[i]);
		char *slips = xstrdup("");
		const char *cells[6] = {m[i].entity,
					o ? o->warehouse_id : NULL,
					o ? o->order_id : NULL,
					member_status(&m[i]),
					NULL,
					stage};

		for (size_t k = 0; k < m[i].n_slips; k++) {
			char *t2 = xasprintf("%s%s%s", slips, k ? "," : "", m[i].slips[k].kind);

			free(slips);
			slips = t2;
		}
		cells[4] = slips;
		sw_stage_with_ratio(a ? a->stage : NULL, a ? a->stage_ratio : 0, stage,
				    sizeof(stage));
		table_row(&t, cells);
		free(slips);
	}
	table_print(&t, "");
}

static json_t *member_json(const struct member *m)
{
	const struct sw_order *o = member_order(m);
	const struct sw_parcel *p = member_parcel(m);
	json_t *j = json_object(), *slips = json_array();

	jset_str(j, "entity", m->entity);
	jset_str(j, "courier", p ? p->courier : NULL);
	jset_str(j, "tracking_number", p ? p->tracking_number : NULL);
	jset_str(j, "warehouse_id", o ? o->warehouse_id : NULL);
	jset_str(j, "order_id", o ? o->order_id : NULL);
	jset_str(j, "status", member_status(m));
	for (size_t i = 0; i < m->n_slips; i++) {
		const struct sw_alert *a = &m->slips[i];
		json_t *s = json_object();

		jset_str(s, "slip_kind", a->kind);
		jset_str(s, "promise", a->promise);
		jset_str(s, "stage", a->stage);
		json_object_set_new(s, "stage_ratio",
				    a->stage_ratio > 0 ? json_real(a->stage_ratio) : json_null());
		jset_utc(s, "detected_at", a->detected_at);
		json_array_append_new(slips, s);
	}
	json_object_set_new(j, "slips", slips);
	return j;
}

static int members_json(const struct sw_page *p, const struct sw_signal *sig,
			const struct member *m, size_t n)
{
	json_t *o = json_object(), *pg = json_object(), *list = json_array();

	jset_int(pg, "id", p->id);
	jset_str(pg, "rule", p->rule);
	jset_str(pg, "subject", p->subject);
	jset_str(pg, "signal", sig->name);
	json_object_set_new(o, "page", pg);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, member_json(&m[i]));
	json_object_set_new(o, "members", list);
	return json_print(o);
}

/* Lists the members of page p's cohort now, read before anything is
 * printed.  0 or EXIT_RUNTIME. */
static int members_list(struct sw_store *st, const struct members_conf *mc, const struct sw_page *p,
			const struct sw_signal *sig, bool json)
{
	struct sw_sig_ctx ctx = {.st = st, .cursor = SW_ENGINE_CURSOR};
	const char *eq = strchr(p->subject, '=');
	struct member *m = NULL;
	char **ids = NULL, err[512];
	size_t n = 0;
	int status = 0;

	if (mc->rrd_loaded)
		ctx.rrd = &mc->rrd;
	if (mc->rules_loaded) {
		ctx.rules = &mc->rules;
		ctx.alerts = &mc->ac;
	}
	if (sw_signal_members(sig, &ctx, eq ? eq + 1 : "", &ids, &n, err, sizeof(err)) != SW_OK)
		return fail("page %" PRId64 " (rule %s): %s", p->id, p->rule, err);
	m = xcalloc(n ? n : 1, sizeof(*m));
	for (size_t i = 0; status == 0 && i < n; i++) {
		m[i].entity = ids[i];
		if (member_read(st, &m[i]) != SW_OK)
			status = fail("%s", sw_store_errmsg(st));
	}
	if (status == 0 && json)
		status = members_json(p, sig, m, n);
	else if (status == 0)
		members_text(p, m, n);
	for (size_t i = 0; i < n; i++)
		member_free(&m[i]);
	free(m);
	sw_signal_ids_free(ids, n);
	return status;
}

/* pages --members ID: the page, its signal, its members. */
static int pages_members(const struct cli *cli, int64_t id, bool json)
{
	struct members_conf mc = {0};
	const struct sw_signal *sig = NULL;
	struct sw_page *p = NULL;
	struct sw_store *st;
	int status;

	if ((status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	if (sw_store_page_get_id(st, id, &p) != SW_OK)
		status = fail("%s", sw_store_errmsg(st));
	/* --store alone reads no configuration (as everywhere in slipwatch) */
	if (status == 0 && !(cli->store_opt && !cli->conf_given))
		status = members_conf_load(cli, &mc);
	if (status == 0)
		status = members_signal(cli, &mc, p, &sig);
	if (status == 0 && !sig->members)
		status = fail("page %" PRId64 " (rule %s) is not a cohort page: its signal %s has "
			      "no members",
			      p->id, p->rule, sig->name);
	if (status == 0)
		status = members_list(st, &mc, p, sig, json);
	members_conf_free(&mc);
	sw_store_page_free(p, p ? 1 : 0);
	sw_store_close(st);
	return status;
}

int cmd_pages(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"state", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"members", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_page *list = NULL;
	struct sw_store *st;
	bool all = false, json = false;
	int c, state = -1, status = 0;
	int64_t members = 0;
	size_t n = 0;

	opts_begin();
	while (status == 0 && (c = next_opt("pages", argc, argv, opts)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'm')
			status = parse_id("pages", "page", optarg, &members);
		else if (c == 's' &&
			 !(status = choice_arg("pages", "--state", &page_states, optarg)))
			state = sw_page_state_parse(optarg);
		else if (c == 'j')
			json = true;
		else if (c != 's')
			status = EXIT_USAGE;
	}
	if (status == 0 && members && (all || state >= 0))
		status =
		    usage_err("pages", "--members does not go with %s", all ? "--all" : "--state");
	if (status == 0 && members && !(status = no_more_args("pages", argc, argv)))
		return pages_members(cli, members, json);
	if (status || (status = no_more_args("pages", argc, argv)) ||
	    (status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	/* --state looks at every page: "ok" ones are not in the open list */
	if (sw_store_page_list(st, all || state >= 0, &list, &n) != SW_OK)
		status = fail("%s", sw_store_errmsg(st));
	else
		status = pages_show(st, list, n, state, all, json);
	sw_store_page_free(list, n);
	sw_store_close(st);
	return status;
}

/* ---- ack ------------------------------------------------------------------------------ */

/* Acknowledges page p's incident as by.  0 or EXIT_RUNTIME. */
static int ack_page(struct sw_store *st, const struct sw_page *p, const char *by,
		    const char *comment)
{
	char when[TBUF], *at_by = NULL, *shown;
	int64_t at = 0;
	bool acked = false;
	enum sw_err rc = sw_store_page_ack(st, p->id, p->incident, by, comment, sw_clock_now());

	if (rc == SW_OK) {
		shown = clean(by, NULL);
		printf("page %" PRId64 " incident %" PRId64 " acknowledged by %s; slipwatch-alerts "
		       "tells its receivers at its next evaluation\n",
		       p->id, p->incident, shown);
		free(shown);
		return 0;
	}
	if (rc != SW_EDUP ||
	    sw_store_page_acked(st, p->id, p->incident, &acked, &at, &at_by) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	shown = clean(at_by, NULL);
	printf("page %" PRId64 " incident %" PRId64 " was already acknowledged by %s at %s\n",
	       p->id, p->incident, shown, fmt_utc(at, when));
	free(shown);
	free(at_by);
	return 0;
}

static int ack_args(int argc, char **argv, int64_t *ret_id, const char **ret_by,
		    const char **ret_comment)
{
	static const struct option opts[] = {
	    {"by", required_argument, NULL, 'b'},
	    {"comment", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	const char *by = NULL;
	int c, status = 0;

	opts_begin();
	while (status == 0 && (c = next_opt("ack", argc, argv, opts)) != -1) {
		if (c == 'b')
			by = optarg;
		else if (c == 'm')
			status = text_arg("ack", "--comment", *ret_comment = optarg, MAX_COMMENT);
		else
			status = EXIT_USAGE;
	}
	if (status)
		return status;
	if (optind >= argc)
		return usage_err("ack", "missing the page's ID (see 'slipwatch pages')");
	if ((status = parse_id("ack", "page", argv[optind++], ret_id)) ||
	    (status = no_more_args("ack", argc, argv)))
		return status;
	return who("ack", by, ret_by);
}

int cmd_ack(const struct cli *cli, int argc, char **argv)
{
	const char *by = NULL, *comment = NULL;
	struct sw_page *p = NULL;
	struct sw_store *st;
	int64_t id = 0;
	int status = ack_args(argc, argv, &id, &by, &comment);

	if (status || (status = open_store(cli, SW_STORE_NOCREATE, &st)))
		return status;
	if (sw_store_page_get_id(st, id, &p) != SW_OK)
		status = fail("%s", sw_store_errmsg(st));
	else if (p->state == SW_PAGE_OK || p->incident <= 0)
		status = fail("page %" PRId64 " is not open (state %s): nothing to acknowledge", id,
			      sw_page_state_name(p->state));
	else
		status = ack_page(st, p, by, comment);
	sw_store_page_free(p, p ? 1 : 0);
	sw_store_close(st);
	return status;
}

/* ---- silence -------------------------------------------------------------------------- */

struct silence_args {
	const char *verb;    /* add, list, expire */
	char *matchers;	     /* add: the operands joined with ',' (new) */
	const char *by;	     /* add */
	const char *comment; /* add */
	const char *duration, *until, *start;
	int64_t id; /* expire */
	bool all, json;
};

static int silence_opts(int argc, char **argv, struct silence_args *a)
{
	static const struct option opts[] = {
	    {"duration", required_argument, NULL, 'd'}, {"until", required_argument, NULL, 'u'},
	    {"start", required_argument, NULL, 's'},	{"comment", required_argument, NULL, 'm'},
	    {"by", required_argument, NULL, 'b'},	{"all", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},		{NULL, 0, NULL, 0},
	};
	int c;

	opts_begin();
	while ((c = next_opt("silence", argc, argv, opts)) != -1) {
		if (c == 'd')
			a->duration = optarg;
		else if (c == 'u')
			a->until = optarg;
		else if (c == 's')
			a->start = optarg;
		else if (c == 'm')
			a->comment = optarg;
		else if (c == 'b')
			a->by = optarg;
		else if (c == 'a')
			a->all = true;
		else if (c == 'j')
			a->json = true;
		else
			return EXIT_USAGE;
	}
	return 0;
}

/* The options given that verb does not take: 0 or EXIT_USAGE. */
static int silence_misfits(const struct silence_args *a)
{
	bool add = strcmp(a->verb, "add") == 0, list = strcmp(a->verb, "list") == 0;
	const char *opt = NULL;

	if (!add && (a->duration || a->until || a->start || a->comment || a->by))
		opt = a->duration  ? "--duration"
		      : a->until   ? "--until"
		      : a->start   ? "--start"
		      : a->comment ? "--comment"
				   : "--by";
	else if (!list && a->all)
		opt = "--all";
	else if (!add && !list && a->json)
		opt = "--json";
	if (opt)
		return usage_err("silence", "%s: %s does not go with %s", a->verb, opt, a->verb);
	return 0;
}

/* The operands after the verb: add's matchers (joined), expire's id. */
static int silence_operands(int argc, char **argv, struct silence_args *a)
{
	int first = optind + 1;

	if (strcmp(a->verb, "list") == 0) {
		optind = first;
		return no_more_args("silence", argc, argv);
	}
	if (strcmp(a->verb, "expire") == 0) {
		if (first >= argc)
			return usage_err("silence", "expire: missing the silence's ID");
		optind = first + 1;
		if (parse_id("silence", "silence", argv[first], &a->id))
			return EXIT_USAGE;
		return no_more_args("silence", argc, argv);
	}
	if (first >= argc)
		return usage_err("silence", "add: missing the matchers (e.g. courier=dhl)");
	a->matchers = xstrdup(argv[first]);
	for (int i = first + 1; i < argc; i++) {
		char *t = xasprintf("%s,%s", a->matchers, argv[i]);

		free(a->matchers);
		a->matchers = t;
	}
	return 0;
}

static int silence_args(int argc, char **argv, struct silence_args *a)
{
	int status = silence_opts(argc, argv, a);

	if (status)
		return status;
	if (optind >= argc)
		return usage_err("silence", "missing add, list or expire");
	a->verb = argv[optind];
	if (strcmp(a->verb, "add") != 0 && strcmp(a->verb, "list") != 0 &&
	    strcmp(a->verb, "expire") != 0) {
		char *shown = clean(a->verb, NULL);

		status =
		    usage_err("silence", "unknown action '%s' (want add, list or expire)", shown);
		free(shown);
		return status;
	}
	if ((status = silence_misfits(a)))
		return status;
	return silence_operands(argc, argv, a);
}

/* "active", "pending" (still to start) or "expired" at now. */
static const char *silence_state(const struct sw_silence *s, int64_t now)
{
	return s->ends_at <= now ? "expired" : s->starts_at > now ? "pending" : "active";
}

static json_t *silence_json(const struct sw_silence *s, int64_t now)
{
	json_t *j = json_object();

	jset_int(j, "id", s->id);
	jset_str(j, "matchers", s->matchers);
	jset_str(j, "state", silence_state(s, now));
	jset_utc(j, "starts_at", s->starts_at);
	jset_utc(j, "ends_at", s->ends_at);
	jset_str(j, "created_by", s->created_by);
	jset_str(j, "comment", s->comment);
	jset_utc(j, "created_at", s->created_at);
	return j;
}

/* The window of a: [*ret_start, *ret_end), checked.  0 or EXIT_USAGE. */
static int silence_window(const struct silence_args *a, int64_t now, int64_t *ret_start,
			  int64_t *ret_end)
{
	int64_t span = 0;
	int status;

	*ret_start = now;
	if (a->start && (status = parse_instant("silence", "--start", a->start, ret_start)))
		return status;
	if (!a->duration == !a->until)
		return usage_err("silence", "add: give --duration D or --until TIME (one of them)");
	if (a->duration) {
		if ((status = parse_duration("silence", "--duration", a->duration, MAX_SILENCE_MS,
					     &span)))
			return status;
		if (span <= 0)
			return usage_err("silence", "--duration: must be at least 1s");
		*ret_end = *ret_start + span;
	} else {
		if ((status = parse_instant("silence", "--until", a->until, ret_end)))
			return status;
		if (*ret_end <= now)
			return usage_err("silence", "--until: '%s' is not in the future", a->until);
		if (*ret_end <= *ret_start)
			return usage_err("silence", "--until: must be after --start");
		if (*ret_end - *ret_start > MAX_SILENCE_MS / 1000)
			return usage_err("silence", "--until: at most 366d after the start");
	}
	if (*ret_end <= now)
		return usage_err("silence", "add: that silence would be over already");
	return 0;
}

/* Checks and completes a silence to add into *s (its matchers text is
 * new: free it).  0 or EXIT_USAGE. */
static int silence_build(const struct silence_args *a, int64_t now, struct sw_silence *s)
{
	struct sw_matchers *m;
	char err[512];
	int status;

	if (sw_matchers_parse(a->matchers, &m, err, sizeof(err)) != SW_OK)
		return usage_err("silence", "add: %s", err);
	s->matchers = xstrdup(sw_matchers_text(m));
	sw_matchers_free(m);
	s->created_at = now;
	if (!a->comment)
		status = usage_err("silence", "add: --comment TEXT is required (say why)");
	else if (!(status = text_arg("silence", "--comment", a->comment, MAX_COMMENT)) &&
		 !(status = who("silence", a->by, &s->created_by)))
		status = silence_window(a, now, &s->starts_at, &s->ends_at);
	s->comment = a->comment;
	return status;
}

static void silence_added_text(const struct sw_silence *s)
{
	char from[TBUF], until[TBUF], span[TBUF];
	char *m = clean(s->matchers, NULL), *by = clean(s->created_by, NULL);

	printf("silence %" PRId64 " added: %s\n  from %s until %s (%s), by %s\n", s->id, m,
	       fmt_utc(s->starts_at, from), fmt_utc(s->ends_at, until),
	       fmt_span(s->ends_at - s->starts_at, span), by);
	printf("slipwatch-alerts holds the notifications of matching pages from its next "
	       "evaluation\n");
	free(m);
	free(by);
}

/* Stores s (built) and says so.  0 or EXIT_RUNTIME. */
static int silence_add(struct sw_store *st, struct sw_silence *s, bool json, int64_t now)
{
	json_t *o;

	if (sw_store_silence_add(st, s, &s->id) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	if (!json) {
		silence_added_text(s);
		return 0;
	}
	o = json_object();
	json_object_set_new(o, "silence", silence_json(s, now));
	return json_print(o);
}

static void silence_table(const struct sw_silence *list, size_t n, int64_t now)
{
	static const char *const head[] = {"ID",	 "STATE", "MATCHERS", "STARTS (UTC)",
					   "ENDS (UTC)", "BY",	  "COMMENT"};
	char id[24], starts[TBUF], ends[TBUF];
	struct table t;

	table_init(&t, 7);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		const char *cells[7] = {id,
					silence_state(&list[i], now),
					list[i].matchers,
					fmt_utc(list[i].starts_at, starts),
					fmt_utc(list[i].ends_at, ends),
					list[i].created_by,
					list[i].comment};

		snprintf(id, sizeof(id), "%" PRId64, list[i].id);
		table_row(&t, cells);
	}
	table_print(&t, "");
}

static int silence_list(struct sw_store *st, const struct silence_args *a, int64_t now)
{
	struct sw_silence *list;
	struct jlist l;
	size_t n;
	int status = 0;

	if (sw_store_silence_list(st, now, a->all, &list, &n) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	if (a->json) {
		jlist_named(&l, "silences");
		for (size_t i = 0; i < n; i++)
			jlist_add(&l, silence_json(&list[i], now));
		status = jlist_end(&l, "}\n");
	} else if (n == 0) {
		printf("no %ssilences\n", a->all ? "" : "active or pending ");
	} else {
		silence_table(list, n, now);
	}
	sw_store_silence_free(list, n);
	return status;
}

static int silence_expire(struct sw_store *st, int64_t id, int64_t now)
{
	if (sw_store_silence_expire(st, id, now) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	printf("silence %" PRId64 " expired; slipwatch-alerts notifies matching pages again from "
	       "its next evaluation\n",
	       id);
	return 0;
}

int cmd_silence(const struct cli *cli, int argc, char **argv)
{
	struct silence_args a = {0};
	struct sw_silence s = {0};
	struct sw_store *st = NULL;
	int64_t now = sw_clock_now();
	bool list = false, add = false;
	int status = silence_args(argc, argv, &a);

	if (status == 0) {
		list = strcmp(a.verb, "list") == 0;
		add = strcmp(a.verb, "add") == 0;
	}
	/* everything checked before the store is opened */
	if (status || (add && (status = silence_build(&a, now, &s))) ||
	    (status = open_store(cli, list ? SW_STORE_RDONLY : SW_STORE_NOCREATE, &st)))
		goto out;
	if (list)
		status = silence_list(st, &a, now);
	else if (add)
		status = silence_add(st, &s, a.json, now);
	else
		status = silence_expire(st, a.id, now);
	sw_store_close(st);
out:
	free((char *)s.matchers);
	free(a.matchers);
	return status;
}
