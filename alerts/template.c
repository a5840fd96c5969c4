/*
 * template.c - customer email templates (see template.h for the format).
 *
 * Each part of a file (subject, text, HTML) is compiled at load into a flat
 * list of ops: literal spans of the part's source, placeholders, and
 * section opens whose jump index points past the matching close, so
 * rendering is one loop with no parsing and no recursion.  All validation
 * (names, nesting, UTF-8, layout) happens at load, so a bad template fails
 * at start or reload, never while mailing.  Escaping is applied to values
 * only, by part; the subject is then sanitised as a whole.  A list
 * ({{*parcels}}) compiles to an open op jumping past its end and an end op
 * jumping back to its open, so repeating it per item is the same loop.
 *
 * Dates and numbers go through ICU, but zone rules never do: an instant
 * becomes local wall-clock fields through lib/swtime (the system tzdata,
 * which Debian's tzdata package keeps current on its own, while the zone
 * data built into libicu ages with the library), and ICU formats those
 * fields in a UTC calendar, where no zone rule can apply.  One
 * implementation of zone rules in slipwatch, one tzdata.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <unicode/ucal.h>
#include <unicode/udat.h>
#include <unicode/uloc.h>
#include <unicode/unum.h>
#include <unicode/ustring.h>

#include "alerts/template.h"
#include "lib/buf.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define HTML_MARKER "=== html ==="
#define SW_STR_(x) #x
#define SW_STR(x) SW_STR_(x)
#define TMPL_SUFFIX ".tmpl"

enum op_type { OP_LIT, OP_VAR, OP_IF, OP_IFNOT, OP_END, OP_LIST, OP_LIST_END };

struct op {
	enum op_type type;
	int var;      /* all but OP_LIT: enum var */
	size_t start; /* OP_LIT: offset in the part's source */
	size_t len;   /* OP_LIT: length */
	size_t jump;  /* OP_IF, OP_IFNOT, OP_LIST: index of the matching end;
			 OP_LIST_END: index of its OP_LIST */
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
	char *summary;      /* the Summary line, NULL if none */
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

#define KIND_NAME(id, name, ...) [SW_TPL_##id] = name,
static const char *const kind_names[SW_TPL_KIND_LAST] = {
	SW_SLIP_KINDS(KIND_NAME) SW_FOLLOWUP_KINDS(KIND_NAME) SW_SHARED_KINDS(KIND_NAME)
};
#undef KIND_NAME

/* Template names: values of the email, values of a list item, the list. */
enum var {
	V_CUSTOMER_NAME, V_ORDER_ID, V_TRACKING_NUMBER, V_COURIER, V_TRACKING_LINK,
	V_PROMISED_DATE, V_NEW_DATE, V_SHOP_NAME, V_UNSUBSCRIBE_LINK, V_DELIVERY_DATE,
	V_SHIP_BY_DATE, V_PARCEL_COUNT, V_FOLLOWUP, V_OTHERS,
	V_STAGE_WAREHOUSE, V_STAGE_FIRST_MILE, V_STAGE_LINE_HAUL, V_STAGE_LAST_MILE, V_STAGE_UNKNOWN,
	V_P_COURIER, V_P_TRACKING_NUMBER, V_P_TRACKING_LINK, V_P_ISSUE, V_P_NEW_DATE,
	V_PARCELS,
	N_VARS
};

enum var_scope { SCOPE_EMAIL, SCOPE_ITEM, SCOPE_LIST };

#define E(field) SCOPE_EMAIL, offsetof(struct sw_tpl_values, field)
#define I(field) SCOPE_ITEM, offsetof(struct sw_tpl_item, field)
static const struct {
	const char *name;
	enum var_scope scope;
	size_t off; /* of the value in struct sw_tpl_values or sw_tpl_item */
} vars[N_VARS] = {
	[V_CUSTOMER_NAME] = { "customer_name", E(customer_name) },
	[V_ORDER_ID] = { "order_id", E(order_id) },
	[V_TRACKING_NUMBER] = { "tracking_number", E(tracking_number) },
	[V_COURIER] = { "courier", E(courier) },
	[V_TRACKING_LINK] = { "tracking_link", E(tracking_link) },
	[V_PROMISED_DATE] = { "promised_date", E(delivery_date) }, /* alias, see var_value */
	[V_NEW_DATE] = { "new_date", E(new_date) },
	[V_SHOP_NAME] = { "shop_name", E(shop_name) },
	[V_UNSUBSCRIBE_LINK] = { "unsubscribe_link", E(unsubscribe_link) },
	[V_DELIVERY_DATE] = { "delivery_date", E(delivery_date) },
	[V_SHIP_BY_DATE] = { "ship_by_date", E(ship_by_date) },
	[V_PARCEL_COUNT] = { "parcel_count", E(parcel_count) },
	[V_FOLLOWUP] = { "followup", E(followup) },
	[V_OTHERS] = { "others", E(others) },
	[V_STAGE_WAREHOUSE] = { "stage_warehouse", E(stage_warehouse) },
	[V_STAGE_FIRST_MILE] = { "stage_first_mile", E(stage_first_mile) },
	[V_STAGE_LINE_HAUL] = { "stage_line_haul", E(stage_line_haul) },
	[V_STAGE_LAST_MILE] = { "stage_last_mile", E(stage_last_mile) },
	[V_STAGE_UNKNOWN] = { "stage_unknown", E(stage_unknown) },
	[V_P_COURIER] = { "p_courier", I(courier) },
	[V_P_TRACKING_NUMBER] = { "p_tracking_number", I(tracking_number) },
	[V_P_TRACKING_LINK] = { "p_tracking_link", I(tracking_link) },
	[V_P_ISSUE] = { "p_issue", I(issue) },
	[V_P_NEW_DATE] = { "p_new_date", I(new_date) },
	[V_PARCELS] = { "parcels", SCOPE_LIST, 0 },
};
#undef E
#undef I

/* The value of var; it is the current list item (NULL outside a list,
 * where the compiler allows no item names). */
static const char *var_value(const struct sw_tpl_values *v, const struct sw_tpl_item *it,
			     int var)
{
	const char *base = vars[var].scope == SCOPE_EMAIL  ? (const char *)v
			   : vars[var].scope == SCOPE_ITEM ? (const char *)it
							   : NULL;

	if (var == V_DELIVERY_DATE || var == V_PROMISED_DATE) /* promised_date: deprecated */
		return v->delivery_date ? v->delivery_date : v->promised_date;
	return base ? *(const char *const *)(base + vars[var].off) : NULL;
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
	size_t stack[SW_TPL_MAX_DEPTH]; /* open sections and lists: op index */
	size_t depth;
	bool in_list;      /* a {{*parcels}} is open */
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
		if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
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

/* Checks that the tag at off ({{ + sigil + name of var, tag_len bytes
 * between the braces) may stand where it is: item names only inside a
 * list, the list name only as a list, lists not in lists. */
static enum sw_err check_scope(const struct compiler *c, size_t off, char sigil, int var,
			       int tag_len)
{
	const char *why = NULL;

	if (sigil == '*' && vars[var].scope != SCOPE_LIST)
		why = "is not a list (the list is {{*parcels}})";
	else if (sigil == '*' && c->in_list)
		why = "inside a list: lists do not nest";
	else if (vars[var].scope == SCOPE_LIST && sigil != '*' && sigil != '/')
		why = "is a list: open it with {{*parcels}}";
	else if (vars[var].scope == SCOPE_ITEM && !c->in_list)
		why = "outside a {{*parcels}} list";
	if (why == NULL)
		return SW_OK;
	set_err(c->errbuf, c->errlen, "%s:%d: {{%.*s}} %s", c->path, line_at(c, off), tag_len,
		c->part->src + off + 2, why);
	return SW_EPARSE;
}

/* Opens a section ('#', '^') or list ('*') at op index n_ops. */
static enum sw_err open_tag(struct compiler *c, size_t tag, char sigil, int var)
{
	if (c->depth == SW_TPL_MAX_DEPTH) {
		set_err(c->errbuf, c->errlen, "%s:%d: sections nested too deep", c->path,
			line_at(c, tag));
		return SW_EPARSE;
	}
	c->stack[c->depth++] = c->part->n_ops;
	add_op(c->part, sigil == '#' ? OP_IF : sigil == '^' ? OP_IFNOT : OP_LIST)->var = var;
	if (sigil == '*')
		c->in_list = true;
	return SW_OK;
}

/* Closes the innermost open section or list, which must be var's. */
static enum sw_err close_tag(struct compiler *c, size_t tag, int var)
{
	struct part *p = c->part;
	size_t at;

	if (c->depth == 0 || p->ops[c->stack[c->depth - 1]].var != var) {
		set_err(c->errbuf, c->errlen, "%s:%d: {{/%s}} closes no open section", c->path,
			line_at(c, tag), vars[var].name);
		return SW_EPARSE;
	}
	at = c->stack[--c->depth];
	p->ops[at].jump = p->n_ops;
	if (p->ops[at].type == OP_LIST) {
		struct op *end = add_op(p, OP_LIST_END);

		end->var = var;
		end->jump = at;
		c->in_list = false;
	} else {
		add_op(p, OP_END)->var = var;
	}
	return SW_OK;
}

/* Compiles c->part->src into ops.  SW_OK or SW_EPARSE. */
static enum sw_err compile_part(struct compiler *c)
{
	const char *s = c->part->src;
	size_t lit = 0, i = 0;
	enum sw_err rc;

	c->depth = 0;
	c->in_list = false;
	while (s[i] != '\0') {
		const char *close;
		size_t tag = i, end, name_at;
		char sigil;
		int var, tag_len;

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
		tag_len = (int)(end - i - 4 > 64 ? 64 : end - i - 4);
		sigil = s[i + 2] == '#' || s[i + 2] == '^' || s[i + 2] == '/' || s[i + 2] == '*'
				? s[i + 2] : '\0';
		name_at = i + 2 + (sigil != '\0');
		var = find_var(s + name_at, (size_t)(close - s) - name_at);
		if (var < 0) {
			set_err(c->errbuf, c->errlen, "%s:%d: unknown placeholder {{%.*s}}", c->path,
				line_at(c, i), tag_len, s + i + 2);
			return SW_EPARSE;
		}
		if ((rc = check_scope(c, i, sigil, var, tag_len)))
			return rc;
		if (sigil != '\0')
			standalone(s, lit, &tag, &end);
		add_lit(c->part, lit, tag);
		lit = i = end;
		if (sigil == '/')
			rc = close_tag(c, tag, var);
		else if (sigil != '\0')
			rc = open_tag(c, tag, sigil, var);
		else
			add_op(c->part, OP_VAR)->var = var;
		if (rc)
			return rc;
	}
	add_lit(c->part, lit, i);
	if (c->depth > 0) {
		const struct op *open = &c->part->ops[c->stack[c->depth - 1]];

		set_err(c->errbuf, c->errlen, "%s:%d: section {{%c%s}} not closed", c->path,
			line_at(c, i),
			open->type == OP_IF ? '#' : open->type == OP_IFNOT ? '^' : '*',
			vars[open->var].name);
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
	free(t->summary);
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

/* Reads the optional "Summary:" line at p (line number line) into
 * t->summary and points *eol at its end; leaves both alone if p is not a
 * Summary line. */
static enum sw_err parse_summary(struct sw_tpl *t, const char *p, int line, const char **eol,
				 char *errbuf, size_t errlen)
{
	const char *sum = p + 8, *e;
	size_t n;

	if (strncasecmp(p, "Summary:", 8) != 0)
		return SW_OK;
	while (*sum == ' ' || *sum == '\t')
		sum++;
	e = strchr(sum, '\n');
	n = e ? (size_t)(e - sum) : strlen(sum);
	while (n > 0 && (sum[n - 1] == ' ' || sum[n - 1] == '\t'))
		n--;
	if (n == 0 || n > SW_TPL_SUMMARY_MAX) {
		set_err(errbuf, errlen, "%s:%d: %s summary", t->path, line,
			n ? "over " SW_STR(SW_TPL_SUMMARY_MAX) " bytes of" : "empty");
		return SW_EPARSE;
	}
	if (memmem(sum, n, "{{", 2) != NULL) {
		set_err(errbuf, errlen, "%s:%d: the Summary line is plain text (no {{...}})",
			t->path, line);
		return SW_EPARSE;
	}
	t->summary = xstrndup(sum, n);
	*eol = e;
	return SW_OK;
}

/* Splits the file text into parts (see template.h) and compiles them. */
static enum sw_err parse_tmpl(struct sw_tpl *t, const char *s, char *errbuf, size_t errlen)
{
	const char *p = s, *eol, *subj, *text, *mark;
	int line = 1, subj_line, text_line, html_line;
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
	subj_line = line;
	subj = p + 8;
	while (*subj == ' ' || *subj == '\t')
		subj++;
	eol = strchr(subj, '\n');
	if (eol != NULL && eol != subj) {
		t->parts[PART_SUBJECT].src = xstrndup(subj, (size_t)(eol - subj));
		if ((rc = parse_summary(t, eol + 1, line + 1, &eol, errbuf, errlen)))
			return rc;
		line += t->summary != NULL;
	}
	if (eol == NULL || eol == subj || eol[1] != '\n') {
		set_err(errbuf, errlen, "%s:%d: %s", t->path, line,
			eol == subj ? "empty subject"
			: t->summary ? "the Summary line must be followed by one empty line"
				     : "the Subject line must be followed by one empty line");
		return SW_EPARSE;
	}
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
		c.line0 = i == PART_SUBJECT ? subj_line : i == PART_TEXT ? text_line : html_line;
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

const char *sw_tpl_summary(const struct sw_tpl *tpl)
{
	return tpl->summary ? tpl->summary : "";
}

/* Length of the language subtag of a normalised tag. */
static size_t lang_len(const char *tag)
{
	return strcspn(tag, "-");
}

const char *sw_tpl_format_locale(const struct sw_tpl *tpl, const char *customer_locale,
				 char *buf, size_t len)
{
	char cust[SW_TPL_LOCALE_MAX + 1];
	const char *own;

	if (tpl == NULL || buf == NULL || len < SW_TPL_LOCALE_MAX + 1)
		return "en";
	own = strcmp(tpl->locale, "default") == 0 ? "en" : tpl->locale;
	if (customer_locale != NULL &&
	    sw_tpl_locale_normalize(customer_locale, cust, sizeof(cust)) == SW_OK &&
	    lang_len(cust) == lang_len(own) && memcmp(cust, own, lang_len(own)) == 0)
		own = cust;
	memcpy(buf, own, strlen(own) + 1); /* both at most SW_TPL_LOCALE_MAX */
	return buf;
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

/* Runs the ops of one part.  A list repeats its body per item: its end op
 * jumps back to the open op while items remain. */
static enum sw_err render_part(const struct sw_tpl *t, enum part_id id,
			       const struct sw_tpl_values *v, struct sw_buf *b, char *errbuf,
			       size_t errlen)
{
	const struct part *p = &t->parts[id];
	const struct sw_tpl_item *it = NULL;
	size_t item = 0;
	enum sw_err rc = SW_OK;

	for (size_t i = 0; rc == SW_OK && i < p->n_ops; i++) {
		const struct op *op = &p->ops[i];
		const char *val = op->type == OP_LIT ? NULL : var_value(v, it, op->var);

		switch (op->type) {
		case OP_LIT:
			rc = sw_buf_add(b, p->src + op->start, op->len);
			break;
		case OP_VAR:
			if (val == NULL) {
				set_err(errbuf, errlen, "%s: no value for {{%s}}%s", t->path,
					vars[op->var].name, it ? " of a list item" : "");
				return SW_EINVAL;
			}
			rc = add_value(b, val, id);
			break;
		case OP_IF:
		case OP_IFNOT:
			if (is_set(val) != (op->type == OP_IF))
				i = op->jump;
			break;
		case OP_LIST:
			item = 0;
			it = v->n_items ? &v->items[0] : NULL;
			if (it == NULL)
				i = op->jump;
			break;
		case OP_LIST_END:
			it = ++item < v->n_items ? &v->items[item] : NULL;
			if (it != NULL)
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
	if (!is_set(url))
		return true;
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Checks every link value and the item array before anything renders. */
static enum sw_err check_values(const struct sw_tpl *tpl, const struct sw_tpl_values *v,
				char *errbuf, size_t errlen)
{
	const char *bad = !link_ok(v->tracking_link) ? "{{tracking_link}}"
			  : !link_ok(v->unsubscribe_link) ? "{{unsubscribe_link}}" : NULL;

	if (v->n_items > 0 && v->items == NULL) {
		set_err(errbuf, errlen, "%s: %zu list items but no item array", tpl->path,
			v->n_items);
		return SW_EINVAL;
	}
	for (size_t i = 0; bad == NULL && i < v->n_items; i++)
		if (!link_ok(v->items[i].tracking_link))
			bad = "{{p_tracking_link}} of a list item";
	if (bad == NULL)
		return SW_OK;
	set_err(errbuf, errlen, "%s: %s is not an http(s) URL", tpl->path, bad);
	return SW_EINVAL;
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
	if ((rc = check_values(tpl, v, errbuf, errlen)))
		return rc;
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
 * Dates and numbers (ICU).
 */

static const UChar utc_id[] = { 'U', 'T', 'C', 0 };

/* ICU's earliest date: a Gregorian change there makes the calendar
 * proleptic Gregorian, as sw_date is (years 1..1582 included). */
#define PROLEPTIC_GREGORIAN (-184303902528000000.0)

/* true if ICU has locale data for language (else it would silently use
 * the process's default locale). */
static bool icu_knows(const char *lang)
{
	size_t n = strlen(lang);

	for (int32_t i = 0, count = uloc_countAvailable(); i < count; i++) {
		const char *id = uloc_getAvailable(i);

		if (strncmp(id, lang, n) == 0 && (id[n] == '\0' || id[n] == '_'))
			return true;
	}
	return false;
}

/* The ICU locale ID for a BCP 47 tag ("hi-in" -> "hi_IN",
 * "hi-in-u-nu-latn" -> "hi_IN@numbers=latn"); "en" for NULL, "default",
 * malformed tags and languages ICU has no data for. */
static void icu_locale(const char *locale, char *id, size_t len)
{
	char tag[SW_TPL_LOCALE_MAX + 1], lang[ULOC_LANG_CAPACITY];
	UErrorCode st = U_ZERO_ERROR;

	if (locale != NULL && strcmp(locale, "default") != 0 &&
	    sw_tpl_locale_normalize(locale, tag, sizeof(tag)) == SW_OK) {
		int32_t n = uloc_forLanguageTag(tag, id, (int32_t)len, NULL, &st);

		if (U_SUCCESS(st) && st != U_STRING_NOT_TERMINATED_WARNING && n > 0) {
			uloc_getLanguage(id, lang, (int32_t)sizeof(lang), &st);
			if (U_SUCCESS(st) && st != U_STRING_NOT_TERMINATED_WARNING && icu_knows(lang))
				return;
		}
	}
	snprintf(id, len, "en");
}

/* Converts ICU's output (n UChars, status st of the call that made it)
 * into UTF-8 in buf. */
static enum sw_err to_utf8(const UChar *u, int32_t n, UErrorCode st, char *buf, size_t len)
{
	int32_t cap = len > INT32_MAX ? INT32_MAX : (int32_t)len, n8 = 0;
	enum sw_err rc = SW_OK;

	if (st == U_BUFFER_OVERFLOW_ERROR || st == U_STRING_NOT_TERMINATED_WARNING)
		rc = SW_ETOOBIG;
	else if (U_FAILURE(st))
		rc = SW_EINVAL;
	if (rc == SW_OK) {
		u_strToUTF8(buf, cap, &n8, u, n, &st);
		if (st == U_BUFFER_OVERFLOW_ERROR || st == U_STRING_NOT_TERMINATED_WARNING)
			rc = SW_ETOOBIG;
		else if (U_FAILURE(st))
			rc = SW_EINVAL;
	}
	if (rc && len > 0)
		buf[0] = '\0';
	return rc;
}

/* Formats wall-clock fields (a proleptic Gregorian date, and a time if
 * with_time) in locale: the fields are set in a UTC calendar and formatted
 * by a UTC formatter, so no zone rule of ICU's applies. */
static enum sw_err format_fields(const struct sw_date *d, bool with_time, int hour, int min,
				 int sec, const char *locale, char *buf, size_t len)
{
	UChar out[SW_TPL_DATE_STRLEN];
	char id[ULOC_FULLNAME_CAPACITY];
	UErrorCode st = U_ZERO_ERROR;
	UDateFormat *df = NULL;
	UCalendar *cal;
	int32_t n = 0;

	icu_locale(locale, id, sizeof(id));
	cal = ucal_open(utc_id, -1, "en", UCAL_GREGORIAN, &st);
	if (U_SUCCESS(st)) {
		ucal_setGregorianChange(cal, PROLEPTIC_GREGORIAN, &st);
		ucal_clear(cal);
		ucal_setDateTime(cal, d->year, d->month - 1 + UCAL_JANUARY, d->day, hour, min,
				 sec, &st);
		df = udat_open(with_time ? UDAT_SHORT : UDAT_NONE, UDAT_FULL, id, utc_id, -1, NULL,
			       0, &st);
		/* a formatter of another calendar (th: Buddhist) converts the
		 * instant the Gregorian fields make */
		n = udat_formatCalendar(df, cal, out, SW_TPL_DATE_STRLEN, NULL, &st);
	}
	udat_close(df);
	ucal_close(cal);
	return to_utf8(out, n, st, buf, len);
}

enum sw_err sw_tpl_format_date(const struct sw_date *date, const char *locale, char *buf,
			       size_t len)
{
	if (date == NULL || buf == NULL)
		return SW_EINVAL;
	if (!sw_date_valid(date)) {
		if (len > 0)
			buf[0] = '\0';
		return SW_ERANGE;
	}
	return format_fields(date, false, 12, 0, 0, locale, buf, len);
}

enum sw_err sw_tpl_format_instant(int64_t utc_sec, const char *zone, const char *locale,
				  char *buf, size_t len)
{
	struct sw_tz_local loc;
	enum sw_err rc;

	if (zone == NULL || buf == NULL)
		return SW_EINVAL;
	/* the zone's rules: swtime's, from the system tzdata (see the top) */
	rc = sw_tz_utc_to_local(zone, utc_sec, &loc);
	if (rc) {
		if (len > 0)
			buf[0] = '\0';
		return rc;
	}
	return format_fields(&loc.date, true, loc.hour, loc.min, loc.sec, locale, buf, len);
}

enum sw_err sw_tpl_format_number(int64_t v, const char *locale, char *buf, size_t len)
{
	UChar out[SW_TPL_DATE_STRLEN];
	char id[ULOC_FULLNAME_CAPACITY];
	UErrorCode st = U_ZERO_ERROR;
	UNumberFormat *nf;
	int32_t n = 0;

	if (buf == NULL)
		return SW_EINVAL;
	icu_locale(locale, id, sizeof(id));
	nf = unum_open(UNUM_DECIMAL, NULL, 0, id, NULL, &st);
	n = unum_formatInt64(nf, v, out, SW_TPL_DATE_STRLEN, NULL, &st);
	unum_close(nf);
	return to_utf8(out, n, st, buf, len);
}
