/*
 * tests/unit/test_mlp.c - the multi-layer perceptron (models/mlp.c).
 *
 * Gradients are checked by central differences of the objective
 * (lift_mlp_objective) for each layer type and loss: the embedding bag
 * with repeated indices, dense ReLU and tanh layers, dropout with fixed
 * masks, L2, and the logistic, squared and softmax losses, in dict width
 * and past WIDE_INPUTS (the lazy first layer). The forward pass is
 * float32, so the differences use h = 3e-4 and a tolerance of 2e-3 +
 * 2 % (float rounding of f is ~1e-7, over 2h ~ 2e-4; tanh's truncation
 * error is ~1e-8). Parameters are jittered off their initial values so
 * no unit sits on ReLU's kink; with h = 1e-3 one pre-activation of the
 * ReLU case still lay within h of 0. The rest checks behaviour: XOR,
 * which no linear model fits; seeds; save / load and hostile files; the
 * memory limit; cancellation; progress and early stopping; integrated
 * gradients' completeness.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/serial.h"
#include "models/learner.h"
#include "models/mlp.h"

/* ---- data ---------------------------------------------------------------- */

struct set {
    struct lift_csr x;
    double *y;
    double *w;
};

/*
 * n rows of `width` columns: each row has nnz entries at columns drawn
 * from the first `used` (so a few repeat), values multiples of 1/8 in
 * [-1, 1]; labels from a fixed nonlinear rule per task.
 */
static void set_make(struct set *s, size_t n, size_t width, size_t used,
                     size_t nnz, enum lift_task task, size_t k, uint64_t seed)
{
    struct lift_rng rng;
    lift_rng_seed(&rng, seed);
    s->x.n_rows = n;
    s->x.n_cols = width;
    s->x.indptr = lift_malloc_array(n + 1, sizeof *s->x.indptr);
    s->x.idx = lift_malloc_array(n * nnz, sizeof *s->x.idx);
    s->x.val = lift_malloc_array(n * nnz, sizeof *s->x.val);
    s->y = calloc(n, sizeof *s->y);
    s->w = calloc(n, sizeof *s->w);
    assert_non_null(s->x.indptr);
    assert_non_null(s->x.idx);
    assert_non_null(s->x.val);
    assert_non_null(s->y);
    assert_non_null(s->w);
    for (size_t r = 0; r < n; r++) {
        s->x.indptr[r] = r * nnz;
        double z = 0.0;
        for (size_t e = 0; e < nnz; e++) {
            uint32_t j = (uint32_t)lift_rng_below(&rng, used);
            float v = (float)(floor((lift_rng_uniform(&rng) * 2 - 1) * 8) / 8);
            s->x.idx[r * nnz + e] = j * (uint32_t)(width / used);
            s->x.val[r * nnz + e] = v;
            z += (j % 2 ? 1.0 : -1.0) * v * v + 0.3 * v;
        }
        double c = floor((tanh(2 * z) + 1) / 2 * (double)k);
        s->y[r] = task == LIFT_TASK_BINARY       ? (z > 0.1)
                  : task == LIFT_TASK_REGRESSION ? z
                                                 : fmin(c, (double)k - 1);
        s->w[r] = 1.0 + (double)(r % 3);
    }
    s->x.indptr[n] = n * nnz;
}

static void set_free(struct set *s)
{
    lift_csr_release(&s->x);
    free(s->y);
    free(s->w);
}

/* XOR: x1, x2 in {-1, 1} plus noise; y = [x1 x2 > 0]. No line separates
 * it: a linear model stays at chance. Columns at c1, c2. */
static void xor_make(struct set *s, size_t n, size_t width, uint32_t c1,
                     uint32_t c2, uint64_t seed)
{
    struct lift_rng rng;
    lift_rng_seed(&rng, seed);
    s->x.n_rows = n;
    s->x.n_cols = width;
    s->x.indptr = lift_malloc_array(n + 1, sizeof *s->x.indptr);
    s->x.idx = lift_malloc_array(2 * n, sizeof *s->x.idx);
    s->x.val = lift_malloc_array(2 * n, sizeof *s->x.val);
    s->y = calloc(n, sizeof *s->y);
    s->w = NULL;
    assert_non_null(s->y);
    for (size_t r = 0; r < n; r++) {
        double a = lift_rng_below(&rng, 2) ? 1.0 : -1.0;
        double b = lift_rng_below(&rng, 2) ? 1.0 : -1.0;
        s->x.indptr[r] = 2 * r;
        s->x.idx[2 * r] = c1;
        s->x.idx[2 * r + 1] = c2;
        s->x.val[2 * r] = (float)(a + 0.2 * (lift_rng_uniform(&rng) - 0.5));
        s->x.val[2 * r + 1] = (float)(b + 0.2 * (lift_rng_uniform(&rng) - 0.5));
        s->y[r] = a * b > 0;
    }
    s->x.indptr[n] = 2 * n;
}

static struct lift_train_params params(enum lift_task task, size_t k)
{
    struct lift_train_params p = {0};
    p.task = task;
    p.n_classes = k;
    p.seed = 7;
    p.hidden[0] = 5;
    p.hidden[1] = 4;
    p.n_hidden = 2;
    return p;
}

static enum lift_code fit(struct lift_learner *l, const char *kind,
                          const struct lift_train_data *d,
                          const struct lift_train_params *p,
                          struct lift_error *err)
{
    memset(l, 0, sizeof *l);
    l->ops = lift_learner_find(kind);
    assert_non_null(l->ops);
    return l->ops->fit(l, d, p, err);
}

static void predict_row(const struct lift_learner *l, const struct lift_csr *x,
                        size_t r, double *out)
{
    uint64_t s = x->indptr[r];
    l->ops->predict(l, x->idx + s, x->val + s, (size_t)(x->indptr[r + 1] - s),
                    out);
}

static double accuracy(const struct lift_learner *l, const struct set *s)
{
    size_t right = 0;
    for (size_t r = 0; r < s->x.n_rows; r++) {
        double z;
        predict_row(l, &s->x, r, &z);
        right += (z > 0) == (s->y[r] > 0.5);
    }
    return (double)right / (double)s->x.n_rows;
}

static void save_bytes(const struct lift_learner *l, struct lift_writer *w)
{
    struct lift_error err;
    lift_writer_init(w);
    assert_int_equal(l->ops->save(l, w, &err), LIFT_OK);
}

/* ---- gradients ----------------------------------------------------------- */

/* Central differences of every parameter against lift_mlp_objective's
 * gradient; returns the largest error relative to the tolerance. */
static double check_gradient(enum lift_task task, size_t k, size_t width,
                             size_t used, const struct lift_train_params *pp,
                             bool weighted)
{
    struct set s;
    set_make(&s, 12, width, used, 4, task, k, 3);
    struct lift_train_data d = {
        .x = &s.x, .y = s.y, .w = weighted ? s.w : NULL};
    struct lift_learner l = {.ops = &lift_mlp_ops};
    struct lift_error err;
    assert_int_equal(lift_mlp_init(&l, &d, pp, &err), LIFT_OK);
    size_t n;
    float *par = lift_mlp_params(&l, &n);
    assert_non_null(par);
    /* Hidden biases start at 0, where a unit whose inputs are all 0 sits
     * on ReLU's kink; jitter every parameter off it. */
    struct lift_rng rng;
    lift_rng_seed(&rng, 99);
    for (size_t i = 0; i < n; i++)
        par[i] += 0.2f * (lift_rng_uniformf(&rng) - 0.5f);
    float *g = malloc(n * sizeof *g);
    assert_non_null(g);
    double f, fp, fm, worst = 0.0;
    assert_int_equal(lift_mlp_objective(&l, &d, pp, &f, g, &err), LIFT_OK);
    assert_true(isfinite(f) && f > 0);
    const float h = 3e-4f;
    for (size_t i = 0; i < n; i++) {
        float keep = par[i];
        par[i] = keep + h;
        assert_int_equal(lift_mlp_objective(&l, &d, pp, &fp, NULL, &err),
                         LIFT_OK);
        par[i] = keep - h;
        assert_int_equal(lift_mlp_objective(&l, &d, pp, &fm, NULL, &err),
                         LIFT_OK);
        par[i] = keep;
        double num = (fp - fm) / (2.0 * (double)h);
        double tol = 2e-3 + 0.02 * fabs((double)g[i]);
        double e = fabs(num - (double)g[i]) / tol;
        if (e > worst)
            worst = e;
        if (e > 1.0)
            print_message("parameter %zu: numeric %.6g, analytic %.6g\n", i,
                          num, (double)g[i]);
    }
    free(g);
    l.ops->destroy(&l);
    set_free(&s);
    return worst;
}

static void gradient_binary_relu_central_difference(void **state)
{
    (void)state;
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    assert_true(check_gradient(LIFT_TASK_BINARY, 2, 6, 6, &p, false) <= 1.0);
    assert_true(check_gradient(LIFT_TASK_BINARY, 2, 6, 6, &p, true) <= 1.0);
}

static void gradient_binary_tanh_l2_central_difference(void **state)
{
    (void)state;
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.activation = LIFT_ACT_TANH;
    p.l2 = 0.05;
    assert_true(check_gradient(LIFT_TASK_BINARY, 2, 6, 6, &p, true) <= 1.0);
}

static void gradient_regression_three_layers_central_difference(void **state)
{
    (void)state;
    struct lift_train_params p = params(LIFT_TASK_REGRESSION, 1);
    p.hidden[2] = 3;
    p.n_hidden = 3;
    p.activation = LIFT_ACT_TANH;
    assert_true(check_gradient(LIFT_TASK_REGRESSION, 1, 6, 6, &p, false) <=
                1.0);
    p.activation = LIFT_ACT_RELU;
    assert_true(check_gradient(LIFT_TASK_REGRESSION, 1, 6, 6, &p, true) <= 1.0);
}

static void gradient_softmax_central_difference(void **state)
{
    (void)state;
    struct lift_train_params p = params(LIFT_TASK_MULTICLASS, 3);
    p.activation = LIFT_ACT_TANH;
    assert_true(check_gradient(LIFT_TASK_MULTICLASS, 3, 6, 6, &p, true) <= 1.0);
}

static void gradient_dropout_fixed_masks_central_difference(void **state)
{
    (void)state;
    /* dropout on (masks fixed by the seed), then off */
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.activation = LIFT_ACT_TANH;
    p.dropout = 0.3;
    assert_true(check_gradient(LIFT_TASK_BINARY, 2, 6, 6, &p, false) <= 1.0);
    p.dropout = 0.0;
    assert_true(check_gradient(LIFT_TASK_BINARY, 2, 6, 6, &p, false) <= 1.0);
}

static void gradient_wide_input_central_difference(void **state)
{
    (void)state;
    /* 8192 columns (past WIDE_INPUTS), 6 in use: the rows of the others
     * must get exactly zero gradient */
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.hidden[0] = 3;
    p.hidden[1] = 2;
    p.activation = LIFT_ACT_TANH;
    struct set s;
    set_make(&s, 12, 8192, 6, 4, LIFT_TASK_BINARY, 2, 3);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_learner l = {.ops = &lift_mlp_ops};
    struct lift_error err;
    assert_int_equal(lift_mlp_init(&l, &d, &p, &err), LIFT_OK);
    size_t n;
    float *par = lift_mlp_params(&l, &n);
    float *g = malloc(n * sizeof *g);
    assert_non_null(g);
    double f, fp, fm;
    assert_int_equal(lift_mlp_objective(&l, &d, &p, &f, g, &err), LIFT_OK);
    size_t used = 0;
    for (size_t j = 0; j < 8192; j++) {
        bool active = j % (8192 / 6) == 0 && j / (8192 / 6) < 6;
        for (size_t c = 0; c < 3; c++) {
            size_t i = j * 3 + c;
            if (!active) {
                assert_true(g[i] == 0.0f);
                continue;
            }
            used++;
            float keep = par[i];
            par[i] = keep + 1e-3f;
            lift_mlp_objective(&l, &d, &p, &fp, NULL, &err);
            par[i] = keep - 1e-3f;
            lift_mlp_objective(&l, &d, &p, &fm, NULL, &err);
            par[i] = keep;
            double num = (fp - fm) / 2e-3;
            assert_true(fabs(num - g[i]) <= 2e-3 + 0.02 * fabs(g[i]));
        }
    }
    assert_int_equal(used, 18);
    free(g);
    l.ops->destroy(&l);
    set_free(&s);
}

/* ---- learning ------------------------------------------------------------ */

static void xor_mlp_fits_logistic_cannot(void **state)
{
    (void)state;
    struct set s, t;
    xor_make(&s, 400, 2, 0, 1, 1);
    xor_make(&t, 400, 2, 0, 1, 2);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.hidden[0] = p.hidden[1] = 16;
    p.epochs = 60;
    p.lr = 0.01;
    struct lift_learner m, lin;
    struct lift_error err;
    assert_int_equal(fit(&m, "mlp", &d, &p, &err), LIFT_OK);
    double acc = accuracy(&m, &t);
    print_message("xor test accuracy: mlp %.4f", acc);
    assert_true(acc >= 0.97);
    struct lift_train_params q = params(LIFT_TASK_BINARY, 2);
    assert_int_equal(fit(&lin, "logistic", &d, &q, &err), LIFT_OK);
    double acc_lin = accuracy(&lin, &t);
    print_message(", logistic %.4f\n", acc_lin);
    assert_true(acc_lin <= 0.65);
    m.ops->destroy(&m);
    lin.ops->destroy(&lin);
    set_free(&s);
    set_free(&t);
}

static void xor_wide_lazy_first_layer_fits(void **state)
{
    (void)state;
    /* the same in a 2^16-wide input (hash mode's lazy Adam, fan-in from
     * the mean row) */
    struct set s;
    xor_make(&s, 400, 1u << 16, 4242, 60001, 3);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.hidden[0] = p.hidden[1] = 16;
    p.epochs = 60;
    p.lr = 0.01;
    struct lift_learner m;
    struct lift_error err;
    assert_int_equal(fit(&m, "mlp", &d, &p, &err), LIFT_OK);
    assert_true(accuracy(&m, &s) >= 0.97);
    /* rows never touched keep their initial weights: same seed, init only */
    struct lift_learner i0 = {.ops = &lift_mlp_ops};
    assert_int_equal(lift_mlp_init(&i0, &d, &p, &err), LIFT_OK);
    size_t n0, n1;
    float *a = lift_mlp_params(&m, &n0), *b = lift_mlp_params(&i0, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(a + 16 * 7, b + 16 * 7, 16 * sizeof *a);
    assert_memory_not_equal(a + 16 * 4242, b + 16 * 4242, 16 * sizeof *a);
    m.ops->destroy(&m);
    i0.ops->destroy(&i0);
    set_free(&s);
}

static void regression_and_softmax_learn(void **state)
{
    (void)state;
    /* regression: y = x1 x2 (not linear), MSE well under the variance */
    struct set s;
    xor_make(&s, 400, 2, 0, 1, 4);
    double var = 0.0, mse = 0.0;
    for (size_t r = 0; r < 400; r++) {
        s.y[r] = (double)s.x.val[2 * r] * s.x.val[2 * r + 1];
        var += s.y[r] * s.y[r] / 400;
    }
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_REGRESSION, 1);
    p.hidden[0] = p.hidden[1] = 16;
    p.epochs = 60;
    p.lr = 0.01;
    struct lift_learner m;
    struct lift_error err;
    assert_int_equal(fit(&m, "mlp", &d, &p, &err), LIFT_OK);
    for (size_t r = 0; r < 400; r++) {
        double z;
        predict_row(&m, &s.x, r, &z);
        mse += (z - s.y[r]) * (z - s.y[r]) / 400;
    }
    assert_true(mse < 0.1 * var);
    m.ops->destroy(&m);

    /* softmax: four classes, the quadrants */
    for (size_t r = 0; r < 400; r++)
        s.y[r] = (double)((s.x.val[2 * r] > 0) * 2 + (s.x.val[2 * r + 1] > 0));
    struct lift_train_params q = params(LIFT_TASK_MULTICLASS, 4);
    q.hidden[0] = q.hidden[1] = 16;
    q.epochs = 40;
    q.lr = 0.01;
    assert_int_equal(fit(&m, "mlp", &d, &q, &err), LIFT_OK);
    assert_int_equal(m.n_outputs, 4);
    size_t right = 0;
    for (size_t r = 0; r < 400; r++) {
        double z[4];
        predict_row(&m, &s.x, r, z);
        size_t top = 0;
        for (size_t c = 1; c < 4; c++)
            if (z[c] > z[top])
                top = c;
        right += (double)top == s.y[r];
    }
    assert_true(right >= 390);
    m.ops->destroy(&m);
    set_free(&s);
}

static void same_seed_identical_other_seed_differs(void **state)
{
    (void)state;
    struct set s;
    set_make(&s, 300, 40, 40, 5, LIFT_TASK_BINARY, 2, 5);
    struct lift_train_data d = {.x = &s.x, .y = s.y, .w = s.w};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.epochs = 3;
    p.dropout = 0.2;
    struct lift_learner a, b, c;
    struct lift_error err;
    assert_int_equal(fit(&a, "mlp", &d, &p, &err), LIFT_OK);
    assert_int_equal(fit(&b, "mlp", &d, &p, &err), LIFT_OK);
    p.seed = 8;
    assert_int_equal(fit(&c, "mlp", &d, &p, &err), LIFT_OK);
    struct lift_writer wa, wb, wc;
    save_bytes(&a, &wa);
    save_bytes(&b, &wb);
    save_bytes(&c, &wc);
    assert_int_equal(wa.buf.len, wb.buf.len);
    assert_memory_equal(wa.buf.data, wb.buf.data, wa.buf.len);
    assert_int_equal(wa.buf.len, wc.buf.len);
    assert_memory_not_equal(wa.buf.data, wc.buf.data, wa.buf.len);
    for (size_t r = 0; r < 300; r++) {
        double za, zb;
        predict_row(&a, &s.x, r, &za);
        predict_row(&b, &s.x, r, &zb);
        assert_true(za == zb);
    }
    lift_writer_release(&wa);
    lift_writer_release(&wb);
    lift_writer_release(&wc);
    a.ops->destroy(&a);
    b.ops->destroy(&b);
    c.ops->destroy(&c);
    set_free(&s);
}

/* ---- progress, cancellation, early stopping ------------------------------ */

struct watch {
    int calls, batches, cancel_at;
    unsigned epochs[64];
    double loss[64], vloss[64], vmetric[64];
    const char *metric;
};

static int on_progress(void *user, const struct lift_progress *pr)
{
    struct watch *w = user;
    if (strcmp(pr->stage, "batch") == 0) {
        w->batches++;
        assert_int_equal(pr->epoch, 0);
        return w->cancel_at && w->batches >= w->cancel_at;
    }
    assert_string_equal(pr->stage, "fit");
    if (w->calls < 64) {
        w->epochs[w->calls] = pr->epoch;
        w->loss[w->calls] = pr->loss;
        w->vloss[w->calls] = pr->valid_loss;
        w->vmetric[w->calls] = pr->valid_metric;
    }
    w->metric = pr->metric;
    w->calls++;
    return 0;
}

static void progress_per_epoch_with_validation_auc(void **state)
{
    (void)state;
    struct set s, v;
    xor_make(&s, 320, 2, 0, 1, 5);
    xor_make(&v, 100, 2, 0, 1, 6);
    struct lift_train_data d = {.x = &s.x, .y = s.y, .vx = &v.x, .vy = v.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.hidden[0] = p.hidden[1] = 16;
    p.lr = 0.01;
    p.epochs = 8;
    struct watch w = {0};
    p.progress = on_progress;
    p.progress_user = &w;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_OK);
    assert_int_equal(w.calls, 8);
    assert_int_equal(w.batches, 8 * 10); /* 320 rows in batches of 32 */
    assert_string_equal(w.metric, "auc");
    for (int i = 0; i < 8; i++) {
        assert_int_equal(w.epochs[i], i + 1);
        assert_true(isfinite(w.loss[i]) && isfinite(w.vloss[i]));
    }
    assert_true(w.loss[7] < w.loss[0]);
    assert_true(w.vmetric[7] > 0.95);
    l.ops->destroy(&l);
    set_free(&s);
    set_free(&v);
}

static void cancel_between_batches_returns_cancelled(void **state)
{
    (void)state;
    struct set s;
    xor_make(&s, 320, 2, 0, 1, 7);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.epochs = 5;
    struct watch w = {.cancel_at = 15}; /* mid second epoch */
    p.progress = on_progress;
    p.progress_user = &w;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_ERR_CANCELLED);
    assert_string_equal(err.msg, "training cancelled");
    assert_int_equal(w.batches, 15);
    assert_int_equal(w.calls, 1);
    assert_null(l.state);
    set_free(&s);
}

static void early_stopping_restores_best_epoch(void **state)
{
    (void)state;
    struct set s, v;
    xor_make(&s, 320, 2, 0, 1, 8);
    xor_make(&v, 100, 2, 0, 1, 9);
    /* validating on flipped labels: the fit gets worse on them */
    for (size_t r = 0; r < 100; r++)
        v.y[r] = 1.0 - v.y[r];
    struct lift_train_data d = {.x = &s.x, .y = s.y, .vx = &v.x, .vy = v.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.hidden[0] = p.hidden[1] = 16;
    p.lr = 0.01;
    p.epochs = 30;
    p.patience = 2;
    struct watch w = {0};
    p.progress = on_progress;
    p.progress_user = &w;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_OK);
    assert_true(w.calls < 30);
    int best = 0;
    for (int i = 1; i < w.calls; i++)
        if (w.vloss[i] < w.vloss[best])
            best = i;
    assert_int_equal(w.calls, best + 1 + 2);
    /* the kept parameters give the best epoch's validation loss */
    double sum = 0.0;
    for (size_t r = 0; r < 100; r++) {
        double z;
        predict_row(&l, &v.x, r, &z);
        sum += log1p(exp(-fabs(z))) + fmax(z, 0) - v.y[r] * z;
    }
    assert_true(fabs(sum / 100 - w.vloss[best]) < 1e-5);
    l.ops->destroy(&l);
    set_free(&s);
    set_free(&v);
}

/* ---- explanations ---------------------------------------------------------
 */

static void explain_integrated_gradients_complete(void **state)
{
    (void)state;
    struct set s;
    set_make(&s, 300, 40, 40, 6, LIFT_TASK_MULTICLASS, 3, 10);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_MULTICLASS, 3);
    p.hidden[0] = p.hidden[1] = 32;
    p.epochs = 5;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_OK);
    double worst = 0.0, spread = 0.0;
    for (size_t r = 0; r < 100; r++) {
        uint64_t a = s.x.indptr[r];
        size_t nnz = (size_t)(s.x.indptr[r + 1] - a);
        double z[3], zero[3], contrib[6];
        predict_row(&l, &s.x, r, z);
        l.ops->predict(&l, NULL, NULL, 0, zero);
        for (size_t k = 0; k < 3; k++) {
            double base =
                l.ops->explain(&l, s.x.idx + a, s.x.val + a, nnz, k, contrib);
            /* the base is the raw score of the empty row */
            assert_true(fabs(base - zero[k]) < 1e-5);
            double sum = base;
            for (size_t e = 0; e < nnz; e++)
                sum += contrib[e];
            worst = fmax(worst, fabs(sum - z[k]));
            spread = fmax(spread, fabs(z[k] - base));
        }
    }
    /* Measured: the largest gap of base + sum against the score is
     * 0.0036 where |f(x) - f(0)| reaches 0.55 (64 midpoints; the gap is
     * the ReLU kinks between them). */
    print_message("integrated gradients: worst |base + sum - f(x)| %.2g, "
                  "largest |f(x) - f(0)| %.2g\n",
                  worst, spread);
    assert_true(worst < 0.01);
    assert_true(spread > 0.5);
    l.ops->destroy(&l);
    set_free(&s);
}

/* ---- files ----------------------------------------------------------------
 */

static void save_load_round_trip_identical_predictions(void **state)
{
    (void)state;
    struct set s;
    set_make(&s, 200, 30, 30, 5, LIFT_TASK_MULTICLASS, 3, 11);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_MULTICLASS, 3);
    p.activation = LIFT_ACT_TANH;
    p.epochs = 2;
    struct lift_learner a, b = {.ops = &lift_mlp_ops};
    struct lift_error err;
    assert_int_equal(fit(&a, "mlp", &d, &p, &err), LIFT_OK);
    struct lift_writer w;
    save_bytes(&a, &w);
    struct lift_reader r;
    lift_reader_init(&r, w.buf.data, w.buf.len);
    b.task = LIFT_TASK_MULTICLASS;
    assert_int_equal(b.ops->load(&b, &r, &err), LIFT_OK);
    assert_int_equal(lift_reader_left(&r), 0);
    assert_int_equal(b.n_inputs, 30);
    assert_int_equal(b.n_outputs, 3);
    for (size_t i = 0; i < 200; i++) {
        double za[3], zb[3], ca[5], cb[5];
        predict_row(&a, &s.x, i, za);
        predict_row(&b, &s.x, i, zb);
        assert_memory_equal(za, zb, sizeof za);
        uint64_t o = s.x.indptr[i];
        double ba = a.ops->explain(&a, s.x.idx + o, s.x.val + o, 5, 2, ca);
        double bb = b.ops->explain(&b, s.x.idx + o, s.x.val + o, 5, 2, cb);
        assert_true(ba == bb);
        assert_memory_equal(ca, cb, sizeof ca);
    }
    struct lift_writer w2;
    save_bytes(&b, &w2);
    assert_int_equal(w2.buf.len, w.buf.len);
    assert_memory_equal(w2.buf.data, w.buf.data, w.buf.len);
    lift_writer_release(&w);
    lift_writer_release(&w2);
    a.ops->destroy(&a);
    b.ops->destroy(&b);
    set_free(&s);
}

static void load_truncated_buffer_corrupt(void **state)
{
    (void)state;
    struct set s;
    set_make(&s, 50, 8, 8, 3, LIFT_TASK_BINARY, 2, 12);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.epochs = 1;
    struct lift_learner a;
    struct lift_error err;
    assert_int_equal(fit(&a, "mlp", &d, &p, &err), LIFT_OK);
    struct lift_writer w;
    save_bytes(&a, &w);
    for (size_t len = 0; len < w.buf.len; len++) {
        struct lift_learner b = {.ops = &lift_mlp_ops};
        struct lift_reader r;
        lift_reader_init(&r, w.buf.data, len);
        assert_int_equal(b.ops->load(&b, &r, &err), LIFT_ERR_CORRUPT);
        assert_null(b.state);
    }
    lift_writer_release(&w);
    a.ops->destroy(&a);
    set_free(&s);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void load_bad_counts_corrupt(void **state)
{
    (void)state;
    /* 3 layers 2 -> 3 -> 2 -> 1, relu: 9 + 8 + 3 = 20 parameters */
    uint8_t good[8 * 5 + 1 + 8 + 20 * 4] = {0};
    put_u64(good, 3);
    put_u64(good + 8, 2);
    put_u64(good + 16, 3);
    put_u64(good + 24, 2);
    put_u64(good + 32, 1);
    good[40] = 0;
    put_u64(good + 41, 20);
    struct lift_error err;
    struct {
        size_t at;
        uint64_t v;
        const char *msg;
    } bad[] = {
        {0, 1, "bad mlp layer count 1"},
        {0, 99, "bad mlp layer count 99"},
        {8, 0, "bad mlp width 0 of layer 0"},
        {16, (uint64_t)1 << 40, "bad mlp width 1099511627776 of layer 1"},
        {41, 21, "count"},
        {41, 19, "19 mlp parameters for a shape of 20"},
    };
    struct lift_learner l = {.ops = &lift_mlp_ops};
    struct lift_reader r;
    lift_reader_init(&r, good, sizeof good);
    assert_int_equal(l.ops->load(&l, &r, &err), LIFT_OK);
    l.ops->destroy(&l);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[sizeof good];
        memcpy(buf, good, sizeof good);
        put_u64(buf + bad[i].at, bad[i].v);
        lift_reader_init(&r, buf, sizeof buf);
        assert_int_equal(l.ops->load(&l, &r, &err), LIFT_ERR_CORRUPT);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("case %zu: '%s'", i, err.msg);
        assert_null(l.state);
    }
    /* activation 7; a NaN weight; a shape the model does not expect */
    uint8_t buf[sizeof good];
    memcpy(buf, good, sizeof good);
    buf[40] = 7;
    lift_reader_init(&r, buf, sizeof buf);
    assert_int_equal(l.ops->load(&l, &r, &err), LIFT_ERR_CORRUPT);
    memcpy(buf, good, sizeof good);
    float nan = NAN;
    memcpy(buf + 49 + 4 * 5, &nan, 4);
    lift_reader_init(&r, buf, sizeof buf);
    assert_int_equal(l.ops->load(&l, &r, &err), LIFT_ERR_CORRUPT);
    assert_string_equal(err.msg, "mlp parameter 5 is not finite");
    l.n_inputs = 3;
    lift_reader_init(&r, good, sizeof good);
    assert_int_equal(l.ops->load(&l, &r, &err), LIFT_ERR_CORRUPT);
    assert_null(l.state);
}

/* ---- limits and refusals --------------------------------------------------
 */

static void mem_limit_refused_with_numbers(void **state)
{
    (void)state;
    struct set s;
    set_make(&s, 20, (size_t)1 << 24, 16, 3, LIFT_TASK_BINARY, 2, 13);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.hidden[0] = p.hidden[1] = 64;
    p.mem_limit = (size_t)1 << 28;
    struct lift_learner l;
    struct lift_error err;
    bool counting = lift_alloc_fail_at(0);
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_ERR_LIMIT);
    /* refused before the parameters are allocated */
    if (counting)
        assert_true(lift_alloc_count() < 4);
    print_message("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "16777216 inputs x 64 units needs "));
    assert_non_null(strstr(err.msg, "(1073746113 parameters"));
    assert_non_null(strstr(err.msg, "memory limit of 268435456 bytes"));
    assert_null(l.state);
    /* the default limit is 1 GiB */
    p.mem_limit = 0;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "memory limit of 1073741824 bytes"));
    set_free(&s);
}

static void fit_bad_inputs_refused(void **state)
{
    (void)state;
    struct set s;
    set_make(&s, 20, 8, 8, 3, LIFT_TASK_BINARY, 2, 14);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_learner l;
    struct lift_error err;
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.optimizer = LIFT_OPT_SGD;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg,
                        "model 'mlp' trains with optimizer 'adam' only");
    p = params(LIFT_TASK_BINARY, 2);
    p.l1 = 0.1;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_ERR_INVALID);
    p = params(LIFT_TASK_BINARY, 2);
    s.y[3] = 0.5;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "training label 0.5 of row 3 is not 0 or 1");
    s.y[3] = 1.0;
    p = params(LIFT_TASK_MULTICLASS, 1);
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_ERR_INVALID);
    struct lift_train_data e = {.x = &s.x, .y = s.y, .vx = &s.x};
    p = params(LIFT_TASK_BINARY, 2);
    assert_int_equal(fit(&l, "mlp", &e, &p, &err), LIFT_ERR_INVALID);
    assert_null(l.state);
    /* defaults: 64,64 relu */
    p.n_hidden = 0;
    p.epochs = 1;
    assert_int_equal(fit(&l, "mlp", &d, &p, &err), LIFT_OK);
    size_t n;
    lift_mlp_params(&l, &n);
    assert_int_equal(n, 8 * 64 + 64 + 64 * 64 + 64 + 64 + 1);
    l.ops->destroy(&l);
    set_free(&s);
}

static void fit_allocation_failures_nomem_no_leak(void **state)
{
    (void)state;
    if (!lift_alloc_fail_at(0))
        skip();
    struct set s;
    set_make(&s, 40, 8, 8, 3, LIFT_TASK_BINARY, 2, 15);
    struct lift_train_data d = {.x = &s.x, .y = s.y, .vx = &s.x, .vy = s.y};
    struct lift_train_params p = params(LIFT_TASK_BINARY, 2);
    p.epochs = 2;
    p.patience = 1;
    p.dropout = 0.1;
    int nomem = 0;
    for (long n = 1; n < 80; n++) {
        struct lift_learner l;
        struct lift_error err;
        lift_alloc_fail_at(n);
        enum lift_code rc = fit(&l, "mlp", &d, &p, &err);
        lift_alloc_fail_at(0);
        if (rc == LIFT_OK) {
            l.ops->destroy(&l);
            break;
        }
        assert_int_equal(rc, LIFT_ERR_NOMEM);
        assert_null(l.state);
        nomem++;
    }
    assert_true(nomem >= 10);
    set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradient_binary_relu_central_difference),
        cmocka_unit_test(gradient_binary_tanh_l2_central_difference),
        cmocka_unit_test(gradient_regression_three_layers_central_difference),
        cmocka_unit_test(gradient_softmax_central_difference),
        cmocka_unit_test(gradient_dropout_fixed_masks_central_difference),
        cmocka_unit_test(gradient_wide_input_central_difference),
        cmocka_unit_test(xor_mlp_fits_logistic_cannot),
        cmocka_unit_test(xor_wide_lazy_first_layer_fits),
        cmocka_unit_test(regression_and_softmax_learn),
        cmocka_unit_test(same_seed_identical_other_seed_differs),
        cmocka_unit_test(progress_per_epoch_with_validation_auc),
        cmocka_unit_test(cancel_between_batches_returns_cancelled),
        cmocka_unit_test(early_stopping_restores_best_epoch),
        cmocka_unit_test(explain_integrated_gradients_complete),
        cmocka_unit_test(save_load_round_trip_identical_predictions),
        cmocka_unit_test(load_truncated_buffer_corrupt),
        cmocka_unit_test(load_bad_counts_corrupt),
        cmocka_unit_test(mem_limit_refused_with_numbers),
        cmocka_unit_test(fit_bad_inputs_refused),
        cmocka_unit_test(fit_allocation_failures_nomem_no_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
