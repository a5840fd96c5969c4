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
 * checks a file once, before its first write.  -h/--help and --version
 * print to stdout and exit 0, as the daemons' do.  Exit status: 0 all
 * well, 1 a file mismatched or could not be checked or migrated, 2 usage.
 */
#include "config.h"

#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/daemon.h"
#include "lib/rrd.h"
#include "lib/xmalloc.h"

static struct sw_rrd *writer;
static const char *rrd_dir;
static int bad;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: slipwatch-rrd [-c FILE] check [NAME...]\n"
		"       slipwatch-rrd [-c FILE] migrate NAME...\n"
		"       slipwatch-rrd -h | --version\n"
		"check RRD files against the metric catalogue; migrate mismatched ones\n"
		"NAME is a file under [rrd] dir without .rrd, e.g. warehouse/blr1.\n"
		"  -c, --config FILE  configuration file (default %s);\n"
		"                     only its [rrd] section is read\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"Exit status: 0 all files match, 1 a file does not or failed, 2 usage error.\n",
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
			if (sw_rrd_migrate(writer, argv[i], sw_clock_now(), err, sizeof(err)) !=
			    SW_OK) {
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

/* What getopt_long refused (c is '?' or ':', or 'c' with an empty
 * value), on stderr with the usage: exit status 2. */
static int bad_option(int c, char **argv)
{
	const char *el = argv[optind - 1];

	if (c == 'c')
		fprintf(stderr, "slipwatch-rrd: -c: an empty file name is not a file\n");
	else if (c == ':')
		fprintf(stderr, "slipwatch-rrd: option '%s' needs a value\n", el);
	else if (strncmp(el, "--", 2) == 0) /* unknown, or "--version=x" */
		fprintf(stderr, "slipwatch-rrd: bad option '%s'\n", el);
	else /* a short one, maybe inside a cluster ("-xc FILE") */
		fprintf(stderr, "slipwatch-rrd: unknown option '-%c'\n", optopt);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf_path = sw_daemon_default_conf();
	struct sw_rrd_conf rc = {0};
	struct sw_conf *conf = NULL;
	char err[1024];
	int c, status;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			if (c == 'h')
				usage(stdout);
			else
				printf("slipwatch-rrd %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (c != 'c' || !*optarg)
			return bad_option(c, argv);
		conf_path = optarg;
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
