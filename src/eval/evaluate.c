/*
 * eval/evaluate.c - model evaluation and cross-validation as JSON.
 *
 * Evaluation scores the rows twice (calibrated, and before calibration
 * for the calibration error "before"), reads the labels through the
 * model (lift_model_labels: positive label, class index or value) and
 * hands the arrays to include/lift/metrics.h. Cross-validation builds
 * stratified folds (lift_split_kfold) or one time split
 * (lift_split_time), trains a model per fold with the same options, and
 * summarises each metric by mean and sample standard deviation.
 */
#include <lift/evaluate.h>
#include <lift/metrics.h>
#include <lift/split.h>
#include <lift/table.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/parse.h"
#include "models/options.h"

static json_t *real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *integer(size_t v)
{
    return json_integer((json_int_t)v);
}

static enum lift_code binary_metrics(json_t *doc, const uint8_t *y,
                                     const double *p, const double *pu,
                                     size_t n, struct lift_error *err)
{
    struct lift_binary_metrics b;
    enum lift_code rc = lift_metrics_binary(y, p, NULL, n, &b, err);
    if (rc)
        return rc;
    json_object_set_new(doc, "positives", integer(b.positives));
    json_object_set_new(doc, "auc", real(b.auc));
    json_object_set_new(doc, "pr_auc", real(b.pr_auc));
    json_object_set_new(doc, "logloss", real(b.logloss));
    json_object_set_new(doc, "brier", real(b.brier));
    json_object_set_new(doc, "accuracy", real(b.accuracy));
    json_object_set_new(doc, "precision", real(b.precision));
    json_object_set_new(doc, "recall", real(b.recall));
    json_object_set_new(doc, "f1", real(b.f1));
    json_object_set_new(doc, "f1_best", real(b.f1_best));
    json_object_set_new(doc, "f1_threshold", real(b.f1_threshold));
    struct lift_gains_row g[LIFT_DECILES];
    if ((rc = lift_metrics_gains(y, p, n, LIFT_DECILES, g, err)))
        return rc;
    json_t *lt = json_array();
    for (size_t d = 0; d < LIFT_DECILES; d++) {
        json_t *r = json_object();
        json_object_set_new(r, "decile", integer(d + 1));
        json_object_set_new(r, "rows", integer(g[d].rows));
        json_object_set_new(r, "positives", integer(g[d].positives));
        json_object_set_new(r, "min_score", real(g[d].min_score));
        json_object_set_new(r, "max_score", real(g[d].max_score));
        json_object_set_new(r, "rate", real(g[d].rate));
        json_object_set_new(r, "lift", real(g[d].lift));
        json_object_set_new(r, "cum_gain", real(g[d].cum_gain));
        json_object_set_new(r, "cum_lift", real(g[d].cum_lift));
        json_array_append_new(lt, r);
    }
    json_object_set_new(doc, "lift_table", lt);
    struct lift_calibration_bin after[10], before[10];
    double ece_after, ece_before;
    if ((rc = lift_metrics_calibration(y, p, n, 10, after, &ece_after, err)) ||
        (rc = lift_metrics_calibration(y, pu, n, 10, before, &ece_before, err)))
        return rc;
    json_t *cal = json_object(), *bins = json_array();
    json_object_set_new(cal, "ece_before", real(ece_before));
    json_object_set_new(cal, "ece_after", real(ece_after));
    for (size_t i = 0; i < 10; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "lo", real(after[i].lo));
        json_object_set_new(r, "hi", real(after[i].hi));
        json_object_set_new(r, "count", integer(after[i].count));
        json_object_set_new(r, "mean_pred", real(after[i].mean_pred));
        json_object_set_new(r, "rate", real(after[i].rate));
        json_array_append_new(bins, r);
    }
    json_object_set_new(cal, "bins", bins);
    json_object_set_new(doc, "calibration", cal);
    return LIFT_OK;
}

/* Fills doc with the metrics of scores p (n x K) against labels y. */
static enum lift_code add_metrics(json_t *doc, const struct lift_model *m,
                                  const double *p, const double *pu,
                                  const double *y, size_t n,
                                  struct lift_error *err)
{
    size_t k = lift_model_n_outputs(m), used = 0;
    size_t cap = n ? n : 1;
    double *pp = lift_malloc_array(cap, sizeof *pp);
    double *pq = lift_malloc_array(cap, sizeof *pq);
    double *yy = lift_malloc_array(cap, sizeof *yy);
    uint8_t *yb = lift_malloc(cap);
    uint32_t *yc = lift_malloc_array(cap, sizeof *yc);
    uint32_t *pc = lift_malloc_array(cap, sizeof *pc);
    enum lift_code rc = LIFT_OK;
    if (!pp || !pq || !yy || !yb || !yc || !pc) {
        rc = lift_error_nomem(err, "metrics");
        goto done;
    }
    enum lift_task task = lift_model_task(m);
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i]))
            continue;
        yy[used] = y[i];
        if (task == LIFT_TASK_MULTICLASS) {
            size_t best = 0;
            for (size_t c = 1; c < k; c++)
                if (p[i * k + c] > p[i * k + best])
                    best = c;
            pc[used] = (uint32_t)best;
            yc[used] = (uint32_t)y[i];
        } else {
            pp[used] = p[i];
            pq[used] = pu[i];
            yb[used] = y[i] > 0.5;
        }
        used++;
    }
    json_object_set_new(doc, "rows", integer(used));
    json_object_set_new(doc, "rows_missing_target", integer(n - used));
    if (used == 0) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "no row has a value of the target '%s'",
                            lift_model_target(m));
        goto done;
    }
    if (task == LIFT_TASK_BINARY) {
        rc = binary_metrics(doc, yb, pp, pq, used, err);
    } else if (task == LIFT_TASK_REGRESSION) {
        struct lift_regression_metrics r;
        if (!(rc = lift_metrics_regression(yy, pp, NULL, used, &r, err))) {
            json_object_set_new(doc, "rmse", real(r.rmse));
            json_object_set_new(doc, "mae", real(r.mae));
            json_object_set_new(doc, "r2", real(r.r2));
        }
    } else {
        struct lift_multiclass_metrics mc;
        if (!(rc = lift_metrics_multiclass(yc, pc, NULL, used, k, &mc, err))) {
            json_object_set_new(doc, "accuracy", real(mc.accuracy));
            json_object_set_new(doc, "macro_f1", real(mc.macro_f1));
            json_object_set_new(doc, "macro_precision",
                                real(mc.macro_precision));
            json_object_set_new(doc, "macro_recall", real(mc.macro_recall));
        }
    }
done:
    lift_free(pp);
    lift_free(pq);
    lift_free(yy);
    lift_free(yb);
    lift_free(yc);
    lift_free(pc);
    return rc;
}

static enum lift_code evaluate_into(json_t *doc, const struct lift_model *m,
                                    const struct lift_table *t,
                                    const uint32_t *rows, size_t n,
                                    struct lift_error *err)
{
    if (!rows)
        n = lift_table_n_rows(t);
    size_t k = lift_model_n_outputs(m), cap;
    if (lift_mul_overflow(n ? n : 1, k, &cap))
        return lift_error_nomem(err, "scores");
    double *p = lift_malloc_array(cap, sizeof *p);
    double *pu = lift_malloc_array(cap, sizeof *pu);
    double *y = lift_malloc_array(n ? n : 1, sizeof *y);
    enum lift_code rc;
    json_object_set_new(doc, "task",
                        json_string(lift_task_name(lift_model_task(m))));
    if (!p || !pu || !y)
        rc = lift_error_nomem(err, "scores");
    else if (!(rc = lift_model_predict_table(m, t, rows, n, p, err)) &&
             !(rc = lift_model_predict_table_uncalibrated(m, t, rows, n, pu,
                                                          err)) &&
             !(rc = lift_model_labels(m, t, rows, n, y, err)))
        rc = add_metrics(doc, m, p, pu, y, n, err);
    lift_free(p);
    lift_free(pu);
    lift_free(y);
    return rc;
}

static enum lift_code dump(json_t *doc, char **json, struct lift_error *err)
{
    *json = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(doc);
    return *json ? LIFT_OK : lift_error_nomem(err, "json");
}

enum lift_code lift_evaluate_json(const struct lift_model *m,
                                  const struct lift_table *t,
                                  const uint32_t *rows, size_t n, char **json,
                                  struct lift_error *err)
{
    *json = NULL;
    json_t *doc = json_object();
    if (!doc)
        return lift_error_nomem(err, "json");
    enum lift_code rc = evaluate_into(doc, m, t, rows, n, err);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    return dump(doc, json, err);
}

/* Class ids of the target for stratification; NULL (no error) for a
 * numeric target with more than two values (regression). */
static enum lift_code strata_of(const struct lift_table *t, size_t col,
                                const char *positive, uint32_t **out,
                                size_t *n_strata, struct lift_error *err)
{
    size_t n = lift_table_n_rows(t);
    const uint32_t *codes = lift_table_codes(t, col);
    const double *vals = lift_table_values(t, col);
    *out = NULL;
    *n_strata = 0;
    uint32_t *s = lift_malloc_array(n ? n : 1, sizeof *s);
    if (!s)
        return lift_error_nomem(err, "folds");
    if (codes) {
        uint32_t pos =
            positive ? lift_table_find_level(t, col, positive, strlen(positive))
                     : LIFT_MISSING_CODE;
        for (size_t i = 0; i < n; i++)
            s[i] = codes[i] == LIFT_MISSING_CODE ? LIFT_MISSING_CODE
                   : positive                    ? (uint32_t)(codes[i] == pos)
                                                 : codes[i];
        *n_strata = positive ? 2 : lift_table_n_levels(t, col);
        *out = s;
        return LIFT_OK;
    }
    double pv = NAN;
    if (positive && !lift_parse_number(positive, strlen(positive), &pv))
        pv = NAN;
    double seen[2] = {NAN, NAN};
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        double v = vals[i];
        if (isnan(v)) {
            s[i] = LIFT_MISSING_CODE;
            continue;
        }
        if (positive) {
            s[i] = v == pv;
            continue;
        }
        size_t k = 0;
        while (k < distinct && seen[k] != v)
            k++;
        if (k == distinct) {
            if (distinct == 2) { /* regression: no strata */
                lift_free(s);
                return LIFT_OK;
            }
            seen[distinct++] = v;
        }
        s[i] = (uint32_t)k;
    }
    *n_strata = 2;
    *out = s;
    return LIFT_OK;
}

static void summarise(json_t *doc, const char *key, json_t **per, size_t nf)
{
    double mean = 0, m2 = 0;
    size_t k = 0;
    json_t *vals = json_array();
    for (size_t f = 0; f < nf; f++) {
        json_t *v = json_object_get(per[f], key);
        double x = json_is_number(v) ? json_number_value(v) : NAN;
        json_array_append_new(vals, real(x));
        if (isnan(x))
            continue;
        k++;
        double d = x - mean;
        mean += d / (double)k;
        m2 += d * (x - mean);
    }
    json_t *o = json_object();
    json_object_set_new(o, "mean", real(k ? mean : NAN));
    json_object_set_new(
        o, "std", real(k > 1 ? sqrt(m2 / (double)(k - 1)) : (k ? 0.0 : NAN)));
    json_object_set_new(o, "folds", vals);
    json_object_set_new(doc, key, o);
}

enum lift_code lift_cv_json(const struct lift_table *t,
                            const struct lift_train_opts *o,
                            const struct lift_cv_opts *cv, char **json,
                            struct lift_error *err)
{
    *json = NULL;
    if (!o->target)
        return lift_error_set(err, LIFT_ERR_INVALID, "no target column given");
    size_t target_col, n = lift_table_n_rows(t), n_strata = 0;
    enum lift_code rc = lift_table_col_index(t, o->target, &target_col, err);
    if (rc)
        return rc;
    size_t nf = cv->by_time ? 1 : cv->folds;
    if (!cv->by_time && (nf < 2 || nf > 100))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "folds must be between 2 and 100, not %zu", nf);
    uint32_t *fold = NULL, *strata = NULL;
    json_t **per = lift_calloc(nf, sizeof *per);
    json_t *doc = json_object();
    struct lift_split sp = {0};
    if (!per || !doc) {
        rc = lift_error_nomem(err, "cross-validation");
        goto done;
    }
    if (cv->by_time) {
        size_t tc = (size_t)-1;
        if (cv->time_col &&
            (rc = lift_table_col_index(t, cv->time_col, &tc, err)))
            goto done;
        if ((rc = lift_split_time(
                 t, tc, cv->test_fraction > 0 ? cv->test_fraction : 0.2, &sp,
                 err)))
            goto done;
    } else {
        if ((rc = strata_of(t, target_col, o->positive, &strata, &n_strata,
                            err)) ||
            (rc = lift_split_kfold(n, strata, n_strata, (unsigned)nf, cv->seed,
                                   &fold, err)))
            goto done;
    }
    for (size_t f = 0; f < nf; f++) {
        if (o->params.progress) {
            struct lift_progress pr = {
                "cv", (unsigned)f + 1, (unsigned)nf, NAN, NAN, NAN, NULL};
            if (o->params.progress(o->params.progress_user, &pr)) {
                rc = lift_error_set(err, LIFT_ERR_CANCELLED,
                                    "training cancelled");
                goto done;
            }
        }
        if (!cv->by_time &&
            (rc = lift_split_fold(fold, n, (unsigned)f, &sp, err)))
            goto done;
        struct lift_model *m = NULL;
        if ((rc = lift_model_train(t, sp.train, sp.n_train, o, &m, err)))
            goto done;
        per[f] = json_object();
        rc = per[f] ? evaluate_into(per[f], m, t, sp.test, sp.n_test, err)
                    : lift_error_nomem(err, "cross-validation");
        lift_model_free(m);
        lift_split_release(&sp);
        if (rc) {
            lift_error_prefix(err, "cross-validation");
            goto done;
        }
    }
    static const char *const keys[] = {
        "auc",    "pr_auc", "logloss", "brier", "accuracy", "precision",
        "recall", "f1",     "rmse",    "mae",   "r2",       "macro_f1"};
    json_object_set_new(doc, "folds", integer(nf));
    json_object_set_new(doc, "split",
                        json_string(cv->by_time ? "time" : "kfold"));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (json_object_get(per[0], keys[i]))
            summarise(doc, keys[i], per, nf);
done:
    lift_split_release(&sp);
    for (size_t f = 0; per && f < nf; f++)
        json_decref(per[f]);
    lift_free(per);
    lift_free(fold);
    lift_free(strata);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    return dump(doc, json, err);
}
