/*
 * models/learner.h - the learner interface every model kind implements.
 *
 * A model (include/lift/model.h) is pipeline + learner + metadata. The
 * learner sees only numbers: sparse rows from the pipeline (linear, MLP)
 * or, for trees, the pipeline's binned columns. It outputs raw scores:
 * one logit (binary), one value (regression) or K logits (multiclass);
 * the model applies the link (sigmoid, softmax) and calibration.
 *
 * Binned learners (trees) read instead one uint8 code per input column
 * (struct lift_binned) and predict/explain from such a row.
 *
 * Contracts of the ops:
 *   fit      trains from d with p; reports progress through p->progress
 *            (returning non-zero there cancels: LIFT_ERR_CANCELLED) and
 *            checks it at least once per batch or tree.
 *   predict  raw scores of one row into out[l->n_outputs]. Must be
 *            thread-safe on a fitted learner (no writes to the learner).
 *   explain  contributions of each of the row's entries to output `k`
 *            into contrib[0..nnz) and returns the base value, so that
 *            base + sum(contrib) equals the raw score (exact for linear
 *            models and TreeSHAP; integrated gradients for the MLP).
 *   save     appends the learner's parameters to a writer.
 *   load     reads them back (untrusted input: every count checked).
 *   destroy  frees the learner's state (not the struct lift_learner).
 *   gains    optional (NULL for kinds without splits): the total split
 *            gain of each input column, out[l->n_inputs], summed in a
 *            fixed order so that it is the same bit for bit whenever the
 *            model is.
 */
#ifndef LIFT_MODELS_LEARNER_H
#define LIFT_MODELS_LEARNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/model.h>

#include "features/csr.h"
#include "core/serial.h"

/* Sum of a buffer over all workers of a data-parallel fit. The local
 * reducer (one process) leaves the buffer as it is; an MPI backend calls
 * MPI_Allreduce. Learners aggregate every gradient and histogram through
 * this, so they need no change to run distributed. */
struct lift_reducer {
    void *ctx;
    int rank, size;
    enum lift_code (*sum)(void *ctx, double *buf, size_t n,
                          struct lift_error *err);
};
extern const struct lift_reducer lift_reducer_local;

enum lift_optimizer {
    LIFT_OPT_AUTO = 0,
    LIFT_OPT_LBFGS,
    LIFT_OPT_SGD,
    LIFT_OPT_ADAGRAD,
    LIFT_OPT_ADAM,
    LIFT_OPT_NEWTON,
};

enum lift_activation {
    LIFT_ACT_RELU = 0,
    LIFT_ACT_TANH,
};

#define LIFT_MAX_HIDDEN 8

/* Parsed training parameters (from struct lift_train_opts). Zero or
 * negative numbers mean "the learner's default". */
struct lift_train_params {
    enum lift_task task;
    size_t n_classes; /* 2 binary, K multiclass, 1 regression */
    unsigned epochs;
    size_t batch;
    double lr;
    double l1, l2;
    enum lift_optimizer optimizer;
    unsigned patience; /* early stopping epochs without improvement */
    double tol;        /* convergence tolerance (full-batch solvers) */
    uint64_t seed;
    unsigned threads;
    /* mlp */
    size_t hidden[LIFT_MAX_HIDDEN];
    size_t n_hidden;
    enum lift_activation activation;
    double dropout;
    size_t mem_limit; /* bytes a learner may allocate for parameters */
    /* gbdt */
    unsigned trees, depth, leaves;
    double min_child_weight, subsample, colsample;
    /* reporting */
    lift_progress_fn progress;
    void *progress_user;
    const struct lift_reducer *reducer;
};

/* The binned view for trees (features/pipeline.h): one uint8 code per
 * input column, column-major. Numeric columns use codes 0..n_bins-1
 * (n_bins <= 255); categorical ones 0..n_bins-1 and LIFT_BIN_RARE (254);
 * every column may hold LIFT_BIN_MISSING (255). */
struct lift_binned {
    size_t n_rows, n_cols;
    const uint8_t *codes;       /* codes[c * n_rows + r] */
    const uint16_t *n_bins;     /* per column */
    const uint8_t *categorical; /* per column: 1 categorical, 0 numeric */
};

struct lift_train_data {
    /* binned learners (ops->binned) get xb/vxb, the others x/vx */
    const struct lift_binned *xb, *vxb;
    const struct lift_csr *x;  /* training rows */
    const double *y;           /* 0/1, value, or class id */
    const double *w;           /* row weights, NULL for all 1 */
    const struct lift_csr *vx; /* validation rows, or NULL */
    const double *vy;
    const double *vw;
};

struct lift_learner;

struct lift_learner_ops {
    const char *name; /* "logistic", "linear", "softmax", "mlp", "gbdt" */
    /* true: fits on the binned view and predicts with predict_binned /
     * explain_binned (one code per input column, n_inputs = columns);
     * predict and explain are then NULL. */
    bool binned;
    void (*predict_binned)(const struct lift_learner *l, const uint8_t *codes,
                           double *out);
    /* contrib[c] per input column; returns the base value */
    double (*explain_binned)(const struct lift_learner *l, const uint8_t *codes,
                             size_t k, double *contrib);
    enum lift_code (*fit)(struct lift_learner *l,
                          const struct lift_train_data *d,
                          const struct lift_train_params *p,
                          struct lift_error *err);
    void (*predict)(const struct lift_learner *l, const uint32_t *idx,
                    const float *val, size_t nnz, double *out);
    double (*explain)(const struct lift_learner *l, const uint32_t *idx,
                      const float *val, size_t nnz, size_t k, double *contrib);
    enum lift_code (*save)(const struct lift_learner *l, struct lift_writer *w,
                           struct lift_error *err);
    enum lift_code (*load)(struct lift_learner *l, struct lift_reader *r,
                           struct lift_error *err);
    void (*destroy)(struct lift_learner *l);
    void (*gains)(const struct lift_learner *l, double *out);
};

struct lift_learner {
    const struct lift_learner_ops *ops;
    enum lift_task task;
    size_t n_inputs;  /* width of the sparse input */
    size_t n_outputs; /* 1, or K for multiclass */
    void *state;
};

/* The ops of a kind by name ("logistic", ...), NULL if unknown. */
const struct lift_learner_ops *lift_learner_find(const char *name);

/* Calls p->progress if set; LIFT_ERR_CANCELLED (with message) when it
 * asks to stop. */
enum lift_code lift_learner_report(const struct lift_train_params *p,
                                   const struct lift_progress *prog,
                                   struct lift_error *err);

#endif
