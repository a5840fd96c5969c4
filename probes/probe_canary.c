/*
 * probe_canary.c - the canary kind (probe.h): a known tracking number per
 * [canary NAME] is looked up through the real adapter, the collector's
 * request and the collector's parser (courier_http.h), and what comes back
 * must still make sense.  It catches a courier's format change (a renamed
 * field, a new status code, times in another form) on one parcel chosen
 * for it, before the real parcels' statuses quietly stop moving: the
 * poll engine would only count parse_fail or, worse, read nothing.
 *
 * Checks, in order, the first failure being the run's reason:
 *   the courier answered            (else what failed: refused, 5xx, ...)
 *   the answer parses               "dhl: the answer no longer parses: ..."
 *   the number is known             "... 'N' not found" (pick another)
 *   the status is a known one       "status unknown for 'N' (code 'X')"
 *   at least one event              "no events for 'N'"
 *   some event has a time           "no event of 'N' has a readable time"
 *   no event in the future          "event time 2031-01-01T00:00:00Z in the
 *                                    future" (beyond SKEW_S; a wall clock
 *                                    without a zone gets ZONE_SLACK_S more)
 *   none older than max_age         "event time ... older than max_age"
 *
 * One sample per run whatever [probes] samples says: a canary checks
 * correctness, not speed (courier_api measures the spread), and each
 * lookup spends the courier's quota.  Its latency is kept as that one
 * sample; a failed check counts it lost.  No value.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/courier_http.h"
#include "probes/kinds.h"

#define SKEW_S	     300	  /* clocks may differ this much */
#define ZONE_SLACK_S (14 * 3600) /* a wall clock is this far from UTC at most */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum sw_err canary_instances(const struct sw_probe_env *env, char ***ret_ids,
				    size_t *ret_n, char *err, size_t errlen)
{
	const struct sw_probes_conf *c = env->conf;
	char **ids;

	(void)err;
	(void)errlen;
	*ret_ids = NULL;
	*ret_n = 0;
	if (c == NULL || c->n_canaries == 0)
		return SW_OK;
	ids = xcalloc(c->n_canaries, sizeof(*ids));
	for (size_t i = 0; i < c->n_canaries; i++)
		ids[i] = xstrdup(c->canaries[i].name);
	qsort(ids, c->n_canaries, sizeof(*ids), cmp_str);
	*ret_ids = ids;
	*ret_n = c->n_canaries;
	return SW_OK;
}

static const struct sw_canary_conf *canary_find(const struct sw_probes_conf *c, const char *id)
{
	for (size_t i = 0; c && i < c->n_canaries; i++)
		if (strcmp(c->canaries[i].name, id) == 0)
			return &c->canaries[i];
	return NULL;
}

/* The time as written, for a reason. */
static void time_text(const struct sw_time *t, char *buf, size_t len)
{
	if (sw_time_format(t, buf, len) != SW_OK)
		snprintf(buf, len, "?");
}

/* Checks the events' times against now and max_age; false with why. */
static bool times_ok(const struct sw_courier_result *r, const struct sw_canary_conf *cv,
		     int64_t now, char *why, size_t len)
{
	bool any = false;
	char t[48];

	for (size_t i = 0; i < r->n_events; i++) {
		const struct sw_courier_event *e = &r->events[i];
		int64_t slack = e->at.flags & SW_TIME_ZONE_UNKNOWN ? ZONE_SLACK_S : 0;

		if (!e->has_time)
			continue;
		any = true;
		time_text(&e->at, t, sizeof(t));
		if (e->at.utc_sec > now + SKEW_S + slack) {
			snprintf(why, len, "event time %s in the future", t);
			return false;
		}
		if (cv->max_age_s > 0 && e->at.utc_sec < now - cv->max_age_s - slack) {
			snprintf(why, len, "event time %s older than max_age (%lld s)", t,
				 (long long)cv->max_age_s);
			return false;
		}
	}
	if (!any)
		snprintf(why, len, "no event of '%s' has a readable time", cv->tracking_number);
	return any;
}

/* The checks of the header on an answered lookup; false with why. */
static bool result_ok(const struct sw_probe_lookup *l, const struct sw_canary_conf *cv,
		      int64_t now, char *why, size_t len)
{
	const struct sw_courier_result *r = &l->res;
	const char *msg = r->message ? r->message : "";

	if (r->outcome == SW_COURIER_ERROR && r->errkind == SW_COURIER_ERR_BAD_RESPONSE) {
		snprintf(why, len, "the answer no longer parses: %.150s", msg);
		return false;
	}
	if (r->outcome == SW_COURIER_ERROR) {
		snprintf(why, len, "no answer for '%s': %s, HTTP %ld: %.100s", cv->tracking_number,
			 sw_courier_errkind_name(r->errkind), l->http, msg);
		return false;
	}
	if (r->outcome == SW_COURIER_NOT_FOUND) {
		snprintf(why, len, "'%s' not found (choose another canary number)",
			 cv->tracking_number);
		return false;
	}
	if (r->status >= SW_SHIP_UNKNOWN) {
		snprintf(why, len, "status unknown for '%s' (code '%.40s')", cv->tracking_number,
			 r->raw_code ? r->raw_code : "");
		return false;
	}
	if (r->n_events == 0) {
		snprintf(why, len, "no events for '%s'", cv->tracking_number);
		return false;
	}
	return times_ok(r, cv, now, why, len);
}

static enum sw_err canary_run(const struct sw_probe_env *env, const char *id,
			      struct sw_probe_result *out, char *err, size_t errlen)
{
	const struct sw_canary_conf *cv = canary_find(env->conf, id);
	struct sw_poll_courier_conf *cf;
	struct sw_probe_token tok = {0};
	struct sw_probe_lookup l;
	char why[SW_PROBE_WHY_MAX];
	enum sw_err rc;
	bool ok;

	if (cv == NULL) {
		snprintf(err, errlen, "canary: no [canary %s] section", id);
		return SW_EINVAL;
	}
	cf = sw_poll_conf_find(env->conf->poll, cv->courier);
	if (cf == NULL) {
		snprintf(err, errlen, "[canary %s] courier: no [courier %s] section", id, cv->courier);
		return SW_EINVAL;
	}
	rc = sw_probe_courier_lookup(cf, cv->tracking_number, env->timeout_ms, env->now, &tok, &l,
				     err, errlen);
	sw_probe_token_clear(&tok);
	if (rc != SW_OK)
		return rc;
	ok = l.answered ? result_ok(&l, cv, env->now, why, sizeof(why))
			: (snprintf(why, sizeof(why), "%s", l.why), false);
	sw_probe_sample(out, ok, l.seconds);
	out->ok = ok;
	if (!ok)
		snprintf(out->reason, sizeof(out->reason), "%.48s: %s", cv->courier, why);
	else
		snprintf(out->detail, sizeof(out->detail), "'%s' %s, %zu events, HTTP %ld",
			 cv->tracking_number, sw_store_ship_status_name(l.res.status),
			 l.res.n_events, l.http);
	if (!ok && l.http)
		snprintf(out->detail, sizeof(out->detail), "HTTP %ld", l.http);
	sw_probe_lookup_clear(&l);
	return SW_OK;
}

const struct sw_probe_desc sw_probe_canary = {
    .kind = "canary",
    .what = "a known tracking number through the real adapter: parses to a known status "
	    "with plausible event times",
    .instances = canary_instances,
    .run = canary_run,
};
