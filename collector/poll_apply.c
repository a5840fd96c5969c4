/*
 * poll_apply.c - the poll engine's answers: reading a finished tracking
 * transfer through its adapter and applying the per-parcel results to the
 * store (journal, status, schedule).
 *
 * Design (doc/polling.md).  Courier-wide errors (429, 401/403, 5xx) touch
 * no parcel.  An answer with nothing usable about any number is a courier
 * failure (pl_fail_api) and each of its parcels is failed (failures + 1,
 * interval doubled), status kept.  Otherwise the numbers the courier gave
 * no word on because the request was refused for another (errkind batch)
 * are queued again at once on c->waiting, without the rejected ones, or
 * in halves when none was named (isolate); the rest is applied.  Refused
 * (rejected) and unknown (not found) numbers back off alone with
 * failures 0 (refused) and are given up after give_up_after.  Pushed
 * results (pl_apply_push) go through the same apply_found.
 *
 * Group commit.  An answer is not written when its transfer finishes: it
 * is queued (pl_answer_queue) and the queue is applied by a scheduler
 * pass (pl_answers_flush), in one transaction with a savepoint per
 * parcel.  The scheduler is kicked by every finished transfer and runs in
 * the loop's next iteration; it commits the queue once it holds
 * PL_FLUSH_ANSWERS, once the oldest waited PL_FLUSH_WAIT_MS, or at once
 * when no transfer is in flight (poll_sched.c), so the answers of several
 * iterations share one commit and one fdatasync instead of one each, and
 * an idle engine adds no delay.  Queued answers take no concurrency slot,
 * and a pass sends its new requests before it commits, so the courier
 * answers them while the disk syncs.  A queued parcel counts as busy: the
 * due query still sees it due, the scheduler does not ask for it again.
 * Nothing is counted or logged as stored before the commit (stats count a
 * queued answer as in flight), and a parcel's status, journal and
 * schedule change in the same transaction: the answer is durable before
 * anything downstream (the alert engine reads only committed rows) can
 * act on it.  A crash before the commit loses only HTTP answers: their
 * parcels are still due and asked again.
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
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/store_feeds.h"
#include "lib/store_pollplan.h"
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

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one
 * (overlong, surrogate, above U+10FFFF, truncated): jansson's rules. */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Appends "key":value, value s as a JSON string exactly as jansson's
 * compact dump writes it (\" \\ \b \f \n \r \t, other controls
 * \u00XX, the rest as is), or null for NULL; a string that is not valid
 * UTF-8 is left out (jansson refuses it: the key was absent). */
static void json_member(struct sw_buf *b, const char *key, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t k;

	for (size_t i = 0; s && u[i]; i += k)
		if ((k = utf8_len(u + i)) == 0)
			return;
	sw_buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", key);
	if (s == NULL) {
		sw_buf_adds(b, "null");
		return;
	}
	sw_buf_adds(b, "\"");
	for (; *u; u++) {
		const char *esc = NULL;
		char ctl[7] = "\\u00";
		size_t run = 0;

		while (u[run] >= 0x20 && u[run] != '"' && u[run] != '\\')
			run++;
		if (run > 0) { /* a run that needs no escape, at once */
			sw_buf_add(b, u, run);
			u += run - 1;
			continue;
		}

		switch (*u) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			if (*u < 0x20) {
				ctl[4] = hex[*u >> 4];
				ctl[5] = hex[*u & 0xf];
				esc = ctl;
			}
		}
		if (esc)
			sw_buf_adds(b, esc);
		else
			sw_buf_add(b, u, 1);
	}
	sw_buf_adds(b, "\"");
}

/* The journal payload of event e of r: what json_dumps(JSON_COMPACT |
 * JSON_SORT_KEYS) made of it, byte for byte (test_poll_commit compares),
 * written directly: jansson's object building and dump cost as much as
 * the journal insert. */
char *pl_event_payload(const struct sw_courier_result *r, const struct sw_courier_event *e)
{
	struct sw_buf b;

	sw_buf_init(&b, SIZE_MAX / 2); /* parts bounded by max_response */
	sw_buf_adds(&b, "{");
	json_member(&b, "code", e->code);
	json_member(&b, "location", e->location);
	json_member(&b, "shipment_status", sw_store_ship_status_name(r->status));
	json_member(&b, "status", sw_store_ship_status_name(e->status));
	json_member(&b, "text", e->text);
	json_member(&b, "time", e->raw_time);
	sw_buf_printf(&b, "%s\"zone_known\":%s}", b.len > 1 ? "," : "",
		      e->has_time && is_instant(&e->at) ? "true" : "false");
	return sw_buf_steal(&b, NULL);
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
		char *id = event_id(tn, e), *payload = pl_event_payload(r, e);

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

#define GIVE_UP_PARK_S ((int64_t)SW_POLL_PARK_S) /* a given-up parcel's next poll */

/* The interval after a refusal: the parcel's own doubled, at least
 * base_ms, at most cap_ms (in s). */
static int doubled(const struct item *it, int64_t base_ms, int64_t cap_ms)
{
	int64_t base = pl_secs(base_ms), cap = pl_secs(cap_ms), next = (int64_t)it->interval_s * 2;

	if (next < base)
		next = base;
	return (int)(next > cap ? cap : next);
}

/* A duration as the configuration writes it: "14d", "36h", "90m", "45s". */
static void fmt_duration(int64_t ms, char *buf, size_t len)
{
	static const struct {
		int64_t ms;
		char unit;
	} units[] = {{86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms >= units[i].ms && ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRId64 "%c", ms / units[i].ms, units[i].unit);
			return;
		}
	snprintf(buf, len, "%" PRId64 "s", ms / 1000);
}

/* A number the courier does not know (NOT_FOUND) or refuses (REJECTED):
 * only this parcel backs off, with failures 0 (the courier's word: the
 * alert engine's no_first_scan reads it), and is given up give_up_after
 * past its shipping (never without a shipping time). */
static enum sw_err refused(struct courier *c, const struct item *it, int64_t now_s,
			   const char *msg, struct tally *t)
{
	struct sw_parcel *par = NULL;
	struct sw_poll sp = {0};
	char text[320], age[32];
	int64_t shipped;
	enum sw_err rc;

	rc = sw_store_parcel_get(c->p->store, c->cf->name, it->tn, &par);
	if (rc != SW_OK)
		return rc == SW_ENOTFOUND ? SW_OK : rc;
	shipped = par->shipped_at.at;
	sw_store_parcel_free(par);
	if (c->cf->give_up_after <= 0 || shipped <= 0 ||
	    now_s - shipped < c->cf->give_up_after / 1000)
		return pl_reschedule(c, it, now_s, doubled(it, c->cf->interval, c->cf->not_found_max),
				     0, msg);
	fmt_duration(c->cf->give_up_after, age, sizeof(age));
	snprintf(text, sizeof(text), "given up after %s: %s", age, msg);
	sp.courier = c->cf->name;
	sp.tracking_number = it->tn;
	sp.interval_s = pl_secs(c->cf->not_found_max);
	sp.next_poll_at = now_s + GIVE_UP_PARK_S;
	sp.last_polled_at = now_s;
	sp.last_error = text;
	rc = sw_store_poll_upsert(c->p->store, &sp);
	if (rc == SW_OK) {
		t->given_up++;
		sw_log_notice(c->target, "parcel %s given up: %s", it->tn, text);
	}
	return rc == SW_ENOTFOUND ? SW_OK : rc;
}

static enum sw_err apply_one(struct courier *c, const struct item *it,
			     const struct sw_courier_result *r, int64_t now_s, struct tally *t)
{
	char msg[256];
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
		return refused(c, it, now_s, msg, t);
	default:
		snprintf(msg, sizeof(msg), "%s%s%s", sw_courier_errkind_name(r->errkind),
			 r->message ? ": " : "", r->message ? r->message : "");
		if (r->errkind == SW_COURIER_ERR_REJECTED) {
			t->rejected++;
			return refused(c, it, now_s, msg, t);
		}
		t->errors++;
		return pl_reschedule(c, it, now_s, doubled(it, c->cf->interval, c->cf->interval_max),
				     it->failures + 1, msg);
	}
}

/* ---- the answer queue: one commit per scheduler pass -------------------- */

void pl_answer_queue(struct courier *c, const struct batch *b, struct sw_courier_result *res)
{
	struct sw_poll_engine *p = c->p;
	struct answer *a = xcalloc(1, sizeof(*a));

	a->c = c;
	a->n = b->n;
	a->items = xcalloc(b->n ? b->n : 1, sizeof(*a->items));
	a->res = xcalloc(b->n ? b->n : 1, sizeof(*a->res));
	for (size_t i = 0; i < b->n; i++) {
		a->items[i] = b->items[i];
		a->items[i].tn = xstrdup(b->items[i].tn);
		a->res[i] = res[i];
		memset(&res[i], 0, sizeof(res[i]));
	}
	if (p->answers_last) {
		p->answers_last->next = a;
	} else {
		p->answers = a;
		p->answers_since = sw_loop_now_ms(p->loop);
	}
	p->answers_last = a;
	p->n_answers++;
}

static void answer_free(struct answer *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->items[i].tn);
		sw_courier_result_clear(&a->res[i]);
	}
	free(a->items);
	free(a->res);
	free(a);
}

/* Applies the parcels of a, each in its own savepoint (inside the
 * flush's transaction): a parcel whose writes fail is undone alone.
 * SW_OK, or the error of a savepoint operation (the transaction is then
 * unusable). */
static enum sw_err apply_answer(struct answer *a, int64_t now_s)
{
	struct courier *c = a->c;
	struct sw_store *st = c->p->store;
	enum sw_err rc;

	for (size_t i = 0; i < a->n; i++) {
		if (a->items[i].lost) {
			a->t.lease_lost++; /* another collector polls it now */
			continue;
		}
		if ((rc = sw_store_savepoint(st)) != SW_OK)
			return rc;
		rc = apply_one(c, &a->items[i], &a->res[i], now_s, &a->t);
		if (rc == SW_OK) {
			rc = sw_store_savepoint_release(st);
		} else {
			a->t.store_fail++;
			sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
					"cannot store the answer for %s: %s", a->items[i].tn,
					sw_store_errmsg(st));
			rc = sw_store_savepoint_rollback(st);
		}
		if (rc != SW_OK)
			return rc;
	}
	return SW_OK;
}

/* The feed's health (courier_health, for the alert engine's `stalled`)
 * and its error rate minute by minute (courier_polls, store_feeds.h) for
 * c's answers in list: one note of each kind per courier and flush.  An
 * answer is useful when it told something about a parcel (found, not
 * found, refused); the failure text is the last useless answer's. */
static enum sw_err note_feed(struct courier *c, const struct answer *list, int64_t now_s)
{
	struct sw_store *st = c->p->store;
	uint64_t answered = 0, errors = 0, n = 0;
	const char *fail_msg = NULL;
	bool any_ok = false, any_fail = false;
	enum sw_err rc = SW_OK;

	for (const struct answer *a = list; a; a = a->next) {
		uint64_t k = a->t.found + a->t.not_found + a->t.rejected;

		if (a->c != c)
			continue;
		n++;
		answered += k;
		errors += a->t.errors;
		any_ok |= k > 0;
		if (k == 0) {
			any_fail = true;
			fail_msg = a->n ? a->res[0].message : NULL;
		}
	}
	if (n == 0)
		return SW_OK;
	if (any_ok)
		rc = sw_store_courier_health_note(st, c->cf->name, 1, now_s, NULL);
	if (rc == SW_OK && any_fail)
		rc = sw_store_courier_health_note(st, c->cf->name, 0, now_s, fail_msg);
	if (rc == SW_OK)
		rc = sw_store_courier_polls_note(st, c->cf->name, now_s, (int64_t)answered,
						 (int64_t)errors);
	return rc;
}

/* a is committed: its counts become the courier's. */
static void answer_counted(const struct answer *a)
{
	struct courier *c = a->c;

	c->st.found += a->t.found;
	c->st.not_found += a->t.not_found;
	c->st.rejected += a->t.rejected;
	c->st.given_up += a->t.given_up;
	c->st.errors += a->t.errors;
	c->st.events_new += a->t.events;
	c->st.store_fail += a->t.store_fail;
	c->st.lease_lost += a->t.lease_lost;
	if (a->t.lease_lost)
		sw_log_complain(&c->p->lease_c, SW_LOG_NOTICE, c->target,
				"%" PRIu64 " answers dropped: their parcels were taken over by "
				"another collector after our lease ended",
				a->t.lease_lost);
	if (a->t.events)
		pl_count(c, "events", a->t.events);
	if (a->t.store_fail == 0)
		sw_log_release(&c->store_c, SW_LOG_NOTICE, c->target, "storing answers again");
}

/* The flush's transaction failed: nothing of list was kept, its parcels
 * stay due; each courier concerned pauses once so that a broken store is
 * not a busy loop. */
static void flush_failed(struct sw_poll_engine *p, const struct answer *list)
{
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];
		uint64_t n = 0;

		for (const struct answer *a = list; a; a = a->next)
			if (a->c == c)
				n += a->n;
		if (n == 0)
			continue;
		c->st.store_fail += n;
		pl_backoff(c);
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot store answers: %s",
				sw_store_errmsg(p->store));
	}
}

void pl_answers_flush(struct sw_poll_engine *p)
{
	struct answer *list = p->answers, *a, *next;
	struct sw_store *st = p->store;
	int64_t now_s = sw_clock_now();
	enum sw_err rc;

	if (list == NULL)
		return;
	p->answers = p->answers_last = NULL; /* a failure below must not apply them twice */
	p->n_answers = 0;
	if ((rc = sw_store_begin(st)) == SW_OK) {
		rc = pl_lease_hold(p, list);
		for (a = list; a && rc == SW_OK; a = a->next)
			rc = apply_answer(a, now_s);
		for (size_t i = 0; i < p->n && rc == SW_OK; i++)
			rc = note_feed(&p->cs[i], list, now_s);
		if (rc == SW_OK)
			rc = sw_store_commit(st);
		else
			sw_store_rollback(st);
	}
	if (rc == SW_OK) {
		p->flushes++;
		for (a = list; a; a = a->next)
			answer_counted(a);
	} else {
		flush_failed(p, list);
	}
	for (a = list; a; a = next) {
		next = a->next;
		answer_free(a);
	}
}

/* Marks every parcel of b as failed with reason (an answer we could not
 * use for any of them): failures + 1, a doubled interval, status kept. */
static void fail_batch(struct courier *c, const struct batch *b, const char *reason)
{
	struct sw_courier_result *res = xcalloc(b->n, sizeof(*res));

	for (size_t i = 0; i < b->n; i++) {
		res[i].outcome = SW_COURIER_ERROR;
		res[i].errkind = SW_COURIER_ERR_BAD_RESPONSE;
		res[i].message = xstrdup(reason);
	}
	pl_answer_queue(c, b, res);
	free(res);
}

/* An answer that says nothing usable about any number: a courier failure
 * (backoff, reason logged, parse_fail), then every parcel failed. */
static void bad_answer(struct courier *c, const struct batch *b, const char *reason)
{
	pl_count(c, "parse_fail", 1);
	c->st.parse_fail++;
	pl_fail_api(c, "unusable answer: %s", reason);
	fail_batch(c, b, reason);
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

/* true if no result says anything about its number: every one an error
 * of the whole answer (bad_response, other).  *ret_msg: the first text. */
static bool nothing_usable(const struct sw_courier_result *res, size_t n, const char **ret_msg)
{
	*ret_msg = n ? res[0].message : NULL;
	for (size_t i = 0; i < n; i++)
		if (res[i].outcome != SW_COURIER_ERROR ||
		    (res[i].errkind != SW_COURIER_ERR_BAD_RESPONSE &&
		     res[i].errkind != SW_COURIER_ERR_OTHER))
			return false;
	return true;
}

/* Queues items[0..n-1] (copied) as a new batch to send at once. */
static void resend(struct courier *c, const struct item *const *items, size_t n)
{
	struct batch *b, **pp = &c->waiting;

	if (n == 0)
		return;
	b = xcalloc(1, sizeof(*b));
	b->items = xcalloc(n, sizeof(*b->items));
	for (size_t i = 0; i < n; i++) {
		b->items[i] = *items[i];
		b->items[i].tn = xstrdup(items[i]->tn);
	}
	b->n = n;
	while (*pp) /* at the end: a token retry keeps its place */
		pp = &(*pp)->next;
	*pp = b;
	c->st.resent += n;
}

/* Batch isolation: the BATCH results of b (no word because the request
 * was refused for another number's sake) are resent without the
 * rejected ones; when the refusal named none, in two halves (bisection,
 * until the bad number is alone).  A BATCH result of a number asked alone
 * is that number's own refusal: it becomes REJECTED.  Returns how many
 * were queued; their results are left for the caller to skip. */
static size_t isolate(struct courier *c, const struct batch *b, struct sw_courier_result *res)
{
	const struct item **q = xcalloc(b->n, sizeof(*q));
	size_t nq = 0, named = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (res[i].outcome != SW_COURIER_ERROR)
			continue;
		if (res[i].errkind == SW_COURIER_ERR_BATCH)
			q[nq++] = &b->items[i];
		else if (res[i].errkind == SW_COURIER_ERR_REJECTED)
			named++;
	}
	if (nq == 1 && b->n == 1) {
		res[0].errkind = SW_COURIER_ERR_REJECTED;
		nq = 0;
	} else if (named == 0 && nq == b->n) {
		resend(c, q, nq / 2);
		resend(c, q + nq / 2, nq - nq / 2);
	} else {
		resend(c, q, nq);
	}
	free(q);
	return nq;
}

/* Queues the results of b that were not queued again (not BATCH) as
 * one answer; those results are taken over (zeroed in res). */
static void apply_answered(struct courier *c, const struct batch *b,
			   struct sw_courier_result *res)
{
	struct batch sub = {0};
	struct sw_courier_result *r = xcalloc(b->n, sizeof(*r));

	sub.items = xcalloc(b->n, sizeof(*sub.items));
	for (size_t i = 0; i < b->n; i++)
		if (res[i].outcome != SW_COURIER_ERROR || res[i].errkind != SW_COURIER_ERR_BATCH) {
			sub.items[sub.n] = b->items[i]; /* borrowed: copied by the queue */
			r[sub.n++] = res[i];
			memset(&res[i], 0, sizeof(res[i])); /* moved */
		}
	if (sub.n > 0)
		pl_answer_queue(c, &sub, r);
	free(sub.items);
	free(r);
}

/* A 401/403 on a tracking request: with a token, drop it (unless a newer
 * one came meanwhile) and retry the batch once; else an error.  Nothing
 * else drops a token. */
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

/* An answer with something to say about its numbers (no courier-wide
 * error): isolate refused batches, count bad results, apply. */
static void answered(struct courier *c, const struct batch *b, struct sw_courier_result *res)
{
	const char *msg;

	if (nothing_usable(res, b->n, &msg)) {
		bad_answer(c, b, msg ? msg : "no result");
		return;
	}
	pl_api_ok(c);
	for (size_t i = 0; i < b->n; i++)
		if (res[i].outcome == SW_COURIER_ERROR &&
		    res[i].errkind == SW_COURIER_ERR_BAD_RESPONSE) {
			pl_count(c, "parse_fail", 1);
			c->st.parse_fail++;
			sw_log_complain(&c->parse_c, SW_LOG_WARNING, c->target,
					"unusable answer for %s: %s", b->items[i].tn,
					res[i].message ? res[i].message : "?");
			break;
		}
	if (isolate(c, b, res) > 0)
		pl_kick(c->p);
	apply_answered(c, b, res);
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
		c->st.too_big++;
		snprintf(why, sizeof(why), "answer larger than %" PRId64 " bytes",
			 c->cf->max_response);
		bad_answer(c, b, why);
		return;
	}
	if (res != CURLE_OK) {
		pl_count(c, "resp_timeout", 1);
		pl_fail_api(c, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		return;
	}
	pl_count_status(c, resp.http_status);
	if (resp.http_status != 429) /* a 429 is paused by pl_rate_limited */
		pl_rate_headers(c, x->easy); /* Remaining: 0 pauses until the reset */
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
		answered(c, b, results);
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
	pl_answers_flush(c->p); /* answers received earlier land first */
	if ((rc = sw_store_begin(st)) != SW_OK)
		return SW_ESTORE;
	rc = sw_store_parcel_get(st, c->cf->name, tn, &old);
	sw_store_parcel_free(old);
	if (rc == SW_OK)
		rc = apply_found(c, &it, r, sw_clock_now(), next_s > 0 ? next_s : pl_secs(c->cf->interval),
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
