/*
 * rrdcached.h - unit-test helpers for a real rrdcached (test_rrd,
 * test_rrd_read): start one on a unix socket or a loopback TCP port over
 * a base directory, holding every update in memory (-w 3600, -f 7200)
 * until it is flushed, wait until it accepts connections, stop it (or
 * kill it with SIGKILL), and find a free loopback port.  One daemon at a time per test program (its
 * pid is kept here); header-only (static inline); needs lib/xmalloc.h.
 */
#ifndef SW_TEST_RRDCACHED_H
#define SW_TEST_RRDCACHED_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/xmalloc.h"

static pid_t rrdcached_pid = -1; /* the running daemon, or -1 */

/* Stops the daemon (SIGTERM, then waits for it); none running: no-op. */
static inline void rrdcached_stop(void)
{
	if (rrdcached_pid > 0) {
		kill(rrdcached_pid, SIGTERM);
		waitpid(rrdcached_pid, NULL, 0);
		rrdcached_pid = -1;
	}
}

/* Kills the daemon with SIGKILL (no flush, no journal close: what a crash
 * or the OOM killer does) and reaps it; none running: no-op. */
static inline void rrdcached_kill9(void)
{
	if (rrdcached_pid > 0) {
		kill(rrdcached_pid, SIGKILL);
		waitpid(rrdcached_pid, NULL, 0);
		rrdcached_pid = -1;
	}
}

/* Stops the daemon and removes dir (the test's temp dir); for atexit. */
static inline void rrdcached_cleanup(const char *dir)
{
	char *cmd;

	rrdcached_stop();
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup failed: %s\n", cmd);
	free(cmd);
}

/* True if something accepts a connection on the unix socket sock (port
 * 0) or on 127.0.0.1:port. */
static inline bool rrdcached_can_connect(const char *sock, int port)
{
	int fd, r;

	if (port == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	close(fd);
	return r == 0;
}

/* Starts /usr/bin/rrdcached listening on listen (unix:PATH or
 * 127.0.0.1:PORT) with base dir (created; its pid file and journal in
 * it), logging to log (NULL: no log), and waits until sock / port accept
 * (60 s at most: only a failure bound). */
static inline bool rrdcached_start(const char *listen, const char *base, const char *sock, int port,
				   const char *log)
{
	char *pidf = xasprintf("%s/rrdcached.pid", base), *jdir = xasprintf("%s/journal", base);
	const char *argv[] = {"rrdcached", "-g", "-B",	 "-R", "-F",   "-b",
			      base,	   "-l", listen, "-p", pidf,   "-j",
			      jdir,	   "-w", "3600", "-f", "7200", log ? "-o" : NULL,
			      log,	   NULL};

	mkdir(base, 0755);
	mkdir(jdir, 0700);
	unlink(pidf);
	rrdcached_pid = fork();
	if (rrdcached_pid == 0) {
		execv("/usr/bin/rrdcached", (char *const *)argv);
		_exit(127);
	}
	free(pidf);
	free(jdir);
	for (int i = 0; i < 1200; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		if (rrdcached_can_connect(sock, port))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* A loopback TCP port free a moment ago, or -1. */
static inline int rrdcached_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		port = -1;
	else
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

#endif /* SW_TEST_RRDCACHED_H */
