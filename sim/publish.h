/*
 * publish.h - slipwatch-sim's warehouse feed: the world's events published
 * to the broker (libmosquitto, QoS 1, PUBACKs awaited) when the clock
 * (lib/clock.h) reaches each one's publishing time, duplicates and small
 * reorderings as the world planned them, reconnecting when the broker
 * goes away.  Driven by the caller's loop: sim_pub_step() does the due
 * work and waits for network I/O at most a given time.
 */
#ifndef SW_SIM_PUBLISH_H
#define SW_SIM_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "sim/world_int.h"

struct sim_pub;

struct sim_pub_stats {
	uint64_t published;  /* handed to the broker (duplicates included) */
	uint64_t acked;      /* PUBACKs received */
	uint64_t connects;   /* successful connections */
	uint64_t failures;   /* failed connects and lost connections */
	size_t next;         /* index of the next event to publish */
};

/* A publisher of w's events to c's [mqtt] broker (nothing connects yet).
 * SW_OK or SW_EIO with err set. */
enum sw_err sim_pub_new(const struct sim_world *w, const struct sim_conf *c,
			struct sim_pub **ret, char *err, size_t errlen);

/* Publishes the events due at now (simulated seconds), connecting or
 * reconnecting as needed, and runs network I/O for at most wait_ms real
 * milliseconds.  Never fails: a broker that cannot be reached is retried
 * every second; *ret_err (may be NULL) gets the last problem, "" if none. */
void sim_pub_step(struct sim_pub *p, int64_t now, int wait_ms, char *err, size_t errlen);

/* The simulated time of the next event to publish (INT64_MAX: none left). */
int64_t sim_pub_next_at(const struct sim_pub *p);

/* True when every event due by now is published and acknowledged. */
bool sim_pub_idle(const struct sim_pub *p, int64_t now);

void sim_pub_get_stats(const struct sim_pub *p, struct sim_pub_stats *ret);

/* Disconnects and frees (NULL: nothing). */
void sim_pub_free(struct sim_pub *p);

#endif
