/*
 * test_daemon.c - unit tests for lib/daemon.c: command line parsing and
 * loading the shared sections.  The life cycle (detach, signals, reload)
 * is tested against the real programs in tests/integration/020-*.sh.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/daemon.h"
#include "tap.h"

static const struct sw_daemon_desc test_desc = { .name = "test", .summary = "test" };

static enum sw_err parse(struct sw_daemon_args *a, char *err, size_t errlen, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = "slipwatch-test";
	va_start(ap, errlen);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return sw_daemon_parse_args(argc, argv, a, err, errlen);
}

static void test_args(void)
{
	struct sw_daemon_args a;
	char err[256];

	is_int(parse(&a, err, sizeof(err), NULL), SW_OK, "no arguments");
	is_str(a.conf_path, sw_daemon_default_conf(), "default config path");
	ok(!a.check_only && !a.foreground && !a.help && !a.version && !a.pid_file, "no flags set");
	is_int(parse(&a, err, sizeof(err), "-c", "/x.conf", "-t", "-v", "-f", NULL), SW_OK,
	       "short options");
	is_str(a.conf_path, "/x.conf", "-c sets the path");
	ok(a.check_only && a.verbose && a.foreground, "-t -v -f set");
	is_int(parse(&a, err, sizeof(err), "--config=/y.conf", "--test", "--pid-file", "/p", NULL),
	       SW_OK, "long options");
	is_str(a.conf_path, "/y.conf", "--config= sets the path");
	is_str(a.pid_file, "/p", "--pid-file sets the pid file");
	is_int(parse(&a, err, sizeof(err), "--version", NULL), SW_OK, "--version");
	ok(a.version, "version flag");
	is_int(parse(&a, err, sizeof(err), "-h", NULL), SW_OK, "-h");
	ok(a.help, "help flag");
	is_int(parse(&a, err, sizeof(err), "-x", NULL), SW_EINVAL, "unknown option refused");
	is_str(err, "unknown option '-x'", "error names the option");
	is_int(parse(&a, err, sizeof(err), "-c", NULL), SW_EINVAL, "-c without file refused");
	is_str(err, "option '-c' needs an argument", "error says what is missing");
	is_int(parse(&a, err, sizeof(err), "--bogus", NULL), SW_EINVAL, "unknown long option refused");
	is_str(err, "unknown option '--bogus'", "error names the long option");
	is_int(parse(&a, err, sizeof(err), "extra", NULL), SW_EINVAL, "stray argument refused");
	is_str(err, "unexpected argument 'extra'", "error names the stray argument");
	is_int(parse(&a, err, sizeof(err), "-c", "", NULL), SW_EINVAL, "empty config path refused");
}

static char *data(const char *name)
{
	const char *dir = getenv("SW_TEST_DATA") ? getenv("SW_TEST_DATA") : "tests/data";
	char *p;

	if (asprintf(&p, "%s/daemon/%s", dir, name) < 0)
		abort();
	return p;
}

static enum sw_err load(const char *name, struct sw_daemon_conf *conf, char *err, size_t errlen)
{
	struct sw_conf *file;
	void *state;
	char *path = data(name);
	enum sw_err rc = sw_daemon_load_conf(&test_desc, path, &file, conf, &state, err, errlen);

	free(path);
	if (rc == SW_OK)
		sw_conf_free(file);
	return rc;
}

static void test_load(void)
{
	struct sw_daemon_conf c;
	struct sw_buf out;
	char err[512];

	is_int(load("good.conf", &c, err, sizeof(err)), SW_OK, "good file loads");
	is_str(c.store_path, "/tmp/x.db", "[store] path read");
	is_int(c.log_level, SW_LOG_DEBUG, "[log] level read");
	is_int(c.log_dest, SW_DAEMON_LOG_STDERR, "[log] destination read");
	sw_buf_init(&out, 4096);
	sw_daemon_conf_dump(&c, &out);
	ok(strstr(sw_buf_str(&out), "path = /tmp/x.db") != NULL, "dump shows the path");
	ok(strstr(sw_buf_str(&out), "level = debug") != NULL, "dump shows the level");
	sw_buf_free(&out);
	sw_daemon_conf_free(&c);

	is_int(load("unknown-section.conf", &c, err, sizeof(err)), SW_ECONF, "unknown section refused");
	ok(strstr(err, "unknown-section.conf:4: unknown section") != NULL &&
		   strstr(err, "'[stroe]'") != NULL,
	   "error names file:line and the section (%s)", err);
	is_int(load("bad-level.conf", &c, err, sizeof(err)), SW_ECONF, "bad enum refused");
	ok(strstr(err, "bad-level.conf:2:") != NULL && strstr(err, "loud") != NULL,
	   "error names file:line and the value (%s)", err);
	is_int(load("unknown-key.conf", &c, err, sizeof(err)), SW_ECONF, "unknown key refused");
	ok(strstr(err, "unknown-key.conf:3:") != NULL && strstr(err, "busy") != NULL,
	   "error names file:line and the key (%s)", err);
	is_int(load("missing.conf", &c, err, sizeof(err)), SW_EIO, "missing file refused");
	ok(strstr(err, "missing.conf") != NULL, "error names the missing file (%s)", err);
	ok(sw_daemon_known_section("store") && sw_daemon_known_section("alerts") &&
		   !sw_daemon_known_section("stroe"),
	   "known section kinds");
}

int main(void)
{
	test_args();
	test_load();
	return tap_done();
}
