/*
 * core/arena.h - bump allocation for scratch with one lifetime.
 *
 * An arena hands out memory from a chain of blocks and frees it all at
 * once (reset keeps the first block for reuse). A cap bounds the bytes it
 * may hold, so a hostile input cannot grow it without limit: past the cap
 * lift_arena_alloc returns NULL and the caller reports LIFT_ERR_LIMIT.
 * Not thread-safe: one arena per request, per batch or per thread.
 */
#ifndef LIFT_CORE_ARENA_H
#define LIFT_CORE_ARENA_H

#include <stddef.h>

struct lift_arena_block;

struct lift_arena {
    struct lift_arena_block *head; /* current block, chained to older */
    size_t block_size;             /* default size of a new block */
    size_t used;                   /* bytes held in all blocks */
    size_t cap;                    /* 0: no cap */
};

/* block_size 0 means 64 KiB. Allocates nothing until first use. */
void lift_arena_init(struct lift_arena *a, size_t block_size, size_t cap);
/* size bytes aligned to align (a power of two <= 64); NULL when out of
 * memory or past the cap. size 0 gives a valid unique pointer. */
void *lift_arena_alloc(struct lift_arena *a, size_t size, size_t align);
/* A NUL-terminated copy of s[0..n). */
char *lift_arena_strndup(struct lift_arena *a, const char *s, size_t n);
/* Frees every block but the first and rewinds it. */
void lift_arena_reset(struct lift_arena *a);
/* Frees everything; the arena may be initialised again. */
void lift_arena_release(struct lift_arena *a);

#endif
