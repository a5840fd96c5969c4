/*
 * rules.c - [alerts] and [rule NAME] settings of the alert engine (see
 * rules.h).
 *
 * A rule's thresholds are read twice: once through a table of DURATION
 * options (validation and FILE:LINE errors come from lib/conf), once
 * through a twin table of STRING options with no defaults, which tells
 * which keys the section actually set; unset ones inherit the default
 * rule's value.  Both tables come from one list of kinds.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/rules.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

/* Each kind's name, built-in threshold (how long after the fact it counts)
 * and threshold help, from its row of SW_SLIP_KINDS (kinds.h).  The name is
 * also the kind's threshold key in [rule NAME] (lib/conf tables need
 * constant names). */
#define NAME_ROW(id, name, def_ms, help) [SW_SLIP_##id] = name,
static const char *const slip_names[SW_SLIP_LAST] = { SW_SLIP_KINDS(NAME_ROW) };
#undef NAME_ROW

#define DEFAULT_ROW(id, name, def_ms, help) [SW_SLIP_##id] = def_ms,
static const int64_t slip_defaults_ms[SW_SLIP_LAST] = { SW_SLIP_KINDS(DEFAULT_ROW) };
#undef DEFAULT_ROW

#define HELP_ROW(id, name, def_ms, help) [SW_SLIP_##id] = help,
static const char *const slip_help[SW_SLIP_LAST] = { SW_SLIP_KINDS(HELP_ROW) };
#undef HELP_ROW

const char *sw_slip_name(enum sw_slip k)
{
	return (unsigned)k < SW_SLIP_LAST ? slip_names[k] : "?";
}

enum sw_err sw_slip_from_name(const char *name, enum sw_slip *ret)
{
	for (int i = 0; name && i < SW_SLIP_LAST; i++)
		if (strcmp(name, slip_names[i]) == 0) {
			*ret = (enum sw_slip)i;
			return SW_OK;
		}
	return SW_ENOTFOUND;
}

/* ---- [alerts] ------------------------------------------------------------ */

#define A(f) offsetof(struct sw_alerts_conf, f)
#define MIN_MS(x) ((int64_t)(x))
const struct sw_conf_opt sw_alerts_conf_table[] = {
    { "templates", SW_CONF_PATH, A(templates), 0, 0, 0, 0, NULL, DATADIR "/templates", 0,
      "customer email templates: DIR/<locale>/<kind>.tmpl" },
    { "shop_name", SW_CONF_STRING, A(shop_name), 0, 0, 0, 0, NULL, NULL, 0,
      "the shop's name as customers know it (required when email = yes)" },
    { "unsubscribe_one_click", SW_CONF_BOOL, A(one_click), 0, 0, 0, 0, NULL, "no", 0,
      "announce RFC 8058 one-click unsubscribe (unsubscribe_url must accept POST)" },
    { "tracking_url", SW_CONF_STRING, A(tracking_url), 0, 0, 0, 0, NULL, NULL, 0,
      "tracking page for customers: https URL with {courier} and {tracking}" },
    { "unsubscribe_url", SW_CONF_STRING, A(unsubscribe_url), 0, 0, 0, 0, NULL, NULL, 0,
      "the shop's unsubscribe page: https URL with {email} (required when email = yes)" },
    { "quiet_hours", SW_CONF_STRING, A(quiet_hours), 0, 0, 0, 0, NULL, "21:00-08:00", 0,
      "no customer email in these local hours (customer's zone); empty: none" },
    { "urgent", SW_CONF_STRING, A(urgent), 0, 0, 0, 0, NULL,
      "attempt_fail,available_for_pickup", 0, "kinds sent even during quiet hours" },
    { "default_timezone", SW_CONF_STRING, A(default_timezone), 0, 0, 0, 0, NULL, "UTC", 0,
      "IANA zone for customers whose order names none" },
    { "email", SW_CONF_BOOL, A(email), 0, 0, 0, 0, NULL, "no", 0,
      "email customers about their slipped orders (off until configured)" },
    { "daily_cap", SW_CONF_INT, A(daily_cap), 0, 100, 0, 0, NULL, "3", 0,
      "emails per customer per local day (0: no cap); the rest are suppressed" },
    { "send_rate", SW_CONF_DOUBLE, A(send_rate), 0, 0, 0.01, 10000, NULL, "10", 0,
      "emails per second at most, all customers together" },
    { "retry_min", SW_CONF_DURATION, A(retry_min_ms), MIN_MS(1000), MIN_MS(86400000), 0, 0,
      NULL, "1m", 0, "first retry after a temporary SMTP failure" },
    { "retry_max", SW_CONF_DURATION, A(retry_max_ms), MIN_MS(1000), MIN_MS(86400000), 0, 0,
      NULL, "1h", 0, "longest wait between retries (the wait doubles up to this)" },
    { "give_up_after", SW_CONF_DURATION, A(give_up_ms), MIN_MS(60000), MIN_MS(30LL * 86400000),
      0, 0, NULL, "2d", 0, "a message still not accepted this long after it was queued fails" },
    { "lease", SW_CONF_DURATION, A(lease_ms), MIN_MS(1000), MIN_MS(86400000), 0, 0, NULL, "5m",
      0, "a message claimed by a sender that died is retried after this" },
    { "journal_interval", SW_CONF_DURATION, A(journal_ms), MIN_MS(10), MIN_MS(60000), 0, 0, NULL,
      "250ms", 0, "how often the event journal is read for new events" },
    { "feed_window", SW_CONF_DURATION, A(feed_window_ms), MIN_MS(60000), MIN_MS(7LL * 86400000),
      0, 0, NULL, "2h", 0, "a courier that answered within this is healthy (stalled needs it)" },
    { "batch", SW_CONF_INT, A(batch), 1, 10000, 0, 0, NULL, "500", 0,
      "journal events or outbox messages handled per round" },
    { "settle", SW_CONF_DURATION, A(settle_ms), 0, MIN_MS(86400000), 0, 0, NULL, "5m", 0,
      "a customer notice waits this long after its slip (per kind: [rule] settle_KIND), "
      "then is re-checked and sent only if still true" },
    { "followup", SW_CONF_STRING, A(followup), 0, 0, 0, 0, NULL,
      "ship_late,no_first_scan,stalled,attempt_fail,exception,eta_slip,late", 0,
      "kinds whose resolution earns the customer told about them one good-news follow-up" },
    { "channel", SW_CONF_STRING, A(channel), 0, 0, 0, 0, NULL, "email", 0,
      "how customers are told, unless their order says otherwise: email or webhook "
      "([customer_webhook])" },
    { "warehouse_feed_window", SW_CONF_DURATION, A(warehouse_feed_window_ms), MIN_MS(60000),
      MIN_MS(7LL * 86400000), 0, 0, NULL, "30m", 0,
      "a warehouse that published nothing for this long within its working hours is "
      "unhealthy: its ship_late notices are held" },
    { "warehouse_feed_settle", SW_CONF_DURATION, A(warehouse_feed_settle_ms), 0,
      MIN_MS(3600000), 0, 0, NULL, "5m", 0,
      "a warehouse feed that resumes after being unhealthy stays so this long, while the "
      "backlog it buffered lands (0: off)" },
    { "feed_error_rate", SW_CONF_DOUBLE, A(feed_error_rate), 0, 0, 0, 100, NULL, "50", 0,
      "a courier whose API failed more than this % of its answers within feed_window is "
      "unhealthy: its stalled, no_first_scan and late notices are held" },
    { "stage_baseline_days", SW_CONF_INT, A(stage_baseline_days), 1, 365, 0, 0, NULL, "28", 0,
      "the days of history behind each lane's usual (p90) stage durations" },
    { "stage_min_samples", SW_CONF_INT, A(stage_min_samples), 1, 100000, 0, 0, NULL, "20", 0,
      "fewest durations a lane needs for its p90; fewer: the warehouse's or courier's" },
    { "engine_lease", SW_CONF_DURATION, A(engine_lease_ms), MIN_MS(3000), MIN_MS(600000), 0, 0,
      NULL, "30s", 0,
      "several engines on one store: the active one holds this lease, renewed every third "
      "of it; a standby takes over once it runs out" },
    { "instance", SW_CONF_STRING, A(instance), 0, 0, 0, 0, NULL, NULL, 0,
      "this engine's name in the lease, unique among the running engines (empty: "
      "HOST:PID; a fixed name lets a restarted engine take its own lease back at once)" },
    { NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL },
};
#undef A

/* ---- [rule NAME] ----------------------------------------------------------- */

/* What one [rule NAME] section holds, as parsed. */
struct rule_raw {
	char *warehouse, *courier, *service_level, *off;
	char *working_hours, *working_timezone;
	int64_t after_ms[SW_SLIP_LAST];
	int64_t settle_ms[SW_SLIP_LAST];
};

/* The same keys as strings, only to see which ones were set. */
struct rule_set {
	char *warehouse, *courier, *service_level, *off;
	char *working_hours, *working_timezone;
	char *after[SW_SLIP_LAST];
	char *settle[SW_SLIP_LAST];
};

#define R(f) offsetof(struct rule_raw, f)
#define S(f) offsetof(struct rule_set, f)
#define MATCH_ROWS(M)                                                                              \
	{ "warehouse", SW_CONF_STRING, M(warehouse), 0, 0, 0, 0, NULL, NULL, 0,                    \
	  "match: this warehouse id only" },                                                       \
	    { "courier", SW_CONF_STRING, M(courier), 0, 0, 0, 0, NULL, NULL, 0,                    \
	      "match: this courier section only" },                                                \
	    { "service_level", SW_CONF_STRING, M(service_level), 0, 0, 0, 0, NULL, NULL, 0,        \
	      "match: this service level only" },                                                  \
	    { "off", SW_CONF_STRING, M(off), 0, 0, 0, 0, NULL, NULL, 0,                            \
	      "slip kinds not detected under this rule, comma-separated" },                        \
	    { "working_hours", SW_CONF_STRING, M(working_hours), 0, 0, 0, 0, NULL, NULL, 0,        \
	      "the warehouse's working hours, START-END local time, for its feed's health" },     \
	    { "working_timezone", SW_CONF_STRING, M(working_timezone), 0, 0, 0, 0, NULL, NULL, 0,  \
	      "IANA zone of working_hours (default: [alerts] default_timezone)" }
#define DURATION_ROW(id, name, def_ms, help)                                                       \
	{ name, SW_CONF_DURATION, R(after_ms[SW_SLIP_##id]), 0, MIN_MS(365LL * 86400000), 0, 0,    \
	  NULL, NULL, 0, help },
#define STRING_ROW(id, name, ...)                                                                  \
	{ name, SW_CONF_STRING, S(after[SW_SLIP_##id]), 0, 0, 0, 0, NULL, NULL, 0, NULL },
#define SETTLE_ROW(id, name, ...)                                                                  \
	{ "settle_" name, SW_CONF_DURATION, R(settle_ms[SW_SLIP_##id]), 0, MIN_MS(86400000), 0, 0, \
	  NULL, NULL, 0, NULL },
#define SETTLE_SET_ROW(id, name, ...)                                                              \
	{ "settle_" name, SW_CONF_STRING, S(settle[SW_SLIP_##id]), 0, 0, 0, 0, NULL, NULL, 0, NULL },

static const struct sw_conf_opt rule_table[] = {
    MATCH_ROWS(R),
    SW_SLIP_KINDS(DURATION_ROW)
    SW_SLIP_KINDS(SETTLE_ROW)
    { NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL },
};

static const struct sw_conf_opt rule_set_table[] = {
    MATCH_ROWS(S),
    SW_SLIP_KINDS(STRING_ROW)
    SW_SLIP_KINDS(SETTLE_SET_ROW)
    { NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL },
};
#undef R
#undef S

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* ", ship_late, no_first_scan, ...": every name, for error texts. */
#define LISTED(id, name, ...) ", " name
static const char all_kinds[] = SW_SLIP_KINDS(LISTED);
#undef LISTED

/* Parses "kind,kind" into flags[]; SW_ECONF naming the bad word. */
static enum sw_err parse_kinds(const char *list, bool flags[SW_SLIP_LAST], const char *where,
			       const char *key, char *errbuf, size_t errlen)
{
	const char *p = list;

	memset(flags, 0, SW_SLIP_LAST * sizeof(bool));
	while (p && *p) {
		size_t n = strcspn(p, ",");
		char word[32];
		enum sw_slip k;

		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0) {
			if (n >= sizeof(word) ||
			    (memcpy(word, p, n), word[n] = '\0', sw_slip_from_name(word, &k))) {
				snprintf(errbuf, errlen, "%s: %s: '%.*s' is not a slip kind (%s)",
					 where, key, (int)(n > 40 ? 40 : n), p,
					 all_kinds + 2);
				return SW_ECONF;
			}
			flags[k] = true;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return SW_OK;
}

/* "HH:MM" into minutes after midnight; -1 if malformed. */
static int parse_hhmm(const char *s, size_t n)
{
	if (n != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

#define WHERE_LEN 4200 /* "FILE:LINE" */

/* "FILE:LINE" of key in [alerts] (of the section when not set there). */
static const char *alerts_where(const struct sw_conf *conf, const char *key, char *buf)
{
	return sw_conf_where(conf, "alerts", NULL, key, buf, WHERE_LEN);
}

static enum sw_err parse_quiet(struct sw_alerts_conf *c, const struct sw_conf *conf, char *errbuf,
			       size_t errlen)
{
	const char *q = c->quiet_hours, *dash;
	char where[WHERE_LEN];

	c->has_quiet = false;
	if (!q || !*q)
		return SW_OK;
	dash = strchr(q, '-');
	if (dash) {
		c->quiet_start_min = parse_hhmm(q, (size_t)(dash - q));
		c->quiet_end_min = parse_hhmm(dash + 1, strlen(dash + 1));
	}
	if (!dash || c->quiet_start_min < 0 || c->quiet_end_min < 0 ||
	    c->quiet_start_min == c->quiet_end_min) {
		snprintf(errbuf, errlen,
			 "%s: [alerts] quiet_hours: '%.40s' is not START-END in 24 h local time "
			 "(e.g. 21:00-08:00; empty for none)",
			 alerts_where(conf, "quiet_hours", where), q);
		return SW_ECONF;
	}
	c->has_quiet = true;
	return SW_OK;
}

/* "START-END" into h (empty or NULL: all day); false if malformed. */
static bool parse_hours(const char *text, struct sw_wh_hours *h)
{
	const char *dash = text ? strchr(text, '-') : NULL;

	h->all_day = !text || !*text;
	if (h->all_day)
		return true;
	if (!dash)
		return false;
	h->start_min = parse_hhmm(text, (size_t)(dash - text));
	h->end_min = strcmp(dash + 1, "24:00") == 0 ? 24 * 60
						     : parse_hhmm(dash + 1, strlen(dash + 1));
	return h->start_min >= 0 && h->end_min >= 0 && h->start_min != h->end_min;
}

/* Cross-key checks of [alerts]. */
/* [alerts] instance: up to SW_INSTANCE_MAX printable ASCII bytes, no
 * blanks (it names the engine in logs and in the store's leases); empty
 * or unset: HOST:PID, decided by the daemon. */
#define SW_INSTANCE_MAX 128
static enum sw_err check_instance(const struct sw_alerts_conf *c, const struct sw_conf *conf,
				  char *errbuf, size_t errlen)
{
	char where[WHERE_LEN];
	const char *s = c->instance;
	size_t n = s ? strlen(s) : 0;
	bool good = n <= SW_INSTANCE_MAX; /* empty: the default */

	for (size_t i = 0; good && i < n; i++)
		good = s[i] > ' ' && s[i] < 0x7f;
	if (good)
		return SW_OK;
	snprintf(errbuf, errlen,
		 "%s: [alerts] instance: '%.60s' is not a name of up to %d printable ASCII "
		 "characters without blanks",
		 alerts_where(conf, "instance", where), s, SW_INSTANCE_MAX);
	return SW_ECONF;
}

static enum sw_err alerts_check(struct sw_alerts_conf *c, const struct sw_conf *conf,
				char *errbuf, size_t errlen)
{
	char where[WHERE_LEN];
	enum sw_err rc;

	if ((rc = parse_quiet(c, conf, errbuf, errlen)))
		return rc;
	if ((rc = parse_kinds(c->urgent, c->is_urgent, alerts_where(conf, "urgent", where),
			      "[alerts] urgent", errbuf, errlen)))
		return rc;
	if ((rc = parse_kinds(c->followup, c->has_followup, alerts_where(conf, "followup", where),
			      "[alerts] followup", errbuf, errlen)))
		return rc;
	if (!c->channel || (strcmp(c->channel, "email") != 0 && strcmp(c->channel, "webhook") != 0)) {
		snprintf(errbuf, errlen,
			 "%s: [alerts] channel: '%.40s' is not a customer channel (email, webhook)",
			 alerts_where(conf, "channel", where), c->channel ? c->channel : "");
		return SW_ECONF;
	}
	if (!sw_tz_valid(c->default_timezone)) {
		snprintf(errbuf, errlen, "%s: [alerts] default_timezone: '%.60s' is not an IANA zone",
			 alerts_where(conf, "default_timezone", where), c->default_timezone);
		return SW_ECONF;
	}
	if ((rc = check_instance(c, conf, errbuf, errlen)))
		return rc;
	if (c->retry_min_ms > c->retry_max_ms) {
		snprintf(errbuf, errlen, "%s: [alerts] retry_min: longer than retry_max",
			 alerts_where(conf, "retry_min", where));
		return SW_ECONF;
	}
	if (c->email && (!c->shop_name || !*c->shop_name)) {
		snprintf(errbuf, errlen,
			 "%s: [alerts] shop_name: required when email = yes (customers must "
			 "know who writes)",
			 alerts_where(conf, "email", where));
		return SW_ECONF;
	}
	if (c->email && (!c->unsubscribe_url || !*c->unsubscribe_url)) {
		snprintf(errbuf, errlen,
			 "%s: [alerts] unsubscribe_url: required when email = yes (every "
			 "email carries an unsubscribe link)",
			 alerts_where(conf, "email", where));
		return SW_ECONF;
	}
	for (const char *const *k = (const char *const[]){ "tracking_url", "unsubscribe_url", NULL };
	     *k; k++) {
		const char *u = strcmp(*k, "tracking_url") == 0 ? c->tracking_url : c->unsubscribe_url;

		if (u && *u && strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) {
			snprintf(errbuf, errlen, "%s: [alerts] %s: '%.60s' is not an http(s) URL",
				 alerts_where(conf, *k, where), *k, u);
			return SW_ECONF;
		}
	}
	return SW_OK;
}

static void rule_free(struct sw_rule *r);

/* A rule's working_hours and working_timezone into h, inheriting what it
 * does not set from def (NULL: all day in default_timezone). */
static enum sw_err hours_read(struct sw_conf *conf, const char *name, const struct rule_raw *raw,
			      const struct sw_rule *def, struct sw_wh_hours *h, char *errbuf,
			      size_t errlen)
{
	char where[WHERE_LEN];
	const char *zone = raw->working_timezone;

	if (def)
		*h = def->hours;
	else
		h->all_day = true;
	h->timezone = NULL;
	if (raw->working_hours && !parse_hours(raw->working_hours, h)) {
		snprintf(errbuf, errlen,
			 "%s: [rule %s] working_hours: '%.40s' is not START-END in 24 h local time "
			 "(e.g. 08:00-20:00, 22:00-06:00; 00:00-24:00 all day)",
			 sw_conf_where(conf, "rule", name, "working_hours", where, sizeof(where)),
			 name, raw->working_hours);
		return SW_ECONF;
	}
	if (!zone && def)
		zone = def->hours.timezone;
	if (zone && !sw_tz_valid(zone)) {
		snprintf(errbuf, errlen, "%s: [rule %s] working_timezone: '%.60s' is not an IANA zone",
			 sw_conf_where(conf, "rule", name, "working_timezone", where,
				       sizeof(where)),
			 name, zone);
		return SW_ECONF;
	}
	h->timezone = zone ? xstrdup(zone) : NULL;
	return SW_OK;
}

/* Fills a resolved rule from its section; inherits from def (NULL: the
 * built-in defaults are in raw already). */
static enum sw_err rule_read(struct sw_conf *conf, const char *name, const struct sw_rule *def,
			     struct sw_rule *ret, char *errbuf, size_t errlen)
{
	struct rule_raw raw = { 0 };
	struct rule_set set = { 0 };
	char where[WHERE_LEN + 64];
	enum sw_err rc;

	if ((rc = sw_conf_apply(conf, "rule", name, rule_table, &raw, errbuf, errlen)))
		return rc;
	if ((rc = sw_conf_apply(conf, "rule", name, rule_set_table, &set, errbuf, errlen))) {
		sw_conf_free_struct(rule_table, &raw);
		return rc;
	}
	memset(ret, 0, sizeof(*ret));
	ret->name = xstrdup(name);
	ret->warehouse = dup_or_null(raw.warehouse);
	ret->courier = dup_or_null(raw.courier);
	ret->service_level = dup_or_null(raw.service_level);
	for (int k = 0; k < SW_SLIP_LAST; k++) {
		ret->after_ms[k] = set.after[k] || !def ? raw.after_ms[k] : def->after_ms[k];
		ret->settle_ms[k] = set.settle[k] || !def ? raw.settle_ms[k] : def->settle_ms[k];
	}
	if ((rc = hours_read(conf, name, &raw, def, &ret->hours, errbuf, errlen)) != SW_OK) {
		/* errbuf set */
	} else if (set.off) {
		sw_conf_where(conf, "rule", name, "off", where, sizeof(where));
		snprintf(where + strlen(where), sizeof(where) - strlen(where), ": [rule %s]", name);
		rc = parse_kinds(raw.off, ret->off, where, "off", errbuf, errlen);
	} else if (def) {
		memcpy(ret->off, def->off, sizeof(ret->off));
	}
	sw_conf_free_struct(rule_table, &raw);
	sw_conf_free_struct(rule_set_table, &set);
	if (rc != SW_OK)
		rule_free(ret);
	return rc;
}

static void rule_free(struct sw_rule *r)
{
	free(r->hours.timezone);
	free(r->name);
	free(r->warehouse);
	free(r->courier);
	free(r->service_level);
}

static void builtin_default(struct sw_rule *r, int64_t settle_ms)
{
	memset(r, 0, sizeof(*r));
	r->name = xstrdup("(built-in)");
	r->hours.all_day = true;
	memcpy(r->after_ms, slip_defaults_ms, sizeof(r->after_ms));
	for (int k = 0; k < SW_SLIP_LAST; k++)
		r->settle_ms[k] = settle_ms;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_match(const struct sw_rule *a, const struct sw_rule *b)
{
	return same_str(a->warehouse, b->warehouse) && same_str(a->courier, b->courier) &&
	       same_str(a->service_level, b->service_level);
}

static bool is_default(const struct sw_rule *r)
{
	return !r->warehouse && !r->courier && !r->service_level;
}

/* Reads every [rule NAME]: the default first, then the others. */
static enum sw_err rules_read(struct sw_conf *conf, int64_t settle_ms, struct sw_rules *r,
			      char *errbuf, size_t errlen)
{
	char where[WHERE_LEN];
	const char *name;
	size_t i, n = 0;
	enum sw_err rc;

	while (sw_conf_named(conf, "rule", n))
		n++;
	r->rules = xcalloc(n + 1, sizeof(*r->rules));
	builtin_default(&r->rules[0], settle_ms);
	r->n = 1;
	/* pass 1: the default rule (no match keys) replaces the built-in one */
	for (i = 0; (name = sw_conf_named(conf, "rule", i)) != NULL; i++) {
		struct sw_rule tmp;

		if ((rc = rule_read(conf, name, NULL, &tmp, errbuf, errlen)))
			return rc;
		if (!is_default(&tmp)) {
			rule_free(&tmp);
			continue;
		}
		if (strcmp(r->rules[0].name, "(built-in)") != 0) {
			snprintf(errbuf, errlen,
				 "%s: [rule %s]: a second default rule (no warehouse, courier "
				 "or service_level; the first is [rule %s])",
				 sw_conf_where(conf, "rule", name, NULL, where, sizeof(where)), name,
				 r->rules[0].name);
			rule_free(&tmp);
			return SW_ECONF;
		}
		/* thresholds it leaves unset keep the built-in values */
		struct sw_rule builtin = r->rules[0];
		rule_free(&tmp);
		if ((rc = rule_read(conf, name, &builtin, &tmp, errbuf, errlen)))
			return rc;
		rule_free(&builtin);
		r->rules[0] = tmp;
	}
	/* pass 2: the specific rules inherit from the default */
	for (i = 0; (name = sw_conf_named(conf, "rule", i)) != NULL; i++) {
		struct sw_rule *nr = &r->rules[r->n];

		if ((rc = rule_read(conf, name, &r->rules[0], nr, errbuf, errlen)))
			return rc;
		if (is_default(nr)) {
			rule_free(nr);
			continue;
		}
		for (size_t j = 1; j < r->n; j++)
			if (same_match(&r->rules[j], nr)) {
				snprintf(errbuf, errlen,
					 "%s: [rule %s] matches exactly what [rule %s] matches",
					 sw_conf_where(conf, "rule", name, NULL, where, sizeof(where)),
					 name, r->rules[j].name);
				rule_free(nr);
				return SW_ECONF;
			}
		r->n++;
	}
	return SW_OK;
}

const struct sw_wh_hours *sw_rules_warehouse(const struct sw_rules *r, const char *warehouse)
{
	return &sw_rules_pick(r, warehouse, NULL, NULL)->hours;
}

enum sw_err sw_rules_load(struct sw_conf *conf, struct sw_alerts_conf *ret_conf,
			  struct sw_rules *ret_rules, char *errbuf, size_t errlen)
{
	enum sw_err rc;

	memset(ret_conf, 0, sizeof(*ret_conf));
	memset(ret_rules, 0, sizeof(*ret_rules));
	rc = sw_conf_apply(conf, "alerts", NULL, sw_alerts_conf_table, ret_conf, errbuf, errlen);
	if (rc == SW_OK)
		rc = alerts_check(ret_conf, conf, errbuf, errlen);
	if (rc == SW_OK)
		rc = rules_read(conf, ret_conf->settle_ms, ret_rules, errbuf, errlen);
	if (rc != SW_OK) {
		sw_alerts_conf_free(ret_conf);
		sw_rules_free(ret_rules);
	}
	return rc;
}

void sw_alerts_conf_free(struct sw_alerts_conf *c)
{
	sw_conf_free_struct(sw_alerts_conf_table, c);
}

void sw_rules_free(struct sw_rules *r)
{
	for (size_t i = 0; r->rules && i < r->n; i++)
		rule_free(&r->rules[i]);
	free(r->rules);
	r->rules = NULL;
	r->n = 0;
}

/* -1 if a match key of rule excludes the parcel, else its precedence:
 * more keys first, then service_level > courier > warehouse. */
static int rule_score(const struct sw_rule *rule, const char *wh, const char *courier,
		      const char *sl)
{
	int keys = 0, bits = 0;

	if (rule->warehouse) {
		if (!wh || strcmp(wh, rule->warehouse) != 0)
			return -1;
		keys++, bits |= 1;
	}
	if (rule->courier) {
		if (!courier || strcmp(courier, rule->courier) != 0)
			return -1;
		keys++, bits |= 2;
	}
	if (rule->service_level) {
		if (!sl || strcmp(sl, rule->service_level) != 0)
			return -1;
		keys++, bits |= 4;
	}
	return keys * 8 + bits;
}

const struct sw_rule *sw_rules_pick(const struct sw_rules *r, const char *warehouse,
				    const char *courier, const char *service_level)
{
	const struct sw_rule *best = &r->rules[0];
	int best_score = 0;

	for (size_t i = 1; i < r->n; i++) {
		int s = rule_score(&r->rules[i], warehouse, courier, service_level);

		if (s > best_score) {
			best = &r->rules[i];
			best_score = s;
		}
	}
	return best;
}

/* A rule's working hours, as keys that load back. */
static void hours_dump(const struct sw_wh_hours *h, const struct sw_alerts_conf *c,
		       struct sw_buf *out)
{
	if (h->all_day)
		sw_buf_printf(out, "working_hours = 00:00-24:00\n");
	else
		sw_buf_printf(out, "working_hours = %02d:%02d-%02d:%02d\n", h->start_min / 60,
			      h->start_min % 60, h->end_min / 60, h->end_min % 60);
	sw_buf_printf(out, "working_timezone = %s\n",
		      h->timezone ? h->timezone : c->default_timezone);
}

void sw_rules_dump(const struct sw_alerts_conf *c, const struct sw_rules *r, struct sw_buf *out)
{
	sw_conf_dump("alerts", NULL, sw_alerts_conf_table, c, out);
	for (size_t i = 0; i < r->n; i++) {
		const struct sw_rule *rule = &r->rules[i];

		if (i == 0 && strcmp(rule->name, "(built-in)") == 0)
			sw_buf_printf(out, "\n; no [rule NAME] without match keys: built-in values\n"
					   "[rule default]\n");
		else
			sw_buf_printf(out, "\n[rule %s]\n", rule->name);
		if (rule->warehouse)
			sw_buf_printf(out, "warehouse = %s\n", rule->warehouse);
		if (rule->courier)
			sw_buf_printf(out, "courier = %s\n", rule->courier);
		if (rule->service_level)
			sw_buf_printf(out, "service_level = %s\n", rule->service_level);
		for (int k = 0; k < SW_SLIP_LAST; k++) {
			if (rule->off[k])
				sw_buf_printf(out, "; %s is off\n", slip_names[k]);
			else
				sw_buf_printf(out, "%s = %llds ; %s\n", slip_names[k],
					      (long long)(rule->after_ms[k] / 1000), slip_help[k]);
		}
		for (int k = 0; k < SW_SLIP_LAST; k++)
			if (!rule->off[k])
				sw_buf_printf(out, "settle_%s = %llds\n", slip_names[k],
					      (long long)(rule->settle_ms[k] / 1000));
		hours_dump(&rule->hours, c, out);
	}
}

enum sw_err sw_rules_quiet_until(const struct sw_alerts_conf *c, const char *zone, int64_t now,
				 int64_t *ret_until, bool *ret_zone_ok)
{
	struct sw_tz_local lt;
	bool zone_ok = true;
	int cur, start = c->quiet_start_min, end = c->quiet_end_min;
	int64_t wait_min;

	*ret_until = now;
	if (zone == NULL || sw_tz_utc_to_local(zone, now, &lt) != SW_OK) {
		zone_ok = false;
		if (sw_tz_utc_to_local("UTC", now, &lt) != SW_OK)
			goto out;
	}
	if (!c->has_quiet)
		goto out;
	cur = lt.hour * 60 + lt.min;
	if (start < end ? (cur >= start && cur < end) : (cur >= start || cur < end)) {
		wait_min = (end - cur + 24 * 60) % (24 * 60);
		/* local wall-clock minutes; a DST change inside the quiet hours
		 * moves the end by its size, re-checked at send time */
		*ret_until = now + wait_min * 60 - lt.sec;
	}
out:
	if (ret_zone_ok)
		*ret_zone_ok = zone_ok;
	return SW_OK;
}
