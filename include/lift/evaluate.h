/*
 * lift/evaluate.h - measuring a model honestly: metrics on held-out rows,
 * k-fold cross-validation and out-of-time validation, as JSON documents
 * that the CLI prints and the server returns unchanged.
 *
 * Metrics by task:
 *   binary      rows, positives, auc, pr_auc, logloss, brier, accuracy,
 *               precision, recall, f1 (at 0.5), f1_best, f1_threshold,
 *               lift_table (10 deciles: rows, positives, rate, lift,
 *               cum_gain, cum_lift) and calibration (10 bins; expected
 *               calibration error before and after the model's
 *               calibrator: ece_before, ece_after)
 *   regression  rows, rmse, mae, r2
 *   multiclass  rows, accuracy, macro_f1, macro_precision, macro_recall
 * Rows whose target is missing are left out and counted in
 * rows_missing_target.
 *
 * Thread-safety: reentrant; the model and table are only read.
 */
#ifndef LIFT_EVALUATE_H
#define LIFT_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>
#include <lift/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_table;

/* Scores rows[0..n) of t (rows NULL: all) and compares them with the
 * model's target column. *json: an object text (free()). Errors: those
 * of lift_model_predict_table and lift_model_labels; LIFT_ERR_INVALID
 * when no row has a target. */
enum lift_code lift_evaluate_json(const struct lift_model *m,
                                  const struct lift_table *t,
                                  const uint32_t *rows, size_t n, char **json,
                                  struct lift_error *err);

struct lift_cv_opts {
    unsigned folds;       /* k-fold: 2..100 (ignored by time splits) */
    bool by_time;         /* one out-of-time split instead */
    const char *time_col; /* by_time: order by this column, NULL: file */
    double test_fraction; /* by_time: the last fraction; 0 means 0.2 */
    uint64_t seed;        /* fold assignment */
};

/*
 * Cross-validates the training options o on t: stratified k-fold (by the
 * target's classes for classification) or one out-of-time split; each
 * fold trains on the rest and is measured as lift_evaluate_json does.
 * *json: {"folds":K,"split":"kfold"|"time","auc":{"mean","std",
 * "folds":[..]},...} for every metric of the task. Progress goes through
 * the options' progress callback with stage "cv" (cancellable).
 */
enum lift_code lift_cv_json(const struct lift_table *t,
                            const struct lift_train_opts *o,
                            const struct lift_cv_opts *cv, char **json,
                            struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
