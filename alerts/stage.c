/*
 * stage.c - the stage that ran over (see stage.h).
 *
 * The table is one array of baselines sorted by leg, warehouse,
 * destination and courier (NULL first), searched with bsearch; rows with
 * fewer than min_samples durations are dropped when it is read, so a
 * look-up that finds nothing falls back to the next scope.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/stage.h"
#include "lib/xmalloc.h"

struct sw_stage_table {
	struct sw_leg_p90 *rows;
	size_t n;
	int64_t read_at; /* last read attempt; 0 never */
};

struct sw_stage_table *sw_stage_new(void)
{
	return xcalloc(1, sizeof(struct sw_stage_table));
}

void sw_stage_free(struct sw_stage_table *t)
{
	if (!t)
		return;
	sw_store_stage_p90_free(t->rows, t->n);
	free(t);
}

size_t sw_stage_count(const struct sw_stage_table *t)
{
	return t->n;
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int cmp_row(const void *va, const void *vb)
{
	const struct sw_leg_p90 *a = va, *b = vb;
	int c;

	if (a->leg != b->leg)
		return a->leg < b->leg ? -1 : 1;
	if ((c = cmp_str(a->warehouse_id, b->warehouse_id)) || (c = cmp_str(a->dest, b->dest)))
		return c;
	return cmp_str(a->courier, b->courier);
}

enum sw_err sw_stage_refresh(struct sw_stage_table *t, struct sw_store *st, int64_t now,
			     int64_t days, int64_t min_samples, bool force)
{
	struct sw_leg_p90 *rows;
	size_t n, kept = 0;
	enum sw_err rc;

	if (now <= 0 || days < 1 || min_samples < 1)
		return SW_EINVAL;
	if (!force && t->read_at && now >= t->read_at && now - t->read_at < SW_STAGE_REFRESH)
		return SW_OK;
	t->read_at = now;
	if ((rc = sw_store_stage_p90(st, now - days * 86400, now, &rows, &n)) != SW_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].samples >= min_samples) {
			rows[kept++] = rows[i];
			continue;
		}
		free(rows[i].warehouse_id);
		free(rows[i].dest);
		free(rows[i].courier);
	}
	if (kept)
		qsort(rows, kept, sizeof(*rows), cmp_row);
	sw_store_stage_p90_free(t->rows, t->n);
	t->rows = rows;
	t->n = kept;
	return SW_OK;
}

static const struct sw_leg_p90 *find(const struct sw_stage_table *t, enum sw_leg leg,
				     const char *wh, const char *dest, const char *courier)
{
	struct sw_leg_p90 key = {leg, (char *)wh, (char *)dest, (char *)courier, 0, 0};

	if (!t || t->n == 0)
		return NULL;
	return bsearch(&key, t->rows, t->n, sizeof(*t->rows), cmp_row);
}

/* The baseline of leg for a unit: its lane's, else the wide one. */
static void baseline(const struct sw_stage_table *t, enum sw_leg leg, const char *wh,
		     const char *dest, const char *courier, struct sw_stage_leg *out)
{
	bool wh_leg = leg == SW_LEG_WAREHOUSE;
	const struct sw_leg_p90 *r = NULL;

	if (wh && (wh_leg || courier))
		r = find(t, leg, wh, dest, wh_leg ? NULL : courier);
	out->scope = "lane";
	if (!r && wh_leg && wh) {
		r = find(t, leg, wh, NULL, NULL);
		out->scope = "warehouse";
	} else if (!r && !wh_leg && courier) {
		r = find(t, leg, NULL, NULL, courier);
		out->scope = "courier";
	}
	if (!r) {
		out->scope = NULL;
		return;
	}
	out->p90_s = r->p90_s;
	out->samples = r->samples;
}

/* Where the legs start and end: created, shipped, first scan, out for
 * delivery, delivered or the first attempt (0: not known). */
static void marks_of(const struct sw_order *o, const struct sw_parcel *p,
		     const struct sw_leg_marks *m, int64_t at[SW_LEG_LAST + 1])
{
	int64_t dl = p ? p->delivered_at.at : 0, att = m ? m->attempt_at : 0;

	at[0] = o ? o->stage[SW_STAGE_CREATED].at : 0;
	at[1] = p && p->shipped_at.at ? p->shipped_at.at : o ? o->stage[SW_STAGE_SHIPPED].at : 0;
	at[2] = p ? p->first_scan_at.at : 0;
	at[3] = m ? m->out_for_delivery_at : 0;
	at[4] = att && (!dl || att < dl) ? att : dl;
}

/* When a leg that has not ended stops counting: now, or when the unit
 * closed (a parcel in a terminal status, a cancelled order). */
static int64_t stop_of(const struct sw_order *o, const struct sw_parcel *p, int64_t now)
{
	if (p && p->terminal && p->last_event_at.at && p->last_event_at.at < now)
		return p->last_event_at.at;
	if (o && o->stage[SW_STAGE_CANCELLED].at && o->stage[SW_STAGE_CANCELLED].at < now)
		return o->stage[SW_STAGE_CANCELLED].at;
	return now;
}

static void lane_text(const struct sw_order *o, const struct sw_parcel *p, const char *dest,
		      char *buf, size_t len)
{
	const char *wh = o ? o->warehouse_id : p ? p->warehouse_id : NULL;

	snprintf(buf, len, "%s -> %s%s%s", wh ? wh : "?", *dest ? dest : "?", p ? " via " : "",
		 p ? p->courier : "");
}

void sw_stage_judge(const struct sw_stage_table *t, const struct sw_order *o,
		    const struct sw_parcel *p, const struct sw_leg_marks *m, int64_t now,
		    struct sw_stage_verdict *out)
{
	const char *wh = o ? o->warehouse_id : p ? p->warehouse_id : NULL;
	char dest[SW_STAGE_DEST_MAX] = "";
	int64_t at[SW_LEG_LAST + 1], stop = stop_of(o, p, now);
	int legs = p ? SW_LEG_LAST : 1;

	memset(out, 0, sizeof(*out));
	out->over = -1;
	if (o)
		sw_store_stage_dest(o->dest_country, o->dest_postal_code, o->dest_city, dest,
				    sizeof(dest));
	lane_text(o, p, dest, out->lane, sizeof(out->lane));
	marks_of(o, p, m, at);
	for (int i = 0; i < legs; i++) {
		struct sw_stage_leg *l = &out->leg[i];
		int64_t p90;

		if (!at[i])
			continue;
		l->start = at[i];
		for (int j = i + 1; j <= SW_LEG_LAST && !l->end; j++)
			l->end = at[j];
		if (!l->end) {
			l->end = stop;
			l->running = true;
		}
		baseline(t, (enum sw_leg)i, wh, dest, p ? p->courier : NULL, l);
		if (!l->scope || l->end < l->start)
			continue;
		p90 = l->p90_s < SW_STAGE_MIN_P90 ? SW_STAGE_MIN_P90 : l->p90_s;
		l->ratio = (double)(l->end - l->start) / (double)p90;
		if (l->ratio > 1.0 && l->ratio > out->ratio) {
			out->over = i;
			out->ratio = l->ratio;
		}
	}
}

enum sw_err sw_stage_judge_unit(const struct sw_stage_table *t, struct sw_store *st,
				const struct sw_order *o, const struct sw_parcel *p, int64_t now,
				struct sw_stage_verdict *out)
{
	struct sw_leg_marks m = {0, 0};
	enum sw_err rc = SW_OK;

	/* only a parcel past in transit can have these marks: the others
	 * cost no journal read */
	if (p && p->first_scan_at.at && p->status != SW_SHIP_IN_TRANSIT &&
	    p->status != SW_SHIP_PENDING && p->status != SW_SHIP_INFO_RECEIVED)
		rc = sw_store_stage_marks(st, p->courier, p->tracking_number, &m);
	sw_stage_judge(t, o, p, rc == SW_OK ? &m : NULL, now, out);
	return rc;
}

const char *sw_stage_pick(const struct sw_stage_verdict *v, const char *static_stage)
{
	return v->over >= 0 ? sw_leg_name((enum sw_leg)v->over) : static_stage;
}

/* "3d 4h", "5h 12m", "7m" into buf. */
static const char *span(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	return buf;
}

int sw_stage_describe(const struct sw_stage_verdict *v, char *buf, size_t len)
{
	const struct sw_stage_leg *l;
	char took[32], usual[32];
	bool any = false;

	if (v->over < 0) {
		for (int i = 0; i < SW_LEG_LAST; i++)
			any |= v->leg[i].scope != NULL;
		return snprintf(buf, len, "%s (lane %s)",
				any ? "no stage ran over its lane's p90"
				    : "no baseline for this lane",
				v->lane);
	}
	l = &v->leg[v->over];
	return snprintf(
	    buf, len, "%s ran over: %.1fx its p90 (%s%s vs %s, %s p90 of lane %s, %lld samples)",
	    sw_leg_name((enum sw_leg)v->over), v->ratio,
	    span(l->end - l->start, took, sizeof(took)), l->running ? " so far" : "",
	    span(l->p90_s, usual, sizeof(usual)), l->scope, v->lane, (long long)l->samples);
}

const char *sw_stage_words(const char *name)
{
	static const struct {
		const char *name, *words;
	} words[] = {
	    {"warehouse", "warehouse"}, {"first_mile", "first mile"}, {"line_haul", "line haul"},
	    {"last_mile", "last mile"}, {"courier", "courier"},	      {"engine", "engine"},
	    {"email", "email"},
	};

	if (!name || !*name)
		return NULL;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(name, words[i].name) == 0)
			return words[i].words;
	return name;
}

int sw_stage_with_ratio(const char *name, double ratio, char *buf, size_t len)
{
	if (!name || !*name)
		return snprintf(buf, len, "%s", "");
	if (ratio > 0)
		return snprintf(buf, len, "%s %.1fx p90", name, ratio);
	return snprintf(buf, len, "%s", name);
}
