/*
 * rng.h - slipwatch-sim's random streams: splitmix64, seeded from the
 * world's seed and a stream's name (FNV-1a of tag then name), so that a
 * stream's draws depend on nothing else (adding a trouble leaves the
 * orders alone).  Header-only: the world and its trouble both draw.
 */
#ifndef SW_SIM_RNG_H
#define SW_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t s;
};

static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* The stream named tag + name (tag "" for the world's own). */
static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed, const char *tag,
				const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = tag; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	r->s = seed * 0x2545F4914F6CDD1DULL ^ h;
	sim_rng_next(r);
}

/* [0, 1) */
static inline double sim_rng_unit(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) / 9007199254740992.0;
}

/* [lo, hi] */
static inline int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(sim_rng_next(r) % (uint64_t)(hi - lo + 1));
}

#endif /* SW_SIM_RNG_H */
