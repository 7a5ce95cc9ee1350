/*
 * core/arena.c - chained-block bump allocator.
 *
 * Blocks: [header | payload]; allocation bumps `off` in the head block, and
 * a request larger than what remains opens a new block of
 * max(block_size, size + align) (blocks are only malloc-aligned, so the
 * padding is computed from addresses). A big request therefore wastes at most
 * the tail of the previous block. used counts whole block payloads so the cap
 * bounds real memory.
 */
#include "core/arena.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

struct lift_arena_block {
    struct lift_arena_block *prev;
    size_t size; /* payload bytes */
    size_t off;  /* next free payload byte */
    unsigned char data[];
};

void lift_arena_init(struct lift_arena *a, size_t block_size, size_t cap)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : (size_t)64 << 10;
    a->used = 0;
    a->cap = cap;
}

static struct lift_arena_block *new_block(struct lift_arena *a, size_t need)
{
    size_t size = need > a->block_size ? need : a->block_size;
    size_t total, held;
    if (lift_add_overflow(size, sizeof(struct lift_arena_block), &total) ||
        lift_add_overflow(a->used, size, &held))
        return NULL;
    if (a->cap && held > a->cap)
        return NULL;
    struct lift_arena_block *b = lift_malloc(total);
    if (!b)
        return NULL;
    b->prev = a->head;
    b->size = size;
    b->off = 0;
    a->head = b;
    a->used = held;
    return b;
}

/* The offset at or after b->off whose address is a multiple of align
 * (malloc guarantees only 16-byte alignment of the block itself). */
static size_t pad_to(const struct lift_arena_block *b, size_t align)
{
    uintptr_t at = (uintptr_t)(b->data + b->off);
    uintptr_t up = (at + (uintptr_t)align - 1) & ~((uintptr_t)align - 1);
    return b->off + (size_t)(up - at);
}

void *lift_arena_alloc(struct lift_arena *a, size_t size, size_t align)
{
    LIFT_ASSERT(align && align <= 64 && (align & (align - 1)) == 0);
    /* a zero-size request still takes a byte, so its pointer is unique */
    if (size == 0)
        size = 1;
    struct lift_arena_block *b = a->head;
    if (b) {
        size_t start = pad_to(b, align);
        if (start <= b->size && size <= b->size - start) {
            b->off = start + size;
            return b->data + start;
        }
    }
    size_t need;
    if (lift_add_overflow(size, align, &need))
        return NULL;
    b = new_block(a, need);
    if (!b)
        return NULL;
    /* the block holds size + align bytes, so the padded start fits */
    size_t start = pad_to(b, align);
    b->off = start + size;
    return b->data + start;
}

char *lift_arena_strndup(struct lift_arena *a, const char *s, size_t n)
{
    size_t total;
    if (lift_add_overflow(n, 1, &total))
        return NULL;
    char *d = lift_arena_alloc(a, total, 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void lift_arena_reset(struct lift_arena *a)
{
    struct lift_arena_block *b = a->head;
    if (!b)
        return;
    while (b->prev) {
        struct lift_arena_block *prev = b->prev;
        lift_free(b);
        b = prev;
    }
    b->off = 0;
    a->head = b;
    a->used = b->size;
}

void lift_arena_release(struct lift_arena *a)
{
    struct lift_arena_block *b = a->head;
    while (b) {
        struct lift_arena_block *prev = b->prev;
        lift_free(b);
        b = prev;
    }
    a->head = NULL;
    a->used = 0;
}
