/*
 * recheck.c - judging a customer notice again just before it goes (see
 * sw_engine_recheck in engine.h).
 *
 * A notice is queued when its slip is found and sent after a settle time,
 * or later still (quiet hours, caps, a mail server outage).  The facts may
 * have changed meanwhile: the order shipped a second after its created
 * event, the parcel was delivered while the courier's API was down.  So
 * the row's order and parcels are read again and evaluated with the same
 * pure slip logic (eval.c) as detection: what no longer holds is never
 * sent.  A follow-up is the mirror image: it goes only while its slip
 * stays resolved, and says what actually happened.
 *
 * Feeds are dependencies (feeds.h): a true slip whose feed is unhealthy
 * is held, not sent (re-checked every SW_EVAL_RECHECK until the feed
 * recovers or give_up_after makes it obsolete): the courier's feed for
 * the kinds judged on its word, the warehouse's for ship_late.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alerts/engine.h"
#include "alerts/feeds.h"
#include "lib/store.h"

#define PART_MAX 256

/* Splits "parcel:<courier>:<tracking>" or "order:<wh>:<id>". */
static bool split_entity(const char *entity, bool *ret_parcel, char *a, char *b)
{
	const char *rest, *colon;

	if (strncmp(entity, "parcel:", 7) == 0)
		*ret_parcel = true, rest = entity + 7;
	else if (strncmp(entity, "order:", 6) == 0)
		*ret_parcel = false, rest = entity + 6;
	else
		return false;
	colon = strchr(rest, ':');
	if (!colon || colon == rest || !colon[1] || (size_t)(colon - rest) >= PART_MAX ||
	    strlen(colon + 1) >= PART_MAX)
		return false;
	snprintf(a, PART_MAX, "%.*s", (int)(colon - rest), rest);
	snprintf(b, PART_MAX, "%s", colon + 1);
	return true;
}

/* Kinds judged on the courier's word (everything but ship_late). */
static bool courier_judged(enum sw_slip k)
{
	return k != SW_SLIP_SHIP_LATE;
}

struct seen {
	bool slip_true, feed_down, shipped;
	int parcels, delivered, bad; /* bad: returning, returned, exception ... */
	char down_why[160]; /* the unhealthy feed, as feeds.h words it */
};

static bool bad_status(enum sw_ship_status s)
{
	return s == SW_SHIP_RETURNING || s == SW_SHIP_RETURNED || s == SW_SHIP_EXPIRED ||
	       s == SW_SHIP_CANCELLED || s == SW_SHIP_EXCEPTION || s == SW_SHIP_ATTEMPT_FAIL;
}

/* Notes whether the feed unit t's slip of kind k depends on is unhealthy
 * (the first unhealthy feed found is the one named). */
static void feed_check(struct sw_engine *e, const struct sw_track *t, enum sw_slip k, bool healthy,
		       int64_t now, struct seen *sn)
{
	const struct sw_alerts_conf *c = sw_engine_conf(e);
	struct sw_store *st = sw_engine_store(e);

	if (sn->feed_down)
		return;
	if (k == SW_SLIP_SHIP_LATE && t->order)
		sn->feed_down = sw_feeds_warehouse_down(st, c, sw_engine_rules(e),
							t->order->warehouse_id, now, sn->down_why,
							sizeof(sn->down_why));
	else if (courier_judged(k) && t->parcel && t->polled) {
		sn->feed_down = sw_feeds_courier_down(st, c, t->parcel->courier, now, sn->down_why,
						      sizeof(sn->down_why));
		if (!sn->feed_down && !healthy) { /* the engine's cached view */
			sn->feed_down = true;
			snprintf(sn->down_why, sizeof(sn->down_why),
				 "the %s tracking API is not answering", t->parcel->courier);
		}
	}
}

/* Evaluates every unit of the list, noting what the verdict needs. */
static void look(struct sw_engine *e, const struct sw_track *list, size_t n, enum sw_slip k,
		 const char *promise, int64_t now, struct seen *sn, struct sw_recheck_out *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct sw_parcel *p = list[i].parcel;
		struct sw_eval_out ev;
		bool healthy;

		sw_engine_eval_unit(e, &list[i], now, &ev, &healthy);
		for (int j = 0; j < ev.n; j++)
			if (ev.slips[j].kind == k && strcmp(ev.slips[j].promise, promise) == 0)
				sn->slip_true = true;
		feed_check(e, &list[i], k, healthy, now, sn);
		if (!p)
			continue;
		sn->shipped = true;
		sn->parcels++;
		sn->delivered += p->status == SW_SHIP_DELIVERED;
		sn->bad += bad_status(p->status);
		if (!out->eta[0] && p->eta_date)
			snprintf(out->eta, sizeof(out->eta), "%s", p->eta_date);
		if (!out->status[0]) {
			snprintf(out->status, sizeof(out->status), "%s",
				 sw_store_ship_status_name(p->status));
			snprintf(out->courier, sizeof(out->courier), "%s", p->courier);
			snprintf(out->tracking, sizeof(out->tracking), "%s", p->tracking_number);
		}
	}
}

static void verdict(struct sw_recheck_out *out, enum sw_recheck v, const char *why)
{
	out->verdict = v;
	snprintf(out->why, sizeof(out->why), "%s", why);
}

/* A slip notice: held while its feed is unhealthy (unless what the store
 * knows already makes it obsolete: delivered, or shipped for ship_late),
 * else still true or obsolete. */
static void judge_slip(const struct sw_outbox_msg *m, enum sw_slip k, const struct seen *sn,
		       int64_t now, struct sw_recheck_out *out)
{
	char why[sizeof(out->why)];

	if (sn->feed_down && !(sn->parcels && sn->delivered == sn->parcels) &&
	    !(k == SW_SLIP_SHIP_LATE && sn->shipped)) {
		/* true or not, only the feed can say (stalled is not even
		 * judged while it is silent): wait for its word */
		snprintf(why, sizeof(why), "held: %.120s, the %.20s notice waits for its word",
			 sn->down_why, m->slip_kind);
		verdict(out, SW_RECHECK_HOLD, why);
		out->hold_until = now + SW_EVAL_RECHECK;
	} else if (sn->slip_true) {
		verdict(out, SW_RECHECK_TRUE, "");
	} else if (sn->parcels && sn->delivered == sn->parcels) {
		verdict(out, SW_RECHECK_OBSOLETE, "no longer true: delivered meanwhile");
	} else if (k == SW_SLIP_SHIP_LATE && sn->shipped) {
		verdict(out, SW_RECHECK_OBSOLETE, "no longer true: the order shipped meanwhile");
	} else {
		snprintf(why, sizeof(why), "no longer true: the %s slip resolved%s%s%s",
			 m->slip_kind, out->status[0] ? " (parcel " : "", out->status,
			 out->status[0] ? ")" : "");
		verdict(out, SW_RECHECK_OBSOLETE, why);
	}
}

/* A follow-up: good news only while the slip stays resolved. */
static void judge_followup(enum sw_slip k, const struct seen *sn, struct sw_recheck_out *out)
{
	if (sn->slip_true) {
		verdict(out, SW_RECHECK_OBSOLETE, "no good news: the slip holds again");
	} else if (sn->parcels && sn->delivered == sn->parcels) {
		verdict(out, SW_RECHECK_TRUE, "");
		snprintf(out->news, sizeof(out->news), "delivered");
	} else if (k == SW_SLIP_SHIP_LATE && sn->shipped) {
		verdict(out, SW_RECHECK_TRUE, "");
		snprintf(out->news, sizeof(out->news), "shipped");
	} else if (k == SW_SLIP_SHIP_LATE || k == SW_SLIP_LATE || sn->bad || !sn->shipped) {
		verdict(out, SW_RECHECK_OBSOLETE, "no good news to tell: resolved without delivery");
	} else {
		verdict(out, SW_RECHECK_TRUE, "");
		snprintf(out->news, sizeof(out->news), "moving");
	}
}

enum sw_err sw_engine_recheck(struct sw_engine *e, const struct sw_outbox_msg *m, int64_t now,
			      struct sw_recheck_out *out, char *errbuf, size_t errlen)
{
	char a[PART_MAX], b[PART_MAX];
	const char *kind = m->slip_kind;
	bool parcel, followup = strncmp(kind, "resolved_", 9) == 0;
	struct sw_track *list = NULL;
	struct seen sn = { 0 };
	enum sw_slip k;
	size_t n = 0;
	enum sw_err rc;

	memset(out, 0, sizeof(*out));
	if (sw_slip_from_name(followup ? kind + 9 : kind, &k) != SW_OK ||
	    !split_entity(m->entity, &parcel, a, b)) {
		verdict(out, SW_RECHECK_TRUE, ""); /* not a slip notice: nothing to judge */
		return SW_OK;
	}
	rc = parcel ? sw_store_track_parcel(sw_engine_store(e), a, b, &list, &n)
		    : sw_store_track_order(sw_engine_store(e), a, b, &list, &n);
	if (rc != SW_OK) {
		snprintf(errbuf, errlen, "re-checking %s: %s", m->entity,
			 sw_store_errmsg(sw_engine_store(e)));
		return rc;
	}
	if (n == 0 || (!list[0].order && !list[0].parcel))
		verdict(out, SW_RECHECK_OBSOLETE, "no longer true: the order is not known any more");
	else if (list[0].order && list[0].order->stage[SW_STAGE_CANCELLED].at)
		verdict(out, SW_RECHECK_OBSOLETE, "no longer true: the order was cancelled");
	else {
		look(e, list, n, k, m->promise ? m->promise : "", now, &sn, out);
		out->parcels = sn.parcels;
		if (followup)
			judge_followup(k, &sn, out);
		else
			judge_slip(m, k, &sn, now, out);
	}
	sw_store_track_free(list, n);
	return SW_OK;
}
