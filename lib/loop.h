/*
 * loop.h - the single-threaded event loop every slipwatch daemon runs on.
 *
 * Modelled on redis's ae.c, Linux epoll only: file events on fds, timers on
 * the one clock's monotonic reading (lib/clock.h: CLOCK_MONOTONIC, or a
 * simulated or stepped clock) in milliseconds, a before-sleep hook, and
 * signals delivered as ordinary callbacks from the loop.  One loop per
 * daemon, no threads; none of these functions may be called from another
 * thread or from a signal handler.
 *
 * Re-entrancy: any callback may add, modify or remove fds and timers
 * (including its own) and call sw_loop_stop().  A callback must not call
 * sw_loop_run(), sw_loop_run_once() or sw_loop_free() on the loop that is
 * dispatching it.
 *
 * Registered fds remain owned by the caller: the loop never closes them.
 * Remove an fd from the loop before closing it.
 */
#ifndef SW_LOOP_H
#define SW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

struct sw_loop;

/* Event mask bits for file events. */
#define SW_LOOP_READ 0x1
#define SW_LOOP_WRITE 0x2

/* Timer callback return value: delete the timer. */
#define SW_LOOP_NOMORE (-1)

/* Largest delay honoured; longer delays are clamped to it (about 24 days,
 * so that one epoll timeout always covers it). */
#define SW_LOOP_DELAY_MAX ((int64_t)2147483647)

/*
 * Called when fd is ready.  events is the subset of the registered mask
 * that fired; an error or hang-up on the fd reports every registered bit
 * so that the owner's next read or write sees the error.
 */
typedef void sw_loop_fd_fn(struct sw_loop *loop, int fd, int events,
			   void *arg);

/*
 * Called when timer id is due.  Returns the delay in ms until it fires
 * again (0 = next iteration), or SW_LOOP_NOMORE (any negative value) to
 * delete it.  If the callback itself called sw_loop_timer_set() or
 * sw_loop_timer_del() on this same timer, that call wins and the return
 * value is ignored (this is what libcurl's timer callback needs).
 */
typedef int64_t sw_loop_timer_fn(struct sw_loop *loop, uint64_t id,
				 void *arg);

/* Called from the loop (never from the signal handler) after signo was
 * received one or more times since the last call. */
typedef void sw_loop_signal_fn(struct sw_loop *loop, int signo, void *arg);

/* Called once per iteration just before the loop may block. */
typedef void sw_loop_hook_fn(struct sw_loop *loop, void *arg);

/*
 * Creates a loop.  SW_OK and *ret_loop set, or SW_EIO (errno kept) if
 * epoll_create1() failed.  Free with sw_loop_free().
 */
enum sw_err sw_loop_new(struct sw_loop **ret_loop);

/*
 * Frees the loop and every timer still armed, restores the disposition and
 * blocked state of every watched signal and closes the epoll fd.  The
 * caller's fds are left open.  NULL is a no-op.  Not from a callback.
 */
void sw_loop_free(struct sw_loop *loop);

/*
 * Watches fd for the events in mask (SW_LOOP_READ and/or SW_LOOP_WRITE,
 * not 0).  Level-triggered: fn is called every iteration while fd is ready.
 * Returns SW_OK; SW_EINVAL for a negative fd, an empty or unknown mask or
 * a NULL fn; SW_EDUP if fd is already watched (use sw_loop_fd_modify);
 * SW_EIO (errno kept) if epoll_ctl() refused the fd.
 */
enum sw_err sw_loop_fd_add(struct sw_loop *loop, int fd, int mask,
			   sw_loop_fd_fn *fn, void *arg);

/*
 * Replaces the watched mask of fd (not 0; remove the fd instead).  Takes
 * effect at once, also for events already collected in this iteration.
 * Returns SW_OK; SW_EINVAL for a bad mask; SW_ENOTFOUND if fd is not
 * watched; SW_EIO (errno kept) if epoll_ctl() failed.
 */
enum sw_err sw_loop_fd_modify(struct sw_loop *loop, int fd, int mask);

/*
 * Stops watching fd.  Events already collected for it in the current
 * iteration are dropped, even if the same fd number is added again before
 * they would have been dispatched.  Returns SW_OK, or SW_ENOTFOUND if fd is
 * not watched.  Safe if fd was already closed.
 */
enum sw_err sw_loop_fd_del(struct sw_loop *loop, int fd);

/* Returns the mask fd is watched for, or 0 if it is not watched. */
int sw_loop_fd_mask(const struct sw_loop *loop, int fd);

/*
 * Arms a new timer due delay_ms from now: from the iteration's cached
 * time inside a callback, from the current time when called outside the
 * loop (setup code), which also refreshes sw_loop_now_ms().  Timers that are due
 * fire in order of due time, then in order of arming.  A timer armed or
 * re-armed from a callback never fires before the next iteration, so
 * a delay of 0 cannot starve the loop.  Sets *ret_id to the timer's id
 * (never 0, never reused).  Returns SW_OK, or SW_EINVAL for a negative
 * delay or a NULL fn.
 */
enum sw_err sw_loop_timer_add(struct sw_loop *loop, int64_t delay_ms,
			      sw_loop_timer_fn *fn, void *arg,
			      uint64_t *ret_id);

/*
 * Re-arms timer id to fire delay_ms from now (as sw_loop_timer_add()),
 * whatever its previous due time.  Returns SW_OK, SW_EINVAL for a negative delay, or
 * SW_ENOTFOUND if no such timer exists (it fired with NOMORE or was
 * deleted).
 */
enum sw_err sw_loop_timer_set(struct sw_loop *loop, uint64_t id,
			      int64_t delay_ms);

/*
 * Deletes timer id; its callback will not be called again.  Safe from any
 * callback, including the timer's own.  Returns SW_OK, or SW_ENOTFOUND.
 */
enum sw_err sw_loop_timer_del(struct sw_loop *loop, uint64_t id);

/* Returns the number of timers currently armed. */
size_t sw_loop_timer_count(const struct sw_loop *loop);

/*
 * Returns sw_clock_mono_ms() as read once per iteration, right after
 * the loop woke up; all callbacks of one iteration see the same value.
 * Outside the loop it is the time of the last iteration, loop creation,
 * or timer add/set made outside the loop, whichever was latest.
 */
int64_t sw_loop_now_ms(const struct sw_loop *loop);

/* Sets (or with fn NULL clears) the hook called before each wait. */
void sw_loop_set_before_sleep(struct sw_loop *loop, sw_loop_hook_fn *fn,
			      void *arg);

/*
 * Delivers signo through fn.  The signal is blocked from now on except
 * while the loop waits in epoll_pwait(), so a signal sent at any time
 * (also before sw_loop_run()) wakes the wait; the handler only sets a
 * flag and fn runs from the loop after the wait returns, before file and
 * timer events are dispatched.  Several deliveries between two
 * iterations give one call.  SA_RESTART is not set.  Signals are process
 * state: only one loop may watch a given signal.  Returns SW_OK; SW_EINVAL
 * for a signal that cannot be caught or a NULL fn; SW_EDUP if signo is
 * already watched; SW_EIO (errno kept) if sigaction() failed.
 */
enum sw_err sw_loop_watch_signal(struct sw_loop *loop, int signo,
				 sw_loop_signal_fn *fn, void *arg);

/*
 * Stops watching signo: restores its previous disposition and blocked
 * state.  A delivery not yet dispatched is dropped.  Returns SW_OK or
 * SW_ENOTFOUND.
 */
enum sw_err sw_loop_unwatch_signal(struct sw_loop *loop, int signo);

/*
 * Runs iterations until sw_loop_stop() is called; clears any earlier stop
 * request on entry.  The iteration in which stop was requested is
 * finished first.  Returns SW_OK after a stop, or SW_EIO (errno kept) if
 * epoll_pwait() failed for a reason other than EINTR.
 */
enum sw_err sw_loop_run(struct sw_loop *loop);

/*
 * Runs one iteration: before-sleep hook, wait at most max_wait_ms of real
 * time (-1 = as long as needed for the next timer or event, 0 = poll; on
 * a stepped clock a timer not yet due does not end the wait), then signals,
 * file events and due timers.  Returns SW_OK or SW_EIO as sw_loop_run().
 * For tests and for draining work at shutdown.
 */
enum sw_err sw_loop_run_once(struct sw_loop *loop, int max_wait_ms);

/* Asks sw_loop_run() to return after the current iteration; the next wait
 * does not block.  Safe from any callback. */
void sw_loop_stop(struct sw_loop *loop);

/* True once sw_loop_stop() was called (until the next sw_loop_run()): a
 * long piece of work in a callback can end early. */
bool sw_loop_stopping(const struct sw_loop *loop);

#endif /* SW_LOOP_H */
