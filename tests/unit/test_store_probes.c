/*
 * test_store_probes.c - unit tests for lib/store_probes.h (schema 8:
 * probe_results): put, get and list; a row replaced by the next run;
 * failing_since set by the first failing run, kept by the next failing
 * ones and cleared by a passing one; a value absent and present; bad
 * arguments.  On a store in a private temp dir.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/store.h"
#include "lib/store_probes.h"
#include "tests/sqlite_raw.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW INT64_C(1795521600) /* 2026-11-24T12:00:00Z */

static struct sw_probe_row row(const char *name, int64_t at, bool ok)
{
	return (struct sw_probe_row){.name = (char *)name,
				     .kind = "courier_api",
				     .at = at,
				     .ok = ok,
				     .sent = 5,
				     .lost = ok ? 0 : 5,
				     .lat_p50 = ok ? 0.25 : -1,
				     .lat_max = ok ? 0.5 : -1,
				     .reason = ok ? NULL : "dhl: connection refused",
				     .detail = ok ? "HTTP 200" : NULL,
				     .failing_since = 12345 /* ignored */};
}

static int64_t failing_since(struct sw_store *st, const char *name)
{
	struct sw_probe_row *r = NULL;
	int64_t v = -1;

	if (sw_store_probe_get(st, name, &r) == SW_OK)
		v = r->failing_since;
	sw_store_probe_rows_free(r, r ? 1 : 0);
	return v;
}

static void test_put_get(struct sw_store *st)
{
	struct sw_probe_row w = row("courier_api-dhl", NOW, true), *r = NULL;

	w.has_value = true;
	w.value = 41;
	is_int(sw_store_probe_put(st, &w), SW_OK, "put a passing run");
	if (!ok(sw_store_probe_get(st, "courier_api-dhl", &r) == SW_OK, "get it"))
		return;
	is_str(r->name, "courier_api-dhl", "  name");
	is_str(r->kind, "courier_api", "  kind");
	is_int(r->at, NOW, "  at");
	ok(r->ok, "  ok");
	ok(r->sent == 5 && r->lost == 0, "  sent 5, lost 0");
	ok(r->lat_p50 == 0.25 && r->lat_max == 0.5, "  p50 0.25 s, max 0.5 s");
	ok(r->has_value && r->value == 41, "  value 41");
	ok(r->reason == NULL, "  no reason");
	is_str(r->detail, "HTTP 200", "  detail");
	is_int(r->failing_since, 0, "  failing_since 0 (the caller's value ignored)");
	sw_store_probe_rows_free(r, 1);
	r = NULL;
	is_int(sw_store_probe_get(st, "nope", &r), SW_ENOTFOUND, "an unknown name: SW_ENOTFOUND");
	ok(r == NULL, "  nothing returned");
	w = row("", NOW, true);
	is_int(sw_store_probe_put(st, &w), SW_EINVAL, "an empty name is refused");
	w = row("x", NOW, true);
	w.kind = NULL;
	is_int(sw_store_probe_put(st, &w), SW_EINVAL, "no kind is refused");
}

static void test_failing_since(struct sw_store *st)
{
	struct sw_probe_row w = row("courier_api-ups", NOW, false), *r = NULL;

	is_int(sw_store_probe_put(st, &w), SW_OK, "a first run that fails");
	is_int(failing_since(st, "courier_api-ups"), NOW, "  failing since that run");
	w = row("courier_api-ups", NOW + 60, false);
	sw_store_probe_put(st, &w);
	is_int(failing_since(st, "courier_api-ups"), NOW, "a second failing run keeps it");
	if (ok(sw_store_probe_get(st, "courier_api-ups", &r) == SW_OK, "  the row")) {
		is_int(r->at, NOW + 60, "  at is the latest run");
		is_str(r->reason, "dhl: connection refused", "  its reason");
		ok(!r->has_value && r->lat_p50 == -1, "  no value, no latency");
	}
	sw_store_probe_rows_free(r, r ? 1 : 0);
	w = row("courier_api-ups", NOW + 120, true);
	sw_store_probe_put(st, &w);
	is_int(failing_since(st, "courier_api-ups"), 0, "a passing run clears it");
	w = row("courier_api-ups", NOW + 180, false);
	sw_store_probe_put(st, &w);
	is_int(failing_since(st, "courier_api-ups"), NOW + 180, "failing again: since that run");
	is_int(raw_int(store_path, "SELECT count(*) FROM probe_results"), 2,
	       "one row per probe, whatever the runs");
}

static void test_list(struct sw_store *st)
{
	struct sw_probe_row *rows = NULL, w = row("broker", NOW, true);
	size_t n = 0;

	w.kind = "broker";
	sw_store_probe_put(st, &w);
	is_int(sw_store_probe_list(st, &rows, &n), SW_OK, "list");
	ok(n == 3 && strcmp(rows[0].name, "broker") == 0 &&
	       strcmp(rows[1].name, "courier_api-dhl") == 0 &&
	       strcmp(rows[2].name, "courier_api-ups") == 0,
	   "  every row, by name");
	sw_store_probe_rows_free(rows, n);
}

int main(void)
{
	struct sw_store *st = store_tmp_open();
	struct sw_probe_row *rows = (void *)1;
	size_t n = 1;

	if (st) {
		is_int(sw_store_probe_list(st, &rows, &n), SW_OK, "an empty list");
		ok(rows == NULL && n == 0, "  NULL, 0");
		test_put_get(st);
		test_failing_since(st);
		test_list(st);
	}
	return store_tmp_done(st);
}
