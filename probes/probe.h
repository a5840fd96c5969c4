/*
 * probe.h - synthetic checks (design.md "probes/"; SmokePing is the
 * model): a probe measures one thing several times per step and keeps the
 * spread, so that a slow courier API, a broken courier format or a dying
 * mail relay shows before parcels or emails suffer.
 *
 * The seam: one descriptor table (sw_probe_table, probes/table.c), one
 * file per kind of probe (probes/probe_<kind>.c), one row to add one.  A
 * kind runs as one or more instances, each named "<kind>-<id>" or
 * "<kind>" (courier_api-dhl, canary-dhl, broker, smtp, feed-w1); the name
 * is a catalogue segment ([A-Za-z0-9_.-], not starting with '.') and
 * names its RRD file probe/<name>.rrd and its row in the store.
 *
 *   kind         instances                    one sample is
 *   courier_api  one per [courier NAME]       an HTTPS request to the
 *                                             courier's API (status class,
 *                                             TLS certificate days left,
 *                                             authentication answered)
 *   canary       one per [canary NAME]        a known tracking number looked
 *                                             up through the real adapter:
 *                                             must parse to a sane status
 *                                             with plausible times
 *   broker       one when [mqtt] is set       QoS 1 publish to a probe
 *                                             topic, timed to its arrival
 *   smtp         one when [smtp] is set       connect, EHLO, STARTTLS where
 *                                             configured, QUIT, timed
 *   feed         one per warehouse in the     seconds since its last event
 *                store (warehouse_health)     (value; one sample)
 *
 * A run takes [probes] samples samples (feed: one), each bounded by
 * [probes] timeout, and fills a struct sw_probe_result: the latencies of
 * the samples that succeeded, how many were lost, a verdict and, when it
 * failed, one line saying what (never a secret: no API key, no password,
 * no full URL with a query).  Runs are blocking, one after another, in the
 * slipwatch-probes daemon only (probes/main.c), which writes every result
 * to the RRD file and the store once per [probes] interval.
 *
 * Single thread; a run may block for samples x timeout at most.
 */
#ifndef SW_PROBE_H
#define SW_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

#define SW_PROBE_NAME_MAX    64 /* "<kind>-<id>" with its NUL */
#define SW_PROBE_SAMPLES_MAX 20 /* [probes] samples at most */
#define SW_PROBE_REASON_MAX  256
#define SW_PROBE_DETAIL_MAX  256

struct sw_probes_conf; /* probes/conf.h: [probes], [canary NAME], and the
			  sections the probes read ([courier NAME], [mqtt],
			  [smtp]) */

/* What a run gets. */
struct sw_probe_env {
	const struct sw_probes_conf *conf;
	struct sw_store *st; /* the daemon's store (feed reads it) */
	int64_t now;	     /* unix s, the step the result is for */
	int samples;	     /* 1..SW_PROBE_SAMPLES_MAX */
	int64_t timeout_ms;  /* per sample */
};

/* One run of one instance. */
struct sw_probe_result {
	char name[SW_PROBE_NAME_MAX]; /* "courier_api-dhl" */
	int sent;		      /* samples tried */
	int lost;		      /* ... that failed (no answer, refused,
					 timeout, a wrong answer) */
	double lat[SW_PROBE_SAMPLES_MAX]; /* seconds, of the samples that
					     succeeded, ascending */
	int n_lat;			  /* = sent - lost */
	bool ok;			  /* the verdict: the thing works */
	bool has_value;
	double value;		    /* the kind's own figure: TLS days left
				       (courier_api, smtp), seconds since the
				       last event (feed), 0 otherwise */
	char reason[SW_PROBE_REASON_MAX]; /* !ok: what failed, e.g. "dhl:
					     TLS certificate not trusted
					     (self-signed)"; "" when ok */
	char detail[SW_PROBE_DETAIL_MAX]; /* what was seen, e.g. "HTTP 200,
					     certificate 41 days left" */
};

/* One kind of probe: one row of sw_probe_table. */
struct sw_probe_desc {
	const char *kind; /* "courier_api" */
	const char *what; /* one line for -h, -T and the docs */
	/*
	 * The ids of this kind's instances under conf (and, for feed, the
	 * store), sorted, as a new array of new strings (NULL, 0: none); an
	 * id "" means the instance is named <kind> alone.  SW_OK or an
	 * error with err set.
	 */
	enum sw_err (*instances)(const struct sw_probe_env *env, char ***ret_ids, size_t *ret_n,
				 char *err, size_t errlen);
	/*
	 * Runs instance id into out (zeroed by the caller, name already
	 * set).  A failing target is a result (ok false, reason set), never
	 * an error; an error (SW_E...) is only for the probe itself being
	 * unable to run (memory, a bad configuration), with err set.
	 */
	enum sw_err (*run)(const struct sw_probe_env *env, const char *id,
			   struct sw_probe_result *out, char *err, size_t errlen);
};

/* Every kind, NULL-terminated (probes/table.c). */
extern const struct sw_probe_desc *const sw_probe_table[];

/* The row of kind, or NULL. */
const struct sw_probe_desc *sw_probe_find(const char *kind);

/* out->name from kind and id ("courier_api-dhl", or "broker" for id
 * ""), cut to a catalogue segment; false if it cannot be one. */
bool sw_probe_name(const char *kind, const char *id, struct sw_probe_result *out);

/* Adds one sample to out: its latency when ok, else counts it lost. */
void sw_probe_sample(struct sw_probe_result *out, bool ok, double latency_s);

/* Sorts out->lat; the median, or -1 without samples. */
double sw_probe_median(struct sw_probe_result *out);

#endif /* SW_PROBE_H */
