/*
 * test_sim_world.c - unit tests for slipwatch-sim's world, configuration
 * and truth (sim/simconf.c, sim/world.c, sim/world_trouble.c, sim/truth.c).
 *
 * A small world (two warehouses, a few days) is built without trouble and
 * then with each trouble kind alone on the same seed: the base must be
 * clean (no slip, every margin kept), and each trouble must change exactly
 * the orders and parcels it names, with the truth saying so.  Every event
 * is parsed with the collector's own parser (collector/event.c).  The
 * configuration errors are a table of texts and the error each must give.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/event.h"
#include "lib/xmalloc.h"
#include "sim/simconf.h"
#include "sim/truth.h"
#include "sim/world_int.h"
#include "tests/tap.h"

#define H 3600
#define BASE                                                                                 \
	"[sim]\nseed = 11\nstart = 2026-03-02T00:00:00+05:30\nlength = 6d\n"                 \
	"orders_per_hour = 12\n"

struct built {
	struct sim_conf c;
	struct sim_world *w;
};

static void build(struct built *b, const char *text)
{
	char err[512];

	if (sim_conf_load_string(text, "t.conf", &b->c, err, sizeof(err)) != SW_OK)
		tap_bail("config: %s", err);
	if (sim_world_build(&b->c, 1772389800, &b->w, err, sizeof(err)) != SW_OK)
		tap_bail("build: %s", err);
}

static void drop(struct built *b)
{
	sim_world_free(b->w);
	sim_conf_free(&b->c);
}

static size_t slips_of(const struct sim_world *w, const char *kind, bool may)
{
	size_t n = 0;
	for (size_t k = 0; k < w->n_orders; k++)
		for (size_t i = 0; i < w->ox[k].n_slips; i++)
			n += strcmp(w->ox[k].slips[i].kind, kind) == 0 && w->ox[k].slips[i].may == may;
	return n;
}

static bool has_slip(const struct sim_world *w, size_t k, const char *kind, int parcel)
{
	for (size_t i = 0; i < w->ox[k].n_slips; i++)
		if (strcmp(w->ox[k].slips[i].kind, kind) == 0 &&
		    (parcel < -1 || w->ox[k].slips[i].parcel == parcel))
			return true;
	return false;
}

static bool same_scans(const struct sim_parcel *a, const struct sim_parcel *b)
{
	if (a->n_scans != b->n_scans || a->shipped_at != b->shipped_at)
		return false;
	for (size_t i = 0; i < a->n_scans; i++)
		if (a->scans[i].at != b->scans[i].at || a->scans[i].status != b->scans[i].status)
			return false;
	return true;
}

/* ---- configuration ------------------------------------------------------------- */

static void test_conf(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"[sim]\nseed = x\n", "t.conf:2: [sim] seed"},
	    {"[sim]\nstart = yesterday\n", "t.conf:2: [sim] start: want 'now' or RFC 3339"},
	    {"[sim]\nquiet_hours = 9-5\n", "t.conf:2: [sim] quiet_hours: want HH:MM-HH:MM"},
	    {"[sim]\nlength = 1d\norder_window = 2d\n", "t.conf:3: [sim] order_window"},
	    {"[warehouse w/1]\n", "bad section name"},
	    {"[warehouse w1]\ntimezone = Mars/Base\n",
	     "t.conf:2: [warehouse w1] timezone: not a known IANA zone: 'Mars/Base'"},
	    {"[warehouse w1]\ncouriers = dhl, bluedart\n",
	     "t.conf:2: [warehouse w1] couriers: unknown courier"},
	    {"[warehouse w1]\nlanes = 110,999\n", "t.conf:2: [warehouse w1] lanes: unknown postal"},
	    {"[trouble t]\nkind = flood\nfrom = 1d\nfor = 1h\n", "t.conf:2: [trouble t] kind"},
	    {"[trouble t]\nkind = feed_stop\nwarehouse = w1\nfor = 3h\n",
	     "[trouble t] from: required"},
	    {"[trouble t]\nkind = feed_stop\nwarehouse = w9\nfrom = 1d\nfor = 3h\n",
	     "t.conf:3: [trouble t] warehouse: no [warehouse w9]"},
	    {"[trouble t]\nkind = feed_stop\nfrom = 1d\nfor = 3h\n",
	     "t.conf:1: [trouble t] warehouse: required for kind feed_stop"},
	    {"[trouble t]\nkind = feed_stop\nwarehouse = w1\nfrom = 1x\nfor = 3h\n",
	     "t.conf:4: [trouble t] from: not a span"},
	    {"[trouble t]\nkind = lane_stall\ncourier = dhl\nlane = 110\nfrom = 1d\nfor = 20h\n",
	     "t.conf:6: [trouble t] for: too short for an unambiguous lane_stall (at least 58h00m)"},
	    {"[trouble t]\nkind = api_outage\ncourier = dhl\nfrom = 6d\nfor = 2d\n",
	     "t.conf:5: [trouble t] for: ends after the run"},
	    {"[trouble t]\nkind = api_outage\ncourier = dpd\nfrom = 1d\nfor = 5h\n",
	     "t.conf:3: [trouble t] courier: unknown courier"},
	    {"[trouble t]\nkind = exception\nlane = 999\nfrom = 1d\nfor = 5h\n",
	     "t.conf:3: [trouble t] lane: unknown postal prefix"},
	    {"[trouble t]\nkind = exception\nfrom = 1d\nfor = 5h\nshare = 2\n",
	     "t.conf:5: [trouble t] share"},
	    {"[simulation]\nenabled = yes\n", "t.conf:1: [simulation]: not a section"},
	};
	struct sim_conf c;
	char err[512];
	int64_t s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sw_err rc = sim_conf_load_string(cases[i].text, "t.conf", &c, err, sizeof(err));
		if (!ok(rc == SW_ECONF && strstr(err, cases[i].want), "config error %zu: %s", i,
			cases[i].want))
			printf("#   got rc %d: %s\n", rc, rc ? err : "(ok)");
		if (rc == SW_OK)
			sim_conf_free(&c);
	}
	ok(sim_conf_load_string("", "t.conf", &c, err, sizeof(err)) == SW_OK, "empty file: defaults");
	is_int(c.n_wh, 2, "two built-in warehouses");
	is_int(c.length, 7 * 86400, "length 7d");
	is_int(c.order_window, 7 * 86400 / 2, "orders for length - 4d, at least length / 2");
	is_int(c.quiet_from, 21 * 60, "quiet from 21:00");
	is_int(c.quiet_to, 8 * 60, "quiet to 08:00");
	sim_conf_free(&c);
	{
		const char *src = getenv("SW_SRCDIR");
		char *path = xasprintf("%s/sim/sim.conf.example", src && *src ? src : ".");
		enum sw_err rc = sim_conf_load(path, &c, err, sizeof(err));
		if (!ok(rc == SW_OK, "sim/sim.conf.example loads"))
			printf("#   %s\n", err);
		if (rc == SW_OK) {
			ok(c.seed == 1 && c.length == 7 * 86400 && c.stalled == 48 * H &&
				   c.mqtt_port == 1883 && c.api_port == 0 && c.n_wh == 2 &&
				   strcmp(c.topic_prefix, "warehouse") == 0,
			   "the example shows the defaults");
			sim_conf_free(&c);
		}
		free(path);
	}
	ok(sim_parse_span("2d6h", &s) == SW_OK && s == 2 * 86400 + 6 * H, "span 2d6h");
	ok(sim_parse_span("+8h", &s) == SW_OK && s == 8 * H, "span +8h");
	ok(sim_parse_span("90", &s) == SW_OK && s == 90, "span 90 (seconds)");
	ok(sim_parse_span("", &s) != SW_OK && sim_parse_span("1w", &s) != SW_OK &&
	       sim_parse_span("h", &s) != SW_OK,
	   "bad spans refused");
}

/* ---- the base world --------------------------------------------------------------- */

static void check_events(const struct sim_world *w)
{
	char buf[4096];
	size_t bad = 0, dups = 0, created = 0;

	for (size_t i = 0; i < w->n_events; i++) {
		const struct sim_event *ev = &w->events[i];
		struct sw_event e;
		struct sw_event_reject rej;
		size_t n = sim_event_json(w, ev, buf, sizeof(buf));
		const char *wh = w->orders[ev->order].warehouse;

		dups += ev->dup;
		if (i > 0 && w->events[i - 1].publish_at > ev->publish_at)
			bad++;
		if (n == 0 || sw_event_parse(wh, buf, n, 0, &e, &rej) != SW_OK) {
			if (bad++ < 3)
				printf("# rejected: %s: %.*s\n", n ? rej.detail : "too long", (int)n, buf);
			continue;
		}
		if (e.type == SW_STAGE_CREATED) {
			created += !ev->dup;
			if (!e.customer_email || !e.promised_ship_by.at ||
			    e.promised_delivery_by.at.at != w->orders[ev->order].promised_delivery_by ||
			    e.promised_ship_by.at != w->orders[ev->order].promised_ship_by)
				bad++;
		}
		if (e.type == SW_STAGE_SHIPPED && (!e.courier || !e.tracking_number))
			bad++;
		if (e.occurred_at.at != ev->at)
			bad++;
		sw_event_free(&e);
	}
	is_int(bad, 0, "every event parses with the collector's parser and says what the world has");
	is_int(created, w->n_orders, "one order.created per order");
	is_int(w->n_events - dups, w->n_distinct_events, "distinct events = events - duplicates");
	ok(dups > 0, "some events are duplicated (%zu)", dups);
}

static void check_base(const struct sim_world *w)
{
	size_t bad_ship = 0, bad_gap = 0, bad_del = 0, bad_eta = 0, night = 0, day = 0;
	size_t split = 0, found = 0;

	for (size_t k = 0; k < w->n_orders; k++) {
		const struct sim_order *o = &w->orders[k];
		int32_t off = w->wh_off[w->ox[k].wh];
		int lh = (int)(((o->created_at + off) % 86400) / H);

		night += lh < 6;
		day += lh >= 10 && lh < 16;
		split += o->n_parcels == 2;
		for (size_t j = 0; j < o->n_parcels; j++) {
			const struct sim_parcel *p = &o->parcels[j];
			int64_t prev = p->shipped_at;

			bad_ship += p->shipped_at > o->promised_ship_by - 3 * H;
			for (size_t i = 0; i < p->n_scans; i++) {
				bad_gap += p->scans[i].at - prev > 16 * H || p->scans[i].at <= prev;
				prev = p->scans[i].at;
			}
			bad_del += p->scans[p->n_scans - 1].status != SW_SHIP_DELIVERED ||
				   prev > o->promised_delivery_by - 6 * H;
			bad_eta += p->eta > o->promised_delivery_by || p->eta < prev;
			found += sim_world_parcel(w, p->courier, p->tracking) == p;
			if (sim_parcel_visible(p, p->scans[1].at) != 2 ||
			    sim_parcel_visible(p, p->shipped_at) != 0)
				bad_gap++;
		}
	}
	ok(w->n_orders > 500, "a world of %zu orders", w->n_orders);
	is_int(bad_ship, 0, "base orders ship at least 3 h before their ship-by");
	is_int(bad_gap, 0, "base scans ascend, the first within 16 h of shipping, gaps under 16 h");
	is_int(bad_del, 0, "base parcels are delivered at least 6 h before the promise");
	is_int(bad_eta, 0, "the courier's ETA is between the delivery and the promise");
	is_int(found, w->n_parcels, "sim_world_parcel finds every parcel");
	ok(sim_world_parcel(w, "dhl", "nope") == NULL && sim_world_parcel(w, "dpd", "x") == NULL,
	   "unknown numbers are not found");
	ok(night * 3 < day, "the daily curve: %zu orders at night (0-6 h), %zu by day (10-16 h)",
	   night, day);
	ok(split > 0 && split < w->n_orders / 4, "some orders are split (%zu)", split);
	is_int(slips_of(w, "ship_late", false) + slips_of(w, "late", false) +
		   slips_of(w, "stalled", false) + slips_of(w, "late", true),
	       0, "the base world has no slip");
	ok(sim_world_api_state(w, "dhl", w->start + H) == SIM_API_UP, "APIs up without trouble");
}

static void test_determinism(void)
{
	struct built a, b, c;
	char *ta, *tb, *tc;

	build(&a, BASE);
	build(&b, BASE);
	build(&c, "[sim]\nseed = 12\nstart = 2026-03-02T00:00:00+05:30\nlength = 6d\n"
		  "orders_per_hour = 12\n");
	ta = sim_truth_json(a.w);
	tb = sim_truth_json(b.w);
	tc = sim_truth_json(c.w);
	ok(strcmp(ta, tb) == 0, "same seed: byte-identical truth (%zu bytes)", strlen(ta));
	ok(strcmp(ta, tc) != 0, "another seed: another truth");
	ok(strstr(ta, "\"format\": \"slipwatch-sim-truth/1\"") != NULL, "the truth names its format");
	check_base(a.w);
	check_events(a.w);
	free(ta);
	free(tb);
	free(tc);
	drop(&a);
	drop(&b);
	drop(&c);
}

/* ---- each trouble alone -------------------------------------------------------------- */

/* Changed parcels of w against base: all belong to orders w says it hit,
 * every changed parcel has a slip of kind; returns how many changed. */
static size_t changed(const struct sim_world *base, const struct sim_world *w, const char *kind,
		      size_t *ret_stray, size_t *ret_noslip)
{
	size_t n = 0;

	*ret_stray = *ret_noslip = 0;
	for (size_t k = 0; k < w->n_orders; k++)
		for (size_t j = 0; j < w->orders[k].n_parcels; j++) {
			if (same_scans(&base->orders[k].parcels[j], &w->orders[k].parcels[j]))
				continue;
			n++;
			*ret_stray += !w->ox[k].troubles;
			*ret_noslip += !has_slip(w, k, kind, strcmp(kind, "ship_late") ? (int)j : -1);
		}
	return n;
}

static void trouble_case(const struct sim_world *base, const char *name, const char *section,
			 const char *kind, bool courier_filter)
{
	struct built b;
	char text[1024];
	size_t stray, noslip, n;

	snprintf(text, sizeof(text), "%s%s", BASE, section);
	build(&b, text);
	n = changed(base, b.w, kind, &stray, &noslip);
	ok(n > 0 && n == b.w->tx[0].n_parcels, "%s: changes %zu parcels, the truth counts %zu", name,
	   n, b.w->tx[0].n_parcels);
	is_int(stray, 0, "%s: only parcels of orders it hit", name);
	is_int(noslip, 0, "%s: every changed parcel has a %s slip", name, kind);
	ok(slips_of(b.w, kind, false) > 0, "%s: the truth expects %s (%zu)", name, kind,
	   slips_of(b.w, kind, false));
	if (courier_filter) {
		size_t wrong = 0;
		for (size_t k = 0; k < b.w->n_orders; k++)
			for (size_t j = 0; j < b.w->orders[k].n_parcels; j++)
				if (!same_scans(&base->orders[k].parcels[j],
						&b.w->orders[k].parcels[j]))
					wrong += strcmp(b.w->orders[k].parcels[j].courier,
							b.c.trouble[0].courier) != 0;
		is_int(wrong, 0, "%s: only its courier's parcels", name);
	}
	drop(&b);
}

static void test_feed_troubles(const struct sim_world *base)
{
	struct built b;
	size_t held = 0, wrong = 0, stray = 0, noslip;

	build(&b, BASE "[trouble down]\nkind = api_outage\ncourier = ups\nfrom = 2d\nfor = 6h\n");
	ok(sim_world_api_state(b.w, "ups", b.w->start + 2 * 86400 + H) == SIM_API_DOWN,
	   "api_outage: ups down inside the window");
	ok(sim_world_api_state(b.w, "ups", b.w->start + 2 * 86400 + 6 * H) == SIM_API_UP &&
	       sim_world_api_state(b.w, "ups", b.w->start + 2 * 86400 - 1) == SIM_API_UP,
	   "api_outage: up before and after");
	ok(sim_world_api_state(b.w, "dhl", b.w->start + 2 * 86400 + H) == SIM_API_UP,
	   "api_outage: the other couriers stay up");
	is_int(changed(base, b.w, "x", &stray, &noslip), 0, "api_outage: no parcel changes");
	drop(&b);

	build(&b, BASE "[trouble quiet]\nkind = feed_stop\nwarehouse = w2\nfrom = 1d\nfor = 3h\n");
	for (size_t i = 0; i < b.w->n_events; i++) {
		const struct sim_event *e = &b.w->events[i];
		bool in = strcmp(b.w->orders[e->order].warehouse, "w2") == 0 &&
			  e->at >= b.w->tx[0].from && e->at < b.w->tx[0].until;
		held += e->held;
		wrong += in != e->held || (e->held && e->publish_at < b.w->tx[0].until);
		wrong += e->publish_at < e->at;
	}
	ok(held > 0, "feed_stop: %zu events held", held);
	is_int(wrong, 0, "feed_stop: exactly w2's events of the window are held to its end");
	is_int(slips_of(b.w, "ship_late", false), 0, "feed_stop: no ship_late is expected");
	is_int(changed(base, b.w, "x", &stray, &noslip), 0, "feed_stop: no parcel changes");
	drop(&b);
}

static void test_troubles(void)
{
	struct built base;

	build(&base, BASE);
	trouble_case(base.w, "warehouse_late",
		     "[trouble late]\nkind = warehouse_late\nwarehouse = w1\nfrom = 1d\nfor = 8h\n",
		     "ship_late", false);
	trouble_case(base.w, "lane_stall",
		     "[trouble hub]\nkind = lane_stall\ncourier = dhl\nlane = 110\nfrom = 1d12h\n"
		     "for = 60h\n",
		     "stalled", true);
	trouble_case(base.w, "attempt_fail",
		     "[trouble att]\nkind = attempt_fail\ncourier = fedex\nfrom = 2d\nfor = 12h\n",
		     "attempt_fail", true);
	trouble_case(base.w, "exception",
		     "[trouble exc]\nkind = exception\ncourier = ups\nfrom = 2d\nfor = 6h\n"
		     "share = 0.5\n",
		     "exception", true);
	test_feed_troubles(base.w);
	drop(&base);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_conf();
	test_determinism();
	test_troubles();
	return tap_done();
}
