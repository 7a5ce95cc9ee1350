/*
 * tests/unit/test_alloc.c - allocation wrappers (core/alloc.c): size
 * overflow gives NULL instead of a short block, and the fault-injection
 * hook fails exactly the Nth allocation, from the environment or a call.
 *
 * The first test reads LIFT_FAIL_ALLOC, which the library consults only
 * at its first allocation, so it must stay first in main().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static void fail_alloc_env_second_allocation_null(void **state)
{
    (void)state;
#ifdef LIFT_ALLOC_HOOK
    assert_int_equal(setenv("LIFT_FAIL_ALLOC", "2", 1), 0);
    void *a = lift_malloc(8);
    void *b = lift_malloc(8);
    void *c = lift_malloc(8);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    assert_int_equal(lift_alloc_count(), 3);
    lift_free(a);
    lift_free(c);
    lift_alloc_fail_at(0);
    unsetenv("LIFT_FAIL_ALLOC");
#else
    skip();
#endif
}

static void mul_overflow_large_product_true(void **state)
{
    (void)state;
    size_t out = 7;
    assert_true(lift_mul_overflow(SIZE_MAX, 2, &out));
    assert_true(lift_mul_overflow(SIZE_MAX / 2 + 1, 2, &out));
    assert_true(lift_mul_overflow((size_t)1 << 33, (size_t)1 << 33, &out));
}

static void mul_overflow_small_product_false_and_value(void **state)
{
    (void)state;
    size_t out = 0;
    assert_false(lift_mul_overflow(3, 4, &out));
    assert_int_equal(out, 12);
    assert_false(lift_mul_overflow(SIZE_MAX, 1, &out));
    assert_true(out == SIZE_MAX);
    assert_false(lift_mul_overflow(0, SIZE_MAX, &out));
    assert_int_equal(out, 0);
}

static void add_overflow_edge_detected(void **state)
{
    (void)state;
    size_t out = 0;
    assert_true(lift_add_overflow(SIZE_MAX, 1, &out));
    assert_true(lift_add_overflow(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, &out));
    assert_false(lift_add_overflow(SIZE_MAX - 1, 1, &out));
    assert_true(out == SIZE_MAX);
    assert_false(lift_add_overflow(40, 2, &out));
    assert_int_equal(out, 42);
}

static void malloc_array_overflow_null(void **state)
{
    (void)state;
    assert_null(lift_malloc_array(SIZE_MAX / 4, 8));
    assert_null(lift_malloc_array(SIZE_MAX, SIZE_MAX));
}

static void calloc_overflow_null(void **state)
{
    (void)state;
    assert_null(lift_calloc(SIZE_MAX / 2, 3));
    assert_null(lift_calloc((size_t)1 << 40, (size_t)1 << 40));
}

static void calloc_small_zeroed(void **state)
{
    (void)state;
    unsigned char *p = lift_calloc(100, 3);
    assert_non_null(p);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(p[i], 0);
    lift_free(p);
}

static void realloc_array_overflow_null_block_kept(void **state)
{
    (void)state;
    char *p = lift_malloc_array(4, 1);
    assert_non_null(p);
    memcpy(p, "abc", 4);
    assert_null(lift_realloc_array(p, SIZE_MAX / 2, 4));
    assert_string_equal(p, "abc");
    lift_free(p);
}

static void realloc_array_grow_contents_kept(void **state)
{
    (void)state;
    uint32_t *p = lift_malloc_array(4, sizeof *p);
    assert_non_null(p);
    for (uint32_t i = 0; i < 4; i++)
        p[i] = i * 11;
    uint32_t *q = lift_realloc_array(p, 1000, sizeof *q);
    assert_non_null(q);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(q[i], i * 11);
    q[999] = 5;
    assert_int_equal(q[999], 5);
    lift_free(q);
}

static void malloc_zero_size_non_null(void **state)
{
    (void)state;
    void *p = lift_malloc(0);
    void *q = lift_calloc(0, 8);
    void *r = lift_malloc_array(0, 16);
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(r);
    lift_free(p);
    lift_free(q);
    lift_free(r);
}

static void free_null_no_crash(void **state)
{
    (void)state;
    lift_free(NULL);
}

static void strdup_copy_equal_and_distinct(void **state)
{
    (void)state;
    const char *s = "precision marketing";
    char *d = lift_strdup(s);
    assert_non_null(d);
    assert_string_equal(d, s);
    assert_ptr_not_equal(d, s);
    lift_free(d);
}

static void strndup_prefix_terminated(void **state)
{
    (void)state;
    char *d = lift_strndup("abcdef", 3);
    assert_non_null(d);
    assert_string_equal(d, "abc");
    lift_free(d);
    /* embedded NUL bytes are copied as they are */
    d = lift_strndup("a\0b", 3);
    assert_non_null(d);
    assert_memory_equal(d, "a\0b\0", 4);
    lift_free(d);
}

static void strndup_size_overflow_null(void **state)
{
    (void)state;
    assert_null(lift_strndup("x", SIZE_MAX));
}

static void alloc_fail_at_nth_only_that_one_null(void **state)
{
    (void)state;
#ifdef LIFT_ALLOC_HOOK
    for (long nth = 1; nth <= 5; nth++) {
        void *p[5];
        assert_true(lift_alloc_fail_at(nth));
        for (int i = 0; i < 5; i++)
            p[i] = lift_malloc(16);
        for (long i = 0; i < 5; i++) {
            if (i + 1 == nth)
                assert_null(p[i]);
            else
                assert_non_null(p[i]);
        }
        assert_int_equal(lift_alloc_count(), 5);
        for (int i = 0; i < 5; i++)
            lift_free(p[i]);
    }
    lift_alloc_fail_at(0);
#else
    assert_false(lift_alloc_fail_at(1));
#endif
}

static void alloc_fail_at_every_entry_point_fails(void **state)
{
    (void)state;
#ifdef LIFT_ALLOC_HOOK
    lift_alloc_fail_at(1);
    assert_null(lift_calloc(2, 2));
    lift_alloc_fail_at(1);
    assert_null(lift_malloc_array(2, 2));
    lift_alloc_fail_at(1);
    assert_null(lift_strdup("x"));
    lift_alloc_fail_at(1);
    assert_null(lift_strndup("xy", 1));

    char *p = lift_malloc(4);
    assert_non_null(p);
    memcpy(p, "keep", 4);
    lift_alloc_fail_at(1);
    assert_null(lift_realloc_array(p, 64, 1));
    assert_memory_equal(p, "keep", 4);
    lift_free(p);
    lift_alloc_fail_at(0);
#else
    skip();
#endif
}

static void alloc_count_after_reset_counts_each(void **state)
{
    (void)state;
#ifdef LIFT_ALLOC_HOOK
    lift_alloc_fail_at(0);
    assert_int_equal(lift_alloc_count(), 0);
    void *a = lift_malloc(1);
    void *b = lift_calloc(1, 1);
    void *c = lift_realloc_array(NULL, 2, 2);
    assert_int_equal(lift_alloc_count(), 3);
    lift_free(a);
    lift_free(b);
    lift_free(c);
    /* lift_free is not an allocation */
    assert_int_equal(lift_alloc_count(), 3);
#else
    assert_int_equal(lift_alloc_count(), 0);
#endif
}

static void alloc_fail_at_zero_nothing_fails(void **state)
{
    (void)state;
    lift_alloc_fail_at(0);
    for (int i = 0; i < 1000; i++) {
        void *p = lift_malloc(32);
        assert_non_null(p);
        lift_free(p);
    }
}

static void alloc_fail_at_negative_disabled(void **state)
{
    (void)state;
#ifdef LIFT_ALLOC_HOOK
    assert_true(lift_alloc_fail_at(-3));
    for (int i = 0; i < 10; i++) {
        void *p = lift_malloc(8);
        assert_non_null(p);
        lift_free(p);
    }
    lift_alloc_fail_at(0);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* must run first: the library reads LIFT_FAIL_ALLOC once */
        cmocka_unit_test(fail_alloc_env_second_allocation_null),
        cmocka_unit_test(mul_overflow_large_product_true),
        cmocka_unit_test(mul_overflow_small_product_false_and_value),
        cmocka_unit_test(add_overflow_edge_detected),
        cmocka_unit_test(malloc_array_overflow_null),
        cmocka_unit_test(calloc_overflow_null),
        cmocka_unit_test(calloc_small_zeroed),
        cmocka_unit_test(realloc_array_overflow_null_block_kept),
        cmocka_unit_test(realloc_array_grow_contents_kept),
        cmocka_unit_test(malloc_zero_size_non_null),
        cmocka_unit_test(free_null_no_crash),
        cmocka_unit_test(strdup_copy_equal_and_distinct),
        cmocka_unit_test(strndup_prefix_terminated),
        cmocka_unit_test(strndup_size_overflow_null),
        cmocka_unit_test(alloc_fail_at_nth_only_that_one_null),
        cmocka_unit_test(alloc_fail_at_every_entry_point_fails),
        cmocka_unit_test(alloc_count_after_reset_counts_each),
        cmocka_unit_test(alloc_fail_at_zero_nothing_fails),
        cmocka_unit_test(alloc_fail_at_negative_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
