/*
 * test_dash_defs.c - unit tests for dashboards/dash_defs.c (the dashboard
 * definition parser).
 *
 * The cases are data: every tests/data/dash/cNNN_*.dash, in name order
 * (the name is a valid definition name, so each loads as a real file).
 * A case opens with comment lines:
 *   ; expect: ok             the file loads
 *   ; graphs: N              (ok cases) it has N graphs
 *   ; expect: LINE: MESSAGE  sw_dash_def_load fails with exactly
 *                            "PATH:LINE: MESSAGE", one line
 * Adding a case is adding a file.  What the data cannot express (the
 * parsed structure, file names, sizes, the shipped definitions, a
 * directory of them) is tested below.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboards/dash_defs.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

#define ERR_LEN 4096

static const char *data_dir(void)
{
	const char *dir = getenv("SW_TEST_DATA");

	return dir && *dir ? dir : "tests/data";
}

static const char *src_dir(void)
{
	const char *dir = getenv("SW_SRCDIR");

	return dir && *dir ? dir : ".";
}

/* The value of the first "; KEY: value" line of the file, copied. */
static char *header(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[512], prefix[64], *v = NULL;

	snprintf(prefix, sizeof(prefix), "; %s: ", key);
	while (f && !v && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, prefix);

		if (p && p <= line + 3) { /* after a BOM at most */
			p += strlen(prefix);
			p[strcspn(p, "\r\n")] = '\0';
			v = xstrdup(p);
		}
	}
	if (f)
		fclose(f);
	return v;
}

static void one_case(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *expect = header(path, "expect");
	char *graphs = header(path, "graphs"), err[ERR_LEN] = "";
	struct sw_dash_def *d = NULL;
	enum sw_err rc = sw_dash_def_load(path, &d, err, sizeof(err));

	if (expect == NULL) {
		ok(0, "%s: has an '; expect:' line", name);
	} else if (strcmp(expect, "ok") == 0) {
		if (!ok(rc == SW_OK && d, "%s: loads", name))
			printf("#   %s\n", err);
		if (d && graphs)
			is_int(d->n_graph, strtol(graphs, NULL, 10), "%s: %s graphs", name, graphs);
	} else {
		char *want = xasprintf("%s:%s", path, expect);

		is_int(rc, SW_ECONF, "%s: refused", name);
		ok(d == NULL, "%s: nothing returned", name);
		is_str(err, want, "%s: the error", name);
		free(want);
	}
	sw_dash_def_free(d);
	free(graphs);
	free(expect);
	free(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void cases(void)
{
	char *dir = xasprintf("%s/dash", data_dir()), *names[256];
	struct dirent *de;
	DIR *dh = opendir(dir);
	size_t n = 0;

	ok(dh != NULL, "the cases' directory %s", dir);
	while (dh && (de = readdir(dh)) != NULL && n < 256)
		if (de->d_name[0] == 'c' && strstr(de->d_name, ".dash"))
			names[n++] = xstrdup(de->d_name);
	if (dh)
		closedir(dh);
	ok(n >= 30, "at least 30 cases (%zu)", n);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		one_case(dir, names[i]);
		free(names[i]);
	}
	free(dir);
}

static struct sw_dash_def *load_case(const char *name)
{
	char *path = xasprintf("%s/dash/%s", data_dir(), name), err[ERR_LEN];
	struct sw_dash_def *d = NULL;

	if (sw_dash_def_load(path, &d, err, sizeof(err)) != SW_OK)
		printf("#   %s\n", err);
	free(path);
	return d;
}

/* c001: what the parser made of every key. */
static void structure(void)
{
	struct sw_dash_def *d = load_case("c001_ok_full.dash");
	const struct sw_dash_graph *g;

	if (!ok(d && d->n_graph == 2, "c001 loads with two graphs"))
		return;
	is_str(d->name, "c001_ok_full", "the name is the file's");
	is_str(d->title, "Warehouse {id}", "title kept with {id}");
	is_str(d->menu, "Warehouses", "menu");
	is_str(d->each, "warehouse", "each");
	is_int(d->order, 10, "order");
	g = &d->graph[0];
	is_str(g->name, "pick", "graph name");
	is_str(g->file, "warehouse/{id}", "file without .rrd");
	ok(g->per_id && !g->sum, "per id");
	is_str(g->kind->pattern, "warehouse/*", "its catalogue kind");
	is_int(g->cf, SW_DASH_MAX, "cf MAX");
	ok(g->scale > 0.016666 && g->scale < 0.016667, "scale 1/60");
	ok(g->has_lower && g->lower == 0 && g->has_upper && g->upper == 100, "limits");
	is_int(g->n_elem, 8, "eight elements");
	is_int(g->elem[0].kind, SW_DASH_BAND, "a band");
	is_str(g->elem[0].a, "pick_p10", "band low");
	is_str(g->elem[0].b, "pick_p90", "band high");
	is_str(g->elem[0].colour, "#1f77b455", "colour with alpha");
	is_str(g->elem[0].legend, "p10 to p90", "the legend is the rest of the line");
	ok(g->elem[2].kind == SW_DASH_AREA && !g->elem[2].stack, "an area");
	ok(g->elem[3].stack && g->elem[3].legend[0] == '\0', "'stack' alone: stacked, no legend");
	ok(g->elem[4].kind == SW_DASH_CDEF && strcmp(g->elem[4].b, "pick_p50,2,*") == 0,
	   "a cdef and its RPN");
	is_str(g->elem[5].legend, "twice the median: {id}", "a legend with ':' and {id}");
	ok(g->elem[6].kind == SW_DASH_HRULE && g->elem[6].value == 30 && !g->elem[6].target,
	   "an hrule at a number");
	ok(g->elem[7].target && g->elem[7].legend[0] == '\0', "an hrule at the target");
	is_int(g->n_ds, 5, "five data sources read, each once");
	if (g->n_ds == 5) {
		is_str(g->ds[0], "pick_p10", "in first use: pick_p10");
		is_str(g->ds[1], "pick_p90", "pick_p90");
		is_str(g->ds[2], "pick_p50", "pick_p50");
		is_str(g->ds[3], "backlog_pick", "backlog_pick");
		is_str(g->ds[4], "backlog_ship", "backlog_ship");
	}
	g = &d->graph[1];
	ok(g->sum && !g->per_id, "warehouse/*.rrd adds up");
	is_str(g->vlabel, "", "no vertical label: empty");
	is_int(g->cf, SW_DASH_AVERAGE, "cf AVERAGE by default");
	ok(g->scale == 1, "scale 1 by default");
	sw_dash_def_free(d);
}

/* c003 and c004: comments, legends, "stack" as a word. */
static void legends(void)
{
	struct sw_dash_def *d = load_case("c003_ok_crlf.dash");

	if (ok(d && d->n_graph == 1, "c003 loads")) {
		is_str(d->title, "Probes", "a comment after a value is cut");
		is_str(d->graph[0].name, "lat", "blanks inside the header");
		is_str(d->graph[0].elem[0].legend, "runs;ok",
		       "';' without a blank before it stays");
	}
	sw_dash_def_free(d);
	d = load_case("c004_ok_legend_stack_word.dash");
	if (ok(d && d->n_graph == 1 && d->graph[0].n_elem == 3, "c004 loads")) {
		const struct sw_dash_elem *e = d->graph[0].elem;

		ok(e[0].legend[0] == '\0' && !e[0].stack, "no legend");
		ok(strcmp(e[1].legend, "haystack") == 0 && !e[1].stack, "'haystack' is a legend");
		ok(e[2].legend[0] == '\0' && e[2].stack, "'stack' is a flag");
	}
	sw_dash_def_free(d);
}

static void texts(void)
{
	struct sw_dash_def *d = NULL;
	char err[ERR_LEN], *big;

	is_int(sw_dash_def_parse("", 0, "dir/x.dash", &d, err, sizeof(err)), SW_ECONF, "empty");
	is_str(err, "dir/x.dash:1: no [dashboard] section", "an empty file has no [dashboard]");
	is_int(sw_dash_def_parse("", 0, "dir/Bad-Name.dash", &d, err, sizeof(err)), SW_ECONF,
	       "a file name that is not a definition name");
	is_str(err, "dir/Bad-Name.dash: a definition is NAME.dash, NAME of [a-z0-9_]",
	       "says what a name is");
	is_int(sw_dash_def_parse("", 0, "x.conf", &d, err, sizeof(err)), SW_ECONF, "not .dash");
	big = xcalloc(SW_DASH_MAX_FILE + 2, 1);
	memset(big, ';', SW_DASH_MAX_FILE + 1);
	is_int(sw_dash_def_parse(big, SW_DASH_MAX_FILE + 1, "x.dash", &d, err, sizeof(err)),
	       SW_ETOOBIG, "over the size limit");
	is_str(err, "x.dash: larger than 65536 bytes", "and says so");
	free(big);
	is_int(sw_dash_def_load("/nonexistent/x.dash", &d, err, sizeof(err)), SW_EIO,
	       "a missing file");
	is_str(err, "/nonexistent/x.dash: cannot open: No such file or directory", "names it");
	is_int(sw_dash_def_load("/", &d, err, sizeof(err)), SW_EIO, "a directory");
	ok(d == NULL, "nothing returned");
}

static void subst(void)
{
	char *s = sw_dash_subst("{id}: a {id} b", "blr1");

	is_str(s, "blr1: a blr1 b", "every {id} replaced");
	free(s);
	s = sw_dash_subst("a {id}", NULL);
	is_str(s, "a {id}", "without an id, kept");
	free(s);
	s = sw_dash_subst("{i}{id", "x");
	is_str(s, "{i}{id", "only {id}");
	free(s);
	is_str(sw_dash_elem_name(SW_DASH_BAND), "band", "element names");
	is_str(sw_dash_elem_name(SW_DASH_ELEM_LAST), "?", "out of range");
	is_str(sw_dash_cf_name(SW_DASH_MAX), "MAX", "cf names");
}

/* The definitions shipped in dashboards/, and directories. */
static void directories(void)
{
	static const char *const order[] = {"overview", "warehouse", "courier", "probe",
					    "notifications"};
	char *dir = xasprintf("%s/dashboards", src_dir()), err[ERR_LEN] = "", *want;
	struct sw_dash_defs defs;
	enum sw_err rc = sw_dash_defs_load(dir, &defs, err, sizeof(err));

	if (!ok(rc == SW_OK, "the shipped definitions load"))
		printf("#   %s\n", err);
	is_int(defs.n, 5, "five of them");
	for (size_t i = 0; i < defs.n && i < 5; i++) {
		is_str(defs.def[i]->name, order[i], "%zu: overview first, then by order", i);
		ok(defs.def[i]->n_graph >= 1, "%s has graphs", order[i]);
	}
	if (defs.n == 5) {
		ok(defs.def[0]->each == NULL, "the overview is one page");
		is_str(defs.def[1]->each, "warehouse", "a page per warehouse");
		is_str(defs.def[2]->each, "courier", "a page per courier");
	}
	sw_dash_defs_free(&defs);
	free(dir);
	dir = xasprintf("%s/dash", data_dir());
	want = xasprintf("%s/c101_graph_first.dash:3: [graph g] before [dashboard]: the file "
			 "starts with [dashboard]",
			 dir);
	is_int(sw_dash_defs_load(dir, &defs, err, sizeof(err)), SW_ECONF,
	       "a directory with a bad definition");
	is_str(err, want, "names the first bad file in name order");
	is_int(defs.n, 0, "and keeps nothing");
	free(want);
	free(dir);
	dir = xasprintf("%s/conf", data_dir());
	is_int(sw_dash_defs_load(dir, &defs, err, sizeof(err)), SW_EIO, "no definitions");
	want = xasprintf("%s: no dashboard definitions (NAME.dash files)", dir);
	is_str(err, want, "says so");
	free(want);
	free(dir);
	is_int(sw_dash_defs_load("/nonexistent", &defs, err, sizeof(err)), SW_EIO, "no directory");
}

int main(void)
{
	cases();
	structure();
	legends();
	texts();
	subst();
	directories();
	return tap_done();
}
