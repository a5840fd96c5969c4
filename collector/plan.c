/*
 * plan.c - the courier quota planner (see plan.h): weighted water-filling
 * of the quota left over the priority classes, the quota window in a
 * zone, and the one-line description for -t -v.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collector/plan.h"
#include "lib/swtime.h"

/* Share weights per class, most important first (plan.h). */
static const double weight[SW_POLL_CLASS_LAST] = {8, 4, 2, 1};

static double nonneg(double v)
{
	return v > 0 && isfinite(v) ? v : 0;
}

/* Water-fills cap_rate (parcel polls/s) over the classes: sets
 * plan->stretch.  want[c] is the class's total rate, n[c] its parcels. */
static void fill(const double n[], const double want[], double cap_rate, struct sw_plan *plan)
{
	bool sat[SW_POLL_CLASS_LAST] = {false};
	double left = cap_rate, level = 0, w;
	bool changed = true;

	while (changed) {
		changed = false;
		w = 0;
		for (int c = 0; c < SW_POLL_CLASS_LAST; c++)
			if (!sat[c] && n[c] > 0 && want[c] > 0)
				w += n[c] * weight[c];
		if (w <= 0)
			break;
		level = left / w;
		/* a class asking for less than its share takes only that */
		for (int c = 0; c < SW_POLL_CLASS_LAST; c++)
			if (!sat[c] && n[c] > 0 && want[c] > 0 &&
			    want[c] / n[c] <= weight[c] * level) {
				sat[c] = true;
				left -= want[c];
				changed = true;
			}
	}
	for (int c = 0; c < SW_POLL_CLASS_LAST; c++) {
		plan->stretch[c] = 1;
		if (!sat[c] && n[c] > 0 && want[c] > 0 && level > 0)
			plan->stretch[c] = (want[c] / n[c]) / (weight[c] * level);
		if (plan->stretch[c] < 1)
			plan->stretch[c] = 1;
	}
}

/* The parcels covered at their own intervals, in priority order. */
static int64_t covered(const double n[], const double want[], double cap_rate)
{
	double left = cap_rate, total = 0;

	for (int c = 0; c < SW_POLL_CLASS_LAST; c++) {
		if (want[c] <= left) {
			total += n[c];
			left -= want[c];
			continue;
		}
		total += floor(n[c] * left / want[c]);
		break;
	}
	return (int64_t)total;
}

void sw_plan_compute(const struct sw_plan_in *in, struct sw_plan *ret_plan)
{
	double n[SW_POLL_CLASS_LAST], want[SW_POLL_CLASS_LAST], demand_rate = 0;
	double secs = in->secs_left >= 1 ? (double)in->secs_left : 1;
	double per = in->per_request >= 1 ? (double)in->per_request : 1;
	struct sw_plan *p = ret_plan;

	memset(p, 0, sizeof(*p));
	for (int c = 0; c < SW_POLL_CLASS_LAST; c++) {
		n[c] = nonneg((double)in->cls[c].count);
		want[c] = n[c] > 0 ? nonneg(in->cls[c].rate) : 0;
		demand_rate += want[c];
		p->active += (int64_t)n[c];
		p->stretch[c] = 1;
	}
	p->limited = in->quota_left >= 0;
	p->demand = demand_rate * secs;
	p->capacity = p->limited ? (double)in->quota_left * per : HUGE_VAL;
	p->exhausted = p->limited && in->quota_left == 0;
	p->is_short = p->limited && p->demand > p->capacity;
	p->covered = p->is_short ? covered(n, want, p->capacity / secs) : p->active;
	if (p->is_short && !p->exhausted)
		fill(n, want, p->capacity / secs, p);
	for (int c = 0; c < SW_POLL_CLASS_LAST; c++)
		p->interval_s[c] = want[c] > 0 ? n[c] / want[c] * p->stretch[c] : 0;
}

int64_t sw_plan_interval(const struct sw_plan *plan, enum sw_poll_class cls, int64_t interval_s,
			 int64_t secs_left)
{
	double v;

	if (interval_s < 1)
		interval_s = 1;
	if (!plan->limited || (unsigned)cls >= SW_POLL_CLASS_LAST)
		return interval_s;
	if (plan->exhausted)
		return secs_left > interval_s ? secs_left : interval_s;
	v = ceil((double)interval_s * plan->stretch[cls]);
	if (v > SW_PLAN_MAX_S)
		v = SW_PLAN_MAX_S;
	return v > (double)interval_s ? (int64_t)v : interval_s;
}

enum sw_err sw_plan_parse_reset(const char *text, int *ret_min)
{
	int h, m;

	*ret_min = 0;
	if (text == NULL || strlen(text) != 5 || !isdigit((unsigned char)text[0]) ||
	    !isdigit((unsigned char)text[1]) || text[2] != ':' ||
	    !isdigit((unsigned char)text[3]) || !isdigit((unsigned char)text[4]))
		return SW_EINVAL;
	h = (text[0] - '0') * 10 + (text[1] - '0');
	m = (text[3] - '0') * 10 + (text[4] - '0');
	if (h > 23 || m > 59)
		return SW_EINVAL;
	*ret_min = h * 60 + m;
	return SW_OK;
}

static bool is_utc(const char *zone)
{
	return zone == NULL || *zone == '\0' || strcmp(zone, "UTC") == 0;
}

/* The reset instant on local date d. */
static enum sw_err reset_on(const char *zone, const struct sw_date *d, int reset_min, int64_t *ret)
{
	if (is_utc(zone)) {
		*ret = sw_date_to_days(d) * 86400 + reset_min * 60;
		return SW_OK;
	}
	return sw_tz_local_to_utc(zone, d->year, d->month, d->day, reset_min / 60, reset_min % 60,
				  0, 0, ret, NULL);
}

enum sw_err sw_plan_window(const char *zone, int reset_min, int64_t now, int64_t *ret_from,
			   int64_t *ret_until)
{
	struct sw_tz_local loc;
	struct sw_date today, other;
	int64_t at;
	enum sw_err rc;

	*ret_from = *ret_until = 0;
	if (is_utc(zone)) {
		int64_t days = now >= 0 ? now / 86400 : (now - 86399) / 86400;

		sw_date_from_days(days, &today);
	} else {
		if ((rc = sw_tz_utc_to_local(zone, now, &loc)) != SW_OK)
			return rc;
		today = loc.date;
	}
	if ((rc = reset_on(zone, &today, reset_min, &at)) != SW_OK)
		return rc;
	sw_date_add_days(&today, at <= now ? 1 : -1, &other);
	if (at <= now) {
		*ret_from = at;
		return reset_on(zone, &other, reset_min, ret_until);
	}
	*ret_until = at;
	return reset_on(zone, &other, reset_min, ret_from);
}

void sw_plan_fmt_duration(struct sw_buf *out, double secs)
{
	static const struct {
		int64_t s;
		const char *u;
	} units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
	int64_t v = secs > 0 ? (int64_t)ceil(secs) : 0;
	int shown = 0;

	if (v == 0) {
		sw_buf_adds(out, "0s");
		return;
	}
	/* the two largest units: "2h30m", "1d3h" */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && shown < 2; i++) {
		if (v >= units[i].s) {
			sw_buf_printf(out, "%" PRId64 "%s", v / units[i].s, units[i].u);
			v %= units[i].s;
			shown++;
		} else if (shown) {
			break;
		}
		if (v == 0)
			break;
	}
}

void sw_plan_describe(const char *name, const struct sw_plan_in *in, const struct sw_plan *plan,
		      struct sw_buf *out)
{
	sw_buf_printf(out, "courier %s: ", name);
	if (!plan->limited) {
		sw_buf_printf(out,
			      "no daily quota; %" PRId64 " active parcels at their intervals\n",
			      plan->active);
		return;
	}
	sw_buf_printf(out, "%" PRId64 " requests left for ", in->quota_left);
	sw_plan_fmt_duration(out, (double)in->secs_left);
	sw_buf_printf(out, "; %" PRId64 " active parcels", plan->active);
	for (int c = 0; c < SW_POLL_CLASS_LAST; c++) {
		if (in->cls[c].count <= 0)
			continue;
		sw_buf_printf(out, ", %s %" PRId64, sw_poll_class_name(c), in->cls[c].count);
		if (plan->exhausted) {
			sw_buf_adds(out, " after the reset");
			continue;
		}
		sw_buf_adds(out, " every ");
		sw_plan_fmt_duration(out, plan->interval_s[c]);
		if (plan->stretch[c] > 1.0001) {
			sw_buf_adds(out, " (asked ");
			sw_plan_fmt_duration(out, plan->interval_s[c] / plan->stretch[c]);
			sw_buf_adds(out, ")");
		}
	}
	sw_buf_printf(out, "; the quota covers %" PRId64 " of %" PRId64 " at their own intervals\n",
		      plan->covered, plan->active);
}
