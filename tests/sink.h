/*
 * sink.h - unit-test helpers for the real test servers under tests/tools/
 * (smtp_sink.py, webhook_sink.py, oncall_sink.py): find a python3 that
 * can run one and the source tree that holds it, start one on a loopback
 * port in a private directory, switch its answers through its mode
 * files, read what it logged.  Header-only (static inline), for unit
 * tests (test_mail, test_channel, test_chan_oncall); needs lib/xmalloc.h
 * and jansson.
 */
#ifndef SW_TEST_SINK_H
#define SW_TEST_SINK_H

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/xmalloc.h"

/* The whole file at path as a new string (NULL if unreadable). */
static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[8192];

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf = xreallocarray(buf, len + n + 1, 1);
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!buf)
		buf = xstrdup("");
	buf[len] = '\0';
	return buf;
}

/* Runs argv with stdout to the file out (NULL: /dev/null) and stderr to
 * /dev/null; its exit status or -1. */
static inline int sink_run_to(const char *const *argv, const char *out)
{
	pid_t pid = fork();
	int st, fd;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)
			 : open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Runs argv with stdout and stderr to /dev/null; its exit status or -1. */
static inline int sink_run_quiet(const char *const *argv)
{
	return sink_run_to(argv, NULL);
}

/* The first interpreter ($SW_PYTHON, python3, /usr/bin/python3) that can
 * run "import IMPORTS" (imports: "aiosmtpd", "http.server, hmac"), or
 * NULL. */
static inline const char *sink_find_python(const char *imports)
{
	const char *cands[] = {getenv("SW_PYTHON"), "python3", "/usr/bin/python3"};
	char code[128];
	size_t i;

	snprintf(code, sizeof code, "import %s", imports);
	for (i = 0; i < sizeof cands / sizeof cands[0]; i++) {
		const char *argv[] = {cands[i], "-c", code, NULL};

		if (cands[i] && *cands[i] && sink_run_quiet(argv) == 0)
			return cands[i];
	}
	return NULL;
}

/* The source tree's top into out: $SW_SRCDIR when probe (a path in the
 * tree, "tests/tools/smtp_sink.py") is there, else what precedes
 * "tests/unit/" in me (the test's __FILE__), else ".".  True if probe is
 * readable under it. */
static inline bool sink_srcdir(char *out, size_t len, const char *me, const char *probe)
{
	const char *src = getenv("SW_SRCDIR"), *cut = strstr(me, "tests/unit/");
	char path[PATH_MAX + 256];

	if (src && *src) {
		snprintf(out, len, "%s", src);
		snprintf(path, sizeof path, "%s/%s", out, probe);
		if (access(path, R_OK) == 0)
			return true;
	}
	snprintf(out, len, "%.*s.", cut ? (int)(cut - me) : 0, me);
	snprintf(path, sizeof path, "%s/%s", out, probe);
	return access(path, R_OK) == 0;
}

/* Writes text to path, created or truncated, with mode (whatever the
 * umask: a secret file's 0600, a world-readable one's 0644). */
static inline void sink_spew(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		fchmod(fd, mode);
		close(fd);
	}
}

struct sink {
	pid_t pid;
	int port;
	char dir[PATH_MAX];
};

/* Starts `python prog --port PORT --dir TMPDIR/NAME --max-seconds 300
 * EXTRA...` (port 0: any; extra NULL-terminated, may be NULL), its output
 * in DIR/sink.log, and waits (at most 15 s) for its "ready" file. */
static inline bool sink_run(struct sink *s, const char *python, const char *prog,
			    const char *tmpdir, const char *name, int port,
			    const char *const *extra)
{
	char portarg[16], path[PATH_MAX + 64], *ready;
	const char *argv[24];
	size_t n = 0;
	int fd, i;

	snprintf(s->dir, sizeof s->dir, "%s/%s", tmpdir, name);
	mkdir(s->dir, 0700);
	snprintf(portarg, sizeof portarg, "%d", port);
	argv[n++] = python;
	argv[n++] = prog;
	argv[n++] = "--port";
	argv[n++] = portarg;
	argv[n++] = "--dir";
	argv[n++] = s->dir;
	argv[n++] = "--max-seconds";
	argv[n++] = "300";
	for (i = 0; extra && extra[i] && n < 23; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	snprintf(path, sizeof path, "%s/sink.log", s->dir);
	s->pid = fork();
	if (s->pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	snprintf(path, sizeof path, "%s/ready", s->dir);
	for (i = 0; i < 300; i++) {
		if ((ready = slurp(path)) != NULL) {
			s->port = (int)strtol(ready, NULL, 10);
			free(ready);
			return s->port > 0;
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			break;
		usleep(50 * 1000);
	}
	printf("# sink %s did not start; see %s/sink.log\n", name, s->dir);
	s->pid = 0;
	return false;
}

/* Stops the sink (SIGTERM, SIGKILL after 5 s). */
static inline void sink_stop(struct sink *s)
{
	int i;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	for (i = 0; i < 100 && waitpid(s->pid, NULL, WNOHANG) != s->pid; i++)
		usleep(50 * 1000);
	if (i == 100) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

/* Writes the sink's mode file atomically (temp file + rename). */
static inline void sink_mode(const struct sink *s, const char *mode)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s/.mode.tmp", s->dir);
	snprintf(path, sizeof path, "%s/mode", s->dir);
	if ((f = fopen(tmp, "w")) != NULL) {
		fputs(mode, f);
		fclose(f);
		rename(tmp, path);
	}
}

/* Writes DIR/file atomically (temp file + rename): oncall_sink.py's
 * mode.hook, mode.slack, mode.pd and retry_after. */
static inline void sink_write(const struct sink *s, const char *file, const char *text)
{
	char tmp[PATH_MAX + 80], path[PATH_MAX + 80];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", s->dir, file);
	snprintf(path, sizeof path, "%s/%s", s->dir, file);
	if ((f = fopen(tmp, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
		rename(tmp, path);
	}
}

/* Lines the sink has logged (one per message or request). */
static inline int sink_count(const struct sink *s)
{
	char path[PATH_MAX + 16], *text, *p;
	int n = 0;

	snprintf(path, sizeof path, "%s/log.jsonl", s->dir);
	text = slurp(path);
	for (p = text; p && *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

/* The k-th (1-based) log line as JSON, or NULL. */
static inline json_t *sink_log(const struct sink *s, int k)
{
	char path[PATH_MAX + 16], *text, *line, *nl;
	json_t *j = NULL;
	int i;

	snprintf(path, sizeof path, "%s/log.jsonl", s->dir);
	text = slurp(path);
	for (i = 1, line = text; line && *line; i++, line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		if (i == k) {
			*nl = '\0';
			j = json_loads(line, 0, NULL);
			break;
		}
	}
	free(text);
	return j;
}

/* Connections the sink has accepted so far. */
static inline int sink_connections(const struct sink *s)
{
	char path[PATH_MAX + 16], *text;
	int n;

	snprintf(path, sizeof path, "%s/connections", s->dir);
	text = slurp(path);
	n = text ? (int)strtol(text, NULL, 10) : 0;
	free(text);
	return n;
}

#endif /* SW_TEST_SINK_H */
