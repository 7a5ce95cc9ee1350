/*
 * models/mlp.c - multi-layer perceptron over the pipeline's sparse rows.
 *
 * Network. widths w_0 = n inputs, w_1 .. w_H hidden (H >= 1), w_{H+1} = K
 * outputs (1, or the class count); weight layer l (0 <= l <= H) maps
 * w_l -> w_{l+1}:
 *     z_0 = b_0 + sum_e v_e W_0[j_e, :]            (embedding bag)
 *     a_l = f(z_l) * m_l                            (hidden, l < H)
 *     z_l = a_{l-1} W_l + b_l                       (l >= 1, sgemm)
 * with f ReLU or tanh, m_l the inverted-dropout mask (each unit kept with
 * probability q = 1 - dropout and then scaled by 1 / q; m_l = 1 outside
 * training) and z_H the raw scores. The first layer never forms the
 * one-hot or hashed input: a sparse row (j_e, v_e) adds v_e times row
 * j_e of W_0, so it costs O(nnz w_1) whatever n is, and repeated indices
 * add up as csr.h requires. Its gradient dW_0[j, :] = sum over the
 * batch's entries of j of v_e dz_0 likewise touches only active rows.
 *
 * Parameters: one float vector, layer after layer, each layer's weights
 * (w_l x w_{l+1}, row-major: row j of W_0 is feature j's embedding) and
 * then its w_{l+1} biases. float32 throughout, as Keras and PyTorch
 * train; losses and their sums are double (models/loss.h).
 *
 * Loss: the weighted mean of models/loss.h's logistic, squared or softmax
 * loss, plus (l2 / 2) sum ||W_l||^2 over the weights (not the biases).
 * A batch B's gradient is (1 / (|B| w_mean)) sum_B w_i dl_i, w_mean the
 * mean row weight of the training set: an unbiased estimate of the full
 * gradient, and exactly PyTorch's batch mean when rows are unweighted.
 * Class weights arrive as row weights (d->w).
 *
 * Initialisation (Keras' Dense defaults): hidden biases 0, weights
 * uniform in [-L, L], L = sqrt(6 / (fan_in + fan_out)) (Glorot), drawn
 * from the seeded rng layer by layer in parameter order. The output
 * biases start at the link of the base rate, as the linear learners' do
 * (logit of the positive share, mean target, log class shares), so the
 * first steps need not learn it; on the bank split the median test AUC
 * over seeds 1..5 was 0.7853 with Keras' zero and 0.7875 with this,
 * within the seeds' spread. fan_in of the first layer is the number of
 * inputs actually in use: for inputs up to WIDE_INPUTS wide (dict mode,
 * ~62 on the bank file) the feature count, which is what Keras sees in
 * a one-hot matrix; for wider inputs (hash mode, 2^bits slots) the mean
 * number of entries per training row, because only those sum into z_0 -
 * with 2^20 as fan_in every weight would be ~0.002 and the first layer's
 * output would start about a hundred times too small.
 *
 * Adam (Kingma and Ba; Keras' form, as models/optim.h documents: b1 0.9,
 * b2 0.999, eps 1e-7, a = lr sqrt(1 - b2^t) / (1 - b1^t), x -= a m /
 * (sqrt(v) + eps), L2 added to the gradient). It runs here on the float
 * parameter vector (sgemm's type), one vectorised loop per layer:
 * optim.h's optimizers step double vectors one coordinate per call, so
 * using them would mean a double copy of every parameter, converted back
 * and forth each step. Adam takes ~13 % of the bank fit (perf). The
 * dense layers' gradients are dense, so their Adam is exact. For the
 * first layer this file picks by width:
 *   exact Adam (every row every step, untouched rows with g = 0 so their
 *     moments decay and they keep moving on momentum) up to WIDE_INPUTS
 *     inputs: it is what Keras and PyTorch do, so the reference AUCs are
 *     reproduced, and it costs n w_1 per step - as much as one dense layer
 *     at bank size;
 *   lazy Adam (TF's LazyAdam: a row's m, v and L2 move only on the steps
 *     whose batch touches it) for wider inputs: exact Adam would cost
 *     2^20 w_1 updates per batch of 32 rows, over a hundred times the
 *     rest of the step, while lazy costs O(batch nnz w_1). A rare hashed
 *     feature's row then stands still between the batches that hold it
 *     instead of drifting on its momentum.
 *
 * Training: rows shuffled each epoch (seeded), batches of `batch` rows,
 * a forward and a backward pass, one Adam step. Dropout masks come from
 * their own rng stream (lift_rng_split of the seed), so a run depends on
 * the seed alone. One thread, whatever --threads says. Measured on the
 * 2-core host: a bank step (batch 32, 64,64) takes ~54 us, of which the
 * part two threads could share (embedding, both passes; Adam is the
 * rest) is ~75 % by the profile, ~40 us: a second thread would save at
 * most ~20 us a step, and one hand-over and back through a condition
 * variable alone took 11 us median (bench/mlp/handoff.c), before adding
 * up the halves' gradients - at best ~10 % for a second code path and a
 * second core, and a loss whenever the host is busy (a spinning worker
 * hands over in 0.5 us but burns its core all fit long). OpenBLAS is
 * set to one thread once per process (lift is its only user): its
 * threaded sgemm starts at m n k >= 2^18 (the 65-row explanation batch)
 * and gave other bits than one thread, so OPENBLAS_NUM_THREADS changed
 * the importances stored in the model file. Between batches the
 * progress callback gets stage "batch", epoch 0 (a cancellation check,
 * not a report); after each epoch stage "fit" with the mean training
 * loss and, with validation rows, the validation loss and AUC (binary),
 * RMSE or accuracy. Early
 * stopping keeps the parameters of the best validation loss and stops
 * after `patience` epochs without a better one; the best are restored.
 *
 * Memory, checked against mem_limit before anything is allocated:
 * parameters P, Adam moments 2P, the gradient of the dense part, the
 * touched rows of the first layer's gradient (min(n, batch x widest row)
 * rows) and a u32 slot per input, the best copy P (early stopping) and
 * the batch activations.
 *
 * Explanations: integrated gradients (Sundararajan et al. 2017) from the
 * all-absent baseline x' = 0, i.e. the row with no entry: every
 * standardised number at its training mean and no category (or token)
 * present. Along x(a) = a x the first layer gives z_0 = b_0 + a e with
 * e = sum_e v_e W_0[j_e, :], so the path needs one embedding bag; the
 * gradient is averaged at IG_STEPS midpoints a = (s + 1/2) / S in one
 * batched pass, and entry e gets v_e W_0[j_e, :] . mean_s dz_0(s). The
 * base value is the raw score at the baseline; base + sum = f(x) up to the
 * midpoint rule's error at the ReLU kinks (tests/unit/test_mlp.c measures
 * it).
 *
 * Cost per training row: O(nnz w_1 + sum_l w_l w_{l+1}) multiply-adds,
 * three times over (forward, two sgemm backward).
 */
#include "models/mlp.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <lift/metrics.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/loss.h"

#define DEFAULT_EPOCHS 10
#define DEFAULT_BATCH 32
#define DEFAULT_LR 1e-3
#define DEFAULT_HIDDEN 64
#define DEFAULT_MEM_LIMIT ((size_t)1 << 30)
#define WIDE_INPUTS 4096
#define CHUNK 32 /* rows per forward pass outside training */
#define IG_STEPS 64
#define STACK_FLOATS 4096
#define MAX_INPUTS ((uint64_t)UINT32_MAX)
#define MAX_OUTPUTS ((uint64_t)1 << 16)
#define MAX_WIDTH ((uint64_t)1 << 16)
#define NO_SLOT UINT32_MAX
#define MAX_OUTPUTS_INIT 256
#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-7f

/* The loops over units (embedding bag, its gradient, Adam) run 8 floats
 * at a time where the CPU has AVX2, 4 (SSE2, the x86-64 baseline) where
 * not: GCC builds both and picks at load time. No FMA, and C11 mode does
 * not contract a * b + c, so both give the same bits: every unit's
 * arithmetic is the same sequence of single roundings. The whole bank
 * `lift train` went from 0.80 to 0.74 s of CPU. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&         \
    defined(__has_attribute)
#if __has_attribute(target_clones)
#define UNIT_LOOP __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef UNIT_LOOP
#define UNIT_LOOP
#endif

enum loss_kind {
    LOSS_LOGISTIC,
    LOSS_SQUARED,
    LOSS_SOFTMAX,
};

static const char *const metric_names[] = {"auc", "rmse", "accuracy"};

/* OpenBLAS to one thread, once per process (see the overview). */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_one_thread(void)
{
    openblas_set_num_threads(1);
}

static void blas_init(void)
{
    pthread_once(&blas_once, blas_one_thread);
}

void lift_blas_single_thread(void)
{
    blas_init();
}

struct mlp {
    size_t n_layers;                   /* weight layers, H + 1 >= 2 */
    size_t width[LIFT_MAX_HIDDEN + 2]; /* width[0] inputs ... outputs */
    size_t off[LIFT_MAX_HIDDEN + 1];   /* layer l's weights; biases follow */
    enum lift_activation act;
    size_t n_par;
    float *par;
};

static void mlp_free(struct mlp *m)
{
    if (m)
        lift_free(m->par);
    lift_free(m);
}

static size_t max_width(const struct mlp *m)
{
    size_t w = 0;
    for (size_t l = 1; l <= m->n_layers; l++)
        if (m->width[l] > w)
            w = m->width[l];
    return w;
}

/* Sets n_layers, width and off from the layer sizes; LIFT_ERR_LIMIT when
 * the parameter count overflows. */
static enum lift_code mlp_shape(struct mlp *m, size_t n_in, size_t k,
                                const size_t *hidden, size_t n_hidden,
                                struct lift_error *err)
{
    m->n_layers = n_hidden + 1;
    m->width[0] = n_in;
    for (size_t i = 0; i < n_hidden; i++)
        m->width[i + 1] = hidden[i];
    m->width[n_hidden + 1] = k;
    size_t off = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t nw;
        m->off[l] = off;
        if (lift_mul_overflow(m->width[l] + 1, m->width[l + 1], &nw) ||
            lift_add_overflow(off, nw, &off))
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "an mlp of %zu inputs has too many "
                                  "parameters to count",
                                  n_in);
    }
    m->n_par = off;
    return LIFT_OK;
}

/* ---- batch workspace ---------------------------------------------------- */

/* Activations of up to cap rows, carved out of one float buffer. */
struct work {
    size_t cap;
    float *pre[LIFT_MAX_HIDDEN + 1]; /* z_l, cap x width[l + 1] */
    float *act[LIFT_MAX_HIDDEN];     /* a_l of the hidden layers */
    float *mask[LIFT_MAX_HIDDEN];    /* dropout multipliers, or NULL */
    float *da, *db;                  /* deltas, cap x max width */
    float *mem;
    bool owned;
};

static size_t work_floats(const struct mlp *m, size_t cap, bool dropout)
{
    size_t per = 2 * max_width(m);
    for (size_t l = 0; l < m->n_layers; l++) {
        per += m->width[l + 1];
        if (l + 1 < m->n_layers)
            per += m->width[l + 1] * (dropout ? 2 : 1);
    }
    size_t n;
    return lift_mul_overflow(per, cap, &n) ? SIZE_MAX : n;
}

/* Carves w out of mem (work_floats(m, cap, dropout) floats). */
static void work_carve(struct work *w, const struct mlp *m, size_t cap,
                       bool dropout, float *mem)
{
    size_t mw = max_width(m);
    memset(w, 0, sizeof *w);
    w->cap = cap;
    w->mem = mem;
    for (size_t l = 0; l < m->n_layers; l++) {
        w->pre[l] = mem;
        mem += cap * m->width[l + 1];
        if (l + 1 < m->n_layers) {
            w->act[l] = mem;
            mem += cap * m->width[l + 1];
            if (dropout) {
                w->mask[l] = mem;
                mem += cap * m->width[l + 1];
            }
        }
    }
    w->da = mem;
    w->db = mem + cap * mw;
}

static enum lift_code work_init(struct work *w, const struct mlp *m, size_t cap,
                                bool dropout, struct lift_error *err)
{
    float *mem = lift_malloc_array(work_floats(m, cap, dropout), sizeof *mem);
    if (!mem)
        return lift_error_nomem(err, "mlp activations");
    work_carve(w, m, cap, dropout, mem);
    w->owned = true;
    return LIFT_OK;
}

static void work_release(struct work *w)
{
    if (w->owned)
        lift_free(w->mem);
    memset(w, 0, sizeof *w);
}

/* ---- forward and backward ----------------------------------------------- */

/* z[0..h) = b + scale * sum_e v_e W_0[j_e, :]; entries past the input
 * width (which the pipeline never makes) are ignored. */
UNIT_LOOP static void embed(const struct mlp *m, const uint32_t *idx,
                            const float *val, size_t nnz, float *z)
{
    size_t n = m->width[0], h = m->width[1];
    const float *w0 = m->par, *b0 = m->par + n * h;
    memcpy(z, b0, h * sizeof *z);
    for (size_t e = 0; e < nnz; e++) {
        if (idx[e] >= n)
            continue;
        const float *row = w0 + (size_t)idx[e] * h;
        float v = val[e];
        for (size_t c = 0; c < h; c++)
            z[c] += v * row[c];
    }
}

static void embed_rows(const struct mlp *m, struct work *w,
                       const struct lift_csr *x, const uint32_t *rows,
                       size_t from, size_t n)
{
    size_t h = m->width[1];
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : from + i;
#if defined(__GNUC__)
        /* Shuffled rows are cache misses: two a row (indptr, then the
         * entries), which measured 40 % of the embedding. Fetch the
         * offsets 8 rows ahead and the entries 4 rows ahead. */
        if (rows && i + 8 < n)
            __builtin_prefetch(x->indptr + rows[i + 8]);
        if (rows && i + 4 < n) {
            uint64_t a = x->indptr[rows[i + 4]];
            __builtin_prefetch(x->idx + a);
            __builtin_prefetch(x->val + a);
        }
#endif
        uint64_t s = x->indptr[r], e = x->indptr[r + 1];
        embed(m, x->idx + s, x->val + s, (size_t)(e - s), w->pre[0] + i * h);
    }
}

/* From z_0 of n rows (in w->pre[0]) to the raw scores in w->pre[H];
 * drop (not NULL) draws dropout masks with keep probability keep. */
static void forward(const struct mlp *m, struct work *w, size_t n,
                    struct lift_rng *drop, float keep)
{
    size_t L = m->n_layers - 1;
    float inv = 1.0f / keep;
    for (size_t l = 0; l < L; l++) {
        size_t h = m->width[l + 1], cnt = n * h;
        const float *z = w->pre[l];
        float *a = w->act[l];
        if (m->act == LIFT_ACT_RELU)
            for (size_t i = 0; i < cnt; i++)
                a[i] = z[i] > 0.0f ? z[i] : 0.0f;
        else
            for (size_t i = 0; i < cnt; i++)
                a[i] = tanhf(z[i]);
        if (drop && w->mask[l]) {
            float *mk = w->mask[l];
            for (size_t i = 0; i < cnt; i++) {
                mk[i] = lift_rng_uniformf(drop) < keep ? inv : 0.0f;
                a[i] *= mk[i];
            }
        }
        /* z_{l+1} = a_l W_{l+1} + b_{l+1} */
        size_t out = m->width[l + 2];
        const float *W = m->par + m->off[l + 1];
        const float *b = W + h * out;
        float *zn = w->pre[l + 1];
        for (size_t r = 0; r < n; r++)
            memcpy(zn + r * out, b, out * sizeof *zn);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)out,
                    (int)h, 1.0f, a, (int)h, W, (int)out, 1.0f, zn, (int)out);
    }
}

/* Index in a gradient of the "tail" (b_0 and the dense layers, par from
 * n w_1 on) of parameter i. */
static size_t tail_at(const struct mlp *m, size_t i)
{
    return i - m->width[0] * m->width[1];
}

/*
 * From the output deltas of n rows in w->da (dloss/dz_H, already scaled)
 * back to dloss/dz_0, left in the returned buffer (n x width[1]). With g
 * not NULL, the gradients of b_0 and the dense layers go to g, the tail
 * layout (tail_at); W_0's rows are the caller's.
 */
static float *backward(const struct mlp *m, struct work *w, size_t n, float *g)
{
    size_t L = m->n_layers - 1;
    float *delta = w->da, *next = w->db;
    for (size_t l = L; l >= 1; l--) {
        size_t in = m->width[l], out = m->width[l + 1];
        const float *W = m->par + m->off[l];
        const float *a = w->act[l - 1];
        if (g) {
            float *gw = g + tail_at(m, m->off[l]), *gb = gw + in * out;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in,
                        (int)out, (int)n, 1.0f, a, (int)in, delta, (int)out,
                        0.0f, gw, (int)out);
            memset(gb, 0, out * sizeof *gb);
            for (size_t r = 0; r < n; r++)
                for (size_t c = 0; c < out; c++)
                    gb[c] += delta[r * out + c];
        }
        /* da_{l-1} = delta W_l^T, then through dropout and f' */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)in,
                    (int)out, 1.0f, delta, (int)out, W, (int)out, 0.0f, next,
                    (int)in);
        const float *z = w->pre[l - 1], *mk = w->mask[l - 1];
        size_t cnt = n * in;
        if (m->act == LIFT_ACT_RELU) {
            for (size_t i = 0; i < cnt; i++)
                next[i] = z[i] > 0.0f ? next[i] : 0.0f;
        } else {
            for (size_t i = 0; i < cnt; i++) {
                float t = tanhf(z[i]);
                next[i] *= 1.0f - t * t;
            }
        }
        if (mk)
            for (size_t i = 0; i < cnt; i++)
                next[i] *= mk[i];
        float *tmp = delta;
        delta = next;
        next = tmp;
    }
    if (g) {
        size_t h = m->width[1];
        float *gb0 = g + tail_at(m, m->width[0] * h);
        memset(gb0, 0, h * sizeof *gb0);
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < h; c++)
                gb0[c] += delta[r * h + c];
    }
    return delta;
}

static double row_weight(const double *w, size_t r)
{
    return w ? w[r] : 1.0;
}

/* Loss of one row's raw scores z (float) times its weight; the scaled
 * gradient into dz when not NULL. */
static double row_loss(enum loss_kind kind, const float *z, size_t k, double y,
                       double wt, double scale, float *dz)
{
    double zd[1], gd[1], loss;
    if (kind == LOSS_SOFTMAX) {
        /* loss.h's softmax wants double scores; the same formula over
         * the float ones saves a k-double copy per row */
        double mx = z[0], s = 0.0;
        for (size_t c = 1; c < k; c++)
            if (z[c] > mx)
                mx = z[c];
        for (size_t c = 0; c < k; c++)
            s += exp((double)z[c] - mx);
        double lse = mx + log(s);
        size_t cls = (size_t)y;
        loss = wt * (lse - (double)z[cls]);
        if (dz)
            for (size_t c = 0; c < k; c++) {
                double pc = exp((double)z[c] - lse);
                dz[c] = (float)(scale * wt * (pc - (c == cls ? 1.0 : 0.0)));
            }
        return loss;
    }
    zd[0] = z[0];
    loss = kind == LOSS_LOGISTIC ? lift_loss_logistic(zd[0], y, wt, gd)
                                 : lift_loss_squared(zd[0], y, wt, gd);
    if (dz)
        dz[0] = (float)(scale * gd[0]);
    return loss;
}

/* ---- training ----------------------------------------------------------- */

struct fit {
    const struct lift_train_data *d;
    const struct lift_train_params *p;
    enum loss_kind kind;
    size_t n_in, k, batch, widest;
    size_t hidden[LIFT_MAX_HIDDEN], n_hidden;
    unsigned epochs;
    double lr, l2;
    float keep; /* 1 - dropout */
    bool exact; /* exact Adam on the first layer */
    double wsum, wmean, vwsum;
    struct work w;
    float *grad;       /* the tail: b_0 and the dense layers */
    float *g0;         /* touched rows of W_0's gradient */
    uint32_t *slot;    /* n_in: row of g0 of an input, or NO_SLOT */
    uint32_t *touched; /* inputs of g0's rows, in first-seen order */
    size_t n_touched, cap_touched;
    float *mom, *vel; /* Adam m and v, n_par each */
    float *zero;      /* width[1] zeros: untouched rows in exact mode */
    uint32_t *order;
    double b1t, b2t; /* b1^t, b2^t */
    float *best;
    double best_loss;
    unsigned stale;
    double *vz; /* validation scores */
    uint8_t *vlab;
};

/* Checks data and parameters and fills F's settings (no allocation). */
static enum lift_code fit_settings(struct fit *F,
                                   const struct lift_train_data *d,
                                   const struct lift_train_params *p,
                                   struct lift_error *err)
{
    memset(F, 0, sizeof *F);
    F->d = d;
    F->p = p;
    switch (p->task) {
    case LIFT_TASK_BINARY:
        F->kind = LOSS_LOGISTIC;
        F->k = 1;
        break;
    case LIFT_TASK_REGRESSION:
        F->kind = LOSS_SQUARED;
        F->k = 1;
        break;
    default:
        F->kind = LOSS_SOFTMAX;
        F->k = p->n_classes;
        if (F->k < 2 || F->k > MAX_OUTPUTS)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "model 'mlp' cannot fit %zu classes",
                                  p->n_classes);
    }
    if (!d || !d->x || !d->y || !d->x->n_rows)
        return lift_error_set(err, LIFT_ERR_INVALID, "no training rows");
    if (!d->x->n_cols || d->x->n_cols > MAX_INPUTS)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "model 'mlp' cannot take %zu features (1 to "
                              "%llu)",
                              d->x->n_cols, (unsigned long long)MAX_INPUTS);
    if (d->x->n_rows > UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "%zu training rows exceed the limit of %u",
                              d->x->n_rows, UINT32_MAX);
    enum lift_code rc = lift_loss_check_rows(p->task, F->k, d->y, d->w,
                                             d->x->n_rows, "training", err);
    if (rc)
        return rc;
    if (d->vx) {
        if (!d->vy || d->vx->n_cols != d->x->n_cols)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "validation rows have %zu features, "
                                  "training rows %zu",
                                  d->vx->n_cols, d->x->n_cols);
        if ((rc = lift_loss_check_rows(p->task, F->k, d->vy, d->vw,
                                       d->vx->n_rows, "validation", err)))
            return rc;
    }
    if (p->optimizer != LIFT_OPT_AUTO && p->optimizer != LIFT_OPT_ADAM)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "model 'mlp' trains with optimizer 'adam' only");
    if (p->l1 > 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "model 'mlp' has no l1 penalty; use l2 or "
                              "dropout");
    if (!isfinite(p->l2) || !isfinite(p->lr) || !isfinite(p->dropout) ||
        p->dropout < 0 || p->dropout >= 1)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "l2 and lr must be finite and dropout in [0, 1)");
    if (p->activation != LIFT_ACT_RELU && p->activation != LIFT_ACT_TANH)
        return lift_error_set(err, LIFT_ERR_INVALID, "unknown activation %d",
                              (int)p->activation);
    if (p->n_hidden > LIFT_MAX_HIDDEN)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "%zu hidden layers exceed the limit of %d",
                              p->n_hidden, LIFT_MAX_HIDDEN);
    F->n_hidden = p->n_hidden ? p->n_hidden : 2;
    for (size_t i = 0; i < F->n_hidden; i++) {
        F->hidden[i] = p->n_hidden ? p->hidden[i] : DEFAULT_HIDDEN;
        if (F->hidden[i] < 1 || F->hidden[i] > MAX_WIDTH)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "hidden layer %zu has %zu units (1 to %llu)",
                                  i + 1, F->hidden[i],
                                  (unsigned long long)MAX_WIDTH);
    }
    F->n_in = d->x->n_cols;
    F->epochs = p->epochs ? p->epochs : DEFAULT_EPOCHS;
    F->batch = p->batch ? p->batch : DEFAULT_BATCH;
    if (F->batch > d->x->n_rows)
        F->batch = d->x->n_rows;
    F->lr = p->lr > 0 ? p->lr : DEFAULT_LR;
    F->l2 = p->l2 > 0 ? p->l2 : 0.0;
    F->keep = (float)(1.0 - p->dropout);
    F->exact = F->n_in <= WIDE_INPUTS;
    const struct lift_csr *x = d->x;
    for (size_t r = 0; r < x->n_rows; r++) {
        size_t nnz = (size_t)(x->indptr[r + 1] - x->indptr[r]);
        if (nnz > F->widest)
            F->widest = nnz;
    }
    size_t cap;
    if (lift_mul_overflow(F->batch, F->widest ? F->widest : 1, &cap))
        cap = SIZE_MAX;
    F->cap_touched = cap < F->n_in ? cap : F->n_in;
    return LIFT_OK;
}

/* Bytes the fit of F allocates for model m (shaped), SIZE_MAX on
 * overflow. */
static size_t fit_bytes(const struct fit *F, const struct mlp *m)
{
    size_t P = m->n_par, h = m->width[1], b, t;
    bool best = F->d->vx && F->p->patience;
    /* parameters, Adam m and v, the best copy */
    if (lift_mul_overflow(P, (best ? 4 : 3) * sizeof(float), &b))
        return SIZE_MAX;
    size_t cap = F->batch > CHUNK ? F->batch : CHUNK;
    size_t terms[4] = {
        tail_at(m, P),            /* the tail's gradient */
        F->cap_touched * (h + 1), /* touched rows and their list */
        F->n_in,                  /* slots */
        work_floats(m, cap, F->keep < 1.0f),
    };
    for (size_t i = 0; i < 4; i++)
        if (lift_mul_overflow(terms[i], sizeof(float), &t) ||
            lift_add_overflow(b, t, &b))
            return SIZE_MAX;
    return b;
}

static void fit_release(struct fit *F)
{
    work_release(&F->w);
    lift_free(F->grad);
    lift_free(F->g0);
    lift_free(F->slot);
    lift_free(F->touched);
    lift_free(F->mom);
    lift_free(F->vel);
    lift_free(F->zero);
    lift_free(F->order);
    lift_free(F->best);
    lift_free(F->vz);
    lift_free(F->vlab);
}

static void glorot(struct lift_rng *rng, float *w, size_t n, double fan_in,
                   double fan_out)
{
    float lim = (float)sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = (2.0f * lift_rng_uniformf(rng) - 1.0f) * lim;
}

/* A new model shaped for F, initialised from the seed. */
static enum lift_code mlp_new(const struct fit *F, struct mlp **out,
                              struct lift_error *err)
{
    struct mlp *m = lift_calloc(1, sizeof *m);
    *out = NULL;
    if (!m)
        return lift_error_nomem(err, "mlp model");
    enum lift_code rc =
        mlp_shape(m, F->n_in, F->k, F->hidden, F->n_hidden, err);
    if (rc) {
        mlp_free(m);
        return rc;
    }
    m->act = F->p->activation;
    *out = m;
    return LIFT_OK;
}

/* The output biases at the link of the training targets' base rate:
 * logit of the positive share, mean target, log class shares. */
static void base_rate(const struct fit *F, float *bias)
{
    const struct lift_train_data *d = F->d;
    size_t n = d->x->n_rows, k = F->k;
    double ws = 0.0, t[MAX_OUTPUTS_INIT] = {0.0};
    if (k > MAX_OUTPUTS_INIT)
        return;
    for (size_t r = 0; r < n; r++) {
        double wr = row_weight(d->w, r);
        ws += wr;
        if (F->kind == LOSS_SOFTMAX)
            t[(size_t)d->y[r]] += wr;
        else
            t[0] += wr * d->y[r];
    }
    if (!(ws > 0))
        return;
    if (F->kind == LOSS_LOGISTIC) {
        double rate = fmin(fmax(t[0] / ws, 1e-6), 1.0 - 1e-6);
        bias[0] = (float)log(rate / (1.0 - rate));
    } else if (F->kind == LOSS_SQUARED) {
        bias[0] = (float)(t[0] / ws);
    } else {
        for (size_t c = 0; c < k; c++)
            bias[c] = (float)log(fmax(t[c] / ws, 1e-6));
    }
}

static enum lift_code mlp_weights(const struct fit *F, struct mlp *m,
                                  struct lift_error *err)
{
    if (!(m->par = lift_calloc(m->n_par, sizeof *m->par)))
        return lift_error_nomem(err, "mlp parameters");
    struct lift_rng rng;
    lift_rng_split(&rng, F->p->seed, 0);
    const struct lift_csr *x = F->d->x;
    double fan0 = (double)m->width[0];
    if (m->width[0] > WIDE_INPUTS)
        fan0 = fmax(1.0, (double)x->indptr[x->n_rows] / (double)x->n_rows);
    for (size_t l = 0; l < m->n_layers; l++) {
        double fin = l ? (double)m->width[l] : fan0;
        glorot(&rng, m->par + m->off[l], m->width[l] * m->width[l + 1], fin,
               (double)m->width[l + 1]);
    }
    base_rate(F, m->par + m->n_par - m->width[m->n_layers]);
    return LIFT_OK;
}

static enum lift_code fit_alloc(struct fit *F, const struct mlp *m,
                                struct lift_error *err)
{
    const struct lift_train_data *d = F->d;
    size_t P = m->n_par, h = m->width[1], n = d->x->n_rows;
    size_t cap = F->batch > CHUNK ? F->batch : CHUNK;
    enum lift_code rc = work_init(&F->w, m, cap, F->keep < 1.0f, err);
    if (rc)
        return rc;
    if (!(F->grad = lift_malloc_array(tail_at(m, P), sizeof *F->grad)) ||
        !(F->g0 = lift_malloc_array(F->cap_touched ? F->cap_touched : 1,
                                    h * sizeof *F->g0)) ||
        !(F->touched = lift_malloc_array(F->cap_touched ? F->cap_touched : 1,
                                         sizeof *F->touched)) ||
        !(F->slot = lift_malloc_array(F->n_in, sizeof *F->slot)) ||
        !(F->mom = lift_calloc(P, sizeof *F->mom)) ||
        !(F->vel = lift_calloc(P, sizeof *F->vel)) ||
        !(F->zero = lift_calloc(h, sizeof *F->zero)) ||
        !(F->order = lift_malloc_array(n, sizeof *F->order)))
        return lift_error_nomem(err, "mlp optimizer state");
    memset(F->slot, 0xff, F->n_in * sizeof *F->slot);
    for (size_t r = 0; r < n; r++)
        F->order[r] = (uint32_t)r;
    double ws = 0.0;
    for (size_t r = 0; r < n; r++)
        ws += row_weight(d->w, r);
    if (!(ws > 0))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "training rows weigh 0 "
                              "in all");
    F->wsum = ws;
    F->wmean = ws / (double)n;
    F->b1t = F->b2t = 1.0;
    if (d->vx) {
        size_t nv = d->vx->n_rows ? d->vx->n_rows : 1;
        if (!(F->vz = lift_malloc_array(nv, F->k * sizeof *F->vz)) ||
            (F->kind == LOSS_LOGISTIC &&
             !(F->vlab = lift_malloc_array(nv, 1))) ||
            (F->p->patience &&
             !(F->best = lift_malloc_array(P, sizeof(float)))))
            return lift_error_nomem(err, "mlp validation buffers");
        for (size_t r = 0; F->vlab && r < d->vx->n_rows; r++)
            F->vlab[r] = (uint8_t)d->vy[r];
        F->vwsum = 0.0;
        for (size_t r = 0; r < d->vx->n_rows; r++)
            F->vwsum += row_weight(d->vw, r);
        if (!(F->vwsum > 0))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "validation rows weigh 0 in all");
        F->best_loss = INFINITY;
    }
    return LIFT_OK;
}

/* Adds row r's first-layer gradient (delta, width h) into the touched
 * rows of g0. */
UNIT_LOOP static void scatter_row(struct fit *F, const struct lift_csr *x,
                                  size_t r, const float *delta, size_t h)
{
    uint64_t s = x->indptr[r], e = x->indptr[r + 1];
    for (uint64_t i = s; i < e; i++) {
        uint32_t j = x->idx[i];
        if (j >= F->n_in)
            continue;
        uint32_t sl = F->slot[j];
        if (sl == NO_SLOT) {
            LIFT_ASSERT(F->n_touched < F->cap_touched);
            sl = F->slot[j] = (uint32_t)F->n_touched;
            F->touched[F->n_touched++] = j;
            memset(F->g0 + (size_t)sl * h, 0, h * sizeof *F->g0);
        }
        float v = x->val[i], *gj = F->g0 + (size_t)sl * h;
        for (size_t c = 0; c < h; c++)
            gj[c] += v * delta[c];
    }
}

/*
 * Loss and gradient of rows rows[0..n) of x (labels y, weights wt) at m:
 * returns sum w_i loss_i; *wsum gets sum w_i. The gradient, scaled by
 * `scale`, goes to F->grad (dense part) and the touched rows of F->g0.
 * drop (not NULL) turns dropout on.
 */
static double batch_grad(struct fit *F, const struct mlp *m,
                         const struct lift_csr *x, const double *y,
                         const double *wt, const uint32_t *rows, size_t n,
                         double scale, struct lift_rng *drop, double *wsum)
{
    struct work *w = &F->w;
    size_t k = F->k, h = m->width[1];
    embed_rows(m, w, x, rows, 0, n);
    forward(m, w, n, drop, F->keep);
    const float *z = w->pre[m->n_layers - 1];
    double loss = 0.0, ws = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        double wr = row_weight(wt, r);
        ws += wr;
        loss += row_loss(F->kind, z + i * k, k, y[r], wr, scale, w->da + i * k);
    }
    const float *delta = backward(m, w, n, F->grad);
    for (size_t i = 0; i < n; i++)
        scatter_row(F, x, rows[i], delta + i * h, h);
    *wsum = ws;
    return loss;
}

/* x -= a m / (sqrt(v) + eps) after the moment updates, over n values. */
UNIT_LOOP static void adam(float *x, float *mo, float *v, const float *g,
                           size_t n, float a, float l2)
{
    const float b1 = (float)ADAM_B1, b2 = (float)ADAM_B2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + l2 * x[i];
        mo[i] = b1 * mo[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        x[i] -= a * mo[i] / (sqrtf(v[i]) + ADAM_EPS);
    }
}

static void step(struct fit *F, struct mlp *m)
{
    size_t n = m->width[0], h = m->width[1];
    float *x = m->par, l2 = (float)F->l2;
    F->b1t *= ADAM_B1;
    F->b2t *= ADAM_B2;
    float a = (float)(F->lr * sqrt(1.0 - F->b2t) / (1.0 - F->b1t));
    if (F->exact) {
        for (size_t j = 0; j < n; j++) {
            uint32_t sl = F->slot[j];
            const float *g = sl == NO_SLOT ? F->zero : F->g0 + (size_t)sl * h;
            adam(x + j * h, F->mom + j * h, F->vel + j * h, g, h, a, l2);
        }
    } else {
        for (size_t t = 0; t < F->n_touched; t++) {
            size_t j = F->touched[t];
            adam(x + j * h, F->mom + j * h, F->vel + j * h,
                 F->g0 + (size_t)F->slot[j] * h, h, a, l2);
        }
    }
    for (size_t t = 0; t < F->n_touched; t++)
        F->slot[F->touched[t]] = NO_SLOT;
    F->n_touched = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t in = m->width[l], out = m->width[l + 1];
        size_t w0 = m->off[l], b0 = w0 + in * out;
        if (l > 0)
            adam(x + w0, F->mom + w0, F->vel + w0, F->grad + tail_at(m, w0),
                 in * out, a, l2);
        adam(x + b0, F->mom + b0, F->vel + b0, F->grad + tail_at(m, b0), out, a,
             0.0f);
    }
}

/* Raw scores of rows [0, n) of x into z (n x k doubles), CHUNK rows at a
 * time through w (cap >= CHUNK). */
static void score_rows(const struct mlp *m, struct work *w,
                       const struct lift_csr *x, double *z)
{
    size_t k = m->width[m->n_layers];
    for (size_t from = 0; from < x->n_rows; from += CHUNK) {
        size_t n = x->n_rows - from < CHUNK ? x->n_rows - from : CHUNK;
        embed_rows(m, w, x, NULL, from, n);
        forward(m, w, n, NULL, 1.0f);
        const float *out = w->pre[m->n_layers - 1];
        for (size_t i = 0; i < n * k; i++)
            z[from * k + i] = out[i];
    }
}

static enum lift_code validate(struct fit *F, const struct mlp *m,
                               double *vloss, double *metric,
                               struct lift_error *err)
{
    const struct lift_csr *vx = F->d->vx;
    const double *vy = F->d->vy, *vw = F->d->vw;
    size_t k = F->k, nv = vx->n_rows;
    score_rows(m, &F->w, vx, F->vz);
    double sum = 0.0, right = 0.0;
    float zf[1];
    for (size_t r = 0; r < nv; r++) {
        const double *z = F->vz + r * k;
        double wr = row_weight(vw, r);
        if (F->kind == LOSS_SOFTMAX) {
            double lse = lift_logsumexp(z, k);
            sum += wr * (lse - z[(size_t)vy[r]]);
            size_t top = 0;
            for (size_t c = 1; c < k; c++)
                if (z[c] > z[top])
                    top = c;
            if ((double)top == vy[r])
                right += wr;
        } else {
            zf[0] = (float)z[0];
            sum += row_loss(F->kind, zf, 1, vy[r], wr, 0.0, NULL);
        }
    }
    *vloss = sum / F->vwsum;
    if (F->kind == LOSS_LOGISTIC)
        return lift_auc(F->vlab, F->vz, vw, nv, metric, err);
    *metric = F->kind == LOSS_SQUARED ? sqrt(2.0 * *vloss) : right / F->vwsum;
    return LIFT_OK;
}

static enum lift_code report(const struct fit *F, const char *stage,
                             unsigned epoch, double loss, double vloss,
                             double vmetric, struct lift_error *err)
{
    struct lift_progress pr = {
        .stage = stage,
        .epoch = epoch,
        .epochs = F->epochs,
        .loss = loss,
        .valid_loss = vloss,
        .valid_metric = vmetric,
        .metric = epoch ? metric_names[F->kind] : NULL,
    };
    return lift_learner_report(F->p, &pr, err);
}

static enum lift_code train(struct fit *F, struct mlp *m,
                            struct lift_error *err)
{
    const struct lift_train_data *d = F->d;
    size_t n = d->x->n_rows;
    struct lift_rng shuffle, drop;
    lift_rng_split(&shuffle, F->p->seed, 1);
    lift_rng_split(&drop, F->p->seed, 2);
    enum lift_code rc = LIFT_OK;
    for (unsigned epoch = 0; epoch < F->epochs; epoch++) {
        lift_rng_shuffle(&shuffle, F->order, n);
        double loss = 0.0, wsum = 0.0;
        for (size_t from = 0; from < n; from += F->batch) {
            size_t cnt = n - from < F->batch ? n - from : F->batch;
            double ws;
            if ((rc = report(F, "batch", 0, NAN, NAN, NAN, err)))
                return rc;
            loss += batch_grad(F, m, d->x, d->y, d->w, F->order + from, cnt,
                               1.0 / ((double)cnt * F->wmean),
                               F->keep < 1.0f ? &drop : NULL, &ws);
            wsum += ws;
            step(F, m);
        }
        double vloss = NAN, vmetric = NAN;
        bool stop = false;
        if (d->vx) {
            if ((rc = validate(F, m, &vloss, &vmetric, err)))
                return rc;
            if (F->best && vloss < F->best_loss) {
                F->best_loss = vloss;
                memcpy(F->best, m->par, m->n_par * sizeof *F->best);
                F->stale = 0;
            } else if (F->best) {
                stop = ++F->stale >= F->p->patience;
            }
        }
        if ((rc = report(F, "fit", epoch + 1, wsum > 0 ? loss / wsum : NAN,
                         vloss, vmetric, err)))
            return rc;
        if (stop)
            break;
    }
    if (F->best && isfinite(F->best_loss))
        memcpy(m->par, F->best, m->n_par * sizeof *m->par);
    return LIFT_OK;
}

static void mlp_destroy(struct lift_learner *l)
{
    mlp_free(l->state);
    l->state = NULL;
}

static void install(struct lift_learner *l, struct mlp *m, enum lift_task task)
{
    mlp_destroy(l);
    l->state = m;
    l->task = task;
    l->n_inputs = m->width[0];
    l->n_outputs = m->width[m->n_layers];
}

/* Settings, shape and memory check, then the initial weights. */
static enum lift_code prepare(struct fit *F, const struct lift_train_data *d,
                              const struct lift_train_params *p,
                              struct mlp **out, struct lift_error *err)
{
    struct mlp *m = NULL;
    enum lift_code rc;
    *out = NULL;
    if ((rc = fit_settings(F, d, p, err)) || (rc = mlp_new(F, &m, err)))
        return rc;
    size_t limit = p->mem_limit ? p->mem_limit : DEFAULT_MEM_LIMIT;
    size_t need = fit_bytes(F, m);
    if (need > limit) {
        rc = lift_error_set(err, LIFT_ERR_LIMIT,
                            "an mlp of %zu inputs x %zu units needs %zu bytes "
                            "(%zu parameters with Adam state and gradients), "
                            "over the memory limit of %zu bytes",
                            F->n_in, F->hidden[0], need, m->n_par, limit);
        mlp_free(m);
        return rc;
    }
    if ((rc = mlp_weights(F, m, err))) {
        mlp_free(m);
        return rc;
    }
    *out = m;
    return LIFT_OK;
}

static enum lift_code mlp_fit(struct lift_learner *l,
                              const struct lift_train_data *d,
                              const struct lift_train_params *p,
                              struct lift_error *err)
{
    blas_init();
    struct fit F;
    struct mlp *m = NULL;
    enum lift_code rc = prepare(&F, d, p, &m, err);
    if (!rc && !(rc = fit_alloc(&F, m, err)) && !(rc = train(&F, m, err))) {
        install(l, m, p->task);
        m = NULL;
    }
    fit_release(&F);
    mlp_free(m);
    return rc;
}

enum lift_code lift_mlp_init(struct lift_learner *l,
                             const struct lift_train_data *d,
                             const struct lift_train_params *p,
                             struct lift_error *err)
{
    struct fit F;
    struct mlp *m = NULL;
    enum lift_code rc = prepare(&F, d, p, &m, err);
    if (!rc)
        install(l, m, p->task);
    return rc;
}

float *lift_mlp_params(const struct lift_learner *l, size_t *n)
{
    const struct mlp *m = l ? l->state : NULL;
    if (!m || l->ops != &lift_mlp_ops) {
        *n = 0;
        return NULL;
    }
    *n = m->n_par;
    return m->par;
}

enum lift_code lift_mlp_objective(const struct lift_learner *l,
                                  const struct lift_train_data *d,
                                  const struct lift_train_params *p, double *f,
                                  float *g, struct lift_error *err)
{
    blas_init();
    const struct mlp *m = l->state;
    struct fit F;
    struct lift_train_params q = *p;
    q.batch = d && d->x ? d->x->n_rows : 0;
    enum lift_code rc = fit_settings(&F, d, &q, err);
    if (rc)
        return rc;
    if (!m || m->width[0] != F.n_in || m->width[m->n_layers] != F.k)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "mlp does not match the data's shape");
    F.exact = true; /* a full gradient vector */
    F.cap_touched = F.n_in;
    size_t n = d->x->n_rows, h = m->width[1];
    uint32_t *rows = NULL;
    float *full = NULL;
    if ((rc = work_init(&F.w, m, n, F.keep < 1.0f, err)))
        goto done;
    rows = lift_malloc_array(n, sizeof *rows);
    F.grad = lift_malloc_array(tail_at(m, m->n_par), sizeof *F.grad);
    full = lift_malloc_array(m->n_par, sizeof *full);
    F.g0 = lift_malloc_array(F.n_in, h * sizeof *F.g0);
    F.touched = lift_malloc_array(F.n_in, sizeof *F.touched);
    F.slot = lift_malloc_array(F.n_in, sizeof *F.slot);
    if (!rows || !F.grad || !full || !F.g0 || !F.touched || !F.slot) {
        rc = lift_error_nomem(err, "mlp objective");
        goto done;
    }
    memset(F.slot, 0xff, F.n_in * sizeof *F.slot);
    double W = 0.0;
    for (size_t r = 0; r < n; r++) {
        rows[r] = (uint32_t)r;
        W += row_weight(d->w, r);
    }
    struct lift_rng drop;
    lift_rng_split(&drop, p->seed, 2);
    double ws;
    double loss = batch_grad(&F, m, d->x, d->y, d->w, rows, n, 1.0 / W,
                             F.keep < 1.0f ? &drop : NULL, &ws);
    memcpy(full + F.n_in * h, F.grad, tail_at(m, m->n_par) * sizeof *full);
    for (size_t j = 0; j < F.n_in; j++) {
        float *gr = full + j * h;
        if (F.slot[j] == NO_SLOT)
            memset(gr, 0, h * sizeof *gr);
        else
            memcpy(gr, F.g0 + (size_t)F.slot[j] * h, h * sizeof *gr);
    }
    double sq = 0.0;
    for (size_t ly = 0; ly < m->n_layers; ly++) {
        size_t cnt = m->width[ly] * m->width[ly + 1];
        const float *w = m->par + m->off[ly];
        float *gw = full + m->off[ly];
        for (size_t i = 0; i < cnt; i++) {
            sq += (double)w[i] * w[i];
            gw[i] += (float)F.l2 * w[i];
        }
    }
    *f = loss / W + 0.5 * F.l2 * sq;
    if (g)
        memcpy(g, full, m->n_par * sizeof *g);
done:
    lift_free(rows);
    lift_free(full);
    fit_release(&F);
    return rc;
}

/* ---- using a fitted model ----------------------------------------------- */

/* A workspace of cap rows without dropout: on the stack buffer when it
 * fits, else on the heap; false when neither. */
static bool scratch(struct work *w, const struct mlp *m, size_t cap,
                    float *stack, size_t n_stack)
{
    size_t need = work_floats(m, cap, false);
    if (need <= n_stack) {
        work_carve(w, m, cap, false, stack);
        return true;
    }
    return work_init(w, m, cap, false, NULL) == LIFT_OK;
}

static void mlp_predict(const struct lift_learner *l, const uint32_t *idx,
                        const float *val, size_t nnz, double *out)
{
    blas_init();
    const struct mlp *m = l->state;
    LIFT_ASSERT(m);
    size_t k = m->width[m->n_layers];
    float stack[STACK_FLOATS];
    struct work w;
    if (!scratch(&w, m, 1, stack, STACK_FLOATS)) {
        for (size_t c = 0; c < k; c++)
            out[c] = NAN;
        return;
    }
    embed(m, idx, val, nnz, w.pre[0]);
    forward(m, &w, 1, NULL, 1.0f);
    for (size_t c = 0; c < k; c++)
        out[c] = w.pre[m->n_layers - 1][c];
    work_release(&w);
}

/* Integrated gradients (see the overview); NAN and zero contributions
 * when scratch memory cannot be had. */
static double mlp_explain(const struct lift_learner *l, const uint32_t *idx,
                          const float *val, size_t nnz, size_t k,
                          double *contrib)
{
    blas_init();
    const struct mlp *m = l->state;
    LIFT_ASSERT(m && k < m->width[m->n_layers]);
    size_t n = m->width[0], h = m->width[1], K = m->width[m->n_layers];
    size_t S = IG_STEPS, rows = S + 1; /* the last row: the baseline */
    struct work w;
    float *e = lift_malloc_array(2 * h, sizeof *e), *gbar = e ? e + h : NULL;
    for (size_t i = 0; i < nnz; i++)
        contrib[i] = 0.0;
    if (!e || work_init(&w, m, rows, false, NULL) != LIFT_OK) {
        lift_free(e);
        return NAN;
    }
    const float *b0 = m->par + n * h;
    embed(m, idx, val, nnz, e);
    for (size_t c = 0; c < h; c++)
        e[c] -= b0[c];
    for (size_t s = 0; s < rows; s++) {
        float a = s < S ? (float)(((double)s + 0.5) / (double)S) : 0.0f;
        float *z = w.pre[0] + s * h;
        for (size_t c = 0; c < h; c++)
            z[c] = b0[c] + a * e[c];
    }
    forward(m, &w, rows, NULL, 1.0f);
    double base = w.pre[m->n_layers - 1][S * K + k];
    memset(w.da, 0, rows * K * sizeof *w.da);
    for (size_t s = 0; s < S; s++)
        w.da[s * K + k] = 1.0f;
    const float *delta = backward(m, &w, rows, NULL);
    for (size_t c = 0; c < h; c++) {
        double sum = 0.0;
        for (size_t s = 0; s < S; s++)
            sum += delta[s * h + c];
        gbar[c] = (float)(sum / (double)S);
    }
    for (size_t i = 0; i < nnz; i++) {
        if (idx[i] >= n)
            continue;
        const float *row = m->par + (size_t)idx[i] * h;
        double dot = 0.0;
        for (size_t c = 0; c < h; c++)
            dot += (double)row[c] * gbar[c];
        contrib[i] = (double)val[i] * dot;
    }
    work_release(&w);
    lift_free(e);
    return base;
}

/*
 * Layout: u64 weight layers H + 1, H + 2 u64 widths (inputs, hidden...,
 * outputs), u8 activation (0 relu, 1 tanh), u64 count P, P f32
 * parameters in the order of the overview.
 */
static enum lift_code mlp_save(const struct lift_learner *l,
                               struct lift_writer *w, struct lift_error *err)
{
    const struct mlp *m = l->state;
    if (!m)
        return lift_error_set(err, LIFT_ERR_INVALID, "mlp is not fitted");
    lift_writer_u64(w, m->n_layers);
    for (size_t i = 0; i <= m->n_layers; i++)
        lift_writer_u64(w, m->width[i]);
    lift_writer_u8(w, (uint8_t)m->act);
    lift_writer_u64(w, m->n_par);
    lift_writer_f32s(w, m->par, m->n_par);
    return lift_writer_status(w, err);
}

static enum lift_code mlp_load(struct lift_learner *l, struct lift_reader *r,
                               struct lift_error *err)
{
    struct mlp *m = lift_calloc(1, sizeof *m);
    if (!m)
        return lift_error_nomem(err, "mlp model");
    uint64_t nl = lift_reader_u64(r, "mlp layer count");
    if (lift_reader_ok(r) && (nl < 2 || nl > LIFT_MAX_HIDDEN + 1))
        lift_reader_fail(r, "bad mlp layer count %llu", (unsigned long long)nl);
    uint64_t wd[LIFT_MAX_HIDDEN + 2] = {0};
    for (size_t i = 0; lift_reader_ok(r) && i <= nl; i++) {
        wd[i] = lift_reader_u64(r, "mlp layer width");
        uint64_t hi = i == 0 ? MAX_INPUTS : i == nl ? MAX_OUTPUTS : MAX_WIDTH;
        if (lift_reader_ok(r) && (wd[i] < 1 || wd[i] > hi))
            lift_reader_fail(r, "bad mlp width %llu of layer %zu",
                             (unsigned long long)wd[i], i);
    }
    if (lift_reader_ok(r) && ((l->n_inputs && l->n_inputs != wd[0]) ||
                              (l->n_outputs && l->n_outputs != wd[nl])))
        lift_reader_fail(r, "bad mlp shape: %llu inputs, %llu outputs",
                         (unsigned long long)wd[0], (unsigned long long)wd[nl]);
    uint8_t act = lift_reader_u8(r, "mlp activation");
    if (lift_reader_ok(r) && act > LIFT_ACT_TANH)
        lift_reader_fail(r, "bad mlp activation %u", act);
    size_t hidden[LIFT_MAX_HIDDEN];
    for (size_t i = 1; lift_reader_ok(r) && i < nl; i++)
        hidden[i - 1] = (size_t)wd[i];
    if (lift_reader_ok(r) && mlp_shape(m, (size_t)wd[0], (size_t)wd[nl], hidden,
                                       (size_t)nl - 1, NULL))
        lift_reader_fail(r, "mlp parameter count overflows");
    size_t np = lift_reader_ok(r) ? lift_reader_count(r, sizeof(float),
                                                      SIZE_MAX, "mlp parameter")
                                  : 0;
    if (lift_reader_ok(r) && np != m->n_par)
        lift_reader_fail(r, "%zu mlp parameters for a shape of %zu", np,
                         m->n_par);
    if (lift_reader_ok(r)) {
        m->act = (enum lift_activation)act;
        if (!(m->par = lift_malloc_array(np, sizeof *m->par))) {
            mlp_free(m);
            return lift_error_nomem(err, "mlp parameters");
        }
        lift_reader_f32s(r, m->par, np, "mlp parameters");
    }
    for (size_t i = 0; lift_reader_ok(r) && i < m->n_par; i++)
        if (!isfinite(m->par[i]))
            lift_reader_fail(r, "mlp parameter %zu is not finite", i);
    enum lift_code rc = lift_reader_status(r, err);
    if (rc) {
        mlp_free(m);
        return rc;
    }
    /* one output is binary or regression: the model's task says which */
    install(l, m, m->width[m->n_layers] > 1 ? LIFT_TASK_MULTICLASS : l->task);
    return LIFT_OK;
}

const struct lift_learner_ops lift_mlp_ops = {
    .name = "mlp",
    .fit = mlp_fit,
    .predict = mlp_predict,
    .explain = mlp_explain,
    .save = mlp_save,
    .load = mlp_load,
    .destroy = mlp_destroy,
};
