/*
 * tests/unit/test_linear.c - the linear learners (models/linear.c) and the
 * learner registry (models/learner.c).
 *
 * The reference solutions are for fixed tiny data sets (values multiples
 * of 1/4, exact in float), from two independent solvers:
 *
 *   scikit-learn 1.2.1,
 *     LogisticRegression(C=1 / (l2 * n), tol=1e-12, max_iter=100000)
 *         .fit(X, y)                              -> SK_COEF
 *     LogisticRegression(C=1 / (l2 * sum(w)), tol=1e-12, max_iter=100000)
 *         .fit(X, y, sample_weight=w)             -> SK_WCOEF
 *     LogisticRegression(C=1 / (l2 * n), multi_class="multinomial",
 *         tol=1e-12, max_iter=100000).fit(X3, y3) -> SK_SOFT_W
 *   (sklearn minimises C sum_i w_i l_i + ||w||^2 / 2, which is C W times
 *   our objective when l2 = 1 / (C W)); its lbfgs stops on scipy's ftol
 *   (64 eps), which leaves up to 6e-6 in the weights
 *   (1.5e-5 for softmax);
 *
 *   Newton's method in numpy on our objective, run until the largest
 *   gradient entry is below 1e-16 (pinv of the Hessian for softmax, whose
 *   biases are free up to a common shift)         -> NEWTON_*.
 *
 * L-BFGS must agree with Newton to 1e-8 (about the floor of any method
 * that tests decrease of f: sqrt(eps f / curvature)) and with sklearn to
 * 1e-5 (5e-5 for softmax). The
 * rest checks properties: gradients by central differences, exact zeros
 * under L1, known coefficients, seeds, cancellation, early stopping,
 * save / load and hostile files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/learner.h"
#include "models/linear.h"
#include "models/loss.h"

static void assert_close(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("%.17g != %.17g (tolerance %g)", a, b, tol);
}

/* ---- data ---------------------------------------------------------------- */

#define LN 24
static const double LX[LN][3] = {
    {-1.75, 1.0, -0.25},  {1.0, 0.0, 0.25},     {0.0, -1.75, 0.0},
    {0.0, 0.75, 1.25},    {-0.5, -1.75, -0.75}, {1.75, -1.25, -0.25},
    {1.75, -2.0, 0.0},    {1.75, -1.0, 0.25},   {1.75, -1.5, 0.0},
    {1.0, 0.0, -0.25},    {-1.25, 0.0, -0.5},   {0.0, -0.5, 1.25},
    {0.0, -0.75, 0.25},   {0.0, -0.25, -0.5},   {0.75, -0.5, 0.0},
    {0.0, -0.25, 0.0},    {0.0, 1.0, 0.0},      {-0.25, 0.5, 0.0},
    {-0.25, -2.0, -1.75}, {0.75, 0.0, 0.75},    {1.75, 0.0, -1.75},
    {-0.75, 0.25, 0.0},   {1.75, 1.75, 1.5},    {0.0, 0.0, -1.5},
};
static const double LY[LN] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                              1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0};
/* l2 0.05: three weights, then the bias */
static const double SK_COEF[4] = {0.8092698410462063, -0.3296506207003648,
                                  0.8521218735763553, 0.7750732748890743};
static const double NEWTON_COEF[4] = {0.8092695467633961, -0.32965072142672586,
                                      0.8521220051709776, 0.7750702200895361};
/* the same with row weights 1 + r % 3 */
static const double SK_WCOEF[4] = {0.7215450625508343, -0.4348457902402097,
                                   0.7146773110011004, 0.6278192095578015};
static const double NEWTON_WCOEF[4] = {0.7215391317619297, -0.43484132235960904,
                                       0.7146762253988996, 0.627816133182783};

#define SN 30
static const double SX[SN][2] = {
    {2.5, -0.25},  {-1.0, -1.5},  {-0.5, -1.25}, {0.5, 0.25},   {0.0, 0.0},
    {-1.25, -1.5}, {1.5, 0.5},    {-1.75, 0.0},  {0.25, 0.5},   {1.0, -0.5},
    {0.5, 0.75},   {0.25, 0.5},   {1.5, 0.0},    {0.25, 0.5},   {-0.75, -1.5},
    {0.75, -0.5},  {-0.75, 0.75}, {-0.5, -1.0},  {1.25, 1.25},  {-2.0, 2.25},
    {-0.75, -2.0}, {0.75, 0.0},   {0.5, 0.0},    {-0.25, -1.0}, {-0.5, -1.0},
    {0.0, 1.75},   {0.5, -0.5},   {1.25, 0.0},   {0.5, 0.25},   {-0.75, -0.75},
};
/* l2 0.1: W[class][feature] */
static const double SK_SOFT_W[3][2] = {
    {0.9003903618034562, -0.0736296446117497},
    {-0.5519800675502441, 0.5954331813476867},
    {-0.34841029425321207, -0.521803536735937},
};
static const double NEWTON_SOFT_W[3][2] = {
    {0.9003852043449739, -0.07363752147250317},
    {-0.5519712110269115, 0.5954257765673006},
    {-0.3484139933180628, -0.5217882550947978},
};
/* Newton's class probabilities of the first three rows */
static const double NEWTON_SOFT_P[3][3] = {
    {0.9151823616482644, 0.030948593153025568, 0.05386904519871003},
    {0.0868303253002411, 0.20521915493524048, 0.7079505197645184},
    {0.15986155746258196, 0.21605182679057192, 0.6240866157468461},
};

/* CSR of a dense row-major matrix, zeros left out. */
static void csr_from_dense(struct lift_csr *m, const double *x, size_t n,
                           size_t d)
{
    size_t nnz = 0;
    for (size_t i = 0; i < n * d; i++)
        nnz += x[i] != 0.0;
    m->n_rows = n;
    m->n_cols = d;
    m->indptr = lift_malloc_array(n + 1, sizeof *m->indptr);
    m->idx = lift_malloc_array(nnz ? nnz : 1, sizeof *m->idx);
    m->val = lift_malloc_array(nnz ? nnz : 1, sizeof *m->val);
    assert_non_null(m->indptr);
    assert_non_null(m->idx);
    assert_non_null(m->val);
    size_t e = 0;
    for (size_t r = 0; r < n; r++) {
        m->indptr[r] = e;
        for (size_t j = 0; j < d; j++) {
            if (x[r * d + j] != 0.0) {
                m->idx[e] = (uint32_t)j;
                m->val[e++] = (float)x[r * d + j];
            }
        }
    }
    m->indptr[n] = e;
}

/* A tiny set as CSR: the logistic one (LX, LY) or the softmax one (SX,
 * classes r % 3), with row weights 1 + r % 3 in w (not used by d). */
struct tiny {
    struct lift_csr x;
    double y[SN];
    double w[SN];
    struct lift_train_data d;
};

static void tiny_init(struct tiny *t, bool softmax)
{
    size_t n = softmax ? SN : LN;
    csr_from_dense(&t->x, softmax ? &SX[0][0] : &LX[0][0], n, softmax ? 2 : 3);
    for (size_t r = 0; r < n; r++) {
        t->y[r] = softmax ? (double)(r % 3) : LY[r];
        t->w[r] = 1.0 + (double)(r % 3);
    }
    t->d = (struct lift_train_data){.x = &t->x, .y = t->y};
}

static struct lift_train_params params_for(enum lift_task task, size_t k)
{
    struct lift_train_params p = {0};
    p.task = task;
    p.n_classes = k;
    p.seed = 1;
    return p;
}

/* Synthetic rows: d features uniform in [-1, 1] with `density` of them
 * non-zero; y from the weights `truth` (binary: Bernoulli of the
 * sigmoid; regression: exact). */
struct synth {
    struct lift_csr x;
    double *y;
    double *dense;
};

static void synth_make(struct synth *s, size_t n, size_t d, const double *truth,
                       double bias, bool binary, double density, uint64_t seed)
{
    struct lift_rng rng;
    lift_rng_seed(&rng, seed);
    s->dense = calloc(n * d, sizeof *s->dense);
    s->y = calloc(n, sizeof *s->y);
    assert_non_null(s->dense);
    assert_non_null(s->y);
    for (size_t r = 0; r < n; r++) {
        double z = bias;
        for (size_t j = 0; j < d; j++) {
            if (lift_rng_uniform(&rng) < density) {
                double v = floor((lift_rng_uniform(&rng) * 2 - 1) * 8) / 8;
                s->dense[r * d + j] = v;
                z += truth[j] * v;
            }
        }
        s->y[r] = binary ? (lift_rng_uniform(&rng) < lift_sigmoid(z)) : z;
    }
    csr_from_dense(&s->x, s->dense, n, d);
}

static void synth_free(struct synth *s)
{
    lift_csr_release(&s->x);
    free(s->y);
    free(s->dense);
}

/* Weight of feature j for output k, read through explain. */
static double weight_of(const struct lift_learner *l, uint32_t j, size_t k)
{
    float one = 1.0f;
    double c;
    l->ops->explain(l, &j, &one, 1, k, &c);
    return c;
}

static double bias_of(const struct lift_learner *l, size_t k)
{
    return l->ops->explain(l, NULL, NULL, 0, k, NULL);
}

static double predict_row(const struct lift_learner *l,
                          const struct lift_csr *x, size_t r, double *out)
{
    uint64_t s = x->indptr[r];
    l->ops->predict(l, x->idx + s, x->val + s, (size_t)(x->indptr[r + 1] - s),
                    out);
    return out[0];
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

static void save_bytes(const struct lift_learner *l, struct lift_writer *w)
{
    struct lift_error err;
    lift_writer_init(w);
    assert_int_equal(l->ops->save(l, w, &err), LIFT_OK);
}

/* ---- registry, reducer, report ------------------------------------------ */

static void learner_find_known_names_tables(void **state)
{
    (void)state;
    assert_ptr_equal(lift_learner_find("logistic"), &lift_logistic_ops);
    assert_ptr_equal(lift_learner_find("linear"), &lift_linear_ops);
    assert_ptr_equal(lift_learner_find("softmax"), &lift_softmax_ops);
    assert_string_equal(lift_learner_find("softmax")->name, "softmax");
    assert_null(lift_learner_find("Logistic"));
    assert_null(lift_learner_find("gbdt-x"));
    assert_null(lift_learner_find(NULL));
}

static void reducer_local_sum_leaves_buffer(void **state)
{
    (void)state;
    double buf[3] = {1.5, -2.0, 3.25};
    struct lift_error err;
    assert_int_equal(lift_reducer_local.size, 1);
    assert_int_equal(lift_reducer_local.rank, 0);
    assert_int_equal(
        lift_reducer_local.sum(lift_reducer_local.ctx, buf, 3, &err), LIFT_OK);
    assert_true(buf[0] == 1.5 && buf[1] == -2.0 && buf[2] == 3.25);
}

struct watch {
    int calls;
    int cancel_at; /* report number that cancels, 0: never */
    unsigned epochs[64];
    double loss[64], vloss[64], vmetric[64];
    const char *metric;
};

static int on_progress(void *user, const struct lift_progress *p)
{
    struct watch *w = user;
    if (w->calls < 64) {
        w->epochs[w->calls] = p->epoch;
        w->loss[w->calls] = p->loss;
        w->vloss[w->calls] = p->valid_loss;
        w->vmetric[w->calls] = p->valid_metric;
    }
    w->metric = p->metric;
    assert_string_equal(p->stage, "fit");
    w->calls++;
    return w->cancel_at && w->calls >= w->cancel_at;
}

static void learner_report_nonzero_cancelled(void **state)
{
    (void)state;
    struct watch w = {.cancel_at = 2};
    struct lift_train_params p = {.progress = on_progress, .progress_user = &w};
    struct lift_progress pr = {.stage = "fit", .epoch = 1};
    struct lift_error err;
    assert_int_equal(lift_learner_report(&p, &pr, &err), LIFT_OK);
    assert_int_equal(lift_learner_report(&p, &pr, &err), LIFT_ERR_CANCELLED);
    assert_string_equal(err.msg, "training cancelled");
    p.progress = NULL;
    assert_int_equal(lift_learner_report(&p, &pr, &err), LIFT_OK);
}

/* ---- objective gradients ------------------------------------------------ */

static void check_gradient(const char *kind, const struct lift_train_data *d,
                           const struct lift_train_params *p, size_t n_par)
{
    double *w = calloc(n_par, sizeof *w), *g = calloc(n_par, sizeof *g);
    double *g2 = calloc(n_par, sizeof *g2);
    assert_non_null(w);
    assert_non_null(g);
    assert_non_null(g2);
    struct lift_rng rng;
    lift_rng_seed(&rng, 5);
    for (size_t i = 0; i < n_par; i++)
        w[i] = lift_rng_uniform(&rng) * 2 - 1;
    struct lift_error err;
    double f, up, down;
    assert_int_equal(lift_linear_objective(kind, d, p, w, &f, g, &err),
                     LIFT_OK);
    const double h = 1e-5;
    for (size_t i = 0; i < n_par; i++) {
        double keep = w[i];
        w[i] = keep + h;
        assert_int_equal(lift_linear_objective(kind, d, p, w, &up, g2, &err),
                         LIFT_OK);
        w[i] = keep - h;
        assert_int_equal(lift_linear_objective(kind, d, p, w, &down, g2, &err),
                         LIFT_OK);
        w[i] = keep;
        assert_close(g[i], (up - down) / (2 * h), 1e-8);
    }
    /* --threads does not change a linear objective's numbers */
    struct lift_train_params q = *p;
    q.threads = 2;
    double f2;
    assert_int_equal(lift_linear_objective(kind, d, &q, w, &f2, g2, &err),
                     LIFT_OK);
    assert_true(f2 == f);
    assert_memory_equal(g2, g, n_par * sizeof *g);
    free(w);
    free(g);
    free(g2);
}

static void linear_objective_logistic_gradient_central_difference(void **state)
{
    (void)state;
    struct tiny t;
    tiny_init(&t, false);
    t.d.w = t.w;
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.l2 = 0.3;
    check_gradient("logistic", &t.d, &p, 4);
    lift_csr_release(&t.x);
}

static void linear_objective_squared_gradient_central_difference(void **state)
{
    (void)state;
    struct tiny t;
    tiny_init(&t, false);
    for (size_t r = 0; r < LN; r++)
        t.y[r] = LX[r][0] * 2 - LX[r][2] + 0.1 * (double)(r % 5);
    struct lift_train_params p = params_for(LIFT_TASK_REGRESSION, 1);
    p.l2 = 0.7;
    check_gradient("linear", &t.d, &p, 4);
    lift_csr_release(&t.x);
}

static void linear_objective_softmax_gradient_central_difference(void **state)
{
    (void)state;
    struct tiny t;
    tiny_init(&t, true);
    struct lift_train_params p = params_for(LIFT_TASK_MULTICLASS, 3);
    p.l2 = 0.2;
    check_gradient("softmax", &t.d, &p, 9);
    lift_csr_release(&t.x);
}

static void linear_objective_unknown_kind_invalid(void **state)
{
    (void)state;
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    struct lift_train_data d = {0};
    struct lift_error err;
    double f;
    assert_int_equal(lift_linear_objective("mlp", &d, &p, NULL, &f, NULL, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "not a linear model: 'mlp'");
}

/* ---- solutions ----------------------------------------------------------- */

/* Fits "logistic" on the tiny set (weighted or not) and compares the
 * three weights and the bias with want (and sk when not NULL). */
static void fit_tiny_logistic(const struct lift_train_params *p, bool weighted,
                              const double *want, double tol, const double *sk,
                              double sk_tol)
{
    struct tiny t;
    tiny_init(&t, false);
    if (weighted)
        t.d.w = t.w;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "logistic", &t.d, p, &err), LIFT_OK);
    assert_int_equal(l.n_inputs, 3);
    assert_int_equal(l.n_outputs, 1);
    assert_int_equal(l.task, LIFT_TASK_BINARY);
    for (uint32_t j = 0; j < 4; j++) {
        double v = j < 3 ? weight_of(&l, j, 0) : bias_of(&l, 0);
        assert_close(v, want[j], tol);
        if (sk)
            assert_close(v, sk[j], sk_tol);
    }
    l.ops->destroy(&l);
    assert_null(l.state);
    lift_csr_release(&t.x);
}

static void logistic_lbfgs_matches_newton_and_sklearn(void **state)
{
    (void)state;
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.l2 = 0.05;
    p.tol = 1e-12;
    fit_tiny_logistic(&p, false, NEWTON_COEF, 1e-8, SK_COEF, 1e-5);
}

static void logistic_weighted_matches_newton_and_sklearn(void **state)
{
    (void)state;
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.l2 = 0.05;
    p.tol = 1e-12;
    p.threads = 2;
    fit_tiny_logistic(&p, true, NEWTON_WCOEF, 1e-8, SK_WCOEF, 1e-5);
}

static void logistic_adagrad_long_run_near_newton(void **state)
{
    (void)state;
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.l2 = 0.05;
    p.optimizer = LIFT_OPT_ADAGRAD;
    p.batch = LN; /* full batch */
    p.epochs = 3000;
    fit_tiny_logistic(&p, false, NEWTON_COEF, 1e-3, NULL, 0);
}

static void softmax_three_classes_match_newton_and_sklearn(void **state)
{
    (void)state;
    struct tiny t;
    tiny_init(&t, true);
    struct lift_train_params p = params_for(LIFT_TASK_MULTICLASS, 3);
    p.l2 = 0.1;
    p.tol = 1e-12;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "softmax", &t.d, &p, &err), LIFT_OK);
    assert_int_equal(l.n_outputs, 3);
    assert_int_equal(l.task, LIFT_TASK_MULTICLASS);
    for (uint32_t j = 0; j < 2; j++)
        for (size_t c = 0; c < 3; c++) {
            assert_close(weight_of(&l, j, c), NEWTON_SOFT_W[c][j], 1e-8);
            assert_close(weight_of(&l, j, c), SK_SOFT_W[c][j], 5e-5);
        }
    /* biases are fixed only up to a common shift: compare probabilities */
    for (size_t r = 0; r < 3; r++) {
        double z[3];
        predict_row(&l, &t.x, r, z);
        lift_softmax(z, 3, z);
        for (size_t c = 0; c < 3; c++)
            assert_close(z[c], NEWTON_SOFT_P[r][c], 1e-8);
    }
    l.ops->destroy(&l);
    lift_csr_release(&t.x);
}

static void linear_recovers_known_coefficients(void **state)
{
    (void)state;
    const double truth[4] = {2.0, -3.0, 0.5, 0.0};
    struct synth s;
    synth_make(&s, 200, 4, truth, 1.25, false, 0.7, 3);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params_for(LIFT_TASK_REGRESSION, 1);
    p.tol = 1e-12;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "linear", &d, &p, &err), LIFT_OK);
    for (uint32_t j = 0; j < 4; j++)
        assert_close(weight_of(&l, j, 0), truth[j], 1e-8);
    assert_close(bias_of(&l, 0), 1.25, 1e-8);
    l.ops->destroy(&l);

    p.optimizer = LIFT_OPT_ADAM;
    p.lr = 0.05;
    p.epochs = 60;
    assert_int_equal(fit(&l, "linear", &d, &p, &err), LIFT_OK);
    for (uint32_t j = 0; j < 4; j++)
        assert_close(weight_of(&l, j, 0), truth[j], 0.02);
    l.ops->destroy(&l);
    synth_free(&s);
}

static void logistic_l1_noise_weights_exactly_zero(void **state)
{
    (void)state;
    double truth[12] = {2.0, -2.0};
    struct synth s;
    synth_make(&s, 600, 12, truth, 0.0, true, 0.6, 4);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.l1 = 0.03;
    p.epochs = 20;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_OK); /* AUTO */
    assert_true(weight_of(&l, 0, 0) > 0.5);
    assert_true(weight_of(&l, 1, 0) < -0.5);
    size_t zeros = 0;
    for (uint32_t j = 2; j < 12; j++)
        zeros += weight_of(&l, j, 0) == 0.0;
    assert_true(zeros >= 8);
    l.ops->destroy(&l);

    p.l1 = 0; /* the same noise weights without L1 are not zero */
    p.optimizer = LIFT_OPT_ADAGRAD;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_OK);
    zeros = 0;
    for (uint32_t j = 2; j < 12; j++)
        zeros += weight_of(&l, j, 0) == 0.0;
    assert_int_equal(zeros, 0);
    l.ops->destroy(&l);
    synth_free(&s);
}

/* ---- determinism --------------------------------------------------------- */

static void fit_bytes_of(const char *kind, const struct lift_train_data *d,
                         const struct lift_train_params *p,
                         struct lift_writer *w)
{
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, kind, d, p, &err), LIFT_OK);
    save_bytes(&l, w);
    l.ops->destroy(&l);
}

static void minibatch_same_seed_identical_other_seed_differs(void **state)
{
    (void)state;
    double truth[8] = {1.0, -1.0, 0.5};
    struct synth s;
    synth_make(&s, 300, 8, truth, 0.2, true, 0.5, 6);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    const enum lift_optimizer opts[] = {LIFT_OPT_SGD, LIFT_OPT_ADAGRAD,
                                        LIFT_OPT_ADAM};
    for (size_t o = 0; o < 3; o++) {
        struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
        p.optimizer = opts[o];
        p.l2 = 0.01;
        p.l1 = 0.001;
        p.seed = 42;
        struct lift_writer a, b, c;
        fit_bytes_of("logistic", &d, &p, &a);
        fit_bytes_of("logistic", &d, &p, &b);
        p.seed = 43;
        fit_bytes_of("logistic", &d, &p, &c);
        assert_int_equal(a.buf.len, b.buf.len);
        assert_memory_equal(a.buf.data, b.buf.data, a.buf.len);
        assert_int_equal(a.buf.len, c.buf.len);
        assert_memory_not_equal(a.buf.data, c.buf.data, a.buf.len);
        lift_writer_release(&a);
        lift_writer_release(&b);
        lift_writer_release(&c);
    }
    synth_free(&s);
}

static void lbfgs_same_model_for_any_thread_count(void **state)
{
    (void)state;
    double truth[16] = {1.0, -1.0, 0.5, 0.25, -0.5};
    struct synth s;
    synth_make(&s, 1000, 16, truth, -0.5, true, 0.4, 7);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.l2 = 1e-3;
    struct lift_writer a, b, c;
    fit_bytes_of("logistic", &d, &p, &a);
    fit_bytes_of("logistic", &d, &p, &b);
    p.threads = 2;
    fit_bytes_of("logistic", &d, &p, &c);
    assert_int_equal(a.buf.len, b.buf.len);
    assert_memory_equal(a.buf.data, b.buf.data, a.buf.len);
    assert_int_equal(a.buf.len, c.buf.len);
    assert_memory_equal(a.buf.data, c.buf.data, a.buf.len);
    lift_writer_release(&a);
    lift_writer_release(&b);
    lift_writer_release(&c);
    synth_free(&s);
}

/* ---- Newton ------------------------------------------------------------- */

/* Newton and a tightly converged L-BFGS reach the same optimum, logistic
 * and linear; Newton is what AUTO picks for one output and few features. */
static void newton_matches_lbfgs_optimum(void **state)
{
    (void)state;
    double truth[12] = {1.0, -1.0, 0.5, 0.25, -0.5, 2.0};
    const char *kinds[2] = {"logistic", "linear"};
    for (int kind = 0; kind < 2; kind++) {
        struct synth s;
        synth_make(&s, 800, 12, truth, -0.5, kind == 0, 0.5, 21);
        if (kind == 1) /* noise, so the fit is not exact */
            for (size_t r = 0; r < 800; r++)
                s.y[r] += 0.1 * sin((double)r);
        struct lift_train_data d = {.x = &s.x, .y = s.y};
        struct lift_train_params p =
            params_for(kind == 0 ? LIFT_TASK_BINARY : LIFT_TASK_REGRESSION,
                       kind == 0 ? 2 : 1);
        p.l2 = 1e-3;
        p.tol = 1e-10;
        struct lift_learner a, b;
        struct lift_error err;
        p.optimizer = LIFT_OPT_NEWTON;
        assert_int_equal(fit(&a, kinds[kind], &d, &p, &err), LIFT_OK);
        p.optimizer = LIFT_OPT_LBFGS;
        assert_int_equal(fit(&b, kinds[kind], &d, &p, &err), LIFT_OK);
        for (uint32_t j = 0; j < 12; j++)
            assert_float_equal(weight_of(&a, j, 0), weight_of(&b, j, 0), 1e-6);
        assert_float_equal(bias_of(&a, 0), bias_of(&b, 0), 1e-6);
        a.ops->destroy(&a);
        b.ops->destroy(&b);
        synth_free(&s);
    }
}

/* Newton reports every iteration and needs few of them; it refuses l1,
 * several outputs and wide inputs with a message naming the limit. */
static void newton_few_iterations_and_refusals(void **state)
{
    (void)state;
    double truth[8] = {1.5, -1.0, 0.5};
    struct synth s;
    synth_make(&s, 600, 8, truth, 0.0, true, 0.6, 5);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct watch w = {0};
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.l2 = 1e-3;
    p.tol = 1e-8;
    p.progress = on_progress;
    p.progress_user = &w;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_OK);
    assert_true(w.calls >= 2 && w.calls <= 12);
    for (int i = 0; i < w.calls && i < 64; i++)
        assert_int_equal(w.epochs[i], (unsigned)(i + 1));
    l.ops->destroy(&l);
    p.progress = NULL;
    p.optimizer = LIFT_OPT_NEWTON;
    p.l1 = 0.01;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "newton"));
    synth_free(&s);
}

/* ---- reducer --------------------------------------------------------------
 */

struct fake_reducer {
    int calls;
    size_t values;
    int fail_at;
};

static enum lift_code fake_sum(void *ctx, double *buf, size_t n,
                               struct lift_error *err)
{
    struct fake_reducer *f = ctx;
    (void)buf;
    f->values += n;
    if (++f->calls == f->fail_at)
        return lift_error_set(err, LIFT_ERR_UNAVAILABLE, "peer went away");
    return LIFT_OK;
}

static void reducer_sums_pass_through_and_dense_path_agrees(void **state)
{
    (void)state;
    double truth[6] = {1.0, -1.0};
    struct synth s;
    synth_make(&s, 200, 6, truth, 0.0, true, 0.5, 8);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.optimizer = LIFT_OPT_SGD;
    p.l2 = 0.01;
    p.epochs = 3;
    struct lift_learner local, one, two;
    struct lift_error err;
    assert_int_equal(fit(&local, "logistic", &d, &p, &err), LIFT_OK);

    struct fake_reducer f1 = {0};
    struct lift_reducer r1 = {.ctx = &f1, .size = 1, .sum = fake_sum};
    p.reducer = &r1;
    assert_int_equal(fit(&one, "logistic", &d, &p, &err), LIFT_OK);
    /* totals once, then one sum per batch: 200 / 32 -> 7 batches x 3 */
    assert_int_equal(f1.calls, 1 + 7 * 3);

    /* a "second worker" that adds nothing: the dense exchange */
    struct fake_reducer f2 = {0};
    struct lift_reducer r2 = {.ctx = &f2, .size = 2, .sum = fake_sum};
    p.reducer = &r2;
    assert_int_equal(fit(&two, "logistic", &d, &p, &err), LIFT_OK);
    assert_int_equal(f2.calls, 1 + 7 * 3);
    assert_true(f2.values == 4 + 7 * 3 * (7 + 3)); /* totals k + 3 */
    for (uint32_t j = 0; j < 6; j++) {
        assert_true(weight_of(&one, j, 0) == weight_of(&local, j, 0));
        assert_close(weight_of(&two, j, 0), weight_of(&local, j, 0), 1e-12);
    }
    local.ops->destroy(&local);
    one.ops->destroy(&one);
    two.ops->destroy(&two);

    struct fake_reducer f3 = {.fail_at = 3};
    r1.ctx = &f3;
    p.reducer = &r1;
    assert_int_equal(fit(&one, "logistic", &d, &p, &err), LIFT_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "peer went away");
    assert_null(one.state);
    synth_free(&s);
}

/* ---- progress, cancellation, early stopping ------------------------------ */

static void progress_per_epoch_with_validation_auc(void **state)
{
    (void)state;
    double truth[6] = {1.5, -1.0};
    struct synth s, v;
    synth_make(&s, 300, 6, truth, 0.0, true, 0.6, 9);
    synth_make(&v, 100, 6, truth, 0.0, true, 0.6, 10);
    struct lift_train_data d = {.x = &s.x, .y = s.y, .vx = &v.x, .vy = v.y};
    struct watch w = {0};
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.optimizer = LIFT_OPT_ADAGRAD;
    p.epochs = 5;
    p.progress = on_progress;
    p.progress_user = &w;
    struct lift_learner l;
    struct lift_error err;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_OK);
    assert_int_equal(w.calls, 5);
    assert_string_equal(w.metric, "auc");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(w.epochs[i], i + 1);
        assert_true(w.loss[i] > 0.3 && w.loss[i] < 0.7);
        assert_true(w.vloss[i] > 0.3 && w.vloss[i] < 0.7);
        assert_true(w.vmetric[i] > 0.7 && w.vmetric[i] <= 1.0);
    }
    assert_true(w.loss[4] < w.loss[0]);
    l.ops->destroy(&l);

    /* L-BFGS: every 10 iterations and at the end */
    struct watch w2 = {0};
    p.optimizer = LIFT_OPT_LBFGS;
    p.epochs = 0;
    p.tol = 1e-12;
    p.progress_user = &w2;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_OK);
    assert_true(w2.calls >= 1);
    for (int i = 0; i + 1 < w2.calls && i < 64; i++)
        assert_int_equal(w2.epochs[i], 10 * (unsigned)(i + 1));
    assert_true(w2.vmetric[0] > 0.7);
    l.ops->destroy(&l);

    /* regression: rmse */
    struct watch w3 = {0};
    struct lift_train_params q = params_for(LIFT_TASK_REGRESSION, 1);
    q.progress = on_progress;
    q.progress_user = &w3;
    assert_int_equal(fit(&l, "linear", &d, &q, &err), LIFT_OK);
    assert_string_equal(w3.metric, "rmse");
    assert_close(w3.vmetric[w3.calls - 1], sqrt(2 * w3.vloss[w3.calls - 1]),
                 1e-15);
    l.ops->destroy(&l);
    synth_free(&s);
    synth_free(&v);
}

static void fit_cancelled_by_progress_returns_cancelled(void **state)
{
    (void)state;
    double truth[6] = {1.5, -1.0};
    struct synth s;
    synth_make(&s, 300, 6, truth, 0.0, true, 0.6, 11);
    struct lift_train_data d = {.x = &s.x, .y = s.y};
    const enum lift_optimizer opts[] = {LIFT_OPT_LBFGS, LIFT_OPT_SGD};
    for (size_t o = 0; o < 2; o++) {
        /* L-BFGS may converge before its second report */
        struct watch w = {.cancel_at = o == 0 ? 1 : 2};
        struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
        p.optimizer = opts[o];
        p.tol = 1e-14;
        p.epochs = 40;
        p.progress = on_progress;
        p.progress_user = &w;
        struct lift_learner l;
        struct lift_error err;
        assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_CANCELLED);
        assert_string_equal(err.msg, "training cancelled");
        assert_int_equal(w.calls, w.cancel_at);
        assert_null(l.state);
    }
    synth_free(&s);
}

static void early_stopping_restores_best_epoch(void **state)
{
    (void)state;
    double truth[6] = {1.5, -1.0};
    struct synth s;
    synth_make(&s, 300, 6, truth, 0.0, true, 0.6, 12);
    double flipped[300];
    for (size_t r = 0; r < 300; r++)
        flipped[r] = 1.0 - s.y[r];
    /* validating on flipped labels: every epoch after the first is worse */
    struct lift_train_data d = {.x = &s.x, .y = s.y, .vx = &s.x, .vy = flipped};
    struct watch w = {0};
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    p.optimizer = LIFT_OPT_SGD;
    p.epochs = 20;
    p.patience = 2;
    p.progress = on_progress;
    p.progress_user = &w;
    struct lift_learner l, one;
    struct lift_error err;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_OK);
    assert_int_equal(w.calls, 3);
    assert_true(w.vloss[1] > w.vloss[0] && w.vloss[2] > w.vloss[0]);

    /* the kept weights are those after epoch 1 */
    p.epochs = 1;
    p.patience = 0;
    p.progress = NULL;
    assert_int_equal(fit(&one, "logistic", &d, &p, &err), LIFT_OK);
    struct lift_writer a, b;
    save_bytes(&l, &a);
    save_bytes(&one, &b);
    assert_int_equal(a.buf.len, b.buf.len);
    assert_memory_equal(a.buf.data, b.buf.data, a.buf.len);
    lift_writer_release(&a);
    lift_writer_release(&b);
    l.ops->destroy(&l);
    one.ops->destroy(&one);
    synth_free(&s);
}

/* ---- save, load, explain ------------------------------------------------- */

/* One fitted learner of each kind on the same 120 x 5 rows. */
struct three {
    struct lift_learner l[3];
    struct synth s;
    double ycls[120];
};

static void three_init(struct three *t)
{
    double truth[5] = {1.0, -2.0, 0.5, 0.0, 1.5};
    synth_make(&t->s, 120, 5, truth, 0.3, true, 0.7, 13);
    for (size_t r = 0; r < 120; r++)
        t->ycls[r] = (double)(r % 4);
    struct lift_train_data d = {.x = &t->s.x, .y = t->s.y};
    struct lift_train_data dc = {.x = &t->s.x, .y = t->ycls};
    struct lift_train_params pb = params_for(LIFT_TASK_BINARY, 2);
    struct lift_train_params pr = params_for(LIFT_TASK_REGRESSION, 1);
    struct lift_train_params pc = params_for(LIFT_TASK_MULTICLASS, 4);
    pb.l2 = pr.l2 = pc.l2 = 0.01;
    struct lift_error err;
    assert_int_equal(fit(&t->l[0], "logistic", &d, &pb, &err), LIFT_OK);
    assert_int_equal(fit(&t->l[1], "linear", &d, &pr, &err), LIFT_OK);
    assert_int_equal(fit(&t->l[2], "softmax", &dc, &pc, &err), LIFT_OK);
}

static void three_free(struct three *t)
{
    for (size_t i = 0; i < 3; i++)
        t->l[i].ops->destroy(&t->l[i]);
    synth_free(&t->s);
}

/* Loads len bytes of data with ops into *back (n_inputs preset). */
static enum lift_code load_from(const struct lift_learner_ops *ops,
                                const void *data, size_t len, size_t n_inputs,
                                struct lift_learner *back,
                                struct lift_error *err)
{
    struct lift_reader r;
    lift_reader_init(&r, data, len);
    *back = (struct lift_learner){.ops = ops, .n_inputs = n_inputs};
    enum lift_code rc = ops->load(back, &r, err);
    if (rc == LIFT_OK)
        assert_int_equal(lift_reader_left(&r), 0);
    return rc;
}

static void save_load_round_trip_identical_predictions(void **state)
{
    (void)state;
    struct three t;
    three_init(&t);
    for (size_t i = 0; i < 3; i++) {
        struct lift_writer w;
        struct lift_learner back;
        struct lift_error err;
        save_bytes(&t.l[i], &w);
        assert_int_equal(
            load_from(t.l[i].ops, w.buf.data, w.buf.len, 0, &back, &err),
            LIFT_OK);
        assert_int_equal(back.n_inputs, 5);
        assert_int_equal(back.n_outputs, t.l[i].n_outputs);
        assert_int_equal(back.task, t.l[i].task);
        for (size_t row = 0; row < 120; row++) {
            double a[4], b[4];
            predict_row(&t.l[i], &t.s.x, row, a);
            predict_row(&back, &t.s.x, row, b);
            assert_memory_equal(a, b, t.l[i].n_outputs * sizeof *a);
        }
        back.ops->destroy(&back);
        lift_writer_release(&w);
    }
    three_free(&t);
}

static void explain_base_plus_contributions_is_score(void **state)
{
    (void)state;
    struct three t;
    three_init(&t);
    const struct lift_csr *x = &t.s.x;
    for (size_t i = 0; i < 3; i++) {
        const struct lift_learner *l = &t.l[i];
        for (size_t row = 0; row < 120; row += 7) {
            uint64_t b = x->indptr[row];
            size_t nnz = (size_t)(x->indptr[row + 1] - b);
            double z[4], contrib[8];
            predict_row(l, x, row, z);
            for (size_t k = 0; k < l->n_outputs; k++) {
                double sum =
                    l->ops->explain(l, x->idx + b, x->val + b, nnz, k, contrib);
                for (size_t e = 0; e < nnz; e++)
                    sum += contrib[e];
                assert_close(sum, z[k], 1e-12);
            }
        }
    }
    three_free(&t);
}

static void load_truncated_buffer_corrupt(void **state)
{
    (void)state;
    struct three t;
    three_init(&t);
    for (size_t i = 0; i < 3; i++) {
        struct lift_writer w;
        save_bytes(&t.l[i], &w);
        for (size_t len = 0; len < w.buf.len; len++) {
            struct lift_learner back;
            struct lift_error err;
            assert_int_equal(
                load_from(t.l[i].ops, w.buf.data, len, 0, &back, &err),
                LIFT_ERR_CORRUPT);
            assert_null(back.state);
        }
        lift_writer_release(&w);
    }
    three_free(&t);
}

static void put_u64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
}

/* Loads the bytes with the u64 at `at` replaced by value. */
static enum lift_code load_patched(const struct lift_learner_ops *ops,
                                   const struct lift_buf *b, size_t at,
                                   uint64_t value, struct lift_error *err)
{
    char *copy = malloc(b->len);
    assert_non_null(copy);
    memcpy(copy, b->data, b->len);
    put_u64(copy + at, value);
    struct lift_learner back;
    enum lift_code rc = load_from(ops, copy, b->len, 0, &back, err);
    assert_true(rc != LIFT_OK || back.state);
    if (rc)
        assert_null(back.state);
    else
        back.ops->destroy(&back);
    free(copy);
    return rc;
}

static void load_bad_counts_corrupt(void **state)
{
    (void)state;
    struct three t;
    three_init(&t);
    const struct lift_learner_ops *ops = t.l[2].ops;
    struct lift_writer w;
    save_bytes(&t.l[2], &w); /* softmax: 5 inputs, 4 outputs */
    struct lift_error err;
    double nan = NAN;
    uint64_t nan_bits;
    memcpy(&nan_bits, &nan, 8);
    struct {
        size_t at;
        uint64_t value;
        const char *msg;
    } cases[] = {
        {0, 6, "20 linear weights for 6 inputs x 4 outputs"},
        {8, 1, "bad 'softmax' model shape: 5 inputs, 1 outputs"},
        {16, (uint64_t)1 << 60,
         "bad linear weight count 1152921504606846976 in the model file"},
        {8, (uint64_t)1 << 40,
         "bad 'softmax' model shape: 5 inputs, 1099511627776 outputs"},
        {24 + 8 * 3, nan_bits, "linear weight 3 is not finite"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        assert_int_equal(
            load_patched(ops, &w.buf, cases[c].at, cases[c].value, &err),
            LIFT_ERR_CORRUPT);
        assert_string_equal(err.msg, cases[c].msg);
    }
    /* a model for another input width than the caller expects */
    struct lift_learner back;
    assert_int_equal(load_from(ops, w.buf.data, w.buf.len, 7, &back, &err),
                     LIFT_ERR_CORRUPT);
    assert_null(back.state);
    /* softmax bytes read as a logistic model */
    assert_int_equal(
        load_from(&lift_logistic_ops, w.buf.data, w.buf.len, 0, &back, &err),
        LIFT_ERR_CORRUPT);
    lift_writer_release(&w);
    three_free(&t);
}

/* ---- refusals -------------------------------------------------------------
 */

static void fit_bad_inputs_refused(void **state)
{
    (void)state;
    struct tiny t;
    tiny_init(&t, false);
    double *y = t.y;
    struct lift_train_data d = t.d;
    struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
    struct lift_learner l;
    struct lift_error err;

    y[5] = 2.0;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "training label 2 of row 5 is not 0 or 1");
    y[5] = 1.0;

    p.l1 = 0.1;
    p.optimizer = LIFT_OPT_LBFGS;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "optimizer 'lbfgs' cannot fit l1; use "
                                 "'adagrad', 'sgd' or 'adam'");
    p.l1 = 0;

    p.mem_limit = 64;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_LIMIT);
    p.mem_limit = 0;

    assert_int_equal(fit(&l, "softmax", &d, &p, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg,
                        "model 'softmax' does not fit this task (2 classes)");

    double rw[LN] = {0};
    d.w = rw;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "training rows weigh 0 in all");
    rw[0] = -1;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_INVALID);
    d.w = NULL;

    struct lift_csr narrow;
    csr_from_dense(&narrow, &LX[0][0], LN / 3, 3);
    narrow.n_cols = 2;
    d.vx = &narrow;
    d.vy = y;
    assert_int_equal(fit(&l, "logistic", &d, &p, &err), LIFT_ERR_INVALID);
    d.vx = NULL;
    lift_csr_release(&narrow);

    double yc[LN];
    for (size_t r = 0; r < LN; r++)
        yc[r] = (double)(r % 3);
    yc[4] = 1.5;
    struct lift_train_data dc = {.x = &t.x, .y = yc};
    struct lift_train_params pc = params_for(LIFT_TASK_MULTICLASS, 3);
    assert_int_equal(fit(&l, "softmax", &dc, &pc, &err), LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "training label 1.5 of row 4 is not a "
                                 "class id below 3");
    assert_null(l.state);
    lift_csr_release(&t.x);
}

static void fit_allocation_failures_nomem_no_leak(void **state)
{
    (void)state;
    struct tiny t;
    tiny_init(&t, false);
    struct lift_train_data d = t.d;
    d.vx = &t.x;
    d.vy = t.y;
    const enum lift_optimizer opts[] = {LIFT_OPT_LBFGS, LIFT_OPT_ADAM};
    for (size_t o = 0; o < 2; o++) {
        struct lift_train_params p = params_for(LIFT_TASK_BINARY, 2);
        p.optimizer = opts[o];
        p.patience = 2;
        p.epochs = 3;
        struct lift_learner l;
        struct lift_error err;
        if (!lift_alloc_fail_at(0))
            skip();
        int nomem = 0;
        for (long n = 1; n < 60; n++) {
            lift_alloc_fail_at(n);
            enum lift_code rc = fit(&l, "logistic", &d, &p, &err);
            lift_alloc_fail_at(0);
            if (rc == LIFT_OK) {
                l.ops->destroy(&l);
                break;
            }
            assert_int_equal(rc, LIFT_ERR_NOMEM);
            assert_null(l.state);
            nomem++;
        }
        assert_true(nomem >= 4);
    }
    lift_csr_release(&t.x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learner_find_known_names_tables),
        cmocka_unit_test(reducer_local_sum_leaves_buffer),
        cmocka_unit_test(learner_report_nonzero_cancelled),
        cmocka_unit_test(linear_objective_logistic_gradient_central_difference),
        cmocka_unit_test(linear_objective_squared_gradient_central_difference),
        cmocka_unit_test(linear_objective_softmax_gradient_central_difference),
        cmocka_unit_test(linear_objective_unknown_kind_invalid),
        cmocka_unit_test(logistic_lbfgs_matches_newton_and_sklearn),
        cmocka_unit_test(logistic_weighted_matches_newton_and_sklearn),
        cmocka_unit_test(logistic_adagrad_long_run_near_newton),
        cmocka_unit_test(softmax_three_classes_match_newton_and_sklearn),
        cmocka_unit_test(linear_recovers_known_coefficients),
        cmocka_unit_test(logistic_l1_noise_weights_exactly_zero),
        cmocka_unit_test(minibatch_same_seed_identical_other_seed_differs),
        cmocka_unit_test(lbfgs_same_model_for_any_thread_count),
        cmocka_unit_test(newton_matches_lbfgs_optimum),
        cmocka_unit_test(newton_few_iterations_and_refusals),
        cmocka_unit_test(reducer_sums_pass_through_and_dense_path_agrees),
        cmocka_unit_test(progress_per_epoch_with_validation_auc),
        cmocka_unit_test(fit_cancelled_by_progress_returns_cancelled),
        cmocka_unit_test(early_stopping_restores_best_epoch),
        cmocka_unit_test(save_load_round_trip_identical_predictions),
        cmocka_unit_test(explain_base_plus_contributions_is_score),
        cmocka_unit_test(load_truncated_buffer_corrupt),
        cmocka_unit_test(load_bad_counts_corrupt),
        cmocka_unit_test(fit_bad_inputs_refused),
        cmocka_unit_test(fit_allocation_failures_nomem_no_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
