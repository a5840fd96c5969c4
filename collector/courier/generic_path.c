/*
 * generic_path.c - paths and conditions of the generic adapter (syntax in
 * generic.h and doc/couriers.md).
 *
 * Design: texts from the configuration are parsed once into steps and
 * conditions; answers are walked iteratively (no recursion, at most
 * GP_PATH_STEPS steps, a selector scans one array) so a hostile answer
 * costs at most steps x array length.  A selector's field may be a dotted
 * path inside the element ([Shipment.AWB={tracking}]).  Values compare as
 * strings: integers and booleans are printed first, so 300 matches "300"
 * and "true" matches true.  Condition values compare ignoring ASCII case
 * (codes are written as the courier's documentation spells them).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/courier/common.h"
#include "collector/courier/generic_int.h"
#include "lib/xmalloc.h"

/* ---- paths -------------------------------------------------------------- */

void gp_path_free(struct gp_path *p)
{
	for (size_t i = 0; p && i < p->n; i++) {
		free(p->steps[i].key);
		free(p->steps[i].value);
	}
	free(p);
}

/* true if s[0..len) is key.key.key (each key non-empty, no syntax bytes). */
static bool dotted_ok(const char *s, size_t len)
{
	size_t seg = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (seg == 0)
				return false;
			seg = 0;
		} else if (strchr("[]{}=!~&|", s[i]) != NULL || (unsigned char)s[i] < 0x20) {
			return false;
		} else {
			seg++;
		}
	}
	return seg > 0;
}

/* Reads one "[...]" body (s points after '['); NULL with *ret_what on error. */
static const char *parse_selector(const char *s, struct gp_step *st, bool *uses_tracking,
				  const char **ret_what)
{
	const char *close = strchr(s, ']'), *eq;
	size_t len = close ? (size_t)(close - s) : 0, flen;

	if (close == NULL || len == 0 || len > GP_NAME_MAX * 2) {
		*ret_what = "bad or unclosed [selector]";
		return NULL;
	}
	if (strspn(s, "0123456789") == len && len <= 9) {
		st->kind = GP_STEP_INDEX;
		st->index = strtoul(s, NULL, 10);
		return close + 1;
	}
	eq = memchr(s, '=', len);
	flen = eq ? (size_t)(eq - s) : 0;
	if (eq == NULL || !dotted_ok(s, flen) || flen > GP_NAME_MAX || eq + 1 == close ||
	    memchr(eq + 1, '[', (size_t)(close - eq - 1)) != NULL) {
		*ret_what = "bad selector (want [N], [field=value] or [a.b=value])";
		return NULL;
	}
	st->kind = GP_STEP_SELECT;
	st->key = xstrndup(s, flen);
	st->value = xstrndup(eq + 1, (size_t)(close - eq - 1));
	if (strcmp(st->value, "{tracking}") == 0) {
		free(st->value);
		st->value = NULL;
		*uses_tracking = true;
	} else if (strpbrk(st->value, "{}") != NULL) {
		*ret_what = "selector value must be a literal or {tracking}";
		return NULL;
	}
	return close + 1;
}

struct gp_path *gp_path_parse(const char *s, const char **ret_what)
{
	struct gp_path *p = xcalloc(1, sizeof(*p));

	*ret_what = "too many steps";
	while (p->n < GP_PATH_STEPS) {
		size_t len = strcspn(s, ".[]{}=!~&|");

		if (len > GP_NAME_MAX || (len == 0 && *s != '['))
			goto syntax;
		if (len > 0) {
			p->steps[p->n].kind = GP_STEP_KEY;
			p->steps[p->n++].key = xstrndup(s, len);
			s += len;
		}
		while (*s == '[' && p->n < GP_PATH_STEPS) {
			s = parse_selector(s + 1, &p->steps[p->n++], &p->uses_tracking, ret_what);
			if (s == NULL)
				goto fail;
		}
		if (*s == '\0')
			return p;
		if (*s != '.' || s[1] == '\0')
			goto syntax;
		s++;
	}
	goto fail;
syntax:
	*ret_what = "bad path (want key.key[N].key[field=value])";
fail:
	gp_path_free(p);
	return NULL;
}

/* The value at a dotted field inside el, or NULL. */
static json_t *dotted_get(json_t *el, const char *field)
{
	char seg[GP_NAME_MAX + 1];

	while (el != NULL && *field != '\0') {
		size_t len = strcspn(field, ".");

		snprintf(seg, sizeof(seg), "%.*s", (int)len, field);
		el = json_object_get(el, seg);
		field += len + (field[len] == '.');
	}
	return el;
}

/* v as a string (integers and booleans printed into buf), or NULL. */
static const char *scalar_str(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

static bool select_ok(json_t *el, const struct gp_step *st, const char *tracking)
{
	char num[32];
	const char *have = scalar_str(dotted_get(el, st->key), num, sizeof(num));
	const char *want = st->value ? st->value : tracking;

	return have != NULL && want != NULL && strcmp(have, want) == 0;
}

enum gp_hit gp_path_get(const struct gp_path *p, json_t *node, const char *tracking, json_t **ret)
{
	for (size_t i = 0; p && i < p->n && node != NULL; i++) {
		const struct gp_step *st = &p->steps[i];
		json_t *next = NULL, *el;
		size_t k;

		if (st->kind == GP_STEP_KEY) {
			node = json_object_get(node, st->key);
			continue;
		}
		if (!json_is_array(node))
			return GP_MISSING;
		if (st->kind == GP_STEP_INDEX) {
			next = json_array_get(node, st->index);
		} else {
			json_array_foreach(node, k, el)
			{
				if (select_ok(el, st, tracking)) {
					next = el;
					break;
				}
			}
		}
		if (next == NULL)
			return GP_NO_MATCH;
		node = next;
	}
	*ret = node;
	return node != NULL ? GP_HIT : GP_MISSING;
}

const char *gp_path_str(const struct gp_path *p, json_t *node, const char *tracking, char *buf,
			size_t len)
{
	json_t *v = NULL;
	const char *s;

	if (p == NULL || gp_path_get(p, node, tracking, &v) != GP_HIT)
		return NULL;
	s = scalar_str(v, buf, len);
	return s != NULL && *s != '\0' ? s : NULL;
}

/* ---- placeholders ------------------------------------------------------- */

size_t gp_placeholder(const char *t, const char **ret_word)
{
	size_t len;

	if (*t != '{')
		return 0;
	len = strspn(t + 1, "abcdefghijklmnopqrstuvwxyz_");
	if (len == 0 || t[len + 1] != '}')
		return 0;
	*ret_word = t + 1;
	return len;
}

bool gp_is_word(const char *w, size_t len, const char *word)
{
	return len == strlen(word) && strncmp(w, word, len) == 0;
}

/* ---- conditions --------------------------------------------------------- */

void gp_conds_free(struct gp_conds *c)
{
	for (size_t i = 0; c && i < c->n; i++) {
		gp_path_free(c->c[i].path);
		for (size_t k = 0; k < c->c[i].n_values; k++)
			free(c->c[i].values[k]);
	}
	if (c)
		c->n = 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* Where the operator of a condition starts (outside [...]), or len. */
static size_t find_op(const char *s, size_t len)
{
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '[')
			depth++;
		else if (s[i] == ']')
			depth--;
		else if (depth == 0 && (s[i] == '=' || s[i] == '~' ||
					(s[i] == '!' && i + 1 < len && s[i + 1] == '=')))
			return i;
	}
	return len;
}

/* The values "a|b|c" of cd (text v[0..len)). */
static enum sw_err cond_values(struct gp_cond *cd, const char *v, size_t len, const char **ret_what)
{
	char one[GP_NAME_MAX + 1];

	while (true) {
		const char *bar = memchr(v, '|', len), *t = v;
		size_t olen = bar ? (size_t)(bar - v) : len, tlen = olen;

		trim(&t, &tlen);
		if (tlen == 0 || tlen > GP_NAME_MAX) {
			*ret_what = "want values of 1 to 64 bytes after the operator";
			return SW_ECONF;
		}
		if (cd->n_values >= GP_VALUES_MAX) {
			*ret_what = "too many values (max 16)";
			return SW_ECONF;
		}
		snprintf(one, sizeof(one), "%.*s", (int)tlen, t);
		if (cd->path == NULL &&
		    (cd->op == GP_OP_HAS ||
		     sw_store_ship_status_parse(one, &cd->status_values[cd->n_values]) != SW_OK)) {
			*ret_what = "@status wants = or != and canonical statuses";
			return SW_ECONF;
		}
		cd->values[cd->n_values++] = xstrdup(one);
		if (bar == NULL)
			return SW_OK;
		len -= olen + 1;
		v = bar + 1;
	}
}

/* One condition s[0..len) into cd. */
static enum sw_err cond_parse(const char *s, size_t len, bool status_ok, struct gp_cond *cd,
			      const char **ret_what)
{
	size_t op, plen;
	char path[GP_COND_TEXT];

	trim(&s, &len);
	memset(cd, 0, sizeof(*cd));
	if (len == 0) {
		*ret_what = "empty condition";
		return SW_ECONF;
	}
	op = find_op(s, len);
	if (op == len) { /* presence */
		cd->op = s[0] == '!' ? GP_OP_ABSENT : GP_OP_PRESENT;
		if (s[0] == '!')
			s++, len--, op--;
		trim(&s, &len);
		op = len;
	} else {
		cd->op = s[op] == '=' ? GP_OP_EQ : s[op] == '~' ? GP_OP_HAS : GP_OP_NE;
	}
	plen = op;
	trim(&s, &plen);
	if (plen == 0 || plen >= sizeof(path)) {
		*ret_what = "want a path before the operator";
		return SW_ECONF;
	}
	snprintf(path, sizeof(path), "%.*s", (int)plen, s);
	if (strcmp(path, "@status") == 0) {
		if (!status_ok) {
			*ret_what = "@status only in eta_unless";
			return SW_ECONF;
		}
		if (cd->op == GP_OP_PRESENT || cd->op == GP_OP_ABSENT) {
			*ret_what = "@status wants = or != and canonical statuses";
			return SW_ECONF;
		}
	} else if ((cd->path = gp_path_parse(path, ret_what)) == NULL) {
		return SW_ECONF;
	}
	if (cd->op == GP_OP_PRESENT || cd->op == GP_OP_ABSENT)
		return SW_OK;
	op += cd->op == GP_OP_NE ? 2 : 1;
	return cond_values(cd, s + op, len - op, ret_what);
}

enum sw_err gp_conds_parse(const char *text, bool status_ok, struct gp_conds *c,
			   const char **ret_what, char *at, size_t atlen)
{
	size_t len = strlen(text);

	memset(c, 0, sizeof(*c));
	snprintf(at, atlen, "%s", text);
	if (len >= GP_COND_TEXT) {
		*ret_what = "too long (max 511 bytes)";
		return SW_ECONF;
	}
	while (true) {
		size_t one = strcspn(text, "&");

		snprintf(at, atlen, "%.*s", (int)one, text);
		if (c->n >= GP_CONDS_MAX) {
			*ret_what = "too many conditions (max 8)";
			goto fail;
		}
		if (cond_parse(text, one, status_ok, &c->c[c->n], ret_what) != SW_OK) {
			c->n++; /* free what it holds */
			goto fail;
		}
		c->n++;
		if (text[one] == '\0')
			return SW_OK;
		text += one + 1;
	}
fail:
	gp_conds_free(c);
	return SW_ECONF;
}

enum sw_err gp_rule_parse(const char *text, struct gp_rule *r, const char **ret_what, char *at,
			  size_t atlen)
{
	const char *arrow = strstr(text, "->"), *st;
	char conds[GP_COND_TEXT], status[32];
	size_t slen;

	memset(r, 0, sizeof(*r));
	snprintf(at, atlen, "%s", text);
	if (arrow == NULL || strstr(arrow + 2, "->") != NULL) {
		*ret_what = "want 'COND & COND -> status'";
		return SW_ECONF;
	}
	if ((size_t)(arrow - text) >= sizeof(conds)) {
		*ret_what = "too long (max 511 bytes)";
		return SW_ECONF;
	}
	st = arrow + 2;
	slen = strlen(st);
	trim(&st, &slen);
	snprintf(status, sizeof(status), "%.*s", (int)slen, st);
	if (slen == 0 || slen >= sizeof(status) ||
	    sw_store_ship_status_parse(status, &r->status) != SW_OK) {
		snprintf(at, atlen, "%.*s", (int)slen, st);
		*ret_what = "unknown canonical status after ->";
		return SW_ECONF;
	}
	snprintf(conds, sizeof(conds), "%.*s", (int)(arrow - text), text);
	return gp_conds_parse(conds, false, &r->when, ret_what, at, atlen);
}

/* true if p leads to something other than null, false or "". */
static bool present(const struct gp_path *p, json_t *node, const char *tracking)
{
	json_t *v = NULL;

	if (gp_path_get(p, node, tracking, &v) != GP_HIT || json_is_null(v) || json_is_false(v))
		return false;
	return !json_is_string(v) || *json_string_value(v) != '\0';
}

/* true if cd holds for node. */
static bool cond_holds(const struct gp_cond *cd, json_t *node, const char *tracking,
		       enum sw_ship_status status)
{
	char buf[32];
	const char *have;
	bool any = false;

	if (cd->path == NULL) {
		for (size_t i = 0; i < cd->n_values; i++)
			any |= cd->status_values[i] == status;
		return cd->op == GP_OP_EQ ? any : !any;
	}
	have = gp_path_str(cd->path, node, tracking, buf, sizeof(buf));
	switch (cd->op) {
	case GP_OP_PRESENT:
	case GP_OP_ABSENT:
		return present(cd->path, node, tracking) == (cd->op == GP_OP_PRESENT);
	case GP_OP_HAS:
		for (size_t i = 0; i < cd->n_values; i++)
			any |= sw_courier_contains(have, cd->values[i]);
		return any;
	case GP_OP_EQ:
	case GP_OP_NE:
		for (size_t i = 0; have != NULL && i < cd->n_values; i++)
			any |= strcasecmp(have, cd->values[i]) == 0;
		return cd->op == GP_OP_EQ ? any : !any;
	}
	return false;
}

bool gp_conds_hold(const struct gp_conds *c, json_t *node, const char *tracking,
		   enum sw_ship_status status)
{
	for (size_t i = 0; i < c->n; i++)
		if (!cond_holds(&c->c[i], node, tracking, status))
			return false;
	return c->n > 0;
}
