/*
 * tests/unit/test_hash.c - hashing (core/hash.c).
 *
 * Reference digests come from the xxhsum command of the xxhash package
 * (0.8.1): `printf abc | xxhsum -H1` for xxh64, `-H3` for xxh3 (seed 0).
 * These values are part of the file formats: a model written today must
 * hash the same tomorrow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/hash.h"

/* 1024 bytes: 0, 1, ..., 255 four times (long-input code paths). */
static void fill_sequence(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i & 0xFF);
}

static void xxh64_empty_reference(void **state)
{
    (void)state;
    assert_true(lift_xxh64("", 0, 0) == 0xef46db3751d8e999ull);
    assert_true(lift_xxh64(NULL, 0, 0) == 0xef46db3751d8e999ull);
}

static void xxh64_abc_reference(void **state)
{
    (void)state;
    assert_true(lift_xxh64("abc", 3, 0) == 0x44bc2cf5ad770999ull);
}

static void xxh64_long_inputs_reference(void **state)
{
    (void)state;
    unsigned char seq[1024], zeros[1000];
    fill_sequence(seq, sizeof seq);
    memset(zeros, 0, sizeof zeros);
    assert_true(lift_xxh64(seq, sizeof seq, 0) == 0x6f3914f18fe4df57ull);
    assert_true(lift_xxh64(zeros, sizeof zeros, 0) == 0x0e2b1ef27944075aull);
}

static void hash_empty_reference(void **state)
{
    (void)state;
    assert_true(lift_hash("", 0, 0) == 0x2d06800538d394c2ull);
}

static void hash_abc_reference(void **state)
{
    (void)state;
    assert_true(lift_hash("abc", 3, 0) == 0x78af5f94892f3950ull);
}

static void hash_long_input_reference(void **state)
{
    (void)state;
    unsigned char seq[1024];
    fill_sequence(seq, sizeof seq);
    assert_true(lift_hash(seq, sizeof seq, 0) == 0xa870f92984398d22ull);
}

static void hash_other_seed_different_stable(void **state)
{
    (void)state;
    uint64_t h0 = lift_hash("abc", 3, 0);
    uint64_t h1 = lift_hash("abc", 3, 1);
    uint64_t h2 = lift_hash("abc", 3, 2);
    assert_true(h1 != h0 && h2 != h0 && h1 != h2);
    assert_true(lift_hash("abc", 3, 1) == h1);
    assert_true(lift_xxh64("abc", 3, 1) != lift_xxh64("abc", 3, 0));
}

static void hash_many_keys_no_collision(void **state)
{
    (void)state;
    enum { N = 4000 };
    static uint64_t h[N];
    for (int i = 0; i < N; i++) {
        char key[32];
        int len = snprintf(key, sizeof key, "job=%d", i);
        h[i] = lift_hash(key, (size_t)len, 0);
        for (int j = 0; j < i; j++)
            assert_true(h[j] != h[i]);
    }
}

static void xxh64_stream_pieces_equal_one_shot(void **state)
{
    (void)state;
    unsigned char seq[1024];
    fill_sequence(seq, sizeof seq);
    static const size_t pieces[] = {0, 1, 2, 3, 5, 8, 13, 31, 32, 33, 64, 100};
    for (uint64_t seed = 0; seed < 3; seed++) {
        struct lift_xxh64 h;
        lift_xxh64_init(&h, seed);
        size_t off = 0, k = 0;
        while (off < sizeof seq) {
            size_t n = pieces[k++ % (sizeof pieces / sizeof pieces[0])];
            if (n > sizeof seq - off)
                n = sizeof seq - off;
            lift_xxh64_update(&h, seq + off, n);
            off += n;
        }
        uint64_t want = lift_xxh64(seq, sizeof seq, seed);
        assert_true(lift_xxh64_digest(&h) == want);
        /* reading the digest does not change the state */
        assert_true(lift_xxh64_digest(&h) == want);
        if (seed == 0)
            assert_true(want == 0x6f3914f18fe4df57ull);
    }
}

static void xxh64_stream_empty_reference(void **state)
{
    (void)state;
    struct lift_xxh64 h;
    lift_xxh64_init(&h, 0);
    assert_true(lift_xxh64_digest(&h) == 0xef46db3751d8e999ull);
    lift_xxh64_update(&h, "ab", 2);
    lift_xxh64_update(&h, "c", 1);
    assert_true(lift_xxh64_digest(&h) == 0x44bc2cf5ad770999ull);
}

static void xxh64_init_again_restarts(void **state)
{
    (void)state;
    struct lift_xxh64 h;
    lift_xxh64_init(&h, 0);
    lift_xxh64_update(&h, "garbage", 7);
    lift_xxh64_init(&h, 0);
    lift_xxh64_update(&h, "abc", 3);
    assert_true(lift_xxh64_digest(&h) == 0x44bc2cf5ad770999ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xxh64_empty_reference),
        cmocka_unit_test(xxh64_abc_reference),
        cmocka_unit_test(xxh64_long_inputs_reference),
        cmocka_unit_test(hash_empty_reference),
        cmocka_unit_test(hash_abc_reference),
        cmocka_unit_test(hash_long_input_reference),
        cmocka_unit_test(hash_other_seed_different_stable),
        cmocka_unit_test(hash_many_keys_no_collision),
        cmocka_unit_test(xxh64_stream_pieces_equal_one_shot),
        cmocka_unit_test(xxh64_stream_empty_reference),
        cmocka_unit_test(xxh64_init_again_restarts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
