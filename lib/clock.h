/*
 * clock.h - the one clock every slipwatch component takes "now" from.
 *
 * By default it is the real clock: sw_clock_now() is time(NULL) and
 * sw_clock_mono_ms() is CLOCK_MONOTONIC in milliseconds.  A simulation
 * (tests, slipwatch-sim, `slipwatch replay`, the demo) sets it instead:
 *
 *   simulated: wall = start + (real_wall - anchor) * speed
 *   stepped:   wall moves only when sw_clock_step() is called (speed 0)
 *
 * The anchor is a real wall-clock instant in milliseconds; several
 * processes given the same spec (SLIPWATCH_CLOCK) share one simulated
 * time, whenever each of them started.  The monotonic reading runs at the
 * same speed (it never goes back, even if the real wall clock does), so the
 * event loop's timers (lib/loop.c) run on simulated time: a timer of 60 s
 * at speed 100 fires after 0.6 real seconds.
 *
 * The spec, in SLIPWATCH_CLOCK or a program's --clock option:
 *
 *   START[*SPEED][@ANCHOR]
 *
 *   START   an RFC 3339 instant with a zone ("2026-03-02T08:00:00+05:30",
 *           "...Z"), or "now" (the anchor itself)
 *   SPEED   a positive number, 1 by default ("*100": 100 simulated seconds
 *           per real second); "*0" is a stepped clock (tests)
 *   ANCHOR  the real instant START stands for, in Unix seconds with up to
 *           3 decimals ("@1764820800.250"); by default the moment the spec
 *           is applied.  The demo and the accuracy test compute one anchor
 *           and give the same spec to every process.
 *
 * A daemon refuses a simulated clock unless its configuration says
 * `[simulation] enabled = yes` (lib/daemon.c): a production config never
 * runs on a simulated clock by accident, and a simulation config says so.
 *
 * Not thread-safe to set; reading is safe once set (the programs are
 * single-threaded).
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* The name of the environment variable that carries the spec. */
#define SW_CLOCK_ENV "SLIPWATCH_CLOCK"

/* A parsed spec. */
struct sw_clock_spec {
	int64_t start_ms;  /* simulated wall time at the anchor, Unix ms */
	double speed;      /* > 0 simulated, 0 stepped */
	int64_t anchor_ms; /* real wall time of start_ms, Unix ms; -1: when applied */
	bool start_now;    /* START was "now" */
};

/* Parses spec (see above).  SW_OK, or SW_EINVAL with err saying what is
 * wrong and where ("SLIPWATCH_CLOCK: speed '-3' is not a number >= 0"). */
enum sw_err sw_clock_parse(const char *spec, struct sw_clock_spec *ret, char *err, size_t errlen);

/* Makes the clock simulated (or stepped) from now on, per spec. */
void sw_clock_apply(const struct sw_clock_spec *spec);

/* Reads SLIPWATCH_CLOCK: unset or empty leaves the real clock (SW_OK,
 * *ret_set false); a valid spec is applied (*ret_set true); a bad one is
 * SW_EINVAL with err set and the clock unchanged. */
enum sw_err sw_clock_from_env(bool *ret_set, char *err, size_t errlen);

/* Back to the real clock (tests). */
void sw_clock_reset(void);

/* A stepped clock at start_ms (Unix ms): it moves only by sw_clock_step. */
void sw_clock_set_stepped(int64_t start_ms);

/* Moves a stepped clock on by ms (>= 0); no effect on the others. */
void sw_clock_step(int64_t ms);

/* Whether the clock is not the real one; its speed (1 for the real clock,
 * 0 for a stepped one). */
bool sw_clock_simulated(void);
double sw_clock_speed(void);

/* Now: wall clock in Unix seconds and milliseconds; the monotonic reading
 * in milliseconds (only differences mean anything). */
int64_t sw_clock_now(void);
int64_t sw_clock_now_ms(void);
int64_t sw_clock_mono_ms(void);

/* The real monotonic clock in milliseconds, whatever the clock is set to:
 * for real durations measured on purpose (how long a piece of work took,
 * a bounded drain at exit), never for deadlines. */
int64_t sw_clock_real_mono_ms(void);

/* Real milliseconds to wait for a simulated delay of sim_ms (>= 0),
 * rounded up so a timer never fires early: sim_ms / speed; sim_ms for the
 * real clock; -1 (wait for other events only) for a stepped clock when
 * sim_ms > 0, 0 when it is 0. */
int64_t sw_clock_real_wait_ms(int64_t sim_ms);

/* The spec of the clock as it runs now, for handing to a child process
 * (START as RFC 3339 UTC, with the anchor it was applied at); "" for the
 * real clock. */
void sw_clock_spec_string(char *buf, size_t len);

#endif
