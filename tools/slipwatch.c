/*
 * slipwatch.c - the operator's command line: what is late or at risk, one
 * order's whole story, the notification outbox, recorded slips, and the
 * unsubscribe list; the on-call commands (pages, ack, silence) are in
 * cli_pages.c, the helpers all commands share in cli.c (tools/cli.h).
 *
 *   slipwatch [-c FILE] [--store PATH] COMMAND [ARGS]   (see usage())
 *
 * Design:
 * - The store path comes from [store] path of slipwatch.conf, or
 *   --store PATH (cli.c: open_store).
 * - Reports open the store read-only (SW_STORE_RDONLY) and go through
 *   lib/store_report.h; unsubscribe add/remove open it read-write but never
 *   create it (SW_STORE_NOCREATE).
 * - Output is an aligned text table, or JSON (jansson) with --json for
 *   scripts.  Text from the store reaches a terminal cleaned (cli.c).
 * - Commands are rows of one const table.  Exit status: 0 done, 1 runtime
 *   failure (the message names the store or file and what failed), 2 usage
 *   error (the message names the argument and what is expected).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alerts/rules.h"
#include "alerts/stage.h"
#include "lib/clock.h"
#include "lib/daemon.h"
#include "lib/store.h"
#include "lib/store_report.h"
#include "lib/xmalloc.h"
#include "tools/cli.h"
#include "tools/cli_report.h"

#define DEFAULT_LIMIT  100
#define DEFAULT_WITHIN "24h"
#define MAX_WITHIN_MS  (INT64_C(366) * 86400 * 1000)
#define MAX_REASON     200 /* bytes of an unsubscribe reason */

struct command {
	const char *name;
	const char *synopsis; /* for usage(), one or more lines */
	int (*run)(const struct cli *cli, int argc, char **argv);
};

static const struct command *find_command(const char *name);

static void usage(FILE *out);

/* ---- parsing arguments ------------------------------------------------- */

/* A count for --limit: decimal, 1..SW_REPORT_MAX_ROWS. */
static int parse_limit(const char *cmd, const char *arg, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v < 1 || v > SW_REPORT_MAX_ROWS)
		return usage_err(cmd, "--limit: '%s' is not a number from 1 to %d", arg,
				 SW_REPORT_MAX_ROWS);
	*ret = (int)v;
	return 0;
}

/* A duration for --within (see parse_duration). */
static int parse_within(const char *cmd, const char *arg, int64_t *ret_s)
{
	return parse_duration(cmd, "--within", arg, MAX_WITHIN_MS, ret_s);
}

static const char *outbox_state_at(int i)
{
	return sw_store_outbox_state_name((enum sw_outbox_state)i);
}

static const char *slip_kind_at(int i)
{
	return sw_slip_name((enum sw_slip)i);
}

static const struct choices outbox_states = {"an outbox state", outbox_state_at, SW_OUTBOX_LAST,
					     false};
static const struct choices slip_kinds = {"a slip kind", slip_kind_at, SW_SLIP_LAST, false};
static const struct choices outbox_kinds = {"a notice kind", slip_kind_at, SW_SLIP_LAST, true};

/*
 * An address for the unsubscribe list: a plain addr-spec local@domain
 * (RFC 5322 dot-atom on both sides; UTF-8 allowed as in RFC 6531), no
 * quoted local part, no domain literal, nothing that could split a mail
 * header: no blanks, CR, LF or other control characters.  NULL if fine,
 * else what is wrong.
 */
static const char *addr_problem(const char *a)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
	const char *at = strrchr(a, '@'), *p;
	size_t local;

	for (p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "blanks and control characters are not allowed";
	if (!at || strchr(a, '@') != at)
		return "want exactly one '@' (local@domain)";
	local = (size_t)(at - a);
	if (local == 0 || local > 64)
		return "the part before '@' must have 1 to 64 bytes";
	if (strlen(at + 1) == 0 || strlen(a) > 254)
		return "the domain is empty or the address longer than 254 bytes";
	for (p = a; p < at; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || (unsigned char)*p >= 0x80 || *p == '.' ||
		      strchr(atext, *p)))
			return "the part before '@' has a character a plain address cannot have";
	if (a[0] == '.' || at[-1] == '.' || strstr(a, "..") != NULL)
		return "dots may not start, end or double in an address";
	for (p = at + 1; *p; p++) {
		bool dot = *p == '.';

		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || (unsigned char)*p >= 0x80 || *p == '-' || dot))
			return "the domain may only have letters, digits, '-' and dots";
		if ((dot || *p == '-') && (p == at + 1 || p[1] == '\0' || p[-1] == '.'))
			return "a domain label may not be empty or start or end with '-'";
		if (*p == '-' && p[1] == '.')
			return "a domain label may not end with '-'";
	}
	return NULL;
}

/* ---- output shared by the reports ------------------------------------------ */

/* A delivery promise, the same object in every command: {"kind": "date" or
 * "instant", "text": as written, "at", "at_utc"}; all null when none. */
static json_t *promise_json(const char *kind, const char *text, struct sw_stamp at)
{
	json_t *p = json_object();

	jset_str(p, "kind", kind);
	jset_str(p, "text", text);
	jset_stamp(p, "at", at);
	return p;
}

/* Appends piece to the comma-separated list *list (new string). */
static void list_add(char **list, const char *piece)
{
	char *t = xasprintf("%s%s%s", *list, **list ? "," : "", piece);

	free(*list);
	*list = t;
}

/* ---- late ---------------------------------------------------------------- */

/* "late,open_slip(exception,stalled)": a new string. */
static char *why_text(const struct sw_report_late *r)
{
	char *w = xstrdup(""), *slip;

	for (unsigned bit = 1; bit < SW_REPORT_OPEN_SLIP; bit <<= 1)
		if (r->why & bit)
			list_add(&w, sw_store_report_why_name(bit));
	if (r->why & SW_REPORT_OPEN_SLIP) {
		slip = xasprintf("open_slip(%s)", r->open_slips ? r->open_slips : "");
		list_add(&w, slip);
		free(slip);
	}
	return w;
}

static void late_text_row(struct table *t, const struct sw_report_late *r, int64_t now)
{
	char by[TBUF + 4], span[TBUF], ship[TBUF], last[TBUF];
	char *why = why_text(r), *order;
	const char *cells[9];

	if (r->deadline == 0)
		snprintf(by, sizeof(by), "-");
	else if (now > r->deadline)
		snprintf(by, sizeof(by), "%s", fmt_span(now - r->deadline, span));
	else
		snprintf(by, sizeof(by), "in %s", fmt_span(r->deadline - now, span));
	order = r->warehouse_id ? xasprintf("%s:%s", r->warehouse_id, r->order_id) : xstrdup("-");
	cells[0] = by;
	cells[1] = why;
	cells[2] = r->entity;
	cells[3] = order;
	cells[4] = r->status;
	cells[5] = r->promise_text;
	/* ship-by matters only while the order is still in the warehouse */
	cells[6] = r->courier ? "-" : fmt_written(r->promised_ship_by, ship);
	cells[7] = r->eta_date;
	cells[8] = fmt_written(r->last_event, last);
	table_row(t, cells);
	free(why);
	free(order);
}

static void late_text(const struct sw_report_late *rows, size_t n, int64_t total, int64_t now,
		      int64_t within)
{
	static const char *const head[] = {"LATE BY",  "WHY",	  "ENTITY", "ORDER",	 "STATUS",
					   "PROMISED", "SHIP BY", "ETA",    "LAST EVENT"};
	struct table t;
	char span[TBUF];

	if (n == 0) {
		printf("nothing is late or at risk (window %s)\n", fmt_span(within, span));
		return;
	}
	table_init(&t, 9);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++)
		late_text_row(&t, &rows[i], now);
	table_print(&t, "");
	if (total > (int64_t)n)
		printf("(%zu of %" PRId64 " shown; --limit N shows more)\n", n, total);
}

static json_t *late_json_row(const struct sw_report_late *r, int64_t now)
{
	json_t *o = json_object(), *why = json_array(), *slips = json_array();

	jset_str(o, "entity", r->entity);
	jset_str(o, "unit", r->courier ? "parcel" : "order");
	jset_str(o, "warehouse_id", r->warehouse_id);
	jset_str(o, "order_id", r->order_id);
	jset_str(o, "courier", r->courier);
	jset_str(o, "tracking_number", r->tracking_number);
	jset_str(o, "status", r->status);
	for (unsigned bit = 1; bit <= SW_REPORT_OPEN_SLIP; bit <<= 1)
		if (r->why & bit)
			json_array_append_new(why, jstr(sw_store_report_why_name(bit)));
	json_object_set_new(o, "why", why);
	for (const char *p = r->open_slips, *e; p && *p; p = e ? e + 1 : "") {
		char *kind;

		e = strchr(p, ',');
		kind = e ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
		json_array_append_new(slips, jstr(kind));
		free(kind);
	}
	json_object_set_new(o, "open_slips", slips);
	json_object_set_new(o, "late_by_s",
			    r->deadline ? json_integer((json_int_t)(now - r->deadline))
					: json_null());
	json_object_set_new(o, "promised_delivery",
			    promise_json(r->promise_kind, r->promise_text, r->promised_delivery));
	jset_stamp(o, "promised_ship_by", r->promised_ship_by);
	jset_str(o, "eta_date", r->eta_date);
	jset_stamp(o, "last_event_at", r->last_event);
	return o;
}

static int late_json(const struct sw_report_late *rows, size_t n, int64_t total, int64_t now,
		     int64_t within)
{
	struct jlist l;
	char utc[TBUF];

	/* the head by hand (ASCII only), the units streamed */
	printf("{\"now\": \"%s\", \"within_s\": %" PRId64 ", \"total\": %" PRId64 ", \"units\": ",
	       fmt_utc(now, utc), within, total);
	jlist_begin(&l);
	for (size_t i = 0; i < n; i++)
		jlist_add(&l, late_json_row(&rows[i], now));
	return jlist_end(&l, "}\n");
}

static int cmd_late(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"warehouse", required_argument, NULL, 'w'},
	    {"courier", required_argument, NULL, 'C'},
	    {"within", required_argument, NULL, 'W'},
	    {"limit", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_report_late_query q = {.limit = DEFAULT_LIMIT};
	struct sw_report_late *rows;
	struct sw_store *st;
	bool json = false;
	int64_t total;
	size_t n;
	int c, status = parse_within("late", DEFAULT_WITHIN, &q.within_s);

	opts_begin();
	while (status == 0 && (c = next_opt("late", argc, argv, opts)) != -1) {
		if (c == 'w')
			status = nonempty_arg("late", "--warehouse", q.warehouse_id = optarg);
		else if (c == 'C')
			status = nonempty_arg("late", "--courier", q.courier = optarg);
		else if (c == 'W')
			status = parse_within("late", optarg, &q.within_s);
		else if (c == 'n')
			status = parse_limit("late", optarg, &q.limit);
		else if (c == 'j')
			json = true;
		else
			status = EXIT_USAGE;
	}
	if (status || (status = no_more_args("late", argc, argv)) ||
	    (status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	q.now = sw_clock_now();
	if (sw_store_report_late(st, &q, &rows, &n, &total) != SW_OK) {
		status = fail("%s", sw_store_errmsg(st));
	} else if (json) {
		status = late_json(rows, n, total, q.now, q.within_s);
	} else {
		late_text(rows, n, total, q.now, q.within_s);
	}
	sw_store_report_late_free(rows, n);
	sw_store_close(st);
	return status;
}

/* ---- order: one order's timeline ---------------------------------------- */

static const char *stage_of(const struct sw_order *o)
{
	return o->status == SW_STAGE_LAST ? NULL : sw_store_stage_name(o->status);
}

/* One "label  value" line of the order's header (skipped if v is NULL). */
static void kv(struct table *t, const char *label, const char *v)
{
	const char *cells[2] = {label, v};

	if (v)
		table_row(t, cells);
}

/* "TEXT (UTC)" for an instant promise (TEXT alone if already in UTC);
 * "DATE (end of day: WRITTEN (UTC))" for a date promise; NULL for none.
 * A new string. */
static char *promise_text(const struct sw_promise *pd)
{
	char both[BOTHBUF], utc[TBUF];

	if (pd->kind == SW_PROMISE_NONE)
		return NULL;
	if (pd->kind == SW_PROMISE_DATE)
		return xasprintf("%s (end of day: %s)", pd->text ? pd->text : "-",
				 fmt_both(pd->at, both));
	fmt_utc(pd->at.at, utc);
	if (pd->text && strcmp(pd->text, utc) == 0)
		return xstrdup(pd->text);
	return xasprintf("%s (%s)", pd->text ? pd->text : "-", utc);
}

static void order_text_head(const struct sw_order *o)
{
	char both[BOTHBUF];
	char *who, *dest = NULL, *promise = promise_text(&o->promised_delivery_by);
	struct table t;

	printf("order %s:%s  status %s\n", o->warehouse_id, o->order_id,
	       stage_of(o) ? stage_of(o) : "-");
	table_init(&t, 2);
	who = xasprintf("%s <%s>, %s, %s", o->customer_name ? o->customer_name : "-",
			o->customer_email ? o->customer_email : "-",
			o->customer_locale ? o->customer_locale : "-",
			o->customer_timezone ? o->customer_timezone : "-");
	kv(&t, "customer", who);
	kv(&t, "phone", o->customer_phone);
	kv(&t, "notify by", o->customer_channel);
	kv(&t, "service level", o->service_level);
	if (o->dest_country || o->dest_postal_code || o->dest_city)
		dest = xasprintf("%s %s %s", o->dest_country ? o->dest_country : "-",
				 o->dest_postal_code ? o->dest_postal_code : "-",
				 o->dest_city ? o->dest_city : "-");
	kv(&t, "destination", dest);
	kv(&t, "ship by", o->promised_ship_by.at ? fmt_both(o->promised_ship_by, both) : NULL);
	kv(&t, "delivery by", promise);
	for (int s = 0; s < SW_STAGE_LAST; s++)
		if (o->stage[s].at)
			kv(&t, sw_store_stage_name((enum sw_stage)s), fmt_both(o->stage[s], both));
	table_print(&t, "  ");
	free(who);
	free(dest);
	free(promise);
}

static void parcels_text(struct sw_parcel *const *ps, size_t n)
{
	static const char *const head[] = {"COURIER", "TRACKING",   "STATUS", "COURIER SAYS",
					   "SHIPPED", "LAST EVENT", "ETA",    "DELIVERED"};
	char shipped[TBUF], last[TBUF], deliv[TBUF];
	struct table t;

	printf("\nparcels: %zu\n", n);
	if (n == 0)
		return;
	table_init(&t, 8);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		const struct sw_parcel *p = ps[i];
		char *raw = xasprintf("%s %s", p->raw_code ? p->raw_code : "-",
				      p->raw_text ? p->raw_text : "");
		const char *cells[8] = {p->courier,
					p->tracking_number,
					sw_store_ship_status_name(p->status),
					raw,
					fmt_written(p->shipped_at, shipped),
					fmt_written(p->last_event_at, last),
					p->eta_date,
					fmt_written(p->delivered_at, deliv)};

		table_row(&t, cells);
		free(raw);
	}
	table_print(&t, "  ");
}

static void events_text(const struct sw_report_event *ev, size_t n)
{
	static const char *const head[] = {"OCCURRED (AS WRITTEN)",
					   "OCCURRED (UTC)",
					   "SEQ",
					   "KIND",
					   "SOURCE",
					   "EVENT ID",
					   "PARCEL"};
	char written[TBUF], utc[TBUF], seq[24];
	struct table t;

	printf("\nevents: %zu\n", n);
	if (n == 0)
		return;
	table_init(&t, 7);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		char *parcel = ev[i].tracking_number
				   ? xasprintf("%s:%s", ev[i].courier ? ev[i].courier : "-",
					       ev[i].tracking_number)
				   : NULL;
		const char *cells[7] = {fmt_written(ev[i].occurred_at, written),
					fmt_utc(ev[i].occurred_at.at, utc),
					seq,
					ev[i].kind,
					ev[i].source,
					ev[i].source_event_id,
					parcel};

		snprintf(seq, sizeof(seq), "%" PRId64, ev[i].seq);
		table_row(&t, cells);
		free(parcel);
	}
	table_print(&t, "  ");
}

static void alerts_table(const struct sw_report_alert *a, size_t n, const char *indent)
{
	static const char *const head[] = {"ID",      "DETECTED (UTC)", "ENTITY",	 "SLIP",
					   "PROMISE", "STAGE",		"RESOLVED (UTC)"};
	char id[24], det[TBUF], res[TBUF], stage[64];
	struct table t;

	table_init(&t, 7);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		const char *cells[7] = {
		    id,	   fmt_utc(a[i].detected_at, det), a[i].entity, a[i].kind, a[i].promise,
		    stage, fmt_utc(a[i].resolved_at, res)};

		snprintf(id, sizeof(id), "%" PRId64, a[i].id);
		/* "line_haul 2.4x p90": the stage that ran over and how far */
		sw_stage_with_ratio(a[i].stage, a[i].stage_ratio, stage, sizeof(stage));
		table_row(&t, cells);
	}
	table_print(&t, indent);
}

static void outbox_table(const struct sw_report_outbox *m, size_t n, const char *indent)
{
	static const char *const head[] = {
	    "ID",      "CREATED (UTC)", "STATE",	"ATTEMPTS", "ENTITY",	 "SLIP",
	    "CHANNEL", "RECIPIENT",	"NEXT ATTEMPT", "SENT",	    "LAST ERROR"};
	char id[24], tries[16], created[TBUF], next[TBUF], sent[TBUF];
	struct table t;

	table_init(&t, 11);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		/* next_attempt_at means nothing once a row is final */
		bool waiting =
		    m[i].sent_at == 0 && m[i].state &&
		    (strcmp(m[i].state, "queued") == 0 || strcmp(m[i].state, "deferred") == 0 ||
		     strcmp(m[i].state, "sending") == 0);
		const char *cells[11] = {id,
					 fmt_utc(m[i].created_at, created),
					 m[i].state,
					 tries,
					 m[i].entity,
					 m[i].slip_kind,
					 m[i].channel,
					 m[i].recipient,
					 waiting ? fmt_utc(m[i].next_attempt_at, next) : "-",
					 fmt_utc(m[i].sent_at, sent),
					 m[i].last_error};

		snprintf(id, sizeof(id), "%" PRId64, m[i].id);
		snprintf(tries, sizeof(tries), "%d", m[i].attempts);
		table_row(&t, cells);
	}
	table_print(&t, indent);
}

/* ---- the stages of an order's parcels against their lanes' p90 -------------- */

/* The baselines (the default window and sample floor of [alerts]), read
 * once per command; a failure leaves them empty and says so. */
static struct sw_stage_table *stage_table(struct sw_store *st, int64_t now)
{
	struct sw_stage_table *t = sw_stage_new();

	if (sw_stage_refresh(t, st, now, SW_STAGE_DEFAULT_DAYS, SW_STAGE_DEFAULT_SAMPLES, true))
		fprintf(stderr, "slipwatch: stage baselines: %s\n", sw_store_errmsg(st));
	return t;
}

/* The verdict of the timeline's unit i: parcel i, or the order alone. */
static void timeline_verdict(const struct sw_report_timeline *t, size_t i,
			     const struct sw_stage_table *tbl, struct sw_store *st, int64_t now,
			     struct sw_stage_verdict *v)
{
	sw_stage_judge_unit(tbl, st, t->order, t->n_parcels ? t->parcels[i] : NULL, now, v);
}

static void stages_text(const struct sw_report_timeline *t, const struct sw_stage_table *tbl,
			struct sw_store *st, int64_t now)
{
	static const char *const head[] = {"PARCEL",   "STAGE", "TOOK",
					   "LANE P90", "RATIO", "BASELINE"};
	char took[TBUF + 16], sp[TBUF], p90[TBUF], ratio[24], line[320];
	size_t units = t->n_parcels ? t->n_parcels : 1;
	struct table tb;

	printf("\nstages:\n");
	table_init(&tb, 6);
	table_row(&tb, head);
	for (size_t i = 0; i < units; i++) {
		struct sw_stage_verdict v;

		timeline_verdict(t, i, tbl, st, now, &v);
		for (int k = 0; k < SW_LEG_LAST; k++) {
			const struct sw_stage_leg *l = &v.leg[k];
			const char *cells[6] = {t->n_parcels ? t->parcels[i]->tracking_number : "-",
						sw_leg_name((enum sw_leg)k),
						took,
						l->scope ? p90 : "-",
						l->scope ? ratio : "-",
						l->scope ? l->scope : "none"};

			if (!l->start)
				continue;
			snprintf(took, sizeof(took), "%s%s", fmt_span(l->end - l->start, sp),
				 l->running ? " so far" : "");
			fmt_span(l->p90_s, p90);
			snprintf(ratio, sizeof(ratio), "%.1fx", l->ratio);
			table_row(&tb, cells);
		}
		sw_stage_describe(&v, line, sizeof(line));
		printf("  %s\n", line);
	}
	table_print(&tb, "  ");
}

static json_t *stages_json(const struct sw_stage_verdict *v)
{
	json_t *j = json_object(), *legs = json_object();

	jset_str(j, "stage_over", v->over >= 0 ? sw_leg_name((enum sw_leg)v->over) : NULL);
	json_object_set_new(j, "stage_ratio", v->over >= 0 ? json_real(v->ratio) : json_null());
	jset_str(j, "lane", v->lane);
	for (int k = 0; k < SW_LEG_LAST; k++) {
		const struct sw_stage_leg *l = &v->leg[k];
		json_t *o;

		if (!l->start)
			continue;
		o = json_object();
		jset_int(o, "seconds", l->end - l->start);
		json_object_set_new(o, "running", json_boolean(l->running));
		json_object_set_new(o, "p90_s", l->scope ? json_integer(l->p90_s) : json_null());
		json_object_set_new(o, "ratio", l->scope ? json_real(l->ratio) : json_null());
		jset_str(o, "baseline", l->scope);
		json_object_set_new(o, "samples", json_integer(l->samples));
		json_object_set_new(legs, sw_leg_name((enum sw_leg)k), o);
	}
	json_object_set_new(j, "legs", legs);
	return j;
}

static void timeline_text(const struct sw_report_timeline *t, const struct sw_stage_table *tbl,
			  struct sw_store *st, int64_t now)
{
	order_text_head(t->order);
	parcels_text(t->parcels, t->n_parcels);
	stages_text(t, tbl, st, now);
	events_text(t->events, t->n_events);
	printf("\nalerts: %zu\n", t->n_alerts);
	if (t->n_alerts)
		alerts_table(t->alerts, t->n_alerts, "  ");
	printf("\noutbox: %zu\n", t->n_outbox);
	if (t->n_outbox)
		outbox_table(t->outbox, t->n_outbox, "  ");
}

static json_t *order_json(const struct sw_order *o)
{
	json_t *j = json_object(), *c = json_object(), *d = json_object(), *p;
	json_t *stages = json_object();

	jset_str(j, "warehouse_id", o->warehouse_id);
	jset_str(j, "order_id", o->order_id);
	jset_str(j, "status", stage_of(o));
	jset_str(c, "name", o->customer_name);
	jset_str(c, "email", o->customer_email);
	jset_str(c, "locale", o->customer_locale);
	jset_str(c, "timezone", o->customer_timezone);
	jset_str(c, "phone", o->customer_phone);
	jset_str(c, "notify", o->customer_channel);
	json_object_set_new(j, "customer", c);
	jset_str(j, "service_level", o->service_level);
	jset_str(d, "country", o->dest_country);
	jset_str(d, "postal_code", o->dest_postal_code);
	jset_str(d, "city", o->dest_city);
	json_object_set_new(j, "destination", d);
	jset_stamp(j, "promised_ship_by", o->promised_ship_by);
	p = promise_json(o->promised_delivery_by.kind == SW_PROMISE_NONE
			     ? NULL
			     : sw_store_promise_kind_name(o->promised_delivery_by.kind),
			 o->promised_delivery_by.text, o->promised_delivery_by.at);
	json_object_set_new(j, "promised_delivery", p);
	for (int s = 0; s < SW_STAGE_LAST; s++)
		jset_stamp(stages, sw_store_stage_name((enum sw_stage)s), o->stage[s]);
	json_object_set_new(j, "stages", stages);
	return j;
}

static json_t *parcel_json(const struct sw_parcel *p)
{
	json_t *j = json_object();

	jset_str(j, "courier", p->courier);
	jset_str(j, "tracking_number", p->tracking_number);
	jset_str(j, "status", sw_store_ship_status_name(p->status));
	jset_str(j, "raw_code", p->raw_code);
	jset_str(j, "raw_text", p->raw_text);
	jset_stamp(j, "shipped_at", p->shipped_at);
	jset_stamp(j, "first_scan_at", p->first_scan_at);
	jset_stamp(j, "last_event_at", p->last_event_at);
	jset_str(j, "eta_date", p->eta_date);
	jset_stamp(j, "delivered_at", p->delivered_at);
	return j;
}

static json_t *event_json(const struct sw_report_event *e)
{
	json_t *j = json_object(), *payload = NULL;

	jset_int(j, "seq", e->seq);
	jset_str(j, "kind", e->kind);
	jset_str(j, "source", e->source);
	jset_str(j, "source_event_id", e->source_event_id);
	jset_str(j, "warehouse_id", e->warehouse_id);
	jset_str(j, "order_id", e->order_id);
	jset_str(j, "courier", e->courier);
	jset_str(j, "tracking_number", e->tracking_number);
	jset_stamp(j, "occurred_at", e->occurred_at);
	jset_utc(j, "received_at", e->received_at);
	/* the payload as JSON when it is (it was when the collector took it) */
	if (e->payload)
		payload = json_loads(e->payload, JSON_DECODE_ANY, NULL);
	json_object_set_new(j, "payload", payload ? payload : jstr(e->payload));
	return j;
}

static json_t *alert_json(const struct sw_report_alert *a)
{
	json_t *j = json_object();

	jset_int(j, "id", a->id);
	jset_str(j, "entity", a->entity);
	jset_str(j, "slip_kind", a->kind); /* the alerts table's "kind" */
	jset_str(j, "promise", a->promise);
	jset_str(j, "stage", a->stage);
	json_object_set_new(j, "stage_ratio",
			    a->stage_ratio > 0 ? json_real(a->stage_ratio) : json_null());
	jset_utc(j, "detected_at", a->detected_at);
	jset_utc(j, "resolved_at", a->resolved_at);
	return j;
}

static int timeline_json(const struct sw_report_timeline *t, const struct sw_stage_table *tbl,
			 struct sw_store *st, int64_t now)
{
	json_t *o = json_object(), *a, *j;
	struct sw_stage_verdict v;

	json_object_set_new(o, "order", j = order_json(t->order));
	if (!t->n_parcels) {
		timeline_verdict(t, 0, tbl, st, now, &v);
		json_object_set_new(j, "stages", stages_json(&v));
	}
	a = json_array();
	for (size_t i = 0; i < t->n_parcels; i++) {
		json_array_append_new(a, j = parcel_json(t->parcels[i]));
		timeline_verdict(t, i, tbl, st, now, &v);
		json_object_set_new(j, "stages", stages_json(&v));
	}
	json_object_set_new(o, "parcels", a);
	a = json_array();
	for (size_t i = 0; i < t->n_events; i++)
		json_array_append_new(a, event_json(&t->events[i]));
	json_object_set_new(o, "events", a);
	a = json_array();
	for (size_t i = 0; i < t->n_alerts; i++)
		json_array_append_new(a, alert_json(&t->alerts[i]));
	json_object_set_new(o, "alerts", a);
	a = json_array();
	for (size_t i = 0; i < t->n_outbox; i++)
		json_array_append_new(a, cli_outbox_json(&t->outbox[i]));
	json_object_set_new(o, "outbox", a);
	return json_print(o);
}

static int cmd_order(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_report_timeline *t = NULL;
	struct sw_stage_table *tbl = NULL;
	int64_t now = sw_clock_now();
	struct sw_store *st;
	bool json = false;
	enum sw_err rc;
	int c, status = 0;

	opts_begin();
	while ((c = next_opt("order", argc, argv, opts)) != -1) {
		if (c != 'j')
			return EXIT_USAGE;
		json = true;
	}
	if (argc - optind < 2)
		return usage_err("order", "missing %s (want: order WAREHOUSE ORDER_ID)",
				 argc - optind == 0 ? "WAREHOUSE and ORDER_ID" : "ORDER_ID");
	if (argc - optind > 2)
		return usage_err("order", "unexpected argument '%s'", argv[optind + 2]);
	if (!*argv[optind] || !*argv[optind + 1])
		return usage_err("order", "WAREHOUSE and ORDER_ID may not be empty");
	if ((status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	rc = sw_store_report_timeline(st, argv[optind], argv[optind + 1], &t);
	if (rc == SW_OK)
		tbl = stage_table(st, now);
	if (rc != SW_OK)
		status = fail("%s", sw_store_errmsg(st));
	else if (json)
		status = timeline_json(t, tbl, st, now);
	else
		timeline_text(t, tbl, st, now);
	sw_stage_free(tbl);
	sw_store_report_timeline_free(t);
	sw_store_close(st);
	return status;
}

/* ---- outbox and alerts ----------------------------------------------------- */

static int cmd_outbox(const struct cli *cli, int argc, char **argv)
{
	/* clang-format off */
	static const struct option opts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"kind", required_argument, NULL, 'k'},
	    {"to", required_argument, NULL, 't'},
	    {"limit", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	/* clang-format on */
	struct sw_report_outbox_query q = {.limit = DEFAULT_LIMIT};
	struct sw_report_outbox *rows;
	struct sw_store *st;
	bool json = false;
	size_t n;
	int c, status = 0;

	opts_begin();
	while (status == 0 && (c = next_opt("outbox", argc, argv, opts)) != -1) {
		if (c == 's')
			status = choice_arg("outbox", "--state", &outbox_states, q.state = optarg);
		else if (c == 'k')
			status =
			    choice_arg("outbox", "--kind", &outbox_kinds, q.slip_kind = optarg);
		else if (c == 't')
			status = nonempty_arg("outbox", "--to", q.recipient = optarg);
		else if (c == 'n')
			status = parse_limit("outbox", optarg, &q.limit);
		else if (c == 'j')
			json = true;
		else
			status = EXIT_USAGE;
	}
	if (status || (status = no_more_args("outbox", argc, argv)) ||
	    (status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	if (sw_store_report_outbox(st, &q, &rows, &n) != SW_OK) {
		status = fail("%s", sw_store_errmsg(st));
	} else if (json) {
		struct jlist l;

		jlist_named(&l, "outbox");
		for (size_t i = 0; i < n; i++)
			jlist_add(&l, cli_outbox_json(&rows[i]));
		status = jlist_end(&l, "}\n");
	} else if (n == 0) {
		printf("no outbox rows match\n");
	} else {
		outbox_table(rows, n, "");
	}
	sw_store_report_outbox_free(rows, n);
	sw_store_close(st);
	return status;
}

static int cmd_alerts(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"kind", required_argument, NULL, 'k'},
	    {"limit", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_report_alerts_query q = {.open_only = true, .limit = DEFAULT_LIMIT};
	struct sw_report_alert *rows;
	struct sw_store *st;
	bool json = false;
	size_t n;
	int c, status = 0;

	opts_begin();
	while (status == 0 && (c = next_opt("alerts", argc, argv, opts)) != -1) {
		if (c == 'a')
			q.open_only = false;
		else if (c == 'k')
			status = choice_arg("alerts", "--kind", &slip_kinds, q.kind = optarg);
		else if (c == 'n')
			status = parse_limit("alerts", optarg, &q.limit);
		else if (c == 'j')
			json = true;
		else
			status = EXIT_USAGE;
	}
	if (status || (status = no_more_args("alerts", argc, argv)) ||
	    (status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	if (sw_store_report_alerts(st, &q, &rows, &n) != SW_OK) {
		status = fail("%s", sw_store_errmsg(st));
	} else if (json) {
		struct jlist l;

		jlist_named(&l, "alerts");
		for (size_t i = 0; i < n; i++)
			jlist_add(&l, alert_json(&rows[i]));
		status = jlist_end(&l, "}\n");
	} else if (n == 0) {
		printf("no %salerts match\n", q.open_only ? "open " : "");
	} else {
		alerts_table(rows, n, "");
	}
	sw_store_report_alerts_free(rows, n);
	sw_store_close(st);
	return status;
}

/* ---- unsubscribe ------------------------------------------------------------- */

static int unsub_list(struct sw_store *st, bool json)
{
	static const char *const head[] = {"EMAIL", "ADDED (UTC)", "REASON"};
	struct sw_unsub *list;
	char added[TBUF];
	struct table t;
	size_t n;
	int status = 0;

	if (sw_store_unsub_list(st, &list, &n) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	if (json) {
		struct jlist l;

		jlist_named(&l, "unsubscribes");
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_object();

			jset_str(o, "email", list[i].email);
			jset_utc(o, "added_at", list[i].added_at);
			jset_str(o, "reason", list[i].reason);
			jlist_add(&l, o);
		}
		status = jlist_end(&l, "}\n");
	} else if (n == 0) {
		printf("nobody is unsubscribed\n");
	} else {
		table_init(&t, 3);
		table_row(&t, head);
		for (size_t i = 0; i < n; i++) {
			const char *cells[3] = {list[i].email, fmt_utc(list[i].added_at, added),
						list[i].reason};

			table_row(&t, cells);
		}
		table_print(&t, "");
	}
	sw_store_unsub_free(list, n);
	return status;
}

/* add (reason may be NULL) or remove addr. */
static int unsub_change(struct sw_store *st, bool add, const char *addr, const char *reason)
{
	enum sw_err rc =
	    add ? sw_store_unsub_add(st, addr, reason) : sw_store_unsub_remove(st, addr);
	char *shown = clean(addr, NULL);
	int status = 0;

	if (rc == SW_OK)
		printf("%s %s\n", shown, add ? "is unsubscribed" : "is subscribed again");
	else if (rc == SW_EDUP)
		printf("%s was already unsubscribed\n", shown);
	else if (rc == SW_ENOTFOUND)
		status = fail("%s is not on the unsubscribe list (nothing changed)", shown);
	else
		status = fail("%s", sw_store_errmsg(st));
	free(shown);
	return status;
}

/* Parses "unsubscribe add|remove|list ..." into its parts.  0 or
 * EXIT_USAGE (printed). */
static int unsub_args(int argc, char **argv, const char **ret_verb, const char **ret_addr,
		      const char **ret_reason, bool *ret_json)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	const char *problem;
	int c, want;

	opts_begin();
	while ((c = next_opt("unsubscribe", argc, argv, opts)) != -1) {
		if (c == 'r')
			*ret_reason = optarg;
		else if (c == 'j')
			*ret_json = true;
		else
			return EXIT_USAGE;
	}
	if (optind >= argc)
		return usage_err("unsubscribe", "missing add, remove or list");
	*ret_verb = argv[optind];
	if (strcmp(*ret_verb, "list") != 0 && strcmp(*ret_verb, "add") != 0 &&
	    strcmp(*ret_verb, "remove") != 0)
		return usage_err("unsubscribe", "unknown action '%s' (want add, remove or list)",
				 *ret_verb);
	want = strcmp(*ret_verb, "list") == 0 ? 1 : 2;
	if (argc - optind < want)
		return usage_err("unsubscribe", "%s: missing the address", *ret_verb);
	if (argc - optind > want)
		return usage_err("unsubscribe", "%s: unexpected argument '%s'", *ret_verb,
				 argv[optind + want]);
	if (*ret_reason && strcmp(*ret_verb, "add") != 0)
		return usage_err("unsubscribe", "--reason goes with add only");
	if (*ret_json && strcmp(*ret_verb, "list") != 0)
		return usage_err("unsubscribe", "--json goes with list only");
	if (want == 2 && (problem = addr_problem(*ret_addr = argv[optind + 1])))
		return usage_err("unsubscribe", "%s: not a plain address (%s)", *ret_verb, problem);
	for (const char *p = *ret_reason; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return usage_err("unsubscribe",
					 "--reason: control characters are not allowed");
	if (*ret_reason && strlen(*ret_reason) > MAX_REASON)
		return usage_err("unsubscribe", "--reason: at most %d bytes", MAX_REASON);
	return 0;
}

static int cmd_unsubscribe(const struct cli *cli, int argc, char **argv)
{
	const char *verb = NULL, *addr = NULL, *reason = NULL;
	struct sw_store *st;
	bool json = false, list;
	int status = unsub_args(argc, argv, &verb, &addr, &reason, &json);

	if (status)
		return status;
	list = strcmp(verb, "list") == 0;
	if ((status = open_store(cli, list ? SW_STORE_RDONLY : SW_STORE_NOCREATE, &st)))
		return status;
	if (list)
		status = unsub_list(st, json);
	else
		status = unsub_change(st, strcmp(verb, "add") == 0, addr, reason);
	sw_store_close(st);
	return status;
}

/* ---- help and main --------------------------------------------------------- */

static int cmd_help(const struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc > 1 && !find_command(argv[1]))
		return usage_err("help", "unknown command '%s'", argv[1]);
	usage(stdout);
	return 0;
}

static const struct command commands[] = {
    {"late", "late [--warehouse W] [--courier C] [--within DURATION] [--limit N] [--json]",
     cmd_late},
    {"order", "order WAREHOUSE ORDER_ID [--json]", cmd_order},
    {"outbox", "outbox [--state S] [--kind K] [--to ADDR] [--limit N] [--json]", cmd_outbox},
    {"alerts", "alerts [--all] [--kind K] [--limit N] [--json]", cmd_alerts},
    {"report",
     "report [--by none|warehouse|courier|service|lane|region] [--period day|week|month]\n"
     "      [--from DATE] [--to DATE] [--zone ZONE] [--target PCT] [--json | --csv]",
     cmd_report},
    {"unsubscribe",
     "unsubscribe add ADDR [--reason TEXT]\n"
     "  unsubscribe remove ADDR\n"
     "  unsubscribe list [--json]",
     cmd_unsubscribe},
    {"pages",
     "pages [--all] [--state S] [--json]\n"
     "  pages --members ID [--json]",
     cmd_pages},
    {"ack", "ack ID [--by WHO] [--comment TEXT]", cmd_ack},
    {"silence",
     "silence add MATCHERS (--duration D | --until TIME) [--start TIME]\n"
     "      --comment TEXT [--by WHO] [--json]\n"
     "  silence list [--all] [--json]\n"
     "  silence expire ID",
     cmd_silence},
    {"replay", "replay --from TIME --to TIME [--config FILE] [--json]", cmd_replay},
    {"engine", "engine [--json]", cmd_engine},
    {"help", "help", cmd_help},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: slipwatch [-c FILE] [--store PATH] COMMAND [ARGS]\n"
		     "       slipwatch -h | --version\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].synopsis);
	fprintf(out,
		"Options:\n"
		"  -c, --config FILE  configuration file (default %s);\n"
		"                     its [store] path names the store\n"
		"      --store PATH   the store to read (without -c, no configuration is read)\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"late reports parcels and unshipped orders whose promise has passed, and those\n"
		"at risk: due within --within (default %s), courier ETA after the promise,\n"
		"or an open slip.  --limit defaults to %d.  report gives the on-time rate of\n"
		"the orders promised in [--from, --to) (default: the last 14 days, 8 weeks or\n"
		"6 months to today in --zone, default UTC); see doc/promise-report.md.\n"
		"engine says which alert engine of the store is active (its lease).\n"
		"Exit status: 0 done, 1 failed, 2 usage error.  See slipwatch(1).\n",
		sw_daemon_default_conf(), DEFAULT_WITHIN, DEFAULT_LIMIT);
}

/* The global options; *ret_first is the index of the command.  -1 to go
 * on, else the exit status. */
static int global_opts(int argc, char **argv, struct cli *cli, int *ret_first)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"store", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
		if (c == 'c' || c == 'S') {
			if (!*optarg)
				return usage_err(NULL, "%s: an empty file name is not a file",
						 c == 'c' ? "-c" : "--store");
			if (c == 'c')
				cli->conf_path = optarg, cli->conf_given = true;
			else
				cli->store_opt = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else if (c == 'V') {
			printf("slipwatch %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			return bad_option(NULL, c, argv, opts);
		}
	}
	*ret_first = optind;
	return -1;
}

int main(int argc, char **argv)
{
	struct cli cli = {.conf_path = sw_daemon_default_conf()};
	const struct command *cmd;
	int first = 0, status;

	if ((status = global_opts(argc, argv, &cli, &first)) != -1)
		return status;
	if (first >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!(cmd = find_command(argv[first])))
		return usage_err(NULL, "unknown command '%s'", argv[first]);
	if ((status = cli_clock(&cli)))
		return status;
	return cmd->run(&cli, argc - first, argv + first);
}
