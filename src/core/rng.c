/*
 * core/rng.c - xoshiro256** seeded with splitmix64.
 *
 * xoshiro256**: result = rotl(s1 * 5, 7) * 9; t = s1 << 17;
 * s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45).
 * Period 2^256 - 1; the all-zero state is impossible after splitmix64
 * seeding (splitmix64 is a bijection of distinct counters).
 */
#include "core/rng.h"

#include "core/error.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void lift_rng_seed(struct lift_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

void lift_rng_split(struct lift_rng *child, uint64_t seed, uint64_t index)
{
    uint64_t x = seed ^ 0xD1B54A32D192ED03ull;
    uint64_t mix = splitmix64(&x) ^ (index * 0xA24BAED4963EE407ull);
    lift_rng_seed(child, mix);
}

uint64_t lift_rng_next(struct lift_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double lift_rng_uniform(struct lift_rng *r)
{
    return (double)(lift_rng_next(r) >> 11) * 0x1.0p-53;
}

float lift_rng_uniformf(struct lift_rng *r)
{
    return (float)(lift_rng_next(r) >> 40) * 0x1.0p-24f;
}

uint64_t lift_rng_below(struct lift_rng *r, uint64_t n)
{
    LIFT_ASSERT(n > 0);
    /* Lemire: take the high word of x * n, rejecting the biased low band */
    u128 m = (u128)lift_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (u128)lift_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

void lift_rng_shuffle(struct lift_rng *r, uint32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)lift_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
