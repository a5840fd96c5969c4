/*
 * test_loop.c - unit tests for lib/loop.c.
 *
 * Uses pipes and socketpairs for file events, short timers with generous
 * bounds (never tight timings), and signals sent to the process itself.
 * Signal tests check that callbacks run from the loop, not the handler.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/loop.h"
#include "tests/tap.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- file events ---- */

struct fd_rec {
	int calls;
	int fd;
	int events;
};

static void rec_cb(struct sw_loop *loop, int fd, int events, void *arg)
{
	struct fd_rec *r = arg;

	(void)loop;
	r->calls++;
	r->fd = fd;
	r->events = events;
}

static void test_fd_args(void)
{
	struct sw_loop *loop;
	struct fd_rec r = { 0 };
	int p[2], file, err;
	char path[] = "/tmp/test_loop_XXXXXX";
	enum sw_err rc;

	is_int(sw_loop_new(&loop), SW_OK, "loop_new");
	ok(pipe(p) == 0, "pipe");
	is_int(sw_loop_fd_add(loop, -1, SW_LOOP_READ, rec_cb, &r), SW_EINVAL,
	       "negative fd rejected");
	is_int(sw_loop_fd_add(loop, p[0], 0, rec_cb, &r), SW_EINVAL,
	       "empty mask rejected");
	is_int(sw_loop_fd_add(loop, p[0], 0x4, rec_cb, &r), SW_EINVAL,
	       "unknown mask bit rejected");
	is_int(sw_loop_fd_add(loop, p[0], SW_LOOP_READ, NULL, &r), SW_EINVAL,
	       "NULL callback rejected");
	is_int(sw_loop_fd_modify(loop, p[0], SW_LOOP_READ), SW_ENOTFOUND,
	       "modify of unwatched fd");
	is_int(sw_loop_fd_del(loop, p[0]), SW_ENOTFOUND, "del of unwatched fd");
	is_int(sw_loop_fd_del(loop, 100000), SW_ENOTFOUND,
	       "del of fd beyond table");
	is_int(sw_loop_fd_mask(loop, -5), 0, "mask of negative fd is 0");
	is_int(sw_loop_fd_add(loop, p[0], SW_LOOP_READ, rec_cb, &r), SW_OK,
	       "add pipe");
	is_int(sw_loop_fd_add(loop, p[0], SW_LOOP_READ, rec_cb, &r), SW_EDUP,
	       "second add is SW_EDUP");
	is_int(sw_loop_fd_modify(loop, p[0], 0), SW_EINVAL,
	       "modify to empty mask rejected");
	is_int(sw_loop_fd_mask(loop, p[0]), SW_LOOP_READ, "mask unchanged");
	rc = sw_loop_fd_add(loop, 999, SW_LOOP_READ, rec_cb, &r);
	err = errno;
	is_int(rc, SW_EIO, "closed fd: SW_EIO");
	is_int(err, EBADF, "errno kept (EBADF)");

	file = mkstemp(path);
	ok(file >= 0, "temp file");
	unlink(path);
	is_int(sw_loop_fd_add(loop, file, SW_LOOP_READ, rec_cb, &r), SW_EIO,
	       "regular file: SW_EIO (epoll refuses)");
	is_int(sw_loop_fd_mask(loop, file), 0, "failed add leaves no entry");
	close(file);
	sw_loop_free(loop);
	close(p[0]);
	close(p[1]);
	sw_loop_free(NULL);
}

static void test_fd_read(void)
{
	struct sw_loop *loop;
	struct fd_rec r = { 0 };
	int p[2];
	char c;

	sw_loop_new(&loop);
	ok(pipe(p) == 0, "pipe");
	sw_loop_fd_add(loop, p[0], SW_LOOP_READ, rec_cb, &r);
	is_int(sw_loop_run_once(loop, 0), SW_OK, "run_once, nothing ready");
	is_int(r.calls, 0, "empty pipe does not fire");

	ok(write(p[1], "x", 1) == 1, "write a byte");
	is_int(sw_loop_run_once(loop, 2000), SW_OK, "run_once");
	is_int(r.calls, 1, "readable pipe fired once");
	is_int(r.fd, p[0], "callback got the fd");
	is_int(r.events, SW_LOOP_READ, "callback got READ");

	is_int(sw_loop_run_once(loop, 0), SW_OK, "run_once again");
	is_int(r.calls, 2, "level-triggered: fires again while unread");
	ok(read(p[0], &c, 1) == 1, "drain");
	sw_loop_run_once(loop, 0);
	is_int(r.calls, 2, "drained pipe does not fire");

	close(p[1]);
	sw_loop_run_once(loop, 2000);
	is_int(r.calls, 3, "hang-up fires");
	is_int(r.events, SW_LOOP_READ, "hang-up reported as READ only");

	is_int(sw_loop_fd_del(loop, p[0]), SW_OK, "del");
	is_int(sw_loop_fd_mask(loop, p[0]), 0, "mask 0 after del");
	sw_loop_run_once(loop, 0);
	is_int(r.calls, 3, "removed fd does not fire");
	close(p[0]);
	sw_loop_free(loop);
}

static void test_fd_write_toggle(void)
{
	struct sw_loop *loop;
	struct fd_rec r = { 0 };
	int s[2];

	sw_loop_new(&loop);
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "socketpair");
	sw_loop_fd_add(loop, s[0], SW_LOOP_READ | SW_LOOP_WRITE, rec_cb, &r);
	sw_loop_run_once(loop, 2000);
	is_int(r.calls, 1, "writable socket fires");
	is_int(r.events, SW_LOOP_WRITE, "only WRITE fired");

	is_int(sw_loop_fd_modify(loop, s[0], SW_LOOP_READ), SW_OK,
	       "drop WRITE");
	is_int(sw_loop_fd_mask(loop, s[0]), SW_LOOP_READ, "mask is READ");
	sw_loop_run_once(loop, 0);
	is_int(r.calls, 1, "no WRITE event after dropping it");

	ok(write(s[1], "ab", 2) == 2, "peer writes");
	sw_loop_run_once(loop, 2000);
	is_int(r.calls, 2, "fires on data");
	is_int(r.events, SW_LOOP_READ, "only READ");

	is_int(sw_loop_fd_modify(loop, s[0], SW_LOOP_READ | SW_LOOP_WRITE),
	       SW_OK, "want WRITE again");
	sw_loop_run_once(loop, 2000);
	is_int(r.calls, 3, "fires");
	is_int(r.events, SW_LOOP_READ | SW_LOOP_WRITE, "READ|WRITE");
	is_int(sw_loop_fd_modify(loop, s[0], SW_LOOP_WRITE), SW_OK,
	       "WRITE only");
	sw_loop_run_once(loop, 2000);
	is_int(r.events, SW_LOOP_WRITE, "unread data not reported");
	close(s[0]);
	close(s[1]);
	sw_loop_free(loop);
}

/* Two readable fds whose callbacks each remove the other: whichever runs
 * first, the other must not be called (its event is stale). */
struct pair {
	int fd[2];    /* read ends */
	int wfd[2];   /* write ends */
	int calls[2];
	int replaced; /* re-add the removed fd number as an idle pipe */
	int idle[2];
	struct fd_rec idle_rec;
	int mask_only; /* instead of removing, drop READ from the other */
};

static void pair_cb(struct sw_loop *loop, int fd, int events, void *arg)
{
	struct pair *p = arg;
	int me = fd == p->fd[0] ? 0 : 1, other = 1 - me;

	(void)events;
	p->calls[me]++;
	if (p->calls[0] + p->calls[1] > 1)
		return;
	if (p->mask_only) {
		sw_loop_fd_modify(loop, p->fd[other], SW_LOOP_WRITE);
		return;
	}
	sw_loop_fd_del(loop, p->fd[other]);
	if (!p->replaced)
		return;
	/* Close it and put a fresh, idle pipe under the same number. */
	close(p->fd[other]);
	if (pipe(p->idle) == 0 && dup2(p->idle[0], p->fd[other]) >= 0)
		sw_loop_fd_add(loop, p->fd[other], SW_LOOP_READ, rec_cb,
			       &p->idle_rec);
}

static void pair_setup(struct sw_loop *loop, struct pair *p)
{
	int a[2], b[2];

	ok(pipe(a) == 0 && pipe(b) == 0, "two pipes");
	p->fd[0] = a[0];
	p->wfd[0] = a[1];
	p->fd[1] = b[0];
	p->wfd[1] = b[1];
	ok(write(a[1], "x", 1) == 1 && write(b[1], "y", 1) == 1,
	   "both readable");
	sw_loop_fd_add(loop, a[0], SW_LOOP_READ, pair_cb, p);
	sw_loop_fd_add(loop, b[0], SW_LOOP_READ, pair_cb, p);
}

static void pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		close(p->fd[i]);
		close(p->wfd[i]);
	}
	if (p->replaced) {
		close(p->idle[0]);
		close(p->idle[1]);
	}
}

static void test_fd_stale(void)
{
	struct sw_loop *loop;
	struct pair p;

	memset(&p, 0, sizeof(p));
	sw_loop_new(&loop);
	pair_setup(loop, &p);
	sw_loop_run_once(loop, 2000);
	is_int(p.calls[0] + p.calls[1], 1,
	       "fd removed by another callback in the same iteration is not "
	       "called");
	sw_loop_run_once(loop, 0);
	is_int(p.calls[0] + p.calls[1], 2, "survivor keeps firing");
	pair_close(&p);
	sw_loop_free(loop);

	memset(&p, 0, sizeof(p));
	p.replaced = 1;
	sw_loop_new(&loop);
	pair_setup(loop, &p);
	sw_loop_run_once(loop, 2000);
	is_int(p.calls[0] + p.calls[1], 1, "removed-and-closed fd not called");
	is_int(p.idle_rec.calls, 0,
	       "new fd under the same number gets no stale event");
	sw_loop_run_once(loop, 0);
	is_int(p.idle_rec.calls, 0, "idle replacement stays quiet");
	pair_close(&p);
	sw_loop_free(loop);

	memset(&p, 0, sizeof(p));
	p.mask_only = 1;
	sw_loop_new(&loop);
	pair_setup(loop, &p);
	sw_loop_run_once(loop, 2000);
	is_int(p.calls[0] + p.calls[1], 1,
	       "READ dropped by another callback is not reported");
	pair_close(&p);
	sw_loop_free(loop);
}

/* A callback that adds fds (growing the fd table) during dispatch. */
struct adder {
	int src[2], hi[2];
	int hi_fd;
	struct fd_rec hi_rec;
	int calls;
};

static void adder_cb(struct sw_loop *loop, int fd, int events, void *arg)
{
	struct adder *a = arg;
	char c;

	(void)events;
	a->calls++;
	if (read(fd, &c, 1) != 1 || a->hi_fd >= 0)
		return;
	if (pipe(a->hi) != 0)
		return;
	a->hi_fd = dup2(a->hi[0], 300);
	if (write(a->hi[1], "z", 1) != 1)
		return;
	sw_loop_fd_add(loop, a->hi_fd, SW_LOOP_READ, rec_cb, &a->hi_rec);
}

static void test_fd_add_in_callback(void)
{
	struct sw_loop *loop;
	struct adder a;

	memset(&a, 0, sizeof(a));
	a.hi_fd = -1;
	sw_loop_new(&loop);
	ok(pipe(a.src) == 0, "pipe");
	ok(write(a.src[1], "x", 1) == 1, "readable");
	sw_loop_fd_add(loop, a.src[0], SW_LOOP_READ, adder_cb, &a);
	sw_loop_run_once(loop, 2000);
	is_int(a.calls, 1, "adder ran");
	is_int(a.hi_fd, 300, "high fd created in callback");
	is_int(sw_loop_fd_mask(loop, 300), SW_LOOP_READ,
	       "fd added from a callback is watched");
	sw_loop_run_once(loop, 2000);
	is_int(a.hi_rec.calls, 1, "fd added from a callback fires later");
	is_int(a.hi_rec.fd, 300, "with its own fd");
	sw_loop_fd_del(loop, 300);
	sw_loop_fd_del(loop, a.src[0]);
	close(300);
	close(a.hi[0]);
	close(a.hi[1]);
	close(a.src[0]);
	close(a.src[1]);
	sw_loop_free(loop);
}

/* ---- timers ---- */

struct tlog {
	int order[16];
	int n;
	int64_t start;
	int64_t fired_at[16];
};

struct tctx {
	struct tlog *log;
	int tag;
	int repeats;      /* re-arm this many times */
	int64_t rearm_ms;
	uint64_t victim;  /* timer to delete when fired */
	int del_self;
	int set_self;     /* sw_loop_timer_set(self, 0) once, return NOMORE */
	int stop_after;   /* call sw_loop_stop on this firing */
	int calls;
};

static int64_t tctx_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct tctx *t = arg;

	t->calls++;
	if (t->log->n < 16) {
		t->log->fired_at[t->log->n] = sw_loop_now_ms(loop);
		t->log->order[t->log->n++] = t->tag;
	}
	if (t->victim)
		sw_loop_timer_del(loop, t->victim);
	if (t->stop_after && t->calls == t->stop_after)
		sw_loop_stop(loop);
	if (t->del_self) {
		sw_loop_timer_del(loop, id);
		return 0; /* ignored: the delete wins */
	}
	if (t->set_self && t->calls == 1) {
		sw_loop_timer_set(loop, id, 0);
		return SW_LOOP_NOMORE; /* ignored: the set wins */
	}
	if (t->repeats-- > 0)
		return t->rearm_ms;
	return SW_LOOP_NOMORE;
}

static void test_timer_args(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx c = { .log = &log };
	uint64_t a = 0, b = 0;

	sw_loop_new(&loop);
	is_int(sw_loop_timer_add(loop, -1, tctx_cb, &c, &a), SW_EINVAL,
	       "negative delay rejected");
	is_int(sw_loop_timer_add(loop, 10, NULL, &c, &a), SW_EINVAL,
	       "NULL callback rejected");
	is_int(sw_loop_timer_add(loop, 1000, tctx_cb, &c, &a), SW_OK, "add");
	is_int(sw_loop_timer_add(loop, 1000, tctx_cb, &c, &b), SW_OK, "add");
	ok(a != 0 && b > a, "ids are non-zero and increasing");
	is_int(sw_loop_timer_count(loop), 2, "two timers");
	is_int(sw_loop_timer_set(loop, a, -5), SW_EINVAL, "set negative");
	is_int(sw_loop_timer_set(loop, 12345, 5), SW_ENOTFOUND,
	       "set unknown id");
	is_int(sw_loop_timer_del(loop, 0), SW_ENOTFOUND, "del id 0");
	is_int(sw_loop_timer_del(loop, a), SW_OK, "del");
	is_int(sw_loop_timer_del(loop, a), SW_ENOTFOUND, "second del");
	is_int(sw_loop_timer_set(loop, a, 5), SW_ENOTFOUND, "set deleted");
	is_int(sw_loop_timer_add(loop, 1000, tctx_cb, &c, &a), SW_OK, "add");
	ok(a > b, "ids never reused");
	is_int(sw_loop_timer_add(loop, INT64_MAX, tctx_cb, &c, &a), SW_OK,
	       "huge delay is clamped, not overflowed");
	sw_loop_run_once(loop, 0);
	is_int(c.calls, 0, "nothing due");
	is_int(sw_loop_timer_count(loop), 3, "armed timers left to free");
	sw_loop_free(loop); /* frees armed timers (ASan checks) */
}

static void test_timer_order(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx c[3];
	int64_t delays[3] = { 60, 20, 40 };
	uint64_t id;
	int64_t t0, elapsed;

	sw_loop_new(&loop);
	memset(c, 0, sizeof(c));
	log.start = sw_loop_now_ms(loop);
	for (int i = 0; i < 3; i++) {
		c[i].log = &log;
		c[i].tag = i;
		sw_loop_timer_add(loop, delays[i], tctx_cb, &c[i], &id);
	}
	c[0].stop_after = 1;
	t0 = mono_ms();
	is_int(sw_loop_run(loop), SW_OK, "run until the last timer stops it");
	elapsed = mono_ms() - t0;
	is_int(log.n, 3, "three timers fired");
	ok(log.order[0] == 1 && log.order[1] == 2 && log.order[2] == 0,
	   "fired in due order (20, 40, 60 ms)");
	ok(log.fired_at[0] - log.start >= 20, "first not early (%lld ms)",
	   (long long)(log.fired_at[0] - log.start));
	ok(log.fired_at[2] - log.start >= 60, "last not early (%lld ms)",
	   (long long)(log.fired_at[2] - log.start));
	ok(elapsed < 30000, "run did not hang (%lld ms)", /* a bound for a hang, not a timing */
	   (long long)elapsed);
	is_int(sw_loop_timer_count(loop), 0, "NOMORE deleted all");
	sw_loop_free(loop);
}

static void test_timer_rearm(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx c = { .log = &log, .repeats = 3, .rearm_ms = 5 };
	struct tctx z = { .log = &log, .repeats = 1000, .rearm_ms = 0 };
	uint64_t id, zid;
	int64_t deadline = mono_ms() + 30000; /* only a failure bound */

	sw_loop_new(&loop);
	sw_loop_timer_add(loop, 5, tctx_cb, &c, &id);
	while (sw_loop_timer_count(loop) && mono_ms() < deadline)
		sw_loop_run_once(loop, -1);
	is_int(c.calls, 4, "re-armed 3 times via return value");
	is_int(sw_loop_timer_count(loop), 0, "then NOMORE deleted it");
	is_int(sw_loop_timer_del(loop, id), SW_ENOTFOUND, "id is gone");
	ok(log.fired_at[3] - log.fired_at[0] >= 15,
	   "re-arm delays honoured (%lld ms)",
	   (long long)(log.fired_at[3] - log.fired_at[0]));

	/* A 0 ms re-arm fires once per iteration, not in a tight loop. */
	sw_loop_timer_add(loop, 0, tctx_cb, &z, &zid);
	sw_loop_run_once(loop, 0);
	is_int(z.calls, 1, "0 ms timer: one call in first iteration");
	sw_loop_run_once(loop, 0);
	is_int(z.calls, 2, "0 ms re-arm: one call per iteration");
	is_int(sw_loop_timer_del(loop, zid), SW_OK, "delete it");
	sw_loop_run_once(loop, 0);
	is_int(z.calls, 2, "deleted timer does not fire");
	sw_loop_free(loop);
}

static void test_timer_delete_inside(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx a = { .log = &log, .tag = 1 };
	struct tctx b = { .log = &log, .tag = 2 };
	struct tctx s = { .log = &log, .tag = 3, .del_self = 1 };
	struct tctx r = { .log = &log, .tag = 4, .set_self = 1 };
	uint64_t ida, idb, ids, idr;

	sw_loop_new(&loop);
	/* Both due in the same iteration; a runs first and deletes b. */
	sw_loop_timer_add(loop, 0, tctx_cb, &a, &ida);
	sw_loop_timer_add(loop, 0, tctx_cb, &b, &idb);
	a.victim = idb;
	sw_loop_timer_add(loop, 0, tctx_cb, &s, &ids);
	sw_loop_timer_add(loop, 0, tctx_cb, &r, &idr);
	sw_loop_run_once(loop, 0);
	is_int(a.calls, 1, "a fired");
	is_int(b.calls, 0, "b deleted by a before its turn: not called");
	is_int(s.calls, 1, "self-deleting timer fired");
	is_int(sw_loop_timer_del(loop, ids), SW_ENOTFOUND,
	       "deleted itself although it returned 0");
	is_int(r.calls, 1, "self-setting timer fired");
	is_int(sw_loop_timer_count(loop), 1,
	       "only the self-set timer is left (set beat NOMORE)");
	sw_loop_run_once(loop, 0);
	is_int(r.calls, 2, "self-set timer fired again");
	is_int(s.calls, 1, "self-deleted timer did not");
	is_int(sw_loop_timer_count(loop), 0, "then returned NOMORE");
	sw_loop_free(loop);
}

/* Timers armed by setup code count from the real time, not from a
 * stale cached time. */
static void test_timer_setup_clock(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx c = { .log = &log };
	struct timespec nap = { 0, 100 * 1000000 };
	int64_t created, deadline = mono_ms() + 30000; /* only a failure bound */
	uint64_t id;

	sw_loop_new(&loop);
	created = sw_loop_now_ms(loop);
	nanosleep(&nap, NULL);
	sw_loop_timer_add(loop, 50, tctx_cb, &c, &id);
	ok(sw_loop_now_ms(loop) - created >= 100,
	   "add outside the loop refreshed the time");
	while (!c.calls && mono_ms() < deadline)
		sw_loop_run_once(loop, -1);
	is_int(c.calls, 1, "fired");
	ok(log.fired_at[0] - created >= 150,
	   "due 50 ms after the add, not after creation (%lld ms)",
	   (long long)(log.fired_at[0] - created));
	sw_loop_free(loop);
}

/* ---- timers on the one clock (lib/clock.h) ---- */

#define STEP_T0 1772418600000LL /* 2026-03-02T02:30:00Z */

/* On a stepped clock a timer fires only once the clock is stepped past its
 * due time, in due order, at the stepped reading; waiting in real time
 * moves nothing. */
static void test_timer_stepped(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx c[3];
	int64_t delays[3] = { 60000, 20000, 40000 };
	uint64_t id;

	sw_clock_set_stepped(STEP_T0);
	sw_loop_new(&loop);
	is_int(sw_loop_now_ms(loop), STEP_T0, "stepped: the loop reads the stepped clock");
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 3; i++) {
		c[i].log = &log;
		c[i].tag = i;
		sw_loop_timer_add(loop, delays[i], tctx_cb, &c[i], &id);
	}
	sw_loop_run_once(loop, 0);
	sw_loop_run_once(loop, 50); /* 50 real ms: the clock does not move */
	is_int(log.n, 0, "stepped: nothing fires before a step");
	sw_clock_step(19999);
	sw_loop_run_once(loop, 0);
	is_int(log.n, 0, "stepped: 1 ms short of the first, nothing fires");
	sw_clock_step(1);
	sw_loop_run_once(loop, 0);
	is_int(log.n, 1, "stepped: stepped to the first due time, it fires");
	is_int(log.order[0], 1, "stepped: the 20 s timer first");
	is_int(log.fired_at[0], STEP_T0 + 20000, "stepped: at the stepped reading");
	sw_clock_step(100000);
	sw_loop_run_once(loop, 0);
	is_int(log.n, 3, "stepped past both others: both fire in one iteration");
	ok(log.order[1] == 2 && log.order[2] == 0, "stepped: in due order (40 s, 60 s)");
	is_int(log.fired_at[2], STEP_T0 + 120000, "stepped: at the stepped reading");
	is_int(sw_loop_timer_count(loop), 0, "stepped: all done");
	sw_loop_free(loop);
	sw_clock_reset();
}

/* A re-armed timer on a stepped clock: one firing per step of its delay,
 * and one only however far one step goes. */
static void test_timer_stepped_rearm(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx c = { .log = &log, .repeats = 5, .rearm_ms = 1000 };
	uint64_t id;

	sw_clock_set_stepped(STEP_T0);
	sw_loop_new(&loop);
	sw_loop_timer_add(loop, 1000, tctx_cb, &c, &id);
	for (int i = 1; i <= 3; i++) {
		sw_clock_step(1000);
		sw_loop_run_once(loop, 0);
		sw_loop_run_once(loop, 0);
		is_int(c.calls, i, "stepped re-arm: step %d of 1 s, %d firing(s)", i, i);
	}
	sw_clock_step(60000);
	sw_loop_run_once(loop, 0);
	is_int(c.calls, 4, "stepped re-arm: a long step fires it once");
	sw_loop_run_once(loop, 0);
	is_int(c.calls, 4, "stepped re-arm: its next due time is after the step");
	sw_clock_step(1000);
	sw_loop_run_once(loop, 0);
	is_int(c.calls, 5, "stepped re-arm: and comes with the next step");
	is_int(log.fired_at[4] - log.fired_at[3], 1000, "stepped re-arm: due 1 s after it fired");
	sw_loop_free(loop);
	sw_clock_reset();
}

/* A simulated clock at 1000x: a 60 s timer fires (within the failure bound
 * of 30 real s, 60 ms expected), not early on the simulated clock, in due
 * order with a 30 s one. */
static void test_timer_fast(void)
{
	struct sw_clock_spec spec = { .start_ms = STEP_T0, .speed = 1000, .anchor_ms = -1 };
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx a = { .log = &log, .tag = 0 }, b = { .log = &log, .tag = 1 };
	int64_t deadline = mono_ms() + 30000; /* only a failure bound */
	uint64_t id;

	sw_clock_apply(&spec);
	sw_loop_new(&loop);
	log.start = sw_loop_now_ms(loop);
	ok(log.start >= STEP_T0, "1000x: the loop reads the simulated clock");
	sw_loop_timer_add(loop, 60000, tctx_cb, &a, &id);
	sw_loop_timer_add(loop, 30000, tctx_cb, &b, &id);
	while (sw_loop_timer_count(loop) && mono_ms() < deadline)
		sw_loop_run_once(loop, -1);
	is_int(log.n, 2, "1000x: both timers fired");
	ok(log.order[0] == 1 && log.order[1] == 0, "1000x: in due order");
	ok(log.fired_at[1] - log.start >= 60000, "1000x: the 60 s timer not early (%lld sim ms)",
	   (long long)(log.fired_at[1] - log.start));
	sw_loop_free(loop);
	sw_clock_reset();
}

/* 1000 timers, a third deleted before running: each survivor fires once,
 * in due order, never early. */
#define MANY 1000
struct many {
	int64_t due[MANY]; /* time of add + delay */
	int fired[MANY];
	int64_t last_due;
	int out_of_order, early;
};

static struct many many;

static int64_t many_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	int i = (int)(intptr_t)arg;

	(void)id;
	many.fired[i]++;
	if (many.due[i] < many.last_due)
		many.out_of_order++;
	many.last_due = many.due[i];
	if (sw_loop_now_ms(loop) < many.due[i])
		many.early++;
	return SW_LOOP_NOMORE;
}

static void test_timer_many(void)
{
	struct sw_loop *loop;
	static uint64_t ids[MANY];
	int64_t deadline = mono_ms() + 30000; /* only a failure bound */
	int bad = 0;

	memset(&many, 0, sizeof(many));
	sw_loop_new(&loop);
	for (int i = 0; i < MANY; i++) {
		int64_t delay = (i * 7919) % 50;

		sw_loop_timer_add(loop, delay, many_cb, (void *)(intptr_t)i,
				  &ids[i]);
		many.due[i] = sw_loop_now_ms(loop) + delay;
	}
	for (int i = 0; i < MANY; i += 3)
		if (sw_loop_timer_del(loop, ids[i]) != SW_OK)
			bad++;
	is_int(bad, 0, "deleted every third timer");
	is_int(sw_loop_timer_count(loop), MANY - (MANY + 2) / 3,
	       "count after deletes");
	while (sw_loop_timer_count(loop) && mono_ms() < deadline)
		sw_loop_run_once(loop, -1);
	is_int(sw_loop_timer_count(loop), 0, "all fired");
	for (int i = 0; i < MANY; i++)
		if (many.fired[i] != (i % 3 ? 1 : 0))
			bad++;
	is_int(bad, 0, "survivors fired exactly once, deleted never");
	is_int(many.out_of_order, 0, "fired in due order");
	is_int(many.early, 0, "none fired early");
	sw_loop_free(loop);
}

/* Many timers re-armed out of order with sw_loop_timer_set (curl's
 * pattern): heap stays consistent, the earliest fires first. */
static void test_timer_set_many(void)
{
	struct sw_loop *loop;
	struct tlog log = { 0 };
	struct tctx c[20];
	uint64_t ids[20];
	int rc = 0;

	memset(c, 0, sizeof(c));
	sw_loop_new(&loop);
	for (int i = 0; i < 20; i++) {
		c[i].log = &log;
		c[i].tag = i;
		sw_loop_timer_add(loop, 100000 + i, tctx_cb, &c[i], &ids[i]);
	}
	for (int round = 0; round < 50; round++)
		for (int i = 0; i < 20; i++)
			rc |= sw_loop_timer_set(loop, ids[i],
						10000 + (i * 13 + round) % 20);
	rc |= sw_loop_timer_set(loop, ids[7], 0);
	rc |= sw_loop_timer_set(loop, ids[3], 0);
	is_int(rc, SW_OK, "1000 sets succeeded");
	sw_loop_run_once(loop, 1000);
	is_int(log.n, 2, "only the two timers set to 0 fired");
	ok(log.order[0] == 7 && log.order[1] == 3,
	   "equal due times fire in arming order");
	is_int(sw_loop_timer_count(loop), 18, "the rest still armed");
	sw_loop_free(loop);
}

/* ---- before-sleep and stop ---- */

static int hook_calls;

static void hook(struct sw_loop *loop, void *arg)
{
	(void)arg;
	if (++hook_calls == 3)
		sw_loop_stop(loop);
}

static void test_before_sleep_stop(void)
{
	struct sw_loop *loop;
	int64_t t0;

	sw_loop_new(&loop);
	sw_loop_set_before_sleep(loop, hook, NULL);
	sw_loop_run_once(loop, 0);
	sw_loop_run_once(loop, 0);
	is_int(hook_calls, 2, "before-sleep runs every iteration");
	/* Third call stops; the wait must not block (no fds, no timers). */
	t0 = mono_ms();
	is_int(sw_loop_run(loop), SW_OK, "run returns after stop");
	ok(mono_ms() - t0 < 30000, "stop from before-sleep does not block"); /* it would for ever */
	is_int(hook_calls, 3, "stopped in the iteration that asked");
	sw_loop_set_before_sleep(loop, NULL, NULL);
	sw_loop_run_once(loop, 0);
	is_int(hook_calls, 3, "hook cleared");
	sw_loop_free(loop);
}

/* ---- signals ---- */

static volatile int in_loop;  /* set by the test around run calls */
static int sig_calls[NSIG];
static int sig_bad_context;

static void sig_cb(struct sw_loop *loop, int signo, void *arg)
{
	sigset_t cur;

	(void)arg;
	/* Only the loop (not the handler) runs while in_loop is 1 and the
	 * signal is blocked again. */
	sigprocmask(SIG_SETMASK, NULL, &cur);
	if (!in_loop || sigismember(&cur, signo) != 1)
		sig_bad_context++;
	sig_calls[signo]++;
	if (signo == SIGTERM)
		sw_loop_stop(loop);
}

static int blocked(int signo)
{
	sigset_t cur;

	sigprocmask(SIG_SETMASK, NULL, &cur);
	return sigismember(&cur, signo) == 1;
}

static enum sw_err run_once_marked(struct sw_loop *loop, int ms)
{
	enum sw_err rc;

	in_loop = 1;
	rc = sw_loop_run_once(loop, ms);
	in_loop = 0;
	return rc;
}

static int64_t kill_term_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	(void)arg;
	kill(getpid(), SIGTERM);
	return SW_LOOP_NOMORE;
}

/* Stops a run that the signal under test failed to stop. */
static int64_t watchdog_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	sw_loop_stop(loop);
	return SW_LOOP_NOMORE;
}

static void test_signals(void)
{
	struct sw_loop *loop;
	struct sigaction sa;
	sigset_t set;
	int64_t t0;
	uint64_t id, wid;

	sw_loop_new(&loop);
	is_int(sw_loop_watch_signal(loop, SIGKILL, sig_cb, NULL), SW_EINVAL,
	       "SIGKILL rejected");
	is_int(sw_loop_watch_signal(loop, 0, sig_cb, NULL), SW_EINVAL,
	       "signal 0 rejected");
	is_int(sw_loop_watch_signal(loop, NSIG, sig_cb, NULL), SW_EINVAL,
	       "NSIG rejected");
	is_int(sw_loop_watch_signal(loop, SIGUSR1, NULL, NULL), SW_EINVAL,
	       "NULL callback rejected");
	is_int(sw_loop_unwatch_signal(loop, SIGUSR1), SW_ENOTFOUND,
	       "unwatch unwatched");
	ok(!blocked(SIGUSR1), "SIGUSR1 not blocked before watching");
	is_int(sw_loop_watch_signal(loop, SIGUSR1, sig_cb, NULL), SW_OK,
	       "watch SIGUSR1");
	is_int(sw_loop_watch_signal(loop, SIGUSR1, sig_cb, NULL), SW_EDUP,
	       "second watch is SW_EDUP");
	ok(blocked(SIGUSR1), "watched signal is blocked outside the wait");
	sigaction(SIGUSR1, NULL, &sa);
	ok(!(sa.sa_flags & SA_RESTART), "SA_RESTART off");

	/* Raised before running: pending, must wake the first wait. */
	raise(SIGUSR1);
	is_int(sig_calls[SIGUSR1], 0, "not called synchronously by raise");
	t0 = mono_ms();
	is_int(run_once_marked(loop, 60000), SW_OK, "run_once");
	ok(mono_ms() - t0 < 30000, "pending signal interrupted the wait"); /* not the 60 s */
	is_int(sig_calls[SIGUSR1], 1, "callback ran from the loop");

	/* Two deliveries between iterations coalesce into one call. */
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	run_once_marked(loop, 60000);
	is_int(sig_calls[SIGUSR1], 2, "kill(getpid()) delivered once");
	run_once_marked(loop, 0);
	is_int(sig_calls[SIGUSR1], 2, "no spurious repeat");

	/* Let the handler run outside the wait: it must only set the flag;
	 * the callback comes at the next iteration even with timeout 0. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), SIGUSR1); /* handler runs before kill() returns */
	sigprocmask(SIG_BLOCK, &set, NULL);
	is_int(sig_calls[SIGUSR1], 2, "handler did not call the callback");
	t0 = mono_ms();
	run_once_marked(loop, 60000);
	ok(mono_ms() - t0 < 30000, "a flag set outside the wait skips the wait");
	is_int(sig_calls[SIGUSR1], 3, "flag picked up by the next iteration");

	/* Several signals; SIGTERM (sent from a timer) stops the loop. */
	is_int(sw_loop_watch_signal(loop, SIGHUP, sig_cb, NULL), SW_OK,
	       "watch SIGHUP");
	is_int(sw_loop_watch_signal(loop, SIGINT, sig_cb, NULL), SW_OK,
	       "watch SIGINT");
	is_int(sw_loop_watch_signal(loop, SIGTERM, sig_cb, NULL), SW_OK,
	       "watch SIGTERM");
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGINT);
	sw_loop_timer_add(loop, 20, kill_term_cb, NULL, &id);
	sw_loop_timer_add(loop, 60000, watchdog_cb, NULL, &wid);
	t0 = mono_ms();
	in_loop = 1;
	is_int(sw_loop_run(loop), SW_OK, "run until SIGTERM stops it");
	in_loop = 0;
	ok(mono_ms() - t0 < 30000, "stopped promptly"); /* not by the 60 s watchdog */
	is_int(sw_loop_timer_del(loop, wid), SW_OK, "watchdog did not fire");
	is_int(sig_calls[SIGHUP], 1, "SIGHUP callback");
	is_int(sig_calls[SIGINT], 1, "SIGINT callback");
	is_int(sig_calls[SIGTERM], 1, "SIGTERM callback");
	is_int(sig_bad_context, 0, "callbacks ran in loop context, signal "
	       "blocked");

	/* Unwatch with a delivery pending: dropped, disposition restored. */
	raise(SIGUSR1);
	is_int(sw_loop_unwatch_signal(loop, SIGUSR1), SW_OK, "unwatch");
	sigaction(SIGUSR1, NULL, &sa);
	ok(sa.sa_handler == SIG_DFL, "default disposition restored");
	ok(!blocked(SIGUSR1), "unblocked again (and the pending one dropped)");
	raise(SIGHUP);
	sw_loop_free(loop); /* restores SIGHUP, SIGINT, SIGTERM */
	sigaction(SIGTERM, NULL, &sa);
	ok(sa.sa_handler == SIG_DFL, "free restored SIGTERM");
	ok(!blocked(SIGTERM) && !blocked(SIGHUP), "free unblocked them");
	is_int(sig_calls[SIGHUP], 1, "pending SIGHUP dropped at free");
}

/* A signal blocked before watching stays blocked after unwatching. */
static void test_signal_preblocked(void)
{
	struct sw_loop *loop;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sw_loop_new(&loop);
	sw_loop_watch_signal(loop, SIGUSR2, sig_cb, NULL);
	raise(SIGUSR2);
	run_once_marked(loop, 60000);
	is_int(sig_calls[SIGUSR2], 1, "pre-blocked signal still delivered");
	sw_loop_free(loop);
	ok(blocked(SIGUSR2), "left blocked as found");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* A 0 ms timer keeps the loop busy; it raises SIGUSR2 on its 3rd call and
 * counts its calls. */
static int busy_calls, busy_raised_at;

static int64_t busy_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	(void)arg;
	if (++busy_calls == 3) {
		busy_raised_at = busy_calls;
		raise(SIGUSR2); /* blocked: stays pending */
	}
	return busy_calls < 1000 ? 0 : SW_LOOP_NOMORE;
}

/* epoll_pwait with a 0 timeout does not deliver a pending signal by
 * itself: a loop kept busy must still see it at once. */
static void test_signal_busy_loop(void)
{
	struct sw_loop *loop;
	uint64_t id;
	int i;

	sw_loop_new(&loop);
	sig_calls[SIGUSR2] = 0;
	sw_loop_watch_signal(loop, SIGUSR2, sig_cb, NULL);
	sw_loop_timer_add(loop, 0, busy_cb, NULL, &id);
	for (i = 0; i < 20 && sig_calls[SIGUSR2] == 0; i++)
		sw_loop_run_once(loop, 0);
	is_int(sig_calls[SIGUSR2], 1, "busy loop: the signal is handled");
	ok(busy_calls - busy_raised_at <= 1,
	   "busy loop: within one iteration of being raised (%d)", busy_calls - busy_raised_at);
	sw_loop_unwatch_signal(loop, SIGUSR2);
	sw_loop_free(loop);
}

int main(void)
{
	alarm(120); /* a broken loop fails the test instead of hanging it */
	test_fd_args();
	test_fd_read();
	test_fd_write_toggle();
	test_fd_stale();
	test_fd_add_in_callback();
	test_timer_args();
	test_timer_order();
	test_timer_rearm();
	test_timer_setup_clock();
	test_timer_stepped();
	test_timer_stepped_rearm();
	test_timer_fast();
	test_timer_delete_inside();
	test_timer_many();
	test_timer_set_many();
	test_before_sleep_stop();
	test_signals();
	test_signal_preblocked();
	test_signal_busy_loop();
	return tap_done();
}
