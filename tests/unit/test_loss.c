/*
 * tests/unit/test_loss.c - losses and links (models/loss.c): reference
 * values computed with mpmath at 40 digits, stability at extreme scores
 * (no overflow, tiny losses not rounded to 0), and every gradient
 * against central differences of its loss.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "models/loss.h"

/* |a - b| <= tol * max(1, |b|) */
static void assert_close(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol * fmax(1.0, fabs(b))))
        fail_msg("%.17g != %.17g (tol %g)", a, b, tol);
}

static void assert_rel(double a, double b, double rel)
{
    if (!(fabs(a - b) <= rel * fabs(b)))
        fail_msg("%.17g != %.17g (relative %g)", a, b, rel);
}

static void sigmoid_reference_values_match(void **state)
{
    (void)state;
    assert_true(lift_sigmoid(0.0) == 0.5);
    assert_rel(lift_sigmoid(-30.0), 9.357622968839298954e-14, 1e-15);
    assert_rel(lift_sigmoid(30.0), 1.0 - 9.357622968839298954e-14, 1e-15);
    assert_rel(lift_sigmoid(2.0) + lift_sigmoid(-2.0), 1.0, 2e-16);
}

static void sigmoid_extreme_scores_no_overflow(void **state)
{
    (void)state;
    assert_true(lift_sigmoid(800.0) == 1.0);
    assert_true(lift_sigmoid(-800.0) == 0.0);
    assert_rel(lift_sigmoid(-700.0), exp(-700.0), 1e-12);
}

static void softplus_negative_tail_not_rounded(void **state)
{
    (void)state;
    assert_rel(lift_softplus(-40.0), 4.248354255291588986e-18, 1e-15);
    assert_true(lift_softplus(40.0) == 40.0);
    assert_true(lift_softplus(1000.0) == 1000.0);
    assert_rel(lift_softplus(0.0), log(2.0), 1e-16);
}

static void logistic_loss_reference_values(void **state)
{
    (void)state;
    assert_rel(lift_loss_logistic(0.5, 1.0, 1.0, NULL), 0.4740769841801066809,
               1e-15);
    assert_rel(lift_loss_logistic(0.5, 0.0, 1.0, NULL), 0.9740769841801066809,
               1e-15);
    assert_rel(lift_loss_logistic(0.5, 0.0, 3.0, NULL),
               3.0 * 0.9740769841801066809, 1e-15);
}

static void logistic_loss_confident_right_tiny_not_zero(void **state)
{
    (void)state;
    double g;
    double l = lift_loss_logistic(40.0, 1.0, 1.0, &g);
    assert_rel(l, 4.248354255291588986e-18, 1e-12);
    assert_rel(g, -4.248354255291588986e-18, 1e-12);
    l = lift_loss_logistic(-40.0, 0.0, 1.0, &g);
    assert_rel(l, 4.248354255291588986e-18, 1e-12);
}

static void logistic_loss_confident_wrong_linear_finite(void **state)
{
    (void)state;
    double g;
    assert_true(lift_loss_logistic(1000.0, 0.0, 1.0, &g) == 1000.0);
    assert_true(g == 1.0);
    assert_true(lift_loss_logistic(-1000.0, 1.0, 2.0, &g) == 2000.0);
    assert_true(g == -2.0);
}

static void logistic_gradient_matches_central_difference(void **state)
{
    (void)state;
    const double zs[] = {-8.0, -2.5, -0.3, 0.0, 0.7, 3.0, 9.0};
    const double ys[] = {0.0, 1.0, 0.25};
    const double h = 1e-5;
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        for (size_t j = 0; j < 3; j++) {
            double g;
            lift_loss_logistic(zs[i], ys[j], 2.5, &g);
            double num = (lift_loss_logistic(zs[i] + h, ys[j], 2.5, NULL) -
                          lift_loss_logistic(zs[i] - h, ys[j], 2.5, NULL)) /
                         (2 * h);
            assert_close(g, num, 1e-8);
        }
    }
}

static void squared_loss_value_and_gradient(void **state)
{
    (void)state;
    double g;
    assert_true(lift_loss_squared(3.0, 1.0, 2.0, &g) == 4.0);
    assert_true(g == 4.0);
    const double h = 1e-5;
    for (double f = -3.0; f <= 3.0; f += 0.75) {
        lift_loss_squared(f, 0.4, 1.5, &g);
        double num = (lift_loss_squared(f + h, 0.4, 1.5, NULL) -
                      lift_loss_squared(f - h, 0.4, 1.5, NULL)) /
                     (2 * h);
        assert_close(g, num, 1e-8);
    }
}

static void logsumexp_reference_and_shift(void **state)
{
    (void)state;
    const double z[] = {1.0, -2.0, 0.5, 3.0};
    assert_rel(lift_logsumexp(z, 4), 3.2022534476793517584, 1e-15);
    const double big[] = {1001.0, 998.0, 1000.5, 1003.0};
    assert_rel(lift_logsumexp(big, 4), 1003.2022534476793518, 1e-15);
    const double ninf[] = {-INFINITY, -INFINITY};
    assert_true(isinf(lift_logsumexp(ninf, 2)) && lift_logsumexp(ninf, 2) < 0);
}

static void softmax_reference_sums_to_one(void **state)
{
    (void)state;
    const double z[] = {1.0, -2.0, 0.5, 3.0};
    const double want[] = {0.11055375036173920551, 0.0055041471275836729421,
                           0.067054239140611466315, 0.81688786337006565524};
    double p[4];
    lift_softmax(z, 4, p);
    double sum = 0.0;
    for (size_t i = 0; i < 4; i++) {
        assert_rel(p[i], want[i], 1e-14);
        sum += p[i];
    }
    assert_rel(sum, 1.0, 1e-15);
}

static void softmax_in_place_large_logits_finite(void **state)
{
    (void)state;
    double z[] = {1000.0, 1000.0, -1000.0};
    lift_softmax(z, 3, z);
    assert_rel(z[0], 0.5, 1e-15);
    assert_rel(z[1], 0.5, 1e-15);
    assert_true(z[2] == 0.0);
}

static void softmax_loss_reference_values(void **state)
{
    (void)state;
    const double z[] = {1.0, -2.0, 0.5, 3.0};
    assert_rel(lift_loss_softmax(z, 4, 1, 1.0, NULL), 5.2022534476793517584,
               1e-15);
    const double tie[] = {700.0, 700.0};
    assert_rel(lift_loss_softmax(tie, 2, 0, 1.0, NULL), log(2.0), 1e-12);
    const double one[] = {5.0};
    assert_true(lift_loss_softmax(one, 1, 0, 1.0, NULL) == 0.0);
}

static void softmax_gradient_matches_central_difference(void **state)
{
    (void)state;
    double z[5] = {0.3, -1.2, 2.0, 0.0, -0.4}, g[5];
    const double h = 1e-5;
    for (size_t c = 0; c < 5; c++) {
        lift_loss_softmax(z, 5, c, 0.75, g);
        double gsum = 0.0;
        for (size_t i = 0; i < 5; i++) {
            double keep = z[i];
            z[i] = keep + h;
            double up = lift_loss_softmax(z, 5, c, 0.75, NULL);
            z[i] = keep - h;
            double down = lift_loss_softmax(z, 5, c, 0.75, NULL);
            z[i] = keep;
            assert_close(g[i], (up - down) / (2 * h), 1e-8);
            gsum += g[i];
        }
        assert_close(gsum, 0.0, 1e-15); /* shift invariance */
    }
}

static void loss_check_rows_first_bad_row_named(void **state)
{
    (void)state;
    struct lift_error err;
    const double bin[] = {0, 1, 1, 0.5}, reg[] = {1.5, -2, NAN};
    const double cls[] = {0, 2, 1, 3}, w[] = {1, 0, -0.5};
    assert_int_equal(lift_loss_check_rows(LIFT_TASK_BINARY, 2, bin, NULL, 3,
                                          "training", &err),
                     LIFT_OK);
    assert_int_equal(lift_loss_check_rows(LIFT_TASK_BINARY, 2, bin, NULL, 4,
                                          "training", &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "training label 0.5 of row 3 is not 0 or 1");
    assert_int_equal(lift_loss_check_rows(LIFT_TASK_REGRESSION, 1, reg, NULL, 3,
                                          "validation", &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "validation target of row 2 is not finite");
    assert_int_equal(lift_loss_check_rows(LIFT_TASK_MULTICLASS, 3, cls, NULL, 4,
                                          "training", &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg,
                        "training label 3 of row 3 is not a class id below 3");
    assert_int_equal(lift_loss_check_rows(LIFT_TASK_REGRESSION, 1, reg, w, 2,
                                          "training", &err),
                     LIFT_OK);
    assert_int_equal(lift_loss_check_rows(LIFT_TASK_MULTICLASS, 3, cls, w, 3,
                                          "training", &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "training weight -0.5 of row 2 is not a "
                                 "finite number >= 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigmoid_reference_values_match),
        cmocka_unit_test(sigmoid_extreme_scores_no_overflow),
        cmocka_unit_test(softplus_negative_tail_not_rounded),
        cmocka_unit_test(logistic_loss_reference_values),
        cmocka_unit_test(logistic_loss_confident_right_tiny_not_zero),
        cmocka_unit_test(logistic_loss_confident_wrong_linear_finite),
        cmocka_unit_test(logistic_gradient_matches_central_difference),
        cmocka_unit_test(squared_loss_value_and_gradient),
        cmocka_unit_test(logsumexp_reference_and_shift),
        cmocka_unit_test(softmax_reference_sums_to_one),
        cmocka_unit_test(softmax_in_place_large_logits_finite),
        cmocka_unit_test(softmax_loss_reference_values),
        cmocka_unit_test(softmax_gradient_matches_central_difference),
        cmocka_unit_test(loss_check_rows_first_bad_row_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
