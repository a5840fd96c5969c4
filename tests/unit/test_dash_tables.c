/*
 * test_dash_tables.c - the late and at-risk tables of slipwatch-dash
 * (dashboards/dash_tables.h): the tracking link's template, and the
 * tables from a store made here: the report's order, the filters, the
 * details of the rows a table shows (customer, courier text, stage,
 * customer told) through the order's timeline or, for a parcel without
 * an order, the parcel and its open slips, and the cap per table (a
 * warehouse's own first rows are detailed even when late.html's first
 * rows are another's).  The site end to end is 505-dash-store.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dashboards/dash_tables.h"
#include "lib/store_report.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW 1800000000LL

static void link_is(const char *tmpl, const char *courier, const char *tn, const char *order,
		    const char *want, const char *what)
{
	char *got = sw_dash_tracking_link(tmpl, courier, tn, order);

	if (want)
		is_str(got ? got : "(null)", want, "link: %s", what);
	else
		ok(got == NULL, "link: %s: none (got %s)", what, got ? got : "(null)");
	free(got);
}

static void test_links(void)
{
	char big[3000];

	link_is("https://t.example/{courier}/{tracking}?o={order}", "a b/<x>", "T\"1", "O&1",
		"https://t.example/a%20b%2F%3Cx%3E/T%221?o=O%261", "values percent-encoded");
	link_is("https://t.example/{tracking}", "dhl", "T-1._~", NULL, "https://t.example/T-1._~",
		"unreserved characters kept; {order} not named");
	link_is("https://t.example/{foo}/{tracking", "dhl", "T1", "O1",
		"https://t.example/{foo}/{tracking", "unknown or unclosed placeholders stay text");
	link_is(NULL, "dhl", "T1", "O1", NULL, "no template");
	link_is("", "dhl", "T1", "O1", NULL, "an empty template");
	link_is("https://t.example/{tracking}", "dhl", NULL, "O1", NULL, "no tracking number");
	link_is("https://t.example/{order}", "dhl", "T1", NULL, NULL, "no order");
	link_is("https://t.example/{email}", "dhl", "T1", "O1", NULL,
		"{email} is not known on the site");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	link_is("https://t.example/{tracking}", "dhl", big, "O1", NULL, "longer than 2 kB");
}

/* ---- a store ------------------------------------------------------------------- */

static void order(struct sw_store *st, const char *wh, const char *id, const char *name,
		  int64_t promise)
{
	struct sw_order o = {.warehouse_id = wh, .order_id = id, .customer_name = name};

	o.promised_delivery_by.kind = SW_PROMISE_INSTANT;
	o.promised_delivery_by.text = "as written";
	o.promised_delivery_by.at.at = promise;
	o.stage[SW_STAGE_CREATED].at = NOW - 300000;
	o.stage[SW_STAGE_SHIPPED].at = NOW - 200000;
	if (sw_store_order_upsert(st, &o) != SW_OK)
		tap_bail("order %s: %s", id, sw_store_errmsg(st));
}

static void parcel(struct sw_store *st, const char *courier, const char *tn, const char *wh,
		   const char *id, const char *text)
{
	struct sw_parcel_update u = {.status = SW_SHIP_IN_TRANSIT, .raw_text = text};

	u.event_at.at = NOW - 1000;
	if (sw_store_parcel_upsert(st, courier, tn, wh, id, (struct sw_stamp){NOW - 200000, 0}) ||
	    sw_store_parcel_set_status(st, courier, tn, &u))
		tap_bail("parcel %s: %s", tn, sw_store_errmsg(st));
}

static void slip(struct sw_store *st, const char *entity, const char *kind, const char *stage,
		 double ratio)
{
	struct sw_alert a = {.entity = entity,
			     .kind = kind,
			     .stage = stage,
			     .stage_ratio = ratio,
			     .detected_at = NOW - 500};

	if (sw_store_alert_record(st, &a, NULL))
		tap_bail("alert %s: %s", entity, sw_store_errmsg(st));
}

/* SQL beside the API (notices in any state, with or without a receiver). */
static void sql(const char *q)
{
	int rc = raw_exec(store_path, q); /* tests/sqlite_raw.h: either backend */

	if (rc != SQLITE_OK)
		tap_bail("sql: %s: code %d", q, rc);
}

/* A notice about entity in state, sent at sent (0: not sent), to a
 * customer (receiver NULL) or an on-call receiver. */
static void notice(const char *entity, const char *kind, const char *state, int64_t sent,
		   const char *receiver)
{
	char *q = sqlite3_mprintf(
	    "INSERT INTO outbox (entity, slip_kind, channel, recipient, state, next_attempt_at, "
	    "created_at, sent_at, receiver) VALUES (%Q, %Q, 'email', 'c@example.com', %Q, %lld, "
	    "%lld, nullif(%lld, 0), %Q)",
	    entity, kind, state, NOW - 5000, NOW - 5000, (long long)sent, receiver);

	sql(q);
	sqlite3_free(q);
}

/* The store: five late units and one at risk.
 *   w1/o1  parcel dhl/T1, 30 h late, told (a late notice at NOW-3600 after
 *          a ship_late one at NOW-90000), stalled in line haul x2.5 (and
 *          open slips without a ratio and with a smaller one), courier
 *          text with <b>
 *   w1/o2  parcel dhl/T2, 20 h late, a queued notice and an on-call row
 *   w1/o3  parcel ups/T3, 10 h late, customer "Zoë <i>": ups's first,
 *          not w1's
 *   w3/o5  parcel dhl/T5, 5 h late, customer "Eve": w3's first, not dhl's
 *   w1/o4  no parcel, 1 h late
 *   ups/U9 a parcel without an order, with an open slip: at risk, its
 *          courier text and stage from the parcel and its slips */
static void fill(struct sw_store *st)
{
	order(st, "w1", "o1", "Ann", NOW - 30 * 3600);
	parcel(st, "dhl", "T1", "w1", "o1", "Held <b>here</b>");
	order(st, "w1", "o2", "Bo", NOW - 20 * 3600);
	parcel(st, "dhl", "T2", "w1", "o2", NULL);
	order(st, "w1", "o3", "Zo\xc3\xab <i>", NOW - 10 * 3600);
	parcel(st, "ups", "T3", "w1", "o3", NULL);
	order(st, "w3", "o5", "Eve", NOW - 5 * 3600);
	parcel(st, "dhl", "T5", "w3", "o5", NULL);
	order(st, "w1", "o4", "Di", NOW - 3600);
	sql("UPDATE orders SET shipped_at = NULL WHERE order_id = 'o4'");
	parcel(st, "ups", "U9", NULL, NULL, "Sorting");
	slip(st, "parcel:dhl:T1", "stalled", "line_haul", 2.5);
	slip(st, "parcel:dhl:T1", "late", "warehouse", 0);
	slip(st, "parcel:dhl:T1", "exception", "last_mile", 1.2);
	slip(st, "parcel:ups:U9", "stalled", "last_mile", 1.5);
	notice("order:w1:o1", "ship_late", "sent", NOW - 90000, NULL);
	notice("parcel:dhl:T1", "late", "merged", NOW - 3600, NULL);
	notice("parcel:dhl:T2", "late", "queued", 0, NULL);
	notice("order:w1:o2", "trigger", "sent", NOW - 60, "oncall");
}

static struct sw_dash_late *late(struct sw_store *st, size_t max_rows)
{
	struct sw_dash_late_opts o = {.now = NOW,
				      .within_s = 86400,
				      .tracking_url = "https://t.example/{tracking}",
				      .max_rows = max_rows};
	struct sw_dash_late *l = NULL;
	char err[512] = "";

	if (!ok(sw_dash_late_read(st, &o, &l, err, sizeof(err)) == SW_OK, "read (%zu rows)",
		max_rows))
		tap_bail("%s", err);
	return l;
}

/* The table's HTML for a filter. */
static char *table(const struct sw_dash_late *l, enum sw_dash_filter f, const char *id)
{
	struct sw_buf b;

	sw_buf_init(&b, 1 << 20);
	sw_dash_late_table(l, f, id, &b);
	return sw_buf_steal(&b, NULL);
}

/* The order ids of a table's rows, in order, joined by ','. */
static void oids(const char *html, char *buf, size_t len)
{
	const char *p = html;
	size_t n = 0;

	buf[0] = '\0';
	while ((p = strstr(p, "<span class=\"oid\">")) != NULL) {
		const char *e;

		p += strlen("<span class=\"oid\">");
		e = strchr(p, '<');
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%.*s", n ? "," : "",
				      (int)(e - p), p);
	}
}

static void test_tables(struct sw_store *st)
{
	struct sw_dash_late *l = late(st, 0);
	struct sw_dash_late_counts c;
	char *h, ids[256];

	sw_dash_late_counts(l, &c);
	ok(c.units == 6 && c.late == 5 && c.ship_late == 0 && c.at_risk == 1 && !c.partial,
	   "counts: 6 units, 5 late, 1 at risk (got %lld %lld %lld %lld)", (long long)c.units,
	   (long long)c.late, (long long)c.ship_late, (long long)c.at_risk);
	h = table(l, SW_DASH_ALL, NULL);
	oids(h, ids, sizeof(ids));
	is_str(ids, "o1,o2,o3,o5,o4", "all: most overdue first (the unit without a promise last)");
	ok(strstr(h, "<td class=\"customer\">Ann</td>") != NULL, "o1: its customer");
	ok(strstr(h, "Held &lt;b&gt;here&lt;/b&gt;") != NULL, "o1: the courier's words, escaped");
	ok(strstr(h, "<td class=\"stage\">line_haul &times;2.5</td>") != NULL,
	   "o1: the open slip that ran over most (not the one without a ratio)");
	ok(strstr(h, "<td class=\"told yes\">yes, <time>") != NULL &&
	       strstr(h, "(late, email)</td>") != NULL,
	   "o1: told, by the latest notice sent (a merged one counts)");
	ok(strstr(h, "<a href=\"https://t.example/T1\" rel=\"noopener noreferrer\">T1</a>"),
	   "o1: the tracking link");
	ok(strstr(h, "Zo\xc3\xab &lt;i&gt;") != NULL,
	   "o3: the customer's name escaped, UTF-8 kept");
	ok(strstr(h, "<td class=\"tracking\">not shipped</td>") != NULL, "o4: not shipped");
	ok(strstr(h, "<td class=\"status\">in_transit<br><span class=\"ctext\">Sorting</span>") !=
	       NULL,
	   "U9: the courier's words from the parcel");
	ok(strstr(h, "<td class=\"stage\">last_mile &times;1.5</td>") != NULL,
	   "U9: its stage from its open slips");
	ok(strstr(h, "<tr class=\"risk\">") != NULL, "U9: at risk");
	ok(strstr(h, "more not shown") == NULL, "no 'more' under the cap");
	free(h);
	h = table(l, SW_DASH_WAREHOUSE, "w1");
	oids(h, ids, sizeof(ids));
	is_str(ids, "o1,o2,o3,o4", "w1: its four");
	ok(strstr(h, "<td class=\"told no\">no</td>") != NULL,
	   "o2: not told (queued notice; an on-call row is no customer notice)");
	free(h);
	h = table(l, SW_DASH_COURIER, "ups");
	oids(h, ids, sizeof(ids));
	is_str(ids, "o3", "ups: its parcel with an order (and U9, without)");
	ok(strstr(h, ">U9<") != NULL, "ups: U9 is there");
	free(h);
	h = table(l, SW_DASH_WAREHOUSE, "w9");
	ok(strstr(h, "nothing late or at risk") != NULL, "a warehouse with nothing says so");
	free(h);
	sw_dash_late_free(l);
}

/* One row a table: late.html shows o1 and says 5 more; w3's table shows
 * o5 and ups's o3 with their details read although late.html and the
 * other table of each do not show them. */
static void test_cap(struct sw_store *st)
{
	struct sw_dash_late *l = late(st, 1);
	char *h = table(l, SW_DASH_ALL, NULL), ids[256];

	oids(h, ids, sizeof(ids));
	is_str(ids, "o1", "cap 1: late.html shows the most overdue");
	ok(strstr(h, "5 more not shown (the 1 most overdue are)") != NULL, "and says 5 more");
	free(h);
	h = table(l, SW_DASH_WAREHOUSE, "w3");
	ok(strstr(h, "<td class=\"customer\">Eve</td>") != NULL,
	   "cap 1: w3's first row has its details (dhl's first is o1)");
	free(h);
	h = table(l, SW_DASH_COURIER, "ups");
	ok(strstr(h, "Zo\xc3\xab &lt;i&gt;") != NULL,
	   "cap 1: ups's first row has its details (w1's first is o1)");
	ok(strstr(h, "1 more not shown") != NULL, "cap 1: ups shows one, 1 more");
	free(h);
	h = table(l, SW_DASH_WAREHOUSE, "w1");
	ok(strstr(h, "3 more not shown") != NULL, "cap 1: w1 shows one, 3 more");
	free(h);
	sw_dash_late_free(l);
}

static void test_no_store(void)
{
	char *h = table(NULL, SW_DASH_ALL, NULL);

	ok(strstr(h, "<p class=\"nodata\">store not available</p>") != NULL,
	   "no store: the table says so");
	free(h);
}

int main(void)
{
	struct sw_store *st;

	setenv("TZ", "UTC", 1);
	test_links();
	test_no_store();
	if ((st = store_tmp_open()) != NULL) {
		fill(st);
		test_tables(st);
		test_cap(st);
	}
	return store_tmp_done(st);
}
