/*
 * models/model.c - a model: fitted pipeline + learner + calibration +
 * metadata; training orchestration, scoring, explanations and the .lift
 * file (docs/MODEL_FORMAT.md).
 *
 * Training: rows with a missing target are skipped; the calibration and
 * validation fractions are held out of the training rows (stratified,
 * seeded); the pipeline is fitted on the remaining rows only, which the
 * learner then fits. Nothing in the stored model depends on the clock but
 * the creation time, which comes from SOURCE_DATE_EPOCH when it is set,
 * so the same data, options, seed and threads give a byte-identical file.
 *
 * File: "LIFTMDL\0", u32 format version, u32 flags, the body (header,
 * pipeline, learner, calibration, importance, info JSON), then the xxh64
 * of everything before it. Loading checks the checksum before parsing
 * and every count against the remaining bytes.
 */
#include <lift/lift.h>
#include <lift/metrics.h>
#include <lift/model.h>
#include <lift/split.h>
#include <lift/table.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/serial.h"
#include "data/parse.h"
#include "features/pipeline.h"
#include "models/calibrate.h"
#include "models/learner.h"
#include "models/options.h"

#define FORMAT_MAGIC "LIFTMDL"
#define FORMAT_VERSION 1u
/* header flag: a gain importance section follows the importance */
#define FLAG_GAIN 1u
#define MAX_CLASSES 1000
#define IMPORTANCE_SAMPLE 2000

struct lift_model {
    enum lift_task task;
    char *kind;
    char *target;
    size_t n_classes; /* binary: 1 label (the positive); multiclass: K */
    char **classes;
    struct lift_pipeline *pipe;
    struct lift_learner learner;
    struct lift_calibrator cal;
    size_t n_groups;
    double *importance;
    double *gain; /* per group: total split gain (trees); NULL: none */
    char *info;
    double train_s; /* in memory only */
};

const char *lift_task_name(enum lift_task task)
{
    switch (task) {
    case LIFT_TASK_BINARY:
        return "binary";
    case LIFT_TASK_REGRESSION:
        return "regression";
    case LIFT_TASK_MULTICLASS:
        return "multiclass";
    }
    return "unknown";
}

void lift_model_free(struct lift_model *m)
{
    if (!m)
        return;
    lift_free(m->kind);
    lift_free(m->target);
    for (size_t i = 0; i < m->n_classes; i++)
        lift_free(m->classes ? m->classes[i] : NULL);
    lift_free(m->classes);
    lift_pipeline_free(m->pipe);
    if (m->learner.ops && m->learner.ops->destroy)
        m->learner.ops->destroy(&m->learner);
    lift_calibrator_release(&m->cal);
    lift_free(m->importance);
    lift_free(m->gain);
    lift_free(m->info);
    lift_free(m);
}

enum lift_task lift_model_task(const struct lift_model *m)
{
    return m->task;
}

const char *lift_model_kind(const struct lift_model *m)
{
    return m->kind;
}

const char *lift_model_target(const struct lift_model *m)
{
    return m->target;
}

size_t lift_model_n_outputs(const struct lift_model *m)
{
    return m->task == LIFT_TASK_MULTICLASS ? m->n_classes : 1;
}

const char *lift_model_class(const struct lift_model *m, size_t k)
{
    if (m->task == LIFT_TASK_REGRESSION || k >= m->n_classes)
        return NULL;
    return m->classes[k];
}

size_t lift_model_n_inputs(const struct lift_model *m)
{
    return lift_pipeline_n_groups(m->pipe);
}

const char *lift_model_input_name(const struct lift_model *m, size_t i)
{
    return lift_pipeline_group_name(m->pipe, i);
}

size_t lift_model_n_features(const struct lift_model *m)
{
    return lift_pipeline_n_features(m->pipe);
}

const char *lift_model_info_json(const struct lift_model *m)
{
    return m->info ? m->info : "{}";
}

double lift_model_train_seconds(const struct lift_model *m)
{
    return m->train_s;
}

/* ---- scoring ------------------------------------------------------------ */

static const struct lift_calibrator no_calibration = {
    LIFT_CALIB_NONE, 0, 0, 0, NULL, NULL};

/* Raw scores -> outputs through calibrator cal, in place. */
static void finish_scores_with(const struct lift_model *m,
                               const struct lift_calibrator *cal, double *s)
{
    if (m->task == LIFT_TASK_BINARY) {
        s[0] = lift_calibrator_apply(cal, s[0]);
    } else if (m->task == LIFT_TASK_MULTICLASS) {
        double mx = s[0], sum = 0;
        for (size_t k = 1; k < m->n_classes; k++)
            mx = s[k] > mx ? s[k] : mx;
        for (size_t k = 0; k < m->n_classes; k++)
            sum += (s[k] = exp(s[k] - mx));
        for (size_t k = 0; k < m->n_classes; k++)
            s[k] /= sum;
    }
}

static void finish_scores(const struct lift_model *m, double *s)
{
    finish_scores_with(m, &m->cal, s);
}

/*
 * A record mapped for the learner: sparse entries (linear, MLP) or one
 * bin code per input column (trees). The helpers below hide which, so
 * scoring and explaining read the same for every kind.
 */
struct mapped {
    struct lift_row row;
    uint8_t *codes;
    double *entry; /* explain scratch: per entry, or per column */
};

static bool is_binned(const struct lift_model *m)
{
    return m->learner.ops->binned;
}

static enum lift_code mapped_init(struct mapped *x, const struct lift_model *m,
                                  bool explain, struct lift_error *err)
{
    memset(x, 0, sizeof *x);
    size_t ncols = lift_pipeline_n_bin_cols(m->pipe), cap;
    if (is_binned(m)) {
        x->codes = lift_malloc(ncols ? ncols : 1);
        cap = ncols;
    } else {
        enum lift_code rc = lift_row_init(&x->row, m->pipe, err);
        if (rc)
            return rc;
        cap = x->row.cap;
    }
    if (explain)
        x->entry = lift_malloc_array(cap ? cap : 1, sizeof *x->entry);
    if ((is_binned(m) && !x->codes) || (explain && !x->entry)) {
        lift_row_release(&x->row);
        lift_free(x->codes);
        lift_free(x->entry);
        return lift_error_nomem(err, "feature row");
    }
    return LIFT_OK;
}

static void mapped_release(struct mapped *x)
{
    lift_row_release(&x->row);
    lift_free(x->codes);
    lift_free(x->entry);
}

static enum lift_code mapped_table_row(const struct lift_model *m,
                                       const struct lift_binding *b, size_t row,
                                       struct mapped *x, struct lift_error *err)
{
    return is_binned(m) ? lift_pipeline_bin_table_row(b, row, x->codes, err)
                        : lift_pipeline_map_table_row(b, row, &x->row, err);
}

static enum lift_code
mapped_record(const struct lift_model *m, const struct lift_field *fields,
              size_t n_fields, bool strict, struct mapped *x,
              struct lift_record_report *report, struct lift_error *err)
{
    if (is_binned(m))
        return lift_pipeline_bin_record(m->pipe, fields, n_fields, strict,
                                        x->codes, report, err);
    return lift_pipeline_map_record(m->pipe, fields, n_fields, strict, &x->row,
                                    report, err);
}

static void mapped_predict(const struct lift_model *m, const struct mapped *x,
                           double *out)
{
    if (is_binned(m))
        m->learner.ops->predict_binned(&m->learner, x->codes, out);
    else
        m->learner.ops->predict(&m->learner, x->row.idx, x->row.val, x->row.nnz,
                                out);
}

/* Contributions of output k per group (input columns, then crosses) into
 * group[n_groups]; returns the base value. */
static double mapped_explain(const struct lift_model *m, struct mapped *x,
                             size_t k, double *group)
{
    size_t ng = lift_pipeline_n_groups(m->pipe);
    memset(group, 0, ng * sizeof *group);
    if (is_binned(m)) {
        double base =
            m->learner.ops->explain_binned(&m->learner, x->codes, k, x->entry);
        for (size_t c = 0; c < lift_pipeline_n_bin_cols(m->pipe); c++)
            group[lift_pipeline_bin_col_group(m->pipe, c)] += x->entry[c];
        return base;
    }
    double base = m->learner.ops->explain(&m->learner, x->row.idx, x->row.val,
                                          x->row.nnz, k, x->entry);
    for (size_t j = 0; j < x->row.nnz; j++)
        group[x->row.src[j]] += x->entry[j];
    return base;
}

static bool can_explain(const struct lift_model *m)
{
    return is_binned(m) ? m->learner.ops->explain_binned != NULL
                        : m->learner.ops->explain != NULL;
}

static enum lift_code predict_table(const struct lift_model *m,
                                    const struct lift_calibrator *cal,
                                    const struct lift_table *t,
                                    const uint32_t *rows, size_t n, double *out,
                                    struct lift_error *err)
{
    if (!rows)
        n = lift_table_n_rows(t);
    struct lift_binding *b;
    enum lift_code rc = lift_pipeline_bind(m->pipe, t, false, &b, NULL, err);
    if (rc)
        return rc;
    struct mapped x;
    if ((rc = mapped_init(&x, m, false, err))) {
        lift_binding_free(b);
        return rc;
    }
    size_t k = lift_model_n_outputs(m);
    for (size_t i = 0; i < n; i++) {
        if ((rc = mapped_table_row(m, b, rows ? rows[i] : i, &x, err)))
            break;
        mapped_predict(m, &x, out + i * k);
        finish_scores_with(m, cal, out + i * k);
    }
    mapped_release(&x);
    lift_binding_free(b);
    return rc;
}

enum lift_code lift_model_predict_table(const struct lift_model *m,
                                        const struct lift_table *t,
                                        const uint32_t *rows, size_t n,
                                        double *out, struct lift_error *err)
{
    return predict_table(m, &m->cal, t, rows, n, out, err);
}

enum lift_code lift_model_predict_table_uncalibrated(const struct lift_model *m,
                                                     const struct lift_table *t,
                                                     const uint32_t *rows,
                                                     size_t n, double *out,
                                                     struct lift_error *err)
{
    return predict_table(m, &no_calibration, t, rows, n, out, err);
}

enum lift_code lift_model_predict_record(const struct lift_model *m,
                                         const struct lift_field *fields,
                                         size_t n_fields, bool strict,
                                         double *out,
                                         struct lift_record_report *report,
                                         struct lift_error *err)
{
    struct mapped x;
    enum lift_code rc = mapped_init(&x, m, false, err);
    if (rc)
        return rc;
    rc = mapped_record(m, fields, n_fields, strict, &x, report, err);
    if (!rc) {
        mapped_predict(m, &x, out);
        finish_scores(m, out);
    }
    mapped_release(&x);
    return rc;
}

static int cmp_contrib(const void *a, const void *b)
{
    double x = fabs(((const struct lift_contribution *)a)->value);
    double y = fabs(((const struct lift_contribution *)b)->value);
    return (x < y) - (x > y);
}

enum lift_code lift_model_explain_record(
    const struct lift_model *m, const struct lift_field *fields,
    size_t n_fields, size_t k, struct lift_contribution *contrib, size_t *n,
    double *base, double *raw, double *score, struct lift_record_report *report,
    struct lift_error *err)
{
    size_t no = lift_model_n_outputs(m);
    if (k >= no)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "output %zu out of range (the model has %zu)", k,
                              no);
    if (!can_explain(m))
        return lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                              "%s models cannot explain yet", m->kind);
    struct mapped x;
    enum lift_code rc = mapped_init(&x, m, true, err);
    if (rc)
        return rc;
    size_t ng = lift_pipeline_n_groups(m->pipe);
    double *group = lift_malloc_array(ng, sizeof *group);
    double *scores = lift_malloc_array(no, sizeof *scores);
    if (!group || !scores) {
        rc = lift_error_nomem(err, "explanation");
        goto done;
    }
    if ((rc = mapped_record(m, fields, n_fields, false, &x, report, err)))
        goto done;
    *base = mapped_explain(m, &x, k, group);
    mapped_predict(m, &x, scores);
    *raw = scores[k];
    finish_scores(m, scores);
    *score = scores[k];
    for (size_t g = 0; g < ng; g++) {
        contrib[g].column = lift_pipeline_group_name(m->pipe, g);
        contrib[g].value = group[g];
    }
    qsort(contrib, ng, sizeof *contrib, cmp_contrib);
    *n = ng;
done:
    lift_free(group);
    lift_free(scores);
    mapped_release(&x);
    return rc;
}

enum lift_code lift_model_explain_table(const struct lift_model *m,
                                        const struct lift_table *t,
                                        const uint32_t *rows, size_t n,
                                        const size_t *k, double *contrib,
                                        double *base, double *raw,
                                        struct lift_error *err)
{
    size_t no = lift_model_n_outputs(m);
    if (!rows)
        n = lift_table_n_rows(t);
    if (!can_explain(m))
        return lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                              "%s models cannot explain yet", m->kind);
    for (size_t i = 0; k && i < n; i++)
        if (k[i] >= no)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "output %zu out of range (the model has "
                                  "%zu)",
                                  k[i], no);
    struct lift_binding *b;
    enum lift_code rc = lift_pipeline_bind(m->pipe, t, false, &b, NULL, err);
    if (rc)
        return rc;
    struct mapped x;
    if ((rc = mapped_init(&x, m, true, err))) {
        lift_binding_free(b);
        return rc;
    }
    size_t ng = lift_pipeline_n_groups(m->pipe);
    double *scores = lift_malloc_array(no, sizeof *scores);
    if (!scores)
        rc = lift_error_nomem(err, "explanation");
    for (size_t i = 0; !rc && i < n; i++) {
        size_t ki = k ? k[i] : 0;
        if ((rc = mapped_table_row(m, b, rows ? rows[i] : i, &x, err)))
            break;
        base[i] = mapped_explain(m, &x, ki, contrib + i * ng);
        mapped_predict(m, &x, scores);
        raw[i] = scores[ki];
    }
    lift_free(scores);
    mapped_release(&x);
    lift_binding_free(b);
    return rc;
}

size_t lift_model_importance(const struct lift_model *m,
                             struct lift_contribution *out)
{
    size_t ng = lift_pipeline_n_groups(m->pipe);
    for (size_t g = 0; g < ng; g++) {
        out[g].column = lift_pipeline_group_name(m->pipe, g);
        out[g].value = m->importance ? m->importance[g] : NAN;
    }
    qsort(out, ng, sizeof *out, cmp_contrib);
    return ng;
}

static int cmp_share(const void *a, const void *b)
{
    const struct lift_contribution *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? 1 : -1;
    return strcmp(x->column, y->column);
}

size_t lift_model_gain_importance(const struct lift_model *m,
                                  struct lift_contribution *out, double *raw)
{
    if (!m->gain)
        return 0;
    size_t ng = lift_pipeline_n_groups(m->pipe);
    double total = 0;
    for (size_t g = 0; g < ng; g++)
        total += m->gain[g];
    for (size_t g = 0; g < ng; g++) {
        out[g].column = lift_pipeline_group_name(m->pipe, g);
        out[g].value = total > 0 ? m->gain[g] / total : 0;
    }
    qsort(out, ng, sizeof *out, cmp_share);
    /* the raw totals beside: the sort keeps names, so find each by name
     * among the groups (a model has few groups) */
    for (size_t i = 0; raw && i < ng; i++)
        for (size_t g = 0; g < ng; g++)
            if (out[i].column == lift_pipeline_group_name(m->pipe, g)) {
                raw[i] = m->gain[g];
                break;
            }
    return ng;
}

/* ---- labels ------------------------------------------------------------- */

static void format_number(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.15g", v);
}

/* The label of one row as text (for class lookup); NULL when missing. */
static const char *label_text(const struct lift_table *t, size_t col,
                              size_t row, char *buf, size_t cap)
{
    const uint32_t *codes = lift_table_codes(t, col);
    if (codes)
        return codes[row] == LIFT_MISSING_CODE
                   ? NULL
                   : lift_table_level(t, col, codes[row], NULL);
    double v = lift_table_values(t, col)[row];
    if (isnan(v))
        return NULL;
    format_number(v, buf, cap);
    return buf;
}

enum lift_code lift_model_labels(const struct lift_model *m,
                                 const struct lift_table *t,
                                 const uint32_t *rows, size_t n, double *y,
                                 struct lift_error *err)
{
    size_t col;
    enum lift_code rc = lift_table_col_index(t, m->target, &col, err);
    if (rc)
        return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "the data has no target column '%s'", m->target);
    if (!rows)
        n = lift_table_n_rows(t);
    const double *vals = lift_table_values(t, col);
    if (m->task == LIFT_TASK_REGRESSION && !vals)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "target column '%s' is not numeric", m->target);
    char buf[64];
    double pos_num = NAN;
    if (m->task == LIFT_TASK_BINARY && vals &&
        !lift_parse_number(m->classes[0], strlen(m->classes[0]), &pos_num))
        pos_num = NAN;
    for (size_t i = 0; i < n; i++) {
        size_t row = rows ? rows[i] : i;
        if (m->task == LIFT_TASK_REGRESSION) {
            y[i] = vals[row];
            continue;
        }
        if (m->task == LIFT_TASK_BINARY && vals) {
            double v = vals[row];
            y[i] = isnan(v) ? NAN : v == pos_num ? 1.0 : 0.0;
            continue;
        }
        const char *s = label_text(t, col, row, buf, sizeof buf);
        if (!s) {
            y[i] = NAN;
            continue;
        }
        if (m->task == LIFT_TASK_BINARY) {
            y[i] = strcmp(s, m->classes[0]) == 0 ? 1.0 : 0.0;
            continue;
        }
        size_t k = 0;
        while (k < m->n_classes && strcmp(m->classes[k], s) != 0)
            k++;
        if (k == m->n_classes)
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "line %zu: class '%s' of '%s' is unknown "
                                  "to the model",
                                  lift_table_row_line(t, row), s, m->target);
        y[i] = (double)k;
    }
    return LIFT_OK;
}

/* ---- training ----------------------------------------------------------- */

static int report_progress(const struct lift_train_params *p, const char *stage)
{
    if (!p->progress)
        return 0;
    struct lift_progress pr = {stage, 0, 0, NAN, NAN, NAN, NULL};
    return p->progress(p->progress_user, &pr);
}

struct train_state {
    size_t col;
    uint32_t *rows; /* rows with a target */
    size_t n;
    double *y; /* per rows[i] */
    uint32_t *strata;
    size_t n_strata;
    size_t skipped;
};

static enum lift_code add_class(struct lift_model *m, const char *s,
                                struct lift_error *err)
{
    if (m->n_classes == MAX_CLASSES)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "target '%s' has more than %d classes", m->target,
                              MAX_CLASSES);
    char **c = lift_realloc_array(m->classes, m->n_classes + 1, sizeof *c);
    if (!c)
        return lift_error_nomem(err, "classes");
    m->classes = c;
    if (!(c[m->n_classes] = lift_strdup(s)))
        return lift_error_nomem(err, "classes");
    m->n_classes++;
    return LIFT_OK;
}

/* Distinct target values among the rows (first appearance order), with
 * their counts; at most 1001 are collected. */
static enum lift_code distinct_labels(const struct lift_table *t, size_t col,
                                      const struct train_state *s, char ***out,
                                      size_t **counts, size_t *n_out,
                                      struct lift_error *err)
{
    char **vals = NULL;
    size_t *cnt = NULL, n = 0;
    char buf[64];
    enum lift_code rc = LIFT_OK;
    for (size_t i = 0; i < s->n; i++) {
        const char *v = label_text(t, col, s->rows[i], buf, sizeof buf);
        size_t k = 0;
        while (k < n && strcmp(vals[k], v) != 0)
            k++;
        if (k < n) {
            cnt[k]++;
            continue;
        }
        if (n > MAX_CLASSES)
            continue;
        char **v2 = lift_realloc_array(vals, n + 1, sizeof *v2);
        size_t *c2 = v2 ? lift_realloc_array(cnt, n + 1, sizeof *c2) : NULL;
        if (v2)
            vals = v2;
        if (c2)
            cnt = c2;
        if (!v2 || !c2 || !(vals[n] = lift_strdup(v))) {
            rc = lift_error_nomem(err, "target values");
            break;
        }
        cnt[n++] = 1;
    }
    *out = vals;
    *counts = cnt;
    *n_out = n;
    return rc;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lift_free(v[i]);
    lift_free(v);
}

/* Decides task, kind and classes, and fills s->y and the strata. */
static enum lift_code resolve_target(struct lift_model *m,
                                     const struct lift_table *t,
                                     const struct lift_train_opts *o,
                                     struct train_state *s,
                                     struct lift_error *err)
{
    size_t col = s->col;
    bool numeric = lift_table_values(t, col) != NULL;
    char **vals = NULL;
    size_t *cnt = NULL, nv = 0;
    enum lift_code rc = distinct_labels(t, col, s, &vals, &cnt, &nv, err);
    if (rc)
        goto done;
    int task = o->task;
    if (task < 0 && o->model) {
        if (strcmp(o->model, "logistic") == 0)
            task = LIFT_TASK_BINARY;
        else if (strcmp(o->model, "linear") == 0)
            task = LIFT_TASK_REGRESSION;
        else if (strcmp(o->model, "softmax") == 0)
            task = LIFT_TASK_MULTICLASS;
    }
    if (task < 0) {
        if (o->positive || nv == 2)
            task = LIFT_TASK_BINARY;
        else if (numeric)
            task = LIFT_TASK_REGRESSION;
        else
            task = LIFT_TASK_MULTICLASS;
    }
    m->task = (enum lift_task)task;
    const char *kind = o->model;
    if (!kind)
        kind = task == LIFT_TASK_BINARY       ? "logistic"
               : task == LIFT_TASK_REGRESSION ? "linear"
                                              : "softmax";
    if ((strcmp(kind, "logistic") == 0 && task != LIFT_TASK_BINARY) ||
        (strcmp(kind, "linear") == 0 && task != LIFT_TASK_REGRESSION) ||
        (strcmp(kind, "softmax") == 0 && task != LIFT_TASK_MULTICLASS)) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "model '%s' does not fit a %s task", kind,
                            lift_task_name(m->task));
        goto done;
    }
    if (!(m->kind = lift_strdup(kind))) {
        rc = lift_error_nomem(err, "model");
        goto done;
    }
    if (m->task == LIFT_TASK_REGRESSION) {
        if (!numeric) {
            rc = lift_error_set(
                err, LIFT_ERR_INVALID,
                "target '%s' is %s; regression needs a "
                "numeric target",
                m->target, lift_col_type_name(lift_table_col_type(t, col)));
            goto done;
        }
        const double *v = lift_table_values(t, col);
        for (size_t i = 0; i < s->n; i++)
            s->y[i] = v[s->rows[i]];
        goto done;
    }
    if (nv < 2) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "target '%s' has only one value ('%s') in the "
                            "training rows",
                            m->target, nv ? vals[0] : "");
        goto done;
    }
    if (m->task == LIFT_TASK_BINARY) {
        const char *pos = o->positive;
        size_t k = 0;
        if (!pos) {
            if (nv != 2) {
                rc = lift_error_set(err, LIFT_ERR_INVALID,
                                    "target '%s' has %zu values; name the "
                                    "positive one",
                                    m->target, nv);
                goto done;
            }
            k = cnt[1] <= cnt[0] ? 1 : 0; /* the rarer class */
            pos = vals[k];
        }
        char buf[64];
        double pn;
        if (numeric && lift_parse_number(pos, strlen(pos), &pn)) {
            format_number(pn, buf, sizeof buf);
            pos = buf;
        }
        for (k = 0; k < nv && strcmp(vals[k], pos) != 0; k++)
            ;
        if (k == nv) {
            rc = lift_error_set(err, LIFT_ERR_INVALID,
                                "no value '%s' in target column '%s'", pos,
                                m->target);
            goto done;
        }
        if ((rc = add_class(m, pos, err)))
            goto done;
        char lb[64];
        for (size_t i = 0; i < s->n; i++) {
            const char *v = label_text(t, col, s->rows[i], lb, sizeof lb);
            s->y[i] = strcmp(v, pos) == 0 ? 1.0 : 0.0;
            s->strata[i] = (uint32_t)s->y[i];
        }
        s->n_strata = 2;
        goto done;
    }
    if (nv > MAX_CLASSES) {
        rc = lift_error_set(err, LIFT_ERR_LIMIT,
                            "target '%s' has more than %d classes", m->target,
                            MAX_CLASSES);
        goto done;
    }
    for (size_t k = 0; k < nv; k++)
        if ((rc = add_class(m, vals[k], err)))
            goto done;
    char lb[64];
    for (size_t i = 0; i < s->n; i++) {
        const char *v = label_text(t, col, s->rows[i], lb, sizeof lb);
        size_t k = 0;
        while (strcmp(m->classes[k], v) != 0)
            k++;
        s->y[i] = (double)k;
        s->strata[i] = (uint32_t)k;
    }
    s->n_strata = nv;
done:
    free_strings(vals, nv);
    lift_free(cnt);
    return rc;
}

/* Picks rows[idx[i]] and their labels. */
static enum lift_code gather(const struct train_state *s, const uint32_t *idx,
                             size_t n, uint32_t **rows, double **y,
                             struct lift_error *err)
{
    *rows = lift_malloc_array(n ? n : 1, sizeof **rows);
    *y = lift_malloc_array(n ? n : 1, sizeof **y);
    if (!*rows || !*y)
        return lift_error_nomem(err, "training rows");
    for (size_t i = 0; i < n; i++) {
        (*rows)[i] = s->rows[idx[i]];
        (*y)[i] = s->y[idx[i]];
    }
    return LIFT_OK;
}

static void put_params_json(json_t *o, const struct lift_train_opts *opt,
                            const struct lift_train_params *p)
{
    json_object_set_new(
        o, "index",
        json_string(opt->spec.index == LIFT_INDEX_HASH ? "hash" : "dict"));
    if (opt->spec.index == LIFT_INDEX_HASH)
        json_object_set_new(o, "bits", json_integer(opt->spec.bits));
    json_object_set_new(o, "epochs", json_integer(p->epochs));
    json_object_set_new(o, "batch", json_integer((json_int_t)p->batch));
    json_object_set_new(o, "lr", json_real(p->lr));
    json_object_set_new(o, "l1", json_real(p->l1));
    json_object_set_new(o, "l2", json_real(p->l2));
    static const char *const opts[] = {"auto",    "lbfgs", "sgd",
                                       "adagrad", "adam",  "newton"};
    json_object_set_new(o, "optimizer", json_string(opts[p->optimizer]));
    json_object_set_new(o, "class_weight",
                        json_string(opt->balanced ? "balanced" : "none"));
    json_object_set_new(o, "valid", json_real(opt->valid));
    static const char *const cal[] = {"none", "platt", "isotonic"};
    json_object_set_new(o, "calibration", json_string(cal[opt->calibration]));
    json_object_set_new(o, "threads", json_integer(p->threads));
    json_object_set_new(o, "tol", json_real(p->tol));
    if (p->trees) { /* gbdt */
        json_object_set_new(o, "trees", json_integer(p->trees));
        json_object_set_new(o, "depth", json_integer(p->depth));
        json_object_set_new(o, "leaves", json_integer(p->leaves));
        json_object_set_new(o, "min_child_weight",
                            json_real(p->min_child_weight));
        json_object_set_new(o, "subsample", json_real(p->subsample));
        json_object_set_new(o, "colsample", json_real(p->colsample));
    }
}

static enum lift_code
make_info(struct lift_model *m, const struct lift_train_opts *o,
          const struct lift_train_params *p, const struct train_state *s,
          size_t n_fit, size_t n_valid, size_t n_calib, uint64_t data_hash,
          json_t *valid_metrics, struct lift_error *err)
{
    json_t *doc = json_object();
    if (!doc)
        return lift_error_nomem(err, "model info");
    json_object_set_new(doc, "lift_version", json_string(lift_version()));
    json_object_set_new(doc, "kind", json_string(m->kind));
    json_object_set_new(doc, "task", json_string(lift_task_name(m->task)));
    json_object_set_new(doc, "target", json_string(m->target));
    if (m->task == LIFT_TASK_BINARY)
        json_object_set_new(doc, "positive", json_string(m->classes[0]));
    if (m->task == LIFT_TASK_MULTICLASS) {
        json_t *cl = json_array();
        for (size_t k = 0; k < m->n_classes; k++)
            json_array_append_new(cl, json_string(m->classes[k]));
        json_object_set_new(doc, "classes", cl);
    }
    json_t *rows = json_object();
    json_object_set_new(rows, "train", json_integer((json_int_t)n_fit));
    json_object_set_new(rows, "valid", json_integer((json_int_t)n_valid));
    json_object_set_new(rows, "calibration", json_integer((json_int_t)n_calib));
    json_object_set_new(rows, "skipped_missing_target",
                        json_integer((json_int_t)s->skipped));
    json_object_set_new(doc, "rows", rows);
    json_object_set_new(doc, "inputs",
                        json_integer((json_int_t)lift_model_n_inputs(m)));
    json_object_set_new(doc, "features",
                        json_integer((json_int_t)lift_model_n_features(m)));
    if (is_binned(m)) /* inputs, then the text inputs' term columns */
        json_object_set_new(
            doc, "binned_columns",
            json_integer((json_int_t)lift_pipeline_n_bin_cols(m->pipe)));
    json_object_set_new(doc, "seed", json_integer((json_int_t)o->params.seed));
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)data_hash);
    json_object_set_new(doc, "data_hash", json_string(hash));
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    long long created = sde ? strtoll(sde, NULL, 10) : (long long)time(NULL);
    json_object_set_new(doc, "created", json_integer(created));
    json_t *params = json_object();
    put_params_json(params, o, p);
    json_object_set_new(doc, "params", params);
    if (valid_metrics)
        json_object_set_new(doc, "valid_metrics", valid_metrics);
    m->info = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!m->info)
        return lift_error_nomem(err, "model info");
    return LIFT_OK;
}

/* The learner's input for a set of rows: sparse (x) or binned (xb). */
struct design {
    struct lift_csr x;
    struct lift_binned xb;
    uint8_t *codes; /* owned storage of xb */
    size_t n_rows;
};

static void design_release(struct design *d)
{
    lift_csr_release(&d->x);
    lift_free(d->codes);
    memset(d, 0, sizeof *d);
}

/* Per-column bin counts and kinds, shared by every design of a fit. */
struct bin_info {
    uint16_t *n_bins;
    uint8_t *categorical;
};

/* memo: the pipeline fit's memo of text values (may be NULL). */
static enum lift_code design_build(const struct lift_model *m,
                                   const struct lift_binding *b,
                                   const struct lift_pipeline_memo *memo,
                                   const struct bin_info *bi,
                                   const uint32_t *rows, size_t n,
                                   struct design *d, struct lift_error *err)
{
    memset(d, 0, sizeof *d);
    d->n_rows = n;
    if (!is_binned(m))
        return lift_pipeline_transform_memo(b, memo, rows, n, &d->x, err);
    size_t nc = lift_pipeline_n_bin_cols(m->pipe), total;
    if (lift_mul_overflow(nc, n, &total) ||
        !(d->codes = lift_malloc(total ? total : 1)))
        return lift_error_nomem(err, "binned rows");
    d->xb = (struct lift_binned){n, nc, d->codes, bi->n_bins, bi->categorical};
    return lift_pipeline_bin_transform_memo(b, memo, rows, n, d->codes, err);
}

/* Raw scores of a design's rows (n * K into out). */
static enum lift_code raw_scores(const struct lift_model *m,
                                 const struct design *d, double *out,
                                 struct lift_error *err)
{
    const struct lift_learner *l = &m->learner;
    if (!is_binned(m)) {
        const struct lift_csr *x = &d->x;
        for (size_t i = 0; i < x->n_rows; i++) {
            uint64_t a = x->indptr[i], b = x->indptr[i + 1];
            l->ops->predict(l, x->idx + a, x->val + a, (size_t)(b - a),
                            out + i * l->n_outputs);
        }
        return LIFT_OK;
    }
    size_t nc = d->xb.n_cols, n = d->n_rows;
    uint8_t *row = lift_malloc(nc ? nc : 1);
    if (!row)
        return lift_error_nomem(err, "scores");
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < nc; c++)
            row[c] = d->codes[c * n + i];
        l->ops->predict_binned(l, row, out + i * l->n_outputs);
    }
    lift_free(row);
    return LIFT_OK;
}

static json_t *validation_metrics(struct lift_model *m, const struct design *vx,
                                  const double *vy)
{
    size_t n = vx->n_rows, k = lift_model_n_outputs(m);
    double *s = lift_malloc_array(n * k, sizeof *s);
    uint8_t *yb = lift_malloc_array(n, sizeof *yb);
    uint32_t *yc = lift_malloc_array(n, sizeof *yc);
    uint32_t *pc = lift_malloc_array(n, sizeof *pc);
    json_t *out = NULL;
    if (!s || !yb || !yc || !pc)
        goto done;
    if (raw_scores(m, vx, s, NULL))
        goto done;
    for (size_t i = 0; i < n; i++)
        finish_scores(m, s + i * k);
    out = json_object();
    if (m->task == LIFT_TASK_BINARY) {
        struct lift_binary_metrics bm;
        for (size_t i = 0; i < n; i++)
            yb[i] = vy[i] > 0.5;
        if (!lift_metrics_binary(yb, s, NULL, n, &bm, NULL)) {
            json_object_set_new(out, "auc", json_real(bm.auc));
            json_object_set_new(out, "logloss", json_real(bm.logloss));
        }
    } else if (m->task == LIFT_TASK_REGRESSION) {
        struct lift_regression_metrics rm;
        if (!lift_metrics_regression(vy, s, NULL, n, &rm, NULL))
            json_object_set_new(out, "rmse", json_real(rm.rmse));
    } else {
        struct lift_multiclass_metrics mm;
        for (size_t i = 0; i < n; i++) {
            yc[i] = (uint32_t)vy[i];
            size_t best = 0;
            for (size_t c = 1; c < k; c++)
                if (s[i * k + c] > s[i * k + best])
                    best = c;
            pc[i] = (uint32_t)best;
        }
        if (!lift_metrics_multiclass(yc, pc, NULL, n, k, &mm, NULL)) {
            json_object_set_new(out, "accuracy", json_real(mm.accuracy));
            json_object_set_new(out, "macro_f1", json_real(mm.macro_f1));
        }
    }
done:
    lift_free(s);
    lift_free(yb);
    lift_free(yc);
    lift_free(pc);
    return out;
}

/*
 * Gain importance (learners with splits): the learner's total split gain
 * per binned column, added to the column's group (a text column's term
 * columns to the text column) in column order, so the totals are as
 * deterministic as the trees.
 */
static enum lift_code fit_gain(struct lift_model *m, struct lift_error *err)
{
    if (!m->learner.ops->gains)
        return LIFT_OK;
    size_t ng = lift_pipeline_n_groups(m->pipe), nc = m->learner.n_inputs;
    double *col = lift_malloc_array(nc ? nc : 1, sizeof *col);
    m->gain = lift_calloc(ng ? ng : 1, sizeof *m->gain);
    if (!col || !m->gain) {
        lift_free(col);
        return lift_error_nomem(err, "gain importance");
    }
    m->learner.ops->gains(&m->learner, col);
    for (size_t c = 0; c < nc; c++)
        m->gain[lift_pipeline_bin_col_group(m->pipe, c)] += col[c];
    lift_free(col);
    return LIFT_OK;
}

/*
 * Global importance: mean |contribution| per group over a sample of the
 * training rows. For sparse learners in dict mode the rows are read from
 * the training matrix d (row i is rows[i]) and grouped through the
 * pipeline's feature groups, which gives the same sums as mapping the
 * rows again without analysing their text a third time; other learners
 * map the sampled rows.
 */
/*
 * The binned learners' rows can be explained on several threads: each
 * thread explains a run of the sampled rows into its own rows of terms
 * (|contribution| / outputs per row, output and group), and the terms are
 * then added in the sequential order, so the importance is the same, bit
 * for bit, at any thread count. A thread's first error stands for its
 * run; the first run's error is the one reported, as one thread would.
 */
#define IMPORTANCE_MAX_TERMS ((size_t)1 << 22) /* 32 MiB of terms */

struct importance_run {
    const struct lift_model *m;
    const struct lift_binding *b;
    const uint32_t *rows;
    size_t step, first, last, ng, no;
    double *terms;
    enum lift_code rc;
    struct lift_error err;
};

static void *importance_run_main(void *arg)
{
    struct importance_run *r = arg;
    struct mapped x;
    double *group = lift_malloc_array(r->ng ? r->ng : 1, sizeof *group);
    r->rc = mapped_init(&x, r->m, true, &r->err);
    bool mapped = r->rc == LIFT_OK;
    if (!r->rc && !group)
        r->rc = lift_error_nomem(&r->err, "importance");
    for (size_t i = r->first; !r->rc && i < r->last; i++) {
        if ((r->rc = mapped_table_row(r->m, r->b, r->rows[i * r->step], &x,
                                      &r->err)))
            break;
        for (size_t k = 0; k < r->no; k++) {
            double *t = r->terms + (i * r->no + k) * r->ng;
            mapped_explain(r->m, &x, k, group);
            for (size_t g = 0; g < r->ng; g++)
                t[g] = fabs(group[g]) / (double)r->no;
        }
    }
    if (mapped)
        mapped_release(&x);
    lift_free(group);
    return NULL;
}

/* The importance of the sampled rows rows[0], rows[step], ... (used of
 * them) on up to threads threads; LIFT_ERR_UNSUPPORTED when the terms
 * would take too much memory (the caller then goes row by row). */
static enum lift_code importance_threads(struct lift_model *m,
                                         const struct lift_binding *b,
                                         const uint32_t *rows, size_t step,
                                         size_t used, unsigned threads,
                                         struct lift_error *err)
{
    size_t ng = m->n_groups, no = lift_model_n_outputs(m);
    if (used == 0 || ng == 0 || used * no > IMPORTANCE_MAX_TERMS / ng)
        return LIFT_ERR_UNSUPPORTED;
    if (threads > 64)
        threads = 64;
    if (threads > used)
        threads = (unsigned)used;
    double *terms = lift_malloc_array(used * no * ng, sizeof *terms);
    struct importance_run *run = lift_calloc(threads, sizeof *run);
    pthread_t *tid = lift_calloc(threads, sizeof *tid);
    bool *started = lift_calloc(threads, sizeof *started);
    enum lift_code rc = LIFT_OK;
    if (!terms || !run || !tid || !started) {
        rc = lift_error_nomem(err, "importance");
        goto done;
    }
    for (unsigned t = 0; t < threads; t++) {
        run[t] = (struct importance_run){m,
                                         b,
                                         rows,
                                         step,
                                         used * t / threads,
                                         used * (t + 1) / threads,
                                         ng,
                                         no,
                                         terms,
                                         LIFT_OK,
                                         {0}};
        /* the calling thread takes the first run (and any that could not
         * get a thread) */
        started[t] = t > 0 && !pthread_create(&tid[t], NULL,
                                              importance_run_main, &run[t]);
    }
    for (unsigned t = 0; t < threads; t++)
        if (!started[t])
            importance_run_main(&run[t]);
    for (unsigned t = 0; t < threads; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
    for (unsigned t = 0; t < threads && !rc; t++)
        if ((rc = run[t].rc)) {
            if (err)
                *err = run[t].err;
        }
    for (size_t i = 0; !rc && i < used * no; i++)
        for (size_t g = 0; g < ng; g++)
            m->importance[g] += terms[i * ng + g];
    for (size_t g = 0; !rc && g < ng; g++)
        m->importance[g] /= (double)used;
done:
    lift_free(terms);
    lift_free(run);
    lift_free(tid);
    lift_free(started);
    return rc;
}

static enum lift_code fit_importance(struct lift_model *m,
                                     const struct lift_binding *b,
                                     const struct design *d,
                                     const uint32_t *rows, size_t n,
                                     unsigned threads, struct lift_error *err)
{
    size_t ng = lift_pipeline_n_groups(m->pipe);
    m->n_groups = ng;
    m->importance = lift_calloc(ng, sizeof *m->importance);
    if (!m->importance)
        return lift_error_nomem(err, "importance");
    if (!can_explain(m))
        return LIFT_OK;
    if (is_binned(m) && threads > 1) {
        size_t step = n > IMPORTANCE_SAMPLE ? n / IMPORTANCE_SAMPLE : 1;
        enum lift_code rc = importance_threads(
            m, b, rows, step, (n + step - 1) / step, threads, err);
        if (rc != LIFT_ERR_UNSUPPORTED)
            return rc;
    }
    struct mapped x;
    enum lift_code rc = mapped_init(&x, m, true, err);
    if (rc)
        return rc;
    double *group = lift_malloc_array(ng, sizeof *group);
    if (!group) {
        rc = lift_error_nomem(err, "importance");
        goto done;
    }
    size_t step = n > IMPORTANCE_SAMPLE ? n / IMPORTANCE_SAMPLE : 1, used = 0;
    size_t no = lift_model_n_outputs(m);
    bool from_matrix = !is_binned(m) &&
                       lift_pipeline_mode(m->pipe) == LIFT_INDEX_DICT &&
                       d->x.n_rows == n;
    for (size_t i = 0; i < n; i += step, used++) {
        if (from_matrix) {
            const struct lift_csr *c = &d->x;
            uint64_t s0 = c->indptr[i], s1 = c->indptr[i + 1];
            size_t nnz = (size_t)(s1 - s0);
            for (size_t k = 0; k < no; k++) {
                memset(group, 0, ng * sizeof *group);
                m->learner.ops->explain(&m->learner, c->idx + s0, c->val + s0,
                                        nnz, k, x.entry);
                for (size_t j = 0; j < nnz; j++)
                    group[lift_pipeline_feature_group(
                        m->pipe, c->idx[s0 + j])] += x.entry[j];
                for (size_t g = 0; g < ng; g++)
                    m->importance[g] += fabs(group[g]) / (double)no;
            }
            continue;
        }
        if ((rc = mapped_table_row(m, b, rows[i], &x, err)))
            goto done;
        for (size_t k = 0; k < no; k++) {
            mapped_explain(m, &x, k, group);
            for (size_t g = 0; g < ng; g++)
                m->importance[g] += fabs(group[g]) / (double)no;
        }
    }
    for (size_t g = 0; g < ng && used; g++)
        m->importance[g] /= (double)used;
done:
    lift_free(group);
    mapped_release(&x);
    return rc;
}

/*
 * gbdt: 200 trees of depth 3, lr 0.05, l2 1, min-child-weight 1 had the
 * best mean 5-fold AUC over the bank and Hillstrom training parts
 * (0.8011 / 0.6462) of a grid over depth 2..6, lr 0.05 / 0.1, l2,
 * min-child-weight and 400 trees (docs/CLI.md); depth 6 lr 0.1 gave
 * 0.7916 / 0.6187.
 *
 * Defaults of the linear kinds, chosen by 5-fold cross-validation on the
 * training part of the bank and Hillstrom splits (docs/CLI.md): L2 1e-4
 * gave the best mean AUC on both (bank 0.7918, Hillstrom 0.6475; 1e-5:
 * 0.7916 / 0.6475; 1e-3: 0.7914 / 0.6475; 1e-2: 0.7886 / 0.6468), and a
 * relative gradient tolerance of 1e-4 changes test AUC by < 1e-5 against
 * 1e-6 at a third of the time.
 */
static void apply_defaults(const char *kind, struct lift_train_params *p)
{
    bool linear = strcmp(kind, "logistic") == 0 ||
                  strcmp(kind, "linear") == 0 || strcmp(kind, "softmax") == 0;
    if (p->l2 < 0)
        p->l2 = linear ? 1e-4 : strcmp(kind, "gbdt") == 0 ? 1.0 : 0.0;
    if (linear && p->tol <= 0)
        p->tol = 1e-4;
    if (strcmp(kind, "gbdt") == 0) {
        if (!p->trees)
            p->trees = 200;
        if (!p->depth && !p->leaves)
            p->depth = 3;
        if (p->lr <= 0)
            p->lr = 0.05;
        if (p->min_child_weight <= 0)
            p->min_child_weight = 1.0;
    }
}

static uint64_t hash_data(const struct design *d, const double *y)
{
    struct lift_xxh64 h;
    lift_xxh64_init(&h, 0);
    if (d->codes) {
        lift_xxh64_update(&h, d->codes, d->xb.n_cols * d->n_rows);
    } else {
        const struct lift_csr *x = &d->x;
        uint64_t nnz = x->indptr[x->n_rows];
        lift_xxh64_update(&h, x->indptr, (x->n_rows + 1) * sizeof *x->indptr);
        lift_xxh64_update(&h, x->idx, nnz * sizeof *x->idx);
        lift_xxh64_update(&h, x->val, nnz * sizeof *x->val);
    }
    lift_xxh64_update(&h, y, d->n_rows * sizeof *y);
    return lift_xxh64_digest(&h);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum lift_code lift_model_train(const struct lift_table *t,
                                const uint32_t *rows, size_t n_rows,
                                const struct lift_train_opts *o,
                                struct lift_model **out, struct lift_error *err)
{
    *out = NULL;
    if (!o->target)
        return lift_error_set(err, LIFT_ERR_INVALID, "no target column given");
    struct lift_model *m = lift_calloc(1, sizeof *m);
    if (!m)
        return lift_error_nomem(err, "model");
    struct train_state s = {0};
    struct lift_split calib = {0}, valid = {0};
    struct lift_binding *bind = NULL;
    struct lift_pipeline_memo *memo = NULL;
    struct design x = {0}, vx = {0}, cx = {0};
    struct bin_info bi = {NULL, NULL};
    uint32_t *fit_rows = NULL, *valid_rows = NULL, *cal_rows = NULL;
    double *fit_y = NULL, *valid_y = NULL, *cal_y = NULL, *w = NULL;
    double *z = NULL;
    uint32_t *idx = NULL, *sub = NULL;
    json_t *vm = NULL;
    enum lift_code rc;
    if (!rows)
        n_rows = lift_table_n_rows(t);
    if ((rc = lift_table_col_index(t, o->target, &s.col, err)))
        goto done;
    if (!(m->target = lift_strdup(o->target))) {
        rc = lift_error_nomem(err, "model");
        goto done;
    }
    s.rows = lift_malloc_array(n_rows ? n_rows : 1, sizeof *s.rows);
    s.y = lift_malloc_array(n_rows ? n_rows : 1, sizeof *s.y);
    s.strata = lift_calloc(n_rows ? n_rows : 1, sizeof *s.strata);
    if (!s.rows || !s.y || !s.strata) {
        rc = lift_error_nomem(err, "training rows");
        goto done;
    }
    for (size_t i = 0; i < n_rows; i++) {
        size_t r = rows ? rows[i] : i;
        if (lift_table_is_missing(t, s.col, r))
            s.skipped++;
        else
            s.rows[s.n++] = (uint32_t)r;
    }
    if (s.n < 2) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "fewer than 2 training rows with a value of "
                            "'%s'",
                            o->target);
        goto done;
    }
    if ((rc = resolve_target(m, t, o, &s, err)))
        goto done;
    const uint32_t *strata = m->task == LIFT_TASK_REGRESSION ? NULL : s.strata;

    /* held-out rows: calibration first, then validation, from the rest */
    idx = lift_malloc_array(s.n, sizeof *idx);
    sub = lift_malloc_array(s.n, sizeof *sub);
    if (!idx || !sub) {
        rc = lift_error_nomem(err, "training rows");
        goto done;
    }
    size_t n_fit = s.n;
    for (size_t i = 0; i < s.n; i++)
        idx[i] = (uint32_t)i;
    bool calibrate =
        m->task == LIFT_TASK_BINARY && o->calibration != LIFT_CALIB_NONE;
    size_t n_cal = 0, n_valid = 0;
    if (calibrate) {
        if ((rc = lift_split_holdout(s.n, strata, s.n_strata, o->calib_fraction,
                                     o->params.seed + 1, &calib, err)))
            goto done;
        n_cal = calib.n_test;
        n_fit = calib.n_train;
        memcpy(idx, calib.train, n_fit * sizeof *idx);
        if ((rc = gather(&s, calib.test, n_cal, &cal_rows, &cal_y, err)))
            goto done;
    }
    if (o->valid > 0) {
        uint32_t *st = NULL;
        if (strata) {
            st = sub;
            for (size_t i = 0; i < n_fit; i++)
                st[i] = s.strata[idx[i]];
        }
        if ((rc = lift_split_holdout(n_fit, st, s.n_strata, o->valid,
                                     o->params.seed + 2, &valid, err)))
            goto done;
        for (size_t i = 0; i < valid.n_test; i++)
            valid.test[i] = idx[valid.test[i]];
        for (size_t i = 0; i < valid.n_train; i++)
            valid.train[i] = idx[valid.train[i]];
        n_valid = valid.n_test;
        n_fit = valid.n_train;
        memcpy(idx, valid.train, n_fit * sizeof *idx);
        if ((rc = gather(&s, valid.test, n_valid, &valid_rows, &valid_y, err)))
            goto done;
    }
    if ((rc = gather(&s, idx, n_fit, &fit_rows, &fit_y, err)))
        goto done;

    /* the pipeline, fitted on the training rows only */
    struct lift_pipeline_spec spec = o->spec;
    spec.target = o->target;
    spec.drop = (const char *const *)o->drop.items;
    spec.n_drop = o->drop.n;
    spec.text = (const char *const *)o->text.items;
    spec.n_text = o->text.n;
    spec.cross = (const char *const *)o->cross.items;
    spec.n_cross = o->cross.n;
    spec.text_opts = &o->text_opts;
    const struct lift_learner_ops *ops = lift_learner_find(m->kind);
    if (!ops) {
        rc = lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                            "model kind '%s' is not available in this build",
                            m->kind);
        goto done;
    }
    if (spec.text_terms && !ops->binned) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "text terms are for gbdt models, not %s (the "
                            "other kinds read every term)",
                            m->kind);
        goto done;
    }
    if (ops->binned && !spec.text_terms)
        spec.text_terms = LIFT_DEFAULT_TEXT_TERMS;
    if ((rc = lift_pipeline_fit_memo(t, fit_rows, n_fit, &spec, &m->pipe, &memo,
                                     err)))
        goto done;
    m->learner.ops = ops;
    if (ops->binned) {
        if (lift_pipeline_mode(m->pipe) != LIFT_INDEX_DICT) {
            rc = lift_error_set(err, LIFT_ERR_INVALID,
                                "%s models need the dict index, not hash",
                                m->kind);
            goto done;
        }
        size_t nc = lift_pipeline_n_bin_cols(m->pipe);
        bi.n_bins = lift_malloc_array(nc ? nc : 1, sizeof *bi.n_bins);
        bi.categorical = lift_malloc(nc ? nc : 1);
        if (!bi.n_bins || !bi.categorical) {
            rc = lift_error_nomem(err, "binned rows");
            goto done;
        }
        for (size_t c = 0; c < nc; c++) {
            unsigned nb;
            bool cat;
            lift_pipeline_bin_col(m->pipe, c, &nb, &cat);
            bi.n_bins[c] = (uint16_t)nb;
            bi.categorical[c] = cat;
        }
    }
    if ((rc = lift_pipeline_bind(m->pipe, t, false, &bind, NULL, err)) ||
        (rc = design_build(m, bind, memo, &bi, fit_rows, n_fit, &x, err)))
        goto done;
    if (n_valid &&
        (rc = design_build(m, bind, memo, &bi, valid_rows, n_valid, &vx, err)))
        goto done;
    if (n_cal &&
        (rc = design_build(m, bind, memo, &bi, cal_rows, n_cal, &cx, err)))
        goto done;
    /* the designs are built: the memo's memory goes back before the fit */
    lift_pipeline_memo_free(memo);
    memo = NULL;
    if (o->balanced && m->task != LIFT_TASK_REGRESSION) {
        size_t k = m->task == LIFT_TASK_BINARY ? 2 : m->n_classes;
        size_t *count = lift_calloc(k, sizeof *count);
        w = lift_malloc_array(n_fit, sizeof *w);
        if (!count || !w) {
            lift_free(count);
            rc = lift_error_nomem(err, "class weights");
            goto done;
        }
        for (size_t i = 0; i < n_fit; i++)
            count[(size_t)fit_y[i]]++;
        for (size_t i = 0; i < n_fit; i++)
            w[i] =
                (double)n_fit / ((double)k * (double)count[(size_t)fit_y[i]]);
        lift_free(count);
    }

    /* the learner */
    m->learner.task = m->task;
    m->learner.n_inputs = ops->binned ? lift_pipeline_n_bin_cols(m->pipe)
                                      : lift_pipeline_n_features(m->pipe);
    m->learner.n_outputs = lift_model_n_outputs(m);
    struct lift_train_params p = o->params;
    apply_defaults(m->kind, &p);
    p.task = m->task;
    p.n_classes = m->task == LIFT_TASK_REGRESSION ? 1
                  : m->task == LIFT_TASK_BINARY   ? 2
                                                  : m->n_classes;
    if (!p.reducer)
        p.reducer = &lift_reducer_local;
    struct lift_train_data d = {
        .xb = ops->binned ? &x.xb : NULL,
        .vxb = ops->binned && n_valid ? &vx.xb : NULL,
        .x = ops->binned ? NULL : &x.x,
        .y = fit_y,
        .w = w,
        .vx = !ops->binned && n_valid ? &vx.x : NULL,
        .vy = valid_y,
        .vw = NULL,
    };
    lift_log(&o->log, LIFT_LOG_INFO,
             "training %s on %zu rows x %zu features (%zu validation, %zu "
             "calibration)",
             m->kind, n_fit, m->learner.n_inputs, n_valid, n_cal);
    double t0 = now_seconds();
    if ((rc = ops->fit(&m->learner, &d, &p, err)))
        goto done;
    m->train_s = now_seconds() - t0;

    if (calibrate) {
        if (report_progress(&p, "calibrate")) {
            rc = lift_error_set(err, LIFT_ERR_CANCELLED, "training cancelled");
            goto done;
        }
        z = lift_malloc_array(n_cal, sizeof *z);
        if (!z) {
            rc = lift_error_nomem(err, "calibration");
            goto done;
        }
        if ((rc = raw_scores(m, &cx, z, err)))
            goto done;
        if ((rc = lift_calibrator_fit(&m->cal, o->calibration, z, cal_y, n_cal,
                                      err)))
            goto done;
    }
    if ((rc = fit_importance(m, bind, &x, fit_rows, n_fit, p.threads, err)))
        goto done;
    if ((rc = fit_gain(m, err)))
        goto done;
    if (n_valid)
        vm = validation_metrics(m, &vx, valid_y);
    rc = make_info(m, o, &p, &s, n_fit, n_valid, n_cal, hash_data(&x, fit_y),
                   vm, err);
    vm = NULL;
done:
    json_decref(vm);
    lift_free(s.rows);
    lift_free(s.y);
    lift_free(s.strata);
    lift_split_release(&calib);
    lift_split_release(&valid);
    lift_pipeline_memo_free(memo);
    lift_binding_free(bind);
    design_release(&x);
    design_release(&vx);
    design_release(&cx);
    lift_free(bi.n_bins);
    lift_free(bi.categorical);
    lift_free(fit_rows);
    lift_free(valid_rows);
    lift_free(cal_rows);
    lift_free(fit_y);
    lift_free(valid_y);
    lift_free(cal_y);
    lift_free(w);
    lift_free(z);
    lift_free(idx);
    lift_free(sub);
    if (rc) {
        lift_model_free(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* ---- the file ----------------------------------------------------------- */

enum lift_code lift_model_to_bytes(const struct lift_model *m, void **data,
                                   size_t *len, struct lift_error *err)
{
    struct lift_writer w;
    lift_writer_init(&w);
    *data = NULL;
    *len = 0;
    lift_writer_bytes(&w, FORMAT_MAGIC, 8);
    lift_writer_u32(&w, FORMAT_VERSION);
    lift_writer_u32(&w, m->gain ? FLAG_GAIN : 0); /* flags */
    lift_writer_u8(&w, (uint8_t)m->task);
    lift_writer_str(&w, m->kind);
    lift_writer_str(&w, m->target);
    lift_writer_u64(&w, m->n_classes);
    for (size_t k = 0; k < m->n_classes; k++)
        lift_writer_str(&w, m->classes[k]);
    enum lift_code rc = lift_pipeline_save(m->pipe, &w, err);
    if (!rc) {
        lift_writer_u64(&w, m->learner.n_inputs);
        lift_writer_u64(&w, m->learner.n_outputs);
        rc = m->learner.ops->save(&m->learner, &w, err);
    }
    if (!rc) {
        lift_calibrator_save(&m->cal, &w);
        lift_writer_u64(&w, m->n_groups);
        lift_writer_f64s(&w, m->importance, m->n_groups);
        if (m->gain) {
            lift_writer_u64(&w, m->n_groups);
            lift_writer_f64s(&w, m->gain, m->n_groups);
        }
        lift_writer_str(&w, lift_model_info_json(m));
        rc = lift_writer_status(&w, err);
    }
    if (!rc) {
        uint64_t sum = lift_xxh64(w.buf.data, w.buf.len, 0);
        lift_writer_u64(&w, sum);
        rc = lift_writer_status(&w, err);
    }
    if (rc) {
        lift_writer_release(&w);
        return rc;
    }
    *data = lift_buf_detach(&w.buf, len);
    return LIFT_OK;
}

enum lift_code lift_model_from_bytes(const void *data, size_t len,
                                     struct lift_model **out,
                                     struct lift_error *err)
{
    *out = NULL;
    const unsigned char *b = data;
    if (len < 8 + 8 + 8 || memcmp(b, FORMAT_MAGIC, 8) != 0)
        return lift_error_set(err, LIFT_ERR_CORRUPT,
                              "not a lift model file (bad magic)");
    struct lift_reader r;
    lift_reader_init(&r, b + len - 8, 8);
    uint64_t want = lift_reader_u64(&r, "checksum");
    if (lift_xxh64(b, len - 8, 0) != want)
        return lift_error_set(err, LIFT_ERR_CORRUPT,
                              "model file checksum mismatch (the file is "
                              "damaged or truncated)");
    lift_reader_init(&r, b + 8, len - 16);
    uint32_t version = lift_reader_u32(&r, "version");
    uint32_t flags = lift_reader_u32(&r, "flags");
    if (version > FORMAT_VERSION)
        return lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                              "model file format %u is newer than this lift "
                              "reads (%u); upgrade lift",
                              version, FORMAT_VERSION);
    if (version == 0)
        return lift_error_set(err, LIFT_ERR_CORRUPT,
                              "bad model file format version 0");
    if (flags & ~FLAG_GAIN) /* the only flag of version 1 */
        return lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                              "model file uses features this lift does not "
                              "know (header flags 0x%08x)",
                              flags);
    struct lift_model *m = lift_calloc(1, sizeof *m);
    if (!m)
        return lift_error_nomem(err, "model");
    enum lift_code rc = LIFT_OK;
    uint8_t task = lift_reader_u8(&r, "task");
    m->kind = lift_reader_str(&r, 64, "model kind");
    m->target = lift_reader_str(&r, 4096, "target");
    size_t nc = lift_reader_count(&r, 4, MAX_CLASSES, "classes");
    if (!lift_reader_ok(&r))
        goto fail;
    if (task > LIFT_TASK_MULTICLASS || (task == LIFT_TASK_BINARY && nc != 1) ||
        (task == LIFT_TASK_MULTICLASS && nc < 2) ||
        (task == LIFT_TASK_REGRESSION && nc != 0)) {
        lift_reader_fail(&r, "bad task or classes in the model file");
        goto fail;
    }
    m->task = (enum lift_task)task;
    if (nc && !(m->classes = lift_calloc(nc, sizeof *m->classes))) {
        rc = lift_error_nomem(err, "model");
        goto fail;
    }
    m->n_classes = nc;
    for (size_t k = 0; k < nc; k++)
        if (!(m->classes[k] = lift_reader_str(&r, 4096, "class")))
            goto fail;
    if ((rc = lift_pipeline_load(&r, &m->pipe, err)))
        goto fail;
    const struct lift_learner_ops *ops = lift_learner_find(m->kind);
    if (!ops) {
        rc = lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                            "model kind '%s' is not available in this build",
                            m->kind);
        goto fail;
    }
    uint64_t ni = lift_reader_u64(&r, "learner inputs");
    uint64_t no = lift_reader_u64(&r, "learner outputs");
    if (!lift_reader_ok(&r))
        goto fail;
    size_t want_in = ops->binned ? lift_pipeline_n_bin_cols(m->pipe)
                                 : lift_pipeline_n_features(m->pipe);
    if (ni != want_in || no != lift_model_n_outputs(m)) {
        lift_reader_fail(&r, "learner size does not match the pipeline in "
                             "the model file");
        goto fail;
    }
    m->learner.ops = ops;
    m->learner.task = m->task;
    m->learner.n_inputs = (size_t)ni;
    m->learner.n_outputs = (size_t)no;
    if ((rc = ops->load(&m->learner, &r, err)))
        goto fail;
    if ((rc = lift_calibrator_load(&m->cal, &r, err)))
        goto fail;
    size_t ng = lift_reader_count(&r, 8, 1u << 20, "importance");
    if (lift_reader_ok(&r) && ng != lift_pipeline_n_groups(m->pipe))
        lift_reader_fail(&r, "importance does not match the inputs in the "
                             "model file");
    if (!lift_reader_ok(&r))
        goto fail;
    if (!(m->importance = lift_malloc_array(ng ? ng : 1, sizeof(double)))) {
        rc = lift_error_nomem(err, "model");
        goto fail;
    }
    m->n_groups = ng;
    lift_reader_f64s(&r, m->importance, ng, "importance");
    if (flags & FLAG_GAIN) {
        size_t ngain = lift_reader_count(&r, 8, 1u << 20, "gain importance");
        if (lift_reader_ok(&r) && ngain != ng)
            lift_reader_fail(&r, "gain importance does not match the inputs "
                                 "in the model file");
        if (!lift_reader_ok(&r))
            goto fail;
        if (!(m->gain = lift_malloc_array(ng ? ng : 1, sizeof(double)))) {
            rc = lift_error_nomem(err, "model");
            goto fail;
        }
        lift_reader_f64s(&r, m->gain, ng, "gain importance");
        for (size_t g = 0; g < ng && lift_reader_ok(&r); g++)
            if (!isfinite(m->gain[g]) || m->gain[g] < 0)
                lift_reader_fail(&r, "bad gain importance in the model file");
    }
    m->info = lift_reader_str(&r, (size_t)1 << 24, "model info");
    if (!lift_reader_ok(&r))
        goto fail;
    if (lift_reader_left(&r) != 0) {
        lift_reader_fail(&r,
                         "%zu unexpected bytes at the end of the model "
                         "file",
                         lift_reader_left(&r));
        goto fail;
    }
    *out = m;
    return LIFT_OK;
fail:
    if (!rc)
        rc = lift_reader_status(&r, err);
    if (!rc)
        rc = lift_error_set(err, LIFT_ERR_CORRUPT, "bad model file");
    lift_model_free(m);
    return rc;
}

static enum lift_code write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return LIFT_ERR_IO;
        }
        p += n;
        len -= (size_t)n;
    }
    return LIFT_OK;
}

enum lift_code lift_model_save(const struct lift_model *m, const char *path,
                               struct lift_error *err)
{
    void *data;
    size_t len;
    enum lift_code rc = lift_model_to_bytes(m, &data, &len, err);
    if (rc)
        return rc;
    size_t plen = strlen(path);
    char *tmp = lift_malloc(plen + 16);
    if (!tmp) {
        lift_free(data);
        return lift_error_nomem(err, "path");
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = lift_error_sys(err, LIFT_ERR_IO, errno,
                            "cannot create a file beside '%s'", path);
        goto done;
    }
    if (write_all(fd, data, len) || fsync(fd) != 0) {
        rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot write '%s'", tmp);
        close(fd);
        unlink(tmp);
        goto done;
    }
    if (fchmod(fd, 0644) != 0 || close(fd) != 0) {
        rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot write '%s'", tmp);
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot rename to '%s'",
                            path);
        unlink(tmp);
        goto done;
    }
    /* make the rename durable */
    char *slash = strrchr(tmp, '/');
    if (slash)
        *slash = '\0';
    int dfd = open(slash ? tmp : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
done:
    lift_free(tmp);
    lift_free(data);
    return rc;
}

enum lift_code lift_model_load(const char *path, struct lift_model **out,
                               struct lift_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot open '%s'",
                              path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lift_error_set(err, LIFT_ERR_IO, "'%s' is not a regular file",
                              path);
    }
    if ((uint64_t)st.st_size > ((uint64_t)4 << 30)) {
        close(fd);
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "'%s' is larger than the 4 GiB model limit",
                              path);
    }
    size_t len = (size_t)st.st_size;
    char *data = lift_malloc(len ? len : 1);
    if (!data) {
        close(fd);
        return lift_error_nomem(err, "model file");
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, data + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    enum lift_code rc;
    if (got != len)
        rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot read '%s'", path);
    else
        rc = lift_model_from_bytes(data, len, out, err);
    if (rc && rc != LIFT_ERR_IO && err) {
        char where[LIFT_ERROR_MSG_MAX];
        snprintf(where, sizeof where, "'%s'", path);
        lift_error_prefix(err, where);
    }
    lift_free(data);
    return rc;
}
