/*
 * dash_defs.c - the dashboard definition parser (see dash_defs.h).
 *
 * Design: libinih splits keys, values and comments, handed the text line
 * by line through our own reader (as lib/conf.c does; Debian's libinih has
 * no line numbers).  The reader counts real lines, strips CR, a BOM and
 * indentation (no multi-line values), refuses control bytes and long
 * lines, and takes section headers itself: it records the section with
 * its line and hands inih an empty line, so every key inih reports
 * belongs to the section the reader last saw, and one reader call is one
 * line (inih's error count is the line).  Keys are checked as they come
 * (syntax, colours, numbers, duplicates); names are resolved when a
 * graph's section ends, against the catalogue kind of its file and the
 * cdefs before them, so the order of keys within a section is free.  The
 * first error in file order wins.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "dashboards/dash_defs.h"
#include "lib/xmalloc.h"

#define QUOTE_MAX 60 /* bytes of bad text shown in an error */
#define QBUF	  72

enum section { SEC_NONE, SEC_DASHBOARD, SEC_GRAPH };

/* Keys said once per section: the line that set each, 0 if none yet. */
enum once_key {
	K_TITLE,
	K_MENU,
	K_EACH,
	K_ORDER, /* [dashboard] */
	K_VLABEL,
	K_FILE,
	K_CF,
	K_SCALE,
	K_LOWER,
	K_UPPER, /* [graph], and K_TITLE */
	K_LAST
};
static const char *const once_names[K_LAST] = {
    "title", "menu", "each", "order", "vertical_label", "file", "cf", "scale", "lower", "upper",
};

struct parse {
	struct sw_dash_def *def;
	const char *text;
	size_t len, pos;
	int line;
	enum section sec;
	int sec_line;		   /* header line of the current section */
	int dashboard_line;	   /* 0: no [dashboard] yet */
	int once[K_LAST];	   /* see enum once_key */
	struct sw_dash_graph *cur; /* the current [graph] */
	int err_line;
	char *err;
};

static const char *const elem_names[SW_DASH_ELEM_LAST] = {"cdef", "line", "area", "band", "hrule"};
static const char *const cf_names[SW_DASH_CF_LAST] = {"AVERAGE", "MAX"};

/* RPN operators a cdef may use (rrdgraph_rpn(1)), all upper case: names
 * of values are lower case, so the two never meet. */
static const char *const rpn_ops[] = {
    "+",   "-",	     "*",   "/",   "%",	  "ADDNAN", "UN",     "ISINF",	"IF",	 "LT",	 "LE",
    "GT",  "GE",     "EQ",  "NE",  "MIN", "MAX",    "MINNAN", "MAXNAN", "LIMIT", "ABS",	 "UNKN",
    "INF", "NEGINF", "DUP", "POP", "EXC", "SQRT",   "FLOOR",  "CEIL",	"AVG",	 "PREV", NULL,
};

const char *sw_dash_elem_name(enum sw_dash_elem_kind kind)
{
	return (unsigned)kind < SW_DASH_ELEM_LAST ? elem_names[kind] : "?";
}

const char *sw_dash_cf_name(enum sw_dash_cf cf)
{
	return (unsigned)cf < SW_DASH_CF_LAST ? cf_names[cf] : "?";
}

/* ---- small helpers ------------------------------------------------------- */

/* len bytes of s for an error text: control bytes as '?', cut at a
 * character boundary after QUOTE_MAX bytes with "...". */
static const char *quote(char *q, const char *s, size_t len)
{
	size_t n = len < QUOTE_MAX ? len : QUOTE_MAX;
	bool cut = n < len;

	while (cut && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		q[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (cut) {
		memcpy(q + n, "...", 3);
		n += 3;
	}
	q[n] = '\0';
	return q;
}

/* Records the first error in file order (later ones are consequences). */
static enum sw_err __attribute__((format(printf, 3, 4)))
perr(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->err && p->err_line <= line)
		return SW_ECONF;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(p->err);
	p->err = xasprintf("%s:%d: %s", p->def->path, line, msg);
	p->err_line = line;
	free(msg);
	return SW_ECONF;
}

static bool is_lower_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= SW_DASH_NAME_MAX && s[0] >= 'a' && s[0] <= 'z' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* A text for a title, label or legend: at most SW_DASH_TEXT_MAX bytes, no
 * backslash (rrdtool reads "\n", "\g" ... at a legend's end as layout). */
static bool text_ok(const char *s)
{
	return strlen(s) <= SW_DASH_TEXT_MAX && strchr(s, '\\') == NULL;
}

static bool colour_ok(const char *s)
{
	size_t n = strlen(s);

	return s[0] == '#' && (n == 7 || n == 9) &&
	       strspn(s + 1, "0123456789abcdefABCDEF") == n - 1;
}

/* A finite number, the whole of s. */
static bool number(const char *s, double *ret)
{
	char *end;

	if (!*s || strchr(" \t", *s))
		return false;
	errno = 0;
	*ret = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(*ret);
}

/* The next blank-separated word of *s into a new string (NULL at the
 * end); *s moves past it and the blanks after it. */
static char *word(const char **s)
{
	const char *p = *s + strspn(*s, " \t");
	size_t n = strcspn(p, " \t");
	char *w;

	if (n == 0)
		return NULL;
	w = xstrndup(p, n);
	p += n;
	*s = p + strspn(p, " \t");
	return w;
}

char *sw_dash_subst(const char *text, const char *id)
{
	const char *at = id ? strstr(text, "{id}") : NULL;
	char *rest, *out;

	if (at == NULL)
		return xstrdup(text);
	rest = sw_dash_subst(at + 4, id);
	out = xasprintf("%.*s%s%s", (int)(at - text), text, id, rest);
	free(rest);
	return out;
}

/* ---- elements ------------------------------------------------------------ */

static void elem_free(struct sw_dash_elem *e)
{
	free(e->a);
	free(e->b);
	free(e->legend);
}

static struct sw_dash_elem *elem_add(struct sw_dash_graph *g, enum sw_dash_elem_kind kind, int line)
{
	struct sw_dash_elem *e;

	g->elem = xreallocarray(g->elem, g->n_elem + 1, sizeof(*g->elem));
	e = &g->elem[g->n_elem++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->line = line;
	return e;
}

/* "COLOUR LEGEND..." at s into e; area: a last word "stack". */
static enum sw_err colour_legend(struct parse *p, const char *key, const char *s,
				 struct sw_dash_elem *e, char *q)
{
	char *c = word(&s);
	size_t n;

	if (c == NULL || !colour_ok(c)) {
		perr(p, p->line, "[graph %s] %s: want a colour #rrggbb or #rrggbbaa: '%s'",
		     p->cur->name, key, c ? quote(q, c, strlen(c)) : "");
		free(c);
		return SW_ECONF;
	}
	memcpy(e->colour, c, strlen(c) + 1);
	free(c);
	e->legend = xstrdup(s);
	n = strlen(e->legend);
	while (n && strchr(" \t", e->legend[n - 1]))
		e->legend[--n] = '\0';
	if (e->kind == SW_DASH_AREA && n >= 5 && strcmp(e->legend + n - 5, "stack") == 0 &&
	    (n == 5 || strchr(" \t", e->legend[n - 6]))) {
		e->stack = true;
		n -= 5;
		while (n && strchr(" \t", e->legend[n - 1]))
			n--;
		e->legend[n] = '\0';
	}
	if (!text_ok(e->legend))
		return perr(p, p->line,
			    "[graph %s] %s: a legend is at most %d bytes, without '\\': '%s'",
			    p->cur->name, key, SW_DASH_TEXT_MAX, quote(q, e->legend, n));
	return SW_OK;
}

/* line, area, band, hrule, cdef = VALUE... (names resolved later). */
static enum sw_err on_elem(struct parse *p, enum sw_dash_elem_kind kind, const char *v)
{
	const char *key = elem_names[kind];
	struct sw_dash_elem *e;
	char q[QBUF], *w;

	if (p->cur->n_elem >= SW_DASH_MAX_ELEMS)
		return perr(p, p->line, "[graph %s] %s: too many elements (max %d)", p->cur->name,
			    key, SW_DASH_MAX_ELEMS);
	e = elem_add(p->cur, kind, p->line);
	w = word(&v);
	if (w == NULL)
		return perr(p, p->line, "[graph %s] %s: empty", p->cur->name, key);
	if (kind == SW_DASH_HRULE) {
		e->target = strcmp(w, "target") == 0;
		if (!e->target && !number(w, &e->value)) {
			perr(p, p->line, "[graph %s] hrule: want a number or 'target': '%s'",
			     p->cur->name, quote(q, w, strlen(w)));
			free(w);
			return SW_ECONF;
		}
		free(w);
	} else {
		e->a = w;
	}
	if (kind == SW_DASH_CDEF) {
		e->b = xstrdup(v);
		e->legend = xstrdup("");
		if (!*v || strcspn(v, " \t") != strlen(v))
			return perr(p, p->line,
				    "[graph %s] cdef: want 'NAME RPN' (RPN without blanks): '%s'",
				    p->cur->name, quote(q, v, strlen(v)));
		return SW_OK;
	}
	if (kind == SW_DASH_BAND && (e->b = word(&v)) == NULL)
		return perr(p, p->line, "[graph %s] band: want 'LOW HIGH COLOUR LEGEND'",
			    p->cur->name);
	return colour_legend(p, key, v, e, q);
}

/* ---- resolving a graph's names ------------------------------------------- */

static const struct sw_rrd_ds *kind_ds(const struct sw_rrd_kind *k, const char *name)
{
	for (size_t i = 0; i < k->n_ds; i++)
		if (strcmp(k->ds[i].name, name) == 0)
			return &k->ds[i];
	return NULL;
}

/* True if name is a cdef of g before element idx. */
static bool earlier_cdef(const struct sw_dash_graph *g, size_t idx, const char *name)
{
	for (size_t i = 0; i < idx; i++)
		if (g->elem[i].kind == SW_DASH_CDEF && strcmp(g->elem[i].a, name) == 0)
			return true;
	return false;
}

static void use_ds(struct sw_dash_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_ds; i++)
		if (strcmp(g->ds[i], name) == 0)
			return;
	g->ds = xreallocarray(g->ds, g->n_ds + 1, sizeof(*g->ds));
	g->ds[g->n_ds++] = xstrdup(name);
}

/* A value name of element idx: a data source of the kind (added to
 * g->ds) or an earlier cdef. */
static enum sw_err resolve(struct parse *p, struct sw_dash_graph *g, size_t idx, const char *name)
{
	const struct sw_dash_elem *e = &g->elem[idx];
	const struct sw_rrd_ds *ds = kind_ds(g->kind, name);
	char q[QBUF];

	if (ds == NULL && earlier_cdef(g, idx, name))
		return SW_OK;
	if (ds == NULL)
		return perr(p, e->line,
			    "[graph %s] %s: not a data source of %s.rrd nor an earlier cdef: '%s'",
			    g->name, elem_names[e->kind], g->kind->pattern,
			    quote(q, name, strlen(name)));
	if (g->sum && ds->stat != SW_RRD_STAT_VALUE)
		return perr(
		    p, e->line,
		    "[graph %s] %s: %s.rrd adds files up, and a quantile does not add: '%s'",
		    g->name, elem_names[e->kind], g->file, name);
	use_ds(g, name);
	return SW_OK;
}

static bool is_op(const char *t)
{
	for (size_t i = 0; rpn_ops[i]; i++)
		if (strcmp(rpn_ops[i], t) == 0)
			return true;
	return false;
}

/* A cdef: a new lower-case name, and RPN of numbers, operators and names. */
static enum sw_err resolve_cdef(struct parse *p, struct sw_dash_graph *g, size_t idx)
{
	const struct sw_dash_elem *e = &g->elem[idx];
	const char *s = e->b;
	char q[QBUF];
	double d;

	if (!is_lower_name(e->a) || kind_ds(g->kind, e->a) || earlier_cdef(g, idx, e->a))
		return perr(p, e->line,
			    "[graph %s] cdef: want a new name of [a-z0-9_] (not a data source "
			    "or an earlier cdef): '%s'",
			    g->name, quote(q, e->a, strlen(e->a)));
	for (;;) {
		size_t n = strcspn(s, ",");
		char *t = xstrndup(s, n);
		enum sw_err rc = SW_OK;

		if (!is_op(t) && !number(t, &d)) {
			if (is_lower_name(t))
				rc = resolve(p, g, idx, t);
			else
				rc = perr(p, e->line,
					  "[graph %s] cdef %s: not a number, name or "
					  "RPN operator: '%s'",
					  g->name, e->a, quote(q, t, n));
		}
		free(t);
		if (rc || s[n] == '\0')
			return rc;
		s += n + 1;
	}
}

/* Resolves the file name of g; SW_OK or an error at its line. */
static enum sw_err resolve_file(struct parse *p, struct sw_dash_graph *g, const char *v, int line)
{
	size_t n = strlen(v);
	char q[QBUF], *name, *probe, *slash;
	const char *each = p->def->each;

	if (n < 5 || strcmp(v + n - 4, ".rrd") != 0)
		return perr(p, line, "[graph %s] file: want an RRD file name ending in .rrd: '%s'",
			    g->name, quote(q, v, n));
	name = xstrndup(v, n - 4);
	slash = strrchr(name, '/');
	g->per_id = slash && strcmp(slash + 1, "{id}") == 0;
	g->sum = slash && strcmp(slash + 1, "*") == 0;
	probe =
	    g->per_id || g->sum ? xasprintf("%.*s/x", (int)(slash - name), name) : xstrdup(name);
	g->kind = sw_rrd_kind_find(probe);
	free(probe);
	free(g->file);
	g->file = name;
	if (g->kind == NULL)
		return perr(p, line,
			    "[graph %s] file: not a file of the metric catalogue "
			    "(doc/metrics.md): '%s'",
			    g->name, quote(q, v, n));
	if (g->per_id &&
	    (each == NULL || strncmp(name, each, strlen(each)) != 0 || name[strlen(each)] != '/'))
		return perr(p, line,
			    "[graph %s] file: {id} is the page's entity, so it needs "
			    "[dashboard] each = %.*s: '%s'",
			    g->name, (int)(slash - name), name, quote(q, v, n));
	return SW_OK;
}

/* The end of a [graph] section: what it lacks, and its names. */
static enum sw_err finish_graph(struct parse *p)
{
	struct sw_dash_graph *g = p->cur;
	bool drawn = false;

	p->cur = NULL;
	if (g == NULL || p->err)
		return p->err ? SW_ECONF : SW_OK;
	if (g->title == NULL || g->file == NULL)
		return perr(p, g->line, "[graph %s]: no %s", g->name,
			    g->title ? "file = (the RRD file it draws)" : "title =");
	for (size_t i = 0; i < g->n_elem; i++) {
		struct sw_dash_elem *e = &g->elem[i];
		enum sw_err rc = SW_OK;

		if (e->kind == SW_DASH_CDEF)
			rc = resolve_cdef(p, g, i);
		else if (e->kind != SW_DASH_HRULE)
			rc = resolve(p, g, i, e->a);
		if (rc == SW_OK && e->kind == SW_DASH_BAND)
			rc = resolve(p, g, i, e->b);
		if (rc == SW_OK && e->stack && !drawn)
			rc = perr(p, e->line,
				  "[graph %s] area: stack needs a line, area or band "
				  "before it",
				  g->name);
		if (rc)
			return rc;
		drawn |=
		    e->kind == SW_DASH_LINE || e->kind == SW_DASH_AREA || e->kind == SW_DASH_BAND;
	}
	if (!drawn)
		return perr(p, g->line, "[graph %s]: nothing to draw (no line, area or band)",
			    g->name);
	return SW_OK;
}

/* ---- keys ------------------------------------------------------------------ */

/* A key said once per section: SW_OK the first time. */
static enum sw_err once(struct parse *p, enum once_key k, const char *label)
{
	if (p->once[k])
		return perr(p, p->line, "%s %s: said twice (first on line %d)", label,
			    once_names[k], p->once[k]);
	p->once[k] = p->line;
	return SW_OK;
}

/* each = KIND: a catalogue pattern "KIND/ *". */
static enum sw_err set_each(struct parse *p, const char *v)
{
	char *probe = xasprintf("%s/x", v), q[QBUF];
	bool good = is_lower_name(v) && sw_rrd_kind_find(probe);

	free(probe);
	if (!good)
		return perr(p, p->line,
			    "[dashboard] each: not a kind of RRD file KIND/NAME.rrd "
			    "of the metric catalogue: '%s'",
			    quote(q, v, strlen(v)));
	p->def->each = xstrdup(v);
	return SW_OK;
}

static enum sw_err set_order(struct parse *p, const char *v)
{
	char q[QBUF];
	double d;

	if (!number(v, &d) || d != (int)d || d < 0 || d > 1000)
		return perr(p, p->line, "[dashboard] order: want a whole number 0..1000: '%s'",
			    quote(q, v, strlen(v)));
	p->def->order = (int)d;
	return SW_OK;
}

static enum sw_err on_dashboard_key(struct parse *p, const char *key, const char *v)
{
	struct sw_dash_def *d = p->def;
	char q[QBUF];

	for (enum once_key k = K_TITLE; k <= K_ORDER; k++) {
		if (strcmp(key, once_names[k]) != 0)
			continue;
		if (once(p, k, "[dashboard]"))
			return SW_ECONF;
		if (k == K_EACH)
			return set_each(p, v);
		if (k == K_ORDER)
			return set_order(p, v);
		if (!*v || !text_ok(v))
			return perr(p, p->line,
				    "[dashboard] %s: want text of 1..%d bytes without "
				    "'\\': '%s'",
				    key, SW_DASH_TEXT_MAX, quote(q, v, strlen(v)));
		*(k == K_TITLE ? &d->title : &d->menu) = xstrdup(v);
		return SW_OK;
	}
	return perr(p, p->line, "[dashboard]: unknown key (want title, menu, each, order): '%s'",
		    quote(q, key, strlen(key)));
}

/* title, vertical_label, file, cf, scale, lower, upper of a graph. */
static enum sw_err on_graph_setting(struct parse *p, enum once_key k, const char *v)
{
	struct sw_dash_graph *g = p->cur;
	char q[QBUF], label[SW_DASH_NAME_MAX + 16];
	const char *slash;
	double a, b = 1;

	snprintf(label, sizeof(label), "[graph %s]", g->name);
	if (once(p, k, label))
		return SW_ECONF;
	switch (k) {
	case K_TITLE:
	case K_VLABEL:
		if ((k == K_TITLE && !*v) || !text_ok(v))
			break;
		free(k == K_TITLE ? g->title : g->vlabel);
		*(k == K_TITLE ? &g->title : &g->vlabel) = xstrdup(v);
		return SW_OK;
	case K_FILE:
		return resolve_file(p, g, v, p->line);
	case K_CF:
		for (int cf = 0; cf < SW_DASH_CF_LAST; cf++)
			if (strcmp(v, cf_names[cf]) == 0) {
				g->cf = (enum sw_dash_cf)cf;
				return SW_OK;
			}
		return perr(p, p->line, "%s cf: want AVERAGE or MAX: '%s'", label,
			    quote(q, v, strlen(v)));
	case K_SCALE:
		slash = strchr(v, '/');
		if (slash) {
			char *num = xstrndup(v, (size_t)(slash - v));
			bool good = number(num, &a) && number(slash + 1, &b);

			free(num);
			if (good && a > 0 && b > 0 && isfinite(a / b) && a / b > 0) {
				g->scale = a / b;
				return SW_OK;
			}
		} else if (number(v, &a) && a > 0) {
			g->scale = a;
			return SW_OK;
		}
		return perr(p, p->line, "%s scale: want a number > 0 or a fraction N/M: '%s'",
			    label, quote(q, v, strlen(v)));
	default: /* K_LOWER, K_UPPER */
		if (!number(v, &a))
			return perr(p, p->line, "%s %s: want a number: '%s'", label, once_names[k],
				    quote(q, v, strlen(v)));
		*(k == K_LOWER ? &g->lower : &g->upper) = a;
		*(k == K_LOWER ? &g->has_lower : &g->has_upper) = true;
		if (g->has_lower && g->has_upper && g->lower >= g->upper)
			return perr(p, p->line, "%s: lower (%g) must be below upper (%g)", label,
				    g->lower, g->upper);
		return SW_OK;
	}
	return perr(p, p->line, "%s %s: want text of %s..%d bytes without '\\': '%s'", label,
		    once_names[k], k == K_TITLE ? "1" : "0", SW_DASH_TEXT_MAX,
		    quote(q, v, strlen(v)));
}

static enum sw_err on_graph_key(struct parse *p, const char *key, const char *v)
{
	char q[QBUF];

	for (int k = 0; k < SW_DASH_ELEM_LAST; k++)
		if (strcmp(key, elem_names[k]) == 0)
			return on_elem(p, (enum sw_dash_elem_kind)k, v);
	for (enum once_key k = K_TITLE; k < K_LAST; k++)
		if ((k == K_TITLE || k >= K_VLABEL) && strcmp(key, once_names[k]) == 0)
			return on_graph_setting(p, k, v);
	return perr(p, p->line,
		    "[graph %s]: unknown key (want title, vertical_label, file, cf, scale, "
		    "lower, upper, cdef, line, area, band, hrule): '%s'",
		    p->cur->name, quote(q, key, strlen(key)));
}

/* ini_handler: 1 to go on, 0 on error. */
static int on_pair(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	char q[QBUF];

	(void)section; /* the reader keeps sections; inih never sees one */
	if (p->err)
		return 0;
	if (p->sec == SEC_NONE) {
		perr(p, p->line, "key before [dashboard]: '%s'", quote(q, key, strlen(key)));
		return 0;
	}
	if (p->sec == SEC_DASHBOARD)
		return on_dashboard_key(p, key, value) == SW_OK;
	return on_graph_key(p, key, value) == SW_OK;
}

/* ---- sections and lines ---------------------------------------------------- */

static struct sw_dash_graph *graph_add(struct sw_dash_def *d, const char *name, int line)
{
	struct sw_dash_graph *g;

	d->graph = xreallocarray(d->graph, d->n_graph + 1, sizeof(*d->graph));
	g = &d->graph[d->n_graph++];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->vlabel = xstrdup("");
	g->scale = 1;
	g->line = line;
	return g;
}

/* "[dashboard]" or "[graph NAME]" (blanks allowed inside the brackets, a
 * comment after them). */
static enum sw_err on_header(struct parse *p, const char *s, size_t len)
{
	const char *close = memchr(s, ']', len), *rest;
	char q[QBUF], *inner, *kind, *name;
	const char *in;

	quote(q, s, len);
	rest = close ? close + 1 + strspn(close + 1, " \t") : NULL;
	if (!close || (rest < s + len && *rest != ';' && *rest != '#'))
		return perr(p, p->line, "bad section header: '%s'", q);
	if (finish_graph(p))
		return SW_ECONF;
	inner = xstrndup(s + 1, (size_t)(close - s - 1));
	in = inner;
	kind = word(&in);
	name = word(&in);
	memset(p->once, 0, sizeof(p->once));
	p->sec_line = p->line;
	if (kind && strcmp(kind, "dashboard") == 0 && !name && !*in) {
		if (p->dashboard_line)
			perr(p, p->line, "[dashboard] twice (first on line %d)", p->dashboard_line);
		else if (p->def->n_graph)
			perr(p, p->line, "[dashboard] must come first, before the graphs");
		p->dashboard_line = p->line;
		p->sec = SEC_DASHBOARD;
	} else if (kind && strcmp(kind, "graph") == 0 && name && !*in && is_lower_name(name)) {
		for (size_t i = 0; i < p->def->n_graph; i++)
			if (strcmp(p->def->graph[i].name, name) == 0)
				perr(p, p->line, "[graph %s] twice (first on line %d)", name,
				     p->def->graph[i].line);
		if (!p->dashboard_line)
			perr(p, p->line,
			     "[graph %s] before [dashboard]: the file starts with "
			     "[dashboard]",
			     name);
		else if (p->def->n_graph >= SW_DASH_MAX_GRAPHS)
			perr(p, p->line, "too many graphs (max %d)", SW_DASH_MAX_GRAPHS);
		else
			p->cur = graph_add(p->def, name, p->line);
		p->sec = SEC_GRAPH;
	} else {
		perr(p, p->line,
		     "unknown section (want [dashboard] or [graph NAME], NAME of "
		     "[a-z0-9_], at most %d bytes): '%s'",
		     SW_DASH_NAME_MAX, q);
	}
	free(kind);
	free(name);
	free(inner);
	return p->err ? SW_ECONF : SW_OK;
}

/* ini_reader: hands inih one stripped line per call; headers become an
 * empty line after on_header took them. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *s, *eol;
	size_t len;
	char q[QBUF];

	if (p->err || p->pos >= p->len || num < 4)
		return NULL;
	s = p->text + p->pos;
	eol = memchr(s, '\n', p->len - p->pos);
	len = eol ? (size_t)(eol - s) : p->len - p->pos;
	p->pos += len + (eol != NULL);
	p->line++;
	if (len && s[len - 1] == '\r')
		len--;
	if (p->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			perr(p, p->line, "control character 0x%02x in column %zu",
			     (unsigned char)s[i], i + 1);
			return NULL;
		}
	if (len > SW_DASH_MAX_LINE || len > (size_t)num - 2) {
		if (*s != ';' && *s != '#') {
			perr(p, p->line, "line too long (max %d bytes): '%s'", SW_DASH_MAX_LINE,
			     quote(q, s, len));
			return NULL;
		}
		len = 1; /* a comment: what is cut is ignored anyway */
	}
	if (len && *s == '[') {
		if (on_header(p, s, len))
			return NULL;
		len = 0;
	}
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* ---- the file -------------------------------------------------------------- */

/* inih refused line (one reader call is one line): a line without '='
 * or ':'.  Reported unless an error came on or before it. */
static void bad_line(struct parse *p, int line)
{
	const char *s = p->text, *end = p->text + p->len, *eol;
	char q[QBUF];
	size_t len;

	if (p->err && p->err_line <= line)
		return;
	for (int i = 1; i < line && s < end; i++) {
		eol = memchr(s, '\n', (size_t)(end - s));
		s = eol ? eol + 1 : end;
	}
	eol = memchr(s, '\n', (size_t)(end - s));
	len = (size_t)((eol ? eol : end) - s);
	while (len && strchr(" \t", *s)) {
		s++;
		len--;
	}
	if (len && s[len - 1] == '\r')
		len--;
	perr(p, line, "expected 'key = value': '%s'", quote(q, s, len));
}

/* The definition's name from path's base name NAME.dash, or NULL. */
static char *def_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base);
	char *name;

	if (n <= 5 || strcmp(base + n - 5, ".dash") != 0)
		return NULL;
	name = xstrndup(base, n - 5);
	if (!is_lower_name(name)) {
		free(name);
		return NULL;
	}
	return name;
}

static void graph_free(struct sw_dash_graph *g)
{
	for (size_t i = 0; i < g->n_elem; i++)
		elem_free(&g->elem[i]);
	for (size_t i = 0; i < g->n_ds; i++)
		free(g->ds[i]);
	free(g->ds);
	free(g->elem);
	free(g->name);
	free(g->title);
	free(g->vlabel);
	free(g->file);
}

void sw_dash_def_free(struct sw_dash_def *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_graph; i++)
		graph_free(&d->graph[i]);
	free(d->graph);
	free(d->name);
	free(d->path);
	free(d->title);
	free(d->menu);
	free(d->each);
	free(d);
}

/* After the last line: what the file as a whole lacks. */
static void finish_def(struct parse *p)
{
	struct sw_dash_def *d = p->def;

	if (finish_graph(p))
		return;
	if (!p->dashboard_line)
		perr(p, p->line ? p->line : 1, "no [dashboard] section");
	else if (d->title == NULL)
		perr(p, p->dashboard_line, "[dashboard]: no title =");
	else if (d->n_graph == 0 && d->each)
		perr(p, p->dashboard_line, "[dashboard]: each = %s, but no [graph NAME]", d->each);
	if (p->err == NULL && d->menu == NULL)
		d->menu = xstrdup(d->title);
}

enum sw_err sw_dash_def_parse(const char *text, size_t len, const char *path,
			      struct sw_dash_def **ret, char *err, size_t errlen)
{
	struct parse p;
	char *name = def_name(path);
	int r;

	*ret = NULL;
	if (name == NULL || len > SW_DASH_MAX_FILE) {
		snprintf(err, errlen,
			 name ? "%s: larger than %d bytes"
			      : "%s: a definition is NAME.dash, NAME of [a-z0-9_]",
			 path, SW_DASH_MAX_FILE);
		free(name);
		return name ? SW_ETOOBIG : SW_ECONF;
	}
	memset(&p, 0, sizeof(p));
	p.def = xcalloc(1, sizeof(*p.def));
	p.def->name = name;
	p.def->order = SW_DASH_ORDER_DEFAULT;
	p.def->path = xstrdup(path);
	p.text = text;
	p.len = len;
	r = ini_parse_stream(reader, &p, on_pair, &p);
	if (r > 0)
		bad_line(&p, r);
	else if (r < 0)
		perr(&p, p.line, "INI parser failed (%d)", r);
	if (p.err == NULL)
		finish_def(&p);
	if (p.err) {
		snprintf(err, errlen, "%s", p.err);
		free(p.err);
		sw_dash_def_free(p.def);
		return SW_ECONF;
	}
	*ret = p.def;
	return SW_OK;
}

/* Reads the regular file at path, at most SW_DASH_MAX_FILE + 1 bytes. */
static enum sw_err slurp(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t n = 0;

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return SW_EIO;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot open: not a regular file", path);
		close(fd);
		return SW_EIO;
	}
	buf = xmalloc(SW_DASH_MAX_FILE + 2);
	while (len <= SW_DASH_MAX_FILE &&
	       ((n = read(fd, buf + len, SW_DASH_MAX_FILE + 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		free(buf);
		close(fd);
		return SW_EIO;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return SW_OK;
}

enum sw_err sw_dash_def_load(const char *path, struct sw_dash_def **ret, char *err, size_t errlen)
{
	size_t len;
	char *text;
	enum sw_err rc;

	*ret = NULL;
	if ((rc = slurp(path, &text, &len, err, errlen)))
		return rc;
	rc = sw_dash_def_parse(text, len, path, ret, err, errlen);
	free(text);
	return rc;
}

void sw_dash_defs_free(struct sw_dash_defs *d)
{
	for (size_t i = 0; i < d->n; i++)
		sw_dash_def_free(d->def[i]);
	free(d->def);
	d->def = NULL;
	d->n = 0;
}

/* Overview first, then by name. */
static int cmp_def(const void *a, const void *b)
{
	const struct sw_dash_def *x = *(struct sw_dash_def *const *)a;
	const struct sw_dash_def *y = *(struct sw_dash_def *const *)b;
	int ox = strcmp(x->name, "overview") == 0, oy = strcmp(y->name, "overview") == 0;

	if (ox != oy)
		return oy - ox;
	return x->order != y->order ? x->order - y->order : strcmp(x->name, y->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NAME.dash entries of dir, sorted; SW_EIO when unreadable. */
static enum sw_err list_dir(const char *dir, char ***ret, size_t *ret_n, char *err, size_t errlen)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (dh == NULL) {
		snprintf(err, errlen, "%s: cannot read the dashboard definitions: %s", dir,
			 strerror(errno));
		return SW_EIO;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".dash") != 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dh);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*ret = names;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_dash_defs_load(const char *dir, struct sw_dash_defs *ret, char *err, size_t errlen)
{
	enum sw_err rc;
	char **names;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	if ((rc = list_dir(dir, &names, &n, err, errlen)))
		return rc;
	if (n == 0 || n > SW_DASH_MAX_DEFS) {
		snprintf(err, errlen, "%s: %s", dir,
			 n ? "too many definitions (max 64 NAME.dash files)"
			   : "no dashboard definitions (NAME.dash files)");
		rc = SW_EIO;
	}
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		struct sw_dash_def *d = NULL;

		if (rc == SW_OK && (rc = sw_dash_def_load(path, &d, err, errlen)) == SW_OK) {
			ret->def = xreallocarray(ret->def, ret->n + 1, sizeof(*ret->def));
			ret->def[ret->n++] = d;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	if (rc)
		sw_dash_defs_free(ret);
	else
		qsort(ret->def, ret->n, sizeof(*ret->def), cmp_def);
	return rc;
}
