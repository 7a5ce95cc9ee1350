/*
 * tests/unit/test_vocab.c - the pipeline's vocabulary table
 * (features/vocab.c): entries in insertion order through every growth,
 * keys that differ only in length or trailing zero bytes, keys whose
 * tags (and so home slots) collide, short and long, lift_vocab_intern_many
 * against one call per key, allocation failures that leave the table as
 * it was, and every lookup of the words, lines and byte n-grams of the
 * real SMS file against a reference built by sorting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "features/vocab.h"

static void expect_entry(const struct lift_vocab *v, const char *s, size_t len,
                         long e)
{
    assert_int_equal(lift_vocab_find(v, s, len), e);
    if (e < 0)
        return;
    size_t kl;
    const char *k = lift_vocab_key(v, (size_t)e, &kl);
    assert_int_equal(kl, len);
    assert_memory_equal(k, s, len);
    assert_int_equal(k[len], '\0');
}

static void add_find_key_in_insertion_order_through_growth(void **state)
{
    (void)state;
    struct lift_vocab v;
    lift_vocab_init(&v);
    struct lift_error err;
    assert_int_equal(lift_vocab_find(&v, "x", 1), -1);
    char buf[64];
    const size_t n = 50000;
    for (size_t i = 0; i < n; i++) {
        /* lengths 1..30: both sides of the 8-byte inline limit */
        int len = snprintf(buf, sizeof buf, "%zu%.*s", i, (int)(i % 23),
                           "abcdefghijklmnopqrstuvwxyz");
        size_t e;
        assert_int_equal(lift_vocab_add(&v, buf, (size_t)len, (uint32_t)i * 3,
                                        (float)i, &e, &err),
                         LIFT_OK);
        assert_int_equal(e, i);
    }
    assert_int_equal(v.n, n);
    assert_true(v.mask + 1 >= n * 4 / 3);
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "%zu%.*s", i, (int)(i % 23),
                           "abcdefghijklmnopqrstuvwxyz");
        expect_entry(&v, buf, (size_t)len, (long)i);
        assert_int_equal(v.feat[i], i * 3);
        assert_true(v.idf[i] == (float)i);
        /* one byte more: absent */
        buf[len] = '!';
        assert_int_equal(lift_vocab_find(&v, buf, (size_t)len + 1), -1);
    }
    lift_vocab_release(&v);
    assert_int_equal(v.n, 0);
    assert_null(v.slots);
    lift_vocab_release(&v); /* twice is safe */
}

static void keys_differing_in_length_or_zero_bytes_are_distinct(void **state)
{
    (void)state;
    struct lift_vocab v;
    lift_vocab_init(&v);
    struct lift_error err;
    /* packed short keys are zero-padded: "" "\0" "\0\0" ... and "ab"
     * "ab\0" share words and differ only in length */
    const char zeros[20] = {0};
    for (size_t len = 0; len <= 20; len++) {
        size_t e;
        assert_int_equal(lift_vocab_intern(&v, zeros, len, &e, &err), LIFT_OK);
        assert_int_equal(e, len);
    }
    const char *ab[] = {"ab", "ab\0", "ab\0\0\0\0\0\0", "ab\0\0\0\0\0\0\0"};
    const size_t ab_len[] = {2, 3, 8, 9};
    for (size_t i = 0; i < 4; i++) {
        size_t e;
        assert_int_equal(lift_vocab_intern(&v, ab[i], ab_len[i], &e, &err),
                         LIFT_OK);
        assert_int_equal(e, 21 + i);
    }
    for (size_t len = 0; len <= 20; len++)
        expect_entry(&v, zeros, len, (long)len);
    for (size_t i = 0; i < 4; i++)
        expect_entry(&v, ab[i], ab_len[i], (long)(21 + i));
    assert_int_equal(lift_vocab_find(&v, "ab\0\0", 4), -1);
    /* interning again finds, adds nothing */
    size_t e;
    assert_int_equal(lift_vocab_intern(&v, "ab\0", 3, &e, &err), LIFT_OK);
    assert_int_equal(e, 22);
    assert_int_equal(v.n, 25);
    lift_vocab_release(&v);
}

struct hashed {
    uint64_t tag;
    uint32_t i;
};

static int cmp_hashed(const void *a, const void *b)
{
    const struct hashed *x = a, *y = b;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Key number i of a kind: 8 bytes (kept in the slot) or 30 (in the
 * arena); its length. */
static size_t make_key(int long_key, uint32_t i, char out[64])
{
    int len = long_key ? snprintf(out, 64, "a much longer key number %09u", i)
                       : snprintf(out, 64, "s%07u", i);
    return (size_t)len;
}

/* Two keys of a kind from different numbers whose hashes share the top
 * 28 bits (the tag; with the same length, the same home slot in every
 * table up to 2^28 slots): a birthday search. */
static void tag_twins(int long_key, char a[64], char b[64])
{
    const uint32_t n = 200000;
    struct hashed *h = malloc(n * sizeof *h);
    assert_non_null(h);
    char buf[64];
    for (uint32_t i = 0; i < n; i++) {
        size_t len = make_key(long_key, i, buf);
        h[i].tag = lift_vocab_hash(buf, len) >> 36;
        h[i].i = i;
    }
    qsort(h, n, sizeof *h, cmp_hashed);
    uint32_t k = 1;
    while (k < n && h[k].tag != h[k - 1].tag)
        k++;
    assert_true(k < n);
    make_key(long_key, h[k - 1].i, a);
    make_key(long_key, h[k].i, b);
    free(h);
}

static void keys_with_colliding_tags_both_found(void **state)
{
    (void)state;
    for (int long_key = 0; long_key < 2; long_key++) {
        char a[64], b[64];
        tag_twins(long_key, a, b);
        assert_string_not_equal(a, b);
        assert_int_equal(strlen(a), strlen(b));
        struct lift_vocab v;
        lift_vocab_init(&v);
        struct lift_error err;
        size_t e;
        /* neighbours first, so the twins land inside a cluster */
        char buf[64];
        for (uint32_t i = 0; i < 1000; i++) {
            int len = snprintf(buf, sizeof buf, "n%u", i);
            assert_int_equal(lift_vocab_intern(&v, buf, (size_t)len, &e, &err),
                             LIFT_OK);
        }
        assert_int_equal(lift_vocab_intern(&v, a, strlen(a), &e, &err),
                         LIFT_OK);
        assert_int_equal(e, 1000);
        assert_int_equal(lift_vocab_find(&v, b, strlen(b)), -1);
        assert_int_equal(lift_vocab_intern(&v, b, strlen(b), &e, &err),
                         LIFT_OK);
        assert_int_equal(e, 1001);
        expect_entry(&v, a, strlen(a), 1000);
        expect_entry(&v, b, strlen(b), 1001);
        /* and after growing, whose placement reads only the tags */
        for (uint32_t i = 0; i < 20000; i++) {
            int len = snprintf(buf, sizeof buf, "m%u", i);
            assert_int_equal(lift_vocab_intern(&v, buf, (size_t)len, &e, &err),
                             LIFT_OK);
        }
        expect_entry(&v, a, strlen(a), 1000);
        expect_entry(&v, b, strlen(b), 1001);
        lift_vocab_release(&v);
    }
}

static void intern_many_equals_one_call_per_key(void **state)
{
    (void)state;
    /* 3000 keys with repeats, in chunks longer and shorter than the
     * prefetch batch */
    char bytes[3000 * 16];
    size_t ends[3000], n = 0, at = 0;
    for (uint32_t i = 0; i < 3000; i++) {
        int len = snprintf(bytes + at, 16, "%u", (i * 7919u) % 1000u);
        at += (size_t)len;
        ends[n++] = at;
    }
    struct lift_vocab one, many;
    lift_vocab_init(&one);
    lift_vocab_init(&many);
    struct lift_error err;
    uint32_t got[3000];
    size_t pos = 0;
    for (size_t chunk = 1; pos < n; chunk = chunk * 3 + 1) {
        size_t m = n - pos < chunk ? n - pos : chunk;
        size_t base = pos ? ends[pos - 1] : 0, rebased[3000];
        for (size_t k = 0; k < m; k++)
            rebased[k] = ends[pos + k] - base;
        assert_int_equal(lift_vocab_intern_many(&many, bytes + base, rebased, m,
                                                got + pos, &err),
                         LIFT_OK);
        pos += m;
    }
    for (size_t i = 0; i < n; i++) {
        size_t start = i ? ends[i - 1] : 0, e;
        assert_int_equal(
            lift_vocab_intern(&one, bytes + start, ends[i] - start, &e, &err),
            LIFT_OK);
        assert_int_equal(got[i], e);
    }
    assert_int_equal(one.n, 1000);
    assert_int_equal(many.n, 1000);
    lift_vocab_release(&one);
    lift_vocab_release(&many);
}

static void failed_allocation_leaves_table_unchanged(void **state)
{
    (void)state;
    if (!lift_alloc_fail_at(0))
        skip();
    struct lift_vocab v;
    lift_vocab_init(&v);
    struct lift_error err;
    char buf[64];
    int failures = 0;
    size_t n = 0;
    long nth = 1;
    while (n < 3000) {
        /* the nth allocation of this add fails (1..3, in turn: an add
         * that grows makes 1 to 5); a failed key is then added with no
         * failure */
        int len = snprintf(buf, sizeof buf, "key %zu with a long tail", n);
        size_t e;
        lift_alloc_fail_at(nth);
        enum lift_code rc =
            lift_vocab_add(&v, buf, (size_t)len, 0, 0.0f, &e, &err);
        lift_alloc_fail_at(0);
        if (rc) {
            assert_int_equal(rc, LIFT_ERR_NOMEM);
            assert_int_equal(v.n, n);
            assert_int_equal(lift_vocab_find(&v, buf, (size_t)len), -1);
            failures++;
            rc = lift_vocab_add(&v, buf, (size_t)len, 0, 0.0f, &e, &err);
        }
        assert_int_equal(rc, LIFT_OK);
        assert_int_equal(e, n);
        nth = nth % 3 + 1;
        n++;
        assert_int_equal(v.n, n);
    }
    assert_true(failures >= 8);
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "key %zu with a long tail", i);
        expect_entry(&v, buf, (size_t)len, (long)i);
    }
    lift_vocab_release(&v);
}

/* ---- the real SMS file against a reference by sorting ----------------- */

struct occ {
    const char *s;
    size_t len;
    size_t i; /* position among the occurrences */
};

static int cmp_key(const struct occ *x, const struct occ *y)
{
    size_t m = x->len < y->len ? x->len : y->len;
    int c = m ? memcmp(x->s, y->s, m) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int cmp_occ(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;
    int c = cmp_key(x, y);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The first occurrence of key q in sorted[0..n), or NULL: a lower bound
 * by key alone. */
static const struct occ *ref_find(const struct occ *sorted, size_t n,
                                  const struct occ *q)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_key(&sorted[mid], q) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && cmp_key(&sorted[lo], q) == 0 ? &sorted[lo] : NULL;
}

static char *read_sms(size_t *len)
{
    const char *d = getenv("LIFT_DATA");
    struct stat st;
    if (!d || stat(d, &st) != 0)
        d = "../shared/data";
    char path[4096];
    snprintf(path, sizeof path, "%s/sms-spam-collection/SMSSpamCollection", d);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static void real_sms_every_lookup_matches_sorted_reference(void **state)
{
    (void)state;
    size_t size;
    char *text = read_sms(&size);
    if (!text) {
        skip();
        return;
    }
    /* occurrences: every space-separated word, every line (long keys),
     * and byte n-grams of lengths 1..12 at every 5th byte */
    size_t cap = size, n = 0;
    struct occ *o = malloc(cap * sizeof *o);
    assert_non_null(o);
    size_t line = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || text[i] == '\n') {
            o[n] = (struct occ){text + line, i - line, n};
            n++;
            line = i + 1;
        }
        if (i < size && text[i] != ' ' && text[i] != '\n' &&
            (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\n')) {
            size_t j = i;
            while (j < size && text[j] != ' ' && text[j] != '\n')
                j++;
            o[n] = (struct occ){text + i, j - i, n};
            n++;
        }
        if (i % 5 == 0 && i + 12 <= size) {
            o[n] = (struct occ){text + i, 1 + i % 12, n};
            n++;
        }
        assert_true(n + 3 < cap);
    }
    /* the reference: sort by (key, position); a key's entry is the rank
     * of its first occurrence among the distinct keys' first ones */
    struct occ *sorted = malloc(n * sizeof *sorted);
    size_t *first = malloc(n * sizeof *first); /* per occurrence */
    char *is_first = calloc(n, 1);
    size_t *entry_at = malloc(n * sizeof *entry_at);
    assert_true(sorted && first && is_first && entry_at);
    memcpy(sorted, o, n * sizeof *o);
    qsort(sorted, n, sizeof *sorted, cmp_occ);
    for (size_t k = 0; k < n; k++) {
        bool same = k && sorted[k].len == sorted[k - 1].len &&
                    memcmp(sorted[k].s, sorted[k - 1].s, sorted[k].len) == 0;
        first[sorted[k].i] = same ? first[sorted[k - 1].i] : sorted[k].i;
        if (!same)
            is_first[sorted[k].i] = 1;
    }
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (is_first[i])
            entry_at[i] = distinct++;
    assert_true(distinct > 50000);

    struct lift_vocab v;
    lift_vocab_init(&v);
    struct lift_error err;
    for (size_t i = 0; i < n; i++) {
        size_t e;
        assert_int_equal(lift_vocab_intern(&v, o[i].s, o[i].len, &e, &err),
                         LIFT_OK);
        assert_int_equal(e, entry_at[first[i]]);
    }
    assert_int_equal(v.n, distinct);
    for (size_t i = 0; i < n; i++) {
        expect_entry(&v, o[i].s, o[i].len, (long)entry_at[first[i]]);
        /* the key with its last byte changed: in only if the reference
         * has it */
        char buf[1024];
        if (o[i].len == 0 || o[i].len > sizeof buf)
            continue;
        memcpy(buf, o[i].s, o[i].len);
        buf[o[i].len - 1] ^= 0x40;
        struct occ q = {buf, o[i].len, 0};
        const struct occ *hit = ref_find(sorted, n, &q);
        assert_int_equal(lift_vocab_find(&v, buf, o[i].len),
                         hit ? (long)entry_at[first[hit->i]] : -1);
    }
    lift_vocab_release(&v);
    free(o);
    free(sorted);
    free(first);
    free(is_first);
    free(entry_at);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_find_key_in_insertion_order_through_growth),
        cmocka_unit_test(keys_differing_in_length_or_zero_bytes_are_distinct),
        cmocka_unit_test(keys_with_colliding_tags_both_found),
        cmocka_unit_test(intern_many_equals_one_call_per_key),
        cmocka_unit_test(failed_allocation_leaves_table_unchanged),
        cmocka_unit_test(real_sms_every_lookup_matches_sorted_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
