/*
 * poll_sched.c - the poll engine's scheduling and courier health: pauses,
 * error backoff, Retry-After, the token bucket, the daily quota, and
 * building and sending batches of due parcels.
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
	s = (long long)(t - time(NULL));
	return s < 0 ? 0 : (s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s);
}

/* A 429: pauses the whole courier for Retry-After, else cooldown. */
void pl_rate_limited(struct courier *c, CURL *easy, const char *what)
{
	int64_t s = pl_retry_after(easy);
	int64_t ms = s >= 0 ? s * 1000 : c->cf->cooldown;

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

/* true if c may send one more tracking request now. */
static bool can_send(struct courier *c, int64_t now)
{
	int64_t day = (int64_t)time(NULL) / 86400;

	if (now < c->paused_until || c->in_flight >= c->cf->concurrency || c->bucket < 1)
		return false;
	if (pl_needs_token(c) && !pl_token_ok(c, now))
		return false;
	if (day != c->quota_day) {
		c->quota_day = day;
		c->quota_used = 0;
	}
	if (c->cf->daily_quota > 0 && c->quota_used >= c->cf->daily_quota) {
		c->st.quota_waits++;
		return false;
	}
	return true;
}

/* A tracking number the adapter will not take (too long, bad bytes): its
 * schedule moves to interval_max with the reason, so it is not retried
 * every tick. */
static void park(struct courier *c, const struct item *it)
{
	struct sw_store *st = c->p->store;

	if (pl_reschedule(c, it, time(NULL), pl_secs(c->cf->interval_max), it->failures + 1,
		       "tracking number rejected by the adapter") != SW_OK)
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot park a parcel: %s",
				sw_store_errmsg(st));
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

/* true if tracking number tn is in flight or waiting. */
static bool busy(const struct courier *c, const char *tn)
{
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

	for (const struct xfer *x = c->xfers; x; x = x->next)
		n += x->b ? x->b->n : 0;
	for (const struct batch *b = c->waiting; b; b = b->next)
		n += b->n;
	return n;
}

/* Sends new batches of due parcels while c may send. */
static void send_due(struct courier *c, int64_t now)
{
	size_t max = sw_courier_max_batch(c->ad, &c->cc), n = 0, i = 0;
	int64_t room = c->cf->concurrency - c->in_flight;
	int64_t limit = room * (int64_t)max + (int64_t)busy_count(c);
	struct sw_poll *due = NULL;
	struct batch *b = NULL;
	enum sw_err rc;

	if (limit > SW_STORE_MAX_BATCH)
		limit = SW_STORE_MAX_BATCH;
	rc = sw_store_poll_due_courier(c->p->store, c->cf->name, time(NULL), (int)limit, &due, &n);
	if (rc != SW_OK) {
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target, "cannot read the poll schedule: %s",
				sw_store_errmsg(c->p->store));
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

int64_t pl_sched_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;

	(void)loop;
	(void)id;
	for (size_t i = 0; i < p->n; i++)
		pl_pump(&p->cs[i]);
	return p->conf->tick_ms;
}


int pl_plan_interval(struct courier *c, const struct sw_parcel *cur, int interval_s)
{
	(void)c;
	(void)cur;
	return interval_s; /* replaced by the quota planner (issue 16) */
}
