/*
 * test_conf.c - unit tests for lib/conf.c.
 *
 * Fixtures live in tests/data/conf/ (found through $SW_TEST_DATA, else
 * tests/data from the current directory).  Error cases are data: a config
 * text and the exact message it must produce.  Secrets use a recognisable
 * value that is checked to appear in no message and no dump.
 */
#include "config.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

#define SECRET_ENV "s3cr3t-ENV"
#define SECRET_FILE "s3cr3t-FILE"

struct tconf {
	bool enabled;
	int64_t port;
	double ratio;
	char *client_id;
	char *dir;
	int64_t timeout;
	int64_t max_size;
	int level;
	struct sw_conf_secret password;
};

static const char *const levels[] = { "error", "warning", "notice", "info",
				      "debug", NULL };

#define T(f) offsetof(struct tconf, f)
static const struct sw_conf_opt mqtt_opts[] = {
	{ .name = "enabled", .type = SW_CONF_BOOL, .offset = T(enabled),
	  .def = "yes", .help = "use MQTT at all" },
	{ .name = "port", .type = SW_CONF_INT, .offset = T(port), .min = 1,
	  .max = 65535, .def = "1883", .help = "broker port" },
	{ .name = "ratio", .type = SW_CONF_DOUBLE, .offset = T(ratio),
	  .dmin = 0, .dmax = 1, .def = "0.5", .help = "a fraction" },
	{ .name = "client_id", .type = SW_CONF_STRING, .offset = T(client_id),
	  .def = "slipwatch", .help = "MQTT client id" },
	{ .name = "dir", .type = SW_CONF_PATH, .offset = T(dir),
	  .help = "a directory, no default" },
	{ .name = "timeout", .type = SW_CONF_DURATION, .offset = T(timeout),
	  .min = 100, .max = 600000, .def = "5s", .help = "100ms..10m" },
	{ .name = "max_size", .type = SW_CONF_SIZE, .offset = T(max_size),
	  .min = 1024, .max = INT64_C(1) << 30, .def = "64k", .help = "1k..1G" },
	{ .name = "level", .type = SW_CONF_ENUM, .offset = T(level),
	  .words = levels, .def = "info", .help = "log level" },
	{ .name = "password", .type = SW_CONF_SECRET, .offset = T(password),
	  .help = "broker password" },
	{ .name = NULL },
};

struct courier {
	char *url;
	struct sw_conf_secret api_key;
	int64_t poll;
};

static const struct sw_conf_opt courier_opts[] = {
	{ .name = "api_key", .type = SW_CONF_SECRET,
	  .offset = offsetof(struct courier, api_key), .flags = SW_CONF_REQUIRED },
	{ .name = "url", .type = SW_CONF_STRING,
	  .offset = offsetof(struct courier, url), .flags = SW_CONF_REQUIRED },
	{ .name = "poll", .type = SW_CONF_DURATION,
	  .offset = offsetof(struct courier, poll), .min = 60000,
	  .max = 86400000, .def = "15m" },
	{ .name = NULL },
};

/* Single-option tables for the number parsers, unbounded. */
static const struct sw_conf_opt dur_opts[] = {
	{ .name = "v", .type = SW_CONF_DURATION, .offset = 0 },
	{ .name = NULL },
};
static const struct sw_conf_opt size_opts[] = {
	{ .name = "v", .type = SW_CONF_SIZE, .offset = 0 },
	{ .name = NULL },
};
static const struct sw_conf_opt dbl_opts[] = {
	{ .name = "v", .type = SW_CONF_DOUBLE, .offset = 0 },
	{ .name = NULL },
};
static const struct sw_conf_opt int_opts[] = {
	{ .name = "v", .type = SW_CONF_INT, .offset = 0 },
	{ .name = NULL },
};

static char *data_path(const char *file)
{
	const char *dir = getenv("SW_TEST_DATA");

	return xasprintf("%s/conf/%s", dir && *dir ? dir : "tests/data", file);
}

/* Writes len bytes to a new private temp file; returns its path. */
static char *temp_file(const void *data, size_t len, mode_t mode)
{
	char *path = xstrdup("/tmp/sw_test_conf_XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode))
		abort();
	close(fd);
	return path;
}

/* Loads text as "t.conf" and applies [t] with table into s; err holds the
 * message of whichever step failed. */
static enum sw_err apply_text(const char *text, const char *kind,
			      const struct sw_conf_opt *table, void *s,
			      char *err, size_t errlen)
{
	struct sw_conf *conf;
	enum sw_err rc;

	err[0] = '\0';
	rc = sw_conf_load_string(text, "t.conf", &conf, err, errlen);
	if (rc)
		return rc;
	rc = sw_conf_apply(conf, kind, NULL, table, s, err, errlen);
	sw_conf_free(conf);
	return rc;
}

static void test_good_file(void)
{
	char *path = data_path("good.conf"), err[512];
	struct tconf m = { 0 };
	struct courier c = { 0 };
	struct sw_conf *conf;
	const char *kind, *name;
	int line;

	setenv("SW_TEST_PW", SECRET_ENV, 1);
	is_int(sw_conf_load(path, &conf, err, sizeof err), SW_OK, "good.conf loads");
	if (!conf) {
		printf("# %s\n", err);
		free(path);
		return;
	}
	is_str(sw_conf_file(conf), path, "file name kept");
	is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err),
	       SW_OK, "[mqtt] applies");
	is_int(m.enabled, 0, "bool off");
	is_int(m.port, 8883, "int");
	ok(m.ratio == 0.25, "double");
	is_str(m.client_id, "sw-ü-日本-✓", "UTF-8 value preserved, inline comment cut");
	is_str(m.dir, "/var/lib/slipwatch", "path");
	is_int(m.timeout, 250, "duration 250ms");
	is_int(m.max_size, 10 * 1024 * 1024, "size 10M");
	is_int(m.level, 4, "enum is case-insensitive (DEBUG)");
	is_str(m.password.value, SECRET_ENV, "secret from environment");
	is_str(m.password.source, "environment variable SW_TEST_PW", "secret source");

	is_str(sw_conf_named(conf, "courier", 0), "dhl", "first courier");
	is_str(sw_conf_named(conf, "courier", 1), "ups-blr.2", "second courier");
	ok(sw_conf_named(conf, "courier", 2) == NULL, "two couriers");
	is_str(sw_conf_named(conf, "warehouse", 1), "del_2", "empty named sections seen");
	ok(sw_conf_named(conf, "mqtt", 0) == NULL, "plain section is not named");
	ok(sw_conf_has(conf, "warehouse", "blr1"), "has [warehouse blr1]");
	ok(!sw_conf_has(conf, "warehouse", NULL), "no plain [warehouse]");

	is_int(sw_conf_apply(conf, "courier", "dhl", courier_opts, &c, err, sizeof err),
	       SW_OK, "[courier dhl] applies");
	is_str(c.url, "https://api.dhl.example/track?x=1;y=2", "indented key; ';' inside a value kept");
	is_int(c.poll, 2 * 3600 * 1000, "poll 2h");
	is_int(sw_conf_apply(conf, "courier", "ups-blr.2", courier_opts, &c, err, sizeof err),
	       SW_OK, "re-apply into a filled struct");
	is_str(c.url, "https://ups.example/", "'key: value' syntax");
	is_int(c.poll, 15 * 60 * 1000, "default poll 15m");

	is_int(sw_conf_unused(conf, 0, &kind, &name, &line), SW_OK, "unused sections listed");
	is_str(kind, "warehouse", "first unused kind");
	is_str(name, "blr1", "first unused name");
	is_int(line, 20, "first unused line");
	sw_conf_claim(conf, "warehouse");
	is_int(sw_conf_unused(conf, 0, &kind, &name, &line), SW_OK, "after claim");
	ok(strcmp(kind, "store") == 0 && name == NULL && line == 27, "only [store] left (line %d)", line);
	is_int(sw_conf_unused(conf, 1, &kind, &name, &line), SW_ENOTFOUND, "end of unused list");

	sw_conf_free_struct(mqtt_opts, &m);
	sw_conf_free_struct(courier_opts, &c);
	ok(m.client_id == NULL && m.password.value == NULL, "free_struct NULLs fields");
	sw_conf_free(conf);
	free(path);
}

static void test_defaults(void)
{
	struct tconf m = { 0 };
	char err[256];

	m.port = 42;
	is_int(apply_text("[mqtt]\n", "mqtt", mqtt_opts, &m, err, sizeof err),
	       SW_OK, "empty section applies");
	is_int(m.enabled, 1, "default bool");
	is_int(m.port, 1883, "default int");
	ok(m.ratio == 0.5, "default double");
	is_str(m.client_id, "slipwatch", "default string");
	ok(m.dir == NULL, "no default: NULL");
	is_int(m.timeout, 5000, "default duration");
	is_int(m.max_size, 65536, "default size");
	is_int(m.level, 3, "default enum");
	ok(m.password.value == NULL && m.password.source == NULL, "secret unset");
	sw_conf_free_struct(mqtt_opts, &m);

	is_int(sw_conf_apply(NULL, "mqtt", NULL, mqtt_opts, &m, err, sizeof err),
	       SW_OK, "NULL conf: defaults only");
	is_int(m.port, 1883, "NULL conf default");
	sw_conf_free_struct(mqtt_opts, &m);
	is_int(sw_conf_table_check(mqtt_opts, err, sizeof err), SW_OK, "mqtt table is valid");
	is_int(sw_conf_table_check(courier_opts, err, sizeof err), SW_OK, "courier table is valid");
}

/* Load errors: text and the exact message. */
static const struct {
	const char *text, *want;
} load_cases[] = {
	{ "port = 1\n", "t.conf:1: key outside any section: 'port'" },
	{ "; c\n\n  port = 1\n[mqtt]\n", "t.conf:3: key outside any section: 'port'" },
	{ "[mqtt]\nport 1883\n", "t.conf:2: expected 'key = value': 'port 1883'" },
	{ "[a]\n[b]\n[c]\nx\n", "t.conf:4: expected 'key = value': 'x'" },
	{ "[a]\n[b]\nk = 1\n[c]\n\ny\n", "t.conf:6: expected 'key = value': 'y'" },
	{ "[mqtt]\nport = 1\n\nport = 2\n",
	  "t.conf:4: duplicate key in [mqtt] (first on line 2): 'port'" },
	{ "[courier dhl]\nurl = x\n[courier dhl]\n",
	  "t.conf:3: duplicate section (first on line 1): '[courier dhl]'" },
	{ "[store]\n[log]\n[store]\n",
	  "t.conf:3: duplicate section (first on line 1): '[store]'" },
	{ "[courier dhl]\n[courier  dhl ]\n",
	  "t.conf:2: duplicate section (first on line 1): '[courier  dhl ]'" },
	{ "[courier dh/l]\n",
	  "t.conf:1: bad section name (want [kind] or [kind name]): '[courier dh/l]'" },
	{ "[courier a b]\n",
	  "t.conf:1: bad section name (want [kind] or [kind name]): '[courier a b]'" },
	{ "[Store]\n", "t.conf:1: bad section name (want [kind] or [kind name]): '[Store]'" },
	{ "[courier.dhl]\n",
	  "t.conf:1: bad section name (want [kind] or [kind name]): '[courier.dhl]'" },
	{ "[]\n", "t.conf:1: bad section name (want [kind] or [kind name]): '[]'" },
	{ "[mqtt\nport = 1\n", "t.conf:1: section header without closing ']': '[mqtt'" },
	{ "[mqtt] junk\n", "t.conf:1: bad section header: '[mqtt] junk'" },
	{ "[mqtt ;x]\n", "t.conf:1: bad section header: '[mqtt ;x]'" },
	{ "[a]\n[mqtt ;x]\n", "t.conf:2: bad section header: '[mqtt ;x]'" },
	{ "[mqtt]\nbad key = 1\n", "t.conf:2: bad key name: 'bad key'" },
	{ "[mqtt]\n= 1\n", "t.conf:2: bad key name: ''" },
	{ "[mqtt]\nport = 1\a\n", "t.conf:2: control character 0x07 in column 9" },
	{ "[mqtt]\na = b\rc\n", "t.conf:2: control character 0x0d in column 6" },
	{ "[courier xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n",
	  "t.conf:1: section header too long (max 48 bytes): "
	  "'[courier xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]'" },
};

static void test_load_errors(void)
{
	struct sw_conf *conf;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
		err[0] = '\0';
		conf = (struct sw_conf *)1;
		is_int(sw_conf_load_string(load_cases[i].text, "t.conf", &conf, err, sizeof err),
		       SW_ECONF, "load case %zu fails", i);
		ok(conf == NULL, "load case %zu: no conf", i);
		is_str(err, load_cases[i].want, "load case %zu message", i);
	}
}

static void test_file_errors(void)
{
	char *path = data_path("bad-dup.conf"), *want, err[512];
	static const char nul[] = "[mqtt]\na = b\0c\n";
	struct sw_conf *conf;

	want = xasprintf("%s:6: duplicate section (first on line 4): '[courier dhl]'", path);
	is_int(sw_conf_load(path, &conf, err, sizeof err), SW_ECONF, "bad-dup.conf fails");
	is_str(err, want, "file error names path and line");
	free(want);
	free(path);

	is_int(sw_conf_load("/nonexistent/slipwatch.conf", &conf, err, sizeof err),
	       SW_EIO, "missing file");
	is_str(err, "/nonexistent/slipwatch.conf: cannot open: No such file or directory",
	       "missing file message");
	is_int(sw_conf_load("/tmp", &conf, err, sizeof err), SW_EIO, "directory");
	is_str(err, "/tmp: not a regular file", "directory message");

	path = temp_file(nul, sizeof nul - 1, 0600);
	want = xasprintf("%s:2: control character 0x00 in column 6", path);
	is_int(sw_conf_load(path, &conf, err, sizeof err), SW_ECONF, "NUL byte in file");
	is_str(err, want, "NUL byte message");
	unlink(path);
	free(path);
	free(want);
}

static void test_empty_crlf_bom(void)
{
	char *path = data_path("empty.conf"), err[256];
	struct tconf m = { 0 };
	struct courier c = { 0 };
	struct sw_conf *conf;
	const char *k, *n;
	int line;

	is_int(sw_conf_load(path, &conf, err, sizeof err), SW_OK, "empty file loads");
	is_int(sw_conf_unused(conf, 0, &k, &n, &line), SW_ENOTFOUND, "empty: no sections");
	sw_conf_free(conf);
	free(path);
	is_int(sw_conf_load_string("; only\n# comments\n\n", "t.conf", &conf, err, sizeof err),
	       SW_OK, "comments only");
	sw_conf_free(conf);

	path = data_path("crlf.conf");
	is_int(sw_conf_load(path, &conf, err, sizeof err), SW_OK, "CRLF file loads");
	is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err), SW_OK,
	       "CRLF apply");
	is_int(m.port, 1884, "CRLF int");
	is_str(m.client_id, "crlf-id", "CRLF string has no CR");
	is_int(sw_conf_apply(conf, "courier", "dhl", courier_opts, &c, err, sizeof err), SW_OK,
	       "CRLF named section");
	is_str(c.api_key.value, SECRET_ENV, "CRLF env name has no CR");
	sw_conf_free_struct(mqtt_opts, &m);
	sw_conf_free_struct(courier_opts, &c);
	sw_conf_free(conf);
	free(path);

	is_int(apply_text("\xef\xbb\xbf[mqtt]\nport = 5\n", "mqtt", mqtt_opts, &m, err, sizeof err),
	       SW_OK, "UTF-8 BOM accepted");
	is_int(m.port, 5, "value after BOM");
	sw_conf_free_struct(mqtt_opts, &m);
}

static void test_limits(void)
{
	struct sw_conf *conf;
	struct sw_buf b;
	char err[512], want[512];
	char *big;
	int i;

	/* Line length: 192 bytes pass, 193 fail; comments may be longer. */
	sw_buf_init(&b, 2 * SW_CONF_MAX_FILE);
	sw_buf_printf(&b, "[mqtt]\nclient_id = %0*d\n", SW_CONF_MAX_LINE - 12, 0);
	is_int(sw_conf_load_string(sw_buf_str(&b), "t.conf", &conf, err, sizeof err), SW_OK,
	       "line of %d bytes", SW_CONF_MAX_LINE);
	sw_conf_free(conf);
	sw_buf_reset(&b);
	sw_buf_printf(&b, "[mqtt]\nclient_id = %0*d\n", SW_CONF_MAX_LINE - 11, 0);
	snprintf(want, sizeof want, "t.conf:2: line too long (max 192 bytes): 'client_id = %048d...'", 0);
	is_int(sw_conf_load_string(sw_buf_str(&b), "t.conf", &conf, err, sizeof err), SW_ECONF,
	       "line of %d bytes", SW_CONF_MAX_LINE + 1);
	is_str(err, want, "line too long message");
	sw_buf_reset(&b);
	/* 'é' straddles the 60-byte quote limit: it must go whole. */
	sw_buf_printf(&b, "[mqtt]\nclient_id = %047dé%0*d\n", 0, 5000, 0);
	is_int(sw_conf_load_string(sw_buf_str(&b), "t.conf", &conf, err, sizeof err), SW_ECONF,
	       "very long line");
	snprintf(want, sizeof want, "t.conf:2: line too long (max 192 bytes): 'client_id = %047d...'", 0);
	is_str(err, want, "quote does not cut a UTF-8 character");
	sw_buf_reset(&b);
	sw_buf_printf(&b, "[mqtt]\n;%0*d\nport = 7\n", 5000, 0);
	is_int(sw_conf_load_string(sw_buf_str(&b), "t.conf", &conf, err, sizeof err), SW_OK,
	       "long comment line is fine");
	sw_conf_free(conf);

	/* Section name of exactly 48 bytes. */
	is_int(sw_conf_load_string("[courier xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n", "t.conf",
				   &conf, err, sizeof err), SW_OK, "48-byte section header");
	ok(conf && strlen(sw_conf_named(conf, "courier", 0)) == 40, "48-byte header kept whole");
	sw_conf_free(conf);

	/* Whole file. */
	big = xmalloc(SW_CONF_MAX_FILE + 2);
	memset(big, ';', SW_CONF_MAX_FILE + 1);
	big[SW_CONF_MAX_FILE + 1] = '\0';
	is_int(sw_conf_load_string(big, "t.conf", &conf, err, sizeof err), SW_ETOOBIG,
	       "file over SW_CONF_MAX_FILE");
	is_str(err, "t.conf: file too large (max 1048576 bytes)", "too large message");
	free(big);

	/* Sections and keys. */
	sw_buf_reset(&b);
	for (i = 0; i <= SW_CONF_MAX_SECTIONS; i++)
		sw_buf_printf(&b, "[w n%d]\n", i);
	is_int(sw_conf_load_string(sw_buf_str(&b), "t.conf", &conf, err, sizeof err), SW_ECONF,
	       "too many sections");
	is_str(err, "t.conf:4097: too many sections (max 4096)", "too many sections message");
	sw_buf_reset(&b);
	sw_buf_adds(&b, "[w]\n");
	for (i = 0; i <= SW_CONF_MAX_KEYS; i++)
		sw_buf_printf(&b, "k%d = %d\n", i, i);
	is_int(sw_conf_load_string(sw_buf_str(&b), "t.conf", &conf, err, sizeof err), SW_ECONF,
	       "too many keys");
	is_str(err, "t.conf:1026: too many keys in [w] (max 1024)", "too many keys message");
	sw_buf_free(&b);
}

/* Apply errors: text, then the exact message. */
static const struct {
	const char *text, *want;
} apply_cases[] = {
	{ "[mqtt]\nprot = 1\n", "t.conf:2: unknown key 'prot' in [mqtt]" },
	{ "[mqtt]\nport = 70000\n", "t.conf:2: [mqtt] port: '70000' is out of range (1..65535)" },
	{ "[mqtt]\nport = 0\n", "t.conf:2: [mqtt] port: '0' is out of range (1..65535)" },
	{ "[mqtt]\nport = -1\n", "t.conf:2: [mqtt] port: '-1' is out of range (1..65535)" },
	{ "[mqtt]\nport = 99999999999999999999\n",
	  "t.conf:2: [mqtt] port: '99999999999999999999' is out of range (1..65535)" },
	{ "[mqtt]\nport = 12x\n", "t.conf:2: [mqtt] port: '12x' is not an integer" },
	{ "[mqtt]\nport =\n", "t.conf:2: [mqtt] port: '' is not an integer" },
	{ "[mqtt]\nport = 0x10\n", "t.conf:2: [mqtt] port: '0x10' is not an integer" },
	{ "[mqtt]\nport = 0\nprot = 1\n", "t.conf:2: [mqtt] port: '0' is out of range (1..65535)" },
	{ "[mqtt]\nenabled = maybe\n",
	  "t.conf:2: [mqtt] enabled: 'maybe' is not a boolean (use yes/no, true/false, on/off or 1/0)" },
	{ "[mqtt]\nratio = 1.5\n", "t.conf:2: [mqtt] ratio: '1.5' is out of range (0..1)" },
	{ "[mqtt]\nratio = nan\n", "t.conf:2: [mqtt] ratio: 'nan' is not a number" },
	{ "[mqtt]\nratio = 1e999\n", "t.conf:2: [mqtt] ratio: '1e999' is out of range (0..1)" },
	{ "[mqtt]\ntimeout = 5 minutes\n",
	  "t.conf:2: [mqtt] timeout: '5 minutes' is not a duration (use e.g. 250ms, 30s, 5m, 2h, 1d)" },
	{ "[mqtt]\ntimeout = -5s\n",
	  "t.conf:2: [mqtt] timeout: '-5s' is not a duration (use e.g. 250ms, 30s, 5m, 2h, 1d)" },
	{ "[mqtt]\ntimeout = 50ms\n", "t.conf:2: [mqtt] timeout: '50ms' is out of range (100ms..10m)" },
	{ "[mqtt]\ntimeout = 601s\n", "t.conf:2: [mqtt] timeout: '601s' is out of range (100ms..10m)" },
	{ "[mqtt]\ntimeout = 99999999999999999999d\n",
	  "t.conf:2: [mqtt] timeout: '99999999999999999999d' is too large" },
	{ "[mqtt]\nmax_size = 1T\n", "t.conf:2: [mqtt] max_size: '1T' is out of range (1k..1G)" },
	{ "[mqtt]\nmax_size = 1023\n", "t.conf:2: [mqtt] max_size: '1023' is out of range (1k..1G)" },
	{ "[mqtt]\nmax_size = 10MB\n",
	  "t.conf:2: [mqtt] max_size: '10MB' is not a size (use e.g. 512, 64k, 10M, 1G)" },
	{ "[mqtt]\nlevel = loud\n",
	  "t.conf:2: [mqtt] level: 'loud' is not one of: error, warning, notice, info, debug" },
	{ "[mqtt]\ndir =\n", "t.conf:2: [mqtt] dir: empty path: ''" },
	{ "[mqtt]\npassword = hunter2\n",
	  "t.conf:2: [mqtt] password: secrets are not written in the file; use password_file or password_env" },
	{ "[mqtt]\npassword_env = SW_TEST_UNSET_VAR\n",
	  "t.conf:2: [mqtt] password_env: environment variable is not set: 'SW_TEST_UNSET_VAR'" },
	{ "[mqtt]\npassword_env = SW_TEST_EMPTY\n",
	  "t.conf:2: [mqtt] password_env: environment variable is empty: 'SW_TEST_EMPTY'" },
	{ "[mqtt]\npassword_env = 1-bad\n",
	  "t.conf:2: [mqtt] password_env: not an environment variable name: '1-bad'" },
	{ "[mqtt]\npassword_file = /nonexistent/pw\n",
	  "t.conf:2: [mqtt] password_file: cannot open: No such file or directory: '/nonexistent/pw'" },
	{ "[mqtt]\npassword_file = /tmp\n",
	  "t.conf:2: [mqtt] password_file: not a regular file: '/tmp'" },
	{ "[mqtt]\npassword_file =\n", "t.conf:2: [mqtt] password_file: empty path: ''" },
	{ "[mqtt]\npassword_env = SW_TEST_PW\npassword_file = /nonexistent\n",
	  "t.conf:3: [mqtt] password_file: password is already set on line 2" },
	{ "[mqtt]\npassword_env = SW_TEST_PW\nport = 0\n",
	  "t.conf:3: [mqtt] port: '0' is out of range (1..65535)" },
};

static void test_apply_errors(void)
{
	struct tconf m = { 0 };
	char err[512];
	size_t i;

	setenv("SW_TEST_PW", SECRET_ENV, 1);
	setenv("SW_TEST_EMPTY", "", 1);
	unsetenv("SW_TEST_UNSET_VAR");
	for (i = 0; i < sizeof apply_cases / sizeof apply_cases[0]; i++) {
		is_int(apply_text(apply_cases[i].text, "mqtt", mqtt_opts, &m, err, sizeof err),
		       SW_ECONF, "apply case %zu fails", i);
		is_str(err, apply_cases[i].want, "apply case %zu message", i);
		ok(!strstr(err, "hunter2") && !strstr(err, SECRET_ENV),
		   "apply case %zu: no secret in message", i);
		ok(m.client_id == NULL && m.password.value == NULL && m.password.source == NULL,
		   "apply case %zu: strings freed on error", i);
	}
}

static void test_required(void)
{
	struct sw_conf *conf;
	struct courier c = { 0 };
	char err[256];

	setenv("SW_TEST_PW", SECRET_ENV, 1);
	is_int(sw_conf_load_string("[store]\n\n[courier x]\nurl = u\n[courier y]\napi_key_env = SW_TEST_PW\n",
				   "t.conf", &conf, err, sizeof err), SW_OK, "required: loads");
	is_int(sw_conf_apply(conf, "courier", "x", courier_opts, &c, err, sizeof err), SW_ECONF,
	       "missing required secret");
	is_str(err, "t.conf:3: [courier x] api_key: required but not set (use api_key_file or api_key_env)",
	       "required secret message names the header line");
	is_int(sw_conf_apply(conf, "courier", "y", courier_opts, &c, err, sizeof err), SW_ECONF,
	       "missing required string");
	is_str(err, "t.conf:5: [courier y] url: required but not set", "required string message");
	is_int(sw_conf_apply(conf, "courier", "z", courier_opts, &c, err, sizeof err), SW_ECONF,
	       "missing section with required keys");
	is_str(err, "t.conf: [courier z] api_key: required but not set (use api_key_file or api_key_env)",
	       "missing section message has no line");
	sw_conf_free(conf);
}

#define BAD INT64_C(-4242)

static void test_numbers(void)
{
	static const struct {
		const struct sw_conf_opt *table;
		const char *text;
		int64_t want; /* BAD: must be rejected */
	} cases[] = {
		{ dur_opts, "30", 30000 },
		{ dur_opts, "30s", 30000 },
		{ dur_opts, "5m", 300000 },
		{ dur_opts, "2h", 7200000 },
		{ dur_opts, "1d", 86400000 },
		{ dur_opts, "250ms", 250 },
		{ dur_opts, "0", 0 },
		{ dur_opts, "10 s", 10000 },
		{ dur_opts, "106751991167d", INT64_C(106751991167) * 86400000 },
		{ dur_opts, "106751991168d", BAD },
		{ dur_opts, "9223372036854775807ms", INT64_MAX },
		{ dur_opts, "9223372036854775808ms", BAD },
		{ dur_opts, "99999999999999999999d", BAD },
		{ dur_opts, "1.5h", BAD },
		{ dur_opts, "5M", BAD },
		{ dur_opts, "s", BAD },
		{ dur_opts, "", BAD },
		{ dur_opts, "5  s", BAD },
		{ size_opts, "512", 512 },
		{ size_opts, "64k", 65536 },
		{ size_opts, "64K", 65536 },
		{ size_opts, "10M", 10485760 },
		{ size_opts, "1G", 1073741824 },
		{ size_opts, "2T", INT64_C(2) << 40 },
		{ size_opts, "8388607T", INT64_C(8388607) << 40 },
		{ size_opts, "8388608T", BAD },
		{ size_opts, "1P", BAD },
		{ size_opts, "-1", BAD },
		{ int_opts, "-9223372036854775808", INT64_MIN },
		{ int_opts, "9223372036854775807", INT64_MAX },
		{ int_opts, "9223372036854775808", BAD },
		{ int_opts, "+7", 7 },
		{ int_opts, "-1", -1 },
	};
	char text[128], err[256];
	int64_t v;
	double d;
	size_t i;
	enum sw_err rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = 12345;
		snprintf(text, sizeof text, "[t]\nv = %s\n", cases[i].text);
		rc = apply_text(text, "t", cases[i].table, &v, err, sizeof err);
		if (cases[i].want == BAD)
			is_int(rc, SW_ECONF, "'%s' rejected (%s)", cases[i].text, err);
		else
			ok(rc == SW_OK && v == cases[i].want, "'%s' = %lld (rc %d %s)",
			   cases[i].text, (long long)v, rc, err);
	}
	is_int(apply_text("[t]\nv = 1e999\n", "t", dbl_opts, &d, err, sizeof err), SW_ECONF,
	       "unbounded double overflow");
	is_str(err, "t.conf:2: [t] v: '1e999' is out of range", "unbounded double message");
	is_int(apply_text("[t]\nv = -inf\n", "t", dbl_opts, &d, err, sizeof err), SW_ECONF,
	       "infinity rejected");
	ok(apply_text("[t]\nv = -2.5e-3\n", "t", dbl_opts, &d, err, sizeof err) == SW_OK &&
	   d == -2.5e-3, "unbounded double parses");
}

static void test_secret_files(void)
{
	char *pw = temp_file(SECRET_FILE "\r\n\n", strlen(SECRET_FILE) + 3, 0600);
	char *empty = temp_file("\n", 1, 0600), *huge, *text, err[512];
	char *data_secret = data_path("secret.txt");
	struct tconf m = { 0 };
	struct sw_conf *conf;
	struct stat sb;
	struct sw_buf b;
	char *want, *bigbuf;

	text = xasprintf("[mqtt]\npassword_file = %s\n", pw);
	is_int(apply_text(text, "mqtt", mqtt_opts, &m, err, sizeof err), SW_OK, "secret file");
	is_str(m.password.value, SECRET_FILE, "trailing CR/LF stripped");
	ok(!m.password.world_readable, "0600 file is not world-readable");
	sw_buf_init(&b, 4096);
	is_int(sw_conf_dump("mqtt", NULL, mqtt_opts, &m, &b), SW_OK, "dump");
	want = xasprintf("[mqtt]\nenabled = yes\nport = 1883\nratio = 0.5\nclient_id = slipwatch\n"
			 "; dir is not set\ntimeout = 5s\nmax_size = 64k\nlevel = info\n"
			 "password = (secret from file %s)\n", pw);
	is_str(sw_buf_str(&b), want, "dump text");
	ok(!strstr(sw_buf_str(&b), SECRET_FILE), "dump has no secret");
	free(want);
	free(text);

	/* A later error must not leak the secret already read. */
	text = xasprintf("[mqtt]\npassword_file = %s\nlevel = %s\n", pw, SECRET_FILE);
	is_int(apply_text(text, "mqtt", mqtt_opts, &m, err, sizeof err), SW_ECONF,
	       "error after secret");
	ok(m.password.value == NULL, "secret freed on error");
	free(text);

	chmod(pw, 0644);
	text = xasprintf("[mqtt]\npassword_file = %s\n", pw);
	is_int(apply_text(text, "mqtt", mqtt_opts, &m, err, sizeof err), SW_OK, "0644 secret");
	ok(m.password.world_readable, "0644 file flagged world-readable");
	free(text);

	text = xasprintf("[mqtt]\npassword_file = %s\n", data_secret);
	is_int(apply_text(text, "mqtt", mqtt_opts, &m, err, sizeof err), SW_OK, "data secret");
	is_str(m.password.value, "s3cr3t-DATA", "data secret value");
	ok(stat(data_secret, &sb) == 0 &&
	   m.password.world_readable == ((sb.st_mode & S_IROTH) != 0), "flag matches the mode");
	free(text);

	/* A relative secret path is relative to the configuration file, not
	 * to the working directory (a detached daemon runs in "/"). */
	{
		char *rel = data_path("relsecret.conf"), *cwd = getcwd(NULL, 0);

		ok(chdir("/") == 0, "chdir /");
		is_int(sw_conf_load(rel, &conf, err, sizeof err), SW_OK, "load relsecret.conf");
		if (conf) {
			is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err), SW_OK,
			       "relative secret path (%s)", err);
			is_str(m.password.value, "s3cr3t-DATA", "found beside the config file");
			sw_conf_free(conf);
		}
		ok(cwd && chdir(cwd) == 0, "chdir back");
		free(cwd);
		free(rel);
	}

	text = xasprintf("[mqtt]\npassword_file = %s\n", empty);
	want = xasprintf("t.conf:2: [mqtt] password_file: file is empty: '%s'", empty);
	is_int(apply_text(text, "mqtt", mqtt_opts, &m, err, sizeof err), SW_ECONF, "empty secret");
	is_str(err, want, "empty secret message");
	free(text);
	free(want);

	bigbuf = xmalloc(SW_CONF_MAX_SECRET + 1);
	memset(bigbuf, 'x', SW_CONF_MAX_SECRET + 1);
	huge = temp_file(bigbuf, SW_CONF_MAX_SECRET + 1, 0600);
	text = xasprintf("[mqtt]\npassword_file = %s\n", huge);
	want = xasprintf("t.conf:2: [mqtt] password_file: larger than 65536 bytes: '%s'", huge);
	is_int(apply_text(text, "mqtt", mqtt_opts, &m, err, sizeof err), SW_ECONF, "huge secret");
	is_str(err, want, "huge secret message");
	free(text);
	free(want);
	free(bigbuf);

	/* Env secret in dump. */
	setenv("SW_TEST_PW", SECRET_ENV, 1);
	is_int(sw_conf_load_string("[mqtt]\npassword_env = SW_TEST_PW\n", "t.conf", &conf, err,
				   sizeof err), SW_OK, "env secret loads");
	is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err), SW_OK,
	       "env secret applies");
	sw_buf_reset(&b);
	sw_conf_dump("mqtt", NULL, mqtt_opts, &m, &b);
	ok(strstr(sw_buf_str(&b), "password = (secret from environment variable SW_TEST_PW)\n") &&
	   !strstr(sw_buf_str(&b), SECRET_ENV), "env secret dump");
	sw_conf_free(conf);

	sw_buf_free(&b);
	sw_buf_init(&b, 20);
	is_int(sw_conf_dump("mqtt", NULL, mqtt_opts, &m, &b), SW_ETOOBIG, "dump into a full buffer");
	sw_buf_free(&b);
	sw_conf_free_struct(mqtt_opts, &m);

	unlink(pw);
	unlink(empty);
	unlink(huge);
	free(pw);
	free(empty);
	free(huge);
	free(data_secret);
}

/* Where keys and sections are, for errors found after applying. */
static void test_where(void)
{
	const char *text = "[store]\npath = /x\n\n[courier dhl]\n; c\nbase_url = http://x\n"
			   "api_key_env = K\n[mqtt]\n";
	struct sw_conf *conf;
	char err[512], where[256];

	if (!ok(sw_conf_load_string(text, "w.conf", &conf, err, sizeof err) == SW_OK,
		"where: file parsed %s", err))
		return;
	is_int(sw_conf_section_line(conf, "courier", "dhl"), 4, "section line of [courier dhl]");
	is_int(sw_conf_section_line(conf, "mqtt", NULL), 8, "section line of an empty [mqtt]");
	is_int(sw_conf_section_line(conf, "courier", "ups"), 0, "no [courier ups]: 0");
	is_int(sw_conf_section_line(NULL, "store", NULL), 0, "no file: 0");
	is_int(sw_conf_key_line(conf, "courier", "dhl", "base_url"), 6, "key line of base_url");
	is_int(sw_conf_key_line(conf, "courier", "dhl", "api_key"), 7,
	       "a secret's name finds its _env line");
	is_int(sw_conf_key_line(conf, "courier", "dhl", "api"), 0, "a prefix is not a secret name");
	is_int(sw_conf_key_line(conf, "courier", "dhl", "auth_url"), 0, "an unset key: 0");
	is_int(sw_conf_key_line(conf, "store", NULL, "path"), 2, "key line in a plain section");
	is_int(sw_conf_key_line(conf, "courier", NULL, "base_url"), 0,
	       "[courier] is not [courier dhl]");
	is_str(sw_conf_where(conf, "courier", "dhl", "base_url", where, sizeof where), "w.conf:6",
	       "where: the key's line");
	is_str(sw_conf_where(conf, "courier", "dhl", "auth_url", where, sizeof where), "w.conf:4",
	       "where: an unset key points at its section");
	is_str(sw_conf_where(conf, "mqtt", NULL, NULL, where, sizeof where), "w.conf:8",
	       "where: the section itself");
	is_str(sw_conf_where(conf, "alerts", NULL, "quiet_hours", where, sizeof where), "w.conf",
	       "where: no such section, the file alone");
	is_str(sw_conf_where(NULL, "alerts", NULL, "x", where, sizeof where), "built-in default",
	       "where: no file");

	snprintf(err, sizeof err, "[courier dhl] base_url: not https: 'x'");
	sw_conf_locate(conf, err, sizeof err);
	is_str(err, "w.conf:6: [courier dhl] base_url: not https: 'x'", "locate: a named section");
	snprintf(err, sizeof err, "[mqtt] password: a password needs a username: ''");
	sw_conf_locate(conf, err, sizeof err);
	is_str(err, "w.conf:8: [mqtt] password: a password needs a username: ''",
	       "locate: an unset key points at its section");
	snprintf(err, sizeof err, "[store] path: bad");
	sw_conf_locate(conf, err, sizeof err);
	is_str(err, "w.conf:2: [store] path: bad", "locate: a plain section");
	snprintf(err, sizeof err, "something else: [x] y: z");
	sw_conf_locate(conf, err, sizeof err);
	is_str(err, "w.conf: something else: [x] y: z", "locate: another text gets the file");
	snprintf(err, sizeof err, "[courier dhl]: no key");
	sw_conf_locate(conf, err, sizeof err);
	is_str(err, "w.conf: [courier dhl]: no key", "locate: no key, the file");
	snprintf(err, sizeof err, "[rrd] step: x");
	sw_conf_locate(NULL, err, sizeof err);
	is_str(err, "[rrd] step: x", "locate: no file, unchanged");
	sw_conf_free(conf);
}

/* Text only: secrets are checked as keys, never read. */
static void test_text_only(void)
{
	char *pw = temp_file(SECRET_FILE "\n", strlen(SECRET_FILE) + 1, 0600), err[512];
	char *text = xasprintf("[mqtt]\npassword_file = %s\n", pw);
	struct tconf m = { 0 };
	struct sw_conf *conf;
	struct sw_buf b;

	ok(!sw_conf_text_only(NULL), "text only: NULL is not");
	unsetenv("SW_TEST_UNSET");
	is_int(sw_conf_load_string("[mqtt]\npassword_env = SW_TEST_UNSET\n", "t.conf", &conf,
				   err, sizeof err), SW_OK, "text only: loads");
	ok(!sw_conf_text_only(conf), "text only: off after loading");
	sw_conf_set_text_only(conf, true);
	ok(sw_conf_text_only(conf), "text only: on");
	is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err), SW_OK,
	       "text only: an unset variable is not looked up (%s)", err);
	is_str(m.password.value, SW_CONF_SECRET_UNREAD, "text only: the placeholder value");
	is_str(m.password.source, "environment variable SW_TEST_UNSET",
	       "text only: the source says where it would come from");
	sw_buf_init(&b, 4096);
	sw_conf_dump("mqtt", NULL, mqtt_opts, &m, &b);
	ok(strstr(sw_buf_str(&b), "password = (secret from environment variable SW_TEST_UNSET)"),
	   "text only: dump names the source");
	sw_buf_free(&b);
	sw_conf_set_text_only(conf, false);
	is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err), SW_ECONF,
	       "read for real: the unset variable is an error");
	is_str(err, "t.conf:2: [mqtt] password_env: environment variable is not set: "
		    "'SW_TEST_UNSET'", "...naming its line");
	sw_conf_free(conf);

	is_int(sw_conf_load_string("[mqtt]\npassword_env = 1BAD\n", "t.conf", &conf, err,
				   sizeof err), SW_OK, "text only: loads a bad name");
	sw_conf_set_text_only(conf, true);
	is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err), SW_ECONF,
	       "text only: a bad variable name is still an error");
	is_str(err, "t.conf:2: [mqtt] password_env: not an environment variable name: '1BAD'",
	       "...with its line");
	sw_conf_free(conf);

	chmod(pw, 0);
	is_int(sw_conf_load_string(text, "t.conf", &conf, err, sizeof err), SW_OK,
	       "text only: loads a file secret");
	sw_conf_set_text_only(conf, true);
	is_int(sw_conf_apply(conf, "mqtt", NULL, mqtt_opts, &m, err, sizeof err), SW_OK,
	       "text only: an unreadable secret file is not opened");
	ok(m.password.value && strcmp(m.password.value, SECRET_FILE) != 0 &&
	   !m.password.world_readable, "text only: the file's content is not there");
	sw_conf_free(conf);
	sw_conf_free_struct(mqtt_opts, &m);
	unlink(pw);
	free(pw);
	free(text);
}

static void test_table_check(void)
{
	static const char *const none[] = { NULL };
	static const struct sw_conf_opt bad_def[] = {
		{ .name = "n", .type = SW_CONF_INT, .offset = 0, .def = "abc" },
		{ .name = NULL },
	};
	static const struct sw_conf_opt out_of_range_def[] = {
		{ .name = "d", .type = SW_CONF_DURATION, .offset = 0, .min = 1000,
		  .max = 2000, .def = "5s" },
		{ .name = NULL },
	};
	static const struct sw_conf_opt dup[] = {
		{ .name = "a", .type = SW_CONF_INT, .offset = 0 },
		{ .name = "a", .type = SW_CONF_BOOL, .offset = 0 },
		{ .name = NULL },
	};
	static const struct sw_conf_opt clash[] = {
		{ .name = "pw_file", .type = SW_CONF_PATH, .offset = 0 },
		{ .name = "pw", .type = SW_CONF_SECRET, .offset = 0 },
		{ .name = NULL },
	};
	static const struct sw_conf_opt no_words[] = {
		{ .name = "e", .type = SW_CONF_ENUM, .offset = 0, .words = none },
		{ .name = NULL },
	};
	static const struct sw_conf_opt secret_def[] = {
		{ .name = "s", .type = SW_CONF_SECRET, .offset = 0, .def = "x" },
		{ .name = NULL },
	};
	static const struct sw_conf_opt minmax[] = {
		{ .name = "i", .type = SW_CONF_INT, .offset = 0, .min = 5, .max = 1 },
		{ .name = NULL },
	};
	char err[256];
	int64_t v;

	is_int(sw_conf_table_check(bad_def, err, sizeof err), SW_EINVAL, "bad default caught");
	is_str(err, "row 0 'n': 'abc' is not an integer", "bad default message");
	is_int(sw_conf_apply(NULL, "t", NULL, bad_def, &v, err, sizeof err), SW_ECONF,
	       "bad default fails apply");
	is_str(err, "built-in default: [t] n: 'abc' is not an integer", "apply names the default");
	is_int(sw_conf_table_check(out_of_range_def, err, sizeof err), SW_EINVAL,
	       "default out of range caught");
	is_str(err, "row 0 'd': '5s' is out of range (1s..2s)", "default range message");
	is_int(sw_conf_table_check(dup, err, sizeof err), SW_EINVAL, "duplicate row");
	is_str(err, "row 1 'a': key 'a' also used by row 0", "duplicate row message");
	is_int(sw_conf_table_check(clash, err, sizeof err), SW_EINVAL, "secret key clash");
	is_str(err, "row 1 'pw': key 'pw_file' also used by row 0", "clash message");
	is_int(sw_conf_table_check(no_words, err, sizeof err), SW_EINVAL, "enum without words");
	is_int(sw_conf_table_check(secret_def, err, sizeof err), SW_EINVAL, "secret default");
	is_int(sw_conf_table_check(minmax, err, sizeof err), SW_EINVAL, "min > max");
	is_str(sw_conf_type_name(SW_CONF_DURATION), "duration", "type name");
	is_str(sw_conf_type_name(SW_CONF_TYPE_LAST), "?", "type name sentinel");
}

int main(void)
{
	test_good_file();
	test_defaults();
	test_load_errors();
	test_file_errors();
	test_empty_crlf_bom();
	test_limits();
	test_apply_errors();
	test_required();
	test_numbers();
	test_secret_files();
	test_where();
	test_text_only();
	test_table_check();
	return tap_done();
}
