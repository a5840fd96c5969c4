/*
 * store_journal.h - batched reads for the journal's consumers (the alert
 * engine's tail): one query for what a batch of events touches, instead
 * of one per unit.  The SQLite side is lib/store_journal.c.
 */
#ifndef SW_STORE_JOURNAL_H
#define SW_STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

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

#endif /* SW_STORE_JOURNAL_H */
