/*
 * log.h - level-gated, one-line-per-message logging for slipwatch daemons.
 *
 * Every message is exactly one line, "component level: target: message",
 * preceded on stderr by a UTC timestamp:
 *   2026-11-24T09:15:00.123Z collector warning: courier dhl: HTTP 429, retry in 30 s
 * On syslog the ident is the component, the priority matches the level and
 * the text is "level: target: message".  Control characters in the target
 * or message (newline, CR, tab, ESC, DEL, C1 controls) and bytes that are
 * not valid UTF-8 are written as \n, \r, \t or \xNN, so input data can
 * never split or forge a line.  Messages longer than SW_LOG_MSG_MAX bytes
 * (after escaping) are cut and end in "...".
 *
 * Repeated failures of one target go through struct sw_log_complain
 * (collectd's c_complain): first failure logged, repeats suppressed with a
 * doubling interval, recovery logged once.
 *
 * This is the only module that prints.  Single-threaded: call from the
 * daemon's loop thread only, except sw_log_write and the level wrappers,
 * which change no state after sw_log_init() (buffers on the stack, one
 * locked stdio or syslog call per line) and may be called from another
 * thread once it
 * has run (slipwatch-dash's HTTP server thread logs its access lines);
 * the complain helpers may not.  Usable before sw_log_init() (component
 * "slipwatch", level info, stderr).
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "lib/error.h"

enum sw_log_level {
	SW_LOG_ERR,     /* something failed; data or service affected */
	SW_LOG_WARNING, /* something failed; retried or worked around */
	SW_LOG_NOTICE,  /* normal but significant (start, stop, reload) */
	SW_LOG_INFO,    /* routine progress */
	SW_LOG_DEBUG,   /* for developers */
	SW_LOG_LAST
};

enum sw_log_dest {
	SW_LOG_DEST_STDERR,
	SW_LOG_DEST_SYSLOG, /* LOG_DAEMON, ident = component, with pid */
	SW_LOG_DEST_LAST
};

/* Most bytes of (escaped) message text in one line; longer is cut to end
 * in "...".  The target is limited to SW_LOG_TARGET_MAX the same way. */
#define SW_LOG_MSG_MAX 2048
#define SW_LOG_TARGET_MAX 128

/* Current threshold: messages with level <= it are written.  Read by the
 * macros below; change it only through sw_log_set_level(). */
extern enum sw_log_level sw_log_threshold;

/* True if a message at level lvl would be written. */
#define sw_log_enabled(lvl) ((lvl) <= sw_log_threshold)

/*
 * sw_log_err(target, fmt, ...) etc.: log one message at that level.
 * target is a short NUL-terminated name ("courier dhl") or NULL for none.
 * When the level is off, no argument is evaluated.
 */
#define sw_log_at(lvl, target, ...)                                            \
	do {                                                                   \
		if (sw_log_enabled(lvl))                                       \
			sw_log_write((lvl), (target), __VA_ARGS__);            \
	} while (0)
#define sw_log_err(target, ...) sw_log_at(SW_LOG_ERR, target, __VA_ARGS__)
#define sw_log_warn(target, ...) sw_log_at(SW_LOG_WARNING, target, __VA_ARGS__)
#define sw_log_notice(target, ...) sw_log_at(SW_LOG_NOTICE, target, __VA_ARGS__)
#define sw_log_info(target, ...) sw_log_at(SW_LOG_INFO, target, __VA_ARGS__)
#define sw_log_debug(target, ...) sw_log_at(SW_LOG_DEBUG, target, __VA_ARGS__)

/*
 * Sets the component name (copied), the threshold and the destination.
 * For SW_LOG_DEST_SYSLOG opens syslog with the component as ident.  May be
 * called again (e.g. after a reload) to change any of them.  A NULL
 * component keeps the current one; an out-of-range level or destination is
 * replaced by info / stderr.
 */
void sw_log_init(const char *component, enum sw_log_level level,
		 enum sw_log_dest dest);

/* Changes the threshold; out-of-range values are ignored. */
void sw_log_set_level(enum sw_log_level level);

/* Closes syslog if open, frees the component and returns to the defaults.
 * Test hooks (stream, sink, clock) are reset too. */
void sw_log_fini(void);

/* Returns "error", "warning", "notice", "info" or "debug"; "?" for an
 * out-of-range value.  Never NULL. */
const char *sw_log_level_name(enum sw_log_level level);

/*
 * Parses a level name as written in the configuration: the names above,
 * case-insensitive, plus "err" and "warn".  SW_OK and *ret_level set, or
 * SW_EINVAL (NULL or unknown name; *ret_level untouched).
 */
enum sw_err sw_log_level_parse(const char *s, enum sw_log_level *ret_level);

/*
 * Writes one message if level is enabled (the macros are the usual way in).
 * target may be NULL.  Never fails visibly: write errors are ignored.
 */
void sw_log_write(enum sw_log_level level, const char *target,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Rate limiting of repeated failures of one target.  Keep one struct per
 * target and failure kind, zero-initialised (SW_LOG_COMPLAIN_INIT).  The
 * fields are private to log.c.
 */
struct sw_log_complain {
	int64_t last_ms;     /* when a complaint was last written */
	int64_t interval_ms; /* current quiet interval; 0 = not complaining */
	unsigned long suppressed; /* complaints not written since last_ms */
};

#define SW_LOG_COMPLAIN_INIT { 0, 0, 0 }
#define SW_LOG_COMPLAIN_FIRST_MS ((int64_t)10 * 1000)  /* first interval */
#define SW_LOG_COMPLAIN_MAX_MS ((int64_t)86400 * 1000) /* cap: one day */

/*
 * Reports a failure.  The first one is written at once; later ones are
 * only counted until the quiet interval (10 s at first) has passed since
 * the last written one, then written with " (N similar messages
 * suppressed)" appended, and the interval doubles up to one day.  The
 * format is not expanded for suppressed calls.  State advances even when
 * level is gated off.
 */
void sw_log_complain(struct sw_log_complain *c, enum sw_log_level level,
		     const char *target, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Reports recovery.  Writes the message once, only if a complaint had been
 * written since the last release (with the count of suppressed complaints
 * appended if any), and resets *c.  Otherwise does nothing.
 */
void sw_log_release(struct sw_log_complain *c, enum sw_log_level level,
		    const char *target, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- test hooks ---- */

/* Sends every line, in the stderr format (with timestamp), to f instead
 * of the configured destination; NULL restores it.  f stays the caller's. */
void sw_log_set_stream(FILE *f);

/*
 * Hands every enabled message to fn instead of any stream or syslog:
 * line is "component level: target: message" (no timestamp, no newline),
 * valid during the call only.  NULL restores normal output.
 */
typedef void sw_log_sink_fn(enum sw_log_level level, const char *line,
			    void *arg);
void sw_log_set_sink(sw_log_sink_fn *fn, void *arg);

/* Replaces the monotonic millisecond clock used by sw_log_complain(); NULL
 * restores CLOCK_MONOTONIC. */
typedef int64_t sw_log_clock_fn(void);
void sw_log_set_clock(sw_log_clock_fn *fn);

#endif /* SW_LOG_H */
