/*
 * dueq.c - deadline queue: min-heap with lazy deletion plus an
 * open-addressing hash map (linear probing, backward-shift deletion, so no
 * tombstones).  See dueq.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alerts/dueq.h"
#include "lib/xmalloc.h"

struct entry {
	int64_t due;
	int64_t key;
};

struct sw_dueq {
	struct entry *heap; /* min-heap on due */
	size_t hn, hcap;
	struct entry *map; /* key 0 = empty slot */
	size_t mn, mcap;   /* mcap a power of two */
};

/*
 * Keys are row ids, dense and given out in order, and the start-up pass
 * sets them in id order: a mixing hash of the whole key made each set a
 * cache miss in a map of tens of MB (a fifth of the pass at 1M parcels).
 * So runs of BLOCK consecutive keys keep consecutive slots and only the
 * run is scattered, by multiplying its number by an odd constant modulo
 * the number of runs: a bijection, so a window of ids no wider than the
 * map never collides with itself.  Negated order ids use another
 * constant, so their runs land apart from the parcels' whatever the two
 * windows of ids are (a collision then costs a probe into the next run).
 */
#define BLOCK_BITS 6

static size_t slot_of(const struct sw_dueq *q, int64_t key)
{
	uint64_t k = (uint64_t)key, nruns = q->mcap >> BLOCK_BITS;
	uint64_t run = (k >> BLOCK_BITS) *
		       (key > 0 ? UINT64_C(0x9E3779B97F4A7C15) : UINT64_C(0xC2B2AE3D27D4EB4F));

	return (size_t)(((run & (nruns - 1)) << BLOCK_BITS) | (k & ((1u << BLOCK_BITS) - 1)));
}

static struct entry *map_find(const struct sw_dueq *q, int64_t key)
{
	for (size_t i = slot_of(q, key);; i = (i + 1) & (q->mcap - 1)) {
		if (q->map[i].key == key)
			return &q->map[i];
		if (q->map[i].key == 0)
			return NULL;
	}
}

static void map_put(struct sw_dueq *q, int64_t key, int64_t due);

#define HUGE_PAGE ((size_t)2 << 20)

/*
 * A zeroed map of n slots.  Not xcalloc: a large calloc maps the shared
 * zero page, so the probes' first reads and the writes after them fault
 * twice per page (a copy-on-write fault flushes the TLB); zeroing it
 * first faults each page once.  A map of huge pages' size asks for them
 * (Linux, transparent huge pages in madvise mode): a 1M-parcel map is
 * 32 MB, 8,192 faults in 4 KiB pages, each costly in a VM (the growing
 * map was a tenth of the start-up pass).  Best effort: without them the
 * memory is ordinary.
 */
static struct entry *map_alloc(size_t n)
{
	size_t bytes = n * sizeof(struct entry);
	void *p = NULL;

#ifdef MADV_HUGEPAGE
	if (n <= SIZE_MAX / sizeof(struct entry) && bytes >= HUGE_PAGE &&
	    posix_memalign(&p, HUGE_PAGE, bytes) == 0)
		(void)madvise(p, bytes, MADV_HUGEPAGE);
	else
		p = NULL;
#endif
	if (!p)
		p = xreallocarray(NULL, n, sizeof(struct entry));
	memset(p, 0, bytes);
	return p;
}

static void map_grow(struct sw_dueq *q)
{
	struct entry *old = q->map;
	size_t oldcap = q->mcap;

	q->mcap = oldcap ? oldcap * 2 : 1024;
	q->map = map_alloc(q->mcap);
	q->mn = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			map_put(q, old[i].key, old[i].due);
	free(old);
}

static void map_put(struct sw_dueq *q, int64_t key, int64_t due)
{
	size_t i;

	if ((q->mn + 1) * 2 > q->mcap)
		map_grow(q);
	for (i = slot_of(q, key); q->map[i].key && q->map[i].key != key; i = (i + 1) & (q->mcap - 1))
		;
	if (q->map[i].key == 0)
		q->mn++;
	q->map[i].key = key;
	q->map[i].due = due;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void map_del(struct sw_dueq *q, struct entry *e)
{
	size_t i = (size_t)(e - q->map), j = i, mask = q->mcap - 1;

	for (;;) {
		j = (j + 1) & mask;
		if (q->map[j].key == 0)
			break;
		size_t home = slot_of(q, q->map[j].key);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			q->map[i] = q->map[j];
			i = j;
		}
	}
	q->map[i].key = 0;
	q->map[i].due = 0;
	q->mn--;
}

static void heap_up(struct entry *h, size_t i)
{
	struct entry e = h[i];

	while (i > 0 && h[(i - 1) / 2].due > e.due) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static void heap_down(struct entry *h, size_t n, size_t i)
{
	struct entry e = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].due < h[c].due)
			c++;
		if (h[c].due >= e.due)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

static void heap_push(struct sw_dueq *q, int64_t key, int64_t due)
{
	if (q->hn == q->hcap) {
		q->hcap = q->hcap ? q->hcap * 2 : 1024;
		q->heap = xreallocarray(q->heap, q->hcap, sizeof(*q->heap));
	}
	q->heap[q->hn] = (struct entry){ due, key };
	heap_up(q->heap, q->hn++);
}

/* Drops stale entries by rebuilding the heap from the map. */
static void heap_rebuild(struct sw_dueq *q)
{
	q->hn = 0;
	for (size_t i = 0; i < q->mcap; i++)
		if (q->map[i].key)
			q->heap[q->hn++] = q->map[i];
	for (size_t i = q->hn / 2; i-- > 0;)
		heap_down(q->heap, q->hn, i);
}

struct sw_dueq *sw_dueq_new(void)
{
	struct sw_dueq *q = xcalloc(1, sizeof(*q));

	map_grow(q);
	return q;
}

void sw_dueq_free(struct sw_dueq *q)
{
	if (!q)
		return;
	free(q->heap);
	free(q->map);
	free(q);
}

void sw_dueq_set(struct sw_dueq *q, int64_t key, int64_t due)
{
	struct entry *e = map_find(q, key);

	if (due <= 0) {
		if (e)
			map_del(q, e);
		return;
	}
	if (e && e->due == due)
		return;
	map_put(q, key, due);
	heap_push(q, key, due);
	if (q->hn > 2 * q->mn + 1024)
		heap_rebuild(q);
}

int64_t sw_dueq_get(const struct sw_dueq *q, int64_t key)
{
	const struct entry *e = map_find(q, key);

	return e ? e->due : 0;
}

/* Pops stale entries off the top. */
static void drop_stale(struct sw_dueq *q)
{
	while (q->hn > 0) {
		const struct entry *e = map_find(q, q->heap[0].key);

		if (e && e->due == q->heap[0].due)
			return;
		q->heap[0] = q->heap[--q->hn];
		heap_down(q->heap, q->hn, 0);
	}
}

int64_t sw_dueq_next(struct sw_dueq *q)
{
	drop_stale(q);
	return q->hn ? q->heap[0].due : 0;
}

bool sw_dueq_pop(struct sw_dueq *q, int64_t now, int64_t *ret_key)
{
	struct entry top;

	drop_stale(q);
	if (q->hn == 0 || q->heap[0].due > now)
		return false;
	top = q->heap[0];
	q->heap[0] = q->heap[--q->hn];
	heap_down(q->heap, q->hn, 0);
	map_del(q, map_find(q, top.key));
	*ret_key = top.key;
	return true;
}

size_t sw_dueq_len(const struct sw_dueq *q)
{
	return q->mn;
}

size_t sw_dueq_bytes(const struct sw_dueq *q)
{
	return sizeof(*q) + q->hcap * sizeof(*q->heap) + q->mcap * sizeof(*q->map);
}
