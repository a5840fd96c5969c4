/*
 * world_trouble.c - the second half of building slipwatch-sim's world
 * (world_int.h): injected trouble moves the base plan, a last pass moves
 * deliveries clear of their promise, the slips are derived from the final
 * plan by alerts/eval.c's rules, and the warehouse events are laid out in
 * publishing order (reordered, duplicated, held by a stopped feed).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store_stage.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "sim/rng.h"
#include "sim/world_int.h"

#define H 3600
#define MIN 60
#define DAY 86400

static int64_t day_start(int64_t t, int32_t off)
{
	int64_t l = t + off;
	int64_t d = l >= 0 ? l / DAY : (l - DAY + 1) / DAY;
	return d * DAY - off;
}

/* ---- trouble ------------------------------------------------------------------------ */

struct tctx {
	struct sim_world *w;
	const struct sim_trouble_conf *t;
	struct sim_trouble_x *tx;
	size_t ti;
	struct sim_rng r;
};

static bool match_order(const struct tctx *c, size_t k)
{
	const struct sim_order *o = &c->w->orders[k];
	size_t nd;
	const struct sim_dest *d = sim_dests(&nd) + c->w->ox[k].dest;

	return !o->cancelled && (!c->t->warehouse || strcmp(c->t->warehouse, o->warehouse) == 0) &&
	       (!c->t->lane || strcmp(c->t->lane, d->prefix) == 0);
}

static bool match_parcel(const struct tctx *c, const struct sim_parcel *p)
{
	return !c->t->courier || strcmp(c->t->courier, p->courier) == 0;
}

static void shift_from(struct sim_parcel *p, int64_t t0, int64_t delta)
{
	for (size_t i = 0; i < p->n_scans; i++)
		if (p->scans[i].at >= t0)
			p->scans[i].at += delta;
}

static void add_subject(struct sim_trouble_x *tx, const char *s)
{
	for (size_t i = 0; i < tx->n_subjects; i++)
		if (strcmp(tx->subjects[i], s) == 0)
			return;
	if (tx->n_subjects < 8)
		snprintf(tx->subjects[tx->n_subjects++], sizeof(tx->subjects[0]), "%s", s);
}

static void hit(struct tctx *c, size_t k, size_t parcels)
{
	if (!(c->w->ox[k].troubles & (1u << c->ti)))
		c->tx->n_orders++;
	c->w->ox[k].troubles |= 1u << c->ti;
	c->tx->n_parcels += parcels;
}

static void warehouse_late(struct tctx *c, size_t k)
{
	struct sim_order *o = &c->w->orders[k];
	struct sim_order_x *x = &c->w->ox[k];
	int64_t delta;
	char subj[64], day[SW_TIME_STRLEN];

	if (o->created_at < c->tx->from || o->created_at >= c->tx->until ||
	    !match_parcel(c, &o->parcels[0]) || sim_rng_unit(&c->r) >= c->t->share)
		return;
	delta = o->promised_ship_by + c->t->delay + sim_rng_range(&c->r, 0, H) - o->parcels[0].shipped_at;
	x->picked_at += delta;
	x->packed_at += delta;
	for (size_t i = 0; i < o->n_parcels; i++) {
		o->parcels[i].shipped_at += delta;
		shift_from(&o->parcels[i], 0, delta);
	}
	hit(c, k, o->n_parcels);
	sim_format_time(o->promised_ship_by, c->w->wh_off[x->wh], day, sizeof(day));
	day[10] = '\0';
	snprintf(subj, sizeof(subj), "%s/%s", o->warehouse, day);
	add_subject(c->tx, subj);
}

static void lane_stall(struct tctx *c, size_t k)
{
	struct sim_order *o = &c->w->orders[k];
	size_t nd;
	const struct sim_dest *d = sim_dests(&nd) + c->w->ox[k].dest;

	for (size_t j = 0; j < o->n_parcels; j++) {
		struct sim_parcel *p = &o->parcels[j];
		size_t i = 0;
		char dest[SW_STAGE_DEST_MAX], subj[128];

		if (!match_parcel(c, p))
			continue;
		while (i < p->n_scans && p->scans[i].at < c->tx->from)
			i++;
		/* in transit (picked up, not delivered) when the hub stalls */
		if (i < 2 || i == p->n_scans ||
		    (p->scans[i - 1].status != SW_SHIP_IN_TRANSIT &&
		     p->scans[i - 1].status != SW_SHIP_OUT_FOR_DELIVERY) ||
		    sim_rng_unit(&c->r) >= c->t->share)
			continue;
		shift_from(p, c->tx->from, c->tx->until - c->tx->from);
		hit(c, k, 1);
		sw_store_stage_dest(d->country, d->postal, d->city, dest, sizeof(dest));
		snprintf(subj, sizeof(subj), "%s/%s/%s", p->courier, o->warehouse, dest);
		add_subject(c->tx, subj);
	}
}

static void insert_scan(struct sim_parcel *p, size_t at, struct sim_scan s)
{
	p->scans = xreallocarray(p->scans, p->n_scans + 1, sizeof(*p->scans));
	memmove(&p->scans[at + 1], &p->scans[at], (p->n_scans - at) * sizeof(*p->scans));
	p->scans[at] = s;
	p->n_scans++;
}

static void attempt_fail(struct tctx *c, size_t k)
{
	struct sim_order *o = &c->w->orders[k];

	for (size_t j = 0; j < o->n_parcels; j++) {
		struct sim_parcel *p = &o->parcels[j];
		size_t n = p->n_scans;
		struct sim_scan *ofd = &p->scans[n - 2], *del = &p->scans[n - 1];

		if (!match_parcel(c, p) || ofd->at < c->tx->from || ofd->at >= c->tx->until ||
		    del->status != SW_SHIP_DELIVERED || sim_rng_unit(&c->r) >= c->t->share)
			continue;
		struct sim_scan ofd2 = *ofd, del2 = *del;
		ofd2.at += DAY;
		del2.at += DAY;
		del->status = SW_SHIP_ATTEMPT_FAIL;
		del->text = "Delivery attempted: recipient not available";
		insert_scan(p, n, del2);
		insert_scan(p, n, ofd2);
		hit(c, k, 1);
	}
}

static void exception(struct tctx *c, size_t k)
{
	struct sim_order *o = &c->w->orders[k];

	for (size_t j = 0; j < o->n_parcels; j++) {
		struct sim_parcel *p = &o->parcels[j];
		size_t i = 2;

		if (!match_parcel(c, p))
			continue;
		while (i + 1 < p->n_scans &&
		       (p->scans[i].status != SW_SHIP_IN_TRANSIT || p->scans[i].at < c->tx->from))
			i++;
		if (i + 1 >= p->n_scans || p->scans[i].at >= c->tx->until ||
		    sim_rng_unit(&c->r) >= c->t->share)
			continue;
		int64_t gap = p->scans[i + 1].at - p->scans[i].at;
		int64_t te = p->scans[i].at + sim_rng_range(&c->r, gap / 4, gap / 2);
		struct sim_scan e = {te, SW_SHIP_EXCEPTION, p->scans[i].city,
				     "Shipment on hold: address information needed"};
		shift_from(p, te + 1, DAY);
		insert_scan(p, i + 1, e);
		hit(c, k, 1);
	}
}

static void feed_subjects(struct tctx *c)
{
	add_subject(c->tx, c->t->kind == SIM_TROUBLE_FEED_STOP ? c->t->warehouse : c->t->courier);
}

static int64_t delivered(const struct sim_parcel *p)
{
	for (size_t i = p->n_scans; i-- > 0;)
		if (p->scans[i].status == SW_SHIP_DELIVERED)
			return p->scans[i].at;
	return 0;
}

/* A troubled parcel delivered near its promise is moved to 16:00 the day
 * after (the promise is the end of a day): clearly late, never "almost". */
static void fix_deliveries(struct sim_world *w)
{
	for (size_t k = 0; k < w->n_orders; k++) {
		struct sim_order *o = &w->orders[k];

		if (!w->ox[k].troubles)
			continue;
		for (size_t j = 0; j < o->n_parcels; j++) {
			struct sim_parcel *p = &o->parcels[j];
			int64_t del = delivered(p), pr = o->promised_delivery_by;

			if (del <= pr - 6 * H || del >= pr + 16 * H)
				continue;
			/* from the last out-for-delivery on */
			size_t i = p->n_scans - 1;
			while (i > 0 && p->scans[i].status != SW_SHIP_OUT_FOR_DELIVERY)
				i--;
			shift_from(p, p->scans[i].at, pr + 16 * H + 1 - del);
			w->ox[k].fixed = true;
		}
	}
}

void sim_world_apply_trouble(struct sim_world *w)
{
	const struct sim_conf *conf = w->conf;

	for (size_t ti = 0; ti < conf->n_trouble; ti++) {
		struct tctx c = {.w = w, .t = &conf->trouble[ti], .tx = &w->tx[ti], .ti = ti};

		sim_rng_seed(&c.r, (uint64_t)conf->seed, "trouble:", c.t->name);
		if (c.t->kind == SIM_TROUBLE_API_OUTAGE || c.t->kind == SIM_TROUBLE_FEED_STOP) {
			feed_subjects(&c);
			continue;
		}
		for (size_t k = 0; k < w->n_orders; k++) {
			if (!match_order(&c, k))
				continue;
			switch (c.t->kind) {
			case SIM_TROUBLE_WAREHOUSE_LATE: warehouse_late(&c, k); break;
			case SIM_TROUBLE_LANE_STALL: lane_stall(&c, k); break;
			case SIM_TROUBLE_ATTEMPT_FAIL: attempt_fail(&c, k); break;
			case SIM_TROUBLE_EXCEPTION: exception(&c, k); break;
			default: break;
			}
		}
	}
	fix_deliveries(w);
}

/* ---- slips ------------------------------------------------------------------------ */

static const char *trouble_of(const struct sim_world *w, size_t k, enum sim_trouble_kind want)
{
	const char *any = NULL;

	for (size_t i = 0; i < w->conf->n_trouble; i++)
		if (w->ox[k].troubles & (1u << i)) {
			if (w->conf->trouble[i].kind == want)
				return w->conf->trouble[i].name;
			if (!any)
				any = w->conf->trouble[i].name;
		}
	return any ? any : "(none)";
}

/* When a notice of kind found at t may go: after the customer's quiet hours
 * for all but the urgent kinds. */
static int64_t send_after(const struct sim_conf *c, const char *kind, int64_t t, int32_t off)
{
	int64_t d = day_start(t, off);
	int m = (int)((t - d) / 60);

	if (c->quiet_from == c->quiet_to || strcmp(kind, "attempt_fail") == 0)
		return t;
	if (c->quiet_from > c->quiet_to) { /* wraps midnight */
		if (m >= c->quiet_from)
			return d + DAY + c->quiet_to * 60;
		if (m < c->quiet_to)
			return d + c->quiet_to * 60;
		return t;
	}
	return m >= c->quiet_from && m < c->quiet_to ? d + c->quiet_to * 60 : t;
}

static bool courier_kind(const char *kind)
{
	return strcmp(kind, "ship_late") != 0;
}

/* Whether a feed trouble's hold overlaps [s->from, s->send_after + margin]. */
static bool held(const struct sim_world *w, size_t k, const struct sim_slip *s)
{
	const struct sim_conf *c = w->conf;
	const struct sim_order *o = &w->orders[k];

	for (size_t i = 0; i < c->n_trouble; i++) {
		const struct sim_trouble_conf *t = &c->trouble[i];
		int64_t hold_end;

		if (t->kind == SIM_TROUBLE_API_OUTAGE && s->parcel >= 0 && courier_kind(s->kind) &&
		    strcmp(t->courier, o->parcels[s->parcel].courier) == 0)
			hold_end = w->tx[i].until + c->feed_window + c->margin;
		else if (t->kind == SIM_TROUBLE_FEED_STOP && !courier_kind(s->kind) &&
			 strcmp(t->warehouse, o->warehouse) == 0)
			hold_end = w->tx[i].until + c->warehouse_feed_window + c->margin;
		else
			continue;
		if (s->from <= hold_end && s->send_after + c->margin >= w->tx[i].from)
			return true;
	}
	return false;
}

static void add_slip(struct sim_world *w, size_t k, const char *kind, int parcel, int64_t from,
		     int64_t until, const char *why, bool may)
{
	struct sim_order_x *x = &w->ox[k];
	struct sim_slip s = {kind, parcel, from, 0, until, may, why};

	if (from >= w->end)
		return;
	if (s.until > w->end)
		s.until = w->end;
	s.send_after = send_after(w->conf, kind, from, x->cust_off);
	if (s.until - s.send_after < w->conf->margin || held(w, k, &s))
		s.may = true;
	x->slips = xreallocarray(x->slips, x->n_slips + 1, sizeof(*x->slips));
	x->slips[x->n_slips++] = s;
}

static void parcel_slips(struct sim_world *w, size_t k, int j)
{
	const struct sim_conf *c = w->conf;
	const struct sim_order *o = &w->orders[k];
	const struct sim_parcel *p = &o->parcels[j];
	int64_t del = delivered(p);

	if (p->scans[0].at > p->shipped_at + c->no_first_scan)
		add_slip(w, k, "no_first_scan", j, p->shipped_at + c->no_first_scan,
			 p->scans[0].at, trouble_of(w, k, SIM_TROUBLE_LANE_STALL), false);
	for (size_t i = 0; i < p->n_scans; i++) {
		const struct sim_scan *s = &p->scans[i];
		int64_t next = i + 1 < p->n_scans ? p->scans[i + 1].at : INT64_MAX;

		if ((s->status == SW_SHIP_IN_TRANSIT || s->status == SW_SHIP_OUT_FOR_DELIVERY) &&
		    next - s->at > c->stalled)
			add_slip(w, k, "stalled", j, s->at + c->stalled, next,
				 trouble_of(w, k, SIM_TROUBLE_LANE_STALL), false);
		if (s->status == SW_SHIP_ATTEMPT_FAIL)
			add_slip(w, k, "attempt_fail", j, s->at, next,
				 trouble_of(w, k, SIM_TROUBLE_ATTEMPT_FAIL), false);
		if (s->status == SW_SHIP_EXCEPTION)
			add_slip(w, k, "exception", j, s->at, next,
				 trouble_of(w, k, SIM_TROUBLE_EXCEPTION), false);
	}
	if (p->eta && day_start(p->eta, w->ox[k].cust_off) > o->promised_delivery_by)
		add_slip(w, k, "eta_slip", j, p->scans[0].at, del ? del : INT64_MAX,
			 trouble_of(w, k, SIM_TROUBLE_LAST), false);
	if (!del || del > o->promised_delivery_by)
		add_slip(w, k, "late", j, o->promised_delivery_by, del ? del : INT64_MAX,
			 trouble_of(w, k, SIM_TROUBLE_LAST), false);
}

/* A stopped feed may make the engine believe an order unshipped at its
 * ship-by before the feed counts as unhealthy: "may", never "expect". */
static void feed_stop_may(struct sim_world *w, size_t k, int64_t first_ship)
{
	const struct sim_conf *c = w->conf;
	const struct sim_order *o = &w->orders[k];

	for (size_t i = 0; i < c->n_trouble; i++) {
		const struct sim_trouble_conf *t = &c->trouble[i];
		if (t->kind != SIM_TROUBLE_FEED_STOP || strcmp(t->warehouse, o->warehouse) != 0)
			continue;
		if (first_ship >= w->tx[i].from && o->promised_ship_by >= w->tx[i].from &&
		    o->promised_ship_by <= w->tx[i].until + c->warehouse_feed_window + c->margin) {
			add_slip(w, k, "ship_late", -1, o->promised_ship_by, w->tx[i].until, t->name,
				 true);
			return;
		}
	}
}

void sim_world_derive_slips(struct sim_world *w)
{
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct sim_order *o = &w->orders[k];
		int64_t first = INT64_MAX;

		if (o->cancelled)
			continue;
		for (size_t j = 0; j < o->n_parcels; j++)
			if (o->parcels[j].shipped_at < first)
				first = o->parcels[j].shipped_at;
		if (first > o->promised_ship_by)
			add_slip(w, k, "ship_late", -1, o->promised_ship_by, first,
				 trouble_of(w, k, SIM_TROUBLE_WAREHOUSE_LATE), false);
		else
			feed_stop_may(w, k, first);
		for (size_t j = 0; j < o->n_parcels; j++)
			parcel_slips(w, k, (int)j);
	}
}

/* ---- events ------------------------------------------------------------------------ */

struct evb {
	struct sim_world *w;
	struct sim_rng r;
	size_t cap;
};

static void ev_add(struct evb *b, uint32_t k, int type, int parcel, int64_t at)
{
	struct sim_world *w = b->w;
	const struct sim_conf *c = w->conf;
	struct sim_event e = {at, at, k, (uint8_t)type, (uint8_t)parcel, false, false};

	for (size_t i = 0; i < c->n_trouble; i++)
		if (c->trouble[i].kind == SIM_TROUBLE_FEED_STOP &&
		    strcmp(c->trouble[i].warehouse, w->orders[k].warehouse) == 0 &&
		    at >= w->tx[i].from && at < w->tx[i].until) {
			e.publish_at = w->tx[i].until;
			e.held = true;
			if (!(w->ox[k].troubles & (1u << i)))
				w->tx[i].n_orders++;
			w->ox[k].troubles |= 1u << i;
		}
	if (c->reorder_window > 0 && sim_rng_unit(&b->r) < c->reorder_share)
		e.publish_at += sim_rng_range(&b->r, 1, c->reorder_window);
	if (w->n_events + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		w->events = xreallocarray(w->events, b->cap, sizeof(*w->events));
	}
	w->events[w->n_events++] = e;
	w->n_distinct_events++;
	if (sim_rng_unit(&b->r) < c->duplicate_share) {
		e.dup = true;
		if (c->reorder_window > 0)
			e.publish_at += sim_rng_range(&b->r, 0, c->reorder_window);
		w->events[w->n_events++] = e;
	}
}

static int cmp_ev(const void *a, const void *b)
{
	const struct sim_event *x = a, *y = b;
#define CMP(f)                                                                               \
	if (x->f != y->f)                                                                    \
		return x->f < y->f ? -1 : 1;
	CMP(publish_at) CMP(at) CMP(order) CMP(type) CMP(parcel) CMP(dup)
#undef CMP
	return 0;
}

void sim_world_build_events(struct sim_world *w)
{
	struct evb b = {.w = w};

	sim_rng_seed(&b.r, (uint64_t)w->conf->seed, "events", "");
	for (uint32_t k = 0; k < w->n_orders; k++) {
		const struct sim_order *o = &w->orders[k];
		const struct sim_order_x *x = &w->ox[k];

		ev_add(&b, k, SIM_EV_CREATED, 0, o->created_at);
		if (o->cancelled) {
			ev_add(&b, k, SIM_EV_CANCELLED, 0, x->cancelled_at);
			continue;
		}
		ev_add(&b, k, SIM_EV_PICKED, 0, x->picked_at);
		ev_add(&b, k, SIM_EV_PACKED, 0, x->packed_at);
		for (size_t j = 0; j < o->n_parcels; j++)
			ev_add(&b, k, SIM_EV_SHIPPED, (int)j, o->parcels[j].shipped_at);
	}
	if (w->n_events)
		qsort(w->events, w->n_events, sizeof(*w->events), cmp_ev);
}
