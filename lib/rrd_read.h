/*
 * rrd_read.h - reading back what the RRD writer (lib/rrd.h) wrote: the sum
 * of chosen data sources of one file over a time range, for the alert
 * engine's ops rules (alerts/signals.h) and tools.
 *
 * Rows are read with rrd_fetch_r (CF AVERAGE) from the finest archive that
 * covers the range: a row stamped T covers (T - step, T].  ABSOLUTE data
 * sources come back per second, so a row's rate times its step is the
 * count of that step; gauges are summed as read (a sum of levels: only
 * meaningful for the caller that knows it).  A row is known when every
 * data source asked for is a number in it: the writer writes every data
 * source of a file in each update and ABSOLUTE ones are always numbers, so
 * an unknown row means no update came in time (the heartbeat is two
 * steps): the collector stopped, or the file did not exist yet.
 *
 * With [rrd] rrdcached set, the file is flushed through the daemon first
 * (rrdc_flush) so that steps it still caches are read; over TCP the rows
 * are fetched through the daemon (rrdc_fetch), the file being on its
 * host.  librrd keeps one process-global rrdcached connection: it is
 * connected here when needed and left open (the writer in the same
 * process uses the same address).  SIGPIPE is blocked around the socket
 * calls.  Single thread, like the writer.
 */
#ifndef SW_RRD_READ_H
#define SW_RRD_READ_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/rrd.h"

#define SW_RRD_READ_MAX_DS 16 /* data sources summed by one read */

/* What one read found in the rows stamped within (start, end]. */
struct sw_rrd_sum {
	double sum[SW_RRD_READ_MAX_DS]; /* per data source asked, known rows only
					   (ABSOLUTE: a count) */
	double total;			/* the sum of sum[] */
	int64_t rows;			/* rows in the range */
	int64_t known;			/* rows where every data source asked is known */
	int64_t last_known;		/* stamp of the last known row; 0: none */
	int64_t last_nonzero;		/* stamp of the last known row whose data
					   sources add up to more than 0; 0: none */
	int64_t step;			/* resolution of the rows read (s) */
};

/*
 * Sums the data sources ds[0..n_ds) (1..SW_RRD_READ_MAX_DS catalogue names
 * of the file's kind) of the RRD file of registry name file
 * ("courier/dhl": a name sw_rrd_kind_find accepts, so that it cannot leave
 * conf->dir) over the rows stamped in (start, end] into *ret (zeroed
 * first).  Returns SW_OK; SW_EINVAL (a name the catalogue does not know,
 * a data source not in the kind or not in the file, start >= end);
 * SW_ENOTFOUND (no such file); SW_EAGAIN (rrdcached unreachable); SW_EIO
 * (librrd refused the file: not an RRD file, unreadable).  err then holds
 * the text, naming the file and librrd's words.  Blocks for the read.
 */
enum sw_err sw_rrd_read_sum(const struct sw_rrd_conf *conf, const char *file, const char *const *ds,
			    size_t n_ds, int64_t start, int64_t end, struct sw_rrd_sum *ret,
			    char *err, size_t len);

/*
 * The registry names of the files of one catalogue pattern with a '*'
 * ("courier/ *" given as its directory "courier") found in conf->dir
 * (DIR/courier/NAME.rrd with NAME a segment sw_rrd_kind_find accepts;
 * other entries are ignored): the NAMEs, as a new sorted array of new
 * strings (NULL, 0 when none or when the directory does not exist).  Free
 * with sw_rrd_names_free.  SW_OK or SW_EIO (the directory is unreadable;
 * err set).  Lists the local directory, also with rrdcached (a file only
 * the daemon knows, not yet created on disk, is not listed).
 */
enum sw_err sw_rrd_list(const struct sw_rrd_conf *conf, const char *kind_dir, char ***ret_names,
			size_t *ret_n, char *err, size_t len);

void sw_rrd_names_free(char **names, size_t n);

#endif /* SW_RRD_READ_H */
