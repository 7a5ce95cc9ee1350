/*
 * tests/unit/test_arena.c - the bump allocator (core/arena.c): alignment,
 * no overlap across blocks, the cap, reset and release, and recovery
 * after an allocation failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"

static void arena_init_nothing_allocated(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 0, 0);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
    assert_int_equal(a.block_size, 64 << 10);
    assert_int_equal(a.cap, 0);
    lift_arena_release(&a);
}

static void arena_alloc_each_alignment_honoured(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 256, 0);
    for (int round = 0; round < 50; round++) {
        for (size_t align = 1; align <= 64; align *= 2) {
            /* odd sizes push the bump pointer off every boundary */
            size_t size = (size_t)round * 3 + 1;
            unsigned char *p = lift_arena_alloc(&a, size, align);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % align, 0);
            memset(p, 0xAB, size);
        }
    }
    lift_arena_release(&a);
}

static void arena_alloc_large_alignment_in_fresh_block(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 64, 0);
    /* each request fills a new small block, so the padding comes from
     * the block's own address */
    for (int i = 0; i < 20; i++) {
        void *p = lift_arena_alloc(&a, 64, 64);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        memset(p, i, 64);
    }
    lift_arena_release(&a);
}

static void arena_alloc_many_no_overlap(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct lift_arena a;
    lift_arena_init(&a, 4096, 0);
    unsigned char **ptrs = calloc(N, sizeof *ptrs);
    assert_non_null(ptrs);
    for (size_t i = 0; i < N; i++) {
        size_t size = 1 + i % 97;
        ptrs[i] = lift_arena_alloc(&a, size, (size_t)1 << (i % 4));
        assert_non_null(ptrs[i]);
        memset(ptrs[i], (int)(i & 0xFF), size);
    }
    for (size_t i = 0; i < N; i++) {
        size_t size = 1 + i % 97;
        for (size_t j = 0; j < size; j++)
            assert_int_equal(ptrs[i][j], i & 0xFF);
    }
    /* more than one block was needed, and used counts them all */
    assert_true(a.used > 4096);
    free(ptrs);
    lift_arena_release(&a);
}

static void arena_alloc_larger_than_block_ok(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 128, 0);
    char *small = lift_arena_alloc(&a, 16, 8);
    assert_non_null(small);
    memset(small, 's', 16);
    char *big = lift_arena_alloc(&a, 10000, 32);
    assert_non_null(big);
    assert_int_equal((uintptr_t)big % 32, 0);
    memset(big, 'b', 10000);
    char *after = lift_arena_alloc(&a, 16, 8);
    assert_non_null(after);
    memset(after, 'a', 16);
    assert_int_equal(small[15], 's');
    assert_int_equal(big[0], 'b');
    assert_int_equal(big[9999], 'b');
    assert_true(a.used >= 128 + 10000);
    lift_arena_release(&a);
}

static void arena_alloc_zero_size_unique_pointers(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 0, 0);
    void *p = lift_arena_alloc(&a, 0, 1);
    void *q = lift_arena_alloc(&a, 0, 1);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_not_equal(p, q);
    lift_arena_release(&a);
}

static void arena_alloc_past_cap_null(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 1024, 4096);
    size_t got = 0;
    for (int i = 0; i < 100; i++) {
        void *p = lift_arena_alloc(&a, 100, 4);
        if (!p)
            break;
        got++;
        assert_true(a.used <= 4096);
    }
    /* 4 blocks of 1024 bytes hold 10 allocations of 100 bytes each (a
     * block's payload is at least 8-aligned, so align 4 adds no padding) */
    assert_int_equal(got, 40);
    assert_int_equal(a.used, 4096);
    assert_null(lift_arena_alloc(&a, 100, 4));
    assert_true(a.used <= 4096);
    lift_arena_release(&a);
}

static void arena_alloc_single_request_over_cap_null(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 1024, 8192);
    assert_null(lift_arena_alloc(&a, 9000, 1));
    assert_int_equal(a.used, 0);
    /* a request that fits still works afterwards */
    void *p = lift_arena_alloc(&a, 100, 1);
    assert_non_null(p);
    lift_arena_release(&a);
}

static void arena_alloc_huge_size_null(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 0, 0);
    assert_null(lift_arena_alloc(&a, SIZE_MAX, 8));
    assert_null(lift_arena_alloc(&a, SIZE_MAX - 100, 1));
    assert_null(lift_arena_strndup(&a, "x", SIZE_MAX));
    lift_arena_release(&a);
}

static void arena_reset_keeps_first_block_reused(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 512, 0);
    void *first = lift_arena_alloc(&a, 40, 8);
    assert_non_null(first);
    for (int i = 0; i < 100; i++)
        assert_non_null(lift_arena_alloc(&a, 100, 8));
    assert_true(a.used > 512);
    lift_arena_reset(&a);
    assert_int_equal(a.used, 512);
    assert_non_null(a.head);
    void *again = lift_arena_alloc(&a, 40, 8);
    assert_ptr_equal(again, first);
    lift_arena_release(&a);
}

static void arena_reset_empty_arena_no_op(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 0, 0);
    lift_arena_reset(&a);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
    lift_arena_release(&a);
}

static void arena_release_then_reuse_works(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 256, 0);
    for (int i = 0; i < 50; i++)
        assert_non_null(lift_arena_alloc(&a, 64, 16));
    lift_arena_release(&a);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
    char *p = lift_arena_alloc(&a, 8, 1);
    assert_non_null(p);
    memcpy(p, "reused!", 8);
    assert_string_equal(p, "reused!");
    lift_arena_release(&a);
    lift_arena_release(&a);
}

static void arena_strndup_copy_terminated(void **state)
{
    (void)state;
    struct lift_arena a;
    lift_arena_init(&a, 0, 0);
    char *s = lift_arena_strndup(&a, "hello, world", 5);
    assert_non_null(s);
    assert_string_equal(s, "hello");
    char *e = lift_arena_strndup(&a, "ignored", 0);
    assert_non_null(e);
    assert_string_equal(e, "");
    assert_string_equal(s, "hello");
    lift_arena_release(&a);
}

static void arena_alloc_after_failed_malloc_recovers(void **state)
{
    (void)state;
#ifdef LIFT_ALLOC_HOOK
    struct lift_arena a;
    lift_arena_init(&a, 128, 0);
    lift_alloc_fail_at(1);
    assert_null(lift_arena_alloc(&a, 16, 8));
    assert_null(a.head);
    assert_int_equal(a.used, 0);
    char *p = lift_arena_alloc(&a, 16, 8);
    assert_non_null(p);
    memset(p, 1, 16);
    lift_alloc_fail_at(0);
    lift_arena_release(&a);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_init_nothing_allocated),
        cmocka_unit_test(arena_alloc_each_alignment_honoured),
        cmocka_unit_test(arena_alloc_large_alignment_in_fresh_block),
        cmocka_unit_test(arena_alloc_many_no_overlap),
        cmocka_unit_test(arena_alloc_larger_than_block_ok),
        cmocka_unit_test(arena_alloc_zero_size_unique_pointers),
        cmocka_unit_test(arena_alloc_past_cap_null),
        cmocka_unit_test(arena_alloc_single_request_over_cap_null),
        cmocka_unit_test(arena_alloc_huge_size_null),
        cmocka_unit_test(arena_reset_keeps_first_block_reused),
        cmocka_unit_test(arena_reset_empty_arena_no_op),
        cmocka_unit_test(arena_release_then_reuse_works),
        cmocka_unit_test(arena_strndup_copy_terminated),
        cmocka_unit_test(arena_alloc_after_failed_malloc_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
