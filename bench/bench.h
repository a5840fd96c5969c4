/*
 * bench.h - helpers the benchmark programs share (header-only): a
 * monotonic clock in seconds and strict parsing of count arguments.
 */
#ifndef SW_BENCH_H
#define SW_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in seconds. */
static inline double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* s as a whole number in 1..max, or a message naming prog and what, and
 * exit status 2. */
static inline long arg_long(const char *prog, const char *s, const char *what, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "%s: %s: '%s' is not in 1..%ld\n", prog, what, s, max);
		exit(2);
	}
	return v;
}

#endif /* SW_BENCH_H */
