/*
 * truth.c - slipwatch-sim's ground truth (truth.h): the world's slips, the
 * pages its troubles should cause and the holds of its feed outages, as
 * one JSON document built with jansson in a fixed key order.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/xmalloc.h"
#include "lib/swtime.h"
#include "sim/truth.h"

static json_t *tstr(int64_t t)
{
	char b[SW_TIME_STRLEN];
	sim_format_time(t, 0, b, sizeof(b));
	return json_string(b);
}

void sim_truth_totals(const struct sim_world *w, struct sim_totals *r)
{
	memset(r, 0, sizeof(*r));
	r->orders = w->n_orders;
	r->parcels = w->n_parcels;
	r->events = w->n_events;
	r->distinct_events = w->n_distinct_events;
	for (size_t i = 0; i < w->n_events; i++)
		if (!w->events[i].dup && w->events[i].publish_at <= w->end)
			r->events_in_run++;
	for (size_t k = 0; k < w->n_orders; k++) {
		const struct sim_order_x *x = &w->ox[k];
		size_t e = 0, m = 0;

		r->cancelled += w->orders[k].cancelled;
		for (size_t i = 0; i < x->n_slips; i++)
			x->slips[i].may ? m++ : e++;
		r->slips_expect += e;
		r->slips_may += m;
		if (e)
			r->orders_expect++;
		else if (m)
			r->orders_may++;
		else
			r->orders_silent++;
	}
}

static json_t *slip_json(const struct sim_order *o, const struct sim_slip *s)
{
	json_t *j = json_object();

	json_object_set_new(j, "kind", json_string(s->kind));
	if (s->parcel >= 0) {
		json_object_set_new(j, "courier", json_string(o->parcels[s->parcel].courier));
		json_object_set_new(j, "tracking_number",
				    json_string(o->parcels[s->parcel].tracking));
	}
	json_object_set_new(j, "from", tstr(s->from));
	json_object_set_new(j, "send_after", tstr(s->send_after));
	json_object_set_new(j, "until", tstr(s->until));
	json_object_set_new(j, "cause", json_string(s->why));
	return j;
}

static json_t *order_json(const struct sim_world *w, size_t k)
{
	const struct sim_order *o = &w->orders[k];
	const struct sim_order_x *x = &w->ox[k];
	json_t *j = json_object(), *parcels = json_array(), *expect = json_array(),
	       *may = json_array();

	json_object_set_new(j, "order_id", json_string(o->order_id));
	json_object_set_new(j, "warehouse", json_string(o->warehouse));
	json_object_set_new(j, "email", json_string(o->email));
	json_object_set_new(j, "locale", json_string(o->locale));
	json_object_set_new(j, "timezone", json_string(o->timezone));
	json_object_set_new(j, "created_at", tstr(o->created_at));
	json_object_set_new(j, "promised_ship_by", tstr(o->promised_ship_by));
	json_object_set_new(j, "promised_delivery_by", tstr(o->promised_delivery_by));
	json_object_set_new(j, "cancelled", json_boolean(o->cancelled));
	for (size_t i = 0; i < o->n_parcels; i++) {
		const struct sim_parcel *p = &o->parcels[i];
		int64_t del = 0;
		for (size_t s = 0; s < p->n_scans; s++)
			if (p->scans[s].status == SW_SHIP_DELIVERED)
				del = p->scans[s].at;
		json_array_append_new(
		    parcels, json_pack("{s:s, s:s, s:o, s:o}", "courier", p->courier,
				       "tracking_number", p->tracking, "shipped_at",
				       tstr(p->shipped_at), "delivered_at",
				       del ? tstr(del) : json_null()));
	}
	json_object_set_new(j, "parcels", parcels);
	for (size_t i = 0; i < x->n_slips; i++)
		json_array_append_new(x->slips[i].may ? may : expect, slip_json(o, &x->slips[i]));
	json_object_set_new(j, "expect", expect);
	json_object_set_new(j, "may", may);
	return j;
}

/* The pages a trouble should cause (doc/simulator.md). */
static json_t *pages_json(const struct sim_trouble_conf *t, const struct sim_trouble_x *tx)
{
	static const struct {
		enum sim_trouble_kind kind;
		const char *signal;
		bool per_subject; /* one per subject of tx, else the trouble's own */
	} map[] = {
	    {SIM_TROUBLE_WAREHOUSE_LATE, "warehouse_ship_late", false},
	    {SIM_TROUBLE_WAREHOUSE_LATE, "cohort_ship_late", true},
	    {SIM_TROUBLE_LANE_STALL, "cohort_slips", true},
	    {SIM_TROUBLE_API_OUTAGE, "courier_feed_silent", true},
	    {SIM_TROUBLE_API_OUTAGE, "courier_api_errors", true},
	    {SIM_TROUBLE_FEED_STOP, "warehouse_feed", true},
	    {SIM_TROUBLE_FEED_STOP, "warehouse_feed_silent", true},
	};
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].kind != t->kind)
			continue;
		if (!map[i].per_subject) {
			json_array_append_new(a, json_pack("{s:s, s:s}", "signal", map[i].signal,
							   "subject", t->warehouse));
			continue;
		}
		for (size_t s = 0; s < tx->n_subjects; s++)
			json_array_append_new(a, json_pack("{s:s, s:s}", "signal", map[i].signal,
							   "subject", tx->subjects[s]));
	}
	return a;
}

static json_t *hold_json(const struct sim_world *w, size_t i)
{
	const struct sim_trouble_conf *t = &w->conf->trouble[i];
	const struct sim_trouble_x *tx = &w->tx[i];
	bool api = t->kind == SIM_TROUBLE_API_OUTAGE;
	int64_t from = tx->from + (api ? w->conf->feed_window : w->conf->warehouse_feed_window);

	if (!api && t->kind != SIM_TROUBLE_FEED_STOP)
		return json_null();
	json_t *kinds = api ? json_pack("[sss]", "stalled", "no_first_scan", "late")
			    : json_pack("[s]", "ship_late");
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", api ? "courier" : "warehouse",
			 api ? t->courier : t->warehouse, "what",
			 api ? "no stalled/no_first_scan/late notice for its parcels is sent"
			     : "no ship_late notice for its orders is sent",
			 "from", tstr(from), "until", tstr(tx->until), "kinds", kinds);
}

static json_t *troubles_json(const struct sim_world *w)
{
	json_t *a = json_array();

	for (size_t i = 0; i < w->conf->n_trouble; i++) {
		const struct sim_trouble_conf *t = &w->conf->trouble[i];
		json_t *j = json_object();

		json_object_set_new(j, "name", json_string(t->name));
		json_object_set_new(j, "kind", json_string(sim_trouble_kind_name(t->kind)));
		json_object_set_new(j, "warehouse", t->warehouse ? json_string(t->warehouse)
								 : json_null());
		json_object_set_new(j, "courier", t->courier ? json_string(t->courier)
							     : json_null());
		json_object_set_new(j, "lane", t->lane ? json_string(t->lane) : json_null());
		json_object_set_new(j, "from", tstr(w->tx[i].from));
		json_object_set_new(j, "until", tstr(w->tx[i].until));
		json_object_set_new(j, "orders", json_integer((json_int_t)w->tx[i].n_orders));
		json_object_set_new(j, "parcels", json_integer((json_int_t)w->tx[i].n_parcels));
		json_object_set_new(j, "pages", pages_json(t, &w->tx[i]));
		json_object_set_new(j, "hold", hold_json(w, i));
		json_array_append_new(a, j);
	}
	return a;
}

static json_t *assume_json(const struct sim_conf *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:[s]}", "stalled_s",
			 (json_int_t)c->stalled, "no_first_scan_s", (json_int_t)c->no_first_scan,
			 "feed_window_s", (json_int_t)c->feed_window, "warehouse_feed_window_s",
			 (json_int_t)c->warehouse_feed_window, "margin_s", (json_int_t)c->margin,
			 "quiet_hours", c->quiet_text, "urgent", "attempt_fail");
}

static json_t *totals_json(const struct sim_world *w)
{
	struct sim_totals t;
	json_t *by = json_object();

	sim_truth_totals(w, &t);
	for (size_t k = 0; k < w->n_orders; k++)
		for (size_t i = 0; i < w->ox[k].n_slips; i++) {
			const struct sim_slip *s = &w->ox[k].slips[i];
			char key[48];
			snprintf(key, sizeof(key), "%s%s", s->kind, s->may ? " (may)" : "");
			json_t *v = json_object_get(by, key);
			json_object_set_new(by, key,
					    json_integer(v ? json_integer_value(v) + 1 : 1));
		}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			 "orders", (json_int_t)t.orders, "cancelled", (json_int_t)t.cancelled,
			 "parcels", (json_int_t)t.parcels, "events", (json_int_t)t.events,
			 "distinct_events", (json_int_t)t.distinct_events, "events_in_run",
			 (json_int_t)t.events_in_run, "orders_expect", (json_int_t)t.orders_expect,
			 "orders_may", (json_int_t)t.orders_may, "orders_silent",
			 (json_int_t)t.orders_silent, "slips_expect", (json_int_t)t.slips_expect,
			 "slips_may", (json_int_t)t.slips_may, "by_kind", by);
}

char *sim_truth_json(const struct sim_world *w)
{
	json_t *root = json_object(), *orders = json_array();
	char *text;

	json_object_set_new(root, "format", json_string("slipwatch-sim-truth/1"));
	json_object_set_new(root, "seed", json_integer((json_int_t)w->conf->seed));
	json_object_set_new(root, "start", tstr(w->start));
	json_object_set_new(root, "end", tstr(w->end));
	json_object_set_new(root, "orders_until", tstr(w->start + w->conf->order_window));
	json_object_set_new(root, "assumptions", assume_json(w->conf));
	json_object_set_new(root, "totals", totals_json(w));
	json_object_set_new(root, "troubles", troubles_json(w));
	for (size_t k = 0; k < w->n_orders; k++)
		json_array_append_new(orders, order_json(w, k));
	json_object_set_new(root, "orders", orders);
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		abort(); /* out of memory */
	return text;
}

enum sw_err sim_write_file(const char *dir, const char *name, const char *text, char *err,
			   size_t errlen)
{
	char path[4096], tmp[4200];
	FILE *f;
	size_t n = strlen(text);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "w"))) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return SW_EIO;
	}
	if (fwrite(text, 1, n, f) != n || fclose(f) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		unlink(tmp);
		return SW_EIO;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return SW_EIO;
	}
	return SW_OK;
}

enum sw_err sim_truth_write(const struct sim_world *w, const char *dir, char *err,
			    size_t errlen)
{
	char *text = sim_truth_json(w);
	enum sw_err rc = sim_write_file(dir, "truth.json", text, err, errlen);

	free(text);
	return rc;
}
