/*
 * test_probes.c - unit tests for the probes' framework: probes/probe.c
 * (naming an instance, samples, the median), the table (sw_probe_find),
 * probes/conf.c (the [probes] and [canary NAME] part) and the feed kind
 * (probes/probe_feed.c) against a store with known events.
 *
 * The configuration cases are data: every tests/data/conf/NNN-probes-*.conf,
 * in name order.  A case opens with comment lines:
 *   ; expect: ok              the file loads
 *   ; expect: LINE: MESSAGE   the part refuses it with exactly
 *                             "FILE:LINE: MESSAGE", also as text only
 *   ; dump-has: TEXT          (ok cases) TEXT is a whole line of the dump
 * Adding a case is adding a file.  A [courier NAME] in a case takes its
 * key from the environment variable SW_TEST_PROBES_KEY, set here.
 */
#include "config.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/store_feeds.h"
#include "lib/store_signals.h"
#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/kinds.h"
#include "probes/probe.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define ERR_LEN			       8192
#define NOW			       INT64_C(1795521600) /* 2026-11-24T12:00:00Z */
#define is_double(got, want, eps, ...) ok(fabs((got) - (want)) <= (eps), __VA_ARGS__)

/* ---- probe.c and the table ------------------------------------------------ */

static void test_name(void)
{
	struct sw_probe_result r;
	char id[80];

	memset(&r, 0, sizeof(r));
	ok(sw_probe_name("courier_api", "dhl", &r), "courier_api + dhl");
	is_str(r.name, "courier_api-dhl", "  named <kind>-<id>");
	ok(sw_probe_name("broker", "", &r), "broker + \"\"");
	is_str(r.name, "broker", "  named <kind> alone");
	ok(sw_probe_name("smtp", NULL, &r), "smtp + NULL");
	is_str(r.name, "smtp", "  named <kind> alone");
	ok(!sw_probe_name("feed", "w/1", &r), "a '/' in the id is refused");
	is_str(r.name, "", "  and the name is empty");
	ok(!sw_probe_name("feed", "w 1", &r), "a blank in the id is refused");
	ok(!sw_probe_name("", "x", &r), "an empty kind is refused");
	ok(!sw_probe_name(".feed", "", &r), "a name starting with '.' is refused");
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	ok(!sw_probe_name("feed", id, &r), "a name longer than SW_PROBE_NAME_MAX is refused");
	id[SW_PROBE_NAME_MAX - 6] = '\0'; /* "feed-" + id + NUL fills it exactly */
	ok(sw_probe_name("feed", id, &r), "a name of SW_PROBE_NAME_MAX - 1 bytes fits");
}

static void test_samples(void)
{
	struct sw_probe_result r;

	memset(&r, 0, sizeof(r));
	is_double(sw_probe_median(&r), -1, 0, "no sample: median -1");
	sw_probe_sample(&r, true, 0.3);
	sw_probe_sample(&r, false, 9);
	sw_probe_sample(&r, true, 0.1);
	sw_probe_sample(&r, true, 0.2);
	is_int(r.sent, 4, "4 samples sent");
	is_int(r.lost, 1, "1 lost");
	is_int(r.n_lat, 3, "3 latencies kept");
	is_double(sw_probe_median(&r), 0.2, 1e-12, "odd count: the middle one");
	ok(r.lat[0] == 0.1 && r.lat[1] == 0.2 && r.lat[2] == 0.3, "  lat sorted ascending");
	sw_probe_sample(&r, true, 0.5);
	is_double(sw_probe_median(&r), 0.25, 1e-12, "even count: the mean of the middle two");
	sw_probe_sample(&r, true, -1);
	is_int(r.lost, 2, "a negative latency counts as lost");
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < SW_PROBE_SAMPLES_MAX + 2; i++)
		sw_probe_sample(&r, true, i);
	is_int(r.n_lat, SW_PROBE_SAMPLES_MAX, "never more than SW_PROBE_SAMPLES_MAX latencies");
	is_int(r.sent - r.lost, r.n_lat, "  the others count as lost");
}

static void test_find(void)
{
	ok(sw_probe_find("feed") == &sw_probe_feed, "feed is in the table");
	ok(sw_probe_find("nope") == NULL, "an unknown kind is not");
	ok(sw_probe_find(NULL) == NULL, "NULL is not");
	for (size_t i = 0; sw_probe_table[i]; i++)
		ok(sw_probe_table[i]->kind && sw_probe_table[i]->what &&
		       sw_probe_table[i]->instances && sw_probe_table[i]->run,
		   "row %zu (%s) is complete", i, sw_probe_table[i]->kind);
}

/* ---- the configuration part ------------------------------------------------ */

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
	size_t plen;

	snprintf(prefix, sizeof(prefix), "; %s: ", key);
	plen = strlen(prefix);
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, prefix, plen) == 0)
			return xasprintf("%.*s", (int)(n - plen), p + plen);
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

/* Applies the part to text; *ret_state set on SW_OK. */
static enum sw_err load_text(const char *text, const char *name, bool text_only, void **ret_state,
			     char *err)
{
	struct sw_conf *file;
	enum sw_err rc;

	*ret_state = NULL;
	err[0] = '\0';
	if ((rc = sw_conf_load_string(text, name, &file, err, ERR_LEN)))
		return rc;
	sw_conf_set_text_only(file, text_only);
	rc = sw_probes_part.configure(file, ret_state, err, ERR_LEN);
	sw_conf_free(file);
	return rc;
}

static void good_case(const char *name, const char *text, void *state)
{
	struct sw_buf b;

	sw_buf_init(&b, 1 << 20);
	sw_probes_part.dump(state, &b);
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, "; dump-has: ", 12) == 0) {
			char *want = xasprintf("%.*s", (int)(n - 12), p + 12);

			if (!ok(has_line(sw_buf_str(&b), want), "%s: the dump has '%s'", name,
				want))
				printf("# dump:\n%s", sw_buf_str(&b));
			free(want);
		}
		p += n;
		p += *p == '\n';
	}
	sw_buf_free(&b);
}

static void run_case(const char *name)
{
	char *path = xasprintf("%s/conf/%s", data_dir(), name);
	char *text = read_text(path), *expect, *want, err[ERR_LEN];
	void *state = NULL;
	enum sw_err rc;

	expect = text ? header(text, "expect") : NULL;
	if (!ok(expect != NULL, "%s: has an expect line", name))
		goto out;
	rc = load_text(text, path, false, &state, err);
	if (strcmp(expect, "ok") == 0) {
		if (ok(rc == SW_OK, "%s: loads", name))
			good_case(name, text, state);
		else
			printf("#   %s\n", err);
		sw_probes_part.free_state(state);
		rc = load_text(text, path, true, &state, err);
		ok(rc == SW_OK, "%s: loads as text only", name);
		sw_probes_part.free_state(state);
		goto out;
	}
	want = xasprintf("%s:%s", path, expect);
	is_int(rc, SW_ECONF, "%s: refused", name);
	is_str(err, want, "%s: names file:line and what", name);
	sw_probes_part.free_state(state);
	load_text(text, path, true, &state, err);
	is_str(err, want, "%s: the same as text only", name);
	sw_probes_part.free_state(state);
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

static void test_conf_cases(void)
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

		if (len > 16 && strspn(s, "0123456789") == 3 &&
		    strncmp(s + 3, "-probes-", 8) == 0 && strcmp(s + len - 5, ".conf") == 0) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(s);
		}
	}
	closedir(d);
	ok(n >= 8, "%zu probes cases", n);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		run_case(names[i]);
		free(names[i]);
	}
	free(names);
	free(dpath);
}

/* What the data cannot say: the canary's fields and the targets. */
static void test_conf_fields(void)
{
	static const char text[] = "[probes]\nsamples = 3\nfeed_max_silence = 2h\n"
				   "[courier dhl]\napi_key_env = SW_TEST_PROBES_KEY\n"
				   "[canary dhl]\ncourier = dhl\ntracking_number = 00340434\n"
				   "max_age = 30d\n"
				   "[mqtt]\nhost = 127.0.0.1\n"
				   "[smtp]\nurl = smtp://127.0.0.1:2525\n";
	struct sw_probes_conf *c;
	char err[ERR_LEN];
	void *state;

	if (!ok(load_text(text, "t.conf", false, &state, err) == SW_OK, "a full file loads")) {
		printf("#   %s\n", err);
		return;
	}
	c = state;
	is_int(c->samples, 3, "samples 3");
	is_int(c->feed_max_silence_ms, 2 * 3600 * 1000, "feed_max_silence 2h");
	is_int(c->interval_ms, 60000, "interval: [rrd] step by default");
	is_int(c->timeout_ms, 10000, "timeout 10s by default");
	ok(c->kinds == NULL, "kinds: every kind by default");
	is_str(c->topic, "slipwatch/probe", "topic by default");
	ok(c->poll && c->poll->n == 1, "one courier");
	if (ok(c->n_canaries == 1, "one canary")) {
		is_str(c->canaries[0].name, "dhl", "  named dhl");
		is_str(c->canaries[0].courier, "dhl", "  courier dhl");
		is_str(c->canaries[0].tracking_number, "00340434", "  its tracking number");
		is_int(c->canaries[0].max_age_s, 30 * 86400, "  max_age in seconds");
	}
	ok(c->mqtt && strcmp(c->mqtt->host, "127.0.0.1") == 0, "[mqtt] read");
	ok(c->smtp && strcmp(c->smtp->url, "smtp://127.0.0.1:2525") == 0, "[smtp] read");
	sw_probes_part.free_state(state);
	ok(load_text("[probes]\n", "t.conf", false, &state, err) == SW_OK, "[probes] alone loads");
	c = state;
	ok(c && !c->mqtt && !c->smtp && c->n_canaries == 0, "  no [mqtt], [smtp], canary: none");
	sw_probes_part.free_state(state);
}

/* ---- the feed kind ------------------------------------------------------------ */

static void test_feed(struct sw_store *st)
{
	struct sw_probes_conf c = {.feed_max_silence_ms = 30 * 60 * 1000};
	struct sw_probe_env env = {
	    .conf = &c, .st = st, .now = NOW, .samples = 5, .timeout_ms = 1000};
	struct sw_probe_result r;
	char err[ERR_LEN], **ids = NULL;
	size_t n = 0;

	is_int(sw_probe_feed.instances(&env, &ids, &n, err, sizeof(err)), SW_OK,
	       "feed: no warehouse yet");
	is_int(n, 0, "  no instance");
	sw_store_warehouse_seen(st, "w1", NOW - 42 * 60);
	sw_store_warehouse_seen(st, "w2", NOW - 90);
	sw_store_warehouse_seen(st, "w3", NOW - 30 * 60);
	is_int(sw_probe_feed.instances(&env, &ids, &n, err, sizeof(err)), SW_OK, "feed: listed");
	ok(n == 3 && strcmp(ids[0], "w1") == 0 && strcmp(ids[2], "w3") == 0,
	   "  one instance per warehouse, sorted");
	sw_store_sig_ids_free(ids, n);

	memset(&r, 0, sizeof(r));
	is_int(sw_probe_feed.run(&env, "w1", &r, err, sizeof(err)), SW_OK, "w1 runs");
	ok(!r.ok, "  silent 42 min: fails");
	ok(r.has_value && r.value == 42 * 60, "  value: 2520 s since its last event");
	is_int(r.sent, 1, "  one sample");
	is_int(r.lost, 0, "  not lost (the store answered)");
	is_str(r.reason, "w1: no event for 42 min", "  the reason says which and how long");
	memset(&r, 0, sizeof(r));
	sw_probe_feed.run(&env, "w2", &r, err, sizeof(err));
	ok(r.ok && r.value == 90, "w2: 90 s, passes");
	is_str(r.reason, "", "  no reason");
	is_str(r.detail, "last event 90 s ago", "  the detail says how long");
	memset(&r, 0, sizeof(r));
	sw_probe_feed.run(&env, "w3", &r, err, sizeof(err));
	ok(r.ok && r.value == 1800, "w3: exactly feed_max_silence passes");
	memset(&r, 0, sizeof(r));
	env.now = NOW - 3600;
	sw_probe_feed.run(&env, "w2", &r, err, sizeof(err));
	ok(r.ok && r.value == 0, "an event after now (clock skew): 0 s, passes");
	env.st = NULL;
	ok(sw_probe_feed.instances(&env, &ids, &n, err, sizeof(err)) != SW_OK,
	   "no store: an error");
	is_str(err, "feed: no store to read", "  saying so");
}

int main(void)
{
	struct sw_store *st;

	setenv("SW_TEST_PROBES_KEY", "k-not-a-secret", 1);
	test_name();
	test_samples();
	test_find();
	test_conf_cases();
	test_conf_fields();
	st = store_tmp_open();
	if (st)
		test_feed(st);
	return store_tmp_done(st);
}
