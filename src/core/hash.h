/*
 * core/hash.h - hashing: xxh3 for tables and the hashing trick, xxh64 for
 * file checksums (libxxhash). Both are stable across machines and
 * versions of the library, so hashed feature indices and model checksums
 * written by one build are read the same by every other.
 */
#ifndef LIFT_CORE_HASH_H
#define LIFT_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t lift_hash(const void *data, size_t len, uint64_t seed);

/* Streaming xxh64 of a file being written or read. */
struct lift_xxh64 {
    uint64_t state[12]; /* large enough for XXH64_state_t (88 bytes) */
};
void lift_xxh64_init(struct lift_xxh64 *h, uint64_t seed);
void lift_xxh64_update(struct lift_xxh64 *h, const void *data, size_t len);
uint64_t lift_xxh64_digest(const struct lift_xxh64 *h);
uint64_t lift_xxh64(const void *data, size_t len, uint64_t seed);

#endif
