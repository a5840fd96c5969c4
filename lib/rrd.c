/*
 * rrd.c - the RRD writer: registry snapshots to RRD updates, directly with
 * librrd or through rrdcached.
 *
 * Design.  One flush = one snapshot = at most one update per file, stamped
 * with the step boundary T at or before now.  A flush whose T was already
 * written takes no snapshot (the registry keeps counting into the next
 * step), so librrd never sees two updates with one timestamp.  Each file
 * has a small state: its catalogue kind, whether its layout was checked in
 * this process, its last timestamp, its last error, and a queue of lines
 * ("T:v1:v2:...") not yet written.  The queue only grows past one line
 * while rrdcached is unreachable; it is bounded (SW_RRD_MAX_PENDING,
 * oldest dropped) and drained in order after a reconnect.  Reconnects are
 * attempted at most once per flush, with exponential back-off measured on
 * the caller's clock.  A daemon that answers with an error rejected the
 * data, not the connection: that line is dropped and counted, no reconnect.
 *
 * Through rrdcached, a line the daemon accepted stays in the queue too
 * (the head, f->q_sent lines, trimmed as the queue fills): rrdcached
 * 1.7 writes its journal (-j) through a stdio buffer and never flushes it
 * per update, so a daemon killed (-9, OOM, power) loses its last few KiB
 * of accepted updates, minutes of steps when traffic is low.  After a
 * reconnect, or when the daemon's counters (STATS, read once per flush)
 * show that another daemon answers, the writer asks for each file's last
 * update (LAST, which counts what the daemon holds in memory and replayed
 * from its journal) and sends again the lines after it: nothing the queue
 * still holds is lost.
 *
 * Paths: files live in DIR/<registry file>.rrd.  Direct and through a unix
 * socket, DIR/... is passed (librrd's client resolves it to an absolute
 * path, so rrdcached -B -b must contain DIR); over TCP the relative name is
 * sent and rrdcached resolves it against its -b directory, which must be
 * the same directory as seen by the daemon (-R lets it create
 * subdirectories).
 *
 * What the reader (rrd_read.c) does the same way is defined here and
 * declared in rrd_int.h: librrd's error text, SIGPIPE held around socket
 * calls, whether an rrdcached address is TCP and the name a file gets.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>
#include <rrd_client.h>

#include "slipwatch/metrics.h"
#include "lib/rrd.h"
#include "lib/rrd_int.h"
#include "lib/xmalloc.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/usr/local/var"
#endif

#define ERR_MAX 512
#define BACKOFF_MIN 1 /* s */

const struct sw_conf_opt sw_rrd_conf_table[] = {
	{ .name = "dir", .type = SW_CONF_PATH, .offset = offsetof(struct sw_rrd_conf, dir),
	  .def = LOCALSTATEDIR "/lib/slipwatch/rrd", .help = "directory of the RRD files" },
	{ .name = "step", .type = SW_CONF_DURATION,
	  .offset = offsetof(struct sw_rrd_conf, step_ms), .min = 1000, .max = 3600000,
	  .def = "60s", .help = "RRD step: one update per file per step (whole seconds)" },
	{ .name = "rrdcached", .type = SW_CONF_STRING,
	  .offset = offsetof(struct sw_rrd_conf, rrdcached), .def = "",
	  .help = "rrdcached address: unix:/path, /path, host:port or [IPv6]:port; empty = write files directly" },
	{ .name = "reconnect_max", .type = SW_CONF_DURATION,
	  .offset = offsetof(struct sw_rrd_conf, reconnect_max_ms), .min = 1000,
	  .max = 3600000, .def = "5m", .help = "longest wait between rrdcached reconnects" },
	{ .name = NULL },
};

/* Archives, the same for every file: resolution (0 = the step) and span. */
static const struct {
	int64_t res, span;
} archives[] = {
	{ 0, 2 * 86400 },            /* raw steps, 2 days */
	{ 300, 14 * 86400 },         /* 5 min, 2 weeks */
	{ 3600, 395 * 86400 },       /* 1 h, 13 months */
	{ 86400, 5 * 366 * 86400 },  /* 1 d, 5 years */
};
static const char *const cfs[] = { "AVERAGE", "MIN", "MAX" };
#define N_CF (sizeof(cfs) / sizeof(cfs[0]))
#define MAX_RRA (sizeof(archives) / sizeof(archives[0]) * N_CF)

static const char *const dstype_names[SW_RRD_DSTYPE_LAST] = {
	[SW_RRD_GAUGE] = "GAUGE",
	[SW_RRD_ABSOLUTE] = "ABSOLUTE",
};

enum fstate { FILE_NEW, FILE_OK, FILE_BAD, FILE_LAST };

struct pend {
	int64_t t;
	char *line; /* "T:v1:v2:..." */
};

struct file {
	char *name; /* registry name, "warehouse/blr1" */
	const struct sw_rrd_kind *kind;
	enum fstate state;
	int64_t last_t;                      /* last step queued or in the file */
	struct pend q[SW_RRD_MAX_PENDING];   /* oldest first */
	size_t q_len;
	size_t q_sent;                       /* head lines the daemon accepted, kept
					      * to send again if it loses them */
	char *err;                           /* last error, NULL after a good write */
};

struct rra {
	const char *cf;
	unsigned long pdp, rows;
};

struct sw_rrd {
	char *dir;
	unsigned long step;
	char *daemon;  /* NULL: direct */
	bool tcp;      /* daemon over the network: relative names */
	int64_t backoff_max;
	struct rra rra[MAX_RRA];
	size_t n_rra;

	struct file **files; /* sorted by name */
	size_t n_files, alloc;
	int64_t last_t;      /* last step snapshotted */

	bool connected;
	int64_t next_connect, backoff;
	bool seen;              /* the daemon's counters below are known */
	uint64_t seen_updates;  /* its UpdatesReceived and JournalBytes at the */
	uint64_t seen_journal;  /* last look, and our updates accepted since */
	uint64_t sent_since;

	struct sw_rrd_stats st;

	/* during one flush */
	int64_t t;
	struct file *cur;
	double vals[SW_RRD_MAX_DS];
	enum sw_err first_rc;
	char first_err[ERR_MAX];
	size_t n_err;
};

/* ---- shared with the reader (rrd_int.h) --------------------------------- */

const char *sw_rrd_err(char *buf, size_t len)
{
	const char *e = rrd_get_error();

	snprintf(buf, len, "%s", e && *e ? e : "unknown librrd error");
	rrd_clear_error();
	return buf;
}

void sw_rrd_pipe_block(sigset_t *old)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

void sw_rrd_pipe_restore(const sigset_t *old)
{
	sigset_t s, pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	if (!sigismember(old, SIGPIPE) && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE))
		sigtimedwait(&s, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

bool sw_rrd_daemon_tcp(const char *addr)
{
	return strncmp(addr, "unix:", 5) != 0 && addr[0] != '/';
}

char *sw_rrd_daemon_path(const char *dir, const char *name, bool tcp)
{
	return tcp ? xasprintf("%s.rrd", name) : xasprintf("%s/%s.rrd", dir, name);
}

/* ---- helpers ------------------------------------------------------------- */

/* Records an error of one file (or of the writer when f is NULL). */
static void __attribute__((format(printf, 4, 5)))
report(struct sw_rrd *w, struct file *f, enum sw_err rc, const char *fmt, ...)
{
	char text[ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (f) {
		free(f->err);
		f->err = xstrdup(text);
	}
	if (w->n_err++ == 0) {
		w->first_rc = rc;
		snprintf(w->first_err, sizeof(w->first_err), "%s", text);
	}
}

static char *local_path(const struct sw_rrd *w, const char *name)
{
	return sw_rrd_daemon_path(w->dir, name, false);
}

/* The name librrd or rrdcached gets for a file. */
static char *api_path(const struct sw_rrd *w, const char *name)
{
	return sw_rrd_daemon_path(w->dir, name, w->tcp);
}

/* Creates the directories above path (mkdir -p of its dirname). */
static enum sw_err mkdirs(const char *path, char *errbuf, size_t errlen)
{
	char *p = xstrdup(path);
	enum sw_err rc = SW_OK;

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			snprintf(errbuf, errlen, "%s: cannot create directory: %s", p,
				 strerror(errno));
			rc = SW_EIO;
			break;
		}
		*s = '/';
	}
	free(p);
	return rc;
}

static void build_rras(struct sw_rrd *w)
{
	int64_t prev = 0;

	w->n_rra = 0;
	for (size_t i = 0; i < sizeof(archives) / sizeof(archives[0]); i++) {
		int64_t pdp = archives[i].res / (int64_t)w->step;
		int64_t rows;

		if (pdp < 1)
			pdp = 1;
		if (pdp * (int64_t)w->step <= prev)
			continue; /* a long step makes this archive the same as the last */
		prev = pdp * (int64_t)w->step;
		rows = archives[i].span / prev;
		if (rows < 2)
			rows = 2;
		for (size_t c = 0; c < N_CF; c++)
			w->rra[w->n_rra++] = (struct rra){ cfs[c], (unsigned long)pdp,
							   (unsigned long)rows };
	}
}

/* ---- files --------------------------------------------------------------- */

/* Binary search; *ret_pos is the insertion point when not found. */
static struct file *file_find(const struct sw_rrd *w, const char *name, size_t *ret_pos)
{
	size_t lo = 0, hi = w->n_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->files[mid]->name, name);

		if (c == 0)
			return w->files[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ret_pos)
		*ret_pos = lo;
	return NULL;
}

static struct file *file_get(struct sw_rrd *w, const char *name,
			     const struct sw_rrd_kind *kind)
{
	size_t pos = 0;
	struct file *f = file_find(w, name, &pos);

	if (f)
		return f;
	if (w->n_files == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 16;
		w->files = xreallocarray(w->files, w->alloc, sizeof(*w->files));
	}
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->kind = kind;
	memmove(&w->files[pos + 1], &w->files[pos], (w->n_files - pos) * sizeof(*w->files));
	w->files[pos] = f;
	w->n_files++;
	return f;
}

/* Removes line i of f's queue (a sent one or an unsent one). */
static void queue_remove(struct sw_rrd *w, struct file *f, size_t i)
{
	free(f->q[i].line);
	memmove(&f->q[i], &f->q[i + 1], (f->q_len - i - 1) * sizeof(f->q[0]));
	f->q_len--;
	if (i < f->q_sent)
		f->q_sent--;
	else
		w->st.pending--;
}

static void queue_drop_head(struct sw_rrd *w, struct file *f)
{
	queue_remove(w, f, 0);
}

/* Forgets the lines the daemon accepted (they cannot be checked). */
static void queue_forget_sent(struct sw_rrd *w, struct file *f)
{
	while (f->q_sent)
		queue_drop_head(w, f);
}

static void file_free(struct file *f)
{
	for (size_t i = 0; i < f->q_len; i++)
		free(f->q[i].line);
	free(f->err);
	free(f->name);
	free(f);
}

/* ---- layout -------------------------------------------------------------- */

/* Appends "; " and a formatted difference to out. */
static void __attribute__((format(printf, 3, 4)))
diff_add(char *out, size_t len, const char *fmt, ...)
{
	size_t used = strlen(out);
	va_list ap;

	if (used + 3 >= len)
		return;
	if (used) {
		memcpy(out + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(out + used, len - used, fmt, ap);
	va_end(ap);
}

static const rrd_info_t *info_get(const rrd_info_t *info, const char *key)
{
	for (; info; info = info->next)
		if (strcmp(info->key, key) == 0)
			return info;
	return NULL;
}

static void compare_ds(const struct sw_rrd_kind *k, const rrd_info_t *info, char *d,
		       size_t dlen)
{
	char key[64];
	size_t in_file = 0, missing = 0;

	for (const rrd_info_t *i = info; i; i = i->next) {
		size_t n = strlen(i->key);
		char name[32];

		if (strncmp(i->key, "ds[", 3) != 0 || n < 10 ||
		    strcmp(i->key + n - 7, "].index") != 0)
			continue;
		in_file++;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 10), i->key + 3);
		bool known = false;
		for (size_t j = 0; j < k->n_ds; j++)
			known |= strcmp(k->ds[j].name, name) == 0;
		if (!known)
			diff_add(d, dlen, "data source '%s' is not in the catalogue", name);
	}
	for (size_t j = 0; j < k->n_ds; j++) {
		const struct sw_rrd_ds *ds = &k->ds[j];
		const rrd_info_t *idx, *type;

		snprintf(key, sizeof(key), "ds[%s].index", ds->name);
		idx = info_get(info, key);
		snprintf(key, sizeof(key), "ds[%s].type", ds->name);
		type = info_get(info, key);
		if (idx == NULL) {
			if (missing++ == 0)
				diff_add(d, dlen, "data source '%s' missing", ds->name);
			continue;
		}
		if (idx->value.u_cnt != j && in_file == k->n_ds)
			diff_add(d, dlen, "data source '%s' is number %lu, the catalogue says %zu",
				 ds->name, idx->value.u_cnt + 1, j + 1);
		if (type && type->type == RD_I_STR &&
		    strcmp(type->value.u_str, dstype_names[ds->type]) != 0)
			diff_add(d, dlen, "data source '%s' is %s, the catalogue says %s",
				 ds->name, type->value.u_str, dstype_names[ds->type]);
	}
	if (missing > 1)
		diff_add(d, dlen, "%zu more data sources missing", missing - 1);
}

static void compare_rra(const struct sw_rrd *w, const rrd_info_t *info, char *d, size_t dlen)
{
	char key[64];
	size_t n = 0;

	for (;; n++) {
		snprintf(key, sizeof(key), "rra[%zu].cf", n);
		if (info_get(info, key) == NULL)
			break;
	}
	if (n != w->n_rra) {
		diff_add(d, dlen, "%zu archives, the catalogue says %zu", n, w->n_rra);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const rrd_info_t *cf, *pdp, *rows;

		snprintf(key, sizeof(key), "rra[%zu].cf", i);
		cf = info_get(info, key);
		snprintf(key, sizeof(key), "rra[%zu].pdp_per_row", i);
		pdp = info_get(info, key);
		snprintf(key, sizeof(key), "rra[%zu].rows", i);
		rows = info_get(info, key);
		if (!cf || cf->type != RD_I_STR || !pdp || !rows ||
		    strcmp(cf->value.u_str, w->rra[i].cf) != 0 ||
		    pdp->value.u_cnt != w->rra[i].pdp || rows->value.u_cnt != w->rra[i].rows)
			diff_add(d, dlen,
				 "archive %zu is %s of %lu steps x %lu rows, the catalogue says "
				 "%s of %lu x %lu", i + 1, cf && cf->type == RD_I_STR ? cf->value.u_str : "?",
				 pdp ? pdp->value.u_cnt : 0, rows ? rows->value.u_cnt : 0,
				 w->rra[i].cf, w->rra[i].pdp, w->rra[i].rows);
	}
}

/* Compares a file's header with the catalogue; fills diff ("" = same) and
 * *ret_last with its last update time. */
static void compare(const struct sw_rrd *w, const struct sw_rrd_kind *k,
		    const rrd_info_t *info, char *diff, size_t dlen, int64_t *ret_last)
{
	const rrd_info_t *step = info_get(info, "step");
	const rrd_info_t *last = info_get(info, "last_update");

	diff[0] = '\0';
	*ret_last = last ? (int64_t)last->value.u_cnt : 0;
	if (step == NULL || step->value.u_cnt != w->step) {
		diff_add(diff, dlen, "step is %lu s, the catalogue says %lu s",
			 step ? step->value.u_cnt : 0, w->step);
		return; /* the archives follow from the step */
	}
	compare_ds(k, info, diff, dlen);
	compare_rra(w, info, diff, dlen);
}

/* Reads a file's header: SW_OK and *ret_info; SW_ENOTFOUND; SW_EAGAIN
 * (rrdcached unreachable); SW_EIO. */
static enum sw_err read_info(struct sw_rrd *w, const char *name, rrd_info_t **ret_info,
			     char *errbuf, size_t errlen)
{
	char *path = api_path(w, name), e[ERR_MAX];
	enum sw_err rc = SW_OK;
	struct stat sb;
	sigset_t old;

	if (w->daemon == NULL) {
		char *lp = local_path(w, name);
		int missing = stat(lp, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR);

		free(lp);
		if (missing) {
			free(path);
			return SW_ENOTFOUND;
		}
		*ret_info = rrd_info_r(path);
	} else {
		sw_rrd_pipe_block(&old);
		*ret_info = rrdc_info(path);
		w->connected = rrdc_is_any_connected();
		sw_rrd_pipe_restore(&old);
	}
	if (*ret_info == NULL) {
		sw_rrd_err(e, sizeof(e));
		if (w->daemon && !w->connected)
			rc = SW_EAGAIN;
		else if (w->daemon || strstr(e, "No such file"))
			rc = SW_ENOTFOUND; /* the daemon's words vary: try to create */
		else
			rc = SW_EIO;
		snprintf(errbuf, errlen, "%s.rrd: cannot read header: %s", name, e);
	}
	free(path);
	return rc;
}

static enum sw_err create_file(struct sw_rrd *w, const char *name, const struct sw_rrd_kind *k,
			       int64_t start, char *errbuf, size_t errlen)
{
	const char *argv[SW_RRD_MAX_DS + MAX_RRA];
	char *args[SW_RRD_MAX_DS + MAX_RRA], *path, e[ERR_MAX];
	unsigned long hb = 2 * w->step;
	int argc = 0, r;
	enum sw_err rc = SW_OK;

	if (!w->tcp) {
		char *lp = local_path(w, name);

		rc = mkdirs(lp, errbuf, errlen);
		free(lp);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < k->n_ds; i++)
		args[argc++] = xasprintf("DS:%s:%s:%lu:%s:U", k->ds[i].name,
					 dstype_names[k->ds[i].type], hb,
					 k->ds[i].type == SW_RRD_ABSOLUTE ? "0" : "U");
	for (size_t i = 0; i < w->n_rra; i++)
		args[argc++] = xasprintf("RRA:%s:0.5:%lu:%lu", w->rra[i].cf, w->rra[i].pdp,
					 w->rra[i].rows);
	for (int i = 0; i < argc; i++)
		argv[i] = args[i];
	path = api_path(w, name);
	if (w->daemon) {
		sigset_t old;

		sw_rrd_pipe_block(&old);
		r = rrdc_create(path, w->step, (time_t)start, 1, argc, argv);
		w->connected = rrdc_is_any_connected();
		sw_rrd_pipe_restore(&old);
	} else {
		r = rrd_create_r2(path, w->step, (time_t)start, 1, NULL, NULL, argc, argv);
	}
	if (r != 0) {
		snprintf(errbuf, errlen, "%s.rrd: cannot create: %s", name,
			 sw_rrd_err(e, sizeof(e)));
		rc = w->daemon && !w->connected ? SW_EAGAIN : SW_EIO;
	} else {
		w->st.created++;
	}
	for (int i = 0; i < argc; i++)
		free(args[i]);
	free(path);
	return rc;
}

/*
 * The newest queued line is for a step the file already has: a previous
 * process stopping in this step wrote it ahead (sw_daemon_series_stop),
 * and this process restarted within it.  Dropping the line would lose
 * what was counted since the restart, so it is stamped one step after the
 * file's last update instead (the counts land one step late, not never),
 * and the writer skips that step's own flush, whose counts carry on into
 * the step after (as for any flush of a step already written).
 */
static void carry_forward(struct sw_rrd *w, struct file *f, int64_t last)
{
	const char *rest = strchr(f->q[0].line, ':');
	int64_t t = last + (int64_t)w->step;
	char *line;

	if (!rest) {
		w->st.skipped++;
		queue_drop_head(w, f);
		return;
	}
	line = xasprintf("%lld%s", (long long)t, rest);
	free(f->q[0].line);
	f->q[0].line = line;
	f->q[0].t = t;
	if (f->last_t < t)
		f->last_t = t;
	if (w->last_t < t)
		w->last_t = t;
	w->st.carried++;
}

/* Checks or creates a file before its first update in this process. */
static enum sw_err file_prepare(struct sw_rrd *w, struct file *f)
{
	char e[ERR_MAX], diff[ERR_MAX];
	rrd_info_t *info = NULL;
	int64_t last = 0;
	enum sw_err rc;

	queue_forget_sent(w, f);
	rc = read_info(w, f->name, &info, e, sizeof(e));
	if (rc == SW_ENOTFOUND) {
		rc = create_file(w, f->name, f->kind, f->q[0].t - (int64_t)w->step, e, sizeof(e));
		last = f->q[0].t - (int64_t)w->step;
	} else if (rc == SW_OK) {
		compare(w, f->kind, info, diff, sizeof(diff), &last);
		rrd_info_free(info);
		if (diff[0]) {
			f->state = FILE_BAD;
			w->st.layout_errors++;
			report(w, f, SW_EVERSION, "%s.rrd: %s (migrate it: slipwatch-rrd migrate %s)",
			       f->name, diff, f->name);
			return SW_EVERSION;
		}
	}
	if (rc) {
		if (rc == SW_EAGAIN)
			w->st.conn_errors++;
		report(w, f, rc, "%s", e);
		return rc;
	}
	f->state = FILE_OK;
	while (f->q_len > 1 && f->q[0].t <= last) {
		w->st.skipped++; /* the file already has this step */
		queue_drop_head(w, f);
	}
	if (f->q_len == 1 && f->q[0].t <= last)
		carry_forward(w, f, last);
	return SW_OK;
}

/* ---- writing ------------------------------------------------------------- */

/*
 * Just (re)connected: for each file with queued lines, the daemon's last
 * update.  Lines at or before it are in the daemon (dropped from the
 * queue); the accepted lines after it were lost with a killed daemon's
 * journal buffer and become unsent again.  A file whose last update cannot
 * be read has all its lines sent again (the daemon refuses any it has, as
 * a data error).  SW_EAGAIN if the connection is lost meanwhile.
 */
static enum sw_err recheck_sent(struct sw_rrd *w)
{
	char e[ERR_MAX];

	for (size_t i = 0; i < w->n_files; i++) {
		struct file *f = w->files[i];
		char *path;
		sigset_t old;
		time_t last;

		if (f->q_len == 0 || f->state != FILE_OK)
			continue;
		path = api_path(w, f->name);
		sw_rrd_pipe_block(&old);
		last = rrdc_last(path);
		w->connected = rrdc_is_any_connected();
		sw_rrd_pipe_restore(&old);
		free(path);
		if (last == (time_t)-1) {
			if (!w->connected)
				return SW_EAGAIN;
			report(w, f, SW_EIO, "%s.rrd: rrdcached %s: last update unknown: %s; "
			       "%zu steps sent again", f->name, w->daemon,
			       sw_rrd_err(e, sizeof(e)), f->q_len);
			last = 0;
		}
		while (f->q_len && f->q[0].t <= (int64_t)last) {
			if (f->q_sent == 0)
				w->st.skipped++; /* unsent, but the daemon has it */
			queue_drop_head(w, f);
		}
		w->st.resent += f->q_sent;
		w->st.pending += f->q_sent;
		f->q_sent = 0;
	}
	return SW_OK;
}

static bool try_connect(struct sw_rrd *w, int64_t now)
{
	char e[ERR_MAX];
	sigset_t old;
	int r;

	if (w->connected)
		return true;
	if (now < w->next_connect)
		return false;
	sw_rrd_pipe_block(&old);
	r = rrdc_connect(w->daemon);
	w->connected = r == 0 && rrdc_is_any_connected();
	sw_rrd_pipe_restore(&old);
	if (w->connected) {
		w->backoff = 0;
		w->st.reconnects++;
		rrd_clear_error();
		w->seen = false; /* a new daemon's counters start again */
		if (recheck_sent(w) == SW_OK)
			return true;
		sw_rrd_err(e, sizeof(e)); /* lost again while asking */
	} else {
		sw_rrd_err(e, sizeof(e));
	}
	w->st.conn_errors++;
	w->backoff = w->backoff ? 2 * w->backoff : BACKOFF_MIN;
	if (w->backoff > w->backoff_max)
		w->backoff = w->backoff_max;
	w->next_connect = now + w->backoff;
	report(w, NULL, SW_EAGAIN, "rrdcached %s: %s; %zu steps queued, retry in %lld s",
	       w->daemon, e, w->st.pending, (long long)w->backoff);
	return false;
}

/* A counter of rrdcached's STATS answer, 0 when missing. */
static uint64_t stats_counter(const rrdc_stats_t *s, const char *name)
{
	for (; s; s = s->next)
		if (s->type == RRDC_STATS_TYPE_COUNTER && strcmp(s->name, name) == 0)
			return s->value.counter;
	return 0;
}

/*
 * librrd's client reconnects by itself when a send fails (a restarted
 * daemon behind a unix socket), so a restart is not always a lost
 * connection here.  Once per flush the daemon's counters are read (STATS):
 * they start again at a restart, so UpdatesReceived (the journal's replay
 * included) or JournalBytes (new updates only) below what it had plus what
 * this writer sent since means another daemon answers, and the lines it
 * may have lost are checked (recheck_sent).  Missed only if other clients
 * sent the new daemon more than the old one's lifetime counts before this
 * flush.  SW_EAGAIN if the connection is lost.
 */
static enum sw_err watch_daemon(struct sw_rrd *w)
{
	rrdc_stats_t *stats = NULL;
	uint64_t upd, jb;
	bool restarted;
	sigset_t old;
	int r;

	sw_rrd_pipe_block(&old);
	r = rrdc_stats_get(&stats);
	w->connected = rrdc_is_any_connected();
	sw_rrd_pipe_restore(&old);
	if (r != 0) {
		rrdc_stats_free(stats);
		if (!w->connected)
			return SW_EAGAIN;
		rrd_clear_error(); /* no STATS: nothing to compare */
		return SW_OK;
	}
	upd = stats_counter(stats, "UpdatesReceived");
	jb = stats_counter(stats, "JournalBytes");
	rrdc_stats_free(stats);
	restarted = w->seen && (upd < w->seen_updates + w->sent_since ||
				((jb || w->seen_journal) && jb < w->seen_journal + w->sent_since));
	w->seen = true;
	w->seen_updates = upd;
	w->seen_journal = jb;
	w->sent_since = 0;
	if (!restarted)
		return SW_OK;
	w->st.restarts++;
	return recheck_sent(w);
}

/* Writes one queued line.  SW_OK; SW_EAGAIN: connection lost (line kept);
 * SW_EIO: refused (line dropped). */
static enum sw_err write_line(struct sw_rrd *w, struct file *f, const char *tmpl)
{
	const char *argv[1] = { f->q[f->q_sent].line };
	char *path = api_path(w, f->name), e[ERR_MAX];
	int r;

	if (w->daemon) {
		sigset_t old;

		sw_rrd_pipe_block(&old);
		r = rrdc_update(path, 1, argv);
		w->connected = rrdc_is_any_connected();
		sw_rrd_pipe_restore(&old);
	} else {
		r = rrd_updatex_r(path, tmpl, 0, 1, argv);
	}
	free(path);
	if (r == 0) {
		w->st.updates++;
		free(f->err);
		f->err = NULL;
		if (w->daemon) {
			f->q_sent++; /* kept until the queue needs the room */
			w->st.pending--;
			w->sent_since++;
		} else {
			queue_drop_head(w, f);
		}
		return SW_OK;
	}
	sw_rrd_err(e, sizeof(e));
	if (w->daemon && !w->connected) {
		w->st.conn_errors++;
		w->next_connect = 0; /* first retry at once, then back off */
		report(w, NULL, SW_EAGAIN, "rrdcached %s: %s.rrd: %s; steps queued", w->daemon,
		       f->name, e);
		return SW_EAGAIN;
	}
	w->st.data_errors++;
	report(w, f, SW_EIO, "%s.rrd: update %s refused: %s", f->name, f->q[f->q_sent].line, e);
	queue_remove(w, f, f->q_sent);
	if (w->daemon == NULL)
		f->state = FILE_NEW; /* re-check (and re-create) before the next update */
	return SW_EIO;
}

static void template_of(const struct sw_rrd_kind *k, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < k->n_ds && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ":" : "",
					 k->ds[i].name);
}

/* Writes every queued line of every file, in order.  Stops at a lost
 * connection. */
static void write_all(struct sw_rrd *w, int64_t now)
{
	char tmpl[SW_RRD_MAX_DS * (SW_RRD_DS_NAME_MAX + 3)];

	if (w->st.pending == 0)
		return;
	if (w->daemon && !try_connect(w, now))
		return;
	if (w->daemon && watch_daemon(w) == SW_EAGAIN) {
		char e[ERR_MAX];

		w->st.conn_errors++;
		report(w, NULL, SW_EAGAIN, "rrdcached %s: %s; steps queued", w->daemon,
		       sw_rrd_err(e, sizeof(e)));
		goto lost;
	}
	for (size_t i = 0; i < w->n_files; i++) {
		struct file *f = w->files[i];

		if (f->q_sent < f->q_len && f->state == FILE_NEW &&
		    file_prepare(w, f) == SW_EAGAIN)
			goto lost;
		if (f->state != FILE_OK)
			continue;
		template_of(f->kind, tmpl, sizeof(tmpl));
		while (f->q_sent < f->q_len && f->state == FILE_OK) {
			if (write_line(w, f, tmpl) == SW_EAGAIN)
				goto lost;
		}
	}
	return;
lost:
	w->connected = false;
	if (w->next_connect <= now) {
		w->backoff = w->backoff ? 2 * w->backoff : BACKOFF_MIN;
		if (w->backoff > w->backoff_max)
			w->backoff = w->backoff_max;
		w->next_connect = now + w->backoff;
	}
}

/* ---- snapshot ------------------------------------------------------------ */

static double pick(const struct sw_metric_value *v, enum sw_rrd_stat stat, bool *ret_ok)
{
	*ret_ok = true;
	if (stat == SW_RRD_STAT_VALUE && v->kind == SW_METRIC_COUNTER)
		return (double)v->count;
	if (stat == SW_RRD_STAT_VALUE && v->kind == SW_METRIC_GAUGE)
		return v->gauge;
	if (v->kind != SW_METRIC_SAMPLES || stat == SW_RRD_STAT_VALUE) {
		*ret_ok = false;
		return NAN;
	}
	if (stat == SW_RRD_STAT_COUNT)
		return (double)v->dist.count;
	if (v->dist.count == 0)
		return NAN;
	switch (stat) {
	case SW_RRD_STAT_MIN: return v->dist.min;
	case SW_RRD_STAT_P10: return v->dist.p10;
	case SW_RRD_STAT_P50: return v->dist.p50;
	case SW_RRD_STAT_P90: return v->dist.p90;
	default: return v->dist.max;
	}
}

/* Ends the current file's group: its line joins the file's queue. */
static void group_end(struct sw_rrd *w)
{
	struct file *f = w->cur;
	char line[SW_RRD_MAX_DS * 26 + 24];
	size_t used;

	w->cur = NULL;
	if (f == NULL || f->state == FILE_BAD)
		return;
	if (w->t <= f->last_t) {
		w->st.skipped++;
		return;
	}
	used = (size_t)snprintf(line, sizeof(line), "%lld", (long long)w->t);
	for (size_t i = 0; i < f->kind->n_ds && used < sizeof(line); i++) {
		double x = w->vals[i];

		if (isfinite(x))
			used += (size_t)snprintf(line + used, sizeof(line) - used, ":%.15g", x);
		else
			used += (size_t)snprintf(line + used, sizeof(line) - used, ":U");
	}
	if (f->q_len == SW_RRD_MAX_PENDING) {
		if (f->q_sent == 0)
			w->st.dropped++; /* else only the oldest sent line goes */
		queue_drop_head(w, f);
	}
	f->q[f->q_len++] = (struct pend){ w->t, xstrdup(line) };
	f->last_t = w->t;
	w->st.pending++;
}

static void group_start(struct sw_rrd *w, const char *name, const struct sw_rrd_kind *k)
{
	w->cur = file_get(w, name, k);
	for (size_t i = 0; i < k->n_ds; i++)
		w->vals[i] = k->ds[i].type == SW_RRD_ABSOLUTE ? 0.0 : NAN;
}

static void snap_cb(const struct sw_metric_value *v, void *arg)
{
	struct sw_rrd *w = arg;
	const struct sw_rrd_kind *k;
	bool mapped = false;

	if (w->cur == NULL || strcmp(w->cur->name, v->file) != 0) {
		group_end(w);
		k = sw_rrd_kind_find(v->file);
		if (k == NULL) {
			w->st.unmapped_files++;
			return;
		}
		group_start(w, v->file, k);
	}
	k = w->cur->kind;
	for (size_t i = 0; i < k->n_ds; i++) {
		bool ok;
		double x;

		if (strcmp(k->ds[i].metric, v->ds) != 0)
			continue;
		x = pick(v, k->ds[i].stat, &ok);
		if (ok) {
			w->vals[i] = x;
			mapped = true;
		}
	}
	if (!mapped)
		w->st.unmapped_metrics++;
}

/* ---- the rrdcached address ------------------------------------------------ */

#define ADDR_FORMS "unix:/path, /path, host:port or [IPv6]:port"

/* Port text: digits only, 1..65535. */
static bool port_ok(const char *p)
{
	unsigned long v = 0;

	if (*p == '\0' || strlen(p) > 5)
		return false;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= 65535;
}

/* A host name or IPv4 address: letters, digits, '-', '.', '_'. */
static bool host_ok(const char *h, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr("-._", h[i]))
			return false;
	return true;
}

/* "[v6]:port", optionally "[v6%zone]:port"; NULL or what is wrong. */
static const char *check_v6(const char *a)
{
	const char *close = strchr(a, ']'), *pct;
	char v6[INET6_ADDRSTRLEN + 1];
	struct in6_addr in;
	size_t len;

	if (close == NULL)
		return "'[' without ']' (the IPv6 form is [ADDRESS]:PORT)";
	pct = memchr(a + 1, '%', (size_t)(close - a - 1));
	len = (size_t)((pct ? pct : close) - (a + 1));
	if (len == 0 || len >= sizeof(v6))
		return "not an IPv6 address between '[' and ']'";
	memcpy(v6, a + 1, len);
	v6[len] = '\0';
	if (inet_pton(AF_INET6, v6, &in) != 1)
		return "not an IPv6 address between '[' and ']'";
	if (pct && !host_ok(pct + 1, (size_t)(close - pct - 1)))
		return "bad IPv6 zone after '%'";
	if (close[1] != ':')
		return "no :PORT after ']' (rrdcached's default port is 42217)";
	if (!port_ok(close + 2))
		return "the port is not a number in 1..65535";
	return NULL;
}

/* NULL if addr is an address librrd's client connects to as meant, else
 * what is wrong with it.  The port is required: a bare word is more often
 * a mistyped socket path than a host on rrdcached's default port, and a
 * bare IPv6 address is ambiguous (librrd splits at the last ':'). */
static const char *check_daemon_addr(const char *a)
{
	const char *colon, *path;

	for (const char *s = a; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return "contains a space or control character";
	if (strncmp(a, "unix:", 5) == 0 || a[0] == '/') {
		path = a[0] == '/' ? a : a + 5;
		if (path[0] != '/')
			return "the socket path must be absolute (unix:/path or /path)";
		if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
			return "the socket path is too long for a unix socket (107 bytes at most)";
		return NULL;
	}
	if (a[0] == '[')
		return check_v6(a);
	colon = strrchr(a, ':');
	if (colon == NULL)
		return "neither a socket path nor host:port (" ADDR_FORMS
		       "; rrdcached's default port is 42217)";
	if (memchr(a, ':', (size_t)(colon - a)))
		return "an IPv6 address needs brackets: [ADDRESS]:PORT";
	if (colon == a)
		return "no host before ':'";
	if (!host_ok(a, (size_t)(colon - a)))
		return "the host is not a host name or address";
	if (!port_ok(colon + 1))
		return "the port is not a number in 1..65535";
	return NULL;
}

/* ---- API ----------------------------------------------------------------- */

enum sw_err sw_rrd_conf_check(const struct sw_rrd_conf *conf, char *errbuf, size_t errlen)
{
	const char *why;

	if (conf->dir == NULL || conf->dir[0] == '\0') {
		snprintf(errbuf, errlen, "[rrd] dir: must not be empty");
		return SW_ECONF;
	}
	if (conf->step_ms < 1000 || conf->step_ms > 3600000 || conf->step_ms % 1000) {
		snprintf(errbuf, errlen, "[rrd] step: not whole seconds in 1s..1h: '%lldms'",
			 (long long)conf->step_ms);
		return SW_ECONF;
	}
	if (conf->rrdcached && conf->rrdcached[0] &&
	    (why = check_daemon_addr(conf->rrdcached)) != NULL) {
		snprintf(errbuf, errlen, "[rrd] rrdcached: %s: '%s'", why, conf->rrdcached);
		return SW_ECONF;
	}
	return SW_OK;
}

enum sw_err sw_rrd_conf_load(struct sw_conf *file, struct sw_rrd_conf *conf, char *errbuf,
			     size_t errlen)
{
	enum sw_err rc;

	rc = sw_conf_apply(file, "rrd", NULL, sw_rrd_conf_table, conf, errbuf, errlen);
	if (rc)
		return rc;
	rc = sw_rrd_conf_check(conf, errbuf, errlen);
	if (rc) {
		sw_conf_locate(file, errbuf, errlen);
		sw_conf_free_struct(sw_rrd_conf_table, conf);
	}
	return rc;
}

enum sw_err sw_rrd_new(const struct sw_rrd_conf *conf, struct sw_rrd **ret_w, char *errbuf,
		       size_t errlen)
{
	struct sw_rrd *w;
	enum sw_err rc;

	*ret_w = NULL;
	if ((rc = sw_rrd_conf_check(conf, errbuf, errlen)))
		return rc;
	w = xcalloc(1, sizeof(*w));
	w->dir = xstrdup(conf->dir);
	w->step = (unsigned long)(conf->step_ms / 1000);
	if (conf->rrdcached && conf->rrdcached[0]) {
		w->daemon = xstrdup(conf->rrdcached);
		w->tcp = sw_rrd_daemon_tcp(w->daemon);
	}
	w->backoff_max = conf->reconnect_max_ms >= 1000 ? conf->reconnect_max_ms / 1000 : 300;
	build_rras(w);
	*ret_w = w;
	return SW_OK;
}

void sw_rrd_free(struct sw_rrd *w)
{
	if (w == NULL)
		return;
	w->n_err = 0;
	w->next_connect = 0;
	write_all(w, INT64_MAX / 2);
	if (w->daemon && w->connected) {
		sigset_t old;

		sw_rrd_pipe_block(&old);
		rrdc_disconnect();
		sw_rrd_pipe_restore(&old);
		rrd_clear_error();
	}
	for (size_t i = 0; i < w->n_files; i++)
		file_free(w->files[i]);
	free(w->files);
	free(w->daemon);
	free(w->dir);
	free(w);
}

enum sw_err sw_rrd_flush(struct sw_rrd *w, struct sw_metrics *m, int64_t now, char *errbuf,
			 size_t errlen)
{
	int64_t t = now - ((now % (int64_t)w->step) + (int64_t)w->step) % (int64_t)w->step;

	w->n_err = 0;
	w->first_rc = SW_OK;
	if (t <= w->last_t) {
		w->st.skipped++;
		snprintf(errbuf, errlen, "step %lld already written", (long long)t);
		return SW_EDUP;
	}
	w->last_t = t;
	w->t = t;
	w->st.flushes++;
	w->cur = NULL;
	sw_metrics_snapshot(m, snap_cb, w);
	group_end(w);
	write_all(w, now);
	if (w->n_err == 0)
		return SW_OK;
	if (w->n_err == 1)
		snprintf(errbuf, errlen, "%s", w->first_err);
	else
		snprintf(errbuf, errlen, "%s (and %zu more)", w->first_err, w->n_err - 1);
	return w->first_rc;
}

const char *sw_rrd_file_error(const struct sw_rrd *w, const char *file)
{
	const struct file *f = file_find(w, file, NULL);

	return f ? f->err : NULL;
}

void sw_rrd_get_stats(const struct sw_rrd *w, struct sw_rrd_stats *ret)
{
	*ret = w->st;
}

enum sw_err sw_rrd_check_file(struct sw_rrd *w, const char *file, char *errbuf,
			      size_t errlen)
{
	const struct sw_rrd_kind *k = sw_rrd_kind_find(file);
	char diff[ERR_MAX];
	rrd_info_t *info = NULL;
	int64_t last;
	enum sw_err rc;

	if (k == NULL) {
		snprintf(errbuf, errlen, "%s: matches no file in the metric catalogue", file);
		return SW_EINVAL;
	}
	if (w->daemon && !w->connected && !try_connect(w, INT64_MAX / 2)) {
		snprintf(errbuf, errlen, "%s", w->first_err);
		return SW_EAGAIN;
	}
	rc = read_info(w, file, &info, errbuf, errlen);
	if (rc)
		return rc;
	compare(w, k, info, diff, sizeof(diff), &last);
	rrd_info_free(info);
	if (diff[0]) {
		snprintf(errbuf, errlen, "%s.rrd: %s", file, diff);
		return SW_EVERSION;
	}
	snprintf(errbuf, errlen, "%s.rrd: matches the catalogue", file);
	return SW_OK;
}

enum sw_err sw_rrd_migrate(struct sw_rrd *w, const char *file, int64_t now, char *errbuf,
			   size_t errlen)
{
	const struct sw_rrd_kind *k = sw_rrd_kind_find(file);
	char *lp, *old;
	int64_t t = now - ((now % (int64_t)w->step) + (int64_t)w->step) % (int64_t)w->step;
	struct file *f;
	enum sw_err rc = SW_OK;

	if (k == NULL) {
		snprintf(errbuf, errlen, "%s: matches no file in the metric catalogue", file);
		return SW_EINVAL;
	}
	lp = local_path(w, file);
	old = xasprintf("%s.old-%lld", lp, (long long)now);
	if (w->daemon && (w->connected || try_connect(w, now))) {
		char *path = api_path(w, file);
		sigset_t sig;

		sw_rrd_pipe_block(&sig);
		rrdc_flush(path);
		rrdc_forget(path);
		sw_rrd_pipe_restore(&sig);
		rrd_clear_error();
		free(path);
	}
	if (rename(lp, old) < 0) {
		snprintf(errbuf, errlen, "%s: cannot rename to %s: %s", lp, old, strerror(errno));
		rc = errno == ENOENT ? SW_ENOTFOUND : SW_EIO;
	} else {
		rc = create_file(w, file, k, t, errbuf, errlen);
		if (rc == SW_OK)
			snprintf(errbuf, errlen, "%s.rrd: old file kept as %s; new file created",
				 file, old);
	}
	f = file_find(w, file, NULL);
	if (f && rc == SW_OK) {
		queue_forget_sent(w, f);
		f->state = FILE_NEW;
		f->last_t = 0;
		free(f->err);
		f->err = NULL;
	}
	free(old);
	free(lp);
	return rc;
}
