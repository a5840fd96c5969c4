/*
 * log_capture.h - the log lines a unit test's code wrote, kept in memory
 * so the test can check their texts (and that no secret is in them).
 * Header-only: install with sw_log_set_sink(log_capture, NULL); empty
 * with loglen = 0; read logbuf (NUL-terminated, one line per "\n").
 */
#ifndef SW_TEST_LOG_CAPTURE_H
#define SW_TEST_LOG_CAPTURE_H

#include <stdio.h>
#include <string.h>

#include "lib/log.h"

static char logbuf[65536];
static size_t loglen;

static inline void log_capture(enum sw_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	if (loglen + strlen(line) + 2 < sizeof(logbuf))
		loglen += (size_t)snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s\n", line);
}

#endif /* SW_TEST_LOG_CAPTURE_H */
