/*
 * lift/metrics.h - evaluation metrics on plain arrays.
 *
 * Binary classification (ROC AUC, average precision, log loss, Brier
 * score, accuracy / precision / recall / F1 at 0.5 and at the F1-best
 * threshold), regression (RMSE, MAE, R^2), multiclass (accuracy, macro
 * precision / recall / F1), the decile lift/gain table and the
 * calibration table with its expected calibration error.
 *
 * Conventions shared by every call:
 *   - Arguments follow scikit-learn's order: truth first, then the
 *     prediction, then optional weights w (NULL: every row weighs 1), then
 *     the row count n. The definitions match scikit-learn's (named per
 *     call), so numbers can be compared with it directly.
 *   - Binary labels are uint8_t 0 or 1. Scores are doubles; probabilities
 *     must lie in [0, 1]. A row is predicted positive when its score is
 *     >= the threshold.
 *   - Weights must be finite and >= 0 with a positive sum. A class whose
 *     rows all weigh 0 counts as absent.
 *   - A metric that is undefined on the given rows (AUC with one class,
 *     R^2 of a constant target, ...) is NAN while the call still returns
 *     LIFT_OK and fills the rest, so that a cross-validation fold with one
 *     class does not abort the run. The caller tests with isnan().
 *   - Errors: LIFT_ERR_INVALID for n == 0, a NULL array or output, a label
 *     other than 0/1 (or a class id >= n_classes), a NaN score, a
 *     probability outside [0, 1], a bad weight; the message names the
 *     first offending row. LIFT_ERR_NOMEM when scratch memory cannot be
 *     had. On failure an output struct or array is zeroed and a lone
 *     double output is NAN.
 *   - Nothing is kept: scratch is allocated and freed inside the call, and
 *     the inputs are only read. Every call is thread-safe as long as the
 *     outputs differ.
 *
 * Cost: the calls that rank scores (lift_auc, lift_metrics_binary,
 * lift_metrics_gains) take O(n log n) time and O(n) scratch; the others
 * O(n) time (plus O(n_classes) for multiclass) and no scratch.
 */
#ifndef LIFT_METRICS_H
#define LIFT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clipping in the log loss, as scikit-learn's classic eps: p is taken as
 * min(max(p, eps), 1 - eps) before -log(p) or -log(1 - p). */
#define LIFT_LOGLOSS_EPS 1e-15

/* The fixed decision threshold of the "at 0.5" binary metrics. */
#define LIFT_METRICS_THRESHOLD 0.5

/*
 * ROC AUC: the probability that a random positive scores above a random
 * negative, ties counting one half (the Mann-Whitney statistic with
 * average ranks), weighted by w[pos] * w[neg] per pair; equal to
 * sklearn.metrics.roc_auc_score(y, score, sample_weight=w). Scores may be
 * any non-NaN values (infinities rank as expected). *auc is NAN when all
 * rows (of positive weight) are of one class, and on failure. For
 * per-epoch validation: it allocates 16n bytes of scratch (32n while
 * sorting) per call, none when one class is absent.
 */
enum lift_code lift_auc(const uint8_t *y, const double *score, const double *w,
                        size_t n, double *auc, struct lift_error *err);

struct lift_binary_metrics {
    size_t rows;      /* n */
    size_t positives; /* rows with y == 1, unweighted */
    /* ranking; NAN when one class is absent (pr_auc: when no positive) */
    double auc;    /* as lift_auc */
    double pr_auc; /* average precision: sum over distinct thresholds of
                    * (R_k - R_k-1) * P_k, sklearn's
                    * average_precision_score (no interpolation) */
    /* probabilities */
    double logloss; /* weighted mean of -log(p) or -log(1 - p), clipped
                     * by LIFT_LOGLOSS_EPS; sklearn log_loss(eps=1e-15) */
    double brier;   /* weighted mean of (p - y)^2; brier_score_loss */
    /* at LIFT_METRICS_THRESHOLD (p >= 0.5 predicts 1); as sklearn's
     * accuracy_score, precision_score, recall_score, f1_score with
     * zero_division=0: a 0/0 ratio is 0 */
    double accuracy;
    double precision;
    double recall;
    double f1;
    /* the best F1 over the thresholds t = each distinct p (predict 1 when
     * p >= t); among equal F1 the highest t. Without positives f1_best is
     * 0 and f1_threshold NAN. */
    double f1_best;
    double f1_threshold;
};

/*
 * All binary metrics of probabilities p (in [0, 1]) against labels y.
 * One sort of the scores serves AUC, average precision and the F1 scan.
 */
enum lift_code lift_metrics_binary(const uint8_t *y, const double *p,
                                   const double *w, size_t n,
                                   struct lift_binary_metrics *out,
                                   struct lift_error *err);

struct lift_regression_metrics {
    size_t rows;
    double rmse; /* sqrt(weighted mean of (pred - y)^2) */
    double mae;  /* weighted mean of |pred - y| */
    double r2;   /* 1 - SS_res / SS_tot about the weighted mean of y, as
                  * sklearn r2_score; NAN when y is constant (SS_tot == 0;
                  * sklearn's force_finite=True would report 1 or 0) */
};

/* Regression metrics; y and pred must be finite (else LIFT_ERR_INVALID). */
enum lift_code lift_metrics_regression(const double *y, const double *pred,
                                       const double *w, size_t n,
                                       struct lift_regression_metrics *out,
                                       struct lift_error *err);

struct lift_multiclass_metrics {
    size_t rows;
    size_t n_present; /* classes averaged: those found in y or pred */
    double accuracy;  /* weighted share of rows with pred == y */
    /* unweighted means over the present classes of the per-class
     * precision, recall and F1 (0/0 counts as 0): sklearn's
     * precision_score / recall_score / f1_score(average="macro",
     * zero_division=0) with their default labels */
    double macro_precision;
    double macro_recall;
    double macro_f1;
};

/*
 * Multiclass metrics of predicted class ids against true ones, both
 * < n_classes (1 <= n_classes <= 2^32). Scratch: O(n_classes).
 */
enum lift_code lift_metrics_multiclass(const uint32_t *y, const uint32_t *pred,
                                       const double *w, size_t n,
                                       size_t n_classes,
                                       struct lift_multiclass_metrics *out,
                                       struct lift_error *err);

/* The usual number of groups of a gain table: deciles. */
#define LIFT_DECILES 10

struct lift_gains_row {
    size_t rows;      /* rows in the group */
    size_t positives; /* of them with y == 1 */
    double min_score; /* score range of the group */
    double max_score;
    double rate;     /* positives / rows */
    double lift;     /* rate / overall rate */
    size_t cum_rows; /* through this group */
    size_t cum_positives;
    double cum_gain; /* cum_positives / all positives */
    double cum_lift; /* (cum_positives / cum_rows) / overall */
};

/*
 * Lift / gain table: rows ordered by score descending, ties in row order
 * (stable, so equal scores may straddle a group boundary), cut into
 * n_groups groups of n / n_groups rows, the first n % n_groups groups one
 * row larger. rows[0] is the best-scored group. Unweighted. lift,
 * cum_gain and cum_lift are NAN when there is no positive at all.
 * LIFT_ERR_INVALID also for n_groups == 0 or n_groups > n. Fills
 * rows[0..n_groups) (zeroed on failure).
 */
enum lift_code lift_metrics_gains(const uint8_t *y, const double *score,
                                  size_t n, size_t n_groups,
                                  struct lift_gains_row *rows,
                                  struct lift_error *err);

struct lift_calibration_bin {
    double lo, hi;    /* bin b is [b / n_bins, (b + 1) / n_bins); the last
                       * bin also holds p == 1 */
    size_t count;     /* rows whose p falls in the bin */
    double mean_pred; /* mean p of those rows; NAN when count == 0 */
    double rate;      /* share of them with y == 1; NAN when count == 0 */
};

/*
 * Calibration (reliability) table of probabilities p in [0, 1] over
 * n_bins equal-width bins (bin = min(floor(p * n_bins), n_bins - 1)),
 * and *ece, the expected calibration error: sum over non-empty bins of
 * count / n * |mean_pred - rate|. Unweighted. sklearn's
 * calibration_curve(strategy="uniform") gives the same mean_pred and
 * rate for the non-empty bins except that it puts a p exactly on an
 * inner edge into the lower bin. LIFT_ERR_INVALID also for n_bins == 0.
 * ece may be NULL. Fills bins[0..n_bins) (zeroed on failure, *ece NAN).
 */
enum lift_code lift_metrics_calibration(const uint8_t *y, const double *p,
                                        size_t n, size_t n_bins,
                                        struct lift_calibration_bin *bins,
                                        double *ece, struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
