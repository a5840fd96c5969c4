/*
 * store_polllease.h - poll leases: several collectors polling one store's
 * parcels, each parcel polled by one of them at a time (schema 10,
 * doc/scale-out-collectors.md).
 *
 * A collector claims the due parcels it is about to ask about: one
 * statement marks up to `limit` due, non-terminal parcels of a courier
 * that nobody holds (or whose lease has ended, or that it holds itself)
 * with its instance (holder) and the end of the lease, and returns them.
 * It polls only what it holds.  When the answer is applied it releases the
 * parcel in the same transaction that moves the schedule on, and applies
 * only if it still held it: a collector that was too slow (its lease ended
 * and another claimed the parcel) drops its answer rather than writing
 * over the other's.  A collector that dies keeps its leases until they
 * end; then any other claims the parcels.
 *
 * Times are the store's: unix seconds from lib/clock.h.  All SQL here is
 * plain UPDATE ... RETURNING on integers and text, for SQLite and
 * PostgreSQL alike (store_polllease.c says what PostgreSQL needs more).
 * Conventions as in store.h: SW_OK, SW_EINVAL for bad arguments, SW_ESTORE
 * with sw_store_errmsg() set; one thread per handle.
 */
#ifndef SW_STORE_POLLLEASE_H
#define SW_STORE_POLLLEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/* Longest holder (instance) name accepted, bytes. */
#define SW_POLL_HOLDER_MAX 128

/* How claimed parcels are chosen. */
enum sw_poll_claim_order {
	SW_POLL_CLAIM_DUE,	/* earliest due first (sw_store_poll_due_courier) */
	SW_POLL_CLAIM_PRIORITY, /* priority class first (sw_store_pollplan_due) */
	SW_POLL_CLAIM_LAST
};

/*
 * Claims for holder up to limit (1..SW_STORE_MAX_BATCH) parcels of
 * courier due at or before now: not terminal, and not held by another
 * holder whose lease ends after now (parcels holder holds already are
 * claimed again, their lease renewed).  Each gets lease_until = now +
 * lease_s.  One atomic statement.  The parcels come back as
 * sw_store_poll_due_courier returns them (schedule as stored), earliest
 * due first whatever the order used to choose them; free with
 * sw_store_poll_free.  SW_OK (possibly none), SW_EINVAL (empty courier or
 * holder, holder too long, lease_s < 1, bad order), SW_ERANGE (limit),
 * SW_ESTORE.
 */
enum sw_err sw_store_poll_claim(struct sw_store *st, const char *courier, const char *holder,
				int64_t now, int lease_s, int limit, enum sw_poll_claim_order order,
				struct sw_poll **ret_polls, size_t *ret_n);

/*
 * Releases holder's lease of one parcel: *ret_held (may be NULL) is true
 * if holder held it (whether or not its lease had ended) and it is now
 * free, or if nobody holds it (never claimed, released, or no schedule any
 * more: an answer then applies as it did before leases, its events
 * journaled once whoever asked); false only if another holder holds it
 * (it claimed the parcel after our lease ended): nothing changed then.  Run it inside the transaction that applies the answer, before
 * applying: an answer is applied only when held.  SW_OK, SW_EINVAL,
 * SW_ESTORE.
 */
enum sw_err sw_store_poll_release(struct sw_store *st, const char *courier,
				  const char *tracking_number, const char *holder, bool *ret_held);

/* sw_store_poll_release for n parcels at once (couriers[i],
 * tracking_numbers[i]), one statement prepared once: ret_held[i] as
 * *ret_held above (all false on error).  For a group commit of answers.
 * SW_OK, SW_EINVAL, SW_ESTORE (the parcels before the failing one are
 * released). */
enum sw_err sw_store_poll_release_many(struct sw_store *st, const char *holder,
				       const char *const *couriers,
				       const char *const *tracking_numbers, size_t n,
				       bool *ret_held);

/* Releases every lease holder holds (a collector stopping cleanly, or
 * starting again under the same instance); *ret_n (may be NULL) is how
 * many.  SW_OK, SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_poll_release_all(struct sw_store *st, const char *holder, int64_t *ret_n);

/* ---- inside the SQLite backend (lib/store*.c) only ------------------- */

/* Runs the claim statement sql, whose text is SW_POLL_CLAIM_SQL(inner)
 * with inner selecting parcel_ref of the candidates (binding :courier,
 * :holder, :now, :limit): what sw_store_poll_claim does for one order.
 * store_pollplan.c provides the priority order's inner select. */
enum sw_err sw_store_polllease_run(struct sw_store *st, const char *sql, const char *courier,
				   const char *holder, int64_t now, int lease_s, int limit,
				   struct sw_poll **ret_polls, size_t *ret_n);

/* A candidate may be claimed by :holder at :now. */
#define SW_POLL_CLAIMABLE(s)                                                                       \
	"(" s ".lease_until <= :now OR " s ".lease_holder = :holder)"

/* The claim around an inner select of candidates, which names
 * poll_schedule s (only its rows are locked on PostgreSQL: FOR UPDATE of
 * every table would lock parcels too, and is refused on the nullable side
 * of an outer join).  The outer WHERE says again what the inner one chose
 * by, so that a database that re-checks a row changed by a concurrent
 * claim (PostgreSQL at READ COMMITTED) skips it rather than taking it
 * over.  The candidates are chosen once, in a materialized WITH: see
 * CLAIM_SKIP_LOCKED in store_outbox.c. */
#define SW_POLL_CLAIM_SQL(inner)                                                                   \
	"WITH due AS MATERIALIZED (" inner " /*pg: FOR UPDATE OF s SKIP LOCKED */)"                \
	" UPDATE poll_schedule SET lease_holder = :holder, lease_until = :until"                   \
	" WHERE next_poll_at <= :now AND " SW_POLL_CLAIMABLE("poll_schedule")                      \
	" AND parcel_ref IN (SELECT parcel_ref FROM due)"                                          \
	" RETURNING parcel_ref,"                                                                    \
	" (SELECT p.courier FROM parcels p WHERE p.id = poll_schedule.parcel_ref),"                \
	" (SELECT p.tracking_number FROM parcels p WHERE p.id = poll_schedule.parcel_ref),"        \
	" next_poll_at, interval_s, failures, coalesce(last_polled_at, 0), last_error"
	/* the columns of sw_store_int_poll_fill */

#endif /* SW_STORE_POLLLEASE_H */
