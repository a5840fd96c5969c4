/*
 * daemon.c - the shared life cycle of the slipwatch daemons.
 *
 * See daemon.h for the sequence.  Start-up errors go to stderr (the
 * terminal, also in a child that is detaching: the parent waits on a pipe
 * for the child's verdict and exits with it).  Once the daemon runs, all
 * output goes through lib/log.  Signals are delivered by the loop at a safe
 * point: SIGHUP reloads, SIGTERM/SIGINT drain and stop, SIGUSR1 flushes
 * buffered time series, SIGPIPE is ignored.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/daemon.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/usr/local/var"
#endif

/* Section kinds every program reads here, before the parts. */
static const char *const own_sections[] = { "store", "log", "simulation", NULL };

static const char *const log_level_words[] = {
	[SW_LOG_ERR] = "error", [SW_LOG_WARNING] = "warning", [SW_LOG_NOTICE] = "notice",
	[SW_LOG_INFO] = "info",   [SW_LOG_DEBUG] = "debug",     NULL,
};
_Static_assert(sizeof(log_level_words) / sizeof(log_level_words[0]) == SW_LOG_LAST + 1,
	       "log_level_words must list every enum sw_log_level value");

static const char *const log_dest_words[] = {
	[SW_DAEMON_LOG_AUTO] = "auto",
	[SW_DAEMON_LOG_STDERR] = "stderr",
	[SW_DAEMON_LOG_SYSLOG] = "syslog",
	NULL,
};

const struct sw_conf_opt sw_daemon_store_table[] = {
	{ .name = "path", .type = SW_CONF_PATH, .offset = offsetof(struct sw_daemon_conf, store_path),
	  .def = LOCALSTATEDIR "/lib/slipwatch/slipwatch.db",
	  .help = "the SQLite store shared by all slipwatch programs" },
	{ .name = "url", .type = SW_CONF_STRING, .offset = offsetof(struct sw_daemon_conf, store_url),
	  .help = "a PostgreSQL store instead: postgresql://USER@HOST[:PORT]/DB[?sslmode=...]; "
		  "TLS verify-full unless the server is local" },
	{ .name = "password", .type = SW_CONF_SECRET,
	  .offset = offsetof(struct sw_daemon_conf, store_password),
	  .help = "the PostgreSQL password (password_file or password_env)" },
	{ .name = NULL },
};

static enum sw_err store_err(char *errbuf, size_t errlen, struct sw_conf *file, const char *key,
			     const char *what)
{
	char where[256];

	snprintf(errbuf, errlen, "%s: [store] %s: %s",
		 sw_conf_where(file, "store", NULL, key, where, sizeof(where)), key, what);
	return SW_EINVAL;
}

enum sw_err sw_daemon_store_apply(struct sw_conf *file, struct sw_daemon_conf *c, char *errbuf,
				  size_t errlen)
{
	enum sw_err rc = sw_conf_apply(file, "store", NULL, sw_daemon_store_table, c, errbuf,
				       errlen);
	const char *u = c->store_url, *at, *colon;

	if (rc != SW_OK || u == NULL || *u == '\0') {
		if (rc == SW_OK && c->store_password.value)
			return store_err(errbuf, errlen, file, "password",
					 "a password is for a PostgreSQL store (url)");
		return rc;
	}
	if (strncmp(u, "postgresql://", 13) != 0 && strncmp(u, "postgres://", 11) != 0)
		return store_err(errbuf, errlen, file, "url",
				 "not a PostgreSQL address (postgresql://USER@HOST/DB)");
	at = strchr(u, '@');
	colon = at ? memchr(strstr(u, "://") + 3, ':', (size_t)(at - strstr(u, "://") - 3)) : NULL;
	if (colon || strstr(u, "password="))
		return store_err(errbuf, errlen, file, "url",
				 "secrets are not written in the file; use password_file or "
				 "password_env");
	if (sw_conf_key_line(file, "store", NULL, "path") > 0)
		return store_err(errbuf, errlen, file, "url",
				 "set beside [store] path: give one store, a path or a url");
	free(c->store_path);
	c->store_path = xstrdup(u);
	sw_store_set_password(c->store_password.value);
	return SW_OK;
}

static const struct sw_conf_opt log_table[] = {
	{ .name = "level", .type = SW_CONF_ENUM, .offset = offsetof(struct sw_daemon_conf, log_level),
	  .words = log_level_words, .def = "info", .help = "least severe level written" },
	{ .name = "destination", .type = SW_CONF_ENUM,
	  .offset = offsetof(struct sw_daemon_conf, log_dest), .words = log_dest_words,
	  .def = "auto", .help = "stderr, syslog, or auto (stderr with -f, else syslog)" },
	{ .name = NULL },
};

static const struct sw_conf_opt simulation_table[] = {
	{ .name = "enabled", .type = SW_CONF_BOOL,
	  .offset = offsetof(struct sw_daemon_conf, sim_enabled), .def = "no",
	  .help = "allow a simulated clock (SLIPWATCH_CLOCK, --clock): tests, demos, slipwatch-sim" },
	{ .name = NULL },
};

const char *sw_daemon_default_conf(void)
{
	return SYSCONFDIR "/slipwatch/slipwatch.conf";
}

static bool in_list(const char *const *list, const char *kind)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], kind) == 0)
			return true;
	return false;
}

bool sw_daemon_known_section(const struct sw_daemon_desc *desc, const char *kind)
{
	if (in_list(own_sections, kind) || (desc->part && in_list(desc->part->kinds, kind)))
		return true;
	for (size_t i = 0; desc->registry && desc->registry[i]; i++)
		if (in_list(desc->registry[i]->kinds, kind))
			return true;
	return false;
}

enum sw_err sw_daemon_parse_args(int argc, char **argv, struct sw_daemon_args *ret_args,
				 char *errbuf, size_t errlen)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "clock", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(ret_args, 0, sizeof(*ret_args));
	ret_args->conf_path = sw_daemon_default_conf();
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:p:tvfh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ret_args->conf_path = optarg;
			break;
		case 'p':
			ret_args->pid_file = optarg;
			break;
		case 't':
			ret_args->check_only = true;
			break;
		case 'v':
			ret_args->verbose = true;
			break;
		case 'f':
			ret_args->foreground = true;
			break;
		case 'h':
			ret_args->help = true;
			break;
		case 'V':
			ret_args->version = true;
			break;
		case 'C':
			ret_args->clock_spec = optarg;
			break;
		case ':':
			snprintf(errbuf, errlen, "option '%s' needs an argument", argv[optind - 1]);
			return SW_EINVAL;
		default:
			snprintf(errbuf, errlen, "unknown option '%s'", argv[optind - 1]);
			return SW_EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(errbuf, errlen, "unexpected argument '%s'", argv[optind]);
		return SW_EINVAL;
	}
	if (ret_args->clock_spec && !ret_args->clock_spec[0]) {
		snprintf(errbuf, errlen, "--clock: an empty spec is not a clock");
		return SW_EINVAL;
	}
	if (ret_args->conf_path[0] == '\0' || (ret_args->pid_file && ret_args->pid_file[0] == '\0')) {
		snprintf(errbuf, errlen, "an empty file name is not a file");
		return SW_EINVAL;
	}
	return SW_OK;
}

/* Refuses section kinds nobody reads, naming the first one's line. */
static enum sw_err check_sections(const struct sw_daemon_desc *desc, struct sw_conf *file,
				  char *errbuf, size_t errlen)
{
	const char *kind, *name;
	size_t i;
	int line;

	for (i = 0; sw_conf_unused(file, i, &kind, &name, &line) == SW_OK;)
		if (sw_daemon_known_section(desc, kind))
			sw_conf_claim(file, kind); /* the list shrinks: same i again */
		else
			i++;
	if (sw_conf_unused(file, 0, &kind, &name, &line) == SW_OK) {
		snprintf(errbuf, errlen, "%s:%d: unknown section (no slipwatch program reads it): '[%s%s%s]'",
			 sw_conf_file(file), line, kind, name ? " " : "", name ? name : "");
		return SW_ECONF;
	}
	return SW_OK;
}

/* One part: desc's own into *ret_state, another as text only (checked,
 * then freed). */
static enum sw_err apply_part(const struct sw_daemon_desc *desc, const struct sw_daemon_part *part,
			      struct sw_conf *file, void **ret_state, char *errbuf, size_t errlen)
{
	bool own = part == desc->part;
	void *state = NULL;
	enum sw_err rc;

	sw_conf_set_text_only(file, !own);
	rc = part->configure(file, &state, errbuf, errlen);
	sw_conf_set_text_only(file, false);
	if (rc)
		return rc;
	if (own)
		*ret_state = state;
	else
		part->free_state(state);
	return SW_OK;
}

/* Every part of the registry in order (desc->part first if it is not
 * listed), so every program meets the same first error. */
static enum sw_err apply_parts(const struct sw_daemon_desc *desc, struct sw_conf *file,
			       void **ret_state, char *errbuf, size_t errlen)
{
	bool listed = false;
	enum sw_err rc;

	for (size_t i = 0; desc->registry && desc->registry[i]; i++)
		listed |= desc->registry[i] == desc->part;
	if (desc->part && !listed) {
		rc = apply_part(desc, desc->part, file, ret_state, errbuf, errlen);
		if (rc)
			return rc;
	}
	for (size_t i = 0; desc->registry && desc->registry[i]; i++) {
		rc = apply_part(desc, desc->registry[i], file, ret_state, errbuf, errlen);
		if (rc) {
			if (*ret_state)
				desc->part->free_state(*ret_state);
			*ret_state = NULL;
			return rc;
		}
	}
	return SW_OK;
}

enum sw_err sw_daemon_load_conf(const struct sw_daemon_desc *desc, const char *path,
				struct sw_conf **ret_file, struct sw_daemon_conf *ret_conf,
				void **ret_state, char *errbuf, size_t errlen)
{
	struct sw_conf *file = NULL;
	void *state = NULL;
	enum sw_err rc;

	memset(ret_conf, 0, sizeof(*ret_conf));
	*ret_file = NULL;
	*ret_state = NULL;
	rc = sw_conf_load(path, &file, errbuf, errlen);
	if (rc)
		return rc;
	rc = sw_daemon_store_apply(file, ret_conf, errbuf, errlen);
	if (rc)
		goto fail;
	rc = sw_conf_apply(file, "log", NULL, log_table, ret_conf, errbuf, errlen);
	if (rc)
		goto fail;
	rc = sw_conf_apply(file, "simulation", NULL, simulation_table, ret_conf, errbuf, errlen);
	if (rc)
		goto fail;
	rc = apply_parts(desc, file, &state, errbuf, errlen);
	if (rc)
		goto fail;
	rc = check_sections(desc, file, errbuf, errlen);
	if (rc)
		goto fail;
	*ret_file = file;
	*ret_state = state;
	return SW_OK;
fail:
	if (state)
		desc->part->free_state(state);
	sw_daemon_conf_free(ret_conf);
	sw_conf_free(file);
	return rc;
}

void sw_daemon_conf_dump(const struct sw_daemon_conf *conf, struct sw_buf *out)
{
	sw_conf_dump("store", NULL, sw_daemon_store_table, conf, out);
	sw_conf_dump("log", NULL, log_table, conf, out);
	sw_conf_dump("simulation", NULL, simulation_table, conf, out);
}

void sw_daemon_conf_free(struct sw_daemon_conf *conf)
{
	sw_conf_free_struct(sw_daemon_store_table, conf);
	sw_conf_free_struct(log_table, conf);
	sw_conf_free_struct(simulation_table, conf);
}

/* ---- the clock ------------------------------------------------------------- */

enum sw_err sw_daemon_clock(const struct sw_daemon_conf *conf, const char *conf_path,
			    const char *opt_spec, char *errbuf, size_t errlen)
{
	const char *spec = opt_spec ? opt_spec : getenv(SW_CLOCK_ENV);
	const char *from = opt_spec ? "--clock is given" : SW_CLOCK_ENV " is set";
	struct sw_clock_spec parsed;
	char why[256];

	if (!spec || !*spec)
		return SW_OK;
	if (sw_clock_parse(spec, &parsed, why, sizeof(why)) != SW_OK) {
		/* the parser names the variable; the option names itself */
		const char *text = why;

		if (opt_spec && strncmp(why, SW_CLOCK_ENV ": ", strlen(SW_CLOCK_ENV) + 2) == 0)
			text += strlen(SW_CLOCK_ENV) + 2;
		snprintf(errbuf, errlen, "%s%s", opt_spec ? "--clock: " : "", text);
		return SW_EINVAL;
	}
	if (!conf->sim_enabled) {
		snprintf(errbuf, errlen,
			 "%s but %s has no [simulation] enabled = yes: a simulated clock is "
			 "refused in a production configuration",
			 from, conf_path);
		return SW_EINVAL;
	}
	sw_clock_apply(&parsed);
	return SW_OK;
}

void sw_daemon_clock_describe(char *buf, size_t len)
{
	int64_t ms = sw_clock_now_ms();
	struct sw_time t = { 0 };
	char at[SW_TIME_STRLEN];

	if (!sw_clock_simulated()) {
		snprintf(buf, len, "real");
		return;
	}
	t.utc_sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	if (sw_time_format_utc(&t, at, sizeof(at)) != SW_OK)
		snprintf(at, sizeof(at), "%lld ms", (long long)ms);
	if (sw_clock_speed() == 0)
		snprintf(buf, len, "stepped, %s (moves only when stepped)", at);
	else
		snprintf(buf, len, "simulated, %s at %gx", at, sw_clock_speed());
}

static void usage(const struct sw_daemon_desc *desc, FILE *out)
{
	fprintf(out,
		"usage: slipwatch-%s [-c FILE] [-p FILE] [-t [-v]] [-f] [--clock SPEC]\n"
		"       slipwatch-%s -h | --version\n"
		"%s\n\n"
		"  -c, --config FILE    configuration file (default %s)\n"
		"  -p, --pid-file FILE  write the daemon's pid to FILE\n"
		"  -t, --test           check the configuration and exit (0 valid, 1 not)\n"
		"  -v, --verbose        with -t, print the effective settings\n"
		"  -f, --foreground     stay in the foreground, log to stderr\n"
		"  -h, --help           this text\n"
		"      --version        print the version\n"
		"      --clock SPEC     run on a simulated clock, START[*SPEED][@ANCHOR] (as\n"
		"                       SLIPWATCH_CLOCK); only with [simulation] enabled = yes\n"
		"Signals: SIGHUP reloads the configuration, SIGTERM drains and exits.\n",
		desc->name, desc->name, desc->summary, sw_daemon_default_conf());
}

/* -t: the configuration was valid; print what -v asks for. */
static int report_check(struct sw_daemon *d)
{
	struct sw_buf out;

	if (d->args.verbose) {
		sw_buf_init(&out, 1 << 20);
		sw_daemon_conf_dump(&d->conf, &out);
		if (d->desc->part)
			d->desc->part->dump(d->state, &out);
		fputs(sw_buf_str(&out), stdout);
		sw_buf_free(&out);
	}
	if (sw_clock_simulated()) {
		char clock[128];

		sw_daemon_clock_describe(clock, sizeof(clock));
		printf("clock: %s\n", clock);
	}
	printf("%s: configuration OK\n", d->args.conf_path);
	return 0;
}

/*
 * Forks; the parent waits for the child's verdict on a pipe and exits with
 * it.  Returns (in the child) the pipe's write end, or -1 on failure.
 */
static int detach_begin(void)
{
	int fds[2];
	pid_t pid;
	unsigned char status = 1;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		while (read(fds[0], &status, 1) < 0 && errno == EINTR)
			;
		_exit(status);
	}
	close(fds[0]);
	if (setsid() < 0)
		return -1;
	return fds[1];
}

/* Child: tells the waiting parent the verdict and detaches stdio. */
static void detach_end(int fd, unsigned char status)
{
	int null;

	if (fd < 0)
		return;
	if (status == 0) {
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				close(null);
		}
	}
	while (write(fd, &status, 1) < 0 && errno == EINTR)
		;
	close(fd);
}

static enum sw_err pidfile_write(const char *path, char *errbuf, size_t errlen)
{
	char text[32];
	FILE *f;
	long old;

	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &old) == 1 && old > 0 && old != (long)getpid() &&
		    kill((pid_t)old, 0) == 0) {
			fclose(f);
			snprintf(errbuf, errlen, "%s: already running as pid %ld", path, old);
			return SW_EINVAL;
		}
		fclose(f);
	}
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		snprintf(errbuf, errlen, "%s: cannot write pid file: %s", path, strerror(errno));
		return SW_EIO;
	}
	return SW_OK;
}

static void apply_log(struct sw_daemon *d)
{
	bool use_syslog = d->conf.log_dest == SW_DAEMON_LOG_SYSLOG ||
			  (d->conf.log_dest == SW_DAEMON_LOG_AUTO && !d->args.foreground);

	sw_log_init(d->desc->name, (enum sw_log_level)d->conf.log_level,
		    use_syslog ? SW_LOG_DEST_SYSLOG : SW_LOG_DEST_STDERR);
}

static void on_reload(struct sw_loop *loop, int signo, void *arg)
{
	struct sw_daemon *d = arg;
	struct sw_daemon_conf conf;
	struct sw_conf *file;
	void *state, *old;
	char err[512];

	if (sw_daemon_load_conf(d->desc, d->args.conf_path, &file, &conf, &state, err,
				sizeof(err)) != SW_OK) {
		sw_log_err(NULL, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	sw_conf_free(file);
	if (sw_clock_simulated() && !conf.sim_enabled) {
		sw_log_err(NULL,
			   "reload refused, keeping the running configuration: the clock is "
			   "simulated and %s no longer has [simulation] enabled = yes",
			   d->args.conf_path);
		if (state)
			d->desc->part->free_state(state);
		sw_daemon_conf_free(&conf);
		return;
	}
	if (strcmp(conf.store_path, d->conf.store_path) != 0)
		sw_log_warn(NULL, "reload: [store] path changed to %s; a restart is needed to use it",
			    conf.store_path);
	old = d->state;
	if (d->desc->reload && d->desc->reload(d, state, err, sizeof(err)) != SW_OK) {
		sw_log_err(NULL, "reload refused, keeping the running configuration: %s", err);
		if (state)
			d->desc->part->free_state(state);
		sw_daemon_conf_free(&conf);
		return;
	}
	d->state = state;
	if (old)
		d->desc->part->free_state(old);
	free(conf.store_path);
	conf.store_path = d->conf.store_path; /* the open store stays */
	d->conf.store_path = NULL;
	sw_daemon_conf_free(&d->conf);
	d->conf = conf;
	apply_log(d);
	sw_log_notice(NULL, "configuration reloaded from %s", d->args.conf_path);
}

static void on_flush(struct sw_loop *loop, int signo, void *arg)
{
	struct sw_daemon *d = arg;

	if (d->desc->flush == NULL) {
		sw_log_info(NULL, "SIGUSR1 received: nothing is buffered");
		return;
	}
	sw_log_info(NULL, "SIGUSR1 received, flushing");
	d->desc->flush(d);
}

static void on_terminate(struct sw_loop *loop, int signo, void *arg)
{
	sw_log_notice(NULL, "SIG%s received, stopping", sigabbrev_np(signo));
	sw_loop_stop(loop);
}

/* Opens the store, builds the loop, starts the component. */
static enum sw_err daemon_start(struct sw_daemon *d, char *errbuf, size_t errlen)
{
	enum sw_err rc;

	rc = sw_store_open(d->conf.store_path, 0, &d->store, errbuf, errlen);
	if (rc)
		return rc;
	rc = sw_loop_new(&d->loop);
	if (rc) {
		snprintf(errbuf, errlen, "cannot create the event loop: %s", strerror(errno));
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sw_loop_watch_signal(d->loop, SIGHUP, on_reload, d) ||
	    sw_loop_watch_signal(d->loop, SIGTERM, on_terminate, d) ||
	    sw_loop_watch_signal(d->loop, SIGINT, on_terminate, d) ||
	    sw_loop_watch_signal(d->loop, SIGUSR1, on_flush, d)) {
		snprintf(errbuf, errlen, "cannot install signal handlers: %s", strerror(errno));
		return SW_EIO;
	}
	if (d->desc->start)
		return d->desc->start(d, errbuf, errlen);
	return SW_OK;
}

/* SIGTERM was handled: let the component drain, then release everything. */
static void daemon_finish(struct sw_daemon *d)
{
	int64_t deadline;

	if (d->loop && d->desc->stop) {
		d->desc->stop(d);
		/* real time: the drain lets I/O in flight finish, and a simulated
		 * clock at 100x would cut it to 20 ms */
		deadline = sw_clock_real_mono_ms() + SW_DAEMON_DRAIN_MS;
		while (sw_loop_timer_count(d->loop) > 0 && sw_clock_real_mono_ms() < deadline)
			if (sw_loop_run_once(d->loop, 100) != SW_OK)
				break;
	}
	sw_loop_free(d->loop);
	sw_store_close(d->store);
	if (d->state)
		d->desc->part->free_state(d->state);
	sw_daemon_conf_free(&d->conf);
}

int sw_daemon_main(int argc, char **argv, const struct sw_daemon_desc *desc)
{
	struct sw_daemon d = { .desc = desc };
	struct sw_conf *file = NULL;
	char err[1024], *abs_conf = NULL;
	int notify = -1, status = 1;
	bool pid_written = false;
	enum sw_err rc;

	if (sw_daemon_parse_args(argc, argv, &d.args, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "slipwatch-%s: %s\n", desc->name, err);
		usage(desc, stderr);
		return 2;
	}
	if (d.args.help) {
		usage(desc, stdout);
		return 0;
	}
	if (d.args.version) {
		printf("slipwatch-%s %s\n", desc->name, PACKAGE_VERSION);
		return 0;
	}
	/* Reloads happen after chdir("/"): keep an absolute path. */
	abs_conf = realpath(d.args.conf_path, NULL);
	if (abs_conf)
		d.args.conf_path = abs_conf;
	rc = sw_daemon_load_conf(desc, d.args.conf_path, &file, &d.conf, &d.state, err,
				 sizeof(err));
	if (rc) {
		fprintf(stderr, "slipwatch-%s: %s\n", desc->name, err);
		goto out;
	}
	sw_conf_free(file);
	if (sw_daemon_clock(&d.conf, d.args.conf_path, d.args.clock_spec, err, sizeof(err)) !=
	    SW_OK) {
		fprintf(stderr, "slipwatch-%s: %s\n", desc->name, err);
		goto out;
	}
	if (sw_clock_simulated() && sw_clock_speed() == 0) {
		/* nothing in a daemon steps it: its timers would never fire */
		fprintf(stderr,
			"slipwatch-%s: %s: speed 0 is a stepped clock, for tests and the slipwatch "
			"command; a daemon needs a clock that runs\n",
			desc->name, d.args.clock_spec ? "--clock" : SW_CLOCK_ENV);
		goto out;
	}
	if (d.args.check_only) {
		status = report_check(&d);
		goto out;
	}
	if (!d.args.foreground) {
		notify = detach_begin();
		if (notify < 0) {
			fprintf(stderr, "slipwatch-%s: cannot detach: %s\n", desc->name, strerror(errno));
			goto out;
		}
		if (chdir("/") < 0)
			goto out;
	}
	apply_log(&d);
	rc = daemon_start(&d, err, sizeof(err));
	if (rc == SW_OK && d.args.pid_file) {
		rc = pidfile_write(d.args.pid_file, err, sizeof(err));
		pid_written = rc == SW_OK;
	}
	if (rc) {
		fprintf(stderr, "slipwatch-%s: %s\n", desc->name, err);
		sw_log_err(NULL, "start failed: %s", err);
		detach_end(notify, 1);
		goto out;
	}
	sw_log_notice(NULL, "started (slipwatch %s, store %s, schema %d)", PACKAGE_VERSION,
		      d.conf.store_path, sw_store_schema_version(d.store));
	if (sw_clock_simulated()) {
		sw_daemon_clock_describe(err, sizeof(err));
		sw_log_notice(NULL, "clock: %s", err);
	}
	detach_end(notify, 0);
	rc = sw_loop_run(d.loop);
	if (rc) {
		sw_log_err(NULL, "event loop failed: %s", strerror(errno));
		goto out;
	}
	status = 0;
out:
	daemon_finish(&d);
	if (pid_written)
		unlink(d.args.pid_file);
	if (status == 0 && !d.args.check_only)
		sw_log_notice(NULL, "stopped");
	sw_log_fini();
	free(abs_conf);
	return status;
}

/* ---- time series ----------------------------------------------------------- */

void sw_daemon_series_flush(struct sw_daemon_series *s, bool now_too)
{
	int64_t now = sw_clock_now();
	char err[1024];
	enum sw_err rc;

	if (!s->rrd)
		return;
	if (s->before_flush)
		s->before_flush(s->arg);
	if (now_too)
		now += s->step_ms / 1000;
	rc = sw_rrd_flush(s->rrd, s->metrics, now, err, sizeof(err));
	if (rc == SW_OK)
		sw_log_release(&s->complain, SW_LOG_NOTICE, "rrd", "writing time series again");
	else if (rc == SW_EDUP)
		sw_log_debug("rrd", "this step is already written");
	else
		sw_log_complain(&s->complain, rc == SW_EAGAIN ? SW_LOG_WARNING : SW_LOG_ERR, "rrd",
				"%s", err);
}

/* ms until just after the next step boundary of the (one) wall clock. */
static int64_t series_next_delay(const struct sw_daemon_series *s)
{
	int64_t now_ms = sw_clock_now_ms();

	return s->step_ms - now_ms % s->step_ms + 50;
}

static int64_t series_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_daemon_series *s = arg;

	sw_daemon_series_flush(s, false);
	return series_next_delay(s);
}

enum sw_err sw_daemon_series_start(struct sw_daemon *d, struct sw_daemon_series *s,
				   const struct sw_rrd_conf *conf, struct sw_metrics *metrics,
				   void (*before_flush)(void *arg), void *arg, char *errbuf,
				   size_t errlen)
{
	enum sw_err rc;

	memset(s, 0, sizeof(*s));
	if ((rc = sw_rrd_new(conf, &s->rrd, errbuf, errlen)))
		return rc;
	s->metrics = metrics;
	s->step_ms = conf->step_ms;
	s->before_flush = before_flush;
	s->arg = arg;
	sw_loop_timer_add(d->loop, series_next_delay(s), series_timer_cb, s, &s->timer);
	return SW_OK;
}

void sw_daemon_series_stop(struct sw_daemon *d, struct sw_daemon_series *s)
{
	if (s->timer)
		sw_loop_timer_del(d->loop, s->timer);
	s->timer = 0;
	if (s->rrd) {
		sw_daemon_series_flush(s, true);
		sw_rrd_free(s->rrd);
		s->rrd = NULL;
	}
}
