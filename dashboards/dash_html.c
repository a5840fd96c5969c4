/*
 * dash_html.c - HTML escaping and pages from parts (see dash_html.h).
 *
 * Design: one escaping function for text and attribute values alike
 * (escaping the quotes costs nothing in text and makes every use safe in
 * an attribute), decoding UTF-8 strictly with lib/utf8 so that a bad byte
 * can never combine with what follows into markup.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboards/dash_html.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

enum sw_err sw_html_escape(struct sw_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s ? strlen(s) : 0;

	while (n > 0) {
		const char *rep = NULL;
		uint32_t cp = 0;
		size_t len = sw_utf8_decode(p, n, &cp);
		enum sw_err rc;

		switch (len == 1 ? *p : 0) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			break;
		}
		if (len == 0 || (cp < 0x20 && cp != '\t' && cp != '\n') ||
		    (cp >= 0x7f && cp < 0xa0))
			rep = REPLACEMENT;
		if (len == 0)
			len = 1;
		rc = rep ? sw_buf_adds(out, rep) : sw_buf_add(out, p, len);
		if (rc)
			return rc;
		p += len;
		n -= len;
	}
	return SW_OK;
}

static const char css[] =
    "body{font-family:sans-serif;margin:0;color:#222;background:#fff}\n"
    "header{background:#2c3e50;color:#fff;padding:.5em 1em}\n"
    "header h1{font-size:1.2em;margin:0 0 .3em 0}\n"
    "nav a{color:#fff;margin-right:1em}\n"
    "main{padding:0 1em}\n"
    "section.graph{margin:1em 0;border-top:1px solid #ddd}\n"
    ".ranges{display:flex;flex-wrap:wrap;gap:.5em}\n"
    "figure{margin:0}\n"
    "figcaption{font-size:.85em;color:#555}\n"
    ".nodata{display:flex;align-items:center;justify-content:center;min-width:20em;"
    "min-height:8em;background:#f4f4f4;color:#777;margin:0}\n"
    ".failed{background:#fdecea;color:#a00}\n"
    "footer{font-size:.8em;color:#777;padding:1em}\n";

const char *sw_dash_css(void)
{
	return css;
}

/* The <head> of a page. */
static enum sw_err head(const struct sw_dash_page *pg, struct sw_buf *out)
{
	enum sw_err rc = sw_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
					  "<meta charset=\"utf-8\">\n");

	if (rc == SW_OK && pg->refresh > 0)
		rc = sw_buf_printf(out, "<meta http-equiv=\"refresh\" content=\"%lld\">\n",
				   (long long)pg->refresh);
	if (rc == SW_OK)
		rc = sw_buf_adds(out, "<meta name=\"viewport\" content=\"width=device-width\">\n"
				      "<title>");
	if (rc == SW_OK)
		rc = sw_html_escape(out, pg->title);
	if (rc == SW_OK && pg->site_title && pg->site_title[0])
		rc = sw_buf_adds(out, " - ");
	if (rc == SW_OK)
		rc = sw_html_escape(out, pg->site_title);
	if (rc == SW_OK)
		rc = sw_buf_adds(out, "</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n"
				      "</head>\n");
	return rc;
}

enum sw_err sw_dash_page_html(const struct sw_dash_page *pg, struct sw_buf *out)
{
	enum sw_err rc = head(pg, out);

	if (rc == SW_OK)
		rc = sw_buf_adds(out, "<body>\n<header>\n<h1>");
	if (rc == SW_OK)
		rc = sw_html_escape(out, pg->site_title);
	if (rc == SW_OK)
		rc = sw_buf_adds(out, "</h1>\n");
	if (rc == SW_OK && pg->nav)
		rc = sw_buf_printf(out, "<nav>%s</nav>\n", pg->nav);
	if (rc == SW_OK)
		rc = sw_buf_adds(out, "</header>\n<main>\n<h2>");
	if (rc == SW_OK)
		rc = sw_html_escape(out, pg->title);
	if (rc == SW_OK)
		rc = sw_buf_adds(out, "</h2>\n");
	if (rc == SW_OK && pg->headline)
		rc = sw_buf_printf(out, "<div class=\"headline\">\n%s</div>\n", pg->headline);
	if (rc == SW_OK && pg->body)
		rc = sw_buf_adds(out, pg->body);
	if (rc == SW_OK)
		rc = sw_buf_adds(out, "</main>\n<footer>");
	if (rc == SW_OK)
		rc = sw_html_escape(out, pg->footer);
	if (rc == SW_OK)
		rc = sw_buf_adds(out, "</footer>\n</body>\n</html>\n");
	return rc;
}

enum sw_err sw_dash_write_file(const char *dir, const char *rel, const char *data, size_t len,
			       char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t done = 0;
	enum sw_err rc = SW_OK;

	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno != EINTR)
			break;
		done += n > 0 ? (size_t)n : 0;
	}
	if (fd < 0 || done < len || close(fd) < 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		if (fd >= 0 && done < len)
			close(fd);
		if (fd >= 0)
			unlink(path); /* not half a file */
		rc = SW_EIO;
	}
	free(path);
	return rc;
}
