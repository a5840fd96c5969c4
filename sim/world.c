/*
 * world.c - slipwatch-sim's world (world.h, world_int.h), generated whole
 * at start from the configuration and its seed, immutable afterwards.
 *
 * Design:
 * - Own PRNG (splitmix64 seeding xorshift-style 64-bit generator), one
 *   stream per warehouse and one per trouble, so the same seed gives the
 *   same world byte for byte and adding a trouble leaves the base traffic
 *   alone.
 * - Base traffic is clearly on time: shipped at least 3 h before ship-by,
 *   scans at most ~9 h apart (well under no_first_scan and stalled),
 *   delivered by 18:00 local on or before the promised day (the promise is
 *   the end of that day, so at least 6 h of margin), the courier's ETA
 *   the delivery day.
 * - Trouble then moves the plan (ship later, hold scans, add an attempt or
 *   an exception, an API outage window, a held warehouse backlog), a last
 *   pass moves any delivery that ended near its promise clear of it, and
 *   the slips are derived from the final plan by the same rules the alert
 *   engine applies (alerts/eval.c), so the truth cannot disagree with it.
 * - Time zones are taken at their UTC offset at the start (the built-in
 *   destinations have no DST).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "sim/rng.h"
#include "sim/world_int.h"

#define H 3600
#define MIN 60
#define DAY 86400

/* ---- PRNG ------------------------------------------------------------------- */

static double rng_normal(struct sim_rng *r)
{
	double u = sim_rng_unit(r), v = sim_rng_unit(r);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

/* Lognormal with this median (seconds), clamped to [lo, hi]. */
static int64_t rng_lognormal(struct sim_rng *r, double median, double sigma, int64_t lo, int64_t hi)
{
	double v = median * exp(sigma * rng_normal(r));
	if (v < (double)lo)
		return lo;
	if (v > (double)hi)
		return hi;
	return (int64_t)v;
}

static unsigned rng_poisson(struct sim_rng *r, double lam)
{
	if (lam > 50) {
		double v = lam + sqrt(lam) * rng_normal(r);
		return v < 0 ? 0 : (unsigned)(v + 0.5);
	}
	double l = exp(-lam), p = 1.0;
	unsigned k = 0;
	do {
		k++;
		p *= sim_rng_unit(r);
	} while (p > l);
	return k - 1;
}

/* ---- calendar on fixed offsets --------------------------------------------------- */

static int64_t local_day_start(int64_t t, int32_t off) /* UTC instant of local 00:00 */
{
	int64_t l = t + off;
	int64_t d = l >= 0 ? l / DAY : (l - DAY + 1) / DAY;
	return d * DAY - off;
}

static int local_minute(int64_t t, int32_t off)
{
	return (int)((t - local_day_start(t, off)) / 60);
}

void sim_format_time(int64_t t, int32_t off, char *buf, size_t len)
{
	struct sw_time st = {.utc_sec = t, .offset_sec = off, .flags = SW_TIME_HAS_OFFSET};
	if (sw_time_format(&st, buf, len) != SW_OK && len)
		buf[0] = '\0';
}

/* ---- the base plan ---------------------------------------------------------------- */

/* Orders per hour at local hour h as a share of the peak: busy by day, a
 * fifth of it at night, so that a warehouse's feed never falls silent for
 * long ([alerts] warehouse_feed_window) outside an injected feed_stop. */
static const double curve[24] = {0.3,  0.25, 0.2, 0.2,  0.2,  0.25, 0.35, 0.5,
				 0.65, 0.8,  0.9, 1.0,  1.0,  0.95, 0.9,  0.85,
				 0.85, 0.9,  1.0, 0.95, 0.8,  0.65, 0.5,  0.4};

static const char *const first_names[] = {"Aarav", "Priya", "Rohan", "Ananya", "Vikram",
					  "Meera", "Sanjay", "Kavya", "Bikash", "Sita",
					  "Hiren", "Nisha", "Arjun", "Pooja", "Ramesh", "Sunita"};
static const char *const hubs[] = {"Delhi Hub", "Nagpur Hub", "Mumbai Gateway", "Bhiwandi Hub",
				   "Kolkata Hub", "Hyderabad Hub", "Lucknow Hub", "Birgunj Gateway"};

struct vec {
	struct sim_scan *s;
	size_t n, cap;
};

static void push(struct vec *v, int64_t at, enum sw_ship_status st, const char *city,
		 const char *text)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->s = xreallocarray(v->s, v->cap, sizeof(*v->s));
	}
	v->s[v->n++] = (struct sim_scan){at, st, city, text};
}

static double courier_factor(const char *c)
{
	return strcmp(c, "dhl") == 0 ? 0.9 : strcmp(c, "fedex") == 0 ? 1.0 : 1.1;
}

/* The scans of a parcel shipped at s to dest (customer offset off). */
static void plan_scans(struct sim_rng *r, struct sim_parcel *p, const struct sim_dest *d,
		       int32_t off, const char *origin)
{
	struct vec v = {0};
	double f = courier_factor(p->courier) * exp(0.15 * rng_normal(r));
	int64_t s = p->shipped_at, pickup, arrive, day, ofd, t;

	if (f < 0.6)
		f = 0.6;
	if (f > 1.6)
		f = 1.6;
	push(&v, s + sim_rng_range(r, 15 * MIN, 60 * MIN), SW_SHIP_INFO_RECEIVED, origin,
	     "Shipment information received");
	pickup = s + sim_rng_range(r, 90 * MIN, 3 * H);
	push(&v, pickup, SW_SHIP_IN_TRANSIT, origin, "Picked up");
	arrive = s + (int64_t)(d->transit_h * H * f);
	day = local_day_start(arrive, off);
	if (local_minute(arrive, off) >= 11 * 60)
		day += DAY;
	ofd = day + 8 * H + sim_rng_range(r, 0, 90 * MIN);
	if (ofd < pickup + 4 * H)
		ofd += DAY;
	t = pickup;
	while (ofd - t > 9 * H) {
		t += sim_rng_range(r, 3 * H, 8 * H);
		push(&v, t, SW_SHIP_IN_TRANSIT, hubs[sim_rng_next(r) % 8], "Departed facility");
	}
	push(&v, t + (ofd - t) / 2, SW_SHIP_IN_TRANSIT, d->city, "Arrived at delivery facility");
	push(&v, ofd, SW_SHIP_OUT_FOR_DELIVERY, d->city, "Out for delivery");
	push(&v, ofd + sim_rng_range(r, 1 * H, 8 * H), SW_SHIP_DELIVERED, d->city, "Delivered");
	p->scans = v.s;
	p->n_scans = v.n;
	p->eta = day + 18 * H;
}

static int64_t delivered_at(const struct sim_parcel *p)
{
	for (size_t i = p->n_scans; i-- > 0;)
		if (p->scans[i].status == SW_SHIP_DELIVERED)
			return p->scans[i].at;
	return 0;
}

static void tracking(struct sim_rng *r, const char *courier, size_t serial, char *buf, size_t len)
{
	unsigned long long x = sim_rng_next(r) % 100000ULL;

	if (strcmp(courier, "dhl") == 0)
		snprintf(buf, len, "00340434%07zu%05llu", serial, x);
	else if (strcmp(courier, "fedex") == 0)
		snprintf(buf, len, "79%07zu%03llu", serial, x % 1000);
	else
		snprintf(buf, len, "1Z999AA1%07zu%03llu", serial, x % 1000);
}

struct gen {
	struct sim_world *w;
	const struct sim_conf *c;
	size_t serial;
};

/* Pick, pack and ship times: at least 3 h before ship-by. */
static void plan_warehouse(struct sim_rng *r, struct sim_order *o, struct sim_order_x *x,
			   int64_t ship[2], size_t np)
{
	int64_t c = o->created_at, limit = o->promised_ship_by - 3 * H;

	x->picked_at = c + rng_lognormal(r, 1.5 * H, 0.5, 10 * MIN, 6 * H);
	x->packed_at = x->picked_at + rng_lognormal(r, 30 * MIN, 0.4, 5 * MIN, 2 * H);
	ship[0] = x->packed_at + rng_lognormal(r, 1 * H, 0.5, 10 * MIN, 4 * H);
	ship[1] = ship[0] + sim_rng_range(r, 10 * MIN, 90 * MIN);
	if (ship[np - 1] > limit) { /* squeeze into the budget, keeping the order */
		double k = (double)(limit - c) / (double)(ship[np - 1] - c);
		x->picked_at = c + (int64_t)((x->picked_at - c) * k);
		x->packed_at = c + (int64_t)((x->packed_at - c) * k);
		ship[0] = c + (int64_t)((ship[0] - c) * k);
		ship[1] = c + (int64_t)((ship[1] - c) * k);
	}
}

static void gen_order(struct gen *g, struct sim_rng *r, size_t wi, size_t seq, int64_t created,
		      struct sim_order *o, struct sim_order_x *x)
{
	const struct sim_wh_conf *wc = &g->c->wh[wi];
	size_t nd;
	const struct sim_dest *d = sim_dests(&nd);
	int32_t woff = g->w->wh_off[wi];
	int64_t day, ship[2];
	size_t np;

	x->wh = wi;
	x->dest = wc->lanes[sim_rng_next(r) % wc->n_lanes];
	d += x->dest;
	x->cust_off = strcmp(d->timezone, "Asia/Kathmandu") == 0 ? 5 * H + 45 * MIN : 5 * H + 30 * MIN;
	o->warehouse = wc->id;
	snprintf(o->order_id, sizeof(o->order_id), "%s-%06zu", wc->id, seq);
	for (char *p = o->order_id; *p; p++)
		o->email[p - o->order_id] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	snprintf(o->email + strlen(o->order_id), sizeof(o->email) - strlen(o->order_id),
		 "@customers.example.test");
	o->locale = sim_rng_unit(r) < 0.6 ? d->locale : "en-IN";
	o->timezone = d->timezone;
	o->postal_code = d->postal;
	o->city = d->city;
	o->country = d->country;
	o->created_at = created;
	x->name = first_names[sim_rng_next(r) % 16];
	x->service_level = "standard";
	day = local_day_start(created, woff);
	o->promised_ship_by = day + 20 * H + (local_minute(created, woff) >= 14 * 60 ? DAY : 0);
	if (sim_rng_unit(r) < g->c->cancel_share) {
		o->cancelled = true;
		x->cancelled_at = created + sim_rng_range(r, 10 * MIN, 60 * MIN);
		o->promised_delivery_by =
		    local_day_start(o->promised_ship_by + 3 * DAY, x->cust_off) + DAY - 1;
		return;
	}
	np = sim_rng_unit(r) < g->c->split_share ? 2 : 1;
	plan_warehouse(r, o, x, ship, np);
	o->n_parcels = np;
	o->parcels = xcalloc(np, sizeof(*o->parcels));
	int64_t last = 0;
	for (size_t i = 0; i < np; i++) {
		struct sim_parcel *p = &o->parcels[i];
		p->courier = wc->couriers[sim_rng_next(r) % wc->n_couriers];
		tracking(r, p->courier, ++g->serial, p->tracking, sizeof(p->tracking));
		p->order = o;
		p->shipped_at = ship[i];
		plan_scans(r, p, d, x->cust_off, wc->city);
		if (delivered_at(p) > last)
			last = delivered_at(p);
	}
	/* the promise: the end of the delivery day, or of the day after */
	o->promised_delivery_by = local_day_start(last, x->cust_off) + DAY - 1 +
				  (sim_rng_unit(r) < 0.5 ? DAY : 0);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The creation instants of warehouse wi's orders, ascending. */
static int64_t *gen_times(struct gen *g, struct sim_rng *r, size_t wi, size_t *ret_n)
{
	const struct sim_wh_conf *wc = &g->c->wh[wi];
	double peak = wc->orders_per_hour > 0 ? wc->orders_per_hour : g->c->orders_per_hour;
	int64_t end = g->w->start + g->c->order_window;
	int64_t *t = NULL;
	size_t n = 0, cap = 0;

	for (int64_t h0 = g->w->start; h0 < end; h0 += H) {
		int lh = local_minute(h0, g->w->wh_off[wi]) / 60;
		unsigned k = rng_poisson(r, peak * curve[lh]);
		for (unsigned i = 0; i < k; i++) {
			int64_t at = h0 + sim_rng_range(r, 0, H - 1);
			if (at >= end)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				t = xreallocarray(t, cap, sizeof(*t));
			}
			t[n++] = at;
		}
	}
	if (n)
		qsort(t, n, sizeof(*t), cmp_i64);
	*ret_n = n;
	return t;
}

static void gen_orders(struct gen *g)
{
	struct sim_world *w = g->w;
	size_t cap = 0;

	for (size_t wi = 0; wi < g->c->n_wh; wi++) {
		struct sim_rng r;
		size_t n;
		int64_t *t;

		sim_rng_seed(&r, (uint64_t)g->c->seed, "", g->c->wh[wi].id);
		t = gen_times(g, &r, wi, &n);
		if (w->n_orders + n > cap) {
			cap = w->n_orders + n + 64;
			w->orders = xreallocarray(w->orders, cap, sizeof(*w->orders));
			w->ox = xreallocarray(w->ox, cap, sizeof(*w->ox));
		}
		for (size_t i = 0; i < n; i++) {
			size_t k = w->n_orders++;
			memset(&w->orders[k], 0, sizeof(w->orders[k]));
			memset(&w->ox[k], 0, sizeof(w->ox[k]));
			gen_order(g, &r, wi, i + 1, t[i], &w->orders[k], &w->ox[k]);
		}
		free(t);
	}
	/* the parcels point at their orders: fix them now the array is final */
	for (size_t k = 0; k < w->n_orders; k++)
		for (size_t i = 0; i < w->orders[k].n_parcels; i++)
			w->orders[k].parcels[i].order = &w->orders[k];
}

/* ---- the parcel index (sim_world_parcel) ---------------------------------------- */

static int cmp_parcel(const void *a, const void *b)
{
	const struct sim_parcel *x = *(const struct sim_parcel *const *)a;
	const struct sim_parcel *y = *(const struct sim_parcel *const *)b;
	int c = strcmp(x->courier, y->courier);
	return c ? c : strcmp(x->tracking, y->tracking);
}

static void build_index(struct sim_world *w)
{
	size_t n = 0;

	for (size_t k = 0; k < w->n_orders; k++)
		n += w->orders[k].n_parcels;
	w->index = xcalloc(n ? n : 1, sizeof(*w->index));
	for (size_t k = 0; k < w->n_orders; k++)
		for (size_t i = 0; i < w->orders[k].n_parcels; i++)
			w->index[w->n_parcels++] = &w->orders[k].parcels[i];
	qsort(w->index, w->n_parcels, sizeof(*w->index), cmp_parcel);
}

const struct sim_parcel *sim_world_parcel(const struct sim_world *w, const char *courier,
					  const char *tracking_number)
{
	struct sim_parcel key;
	const struct sim_parcel *kp = &key, *const *hit;

	if (!w || !courier || !tracking_number || strlen(tracking_number) >= sizeof(key.tracking))
		return NULL;
	key.courier = courier;
	snprintf(key.tracking, sizeof(key.tracking), "%s", tracking_number);
	hit = bsearch(&kp, w->index, w->n_parcels, sizeof(*w->index), cmp_parcel);
	return hit ? *hit : NULL;
}

enum sim_api_state sim_world_api_state(const struct sim_world *w, const char *courier,
				       int64_t now)
{
	for (size_t i = 0; w && courier && i < w->conf->n_trouble; i++) {
		const struct sim_trouble_conf *t = &w->conf->trouble[i];
		if (t->kind == SIM_TROUBLE_API_OUTAGE && strcmp(t->courier, courier) == 0 &&
		    now >= w->tx[i].from && now < w->tx[i].until)
			return SIM_API_DOWN;
	}
	return SIM_API_UP;
}

/* ---- build and free ----------------------------------------------------------------- */

static enum sw_err zone_offset(const char *zone, int64_t at, int32_t *ret, char *err,
			       size_t errlen)
{
	struct sw_tz_local l;
	enum sw_err rc = sw_tz_utc_to_local(zone, at, &l);

	if (rc) {
		snprintf(err, errlen, "time zone '%s': %s", zone, sw_strerror(rc));
		return rc;
	}
	*ret = l.offset_sec;
	return SW_OK;
}

enum sw_err sim_world_build(const struct sim_conf *c, int64_t start, struct sim_world **ret,
			    char *err, size_t errlen)
{
	struct sim_world *w = xcalloc(1, sizeof(*w));
	struct gen g = {.w = w, .c = c};
	enum sw_err rc;

	w->conf = c;
	w->start = start;
	w->end = start + c->length;
	w->wh_off = xcalloc(c->n_wh, sizeof(*w->wh_off));
	for (size_t i = 0; i < c->n_wh; i++)
		if ((rc = zone_offset(c->wh[i].timezone, start, &w->wh_off[i], err, errlen))) {
			sim_world_free(w);
			return rc;
		}
	for (size_t i = 0; i < c->n_trouble; i++) {
		w->tx[i].from = start + c->trouble[i].from;
		w->tx[i].until = w->tx[i].from + c->trouble[i].len;
	}
	gen_orders(&g);
	sim_world_apply_trouble(w);
	build_index(w);
	sim_world_derive_slips(w);
	sim_world_build_events(w);
	*ret = w;
	return SW_OK;
}

void sim_world_free(struct sim_world *w)
{
	if (!w)
		return;
	for (size_t k = 0; k < w->n_orders; k++) {
		for (size_t i = 0; i < w->orders[k].n_parcels; i++)
			free(w->orders[k].parcels[i].scans);
		free(w->orders[k].parcels);
		free(w->ox[k].slips);
	}
	free(w->orders);
	free(w->ox);
	free(w->events);
	free(w->index);
	free(w->wh_off);
	free(w);
}

/* ---- events ----------------------------------------------------------------------- */

static const char *const ev_names[] = {"order.created", "order.picked", "order.packed",
				       "order.shipped", "order.cancelled"};

void sim_event_id(const struct sim_world *w, const struct sim_event *ev, char *buf, size_t len)
{
	const struct sim_order *o = &w->orders[ev->order];
	static const char *const sfx[] = {"created", "picked", "packed", "shipped", "cancelled"};

	if (ev->type == SIM_EV_SHIPPED)
		snprintf(buf, len, "%s-shipped-%u", o->order_id, ev->parcel + 1);
	else
		snprintf(buf, len, "%s-%s", o->order_id, sfx[ev->type]);
}

static void put_time(json_t *j, const char *key, int64_t t, int32_t off)
{
	char b[SW_TIME_STRLEN];
	sim_format_time(t, off, b, sizeof(b));
	json_object_set_new(j, key, json_string(b));
}

size_t sim_event_json(const struct sim_world *w, const struct sim_event *ev, char *buf,
		      size_t len)
{
	const struct sim_order *o = &w->orders[ev->order];
	const struct sim_order_x *x = &w->ox[ev->order];
	int32_t woff = w->wh_off[x->wh];
	json_t *j = json_object();
	char id[64];
	size_t n;

	sim_event_id(w, ev, id, sizeof(id));
	json_object_set_new(j, "event_id", json_string(id));
	json_object_set_new(j, "type", json_string(ev_names[ev->type]));
	put_time(j, "occurred_at", ev->at, woff);
	json_object_set_new(j, "warehouse_id", json_string(o->warehouse));
	json_object_set_new(j, "order_id", json_string(o->order_id));
	if (ev->type == SIM_EV_CREATED) {
		json_object_set_new(j, "customer",
				    json_pack("{s:s, s:s, s:s, s:s}", "name", x->name, "email",
					      o->email, "locale", o->locale, "timezone",
					      o->timezone));
		put_time(j, "promised_ship_by", o->promised_ship_by, woff);
		put_time(j, "promised_delivery_by", o->promised_delivery_by, x->cust_off);
		json_object_set_new(j, "service_level", json_string(x->service_level));
		json_object_set_new(j, "destination",
				    json_pack("{s:s, s:s, s:s}", "country", o->country,
					      "postal_code", o->postal_code, "city", o->city));
	}
	if (ev->type == SIM_EV_SHIPPED) {
		const struct sim_parcel *p = &o->parcels[ev->parcel];
		json_object_set_new(j, "courier", json_string(p->courier));
		json_object_set_new(j, "tracking_number", json_string(p->tracking));
	}
	n = json_dumpb(j, buf, len, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return n <= len ? n : 0;
}
