/*
 * dash_graph.c - one graph for one range through rrd_graph_v (see
 * dash_graph.h).
 *
 * Design: the arguments are built as rrdtool's own command line would be
 * (argv of "graph FILE options DEF... CDEF... elements"), from names the
 * definition parser has already checked: data sources are catalogue
 * names, cdef names lower case, RPN operators upper case, so the vnames
 * made here (upper-case prefixes: R<i>_ds raw, B<i> bands, G<i>x values,
 * K_ known) never meet them.  Each data source read becomes a CDEF of its
 * own name: the raw value (or the files added with ADDNAN) times the
 * scale, so cdefs and elements use the names the definition wrote.
 * Free text (legends) has its ':' escaped; paths too.
 *
 * "No data yet" is decided without reading the file twice: the graph
 * PRINTs the maximum of "any data source known" over the range, and an
 * image whose answer is not 1 is removed.  A missing or empty local file
 * is known before librrd is asked; over TCP the daemon has the files, and
 * its "No such file" is taken as missing.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "dashboards/dash_graph.h"
#include "lib/rrd_int.h"
#include "lib/xmalloc.h"

#define VALUE_FMT "%%8.2lf" /* through add()'s printf: "%8.2lf" for rrdtool */

struct args {
	char **v;
	size_t n;
};

static void __attribute__((format(printf, 2, 3))) add(struct args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	a->v = xreallocarray(a->v, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = xvasprintf(fmt, ap);
	a->v[a->n] = NULL;
	va_end(ap);
}

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* s with every ':' escaped as "\:" (rrdtool's argument separator), in a
 * new string. */
static char *colon_escape(const char *s)
{
	char *out = xmalloc(2 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == ':')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static bool daemon_set(const struct sw_dash_opts *o)
{
	return o->rrd->rrdcached && o->rrd->rrdcached[0];
}

/* The name librrd gets for file name ("warehouse/blr1"), escaped. */
static char *rrd_path(const struct sw_dash_opts *o, const char *name)
{
	bool tcp = daemon_set(o) && sw_rrd_daemon_tcp(o->rrd->rrdcached);
	char *path = sw_rrd_daemon_path(o->rrd->dir, name, tcp), *esc = colon_escape(path);

	free(path);
	return esc;
}

/* True when the local file of name is missing or empty (never true over
 * TCP: the files are the daemon's). */
static bool local_empty(const struct sw_dash_opts *o, const char *name)
{
	char *path;
	struct stat st;
	bool empty;

	if (daemon_set(o) && sw_rrd_daemon_tcp(o->rrd->rrdcached))
		return false;
	path = xasprintf("%s/%s.rrd", o->rrd->dir, name);
	empty = stat(path, &st) < 0 || st.st_size == 0;
	free(path);
	return empty;
}

/* The files the graph reads (names under o->rrd->dir without .rrd), into
 * a new array of new strings; 0 when there is nothing to read. */
static size_t files(const struct sw_dash_graph *g, const struct sw_dash_opts *o,
		    const struct sw_dash_subject *subj, char ***ret)
{
	char **f = NULL, *dir = xstrdup(g->file), *slash = strrchr(dir, '/');
	size_t n = 0;

	if (slash)
		*slash = '\0';
	if (g->sum) {
		for (size_t i = 0; i < subj->n_names; i++) {
			char *name = xasprintf("%s/%s", dir, subj->names[i]);

			if (local_empty(o, name)) {
				free(name);
				continue;
			}
			f = xreallocarray(f, n + 1, sizeof(*f));
			f[n++] = name;
		}
	} else {
		char *name = g->per_id ? xasprintf("%s/%s", dir, subj->id) : xstrdup(g->file);

		if (local_empty(o, name)) {
			free(name);
		} else {
			f = xmalloc(sizeof(*f));
			f[n++] = name;
		}
	}
	free(dir);
	*ret = f;
	return n;
}

/* DEFs of every data source in every file, and the CDEF that gives each
 * data source its own name: the files added up, times the scale. */
static void add_sources(struct args *a, const struct sw_dash_graph *g, const struct sw_dash_opts *o,
			char **f, size_t n)
{
	for (size_t d = 0; d < g->n_ds; d++) {
		char *rpn = NULL;

		for (size_t i = 0; i < n; i++) {
			char *path = rrd_path(o, f[i]), *next;

			add(a, "DEF:R%zu_%s=%s:%s:%s", i, g->ds[d], path, g->ds[d],
			    sw_dash_cf_name(g->cf));
			next = i ? xasprintf("%s,R%zu_%s,ADDNAN", rpn, i, g->ds[d])
				 : xasprintf("R0_%s", g->ds[d]);
			free(rpn);
			rpn = next;
			free(path);
		}
		add(a, "CDEF:%s=%s,%.17g,*", g->ds[d], rpn, g->scale);
		free(rpn);
	}
}

/* The values under a legend: now, average and maximum over the range. */
static void add_values(struct args *a, size_t i, const char *v)
{
	add(a, "VDEF:G%zuc=%s,LAST", i, v);
	add(a, "VDEF:G%zua=%s,AVERAGE", i, v);
	add(a, "VDEF:G%zum=%s,MAXIMUM", i, v);
	add(a, "GPRINT:G%zuc:now " VALUE_FMT, i);
	add(a, "GPRINT:G%zua:avg " VALUE_FMT, i);
	add(a, "GPRINT:G%zum:max " VALUE_FMT "\\l", i);
}

/* Characters (not bytes) of UTF-8 text. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The widest legend followed by values (lines and areas), so that the
 * values line up in columns. */
static size_t legend_width(const struct sw_dash_graph *g, const char *id)
{
	size_t w = 0;

	for (size_t i = 0; i < g->n_elem; i++) {
		const struct sw_dash_elem *e = &g->elem[i];
		char *t;

		if (e->kind != SW_DASH_LINE && e->kind != SW_DASH_AREA)
			continue;
		t = sw_dash_subst(e->legend, id);
		w = chars(t) > w ? chars(t) : w;
		free(t);
	}
	return w;
}

/* One element of the definition, as rrd_graph arguments; legends before
 * values are padded to width. */
static void add_elem(struct args *a, const struct sw_dash_elem *e, size_t i,
		     const struct sw_dash_opts *o, const char *id, size_t width)
{
	char *subst = sw_dash_subst(e->legend, id), *legend;
	bool has = subst[0] != '\0';

	if (has && (e->kind == SW_DASH_LINE || e->kind == SW_DASH_AREA)) {
		char *padded = xasprintf("%s%*s", subst, (int)(width - chars(subst)), "");

		free(subst);
		subst = padded;
	}
	legend = colon_escape(subst);

	switch (e->kind) {
	case SW_DASH_CDEF:
		add(a, "CDEF:%s=%s", e->a, e->b);
		break;
	case SW_DASH_LINE:
		add(a, "LINE1:%s%s%s%s", e->a, e->colour, has ? ":" : "", legend);
		break;
	case SW_DASH_AREA:
		add(a, "AREA:%s%s%s%s%s", e->a, e->colour, has || e->stack ? ":" : "", legend,
		    e->stack ? ":STACK" : "");
		break;
	case SW_DASH_BAND:
		add(a, "CDEF:B%zu=%s,%s,-", i, e->b, e->a);
		add(a, "AREA:%s", e->a); /* no colour: invisible, the band's floor */
		add(a, "AREA:B%zu%s:%s:STACK", i, e->colour, legend);
		break;
	case SW_DASH_HRULE:
		add(a, "HRULE:%.17g%s%s%s", e->target ? o->target : e->value, e->colour,
		    has ? ":" : "", legend);
		break;
	default:
		break;
	}
	if (has && (e->kind == SW_DASH_LINE || e->kind == SW_DASH_AREA))
		add_values(a, i, e->a);
	else if (has && e->kind != SW_DASH_CDEF)
		add(a, "COMMENT:\\l");
	free(legend);
	free(subst);
}

/* PRINT[0]: 1 when any data source has a known value in the range. */
static void add_known(struct args *a, const struct sw_dash_graph *g)
{
	char *rpn = NULL;

	for (size_t d = 0; d < g->n_ds; d++) {
		char *next = d ? xasprintf("%s,%s,UN,0,1,IF,MAX", rpn, g->ds[d])
			       : xasprintf("%s,UN,0,1,IF", g->ds[d]);

		free(rpn);
		rpn = next;
	}
	add(a, "CDEF:K_=%s", rpn);
	add(a, "VDEF:KV_=K_,MAXIMUM");
	add(a, "PRINT:KV_:%%.0lf");
	free(rpn);
}

static void add_options(struct args *a, const struct sw_dash_graph *g, const struct sw_dash_opts *o,
			const struct sw_dash_range *r, int64_t now, const char *title)
{
	add(a, "--imgformat=%s", o->png ? "PNG" : "SVG");
	add(a, "--width=%d", o->width);
	add(a, "--height=%d", o->height);
	add(a, "--end=%lld", (long long)now);
	add(a, "--start=%s", r->start);
	add(a, "--title=%s (%s)", title, r->label);
	add(a, "--slope-mode");
	if (g->vlabel[0])
		add(a, "--vertical-label=%s", g->vlabel);
	if (g->has_lower)
		add(a, "--lower-limit=%.17g", g->lower);
	if (g->has_upper) {
		add(a, "--upper-limit=%.17g", g->upper);
		add(a, "--rigid");
	}
	if (daemon_set(o))
		add(a, "--daemon=%s", o->rrd->rrdcached);
}

/* Calls librrd; SW_DASH_IMAGE, _NODATA or _FAILED from its answer. */
static enum sw_dash_drawn call(struct args *a, const char *path, long *ret_w, long *ret_h,
			       char *err, size_t errlen)
{
	enum sw_dash_drawn drawn = SW_DASH_NODATA;
	rrd_info_t *info, *i;
	char e[512];
	sigset_t old;

	rrd_clear_error();
	sw_rrd_pipe_block(&old);
	info = rrd_graph_v((int)a->n, a->v);
	sw_rrd_pipe_restore(&old);
	if (info == NULL) {
		sw_rrd_err(e, sizeof(e));
		if (strstr(e, "No such file") != NULL)
			return SW_DASH_NODATA;
		snprintf(err, errlen, "%s", e);
		unlink(path);
		return SW_DASH_FAILED;
	}
	for (i = info; i; i = i->next) {
		if (strcmp(i->key, "print[0]") == 0 && i->type == RD_I_STR &&
		    strcmp(i->value.u_str, "1") == 0)
			drawn = SW_DASH_IMAGE;
		else if (strcmp(i->key, "image_width") == 0 && i->type == RD_I_CNT)
			*ret_w = (long)i->value.u_cnt;
		else if (strcmp(i->key, "image_height") == 0 && i->type == RD_I_CNT)
			*ret_h = (long)i->value.u_cnt;
	}
	rrd_info_free(info);
	if (drawn == SW_DASH_NODATA)
		unlink(path);
	return drawn;
}

enum sw_dash_drawn sw_dash_graph_draw(const struct sw_dash_graph *g, const struct sw_dash_opts *o,
				      const struct sw_dash_subject *subj,
				      const struct sw_dash_range *r, int64_t now, const char *path,
				      long *ret_w, long *ret_h, char *err, size_t errlen)
{
	char *title = sw_dash_subst(g->title, subj->id), **f;
	size_t n = files(g, o, subj, &f);
	struct args a = {0};
	enum sw_dash_drawn drawn = SW_DASH_NODATA;

	*ret_w = *ret_h = 0;
	if (n > 0) {
		add(&a, "graph");
		add(&a, "%s", path);
		add_options(&a, g, o, r, now, title);
		add_sources(&a, g, o, f, n);
		size_t width = legend_width(g, subj->id);

		for (size_t i = 0; i < g->n_elem; i++)
			add_elem(&a, &g->elem[i], i, o, subj->id, width);
		add_known(&a, g);
		drawn = call(&a, path, ret_w, ret_h, err, errlen);
	}
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
	args_free(&a);
	free(title);
	return drawn;
}
