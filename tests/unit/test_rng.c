/*
 * tests/unit/test_rng.c - the seeded generator (core/rng.c).
 *
 * The expected first outputs were computed once by an independent Python
 * implementation of splitmix64 and xoshiro256** written from the
 * published algorithms (Vigna), not from this C code: a change in the
 * stream breaks every seeded result in the project, so it must be loud.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

static void rng_next_fixed_seeds_reference_values(void **state)
{
    (void)state;
    static const struct {
        uint64_t seed;
        uint64_t want[4];
    } cases[] = {
        {0,
         {0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull, 0x1a5f849d4933e6e0ull,
          0x6aa594f1262d2d2cull}},
        {42,
         {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull,
          0xecb8ad4703b360a1ull}},
        {0xDEADBEEF,
         {0xc5555444a74d7e83ull, 0x65c30d37b4b16e38ull, 0x54f773200a4efa23ull,
          0x429aed75fb958af7ull}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct lift_rng r;
        lift_rng_seed(&r, cases[k].seed);
        for (size_t i = 0; i < 4; i++)
            assert_true(lift_rng_next(&r) == cases[k].want[i]);
    }
}

static void rng_seed_same_seed_same_stream(void **state)
{
    (void)state;
    struct lift_rng a, b, c;
    lift_rng_seed(&a, 12345);
    lift_rng_seed(&b, 12345);
    lift_rng_seed(&c, 12346);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = lift_rng_next(&a);
        assert_true(x == lift_rng_next(&b));
        differ += x != lift_rng_next(&c);
    }
    assert_true(differ >= 999);
}

static void rng_uniform_seed_42_top_53_bits(void **state)
{
    (void)state;
    struct lift_rng r;
    lift_rng_seed(&r, 42);
    /* (0x15780b2e0c2ec716 >> 11) / 2^53 */
    assert_true(lift_rng_uniform(&r) == 0.08386297105988216);
}

static void rng_uniformf_seed_42_top_24_bits(void **state)
{
    (void)state;
    struct lift_rng r;
    lift_rng_seed(&r, 42);
    /* 0x15780b2e0c2ec716 >> 40 == 1406987 */
    assert_true(lift_rng_uniformf(&r) == 1406987.0f / 16777216.0f);
}

static void rng_uniform_many_in_unit_interval_mean_half(void **state)
{
    (void)state;
    struct lift_rng r;
    lift_rng_seed(&r, 7);
    double sum = 0, lo = 1, hi = 0;
    float flo = 1, fhi = 0;
    for (int i = 0; i < 200000; i++) {
        double u = lift_rng_uniform(&r);
        float f = lift_rng_uniformf(&r);
        assert_true(u >= 0.0 && u < 1.0);
        assert_true(f >= 0.0f && f < 1.0f);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        flo = f < flo ? f : flo;
        fhi = f > fhi ? f : fhi;
    }
    double mean = sum / 200000;
    /* sd of the mean is 0.289 / sqrt(2e5) = 0.00065 */
    assert_true(mean > 0.4967 && mean < 0.5033);
    assert_true(lo < 0.001 && hi > 0.999);
    assert_true(flo < 0.001f && fhi > 0.999f);
}

static void rng_below_seed_42_reference_values(void **state)
{
    (void)state;
    /* high word of x * 10 for the first five outputs of seed 42 */
    static const uint64_t want[] = {0, 3, 6, 9, 9};
    struct lift_rng r;
    lift_rng_seed(&r, 42);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(lift_rng_below(&r, 10), want[i]);
}

static void rng_below_one_always_zero(void **state)
{
    (void)state;
    struct lift_rng r;
    lift_rng_seed(&r, 3);
    for (int i = 0; i < 100; i++)
        assert_int_equal(lift_rng_below(&r, 1), 0);
}

static void rng_below_any_n_in_range(void **state)
{
    (void)state;
    static const uint64_t ns[] = {
        2, 3, 7, 1000, 1ull << 32, (1ull << 63) + 1, UINT64_MAX,
    };
    struct lift_rng r;
    lift_rng_seed(&r, 99);
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        uint64_t hi = 0;
        for (int i = 0; i < 10000; i++) {
            uint64_t v = lift_rng_below(&r, ns[k]);
            assert_true(v < ns[k]);
            hi = v > hi ? v : hi;
        }
        /* the top of the range is reached (or nearly, for huge n) */
        assert_true(hi >= ns[k] - 1 - ns[k] / 100);
    }
}

static void rng_below_ten_buckets_roughly_uniform(void **state)
{
    (void)state;
    enum { N = 100000, K = 10 };
    size_t count[K] = {0};
    struct lift_rng r;
    lift_rng_seed(&r, 2024);
    for (int i = 0; i < N; i++)
        count[lift_rng_below(&r, K)]++;
    double chi2 = 0, expect = (double)N / K;
    for (int k = 0; k < K; k++) {
        double d = (double)count[k] - expect;
        chi2 += d * d / expect;
        assert_true(count[k] > 9500 && count[k] < 10500);
    }
    /* chi-square, 9 degrees of freedom: P(> 33.7) = 1e-4 */
    assert_true(chi2 < 33.7);
}

static void rng_below_rejecting_range_thirds_balanced(void **state)
{
    (void)state;
    /* n = 3 * 2^62 rejects a quarter of the draws; the answers must stay
     * uniform over the three thirds of the range */
    const uint64_t n = 3ull << 62;
    size_t third[3] = {0};
    struct lift_rng r;
    lift_rng_seed(&r, 5);
    for (int i = 0; i < 30000; i++)
        third[lift_rng_below(&r, n) / (1ull << 62)]++;
    for (int k = 0; k < 3; k++)
        assert_true(third[k] > 9500 && third[k] < 10500);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void rng_shuffle_thousand_is_permutation(void **state)
{
    (void)state;
    enum { N = 1000 };
    uint32_t idx[N], sorted[N];
    for (uint32_t i = 0; i < N; i++)
        idx[i] = i;
    struct lift_rng r;
    lift_rng_seed(&r, 1);
    lift_rng_shuffle(&r, idx, N);
    size_t fixed = 0;
    for (uint32_t i = 0; i < N; i++)
        fixed += idx[i] == i;
    /* a random permutation has about one fixed point */
    assert_true(fixed < 10);
    memcpy(sorted, idx, sizeof idx);
    qsort(sorted, N, sizeof sorted[0], cmp_u32);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(sorted[i], i);
}

static void rng_shuffle_same_seed_same_order(void **state)
{
    (void)state;
    uint32_t a[50], b[50];
    for (uint32_t i = 0; i < 50; i++)
        a[i] = b[i] = i * 3;
    struct lift_rng r1, r2;
    lift_rng_seed(&r1, 77);
    lift_rng_seed(&r2, 77);
    lift_rng_shuffle(&r1, a, 50);
    lift_rng_shuffle(&r2, b, 50);
    assert_memory_equal(a, b, sizeof a);
}

static void rng_shuffle_tiny_arrays_unchanged(void **state)
{
    (void)state;
    struct lift_rng r;
    lift_rng_seed(&r, 1);
    uint32_t one = 17;
    lift_rng_shuffle(&r, NULL, 0);
    lift_rng_shuffle(&r, &one, 1);
    assert_int_equal(one, 17);
}

static void rng_shuffle_three_all_orders_seen(void **state)
{
    (void)state;
    /* each of the 3! = 6 orders of {0,1,2} turns up about equally */
    size_t seen[6] = {0};
    struct lift_rng r;
    lift_rng_seed(&r, 11);
    for (int t = 0; t < 6000; t++) {
        uint32_t v[3] = {0, 1, 2};
        lift_rng_shuffle(&r, v, 3);
        seen[v[0] * 2 + (v[1] > v[2])]++;
    }
    for (int k = 0; k < 6; k++)
        assert_true(seen[k] > 850 && seen[k] < 1150);
}

static void rng_split_indices_streams_differ(void **state)
{
    (void)state;
    struct lift_rng c0, c1, c0b, parent;
    lift_rng_split(&c0, 42, 0);
    lift_rng_split(&c1, 42, 1);
    lift_rng_split(&c0b, 42, 0);
    lift_rng_seed(&parent, 42);
    int same01 = 0, same_parent = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t a = lift_rng_next(&c0);
        assert_true(a == lift_rng_next(&c0b));
        same01 += a == lift_rng_next(&c1);
        same_parent += a == lift_rng_next(&parent);
    }
    assert_int_equal(same01, 0);
    assert_int_equal(same_parent, 0);
}

static void rng_split_seeds_streams_differ(void **state)
{
    (void)state;
    struct lift_rng a, b;
    uint64_t first[64];
    for (uint64_t k = 0; k < 64; k++) {
        lift_rng_split(&a, k, 0);
        first[k] = lift_rng_next(&a);
        for (uint64_t j = 0; j < k; j++)
            assert_true(first[j] != first[k]);
    }
    lift_rng_split(&a, 5, 3);
    lift_rng_split(&b, 3, 5);
    assert_true(lift_rng_next(&a) != lift_rng_next(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rng_next_fixed_seeds_reference_values),
        cmocka_unit_test(rng_seed_same_seed_same_stream),
        cmocka_unit_test(rng_uniform_seed_42_top_53_bits),
        cmocka_unit_test(rng_uniformf_seed_42_top_24_bits),
        cmocka_unit_test(rng_uniform_many_in_unit_interval_mean_half),
        cmocka_unit_test(rng_below_seed_42_reference_values),
        cmocka_unit_test(rng_below_one_always_zero),
        cmocka_unit_test(rng_below_any_n_in_range),
        cmocka_unit_test(rng_below_ten_buckets_roughly_uniform),
        cmocka_unit_test(rng_below_rejecting_range_thirds_balanced),
        cmocka_unit_test(rng_shuffle_thousand_is_permutation),
        cmocka_unit_test(rng_shuffle_same_seed_same_order),
        cmocka_unit_test(rng_shuffle_tiny_arrays_unchanged),
        cmocka_unit_test(rng_shuffle_three_all_orders_seen),
        cmocka_unit_test(rng_split_indices_streams_differ),
        cmocka_unit_test(rng_split_seeds_streams_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
