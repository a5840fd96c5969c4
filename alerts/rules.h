/*
 * rules.h - the alert engine's settings: [alerts] (customer care: quiet
 * hours, urgency, caps, rates, retries) and the SLA rules [rule NAME].
 *
 * A rule gives, per slip kind, how long after the fact a slip counts (its
 * grace or threshold) and may switch kinds off.  Rules match on warehouse,
 * courier and service level; a rule without match keys is the default
 * (at most one; built-in values when there is none).  For a parcel the
 * rule matching the most keys wins; between rules matching as many keys,
 * service_level beats courier beats warehouse.  Two rules with the same
 * match keys and values are a configuration error.  A threshold a rule
 * does not set is the default rule's.
 *
 * A rule also gives a warehouse's working hours (working_hours,
 * working_timezone): its feed is judged only inside them, silence outside
 * them is not unhealthy.  They are read from the rule that matches the
 * warehouse alone (no courier, no service level) or else the default rule;
 * unset: all day.
 */
#ifndef SW_ALERTS_RULES_H
#define SW_ALERTS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/kinds.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/error.h"

/* What the engine detects: the rows of SW_SLIP_KINDS (kinds.h), in order. */
#define SW_SLIP_ENUM_(id, name, ...) SW_SLIP_##id,
enum sw_slip { SW_SLIP_KINDS(SW_SLIP_ENUM_) SW_SLIP_LAST };
#undef SW_SLIP_ENUM_

/* "ship_late", ...; "?" out of range. */
const char *sw_slip_name(enum sw_slip k);

/* SW_OK and *ret, or SW_ENOTFOUND for an unknown name (NULL too). */
enum sw_err sw_slip_from_name(const char *name, enum sw_slip *ret);

/* A warehouse's working hours (a rule's working_hours, working_timezone). */
struct sw_wh_hours {
	char *timezone;	 /* IANA zone the hours are in; NULL: default_timezone */
	bool all_day;	 /* no hours: always working */
	int start_min, end_min; /* minutes after local midnight; start > end
				 * wraps midnight */
};

/* One rule, resolved: every threshold known (defaults filled in). */
struct sw_rule {
	char *name;	     /* section name, "(built-in)" for the default */
	char *warehouse;     /* match keys; NULL = any */
	char *courier;
	char *service_level;
	int64_t after_ms[SW_SLIP_LAST]; /* slip counts this long after the fact */
	int64_t settle_ms[SW_SLIP_LAST]; /* its notice waits this long, then is
					  * re-checked ([alerts] settle) */
	bool off[SW_SLIP_LAST];		/* kind not detected under this rule */
	struct sw_wh_hours hours;	/* the warehouse's working hours */
};

/* [alerts] */
struct sw_alerts_conf {
	char *templates;	 /* template directory */
	char *shop_name;	 /* {{shop_name}} */
	char *tracking_url;	 /* "https://...{courier}...{tracking}" or NULL */
	char *unsubscribe_url;	 /* "https://...{email}" or NULL */
	char *quiet_hours;	 /* "21:00-08:00", "" = none */
	char *urgent;		 /* kinds sent during quiet hours */
	char *default_timezone;	 /* for customers without one */
	bool email;		 /* customer emails at all */
	bool one_click;		 /* List-Unsubscribe-Post (RFC 8058) */
	int64_t daily_cap;	 /* emails per customer per local day; 0 = none */
	double send_rate;	 /* emails per second, all customers */
	int64_t retry_min_ms;	 /* first retry after a temporary failure */
	int64_t retry_max_ms;	 /* retry interval cap */
	int64_t give_up_ms;	 /* a message older than this fails for good */
	int64_t lease_ms;	 /* a claimed message is retried after this */
	int64_t journal_ms;	 /* how often the journal is read */
	int64_t feed_window_ms;	 /* a courier answered within: feed healthy */
	int64_t batch;		 /* journal events / outbox rows per round */
	int64_t settle_ms;	 /* default hold of a customer notice */
	char *followup;		 /* kinds earning a good-news follow-up */
	char *channel;		 /* customers' default channel: email, webhook */
	int64_t warehouse_feed_window_ms; /* working time without an event: unhealthy */
	int64_t warehouse_feed_settle_ms; /* unhealthy this long after resuming; 0 off */
	double feed_error_rate;	 /* % of failed courier answers: unhealthy above */
	int64_t stage_baseline_days; /* the window of the stages' p90 baselines */
	int64_t stage_min_samples;   /* fewest durations behind a lane's p90 */
	int64_t engine_lease_ms;     /* the active engine's lease (alerts/role.h) */
	char *instance;		     /* this engine's name in it; NULL: HOST:PID */
	/* derived from quiet_hours and urgent by sw_rules_load */
	int quiet_start_min, quiet_end_min; /* minutes after local midnight */
	bool has_quiet;
	bool is_urgent[SW_SLIP_LAST];
	bool has_followup[SW_SLIP_LAST];
	bool webhook_on; /* [customer_webhook] is configured (set by the daemon) */
};

extern const struct sw_conf_opt sw_alerts_conf_table[];


/* The rules of one configuration. */
struct sw_rules {
	struct sw_rule *rules; /* rules[0] is the default */
	size_t n;
};

/*
 * Applies [alerts] into *ret_conf and every [rule NAME] into *ret_rules
 * (both the caller's: sw_alerts_conf_free, sw_rules_free).  SW_OK, or
 * SW_ECONF with errbuf naming FILE:LINE and the problem (bad duration,
 * unknown kind in off/urgent, malformed quiet hours, two default rules,
 * two rules with the same match): the line of the key at fault, or of the
 * section when the key is not in the file.  Nothing is allocated on error.
 */
enum sw_err sw_rules_load(struct sw_conf *conf, struct sw_alerts_conf *ret_conf,
			  struct sw_rules *ret_rules, char *errbuf, size_t errlen);

void sw_alerts_conf_free(struct sw_alerts_conf *c);
void sw_rules_free(struct sw_rules *r);

/* The rule for a parcel or order (any argument may be NULL = unknown,
 * which only a rule without that match key matches).  Never NULL. */
const struct sw_rule *sw_rules_pick(const struct sw_rules *r, const char *warehouse,
				    const char *courier, const char *service_level);

/* The working hours of warehouse: the rule picked for the warehouse alone
 * (no courier, no service level).  Never NULL; borrowed from r. */
const struct sw_wh_hours *sw_rules_warehouse(const struct sw_rules *r, const char *warehouse);

/* Appends [alerts] and every rule, resolved, to out (-t -v). */
void sw_rules_dump(const struct sw_alerts_conf *c, const struct sw_rules *r,
		   struct sw_buf *out);

/*
 * Quiet hours: if local time of now in zone is inside c's quiet hours,
 * *ret_until is the instant they end (the next local quiet_end), else
 * now.  A zone that cannot be loaded counts as UTC.  SW_OK always
 * (errors fall back to UTC and are reported through *ret_zone_ok = false
 * when ret_zone_ok is not NULL).
 */
enum sw_err sw_rules_quiet_until(const struct sw_alerts_conf *c, const char *zone, int64_t now,
				 int64_t *ret_until, bool *ret_zone_ok);

#endif /* SW_ALERTS_RULES_H */
