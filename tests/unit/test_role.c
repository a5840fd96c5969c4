/*
 * test_role.c - unit tests for alerts/role.h (which of several alert
 * engines on one store is active): the lease taken on an empty store, a
 * second engine standing by while it is held (and saying so once), the
 * active engine stopping on its own before anybody can take over, the
 * takeover once the lease ran out (the old holder's next tick loses it),
 * a hold broken without a rival reported as a new hold, a clean stop's
 * release handing over at once, the store failing (active until the
 * margin, then lost), and bad arguments.
 *
 * Two roles on one store stand for two engines.  Time is lib/clock.h's
 * stepped clock, the one the daemon reads (alerts/main.c passes
 * sw_clock_now and sw_clock_mono_ms to the role): moved by sw_clock_step,
 * never slept.  On a store in a private temp dir, or the PostgreSQL
 * database of SW_TEST_STORE_URL (tests/integration/060-store-pg.sh).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alerts/role.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/store.h"
#include "lib/store_lease.h"
#include "tests/log_capture.h"
#include "tests/sqlite_raw.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define T0_MS	 INT64_C(1795521600000) /* 2026-11-24T12:00:00Z, a whole second */
#define LEASE_MS 30000			/* ttl 30 s, a tick every 10 s, margin 5 s */

static char err[512];

/* One tick of r at the clock's now, as the daemon makes it; a store error
 * is printed (the cases that expect one read err). */
static enum sw_role_change tick(struct sw_role *r)
{
	enum sw_role_change ch =
	    sw_role_tick(r, sw_clock_now(), sw_clock_mono_ms(), err, sizeof(err));

	if (err[0])
		printf("#   tick of %s: %s\n", sw_role_instance(r), err);
	return ch;
}

static bool active(const struct sw_role *r)
{
	return sw_role_active(r, sw_clock_mono_ms());
}

/* The holder the store names for the lease ("" when never taken), and its
 * expiry in *ret_expires (may be NULL). */
static const char *store_holder(struct sw_store *st, int64_t *ret_expires)
{
	static char holder[SW_LEASE_NAME_MAX + 1];
	struct sw_lease l = {0};

	holder[0] = '\0';
	if (sw_store_lease_get(st, SW_ROLE_LEASE, &l) == SW_OK) {
		snprintf(holder, sizeof(holder), "%s", l.holder);
		if (ret_expires)
			*ret_expires = l.expires_at;
	}
	sw_store_lease_clear(&l);
	return holder;
}

/* How many captured log lines contain needle. */
static int logged(const char *needle)
{
	int n = 0;

	for (const char *p = logbuf; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static struct sw_role_stats stats(const struct sw_role *r)
{
	struct sw_role_stats s;

	sw_role_get_stats(r, &s);
	return s;
}

/* a takes the lease on an empty store and renews it. */
static void test_acquire(struct sw_store *st, struct sw_role *a)
{
	int64_t now = sw_clock_now(), expires = 0;

	is_str(store_holder(st, NULL), "", "an empty store: nobody holds the lease");
	ok(sw_role_lease(a)->holder == NULL, "before the first tick the role has seen no lease");
	is_int(sw_role_state(a), SW_ROLE_STANDBY, "a new role is standby");
	ok(!active(a), "  and not active");
	loglen = 0;
	is_int(tick(a), SW_ROLE_TOOK_OVER, "the first tick on an empty store takes the lease");
	is_int(sw_role_state(a), SW_ROLE_ACTIVE, "  active");
	ok(active(a), "  and may evaluate and send");
	is_str(store_holder(st, &expires), "a:1", "  the store names it");
	is_int(expires, now + LEASE_MS / 1000, "  until now + the lease");
	is_str(sw_role_lease(a)->holder, "a:1", "  the role saw the row");
	is_int(logged("active: took lease 'alerts' as a:1 (30 s, renewed every 10000 ms)"), 1,
	       "  logged once, naming instance, lease and interval");
	is_int(stats(a).takeovers, 1, "  one takeover counted");
	ok(!sw_role_tick_due(a, sw_clock_mono_ms()), "no tick due right after one");
	sw_clock_step(sw_role_interval_ms(a) - 1);
	ok(!sw_role_tick_due(a, sw_clock_mono_ms()),
	   "  nor a millisecond before a third of the lease");
	sw_clock_step(1);
	ok(sw_role_tick_due(a, sw_clock_mono_ms()), "  due at a third of the lease");
	is_int(tick(a), SW_ROLE_SAME, "a renewal changes nothing");
	is_int(stats(a).takeovers, 1, "  no new takeover");
	store_holder(st, &expires);
	is_int(expires, sw_clock_now() + LEASE_MS / 1000, "  the store's expiry moved");
}

/* b stands by while a holds the lease; a stops on its own (margin) before
 * b could take it. */
static void test_standby(struct sw_store *st, struct sw_role *a, struct sw_role *b)
{
	int64_t expires = 0, after = 0;

	store_holder(st, &expires);
	loglen = 0;
	is_int(tick(b), SW_ROLE_SAME,
	       "a second engine's tick while the lease is held: nothing changes");
	is_int(sw_role_state(b), SW_ROLE_STANDBY, "  it stands by");
	ok(!active(b), "  and may not evaluate or send");
	is_str(sw_role_lease(b)->holder, "a:1", "  it saw who holds the lease");
	is_str(store_holder(st, NULL), "a:1", "  the store still names a:1");
	is_int(logged("standby: lease 'alerts' held by a:1 for another 30 s"), 1,
	       "  the standby line names holder and time left");
	sw_clock_step(1000);
	is_int(tick(b), SW_ROLE_SAME, "  its next tick: still standby");
	is_int(logged("standby:"), 1, "  the standby line is not repeated for the same holder");
	is_int(sw_role_release(b, sw_clock_now(), err, sizeof(err)), SW_OK,
	       "a standby's release (a clean stop) is a no-op");
	is_str(err, "", "  no error");
	is_int(logged("released"), 0, "  nothing said released");
	is_str(store_holder(st, &after), "a:1", "  a:1 still holds the lease");
	is_int(after, expires, "  until when it did");

	/* a renewed last at the step before; it stops a margin (5 s) before
	 * the store lets anybody else take the lease */
	sw_clock_step(LEASE_MS - LEASE_MS / 6 - 1000 - 1);
	ok(active(a), "the active engine is active a millisecond before the margin");
	sw_clock_step(1);
	ok(!active(a), "  and not at the margin, without a tick");
	is_int(sw_role_state(a), SW_ROLE_ACTIVE,
	       "  (its state says active until a tick or a drop)");
	is_int(tick(b), SW_ROLE_SAME, "  the standby cannot take the lease then");
	ok(!active(b), "  never two active at once");
}

/* a stops renewing (killed); b takes over once the lease ran out, and a's
 * tick after that finds it lost. */
static void test_takeover(struct sw_store *st, struct sw_role *a, struct sw_role *b)
{
	int64_t expires = 0, now;

	store_holder(st, &expires);
	sw_clock_step((expires - sw_clock_now() - 1) * 1000);
	is_int(tick(b), SW_ROLE_SAME, "a second before the lease runs out: still standby");
	sw_clock_step(1000);
	now = sw_clock_now();
	is_int(now, expires, "(the clock is at the store's expiry)");
	loglen = 0;
	is_int(tick(b), SW_ROLE_TOOK_OVER, "the standby takes over the second the lease runs out");
	ok(active(b), "  active");
	is_str(store_holder(st, NULL), "b:2", "  the store names it");
	is_int(sw_role_lease(b)->acquired_at, now, "  a new hold, begun now");
	is_int(logged("active: took lease 'alerts' as b:2"), 1, "  logged");
	is_int(tick(a), SW_ROLE_LOST, "the old holder's next tick: the lease is lost");
	is_int(sw_role_state(a), SW_ROLE_STANDBY, "  it is standby");
	ok(!active(a), "  and may not evaluate or send");
	is_int(logged("lease 'alerts' lost (now held by b:2)"), 1,
	       "  logged, naming the new holder");
	is_int(stats(a).losses, 1, "  one loss counted");
	is_str(store_holder(st, NULL), "b:2", "  b:2 still holds the lease");
	is_int(tick(a), SW_ROLE_SAME, "  its tick after that: standby, nothing changes");
}

/* b's process stalls past its lease with nobody else ticking, then ticks
 * again: the store says the hold began anew, so it starts afresh. */
static void test_broken_hold(struct sw_store *st, struct sw_role *a, struct sw_role *b)
{
	int64_t first = sw_role_lease(b)->acquired_at;

	(void)a;
	sw_clock_step(LEASE_MS + 1000);
	is_int(tick(b), SW_ROLE_TOOK_OVER, "a holder ticking after its lease ran out: a new hold");
	ok(sw_role_lease(b)->acquired_at > first, "  the store's acquired_at moved");
	is_int(stats(b).takeovers, 2, "  a second takeover counted");
	is_str(store_holder(st, NULL), "b:2", "  still b:2");
	loglen = 0;
	sw_role_drop(b, "found expired");
	is_int(sw_role_state(b), SW_ROLE_STANDBY, "a drop ends the active role at once");
	is_int(logged("lease 'alerts' lost (found expired)"), 1, "  logged with the reason");
	is_str(store_holder(st, NULL), "b:2", "  the store's lease is left as it is");
	is_int(tick(b), SW_ROLE_TOOK_OVER, "  the next tick takes the (unbroken) lease up afresh");
	sw_role_drop(a, "not active");
	is_int(stats(a).losses, 1, "a standby's drop is a no-op");
}

/* A clean stop: b releases, a takes over at the same instant. */
static void test_release(struct sw_store *st, struct sw_role *a, struct sw_role *b)
{
	int64_t now = sw_clock_now(), expires = 0;

	is_int(tick(a), SW_ROLE_SAME, "while b:2 holds the lease a stands by");
	loglen = 0;
	is_int(sw_role_release(b, now, err, sizeof(err)), SW_OK, "the active engine's release");
	is_str(err, "", "  no error");
	is_int(sw_role_state(b), SW_ROLE_STANDBY, "  standby afterwards");
	ok(!active(b), "  and may not evaluate or send");
	is_int(logged("lease 'alerts' released"), 1, "  logged");
	is_str(store_holder(st, &expires), "b:2", "  the row names its last holder");
	is_int(expires, now, "  and has run out now");
	is_int(tick(a), SW_ROLE_TOOK_OVER, "the standby takes over at once: the same second");
	is_str(store_holder(st, NULL), "a:1", "  the store names it");
	is_int(sw_role_release(b, now, err, sizeof(err)), SW_OK, "a second release by b: a no-op");
	is_str(store_holder(st, NULL), "a:1", "  a:1 keeps the lease");
	is_int(tick(b), SW_ROLE_SAME, "  b's tick: standby");
}

/* The store fails under the active engine a: active until the margin,
 * then lost; taken again once it answers. */
static void test_store_failing(struct sw_store *st, struct sw_role *a)
{
	uint64_t errors = stats(a).errors;

	sw_clock_step(sw_role_interval_ms(a));
	is_int(tick(a), SW_ROLE_SAME, "(a renews)");
	if (!ok(raw_exec(store_path, "ALTER TABLE leases RENAME TO leases_away") == 0,
		"the leases table moved away behind the store's back"))
		return;
	sw_clock_step(sw_role_interval_ms(a));
	is_int(sw_role_tick(a, sw_clock_now(), sw_clock_mono_ms(), err, sizeof(err)), SW_ROLE_SAME,
	       "a tick the store does not answer, within the margin: still active");
	ok(strncmp(err, "lease 'alerts': ", 16) == 0, "  the error is given (%s)", err);
	ok(active(a), "  active");
	is_int(stats(a).errors, errors + 1, "  an error counted");
	/* the margin (lease less a sixth) counts from the last renewal, a
	 * tick before the failed one */
	sw_clock_step(LEASE_MS - LEASE_MS / 6 - sw_role_interval_ms(a));
	ok(!active(a), "at the margin without a renewal: not active");
	is_int(sw_role_tick(a, sw_clock_now(), sw_clock_mono_ms(), err, sizeof(err)), SW_ROLE_LOST,
	       "  the next unanswered tick: lost");
	is_int(sw_role_state(a), SW_ROLE_STANDBY, "  standby");
	is_int(stats(a).errors, errors + 2, "  two errors counted");
	ok(raw_exec(store_path, "ALTER TABLE leases_away RENAME TO leases") == 0, "the table back");
	is_int(tick(a), SW_ROLE_TOOK_OVER, "  the next tick takes the lease up afresh");
	is_str(store_holder(st, NULL), "a:1", "  held by a:1");
}

static void test_bad_args(struct sw_store *st)
{
	char longname[SW_LEASE_NAME_MAX + 2];
	const char *bad[] = {"", longname};
	struct sw_role *r;

	is_str(sw_role_state_name(SW_ROLE_STANDBY), "standby", "state name: standby");
	is_str(sw_role_state_name(SW_ROLE_ACTIVE), "active", "state name: active");
	is_str(sw_role_state_name(SW_ROLE_LAST), "?", "state name out of range: ?");
	is_str(sw_role_state_name((enum sw_role_state)(-1)), "?", "  below range too");
	sw_role_free(NULL);
	ok(1, "sw_role_free(NULL) is a no-op");

	r = sw_role_new(st, "c:3", 0);
	is_int(sw_role_interval_ms(r), 333,
	       "a lease of 0 ms is taken as 1 s (a tick every 333 ms)");
	sw_role_set_lease(r, -5);
	is_int(sw_role_interval_ms(r), 333, "  a reload to -5 ms too");
	sw_role_set_lease(r, 60000);
	is_int(sw_role_interval_ms(r), 20000, "  a reload to 60 s: a tick every 20 s");
	sw_role_free(r);

	memset(longname, 'x', SW_LEASE_NAME_MAX + 1);
	longname[SW_LEASE_NAME_MAX + 1] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = sw_role_new(st, bad[i], LEASE_MS);
		is_int(sw_role_tick(r, sw_clock_now(), sw_clock_mono_ms(), err, sizeof(err)),
		       SW_ROLE_SAME, "an instance of %zu bytes: the tick changes nothing",
		       strlen(bad[i]));
		ok(strstr(err, "a holder of 1..128 bytes is required") != NULL,
		   "  the error says why (%s)", err);
		is_int(sw_role_state(r), SW_ROLE_STANDBY, "  standby");
		is_int(stats(r).errors, 1, "  an error counted");
		sw_role_free(r);
	}
	is_str(store_holder(st, NULL), "a:1", "the lease untouched by them");
}

/* A reload's new length is used from the next tick on. */
static void test_reload(struct sw_store *st, struct sw_role *a)
{
	int64_t expires = 0;

	sw_role_set_lease(a, 2 * LEASE_MS);
	is_int(tick(a), SW_ROLE_SAME, "a renewal after a reload to 60 s");
	store_holder(st, &expires);
	is_int(expires, sw_clock_now() + 2 * LEASE_MS / 1000, "  runs to now + 60 s");
	sw_clock_step(2 * LEASE_MS - 2 * LEASE_MS / 6 - 1);
	ok(active(a), "  active until its margin (10 s)");
	sw_clock_step(1);
	ok(!active(a), "  and not at it");
}

int main(void)
{
	struct sw_store *st = store_tmp_open();
	struct sw_role *a, *b;

	if (!st)
		return store_tmp_done(st);
	sw_clock_set_stepped(T0_MS);
	sw_log_set_sink(log_capture, NULL);
	a = sw_role_new(st, "a:1", LEASE_MS);
	b = sw_role_new(st, "b:2", LEASE_MS);
	is_str(sw_role_instance(a), "a:1", "the role keeps its instance name");

	test_acquire(st, a);
	test_standby(st, a, b);
	test_takeover(st, a, b);
	test_broken_hold(st, a, b);
	test_release(st, a, b);
	test_store_failing(st, a);
	test_bad_args(st);
	test_reload(st, a);

	sw_role_free(a);
	sw_role_free(b);
	sw_log_set_sink(NULL, NULL);
	sw_clock_reset();
	return store_tmp_done(st);
}
