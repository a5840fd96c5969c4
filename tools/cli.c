/*
 * cli.c - the helpers every file of the slipwatch command line shares
 * (tools/cli.h): messages, option parsing, the store's path and opening
 * it, terminal-safe tables, time formats and JSON output.
 *
 * Design (moved here from slipwatch.c unchanged when the on-call commands
 * came in tools/cli_pages.c):
 * - The store path comes from [store] path of slipwatch.conf, read with
 *   sw_daemon_load_conf() and a descriptor with the registry but no part
 *   of its own: exactly the daemons' judgement of the whole file (every
 *   program's part checked as text only, so no secret is ever read).
 *   --store PATH overrides it; given alone, no configuration is read.
 * - Text from the store (it came from MQTT payloads, courier APIs and
 *   operators) has control characters and invalid UTF-8 replaced with '?'
 *   before it reaches a terminal.
 * - Durations are parsed by lib/conf itself, so that the command line and
 *   the configuration file take the same syntax.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/registry.h"
#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/daemon.h"
#include "lib/store.h"
#include "lib/swtime.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "lib/store_report.h"
#include "tools/cli.h"

/* ---- messages ------------------------------------------------------------ */

/* A usage error: "slipwatch: CMD: what", a hint, exit status 2. */
int usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "slipwatch: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'slipwatch help')\n");
	return EXIT_USAGE;
}

/* A runtime failure: "slipwatch: what", exit status 1. */
int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "slipwatch: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

/*
 * Reports what getopt_long refused (c is '?' or ':') as a usage error.
 * Unknown long options and missing values name the element; a short
 * option (none is known to commands) names its letter, since inside a
 * cluster ("-xy") optind still points at the element.
 */
int bad_option(const char *cmd, int c, char **argv, const struct option *longopts)
{
	const char *el = argv[optind - 1], *eq = strchr(el, '=');
	const struct option *o;

	if (c == ':')
		return usage_err(cmd, "option '%s' needs a value", el);
	/* "--json=1": glibc sets optopt to the option's val */
	for (o = longopts; optopt && eq && strncmp(el, "--", 2) == 0 && o->name; o++)
		if (o->val == optopt && o->has_arg == no_argument &&
		    strncmp(o->name, el + 2, (size_t)(eq - el - 2)) == 0)
			return usage_err(cmd, "option '%s' takes no value", el);
	if (optopt)
		return usage_err(cmd, "unknown option '-%c'", optopt);
	return usage_err(cmd, "unknown option '%s'", el);
}

/* The options of one command: getopt_long over argv[0..argc) (argv[0] is
 * the command; options and operands may come in any order).  Returns the
 * option's code, -1 at the end, or '!' after reporting a usage error. */
int next_opt(const char *cmd, int argc, char **argv, const struct option *longopts)
{
	int c = getopt_long(argc, argv, ":", longopts, NULL);

	if (c == '?' || c == ':') {
		bad_option(cmd, c, argv, longopts);
		return '!';
	}
	return c;
}

/* Starts next_opt() over a new argument vector. */
void opts_begin(void)
{
	optind = 0; /* glibc: 0 also resets its internal state */
	opterr = 0;
}

/* A filter value must not be empty. */
int nonempty_arg(const char *cmd, const char *opt, const char *arg)
{
	if (*arg)
		return 0;
	return usage_err(cmd, "%s: an empty value matches nothing", opt);
}

/*
 * A duration in the configuration file's syntax, parsed by lib/conf
 * itself: a one-row option table (named as the option, without "--")
 * whose default is the argument, applied with no file.  Whole seconds.
 */
int parse_duration(const char *cmd, const char *opt, const char *arg, int64_t max_ms,
		   int64_t *ret_s)
{
	struct duration {
		int64_t ms;
	} d = {0};
	const char *name = opt + strspn(opt, "-");
	const struct sw_conf_opt table[] = {
	    {.name = name,
	     .type = SW_CONF_DURATION,
	     .offset = offsetof(struct duration, ms),
	     .min = 0,
	     .max = max_ms,
	     .def = arg},
	    {.name = NULL},
	};
	char err[256], *key;
	const char *why;

	if (sw_conf_apply(NULL, "slipwatch", NULL, table, &d, err, sizeof(err)) != SW_OK) {
		/* "built-in default: [slipwatch] within: 'x' is not a ..." */
		key = xasprintf("%s: ", name);
		why = strstr(err, key);
		why = why ? why + strlen(key) : err;
		free(key);
		return usage_err(cmd, "%s: %s", opt, why);
	}
	*ret_s = d.ms / 1000;
	return 0;
}

static bool choice_named(const struct choices *c, const char *v)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(v, c->name(i)) == 0)
			return true;
	return false;
}

static bool choice_known(const struct choices *c, const char *v)
{
	size_t plen = strlen(FOLLOWUP_PREFIX);

	return choice_named(c, v) ||
	       (c->followup && strncmp(v, FOLLOWUP_PREFIX, plen) == 0 && choice_named(c, v + plen));
}

/* arg must be one of c's values: 0, or EXIT_USAGE naming the option,
 * the value (cleaned for the terminal) and every value it could be. */
int choice_arg(const char *cmd, const char *opt, const struct choices *c, const char *arg)
{
	char *list, *shown;
	int status;

	if (nonempty_arg(cmd, opt, arg))
		return EXIT_USAGE;
	if (choice_known(c, arg))
		return 0;
	list = xstrdup("");
	for (int i = 0; i < c->n; i++) {
		char *t = xasprintf("%s%s%s", list, i ? ", " : "", c->name(i));

		free(list);
		list = t;
	}
	shown = clean(arg, NULL);
	status = usage_err(
	    cmd, "%s: '%s' is not %s (want one of: %s%s)", opt, shown, c->what, list,
	    c->followup ? "; or " FOLLOWUP_PREFIX "KIND, the follow-up of one of them" : "");
	free(shown);
	free(list);
	return status;
}

/* ---- the store ----------------------------------------------------------- */

static const struct sw_daemon_desc cli_desc = {
    .name = "slipwatch",
    .summary = "the operator's command line",
    .registry = sw_registry,
};

/* The store's path into a new *ret_path: --store, else [store] path of the
 * configuration.  0 or EXIT_RUNTIME (message printed). */
static int store_path(const struct cli *cli, char **ret_path)
{
	struct sw_conf *file = NULL;
	struct sw_daemon_conf conf;
	void *state = NULL;
	char err[1024];

	if (cli->store_opt && !cli->conf_given) {
		*ret_path = xstrdup(cli->store_opt);
		return 0;
	}
	if (sw_daemon_load_conf(&cli_desc, cli->conf_path, &file, &conf, &state, err,
				sizeof(err)) != SW_OK) {
		fail("%s", err);
		if (!cli->conf_given)
			fprintf(stderr, "slipwatch: give -c FILE or --store PATH\n");
		return EXIT_RUNTIME;
	}
	*ret_path = xstrdup(cli->store_opt ? cli->store_opt : conf.store_path);
	sw_daemon_conf_free(&conf);
	sw_conf_free(file);
	return 0;
}

int cli_clock(const struct cli *cli)
{
	const char *spec = getenv(SW_CLOCK_ENV);
	struct sw_conf *file = NULL;
	struct sw_daemon_conf conf;
	void *state = NULL;
	char err[1024];
	int status = 0;

	if (!spec || !*spec)
		return 0;
	if (sw_daemon_load_conf(&cli_desc, cli->conf_path, &file, &conf, &state, err,
				sizeof(err)) != SW_OK)
		return fail("%s is set, and a simulated clock needs a configuration that allows "
			    "it: %s",
			    SW_CLOCK_ENV, err);
	if (sw_daemon_clock(&conf, cli->conf_path, NULL, err, sizeof(err)) != SW_OK)
		status = fail("%s", err);
	sw_daemon_conf_free(&conf);
	sw_conf_free(file);
	return status;
}

int cli_store_path(const struct cli *cli, char **ret_path)
{
	return store_path(cli, ret_path);
}

/* Opens the store with flags.  0, or EXIT_RUNTIME with the store's own
 * message (it names the path and the cause). */
int open_store(const struct cli *cli, unsigned flags, struct sw_store **ret_st)
{
	char err[1024];
	char *path;
	int status;

	*ret_st = NULL;
	if ((status = store_path(cli, &path)))
		return status;
	if (sw_store_open(path, flags, ret_st, err, sizeof(err)) != SW_OK)
		status = fail("%s", err);
	free(path);
	return status;
}

/* ---- text output --------------------------------------------------------- */

/* Length of the UTF-8 sequence starting at s (1..4), or 0 if invalid or
 * a C1 control (CSI is 0x9b). */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp = 0;
	size_t n = sw_utf8_decode(s, strnlen((const char *)s, 4), &cp);

	return n == 0 || (cp >= 0x80 && cp <= 0x9f) ? 0 : n;
}

/* A copy of s safe for a terminal: control characters (C0, DEL, C1) and
 * invalid UTF-8 bytes become '?'.  NULL or "" gives "-".  *ret_width is
 * the number of characters. */
char *clean(const char *s, size_t *ret_width)
{
	const unsigned char *p = (const unsigned char *)(s && *s ? s : "-");
	char *out = xmalloc(strlen((const char *)p) + 1), *o = out;
	size_t n, w = 0;

	for (; *p; p += n ? n : 1, w++) {
		n = utf8_len(p);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			*o++ = '?';
		} else {
			memcpy(o, p, n);
			o += n;
		}
	}
	*o = '\0';
	if (ret_width)
		*ret_width = w;
	return out;
}

void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

/* Adds one row of t->ncols strings (NULL shows as "-"). */
void table_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cell = xreallocarray(t->cell, t->cap * t->ncols, sizeof(*t->cell));
		t->width = xreallocarray(t->width, t->cap * t->ncols, sizeof(*t->width));
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cell[t->nrows * t->ncols + i] =
		    clean(cells[i], &t->width[t->nrows * t->ncols + i]);
	t->nrows++;
}

/* Prints t with two blanks between columns, indented by indent, and frees
 * it. */
void table_print(struct table *t, const char *indent)
{
	size_t *colw = xcalloc(t->ncols, sizeof(*colw));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			if (t->width[r * t->ncols + c] > colw[c])
				colw[c] = t->width[r * t->ncols + c];
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(indent, stdout);
		for (size_t c = 0; c < t->ncols; c++) {
			size_t i = r * t->ncols + c;

			fputs(t->cell[i], stdout);
			if (c + 1 < t->ncols)
				printf("%*s", (int)(colw[c] - t->width[i] + 2), "");
			free(t->cell[i]);
		}
		putchar('\n');
	}
	free(colw);
	free(t->cell);
	free(t->width);
}

/* ---- times ------------------------------------------------------------- */

/* An instant as it was written ("2026-11-24T09:15:00+05:30"); "-" if
 * absent. */
const char *fmt_written(struct sw_stamp v, char *buf)
{
	struct sw_time t = {.utc_sec = v.at, .offset_sec = v.offset, .flags = SW_TIME_HAS_OFFSET};

	if (v.at == 0 || sw_time_format(&t, buf, TBUF) != SW_OK)
		snprintf(buf, TBUF, "-");
	return buf;
}

/* An instant in UTC ("2026-11-24T03:45:00Z"); "-" if absent (0). */
const char *fmt_utc(int64_t at, char *buf)
{
	struct sw_time t = {.utc_sec = at, .flags = SW_TIME_HAS_OFFSET};

	if (at == 0 || sw_time_format_utc(&t, buf, TBUF) != SW_OK)
		snprintf(buf, TBUF, "-");
	return buf;
}

/* "as written (UTC)" into buf[BOTHBUF]; the UTC part is left out when it
 * is the same text; "-" if absent. */
const char *fmt_both(struct sw_stamp v, char *buf)
{
	char w[TBUF], u[TBUF];

	if (v.at == 0 || v.offset == 0)
		return fmt_written(v, buf);
	snprintf(buf, BOTHBUF, "%s (%s)", fmt_written(v, w), fmt_utc(v.at, u));
	return buf;
}

/* A span of seconds, at most two units: "2d03h", "3h05m", "45m", "30s". */
const char *fmt_span(int64_t s, char *buf)
{
	uint64_t a = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;

	if (a >= 86400)
		snprintf(buf, TBUF, "%" PRIu64 "d%02" PRIu64 "h", a / 86400, a % 86400 / 3600);
	else if (a >= 3600)
		snprintf(buf, TBUF, "%" PRIu64 "h%02" PRIu64 "m", a / 3600, a % 3600 / 60);
	else if (a >= 60)
		snprintf(buf, TBUF, "%" PRIu64 "m", a / 60);
	else
		snprintf(buf, TBUF, "%" PRIu64 "s", a);
	return buf;
}

/* ---- JSON output --------------------------------------------------------- */

/* A JSON string for s (null if NULL); invalid UTF-8 is cleaned first
 * (jansson refuses it). */
json_t *jstr(const char *s)
{
	json_t *v;
	char *c;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	c = clean(s, NULL);
	v = json_string(c);
	free(c);
	return v ? v : json_null();
}

void jset_str(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, jstr(s));
}

void jset_int(json_t *o, const char *key, int64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

/* key: UTC time text, or null when absent (0). */
void jset_utc(json_t *o, const char *key, int64_t at)
{
	char buf[TBUF];

	json_object_set_new(o, key, at ? jstr(fmt_utc(at, buf)) : json_null());
}

/* key: the time as written, key_utc: in UTC; both null when absent. */
void jset_stamp(json_t *o, const char *key, struct sw_stamp v)
{
	char buf[TBUF], ukey[64];

	json_object_set_new(o, key, v.at ? jstr(fmt_written(v, buf)) : json_null());
	snprintf(ukey, sizeof(ukey), "%s_utc", key);
	jset_utc(o, ukey, v.at);
}

/* Prints v (taking it) on stdout.  0 or EXIT_RUNTIME. */
int json_print(json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	int status = 0;

	json_decref(v);
	if (!text)
		return fail("cannot encode the output as JSON");
	if (puts(text) == EOF || fflush(stdout) != 0)
		status = fail("cannot write the output");
	free(text);
	return status;
}

/*
 * A JSON array written as it is produced, one element per line, so that a
 * long report (up to SW_REPORT_MAX_ROWS rows) is never held as one tree.
 * Every command prints one object (see JSON OUTPUT in slipwatch(1)): the
 * array is the value of a named key, jlist_named() and a "}\n" tail.
 */
void jlist_begin(struct jlist *l)
{
	l->n = 0;
	l->failed = false;
	fputc('[', stdout);
}

/* {"key": [ ... : an object whose only key is the list (key is ASCII). */
void jlist_named(struct jlist *l, const char *key)
{
	printf("{\"%s\": ", key);
	jlist_begin(l);
}

/* Writes v (taking it). */
void jlist_add(struct jlist *l, json_t *v)
{
	fputs(l->n++ ? ",\n" : "\n", stdout);
	if (!v || json_dumpf(v, stdout, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0)
		l->failed = true;
	json_decref(v);
}

/* Closes the array, then writes tail.  0 or EXIT_RUNTIME. */
int jlist_end(struct jlist *l, const char *tail)
{
	fputs(l->n ? "\n]" : "]", stdout);
	fputs(tail, stdout);
	if (l->failed)
		return fail("cannot encode the output as JSON");
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail("cannot write the output");
	return 0;
}

/* Extra arguments after a command's own are a usage error. */
int no_more_args(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		return usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ---- shared JSON shapes ---------------------------------------------------- */

json_t *cli_outbox_json(const struct sw_report_outbox *m)
{
	json_t *j = json_object();

	jset_int(j, "id", m->id);
	jset_str(j, "entity", m->entity);
	jset_str(j, "slip_kind", m->slip_kind);
	jset_str(j, "promise", m->promise);
	jset_str(j, "channel", m->channel);
	jset_str(j, "recipient", m->recipient);
	jset_str(j, "state", m->state);
	jset_int(j, "attempts", m->attempts);
	jset_utc(j, "next_attempt_at", m->next_attempt_at);
	jset_str(j, "last_error", m->last_error);
	jset_utc(j, "created_at", m->created_at);
	jset_utc(j, "sent_at", m->sent_at);
	jset_str(j, "receiver", m->receiver);
	return j;
}
