/*
 * log.c - one-line log messages to stderr or syslog, with rate limiting.
 *
 * Design: a message is formatted into a fixed buffer of SW_LOG_MSG_MAX
 * bytes, then escaped unit by unit (a valid UTF-8 sequence, a printable
 * ASCII byte, or an escape such as \n or \xNN) into the line buffer, so a
 * cut for length never splits an escape or a UTF-8 character.  The whole
 * line is built in one buffer and written with one fwrite() (stderr is
 * unbuffered, so that is one write(2)) or one syslog() call.  All state is
 * module-static; the daemons are single-threaded.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define LOG_COMPONENT_MAX 64 /* escaped bytes of component name */
#define LOG_SUFFIX_MAX 64    /* "(N similar messages suppressed)" */
#define LOG_LINE_MAX                                                           \
	(32 + LOG_COMPONENT_MAX + 16 + SW_LOG_TARGET_MAX + SW_LOG_MSG_MAX +    \
	 LOG_SUFFIX_MAX + 16)
#define LOG_DEFAULT_COMPONENT "slipwatch"

enum sw_log_level sw_log_threshold = SW_LOG_INFO;

static struct {
	char *component;      /* NULL: LOG_DEFAULT_COMPONENT */
	enum sw_log_dest dest;
	bool syslog_open;
	FILE *stream;         /* test hook: overrides dest */
	sw_log_sink_fn *sink; /* test hook: overrides everything */
	void *sink_arg;
	sw_log_clock_fn *clock; /* test hook for sw_log_complain */
} log_cfg;

static const char *const level_names[] = {
	[SW_LOG_ERR] = "error",
	[SW_LOG_WARNING] = "warning",
	[SW_LOG_NOTICE] = "notice",
	[SW_LOG_INFO] = "info",
	[SW_LOG_DEBUG] = "debug",
};

static const int level_prio[] = {
	[SW_LOG_ERR] = LOG_ERR,
	[SW_LOG_WARNING] = LOG_WARNING,
	[SW_LOG_NOTICE] = LOG_NOTICE,
	[SW_LOG_INFO] = LOG_INFO,
	[SW_LOG_DEBUG] = LOG_DEBUG,
};

_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == SW_LOG_LAST,
	       "level_names must name every level");
_Static_assert(sizeof(level_prio) / sizeof(level_prio[0]) == SW_LOG_LAST,
	       "level_prio must map every level");

const char *sw_log_level_name(enum sw_log_level level)
{
	if ((unsigned)level >= SW_LOG_LAST)
		return "?";
	return level_names[level];
}

enum sw_err sw_log_level_parse(const char *s, enum sw_log_level *ret_level)
{
	if (!s)
		return SW_EINVAL;
	for (int i = 0; i < SW_LOG_LAST; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*ret_level = (enum sw_log_level)i;
			return SW_OK;
		}
	}
	if (strcasecmp(s, "err") == 0) {
		*ret_level = SW_LOG_ERR;
		return SW_OK;
	}
	if (strcasecmp(s, "warn") == 0) {
		*ret_level = SW_LOG_WARNING;
		return SW_OK;
	}
	return SW_EINVAL;
}

/* ---- setup ---- */

static const char *log_component(void)
{
	return log_cfg.component ? log_cfg.component : LOG_DEFAULT_COMPONENT;
}

void sw_log_init(const char *component, enum sw_log_level level,
		 enum sw_log_dest dest)
{
	char *old = log_cfg.component;

	if (component)
		log_cfg.component = xstrdup(component);
	if ((unsigned)level >= SW_LOG_LAST)
		level = SW_LOG_INFO;
	if ((unsigned)dest >= SW_LOG_DEST_LAST)
		dest = SW_LOG_DEST_STDERR;
	sw_log_threshold = level;
	log_cfg.dest = dest;
	/* openlog() keeps the ident pointer: reopen before freeing it. */
	if (log_cfg.syslog_open) {
		closelog();
		log_cfg.syslog_open = false;
	}
	if (dest == SW_LOG_DEST_SYSLOG) {
		openlog(log_component(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_cfg.syslog_open = true;
	}
	if (component)
		free(old);
}

void sw_log_set_level(enum sw_log_level level)
{
	if ((unsigned)level < SW_LOG_LAST)
		sw_log_threshold = level;
}

void sw_log_fini(void)
{
	if (log_cfg.syslog_open)
		closelog();
	free(log_cfg.component);
	memset(&log_cfg, 0, sizeof(log_cfg));
	sw_log_threshold = SW_LOG_INFO;
}

void sw_log_set_stream(FILE *f)
{
	log_cfg.stream = f;
}

void sw_log_set_sink(sw_log_sink_fn *fn, void *arg)
{
	log_cfg.sink = fn;
	log_cfg.sink_arg = fn ? arg : NULL;
}

void sw_log_set_clock(sw_log_clock_fn *fn)
{
	log_cfg.clock = fn;
}

/* ---- escaping ---- */


/* Writes the output for the next unit of s (at most 8 bytes) to unit;
 * returns its length and sets *ret_used to the input bytes consumed. */
static size_t escape_unit(const unsigned char *s, size_t n, char *unit,
			  size_t *ret_used)
{
	size_t len;

	*ret_used = 1;
	switch (s[0]) {
	case '\n':
		memcpy(unit, "\\n", 2);
		return 2;
	case '\r':
		memcpy(unit, "\\r", 2);
		return 2;
	case '\t':
		memcpy(unit, "\\t", 2);
		return 2;
	}
	if (s[0] >= 0x20 && s[0] < 0x7f) {
		unit[0] = (char)s[0];
		return 1;
	}
	len = s[0] < 0x80 ? 0 : sw_utf8_decode(s, n, NULL);
	if (len == 0) /* C0 control, DEL, or not UTF-8 */
		return (size_t)snprintf(unit, 9, "\\x%02X", s[0]);
	*ret_used = len;
	if (len == 2 && s[0] == 0xC2 && s[1] < 0xA0) /* C1 control */
		return (size_t)snprintf(unit, 9, "\\x%02X\\x%02X", s[0], s[1]);
	memcpy(unit, s, len);
	return len;
}

/*
 * Escapes in[0..inlen) into out, writing at most max bytes plus a NUL
 * (max >= 3).  If it does not fit, or cut says the input was already cut,
 * the output ends in "..." at a unit boundary.  Returns the length.
 */
static size_t log_escape(char *out, size_t max, const char *in, size_t inlen,
			 bool cut)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, keep = 0, i = 0;
	char unit[9];

	while (i < inlen) {
		size_t used, ulen = escape_unit(s + i, inlen - i, unit, &used);

		if (o + ulen > max) {
			cut = true;
			break;
		}
		memcpy(out + o, unit, ulen);
		o += ulen;
		i += used;
		if (o + 3 <= max)
			keep = o;
	}
	if (cut) {
		memcpy(out + keep, "...", 3);
		o = keep + 3;
	}
	out[o] = '\0';
	return o;
}

/* ---- output ---- */

static size_t log_append(char *buf, size_t len, const char *s)
{
	int n = snprintf(buf + len, LOG_LINE_MAX - len, "%s", s);

	if (n < 0)
		return len;
	len += (size_t)n;
	return len < LOG_LINE_MAX ? len : LOG_LINE_MAX - 1;
}

static size_t log_timestamp(char *buf)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, 32 - n, ".%03ldZ ",
			      (long)(ts.tv_nsec / 1000000));
	return n;
}

static void log_output(enum sw_log_level level, char *buf, size_t len,
		       size_t comp_off, size_t rest_off)
{
	FILE *f = log_cfg.stream ? log_cfg.stream : stderr;

	if (log_cfg.sink) {
		log_cfg.sink(level, buf + comp_off, log_cfg.sink_arg);
		return;
	}
	if (!log_cfg.stream && log_cfg.dest == SW_LOG_DEST_SYSLOG) {
		syslog(level_prio[level], "%s", buf + rest_off);
		return;
	}
	buf[len++] = '\n';
	(void)fwrite(buf, 1, len, f);
	(void)fflush(f);
}

/* Formats, escapes and writes one line; suffix (our own text) is appended
 * after the message, outside its length limit. */
static void log_emit(enum sw_log_level level, const char *target,
		     const char *suffix, const char *fmt, va_list ap)
{
	char raw[SW_LOG_MSG_MAX + 1];
	char buf[LOG_LINE_MAX + 1]; /* + 1 for the newline */
	const char *comp = log_component();
	size_t len, comp_off, rest_off, rawlen;
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		n = snprintf(raw, sizeof(raw), "(log format error: %s)", fmt);
	rawlen = (size_t)n < SW_LOG_MSG_MAX ? (size_t)n : SW_LOG_MSG_MAX;

	len = comp_off = log_timestamp(buf);
	len += log_escape(buf + len, LOG_COMPONENT_MAX, comp, strlen(comp),
			  false);
	len = log_append(buf, len, " ");
	rest_off = len;
	len = log_append(buf, len, level_names[level]);
	len = log_append(buf, len, ": ");
	if (target) {
		len += log_escape(buf + len, SW_LOG_TARGET_MAX, target,
				  strlen(target), false);
		len = log_append(buf, len, ": ");
	}
	len += log_escape(buf + len, SW_LOG_MSG_MAX, raw, rawlen,
			  (size_t)n > SW_LOG_MSG_MAX);
	if (suffix)
		len = log_append(buf, len, suffix);
	log_output(level, buf, len, comp_off, rest_off);
}

void sw_log_write(enum sw_log_level level, const char *target,
		  const char *fmt, ...)
{
	va_list ap;

	if ((unsigned)level >= SW_LOG_LAST || !sw_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, target, NULL, fmt, ap);
	va_end(ap);
}

/* ---- rate limiting ---- */

static int64_t log_now_ms(void)
{
	struct timespec ts;

	if (log_cfg.clock)
		return log_cfg.clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void suppressed_suffix(char *suffix, size_t size, unsigned long n)
{
	suffix[0] = '\0';
	if (n)
		snprintf(suffix, size, " (%lu similar message%s suppressed)", n,
			 n == 1 ? "" : "s");
}

void sw_log_complain(struct sw_log_complain *c, enum sw_log_level level,
		     const char *target, const char *fmt, ...)
{
	char suffix[LOG_SUFFIX_MAX];
	int64_t now = log_now_ms();
	va_list ap;

	suffix[0] = '\0';
	if (c->interval_ms > 0) {
		if (now - c->last_ms < c->interval_ms) {
			c->suppressed++;
			return;
		}
		suppressed_suffix(suffix, sizeof(suffix), c->suppressed);
		c->interval_ms *= 2;
		if (c->interval_ms > SW_LOG_COMPLAIN_MAX_MS)
			c->interval_ms = SW_LOG_COMPLAIN_MAX_MS;
	} else {
		c->interval_ms = SW_LOG_COMPLAIN_FIRST_MS;
	}
	c->last_ms = now;
	c->suppressed = 0;
	if ((unsigned)level >= SW_LOG_LAST || !sw_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, target, suffix, fmt, ap);
	va_end(ap);
}

void sw_log_release(struct sw_log_complain *c, enum sw_log_level level,
		    const char *target, const char *fmt, ...)
{
	char suffix[LOG_SUFFIX_MAX];
	va_list ap;

	if (c->interval_ms == 0)
		return;
	suppressed_suffix(suffix, sizeof(suffix), c->suppressed);
	memset(c, 0, sizeof(*c));
	if ((unsigned)level >= SW_LOG_LAST || !sw_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, target, suffix, fmt, ap);
	va_end(ap);
}
