/*
 * rrd.h - the RRD layer: the metric catalogue and the writer that turns
 * snapshots of the in-memory metrics registry (include/slipwatch/metrics.h)
 * into RRD updates, directly with librrd or through rrdcached.
 *
 * The catalogue (lib/rrd_catalogue.c, documented in doc/metrics.md) says,
 * per kind of file ("warehouse/ *", "courier/ *", "notify", "collector",
 * "probe/ *"), which data sources the RRD file has, in which order, their
 * RRD types and units, and which registry value feeds each one.  Archives
 * are the same for every file and derive from the step.
 *
 * The writer is single-threaded: call it from the daemon's loop (a timer at
 * each step boundary, and on SIGTERM/SIGUSR1).  Each flush takes one
 * snapshot and writes each file once, at the step boundary at or before
 * now.  librrd's rrdcached client keeps ONE process-global connection, so
 * at most one writer per process may use rrdcached.  A process using
 * rrdcached must ignore SIGPIPE or tolerate it being raised; the writer
 * blocks and discards SIGPIPE around its own socket calls to be safe.
 */
#ifndef SW_RRD_H
#define SW_RRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/error.h"

struct sw_metrics;

/* ---- catalogue ----------------------------------------------------------- */

#define SW_RRD_DS_NAME_MAX 19 /* librrd's limit, [A-Za-z0-9_] */
#define SW_RRD_MAX_DS 40      /* most data sources in one file kind */

enum sw_rrd_dstype {
	SW_RRD_GAUGE,    /* a level, or a quantile of one step's samples */
	SW_RRD_ABSOLUTE, /* events counted during the step; read back per second */
	SW_RRD_DSTYPE_LAST
};

/* Which number of a registry value feeds a data source. */
enum sw_rrd_stat {
	SW_RRD_STAT_VALUE, /* COUNTER: the count; GAUGE: the level */
	SW_RRD_STAT_COUNT, /* SAMPLES: number of samples */
	SW_RRD_STAT_MIN,
	SW_RRD_STAT_P10,
	SW_RRD_STAT_P50,
	SW_RRD_STAT_P90,
	SW_RRD_STAT_MAX,
	SW_RRD_STAT_LAST
};

/* One data source of a file kind. */
struct sw_rrd_ds {
	const char *name;        /* RRD name, at most 19 bytes of [A-Za-z0-9_] */
	enum sw_rrd_dstype type;
	const char *unit;        /* "events", "orders", "parcels", "s" */
	const char *meaning;     /* one line for doc/metrics.md */
	const char *metric;      /* registry data source feeding it */
	enum sw_rrd_stat stat;   /* which number of that registry value */
};

/* One kind of RRD file. */
struct sw_rrd_kind {
	const char *pattern;          /* "warehouse/ *" (no blank): one [A-Za-z0-9_-.]
				       * segment not starting with '.'; or a fixed name */
	const char *meaning;
	const struct sw_rrd_ds *ds;   /* in file order */
	size_t n_ds;
};

extern const struct sw_rrd_kind sw_rrd_catalogue[];
extern const size_t sw_rrd_catalogue_len;

/* The kind whose pattern matches a registry file name ("warehouse/blr1"),
 * or NULL.  A '*' never matches '/', an empty segment, or one starting with
 * '.', so no name escapes the RRD directory.  Any thread. */
const struct sw_rrd_kind *sw_rrd_kind_find(const char *file);

/* Checks the catalogue for programming errors (bad or duplicate DS names,
 * too many DS, bad types).  SW_OK or SW_EINVAL with errbuf naming the row.
 * For unit tests. */
enum sw_err sw_rrd_catalogue_check(char *errbuf, size_t errlen);

/* ---- configuration ------------------------------------------------------- */

/* Filled from section [rrd] by sw_conf_apply(conf, "rrd", NULL,
 * sw_rrd_conf_table, &c, ...); free with sw_conf_free_struct(). */
struct sw_rrd_conf {
	char *dir;                 /* RRD directory; files are DIR/warehouse/x.rrd */
	int64_t step_ms;           /* step, whole seconds, 1 s .. 1 h */
	char *rrdcached;           /* "unix:/path", "/path", "host:port"; "" = direct */
	int64_t reconnect_max_ms;  /* cap of the reconnect back-off */
};

extern const struct sw_conf_opt sw_rrd_conf_table[];

/* What the table cannot say and sw_rrd_new() needs: dir not empty, step
 * whole seconds in 1 s..1 h.  SW_OK, or SW_ECONF with errbuf holding
 * "[rrd] KEY: what: 'bad'".  Pure. */
enum sw_err sw_rrd_conf_check(const struct sw_rrd_conf *conf, char *errbuf, size_t errlen);

/* Applies [rrd] of file into conf (zeroed, or from an earlier load) and
 * checks it as sw_rrd_new() will: SW_OK, or SW_ECONF with errbuf naming
 * FILE:LINE (conf then freed).  Free with sw_conf_free_struct(). */
enum sw_err sw_rrd_conf_load(struct sw_conf *file, struct sw_rrd_conf *conf, char *errbuf,
			     size_t errlen);

/* ---- writer -------------------------------------------------------------- */

/* Steps kept per file: unwritten ones while rrdcached is down, and the
 * last ones it accepted, to send again if it loses them (a kill -9 loses
 * its journal's unflushed buffer). */
#define SW_RRD_MAX_PENDING 60

struct sw_rrd; /* opaque writer */

/* Counters since sw_rrd_new(), for status output and tests. */
struct sw_rrd_stats {
	uint64_t flushes;         /* sw_rrd_flush calls that took a snapshot */
	uint64_t skipped;         /* flushes (or file updates) in an already written step */
	uint64_t carried;         /* updates moved one step on: the file had their step
				   * (a restart inside the step a stop wrote ahead) */
	uint64_t updates;         /* file updates written */
	uint64_t created;         /* files created */
	uint64_t unmapped_metrics;/* values with no catalogue entry (per flush) */
	uint64_t unmapped_files;  /* values in files matching no pattern (per flush) */
	uint64_t data_errors;     /* updates refused for the data (dropped) */
	uint64_t layout_errors;   /* files refused: layout differs from the catalogue */
	uint64_t conn_errors;     /* rrdcached connection failures */
	uint64_t reconnects;      /* successful rrdcached (re)connections */
	uint64_t dropped;         /* queued steps dropped: queue full while down */
	uint64_t restarts;        /* rrdcached restarts seen (its counters went back) */
	uint64_t resent;          /* steps sent again after a reconnect: the daemon
				   * had lost them (killed before its journal
				   * reached the disk) */
	size_t pending;           /* steps queued now, all files */
};

/* Creates a writer from conf (copied).  Files are created and checked
 * lazily by sw_rrd_flush; nothing is connected yet.  SW_OK and *ret_w set,
 * or SW_ECONF (what sw_rrd_conf_check refuses) with errbuf saying why and
 * *ret_w NULL.  Free with sw_rrd_free(). */
enum sw_err sw_rrd_new(const struct sw_rrd_conf *conf, struct sw_rrd **ret_w,
		       char *errbuf, size_t errlen);

/* Frees the writer: tries once more to write queued steps (one connection
 * attempt), then disconnects from rrdcached (which keeps what it received
 * in its journal; librrd 1.7.2 exports no FLUSHALL).  NULL is a no-op. */
void sw_rrd_free(struct sw_rrd *w);

/* Writes one step.  now is the wall clock in seconds since the epoch; the
 * step written is T = now rounded down to the step.  If T was already
 * written (a second call in the same step, or the clock went back) nothing
 * is taken from m and SW_EDUP is returned (stats.skipped counts it): the
 * registry keeps accumulating for the next step, nothing is lost.
 * Otherwise takes one snapshot of m, maps it through the catalogue, and
 * writes each file once with all its data sources ("T:v1:v2:..." in
 * catalogue order; U for unknown: gauges never set, quantiles of a step
 * without samples; counters are always a number).  Missing files and
 * directories are created (start T - step); a file's layout is checked
 * against the catalogue before its first update in this process.
 * With rrdcached, steps that could not be sent are queued (at most
 * SW_RRD_MAX_PENDING per file, oldest dropped) and sent in order after a
 * reconnect; reconnects back off exponentially (1 s doubling to
 * reconnect_max, measured on now).  Steps the daemon accepted stay queued
 * (room permitting); after a reconnect the ones after the daemon's last
 * update (LAST) are sent again (stats.resent).  Returns SW_OK when every update was
 * written (or queued only because rrdcached was down: SW_EAGAIN then), or
 * the first error: SW_EVERSION (a file's layout differs; reported once per
 * file), SW_EIO (librrd or the filesystem refused), SW_EAGAIN (rrdcached
 * down, steps queued).  errbuf then holds that error, naming the file and
 * librrd's text, plus "(and N more)".  Per-file errors: sw_rrd_file_error().
 * Safe at any time from the loop. */
enum sw_err sw_rrd_flush(struct sw_rrd *w, struct sw_metrics *m, int64_t now,
			 char *errbuf, size_t errlen);

/* The last error of a file ("warehouse/blr1"), or NULL if its last write
 * went well or it is unknown.  Owned by w, valid until the next call. */
const char *sw_rrd_file_error(const struct sw_rrd *w, const char *file);

/* Copies the counters into *ret. */
void sw_rrd_get_stats(const struct sw_rrd *w, struct sw_rrd_stats *ret);

/* Checks the RRD file of registry file name file ("warehouse/blr1") against
 * the catalogue without writing.  SW_OK: matches; SW_ENOTFOUND: no such
 * file (it will be created); SW_EINVAL: the name matches no catalogue
 * pattern; SW_EVERSION: layout differs ("warehouse/blr1.rrd: step is 300 s,
 * the catalogue says 60 s"); SW_EIO: unreadable (librrd's text).  errbuf
 * holds the text.  Reads the file directly (or through rrdcached INFO when
 * configured).  From the loop, or from a tool. */
enum sw_err sw_rrd_check_file(struct sw_rrd *w, const char *file, char *errbuf,
			      size_t errlen);

/* Migrates a file whose layout differs: renames DIR/FILE.rrd to
 * DIR/FILE.rrd.old-<now> and creates a fresh file from the catalogue
 * (start: now rounded down to the step; the next update covers one step).  History is not
 * carried over (doc/metrics.md says how to do it by hand with rrdtool dump
 * and restore).  The directory must be local, also with rrdcached (whose
 * cached values for the file are flushed and forgotten first).  SW_OK;
 * SW_EINVAL (no catalogue pattern); SW_ENOTFOUND (no such file); SW_EIO
 * (rename or create failed); errbuf holds the text.  The file is writable
 * again from the next flush. */
enum sw_err sw_rrd_migrate(struct sw_rrd *w, const char *file, int64_t now,
			   char *errbuf, size_t errlen);

#endif /* SW_RRD_H */
