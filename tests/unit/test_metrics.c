/*
 * test_metrics.c - evaluation metrics (eval/metrics.c).
 *
 * Each metric is checked three ways: against values worked out by hand on
 * a few rows (written next to the test), against scikit-learn 1.2.1 on
 * fixed inputs with ties, both ends of [0, 1] and weights (the numbers
 * were printed once by tests/unit/metrics_ref.py with Debian's
 * python3-sklearn and pasted here; each block names the call), and, for
 * AUC, against an O(n^2) count of all pairs. The 1000-row inputs come
 * from integer formulas that the script repeats, so no data file is
 * needed. Also: the contract for undefined metrics (NAN, LIFT_OK), every
 * invalid input, and cleanup under injected allocation failures.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <lift/metrics.h>

#include "core/alloc.h"
#include "eval/metrics.h"

/* Exact metrics agree with sklearn to rounding; 1e-9 leaves room for a
 * different summation order and nothing else. */
#define TOL 1e-9

static void near(double got, double want, double tol, const char *what)
{
    if (isnan(want) ? !isnan(got) : !(fabs(got - want) <= tol))
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

#define assert_near(got, want) near((got), (want), TOL, #got)

/* ---- shared fixtures (repeated in metrics_ref.py) ---- */

enum { SMALL_N = 20 };
static const uint8_t small_y[SMALL_N] = {1, 0, 1, 1, 0, 0, 1, 0, 0, 1,
                                         0, 1, 0, 0, 1, 0, 1, 0, 0, 1};
static const double small_p[SMALL_N] = {0.9, 0.8,  0.8, 0.7,  0.6,  0.55, 0.5,
                                        0.5, 0.45, 0.4, 0.4,  0.35, 0.3,  0.2,
                                        0.2, 0.15, 0.1, 0.05, 0.0,  1.0};
static const double small_w[SMALL_N] = {0.5,  2.0, 1.0,  1.5, 0.0, 3.0, 1.0,
                                        0.25, 2.0, 1.0,  1.0, 0.5, 1.5, 2.0,
                                        1.0,  1.0, 0.75, 1.0, 2.5, 1.0};

/* k = 37 i mod 101; p = k / 100 capped at 1; y = k + (11 i mod 53) > 70;
 * w = 1 + (i mod 5) / 2. Many ties: 101 distinct scores. */
static void gen(size_t n, uint8_t *y, double *p, double *w)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = (i * 37) % 101;
        p[i] = fmin((double)k / 100.0, 1.0);
        y[i] = k + (i * 11) % 53 > 70;
        if (w)
            w[i] = 1.0 + (double)(i % 5) * 0.5;
    }
}

static void assert_binary(const struct lift_binary_metrics *got,
                          const struct lift_binary_metrics *want)
{
    near(got->auc, want->auc, TOL, "auc");
    near(got->pr_auc, want->pr_auc, TOL, "pr_auc");
    near(got->logloss, want->logloss, TOL, "logloss");
    near(got->brier, want->brier, TOL, "brier");
    near(got->accuracy, want->accuracy, TOL, "accuracy");
    near(got->precision, want->precision, TOL, "precision");
    near(got->recall, want->recall, TOL, "recall");
    near(got->f1, want->f1, TOL, "f1");
    near(got->f1_best, want->f1_best, TOL, "f1_best");
    near(got->f1_threshold, want->f1_threshold, 0.0, "f1_threshold");
}

static void assert_gains(const struct lift_gains_row *got,
                         const struct lift_gains_row *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].rows, want[i].rows);
        assert_int_equal(got[i].positives, want[i].positives);
        assert_near(got[i].min_score, want[i].min_score);
        assert_near(got[i].max_score, want[i].max_score);
        assert_near(got[i].rate, want[i].rate);
        assert_near(got[i].lift, want[i].lift);
        assert_int_equal(got[i].cum_rows, want[i].cum_rows);
        assert_int_equal(got[i].cum_positives, want[i].cum_positives);
        assert_near(got[i].cum_gain, want[i].cum_gain);
        assert_near(got[i].cum_lift, want[i].cum_lift);
    }
}

/* ---- lift_rank_desc ---- */

static void rank_desc_ties_keep_row_order(void **state)
{
    (void)state;
    /* 200 rows over 7 distinct scores: the merge path, with long ties */
    enum { N = 200 };
    double s[N];
    for (size_t i = 0; i < N; i++)
        s[i] = (double)((i * 5) % 7) - 3.0;
    struct lift_ranked *r = NULL;
    assert_int_equal(lift_rank_desc(s, N, &r, NULL), LIFT_OK);
    bool seen[N] = {false};
    for (size_t i = 0; i < N; i++) {
        assert_true(r[i].row < N);
        assert_false(seen[r[i].row]);
        seen[r[i].row] = true;
        assert_true(r[i].score == s[r[i].row]);
        if (i > 0) {
            assert_true(r[i - 1].score >= r[i].score);
            if (r[i - 1].score == r[i].score)
                assert_true(r[i - 1].row < r[i].row);
        }
    }
    lift_free(r);

    /* sizes around the insertion-run length, already sorted and reversed */
    for (size_t n = 0; n <= 70; n++) {
        double up[70], down[70];
        for (size_t i = 0; i < n; i++) {
            up[i] = (double)i;
            down[i] = (double)(n - i);
        }
        assert_int_equal(lift_rank_desc(up, n, &r, NULL), LIFT_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(r[i].row, n - 1 - i);
        lift_free(r);
        assert_int_equal(lift_rank_desc(down, n, &r, NULL), LIFT_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(r[i].row, i);
        lift_free(r);
    }
}

/* ---- lift_auc ---- */

static void auc_hand_values_exact(void **state)
{
    (void)state;
    double auc;
    /* the classic example: of the 4 pairs, 0.35 < 0.4 is the one lost */
    const uint8_t y1[4] = {0, 0, 1, 1};
    const double s1[4] = {0.1, 0.4, 0.35, 0.8};
    assert_int_equal(lift_auc(y1, s1, NULL, 4, &auc, NULL), LIFT_OK);
    assert_near(auc, 0.75);
    /* a tie counts one half */
    const uint8_t y2[2] = {0, 1};
    const double s2[2] = {0.5, 0.5};
    assert_int_equal(lift_auc(y2, s2, NULL, 2, &auc, NULL), LIFT_OK);
    assert_near(auc, 0.5);
    /* pairs (pos, neg): (.9,.9) 1/2, (.9,.1) 1, (.2,.9) 0, (.2,.1) 1 */
    const uint8_t y3[4] = {1, 0, 1, 0};
    const double s3[4] = {0.9, 0.9, 0.2, 0.1};
    assert_int_equal(lift_auc(y3, s3, NULL, 4, &auc, NULL), LIFT_OK);
    assert_near(auc, 2.5 / 4.0);
    /* weights multiply per pair: (.9,.9) 3*2/2, (.9,.1) 3*1, (.2,.9) 0,
     * (.2,.1) 1*1, over (3 + 1) * (2 + 1) */
    const double w3[4] = {3.0, 2.0, 1.0, 1.0};
    assert_int_equal(lift_auc(y3, s3, w3, 4, &auc, NULL), LIFT_OK);
    assert_near(auc, (3.0 + 3.0 + 1.0) / 12.0);
    /* raw scores and infinities rank as well as probabilities */
    const double s4[4] = {-INFINITY, 7.0, -2.0, INFINITY};
    assert_int_equal(lift_auc(y1, s4, NULL, 4, &auc, NULL), LIFT_OK);
    assert_near(auc, 0.75);
}

static void auc_single_class_nan_ok(void **state)
{
    (void)state;
    double auc = 0.0;
    const uint8_t zeros[3] = {0, 0, 0}, ones[3] = {1, 1, 1};
    const double s[3] = {0.1, 0.2, 0.3};
    assert_int_equal(lift_auc(zeros, s, NULL, 3, &auc, NULL), LIFT_OK);
    assert_true(isnan(auc));
    auc = 0.0;
    assert_int_equal(lift_auc(ones, s, NULL, 3, &auc, NULL), LIFT_OK);
    assert_true(isnan(auc));
    /* the only negative weighs 0: one class left */
    const uint8_t y[3] = {1, 0, 1};
    const double w[3] = {1.0, 0.0, 1.0};
    auc = 0.0;
    assert_int_equal(lift_auc(y, s, w, 3, &auc, NULL), LIFT_OK);
    assert_true(isnan(auc));
}

/* sklearn.metrics.roc_auc_score(y, p, sample_weight=w) */
static void auc_matches_sklearn(void **state)
{
    (void)state;
    double auc;
    assert_int_equal(lift_auc(small_y, small_p, NULL, SMALL_N, &auc, NULL),
                     LIFT_OK);
    assert_near(auc, 0.6666666666666665);
    assert_int_equal(lift_auc(small_y, small_p, small_w, SMALL_N, &auc, NULL),
                     LIFT_OK);
    assert_near(auc, 0.6918414918414918);

    enum { N = 1000 };
    uint8_t y[N];
    double p[N], w[N];
    gen(N, y, p, w);
    assert_int_equal(lift_auc(y, p, NULL, N, &auc, NULL), LIFT_OK);
    assert_near(auc, 0.9528636501670209);
    assert_int_equal(lift_auc(y, p, w, N, &auc, NULL), LIFT_OK);
    assert_near(auc, 0.9524168454637142);
}

/* The fast path against the definition: every (positive, negative) pair. */
static void auc_matches_all_pairs_count(void **state)
{
    (void)state;
    enum { N = 600 };
    uint8_t y[N];
    double p[N], w[N];
    gen(N, y, p, w);
    for (int weighted = 0; weighted < 2; weighted++) {
        const double *wp = weighted ? w : NULL;
        double num = 0.0, den = 0.0;
        for (size_t i = 0; i < N; i++) {
            if (!y[i])
                continue;
            for (size_t j = 0; j < N; j++) {
                if (y[j])
                    continue;
                double pair = (wp ? wp[i] * wp[j] : 1.0);
                den += pair;
                if (p[i] > p[j])
                    num += pair;
                else if (p[i] == p[j])
                    num += 0.5 * pair;
            }
        }
        double auc;
        assert_int_equal(lift_auc(y, p, wp, N, &auc, NULL), LIFT_OK);
        assert_near(auc, num / den);
    }
}

static void auc_order_properties_hold(void **state)
{
    (void)state;
    enum { N = 300 };
    uint8_t y[N];
    double p[N], logit[N], neg[N];
    gen(N, y, p, NULL);
    for (size_t i = 0; i < N; i++) {
        /* a strictly increasing map keeps the ranking and the ties */
        logit[i] = log((p[i] + 0.01) / (1.01 - p[i]));
        neg[i] = -p[i];
    }
    double a, b, c;
    assert_int_equal(lift_auc(y, p, NULL, N, &a, NULL), LIFT_OK);
    assert_int_equal(lift_auc(y, logit, NULL, N, &b, NULL), LIFT_OK);
    assert_int_equal(lift_auc(y, neg, NULL, N, &c, NULL), LIFT_OK);
    assert_near(b, a);
    assert_near(c, 1.0 - a);
}

static void auc_invalid_inputs(void **state)
{
    (void)state;
    const uint8_t y[3] = {0, 1, 2};
    const double s[3] = {0.1, NAN, 0.3};
    const uint8_t ok_y[3] = {0, 1, 1};
    const double ok_s[3] = {0.1, 0.2, 0.3};
    struct lift_error err;
    double auc = 0.0;
    assert_int_equal(lift_auc(ok_y, ok_s, NULL, 0, &auc, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "no rows to evaluate");
    assert_true(isnan(auc));
    assert_int_equal(lift_auc(y, ok_s, NULL, 3, &auc, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 2: label 2 is not 0 or 1");
    assert_int_equal(lift_auc(ok_y, s, NULL, 3, &auc, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 1: score is nan");
    assert_int_equal(lift_auc(NULL, ok_s, NULL, 3, &auc, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_auc(ok_y, NULL, NULL, 3, &auc, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_auc(ok_y, ok_s, NULL, 3, NULL, &err),
                     LIFT_ERR_INVALID);
    const double bad_w[3] = {1.0, -1.0, 1.0};
    assert_int_equal(lift_auc(ok_y, ok_s, bad_w, 3, &auc, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 1: weight -1 is negative or not finite");
    const double inf_w[3] = {1.0, 1.0, INFINITY};
    assert_int_equal(lift_auc(ok_y, ok_s, inf_w, 3, &auc, &err),
                     LIFT_ERR_INVALID);
    const double zero_w[3] = {0.0, 0.0, 0.0};
    assert_int_equal(lift_auc(ok_y, ok_s, zero_w, 3, &auc, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "weights sum to zero");
}

/* ---- lift_metrics_binary ---- */

static void binary_hand_values_exact(void **state)
{
    (void)state;
    struct lift_binary_metrics m;
    /* at 0.5 the predictions are 1 0 1 0 1: tp 2 (rows 0, 4), fp 1
     * (row 2), fn 1 (row 1), tn 1. Scanning thresholds down: 0.9 gives
     * F1 = 2/(1+0+3) = 0.5; 0.5: 4/(2+1+3); 0.4: 6/(3+1+3) = 6/7, the
     * best; 0.1: 6/(3+2+3). */
    const uint8_t y[5] = {1, 1, 0, 0, 1};
    const double p[5] = {0.9, 0.4, 0.5, 0.1, 0.5};
    assert_int_equal(lift_metrics_binary(y, p, NULL, 5, &m, NULL), LIFT_OK);
    assert_int_equal(m.rows, 5);
    assert_int_equal(m.positives, 3);
    assert_near(m.accuracy, 3.0 / 5.0);
    assert_near(m.precision, 2.0 / 3.0);
    assert_near(m.recall, 2.0 / 3.0);
    assert_near(m.f1, 2.0 / 3.0);
    assert_near(m.f1_best, 6.0 / 7.0);
    assert_near(m.f1_threshold, 0.4);
    /* brier: (0.01 + 0.36 + 0.25 + 0.01 + 0.25) / 5 */
    assert_near(m.brier, 0.88 / 5.0);
    /* log loss: -(ln .9 + ln .4 + ln .5 + ln .9 + ln .5) / 5 */
    assert_near(m.logloss, -(2.0 * log(0.9) + log(0.4) + 2.0 * log(0.5)) / 5.0);
    /* (positive, negative) pairs: .9 beats .5 and .1; .4 loses to .5 and
     * beats .1; .5 ties .5 (one half) and beats .1: 4.5 of 6 */
    assert_near(m.auc, (2.0 + 1.0 + 1.5) / 6.0);

    /* F1 ties between thresholds 0.8 (tp 1, fp 0: 2/3) and 0.2 (tp 2, fp 2:
     * 4/6): the higher threshold is reported */
    const uint8_t yt[4] = {1, 0, 0, 1};
    const double pt[4] = {0.8, 0.6, 0.4, 0.2};
    assert_int_equal(lift_metrics_binary(yt, pt, NULL, 4, &m, NULL), LIFT_OK);
    assert_near(m.f1_best, 2.0 / 3.0);
    assert_near(m.f1_threshold, 0.8);

    /* average precision on the classic example: thresholds .8 (P 1,
     * R .5), .4 (P .5, R .5), .35 (P 2/3, R 1) */
    const uint8_t y1[4] = {0, 0, 1, 1};
    const double s1[4] = {0.1, 0.4, 0.35, 0.8};
    assert_int_equal(lift_metrics_binary(y1, s1, NULL, 4, &m, NULL), LIFT_OK);
    assert_near(m.pr_auc, 0.5 * 1.0 + 0.5 * 2.0 / 3.0);
}

/* sklearn.metrics: roc_auc_score, average_precision_score,
 * log_loss(eps=1e-15), brier_score_loss, accuracy_score,
 * precision_score / recall_score / f1_score(zero_division=0) of
 * (p >= 0.5), all with sample_weight=w; f1_best by f1_score of (p >= t)
 * over every distinct t, the first maximum from the top. */
static void binary_matches_sklearn(void **state)
{
    (void)state;
    struct lift_binary_metrics m;
    const struct lift_binary_metrics small = {
        .auc = 0.6666666666666665,
        .pr_auc = 0.6826685660018994,
        .logloss = 0.6588069459008773,
        .brier = 0.234625,
        .accuracy = 0.6,
        .precision = 0.5555555555555556,
        .recall = 0.5555555555555556,
        .f1 = 0.5555555555555556,
        .f1_best = 0.6666666666666666,
        .f1_threshold = 0.1,
    };
    assert_int_equal(
        lift_metrics_binary(small_y, small_p, NULL, SMALL_N, &m, NULL),
        LIFT_OK);
    assert_binary(&m, &small);
    assert_int_equal(m.positives, 9);

    const struct lift_binary_metrics small_weighted = {
        .auc = 0.6918414918414918,
        .pr_auc = 0.59018245999847,
        .logloss = 0.6110554697255052,
        .brier = 0.21647959183673474,
        .accuracy = 0.6530612244897959,
        .precision = 0.4878048780487805,
        .recall = 0.6060606060606061,
        .f1 = 0.5405405405405406,
        .f1_best = 0.5652173913043478,
        .f1_threshold = 0.35,
    };
    assert_int_equal(
        lift_metrics_binary(small_y, small_p, small_w, SMALL_N, &m, NULL),
        LIFT_OK);
    assert_binary(&m, &small_weighted);

    enum { N = 1000 };
    uint8_t y[N];
    double p[N], w[N];
    gen(N, y, p, w);
    const struct lift_binary_metrics big = {
        .auc = 0.9528636501670209,
        .pr_auc = 0.9638118539480642,
        .logloss = 0.35896590251508287,
        .brier = 0.1090046,
        .accuracy = 0.87,
        .precision = 0.9207920792079208,
        .recall = 0.8378378378378378,
        .f1 = 0.8773584905660378,
        .f1_best = 0.8884986830553118,
        .f1_threshold = 0.42,
    };
    assert_int_equal(lift_metrics_binary(y, p, NULL, N, &m, NULL), LIFT_OK);
    assert_binary(&m, &big);
    const struct lift_binary_metrics big_weighted = {
        .auc = 0.9524168454637142,
        .pr_auc = 0.9632246358180145,
        .logloss = 0.3592083109816297,
        .brier = 0.10913130000000001,
        .accuracy = 0.869,
        .precision = 0.9187314172447968,
        .recall = 0.8373983739837398,
        .f1 = 0.8761814744801513,
        .f1_best = 0.8889377611612053,
        .f1_threshold = 0.42,
    };
    assert_int_equal(lift_metrics_binary(y, p, w, N, &m, NULL), LIFT_OK);
    assert_binary(&m, &big_weighted);
}

/* sklearn log_loss([0, 1], [1.0, 0.0], eps=1e-15) = 34.53917619362578:
 * p is clipped to [1e-15, 1 - 1e-15] before 1 - p is taken. */
static void binary_logloss_clips_extremes(void **state)
{
    (void)state;
    struct lift_binary_metrics m;
    const uint8_t y[2] = {0, 1};
    const double p[2] = {1.0, 0.0};
    assert_int_equal(lift_metrics_binary(y, p, NULL, 2, &m, NULL), LIFT_OK);
    assert_true(isfinite(m.logloss));
    assert_near(m.logloss, 34.53917619362578);
    assert_near(m.auc, 0.0);
    assert_near(m.brier, 1.0);
    /* perfect and certain: the clip keeps it just above 0 */
    const double q[2] = {0.0, 1.0};
    assert_int_equal(lift_metrics_binary(y, q, NULL, 2, &m, NULL), LIFT_OK);
    assert_true(m.logloss > 0.0 && m.logloss < 1e-14);
    assert_near(m.auc, 1.0);
    assert_near(m.pr_auc, 1.0);
    assert_near(m.accuracy, 1.0);
}

static void binary_one_class_undefined_is_nan(void **state)
{
    (void)state;
    struct lift_binary_metrics m;
    const uint8_t none[4] = {0, 0, 0, 0};
    const double p[4] = {0.2, 0.7, 0.4, 0.9};
    assert_int_equal(lift_metrics_binary(none, p, NULL, 4, &m, NULL), LIFT_OK);
    assert_int_equal(m.positives, 0);
    assert_true(isnan(m.auc));
    assert_true(isnan(m.pr_auc));
    assert_near(m.f1_best, 0.0);
    assert_true(isnan(m.f1_threshold));
    /* zero_division = 0: no true positive anywhere */
    assert_near(m.precision, 0.0);
    assert_near(m.recall, 0.0);
    assert_near(m.f1, 0.0);
    assert_near(m.accuracy, 0.5);
    assert_near(m.brier, (0.04 + 0.49 + 0.16 + 0.81) / 4.0);

    /* all positive: AUC undefined, but AP is 1 (precision is always 1) */
    const uint8_t all[4] = {1, 1, 1, 1};
    assert_int_equal(lift_metrics_binary(all, p, NULL, 4, &m, NULL), LIFT_OK);
    assert_true(isnan(m.auc));
    assert_near(m.pr_auc, 1.0);
    assert_near(m.f1_best, 1.0);
    assert_near(m.f1_threshold, 0.2);
    /* nothing predicted positive at 0.5 for these: precision 0/0 = 0 */
    const double low[4] = {0.1, 0.2, 0.3, 0.4};
    assert_int_equal(lift_metrics_binary(all, low, NULL, 4, &m, NULL), LIFT_OK);
    assert_near(m.precision, 0.0);
    assert_near(m.recall, 0.0);
}

static void binary_invalid_inputs_zero_output(void **state)
{
    (void)state;
    struct lift_binary_metrics m;
    struct lift_error err;
    const uint8_t y[3] = {0, 1, 1};
    const double p[3] = {0.1, 1.5, 0.3};
    const double neg[3] = {0.1, 0.2, -0.3};
    memset(&m, 0xff, sizeof m);
    assert_int_equal(lift_metrics_binary(y, p, NULL, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 1: probability 1.5 outside [0, 1]");
    assert_int_equal(m.rows, 0);
    assert_true(m.auc == 0.0 && m.f1_threshold == 0.0);
    assert_int_equal(lift_metrics_binary(y, neg, NULL, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 2: probability -0.3 outside [0, 1]");
    assert_int_equal(lift_metrics_binary(y, p, NULL, 0, &m, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_binary(y, p, NULL, 3, NULL, &err),
                     LIFT_ERR_INVALID);
    const double ok[3] = {0.1, 0.2, 0.3};
    const double nan_w[3] = {1.0, NAN, 1.0};
    assert_int_equal(lift_metrics_binary(y, ok, nan_w, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 1: weight nan is negative or not finite");
}

static void binary_alloc_failure_nomem_and_clean(void **state)
{
    (void)state;
    enum { N = 100 };
    uint8_t y[N];
    double p[N];
    gen(N, y, p, NULL);
    if (!lift_alloc_fail_at(0))
        skip();
    bool succeeded = false;
    for (long nth = 1; nth < 10 && !succeeded; nth++) {
        struct lift_binary_metrics m;
        struct lift_error err;
        double auc = 0.0;
        lift_alloc_fail_at(nth);
        enum lift_code rc = lift_metrics_binary(y, p, NULL, N, &m, &err);
        lift_alloc_fail_at(nth);
        enum lift_code rc_auc = lift_auc(y, p, NULL, N, &auc, NULL);
        lift_alloc_fail_at(0);
        assert_int_equal(rc, rc_auc);
        if (rc == LIFT_OK) {
            succeeded = true;
            assert_near(m.auc, auc);
        } else {
            assert_int_equal(rc, LIFT_ERR_NOMEM);
            assert_int_equal(err.code, LIFT_ERR_NOMEM);
            assert_int_equal(m.rows, 0);
            assert_true(isnan(auc));
        }
    }
    assert_true(succeeded);
}

/* ---- lift_metrics_regression ---- */

static void regression_hand_values_exact(void **state)
{
    (void)state;
    struct lift_regression_metrics m;
    /* errors 1, 0, 2: MSE 5/3, MAE 1; mean y 2, SS_tot 2, R^2 1 - 5/2 */
    const double y[3] = {1.0, 2.0, 3.0};
    const double pred[3] = {2.0, 2.0, 5.0};
    assert_int_equal(lift_metrics_regression(y, pred, NULL, 3, &m, NULL),
                     LIFT_OK);
    assert_int_equal(m.rows, 3);
    assert_near(m.rmse, sqrt(5.0 / 3.0));
    assert_near(m.mae, 1.0);
    assert_near(m.r2, -1.5);
    /* weight 2 on the last row is the same as repeating it */
    const double w[3] = {1.0, 1.0, 2.0};
    const double y4[4] = {1.0, 2.0, 3.0, 3.0};
    const double pred4[4] = {2.0, 2.0, 5.0, 5.0};
    struct lift_regression_metrics rep;
    assert_int_equal(lift_metrics_regression(y, pred, w, 3, &m, NULL), LIFT_OK);
    assert_int_equal(lift_metrics_regression(y4, pred4, NULL, 4, &rep, NULL),
                     LIFT_OK);
    assert_near(m.rmse, rep.rmse);
    assert_near(m.mae, rep.mae);
    assert_near(m.r2, rep.r2);
    /* perfect predictions */
    assert_int_equal(lift_metrics_regression(y, y, NULL, 3, &m, NULL), LIFT_OK);
    assert_near(m.rmse, 0.0);
    assert_near(m.r2, 1.0);
}

/* sklearn.metrics: mean_squared_error(squared=False),
 * mean_absolute_error, r2_score, with sample_weight=w */
static void regression_matches_sklearn(void **state)
{
    (void)state;
    const double y[8] = {3.0, -0.5, 2.0, 7.0, 4.2, 1.1, 0.0, 5.5};
    const double pred[8] = {2.5, 0.0, 2.0, 8.0, 4.0, 0.9, -1.0, 5.0};
    const double w[8] = {1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.0, 2.5};
    struct lift_regression_metrics m;
    assert_int_equal(lift_metrics_regression(y, pred, NULL, 8, &m, NULL),
                     LIFT_OK);
    assert_near(m.rmse, 0.5947688626685159);
    assert_near(m.mae, 0.48750000000000004);
    assert_near(m.r2, 0.9424665192752408);
    assert_int_equal(lift_metrics_regression(y, pred, w, 8, &m, NULL), LIFT_OK);
    assert_near(m.rmse, 0.48005681481939766);
    assert_near(m.mae, 0.4136363636363637);
    assert_near(m.r2, 0.9596046660703097);
}

static void regression_constant_target_r2_nan(void **state)
{
    (void)state;
    const double y[3] = {4.0, 4.0, 4.0};
    const double pred[3] = {4.0, 5.0, 3.0};
    struct lift_regression_metrics m;
    assert_int_equal(lift_metrics_regression(y, pred, NULL, 3, &m, NULL),
                     LIFT_OK);
    assert_true(isnan(m.r2));
    assert_near(m.rmse, sqrt(2.0 / 3.0));
    assert_near(m.mae, 2.0 / 3.0);
}

static void regression_invalid_inputs(void **state)
{
    (void)state;
    const double y[3] = {1.0, INFINITY, 3.0};
    const double pred[3] = {1.0, 2.0, NAN};
    const double ok[3] = {1.0, 2.0, 3.0};
    struct lift_regression_metrics m;
    struct lift_error err;
    assert_int_equal(lift_metrics_regression(y, ok, NULL, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 1: target inf is not finite");
    assert_int_equal(lift_metrics_regression(ok, pred, NULL, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 2: prediction nan is not finite");
    assert_int_equal(lift_metrics_regression(ok, ok, NULL, 0, &m, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_regression(NULL, ok, NULL, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_regression(ok, ok, NULL, 3, NULL, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(m.rows, 0);
}

/* ---- lift_metrics_multiclass ---- */

static void multiclass_hand_values_exact(void **state)
{
    (void)state;
    /* class 0: tp 1, true 2, predicted 1: P 1, R 1/2, F1 2/3
     * class 1: tp 1, true 1, predicted 3: P 1/3, R 1, F1 1/2
     * class 2: tp 0, true 1, predicted 0: P 0/0 = 0, R 0, F1 0
     * class 3: absent from both, not averaged */
    const uint32_t y[4] = {0, 0, 1, 2};
    const uint32_t pred[4] = {0, 1, 1, 1};
    struct lift_multiclass_metrics m;
    assert_int_equal(lift_metrics_multiclass(y, pred, NULL, 4, 4, &m, NULL),
                     LIFT_OK);
    assert_int_equal(m.rows, 4);
    assert_int_equal(m.n_present, 3);
    assert_near(m.accuracy, 0.5);
    assert_near(m.macro_precision, (1.0 + 1.0 / 3.0) / 3.0);
    assert_near(m.macro_recall, 1.5 / 3.0);
    assert_near(m.macro_f1, (2.0 / 3.0 + 0.5) / 3.0);
}

/* sklearn.metrics: accuracy_score, precision_score / recall_score /
 * f1_score(average="macro", zero_division=0), with sample_weight=w;
 * class 3 is predicted but never true, class 4 (of 5) is absent */
static void multiclass_matches_sklearn(void **state)
{
    (void)state;
    const uint32_t y[14] = {0, 1, 2, 2, 0, 1, 1, 2, 0, 0, 2, 1, 0, 2};
    const uint32_t pred[14] = {0, 2, 2, 1, 0, 1, 3, 2, 1, 0, 2, 1, 3, 0};
    const double w[14] = {1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 1.0,
                          2.0, 0.5, 1.0, 1.0, 3.0, 1.0, 0.25};
    struct lift_multiclass_metrics m;
    assert_int_equal(lift_metrics_multiclass(y, pred, NULL, 14, 5, &m, NULL),
                     LIFT_OK);
    assert_int_equal(m.n_present, 4);
    assert_near(m.accuracy, 0.5714285714285714);
    assert_near(m.macro_precision, 0.5);
    assert_near(m.macro_recall, 0.42500000000000004);
    assert_near(m.macro_f1, 0.45833333333333326);
    assert_int_equal(lift_metrics_multiclass(y, pred, w, 14, 5, &m, NULL),
                     LIFT_OK);
    assert_near(m.accuracy, 0.6567164179104478);
    assert_near(m.macro_precision, 0.5742424242424242);
    assert_near(m.macro_recall, 0.5020676691729323);
    assert_near(m.macro_f1, 0.5307317073170732);
}

static void multiclass_invalid_inputs(void **state)
{
    (void)state;
    const uint32_t y[3] = {0, 1, 2};
    const uint32_t pred[3] = {0, 3, 2};
    struct lift_multiclass_metrics m;
    struct lift_error err;
    assert_int_equal(lift_metrics_multiclass(y, pred, NULL, 3, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 1: class 3 out of range (3 classes)");
    assert_int_equal(lift_metrics_multiclass(y, y, NULL, 3, 0, &m, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_multiclass(y, y, NULL, 0, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_multiclass(y, NULL, NULL, 3, 3, &m, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_multiclass(y, y, NULL, 3, 3, NULL, &err),
                     LIFT_ERR_INVALID);
    if (lift_alloc_fail_at(1)) {
        assert_int_equal(lift_metrics_multiclass(y, y, NULL, 3, 3, &m, &err),
                         LIFT_ERR_NOMEM);
        lift_alloc_fail_at(0);
        assert_int_equal(m.rows, 0);
    }
}

/* ---- lift_metrics_gains ---- */

static void gains_hand_table_ties_in_row_order(void **state)
{
    (void)state;
    /* by score descending, ties in row order: rows 1 9 | 5 | 0 2 4 7 | 8 |
     * 6 | 3; groups of 3 3 2 2 are {1 9 5} {0 2 4} {7 8} {6 3}. Row 7
     * (positive) ties with rows 0 2 4 at 0.5 but comes after them, so it
     * falls in the third group. 5 positives in 10 rows: overall 0.5. */
    const uint8_t y[10] = {1, 0, 0, 0, 1, 1, 0, 1, 0, 1};
    const double s[10] = {0.5, 0.9, 0.5, 0.1, 0.5, 0.7, 0.2, 0.5, 0.3, 0.9};
    struct lift_gains_row g[4];
    assert_int_equal(lift_metrics_gains(y, s, 10, 4, g, NULL), LIFT_OK);
    const struct lift_gains_row want[4] = {
        {3, 2, 0.7, 0.9, 2.0 / 3, 4.0 / 3, 3, 2, 0.4, 4.0 / 3},
        {3, 2, 0.5, 0.5, 2.0 / 3, 4.0 / 3, 6, 4, 0.8, 4.0 / 3},
        {2, 1, 0.3, 0.5, 0.5, 1.0, 8, 5, 1.0, 1.25},
        {2, 0, 0.1, 0.2, 0.0, 0.0, 10, 5, 1.0, 1.0},
    };
    assert_gains(g, want, 4);
}

/* numpy: order = argsort(-p, kind="stable"), then the same group sizes
 * (metrics_ref.py); sklearn has no gain table */
static void gains_deciles_match_reference(void **state)
{
    (void)state;
    enum { N = 1003 };
    uint8_t y[N];
    double p[N];
    gen(N, y, p, NULL);
    struct lift_gains_row g[LIFT_DECILES];
    assert_int_equal(lift_metrics_gains(y, p, N, LIFT_DECILES, g, NULL),
                     LIFT_OK);
    const struct lift_gains_row want[LIFT_DECILES] = {
        {101, 101, 0.9, 1.0, 1.0, 1.8039568345323742, 101, 101,
         0.18165467625899281, 1.8039568345323742},
        {101, 101, 0.8, 0.9, 1.0, 1.8039568345323742, 202, 202,
         0.36330935251798563, 1.8039568345323742},
        {101, 101, 0.7, 0.8, 1.0, 1.8039568345323742, 303, 303,
         0.5449640287769785, 1.8039568345323742},
        {100, 88, 0.6, 0.7, 0.88, 1.5874820143884891, 403, 391,
         0.7032374100719424, 1.7502409982683829},
        {100, 72, 0.5, 0.6, 0.72, 1.2988489208633094, 503, 463,
         0.8327338129496403, 1.6605010226411316},
        {100, 47, 0.4, 0.5, 0.47, 0.8478597122302158, 603, 510,
         0.9172661870503597, 1.5257346361716597},
        {100, 31, 0.3, 0.4, 0.31, 0.559226618705036, 703, 541,
         0.9730215827338129, 1.3882512766458242},
        {100, 15, 0.2, 0.3, 0.15, 0.27059352517985613, 803, 556, 1.0,
         1.24906600249066},
        {100, 0, 0.1, 0.2, 0.0, 0.0, 903, 556, 1.0, 1.1107419712070874},
        {100, 0, 0.0, 0.09, 0.0, 0.0, 1003, 556, 1.0, 1.0},
    };
    assert_gains(g, want, LIFT_DECILES);
}

static void gains_no_positive_nan_and_invalid(void **state)
{
    (void)state;
    const uint8_t y[4] = {0, 0, 0, 0};
    const double s[4] = {0.4, 0.3, 0.2, 0.1};
    struct lift_gains_row g[5];
    struct lift_error err;
    assert_int_equal(lift_metrics_gains(y, s, 4, 2, g, NULL), LIFT_OK);
    assert_int_equal(g[0].rows, 2);
    assert_near(g[0].rate, 0.0);
    assert_true(isnan(g[0].lift));
    assert_true(isnan(g[1].cum_gain));
    assert_true(isnan(g[1].cum_lift));
    assert_int_equal(lift_metrics_gains(y, s, 4, 5, g, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "5 groups outside [1, 4] (the row count)");
    assert_int_equal(g[0].rows, 0);
    assert_int_equal(lift_metrics_gains(y, s, 4, 0, g, &err), LIFT_ERR_INVALID);
    const double nan_s[4] = {0.4, NAN, 0.2, 0.1};
    assert_int_equal(lift_metrics_gains(y, nan_s, 4, 2, g, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_gains(y, s, 4, 2, NULL, &err),
                     LIFT_ERR_INVALID);
    /* one group is the whole table: lift 1 */
    const uint8_t y1[4] = {1, 0, 0, 1};
    assert_int_equal(lift_metrics_gains(y1, s, 4, 1, g, NULL), LIFT_OK);
    assert_near(g[0].lift, 1.0);
    assert_near(g[0].cum_gain, 1.0);
    if (lift_alloc_fail_at(1)) {
        assert_int_equal(lift_metrics_gains(y1, s, 4, 2, g, &err),
                         LIFT_ERR_NOMEM);
        lift_alloc_fail_at(0);
        assert_int_equal(g[0].rows, 0);
    }
}

/* ---- lift_metrics_calibration ---- */

static void calibration_hand_table_exact(void **state)
{
    (void)state;
    /* 4 bins: [0,.25) holds .05 .15 0 (mean .2/3, rate 0); [.25,.5) .3 .35
     * (mean .325, rate .5); [.5,.75) .5 (1); [.75,1] .95 1 (mean .975,
     * rate 1). ECE = (3 * .2/3 + 2 * .175 + 1 * .5 + 2 * .025) / 8 */
    const uint8_t y[8] = {0, 0, 1, 0, 1, 1, 1, 0};
    const double p[8] = {0.05, 0.15, 0.3, 0.35, 0.5, 0.95, 1.0, 0.0};
    struct lift_calibration_bin b[5];
    double ece;
    assert_int_equal(lift_metrics_calibration(y, p, 8, 4, b, &ece, NULL),
                     LIFT_OK);
    const size_t count[4] = {3, 2, 1, 2};
    const double mean[4] = {0.2 / 3.0, 0.325, 0.5, 0.975};
    const double rate[4] = {0.0, 0.5, 1.0, 1.0};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(b[i].count, count[i]);
        assert_near(b[i].mean_pred, mean[i]);
        assert_near(b[i].rate, rate[i]);
        assert_near(b[i].lo, (double)i / 4.0);
        assert_near(b[i].hi, (double)(i + 1) / 4.0);
    }
    assert_near(ece, 1.1 / 8.0);

    /* 5 bins: [.6,.8) is empty, so NAN and left out of the ECE */
    assert_int_equal(lift_metrics_calibration(y, p, 8, 5, b, &ece, NULL),
                     LIFT_OK);
    assert_int_equal(b[3].count, 0);
    assert_true(isnan(b[3].mean_pred));
    assert_true(isnan(b[3].rate));
    assert_int_equal(b[4].count, 2);
    assert_near(ece, (0.2 + 0.35 + 0.5 + 0.05) / 8.0);

    /* an edge value goes up: p = 0.5 with 2 bins is in [0.5, 1], with .95
     * and 1; the other five are in [0, 0.5) */
    assert_int_equal(lift_metrics_calibration(y, p, 8, 2, b, NULL, NULL),
                     LIFT_OK);
    assert_int_equal(b[0].count, 5);
    assert_int_equal(b[1].count, 3);
    assert_near(b[1].mean_pred, (0.5 + 0.95 + 1.0) / 3.0);
}

/* sklearn.calibration.calibration_curve(y, p, n_bins, strategy="uniform")
 * gives (rate, mean_pred) of the non-empty bins; ECE by numpy from those.
 * p = (k + 0.5) / 101.5 is never on a bin edge, where the two differ. */
static void calibration_matches_sklearn(void **state)
{
    (void)state;
    enum { N = 1000 };
    uint8_t y[N];
    double p[N];
    for (size_t i = 0; i < N; i++) {
        size_t k = (i * 37) % 101;
        p[i] = ((double)k + 0.5) / 101.5;
        y[i] = k + (i * 11) % 53 > 70;
    }
    struct lift_calibration_bin b[10];
    double ece;
    assert_int_equal(lift_metrics_calibration(y, p, N, 10, b, &ece, NULL),
                     LIFT_OK);
    const size_t count[10] = {99, 99, 99, 109, 99, 99, 99, 99, 99, 99};
    const double mean[10] = {0.04901229039160074, 0.14753445787928554,
                             0.2460566253669702,  0.3498440818909027,
                             0.45335124645469527, 0.5518734139423785,
                             0.6503955814300639,  0.749216300940439,
                             0.8477384684281228,  0.9462606359158077};
    const double rate[10] = {0.0,
                             0.0,
                             0.15151515151515152,
                             0.28440366972477066,
                             0.5050505050505051,
                             0.7575757575757576,
                             0.8787878787878788,
                             1.0,
                             1.0,
                             1.0};
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(b[i].count, count[i]);
        assert_near(b[i].mean_pred, mean[i]);
        assert_near(b[i].rate, rate[i]);
    }
    assert_near(ece, 0.12926600985221698);

    assert_int_equal(lift_metrics_calibration(y, p, N, 5, b, &ece, NULL),
                     LIFT_OK);
    const size_t count5[5] = {198, 208, 198, 198, 198};
    const double mean5[5] = {0.09827337413544311, 0.30044524441076137,
                             0.5026123301985385, 0.6998059411852507,
                             0.8969995521719665};
    const double rate5[5] = {0.0, 0.22115384615384615, 0.6313131313131313,
                             0.9393939393939394, 1.0};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(b[i].count, count5[i]);
        assert_near(b[i].mean_pred, mean5[i]);
        assert_near(b[i].rate, rate5[i]);
    }
    assert_near(ece, 0.12926600985221648);
}

static void calibration_invalid_inputs(void **state)
{
    (void)state;
    const uint8_t y[3] = {0, 1, 1};
    const double p[3] = {0.1, 0.2, 1.0000001};
    struct lift_calibration_bin b[3];
    struct lift_error err;
    double ece = 0.0;
    assert_int_equal(lift_metrics_calibration(y, p, 3, 3, b, &ece, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "row 2: probability 1.0000001 outside [0, 1]");
    assert_true(isnan(ece));
    assert_int_equal(b[0].count, 0);
    assert_int_equal(lift_metrics_calibration(y, p, 3, 0, b, &ece, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_calibration(y, p, 0, 3, b, &ece, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_metrics_calibration(y, p, 3, 3, NULL, &ece, &err),
                     LIFT_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rank_desc_ties_keep_row_order),
        cmocka_unit_test(auc_hand_values_exact),
        cmocka_unit_test(auc_single_class_nan_ok),
        cmocka_unit_test(auc_matches_sklearn),
        cmocka_unit_test(auc_matches_all_pairs_count),
        cmocka_unit_test(auc_order_properties_hold),
        cmocka_unit_test(auc_invalid_inputs),
        cmocka_unit_test(binary_hand_values_exact),
        cmocka_unit_test(binary_matches_sklearn),
        cmocka_unit_test(binary_logloss_clips_extremes),
        cmocka_unit_test(binary_one_class_undefined_is_nan),
        cmocka_unit_test(binary_invalid_inputs_zero_output),
        cmocka_unit_test(binary_alloc_failure_nomem_and_clean),
        cmocka_unit_test(regression_hand_values_exact),
        cmocka_unit_test(regression_matches_sklearn),
        cmocka_unit_test(regression_constant_target_r2_nan),
        cmocka_unit_test(regression_invalid_inputs),
        cmocka_unit_test(multiclass_hand_values_exact),
        cmocka_unit_test(multiclass_matches_sklearn),
        cmocka_unit_test(multiclass_invalid_inputs),
        cmocka_unit_test(gains_hand_table_ties_in_row_order),
        cmocka_unit_test(gains_deciles_match_reference),
        cmocka_unit_test(gains_no_positive_nan_and_invalid),
        cmocka_unit_test(calibration_hand_table_exact),
        cmocka_unit_test(calibration_matches_sklearn),
        cmocka_unit_test(calibration_invalid_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
