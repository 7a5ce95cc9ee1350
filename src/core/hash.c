/*
 * core/hash.c - thin wrappers over libxxhash.
 *
 * XXH64_state_t is declared in xxhash.h only with XXH_STATIC_LINKING_ONLY;
 * we keep our own opaque storage of the right size and check it at compile
 * time, so callers need not include xxhash.h.
 */
#define XXH_STATIC_LINKING_ONLY
#include "core/hash.h"

#include <string.h>
#include <xxhash.h>

_Static_assert(sizeof(XXH64_state_t) <= sizeof(struct lift_xxh64),
               "lift_xxh64 too small for XXH64_state_t");

uint64_t lift_hash(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}

void lift_xxh64_init(struct lift_xxh64 *h, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    XXH64_reset((XXH64_state_t *)(void *)h->state, seed);
}

void lift_xxh64_update(struct lift_xxh64 *h, const void *data, size_t len)
{
    XXH64_update((XXH64_state_t *)(void *)h->state, data, len);
}

uint64_t lift_xxh64_digest(const struct lift_xxh64 *h)
{
    return XXH64_digest((const XXH64_state_t *)(const void *)h->state);
}

uint64_t lift_xxh64(const void *data, size_t len, uint64_t seed)
{
    return XXH64(data, len, seed);
}
