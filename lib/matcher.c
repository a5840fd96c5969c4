/*
 * matcher.c - label sets and label matchers (lib/matcher.h).
 *
 * Design:
 * - Labels are parsed item by item into fixed arrays (at most
 *   SW_LABELS_MAX items, keys and values with their own maxima), checked,
 *   sorted by key and written out again: the canonical text is the only
 *   form anything keeps.
 * - A matcher list is parsed the same way; each regex is compiled once
 *   with POSIX regcomp(REG_EXTENDED | REG_NOSUB) as "^(" re ")$", so that
 *   it must match the whole value (Alertmanager's anchoring).  A ')'
 *   without its '(' would close the wrapper's group and change what the
 *   regex means ("a)|.*" would match anything): such a regex is refused
 *   before it is wrapped, as is one that does not compile on its own.
 *   So is one whose repetitions would make regcomp build an exponential
 *   tree (regex_size): matchers come from operators and the engine
 *   compiles every silence at each evaluation.
 * - The canonical matcher text is the matchers sorted by key (stably: two
 *   matchers of one key keep their order), blanks dropped; parsing it
 *   again gives the same list.
 * - Matching reads the labels text in place (no parse, no allocation for
 *   values up to SW_LABEL_VALUE_MAX bytes): it runs once per page, rule
 *   and silence on every evaluation.
 * - Errors name the item by its position (1-based) and its text, cleaned
 *   (bytes outside printable ASCII shown as '?', long text cut) so that a
 *   message can go to a terminal or a log as one line.
 */
#include "config.h"

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/matcher.h"
#include "lib/xmalloc.h"

#define MAX_REGEX	 256  /* bytes of one regex as written */
#define MAX_REGEX_WEIGHT 4096 /* regex_size(): parts regcomp may build */
#define MAX_REGEX_STARS	 16   /* ... and optional ones among them */
#define MAX_SHOWN	 60   /* bytes of an item quoted in an error */

enum op { OP_EQ, OP_NE, OP_RE, OP_NRE };

static const char *const op_text[] = {"=", "!=", "=~", "!~"};

struct matcher {
	char key[SW_LABEL_KEY_MAX + 1];
	enum op op;
	char *value; /* the value, or the regex as written */
	regex_t re;  /* OP_RE, OP_NRE */
};

struct sw_matchers {
	size_t n;
	struct matcher m[SW_LABELS_MAX];
	char *text; /* canonical */
};

/* ---- items ---------------------------------------------------------------- */

/* One comma-separated item with the blanks around it trimmed. */
struct item {
	const char *p;
	size_t len;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Splits text at commas into at most max items; *ret_n items.  Returns 0,
 * or the 1-based number of the first item over max (the caller names it).
 * "" or blanks only gives no item; an empty item between commas is kept
 * (the caller refuses it by number).
 */
static size_t split(const char *text, struct item *items, size_t max, size_t *ret_n)
{
	const char *p = text, *e;
	size_t n = 0;

	*ret_n = 0;
	while (is_blank(*p))
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');

		e = comma ? comma : p + strlen(p);
		if (n == max)
			return n + 1;
		while (p < e && is_blank(*p))
			p++;
		items[n].p = p;
		items[n].len = (size_t)(e - p);
		while (items[n].len && is_blank(p[items[n].len - 1]))
			items[n].len--;
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*ret_n = n;
	return 0;
}

/* The item's text for an error message: printable ASCII, at most
 * MAX_SHOWN bytes then "...". */
static void shown(const struct item *it, char out[MAX_SHOWN + 4])
{
	size_t n = it->len < MAX_SHOWN ? it->len : MAX_SHOWN, i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)it->p[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (it->len > MAX_SHOWN)
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
}

static enum sw_err __attribute__((format(printf, 6, 7)))
item_err(char *err, size_t len, const char *what, size_t num, const struct item *it,
	 const char *fmt, ...)
{
	char text[MAX_SHOWN + 4], why[256];
	va_list ap;

	shown(it, text);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (len)
		snprintf(err, len, "%s %zu '%s': %s", what, num, text, why);
	return SW_EPARSE;
}

/* Length of the key at the start of p (up to end), or 0 if none:
 * [a-z_][a-z0-9_]*. */
static size_t key_len(const char *p, const char *end)
{
	size_t n = 0;

	if (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
		for (n = 1; p + n < end; n++)
			if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') ||
			      p[n] == '_'))
				break;
	return n;
}

/* A label value byte: printable ASCII other than , = ! ~ " and blanks. */
static int value_char(char c)
{
	return c > 0x20 && c < 0x7f && !strchr(",=!~\"", c);
}

/* NULL if v (n bytes) is a valid label value, else why not. */
static const char *value_problem(const char *v, size_t n)
{
	if (n == 0)
		return "empty value";
	if (n > SW_LABEL_VALUE_MAX)
		return "value longer than 128 bytes";
	for (size_t i = 0; i < n; i++)
		if (!value_char(v[i]))
			return "a value is printable ASCII without blanks, ',', '=', '!', '~' "
			       "or '\"'";
	return NULL;
}

#define KEY_RULE "a key is [a-z_][a-z0-9_]*, at most 32 bytes"

/* ---- labels ----------------------------------------------------------------- */

struct label {
	char key[SW_LABEL_KEY_MAX + 1];
	const char *v;
	size_t vlen;
};

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->key, ((const struct label *)b)->key);
}

/* Item num (1-based) as a label into *l.  SW_OK or SW_EPARSE. */
static enum sw_err label_parse(const struct item *it, size_t num, struct label *l, char *err,
			       size_t len)
{
	const char *end = it->p + it->len, *why;
	size_t k = key_len(it->p, end);

	if (it->len == 0)
		return item_err(err, len, "label", num, it, "empty (want key=value)");
	if (k == 0 || k > SW_LABEL_KEY_MAX || (it->p + k < end && it->p[k] != '='))
		return item_err(err, len, "label", num, it, KEY_RULE);
	if (it->p + k == end)
		return item_err(err, len, "label", num, it, "want key=value");
	memcpy(l->key, it->p, k);
	l->key[k] = '\0';
	l->v = it->p + k + 1;
	l->vlen = (size_t)(end - l->v);
	if ((why = value_problem(l->v, l->vlen)))
		return item_err(err, len, "label", num, it, "%s", why);
	return SW_OK;
}

enum sw_err sw_labels_canon(const char *text, char *out, size_t outlen, char *err, size_t len)
{
	struct item items[SW_LABELS_MAX + 1];
	struct label labels[SW_LABELS_MAX];
	size_t n, over, used = 0;
	enum sw_err rc;

	if (len)
		err[0] = '\0';
	if ((over = split(text ? text : "", items, SW_LABELS_MAX, &n))) {
		if (len)
			snprintf(err, len, "label %zu: more than %d labels", over, SW_LABELS_MAX);
		return SW_EPARSE;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = label_parse(&items[i], i + 1, &labels[i], err, len)))
			return rc;
	/* which item a duplicate is: found before sorting */
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i].key, labels[j].key) == 0)
				return item_err(err, len, "label", i + 1, &items[i],
						"key '%s' given twice", labels[i].key);
	qsort(labels, n, sizeof(labels[0]), label_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t klen = strlen(labels[i].key);

		if (used + (i > 0) + klen + 1 + labels[i].vlen + 1 > outlen) {
			if (len)
				snprintf(err, len, "labels: more than %zu bytes", outlen);
			return SW_ETOOBIG;
		}
		if (i > 0)
			out[used++] = ',';
		memcpy(out + used, labels[i].key, klen);
		used += klen;
		out[used++] = '=';
		memcpy(out + used, labels[i].v, labels[i].vlen);
		used += labels[i].vlen;
	}
	if (outlen == 0) {
		if (len)
			snprintf(err, len, "labels: no room for the result");
		return SW_ETOOBIG;
	}
	out[used] = '\0';
	return SW_OK;
}

/* The value of key in labels: *ret_v, *ret_len; false if absent. */
static bool label_find(const char *labels, const char *key, const char **ret_v, size_t *ret_len)
{
	size_t klen = strlen(key);
	const char *p = labels;

	while (p && *p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);

		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			*ret_v = p + klen + 1;
			*ret_len = (size_t)(end - *ret_v);
			return true;
		}
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

bool sw_labels_get(const char *labels, const char *key, char *out, size_t outlen)
{
	const char *v;
	size_t n;

	if (!labels || !key || !label_find(labels, key, &v, &n))
		return false;
	if (outlen) {
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, v, n);
		out[n] = '\0';
	}
	return true;
}

/* ---- matchers ------------------------------------------------------------ */

/*
 * The index of the ']' closing the bracket expression that starts at
 * re[i] ('['), or n if it does not close: a leading ']' (after an
 * optional '^') is literal, "[:class:]", "[.x.]" and "[=x=]" are skipped
 * whole ("[[:alpha:])]" is one expression).
 */
static size_t bracket_end(const char *re, size_t n, size_t i)
{
	i++;
	if (i < n && re[i] == '^')
		i++;
	if (i < n && re[i] == ']')
		i++;
	for (; i < n && re[i] != ']'; i++)
		if (re[i] == '[' && i + 1 < n &&
		    (re[i + 1] == ':' || re[i + 1] == '.' || re[i + 1] == '=')) {
			char close = re[i + 1];

			for (i += 2; i + 1 < n && !(re[i] == close && re[i + 1] == ']'); i++)
				;
			i++;
		}
	return i < n ? i : n;
}

/*
 * NULL if the parentheses of re (n bytes) balance, counting neither those
 * escaped with '\' nor those inside a bracket expression, else why not.
 */
static const char *parens_problem(const char *re, size_t n)
{
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		if (re[i] == '\\') {
			i++;
		} else if (re[i] == '[') {
			if ((i = bracket_end(re, n, i)) >= n)
				return "'[' without its ']'";
		} else if (re[i] == '(') {
			depth++;
		} else if (re[i] == ')' && --depth < 0) {
			return "')' without its '('";
		}
	}
	return depth ? "parentheses not balanced" : NULL;
}

/*
 * What regcomp would build from part of a regex: glibc copies what a
 * repetition repeats once per count ("a{100}" is 100 copies, "x+" two),
 * so stacked or nested repetitions grow exponentially ("a+++..." or
 * "((a+)+)+..." take gigabytes); and each copy of an optional or starred
 * part multiplies the work of its epsilon closures ("(a*)*{24}" compiles
 * for minutes).  weight counts the parts after copying, stars the
 * optional or starred ones among them; both saturate.
 */
struct rx_size {
	uint64_t weight, stars;
};

/* One group being measured: its finished items, and the last one, which
 * a repetition applies to. */
struct rx_frame {
	struct rx_size sum, last;
};

static uint64_t rx_cap(uint64_t v)
{
	return v > MAX_REGEX_WEIGHT ? MAX_REGEX_WEIGHT + 1 : v;
}

static struct rx_size rx_add(struct rx_size a, struct rx_size b)
{
	struct rx_size r = {rx_cap(a.weight + b.weight), rx_cap(a.stars + b.stars)};

	return r;
}

/* The repetition at re[*i] ('*', '?', '+' or a bound), *i left on its
 * last byte: *ret_copies and whether it is optional or unbounded.  False
 * if re[*i] is not one ("{" not followed by a bound is left to regcomp). */
static bool rx_repeat(const char *re, size_t n, size_t *i, uint64_t *ret_copies, bool *ret_star)
{
	uint64_t v[2] = {0, 0};
	int part = 0;
	size_t j;

	*ret_star = true;
	*ret_copies = re[*i] == '+' ? 2 : 1;
	if (re[*i] == '*' || re[*i] == '?' || re[*i] == '+')
		return true;
	if (re[*i] != '{')
		return false;
	for (j = *i + 1; j < n && re[j] != '}'; j++) {
		if (re[j] == ',' && part == 0)
			part = 1;
		else if (re[j] >= '0' && re[j] <= '9')
			v[part] = rx_cap(v[part] * 10 + (uint64_t)(re[j] - '0'));
		else
			return false;
	}
	if (j >= n)
		return false;
	*i = j;
	*ret_star = part == 1; /* "{n,}" or "{n,m}" */
	if (part == 1 && re[j - 1] == ',')
		v[1] = v[0] + 1;
	*ret_copies = v[1] > v[0] ? v[1] : v[0] ? v[0] : 1;
	return true;
}

/* The size of re (n bytes, parentheses balanced: parens_problem). */
static struct rx_size regex_size(const char *re, size_t n)
{
	static const struct rx_size none = {0, 0}, atom = {1, 0};
	struct rx_frame stack[MAX_REGEX + 1], *f = stack;
	uint64_t k;
	bool star;

	f->sum = f->last = none;
	for (size_t i = 0; i < n; i++) {
		if (rx_repeat(re, n, &i, &k, &star)) {
			f->last.weight = rx_cap(f->last.weight * k + 1);
			f->last.stars = rx_cap(f->last.stars * k + star);
		} else if (re[i] == '(' && f < stack + MAX_REGEX) {
			(++f)->sum = none;
			f->last = none;
		} else if (re[i] == ')' && f > stack) {
			struct rx_size g = rx_add(f->sum, f->last);

			f--;
			f->sum = rx_add(f->sum, f->last);
			f->last = rx_add(g, atom);
		} else if (re[i] == '|') {
			f->sum = rx_add(f->sum, f->last);
			f->last = none;
		} else {
			if (re[i] == '\\')
				i++;
			else if (re[i] == '[')
				i = bracket_end(re, n, i);
			f->sum = rx_add(f->sum, f->last);
			f->last = atom;
		}
	}
	return rx_add(f->sum, f->last);
}

/* Compiles m->value (the regex as written) anchored into m->re. */
static enum sw_err regex_compile(struct matcher *m, const struct item *it, size_t num, char *err,
				 size_t len)
{
	const char *why = parens_problem(m->value, strlen(m->value));
	char *anchored, msg[128];
	struct rx_size size;
	regex_t alone;
	int rc;

	if (why)
		return item_err(err, len, "matcher", num, it, "bad regex: %s", why);
	size = regex_size(m->value, strlen(m->value));
	if (size.weight > MAX_REGEX_WEIGHT || size.stars > MAX_REGEX_STARS)
		return item_err(err, len, "matcher", num, it,
				"bad regex: too complex (repetitions of repetitions: more than %d "
				"parts or %d optional ones once expanded)",
				MAX_REGEX_WEIGHT, MAX_REGEX_STARS);
	/* on its own first: the wrapper must not hide an error */
	if ((rc = regcomp(&alone, m->value, REG_EXTENDED | REG_NOSUB)) == 0) {
		regfree(&alone);
		anchored = xasprintf("^(%s)$", m->value);
		rc = regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB);
		free(anchored);
		if (rc == 0)
			return SW_OK;
		regerror(rc, &m->re, msg, sizeof(msg));
	} else {
		regerror(rc, &alone, msg, sizeof(msg));
	}
	return item_err(err, len, "matcher", num, it, "bad regex: %s", msg);
}

/* NULL if a regex (n bytes) has only allowed bytes and size, else why. */
static const char *regex_problem(const char *re, size_t n)
{
	if (n == 0)
		return "empty regex";
	if (n > MAX_REGEX)
		return "regex longer than 256 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)re[i] < 0x20 || (unsigned char)re[i] >= 0x7f)
			return "a regex is printable ASCII";
	return NULL;
}

/* Item num (1-based) into m (zeroed; value and re set only on SW_OK). */
static enum sw_err matcher_parse(const struct item *it, size_t num, struct matcher *m, char *err,
				 size_t len)
{
	const char *end = it->p + it->len, *p, *why;
	size_t k = key_len(it->p, end), vlen;

	if (it->len == 0)
		return item_err(err, len, "matcher", num, it,
				"empty (want key=value, key!=value, "
				"key=~regex or key!~regex)");
	if (k == 0 || k > SW_LABEL_KEY_MAX)
		return item_err(err, len, "matcher", num, it, KEY_RULE);
	p = it->p + k;
	if (p < end && *p != '=' && *p != '!')
		return item_err(err, len, "matcher", num, it, KEY_RULE);
	if (end - p >= 2 && p[0] == '=' && p[1] == '=')
		return item_err(err, len, "matcher", num, it, "'==' is not an operator (use '=')");
	if (end - p >= 2 && (p[0] == '!' || p[0] == '=') && (p[1] == '~' || p[1] == '='))
		m->op = p[0] == '=' ? OP_RE : (p[1] == '~' ? OP_NRE : OP_NE);
	else if (p < end && p[0] == '=')
		m->op = OP_EQ;
	else
		return item_err(err, len, "matcher", num, it,
				"want key=value, key!=value, key=~regex or key!~regex");
	p += m->op == OP_EQ ? 1 : 2;
	vlen = (size_t)(end - p);
	why = m->op == OP_EQ || m->op == OP_NE ? value_problem(p, vlen) : regex_problem(p, vlen);
	if (why)
		return item_err(err, len, "matcher", num, it, "%s", why);
	memcpy(m->key, it->p, k);
	m->key[k] = '\0';
	m->value = xstrndup(p, vlen);
	if ((m->op == OP_RE || m->op == OP_NRE) && regex_compile(m, it, num, err, len)) {
		free(m->value);
		m->value = NULL;
		return SW_EPARSE;
	}
	return SW_OK;
}

static int matcher_cmp(const void *a, const void *b)
{
	const struct matcher *x = *(const struct matcher *const *)a;
	const struct matcher *y = *(const struct matcher *const *)b;
	int c = strcmp(x->key, y->key);

	/* stable: the array holds pointers in input order */
	return c ? c : (x < y ? -1 : x > y);
}

/* The canonical text of ms: its matchers sorted by key, stably. */
static char *canon_text(const struct sw_matchers *ms)
{
	const struct matcher *order[SW_LABELS_MAX];
	char *text = xstrdup(""), *t;

	for (size_t i = 0; i < ms->n; i++)
		order[i] = &ms->m[i];
	qsort(order, ms->n, sizeof(order[0]), matcher_cmp);
	for (size_t i = 0; i < ms->n; i++) {
		t = xasprintf("%s%s%s%s%s", text, i ? "," : "", order[i]->key,
			      op_text[order[i]->op], order[i]->value);
		free(text);
		text = t;
	}
	return text;
}

enum sw_err sw_matchers_parse(const char *text, struct sw_matchers **ret, char *err, size_t len)
{
	struct item items[SW_LABELS_MAX + 1];
	struct sw_matchers *ms;
	size_t n, over;

	*ret = NULL;
	if (len)
		err[0] = '\0';
	if ((over = split(text ? text : "", items, SW_LABELS_MAX, &n))) {
		if (len)
			snprintf(err, len, "matcher %zu: more than %d matchers", over,
				 SW_LABELS_MAX);
		return SW_EPARSE;
	}
	if (n == 0) {
		if (len)
			snprintf(err, len,
				 "no matcher (want key=value, key!=value, key=~regex "
				 "or key!~regex, separated by commas)");
		return SW_EPARSE;
	}
	ms = xcalloc(1, sizeof(*ms));
	for (; ms->n < n; ms->n++)
		if (matcher_parse(&items[ms->n], ms->n + 1, &ms->m[ms->n], err, len)) {
			sw_matchers_free(ms);
			return SW_EPARSE;
		}
	ms->text = canon_text(ms);
	*ret = ms;
	return SW_OK;
}

const char *sw_matchers_text(const struct sw_matchers *m)
{
	return m ? m->text : "";
}

/* Whether value v (n bytes, not terminated) matches m->re. */
static bool regex_match(const struct matcher *m, const char *v, size_t n)
{
	char small[SW_LABEL_VALUE_MAX + 1], *buf = n < sizeof(small) ? small : xmalloc(n + 1);
	bool hit;

	memcpy(buf, v, n);
	buf[n] = '\0';
	hit = regexec(&m->re, buf, 0, NULL, 0) == 0;
	if (buf != small)
		free(buf);
	return hit;
}

static bool matcher_holds(const struct matcher *m, const char *labels)
{
	const char *v;
	size_t n;
	bool has = label_find(labels, m->key, &v, &n);

	switch (m->op) {
	case OP_EQ:
		return has && n == strlen(m->value) && memcmp(v, m->value, n) == 0;
	case OP_NE:
		return !has || n != strlen(m->value) || memcmp(v, m->value, n) != 0;
	case OP_RE:
		return has && regex_match(m, v, n);
	case OP_NRE:
		return !has || !regex_match(m, v, n);
	}
	return false;
}

bool sw_matchers_match(const struct sw_matchers *m, const char *labels)
{
	if (m == NULL)
		return true;
	for (size_t i = 0; i < m->n; i++)
		if (!matcher_holds(&m->m[i], labels ? labels : ""))
			return false;
	return true;
}

void sw_matchers_free(struct sw_matchers *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		if (m->m[i].op == OP_RE || m->m[i].op == OP_NRE)
			regfree(&m->m[i].re);
		free(m->m[i].value);
	}
	free(m->text);
	free(m);
}
