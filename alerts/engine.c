/*
 * engine.c - the alert engine's detection side (see engine.h).
 *
 * Design: all state that matters lives in the store (alerts, outbox,
 * cursor); memory holds only the deadline queue (dueq.h, keyed by parcel
 * id or negated order id) and a small cache of courier feed health.  Each
 * batch of work (a page of the start-up scan, a batch of journal events, a
 * batch of due units) runs in one store transaction; if it fails, nothing
 * of it is kept, the cursor does not move and the units it touched are
 * re-queued a few seconds ahead.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/dueq.h"
#include "alerts/engine.h"
#include "alerts/eval.h"
#include "alerts/stage.h"
#include "lib/log.h"
#include "lib/store_journal.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define HEALTH_TTL 30	/* s a cached courier health is trusted */
#define RETRY_AFTER 5	/* s before units of a failed batch are retried */
#define ENTITY_MAX 320	/* "parcel:<courier>:<tracking>" */

struct health {
	char *courier;
	int64_t ok_at, fetched_at;
};

struct sw_engine {
	struct sw_store *st;
	const struct sw_alerts_conf *conf;
	const struct sw_rules *rules;
	struct sw_metrics *metrics;
	struct sw_dueq *q;
	int64_t cursor;
	struct health *health;
	size_t n_health;
	/* keys touched by the running batch, re-queued if it fails */
	int64_t *touched;
	size_t n_touched, cap_touched;
	struct sw_engine_stats stats;
	struct sw_stage_table *stages; /* lanes' p90 per stage (stage.h) */
	/* the tail's batch: whether the unit being evaluated has open slips
	 * ([0] its own entity, [1] its order's), read for the whole batch
	 * before any is evaluated; NULL outside the tail, and not trusted
	 * once a slip was recorded in the batch (hint_stale) */
	const bool *hint;
	bool hint_stale;
	/* the last customer zone found valid: most parcels share a few zones,
	 * and the pass asks for each (sw_tz_valid builds a path each time) */
	char zone_ok[64];
};

static void set_err(char *errbuf, size_t errlen, const char *what, struct sw_store *st)
{
	snprintf(errbuf, errlen, "%s: %s", what, sw_store_errmsg(st));
}

enum sw_err sw_engine_new(struct sw_store *st, const struct sw_alerts_conf *conf,
			  const struct sw_rules *rules, struct sw_metrics *metrics,
			  struct sw_engine **ret_engine, char *errbuf, size_t errlen)
{
	struct sw_engine *e = xcalloc(1, sizeof(*e));

	*ret_engine = NULL;
	e->st = st;
	e->conf = conf;
	e->rules = rules;
	e->metrics = metrics;
	if (sw_store_cursor_get(st, SW_ENGINE_CURSOR, &e->cursor) != SW_OK) {
		set_err(errbuf, errlen, "reading the journal cursor", st);
		free(e);
		return SW_ESTORE;
	}
	e->q = sw_dueq_new();
	e->stages = sw_stage_new();
	*ret_engine = e;
	return SW_OK;
}

void sw_engine_free(struct sw_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_health; i++)
		free(e->health[i].courier);
	free(e->health);
	free(e->touched);
	sw_dueq_free(e->q);
	sw_stage_free(e->stages);
	free(e);
}

void sw_engine_set_conf(struct sw_engine *e, const struct sw_alerts_conf *conf,
			const struct sw_rules *rules)
{
	e->conf = conf;
	e->rules = rules;
}

/* The courier's last useful answer, cached for HEALTH_TTL. */
static int64_t feed_ok_at(struct sw_engine *e, const char *courier, int64_t now)
{
	struct health *h = NULL;
	int64_t fail;

	for (size_t i = 0; i < e->n_health; i++)
		if (strcmp(e->health[i].courier, courier) == 0)
			h = &e->health[i];
	if (!h) {
		e->health = xreallocarray(e->health, e->n_health + 1, sizeof(*e->health));
		h = &e->health[e->n_health++];
		h->courier = xstrdup(courier);
		h->ok_at = h->fetched_at = 0;
	}
	if (h->fetched_at == 0 || now - h->fetched_at >= HEALTH_TTL || now < h->fetched_at) {
		/* a store error reads as "never answered": stalled waits */
		if (sw_store_courier_health_get(e->st, courier, &h->ok_at, &fail) != SW_OK)
			h->ok_at = 0;
		h->fetched_at = now;
	}
	return h->ok_at;
}

static const char *unit_zone(const struct sw_engine *e, const struct sw_order *o)
{
	if (o && o->customer_timezone && sw_tz_valid(o->customer_timezone))
		return o->customer_timezone;
	return e->conf->default_timezone;
}

/* unit_zone for the evaluation of every unit, with the last valid zone
 * remembered. */
static const char *eval_zone(struct sw_engine *e, const struct sw_order *o)
{
	const char *z = o ? o->customer_timezone : NULL;
	size_t n;

	if (z && strcmp(z, e->zone_ok) == 0)
		return z;
	z = unit_zone(e, o);
	n = strlen(z);
	if (o && z == o->customer_timezone && n < sizeof(e->zone_ok))
		memcpy(e->zone_ok, z, n + 1);
	return z;
}

static void entity_of(const struct sw_track *t, char *buf, size_t len)
{
	if (t->parcel)
		snprintf(buf, len, "parcel:%s:%s", t->parcel->courier, t->parcel->tracking_number);
	else
		snprintf(buf, len, "order:%s:%s", t->order->warehouse_id, t->order->order_id);
}

/* What the email needs, kept with the outbox row: the sender renders it
 * (so a template fixed meanwhile is used) in the customer's zone. */
static char *email_vars(const struct sw_engine *e, const struct sw_track *t,
			const struct sw_eval_slip *s)
{
	const struct sw_order *o = t->order;
	const struct sw_promise *p = &o->promised_delivery_by;
	json_t *v = json_object();
	char *text;

	(void)s;
	json_object_set_new(v, "kind", json_string(sw_slip_name(s->kind)));
	json_object_set_new(v, "zone", json_string(unit_zone(e, o)));
	if (o->customer_locale)
		json_object_set_new(v, "locale", json_string(o->customer_locale));
	if (o->customer_name)
		json_object_set_new(v, "name", json_string(o->customer_name));
	json_object_set_new(v, "warehouse_id", json_string(o->warehouse_id));
	json_object_set_new(v, "order_id", json_string(o->order_id));
	if (t->parcel) {
		json_object_set_new(v, "courier", json_string(t->parcel->courier));
		json_object_set_new(v, "tracking", json_string(t->parcel->tracking_number));
		if (t->parcel->eta_date)
			json_object_set_new(v, "eta", json_string(t->parcel->eta_date));
	}
	if (o->customer_phone)
		json_object_set_new(v, "phone", json_string(o->customer_phone));
	/* the delivery promise is always the promise_* values; the ship-by
	 * promise is ship_by_at, told as such (never as a delivery date) */
	if (p->kind != SW_PROMISE_NONE) {
		json_object_set_new(v, "promise_kind",
				    json_string(sw_store_promise_kind_name(p->kind)));
		if (p->text)
			json_object_set_new(v, "promise_text", json_string(p->text));
		json_object_set_new(v, "promise_at", json_integer(p->at.at));
	}
	if (o->promised_ship_by.at)
		json_object_set_new(v, "ship_by_at", json_integer(o->promised_ship_by.at));
	text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	return text;
}

static void count(struct sw_engine *e, const char *ds)
{
	if (e->metrics)
		sw_metrics_count(e->metrics, "notify", ds, 1);
}

/* The channel and address the order's customer is told through; false if
 * there is none (no address for that channel, or notices are off). */
static bool customer_route(const struct sw_engine *e, const struct sw_order *o,
			   const char **ret_channel, const char **ret_recipient)
{
	const char *ch = o->customer_channel && *o->customer_channel ? o->customer_channel
								     : e->conf->channel;

	if (ch && strcmp(ch, "webhook") == 0 && e->conf->webhook_on) {
		*ret_channel = "webhook";
		*ret_recipient = o->customer_email && *o->customer_email ? o->customer_email
									 : o->customer_phone;
	} else {
		*ret_channel = "email";
		*ret_recipient = e->conf->email ? o->customer_email : NULL;
	}
	return *ret_recipient && **ret_recipient;
}

/* The notice group of an order: its slips due together go out as one. */
static void group_of(const struct sw_order *o, bool news, char *buf, size_t len)
{
	snprintf(buf, len, "order:%s:%s%s", o->warehouse_id, o->order_id, news ? "#news" : "");
}

/* When a new notice may first go: after the kind's settle time, and not in
 * the customer's quiet hours unless the kind is urgent. */
static int64_t first_attempt(const struct sw_engine *e, const struct sw_order *o,
			     const struct sw_rule *rule, enum sw_slip k, int64_t now)
{
	int64_t at = now + (rule ? rule->settle_ms[k] / 1000 : e->conf->settle_ms / 1000), until;

	if (e->conf->is_urgent[k])
		return at;
	sw_rules_quiet_until(e->conf, unit_zone(e, o), at, &until, NULL);
	return until;
}

/* Queues one outbox row (SW_OK also when its key exists already). */
static enum sw_err enqueue(struct sw_engine *e, struct sw_outbox_msg *m, const char *email,
			   int64_t now)
{
	int64_t id;
	int unsub = 0;
	enum sw_err rc;

	m->created_at = now;
	rc = sw_store_outbox_enqueue(e->st, m, &id);
	if (rc == SW_EDUP)
		return SW_OK;
	if (rc != SW_OK)
		return rc;
	if (email && (rc = sw_store_unsub_check(e->st, email, &unsub)))
		return rc;
	if (unsub) {
		if ((rc = sw_store_outbox_mark_suppressed(e->st, id, "unsubscribed")))
			return rc;
		e->stats.suppressed++;
		count(e, "suppressed");
		count(e, "suppressed_unsubscribed");
		return SW_OK;
	}
	e->stats.queued++;
	count(e, "queued");
	if (m->next_attempt_at > now)
		count(e, "deferred");
	return SW_OK;
}

/* Queues the customer's notice of a new slip. */
static enum sw_err queue_email(struct sw_engine *e, const struct sw_track *t,
			       const struct sw_rule *rule, const struct sw_eval_slip *s,
			       const char *entity, int64_t now)
{
	const struct sw_order *o = t->order;
	struct sw_outbox_msg m = { 0 };
	char grp[ENTITY_MAX];
	enum sw_err rc;
	char *vars;

	if (!o || !customer_route(e, o, &m.channel, &m.recipient)) {
		if (o && (e->conf->email || e->conf->webhook_on))
			e->stats.no_email++;
		return SW_OK;
	}
	vars = email_vars(e, t, s);
	group_of(o, false, grp, sizeof(grp));
	m.entity = entity;
	m.slip_kind = sw_slip_name(s->kind);
	m.promise = s->promise;
	m.template_name = sw_slip_name(s->kind);
	m.template_vars = vars;
	m.grp = grp;
	m.next_attempt_at = first_attempt(e, o, rule, s->kind, now);
	rc = enqueue(e, &m, o->customer_email, now);
	free(vars);
	return rc;
}

/* The stage of a slip: the one that ran over its lane's p90 (stage.h),
 * with how far into *ret_ratio, else eval's static one (*ret_ratio 0).
 * Baselines are re-read at most hourly. */
static const char *stage_of(struct sw_engine *e, const struct sw_track *t,
			    const struct sw_eval_slip *s, int64_t now, double *ret_ratio)
{
	struct sw_stage_verdict v;
	int64_t days = e->conf->stage_baseline_days, min = e->conf->stage_min_samples;

	if (sw_stage_refresh(e->stages, e->st, now, days > 0 ? days : SW_STAGE_DEFAULT_DAYS,
			     min > 0 ? min : SW_STAGE_DEFAULT_SAMPLES, false) != SW_OK)
		sw_log_warn("alerts", "stage baselines: %s", sw_store_errmsg(e->st));
	if (sw_stage_judge_unit(e->stages, e->st, t->order, t->parcel, now, &v) != SW_OK)
		sw_log_warn("alerts", "stage marks: %s", sw_store_errmsg(e->st));
	*ret_ratio = v.over >= 0 ? v.ratio : 0;
	return sw_stage_pick(&v, s->stage);
}

/* Records one slip; a new one queues its email. */
static enum sw_err record(struct sw_engine *e, const struct sw_track *t,
			  const struct sw_rule *rule, const struct sw_eval_slip *s, int64_t now)
{
	char entity[ENTITY_MAX], order_entity[ENTITY_MAX];
	struct sw_alert a = { 0 };
	enum sw_err rc;
	int seen = 0;

	entity_of(t, entity, sizeof(entity));
	a.entity = entity;
	a.kind = sw_slip_name(s->kind);
	a.promise = s->promise;
	a.stage = stage_of(e, t, s, now, &a.stage_ratio);
	a.detected_at = now;
	e->hint_stale = true; /* a slip may be recorded or reopened below */
	/* an order found late while still in the warehouse stays that one
	 * slip after it ships: its parcels are not late a second time, and
	 * a late parcel keeps (or reopens) the order's slip */
	if (s->kind == SW_SLIP_LATE && t->parcel && t->order) {
		snprintf(order_entity, sizeof(order_entity), "order:%s:%s", t->order->warehouse_id,
			 t->order->order_id);
		if ((rc = sw_store_alert_exists(e->st, order_entity, "late", s->promise, &seen)))
			return rc;
		if (seen) {
			a.entity = order_entity;
			rc = sw_store_alert_record(e->st, &a, NULL);
			return rc == SW_EDUP ? SW_OK : rc;
		}
	}
	rc = sw_store_alert_record(e->st, &a, NULL);
	if (rc == SW_EDUP)
		return SW_OK;
	if (rc != SW_OK)
		return rc;
	e->stats.slips++;
	count(e, "slips");
	sw_log_info("alerts", "%s: %s (%s, %s)", entity, a.kind, a.stage,
		    *s->promise ? s->promise : "no promise");
	return queue_email(e, t, rule, s, entity, now);
}

static void touch(struct sw_engine *e, int64_t key)
{
	if (e->n_touched == e->cap_touched) {
		e->cap_touched = e->cap_touched ? e->cap_touched * 2 : 256;
		e->touched = xreallocarray(e->touched, e->cap_touched, sizeof(*e->touched));
	}
	e->touched[e->n_touched++] = key;
}

/* A slip the customer was told about resolved: one good-news follow-up,
 * through the same channel to the same address, settled and re-checked
 * like any notice (its kind "resolved_KIND"; the news it brings is decided
 * when it goes, from the facts then). */
static enum sw_err queue_followup(struct sw_engine *e, const struct sw_track *t,
				  const struct sw_outbox_msg *told, enum sw_slip k, int64_t now)
{
	struct sw_outbox_msg m = { 0 };
	char kind[48], grp[ENTITY_MAX];

	if (!t->order || !e->conf->has_followup[k])
		return SW_OK;
	snprintf(kind, sizeof(kind), "resolved_%s", sw_slip_name(k));
	group_of(t->order, true, grp, sizeof(grp));
	m.entity = told->entity;
	m.slip_kind = kind;
	m.promise = told->promise;
	m.channel = told->channel;
	m.recipient = told->recipient;
	m.template_name = kind;
	m.template_vars = told->template_vars;
	m.grp = grp;
	m.next_attempt_at = first_attempt(e, t->order, NULL, k, now);
	return enqueue(e, &m, strcmp(told->channel, "email") == 0 ? told->recipient : NULL, now);
}

/* One open slip of entity ends: a notice still waiting for it is obsolete
 * (never sent); one already sent earns a follow-up. */
static enum sw_err slip_ended(struct sw_engine *e, const struct sw_track *t, const char *entity,
			      const struct sw_alert *a, int64_t now)
{
	struct sw_outbox_msg *m = NULL;
	enum sw_slip k;
	enum sw_err rc;
	int n = 0;

	if (sw_slip_from_name(a->kind, &k) != SW_OK)
		return SW_OK;
	if ((rc = sw_store_outbox_obsolete_key(e->st, entity, a->kind, a->promise,
					       "the slip resolved before the notice went", &n)))
		return rc;
	if (n) {
		count(e, "obsolete");
		return SW_OK;
	}
	rc = sw_store_outbox_get_key(e->st, entity, a->kind, a->promise, &m);
	if (rc == SW_ENOTFOUND)
		return SW_OK;
	if (rc == SW_OK && (m->state == SW_OUTBOX_SENT || m->state == SW_OUTBOX_MERGED))
		rc = queue_followup(e, t, m, k, now);
	sw_store_outbox_free(m, m ? 1 : 0);
	return rc;
}

/* Resolves the open slips of entity whose kind is not in keep (",a,b,"). */
static enum sw_err resolve_entity(struct sw_engine *e, const struct sw_track *t,
				  const char *entity, const char *keep, int64_t now)
{
	struct sw_alert *open;
	char word[40];
	size_t n;
	enum sw_err rc;

	if ((rc = sw_store_alert_open(e->st, entity, &open, &n)))
		return rc;
	for (size_t i = 0; i < n && rc == SW_OK; i++) {
		snprintf(word, sizeof(word), ",%s,", open[i].kind);
		if (!strstr(keep, word))
			rc = slip_ended(e, t, entity, &open[i], now);
	}
	sw_store_alert_free(open, n);
	if (rc || n == 0) /* nothing open: nothing to resolve */
		return rc;
	return sw_store_alert_resolve(e->st, entity, keep, now, NULL);
}

/* True if the tail's batch read showed entity i of the unit ([0] its own,
 * [1] its order's) has no open slip, and no slip was recorded since. */
static bool known_closed(const struct sw_engine *e, int i)
{
	return e->hint && !e->hint_stale && !e->hint[i];
}

/* After an event: the unit's open slips that are no longer true are
 * resolved (time passing only ever adds slips; events take them away).
 * A shipped order's own slips follow its parcel: only `late` can stay
 * open, while the parcel is late. */
static enum sw_err resolve(struct sw_engine *e, const struct sw_track *t,
			   const struct sw_eval_out *out, int64_t now)
{
	char keep[SW_SLIP_LAST * 24 + 2] = ",", entity[ENTITY_MAX];
	size_t used = 1;
	bool late = false;
	enum sw_err rc;

	for (int i = 0; i < out->n; i++) {
		used += (size_t)snprintf(keep + used, sizeof(keep) - used, "%s,",
					 sw_slip_name(out->slips[i].kind));
		late |= out->slips[i].kind == SW_SLIP_LATE;
	}
	entity_of(t, entity, sizeof(entity));
	if (!known_closed(e, 0) && (rc = resolve_entity(e, t, entity, keep, now)))
		return rc;
	if (!t->parcel || !t->order || known_closed(e, 1))
		return SW_OK;
	snprintf(entity, sizeof(entity), "order:%s:%s", t->order->warehouse_id,
		 t->order->order_id);
	return resolve_entity(e, t, entity, late ? ",late," : ",", now);
}

const struct sw_rule *sw_engine_eval_unit(struct sw_engine *e, const struct sw_track *t,
					  int64_t now, struct sw_eval_out *out,
					  bool *ret_feed_healthy)
{
	const struct sw_order *o = t->order;
	const struct sw_parcel *p = t->parcel;
	struct sw_eval_in in = { 0 };

	in.order = o;
	in.parcel = p;
	in.rule = sw_rules_pick(e->rules, o ? o->warehouse_id : NULL, p ? p->courier : NULL,
				o ? o->service_level : NULL);
	in.zone = eval_zone(e, o);
	in.now = now;
	in.feed_ok_at = p ? feed_ok_at(e, p->courier, now) : 0;
	in.feed_window = e->conf->feed_window_ms / 1000;
	in.polled_ok_at = t->polled_ok_at;
	in.polled = t->polled != 0;
	sw_eval(&in, out);
	if (ret_feed_healthy)
		*ret_feed_healthy = !p || !t->polled || in.feed_ok_at >= now - in.feed_window;
	return in.rule;
}

/* Evaluates one unit, records its slips and sets its deadline; after an
 * event (resolve), also resolves the slips that are no longer true. */
static enum sw_err evaluate(struct sw_engine *e, const struct sw_track *t, int64_t now,
			    bool after_event)
{
	const struct sw_order *o = t->order;
	const struct sw_parcel *p = t->parcel;
	const struct sw_rule *rule;
	struct sw_eval_out out;
	int64_t key;
	enum sw_err rc;

	if (!p && !o)
		return SW_OK;
	key = p ? p->id : -o->id;
	touch(e, key);
	if (p && o) /* shipped: the order's own deadlines are its parcels' now */
		sw_dueq_set(e->q, -o->id, 0);
	rule = sw_engine_eval_unit(e, t, now, &out, NULL);
	e->stats.evaluated++;
	for (int i = 0; i < out.n; i++)
		if ((rc = record(e, t, rule, &out.slips[i], now)))
			return rc;
	if (after_event && (rc = resolve(e, t, &out, now)))
		return rc;
	sw_dueq_set(e->q, key, out.closed ? 0 : out.next_due);
	return SW_OK;
}

static enum sw_err evaluate_list(struct sw_engine *e, const struct sw_track *list, size_t n,
				 int64_t now, bool after_event)
{
	enum sw_err rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = evaluate(e, &list[i], now, after_event)))
			return rc;
	return SW_OK;
}

static enum sw_err batch_begin(struct sw_engine *e)
{
	e->n_touched = 0;
	return sw_store_begin(e->st);
}

/* Commits, or rolls back and re-queues what the batch touched. */
static enum sw_err batch_end(struct sw_engine *e, enum sw_err rc, int64_t now, char *errbuf,
			     size_t errlen, const char *what)
{
	if (rc == SW_OK && (rc = sw_store_commit(e->st)) == SW_OK)
		return SW_OK;
	set_err(errbuf, errlen, what, e->st);
	sw_store_rollback(e->st);
	for (size_t i = 0; i < e->n_touched; i++)
		sw_dueq_set(e->q, e->touched[i], now + RETRY_AFTER);
	return SW_ESTORE;
}

enum sw_err sw_engine_scan(struct sw_engine *e, int64_t now, char *errbuf, size_t errlen)
{
	int limit = (int)e->conf->batch * 4 > SW_STORE_MAX_BATCH ? SW_STORE_MAX_BATCH
								  : (int)e->conf->batch * 4;

	for (int unit = SW_TRACK_PARCEL; unit <= SW_TRACK_ORDER; unit++) {
		int64_t after = 0;
		struct sw_track *list;
		size_t n;
		enum sw_err rc;

		do {
			if ((rc = batch_begin(e)) == SW_OK)
				rc = sw_store_track_scan(e->st, (enum sw_track_unit)unit, after,
							 limit, &list, &n);
			if (rc == SW_OK && n > 0) {
				rc = evaluate_list(e, list, n, now, false);
				after = unit == SW_TRACK_PARCEL ? list[n - 1].parcel->id
								: list[n - 1].order->id;
				sw_store_track_free(list, n);
			}
			if ((rc = batch_end(e, rc, now, errbuf, errlen, "start-up pass")))
				return rc;
		} while (n == (size_t)limit);
	}
	return SW_OK;
}

/*
 * The journal tail works a batch at a time: the events are read first and
 * only the distinct units they name are kept (a parcel by courier +
 * tracking number, an order by warehouse + order id; an order.shipped
 * names both and keeps both); then the named units are read, one query
 * for all the parcels and one for all the orders (sw_store_track_among:
 * per unit the rows cost, not the queries), and each unit (parcel or
 * parcel-less order, by dueq key) evaluated once, in the order of its
 * last mention.  Evaluation reads the unit's state now, which
 * is already the newest any event of the batch left, and uses nothing of
 * the events but their keys: once per batch gives what once per event gave.
 */
struct tail_name {
	char *key;   /* kind ('p' or 'o'), first part, NUL, second part, NUL */
	size_t len;  /* bytes of key, both NULs included */
	size_t last; /* position of the last mention in the batch */
};

struct tail_ctx {
	struct sw_engine *e;
	struct tail_name *names;
	size_t n, cap;
	size_t *slot; /* open addressing: index + 1 into names, 0 empty */
	size_t n_slot;
	size_t mentions;
	int64_t seq; /* the last event's seq */
};

static uint64_t hash_bytes(const void *p, size_t len)
{
	const unsigned char *c = p;
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

static void tail_grow(struct tail_ctx *tc)
{
	size_t n_slot = tc->n_slot ? tc->n_slot * 2 : 1024;
	size_t *slot = xcalloc(n_slot, sizeof(*slot));

	for (size_t i = 0; i < tc->n; i++) {
		size_t j = (size_t)hash_bytes(tc->names[i].key, tc->names[i].len);

		while (slot[j & (n_slot - 1)])
			j++;
		slot[j & (n_slot - 1)] = i + 1;
	}
	free(tc->slot);
	tc->slot = slot;
	tc->n_slot = n_slot;
}

/* Notes one mention of unit kind ('p' or 'o') a + b. */
static void tail_name(struct tail_ctx *tc, char kind, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), len = la + lb + 3;
	char *key = xmalloc(len);
	size_t *s;

	key[0] = kind;
	memcpy(key + 1, a, la + 1);
	memcpy(key + 2 + la, b, lb + 1);
	if ((tc->n + 1) * 2 > tc->n_slot)
		tail_grow(tc);
	for (size_t j = (size_t)hash_bytes(key, len);; j++) {
		s = &tc->slot[j & (tc->n_slot - 1)];
		if (!*s)
			break;
		if (tc->names[*s - 1].len == len && memcmp(tc->names[*s - 1].key, key, len) == 0) {
			tc->names[*s - 1].last = tc->mentions++;
			free(key);
			return;
		}
	}
	if (tc->n == tc->cap) {
		tc->cap = tc->cap ? tc->cap * 2 : 256;
		tc->names = xreallocarray(tc->names, tc->cap, sizeof(*tc->names));
	}
	*s = tc->n + 1;
	tc->names[tc->n].key = key;
	tc->names[tc->n].len = len;
	tc->names[tc->n++].last = tc->mentions++;
}

/* Forgets the cached health of courier: an event about one of its parcels
 * may come with a new answer of its feed, written in the same transaction
 * (collector/poll_apply.c), and a health read before it would hold the
 * parcel's stalled for SW_EVAL_RECHECK. */
static void health_forget(struct sw_engine *e, const char *courier)
{
	for (size_t i = 0; i < e->n_health; i++)
		if (strcmp(e->health[i].courier, courier) == 0)
			e->health[i].fetched_at = 0;
}

/* Notes the units one journal event names. */
static enum sw_err on_event(const struct sw_journal_event *ev, void *arg)
{
	struct tail_ctx *tc = arg;

	tc->e->stats.events++;
	tc->seq = ev->seq;
	if (ev->courier && *ev->courier)
		health_forget(tc->e, ev->courier);
	/* a key with an empty part names nothing (the store keeps no such
	 * unit, and reading it would fail the batch again and again) */
	if (ev->courier && *ev->courier && ev->tracking_number && *ev->tracking_number)
		tail_name(tc, 'p', ev->courier, ev->tracking_number);
	/* an order event names its order; order.shipped names both: the
	 * order unit closes */
	if (ev->warehouse_id && *ev->warehouse_id && ev->order_id && *ev->order_id)
		tail_name(tc, 'o', ev->warehouse_id, ev->order_id);
	return SW_OK;
}

static void tail_free(struct tail_ctx *tc)
{
	for (size_t i = 0; i < tc->n; i++)
		free(tc->names[i].key);
	free(tc->names);
	free(tc->slot);
}

static int by_last(const void *a, const void *b)
{
	const struct tail_name *x = a, *y = b;

	return x->last < y->last ? -1 : x->last > y->last;
}

/* The tracks the batch's names lead to, in the order of last mention:
 * one read per unit kind (sw_store_track_among), [0] parcels, [1] orders. */
struct tail_units {
	struct sw_track *lists[2];
	size_t *of[2], lens[2]; /* of: each row's key index in its read */
	struct sw_track **all;	/* into lists */
	size_t n_all;
};

static void units_free(struct tail_units *u)
{
	for (int k = 0; k < 2; k++) {
		sw_store_track_free(u->lists[k], u->lens[k]);
		free(u->of[k]);
	}
	free(u->all);
}

static enum sw_err units_read(struct sw_engine *e, struct tail_ctx *tc, struct tail_units *u)
{
	struct sw_track_key *keys[2];
	size_t n_keys[2] = { 0, 0 }, next[2] = { 0, 0 }, n_all;
	enum sw_err rc = SW_OK;

	if (tc->n > 1) /* names is NULL when the events named nothing */
		qsort(tc->names, tc->n, sizeof(*tc->names), by_last);
	for (int k = 0; k < 2; k++)
		keys[k] = xcalloc(tc->n ? tc->n : 1, sizeof(*keys[k]));
	for (size_t i = 0; i < tc->n; i++) {
		int k = tc->names[i].key[0] == 'p' ? 0 : 1;
		struct sw_track_key *key = &keys[k][n_keys[k]++];

		key->a = tc->names[i].key + 1;
		key->b = key->a + strlen(key->a) + 1;
	}
	for (int k = 0; k < 2 && rc == SW_OK; k++)
		rc = sw_store_track_among(e->st, k ? SW_TRACK_ORDER : SW_TRACK_PARCEL, keys[k],
					  n_keys[k], &u->lists[k], &u->of[k], &u->lens[k]);
	free(keys[0]);
	free(keys[1]);
	if (rc != SW_OK)
		return rc;
	/* back into the names' order: each read's rows come in key order */
	n_all = u->lens[0] + u->lens[1];
	u->all = xcalloc(n_all ? n_all : 1, sizeof(*u->all));
	n_keys[0] = n_keys[1] = 0;
	for (size_t i = 0; i < tc->n; i++) {
		int k = tc->names[i].key[0] == 'p' ? 0 : 1;
		size_t at = n_keys[k]++;

		while (next[k] < u->lens[k] && u->of[k][next[k]] == at)
			u->all[u->n_all++] = &u->lists[k][next[k]++];
	}
	return SW_OK;
}

static int64_t unit_key(const struct sw_track *t)
{
	return t->parcel ? t->parcel->id : t->order ? -t->order->id : 0;
}

/* Which of the units to evaluate (at[0..n-1], into u->all) have open
 * slips, on their own entity and their order's: into hint[2 * i + 0/1]. */
static void units_hint(struct sw_engine *e, const struct tail_units *u, const size_t *at,
		       size_t n, bool *hint)
{
	char **ent = xcalloc(2 * n + 1, sizeof(*ent)), buf[ENTITY_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct sw_track *t = u->all[at[i]];

		entity_of(t, buf, sizeof(buf));
		ent[2 * i] = xstrdup(buf);
		if (t->parcel && t->order)
			snprintf(buf, sizeof(buf), "order:%s:%s", t->order->warehouse_id,
				 t->order->order_id);
		ent[2 * i + 1] = xstrdup(buf); /* the own entity again: harmless */
	}
	/* on failure every hint is true: each unit is checked as before */
	if (sw_store_alert_open_among(e->st, (const char *const *)ent, 2 * n, hint) != SW_OK)
		sw_log_warn("alerts", "open slips of the batch: %s", sw_store_errmsg(e->st));
	for (size_t i = 0; i < 2 * n; i++)
		free(ent[i]);
	free(ent);
}

/* Evaluates each unit of u once, at its last place in the list (a parcel
 * named itself and through its order counts once). */
static enum sw_err units_evaluate(struct sw_engine *e, struct tail_units *u, int64_t now)
{
	size_t n_slot = 16, *slot, *at, n = 0;
	enum sw_err rc = SW_OK;
	bool *hint;

	while (n_slot < u->n_all * 2)
		n_slot *= 2;
	slot = xcalloc(n_slot, sizeof(*slot)); /* key -> last index + 1 */
	for (size_t i = 0; i < u->n_all; i++) {
		int64_t k = unit_key(u->all[i]);
		size_t j = (size_t)hash_bytes(&k, sizeof(k));

		while (slot[j & (n_slot - 1)] && unit_key(u->all[slot[j & (n_slot - 1)] - 1]) != k)
			j++;
		slot[j & (n_slot - 1)] = i + 1;
	}
	at = xcalloc(u->n_all + 1, sizeof(*at));
	for (size_t i = 0; i < u->n_all; i++) {
		int64_t k = unit_key(u->all[i]);
		size_t j = (size_t)hash_bytes(&k, sizeof(k));

		while (unit_key(u->all[slot[j & (n_slot - 1)] - 1]) != k)
			j++;
		if (slot[j & (n_slot - 1)] == i + 1)
			at[n++] = i;
	}
	free(slot);
	hint = xcalloc(2 * n + 1, sizeof(*hint));
	units_hint(e, u, at, n, hint);
	e->hint_stale = false;
	for (size_t i = 0; i < n && rc == SW_OK; i++) {
		e->hint = &hint[2 * i];
		rc = evaluate(e, u->all[at[i]], now, true);
	}
	e->hint = NULL;
	free(hint);
	free(at);
	return rc;
}

enum sw_err sw_engine_tail(struct sw_engine *e, int64_t now, int *ret_count, char *errbuf,
			   size_t errlen)
{
	struct tail_ctx tc = { .e = e };
	struct tail_units u = { 0 };
	enum sw_err rc;
	int n = 0;

	if (ret_count)
		*ret_count = 0;
	if ((rc = batch_begin(e)) == SW_OK)
		rc = sw_store_journal_keys(e->st, e->cursor, (int)e->conf->batch, on_event, &tc, &n);
	if (rc == SW_OK && n > 0 && (rc = units_read(e, &tc, &u)) == SW_OK)
		rc = units_evaluate(e, &u, now);
	if (rc == SW_OK && n > 0)
		rc = sw_store_cursor_set(e->st, SW_ENGINE_CURSOR, tc.seq);
	units_free(&u);
	tail_free(&tc);
	if ((rc = batch_end(e, rc, now, errbuf, errlen, "reading the journal")))
		return rc;
	if (n > 0)
		e->cursor = tc.seq;
	e->stats.cursor = e->cursor;
	if (ret_count)
		*ret_count = n;
	return SW_OK;
}

static enum sw_err due_one(struct sw_engine *e, int64_t key, int64_t now)
{
	struct sw_track *list;
	size_t n;
	enum sw_err rc;

	if (key > 0)
		rc = sw_store_track_get(e->st, SW_TRACK_PARCEL, key, &list, &n);
	else
		rc = sw_store_track_get(e->st, SW_TRACK_ORDER, -key, &list, &n);
	if (rc != SW_OK) {
		touch(e, key);
		return rc;
	}
	/* an order that shipped meanwhile lists its parcels: evaluate those
	 * (they have their own keys) and let the order key go */
	rc = evaluate_list(e, list, n, now, false);
	sw_store_track_free(list, n);
	return rc;
}

enum sw_err sw_engine_due(struct sw_engine *e, int64_t now, int *ret_count, char *errbuf,
			  size_t errlen)
{
	enum sw_err rc;
	int64_t key;
	int n = 0;

	if (ret_count)
		*ret_count = 0;
	if ((rc = batch_begin(e)))
		return batch_end(e, rc, now, errbuf, errlen, "deadlines");
	while (n < e->conf->batch && sw_dueq_pop(e->q, now, &key)) {
		n++;
		if ((rc = due_one(e, key, now)))
			break;
	}
	if ((rc = batch_end(e, rc, now, errbuf, errlen, "deadlines")))
		return rc;
	if (ret_count)
		*ret_count = n;
	return SW_OK;
}

struct sw_store *sw_engine_store(struct sw_engine *e)
{
	return e->st;
}

const struct sw_alerts_conf *sw_engine_conf(const struct sw_engine *e)
{
	return e->conf;
}

const struct sw_rules *sw_engine_rules(const struct sw_engine *e)
{
	return e->rules;
}

int64_t sw_engine_next_due(struct sw_engine *e)
{
	return sw_dueq_next(e->q);
}

void sw_engine_get_stats(const struct sw_engine *e, struct sw_engine_stats *ret)
{
	*ret = e->stats;
	ret->cursor = e->cursor;
	ret->open = sw_dueq_len(e->q);
	ret->queue_bytes = sw_dueq_bytes(e->q);
}
