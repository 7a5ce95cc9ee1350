/*
 * models/linear.c - logistic, linear and softmax regression over sparse
 * rows.
 *
 * Parameters: K outputs (1, or the class count), n inputs. The weights
 * live in one vector of (n + 1) K doubles, feature-major so that a
 * sparse entry (j, v) touches the K contiguous weights w[j K .. j K + K);
 * the K biases follow at w[n K ..]. Scores: z_c = b_c + sum_j v_j w[j K + c].
 *
 * Objective (W the total row weight, l the loss of models/loss.h):
 *     F(w) = (1 / W) sum_i w_i l(z_i, y_i) + (l2 / 2) ||w||^2 + l1 ||w||_1
 *     dF/dw[j K + c] = (1 / W) sum_i w_i v_ij dl/dz_ic + l2 w[j K + c]
 * (the biases have no penalty). It is convex; with l2 > 0 strictly so.
 *
 * Solvers. L-BFGS (models/optim.h) on the full batch when l1 == 0: each
 * evaluation is one pass over the rows, on one thread. (Row blocks on
 * two threads were measured and dropped: on a 2^20-wide hashed set each
 * thread needs its own 8 MB gradient and the sum of them one more pass,
 * 40% slower; on bank-sized rows the best of 400 interleaved evaluations
 * was 11% faster, a few ms of a fit that takes 0.1 s of a 0.7 s `lift
 * train`. One thread also makes the model the same for any --threads.)
 * With l1 > 0
 * (or when asked) minibatch steps: rows shuffled each epoch by the seeded
 * rng, batch gradient (1 / (B w_mean)) sum_batch w_i grad l_i (an unbiased
 * estimate of the full one, w_mean = W / n), and lazy per-coordinate
 * updates (models/optim.h: L2 as decay; L1 by AdaGrad's dual averaging,
 * or a proximal step for SGD and Adam, with exact zeros). Every
 * sum over rows (gradients, losses, weights, validation loss) goes
 * through the reducer, so a data-parallel backend sums across workers.
 *
 * Biases start at the link of the base rate (logit of the positive
 * share, mean target, log class shares), which saves the first steps.
 * Validation: loss each epoch (each L-BFGS iteration when early stopping
 * is on); the best weights are kept and the fit stops after `patience`
 * epochs without improvement. Progress goes out once per epoch, every
 * 10 L-BFGS iterations, and at the end.
 *
 * Cost per pass: O(nnz K). Memory (P = (n + 1) K doubles): L-BFGS
 * (2 m + 6) P; minibatch 2 P plus the optimizer's 0-3 P.
 */
#include "models/linear.h"

#include <math.h>
#include <string.h>

#include <lift/metrics.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/loss.h"
#include "models/optim.h"

#define DEFAULT_BATCH 32
#define DEFAULT_EPOCHS 10
#define DEFAULT_ITERATIONS 500
#define DEFAULT_TOL 1e-6
/* Rates measured on standardised data (tests/unit/test_linear.c's l1
 * set and the bank-sized benchmark): larger than Keras' defaults, which
 * suit deep nets, not a convex model with a few epochs. */
#define DEFAULT_LR_SGD 0.5
#define DEFAULT_LR_ADAGRAD 0.5
#define DEFAULT_LR_ADAM 0.01
#define REPORT_EVERY 10
#define MAX_INPUTS ((uint64_t)UINT32_MAX + 1)
#define MAX_OUTPUTS ((uint64_t)1 << 16)

enum loss_kind {
    LOSS_LOGISTIC,
    LOSS_SQUARED,
    LOSS_SOFTMAX,
};

static const char *const kind_names[] = {"logistic", "linear", "softmax"};
static const char *const metric_names[] = {"auc", "rmse", "accuracy"};
static const enum lift_task kind_tasks[] = {
    LIFT_TASK_BINARY, LIFT_TASK_REGRESSION, LIFT_TASK_MULTICLASS};

struct linear {
    size_t n_in, k;
    double *w; /* (n_in + 1) * k */
};

/* Scores z[0..k) of one row. Entries past the input width (which the
 * pipeline never makes) are ignored rather than read out of bounds. One
 * output, the common case, sums in a register: through z the compiler
 * must store every partial sum (z may alias w), which measured 2x slower
 * on bank-sized rows. */
static void scores(const double *w, size_t n_in, size_t k, const uint32_t *idx,
                   const float *val, size_t nnz, double *z)
{
    const double *bias = w + n_in * k;
    if (k == 1) {
        double s = bias[0];
        for (size_t e = 0; e < nnz; e++)
            if (idx[e] < n_in)
                s += w[idx[e]] * (double)val[e];
        z[0] = s;
        return;
    }
    for (size_t c = 0; c < k; c++)
        z[c] = bias[c];
    for (size_t e = 0; e < nnz; e++) {
        if (idx[e] >= n_in)
            continue;
        const double *wj = w + (size_t)idx[e] * k;
        double v = val[e];
        for (size_t c = 0; c < k; c++)
            z[c] += wj[c] * v;
    }
}

/* out[j k + c] += v_j gz[c] over the row's entries, biases included. */
static void scatter(double *out, size_t n_in, size_t k, const uint32_t *idx,
                    const float *val, size_t nnz, const double *gz)
{
    if (k == 1) {
        double g = gz[0];
        for (size_t e = 0; e < nnz; e++)
            if (idx[e] < n_in)
                out[idx[e]] += (double)val[e] * g;
        out[n_in] += g;
        return;
    }
    for (size_t e = 0; e < nnz; e++) {
        if (idx[e] >= n_in)
            continue;
        double *gj = out + (size_t)idx[e] * k, v = val[e];
        for (size_t c = 0; c < k; c++)
            gj[c] += v * gz[c];
    }
    for (size_t c = 0; c < k; c++)
        out[n_in * k + c] += gz[c];
}

static double row_loss(enum loss_kind kind, const double *z, size_t k, double y,
                       double wt, double *gz)
{
    switch (kind) {
    case LOSS_LOGISTIC:
        return lift_loss_logistic(z[0], y, wt, gz);
    case LOSS_SQUARED:
        return lift_loss_squared(z[0], y, wt, gz);
    default:
        return lift_loss_softmax(z, k, (size_t)y, wt, gz);
    }
}

/* ---- training context --------------------------------------------------- */

struct fit {
    enum loss_kind kind;
    const struct lift_train_data *d;
    const struct lift_train_params *p;
    const struct lift_reducer *red;
    size_t n_in, k, n_par, n_reg;
    double l1, l2;
    double wsum, wmean; /* training weight over all workers */
    double vwsum;       /* validation weight over all workers */
    double vw_local;    /* validation weight of this worker */
    unsigned epochs;    /* epochs, or the L-BFGS iteration cap */
    double *sums;       /* L-BFGS: n_par gradient sums, then the loss sum */
    double *z;          /* 2k: scores and their gradient */
    double data_loss;   /* L-BFGS: mean loss at the last evaluation */
    double iter_loss;   /* ... at the last accepted iterate */
    unsigned reported;  /* last L-BFGS iteration reported */
    double *vz;         /* validation scores, n_valid x k */
    uint8_t *vlab;      /* binary validation labels, for the AUC */
    double *best;       /* best weights (early stopping), else NULL */
    double best_loss;
    unsigned stale; /* epochs since the best */
};

static double row_weight(const double *w, size_t r)
{
    return w ? w[r] : 1.0;
}

static enum lift_code report(const struct fit *F, unsigned epoch, double loss,
                             double vloss, double vmetric,
                             struct lift_error *err)
{
    struct lift_progress pr = {
        .stage = "fit",
        .epoch = epoch,
        .epochs = F->epochs,
        .loss = loss,
        .valid_loss = vloss,
        .valid_metric = vmetric,
        .metric = metric_names[F->kind],
    };
    return lift_learner_report(F->p, &pr, err);
}

/* Validation loss at weights w (summed over workers) and, when metric is
 * not NULL, the metric on this worker's rows. */
static enum lift_code validate(struct fit *F, const double *w, double *vloss,
                               double *metric, struct lift_error *err)
{
    const struct lift_csr *vx = F->d->vx;
    const double *vy = F->d->vy, *vw = F->d->vw;
    size_t k = F->k, nv = vx->n_rows;
    double sum[1] = {0.0};
    for (size_t r = 0; r < nv; r++) {
        uint64_t s = vx->indptr[r], e = vx->indptr[r + 1];
        double *z = F->vz + r * k;
        scores(w, F->n_in, k, vx->idx + s, vx->val + s, (size_t)(e - s), z);
        sum[0] += row_loss(F->kind, z, k, vy[r], row_weight(vw, r), NULL);
    }
    enum lift_code rc = F->red->sum(F->red->ctx, sum, 1, err);
    if (rc)
        return rc;
    *vloss = sum[0] / F->vwsum;
    if (!metric)
        return LIFT_OK;
    if (F->kind == LOSS_LOGISTIC)
        return lift_auc(F->vlab, F->vz, vw, nv, metric, err);
    if (F->kind == LOSS_SQUARED) {
        *metric = sqrt(2.0 * *vloss);
        return LIFT_OK;
    }
    double right = 0.0;
    for (size_t r = 0; r < nv; r++) {
        const double *z = F->vz + r * k;
        size_t top = 0;
        for (size_t c = 1; c < k; c++)
            if (z[c] > z[top])
                top = c;
        if ((double)top == vy[r])
            right += row_weight(vw, r);
    }
    *metric = right / F->vw_local;
    return LIFT_OK;
}

/* Keeps the best weights; true once `patience` epochs passed without a
 * better validation loss. */
static bool track_best(struct fit *F, const double *w, double vloss)
{
    if (!F->best)
        return false;
    if (vloss < F->best_loss) {
        F->best_loss = vloss;
        memcpy(F->best, w, F->n_par * sizeof *w);
        F->stale = 0;
        return false;
    }
    return ++F->stale >= F->p->patience;
}

/* ---- full batch: L-BFGS ------------------------------------------------- */

/* The data term of F at w: the n_par gradient sums and then the loss
 * sum over all rows into F->sums. */
static void data_sums(struct fit *F, const double *w)
{
    const struct lift_csr *x = F->d->x;
    const double *y = F->d->y, *rw = F->d->w;
    size_t k = F->k, n_in = F->n_in;
    double *out = F->sums, *z = F->z, *gz = F->z + k, loss = 0.0;
    memset(out, 0, (F->n_par + 1) * sizeof *out);
    for (size_t r = 0; r < x->n_rows; r++) {
        uint64_t s = x->indptr[r], e = x->indptr[r + 1];
        const uint32_t *idx = x->idx + s;
        const float *val = x->val + s;
        size_t nnz = (size_t)(e - s);
        scores(w, n_in, k, idx, val, nnz, z);
        loss += row_loss(F->kind, z, k, y[r], row_weight(rw, r), gz);
        scatter(out, n_in, k, idx, val, nnz, gz);
    }
    out[F->n_par] = loss;
}

static enum lift_code objective(void *ctx, const double *w, double *f,
                                double *g, struct lift_error *err)
{
    struct fit *F = ctx;
    double *sum = F->sums;
    data_sums(F, w);
    enum lift_code rc = F->red->sum(F->red->ctx, sum, F->n_par + 1, err);
    if (rc)
        return rc;
    double inv = 1.0 / F->wsum, sq = 0.0;
    for (size_t i = 0; i < F->n_reg; i++) {
        g[i] = sum[i] * inv + F->l2 * w[i];
        sq += w[i] * w[i];
    }
    for (size_t i = F->n_reg; i < F->n_par; i++)
        g[i] = sum[i] * inv;
    F->data_loss = sum[F->n_par] * inv;
    *f = F->data_loss + 0.5 * F->l2 * sq;
    return LIFT_OK;
}

static enum lift_code lbfgs_iter(void *ctx, unsigned iter, const double *w,
                                 double f, double gnorm, bool *stop,
                                 struct lift_error *err)
{
    struct fit *F = ctx;
    (void)f;
    (void)gnorm;
    enum lift_code rc = LIFT_OK;
    bool due = iter % REPORT_EVERY == 0;
    double vloss = NAN, vmetric = NAN;
    F->iter_loss = F->data_loss;
    if (F->d->vx && (due || F->best)) {
        if ((rc = validate(F, w, &vloss, due ? &vmetric : NULL, err)))
            return rc;
        *stop = track_best(F, w, vloss);
    }
    if (due || *stop) {
        if (!due && (rc = validate(F, w, &vloss, &vmetric, err)))
            return rc;
        F->reported = iter;
        rc = report(F, iter, F->iter_loss, vloss, vmetric, err);
    }
    return rc;
}

static enum lift_code fit_lbfgs(struct fit *F, double *w,
                                struct lift_error *err)
{
    struct lift_lbfgs_params lp = {
        .m = 10,
        .max_iter = F->epochs,
        .tol = F->p->tol > 0 ? F->p->tol : DEFAULT_TOL,
    };
    struct lift_lbfgs_result res;
    enum lift_code rc =
        lift_lbfgs(F->n_par, w, objective, lbfgs_iter, F, &lp, &res, err);
    if (rc || res.iterations == 0 || F->reported == res.iterations)
        return rc;
    double vloss = NAN, vmetric = NAN;
    if (F->d->vx && (rc = validate(F, w, &vloss, &vmetric, err)))
        return rc;
    return report(F, res.iterations, F->iter_loss, vloss, vmetric, err);
}

/* ---- full batch: Newton ------------------------------------------------- */

/*
 * For one output (logistic, linear) over a small feature space the exact
 * Hessian is cheap: H = (1 / W) sum_i w_i l''(z_i) x_i x_i^T + l2 I (the
 * bias unpenalised), built in the same pass as the gradient, costs
 * O(nnz^2) per row and one Cholesky solve of n_par^2 doubles per
 * iteration. Newton's method then converges in a handful of passes where
 * L-BFGS needs dozens on ill-conditioned one-hot data: on the bank split
 * (62 features) 6-8 passes against ~90 evaluations. A backtracking
 * (Armijo) line search on the full step keeps every iteration a descent.
 * Chosen by AUTO when l1 == 0, one output and n_par <= NEWTON_MAX_PARAMS.
 */
#define NEWTON_MAX_PARAMS 1024
#define NEWTON_MAX_ITER 50

/* Gradient sums, Hessian sums (upper triangle, row-major n_par x n_par)
 * and the loss sum at w, into F->sums / hess. */
static void newton_sums(struct fit *F, const double *w, double *hess)
{
    const struct lift_csr *x = F->d->x;
    const double *y = F->d->y, *rw = F->d->w;
    size_t n_in = F->n_in, np = F->n_par, bias = n_in;
    double *g = F->sums, loss = 0.0;
    memset(g, 0, (np + 1) * sizeof *g);
    memset(hess, 0, np * np * sizeof *hess);
    for (size_t r = 0; r < x->n_rows; r++) {
        uint64_t s = x->indptr[r], e = x->indptr[r + 1];
        const uint32_t *idx = x->idx + s;
        const float *val = x->val + s;
        size_t nnz = (size_t)(e - s);
        double z, gz, h, wt = row_weight(rw, r);
        scores(w, n_in, 1, idx, val, nnz, &z);
        if (F->kind == LOSS_LOGISTIC) {
            loss += lift_loss_logistic(z, y[r], wt, &gz);
            double pz = lift_sigmoid(z);
            h = wt * pz * (1.0 - pz);
        } else {
            loss += lift_loss_squared(z, y[r], wt, &gz);
            h = wt;
        }
        for (size_t a = 0; a < nnz; a++) {
            uint32_t ia = idx[a];
            if (ia >= n_in)
                continue;
            double va = val[a], hv = h * va;
            g[ia] += gz * va;
            double *row = hess + (size_t)ia * np;
            row[ia] += hv * va;
            for (size_t b = a + 1; b < nnz; b++) {
                uint32_t ib = idx[b];
                if (ib >= n_in)
                    continue;
                /* a repeated index (hash collision) meets itself twice */
                double add = hv * val[b] * (ia == ib ? 2.0 : 1.0);
                if (ib > ia)
                    row[ib] += add;
                else
                    hess[(size_t)ib * np + ia] += add;
            }
            row[bias] += hv; /* ia < bias always */
        }
        g[bias] += gz;
        hess[bias * np + bias] += h;
    }
    g[np] = loss;
}

/* Solves H x = b in place (b becomes x) by Cholesky of the upper
 * triangle; false when H is not positive definite. */
static bool cholesky_solve(double *hess, size_t n, double *b)
{
    /* factor H = U^T U in the upper triangle */
    for (size_t i = 0; i < n; i++) {
        double *ri = hess + i * n;
        for (size_t k = 0; k < i; k++) {
            double u = hess[k * n + i];
            ri[i] -= u * u;
        }
        if (!(ri[i] > 0))
            return false;
        ri[i] = sqrt(ri[i]);
        for (size_t j = i + 1; j < n; j++) {
            double sum = ri[j];
            for (size_t k = 0; k < i; k++)
                sum -= hess[k * n + i] * hess[k * n + j];
            ri[j] = sum / ri[i];
        }
    }
    for (size_t i = 0; i < n; i++) { /* U^T y = b */
        double sum = b[i];
        for (size_t k = 0; k < i; k++)
            sum -= hess[k * n + i] * b[k];
        b[i] = sum / hess[i * n + i];
    }
    for (size_t i = n; i-- > 0;) { /* U x = y */
        double sum = b[i];
        for (size_t k = i + 1; k < n; k++)
            sum -= hess[i * n + k] * b[k];
        b[i] = sum / hess[i * n + i];
    }
    return true;
}

static enum lift_code fit_newton(struct fit *F, double *w,
                                 struct lift_error *err)
{
    size_t np = F->n_par;
    double tol = F->p->tol > 0 ? F->p->tol : DEFAULT_TOL;
    unsigned max_iter = F->p->epochs ? F->p->epochs : NEWTON_MAX_ITER;
    double *hess = lift_malloc_array(np * np, sizeof *hess);
    double *grad = lift_malloc_array(np, sizeof *grad);
    double *step = lift_malloc_array(np, sizeof *step);
    double *trial = lift_malloc_array(np, sizeof *trial);
    double *tg = lift_malloc_array(np, sizeof *tg);
    enum lift_code rc = LIFT_OK;
    if (!hess || !grad || !step || !trial || !tg) {
        rc = lift_error_nomem(err, "Newton buffers");
        goto done;
    }
    F->epochs = max_iter;
    double g0 = 0.0;
    for (unsigned it = 1; it <= max_iter; it++) {
        newton_sums(F, w, hess);
        /* one reduction: gradient and loss, then the Hessian */
        if ((rc = F->red->sum(F->red->ctx, F->sums, np + 1, err)) ||
            (rc = F->red->sum(F->red->ctx, hess, np * np, err)))
            goto done;
        double inv = 1.0 / F->wsum, sq = 0.0, gn = 0.0;
        for (size_t i = 0; i < np; i++) {
            bool reg = i < F->n_reg;
            grad[i] = F->sums[i] * inv + (reg ? F->l2 * w[i] : 0.0);
            sq += reg ? w[i] * w[i] : 0.0;
            gn += grad[i] * grad[i];
            for (size_t j = i; j < np; j++)
                hess[i * np + j] *= inv;
            if (reg)
                hess[i * np + i] += F->l2;
        }
        double f = F->sums[np] * inv + 0.5 * F->l2 * sq;
        F->iter_loss = F->sums[np] * inv;
        gn = sqrt(gn);
        if (it == 1)
            g0 = gn > 0 ? gn : 1.0;
        double vloss = NAN, vmetric = NAN;
        bool stop = false;
        if (F->d->vx) {
            if ((rc = validate(F, w, &vloss, &vmetric, err)))
                goto done;
            stop = track_best(F, w, vloss);
        }
        if ((rc = report(F, it, F->iter_loss, vloss, vmetric, err)))
            goto done;
        if (stop || gn <= tol * g0)
            break;
        for (size_t i = 0; i < np; i++)
            step[i] = -grad[i];
        if (!cholesky_solve(hess, np, step)) {
            /* singular (no L2, a feature without rows): plain gradient */
            for (size_t i = 0; i < np; i++)
                step[i] = -grad[i];
        }
        double slope = 0.0;
        for (size_t i = 0; i < np; i++)
            slope += grad[i] * step[i];
        double t = 1.0, ft = f;
        for (int ls = 0; ls < 30; ls++, t *= 0.5) {
            for (size_t i = 0; i < np; i++)
                trial[i] = w[i] + t * step[i];
            if ((rc = objective(F, trial, &ft, tg, err)))
                goto done;
            if (ft <= f + 1e-4 * t * slope)
                break;
        }
        if (!(ft < f)) /* no descent left: at the optimum to rounding */
            break;
        memcpy(w, trial, np * sizeof *w);
    }
done:
    lift_free(hess);
    lift_free(grad);
    lift_free(step);
    lift_free(trial);
    lift_free(tg);
    return rc;
}

/* ---- minibatch: SGD, AdaGrad, Adam -------------------------------------- */

struct batch_buf {
    uint32_t *order;   /* row visiting order */
    uint8_t *mark;     /* n_in: feature touched in this batch */
    uint32_t *touched; /* the touched features, first-seen order */
    size_t cap;        /* capacity of touched */
    double *grad;      /* n_par + 3: gradient sums, loss, weight, rows */
    double *packed;    /* (cap + 1) k + 3 for the local reducer */
};

static void batch_buf_release(struct batch_buf *b)
{
    lift_free(b->order);
    lift_free(b->mark);
    lift_free(b->touched);
    lift_free(b->grad);
    lift_free(b->packed);
    memset(b, 0, sizeof *b);
}

static enum lift_code batch_buf_init(struct batch_buf *b, const struct fit *F,
                                     size_t batch, struct lift_error *err)
{
    const struct lift_csr *x = F->d->x;
    size_t widest = 0, k = F->k;
    memset(b, 0, sizeof *b);
    for (size_t r = 0; r < x->n_rows; r++) {
        size_t nnz = (size_t)(x->indptr[r + 1] - x->indptr[r]);
        if (nnz > widest)
            widest = nnz;
    }
    if (lift_mul_overflow(widest, batch, &b->cap) || b->cap > F->n_in)
        b->cap = F->n_in;
    b->order = lift_malloc_array(x->n_rows, sizeof *b->order);
    b->mark = lift_calloc(F->n_in ? F->n_in : 1, 1);
    b->touched = lift_malloc_array(b->cap ? b->cap : 1, sizeof *b->touched);
    b->grad = lift_calloc(F->n_par + 3, sizeof *b->grad);
    b->packed = lift_malloc_array((b->cap + 1) * k + 3, sizeof *b->packed);
    if (!b->order || !b->mark || !b->touched || !b->grad || !b->packed)
        return lift_error_nomem(err, "minibatch buffers"); /* caller frees */
    for (size_t r = 0; r < x->n_rows; r++)
        b->order[r] = (uint32_t)r;
    return LIFT_OK;
}

/* Accumulates rows order[from..to) into b->grad; returns how many
 * features were touched. */
static size_t batch_sums(const struct fit *F, const double *w,
                         struct batch_buf *b, size_t from, size_t to, double *z)
{
    const struct lift_csr *x = F->d->x;
    const double *y = F->d->y, *rw = F->d->w;
    size_t k = F->k, n_in = F->n_in, nt = 0;
    double *gz = z + k, *grad = b->grad, loss = 0.0, wsum = 0.0;
    for (size_t q = from; q < to; q++) {
        size_t r = b->order[q];
        uint64_t s = x->indptr[r], e = x->indptr[r + 1];
        const uint32_t *idx = x->idx + s;
        const float *val = x->val + s;
        size_t nnz = (size_t)(e - s);
        double wt = row_weight(rw, r);
        scores(w, n_in, k, idx, val, nnz, z);
        loss += row_loss(F->kind, z, k, y[r], wt, gz);
        wsum += wt;
        for (size_t a = 0; a < nnz; a++) {
            uint32_t j = idx[a];
            if (j < n_in && !b->mark[j]) {
                b->mark[j] = 1;
                b->touched[nt++] = j;
            }
        }
        scatter(grad, n_in, k, idx, val, nnz, gz);
    }
    grad[F->n_par] = loss;
    grad[F->n_par + 1] = wsum;
    grad[F->n_par + 2] = (double)(to - from);
    return nt;
}

/* Sums the batch over workers: the touched entries only when there is
 * one worker (the same numbers, a fraction of the traffic), the whole
 * vector otherwise, since other workers touch other features. */
static enum lift_code batch_reduce(const struct fit *F, struct batch_buf *b,
                                   size_t nt, struct lift_error *err)
{
    size_t k = F->k;
    if (F->red->size > 1)
        return F->red->sum(F->red->ctx, b->grad, F->n_par + 3, err);
    double *p = b->packed;
    for (size_t t = 0; t < nt; t++)
        memcpy(p + t * k, b->grad + (size_t)b->touched[t] * k, k * sizeof *p);
    memcpy(p + nt * k, b->grad + F->n_reg, (k + 3) * sizeof *p);
    size_t len = (nt + 1) * k + 3;
    enum lift_code rc = F->red->sum(F->red->ctx, p, len, err);
    if (rc)
        return rc;
    for (size_t t = 0; t < nt; t++)
        memcpy(b->grad + (size_t)b->touched[t] * k, p + t * k, k * sizeof *p);
    memcpy(b->grad + F->n_reg, p + nt * k, (k + 3) * sizeof *p);
    return LIFT_OK;
}

/* One optimizer step from the summed batch gradient; clears it. */
static void batch_step(const struct fit *F, struct lift_optim *o, double *w,
                       struct batch_buf *b, size_t nt)
{
    size_t k = F->k;
    double *grad = b->grad;
    double scale = 1.0 / (grad[F->n_par + 2] * F->wmean);
    lift_optim_next(o, w);
    if (F->red->size > 1) {
        for (size_t j = 0; j < F->n_in; j++) {
            double *gj = grad + j * k;
            bool any = false;
            for (size_t c = 0; c < k; c++)
                any = any || gj[c] != 0.0;
            for (size_t c = 0; any && c < k; c++) {
                lift_optim_update(o, w, j * k + c, gj[c] * scale);
                gj[c] = 0.0;
            }
        }
        for (size_t t = 0; t < nt; t++)
            b->mark[b->touched[t]] = 0;
    } else {
        for (size_t t = 0; t < nt; t++) {
            size_t j = b->touched[t];
            for (size_t c = 0; c < k; c++) {
                lift_optim_update(o, w, j * k + c, grad[j * k + c] * scale);
                grad[j * k + c] = 0.0;
            }
            b->mark[j] = 0;
        }
    }
    for (size_t c = 0; c < k; c++) {
        lift_optim_update(o, w, F->n_reg + c, grad[F->n_reg + c] * scale);
        grad[F->n_reg + c] = 0.0;
    }
}

static enum lift_code fit_minibatch(struct fit *F, double *w,
                                    enum lift_optimizer kind,
                                    struct lift_error *err)
{
    const struct lift_train_params *p = F->p;
    size_t n = F->d->x->n_rows;
    size_t batch = p->batch ? p->batch : DEFAULT_BATCH;
    if (batch > n)
        batch = n;
    double lr = kind == LIFT_OPT_SGD       ? DEFAULT_LR_SGD
                : kind == LIFT_OPT_ADAGRAD ? DEFAULT_LR_ADAGRAD
                                           : DEFAULT_LR_ADAM;
    struct lift_optim_config cfg = {
        .kind = kind,
        .lr = p->lr > 0 ? p->lr : lr,
        .decay = -1.0,
        .l1 = F->l1,
        .l2 = F->l2,
        .n_reg = F->n_reg,
    };
    struct lift_optim o = {0};
    struct batch_buf b = {0};
    struct lift_rng rng;
    enum lift_code rc;
    if ((rc = lift_optim_init(&o, &cfg, F->n_par, err)) ||
        (rc = batch_buf_init(&b, F, batch, err)))
        goto done;
    lift_rng_seed(&rng, p->seed);
    for (unsigned epoch = 0; epoch < F->epochs; epoch++) {
        lift_optim_epoch(&o, w, epoch);
        lift_rng_shuffle(&rng, b.order, n);
        double loss = 0.0, wsum = 0.0;
        for (size_t from = 0; from < n; from += batch) {
            size_t to = from + batch < n ? from + batch : n;
            size_t nt = batch_sums(F, w, &b, from, to, F->z);
            if ((rc = batch_reduce(F, &b, nt, err)))
                goto done;
            loss += b.grad[F->n_par];
            wsum += b.grad[F->n_par + 1];
            batch_step(F, &o, w, &b, nt);
        }
        lift_optim_sync(&o, w);
        double vloss = NAN, vmetric = NAN;
        bool stop = false;
        if (F->d->vx) {
            if ((rc = validate(F, w, &vloss, &vmetric, err)))
                goto done;
            stop = track_best(F, w, vloss);
        }
        if ((rc = report(F, epoch + 1, loss / wsum, vloss, vmetric, err)))
            goto done;
        if (stop)
            break;
    }
done:
    lift_optim_release(&o);
    batch_buf_release(&b);
    return rc;
}

/* ---- fit ---------------------------------------------------------------- */

static enum lift_code check_data(enum loss_kind kind, size_t k,
                                 const struct lift_train_data *d,
                                 struct lift_error *err)
{
    if (!d || !d->x || !d->y || !d->x->n_rows)
        return lift_error_set(err, LIFT_ERR_INVALID, "no training rows");
    if (d->x->n_cols > MAX_INPUTS)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "%zu features exceed the limit of %llu",
                              d->x->n_cols, (unsigned long long)MAX_INPUTS);
    if (d->x->n_rows > UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "%zu training rows exceed the limit of %u",
                              d->x->n_rows, UINT32_MAX);
    enum lift_code rc = lift_loss_check_rows(kind_tasks[kind], k, d->y, d->w,
                                             d->x->n_rows, "training", err);
    if (rc || !d->vx)
        return rc;
    if (!d->vy || d->vx->n_cols != d->x->n_cols)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "validation rows have %zu features, training "
                              "rows %zu",
                              d->vx->n_cols, d->x->n_cols);
    return lift_loss_check_rows(kind_tasks[kind], k, d->vy, d->vw,
                                d->vx->n_rows, "validation", err);
}

/* Totals over all workers; the biases at the base rate into bias[0..k)
 * when bias is not NULL. */
static enum lift_code setup_totals(struct fit *F, double *bias,
                                   struct lift_error *err)
{
    const struct lift_train_data *d = F->d;
    size_t k = F->k, n = d->x->n_rows;
    double *t = lift_calloc(k + 3, sizeof *t);
    if (!t)
        return lift_error_nomem(err, "training totals");
    for (size_t r = 0; r < n; r++) {
        double wt = row_weight(d->w, r);
        t[0] += wt;
        if (F->kind == LOSS_SOFTMAX)
            t[3 + (size_t)d->y[r]] += wt;
        else
            t[3] += wt * d->y[r];
    }
    t[1] = (double)n;
    if (d->vx) {
        for (size_t r = 0; r < d->vx->n_rows; r++)
            F->vw_local += row_weight(d->vw, r);
        t[2] = F->vw_local;
    }
    enum lift_code rc = F->red->sum(F->red->ctx, t, k + 3, err);
    if (rc)
        goto done;
    if (!(t[0] > 0) || (d->vx && !(t[2] > 0))) {
        rc = lift_error_set(err, LIFT_ERR_INVALID, "%s rows weigh 0 in all",
                            t[0] > 0 ? "validation" : "training");
        goto done;
    }
    F->wsum = t[0];
    F->wmean = t[0] / t[1];
    F->vwsum = t[2];
    if (!bias)
        goto done;
    if (F->kind == LOSS_LOGISTIC) {
        double rate = fmin(fmax(t[3] / t[0], 1e-12), 1.0 - 1e-12);
        bias[0] = log(rate / (1.0 - rate));
    } else if (F->kind == LOSS_SQUARED) {
        bias[0] = t[3] / t[0];
    } else {
        for (size_t c = 0; c < k; c++)
            bias[c] = log(fmax(t[3 + c] / t[0], 1e-12));
    }
done:
    lift_free(t);
    return rc;
}

static void fit_release(struct fit *F)
{
    lift_free(F->sums);
    lift_free(F->z);
    lift_free(F->vz);
    lift_free(F->vlab);
    lift_free(F->best);
}

/* Bytes the fit allocates in proportion to the parameter count: the
 * weights, L-BFGS's pairs and buffers or the minibatch gradient and
 * optimizer state, the best weights when early stopping. */
static size_t fit_bytes(const struct fit *F, enum lift_optimizer opt)
{
    size_t per = 1, state = 0, bytes; /* doubles per parameter */
    if (opt == LIFT_OPT_LBFGS) {
        per += (2 * 10 + 4) + 1;
    } else if (opt == LIFT_OPT_NEWTON) {
        per += 6 + F->n_par; /* the Hessian: n_par doubles per parameter */
    } else {
        struct lift_optim_config cfg = {
            .kind = opt, .l1 = F->l1, .l2 = F->l2, .n_reg = F->n_reg};
        per += 1;
        state = lift_optim_state_bytes(&cfg, F->n_par);
    }
    if (F->d->vx && F->p->patience)
        per++;
    if (lift_mul_overflow(per * sizeof(double), F->n_par, &bytes) ||
        lift_add_overflow(bytes, state, &bytes))
        return SIZE_MAX;
    return bytes;
}

/* Checks the data and parameters, picks the optimizer and sets up F
 * (buffers and totals). On failure F holds what fit_release frees. */
static enum lift_code fit_prepare(struct fit *F, enum lift_optimizer *opt,
                                  struct lift_error *err)
{
    const struct lift_train_data *d = F->d;
    const struct lift_train_params *p = F->p;
    enum loss_kind kind = F->kind;
    size_t k = kind == LOSS_SOFTMAX ? p->n_classes : 1;

    if (p->task != kind_tasks[kind] || (kind == LOSS_SOFTMAX && k < 2))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "model '%s' does not fit this task "
                              "(%zu classes)",
                              kind_names[kind], p->n_classes);
    if (k > MAX_OUTPUTS)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "%zu classes exceed the limit of %llu", k,
                              (unsigned long long)MAX_OUTPUTS);
    enum lift_code rc = check_data(kind, k, d, err);
    if (rc)
        return rc;
    if (!isfinite(p->l1) || !isfinite(p->l2) || !isfinite(p->lr))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "l1, l2 and lr must be finite");
    F->l1 = p->l1 > 0 ? p->l1 : 0.0;
    F->l2 = p->l2 > 0 ? p->l2 : 0.0;
    *opt = p->optimizer;
    size_t n_par_guess = (d->x->n_cols + 1) * k;
    if (*opt == LIFT_OPT_AUTO)
        *opt = F->l1 > 0                                    ? LIFT_OPT_ADAGRAD
               : k == 1 && n_par_guess <= NEWTON_MAX_PARAMS ? LIFT_OPT_NEWTON
                                                            : LIFT_OPT_LBFGS;
    if (*opt == LIFT_OPT_NEWTON &&
        (F->l1 > 0 || k != 1 || n_par_guess > NEWTON_MAX_PARAMS))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "optimizer 'newton' fits one output, no l1 and "
                              "at most %d parameters (this model: %zu)",
                              NEWTON_MAX_PARAMS, n_par_guess);
    if (*opt == LIFT_OPT_LBFGS && F->l1 > 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "optimizer 'lbfgs' cannot fit l1; use "
                              "'adagrad', 'sgd' or 'adam'");
    F->red = p->reducer ? p->reducer : &lift_reducer_local;
    F->k = k;
    F->n_in = d->x->n_cols;
    F->n_reg = F->n_in * k; /* no overflow: n_in <= 2^32, k <= 2^16 */
    F->n_par = F->n_reg + k;
    F->epochs = p->epochs                ? p->epochs
                : *opt == LIFT_OPT_LBFGS ? DEFAULT_ITERATIONS
                                         : DEFAULT_EPOCHS;
    size_t need = fit_bytes(F, *opt);
    if (p->mem_limit && need > p->mem_limit)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "a '%s' model of %zu features needs %zu bytes, "
                              "over the memory limit of %zu",
                              kind_names[kind], F->n_in, need, p->mem_limit);

    if (!(F->z = lift_malloc_array(2, k * sizeof *F->z)) ||
        ((*opt == LIFT_OPT_LBFGS || *opt == LIFT_OPT_NEWTON) &&
         !(F->sums = lift_malloc_array(F->n_par + 1, sizeof *F->sums))))
        return lift_error_nomem(err, "gradient buffers");
    if (d->vx) {
        size_t nv = d->vx->n_rows ? d->vx->n_rows : 1;
        if (!(F->vz = lift_malloc_array(nv, k * sizeof *F->vz)) ||
            (kind == LOSS_LOGISTIC && !(F->vlab = lift_malloc_array(nv, 1))) ||
            (p->patience &&
             !(F->best = lift_malloc_array(F->n_par, sizeof *F->best))))
            return lift_error_nomem(err, "validation buffers");
        for (size_t r = 0; kind == LOSS_LOGISTIC && r < d->vx->n_rows; r++)
            F->vlab[r] = (uint8_t)d->vy[r];
        F->best_loss = INFINITY;
    }
    return LIFT_OK;
}

static void linear_destroy(struct lift_learner *l)
{
    struct linear *m = l->state;
    if (m)
        lift_free(m->w);
    lift_free(m);
    l->state = NULL;
}

static enum lift_code fit_kind(struct lift_learner *l,
                               const struct lift_train_data *d,
                               const struct lift_train_params *p,
                               enum loss_kind kind, struct lift_error *err)
{
    struct fit F = {.kind = kind, .d = d, .p = p};
    struct linear *m = NULL;
    enum lift_optimizer opt;
    enum lift_code rc;

    if ((rc = fit_prepare(&F, &opt, err)))
        goto done;
    m = lift_calloc(1, sizeof *m);
    if (!m || !(m->w = lift_calloc(F.n_par, sizeof *m->w))) {
        rc = lift_error_nomem(err, "linear model");
        goto done;
    }
    m->n_in = F.n_in;
    m->k = F.k;
    if ((rc = setup_totals(&F, m->w + F.n_reg, err)))
        goto done;
    if (F.best)
        memcpy(F.best, m->w, F.n_par * sizeof *F.best);

    rc = opt == LIFT_OPT_LBFGS    ? fit_lbfgs(&F, m->w, err)
         : opt == LIFT_OPT_NEWTON ? fit_newton(&F, m->w, err)
                                  : fit_minibatch(&F, m->w, opt, err);
    if (rc)
        goto done;
    if (F.best && isfinite(F.best_loss))
        memcpy(m->w, F.best, F.n_par * sizeof *m->w);

    linear_destroy(l);
    l->state = m;
    l->task = kind_tasks[kind];
    l->n_inputs = F.n_in;
    l->n_outputs = F.k;
    m = NULL;
done:
    if (m)
        lift_free(m->w);
    lift_free(m);
    fit_release(&F);
    return rc;
}

enum lift_code lift_linear_objective(const char *name,
                                     const struct lift_train_data *d,
                                     const struct lift_train_params *p,
                                     const double *w, double *f, double *g,
                                     struct lift_error *err)
{
    struct lift_train_params q = *p;
    q.optimizer = LIFT_OPT_LBFGS;
    q.l1 = 0.0;
    struct fit F = {.d = d, .p = &q};
    enum lift_optimizer opt;
    size_t kind = 0;
    while (kind < 3 && strcmp(kind_names[kind], name) != 0)
        kind++;
    if (kind == 3)
        return lift_error_set(err, LIFT_ERR_INVALID, "not a linear model: '%s'",
                              name);
    F.kind = (enum loss_kind)kind;
    enum lift_code rc = fit_prepare(&F, &opt, err);
    if (!rc)
        rc = setup_totals(&F, NULL, err);
    if (!rc)
        rc = objective(&F, w, f, g, err);
    fit_release(&F);
    return rc;
}

/* ---- using a fitted model ----------------------------------------------- */

static void linear_predict(const struct lift_learner *l, const uint32_t *idx,
                           const float *val, size_t nnz, double *out)
{
    const struct linear *m = l->state;
    LIFT_ASSERT(m);
    scores(m->w, m->n_in, m->k, idx, val, nnz, out);
}

static double linear_explain(const struct lift_learner *l, const uint32_t *idx,
                             const float *val, size_t nnz, size_t k,
                             double *contrib)
{
    const struct linear *m = l->state;
    LIFT_ASSERT(m && k < m->k);
    for (size_t e = 0; e < nnz; e++)
        contrib[e] = idx[e] < m->n_in
                         ? m->w[(size_t)idx[e] * m->k + k] * (double)val[e]
                         : 0.0;
    return m->w[m->n_in * m->k + k];
}

/*
 * Layout: u64 inputs n, u64 outputs K, u64 count n K, n K f64 weights
 * (feature-major), u64 count K, K f64 biases.
 */
static enum lift_code linear_save(const struct lift_learner *l,
                                  struct lift_writer *w, struct lift_error *err)
{
    const struct linear *m = l->state;
    if (!m)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "linear model is not fitted");
    size_t nw = m->n_in * m->k;
    lift_writer_u64(w, m->n_in);
    lift_writer_u64(w, m->k);
    lift_writer_u64(w, nw);
    lift_writer_f64s(w, m->w, nw);
    lift_writer_u64(w, m->k);
    lift_writer_f64s(w, m->w + nw, m->k);
    return lift_writer_status(w, err);
}

static enum lift_code load_kind(struct lift_learner *l, struct lift_reader *r,
                                enum loss_kind kind, struct lift_error *err)
{
    struct linear *m = NULL;
    uint64_t n_in = lift_reader_u64(r, "linear input count");
    uint64_t k = lift_reader_u64(r, "linear output count");
    bool k_ok = kind == LOSS_SOFTMAX ? k >= 2 && k <= MAX_OUTPUTS : k == 1;
    if (lift_reader_ok(r) &&
        (n_in > MAX_INPUTS || !k_ok || (l->n_inputs && l->n_inputs != n_in) ||
         (l->n_outputs && l->n_outputs != k)))
        lift_reader_fail(r, "bad '%s' model shape: %llu inputs, %llu outputs",
                         kind_names[kind], (unsigned long long)n_in,
                         (unsigned long long)k);
    size_t nw = lift_reader_count(r, sizeof(double), SIZE_MAX, "linear weight");
    if (lift_reader_ok(r) && nw != n_in * k)
        lift_reader_fail(r, "%zu linear weights for %llu inputs x %llu outputs",
                         nw, (unsigned long long)n_in, (unsigned long long)k);
    if (lift_reader_ok(r)) {
        m = lift_calloc(1, sizeof *m);
        if (!m || !(m->w = lift_malloc_array(nw + k, sizeof *m->w))) {
            linear_destroy(&(struct lift_learner){.state = m});
            return lift_error_nomem(err, "linear model");
        }
        m->n_in = (size_t)n_in;
        m->k = (size_t)k;
        lift_reader_f64s(r, m->w, nw, "linear weights");
    }
    if (lift_reader_ok(r) &&
        lift_reader_count(r, sizeof(double), k, "linear bias") != k)
        lift_reader_fail(r, "linear bias count does not match %llu outputs",
                         (unsigned long long)k);
    if (m)
        lift_reader_f64s(r, m->w + nw, (size_t)k, "linear biases");
    for (size_t i = 0; m && lift_reader_ok(r) && i < nw + k; i++)
        if (!isfinite(m->w[i]))
            lift_reader_fail(r, "linear weight %zu is not finite", i);
    enum lift_code rc = lift_reader_status(r, err);
    struct lift_learner old = {.state = m};
    if (!rc) {
        old.state = l->state;
        l->state = m;
        l->task = kind == LOSS_LOGISTIC  ? LIFT_TASK_BINARY
                  : kind == LOSS_SQUARED ? LIFT_TASK_REGRESSION
                                         : LIFT_TASK_MULTICLASS;
        l->n_inputs = (size_t)n_in;
        l->n_outputs = (size_t)k;
    }
    linear_destroy(&old);
    return rc;
}

/* ---- the three tables --------------------------------------------------- */

static enum lift_code fit_logistic(struct lift_learner *l,
                                   const struct lift_train_data *d,
                                   const struct lift_train_params *p,
                                   struct lift_error *err)
{
    return fit_kind(l, d, p, LOSS_LOGISTIC, err);
}

static enum lift_code fit_linear(struct lift_learner *l,
                                 const struct lift_train_data *d,
                                 const struct lift_train_params *p,
                                 struct lift_error *err)
{
    return fit_kind(l, d, p, LOSS_SQUARED, err);
}

static enum lift_code fit_softmax(struct lift_learner *l,
                                  const struct lift_train_data *d,
                                  const struct lift_train_params *p,
                                  struct lift_error *err)
{
    return fit_kind(l, d, p, LOSS_SOFTMAX, err);
}

static enum lift_code load_logistic(struct lift_learner *l,
                                    struct lift_reader *r,
                                    struct lift_error *err)
{
    return load_kind(l, r, LOSS_LOGISTIC, err);
}

static enum lift_code load_linear(struct lift_learner *l, struct lift_reader *r,
                                  struct lift_error *err)
{
    return load_kind(l, r, LOSS_SQUARED, err);
}

static enum lift_code load_softmax(struct lift_learner *l,
                                   struct lift_reader *r,
                                   struct lift_error *err)
{
    return load_kind(l, r, LOSS_SOFTMAX, err);
}

const struct lift_learner_ops lift_logistic_ops = {
    .name = "logistic",
    .fit = fit_logistic,
    .predict = linear_predict,
    .explain = linear_explain,
    .save = linear_save,
    .load = load_logistic,
    .destroy = linear_destroy,
};

const struct lift_learner_ops lift_linear_ops = {
    .name = "linear",
    .fit = fit_linear,
    .predict = linear_predict,
    .explain = linear_explain,
    .save = linear_save,
    .load = load_linear,
    .destroy = linear_destroy,
};

const struct lift_learner_ops lift_softmax_ops = {
    .name = "softmax",
    .fit = fit_softmax,
    .predict = linear_predict,
    .explain = linear_explain,
    .save = linear_save,
    .load = load_softmax,
    .destroy = linear_destroy,
};
