/*
 * test_dash_report.c - unit tests for dashboards/dash_report.c, the
 * promise report page: report.html written from a seeded store (the
 * rates as the seed says, the cells under the target marked with a class
 * and a visible word, a courier whose name is markup shown as text), and
 * from no store (a page that says so); a page is never written twice.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboards/dash_report.h"
#include "lib/store.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW	INT64_C(1796212800) /* 2026-12-02T12:00:00Z */
#define HOSTILE "<img src=x onerror=alert(1)>"

static struct sw_stamp at(const char *s)
{
	struct sw_time t;

	if (sw_time_parse(s, &t, NULL, 0) != SW_OK)
		exit(1);
	return (struct sw_stamp){t.utc_sec, t.offset_sec};
}

/* An order of W1 promised at promise, its parcel of courier delivered at
 * delivered. */
static void order(struct sw_store *st, const char *oid, const char *courier, const char *promise,
		  const char *delivered)
{
	struct sw_order o = {.warehouse_id = "W1", .order_id = oid};
	struct sw_parcel_update u = {.status = SW_SHIP_DELIVERED};
	char key[32];

	o.promised_delivery_by.kind = SW_PROMISE_INSTANT;
	o.promised_delivery_by.text = promise;
	o.promised_delivery_by.at = at(promise);
	snprintf(key, sizeof(key), "k-%s", oid);
	u.event_at = u.delivered_at = at(delivered);
	if (sw_store_order_set_details(st, &o, NOW - 86400 * 30, key, NULL) != SW_OK ||
	    sw_store_parcel_upsert(st, courier, oid, "W1", oid, at("2026-11-01T10:00:00Z")) ||
	    sw_store_parcel_set_status(st, courier, oid, &u) != SW_OK) {
		printf("# seed %s: %s\n", oid, sw_store_errmsg(st));
		exit(1);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	text = xmalloc(1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	text[len] = '\0';
	fclose(f);
	return text;
}

static char *write_in(const struct sw_dash_opts *o, const char *sub, struct sw_dash_stats *st,
		      enum sw_err *ret_rc)
{
	char *dir = xasprintf("%s/%s", tmpdir, sub), *path, *cmd, err[256] = "", *page;

	cmd = xasprintf("mkdir -p '%s'", dir);
	if (system(cmd) != 0)
		exit(1);
	memset(st, 0, sizeof(*st));
	*ret_rc = sw_dash_report_write(o, dir, "<a href=\"index.html\">Overview</a>", "made now",
				       NOW, st, err, sizeof(err));
	path = xasprintf("%s/report.html", dir);
	page = slurp(path);
	free(path);
	free(cmd);
	free(dir);
	return page;
}

int main(void)
{
	struct sw_store *st = store_tmp_open(), *ro = NULL;
	struct sw_dash_opts o = {.site_title = "shop", .zone = "Asia/Kolkata", .target = 80};
	struct sw_dash_stats stats;
	char err[512], *page, *row;
	enum sw_err rc;

	if (!st)
		return store_tmp_done(NULL);
	/* W1 in November: 3 of 4 on time (75%, under 80); HOSTILE's order late */
	order(st, "A", "dhl", "2026-11-10T18:00:00+05:30", "2026-11-10T10:00:00+05:30");
	order(st, "B", "dhl", "2026-11-11T18:00:00+05:30", "2026-11-11T10:00:00+05:30");
	order(st, "C", "dhl", "2026-11-12T18:00:00+05:30", "2026-11-12T10:00:00+05:30");
	order(st, "D", HOSTILE, "2026-11-12T18:00:00+05:30", "2026-11-13T10:00:00+05:30");
	sw_store_close(st);
	if (sw_store_open(store_path, SW_STORE_RDONLY, &ro, err, sizeof(err)) != SW_OK) {
		printf("# %s\n", err);
		return store_tmp_done(NULL);
	}
	o.store = ro;

	page = write_in(&o, "a", &stats, &rc);
	ok(rc == SW_OK && page && stats.pages == 1 && !stats.store_error[0],
	   "report.html is written and counted");
	row = page ? strstr(page, "<tr><th scope=\"row\">W1</th>") : NULL;
	ok(row != NULL, "W1 has a row");
	ok(page && strstr(page, "<td class=\"below\" title=\"3 on time, 1 late, 0 not judged "
				"yet\">75.0% <span class=\"n\">3/4</span> <span "
				"class=\"mark\">&#9660;&nbsp;below</span></td>"),
	   "W1's November: 75.0%%, 3/4, under 80%%: class below and the word");
	ok(page && strstr(page, "100.0% <span class=\"n\">3/3</span></td>"),
	   "dhl's November: 100%%, not marked");
	ok(page && !strstr(page, "<img") && strstr(page, "&lt;img src=x onerror=alert(1)&gt;</th>"),
	   "a courier named with markup shows as text");
	ok(page && strstr(page, "<nav><a href=\"index.html\">Overview</a></nav>") &&
	       strstr(page, "made now"),
	   "in the site's frame");
	ok(page && strstr(page, "Days in Asia/Kolkata. Target 80%"), "the zone and the target");
	ok(page && strstr(page, "id=\"eta\""), "the ETA section");
	free(page);

	page = write_in(&o, "a", &stats, &rc);
	ok(rc == SW_EIO && stats.pages == 0, "a page already there is not overwritten");
	free(page);

	o.store = NULL;
	page = write_in(&o, "b", &stats, &rc);
	ok(rc == SW_OK && page && strstr(page, "is not available: no store was opened") &&
	       !strstr(page, "<table"),
	   "no store: the page says so");
	free(page);
	return store_tmp_done(ro);
}
