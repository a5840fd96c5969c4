/*
 * poll_push.c - the poll engine's side of tracking webhooks (push.h):
 * applying a pushed update like a poll answer, and polling as the
 * fallback when pushes stop.
 *
 * A pushed update goes through pl_apply_push (poll_apply.c), so it is
 * journaled once however often it is pushed or polled.  While a courier
 * pushes, a pushed parcel's next poll is push_next_s ahead (the
 * [push NAME] poll_interval_while_pushing): polls are only a safety net.
 * sw_poll_push_idle, called from the listener's timer, notices a courier
 * whose last push is push_silence old and brings every schedule of it
 * that lies beyond its normal interval back within that interval (spread
 * over it, so the courier is not asked about all of them at once).  A
 * schedule put far ahead by the engine's own doubling (up to
 * interval_max) is brought back too: a few early polls, once per silence.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "collector/poll_int.h"
#include "collector/push.h"
#include "lib/clock.h"
#include "lib/store_push.h"

static struct courier *find(const struct sw_poll_engine *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->n; i++)
		if (strcmp(p->cs[i].cf->name, name) == 0)
			return &p->cs[i];
	return NULL;
}

enum sw_err sw_poll_push(struct sw_poll_engine *p, const char *name,
			 const struct sw_courier_result *r, uint64_t *ret_new_events)
{
	struct courier *c = find(p, name);
	int next_s, n = 0;
	enum sw_err rc;

	if (ret_new_events)
		*ret_new_events = 0;
	if (c == NULL)
		return SW_ENOTFOUND;
	if (r == NULL || r->outcome != SW_COURIER_FOUND || r->tracking_number == NULL)
		return SW_EINVAL;
	next_s = c->push_next_s > 0 ? c->push_next_s : pl_secs(c->cf->interval);
	rc = pl_apply_push(c, r->tracking_number, r, next_s, &n);
	if (rc != SW_OK)
		return rc;
	if (c->push_last == 0 && c->push_next_s > 0)
		sw_log_info(c->target, "pushes arrive: pushed parcels are polled every %d s",
			    next_s);
	c->push_last = sw_loop_now_ms(p->loop);
	if (ret_new_events)
		*ret_new_events = n > 0 ? (uint64_t)n : 0;
	return SW_OK;
}

enum sw_err sw_poll_push_setup(struct sw_poll_engine *p, const char *name, int64_t while_pushing_ms,
			       int64_t silence_ms)
{
	struct courier *c = find(p, name);

	if (c == NULL)
		return SW_ENOTFOUND;
	c->push_next_s = pl_secs(while_pushing_ms);
	c->push_silence = silence_ms > 0 ? silence_ms : 1;
	return SW_OK;
}

/* Brings c's far schedules back; true when the store took it. */
static bool resume(struct courier *c, int64_t *ret_n)
{
	int interval_s = pl_secs(c->cf->interval);
	int64_t now_s = sw_clock_now();
	enum sw_err rc;

	rc = sw_store_poll_pull_in(c->p->store, c->cf->name, now_s + interval_s, now_s + 1,
				   interval_s, interval_s, ret_n);
	if (rc != SW_OK) {
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
				"cannot bring polls back after pushes stopped: %s",
				sw_store_errmsg(c->p->store));
		return false;
	}
	return true;
}

int64_t sw_poll_push_idle(struct sw_poll_engine *p)
{
	int64_t now = sw_loop_now_ms(p->loop), total = 0, n;

	for (size_t i = 0; i < p->n; i++) {
		struct courier *c = &p->cs[i];

		if (c->push_last == 0 || c->push_next_s == 0 ||
		    now - c->push_last < c->push_silence)
			continue;
		if (!resume(c, &n))
			continue; /* tried again on the next call */
		sw_log_notice(c->target, "no push for %lld s: %lld parcels polled normally again",
			      (long long)(c->push_silence / 1000), (long long)n);
		c->push_last = 0;
		total += n;
	}
	if (total > 0)
		pl_kick(p);
	return total;
}

bool sw_poll_pushing(const struct sw_poll_engine *p, const char *name)
{
	const struct courier *c = find(p, name);

	return c != NULL && c->push_last != 0;
}
