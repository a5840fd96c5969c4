/*
 * cli.h - what the files of the slipwatch command line share (tools/cli.c):
 * messages and exit statuses, option parsing, opening the store, terminal
 * tables, time formats and JSON output.  The commands live in
 * tools/slipwatch.c (the table, reports, unsubscribe) and
 * tools/cli_pages.c (on-call: pages, ack, silence).
 *
 * Conventions every command follows (slipwatch(1)): exit status 0 done,
 * EXIT_RUNTIME (the message names the store or file and what failed),
 * EXIT_USAGE (the message names the argument and what is expected); text
 * from the store reaches a terminal only through clean() or a table; every
 * --json output is one object whose lists are named arrays (jlist_named).
 */
#ifndef SW_TOOLS_CLI_H
#define SW_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "lib/store.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/* What the global options said. */
struct cli {
	const char *conf_path; /* -c, or the default */
	bool conf_given;       /* -c was given */
	const char *store_opt; /* --store, or NULL */
};

/* ---- commands in other files (rows of slipwatch.c's table) ---------------- */

int cmd_pages(const struct cli *cli, int argc, char **argv);
int cmd_ack(const struct cli *cli, int argc, char **argv);
int cmd_silence(const struct cli *cli, int argc, char **argv);
int cmd_replay(const struct cli *cli, int argc, char **argv); /* cli_replay.c */
int cmd_engine(const struct cli *cli, int argc, char **argv); /* cli_engine.c */

/* ---- messages -------------------------------------------------------------- */

/* A usage error: "slipwatch: CMD: what", a hint; returns EXIT_USAGE. */
int usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A runtime failure: "slipwatch: what"; returns EXIT_RUNTIME. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- options ---------------------------------------------------------------- */

/* Starts next_opt() over a new argument vector. */
void opts_begin(void);
/* The next option of argv[0..argc) (argv[0] is the command): its code, -1
 * at the end, or '!' after reporting a usage error. */
int next_opt(const char *cmd, int argc, char **argv, const struct option *longopts);
/* Reports what getopt_long refused (c is '?' or ':'); EXIT_USAGE. */
int bad_option(const char *cmd, int c, char **argv, const struct option *longopts);
/* 0 if arg is not empty, else EXIT_USAGE naming opt. */
int nonempty_arg(const char *cmd, const char *opt, const char *arg);
/* 0 if no operand is left after optind, else EXIT_USAGE naming it. */
int no_more_args(const char *cmd, int argc, char **argv);
/* A duration in slipwatch.conf's syntax (30m, 24h, 2d; bare = seconds),
 * 0..max_ms, into whole seconds.  0 or EXIT_USAGE naming opt ("--within"). */
int parse_duration(const char *cmd, const char *opt, const char *arg, int64_t max_ms,
		   int64_t *ret_s);

/*
 * The values an enumerated option takes: the names of a table that lives
 * with what it names (the store's outbox states, the rules' slip kinds),
 * read through that module's own *_name() function, so that a value added
 * there is accepted here without a change.  followup: "resolved_" + any
 * name is accepted too (the outbox's good-news follow-ups).
 */
struct choices {
	const char *what;	    /* "an outbox state", for messages */
	const char *(*name)(int i); /* the i-th name, 0 <= i < n */
	int n;
	bool followup;
};

#define FOLLOWUP_PREFIX "resolved_"

/* arg must be one of c's values: 0, or EXIT_USAGE naming the option,
 * the value (cleaned for the terminal) and every value it could be. */
int choice_arg(const char *cmd, const char *opt, const struct choices *c, const char *arg);

/* ---- the store ----------------------------------------------------------------- */

/* The clock (lib/clock.h): with SLIPWATCH_CLOCK set, the configuration
 * must say [simulation] enabled = yes (as for the daemons, lib/daemon.h
 * sw_daemon_clock), and the commands then run on that clock.  0, or
 * EXIT_RUNTIME with the message printed. */
int cli_clock(const struct cli *cli);

/* The store's path into a new *ret_path (free it): --store, else [store]
 * path of the configuration.  0, or EXIT_RUNTIME with the message printed. */
int cli_store_path(const struct cli *cli, char **ret_path);

/* Opens the store (--store, else [store] path of the configuration) with
 * flags.  0, or EXIT_RUNTIME with the message printed. */
int open_store(const struct cli *cli, unsigned flags, struct sw_store **ret_st);

/* ---- text output ------------------------------------------------------------------ */

/* A new copy of s safe for a terminal (control characters and invalid
 * UTF-8 become '?'; NULL or "" gives "-"); *ret_width its characters. */
char *clean(const char *s, size_t *ret_width);

/* An aligned table: rows of ncols cleaned cells. */
struct table {
	size_t ncols, nrows, cap;
	char **cell;   /* nrows * ncols */
	size_t *width; /* of each cell */
};

void table_init(struct table *t, size_t ncols);
/* Adds one row of t->ncols strings (NULL shows as "-"). */
void table_row(struct table *t, const char *const *cells);
/* Prints t, two blanks between columns, each line after indent; frees it. */
void table_print(struct table *t, const char *indent);

/* ---- times ---------------------------------------------------------------------- */

#define TBUF	48	       /* holds any one time these functions format */
#define BOTHBUF (2 * TBUF + 8) /* fmt_both() */

/* Into buf[TBUF] (fmt_both: buf[BOTHBUF]); "-" when absent. */
const char *fmt_written(struct sw_stamp v, char *buf); /* as written */
const char *fmt_utc(int64_t at, char *buf);	       /* "...Z"; 0 is absent */
const char *fmt_both(struct sw_stamp v, char *buf);    /* "written (UTC)" */
const char *fmt_span(int64_t s, char *buf);	       /* "2d03h", "45m", "30s" */

/* ---- JSON output ------------------------------------------------------------------ */

json_t *jstr(const char *s); /* null if NULL; invalid UTF-8 cleaned */
void jset_str(json_t *o, const char *key, const char *s);
void jset_int(json_t *o, const char *key, int64_t v);
void jset_utc(json_t *o, const char *key, int64_t at);		/* null when 0 */

struct sw_report_outbox;
/* One outbox row as `slipwatch outbox --json` shows it (also pages'
 * last_notification). */
json_t *cli_outbox_json(const struct sw_report_outbox *m);
void jset_stamp(json_t *o, const char *key, struct sw_stamp v); /* key, key_utc */
/* Prints v (taking it) on stdout.  0 or EXIT_RUNTIME. */
int json_print(json_t *v);

/* A JSON array written as it is produced, one element per line. */
struct jlist {
	size_t n;
	bool failed;
};

void jlist_begin(struct jlist *l);
/* {"key": [ ... : an object whose only key is the list (key is ASCII). */
void jlist_named(struct jlist *l, const char *key);
void jlist_add(struct jlist *l, json_t *v); /* takes v */
/* Closes the array, then writes tail ("}\n").  0 or EXIT_RUNTIME. */
int jlist_end(struct jlist *l, const char *tail);

#endif /* SW_TOOLS_CLI_H */
