/*
 * eval/metrics.c - binary, regression and multiclass metrics; gain and
 * calibration tables.
 *
 * Ranking. Rows are sorted once by score descending with a bottom-up merge
 * sort (insertion-sorted runs of 16, then merges that alternate between
 * two buffers). It is stable, so equal scores keep row order, which is
 * what the gain table promises; qsort would not. The binary metrics then
 * walk tie groups (maximal runs of equal score) from the top. With the
 * weighted positives tp and negatives fp above a group, its own weights
 * g+ and g-, and the totals P and N:
 *
 *   AUC   = sum over groups of g- * (tp + g+ / 2) / (P * N)
 *           each negative loses to every positive above it and ties half
 *           of those level with it: Mann-Whitney U with average ranks
 *   AP    = sum over groups of (g+ / P) * (tp + g+) / (tp + g+ + fp + g-)
 *           the recall step times the precision at that threshold, without
 *           interpolation, as sklearn's average_precision_score
 *   F1(t) = 2 TP / (TP + FP + P) at t = the group's score
 *
 * A group is a single threshold, so tied rows are never split between the
 * two predicted classes; that is what makes these well defined on ties.
 *
 * Everything else is weighted sums in one or two passes: log loss with p
 * clipped to [eps, 1 - eps], Brier score and the confusion weights at 0.5;
 * RMSE, MAE and R^2 (the weighted mean first, so that SS_tot is not a
 * difference of two large sums); per-class weights of true positives,
 * true rows and predicted rows for multiclass.
 *
 * Complexity: O(n log n) time for lift_auc, lift_metrics_binary and
 * lift_metrics_gains, with 16n bytes of scratch (32n while merging); O(n)
 * time and no scratch for the rest but multiclass, which needs
 * O(n_classes).
 */
#include "eval/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#define RUN 16

static double weight_of(const double *w, size_t i)
{
    return w ? w[i] : 1.0;
}

/* 0/0 is 0, as sklearn's zero_division=0. */
static double ratio(double num, double den)
{
    return den > 0.0 ? num / den : 0.0;
}

/* Sorts a[0..n) by score descending, stable. */
static void insertion_sort(struct lift_ranked *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct lift_ranked x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1].score < x.score) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* Merges the sorted src[lo..mid) and src[mid..hi) into dst[lo..hi); on
 * equal scores the left run goes first, which keeps the sort stable. */
static void merge(const struct lift_ranked *src, size_t lo, size_t mid,
                  size_t hi, struct lift_ranked *dst)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = src[i].score >= src[j].score ? src[i++] : src[j++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

enum lift_code lift_rank_desc(const double *score, size_t n,
                              struct lift_ranked **out, struct lift_error *err)
{
    *out = NULL;
    struct lift_ranked *a = lift_malloc_array(n, sizeof *a);
    if (!a)
        return lift_error_nomem(err, "score ranking");
    for (size_t i = 0; i < n; i++) {
        a[i].score = score[i];
        a[i].row = i;
    }
    for (size_t lo = 0; lo < n; lo += RUN)
        insertion_sort(a + lo, n - lo < RUN ? n - lo : RUN);
    if (n > RUN) {
        struct lift_ranked *b = lift_malloc_array(n, sizeof *b);
        if (!b) {
            lift_free(a);
            return lift_error_nomem(err, "score ranking");
        }
        for (size_t width = RUN; width < n; width *= 2) {
            for (size_t lo = 0; lo < n; lo += 2 * width) {
                size_t mid = n - lo < width ? n : lo + width;
                size_t hi = n - mid < width ? n : mid + width;
                merge(a, lo, mid, hi, b);
            }
            struct lift_ranked *t = a;
            a = b;
            b = t;
        }
        lift_free(b);
    }
    *out = a;
    return LIFT_OK;
}

/* ---- input checks: each names the first offending row ---- */

static enum lift_code check_rows(size_t n, struct lift_error *err)
{
    if (n == 0)
        return lift_error_set(err, LIFT_ERR_INVALID, "no rows to evaluate");
    return LIFT_OK;
}

static enum lift_code check_labels(const uint8_t *y, size_t n,
                                   struct lift_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (y[i] > 1)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "row %zu: label %u is not 0 or 1", i,
                                  (unsigned)y[i]);
    return LIFT_OK;
}

/* Scores may be any non-NaN value; probabilities must lie in [0, 1]. */
static enum lift_code check_scores(const double *s, size_t n, bool probability,
                                   struct lift_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(s[i]))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "row %zu: score is nan", i);
        if (probability && !(s[i] >= 0.0 && s[i] <= 1.0))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "row %zu: probability %.9g outside [0, 1]", i,
                                  s[i]);
    }
    return LIFT_OK;
}

static enum lift_code check_finite(const double *v, size_t n, const char *what,
                                   struct lift_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "row %zu: %s %g is not finite", i, what,
                                  v[i]);
    return LIFT_OK;
}

/* Checks w (NULL: all 1) and gives its sum. */
static enum lift_code check_weights(const double *w, size_t n, double *total,
                                    struct lift_error *err)
{
    if (!w) {
        *total = (double)n;
        return LIFT_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(isfinite(w[i]) && w[i] >= 0.0))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "row %zu: weight %g is negative or not "
                                  "finite",
                                  i, w[i]);
        sum += w[i];
    }
    if (!(sum > 0.0))
        return lift_error_set(err, LIFT_ERR_INVALID, "weights sum to zero");
    *total = sum;
    return LIFT_OK;
}

/* The checks shared by the binary calls; gives the weighted class totals
 * and the unweighted count of positives. */
static enum lift_code check_binary(const uint8_t *y, const double *s,
                                   const double *w, size_t n, bool probability,
                                   double *pos_w, double *neg_w, size_t *n_pos,
                                   struct lift_error *err)
{
    enum lift_code rc;
    double total;
    if ((rc = check_rows(n, err)) != LIFT_OK)
        return rc;
    if (!y || !s)
        return lift_error_set(err, LIFT_ERR_INVALID, "no labels or scores");
    if ((rc = check_labels(y, n, err)) != LIFT_OK ||
        (rc = check_scores(s, n, probability, err)) != LIFT_OK ||
        (rc = check_weights(w, n, &total, err)) != LIFT_OK)
        return rc;
    double pos = 0.0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i]) {
            pos += weight_of(w, i);
            count++;
        }
    }
    *pos_w = pos;
    /* by subtraction only without weights, where it is exact */
    if (w) {
        double neg = 0.0;
        for (size_t i = 0; i < n; i++)
            if (!y[i])
                neg += w[i];
        *neg_w = neg;
    } else {
        *neg_w = total - pos;
    }
    *n_pos = count;
    return LIFT_OK;
}

/* ---- ranking metrics ---- */

struct rank_metrics {
    double auc;
    double pr_auc;
    double f1_best;
    double f1_threshold;
};

/* One walk down the ranked rows, tie group by tie group. */
static void rank_walk(const struct lift_ranked *r, size_t n, const uint8_t *y,
                      const double *w, double pos_total, double neg_total,
                      struct rank_metrics *m)
{
    double tp = 0.0, fp = 0.0, auc_sum = 0.0, ap = 0.0;
    double best = 0.0, best_t = NAN;
    size_t i = 0;
    while (i < n) {
        double g_pos = 0.0, g_neg = 0.0;
        size_t j = i;
        for (; j < n && r[j].score == r[i].score; j++) {
            if (y[r[j].row])
                g_pos += weight_of(w, r[j].row);
            else
                g_neg += weight_of(w, r[j].row);
        }
        auc_sum += g_neg * (tp + 0.5 * g_pos);
        tp += g_pos;
        fp += g_neg;
        if (g_pos > 0.0)
            ap += g_pos * ratio(tp, tp + fp);
        if (pos_total > 0.0) {
            double f1 = 2.0 * tp / (tp + fp + pos_total);
            if (f1 > best) {
                best = f1;
                best_t = r[i].score;
            }
        }
        i = j;
    }
    bool both = pos_total > 0.0 && neg_total > 0.0;
    m->auc = both ? auc_sum / pos_total / neg_total : NAN;
    m->pr_auc = pos_total > 0.0 ? ap / pos_total : NAN;
    m->f1_best = best;
    m->f1_threshold = best_t;
}

enum lift_code lift_auc(const uint8_t *y, const double *score, const double *w,
                        size_t n, double *auc, struct lift_error *err)
{
    struct lift_ranked *r = NULL;
    double pos_w, neg_w;
    size_t n_pos;
    enum lift_code rc;

    if (!auc)
        return lift_error_set(err, LIFT_ERR_INVALID, "no output for auc");
    *auc = NAN;
    rc = check_binary(y, score, w, n, false, &pos_w, &neg_w, &n_pos, err);
    if (rc != LIFT_OK)
        return rc;
    /* one class: nothing to rank, so no need to sort */
    if (!(pos_w > 0.0 && neg_w > 0.0))
        return LIFT_OK;
    if ((rc = lift_rank_desc(score, n, &r, err)) != LIFT_OK)
        return rc;
    struct rank_metrics m;
    rank_walk(r, n, y, w, pos_w, neg_w, &m);
    *auc = m.auc;
    lift_free(r);
    return LIFT_OK;
}

enum lift_code lift_metrics_binary(const uint8_t *y, const double *p,
                                   const double *w, size_t n,
                                   struct lift_binary_metrics *out,
                                   struct lift_error *err)
{
    struct lift_ranked *r = NULL;
    double pos_w, neg_w;
    size_t n_pos;
    enum lift_code rc;

    if (!out)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no output for binary metrics");
    memset(out, 0, sizeof *out);
    rc = check_binary(y, p, w, n, true, &pos_w, &neg_w, &n_pos, err);
    if (rc != LIFT_OK)
        return rc;
    if ((rc = lift_rank_desc(p, n, &r, err)) != LIFT_OK)
        return rc;

    struct rank_metrics m;
    rank_walk(r, n, y, w, pos_w, neg_w, &m);
    lift_free(r);

    double total = pos_w + neg_w;
    double loss = 0.0, brier = 0.0;
    double tp = 0.0, fp = 0.0, fn = 0.0, correct = 0.0;
    for (size_t i = 0; i < n; i++) {
        double wi = weight_of(w, i);
        double pi = p[i];
        bool pos = y[i] != 0;
        bool pred = pi >= LIFT_METRICS_THRESHOLD;
        /* p itself is clipped, as sklearn 1.2 does, so p == 1 with y == 0
         * costs -log(1 - (1 - eps)), a little more than -log(eps) */
        double pc = fmin(fmax(pi, LIFT_LOGLOSS_EPS), 1.0 - LIFT_LOGLOSS_EPS);
        loss -= wi * (pos ? log(pc) : log1p(-pc));
        brier += wi * (pi - (double)pos) * (pi - (double)pos);
        tp += pos && pred ? wi : 0.0;
        fp += !pos && pred ? wi : 0.0;
        fn += pos && !pred ? wi : 0.0;
        correct += pos == pred ? wi : 0.0;
    }

    out->rows = n;
    out->positives = n_pos;
    out->auc = m.auc;
    out->pr_auc = m.pr_auc;
    out->logloss = loss / total;
    out->brier = brier / total;
    out->accuracy = correct / total;
    out->precision = ratio(tp, tp + fp);
    out->recall = ratio(tp, tp + fn);
    out->f1 = ratio(2.0 * tp, 2.0 * tp + fp + fn);
    out->f1_best = m.f1_best;
    out->f1_threshold = m.f1_threshold;
    return LIFT_OK;
}

/* ---- regression ---- */

enum lift_code lift_metrics_regression(const double *y, const double *pred,
                                       const double *w, size_t n,
                                       struct lift_regression_metrics *out,
                                       struct lift_error *err)
{
    enum lift_code rc;
    double total;

    if (!out)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no output for regression metrics");
    memset(out, 0, sizeof *out);
    if ((rc = check_rows(n, err)) != LIFT_OK)
        return rc;
    if (!y || !pred)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no targets or predictions");
    if ((rc = check_finite(y, n, "target", err)) != LIFT_OK ||
        (rc = check_finite(pred, n, "prediction", err)) != LIFT_OK ||
        (rc = check_weights(w, n, &total, err)) != LIFT_OK)
        return rc;

    double sum_y = 0.0;
    for (size_t i = 0; i < n; i++)
        sum_y += weight_of(w, i) * y[i];
    double mean_y = sum_y / total;

    double sq = 0.0, abs_sum = 0.0, ss_tot = 0.0;
    for (size_t i = 0; i < n; i++) {
        double wi = weight_of(w, i);
        double e = pred[i] - y[i];
        double d = y[i] - mean_y;
        sq += wi * e * e;
        abs_sum += wi * fabs(e);
        ss_tot += wi * d * d;
    }
    out->rows = n;
    out->rmse = sqrt(sq / total);
    out->mae = abs_sum / total;
    out->r2 = ss_tot > 0.0 ? 1.0 - sq / ss_tot : NAN;
    return LIFT_OK;
}

/* ---- multiclass ---- */

struct class_sums {
    double tp;     /* weight of rows with y == pred == c */
    double n_true; /* weight of rows with y == c */
    double n_pred; /* weight of rows with pred == c */
    bool present;  /* c occurs in y or pred, whatever its weight */
};

enum lift_code lift_metrics_multiclass(const uint32_t *y, const uint32_t *pred,
                                       const double *w, size_t n,
                                       size_t n_classes,
                                       struct lift_multiclass_metrics *out,
                                       struct lift_error *err)
{
    struct class_sums *cs = NULL;
    enum lift_code rc;
    double total;

    if (!out)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no output for multiclass metrics");
    memset(out, 0, sizeof *out);
    if ((rc = check_rows(n, err)) != LIFT_OK)
        return rc;
    if (!y || !pred)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no labels or predictions");
    if (n_classes == 0 || n_classes - 1 > UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "class count %zu outside [1, 2^32]", n_classes);
    for (size_t i = 0; i < n; i++)
        if (y[i] >= n_classes || pred[i] >= n_classes)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "row %zu: class %u out of range "
                                  "(%zu classes)",
                                  i, y[i] >= n_classes ? y[i] : pred[i],
                                  n_classes);
    if ((rc = check_weights(w, n, &total, err)) != LIFT_OK)
        return rc;

    cs = lift_calloc(n_classes, sizeof *cs);
    if (!cs)
        return lift_error_nomem(err, "class sums");
    double correct = 0.0;
    for (size_t i = 0; i < n; i++) {
        double wi = weight_of(w, i);
        cs[y[i]].n_true += wi;
        cs[y[i]].present = true;
        cs[pred[i]].n_pred += wi;
        cs[pred[i]].present = true;
        if (y[i] == pred[i]) {
            cs[y[i]].tp += wi;
            correct += wi;
        }
    }
    double sum_p = 0.0, sum_r = 0.0, sum_f1 = 0.0;
    size_t present = 0;
    for (size_t c = 0; c < n_classes; c++) {
        if (!cs[c].present)
            continue;
        present++;
        sum_p += ratio(cs[c].tp, cs[c].n_pred);
        sum_r += ratio(cs[c].tp, cs[c].n_true);
        sum_f1 += ratio(2.0 * cs[c].tp, cs[c].n_true + cs[c].n_pred);
    }
    lift_free(cs);

    out->rows = n;
    out->n_present = present;
    out->accuracy = correct / total;
    out->macro_precision = sum_p / (double)present;
    out->macro_recall = sum_r / (double)present;
    out->macro_f1 = sum_f1 / (double)present;
    return LIFT_OK;
}

/* ---- tables ---- */

enum lift_code lift_metrics_gains(const uint8_t *y, const double *score,
                                  size_t n, size_t n_groups,
                                  struct lift_gains_row *rows,
                                  struct lift_error *err)
{
    struct lift_ranked *r = NULL;
    double pos_w, neg_w;
    size_t n_pos;
    enum lift_code rc;

    if (!rows)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no output for the gain table");
    if (n_groups > 0)
        memset(rows, 0, n_groups * sizeof *rows);
    rc = check_binary(y, score, NULL, n, false, &pos_w, &neg_w, &n_pos, err);
    if (rc != LIFT_OK)
        return rc;
    if (n_groups == 0 || n_groups > n)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "%zu groups outside [1, %zu] (the row count)",
                              n_groups, n);
    if ((rc = lift_rank_desc(score, n, &r, err)) != LIFT_OK)
        return rc;

    double overall = (double)n_pos / (double)n;
    size_t base = n / n_groups, extra = n % n_groups;
    size_t at = 0, cum_rows = 0, cum_pos = 0;
    for (size_t g = 0; g < n_groups; g++) {
        struct lift_gains_row *row = &rows[g];
        size_t size = base + (g < extra ? 1 : 0);
        size_t pos = 0;
        for (size_t k = at; k < at + size; k++)
            pos += y[r[k].row];
        row->rows = size;
        row->positives = pos;
        row->max_score = r[at].score;
        row->min_score = r[at + size - 1].score;
        at += size;
        cum_rows += size;
        cum_pos += pos;
        row->rate = (double)pos / (double)size;
        row->cum_rows = cum_rows;
        row->cum_positives = cum_pos;
        if (n_pos > 0) {
            row->lift = row->rate / overall;
            row->cum_gain = (double)cum_pos / (double)n_pos;
            row->cum_lift = (double)cum_pos / (double)cum_rows / overall;
        } else {
            row->lift = row->cum_gain = row->cum_lift = NAN;
        }
    }
    LIFT_ASSERT(at == n);
    lift_free(r);
    return LIFT_OK;
}

enum lift_code lift_metrics_calibration(const uint8_t *y, const double *p,
                                        size_t n, size_t n_bins,
                                        struct lift_calibration_bin *bins,
                                        double *ece, struct lift_error *err)
{
    double pos_w, neg_w;
    size_t n_pos;
    enum lift_code rc;

    if (ece)
        *ece = NAN;
    if (!bins)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no output for the calibration table");
    if (n_bins == 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "calibration needs at least one bin");
    memset(bins, 0, n_bins * sizeof *bins);
    rc = check_binary(y, p, NULL, n, true, &pos_w, &neg_w, &n_pos, err);
    if (rc != LIFT_OK)
        return rc;

    /* mean_pred and rate hold sums until the last loop */
    double width = (double)n_bins;
    for (size_t i = 0; i < n; i++) {
        double x = p[i] * width;
        size_t b = x >= (double)(n_bins - 1) ? n_bins - 1 : (size_t)x;
        bins[b].count++;
        bins[b].mean_pred += p[i];
        bins[b].rate += y[i];
    }
    double sum = 0.0;
    for (size_t b = 0; b < n_bins; b++) {
        struct lift_calibration_bin *bin = &bins[b];
        bin->lo = (double)b / width;
        bin->hi = (double)(b + 1) / width;
        if (bin->count == 0) {
            bin->mean_pred = bin->rate = NAN;
            continue;
        }
        bin->mean_pred /= (double)bin->count;
        bin->rate /= (double)bin->count;
        sum += (double)bin->count * fabs(bin->mean_pred - bin->rate);
    }
    if (ece)
        *ece = sum / (double)n;
    return LIFT_OK;
}
