/*
 * test_pages_conf.c - unit tests for alerts/pages_conf.c (the on-call
 * configuration).
 *
 * The cases are data: every tests/data/conf/NNN-pages-*.conf, in name
 * order.  A case opens with comment lines:
 *   ; expect: ok              the file loads; then the dump loads again to
 *                             the same settings (its text is the same)
 *   ; expect: LINE: MESSAGE   sw_pages_conf_load fails with exactly
 *                             "FILE:LINE: MESSAGE", also when checked as
 *                             text only (another program's -t)
 *   ; dump-has: TEXT          (ok cases) TEXT is a whole line of the dump
 * Adding a case is adding a file.  The functions the data cannot express
 * (route lookup, receiver lookup, the defaults that depend on the host,
 * the section limits, the shipped example) are tested below.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/pages.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

#define ERR_LEN 8192

static const char *data_dir(void)
{
	const char *dir = getenv("SW_TEST_DATA");

	return dir && *dir ? dir : "tests/data";
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	struct sw_buf b;
	char line[4096], *s;

	if (!f)
		return NULL;
	sw_buf_init(&b, 1 << 20);
	while (fgets(line, sizeof(line), f))
		sw_buf_printf(&b, "%s", line);
	fclose(f);
	s = xstrdup(sw_buf_str(&b));
	sw_buf_free(&b);
	return s;
}

/* The value of the first "; KEY: value" header line, copied; NULL if none. */
static char *header(const char *text, const char *key)
{
	char prefix[64];
	const char *p = text;

	snprintf(prefix, sizeof(prefix), "; %s: ", key);
	while (p && *p) {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return xasprintf("%.*s", (int)(n - strlen(prefix)), p + strlen(prefix));
		p += n;
		p += *p == '\n';
	}
	return NULL;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static char *dump_text(const struct sw_pages_conf *c)
{
	struct sw_buf b;
	char *s;

	sw_buf_init(&b, 1 << 22);
	sw_pages_conf_dump(c, &b);
	s = xstrdup(sw_buf_str(&b));
	sw_buf_free(&b);
	return s;
}

/* The [receiver NAME] sections of text, whole (the receivers' dump shows
 * secrets as where they come from, which does not load again). */
static char *receiver_sections(const char *text)
{
	struct sw_buf b;
	bool in = false;
	char *s;

	sw_buf_init(&b, 1 << 20);
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		if (*p == '[')
			in = strncmp(p, "[receiver ", 10) == 0;
		if (in)
			sw_buf_printf(&b, "%.*s\n", (int)n, p);
		p += n;
		p += *p == '\n';
	}
	s = xstrdup(sw_buf_str(&b));
	sw_buf_free(&b);
	return s;
}

/* Loads text (named name) into c; err gets the message of any failure. */
static enum sw_err load_text(const char *text, const char *name, bool text_only,
			     struct sw_pages_conf *c, char *err)
{
	struct sw_conf *file;
	enum sw_err rc;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	if ((rc = sw_conf_load_string(text, name, &file, err, ERR_LEN)))
		return rc;
	sw_conf_set_text_only(file, text_only);
	rc = sw_pages_conf_load(file, c, err, ERR_LEN);
	sw_conf_free(file);
	return rc;
}

/* The dump, with the file's own receivers, loads to the same dump. */
static void round_trip(const char *name, const char *text, const struct sw_pages_conf *c)
{
	char *d1 = dump_text(c), *head = xstrdup(d1), *recv = receiver_sections(text);
	char *cut, *again, *d2, err[ERR_LEN];
	struct sw_pages_conf c2;

	cut = strstr(head, "\n[receiver ");
	if (cut)
		cut[1] = '\0';
	again = xasprintf("%s\n%s", head, recv);
	if (ok(load_text(again, "dump", false, &c2, err) == SW_OK, "%s: the dump loads again",
	       name)) {
		d2 = dump_text(&c2);
		is_str(d2, d1, "%s: ...to the same settings", name);
		free(d2);
	} else {
		printf("#   %s\n# the text loaded:\n%s", err, again);
	}
	sw_pages_conf_free(&c2);
	free(again), free(recv), free(head), free(d1);
}

static void good_case(const char *name, const char *text, const struct sw_pages_conf *c)
{
	char *d = dump_text(c);

	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, "; dump-has: ", 12) == 0) {
			char *want = xasprintf("%.*s", (int)(n - 12), p + 12);

			if (!ok(has_line(d, want), "%s: the dump has '%s'", name, want))
				printf("# dump:\n%s", d);
			free(want);
		}
		p += n;
		p += *p == '\n';
	}
	free(d);
	round_trip(name, text, c);
}

static void run_case(const char *name)
{
	char *path = xasprintf("%s/conf/%s", data_dir(), name);
	char *text = read_text(path), *expect, *want, err[ERR_LEN];
	struct sw_pages_conf c;
	enum sw_err rc;

	expect = text ? header(text, "expect") : NULL;
	if (!ok(expect != NULL, "%s: has an expect line", name))
		goto out;
	rc = load_text(text, path, false, &c, err);
	if (strcmp(expect, "ok") == 0) {
		if (ok(rc == SW_OK, "%s: loads", name))
			good_case(name, text, &c);
		else
			printf("#   %s\n", err);
		sw_pages_conf_free(&c);
		goto out;
	}
	want = xasprintf("%s:%s", path, expect);
	is_int(rc, SW_ECONF, "%s: refused", name);
	is_str(err, want, "%s: names file:line and what", name);
	rc = load_text(text, path, true, &c, err);
	is_str(err, want, "%s: the same as text only", name);
	free(want);
out:
	free(expect);
	free(text);
	free(path);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_cases(void)
{
	char *dpath = xasprintf("%s/conf", data_dir());
	DIR *d = opendir(dpath);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;

	if (!ok(d != NULL, "open %s", dpath))
		return;
	while ((e = readdir(d)) != NULL) {
		const char *s = e->d_name;
		size_t len = strlen(s);

		if (len > 15 && strspn(s, "0123456789") == 3 && strncmp(s + 3, "-pages-", 7) == 0 &&
		    strcmp(s + len - 5, ".conf") == 0) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(s);
		}
	}
	closedir(d);
	ok(n >= 20, "%zu pages cases", n);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		run_case(names[i]);
		free(names[i]);
	}
	free(names);
	free(dpath);
}

/* ---- what the data cannot say ------------------------------------------------ */

static const char routes_text[] = "[receiver a]\nchannel = email\nto = a@x.example\n"
				  "[receiver b]\nchannel = email\nto = b@x.example\n"
				  "[route crit-logistics]\nmatch = severity=critical, team=logistics\n"
				  "receiver = a\n"
				  "[route logistics]\nmatch = team=logistics\nreceiver = b\n"
				  "[route dhl]\nmatch = courier=~dhl|dhl-.*\nreceiver = a\n";

static void test_route_lookup(void)
{
	struct sw_pages_conf c;
	char err[ERR_LEN], *text;
	const struct sw_page_route *r;

	if (!ok(load_text(routes_text, "t.conf", false, &c, err) == SW_OK, "routes load"))
		printf("#   %s\n", err);
	is_int(c.n_routes, 3, "three routes");
	is_str(c.routes[0].name, "crit-logistics", "in file order");
	is_str(c.routes[2].name, "dhl", "...to the last");
	r = sw_pages_route(&c, "severity=critical,team=logistics");
	is_str(r ? r->name : NULL, "crit-logistics", "the first route whose match holds");
	r = sw_pages_route(&c, "severity=warning,team=logistics");
	is_str(r ? r->name : NULL, "logistics", "...not a route an earlier one does not match");
	r = sw_pages_route(&c, "courier=dhl-express,severity=critical,team=logistics");
	is_str(r ? r->name : NULL, "crit-logistics", "...the first even when later ones match");
	r = sw_pages_route(&c, "courier=dhl-express,severity=warning");
	is_str(r ? r->name : NULL, "dhl", "a regex matcher, anchored");
	ok(sw_pages_route(&c, "courier=xdhl,severity=warning") == NULL,
	   "no route matches: NULL ([pages] receiver applies)");
	ok(sw_pages_receiver(&c, "b") == &c.receivers[1], "sw_pages_receiver finds by name");
	ok(sw_pages_receiver(&c, "c") == NULL, "...NULL for an unknown one");
	ok(sw_pages_receiver(&c, NULL) == NULL, "...and for NULL");
	sw_pages_conf_free(&c);

	text = xasprintf("%s[route all]\nmatch =\nreceiver = b\n", routes_text);
	load_text(text, "t.conf", false, &c, err);
	r = sw_pages_route(&c, "courier=ups,severity=warning");
	is_str(r ? r->name : NULL, "all", "an empty match takes every page");
	ok(c.n_routes == 4 && c.routes[3].match == NULL, "...kept as NULL");
	sw_pages_conf_free(&c);
	free(text);
}

static void test_defaults(void)
{
	struct sw_pages_conf c;
	char err[ERR_LEN], host[256] = "";

	ok(load_text("", "empty.conf", false, &c, err) == SW_OK, "an empty file loads");
	is_int(c.n_rules + c.n_routes + c.n_receivers, 0, "...no rules, routes or receivers");
	is_int(c.interval_ms, 60000, "interval 1m");
	is_int(c.repeat_s, 4 * 3600, "repeat_interval 4h");
	is_int(c.flap_window_s, 1800, "flap_window 30m");
	is_int(c.flap_limit, 4, "flap_limit 4");
	ok(c.receiver == NULL, "no default receiver");
	is_int(c.lease_s, 60, "lease 60s");
	is_int(c.retry_min_s, 30, "retry_min 30s");
	is_int(c.retry_max_s, 600, "retry_max 10m");
	is_int(c.give_up_after_s, 86400, "give_up_after 1d");
	gethostname(host, sizeof(host) - 1);
	is_str(c.source, host[0] ? host : "slipwatch", "source: the host name");
	sw_pages_conf_free(&c);
	ok(c.source == NULL && c.rules == NULL, "free clears the struct");
	sw_pages_conf_free(&c);
	ok(1, "...and may be called again");
}

static void test_rule_fields(void)
{
	static const char text[] = "[pages]\nreceiver = r\n"
				   "[receiver r]\nchannel = email\nto = r@x.example\n"
				   "[page lag]\nsignal = journal_lag\ncritical = 600\n"
				   "nodata_severity = critical\n"
				   "[page ontime]\nsignal = courier_ontime\nwarning = 97.5\n"
				   "match = courier!=local\n";
	struct sw_pages_conf c;
	char err[ERR_LEN];

	if (!ok(load_text(text, "t.conf", false, &c, err) == SW_OK, "rules load"))
		printf("#   %s\n", err);
	is_int(c.n_rules, 2, "two rules");
	ok(c.rules[0].signal == sw_signal_find("journal_lag"), "the signal's row");
	ok(!c.rules[0].has_warning && c.rules[0].has_critical, "critical only");
	ok(c.rules[0].recover == 600, "recover defaults to critical when warning is not set");
	is_int(c.rules[0].nodata_severity, SW_SEV_CRITICAL, "nodata_severity critical");
	is_str(c.rules[0].labels, "", "labels: empty, not NULL");
	ok(c.rules[0].match == NULL && c.rules[0].description == NULL, "no match, no description");
	ok(!c.rules[0].cohort_message, "customer_message per_parcel by default");
	ok(c.rules[1].has_warning && !c.rules[1].has_critical, "warning only");
	ok(c.rules[1].recover == 97.5, "recover defaults to warning");
	is_int(c.rules[1].nodata_severity, SW_SEV_WARNING, "nodata_severity warning by default");
	is_int(c.rules[1].nodata_after_s, 900, "nodata_after 15m with the default 60s step");
	ok(sw_matchers_match(c.rules[1].match, "courier=dhl"), "match parsed: holds");
	ok(!sw_matchers_match(c.rules[1].match, "courier=local"), "...and does not");
	sw_pages_conf_free(&c);
}

/* n [kind NAME] sections, each with lines. */
static char *many(const char *head, const char *kind, size_t n, const char *lines)
{
	struct sw_buf b;
	char *s;

	sw_buf_init(&b, 1 << 22);
	sw_buf_printf(&b, "%s", head);
	for (size_t i = 0; i < n; i++)
		sw_buf_printf(&b, "[%s s%zu]\n%s", kind, i, lines);
	s = xstrdup(sw_buf_str(&b));
	sw_buf_free(&b);
	return s;
}

static void test_limits(void)
{
	static const char head[] = "[pages]\nreceiver = r\n[receiver r]\nchannel = email\n"
				   "to = r@x.example\n";
	struct sw_pages_conf c;
	char err[ERR_LEN], *text, *want;

	text = many(head, "page", SW_PAGES_MAX_RULES, "signal = journal_lag\nwarning = 1\n");
	ok(load_text(text, "t.conf", false, &c, err) == SW_OK, "%d rules load", SW_PAGES_MAX_RULES);
	sw_pages_conf_free(&c);
	free(text);
	text = many(head, "page", SW_PAGES_MAX_RULES + 1, "signal = journal_lag\nwarning = 1\n");
	want = xasprintf("t.conf:%d: [page s%d]: more than %d [page] sections",
			 6 + 3 * SW_PAGES_MAX_RULES, SW_PAGES_MAX_RULES, SW_PAGES_MAX_RULES);
	load_text(text, "t.conf", false, &c, err);
	is_str(err, want, "one more is refused at its header");
	free(want);
	free(text);
	text = many(head, "route", SW_PAGES_MAX_ROUTES + 1, "receiver = r\n");
	want = xasprintf("t.conf:%d: [route s%d]: more than %d [route] sections",
			 6 + 2 * SW_PAGES_MAX_ROUTES, SW_PAGES_MAX_ROUTES, SW_PAGES_MAX_ROUTES);
	load_text(text, "t.conf", false, &c, err);
	is_str(err, want, "%d routes are refused", SW_PAGES_MAX_ROUTES + 1);
	free(want);
	free(text);
}

/* slipwatch.conf.example's on-call part: as shipped (email only), and with
 * its disabled receivers and routes enabled (';' directly before a key or
 * a '[' after the on-call header), their secrets given. */
static char *example_enabled(const char *text)
{
	const char *start = strstr(text, "; ---- on-call pages");
	struct sw_buf b;
	char *s;

	sw_buf_init(&b, 1 << 22);
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		bool on = start && p > start && p[0] == ';' &&
			  (p[1] == '[' || (p[1] >= 'a' && p[1] <= 'z'));

		sw_buf_printf(&b, "%.*s\n", (int)(on ? n - 1 : n), on ? p + 1 : p);
		p += n;
		p += *p == '\n';
	}
	s = xstrdup(sw_buf_str(&b));
	sw_buf_free(&b);
	return s;
}

static void test_example(void)
{
	const char *src = getenv("SW_SRCDIR");
	char *path = xasprintf("%s/slipwatch.conf.example", src && *src ? src : ".");
	char *text = read_text(path), *on, err[ERR_LEN];
	const struct sw_page_route *r;
	struct sw_pages_conf c;

	if (!ok(text != NULL, "read %s", path))
		return;
	if (!ok(load_text(text, path, false, &c, err) == SW_OK, "the example's on-call part loads"))
		printf("#   %s\n", err);
	is_str(c.receiver, "oncall-mail", "...everything to the on-call mailbox");
	is_int(c.n_routes, 0, "...no route enabled as shipped");
	for (size_t i = 0; sw_signal_table[i]; i++) {
		bool found = false;

		for (size_t j = 0; j < c.n_rules; j++)
			found = found || c.rules[j].signal == sw_signal_table[i];
		ok(found, "the example has a rule for %s", sw_signal_table[i]->name);
	}
	sw_pages_conf_free(&c);

	on = example_enabled(text);
	setenv("SLIPWATCH_PAGERDUTY_KEY", "0123456789abcdef0123456789abcdef", 1);
	setenv("SLIPWATCH_SLACK_URL", "https://hooks.slack.com/services/T00/B00/XXXXXXXX", 1);
	if (!ok(load_text(on, path, false, &c, err) == SW_OK,
		"with PagerDuty, Slack and the routes enabled it loads"))
		printf("#   %s\n", err);
	is_int(c.n_routes, 2, "...two routes");
	r = sw_pages_route(&c, "courier=dhl,rule=courier-ontime,severity=critical,team=logistics");
	ok(r && strcmp(r->receiver, "pagerduty") == 0 && r->escalate_to &&
	       strcmp(r->escalate_to, "ops-lead") == 0 && r->escalate_after_s == 900,
	   "...critical pages go to PagerDuty, escalated to ops-lead after 15m");
	r = sw_pages_route(&c, "courier=dhl,rule=courier-ontime,severity=warning,team=logistics");
	ok(r && strcmp(r->receiver, "ops-slack") == 0, "...warnings to Slack");
	ok(sw_pages_receiver(&c, "pagerduty") && sw_pages_receiver(&c, "ops-slack"),
	   "...both receivers loaded");
	sw_pages_conf_free(&c);
	unsetenv("SLIPWATCH_PAGERDUTY_KEY");
	if (load_text(on, path, false, &c, err) == SW_OK)
		sw_pages_conf_free(&c);
	ok(strstr(err, "SLIPWATCH_PAGERDUTY_KEY") != NULL,
	   "...and without the routing key it says which secret is missing");
	free(on);
	free(text);
	free(path);
}

int main(void)
{
	test_cases();
	test_route_lookup();
	test_defaults();
	test_rule_fields();
	test_limits();
	test_example();
	return tap_done();
}
