/*
 * slipwatch-rrd.c - check RRD files against the metric catalogue, and
 * migrate those whose layout no longer matches.
 *
 *   slipwatch-rrd [-c FILE] check [NAME...]     every file under [rrd] dir
 *                                               (or the NAMEs given)
 *   slipwatch-rrd [-c FILE] migrate NAME...     rename NAME.rrd to
 *                                               NAME.rrd.old-<time> and
 *                                               create a fresh file
 *
 * NAME is the file's name under the RRD directory without ".rrd", as the
 * daemons' errors give it ("warehouse/blr1").  Stop the daemons writing a
 * file before migrating it, or let them refuse it until then: a daemon
 * checks a file once, before its first write.  Exit status: 0 all well, 1
 * a file mismatched or could not be checked or migrated, 2 usage.
 */
#include "config.h"

#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/conf.h"
#include "lib/daemon.h"
#include "lib/rrd.h"
#include "lib/xmalloc.h"

static struct sw_rrd *writer;
static const char *rrd_dir;
static int bad;

static void usage(FILE *out)
{
	fprintf(out, "usage: slipwatch-rrd [-c FILE] check [NAME...]\n"
		     "       slipwatch-rrd [-c FILE] migrate NAME...\n"
		     "NAME is a file under [rrd] dir without .rrd, e.g. warehouse/blr1.\n"
		     "  -c FILE  configuration file (default %s)\n",
		sw_daemon_default_conf());
}

static void check_one(const char *name)
{
	char err[1024];
	enum sw_err rc = sw_rrd_check_file(writer, name, err, sizeof(err));

	switch (rc) {
	case SW_OK:
		printf("ok         %s.rrd\n", name);
		return;
	case SW_ENOTFOUND:
		printf("missing    %s.rrd (created at the first write)\n", name);
		return;
	case SW_EVERSION:
		printf("MISMATCH   %s\n", err);
		break;
	default:
		printf("ERROR      %s\n", err);
		break;
	}
	bad = 1;
}

/* nftw callback: every regular *.rrd file under the directory. */
static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t len = strlen(path), base = strlen(rrd_dir);
	char *name;

	if (type != FTW_F || len < base + 5 || strcmp(path + len - 4, ".rrd") != 0)
		return 0;
	name = xstrndup(path + base + 1, len - base - 1 - 4);
	check_one(name);
	free(name);
	return 0;
}

static int run(const char *cmd, int argc, char **argv)
{
	char err[1024];

	if (strcmp(cmd, "check") == 0) {
		if (argc == 0 && nftw(rrd_dir, visit, 16, FTW_PHYS) != 0) {
			fprintf(stderr, "slipwatch-rrd: cannot read %s\n", rrd_dir);
			return 1;
		}
		for (int i = 0; i < argc; i++)
			check_one(argv[i]);
		return bad;
	}
	if (strcmp(cmd, "migrate") == 0 && argc > 0) {
		for (int i = 0; i < argc; i++) {
			if (sw_rrd_migrate(writer, argv[i], time(NULL), err, sizeof(err)) != SW_OK) {
				printf("ERROR      %s\n", err);
				bad = 1;
			} else {
				printf("migrated   %s.rrd (the old file is kept as %s.rrd.old-*)\n",
				       argv[i], argv[i]);
			}
		}
		return bad;
	}
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *conf_path = sw_daemon_default_conf();
	struct sw_rrd_conf rc = { 0 };
	struct sw_conf *conf = NULL;
	char err[1024];
	int c, status;

	while ((c = getopt(argc, argv, "+c:h")) != -1) {
		if (c == 'c') {
			conf_path = optarg;
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (sw_conf_load(conf_path, &conf, err, sizeof(err)) != SW_OK ||
	    sw_conf_apply(conf, "rrd", NULL, sw_rrd_conf_table, &rc, err, sizeof(err)) != SW_OK ||
	    sw_rrd_new(&rc, &writer, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-rrd: %s\n", err);
		sw_conf_free(conf);
		sw_conf_free_struct(sw_rrd_conf_table, &rc);
		return 1;
	}
	rrd_dir = rc.dir;
	status = run(argv[optind], argc - optind - 1, argv + optind + 1);
	sw_rrd_free(writer);
	sw_conf_free_struct(sw_rrd_conf_table, &rc);
	sw_conf_free(conf);
	return status;
}
