/*
 * dash_argv.c - an LD_PRELOAD shim for bench/dash-render.sh: records the
 * arguments of every rrd_graph_v call a program makes (slipwatch-dash
 * --once), then calls librrd's own, so that dash_bare can draw exactly
 * the same graphs with nothing around them.
 *
 * The file is $SW_BENCH_ARGV_FILE (nothing is recorded without it): each
 * argument followed by a NUL, each call ended by an empty argument (an
 * argument is never empty; arguments hold blanks, colons and backslashes,
 * never a NUL).  At exit, "dash_argv: calls N seconds S" on stderr: the
 * time spent inside librrd's rrd_graph_v, so that the rest of the
 * program's time is its own.  One thread, as slipwatch-dash draws.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rrd.h>

#include "bench/bench.h"

typedef rrd_info_t *(*graph_fn)(int, char **);

static long calls;
static double inside;

static void __attribute__((destructor)) report(void)
{
	if (calls)
		fprintf(stderr, "dash_argv: calls %ld seconds %.6f\n", calls, inside);
}

rrd_info_t *rrd_graph_v(int argc, char **argv)
{
	static graph_fn real;
	static FILE *out;
	static int opened;
	rrd_info_t *info;
	double t0;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "rrd_graph_v");
	if (!opened) {
		const char *path = getenv("SW_BENCH_ARGV_FILE");

		opened = 1;
		out = path ? fopen(path, "w") : NULL;
	}
	if (out) {
		for (int i = 0; i < argc; i++)
			fwrite(argv[i], 1, strlen(argv[i]) + 1, out);
		fputc('\0', out);
		fflush(out);
	}
	t0 = now_mono();
	info = real(argc, argv);
	inside += now_mono() - t0;
	calls++;
	return info;
}
