/*
 * stage.h - the stage that ran over: which leg of a slipped unit took
 * longer than its lane's usual (p90) duration.
 *
 * Design: the baselines (lib/store_stage.h) are read from the store into
 * an in-memory table at most once per SW_STAGE_REFRESH, never per slip;
 * judging a unit is then a few look-ups in that table plus, only for a
 * parcel that got as far as out for delivery, one indexed journal read
 * for its marks.  A leg's p90 is its lane's (warehouse -> destination,
 * with the courier for courier legs) when the lane has at least
 * min_samples durations, else the warehouse's (warehouse leg) or the
 * courier's (courier legs) over all lanes with that many, else none.  The
 * stage that ran over is the leg with the largest ratio duration / p90
 * above 1; a leg still running counts up to now.
 */
#ifndef SW_ALERTS_STAGE_H
#define SW_ALERTS_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/store.h"
#include "lib/store_stage.h"

#define SW_STAGE_REFRESH	 3600 /* s between two reads of the baselines */
#define SW_STAGE_MIN_P90	 60   /* s: a p90 below this counts as this */
#define SW_STAGE_DEFAULT_DAYS	 28   /* [alerts] stage_baseline_days */
#define SW_STAGE_DEFAULT_SAMPLES 20   /* [alerts] stage_min_samples */
#define SW_STAGE_LANE_MAX	 192  /* "W1 -> IN 560 via dhl", NUL included */

struct sw_stage_table; /* the baselines in memory */

/* One leg of one unit. */
struct sw_stage_leg {
	int64_t start, end; /* unix s; start 0: the leg has not begun */
	bool running;	    /* end is "now": the leg has not ended */
	int64_t p90_s;	    /* 0: no baseline */
	int64_t samples;    /* behind p90_s */
	const char *scope;  /* "lane", "warehouse", "courier"; NULL: none */
	double ratio;	    /* (end - start) / p90; 0 without a baseline */
};

struct sw_stage_verdict {
	struct sw_stage_leg leg[SW_LEG_LAST];
	int over;     /* the enum sw_leg that ran over most; -1: none */
	double ratio; /* its ratio (> 1), 0 if none */
	char lane[SW_STAGE_LANE_MAX];
};

/* An empty table (no baselines: every verdict says none). */
struct sw_stage_table *sw_stage_new(void);
void sw_stage_free(struct sw_stage_table *t);

/*
 * Reads the baselines of the days (>= 1) before now into t when it never
 * read them, when SW_STAGE_REFRESH passed since, or when force.  min_samples
 * (>= 1) is the fewest durations a lane (or warehouse, courier) needs for
 * its p90 to count.  A failed read keeps the old table and is not retried
 * before SW_STAGE_REFRESH either (the caller logs it).  SW_OK, the store's
 * error (its text in sw_store_errmsg), SW_EINVAL for bad arguments.
 */
enum sw_err sw_stage_refresh(struct sw_stage_table *t, struct sw_store *st, int64_t now,
			     int64_t days, int64_t min_samples, bool force);

/* Number of baseline rows in t (lanes plus warehouses and couriers). */
size_t sw_stage_count(const struct sw_stage_table *t);

/*
 * Judges the legs of a unit (an order without parcel: p NULL; a parcel
 * with its order: o may be NULL) at now into *out; m (may be NULL) holds
 * the parcel's journal marks.  Pure: no store access.
 */
void sw_stage_judge(const struct sw_stage_table *t, const struct sw_order *o,
		    const struct sw_parcel *p, const struct sw_leg_marks *m, int64_t now,
		    struct sw_stage_verdict *out);

/* As sw_stage_judge, reading p's marks from st when p got far enough to
 * have any (out for delivery or later).  SW_OK or the store's error (the
 * verdict is then judged without marks). */
enum sw_err sw_stage_judge_unit(const struct sw_stage_table *t, struct sw_store *st,
				const struct sw_order *o, const struct sw_parcel *p, int64_t now,
				struct sw_stage_verdict *out);

/* The stage to record for a slip: the leg that ran over, else
 * static_stage (eval.h's "warehouse" or "courier").  Static strings. */
const char *sw_stage_pick(const struct sw_stage_verdict *v, const char *static_stage);

/*
 * One line for a page or an email to staff into buf (always terminated):
 * "first_mile ran over: 3.0x its p90 (3d 0h vs 1d 0h, lane W1 -> IN 560
 * via dhl, 40 samples)" or "no stage ran over its lane's p90" / "no
 * baseline for this lane".  Returns what snprintf returns.
 */
int sw_stage_describe(const struct sw_stage_verdict *v, char *buf, size_t len);

/*
 * A stage as words for people (pages, emails and chat to staff): a leg
 * ("first_mile" -> "first mile", "line_haul" -> "line haul"), or one of
 * the static stages slips and signals name ("warehouse", "courier",
 * "engine", "email") as itself.  Any other name comes back unchanged
 * (borrowed), NULL or "" as NULL.  The one place that words a stage:
 * every page channel goes through it.  Pure; static strings.
 */
const char *sw_stage_words(const char *name);

/*
 * A recorded slip's stage for listings (the CLI): "line_haul 2.4x p90"
 * (the name as stored, then the ratio when ratio > 0), "warehouse" (a
 * static stage, no ratio), "" for a NULL or empty name; into buf, always
 * terminated.  Returns what snprintf returns.
 */
int sw_stage_with_ratio(const char *name, double ratio, char *buf, size_t len);

#endif /* SW_ALERTS_STAGE_H */
