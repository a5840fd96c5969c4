/*
 * generic.c - the generic courier adapter: URL, headers and the JSON
 * layout of the answer come from the configuration (see generic.h for the
 * template and path syntax).
 *
 * Design: everything that can be wrong in the configuration is found once,
 * by sw_generic_compile(), which turns the texts into a spec: templates
 * checked for known placeholders, paths parsed into steps (key, [index],
 * [field=value]), the time format checked, the zone loaded, the status map
 * parsed into a list.  Requests expand the templates with the number and
 * key; answers go through the shared checks of sw_courier_open() and are
 * then read by walking the compiled paths iteratively (no recursion, at
 * most PATH_STEPS steps, selectors scan one array each).  One number per
 * request.  Results follow the adapter rules of courier.h: a status only
 * with FOUND, events sorted by time, zone-less times flagged unless the
 * event carries an offset or time_zone names a zone, ETA as written.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector/courier/common.h"
#include "collector/courier/generic.h"
#include "lib/xmalloc.h"

#define PATH_STEPS   16	 /* steps in one path */
#define NAME_MAX_LEN 64	 /* keys, selector values, map codes */
#define MAP_MAX	     256 /* status_map entries */
#define FORMAT_MAX   64	 /* time_format pattern bytes */
#define NUMBER_MAX   64	 /* tracking number bytes (common.c) */

enum step_kind { STEP_KEY, STEP_INDEX, STEP_SELECT };

struct step {
	enum step_kind kind;
	char *key;    /* KEY: object key; SELECT: the field compared */
	char *value;  /* SELECT: wanted value; NULL means {tracking} */
	size_t index; /* INDEX */
};

struct path {
	struct step steps[PATH_STEPS];
	size_t n;
};

enum tfmt { TF_RFC3339, TF_EPOCH, TF_EPOCH_MS, TF_PATTERN };

struct map_entry {
	char *code;
	enum sw_ship_status status;
};

struct header_tmpl {
	char *name;
	char *value; /* template */
};

struct sw_courier_generic {
	char *url, *body; /* templates */
	enum sw_courier_method method;
	struct header_tmpl hdr[SW_GENERIC_HEADERS];
	size_t n_hdr;
	bool has_accept, has_ctype, needs_key;
	struct path *shipment, *status, *status_text, *events, *ev_time, *ev_code, *ev_text,
	    *ev_loc, *ev_offset, *eta, *delivered, *not_found;
	enum tfmt tfmt;
	char *pattern;
	char *zone;
	long not_found_status;
	struct map_entry *map;
	size_t n_map;
};

#define GC(f) offsetof(struct sw_generic_conf, f)
#define GS(f) offsetof(struct sw_courier_generic, f)

/* Every path option: its key, its text in the conf, its place in the spec. */
static const struct {
	const char *key;
	size_t conf_off, spec_off;
} path_opts[] = {
    {"path_shipment", GC(path_shipment), GS(shipment)},
    {"path_status", GC(path_status), GS(status)},
    {"path_status_text", GC(path_status_text), GS(status_text)},
    {"path_events", GC(path_events), GS(events)},
    {"path_event_time", GC(path_event_time), GS(ev_time)},
    {"path_event_code", GC(path_event_code), GS(ev_code)},
    {"path_event_text", GC(path_event_text), GS(ev_text)},
    {"path_event_location", GC(path_event_location), GS(ev_loc)},
    {"path_event_offset", GC(path_event_offset), GS(ev_offset)},
    {"path_eta", GC(path_eta), GS(eta)},
    {"path_delivered_at", GC(path_delivered_at), GS(delivered)},
    {"path_not_found", GC(path_not_found), GS(not_found)},
};
#define N_PATHS (sizeof(path_opts) / sizeof(path_opts[0]))

/* Every other string option (for sw_generic_conf_used). */
static const struct {
	const char *key;
	size_t off;
} str_opts[] = {
    {"url", GC(url)},
    {"body", GC(body)},
    {"header_1", GC(header[0])},
    {"header_2", GC(header[1])},
    {"header_3", GC(header[2])},
    {"header_4", GC(header[3])},
    {"time_format", GC(time_format)},
    {"time_zone", GC(time_zone)},
    {"status_map", GC(status_map[0])},
    {"status_map_2", GC(status_map[1])},
    {"status_map_3", GC(status_map[2])},
    {"status_map_4", GC(status_map[3])},
};
#define N_STRS (sizeof(str_opts) / sizeof(str_opts[0]))

static const char *conf_str(const struct sw_generic_conf *gc, size_t off)
{
	const char *s = *(char *const *)((const char *)gc + off);

	return s && *s ? s : NULL;
}

static enum sw_err bad(char *errbuf, size_t errlen, const char *key, const char *what,
		       const char *text)
{
	snprintf(errbuf, errlen, "%s: %s: '%s'", key, what, text ? text : "");
	return SW_ECONF;
}

/* ---- paths -------------------------------------------------------------- */

static void path_free(struct path *p)
{
	for (size_t i = 0; p && i < p->n; i++) {
		free(p->steps[i].key);
		free(p->steps[i].value);
	}
	free(p);
}

/* Reads one "[...]" body (s points after '['); NULL with *ret_what on error. */
static const char *parse_selector(const char *s, struct step *st, const char **ret_what)
{
	const char *close = strchr(s, ']'), *eq;
	size_t len = close ? (size_t)(close - s) : 0, flen;

	if (close == NULL || len == 0 || len > NAME_MAX_LEN * 2) {
		*ret_what = "bad or unclosed [selector]";
		return NULL;
	}
	if (strspn(s, "0123456789") == len && len <= 9) {
		st->kind = STEP_INDEX;
		st->index = strtoul(s, NULL, 10);
		return close + 1;
	}
	eq = memchr(s, '=', len);
	flen = eq ? (size_t)(eq - s) : 0;
	if (eq == NULL || flen == 0 || eq + 1 == close || strcspn(s, ".[{}") < flen ||
	    memchr(eq + 1, '[', (size_t)(close - eq - 1)) != NULL) {
		*ret_what = "bad selector (want [N] or [field=value])";
		return NULL;
	}
	st->kind = STEP_SELECT;
	st->key = xstrndup(s, flen);
	st->value = xstrndup(eq + 1, (size_t)(close - eq - 1));
	if (strcmp(st->value, "{tracking}") == 0) {
		free(st->value);
		st->value = NULL;
	} else if (strpbrk(st->value, "{}") != NULL) {
		*ret_what = "selector value must be a literal or {tracking}";
		return NULL;
	}
	return close + 1;
}

/* Parses path text; NULL with *ret_what set on a syntax error. */
static struct path *parse_path(const char *s, const char **ret_what)
{
	struct path *p = xcalloc(1, sizeof(*p));

	*ret_what = "too many steps";
	while (p->n < PATH_STEPS) {
		size_t len = strcspn(s, ".[]{}=");

		if (len > NAME_MAX_LEN || (len == 0 && *s != '['))
			goto syntax;
		if (len > 0) {
			p->steps[p->n].kind = STEP_KEY;
			p->steps[p->n++].key = xstrndup(s, len);
			s += len;
		}
		while (*s == '[' && p->n < PATH_STEPS) {
			s = parse_selector(s + 1, &p->steps[p->n++], ret_what);
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
	path_free(p);
	return NULL;
}

enum hit { HIT, NO_MATCH, MISSING };

static bool select_ok(json_t *el, const struct step *st, const char *tracking)
{
	json_t *f = json_object_get(el, st->key);
	const char *want = st->value ? st->value : tracking;
	char num[32];

	if (json_is_string(f))
		return strcmp(json_string_value(f), want) == 0;
	if (json_is_integer(f)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(f));
		return strcmp(num, want) == 0;
	}
	return false;
}

/* Walks p from node.  HIT (*ret set), NO_MATCH (an array had no such
 * element) or MISSING (a key is absent or a value has the wrong type). */
static enum hit path_get(const struct path *p, json_t *node, const char *tracking, json_t **ret)
{
	for (size_t i = 0; p && i < p->n && node != NULL; i++) {
		const struct step *st = &p->steps[i];
		json_t *next = NULL, *el;
		size_t k;

		if (st->kind == STEP_KEY) {
			node = json_object_get(node, st->key);
			continue;
		}
		if (!json_is_array(node))
			return MISSING;
		if (st->kind == STEP_INDEX) {
			next = json_array_get(node, st->index);
		} else {
			json_array_foreach(node, k, el) if (next == NULL &&
							    select_ok(el, st, tracking)) next = el;
		}
		if (next == NULL)
			return NO_MATCH;
		node = next;
	}
	*ret = node;
	return node != NULL ? HIT : MISSING;
}

/* The string (or integer, printed into buf) at p, or NULL. */
static const char *path_str(const struct path *p, json_t *node, const char *tracking, char *buf,
			    size_t len)
{
	json_t *v = NULL;

	if (p == NULL || path_get(p, node, tracking, &v) != HIT)
		return NULL;
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

/* ---- templates ---------------------------------------------------------- */

enum esc { ESC_URL, ESC_JSON, ESC_NONE };

/* Length of the placeholder word at t ("{word}"), 0 if t is no
 * placeholder; *ret_word points at the word. */
static size_t placeholder(const char *t, const char **ret_word)
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

/* Checks template t; ORs 1 (tracking) / 2 (api_key) into *uses. */
static enum sw_err tmpl_check(const char *key, const char *t, unsigned *uses, char *errbuf,
			      size_t errlen)
{
	const char *w;

	for (; *t != '\0'; t++) {
		size_t len = placeholder(t, &w);

		if (len == 8 && strncmp(w, "tracking", 8) == 0)
			*uses |= 1;
		else if (len == 7 && strncmp(w, "api_key", 7) == 0)
			*uses |= 2;
		else if (len > 0)
			return bad(errbuf, errlen, key,
				   "unknown placeholder (want {tracking} or {api_key})", t);
		else if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return bad(errbuf, errlen, key, "control character", "");
		t += len ? len + 1 : 0;
	}
	return SW_OK;
}

static void put_escaped(FILE *f, const char *v, enum esc esc)
{
	char *u;

	if (esc == ESC_URL) {
		u = sw_courier_url_escape(v);
		fputs(u, f);
		free(u);
		return;
	}
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (esc == ESC_JSON && (c == '"' || c == '\\'))
			fprintf(f, "\\%c", c);
		else if (esc == ESC_JSON && c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

/* t with its placeholders replaced; new string. */
static char *tmpl_expand(const char *t, const char *tracking, const char *api_key, enum esc esc)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	const char *w;

	if (f == NULL)
		abort(); /* out of memory, as xmalloc */
	for (; *t != '\0'; t++) {
		size_t len = placeholder(t, &w);

		if (len == 8 && strncmp(w, "tracking", 8) == 0) {
			put_escaped(f, tracking, esc);
			t += len + 1;
		} else if (len == 7 && strncmp(w, "api_key", 7) == 0) {
			put_escaped(f, api_key ? api_key : "", esc);
			t += len + 1;
		} else {
			fputc(*t, f);
		}
	}
	if (fclose(f) != 0 || out == NULL)
		abort();
	return out;
}

/* ---- times -------------------------------------------------------------- */

#define SEEN_DATE 7 /* year, month, day */

struct tparts {
	int y, mo, d, h, mi, s;
	int32_t nsec, off;
	bool has_off;
	unsigned seen; /* 1 year, 2 month, 4 day, 8 hour, 16 minute */
};

static const char *take_digits(const char *s, int min, int max, int *ret)
{
	int v = 0, i = 0;

	while (i < max && isdigit((unsigned char)s[i]))
		v = v * 10 + (s[i++] - '0');
	if (i < min)
		return NULL;
	*ret = v;
	return s + i;
}

static const char *take_month(const char *s, int *ret)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, months + 3 * i, 3) == 0) {
			*ret = i + 1;
			return s + 3;
		}
	return NULL;
}

static const char *take_offset(const char *s, struct tparts *tp)
{
	char buf[8];
	size_t len = strspn(s, "+-0123456789:Zz");

	if (len == 0 || len >= sizeof(buf))
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sw_time_parse_offset(buf, &tp->off, NULL, 0) != SW_OK)
		return NULL;
	tp->has_off = true;
	return s + len;
}

/* One directive c at s; the rest of s, or NULL. */
static const char *take_field(char c, const char *s, struct tparts *tp)
{
	int v = 0;
	const char *e;

	switch (c) {
	case 'Y':
		tp->seen |= 1;
		return take_digits(s, 4, 4, &tp->y);
	case 'y':
		tp->seen |= 1;
		e = take_digits(s, 2, 2, &v);
		tp->y = 2000 + v;
		return e;
	case 'm':
		tp->seen |= 2;
		return take_digits(s, 1, 2, &tp->mo);
	case 'b':
		tp->seen |= 2;
		return take_month(s, &tp->mo);
	case 'd':
		tp->seen |= 4;
		return take_digits(s, 1, 2, &tp->d);
	case 'H':
		tp->seen |= 8;
		return take_digits(s, 1, 2, &tp->h);
	case 'M':
		tp->seen |= 16;
		return take_digits(s, 2, 2, &tp->mi);
	case 'S':
		return take_digits(s, 2, 2, &tp->s);
	case 'z':
		return take_offset(s, tp);
	case 'f':
		e = take_digits(s, 1, 9, &v);
		tp->nsec = v;
		for (long k = e ? e - s : 9; k < 9; k++)
			tp->nsec *= 10;
		return e;
	case '%':
		return *s == '%' ? s + 1 : NULL;
	default:
		return NULL;
	}
}

/* Matches s against fmt.  date_only: the end of s is fine once year,
 * month and day are read (ETA "26/11/2026" against "%d/%m/%Y %H:%M"). */
static bool scan_pattern(const char *fmt, const char *s, bool date_only, struct tparts *tp)
{
	memset(tp, 0, sizeof(*tp));
	while (*fmt != '\0' && s != NULL) {
		if (date_only && *s == '\0' && (tp->seen & SEEN_DATE) == SEEN_DATE)
			return true;
		if (*fmt == '%') {
			s = take_field(fmt[1], s, tp);
			fmt += fmt[1] ? 2 : 1;
		} else if (*fmt == ' ') {
			if (*s != ' ')
				return false;
			s += strspn(s, " ");
			fmt++;
		} else if (*s++ != *fmt++) {
			return false;
		}
	}
	return s != NULL && *s == '\0' && *fmt == '\0';
}

/* true if fmt has only known directives and at least a date, hour and
 * minute. */
static bool pattern_ok(const char *fmt)
{
	struct tparts tp = {0};

	if (strlen(fmt) > FORMAT_MAX)
		return false;
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '\0' || strchr("YymbdHMSzf%", p[1]) == NULL)
			return false;
		tp.seen |= strchr("Yy", p[1])	? 1
			   : strchr("mb", p[1]) ? 2
			   : p[1] == 'd'	? 4
			   : p[1] == 'H'	? 8
			   : p[1] == 'M'	? 16
						: 0;
		p++;
	}
	return tp.seen == 31;
}

static bool parts_time(const struct tparts *tp, struct sw_time *ret)
{
	char d[48], t[48];

	snprintf(d, sizeof(d), "%04d-%02d-%02d", tp->y, tp->mo, tp->d);
	snprintf(t, sizeof(t), "%02d:%02d:%02d", tp->h, tp->mi, tp->s);
	if (sw_time_parse_parts(d, t, ret, NULL, 0) != SW_OK)
		return false;
	ret->nsec = tp->nsec;
	return !tp->has_off || sw_time_assume_offset(ret, tp->off) == SW_OK;
}

static bool epoch_time(const char *s, bool ms, struct sw_time *ret)
{
	size_t len = strlen(s);
	int64_t v = 0;

	if (len == 0 || len > 16 || strspn(s, "0123456789") != len)
		return false;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	if (v > (ms ? INT64_C(253402300799999) : INT64_C(253402300799)))
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->utc_sec = ms ? v / 1000 : v;
	ret->nsec = ms ? (int32_t)(v % 1000) * 1000000 : 0;
	ret->flags = SW_TIME_HAS_OFFSET;
	return true;
}

/* Parses s as the spec says; a zone-less value takes offset (if given and
 * valid) or the spec's zone, else stays SW_TIME_ZONE_UNKNOWN. */
static bool spec_time(const struct sw_courier_generic *g, const char *s, const char *offset,
		      struct sw_time *ret)
{
	struct tparts tp;
	int32_t off;
	bool okp;

	if (s == NULL)
		return false;
	if (g->tfmt == TF_RFC3339)
		okp = sw_courier_time(s, ret);
	else if (g->tfmt == TF_PATTERN)
		okp = scan_pattern(g->pattern, s, false, &tp) && parts_time(&tp, ret);
	else
		okp = epoch_time(s, g->tfmt == TF_EPOCH_MS, ret);
	if (!okp || !(ret->flags & SW_TIME_ZONE_UNKNOWN))
		return okp;
	if (offset != NULL && sw_time_parse_offset(offset, &off, NULL, 0) == SW_OK)
		sw_time_assume_offset(ret, off);
	else if (g->zone != NULL)
		sw_time_resolve_zone(ret, g->zone, 0);
	return true;
}

static bool spec_date(const struct sw_courier_generic *g, const char *s, struct sw_date *ret)
{
	struct tparts tp;

	if (sw_courier_date(s, ret))
		return true;
	if (s == NULL || g->tfmt != TF_PATTERN || !scan_pattern(g->pattern, s, true, &tp))
		return false;
	ret->year = tp.y;
	ret->month = tp.mo;
	ret->day = tp.d;
	return sw_date_valid(ret);
}

/* ---- answers ------------------------------------------------------------ */

static enum sw_ship_status map_code(const struct sw_courier_generic *g, const char *code)
{
	for (size_t i = 0; code != NULL && i < g->n_map; i++)
		if (strcasecmp(g->map[i].code, code) == 0)
			return g->map[i].status;
	return SW_SHIP_UNKNOWN;
}

static void read_event(const struct sw_courier_generic *g, struct sw_courier_result *r, json_t *ev,
		       const char *tn)
{
	struct sw_courier_event *e = sw_courier_event_add(r);
	char b1[32], b2[32], b3[32];
	const char *ts = path_str(g->ev_time, ev, tn, b1, sizeof(b1));
	const char *code = path_str(g->ev_code, ev, tn, b2, sizeof(b2));

	e->has_time = spec_time(g, ts, path_str(g->ev_offset, ev, tn, b3, sizeof(b3)), &e->at);
	e->raw_time = sw_courier_strdup(ts);
	e->code = sw_courier_strdup(code);
	e->status = map_code(g, code);
	e->text = sw_courier_strdup(path_str(g->ev_text, ev, tn, b3, sizeof(b3)));
	e->location = sw_courier_strdup(path_str(g->ev_loc, ev, tn, b3, sizeof(b3)));
}

/* Without a shipment-level code: the newest event that says something;
 * a delivered parcel without delivered_at: its newest delivery event. */
static void refine(struct sw_courier_result *r, bool has_code)
{
	for (size_t i = r->n_events; !has_code && i-- > 0;)
		if (r->events[i].status != SW_SHIP_UNKNOWN) {
			r->status = r->events[i].status;
			break;
		}
	for (size_t i = r->n_events;
	     r->status == SW_SHIP_DELIVERED && !r->has_delivered && i-- > 0;)
		if (r->events[i].status == SW_SHIP_DELIVERED && r->events[i].has_time) {
			r->delivered = r->events[i].at;
			r->has_delivered = true;
		}
}

static void read_shipment(const struct sw_courier_generic *g, struct sw_courier_result *r,
			  json_t *sh, const char *tn)
{
	json_t *events = NULL, *ev;
	char b1[32], b2[32];
	const char *code = path_str(g->status, sh, tn, b1, sizeof(b1));
	size_t i;

	if (g->events && path_get(g->events, sh, tn, &events) != HIT)
		events = NULL;
	if (code == NULL && json_array_size(events) == 0) {
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE,
				     "shipment has neither a status nor events");
		return;
	}
	if (!sw_courier_events_fit(r, events, "events"))
		return;
	sw_courier_set_found(r, map_code(g, code), code,
			     path_str(g->status_text, sh, tn, b2, sizeof(b2)));
	json_array_foreach(events, i, ev) read_event(g, r, ev, tn);
	sw_courier_finish(r);
	r->has_eta = spec_date(g, path_str(g->eta, sh, tn, b2, sizeof(b2)), &r->eta);
	r->has_delivered =
	    spec_time(g, path_str(g->delivered, sh, tn, b2, sizeof(b2)), NULL, &r->delivered);
	refine(r, code != NULL);
}

static void parse_root(const struct sw_courier_generic *g, json_t *root, const char *tn,
		       struct sw_courier_result *r)
{
	json_t *v = NULL, *sh = root;
	char *msg;

	if (g->not_found && path_get(g->not_found, root, tn, &v) == HIT && !json_is_null(v) &&
	    !json_is_false(v)) {
		msg = sw_courier_body_message(root);
		sw_courier_set_not_found(r, msg ? msg : "not found (path_not_found)");
		free(msg);
		return;
	}
	switch (g->shipment ? path_get(g->shipment, root, tn, &sh) : HIT) {
	case NO_MATCH:
		sw_courier_set_not_found(r, "no shipment for the number in the answer");
		return;
	case MISSING:
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE,
				     "no shipment at path_shipment");
		return;
	case HIT:
		break;
	}
	if (!json_is_object(sh))
		sw_courier_set_error(r, SW_COURIER_ERR_BAD_RESPONSE, "shipment is not an object");
	else
		read_shipment(g, r, sh, tn);
}

/* The answer was the configured not-found HTTP status. */
static void not_found_status(const struct sw_courier_response *resp, const char *tn,
			     struct sw_courier_result *r)
{
	json_t *root = NULL;
	char *msg = NULL, buf[32];

	if (resp->body != NULL && resp->len > 0 && resp->len <= SW_COURIER_MAX_BODY)
		root = json_loadb(resp->body, resp->len, 0, NULL);
	msg = sw_courier_body_message(root);
	snprintf(buf, sizeof(buf), "HTTP %ld", resp->http_status);
	memset(r, 0, sizeof(*r));
	r->tracking_number = sw_courier_strdup(tn);
	sw_courier_set_not_found(r, msg ? msg : buf);
	free(msg);
	json_decref(root);
}

static enum sw_err generic_parse_conf(const struct sw_courier_conf *conf,
				      const struct sw_courier_response *resp,
				      const char *const *numbers, size_t n,
				      struct sw_courier_result *res)
{
	const struct sw_courier_generic *g = conf ? conf->generic : NULL;
	json_t *root;

	if (g == NULL || resp == NULL || numbers == NULL || numbers[0] == NULL || res == NULL ||
	    n != 1)
		return SW_EINVAL;
	if (g->not_found_status != 0 && resp->http_status == g->not_found_status) {
		not_found_status(resp, numbers[0], &res[0]);
		return SW_OK;
	}
	root = sw_courier_open(resp, numbers, n, res, false);
	if (root == NULL)
		return SW_OK;
	parse_root(g, root, numbers[0], &res[0]);
	json_decref(root);
	return SW_OK;
}

static enum sw_err generic_parse(const struct sw_courier_response *resp, const char *const *numbers,
				 size_t n, struct sw_courier_result *res)
{
	(void)resp;
	(void)numbers;
	(void)n;
	(void)res;
	return SW_EINVAL; /* needs the configuration: parse_response_conf */
}

/* ---- requests ----------------------------------------------------------- */

static enum sw_err generic_build(const struct sw_courier_conf *conf, const char *token,
				 const char *req_id, const char *const *numbers, size_t n,
				 struct sw_courier_request *ret_req)
{
	const struct sw_courier_generic *g = conf ? conf->generic : NULL;
	const char *tn, *key = conf ? conf->api_key : NULL;
	enum sw_err rc;

	(void)token;
	(void)req_id;
	rc = sw_courier_build_start(conf, ret_req, numbers, n, 1);
	if (rc != SW_OK)
		return rc;
	if (g == NULL)
		return SW_EINVAL;
	tn = numbers[0];
	for (const char *p = tn; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return SW_EINVAL; /* could split a header */
	if (g->needs_key && !sw_courier_cred_ok(key))
		return SW_EAUTH;
	sw_courier_req_init(ret_req, g->method, tmpl_expand(g->url, tn, key, ESC_URL));
	for (size_t i = 0; i < g->n_hdr; i++) {
		char *v = tmpl_expand(g->hdr[i].value, tn, key, ESC_NONE);

		sw_courier_req_header(ret_req, g->hdr[i].name, "%s", v);
		explicit_bzero(v, strlen(v)); /* may hold the key */
		free(v);
	}
	if (!g->has_accept)
		sw_courier_req_header(ret_req, "Accept", "application/json");
	if (g->method == SW_COURIER_POST) {
		sw_courier_req_body(ret_req, g->body ? tmpl_expand(g->body, tn, key, ESC_JSON)
						     : xstrdup(""));
		if (!g->has_ctype)
			sw_courier_req_header(ret_req, "Content-Type", "application/json");
	}
	return SW_OK;
}

const char *const sw_generic_method_words[] = {"GET", "POST", NULL};

const struct sw_courier sw_courier_generic = {
    .name = "generic",
    .info = NULL, /* no courier of its own */
    .max_batch = 1,
    .auth = SW_COURIER_AUTH_API_KEY,
    .default_base_url = "",
    .build_auth_request = NULL,
    .parse_auth_response = NULL,
    .build_request = generic_build,
    .parse_response = generic_parse,
    .parse_response_conf = generic_parse_conf,
};

/* ---- compiling the configuration ---------------------------------------- */

void sw_generic_free(struct sw_courier_generic *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < N_PATHS; i++)
		path_free(*(struct path **)((char *)g + path_opts[i].spec_off));
	for (size_t i = 0; i < g->n_hdr; i++) {
		free(g->hdr[i].name);
		free(g->hdr[i].value);
	}
	for (size_t i = 0; i < g->n_map; i++)
		free(g->map[i].code);
	free(g->map);
	free(g->url);
	free(g->body);
	free(g->pattern);
	free(g->zone);
	free(g);
}

const char *sw_generic_conf_used(const struct sw_generic_conf *gc)
{
	for (size_t i = 0; i < N_STRS; i++)
		if (conf_str(gc, str_opts[i].off))
			return str_opts[i].key;
	for (size_t i = 0; i < N_PATHS; i++)
		if (conf_str(gc, path_opts[i].conf_off))
			return path_opts[i].key;
	if (gc->not_found_status != 0)
		return "not_found_status";
	return gc->method != SW_COURIER_GET ? "method" : NULL;
}

/* A header name is an RFC 9110 token. */
static bool token_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return false;
	return len > 0;
}

/* Header names that carry credentials (their value must use {api_key}). */
static bool secret_name(const char *name)
{
	return sw_courier_contains(name, "auth") || sw_courier_contains(name, "key") ||
	       sw_courier_contains(name, "token") || sw_courier_contains(name, "secret");
}

static enum sw_err compile_header(struct sw_courier_generic *g, const char *key, const char *text,
				  unsigned *uses, char *errbuf, size_t errlen)
{
	const char *colon = strchr(text, ':'), *v;
	unsigned mine = 0;
	size_t nlen;

	if (colon == NULL || !token_ok(text, (size_t)(colon - text)))
		return bad(errbuf, errlen, key, "want 'Name: value'", text);
	nlen = (size_t)(colon - text);
	v = colon + 1 + strspn(colon + 1, " \t");
	if (tmpl_check(key, v, &mine, errbuf, errlen) != SW_OK)
		return SW_ECONF;
	g->hdr[g->n_hdr].name = xstrndup(text, nlen);
	if (secret_name(g->hdr[g->n_hdr].name) && !(mine & 2)) {
		snprintf(errbuf, errlen,
			 "%s: secrets are not written in the file; use {api_key} with "
			 "api_key_file or api_key_env: '%s'",
			 key, g->hdr[g->n_hdr].name);
		free(g->hdr[g->n_hdr].name);
		return SW_ECONF;
	}
	g->hdr[g->n_hdr].value = xstrdup(v);
	g->has_accept |= strcasecmp(g->hdr[g->n_hdr].name, "Accept") == 0;
	g->has_ctype |= strcasecmp(g->hdr[g->n_hdr].name, "Content-Type") == 0;
	g->n_hdr++;
	*uses |= mine;
	return SW_OK;
}

static enum sw_err compile_request(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				   char *errbuf, size_t errlen)
{
	unsigned uses = 0;
	const char *url = gc->url;

	if (url == NULL || *url == '\0')
		return bad(errbuf, errlen, "url", "required with adapter = generic", "");
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return bad(errbuf, errlen, "url", "want an http:// or https:// URL", url);
	if (strpbrk(url, " \"<>\\^`|") != NULL)
		return bad(errbuf, errlen, "url", "characters not allowed in a URL", url);
	if (tmpl_check("url", url, &uses, errbuf, errlen) != SW_OK)
		return SW_ECONF;
	g->url = xstrdup(url);
	g->method = gc->method == SW_COURIER_POST ? SW_COURIER_POST : SW_COURIER_GET;
	if (gc->body && *gc->body) {
		if (g->method != SW_COURIER_POST)
			return bad(errbuf, errlen, "body", "only with method = POST", gc->body);
		if (tmpl_check("body", gc->body, &uses, errbuf, errlen) != SW_OK)
			return SW_ECONF;
		g->body = xstrdup(gc->body);
	}
	for (size_t i = 0; i < SW_GENERIC_HEADERS; i++)
		if (gc->header[i] && *gc->header[i] &&
		    compile_header(g, str_opts[2 + i].key, gc->header[i], &uses, errbuf, errlen) !=
			SW_OK)
			return SW_ECONF;
	if (!(uses & 1))
		return bad(errbuf, errlen, "url", "neither url nor body uses {tracking}", url);
	g->needs_key = uses & 2;
	return SW_OK;
}

static enum sw_err compile_paths(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				 char *errbuf, size_t errlen)
{
	const char *what;

	for (size_t i = 0; i < N_PATHS; i++) {
		const char *text = conf_str(gc, path_opts[i].conf_off);
		struct path **dst = (struct path **)((char *)g + path_opts[i].spec_off);

		if (text == NULL)
			continue;
		if (strncmp(path_opts[i].key, "path_event_", 11) == 0 && gc->path_events == NULL)
			return bad(errbuf, errlen, path_opts[i].key, "needs path_events", text);
		*dst = parse_path(text, &what);
		if (*dst == NULL)
			return bad(errbuf, errlen, path_opts[i].key, what, text);
	}
	if (g->status == NULL && g->events == NULL)
		return bad(errbuf, errlen, "path_status", "set path_status or path_events", "");
	return SW_OK;
}

static enum sw_err compile_time(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
				char *errbuf, size_t errlen)
{
	const char *f = gc->time_format;

	if (f == NULL || *f == '\0' || strcmp(f, "rfc3339") == 0) {
		g->tfmt = TF_RFC3339;
	} else if (strcmp(f, "epoch") == 0 || strcmp(f, "epoch_ms") == 0) {
		g->tfmt = f[5] ? TF_EPOCH_MS : TF_EPOCH;
	} else if (pattern_ok(f)) {
		g->tfmt = TF_PATTERN;
		g->pattern = xstrdup(f);
	} else {
		return bad(errbuf, errlen, "time_format",
			   "want rfc3339, epoch, epoch_ms or a pattern with %Y %m %d %H %M "
			   "(also %y %b %S %f %z %%)",
			   f);
	}
	if (gc->time_zone && *gc->time_zone) {
		if (!sw_tz_valid(gc->time_zone))
			return bad(errbuf, errlen, "time_zone", "unknown time zone", gc->time_zone);
		g->zone = xstrdup(gc->time_zone);
	}
	return SW_OK;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* One "CODE=status" item of key; appended to g->map. */
static enum sw_err map_item(struct sw_courier_generic *g, const char *key, const char *item,
			    size_t len, char *errbuf, size_t errlen)
{
	char code[NAME_MAX_LEN + 1], status[32], whole[2 * NAME_MAX_LEN];
	const char *eq = memchr(item, '=', len), *st;
	size_t clen = eq ? (size_t)(eq - item) : 0, slen;
	enum sw_ship_status s;

	snprintf(whole, sizeof(whole), "%.*s", (int)len, item);
	if (eq == NULL)
		return bad(errbuf, errlen, key, "want CODE=status", whole);
	st = eq + 1;
	slen = len - clen - 1;
	trim(&item, &clen);
	trim(&st, &slen);
	if (clen == 0 || clen > NAME_MAX_LEN || slen >= sizeof(status))
		return bad(errbuf, errlen, key, "want CODE=status", whole);
	snprintf(code, sizeof(code), "%.*s", (int)clen, item);
	snprintf(status, sizeof(status), "%.*s", (int)slen, st);
	if (sw_store_ship_status_parse(status, &s) != SW_OK)
		return bad(errbuf, errlen, key, "unknown canonical status", status);
	for (size_t i = 0; i < g->n_map; i++)
		if (strcasecmp(g->map[i].code, code) == 0)
			return bad(errbuf, errlen, key, "code mapped twice", code);
	if (g->n_map >= MAP_MAX)
		return bad(errbuf, errlen, key, "too many codes (max 256)", code);
	g->map = xreallocarray(g->map, g->n_map + 1, sizeof(*g->map));
	g->map[g->n_map].code = xstrdup(code);
	g->map[g->n_map++].status = s;
	return SW_OK;
}

static enum sw_err compile_map(struct sw_courier_generic *g, const struct sw_generic_conf *gc,
			       char *errbuf, size_t errlen)
{
	for (size_t k = 0; k < SW_GENERIC_MAPS; k++) {
		const char *key = str_opts[8 + k].key, *s = gc->status_map[k];

		while (s != NULL && *s != '\0') {
			size_t len = strcspn(s, ","), tlen = len;
			const char *t = s;

			trim(&t, &tlen);
			if (tlen > 0 && map_item(g, key, s, len, errbuf, errlen) != SW_OK)
				return SW_ECONF;
			s += len + (s[len] == ',');
		}
	}
	if (g->n_map == 0)
		return bad(errbuf, errlen, "status_map", "required with adapter = generic", "");
	return SW_OK;
}

enum sw_err sw_generic_compile(const struct sw_generic_conf *gc,
			       struct sw_courier_generic **ret_spec, char *errbuf, size_t errlen)
{
	struct sw_courier_generic *g;

	if (ret_spec == NULL)
		return SW_EINVAL;
	*ret_spec = NULL;
	if (gc == NULL)
		return SW_EINVAL;
	g = xcalloc(1, sizeof(*g));
	if (compile_request(g, gc, errbuf, errlen) != SW_OK ||
	    compile_paths(g, gc, errbuf, errlen) != SW_OK ||
	    compile_time(g, gc, errbuf, errlen) != SW_OK ||
	    compile_map(g, gc, errbuf, errlen) != SW_OK)
		goto fail;
	if (gc->not_found_status != 0 &&
	    (gc->not_found_status < 400 || gc->not_found_status > 499 ||
	     gc->not_found_status == 401 || gc->not_found_status == 403 ||
	     gc->not_found_status == 429)) {
		char num[24];

		snprintf(num, sizeof(num), "%" PRId64, gc->not_found_status);
		bad(errbuf, errlen, "not_found_status", "want a 4xx other than 401 403 429", num);
		goto fail;
	}
	g->not_found_status = (long)gc->not_found_status;
	*ret_spec = g;
	return SW_OK;
fail:
	sw_generic_free(g);
	return SW_ECONF;
}
