/*
 * test_clock.c - unit tests for lib/clock.c, the one clock.
 *
 * The spec's parse is a table of good and bad specs (bad ones with their
 * exact message).  Simulated readings are checked against lower bounds
 * only (an anchor in the past guarantees them; a loaded machine can only
 * make them larger), the stepped clock exactly.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "tests/tap.h"

#define T0 1772418600000LL /* 2026-03-02T02:30:00Z */

static int64_t real_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the spec ---- */

struct parse_case {
	const char *spec;
	const char *err; /* NULL: valid, with the values below */
	int64_t start_ms;
	double speed;
	int64_t anchor_ms;
	bool start_now;
};

static const struct parse_case parse_cases[] = {
	{ "2026-03-02T02:30:00Z", NULL, T0, 1, -1, false },
	{ "2026-03-02T08:00:00+05:30*100", NULL, T0, 100, -1, false },
	{ "2026-03-02T02:30:00.250Z*2.5@1764820800.250", NULL, T0 + 250, 2.5, 1764820800250LL,
	  false },
	{ "2026-03-02T02:30:00Z@1764820800", NULL, T0, 1, 1764820800000LL, false },
	{ "2026-03-02T02:30:00Z*1000000", NULL, T0, 1000000, -1, false },
	{ "2026-03-02T02:30:00Z*0", NULL, T0, 0, -1, false },
	{ "now", NULL, 0, 1, -1, true },
	{ "now*0", NULL, 0, 0, -1, true },
	{ "now*60@1764820800.5", NULL, 0, 60, 1764820800500LL, true },
	{ .spec = "", .err = "SLIPWATCH_CLOCK: '': START wanted (RFC 3339 or now)" },
	{ .spec = "*100", .err = "SLIPWATCH_CLOCK: '*100': START wanted (RFC 3339 or now)" },
	{ .spec = "yesterday", .err = "SLIPWATCH_CLOCK: start 'yesterday' is not an RFC 3339 instant with an offset" },
	{ .spec = "2026-03-02T02:30:00",
	  .err = "SLIPWATCH_CLOCK: start '2026-03-02T02:30:00' is not an RFC 3339 instant with an offset" },
	{ .spec = "2026-03-02T02:30:00-00:00*5",
	  .err = "SLIPWATCH_CLOCK: start '2026-03-02T02:30:00-00:00' is not an RFC 3339 instant with an "
	  "offset" },
	{ .spec = "2026-02-30T02:30:00Z",
	  .err = "SLIPWATCH_CLOCK: start '2026-02-30T02:30:00Z' is not an RFC 3339 instant with an offset" },
	{ .spec = "now*", .err = "SLIPWATCH_CLOCK: speed: a number wanted" },
	{ .spec = "now*-3", .err = "SLIPWATCH_CLOCK: speed '-3' is not a number >= 0" },
	{ .spec = "now*fast", .err = "SLIPWATCH_CLOCK: speed 'fast' is not a number >= 0" },
	{ .spec = "now*inf", .err = "SLIPWATCH_CLOCK: speed 'inf' is not a number >= 0" },
	{ .spec = "now*nan", .err = "SLIPWATCH_CLOCK: speed 'nan' is not a number >= 0" },
	{ .spec = "now*2*3", .err = "SLIPWATCH_CLOCK: speed '2*3' is not a number >= 0" },
	{ .spec = "now*100x", .err = "SLIPWATCH_CLOCK: speed '100x' is not a number >= 0" },
	{ .spec = "now*1e7", .err = "SLIPWATCH_CLOCK: speed '1e7' is over 1000000" },
	{ .spec = "now@", .err = "SLIPWATCH_CLOCK: anchor: a number wanted" },
	{ .spec = "now@noon", .err = "SLIPWATCH_CLOCK: anchor 'noon' is not a number >= 0" },
	{ .spec = "now@-5", .err = "SLIPWATCH_CLOCK: anchor '-5' is not a number >= 0" },
	{ .spec = "now@1@2", .err = "SLIPWATCH_CLOCK: anchor '1@2' is not a number >= 0" },
	{ .spec = "now@1764820800*100",
	  .err = "SLIPWATCH_CLOCK: 'now@1764820800*100': START[*SPEED][@ANCHOR] wanted" },
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct sw_clock_spec s = { -7, -7, -7, false };
		char err[256] = "";
		enum sw_err rc = sw_clock_parse(c->spec, &s, err, sizeof(err));

		if (c->err) {
			is_int(rc, SW_EINVAL, "'%s' refused", c->spec);
			is_str(err, c->err, "'%s': the message", c->spec);
			is_int(s.start_ms, -7, "'%s': the result untouched", c->spec);
			continue;
		}
		is_int(rc, SW_OK, "'%s' accepted (%s)", c->spec, err);
		ok(s.start_now == c->start_now, "'%s': start_now %d", c->spec, c->start_now);
		if (!c->start_now)
			is_int(s.start_ms, c->start_ms, "'%s': start", c->spec);
		ok(s.speed == c->speed, "'%s': speed %g (got %g)", c->spec, c->speed, s.speed);
		is_int(s.anchor_ms, c->anchor_ms, "'%s': anchor", c->spec);
	}
	is_int(sw_clock_parse(NULL, NULL, NULL, 0), SW_EINVAL, "NULL spec, no err buffer: refused");
}

/* ---- applying it ---- */

static void test_apply_past_anchor(void)
{
	int64_t real = real_wall_ms();
	struct sw_clock_spec s = { .start_ms = T0, .speed = 100, .anchor_ms = real - 10000 };
	int64_t m1, m2;

	ok(!sw_clock_simulated(), "the real clock at first");
	ok(sw_clock_speed() == 1, "the real clock's speed is 1");
	ok(sw_clock_now_ms() >= real, "the real clock reads the real time");
	sw_clock_apply(&s);
	ok(sw_clock_simulated(), "applied: simulated");
	ok(sw_clock_speed() == 100, "at 100x");
	/* 10 real s since the anchor are at least 1000 simulated s */
	ok(sw_clock_now_ms() >= T0 + 1000000, "100x, anchor 10 s ago: >= start + 1000 s (%lld)",
	   (long long)(sw_clock_now_ms() - T0));
	ok(sw_clock_now() >= T0 / 1000 + 1000, "in seconds too");
	m1 = sw_clock_mono_ms();
	ok(m1 >= T0 + 1000000, "the monotonic reading starts at the simulated one");
	m2 = sw_clock_mono_ms();
	ok(m2 >= m1, "and does not go back");

	s.speed = 1;
	s.anchor_ms = real_wall_ms() - 5000;
	sw_clock_apply(&s);
	ok(sw_clock_now_ms() >= T0 + 5000, "1x, anchor 5 s ago: >= start + 5 s");

	s = (struct sw_clock_spec){ .speed = 2, .anchor_ms = 1764820800000LL, .start_now = true };
	sw_clock_apply(&s);
	ok(sw_clock_now_ms() >= real + (real - 1764820800000LL),
	   "start 'now' is the anchor: 2x since the anchor");

	/* an anchor far in the future at the top speed saturates, no overflow */
	s = (struct sw_clock_spec){ .start_ms = T0, .speed = 1e6, .anchor_ms = 9999999999000LL };
	sw_clock_apply(&s);
	ok(sw_clock_now_ms() < T0, "far future anchor: before the start, no overflow");
	ok(sw_clock_mono_ms() < T0, "and the monotonic reading too");
	m1 = sw_clock_real_mono_ms();
	s = (struct sw_clock_spec){ .start_ms = T0, .speed = 1000, .anchor_ms = -1 };
	sw_clock_apply(&s);
	m2 = sw_clock_real_mono_ms();
	ok(m2 >= m1 && m2 < T0, "the real monotonic clock is not the simulated one");
	sw_clock_set_stepped(T0);
	ok(sw_clock_real_mono_ms() >= m2, "nor the stepped one");
	sw_clock_reset();
	ok(!sw_clock_simulated(), "reset: the real clock again");
	ok(sw_clock_now_ms() >= real, "reading the real time");
}

static void test_stepped(void)
{
	struct sw_clock_spec s;
	char err[128];

	sw_clock_set_stepped(T0);
	ok(sw_clock_simulated(), "stepped: simulated");
	ok(sw_clock_speed() == 0, "stepped: speed 0");
	is_int(sw_clock_now_ms(), T0, "stepped: reads its start");
	is_int(sw_clock_mono_ms(), T0, "stepped: the monotonic reading is the same");
	sw_clock_step(1500);
	is_int(sw_clock_now_ms(), T0 + 1500, "stepped 1.5 s");
	is_int(sw_clock_now(), T0 / 1000 + 1, "whole seconds round down");
	is_int(sw_clock_mono_ms(), T0 + 1500, "the monotonic reading moved too");
	sw_clock_step(-5000);
	sw_clock_step(0);
	is_int(sw_clock_now_ms(), T0 + 1500, "a negative or zero step moves nothing");
	sw_clock_set_stepped(-500);
	is_int(sw_clock_now(), -1, "before 1970: seconds round down too");

	is_int(sw_clock_parse("2026-03-02T02:30:00Z*0", &s, err, sizeof(err)), SW_OK, "a *0 spec");
	sw_clock_apply(&s);
	is_int(sw_clock_now_ms(), T0, "applied *0: stepped at its start");
	sw_clock_step(60000);
	is_int(sw_clock_now_ms(), T0 + 60000, "and it steps");
	sw_clock_reset();
	sw_clock_step(60000);
	ok(sw_clock_now_ms() > T0 + 60000 * 10000, "a step of the real clock does nothing");
}

/* ---- sw_clock_real_wait_ms ---- */

struct wait_case {
	double speed; /* 1: the real clock, 0: stepped */
	int64_t sim, real;
};

static const struct wait_case wait_cases[] = {
	{ 1, 0, 0 },	   { 1, 250, 250 },    { 1, -5, 0 },	   { 100, 0, 0 },
	{ 100, 1, 1 },	   { 100, 100, 1 },    { 100, 101, 2 },	   { 100, 60000, 600 },
	{ 100, -1, 0 },	   { 3, 10, 4 },       { 3, 9, 3 },	   { 0.5, 10, 20 },
	{ 1000000, 1, 1 }, { 0, 0, 0 },	       { 0, 1, -1 },	   { 0, 86400000, -1 },
};

static void test_real_wait(void)
{
	for (size_t i = 0; i < sizeof(wait_cases) / sizeof(wait_cases[0]); i++) {
		const struct wait_case *c = &wait_cases[i];
		struct sw_clock_spec s = { .start_ms = T0, .speed = c->speed, .anchor_ms = -1 };

		if (c->speed == 1)
			sw_clock_reset();
		else
			sw_clock_apply(&s);
		is_int(sw_clock_real_wait_ms(c->sim), c->real, "%gx: %lld simulated ms wait %lld real",
		       c->speed, (long long)c->sim, (long long)c->real);
	}
	sw_clock_reset();
}

/* ---- the spec string ---- */

static void roundtrip(const char *spec)
{
	struct sw_clock_spec s, back;
	char err[256] = "", text[128];
	int64_t stepped;

	is_int(sw_clock_parse(spec, &s, err, sizeof(err)), SW_OK, "'%s' parses", spec);
	sw_clock_apply(&s);
	stepped = sw_clock_now_ms();
	sw_clock_spec_string(text, sizeof(text));
	is_int(sw_clock_parse(text, &back, err, sizeof(err)), SW_OK, "'%s' -> '%s' parses (%s)", spec,
	       text, err);
	ok(back.speed == s.speed, "'%s': the same speed", text);
	ok(!back.start_now, "'%s': an instant, not 'now'", text);
	if (s.speed == 0) {
		is_int(back.start_ms, stepped, "'%s': the stepped reading", text);
		is_int(back.anchor_ms, -1, "'%s': no anchor", text);
	} else {
		is_int(back.start_ms, s.start_ms, "'%s': the same start", text);
		is_int(back.anchor_ms, s.anchor_ms, "'%s': the same anchor", text);
	}
}

static void test_spec_string(void)
{
	char text[128] = "junk";

	sw_clock_reset();
	sw_clock_spec_string(text, sizeof(text));
	is_str(text, "", "the real clock: an empty spec");
	roundtrip("2026-03-02T02:30:00Z*100@1764820800");
	roundtrip("2026-03-02T08:00:00.250+05:30*2.5@1764820800.125");
	roundtrip("2026-03-02T02:30:00Z*0.333333333333@1764820800");
	roundtrip("2026-03-02T02:30:00Z*1000000@1764820800.999");
	roundtrip("1969-12-31T23:59:59.5Z*1@1764820800");
	roundtrip("2026-03-02T02:30:00.5Z*0");
	sw_clock_step(1234);
	sw_clock_spec_string(text, sizeof(text));
	is_str(text, "2026-03-02T02:30:01.734Z*0", "a stepped clock: its reading now");
	sw_clock_reset();
}

/* ---- SLIPWATCH_CLOCK ---- */

static void test_env(void)
{
	char err[256] = "";
	bool set = true;

	unsetenv(SW_CLOCK_ENV);
	is_int(sw_clock_from_env(&set, err, sizeof(err)), SW_OK, "unset: fine");
	ok(!set && !sw_clock_simulated(), "unset: the real clock");
	setenv(SW_CLOCK_ENV, "", 1);
	is_int(sw_clock_from_env(&set, err, sizeof(err)), SW_OK, "empty: fine");
	ok(!set && !sw_clock_simulated(), "empty: the real clock");
	setenv(SW_CLOCK_ENV, "2026-03-02T02:30:00Z*-1", 1);
	is_int(sw_clock_from_env(&set, err, sizeof(err)), SW_EINVAL, "bad: refused");
	is_str(err, "SLIPWATCH_CLOCK: speed '-1' is not a number >= 0", "bad: says why");
	ok(!set && !sw_clock_simulated(), "bad: the clock unchanged");
	setenv(SW_CLOCK_ENV, "2026-03-02T02:30:00Z*0", 1);
	is_int(sw_clock_from_env(&set, err, sizeof(err)), SW_OK, "good: applied");
	ok(set && sw_clock_simulated(), "good: set, simulated");
	is_int(sw_clock_now_ms(), T0, "good: reads its start");
	unsetenv(SW_CLOCK_ENV);
	sw_clock_reset();
}

int main(void)
{
	test_parse();
	test_apply_past_anchor();
	test_stepped();
	test_real_wait();
	test_spec_string();
	test_env();
	return tap_done();
}
