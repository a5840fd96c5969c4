/*
 * conf.c - slipwatch.conf: parse once with libinih, apply typed tables.
 *
 * Loading: the Debian libinih is built without INI_HANDLER_LINENO and
 * without a call on each new section, so we hand it the text through our
 * own reader (ini_parse_stream).  The reader counts real lines, strips CR,
 * BOM and indentation (which also disables inih's multi-line values),
 * rejects control bytes and over-long lines, and after every "[..." line
 * injects a marker line "\x01=" so that the handler learns of every header,
 * including those of empty sections, together with its line.  inih's own
 * syntax errors come back as a count of reader calls; markers are
 * subtracted to get the real line.  The first error in file order wins.
 * The parse keeps sections in file order, each with its keys in order.
 *
 * Applying: a table row names a key, a type, the field offset, bounds and
 * a default in file syntax.  Keys present in the section are parsed in file
 * order (so the first bad line is reported), then absent rows get their
 * default through the same parser.  Secrets are read from NAME_file or
 * NAME_env and never formatted into any message.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/xmalloc.h"

#define QUOTE_MAX 60  /* bytes of bad text shown in an error */
#define QBUF 72       /* a quote() buffer: QUOTE_MAX + "..." + NUL */
#define WHY_LEN 256   /* a value parser's complaint */
#define MARKER "\x01" /* key of the line injected after each header */
#define WHERE_LEN (4096 + 32) /* "FILE:LINE" */

struct conf_entry {
	char *key;
	char *value;
	int line;
};

struct conf_section {
	char *kind;
	char *name; /* NULL for [kind] */
	int line;   /* of the header */
	bool used;  /* applied or claimed */
	struct conf_entry *ent;
	size_t n, alloc;
};

struct sw_conf {
	char *file; /* name used in error texts */
	struct conf_section *sec;
	size_t n, alloc;
	bool text_only; /* secrets are not read (sw_conf_set_text_only) */
};

/* State of one sw_conf_load*, shared by the reader and the handler. */
struct load {
	struct sw_conf *conf;
	const char *text;
	size_t len, pos;
	int line;         /* real number of the last line handed to inih */
	const char *raw;  /* that line without indentation, BOM, EOL */
	size_t rawlen;
	bool marker_due;  /* the last line began with '[' */
	int calls;        /* lines handed to inih, markers included */
	int *markers;     /* values of calls at which markers were handed */
	size_t nmarkers, amarkers;
	struct conf_section *cur;
	int err_line;
	char *err;        /* first error, complete text */
};

/* ---- small helpers ------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
put_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* Copies len bytes of s into q (QBUF bytes) for an error text: control
 * bytes become '?', text over QUOTE_MAX bytes is cut at a UTF-8 character
 * boundary and ends in "...".  Returns q. */
static const char *quote(char *q, const char *s, size_t len)
{
	size_t i, n = len;
	bool cut = false;

	if (n > QUOTE_MAX) {
		n = QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		cut = true;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		q[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (cut) {
		memcpy(q + n, "...", 3);
		n += 3;
	}
	q[n] = '\0';
	return q;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Length of the run of [A-Za-z0-9_.-] at s. */
static size_t name_span(const char *s)
{
	size_t n = 0;

	while (is_name_char(s[n]))
		n++;
	return n;
}

static bool valid_name(const char *s)
{
	return *s && s[name_span(s)] == '\0';
}

static void section_label(const char *kind, const char *name, char *buf,
			  size_t len)
{
	snprintf(buf, len, "[%s%s%s]", kind, name ? " " : "", name ? name : "");
}

static struct conf_section *find_section(const struct sw_conf *conf,
					 const char *kind, const char *name)
{
	size_t i;

	for (i = 0; conf && i < conf->n; i++) {
		struct conf_section *s = &conf->sec[i];

		if (strcmp(s->kind, kind) != 0)
			continue;
		if (!s->name ? !name : (name && strcmp(s->name, name) == 0))
			return s;
	}
	return NULL;
}

/* Reads the regular file at path, at most max bytes, into a new
 * NUL-terminated buffer.  SW_EIO or SW_ETOOBIG with why filled on failure.
 * O_NONBLOCK so that a FIFO named by mistake cannot hang us; buffers are
 * wiped before free because this also reads secrets. */
static enum sw_err slurp(const char *path, size_t max, char **ret_buf,
			 size_t *ret_len, struct stat *ret_st, char *why,
			 size_t whylen)
{
	enum sw_err rc = SW_EIO;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return SW_EIO;
	}
	if (fstat(fd, ret_st) < 0) {
		snprintf(why, whylen, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(ret_st->st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto fail;
	}
	buf = xmalloc(max + 2);
	for (;;) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			snprintf(why, whylen, "larger than %zu bytes", max);
			rc = SW_ETOOBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return SW_OK;
fail:
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	close(fd);
	return rc;
}

/* ---- loading ------------------------------------------------------------ */

/* Records the first error at line (later ones are consequences). */
static enum sw_err __attribute__((format(printf, 3, 4)))
load_err(struct load *st, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (st->err && st->err_line <= line)
		return SW_ECONF;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(st->err);
	st->err = xasprintf("%s:%d: %s", st->conf->file, line, msg);
	st->err_line = line;
	free(msg);
	return SW_ECONF;
}

/* Removes what is not content from line number lineno at *p: a trailing
 * CR, a UTF-8 BOM on line 1, leading blanks. */
static void strip_line(const char **p, size_t *len, int lineno)
{
	if (*len && (*p)[*len - 1] == '\r')
		(*len)--;
	if (lineno == 1 && *len >= 3 && memcmp(*p, "\xef\xbb\xbf", 3) == 0) {
		*p += 3;
		*len -= 3;
	}
	while (*len && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*len)--;
	}
}

/* Finds line lineno (1-based) of the text, stripped. */
static void line_at(const struct load *st, int lineno, const char **ret_p,
		    size_t *ret_len)
{
	const char *p = st->text, *end = st->text + st->len, *eol;
	int i;

	for (i = 1; i < lineno && p < end; i++) {
		eol = memchr(p, '\n', (size_t)(end - p));
		p = eol ? eol + 1 : end;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	*ret_len = (size_t)((eol ? eol : end) - p);
	*ret_p = p;
	strip_line(ret_p, ret_len, lineno);
}

/* Checks one line's bytes; on a control byte records an error. */
static enum sw_err check_bytes(struct load *st, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return load_err(st, st->line,
					"control character 0x%02x in column %zu",
					c, i + 1);
	}
	return SW_OK;
}

/* ini_reader: hands inih one stripped line (or a marker) per call. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct load *st = stream;
	const char *p, *eol;
	size_t len, room;
	char q[QBUF];

	if (st->err || num < 4)
		return NULL;
	if (st->marker_due) {
		st->marker_due = false;
		st->calls++;
		if (st->nmarkers == st->amarkers) {
			st->amarkers = st->amarkers ? 2 * st->amarkers : 16;
			st->markers = xreallocarray(st->markers, st->amarkers,
						    sizeof *st->markers);
		}
		st->markers[st->nmarkers++] = st->calls;
		memcpy(str, MARKER "=\n", sizeof(MARKER "=\n"));
		return str;
	}
	if (st->pos >= st->len)
		return NULL;
	p = st->text + st->pos;
	eol = memchr(p, '\n', st->len - st->pos);
	len = eol ? (size_t)(eol - p) : st->len - st->pos;
	st->pos += len + (eol != NULL);
	st->line++;
	strip_line(&p, &len, st->line);
	if (check_bytes(st, p, len))
		return NULL;
	room = (size_t)num - 2 < SW_CONF_MAX_LINE ? (size_t)num - 2
						  : SW_CONF_MAX_LINE;
	if (len > room) {
		if (*p != ';' && *p != '#') {
			load_err(st, st->line, "line too long (max %zu bytes): '%s'",
				 room, quote(q, p, len));
			return NULL;
		}
		len = room; /* a comment: what is cut is ignored anyway */
	}
	st->raw = p;
	st->rawlen = len;
	st->marker_due = len && *p == '[';
	st->calls++;
	memcpy(str, p, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* Splits "kind" or "kind name" (blanks around and between allowed). */
static bool split_section(const char *s, char **ret_kind, char **ret_name)
{
	size_t k, b, n, end;

	s += strspn(s, " \t");
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	k = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
	b = strspn(s + k, " \t");
	n = name_span(s + k + b);
	if (n && !b) /* "courier.dhl": the kind runs into a name */
		return false;
	end = k + b + n;
	if (s[end + strspn(s + end, " \t")] != '\0')
		return false;
	*ret_kind = xstrndup(s, k);
	*ret_name = n ? xstrndup(s + k + b, n) : NULL;
	return true;
}

/* True if the raw line is "[" section "]" then blanks or a comment, i.e.
 * inih parsed this header and nothing after it was silently dropped. */
static bool header_is(const char *raw, size_t rawlen, const char *section)
{
	size_t n = strlen(section), i;

	if (rawlen < n + 2 || raw[0] != '[' || memcmp(raw + 1, section, n) ||
	    raw[n + 1] != ']')
		return false;
	for (i = n + 2; i < rawlen && (raw[i] == ' ' || raw[i] == '\t'); i++)
		;
	return i == rawlen || raw[i] == ';' || raw[i] == '#';
}

static struct conf_section *add_section(struct sw_conf *conf, char *kind,
					char *name, int line)
{
	struct conf_section *s;

	if (conf->n == conf->alloc) {
		conf->alloc = conf->alloc ? 2 * conf->alloc : 16;
		conf->sec = xreallocarray(conf->sec, conf->alloc, sizeof *s);
	}
	s = &conf->sec[conf->n++];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->name = name;
	s->line = line;
	return s;
}

/* The marker after a "[..." line: validate the header inih parsed. */
static enum sw_err on_header(struct load *st, const char *section)
{
	const char *close = memchr(st->raw, ']', st->rawlen);
	struct conf_section *dup;
	char q[QBUF], *kind, *name;

	quote(q, st->raw, st->rawlen);
	if (!close)
		return load_err(st, st->line,
				"section header without closing ']': '%s'", q);
	if ((size_t)(close - st->raw) - 1 > SW_CONF_MAX_SECTION)
		return load_err(st, st->line,
				"section header too long (max %d bytes): '%s'",
				SW_CONF_MAX_SECTION, q);
	if (!header_is(st->raw, st->rawlen, section))
		return load_err(st, st->line, "bad section header: '%s'", q);
	if (!split_section(section, &kind, &name))
		return load_err(st, st->line,
				"bad section name (want [kind] or [kind name]): '%s'",
				q);
	dup = find_section(st->conf, kind, name);
	if (dup || st->conf->n >= SW_CONF_MAX_SECTIONS) {
		free(kind);
		free(name);
		if (dup)
			return load_err(st, st->line,
					"duplicate section (first on line %d): '%s'",
					dup->line, q);
		return load_err(st, st->line, "too many sections (max %d)",
				SW_CONF_MAX_SECTIONS);
	}
	st->cur = add_section(st->conf, kind, name, st->line);
	return SW_OK;
}

static enum sw_err on_key(struct load *st, const char *key, const char *value)
{
	struct conf_section *s = st->cur;
	struct conf_entry *e;
	char q[QBUF], label[SW_CONF_MAX_SECTION + 8];
	size_t i;

	quote(q, key, strlen(key));
	if (!s)
		return load_err(st, st->line, "key outside any section: '%s'", q);
	if (!value)
		return load_err(st, st->line, "expected 'key = value': '%s'", q);
	if (!valid_name(key))
		return load_err(st, st->line, "bad key name: '%s'", q);
	section_label(s->kind, s->name, label, sizeof label);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->ent[i].key, key) == 0)
			return load_err(st, st->line,
					"duplicate key in %s (first on line %d): '%s'",
					label, s->ent[i].line, q);
	if (s->n >= SW_CONF_MAX_KEYS)
		return load_err(st, st->line, "too many keys in %s (max %d)",
				label, SW_CONF_MAX_KEYS);
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 8;
		s->ent = xreallocarray(s->ent, s->alloc, sizeof *s->ent);
	}
	e = &s->ent[s->n++];
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->line = st->line;
	return SW_OK;
}

/* ini_handler: 1 to go on, 0 on error (the reader then stops). */
static int on_pair(void *user, const char *section, const char *key,
		   const char *value)
{
	struct load *st = user;

	if (st->err)
		return 0;
	if (strcmp(key, MARKER) == 0)
		return on_header(st, section) == SW_OK;
	return on_key(st, key, value) == SW_OK;
}

/* inih returned its first error as a reader-call count: translate it to a
 * real line and, unless we already had an error on or before it, report
 * what inih rejects (a key line without '=' or ':'). */
static void note_inih_error(struct load *st, int r)
{
	const char *p;
	size_t len, i;
	char q[QBUF];
	int line = r;

	if (r < 0) {
		load_err(st, st->line, "INI parser failed (%d)", r);
		return;
	}
	for (i = 0; i < st->nmarkers && st->markers[i] <= r; i++)
		line--;
	if (st->err && st->err_line <= line)
		return;
	line_at(st, line, &p, &len);
	quote(q, p, len);
	if (len && *p == '[')
		load_err(st, line, "bad section header: '%s'", q);
	else
		load_err(st, line, "expected 'key = value': '%s'", q);
}

static enum sw_err load_mem(const char *text, size_t len, const char *name,
			    struct sw_conf **ret_conf, char *errbuf,
			    size_t errlen)
{
	struct load st;
	int r;

	*ret_conf = NULL;
	if (len > SW_CONF_MAX_FILE) {
		put_err(errbuf, errlen, "%s: file too large (max %d bytes)",
			name, SW_CONF_MAX_FILE);
		return SW_ETOOBIG;
	}
	memset(&st, 0, sizeof st);
	st.conf = xcalloc(1, sizeof *st.conf);
	st.conf->file = xstrdup(name);
	st.text = text;
	st.len = len;
	r = ini_parse_stream(conf_reader, &st, on_pair, &st);
	if (r)
		note_inih_error(&st, r);
	free(st.markers);
	if (st.err) {
		put_err(errbuf, errlen, "%s", st.err);
		free(st.err);
		sw_conf_free(st.conf);
		return SW_ECONF;
	}
	*ret_conf = st.conf;
	return SW_OK;
}

enum sw_err sw_conf_load_string(const char *text, const char *name,
				struct sw_conf **ret_conf, char *errbuf,
				size_t errlen)
{
	return load_mem(text, strlen(text), name, ret_conf, errbuf, errlen);
}

enum sw_err sw_conf_load(const char *path, struct sw_conf **ret_conf,
			 char *errbuf, size_t errlen)
{
	char why[WHY_LEN], *text;
	struct stat sb;
	enum sw_err rc;
	size_t len;

	*ret_conf = NULL;
	rc = slurp(path, SW_CONF_MAX_FILE, &text, &len, &sb, why, sizeof why);
	if (rc) {
		put_err(errbuf, errlen, "%s: %s", path, why);
		return rc;
	}
	rc = load_mem(text, len, path, ret_conf, errbuf, errlen);
	free(text);
	return rc;
}

void sw_conf_free(struct sw_conf *conf)
{
	size_t i, j;

	if (!conf)
		return;
	for (i = 0; i < conf->n; i++) {
		struct conf_section *s = &conf->sec[i];

		for (j = 0; j < s->n; j++) {
			free(s->ent[j].key);
			free(s->ent[j].value);
		}
		free(s->ent);
		free(s->kind);
		free(s->name);
	}
	free(conf->sec);
	free(conf->file);
	free(conf);
}

const char *sw_conf_file(const struct sw_conf *conf)
{
	return conf->file;
}

/* ---- sections ----------------------------------------------------------- */

const char *sw_conf_named(const struct sw_conf *conf, const char *kind,
			  size_t idx)
{
	size_t i;

	for (i = 0; conf && i < conf->n; i++)
		if (conf->sec[i].name && strcmp(conf->sec[i].kind, kind) == 0 &&
		    idx-- == 0)
			return conf->sec[i].name;
	return NULL;
}

bool sw_conf_has(const struct sw_conf *conf, const char *kind,
		 const char *name)
{
	return find_section(conf, kind, name) != NULL;
}

void sw_conf_claim(struct sw_conf *conf, const char *kind)
{
	size_t i;

	for (i = 0; conf && i < conf->n; i++)
		if (strcmp(conf->sec[i].kind, kind) == 0)
			conf->sec[i].used = true;
}

enum sw_err sw_conf_unused(const struct sw_conf *conf, size_t idx,
			   const char **ret_kind, const char **ret_name,
			   int *ret_line)
{
	size_t i;

	for (i = 0; conf && i < conf->n; i++) {
		if (conf->sec[i].used || idx-- > 0)
			continue;
		*ret_kind = conf->sec[i].kind;
		*ret_name = conf->sec[i].name;
		*ret_line = conf->sec[i].line;
		return SW_OK;
	}
	return SW_ENOTFOUND;
}

/* ---- where things are --------------------------------------------------- */

int sw_conf_section_line(const struct sw_conf *conf, const char *kind,
			 const char *name)
{
	const struct conf_section *s = find_section(conf, kind, name);

	return s ? s->line : 0;
}

int sw_conf_key_line(const struct sw_conf *conf, const char *kind,
		     const char *name, const char *key)
{
	const struct conf_section *s = find_section(conf, kind, name);
	size_t i, n = key ? strlen(key) : 0;

	for (i = 0; s && key && i < s->n; i++)
		if (strcmp(s->ent[i].key, key) == 0)
			return s->ent[i].line;
	for (i = 0; s && key && i < s->n; i++) /* a secret: NAME_file, NAME_env */
		if (strncmp(s->ent[i].key, key, n) == 0 &&
		    (strcmp(s->ent[i].key + n, "_file") == 0 ||
		     strcmp(s->ent[i].key + n, "_env") == 0))
			return s->ent[i].line;
	return 0;
}

const char *sw_conf_where(const struct sw_conf *conf, const char *kind,
			  const char *name, const char *key, char *buf,
			  size_t len)
{
	int line;

	if (!conf) {
		snprintf(buf, len, "built-in default");
		return buf;
	}
	line = sw_conf_key_line(conf, kind, name, key);
	if (!line)
		line = sw_conf_section_line(conf, kind, name);
	if (line)
		snprintf(buf, len, "%s:%d", conf->file, line);
	else
		snprintf(buf, len, "%s", conf->file);
	return buf;
}

/* Splits "[kind] key: ..." or "[kind name] key: ..." at msg into its
 * parts (copied into kind, name, key; name "" for a plain section).
 * false if msg is not in that form. */
static bool complaint_parts(const char *msg, char *kind, char *name,
			    char *key)
{
	size_t k, n = 0, y;

	if (*msg != '[')
		return false;
	msg++;
	k = name_span(msg);
	if (k == 0 || k > SW_CONF_MAX_SECTION || (msg[k] != ']' && msg[k] != ' '))
		return false;
	if (msg[k] == ' ') {
		n = name_span(msg + k + 1);
		if (n == 0 || n > SW_CONF_MAX_SECTION || msg[k + 1 + n] != ']')
			return false;
	}
	memcpy(kind, msg, k);
	kind[k] = '\0';
	memcpy(name, msg + k + 1, n);
	name[n] = '\0';
	msg += k + (n ? n + 1 : 0) + 1; /* after ']' */
	if (*msg++ != ' ')
		return false;
	y = name_span(msg);
	if (y == 0 || y > SW_CONF_MAX_LINE || msg[y] != ':')
		return false;
	memcpy(key, msg, y);
	key[y] = '\0';
	return true;
}

void sw_conf_locate(const struct sw_conf *conf, char *errbuf, size_t errlen)
{
	char kind[SW_CONF_MAX_SECTION + 1], name[SW_CONF_MAX_SECTION + 1];
	char key[SW_CONF_MAX_LINE + 1], where[WHERE_LEN], *msg;

	if (!conf || !errbuf || !errlen)
		return;
	msg = xstrdup(errbuf);
	if (complaint_parts(msg, kind, name, key))
		sw_conf_where(conf, kind, *name ? name : NULL, key, where,
			      sizeof where);
	else
		snprintf(where, sizeof where, "%s", conf->file);
	put_err(errbuf, errlen, "%s: %s", where, msg);
	free(msg);
}

void sw_conf_set_text_only(struct sw_conf *conf, bool on)
{
	if (conf)
		conf->text_only = on;
}

bool sw_conf_text_only(const struct sw_conf *conf)
{
	return conf && conf->text_only;
}

/* ---- value parsers ------------------------------------------------------ */

struct unit {
	const char *suffix;
	int64_t mult;
};

static const struct unit duration_units[] = {
	{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
	{ "s", 1000 },     { "ms", 1 },      { "", 1000 },
	{ NULL, 0 },
};

static const struct unit size_units[] = {
	{ "T", INT64_C(1) << 40 }, { "G", INT64_C(1) << 30 },
	{ "M", INT64_C(1) << 20 }, { "k", INT64_C(1) << 10 },
	{ "", 1 },                 { NULL, 0 },
};

static const struct {
	const char *word;
	bool value;
} bool_words[] = {
	{ "yes", true }, { "no", false }, { "true", true }, { "false", false },
	{ "on", true },  { "off", false }, { "1", true },   { "0", false },
};

static enum sw_err __attribute__((format(printf, 2, 3)))
bad(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_LEN, fmt, ap);
	va_end(ap);
	return SW_ECONF;
}

/* Formats x with the largest unit of units dividing it exactly. */
static const char *fmt_scaled(int64_t x, const struct unit *units,
			      char *buf, size_t len)
{
	const struct unit *u;

	for (u = units; u->suffix; u++)
		if (x != 0 && *u->suffix && x % u->mult == 0)
			break;
	if (!u->suffix) /* zero, or no unit divides: bare number */
		u = units == duration_units ? &duration_units[4] : &size_units[4];
	if (x == 0 && units == duration_units)
		u = &duration_units[3];
	snprintf(buf, len, "%" PRId64 "%s", x / u->mult, u->suffix);
	return buf;
}

static bool has_bounds(const struct sw_conf_opt *o)
{
	return o->min != 0 || o->max != 0;
}

/* "30s", "64k": digits, optional blank, a unit of units (case-folded for
 * sizes); overflow of int64 is "too large". */
static enum sw_err parse_scaled(const struct sw_conf_opt *o, const char *v,
				const char *q, int64_t *ret, char *why)
{
	bool dur = o->type == SW_CONF_DURATION;
	const struct unit *units = dur ? duration_units : size_units, *u;
	const char *p = v;
	uint64_t n = 0;
	bool over = false;
	char lo[32], hi[32];

	if (!(*p >= '0' && *p <= '9'))
		goto syntax;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			over = true;
		else
			n = n * 10 + (uint64_t)(*p - '0');
	}
	if (*p == ' ')
		p++;
	for (u = units; u->suffix; u++)
		if (dur ? strcmp(p, u->suffix) == 0 : strcasecmp(p, u->suffix) == 0)
			break;
	if (!u->suffix)
		goto syntax;
	if (over || n > (uint64_t)(INT64_MAX / u->mult))
		return bad(why, "'%s' is too large", q);
	*ret = (int64_t)n * u->mult;
	if (has_bounds(o) && (*ret < o->min || *ret > o->max))
		return bad(why, "'%s' is out of range (%s..%s)", q,
			   fmt_scaled(o->min, units, lo, sizeof lo),
			   fmt_scaled(o->max, units, hi, sizeof hi));
	return SW_OK;
syntax:
	if (dur)
		return bad(why, "'%s' is not a duration (use e.g. 250ms, 30s, 5m, 2h, 1d)", q);
	return bad(why, "'%s' is not a size (use e.g. 512, 64k, 10M, 1G)", q);
}

static enum sw_err parse_int(const struct sw_conf_opt *o, const char *v,
			     const char *q, int64_t *ret, char *why)
{
	int64_t lo = has_bounds(o) ? o->min : INT64_MIN;
	int64_t hi = has_bounds(o) ? o->max : INT64_MAX;
	long long x;
	char *end;

	if (!(*v == '-' || *v == '+' || (*v >= '0' && *v <= '9')))
		return bad(why, "'%s' is not an integer", q);
	errno = 0;
	x = strtoll(v, &end, 10);
	if (end == v || *end)
		return bad(why, "'%s' is not an integer", q);
	if (errno == ERANGE || x < lo || x > hi)
		return bad(why, "'%s' is out of range (%" PRId64 "..%" PRId64 ")",
			   q, lo, hi);
	*ret = x;
	return SW_OK;
}

static enum sw_err parse_double(const struct sw_conf_opt *o, const char *v,
				const char *q, double *ret, char *why)
{
	bool bounded = o->dmin != 0 || o->dmax != 0;
	double x;
	char *end;

	if (!*v || *v == ' ' || *v == '\t')
		return bad(why, "'%s' is not a number", q);
	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end || isnan(x))
		return bad(why, "'%s' is not a number", q);
	if (!bounded && (isinf(x) || (errno == ERANGE && fabs(x) > 1.0)))
		return bad(why, "'%s' is out of range", q);
	if (bounded && (isinf(x) || x < o->dmin || x > o->dmax))
		return bad(why, "'%s' is out of range (%g..%g)", q, o->dmin,
			   o->dmax);
	*ret = x;
	return SW_OK;
}

static enum sw_err parse_enum(const struct sw_conf_opt *o, const char *v,
			      const char *q, int *ret, char *why)
{
	char list[WHY_LEN / 2];
	size_t i, len = 0;

	for (i = 0; o->words[i]; i++)
		if (strcasecmp(v, o->words[i]) == 0) {
			*ret = (int)i;
			return SW_OK;
		}
	list[0] = '\0';
	for (i = 0; o->words[i] && len < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
					i ? ", " : "", o->words[i]);
	return bad(why, "'%s' is not one of: %s", q, list);
}

static enum sw_err parse_bool(const char *v, const char *q, bool *ret,
			      char *why)
{
	size_t i;

	for (i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++)
		if (strcasecmp(v, bool_words[i].word) == 0) {
			*ret = bool_words[i].value;
			return SW_OK;
		}
	return bad(why, "'%s' is not a boolean (use yes/no, true/false, on/off or 1/0)", q);
}

/* Parses v by o's type into field; on error why says what is wrong with
 * the (quoted) text.  Not for SECRET rows. */
static enum sw_err set_value(const struct sw_conf_opt *o, const char *v,
			     void *field, char *why)
{
	char q[QBUF];

	quote(q, v, strlen(v));
	switch (o->type) {
	case SW_CONF_BOOL:
		return parse_bool(v, q, field, why);
	case SW_CONF_INT:
		return parse_int(o, v, q, field, why);
	case SW_CONF_DOUBLE:
		return parse_double(o, v, q, field, why);
	case SW_CONF_DURATION:
	case SW_CONF_SIZE:
		return parse_scaled(o, v, q, field, why);
	case SW_CONF_ENUM:
		return parse_enum(o, v, q, field, why);
	case SW_CONF_PATH:
		if (!*v)
			return bad(why, "empty path: ''");
		/* fall through */
	case SW_CONF_STRING:
		*(char **)field = xstrdup(v);
		return SW_OK;
	default:
		return bad(why, "cannot be set this way");
	}
}

/* ---- applying ----------------------------------------------------------- */

struct apply {
	struct sw_conf *conf;
	const struct sw_conf_opt *table;
	void *s;
	char label[SW_CONF_MAX_SECTION + 8];
	int sec_line;  /* header line; 0 when the section is missing */
	int *set_line; /* per row: line that set it, 0 = not yet */
	char *errbuf;
	size_t errlen;
};

/* Reports "WHERE: [label] ..." with WHERE from line: > 0 FILE:LINE,
 * 0 FILE, < 0 "built-in default". */
static enum sw_err __attribute__((format(printf, 3, 4)))
apply_err(struct apply *a, int line, const char *fmt, ...)
{
	char msg[WHY_LEN * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		put_err(a->errbuf, a->errlen, "%s:%d: %s", a->conf->file, line,
			msg);
	else if (line == 0 && a->conf)
		put_err(a->errbuf, a->errlen, "%s: %s", a->conf->file, msg);
	else
		put_err(a->errbuf, a->errlen, "built-in default: %s", msg);
	return SW_ECONF;
}

static void *field_of(const struct sw_conf_opt *o, void *s)
{
	return (char *)s + o->offset;
}

/* 1 if key is the literal name of secret row o, 2 if NAME_file, 3 if
 * NAME_env, else 0. */
static int secret_key(const struct sw_conf_opt *o, const char *key)
{
	size_t n = strlen(o->name);

	if (strncmp(key, o->name, n) != 0)
		return 0;
	if (key[n] == '\0')
		return 1;
	if (strcmp(key + n, "_file") == 0)
		return 2;
	if (strcmp(key + n, "_env") == 0)
		return 3;
	return 0;
}

static bool valid_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")] == '\0';
}

/* A relative NAME_file is relative to the configuration file's directory,
 * not to the working directory (a detached daemon runs in "/", and a reload
 * must find the same file).  Returns a new string. */
static char *secret_path(const struct sw_conf *conf, const char *value)
{
	const char *slash = conf && conf->file ? strrchr(conf->file, '/') : NULL;

	if (value[0] == '/' || slash == NULL)
		return xstrdup(value);
	return xasprintf("%.*s/%s", (int)(slash - conf->file), conf->file, value);
}

/* NAME_file: the file's content minus trailing CR/LF.  Messages name the
 * path, never the content. */
static enum sw_err secret_from_file(struct apply *a, const struct conf_entry *e,
				   struct sw_conf_secret *sec)
{
	char why[WHY_LEN], q[QBUF], *buf, *path;
	struct stat sb;
	size_t len;
	int rc;

	quote(q, e->value, strlen(e->value));
	if (!*e->value)
		return apply_err(a, e->line, "%s %s: empty path: ''", a->label,
				 e->key);
	if (sw_conf_text_only(a->conf)) {
		sec->value = xstrdup(SW_CONF_SECRET_UNREAD);
		sec->source = xasprintf("file %s", e->value);
		return SW_OK;
	}
	path = secret_path(a->conf, e->value);
	rc = slurp(path, SW_CONF_MAX_SECRET, &buf, &len, &sb, why, sizeof why);
	free(path);
	if (rc)
		return apply_err(a, e->line, "%s %s: %s: '%s'", a->label, e->key,
				 why, q);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (!len || memchr(buf, '\0', len)) {
		explicit_bzero(buf, len);
		free(buf);
		return apply_err(a, e->line, "%s %s: %s: '%s'", a->label, e->key,
				 len ? "file contains a NUL byte" : "file is empty",
				 q);
	}
	sec->value = buf;
	sec->source = xasprintf("file %s", e->value);
	sec->world_readable = (sb.st_mode & S_IROTH) != 0;
	return SW_OK;
}

static enum sw_err secret_from_env(struct apply *a, const struct conf_entry *e,
				   struct sw_conf_secret *sec)
{
	const char *v;
	char q[QBUF];

	quote(q, e->value, strlen(e->value));
	if (!valid_env_name(e->value))
		return apply_err(a, e->line,
				 "%s %s: not an environment variable name: '%s'",
				 a->label, e->key, q);
	if (sw_conf_text_only(a->conf)) {
		sec->value = xstrdup(SW_CONF_SECRET_UNREAD);
		sec->source = xasprintf("environment variable %s", e->value);
		return SW_OK;
	}
	v = getenv(e->value);
	if (!v || !*v)
		return apply_err(a, e->line,
				 "%s %s: environment variable is %s: '%s'",
				 a->label, e->key, v ? "empty" : "not set", q);
	sec->value = xstrdup(v);
	sec->source = xasprintf("environment variable %s", e->value);
	return SW_OK;
}

static enum sw_err apply_secret(struct apply *a, size_t row,
				const struct conf_entry *e, int how)
{
	const struct sw_conf_opt *o = &a->table[row];

	if (how == 1)
		return apply_err(a, e->line,
				 "%s %s: secrets are not written in the file; use %s_file or %s_env",
				 a->label, o->name, o->name, o->name);
	if (a->set_line[row])
		return apply_err(a, e->line, "%s %s: %s is already set on line %d",
				 a->label, e->key, o->name, a->set_line[row]);
	a->set_line[row] = e->line;
	if (how == 2)
		return secret_from_file(a, e, field_of(o, a->s));
	return secret_from_env(a, e, field_of(o, a->s));
}

/* One key of the section: find its row and set the field. */
static enum sw_err apply_entry(struct apply *a, const struct conf_entry *e)
{
	char why[WHY_LEN], q[QBUF];
	size_t i;
	int how;

	for (i = 0; a->table[i].name; i++) {
		const struct sw_conf_opt *o = &a->table[i];

		if (o->type == SW_CONF_SECRET) {
			how = secret_key(o, e->key);
			if (how)
				return apply_secret(a, i, e, how);
			continue;
		}
		if (strcmp(o->name, e->key) != 0)
			continue;
		if (set_value(o, e->value, field_of(o, a->s), why))
			return apply_err(a, e->line, "%s %s: %s", a->label,
					 o->name, why);
		a->set_line[i] = e->line;
		return SW_OK;
	}
	return apply_err(a, e->line, "unknown key '%s' in %s",
			 quote(q, e->key, strlen(e->key)), a->label);
}

/* Zero value of a row without default (strings are already NULL). */
static void zero_field(const struct sw_conf_opt *o, void *field)
{
	switch (o->type) {
	case SW_CONF_BOOL:
		*(bool *)field = false;
		break;
	case SW_CONF_INT:
	case SW_CONF_DURATION:
	case SW_CONF_SIZE:
		*(int64_t *)field = 0;
		break;
	case SW_CONF_DOUBLE:
		*(double *)field = 0;
		break;
	case SW_CONF_ENUM:
		*(int *)field = 0;
		break;
	default:
		break;
	}
}

/* Rows the section did not set: default, zero, or "required". */
static enum sw_err apply_defaults(struct apply *a)
{
	char why[WHY_LEN];
	size_t i;

	for (i = 0; a->table[i].name; i++) {
		const struct sw_conf_opt *o = &a->table[i];

		if (a->set_line[i])
			continue;
		if (o->def && o->type != SW_CONF_SECRET) {
			if (set_value(o, o->def, field_of(o, a->s), why))
				return apply_err(a, -1, "%s %s: %s", a->label,
						 o->name, why);
		} else if (o->flags & SW_CONF_REQUIRED && o->type == SW_CONF_SECRET) {
			return apply_err(a, a->sec_line,
					 "%s %s: required but not set (use %s_file or %s_env)",
					 a->label, o->name, o->name, o->name);
		} else if (o->flags & SW_CONF_REQUIRED) {
			return apply_err(a, a->sec_line, "%s %s: required but not set",
					 a->label, o->name);
		} else {
			zero_field(o, field_of(o, a->s));
		}
	}
	return SW_OK;
}

enum sw_err sw_conf_apply(struct sw_conf *conf, const char *kind,
			  const char *name, const struct sw_conf_opt *table,
			  void *s, char *errbuf, size_t errlen)
{
	struct conf_section *sec = find_section(conf, kind, name);
	struct apply a;
	enum sw_err rc = SW_OK;
	size_t i, n;

	sw_conf_free_struct(table, s);
	for (n = 0; table[n].name; n++)
		;
	memset(&a, 0, sizeof a);
	a.conf = conf;
	a.table = table;
	a.s = s;
	a.errbuf = errbuf;
	a.errlen = errlen;
	a.set_line = xcalloc(n + 1, sizeof *a.set_line);
	section_label(kind, name, a.label, sizeof a.label);
	if (sec) {
		sec->used = true;
		a.sec_line = sec->line;
		for (i = 0; i < sec->n && !rc; i++)
			rc = apply_entry(&a, &sec->ent[i]);
	}
	if (!rc)
		rc = apply_defaults(&a);
	free(a.set_line);
	if (rc)
		sw_conf_free_struct(table, s);
	return rc;
}

void sw_conf_free_struct(const struct sw_conf_opt *table, void *s)
{
	const struct sw_conf_opt *o;

	for (o = table; o->name; o++) {
		void *f = field_of(o, s);

		if (o->type == SW_CONF_STRING || o->type == SW_CONF_PATH) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (o->type == SW_CONF_SECRET) {
			struct sw_conf_secret *sec = f;

			if (sec->value)
				explicit_bzero(sec->value, strlen(sec->value));
			free(sec->value);
			free(sec->source);
			memset(sec, 0, sizeof *sec);
		}
	}
}

/* ---- dump and table check ----------------------------------------------- */

static enum sw_err dump_row(const struct sw_conf_opt *o, const void *f,
			    struct sw_buf *out)
{
	char v[48];
	size_t i;
	int e;

	switch (o->type) {
	case SW_CONF_BOOL:
		return sw_buf_printf(out, "%s = %s\n", o->name,
				     *(const bool *)f ? "yes" : "no");
	case SW_CONF_INT:
		return sw_buf_printf(out, "%s = %" PRId64 "\n", o->name,
				     *(const int64_t *)f);
	case SW_CONF_DOUBLE:
		return sw_buf_printf(out, "%s = %.15g\n", o->name,
				     *(const double *)f);
	case SW_CONF_DURATION:
	case SW_CONF_SIZE:
		fmt_scaled(*(const int64_t *)f,
			   o->type == SW_CONF_SIZE ? size_units : duration_units,
			   v, sizeof v);
		return sw_buf_printf(out, "%s = %s\n", o->name, v);
	case SW_CONF_ENUM:
		e = *(const int *)f;
		for (i = 0; o->words[i] && (int)i != e; i++)
			;
		return sw_buf_printf(out, "%s = %s\n", o->name,
				     o->words[i] ? o->words[i] : "?");
	case SW_CONF_STRING:
	case SW_CONF_PATH:
		if (!*(char *const *)f)
			return sw_buf_printf(out, "; %s is not set\n", o->name);
		return sw_conf_dump_kv(out, o->name, *(char *const *)f);
	case SW_CONF_SECRET:
		if (!((const struct sw_conf_secret *)f)->source)
			return sw_buf_printf(out, "; %s is not set\n", o->name);
		return sw_buf_printf(out, "%s = (secret from %s)\n", o->name,
				     ((const struct sw_conf_secret *)f)->source);
	default:
		return SW_OK;
	}
}

enum sw_err sw_conf_dump_kv(struct sw_buf *out, const char *key, const char *value)
{
	bool tight = value[0] == ';' || strlen(key) + strlen(value) + 3 > SW_CONF_MAX_LINE;

	return sw_buf_printf(out, tight ? "%s=%s\n" : "%s = %s\n", key, value);
}

enum sw_err sw_conf_dump(const char *kind, const char *name,
			 const struct sw_conf_opt *table, const void *s,
			 struct sw_buf *out)
{
	char label[SW_CONF_MAX_SECTION + 8];
	const struct sw_conf_opt *o;

	section_label(kind, name, label, sizeof label);
	if (sw_buf_printf(out, "%s\n", label))
		return SW_ETOOBIG;
	for (o = table; o->name; o++)
		if (dump_row(o, (const char *)s + o->offset, out))
			return SW_ETOOBIG;
	return SW_OK;
}

/* True if row o answers to key (a secret answers to three). */
static bool row_claims(const struct sw_conf_opt *o, const char *key)
{
	if (o->type == SW_CONF_SECRET)
		return secret_key(o, key) != 0;
	return strcmp(o->name, key) == 0;
}

/* Problems of row o itself (not its relation to other rows), or NULL. */
static const char *row_problem(const struct sw_conf_opt *o, char *why)
{
	union {
		bool b;
		int64_t i;
		double d;
		char *s;
		int e;
	} scratch;

	if (!valid_name(o->name))
		return "bad name";
	if ((unsigned)o->type >= SW_CONF_TYPE_LAST)
		return "bad type";
	if (o->min > o->max || o->dmin > o->dmax)
		return "min > max";
	if (o->type == SW_CONF_ENUM && (!o->words || !o->words[0]))
		return "enum without words";
	if (o->type == SW_CONF_SECRET && o->def)
		return "secret with a default";
	if (!o->def || o->type == SW_CONF_SECRET)
		return NULL;
	memset(&scratch, 0, sizeof scratch);
	if (set_value(o, o->def, &scratch, why))
		return why;
	if (o->type == SW_CONF_STRING || o->type == SW_CONF_PATH)
		free(scratch.s);
	return NULL;
}

enum sw_err sw_conf_table_check(const struct sw_conf_opt *table, char *errbuf,
				size_t errlen)
{
	char why[WHY_LEN], k[3][WHY_LEN];
	const char *problem;
	size_t i, j, m;

	for (i = 0; table[i].name; i++) {
		const struct sw_conf_opt *o = &table[i];

		problem = row_problem(o, why);
		if (problem) {
			put_err(errbuf, errlen, "row %zu '%s': %s", i, o->name,
				problem);
			return SW_EINVAL;
		}
		snprintf(k[0], WHY_LEN, "%s", o->name);
		snprintf(k[1], WHY_LEN, "%s_file", o->name);
		snprintf(k[2], WHY_LEN, "%s_env", o->name);
		for (j = 0; j < i; j++)
			for (m = 0; m < (o->type == SW_CONF_SECRET ? 3u : 1u); m++)
				if (row_claims(&table[j], k[m])) {
					put_err(errbuf, errlen,
						"row %zu '%s': key '%s' also used by row %zu",
						i, o->name, k[m], j);
					return SW_EINVAL;
				}
	}
	return SW_OK;
}

const char *sw_conf_type_name(enum sw_conf_type type)
{
	static const char *const names[SW_CONF_TYPE_LAST] = {
		"bool", "int",  "double", "string", "path",
		"duration", "size", "enum", "secret",
	};

	if ((unsigned)type >= SW_CONF_TYPE_LAST)
		return "?";
	return names[type];
}
