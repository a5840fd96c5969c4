/*
 * test_store_track.c - the alert engine's batched unit read
 * (sw_store_track_among, lib/store.c) against the per-key reads it
 * replaces in the journal tail (sw_store_track_parcel / _order): for a
 * list of keys it returns exactly the rows those calls return one key
 * after another, each row tagged with its key's index, whatever the list
 * holds (missing keys, duplicates, an order with several parcels, an
 * order without any, a parcel without an order, keys needing JSON
 * escapes, orders listed before and after the ones with parcels).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/store.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define T0 1800000000

static const char *s_(const char *s)
{
	return s ? s : "(null)";
}

/* Every field of a track, as one line (equal lines: equal tracks). */
static void track_text(const struct sw_track *t, char *buf, size_t len)
{
	const struct sw_parcel *p = t->parcel;
	const struct sw_order *o = t->order;
	size_t n = 0;

	n += (size_t)snprintf(buf + n, len - n, "polled %d/%" PRId64 " ", t->polled,
			      t->polled_ok_at);
	if (p)
		n += (size_t)snprintf(
			buf + n, len - n,
			"parcel %" PRId64 " %s/%s of %s/%s shipped %" PRId64 " status %d %s %s "
			"last %" PRId64 " eta %s delivered %" PRId64 " scan %" PRId64 " term %d; ",
			p->id, s_(p->courier), s_(p->tracking_number), s_(p->warehouse_id),
			s_(p->order_id), p->shipped_at.at, (int)p->status, s_(p->raw_code),
			s_(p->raw_text), p->last_event_at.at, s_(p->eta_date), p->delivered_at.at,
			p->first_scan_at.at, p->terminal);
	if (!o)
		return;
	n += (size_t)snprintf(buf + n, len - n,
			      "order %" PRId64 " %s/%s %s %s %s %s %s %s ship-by %" PRId64
			      " promise %d %s %" PRId64 " %s %s %s %s status %d stages",
			      o->id, s_(o->warehouse_id), s_(o->order_id), s_(o->customer_name),
			      s_(o->customer_email), s_(o->customer_locale),
			      s_(o->customer_timezone), s_(o->customer_phone),
			      s_(o->customer_channel), o->promised_ship_by.at,
			      (int)o->promised_delivery_by.kind, s_(o->promised_delivery_by.text),
			      o->promised_delivery_by.at.at, s_(o->service_level),
			      s_(o->dest_country), s_(o->dest_postal_code), s_(o->dest_city),
			      (int)o->status);
	for (int i = 0; i < SW_STAGE_LAST && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %" PRId64 "/%d", o->stage[i].at,
				      o->stage[i].offset);
}

static void order(struct sw_store *st, const char *oid, int stages, const char *name)
{
	struct sw_order o = { 0 };

	o.warehouse_id = "wh";
	o.order_id = oid;
	o.customer_name = name;
	o.customer_email = "c@example.com";
	o.customer_timezone = "Asia/Kathmandu";
	o.service_level = "express";
	o.promised_ship_by.at = T0 + 3600;
	for (int i = 0; i < stages; i++)
		o.stage[i].at = T0 + i * 60;
	if (sw_store_order_upsert(st, &o) != SW_OK)
		tap_bail("order %s: %s", oid, sw_store_errmsg(st));
}

static void parcel(struct sw_store *st, const char *courier, const char *tn, const char *oid,
		   enum sw_ship_status status)
{
	struct sw_parcel_update u = { 0 };

	u.status = status;
	u.event_at.at = T0 + 7200;
	u.eta_date = "2027-01-16";
	if (sw_store_parcel_upsert(st, courier, tn, oid ? "wh" : NULL, oid,
				   (struct sw_stamp){ T0 + 600, 345 }) != SW_OK ||
	    sw_store_parcel_set_status(st, courier, tn, &u) != SW_OK)
		tap_bail("parcel %s: %s", tn, sw_store_errmsg(st));
}

/* Orders A (3 parcels), B (none), C (cancelled, none); parcels of A: dhl
 * P1 (polled ok), ups P3 (polled, failing), dhl P2 (delivered); dhl
 * a"b\c<tab> of order Q"\; ups P4 without an order. */
static void seed(struct sw_store *st)
{
	struct sw_poll ok = { .courier = "dhl", .tracking_number = "P1",
			      .next_poll_at = T0 + 9000, .interval_s = 600,
			      .last_polled_at = T0 + 8000 };
	struct sw_poll bad = { .courier = "ups", .tracking_number = "P3",
			       .next_poll_at = T0 + 9000, .interval_s = 600, .failures = 2,
			       .last_polled_at = T0 + 8100, .last_error = "HTTP 503" };

	order(st, "A", 4, "Ann");
	order(st, "B", 2, "Bob");
	order(st, "C", SW_STAGE_LAST, "Cat"); /* every stage, cancelled included */
	order(st, "Q\"\\", 4, "Quo");
	parcel(st, "dhl", "P1", "A", SW_SHIP_IN_TRANSIT);
	parcel(st, "ups", "P3", "A", SW_SHIP_EXCEPTION);
	parcel(st, "dhl", "P2", "A", SW_SHIP_DELIVERED);
	parcel(st, "dhl", "a\"b\\c\t", "Q\"\\", SW_SHIP_IN_TRANSIT);
	parcel(st, "ups", "P4", NULL, SW_SHIP_IN_TRANSIT);
	if (sw_store_poll_upsert(st, &ok) != SW_OK || sw_store_poll_upsert(st, &bad) != SW_OK)
		tap_bail("poll: %s", sw_store_errmsg(st));
}

/* The rows the per-key call gives for keys[0..n-1], one after another. */
static void per_key(struct sw_store *st, enum sw_track_unit unit, const struct sw_track_key *keys,
		    size_t n, char ***ret_text, size_t **ret_of, size_t *ret_n)
{
	char **text = NULL, buf[2048];
	size_t *of = NULL, total = 0;

	for (size_t k = 0; k < n; k++) {
		struct sw_track *list;
		size_t m;
		enum sw_err rc = unit == SW_TRACK_PARCEL
					 ? sw_store_track_parcel(st, keys[k].a, keys[k].b, &list, &m)
					 : sw_store_track_order(st, keys[k].a, keys[k].b, &list, &m);

		if (rc != SW_OK)
			tap_bail("per key %zu: %s", k, sw_store_errmsg(st));
		text = realloc(text, (total + m + 1) * sizeof(*text));
		of = realloc(of, (total + m + 1) * sizeof(*of));
		for (size_t i = 0; i < m; i++) {
			track_text(&list[i], buf, sizeof(buf));
			text[total] = strdup(buf);
			of[total++] = k;
		}
		sw_store_track_free(list, m);
	}
	*ret_text = text;
	*ret_of = of;
	*ret_n = total;
}

/* sw_store_track_among gives the same rows as the per-key calls. */
static void same_rows(struct sw_store *st, enum sw_track_unit unit, const struct sw_track_key *keys,
		      size_t n, size_t want_rows, const char *what)
{
	struct sw_track *list;
	char **text, buf[2048];
	size_t *of, *want_of, n_rows, n_want, diff = 0;

	per_key(st, unit, keys, n, &text, &want_of, &n_want);
	is_int(sw_store_track_among(st, unit, keys, n, &list, &of, &n_rows), SW_OK, "%s: read",
	       what);
	is_int((int)n_want, (int)want_rows, "%s: the per-key reads give %zu rows", what,
	       want_rows);
	is_int((int)n_rows, (int)n_want, "%s: the batched read gives as many", what);
	for (size_t i = 0; i < n_rows && i < n_want; i++) {
		track_text(&list[i], buf, sizeof(buf));
		if (strcmp(buf, text[i]) != 0 || of[i] != want_of[i]) {
			diff++;
			printf("# row %zu (key %zu, want key %zu):\n#  got  %s\n#  want %s\n", i,
			       of[i], want_of[i], buf, text[i]);
		}
	}
	is_int((int)diff, 0, "%s: the same rows, in the same order, with their key index", what);
	sw_store_track_free(list, n_rows);
	for (size_t i = 0; i < n_want; i++)
		free(text[i]);
	free(text);
	free(of);
	free(want_of);
}

static void test_parcels(struct sw_store *st)
{
	const struct sw_track_key keys[] = {
		{ "dhl", "P2" },	  { "dhl", "missing" }, { "dhl", "P1" },
		{ "dhl", "P2" },	  { "ups", "P4" },	{ "ups", "P3" },
		{ "dhl", "a\"b\\c\t" }, { "ups", "P1" }, /* wrong courier: missing */
	};

	same_rows(st, SW_TRACK_PARCEL, keys, 8, 6, "parcels");
	same_rows(st, SW_TRACK_PARCEL, keys + 1, 1, 0, "one missing parcel");
}

static void test_orders(struct sw_store *st)
{
	/* B (no parcel) before A: the no-parcel rows must not come first */
	const struct sw_track_key keys[] = {
		{ "wh", "B" }, { "wh", "A" },	  { "wh", "missing" }, { "wh", "C" },
		{ "wh", "A" }, { "wh", "Q\"\\" }, { "wx", "A" },       { "wh", "B" },
	};
	struct sw_track *list;
	size_t n, *of;

	same_rows(st, SW_TRACK_ORDER, keys, 8, 10, "orders");
	same_rows(st, SW_TRACK_ORDER, keys + 1, 1, 3, "one order with three parcels");
	same_rows(st, SW_TRACK_ORDER, keys + 3, 1, 1, "one cancelled order without parcels");

	/* what the per-key reads are known to give */
	if (sw_store_track_among(st, SW_TRACK_ORDER, keys, 2, &list, &of, &n) != SW_OK)
		tap_bail("among: %s", sw_store_errmsg(st));
	is_int((int)n, 4, "B then A: 4 rows");
	ok(n == 4 && !list[0].parcel && of[0] == 0 && strcmp(list[0].order->order_id, "B") == 0,
	   "row 0: order B alone");
	ok(n == 4 && list[1].parcel && of[1] == 1 && list[1].parcel->id < list[2].parcel->id &&
		   list[2].parcel->id < list[3].parcel->id,
	   "rows 1-3: A's parcels in id order");
	ok(n == 4 && list[1].polled == 1 && list[1].polled_ok_at == T0 + 8000 &&
		   list[2].polled == 1 && list[2].polled_ok_at == 0 && list[3].polled == 0,
	   "poll state: ok, failing, none");
	sw_store_track_free(list, n);
	free(of);
}

static void test_edges(struct sw_store *st)
{
	const struct sw_track_key bad[] = { { "dhl", "P1" }, { "dhl", "" } };
	const struct sw_track_key nul[] = { { NULL, "A" } };
	const struct sw_track_key one[] = { { "dhl", "P1" } };
	struct sw_track *list = (struct sw_track *)1;
	size_t n = 9, *of = (size_t *)1;

	is_int(sw_store_track_among(st, SW_TRACK_PARCEL, NULL, 0, &list, &of, &n), SW_OK,
	       "an empty list: SW_OK");
	ok(list == NULL && of == NULL && n == 0, "  and nothing");
	is_int(sw_store_track_among(st, SW_TRACK_PARCEL, bad, 2, &list, &of, &n), SW_EINVAL,
	       "an empty tracking number: SW_EINVAL");
	ok(strstr(sw_store_errmsg(st), "parcel key 1 of 2") != NULL, "  the message names it: %s",
	   sw_store_errmsg(st));
	ok(list == NULL && of == NULL && n == 0, "  and nothing is returned");
	is_int(sw_store_track_among(st, SW_TRACK_ORDER, nul, 1, &list, &of, &n), SW_EINVAL,
	       "a NULL warehouse: SW_EINVAL");
	ok(strstr(sw_store_errmsg(st), "order key 0 of 1") != NULL, "  the message names it: %s",
	   sw_store_errmsg(st));
	is_int(sw_store_track_among(st, SW_TRACK_UNIT_LAST, one, 1, &list, &of, &n), SW_EINVAL,
	       "a bad unit: SW_EINVAL");
	is_int(sw_store_track_among(st, SW_TRACK_PARCEL, one, 1, &list, NULL, &n), SW_OK,
	       "no key indices wanted (ret_of NULL)");
	ok(n == 1 && strcmp(list[0].parcel->tracking_number, "P1") == 0, "  the row all the same");
	sw_store_track_free(list, n);
}

int main(void)
{
	struct sw_store *st = store_tmp_open();

	if (!st)
		return store_tmp_done(NULL);
	seed(st);
	test_parcels(st);
	test_orders(st);
	test_edges(st);
	return store_tmp_done(st);
}
