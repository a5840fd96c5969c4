/*
 * feeds.c - feed health for held customer notices (see feeds.h).
 *
 * Every judgment reads the store afresh (primary-key seeks: courier_health,
 * courier_polls' minutes of one window, warehouse_health, the courier's
 * courier_api probe row), because it is made only when a notice is about
 * to go, not per event.
 *
 * Settling (feeds.h) measures the pause a warehouse resumed from with the
 * same working-time silence as the down judgment, taken at the moment it
 * resumed: so it settles exactly when its feed was unhealthy just before
 * its first event back, and a night outside its working hours, which
 * never made it unhealthy, does not hold the morning's notices.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alerts/feeds.h"
#include "lib/store_feeds.h"
#include "lib/store_probes.h"
#include "lib/swtime.h"

#define DAY_MIN (24 * 60)

int64_t sw_feeds_working_silence(const struct sw_wh_hours *h, const char *default_zone,
				 int64_t last, int64_t now)
{
	const char *zone = h->timezone ? h->timezone : default_zone;
	struct sw_tz_local lt;
	int cur, since, start = h->start_min, end = h->end_min;
	int64_t from;

	if (h->all_day)
		return now > last ? now - last : 0;
	if (sw_tz_utc_to_local(zone, now, &lt) != SW_OK &&
	    sw_tz_utc_to_local("UTC", now, &lt) != SW_OK)
		return 0;
	cur = lt.hour * 60 + lt.min;
	if (start < end ? (cur < start || cur >= end) : (cur < start && cur >= end))
		return 0; /* outside working hours */
	since = (cur - start + DAY_MIN) % DAY_MIN;
	from = now - (int64_t)since * 60 - lt.sec; /* the period's start */
	if (last > from)
		from = last;
	return now > from ? now - from : 0;
}

/* "2 h 10 min", "45 min", "30 s". */
static void span(int64_t s, char *buf, size_t len)
{
	if (s >= 3600)
		snprintf(buf, len, "%lld h %lld min", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%lld min", (long long)(s / 60));
	else
		snprintf(buf, len, "%lld s", (long long)s);
}

/* The courier's API probe (courier_api-COURIER, store_probes.h): down
 * when its latest result is fresh (within window) and failed.  No row, or
 * a stale one (slipwatch-probes not running), says nothing. */
static bool probe_down(struct sw_store *st, const char *courier, int64_t now, int64_t window,
		       char *why, size_t whylen)
{
	char name[160];
	struct sw_probe_row *r = NULL;
	enum sw_err rc;
	bool down;

	snprintf(name, sizeof(name), "courier_api-%s", courier);
	rc = sw_store_probe_get(st, name, &r);
	if (rc == SW_ENOTFOUND)
		return false;
	if (rc != SW_OK) {
		snprintf(why, whylen, "the %s API probe's result cannot be read", courier);
		return true;
	}
	down = !r->ok && r->at > now - window;
	if (down)
		snprintf(why, whylen, "the %s API probe fails: %s", courier,
			 r->reason && *r->reason ? r->reason : "no reason given");
	sw_store_probe_rows_free(r, 1);
	return down;
}

enum sw_err sw_feeds_courier_silence(struct sw_store *st, const char *courier, int64_t now,
				     int64_t *ret_silent, int64_t *ret_ok_at,
				     int64_t *ret_fail_at)
{
	struct sw_poll *due = NULL;
	size_t n = 0;
	int64_t from;
	enum sw_err rc = sw_store_courier_health_get(st, courier, ret_ok_at, ret_fail_at);

	*ret_silent = -1;
	if (rc == SW_ENOTFOUND || (rc == SW_OK && !*ret_ok_at))
		return SW_OK; /* never answered usefully */
	if (rc != SW_OK)
		return rc;
	from = *ret_ok_at;
	if (*ret_fail_at <= *ret_ok_at) { /* not failing: is anything asked? */
		if ((rc = sw_store_poll_due_courier(st, courier, now, 1, &due, &n)) != SW_OK)
			return rc;
		if (n == 0)
			from = now; /* idle: nothing due */
		else if (due[0].next_poll_at > from)
			from = due[0].next_poll_at;
		sw_store_poll_free(due, n);
	}
	*ret_silent = now > from ? now - from : 0;
	return SW_OK;
}

bool sw_feeds_courier_down(struct sw_store *st, const struct sw_alerts_conf *c,
			   const char *courier, int64_t now, char *why, size_t whylen)
{
	int64_t window = c->feed_window_ms / 1000, ok_at, fail_at, okn, failed, silent;
	char ago[32];

	if (sw_feeds_courier_silence(st, courier, now, &silent, &ok_at, &fail_at) != SW_OK ||
	    sw_store_courier_polls_sum(st, courier, now - window, &okn, &failed) != SW_OK) {
		snprintf(why, whylen, "the %s tracking API's health cannot be read", courier);
		return true;
	}
	if (silent < 0 || silent > window) {
		if (silent >= 0)
			span(silent, ago, sizeof(ago));
		snprintf(why, whylen, "the %s tracking API has not answered usefully %s%s",
			 courier, silent >= 0 ? "for " : "yet", silent >= 0 ? ago : "");
		return true;
	}
	if (failed > 0 && (double)failed * 100.0 > c->feed_error_rate * (double)(okn + failed)) {
		span(window, ago, sizeof(ago));
		snprintf(why, whylen,
			 "the %s tracking API failed %lld of its %lld answers in the last %s",
			 courier, (long long)failed, (long long)(okn + failed), ago);
		return true;
	}
	return probe_down(st, courier, now, window, why, whylen);
}

/* Whether the warehouse is settling at now: it resumed at resumed_at
 * after a pause of gap seconds whose working part (the silence the feed
 * was judged by the moment it resumed) reached the window, less than
 * settle seconds ago.  The working part into *ret_pause. */
static bool settling(const struct sw_alerts_conf *c, const struct sw_wh_hours *h,
		     int64_t resumed_at, int64_t gap, int64_t now, int64_t *ret_pause)
{
	int64_t settle = c->warehouse_feed_settle_ms / 1000;

	*ret_pause = 0;
	if (settle <= 0 || resumed_at <= 0 || gap <= 0 || now - resumed_at >= settle)
		return false;
	*ret_pause = sw_feeds_working_silence(h, c->default_timezone, resumed_at - gap, resumed_at);
	return *ret_pause >= c->warehouse_feed_window_ms / 1000;
}

bool sw_feeds_warehouse_down(struct sw_store *st, const struct sw_alerts_conf *c,
			     const struct sw_rules *r, const char *warehouse, int64_t now,
			     char *why, size_t whylen)
{
	const struct sw_wh_hours *h;
	int64_t last, resumed_at, gap, silent, pause;
	char ago[32], paused[32];

	if (sw_store_warehouse_health(st, warehouse, &last, &resumed_at, &gap) != SW_OK) {
		snprintf(why, whylen, "warehouse %s's feed health cannot be read", warehouse);
		return true;
	}
	if (last == 0)
		return false; /* never published: cannot be judged */
	h = sw_rules_warehouse(r, warehouse);
	silent = sw_feeds_working_silence(h, c->default_timezone, last, now);
	if (silent >= c->warehouse_feed_window_ms / 1000) {
		span(silent, ago, sizeof(ago));
		snprintf(why, whylen,
			 "warehouse %s has published nothing for %s of its working hours",
			 warehouse, ago);
		return true;
	}
	if (!settling(c, h, resumed_at, gap, now, &pause))
		return false;
	span(now > resumed_at ? now - resumed_at : 0, ago, sizeof(ago));
	span(pause, paused, sizeof(paused));
	snprintf(why, whylen,
		 "the warehouse %s feed resumed %s ago after %s of silence; its backlog is still "
		 "landing",
		 warehouse, ago, paused);
	return true;
}
