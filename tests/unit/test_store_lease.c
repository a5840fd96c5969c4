/*
 * test_store_lease.c - unit tests for lib/store_lease.h (schema 10:
 * leases): acquire a free lease, renew it (acquired_at kept), refuse
 * another holder while it is held (and tell who holds it), take it over
 * once it ran out, a renewal by the old holder refused after that, the
 * same holder taking it again after a gap (a new acquired_at), release
 * (only by the holder; the next acquire at once), two handles racing for
 * a free lease, and bad arguments.  Times are given, never read from a
 * clock.  On a store in a private temp dir.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/store.h"
#include "lib/store_lease.h"
#include "tests/sqlite_raw.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW INT64_C(1795521600) /* 2026-11-24T12:00:00Z */
#define TTL 30

/* Acquires lease "alerts" for holder at now; whether it holds it, and the
 * row after the call in *l. */
static bool take(struct sw_store *st, const char *holder, int64_t now, struct sw_lease *l)
{
	bool held = true;

	if (sw_store_lease_acquire(st, "alerts", holder, now, TTL, &held, l) != SW_OK)
		printf("#   acquire: %s\n", sw_store_errmsg(st));
	return held;
}

static void test_acquire_renew(struct sw_store *st)
{
	struct sw_lease l = {0};

	is_int(sw_store_lease_get(st, "alerts", &l), SW_ENOTFOUND, "never taken: SW_ENOTFOUND");
	ok(take(st, "a:1", NOW, &l), "a free lease is acquired");
	is_str(l.holder, "a:1", "  held by a:1");
	ok(l.acquired_at == NOW && l.renewed_at == NOW, "  acquired and renewed now");
	is_int(l.expires_at, NOW + TTL, "  expires after the ttl");
	ok(take(st, "a:1", NOW + 10, &l), "the holder renews it");
	is_int(l.acquired_at, NOW, "  acquired_at kept");
	is_int(l.renewed_at, NOW + 10, "  renewed_at moved");
	is_int(l.expires_at, NOW + 10 + TTL, "  expiry moved");
	ok(!take(st, "b:2", NOW + 20, &l), "another holder is refused while it is held");
	is_str(l.holder, "a:1", "  and told who holds it");
	is_int(l.expires_at, NOW + 10 + TTL, "  and until when");
	ok(!take(st, "b:2", NOW + 10 + TTL - 1, &l), "refused a second before it runs out");
	sw_store_lease_clear(&l);
	is_int(sw_store_lease_get(st, "alerts", &l), SW_OK, "get");
	ok(strcmp(l.holder, "a:1") == 0 && l.renewed_at == NOW + 10,
	   "  the refusals changed nothing");
	sw_store_lease_clear(&l);
	ok(l.holder == NULL, "clear frees and zeroes");
	is_int(raw_int(store_path, "SELECT count(*) FROM leases"), 1, "one row per lease");
}

static void test_takeover(struct sw_store *st)
{
	struct sw_lease l = {0};
	int64_t out = NOW + 10 + TTL; /* a:1's lease runs out */

	ok(take(st, "b:2", out, &l), "taken over the second it runs out");
	is_str(l.holder, "b:2", "  held by b:2");
	is_int(l.acquired_at, out, "  acquired_at is the takeover");
	ok(!take(st, "a:1", out + 1, &l), "the old holder's renewal is refused");
	is_str(l.holder, "b:2", "  b:2 still holds it");
	/* b:2 stops renewing; it takes the lease again after a gap */
	ok(take(st, "b:2", out + TTL + 5, &l), "the same holder takes it again after a gap");
	is_int(l.acquired_at, out + TTL + 5, "  with a new acquired_at (the hold was broken)");
	sw_store_lease_clear(&l);
}

static void test_release(struct sw_store *st)
{
	struct sw_lease l = {0};
	int64_t t = NOW + 80; /* b:2 took it again at NOW + 75 */

	ok(take(st, "a:1", t, &l) == false, "b:2 holds it");
	is_int(sw_store_lease_release(st, "alerts", "a:1", t), SW_ENOTFOUND,
	       "release by another: SW_ENOTFOUND");
	ok(!take(st, "a:1", t, &l), "  b:2 still holds it");
	is_int(sw_store_lease_release(st, "alerts", "b:2", t), SW_OK, "the holder releases it");
	is_int(sw_store_lease_release(st, "alerts", "b:2", t), SW_ENOTFOUND,
	       "  a second release: not held any more");
	sw_store_lease_clear(&l);
	is_int(sw_store_lease_get(st, "alerts", &l), SW_OK, "the row stays");
	ok(strcmp(l.holder, "b:2") == 0 && l.expires_at == t, "  naming its last holder, run out");
	ok(take(st, "a:1", t, &l), "acquired at once by another");
	is_int(l.acquired_at, t, "  a new hold");
	sw_store_lease_clear(&l);
}

/* Two handles on the file, as two engines: one wins a free lease. */
static void test_race(struct sw_store *st)
{
	struct sw_store *st2 = NULL;
	char err[512] = "";
	bool h1 = false, h2 = false;
	int64_t t = NOW + 5000;

	if (!ok(sw_store_open(store_path, 0, &st2, err, sizeof(err)) == SW_OK, "a second handle")) {
		printf("#   %s\n", err);
		return;
	}
	is_int(sw_store_lease_acquire(st, "race", "x", t, TTL, &h1, NULL), SW_OK, "x acquires");
	is_int(sw_store_lease_acquire(st2, "race", "y", t, TTL, &h2, NULL), SW_OK,
	       "y acquires through the other handle, the same second");
	ok(h1 && !h2, "  only the first wins");
	is_int(sw_store_lease_release(st2, "race", "x", t + 1), SW_OK,
	       "released through either handle");
	is_int(sw_store_lease_acquire(st2, "race", "y", t + 1, TTL, &h2, NULL), SW_OK, "y again");
	ok(h2, "  y holds it");
	is_int(sw_store_lease_acquire(st, "alerts", "z", NOW + 85, TTL, &h1, NULL), SW_OK,
	       "another name is another lease");
	ok(!h1, "  \"alerts\" is still a:1's then");
	sw_store_close(st2);
}

static void test_bad_args(struct sw_store *st)
{
	char long_name[SW_LEASE_NAME_MAX + 2];
	bool held = true;

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	is_int(sw_store_lease_acquire(st, "", "a", NOW, TTL, &held, NULL), SW_EINVAL,
	       "an empty name: SW_EINVAL");
	ok(!held, "  not held");
	is_int(sw_store_lease_acquire(st, "alerts", NULL, NOW, TTL, &held, NULL), SW_EINVAL,
	       "no holder: SW_EINVAL");
	is_int(sw_store_lease_acquire(st, "alerts", long_name, NOW, TTL, &held, NULL), SW_EINVAL,
	       "a holder longer than SW_LEASE_NAME_MAX: SW_EINVAL");
	is_int(sw_store_lease_acquire(st, "alerts", "a", NOW, 0, &held, NULL), SW_EINVAL,
	       "a ttl of 0: SW_EINVAL");
	is_int(sw_store_lease_release(st, "alerts", "", NOW), SW_EINVAL,
	       "release with an empty holder: SW_EINVAL");
	is_int(sw_store_lease_get(st, NULL, NULL), SW_EINVAL, "get without a name: SW_EINVAL");
}

int main(void)
{
	struct sw_store *st = store_tmp_open();

	if (st) {
		ok(sw_store_schema_version(st) >= 11, "schema 11 and later have leases");
		test_acquire_renew(st);
		test_takeover(st);
		test_release(st);
		test_race(st);
		test_bad_args(st);
	}
	return store_tmp_done(st);
}
