/*
 * test_dash_html.c - unit tests for dashboards/dash_html.c: the one HTML
 * escaping function (every value from outside reaches a page through
 * it), and a page put together from its parts.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dashboards/dash_html.h"
#include "lib/buf.h"
#include "tests/tap.h"

#define FFFD "\xef\xbf\xbd"

static const struct {
	const char *in, *out, *what;
} cases[] = {
    {"plain text 123", "plain text 123", "plain text unchanged"},
    {"a<b>&\"'", "a&lt;b&gt;&amp;&quot;&#39;", "the five markup characters"},
    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", "a script tag"},
    {"\" onerror=\"x", "&quot; onerror=&quot;x", "cannot leave an attribute"},
    {"&amp;", "&amp;amp;", "an entity is text"},
    {"Bengaluru \xe2\x80\x93 \xe0\xb2\xac\xe0\xb3\x86",
     "Bengaluru \xe2\x80\x93 \xe0\xb2\xac\xe0\xb3\x86", "UTF-8 kept"},
    {"tab\tnew\nline", "tab\tnew\nline", "tab and newline kept"},
    {"a\x01z", "a" FFFD "z", "a control character replaced"},
    {"\x1b[31mred", FFFD "[31mred", "ESC replaced"},
    {"a\x7f"
     "b",
     "a" FFFD "b", "DEL replaced"},
    {"c1\xc2\x85", "c1" FFFD, "a C1 control replaced"},
    {"bad\xff", "bad" FFFD, "an invalid byte replaced"},
    {"\xc0\xbc", FFFD FFFD, "an overlong '<' is two bad bytes, never '<'"},
    {"cut\xe2\x80", "cut" FFFD FFFD, "a sequence cut short"},
    {"\xed\xa0\x80", FFFD FFFD FFFD, "a surrogate"},
    {"", "", "empty"},
};

static void escaping(void)
{
	struct sw_buf b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sw_buf_init(&b, 1024);
		is_int(sw_html_escape(&b, cases[i].in), SW_OK, "%s: ok", cases[i].what);
		is_str(sw_buf_str(&b), cases[i].out, "%s", cases[i].what);
		sw_buf_free(&b);
	}
	sw_buf_init(&b, 1024);
	is_int(sw_html_escape(&b, NULL), SW_OK, "NULL");
	is_int(b.len, 0, "appends nothing");
	sw_buf_free(&b);
	sw_buf_init(&b, 8);
	is_int(sw_html_escape(&b, "<<<"), SW_ETOOBIG, "a full buffer");
	ok(b.len <= 8 && strstr(sw_buf_str(&b), "<") == NULL, "keeps an escaped prefix only");
	sw_buf_free(&b);
}

static void page(void)
{
	struct sw_dash_page pg = {
	    .site_title = "Shop <b>",
	    .title = "Warehouse <script>x</script>",
	    .nav = "<a href=\"index.html\">Overview</a>",
	    .body = "<section>graphs</section>\n",
	    .footer = "made at 10:00 & on time",
	    .refresh = 60,
	};
	struct sw_buf b;
	const char *s;

	sw_buf_init(&b, 1 << 16);
	is_int(sw_dash_page_html(&pg, &b), SW_OK, "a page");
	s = sw_buf_str(&b);
	ok(strncmp(s, "<!DOCTYPE html>\n", 16) == 0, "HTML5");
	ok(strstr(s, "<meta charset=\"utf-8\">") != NULL, "UTF-8");
	ok(strstr(s, "<meta http-equiv=\"refresh\" content=\"60\">") != NULL, "reloads itself");
	ok(strstr(s, "<title>Warehouse &lt;script&gt;x&lt;/script&gt; - Shop &lt;b&gt;</title>"),
	   "the title escaped");
	ok(strstr(s, "<h2>Warehouse &lt;script&gt;x&lt;/script&gt;</h2>"), "the heading escaped");
	ok(strstr(s, "<script") == NULL, "no script tag anywhere");
	ok(strstr(s, "<nav><a href=\"index.html\">Overview</a></nav>"), "the nav as given");
	ok(strstr(s, "<section>graphs</section>"), "the body as given");
	ok(strstr(s, "<footer>made at 10:00 &amp; on time</footer>"), "the footer escaped");
	ok(strstr(s, "href=\"style.css\""), "the stylesheet, relative");
	ok(strstr(s, "class=\"headline\"") == NULL, "no headline block when none is given");
	ok(strstr(s, "</html>\n") != NULL, "complete");
	sw_buf_reset(&b);
	pg.refresh = 0;
	pg.headline = "<p>97% on time</p>\n";
	is_int(sw_dash_page_html(&pg, &b), SW_OK, "a page with a headline");
	s = sw_buf_str(&b);
	ok(strstr(s, "http-equiv") == NULL, "refresh 0: no reload");
	ok(strstr(s, "<div class=\"headline\">\n<p>97% on time</p>\n</div>"), "the headline block");
	ok(strstr(s, "</h2>\n<div class=\"headline\">") != NULL, "under the heading");
	sw_buf_free(&b);
	sw_buf_init(&b, 100);
	is_int(sw_dash_page_html(&pg, &b), SW_ETOOBIG, "a page too big for its buffer");
	sw_buf_free(&b);
	ok(strstr(sw_dash_css(), ".nodata") != NULL, "the stylesheet styles 'no data yet'");
}

int main(void)
{
	escaping();
	page();
	return tap_done();
}
