/*
 * role.c - the active/standby role of an alert engine (see role.h).
 *
 * Design: a small state machine over one lease row.  Each tick is one
 * store call (sw_store_lease_acquire) timed from before it is made; the
 * answer moves the state and the local deadline (safe_until) by which the
 * engine stops on its own if no later renewal gets through.  Whether a
 * hold is unbroken is the store's word (acquired_at unchanged), not this
 * process's memory.  Transitions are logged here, once each; a standby
 * logs again only when the holder changes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/role.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

struct sw_role {
	struct sw_store *st; /* borrowed */
	char *instance;	     /* this engine's name in the lease */
	int64_t lease_ms;
	enum sw_role_state state;
	int64_t acquired_at;   /* the store's start of our hold (active) */
	int64_t safe_until;    /* mono ms: active no longer after this */
	int64_t last_tick;     /* mono ms of the last tick's start */
	struct sw_lease seen;  /* the row as the last tick saw it */
	char *told_holder;     /* the holder the standby line named */
	int64_t told_acquired; /* and its acquired_at */
	struct sw_role_stats stats;
};

static const char *const state_names[SW_ROLE_LAST] = {"standby", "active"};

const char *sw_role_state_name(enum sw_role_state s)
{
	return (unsigned)s < SW_ROLE_LAST ? state_names[s] : "?";
}

struct sw_role *sw_role_new(struct sw_store *st, const char *instance, int64_t lease_ms)
{
	struct sw_role *r = xcalloc(1, sizeof(*r));

	r->st = st;
	r->instance = xstrdup(instance);
	r->lease_ms = lease_ms >= 1000 ? lease_ms : 1000;
	r->state = SW_ROLE_STANDBY;
	return r;
}

void sw_role_free(struct sw_role *r)
{
	if (!r)
		return;
	free(r->instance);
	free(r->told_holder);
	sw_store_lease_clear(&r->seen);
	free(r);
}

void sw_role_set_lease(struct sw_role *r, int64_t lease_ms)
{
	r->lease_ms = lease_ms >= 1000 ? lease_ms : 1000;
}

/* A sixth of the lease, at least 1 s: whole seconds in the store, and
 * clocks that differ a little. */
static int64_t margin_ms(const struct sw_role *r)
{
	int64_t m = r->lease_ms / 6;

	return m > 1000 ? m : 1000;
}

/* The lease in whole seconds, rounded up. */
static int64_t ttl_s(const struct sw_role *r)
{
	return (r->lease_ms + 999) / 1000;
}

/* Logs the standby line when the holder is new to this engine. */
static void tell_standby(struct sw_role *r, int64_t now)
{
	const struct sw_lease *l = &r->seen;

	if (!l->holder || (r->told_holder && strcmp(r->told_holder, l->holder) == 0 &&
			   r->told_acquired == l->acquired_at))
		return;
	sw_log_notice("alerts",
		      "standby: lease '%s' held by %s for another %lld s; evaluating and sending "
		      "nothing, trying every %lld ms",
		      SW_ROLE_LEASE, l->holder, (long long)(l->expires_at - now),
		      (long long)sw_role_interval_ms(r));
	free(r->told_holder);
	r->told_holder = xstrdup(l->holder);
	r->told_acquired = l->acquired_at;
}

static enum sw_role_change lose(struct sw_role *r, const char *why)
{
	r->state = SW_ROLE_STANDBY;
	r->stats.losses++;
	free(r->told_holder);
	r->told_holder = NULL;
	sw_log_warn("alerts", "lease '%s' lost (%s): standby, evaluating and sending stop",
		    SW_ROLE_LEASE, why);
	return SW_ROLE_LOST;
}

/* The store did not answer: active until the margin, then lost. */
static enum sw_role_change store_failed(struct sw_role *r, int64_t mono_ms, char *errbuf,
					size_t errlen)
{
	r->stats.errors++;
	snprintf(errbuf, errlen, "lease '%s': %s", SW_ROLE_LEASE, sw_store_errmsg(r->st));
	if (r->state == SW_ROLE_ACTIVE && mono_ms >= r->safe_until)
		return lose(r, "the store did not answer for a lease");
	return SW_ROLE_SAME;
}

static enum sw_role_change held(struct sw_role *r, int64_t t0)
{
	bool unbroken = r->state == SW_ROLE_ACTIVE && r->seen.acquired_at == r->acquired_at;

	r->safe_until = t0 + r->lease_ms - margin_ms(r);
	if (unbroken)
		return SW_ROLE_SAME;
	r->state = SW_ROLE_ACTIVE;
	r->acquired_at = r->seen.acquired_at;
	r->stats.takeovers++;
	sw_log_notice("alerts", "active: took lease '%s' as %s (%lld s, renewed every %lld ms)",
		      SW_ROLE_LEASE, r->instance, (long long)ttl_s(r),
		      (long long)sw_role_interval_ms(r));
	return SW_ROLE_TOOK_OVER;
}

enum sw_role_change sw_role_tick(struct sw_role *r, int64_t now, int64_t mono_ms, char *errbuf,
				 size_t errlen)
{
	bool is_held = false;

	errbuf[0] = '\0';
	r->last_tick = mono_ms;
	if (sw_store_lease_acquire(r->st, SW_ROLE_LEASE, r->instance, now, ttl_s(r), &is_held,
				   &r->seen) != SW_OK)
		return store_failed(r, mono_ms, errbuf, errlen);
	if (is_held)
		return held(r, mono_ms);
	if (r->state == SW_ROLE_ACTIVE) {
		char why[200];

		snprintf(why, sizeof(why), "now held by %.150s", r->seen.holder);
		return lose(r, why);
	}
	tell_standby(r, now);
	return SW_ROLE_SAME;
}

bool sw_role_active(const struct sw_role *r, int64_t mono_ms)
{
	return r->state == SW_ROLE_ACTIVE && mono_ms < r->safe_until;
}

void sw_role_drop(struct sw_role *r, const char *why)
{
	if (r->state == SW_ROLE_ACTIVE)
		lose(r, why);
}

bool sw_role_tick_due(const struct sw_role *r, int64_t mono_ms)
{
	return mono_ms - r->last_tick >= sw_role_interval_ms(r);
}

enum sw_role_state sw_role_state(const struct sw_role *r)
{
	return r->state;
}

int64_t sw_role_interval_ms(const struct sw_role *r)
{
	return r->lease_ms / 3;
}

enum sw_err sw_role_release(struct sw_role *r, int64_t now, char *errbuf, size_t errlen)
{
	enum sw_err rc;

	errbuf[0] = '\0';
	if (r->state != SW_ROLE_ACTIVE)
		return SW_OK;
	r->state = SW_ROLE_STANDBY;
	rc = sw_store_lease_release(r->st, SW_ROLE_LEASE, r->instance, now);
	if (rc == SW_OK || rc == SW_ENOTFOUND) {
		sw_log_notice("alerts", "lease '%s' released", SW_ROLE_LEASE);
		return SW_OK;
	}
	snprintf(errbuf, errlen, "lease '%s': release: %s", SW_ROLE_LEASE, sw_store_errmsg(r->st));
	return rc;
}

const struct sw_lease *sw_role_lease(const struct sw_role *r)
{
	return &r->seen;
}

const char *sw_role_instance(const struct sw_role *r)
{
	return r->instance;
}

void sw_role_get_stats(const struct sw_role *r, struct sw_role_stats *ret)
{
	*ret = r->stats;
}
