/*
 * pages_conf.c - the on-call configuration (see pages.h): [pages], every
 * [page NAME], [route NAME] and, through sw_receivers_load (channel.h),
 * [receiver NAME].
 *
 * Each section is applied with an option table (lib/conf: types, ranges,
 * defaults, unknown keys, FILE:LINE errors), then checked across keys
 * here.  Whether an optional number was written at all (warning,
 * critical, recover, nodata_after, escalate_after, a route's
 * repeat_interval) is told by sw_conf_key_line, so no twin table is
 * needed.  Durations kept in seconds must be whole seconds.  Every error
 * reads "FILE:LINE: [kind NAME] key: what: 'bad'", the line being the
 * key's (the section's when the key is not in the file).
 *
 * The dump writes the effective settings so that loading it again gives
 * the same struct (tests/unit/test_pages_conf.c checks the round trip).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/pages.h"
#include "lib/store_pages.h"
#include "lib/xmalloc.h"

#define WHERE_LEN  4200 /* "FILE:LINE" */
#define LABELS_LEN (SW_LABELS_MAX * (SW_LABEL_KEY_MAX + SW_LABEL_VALUE_MAX + 2) + 1)
#define MS_PER_S   INT64_C(1000)
#define MIN_MS	   (60 * MS_PER_S)
#define HOUR_MS	   (60 * MIN_MS)
#define DAY_MS	   (24 * HOUR_MS)
#define NODATA_MIN_S 900 /* nodata_after's default is at least 15m ... */
#define NODATA_STEPS 3	 /* ... and at least 3 RRD steps */

/* Label keys slipwatch sets itself on every page. */
static const char *const reserved_labels[] = {
    "rule", "signal", "severity", "warehouse", "courier", "lane", "probe", NULL,
};

/* ---- errors ------------------------------------------------------------------ */

/* Writes "WHERE: [kind name] key: " + fmt into err (key NULL: "[kind
 * name]: "), WHERE pointing at key's line.  Returns SW_ECONF. */
static enum sw_err __attribute__((format(printf, 7, 8)))
conf_err(const struct sw_conf *file, const char *kind, const char *name, const char *key,
	 char *err, size_t len, const char *fmt, ...)
{
	char where[WHERE_LEN];
	va_list ap;
	int n;

	sw_conf_where(file, kind, name, key, where, sizeof(where));
	n = snprintf(err, len, "%s: [%s%s%s]%s%s: ", where, kind, name ? " " : "", name ? name : "",
		     key ? " " : "", key ? key : "");
	if (n < 0 || (size_t)n >= len)
		return SW_ECONF;
	va_start(ap, fmt);
	vsnprintf(err + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++) /* one clean line: a tab in a value shows as ? */
		*p = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
	return SW_ECONF;
}

/* *ret_s = ms in seconds; an error if ms is not whole seconds. */
static enum sw_err whole_s(const struct sw_conf *file, const char *kind, const char *name,
			   const char *key, int64_t ms, int64_t *ret_s, char *err, size_t len)
{
	if (ms % MS_PER_S != 0)
		return conf_err(file, kind, name, key, err, len, "not whole seconds: '%" PRId64 "ms'",
				ms);
	*ret_s = ms / MS_PER_S;
	return SW_OK;
}

static bool is_set(const struct sw_conf *file, const char *kind, const char *name, const char *key)
{
	return sw_conf_key_line(file, kind, name, key) != 0;
}

/* A non-empty copy of s, or NULL. */
static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* Parses a match key (empty or blanks: NULL, everything). */
static enum sw_err parse_match(const struct sw_conf *file, const char *kind, const char *name,
			       const char *text, struct sw_matchers **ret, char *err, size_t len)
{
	char why[512];

	*ret = NULL;
	if (!text || text[strspn(text, " \t")] == '\0')
		return SW_OK;
	if (sw_matchers_parse(text, ret, why, sizeof(why)) != SW_OK)
		return conf_err(file, kind, name, "match", err, len, "%s", why);
	return SW_OK;
}

/* ---- [pages] ----------------------------------------------------------------- */

struct pages_raw {
	int64_t interval_ms, repeat_ms, flap_window_ms, flap_limit;
	char *receiver;
	int64_t lease_ms, retry_min_ms, retry_max_ms, give_up_ms;
	char *source;
};

#define P(f) offsetof(struct pages_raw, f)
static const struct sw_conf_opt pages_table[] = {
    { "interval", SW_CONF_DURATION, P(interval_ms), 10 * MS_PER_S, HOUR_MS, 0, 0, NULL, "1m", 0,
      "how often every [page] rule is evaluated" },
    { "repeat_interval", SW_CONF_DURATION, P(repeat_ms), 0, 30 * DAY_MS, 0, 0, NULL, "4h", 0,
      "a firing page not acknowledged is sent again this often (0: never)" },
    { "flap_window", SW_CONF_DURATION, P(flap_window_ms), MIN_MS, DAY_MS, 0, 0, NULL, "30m", 0,
      "flap damping: state changes are counted over this window" },
    { "flap_limit", SW_CONF_INT, P(flap_limit), 1, 100, 0, 0, NULL, "4", 0,
      "more state changes than this within flap_window hold notifications" },
    { "receiver", SW_CONF_STRING, P(receiver), 0, 0, 0, 0, NULL, NULL, 0,
      "the [receiver NAME] of pages no [route] matches" },
    { "lease", SW_CONF_DURATION, P(lease_ms), 5 * MS_PER_S, HOUR_MS, 0, 0, NULL, "60s", 0,
      "a page notification claimed by a sender that died is sent again after this" },
    { "retry_min", SW_CONF_DURATION, P(retry_min_ms), MS_PER_S, HOUR_MS, 0, 0, NULL, "30s", 0,
      "first retry of a page notification after a temporary failure" },
    { "retry_max", SW_CONF_DURATION, P(retry_max_ms), MS_PER_S, DAY_MS, 0, 0, NULL, "10m", 0,
      "longest wait between retries (the wait doubles up to this)" },
    { "give_up_after", SW_CONF_DURATION, P(give_up_ms), MIN_MS, 30 * DAY_MS, 0, 0, NULL, "1d", 0,
      "a page notification still failing this long after it was queued fails for good" },
    { "source", SW_CONF_STRING, P(source), 0, 0, 0, 0, NULL, NULL, 0,
      "where pages come from (PagerDuty payload.source; default: the host name)" },
    { NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL },
};
#undef P

/* The host name, or "slipwatch" when it cannot be had. */
static char *host_name(void)
{
	char h[256];

	if (gethostname(h, sizeof(h)) != 0 || !h[0])
		return xstrdup("slipwatch");
	h[sizeof(h) - 1] = '\0';
	return xstrdup(h);
}

static enum sw_err pages_fill(const struct sw_conf *file, const struct pages_raw *raw,
			      struct sw_pages_conf *c, char *err, size_t len)
{
	const struct {
		const char *key;
		int64_t ms, *out;
	} secs[] = {
	    { "repeat_interval", raw->repeat_ms, &c->repeat_s },
	    { "flap_window", raw->flap_window_ms, &c->flap_window_s },
	    { "lease", raw->lease_ms, &c->lease_s },
	    { "retry_min", raw->retry_min_ms, &c->retry_min_s },
	    { "retry_max", raw->retry_max_ms, &c->retry_max_s },
	    { "give_up_after", raw->give_up_ms, &c->give_up_after_s },
	};
	enum sw_err rc;

	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
		if ((rc = whole_s(file, "pages", NULL, secs[i].key, secs[i].ms, secs[i].out, err,
				  len)))
			return rc;
	if (c->retry_min_s > c->retry_max_s)
		return conf_err(file, "pages", NULL, "retry_min", err, len,
				"longer than retry_max (%" PRId64 "s): '%" PRId64 "s'", c->retry_max_s,
				c->retry_min_s);
	c->interval_ms = raw->interval_ms;
	c->flap_limit = raw->flap_limit;
	c->receiver = dup_or_null(raw->receiver);
	c->source = raw->source && *raw->source ? xstrdup(raw->source) : host_name();
	return SW_OK;
}

static enum sw_err pages_load(struct sw_conf *file, struct sw_pages_conf *c, char *err, size_t len)
{
	struct pages_raw raw = { 0 };
	enum sw_err rc;

	if ((rc = sw_conf_apply(file, "pages", NULL, pages_table, &raw, err, len)))
		return rc;
	rc = pages_fill(file, &raw, c, err, len);
	sw_conf_free_struct(pages_table, &raw);
	return rc;
}

/* ---- [page NAME] ------------------------------------------------------------- */

struct rule_raw {
	char *signal;
	double warning, critical, recover;
	int64_t for_ms, window_ms, min_count, nodata_after_ms, baseline_days;
	double factor;
	int nodata_severity; /* index into severity_words */
	char *match, *labels, *description;
	int customer_message; /* index into message_words */
};

static const char *const severity_words[] = { "warning", "critical", NULL };
static const char *const message_words[] = { "per_parcel", "cohort", NULL };

#define R(f) offsetof(struct rule_raw, f)
static const struct sw_conf_opt rule_table[] = {
    { "signal", SW_CONF_STRING, R(signal), 0, 0, 0, 0, NULL, NULL, SW_CONF_REQUIRED,
      "what the rule watches (slipwatch.conf(5) lists the signals)" },
    { "warning", SW_CONF_DOUBLE, R(warning), 0, 0, 0, 0, NULL, NULL, 0,
      "warning threshold, in the signal's unit" },
    { "critical", SW_CONF_DOUBLE, R(critical), 0, 0, 0, 0, NULL, NULL, 0,
      "critical threshold, in the signal's unit" },
    { "recover", SW_CONF_DOUBLE, R(recover), 0, 0, 0, 0, NULL, NULL, 0,
      "a firing page resolves back past this (default: the lower threshold set)" },
    { "for", SW_CONF_DURATION, R(for_ms), 0, 31 * DAY_MS, 0, 0, NULL, "0s", 0,
      "crossed this long before the page fires" },
    { "window", SW_CONF_DURATION, R(window_ms), MIN_MS, 31 * DAY_MS, 0, 0, NULL, "1h", 0,
      "how far back the signal looks" },
    { "min_count", SW_CONF_INT, R(min_count), 1, 1000000000, 0, 0, NULL, "1", 0,
      "fewer samples in the window than this: too little to judge" },
    { "nodata_after", SW_CONF_DURATION, R(nodata_after_ms), MIN_MS, 31 * DAY_MS, 0, 0, NULL,
      NULL, 0, "RRD signals: no value this long is no data (default: 3 RRD steps, at least 15m)" },
    { "nodata_severity", SW_CONF_ENUM, R(nodata_severity), 0, 0, 0, 0, severity_words, "warning",
      0, "severity of a no-data page" },
    { "match", SW_CONF_STRING, R(match), 0, 0, 0, 0, NULL, NULL, 0,
      "label matchers: the subjects the rule applies to (default: all)" },
    { "labels", SW_CONF_STRING, R(labels), 0, 0, 0, 0, NULL, NULL, 0,
      "k=v,k=v added to the rule's pages (routes and silences match them)" },
    { "description", SW_CONF_STRING, R(description), 0, 0, 0, 0, NULL, NULL, 0,
      "a line added to every page of the rule" },
    { "baseline_days", SW_CONF_INT, R(baseline_days), 0, 365, 0, 0, NULL, "0", 0,
      "cohort_slips: days of the lane's history behind its usual rate (0: [alerts] "
      "stage_baseline_days)" },
    { "factor", SW_CONF_DOUBLE, R(factor), 0, 0, 1, 1000, NULL, "3", 0,
      "cohort_slips: a cohort is unusual at this many times its lane's usual slip rate" },
    { "customer_message", SW_CONF_ENUM, R(customer_message), 0, 0, 0, 0, message_words,
      "per_parcel", 0,
      "cohort signals: members of a firing incident get one cohort email per order (cohort) "
      "or the usual per-parcel wording (per_parcel)" },
    { NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL },
};
#undef R

/* "courier_ontime, courier_api_errors, ...": for errors. */
static void signal_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; sw_signal_table[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      sw_signal_table[i]->name);
}

/* "cohort_slips, ...": the signals with cohorts (subject_of), for errors. */
static void cohort_signal_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; sw_signal_table[i] && n < len; i++)
		if (sw_signal_table[i]->subject_of)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      sw_signal_table[i]->name);
}

/* customer_message = cohort needs a signal that can say which cohort a
 * customer's parcel or order is in. */
static enum sw_err rule_message(const struct sw_conf *file, const struct rule_raw *raw,
				struct sw_page_rule *r, char *err, size_t len)
{
	char names[512];

	r->cohort_message = raw->customer_message == 1;
	if (!r->cohort_message || r->signal->subject_of)
		return SW_OK;
	cohort_signal_names(names, sizeof(names));
	return conf_err(file, "page", r->name, "customer_message", err, len,
			"only for a cohort signal (%s), not %s: 'cohort'", names, r->signal->name);
}

/* A threshold (or recover) value: a percentage in 0..100, else >= 0. */
static enum sw_err check_value(const struct sw_conf *file, const char *name,
			       const struct sw_signal *sig, const char *key, double v, char *err,
			       size_t len)
{
	bool pct = strcmp(sig->unit, "%") == 0;

	if (v < 0 || (pct && v > 100))
		return conf_err(file, "page", name, key, err, len, "%s: '%.15g'",
				pct ? "not a percentage (0..100)" : "negative", v);
	return SW_OK;
}

/* The thresholds and recover of r (signal set), as pages.h says. */
static enum sw_err check_thresholds(const struct sw_conf *file, struct sw_page_rule *r,
				    char *err, size_t len)
{
	const struct sw_signal *sig = r->signal;
	const char *worse = sig->above ? "higher" : "lower";
	double lowest; /* the threshold crossed first */
	enum sw_err rc;

	if (!r->has_warning && !r->has_critical)
		return conf_err(file, "page", r->name, "warning", err, len,
				"set warning, critical or both: '%s'", sig->name);
	if ((r->has_warning && (rc = check_value(file, r->name, sig, "warning", r->warning, err,
						 len))) ||
	    (r->has_critical &&
	     (rc = check_value(file, r->name, sig, "critical", r->critical, err, len))) ||
	    (rc = check_value(file, r->name, sig, "recover", r->recover, err, len)))
		return rc;
	if (r->has_warning && r->has_critical &&
	    (sig->above ? r->critical < r->warning : r->critical > r->warning))
		return conf_err(file, "page", r->name, "critical", err, len,
				"on the safe side of warning %.15g (%s: %s is worse): '%.15g'",
				r->warning, sig->name, worse, r->critical);
	lowest = r->has_warning ? r->warning : r->critical;
	if (sig->above ? r->recover > lowest : r->recover < lowest)
		return conf_err(file, "page", r->name, "recover", err, len,
				"past the %s threshold %.15g, so a page could resolve while still "
				"crossed (%s: %s is worse): '%.15g'",
				r->has_warning ? "warning" : "critical", lowest, sig->name, worse,
				r->recover);
	return SW_OK;
}

/* labels: canonical, no reserved key. */
static enum sw_err rule_labels(const struct sw_conf *file, struct sw_page_rule *r,
			       const char *text, char *err, size_t len)
{
	char canon[LABELS_LEN], why[512], v[SW_LABEL_VALUE_MAX + 1];

	if (!text || text[strspn(text, " \t")] == '\0') {
		r->labels = xstrdup("");
		return SW_OK;
	}
	if (sw_labels_canon(text, canon, sizeof(canon), why, sizeof(why)) != SW_OK)
		return conf_err(file, "page", r->name, "labels", err, len, "%s", why);
	for (const char *const *k = reserved_labels; *k; k++)
		if (sw_labels_get(canon, *k, v, sizeof(v)))
			return conf_err(file, "page", r->name, "labels", err, len,
					"'%s' is set by slipwatch (rule, signal, severity, "
					"warehouse, courier, lane, probe are reserved): '%s'",
					*k, text);
	r->labels = xstrdup(canon);
	return SW_OK;
}

/* Seconds fields and the defaults that depend on other keys. */
static enum sw_err rule_times(const struct sw_conf *file, const struct rule_raw *raw,
			      int64_t step_s, struct sw_page_rule *r, char *err, size_t len)
{
	enum sw_err rc;

	if ((rc = whole_s(file, "page", r->name, "for", raw->for_ms, &r->for_s, err, len)) ||
	    (rc = whole_s(file, "page", r->name, "window", raw->window_ms, &r->window_s, err, len)))
		return rc;
	if (is_set(file, "page", r->name, "nodata_after")) {
		if ((rc = whole_s(file, "page", r->name, "nodata_after", raw->nodata_after_ms,
				  &r->nodata_after_s, err, len)))
			return rc;
	} else {
		r->nodata_after_s =
		    NODATA_STEPS * step_s > NODATA_MIN_S ? NODATA_STEPS * step_s : NODATA_MIN_S;
	}
	r->min_count = raw->min_count;
	r->baseline_days = raw->baseline_days;
	r->factor = raw->factor;
	r->nodata_severity = raw->nodata_severity == 1 ? SW_SEV_CRITICAL : SW_SEV_WARNING;
	return SW_OK;
}

static enum sw_err rule_fill(const struct sw_conf *file, const struct rule_raw *raw,
			     int64_t step_s, struct sw_page_rule *r, char *err, size_t len)
{
	char names[512];
	enum sw_err rc;

	r->signal = sw_signal_find(raw->signal);
	if (!r->signal) {
		signal_names(names, sizeof(names));
		return conf_err(file, "page", r->name, "signal", err, len,
				"not a signal (known: %s): '%s'", names, raw->signal);
	}
	r->has_warning = is_set(file, "page", r->name, "warning");
	r->has_critical = is_set(file, "page", r->name, "critical");
	r->warning = raw->warning;
	r->critical = raw->critical;
	if (is_set(file, "page", r->name, "recover"))
		r->recover = raw->recover;
	else
		r->recover = r->has_warning ? r->warning : r->critical;
	if ((rc = check_thresholds(file, r, err, len)) ||
	    (rc = rule_times(file, raw, step_s, r, err, len)) ||
	    (rc = parse_match(file, "page", r->name, raw->match, &r->match, err, len)) ||
	    (rc = rule_labels(file, r, raw->labels, err, len)) ||
	    (rc = rule_message(file, raw, r, err, len)))
		return rc;
	r->description = dup_or_null(raw->description);
	return SW_OK;
}

static void rule_free(struct sw_page_rule *r)
{
	free(r->name);
	if (r->match)
		sw_matchers_free(r->match);
	free(r->labels);
	free(r->description);
}

/* The RRD step in seconds, for nodata_after's default: [rrd] as the rrd
 * part reads it (that part reports its errors; here they mean 60s). */
static int64_t rrd_step_s(struct sw_conf *file)
{
	struct sw_rrd_conf rrd = { 0 };
	char why[512];
	int64_t step_s = 60;

	if (sw_rrd_conf_load(file, &rrd, why, sizeof(why)) == SW_OK && rrd.step_ms >= MS_PER_S)
		step_s = rrd.step_ms / MS_PER_S;
	sw_conf_free_struct(sw_rrd_conf_table, &rrd);
	return step_s;
}

static enum sw_err rules_load(struct sw_conf *file, struct sw_pages_conf *c, char *err,
			      size_t len)
{
	const char *name;
	size_t n = 0;
	int64_t step_s;
	enum sw_err rc;

	while ((name = sw_conf_named(file, "page", n)) != NULL) {
		if (n++ == SW_PAGES_MAX_RULES)
			return conf_err(file, "page", name, NULL, err, len,
					"more than %d [page] sections", SW_PAGES_MAX_RULES);
	}
	if (n == 0)
		return SW_OK;
	step_s = rrd_step_s(file);
	c->rules = xcalloc(n, sizeof(*c->rules));
	for (size_t i = 0; i < n; i++) {
		struct rule_raw raw = { 0 };
		struct sw_page_rule *r = &c->rules[i];

		name = sw_conf_named(file, "page", i);
		if ((rc = sw_conf_apply(file, "page", name, rule_table, &raw, err, len)))
			return rc;
		r->name = xstrdup(name);
		c->n_rules++;
		rc = rule_fill(file, &raw, step_s, r, err, len);
		sw_conf_free_struct(rule_table, &raw);
		if (rc)
			return rc;
	}
	return SW_OK;
}

/* ---- [route NAME] ------------------------------------------------------------ */

struct route_raw {
	char *match, *receiver, *escalate_to;
	int64_t escalate_after_ms, repeat_ms;
};

#define T(f) offsetof(struct route_raw, f)
static const struct sw_conf_opt route_table[] = {
    { "match", SW_CONF_STRING, T(match), 0, 0, 0, 0, NULL, NULL, 0,
      "label matchers over the page's labels (severity included); empty: every page" },
    { "receiver", SW_CONF_STRING, T(receiver), 0, 0, 0, 0, NULL, NULL, SW_CONF_REQUIRED,
      "the [receiver NAME] told" },
    { "escalate_to", SW_CONF_STRING, T(escalate_to), 0, 0, 0, 0, NULL, NULL, 0,
      "the [receiver NAME] told when a page stays unacknowledged escalate_after" },
    { "escalate_after", SW_CONF_DURATION, T(escalate_after_ms), MIN_MS, 7 * DAY_MS, 0, 0, NULL,
      NULL, 0, "unacknowledged this long after the first trigger: escalate (with escalate_to)" },
    { "repeat_interval", SW_CONF_DURATION, T(repeat_ms), 0, 30 * DAY_MS, 0, 0, NULL, NULL, 0,
      "this route's repeat_interval (default: [pages] repeat_interval; 0: never)" },
    { NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL },
};
#undef T

static enum sw_err route_escalation(const struct sw_conf *file, const struct route_raw *raw,
				    struct sw_page_route *r, char *err, size_t len)
{
	bool to = raw->escalate_to && *raw->escalate_to;
	bool after = is_set(file, "route", r->name, "escalate_after");

	if (to && !after)
		return conf_err(file, "route", r->name, "escalate_to", err, len,
				"needs escalate_after (how long unacknowledged before escalating): "
				"'%s'",
				raw->escalate_to);
	if (after && !to)
		return conf_err(file, "route", r->name, "escalate_after", err, len,
				"only with escalate_to (whom to escalate to): '%" PRId64 "s'",
				raw->escalate_after_ms / MS_PER_S);
	if (!to)
		return SW_OK;
	r->escalate_to = xstrdup(raw->escalate_to);
	return whole_s(file, "route", r->name, "escalate_after", raw->escalate_after_ms,
		       &r->escalate_after_s, err, len);
}

static enum sw_err route_fill(const struct sw_conf *file, const struct route_raw *raw,
			      struct sw_page_route *r, char *err, size_t len)
{
	enum sw_err rc;

	if (!raw->receiver || !*raw->receiver)
		return conf_err(file, "route", r->name, "receiver", err, len,
				"empty (name a [receiver NAME]): ''");
	r->receiver = xstrdup(raw->receiver);
	if ((rc = parse_match(file, "route", r->name, raw->match, &r->match, err, len)) ||
	    (rc = route_escalation(file, raw, r, err, len)))
		return rc;
	r->repeat_s = -1;
	if (is_set(file, "route", r->name, "repeat_interval"))
		return whole_s(file, "route", r->name, "repeat_interval", raw->repeat_ms,
			       &r->repeat_s, err, len);
	return SW_OK;
}

static void route_free(struct sw_page_route *r)
{
	free(r->name);
	if (r->match)
		sw_matchers_free(r->match);
	free(r->receiver);
	free(r->escalate_to);
}

static enum sw_err routes_load(struct sw_conf *file, struct sw_pages_conf *c, char *err,
			       size_t len)
{
	const char *name;
	size_t n = 0;
	enum sw_err rc;

	while ((name = sw_conf_named(file, "route", n)) != NULL) {
		if (n++ == SW_PAGES_MAX_ROUTES)
			return conf_err(file, "route", name, NULL, err, len,
					"more than %d [route] sections", SW_PAGES_MAX_ROUTES);
	}
	if (n == 0)
		return SW_OK;
	c->routes = xcalloc(n, sizeof(*c->routes));
	for (size_t i = 0; i < n; i++) {
		struct route_raw raw = { 0 };
		struct sw_page_route *r = &c->routes[i];

		name = sw_conf_named(file, "route", i);
		if ((rc = sw_conf_apply(file, "route", name, route_table, &raw, err, len)))
			return rc;
		r->name = xstrdup(name);
		c->n_routes++;
		rc = route_fill(file, &raw, r, err, len);
		sw_conf_free_struct(route_table, &raw);
		if (rc)
			return rc;
	}
	return SW_OK;
}

/* ---- across sections --------------------------------------------------------- */

/* name (of key in [kind sect]) is a [receiver]. */
static enum sw_err known_receiver(const struct sw_conf *file, const struct sw_pages_conf *c,
				  const char *kind, const char *sect, const char *key,
				  const char *name, char *err, size_t len)
{
	if (!name || sw_pages_receiver(c, name))
		return SW_OK;
	return conf_err(file, kind, sect, key, err, len, "names no [receiver NAME] section: '%s'",
			name);
}

static enum sw_err cross_check(const struct sw_conf *file, const struct sw_pages_conf *c,
			       char *err, size_t len)
{
	enum sw_err rc;

	if ((rc = known_receiver(file, c, "pages", NULL, "receiver", c->receiver, err, len)))
		return rc;
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct sw_page_route *r = &c->routes[i];

		if ((rc = known_receiver(file, c, "route", r->name, "receiver", r->receiver, err,
					 len)) ||
		    (rc = known_receiver(file, c, "route", r->name, "escalate_to", r->escalate_to,
					 err, len)))
			return rc;
	}
	if (c->n_rules > 0 && !c->receiver && c->n_routes == 0)
		return conf_err(file, "page", c->rules[0].name, NULL, err, len,
				"no receiver: set [pages] receiver or add a [route]");
	return SW_OK;
}

enum sw_err sw_pages_conf_load(struct sw_conf *file, struct sw_pages_conf *c, char *errbuf,
			       size_t errlen)
{
	enum sw_err rc;

	memset(c, 0, sizeof(*c));
	if ((rc = pages_load(file, c, errbuf, errlen)) ||
	    (rc = sw_receivers_load(file, &c->receivers, &c->n_receivers, errbuf, errlen)) ||
	    (rc = rules_load(file, c, errbuf, errlen)) ||
	    (rc = routes_load(file, c, errbuf, errlen)) ||
	    (rc = cross_check(file, c, errbuf, errlen))) {
		sw_pages_conf_free(c);
		return rc;
	}
	return SW_OK;
}

void sw_pages_conf_free(struct sw_pages_conf *c)
{
	if (!c)
		return;
	free(c->receiver);
	free(c->source);
	for (size_t i = 0; i < c->n_rules; i++)
		rule_free(&c->rules[i]);
	free(c->rules);
	for (size_t i = 0; i < c->n_routes; i++)
		route_free(&c->routes[i]);
	free(c->routes);
	sw_receivers_free(c->receivers, c->n_receivers);
	memset(c, 0, sizeof(*c));
}

const struct sw_receiver_conf *sw_pages_receiver(const struct sw_pages_conf *c, const char *name)
{
	for (size_t i = 0; name && i < c->n_receivers; i++)
		if (strcmp(c->receivers[i].name, name) == 0)
			return &c->receivers[i];
	return NULL;
}

const struct sw_page_route *sw_pages_route(const struct sw_pages_conf *c, const char *labels)
{
	for (size_t i = 0; i < c->n_routes; i++)
		if (sw_matchers_match(c->routes[i].match, labels ? labels : ""))
			return &c->routes[i];
	return NULL;
}

/* ---- dump -------------------------------------------------------------------- */

/* "key = 90s" in the largest exact unit (as lib/conf writes durations). */
static void dump_secs(struct sw_buf *out, const char *key, int64_t s)
{
	static const struct {
		int64_t n;
		const char *unit;
	} units[] = { { 86400, "d" }, { 3600, "h" }, { 60, "m" } };

	for (size_t i = 0; s != 0 && i < sizeof(units) / sizeof(units[0]); i++)
		if (s % units[i].n == 0) {
			sw_buf_printf(out, "%s = %" PRId64 "%s\n", key, s / units[i].n,
				      units[i].unit);
			return;
		}
	sw_buf_printf(out, "%s = %" PRId64 "s\n", key, s);
}

static void dump_str(struct sw_buf *out, const char *key, const char *v)
{
	if (v && *v)
		sw_conf_dump_kv(out, key, v);
	else
		sw_buf_printf(out, "; %s is not set\n", key);
}

static void dump_rule(const struct sw_page_rule *r, struct sw_buf *out)
{
	sw_buf_printf(out, "\n[page %s]\n", r->name);
	sw_buf_printf(out, "signal = %s ; %s%s, %s is worse, in %s\n", r->signal->name,
		      sw_signal_subject_label(r->signal) ? "per " : "",
		      sw_signal_subject_label(r->signal) ? sw_signal_subject_label(r->signal)
							 : "installation-wide",
		      r->signal->above ? "higher" : "lower", r->signal->unit);
	if (r->has_warning)
		sw_buf_printf(out, "warning = %.15g\n", r->warning);
	else
		sw_buf_printf(out, "; warning is not set\n");
	if (r->has_critical)
		sw_buf_printf(out, "critical = %.15g\n", r->critical);
	else
		sw_buf_printf(out, "; critical is not set\n");
	sw_buf_printf(out, "recover = %.15g\n", r->recover);
	dump_secs(out, "for", r->for_s);
	dump_secs(out, "window", r->window_s);
	sw_buf_printf(out, "min_count = %" PRId64 "\n", r->min_count);
	dump_secs(out, "nodata_after", r->nodata_after_s);
	sw_buf_printf(out, "nodata_severity = %s\n",
		      r->nodata_severity == SW_SEV_CRITICAL ? "critical" : "warning");
	dump_str(out, "match", r->match ? sw_matchers_text(r->match) : NULL);
	dump_str(out, "labels", r->labels);
	dump_str(out, "description", r->description);
	sw_buf_printf(out, "baseline_days = %" PRId64 "\n", r->baseline_days);
	sw_buf_printf(out, "factor = %.15g\n", r->factor);
	sw_buf_printf(out, "customer_message = %s\n", r->cohort_message ? "cohort" : "per_parcel");
}

static void dump_route(const struct sw_page_route *r, struct sw_buf *out)
{
	sw_buf_printf(out, "\n[route %s]\n", r->name);
	dump_str(out, "match", r->match ? sw_matchers_text(r->match) : NULL);
	sw_buf_printf(out, "receiver = %s\n", r->receiver);
	dump_str(out, "escalate_to", r->escalate_to);
	if (r->escalate_to)
		dump_secs(out, "escalate_after", r->escalate_after_s);
	else
		sw_buf_printf(out, "; escalate_after is not set\n");
	if (r->repeat_s >= 0)
		dump_secs(out, "repeat_interval", r->repeat_s);
	else
		sw_buf_printf(out, "; repeat_interval is not set\n");
}

void sw_pages_conf_dump(const struct sw_pages_conf *c, struct sw_buf *out)
{
	struct pages_raw raw = {
	    .interval_ms = c->interval_ms,
	    .repeat_ms = c->repeat_s * MS_PER_S,
	    .flap_window_ms = c->flap_window_s * MS_PER_S,
	    .flap_limit = c->flap_limit,
	    .receiver = c->receiver,
	    .lease_ms = c->lease_s * MS_PER_S,
	    .retry_min_ms = c->retry_min_s * MS_PER_S,
	    .retry_max_ms = c->retry_max_s * MS_PER_S,
	    .give_up_ms = c->give_up_after_s * MS_PER_S,
	    .source = c->source,
	};

	sw_conf_dump("pages", NULL, pages_table, &raw, out);
	for (size_t i = 0; i < c->n_rules; i++)
		dump_rule(&c->rules[i], out);
	for (size_t i = 0; i < c->n_routes; i++)
		dump_route(&c->routes[i], out);
	if (c->n_receivers > 0) {
		sw_buf_printf(out, "\n");
		sw_receivers_dump(c->receivers, c->n_receivers, out);
	}
}
