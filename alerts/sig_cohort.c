/*
 * sig_cohort.c - the cohort signals of signals.h: slips that share a
 * cause, measured as one subject each, so that hundreds of slips page
 * once and a busy day's usual few page never.
 *
 *   cohort_slips      open parcel slips by lane: courier + origin
 *                     warehouse + destination (sw_store_stage_dest),
 *                     subject "COURIER/WH/DEST", label lane; a slip that
 *                     ran over at the warehouse is its warehouse's
 *                     cohort, not its lane's (lane_member)
 *   cohort_ship_late  open ship_late slips (orders not shipped by their
 *                     promised ship-by) by warehouse and ship day (the
 *                     ship-by's date in the warehouse's zone), subject
 *                     "WH/YYYY-MM-DD", label warehouse
 *
 * Design:
 * - A cohort is found from the open slips (the partial index alerts_open:
 *   cost follows the slips, not the parcels), each slip's subject id
 *   computed here, so subjects(), measure(), members() and subject_of()
 *   agree by construction.  The raw ids (courier, warehouse) come from a
 *   member, never parsed back out of a sanitised subject id.
 * - Measured against its own group: size (the lane's parcels on their
 *   way: the members plus the others shipped in the window; the
 *   warehouse's orders due that day) and the usual rate (the lane's
 *   parcels slipped, the warehouse's orders shipped after their ship-by,
 *   over the baseline days before).  The value is the count only when
 *   the share is unusual (factor x the usual rate, and at least 1%), else
 *   0, so the usual few never reach a threshold; the page lifecycle then
 *   gives one incident per subject, updated as it grows.
 * - Enough to judge when the size is at least min_count, and always when
 *   no member is left (the cohort is gone: it resolves).
 * - Parcel lanes are not split by service level: one hub stall delays
 *   express and standard alike, and two incidents (each below min_count
 *   on a small lane) for one cause is what cohorts are for avoiding.
 * - Figures are JSON built with jansson (member entities are escaped),
 *   as many members as fit; the text is one line for on-call.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/rules.h"
#include "alerts/signals.h"
#include "alerts/signals_int.h"
#include "lib/matcher.h"
#include "lib/store_signals.h"
#include "lib/store_stage.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define put	     sw_sig_int_put
#define pct	     sw_sig_int_pct
#define sort_unique  sw_sig_int_sort_unique
#define store_failed sw_sig_int_store_failed

#define COHORT_FACTOR	 3.0 /* unusual at this many times the usual rate */
#define COHORT_FLOOR_PCT 1.0 /* ... and never below this share */
#define COHORT_DAYS	 28  /* baseline days without [alerts] */
#define COHORT_MEMBERS	 20  /* member entities listed in the figures */
#define COHORT_STAGES	 8   /* distinct stages counted for "mostly" */
#define FIG_DIGITS	 10  /* significant digits of a real in the figures */
#define DAY_S		 86400
#define ID_LEN		 (SW_LABEL_VALUE_MAX + 1)

/* ---- what both signals share ------------------------------------------------ */

/* One cohort as measured. */
struct cohort {
	int64_t count; /* members */
	int64_t size;  /* the group they belong to */
	int64_t base_n, base_slipped;
	const char *members[COHORT_MEMBERS]; /* borrowed entities */
	size_t n_members;
	const char *stage; /* the most frequent member stage; NULL: none */
	const char *st_name[COHORT_STAGES];
	int64_t st_hits[COHORT_STAGES], st_best;
	size_t n_st;
	double share, base, factor;
	int64_t days;
	bool unusual;
};

/* Counts one member (entity and stage borrowed until the figures). */
static void cohort_add(struct cohort *c, const char *entity, const char *stage)
{
	size_t k;

	c->count++;
	if (c->n_members < COHORT_MEMBERS)
		c->members[c->n_members++] = entity;
	if (!stage)
		return;
	for (k = 0; k < c->n_st && strcmp(c->st_name[k], stage) != 0; k++)
		;
	if (k == c->n_st && c->n_st < COHORT_STAGES) {
		c->st_name[c->n_st] = stage;
		c->st_hits[c->n_st++] = 0;
	}
	if (k < c->n_st && ++c->st_hits[k] > c->st_best) {
		c->st_best = c->st_hits[k];
		c->stage = c->st_name[k];
	}
}

/* The rule's baseline days and factor, defaults filled in. */
static void cohort_params(const struct sw_sig_ctx *ctx, const struct sw_sig_args *a,
			  struct cohort *c)
{
	if (a->baseline_days > 0)
		c->days = a->baseline_days;
	else
		c->days = ctx->alerts && ctx->alerts->stage_baseline_days > 0
			      ? ctx->alerts->stage_baseline_days
			      : COHORT_DAYS;
	c->factor = a->factor >= 1 ? a->factor : COHORT_FACTOR;
}

/* Share, usual rate and the verdict, from count, size and the baseline. */
static void cohort_judge(struct cohort *c)
{
	if (c->size < c->count)
		c->size = c->count; /* a member is always part of its group */
	c->share = pct(c->count, c->size);
	c->base = pct(c->base_slipped, c->base_n);
	c->unusual = c->share >= c->factor * c->base && c->share >= COHORT_FLOOR_PCT;
}

/* "1,480" */
static void thousands(int64_t v, char *out, size_t len)
{
	char digits[32];
	size_t n, at = 0;

	n = (size_t)snprintf(digits, sizeof(digits), "%lld", (long long)(v < 0 ? 0 : v));
	for (size_t i = 0; i < n && at + 1 < len; i++) {
		if (i && (n - i) % 3 == 0 && at + 2 < len)
			out[at++] = ',';
		out[at++] = digits[i];
	}
	out[at] = '\0';
}

/* The figures: the numbers (the baseline's under base_key and slip_key;
 * day for a ship day, else the window), then as many members as fit. */
static void cohort_figures(const struct cohort *c, const struct sw_sig_args *a,
			   const char *base_key, const char *slip_key, const char *day,
			   struct sw_sig_value *out)
{
	json_t *o = json_object(), *m = json_array();
	char *text = NULL;

	json_object_set_new(o, "count", json_integer(c->count));
	json_object_set_new(o, "size", json_integer(c->size));
	json_object_set_new(o, "share_pct", json_real(round(c->share * 10) / 10));
	json_object_set_new(o, "baseline_pct", json_real(round(c->base * 100) / 100));
	json_object_set_new(o, base_key, json_integer(c->base_n));
	json_object_set_new(o, slip_key, json_integer(c->base_slipped));
	json_object_set_new(o, "baseline_days", json_integer(c->days));
	json_object_set_new(o, "factor", json_real(c->factor));
	json_object_set_new(o, "unusual", json_boolean(c->unusual));
	if (day)
		json_object_set_new(o, "ship_day", json_string(day));
	else
		json_object_set_new(o, "window_s", json_integer(a->window_s));
	if (c->stage)
		json_object_set_new(o, "stage", json_string(c->stage));
	json_object_set_new(o, "members", m);
	for (size_t i = 0; i < c->n_members; i++) {
		char *t;

		json_array_append_new(m, json_string(c->members[i]));
		t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(FIG_DIGITS));
		if (!t || strlen(t) >= sizeof(out->figures)) {
			free(t);
			json_array_remove(m, json_array_size(m) - 1);
			break;
		}
		free(text);
		text = t;
	}
	if (!text)
		text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(FIG_DIGITS));
	put(out->figures, sizeof(out->figures), "%s", text ? text : "{}");
	free(text);
	json_decref(o);
}

/* Appends id to a sorted-later list unless it equals the last one. */
static void id_push(char ***ids, size_t *n, const char *id)
{
	if (*n && strcmp((*ids)[*n - 1], id) == 0)
		return; /* most repeats are neighbours; sort_unique does the rest */
	*ids = xreallocarray(*ids, *n + 1, sizeof(**ids));
	(*ids)[(*n)++] = xstrdup(id);
}

static void ids_done(char ***ids, size_t *n, char ***ret_ids, size_t *ret_n)
{
	sort_unique(*ids, n);
	if (*n == 0) {
		free(*ids);
		*ids = NULL;
	}
	*ret_ids = *ids;
	*ret_n = *n;
}

/* Cuts "KIND:A:B" after prefix into a (up to the first ':') and b. */
static bool split_entity(const char *entity, const char *prefix, char *a, size_t alen,
			 const char **b)
{
	size_t pl = strlen(prefix), al;
	const char *rest, *colon;

	if (strncmp(entity, prefix, pl) != 0)
		return false;
	rest = entity + pl;
	colon = strchr(rest, ':');
	al = colon ? (size_t)(colon - rest) : 0;
	if (!colon || al == 0 || al >= alen || !colon[1])
		return false;
	snprintf(a, alen, "%.*s", (int)al, rest);
	*b = colon + 1;
	return true;
}

/* ---- subject ids -------------------------------------------------------------- */

static void cohort_part(const char *in, char *buf, size_t len, size_t *at)
{
	for (const char *c = in ? in : ""; *c && *at + 1 < len; c++) {
		bool bad = *c <= ' ' || *c > '~' || strchr(",=!~\"/", *c);

		buf[(*at)++] = bad ? '_' : *c;
	}
	buf[*at] = '\0';
}

/* Up to three parts joined by '/', each sanitised, cut to a label value. */
static void cohort_join(const char *p1, const char *p2, const char *p3, char *buf, size_t len)
{
	size_t at = 0;

	if (len == 0)
		return;
	if (len > ID_LEN)
		len = ID_LEN;
	buf[0] = '\0';
	cohort_part(p1, buf, len, &at);
	if (at + 1 < len)
		buf[at++] = '/';
	cohort_part(p2, buf, len, &at);
	if (!p3)
		return;
	if (at + 1 < len)
		buf[at++] = '/';
	cohort_part(p3, buf, len, &at);
}

void sw_signal_cohort_id(const char *courier, const char *warehouse_id, const char *dest, char *buf,
			 size_t len)
{
	cohort_join(courier, warehouse_id, dest ? dest : "", buf, len);
}

/* The zone of a warehouse's day: its working_timezone ([rule NAME], read
 * as the feeds read it), else [alerts] default_timezone, else UTC. */
static const char *wh_zone(const struct sw_sig_ctx *ctx, const char *warehouse_id)
{
	const struct sw_wh_hours *h =
	    ctx->rules ? sw_rules_warehouse(ctx->rules, warehouse_id) : NULL;

	if (h && h->timezone && sw_tz_valid(h->timezone))
		return h->timezone;
	if (ctx->alerts && ctx->alerts->default_timezone &&
	    sw_tz_valid(ctx->alerts->default_timezone))
		return ctx->alerts->default_timezone;
	return NULL;
}

/* The ship day of ship_by for warehouse_id: its date "YYYY-MM-DD" into
 * day (>= 11 bytes) and, when start is not NULL, its first instant and
 * the next day's.  A zone that fails is UTC. */
static void ship_day(const struct sw_sig_ctx *ctx, const char *warehouse_id, int64_t ship_by,
		     char *day, size_t dlen, int64_t *start, int64_t *end)
{
	const char *zone = wh_zone(ctx, warehouse_id);
	struct sw_tz_local loc;
	struct sw_date d, next;
	int64_t days = ship_by >= 0 ? ship_by / DAY_S : -((-ship_by + DAY_S - 1) / DAY_S);

	if (zone && sw_tz_utc_to_local(zone, ship_by, &loc) == SW_OK) {
		d = loc.date;
	} else {
		sw_date_from_days(days, &d);
		zone = NULL;
	}
	if (sw_date_format(&d, day, dlen) != SW_OK)
		put(day, dlen, "?");
	if (!start)
		return;
	sw_date_add_days(&d, 1, &next);
	if (!zone || sw_tz_start_of_day(zone, &d, start) != SW_OK ||
	    sw_tz_start_of_day(zone, &next, end) != SW_OK || *end <= *start) {
		*start = sw_date_to_days(&d) * DAY_S;
		*end = *start + DAY_S;
	}
}

void sw_signal_ship_day_id(const struct sw_sig_ctx *ctx, const char *warehouse_id, int64_t ship_by,
			   char *buf, size_t len)
{
	char day[32];

	ship_day(ctx, warehouse_id, ship_by, day, sizeof(day), NULL, NULL);
	cohort_join(warehouse_id, day, NULL, buf, len);
}

/* ---- cohort_slips: open parcel slips by lane (store) ----------------------------- */

static void slip_id(const struct sw_sig_slip *x, char *buf, size_t len)
{
	sw_signal_cohort_id(x->courier, x->warehouse_id, x->dest, buf, len);
}

/* Whether an open parcel slip counts for its lane's cohort: not when it
 * ran over at the warehouse (the parcel left late), which is its
 * warehouse's cohort (cohort_ship_late, warehouse_ship_late) and pages
 * there: one page per cause, not one more per lane the late orders went
 * down.  Subjects still list such a lane, so that it measures 0 and
 * resolves when only those are left. */
static bool lane_member(const struct sw_sig_slip *x)
{
	return !x->stage || strcmp(x->stage, "warehouse") != 0;
}

static enum sw_err lane_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids, size_t *ret_n,
				 char *err, size_t len)
{
	char id[ID_LEN], **ids = NULL;
	struct sw_sig_slip *sl;
	size_t n = 0, ns;
	enum sw_err rc;

	*ret_ids = NULL;
	*ret_n = 0;
	if ((rc = sw_store_sig_open_slips(ctx->st, &sl, &ns)))
		return store_failed(ctx, rc, err, len);
	for (size_t i = 0; i < ns; i++) {
		slip_id(&sl[i], id, sizeof(id));
		id_push(&ids, &n, id);
	}
	sw_store_sig_slips_free(sl, ns);
	ids_done(&ids, &n, ret_ids, ret_n);
	return SW_OK;
}

/* The lane's counts: size = members + the others on their way. */
static enum sw_err lane_judge(const struct sw_sig_ctx *ctx, const struct sw_sig_args *a,
			      const struct sw_sig_slip *first, struct cohort *c, char *err,
			      size_t len)
{
	int64_t since = a->now - a->window_s;
	struct sw_sig_lane lane;
	enum sw_err rc;

	cohort_params(ctx, a, c);
	rc = sw_store_sig_lane(ctx->st, first->courier, first->warehouse_id, first->dest, since,
			       since - c->days * DAY_S, &lane);
	if (rc)
		return store_failed(ctx, rc, err, len);
	c->size = c->count + lane.others;
	c->base_n = lane.base_parcels;
	c->base_slipped = lane.base_slipped;
	cohort_judge(c);
	return SW_OK;
}

static enum sw_err m_cohort_slips(const struct sw_sig_ctx *ctx, const char *id,
				  const struct sw_sig_args *a, struct sw_sig_value *out, char *err,
				  size_t len)
{
	const struct sw_sig_slip *first = NULL;
	struct cohort c = {0};
	struct sw_sig_slip *sl;
	char mine[ID_LEN], n1[32], n2[32];
	size_t ns;
	enum sw_err rc;

	if ((rc = sw_store_sig_open_slips(ctx->st, &sl, &ns)))
		return store_failed(ctx, rc, err, len);
	for (size_t i = 0; i < ns; i++) {
		slip_id(&sl[i], mine, sizeof(mine));
		if (strcmp(mine, id) != 0 || !lane_member(&sl[i]))
			continue;
		first = first ? first : &sl[i];
		cohort_add(&c, sl[i].entity, sl[i].stage);
	}
	out->has_data = true;
	out->enough = true; /* no members: nothing slipped, judged ok */
	snprintf(out->stage, sizeof(out->stage), "%s", c.stage ? c.stage : "");
	if (!first) {
		put(out->figures, sizeof(out->figures), "{\"count\":0,\"size\":0}");
		put(out->text, sizeof(out->text), "no open parcel slips in the lane %s", id);
		sw_store_sig_slips_free(sl, ns);
		return SW_OK;
	}
	if ((rc = lane_judge(ctx, a, first, &c, err, len))) {
		sw_store_sig_slips_free(sl, ns);
		return rc;
	}
	out->count = c.count;
	out->enough = c.size >= a->min_count;
	out->value = c.unusual ? (double)c.count : 0.0;
	cohort_figures(&c, a, "baseline_parcels", "baseline_slipped", NULL, out);
	thousands(c.count, n1, sizeof(n1));
	thousands(c.size, n2, sizeof(n2));
	put(out->text, sizeof(out->text),
	    "%s of %s parcels %s %s -> %s slipped (%.1f%%, usual %.1f%%)%s%s%s", n1, n2,
	    first->courier, first->warehouse_id, first->dest[0] ? first->dest : "?", c.share,
	    c.base, c.stage ? ", mostly " : "", c.stage ? c.stage : "",
	    c.unusual ? "" : ": as usual for the lane");
	sw_sig_int_feed_held(ctx, first->courier, NULL, a->now, out);
	sw_store_sig_slips_free(sl, ns);
	return SW_OK;
}

/* The open slips' entities in lane id, sorted (open slips come by entity). */
static enum sw_err lane_members(const struct sw_sig_ctx *ctx, const char *id, char ***ret_ids,
				size_t *ret_n, char *err, size_t len)
{
	char mine[ID_LEN], **ids = NULL;
	struct sw_sig_slip *sl;
	size_t n = 0, ns;
	enum sw_err rc;

	*ret_ids = NULL;
	*ret_n = 0;
	if ((rc = sw_store_sig_open_slips(ctx->st, &sl, &ns)))
		return store_failed(ctx, rc, err, len);
	for (size_t i = 0; i < ns; i++) {
		slip_id(&sl[i], mine, sizeof(mine));
		if (strcmp(mine, id) == 0 && lane_member(&sl[i]))
			id_push(&ids, &n, sl[i].entity);
	}
	sw_store_sig_slips_free(sl, ns);
	ids_done(&ids, &n, ret_ids, ret_n);
	return SW_OK;
}

/* The lane of a parcel entity: its courier, its order's warehouse and
 * destination. */
/* Whether the parcel's latest open slip ran over at the warehouse: then it
 * is no lane cohort's member (lane_member), and its customer hears of its
 * own slip, not of the lane's. */
static bool left_late(const struct sw_sig_ctx *ctx, const char *entity)
{
	struct sw_alert *open = NULL;
	size_t n = 0;
	bool late = false;

	if (sw_store_alert_open(ctx->st, entity, &open, &n) == SW_OK && n > 0) {
		const struct sw_alert *last = &open[0];

		for (size_t i = 1; i < n; i++)
			if (open[i].detected_at >= last->detected_at)
				last = &open[i];
		late = last->stage && strcmp(last->stage, "warehouse") == 0;
	}
	sw_store_alert_free(open, n);
	return late;
}

static enum sw_err lane_subject_of(const struct sw_sig_ctx *ctx, const char *entity, char *id,
				   size_t idlen, char *err, size_t len)
{
	char courier[ID_LEN], dest[SW_STAGE_DEST_MAX];
	struct sw_track *list = NULL;
	const char *tn;
	size_t n = 0;
	enum sw_err rc;

	if (idlen)
		id[0] = '\0';
	if (!split_entity(entity, "parcel:", courier, sizeof(courier), &tn))
		return SW_ENOTFOUND;
	if ((rc = sw_store_track_parcel(ctx->st, courier, tn, &list, &n)))
		return store_failed(ctx, rc, err, len);
	rc = SW_ENOTFOUND;
	if (n > 0 && list[0].parcel && list[0].order && !left_late(ctx, entity)) {
		const struct sw_order *o = list[0].order;

		sw_store_stage_dest(o->dest_country, o->dest_postal_code, o->dest_city, dest,
				    sizeof(dest));
		sw_signal_cohort_id(courier, o->warehouse_id, dest, id, idlen);
		rc = SW_OK;
	}
	sw_store_track_free(list, n);
	return rc;
}

/* ---- cohort_ship_late: open ship_late slips by warehouse and day (store) ---------- */

static void late_id(const struct sw_sig_ctx *ctx, const struct sw_sig_late_order *x, char *buf,
		    size_t len)
{
	sw_signal_ship_day_id(ctx, x->warehouse_id, x->ship_by, buf, len);
}

static enum sw_err day_subjects(const struct sw_sig_ctx *ctx, char ***ret_ids, size_t *ret_n,
				char *err, size_t len)
{
	struct sw_sig_late_order *lo;
	char id[ID_LEN], **ids = NULL;
	size_t n = 0, nl;
	enum sw_err rc;

	*ret_ids = NULL;
	*ret_n = 0;
	if ((rc = sw_store_sig_open_ship_late(ctx->st, &lo, &nl)))
		return store_failed(ctx, rc, err, len);
	for (size_t i = 0; i < nl; i++) {
		late_id(ctx, &lo[i], id, sizeof(id));
		id_push(&ids, &n, id);
	}
	sw_store_sig_late_orders_free(lo, nl);
	ids_done(&ids, &n, ret_ids, ret_n);
	return SW_OK;
}

/* The day's counts: size = the warehouse's orders due that day; usual =
 * its orders shipped after their ship-by over the baseline days before. */
static enum sw_err day_judge(const struct sw_sig_ctx *ctx, const struct sw_sig_args *a,
			     const struct sw_sig_late_order *first, struct cohort *c, char *day,
			     size_t dlen, char *err, size_t len)
{
	struct sw_sig_ship_day d;
	int64_t start, end;
	enum sw_err rc;

	cohort_params(ctx, a, c);
	ship_day(ctx, first->warehouse_id, first->ship_by, day, dlen, &start, &end);
	rc = sw_store_sig_ship_day(ctx->st, first->warehouse_id, start - c->days * DAY_S, start,
				   end, a->now, &d);
	if (rc)
		return store_failed(ctx, rc, err, len);
	c->size = d.due;
	c->base_n = d.base_orders;
	c->base_slipped = d.base_late;
	cohort_judge(c);
	return SW_OK;
}

static enum sw_err m_cohort_ship_late(const struct sw_sig_ctx *ctx, const char *id,
				      const struct sw_sig_args *a, struct sw_sig_value *out,
				      char *err, size_t len)
{
	const struct sw_sig_late_order *first = NULL;
	struct sw_sig_late_order *lo;
	struct cohort c = {0};
	char mine[ID_LEN], day[32], n1[32], n2[32];
	size_t nl;
	enum sw_err rc;

	if ((rc = sw_store_sig_open_ship_late(ctx->st, &lo, &nl)))
		return store_failed(ctx, rc, err, len);
	for (size_t i = 0; i < nl; i++) {
		late_id(ctx, &lo[i], mine, sizeof(mine));
		if (strcmp(mine, id) != 0)
			continue;
		first = first ? first : &lo[i];
		cohort_add(&c, lo[i].entity, lo[i].stage);
	}
	out->has_data = true;
	out->enough = true;
	snprintf(out->stage, sizeof(out->stage), "%s", c.stage ? c.stage : "warehouse");
	if (!first) {
		put(out->figures, sizeof(out->figures), "{\"count\":0,\"size\":0}");
		put(out->text, sizeof(out->text), "no orders of %s past their ship-by", id);
		sw_store_sig_late_orders_free(lo, nl);
		return SW_OK;
	}
	if ((rc = day_judge(ctx, a, first, &c, day, sizeof(day), err, len))) {
		sw_store_sig_late_orders_free(lo, nl);
		return rc;
	}
	out->count = c.count;
	out->enough = c.size >= a->min_count;
	out->value = c.unusual ? (double)c.count : 0.0;
	cohort_figures(&c, a, "baseline_orders", "baseline_late", day, out);
	thousands(c.count, n1, sizeof(n1));
	thousands(c.size, n2, sizeof(n2));
	put(out->text, sizeof(out->text),
	    "%s of %s orders of %s due to ship on %s not shipped by their ship-by (%.1f%%, "
	    "usual %.1f%% late)%s",
	    n1, n2, first->warehouse_id, day, c.share, c.base,
	    c.unusual ? "" : ": as usual for the warehouse");
	sw_sig_int_feed_held(ctx, NULL, first->warehouse_id, a->now, out);
	sw_store_sig_late_orders_free(lo, nl);
	return SW_OK;
}

/* The open ship_late slips' entities of id, sorted. */
static enum sw_err day_members(const struct sw_sig_ctx *ctx, const char *id, char ***ret_ids,
			       size_t *ret_n, char *err, size_t len)
{
	struct sw_sig_late_order *lo;
	char mine[ID_LEN], **ids = NULL;
	size_t n = 0, nl;
	enum sw_err rc;

	*ret_ids = NULL;
	*ret_n = 0;
	if ((rc = sw_store_sig_open_ship_late(ctx->st, &lo, &nl)))
		return store_failed(ctx, rc, err, len);
	for (size_t i = 0; i < nl; i++) {
		late_id(ctx, &lo[i], mine, sizeof(mine));
		if (strcmp(mine, id) == 0)
			id_push(&ids, &n, lo[i].entity);
	}
	sw_store_sig_late_orders_free(lo, nl);
	ids_done(&ids, &n, ret_ids, ret_n);
	return SW_OK;
}

/* The ship day of an order entity: its warehouse and promised ship-by. */
static enum sw_err day_subject_of(const struct sw_sig_ctx *ctx, const char *entity, char *id,
				  size_t idlen, char *err, size_t len)
{
	char wh[ID_LEN];
	struct sw_track *list = NULL;
	const char *oid;
	size_t n = 0;
	enum sw_err rc;

	if (idlen)
		id[0] = '\0';
	if (!split_entity(entity, "order:", wh, sizeof(wh), &oid))
		return SW_ENOTFOUND;
	if ((rc = sw_store_track_order(ctx->st, wh, oid, &list, &n)))
		return store_failed(ctx, rc, err, len);
	rc = SW_ENOTFOUND;
	if (n > 0 && list[0].order && list[0].order->promised_ship_by.at) {
		const struct sw_order *o = list[0].order;

		sw_signal_ship_day_id(ctx, o->warehouse_id, o->promised_ship_by.at, id, idlen);
		rc = SW_OK;
	}
	sw_store_track_free(list, n);
	return rc;
}

/* ---- the rows ------------------------------------------------------------------- */

const struct sw_signal sw_sig_cohort_slips = {
    .name = "cohort_slips",
    .subject = SW_SIG_LANE,
    .above = true,
    .unit = "parcels",
    .what = "open parcel slips of one courier + warehouse + destination lane when their share "
	    "of the lane's parcels is unusual (factor x the lane's usual slip rate), else 0 "
	    "(store)",
    .rrd = false,
    .subjects = lane_subjects,
    .measure = m_cohort_slips,
    .subject_of = lane_subject_of,
    .members = lane_members,
};

const struct sw_signal sw_sig_cohort_ship_late = {
    .name = "cohort_ship_late",
    .subject = SW_SIG_SHIP_DAY,
    .above = true,
    .unit = "orders",
    .what = "orders of one warehouse due to ship on one day and not shipped by their ship-by "
	    "when their share of the day's orders is unusual (factor x the warehouse's usual "
	    "rate of orders shipped late), else 0 (store)",
    .rrd = false,
    .subjects = day_subjects,
    .measure = m_cohort_ship_late,
    .subject_of = day_subject_of,
    .members = day_members,
};
