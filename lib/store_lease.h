/*
 * store_lease.h - named leases in the store (schema 10: leases): which of
 * several processes holds a role, such as the one alert engine that
 * evaluates and sends while the others stand by (alerts/role.h).
 *
 * A lease is one row: its name, the holder (an instance name the process
 * chose, unique among the processes competing), when the holder first took
 * it, when it last renewed it and when it runs out.  Acquiring and renewing
 * are one statement: it takes the lease when nobody holds it, when it ran
 * out (expires_at <= now) or when the caller already holds it, and changes
 * nothing otherwise.  Two processes racing for a free lease cannot both
 * win: the statement is one atomic write.
 *
 * Times are the callers' clocks (lib/clock.h, unix s): processes sharing a
 * lease must share a clock (one machine, or NTP within a small part of the
 * lease).  The SQL is written so that PostgreSQL runs it unchanged
 * (INSERT ... ON CONFLICT ... DO UPDATE ... WHERE ... RETURNING, plain
 * integers), for the PostgreSQL backend.
 *
 * Conventions of store.h: one thread per handle, strings returned new;
 * each call atomic on its own.
 */
#ifndef SW_STORE_LEASE_H
#define SW_STORE_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/* Longest lease name and holder accepted (bytes). */
#define SW_LEASE_NAME_MAX 128

/* A lease as the store has it. */
struct sw_lease {
	char *holder;	     /* the instance that holds or last held it */
	int64_t acquired_at; /* when that holder took it */
	int64_t renewed_at;  /* its last acquire or renewal */
	int64_t expires_at;  /* held while now < expires_at */
};

/*
 * Takes or renews the lease name for holder at now until now + ttl_s:
 * when no row exists, when the row's holder is holder and it has not run
 * out (a renewal: acquired_at is kept), or when the row ran out
 * (expires_at <= now: a takeover, or the same holder taking it again
 * after a gap; acquired_at = now).  Otherwise nothing changes.  A holder
 * whose acquired_at changed between two calls did not hold the lease
 * throughout: somebody else may have held it in between.
 * *ret_held: whether holder holds it now.  ret (may be NULL; zeroed or
 * from an earlier call, whose holder is freed; clear it with
 * sw_store_lease_clear) gets the row as it stands after the call:
 * holder's when held, else the other holder's.
 * SW_OK; SW_EINVAL (empty or too long name or holder, ttl_s < 1); SW_ESTORE.
 */
enum sw_err sw_store_lease_acquire(struct sw_store *st, const char *name, const char *holder,
				   int64_t now, int64_t ttl_s, bool *ret_held,
				   struct sw_lease *ret);

/*
 * Gives the lease name up at now if holder holds it (expires_at = now:
 * the next acquire by anybody succeeds; the row stays, naming its last
 * holder).  SW_OK; SW_ENOTFOUND when holder did not hold it (nothing
 * changed: it ran out and somebody took it, or it never did); SW_EINVAL;
 * SW_ESTORE.
 */
enum sw_err sw_store_lease_release(struct sw_store *st, const char *name, const char *holder,
				   int64_t now);

/* The row of lease name into *ret (zeroed or from an earlier call; clear
 * it with sw_store_lease_clear):
 * SW_OK, SW_ENOTFOUND (never taken), SW_EINVAL, SW_ESTORE.  Whether it is
 * held is the caller's judgment: now < ret->expires_at. */
enum sw_err sw_store_lease_get(struct sw_store *st, const char *name, struct sw_lease *ret);

/* Frees what l holds and zeroes it; NULL is a no-op. */
void sw_store_lease_clear(struct sw_lease *l);

#endif /* SW_STORE_LEASE_H */
