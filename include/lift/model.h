/*
 * lift/model.h - training, saving, loading and using models.
 *
 * A model is a fitted feature pipeline + a learner + metadata, so that a
 * raw record (a table row or a list of named values, e.g. from JSON) can
 * always be scored. Kinds: "logistic" (binary), "linear" (regression),
 * "softmax" (multiclass), and later "mlp" and "gbdt" behind the same API.
 *
 * Training options are key/value strings, parsed and validated here, so
 * the CLI's flags and the server's JSON params share one set of rules and
 * messages (docs/CLI.md lists the keys).
 *
 * Thread-safety: a trained or loaded model is immutable; any number of
 * threads may predict and explain with it at once.
 */
#ifndef LIFT_MODEL_H
#define LIFT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>
#include <lift/log.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_table;

enum lift_task {
    LIFT_TASK_BINARY = 0,
    LIFT_TASK_REGRESSION,
    LIFT_TASK_MULTICLASS,
};

/* "binary", "regression", "multiclass". */
const char *lift_task_name(enum lift_task task);

/* Training progress, reported once per epoch (or tree batch). */
struct lift_progress {
    const char *stage;      /* "fit", "calibrate", "cv" */
    unsigned epoch, epochs; /* 1-based; epochs may be 0 when unknown */
    double loss;            /* training loss of the epoch (NAN if none) */
    double valid_loss;      /* NAN without validation rows */
    double valid_metric;    /* AUC (binary), RMSE, accuracy; NAN if none */
    const char *metric;     /* its name: "auc", "rmse", "accuracy" */
};

/* Return non-zero to cancel training (it stops at the next batch with
 * LIFT_ERR_CANCELLED). Called from the training thread. */
typedef int (*lift_progress_fn)(void *user, const struct lift_progress *p);

struct lift_train_opts;

enum lift_code lift_train_opts_new(struct lift_train_opts **out,
                                   struct lift_error *err);
void lift_train_opts_free(struct lift_train_opts *o);

/*
 * Sets one option from its text. Keys: target, positive, task
 * (binary|regression|multiclass), model (logistic|linear|softmax|mlp|
 * gbdt), drop (comma list; adds), text (comma list; adds), cross (a,b;
 * adds), index (dict|hash), bits (16..28), min-count, max-features,
 * bins; epochs, batch, lr, l1, l2, optimizer (auto|newton|lbfgs|sgd|
 * adagrad|adam), class-weight (none|balanced), valid (fraction),
 * patience, tol, seed, threads, calibration (none|platt|isotonic),
 * calib-fraction, mem-limit; mlp: hidden, activation (relu|tanh),
 * dropout; gbdt: trees, depth, leaves, min-child-weight, subsample,
 * colsample; text: the keys of include/lift/text.h (lang, stop-words,
 * stem, ngrams, ...). docs/CLI.md gives ranges and defaults.
 * LIFT_ERR_INVALID names the key and the bad value; an unknown key is
 * LIFT_ERR_INVALID too.
 */
enum lift_code lift_train_opts_set(struct lift_train_opts *o, const char *key,
                                   const char *value, struct lift_error *err);
void lift_train_opts_set_progress(struct lift_train_opts *o,
                                  lift_progress_fn fn, void *user);
/* The threads lift_model_train will use with these options: the
 * `threads` option for gbdt, 1 for the other kinds (linear models and
 * the MLP train on one thread, whatever `threads` says). A scheduler
 * sharing cores between jobs (lift serve --train-threads) reads it, and
 * lowers `threads` through lift_train_opts_set. */
unsigned lift_train_opts_threads(const struct lift_train_opts *o);
/* Pins the BLAS library (OpenBLAS) to one thread for the whole process,
 * as the MLP does on first use anyway: its worker threads then never
 * run, so they take no core from a server's HTTP threads. Idempotent
 * and thread-safe; a server calls it once at start. */
void lift_blas_single_thread(void);
void lift_train_opts_set_logger(struct lift_train_opts *o,
                                const struct lift_logger *log);

struct lift_model;

/*
 * Trains a model on rows[0..n_rows) of t (rows NULL: every row). Fits the
 * pipeline on those rows only, holds out the validation and calibration
 * fractions from them (seeded), fits the learner, then the calibrator.
 * Errors: LIFT_ERR_INVALID (options that do not fit the data: no target,
 * unknown column, a target with one class, a positive label absent...),
 * LIFT_ERR_NOT_FOUND (a named column does not exist), LIFT_ERR_CANCELLED,
 * LIFT_ERR_LIMIT (a model that would pass the memory limit), NOMEM.
 * *out owns the model; NULL on failure.
 */
enum lift_code lift_model_train(const struct lift_table *t,
                                const uint32_t *rows, size_t n_rows,
                                const struct lift_train_opts *o,
                                struct lift_model **out,
                                struct lift_error *err);

void lift_model_free(struct lift_model *m);

/* Serialises to a new buffer (caller frees with free()). */
enum lift_code lift_model_to_bytes(const struct lift_model *m, void **data,
                                   size_t *len, struct lift_error *err);
/* Writes atomically: temp file in the same folder, fsync, rename. */
enum lift_code lift_model_save(const struct lift_model *m, const char *path,
                               struct lift_error *err);
/* Parses an untrusted buffer: LIFT_ERR_CORRUPT for a bad magic, version,
 * checksum, count or length (never a crash), LIFT_ERR_UNSUPPORTED for a
 * newer format version. */
enum lift_code lift_model_from_bytes(const void *data, size_t len,
                                     struct lift_model **out,
                                     struct lift_error *err);
enum lift_code lift_model_load(const char *path, struct lift_model **out,
                               struct lift_error *err);

enum lift_task lift_model_task(const struct lift_model *m);
const char *lift_model_kind(const struct lift_model *m);
/* The target column's name. */
const char *lift_model_target(const struct lift_model *m);
/* Number of scores per record: 1 (binary: P(positive); regression: the
 * value) or K (multiclass: one probability per class). */
size_t lift_model_n_outputs(const struct lift_model *m);
/* The class label of output k (binary: the positive label; multiclass:
 * the class), or NULL for regression. */
const char *lift_model_class(const struct lift_model *m, size_t k);
/* Input columns the model reads, in pipeline order. */
size_t lift_model_n_inputs(const struct lift_model *m);
const char *lift_model_input_name(const struct lift_model *m, size_t i);
/* Width of the feature space. */
size_t lift_model_n_features(const struct lift_model *m);
/* Seconds the learner's fit took (0 for a loaded model): the fit alone,
 * without reading, the pipeline or calibration. */
double lift_model_train_seconds(const struct lift_model *m);
/* The training summary as a JSON object text (owned by the model):
 * rows, features, metrics on the validation rows, seed, times,
 * parameters, calibration. */
const char *lift_model_info_json(const struct lift_model *m);

/* ---- scoring ------------------------------------------------------------ */

/*
 * Scores rows[0..n) of a table (rows NULL: all rows; n is then ignored).
 * Columns are matched by name; a column the model needs but the table
 * lacks counts as missing (warning, or LIFT_ERR_UNPROCESSABLE naming it
 * in strict mode). out receives n * lift_model_n_outputs(m) calibrated
 * scores. A value the model cannot read (text in a numeric column) is
 * LIFT_ERR_UNPROCESSABLE naming the column and line. threads 0 = 1.
 */
enum lift_code lift_model_predict_table(const struct lift_model *m,
                                        const struct lift_table *t,
                                        const uint32_t *rows, size_t n,
                                        double *out, struct lift_error *err);

/* As lift_model_predict_table, before calibration (binary: the learner's
 * own sigmoid); equal to it for models without a calibrator. */
enum lift_code lift_model_predict_table_uncalibrated(const struct lift_model *m,
                                                     const struct lift_table *t,
                                                     const uint32_t *rows,
                                                     size_t n, double *out,
                                                     struct lift_error *err);

/* One named value of a record, e.g. a member of a JSON object. */
enum lift_value_kind {
    LIFT_VALUE_NULL = 0,
    LIFT_VALUE_NUMBER,
    LIFT_VALUE_STRING,
    LIFT_VALUE_BOOL,
};

struct lift_field {
    const char *name;
    enum lift_value_kind kind;
    double num;      /* NUMBER; BOOL as 0/1 */
    const char *str; /* STRING, not necessarily NUL-terminated */
    size_t len;
};

#define LIFT_WARN_NAMES 16

/* What a record lacked or carried in excess (names point into the model
 * or into the caller's fields). */
struct lift_record_report {
    size_t n_absent;  /* inputs the record did not have: read as missing */
    size_t n_unknown; /* fields the model does not use: ignored */
    const char *absent[LIFT_WARN_NAMES];
    const char *unknown[LIFT_WARN_NAMES];
};

/*
 * Scores one record. out receives lift_model_n_outputs(m) scores; report
 * (may be NULL) lists absent and unknown fields; with strict, either is
 * LIFT_ERR_UNPROCESSABLE naming it. A value of the wrong type (a string
 * that is not a number for a numeric input) is LIFT_ERR_UNPROCESSABLE
 * naming the field. Thread-safe.
 */
enum lift_code lift_model_predict_record(const struct lift_model *m,
                                         const struct lift_field *fields,
                                         size_t n_fields, bool strict,
                                         double *out,
                                         struct lift_record_report *report,
                                         struct lift_error *err);

/* One input column's share of a score. */
struct lift_contribution {
    const char *column; /* input column (owned by the model) */
    double value;       /* contribution to the raw score (logit) */
};

/*
 * Explains one record's raw score for output k (0 unless multiclass):
 * contributions grouped by input column, sorted by decreasing |value|,
 * into contrib[0..*n) (capacity lift_model_n_inputs(m)); *base is the
 * learner's base value so that base + sum(values) == *raw, the raw score
 * (logit for binary and multiclass, the value for regression). *score is
 * the calibrated output. Thread-safe.
 */
enum lift_code lift_model_explain_record(
    const struct lift_model *m, const struct lift_field *fields,
    size_t n_fields, size_t k, struct lift_contribution *contrib, size_t *n,
    double *base, double *raw, double *score, struct lift_record_report *report,
    struct lift_error *err);

/*
 * Explains rows[0..n) of a table (rows NULL: all rows; n is then
 * ignored) in one pass, as lift_model_explain_record does one record:
 * row i explains output k[i] (k NULL: output 0 for every row), and
 * receives contrib[i * lift_model_n_inputs(m) + g], the contribution of
 * input g in the order of lift_model_input_name (not sorted), base[i]
 * and raw[i], so that base[i] + sum over g == raw[i]. Columns are matched
 * as in lift_model_predict_table. Errors: LIFT_ERR_UNSUPPORTED for a
 * model kind that cannot explain, LIFT_ERR_INVALID for an output out of
 * range, LIFT_ERR_UNPROCESSABLE for a value the model cannot read
 * (naming column and line), NOMEM. Thread-safe.
 */
enum lift_code lift_model_explain_table(const struct lift_model *m,
                                        const struct lift_table *t,
                                        const uint32_t *rows, size_t n,
                                        const size_t *k, double *contrib,
                                        double *base, double *raw,
                                        struct lift_error *err);

/* Global importance per input column (mean |contribution| over the
 * training sample kept in the model), sorted decreasing; capacity
 * lift_model_n_inputs(m). */
size_t lift_model_importance(const struct lift_model *m,
                             struct lift_contribution *out);

/*
 * Global importance by split gain (gradient-boosted trees): per input
 * column (a text column with its term columns), the total second-order
 * gain of the training splits on it, out[i].value its share of the total
 * (the shares sum to 1; all 0 when no split was made) and, when raw is
 * not NULL, raw[i] the total itself; sorted by decreasing share, capacity
 * lift_model_n_inputs(m). Returns 0 (nothing written) for a model without
 * gain importance: other kinds, and files written before lift stored it.
 */
size_t lift_model_gain_importance(const struct lift_model *m,
                                  struct lift_contribution *out, double *raw);

/*
 * The true labels of rows for evaluation: binary 0/1 (positive label),
 * regression value, multiclass class index (LIFT_ERR_UNPROCESSABLE for a
 * class the model does not know). Rows whose target is missing get NAN.
 * t must hold the model's target column.
 */
enum lift_code lift_model_labels(const struct lift_model *m,
                                 const struct lift_table *t,
                                 const uint32_t *rows, size_t n, double *y,
                                 struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
