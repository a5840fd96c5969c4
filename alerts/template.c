/*
 * template.c - customer email templates (see template.h for the format).
 *
 * Each part of a file (subject, text, HTML) is compiled at load into a flat
 * list of ops: literal spans of the part's source, placeholders, and
 * section opens whose jump index points past the matching close, so
 * rendering is one loop with no parsing and no recursion.  All validation
 * (names, nesting, UTF-8, layout) happens at load, so a bad template fails
 * at start or reload, never while mailing.  Escaping is applied to values
 * only, by part; the subject is then sanitised as a whole.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "alerts/template.h"
#include "lib/buf.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define HTML_MARKER "=== html ==="
#define TMPL_SUFFIX ".tmpl"

enum op_type { OP_LIT, OP_VAR, OP_IF, OP_IFNOT, OP_END };

struct op {
	enum op_type type;
	int var;      /* OP_VAR, OP_IF, OP_IFNOT, OP_END: value index */
	size_t start; /* OP_LIT: offset in the part's source */
	size_t len;   /* OP_LIT: length */
	size_t jump;  /* OP_IF, OP_IFNOT: index of the matching OP_END */
};

struct part {
	char *src;    /* the part's text, owned */
	struct op *ops;
	size_t n_ops;
};

enum part_id { PART_SUBJECT, PART_TEXT, PART_HTML, PART_LAST };

struct sw_tpl {
	char *path;
	const char *locale; /* the owning locale's name */
	struct part parts[PART_LAST];
};

struct locale_set {
	char *name; /* "default" or a normalised tag */
	struct sw_tpl *tpl[SW_TPL_KIND_LAST]; /* NULL: fall back */
};

struct sw_tpl_set {
	struct locale_set *locales;
	size_t n_locales;
};

static const char *const kind_names[SW_TPL_KIND_LAST] = {
	"ship_late", "no_first_scan", "stalled", "attempt_fail",
	"exception", "returning",     "eta_slip", "late",
	"available_for_pickup",
};

enum { V_TRACKING_LINK = 4, V_UNSUBSCRIBE_LINK = 8, N_VARS = 9 }; /* var_names[] */
static const char *const var_names[N_VARS] = {
	"customer_name", "order_id",      "tracking_number",
	"courier",       "tracking_link", "promised_date",
	"new_date",      "shop_name",     "unsubscribe_link",
};

static const char *var_value(const struct sw_tpl_values *v, int var)
{
	const char *const vals[N_VARS] = {
		v->customer_name, v->order_id,      v->tracking_number,
		v->courier,       v->tracking_link, v->promised_date,
		v->new_date,      v->shop_name,     v->unsubscribe_link,
	};

	return vals[var];
}

static bool var_is_link(int var)
{
	return var == V_TRACKING_LINK || var == V_UNSUBSCRIBE_LINK;
}

static void __attribute__((format(printf, 3, 4)))
set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

const char *sw_tpl_kind_name(enum sw_tpl_kind kind)
{
	if ((unsigned)kind >= SW_TPL_KIND_LAST)
		return "?";
	return kind_names[kind];
}

enum sw_err sw_tpl_kind_from_name(const char *name, enum sw_tpl_kind *ret_kind)
{
	if (name == NULL || ret_kind == NULL)
		return SW_ENOTFOUND;
	for (int k = 0; k < SW_TPL_KIND_LAST; k++)
		if (strcmp(name, kind_names[k]) == 0) {
			*ret_kind = (enum sw_tpl_kind)k;
			return SW_OK;
		}
	return SW_ENOTFOUND;
}

/*
 * UTF-8.
 */


/* Length of the Unicode line break or C1 NEL at s (U+0085, U+2028,
 * U+2029), else 0.  s must be valid UTF-8. */
static size_t unicode_break_len(const unsigned char *s)
{
	if (s[0] == 0xc2 && s[1] == 0x85)
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	return 0;
}

/*
 * Locales.
 */

static bool all_alpha(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static bool all_alnum(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

enum sw_err sw_tpl_locale_normalize(const char *locale, char *buf, size_t len)
{
	size_t n, i = 0;
	bool first = true;

	if (locale == NULL || buf == NULL)
		return SW_EINVAL;
	n = strnlen(locale, SW_TPL_LOCALE_MAX + 1);
	if (n == 0 || n > SW_TPL_LOCALE_MAX)
		return SW_EINVAL;
	while (i <= n) {
		size_t j = i;

		while (j < n && locale[j] != '-' && locale[j] != '_')
			j++;
		if (first ? !((j - i >= 2 && j - i <= 3) || (j - i >= 5 && j - i <= 8)) ||
				    !all_alpha(locale + i, j - i)
			  : j - i < 1 || j - i > 8 || !all_alnum(locale + i, j - i))
			return SW_EINVAL;
		first = false;
		i = j + 1;
	}
	if (len < n + 1) {
		if (len > 0)
			buf[0] = '\0';
		return SW_ETOOBIG;
	}
	for (i = 0; i < n; i++) {
		char c = locale[i];

		buf[i] = c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
	return SW_OK;
}

/*
 * Compiling one part.
 */

struct compiler {
	const char *path;
	int line0;         /* file line of the part's first byte */
	struct part *part;
	char *errbuf;
	size_t errlen;
};

static int line_at(const struct compiler *c, size_t off)
{
	int line = c->line0;

	for (size_t i = 0; i < off; i++)
		if (c->part->src[i] == '\n')
			line++;
	return line;
}

static struct op *add_op(struct part *p, enum op_type type)
{
	struct op *op;

	p->ops = xreallocarray(p->ops, p->n_ops + 1, sizeof(*p->ops));
	op = &p->ops[p->n_ops++];
	memset(op, 0, sizeof(*op));
	op->type = type;
	return op;
}

static void add_lit(struct part *p, size_t start, size_t end)
{
	struct op *op;

	if (end <= start)
		return;
	op = add_op(p, OP_LIT);
	op->start = start;
	op->len = end - start;
}

static int find_var(const char *name, size_t n)
{
	for (int i = 0; i < N_VARS; i++)
		if (strlen(var_names[i]) == n && memcmp(var_names[i], name, n) == 0)
			return i;
	return -1;
}

/* If the section tag [tag, tag_end) stands alone on its line, widens it to
 * the whole line (with its LF) and returns true. */
static bool standalone(const char *s, size_t lit_start, size_t *tag, size_t *tag_end)
{
	size_t a = *tag, b = *tag_end;

	while (a > lit_start && (s[a - 1] == ' ' || s[a - 1] == '\t'))
		a--;
	if (a > 0 && s[a - 1] != '\n')
		return false; /* text or another tag before it on the line */
	while (s[b] == ' ' || s[b] == '\t')
		b++;
	if (s[b] != '\n' && s[b] != '\0')
		return false;
	*tag = a;
	*tag_end = s[b] == '\n' ? b + 1 : b;
	return true;
}

/* Compiles c->part->src into ops.  SW_OK or SW_EPARSE. */
static enum sw_err compile_part(struct compiler *c)
{
	const char *s = c->part->src;
	size_t stack[SW_TPL_MAX_DEPTH], depth = 0, lit = 0, i = 0;

	while (s[i] != '\0') {
		const char *close;
		size_t tag = i, end, name_at, name_len;
		char sigil;
		int var;

		if (s[i] != '{' || s[i + 1] != '{') {
			i++;
			continue;
		}
		close = strstr(s + i + 2, "}}");
		if (close == NULL || memchr(s + i, '\n', (size_t)(close - (s + i))) != NULL) {
			set_err(c->errbuf, c->errlen, "%s:%d: unclosed {{", c->path, line_at(c, i));
			return SW_EPARSE;
		}
		end = (size_t)(close - s) + 2;
		sigil = s[i + 2];
		name_at = i + 2 + (sigil == '#' || sigil == '^' || sigil == '/');
		name_len = (size_t)(close - s) - name_at;
		var = find_var(s + name_at, name_len);
		if (var < 0) {
			set_err(c->errbuf, c->errlen, "%s:%d: unknown placeholder {{%.*s}}", c->path,
				line_at(c, i), (int)(end - i - 4 > 64 ? 64 : end - i - 4), s + i + 2);
			return SW_EPARSE;
		}
		if (sigil == '#' || sigil == '^' || sigil == '/')
			standalone(s, lit, &tag, &end);
		add_lit(c->part, lit, tag);
		lit = i = end;
		if (sigil == '#' || sigil == '^') {
			if (depth == SW_TPL_MAX_DEPTH) {
				set_err(c->errbuf, c->errlen, "%s:%d: sections nested too deep",
					c->path, line_at(c, tag));
				return SW_EPARSE;
			}
			stack[depth++] = c->part->n_ops;
			add_op(c->part, sigil == '#' ? OP_IF : OP_IFNOT)->var = var;
		} else if (sigil == '/') {
			if (depth == 0 || c->part->ops[stack[depth - 1]].var != var) {
				set_err(c->errbuf, c->errlen, "%s:%d: {{/%s}} closes no open section",
					c->path, line_at(c, tag), var_names[var]);
				return SW_EPARSE;
			}
			c->part->ops[stack[--depth]].jump = c->part->n_ops;
			add_op(c->part, OP_END)->var = var;
		} else {
			add_op(c->part, OP_VAR)->var = var;
		}
	}
	add_lit(c->part, lit, i);
	if (depth > 0) {
		struct op *open = &c->part->ops[stack[depth - 1]];

		set_err(c->errbuf, c->errlen, "%s:%d: section {{%c%s}} not closed", c->path,
			line_at(c, i), open->type == OP_IF ? '#' : '^', var_names[open->var]);
		return SW_EPARSE;
	}
	return SW_OK;
}

/*
 * Loading one file.
 */

static void free_tpl(struct sw_tpl *t)
{
	if (t == NULL)
		return;
	for (int p = 0; p < PART_LAST; p++) {
		free(t->parts[p].src);
		free(t->parts[p].ops);
	}
	free(t->path);
	free(t);
}

/* Reads path into a NUL-terminated string with CR LF turned into LF.
 * Rejects NUL bytes, invalid UTF-8 and files over SW_TPL_FILE_MAX. */
static enum sw_err read_tmpl(const char *path, char **ret, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *data, *out;
	size_t n, o = 0;

	if (f == NULL) {
		set_err(errbuf, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? SW_ENOTFOUND : SW_EIO;
	}
	data = xmalloc(SW_TPL_FILE_MAX + 2);
	n = fread(data, 1, SW_TPL_FILE_MAX + 1, f);
	if (ferror(f) || n > SW_TPL_FILE_MAX) {
		bool big = !ferror(f);

		fclose(f);
		free(data);
		set_err(errbuf, errlen, "%s: %s", path,
			big ? "larger than " "the template size limit" : "read error");
		return big ? SW_ETOOBIG : SW_EIO;
	}
	fclose(f);
	out = xmalloc(n + 1);
	for (size_t i = 0; i < n;) {
		size_t l = sw_utf8_decode((unsigned char *)data + i, n - i, NULL);

		if (l == 0 || data[i] == '\0') {
			set_err(errbuf, errlen, "%s: NUL byte or invalid UTF-8 at byte %zu", path, i);
			free(data);
			free(out);
			return SW_EPARSE;
		}
		if (data[i] == '\r' && i + 1 < n && data[i + 1] == '\n')
			; /* CR LF: keep the LF only */
		else if (data[i] == '\r')
			out[o++] = '\n';
		else
			memcpy(out + o, data + i, l), o += l;
		i += l;
	}
	out[o] = '\0';
	free(data);
	*ret = out;
	return SW_OK;
}

/* Splits the file text into parts (see template.h) and compiles them. */
static enum sw_err parse_tmpl(struct sw_tpl *t, const char *s, char *errbuf, size_t errlen)
{
	const char *p = s, *eol, *subj, *text, *mark;
	int line = 1, text_line, html_line;
	struct compiler c = { .path = t->path, .errbuf = errbuf, .errlen = errlen };
	enum sw_err rc;

	while (*p == '#') {
		eol = strchr(p, '\n');
		p = eol ? eol + 1 : p + strlen(p);
		line++;
	}
	if (strncasecmp(p, "Subject:", 8) != 0) {
		set_err(errbuf, errlen, "%s:%d: expected \"Subject:\"", t->path, line);
		return SW_EPARSE;
	}
	subj = p + 8;
	while (*subj == ' ' || *subj == '\t')
		subj++;
	eol = strchr(subj, '\n');
	if (eol == NULL || eol == subj || eol[1] != '\n') {
		set_err(errbuf, errlen, "%s:%d: %s", t->path, line,
			eol == subj ? "empty subject"
				    : "the Subject line must be followed by one empty line");
		return SW_EPARSE;
	}
	t->parts[PART_SUBJECT].src = xstrndup(subj, (size_t)(eol - subj));
	text = eol + 2;
	text_line = line + 2;
	for (mark = text;; mark++) {
		if (strncmp(mark, HTML_MARKER, strlen(HTML_MARKER)) == 0 &&
		    (mark[strlen(HTML_MARKER)] == '\n' || mark[strlen(HTML_MARKER)] == '\0'))
			break;
		mark = strchr(mark, '\n');
		if (mark == NULL) {
			set_err(errbuf, errlen, "%s: no \"" HTML_MARKER "\" line", t->path);
			return SW_EPARSE;
		}
	}
	t->parts[PART_TEXT].src = xstrndup(text, (size_t)(mark - text));
	html_line = text_line + 1;
	for (const char *q = text; q < mark; q++)
		html_line += *q == '\n';
	mark += strlen(HTML_MARKER);
	t->parts[PART_HTML].src = xstrdup(*mark == '\n' ? mark + 1 : mark);
	for (int i = 0; i < PART_LAST; i++) {
		c.part = &t->parts[i];
		c.line0 = i == PART_SUBJECT ? line : i == PART_TEXT ? text_line : html_line;
		rc = compile_part(&c);
		if (rc)
			return rc;
	}
	return SW_OK;
}

/* Loads one template file.  SW_ENOTFOUND if it does not exist. */
static enum sw_err load_tmpl(const char *path, const char *locale, struct sw_tpl **ret,
			     char *errbuf, size_t errlen)
{
	struct sw_tpl *t;
	char *text;
	enum sw_err rc;

	rc = read_tmpl(path, &text, errbuf, errlen);
	if (rc)
		return rc;
	t = xcalloc(1, sizeof(*t));
	t->path = xstrdup(path);
	t->locale = locale;
	rc = parse_tmpl(t, text, errbuf, errlen);
	free(text);
	if (rc) {
		free_tpl(t);
		return rc;
	}
	*ret = t;
	return SW_OK;
}

/*
 * Loading a directory.
 */

/* Checks that every *.tmpl file in the locale directory names a kind. */
static enum sw_err check_names(const char *ldir, char *errbuf, size_t errlen)
{
	DIR *d = opendir(ldir);
	struct dirent *de;
	enum sw_err rc = SW_OK;

	if (d == NULL) {
		set_err(errbuf, errlen, "%s: %s", ldir, strerror(errno));
		return SW_EIO;
	}
	while (rc == SW_OK && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), sl = strlen(TMPL_SUFFIX);
		enum sw_tpl_kind k;
		char *base;

		if (de->d_name[0] == '.' || n <= sl || strcmp(de->d_name + n - sl, TMPL_SUFFIX))
			continue;
		base = xstrndup(de->d_name, n - sl);
		if (sw_tpl_kind_from_name(base, &k) != SW_OK) {
			set_err(errbuf, errlen, "%s/%s: not a slip kind", ldir, de->d_name);
			rc = SW_EPARSE;
		}
		free(base);
	}
	closedir(d);
	return rc;
}

static enum sw_err load_locale(const char *dir, struct locale_set *ls, char *errbuf,
			       size_t errlen)
{
	char *ldir = xasprintf("%s/%s", dir, ls->name);
	bool is_default = strcmp(ls->name, "default") == 0;
	enum sw_err rc = check_names(ldir, errbuf, errlen);

	for (int k = 0; rc == SW_OK && k < SW_TPL_KIND_LAST; k++) {
		char *path = xasprintf("%s/%s" TMPL_SUFFIX, ldir, kind_names[k]);

		rc = load_tmpl(path, ls->name, &ls->tpl[k], errbuf, errlen);
		if (rc == SW_ENOTFOUND && !is_default)
			rc = SW_OK;
		free(path);
	}
	free(ldir);
	return rc;
}

/* Adds the sub-directory name to set, after checking the name. */
static enum sw_err add_locale(struct sw_tpl_set *set, const char *dir, const char *name,
			      char *errbuf, size_t errlen)
{
	char norm[SW_TPL_LOCALE_MAX + 1];
	struct locale_set *ls;

	if (strcmp(name, "default") != 0 &&
	    (sw_tpl_locale_normalize(name, norm, sizeof(norm)) != SW_OK || strcmp(norm, name))) {
		set_err(errbuf, errlen, "%s/%s: not \"default\" or a lower-case locale tag", dir,
			name);
		return SW_EPARSE;
	}
	if (set->n_locales == SW_TPL_MAX_LOCALES) {
		set_err(errbuf, errlen, "%s: more than %d locales", dir, SW_TPL_MAX_LOCALES);
		return SW_ETOOBIG;
	}
	set->locales = xreallocarray(set->locales, set->n_locales + 1, sizeof(*set->locales));
	ls = &set->locales[set->n_locales++];
	memset(ls, 0, sizeof(*ls));
	ls->name = xstrdup(name);
	return load_locale(dir, ls, errbuf, errlen);
}

static const struct locale_set *find_locale(const struct sw_tpl_set *set, const char *name)
{
	for (size_t i = 0; i < set->n_locales; i++)
		if (strcmp(set->locales[i].name, name) == 0)
			return &set->locales[i];
	return NULL;
}

enum sw_err sw_tpl_load(const char *dir, struct sw_tpl_set **ret_set, char *errbuf,
			size_t errlen)
{
	struct sw_tpl_set *set;
	struct dirent *de;
	enum sw_err rc = SW_OK;
	DIR *d;

	if (dir == NULL || ret_set == NULL) {
		set_err(errbuf, errlen, "NULL argument");
		return SW_EINVAL;
	}
	d = opendir(dir);
	if (d == NULL) {
		set_err(errbuf, errlen, "%s: %s", dir, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? SW_ENOTFOUND : SW_EIO;
	}
	set = xcalloc(1, sizeof(*set));
	while (rc == SW_OK && (de = readdir(d)) != NULL) {
		char *sub;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rc = add_locale(set, dir, de->d_name, errbuf, errlen);
		free(sub);
	}
	closedir(d);
	if (rc == SW_OK && find_locale(set, "default") == NULL) {
		set_err(errbuf, errlen, "%s/default: missing", dir);
		rc = SW_ENOTFOUND;
	}
	if (rc) {
		sw_tpl_free(set);
		return rc;
	}
	*ret_set = set;
	return SW_OK;
}

void sw_tpl_free(struct sw_tpl_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n_locales; i++) {
		for (int k = 0; k < SW_TPL_KIND_LAST; k++)
			free_tpl(set->locales[i].tpl[k]);
		free(set->locales[i].name);
	}
	free(set->locales);
	free(set);
}

/*
 * Picking.
 */

const struct sw_tpl *sw_tpl_pick(const struct sw_tpl_set *set, enum sw_tpl_kind kind,
				 const char *locale)
{
	char tag[SW_TPL_LOCALE_MAX + 1];
	const struct locale_set *ls;

	if (set == NULL || (unsigned)kind >= SW_TPL_KIND_LAST)
		return NULL;
	if (locale != NULL && sw_tpl_locale_normalize(locale, tag, sizeof(tag)) == SW_OK) {
		for (;;) {
			char *dash;

			ls = find_locale(set, tag);
			if (ls != NULL && ls->tpl[kind] != NULL)
				return ls->tpl[kind];
			dash = strrchr(tag, '-');
			if (dash == NULL)
				break;
			*dash = '\0';
		}
	}
	ls = find_locale(set, "default");
	return ls ? ls->tpl[kind] : NULL;
}

const char *sw_tpl_locale(const struct sw_tpl *tpl)
{
	return tpl->locale;
}

const char *sw_tpl_path(const struct sw_tpl *tpl)
{
	return tpl->path;
}

/*
 * Rendering.
 */

/* Appends value with escaping for part; invalid UTF-8 becomes U+FFFD. */
static enum sw_err add_value(struct sw_buf *b, const char *val, enum part_id part)
{
	const unsigned char *s = (const unsigned char *)val;
	enum sw_err rc = SW_OK;

	for (size_t i = 0, n = strlen(val); rc == SW_OK && i < n;) {
		size_t l = sw_utf8_decode(s + i, n - i, NULL);
		const char *rep = NULL;

		if (l == 0)
			rep = "\xef\xbf\xbd", l = 1;
		else if (s[i] == '\r')
			rep = "\n", l = s[i + 1] == '\n' ? 2 : 1;
		else if (part == PART_HTML && strchr("&<>\"'", s[i]))
			rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
			    : s[i] == '"' ? "&quot;" : "&#39;";
		rc = rep ? sw_buf_adds(b, rep) : sw_buf_add(b, s + i, l);
		i += l;
	}
	return rc;
}

static bool is_set(const char *v)
{
	return v != NULL && v[0] != '\0';
}

static enum sw_err render_part(const struct sw_tpl *t, enum part_id id,
			       const struct sw_tpl_values *v, struct sw_buf *b, char *errbuf,
			       size_t errlen)
{
	const struct part *p = &t->parts[id];
	enum sw_err rc = SW_OK;

	for (size_t i = 0; rc == SW_OK && i < p->n_ops; i++) {
		const struct op *op = &p->ops[i];
		const char *val = op->type == OP_LIT ? NULL : var_value(v, op->var);

		switch (op->type) {
		case OP_LIT:
			rc = sw_buf_add(b, p->src + op->start, op->len);
			break;
		case OP_VAR:
			if (val == NULL) {
				set_err(errbuf, errlen, "%s: no value for {{%s}}", t->path,
					var_names[op->var]);
				return SW_EINVAL;
			}
			rc = add_value(b, val, id);
			break;
		case OP_IF:
		case OP_IFNOT:
			if (is_set(val) != (op->type == OP_IF))
				i = op->jump;
			break;
		case OP_END:
			break;
		}
	}
	if (rc)
		set_err(errbuf, errlen, "%s: rendered email too big", t->path);
	return rc;
}

/* Turns the rendered subject into one clean line, in place. */
static void clean_subject(char *s)
{
	unsigned char *u = (unsigned char *)s;
	size_t o = 0, n = strlen(s), last_ok = 0;

	for (size_t i = 0; i < n;) {
		size_t l = sw_utf8_decode(u + i, n - i, NULL), brk = l ? unicode_break_len(u + i) : 0;
		bool space = u[i] < 0x20 || u[i] == 0x7f || u[i] == ' ' || brk;

		/* the renderer only writes valid UTF-8, but be safe */
		l = brk ? brk : l ? l : 1;
		if (space) {
			if (o > 0 && s[o - 1] != ' ' && o < SW_TPL_SUBJECT_MAX)
				s[o++] = ' ';
		} else if (o + l <= SW_TPL_SUBJECT_MAX) {
			memmove(s + o, s + i, l);
			o += l;
			last_ok = o;
		} else {
			break;
		}
		i += l;
	}
	if (o > last_ok)
		o = last_ok; /* drop a trailing space */
	s[o] = '\0';
}

static bool link_ok(const char *url)
{
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

enum sw_err sw_tpl_render(const struct sw_tpl *tpl, const struct sw_tpl_values *v,
			  struct sw_tpl_msg *ret_msg, char *errbuf, size_t errlen)
{
	struct sw_buf b[PART_LAST];
	enum sw_err rc = SW_OK;

	if (ret_msg != NULL)
		memset(ret_msg, 0, sizeof(*ret_msg));
	if (tpl == NULL || v == NULL || ret_msg == NULL) {
		set_err(errbuf, errlen, "NULL argument");
		return SW_EINVAL;
	}
	for (int i = 0; i < N_VARS; i++)
		if (var_is_link(i) && is_set(var_value(v, i)) && !link_ok(var_value(v, i))) {
			set_err(errbuf, errlen, "%s: {{%s}} is not an http(s) URL", tpl->path,
				var_names[i]);
			return SW_EINVAL;
		}
	for (int i = 0; i < PART_LAST; i++)
		sw_buf_init(&b[i], SW_TPL_BODY_MAX);
	for (int i = 0; rc == SW_OK && i < PART_LAST; i++)
		rc = render_part(tpl, (enum part_id)i, v, &b[i], errbuf, errlen);
	if (rc) {
		for (int i = 0; i < PART_LAST; i++)
			sw_buf_free(&b[i]);
		return rc;
	}
	ret_msg->subject = sw_buf_steal(&b[PART_SUBJECT], NULL);
	clean_subject(ret_msg->subject);
	ret_msg->text = sw_buf_steal(&b[PART_TEXT], NULL);
	ret_msg->html = sw_buf_steal(&b[PART_HTML], NULL);
	return SW_OK;
}

void sw_tpl_msg_free(struct sw_tpl_msg *msg)
{
	if (msg == NULL)
		return;
	free(msg->subject);
	free(msg->text);
	free(msg->html);
	memset(msg, 0, sizeof(*msg));
}

/*
 * Dates.
 */

static const char *const en_wday[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const en_mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const hi_wday[7] = {
	"रविवार", "सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार",
};
static const char *const hi_mon[12] = {
	"जनवरी", "फ़रवरी", "मार्च",   "अप्रैल",  "मई",     "जून",
	"जुलाई",  "अगस्त",  "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर",
};

static bool locale_is_hindi(const char *locale)
{
	return locale != NULL && (locale[0] == 'h' || locale[0] == 'H') &&
	       (locale[1] == 'i' || locale[1] == 'I') &&
	       (locale[2] == '\0' || locale[2] == '-' || locale[2] == '_');
}

static enum sw_err format_day(const struct sw_date *d, int wday, const char *locale, char *buf,
			      size_t len)
{
	bool hi = locale_is_hindi(locale);
	int n;

	n = snprintf(buf, len, "%s, %d %s %04d", hi ? hi_wday[wday] : en_wday[wday], d->day,
		     hi ? hi_mon[d->month - 1] : en_mon[d->month - 1], d->year);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return SW_ETOOBIG;
	}
	return SW_OK;
}

enum sw_err sw_tpl_format_date(const struct sw_date *date, const char *locale, char *buf,
			       size_t len)
{
	int64_t days;

	if (date == NULL || buf == NULL)
		return SW_EINVAL;
	if (!sw_date_valid(date)) {
		if (len > 0)
			buf[0] = '\0';
		return SW_ERANGE;
	}
	days = sw_date_to_days(date);
	/* 1970-01-01 was a Thursday (4) */
	return format_day(date, (int)(((days % 7) + 7 + 4) % 7), locale, buf, len);
}

enum sw_err sw_tpl_format_instant(int64_t utc_sec, const char *zone, const char *locale,
				  char *buf, size_t len)
{
	struct sw_tz_local loc;
	enum sw_err rc;

	if (zone == NULL || buf == NULL)
		return SW_EINVAL;
	rc = sw_tz_utc_to_local(zone, utc_sec, &loc);
	if (rc) {
		if (len > 0)
			buf[0] = '\0';
		return rc;
	}
	return format_day(&loc.date, loc.wday, locale, buf, len);
}
