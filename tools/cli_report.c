/*
 * cli_report.c - `slipwatch report`: the promise report (on-time rate,
 * reasons for the lates, the couriers' ETA accuracy) per warehouse,
 * courier, service level, lane or region, by day, week or month, as a
 * table, one JSON object or RFC 4180 CSV.  The definition of "on time" is
 * lib/store_promise.h's (doc/promise-report.md).
 *
 * Design:
 * - The store is opened read-only and read once through
 *   lib/store_promise.h; this file parses the arguments, picks the default
 *   range and prints.
 * - Dates are calendar days in --zone (default UTC: the CLI never takes
 *   the process's zone, as lib/swtime); the range is [--from, --to), and
 *   without them it ends with today and covers 14 days, 8 weeks or 6
 *   months, whole weeks and months.
 * - Only cells with something in them are printed; the period totals
 *   ("all") and the range's total follow.  A cell below --target carries
 *   the word "below" (text), "below_target": true (JSON), a column (CSV).
 * - Text from the store (warehouse ids, courier names, service levels,
 *   destinations) is cleaned for the terminal in the table and in CSV
 *   (control characters become '?'); CSV quotes a value holding a comma or
 *   a double quote (doubled) and ends lines with CRLF (RFC 4180).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/clock.h"
#include "lib/store.h"
#include "lib/store_promise.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tools/cli.h"
#include "tools/cli_report.h"

#define CMD "report"

enum output { OUT_TEXT, OUT_JSON, OUT_CSV };

struct report_args {
	enum sw_promise_by by;
	enum sw_promise_period period;
	const char *from, *to; /* as given, or NULL */
	const char *zone;
	double target;
	enum output out;
	struct sw_promise_query q;
};

/* ---- arguments -------------------------------------------------------------- */

static int parse_by(const char *arg, enum sw_promise_by *ret)
{
	char *shown;
	int status;

	if (sw_promise_by_parse(arg, ret) == SW_OK)
		return 0;
	shown = clean(arg, NULL);
	status = usage_err(CMD,
			   "--by: '%s' is not one of none, warehouse, courier, service, "
			   "lane, region",
			   shown);
	free(shown);
	return status;
}

static int parse_period(const char *arg, enum sw_promise_period *ret)
{
	char *shown;
	int status;

	if (sw_promise_period_parse(arg, ret) == SW_OK)
		return 0;
	shown = clean(arg, NULL);
	status = usage_err(CMD, "--period: '%s' is not one of day, week, month", shown);
	free(shown);
	return status;
}

static int parse_target(const char *arg, double *ret)
{
	char *end, *shown;
	int status;

	errno = 0;
	*ret = strtod(arg, &end);
	if (arg[0] && !*end && !errno && isfinite(*ret) && *ret >= 0 && *ret <= 100 &&
	    ((arg[0] >= '0' && arg[0] <= '9') || arg[0] == '.'))
		return 0;
	shown = clean(arg, NULL);
	status = usage_err(CMD, "--target: '%s' is not a percentage from 0 to 100", shown);
	free(shown);
	return status;
}

static int parse_date(const char *opt, const char *arg, struct sw_date *ret)
{
	char why[128], *shown;
	int status;

	if (sw_date_parse(arg, ret, why, sizeof(why)) == SW_OK)
		return 0;
	shown = clean(arg, NULL);
	status = usage_err(CMD, "%s: '%s' is not a date YYYY-MM-DD (%s)", opt, shown, why);
	free(shown);
	return status;
}

static int check_zone(const char *zone)
{
	enum sw_err rc = sw_tz_check(zone);
	char *shown;
	int status;

	if (rc == SW_OK)
		return 0;
	shown = clean(zone, NULL);
	if (rc == SW_ENOTFOUND || rc == SW_EINVAL)
		status = usage_err(CMD,
				   "--zone: '%s' is not a known IANA time zone "
				   "(e.g. Asia/Kolkata)",
				   shown);
	else
		status = fail("%s: time zone '%s': %s", CMD, shown, sw_strerror(rc));
	free(shown);
	return status;
}

/* The default range: ends with today in the zone; 14 days, the 8 weeks
 * or the 6 months that end with the current one. */
static void default_range(struct report_args *a, int64_t now, bool have_from, bool have_to)
{
	struct sw_tz_local local;
	struct sw_date last, start;

	if (!have_to) {
		if (sw_tz_utc_to_local(a->zone, now, &local) != SW_OK)
			local.date = (struct sw_date){1970, 1, 1};
		sw_date_add_days(&local.date, 1, &a->q.to);
	}
	if (have_from)
		return;
	sw_date_add_days(&a->q.to, -1, &last);
	sw_promise_period_start(a->period, &last, &start);
	if (a->period == SW_PROMISE_DAY) {
		sw_date_add_days(&a->q.to, -14, &a->q.from);
	} else if (a->period == SW_PROMISE_WEEK) {
		sw_date_add_days(&start, -7 * 7, &a->q.from);
	} else {
		start.month -= 5;
		if (start.month < 1) {
			start.month += 12;
			start.year--;
		}
		a->q.from = start;
	}
}

static int range_check(const struct report_args *a)
{
	char f[SW_DATE_STRLEN], t[SW_DATE_STRLEN];
	int64_t days = sw_date_to_days(&a->q.to) - sw_date_to_days(&a->q.from);

	sw_date_format(&a->q.from, f, sizeof(f));
	sw_date_format(&a->q.to, t, sizeof(t));
	if (days <= 0)
		return usage_err(CMD, "--to %s must be after --from %s (the range is [from, to))",
				 t, f);
	if (days > SW_PROMISE_MAX_DAYS)
		return usage_err(CMD, "%s to %s is %" PRId64 " days; at most %d", f, t, days,
				 SW_PROMISE_MAX_DAYS);
	return 0;
}

static int parse_args(int argc, char **argv, struct report_args *a)
{
	static const struct option opts[] = {
	    {"by", required_argument, NULL, 'b'},
	    {"period", required_argument, NULL, 'p'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"zone", required_argument, NULL, 'z'},
	    {"target", required_argument, NULL, 'T'},
	    {"json", no_argument, NULL, 'j'},
	    {"csv", no_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false, csv = false;
	int c, status = 0;

	opts_begin();
	while (status == 0 && (c = next_opt(CMD, argc, argv, opts)) != -1) {
		if (c == 'b')
			status = parse_by(optarg, &a->by);
		else if (c == 'p')
			status = parse_period(optarg, &a->period);
		else if (c == 'f')
			status = parse_date("--from", a->from = optarg, &a->q.from);
		else if (c == 't')
			status = parse_date("--to", a->to = optarg, &a->q.to);
		else if (c == 'z')
			status = nonempty_arg(CMD, "--zone", a->zone = optarg);
		else if (c == 'T')
			status = parse_target(optarg, &a->target);
		else if (c == 'j')
			json = true;
		else if (c == 'C')
			csv = true;
		else
			status = EXIT_USAGE;
	}
	if (status || (status = no_more_args(CMD, argc, argv)))
		return status;
	if (json && csv)
		return usage_err(CMD, "--json and --csv do not go together");
	a->out = json ? OUT_JSON : csv ? OUT_CSV : OUT_TEXT;
	if ((status = check_zone(a->zone)))
		return status;
	a->q.zone = a->zone;
	a->q.now = sw_clock_now();
	default_range(a, a->q.now, a->from != NULL, a->to != NULL);
	return range_check(a);
}

/* ---- shared by the outputs ------------------------------------------------------- */

/* The rows to print, in order: used cells by key then period, then the
 * period totals (not for --by none: they are its cells), then the total. */
enum row_kind { ROW_CELL, ROW_PERIOD_TOTAL, ROW_TOTAL };

typedef void (*row_fn)(const struct sw_promise_report *r, enum row_kind kind, const char *key,
		       const char *period, const struct sw_date *start,
		       const struct sw_promise_cell *c, void *arg);

static void each_row(const struct sw_promise_report *r, row_fn fn, void *arg)
{
	char label[SW_PROMISE_LABEL_LEN];

	for (size_t k = 0; k < r->n_keys; k++)
		for (size_t p = 0; p < r->n_periods; p++) {
			const struct sw_promise_cell *c = sw_promise_cell_at(r, k, p);

			if (!sw_promise_cell_used(c))
				continue;
			sw_promise_period_label(r->period, &r->periods[p], label, sizeof(label));
			fn(r, ROW_CELL, r->keys[k], label, &r->periods[p], c, arg);
		}
	for (size_t p = 0; r->by != SW_PROMISE_BY_NONE && p < r->n_periods; p++) {
		if (!sw_promise_cell_used(&r->totals[p]))
			continue;
		sw_promise_period_label(r->period, &r->periods[p], label, sizeof(label));
		fn(r, ROW_PERIOD_TOTAL, NULL, label, &r->periods[p], &r->totals[p], arg);
	}
	fn(r, ROW_TOTAL, NULL, NULL, NULL, &r->total, arg);
}

/* ---- text ------------------------------------------------------------------------ */

#define TEXT_COLS 18

static void num(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%" PRId64, v);
}

static void pct(char *buf, size_t len, double v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", v);
}

/* How early a miss became known: "2d00h before", "1h00m after". */
static void lead(char *buf, int64_t warned, int64_t median_s)
{
	char span[TBUF];

	if (!warned)
		snprintf(buf, TBUF, "-");
	else
		snprintf(buf, TBUF, "%s %s", fmt_span(median_s, span),
			 median_s >= 0 ? "before" : "after");
}

static void text_row(const struct sw_promise_report *r, enum row_kind kind, const char *key,
		     const char *period, const struct sw_date *start,
		     const struct sw_promise_cell *c, void *arg)
{
	char v[TEXT_COLS][TBUF];
	const char *cells[TEXT_COLS];

	(void)start;
	if (kind != ROW_CELL || r->by == SW_PROMISE_BY_NONE)
		cells[0] = "(all)";
	else
		cells[0] = key[0] ? key : "(none)";
	cells[1] = period ? period : "(range)";
	num(v[2], TBUF, c->judged);
	num(v[3], TBUF, c->on_time);
	num(v[4], TBUF, c->late);
	pct(v[5], TBUF, c->rate);
	snprintf(v[6], TBUF, "%s", c->below ? "below" : "");
	num(v[7], TBUF, c->pending);
	for (int i = 0; i < SW_REASON_LAST; i++)
		num(v[8 + i], TBUF, c->reason[i]);
	pct(v[14], TBUF, c->eta_rate);
	if (c->eta_error_days < 0)
		snprintf(v[15], TBUF, "-");
	else
		snprintf(v[15], TBUF, "%.2f", c->eta_error_days);
	num(v[16], TBUF, c->warned);
	lead(v[17], c->warned, c->warn_median_s);
	for (int i = 2; i < TEXT_COLS; i++)
		cells[i] = v[i];
	table_row(arg, cells);
}

static void print_text(const struct report_args *a, const struct sw_promise_report *r)
{
	char f[SW_DATE_STRLEN], t[SW_DATE_STRLEN], key[32];
	const char *head[TEXT_COLS] = {
	    key,	 "PERIOD",  "JUDGED",	 "ON TIME",    "LATE",	    "ON-TIME %",
	    "TARGET",	 "PENDING", "WAREHOUSE", "FIRST MILE", "LINE HAUL", "LAST MILE",
	    "EXCEPTION", "UNKNOWN", "ETA MET %", "ETA ERR D",  "WARNED",    "MISS KNOWN"};
	struct table tb;

	snprintf(key, sizeof(key), "%s",
		 a->by == SW_PROMISE_BY_NONE ? "ORDERS" : sw_promise_by_name(a->by));
	for (char *p = key; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	sw_date_format(&a->q.from, f, sizeof(f));
	sw_date_format(&a->q.to, t, sizeof(t));
	printf("promise report by %s per %s, promises from %s to %s (not included), %s", key,
	       sw_promise_period_name(a->period), f, t, a->zone);
	if (a->target > 0)
		printf(", target %g%%", a->target);
	printf(
	    "\nlate orders by stage: WAREHOUSE .. UNKNOWN; courier ETA: MET %% by the first ETA, "
	    "ERR mean error in days, MISS KNOWN median before the promise\n");
	table_init(&tb, TEXT_COLS);
	table_row(&tb, head);
	each_row(r, text_row, &tb);
	table_print(&tb, "");
	if (a->target > 0)
		printf("below: on-time rate under the target of %g%%\n", a->target);
}

/* ---- JSON ------------------------------------------------------------------------- */

static json_t *jrate(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static json_t *cell_json(const struct sw_promise_cell *c, bool marks)
{
	json_t *o = json_object(), *reasons = json_object(), *eta = json_object();

	jset_int(o, "judged", c->judged);
	jset_int(o, "on_time", c->on_time);
	jset_int(o, "late", c->late);
	jset_int(o, "pending", c->pending);
	json_object_set_new(o, "on_time_rate", jrate(c->rate));
	json_object_set_new(o, "below_target", json_boolean(marks && c->below));
	for (int i = 0; i < SW_REASON_LAST; i++)
		jset_int(reasons, sw_promise_reason_name((enum sw_promise_reason)i), c->reason[i]);
	json_object_set_new(o, "late_reasons", reasons);
	jset_int(eta, "parcels", c->eta_parcels);
	jset_int(eta, "met", c->eta_met);
	json_object_set_new(eta, "met_rate", jrate(c->eta_rate));
	json_object_set_new(eta, "mean_error_days", jrate(c->eta_error_days));
	jset_int(eta, "warned", c->warned);
	json_object_set_new(eta, "warn_median_s",
			    c->warned ? json_integer((json_int_t)c->warn_median_s) : json_null());
	json_object_set_new(o, "eta", eta);
	return o;
}

struct json_out {
	json_t *cells, *totals, *total;
};

static void json_row(const struct sw_promise_report *r, enum row_kind kind, const char *key,
		     const char *period, const struct sw_date *start,
		     const struct sw_promise_cell *c, void *arg)
{
	struct json_out *j = arg;
	json_t *o = json_object(), *body = cell_json(c, r->target > 0);
	char day[SW_DATE_STRLEN];

	if (kind == ROW_TOTAL) {
		json_decref(o);
		j->total = body;
		return;
	}
	if (kind == ROW_CELL)
		json_object_set_new(o, "key", key[0] ? jstr(key) : json_null());
	jset_str(o, "period", period);
	sw_date_format(start, day, sizeof(day));
	jset_str(o, "period_start", day);
	json_object_update(o, body);
	json_decref(body);
	json_array_append_new(kind == ROW_CELL ? j->cells : j->totals, o);
}

static int print_json(const struct report_args *a, const struct sw_promise_report *r)
{
	struct json_out j = {json_array(), json_array(), NULL};
	json_t *o = json_object();
	char f[SW_DATE_STRLEN], t[SW_DATE_STRLEN];

	each_row(r, json_row, &j);
	sw_date_format(&a->q.from, f, sizeof(f));
	sw_date_format(&a->q.to, t, sizeof(t));
	jset_str(o, "by", sw_promise_by_name(a->by));
	jset_str(o, "period", sw_promise_period_name(a->period));
	jset_str(o, "from", f);
	jset_str(o, "to", t);
	jset_str(o, "zone", a->zone);
	jset_utc(o, "now", a->q.now);
	json_object_set_new(o, "target", a->target > 0 ? json_real(a->target) : json_null());
	json_object_set_new(o, "cells", j.cells);
	json_object_set_new(o, "period_totals", j.totals);
	json_object_set_new(o, "total", j.total ? j.total : json_null());
	return json_print(o);
}

/* ---- CSV ------------------------------------------------------------------------- */

/* One field: cleaned for a terminal, quoted when it holds a comma or a
 * double quote (doubled), as RFC 4180. */
static void csv_field(const char *s, bool first)
{
	char *c = s && *s ? clean(s, NULL) : xstrdup("");

	if (!first)
		putchar(',');
	if (strpbrk(c, ",\"")) {
		putchar('"');
		for (const char *p = c; *p; p++) {
			if (*p == '"')
				putchar('"');
			putchar(*p);
		}
		putchar('"');
	} else {
		fputs(c, stdout);
	}
	free(c);
}

static void csv_num(int64_t v)
{
	printf(",%" PRId64, v);
}

static void csv_real(double v)
{
	if (v < 0)
		printf(",");
	else
		printf(",%.4f", v);
}

static const char *const row_names[] = {"cell", "period_total", "total"};

static void csv_row(const struct sw_promise_report *r, enum row_kind kind, const char *key,
		    const char *period, const struct sw_date *start,
		    const struct sw_promise_cell *c, void *arg)
{
	char day[SW_DATE_STRLEN] = "";

	(void)arg;
	if (start)
		sw_date_format(start, day, sizeof(day));
	csv_field(row_names[kind], true);
	csv_field(sw_promise_by_name(r->by), false);
	csv_field(kind == ROW_CELL ? key : "", false);
	csv_field(period, false);
	csv_field(day, false);
	csv_num(c->judged);
	csv_num(c->on_time);
	csv_num(c->late);
	csv_num(c->pending);
	csv_real(c->rate);
	printf(",%s", r->target > 0 && c->below ? "yes" : "no");
	for (int i = 0; i < SW_REASON_LAST; i++)
		csv_num(c->reason[i]);
	csv_num(c->eta_parcels);
	csv_num(c->eta_met);
	csv_real(c->eta_rate);
	csv_real(c->eta_error_days);
	csv_num(c->warned);
	if (c->warned)
		csv_num(c->warn_median_s);
	else
		printf(",");
	printf("\r\n");
}

static int print_csv(const struct sw_promise_report *r)
{
	printf("row,by,key,period,period_start,judged,on_time,late,pending,on_time_rate,"
	       "below_target");
	for (int i = 0; i < SW_REASON_LAST; i++)
		printf(",late_%s", sw_promise_reason_name((enum sw_promise_reason)i));
	printf(",eta_parcels,eta_met,eta_met_rate,eta_mean_error_days,warned,warn_median_s\r\n");
	each_row(r, csv_row, NULL);
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail("cannot write the output");
	return 0;
}

/* ---- the command ------------------------------------------------------------------ */

int cmd_report(const struct cli *cli, int argc, char **argv)
{
	struct report_args a = {.by = SW_PROMISE_BY_NONE, .period = SW_PROMISE_DAY, .zone = "UTC"};
	struct sw_promise_report *r;
	struct sw_store *st;
	int status = parse_args(argc, argv, &a);

	if (status || (status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	if (sw_store_promise_report(st, &a.q, a.by, a.period, a.target, &r) != SW_OK) {
		status = fail("%s", sw_store_errmsg(st));
	} else {
		if (a.out == OUT_JSON)
			status = print_json(&a, r);
		else if (a.out == OUT_CSV)
			status = print_csv(r);
		else
			print_text(&a, r);
		sw_promise_report_free(r);
	}
	sw_store_close(st);
	return status;
}
