/*
 * notice.c - one customer message from the rows of one order (notice.h).
 *
 * A part's kind is its template kind: "cohort" for a cohort notice, a
 * follow-up's news, else its slip kind; an item's issue always tells the
 * slip itself (own_kind), so a cohort message still says what happened
 * to each parcel.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/notice.h"
#include "lib/swtime.h"
#include "lib/urltmpl.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier_info.h"

#define ITEMS_MAX 32 /* parcels listed in one message */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- order of seriousness ------------------------------------------------ */

/* Most serious first (notice.h); every kind of kinds.h has its place. */
static const enum sw_tpl_kind rank_order[] = {
	SW_TPL_RETURNING, SW_TPL_EXCEPTION, SW_TPL_ATTEMPT_FAIL, SW_TPL_AVAILABLE_FOR_PICKUP,
	SW_TPL_COHORT, SW_TPL_LATE, SW_TPL_STALLED, SW_TPL_NO_FIRST_SCAN, SW_TPL_ETA_SLIP,
	SW_TPL_SHIP_LATE, SW_TPL_DELIVERED, SW_TPL_SHIPPED, SW_TPL_MOVING,
};
_Static_assert(sizeof(rank_order) / sizeof(rank_order[0]) == SW_TPL_KIND_LAST,
	       "a kind of kinds.h without its place in rank_order");

static bool is_followup(const struct sw_notice_part *p)
{
	return strncmp(p->row->slip_kind, "resolved_", 9) == 0;
}

/* The row's own kind: its slip, or a follow-up's news. */
static const char *own_kind(const struct sw_notice_part *p)
{
	const char *k = p->row->slip_kind;

	return is_followup(p) && p->chk.news[0] ? p->chk.news : k;
}

/* Its template kind (a follow-up is never a cohort notice). */
static const char *part_kind(const struct sw_notice_part *p)
{
	return p->cohort.on && !is_followup(p) ? sw_tpl_kind_name(SW_TPL_COHORT) : own_kind(p);
}

int sw_notice_rank(const struct sw_notice_part *p)
{
	enum sw_tpl_kind k;

	if (sw_tpl_kind_from_name(part_kind(p), &k) != SW_OK)
		return SW_TPL_KIND_LAST;
	for (int i = 0; i < SW_TPL_KIND_LAST; i++)
		if (rank_order[i] == k)
			return i;
	return SW_TPL_KIND_LAST;
}

static int part_cmp(const void *a, const void *b)
{
	const struct sw_notice_part *x = a, *y = b;
	int rx = sw_notice_rank(x), ry = sw_notice_rank(y);

	if (rx != ry)
		return rx - ry;
	return (x->row->id > y->row->id) - (x->row->id < y->row->id);
}

void sw_notice_sort(struct sw_notice_part *parts, size_t n)
{
	qsort(parts, n, sizeof(*parts), part_cmp);
}

enum sw_err sw_notice_tpl_kind(const struct sw_notice_part *p, enum sw_tpl_kind *ret)
{
	return sw_tpl_kind_from_name(part_kind(p), ret);
}

/* ---- values ---------------------------------------------------------------- */

/* The delivery promise, in the customer's zone and language. */
static void delivery_date(const json_t *vars, const char *zone, const char *loc, char *buf,
			  size_t len)
{
	const char *kind = jstr(vars, "promise_kind"), *text = jstr(vars, "promise_text");
	json_int_t at = json_integer_value(json_object_get(vars, "promise_at"));
	struct sw_date d;

	buf[0] = '\0';
	if (kind && strcmp(kind, "date") == 0 && text && sw_date_parse(text, &d, NULL, 0) == SW_OK)
		sw_tpl_format_date(&d, loc, buf, len);
	else if (kind && at > 0)
		sw_tpl_format_instant(at, zone, loc, buf, len);
}

/* An ETA is quoted only while it is today or later in the customer's
 * zone: a date the courier never updated is not news. */
static void future_eta(const char *eta, const char *zone, int64_t now, const char *loc,
		       char *buf, size_t len)
{
	struct sw_tz_local lt;
	struct sw_date d;

	buf[0] = '\0';
	if (!eta || sw_date_parse(eta, &d, NULL, 0) != SW_OK ||
	    sw_tz_utc_to_local(zone, now, &lt) != SW_OK)
		return;
	if (d.year < lt.date.year ||
	    (d.year == lt.date.year &&
	     (d.month < lt.date.month || (d.month == lt.date.month && d.day < lt.date.day))))
		return;
	sw_tpl_format_date(&d, loc, buf, len);
}

/* ---- building ---------------------------------------------------------------- */

struct item_text {
	char new_date[SW_TPL_DATE_STRLEN];
	char issue[512]; /* the summaries of its kinds, "; "-joined */
	char *link;
};

struct build {
	const struct sw_alerts_conf *conf;
	const struct sw_tpl_set *tpl;
	const struct sw_notice_part *parts;
	size_t n;
	int64_t now;
	const json_t *lv; /* the lead's values */
	const char *zone, *recipient;
	char loc[SW_TPL_LOCALE_MAX + 1];
	struct sw_tpl_item items[ITEMS_MAX];
	struct item_text it[ITEMS_MAX];
	size_t n_items;
	bool several_issues; /* a parcel listed has more than one issue */
	bool lead_cohort;    /* the message is a cohort notice */
};

/* A part's parcel: the queued one, else (a follow-up of an order slip)
 * the one the re-check found. */
static const char *part_courier(const struct sw_notice_part *p)
{
	const char *c = jstr(p->vars, "courier");

	return c ? c : p->chk.courier[0] ? p->chk.courier : NULL;
}

static const char *part_tracking(const struct sw_notice_part *p)
{
	const char *t = jstr(p->vars, "tracking");

	return t ? t : p->chk.tracking[0] ? p->chk.tracking : NULL;
}

/* Adds the summary of p's own kind to an item's issue (each kind once). */
static void add_issue(struct item_text *t, const struct sw_notice_part *p,
		      const struct sw_tpl_set *tpl, const struct sw_tpl *lead)
{
	enum sw_tpl_kind k;
	const char *sum;
	size_t used = strlen(t->issue);

	if (sw_tpl_kind_from_name(own_kind(p), &k) != SW_OK)
		return;
	sum = sw_tpl_summary(sw_tpl_pick(tpl, k, sw_tpl_locale(lead)));
	if (!sum || !*sum || strstr(t->issue, sum))
		return;
	snprintf(t->issue + used, sizeof(t->issue) - used, "%s%s", used ? "; " : "", sum);
}

/* The freshest ETA of a part: the re-check's, else the queued one. */
static const char *part_eta(const struct sw_notice_part *p)
{
	return p->chk.eta[0] ? p->chk.eta : jstr(p->vars, "eta");
}

/* One list item per parcel of the message (first part of a parcel wins:
 * parts are sorted, so it carries the parcel's most serious issue). */
static void add_items(struct build *b, const struct sw_tpl *lead)
{
	for (size_t i = 0; i < b->n && b->n_items < ITEMS_MAX; i++) {
		const struct sw_notice_part *p = &b->parts[i];
		const char *tn = part_tracking(p), *courier = part_courier(p);
		struct sw_tpl_item *item = &b->items[b->n_items];
		struct item_text *t = &b->it[b->n_items];
		size_t j;

		if (!tn || !courier)
			continue;
		for (j = 0; j < b->n_items; j++)
			if (strcmp(b->items[j].tracking_number, tn) == 0)
				break;
		if (j < b->n_items) { /* one more issue of a parcel listed */
			add_issue(&b->it[j], p, b->tpl, lead);
			b->items[j].issue = b->it[j].issue;
			b->several_issues = true;
			continue;
		}
		memset(item, 0, sizeof(*item));
		item->courier = sw_courier_info_display_name(courier);
		item->tracking_number = tn;
		t->link = sw_url_expand(b->conf->tracking_url, courier, tn, b->recipient,
				     jstr(p->vars, "order_id"));
		item->tracking_link = t->link;
		t->issue[0] = '\0';
		add_issue(t, p, b->tpl, lead);
		item->issue = t->issue;
		future_eta(part_eta(p), b->zone, b->now, b->loc, t->new_date, sizeof(t->new_date));
		item->new_date = t->new_date;
		b->n_items++;
	}
}

/* The stages a cohort message words (template.h: stage_*), in the order
 * of its stage values. */
static const char *const cohort_stages[] = { "warehouse", "first_mile", "line_haul", "last_mile" };
#define N_COHORT_STAGES (sizeof(cohort_stages) / sizeof(cohort_stages[0]))

/* The index of stage in cohort_stages, or N_COHORT_STAGES: unknown. */
static size_t cohort_stage(const char *stage)
{
	size_t i;

	for (i = 0; i < N_COHORT_STAGES && strcmp(stage, cohort_stages[i]) != 0; i++)
		;
	return i;
}

/* The facts of a cohort notice: which incident it tells about. */
static json_t *cohort_json(const struct sw_notice_cohort *c)
{
	json_t *o = json_object();
	size_t st = cohort_stage(c->stage);

	json_object_set_new(o, "rule", json_string(c->rule));
	json_object_set_new(o, "subject", json_string(c->subject));
	json_object_set_new(o, "incident", json_integer(c->incident));
	json_object_set_new(o, "stage",
			    json_string(st < N_COHORT_STAGES ? cohort_stages[st] : "unknown"));
	return o;
}

/* The facts of the message as JSON (the webhook's "facts"). */
static char *facts_json(const struct build *b)
{
	json_t *f = json_object(), *kinds = json_array(), *parcels = json_array();
	const json_t *lv = b->lv;
	char *text;

	for (size_t i = 0; i < b->n; i++)
		json_array_append_new(kinds, json_string(own_kind(&b->parts[i])));
	for (size_t i = 0; i < b->n_items; i++) {
		json_t *p = json_object();

		json_object_set_new(p, "courier", json_string(b->items[i].courier));
		json_object_set_new(p, "tracking_number",
				    json_string(b->items[i].tracking_number));
		if (b->items[i].tracking_link)
			json_object_set_new(p, "tracking_link",
					    json_string(b->items[i].tracking_link));
		if (*b->it[i].new_date)
			json_object_set_new(p, "new_date", json_string(b->it[i].new_date));
		json_array_append_new(parcels, p);
	}
	json_object_set_new(f, "kinds", kinds);
	json_object_set_new(f, "parcels", parcels);
	if (b->lead_cohort)
		json_object_set_new(f, "cohort", cohort_json(&b->parts[0].cohort));
	if (jstr(lv, "promise_text"))
		json_object_set_new(f, "delivery_promise", json_string(jstr(lv, "promise_text")));
	text = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(f);
	return text;
}

/* The cohort template's cause: exactly one stage value set
 * (template.h). */
static void stage_values(const char *stage, struct sw_tpl_values *v)
{
	const char **set[N_COHORT_STAGES + 1] = { &v->stage_warehouse, &v->stage_first_mile,
						  &v->stage_line_haul, &v->stage_last_mile,
						  &v->stage_unknown };

	*set[cohort_stage(stage)] = "yes";
}

/* The values of the lead template. */
static void lead_values(struct build *b, const struct sw_notice_part *lead, enum sw_tpl_kind k,
			struct sw_notice_built *out, struct sw_tpl_values *v, char *dd, char *sb,
			char *nd, char *count)
{
	const json_t *lv = b->lv;
	json_int_t ship_by = json_integer_value(json_object_get(lv, "ship_by_at"));
	enum sw_slip sk;

	delivery_date(lv, b->zone, b->loc, dd, SW_TPL_DATE_STRLEN);
	if (k == SW_TPL_SHIP_LATE && ship_by > 0)
		sw_tpl_format_instant(ship_by, b->zone, b->loc, sb, SW_TPL_DATE_STRLEN);
	future_eta(part_eta(lead), b->zone, b->now, b->loc, nd, SW_TPL_DATE_STRLEN);
	sw_tpl_format_number(lead->chk.parcels > (int)b->n_items ? lead->chk.parcels
								 : (int64_t)b->n_items,
			     b->loc, count, 32);
	out->tracking_link = sw_url_expand(b->conf->tracking_url, part_courier(lead),
					part_tracking(lead), b->recipient, jstr(lv, "order_id"));
	out->unsub_link = sw_url_expand(b->conf->unsubscribe_url, part_courier(lead),
				     part_tracking(lead), b->recipient, jstr(lv, "order_id"));
	v->customer_name = jstr(lv, "name");
	v->order_id = jstr(lv, "order_id");
	v->tracking_number = part_tracking(lead);
	v->courier = sw_courier_info_display_name(part_courier(lead));
	v->tracking_link = out->tracking_link;
	v->delivery_date = *dd ? dd : NULL;
	v->promised_date = v->delivery_date;
	v->ship_by_date = *sb ? sb : NULL;
	v->new_date = nd;
	v->shop_name = b->conf->shop_name;
	v->unsubscribe_link = out->unsub_link;
	v->parcel_count = count;
	v->followup = sw_slip_from_name(lead->row->slip_kind, &sk) == SW_OK &&
				      b->conf->has_followup[sk]
			      ? "yes"
			      : NULL;
	v->others = b->n_items > 1 || b->several_issues ? "yes" : NULL;
	v->items = b->items;
	v->n_items = b->n_items;
	if (k == SW_TPL_COHORT)
		stage_values(lead->cohort.stage, v);
}

static void fill_notice(const struct build *b, const struct sw_notice_part *lead,
			struct sw_notice_built *out)
{
	struct sw_notice *nt = &out->notice;
	const json_t *lv = b->lv;

	snprintf(out->key, sizeof(out->key), "slipwatch-%lld-%lld", (long long)lead->row->id,
		 (long long)lead->row->created_at);
	nt->id = lead->row->id;
	nt->created_at = lead->row->created_at;
	nt->key = out->key;
	nt->kind = part_kind(lead);
	nt->recipient = lead->row->recipient;
	nt->recipient_name = jstr(lv, "name");
	nt->phone = jstr(lv, "phone");
	nt->locale = jstr(lv, "locale");
	nt->order_id = jstr(lv, "order_id");
	nt->warehouse_id = jstr(lv, "warehouse_id");
	nt->subject = out->msg.subject;
	nt->text = out->msg.text;
	nt->html = out->msg.html;
	nt->unsubscribe_link = out->unsub_link;
	nt->one_click = b->conf->one_click;
	nt->facts_json = out->facts;
	nt->date = b->now;
}

enum sw_err sw_notice_build(const struct sw_alerts_conf *conf, const struct sw_tpl_set *tpl,
			    const struct sw_notice_part *parts, size_t n, int64_t now,
			    struct sw_notice_built *out, char *err, size_t errlen)
{
	char dd[SW_TPL_DATE_STRLEN], sb[SW_TPL_DATE_STRLEN] = "", nd[SW_TPL_DATE_STRLEN];
	char count[32] = "";
	struct build *b = xcalloc(1, sizeof(*b));
	struct sw_tpl_values v = { 0 };
	const struct sw_tpl *lt;
	enum sw_tpl_kind k;
	enum sw_err rc = SW_EINVAL;

	memset(out, 0, sizeof(*out));
	b->conf = conf;
	b->tpl = tpl;
	b->parts = parts;
	b->n = n;
	b->now = now;
	b->lv = parts[0].vars;
	b->recipient = parts[0].row->recipient;
	b->zone = jstr(b->lv, "zone");
	if (!b->zone || !sw_tz_valid(b->zone))
		b->zone = conf->default_timezone;
	if (sw_notice_tpl_kind(&parts[0], &k) != SW_OK) {
		snprintf(err, errlen, "no template kind '%s'", part_kind(&parts[0]));
		goto out;
	}
	b->lead_cohort = k == SW_TPL_COHORT;
	lt = sw_tpl_pick(tpl, k, jstr(b->lv, "locale"));
	sw_tpl_format_locale(lt, jstr(b->lv, "locale"), b->loc, sizeof(b->loc));
	add_items(b, lt);
	lead_values(b, &parts[0], k, out, &v, dd, sb, nd, count);
	out->facts = facts_json(b);
	if ((rc = sw_tpl_render(lt, &v, &out->msg, err, errlen)) == SW_OK)
		fill_notice(b, &parts[0], out);
out:
	for (size_t i = 0; i < b->n_items; i++)
		free(b->it[i].link);
	free(b);
	return rc;
}

void sw_notice_built_free(struct sw_notice_built *b)
{
	sw_tpl_msg_free(&b->msg);
	free(b->tracking_link);
	free(b->unsub_link);
	free(b->facts);
	memset(b, 0, sizeof(*b));
}
