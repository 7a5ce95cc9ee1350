/*
 * tests/unit/test_optim.c - first-order steps and L-BFGS (models/optim.c).
 *
 * Single steps are checked against values worked out by hand (Python for
 * the roots); lazy sparse updates against the dense updates they stand
 * for; L-BFGS against problems with known minima: a convex quadratic
 * (solution x*, b = A x*), the Rosenbrock function (minimum at 1), a
 * barrier whose first step lands outside the domain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "models/optim.h"

static void assert_rel(double a, double b, double rel)
{
    if (!(fabs(a - b) <= rel * fmax(fabs(b), 1e-300)))
        fail_msg("%.17g != %.17g (relative %g)", a, b, rel);
}

static void assert_close(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("%.17g != %.17g (tolerance %g)", a, b, tol);
}

static void optim_setup(struct lift_optim *o, enum lift_optimizer kind,
                        double lr, double l1, double l2, size_t n, size_t n_reg)
{
    struct lift_optim_config cfg = {.kind = kind,
                                    .lr = lr,
                                    .decay = -1,
                                    .l1 = l1,
                                    .l2 = l2,
                                    .n_reg = n_reg};
    struct lift_error err;
    assert_int_equal(lift_optim_init(o, &cfg, n, &err), LIFT_OK);
}

static void optim_update_sgd_plain_step_value(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_SGD, 0.1, 0, 0, 1, 1);
    double x = 1.0;
    lift_optim_next(&o, &x);
    lift_optim_update(&o, &x, 0, 0.5);
    assert_rel(x, 0.95, 1e-15);
    lift_optim_release(&o);
}

static void optim_update_sgd_l2_decays_weight(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_SGD, 0.1, 0, 0.1, 1, 1);
    double x = 1.0;
    lift_optim_next(&o, &x);
    lift_optim_update(&o, &x, 0, 0.5);
    assert_rel(x, 1.0 * (1 - 0.01) - 0.05, 1e-15); /* 0.94 */
    lift_optim_release(&o);
}

static void optim_update_l1_small_weight_exact_zero(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_SGD, 0.1, 1.0, 0, 2, 2);
    double x[2] = {0.03, 0.5};
    lift_optim_next(&o, x);
    lift_optim_update(&o, x, 0, 0.1); /* 0.02, then |.| - 0.1 < 0 */
    lift_optim_update(&o, x, 1, 0.0); /* 0.5 - 0.1 */
    assert_true(x[0] == 0.0 && !signbit(x[0]));
    assert_rel(x[1], 0.4, 1e-15);
    lift_optim_release(&o);
}

static void optim_update_bias_not_regularised(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_SGD, 0.1, 1.0, 1.0, 2, 1);
    double x[2] = {1.0, 1.0};
    for (int s = 0; s < 5; s++) {
        lift_optim_next(&o, x);
        lift_optim_update(&o, x, 1, 0.0);
    }
    lift_optim_sync(&o, x);
    assert_true(x[1] == 1.0);
    /* 5 steps of x <- 0.9 x - 0.1 from 1: 0.8 0.62 0.458 0.3122 0.18098 */
    assert_rel(x[0], 0.18098, 1e-14);
    lift_optim_release(&o);
}

static void optim_epoch_sgd_rate_decays(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_SGD, 0.1, 0, 0, 1, 1);
    double x = 0.0;
    lift_optim_epoch(&o, &x, 2); /* 0.1 / (1 + 0.5 * 2) */
    lift_optim_next(&o, &x);
    lift_optim_update(&o, &x, 0, 1.0);
    assert_rel(x, -0.05, 1e-15);
    lift_optim_release(&o);
}

static void optim_update_adagrad_first_step_value(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_ADAGRAD, 0.1, 0, 0, 1, 0);
    double x = 1.0;
    lift_optim_next(&o, &x);
    lift_optim_update(&o, &x, 0, 0.5);
    /* G = 0.1 + 0.25; 1 - 0.5 * 0.1 / (sqrt(0.35) + 1e-7) */
    assert_rel(x, 0.9154845888128602, 1e-15);
    lift_optim_release(&o);
}

static void optim_update_adam_first_step_value(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_ADAM, 0, 0, 0, 1, 0); /* lr 0.001 default */
    double x = 1.0;
    lift_optim_next(&o, &x);
    lift_optim_update(&o, &x, 0, 0.5);
    /* m 0.05, v 0.00025, a = 0.001 sqrt(0.001) / 0.1 */
    assert_rel(x, 0.9990000063245154, 1e-15);
    lift_optim_release(&o);
}

static void optim_update_adam_matches_plain_formula(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_ADAM, 0.01, 0, 0.2, 1, 1);
    const double g[] = {0.5, -0.25, 1.5, 0.0, -2.0};
    double x = 0.7, ref = 0.7, m = 0, v = 0;
    for (int t = 1; t <= 5; t++) {
        lift_optim_next(&o, &x);
        lift_optim_update(&o, &x, 0, g[t - 1]);
        double gg = g[t - 1] + 0.2 * ref;
        m = 0.9 * m + 0.1 * gg;
        v = 0.999 * v + 0.001 * gg * gg;
        double a = 0.01 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
        ref -= a * m / (sqrt(v) + 1e-7);
        assert_rel(x, ref, 1e-14);
    }
    lift_optim_release(&o);
}

static void optim_sync_applies_pending_decay(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_SGD, 0.1, 0, 0.1, 2, 2);
    double x[2] = {1.0, 1.0};
    for (int s = 0; s < 10; s++) {
        lift_optim_next(&o, x);
        lift_optim_update(&o, x, 1, 0.0);
    }
    assert_true(x[0] == 1.0); /* untouched: pending */
    lift_optim_sync(&o, x);
    assert_rel(x[0], pow(0.99, 10), 1e-14);
    assert_rel(x[1], pow(0.99, 10), 1e-14);
    lift_optim_release(&o);
}

/* Runs the same sparse gradient stream through lazy updates (touched
 * coordinates only) and dense ones (every coordinate, 0 if untouched). */
static void lazy_vs_dense(enum lift_optimizer kind, double l1, double l2,
                          double *worst, size_t *zeros)
{
    enum { N = 50, REG = 45, STEPS = 40, EPOCHS = 3 };
    struct lift_optim lazy, dense;
    optim_setup(&lazy, kind, 0.2, l1, l2, N, REG);
    optim_setup(&dense, kind, 0.2, l1, l2, N, REG);
    double a[N], b[N], g[N];
    struct lift_rng rng;
    lift_rng_seed(&rng, 99);
    for (size_t i = 0; i < N; i++)
        a[i] = b[i] = lift_rng_uniform(&rng) - 0.5;
    for (unsigned e = 0; e < EPOCHS; e++) {
        lift_optim_epoch(&lazy, a, e);
        lift_optim_epoch(&dense, b, e);
        for (int s = 0; s < STEPS; s++) {
            memset(g, 0, sizeof g);
            for (int t = 0; t < 5; t++)
                g[lift_rng_below(&rng, N)] = lift_rng_uniform(&rng) - 0.5;
            lift_optim_next(&lazy, a);
            lift_optim_next(&dense, b);
            for (size_t i = 0; i < N; i++)
                if (g[i] != 0.0)
                    lift_optim_update(&lazy, a, i, g[i]);
            lift_optim_update_dense(&dense, b, 0, g, N);
        }
    }
    lift_optim_sync(&lazy, a);
    lift_optim_sync(&dense, b);
    *worst = 0;
    *zeros = 0;
    for (size_t i = 0; i < N; i++) {
        *worst = fmax(*worst, fabs(a[i] - b[i]));
        *zeros += a[i] == 0.0 && b[i] == 0.0;
    }
    lift_optim_release(&lazy);
    lift_optim_release(&dense);
}

static void optim_update_lazy_sgd_equals_dense(void **state)
{
    (void)state;
    double worst;
    size_t zeros;
    lazy_vs_dense(LIFT_OPT_SGD, 0.02, 0.05, &worst, &zeros);
    assert_true(worst < 1e-13);
    assert_true(zeros >= 5);
}

static void optim_update_lazy_adagrad_l2_equals_dense(void **state)
{
    (void)state;
    double worst;
    size_t zeros;
    lazy_vs_dense(LIFT_OPT_ADAGRAD, 0, 0.05, &worst, &zeros);
    assert_true(worst < 1e-13);
    assert_int_equal(zeros, 0);
}

static void optim_update_lazy_adagrad_dual_equals_dense(void **state)
{
    (void)state;
    double worst;
    size_t zeros;
    lazy_vs_dense(LIFT_OPT_ADAGRAD, 0.02, 0.05, &worst, &zeros);
    assert_true(worst == 0.0); /* the same formula on the same sums */
    assert_true(zeros >= 5);
}

static void optim_update_adagrad_dual_threshold_grows_with_steps(void **state)
{
    (void)state;
    struct lift_optim o;
    optim_setup(&o, LIFT_OPT_ADAGRAD, 0.5, 0.1, 0, 2, 1);
    double x[2] = {0.0, 1.0};
    /* step 1: s = 0.5, G = 0.35, H = (sqrt(0.35) + 1e-7) / 0.5:
     * x = -(0.5 - 1 * 0.1) / H */
    lift_optim_next(&o, x);
    lift_optim_update(&o, x, 0, 0.5);
    lift_optim_update(&o, x, 1, 0.5);
    assert_rel(x[0], -0.3380616447485592, 1e-15);
    assert_rel(x[1], 1.0 - 0.3380616447485592 * 0.5 / 0.4, 1e-15);
    lift_optim_next(&o, x); /* untouched: the threshold is now 0.2 */
    lift_optim_sync(&o, x);
    assert_rel(x[0], -0.25354623356141937, 1e-15);
    lift_optim_next(&o, x);
    lift_optim_next(&o, x);
    lift_optim_next(&o, x);
    lift_optim_sync(&o, x); /* t = 5: 0.5 - 0.5 = 0 */
    assert_true(x[0] == 0.0);
    assert_rel(x[1], 1.0 - 0.3380616447485592 * 0.5 / 0.4, 1e-15);
    lift_optim_release(&o);

    optim_setup(&o, LIFT_OPT_ADAGRAD, 0.5, 0.1, 0.2, 1, 1);
    x[0] = 0.0;
    lift_optim_next(&o, x);
    lift_optim_update(&o, x, 0, 0.5);
    assert_rel(x[0], -0.2891811218988755, 1e-15); /* / (H + 0.2) */
    lift_optim_next(&o, x);
    lift_optim_sync(&o, x);
    assert_rel(x[0], -0.18948770750324012, 1e-15); /* 0.3 / (H + 0.4) */
    lift_optim_release(&o);
}

static void optim_init_bad_settings_invalid(void **state)
{
    (void)state;
    struct lift_optim o;
    struct lift_error err;
    struct lift_optim_config cfg = {.kind = LIFT_OPT_LBFGS};
    assert_int_equal(lift_optim_init(&o, &cfg, 4, &err), LIFT_ERR_INVALID);
    cfg = (struct lift_optim_config){.kind = LIFT_OPT_SGD, .l1 = -1};
    assert_int_equal(lift_optim_init(&o, &cfg, 4, &err), LIFT_ERR_INVALID);
    cfg = (struct lift_optim_config){.kind = LIFT_OPT_ADAM, .l2 = NAN};
    assert_int_equal(lift_optim_init(&o, &cfg, 4, &err), LIFT_ERR_INVALID);
    cfg = (struct lift_optim_config){.kind = LIFT_OPT_SGD, .n_reg = 5};
    assert_int_equal(lift_optim_init(&o, &cfg, 4, &err), LIFT_ERR_INVALID);
    lift_optim_release(&o);
}

static void optim_state_bytes_per_kind(void **state)
{
    (void)state;
    struct lift_optim_config cfg = {.kind = LIFT_OPT_SGD, .n_reg = 10};
    assert_int_equal(lift_optim_state_bytes(&cfg, 10), 0);
    cfg.l2 = 0.1; /* lazy: the last step */
    assert_int_equal(lift_optim_state_bytes(&cfg, 10), 80);
    cfg.kind = LIFT_OPT_ADAGRAD; /* G and the last step */
    assert_int_equal(lift_optim_state_bytes(&cfg, 10), 160);
    cfg.l1 = 0.1; /* dual averaging: G, s, anchor */
    assert_int_equal(lift_optim_state_bytes(&cfg, 10), 240);
    cfg.kind = LIFT_OPT_ADAM;
    assert_int_equal(lift_optim_state_bytes(&cfg, 10), 160);
    cfg.n_reg = 0; /* nothing regularised: no dual form, no lazy state */
    cfg.kind = LIFT_OPT_ADAGRAD;
    assert_int_equal(lift_optim_state_bytes(&cfg, 10), 80);
}

/* ---- L-BFGS ------------------------------------------------------------- */

struct problem {
    int calls;
    int fail_at; /* objective call that fails, 0: none */
    int stop_at; /* iteration that asks to stop, 0: none */
    int cancel_at;
};

#define QN 6
static const double qx[QN] = {1.0, -2.0, 3.0, 0.5, -1.0, 2.0};

/* A x with A tridiagonal (4 on the diagonal, -1 beside): SPD. */
static void tri_mul(const double *x, double *out)
{
    for (size_t i = 0; i < QN; i++) {
        out[i] = 4.0 * x[i];
        if (i > 0)
            out[i] -= x[i - 1];
        if (i + 1 < QN)
            out[i] -= x[i + 1];
    }
}

/* f = x'Ax / 2 - b'x with b = A qx: the minimum is qx. */
static enum lift_code quadratic(void *ctx, const double *x, double *f,
                                double *g, struct lift_error *err)
{
    struct problem *p = ctx;
    if (++p->calls == p->fail_at)
        return lift_error_set(err, LIFT_ERR_IO, "objective failed");
    double ax[QN], b[QN];
    tri_mul(x, ax);
    tri_mul(qx, b);
    *f = 0;
    for (size_t i = 0; i < QN; i++) {
        *f += 0.5 * x[i] * ax[i] - b[i] * x[i];
        g[i] = ax[i] - b[i];
    }
    return LIFT_OK;
}

static enum lift_code rosenbrock_n(void *ctx, const double *x, size_t n,
                                   double *f, double *g)
{
    struct problem *p = ctx;
    p->calls++;
    *f = 0;
    memset(g, 0, n * sizeof *g);
    for (size_t i = 0; i + 1 < n; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
        *f += 100 * a * a + b * b;
        g[i] += -400 * x[i] * a - 2 * b;
        g[i + 1] += 200 * a;
    }
    return LIFT_OK;
}

static enum lift_code rosenbrock2(void *ctx, const double *x, double *f,
                                  double *g, struct lift_error *err)
{
    (void)err;
    return rosenbrock_n(ctx, x, 2, f, g);
}

static enum lift_code rosenbrock20(void *ctx, const double *x, double *f,
                                   double *g, struct lift_error *err)
{
    (void)err;
    return rosenbrock_n(ctx, x, 20, f, g);
}

static enum lift_code on_iter(void *ctx, unsigned iter, const double *x,
                              double f, double gnorm, bool *stop,
                              struct lift_error *err)
{
    struct problem *p = ctx;
    (void)x;
    assert_true(isfinite(f) && gnorm >= 0);
    if (p->cancel_at && (int)iter == p->cancel_at)
        return lift_error_set(err, LIFT_ERR_CANCELLED, "training cancelled");
    *stop = p->stop_at && (int)iter == p->stop_at;
    return LIFT_OK;
}

static void lbfgs_quadratic_reaches_solution(void **state)
{
    (void)state;
    struct problem p = {0};
    struct lift_lbfgs_params lp = {.tol = 1e-12};
    struct lift_lbfgs_result res;
    struct lift_error err;
    double x[QN] = {0};
    assert_int_equal(lift_lbfgs(QN, x, quadratic, on_iter, &p, &lp, &res, &err),
                     LIFT_OK);
    /* f resolves x to about sqrt(eps): 1e-8, not the gradient's 1e-12 */
    for (size_t i = 0; i < QN; i++)
        assert_close(x[i], qx[i], 1e-7);
    assert_true(res.iterations <= 20);
    assert_int_equal(res.evaluations, p.calls);
    assert_rel(res.f, -47.5, 1e-12); /* -x*'A x* / 2, x*'A x* = 95 */
}

static void lbfgs_rosenbrock_reaches_minimum(void **state)
{
    (void)state;
    struct problem p = {0};
    struct lift_lbfgs_params lp = {.tol = 1e-10};
    struct lift_lbfgs_result res;
    struct lift_error err;
    double x[2] = {-1.2, 1.0};
    assert_int_equal(lift_lbfgs(2, x, rosenbrock2, NULL, &p, &lp, &res, &err),
                     LIFT_OK);
    assert_close(x[0], 1.0, 1e-7);
    assert_close(x[1], 1.0, 1e-7);
    assert_true(res.f < 1e-14);
    assert_true(res.iterations < 100);
}

static void lbfgs_rosenbrock_20d_reaches_minimum(void **state)
{
    (void)state;
    struct problem p = {0};
    struct lift_lbfgs_params lp = {.tol = 1e-10, .max_iter = 1000};
    struct lift_lbfgs_result res;
    struct lift_error err;
    double x[20];
    for (size_t i = 0; i < 20; i++)
        x[i] = i % 2 ? 1.0 : -1.2;
    assert_int_equal(lift_lbfgs(20, x, rosenbrock20, NULL, &p, &lp, &res, &err),
                     LIFT_OK);
    for (size_t i = 0; i < 20; i++)
        assert_close(x[i], 1.0, 1e-6);
}

static void lbfgs_same_problem_bit_identical(void **state)
{
    (void)state;
    struct problem p = {0};
    struct lift_error err;
    double x[20], y[20];
    for (size_t i = 0; i < 20; i++)
        x[i] = y[i] = i % 2 ? 1.0 : -1.2;
    assert_int_equal(
        lift_lbfgs(20, x, rosenbrock20, NULL, &p, NULL, NULL, &err), LIFT_OK);
    assert_int_equal(
        lift_lbfgs(20, y, rosenbrock20, NULL, &p, NULL, NULL, &err), LIFT_OK);
    assert_memory_equal(x, y, sizeof x);
}

static void lbfgs_callback_stop_ends_run(void **state)
{
    (void)state;
    struct problem p = {.stop_at = 3};
    struct lift_lbfgs_result res;
    struct lift_error err;
    double x[2] = {-1.2, 1.0};
    assert_int_equal(
        lift_lbfgs(2, x, rosenbrock2, on_iter, &p, NULL, &res, &err), LIFT_OK);
    assert_int_equal(res.iterations, 3);
    assert_int_equal(res.stop, LIFT_LBFGS_STOPPED);
    assert_true(x[0] != -1.2);
}

static void lbfgs_callback_error_returned(void **state)
{
    (void)state;
    struct problem p = {.cancel_at = 2};
    struct lift_error err;
    double x[2] = {-1.2, 1.0};
    assert_int_equal(
        lift_lbfgs(2, x, rosenbrock2, on_iter, &p, NULL, NULL, &err),
        LIFT_ERR_CANCELLED);
    assert_string_equal(err.msg, "training cancelled");
}

static void lbfgs_objective_error_propagates(void **state)
{
    (void)state;
    struct problem p = {.fail_at = 3};
    struct lift_error err;
    double x[QN] = {0};
    assert_int_equal(lift_lbfgs(QN, x, quadratic, NULL, &p, NULL, NULL, &err),
                     LIFT_ERR_IO);
    assert_string_equal(err.msg, "objective failed");
    assert_int_equal(p.calls, 3);
}

static void lbfgs_max_iter_caps_iterations(void **state)
{
    (void)state;
    struct problem p = {0};
    struct lift_lbfgs_params lp = {.max_iter = 2};
    struct lift_lbfgs_result res;
    struct lift_error err;
    double x[2] = {-1.2, 1.0};
    assert_int_equal(lift_lbfgs(2, x, rosenbrock2, NULL, &p, &lp, &res, &err),
                     LIFT_OK);
    assert_int_equal(res.iterations, 2);
    assert_int_equal(res.stop, LIFT_LBFGS_MAX_ITER);
    assert_true(res.f < 24.2); /* below f(-1.2, 1) */
}

/* f = x - 0.01 log x on x > 0 (+inf elsewhere): minimum at 0.01; from
 * 0.5 the first unit step lands at -0.48, outside the domain. */
static enum lift_code barrier(void *ctx, const double *x, double *f, double *g,
                              struct lift_error *err)
{
    (void)ctx;
    (void)err;
    *f = x[0] > 0 ? x[0] - 0.01 * log(x[0]) : INFINITY;
    g[0] = x[0] > 0 ? 1 - 0.01 / x[0] : NAN;
    return LIFT_OK;
}

static void lbfgs_step_outside_domain_backtracks(void **state)
{
    (void)state;
    struct lift_lbfgs_params lp = {.tol = 1e-10};
    struct lift_lbfgs_result res;
    struct lift_error err;
    double x = 0.5;
    assert_int_equal(lift_lbfgs(1, &x, barrier, NULL, NULL, &lp, &res, &err),
                     LIFT_OK);
    assert_close(x, 0.01, 1e-9);
}

static void lbfgs_nonfinite_start_invalid(void **state)
{
    (void)state;
    struct lift_error err;
    double x = -1.0;
    assert_int_equal(lift_lbfgs(1, &x, barrier, NULL, NULL, NULL, NULL, &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "objective not finite at the starting point");
}

static void lbfgs_zero_gradient_start_no_iterations(void **state)
{
    (void)state;
    struct problem p = {0};
    struct lift_lbfgs_result res;
    struct lift_error err;
    double x[QN];
    memcpy(x, qx, sizeof x);
    assert_int_equal(lift_lbfgs(QN, x, quadratic, NULL, &p, NULL, &res, &err),
                     LIFT_OK);
    assert_int_equal(res.iterations, 0);
    assert_int_equal(res.evaluations, 1);
    assert_memory_equal(x, qx, sizeof x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(optim_update_sgd_plain_step_value),
        cmocka_unit_test(optim_update_sgd_l2_decays_weight),
        cmocka_unit_test(optim_update_l1_small_weight_exact_zero),
        cmocka_unit_test(optim_update_bias_not_regularised),
        cmocka_unit_test(optim_epoch_sgd_rate_decays),
        cmocka_unit_test(optim_update_adagrad_first_step_value),
        cmocka_unit_test(optim_update_adam_first_step_value),
        cmocka_unit_test(optim_update_adam_matches_plain_formula),
        cmocka_unit_test(optim_sync_applies_pending_decay),
        cmocka_unit_test(optim_update_lazy_sgd_equals_dense),
        cmocka_unit_test(optim_update_lazy_adagrad_l2_equals_dense),
        cmocka_unit_test(optim_update_lazy_adagrad_dual_equals_dense),
        cmocka_unit_test(optim_update_adagrad_dual_threshold_grows_with_steps),
        cmocka_unit_test(optim_init_bad_settings_invalid),
        cmocka_unit_test(optim_state_bytes_per_kind),
        cmocka_unit_test(lbfgs_quadratic_reaches_solution),
        cmocka_unit_test(lbfgs_rosenbrock_reaches_minimum),
        cmocka_unit_test(lbfgs_rosenbrock_20d_reaches_minimum),
        cmocka_unit_test(lbfgs_same_problem_bit_identical),
        cmocka_unit_test(lbfgs_callback_stop_ends_run),
        cmocka_unit_test(lbfgs_callback_error_returned),
        cmocka_unit_test(lbfgs_objective_error_propagates),
        cmocka_unit_test(lbfgs_max_iter_caps_iterations),
        cmocka_unit_test(lbfgs_step_outside_domain_backtracks),
        cmocka_unit_test(lbfgs_nonfinite_start_invalid),
        cmocka_unit_test(lbfgs_zero_gradient_start_no_iterations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
