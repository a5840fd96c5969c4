/*
 * test_log.c - unit tests for lib/log.c.
 *
 * Lines are captured through the sink hook (exact text, no timestamp) and
 * through a stream (timestamp format, one newline per message).  The
 * complain tests drive an injected clock, so nothing sleeps.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "tests/tap.h"

static char last[8192];
static int nlines;
static enum sw_log_level last_level;

static void sink(enum sw_log_level level, const char *line, void *arg)
{
	int *marker = arg;

	if (*marker != 42)
		return; /* wrong arg: leave nlines unchanged, tests fail */
	snprintf(last, sizeof(last), "%s", line);
	last_level = level;
	nlines++;
}

static int sink_marker = 42;

static void capture(void)
{
	sw_log_set_sink(sink, &sink_marker);
	nlines = 0;
	last[0] = '\0';
}

static int evaluated;

static int side_effect(void)
{
	evaluated++;
	return 7;
}

static void test_levels(void)
{
	enum sw_log_level l = SW_LOG_LAST;
	static const char *names[] = { "error", "warning", "notice", "info",
				       "debug" };

	for (int i = 0; i < SW_LOG_LAST; i++) {
		is_str(sw_log_level_name((enum sw_log_level)i), names[i],
		       "level name %d", i);
		ok(sw_log_level_parse(names[i], &l) == SW_OK && (int)l == i,
		   "parse %s", names[i]);
	}
	is_str(sw_log_level_name(SW_LOG_LAST), "?", "name of LAST");
	is_str(sw_log_level_name((enum sw_log_level)-1), "?",
	       "name of negative");
	ok(sw_log_level_parse("WARN", &l) == SW_OK && l == SW_LOG_WARNING,
	   "parse WARN (case, alias)");
	ok(sw_log_level_parse("Err", &l) == SW_OK && l == SW_LOG_ERR,
	   "parse Err");
	l = SW_LOG_DEBUG;
	is_int(sw_log_level_parse("verbose", &l), SW_EINVAL, "unknown name");
	is_int(sw_log_level_parse("", &l), SW_EINVAL, "empty name");
	is_int(sw_log_level_parse("info ", &l), SW_EINVAL, "trailing space");
	is_int(sw_log_level_parse(NULL, &l), SW_EINVAL, "NULL name");
	is_int(l, SW_LOG_DEBUG, "failed parse leaves *ret_level");
}

static void test_gating(void)
{
	sw_log_init("collector", SW_LOG_WARNING, SW_LOG_DEST_STDERR);
	capture();
	evaluated = 0;
	sw_log_info(NULL, "x %d", side_effect());
	sw_log_notice(NULL, "x %d", side_effect());
	sw_log_debug(NULL, "x %d", side_effect());
	is_int(nlines, 0, "info/notice/debug gated at warning");
	is_int(evaluated, 0, "gated-off arguments not evaluated");
	sw_log_warn(NULL, "x %d", side_effect());
	sw_log_err(NULL, "x %d", side_effect());
	is_int(nlines, 2, "warning and error written");
	is_int(evaluated, 2, "enabled arguments evaluated once each");
	is_int(last_level, SW_LOG_ERR, "sink gets the level");

	sw_log_set_level(SW_LOG_DEBUG);
	sw_log_debug(NULL, "dbg");
	is_int(nlines, 3, "debug written at debug");
	sw_log_set_level(SW_LOG_LAST);
	ok(sw_log_enabled(SW_LOG_DEBUG), "set_level(LAST) ignored");
	sw_log_set_level(SW_LOG_ERR);
	sw_log_warn(NULL, "w");
	is_int(nlines, 3, "warning gated at error");
	sw_log_write(SW_LOG_LAST, NULL, "bad level");
	sw_log_write((enum sw_log_level)-3, NULL, "bad level");
	is_int(nlines, 3, "out-of-range level never written");
}

static void test_format(void)
{
	sw_log_init("collector", SW_LOG_DEBUG, SW_LOG_DEST_STDERR);
	capture();
	sw_log_warn("courier dhl", "HTTP %d, retry in %d s", 429, 30);
	is_str(last, "collector warning: courier dhl: HTTP 429, retry in 30 s",
	       "component level: target: message");
	sw_log_notice(NULL, "started, %s", "3 couriers");
	is_str(last, "collector notice: started, 3 couriers", "no target");
	sw_log_info("", "empty target");
	is_str(last, "collector info: : empty target", "empty target kept");
	sw_log_debug("x", "%s", "");
	is_str(last, "collector debug: x: ", "empty message");

	sw_log_init(NULL, SW_LOG_INFO, SW_LOG_DEST_STDERR);
	sw_log_info(NULL, "still");
	is_str(last, "collector info: still", "re-init with NULL keeps name");
	sw_log_init("alerts", (enum sw_log_level)99, SW_LOG_DEST_LAST);
	sw_log_info(NULL, "renamed");
	is_str(last, "alerts info: renamed", "bad level/dest -> info/stderr");
	ok(!sw_log_enabled(SW_LOG_DEBUG), "threshold is info");
}

/* The stream gets "YYYY-MM-DDTHH:MM:SS.mmmZ line\n", one write per line. */
static void test_stream(void)
{
	FILE *f = tmpfile();
	char text[4096];
	size_t n;
	int nl = 0, shape = 1;
	const char *want_tail =
		" collector warning: courier dhl: HTTP 429, retry in 30 s\n";
	time_t now = time(NULL);
	struct tm tm;
	char year[16];

	ok(f != NULL, "tmpfile");
	sw_log_set_sink(NULL, NULL);
	sw_log_init("collector", SW_LOG_INFO, SW_LOG_DEST_STDERR);
	sw_log_set_stream(f);
	sw_log_warn("courier dhl", "HTTP %d, retry in %d s", 429, 30);
	sw_log_err("courier ups", "a\nb\r\n2026-01-01T00:00:00.000Z "
		   "collector error: forged");
	sw_log_set_stream(NULL);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);

	for (size_t i = 0; i < n; i++)
		nl += text[i] == '\n';
	is_int(nl, 2, "two messages, two lines (no forged line)");
	for (int i = 0; i < 24; i++) {
		char c = text[i];

		if (i == 4 || i == 7)
			shape &= c == '-';
		else if (i == 10)
			shape &= c == 'T';
		else if (i == 13 || i == 16)
			shape &= c == ':';
		else if (i == 19)
			shape &= c == '.';
		else if (i == 23)
			shape &= c == 'Z';
		else
			shape &= c >= '0' && c <= '9';
	}
	ok(shape, "timestamp shaped YYYY-MM-DDTHH:MM:SS.mmmZ: %.24s", text);
	gmtime_r(&now, &tm);
	snprintf(year, sizeof(year), "%04d", tm.tm_year + 1900);
	{
		/* the year of now, or of a moment later if a new year began */
		time_t later = time(NULL);
		struct tm tm2;
		char year2[16];

		gmtime_r(&later, &tm2);
		snprintf(year2, sizeof(year2), "%04d", tm2.tm_year + 1900);
		ok(strncmp(text, year, 4) == 0 || strncmp(text, year2, 4) == 0,
		   "timestamp is UTC now (year %s)", year);
	}
	ok(n > 24 && strncmp(text + 24, want_tail, strlen(want_tail)) == 0,
	   "line after the timestamp");
	ok(strstr(text, "courier ups: a\\nb\\r\\n2026-01-01T00:00:00.000Z "
			"collector error: forged\n") != NULL,
	   "forged line escaped inside one line");
}

static void test_escaping(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
		{ "a\nb\rc\td", "a\\nb\\rc\\td", "newline, CR, tab" },
		{ "\x01\x1b[31mred\x7f", "\\x01\\x1B[31mred\\x7F",
		  "C0, ESC, DEL" },
		{ "Z\xc3\xbcrich \xe2\x86\x92 \xe6\x9d\xb1 \xf0\x9f\x98\x80",
		  "Z\xc3\xbcrich \xe2\x86\x92 \xe6\x9d\xb1 \xf0\x9f\x98\x80",
		  "valid UTF-8 kept" },
		{ "\xff\xc3(", "\\xFF\\xC3(", "invalid bytes escaped" },
		{ "\xc2\x9b" "1m", "\\xC2\\x9B1m", "C1 control escaped" },
		{ "\xc0\xaf", "\\xC0\\xAF", "overlong escaped" },
		{ "\xed\xa0\x80", "\\xED\\xA0\\x80", "surrogate escaped" },
		{ "\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80",
		  "beyond U+10FFFF escaped" },
		{ "\xe2\x82", "\\xE2\\x82", "truncated sequence escaped" },
		{ "back\\slash \"q\"", "back\\slash \"q\"",
		  "backslash and quotes kept" },
	};
	char want[256];

	sw_log_init("c", SW_LOG_INFO, SW_LOG_DEST_STDERR);
	capture();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sw_log_info(NULL, "%s", cases[i].in);
		snprintf(want, sizeof(want), "c info: %s", cases[i].want);
		is_str(last, want, "escape: %s", cases[i].what);
	}
	sw_log_info(NULL, "a%cb", 0);
	is_str(last, "c info: a\\x00b", "embedded NUL escaped, not a cut");
	sw_log_info("dhl\nfake", "m");
	is_str(last, "c info: dhl\\nfake: m", "target escaped");
	sw_log_init("col\rx", SW_LOG_INFO, SW_LOG_DEST_STDERR);
	sw_log_info(NULL, "m");
	is_str(last, "col\\rx info: m", "component escaped");
}

static const char *msg_of(const char *line)
{
	const char *p = strstr(line, "info: ");

	return p ? p + 6 : "";
}

static void test_truncation(void)
{
	char *big = malloc(5000);
	char *want = malloc(SW_LOG_MSG_MAX + 1);
	char target[500];
	const char *m, *t;

	sw_log_init("c", SW_LOG_INFO, SW_LOG_DEST_STDERR);
	capture();

	memset(big, 'a', 4999);
	big[4999] = '\0';
	sw_log_info(NULL, "%s", big);
	m = msg_of(last);
	is_int(strlen(m), SW_LOG_MSG_MAX, "long message cut to the limit");
	memset(want, 'a', SW_LOG_MSG_MAX - 3);
	memcpy(want + SW_LOG_MSG_MAX - 3, "...", 4);
	is_str(m, want, "ends in ...");

	big[SW_LOG_MSG_MAX] = '\0';
	sw_log_info(NULL, "%s", big);
	m = msg_of(last);
	is_int(strlen(m), SW_LOG_MSG_MAX, "exactly the limit: kept whole");
	ok(strstr(m, "...") == NULL, "no ... at exactly the limit");

	big[SW_LOG_MSG_MAX] = 'a';
	big[SW_LOG_MSG_MAX + 1] = '\0';
	sw_log_info(NULL, "%s", big);
	is_str(msg_of(last), want, "one over the limit: cut");

	/* An escape that does not fit is dropped whole, never split. */
	memset(big, 'a', SW_LOG_MSG_MAX - 2);
	memcpy(big + SW_LOG_MSG_MAX - 2, "\x01", 2);
	sw_log_info(NULL, "%s", big);
	m = msg_of(last);
	ok(strchr(m, '\\') == NULL, "no partial escape at the cut");
	is_str(m, want, "expansion past the limit: cut");

	/* A UTF-8 character straddling the cut is dropped whole. */
	memset(big, 'a', SW_LOG_MSG_MAX - 4);
	memcpy(big + SW_LOG_MSG_MAX - 4, "\xe2\x82\xac" "bbbbbb", 10);
	sw_log_info(NULL, "%s", big);
	m = msg_of(last);
	is_int(strlen(m), SW_LOG_MSG_MAX - 1, "cut before the character");
	ok(strcmp(m + SW_LOG_MSG_MAX - 5, "a...") == 0,
	   "no partial UTF-8 sequence");

	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	sw_log_info(target, "m");
	t = strstr(last, "info: ") + 6;
	ok(strncmp(t + SW_LOG_TARGET_MAX - 3, "...: m", 7) == 0,
	   "long target cut to %d bytes", SW_LOG_TARGET_MAX);
	free(big);
	free(want);
}

/* ---- complain / release ---- */

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static void test_complain(void)
{
	struct sw_log_complain c = SW_LOG_COMPLAIN_INIT;
	int64_t t;
	int bad = 0;

	sw_log_init("collector", SW_LOG_INFO, SW_LOG_DEST_STDERR);
	capture();
	sw_log_set_clock(fake_clock);
	fake_now = 1000000;

	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP %d", 500);
	is_int(nlines, 1, "first failure logged at once");
	is_str(last, "collector error: courier dhl: HTTP 500",
	       "first line has no suppressed count");
	for (int i = 1; i <= 5; i++) {
		fake_now += 1000;
		sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP %d", 500);
	}
	fake_now = 1000000 + SW_LOG_COMPLAIN_FIRST_MS - 1;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP %d", 500);
	is_int(nlines, 1, "repeats within 10 s suppressed");
	fake_now = 1000000 + SW_LOG_COMPLAIN_FIRST_MS;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP %d", 503);
	is_int(nlines, 2, "logged again after 10 s");
	is_str(last, "collector error: courier dhl: HTTP 503 "
		     "(6 similar messages suppressed)",
	       "with the suppressed count");

	/* Interval doubled to 20 s. */
	t = fake_now;
	fake_now = t + 2 * SW_LOG_COMPLAIN_FIRST_MS - 1;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	is_int(nlines, 2, "suppressed at 20 s - 1 ms: interval doubled");
	fake_now = t + 2 * SW_LOG_COMPLAIN_FIRST_MS;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	is_int(nlines, 3, "logged at 20 s");
	is_str(last, "collector error: courier dhl: HTTP 500 "
		     "(1 similar message suppressed)",
	       "singular count");
	t = fake_now;
	fake_now = t + 4 * SW_LOG_COMPLAIN_FIRST_MS - 1;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	is_int(nlines, 3, "then 40 s");
	fake_now = t + 4 * SW_LOG_COMPLAIN_FIRST_MS;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	is_int(nlines, 4, "logged at 40 s");

	/* Keep failing once a day for 20 days: every one is logged (the
	 * interval never exceeds the one-day cap). */
	for (int i = 0; i < 20; i++) {
		int before = nlines;

		fake_now += SW_LOG_COMPLAIN_MAX_MS;
		sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
		bad += nlines != before + 1;
	}
	is_int(bad, 0, "daily failures all logged: interval capped");
	t = fake_now;
	fake_now = t + SW_LOG_COMPLAIN_MAX_MS - 1;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	is_int(nlines, 24, "cap is a full day");
	fake_now = t + SW_LOG_COMPLAIN_MAX_MS;
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	is_int(nlines, 25, "logged after exactly the cap");

	/* Release logs once, then the state starts fresh. */
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	sw_log_release(&c, SW_LOG_NOTICE, "courier dhl", "recovered after %d",
		       3);
	is_int(nlines, 26, "release logged");
	is_str(last, "collector notice: courier dhl: recovered after 3 "
		     "(2 similar messages suppressed)",
	       "release line with the count");
	sw_log_release(&c, SW_LOG_NOTICE, "courier dhl", "recovered");
	is_int(nlines, 26, "second release silent");
	sw_log_complain(&c, SW_LOG_ERR, "courier dhl", "HTTP 500");
	is_int(nlines, 27, "after release the next failure logs at once");
	is_str(last, "collector error: courier dhl: HTTP 500",
	       "and without a count");
	sw_log_release(&c, SW_LOG_NOTICE, "courier dhl", "ok");
	is_str(last, "collector notice: courier dhl: ok",
	       "release without suppressed repeats has no count");
}

static void test_release_without_complaint(void)
{
	struct sw_log_complain c = SW_LOG_COMPLAIN_INIT;
	struct sw_log_complain g = SW_LOG_COMPLAIN_INIT;

	capture();
	sw_log_set_clock(fake_clock);
	sw_log_release(&c, SW_LOG_NOTICE, "courier x", "recovered");
	is_int(nlines, 0, "release with no complaint is silent");

	/* Gated-off complaint still advances the state. */
	sw_log_set_level(SW_LOG_ERR);
	sw_log_complain(&g, SW_LOG_WARNING, "courier y", "down");
	is_int(nlines, 0, "gated complaint not written");
	sw_log_complain(&g, SW_LOG_WARNING, "courier y", "down");
	sw_log_release(&g, SW_LOG_ERR, "courier y", "up");
	is_int(nlines, 1, "release after a gated complaint is written");
	is_str(last, "collector error: courier y: up "
		     "(1 similar message suppressed)",
	       "with the count");
	sw_log_set_level(SW_LOG_INFO);

	/* Real monotonic clock: an immediate repeat is suppressed. */
	sw_log_set_clock(NULL);
	sw_log_complain(&c, SW_LOG_ERR, "courier z", "x");
	sw_log_complain(&c, SW_LOG_ERR, "courier z", "x");
	is_int(nlines, 2, "real clock: repeat within 10 s suppressed");
}

static void test_syslog_and_fini(void)
{
	FILE *f = tmpfile();
	char text[256];
	size_t n;

	/* Syslog destination; a test stream still takes precedence. */
	sw_log_set_sink(NULL, NULL);
	sw_log_init("test_log", SW_LOG_INFO, SW_LOG_DEST_SYSLOG);
	sw_log_init("test_log2", SW_LOG_INFO, SW_LOG_DEST_SYSLOG);
	sw_log_set_stream(f);
	sw_log_info("t", "to the stream");
	sw_log_set_stream(NULL);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	ok(strstr(text, "Z test_log2 info: t: to the stream\n") != NULL,
	   "stream overrides syslog");

	sw_log_fini();
	capture();
	sw_log_info(NULL, "x");
	sw_log_debug(NULL, "y");
	is_str(last, "slipwatch info: x", "defaults after fini");
	is_int(nlines, 1, "default threshold is info");
	sw_log_fini();
	sw_log_fini();
	ok(1, "fini twice is harmless");
}

int main(void)
{
	test_levels();
	test_gating();
	test_format();
	test_stream();
	test_escaping();
	test_truncation();
	test_complain();
	test_release_without_complaint();
	test_syslog_and_fini();
	sw_log_fini();
	return tap_done();
}
