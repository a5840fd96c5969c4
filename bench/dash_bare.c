/*
 * dash_bare.c - the baseline of bench/dash-render.sh: the graphs
 * slipwatch-dash drew, drawn again by rrd_graph_v alone, in one process,
 * one after another, with nothing around them (no definitions, no HTML,
 * no site).
 *
 * usage: dash_bare ARGV_FILE OUT_DIR
 *
 * ARGV_FILE is what bench/dash_argv.c recorded (each call's arguments,
 * NUL-separated, an empty one after each call).  Each call is made with
 * the same arguments but its image path (argv[1]) replaced by
 * OUT_DIR/N.svg (or .png, as the original), so nothing of the site is
 * touched.  Prints "graphs N failed F seconds S" (the calls only, on
 * CLOCK_MONOTONIC); exit 0, 1 when a call failed (librrd's words on
 * stderr), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rrd.h>

#include "bench/bench.h"

#define MAX_ARGS 4096

/* The whole file, NUL-terminated, into a new buffer; its length. */
static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "dash_bare: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	do {
		if (len + 65536 + 1 > cap) {
			cap = 2 * cap + 65536 + 1;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		n = fread(buf + len, 1, 65536, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/* One call: argv[0..argc) with the image put in dir; 0, or 1 (printed). */
static int draw(char **argv, int argc, const char *dir, long k)
{
	const char *dot = strrchr(argv[1], '.');
	char path[4096];
	rrd_info_t *info;

	snprintf(path, sizeof(path), "%s/%ld%s", dir, k, dot ? dot : ".svg");
	argv[1] = path;
	rrd_clear_error();
	info = rrd_graph_v(argc, argv);
	if (info == NULL) {
		fprintf(stderr, "dash_bare: graph %ld: %s\n", k, rrd_get_error());
		return 1;
	}
	rrd_info_free(info);
	return 0;
}

int main(int argc, char **argv)
{
	static char *args[MAX_ARGS + 1];
	size_t len, at = 0;
	long graphs = 0, failed = 0;
	int n = 0;
	char *buf;
	double t0;

	if (argc != 3) {
		fprintf(stderr, "usage: dash_bare ARGV_FILE OUT_DIR\n");
		return 2;
	}
	buf = slurp(argv[1], &len);
	t0 = now_mono();
	while (at < len) {
		char *arg = buf + at;

		at += strlen(arg) + 1;
		if (*arg && n < MAX_ARGS) {
			args[n++] = arg;
			continue;
		}
		if (n >= 2)
			failed += draw(args, n, argv[2], graphs++);
		n = 0;
	}
	printf("graphs %ld failed %ld seconds %.6f\n", graphs, failed, now_mono() - t0);
	free(buf);
	return failed ? 1 : 0;
}
