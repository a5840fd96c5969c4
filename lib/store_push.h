/*
 * store_push.h - the poll schedule's side of tracking webhooks
 * (collector/push.h): bringing back the polls of a courier whose pushes
 * stopped.
 */
#ifndef SW_STORE_PUSH_H
#define SW_STORE_PUSH_H

#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/*
 * Every poll schedule of a non-terminal parcel of courier due after
 * `after` (unix seconds) is moved to a random time in [at, at + spread_s)
 * with interval interval_s; the others are untouched.  One statement,
 * atomic.  *ret_n (may be NULL) is how many moved.  SW_OK, SW_EINVAL
 * (empty courier, at <= 0, spread_s or interval_s < 1), SW_ESTORE.  From
 * the store's thread.
 */
enum sw_err sw_store_poll_pull_in(struct sw_store *st, const char *courier, int64_t after,
				  int64_t at, int spread_s, int interval_s, int64_t *ret_n);

#endif /* SW_STORE_PUSH_H */
