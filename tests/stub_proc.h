/*
 * stub_proc.h - a scripted HTTP server (python3) as a child process of a
 * unit test: started on a free loopback port it reports itself, stopped
 * with SIGTERM.  One copy of what test_poll, test_poll_quota, test_generic
 * and test_probe_courier do with their stubs and the fake courier server.
 *
 * The port is read from a file: the stubs write it there once listening
 * (stub.py PORTFILE ...); tests/fakecourier/server.py prints it as its
 * first stdout line, so for it the child's stdout is that file
 * (port_on_stdout).  Waiting is bounded (60 s, a failure bound only: a
 * loaded machine is never a reason to fail).
 */
#ifndef SW_TESTS_STUB_PROC_H
#define SW_TESTS_STUB_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/xmalloc.h"

#define STUB_ARGS_MAX 12

struct stub_proc {
	pid_t pid;
	int port;
};

/* A file under the test data: $SW_TEST_DATA/rel, else tests/data/rel.
 * Caller frees. */
static inline char *stub_data_path(const char *rel)
{
	const char *dir = getenv("SW_TEST_DATA");

	return xasprintf("%s/%s", dir && *dir ? dir : "tests/data", rel);
}

/* Starts "python3 args[0] args[1] ..." (args NULL-terminated, at most
 * STUB_ARGS_MAX) and waits until portfile holds its port (written by the
 * script, or with port_on_stdout its stdout redirected there).  true when
 * s->port is known; s->pid is set whenever the child was forked. */
static inline bool stub_proc_start(struct stub_proc *s, const char *portfile, bool port_on_stdout,
				   const char *const *args)
{
	const char *argv[STUB_ARGS_MAX + 2] = {"python3"};
	FILE *f;

	for (int i = 0; args[i] && i < STUB_ARGS_MAX; i++)
		argv[i + 1] = args[i];
	s->port = 0;
	unlink(portfile);
	s->pid = fork();
	if (s->pid == 0) {
		if (port_on_stdout && freopen(portfile, "w", stdout) == NULL)
			_exit(126);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 1200 && s->pid > 0 && s->port <= 0; i++) { /* 60 s: a failure bound */
		if ((f = fopen(portfile, "r")) != NULL) {
			if (fscanf(f, "%d", &s->port) != 1)
				s->port = 0;
			fclose(f);
		}
		if (s->port <= 0)
			usleep(50000);
	}
	return s->port > 0;
}

/* Stops the child (SIGTERM) and reaps it; safe when none was started. */
static inline void stub_proc_stop(struct stub_proc *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

#endif /* SW_TESTS_STUB_PROC_H */
