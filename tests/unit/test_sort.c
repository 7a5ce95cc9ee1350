/*
 * tests/unit/test_sort.c - lift_sort_u32 (core/sort.c) against qsort on
 * every length around its insertion/radix switch, on random keys (small,
 * full-width, with one byte constant so a pass is skipped), sorted,
 * reversed and all-equal arrays, and the extreme values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/sort.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void check(const uint32_t *in, size_t n)
{
    uint32_t *a = malloc((n ? n : 1) * sizeof *a);
    uint32_t *b = malloc((n ? n : 1) * sizeof *b);
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    assert_true(a && b && tmp);
    if (n) {
        memcpy(a, in, n * sizeof *a);
        memcpy(b, in, n * sizeof *b);
    }
    lift_sort_u32(a, tmp, n);
    qsort(b, n, sizeof *b, cmp_u32);
    if (n)
        assert_memory_equal(a, b, n * sizeof *a);
    free(a);
    free(b);
    free(tmp);
}

static void sort_random_keys_every_length_matches_qsort(void **state)
{
    (void)state;
    struct lift_rng rng;
    lift_rng_seed(&rng, 7);
    uint32_t in[3000];
    const uint32_t masks[] = {0xFFFFFFFFu, 0x1FFFFu, 0xFF00FFu, 0xFu};
    for (size_t m = 0; m < 4; m++)
        for (size_t n = 0; n <= 3000; n += n < 80 ? 1 : 97) {
            for (size_t i = 0; i < n; i++)
                in[i] = (uint32_t)lift_rng_next(&rng) & masks[m];
            check(in, n);
        }
}

static void sort_ordered_reversed_equal_and_extremes(void **state)
{
    (void)state;
    uint32_t in[1000];
    for (size_t n = 1; n <= 1000; n = n * 2 + 1) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint32_t)i * 4099u;
        check(in, n);
        for (size_t i = 0; i < n; i++)
            in[i] = (uint32_t)(n - i) * 65537u;
        check(in, n);
        for (size_t i = 0; i < n; i++)
            in[i] = 42;
        check(in, n);
        for (size_t i = 0; i < n; i++)
            in[i] = i % 2 ? UINT32_MAX : 0;
        check(in, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sort_random_keys_every_length_matches_qsort),
        cmocka_unit_test(sort_ordered_reversed_equal_and_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
