/*
 * signals.c - what ops rules watch (see signals.h): the signal table and
 * one measure function per row (the cohort rows' in sig_cohort.c).
 *
 * Design:
 * - RRD signals read the collector's files through lib/rrd_read.h: the sum
 *   of the data sources over the window, and whether any row was known
 *   within nodata_after.  The collector writes a row for every warehouse
 *   and courier its registry knows each step (counters 0 when nothing
 *   happened), so an idle feed reads as zeros and a stopped collector as
 *   unknown rows: "no data", never "all well".  A file that does not exist
 *   is no data too.
 * - Store signals count through lib/store_signals.h; they always have
 *   data (the store is the truth at now).
 * - Subjects are the union of what the RRD directory holds and what the
 *   store knows.  An id only becomes a file name when it is one segment of
 *   [A-Za-z0-9_.-] not starting with '.' (the catalogue's own rule), so no
 *   subject escapes the RRD directory; other ids are refused with an error.
 * - The feed signals (courier_feed_silent, warehouse_feed) read what the
 *   collector notes per batch in the store (courier_health,
 *   warehouse_health, courier_polls: store_feeds.h), the same facts the
 *   customer notices are held on (feeds.h), so the one page about a feed
 *   and the held notices agree.
 * - The cohort signals (cohort_slips, cohort_ship_late) live in
 *   sig_cohort.c: this file keeps their rows in the table, the wrappers of
 *   their subject_of and members hooks, and the helpers both files share
 *   (signals_int.h).
 * - Figures are a flat JSON object of numbers built with snprintf (ids
 *   never go into it); text is one line for a tired on-call engineer.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/feeds.h"
#include "alerts/rules.h"
#include "alerts/signals.h"
#include "alerts/signals_int.h"
#include "lib/matcher.h"
#include "lib/rrd_read.h"
#include "lib/store_feeds.h"
#include "lib/store_probes.h"
#include "lib/store_signals.h"
#include "lib/xmalloc.h"

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/* ---- small helpers (signals_int.h) --------------------------------------------- */

#define put	     sw_sig_int_put
#define pct	     sw_sig_int_pct
#define sort_unique  sw_sig_int_sort_unique
#define store_failed sw_sig_int_store_failed

enum sw_err sw_sig_int_store_failed(const struct sw_sig_ctx *ctx, enum sw_err rc, char *err,
				    size_t len)
{
	put(err, len, "%s", sw_store_errmsg(ctx->st));
	return rc;
}

/* An id that can name an RRD file: one safe path segment. */
static bool id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n < 200 && id[0] != '.' && strspn(id, ID_CHARS) == n;
}

/* "1h", "1h30m", "45s", "2d3h": at most the two largest non-zero units. */
static void dur_text(int64_t s, char *out, size_t len)
{
	static const struct {
		int64_t secs;
		const char *unit;
	} units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
	size_t used = 0;
	int parts = 0;

	if (s <= 0) {
		snprintf(out, len, "0s");
		return;
	}
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && parts < 2; i++) {
		int64_t q = s / units[i].secs;

		if (q == 0) {
			if (parts)
				break; /* "1h" not "1h0m5s" */
			continue;
		}
		s -= q * units[i].secs;
		used += (size_t)snprintf(out + used, len > used ? len - used : 0, "%lld%s",
					 (long long)q, units[i].unit);
		parts++;
	}
}

void sw_sig_int_put(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

static int64_t count_of(double x)
{
	return isfinite(x) && x > 0 ? (int64_t)llround(x) : 0;
}

double sw_sig_int_pct(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

/* min_count as a floor of 1: zero samples never judge a rate. */
static bool enough_of(int64_t n, const struct sw_sig_args *a)
{
	return n > 0 && n >= a->min_count;
}

/* ---- subjects -------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sw_sig_int_sort_unique(char **ids, size_t *n)
{
	size_t out = 0;

	if (*n == 0)
		return;
	qsort(ids, *n, sizeof(*ids), cmp_str);
	for (size_t i = 0; i < *n; i++) {
		if (out && strcmp(ids[out - 1], ids[i]) == 0) {
			free(ids[i]);
			continue;
		}
		ids[out++] = ids[i];
	}
	*n = out;
}

/* Appends the strings of b to *a and frees b; with file_ids_only, ids
 * that cannot name an RRD file are freed instead of appended. */
static void take(char ***a, size_t *na, char **b, size_t nb, bool file_ids_only)
{
	if (nb)
		*a = xreallocarray(*a, *na + nb, sizeof(**a));
	for (size_t i = 0; i < nb; i++) {
		if (file_ids_only && !id_ok(b[i]))
			free(b[i]);
		else
			(*a)[(*na)++] = b[i];
	}
	free(b);
}

/* The ids of RRD files under kind_dir plus those from the store. */
static enum sw_err union_ids(const struct sw_sig_ctx *ctx, const char *kind_dir,
			     enum sw_err (*from_store)(struct sw_store *, char ***, size_t *),
			     bool file_ids_only, char ***ret_ids, size_t *ret_n, char *err,
			     size_t len)
{
	char **ids = NULL, **b = NULL;
	size_t n = 0, nb = 0;
	enum sw_err rc;

	*ret_ids = NULL;
	*ret_n = 0;
	if (ctx->rrd && (rc = sw_rrd_list(ctx->rrd, kind_dir, &b, &nb, err, len)))
		return rc;
	take(&ids, &n, b, nb, false);
	if ((rc = from_store(ctx->st, &b, &nb))) {
		put(err, len, "%s", sw_store_errmsg(ctx->st));
		sw_signal_ids_free(ids, n);
		return rc;
	}
	take(&ids, &n, b, nb, file_ids_only);
	sort_unique(ids, &n);
	if (n == 0) {
		free(ids);
		ids = NULL;
	}
	*ret_ids = ids;
	*ret_n = n;
	return SW_OK;
}

static enum sw_err courier_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids, size_t *ret_n,
				    char *err, size_t len)
{
	return union_ids(ctx, "courier", sw_store_sig_couriers, true, ret_ids, ret_n, err, len);
}

/* Warehouses for the store's signals: every id orders name. */
static enum sw_err warehouse_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids, size_t *ret_n,
				      char *err, size_t len)
{
	return union_ids(ctx, "warehouse", sw_store_sig_warehouses, false, ret_ids, ret_n, err,
			 len);
}

/* Warehouses for the RRD signal: only ids that can name a file. */
static enum sw_err warehouse_file_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids,
					   size_t *ret_n, char *err, size_t len)
{
	return union_ids(ctx, "warehouse", sw_store_sig_warehouses, true, ret_ids, ret_n, err, len);
}

/* ---- RRD reads --------------------------------------------------------- */

/* One RRD signal's read: the window's sums and whether data still comes. */
struct rrd_seen {
	char file[256];	       /* "courier/dhl" */
	struct sw_rrd_sum win; /* the rows of (now - window, now] */
	bool exists;
	bool has_data;
	int64_t last_known; /* the latest known row seen (0: none) */
};

static enum sw_err rrd_seen(const struct sw_sig_ctx *ctx, const char *kind_dir, const char *id,
			    const char *const *ds, size_t n_ds, const struct sw_sig_args *a,
			    struct rrd_seen *s, char *err, size_t len)
{
	int64_t nd = a->nodata_after_s;
	struct sw_rrd_sum recent;
	enum sw_err rc;

	memset(s, 0, sizeof(*s));
	if (!id_ok(id)) {
		put(err, len,
		    "%s id '%s' cannot name an RRD file (one segment of [A-Za-z0-9_.-] "
		    "not starting with '.')",
		    kind_dir, id ? id : "(null)");
		return SW_EINVAL;
	}
	if (ctx->rrd == NULL || a->window_s <= 0) {
		put(err, len, "%s/%s: no [rrd] configuration or no window", kind_dir, id);
		return SW_EINVAL;
	}
	put(s->file, sizeof(s->file), "%s/%s", kind_dir, id);
	rc = sw_rrd_read_sum(ctx->rrd, s->file, ds, n_ds, a->now - a->window_s, a->now, &s->win,
			     err, len);
	if (rc == SW_ENOTFOUND)
		return SW_OK; /* a missing file is no data */
	if (rc)
		return rc;
	s->exists = true;
	s->last_known = s->win.last_known;
	if (nd > a->window_s) {
		rc = sw_rrd_read_sum(ctx->rrd, s->file, ds, n_ds, a->now - nd, a->now, &recent, err,
				     len);
		if (rc)
			return rc == SW_ENOTFOUND ? SW_OK : rc; /* gone meanwhile */
		if (recent.last_known > s->last_known)
			s->last_known = recent.last_known;
	}
	s->has_data = s->last_known > 0 && (nd <= 0 || s->last_known > a->now - nd);
	return SW_OK;
}

/* Fills out for an RRD subject without data. */
static void no_data(const struct rrd_seen *s, const struct sw_sig_args *a, struct sw_sig_value *out)
{
	char d[32], w[32];

	dur_text(a->nodata_after_s, d, sizeof(d));
	out->has_data = false;
	out->enough = false;
	if (!s->exists) {
		put(out->figures, sizeof(out->figures),
		    "{\"file_exists\":false,\"nodata_after_s\":%lld}",
		    (long long)a->nodata_after_s);
		put(out->text, sizeof(out->text), "no data: %s.rrd does not exist", s->file);
		return;
	}
	dur_text(s->last_known ? a->now - s->last_known : 0, w, sizeof(w));
	put(out->figures, sizeof(out->figures),
	    "{\"file_exists\":true,\"last_known\":%lld,\"nodata_after_s\":%lld}",
	    (long long)s->last_known, (long long)a->nodata_after_s);
	if (s->last_known)
		put(out->text, sizeof(out->text),
		    "no data: %s.rrd has had no value for %s (the collector stopped writing it?)",
		    s->file, w);
	else
		put(out->text, sizeof(out->text),
		    "no data: %s.rrd has no value in the last %s (the collector stopped writing "
		    "it?)",
		    s->file, d);
}

/* ---- courier signals -------------------------------------------------------- */

static const char *const ontime_ds[] = {"delivered_ontime", "delivered_late"};

static enum sw_err m_courier_ontime(const struct sw_sig_ctx *ctx, const char *id,
				    const struct sw_sig_args *a, struct sw_sig_value *out,
				    char *err, size_t len)
{
	struct rrd_seen s;
	char w[32];
	int64_t on, late, n;
	enum sw_err rc;

	snprintf(out->stage, sizeof(out->stage), "courier");
	if ((rc = rrd_seen(ctx, "courier", id, ontime_ds, 2, a, &s, err, len)))
		return rc;
	if (!s.has_data) {
		no_data(&s, a, out);
		return SW_OK;
	}
	on = count_of(s.win.sum[0]);
	late = count_of(s.win.sum[1]);
	n = on + late;
	dur_text(a->window_s, w, sizeof(w));
	out->has_data = true;
	out->count = n;
	out->enough = enough_of(n, a);
	out->value = pct(on, n);
	put(out->figures, sizeof(out->figures),
	    "{\"on_time\":%lld,\"late\":%lld,\"rate_pct\":%.1f,\"window_s\":%lld}", (long long)on,
	    (long long)late, out->value, (long long)a->window_s);
	if (n == 0)
		put(out->text, sizeof(out->text), "no deliveries in the last %s", w);
	else
		put(out->text, sizeof(out->text),
		    "%lld of %lld deliveries on time (%.1f%%) in the "
		    "last %s%s",
		    (long long)on, (long long)n, out->value, w,
		    out->enough ? "" : ": too few to judge");
	return SW_OK;
}

/* Errors first, then the answers that are not errors (a 404 is an answer). */
static const char *const api_ds[] = {"resp_5xx",   "resp_429", "resp_timeout",
				     "parse_fail", "resp_2xx", "resp_4xx"};
#define API_ERR_DS 4

static enum sw_err m_courier_api_errors(const struct sw_sig_ctx *ctx, const char *id,
					const struct sw_sig_args *a, struct sw_sig_value *out,
					char *err, size_t len)
{
	int64_t c[6], errors = 0, total = 0;
	struct rrd_seen s;
	char w[32];
	enum sw_err rc;

	snprintf(out->stage, sizeof(out->stage), "courier");
	if ((rc = rrd_seen(ctx, "courier", id, api_ds, 6, a, &s, err, len)))
		return rc;
	if (!s.has_data) {
		no_data(&s, a, out);
		return SW_OK;
	}
	for (size_t i = 0; i < 6; i++) {
		c[i] = count_of(s.win.sum[i]);
		errors += i < API_ERR_DS ? c[i] : 0;
		total += c[i];
	}
	dur_text(a->window_s, w, sizeof(w));
	out->has_data = true;
	out->count = total;
	out->enough = enough_of(total, a);
	out->value = pct(errors, total);
	put(out->figures, sizeof(out->figures),
	    "{\"errors\":%lld,\"requests\":%lld,\"rate_pct\":%.1f,\"resp_5xx\":%lld,"
	    "\"resp_429\":%lld,\"timeout\":%lld,\"parse_fail\":%lld,\"resp_2xx\":%lld,"
	    "\"resp_4xx\":%lld,\"window_s\":%lld}",
	    (long long)errors, (long long)total, out->value, (long long)c[0], (long long)c[1],
	    (long long)c[2], (long long)c[3], (long long)c[4], (long long)c[5],
	    (long long)a->window_s);
	if (total == 0)
		put(out->text, sizeof(out->text), "no tracking API requests in the last %s", w);
	else
		put(out->text, sizeof(out->text),
		    "%lld of %lld tracking API requests failed (%.1f%%) in the last %s: 5xx %lld, "
		    "429 %lld, timeouts %lld, unparseable %lld%s",
		    (long long)errors, (long long)total, out->value, w, (long long)c[0],
		    (long long)c[1], (long long)c[2], (long long)c[3],
		    out->enough ? "" : "; too few to judge");
	return SW_OK;
}

/* ---- warehouse signals ----------------------------------------------------- */

static const char *const event_ds[] = {"created",   "picked",	   "packed",   "shipped",
				       "cancelled", "backordered", "rejected", "duplicates"};

static enum sw_err m_feed_silent(const struct sw_sig_ctx *ctx, const char *id,
				 const struct sw_sig_args *a, struct sw_sig_value *out, char *err,
				 size_t len)
{
	int64_t events, silent;
	struct rrd_seen s;
	char w[32], d[32];
	enum sw_err rc;

	snprintf(out->stage, sizeof(out->stage), "warehouse");
	if ((rc = rrd_seen(ctx, "warehouse", id, event_ds, 8, a, &s, err, len)))
		return rc;
	if (!s.has_data) {
		no_data(&s, a, out);
		return SW_OK;
	}
	events = count_of(s.win.total);
	silent = s.win.last_nonzero ? a->now - s.win.last_nonzero : a->window_s;
	dur_text(a->window_s, w, sizeof(w));
	dur_text(silent, d, sizeof(d));
	out->has_data = true;
	out->enough = true;
	out->count = events;
	out->value = (double)silent / 60.0;
	put(out->figures, sizeof(out->figures),
	    "{\"events\":%lld,\"last_event_step\":%lld,\"silent_min\":%.1f,\"window_s\":%lld}",
	    (long long)events, (long long)s.win.last_nonzero, out->value, (long long)a->window_s);
	if (s.win.last_nonzero)
		put(out->text, sizeof(out->text),
		    "last warehouse event %s ago (in the step ending then); %lld events in the "
		    "last %s",
		    d, (long long)events, w);
	else
		put(out->text, sizeof(out->text),
		    "no warehouse events in the last %s (the collector is writing, the feed is "
		    "silent)",
		    w);
	return SW_OK;
}

bool sw_sig_int_feed_held(const struct sw_sig_ctx *ctx, const char *courier,
			  const char *warehouse, int64_t now, struct sw_sig_value *out)
{
	int64_t ok_at, fail_at;
	char why[SW_SIG_TEXT_LEN - 40];
	bool down = false;

	if (!ctx->alerts)
		return false;
	if (warehouse)
		down = sw_feeds_warehouse_down(ctx->st, ctx->alerts, ctx->rules, warehouse, now, why,
					       sizeof(why));
	else if (courier && sw_store_courier_health_get(ctx->st, courier, &ok_at, &fail_at) == SW_OK)
		down = sw_feeds_courier_down(ctx->st, ctx->alerts, courier, now, why, sizeof(why));
	if (!down)
		return false;
	out->enough = false;
	put(out->text, sizeof(out->text), "not judged while its feed is unhealthy: %s", why);
	return true;
}

static enum sw_err m_ship_late(const struct sw_sig_ctx *ctx, const char *id,
			       const struct sw_sig_args *a, struct sw_sig_value *out, char *err,
			       size_t len)
{
	struct sw_sig_orders o;
	int64_t overdue;
	char d[32];
	enum sw_err rc;

	snprintf(out->stage, sizeof(out->stage), "warehouse");
	if ((rc = sw_store_sig_ship_late(ctx->st, id, a->now, &o)))
		return store_failed(ctx, rc, err, len);
	overdue = o.count ? a->now - o.oldest : 0;
	dur_text(overdue, d, sizeof(d));
	out->has_data = true;
	out->enough = true;
	out->count = o.count;
	out->value = (double)o.count;
	put(out->figures, sizeof(out->figures),
	    "{\"orders\":%lld,\"oldest_ship_by\":%lld,\"most_overdue_s\":%lld}", (long long)o.count,
	    (long long)o.oldest, (long long)overdue);
	if (o.count)
		put(out->text, sizeof(out->text),
		    "%lld orders past their promised ship-by and not shipped, the oldest %s "
		    "overdue",
		    (long long)o.count, d);
	else
		put(out->text, sizeof(out->text), "no orders past their promised ship-by");
	sw_sig_int_feed_held(ctx, NULL, id, a->now, out);
	return SW_OK;
}

static enum sw_err m_pick_backlog(const struct sw_sig_ctx *ctx, const char *id,
				  const struct sw_sig_args *a, struct sw_sig_value *out, char *err,
				  size_t len)
{
	struct sw_sig_orders o;
	int64_t wait;
	char d[32];
	enum sw_err rc;

	snprintf(out->stage, sizeof(out->stage), "warehouse");
	if ((rc = sw_store_sig_pick_backlog(ctx->st, id, &o)))
		return store_failed(ctx, rc, err, len);
	wait = o.count && o.oldest ? a->now - o.oldest : 0;
	dur_text(wait, d, sizeof(d));
	out->has_data = true;
	out->enough = true;
	out->count = o.count;
	out->value = (double)o.count;
	put(out->figures, sizeof(out->figures),
	    "{\"orders\":%lld,\"oldest_created\":%lld,\"oldest_wait_s\":%lld}", (long long)o.count,
	    (long long)o.oldest, (long long)wait);
	if (o.count)
		put(out->text, sizeof(out->text),
		    "%lld orders created and not yet picked, the oldest waiting %s",
		    (long long)o.count, d);
	else
		put(out->text, sizeof(out->text), "no orders waiting to be picked");
	sw_sig_int_feed_held(ctx, NULL, id, a->now, out);
	return SW_OK;
}

/* ---- feed signals (store) --------------------------------------------------- */

/* Warehouses that ever published (warehouse_health), store only. */
static enum sw_err feed_warehouse_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids,
					   size_t *ret_n, char *err, size_t len)
{
	enum sw_err rc = sw_store_feed_warehouses(ctx->st, ret_ids, ret_n);

	return rc ? store_failed(ctx, rc, err, len) : SW_OK;
}

/* Couriers whose answers were ever noted (courier_health), store only. */
static enum sw_err feed_courier_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids,
					 size_t *ret_n, char *err, size_t len)
{
	enum sw_err rc = sw_store_sig_couriers(ctx->st, ret_ids, ret_n);

	return rc ? store_failed(ctx, rc, err, len) : SW_OK;
}

static enum sw_err m_courier_feed_silent(const struct sw_sig_ctx *ctx, const char *id,
					 const struct sw_sig_args *a, struct sw_sig_value *out,
					 char *err, size_t len)
{
	int64_t ok_at, fail_at, okn, failed, silent;
	char d[32], w[32];
	enum sw_err rc;

	snprintf(out->stage, sizeof(out->stage), "courier");
	rc = sw_feeds_courier_silence(ctx->st, id, a->now, &silent, &ok_at, &fail_at);
	if (rc == SW_OK)
		rc = sw_store_courier_polls_sum(ctx->st, id, a->now - a->window_s, &okn, &failed);
	if (rc)
		return store_failed(ctx, rc, err, len);
	dur_text(a->window_s, w, sizeof(w));
	out->count = okn + failed;
	if (silent < 0) { /* never a useful answer: nothing to measure from */
		put(out->figures, sizeof(out->figures), "{\"answers\":%lld,\"failed\":%lld}",
		    (long long)(okn + failed), (long long)failed);
		put(out->text, sizeof(out->text),
		    "the tracking API never answered usefully; %lld of %lld answers failed in "
		    "the last %s",
		    (long long)failed, (long long)(okn + failed), w);
		return SW_OK;
	}
	out->has_data = true;
	out->enough = true;
	out->value = (double)silent / 60.0;
	put(out->figures, sizeof(out->figures),
	    "{\"silent_min\":%.1f,\"last_ok_at\":%lld,\"last_fail_at\":%lld,\"answers\":%lld,"
	    "\"failed\":%lld,\"window_s\":%lld}",
	    out->value, (long long)ok_at, (long long)fail_at, (long long)(okn + failed),
	    (long long)failed, (long long)a->window_s);
	dur_text(a->now > ok_at ? a->now - ok_at : 0, d, sizeof(d));
	if (silent == 0 && fail_at <= ok_at)
		put(out->text, sizeof(out->text),
		    "last useful answer from the tracking API %s ago, and no poll is due since "
		    "(nothing to ask); %lld of %lld answers failed in the last %s",
		    d, (long long)failed, (long long)(okn + failed), w);
	else
		put(out->text, sizeof(out->text),
		    "last useful answer from the tracking API %s ago (no answer at all: the API "
		    "or the collector is down); %lld of %lld answers failed in the last %s",
		    d, (long long)failed, (long long)(okn + failed), w);
	return SW_OK;
}

static enum sw_err m_warehouse_feed(const struct sw_sig_ctx *ctx, const char *id,
				    const struct sw_sig_args *a, struct sw_sig_value *out,
				    char *err, size_t len)
{
	static const struct sw_wh_hours all_day = {NULL, true, 0, 0};
	const struct sw_wh_hours *h = ctx->rules ? sw_rules_warehouse(ctx->rules, id) : &all_day;
	const char *zone = ctx->alerts ? ctx->alerts->default_timezone : "UTC";
	int64_t last, silent;
	char d[32], l[32];
	enum sw_err rc;

	snprintf(out->stage, sizeof(out->stage), "warehouse");
	if ((rc = sw_store_warehouse_last_event(ctx->st, id, &last)))
		return store_failed(ctx, rc, err, len);
	if (!last) {
		put(out->figures, sizeof(out->figures), "{\"last_event_at\":0}");
		put(out->text, sizeof(out->text), "the warehouse never published an event");
		return SW_OK;
	}
	silent = sw_feeds_working_silence(h, zone, last, a->now);
	dur_text(silent, d, sizeof(d));
	dur_text(a->now - last, l, sizeof(l));
	out->has_data = true;
	out->enough = true;
	out->value = (double)silent / 60.0;
	put(out->figures, sizeof(out->figures), "{\"silent_min\":%.1f,\"last_event_at\":%lld}",
	    out->value, (long long)last);
	if (silent || a->now <= last)
		put(out->text, sizeof(out->text),
		    "no warehouse event for %s of its working hours (the last %s ago)", d, l);
	else
		put(out->text, sizeof(out->text),
		    "outside its working hours; the last warehouse event %s ago", l);
	return SW_OK;
}

/* ---- probes (store: probe_results) ------------------------------------------ */

/* Every probe with a stored result. */
static enum sw_err probe_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids, size_t *ret_n,
				  char *err, size_t len)
{
	struct sw_probe_row *rows = NULL;
	size_t n = 0;
	enum sw_err rc = sw_store_probe_list(ctx->st, &rows, &n);

	*ret_ids = NULL;
	*ret_n = 0;
	if (rc)
		return store_failed(ctx, rc, err, len);
	if (n)
		*ret_ids = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		(*ret_ids)[i] = xstrdup(rows[i].name);
	*ret_n = n;
	sort_unique(*ret_ids, ret_n);
	sw_store_probe_rows_free(rows, n);
	return SW_OK;
}

/* The stage a kind of probe stands for (what would run over). */
static const char *probe_stage(const char *kind)
{
	if (strcmp(kind, "courier_api") == 0 || strcmp(kind, "canary") == 0)
		return "courier";
	if (strcmp(kind, "smtp") == 0)
		return "email";
	if (strcmp(kind, "feed") == 0 || strcmp(kind, "broker") == 0)
		return "warehouse";
	return "";
}

/* The figures of a row: numbers only (-1: no latency; null: no value). */
static void probe_figures(const struct sw_probe_row *r, struct sw_sig_value *out)
{
	char value[40];

	if (r->has_value && isfinite(r->value))
		snprintf(value, sizeof(value), "%.3f", r->value);
	else
		snprintf(value, sizeof(value), "null");
	put(out->figures, sizeof(out->figures),
	    "{\"failing\":%d,\"sent\":%d,\"lost\":%d,\"lat_p50\":%.6f,\"lat_max\":%.6f,"
	    "\"value\":%s,\"at\":%lld,\"failing_since\":%lld}",
	    r->ok ? 0 : 1, r->sent, r->lost, isfinite(r->lat_p50) ? r->lat_p50 : -1.0,
	    isfinite(r->lat_max) ? r->lat_max : -1.0, value, (long long)r->at,
	    (long long)r->failing_since);
}

/* "failing for 12m: <reason> (5 of 5 samples lost)". */
static void failing_text(const struct sw_probe_row *r, int64_t now, struct sw_sig_value *out)
{
	char f[32] = "";

	if (r->failing_since > 0 && now > r->failing_since)
		dur_text(now - r->failing_since, f, sizeof(f));
	put(out->text, sizeof(out->text), "failing%s%s: %s (%d of %d samples lost)",
	    f[0] ? " for " : "", f, r->reason && *r->reason ? r->reason : "no reason given",
	    r->lost, r->sent);
}

static enum sw_err m_probe(const struct sw_sig_ctx *ctx, const char *id,
			   const struct sw_sig_args *a, struct sw_sig_value *out, char *err,
			   size_t len)
{
	int64_t stale = a->nodata_after_s > 0 ? a->nodata_after_s : a->window_s;
	struct sw_probe_row *r = NULL;
	char d[32];
	enum sw_err rc = sw_store_probe_get(ctx->st, id, &r);

	if (rc == SW_ENOTFOUND) {
		put(out->figures, sizeof(out->figures), "{\"at\":0}");
		put(out->text, sizeof(out->text),
		    "no data: the probe %s has no stored result (is slipwatch-probes running it?)",
		    id);
		return SW_OK;
	}
	if (rc)
		return store_failed(ctx, rc, err, len);
	snprintf(out->stage, sizeof(out->stage), "%s", probe_stage(r->kind));
	probe_figures(r, out);
	out->count = r->sent;
	dur_text(a->now > r->at ? a->now - r->at : 0, d, sizeof(d));
	if (stale > 0 && r->at <= a->now - stale) {
		put(out->text, sizeof(out->text),
		    "no data: the probe %s last ran %s ago (slipwatch-probes stopped?)", id, d);
	} else {
		out->has_data = true;
		out->enough = true;
		out->value = r->ok ? 0 : 1;
		if (r->ok)
			put(out->text, sizeof(out->text), "passing: %s",
			    r->detail && *r->detail ? r->detail : "ok");
		else
			failing_text(r, a->now, out);
	}
	sw_store_probe_rows_free(r, 1);
	return SW_OK;
}

/* ---- global signals ------------------------------------------------------- */

static enum sw_err m_email_failures(const struct sw_sig_ctx *ctx, const char *id,
				    const struct sw_sig_args *a, struct sw_sig_value *out,
				    char *err, size_t len)
{
	struct sw_sig_notices n;
	int64_t bad;
	char w[32];
	enum sw_err rc;

	(void)id;
	snprintf(out->stage, sizeof(out->stage), "email");
	if ((rc = sw_store_sig_notices(ctx->st, a->now - a->window_s, &n)))
		return store_failed(ctx, rc, err, len);
	bad = n.failed + n.deferred_fail;
	dur_text(a->window_s, w, sizeof(w));
	out->has_data = true;
	out->enough = true;
	out->count = bad;
	out->value = (double)bad;
	put(out->figures, sizeof(out->figures),
	    "{\"failing\":%lld,\"failed\":%lld,\"retrying\":%lld,\"sent\":%lld,"
	    "\"deferred_on_purpose\":%lld,\"waiting\":%lld,\"window_s\":%lld}",
	    (long long)bad, (long long)n.failed, (long long)n.deferred_fail, (long long)n.sent,
	    (long long)n.deferred_other, (long long)n.waiting, (long long)a->window_s);
	put(out->text, sizeof(out->text),
	    "%lld of the customer notices queued in the last %s could not be delivered (%lld "
	    "failed for good, %lld retrying after a channel error); %lld sent",
	    (long long)bad, w, (long long)n.failed, (long long)n.deferred_fail, (long long)n.sent);
	return SW_OK;
}

static enum sw_err m_journal_lag(const struct sw_sig_ctx *ctx, const char *id,
				 const struct sw_sig_args *a, struct sw_sig_value *out, char *err,
				 size_t len)
{
	struct sw_sig_journal j;
	int64_t lag;
	char d[32];
	enum sw_err rc;

	(void)id;
	snprintf(out->stage, sizeof(out->stage), "engine");
	if ((rc = sw_store_sig_journal(ctx->st, ctx->cursor, &j)))
		return store_failed(ctx, rc, err, len);
	lag = j.behind && a->now > j.oldest_received_at ? a->now - j.oldest_received_at : 0;
	dur_text(lag, d, sizeof(d));
	out->has_data = true;
	out->enough = true;
	out->count = j.behind;
	out->value = (double)lag;
	put(out->figures, sizeof(out->figures),
	    "{\"lag_s\":%lld,\"cursor\":%lld,\"newest\":%lld,\"behind\":%lld}", (long long)lag,
	    (long long)j.cursor, (long long)j.newest, (long long)j.behind);
	if (j.behind)
		put(out->text, sizeof(out->text),
		    "the alert engine is %s behind the journal: %lld events waiting (done up to "
		    "seq %lld, newest %lld)",
		    d, (long long)j.behind, (long long)j.cursor, (long long)j.newest);
	else
		put(out->text, sizeof(out->text),
		    "the alert engine is caught up with the journal (seq %lld)",
		    (long long)j.newest);
	return SW_OK;
}

/* ---- the table --------------------------------------------------------------- */

static const struct sw_signal sig_courier_ontime = {
    .name = "courier_ontime",
    .subject = SW_SIG_COURIER,
    .above = false,
    .unit = "%",
    .what = "share of the courier's deliveries on time in the window (RRD)",
    .rrd = true,
    .subjects = courier_subjects,
    .measure = m_courier_ontime,
};

static const struct sw_signal sig_courier_api_errors = {
    .name = "courier_api_errors",
    .subject = SW_SIG_COURIER,
    .above = true,
    .unit = "%",
    .what = "share of the courier's tracking API requests failing (5xx, 429, timeout, "
	    "unparseable) in the window (RRD)",
    .rrd = true,
    .subjects = courier_subjects,
    .measure = m_courier_api_errors,
};

static const struct sw_signal sig_ship_late = {
    .name = "warehouse_ship_late",
    .subject = SW_SIG_WAREHOUSE,
    .above = true,
    .unit = "orders",
    .what = "orders of the warehouse past their promised ship-by, not shipped (store)",
    .rrd = false,
    .subjects = warehouse_subjects,
    .measure = m_ship_late,
};

static const struct sw_signal sig_pick_backlog = {
    .name = "warehouse_pick_backlog",
    .subject = SW_SIG_WAREHOUSE,
    .above = true,
    .unit = "orders",
    .what = "orders of the warehouse created and not yet picked (store)",
    .rrd = false,
    .subjects = warehouse_subjects,
    .measure = m_pick_backlog,
};

static const struct sw_signal sig_feed_silent = {
    .name = "warehouse_feed_silent",
    .subject = SW_SIG_WAREHOUSE,
    .above = true,
    .unit = "min",
    .what = "minutes since the warehouse's last event (RRD; the window when none)",
    .rrd = true,
    .subjects = warehouse_file_subjects,
    .measure = m_feed_silent,
};

static const struct sw_signal sig_courier_feed_silent = {
    .name = "courier_feed_silent",
    .subject = SW_SIG_COURIER,
    .above = true,
    .unit = "min",
    .what = "minutes since the courier's tracking API last answered usefully (store: "
	    "courier_health; the API or the collector down)",
    .rrd = false,
    .subjects = feed_courier_subjects,
    .measure = m_courier_feed_silent,
};

static const struct sw_signal sig_warehouse_feed = {
    .name = "warehouse_feed",
    .subject = SW_SIG_WAREHOUSE,
    .above = true,
    .unit = "min",
    .what = "minutes of the warehouse's working hours without an event (store: "
	    "warehouse_health; 0 outside working hours)",
    .rrd = false,
    .subjects = feed_warehouse_subjects,
    .measure = m_warehouse_feed,
};

static const struct sw_signal sig_email_failures = {
    .name = "email_failures",
    .subject = SW_SIG_GLOBAL,
    .above = true,
    .unit = "emails",
    .what = "customer notices queued in the window that failed or are retrying after a "
	    "channel error (store)",
    .rrd = false,
    .subjects = NULL,
    .measure = m_email_failures,
};

static const struct sw_signal sig_journal_lag = {
    .name = "journal_lag",
    .subject = SW_SIG_GLOBAL,
    .above = true,
    .unit = "s",
    .what = "age of the oldest journal event the alert engine has not processed (store)",
    .rrd = false,
    .subjects = NULL,
    .measure = m_journal_lag,
};

static const struct sw_signal sig_probe = {
    .name = "probe",
    .subject = SW_SIG_PROBE,
    .above = true,
    .unit = "failing",
    .what = "1 when the probe's latest run failed, 0 when it passed (store: probe_results; "
	    "no data when older than nodata_after)",
    .rrd = false,
    .subjects = probe_subjects,
    .measure = m_probe,
};

/* clang-format off: one row a line */
const struct sw_signal *const sw_signal_table[] = {
    &sig_courier_ontime, &sig_courier_api_errors,  &sig_ship_late,	     &sig_pick_backlog,
    &sig_feed_silent,	 &sig_courier_feed_silent, &sig_warehouse_feed,	     &sig_email_failures,
    &sig_journal_lag,	 &sw_sig_cohort_slips,	   &sw_sig_cohort_ship_late, &sig_probe,
    NULL,
};
/* clang-format on */

const struct sw_signal *sw_signal_find(const char *name)
{
	for (size_t i = 0; name && sw_signal_table[i]; i++)
		if (strcmp(sw_signal_table[i]->name, name) == 0)
			return sw_signal_table[i];
	return NULL;
}

const char *sw_signal_subject_label(const struct sw_signal *sig)
{
	switch (sig->subject) {
	case SW_SIG_WAREHOUSE:
		return "warehouse";
	case SW_SIG_COURIER:
		return "courier";
	case SW_SIG_LANE:
		return "lane";
	case SW_SIG_SHIP_DAY:
		return "warehouse"; /* "w1/2027-01-15": a warehouse's day */
	case SW_SIG_PROBE:
		return "probe";
	default:
		return NULL;
	}
}

enum sw_err sw_signal_members(const struct sw_signal *sig, const struct sw_sig_ctx *ctx,
			      const char *id, char ***ret_ids, size_t *ret_n, char *err, size_t len)
{
	*ret_ids = NULL;
	*ret_n = 0;
	if (!sig->members) {
		put(err, len, "signal %s has no members (not a cohort signal)", sig->name);
		return SW_EINVAL;
	}
	return sig->members(ctx, id, ret_ids, ret_n, err, len);
}

enum sw_err sw_signal_subject_of(const struct sw_signal *sig, const struct sw_sig_ctx *ctx,
				 const char *entity, char *id, size_t idlen, char *err, size_t len)
{
	if (idlen)
		id[0] = '\0';
	if (!sig->subject_of) {
		put(err, len, "signal %s has no cohorts", sig->name);
		return SW_EINVAL;
	}
	return sig->subject_of(ctx, entity, id, idlen, err, len);
}

void sw_signal_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}
