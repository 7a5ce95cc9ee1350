/*
 * test_split.c - holdout, time, k-fold and fold splits (data/split.c).
 *
 * Every split is checked for the invariants the header promises (both
 * sides increasing, disjoint, covering 0..n-1), the exact per-class
 * shares round(fraction * n_class), determinism from the seed, the
 * independence of one class's draw from the other classes, balance of
 * k-fold per class and overall, every error case, and cleanup under
 * injected allocation failures. A golden split pins the algorithm so that
 * a change to it (which would change every user's split) is deliberate.
 * The time split runs on small tables read from memory: numeric and date
 * columns, missing first, ties in file order, and file order itself.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <lift/split.h>
#include <lift/table.h>

#include "core/alloc.h"

/* Both sides increasing, disjoint and together exactly 0..n-1. */
static void assert_partition(const struct lift_split *s, size_t n)
{
    assert_int_equal(s->n_train + s->n_test, n);
    uint8_t *seen = calloc(n ? n : 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < s->n_train; i++) {
        assert_true(s->train[i] < n);
        if (i > 0)
            assert_true(s->train[i - 1] < s->train[i]);
        seen[s->train[i]]++;
    }
    for (size_t i = 0; i < s->n_test; i++) {
        assert_true(s->test[i] < n);
        if (i > 0)
            assert_true(s->test[i - 1] < s->test[i]);
        seen[s->test[i]]++;
    }
    for (size_t r = 0; r < n; r++)
        assert_int_equal(seen[r], 1);
    free(seen);
}

static void assert_zeroed(const struct lift_split *s)
{
    assert_null(s->train);
    assert_null(s->test);
    assert_int_equal(s->n_train, 0);
    assert_int_equal(s->n_test, 0);
}

static bool same_split(const struct lift_split *a, const struct lift_split *b)
{
    return a->n_test == b->n_test && a->n_train == b->n_train &&
           memcmp(a->test, b->test, a->n_test * sizeof *a->test) == 0 &&
           memcmp(a->train, b->train, a->n_train * sizeof *a->train) == 0;
}

/* Classes of sizes 37, 13, 50 and 7 missing rows, interleaved. */
#define MIX_ROWS 107
static void make_mixed_strata(uint32_t *strata)
{
    size_t left[4] = {37, 13, 50, 7};
    size_t r = 0;
    while (r < MIX_ROWS) {
        for (size_t c = 0; c < 4 && r < MIX_ROWS; c++) {
            if (left[c] == 0)
                continue;
            left[c]--;
            strata[r++] = c == 3 ? LIFT_MISSING_CODE : (uint32_t)c;
        }
    }
}

static void holdout_plain_sizes_partition(void **state)
{
    (void)state;
    struct lift_split s;
    struct lift_error err;
    assert_int_equal(lift_split_holdout(100, NULL, 0, 0.25, 1, &s, &err),
                     LIFT_OK);
    assert_int_equal(s.n_test, 25);
    assert_int_equal(s.n_train, 75);
    assert_partition(&s, 100);
    lift_split_release(&s);
    assert_zeroed(&s);
    lift_split_release(&s); /* twice is fine */
    lift_split_release(NULL);

    /* round(0.3 * 7) = round(2.1) = 2; round(0.5 * 5) = 3 (half away) */
    assert_int_equal(lift_split_holdout(7, NULL, 0, 0.3, 9, &s, &err), LIFT_OK);
    assert_int_equal(s.n_test, 2);
    assert_partition(&s, 7);
    lift_split_release(&s);
    assert_int_equal(lift_split_holdout(5, NULL, 0, 0.5, 9, &s, &err), LIFT_OK);
    assert_int_equal(s.n_test, 3);
    assert_partition(&s, 5);
    lift_split_release(&s);
}

static void holdout_stratified_class_shares_exact(void **state)
{
    (void)state;
    uint32_t strata[MIX_ROWS];
    make_mixed_strata(strata);
    const double fractions[] = {0.1, 0.2, 0.25, 0.3, 0.5, 0.77};
    const size_t sizes[4] = {37, 13, 50, 7};
    for (size_t fi = 0; fi < sizeof fractions / sizeof *fractions; fi++) {
        double frac = fractions[fi];
        struct lift_split s;
        struct lift_error err;
        assert_int_equal(
            lift_split_holdout(MIX_ROWS, strata, 3, frac, 77, &s, &err),
            LIFT_OK);
        assert_partition(&s, MIX_ROWS);
        size_t in_test[4] = {0};
        for (size_t i = 0; i < s.n_test; i++) {
            uint32_t c = strata[s.test[i]];
            in_test[c == LIFT_MISSING_CODE ? 3 : c]++;
        }
        size_t want_total = 0;
        for (size_t c = 0; c < 4; c++) {
            size_t want = (size_t)round(frac * (double)sizes[c]);
            assert_int_equal(in_test[c], want);
            want_total += want;
        }
        assert_int_equal(s.n_test, want_total);
        lift_split_release(&s);
    }
}

static void holdout_same_seed_same_split(void **state)
{
    (void)state;
    uint32_t strata[MIX_ROWS];
    make_mixed_strata(strata);
    struct lift_split a, b;
    assert_int_equal(
        lift_split_holdout(MIX_ROWS, strata, 3, 0.3, 123, &a, NULL), LIFT_OK);
    assert_int_equal(
        lift_split_holdout(MIX_ROWS, strata, 3, 0.3, 123, &b, NULL), LIFT_OK);
    assert_true(same_split(&a, &b));
    lift_split_release(&b);
    assert_int_equal(
        lift_split_holdout(MIX_ROWS, strata, 3, 0.3, 124, &b, NULL), LIFT_OK);
    assert_int_equal(a.n_test, b.n_test);
    assert_false(same_split(&a, &b));
    lift_split_release(&a);
    lift_split_release(&b);

    /* the same for the unstratified draw */
    assert_int_equal(lift_split_holdout(1000, NULL, 0, 0.2, 5, &a, NULL),
                     LIFT_OK);
    assert_int_equal(lift_split_holdout(1000, NULL, 0, 0.2, 5, &b, NULL),
                     LIFT_OK);
    assert_true(same_split(&a, &b));
    lift_split_release(&b);
    assert_int_equal(lift_split_holdout(1000, NULL, 0, 0.2, 6, &b, NULL),
                     LIFT_OK);
    assert_false(same_split(&a, &b));
    lift_split_release(&a);
    lift_split_release(&b);
}

/* The test rows of class 0 depend on the seed and class 0's rows only, not
 * on how many rows the other classes have. */
static void holdout_class_draw_independent_of_other_classes(void **state)
{
    (void)state;
    uint32_t small[20], large[40];
    for (size_t r = 0; r < 20; r++)
        small[r] = r < 10 ? 0 : 1;
    for (size_t r = 0; r < 40; r++)
        large[r] = r < 10 ? 0 : 1;
    struct lift_split a, b;
    assert_int_equal(lift_split_holdout(20, small, 2, 0.3, 8, &a, NULL),
                     LIFT_OK);
    assert_int_equal(lift_split_holdout(40, large, 2, 0.3, 8, &b, NULL),
                     LIFT_OK);
    /* class 0 is rows 0..9 in both; its 3 test rows come first */
    assert_true(a.test[2] < 10 && b.test[2] < 10);
    assert_true(a.test[3] >= 10 && b.test[3] >= 10);
    assert_memory_equal(a.test, b.test, 3 * sizeof *a.test);
    lift_split_release(&a);
    lift_split_release(&b);
}

/* Pins the algorithm: a change here changes every user's split. The
 * expected rows come from an independent Python model of the documented
 * steps (splitmix64 seeding, xoshiro256**, lift_rng_split, Lemire's
 * bounded draw, partial Fisher-Yates), not from this implementation. */
static void holdout_golden_split_is_stable(void **state)
{
    (void)state;
    struct lift_split s;
    assert_int_equal(lift_split_holdout(10, NULL, 0, 0.3, 42, &s, NULL),
                     LIFT_OK);
    assert_int_equal(s.n_test, 3);
    const uint32_t want_test[3] = {4, 7, 8};
    const uint32_t want_train[7] = {0, 1, 2, 3, 5, 6, 9};
    assert_memory_equal(s.test, want_test, sizeof want_test);
    assert_memory_equal(s.train, want_train, sizeof want_train);
    lift_split_release(&s);

    /* stratified, with missing rows: class 0 (rows 1 4 5 8 11) sends 3,
     * class 1 (rows 0 3 7 9) 2, missing (rows 2 6 10) 2, each on the
     * stream of its own class index (missing: n_strata) */
    const uint32_t M = LIFT_MISSING_CODE;
    const uint32_t strata[12] = {1, 0, M, 1, 0, 0, M, 1, 0, 1, M, 0};
    assert_int_equal(lift_split_holdout(12, strata, 2, 0.5, 7, &s, NULL),
                     LIFT_OK);
    const uint32_t want_strat[7] = {0, 2, 4, 5, 6, 7, 8};
    assert_int_equal(s.n_test, 7);
    assert_memory_equal(s.test, want_strat, sizeof want_strat);
    lift_split_release(&s);
}

/* Every row lands in test about `fraction` of the time across seeds. */
static void holdout_draw_is_uniform_over_seeds(void **state)
{
    (void)state;
    enum { N = 10, SEEDS = 4000 };
    size_t hits[N] = {0};
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        struct lift_split s;
        assert_int_equal(lift_split_holdout(N, NULL, 0, 0.3, seed, &s, NULL),
                         LIFT_OK);
        for (size_t i = 0; i < s.n_test; i++)
            hits[s.test[i]]++;
        lift_split_release(&s);
    }
    /* expected 1200, standard deviation about 29; allow 5 of them */
    for (size_t r = 0; r < N; r++) {
        assert_true(hits[r] > 1200 - 145);
        assert_true(hits[r] < 1200 + 145);
    }
}

static void holdout_bad_fraction_invalid(void **state)
{
    (void)state;
    const double bad[] = {0.0, 1.0, -0.1, 1.5, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct lift_split s = {(uint32_t *)1, 1, (uint32_t *)1, 1};
        struct lift_error err;
        assert_int_equal(lift_split_holdout(10, NULL, 0, bad[i], 1, &s, &err),
                         LIFT_ERR_INVALID);
        assert_int_equal(err.code, LIFT_ERR_INVALID);
        assert_non_null(strstr(err.msg, "test fraction"));
        assert_zeroed(&s);
    }
}

static void holdout_empty_side_invalid(void **state)
{
    (void)state;
    struct lift_split s;
    struct lift_error err;
    /* round(0.1 * 3) = 0 test rows */
    assert_int_equal(lift_split_holdout(3, NULL, 0, 0.1, 1, &s, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "test side empty"));
    assert_zeroed(&s);
    /* round(0.9 * 3) = 3 test rows */
    assert_int_equal(lift_split_holdout(3, NULL, 0, 0.9, 1, &s, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "training side empty"));
    assert_int_equal(lift_split_holdout(0, NULL, 0, 0.5, 1, &s, &err),
                     LIFT_ERR_INVALID);
    /* stratified: each class of 2 rows rounds 0.2 * 2 = 0.4 down to 0 */
    const uint32_t strata[4] = {0, 1, 0, 1};
    assert_int_equal(lift_split_holdout(4, strata, 2, 0.2, 1, &s, &err),
                     LIFT_ERR_INVALID);
    assert_zeroed(&s);
    assert_int_equal(lift_split_holdout(4, NULL, 0, 0.5, 1, NULL, &err),
                     LIFT_ERR_INVALID);
}

static void holdout_class_out_of_range_invalid(void **state)
{
    (void)state;
    const uint32_t strata[5] = {0, 1, 2, LIFT_MISSING_CODE, 3};
    struct lift_split s;
    struct lift_error err;
    assert_int_equal(lift_split_holdout(5, strata, 3, 0.4, 1, &s, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 4: class 3 out of range (3 classes)");
    assert_zeroed(&s);
    /* only missing rows and no classes: one class of its own */
    const uint32_t missing[4] = {LIFT_MISSING_CODE, LIFT_MISSING_CODE,
                                 LIFT_MISSING_CODE, LIFT_MISSING_CODE};
    assert_int_equal(lift_split_holdout(4, missing, 0, 0.5, 1, &s, &err),
                     LIFT_OK);
    assert_int_equal(s.n_test, 2);
    lift_split_release(&s);
}

static void holdout_too_many_rows_limit(void **state)
{
    (void)state;
    struct lift_split s;
    struct lift_error err;
    assert_int_equal(
        lift_split_holdout((size_t)UINT32_MAX + 1, NULL, 0, 0.5, 1, &s, &err),
        LIFT_ERR_LIMIT);
    assert_zeroed(&s);
    uint32_t *fold = (uint32_t *)1;
    assert_int_equal(
        lift_split_kfold((size_t)UINT32_MAX + 1, NULL, 0, 5, 1, &fold, &err),
        LIFT_ERR_LIMIT);
    assert_null(fold);
}

/* One attempt of a call under injected allocation failure: it checks its
 * own output (valid on LIFT_OK, empty on failure), frees it and returns
 * the code. */
typedef enum lift_code (*attempt_fn)(void);

/* Fails the 1st, 2nd, ... allocation until the call succeeds: each failure
 * must be LIFT_ERR_NOMEM with nothing left behind (ASan checks leaks). */
static void walk_alloc_failures(attempt_fn attempt)
{
    if (!lift_alloc_fail_at(0))
        skip();
    bool succeeded = false;
    for (long nth = 1; nth < 20 && !succeeded; nth++) {
        lift_alloc_fail_at(nth);
        enum lift_code rc = attempt();
        lift_alloc_fail_at(0);
        if (rc == LIFT_OK)
            succeeded = true;
        else
            assert_int_equal(rc, LIFT_ERR_NOMEM);
    }
    assert_true(succeeded);
}

static enum lift_code holdout_attempt(void)
{
    uint32_t strata[MIX_ROWS];
    make_mixed_strata(strata);
    struct lift_split s;
    enum lift_code rc =
        lift_split_holdout(MIX_ROWS, strata, 3, 0.3, 1, &s, NULL);
    if (rc == LIFT_OK)
        assert_partition(&s, MIX_ROWS);
    else
        assert_zeroed(&s);
    lift_split_release(&s);
    return rc;
}

static enum lift_code kfold_attempt(void)
{
    uint32_t strata[MIX_ROWS];
    make_mixed_strata(strata);
    uint32_t *fold = (uint32_t *)1;
    enum lift_code rc =
        lift_split_kfold(MIX_ROWS, strata, 3, 4, 1, &fold, NULL);
    if (rc == LIFT_OK)
        assert_non_null(fold);
    else
        assert_null(fold);
    free(fold);
    return rc;
}

static enum lift_code fold_attempt(void)
{
    const uint32_t fold[6] = {0, 1, 2, 0, 1, 2};
    struct lift_split s;
    enum lift_code rc = lift_split_fold(fold, 6, 1, &s, NULL);
    if (rc == LIFT_OK)
        assert_partition(&s, 6);
    else
        assert_zeroed(&s);
    lift_split_release(&s);
    return rc;
}

static void alloc_failure_nomem_and_clean(void **state)
{
    (void)state;
    walk_alloc_failures(holdout_attempt);
    walk_alloc_failures(kfold_attempt);
    walk_alloc_failures(fold_attempt);
}

static void kfold_balanced_per_class_and_overall(void **state)
{
    (void)state;
    uint32_t strata[MIX_ROWS];
    make_mixed_strata(strata);
    const size_t sizes[4] = {37, 13, 50, 7};
    for (unsigned k = 2; k <= 10; k++) {
        uint32_t *fold = NULL;
        struct lift_error err;
        assert_int_equal(
            lift_split_kfold(MIX_ROWS, strata, 3, k, 11, &fold, &err), LIFT_OK);
        size_t per[4][10] = {{0}}, total[10] = {0};
        for (size_t r = 0; r < MIX_ROWS; r++) {
            assert_true(fold[r] < k);
            uint32_t c = strata[r] == LIFT_MISSING_CODE ? 3 : strata[r];
            per[c][fold[r]]++;
            total[fold[r]]++;
        }
        for (size_t c = 0; c < 4; c++) {
            size_t lo = sizes[c] / k;
            for (unsigned f = 0; f < k; f++)
                assert_true(per[c][f] == lo || per[c][f] == lo + 1);
        }
        size_t lo = MIX_ROWS / k;
        for (unsigned f = 0; f < k; f++)
            assert_true(total[f] == lo || total[f] == lo + 1);
        free(fold);
    }
}

static void kfold_unstratified_and_k_equals_n(void **state)
{
    (void)state;
    uint32_t *fold = NULL;
    assert_int_equal(lift_split_kfold(6, NULL, 0, 6, 3, &fold, NULL), LIFT_OK);
    /* leave-one-out: every fold exactly one row */
    size_t count[6] = {0};
    for (size_t r = 0; r < 6; r++)
        count[fold[r]]++;
    for (size_t f = 0; f < 6; f++)
        assert_int_equal(count[f], 1);
    free(fold);
}

/* As holdout_golden_split_is_stable, for k-fold (full Fisher-Yates of
 * lift_rng_shuffle, then the round-robin deal). */
static void kfold_golden_folds_are_stable(void **state)
{
    (void)state;
    uint32_t *fold = NULL;
    assert_int_equal(lift_split_kfold(8, NULL, 0, 3, 42, &fold, NULL), LIFT_OK);
    const uint32_t want[8] = {2, 1, 0, 1, 0, 0, 2, 1};
    assert_memory_equal(fold, want, sizeof want);
    free(fold);
}

static void kfold_same_seed_same_folds(void **state)
{
    (void)state;
    uint32_t strata[MIX_ROWS];
    make_mixed_strata(strata);
    uint32_t *a = NULL, *b = NULL;
    assert_int_equal(lift_split_kfold(MIX_ROWS, strata, 3, 5, 99, &a, NULL),
                     LIFT_OK);
    assert_int_equal(lift_split_kfold(MIX_ROWS, strata, 3, 5, 99, &b, NULL),
                     LIFT_OK);
    assert_memory_equal(a, b, MIX_ROWS * sizeof *a);
    free(b);
    assert_int_equal(lift_split_kfold(MIX_ROWS, strata, 3, 5, 100, &b, NULL),
                     LIFT_OK);
    assert_memory_not_equal(a, b, MIX_ROWS * sizeof *a);
    free(a);
    free(b);
}

static void kfold_bad_k_invalid(void **state)
{
    (void)state;
    uint32_t *fold = (uint32_t *)1;
    struct lift_error err;
    assert_int_equal(lift_split_kfold(10, NULL, 0, 1, 1, &fold, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "k 1 outside [2, 10] (the row count)");
    assert_null(fold);
    assert_int_equal(lift_split_kfold(10, NULL, 0, 0, 1, &fold, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_split_kfold(10, NULL, 0, 11, 1, &fold, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_split_kfold(1, NULL, 0, 2, 1, &fold, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "k-fold needs at least 2 rows, got 1");
    assert_int_equal(lift_split_kfold(0, NULL, 0, 2, 1, &fold, &err),
                     LIFT_ERR_INVALID);
    assert_null(fold);
    const uint32_t strata[3] = {0, 5, 1};
    assert_int_equal(lift_split_kfold(3, strata, 2, 2, 1, &fold, &err),
                     LIFT_ERR_INVALID);
    assert_null(fold);
    assert_int_equal(lift_split_kfold(3, NULL, 0, 2, 1, NULL, &err),
                     LIFT_ERR_INVALID);
}

static void fold_extraction_covers_every_row_once(void **state)
{
    (void)state;
    uint32_t strata[MIX_ROWS];
    make_mixed_strata(strata);
    uint32_t *fold = NULL;
    const unsigned k = 4;
    assert_int_equal(lift_split_kfold(MIX_ROWS, strata, 3, k, 5, &fold, NULL),
                     LIFT_OK);
    size_t tested[MIX_ROWS] = {0};
    for (unsigned f = 0; f < k; f++) {
        struct lift_split s;
        assert_int_equal(lift_split_fold(fold, MIX_ROWS, f, &s, NULL), LIFT_OK);
        assert_partition(&s, MIX_ROWS);
        for (size_t i = 0; i < s.n_test; i++) {
            assert_int_equal(fold[s.test[i]], f);
            tested[s.test[i]]++;
        }
        for (size_t i = 0; i < s.n_train; i++)
            assert_int_not_equal(fold[s.train[i]], f);
        lift_split_release(&s);
    }
    for (size_t r = 0; r < MIX_ROWS; r++)
        assert_int_equal(tested[r], 1);
    free(fold);
}

static void fold_empty_or_full_invalid(void **state)
{
    (void)state;
    const uint32_t fold[4] = {0, 1, 0, 1};
    struct lift_split s;
    struct lift_error err;
    assert_int_equal(lift_split_fold(fold, 4, 2, &s, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "fold 2 holds no row (4 rows)");
    assert_zeroed(&s);
    const uint32_t one[3] = {0, 0, 0};
    assert_int_equal(lift_split_fold(one, 3, 0, &s, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "fold 0 holds every row (3 rows)");
    assert_int_equal(lift_split_fold(NULL, 3, 0, &s, &err), LIFT_ERR_INVALID);
    assert_int_equal(lift_split_fold(fold, 4, 0, NULL, &err), LIFT_ERR_INVALID);
}

/* ---- lift_split_time (reads small tables from memory) ---- */

static struct lift_table *read_table(const char *csv)
{
    struct lift_table *t = NULL;
    struct lift_error err;
    enum lift_code rc = lift_table_read_mem(csv, strlen(csv), NULL, &t, &err);
    if (rc != LIFT_OK)
        fail_msg("reading the fixture: %s", err.msg);
    return t;
}

/* t by value: missing (row 2), 1 (row 5), 3 (rows 1, 3: file order), 5
 * (row 0), 9 (row 4). */
static const char time_csv[] = "id,t,name\n"
                               "0,5,a\n"
                               "1,3,b\n"
                               "2,,c\n"
                               "3,3,d\n"
                               "4,9,e\n"
                               "5,1,f\n";

static void time_numeric_latest_rows_are_test(void **state)
{
    (void)state;
    struct lift_table *t = read_table(time_csv);
    size_t col;
    assert_int_equal(lift_table_col_index(t, "t", &col, NULL), LIFT_OK);
    assert_int_equal(lift_table_col_type(t, col), LIFT_COL_NUMERIC);
    struct lift_split s;
    /* 3 test rows: 9, 5 and the later of the two 3s (row 3, not row 1) */
    assert_int_equal(lift_split_time(t, col, 0.5, &s, NULL), LIFT_OK);
    const uint32_t want_test[3] = {0, 3, 4};
    const uint32_t want_train[3] = {1, 2, 5};
    assert_int_equal(s.n_test, 3);
    assert_memory_equal(s.test, want_test, sizeof want_test);
    assert_memory_equal(s.train, want_train, sizeof want_train);
    lift_split_release(&s);
    /* 5 of 6: only the missing row stays in train, since missing is first */
    assert_int_equal(lift_split_time(t, col, 0.8, &s, NULL), LIFT_OK);
    assert_int_equal(s.n_train, 1);
    assert_int_equal(s.train[0], 2);
    assert_partition(&s, 6);
    lift_split_release(&s);
    lift_table_free(t);
}

static void time_file_order_without_column(void **state)
{
    (void)state;
    struct lift_table *t = read_table(time_csv);
    struct lift_split s;
    assert_int_equal(lift_split_time(t, (size_t)-1, 0.34, &s, NULL), LIFT_OK);
    /* round(0.34 * 6) = 2: the last two lines */
    const uint32_t want_test[2] = {4, 5};
    assert_int_equal(s.n_test, 2);
    assert_memory_equal(s.test, want_test, sizeof want_test);
    assert_partition(&s, 6);
    lift_split_release(&s);
    lift_table_free(t);
}

static void time_date_column_sorts_by_time(void **state)
{
    (void)state;
    struct lift_table *t = read_table("day,x\n"
                                      "2021-03-01,1\n"
                                      "2020-12-31,2\n"
                                      "2021-01-15T08:00:00Z,3\n"
                                      "2019-07-04,4\n");
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_DATE);
    struct lift_split s;
    /* the latest two: 2021-03-01 (row 0) and 2021-01-15 (row 2) */
    assert_int_equal(lift_split_time(t, 0, 0.5, &s, NULL), LIFT_OK);
    const uint32_t want_test[2] = {0, 2};
    assert_memory_equal(s.test, want_test, sizeof want_test);
    assert_partition(&s, 4);
    lift_split_release(&s);
    lift_table_free(t);
}

static void time_bad_arguments_rejected(void **state)
{
    (void)state;
    struct lift_table *t = read_table(time_csv);
    struct lift_split s;
    struct lift_error err;
    assert_int_equal(lift_split_time(t, 2, 0.5, &s, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_string_equal(err.msg,
                        "time column 'name' is categorical, not numeric or "
                        "date");
    assert_zeroed(&s);
    assert_int_equal(lift_split_time(t, 3, 0.5, &s, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "time column 3 out of range (3 columns)");
    assert_int_equal(lift_split_time(t, 1, 1.0, &s, &err), LIFT_ERR_INVALID);
    assert_int_equal(lift_split_time(t, 1, 0.05, &s, &err), LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "test side empty"));
    assert_int_equal(lift_split_time(NULL, 1, 0.5, &s, &err), LIFT_ERR_INVALID);
    assert_int_equal(lift_split_time(t, 1, 0.5, NULL, &err), LIFT_ERR_INVALID);
    if (lift_alloc_fail_at(1)) {
        assert_int_equal(lift_split_time(t, 1, 0.5, &s, &err), LIFT_ERR_NOMEM);
        lift_alloc_fail_at(2);
        assert_int_equal(lift_split_time(t, 1, 0.5, &s, &err), LIFT_ERR_NOMEM);
        lift_alloc_fail_at(0);
        assert_zeroed(&s);
    }
    lift_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holdout_plain_sizes_partition),
        cmocka_unit_test(holdout_stratified_class_shares_exact),
        cmocka_unit_test(holdout_same_seed_same_split),
        cmocka_unit_test(holdout_class_draw_independent_of_other_classes),
        cmocka_unit_test(holdout_golden_split_is_stable),
        cmocka_unit_test(holdout_draw_is_uniform_over_seeds),
        cmocka_unit_test(holdout_bad_fraction_invalid),
        cmocka_unit_test(holdout_empty_side_invalid),
        cmocka_unit_test(holdout_class_out_of_range_invalid),
        cmocka_unit_test(holdout_too_many_rows_limit),
        cmocka_unit_test(alloc_failure_nomem_and_clean),
        cmocka_unit_test(kfold_balanced_per_class_and_overall),
        cmocka_unit_test(kfold_unstratified_and_k_equals_n),
        cmocka_unit_test(kfold_golden_folds_are_stable),
        cmocka_unit_test(kfold_same_seed_same_folds),
        cmocka_unit_test(kfold_bad_k_invalid),
        cmocka_unit_test(fold_extraction_covers_every_row_once),
        cmocka_unit_test(fold_empty_or_full_invalid),
        cmocka_unit_test(time_numeric_latest_rows_are_test),
        cmocka_unit_test(time_file_order_without_column),
        cmocka_unit_test(time_date_column_sorts_by_time),
        cmocka_unit_test(time_bad_arguments_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
