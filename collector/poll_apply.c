/*
 * poll_apply.c - the poll engine's answers: reading a finished tracking
 * transfer through its adapter and applying the per-parcel results to the
 * store (journal, status, schedule) in one transaction per answer.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "collector/courier/generic.h"
#include "collector/poll.h"
#include "collector/poll_int.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/store_feeds.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"

/* ---- applying answers --------------------------------------------------- */

/* FNV-1a over a length-prefixed field, so ("ab","c") != ("a","bc"). */
static uint64_t fnv_field(uint64_t h, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(s ? (n >> (8 * i)) : 0xff);
	for (int i = 0; i < 8; i++)
		h = (h ^ len[i]) * UINT64_C(1099511628211);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

/* The journal id of an event: tracking number, then a hash of (tracking
 * number, time as written, code, text); stable across polls. */
static char *event_id(const char *tn, const struct sw_courier_event *e)
{
	uint64_t h = UINT64_C(14695981039346656037);

	h = fnv_field(h, tn);
	h = fnv_field(h, e->raw_time);
	h = fnv_field(h, e->code);
	h = fnv_field(h, e->text);
	return xasprintf("%s:%016" PRIx64, tn, h);
}

static bool is_instant(const struct sw_time *t)
{
	return (t->flags & SW_TIME_HAS_OFFSET) != 0;
}

static struct sw_stamp stamp_of(const struct sw_time *t)
{
	struct sw_stamp s = {t->utc_sec > 0 ? t->utc_sec : 0, t->offset_sec};

	return s;
}

static char *event_payload(const struct sw_courier_result *r, const struct sw_courier_event *e)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "status", json_string(sw_store_ship_status_name(e->status)));
	json_object_set_new(o, "shipment_status", json_string(sw_store_ship_status_name(r->status)));
	json_object_set_new(o, "code", e->code ? json_string(e->code) : json_null());
	json_object_set_new(o, "text", e->text ? json_string(e->text) : json_null());
	json_object_set_new(o, "location", e->location ? json_string(e->location) : json_null());
	json_object_set_new(o, "time", e->raw_time ? json_string(e->raw_time) : json_null());
	json_object_set_new(o, "zone_known", json_boolean(e->has_time && is_instant(&e->at)));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* Journals r's events; *ret_new counts those not seen before. */
static enum sw_err journal_events(struct courier *c, const struct sw_courier_result *r,
				  const char *tn, int64_t now_s, int *ret_new)
{
	enum sw_err rc = SW_OK;

	*ret_new = 0;
	for (size_t i = 0; i < r->n_events && rc == SW_OK; i++) {
		const struct sw_courier_event *e = &r->events[i];
		struct sw_journal_event ev = {0};
		char *id = event_id(tn, e), *payload = event_payload(r, e);

		ev.source = c->source;
		ev.source_event_id = id;
		ev.kind = "parcel.status";
		ev.courier = c->cf->name;
		ev.tracking_number = tn;
		/* a zone-unknown time is kept as its wall clock (payload
		 * zone_known false); an untimed event at the time we saw it */
		ev.occurred_at = e->has_time ? stamp_of(&e->at) : (struct sw_stamp){now_s, 0};
		if (!e->has_time || !is_instant(&e->at))
			ev.occurred_at.offset = 0;
		if (ev.occurred_at.at <= 0)
			ev.occurred_at.at = now_s;
		ev.payload = payload;
		rc = sw_store_journal_append(c->p->store, &ev, NULL);
		if (rc == SW_OK)
			(*ret_new)++;
		else if (rc == SW_EDUP)
			rc = SW_OK;
		free(id);
		free(payload);
	}
	return rc;
}

/* A scan: an event after the courier merely got the data. */
static bool is_scan(enum sw_ship_status s)
{
	return s > SW_SHIP_INFO_RECEIVED && s != SW_SHIP_UNKNOWN && s != SW_SHIP_CANCELLED &&
	       s != SW_SHIP_EXPIRED;
}

static void update_of(const struct sw_courier_result *r, struct sw_parcel_update *u,
		      char eta[SW_DATE_STRLEN])
{
	memset(u, 0, sizeof(*u));
	u->status = r->status;
	u->raw_code = r->raw_code;
	u->raw_text = r->raw_text;
	if (r->has_latest && is_instant(&r->latest))
		u->event_at = stamp_of(&r->latest);
	if (r->has_eta && sw_date_format(&r->eta, eta, SW_DATE_STRLEN) == SW_OK)
		u->eta_date = eta;
	if (r->has_delivered && is_instant(&r->delivered))
		u->delivered_at = stamp_of(&r->delivered);
	for (size_t i = 0; i < r->n_events; i++) {
		const struct sw_courier_event *e = &r->events[i];

		if (e->has_time && is_instant(&e->at) && is_scan(e->status) &&
		    (u->first_scan_at.at == 0 || e->at.utc_sec < u->first_scan_at.at))
			u->first_scan_at = stamp_of(&e->at);
	}
}

/* Writes the next schedule of a parcel polled at now_s. */
enum sw_err pl_reschedule(struct courier *c, const struct item *it, int64_t now_s,
			      int interval_s, int failures, const char *error)
{
	struct sw_poll sp = {0};
	enum sw_err rc;

	sp.courier = c->cf->name;
	sp.tracking_number = it->tn;
	sp.interval_s = interval_s > 0 ? interval_s : 1;
	sp.next_poll_at = now_s + (pl_jitter(c->p, (int64_t)sp.interval_s * 1000) + 999) / 1000;
	sp.failures = failures;
	sp.last_polled_at = now_s;
	sp.last_error = error;
	rc = sw_store_poll_upsert(c->p->store, &sp);
	return rc == SW_ENOTFOUND ? SW_OK : rc; /* parcel gone: nothing to do */
}

int pl_secs(int64_t ms)
{
	return ms / 1000 > 0 ? (int)(ms / 1000) : 1;
}

/* A parcel just delivered: its transit time, and whether its order's
 * delivery promise was kept (nothing counted without a known promise). */
static void count_delivery(struct courier *c, const struct sw_parcel *old,
			   const struct sw_parcel *cur)
{
	struct sw_order *o = NULL;
	int64_t promise;

	if (old->shipped_at.at > 0 && cur->delivered_at.at > old->shipped_at.at)
		sw_metrics_sample(c->p->metrics, c->file, "transit_duration",
				  (double)(cur->delivered_at.at - old->shipped_at.at));
	if (!cur->warehouse_id || !cur->order_id || cur->delivered_at.at == 0 ||
	    sw_store_order_get(c->p->store, cur->warehouse_id, cur->order_id, &o) != SW_OK)
		return;
	promise = o->promised_delivery_by.kind != SW_PROMISE_NONE ? o->promised_delivery_by.at.at
								   : 0;
	if (promise > 0)
		pl_count(c, cur->delivered_at.at <= promise ? "delivered_ontime" : "delivered_late", 1);
	sw_store_order_free(o);
}

/* A FOUND result: journal, status, schedule (inside the caller's
 * transaction).  next_s > 0 fixes the next poll of a parcel still moving
 * (a push); 0 picks it from the parcel's change as a poll does. */
static enum sw_err apply_found(struct courier *c, const struct item *it,
			       const struct sw_courier_result *r, int64_t now_s, int next_s,
			       int *ret_new)
{
	struct sw_store *st = c->p->store;
	struct sw_parcel *old = NULL, *cur = NULL;
	struct sw_parcel_update u;
	char eta[SW_DATE_STRLEN];
	enum sw_err rc;
	int interval;

	*ret_new = 0;
	rc = sw_store_parcel_get(st, c->cf->name, it->tn, &old);
	if (rc != SW_OK)
		return rc == SW_ENOTFOUND ? SW_OK : rc;
	if ((rc = journal_events(c, r, it->tn, now_s, ret_new)))
		goto out;
	update_of(r, &u, eta);
	if ((rc = sw_store_parcel_set_status(st, c->cf->name, it->tn, &u)))
		goto out;
	if ((rc = sw_store_parcel_get(st, c->cf->name, it->tn, &cur)))
		goto out;
	if (cur->status == SW_SHIP_DELIVERED && old->status != SW_SHIP_DELIVERED)
		count_delivery(c, old, cur);
	if (cur->terminal) {
		rc = sw_store_poll_remove(st, c->cf->name, it->tn);
		rc = rc == SW_ENOTFOUND ? SW_OK : rc;
		goto out;
	}
	if (next_s > 0)
		interval = next_s;
	else if (cur->status == SW_SHIP_OUT_FOR_DELIVERY)
		interval = pl_secs(c->cf->interval_near);
	else if (*ret_new > 0 || cur->status != old->status)
		interval = pl_secs(c->cf->interval);
	else if ((int64_t)it->interval_s * 2 < c->cf->interval_max / 1000)
		interval = it->interval_s * 2;
	else
		interval = pl_secs(c->cf->interval_max);
	if (next_s <= 0)
		interval = pl_plan_interval(c, cur, interval);
	rc = pl_reschedule(c, it, now_s, interval, 0, NULL);
out:
	sw_store_parcel_free(old);
	sw_store_parcel_free(cur);
	return rc;
}

/* Tallies of one answer, counted once it is committed. */
struct tally {
	uint64_t found, not_found, errors, events, store_fail;
};

static enum sw_err apply_one(struct courier *c, const struct item *it,
			     const struct sw_courier_result *r, int64_t now_s, struct tally *t)
{
	char msg[200];
	enum sw_err rc;
	int n = 0;

	switch (r->outcome) {
	case SW_COURIER_FOUND:
		rc = apply_found(c, it, r, now_s, 0, &n);
		if (rc == SW_OK) {
			t->found++;
			t->events += (uint64_t)n;
		}
		return rc;
	case SW_COURIER_NOT_FOUND:
		snprintf(msg, sizeof(msg), "not found%s%s", r->message ? ": " : "",
			 r->message ? r->message : "");
		t->not_found++;
		return pl_reschedule(c, it, now_s, pl_secs(c->cf->interval), 0, msg);
	default:
		snprintf(msg, sizeof(msg), "%s%s%s", sw_courier_errkind_name(r->errkind),
			 r->message ? ": " : "", r->message ? r->message : "");
		t->errors++;
		return pl_reschedule(c, it, now_s, pl_secs(c->cf->interval), it->failures + 1, msg);
	}
}

/* Applies the per-parcel results of one answer in one transaction. */
static void apply_results(struct courier *c, const struct batch *b,
			  const struct sw_courier_result *res)
{
	struct sw_store *st = c->p->store;
	struct tally t = {0};
	int64_t now_s = time(NULL);
	enum sw_err rc;

	if ((rc = sw_store_begin(st)) != SW_OK)
		goto fail;
	for (size_t i = 0; i < b->n; i++) {
		if ((rc = sw_store_savepoint(st)) != SW_OK)
			break;
		rc = apply_one(c, &b->items[i], &res[i], now_s, &t);
		if (rc == SW_OK) {
			rc = sw_store_savepoint_release(st);
		} else {
			t.store_fail++;
			sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
					"cannot store the answer for one parcel: %s",
					sw_store_errmsg(st));
			rc = sw_store_savepoint_rollback(st);
		}
		if (rc != SW_OK)
			break;
	}
	/* the feed's health, for the alert engine's `stalled` */
	if (rc == SW_OK)
		rc = sw_store_courier_health_note(st, c->cf->name, t.found + t.not_found > 0, now_s,
						  t.found + t.not_found > 0 ? NULL
									    : res[0].message);
	/* and its error rate, minute by minute (store_feeds.h) */
	if (rc == SW_OK)
		rc = sw_store_courier_polls_note(st, c->cf->name, now_s, t.found + t.not_found,
						 t.errors);
	if (rc != SW_OK) {
		sw_store_rollback(st);
		goto fail;
	}
	if ((rc = sw_store_commit(st)) != SW_OK)
		goto fail;
	c->st.found += t.found;
	c->st.not_found += t.not_found;
	c->st.errors += t.errors;
	c->st.events_new += t.events;
	c->st.store_fail += t.store_fail;
	if (t.events)
		pl_count(c, "events", t.events);
	if (t.store_fail == 0)
		sw_log_release(&c->store_c, SW_LOG_NOTICE, c->target, "storing answers again");
	return;
fail:
	/* the parcels stay due; pause so a broken store is not a busy loop */
	c->st.store_fail += b->n;
	pl_backoff(c);
	sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot store answers: %s",
			sw_store_errmsg(st));
}

/* Marks every parcel of b as failed with reason (an answer we could not
 * use for any of them) and schedules it after interval. */
static void fail_batch(struct courier *c, const struct batch *b, const char *reason)
{
	struct sw_courier_result *res = xcalloc(b->n, sizeof(*res));

	for (size_t i = 0; i < b->n; i++) {
		res[i].outcome = SW_COURIER_ERROR;
		res[i].errkind = SW_COURIER_ERR_BAD_RESPONSE;
		res[i].message = (char *)reason;
	}
	apply_results(c, b, res);
	free(res);
}

/* The worst courier-wide error kind among results, or NONE. */
static enum sw_courier_errkind batch_kind(const struct sw_courier_result *res, size_t n)
{
	bool unauth = false, server = false;

	for (size_t i = 0; i < n; i++) {
		if (res[i].outcome != SW_COURIER_ERROR)
			continue;
		if (res[i].errkind == SW_COURIER_ERR_RATE_LIMITED)
			return SW_COURIER_ERR_RATE_LIMITED;
		unauth |= res[i].errkind == SW_COURIER_ERR_UNAUTHORIZED;
		server |= res[i].errkind == SW_COURIER_ERR_SERVER;
	}
	if (unauth)
		return SW_COURIER_ERR_UNAUTHORIZED;
	return server ? SW_COURIER_ERR_SERVER : SW_COURIER_ERR_NONE;
}

/* A 401/403 on a tracking request: with a token, drop it (unless a newer
 * one came meanwhile) and retry the batch once; else an error. */
static void unauthorized(struct courier *c, struct xfer *x, long http)
{
	if (pl_needs_token(c) && !x->b->auth_retried) {
		if (x->token_gen == c->token_gen && c->token) {
			pl_token_drop(c);
			c->st.token_drops++;
		}
		x->b->auth_retried = true;
		x->b->next = c->waiting;
		c->waiting = x->b;
		x->b = NULL;
		return;
	}
	pl_backoff(c);
	sw_log_complain(&c->auth_c, SW_LOG_ERR, c->target, "HTTP %ld: credentials refused", http);
}

void pl_track_done(struct courier *c, struct xfer *x, CURLcode res)
{
	struct sw_courier_response resp;
	struct sw_courier_result *results;
	const char **names;
	const struct batch *b = x->b;
	int64_t now = sw_loop_now_ms(c->p->loop);
	char why[96];

	pl_xfer_response(x, &resp);
	if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
		pl_count_status(c, resp.http_status);
		pl_count(c, "parse_fail", 1);
		c->st.too_big++;
		c->st.parse_fail++;
		snprintf(why, sizeof(why), "answer larger than %" PRId64 " bytes",
			 c->cf->max_response);
		sw_log_complain(&c->parse_c, SW_LOG_WARNING, c->target, "%s", why);
		fail_batch(c, b, why);
		return;
	}
	if (res != CURLE_OK) {
		pl_count(c, "resp_timeout", 1);
		pl_fail_api(c, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		return;
	}
	pl_count_status(c, resp.http_status);
	sw_metrics_sample(c->p->metrics, c->file, "api_latency", (double)(now - x->started_ms) / 1000);
	names = xcalloc(b->n, sizeof(*names));
	results = xcalloc(b->n, sizeof(*results));
	for (size_t i = 0; i < b->n; i++)
		names[i] = b->items[i].tn;
	if (sw_courier_parse(c->ad, &c->cc, &resp, names, b->n, results) != SW_OK) {
		pl_fail_api(c, "adapter refused the batch"); /* a bug: cannot happen */
		goto out;
	}
	switch (batch_kind(results, b->n)) {
	case SW_COURIER_ERR_RATE_LIMITED:
		pl_rate_limited(c, x->easy, "");
		break;
	case SW_COURIER_ERR_UNAUTHORIZED:
		unauthorized(c, x, resp.http_status);
		break;
	case SW_COURIER_ERR_SERVER:
		pl_fail_api(c, "HTTP %ld", resp.http_status);
		if (pl_retry_after(x->easy) > 0) /* 503 often says when */
			pl_pause_for(c, pl_retry_after(x->easy) * 1000);
		break;
	default:
		pl_api_ok(c);
		for (size_t i = 0; i < b->n; i++)
			if (results[i].outcome == SW_COURIER_ERROR &&
			    results[i].errkind == SW_COURIER_ERR_BAD_RESPONSE) {
				pl_count(c, "parse_fail", 1);
				c->st.parse_fail++;
				sw_log_complain(&c->parse_c, SW_LOG_WARNING, c->target,
						"unusable answer: %s",
						results[i].message ? results[i].message : "?");
				break;
			}
		apply_results(c, b, results);
	}
out:
	for (size_t i = 0; i < b->n; i++)
		sw_courier_result_clear(&results[i]);
	free(results);
	free(names);
}


/* ---- pushed results ----------------------------------------------------- */

enum sw_err pl_apply_push(struct courier *c, const char *tn, const struct sw_courier_result *r,
			  int next_s, int *ret_new_events)
{
	struct sw_store *st = c->p->store;
	struct item it = {.tn = (char *)tn, .interval_s = next_s > 0 ? next_s : 1};
	struct sw_parcel *old = NULL;
	enum sw_err rc;
	int n = 0;

	if (ret_new_events)
		*ret_new_events = 0;
	if (tn == NULL || r == NULL || r->outcome != SW_COURIER_FOUND)
		return SW_EINVAL;
	if ((rc = sw_store_begin(st)) != SW_OK)
		return SW_ESTORE;
	rc = sw_store_parcel_get(st, c->cf->name, tn, &old);
	sw_store_parcel_free(old);
	if (rc == SW_OK)
		rc = apply_found(c, &it, r, time(NULL), next_s > 0 ? next_s : pl_secs(c->cf->interval),
				 &n);
	if (rc == SW_OK)
		rc = sw_store_commit(st) == SW_OK ? SW_OK : SW_ESTORE;
	else
		sw_store_rollback(st);
	if (rc != SW_OK)
		return rc == SW_ENOTFOUND ? SW_ENOTFOUND : SW_ESTORE;
	c->st.found++;
	c->st.events_new += (uint64_t)n;
	if (n > 0)
		pl_count(c, "events", (uint64_t)n);
	if (ret_new_events)
		*ret_new_events = n;
	return SW_OK;
}
