/*
 * test_template.c - unit tests for alerts/template.c.
 *
 * Template directories for the fallback and error cases are written into a
 * private temp dir by the test itself (each case is a few lines of text);
 * the shipped defaults are read from $SW_SRCDIR/alerts/templates.  Zones
 * come from the system tzdata (Asia/Kolkata, America/New_York).
 */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerts/template.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

#define SIMPLE "Subject: %s {{order_id}}\n\nText %s {{order_id}}\n=== html ===\n<p>%s</p>\n"

static char tmpdir[] = "/tmp/sw_test_template_XXXXXX";
static char errbuf[512];

static void write_file(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);
	char *slash = strrchr(path, '/');
	FILE *f;

	*slash = '\0';
	for (char *p = path + strlen(tmpdir) + 1; p && *p; p = strchr(p + 1, '/')) {
		char c = *p;

		if (c == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
	*slash = '/';
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	free(path);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void rm_tree(const char *rel)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);

	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

/* Writes a simple template for kind in set/locale, tagged with locale. */
static void write_simple(const char *set, const char *locale, const char *kind)
{
	char *rel = xasprintf("%s/%s/%s.tmpl", set, locale, kind);
	char *text = xasprintf(SIMPLE, locale, locale, locale);

	write_file(rel, text);
	free(rel);
	free(text);
}

static void write_default(const char *set)
{
	for (int k = 0; k < SW_TPL_KIND_LAST; k++)
		write_simple(set, "default", sw_tpl_kind_name((enum sw_tpl_kind)k));
}

static enum sw_err load(const char *set, struct sw_tpl_set **ret)
{
	char *dir = xasprintf("%s/%s", tmpdir, set);
	enum sw_err rc;

	errbuf[0] = '\0';
	*ret = NULL;
	rc = sw_tpl_load(dir, ret, errbuf, sizeof(errbuf));
	free(dir);
	return rc;
}

static const char *pick_loc(const struct sw_tpl_set *s, enum sw_tpl_kind k, const char *loc)
{
	const struct sw_tpl *t = sw_tpl_pick(s, k, loc);

	return t ? sw_tpl_locale(t) : "(null)";
}

static void test_kinds_and_locales(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "hi", "hi" },         { "hi-IN", "hi-in" },      { "HI_in", "hi-in" },
		{ "en-US", "en-us" },   { "zh-Hant-TW", "zh-hant-tw" },
		{ "de-CH-1996", "de-ch-1996" }, { "abcde", "abcde" },
		{ "h", NULL },          { "", NULL },              { "hi-", NULL },
		{ "-hi", NULL },        { "hi--IN", NULL },        { "hi IN", NULL },
		{ "../hi", NULL },      { "hi/in", NULL },         { "abcd", NULL },
		{ "abcdefghi", NULL },  { "hi-abcdefghi", NULL },  { "1i", NULL },
		{ "hi-I\xc3\xb1", NULL },
		{ "en-aaaaaaaa-bbbbbbbb-cccccccc-ddddd", "en-aaaaaaaa-bbbbbbbb-cccccccc-ddddd" },
		{ "en-aaaaaaaa-bbbbbbbb-cccccccc-dddddd", NULL }, /* 36 bytes */
	};
	char buf[SW_TPL_LOCALE_MAX + 1];
	enum sw_tpl_kind k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sw_err rc = sw_tpl_locale_normalize(cases[i].in, buf, sizeof(buf));

		if (cases[i].want)
			is_str(rc == SW_OK ? buf : "(error)", cases[i].want, "normalize \"%s\"",
			       cases[i].in);
		else
			is_int(rc, SW_EINVAL, "normalize \"%s\" rejected", cases[i].in);
	}
	is_int(sw_tpl_locale_normalize(NULL, buf, sizeof(buf)), SW_EINVAL, "normalize NULL");
	is_int(sw_tpl_locale_normalize("hi-IN", buf, 5), SW_ETOOBIG, "normalize small buf");
	is_str(buf, "", "small buf left empty");

	for (int i = 0; i < SW_TPL_KIND_LAST; i++)
		ok(sw_tpl_kind_from_name(sw_tpl_kind_name((enum sw_tpl_kind)i), &k) == SW_OK &&
			   (int)k == i,
		   "kind %s round-trips", sw_tpl_kind_name((enum sw_tpl_kind)i));
	is_int(sw_tpl_kind_from_name("Late", &k), SW_ENOTFOUND, "kind names are exact");
	is_int(sw_tpl_kind_from_name(NULL, &k), SW_ENOTFOUND, "kind NULL");
	is_str(sw_tpl_kind_name(SW_TPL_KIND_LAST), "?", "kind name out of range");
	is_str(sw_tpl_kind_name((enum sw_tpl_kind)-1), "?", "kind name negative");
}

static void test_fallback(void)
{
	struct sw_tpl_set *s;
	const struct sw_tpl *t;
	char *p;

	write_default("fb");
	write_simple("fb", "hi", "ship_late");
	write_simple("fb", "hi", "late");
	write_simple("fb", "hi-in", "late");
	write_file("fb/README", "not a locale\n");        /* top-level files ignored */
	write_file("fb/hi/notes.txt", "ignored\n");       /* non-.tmpl ignored */
	write_file("fb/.git/x", "ignored\n");             /* dot entries ignored */
	if (!ok(load("fb", &s) == SW_OK, "load fallback set: %s", errbuf))
		return;
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, "hi-IN"), "hi", "hi-IN -> hi");
	is_str(pick_loc(s, SW_TPL_LATE, "hi-IN"), "hi-in", "hi-IN late -> hi-in");
	is_str(pick_loc(s, SW_TPL_LATE, "hi_in"), "hi-in", "hi_in -> hi-in");
	is_str(pick_loc(s, SW_TPL_LATE, "HI-Deva-IN"), "hi", "hi-Deva-IN -> hi");
	is_str(pick_loc(s, SW_TPL_STALLED, "hi-IN"), "default", "hi lacks stalled -> default");
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, "fr-FR"), "default", "fr-FR -> default");
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, "HI"), "hi", "HI -> hi");
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, "hi--IN"), "default", "malformed -> default");
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, "../hi"), "default", "../hi -> default");
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, ""), "default", "empty -> default");
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, NULL), "default", "NULL -> default");
	is_str(pick_loc(s, SW_TPL_SHIP_LATE, "hihi-IN"), "default", "hihi is not hi");
	ok(sw_tpl_pick(s, SW_TPL_KIND_LAST, "hi") == NULL, "kind out of range -> NULL");
	ok(sw_tpl_pick(NULL, SW_TPL_LATE, "hi") == NULL, "NULL set -> NULL");
	t = sw_tpl_pick(s, SW_TPL_LATE, "hi-IN");
	p = xasprintf("%s/fb/hi-in/late.tmpl", tmpdir);
	is_str(sw_tpl_path(t), p, "path of picked template");
	free(p);
	sw_tpl_free(s);
	sw_tpl_free(NULL);
}

static void expect_load_error(const char *set, enum sw_err want, const char *want_msg)
{
	struct sw_tpl_set *s;
	enum sw_err rc = load(set, &s);

	is_int(rc, want, "%s: load fails with %s", set, sw_err_name(want));
	ok(s == NULL, "%s: no set returned", set);
	if (!ok(strstr(errbuf, want_msg) != NULL, "%s: error names \"%s\"", set, want_msg))
		printf("#   got \"%s\"\n", errbuf);
	sw_tpl_free(s);
}

/* A set whose default/late.tmpl is text, everything else simple. */
static void bad_late(const char *set, const char *text)
{
	char *rel = xasprintf("%s/default/late.tmpl", set);

	write_default(set);
	write_file(rel, text);
	free(rel);
}

static void test_load_errors(void)
{
	char *big = xmalloc(SW_TPL_FILE_MAX + 100);
	struct sw_tpl_set *s;

	bad_late("e1", "# c\nSubject: x\n\nline 4\nline 5 {{order_id}} {{foo}}\n=== html ===\n");
	expect_load_error("e1", SW_EPARSE, "e1/default/late.tmpl:5: unknown placeholder {{foo}}");
	bad_late("e2", "Subject: x\n\nt\n=== html ===\n<p>\n{{#bogus}}\n");
	expect_load_error("e2", SW_EPARSE, "late.tmpl:6: unknown placeholder {{#bogus}}");
	bad_late("e3", "Subject: {{Order_id}}\n\nt\n=== html ===\n");
	expect_load_error("e3", SW_EPARSE, "late.tmpl:1: unknown placeholder {{Order_id}}");
	bad_late("e4", "Subject: x\n\nt {{order_id\n}}\n=== html ===\n");
	expect_load_error("e4", SW_EPARSE, "late.tmpl:3: unclosed {{");
	bad_late("e5", "Subject: x\n\n{{#new_date}}\nt\n=== html ===\n");
	expect_load_error("e5", SW_EPARSE, "section {{#new_date}} not closed");
	bad_late("e6", "Subject: x\n\n{{#new_date}}t{{/courier}}\n=== html ===\n");
	expect_load_error("e6", SW_EPARSE, "late.tmpl:3: {{/courier}} closes no open section");
	bad_late("e7", "Subject: x\n\nt\n=== html ===\n{{/courier}}\n");
	expect_load_error("e7", SW_EPARSE, "closes no open section");
	bad_late("e8", "Subjekt: x\n\nt\n=== html ===\n");
	expect_load_error("e8", SW_EPARSE, "late.tmpl:1: expected \"Subject:\"");
	bad_late("e9", "Subject: x\nt\n=== html ===\n");
	expect_load_error("e9", SW_EPARSE, "followed by one empty line");
	bad_late("e10", "Subject: \n\nt\n=== html ===\n");
	expect_load_error("e10", SW_EPARSE, "empty subject");
	bad_late("e11", "Subject: x\n\nt\n=== html\n");
	expect_load_error("e11", SW_EPARSE, "no \"=== html ===\" line");
	bad_late("e12", "Subject: x\n\nt \xc3\x28\n=== html ===\n");
	expect_load_error("e12", SW_EPARSE, "invalid UTF-8");
	bad_late("e13", "Subject: x\n\n{{#order_id}}{{#order_id}}{{#order_id}}{{#order_id}}"
			"{{#order_id}}{{#order_id}}{{#order_id}}{{#order_id}}{{#order_id}}\n"
			"=== html ===\n");
	expect_load_error("e13", SW_EPARSE, "nested too deep");
	bad_late("e14", "Subject: x");
	expect_load_error("e14", SW_EPARSE, "followed by one empty line");
	bad_late("e15", "");
	expect_load_error("e15", SW_EPARSE, "expected \"Subject:\"");

	memset(big, 'a', SW_TPL_FILE_MAX + 99);
	memcpy(big, "Subject: x\n\n", 12);
	big[SW_TPL_FILE_MAX + 99] = '\0';
	bad_late("e16", big);
	expect_load_error("e16", SW_ETOOBIG, "late.tmpl");
	free(big);

	write_default("e17");
	rm_tree("e17/default/stalled.tmpl");
	expect_load_error("e17", SW_ENOTFOUND, "e17/default/stalled.tmpl");

	write_simple("e18", "hi", "late");
	expect_load_error("e18", SW_ENOTFOUND, "e18/default: missing");

	write_default("e19");
	write_simple("e19", "Hi-IN", "late");
	expect_load_error("e19", SW_EPARSE, "Hi-IN: not \"default\" or a lower-case locale tag");

	write_default("e20");
	write_simple("e20", "hi", "shiplate");
	expect_load_error("e20", SW_EPARSE, "e20/hi/shiplate.tmpl: not a slip kind");

	write_default("e21");
	write_file("e21/hi/late.tmpl", "Subject: x\n\n{{nope}}\n=== html ===\n");
	expect_load_error("e21", SW_EPARSE, "e21/hi/late.tmpl:3: unknown placeholder {{nope}}");

	expect_load_error("nonexistent", SW_ENOTFOUND, "nonexistent");
	is_int(sw_tpl_load(NULL, &s, errbuf, sizeof(errbuf)), SW_EINVAL, "load NULL dir");
	is_int(sw_tpl_load(tmpdir, NULL, NULL, 0), SW_EINVAL, "load NULL ret, no errbuf");
}

static const struct sw_tpl_values full = {
	.customer_name = "Asha",
	.order_id = "A-1001",
	.tracking_number = "1Z999",
	.courier = "DHL",
	.tracking_link = "https://track.example/1Z999?a=1&b=2",
	.promised_date = "Thu, 26 Nov 2026",
	.new_date = "Mon, 30 Nov 2026",
	.shop_name = "Kite & Co",
	.unsubscribe_link = "https://shop.example/u/abc",
};

/* Loads a one-template set "r<N>" whose default/late.tmpl is text. */
static const struct sw_tpl *one(struct sw_tpl_set **s, int n, const char *text)
{
	char *set = xasprintf("r%d", n);

	bad_late(set, text);
	if (load(set, s) != SW_OK) {
		printf("# load %s: %s\n", set, errbuf);
		free(set);
		return NULL;
	}
	free(set);
	return sw_tpl_pick(*s, SW_TPL_LATE, NULL);
}

static void test_render(void)
{
	struct sw_tpl_set *s;
	const struct sw_tpl *t;
	struct sw_tpl_msg m;
	struct sw_tpl_values v = full;
	enum sw_err rc;

	t = one(&s, 1, "Subject: Order {{order_id}} for {{customer_name}}\r\n\r\n"
		       "Hi {{customer_name}},\r\n"
		       "  {{#new_date}}  \r\n"
		       "New: {{new_date}}.\r\n"
		       "{{/new_date}}\r\n"
		       "{{^new_date}}\r\n"
		       "No new date.\r\n"
		       "{{/new_date}}\r\n"
		       "Was {{promised_date}}{{#tracking_link}} track {{tracking_link}}{{/tracking_link}}.\r\n"
		       "=== html ===\r\n"
		       "<p>{{customer_name}} {{shop_name}}</p>\r\n"
		       "<a href=\"{{tracking_link}}\">t</a>\r\n");
	if (!ok(t != NULL, "load render template"))
		return;
	rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
	is_int(rc, SW_OK, "render full values: %s", errbuf);
	is_str(m.subject, "Order A-1001 for Asha", "subject rendered");
	is_str(m.text,
	       "Hi Asha,\nNew: Mon, 30 Nov 2026.\n"
	       "Was Thu, 26 Nov 2026 track https://track.example/1Z999?a=1&b=2.\n",
	       "text rendered; standalone section lines removed; CRLF -> LF");
	is_str(m.html,
	       "<p>Asha Kite &amp; Co</p>\n"
	       "<a href=\"https://track.example/1Z999?a=1&amp;b=2\">t</a>\n",
	       "html rendered and escaped");
	sw_tpl_msg_free(&m);
	sw_tpl_msg_free(&m);

	v.new_date = "";
	v.tracking_link = "";
	v.customer_name = "";
	rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
	is_int(rc, SW_OK, "render without optional values");
	is_str(m.text, "Hi ,\nNo new date.\nWas Thu, 26 Nov 2026.\n",
	       "unset sections dropped, inverted kept; \"\" renders empty");
	sw_tpl_msg_free(&m);

	v = full;
	v.promised_date = NULL;
	errbuf[0] = '\0';
	rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
	is_int(rc, SW_EINVAL, "NULL value for a used placeholder is an error");
	ok(strstr(errbuf, "no value for {{promised_date}}") && strstr(errbuf, "late.tmpl"),
	   "error names placeholder and file: %s", errbuf);
	ok(m.subject == NULL && m.text == NULL && m.html == NULL, "msg empty on error");
	v = full;
	v.tracking_link = NULL;
	v.tracking_number = NULL;
	is_int(sw_tpl_render(t, &v, &m, NULL, 0), SW_EINVAL,
	       "tracking_link NULL inside html href is an error (no section there)");

	v = full;
	is_int(sw_tpl_render(NULL, &v, &m, errbuf, sizeof(errbuf)), SW_EINVAL, "NULL tpl");
	is_int(sw_tpl_render(t, NULL, &m, errbuf, sizeof(errbuf)), SW_EINVAL, "NULL values");
	is_int(sw_tpl_render(t, &v, NULL, errbuf, sizeof(errbuf)), SW_EINVAL, "NULL msg");
	sw_tpl_free(s);
}

static void test_escaping(void)
{
	struct sw_tpl_set *s;
	const struct sw_tpl *t;
	struct sw_tpl_msg m;
	struct sw_tpl_values v = full;
	char *longname;

	t = one(&s, 2, "Subject: For {{customer_name}}!\n\n"
		       "Dear {{customer_name}}\n=== html ===\n<b>{{customer_name}}</b>"
		       "<a href=\"{{tracking_link}}\">x</a>\n");
	if (!ok(t != NULL, "load escaping template"))
		return;
	v.customer_name = "<script>alert(1)</script> & \"x\" 'y'";
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "render script name");
	is_str(m.html,
	       "<b>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;</b>"
	       "<a href=\"https://track.example/1Z999?a=1&amp;b=2\">x</a>\n",
	       "HTML part escapes & < > \" '");
	is_str(m.text, "Dear <script>alert(1)</script> & \"x\" 'y'\n", "text part as is");
	sw_tpl_msg_free(&m);

	v.customer_name = "Bob\r\nBcc: evil@example.com\r\n\r\nbody\n\rx\x01y\x7f\tz";
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "render CRLF name");
	ok(strpbrk(m.subject, "\r\n\t\x01\x7f") == NULL, "subject has no CR/LF/controls");
	is_str(m.subject, "For Bob Bcc: evil@example.com body x y z!", "subject one clean line");
	is_str(m.text, "Dear Bob\nBcc: evil@example.com\n\nbody\n\nx\x01y\x7f\tz\n",
	       "text: CR LF and CR become LF");
	ok(strchr(m.html, '\r') == NULL, "html: no CR");
	sw_tpl_msg_free(&m);

	v.customer_name = "A\xc2\x85" "B\xe2\x80\xa8" "C\xe2\x80\xa9" "D";
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "render unicode breaks");
	is_str(m.subject, "For A B C D!", "subject: NEL, LS, PS become spaces");
	sw_tpl_msg_free(&m);

	v.customer_name = "bad\xff\xc3(\xed\xa0\x80" "end";
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "render bad UTF-8");
	is_str(m.text, "Dear bad\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		       "end\n", "invalid UTF-8 becomes U+FFFD");
	sw_tpl_msg_free(&m);

	/* 300 x "न" (3 bytes): the subject is capped on a character boundary */
	longname = xmalloc(901);
	for (int i = 0; i < 300; i++)
		memcpy(longname + 3 * i, "\xe0\xa4\xa8", 3);
	longname[900] = '\0';
	v.customer_name = longname;
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "render long name");
	ok(strlen(m.subject) <= SW_TPL_SUBJECT_MAX, "subject capped (%zu bytes)",
	   strlen(m.subject));
	is_int((strlen(m.subject) - 4) % 3, 0, "cap falls on a character boundary");
	is_int(strlen(m.text), strlen("Dear \n") + 900, "text part not capped");
	sw_tpl_msg_free(&m);
	free(longname);

	v = full;
	v.tracking_link = "javascript:alert(1)";
	errbuf[0] = '\0';
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_EINVAL,
	       "javascript: link rejected");
	ok(strstr(errbuf, "{{tracking_link}} is not an http(s) URL") != NULL, "says which: %s",
	   errbuf);
	v.tracking_link = "https://x.example/a b";
	is_int(sw_tpl_render(t, &v, &m, NULL, 0), SW_EINVAL, "link with a space rejected");
	v.tracking_link = "https://x.example/\r\nX: y";
	is_int(sw_tpl_render(t, &v, &m, NULL, 0), SW_EINVAL, "link with CRLF rejected");
	v.tracking_link = full.tracking_link;
	v.unsubscribe_link = "ftp://x";
	is_int(sw_tpl_render(t, &v, &m, NULL, 0), SW_EINVAL, "unused bad link still rejected");
	v.unsubscribe_link = "HTTP://X.EXAMPLE/\"><script>";
	is_int(sw_tpl_render(t, &v, &m, NULL, 0), SW_OK, "http link, upper case, accepted");
	sw_tpl_msg_free(&m);
	sw_tpl_free(s);
}

static void test_too_big(void)
{
	struct sw_tpl_set *s;
	const struct sw_tpl *t;
	struct sw_tpl_msg m;
	struct sw_tpl_values v = full;
	char *name = xmalloc(SW_TPL_BODY_MAX / 4 + 1);

	t = one(&s, 3, "Subject: x\n\n{{customer_name}}{{customer_name}}"
		       "{{customer_name}}{{customer_name}}\n=== html ===\n");
	if (!ok(t != NULL, "load big template"))
		return;
	memset(name, 'n', SW_TPL_BODY_MAX / 4);
	name[SW_TPL_BODY_MAX / 4] = '\0';
	v.customer_name = name;
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_ETOOBIG, "body over cap");
	ok(m.text == NULL, "nothing returned");
	name[SW_TPL_BODY_MAX / 4 - 1] = '\0';
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "body just under cap");
	sw_tpl_msg_free(&m);
	free(name);
	sw_tpl_free(s);
}

static void test_dates(void)
{
	/* 2026-11-25T18:45:00Z: 00:15 Thu 26 Nov in Kolkata, 13:45 Wed 25 in New York.
	 * 2026-11-26T04:30:00Z: 10:00 Thu in Kolkata, 23:30 Wed in New York. */
	static const struct {
		int64_t utc;
		const char *zone, *locale, *want;
	} cases[] = {
		{ 1795632300, "Asia/Kolkata", "en", "Thu, 26 Nov 2026" },
		{ 1795632300, "America/New_York", "en", "Wed, 25 Nov 2026" },
		{ 1795667400, "Asia/Kolkata", "default", "Thu, 26 Nov 2026" },
		{ 1795667400, "America/New_York", NULL, "Wed, 25 Nov 2026" },
		{ 1795667400 + 1800, "America/New_York", "en-US", "Thu, 26 Nov 2026" },
		{ 1795632300 - 900, "Asia/Kolkata", "en", "Thu, 26 Nov 2026" }, /* 00:00 IST */
		{ 1795632300 - 901, "Asia/Kolkata", "en", "Wed, 25 Nov 2026" },
		{ 1795632300, "Asia/Kolkata", "hi",
		  "\xe0\xa4\x97\xe0\xa5\x81\xe0\xa4\xb0\xe0\xa5\x81\xe0\xa4\xb5\xe0\xa4\xbe"
		  "\xe0\xa4\xb0, 26 \xe0\xa4\xa8\xe0\xa4\xb5\xe0\xa4\x82\xe0\xa4\xac\xe0\xa4\xb0 2026" },
		{ 1795632300, "America/New_York", "hi-IN", "बुधवार, 25 नवंबर 2026" },
		{ 1795632300, "Asia/Kolkata", "hindi", "Thu, 26 Nov 2026" },
	};
	static const struct {
		struct sw_date d;
		const char *locale, *want;
	} dates[] = {
		{ { 2026, 11, 26 }, "en", "Thu, 26 Nov 2026" },
		{ { 2024, 2, 29 }, "en", "Thu, 29 Feb 2024" },
		{ { 1970, 1, 1 }, "en", "Thu, 1 Jan 1970" },
		{ { 1969, 12, 31 }, "en", "Wed, 31 Dec 1969" },
		{ { 1, 1, 1 }, "en", "Mon, 1 Jan 0001" },
		{ { 9999, 12, 31 }, "en", "Fri, 31 Dec 9999" },
		{ { 2026, 2, 1 }, "hi", "रविवार, 1 फ़रवरी 2026" },
		{ { 2026, 8, 15 }, "HI_in", "शनिवार, 15 अगस्त 2026" },
	};
	static const struct sw_date bad[] = { { 2026, 2, 29 }, { 2026, 13, 1 }, { 0, 1, 1 },
					      { 10000, 1, 1 }, { 2026, 1, 0 } };
	char buf[SW_TPL_DATE_STRLEN];
	struct sw_date d = { 2026, 11, 26 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sw_err rc = sw_tpl_format_instant(cases[i].utc, cases[i].zone,
						       cases[i].locale, buf, sizeof(buf));

		is_int(rc, SW_OK, "format instant %lld %s", (long long)cases[i].utc,
		       cases[i].zone);
		is_str(buf, cases[i].want, "  formatted as expected");
	}
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		is_int(sw_tpl_format_date(&dates[i].d, dates[i].locale, buf, sizeof(buf)), SW_OK,
		       "format date %d-%02d-%02d %s", dates[i].d.year,
		       dates[i].d.month, dates[i].d.day, dates[i].locale);
		is_str(buf, dates[i].want, "  formatted as expected");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(sw_tpl_format_date(&bad[i], "en", buf, sizeof(buf)), SW_ERANGE,
		       "invalid date %d-%d-%d", bad[i].year, bad[i].month, bad[i].day);
		is_str(buf, "", "  buf emptied");
	}
	is_int(sw_tpl_format_instant(0, "Mars/Olympus", "en", buf, sizeof(buf)), SW_ENOTFOUND,
	       "unknown zone");
	is_str(buf, "", "  buf emptied");
	is_int(sw_tpl_format_instant(0, "../../etc/passwd", "en", buf, sizeof(buf)), SW_EINVAL,
	       "bad zone name");
	is_int(sw_tpl_format_instant(0, NULL, "en", buf, sizeof(buf)), SW_EINVAL, "NULL zone");
	is_int(sw_tpl_format_date(NULL, "en", buf, sizeof(buf)), SW_EINVAL, "NULL date");
	is_int(sw_tpl_format_date(&d, "en", buf, 16), SW_ETOOBIG, "buffer one short");
	is_str(buf, "", "  buf emptied");
	is_int(sw_tpl_format_date(&d, "en", buf, 17), SW_OK, "buffer exact");
	is_int(sw_tpl_format_date(&d, "hi", buf, 30), SW_ETOOBIG, "Hindi needs more bytes");
}

/* Every shipped template loads and renders for every kind, in both
 * locales, with all values and with only the required ones. */
static void test_shipped(void)
{
	const char *src = getenv("SW_SRCDIR");
	char *dir = xasprintf("%s/alerts/templates", src && *src ? src : ".");
	static const char *const locales[] = { "en-GB", "hi-IN" };
	struct sw_tpl_set *s = NULL;
	enum sw_err rc = sw_tpl_load(dir, &s, errbuf, sizeof(errbuf));

	free(dir);
	if (!ok(rc == SW_OK, "shipped templates load: %s", rc ? errbuf : "ok"))
		return;
	for (int k = 0; k < SW_TPL_KIND_LAST; k++) {
		for (int l = 0; l < 2; l++) {
			const struct sw_tpl *t = sw_tpl_pick(s, (enum sw_tpl_kind)k, locales[l]);
			struct sw_tpl_values min = full;
			struct sw_tpl_msg m, m2;
			const char *kn = sw_tpl_kind_name((enum sw_tpl_kind)k);

			is_str(sw_tpl_locale(t), l ? "hi" : "default", "%s %s picks %s", kn,
			       locales[l], l ? "hi" : "default");
			rc = sw_tpl_render(t, &full, &m, errbuf, sizeof(errbuf));
			if (!ok(rc == SW_OK, "%s %s renders: %s", kn, locales[l], rc ? errbuf : ""))
				continue;
			ok(strstr(m.subject, "A-1001") && strstr(m.text, "A-1001") &&
				   strstr(m.html, "A-1001"),
			   "  order id in every part");
			ok(!strstr(m.subject, "{{") && !strstr(m.text, "{{") && !strstr(m.html, "{{"),
			   "  no placeholder left");
			ok(strstr(m.text, "https://shop.example/u/abc") &&
				   strstr(m.html, "href=\"https://shop.example/u/abc\""),
			   "  unsubscribe link in text and html");
			ok(strstr(m.text, full.tracking_link) &&
				   strstr(m.html, "https://track.example/1Z999?a=1&amp;b=2"),
			   "  tracking link in text and html (escaped)");
			/* returning and available_for_pickup have no new date */
			if (k != SW_TPL_RETURNING && k != SW_TPL_AVAILABLE_FOR_PICKUP)
				ok(strstr(m.text, "Mon, 30 Nov 2026") != NULL, "  new date shown");
			ok(strstr(m.html, "Kite &amp; Co") && !strstr(m.html, "Kite & Co"),
			   "  shop name escaped in html");
			ok(strpbrk(m.subject, "\r\n") == NULL && strlen(m.subject) > 10,
			   "  subject one line: %s", m.subject);
			/* only what every slip has: order, promise, shop, unsubscribe;
			 * plus courier and tracking number once shipped */
			memset(&min, 0, sizeof(min));
			min.order_id = "A-1001";
			min.promised_date = "Thu, 26 Nov 2026";
			min.shop_name = "Kite";
			min.unsubscribe_link = "https://shop.example/u/abc";
			if (k != SW_TPL_SHIP_LATE) {
				min.courier = "DHL";
				min.tracking_number = "1Z999";
			}
			rc = sw_tpl_render(t, &min, &m2, errbuf, sizeof(errbuf));
			ok(rc == SW_OK, "  renders with required values only: %s",
			   rc ? errbuf : "ok");
			if (rc == SW_OK)
				ok(!strstr(m2.text, "track.example") && !strstr(m2.text, "Mon, 30"),
				   "  optional parts left out");
			sw_tpl_msg_free(&m2);
			sw_tpl_msg_free(&m);
		}
	}
	sw_tpl_free(s);
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_kinds_and_locales();
	test_fallback();
	test_load_errors();
	test_render();
	test_escaping();
	test_too_big();
	test_dates();
	test_shipped();
	sw_tz_cache_clear();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
