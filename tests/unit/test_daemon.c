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
#include <unistd.h>

#include "lib/clock.h"
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
	is_int(parse(&a, err, sizeof(err), NULL), SW_OK, "no --clock");
	ok(a.clock_spec == NULL, "no clock spec");
	is_int(parse(&a, err, sizeof(err), "--clock", "now*100", "-t", NULL), SW_OK, "--clock SPEC");
	is_str(a.clock_spec, "now*100", "--clock sets the spec (parsed later, with the file)");
	is_int(parse(&a, err, sizeof(err), "--clock", NULL), SW_EINVAL, "--clock without spec refused");
	is_str(err, "option '--clock' needs an argument", "error says what is missing");
	is_int(parse(&a, err, sizeof(err), "--clock=", NULL), SW_EINVAL, "empty --clock refused");
	is_str(err, "--clock: an empty spec is not a clock", "error says why");
}

/* sw_daemon_clock: the spec from --clock or SLIPWATCH_CLOCK, applied only
 * with [simulation] enabled = yes; the clock unchanged on every refusal. */
struct clock_case {
	bool enabled;    /* [simulation] enabled */
	const char *env; /* SLIPWATCH_CLOCK, NULL unset */
	const char *opt; /* --clock, NULL none */
	const char *err; /* NULL: accepted */
	bool simulated;  /* the clock afterwards */
};

static const struct clock_case clock_cases[] = {
	{ false, NULL, NULL, NULL, false },
	{ false, "", NULL, NULL, false },
	{ true, NULL, NULL, NULL, false },
	{ true, "2026-03-02T02:30:00Z*0", NULL, NULL, true },
	{ true, "junk", "2026-03-02T02:30:00Z*0", NULL, true },
	{ false, "2026-03-02T02:30:00Z*100", NULL,
	  "SLIPWATCH_CLOCK is set but /etc/sw.conf has no [simulation] enabled = yes: a simulated "
	  "clock is refused in a production configuration",
	  false },
	{ false, NULL, "now",
	  "--clock is given but /etc/sw.conf has no [simulation] enabled = yes: a simulated clock "
	  "is refused in a production configuration",
	  false },
	{ false, "now*x", NULL, "SLIPWATCH_CLOCK: speed 'x' is not a number >= 0", false },
	{ true, "now*x", NULL, "SLIPWATCH_CLOCK: speed 'x' is not a number >= 0", false },
	{ true, NULL, "now*x", "--clock: speed 'x' is not a number >= 0", false },
	{ true, NULL, "tomorrow", "--clock: start 'tomorrow' is not an RFC 3339 instant with an offset",
	  false },
};

static void test_clock(void)
{
	char err[512], what[64];

	for (size_t i = 0; i < sizeof(clock_cases) / sizeof(clock_cases[0]); i++) {
		const struct clock_case *c = &clock_cases[i];
		struct sw_daemon_conf conf = { .sim_enabled = c->enabled };
		enum sw_err rc;

		if (c->env)
			setenv(SW_CLOCK_ENV, c->env, 1);
		else
			unsetenv(SW_CLOCK_ENV);
		snprintf(what, sizeof(what), "clock case %zu", i + 1);
		err[0] = '\0';
		rc = sw_daemon_clock(&conf, "/etc/sw.conf", c->opt, err, sizeof(err));
		is_int(rc, c->err ? SW_EINVAL : SW_OK, "%s: %s", what, c->err ? "refused" : "accepted");
		is_str(err, c->err ? c->err : "", "%s: the message", what);
		ok(sw_clock_simulated() == c->simulated, "%s: the clock is %s", what,
		   c->simulated ? "simulated" : "real");
		if (c->simulated) {
			sw_daemon_clock_describe(err, sizeof(err));
			is_str(err, "stepped, 2026-03-02T02:30:00Z (moves only when stepped)",
			       "%s: described", what);
		}
		sw_clock_reset();
	}
	unsetenv(SW_CLOCK_ENV);
	sw_daemon_clock_describe(err, sizeof(err));
	is_str(err, "real", "the real clock is described as real");
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
	ok(sw_daemon_known_section(&test_desc, "store") && sw_daemon_known_section(&test_desc, "log") &&
		   !sw_daemon_known_section(&test_desc, "alerts") &&
		   !sw_daemon_known_section(&test_desc, "stroe"),
	   "without parts only [store] and [log] are known");
}

/* ---- the registry: every part judged by every program -------------------- */

/* Two fake programs: "one" reads [one] and [shared], "two" reads [two]
 * (with a secret) and [shared].  Each state records whether it was
 * configured as text only. */
struct fake {
	int64_t n;
	struct sw_conf_secret key;
	bool text_only;
};

static const struct sw_conf_opt one_table[] = {
	{ .name = "n", .type = SW_CONF_INT, .offset = offsetof(struct fake, n), .min = 0, .max = 9,
	  .def = "1", .help = "a number" },
	{ .name = NULL },
};

static const struct sw_conf_opt two_table[] = {
	{ .name = "key", .type = SW_CONF_SECRET, .offset = offsetof(struct fake, key),
	  .help = "a secret" },
	{ .name = NULL },
};

static int configured[2]; /* calls of each part's configure */

static void fake_free(void *state)
{
	sw_conf_free_struct(two_table, state);
	free(state);
}

static void fake_dump(const void *state, struct sw_buf *out)
{
	sw_buf_printf(out, "n = %lld\n", (long long)((const struct fake *)state)->n);
}

static enum sw_err fake_configure(struct sw_conf *conf, const char *kind,
				  const struct sw_conf_opt *table, void **ret_state, char *errbuf,
				  size_t errlen)
{
	struct fake *f = calloc(1, sizeof(*f));
	enum sw_err rc;

	f->text_only = sw_conf_text_only(conf);
	rc = sw_conf_apply(conf, kind, NULL, table, f, errbuf, errlen);
	if (rc == SW_OK)
		sw_conf_claim(conf, "shared");
	if (rc) {
		fake_free(f);
		return rc;
	}
	*ret_state = f;
	return SW_OK;
}

static enum sw_err one_configure(struct sw_conf *conf, void **ret_state, char *errbuf,
				 size_t errlen)
{
	configured[0]++;
	return fake_configure(conf, "one", one_table, ret_state, errbuf, errlen);
}

static enum sw_err two_configure(struct sw_conf *conf, void **ret_state, char *errbuf,
				 size_t errlen)
{
	configured[1]++;
	return fake_configure(conf, "two", two_table, ret_state, errbuf, errlen);
}

static const char *const one_kinds[] = { "one", "shared", NULL };
static const char *const two_kinds[] = { "two", "shared", NULL };
static const struct sw_daemon_part part_one = { "one", one_kinds, one_configure, fake_dump,
						fake_free };
static const struct sw_daemon_part part_two = { "two", two_kinds, two_configure, fake_dump,
						fake_free };
static const struct sw_daemon_part *const registry[] = { &part_one, &part_two, NULL };
static const struct sw_daemon_desc desc_one = { .name = "one", .summary = "1", .part = &part_one,
						.registry = registry };
static const struct sw_daemon_desc desc_two = { .name = "two", .summary = "2", .part = &part_two,
						.registry = registry };
static const struct sw_daemon_desc desc_cli = { .name = "cli", .summary = "c",
						.registry = registry };

static char *spew_conf(const char *text)
{
	char *path = strdup("/tmp/sw-test-daemon.XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

/* sw_daemon_load_conf of text by desc; *ret_state kept for the caller. */
static enum sw_err load_by(const struct sw_daemon_desc *desc, const char *text,
			   void **ret_state, char *err, size_t errlen)
{
	char *path = spew_conf(text);
	struct sw_daemon_conf c;
	struct sw_conf *file;
	enum sw_err rc;

	memset(configured, 0, sizeof(configured));
	*ret_state = NULL;
	rc = sw_daemon_load_conf(desc, path, &file, &c, ret_state, err, errlen);
	if (rc == SW_OK) {
		sw_conf_free(file);
		sw_daemon_conf_free(&c);
	} else {
		/* the path is random: keep only what follows it */
		size_t n = strlen(path);

		if (strncmp(err, path, n) == 0)
			memmove(err, err + n, strlen(err + n) + 1);
	}
	unlink(path);
	free(path);
	return rc;
}

static void test_registry(void)
{
	const char *good = "[store]\npath = /tmp/x.db\n[one]\nn = 3\n[two]\n"
			   "key_env = SW_TEST_DAEMON_UNSET\n[shared]\n";
	char err[512], err2[512];
	struct fake *f;
	void *state;

	unsetenv("SW_TEST_DAEMON_UNSET");
	is_int(load_by(&desc_one, good, &state, err, sizeof(err)), SW_OK,
	       "one: another part's unset secret is not read (%s)", err);
	f = state;
	ok(f && f->n == 3 && !f->text_only, "one: its own part applied for real, kept as state");
	ok(configured[0] == 1 && configured[1] == 1, "one: both parts configured once");
	fake_free(state);
	is_int(load_by(&desc_two, good, &state, err, sizeof(err)), SW_ECONF,
	       "two: its own unset secret is an error");
	is_str(err, ":6: [two] key_env: environment variable is not set: 'SW_TEST_DAEMON_UNSET'",
	       "...naming the line");
	is_int(load_by(&desc_cli, good, &state, err, sizeof(err)), SW_OK,
	       "a program without a part checks every part as text only (%s)", err);
	ok(state == NULL && configured[0] == 1 && configured[1] == 1, "...and keeps no state");

	is_int(load_by(&desc_one, "[two]\nkee_env = X\n", &state, err, sizeof(err)), SW_ECONF,
	       "one: a typo in another part's section is an error");
	is_int(load_by(&desc_two, "[two]\nkee_env = X\n", &state, err2, sizeof(err2)), SW_ECONF,
	       "two: the same typo");
	is_str(err, ":2: unknown key 'kee_env' in [two]", "one names file:line");
	is_str(err2, err, "two gives the same error");
	is_int(load_by(&desc_two, "[one]\nn = 10\n[two]\nkey_env = 1X\n", &state, err,
		       sizeof(err)), SW_ECONF, "two: two errors");
	is_str(err, ":2: [one] n: '10' is out of range (0..9)",
	       "the registry's order decides which comes first, for every program");

	is_int(load_by(&desc_two, "[three]\n", &state, err, sizeof(err)), SW_ECONF,
	       "a section no part reads is an error");
	is_str(err, ":1: unknown section (no slipwatch program reads it): '[three]'",
	       "...naming it and its line");
	ok(sw_daemon_known_section(&desc_one, "two") && sw_daemon_known_section(&desc_cli, "shared") &&
		   sw_daemon_known_section(&desc_cli, "store") &&
		   !sw_daemon_known_section(&desc_two, "three"),
	   "known section kinds come from the registry");
}

int main(void)
{
	test_args();
	test_clock();
	test_load();
	test_registry();
	return tap_done();
}
