/*
 * dash_render.c - one generation of the site (see dash_render.h).
 *
 * Design: the entities come from the RRD directory itself (sw_rrd_list:
 * only names the catalogue accepts, so an id is always a safe file-name
 * segment), listed once per kind and generation.  The navigation is built
 * once; each page is its definition's graphs, each graph a <section> with
 * one <figure> per range, and the page is put together by
 * sw_dash_page_html from parts (write_page): the overview's headline
 * figures are one more part.  The store is read before the first page,
 * in one read transaction (read_store): the late units and the headline's
 * figures, so every page of a generation tells the same story.  Every
 * text from outside (ids, titles, legends, librrd's errors, everything
 * from the store) goes through sw_html_escape.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dashboards/dash_graph.h"
#include "dashboards/dash_headline.h"
#include "dashboards/dash_html.h"
#include "dashboards/dash_render.h"
#include "dashboards/dash_report.h"
#include "dashboards/dash_site.h"
#include "dashboards/dash_tables.h"
#include "lib/buf.h"
#include "lib/rrd_read.h"
#include "lib/xmalloc.h"

#define PAGE_MAX  (16 * 1024 * 1024) /* bytes of one page's HTML */
#define ERR_LEN	  512
#define LATE_PAGE "late.html"

const struct sw_dash_range sw_dash_ranges[SW_DASH_RANGES] = {
    {"4h", "4 hours", "end-4h"},    {"day", "day", "end-1d"},	{"week", "week", "end-1w"},
    {"month", "month", "end-1mon"}, {"year", "year", "end-1y"},
};

/* The files of one kind ("warehouse"), listed once per generation. */
struct listing {
	char *kind;
	char **names;
	size_t n;
};

struct site {
	const struct sw_dash_defs *defs;
	const struct sw_dash_opts *o;
	const char *dir;
	int64_t now;
	bool (*stop)(void);
	struct sw_dash_stats *st;
	struct listing *lists;
	size_t n_lists;
	char *nav;			   /* HTML */
	char *footer;			   /* text */
	struct sw_dash_late *late;	   /* NULL: the store is not available */
	struct sw_dash_headline *headline; /* likewise */
};

/* ---- files ----------------------------------------------------------------- */

static enum sw_err write_file(const struct site *s, const char *rel, const char *data, size_t len,
			      char *err, size_t errlen)
{
	return sw_dash_write_file(s->dir, rel, data, len, err, errlen);
}

static enum sw_err make_dir(const struct site *s, const char *rel, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", s->dir, rel);
	enum sw_err rc = SW_OK;

	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		rc = SW_EIO;
	}
	free(path);
	return rc;
}

/* ---- entities ---------------------------------------------------------------- */

/* The files of kind ("warehouse"), listed on first use. */
static enum sw_err listing(struct site *s, const char *kind, const struct listing **ret, char *err,
			   size_t errlen)
{
	struct listing *l;
	enum sw_err rc;

	for (size_t i = 0; i < s->n_lists; i++)
		if (strcmp(s->lists[i].kind, kind) == 0) {
			*ret = &s->lists[i];
			return SW_OK;
		}
	s->lists = xreallocarray(s->lists, s->n_lists + 1, sizeof(*s->lists));
	l = &s->lists[s->n_lists++];
	memset(l, 0, sizeof(*l));
	l->kind = xstrdup(kind);
	rc = sw_rrd_list(s->o->rrd, kind, &l->names, &l->n, err, errlen);
	*ret = l;
	return rc;
}

/* The kind directory of a graph's file ("warehouse/ *" -> "warehouse"). */
static char *file_kind(const struct sw_dash_graph *g)
{
	const char *slash = strrchr(g->file, '/');

	return slash ? xstrndup(g->file, (size_t)(slash - g->file)) : xstrdup(g->file);
}

/* ---- navigation --------------------------------------------------------------- */

/* A page's file: index.html, NAME.html or NAME-ID.html. */
static char *page_file(const struct sw_dash_def *d, const char *id)
{
	if (id)
		return xasprintf("%s-%s.html", d->name, id);
	return strcmp(d->name, "overview") == 0 ? xstrdup("index.html")
						: xasprintf("%s.html", d->name);
}

static void nav_link(struct sw_buf *b, const char *href, const char *text)
{
	sw_buf_adds(b, "<a href=\"");
	sw_html_escape(b, href);
	sw_buf_adds(b, "\">");
	sw_html_escape(b, text);
	sw_buf_adds(b, "</a>");
}

/* Overview, the single pages, and per kind a link to its list. */
static void build_nav(struct site *s)
{
	struct sw_buf b;
	bool overview = s->defs->n && strcmp(s->defs->def[0]->name, "overview") == 0;

	sw_buf_init(&b, PAGE_MAX);
	nav_link(&b, "index.html", overview ? s->defs->def[0]->menu : "Overview");
	nav_link(&b, LATE_PAGE, "Late");
	nav_link(&b, SW_DASH_REPORT_PAGE, "Promise report");
	for (size_t i = overview ? 1 : 0; i < s->defs->n; i++) {
		const struct sw_dash_def *d = s->defs->def[i];
		char *href =
		    d->each ? xasprintf("index.html#list-%s", d->name) : page_file(d, NULL);

		nav_link(&b, href, d->menu);
		free(href);
	}
	s->nav = sw_buf_steal(&b, NULL);
}

/* ---- graphs -------------------------------------------------------------------- */

/* One range of one graph: a figure with the image, "no data yet", or the
 * failure, appended to body. */
static void figure(struct site *s, const struct sw_dash_graph *g,
		   const struct sw_dash_subject *subj, const char *stem, size_t r,
		   struct sw_buf *body)
{
	const char *ext = s->o->png ? "png" : "svg";
	char *rel = xasprintf("img/%s/%s-%s.%s", stem, g->name, sw_dash_ranges[r].name, ext);
	char *path = xasprintf("%s/%s", s->dir, rel), err[ERR_LEN];
	long w, h;
	enum sw_dash_drawn drawn;

	drawn = sw_dash_graph_draw(g, s->o, subj, &sw_dash_ranges[r], s->now, path, &w, &h, err,
				   sizeof(err));
	s->st->graphs++;
	sw_buf_adds(body, "<figure><figcaption>");
	sw_html_escape(body, sw_dash_ranges[r].label);
	sw_buf_adds(body, "</figcaption>");
	if (drawn == SW_DASH_IMAGE) {
		s->st->images++;
		sw_buf_adds(body, "<img src=\"");
		sw_html_escape(body, rel);
		sw_buf_printf(body, "\" width=\"%ld\" height=\"%ld\" alt=\"", w, h);
		sw_html_escape(body, g->name);
		sw_buf_adds(body, "\">");
	} else if (drawn == SW_DASH_NODATA) {
		s->st->nodata++;
		sw_buf_adds(body, "<p class=\"nodata\">no data yet</p>");
	} else {
		if (s->st->failed++ == 0)
			snprintf(s->st->first_error, sizeof(s->st->first_error),
				 "%.150s: graph %.40s: %.300s", stem, g->name, err);
		sw_buf_adds(body, "<p class=\"nodata failed\">graph failed: ");
		sw_html_escape(body, err);
		sw_buf_adds(body, "</p>");
	}
	sw_buf_adds(body, "</figure>\n");
	free(path);
	free(rel);
}

/* A graph's section: its title and one figure per range.  SW_EAGAIN when
 * asked to stop. */
static enum sw_err graph_section(struct site *s, const struct sw_dash_graph *g, const char *id,
				 const char *stem, struct sw_buf *body, char *err, size_t errlen)
{
	struct sw_dash_subject subj = {.id = id};
	char *title = sw_dash_subst(g->title, id);
	enum sw_err rc = SW_OK;

	if (g->sum) {
		const struct listing *l;
		char *kind = file_kind(g);

		rc = listing(s, kind, &l, err, errlen);
		free(kind);
		subj.names = (const char *const *)l->names;
		subj.n_names = l->n;
	}
	sw_buf_adds(body, "<section class=\"graph\" id=\"graph-");
	sw_html_escape(body, g->name);
	sw_buf_adds(body, "\"><h3>");
	sw_html_escape(body, title);
	sw_buf_adds(body, "</h3>\n<div class=\"ranges\">\n");
	for (size_t r = 0; rc == SW_OK && r < SW_DASH_RANGES; r++) {
		if (s->stop && s->stop())
			rc = SW_EAGAIN;
		else
			figure(s, g, &subj, stem, r, body);
	}
	sw_buf_adds(body, "</div>\n</section>\n");
	free(title);
	return rc;
}

/* ---- pages ----------------------------------------------------------------------- */

/* Writes one page from its parts.  headline is the block above the
 * graphs (HTML; NULL: none) - the overview's figures go there. */
static enum sw_err write_page(struct site *s, const char *file, const char *title,
			      const char *headline, const char *body, char *err, size_t errlen)
{
	struct sw_dash_page pg = {
	    .site_title = s->o->site_title,
	    .title = title,
	    .nav = s->nav,
	    .headline = headline,
	    .body = body,
	    .footer = s->footer,
	    .refresh = s->o->refresh,
	};
	struct sw_buf b;
	enum sw_err rc;

	sw_buf_init(&b, PAGE_MAX);
	rc = sw_dash_page_html(&pg, &b);
	if (rc)
		snprintf(err, errlen, "%s: the page is larger than %d bytes", file, PAGE_MAX);
	else
		rc = write_file(s, file, b.data, b.len, err, errlen);
	if (rc == SW_OK)
		s->st->pages++;
	sw_buf_free(&b);
	return rc;
}

/* The graphs of d for entity id (NULL: a single page) into body. */
static enum sw_err graphs(struct site *s, const struct sw_dash_def *d, const char *id,
			  struct sw_buf *body, char *err, size_t errlen)
{
	char *file = page_file(d, id), *stem = xstrndup(file, strlen(file) - 5);
	char *imgdir = xasprintf("img/%s", stem);
	enum sw_err rc = make_dir(s, imgdir, err, errlen);

	for (size_t i = 0; rc == SW_OK && i < d->n_graph; i++)
		rc = graph_section(s, &d->graph[i], id, stem, body, err, errlen);
	free(imgdir);
	free(stem);
	free(file);
	return rc;
}

/* Each definition's list of entity pages (for index.html). */
static enum sw_err lists(struct site *s, struct sw_buf *body, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->defs->n; i++) {
		const struct sw_dash_def *d = s->defs->def[i];
		const struct listing *l;
		enum sw_err rc;

		if (!d->each)
			continue;
		if ((rc = listing(s, d->each, &l, err, errlen)))
			return rc;
		sw_buf_adds(body, "<section class=\"list\" id=\"list-");
		sw_html_escape(body, d->name);
		sw_buf_adds(body, "\"><h3>");
		sw_html_escape(body, d->menu);
		sw_buf_adds(body, "</h3>\n");
		if (l->n == 0)
			sw_buf_adds(body, "<p class=\"nodata\">no data yet</p>\n");
		else
			sw_buf_adds(body, "<ul>\n");
		for (size_t j = 0; j < l->n; j++) {
			char *href = page_file(d, l->names[j]);

			sw_buf_adds(body, "<li>");
			nav_link(body, href, l->names[j]);
			sw_buf_adds(body, "</li>\n");
			free(href);
		}
		sw_buf_adds(body, l->n ? "</ul>\n</section>\n" : "</section>\n");
	}
	return SW_OK;
}

/* ---- the store's parts -------------------------------------------------------------- */

/* Reads the late units and the headline's figures in one read
 * transaction.  A store that is not available or fails leaves them NULL
 * (the parts say so; st->store_error says why): the graphs are still
 * worth writing. */
static void read_store(struct site *s)
{
	struct sw_store *store = s->o->store;
	struct sw_dash_late_opts lo = {
	    .now = s->now, .within_s = s->o->at_risk_s, .tracking_url = s->o->tracking_url};
	char *err = s->st->store_error;
	size_t errlen = sizeof(s->st->store_error);

	if (!store)
		return;
	if (sw_store_begin(store) != SW_OK) {
		snprintf(err, errlen, "read transaction: %s", sw_store_errmsg(store));
		return;
	}
	if (sw_dash_late_read(store, &lo, &s->late, err, errlen) == SW_OK &&
	    sw_dash_headline_read(store, s->now, s->o->zone, &s->headline, err, errlen) != SW_OK) {
		sw_dash_late_free(s->late);
		s->late = NULL;
	}
	sw_store_rollback(store); /* read only: nothing to keep */
}

/* The overview's headline figures (HTML, new). */
static char *headline(const struct site *s)
{
	struct sw_dash_headline_opts ho = {
	    .within_s = s->o->at_risk_s, .target = s->o->target, .late_href = LATE_PAGE};
	struct sw_buf b;

	sw_buf_init(&b, PAGE_MAX);
	sw_dash_headline_html(s->headline, s->late, &ho, &b);
	return sw_buf_steal(&b, NULL);
}

/* A warehouse's or a courier's own late units, under its graphs. */
static void entity_table(const struct site *s, const struct sw_dash_def *d, const char *id,
			 struct sw_buf *body)
{
	if (!id || !d->each)
		return;
	if (strcmp(d->each, "warehouse") == 0)
		sw_dash_late_table(s->late, SW_DASH_WAREHOUSE, id, body);
	else if (strcmp(d->each, "courier") == 0)
		sw_dash_late_table(s->late, SW_DASH_COURIER, id, body);
}

/* late.html: every late and at-risk unit. */
static enum sw_err late_page(struct site *s, char *err, size_t errlen)
{
	struct sw_buf body;
	enum sw_err rc;

	sw_buf_init(&body, PAGE_MAX);
	sw_dash_late_table(s->late, SW_DASH_ALL, NULL, &body);
	rc = write_page(s, LATE_PAGE, "Late", NULL, sw_buf_str(&body), err, errlen);
	sw_buf_free(&body);
	return rc;
}

/* One page of d (id NULL: single); index.html also gets the headline and
 * the lists, an entity's page its late units. */
static enum sw_err page(struct site *s, const struct sw_dash_def *d, const char *id, char *err,
			size_t errlen)
{
	char *file = d ? page_file(d, id) : xstrdup("index.html");
	char *title = d ? sw_dash_subst(d->title, id) : xstrdup("Overview");
	bool index = strcmp(file, "index.html") == 0;
	char *head = index ? headline(s) : NULL;
	struct sw_buf body;
	enum sw_err rc = SW_OK;

	sw_buf_init(&body, PAGE_MAX);
	if (d)
		rc = graphs(s, d, id, &body, err, errlen);
	if (rc == SW_OK && d)
		entity_table(s, d, id, &body);
	if (rc == SW_OK && index)
		rc = lists(s, &body, err, errlen);
	if (rc == SW_OK && body.len + 1 >= PAGE_MAX) {
		snprintf(err, errlen, "%s: the page is larger than %d bytes", file, PAGE_MAX);
		rc = SW_EIO;
	}
	if (rc == SW_OK)
		rc = write_page(s, file, title, head, sw_buf_str(&body), err, errlen);
	sw_buf_free(&body);
	free(head);
	free(title);
	free(file);
	return rc;
}

/* Every page of d: one, or one per file of its kind. */
static enum sw_err def_pages(struct site *s, const struct sw_dash_def *d, char *err, size_t errlen)
{
	const struct listing *l;
	enum sw_err rc;

	if (!d->each)
		return page(s, d, NULL, err, errlen);
	if ((rc = listing(s, d->each, &l, err, errlen)))
		return rc;
	for (size_t i = 0; rc == SW_OK && i < l->n; i++)
		rc = page(s, d, l->names[i], err, errlen);
	return rc;
}

static char *footer(const struct sw_dash_opts *o, int64_t now)
{
	time_t t = (time_t)now;
	char when[64] = "";
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
	return xasprintf("Generated %s%s%s%s by slipwatch-dash %s; each graph ends then.", when,
			 o->zone[0] ? " (" : "", o->zone, o->zone[0] ? ")" : "", PACKAGE_VERSION);
}

static void site_free(struct site *s)
{
	for (size_t i = 0; i < s->n_lists; i++) {
		sw_rrd_names_free(s->lists[i].names, s->lists[i].n);
		free(s->lists[i].kind);
	}
	free(s->lists);
	free(s->nav);
	free(s->footer);
	sw_dash_late_free(s->late);
	sw_dash_headline_free(s->headline);
}

/* The stylesheet: the pages' and the store parts'. */
static enum sw_err write_css(const struct site *s, char *err, size_t errlen)
{
	char *css = xasprintf("%s%s%s", sw_dash_css(), sw_dash_tables_css(), sw_dash_report_css());
	enum sw_err rc = write_file(s, "style.css", css, strlen(css), err, errlen);

	free(css);
	return rc;
}

enum sw_err sw_dash_render(const struct sw_dash_defs *defs, const struct sw_dash_opts *o,
			   const char *dir, int64_t now, bool (*stop)(void),
			   struct sw_dash_stats *st, char *err, size_t errlen)
{
	struct site s = {.defs = defs, .o = o, .dir = dir, .now = now, .stop = stop, .st = st};
	bool overview = defs->n && strcmp(defs->def[0]->name, "overview") == 0;
	enum sw_err rc;

	memset(st, 0, sizeof(*st));
	build_nav(&s);
	s.footer = footer(o, now);
	read_store(&s);
	rc = make_dir(&s, "img", err, errlen);
	if (rc == SW_OK)
		rc = write_css(&s, err, errlen);
	if (rc == SW_OK && !overview)
		rc = page(&s, NULL, NULL, err, errlen);
	if (rc == SW_OK)
		rc = late_page(&s, err, errlen);
	if (rc == SW_OK)
		rc = sw_dash_report_write(o, dir, s.nav, s.footer, now, st, err, errlen);
	for (size_t i = 0; rc == SW_OK && i < defs->n; i++)
		rc = def_pages(&s, defs->def[i], err, errlen);
	if (rc == SW_EAGAIN)
		snprintf(err, errlen, "stopped before the site was complete");
	site_free(&s);
	return rc;
}
