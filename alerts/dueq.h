/*
 * dueq.h - the alert engine's deadline queue: for every open unit (a
 * parcel or an order) the next instant at which its evaluation can change
 * without any new event (a promise passing, a threshold running out).
 *
 * A binary min-heap of (due, key) plus a hash map key -> due that holds
 * the one current deadline of each key.  Changing a key's deadline pushes
 * a new heap entry and leaves the old one behind; stale entries are
 * recognised on pop (their due no longer matches the map) and the heap is
 * rebuilt from the map when they outnumber the live ones.  Keys are
 * non-zero int64 (the engine uses parcel ids and negated order ids).
 * Memory is about 50 bytes per key (see sw_dueq_bytes).  Single thread.
 */
#ifndef SW_ALERTS_DUEQ_H
#define SW_ALERTS_DUEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sw_dueq;

struct sw_dueq *sw_dueq_new(void);
void sw_dueq_free(struct sw_dueq *q);

/* Sets key's deadline to due (> 0), replacing any earlier one; due 0
 * removes the key.  key must not be 0. */
void sw_dueq_set(struct sw_dueq *q, int64_t key, int64_t due);

/* The key's current deadline, 0 if none. */
int64_t sw_dueq_get(const struct sw_dueq *q, int64_t key);

/* The earliest deadline, 0 if the queue is empty. */
int64_t sw_dueq_next(struct sw_dueq *q);

/* Removes and returns (true, *ret_key) one key whose deadline is <= now,
 * earliest first; false when none is due. */
bool sw_dueq_pop(struct sw_dueq *q, int64_t now, int64_t *ret_key);

/* Keys with a deadline. */
size_t sw_dueq_len(const struct sw_dueq *q);

/* Bytes allocated (heap and map), for the memory-per-parcel figure. */
size_t sw_dueq_bytes(const struct sw_dueq *q);

#endif /* SW_ALERTS_DUEQ_H */
