/*
 * models/options.c - training options as validated key/value text, shared
 * by the CLI's flags and the server's JSON params (docs/CLI.md).
 */
#include "models/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

enum lift_code lift_train_opts_new(struct lift_train_opts **out,
                                   struct lift_error *err)
{
    struct lift_train_opts *o = lift_calloc(1, sizeof *o);
    *out = NULL;
    if (!o)
        return lift_error_nomem(err, "training options");
    o->task = -1;
    o->spec.index = LIFT_INDEX_DICT;
    o->spec.bits = 20;
    lift_text_opts_init(&o->text_opts);
    o->params.seed = 42;
    o->params.l2 = -1.0; /* unset: the learner kind's default */
    o->params.threads = 1;
    o->calibration = LIFT_CALIB_NONE;
    o->calib_fraction = 0.2;
    *out = o;
    return LIFT_OK;
}

static void list_release(struct lift_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        lift_free(l->items[i]);
    lift_free(l->items);
    memset(l, 0, sizeof *l);
}

void lift_train_opts_free(struct lift_train_opts *o)
{
    if (!o)
        return;
    lift_free(o->target);
    lift_free(o->positive);
    lift_free(o->model);
    list_release(&o->drop);
    list_release(&o->text);
    list_release(&o->cross);
    lift_text_opts_release(&o->text_opts);
    lift_free(o);
}

void lift_train_opts_set_progress(struct lift_train_opts *o,
                                  lift_progress_fn fn, void *user)
{
    o->params.progress = fn;
    o->params.progress_user = user;
}

unsigned lift_train_opts_threads(const struct lift_train_opts *o)
{
    bool trees = o->model && strcmp(o->model, "gbdt") == 0;
    return trees && o->params.threads > 1 ? o->params.threads : 1;
}

void lift_train_opts_set_logger(struct lift_train_opts *o,
                                const struct lift_logger *log)
{
    if (log)
        o->log = *log;
}

static enum lift_code list_add(struct lift_strlist *l, const char *s,
                               size_t len, struct lift_error *err)
{
    char **items = lift_realloc_array(l->items, l->n + 1, sizeof *items);
    if (!items)
        return lift_error_nomem(err, "option list");
    l->items = items;
    if (!(items[l->n] = lift_strndup(s, len)))
        return lift_error_nomem(err, "option list");
    l->n++;
    return LIFT_OK;
}

/* Adds each comma-separated name of value. */
static enum lift_code list_add_all(struct lift_strlist *l, const char *key,
                                   const char *value, struct lift_error *err)
{
    for (const char *p = value;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "%s: empty column name in '%s'", key, value);
        enum lift_code rc = list_add(l, p, len, err);
        if (rc)
            return rc;
        if (!comma)
            return LIFT_OK;
        p = comma + 1;
    }
}

static enum lift_code bad(struct lift_error *err, const char *key,
                          const char *value, const char *want)
{
    return lift_error_set(err, LIFT_ERR_INVALID,
                          "bad value '%s' for %s (expected %s)", value, key,
                          want);
}

static enum lift_code get_real(const char *key, const char *value, double lo,
                               double hi, double *out, struct lift_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (!*value || *end || errno || !isfinite(v) || v < lo || v > hi) {
        char want[96];
        snprintf(want, sizeof want, "a number from %g to %g", lo, hi);
        return bad(err, key, value, want);
    }
    *out = v;
    return LIFT_OK;
}

static enum lift_code get_uint(const char *key, const char *value,
                               unsigned long long lo, unsigned long long hi,
                               unsigned long long *out, struct lift_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (!*value || *end || errno || value[0] == '-' || v < lo || v > hi) {
        char want[96];
        snprintf(want, sizeof want, "a whole number from %llu to %llu", lo, hi);
        return bad(err, key, value, want);
    }
    *out = v;
    return LIFT_OK;
}

static enum lift_code set_str(char **dst, const char *value,
                              struct lift_error *err)
{
    char *s = lift_strdup(value);
    if (!s)
        return lift_error_nomem(err, "option");
    lift_free(*dst);
    *dst = s;
    return LIFT_OK;
}

static enum lift_code set_hidden(struct lift_train_params *p, const char *value,
                                 struct lift_error *err)
{
    size_t n = 0;
    for (const char *s = value;;) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || errno || v == 0 || v > 65536 || s[0] == '-' ||
            (*end && *end != ',') || n == LIFT_MAX_HIDDEN)
            return bad(err, "hidden", value,
                       "up to 8 comma-separated layer sizes from 1 to 65536");
        p->hidden[n++] = (size_t)v;
        if (!*end)
            break;
        s = end + 1;
    }
    p->n_hidden = n;
    return LIFT_OK;
}

enum lift_code lift_train_opts_set(struct lift_train_opts *o, const char *key,
                                   const char *value, struct lift_error *err)
{
    struct lift_train_params *p = &o->params;
    unsigned long long u;
    double d;
    enum lift_code rc;
    if (!key || !value)
        return lift_error_set(err, LIFT_ERR_INVALID, "empty option");
#define IS(k) (strcmp(key, k) == 0)
    if (IS("target"))
        return set_str(&o->target, value, err);
    if (IS("positive"))
        return set_str(&o->positive, value, err);
    if (IS("model")) {
        static const char *const kinds[] = {"logistic", "linear", "softmax",
                                            "mlp", "gbdt"};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(value, kinds[i]) == 0)
                return set_str(&o->model, value, err);
        return bad(err, key, value, "logistic, linear, softmax, mlp or gbdt");
    }
    if (IS("task")) {
        for (int t = 0; t <= LIFT_TASK_MULTICLASS; t++)
            if (strcmp(value, lift_task_name((enum lift_task)t)) == 0) {
                o->task = t;
                return LIFT_OK;
            }
        return bad(err, key, value, "binary, regression or multiclass");
    }
    if (lift_text_opts_has_key(key))
        return lift_text_opts_set(&o->text_opts, key, value, err);
    if (IS("drop"))
        return list_add_all(&o->drop, key, value, err);
    if (IS("text"))
        return list_add_all(&o->text, key, value, err);
    if (IS("cross")) {
        /* checked in full when training; an empty one is never valid (and
         * the CLI probes keys with an empty value) */
        if (!*value)
            return bad(err, key, value, "two columns as a,b");
        return list_add(&o->cross, value, strlen(value), err);
    }
    if (IS("index")) {
        if (strcmp(value, "dict") == 0)
            o->spec.index = LIFT_INDEX_DICT;
        else if (strcmp(value, "hash") == 0)
            o->spec.index = LIFT_INDEX_HASH;
        else
            return bad(err, key, value, "dict or hash");
        return LIFT_OK;
    }
    if (IS("bits")) {
        if ((rc = get_uint(key, value, 16, 28, &u, err)))
            return rc;
        o->spec.bits = (unsigned)u;
        return LIFT_OK;
    }
    if (IS("min-count") || IS("max-features")) {
        if ((rc = get_uint(key, value, IS("min-count") ? 1 : 2, 1u << 28, &u,
                           err)))
            return rc;
        *(IS("min-count") ? &o->spec.min_count : &o->spec.max_features) =
            (size_t)u;
        return LIFT_OK;
    }
    if (IS("text-terms") || IS("text_terms")) {
        if ((rc = get_uint("text-terms", value, 1, LIFT_PIPELINE_MAX_TEXT_TERMS,
                           &u, err)))
            return rc;
        o->spec.text_terms = (unsigned)u;
        return LIFT_OK;
    }
    if (IS("bins")) {
        if ((rc = get_uint(key, value, 2, 255, &u, err)))
            return rc;
        o->spec.bins = (unsigned)u;
        return LIFT_OK;
    }
    if (IS("epochs") || IS("patience") || IS("threads") || IS("trees") ||
        IS("depth") || IS("leaves")) {
        unsigned long long lo = IS("patience") ? 0 : 1;
        unsigned long long hi = IS("threads") ? 64 : IS("depth") ? 32 : 100000;
        if ((rc = get_uint(key, value, lo, hi, &u, err)))
            return rc;
        unsigned *dst = IS("epochs")     ? &p->epochs
                        : IS("patience") ? &p->patience
                        : IS("threads")  ? &p->threads
                        : IS("trees")    ? &p->trees
                        : IS("depth")    ? &p->depth
                                         : &p->leaves;
        *dst = (unsigned)u;
        return LIFT_OK;
    }
    if (IS("batch")) {
        if ((rc = get_uint(key, value, 1, 1u << 20, &u, err)))
            return rc;
        p->batch = (size_t)u;
        return LIFT_OK;
    }
    if (IS("mem-limit")) {
        if ((rc = get_uint(key, value, 1u << 20, 1ull << 40, &u, err)))
            return rc;
        p->mem_limit = (size_t)u;
        return LIFT_OK;
    }
    if (IS("seed")) {
        if ((rc = get_uint(key, value, 0, UINT64_MAX, &u, err)))
            return rc;
        p->seed = (uint64_t)u;
        return LIFT_OK;
    }
    if (IS("lr") || IS("tol")) {
        if ((rc = get_real(key, value, 1e-12, 100, &d, err)))
            return rc;
        *(IS("lr") ? &p->lr : &p->tol) = d;
        return LIFT_OK;
    }
    if (IS("l1") || IS("l2") || IS("min-child-weight")) {
        if ((rc = get_real(key, value, 0, 1e6, &d, err)))
            return rc;
        *(IS("l1") ? &p->l1 : IS("l2") ? &p->l2 : &p->min_child_weight) = d;
        return LIFT_OK;
    }
    if (IS("dropout")) {
        if ((rc = get_real(key, value, 0, 0.95, &d, err)))
            return rc;
        p->dropout = d;
        return LIFT_OK;
    }
    if (IS("subsample") || IS("colsample")) {
        if ((rc = get_real(key, value, 0.01, 1, &d, err)))
            return rc;
        *(IS("subsample") ? &p->subsample : &p->colsample) = d;
        return LIFT_OK;
    }
    if (IS("valid") || IS("calib-fraction")) {
        if ((rc = get_real(key, value, 0, 0.9, &d, err)))
            return rc;
        *(IS("valid") ? &o->valid : &o->calib_fraction) = d;
        return LIFT_OK;
    }
    if (IS("optimizer")) {
        static const char *const names[] = {"auto",    "lbfgs", "sgd",
                                            "adagrad", "adam",  "newton"};
        for (int i = 0; i < 6; i++)
            if (strcmp(value, names[i]) == 0) {
                p->optimizer = (enum lift_optimizer)i;
                return LIFT_OK;
            }
        return bad(err, key, value,
                   "auto, lbfgs, newton, sgd, adagrad or adam");
    }
    if (IS("activation")) {
        if (strcmp(value, "relu") == 0)
            p->activation = LIFT_ACT_RELU;
        else if (strcmp(value, "tanh") == 0)
            p->activation = LIFT_ACT_TANH;
        else
            return bad(err, key, value, "relu or tanh");
        return LIFT_OK;
    }
    if (IS("hidden"))
        return set_hidden(p, value, err);
    if (IS("class-weight")) {
        if (strcmp(value, "none") == 0)
            o->balanced = false;
        else if (strcmp(value, "balanced") == 0)
            o->balanced = true;
        else
            return bad(err, key, value, "none or balanced");
        return LIFT_OK;
    }
    if (IS("calibration")) {
        if (strcmp(value, "none") == 0)
            o->calibration = LIFT_CALIB_NONE;
        else if (strcmp(value, "platt") == 0)
            o->calibration = LIFT_CALIB_PLATT;
        else if (strcmp(value, "isotonic") == 0)
            o->calibration = LIFT_CALIB_ISOTONIC;
        else
            return bad(err, key, value, "none, platt or isotonic");
        return LIFT_OK;
    }
#undef IS
    return lift_error_set(err, LIFT_ERR_INVALID, "unknown option '%s'", key);
}
