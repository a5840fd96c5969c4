/*
 * poll.c - the courier poll engine (see poll.h for the behaviour).
 *
 * Design.  One CURLM on the loop, wired like curl's ephiperfifo.c:
 * curl_sock_cb() mirrors libcurl's wishes into loop fds, curl_timer_cb()
 * keeps ONE loop timer armed, and every curl_multi_socket_action() is
 * followed by drain(), which finishes completed transfers.  Completions
 * never start transfers themselves: they kick the scheduler timer, so
 * libcurl is never re-entered from its own callbacks.
 *
 * The scheduler timer runs pump() for every courier: it claims the due
 * parcels of that courier in the store for this collector (poll_lease.c;
 * those already in flight, which stay due until their answer is applied,
 * are skipped),
 * groups them into batches of max_batch and sends while the courier has
 * room (concurrency), a request token (bucket refilled at rate up to
 * burst), quota left today, no pause, and a token if its API needs one.
 * Courier-wide failures (429, 5xx, timeouts, refused credentials) only set
 * paused_until; parcels are never touched then and simply stay due.
 * Answers are queued as they finish and the queue is applied by a
 * scheduler pass (which every finished transfer kicks, so the loop's next
 * iteration) after it sent its new requests, with a bounded delay, all
 * in one store transaction, with a savepoint per parcel so one bad row
 * does not lose the others (poll_apply.c); queued parcels count as in
 * flight.
 *
 * Times: loop milliseconds (monotonic) for pauses, buckets and tokens;
 * wall-clock unix seconds for the store's schedule.  The daily quota runs
 * from quota_reset in quota_zone and is planned over the parcels by
 * priority (poll_sched.c, collector/plan.c, doc/quota.md).
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
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"

/* ---- small helpers ------------------------------------------------------ */

uint64_t pl_rnd(struct sw_poll_engine *p)
{
	/* xorshift64*: plenty for jitter */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * UINT64_C(2685821657736338717);
}

/* v +- 10 %, never below 1. */
int64_t pl_jitter(struct sw_poll_engine *p, int64_t v)
{
	int64_t span = v / 5;
	int64_t r = span > 0 ? (int64_t)(pl_rnd(p) % (uint64_t)(span + 1)) - span / 2 : 0;

	return v + r > 0 ? v + r : 1;
}

bool pl_needs_token(const struct courier *c)
{
	return sw_courier_needs_token(c->ad, &c->cc);
}

bool pl_token_ok(const struct courier *c, int64_t now)
{
	return c->token != NULL && now < c->token_until;
}

void pl_token_drop(struct courier *c)
{
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = NULL;
	c->token_until = 0;
}

void pl_batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i].tn);
	free(b->items);
	free(b);
}

void pl_kick(struct sw_poll_engine *p)
{
	if (p->sched_timer)
		sw_loop_timer_set(p->loop, p->sched_timer, 0);
}

void pl_count(struct courier *c, const char *ds, uint64_t n)
{
	sw_metrics_count(c->p->metrics, c->file, ds, n);
}

/* Counts an HTTP answer in its class. */
void pl_count_status(struct courier *c, long http)
{
	if (http == 429)
		pl_count(c, "resp_429", 1);
	else if (http >= 500 && http <= 599)
		pl_count(c, "resp_5xx", 1);
	else if (http >= 400 && http <= 499)
		pl_count(c, "resp_4xx", 1);
	else if (http >= 200 && http <= 299)
		pl_count(c, "resp_2xx", 1);
}

/* ---- transfers ---------------------------------------------------------- */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;

	if (sw_buf_add(&x->body, data, len) != SW_OK) {
		x->too_big = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return len;
}

void pl_xfer_free(struct xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	sw_courier_request_free(&x->req);
	sw_buf_free(&x->body);
	pl_batch_free(x->b);
	free(x);
}

/* Sets the options every transfer gets; the request is already in x. */
static void xfer_setopt(struct xfer *x)
{
	const struct sw_poll_courier_conf *cf = x->c->cf;
	CURL *e = x->easy;

	curl_easy_setopt(e, CURLOPT_URL, x->req.url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cf->timeout);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cf->max_response);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cf->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, cf->ca_file);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "slipwatch/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	if (x->req.method == SW_COURIER_POST) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.body ? x->req.body : "");
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
}

/* Starts a transfer of req (taken over) for c; b (taken over) is the
 * batch for a tracking request, NULL for a token request.  SW_OK, or
 * SW_EIO if libcurl refused (everything freed). */
enum sw_err pl_xfer_start(struct courier *c, struct sw_courier_request *req, struct batch *b)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	char *line;

	x->c = c;
	x->is_auth = b == NULL;
	x->b = b;
	x->token_gen = c->token_gen;
	x->req = *req;
	memset(req, 0, sizeof(*req));
	sw_buf_init(&x->body, (size_t)c->cf->max_response);
	for (size_t i = 0; i < x->req.n_headers; i++) {
		line = xasprintf("%s: %s", x->req.headers[i].name, x->req.headers[i].value);
		x->hdrs = curl_slist_append(x->hdrs, line);
		explicit_bzero(line, strlen(line)); /* may hold a key */
		free(line);
	}
	/* no "Expect: 100-continue" round trip for POST bodies */
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	x->easy = curl_easy_init();
	if (x->easy == NULL || x->hdrs == NULL)
		goto fail;
	xfer_setopt(x);
	x->started_ms = sw_loop_now_ms(c->p->loop);
	if (curl_multi_add_handle(c->p->multi, x->easy) != CURLM_OK)
		goto fail;
	x->next = c->xfers;
	c->xfers = x;
	c->in_flight++;
	return SW_OK;
fail:
	pl_xfer_free(x);
	return SW_EIO;
}

/* Unlinks x from its courier's list. */
void pl_xfer_unlink(struct xfer *x)
{
	struct xfer **pp = &x->c->xfers;

	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	x->c->in_flight--;
}

/* The answer of a finished transfer as the adapters take it. */
void pl_xfer_response(struct xfer *x, struct sw_courier_response *resp)
{
	char *ct = NULL;

	memset(resp, 0, sizeof(*resp));
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp->http_status);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	resp->content_type = ct;
	resp->body = x->body.data;
	resp->len = x->body.len;
}

/* ---- tokens ------------------------------------------------------------- */

void pl_auth_start(struct courier *c)
{
	struct sw_courier_request req;
	enum sw_err rc = c->ad->build_auth_request(&c->cc, &req);

	if (rc != SW_OK) {
		sw_courier_request_free(&req);
		pl_backoff(c);
		sw_log_complain(&c->auth_c, SW_LOG_ERR, c->target, "cannot build the token request: %s",
				sw_strerror(rc));
		return;
	}
	if (pl_xfer_start(c, &req, NULL) != SW_OK) {
		pl_fail_api(c, "cannot start the token request");
		return;
	}
	c->token_busy = true;
	c->st.auth_requests++;
}

void pl_auth_done(struct courier *c, struct xfer *x, CURLcode res)
{
	struct sw_courier_response resp;
	struct sw_courier_token tok = {0};
	char err[256] = "";
	int64_t now = sw_loop_now_ms(c->p->loop), margin;
	enum sw_err rc;

	c->token_busy = false;
	pl_xfer_response(x, &resp);
	if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
		c->st.too_big++;
		pl_fail_api(c, "token answer larger than %" PRId64 " bytes", c->cf->max_response);
		return;
	}
	if (res != CURLE_OK) {
		pl_count(c, "resp_timeout", 1);
		pl_fail_api(c, "token request: %s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		return;
	}
	pl_count_status(c, resp.http_status);
	if (resp.http_status == 429) {
		pl_rate_limited(c, x->easy, "token request: ");
		return;
	}
	rc = sw_courier_parse_auth(c->ad, &c->cc, &resp, &tok, err, sizeof(err));
	if (rc != SW_OK) {
		sw_courier_token_clear(&tok);
		if (rc == SW_EAUTH) {
			pl_backoff(c);
			sw_log_complain(&c->auth_c, SW_LOG_ERR, c->target,
					"credentials refused by the token endpoint: %s", err);
		} else {
			pl_fail_api(c, "token request: %s", err);
		}
		return;
	}
	pl_token_drop(c);
	c->token = tok.token;
	margin = tok.lifetime_s * 1000 / 2;
	if (margin > TOKEN_MARGIN_MS)
		margin = TOKEN_MARGIN_MS;
	c->token_until = now + tok.lifetime_s * 1000 - margin;
	c->token_gen++;
	c->st.tokens++;
	sw_log_release(&c->auth_c, SW_LOG_NOTICE, c->target, "token obtained again");
}

/* ---- libcurl on the loop (ephiperfifo) ---------------------------------- */

static void drain(struct sw_poll_engine *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
		CURL *easy = msg->easy_handle;
		CURLcode res = msg->data.result;
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(p->multi, easy);
		pl_xfer_unlink(x);
		if (x->is_auth)
			pl_auth_done(x->c, x, res);
		else
			pl_track_done(x->c, x, res);
		pl_xfer_free(x);
		pl_kick(p);
	}
}

/* Lets libcurl do now what its timer would ask for in the next
 * iteration (start the transfers just added); never from a libcurl
 * callback. */
void pl_curl_now(struct sw_poll_engine *p)
{
	int running;

	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(p);
}

static void fd_ready(struct sw_loop *loop, int fd, int events, void *arg)
{
	struct sw_poll_engine *p = arg;
	int flags = 0, running;

	(void)loop;
	if (events & SW_LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & SW_LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(p->multi, fd, flags, &running);
	drain(p);
}

static int curl_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct sw_poll_engine *p = userp;
	int mask = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		sw_loop_fd_del(p->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		mask |= SW_LOOP_READ;
	if (what & CURL_POLL_OUT)
		mask |= SW_LOOP_WRITE;
	if (mask == 0) {
		sw_loop_fd_del(p->loop, s);
		return 0;
	}
	if (sw_loop_fd_mask(p->loop, s) == 0)
		return sw_loop_fd_add(p->loop, s, mask, fd_ready, p) == SW_OK ? 0 : -1;
	return sw_loop_fd_modify(p->loop, s, mask) == SW_OK ? 0 : -1;
}

static int64_t curl_timer_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;
	int running;

	(void)loop;
	(void)id;
	p->in_curl_timer = true;
	p->curl_timer_touched = false;
	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(p);
	p->in_curl_timer = false;
	if (!p->curl_timer_touched)
		p->curl_timer = 0; /* deleted by the NOMORE below */
	return SW_LOOP_NOMORE;  /* ignored if libcurl re-armed it meanwhile */
}

/* CURLMOPT_TIMERFUNCTION: keeps one loop timer at libcurl's wish. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct sw_poll_engine *p = userp;

	(void)multi;
	if (p->in_curl_timer)
		p->curl_timer_touched = true;
	if (timeout_ms < 0) {
		if (p->curl_timer)
			sw_loop_timer_del(p->loop, p->curl_timer);
		p->curl_timer = 0;
		return 0;
	}
	if (p->curl_timer && sw_loop_timer_set(p->loop, p->curl_timer, timeout_ms) == SW_OK)
		return 0;
	return sw_loop_timer_add(p->loop, timeout_ms, curl_timer_fired, p, &p->curl_timer) == SW_OK
		   ? 0
		   : -1;
}

static int64_t seed_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;
	int64_t now_s = sw_clock_now(), added;

	(void)loop;
	(void)id;
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];
		int interval = pl_secs(c->cf->interval);
		int spread = interval / SEED_SPREAD_DIV > 0 ? interval / SEED_SPREAD_DIV : 1;

		if (sw_store_poll_seed(p->store, c->cf->name, c->seed_upto, now_s, spread, interval,
				       &added, &c->seed_upto) != SW_OK) {
			sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
					"cannot schedule new parcels: %s", sw_store_errmsg(p->store));
			continue;
		}
		c->st.seeded += (uint64_t)added;
		if (added > 0)
			pl_kick(p);
	}
	return p->conf->seed_ms;
}

static int64_t gauge_fired(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_poll_engine *p = arg;
	struct sw_status_count *list = NULL;
	char ds[SW_METRICS_NAME_MAX];
	size_t n = 0;

	(void)loop;
	(void)id;
	if (sw_store_parcel_status_counts(p->store, &list, &n) != SW_OK) {
		if (p->n)
			sw_log_complain(&p->cs[0].store_c, SW_LOG_ERR, "courier",
					"cannot count parcels: %s", sw_store_errmsg(p->store));
		return p->conf->gauge_ms;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];

		for (int s = 0; s < SW_SHIP_LAST; s++) {
			double v = 0;

			for (size_t k = 0; k < n; k++)
				if (list[k].status == (enum sw_ship_status)s &&
				    strcmp(list[k].courier, c->cf->name) == 0)
					v = (double)list[k].count;
			snprintf(ds, sizeof(ds), "status_%s", sw_store_ship_status_name(s));
			sw_metrics_gauge(p->metrics, c->file, ds, v);
		}
	}
	sw_store_status_counts_free(list, n);
	return p->conf->gauge_ms;
}

/* ---- API ---------------------------------------------------------------- */

enum sw_err sw_poll_new(struct sw_loop *loop, struct sw_store *store, struct sw_metrics *metrics,
			const struct sw_poll_conf *conf, struct sw_poll_engine **ret_poll, char *errbuf,
			size_t errlen)
{
	struct sw_poll_engine *p;

	if (ret_poll)
		*ret_poll = NULL;
	if (!loop || !store || !metrics || !conf || !ret_poll) {
		snprintf(errbuf, errlen, "poll: missing argument");
		return SW_EINVAL;
	}
	for (size_t i = 0; i < conf->n; i++)
		if (sw_poll_adapter(&conf->couriers[i]) == NULL) {
			snprintf(errbuf, errlen, "courier %s: no adapter", conf->couriers[i].name);
			return SW_EINVAL;
		}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "poll: libcurl initialisation failed");
		return SW_EIO;
	}
	p = xcalloc(1, sizeof(*p));
	p->loop = loop;
	p->store = store;
	p->metrics = metrics;
	p->conf = conf;
	p->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)p;
	if (p->rng == 0)
		p->rng = 1;
	p->multi = curl_multi_init();
	if (p->multi == NULL) {
		free(p);
		curl_global_cleanup();
		snprintf(errbuf, errlen, "poll: curl_multi_init failed");
		return SW_EIO;
	}
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	pl_lease_init(p);
	p->n = conf->n;
	p->cs = p->n ? xcalloc(p->n, sizeof(*p->cs)) : NULL;
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];

		c->p = p;
		c->cf = &conf->couriers[i];
		c->ad = sw_poll_adapter(c->cf);
		sw_poll_courier_view(c->cf, &c->cc);
		c->target = xasprintf("courier %s", c->cf->name);
		c->file = xasprintf("courier/%s", c->cf->name);
		c->source = xasprintf("courier:%s", c->cf->name);
	}
	*ret_poll = p;
	return SW_OK;
}

enum sw_err sw_poll_start(struct sw_poll_engine *p)
{
	if (p->sched_timer)
		return SW_EINVAL;
	pl_lease_release_all(p, "at start"); /* ours from before a restart */
	sw_loop_timer_add(p->loop, 0, pl_sched_fired, p, &p->sched_timer);
	sw_loop_timer_add(p->loop, p->conf->seed_ms, seed_fired, p, &p->seed_timer);
	sw_loop_timer_add(p->loop, p->conf->gauge_ms, gauge_fired, p, &p->gauge_timer);
	seed_fired(p->loop, p->seed_timer, p);
	gauge_fired(p->loop, p->gauge_timer, p);
	return SW_OK;
}

static void timer_off(struct sw_poll_engine *p, uint64_t *id)
{
	if (*id)
		sw_loop_timer_del(p->loop, *id);
	*id = 0;
}

void sw_poll_stop(struct sw_poll_engine *p)
{
	struct xfer *x;
	struct batch *b;
	bool started;

	if (p == NULL)
		return;
	started = p->sched_timer != 0;
	timer_off(p, &p->sched_timer);
	timer_off(p, &p->seed_timer);
	timer_off(p, &p->gauge_timer);
	pl_answers_flush(p); /* answers already received are kept */
	if (started) /* what is in flight or waiting goes back to the others */
		pl_lease_release_all(p, "at stop");
	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];

		while ((x = c->xfers) != NULL) {
			c->xfers = x->next;
			curl_multi_remove_handle(p->multi, x->easy);
			pl_xfer_free(x);
		}
		c->in_flight = 0;
		c->token_busy = false;
		while ((b = c->waiting) != NULL) {
			c->waiting = b->next;
			pl_batch_free(b);
		}
	}
	timer_off(p, &p->curl_timer);
}

void sw_poll_free(struct sw_poll_engine *p)
{
	if (p == NULL)
		return;
	sw_poll_stop(p);
	curl_multi_cleanup(p->multi);
	for (size_t i = 0; i < p->n; i++) {
		pl_token_drop(&p->cs[i]);
		free(p->cs[i].target);
		free(p->cs[i].file);
		free(p->cs[i].source);
	}
	free(p->cs);
	free(p->holder);
	free(p);
	curl_global_cleanup();
}

enum sw_err sw_poll_get_stats(const struct sw_poll_engine *p, const char *name,
			      struct sw_poll_stats *ret_stats)
{
	int64_t now = sw_loop_now_ms(p->loop);

	for (size_t i = 0; name && i < p->n; i++) {
		const struct courier *c = &p->cs[i];

		if (strcmp(c->cf->name, name) != 0)
			continue;
		*ret_stats = c->st;
		/* an answer queued for the next commit is not done yet */
		ret_stats->in_flight = c->in_flight;
		for (const struct answer *a = p->answers; a; a = a->next)
			ret_stats->in_flight += a->c == c;
		ret_stats->paused_ms = c->paused_until > now ? c->paused_until - now : 0;
		ret_stats->backoff_ms = c->backoff;
		ret_stats->has_token = pl_token_ok(c, now);
		return SW_OK;
	}
	return SW_ENOTFOUND;
}

void sw_poll_kick(struct sw_poll_engine *p)
{
	pl_sched_fired(p->loop, p->sched_timer, p);
}

void sw_poll_seed_now(struct sw_poll_engine *p)
{
	seed_fired(p->loop, p->seed_timer, p);
}

