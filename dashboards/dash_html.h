/*
 * dash_html.h - the HTML of slipwatch-dash's static site: the one escaping
 * function every value from outside goes through (entity ids from RRD
 * file names, titles and legends from definition files, and later the
 * store's order ids, customer names and courier texts), and a page put
 * together from parts, and the one way a page or image file of a
 * generation is written (sw_dash_write_file, the only function here that
 * touches the file system).
 *
 * Pages are plain HTML5 with one stylesheet (style.css, written by
 * sw_dash_css) and no script; every link is relative, so a site works
 * from file:// and under any path of any web server.  A part that is
 * HTML (nav, headline, body) was built by its maker with sw_html_escape
 * for every outside value in it; texts are escaped here.  Pure functions
 * of their arguments; any thread.
 */
#ifndef SW_DASH_HTML_H
#define SW_DASH_HTML_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"

/*
 * Appends text s to out as HTML text that is also safe inside a quoted
 * attribute value: & < > " ' as character references, control
 * characters other than tab and newline, and bytes that are not valid
 * UTF-8, as U+FFFD (so no input can end an element or attribute or
 * smuggle markup).  NULL appends nothing.  SW_OK, or SW_ETOOBIG when out
 * is full (out then holds a prefix of the escaped text).
 */
enum sw_err sw_html_escape(struct sw_buf *out, const char *s);

/* One page's parts.  Texts are raw (escaped here); HTML parts are built
 * with sw_html_escape.  NULL parts are left out. */
struct sw_dash_page {
	const char *site_title; /* text: the site's name ([dash] title) */
	const char *title;	/* text: this page's title */
	const char *nav;	/* HTML: the navigation (links to the other pages) */
	const char *headline;	/* HTML: figures above the graphs (the overview's
				   headline figures; none yet) */
	const char *body;	/* HTML: the graphs and lists */
	const char *footer;	/* text: when and how it was made */
	int64_t refresh;	/* seconds until the page reloads itself; 0: never */
};

/* The page's whole HTML document appended to out.  SW_OK or SW_ETOOBIG. */
enum sw_err sw_dash_page_html(const struct sw_dash_page *page, struct sw_buf *out);

/* The stylesheet every page links as "style.css". */
const char *sw_dash_css(void);

/* Writes data[0..len) as the new file dir/rel of a generation: created
 * exclusively (an existing file or a symlink planted there is refused,
 * never written through), whole or not at all.  SW_OK, or SW_EIO with err
 * naming the path and why. */
enum sw_err sw_dash_write_file(const char *dir, const char *rel, const char *data, size_t len,
			       char *err, size_t errlen);


#endif /* SW_DASH_HTML_H */
