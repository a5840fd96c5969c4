/*
 * dash_render.h - one generation of slipwatch-dash's static site: every
 * page of the dashboard definitions (dash_defs.h), each graph drawn by
 * librrd (rrd_graph_v) for five ranges, written into a fresh directory
 * that dash_site.h then swaps in.
 *
 * Pages: index.html (the headline figures, overview.dash, then a list
 * of the entity pages), late.html (the late and at-risk parcels and
 * orders), NAME.html for a definition without "each", NAME-ID.html per
 * RRD file of its kind (ID from the file name, a catalogue segment
 * [A-Za-z0-9_.-]); a warehouse's and a courier's page end with its own
 * table of late and at-risk units.  The store's parts (dash_headline.h,
 * dash_tables.h) are read once per generation in one read transaction;
 * without a store they say "store not available".  Images:
 * img/PAGE/GRAPH-RANGE.svg (.png with png).  Every link is relative.  A graph whose RRD file is
 * missing or empty, or has no known value in the range, shows "no data yet" instead of an image;
 * one librrd refuses shows "graph failed" and librrd's words (both as text, never a broken image).
 *
 * librrd's graph API is not thread-safe (global error text, rrdcached
 * connection): one thread.  Times on the axes follow the process's TZ,
 * which the caller sets.
 */
#ifndef SW_DASH_RENDER_H
#define SW_DASH_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboards/dash_defs.h"
#include "lib/error.h"
#include "lib/rrd.h"
#include "lib/store.h"

struct sw_dash_opts {
	const struct sw_rrd_conf *rrd; /* [rrd]: dir, rrdcached */
	const char *site_title;	       /* [dash] title */
	const char *zone;	       /* [dash] timezone, for the footer; "" = system */
	double target;		       /* [dash] target, % */
	int64_t refresh;	       /* seconds; 0: pages do not reload */
	int width, height;	       /* graph canvas */
	bool png;		       /* PNG instead of SVG */
	struct sw_store *store;	       /* [store] path, read-only; NULL: not
					  available (the store's parts say so) */
	int64_t at_risk_s;	       /* [dash] at_risk_within */
	const char *tracking_url;      /* [alerts] tracking_url; NULL: no links */
};

/* What one generation did. */
struct sw_dash_stats {
	size_t pages;
	size_t graphs; /* graph x range drawn or tried */
	size_t images; /* written */
	size_t nodata; /* "no data yet" */
	size_t failed; /* librrd refused */
	char first_error[512];
	char store_error[512]; /* why the store's parts were not read; "" */
};

/* The ranges every graph is drawn for, in page order. */
#define SW_DASH_RANGES 5
struct sw_dash_range {
	const char *name;  /* in file names: "4h", "day", ... */
	const char *label; /* on the page: "4 hours", "day", ... */
	const char *start; /* rrdtool --start, relative to --end */
};
extern const struct sw_dash_range sw_dash_ranges[SW_DASH_RANGES];

/*
 * Writes the whole site for defs into dir (an existing, empty directory)
 * with graphs ending at now (seconds since the epoch).  stop (may be
 * NULL) is asked between graphs: when it says true the generation is
 * left unfinished and SW_EAGAIN returned.  SW_OK when every page and the
 * stylesheet were written (graphs that failed are counted in *st, the
 * first one's text kept, and shown on their page); SW_EIO when a file
 * could not be written or an RRD directory not listed (err says which).
 */
enum sw_err sw_dash_render(const struct sw_dash_defs *defs, const struct sw_dash_opts *o,
			   const char *dir, int64_t now, bool (*stop)(void),
			   struct sw_dash_stats *st, char *err, size_t errlen);

#endif /* SW_DASH_RENDER_H */
