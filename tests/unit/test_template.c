/*
 * test_template.c - unit tests for alerts/template.c.
 *
 * Template directories for the fallback and error cases are written into a
 * private temp dir by the test itself (each case is a few lines of text);
 * the shipped templates are read from $SW_SRCDIR/alerts/templates.  Zones
 * come from the system tzdata (Asia/Kolkata, Asia/Kathmandu,
 * America/New_York), through lib/swtime.  The expected dates and numbers
 * are what ICU 72 (Debian 12) formats, checked by eye once and pinned;
 * with another ICU they are only checked to format at all.
 */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unicode/uversion.h>

#include "alerts/template.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

#define SIMPLE "Subject: %s {{order_id}}\n\nText %s {{order_id}}\n=== html ===\n<p>%s</p>\n"
#define NNBSP "\xe2\x80\xaf" /* U+202F, before AM/PM in ICU 72's English times */
#define ICU_PINNED (U_ICU_VERSION_MAJOR_NUM == 72)

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

	/* lists and their item names */
	bad_late("e22", "Subject: x\n\nt\n{{p_courier}}\n=== html ===\n");
	expect_load_error("e22", SW_EPARSE, "late.tmpl:4: {{p_courier}} outside a {{*parcels}} list");
	bad_late("e23", "Subject: x\n\nt\n=== html ===\n<p>\n{{#p_issue}}x{{/p_issue}}\n");
	expect_load_error("e23", SW_EPARSE, "late.tmpl:6: {{#p_issue}} outside a {{*parcels}} list");
	bad_late("e24", "Subject: {{p_tracking_number}}\n\nt\n=== html ===\n");
	expect_load_error("e24", SW_EPARSE, "late.tmpl:1: {{p_tracking_number}} outside");
	bad_late("e25", "Subject: x\n\n{{*parcels}}\n{{*parcels}}\n{{/parcels}}\n{{/parcels}}\n"
			"=== html ===\n");
	expect_load_error("e25", SW_EPARSE, "late.tmpl:4: {{*parcels}} inside a list: lists do not nest");
	bad_late("e26", "Subject: x\n\n{{*parcels}}\n=== html ===\n");
	expect_load_error("e26", SW_EPARSE, "section {{*parcels}} not closed");
	bad_late("e27", "Subject: x\n\n{{*courier}}{{/courier}}\n=== html ===\n");
	expect_load_error("e27", SW_EPARSE, "late.tmpl:3: {{*courier}} is not a list");
	bad_late("e28", "Subject: x\n\n{{#parcels}}{{/parcels}}\n=== html ===\n");
	expect_load_error("e28", SW_EPARSE, "{{#parcels}} is a list: open it with {{*parcels}}");
	bad_late("e29", "Subject: x\n\n{{parcels}}\n=== html ===\n");
	expect_load_error("e29", SW_EPARSE, "{{parcels}} is a list");
	bad_late("e30", "Subject: x\n\n{{*parcels}}{{#p_issue}}{{/parcels}}{{/p_issue}}\n"
			"=== html ===\n");
	expect_load_error("e30", SW_EPARSE, "{{/parcels}} closes no open section");
	bad_late("e31", "Subject: x\n\n{{*parcels}}\n{{/parcels}}\n{{p_issue}}\n=== html ===\n");
	expect_load_error("e31", SW_EPARSE, "late.tmpl:5: {{p_issue}} outside");
	bad_late("e32", "Subject: x\n\n{{*nope}}{{/nope}}\n=== html ===\n");
	expect_load_error("e32", SW_EPARSE, "unknown placeholder {{*nope}}");
	/* the Summary line */
	bad_late("e33", "Subject: x\nSummary: \n\nt\n=== html ===\n");
	expect_load_error("e33", SW_EPARSE, "late.tmpl:2: empty summary");
	bad_late("e34", "# c\nSubject: x\nSummary: is {{order_id}}\n\nt\n=== html ===\n");
	expect_load_error("e34", SW_EPARSE, "late.tmpl:3: the Summary line is plain text");
	bad_late("e35", "Subject: x\nSummary: y\nt\n=== html ===\n");
	expect_load_error("e35", SW_EPARSE, "late.tmpl:2: the Summary line must be followed by one empty line");
	bad_late("e36", "Subject: x\nSummary: y");
	expect_load_error("e36", SW_EPARSE, "followed by one empty line");
	big = xasprintf("Subject: x\nSummary: %0*d\n\nt\n=== html ===\n", SW_TPL_SUMMARY_MAX + 1, 7);
	bad_late("e37", big);
	expect_load_error("e37", SW_EPARSE, "late.tmpl:2: over 200 bytes of summary");
	free(big);
	big = xasprintf("Subject: x\nSummary: %0*d  \n\nt\n=== html ===\n", SW_TPL_SUMMARY_MAX, 7);
	bad_late("e37b", big);
	ok(load("e37b", &s) == SW_OK && strlen(sw_tpl_summary(sw_tpl_pick(s, SW_TPL_LATE, NULL))) ==
						  SW_TPL_SUMMARY_MAX,
	   "a summary of the maximum length loads (trailing blanks trimmed): %s", errbuf);
	sw_tpl_free(s);
	free(big);
	bad_late("e38", "Subject: x\n\n{{/parcels}}\n=== html ===\n");
	expect_load_error("e38", SW_EPARSE, "late.tmpl:3: {{/parcels}} closes no open section");
	bad_late("e39", "Subject: x\n\nt {{p_courier}} {{*parcels}}{{/parcels}}\n=== html ===\n");
	expect_load_error("e39", SW_EPARSE, "late.tmpl:3: {{p_courier}} outside");

	expect_load_error("nonexistent", SW_ENOTFOUND, "nonexistent");
	is_int(sw_tpl_load(NULL, &s, errbuf, sizeof(errbuf)), SW_EINVAL, "load NULL dir");
	is_int(sw_tpl_load(tmpdir, NULL, NULL, 0), SW_EINVAL, "load NULL ret, no errbuf");
}

static const struct sw_tpl_item two_items[2] = {
	{ .courier = "DHL", .tracking_number = "1Z999", .tracking_link = "https://track.example/1Z999",
	  .issue = "has not arrived by the promised date", .new_date = "Monday, 30 November 2026" },
	{ .courier = "Blue <Dart>", .tracking_number = "BD-7&8",
	  .tracking_link = "https://track.example/BD?x=1&y=\"2\"", .issue = "is <b>late</b> & 'lost'",
	  .new_date = "" },
};

static const struct sw_tpl_values full = {
	.customer_name = "Asha",
	.order_id = "A-1001",
	.tracking_number = "1Z999",
	.courier = "DHL",
	.tracking_link = "https://track.example/1Z999?a=1&b=2",
	.new_date = "Mon, 30 Nov 2026",
	.shop_name = "Kite & Co",
	.unsubscribe_link = "https://shop.example/u/abc",
	.delivery_date = "Thu, 26 Nov 2026",
	.ship_by_date = "Tue, 24 Nov 2026",
	.parcel_count = "2",
	.followup = "yes",
	.others = "yes",
	.items = two_items,
	.n_items = 2,
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
	v.delivery_date = NULL;
	v.promised_date = "old caller's date";
	rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
	is_int(rc, SW_OK, "render with only the deprecated promised_date");
	ok(m.text && strstr(m.text, "Was old caller's date"),
	   "{{promised_date}} falls back to the deprecated promised_date value");
	sw_tpl_msg_free(&m);
	v.delivery_date = "new date";
	rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
	ok(rc == SW_OK && strstr(m.text, "Was new date"),
	   "{{promised_date}} is an alias of delivery_date, which wins");
	sw_tpl_msg_free(&m);

	v = full;
	v.delivery_date = NULL;
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

	sw_tpl_free(s);

	/* the cohort template's stage values: set/unset, like any value */
	t = one(&s, 11, "Subject: s\n\n"
		       "{{#stage_warehouse}}W{{stage_warehouse}}{{/stage_warehouse}}"
		       "{{#stage_first_mile}}F{{/stage_first_mile}}"
		       "{{#stage_line_haul}}H{{/stage_line_haul}}"
		       "{{#stage_last_mile}}L{{/stage_last_mile}}"
		       "{{#stage_unknown}}U{{/stage_unknown}}"
		       "{{^stage_line_haul}}!h{{/stage_line_haul}}\n"
		       "=== html ===\n");
	if (ok(t != NULL, "the stage_* names are known")) {
		v = full;
		rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
		ok(rc == SW_OK && strcmp(m.text, "!h\n") == 0, "no stage value: none shown");
		sw_tpl_msg_free(&m);
		v.stage_line_haul = "yes";
		rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
		ok(rc == SW_OK && strcmp(m.text, "H\n") == 0, "stage_line_haul: its section only");
		sw_tpl_msg_free(&m);
		v.stage_line_haul = NULL;
		v.stage_warehouse = "x";
		v.stage_unknown = "yes";
		rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
		ok(rc == SW_OK && strcmp(m.text, "WxU!h\n") == 0, "stage_warehouse, stage_unknown");
		sw_tpl_msg_free(&m);
	}
	sw_tpl_free(s);
	t = one(&s, 12, "Subject: s\n\n{{stage_line_haul}}\n=== html ===\n");
	v = full;
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_EINVAL,
	       "{{stage_line_haul}} with no value is an error like any value's");
	sw_tpl_free(s);
	t = one(&s, 13, "Subject: s\n\nx\n=== html ===\n");

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

/* A list over the items: two parcels in text and HTML, escaping, sections
 * on item values, zero items. */
static void test_lists(void)
{
	struct sw_tpl_set *s;
	const struct sw_tpl *t;
	struct sw_tpl_msg m;
	struct sw_tpl_values v = full;
	struct sw_tpl_item bad[2];

	t = one(&s, 4, "Subject: {{order_id}}{{*parcels}} [{{p_tracking_number}}]{{/parcels}}\n"
		       "Summary:   is late  \n\n"
		       "Parcels:\n"
		       "{{*parcels}}\n"
		       "- {{p_tracking_number}} ({{p_courier}}){{#p_issue}} {{p_issue}}{{/p_issue}}.\n"
		       "{{#p_new_date}}\n"
		       "  now {{p_new_date}}\n"
		       "{{/p_new_date}}\n"
		       "{{^p_new_date}}\n"
		       "  no date ({{order_id}})\n"
		       "{{/p_new_date}}\n"
		       "{{/parcels}}\n"
		       "End.\n"
		       "=== html ===\n"
		       "<ul>\n"
		       "{{*parcels}}\n"
		       "<li>{{p_courier}}: {{p_issue}}{{#p_tracking_link}} <a href=\"{{p_tracking_link}}\">t</a>"
		       "{{/p_tracking_link}}</li>\n"
		       "{{/parcels}}\n"
		       "</ul>\n");
	if (!ok(t != NULL, "load list template: %s", errbuf))
		return;
	is_str(sw_tpl_summary(t), "is late", "summary read, trimmed");
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "render two parcels: %s",
	       errbuf);
	is_str(m.subject, "A-1001 [1Z999] [BD-7&8]", "list in the subject");
	is_str(m.text,
	       "Parcels:\n"
	       "- 1Z999 (DHL) has not arrived by the promised date.\n"
	       "  now Monday, 30 November 2026\n"
	       "- BD-7&8 (Blue <Dart>) is <b>late</b> & 'lost'.\n"
	       "  no date (A-1001)\n"
	       "End.\n",
	       "text: the body once per parcel, item sections, email values inside");
	is_str(m.html,
	       "<ul>\n"
	       "<li>DHL: has not arrived by the promised date "
	       "<a href=\"https://track.example/1Z999\">t</a></li>\n"
	       "<li>Blue &lt;Dart&gt;: is &lt;b&gt;late&lt;/b&gt; &amp; &#39;lost&#39; "
	       "<a href=\"https://track.example/BD?x=1&amp;y=&quot;2&quot;\">t</a></li>\n"
	       "</ul>\n",
	       "html: item values escaped");
	sw_tpl_msg_free(&m);

	v.n_items = 0;
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "render zero parcels");
	is_str(m.text, "Parcels:\nEnd.\n", "zero items render nothing");
	is_str(m.subject, "A-1001", "  nor in the subject");
	is_str(m.html, "<ul>\n</ul>\n", "  nor in html");
	sw_tpl_msg_free(&m);
	v.items = NULL;
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "no items: NULL array");
	sw_tpl_msg_free(&m);
	v.n_items = 1;
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_EINVAL,
	       "items NULL with n_items 1 is an error");

	memcpy(bad, two_items, sizeof(bad));
	bad[1].tracking_link = "javascript:alert(1)";
	v.items = bad;
	v.n_items = 2;
	errbuf[0] = '\0';
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_EINVAL,
	       "an item's bad link is rejected");
	ok(strstr(errbuf, "{{p_tracking_link}} of a list item is not an http(s) URL") != NULL,
	   "  says which: %s", errbuf);
	bad[1].tracking_link = NULL;
	bad[1].courier = NULL;
	errbuf[0] = '\0';
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_EINVAL,
	       "an item's NULL value in a placeholder is an error");
	ok(strstr(errbuf, "no value for {{p_courier}} of a list item") != NULL, "  says which: %s",
	   errbuf);
	ok(m.subject == NULL && m.text == NULL, "  nothing returned");
	sw_tpl_free(s);

	t = one(&s, 5, "Subject: x\n\n{{*parcels}}{{p_issue}}|{{/parcels}}\n=== html ===\n");
	if (t != NULL) {
		is_str(sw_tpl_summary(t), "", "no Summary line: \"\"");
		v = full;
		is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "inline list");
		is_str(m.text, "has not arrived by the promised date|is <b>late</b> & 'lost'|\n",
		       "inline list repeats inline");
		sw_tpl_msg_free(&m);
	}
	sw_tpl_free(s);
}

/* The locale the formatters get: the customer's when the language is the
 * template's, else the template's ("default" is English). */
static void test_format_locale(void)
{
	static const struct {
		const char *tpl_locale, *customer, *want;
	} cases[] = {
		{ "default", "en-US", "en-us" }, { "default", "en_GB", "en-gb" },
		{ "default", "en", "en" },       { "default", "gu-IN", "en" },
		{ "default", "mr", "en" },       { "default", NULL, "en" },
		{ "default", "e", "en" },        { "default", "eng", "en" },
		{ "hi", "hi-IN", "hi-in" },      { "hi", "hi", "hi" },
		{ "hi", "HI_Deva_IN", "hi-deva-in" },
		{ "hi", "en-IN", "hi" },         { "hi", "hi--IN", "hi" },
		{ "hi-in", "hi", "hi" },         { "gu", "gu-IN", "gu-in" },
		{ "ne", "ne-NP", "ne-np" },      { "ne", "new", "ne" },
	};
	struct sw_tpl_set *s;
	char buf[SW_TPL_LOCALE_MAX + 1];

	write_default("fl");
	write_simple("fl", "hi", "late");
	write_simple("fl", "hi-in", "stalled");
	write_simple("fl", "gu", "late");
	write_simple("fl", "ne", "late");
	if (!ok(load("fl", &s) == SW_OK, "load locale set: %s", errbuf))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sw_tpl *t = NULL;

		for (int k = 0; k < SW_TPL_KIND_LAST && t == NULL; k++) {
			const struct sw_tpl *c = sw_tpl_pick(s, (enum sw_tpl_kind)k,
							     cases[i].tpl_locale);

			if (strcmp(sw_tpl_locale(c), cases[i].tpl_locale) == 0)
				t = c;
		}
		if (!ok(t != NULL, "a %s template", cases[i].tpl_locale))
			continue;
		is_str(sw_tpl_format_locale(t, cases[i].customer, buf, sizeof(buf)), cases[i].want,
		       "template %s, customer %s", cases[i].tpl_locale,
		       cases[i].customer ? cases[i].customer : "NULL");
	}
	is_str(sw_tpl_format_locale(NULL, "hi", buf, sizeof(buf)), "en", "NULL template: en");
	is_str(sw_tpl_format_locale(sw_tpl_pick(s, SW_TPL_LATE, "hi"), "hi-IN", buf, 5), "en",
	       "small buffer: en");
	sw_tpl_free(s);
}

static void test_dates(void)
{
	/* 2026-12-03T18:20:00Z: 00:05 Fri 4 Dec in Kathmandu (+05:45), 23:50 Thu in
	 * Kolkata (+05:30).  New York: clocks went forward at 2026-03-08 07:00Z
	 * (01:59 EST, then 03:00 EDT) and back at 2026-11-01 06:00Z (01:30 twice). */
	static const struct {
		int64_t utc;
		const char *zone, *locale, *want;
	} cases[] = {
		{ 1796322000, "Asia/Kathmandu", "en-GB", "Friday, 4 December 2026 at 00:05" },
		{ 1796322000, "Asia/Kathmandu", "ne", "२०२६ डिसेम्बर ४, शुक्रबार: ००:०५" },
		{ 1796322000, "Asia/Kathmandu", "gu",
		  "શુક્રવાર, 4 ડિસેમ્બર, 2026 એ 12:05 AM વાગ્યે" },
		{ 1796322000, "Asia/Kolkata", "en-IN", "Thursday, 3 December, 2026 at 11:50" NNBSP "pm" },
		{ 1796322000, "Asia/Kolkata", "hi", "गुरुवार, 3 दिसंबर 2026 को 11:50 pm बजे" },
		{ 1796322000, "UTC", "default", "Thursday, December 3, 2026 at 6:20" NNBSP "PM" },
		{ 1795632300, "Asia/Kolkata", "en-GB", "Thursday, 26 November 2026 at 00:15" },
		{ 1795632300 - 901, "Asia/Kolkata", "en-GB", "Wednesday, 25 November 2026 at 23:59" },
		{ 1795632300, "America/New_York", "en-GB", "Wednesday, 25 November 2026 at 13:45" },
		{ 1772953140, "America/New_York", "en-US", "Sunday, March 8, 2026 at 1:59" NNBSP "AM" },
		{ 1772953200, "America/New_York", "en-US", "Sunday, March 8, 2026 at 3:00" NNBSP "AM" },
		{ 1793511000, "America/New_York", "en-US", "Sunday, November 1, 2026 at 1:30" NNBSP "AM" },
		{ 1793514600, "America/New_York", "en-US", "Sunday, November 1, 2026 at 1:30" NNBSP "AM" },
		{ 1793518200, "America/New_York", "en-US", "Sunday, November 1, 2026 at 2:30" NNBSP "AM" },
	};
	static const struct {
		struct sw_date d;
		const char *locale, *want;
	} dates[] = {
		{ { 2026, 12, 3 }, "en-US", "Thursday, December 3, 2026" },
		{ { 2026, 12, 3 }, "en-GB", "Thursday, 3 December 2026" },
		{ { 2026, 12, 3 }, "en-IN", "Thursday, 3 December, 2026" },
		{ { 2026, 12, 3 }, "hi", "गुरुवार, 3 दिसंबर 2026" },
		{ { 2026, 12, 3 }, "gu", "ગુરુવાર, 3 ડિસેમ્બર, 2026" },
		{ { 2026, 12, 3 }, "ne", "२०२६ डिसेम्बर ३, बिहिबार" },
		{ { 2026, 12, 3 }, "mr", "गुरुवार, ३ डिसेंबर, २०२६" },
		{ { 2026, 12, 3 }, "bn", "বৃহস্পতিবার, ৩ ডিসেম্বর, ২০২৬" },
		{ { 2026, 12, 3 }, "ta", "வியாழன், 3 டிசம்பர், 2026" },
		{ { 2026, 12, 3 }, "hi_IN", "गुरुवार, 3 दिसंबर 2026" },
		{ { 2026, 12, 3 }, "ne-u-nu-latn", "2026 डिसेम्बर 3, बिहिबार" },
		{ { 2026, 12, 3 }, "en", "Thursday, December 3, 2026" },
		{ { 2026, 12, 3 }, "default", "Thursday, December 3, 2026" },
		{ { 2026, 12, 3 }, NULL, "Thursday, December 3, 2026" },
		{ { 2026, 12, 3 }, "xx", "Thursday, December 3, 2026" },   /* no ICU data */
		{ { 2026, 12, 3 }, "hi--IN", "Thursday, December 3, 2026" }, /* malformed */
		{ { 2024, 2, 29 }, "en-GB", "Thursday, 29 February 2024" },
		{ { 1970, 1, 1 }, "en-GB", "Thursday, 1 January 1970" },
		{ { 1969, 12, 31 }, "en-GB", "Wednesday, 31 December 1969" },
		{ { 1, 1, 1 }, "en-GB", "Monday, 1 January 1" },           /* proleptic Gregorian */
		{ { 1582, 10, 4 }, "en-GB", "Monday, 4 October 1582" },
		{ { 9999, 12, 31 }, "en-GB", "Friday, 31 December 9999" },
		{ { 2026, 2, 1 }, "hi", "रविवार, 1 फ़रवरी 2026" },
		{ { 2026, 8, 15 }, "HI_in", "शनिवार, 15 अगस्त 2026" },
	};
	static const struct sw_date bad[] = { { 2026, 2, 29 }, { 2026, 13, 1 }, { 0, 1, 1 },
					      { 10000, 1, 1 }, { 2026, 1, 0 } };
	char buf[SW_TPL_DATE_STRLEN];
	struct sw_date d = { 2026, 12, 3 };

	if (!ICU_PINNED)
		printf("# ICU %s: exact strings are ICU 72's, only checked to be non-empty\n",
		       U_ICU_VERSION);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sw_err rc = sw_tpl_format_instant(cases[i].utc, cases[i].zone,
						       cases[i].locale, buf, sizeof(buf));

		is_int(rc, SW_OK, "format instant %lld %s %s", (long long)cases[i].utc,
		       cases[i].zone, cases[i].locale);
		if (ICU_PINNED)
			is_str(buf, cases[i].want, "  formatted as expected");
		else
			ok(buf[0] != '\0', "  formatted: %s", buf);
	}
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		is_int(sw_tpl_format_date(&dates[i].d, dates[i].locale, buf, sizeof(buf)), SW_OK,
		       "format date %d-%02d-%02d %s", dates[i].d.year, dates[i].d.month,
		       dates[i].d.day, dates[i].locale ? dates[i].locale : "NULL");
		if (ICU_PINNED)
			is_str(buf, dates[i].want, "  formatted as expected");
		else
			ok(buf[0] != '\0', "  formatted: %s", buf);
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
	is_int(sw_tpl_format_instant(0, "UTC", "en", NULL, 10), SW_EINVAL, "NULL buffer");
	is_int(sw_tpl_format_date(NULL, "en", buf, sizeof(buf)), SW_EINVAL, "NULL date");
	/* "Thursday, 3 December 2026" is 25 bytes: 26 with the NUL */
	is_int(sw_tpl_format_date(&d, "en-GB", buf, 25), SW_ETOOBIG, "buffer one short");
	is_str(buf, "", "  buf emptied");
	is_int(sw_tpl_format_date(&d, "en-GB", buf, 26), ICU_PINNED ? SW_OK : SW_ETOOBIG,
	       "buffer exact");
	is_int(sw_tpl_format_date(&d, "hi", buf, 26), SW_ETOOBIG, "Hindi needs more bytes");
	is_int(sw_tpl_format_date(&d, "hi", buf, 0), SW_ETOOBIG, "len 0");
}

/* The zone rules are swtime's: a zone name only our tzdata directory has
 * (ICU has never heard of it) is still formatted at its offset. */
static void test_zone_source(void)
{
	const char *old = getenv("TZDIR");
	char *saved = old ? xstrdup(old) : NULL;
	char *zdir = xasprintf("%s/zoneinfo", tmpdir);
	char *cmd = xasprintf("mkdir -p '%s/Test' && cp /usr/share/zoneinfo/Asia/Kathmandu "
			      "'%s/Test/Shifted'", zdir, zdir);
	char buf[SW_TPL_DATE_STRLEN];

	if (!ok(system(cmd) == 0, "private tzdata directory with Test/Shifted (Kathmandu)")) {
		free(cmd);
		free(zdir);
		free(saved);
		return;
	}
	setenv("TZDIR", zdir, 1);
	sw_tz_cache_clear();
	is_int(sw_tpl_format_instant(1796322000, "Test/Shifted", "en-GB", buf, sizeof(buf)), SW_OK,
	       "a zone only our tzdata knows formats");
	if (ICU_PINNED)
		is_str(buf, "Friday, 4 December 2026 at 00:05", "  at +05:45, from swtime");
	else
		ok(strstr(buf, "00:05") != NULL, "  at +05:45, from swtime: %s", buf);
	if (saved)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	sw_tz_cache_clear();
	free(cmd);
	free(zdir);
	free(saved);
}

static void test_numbers(void)
{
	static const struct {
		int64_t v;
		const char *locale, *want;
	} cases[] = {
		{ 1234567, "en", "1,234,567" },  { 1234567, "en-US", "1,234,567" },
		{ 1234567, "en-IN", "12,34,567" }, { 1234567, "hi", "12,34,567" },
		{ 1234567, "ne", "१२,३४,५६७" },   { 1234567, "mr", "१२,३४,५६७" },
		{ 1234567, "bn", "১২,৩৪,৫৬৭" },   { 1234567, "gu", "12,34,567" },
		{ 1234567, "default", "1,234,567" }, { 1234567, NULL, "1,234,567" },
		{ 2, "ne", "२" },                 { -42, "ne", "-४२" },
		{ 0, "bn", "০" },
		{ INT64_MIN, "en", "-9,223,372,036,854,775,808" },
	};
	char buf[SW_TPL_DATE_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_int(sw_tpl_format_number(cases[i].v, cases[i].locale, buf, sizeof(buf)), SW_OK,
		       "format number %lld %s", (long long)cases[i].v,
		       cases[i].locale ? cases[i].locale : "NULL");
		if (ICU_PINNED)
			is_str(buf, cases[i].want, "  formatted as expected");
		else
			ok(buf[0] != '\0', "  formatted: %s", buf);
	}
	is_int(sw_tpl_format_number(1234567, "ne", buf, 23), SW_ETOOBIG,
	       "7 Devanagari digits and 2 commas need 24 bytes");
	is_str(buf, "", "  buf emptied");
	is_int(sw_tpl_format_number(1234567, "ne", buf, 24), ICU_PINNED ? SW_OK : SW_ETOOBIG,
	       "  24 do");
	is_int(sw_tpl_format_number(1, "en", NULL, 4), SW_EINVAL, "NULL buffer");
}

/* What the shipped templates must say for one kind in English, checked on
 * the rendering with every value set. */
static const char *const en_subjects[SW_TPL_KIND_LAST] = {
	[SW_TPL_SHIP_LATE] = "Your Kite & Co order A-1001 has not shipped yet",
	[SW_TPL_NO_FIRST_SCAN] = "Your order A-1001: no courier scan yet",
	[SW_TPL_STALLED] = "Your parcel for order A-1001 has not moved for a while",
	[SW_TPL_ATTEMPT_FAIL] = "Delivery of your order A-1001 was not possible",
	[SW_TPL_EXCEPTION] = "A problem with the delivery of your order A-1001",
	[SW_TPL_RETURNING] = "Your parcel for order A-1001 is being returned to us",
	[SW_TPL_ETA_SLIP] = "Your order A-1001 will arrive later than promised",
	[SW_TPL_LATE] = "Your order A-1001 has not arrived on time",
	[SW_TPL_AVAILABLE_FOR_PICKUP] = "Your parcel for order A-1001 is waiting to be collected",
	[SW_TPL_SHIPPED] = "Good news: your order A-1001 has shipped",
	[SW_TPL_DELIVERED] = "Your parcel for order A-1001 has arrived",
	[SW_TPL_MOVING] = "Your parcel for order A-1001 is on its way again",
	[SW_TPL_COHORT] = "Your order A-1001 is delayed by a problem affecting many deliveries",
};

/* Kinds whose shipped templates tell the courier's new date (the others
 * have none to tell) and kinds with a sentence inside {{#followup}}. */
static bool shows_new_date(int k)
{
	return k != SW_TPL_SHIP_LATE && k != SW_TPL_RETURNING &&
	       k != SW_TPL_AVAILABLE_FOR_PICKUP && k != SW_TPL_DELIVERED;
}

static bool has_followup(int k)
{
	return (k < SW_TPL_SHIPPED && k != SW_TPL_RETURNING && k != SW_TPL_AVAILABLE_FOR_PICKUP) ||
	       k == SW_TPL_COHORT;
}

/* The values a template of kind k cannot do without (template headers:
 * "Needs:"), the rest unset. */
static void min_values(int k, struct sw_tpl_values *v)
{
	memset(v, 0, sizeof(*v));
	v->order_id = "A-1001";
	v->shop_name = "Kite";
	v->unsubscribe_link = "https://shop.example/u/abc";
	if (k == SW_TPL_LATE || k == SW_TPL_ETA_SLIP)
		v->delivery_date = "Thu, 26 Nov 2026";
	if (k != SW_TPL_SHIP_LATE && k != SW_TPL_LATE && k != SW_TPL_SHIPPED &&
	    k != SW_TPL_DELIVERED && k != SW_TPL_COHORT) {
		v->courier = "DHL";
		v->tracking_number = "1Z999";
	}
}

static bool no_tags(const struct sw_tpl_msg *m)
{
	return !strstr(m->subject, "{{") && !strstr(m->text, "{{") && !strstr(m->html, "{{") &&
	       !strstr(m->text, "}}") && !strstr(m->html, "}}");
}

/* One shipped template with every value, then with the required ones only. */
static void check_shipped(const struct sw_tpl *t, int k, const char *loc)
{
	const char *kn = sw_tpl_kind_name((enum sw_tpl_kind)k);
	struct sw_tpl_values v = full, min;
	struct sw_tpl_msg m, m2;
	enum sw_err rc;

	ok(sw_tpl_summary(t)[0] != '\0' && !strchr(sw_tpl_summary(t), '.'),
	   "%s %s: a Summary phrase: %s", loc, kn, sw_tpl_summary(t));
	rc = sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf));
	if (!ok(rc == SW_OK, "%s %s renders with every value: %s", loc, kn, rc ? errbuf : ""))
		return;
	if (strcmp(loc, "default") == 0)
		is_str(m.subject, en_subjects[k], "  English subject");
	ok(strstr(m.subject, "A-1001") && strstr(m.text, "A-1001") && strstr(m.html, "A-1001"),
	   "  order id in every part");
	ok(no_tags(&m), "  no placeholder left");
	ok(strstr(m.text, "https://shop.example/u/abc") &&
		   strstr(m.html, "href=\"https://shop.example/u/abc\""),
	   "  unsubscribe link in text and html");
	ok(strstr(m.text, full.tracking_link) &&
		   strstr(m.html, "https://track.example/1Z999?a=1&amp;b=2"),
	   "  tracking link in text and html (escaped)");
	ok(strstr(m.html, "Kite &amp; Co") && !strstr(m.html, "Kite & Co") &&
		   !strstr(m.html, "<Dart>") && strstr(m.html, "Blue &lt;Dart&gt;"),
	   "  values escaped in html, items' too");
	ok(strstr(m.text, "BD-7&8") && strstr(m.html, "BD-7&amp;8") &&
		   strstr(m.text, two_items[0].issue) && strstr(m.text, "Monday, 30 November 2026"),
	   "  {{#others}}: both parcels listed with their issue and new date");
	if (shows_new_date(k))
		ok(strstr(m.text, "Mon, 30 Nov 2026") != NULL, "  new date shown");
	if (k == SW_TPL_SHIP_LATE)
		ok(strstr(m.text, "Tue, 24 Nov 2026") && strstr(m.text, "Thu, 26 Nov 2026"),
		   "  ship-by and delivery promises both told");
	ok(strpbrk(m.subject, "\r\n") == NULL && strlen(m.subject) > 10, "  subject one line: %s",
	   m.subject);

	v.followup = NULL;
	rc = sw_tpl_render(t, &v, &m2, errbuf, sizeof(errbuf));
	ok(rc == SW_OK && (strcmp(m.text, m2.text) != 0) == has_followup(k) &&
		   (strcmp(m.html, m2.html) != 0) == has_followup(k),
	   "  another email promised only inside {{#followup}}%s",
	   has_followup(k) ? "" : " (none for this kind)");
	if (rc == SW_OK && strcmp(loc, "default") == 0)
		ok(!strstr(m2.text, "email you again") && !strstr(m2.html, "email you again"),
		   "  no \"email you again\" without followup");
	sw_tpl_msg_free(&m2);
	sw_tpl_msg_free(&m);

	min_values(k, &min);
	rc = sw_tpl_render(t, &min, &m2, errbuf, sizeof(errbuf));
	if (ok(rc == SW_OK, "  renders with required values only: %s", rc ? errbuf : "ok")) {
		ok(!strstr(m2.text, "track.example") && !strstr(m2.text, "Mon, 30") &&
			   !strstr(m2.text, "Tue, 24") && !strstr(m2.text, "\n\n\n") &&
			   no_tags(&m2),
		   "  optional parts left out, no empty paragraphs");
		if (k == SW_TPL_LATE || k == SW_TPL_ETA_SLIP)
			ok(strstr(m2.text, "Thu, 26 Nov 2026") != NULL, "  delivery promise told");
	}
	sw_tpl_msg_free(&m2);
}

/* Every shipped template loads and renders for every kind and locale; the
 * fallback chain of customer locales never fails. */
static void test_shipped(void)
{
	const char *src = getenv("SW_SRCDIR");
	char *dir = xasprintf("%s/alerts/templates", src && *src ? src : ".");
	static const char *const locales[] = { "default", "hi", "gu", "ne" };
	static const struct {
		const char *customer, *picks;
	} chain[] = {
		{ "gu-IN", "gu" }, { "gu", "gu" },        { "mr", "default" }, { "mr-IN", "default" },
		{ "hi-IN", "hi" }, { "ne-NP", "ne" },     { "en-US", "default" }, { NULL, "default" },
		{ "", "default" }, { "x", "default" },    { "gu-Gujr-IN", "gu" },
	};
	struct sw_tpl_set *s = NULL;
	enum sw_err rc = sw_tpl_load(dir, &s, errbuf, sizeof(errbuf));

	free(dir);
	if (!ok(rc == SW_OK, "shipped templates load: %s", rc ? errbuf : "ok"))
		return;
	for (int k = 0; k < SW_TPL_KIND_LAST; k++) {
		for (size_t l = 0; l < sizeof(locales) / sizeof(locales[0]); l++) {
			const struct sw_tpl *t = sw_tpl_pick(s, (enum sw_tpl_kind)k, locales[l]);

			if (!ok(t && strcmp(sw_tpl_locale(t), locales[l]) == 0, "%s %s: own template",
				locales[l], sw_tpl_kind_name((enum sw_tpl_kind)k)))
				continue;
			check_shipped(t, k, locales[l]);
		}
		for (size_t c = 0; c < sizeof(chain) / sizeof(chain[0]); c++) {
			const struct sw_tpl *t = sw_tpl_pick(s, (enum sw_tpl_kind)k, chain[c].customer);

			ok(t && strcmp(sw_tpl_locale(t), chain[c].picks) == 0, "  customer %s -> %s",
			   chain[c].customer ? chain[c].customer : "NULL", chain[c].picks);
		}
	}
	sw_tpl_free(s);
}

/* The cohort template in every shipped locale: each stage value words its
 * own cause (exactly one is set), with and without a courier (an order
 * cohort has none); no stage value: no cause paragraph, nothing broken. */
static void test_shipped_cohort(void)
{
	const char *src = getenv("SW_SRCDIR");
	char *dir = xasprintf("%s/alerts/templates", src && *src ? src : ".");
	static const char *const locales[] = { "default", "hi", "gu", "ne" };
	static const char *const en_cause[] = {
		"Our warehouse is behind with dispatching orders",
		"Many parcels handed to DHL are taking longer than usual to be collected",
		"A problem at DHL's hubs is delaying deliveries to your area",
		"DHL's local deliveries in your area are running behind",
		"A problem affecting many deliveries like yours",
	};
	struct sw_tpl_set *s = NULL;

	if (!ok(sw_tpl_load(dir, &s, errbuf, sizeof(errbuf)) == SW_OK, "cohort: templates load")) {
		printf("#   %s\n", errbuf);
		free(dir);
		return;
	}
	free(dir);
	for (size_t l = 0; l < sizeof(locales) / sizeof(locales[0]); l++) {
		const struct sw_tpl *t = sw_tpl_pick(s, SW_TPL_COHORT, locales[l]);
		char *texts[5] = { NULL };
		struct sw_tpl_msg m;
		bool distinct = true, courier_named = true;

		for (int st = 0; st < 5; st++) {
			struct sw_tpl_values v = full;
			const char **stage[] = { &v.stage_warehouse, &v.stage_first_mile,
						 &v.stage_line_haul, &v.stage_last_mile,
						 &v.stage_unknown };

			*stage[st] = "yes";
			errbuf[0] = '\0';
			if (!ok(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)) == SW_OK,
				"%s cohort, stage %d: renders%s%s", locales[l], st, *errbuf ? ": " : "",
				errbuf))
				continue;
			if (strcmp(locales[l], "default") == 0)
				ok(strstr(m.text, en_cause[st]) && strstr(m.html, en_cause[st]),
				   "  English cause: %s", en_cause[st]);
			courier_named = courier_named && (st == 0 || strstr(m.text, "DHL"));
			for (int o = 0; o < st; o++)
				distinct = distinct && texts[o] && strcmp(texts[o], m.text) != 0;
			texts[st] = xstrdup(m.text);
			sw_tpl_msg_free(&m);

			v.courier = NULL; /* an order cohort: no courier, no parcel */
			v.tracking_number = NULL;
			v.tracking_link = NULL;
			ok(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)) == SW_OK && no_tags(&m) &&
				   !strstr(m.text, "\n\n\n"),
			   "  and without a courier or parcel%s%s", *errbuf ? ": " : "", errbuf);
			sw_tpl_msg_free(&m);
		}
		ok(distinct, "%s cohort: each stage words its own cause", locales[l]);
		ok(courier_named, "%s cohort: a courier's stage names the courier", locales[l]);
		for (int st = 0; st < 5; st++)
			free(texts[st]);
	}
	sw_tpl_free(s);
}

/* A Nepali customer's late email end to end: the locale, the date in it,
 * the item issue from another kind's Summary in the same language. */
static void test_shipped_nepali(void)
{
	const char *src = getenv("SW_SRCDIR");
	char *dir = xasprintf("%s/alerts/templates", src && *src ? src : ".");
	char loc[SW_TPL_LOCALE_MAX + 1], date[SW_TPL_DATE_STRLEN], count[SW_TPL_DATE_STRLEN];
	struct sw_date d = { 2026, 12, 3 };
	struct sw_tpl_item items[2] = { two_items[0], two_items[1] };
	struct sw_tpl_values v = full;
	const struct sw_tpl *t, *t2;
	struct sw_tpl_set *s = NULL;
	struct sw_tpl_msg m;

	if (sw_tpl_load(dir, &s, errbuf, sizeof(errbuf)) != SW_OK) {
		free(dir);
		return;
	}
	free(dir);
	t = sw_tpl_pick(s, SW_TPL_LATE, "ne-NP");
	t2 = sw_tpl_pick(s, SW_TPL_STALLED, "ne-NP");
	is_str(sw_tpl_format_locale(t, "ne-NP", loc, sizeof(loc)), "ne-np", "ne-NP formats in ne-np");
	is_int(sw_tpl_format_date(&d, loc, date, sizeof(date)), SW_OK, "  its date");
	is_int(sw_tpl_format_number(2, loc, count, sizeof(count)), SW_OK, "  its number");
	items[0].issue = sw_tpl_summary(t);
	items[1].issue = sw_tpl_summary(t2);
	v.delivery_date = date;
	v.parcel_count = count;
	v.items = items;
	is_int(sw_tpl_render(t, &v, &m, errbuf, sizeof(errbuf)), SW_OK, "  renders: %s", errbuf);
	if (ICU_PINNED)
		ok(m.text && strstr(m.text, "हामीले २०२६ डिसेम्बर ३, बिहिबार सम्ममा डेलिभरी गर्ने वाचा"),
		   "  the delivery promise in Nepali with Devanagari digits");
	ok(m.text && strstr(m.text, "पार्सल 1Z999 (DHL) वाचा गरिएको मितिसम्म आइपुगेको छैन।") &&
		   strstr(m.text, "पार्सल BD-7&8 (Blue <Dart>) केही समयदेखि अगाडि बढेको छैन।"),
	   "  each parcel with its kind's Nepali summary");
	sw_tpl_msg_free(&m);
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
	test_lists();
	test_format_locale();
	test_dates();
	test_zone_source();
	test_numbers();
	test_shipped();
	test_shipped_nepali();
	test_shipped_cohort();
	sw_tz_cache_clear();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
