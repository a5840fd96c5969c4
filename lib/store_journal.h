/*
 * store_journal.h - batched reads for the journal's consumers (the alert
 * engine's tail): one query for what a batch of events touches, instead
 * of one per unit.  The SQLite side is lib/store_journal.c.
 */
#ifndef SW_STORE_JOURNAL_H
#define SW_STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/*
 * Of entities[0..n-1] (as in struct sw_alert; non-empty), which have at
 * least one open (unresolved) alert: ret_open[i] is set to true or false
 * for each.  One query for the whole list.  SW_OK; SW_EINVAL (an empty or
 * NULL entity, named); SW_ESTORE (ret_open all true: nothing ruled out).
 */
enum sw_err sw_store_alert_open_among(struct sw_store *st, const char *const *entities, size_t n,
				      bool *ret_open);

/*
 * sw_store_journal_read for a consumer that needs only the units events
 * name: cb gets each event after after_seq, in seq order, at most limit
 * (1..SW_STORE_MAX_BATCH), with only seq, kind, warehouse_id, order_id,
 * courier and tracking_number set (the rest NULL or 0), valid during the
 * call.  The rows are not copied: cb runs while the read is open and must
 * not call the store.  A cb result other than SW_OK stops the iteration
 * and is returned; *ret_count (may be NULL) counts the events passed to
 * cb.  SW_OK, cb's error, SW_EINVAL (no cb), SW_ERANGE (limit), SW_ESTORE.
 */
enum sw_err sw_store_journal_keys(struct sw_store *st, int64_t after_seq, int limit,
				  enum sw_err (*cb)(const struct sw_journal_event *ev, void *arg),
				  void *arg, int *ret_count);

#endif /* SW_STORE_JOURNAL_H */
