/*
 * models/optim.c - SGD, AdaGrad and Adam steps with lazy sparse updates;
 * L-BFGS with a strong Wolfe line search. optim.h states the maths.
 *
 * Lazy bookkeeping: `step` counts the steps since the last sync and a
 * coordinate's "last" slot the step at which it was last brought up to
 * date, so at step s a touched coordinate first catches up the
 * s - 1 - last steps it skipped. Steps are kept as doubles (exact to
 * 2^53) beside the coordinate's other state.
 *
 * L-BFGS keeps s and y in two m x n ring buffers (the newest pair at
 * `head - 1`); x, g are the accepted iterate, xt, gt the line search's
 * trial point, d the direction.
 */
#include "models/optim.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

/* ---- first-order steps -------------------------------------------------- */

/* Slots of a coordinate's state: the accumulator (AdaGrad G, Adam v) and
 * the first moment (Adam m) or gradient sum (dual s), then the dual
 * anchor; a lazy mode keeps the last step in the slot after G (AdaGrad)
 * or in slot 0 (SGD). */
enum { SLOT_ACC = 0, SLOT_MOM = 1, SLOT_ANCHOR = 2 };

static bool is_dual(const struct lift_optim_config *cfg)
{
    return cfg->kind == LIFT_OPT_ADAGRAD && cfg->l1 > 0 && cfg->n_reg > 0;
}

static bool is_lazy(const struct lift_optim_config *cfg)
{
    return cfg->kind != LIFT_OPT_ADAM && !is_dual(cfg) && cfg->n_reg > 0 &&
           (cfg->l1 > 0 || cfg->l2 > 0);
}

static size_t stride_of(const struct lift_optim_config *cfg)
{
    if (cfg->kind == LIFT_OPT_ADAM)
        return 2;
    if (is_dual(cfg))
        return 3;
    return (cfg->kind == LIFT_OPT_ADAGRAD ? 1u : 0u) + (is_lazy(cfg) ? 1u : 0u);
}

size_t lift_optim_state_bytes(const struct lift_optim_config *cfg, size_t n)
{
    size_t bytes;
    if (lift_mul_overflow(stride_of(cfg) * sizeof(double), n, &bytes))
        return SIZE_MAX;
    return bytes;
}

static bool bad_number(double v)
{
    return !isfinite(v) || v < 0;
}

enum lift_code lift_optim_init(struct lift_optim *o,
                               const struct lift_optim_config *cfg, size_t n,
                               struct lift_error *err)
{
    memset(o, 0, sizeof *o);
    if (cfg->kind != LIFT_OPT_SGD && cfg->kind != LIFT_OPT_ADAGRAD &&
        cfg->kind != LIFT_OPT_ADAM)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "not a first-order optimizer: %d",
                              (int)cfg->kind);
    if (bad_number(cfg->l1) || bad_number(cfg->l2) || !isfinite(cfg->lr) ||
        !isfinite(cfg->decay) || cfg->n_reg > n)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "bad optimizer settings: lr %g, decay %g, "
                              "l1 %g, l2 %g",
                              cfg->lr, cfg->decay, cfg->l1, cfg->l2);
    o->kind = cfg->kind;
    o->l1 = cfg->l1;
    o->l2 = cfg->l2;
    o->n = n;
    o->n_reg = cfg->n_reg;
    o->dual = is_dual(cfg);
    o->lazy = is_lazy(cfg);
    o->stride = stride_of(cfg);
    switch (cfg->kind) {
    case LIFT_OPT_SGD:
        o->lr = cfg->lr > 0 ? cfg->lr : LIFT_SGD_LR;
        o->decay = cfg->decay >= 0 ? cfg->decay : LIFT_SGD_DECAY;
        break;
    case LIFT_OPT_ADAGRAD:
        o->lr = cfg->lr > 0 ? cfg->lr : LIFT_ADAGRAD_LR;
        break;
    default:
        o->lr = cfg->lr > 0 ? cfg->lr : LIFT_ADAM_LR;
        break;
    }
    o->eta = o->lr;
    if (!o->stride)
        return LIFT_OK;
    if (!(o->st = lift_calloc(n, o->stride * sizeof *o->st)))
        return lift_error_nomem(err, "optimizer state");
    if (cfg->kind == LIFT_OPT_ADAGRAD)
        for (size_t i = 0; i < n; i++)
            o->st[i * o->stride + SLOT_ACC] = LIFT_ADAGRAD_INIT;
    return LIFT_OK;
}

void lift_optim_release(struct lift_optim *o)
{
    lift_free(o->st);
    o->st = NULL;
}

/* The rate of coordinate i (state si) under SGD or AdaGrad. */
static double rate_of(const struct lift_optim *o, const double *si)
{
    if (o->kind == LIFT_OPT_ADAGRAD)
        return o->lr / (sqrt(si[SLOT_ACC]) + LIFT_OPTIM_EPS);
    return o->eta;
}

/* The lazy modes' "last step" slot. */
static double *last_of(const struct lift_optim *o, double *si)
{
    return si + o->stride - 1;
}

/* k regularisation-only steps of rate eta on x, in closed form. */
static double shrink(const struct lift_optim *o, double x, double eta, double k)
{
    double c = eta * o->l2, b = eta * o->l1, ax = fabs(x), r;
    if (c >= 1.0)
        return 0.0;
    if (c == 0.0) {
        r = ax - k * b;
    } else if (k == 1) {
        r = ax * (1.0 - c) - b;
    } else {
        double e = expm1(k * log1p(-c)); /* a^k - 1 */
        r = ax * (1.0 + e) + b * e / c;
    }
    return r > 0 ? copysign(r, x) : 0.0;
}

/* Dual averaging: the minimiser over x of
 *     s x + t l1 |x| + t l2 x^2 / 2 + (H / 2 lr) (x - a)^2
 * (no l1, l2 terms for an unregularised coordinate). */
static double dual_value(const struct lift_optim *o, const double *si, bool reg)
{
    double h = (sqrt(si[SLOT_ACC]) + LIFT_OPTIM_EPS) / o->lr;
    double u = h * si[SLOT_ANCHOR] - si[SLOT_MOM];
    if (!reg)
        return u / h;
    double t = (double)o->t, r = fabs(u) - t * o->l1;
    return r > 0 ? copysign(r, u) / (h + t * o->l2) : 0.0;
}

void lift_optim_sync(struct lift_optim *o, double *x)
{
    for (size_t i = 0; i < o->n_reg && (o->lazy || o->dual); i++) {
        double *si = o->st + i * o->stride;
        if (o->dual) {
            if (o->t)
                x[i] = dual_value(o, si, true);
            continue;
        }
        double *last = last_of(o, si), k = (double)o->step - *last;
        if (k > 0)
            x[i] = shrink(o, x[i], rate_of(o, si), k);
        *last = 0;
    }
    o->step = 0;
}

void lift_optim_epoch(struct lift_optim *o, double *x, unsigned epoch)
{
    lift_optim_sync(o, x);
    if (o->kind == LIFT_OPT_SGD)
        o->eta = o->lr / (1.0 + o->decay * (double)epoch);
}

void lift_optim_next(struct lift_optim *o, double *x)
{
    if (o->dual && o->t == 0)
        for (size_t i = 0; i < o->n; i++)
            o->st[i * o->stride + SLOT_ANCHOR] = x[i];
    o->step++;
    o->t++;
    if (o->kind == LIFT_OPT_ADAM) {
        double t = (double)o->t;
        o->adam_a = o->lr * sqrt(1.0 - pow(LIFT_ADAM_BETA2, t)) /
                    (1.0 - pow(LIFT_ADAM_BETA1, t));
    }
}

/* x - eta g with decay factor (1 - eta l2), then the L1 prox. */
static double reg_step(const struct lift_optim *o, double x, double eta,
                       double g)
{
    double a = fmax(1.0 - eta * o->l2, 0.0);
    double y = a * x - eta * g, t = eta * o->l1;
    if (t == 0.0)
        return y;
    double r = fabs(y) - t;
    return r > 0 ? copysign(r, y) : 0.0;
}

static double adam_step(struct lift_optim *o, double *si, double x, double g,
                        bool reg)
{
    double gg = reg ? g + o->l2 * x : g;
    double m = LIFT_ADAM_BETA1 * si[SLOT_MOM] + (1.0 - LIFT_ADAM_BETA1) * gg;
    double v =
        LIFT_ADAM_BETA2 * si[SLOT_ACC] + (1.0 - LIFT_ADAM_BETA2) * gg * gg;
    si[SLOT_MOM] = m;
    si[SLOT_ACC] = v;
    double eta = o->adam_a / (sqrt(v) + LIFT_OPTIM_EPS);
    double y = x - eta * m;
    if (!reg || o->l1 == 0.0)
        return y;
    double r = fabs(y) - eta * o->l1;
    return r > 0 ? copysign(r, y) : 0.0;
}

void lift_optim_update(struct lift_optim *o, double *x, size_t i, double g)
{
    bool reg = i < o->n_reg;
    double *si = o->st ? o->st + i * o->stride : NULL;
    if (o->kind == LIFT_OPT_ADAM) {
        x[i] = adam_step(o, si, x[i], g, reg);
        return;
    }
    if (o->dual) {
        si[SLOT_MOM] += g;
        si[SLOT_ACC] += g * g;
        x[i] = dual_value(o, si, reg);
        return;
    }
    if (reg && o->lazy) {
        double *last = last_of(o, si), k = (double)o->step - 1.0 - *last;
        if (k > 0)
            x[i] = shrink(o, x[i], rate_of(o, si), k);
        *last = (double)o->step;
    }
    if (o->kind == LIFT_OPT_ADAGRAD)
        si[SLOT_ACC] += g * g;
    double eta = rate_of(o, si);
    x[i] = reg ? reg_step(o, x[i], eta, g) : x[i] - eta * g;
}

void lift_optim_update_dense(struct lift_optim *o, double *x, size_t from,
                             const double *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lift_optim_update(o, x, from + i, g[i]);
}

/* ---- L-BFGS ------------------------------------------------------------- */

#define LBFGS_C1 1e-4
#define LBFGS_C2 0.9

struct lbfgs {
    size_t n, m;
    lift_objective_fn fn;
    void *ctx;
    double *x, *g, *d, *xt, *gt, *s, *y, *rho, *alpha;
    size_t head, count; /* ring buffer of pairs */
    unsigned evals, max_ls;
    double f;
};

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* f and the directional derivative at x + a d (trial point in xt, gt).
 * A non-finite value counts as +inf (too far). */
static enum lift_code eval_at(struct lbfgs *L, double a, double *f, double *dg,
                              struct lift_error *err)
{
    for (size_t i = 0; i < L->n; i++)
        L->xt[i] = L->x[i] + a * L->d[i];
    L->evals++;
    enum lift_code rc = L->fn(L->ctx, L->xt, f, L->gt, err);
    if (rc)
        return rc;
    *dg = dot(L->gt, L->d, L->n);
    if (!isfinite(*f) || !isfinite(*dg)) {
        *f = INFINITY;
        *dg = NAN;
    }
    return LIFT_OK;
}

/* The minimiser of the cubic through (a, fa, ga), (b, fb, gb), kept in
 * the inner 80% of the interval (its midpoint when the cubic has none). */
static double interpolate(double a, double fa, double ga, double b, double fb,
                          double gb)
{
    double lo = fmin(a, b), hi = fmax(a, b), pad = 0.1 * (hi - lo);
    double d1 = ga + gb - 3.0 * (fa - fb) / (a - b);
    double disc = d1 * d1 - ga * gb;
    double t = NAN;
    if (disc >= 0 && isfinite(disc)) {
        double d2 = copysign(sqrt(disc), b - a);
        t = b - (b - a) * (gb + d2 - d1) / (gb - ga + 2.0 * d2);
    }
    if (!isfinite(t))
        return 0.5 * (a + b);
    return fmin(fmax(t, lo + pad), hi - pad);
}

struct point {
    double a, f, dg;
};

/*
 * Strong Wolfe line search from x along d (dg0 = g'd < 0). On success
 * *ok is true and xt, gt, *ft hold the accepted point. When the budget
 * runs out, the best point with sufficient decrease is re-evaluated and
 * accepted if there is one; else *ok is false (numerical floor).
 */
static enum lift_code line_search(struct lbfgs *L, double a0, double dg0,
                                  double *ft, bool *ok, struct lift_error *err)
{
    enum lift_code rc = LIFT_OK;
    double f0 = L->f, curv = -LBFGS_C2 * dg0;
    struct point prev = {0.0, f0, dg0}, lo, hi, cur;
    bool zoom = false;
    unsigned used = 0;
    *ok = false;

    cur.a = a0;
    while (used < L->max_ls) {
        used++;
        if ((rc = eval_at(L, cur.a, &cur.f, &cur.dg, err)))
            goto done;
        if (cur.f > f0 + LBFGS_C1 * cur.a * dg0 ||
            (used > 1 && cur.f >= prev.f)) {
            lo = prev;
            hi = cur;
            zoom = true;
            break;
        }
        if (fabs(cur.dg) <= curv)
            goto accept;
        if (cur.dg >= 0) {
            lo = cur;
            hi = prev;
            zoom = true;
            break;
        }
        prev = cur;
        cur.a *= 2.0;
    }
    if (!zoom) {
        lo = prev; /* the budget ran out while extrapolating */
        hi = prev;
    }
    while (zoom && used < L->max_ls) {
        if (!(fabs(hi.a - lo.a) > 1e-16 * fmax(lo.a, hi.a)))
            break;
        used++;
        cur.a = interpolate(lo.a, lo.f, lo.dg, hi.a, hi.f, hi.dg);
        if ((rc = eval_at(L, cur.a, &cur.f, &cur.dg, err)))
            goto done;
        if (cur.f > f0 + LBFGS_C1 * cur.a * dg0 || cur.f >= lo.f) {
            hi = cur;
            continue;
        }
        if (fabs(cur.dg) <= curv)
            goto accept;
        if (cur.dg * (hi.a - lo.a) >= 0)
            hi = lo;
        lo = cur;
    }
    /* Out of budget or interval: fall back on sufficient decrease. */
    if (lo.a > 0 && lo.f < f0) {
        cur = lo;
        if ((rc = eval_at(L, cur.a, &cur.f, &cur.dg, err)))
            goto done;
        if (cur.f < f0)
            goto accept;
    }
    goto done;
accept:
    *ft = cur.f;
    *ok = true;
done:
    return rc;
}

/* d = -H g by the two-loop recursion over the stored pairs. */
static void direction(struct lbfgs *L)
{
    size_t n = L->n, m = L->m;
    for (size_t i = 0; i < n; i++)
        L->d[i] = -L->g[i];
    if (!L->count)
        return;
    for (size_t c = 0; c < L->count; c++) { /* newest first */
        size_t j = (L->head + m - 1 - c) % m;
        L->alpha[j] = L->rho[j] * dot(L->s + j * n, L->d, n);
        const double *yj = L->y + j * n;
        for (size_t i = 0; i < n; i++)
            L->d[i] -= L->alpha[j] * yj[i];
    }
    size_t newest = (L->head + m - 1) % m;
    const double *yn = L->y + newest * n;
    double gamma = 1.0 / (L->rho[newest] * dot(yn, yn, n));
    for (size_t i = 0; i < n; i++)
        L->d[i] *= gamma;
    for (size_t c = L->count; c-- > 0;) { /* oldest first */
        size_t j = (L->head + m - 1 - c) % m;
        double beta = L->rho[j] * dot(L->y + j * n, L->d, n);
        const double *sj = L->s + j * n;
        for (size_t i = 0; i < n; i++)
            L->d[i] += (L->alpha[j] - beta) * sj[i];
    }
}

/* Stores the pair of the step x -> xt, then moves x, g to xt, gt. */
static void accept_step(struct lbfgs *L, double ft)
{
    size_t n = L->n;
    double *s = L->s + L->head * n, *y = L->y + L->head * n;
    double sy = 0.0, yy = 0.0;
    for (size_t i = 0; i < n; i++) {
        s[i] = L->xt[i] - L->x[i];
        y[i] = L->gt[i] - L->g[i];
        sy += s[i] * y[i];
        yy += y[i] * y[i];
    }
    if (sy > 0 && yy > 0 && isfinite(sy) && isfinite(yy)) {
        L->rho[L->head] = 1.0 / sy;
        L->head = (L->head + 1) % L->m;
        if (L->count < L->m)
            L->count++;
    }
    memcpy(L->x, L->xt, n * sizeof *L->x);
    memcpy(L->g, L->gt, n * sizeof *L->g);
    L->f = ft;
}

enum lift_code lift_lbfgs(size_t n, double *x, lift_objective_fn fn,
                          lift_lbfgs_iter_fn iter, void *ctx,
                          const struct lift_lbfgs_params *params,
                          struct lift_lbfgs_result *res, struct lift_error *err)
{
    struct lift_lbfgs_params p = {0};
    if (params)
        p = *params;
    struct lbfgs L = {.n = n, .fn = fn, .ctx = ctx, .x = x};
    L.m = p.m ? p.m : 10;
    L.max_ls = p.max_ls ? p.max_ls : 25;
    unsigned max_iter = p.max_iter ? p.max_iter : 500;
    double tol = p.tol > 0 ? p.tol : 1e-6;
    double ftol = p.ftol > 0 ? p.ftol : p.ftol < 0 ? 0.0 : DBL_EPSILON;
    struct lift_lbfgs_result r = {0};
    enum lift_code rc = LIFT_OK;
    double *block = NULL;

    size_t per, total;
    if (lift_mul_overflow(2 * L.m + 4, n, &per) ||
        lift_add_overflow(per, 2 * L.m, &total) ||
        !(block = lift_malloc_array(total, sizeof *block))) {
        rc = lift_error_nomem(err, "l-bfgs memory");
        goto done;
    }
    L.g = block;
    L.d = L.g + n;
    L.xt = L.d + n;
    L.gt = L.xt + n;
    L.s = L.gt + n;
    L.y = L.s + L.m * n;
    L.rho = L.y + L.m * n;
    L.alpha = L.rho + L.m;

    L.evals++;
    if ((rc = fn(ctx, x, &L.f, L.g, err)))
        goto done;
    double gnorm = sqrt(dot(L.g, L.g, n));
    if (!isfinite(L.f) || !isfinite(gnorm)) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "objective not finite at the starting point");
        goto done;
    }
    double gstop = tol * fmax(gnorm, 1e-300);
    r.stop = LIFT_LBFGS_GTOL;
    while (gnorm > gstop) {
        if (r.iterations >= max_iter) {
            r.stop = LIFT_LBFGS_MAX_ITER;
            break;
        }
        direction(&L);
        double dg = dot(L.g, L.d, n), a0 = 1.0;
        if (!(dg < 0)) { /* lost descent to rounding: restart */
            L.count = 0;
            direction(&L);
            dg = dot(L.g, L.d, n);
        }
        if (!L.count)
            a0 = 1.0 / sqrt(-dg); /* ||d|| = ||g||: first step of length 1 */
        double ft, f_before = L.f;
        bool ok;
        if ((rc = line_search(&L, a0, dg, &ft, &ok, err)))
            goto done;
        if (!ok) {
            r.stop = LIFT_LBFGS_LINE_SEARCH;
            break;
        }
        accept_step(&L, ft);
        r.iterations++;
        gnorm = sqrt(dot(L.g, L.g, n));
        if (iter) {
            bool stop = false;
            if ((rc = iter(ctx, r.iterations, x, L.f, gnorm, &stop, err)))
                goto done;
            if (stop) {
                r.stop = LIFT_LBFGS_STOPPED;
                break;
            }
        }
        double scale = fmax(fmax(fabs(f_before), fabs(L.f)), 1.0);
        if (gnorm > gstop && f_before - L.f <= ftol * scale) {
            r.stop = LIFT_LBFGS_FTOL;
            break;
        }
    }
    r.f = L.f;
    r.gnorm = gnorm;
done:
    r.evaluations = L.evals;
    if (res)
        *res = r;
    lift_free(block);
    return rc;
}
