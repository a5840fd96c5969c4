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

/* ---- cohorts of open parcel slips (alerts/sig_cohort.c cohort_slips) ---- */

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

/* One lane's parcels (courier + warehouse + destination) besides the
 * cohort's members (the parcels with an open slip, which the caller
 * knows from sw_store_sig_open_slips, wherever they shipped). */
struct sw_sig_lane {
	int64_t others;	      /* no open slip, not finished (delivered,
				 returned, ...), shipped at or after since:
				 the cohort's size is these plus its members */
	int64_t base_parcels; /* shipped in [base_since, since), no open slip */
	int64_t base_slipped; /* ... of them delivered after their promise or
				 with a slip ever recorded (resolved) */
};

/*
 * Counts the lane courier / warehouse_id / dest (as sw_store_stage_dest
 * builds it; compared in C) at since and base_since (<= since).  Reads
 * the courier's parcels shipped at or after base_since over the index
 * parcels_courier_shipped (schema 8), each order by id, and for those of
 * the warehouse one look-up of the alerts' entity index (open slip?),
 * two for those shipped before since (a slip ever?): cost follows the
 * courier's parcels of the last window + baseline days, not its parcels
 * ever.  A parcel never shipped (shipped_at NULL) is in no count.  SW_OK,
 * SW_EINVAL (empty id), SW_ESTORE.
 */
enum sw_err sw_store_sig_lane(struct sw_store *st, const char *courier, const char *warehouse_id,
			      const char *dest, int64_t since, int64_t base_since,
			      struct sw_sig_lane *ret);

/* ---- cohorts of orders past their ship-by (alerts/sig_cohort.c) ---- */

/* One order with an open ship_late slip. */
struct sw_sig_late_order {
	char *entity; /* "order:WH:ID" */
	char *warehouse_id;
	int64_t ship_by; /* promised_ship_by_at, unix s (never 0: orders
			    without one are left out) */
	char *stage;	 /* alerts.stage of its latest open ship_late slip;
			    NULL if none */
};

/*
 * Every order with an open ship_late slip (alerts with resolved_at NULL,
 * kind ship_late, entity "order:WH:ID", the warehouse id without ':'),
 * once per order, whose order the store has with a promised ship-by,
 * ordered by entity, as a new array (NULL, 0 when none; free with
 * sw_store_sig_late_orders_free).  Walks the partial index alerts_open
 * and each order by its UNIQUE (warehouse_id, order_id) key: cost follows
 * the open slips.
 */
enum sw_err sw_store_sig_open_ship_late(struct sw_store *st, struct sw_sig_late_order **ret,
					size_t *ret_n);

void sw_store_sig_late_orders_free(struct sw_sig_late_order *list, size_t n);

/* One warehouse's orders due to ship on one day, and before it. */
struct sw_sig_ship_day {
	int64_t due;	     /* promised ship-by in [day_start, day_end), not
				cancelled: the cohort's size */
	int64_t base_orders; /* promised ship-by in [base_since, day_start),
				not cancelled */
	int64_t base_late;   /* ... of them shipped after their ship-by, or
				not shipped and past it at now */
};

/*
 * Counts warehouse_id's orders by promised ship-by (base_since <=
 * day_start < day_end), at now.  One range of orders_wh_ship_by
 * (schema 8): the cost follows the orders due from base_since to
 * day_end.  SW_OK, SW_EINVAL (empty id, bad range), SW_ESTORE.
 */
enum sw_err sw_store_sig_ship_day(struct sw_store *st, const char *warehouse_id, int64_t base_since,
				  int64_t day_start, int64_t day_end, int64_t now,
				  struct sw_sig_ship_day *ret);

#endif /* SW_STORE_SIGNALS_H */
