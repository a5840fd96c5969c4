/*
 * metrics.h - the contract between the components that observe things
 * (collector, alert engine, probes) and the RRD layer that writes them out.
 *
 * Observers report into one in-memory registry per process, naming the RRD
 * file ("warehouse/blr1", "courier/dhl", "notify", "probe/broker") and a
 * data source within it ("created", "backlog_pick", "ship_duration").  The
 * RRD writer takes a snapshot once per step and writes each file once
 * (design.md, "Time series"); which data sources each file has, their RRD
 * types and units, is the metric catalogue of the RRD layer.
 *
 * Three kinds of value, matching what RRD can keep:
 *   counter - events counted during the step (written as ABSOLUTE: a rate
 *             per second, times the step = the count); reset each snapshot;
 *   gauge   - a level (backlog, parcels in a status); the last value set is
 *             kept across snapshots until set again;
 *   samples - individual observations (a stage duration in seconds) of
 *             which each step keeps the distribution: count, min, p10, p50,
 *             p90, max (SmokePing keeps sorted samples the same way);
 *             reset each snapshot.
 *
 * The registry is single-threaded: use it from the daemon's loop.  Reporting
 * never fails and never blocks; names are copied.  Names are limited to
 * SW_METRICS_NAME_MAX bytes of [A-Za-z0-9_./-]: an invalid name is counted
 * in sw_metrics_dropped() and otherwise ignored, never a crash (warehouse
 * and courier ids come from input).
 */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define SW_METRICS_NAME_MAX 64

enum sw_metric_kind {
	SW_METRIC_COUNTER,
	SW_METRIC_GAUGE,
	SW_METRIC_SAMPLES,
	SW_METRIC_KIND_LAST
};

/* The distribution of one step's samples.  With count 0 all are NaN. */
struct sw_metric_dist {
	uint64_t count;
	double min, p10, p50, p90, max;
};

/* One data source's value in a snapshot. */
struct sw_metric_value {
	const char *file; /* "warehouse/blr1" */
	const char *ds;   /* "created" */
	enum sw_metric_kind kind;
	uint64_t count;            /* COUNTER: events this step */
	double gauge;              /* GAUGE: current level */
	struct sw_metric_dist dist; /* SAMPLES */
};

struct sw_metrics; /* opaque registry */

/* Creates an empty registry.  Never NULL (aborts on OOM). */
struct sw_metrics *sw_metrics_new(void);

/* Frees the registry; NULL is a no-op. */
void sw_metrics_free(struct sw_metrics *m);

/* Adds n to a counter (created at 0 on first use). */
void sw_metrics_count(struct sw_metrics *m, const char *file, const char *ds, uint64_t n);

/* Sets a gauge to v. */
void sw_metrics_gauge(struct sw_metrics *m, const char *file, const char *ds, double v);

/* Adds v to a gauge (negative to decrease); starts from 0. */
void sw_metrics_gauge_add(struct sw_metrics *m, const char *file, const char *ds, double v);

/* Records one observation.  At most SW_METRICS_MAX_SAMPLES per data source
 * and step are kept exactly; beyond that the registry keeps a uniform
 * reservoir sample of that size (count, min and max stay exact). */
#define SW_METRICS_MAX_SAMPLES 4096
void sw_metrics_sample(struct sw_metrics *m, const char *file, const char *ds, double v);

/* Returns the current value of one data source without resetting it, or
 * NULL when it was never reported.  Valid until the next call on m.  For
 * tests and status output. */
const struct sw_metric_value *sw_metrics_peek(struct sw_metrics *m, const char *file,
					      const char *ds);

/*
 * Calls cb once per data source ever reported, grouped by file (all data
 * sources of one file consecutively, files in name order), then resets
 * counters and samples for the next step.  v and its strings are valid only
 * during the call.  Returns the number of values passed to cb.
 */
size_t sw_metrics_snapshot(struct sw_metrics *m,
			   void (*cb)(const struct sw_metric_value *v, void *arg), void *arg);

/* Number of reports ignored since creation: an invalid name, a kind
 * conflict, a NaN or infinite value, a gauge add that would overflow, or a
 * new data source past the registry's cap of 100,000. */
uint64_t sw_metrics_dropped(const struct sw_metrics *m);

#endif /* SW_METRICS_H */
