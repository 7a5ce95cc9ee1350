/*
 * models/optim.h - optimizers over one dense parameter vector x[0..n):
 * first-order steps (SGD, AdaGrad, Adam) that accept sparse ("lazy")
 * updates, and full-batch L-BFGS over an objective callback.
 *
 * First-order steps. A training step is lift_optim_next, then
 * lift_optim_update (or lift_optim_update_dense) once for each coordinate
 * the batch's data gradient touches. Coordinates [0, n_reg) carry the
 * regulariser (l2/2) ||x||^2 + l1 ||x||_1; the others (biases) do not.
 * At one step, for a regularised coordinate with data gradient g and the
 * coordinate's rate eta:
 *
 *     x <- x - eta (g + l2 x)                 (L2 as weight decay)
 *     x <- sign(x) max(|x| - eta l1, 0)       (proximal L1: exact zeros)
 *
 *   SGD      eta = lr / (1 + decay e) in epoch e (0-based; set by
 *            lift_optim_epoch), constant within an epoch.
 *   AdaGrad  G += g^2 (data gradient only), eta = lr / (sqrt(G) + eps),
 *            G starting at 0.1 (Keras' initial accumulator).
 *   Adam     m = b1 m + (1 - b1) g', v = b2 v + (1 - b2) g'^2 with
 *            g' = g + l2 x; a = lr sqrt(1 - b2^t) / (1 - b1^t) with t the
 *            global step; x <- x - a m / (sqrt(v) + eps); then the L1
 *            prox with eta = a / (sqrt(v) + eps) (Keras' form of the bias
 *            correction, eps outside the root; b1 0.9, b2 0.999, eps 1e-7).
 *
 * AdaGrad with l1 > 0 takes its dual-averaging form instead (Duchi, Hazan
 * and Singer 2011, sec. 5.1; FTRL-Proximal without the centring term):
 * with s the sum of the coordinate's data gradients, G as above,
 * H = (sqrt(G) + eps) / lr, t the steps so far and a the value at the
 * first step,
 *     x = S(H a - s, t l1) / (H + t l2),   S(u, c) = sign(u) max(|u| - c, 0)
 * (x = a - s / H for a bias). The threshold acts on the summed gradient,
 * not on one noisy batch, so a weight whose mean gradient stays under l1
 * is exactly 0: on a 12-feature test set (10 noise features, batch 32,
 * l1 0.01) this form gave the exact support of the true optimum while
 * the greedy prox step after each batch left 8 noise weights non-zero
 * and a worse objective. An untouched coordinate changes only through
 * t, so lazy updates are exact: x is recomputed when touched or synced.
 *
 * Sparse updates. A coordinate the batch does not touch has g = 0. For
 * SGD and AdaGrad its rate does not change while untouched, so the steps
 * it missed are applied in closed form when it is next touched (or at
 * lift_optim_sync): k steps of x <- S(x (1 - c), b) with c = eta l2,
 * b = eta l1 give, until |x| reaches 0 where it stays,
 *     |x_k| = a^k |x| - b (1 - a^k) / c,   a = 1 - c
 * (|x| - k b when c = 0), with a^k - 1 = expm1(k log1p(-c)). So lazy updates
 * equal the dense ones up to rounding: exact. eta l2 >= 1 is outside the
 * stable range; it sets the coordinate to 0 rather than let it oscillate.
 * Adam is lazy as TF's LazyAdam: an untouched coordinate keeps x, m and v
 * as they are (no moment decay, no regularisation) until it is touched;
 * with update_dense every step (the MLP's dense layers) it is exact Adam.
 * So on wide sparse rows Adam regularises a feature only when it occurs:
 * on a 2^20-wide hashed set (33k rows, l2 1e-4) it drove the training
 * loss to 0.0005 where the regularised optimum has 0.146. Use AdaGrad
 * (exact lazy regularisation) for such data.
 *
 * The caller owns x; the optimizer keeps per-coordinate state, the
 * values of one coordinate side by side so that an update touches one
 * cache line (on 2^20-wide hashed rows the state does not fit in cache
 * and separate arrays cost a miss each): AdaGrad G, Adam v and m, dual
 * averaging G, s and a; SGD and AdaGrad with a regulariser also the step
 * of the coordinate's last update. 0 to 3 doubles per coordinate. A step
 * costs O(touched coordinates). Not thread-safe; deterministic (no randomness,
 * fixed operation order).
 *
 * L-BFGS (Nocedal and Wright, Algorithms 7.4, 3.5, 3.6). From x it keeps
 * the last m pairs s = x+ - x, y = g+ - g and gets the direction d = -H g
 * by the two-loop recursion with H0 = (s'y / y'y) I. A line search along
 * d finds a step meeting the strong Wolfe conditions
 *     f(x + a d) <= f(x) + c1 a g'd,   |g(x + a d)'d| <= c2 |g'd|
 * (c1 1e-4, c2 0.9) by bracketing (doubling) and zooming with safeguarded
 * cubic interpolation. The first step is scaled to length 1. It stops when
 * ||g|| <= tol * max(||g0||, 1e-300) (relative to the start; LIBLINEAR's
 * rule), when the relative decrease of f falls under ftol, after max_iter
 * iterations, or when no step satisfies the search (numerical floor: x is
 * then the best point seen). Deterministic: no randomness, no threads
 * (the objective may use threads if its own sums are ordered).
 */
#ifndef LIFT_MODELS_OPTIM_H
#define LIFT_MODELS_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#include "models/learner.h"

/* Defaults (the values a config's 0 / negative fields take): Keras'
 * rates; learners pass their own where those do not suit them. */
#define LIFT_SGD_LR 0.01
#define LIFT_SGD_DECAY 0.5
#define LIFT_ADAGRAD_LR 0.001
#define LIFT_ADAGRAD_INIT 0.1
#define LIFT_ADAM_LR 0.001
#define LIFT_ADAM_BETA1 0.9
#define LIFT_ADAM_BETA2 0.999
#define LIFT_OPTIM_EPS 1e-7

struct lift_optim_config {
    enum lift_optimizer kind; /* LIFT_OPT_SGD, _ADAGRAD or _ADAM */
    double lr;                /* <= 0: the kind's default */
    double decay;             /* SGD epoch decay; < 0: default, 0: none */
    double l1, l2;            /* >= 0 */
    size_t n_reg;             /* x[0..n_reg) are regularised */
};

struct lift_optim {
    enum lift_optimizer kind;
    double lr, decay, l1, l2;
    size_t n, n_reg;
    double eta;    /* SGD: the rate of the current epoch */
    bool dual;     /* AdaGrad with l1: dual averaging */
    bool lazy;     /* SGD / AdaGrad catching up skipped regularisation */
    size_t stride; /* state doubles per coordinate, interleaved */
    double *st;    /* n * stride; NULL when stride is 0 */
    uint64_t step; /* steps since the last sync (lazy bookkeeping) */
    uint64_t t;    /* steps in all */
    double adam_a; /* Adam: a of the current step */
};

/* Bytes of state lift_optim_init will allocate for n coordinates. */
size_t lift_optim_state_bytes(const struct lift_optim_config *cfg, size_t n);

/*
 * Sets o up for x[0..n) (n_reg <= n). LIFT_ERR_INVALID for another kind
 * or a negative or non-finite l1, l2 or lr; LIFT_ERR_NOMEM. On failure o
 * holds nothing to release (release is still safe).
 */
enum lift_code lift_optim_init(struct lift_optim *o,
                               const struct lift_optim_config *cfg, size_t n,
                               struct lift_error *err);
void lift_optim_release(struct lift_optim *o);

/* Brings every coordinate up to date (the pending regularisation of
 * skipped steps) and sets the SGD rate of epoch `epoch` (0-based). Call
 * before each epoch. O(n). */
void lift_optim_epoch(struct lift_optim *o, double *x, unsigned epoch);

/* Applies every pending regularisation step, so x is what dense updates
 * would have given. Call before reading x (validation, saving). O(n). */
void lift_optim_sync(struct lift_optim *o, double *x);

/* Starts a step. */
void lift_optim_next(struct lift_optim *o, double *x);

/* Updates x[i] with data gradient g at the current step; at most once
 * per coordinate per step. */
void lift_optim_update(struct lift_optim *o, double *x, size_t i, double g);

/* Updates x[from..from+n) with g[0..n). */
void lift_optim_update_dense(struct lift_optim *o, double *x, size_t from,
                             const double *g, size_t n);

/* ---- L-BFGS -------------------------------------------------------- */

/* f(x) into *f and its gradient into g[0..n). A non-OK code aborts the
 * minimisation with that code. */
typedef enum lift_code (*lift_objective_fn)(void *ctx, const double *x,
                                            double *f, double *g,
                                            struct lift_error *err);

/* After iteration `iter` (1-based) at x with value f and gradient norm
 * gnorm. Setting *stop ends the run successfully (early stopping); a
 * non-OK code aborts with it (cancellation). */
typedef enum lift_code (*lift_lbfgs_iter_fn)(void *ctx, unsigned iter,
                                             const double *x, double f,
                                             double gnorm, bool *stop,
                                             struct lift_error *err);

struct lift_lbfgs_params {
    size_t m;          /* pairs kept; 0: 10 */
    unsigned max_iter; /* 0: 500 */
    double tol;        /* relative gradient norm; <= 0: 1e-6 */
    double ftol;       /* relative decrease of f; 0: DBL_EPSILON; < 0: off */
    unsigned max_ls;   /* evaluations per line search; 0: 25 */
};

enum lift_lbfgs_stop {
    LIFT_LBFGS_GTOL = 0, /* gradient norm under tolerance */
    LIFT_LBFGS_FTOL,     /* no relative progress in f */
    LIFT_LBFGS_MAX_ITER,
    LIFT_LBFGS_LINE_SEARCH, /* no acceptable step: numerical floor */
    LIFT_LBFGS_STOPPED,     /* the iteration callback asked to stop */
};

struct lift_lbfgs_result {
    unsigned iterations;
    unsigned evaluations; /* calls of the objective */
    double f, gnorm;      /* at the returned x */
    enum lift_lbfgs_stop stop;
};

/*
 * Minimises fn from x[0..n) in place. iter may be NULL; params NULL means
 * all defaults; res may be NULL. On LIFT_OK x is the final (or, after a
 * line-search failure, the best) point. Errors: the objective's or the
 * callback's code (x then holds the last accepted iterate),
 * LIFT_ERR_INVALID when f(x0) or its gradient is not finite,
 * LIFT_ERR_NOMEM. Memory: (2m + 4) n doubles.
 */
enum lift_code lift_lbfgs(size_t n, double *x, lift_objective_fn fn,
                          lift_lbfgs_iter_fn iter, void *ctx,
                          const struct lift_lbfgs_params *params,
                          struct lift_lbfgs_result *res,
                          struct lift_error *err);

#endif
