/*
 * daemon.h - what every slipwatch daemon shares: the command line, loading
 * and checking the configuration, detaching, the pid file, the event loop
 * with its signals, and the store.
 *
 * A daemon is a const struct sw_daemon_desc (its name and hooks) handed to
 * sw_daemon_main() from main().  The sequence is fixed:
 *
 *   parse argv -> load the file -> apply [store] [log] [simulation] ->
 *   every part of the registry (the daemon's own into its state) -> the
 *   clock (--clock or SLIPWATCH_CLOCK, lib/clock.h) -> (-t: report and
 *   exit) -> open the store -> detach (unless -f) -> loop + signals ->
 *   desc->start -> run ... SIGHUP: reload ... SIGTERM -> desc->stop ->
 *   close the store -> exit 0
 *   (SIGUSR1 at any time: desc->flush)
 *
 * The whole file is judged on every load, the same way by every program:
 * each program's share of the file is a struct sw_daemon_part, and the
 * registry (conf/registry.h) lists them all.  A part's configure checks
 * everything its program's start depends on, so that a file -t accepts
 * starts; another program's part is checked as text only (lib/conf.h:
 * its secrets and files are not read, they need not be here).
 *
 * Detaching waits for the child to finish starting (store open, start hook
 * done) before the parent exits, so a start-up failure is still reported on
 * the terminal with exit status 1.
 *
 * This module is the one part of lib/ that writes to stdout and stderr
 * directly: it is the programs' shared main(), and usage text, -t output
 * and start-up errors before logging exists have no other caller to go to.
 * Everything after start-up goes through lib/log.
 */
#ifndef SW_DAEMON_H
#define SW_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/rrd.h"
#include "lib/store.h"

/* Settings every daemon reads: sections [store], [log] and [simulation]. */
struct sw_daemon_conf {
	char *store_path; /* [store] path, or [store] url when that is set */
	char *store_url;  /* [store] url: a PostgreSQL store */
	struct sw_conf_secret store_password; /* [store] password_file/_env */
	int log_level;    /* [log] level: enum sw_log_level */
	int log_dest;     /* [log] destination: SW_DAEMON_LOG_* */
	bool sim_enabled; /* [simulation] enabled: a simulated clock is allowed */
};

/* The option table of [store] (fills struct sw_daemon_conf.store_*). */
extern const struct sw_conf_opt sw_daemon_store_table[];

/* Applies [store] of file to c: the table, then url (a PostgreSQL store:
 * postgresql:// or postgres://, no password written in it, not beside a
 * path) in place of store_path, and its password handed to the store
 * module for every open of this process (sw_store_set_password).  For a
 * part that reads the store's address itself (-t -v of the collector). */
enum sw_err sw_daemon_store_apply(struct sw_conf *file, struct sw_daemon_conf *c, char *errbuf,
				  size_t errlen);

enum sw_daemon_log_dest {
	SW_DAEMON_LOG_AUTO,   /* stderr with -f, syslog when detached */
	SW_DAEMON_LOG_STDERR,
	SW_DAEMON_LOG_SYSLOG,
	SW_DAEMON_LOG_LAST
};

/* The command line, as parsed by sw_daemon_parse_args(). */
struct sw_daemon_args {
	const char *conf_path; /* -c; points into argv or at the default */
	const char *pid_file;  /* -p; NULL for none */
	bool check_only;       /* -t */
	bool verbose;          /* -v (with -t: print effective settings) */
	bool foreground;       /* -f */
	bool help;             /* -h */
	bool version;          /* --version */
	const char *clock_spec; /* --clock SPEC; NULL for none (SLIPWATCH_CLOCK) */
};

/* What a running daemon's hooks get. */
struct sw_daemon {
	const struct sw_daemon_desc *desc;
	struct sw_daemon_args args;
	struct sw_daemon_conf conf;
	struct sw_loop *loop;
	struct sw_store *store;
	void *state; /* the component's own, from desc->configure */
};

/*
 * One program's share of slipwatch.conf: the section kinds it reads and
 * how it turns them into its state.  Const data, one per program, listed
 * in the registry.
 */
struct sw_daemon_part {
	const char *name;         /* "collector": the program reading it */
	const char *const *kinds; /* section kinds it reads, NULL-terminated;
				     two parts may share one ([rrd]) */
	/*
	 * Applies the part's sections of conf into a new state (*ret_state,
	 * freed with free_state) and checks everything the program's start
	 * would refuse on the file's values, so that a file -t accepts
	 * starts.  With sw_conf_text_only(conf) (another program checking
	 * this part) it reads no secret and no file.  SW_OK, or SW_ECONF with
	 * errbuf naming file:line.  Called for -t, at start and on every
	 * reload (with a fresh conf); must not touch the running daemon.
	 */
	enum sw_err (*configure)(struct sw_conf *conf, void **ret_state, char *errbuf,
				 size_t errlen);
	/* Appends the effective settings of state to out (-t -v). */
	void (*dump)(const void *state, struct sw_buf *out);
	/* Frees a state from configure. */
	void (*free_state)(void *state);
};

struct sw_daemon_desc {
	const char *name;    /* "collector": program slipwatch-collector */
	const char *summary; /* one line for -h */
	/* This program's share of the file; NULL: none (only [store], [log]). */
	const struct sw_daemon_part *part;
	/* Every program's share, NULL-terminated (conf/registry.h); all are
	 * checked on every load, in this order.  NULL: part alone. */
	const struct sw_daemon_part *const *registry;
	/*
	 * Starts the component's work on d->loop with d->store and d->state:
	 * registers fds and timers.  SW_OK, or an error with errbuf set (the
	 * daemon then exits 1).  May be NULL.
	 */
	enum sw_err (*start)(struct sw_daemon *d, char *errbuf, size_t errlen);
	/*
	 * Takes over new_state after SIGHUP (the old one is freed after the
	 * call returns).  Return SW_OK to accept; an error keeps the old state
	 * (new_state is freed) and is logged.  NULL: states are swapped.
	 */
	enum sw_err (*reload)(struct sw_daemon *d, void *new_state, char *errbuf, size_t errlen);
	/* Drains and releases what start set up; the loop still runs for
	 * sw_daemon_drain_ms after it returns.  May be NULL. */
	void (*stop)(struct sw_daemon *d);
	/* SIGUSR1: write out everything buffered now (time series).  May be
	 * NULL (the signal is then logged and ignored). */
	void (*flush)(struct sw_daemon *d);
};

/*
 * Time series of a daemon: the RRD writer, and a timer that writes the
 * metrics registry once per step just after each step boundary of the
 * wall clock (failures logged, rate-limited).  before_flush (may be NULL)
 * runs first each time, to set gauges for the step that ended.
 */
struct sw_daemon_series {
	struct sw_rrd *rrd;
	struct sw_metrics *metrics;
	int64_t step_ms;
	uint64_t timer;
	void (*before_flush)(void *arg);
	void *arg;
	struct sw_log_complain complain;
};

/* Opens the writer for conf and starts the timer on d->loop; metrics is
 * borrowed.  SW_OK or the error of sw_rrd_new (errbuf set). */
enum sw_err sw_daemon_series_start(struct sw_daemon *d, struct sw_daemon_series *s,
				   const struct sw_rrd_conf *conf, struct sw_metrics *metrics,
				   void (*before_flush)(void *arg), void *arg, char *errbuf,
				   size_t errlen);

/*
 * Writes the step's metrics now.  At a step boundary it writes the step
 * that just ended; now_too (SIGUSR1, SIGTERM) also writes what the running
 * step holds so far, stamped with the step's end: the boundary timer then
 * finds that step written and what arrives until then is carried into the
 * next step, so nothing is lost.
 */
void sw_daemon_series_flush(struct sw_daemon_series *s, bool now_too);

/* Stops the timer, writes what the running step holds, frees the writer.
 * Safe on a series never started. */
void sw_daemon_series_stop(struct sw_daemon *d, struct sw_daemon_series *s);

/* How long (real ms, whatever the clock) the loop keeps running after
 * desc->stop to let work finish. */
#define SW_DAEMON_DRAIN_MS 2000

/*
 * Sets the one clock (lib/clock.h) the program runs on from opt_spec (a
 * --clock option) or, when it is NULL, from SLIPWATCH_CLOCK; neither leaves
 * the real clock.  A simulated clock is applied only when conf (loaded
 * from conf_path) says [simulation] enabled = yes, so that a production
 * configuration never runs on one by accident.  SW_OK, or SW_EINVAL with
 * errbuf saying what is wrong: a bad spec, or the refusal naming the file.
 * The clock is unchanged on error.  Call once, at start, after loading.
 */
enum sw_err sw_daemon_clock(const struct sw_daemon_conf *conf, const char *conf_path,
			    const char *opt_spec, char *errbuf, size_t errlen);

/* The clock as it runs, for -t and the start-up log line: "real",
 * "simulated, 2026-03-02T02:30:00Z at 100x" (its reading now), or
 * "stepped, ...". */
void sw_daemon_clock_describe(char *buf, size_t len);

/* The default configuration file: SYSCONFDIR "/slipwatch/slipwatch.conf". */
const char *sw_daemon_default_conf(void);

/*
 * Parses the command line: -c FILE, -p FILE, -t, -v, -f, -h, --version,
 * --clock SPEC and the long forms --config, --pid-file, --test, --verbose,
 * --foreground, --help.  SW_OK and *ret_args filled, or SW_EINVAL with
 * errbuf naming the bad argument.  Does not print.  Uses getopt_long (resets optind).
 */
enum sw_err sw_daemon_parse_args(int argc, char **argv, struct sw_daemon_args *ret_args,
				 char *errbuf, size_t errlen);

/*
 * Loads the file at path and applies [store] and [log] into *ret_conf,
 * then every part of desc->registry in order: desc->part into *ret_state,
 * the others as text only (their states freed at once), so the first
 * error is the same whichever program reads the file.  Sections of kinds
 * no part reads are an error (a typo such as [stroe] would otherwise be
 * ignored silently).  On SW_OK, *ret_file is the parse (free with
 * sw_conf_free), *ret_conf is filled (free with sw_daemon_conf_free) and
 * *ret_state set (NULL without desc->part); on error nothing needs
 * freeing and errbuf names file:line and the bad text.
 */
enum sw_err sw_daemon_load_conf(const struct sw_daemon_desc *desc, const char *path,
				struct sw_conf **ret_file, struct sw_daemon_conf *ret_conf,
				void **ret_state, char *errbuf, size_t errlen);

/* Appends the effective [store] and [log] settings to out. */
void sw_daemon_conf_dump(const struct sw_daemon_conf *conf, struct sw_buf *out);

/* Frees the strings of conf. */
void sw_daemon_conf_free(struct sw_daemon_conf *conf);

/* True if kind is [store], [log] or a section kind some part of desc's
 * registry (or desc->part) reads. */
bool sw_daemon_known_section(const struct sw_daemon_desc *desc, const char *kind);

/*
 * The whole life of a daemon, for main(): returns the process exit status
 * (0 clean exit or valid config, 1 config/start-up error, 2 usage error).
 */
int sw_daemon_main(int argc, char **argv, const struct sw_daemon_desc *desc);

#endif /* SW_DAEMON_H */
