/*
 * clock.c - the one clock (see clock.h).
 *
 * The simulated readings are computed from the real ones, never stored:
 * wall = start + (real_wall - anchor) * speed, and the monotonic reading
 * is the real monotonic one scaled from the moment the spec was applied
 * (then kept from going back).  A stepped clock keeps its own reading.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/swtime.h"

enum mode { REAL, SIMULATED, STEPPED };

static struct {
	enum mode mode;
	int64_t start_ms, anchor_ms; /* SIMULATED: wall mapping */
	double speed;
	int64_t mono0_real, mono0_sim; /* SIMULATED: monotonic mapping */
	int64_t last_mono;             /* never goes back */
	int64_t stepped_ms;            /* STEPPED: the reading */
} clk = { REAL, 0, 0, 1.0, 0, 0, 0, 0 };

static int64_t real_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* base + delta (simulated ms), kept within +-2^62 so that a far anchor at a
 * high speed saturates instead of overflowing the conversion. */
static int64_t sim_add(int64_t base, double delta)
{
	const double lim = 4611686018427387904.0; /* 2^62 */
	double v = (double)base + delta;

	return (int64_t)(v > lim ? lim : v < -lim ? -lim : v);
}

/* ---- the spec ------------------------------------------------------------- */

/* Writes the message into err (when there is one); SW_EINVAL. */
#define BAD(...) ((err && errlen ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0), SW_EINVAL)

static enum sw_err parse_start(const char *s, size_t n, struct sw_clock_spec *r, char *err,
			       size_t errlen)
{
	char buf[SW_TIME_MAX_INPUT + 1], why[128];
	struct sw_time t;

	if (n == 3 && strncmp(s, "now", 3) == 0) {
		r->start_now = true;
		return SW_OK;
	}
	if (n == 0 || n > SW_TIME_MAX_INPUT)
		return BAD(SW_CLOCK_ENV ": '%s': START wanted (RFC 3339 or now)", s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sw_time_parse(buf, &t, why, sizeof(why)) != SW_OK ||
	    (t.flags & (SW_TIME_ZONE_UNKNOWN | SW_TIME_OFFSET_UNKNOWN)))
		return BAD(SW_CLOCK_ENV ": start '%s' is not an RFC 3339 instant with an offset", buf);
	r->start_ms = t.utc_sec * 1000 + t.nsec / 1000000;
	return SW_OK;
}

static enum sw_err parse_number(const char *s, size_t n, double *ret, const char *what, char *err,
				size_t errlen)
{
	char buf[64], *end;
	double v;

	if (n == 0 || n >= sizeof(buf)) {
		return BAD(SW_CLOCK_ENV ": %s: a number wanted", what);
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (*end || errno || !isfinite(v) || v < 0 || (buf[0] < '0' || buf[0] > '9')) {
		return BAD(SW_CLOCK_ENV ": %s '%s' is not a number >= 0", what, buf);
	}
	*ret = v;
	return SW_OK;
}

enum sw_err sw_clock_parse(const char *spec, struct sw_clock_spec *ret, char *err, size_t errlen)
{
	struct sw_clock_spec r = { 0, 1.0, -1, false };
	const char *star, *at, *end;
	double v;

	if (!spec || !ret)
		return BAD("%s: no spec", SW_CLOCK_ENV);
	end = spec + strlen(spec);
	at = strchr(spec, '@');
	star = strchr(spec, '*');
	if (at && star && star > at)
		return BAD(SW_CLOCK_ENV ": '%s': START[*SPEED][@ANCHOR] wanted", spec);
	if (parse_start(spec, (size_t)((star ? star : at ? at : end) - spec), &r, err, errlen))
		return SW_EINVAL;
	if (star) {
		if (parse_number(star + 1, (size_t)((at ? at : end) - star - 1), &v, "speed", err,
				 errlen))
			return SW_EINVAL;
		if (v > 1e6)
			return BAD(SW_CLOCK_ENV ": speed '%s' is over 1000000", star + 1);
		r.speed = v;
	}
	if (at) {
		if (parse_number(at + 1, (size_t)(end - at - 1), &v, "anchor", err, errlen))
			return SW_EINVAL;
		r.anchor_ms = (int64_t)llround(v * 1000.0);
	}
	*ret = r;
	return SW_OK;
}

/* ---- setting it ------------------------------------------------------------ */

void sw_clock_apply(const struct sw_clock_spec *spec)
{
	int64_t real = real_wall_ms();
	int64_t anchor = spec->anchor_ms >= 0 ? spec->anchor_ms : real;
	int64_t start = spec->start_now ? anchor : spec->start_ms;

	if (spec->speed == 0) {
		/* stepped: the reading at the anchor's start, moved by steps */
		sw_clock_set_stepped(start);
		return;
	}
	clk.mode = SIMULATED;
	clk.start_ms = start;
	clk.anchor_ms = anchor;
	clk.speed = spec->speed;
	clk.mono0_real = real_mono_ms();
	clk.mono0_sim = sim_add(start, (double)(real - anchor) * spec->speed);
	clk.last_mono = clk.mono0_sim;
}

enum sw_err sw_clock_from_env(bool *ret_set, char *err, size_t errlen)
{
	const char *v = getenv(SW_CLOCK_ENV);
	struct sw_clock_spec spec;

	*ret_set = false;
	if (!v || !*v)
		return SW_OK;
	if (sw_clock_parse(v, &spec, err, errlen) != SW_OK)
		return SW_EINVAL;
	sw_clock_apply(&spec);
	*ret_set = true;
	return SW_OK;
}

void sw_clock_reset(void)
{
	clk.mode = REAL;
	clk.speed = 1.0;
}

void sw_clock_set_stepped(int64_t start_ms)
{
	clk.mode = STEPPED;
	clk.speed = 0;
	clk.stepped_ms = start_ms;
}

void sw_clock_step(int64_t ms)
{
	if (clk.mode == STEPPED && ms > 0)
		clk.stepped_ms += ms;
}

bool sw_clock_simulated(void)
{
	return clk.mode != REAL;
}

double sw_clock_speed(void)
{
	return clk.mode == REAL ? 1.0 : clk.speed;
}

/* ---- reading it ------------------------------------------------------------ */

int64_t sw_clock_now_ms(void)
{
	switch (clk.mode) {
	case SIMULATED:
		return sim_add(clk.start_ms, (double)(real_wall_ms() - clk.anchor_ms) * clk.speed);
	case STEPPED:
		return clk.stepped_ms;
	default:
		return real_wall_ms();
	}
}

int64_t sw_clock_now(void)
{
	int64_t ms = sw_clock_now_ms();

	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

int64_t sw_clock_mono_ms(void)
{
	int64_t v;

	switch (clk.mode) {
	case SIMULATED:
		v = sim_add(clk.mono0_sim, (double)(real_mono_ms() - clk.mono0_real) * clk.speed);
		if (v < clk.last_mono)
			v = clk.last_mono;
		clk.last_mono = v;
		return v;
	case STEPPED:
		return clk.stepped_ms;
	default:
		return real_mono_ms();
	}
}

int64_t sw_clock_real_mono_ms(void)
{
	return real_mono_ms();
}

int64_t sw_clock_real_wait_ms(int64_t sim_ms)
{
	if (sim_ms <= 0)
		return 0;
	switch (clk.mode) {
	case SIMULATED:
		return (int64_t)ceil((double)sim_ms / clk.speed);
	case STEPPED:
		return -1;
	default:
		return sim_ms;
	}
}

/* The speed as the parser reads it back exactly: short when %g is exact. */
static const char *speed_text(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
	return buf;
}

void sw_clock_spec_string(char *buf, size_t len)
{
	char start[SW_TIME_STRLEN], speed[32];
	struct sw_time t = { 0 };
	int64_t start_ms = clk.mode == STEPPED ? clk.stepped_ms : clk.start_ms;

	if (!len)
		return;
	buf[0] = '\0';
	if (clk.mode == REAL)
		return;
	t.utc_sec = start_ms >= 0 ? start_ms / 1000 : -((-start_ms + 999) / 1000);
	t.nsec = (int32_t)((start_ms - t.utc_sec * 1000) * 1000000);
	if (sw_time_format_utc(&t, start, sizeof(start)) != SW_OK)
		return;
	if (clk.mode == STEPPED)
		snprintf(buf, len, "%s*0", start);
	else
		snprintf(buf, len, "%s*%s@%lld.%03lld", start, speed_text(clk.speed, speed, sizeof(speed)),
			 (long long)(clk.anchor_ms / 1000), (long long)(clk.anchor_ms % 1000));
}
