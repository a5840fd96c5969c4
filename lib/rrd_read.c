/*
 * rrd_read.c - sums of data sources read back from RRD files, and the
 * listing of one kind's files (see rrd_read.h).
 *
 * Design: a read is one rrd_fetch_r (or rrdc_fetch over TCP) of the whole
 * range at the finest resolution that covers it; the data sources asked
 * for are found by name in what came back (never by catalogue position, so
 * a file with extra or reordered sources still reads right, and a missing
 * one is an error naming it).  Paths are built only from names that
 * sw_rrd_kind_find accepts: no id reaches the filesystem unless it is one
 * segment of [A-Za-z0-9_.-] not starting with '.'.  The writer's way with
 * librrd and rrdcached (error text, SIGPIPE, the address and the name a
 * file gets over TCP or a socket) is shared through rrd_int.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <rrd.h>
#include <rrd_client.h>

#include "lib/rrd_int.h"
#include "lib/rrd_read.h"
#include "lib/xmalloc.h"

#define ERR_MAX 512

/* What rrd_fetch_r handed over. */
struct fetched {
	time_t start, end;
	unsigned long step, n_names;
	char **names;
	rrd_value_t *data;
};

static void fetched_free(struct fetched *f)
{
	for (unsigned long i = 0; f->names && i < f->n_names; i++)
		free(f->names[i]);
	free(f->names);
	free(f->data);
}

static bool daemon_set(const struct sw_rrd_conf *conf)
{
	return conf->rrdcached && conf->rrdcached[0];
}

/* Checks the arguments; SW_OK or SW_EINVAL with err set. */
static enum sw_err check_args(const char *file, const char *const *ds, size_t n_ds, int64_t start,
			      int64_t end, char *err, size_t len)
{
	const struct sw_rrd_kind *k = sw_rrd_kind_find(file);

	if (k == NULL) {
		snprintf(err, len, "'%s': not an RRD file name of the metric catalogue",
			 file ? file : "(null)");
		return SW_EINVAL;
	}
	if (n_ds == 0 || n_ds > SW_RRD_READ_MAX_DS || start >= end) {
		snprintf(err, len, "%s.rrd: bad read (%zu data sources, range %lld..%lld)", file,
			 n_ds, (long long)start, (long long)end);
		return SW_EINVAL;
	}
	for (size_t i = 0; i < n_ds; i++) {
		bool found = false;

		for (size_t j = 0; j < k->n_ds && !found; j++)
			found = strcmp(k->ds[j].name, ds[i]) == 0;
		if (!found) {
			snprintf(err, len, "%s.rrd: no data source '%s' in the catalogue", file,
				 ds[i]);
			return SW_EINVAL;
		}
	}
	return SW_OK;
}

/* Through rrdcached: connects, flushes the file, and over TCP fetches the
 * rows too (*ret_done).  SW_OK, SW_EAGAIN, SW_EIO. */
static enum sw_err via_daemon(const struct sw_rrd_conf *conf, const char *file, struct fetched *f,
			      bool *ret_done, char *err, size_t len)
{
	bool tcp = sw_rrd_daemon_tcp(conf->rrdcached);
	char *path = sw_rrd_daemon_path(conf->dir, file, tcp);
	char e[ERR_MAX];
	enum sw_err rc = SW_OK;
	sigset_t old;

	*ret_done = false;
	sw_rrd_pipe_block(&old);
	if (rrdc_connect(conf->rrdcached) != 0 || !rrdc_is_any_connected()) {
		snprintf(err, len, "rrdcached %s: %s", conf->rrdcached, sw_rrd_err(e, sizeof(e)));
		rc = SW_EAGAIN;
	} else if (rrdc_flush(path) != 0) {
		sw_rrd_err(e, sizeof(e));
		rc = !rrdc_is_any_connected()	 ? SW_EAGAIN
		     : strstr(e, "No such file") ? SW_ENOTFOUND
						 : SW_EIO;
		snprintf(err, len, "%s.rrd: rrdcached %s: flush: %s", file, conf->rrdcached, e);
	} else if (tcp) {
		if (rrdc_fetch(path, "AVERAGE", &f->start, &f->end, &f->step, &f->n_names,
			       &f->names, &f->data) != 0) {
			sw_rrd_err(e, sizeof(e));
			rc = !rrdc_is_any_connected() ? SW_EAGAIN : SW_EIO;
			snprintf(err, len, "%s.rrd: rrdcached %s: fetch: %s", file, conf->rrdcached,
				 e);
		}
		*ret_done = rc == SW_OK;
	}
	sw_rrd_pipe_restore(&old);
	free(path);
	return rc;
}

/* Fetches the rows of (start, end] into f.  SW_OK, SW_ENOTFOUND, SW_EAGAIN,
 * SW_EIO. */
static enum sw_err fetch(const struct sw_rrd_conf *conf, const char *file, int64_t start,
			 int64_t end, struct fetched *f, char *err, size_t len)
{
	char *path = xasprintf("%s/%s.rrd", conf->dir, file), e[ERR_MAX];
	bool done = false;
	enum sw_err rc = SW_OK;
	struct stat sb;

	memset(f, 0, sizeof(*f));
	f->start = (time_t)start;
	f->end = (time_t)end;
	f->step = 1; /* the finest archive that covers start */
	if (daemon_set(conf))
		rc = via_daemon(conf, file, f, &done, err, len);
	if (rc == SW_OK && !done) {
		if (stat(path, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR)) {
			snprintf(err, len, "%s.rrd: no such file in %s", file, conf->dir);
			rc = SW_ENOTFOUND;
		} else if (rrd_fetch_r(path, "AVERAGE", &f->start, &f->end, &f->step, &f->n_names,
				       &f->names, &f->data) != 0) {
			snprintf(err, len, "%s.rrd: cannot read: %s", file,
				 sw_rrd_err(e, sizeof(e)));
			rc = SW_EIO;
		}
	}
	free(path);
	return rc;
}

/* The column of each data source asked; SW_EINVAL naming one missing. */
static enum sw_err columns(const struct fetched *f, const char *file, const char *const *ds,
			   size_t n_ds, size_t *col, char *err, size_t len)
{
	for (size_t i = 0; i < n_ds; i++) {
		col[i] = f->n_names;
		for (unsigned long j = 0; j < f->n_names; j++)
			if (strcmp(f->names[j], ds[i]) == 0)
				col[i] = j;
		if (col[i] == f->n_names) {
			snprintf(err, len,
				 "%s.rrd: the file has no data source '%s' (migrate it: "
				 "slipwatch-rrd migrate %s)",
				 file, ds[i], file);
			return SW_EINVAL;
		}
	}
	return SW_OK;
}

/* Adds up the rows of f stamped in (start, end]. */
static void add_rows(const struct fetched *f, const struct sw_rrd_kind *k, const char *const *ds,
		     size_t n_ds, const size_t *col, int64_t start, int64_t end,
		     struct sw_rrd_sum *ret)
{
	double mult[SW_RRD_READ_MAX_DS];
	long rows = f->step ? (long)((f->end - f->start) / (time_t)f->step) : 0;

	ret->step = (int64_t)f->step;
	for (size_t i = 0; i < n_ds; i++) {
		mult[i] = 1;
		for (size_t j = 0; j < k->n_ds; j++)
			if (strcmp(k->ds[j].name, ds[i]) == 0 && k->ds[j].type == SW_RRD_ABSOLUTE)
				mult[i] = (double)f->step;
	}
	for (long r = 0; r < rows; r++) {
		int64_t t = (int64_t)f->start + (r + 1) * (int64_t)f->step;
		const rrd_value_t *row = f->data + r * (long)f->n_names;
		double v[SW_RRD_READ_MAX_DS], rowsum = 0;
		bool known = true;

		if (t <= start || t > end)
			continue;
		ret->rows++;
		for (size_t i = 0; i < n_ds; i++) {
			v[i] = row[col[i]] * mult[i];
			known = known && isfinite(v[i]);
		}
		if (!known)
			continue;
		ret->known++;
		ret->last_known = t;
		for (size_t i = 0; i < n_ds; i++) {
			ret->sum[i] += v[i];
			rowsum += v[i];
		}
		ret->total += rowsum;
		if (rowsum > 0)
			ret->last_nonzero = t;
	}
}

enum sw_err sw_rrd_read_sum(const struct sw_rrd_conf *conf, const char *file, const char *const *ds,
			    size_t n_ds, int64_t start, int64_t end, struct sw_rrd_sum *ret,
			    char *err, size_t len)
{
	size_t col[SW_RRD_READ_MAX_DS];
	struct fetched f;
	enum sw_err rc;

	memset(ret, 0, sizeof(*ret));
	if ((rc = check_args(file, ds, n_ds, start, end, err, len)))
		return rc;
	if ((rc = fetch(conf, file, start, end, &f, err, len)))
		return rc;
	rc = columns(&f, file, ds, n_ds, col, err, len);
	if (rc == SW_OK)
		add_rows(&f, sw_rrd_kind_find(file), ds, n_ds, col, start, end, ret);
	fetched_free(&f);
	return rc;
}

/* ---- listing ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NAME of "NAME.rrd" if kind_dir/NAME is a catalogue name, else NULL. */
static char *entry_name(const char *kind_dir, const char *entry)
{
	size_t n = strlen(entry);
	char *name, *file;
	bool good;

	if (n <= 4 || strcmp(entry + n - 4, ".rrd") != 0)
		return NULL;
	name = xasprintf("%.*s", (int)(n - 4), entry);
	file = xasprintf("%s/%s", kind_dir, name);
	good = sw_rrd_kind_find(file) != NULL;
	free(file);
	if (!good) {
		free(name);
		return NULL;
	}
	return name;
}

enum sw_err sw_rrd_list(const struct sw_rrd_conf *conf, const char *kind_dir, char ***ret_names,
			size_t *ret_n, char *err, size_t len)
{
	char *path = xasprintf("%s/%s", conf->dir, kind_dir), **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(path);

	*ret_names = NULL;
	*ret_n = 0;
	if (d == NULL) {
		enum sw_err rc = errno == ENOENT ? SW_OK : SW_EIO;

		if (rc)
			snprintf(err, len, "%s: cannot list: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		char *name = entry_name(kind_dir, de->d_name);

		if (name == NULL)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = name;
	}
	closedir(d);
	free(path);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*ret_names = names;
	*ret_n = n;
	return SW_OK;
}

void sw_rrd_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}
