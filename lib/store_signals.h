/*
 * store_signals.h - the store's side of the ops rules' signals
 * (alerts/signals.h): read-only counts over orders, the customer outbox
 * and the journal, each answered from an index so that a rule evaluated
 * every minute stays cheap on a store of millions of orders.
 *
 * Conventions as in store.h: SW_OK, SW_EINVAL for bad arguments, SW_ESTORE
 * with sw_store_errmsg() set; a handle is used by one thread at a time.
 */
#ifndef SW_STORE_SIGNALS_H
#define SW_STORE_SIGNALS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"
#include "lib/store_stage.h"

/* The distinct warehouse ids of orders, sorted (bytewise), as a new array
 * of new strings (NULL, 0 when none; free with sw_store_sig_ids_free).
 * A skip-scan of the orders' unique (warehouse_id, order_id) index: one
 * index seek per warehouse, whatever the number of orders. */
enum sw_err sw_store_sig_warehouses(struct sw_store *st, char ***ret_ids, size_t *ret_n);

/* The couriers whose API answers were ever noted (courier_health), sorted,
 * as for sw_store_sig_warehouses. */
enum sw_err sw_store_sig_couriers(struct sw_store *st, char ***ret_ids, size_t *ret_n);

void sw_store_sig_ids_free(char **ids, size_t n);

/* Orders of one warehouse waiting on something. */
struct sw_sig_orders {
	int64_t count;	/* how many */
	int64_t oldest; /* ship_late: the earliest promised ship-by among them;
			   pick backlog: the earliest creation; 0 when none */
};

/* Orders of warehouse_id past promised_ship_by at now, neither shipped nor
 * cancelled (the partial index orders_unshipped, ranged by ship-by). */
enum sw_err sw_store_sig_ship_late(struct sw_store *st, const char *warehouse_id, int64_t now,
				   struct sw_sig_orders *ret);

/* Orders of warehouse_id created, not picked, not cancelled (the partial
 * index orders_backlog_pick). */
enum sw_err sw_store_sig_pick_backlog(struct sw_store *st, const char *warehouse_id,
				      struct sw_sig_orders *ret);

/*
 * Customer notices (outbox rows without a receiver) created at or after
 * since, by what became of them.  A deferral is a delivery failure unless
 * its reason (last_error) is one of those alerts/notify.c writes for a
 * deferral on purpose: "quiet hours", "not tried: stopping" (shutdown),
 * and "held: ..." (the courier's feed could not confirm the slip); every
 * other deferral is a channel's temporary failure ("not tried: ..." when
 * the channel's server was already failing in that round, else the
 * channel's own text).  See doc/metrics.md for the marker this relies on.
 */
struct sw_sig_notices {
	int64_t failed;		/* state failed (given up, or refused for good) */
	int64_t deferred_fail;	/* deferred after a channel failure, retrying */
	int64_t deferred_other; /* deferred on purpose (quiet hours, held, ...) */
	int64_t sent;		/* sent, or merged into a sent message */
	int64_t waiting;	/* queued or sending */
	int64_t other;		/* suppressed or obsolete */
};

enum sw_err sw_store_sig_notices(struct sw_store *st, int64_t since, struct sw_sig_notices *ret);

/* Where a journal consumer stands. */
struct sw_sig_journal {
	int64_t cursor;		    /* the consumer's cursor (0: never set) */
	int64_t newest;		    /* the newest seq (0: empty journal) */
	int64_t behind;		    /* events after the cursor */
	int64_t oldest_received_at; /* received_at of the first event after the
				       cursor; 0 when caught up */
};

/* The journal against the cursor named cursor (non-empty).  Counts the
 * events behind over the journal's primary key: proportional to the lag. */
enum sw_err sw_store_sig_journal(struct sw_store *st, const char *cursor,
				 struct sw_sig_journal *ret);

/* ---- cohorts of open parcel slips (alerts/signals.c cohort_slips) ---- */

/* One parcel with an open slip, and its lane. */
struct sw_sig_slip {
	char *entity; /* "parcel:COURIER:TN" */
	char *courier;
	char *warehouse_id;
	char dest[SW_STAGE_DEST_MAX]; /* sw_store_stage_dest of its order */
	char *stage;		      /* alerts.stage of its latest open slip; NULL if none */
};

/*
 * Every parcel with an open slip (alerts with resolved_at NULL and an
 * entity "parcel:..."), once per parcel however many kinds are open,
 * whose parcel and order the store has, ordered by entity, as a new array
 * (NULL, 0 when none; free with sw_store_sig_slips_free).  Walks the
 * partial index alerts_open: cost follows the open slips.
 */
enum sw_err sw_store_sig_open_slips(struct sw_store *st, struct sw_sig_slip **ret, size_t *ret_n);

void sw_store_sig_slips_free(struct sw_sig_slip *list, size_t n);

/* One lane's parcels (courier + warehouse + destination). */
struct sw_sig_lane {
	int64_t active;	      /* not delivered and shipped at or after since, or
				 with an open slip: the cohort's size */
	int64_t base_parcels; /* shipped in [base_since, since), no open slip */
	int64_t base_slipped; /* ... of them delivered after their promise or
				 with a slip ever recorded (resolved) */
};

/*
 * Counts the lane courier / warehouse_id / dest (as sw_store_stage_dest
 * builds it; compared in C) at since and base_since (<= since).  Walks
 * every parcel of the courier (the parcels' UNIQUE (courier,
 * tracking_number) index; no index has parcels by shipping time), each
 * order by id, and for those undelivered or shipped since base_since two
 * look-ups of the alerts' entity index: cost follows the courier's
 * parcels ever, fine for a test store or a young one, a schema index
 * (courier, shipped_at) or an hourly cache for a large one.  SW_OK,
 * SW_EINVAL (empty id), SW_ESTORE.
 */
enum sw_err sw_store_sig_lane(struct sw_store *st, const char *courier, const char *warehouse_id,
			      const char *dest, int64_t since, int64_t base_since,
			      struct sw_sig_lane *ret);

#endif /* SW_STORE_SIGNALS_H */
