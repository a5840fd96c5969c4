/*
 * store_probes.h - the latest result of every probe instance (schema 8:
 * probe_results), written by slipwatch-probes once per run and read by the
 * alert engine: the ops signal `probe` (alerts/signals.c) and the feed
 * health of couriers (alerts/feeds.c: a courier whose courier_api probe
 * fails has an unhealthy feed).  The history is in the RRD files
 * (probe/NAME.rrd); the store keeps the last run only, one row a probe.
 *
 * Conventions of store.h: one thread per handle, times unix s, strings
 * returned new.
 */
#ifndef SW_STORE_PROBES_H
#define SW_STORE_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

struct sw_probe_row {
	char *name;	    /* "courier_api-dhl" */
	char *kind;	    /* "courier_api" */
	int64_t at;	    /* when it ran (unix s) */
	bool ok;	    /* its verdict */
	int sent, lost;	    /* samples */
	double lat_p50;	    /* s; -1 when no sample succeeded */
	double lat_max;	    /* s; -1 likewise */
	bool has_value;
	double value;	    /* the kind's own figure (probe.h) */
	char *reason;	    /* NULL when ok */
	char *detail;	    /* may be NULL */
	int64_t failing_since; /* first of the current run of failures; 0 when ok */
};

/* Upserts the row of r->name (failing_since kept across failing runs,
 * cleared by a passing one; the caller's value is ignored).  SW_OK,
 * SW_EINVAL (empty name or kind), SW_ESTORE. */
enum sw_err sw_store_probe_put(struct sw_store *st, const struct sw_probe_row *r);

/* The row of name into *ret (free with sw_store_probe_rows_free(ret, 1)):
 * SW_OK, SW_ENOTFOUND, SW_ESTORE. */
enum sw_err sw_store_probe_get(struct sw_store *st, const char *name, struct sw_probe_row **ret);

/* Every row, by name (NULL, 0 when none). */
enum sw_err sw_store_probe_list(struct sw_store *st, struct sw_probe_row **ret, size_t *ret_n);

void sw_store_probe_rows_free(struct sw_probe_row *rows, size_t n);

#endif /* SW_STORE_PROBES_H */
