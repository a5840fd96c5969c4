/*
 * poll_sched.c - the poll engine's scheduling and courier health: pauses,
 * error backoff, Retry-After and rate-limit headers, the token bucket, the
 * daily quota and its planner, and building and sending batches of due
 * parcels.
 *
 * The quota (doc/quota.md).  A courier's quota day runs from one
 * quota_reset (HH:MM in quota_zone) to the next: struct sw_quota_state
 * holds the window, in wall-clock unix seconds.  Requests are counted in
 * memory; when a window is first seen (at start, or at a reset) the count
 * starts from what the store noted for the window (courier_polls: every
 * parcel answered, so a restart does not hand out the day's quota again;
 * requests answered by nobody, a 429 or a 5xx, are not in it).  While a
 * quota applies, the planner (plan.h) spreads what is left, less
 * quota_reserve, over the courier's scheduled parcels by priority class
 * until the reset: pl_plan_interval stretches the interval of each parcel
 * rescheduled after an answer, and while the quota left cannot cover the
 * due parcels, they are sent in priority order (store_pollplan.h).  The
 * class counts are re-read at most every PLAN_COUNTS_MS; the plan itself
 * is recomputed (pure, cheap) with the quota left at every use.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
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
#include "collector/plan.h"
#include "collector/poll.h"
#include "collector/poll_int.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/store_feeds.h"
#include "lib/store_pollplan.h"
#include "lib/store_polllease.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"

/* ---- courier health: pause, backoff ------------------------------------- */

void pl_pause_for(struct courier *c, int64_t ms)
{
	int64_t until = sw_loop_now_ms(c->p->loop) + ms;

	if (until > c->paused_until)
		c->paused_until = until;
}

/* An API-wide failure: doubles the pl_backoff (from backoff_min, up to
 * backoff_max) and pauses the courier for it, with jitter.  Returns the
 * pause in ms. */
int64_t pl_backoff(struct courier *c)
{
	int64_t d;

	c->backoff = c->backoff ? c->backoff * 2 : c->cf->backoff_min;
	if (c->backoff > c->cf->backoff_max)
		c->backoff = c->cf->backoff_max;
	d = pl_jitter(c->p, c->backoff);
	pl_pause_for(c, d);
	c->st.backoffs++;
	return d;
}

void __attribute__((format(printf, 2, 3))) pl_fail_api(struct courier *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	int64_t d;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	d = pl_backoff(c);
	sw_log_complain(&c->api_c, SW_LOG_WARNING, c->target, "%s, retry in %" PRId64 " s", why,
			(d + 999) / 1000);
}

void pl_api_ok(struct courier *c)
{
	c->backoff = 0;
	sw_log_release(&c->api_c, SW_LOG_NOTICE, c->target, "API answering again");
}

/* Retry-After of a finished transfer, in seconds (delta-seconds or an
 * HTTP date), or -1 if absent or unreadable. */
int64_t pl_retry_after(CURL *easy)
{
	struct curl_header *h = NULL;
	const char *v;
	char *end;
	long long s;
	time_t t;

	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return -1;
	v = h->value;
	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		s = strtoll(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0' || s < 0)
			return -1;
		return s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s;
	}
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	s = (long long)(t - sw_clock_now());
	return s < 0 ? 0 : (s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s);
}

/* A header of a finished transfer as a non-negative integer, or -1 if
 * absent or not one. */
static int64_t header_int(CURL *easy, const char *name)
{
	struct curl_header *h = NULL;
	const char *v;
	char *end;
	long long n;

	if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return -1;
	v = h->value;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!isdigit((unsigned char)*v))
		return -1;
	n = strtoll(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	return *end == '\0' && n >= 0 ? n : -1;
}

/* Values of X-RateLimit-Reset above this are unix times (AfterShip,
 * GitHub), below it seconds from now (others): no API resets a window
 * more than 30 years away. */
#define RESET_EPOCH_MIN INT64_C(1000000000)

/* Seconds until the courier's rate-limit window resets, from
 * X-RateLimit-Reset (unix seconds as AfterShip documents it; a small value
 * is read as seconds from now) or RateLimit-Reset (seconds from now, IETF
 * draft; header names are case-insensitive, so ratelimit-reset too), or
 * -1 if neither is there; at most RETRY_AFTER_MAX_S. */
static int64_t reset_after(CURL *easy)
{
	int64_t v = header_int(easy, "X-RateLimit-Reset"), s;

	if (v >= RESET_EPOCH_MIN)
		s = v - sw_clock_now();
	else if (v >= 0)
		s = v;
	else if ((v = header_int(easy, "RateLimit-Reset")) >= 0)
		s = v;
	else
		return -1;
	if (s < 0)
		s = 0;
	return s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s;
}

/* Any answer: when X-RateLimit-Remaining (or RateLimit-Remaining) says
 * nothing is left, pauses the courier until the window's reset (at least
 * 1 s; nothing when no reset is given: the next request learns more). */
void pl_rate_headers(struct courier *c, CURL *easy)
{
	int64_t left = header_int(easy, "X-RateLimit-Remaining"), s;

	if (left < 0)
		left = header_int(easy, "RateLimit-Remaining");
	if (left != 0 || (s = reset_after(easy)) < 0)
		return;
	pl_pause_for(c, (s > 0 ? s : 1) * 1000);
	sw_log_complain(&c->api_c, SW_LOG_NOTICE, c->target,
			"rate limit used up, next request in %" PRId64 " s", s > 0 ? s : 1);
}

/* A 429: pauses the whole courier for Retry-After, else until the
 * rate-limit reset the headers give, else cooldown. */
void pl_rate_limited(struct courier *c, CURL *easy, const char *what)
{
	int64_t s = pl_retry_after(easy);
	int64_t ms;

	if (s < 0)
		s = reset_after(easy);
	ms = s >= 0 ? s * 1000 : c->cf->cooldown;

	if (ms < 1000)
		ms = 1000;
	pl_pause_for(c, ms);
	c->st.rate_limited++;
	sw_log_complain(&c->api_c, SW_LOG_WARNING, c->target, "%sHTTP 429, retry in %" PRId64 " s",
			what, ms / 1000);
}

/* ---- scheduling --------------------------------------------------------- */

static void refill(struct courier *c, int64_t now)
{
	if (c->bucket_ms == 0)
		c->bucket = (double)c->cf->burst;
	else if (now > c->bucket_ms)
		c->bucket += (double)(now - c->bucket_ms) * c->cf->rate / 1000;
	if (c->bucket > (double)c->cf->burst)
		c->bucket = (double)c->cf->burst;
	c->bucket_ms = now;
}

/* ---- the quota ---------------------------------------------------------- */

#define PLAN_COUNTS_MS ((int64_t)60 * 1000) /* re-count classes at most this often */

/* Moves c's quota window to the one holding now_s (unix s) when it is not
 * there yet: the count of a new window starts from the store's
 * (courier_polls since its start), so a restart does not start from 0. */
static void quota_window(struct courier *c, int64_t now_s)
{
	struct sw_quota_state *q = &c->quota;
	int64_t from, until, ok = 0, failed = 0;

	if (q->until != 0 && now_s >= q->from && now_s < q->until)
		return;
	if (sw_plan_window(c->cf->quota_zone, c->cf->quota_reset_min, now_s, &from, &until) !=
	    SW_OK) {
		/* the zone was checked at load; tzdata changed since: UTC */
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
				"quota_zone %s cannot be loaded: the quota day is UTC's",
				c->cf->quota_zone);
		sw_plan_window("UTC", c->cf->quota_reset_min, now_s, &from, &until);
	}
	q->from = from;
	q->until = until;
	q->plan_at = 0;
	q->told = false;
	c->quota_used = 0;
	if (c->cf->daily_quota <= 0)
		return;
	if (sw_store_courier_polls_sum(c->p->store, c->cf->name, from, &ok, &failed) != SW_OK)
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
				"cannot read today's requests (counting from 0): %s",
				sw_store_errmsg(c->p->store));
	c->quota_used = ok + failed;
}

/* Requests left in the window (never below 0); -1 without a quota. */
static int64_t quota_left(const struct courier *c)
{
	int64_t left = c->cf->daily_quota - c->quota_used;

	if (c->cf->daily_quota <= 0)
		return -1;
	return left > 0 ? left : 0;
}

/* Brings c's plan up to date at now_s: class counts re-read when older
 * than PLAN_COUNTS_MS, the plan recomputed with the quota left. */
static void plan_update(struct courier *c, int64_t now_s)
{
	struct sw_quota_state *q = &c->quota;
	int64_t now = sw_loop_now_ms(c->p->loop), left;

	quota_window(c, now_s);
	if (q->plan_at == 0 || now - q->plan_at >= PLAN_COUNTS_MS) {
		if (sw_store_pollplan_counts(c->p->store, c->cf->name, now_s, q->in.cls) != SW_OK)
			sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
					"cannot count parcels for the quota plan: %s",
					sw_store_errmsg(c->p->store));
		q->plan_at = now > 0 ? now : 1;
	}
	left = quota_left(c);
	if (left > 0)
		left = left > c->cf->quota_reserve ? left - c->cf->quota_reserve : 0;
	q->in.quota_left = left;
	q->in.secs_left = q->until - now_s > 0 ? q->until - now_s : 1;
	q->in.per_request = (int64_t)sw_courier_max_batch(c->ad, &c->cc);
	sw_plan_compute(&q->in, &q->plan);
}

/* true (and counted) if the quota holds c back now. */
static bool quota_held(struct courier *c)
{
	if (c->cf->daily_quota <= 0)
		return false;
	quota_window(c, sw_clock_now());
	if (c->quota_used < c->cf->daily_quota)
		return false;
	c->st.quota_waits++;
	if (!c->quota.told) {
		c->quota.told = true;
		sw_log_notice(c->target,
			      "daily quota of %" PRId64
			      " requests used up, next after the reset in "
			      "%" PRId64 " min",
			      c->cf->daily_quota, (c->quota.until - sw_clock_now() + 59) / 60);
	}
	return true;
}

/* true if c may send one more tracking request now. */
static bool can_send(struct courier *c, int64_t now)
{
	if (now < c->paused_until || c->in_flight >= c->cf->concurrency || c->bucket < 1)
		return false;
	if (pl_needs_token(c) && !pl_token_ok(c, now))
		return false;
	return !quota_held(c);
}

/* A tracking number the adapter will not take (too long, bad bytes): its
 * schedule moves to interval_max with the reason, so it is not retried
 * every tick. */
static void park(struct courier *c, const struct item *it)
{
	struct sw_store *st = c->p->store;

	if (pl_reschedule(c, it, sw_clock_now(), pl_secs(c->cf->interval_max), it->failures + 1,
			  "tracking number rejected by the adapter") != SW_OK)
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot park a parcel: %s",
				sw_store_errmsg(st));
	pl_lease_release(c, it->tn);
	sw_log_warn(c->target, "tracking number '%s' rejected by the %s adapter", it->tn,
		    c->ad->name);
}

/* Builds b's request, dropping numbers the adapter refuses.  SW_OK with
 * *req filled, or an error with b possibly emptied. */
static enum sw_err build(struct courier *c, struct batch *b, struct sw_courier_request *req)
{
	const char **names = xcalloc(b->n ? b->n : 1, sizeof(*names));
	enum sw_err rc;
	size_t k = 0;

	for (size_t i = 0; i < b->n; i++)
		names[i] = b->items[i].tn;
	rc = c->ad->build_request(&c->cc, c->token, NULL, names, b->n, req);
	if (rc == SW_EINVAL) {
		sw_courier_request_free(req);
		for (size_t i = 0; i < b->n; i++) {
			rc = c->ad->build_request(&c->cc, c->token, NULL, &names[i], 1, req);
			sw_courier_request_free(req);
			if (rc == SW_EINVAL) {
				park(c, &b->items[i]);
				free(b->items[i].tn);
			} else {
				b->items[k++] = b->items[i];
				names[k - 1] = b->items[k - 1].tn;
			}
		}
		b->n = k;
		rc = k ? c->ad->build_request(&c->cc, c->token, NULL, names, k, req) : SW_EINVAL;
	}
	free(names);
	return rc;
}

/* Sends b (taken over). */
static void send_batch(struct courier *c, struct batch *b)
{
	struct sw_courier_request req;
	enum sw_err rc = build(c, b, &req);

	if (rc == SW_EAUTH && pl_needs_token(c)) {
		pl_token_drop(c); /* the token is unusable: fetch another */
		b->next = c->waiting;
		c->waiting = b;
		return;
	}
	if (rc != SW_OK) {
		sw_courier_request_free(&req);
		if (b->n)
			pl_fail_api(c, "cannot build a request: %s", sw_strerror(rc));
		pl_batch_free(b);
		return;
	}
	if (pl_xfer_start(c, &req, b) != SW_OK) {
		pl_fail_api(c, "cannot start a request");
		return;
	}
	c->bucket -= 1;
	c->quota_used++;
	c->st.requests++;
}

/* true if tracking number tn is in flight, waiting or answered but not
 * yet committed (its schedule still says due). */
static bool busy(const struct courier *c, const char *tn)
{
	for (const struct answer *a = c->p->answers; a; a = a->next)
		for (size_t i = 0; a->c == c && i < a->n; i++)
			if (strcmp(a->items[i].tn, tn) == 0)
				return true;
	for (const struct xfer *x = c->xfers; x; x = x->next)
		for (size_t i = 0; x->b && i < x->b->n; i++)
			if (strcmp(x->b->items[i].tn, tn) == 0)
				return true;
	for (const struct batch *b = c->waiting; b; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			if (strcmp(b->items[i].tn, tn) == 0)
				return true;
	return false;
}

static size_t busy_count(const struct courier *c)
{
	size_t n = 0;

	for (const struct answer *a = c->p->answers; a; a = a->next)
		n += a->c == c ? a->n : 0;
	for (const struct xfer *x = c->xfers; x; x = x->next)
		n += x->b ? x->b->n : 0;
	for (const struct batch *b = c->waiting; b; b = b->next)
		n += b->n;
	return n;
}

/* true if c's quota is short: the plan stretches intervals, or fewer
 * requests are left than the room requests this pass could send (due
 * parcels then go in priority order). */
static bool quota_short(struct courier *c, int64_t room)
{
	if (c->cf->daily_quota <= 0)
		return false;
	plan_update(c, sw_clock_now());
	return c->quota.plan.is_short || quota_left(c) < room;
}

/* Requests c may send now: its room (concurrency), bucket and quota. */
static int64_t sendable(struct courier *c)
{
	int64_t n = c->cf->concurrency - c->in_flight, left;

	if ((int64_t)c->bucket < n)
		n = (int64_t)c->bucket;
	if ((left = quota_left(c)) >= 0 && left < n)
		n = left;
	return n > 0 ? n : 0;
}

/* Parcels claimed ahead of what c may send now: at most PL_CLAIM_AHEAD,
 * and no more than its bucket sends in half a lease, so that they go out
 * while the claim holds.  A claim per finished transfer would make one
 * store write per request (poll_lease.c).  None under a daily quota:
 * what is sent then is chosen by priority pass by pass, and the quota
 * may hold claimed parcels back past their lease. */
static int64_t ahead(const struct courier *c, size_t max)
{
	double in_lease = c->cf->rate * (double)c->p->lease_s / 2 * (double)max;
	int64_t n = PL_CLAIM_AHEAD;

	if (c->cf->daily_quota > 0)
		return 0;
	if (in_lease < (double)n)
		n = (int64_t)in_lease;
	return n > 0 ? n : 0;
}

/* Claimed parcels due[from..n-1] not sent now (and not in flight from an
 * earlier claim) wait in c->waiting, in batches of max, for the next
 * passes; with keep false (the pass was cut short) they go back at once. */
static void keep_unsent(struct courier *c, const struct sw_poll *due, size_t from, size_t n,
			size_t max, bool keep)
{
	struct batch *b = NULL, **tail = &c->waiting;

	while (*tail)
		tail = &(*tail)->next;
	for (size_t i = from; i < n; i++) {
		if (busy(c, due[i].tracking_number))
			continue;
		if (!keep) {
			pl_lease_release(c, due[i].tracking_number);
			continue;
		}
		if (b == NULL || b->n == max) {
			b = xcalloc(1, sizeof(*b));
			b->items = xcalloc(max, sizeof(*b->items));
			*tail = b;
			tail = &b->next;
		}
		b->items[b->n].tn = xstrdup(due[i].tracking_number);
		b->items[b->n].interval_s = due[i].interval_s;
		b->items[b->n].failures = due[i].failures;
		b->n++;
	}
}

/* Claims due parcels for what c may send now (plus a few ahead) and sends
 * them in batches.  Parcels of c in flight or waiting are held already
 * and claimed again (their lease renewed), skipped here: the limit counts
 * them. */
static void send_due(struct courier *c, int64_t now)
{
	size_t max = sw_courier_max_batch(c->ad, &c->cc), n = 0, i = 0;
	int64_t reqs = sendable(c);
	int64_t limit = reqs * (int64_t)max + ahead(c, max) + (int64_t)busy_count(c);
	struct sw_poll *due = NULL;
	struct batch *b = NULL;

	if (reqs == 0)
		return;
	if (limit > SW_STORE_MAX_BATCH)
		limit = SW_STORE_MAX_BATCH;
	if (pl_lease_claim(c, quota_short(c, c->cf->concurrency - c->in_flight), (int)limit, &due,
			   &n) != SW_OK) {
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
				"cannot claim due parcels: %s", sw_store_errmsg(c->p->store));
		return;
	}
	while (i < n && can_send(c, now)) {
		b = xcalloc(1, sizeof(*b));
		b->items = xcalloc(max, sizeof(*b->items));
		for (; i < n && b->n < max; i++) {
			if (busy(c, due[i].tracking_number))
				continue;
			b->items[b->n].tn = xstrdup(due[i].tracking_number);
			b->items[b->n].interval_s = due[i].interval_s;
			b->items[b->n].failures = due[i].failures;
			b->n++;
		}
		if (b->n == 0) {
			pl_batch_free(b);
			break;
		}
		send_batch(c, b);
	}
	keep_unsent(c, due, i, n, max, now >= c->paused_until && c->waiting == NULL);
	sw_store_poll_free(due, n);
}

/* One scheduler pass for one courier. */
void pl_pump(struct courier *c)
{
	int64_t now = sw_loop_now_ms(c->p->loop);
	struct batch *b;

	if (now < c->paused_until)
		return;
	if (pl_needs_token(c) && !pl_token_ok(c, now)) {
		if (!c->token_busy)
			pl_auth_start(c);
		return;
	}
	refill(c, now);
	while (c->waiting && can_send(c, now)) {
		b = c->waiting;
		c->waiting = b->next;
		b->next = NULL;
		send_batch(c, b);
	}
	if (!c->waiting && can_send(c, now))
		send_due(c, now);
}

/* The queue of answers is committed once it holds PL_FLUSH_ANSWERS, once
 * its oldest waited PL_FLUSH_WAIT_MS, or as soon as no transfer is in
 * flight (no answer could join it: an idle engine adds no delay). */
static bool flush_due(const struct sw_poll_engine *p, int64_t now)
{
	if (p->answers == NULL)
		return false;
	if (p->n_answers >= PL_FLUSH_ANSWERS || now - p->answers_since >= PL_FLUSH_WAIT_MS)
		return true;
	for (size_t i = 0; i < p->n; i++)
		if (p->cs[i].in_flight > 0)
			return false;
	return true;
}

int64_t pl_sched_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;
	int64_t now = sw_loop_now_ms(loop), left;

	(void)id;
	for (size_t i = 0; i < p->n; i++)
		pl_pump(&p->cs[i]);
	if (flush_due(p, now)) {
		/* the requests just queued go out before the commit waits on
		 * the disk, so the courier works while we sync */
		pl_curl_now(p);
		pl_answers_flush(p);
	}
	if (p->answers == NULL)
		return p->conf->tick_ms;
	left = p->answers_since + PL_FLUSH_WAIT_MS - now;
	return left < 0 ? 0 : (left < p->conf->tick_ms ? left : p->conf->tick_ms);
}

/* ---- the quota planner's intervals -------------------------------------- */

int pl_plan_interval(struct courier *c, const struct sw_parcel *cur, int interval_s)
{
	enum sw_poll_class cls = SW_POLL_CLASS_OTHER;
	int64_t now_s = sw_clock_now(), v;

	if (c->cf->daily_quota <= 0 || cur == NULL || cur->terminal)
		return interval_s;
	plan_update(c, now_s);
	if (!c->quota.plan.is_short && !c->quota.plan.exhausted)
		return interval_s;
	if (sw_store_pollplan_class(c->p->store, c->cf->name, cur->tracking_number, now_s, &cls) !=
	    SW_OK)
		cls = SW_POLL_CLASS_OTHER; /* the least: never polls faster than planned */
	v = sw_plan_interval(&c->quota.plan, cls, interval_s, c->quota.until - now_s);
	return v > INT_MAX ? INT_MAX : (int)v;
}

void sw_plan_describe_courier(struct sw_store *st, const struct sw_poll_courier_conf *cf,
			      int64_t now, struct sw_buf *out)
{
	struct sw_plan_in in;
	struct sw_plan plan;
	int64_t from, until, ok = 0, failed = 0;

	memset(&in, 0, sizeof(in));
	if (sw_plan_window(cf->quota_zone, cf->quota_reset_min, now, &from, &until) != SW_OK)
		sw_plan_window("UTC", cf->quota_reset_min, now, &from, &until);
	if (st && (sw_store_courier_polls_sum(st, cf->name, from, &ok, &failed) != SW_OK ||
		   sw_store_pollplan_counts(st, cf->name, now, in.cls) != SW_OK)) {
		sw_buf_printf(out, "courier %s: cannot read the store: %s\n", cf->name,
			      sw_store_errmsg(st));
		return;
	}
	in.quota_left = -1;
	if (cf->daily_quota > 0) {
		in.quota_left = cf->daily_quota - ok - failed - cf->quota_reserve;
		in.quota_left = in.quota_left > 0 ? in.quota_left : 0;
		sw_buf_printf(
		    out,
		    "courier %s: daily_quota %" PRId64 " from %s %s, %" PRId64
		    " used, reserve %" PRId64 "\n",
		    cf->name, cf->daily_quota, cf->quota_reset ? cf->quota_reset : "00:00",
		    cf->quota_zone ? cf->quota_zone : "UTC", ok + failed, cf->quota_reserve);
	}
	if (st == NULL) {
		sw_buf_printf(out, "courier %s: parcels not counted (no store)\n", cf->name);
		return;
	}
	in.secs_left = until - now;
	in.per_request = 1;
	if (cf->adapter > SW_POLL_ADAPTER_AUTO && cf->adapter < SW_POLL_ADAPTER_LAST) {
		struct sw_courier_conf cc;

		sw_poll_courier_view(cf, &cc);
		in.per_request = (int64_t)sw_courier_max_batch(sw_poll_adapter(cf), &cc);
	}
	sw_plan_compute(&in, &plan);
	sw_plan_describe(cf->name, &in, &plan, out);
}

void sw_plan_describe_all(const struct sw_poll_conf *pc, const char *store_path, struct sw_buf *out)
{
	struct sw_store *st = NULL;
	bool any = false;
	char err[512] = "";

	for (size_t i = 0; pc && i < pc->n; i++)
		any |= pc->couriers[i].daily_quota > 0;
	if (!any)
		return;
	if (store_path &&
	    sw_store_open(store_path, SW_STORE_RDONLY, &st, err, sizeof(err)) != SW_OK)
		sw_buf_printf(out, "quota plans without parcel counts: %s\n", err);
	for (size_t i = 0; i < pc->n; i++)
		if (pc->couriers[i].daily_quota > 0)
			sw_plan_describe_courier(st, &pc->couriers[i], sw_clock_now(), out);
	sw_store_close(st);
}
