/*
 * simconf.c - slipwatch-sim's configuration (simconf.h): option tables for
 * lib/conf.h, then the checks across keys (names of warehouses, couriers
 * and lanes a trouble refers to, spans that fit the run, troubles long
 * enough to be unambiguous slips).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "sim/simconf.h"

static const char *const kind_names[] = {"warehouse_late", "lane_stall", "attempt_fail",
					 "exception",      "api_outage", "feed_stop", NULL};

const char *sim_trouble_kind_name(enum sim_trouble_kind k)
{
	return k < SIM_TROUBLE_LAST ? kind_names[k] : "?";
}

static const struct sim_dest dests[] = {
    {"110", "IN", "110001", "New Delhi", "Asia/Kolkata", "hi-IN", 20},
    {"302", "IN", "302001", "Jaipur", "Asia/Kolkata", "hi-IN", 22},
    {"380", "IN", "380001", "Ahmedabad", "Asia/Kolkata", "gu-IN", 28},
    {"400", "IN", "400001", "Mumbai", "Asia/Kolkata", "en-IN", 30},
    {"700", "IN", "700001", "Kolkata", "Asia/Kolkata", "en-IN", 36},
    {"560", "IN", "560001", "Bengaluru", "Asia/Kolkata", "en-IN", 40},
    {"446", "NP", "44600", "Kathmandu", "Asia/Kathmandu", "ne-NP", 44},
    {"337", "NP", "33700", "Pokhara", "Asia/Kathmandu", "ne-NP", 52},
};

const struct sim_dest *sim_dests(size_t *ret_n)
{
	*ret_n = sizeof(dests) / sizeof(dests[0]);
	return dests;
}

static const char *const courier_names[] = {"dhl", "fedex", "ups"};

#define S(f) offsetof(struct sim_conf, f)
static const struct sw_conf_opt sim_table[] = {
    {"seed", SW_CONF_INT, S(seed), 0, INT64_MAX, 0, 0, NULL, "1", 0,
     "the world's seed: the same seed and file give the same world"},
    {"start", SW_CONF_STRING, S(start_text), 0, 0, 0, 0, NULL, "now", 0,
     "simulated start: 'now' (the clock's now) or RFC 3339 with an offset"},
    {"length", SW_CONF_DURATION, S(length), 3600000, 90LL * 86400000, 0, 0, NULL, "7d", 0,
     "simulated length of the run"},
    {"order_window", SW_CONF_DURATION, S(order_window), 0, 90LL * 86400000, 0, 0, NULL, "0s",
     0, "orders are created this long from the start (0: length - 4d, at least length/2)"},
    {"orders_per_hour", SW_CONF_DOUBLE, S(orders_per_hour), 0, 0, 0.01, 5000, NULL, "20", 0,
     "orders per hour per warehouse at the daily peak"},
    {"split_share", SW_CONF_DOUBLE, S(split_share), 0, 0, 0, 1, NULL, "0.1", 0,
     "share of orders shipped as two parcels"},
    {"duplicate_share", SW_CONF_DOUBLE, S(duplicate_share), 0, 0, 0, 1, NULL, "0.02", 0,
     "share of events delivered twice"},
    {"cancel_share", SW_CONF_DOUBLE, S(cancel_share), 0, 0, 0, 1, NULL, "0.01", 0,
     "share of orders cancelled before picking"},
    {"reorder_share", SW_CONF_DOUBLE, S(reorder_share), 0, 0, 0, 1, NULL, "0.1", 0,
     "share of events held back up to reorder_window"},
    {"reorder_window", SW_CONF_DURATION, S(reorder_window), 0, 3600000, 0, 0, NULL, "30s", 0,
     "how far an event may be delivered late (simulated)"},
    {"out", SW_CONF_PATH, S(out), 0, 0, 0, 0, NULL, "sim-out", 0,
     "directory for truth.json, couriers.conf, progress"},
    {"stalled", SW_CONF_DURATION, S(stalled), 3600000, 30LL * 86400000, 0, 0, NULL, "48h", 0,
     "slipwatch.conf [rule default] stalled, as the truth assumes it"},
    {"no_first_scan", SW_CONF_DURATION, S(no_first_scan), 3600000, 30LL * 86400000, 0, 0,
     NULL, "24h", 0, "slipwatch.conf [rule default] no_first_scan"},
    {"feed_window", SW_CONF_DURATION, S(feed_window), 60000, 7LL * 86400000, 0, 0, NULL, "2h",
     0, "slipwatch.conf [alerts] feed_window"},
    {"warehouse_feed_window", SW_CONF_DURATION, S(warehouse_feed_window), 60000,
     7LL * 86400000, 0, 0, NULL, "30m", 0, "slipwatch.conf [alerts] warehouse_feed_window"},
    {"margin", SW_CONF_DURATION, S(margin), 60000, 86400000, 0, 0, NULL, "2h", 0,
     "a slip true for less than this after it may be sent is only 'may' in the truth"},
    {"quiet_hours", SW_CONF_STRING, S(quiet_text), 0, 0, 0, 0, NULL, "21:00-08:00", 0,
     "slipwatch.conf [alerts] quiet_hours (HH:MM-HH:MM, empty: none)"},
    {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL},
};

static const struct sw_conf_opt mqtt_table[] = {
    {"host", SW_CONF_STRING, S(mqtt_host), 0, 0, 0, 0, NULL, "127.0.0.1", 0, "broker host"},
    {"port", SW_CONF_INT, S(mqtt_port), 1, 65535, 0, 0, NULL, "1883", 0, "broker port"},
    {"topic_prefix", SW_CONF_STRING, S(topic_prefix), 0, 0, 0, 0, NULL, "warehouse", 0,
     "events go to PREFIX/WAREHOUSE/events"},
    {"client_id", SW_CONF_STRING, S(client_id), 0, 0, 0, 0, NULL, "slipwatch-sim", 0,
     "MQTT client id"},
    {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL},
};

static const struct sw_conf_opt api_table[] = {
    {"bind", SW_CONF_STRING, S(api_bind), 0, 0, 0, 0, NULL, "127.0.0.1", 0, "address to bind"},
    {"port", SW_CONF_INT, S(api_port), 0, 65535, 0, 0, NULL, "0", 0, "port (0: any free)"},
    {"api_key", SW_CONF_STRING, S(api_key), 0, 0, 0, 0, NULL, "sim-dhl-key", 0,
     "DHL-API-Key the API accepts"},
    {"client_id", SW_CONF_STRING, S(client_id_api), 0, 0, 0, 0, NULL, "sim-client", 0,
     "FedEx/UPS OAuth client id"},
    {"client_secret", SW_CONF_STRING, S(client_secret), 0, 0, 0, 0, NULL, "sim-secret", 0,
     "FedEx/UPS OAuth client secret"},
    {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL},
};
#undef S

#define W(f) offsetof(struct sim_wh_conf, f)
static const struct sw_conf_opt wh_table[] = {
    {"timezone", SW_CONF_STRING, W(timezone), 0, 0, 0, 0, NULL, "Asia/Kolkata", 0,
     "the warehouse's IANA zone"},
    {"city", SW_CONF_STRING, W(city), 0, 0, 0, 0, NULL, "", 0, "where it is (scans' origin)"},
    {"orders_per_hour", SW_CONF_DOUBLE, W(orders_per_hour), 0, 0, 0, 5000, NULL, "0", 0,
     "peak orders per hour (0: [sim] orders_per_hour)"},
    {"couriers", SW_CONF_STRING, W(couriers_text), 0, 0, 0, 0, NULL, "dhl,fedex,ups", 0,
     "couriers it ships with"},
    {"lanes", SW_CONF_STRING, W(lanes_text), 0, 0, 0, 0, NULL, "", 0,
     "destination postal prefixes it ships to (empty: all)"},
    {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL},
};
#undef W

#define T(f) offsetof(struct sim_trouble_conf, f)
static const struct sw_conf_opt trouble_table[] = {
    {"kind", SW_CONF_ENUM, T(kind), 0, 0, 0, 0, kind_names, NULL, SW_CONF_REQUIRED,
     "what goes wrong"},
    {"warehouse", SW_CONF_STRING, T(warehouse), 0, 0, 0, 0, NULL, NULL, 0, "which warehouse"},
    {"courier", SW_CONF_STRING, T(courier), 0, 0, 0, 0, NULL, NULL, 0, "which courier"},
    {"lane", SW_CONF_STRING, T(lane), 0, 0, 0, 0, NULL, NULL, 0, "which postal prefix"},
    {"from", SW_CONF_STRING, T(from_text), 0, 0, 0, 0, NULL, NULL, SW_CONF_REQUIRED,
     "when it starts, after the start (2d6h)"},
    {"for", SW_CONF_STRING, T(for_text), 0, 0, 0, 0, NULL, NULL, SW_CONF_REQUIRED,
     "how long it lasts (8h)"},
    {"share", SW_CONF_DOUBLE, T(share), 0, 0, 0, 1, NULL, "1", 0,
     "share of the matching orders or parcels hit"},
    {"delay", SW_CONF_DURATION, T(delay), 3600000, 7LL * 86400000, 0, 0, NULL, "8h", 0,
     "warehouse_late: how long after ship-by they ship"},
    {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL},
};
#undef T

enum sw_err sim_parse_span(const char *s, int64_t *ret_sec)
{
	int64_t total = 0;
	bool any = false;

	if (*s == '+')
		s++;
	while (*s) {
		char *end;
		long long v;
		int64_t unit = 1;

		if (!isdigit((unsigned char)*s))
			return SW_EPARSE;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || v > 1000000)
			return SW_EPARSE;
		switch (*end) {
		case 'd': unit = 86400; end++; break;
		case 'h': unit = 3600; end++; break;
		case 'm': unit = 60; end++; break;
		case 's': end++; break;
		case '\0': break;
		default: return SW_EPARSE;
		}
		total += v * unit;
		any = true;
		s = end;
	}
	if (!any)
		return SW_EPARSE;
	*ret_sec = total;
	return SW_OK;
}

/* "WHERE: [kind name] key: what: 'text'" into err; returns SW_ECONF. */
static enum sw_err __attribute__((format(printf, 7, 8)))
bad(const struct sw_conf *conf, const char *kind, const char *name, const char *key, char *err,
    size_t errlen, const char *fmt, ...)
{
	char where[512], what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sw_conf_where(conf, kind, name, key, where, sizeof(where));
	snprintf(err, errlen, "%s: [%s%s%s] %s: %s", where, kind, name ? " " : "", name ? name : "",
		 key, what);
	return SW_ECONF;
}

static const char *courier_static(const char *name)
{
	for (size_t i = 0; i < SIM_MAX_COURIERS; i++)
		if (strcmp(name, courier_names[i]) == 0)
			return courier_names[i];
	return NULL;
}

static bool dest_index(const char *prefix, size_t *ret)
{
	for (size_t i = 0; i < sizeof(dests) / sizeof(dests[0]); i++)
		if (strcmp(prefix, dests[i].prefix) == 0) {
			*ret = i;
			return true;
		}
	return false;
}

/* Splits a comma list into trimmed words (at most max), calling each. */
static size_t split_words(const char *text, char words[][32], size_t max, bool *too_long)
{
	size_t n = 0;
	const char *p = text;

	*too_long = false;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *a = p, *b = p + len;

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			if (n == max || b - a >= 32) {
				*too_long = true;
				return n;
			}
			memcpy(words[n], a, (size_t)(b - a));
			words[n][b - a] = '\0';
			n++;
		}
		p = e ? e + 1 : p + len;
	}
	return n;
}

static bool id_valid(const char *id)
{
	if (!*id || strlen(id) > 32)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

static enum sw_err wh_check(const struct sw_conf *conf, struct sim_wh_conf *w, char *err,
			    size_t errlen)
{
	char words[SIM_MAX_LANES + 1][32];
	bool over;
	size_t n;

	if (!id_valid(w->id))
		return bad(conf, "warehouse", w->id, "id", err, errlen,
			   "want 1..32 of [A-Za-z0-9_-]: '%s'", w->id);
	if (!sw_tz_valid(w->timezone))
		return bad(conf, "warehouse", w->id, "timezone", err, errlen,
			   "not a known IANA zone: '%s'", w->timezone);
	n = split_words(w->couriers_text, words, SIM_MAX_COURIERS, &over);
	if (over || n == 0)
		return bad(conf, "warehouse", w->id, "couriers", err, errlen,
			   "want 1 to 3 of dhl, fedex, ups: '%s'", w->couriers_text);
	for (size_t i = 0; i < n; i++)
		if (!(w->couriers[i] = courier_static(words[i])))
			return bad(conf, "warehouse", w->id, "couriers", err, errlen,
				   "unknown courier (known: dhl, fedex, ups): '%s'", words[i]);
	w->n_couriers = n;
	n = split_words(w->lanes_text, words, SIM_MAX_LANES, &over);
	if (over)
		return bad(conf, "warehouse", w->id, "lanes", err, errlen, "too many lanes: '%s'",
			   w->lanes_text);
	for (size_t i = 0; i < n; i++)
		if (!dest_index(words[i], &w->lanes[i]))
			return bad(conf, "warehouse", w->id, "lanes", err, errlen,
				   "unknown postal prefix (known: 110 302 380 400 700 560 446 "
				   "337): '%s'",
				   words[i]);
	w->n_lanes = n;
	if (n == 0)
		for (size_t i = 0; i < sizeof(dests) / sizeof(dests[0]); i++)
			w->lanes[w->n_lanes++] = i;
	if (!*w->city) {
		free(w->city);
		w->city = xstrdup(w->id);
	}
	return SW_OK;
}

static const struct sim_wh_conf *find_wh(const struct sim_conf *c, const char *id)
{
	for (size_t i = 0; i < c->n_wh; i++)
		if (strcmp(c->wh[i].id, id) == 0)
			return &c->wh[i];
	return NULL;
}

/* What each kind needs named, and how long it must last. */
static enum sw_err trouble_needs(const struct sw_conf *conf, const struct sim_conf *c,
				 const struct sim_trouble_conf *t, char *err, size_t errlen)
{
	const char *n = t->name;
	int64_t min = 3600;

	switch (t->kind) {
	case SIM_TROUBLE_WAREHOUSE_LATE:
	case SIM_TROUBLE_FEED_STOP:
		if (!t->warehouse)
			return bad(conf, "trouble", n, "warehouse", err, errlen,
				   "required for kind %s", sim_trouble_kind_name(t->kind));
		if (t->kind == SIM_TROUBLE_FEED_STOP)
			min = c->warehouse_feed_window + c->margin;
		break;
	case SIM_TROUBLE_LANE_STALL:
		if (!t->courier || !t->lane)
			return bad(conf, "trouble", n, t->courier ? "lane" : "courier", err, errlen,
				   "required for kind lane_stall");
		/* the last scan before the stall may be 8 h before it */
		min = c->stalled + c->margin + 8 * 3600;
		break;
	case SIM_TROUBLE_API_OUTAGE:
		if (!t->courier)
			return bad(conf, "trouble", n, "courier", err, errlen,
				   "required for kind api_outage");
		min = c->feed_window + c->margin;
		break;
	default:
		break;
	}
	if (t->len < min)
		return bad(conf, "trouble", n, "for", err, errlen,
			   "too short for an unambiguous %s (at least %lldh%02lldm): '%s'",
			   sim_trouble_kind_name(t->kind), (long long)(min / 3600),
			   (long long)(min % 3600 / 60), t->for_text);
	return SW_OK;
}

static enum sw_err trouble_check(const struct sw_conf *conf, const struct sim_conf *c,
				 struct sim_trouble_conf *t, char *err, size_t errlen)
{
	const char *n = t->name;
	size_t li;

	if (t->warehouse && !find_wh(c, t->warehouse))
		return bad(conf, "trouble", n, "warehouse", err, errlen,
			   "no [warehouse %s] (nor a built-in one): '%s'", t->warehouse,
			   t->warehouse);
	if (t->courier && !courier_static(t->courier))
		return bad(conf, "trouble", n, "courier", err, errlen,
			   "unknown courier (known: dhl, fedex, ups): '%s'", t->courier);
	if (t->lane && !dest_index(t->lane, &li))
		return bad(conf, "trouble", n, "lane", err, errlen, "unknown postal prefix: '%s'",
			   t->lane);
	if (sim_parse_span(t->from_text, &t->from) != SW_OK)
		return bad(conf, "trouble", n, "from", err, errlen,
			   "not a span such as 2d6h or +8h: '%s'", t->from_text);
	if (sim_parse_span(t->for_text, &t->len) != SW_OK || t->len == 0)
		return bad(conf, "trouble", n, "for", err, errlen,
			   "not a non-zero span such as 8h or 2d: '%s'", t->for_text);
	if (t->from + t->len > c->length)
		return bad(conf, "trouble", n, "for", err, errlen,
			   "ends after the run ([sim] length): '%s'", t->for_text);
	t->delay /= 1000;
	return trouble_needs(conf, c, t, err, errlen);
}

static bool parse_hhmm(const char *s, int *ret)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return false;
	int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
	if (h > 23 || m > 59)
		return false;
	*ret = h * 60 + m;
	return true;
}

static enum sw_err sim_check(const struct sw_conf *conf, struct sim_conf *c, char *err,
			     size_t errlen)
{
	struct sw_time t;
	const char *q = c->quiet_text;

	c->length /= 1000;
	c->order_window /= 1000;
	c->reorder_window /= 1000;
	c->stalled /= 1000;
	c->no_first_scan /= 1000;
	c->feed_window /= 1000;
	c->warehouse_feed_window /= 1000;
	c->margin /= 1000;
	if (strcmp(c->start_text, "now") != 0 &&
	    (sw_time_parse(c->start_text, &t, NULL, 0) != SW_OK ||
	     !(t.flags & SW_TIME_HAS_OFFSET)))
		return bad(conf, "sim", NULL, "start", err, errlen,
			   "want 'now' or RFC 3339 with an offset: '%s'", c->start_text);
	if (c->order_window > c->length)
		return bad(conf, "sim", NULL, "order_window", err, errlen,
			   "longer than [sim] length");
	if (c->order_window == 0) {
		c->order_window = c->length - 4 * 86400;
		if (c->order_window < c->length / 2)
			c->order_window = c->length / 2;
	}
	c->quiet_from = c->quiet_to = 0;
	if (*q && (strlen(q) != 11 || q[5] != '-' || !parse_hhmm(q, &c->quiet_from) ||
		   !parse_hhmm(q + 6, &c->quiet_to)))
		return bad(conf, "sim", NULL, "quiet_hours", err, errlen,
			   "want HH:MM-HH:MM or empty: '%s'", q);
	return SW_OK;
}

static void default_warehouses(struct sim_conf *c)
{
	static const struct {
		const char *id, *zone, *city, *lanes;
	} def[] = {
	    {"w1", "Asia/Kolkata", "Gurugram", "110,302,380,400,700,560"},
	    {"w2", "Asia/Kathmandu", "Kathmandu", "446,337,110"},
	};
	for (size_t i = 0; i < 2; i++) {
		struct sim_wh_conf *w = &c->wh[c->n_wh++];
		w->id = xstrdup(def[i].id);
		w->timezone = xstrdup(def[i].zone);
		w->city = xstrdup(def[i].city);
		w->couriers_text = xstrdup("dhl,fedex,ups");
		w->lanes_text = xstrdup(def[i].lanes);
	}
}

static enum sw_err apply_sections(struct sw_conf *conf, struct sim_conf *c, char *err,
				  size_t errlen)
{
	enum sw_err rc;
	const char *name;

	if ((rc = sw_conf_apply(conf, "sim", NULL, sim_table, c, err, errlen)) ||
	    (rc = sw_conf_apply(conf, "mqtt", NULL, mqtt_table, c, err, errlen)) ||
	    (rc = sw_conf_apply(conf, "api", NULL, api_table, c, err, errlen)) ||
	    (rc = sim_check(conf, c, err, errlen)))
		return rc;
	for (size_t i = 0; conf && (name = sw_conf_named(conf, "warehouse", i)); i++) {
		if (c->n_wh == SIM_MAX_WAREHOUSES)
			return bad(conf, "warehouse", name, "id", err, errlen,
				   "more than %d warehouses", SIM_MAX_WAREHOUSES);
		struct sim_wh_conf *w = &c->wh[c->n_wh++];
		w->id = xstrdup(name);
		if ((rc = sw_conf_apply(conf, "warehouse", name, wh_table, w, err, errlen)))
			return rc;
	}
	if (c->n_wh == 0)
		default_warehouses(c);
	for (size_t i = 0; i < c->n_wh; i++)
		if ((rc = wh_check(conf, &c->wh[i], err, errlen)))
			return rc;
	for (size_t i = 0; conf && (name = sw_conf_named(conf, "trouble", i)); i++) {
		if (c->n_trouble == SIM_MAX_TROUBLES)
			return bad(conf, "trouble", name, "kind", err, errlen,
				   "more than %d troubles", SIM_MAX_TROUBLES);
		struct sim_trouble_conf *t = &c->trouble[c->n_trouble++];
		t->name = xstrdup(name);
		if ((rc = sw_conf_apply(conf, "trouble", name, trouble_table, t, err, errlen)) ||
		    (rc = trouble_check(conf, c, t, err, errlen)))
			return rc;
	}
	return SW_OK;
}

static enum sw_err finish(struct sw_conf *conf, struct sim_conf *c, char *err, size_t errlen)
{
	enum sw_err rc = apply_sections(conf, c, err, errlen);
	const char *kind, *name;
	int line;

	if (rc == SW_OK && conf && sw_conf_unused(conf, 0, &kind, &name, &line) == SW_OK) {
		snprintf(err, errlen, "%s:%d: [%s%s%s]: not a section slipwatch-sim reads",
			 sw_conf_file(conf), line, kind, name ? " " : "", name ? name : "");
		rc = SW_ECONF;
	}
	sw_conf_free(conf);
	if (rc)
		sim_conf_free(c);
	return rc;
}

enum sw_err sim_conf_load(const char *path, struct sim_conf *c, char *err, size_t errlen)
{
	struct sw_conf *conf = NULL;
	enum sw_err rc;

	memset(c, 0, sizeof(*c));
	if (path && (rc = sw_conf_load(path, &conf, err, errlen)))
		return rc;
	c->file = xstrdup(path ? path : "built-in default");
	return finish(conf, c, err, errlen);
}

enum sw_err sim_conf_load_string(const char *text, const char *name, struct sim_conf *c,
				 char *err, size_t errlen)
{
	struct sw_conf *conf = NULL;
	enum sw_err rc;

	memset(c, 0, sizeof(*c));
	if ((rc = sw_conf_load_string(text, name, &conf, err, errlen)))
		return rc;
	c->file = xstrdup(name);
	return finish(conf, c, err, errlen);
}

void sim_conf_free(struct sim_conf *c)
{
	sw_conf_free_struct(sim_table, c);
	sw_conf_free_struct(mqtt_table, c);
	sw_conf_free_struct(api_table, c);
	for (size_t i = 0; i < c->n_wh; i++) {
		sw_conf_free_struct(wh_table, &c->wh[i]);
		free(c->wh[i].id);
	}
	for (size_t i = 0; i < c->n_trouble; i++) {
		sw_conf_free_struct(trouble_table, &c->trouble[i]);
		free(c->trouble[i].name);
	}
	free(c->file);
	memset(c, 0, sizeof(*c));
}
