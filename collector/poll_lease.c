/*
 * poll_lease.c - the poll engine's leases (lib/store_polllease.h): which
 * due parcels this collector may poll when several share one store.
 *
 * A scheduler pass claims what it is about to send, no more (the room its
 * courier has: concurrency, bucket, quota), and releases at once what it
 * claimed but could not send.  The answer queue's commit releases every
 * answered parcel first, in its own transaction: an answer whose parcel
 * another collector took over after our lease ended is dropped (counted
 * in lease_lost), never applied over the other's.  Parcels in flight when
 * the engine stops are released, so that another collector need not wait
 * for the lease; a collector killed keeps them until the lease ends.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/poll_int.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/store_polllease.h"
#include "lib/xmalloc.h"

void pl_lease_init(struct sw_poll_engine *p)
{
	char host[256] = "";

	p->lease_s = (int)(p->conf->lease_ms > 1000 ? p->conf->lease_ms / 1000 : 1);
	if (p->conf->instance && p->conf->instance[0]) {
		p->holder = xstrdup(p->conf->instance);
		return;
	}
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	p->holder = xasprintf("%.100s:%ld", host, (long)getpid());
}

void pl_lease_release_all(struct sw_poll_engine *p, const char *when)
{
	int64_t n = 0;

	if (p->n == 0)
		return;
	if (sw_store_poll_release_all(p->store, p->holder, &n) != SW_OK) {
		sw_log_complain(&p->lease_c, SW_LOG_ERR, "courier",
				"cannot release the parcels held by %s %s: %s (others poll them "
				"when the lease ends)",
				p->holder, when, sw_store_errmsg(p->store));
		return;
	}
	if (n > 0)
		sw_log_info("courier", "%s: %" PRId64 " parcels held by %s released", when, n,
			    p->holder);
}

enum sw_err pl_lease_claim(struct courier *c, bool by_priority, int limit, struct sw_poll **ret,
			   size_t *ret_n)
{
	struct sw_poll_engine *p = c->p;
	enum sw_err rc;

	rc = sw_store_poll_claim(p->store, c->cf->name, p->holder, sw_clock_now(), p->lease_s,
				 limit, by_priority ? SW_POLL_CLAIM_PRIORITY : SW_POLL_CLAIM_DUE,
				 ret, ret_n);
	if (rc == SW_OK)
		c->st.claimed += *ret_n;
	return rc;
}

void pl_lease_release(struct courier *c, const char *tn)
{
	if (sw_store_poll_release(c->p->store, c->cf->name, tn, c->p->holder, NULL) != SW_OK)
		sw_log_complain(&c->store_c, SW_LOG_ERR, c->target,
				"cannot release parcel %s (polled again when its lease ends): %s",
				tn, sw_store_errmsg(c->p->store));
}

enum sw_err pl_lease_hold(struct sw_poll_engine *p, struct answer *list)
{
	const char **couriers, **tns;
	struct item **items;
	bool *held;
	size_t n = 0, k = 0;
	enum sw_err rc;

	for (const struct answer *a = list; a; a = a->next)
		n += a->n;
	if (n == 0)
		return SW_OK;
	couriers = xcalloc(n, sizeof(*couriers));
	tns = xcalloc(n, sizeof(*tns));
	items = xcalloc(n, sizeof(*items));
	held = xcalloc(n, sizeof(*held));
	for (struct answer *a = list; a; a = a->next)
		for (size_t i = 0; i < a->n; i++, k++) {
			couriers[k] = a->c->cf->name;
			tns[k] = a->items[i].tn;
			items[k] = &a->items[i];
		}
	rc = sw_store_poll_release_many(p->store, p->holder, couriers, tns, n, held);
	for (size_t i = 0; rc == SW_OK && i < n; i++)
		items[i]->lost = !held[i];
	free(couriers);
	free(tns);
	free(items);
	free(held);
	return rc == SW_OK ? SW_OK : SW_ESTORE;
}
