/*
 * rrd_catalogue.c - the metric catalogue: which RRD files exist, their data
 * sources in file order, RRD types, units, and the registry values that
 * feed them.  Pure data plus its consistency check; doc/metrics.md is the
 * user's copy and must be kept in step with this table.
 *
 * Changing a kind's data sources changes the layout of existing files: the
 * writer then refuses them until they are migrated (sw_rrd_migrate, or
 * "slipwatch-rrd migrate").  Append new data sources at the end of a list.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/rrd.h"

#define ABS(n, unit, what, metric) \
	{ n, SW_RRD_ABSOLUTE, unit, what, metric, SW_RRD_STAT_VALUE }
#define GAUGE(n, unit, what, metric) \
	{ n, SW_RRD_GAUGE, unit, what, metric, SW_RRD_STAT_VALUE }
#define QUANT(n, what, metric, stat) \
	{ n, SW_RRD_GAUGE, "s", what, metric, stat }

static const struct sw_rrd_ds warehouse_ds[] = {
	ABS("created", "events", "orders created", "created"),
	ABS("picked", "events", "orders picked", "picked"),
	ABS("packed", "events", "orders packed", "packed"),
	ABS("shipped", "events", "parcels shipped", "shipped"),
	ABS("cancelled", "events", "orders cancelled", "cancelled"),
	ABS("backordered", "events", "orders backordered", "backordered"),
	ABS("rejected", "events", "events from this warehouse rejected", "rejected"),
	ABS("duplicates", "events", "events received again (no-op)", "duplicates"),
	GAUGE("backlog_pick", "orders", "created, not yet picked", "backlog_pick"),
	GAUGE("backlog_ship", "orders", "picked, not yet shipped", "backlog_ship"),
	GAUGE("ship_late", "orders", "past promised ship-by, not shipped", "ship_late"),
	QUANT("pick_p10", "created to picked, 10th percentile", "pick_duration", SW_RRD_STAT_P10),
	QUANT("pick_p50", "created to picked, median", "pick_duration", SW_RRD_STAT_P50),
	QUANT("pick_p90", "created to picked, 90th percentile", "pick_duration", SW_RRD_STAT_P90),
	QUANT("pick_max", "created to picked, maximum", "pick_duration", SW_RRD_STAT_MAX),
	QUANT("pack_p10", "picked to packed, 10th percentile", "pack_duration", SW_RRD_STAT_P10),
	QUANT("pack_p50", "picked to packed, median", "pack_duration", SW_RRD_STAT_P50),
	QUANT("pack_p90", "picked to packed, 90th percentile", "pack_duration", SW_RRD_STAT_P90),
	QUANT("pack_max", "picked to packed, maximum", "pack_duration", SW_RRD_STAT_MAX),
	QUANT("ship_p10", "packed to shipped, 10th percentile", "ship_duration", SW_RRD_STAT_P10),
	QUANT("ship_p50", "packed to shipped, median", "ship_duration", SW_RRD_STAT_P50),
	QUANT("ship_p90", "packed to shipped, 90th percentile", "ship_duration", SW_RRD_STAT_P90),
	QUANT("ship_max", "packed to shipped, maximum", "ship_duration", SW_RRD_STAT_MAX),
};

#define STATUS(rrd, s) GAUGE(rrd, "parcels", "parcels now in status " s, "status_" s)
static const struct sw_rrd_ds courier_ds[] = {
	STATUS("st_pending", "pending"),
	STATUS("st_info_received", "info_received"),
	STATUS("st_in_transit", "in_transit"),
	STATUS("st_out_for_delivery", "out_for_delivery"),
	STATUS("st_attempt_fail", "attempt_fail"),
	STATUS("st_avail_pickup", "available_for_pickup"),
	STATUS("st_delivered", "delivered"),
	STATUS("st_exception", "exception"),
	STATUS("st_returning", "returning"),
	STATUS("st_returned", "returned"),
	STATUS("st_expired", "expired"),
	STATUS("st_cancelled", "cancelled"),
	STATUS("st_unknown", "unknown"),
	ABS("delivered_ontime", "events", "parcels delivered by the promise", "delivered_ontime"),
	ABS("delivered_late", "events", "parcels delivered after the promise", "delivered_late"),
	QUANT("transit_p10", "shipped to delivered, 10th percentile", "transit_duration", SW_RRD_STAT_P10),
	QUANT("transit_p50", "shipped to delivered, median", "transit_duration", SW_RRD_STAT_P50),
	QUANT("transit_p90", "shipped to delivered, 90th percentile", "transit_duration", SW_RRD_STAT_P90),
	QUANT("transit_max", "shipped to delivered, maximum", "transit_duration", SW_RRD_STAT_MAX),
	QUANT("lat_p50", "tracking API latency, median", "api_latency", SW_RRD_STAT_P50),
	QUANT("lat_p90", "tracking API latency, 90th percentile", "api_latency", SW_RRD_STAT_P90),
	QUANT("lat_max", "tracking API latency, maximum", "api_latency", SW_RRD_STAT_MAX),
	ABS("resp_2xx", "events", "API answers 2xx", "resp_2xx"),
	ABS("resp_4xx", "events", "API answers 4xx other than 429", "resp_4xx"),
	ABS("resp_429", "events", "API answers 429 (rate limited)", "resp_429"),
	ABS("resp_5xx", "events", "API answers 5xx", "resp_5xx"),
	ABS("resp_timeout", "events", "API requests timed out or failed to connect", "resp_timeout"),
	ABS("parse_fail", "events", "API answers that could not be parsed", "parse_fail"),
	ABS("events", "events", "new courier events journaled", "events"),
};

static const struct sw_rrd_ds notify_ds[] = {
	ABS("sent", "events", "notifications delivered to the channel", "sent"),
	ABS("deferred", "events", "notifications deferred (quiet hours, retry)", "deferred"),
	ABS("failed", "events", "notifications failed for good", "failed"),
	ABS("suppressed", "events", "notifications not sent on purpose (any reason)", "suppressed"),
	ABS("sup_unsub", "events", "suppressed: the address is unsubscribed", "suppressed_unsubscribed"),
	ABS("sup_cap", "events", "suppressed: the customer's daily cap was reached", "suppressed_daily_cap"),
	ABS("queued", "events", "customer emails queued (one per slip and promise)", "queued"),
	ABS("slips", "events", "slips detected (each slip of each promise once)", "slips"),
	ABS("obsolete", "events", "notices not sent: no longer true when due (re-check)", "obsolete"),
	ABS("merged", "events", "notices sent inside another of the order's messages", "merged"),
	ABS("held", "events", "notices held: a feed could not confirm them, or a cohort incident was forming", "held"),
};

static const struct sw_rrd_ds oncall_ds[] = {
	ABS("queued", "events", "page notifications queued (trigger, acknowledge, resolve)", "queued"),
	ABS("sent", "events", "page notifications the receiver took", "sent"),
	ABS("deferred", "events", "page notifications deferred (the receiver failed for now)", "deferred"),
	ABS("failed", "events", "page notifications failed for good", "failed"),
	ABS("held_silence", "events", "notifications held by a silence", "held_silenced"),
	ABS("held_flap", "events", "notifications held by flap damping", "held_flapping"),
	ABS("errors", "events", "rule measurements that failed", "errors"),
	GAUGE("firing", "pages", "pages firing", "firing"),
	GAUGE("pending", "pages", "pages pending", "pending"),
	GAUGE("nodata", "pages", "pages without data", "nodata"),
};

static const struct sw_rrd_ds collector_ds[] = {
	ABS("rej_too_big", "events", "rejected: payload too big", "rejected_too_big"),
	ABS("rej_not_json", "events", "rejected: not JSON", "rejected_not_json"),
	ABS("rej_not_object", "events", "rejected: not a JSON object", "rejected_not_object"),
	ABS("rej_missing", "events", "rejected: required field missing", "rejected_missing_field"),
	ABS("rej_wrong_type", "events", "rejected: field of the wrong type", "rejected_wrong_type"),
	ABS("rej_bad_value", "events", "rejected: field with a bad value", "rejected_bad_value"),
	ABS("rej_bad_ts", "events", "rejected: bad timestamp", "rejected_bad_timestamp"),
	ABS("rej_wh_mismatch", "events", "rejected: warehouse_id differs from the topic",
	    "rejected_warehouse_mismatch"),
};

static const struct sw_rrd_ds probe_ds[] = {
	ABS("ok", "events", "probe runs that succeeded", "ok"),
	ABS("fail", "events", "probe runs that failed", "fail"),
	QUANT("lat_p50", "probe latency, median", "latency", SW_RRD_STAT_P50),
	QUANT("lat_max", "probe latency, maximum", "latency", SW_RRD_STAT_MAX),
	ABS("sent", "samples", "probe samples tried", "sent"),
	ABS("lost", "samples", "probe samples that failed", "lost"),
	QUANT("lat_min", "probe latency, minimum", "latency", SW_RRD_STAT_MIN),
	QUANT("lat_p10", "probe latency, 10th percentile", "latency", SW_RRD_STAT_P10),
	QUANT("lat_p90", "probe latency, 90th percentile", "latency", SW_RRD_STAT_P90),
	GAUGE("value", "value", "the kind's own figure (TLS days left, feed silence s)", "value"),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
const struct sw_rrd_kind sw_rrd_catalogue[] = {
	{ "warehouse/*", "one warehouse's order flow", warehouse_ds, N(warehouse_ds) },
	{ "courier/*", "one courier's parcels and tracking API", courier_ds, N(courier_ds) },
	{ "notify", "notifications to customers", notify_ds, N(notify_ds) },
	{ "collector", "warehouse events rejected by the collector", collector_ds, N(collector_ds) },
	{ "oncall", "on-call pages and their notifications", oncall_ds, N(oncall_ds) },
	{ "probe/*", "one synthetic probe", probe_ds, N(probe_ds) },
};
const size_t sw_rrd_catalogue_len = N(sw_rrd_catalogue);

static bool ds_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SW_RRD_DS_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static enum sw_err check_kind(const struct sw_rrd_kind *k, char *errbuf, size_t errlen)
{
	if (k->n_ds == 0 || k->n_ds > SW_RRD_MAX_DS) {
		snprintf(errbuf, errlen, "%s: %zu data sources (1..%d)", k->pattern, k->n_ds,
			 SW_RRD_MAX_DS);
		return SW_EINVAL;
	}
	for (size_t i = 0; i < k->n_ds; i++) {
		const struct sw_rrd_ds *d = &k->ds[i];

		if (!ds_name_ok(d->name) || (unsigned)d->type >= SW_RRD_DSTYPE_LAST ||
		    (unsigned)d->stat >= SW_RRD_STAT_LAST || !d->metric || !d->unit ||
		    !d->meaning) {
			snprintf(errbuf, errlen, "%s: bad row %zu '%s'", k->pattern, i, d->name);
			return SW_EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(k->ds[j].name, d->name) == 0) {
				snprintf(errbuf, errlen, "%s: duplicate data source '%s'",
					 k->pattern, d->name);
				return SW_EINVAL;
			}
	}
	return SW_OK;
}

enum sw_err sw_rrd_catalogue_check(char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < sw_rrd_catalogue_len; i++) {
		enum sw_err rc = check_kind(&sw_rrd_catalogue[i], errbuf, errlen);

		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(sw_rrd_catalogue[j].pattern, sw_rrd_catalogue[i].pattern) == 0) {
				snprintf(errbuf, errlen, "duplicate pattern '%s'",
					 sw_rrd_catalogue[i].pattern);
				return SW_EINVAL;
			}
	}
	return SW_OK;
}

/* One path segment that stays inside its directory. */
static bool segment_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

const struct sw_rrd_kind *sw_rrd_kind_find(const char *file)
{
	if (file == NULL)
		return NULL;
	for (size_t i = 0; i < sw_rrd_catalogue_len; i++) {
		const char *p = sw_rrd_catalogue[i].pattern;
		const char *star = strchr(p, '*');

		if (star == NULL) {
			if (strcmp(p, file) == 0)
				return &sw_rrd_catalogue[i];
		} else if (strncmp(p, file, (size_t)(star - p)) == 0 &&
			   segment_ok(file + (star - p))) {
			return &sw_rrd_catalogue[i];
		}
	}
	return NULL;
}
