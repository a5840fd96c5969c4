/*
 * db_pg_sql.c - the store's SQL, written in SQLite's dialect, rewritten for
 * PostgreSQL when the driver prepares it (see db_pg.h for the rules).
 *
 * One pass over the text, token by token: quoted strings, quoted names and
 * comments are copied as they are; parameters are numbered; a few words
 * are replaced.  Only the forms the store's SQL uses are rewritten: this
 * is no general SQLite-to-PostgreSQL translator, and test_db_pg_sql.c
 * holds the cases.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/db_pg.h"
#include "lib/xmalloc.h"

#define SQL_MAX	   ((size_t)1 << 20)
#define PARAMS_MAX 256
#define DEPTH_MAX  64

struct tr {
	const char *start; /* the input */
	const char *p;     /* next input character */
	struct sw_buf out;
	char *names[PARAMS_MAX];
	int nparams;
	int positional;		      /* last number a bare ? took */
	const char *append[DEPTH_MAX]; /* text to add before the ) closing depth i */
	int depth;
	const char *pending; /* append[] of the next ( */
	/* An upsert's DO UPDATE: PostgreSQL has both the row and "excluded" in
	 * scope there, so a bare column is ambiguous: it gets the table's name
	 * (the SET targets and function names excepted). */
	char table[64];	   /* INSERT INTO's table */
	int qualify;	   /* in DO UPDATE SET ... */
	int qual_depth;	   /* its parenthesis depth */
	int assign_next;   /* the next word is a SET target */
	int subquery_depth; /* in a SELECT inside it: nothing qualified */
	char prev_word[64]; /* the last two words, lower case (cut short) */
	char prev2_word[64];
	char *err;
	size_t errlen;
};

static int fail(struct tr *t, const char *what)
{
	snprintf(t->err, t->errlen, "%s", what);
	return -1;
}

static int is_word_start(int c)
{
	return isalpha(c) || c == '_';
}

static int is_word(int c)
{
	return isalnum(c) || c == '_';
}

static const char *skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* The length of the word at p (0 if none). */
static size_t word_len(const char *p)
{
	size_t n = 0;

	if (!is_word_start((unsigned char)*p))
		return 0;
	while (is_word((unsigned char)p[n]))
		n++;
	return n;
}

static int word_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

/* Copies a quoted run starting at t->p (the quote q), doubled quotes
 * included. */
static int copy_quoted(struct tr *t, char q)
{
	const char *s = t->p;

	for (t->p++;; t->p++) {
		if (*t->p == '\0')
			return fail(t, "unterminated quote");
		if (*t->p == q) {
			if (t->p[1] == q) {
				t->p++;
				continue;
			}
			break;
		}
	}
	t->p++;
	sw_buf_add(&t->out, s, (size_t)(t->p - s));
	return 0;
}

/* A dollar-quoted string ($$...$$, $tag$...$tag$) at t->p, if one is
 * there: copied whole; 1 if copied, 0 if t->p is no dollar quote. */
static int copy_dollar(struct tr *t)
{
	const char *s = t->p, *e;
	size_t n = 1 + word_len(s + 1), tag;

	if (s[n] != '$')
		return 0;
	tag = n + 1;
	for (e = s + tag; (e = strchr(e, '$')); e++)
		if (strncmp(e, s, tag) == 0)
			break;
	if (!e)
		return fail(t, "unterminated dollar quote");
	t->p = e + tag;
	sw_buf_add(&t->out, s, (size_t)(t->p - s));
	return 1;
}

static int copy_comment(struct tr *t)
{
	const char *s = t->p;
	const char *e = t->p[0] == '-' ? strchr(s, '\n') : strstr(s + 2, "*/");

	if (e == NULL && t->p[0] == '/')
		return fail(t, "unterminated comment");
	if (strncmp(s, "/*pg:", 5) == 0) { /* PostgreSQL's alone: its text */
		sw_buf_add(&t->out, s + 5, (size_t)(e - s - 5));
		t->p = e + 2;
		return 0;
	}
	t->p = e ? e + (t->p[0] == '-' ? 0 : 2) : s + strlen(s);
	sw_buf_add(&t->out, s, (size_t)(t->p - s));
	return 0;
}

/* The number of the parameter called name (n characters), new or not. */
static int param_number(struct tr *t, const char *name, size_t n)
{
	int i;

	for (i = 0; i < t->nparams; i++)
		if (t->names[i] && strlen(t->names[i]) == n && strncmp(t->names[i], name, n) == 0)
			return i + 1;
	if (t->nparams >= PARAMS_MAX)
		return -1;
	t->names[t->nparams] = xstrndup(name, n);
	return ++t->nparams;
}

static int param(struct tr *t)
{
	const char *s = t->p;
	int num;

	if (*s == '?') {
		t->p++;
		if (isdigit((unsigned char)*t->p)) {
			num = (int)strtol(t->p, (char **)&t->p, 10);
			if (num < 1 || num > PARAMS_MAX)
				return fail(t, "parameter number out of range");
		} else {
			num = ++t->positional;
		}
		if (num > PARAMS_MAX)
			return fail(t, "too many parameters");
		while (t->nparams < num)
			t->names[t->nparams++] = NULL;
	} else {
		t->p += 1 + word_len(s + 1);
		if ((num = param_number(t, s, (size_t)(t->p - s))) < 0)
			return fail(t, "too many parameters");
	}
	return sw_buf_printf(&t->out, "$%d", num) == SW_OK ? 0 : fail(t, "statement too long");
}

/* The number of top-level arguments of the parenthesised list at p
 * (which points at its "("); -1 if unbalanced. */
static int count_args(const char *p)
{
	int depth = 0, args = 1;

	for (; *p; p++) {
		if (*p == '\'' || *p == '"') {
			char q = *p;

			while (*++p && *p != q)
				;
			if (!*p)
				return -1;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth == 0)
				return args;
		} else if (*p == ',' && depth == 1) {
			args++;
		}
	}
	return -1;
}

/* A function name followed by "(": the name PostgreSQL knows it by. */
static const char *function_name(struct tr *t, const char *w, size_t n, const char *open)
{
	int args;

	static const char *const renames[][2] = {
	    {"instr", "strpos"},
	    {"ifnull", "coalesce"},
	    /* SQLite's own, as SQL functions of the PostgreSQL schema
	     * (lib/store_pg.c) */
	    {"json_each", "sw_json_each"},
	    {"json_extract", "sw_json_extract"},
	    {"json_valid", "sw_json_valid"},
	    {"date", "sw_date"},
	    {"random", "sw_random"},
	};

	for (size_t i = 0; i < sizeof(renames) / sizeof(renames[0]); i++)
		if (word_is(w, n, renames[i][0]))
			return renames[i][1];
	if (!word_is(w, n, "max") && !word_is(w, n, "min") && !word_is(w, n, "group_concat"))
		return NULL;
	args = count_args(open);
	if (word_is(w, n, "group_concat")) {
		/* string_agg needs its separator; SQLite's default is "," */
		if (args == 1)
			t->pending = ", ','";
		return "string_agg";
	}
	if (args < 2)
		return NULL; /* the aggregate */
	return tolower((unsigned char)w[1]) == 'a' ? "greatest" : "least";
}

/* "IS [NOT] x" where x is no NULL, TRUE, FALSE or DISTINCT: SQLite's
 * null-safe comparison.  p is after "IS". */
static int is_compare(struct tr *t, const char *p)
{
	const char *q = skip_ws(p);
	size_t n = word_len(q);
	int not = word_is(q, n, "not");

	if (not) {
		q = skip_ws(q + n);
		n = word_len(q);
	}
	if (word_is(q, n, "null") || word_is(q, n, "true") || word_is(q, n, "false") ||
	    word_is(q, n, "distinct"))
		return 0;
	sw_buf_adds(&t->out, not ? "IS DISTINCT FROM " : "IS NOT DISTINCT FROM ");
	t->p = q;
	return 1;
}

/* After "CROSS" (at p): whether "JOIN x ... ON" follows before the join's
 * end, which PostgreSQL's CROSS JOIN does not take. */
static int cross_join_on(const char *p)
{
	int depth = 0;
	size_t n;

	p = skip_ws(p);
	if (!word_is(p, word_len(p), "join"))
		return 0;
	for (p += 4; *p; p += n ? n : 1) {
		n = word_len(p);
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			return 0;
		else if (*p == '\'' || *p == ';')
			return 0;
		if (depth == 0 && n) {
			if (word_is(p, n, "on"))
				return 1;
			if (word_is(p, n, "join") || word_is(p, n, "where") ||
			    word_is(p, n, "group") || word_is(p, n, "order") ||
			    word_is(p, n, "limit") || word_is(p, n, "union"))
				return 0;
		}
		if (n == 0 && (isalnum((unsigned char)*p) || *p == '_'))
			while (is_word((unsigned char)p[1]))
				p++;
	}
	return 0;
}

static const char *const sql_words[] = {
    "case", "when", "then", "else", "end", "and", "or", "not", "null", "is", "in", "like",
    "between", "exists", "distinct", "from", "true", "false", "where", "set", "as", "cast",
    "collate", "excluded", "returning", "select", "integer", "text", "real", NULL,
};

/* Whether the word w (n characters, open: what follows) is a bare column
 * of an upsert's DO UPDATE; tracks where such a clause starts and ends. */
static int qualify_word(struct tr *t, const char *w, size_t n, const char *open)
{
	const char *before = t->out.len ? t->out.data + t->out.len - 1 : "";
	int i;

	memcpy(t->prev2_word, t->prev_word, sizeof(t->prev_word));
	for (i = 0; i < (int)n && i < (int)sizeof(t->prev_word) - 1; i++)
		t->prev_word[i] = (char)tolower((unsigned char)w[i]);
	t->prev_word[i] = '\0';
	if (strcmp(t->prev2_word, "into") == 0 && n < sizeof(t->table) &&
	    strcmp(t->prev_word, "into") != 0) {
		memcpy(t->table, w, n); /* INSERT INTO table */
		t->table[n] = '\0';
	}
	if (word_is(w, n, "set") && strcmp(t->prev2_word, "update") == 0 && t->table[0] &&
	    t->qualify == 0 && t->subquery_depth == 0) {
		/* "DO UPDATE SET": ours; a plain UPDATE's SET has no excluded */
		t->qualify = 1;
		t->qual_depth = t->depth;
		t->assign_next = 1;
		return 0;
	}
	if (!t->qualify)
		return 0;
	if (word_is(w, n, "returning")) {
		t->qualify = 0;
		return 0;
	}
	if (word_is(w, n, "select") && !t->subquery_depth) {
		t->subquery_depth = t->depth;
		return 0;
	}
	if (t->subquery_depth)
		return 0;
	if (word_is(w, n, "where") && t->depth == t->qual_depth) {
		t->assign_next = 0;
		return 0;
	}
	for (i = 0; sql_words[i]; i++)
		if (word_is(w, n, sql_words[i]))
			return 0;
	if (*before == '.' || *open == '.' || *open == '(')
		return 0;
	if (t->assign_next) {
		t->assign_next = 0;
		return 0;
	}
	return 1;
}

static int word(struct tr *t)
{
	const char *w = t->p, *after, *open;
	size_t n = word_len(w);
	const char *name;

	after = w + n;
	t->p = after;
	if (word_is(w, n, "indexed")) {
		const char *q = skip_ws(after);
		size_t m = word_len(q);

		if (word_is(q, m, "by")) { /* INDEXED BY idx: a hint, dropped */
			q = skip_ws(q + m);
			t->p = q + word_len(q);
			return 0;
		}
	}
	if (word_is(w, n, "begin")) {
		const char *q = skip_ws(after);
		size_t m = word_len(q);

		if (word_is(q, m, "immediate") || word_is(q, m, "deferred") ||
		    word_is(q, m, "exclusive"))
			t->p = q + m;
		sw_buf_adds(&t->out, "BEGIN");
		return 0;
	}
	if (word_is(w, n, "is") && is_compare(t, after))
		return 0;
	if (word_is(w, n, "cross") && cross_join_on(after)) /* CROSS JOIN x ON: a hint */
		return 0;
	open = skip_ws(after);
	if (*open == '(' && (name = function_name(t, w, n, open))) {
		sw_buf_adds(&t->out, name);
		return 0;
	}
	if (qualify_word(t, w, n, open))
		sw_buf_printf(&t->out, "%s.", t->table);
	sw_buf_add(&t->out, w, n);
	return 0;
}

static int step(struct tr *t)
{
	char c = *t->p;

	if (c == '\'' || c == '"')
		return copy_quoted(t, c);
	if ((c == '-' && t->p[1] == '-') || (c == '/' && t->p[1] == '*'))
		return copy_comment(t);
	if (c == '$') {
		int rc = copy_dollar(t);

		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (c == '?' || ((c == ':' || c == '@' || c == '$') && is_word_start((unsigned char)t->p[1]) &&
			 (t->p == t->start || t->p[-1] != ':')))
		return param(t);
	if (is_word_start((unsigned char)c))
		return word(t);
	if (c == ',' && t->qualify && !t->subquery_depth && t->depth == t->qual_depth)
		t->assign_next = 1;
	if (c == ';')
		t->qualify = 0, t->table[0] = '\0';
	if (c == ')' && t->subquery_depth && t->depth == t->subquery_depth)
		t->subquery_depth = 0;
	if (c == ')' && t->qualify && t->depth == t->qual_depth)
		t->qualify = 0;
	if (c == '(') {
		if (++t->depth < DEPTH_MAX)
			t->append[t->depth] = t->pending;
		t->pending = NULL;
	} else if (c == ')') {
		if (t->depth <= 0)
			return fail(t, "unbalanced parentheses");
		if (t->depth < DEPTH_MAX && t->append[t->depth])
			sw_buf_adds(&t->out, t->append[t->depth]);
		t->depth--;
	}
	t->p++;
	sw_buf_add(&t->out, &c, 1);
	return 0;
}

int sw_db_pg_translate(const char *sql, struct sw_pg_sql *out, char *errbuf, size_t errlen)
{
	struct tr t;
	int i;

	memset(&t, 0, sizeof(t));
	memset(out, 0, sizeof(*out));
	t.p = t.start = sql;
	t.err = errbuf;
	t.errlen = errlen;
	sw_buf_init(&t.out, SQL_MAX);
	sw_buf_adds(&t.out, "");
	while (*t.p)
		if (step(&t) < 0)
			goto fail;
	if (t.depth != 0) {
		fail(&t, "unbalanced parentheses");
		goto fail;
	}
	out->text = sw_buf_steal(&t.out, NULL);
	out->nparams = t.nparams;
	out->names = xcalloc((size_t)t.nparams + 1, sizeof(char *));
	memcpy(out->names, t.names, (size_t)t.nparams * sizeof(char *));
	return 0;
fail:
	sw_buf_free(&t.out);
	for (i = 0; i < t.nparams; i++)
		free(t.names[i]);
	return -1;
}

void sw_db_pg_sql_free(struct sw_pg_sql *q)
{
	int i;

	for (i = 0; q->names && i < q->nparams; i++)
		free(q->names[i]);
	free(q->names);
	free(q->text);
	memset(q, 0, sizeof(*q));
}
