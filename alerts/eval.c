/*
 * eval.c - slip detection for one unit (see eval.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alerts/eval.h"
#include "lib/swtime.h"

struct ctx {
	const struct sw_eval_in *in;
	struct sw_eval_out *out;
	char delivery_key[SW_EVAL_PROMISE_MAX];
};

static int64_t after_s(const struct ctx *c, enum sw_slip k)
{
	return c->in->rule->after_ms[k] / 1000;
}

static void want_due(struct ctx *c, int64_t at)
{
	if (at > c->in->now && (c->out->next_due == 0 || at < c->out->next_due))
		c->out->next_due = at;
}

static void add_slip(struct ctx *c, enum sw_slip k, const char *stage, const char *promise,
		     int64_t since)
{
	struct sw_eval_slip *s = &c->out->slips[c->out->n++];

	s->kind = k;
	s->stage = stage;
	snprintf(s->promise, sizeof(s->promise), "%s", promise);
	s->since = since;
}

/* A slip counting from `deadline`: found now, or a deadline to wait for. */
static void at_deadline(struct ctx *c, enum sw_slip k, int64_t deadline, const char *stage,
			const char *promise)
{
	if (c->in->rule->off[k])
		return;
	if (c->in->now >= deadline)
		add_slip(c, k, stage, promise, deadline);
	else
		want_due(c, deadline);
}

static void ship_by_key(int64_t at, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)at;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "ship_by:%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int64_t promise_at(const struct sw_order *o)
{
	return o && o->promised_delivery_by.kind != SW_PROMISE_NONE
		       ? o->promised_delivery_by.at.at
		       : 0;
}

static void eval_order(struct ctx *c)
{
	const struct sw_order *o = c->in->order;
	int64_t d = promise_at(o), s = o->promised_ship_by.at;
	char key[SW_EVAL_PROMISE_MAX];

	if (o->stage[SW_STAGE_CANCELLED].at || o->stage[SW_STAGE_SHIPPED].at) {
		c->out->closed = true;
		return;
	}
	if (s) {
		ship_by_key(s, key, sizeof(key));
		at_deadline(c, SW_SLIP_SHIP_LATE, s + after_s(c, SW_SLIP_SHIP_LATE), "warehouse",
			    key);
	}
	if (d)
		at_deadline(c, SW_SLIP_LATE, d + after_s(c, SW_SLIP_LATE), "warehouse",
			    c->delivery_key);
}

static bool no_scan_yet(const struct sw_parcel *p)
{
	return p->first_scan_at.at == 0 &&
	       (p->status == SW_SHIP_PENDING || p->status == SW_SHIP_INFO_RECEIVED ||
		p->status == SW_SHIP_UNKNOWN);
}

/* A slip that needs the courier's word: counted once the deadline passed
 * and the parcel was polled without error since (and, for stalled, the
 * courier's feed answers); until then re-checked every SW_EVAL_RECHECK. */
static void asked_deadline(struct ctx *c, enum sw_slip k, int64_t deadline, bool need_feed,
			   const char *stage)
{
	const struct sw_eval_in *in = c->in;

	if (in->rule->off[k])
		return;
	if (in->now < deadline) {
		want_due(c, deadline);
		return;
	}
	if (in->polled_ok_at >= deadline &&
	    (!need_feed || in->feed_ok_at >= in->now - in->feed_window))
		add_slip(c, k, stage, c->delivery_key, deadline);
	else
		want_due(c, in->now + SW_EVAL_RECHECK);
}

static void eval_stalled(struct ctx *c, const struct sw_parcel *p)
{
	if (p->last_event_at.at == 0 ||
	    (p->status != SW_SHIP_IN_TRANSIT && p->status != SW_SHIP_OUT_FOR_DELIVERY))
		return;
	asked_deadline(c, SW_SLIP_STALLED, p->last_event_at.at + after_s(c, SW_SLIP_STALLED), true,
		       "courier");
}

static void eval_status(struct ctx *c, const struct sw_parcel *p)
{
	static const struct {
		enum sw_ship_status status;
		enum sw_slip kind;
	} map[] = {
		{ SW_SHIP_ATTEMPT_FAIL, SW_SLIP_ATTEMPT_FAIL },
		{ SW_SHIP_EXCEPTION, SW_SLIP_EXCEPTION },
		{ SW_SHIP_RETURNING, SW_SLIP_RETURNING },
		{ SW_SHIP_AVAILABLE_FOR_PICKUP, SW_SLIP_AVAILABLE_FOR_PICKUP },
	};
	int64_t since = p->last_event_at.at ? p->last_event_at.at : c->in->now;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (p->status == map[i].status)
			at_deadline(c, map[i].kind, since + after_s(c, map[i].kind), "courier",
				    c->delivery_key);
}

static void eval_eta(struct ctx *c, const struct sw_parcel *p, int64_t d)
{
	struct sw_date eta;
	int64_t start;

	if (c->in->rule->off[SW_SLIP_ETA_SLIP] || !d || !p->eta_date ||
	    sw_date_parse(p->eta_date, &eta, NULL, 0) != SW_OK ||
	    sw_tz_start_of_day(c->in->zone, &eta, &start) != SW_OK)
		return;
	if (start > d + after_s(c, SW_SLIP_ETA_SLIP))
		add_slip(c, SW_SLIP_ETA_SLIP, "courier", c->delivery_key, start);
}

static void eval_parcel(struct ctx *c)
{
	const struct sw_parcel *p = c->in->parcel;
	const struct sw_order *o = c->in->order;
	int64_t d = promise_at(o), s = o ? o->promised_ship_by.at : 0;
	int64_t shipped = p->shipped_at.at;

	if (p->terminal || (o && o->stage[SW_STAGE_CANCELLED].at)) {
		c->out->closed = true;
		return;
	}
	if (!d && !s)
		return; /* the order's promises are not known yet */
	if (!shipped && o)
		shipped = o->stage[SW_STAGE_SHIPPED].at;
	if (shipped && no_scan_yet(p))
		asked_deadline(c, SW_SLIP_NO_FIRST_SCAN,
			       shipped + after_s(c, SW_SLIP_NO_FIRST_SCAN), false, "courier");
	eval_stalled(c, p);
	eval_status(c, p);
	eval_eta(c, p, d);
	if (d) {
		bool wh = !shipped || (s && shipped > s + after_s(c, SW_SLIP_SHIP_LATE));
		const char *stage = wh ? "warehouse" : "courier";

		/* a polled parcel may have been delivered on time while its
		 * courier's API was down: only the courier's answer after the
		 * promise can say it is late */
		if (c->in->polled)
			asked_deadline(c, SW_SLIP_LATE, d + after_s(c, SW_SLIP_LATE), false, stage);
		else
			at_deadline(c, SW_SLIP_LATE, d + after_s(c, SW_SLIP_LATE), stage,
				    c->delivery_key);
	}
}

/* buf = prefix + text, cut to fit like snprintf (no format to parse: this
 * runs once per unit in every evaluation pass). */
static void key_join(char *buf, size_t len, const char *prefix, const char *text)
{
	size_t p = strlen(prefix), t;

	if (p > len - 1)
		p = len - 1;
	t = strnlen(text, len - 1 - p);
	memcpy(buf, prefix, p);
	memcpy(buf + p, text, t);
	buf[p + t] = '\0';
}

void sw_eval(const struct sw_eval_in *in, struct sw_eval_out *out)
{
	struct ctx c = { in, out, "" };
	const struct sw_order *o = in->order;

	memset(out, 0, sizeof(*out));
	if (o && o->promised_delivery_by.kind != SW_PROMISE_NONE && o->promised_delivery_by.text)
		key_join(c.delivery_key, sizeof(c.delivery_key), "delivery:",
			 o->promised_delivery_by.text);
	if (in->parcel)
		eval_parcel(&c);
	else if (o)
		eval_order(&c);
	else
		out->closed = true;
}
