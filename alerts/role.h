/*
 * role.h - which of several alert engines on one store is the active one
 * (issue 19): a lease in the store (lib/store_lease.h, name "alerts"),
 * held by the engine that evaluates slips and sends; the others stand by,
 * evaluate nothing and send nothing, and try to take it every third of
 * the lease.
 *
 * The active engine renews every third of the lease.  It counts as active
 * (sw_role_active) only while its last successful renewal, timed from
 * before the store was asked, is younger than the lease less a safety
 * margin (a sixth of it, at least 1 s: the store keeps whole seconds and
 * clocks may differ a little).  A standby engine can take the lease only
 * once the store's expiry has passed, which is after that, so the two are
 * never active at once as long as their clocks agree within the margin.
 * A renewal that finds the lease taken (or the margin passed, the store
 * unreachable) ends the active role at once (SW_ROLE_LOST); the daemon
 * then stops every timer that evaluates or sends (alerts/main.c), and
 * notify.c's interrupt ends a send round between two messages.
 *
 * A new hold (SW_ROLE_TOOK_OVER) is reported whenever the store says the
 * hold began anew (its acquired_at changed), also for an engine that
 * thought itself active: somebody may have been active in between, so the
 * daemon starts afresh (start-up pass, journal cursor from the store).
 *
 * Times are the one clock's (lib/clock.h): now in unix s, mono in ms.
 * Single thread (the daemon's loop); logs its transitions.
 */
#ifndef SW_ALERTS_ROLE_H
#define SW_ALERTS_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"
#include "lib/store_lease.h"

#define SW_ROLE_LEASE "alerts" /* the lease's name in the store */

enum sw_role_state {
	SW_ROLE_STANDBY, /* another engine holds the lease, or nobody could be asked */
	SW_ROLE_ACTIVE,	 /* this engine holds it: evaluates and sends */
	SW_ROLE_LAST
};

/* What one tick changed. */
enum sw_role_change {
	SW_ROLE_SAME,	   /* nothing: still active, or still standby */
	SW_ROLE_TOOK_OVER, /* a new hold began: start afresh */
	SW_ROLE_LOST,	   /* the active role ended: stop at once */
	SW_ROLE_CHANGE_LAST
};

struct sw_role;

struct sw_role_stats {
	uint64_t takeovers; /* holds begun */
	uint64_t losses;    /* holds lost while running */
	uint64_t errors;    /* ticks the store did not answer */
};

/* "active", "standby"; "?" out of range. */
const char *sw_role_state_name(enum sw_role_state s);

/* A new role on st (borrowed) for instance (copied), standby; lease_ms
 * >= 1000. */
struct sw_role *sw_role_new(struct sw_store *st, const char *instance, int64_t lease_ms);

/* Frees r (NULL: no-op); the lease is not released (sw_role_release). */
void sw_role_free(struct sw_role *r);

/* A new lease length (reload); used from the next tick on. */
void sw_role_set_lease(struct sw_role *r, int64_t lease_ms);

/*
 * Acquires or renews the lease at now / mono_ms and says what changed.
 * A store error is SW_ROLE_SAME while the margin lasts (errbuf set: the
 * caller complains), SW_ROLE_LOST after it; errbuf is "" otherwise.
 */
enum sw_role_change sw_role_tick(struct sw_role *r, int64_t now, int64_t mono_ms, char *errbuf,
				 size_t errlen);

/* Whether this engine may evaluate and send at mono_ms: it is active and
 * its last renewal is younger than the lease less the margin. */
bool sw_role_active(const struct sw_role *r, int64_t mono_ms);

/* Ends the active role at once, logging why (the daemon found it expired
 * between two ticks, or a renewal in a send round found the hold broken):
 * SW_ROLE_STANDBY; the lease in the store is left as it is. */
void sw_role_drop(struct sw_role *r, const char *why);

/* Whether a tick is due at mono_ms (a third of the lease since the last):
 * a long send round renews between two messages. */
bool sw_role_tick_due(const struct sw_role *r, int64_t mono_ms);

enum sw_role_state sw_role_state(const struct sw_role *r);

/* How long until the next tick is due (ms): a third of the lease. */
int64_t sw_role_interval_ms(const struct sw_role *r);

/* Gives the lease up at now when held (a clean stop: a standby takes over
 * at its next tick, without waiting for the lease to run out).  SW_OK,
 * or the store's error (errbuf set); standby afterwards. */
enum sw_err sw_role_release(struct sw_role *r, int64_t now, char *errbuf, size_t errlen);

/* The lease as the last tick saw it (holder NULL before the first). */
const struct sw_lease *sw_role_lease(const struct sw_role *r);

const char *sw_role_instance(const struct sw_role *r);

void sw_role_get_stats(const struct sw_role *r, struct sw_role_stats *ret);

#endif /* SW_ALERTS_ROLE_H */
