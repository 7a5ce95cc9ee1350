/*
 * core/rng.h - the seeded random number generator of the whole project.
 *
 * xoshiro256** (Blackman and Vigna), state seeded by splitmix64 from one
 * 64-bit seed. Integer arithmetic only, so the same seed gives the same
 * stream on every machine and compiler. Doubles are made from the top 53
 * bits (exact), bounded integers by Lemire's multiply-and-reject (no
 * modulo bias). lift_rng_split derives an independent stream (for a thread
 * or a fold) from the parent's seed and an index, so results do not depend
 * on scheduling. No rand(), no global state: each user holds its own.
 */
#ifndef LIFT_CORE_RNG_H
#define LIFT_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

struct lift_rng {
    uint64_t s[4];
};

void lift_rng_seed(struct lift_rng *r, uint64_t seed);
/* A stream for sub-task `index`, independent of r's later use. */
void lift_rng_split(struct lift_rng *child, uint64_t seed, uint64_t index);
uint64_t lift_rng_next(struct lift_rng *r);
/* Uniform in [0, 1), 53-bit resolution. */
double lift_rng_uniform(struct lift_rng *r);
/* Uniform in [0, 1) as float, 24-bit resolution. */
float lift_rng_uniformf(struct lift_rng *r);
/* Uniform integer in [0, n); n > 0. */
uint64_t lift_rng_below(struct lift_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void lift_rng_shuffle(struct lift_rng *r, uint32_t *idx, size_t n);

#endif
