/*
 * signals.h - what an ops rule ([page NAME] signal = ...) can watch: one
 * descriptor table, one row per signal, each measuring one subject (a
 * warehouse, a courier, a lane, a warehouse's ship day, or the whole
 * installation) at a time from the store and the RRD series the collector
 * and the alert engine write.
 *
 *   signal                  subject    direction  unit    source
 *   courier_ontime          courier    below      %       RRD delivered_ontime/_late
 *   courier_api_errors      courier    above      %       RRD resp_* and parse_fail
 *   warehouse_ship_late     warehouse  above      orders  store (past ship-by)
 *   warehouse_pick_backlog  warehouse  above      orders  store (created, not picked)
 *   warehouse_feed_silent   warehouse  above      min     RRD event counts
 *   email_failures          -          above      emails  store (customer outbox)
 *   journal_lag             -          above      s       store (journal vs cursor)
 *   courier_feed_silent     courier    above      min     store (courier_health)
 *   warehouse_feed          warehouse  above      min     store (warehouse_health, hours)
 *   cohort_slips            lane       above      parcels store (open parcel slips)
 *   cohort_ship_late        warehouse  above      orders  store (open ship_late slips)
 *                           (its day)
 *   probe                   probe      above      failing store (probe_results: 1 when
 *                                                         the probe's last run failed)
 *
 * The cohort signals (sig_cohort.c) group slips sharing a cause: a lane
 * "COURIER/WH/DEST" (sw_signal_cohort_id), a warehouse's ship day
 * "WH/YYYY-MM-DD" (sw_signal_ship_day_id, label warehouse); their value is
 * the count of open slips when their share of the group is unusual
 * (factor x the group's usual rate over baseline_days, and at least 1%),
 * else 0.
 *
 * A measurement says one of three things:
 *   has_data false          the series stopped (RRD: no known value in the
 *                           last nodata_after; a file gone): "no data",
 *                           never "resolved"
 *   enough false            data, but too little to judge (fewer than
 *                           min_count samples in the window): the rule
 *                           keeps its state
 *   value                   the figure compared with the thresholds
 * with figures (the numbers behind the value, JSON) and a line of text
 * saying them, for the page.
 *
 * Per signal: the RRD signals (courier_ontime, courier_api_errors,
 * warehouse_feed_silent) have data when the subject's file exists and a
 * row of the last nodata_after is known (the collector writes zero rows
 * for a quiet feed, so quiet is data; a collector that stopped writing,
 * or a subject the store knows without a file, is no data); the two
 * courier rates are enough with at least min_count (and 1) deliveries or
 * requests in the window.  The store signals (warehouse_ship_late,
 * warehouse_pick_backlog, email_failures, journal_lag) always have data
 * and are always enough, except the cohort signals: enough when the group
 * (the lane's parcels on their way, the warehouse's orders due that day)
 * has at least min_count (always when it has no open slip, so a cohort
 * that is gone resolves).  Feeds are dependencies here too
 * (signals_int.h sw_sig_int_feed_held): warehouse_ship_late,
 * warehouse_pick_backlog and cohort_ship_late are not enough while the
 * warehouse's feed is down or settling, cohort_slips while the lane's
 * courier's feed is unhealthy.  A subject id that is not one segment of
 * [A-Za-z0-9_.-] not starting with '.' is refused (SW_EINVAL) by the RRD
 * signals and never offered by their subjects().  The probe signal reads
 * the latest result slipwatch-probes stored per probe (store_probes.h):
 * no data while there is none or it is older than nodata_after (the
 * window when nodata_after is 0), else 1 when it failed, 0 when it
 * passed, with its reason as the text; doc/metrics.md ("What
 * ops rules read") has the details.
 *
 * Adding a signal is one row in sw_signal_table[] (signals.c) and its
 * measure function.  Single thread; measure functions read the store and
 * RRD files and block for as long as that takes.
 */
#ifndef SW_ALERTS_SIGNALS_H
#define SW_ALERTS_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/rrd.h"
#include "lib/store.h"

#define SW_SIG_FIGURES_LEN 768
#define SW_SIG_TEXT_LEN	   240

/* Where a measurement comes from.  Borrowed for the call. */
struct sw_sig_ctx {
	struct sw_store *st;	       /* the engine's store handle */
	const struct sw_rrd_conf *rrd; /* [rrd]: dir, step, daemon (rrdcached:
					  flushed before a read) */
	const char *cursor;	       /* the engine's journal cursor name */
	/* warehouse_feed's working hours (rules.h sw_rules_warehouse) and
	 * their default zone; NULL: every warehouse works all day, in UTC */
	const struct sw_rules *rules;
	const struct sw_alerts_conf *alerts;
};

/* What a rule asks of one measurement. */
struct sw_sig_args {
	int64_t now;		/* unix s */
	int64_t window_s;	/* look back this far (rates, counts) */
	int64_t min_count;	/* fewer samples: not enough to judge */
	int64_t nodata_after_s; /* RRD: no known value this long: no data */
	int64_t baseline_days;	/* cohort signals: history behind the usual
				   rate (0: [alerts] stage_baseline_days) */
	double factor;		/* cohort signals: unusual at factor x usual
				   (below 1: the default, 3) */
};

struct sw_sig_value {
	bool has_data;
	bool enough;
	double value;
	int64_t count;			  /* the orders, parcels, requests or emails behind it */
	char stage[16];			  /* what ran over: "warehouse", "courier", "engine",
					     "email" */
	char figures[SW_SIG_FIGURES_LEN]; /* JSON object: the numbers */
	char text[SW_SIG_TEXT_LEN];	  /* e.g. "45 of 60 deliveries on time
					     (75.0%) in the last 1h" */
};

/* SW_SIG_LANE: a cohort, "COURIER/WAREHOUSE/DEST" (sw_signal_cohort_id),
 * label lane; SW_SIG_SHIP_DAY: a warehouse's ship day, "WH/YYYY-MM-DD"
 * (sw_signal_ship_day_id), label warehouse. */
enum sw_sig_subject {
	SW_SIG_GLOBAL,
	SW_SIG_WAREHOUSE,
	SW_SIG_COURIER,
	SW_SIG_LANE,
	SW_SIG_SHIP_DAY,
	SW_SIG_PROBE /* a probe instance, "courier_api-dhl" (label probe) */
};

struct sw_signal {
	const char *name;
	enum sw_sig_subject subject;
	bool above;	  /* true: higher is worse; false: lower is worse */
	const char *unit; /* "%", "orders", "min", "s", "emails" */
	const char *what; /* one line for docs and -t errors */
	bool rrd;	  /* reads RRD (nodata_after applies) */
	/* The subjects' ids (warehouse or courier ids) known now: new array
	 * of new strings, sorted, no duplicates; NULL/0 for a global signal
	 * (which measures one subject, id ""). */
	enum sw_err (*subjects)(const struct sw_sig_ctx *ctx, char ***ret_ids, size_t *ret_n,
				char *err, size_t len);
	/* Measures id at args->now into out (zeroed by the caller).  SW_OK,
	 * else an error with err set (the store or a file failed: the rule
	 * keeps its state and the engine logs it). */
	enum sw_err (*measure)(const struct sw_sig_ctx *ctx, const char *id,
			       const struct sw_sig_args *args, struct sw_sig_value *out, char *err,
			       size_t len);
	/* Cohort signals (NULL for the others): the subject id an entity
	 * ("parcel:COURIER:TN", "order:WH:ID") falls in now, into id
	 * (idlen > SW_LABEL_VALUE_MAX): SW_OK; SW_ENOTFOUND when the store
	 * does not know the entity or it is not one of this signal's units
	 * (an order for a parcel cohort); else the store's error, err set.
	 * Whether the entity is a member (has an open slip) is not asked. */
	enum sw_err (*subject_of)(const struct sw_sig_ctx *ctx, const char *entity, char *id,
				  size_t idlen, char *err, size_t len);
	/* Cohort signals: every member of subject id now (the entities with
	 * an open slip that measure counts), sorted, as a new array of new
	 * strings (NULL, 0 when none; sw_signal_ids_free). */
	enum sw_err (*members)(const struct sw_sig_ctx *ctx, const char *id, char ***ret_ids,
			       size_t *ret_n, char *err, size_t len);
};

/* Every signal, NULL-terminated. */
extern const struct sw_signal *const sw_signal_table[];

/* The row named name, or NULL. */
const struct sw_signal *sw_signal_find(const char *name);

/* "warehouse" (a warehouse or its ship day), "courier", "lane", "probe"
 * or NULL (global): the label naming a subject. */
const char *sw_signal_subject_label(const struct sw_signal *sig);

/*
 * The cohort_slips subject of a lane into buf (len > 0): "COURIER/WH/DEST"
 * with every byte that a label value cannot hold (blanks, ',', '=', '!',
 * '~', '"', '/', non-ASCII) as '_', cut to SW_LABEL_VALUE_MAX bytes:
 * "dhl/w1/IN_560".  Pure.
 */
void sw_signal_cohort_id(const char *courier, const char *warehouse_id, const char *dest, char *buf,
			 size_t len);

/*
 * The cohort_ship_late subject of an order of warehouse_id promised to
 * ship by ship_by (unix s) into buf (len > 0): "WH/YYYY-MM-DD", the date
 * of ship_by in the warehouse's zone (ctx->rules: the working_timezone of
 * the rule picked for the warehouse alone, as the feeds read it; else
 * ctx->alerts' default_timezone; else UTC), the warehouse id sanitised as
 * sw_signal_cohort_id does: "w1/2027-01-15".  Reads no store.
 */
void sw_signal_ship_day_id(const struct sw_sig_ctx *ctx, const char *warehouse_id, int64_t ship_by,
			   char *buf, size_t len);

/* sig's members of subject id (see members above); SW_EINVAL with err
 * set when sig has none (not a cohort signal). */
enum sw_err sw_signal_members(const struct sw_signal *sig, const struct sw_sig_ctx *ctx,
			      const char *id, char ***ret_ids, size_t *ret_n, char *err,
			      size_t len);

/* sig's subject of entity (see subject_of above); SW_EINVAL with err set
 * when sig has none. */
enum sw_err sw_signal_subject_of(const struct sw_signal *sig, const struct sw_sig_ctx *ctx,
				 const char *entity, char *id, size_t idlen, char *err, size_t len);

/* Frees an id list from subjects() or members(). */
void sw_signal_ids_free(char **ids, size_t n);

#endif /* SW_ALERTS_SIGNALS_H */
