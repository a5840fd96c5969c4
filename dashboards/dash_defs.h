/*
 * dash_defs.h - dashboard definitions: one file per kind of page
 * (dashboards/NAME.dash), read by slipwatch-dash.  Adding a graph is
 * editing a file, not C.
 *
 * A definition is INI (libinih, as slipwatch.conf): one [dashboard]
 * section first, then one [graph NAME] section per graph, drawn in file
 * order.  The file's name says the page: overview.dash is index.html,
 * NAME.dash is NAME.html, or NAME-ID.html per RRD file with "each".
 *
 *   [dashboard]
 *   title = Warehouse {id}          page title; {id} is the entity
 *   menu = Warehouses               label in the navigation (default: title)
 *   each = warehouse                one page per RRD file of that kind
 *                                   (a catalogue pattern "KIND/ *"); absent:
 *                                   one page
 *   order = 10                      place in the navigation, 0..1000
 *                                   (default 50; then by name)
 *   [graph picks]                   NAME: [a-z0-9_], unique in the file
 *   title = Pick time               {id} allowed
 *   vertical_label = minutes
 *   file = warehouse/{id}.rrd       a catalogue file: warehouse/{id}.rrd (the
 *                                   page's entity; needs each), notify.rrd,
 *                                   courier/dhl.rrd, or warehouse/ *.rrd (no
 *                                   blank): every file of the kind added up
 *   cf = AVERAGE | MAX              consolidation for week..year (default AVERAGE)
 *   scale = 60 | 1/60               every data source multiplied by it
 *                                   (ABSOLUTE rates are per second)
 *   lower = 0, upper = 100          axis limits (upper makes the axis rigid)
 *   cdef = NAME RPN                 a computed value: rrdtool RPN over the
 *                                   file's data sources and earlier cdefs
 *   line = VALUE #rrggbb[aa] LEGEND
 *   area = VALUE #rrggbb[aa] LEGEND [stack]
 *   band = LOW HIGH #rrggbb[aa] LEGEND   the spread LOW..HIGH shaded
 *   hrule = NUMBER|target #rrggbb[aa] LEGEND   target: [dash] target
 *
 * The elements (cdef, line, area, band, hrule) repeat; VALUE is a data
 * source of the file's kind (lib/rrd_catalogue.c) or an earlier cdef.  A
 * graph over "KIND/ *" adds files up, so it takes counts and levels only,
 * no quantile.  LEGEND is the rest of the line (may be empty); a last word
 * "stack" of an area stacks it on the element before.  " ;" starts a
 * comment; a legend has no backslash.
 *
 * Every error is one line, "FILE:LINE: what: 'the bad text'".  Nothing
 * here prints or keeps global state; any thread.
 */
#ifndef SW_DASH_DEFS_H
#define SW_DASH_DEFS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "lib/rrd.h"

#define SW_DASH_MAX_FILE      (64 * 1024) /* bytes in one definition file */
#define SW_DASH_MAX_LINE      192	  /* bytes in one line (as slipwatch.conf) */
#define SW_DASH_MAX_GRAPHS    64	  /* graphs in one definition */
#define SW_DASH_MAX_ELEMS     32	  /* elements in one graph */
#define SW_DASH_MAX_DEFS      64	  /* definition files in a directory */
#define SW_DASH_NAME_MAX      32	  /* bytes in a graph, cdef or file name */
#define SW_DASH_TEXT_MAX      100	  /* bytes in a title, label or legend */
#define SW_DASH_ORDER_DEFAULT 50	  /* [dashboard] order when not said */

enum sw_dash_elem_kind {
	SW_DASH_CDEF, /* a computed value */
	SW_DASH_LINE,
	SW_DASH_AREA,
	SW_DASH_BAND,  /* LOW..HIGH shaded */
	SW_DASH_HRULE, /* a horizontal line at a value */
	SW_DASH_ELEM_LAST
};

/* The element's key ("line"); "?" out of range. */
const char *sw_dash_elem_name(enum sw_dash_elem_kind kind);

enum sw_dash_cf { SW_DASH_AVERAGE, SW_DASH_MAX, SW_DASH_CF_LAST };

/* "AVERAGE", "MAX"; "?" out of range. */
const char *sw_dash_cf_name(enum sw_dash_cf cf);

struct sw_dash_elem {
	enum sw_dash_elem_kind kind;
	char *a;	 /* CDEF: its name; LINE, AREA: the value; BAND: low */
	char *b;	 /* CDEF: the RPN; BAND: high; else NULL */
	double value;	 /* HRULE: the value, unless target */
	bool target;	 /* HRULE: at [dash] target */
	bool stack;	 /* AREA: stacked on the element before */
	char colour[10]; /* "#rrggbb" or "#rrggbbaa"; "" for CDEF */
	char *legend;	 /* never NULL; may be "" */
	int line;	 /* in the definition file */
};

struct sw_dash_graph {
	char *name;			/* [graph NAME] */
	char *title;			/* may hold {id} */
	char *vlabel;			/* never NULL; may be "" */
	char *file;			/* catalogue name without .rrd: "warehouse/{id}",
					   "warehouse/ *" (no blank), "notify" */
	const struct sw_rrd_kind *kind; /* the file's catalogue kind */
	bool per_id;			/* the file is the page's entity */
	bool sum;			/* every file of the kind added up */
	enum sw_dash_cf cf;
	double scale; /* > 0 */
	bool has_lower, has_upper;
	double lower, upper;
	struct sw_dash_elem *elem;
	size_t n_elem;
	char **ds; /* the data sources the elements read, each once, in first use */
	size_t n_ds;
	int line; /* of the [graph NAME] header */
};

struct sw_dash_def {
	char *name;  /* the file's name without .dash: [a-z0-9_] */
	char *path;  /* as given, for errors */
	char *title; /* may hold {id} (with each) */
	char *menu;  /* never NULL */
	char *each;  /* the kind's directory ("warehouse"), or NULL: one page */
	int order;   /* place in the navigation (overview first, then by order, name) */
	struct sw_dash_graph *graph;
	size_t n_graph;
};

/*
 * Parses the definition text[0..len) read from path (used in errors; its
 * base name, NAME.dash, names the definition).  SW_OK with *ret a new
 * definition (free with sw_dash_def_free), or SW_ECONF (malformed),
 * SW_ETOOBIG (over SW_DASH_MAX_FILE) with *ret NULL and err holding one
 * line "PATH:LINE: what: 'bad text'" (PATH alone for the file name).
 */
enum sw_err sw_dash_def_parse(const char *text, size_t len, const char *path,
			      struct sw_dash_def **ret, char *err, size_t errlen);

/* Reads and parses the regular file at path: as sw_dash_def_parse, or
 * SW_EIO ("PATH: cannot open: ...").  Blocks on the read. */
enum sw_err sw_dash_def_load(const char *path, struct sw_dash_def **ret, char *err, size_t errlen);

void sw_dash_def_free(struct sw_dash_def *d);

/* Every NAME.dash of a directory, overview first, then by order and name. */
struct sw_dash_defs {
	struct sw_dash_def **def;
	size_t n;
};

/* Loads every "*.dash" file of dir (others are ignored) into *ret (freed
 * with sw_dash_defs_free; empty on error).  SW_OK; SW_EIO (the directory
 * is unreadable, or has no definition); or the first file's error in name
 * order.  err holds the text. */
enum sw_err sw_dash_defs_load(const char *dir, struct sw_dash_defs *ret, char *err, size_t errlen);

void sw_dash_defs_free(struct sw_dash_defs *d);

/* The {id} substitution of a title into a new string ("{id}" replaced by
 * id; id NULL: left as is). */
char *sw_dash_subst(const char *text, const char *id);

#endif /* SW_DASH_DEFS_H */
