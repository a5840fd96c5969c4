/*
 * tap.h - a minimal Test Anything Protocol emitter for unit tests.
 *
 * Each check prints "ok N - what" or "not ok N - what" with the location;
 * tap_done() prints the plan and returns the exit status.  automake's
 * tap-driver.sh counts every line, so the suite's totals are per check.
 * Header-only so that fuzz and bench programs can reuse it.
 */
#ifndef SW_TAP_H
#define SW_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int __attribute__((format(printf, 4, 5)))
tap_check(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

/* ok(cond, "description %d", args...) */
#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* is_int(got, want, "description") */
#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
		if (!ok(tap_g_ == tap_w_, __VA_ARGS__))                        \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_);   \
	} while (0)

/* is_str(got, want, "description"); NULL compares equal only to NULL */
#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *tap_gs_ = (got), *tap_ws_ = (want);                \
		int tap_eq_ = (tap_gs_ && tap_ws_) ? strcmp(tap_gs_, tap_ws_) == 0 \
						   : tap_gs_ == tap_ws_;       \
		if (!ok(tap_eq_, __VA_ARGS__))                                 \
			printf("#   got \"%s\", want \"%s\"\n",                \
			       tap_gs_ ? tap_gs_ : "(null)",                   \
			       tap_ws_ ? tap_ws_ : "(null)");                  \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/* TAP's "Bail out!": the set-up failed, nothing further can be checked. */
static inline void __attribute__((format(printf, 1, 2), noreturn)) tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

#endif /* SW_TAP_H */
