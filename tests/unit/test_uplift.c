/*
 * test_uplift.c - the uplift evaluation (marketing/uplift.c) on hand-made
 * cases: Qini, AUUC and uplift@k worked out on paper for four rows, ties
 * as one step (any order inside them gives the same figures), a reversed
 * ranking giving a negative Qini, integer weights equal to repeated rows,
 * and a seeded bootstrap that repeats itself.
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

/* cmocka's assert_float_equal works in float. */
#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

#include <lift/table.h>
#include <lift/uplift.h>

#include "marketing/uplift.h"

/* Rows in score order: (T, y=1), (C, y=0), (T, y=0), (C, y=1). */
static const double score4[] = {4, 3, 2, 1};
static const uint8_t arm4[] = {1, 0, 1, 0};
static const uint8_t y4[] = {1, 0, 0, 1};

static void evaluate_hand_case_matches_paper(void **state)
{
    (void)state;
    struct lift_uplift_stats st;
    assert_int_equal(
        lift_uplift_evaluate(score4, arm4, y4, NULL, 4, 0.5, &st, NULL),
        LIFT_OK);
    /* Q at x = .25, .5, .75, 1: .25, .25, .25, 0; trapezoids .1875 and
     * Q(1) = 0. */
    assert_near(st.qini, 0.1875, 1e-12);
    /* U: 0 (no control yet), .5, .375, 0. */
    assert_near(st.auuc, 0.21875, 1e-12);
    assert_near(st.auuc_random, 0, 1e-12);
    /* Top half: one treated responder, one control non-responder. */
    assert_near(st.uplift_at_k, 1.0, 1e-12);
}

static void evaluate_reversed_order_is_negative(void **state)
{
    (void)state;
    const double rev[] = {1, 2, 3, 4};
    struct lift_uplift_stats st;
    assert_int_equal(
        lift_uplift_evaluate(rev, arm4, y4, NULL, 4, 0.5, &st, NULL), LIFT_OK);
    assert_true(st.qini < 0);
    assert_near(st.uplift_at_k, -1.0, 1e-12);
}

static void evaluate_all_tied_is_random_line(void **state)
{
    (void)state;
    const double tied[] = {7, 7, 7, 7};
    struct lift_uplift_stats st;
    assert_int_equal(
        lift_uplift_evaluate(tied, arm4, y4, NULL, 4, 1.0, &st, NULL), LIFT_OK);
    assert_near(st.qini, 0, 1e-12);
    assert_near(st.auuc, st.auuc_random, 1e-12);
    /* The order of tied rows does not matter. */
    const uint8_t arm_b[] = {0, 1, 0, 1}, y_b[] = {1, 0, 0, 1};
    struct lift_uplift_stats sb;
    assert_int_equal(
        lift_uplift_evaluate(tied, arm_b, y_b, NULL, 4, 1.0, &sb, NULL),
        LIFT_OK);
    assert_near(st.qini, sb.qini, 1e-12);
    assert_near(st.auuc, sb.auuc, 1e-12);
}

static void evaluate_weights_equal_repeated_rows(void **state)
{
    (void)state;
    const uint32_t w[] = {2, 1, 3, 1};
    const double s7[] = {4, 4, 3, 2, 2, 2, 1};
    const uint8_t a7[] = {1, 1, 0, 1, 1, 1, 0};
    const uint8_t y7[] = {1, 1, 0, 0, 0, 0, 1};
    struct lift_uplift_stats sw, sr;
    assert_int_equal(
        lift_uplift_evaluate(score4, arm4, y4, w, 4, 0.3, &sw, NULL), LIFT_OK);
    assert_int_equal(lift_uplift_evaluate(s7, a7, y7, NULL, 7, 0.3, &sr, NULL),
                     LIFT_OK);
    assert_near(sw.qini, sr.qini, 1e-12);
    assert_near(sw.auuc, sr.auuc, 1e-12);
}

static void evaluate_one_arm_is_nan(void **state)
{
    (void)state;
    const uint8_t all_t[] = {1, 1, 1, 1};
    struct lift_uplift_stats st;
    assert_int_equal(
        lift_uplift_evaluate(score4, all_t, y4, NULL, 4, 0.5, &st, NULL),
        LIFT_OK);
    assert_true(isnan(st.qini));
    assert_true(isnan(st.uplift_at_k));
    struct lift_error err;
    assert_int_equal(
        lift_uplift_evaluate(score4, arm4, y4, NULL, 4, 0, &st, &err),
        LIFT_ERR_INVALID);
    assert_int_equal(
        lift_uplift_evaluate(score4, arm4, y4, NULL, 0, 0.5, &st, &err),
        LIFT_ERR_INVALID);
}

static void bootstrap_same_seed_same_interval(void **state)
{
    (void)state;
    enum { N = 400 };
    double s[N];
    uint8_t a[N], y[N];
    uint32_t order[N];
    for (size_t i = 0; i < N; i++) {
        s[i] = (double)(i % 97);
        a[i] = (uint8_t)(i % 2);
        /* treated rows with a high score respond more */
        y[i] = (uint8_t)(a[i] ? s[i] > 40 : i % 5 == 0);
    }
    assert_int_equal(uplift_order(s, N, order, NULL), LIFT_OK);
    double lo1, hi1, b1, lo2, hi2, b2;
    assert_int_equal(
        uplift_bootstrap(order, s, a, y, N, 0.3, 200, 9, &lo1, &hi1, &b1, NULL),
        LIFT_OK);
    assert_int_equal(
        uplift_bootstrap(order, s, a, y, N, 0.3, 200, 9, &lo2, &hi2, &b2, NULL),
        LIFT_OK);
    assert_true(lo1 == lo2 && hi1 == hi2 && b1 == b2);
    assert_true(lo1 > 0 && lo1 <= hi1);
    assert_true(b1 >= 0.95);
}

/* Treated rows (all responders) ranked above control rows (none): the
 * Qini depends only on the arm sizes, so a bootstrap that keeps them
 * (resampling within each arm) gives the same Qini in every resample;
 * one that pooled the arms would not. */
static void bootstrap_resamples_within_arms(void **state)
{
    (void)state;
    enum { N = 300, NT = 120 };
    double s[N];
    uint8_t a[N], y[N];
    uint32_t order[N];
    for (size_t i = 0; i < N; i++) {
        a[i] = i < NT;
        y[i] = a[i];
        s[i] = (double)(N - i);
    }
    assert_int_equal(uplift_order(s, N, order, NULL), LIFT_OK);
    struct lift_uplift_stats st;
    uplift_eval_sorted(order, s, a, y, NULL, N, 0.3, &st, NULL, NULL, NULL);
    /* Q rises to NT / N over the treated, then stays: area
     * (NT/N)^2 / 2 + (NT/N)(1 - NT/N), minus Q(1) / 2. */
    double f = (double)NT / N;
    assert_near(st.qini, f * f / 2 + f * (1 - f) - f / 2, 1e-12);
    double lo, hi, beats;
    assert_int_equal(uplift_bootstrap(order, s, a, y, N, 0.3, 200, 5, &lo, &hi,
                                      &beats, NULL),
                     LIFT_OK);
    assert_near(lo, st.qini, 1e-12);
    assert_near(hi, st.qini, 1e-12);
    /* The top 30 % holds no control row: its uplift is undefined, which
     * never counts as beating a random 30 %. */
    assert_near(beats, 0.0, 1e-12);
}

/* Arms 0 (control), 1 and 2 over n rows; every 7th row has no arm. */
static void partition_rows(uint32_t *arm_of, uint8_t *y, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        arm_of[r] = r % 7 == 3 ? LIFT_MISSING_CODE : (uint32_t)(r % 3);
        y[r] = (uint8_t)(r % 5 == 0 || r % 11 == 0);
    }
}

static void partition_kfold_scores_each_row_once_out_of_fold(void **state)
{
    (void)state;
    enum { N = 1001, K = 5 };
    uint32_t arm_of[N];
    uint8_t y[N], part[N];
    partition_rows(arm_of, y, N);
    unsigned rounds;
    size_t n_train, n_test, n_arm = 0;
    assert_int_equal(uplift_partition(arm_of, y, N, 3, K, 0.3, 42, part,
                                      &rounds, &n_train, &n_test, NULL),
                     LIFT_OK);
    assert_int_equal(rounds, K);
    size_t per_round[K] = {0}, stratum[K][6] = {{0}};
    for (size_t r = 0; r < N; r++) {
        if (arm_of[r] == LIFT_MISSING_CODE) {
            /* A row without an arm takes no part anywhere. */
            assert_false(uplift_is_test(part, rounds, r));
            for (unsigned f = 0; f < K; f++) {
                assert_false(uplift_is_train(part, rounds, r, f));
                assert_false(uplift_scored_by(part, rounds, r, f));
            }
            continue;
        }
        n_arm++;
        assert_true(uplift_is_test(part, rounds, r));
        unsigned scored = 0, trained = 0;
        for (unsigned f = 0; f < K; f++) {
            bool s = uplift_scored_by(part, rounds, r, f);
            bool t = uplift_is_train(part, rounds, r, f);
            /* Never scored by a model it trained. */
            assert_false(s && t);
            if (s) {
                scored++;
                per_round[f]++;
                stratum[f][arm_of[r] * 2 + y[r]]++;
            }
            trained += t;
        }
        /* Scored by exactly one round; trains all the others. */
        assert_int_equal(scored, 1);
        assert_int_equal(trained, K - 1);
    }
    assert_int_equal(n_test, n_arm);
    /* Folds stratified by arm x outcome: within one row per stratum. */
    for (size_t c = 0; c < 6; c++) {
        size_t lo = SIZE_MAX, hi = 0;
        for (unsigned f = 0; f < K; f++) {
            lo = stratum[f][c] < lo ? stratum[f][c] : lo;
            hi = stratum[f][c] > hi ? stratum[f][c] : hi;
        }
        assert_true(hi - lo <= 1);
    }
    for (unsigned f = 0; f < K; f++)
        assert_true(per_round[f] >= n_arm / K - 1 &&
                    per_round[f] <= n_arm / K + 1);
}

static void partition_holdout_evaluates_only_unseen_rows(void **state)
{
    (void)state;
    enum { N = 1001 };
    uint32_t arm_of[N];
    uint8_t y[N], part[N], part2[N];
    partition_rows(arm_of, y, N);
    unsigned rounds;
    size_t n_train, n_test, tests = 0, trains = 0;
    assert_int_equal(uplift_partition(arm_of, y, N, 3, 0, 0.3, 42, part,
                                      &rounds, &n_train, &n_test, NULL),
                     LIFT_OK);
    assert_int_equal(rounds, 1);
    for (size_t r = 0; r < N; r++) {
        bool has_arm = arm_of[r] != LIFT_MISSING_CODE;
        bool test = uplift_is_test(part, rounds, r);
        bool train = uplift_is_train(part, rounds, r, 0);
        /* Each row with an arm is test or train, never both. */
        assert_true(has_arm ? test != train : !test && !train);
        assert_int_equal(uplift_scored_by(part, rounds, r, 0), has_arm);
        tests += test;
        trains += train;
    }
    assert_int_equal(tests, n_test);
    assert_int_equal(trains, n_train);
    assert_true(fabs((double)n_test / (double)(n_test + n_train) - 0.3) < 0.01);
    /* The same seed gives the same split; another seed another one. */
    assert_int_equal(uplift_partition(arm_of, y, N, 3, 0, 0.3, 42, part2,
                                      &rounds, &n_train, &n_test, NULL),
                     LIFT_OK);
    assert_memory_equal(part, part2, N);
    assert_int_equal(uplift_partition(arm_of, y, N, 3, 0, 0.3, 43, part2,
                                      &rounds, &n_train, &n_test, NULL),
                     LIFT_OK);
    assert_memory_not_equal(part, part2, N);
    struct lift_error err;
    assert_int_equal(uplift_partition(arm_of, y, N, 3, 1, 0.3, 42, part2,
                                      &rounds, &n_train, &n_test, &err),
                     LIFT_ERR_INVALID);
}

/* The paper case is already in the best order: its Qini is the perfect
 * one. Any other order of the same rows scores at most that. */
static void perfect_qini_bounds_every_order(void **state)
{
    (void)state;
    double perfect;
    assert_int_equal(uplift_perfect_qini(arm4, y4, 4, &perfect, NULL), LIFT_OK);
    assert_near(perfect, 0.1875, 1e-12);
    enum { N = 200 };
    double s[N];
    uint8_t a[N], y[N];
    for (size_t i = 0; i < N; i++) {
        a[i] = (uint8_t)(i % 3 != 0);
        y[i] = (uint8_t)(i % 4 == 0 || i % 7 == 0);
    }
    assert_int_equal(uplift_perfect_qini(a, y, N, &perfect, NULL), LIFT_OK);
    for (unsigned m = 1; m < 40; m++) {
        for (size_t i = 0; i < N; i++)
            s[i] = (double)((i * m * 37) % 101);
        struct lift_uplift_stats st;
        assert_int_equal(lift_uplift_evaluate(s, a, y, NULL, N, 0.3, &st, NULL),
                         LIFT_OK);
        assert_true(st.qini <= perfect + 1e-12);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evaluate_hand_case_matches_paper),
        cmocka_unit_test(evaluate_reversed_order_is_negative),
        cmocka_unit_test(evaluate_all_tied_is_random_line),
        cmocka_unit_test(evaluate_weights_equal_repeated_rows),
        cmocka_unit_test(evaluate_one_arm_is_nan),
        cmocka_unit_test(bootstrap_same_seed_same_interval),
        cmocka_unit_test(bootstrap_resamples_within_arms),
        cmocka_unit_test(perfect_qini_bounds_every_order),
        cmocka_unit_test(partition_kfold_scores_each_row_once_out_of_fold),
        cmocka_unit_test(partition_holdout_evaluates_only_unseen_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
