/*
 * dash_graph.h - one graph of a dashboard definition drawn by librrd for
 * one range: the rrd_graph_v arguments built from the definition (DEFs of
 * the file or files, the scale, cdefs, lines, areas, bands, rules, the
 * values under each legend) and the check that the range has any known
 * value.  Internal to slipwatch-dash (dash_render.c); one thread.
 */
#ifndef SW_DASH_GRAPH_H
#define SW_DASH_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "dashboards/dash_defs.h"
#include "dashboards/dash_render.h"

enum sw_dash_drawn {
	SW_DASH_IMAGE,	/* the image was written */
	SW_DASH_NODATA, /* no file, an empty file, or nothing known in the range */
	SW_DASH_FAILED	/* librrd refused (err says why) */
};

/* What the graph reads: the entity id of a per-id graph, or the files
 * of a sum graph (names under the kind's directory). */
struct sw_dash_subject {
	const char *id;		  /* per_id: the page's entity; else NULL */
	const char *const *names; /* sum: the kind's files */
	size_t n_names;
};

/*
 * Draws g over range r ending at now into the file path (SVG, or PNG
 * with o->png).  SW_DASH_IMAGE with *ret_w, *ret_h the image's size;
 * SW_DASH_NODATA (no image left behind); SW_DASH_FAILED with err set.
 */
enum sw_dash_drawn sw_dash_graph_draw(const struct sw_dash_graph *g, const struct sw_dash_opts *o,
				      const struct sw_dash_subject *subj,
				      const struct sw_dash_range *r, int64_t now, const char *path,
				      long *ret_w, long *ret_h, char *err, size_t errlen);

#endif /* SW_DASH_GRAPH_H */
