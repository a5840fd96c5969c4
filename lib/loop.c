/*
 * loop.c - epoll event loop with monotonic timers and safe signal delivery.
 *
 * Design (after redis ae.c):
 * - File events live in an array indexed by fd.  Each slot carries a
 *   generation number that is bumped whenever the fd is added; the epoll
 *   data word holds (generation << 32 | fd).  Dispatch looks the slot up
 *   again for every collected event, so an fd removed by an earlier
 *   callback of the same iteration - or removed and re-added under the
 *   same number - never receives a stale event.  Fired bits are masked
 *   with the current registration, so a mask change takes effect at once.
 * - Timers sit in a binary min-heap ordered by (due time, arming
 *   sequence) and in a small hash by id for set/delete.  Ids are a 64-bit
 *   counter, never reused.  A timer is taken off the heap while its
 *   callback runs; only timers armed before the iteration began fire in
 *   it, so a 0 ms re-arm cannot starve the loop.
 * - Time is the one clock's (lib/clock.h): due times are in its monotonic
 *   milliseconds, and the wait for the next timer is converted to real
 *   milliseconds by sw_clock_real_wait_ms(), so on a simulated clock the
 *   timers run at its speed and on a stepped one they fire only once the
 *   clock has been stepped past them.
 * - Signals: the handler only sets sig_atomic_t flags.  Watched signals
 *   stay blocked except inside epoll_pwait(), whose mask unblocks them, so
 *   one arriving just before the wait interrupts it (no lost wakeup).
 *   Callbacks run after the wait returns, before file events.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/loop.h"
#include "lib/xmalloc.h"

#define LOOP_MAX_EVENTS 256  /* events collected per wait */
#define LOOP_HASH_MIN 64     /* initial timer hash buckets (power of 2) */
#define LOOP_NOT_IN_HEAP SIZE_MAX

struct loop_fd {
	sw_loop_fd_fn *fn;
	void *arg;
	int mask;     /* SW_LOOP_* bits; 0 = slot unused */
	uint32_t gen; /* bumped on every add; tags epoll events */
};

struct loop_timer {
	uint64_t id;
	int64_t when;              /* due time, monotonic ms */
	uint64_t seq;              /* arming order: ties, and this iteration */
	sw_loop_timer_fn *fn;
	void *arg;
	size_t heap_idx;           /* index in loop->heap or LOOP_NOT_IN_HEAP */
	struct loop_timer *hnext;  /* hash chain */
	bool running;              /* its callback is on the stack */
	bool rearmed;              /* sw_loop_timer_set() during its callback */
	bool deleted;              /* sw_loop_timer_del() during its callback */
};

struct loop_sig {
	sw_loop_signal_fn *fn;
	void *arg;
	struct sigaction old; /* disposition to restore */
	bool was_blocked;     /* blocked before we watched it */
};

struct sw_loop {
	int epfd;
	struct loop_fd *fds;   /* indexed by fd */
	size_t nfds;
	struct epoll_event events[LOOP_MAX_EVENTS];

	struct loop_timer **heap;
	size_t heap_len, heap_alloc;
	struct loop_timer **hash; /* chains by id & (hash_size - 1) */
	size_t hash_size;
	size_t ntimers;           /* timers in the hash */
	uint64_t next_id, next_seq;
	int64_t now;              /* cached monotonic ms */

	sw_loop_hook_fn *before_sleep;
	void *before_sleep_arg;

	struct loop_sig *sigs[NSIG];
	size_t nsigs;
	sigset_t wait_mask;       /* mask during epoll_pwait */
	bool stop;
	bool in_iteration;        /* inside sw_loop_run_once() */
};

/* Written by the handler, read and cleared by the loop while the signals
 * are blocked. */
static volatile sig_atomic_t sig_pending[NSIG];
static volatile sig_atomic_t sig_any;

static void loop_sig_handler(int signo)
{
	if (signo > 0 && signo < NSIG)
		sig_pending[signo] = 1;
	sig_any = 1;
}

static void loop_update_now(struct sw_loop *loop)
{
	loop->now = sw_clock_mono_ms();
}

enum sw_err sw_loop_new(struct sw_loop **ret_loop)
{
	struct sw_loop *loop;
	int epfd;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return SW_EIO;
	loop = xcalloc(1, sizeof(*loop));
	loop->epfd = epfd;
	loop->hash_size = LOOP_HASH_MIN;
	loop->hash = xcalloc(loop->hash_size, sizeof(*loop->hash));
	loop->next_id = 1;
	sigemptyset(&loop->wait_mask);
	loop_update_now(loop);
	*ret_loop = loop;
	return SW_OK;
}

/* ---- file events ---- */

static bool mask_valid(int mask)
{
	return mask != 0 && (mask & ~(SW_LOOP_READ | SW_LOOP_WRITE)) == 0;
}

static struct loop_fd *fd_slot(const struct sw_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nfds || !loop->fds[fd].mask)
		return NULL;
	return &loop->fds[fd];
}

static int fd_ctl(struct sw_loop *loop, int op, int fd,
		  const struct loop_fd *slot, int mask)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	if (mask & SW_LOOP_READ)
		ev.events |= EPOLLIN;
	if (mask & SW_LOOP_WRITE)
		ev.events |= EPOLLOUT;
	ev.data.u64 = (uint64_t)slot->gen << 32 | (uint32_t)fd;
	return epoll_ctl(loop->epfd, op, fd, &ev);
}

enum sw_err sw_loop_fd_add(struct sw_loop *loop, int fd, int mask,
			   sw_loop_fd_fn *fn, void *arg)
{
	struct loop_fd *slot;

	if (fd < 0 || !mask_valid(mask) || !fn)
		return SW_EINVAL;
	if (fd_slot(loop, fd))
		return SW_EDUP;
	if ((size_t)fd >= loop->nfds) {
		size_t n = loop->nfds ? loop->nfds : 16;

		while (n <= (size_t)fd)
			n *= 2;
		loop->fds = xreallocarray(loop->fds, n, sizeof(*loop->fds));
		memset(loop->fds + loop->nfds, 0,
		       (n - loop->nfds) * sizeof(*loop->fds));
		loop->nfds = n;
	}
	slot = &loop->fds[fd];
	slot->gen++;
	if (fd_ctl(loop, EPOLL_CTL_ADD, fd, slot, mask) < 0)
		return SW_EIO;
	slot->fn = fn;
	slot->arg = arg;
	slot->mask = mask;
	return SW_OK;
}

enum sw_err sw_loop_fd_modify(struct sw_loop *loop, int fd, int mask)
{
	struct loop_fd *slot;

	if (!mask_valid(mask))
		return SW_EINVAL;
	slot = fd_slot(loop, fd);
	if (!slot)
		return SW_ENOTFOUND;
	if (mask == slot->mask)
		return SW_OK;
	if (fd_ctl(loop, EPOLL_CTL_MOD, fd, slot, mask) < 0)
		return SW_EIO;
	slot->mask = mask;
	return SW_OK;
}

enum sw_err sw_loop_fd_del(struct sw_loop *loop, int fd)
{
	struct loop_fd *slot = fd_slot(loop, fd);

	if (!slot)
		return SW_ENOTFOUND;
	/* Fails harmlessly (EBADF/ENOENT) if fd was closed already. */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	slot->mask = 0;
	slot->fn = NULL;
	slot->arg = NULL;
	return SW_OK;
}

int sw_loop_fd_mask(const struct sw_loop *loop, int fd)
{
	const struct loop_fd *slot = fd_slot(loop, fd);

	return slot ? slot->mask : 0;
}

static void loop_dispatch_fds(struct sw_loop *loop, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t data = loop->events[i].data.u64;
		uint32_t ev = loop->events[i].events;
		int fd = (int)(uint32_t)data;
		struct loop_fd *slot = fd_slot(loop, fd);
		int fired = 0;

		/* Removed, or removed and re-added, earlier this iteration. */
		if (!slot || slot->gen != (uint32_t)(data >> 32))
			continue;
		if (ev & EPOLLIN)
			fired |= SW_LOOP_READ;
		if (ev & EPOLLOUT)
			fired |= SW_LOOP_WRITE;
		if (ev & (EPOLLERR | EPOLLHUP))
			fired |= SW_LOOP_READ | SW_LOOP_WRITE;
		fired &= slot->mask;
		if (fired)
			slot->fn(loop, fd, fired, slot->arg);
	}
}

/* ---- timers: heap ---- */

static bool timer_before(const struct loop_timer *a,
			 const struct loop_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_place(struct sw_loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_sift_up(struct sw_loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_place(loop, i, t);
}

static void heap_sift_down(struct sw_loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= loop->heap_len)
			break;
		if (c + 1 < loop->heap_len &&
		    timer_before(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_before(loop->heap[c], t))
			break;
		heap_place(loop, i, loop->heap[c]);
		i = c;
	}
	heap_place(loop, i, t);
}

static void heap_push(struct sw_loop *loop, struct loop_timer *t)
{
	if (loop->heap_len == loop->heap_alloc) {
		loop->heap_alloc = loop->heap_alloc ? loop->heap_alloc * 2 : 64;
		loop->heap = xreallocarray(loop->heap, loop->heap_alloc,
					   sizeof(*loop->heap));
	}
	heap_place(loop, loop->heap_len++, t);
	heap_sift_up(loop, t->heap_idx);
}

static void heap_remove(struct sw_loop *loop, struct loop_timer *t)
{
	size_t i = t->heap_idx;
	struct loop_timer *last = loop->heap[--loop->heap_len];

	t->heap_idx = LOOP_NOT_IN_HEAP;
	if (i == loop->heap_len)
		return;
	heap_place(loop, i, last);
	heap_sift_up(loop, i);
	heap_sift_down(loop, last->heap_idx);
}

/* ---- timers: id hash ---- */

static struct loop_timer **hash_bucket(const struct sw_loop *loop,
				       uint64_t id)
{
	/* Ids are sequential, so the low bits spread evenly. */
	return &loop->hash[id & (loop->hash_size - 1)];
}

static void hash_grow(struct sw_loop *loop)
{
	struct loop_timer **old = loop->hash;
	size_t old_size = loop->hash_size;

	loop->hash_size *= 2;
	loop->hash = xcalloc(loop->hash_size, sizeof(*loop->hash));
	for (size_t i = 0; i < old_size; i++) {
		struct loop_timer *t = old[i], *next;

		for (; t; t = next) {
			struct loop_timer **b = hash_bucket(loop, t->id);

			next = t->hnext;
			t->hnext = *b;
			*b = t;
		}
	}
	free(old);
}

static void hash_insert(struct sw_loop *loop, struct loop_timer *t)
{
	struct loop_timer **b;

	if (loop->ntimers >= loop->hash_size)
		hash_grow(loop);
	b = hash_bucket(loop, t->id);
	t->hnext = *b;
	*b = t;
	loop->ntimers++;
}

static struct loop_timer *hash_find(const struct sw_loop *loop, uint64_t id)
{
	struct loop_timer *t = *hash_bucket(loop, id);

	while (t && t->id != id)
		t = t->hnext;
	return t;
}

static void hash_remove(struct sw_loop *loop, struct loop_timer *t)
{
	struct loop_timer **p = hash_bucket(loop, t->id);

	while (*p != t)
		p = &(*p)->hnext;
	*p = t->hnext;
	loop->ntimers--;
}

/* ---- timers: API ---- */

static void timer_arm(struct sw_loop *loop, struct loop_timer *t,
		      int64_t delay_ms)
{
	if (delay_ms > SW_LOOP_DELAY_MAX)
		delay_ms = SW_LOOP_DELAY_MAX;
	/* Outside the loop (setup code) the cached time may be old. */
	if (!loop->in_iteration)
		loop_update_now(loop);
	t->when = loop->now + delay_ms;
	t->seq = loop->next_seq++;
}

enum sw_err sw_loop_timer_add(struct sw_loop *loop, int64_t delay_ms,
			      sw_loop_timer_fn *fn, void *arg,
			      uint64_t *ret_id)
{
	struct loop_timer *t;

	if (delay_ms < 0 || !fn)
		return SW_EINVAL;
	t = xcalloc(1, sizeof(*t));
	t->id = loop->next_id++;
	t->fn = fn;
	t->arg = arg;
	timer_arm(loop, t, delay_ms);
	hash_insert(loop, t);
	heap_push(loop, t);
	*ret_id = t->id;
	return SW_OK;
}

enum sw_err sw_loop_timer_set(struct sw_loop *loop, uint64_t id,
			      int64_t delay_ms)
{
	struct loop_timer *t;

	if (delay_ms < 0)
		return SW_EINVAL;
	t = hash_find(loop, id);
	if (!t)
		return SW_ENOTFOUND;
	timer_arm(loop, t, delay_ms);
	if (t->running) {
		t->rearmed = true; /* pushed when its callback returns */
		return SW_OK;
	}
	heap_remove(loop, t);
	heap_push(loop, t);
	return SW_OK;
}

enum sw_err sw_loop_timer_del(struct sw_loop *loop, uint64_t id)
{
	struct loop_timer *t = hash_find(loop, id);

	if (!t)
		return SW_ENOTFOUND;
	hash_remove(loop, t);
	if (t->running) {
		t->deleted = true; /* freed when its callback returns */
		return SW_OK;
	}
	heap_remove(loop, t);
	free(t);
	return SW_OK;
}

size_t sw_loop_timer_count(const struct sw_loop *loop)
{
	return loop->ntimers;
}

int64_t sw_loop_now_ms(const struct sw_loop *loop)
{
	return loop->now;
}

static void loop_run_timers(struct sw_loop *loop)
{
	uint64_t seq_limit = loop->next_seq;

	while (loop->heap_len) {
		struct loop_timer *t = loop->heap[0];
		int64_t next;

		/* Due timers armed before this point sort before any armed
		 * later (their due time is <= now <= the new ones'). */
		if (t->when > loop->now || t->seq >= seq_limit)
			break;
		heap_remove(loop, t);
		t->running = true;
		t->rearmed = false;
		next = t->fn(loop, t->id, t->arg);
		t->running = false;
		if (t->deleted) {
			free(t);
			continue;
		}
		if (!t->rearmed) {
			if (next < 0) {
				hash_remove(loop, t);
				free(t);
				continue;
			}
			timer_arm(loop, t, next);
		}
		heap_push(loop, t);
	}
}

/* ---- signals ---- */

static void loop_update_wait_mask(struct sw_loop *loop)
{
	sigprocmask(SIG_SETMASK, NULL, &loop->wait_mask);
	for (int s = 1; s < NSIG; s++)
		if (loop->sigs[s])
			sigdelset(&loop->wait_mask, s);
}

enum sw_err sw_loop_watch_signal(struct sw_loop *loop, int signo,
				 sw_loop_signal_fn *fn, void *arg)
{
	struct loop_sig *s;
	struct sigaction sa;
	sigset_t set, old_mask;
	int err;

	if (signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP || !fn)
		return SW_EINVAL;
	if (loop->sigs[signo])
		return SW_EDUP;
	s = xcalloc(1, sizeof(*s));
	s->fn = fn;
	s->arg = arg;
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_BLOCK, &set, &old_mask);
	s->was_blocked = sigismember(&old_mask, signo) == 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = loop_sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART */
	if (sigaction(signo, &sa, &s->old) < 0) {
		err = errno;
		if (!s->was_blocked)
			sigprocmask(SIG_UNBLOCK, &set, NULL);
		free(s);
		errno = err;
		return SW_EIO;
	}
	loop->sigs[signo] = s;
	loop->nsigs++;
	loop_update_wait_mask(loop);
	return SW_OK;
}

enum sw_err sw_loop_unwatch_signal(struct sw_loop *loop, int signo)
{
	struct loop_sig *s;
	sigset_t set, pending;
	struct timespec zero = { 0, 0 };

	if (signo <= 0 || signo >= NSIG || !loop->sigs[signo])
		return SW_ENOTFOUND;
	s = loop->sigs[signo];
	sigemptyset(&set);
	sigaddset(&set, signo);
	/* Discard a blocked instance so that unblocking it under the old
	 * disposition (often "terminate") does not act on it now. */
	if (sigpending(&pending) == 0 && sigismember(&pending, signo) == 1)
		(void)sigtimedwait(&set, NULL, &zero);
	sigaction(signo, &s->old, NULL);
	if (!s->was_blocked)
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	sig_pending[signo] = 0;
	free(s);
	loop->sigs[signo] = NULL;
	loop->nsigs--;
	loop_update_wait_mask(loop);
	return SW_OK;
}

static void loop_dispatch_signals(struct sw_loop *loop)
{
	if (!sig_any)
		return;
	sig_any = 0;
	for (int s = 1; s < NSIG; s++) {
		if (!sig_pending[s])
			continue;
		sig_pending[s] = 0;
		/* Re-read: an earlier callback may have unwatched it. */
		if (loop->sigs[s])
			loop->sigs[s]->fn(loop, s, loop->sigs[s]->arg);
	}
}

/* ---- running ---- */

void sw_loop_set_before_sleep(struct sw_loop *loop, sw_loop_hook_fn *fn,
			      void *arg)
{
	loop->before_sleep = fn;
	loop->before_sleep_arg = fn ? arg : NULL;
}

static int loop_timeout(const struct sw_loop *loop, int max_wait_ms)
{
	int timeout = max_wait_ms < 0 ? -1 : max_wait_ms;

	if (loop->stop || sig_any)
		return 0;
	if (loop->heap_len) {
		/* real ms for the clock's delay; -1: a stepped clock that has
		 * not reached the timer (only events can wake the wait) */
		int64_t d = sw_clock_real_wait_ms(loop->heap[0]->when - loop->now);

		if (d > INT_MAX)
			d = INT_MAX;
		if (d >= 0 && (timeout < 0 || d < timeout))
			timeout = (int)d;
	}
	return timeout;
}

/* epoll_pwait() with a 0 timeout can return at once without delivering
 * a signal that is pending (the kernel only delivers on an interrupted
 * wait), so a loop kept busy by 0 ms timers would never see SIGTERM: open
 * the mask for a moment to let pending watched signals in. */
static void deliver_pending(const struct sw_loop *loop)
{
	sigset_t pending, old;

	if (!loop->nsigs || sigpending(&pending) != 0)
		return;
	for (int s = 1; s < NSIG; s++)
		if (loop->sigs[s] && sigismember(&pending, s) == 1) {
			sigprocmask(SIG_SETMASK, &loop->wait_mask, &old);
			sigprocmask(SIG_SETMASK, &old, NULL);
			return;
		}
}

enum sw_err sw_loop_run_once(struct sw_loop *loop, int max_wait_ms)
{
	int n, timeout;

	loop->in_iteration = true;
	if (loop->before_sleep)
		loop->before_sleep(loop, loop->before_sleep_arg);
	loop_update_now(loop);
	timeout = loop_timeout(loop, max_wait_ms);
	n = epoll_pwait(loop->epfd, loop->events, LOOP_MAX_EVENTS, timeout,
			loop->nsigs ? &loop->wait_mask : NULL);
	if (n < 0) {
		if (errno != EINTR) {
			loop->in_iteration = false;
			return SW_EIO;
		}
		n = 0;
	} else if (timeout == 0 || n > 0) {
		deliver_pending(loop);
	}
	loop_update_now(loop);
	loop_dispatch_signals(loop);
	loop_dispatch_fds(loop, n);
	loop_run_timers(loop);
	loop->in_iteration = false;
	return SW_OK;
}

enum sw_err sw_loop_run(struct sw_loop *loop)
{
	enum sw_err rc;

	loop->stop = false;
	while (!loop->stop) {
		rc = sw_loop_run_once(loop, -1);
		if (rc)
			return rc;
	}
	loop->stop = false;
	return SW_OK;
}

void sw_loop_stop(struct sw_loop *loop)
{
	loop->stop = true;
}

bool sw_loop_stopping(const struct sw_loop *loop)
{
	return loop->stop;
}

void sw_loop_free(struct sw_loop *loop)
{
	if (!loop)
		return;
	for (int s = 1; s < NSIG; s++)
		if (loop->sigs[s])
			sw_loop_unwatch_signal(loop, s);
	for (size_t i = 0; i < loop->hash_size; i++) {
		struct loop_timer *t = loop->hash[i], *next;

		for (; t; t = next) {
			next = t->hnext;
			free(t);
		}
	}
	free(loop->hash);
	free(loop->heap);
	free(loop->fds);
	close(loop->epfd);
	free(loop);
}
