/*
 * models/gbdt.c - gradient-boosted decision trees on the pipeline's
 * binned view: binary log loss, squared error and softmax (one tree per
 * class and round).
 *
 * Boosting. Scores start at the link of the base rate (logit of the
 * positive share, mean target, log class shares). Each round computes
 * per row the gradient g and hessian h of the loss at the current score
 * and grows one tree per output on them; a leaf holding rows with sums
 * G, H gets the Newton step -lr G / (H + l2). A split of a node (G, H)
 * into (G_L, H_L) and (G_R, H_R) reduces the second-order objective by
 *     gain = 1/2 [G_L^2 / (H_L + l2) + G_R^2 / (H_R + l2) - G^2 / (H + l2)]
 * and is taken when gain > 0 and each child has hessian >= min-child-
 * weight and at least one row. Softmax uses h = K / (K - 1) p (1 - p),
 * the diagonal of the softmax hessian scaled so that two classes give
 * the binary model's steps.
 *
 * Histograms. A node's rows are a contiguous range of one index array,
 * partitioned stably at each split, so rows stay in ascending order and
 * a histogram build walks memory forward. A column has one slot (g, h,
 * count) per bin, then the rare level's (categorical) and the missing
 * rows': the compact layout of lift_gbdt_slots, 391 slots for the
 * bank file's 19 columns rather than 19 x 256, so that a node's
 * histogram stays in the L1 cache and zeroing, subtracting and scanning
 * it cost little. The fit first turns the column-major codes into one
 * record per row holding each column's slot index (16 bits, the column's
 * offset included), so a build reads per row one record, one gradient
 * pair and one index, and adds (g, h, 1) to every column's slot with one
 * vector add. Only the smaller child of a split is built from its rows;
 * the larger is the parent's histogram minus it, computed in place in
 * the parent's buffer. The model is the same, bit for bit, as with the
 * 256-slot layout that lift_gbdt_hist_build keeps as the reference: the
 * same sums in the same order.
 *
 * Splits. Numeric columns: every threshold "code <= t", with the missing
 * rows tried on both sides (the better one is the learned default
 * direction; with no missing rows, missing goes to the larger child).
 * Categorical columns: levels with at least min_cat_count rows in the
 * node are sorted by g / (h + cat_smooth) and every prefix of that order
 * from either end goes left; the other levels (rare, unseen, too small)
 * go right, and missing rows try both sides as for numbers. For squared
 * error with l2 = 0 and cat_smooth = 0 the best prefix is the best of all
 * two-way partitions (Fisher, 1958); tests/unit/test_gbdt.c checks both
 * kinds against an exhaustive search.
 *
 * Growth. Every node whose best split is known is a candidate. Without
 * --leaves every candidate within --depth is split (depth-wise), a level
 * at a time; with --leaves the candidate of largest gain is split first
 * until the tree has that many leaves (leaf-wise, still capped by
 * --depth when given), a node at a time.
 *
 * Threads. Histogram building (the hot loop), the subtraction and the
 * split search are shared over columns: the active columns are cut into
 * one group per thread, a task is one group of one node (every node of
 * a level in one job), and the threads claim tasks from a counter. Each
 * column's histogram is summed by one thread in row order, so the model
 * does not depend on the thread count at all.
 * Splitting the rows instead (each worker summing its block of rows for
 * every column, the blocks added afterwards) measured no faster on the
 * bank split on two shared cores (best of 9 fits: 0.68 s against 0.69 s)
 * and would tie the model to the thread count, so columns it is.
 * Gradients are computed in 16 fixed row blocks; a level's partition in
 * blocks of at most 8192 rows of its nodes, joined in order afterwards
 * (the last level, whose children are leaves, is not partitioned: the
 * score update sends each row of the parent to its leaf itself);
 * the scores' update in blocks of at most 2048 rows of a leaf; the
 * root's totals beside a column group. A job over such blocks groups
 * consecutive ones into about 4 tasks per thread, and a level's
 * histogram tasks run largest first: on two cores a cache line's round
 * trip between them costs about half a microsecond, so every task claim
 * counts, and the threads should end a job together. Workers are a
 * persistent pool; between jobs they poll for a while (yielding now and
 * then) before they sleep, since the jobs of a tree come tens of
 * microseconds apart and a futex wake costs about as much; each thread
 * counts the tasks it ran once per job. Small jobs run on the calling
 * thread alone, and the caller takes over the tasks of a worker slow to
 * wake.
 * Histograms and node totals go through the reducer, so a data-parallel
 * backend sums them over workers (then node by node, since a histogram
 * must be summed before it is read).
 *
 * Early stopping: with validation rows, the validation loss is tracked
 * per round, the fit stops after `patience` rounds without improvement
 * and the trees past the best round are dropped.
 *
 * Storage: all trees' nodes in one array (struct lift_gbdt_node, 12
 * bytes), leaf values and covers beside it, categorical sets as 32-byte
 * bitmaps. The file stores per node its packed column/threshold/flags
 * (u32) and cover (u32), then for a leaf its value (f64), for an inner
 * node its left child (u32), its set (u32, categorical only) and its gain
 * (f32): 16 bytes a node. Predicting a batch of column-major rows walks
 * one tree for a block of rows at a time (tree_add_batch), so the tree's
 * nodes stay in cache.
 *
 * Explanations: exact path-dependent TreeSHAP (Lundberg, Erion and Lee,
 * 2018, algorithm 2): per tree O(L D^2) for L leaves and depth D.
 */
#include "models/gbdt.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lift/metrics.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "features/pipeline.h"

/* as models/model.c's apply_defaults, for callers without it */
#define DEFAULT_TREES 200
#define DEFAULT_DEPTH 3
#define DEFAULT_LR 0.05
#define DEFAULT_PATIENCE 20
#define REPORT_EVERY 10
#define MAX_DEPTH 64
#define MAX_THREADS 64
#define MIN_CAT_COUNT 10.0
#define CAT_SMOOTH 10.0
/* rows x columns below which one thread builds a histogram: waking the
 * pool costs about what 20k slot updates do */
#define PARALLEL_MIN_WORK 20000
#define MAX_TREES ((uint64_t)1 << 24)
#define MAX_NODES ((uint64_t)1 << 28)

/* ---- histograms and splits ---------------------------------------------- */

/* Up to four columns per pass over the rows: each row's index and
 * gradient pair are read once, and the four columns' slot updates are
 * independent, so the processor overlaps them. (Within one column,
 * rows that share a code form a chain of dependent adds; the other
 * columns' updates fill that wait.) Every column is summed in row order
 * whatever its group, so a column's histogram does not depend on which
 * columns share its pass, nor on the thread that builds it. */
void lift_gbdt_hist_build(const struct lift_binned *x, const uint32_t *cols,
                          size_t n_cols, const uint32_t *rows, size_t n,
                          const double *gh, struct lift_gbdt_bin *h)
{
    size_t stride = x->n_rows;
    size_t j = 0;
    for (; j + 4 <= n_cols; j += 4) {
        const uint8_t *c0 = x->codes + cols[j] * stride;
        const uint8_t *c1 = x->codes + cols[j + 1] * stride;
        const uint8_t *c2 = x->codes + cols[j + 2] * stride;
        const uint8_t *c3 = x->codes + cols[j + 3] * stride;
        struct lift_gbdt_bin *h0 = h + (size_t)cols[j] * LIFT_GBDT_SLOTS;
        struct lift_gbdt_bin *h1 = h + (size_t)cols[j + 1] * LIFT_GBDT_SLOTS;
        struct lift_gbdt_bin *h2 = h + (size_t)cols[j + 2] * LIFT_GBDT_SLOTS;
        struct lift_gbdt_bin *h3 = h + (size_t)cols[j + 3] * LIFT_GBDT_SLOTS;
        for (size_t i = 0; i < n; i++) {
            size_t r = rows[i];
            double g = gh[2 * r], hs = gh[2 * r + 1];
            struct lift_gbdt_bin *b0 = h0 + c0[r], *b1 = h1 + c1[r];
            struct lift_gbdt_bin *b2 = h2 + c2[r], *b3 = h3 + c3[r];
            b0->g += g, b0->h += hs, b0->n += 1.0;
            b1->g += g, b1->h += hs, b1->n += 1.0;
            b2->g += g, b2->h += hs, b2->n += 1.0;
            b3->g += g, b3->h += hs, b3->n += 1.0;
        }
    }
    for (; j < n_cols; j++) {
        const uint8_t *c = x->codes + cols[j] * stride;
        struct lift_gbdt_bin *hc = h + (size_t)cols[j] * LIFT_GBDT_SLOTS;
        for (size_t i = 0; i < n; i++) {
            size_t r = rows[i];
            struct lift_gbdt_bin *b = hc + c[r];
            b->g += gh[2 * r], b->h += gh[2 * r + 1], b->n += 1.0;
        }
    }
}

static double leaf_score(double g, double h, double l2)
{
    return g * g / (h + l2);
}

static void bin_add(struct lift_gbdt_bin *a, const struct lift_gbdt_bin *b)
{
    a->g += b->g;
    a->h += b->h;
    a->n += b->n;
}

static struct lift_gbdt_bin bin_sub(const struct lift_gbdt_bin *a,
                                    const struct lift_gbdt_bin *b)
{
    struct lift_gbdt_bin d = {a->g - b->g, a->h - b->h, a->n - b->n, 0};
    return d;
}

static bool child_ok(const struct lift_gbdt_bin *c,
                     const struct lift_gbdt_split_params *sp)
{
    return c->n >= 1.0 && c->h >= sp->min_child_weight;
}

/* Considers left L (right = total - L); keeps it in *best when better. */
static bool consider(const struct lift_gbdt_bin *L,
                     const struct lift_gbdt_bin *total, double parent,
                     const struct lift_gbdt_split_params *sp,
                     struct lift_gbdt_split *best)
{
    struct lift_gbdt_bin R = bin_sub(total, L);
    if (!child_ok(L, sp) || !child_ok(&R, sp))
        return false;
    double gain = 0.5 * (leaf_score(L->g, L->h, sp->l2) +
                         leaf_score(R.g, R.h, sp->l2) - parent);
    if (!(gain > best->gain))
        return false;
    best->gain = gain;
    best->left = *L;
    best->right = R;
    return true;
}

/* The split functions read a column's histogram as n_bins slots h[0..n_bins)
 * for the bins (levels), with the rare level's and the missing rows'
 * slots passed apart: the 256-slot layout of lift_gbdt_hist_build and the
 * fit's compact layout (lift_gbdt_slot) both fit that. */
static bool split_numeric(const struct lift_gbdt_bin *h, unsigned n_bins,
                          const struct lift_gbdt_bin *miss,
                          const struct lift_gbdt_bin *total, double parent,
                          const struct lift_gbdt_split_params *sp,
                          struct lift_gbdt_split *best)
{
    bool has_missing = miss->n > 0, found = false;
    struct lift_gbdt_bin L = {0, 0, 0, 0};
    for (unsigned t = 0; t + 1 < n_bins; t++) {
        bin_add(&L, h + t);
        if (consider(&L, total, parent, sp, best)) {
            best->thr = (uint8_t)t;
            best->default_left = !has_missing && L.n >= best->right.n;
            found = true;
        }
        if (has_missing) {
            struct lift_gbdt_bin LM = L;
            bin_add(&LM, miss);
            if (consider(&LM, total, parent, sp, best)) {
                best->thr = (uint8_t)t;
                best->default_left = true;
                found = true;
            }
        }
    }
    return found;
}

struct level {
    double key;
    unsigned code;                  /* LIFT_BIN_RARE for the rare level */
    const struct lift_gbdt_bin *at; /* its slot */
};

/* Ascending by key, then by code: a total order, so that the insertion
 * sort below gives the one order whatever the input order. */
static bool level_before(const struct level *x, const struct level *y)
{
    if (x->key != y->key)
        return x->key < y->key;
    return x->code < y->code;
}

static void set_bit(uint8_t *set, unsigned c)
{
    set[c >> 3] = (uint8_t)(set[c >> 3] | (1u << (c & 7)));
}

static bool split_categorical(const struct lift_gbdt_bin *h, unsigned n_bins,
                              const struct lift_gbdt_bin *rare,
                              const struct lift_gbdt_bin *miss,
                              const struct lift_gbdt_bin *total, double parent,
                              const struct lift_gbdt_split_params *sp,
                              struct lift_gbdt_split *best)
{
    struct level lv[LIFT_GBDT_SLOTS];
    size_t m = 0;
    bool has_missing = miss->n > 0, found = false;
    /* levels 0..n_bins-1, then the rare level: ascending codes */
    unsigned nb = n_bins < LIFT_BIN_RARE ? n_bins : LIFT_BIN_RARE;
    for (unsigned c = 0; c <= nb; c++) {
        const struct lift_gbdt_bin *b = c < nb ? h + c : rare;
        if (!(b->n > 0 && b->n >= sp->min_cat_count))
            continue;
        struct level v = {b->g / (b->h + sp->cat_smooth),
                          c < nb ? c : LIFT_BIN_RARE, b};
        size_t i = m++;
        for (; i > 0 && level_before(&v, &lv[i - 1]); i--)
            lv[i] = lv[i - 1];
        lv[i] = v;
    }
    if (m == 0)
        return false;
    /* missing rows alone on the left */
    if (has_missing && consider(miss, total, parent, sp, best)) {
        found = true;
        memset(best->left_set, 0, sizeof best->left_set);
        set_bit(best->left_set, LIFT_BIN_MISSING);
        best->default_left = true;
    }
    /* dir 0: prefixes of the ascending order; dir 1: of the descending */
    for (int dir = 0; dir < 2; dir++) {
        struct lift_gbdt_bin L = {0, 0, 0, 0};
        for (size_t i = 0; i < m; i++) {
            size_t at = dir ? m - 1 - i : i;
            bin_add(&L, lv[at].at);
            for (int ml = 0; ml < 2; ml++) {
                if (ml && !has_missing)
                    break;
                struct lift_gbdt_bin LM = L;
                if (ml)
                    bin_add(&LM, miss);
                if (!consider(&LM, total, parent, sp, best))
                    continue;
                found = true;
                memset(best->left_set, 0, sizeof best->left_set);
                for (size_t j = 0; j <= i; j++)
                    set_bit(best->left_set, lv[dir ? m - 1 - j : j].code);
                best->default_left =
                    ml || (!has_missing && best->left.n >= best->right.n);
                if (best->default_left)
                    set_bit(best->left_set, LIFT_BIN_MISSING);
            }
        }
    }
    return found;
}

static bool best_split(const struct lift_gbdt_bin *h, size_t col,
                       unsigned n_bins, bool categorical,
                       const struct lift_gbdt_bin *rare,
                       const struct lift_gbdt_bin *miss,
                       const struct lift_gbdt_bin *total,
                       const struct lift_gbdt_split_params *sp,
                       struct lift_gbdt_split *best)
{
    memset(best, 0, sizeof *best);
    best->col = (uint32_t)col;
    best->categorical = categorical;
    if (n_bins == 0 && !categorical)
        return false;
    double parent = leaf_score(total->g, total->h, sp->l2);
    return categorical
               ? split_categorical(h, n_bins, rare, miss, total, parent, sp,
                                   best)
               : split_numeric(h, n_bins, miss, total, parent, sp, best);
}

bool lift_gbdt_best_split(const struct lift_gbdt_bin *h, size_t col,
                          unsigned n_bins, bool categorical,
                          const struct lift_gbdt_bin *total,
                          const struct lift_gbdt_split_params *sp,
                          struct lift_gbdt_split *best)
{
    return best_split(h, col, n_bins, categorical, h + LIFT_BIN_RARE,
                      h + LIFT_BIN_MISSING, total, sp, best);
}

/* ---- the compact layout ---------------------------------------------------
 */

unsigned lift_gbdt_slots(unsigned n_bins, bool categorical)
{
    if (categorical)
        return (n_bins < LIFT_BIN_RARE ? n_bins : LIFT_BIN_RARE) + 2;
    return n_bins ? (n_bins < LIFT_BIN_MISSING ? n_bins : LIFT_BIN_MISSING) + 1
                  : 0;
}

int lift_gbdt_slot(unsigned n_bins, bool categorical, uint8_t code)
{
    if (categorical) {
        unsigned nb = n_bins < LIFT_BIN_RARE ? n_bins : LIFT_BIN_RARE;
        if (code < nb)
            return code;
        return code == LIFT_BIN_RARE      ? (int)nb
               : code == LIFT_BIN_MISSING ? (int)nb + 1
                                          : -1;
    }
    if (n_bins == 0)
        return -1;
    unsigned nb = n_bins < LIFT_BIN_MISSING ? n_bins : LIFT_BIN_MISSING;
    if (code < nb)
        return code;
    return code == LIFT_BIN_MISSING ? (int)nb : -1;
}

/* A column's compact histogram h (lift_gbdt_slots slots): bins, then the
 * rare level (categorical only), then the missing rows. */
static bool best_split_compact(const struct lift_gbdt_bin *h, size_t col,
                               unsigned n_bins, bool categorical,
                               const struct lift_gbdt_bin *total,
                               const struct lift_gbdt_split_params *sp,
                               struct lift_gbdt_split *best)
{
    unsigned w = lift_gbdt_slots(n_bins, categorical);
    if (w == 0) {
        memset(best, 0, sizeof *best);
        return false;
    }
    return best_split(h, col, n_bins, categorical, h + w - 2, h + w - 1, total,
                      sp, best);
}

enum lift_code lift_gbdt_rows_init(struct lift_gbdt_rows *x,
                                   const struct lift_binned *b,
                                   struct lift_error *err)
{
    size_t nc = b->n_cols, n = b->n_rows;
    memset(x, 0, sizeof *x);
    x->n_rows = n;
    x->n_cols = nc;
    if (!(x->off = lift_malloc_array(nc + 1, sizeof *x->off)))
        return lift_error_nomem(err, "gbdt training rows");
    size_t total = 0;
    for (size_t c = 0; c < nc; c++) {
        x->off[c] = (uint32_t)total;
        total += lift_gbdt_slots(b->n_bins[c], b->categorical[c] != 0);
    }
    x->off[nc] = (uint32_t)total;
    bool narrow = total <= 65536;
    if (narrow)
        x->slot16 = lift_malloc_array(n ? n * (nc ? nc : 1) : 1, 2);
    else
        x->slot8 = lift_malloc_array(n ? n * (nc ? nc : 1) : 1, 1);
    if (!x->slot16 && !x->slot8) {
        lift_gbdt_rows_release(x);
        return lift_error_nomem(err, "gbdt training rows");
    }
    for (size_t c = 0; c < nc; c++) {
        unsigned nb = b->n_bins[c];
        bool cat = b->categorical[c] != 0, used = lift_gbdt_slots(nb, cat);
        int slot[LIFT_GBDT_SLOTS];
        for (unsigned code = 0; code < LIFT_GBDT_SLOTS; code++)
            slot[code] = used ? lift_gbdt_slot(nb, cat, (uint8_t)code) : 0;
        const uint8_t *col = b->codes + c * n;
        for (size_t r = 0; r < n; r++) {
            int sl = slot[col[r]];
            if (sl < 0) {
                lift_gbdt_rows_release(x);
                return lift_error_set(err, LIFT_ERR_INVALID,
                                      "row %zu column %zu: bin code %u is "
                                      "outside the column's %u bins",
                                      r, c, (unsigned)col[r], nb);
            }
            if (narrow)
                x->slot16[r * nc + c] = (uint16_t)(x->off[c] + (unsigned)sl);
            else
                x->slot8[r * nc + c] = (uint8_t)sl;
        }
    }
    return LIFT_OK;
}

void lift_gbdt_rows_release(struct lift_gbdt_rows *x)
{
    lift_free(x->off);
    lift_free(x->slot16);
    lift_free(x->slot8);
    memset(x, 0, sizeof *x);
}

/*
 * The histogram pass. All of a row's columns are added in one pass over
 * the rows, so each row's index, gradient pair and record are read once;
 * the columns' slot updates are independent, so the processor overlaps
 * them (within one column, rows that share a slot form a chain of
 * dependent adds, which the other columns' updates fill). A slot update
 * is one 4-double vector add of (g, h, 1, 0): the same IEEE additions as
 * three scalar ones, so the sums do not depend on the instructions used.
 * Every column is summed in row order whatever columns share its pass,
 * so a column's histogram does not depend on the thread that builds it.
 * Rows of a deep node are scattered: their records are prefetched a few
 * rows ahead. On x86-64 the pass is compiled twice, for AVX (one 256-bit
 * add a slot) and for the baseline instruction set (two 128-bit adds),
 * and the processor picks; both give the same sums.
 */
typedef double v4d __attribute__((vector_size(32)));
#define PREFETCH 16

static inline __attribute__((always_inline)) void
slot_add(struct lift_gbdt_bin *b, const v4d *d)
{
    v4d s;
    memcpy(&s, b, sizeof s);
    s += *d;
    memcpy(b, &s, sizeof s);
}

/* The row of position i: rows[i], or i without rows. */
#define ROW(i) (rows ? (size_t)rows[i] : (i))

/* The sums of g and h over rows[0..n), in row order. */
static void sum_rows(const uint32_t *rows, size_t n, const double *gh,
                     double *tot)
{
    double g = 0, h = 0;
    for (size_t i = 0; i < n; i++) {
        g += gh[2 * ROW(i)];
        h += gh[2 * ROW(i) + 1];
    }
    tot[0] = g;
    tot[1] = h;
}

static inline __attribute__((always_inline)) void
hist_rows_body(const struct lift_gbdt_rows *x, const uint32_t *cols,
               size_t n_cols, const uint32_t *rows, size_t n, const double *gh,
               struct lift_gbdt_bin *h, double *tot)
{
    size_t nc = x->n_cols;
    bool run = n_cols > 0;
    for (size_t j = 1; run && j < n_cols; j++)
        run = cols[j] == cols[0] + j;
    if (x->slot16 && run && !rows) {
        /* every row (a root without row sample): a stream, which also
         * sums g and h in row order, as sum_rows does */
        const uint16_t *rec = x->slot16 + cols[0];
        double tg = 0, th = 0;
        for (size_t r = 0; r < n; r++) {
            const uint16_t *row = rec + r * nc;
            v4d d = {gh[2 * r], gh[2 * r + 1], 1.0, 0.0};
            tg += gh[2 * r];
            th += gh[2 * r + 1];
            for (size_t j = 0; j < n_cols; j++)
                slot_add(h + row[j], &d);
        }
        if (tot) {
            tot[0] = tg;
            tot[1] = th;
        }
        return;
    }
    if (tot)
        sum_rows(rows, n, gh, tot);
    if (x->slot16 && run) {
        /* a run of columns (no column sample): no index per column */
        const uint16_t *rec = x->slot16 + cols[0];
        for (size_t i = 0; i < n; i++) {
            size_t r = ROW(i);
            if (i + PREFETCH < n) {
                size_t rp = ROW(i + PREFETCH);
                __builtin_prefetch(rec + rp * nc);
                __builtin_prefetch(gh + 2 * rp);
            }
            const uint16_t *row = rec + r * nc;
            v4d d = {gh[2 * r], gh[2 * r + 1], 1.0, 0.0};
            for (size_t j = 0; j < n_cols; j++)
                slot_add(h + row[j], &d);
        }
        return;
    }
    if (x->slot16) {
        const uint16_t *rec = x->slot16;
        for (size_t i = 0; i < n; i++) {
            size_t r = ROW(i);
            if (i + PREFETCH < n) {
                size_t rp = ROW(i + PREFETCH);
                __builtin_prefetch(rec + rp * nc);
                __builtin_prefetch(gh + 2 * rp);
            }
            const uint16_t *row = rec + r * nc;
            v4d d = {gh[2 * r], gh[2 * r + 1], 1.0, 0.0};
            for (size_t j = 0; j < n_cols; j++)
                slot_add(h + row[cols[j]], &d);
        }
        return;
    }
    const uint8_t *rec = x->slot8;
    for (size_t i = 0; i < n; i++) {
        size_t r = ROW(i);
        if (i + PREFETCH < n) {
            size_t rp = ROW(i + PREFETCH);
            __builtin_prefetch(rec + rp * nc);
            __builtin_prefetch(gh + 2 * rp);
        }
        const uint8_t *row = rec + r * nc;
        v4d d = {gh[2 * r], gh[2 * r + 1], 1.0, 0.0};
        for (size_t j = 0; j < n_cols; j++)
            slot_add(h + x->off[cols[j]] + row[cols[j]], &d);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HIST_AVX 1
__attribute__((target("avx"))) static void
hist_rows_avx(const struct lift_gbdt_rows *x, const uint32_t *cols,
              size_t n_cols, const uint32_t *rows, size_t n, const double *gh,
              struct lift_gbdt_bin *h, double *tot)
{
    hist_rows_body(x, cols, n_cols, rows, n, gh, h, tot);
}
#endif

static void hist_rows_plain(const struct lift_gbdt_rows *x,
                            const uint32_t *cols, size_t n_cols,
                            const uint32_t *rows, size_t n, const double *gh,
                            struct lift_gbdt_bin *h, double *tot)
{
    hist_rows_body(x, cols, n_cols, rows, n, gh, h, tot);
}

/* lift_gbdt_hist_rows, and with tot set the sums of g and h over the
 * rows into tot[0], tot[1] (the same sums as sum_rows). */
static void hist_rows_tot(const struct lift_gbdt_rows *x, const uint32_t *cols,
                          size_t n_cols, const uint32_t *rows, size_t n,
                          const double *gh, struct lift_gbdt_bin *h,
                          double *tot)
{
#ifdef HIST_AVX
    if (__builtin_cpu_supports("avx")) {
        hist_rows_avx(x, cols, n_cols, rows, n, gh, h, tot);
        return;
    }
#endif
    hist_rows_plain(x, cols, n_cols, rows, n, gh, h, tot);
}

void lift_gbdt_hist_rows(const struct lift_gbdt_rows *x, const uint32_t *cols,
                         size_t n_cols, const uint32_t *rows, size_t n,
                         const double *gh, struct lift_gbdt_bin *h)
{
    hist_rows_tot(x, cols, n_cols, rows, n, gh, h, NULL);
}

/* ---- trees: prediction and TreeSHAP ------------------------------------- */

double lift_gbdt_tree_predict(const struct lift_gbdt_tree *t,
                              const uint8_t *codes)
{
    const struct lift_gbdt_node *nd = t->node;
    uint32_t i = 0;
    while (!(nd[i].flags & LIFT_GBDT_LEAF))
        i = nd[i].left +
            !lift_gbdt_goes_left(nd + i, t->cats, codes[nd[i].col]);
    return t->value[i];
}

/* One element of a TreeSHAP path: the column split on, the share of the
 * cover that follows the path when the column is unknown (zero) and
 * whether the row itself follows it (one), and the weight of the
 * subsets of the path's length that this element stands for. */
struct pelem {
    double zero, one, w;
    int64_t col;
};

size_t lift_gbdt_shap_scratch(unsigned depth)
{
    size_t d = (size_t)depth + 2;
    return d * (d + 1) / 2 * (sizeof(struct pelem) / sizeof(double));
}

/* 1 / i for the path lengths of a tree of at most MAX_DEPTH levels: the
 * unwinding loops below then multiply instead of divide, which is most
 * of TreeSHAP's time. */
static double recip(size_t i)
{
    static const double table[] = {
        0,        1,        1.0 / 2,  1.0 / 3,  1.0 / 4,  1.0 / 5,
        1.0 / 6,  1.0 / 7,  1.0 / 8,  1.0 / 9,  1.0 / 10, 1.0 / 11,
        1.0 / 12, 1.0 / 13, 1.0 / 14, 1.0 / 15, 1.0 / 16, 1.0 / 17};
    return i < sizeof table / sizeof table[0] ? table[i] : 1.0 / (double)i;
}

/* Adds an element to the path p[0..len) and updates the weights of the
 * subsets: each old subset either excludes the new column (times zero,
 * moving up one size) or includes it (times one). */
static void path_extend(struct pelem *p, size_t len, double zero, double one,
                        int64_t col)
{
    double r = recip(len + 1), zero_r = zero * r, one_r = one * r;
    p[len] = (struct pelem){zero, one, len == 0 ? 1.0 : 0.0, col};
    for (size_t k = len; k-- > 0;) {
        p[k + 1].w += one_r * p[k].w * (double)(k + 1);
        p[k].w = zero_r * p[k].w * (double)(len - k);
    }
}

/* Undoes path_extend of element i of p[0..len] (len + 1 elements). The
 * "one" fractions are 0 or 1 (a row either follows a split or not). */
static void path_unwind(struct pelem *p, size_t len, size_t i)
{
    double one = p[i].one, zero = p[i].zero, carry = p[len].w;
    double n1 = (double)(len + 1), r1 = recip(len + 1);
    if (one != 0) {
        double inv_one = 1.0 / one;
        for (size_t k = len; k-- > 0;) {
            double old = p[k].w;
            p[k].w = carry * n1 * recip(k + 1) * inv_one;
            carry = old - p[k].w * zero * (double)(len - k) * r1;
        }
    } else {
        double inv_zero = 1.0 / zero;
        for (size_t k = len; k-- > 0;)
            p[k].w = p[k].w * n1 * inv_zero * recip(len - k);
    }
    for (size_t k = i; k < len; k++) {
        p[k].col = p[k + 1].col;
        p[k].zero = p[k + 1].zero;
        p[k].one = p[k + 1].one;
    }
}

/* Total weight of p[0..len] with element i unwound, without changing p. */
static double path_unwound_sum(const struct pelem *p, size_t len, size_t i)
{
    double one = p[i].one, zero = p[i].zero, carry = p[len].w, total = 0;
    double n1 = (double)(len + 1), r1 = recip(len + 1);
    if (one != 0) {
        double inv_one = 1.0 / one;
        for (size_t k = len; k-- > 0;) {
            double w = carry * n1 * recip(k + 1) * inv_one;
            total += w;
            carry = p[k].w - w * zero * (double)(len - k) * r1;
        }
    } else {
        double inv_zero = 1.0 / zero;
        for (size_t k = len; k-- > 0;)
            total += p[k].w * recip(len - k);
        total *= n1 * inv_zero;
    }
    return total;
}

struct shap_ctx {
    const struct lift_gbdt_tree *t;
    const uint8_t *codes;
    double *contrib;
};

static void shap_recurse(const struct shap_ctx *s, uint32_t node,
                         struct pelem *parent, size_t len, double zero,
                         double one, int64_t col)
{
    /* this level's path follows the parent's in the scratch */
    struct pelem *p = parent + len;
    if (len)
        memcpy(p, parent, len * sizeof *p);
    path_extend(p, len, zero, one, col);
    const struct lift_gbdt_node *nd = s->t->node + node;
    if (nd->flags & LIFT_GBDT_LEAF) {
        /* The unwound sum of an element the row does not follow (one
         * = 0) is the same sum over the path divided by its zero
         * fraction: computed once, it serves every such element. */
        double v = s->t->value[node], cold = 0;
        for (size_t k = 0; k < len; k++)
            cold += p[k].w * recip(len - k);
        cold *= (double)(len + 1);
        for (size_t i = 1; i <= len; i++) {
            double w =
                p[i].one != 0 ? path_unwound_sum(p, len, i) : cold / p[i].zero;
            s->contrib[p[i].col] += w * (p[i].one - p[i].zero) * v;
        }
        return;
    }
    uint32_t hot =
        nd->left + !lift_gbdt_goes_left(nd, s->t->cats, s->codes[nd->col]);
    uint32_t cold = hot == nd->left ? nd->left + 1 : nd->left;
    double in_zero = 1, in_one = 1;
    /* a column seen higher on the path: its earlier element folds in */
    for (size_t i = 1; i <= len; i++)
        if (p[i].col == (int64_t)nd->col) {
            in_zero = p[i].zero;
            in_one = p[i].one;
            path_unwind(p, len, i);
            len--;
            break;
        }
    double c = s->t->cover[node];
    shap_recurse(s, hot, p, len + 1, s->t->cover[hot] / c * in_zero, in_one,
                 nd->col);
    shap_recurse(s, cold, p, len + 1, s->t->cover[cold] / c * in_zero, 0,
                 nd->col);
}

static double tree_expected(const struct lift_gbdt_tree *t)
{
    double sum = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        if (t->node[i].flags & LIFT_GBDT_LEAF)
            sum += t->value[i] * t->cover[i];
    return t->cover[0] > 0 ? sum / t->cover[0] : 0.0;
}

static void shap_tree(const struct lift_gbdt_tree *t, const uint8_t *codes,
                      double *contrib, double *scratch)
{
    struct shap_ctx s = {t, codes, contrib};
    if (!(t->node[0].flags & LIFT_GBDT_LEAF))
        shap_recurse(&s, 0, (struct pelem *)(void *)scratch, 0, 1, 1, -1);
}

double lift_gbdt_tree_shap(const struct lift_gbdt_tree *t, const uint8_t *codes,
                           unsigned depth, double *contrib, double *scratch)
{
    (void)depth;
    shap_tree(t, codes, contrib, scratch);
    return tree_expected(t);
}

/* ---- the model ---------------------------------------------------------- */

struct gbdt {
    size_t k;        /* outputs */
    size_t n_cols;   /* input columns */
    double *base;    /* k */
    size_t n_trees;  /* rounds * k; tree i adds to output i % k */
    uint32_t *start; /* n_trees + 1 node offsets */
    struct lift_gbdt_node *node;
    double *value, *cover, *gain; /* per node */
    size_t n_nodes, cap_nodes;
    uint8_t *cats; /* n_cats * 32 */
    size_t n_cats, cap_cats;
    unsigned *depth;  /* per tree */
    double *expected; /* per tree */
    unsigned max_depth;
};

static void gbdt_free(struct gbdt *g)
{
    if (!g)
        return;
    lift_free(g->base);
    lift_free(g->start);
    lift_free(g->node);
    lift_free(g->value);
    lift_free(g->cover);
    lift_free(g->gain);
    lift_free(g->cats);
    lift_free(g->depth);
    lift_free(g->expected);
    lift_free(g);
}

static void gbdt_destroy(struct lift_learner *l)
{
    gbdt_free(l->state);
    l->state = NULL;
}

static struct lift_gbdt_tree tree_view(const struct gbdt *g, size_t i)
{
    uint32_t s = g->start[i];
    struct lift_gbdt_tree t = {g->node + s, g->value + s, g->cover + s, g->cats,
                               g->start[i + 1] - s};
    return t;
}

static unsigned tree_depth(const struct lift_gbdt_tree *t, unsigned *scratch)
{
    /* parents come before their children, so one forward pass sees every
     * path; a node with two parents (only in a hostile file) takes the
     * deeper one, which keeps the TreeSHAP scratch large enough */
    unsigned d = 0;
    memset(scratch, 0, t->n_nodes * sizeof *scratch);
    for (size_t i = 0; i < t->n_nodes; i++) {
        if (t->node[i].flags & LIFT_GBDT_LEAF) {
            d = scratch[i] > d ? scratch[i] : d;
            continue;
        }
        for (uint32_t c = t->node[i].left; c <= t->node[i].left + 1; c++)
            if (scratch[c] < scratch[i] + 1)
                scratch[c] = scratch[i] + 1;
    }
    return d;
}

/* Per-tree depth and expected value, after fit or load. */
static enum lift_code finish_trees(struct gbdt *g, struct lift_error *err)
{
    lift_free(g->depth);
    lift_free(g->expected);
    g->depth = lift_malloc_array(g->n_trees ? g->n_trees : 1, sizeof *g->depth);
    g->expected =
        lift_malloc_array(g->n_trees ? g->n_trees : 1, sizeof *g->expected);
    size_t widest = 1;
    for (size_t i = 0; i < g->n_trees; i++)
        if (g->start[i + 1] - g->start[i] > widest)
            widest = g->start[i + 1] - g->start[i];
    unsigned *scratch = lift_malloc_array(widest, sizeof *scratch);
    if (!g->depth || !g->expected || !scratch) {
        lift_free(scratch);
        return lift_error_nomem(err, "trees");
    }
    g->max_depth = 0;
    for (size_t i = 0; i < g->n_trees; i++) {
        struct lift_gbdt_tree t = tree_view(g, i);
        g->depth[i] = tree_depth(&t, scratch);
        if (g->depth[i] > g->max_depth)
            g->max_depth = g->depth[i];
        g->expected[i] = tree_expected(&t);
    }
    lift_free(scratch);
    return LIFT_OK;
}

static void gbdt_predict_binned(const struct lift_learner *l,
                                const uint8_t *codes, double *out)
{
    const struct gbdt *g = l->state;
    for (size_t k = 0; k < g->k; k++)
        out[k] = g->base[k];
    for (size_t i = 0; i < g->n_trees; i++) {
        struct lift_gbdt_tree t = tree_view(g, i);
        out[i % g->k] += lift_gbdt_tree_predict(&t, codes);
    }
}

static double gbdt_explain_binned(const struct lift_learner *l,
                                  const uint8_t *codes, size_t k,
                                  double *contrib)
{
    const struct gbdt *g = l->state;
    memset(contrib, 0, g->n_cols * sizeof *contrib);
    double base = g->base[k];
    size_t need = lift_gbdt_shap_scratch(g->max_depth);
    double stack[4096];
    double *scratch = need <= 4096 ? stack : lift_malloc_array(need, 8);
    if (!scratch)
        return NAN; /* the interface has no error channel */
    for (size_t i = k; i < g->n_trees; i += g->k) {
        struct lift_gbdt_tree t = tree_view(g, i);
        shap_tree(&t, codes, contrib, scratch);
        base += g->expected[i];
    }
    if (scratch != stack)
        lift_free(scratch);
    return base;
}

/* ---- the worker pool ---------------------------------------------------- */

/*
 * A job is n_tasks independent tasks. The caller and the workers claim
 * them one at a time from a shared counter, so when a worker is slow to
 * wake (a busy machine) the caller takes its share instead of waiting;
 * the caller returns once every task is done. The counter carries the
 * job's generation in its high half, so a worker that wakes after its
 * job ended claims nothing (and never reads a finished job's context).
 * Tasks write disjoint outputs that do not depend on who ran them.
 */
typedef void (*job_fn)(void *ctx, unsigned task);

struct pool {
    unsigned n; /* threads, the caller included */
    pthread_t tid[MAX_THREADS];
    unsigned started;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    _Atomic uint32_t gen; /* written under mu */
    unsigned sleepers;    /* workers waiting on go, under mu */
    bool quit;
    job_fn fn; /* the job, under mu */
    void *ctx;
    unsigned n_tasks;
    _Atomic uint64_t next; /* gen << 32 | next task */
    _Atomic unsigned n_done;
    _Atomic bool waiting; /* the caller sleeps on done */
};

/* Claims and runs tasks of job gen until none is left, then adds how
 * many it ran to n_done (once, rather than a move of that counter
 * between the cores per task). Whoever completes the count wakes the
 * caller if it sleeps: the caller sets waiting before it reads n_done
 * and this reads waiting after adding to n_done, both sequentially
 * consistent, so one of the two sees the other. */
static void run_tasks(struct pool *p, uint32_t gen, job_fn fn, void *ctx,
                      unsigned n_tasks)
{
    unsigned ran = 0;
    for (;;) {
        uint64_t cur = atomic_load(&p->next);
        if ((uint32_t)(cur >> 32) != gen || (uint32_t)cur >= n_tasks)
            break;
        if (!atomic_compare_exchange_weak(&p->next, &cur, cur + 1))
            continue;
        fn(ctx, (uint32_t)cur);
        ran++;
    }
    if (ran && atomic_fetch_add(&p->n_done, ran) + ran == n_tasks &&
        atomic_load(&p->waiting)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

/* How long a worker (and the caller, for the last tasks) polls before
 * it sleeps: the jobs of one tree follow each other within tens of
 * microseconds, and a futex wake costs about as much as a small job.
 * Every YIELD_EVERY polls it yields the processor, so that on a busy
 * machine the poll does not hold a core that other work is waiting
 * for. */
#define SPIN 4000
#define YIELD_EVERY 64

static void cpu_relax(unsigned i)
{
    if (i % YIELD_EVERY == YIELD_EVERY - 1) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    uint32_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (atomic_load(&p->gen) == seen && !p->quit) {
            pthread_mutex_unlock(&p->mu);
            for (unsigned i = 0; i < SPIN && atomic_load(&p->gen) == seen; i++)
                cpu_relax(i);
            pthread_mutex_lock(&p->mu);
        }
        p->sleepers++;
        while (atomic_load(&p->gen) == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        p->sleepers--;
        if (p->quit)
            break;
        /* the job is read with its generation under mu: a worker that
         * read a later job's task count could otherwise claim from the
         * finished job's counter before the caller resets it */
        seen = p->gen;
        job_fn fn = p->fn;
        void *ctx = p->ctx;
        unsigned n_tasks = p->n_tasks;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p, seen, fn, ctx, n_tasks);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts n - 1 workers (fewer if the system refuses threads: the jobs
 * then run on fewer threads, with the same results). */
static void pool_start(struct pool *p, unsigned n)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->n_done, 0);
    atomic_init(&p->gen, 0);
    atomic_init(&p->waiting, false);
    p->n = 1;
    for (unsigned t = 1; t < n && t < MAX_THREADS; t++) {
        if (pthread_create(&p->tid[t - 1], NULL, worker_main, p))
            break;
        p->started++;
        p->n++;
    }
}

static void pool_run(struct pool *p, job_fn fn, void *ctx, unsigned n_tasks,
                     bool parallel)
{
    if (!parallel || p->n == 1 || n_tasks < 2) {
        for (unsigned t = 0; t < n_tasks; t++)
            fn(ctx, t);
        return;
    }
    pthread_mutex_lock(&p->mu);
    uint32_t gen = atomic_load(&p->gen) + 1;
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->n_done, 0);
    atomic_store(&p->next, (uint64_t)gen << 32);
    atomic_store(&p->gen, gen);
    if (p->sleepers)
        pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, gen, fn, ctx, n_tasks);
    for (unsigned i = 0; i < SPIN && atomic_load(&p->n_done) < n_tasks; i++)
        cpu_relax(i);
    if (atomic_load(&p->n_done) == n_tasks)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->waiting, true);
    while (atomic_load(&p->n_done) < n_tasks)
        pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->waiting, false);
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (unsigned t = 0; t < p->started; t++)
        pthread_join(p->tid[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
}

/* Tasks over rows for gradients: a fixed number of blocks, so that even
 * the loss sums do not depend on the thread count. */
#define GRAD_BLOCKS 16

/* ---- fitting ------------------------------------------------------------ */

enum objective {
    OBJ_LOGISTIC,
    OBJ_SQUARED,
    OBJ_SOFTMAX,
};

/* A block of rows of a pair's parent that one task partitions. */
struct part {
    size_t pair, begin, end, nl;
    bool whole;        /* the block is its parent's rows: the task joins them */
    size_t at_l, at_r; /* else where its left and right rows go in idx */
};

/* A task of a level's histogram job: column group `group` of `groups` of
 * the pair `pair`, and its cost (rows times columns) for the order. */
struct ltask {
    uint32_t pair, group, groups;
    double cost;
};

/* A leaf of the growing tree: rows idx[begin..end), its node, its best
 * split (when one is known) and its histogram while it may still split. */
struct cand {
    size_t begin, end;
    uint32_t node;
    unsigned depth;
    /* when nonzero: a left leaf whose rows and its right sibling's
     * (node + 1) are idx[begin..end) unpartitioned, split by the go
     * table and column of pair `unsplit - 1` of the last level */
    uint32_t unsplit;
    struct lift_gbdt_bin total;
    struct lift_gbdt_split split;
    bool splittable;
    struct lift_gbdt_bin *hist;
};

struct fit {
    const struct lift_train_data *d;
    const struct lift_train_params *p;
    const struct lift_binned *x;
    /* the rows as records of compact histogram slots; column c's slots
     * are rows.off[c]..rows.off[c + 1] */
    struct lift_gbdt_rows rows;
    size_t n_groups; /* column groups of a histogram job */
    enum objective obj;
    size_t n, nc, k;
    struct lift_gbdt_split_params sp;
    unsigned depth, leaves, rounds;
    double lr;
    struct pool pool;
    struct lift_rng rng;
    /* per round */
    double *z;         /* n * k training scores */
    double *gh;        /* k * 2n gradient pairs, class-major */
    double *loss_part; /* per part */
    uint32_t *idx;     /* rows: the sample first */
    /* idx is 0, 1, ... n - 1 but not written (every row in the sample):
     * until the tree's first partition, which reads the rows as such */
    bool idx_identity;
    uint32_t *tmp;  /* partition scratch */
    uint32_t *tmp2; /* and the left rows of a parent's blocks */
    size_t n_sample;
    uint32_t *cols; /* active columns of this tree */
    size_t n_active;
    /* per tree */
    struct cand *cand;
    size_t n_cand, cap_cand;
    struct lift_gbdt_bin **free_hist;
    size_t n_free;
    struct lift_gbdt_bin **all_hist;
    size_t n_all;
    struct lift_gbdt_split *col_best; /* per child and active column */
    struct cand *kids;                /* grow_level's children */
    size_t cap_kids;
    uint8_t *pair_go;   /* per pair of kids: its split's go table */
    uint32_t *pair_col; /* and column */
    struct part *parts; /* the blocks of rows a level partitions */
    size_t cap_parts;
    struct ltask *ltask; /* the tasks of a level's histogram job */
    size_t cap_ltask;
    uint32_t *task_at; /* a job's tasks over parts: group_parts */
    size_t cap_task_at;
    bool want_loss; /* grad_job also sums the loss */
    /* update_train also computes the next round's gradient pairs (one
     * output, every row in the tree, no loss wanted next round) */
    bool fuse_grad;
    /* validation */
    double *vz;
    uint8_t *vlab;
    uint8_t *vrow; /* one validation row's codes */
};

static struct lift_gbdt_bin *hist_get(struct fit *F)
{
    if (F->n_free)
        return F->free_hist[--F->n_free];
    size_t slots = F->rows.off[F->nc];
    struct lift_gbdt_bin *h = lift_malloc_array(slots ? slots : 1, sizeof *h);
    if (!h)
        return NULL;
    struct lift_gbdt_bin **a =
        lift_realloc_array(F->all_hist, F->n_all + 1, sizeof *a);
    struct lift_gbdt_bin **f =
        a ? lift_realloc_array(F->free_hist, F->n_all + 1, sizeof *f) : NULL;
    if (a)
        F->all_hist = a;
    if (f)
        F->free_hist = f;
    if (!a || !f) {
        lift_free(h);
        return NULL;
    }
    F->all_hist[F->n_all++] = h;
    return h;
}

static void hist_put(struct fit *F, struct lift_gbdt_bin *h)
{
    if (h)
        F->free_hist[F->n_free++] = h;
}

/* The gradient pair of row r at score z for a single-output objective
 * (logistic or squared error), into gh[2 r], gh[2 r + 1]. */
static inline void grad_one(const struct fit *F, size_t r, double z, double *gh)
{
    double wt = F->d->w ? F->d->w[r] : 1.0;
    if (F->obj == OBJ_LOGISTIC) {
        double p = 1.0 / (1.0 + exp(-z));
        double h = p * (1.0 - p);
        gh[2 * r] = wt * (p - F->d->y[r]);
        gh[2 * r + 1] = wt * (h > 1e-16 ? h : 1e-16);
    } else {
        gh[2 * r] = wt * (z - F->d->y[r]);
        gh[2 * r + 1] = wt;
    }
}

/* Gradient pairs of every output and the loss, for rows in part. */
static void grad_job(void *ctx, unsigned part)
{
    struct fit *F = ctx;
    size_t n = F->n, k = F->k;
    size_t r0 = n * part / GRAD_BLOCKS, r1 = n * (part + 1) / GRAD_BLOCKS;
    const double *y = F->d->y, *w = F->d->w;
    double loss = 0;
    for (size_t r = r0; r < r1; r++) {
        double wt = w ? w[r] : 1.0;
        const double *z = F->z + r * k;
        if (F->obj == OBJ_LOGISTIC) {
            grad_one(F, r, z[0], F->gh);
            /* log(1 + e^z) - y z, stable on both sides */
            if (F->want_loss)
                loss += wt * ((z[0] > 0 ? z[0] + log1p(exp(-z[0]))
                                        : log1p(exp(z[0]))) -
                              y[r] * z[0]);
        } else if (F->obj == OBJ_SQUARED) {
            double e = z[0] - y[r];
            grad_one(F, r, z[0], F->gh);
            loss += 0.5 * wt * e * e;
        } else {
            double mx = z[0], sum = 0;
            for (size_t c = 1; c < k; c++)
                mx = z[c] > mx ? z[c] : mx;
            for (size_t c = 0; c < k; c++)
                sum += exp(z[c] - mx);
            size_t yc = (size_t)y[r];
            double scale = (double)k / (double)(k - 1);
            for (size_t c = 0; c < k; c++) {
                double p = exp(z[c] - mx) / sum, h = scale * p * (1.0 - p);
                double *gh = F->gh + c * 2 * n + 2 * r;
                gh[0] = wt * (p - (c == yc ? 1.0 : 0.0));
                gh[1] = wt * (h > 1e-16 ? h : 1e-16);
            }
            loss += wt * (log(sum) + mx - z[yc]);
        }
    }
    F->loss_part[part] = loss;
}

static unsigned col_tasks(const struct fit *F)
{
    return (unsigned)F->n_groups;
}

/* Active columns [*j0, *j1) of column group t. */
static void group_range(const struct fit *F, size_t t, size_t *j0, size_t *j1)
{
    *j0 = F->n_active * t / F->n_groups;
    *j1 = F->n_active * (t + 1) / F->n_groups;
}

static size_t col_width(const struct fit *F, size_t col)
{
    return F->rows.off[col + 1] - F->rows.off[col];
}

/* Zeroes and builds the active columns [j0, j1) of h from rows[0..n);
 * with tot set, also sums g and h of the rows there. */
static void build_cols(const struct fit *F, size_t j0, size_t j1,
                       const uint32_t *rows, size_t n, const double *gh,
                       struct lift_gbdt_bin *h, double *tot)
{
    for (size_t j = j0; j < j1; j++) {
        size_t col = F->cols[j];
        memset(h + F->rows.off[col], 0, col_width(F, col) * sizeof *h);
    }
    hist_rows_tot(&F->rows, F->cols + j0, j1 - j0, rows, n, gh, h, tot);
}

/* large -= small on column col. */
static void sub_col(const struct fit *F, size_t col, struct lift_gbdt_bin *lh,
                    const struct lift_gbdt_bin *sh)
{
    for (size_t b = F->rows.off[col], e = F->rows.off[col + 1]; b < e; b++)
        lh[b] = bin_sub(&lh[b], &sh[b]);
}

static bool split_col(const struct fit *F, const struct lift_gbdt_bin *h,
                      size_t col, const struct lift_gbdt_bin *total,
                      struct lift_gbdt_split *out)
{
    return best_split_compact(h + F->rows.off[col], col, F->x->n_bins[col],
                              F->x->categorical[col] != 0, total, &F->sp, out);
}

/* A histogram job: build the active columns of rows[0..n) into h. */
struct build_job {
    struct fit *F;
    const uint32_t *rows;
    size_t n;
    const double *gh;
    struct lift_gbdt_bin *h;
    double *tot; /* when set, task 0 also sums g and h of the rows here */
};

/* Task t builds group n_groups - 1 - t of the active columns: the last
 * groups are the widest (19 columns in 2 groups: 9, 10), and the caller,
 * which claims the first task while the workers wake, takes the widest.
 * Task 0 also sums the rows' g and h when asked. */
static void build_job_run(void *ctx, unsigned part)
{
    struct build_job *b = ctx;
    size_t j0, j1;
    group_range(b->F, b->F->n_groups - 1 - part, &j0, &j1);
    build_cols(b->F, j0, j1, b->rows, b->n, b->gh, b->h,
               part == 0 ? b->tot : NULL);
}

static enum lift_code build_hist(struct fit *F, const uint32_t *rows, size_t n,
                                 const double *gh, struct lift_gbdt_bin *h,
                                 double *tot, struct lift_error *err)
{
    struct build_job b = {F, rows, n, gh, h, tot};
    pool_run(&F->pool, build_job_run, &b, col_tasks(F),
             n * F->n_active >= PARALLEL_MIN_WORK);
    if (tot && col_tasks(F) == 0)
        sum_rows(rows, n, gh, tot);
    const struct lift_reducer *red = F->p->reducer;
    if (red && red->size > 1)
        for (size_t j = 0; j < F->n_active; j++) {
            size_t col = F->cols[j];
            enum lift_code rc = red->sum(red->ctx, &h[F->rows.off[col]].g,
                                         col_width(F, col) * 4, err);
            if (rc)
                return rc;
        }
    return LIFT_OK;
}

/* Whether candidate c may split at all. */
static bool split_wanted(const struct fit *F, const struct cand *c)
{
    return c->depth < F->depth && c->total.n >= 2 &&
           c->total.h >= 2 * F->sp.min_child_weight;
}

/* Best split of candidate c over the active columns. */
static void find_split(struct fit *F, struct cand *c)
{
    c->splittable = false;
    memset(&c->split, 0, sizeof c->split);
    if (!split_wanted(F, c))
        return;
    for (size_t j = 0; j < F->n_active; j++) {
        size_t col = F->cols[j];
        struct lift_gbdt_split s;
        if (split_col(F, c->hist, col, &c->total, &s) &&
            s.gain > c->split.gain) {
            c->split = s;
            c->splittable = true;
        }
    }
}

/* One task of a split: for its group of active columns,
 * build the smaller child's histogram, derive the larger's, and find
 * both children's best split on each column into col_best[2 j + side]. */
struct children_job {
    struct fit *F;
    const double *gh;
    const struct cand *small, *large;
    const struct cand *side[2]; /* L, R */
    bool want[2];
};

static void children_job_run(void *ctx, unsigned part)
{
    struct children_job *cj = ctx;
    struct fit *F = cj->F;
    size_t j0, j1;
    group_range(F, part, &j0, &j1);
    struct lift_gbdt_bin *sh = cj->small->hist, *lh = cj->large->hist;
    build_cols(F, j0, j1, F->idx + cj->small->begin,
               cj->small->end - cj->small->begin, cj->gh, sh, NULL);
    for (size_t j = j0; j < j1; j++) {
        size_t col = F->cols[j];
        sub_col(F, col, lh, sh);
        for (int side = 0; side < 2; side++) {
            struct lift_gbdt_split *out = &F->col_best[2 * j + (size_t)side];
            out->gain = 0;
            if (cj->want[side])
                split_col(F, cj->side[side]->hist, col, &cj->side[side]->total,
                          out);
        }
    }
}

/* The fused form of build, subtract and find_split for both children
 * (one pass of the pool); picks each child's best column in column
 * order, as find_split does. */
static void children_splits(struct fit *F, const double *gh, struct cand *small,
                            struct cand *large, struct cand *L, struct cand *R)
{
    struct children_job cj = {
        F, gh, small, large, {L, R}, {split_wanted(F, L), split_wanted(F, R)}};
    size_t n = small->end - small->begin;
    pool_run(&F->pool, children_job_run, &cj, col_tasks(F),
             n * F->n_active >= PARALLEL_MIN_WORK);
    struct cand *side[2] = {L, R};
    for (int k = 0; k < 2; k++) {
        struct cand *c = side[k];
        c->splittable = false;
        memset(&c->split, 0, sizeof c->split);
        if (!cj.want[k])
            continue;
        for (size_t j = 0; j < F->n_active; j++) {
            const struct lift_gbdt_split *sj = &F->col_best[2 * j + (size_t)k];
            if (sj->gain > c->split.gain) {
                c->split = *sj;
                c->splittable = true;
            }
        }
    }
}

/* Node storage of the model being grown. */
static enum lift_code add_nodes(struct gbdt *g, size_t n,
                                struct lift_error *err)
{
    if (g->n_nodes + n <= g->cap_nodes)
        return LIFT_OK;
    size_t cap = g->cap_nodes ? g->cap_nodes * 2 : 1024;
    while (cap < g->n_nodes + n)
        cap *= 2;
    if (cap > MAX_NODES)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "the trees have more than %llu nodes",
                              (unsigned long long)MAX_NODES);
    struct lift_gbdt_node *nd = lift_realloc_array(g->node, cap, sizeof *nd);
    if (nd)
        g->node = nd;
    double *v = nd ? lift_realloc_array(g->value, cap, sizeof *v) : NULL;
    if (v)
        g->value = v;
    double *c = v ? lift_realloc_array(g->cover, cap, sizeof *c) : NULL;
    if (c)
        g->cover = c;
    double *gn = c ? lift_realloc_array(g->gain, cap, sizeof *gn) : NULL;
    if (gn)
        g->gain = gn;
    if (!gn)
        return lift_error_nomem(err, "trees");
    g->cap_nodes = cap;
    return LIFT_OK;
}

static enum lift_code add_cat_set(struct gbdt *g, const uint8_t *set,
                                  uint32_t *index, struct lift_error *err)
{
    if (g->n_cats == g->cap_cats) {
        size_t cap = g->cap_cats ? g->cap_cats * 2 : 64;
        uint8_t *c = lift_realloc_array(g->cats, cap, 32);
        if (!c)
            return lift_error_nomem(err, "trees");
        g->cats = c;
        g->cap_cats = cap;
    }
    memcpy(g->cats + g->n_cats * 32, set, 32);
    *index = (uint32_t)g->n_cats++;
    return LIFT_OK;
}

static void make_leaf(struct fit *F, struct gbdt *g, uint32_t tree_start,
                      const struct cand *c)
{
    uint32_t i = tree_start + c->node;
    g->node[i] = (struct lift_gbdt_node){0, 0, 0, 0, LIFT_GBDT_LEAF};
    g->value[i] = -F->lr * c->total.g / (c->total.h + F->sp.l2);
    g->cover[i] = c->total.n;
    g->gain[i] = 0;
}

static enum lift_code grow_cand(struct fit *F, struct cand **out,
                                struct lift_error *err)
{
    if (F->n_cand == F->cap_cand) {
        size_t cap = F->cap_cand ? F->cap_cand * 2 : 64;
        struct cand *c = lift_realloc_array(F->cand, cap, sizeof *c);
        if (!c)
            return lift_error_nomem(err, "tree");
        F->cand = c;
        F->cap_cand = cap;
    }
    *out = &F->cand[F->n_cand++];
    memset(*out, 0, sizeof **out);
    return LIFT_OK;
}

/* Splits candidate ci: partitions its rows, builds the smaller child's
 * histogram, derives the larger's, and finds both children's splits. */
/* Makes candidate c an inner node with two new leaves and describes the
 * children in *L and *R (no histograms; L starts and R ends where c's
 * rows do, the partition sets the rest); go[code] tells whether a row
 * with that code of the split column goes left. */
static enum lift_code make_split(struct gbdt *g, uint32_t tree_start,
                                 const struct cand *cp, struct cand *Lp,
                                 struct cand *Rp, uint8_t *go,
                                 struct lift_error *err)
{
    struct cand c = *cp;
    const struct lift_gbdt_split *s = &c.split;
    enum lift_code rc = add_nodes(g, 2, err);
    if (rc)
        return rc;
    uint32_t self = tree_start + c.node;
    uint32_t left = (uint32_t)(g->n_nodes - tree_start);
    g->n_nodes += 2;
    struct lift_gbdt_node nd = {left, 0, (uint16_t)s->col, s->thr, 0};
    if (s->default_left)
        nd.flags |= LIFT_GBDT_DEFAULT_LEFT;
    if (s->categorical) {
        nd.flags |= LIFT_GBDT_CATEGORICAL;
        if ((rc = add_cat_set(g, s->left_set, &nd.cat, err)))
            return rc;
    }
    g->node[self] = nd;
    g->value[self] = 0;
    g->cover[self] = c.total.n;
    g->gain[self] = s->gain;
    if (s->categorical) {
        for (unsigned code = 0; code < LIFT_GBDT_SLOTS; code++)
            go[code] = lift_gbdt_goes_left(&nd, g->cats, (uint8_t)code);
    } else {
        /* code <= thr, missing by the default direction */
        for (unsigned code = 0; code < LIFT_BIN_MISSING; code++)
            go[code] = code <= nd.thr;
        go[LIFT_BIN_MISSING] = (nd.flags & LIFT_GBDT_DEFAULT_LEFT) != 0;
    }

    struct cand L, R;
    memset(&L, 0, sizeof L);
    memset(&R, 0, sizeof R);
    L.begin = c.begin;
    R.end = c.end;
    L.node = left;
    R.node = left + 1;
    L.depth = R.depth = c.depth + 1;
    L.total = s->left;
    R.total = s->right;
    *Lp = L;
    *Rp = R;
    return LIFT_OK;
}

/* Stable partition of the rows idx[begin..end) on column col: the left
 * ones go to left[begin..begin + nl) (left may be idx itself), the right
 * ones to tmp[begin..end - nl); returns nl. Which side a row takes is
 * data, not a branch: each row is written to both places and only the
 * matching count advances, since the sides of consecutive rows are
 * close to random. */
static size_t partition_block(struct fit *F, const uint8_t *go, uint32_t col,
                              size_t begin, size_t end, uint32_t *left)
{
    const uint8_t *code = F->x->codes + (size_t)col * F->n;
    const uint32_t *from = F->idx + begin;
    uint32_t *at = left + begin, *right = F->tmp + begin;
    size_t nl = 0, nr = 0;
    if (F->idx_identity) {
        for (size_t i = begin; i < end; i++) {
            size_t left_side = go[code[i]];
            at[nl] = (uint32_t)i;
            right[nr] = (uint32_t)i;
            nl += left_side;
            nr += 1 - left_side;
        }
        return nl;
    }
    for (size_t i = 0; i < end - begin; i++) {
        uint32_t r = from[i];
        size_t left_side = go[code[r]];
        at[nl] = r;
        right[nr] = r;
        nl += left_side;
        nr += 1 - left_side;
    }
    return nl;
}

/* Makes candidate c an inner node with two new leaves, partitions its
 * rows and describes the children in *L and *R (no histograms). */
static enum lift_code split_node(struct fit *F, struct gbdt *g,
                                 uint32_t tree_start, const struct cand *cp,
                                 struct cand *Lp, struct cand *Rp,
                                 struct lift_error *err)
{
    uint8_t go[LIFT_GBDT_SLOTS];
    enum lift_code rc = make_split(g, tree_start, cp, Lp, Rp, go, err);
    if (rc)
        return rc;
    size_t nl =
        partition_block(F, go, cp->split.col, cp->begin, cp->end, F->idx);
    memcpy(F->idx + cp->begin + nl, F->tmp + cp->begin,
           (cp->end - cp->begin - nl) * sizeof *F->tmp);
    F->idx_identity = false; /* only the root's rows are ever identity */
    Lp->end = Rp->begin = cp->begin + nl;
    return LIFT_OK;
}

/* Splits candidate ci: partitions its rows, builds the smaller child's
 * histogram, derives the larger's, and finds both children's splits. */
static enum lift_code split_cand(struct fit *F, struct gbdt *g,
                                 uint32_t tree_start, size_t ci,
                                 const double *gh, struct lift_error *err)
{
    struct cand c = F->cand[ci], L, R;
    const struct lift_gbdt_split *s = &c.split;
    enum lift_code rc = split_node(F, g, tree_start, &c, &L, &R, err);
    if (rc)
        return rc;
    bool can_split = c.depth + 1 < F->depth;
    if (can_split) {
        /* smaller by the (reduced) counts, so every worker agrees */
        bool left_small = s->left.n <= s->right.n;
        struct cand *small = left_small ? &L : &R;
        struct cand *large = left_small ? &R : &L;
        if (!(small->hist = hist_get(F)))
            return lift_error_nomem(err, "histograms");
        large->hist = c.hist;
        c.hist = NULL;
        const struct lift_reducer *red = F->p->reducer;
        if (red && red->size > 1) {
            /* the smaller child's histogram is summed over workers
             * before anything reads it */
            if ((rc = build_hist(F, F->idx + small->begin,
                                 small->end - small->begin, gh, small->hist,
                                 NULL, err)))
                return rc;
            for (size_t j = 0; j < F->n_active; j++)
                sub_col(F, F->cols[j], large->hist, small->hist);
            find_split(F, &L);
            find_split(F, &R);
        } else {
            children_splits(F, gh, small, large, &L, &R);
        }
        if (!L.splittable) {
            hist_put(F, L.hist);
            L.hist = NULL;
        }
        if (!R.splittable) {
            hist_put(F, R.hist);
            R.hist = NULL;
        }
    }
    hist_put(F, c.hist);
    F->cand[ci] = L;
    struct cand *slot;
    if ((rc = grow_cand(F, &slot, err)))
        return rc;
    *slot = R;
    return LIFT_OK;
}

/* Depth-wise growth one level at a time: every splittable candidate is
 * split, then one pass of the pool builds the smaller children's
 * histograms, derives the larger ones and finds all children's splits,
 * each worker on its run of columns. One wake of the pool per level
 * rather than per node: on two cores that wake costs as much as a
 * small node's histogram. */
struct level_job {
    struct fit *F;
    const double *gh;
    struct cand *kids; /* 2 per pair: L, R */
};

/* Pairs of a level from which each pair's columns are built in one
 * group, per thread: a pass over a child's rows then adds every column
 * (a group per thread costs more in all, each pass reading the scattered
 * rows again), and the pairs are enough tasks to share. A pair with
 * more than a 1 / (2 threads) share of the level's rows is still cut in
 * column groups: as one task it would keep one thread busy while the
 * other ran out of work. */
#define WHOLE_PAIRS 2

/* Task t: column group ltask[t].group of ltask[t].groups of the pair
 * ltask[t].pair; the tasks come largest first (rows times columns), so
 * that the threads, claiming them in turn, end close together. */
static void level_job_run(void *ctx, unsigned part)
{
    struct level_job *lj = ctx;
    struct fit *F = lj->F;
    const struct ltask *t = &F->ltask[part];
    size_t groups = t->groups, na = F->n_active;
    size_t j0 = na * t->group / groups;
    size_t j1 = na * (t->group + 1) / groups;
    size_t q = t->pair;
    struct cand *kid = lj->kids + 2 * q;
    bool left_small = kid[0].total.n <= kid[1].total.n;
    struct cand *small = kid + !left_small, *large = kid + left_small;
    struct lift_gbdt_bin *sh = small->hist, *lh = large->hist;
    if (!sh)
        return; /* children at the depth limit */
    build_cols(F, j0, j1, F->idx + small->begin, small->end - small->begin,
               lj->gh, sh, NULL);
    for (size_t j = j0; j < j1; j++) {
        size_t col = F->cols[j];
        sub_col(F, col, lh, sh);
        for (size_t side = 0; side < 2; side++) {
            struct lift_gbdt_split *out = &F->col_best[(2 * q + side) * na + j];
            out->gain = 0;
            if (split_wanted(F, &kid[side]))
                split_col(F, kid[side].hist, col, &kid[side].total, out);
        }
    }
}

/* Tasks a job over parts is cut in, per thread: enough for the threads
 * to end close together, few enough that claiming them costs little
 * (a claim moves the pool's counters from one core to the other, about
 * a microsecond on two cores). */
#define TASKS_PER_THREAD 4

/* Groups the consecutive parts[0..n_parts), of `rows` rows in all, into
 * tasks of about rows / (TASKS_PER_THREAD threads) rows: task t is
 * parts task_at[t] .. task_at[t + 1] - 1. */
static enum lift_code group_parts(struct fit *F, size_t n_parts, size_t rows,
                                  unsigned *n_tasks, struct lift_error *err)
{
    *n_tasks = 0;
    if (n_parts + 1 > F->cap_task_at) {
        uint32_t *a = lift_realloc_array(F->task_at, n_parts + 1, sizeof *a);
        if (!a)
            return lift_error_nomem(err, "tree");
        F->task_at = a;
        F->cap_task_at = n_parts + 1;
    }
    size_t want = rows / (TASKS_PER_THREAD * F->pool.n), have = 0;
    unsigned t = 0;
    F->task_at[0] = 0;
    for (size_t i = 0; i < n_parts; i++) {
        have += F->parts[i].end - F->parts[i].begin;
        if (have >= want || i + 1 == n_parts) {
            F->task_at[++t] = (uint32_t)(i + 1);
            have = 0;
        }
    }
    *n_tasks = t;
    return LIFT_OK;
}

/* Task t partitions the blocks of parts of its group (group_parts). */
static void part_job_run(void *ctx, unsigned t)
{
    struct fit *F = ctx;
    for (size_t i = F->task_at[t]; i < F->task_at[t + 1]; i++) {
        struct part *b = &F->parts[i];
        b->nl = partition_block(F, F->pair_go + b->pair * LIFT_GBDT_SLOTS,
                                F->pair_col[b->pair], b->begin, b->end,
                                b->whole ? F->idx : F->tmp2);
        if (b->whole)
            memcpy(F->idx + b->begin + b->nl, F->tmp + b->begin,
                   (b->end - b->begin - b->nl) * sizeof *F->idx);
    }
}

/* Task t copies each block of its group of a parent of several blocks,
 * its left rows from tmp2 and its right ones from tmp, to their places
 * in idx: the places of the blocks do not overlap, nor do the sources. */
static void join_job_run(void *ctx, unsigned t)
{
    struct fit *F = ctx;
    for (size_t i = F->task_at[t]; i < F->task_at[t + 1]; i++) {
        const struct part *b = &F->parts[i];
        if (b->whole)
            continue;
        memcpy(F->idx + b->at_l, F->tmp2 + b->begin, b->nl * sizeof *F->idx);
        memcpy(F->idx + b->at_r, F->tmp + b->begin,
               (b->end - b->begin - b->nl) * sizeof *F->idx);
    }
}

/* Partitions the rows of every pair's parent (kids[2 q].begin ..
 * kids[2 q + 1].end) in blocks of at most PART_BLOCK rows, shared over
 * the threads, then joins each parent's blocks: the left rows of every
 * block in order, then the right ones. The result is the one stable
 * partition whatever the blocks. */
#define PART_BLOCK 8192

/* The blocks a parent of len rows is partitioned in: a multiple of the
 * threads when there are several, so that they share the work evenly. */
static size_t part_blocks(const struct fit *F, size_t len)
{
    size_t nb = len / PART_BLOCK + 1, t = F->pool.n;
    if (nb > 1 && t > 1)
        nb = (nb + t - 1) / t * t;
    return nb;
}

static enum lift_code partition_level(struct fit *F, size_t n_pairs,
                                      struct lift_error *err)
{
    size_t n_parts = 0;
    for (size_t q = 0; q < n_pairs; q++) {
        size_t len = F->kids[2 * q + 1].end - F->kids[2 * q].begin;
        n_parts += F->kids[2 * q].unsplit ? 0 : part_blocks(F, len);
    }
    if (n_parts > F->cap_parts) {
        struct part *pt = lift_realloc_array(F->parts, n_parts, sizeof *pt);
        if (!pt)
            return lift_error_nomem(err, "tree");
        F->parts = pt;
        F->cap_parts = n_parts;
    }
    size_t t = 0, rows = 0;
    for (size_t q = 0; q < n_pairs; q++) {
        size_t b0 = F->kids[2 * q].begin, b1 = F->kids[2 * q + 1].end;
        if (F->kids[2 * q].unsplit)
            continue;
        size_t nb = part_blocks(F, b1 - b0);
        for (size_t k = 0; k < nb; k++)
            F->parts[t++] = (struct part){q,
                                          b0 + (b1 - b0) * k / nb,
                                          b0 + (b1 - b0) * (k + 1) / nb,
                                          0,
                                          nb == 1,
                                          0,
                                          0};
        rows += b1 - b0;
    }
    unsigned n_tasks;
    enum lift_code rc = group_parts(F, t, rows, &n_tasks, err);
    if (rc)
        return rc;
    pool_run(&F->pool, part_job_run, F, n_tasks, rows >= PART_BLOCK);
    size_t joined = 0;
    for (size_t i = 0; i < t;) {
        size_t q = F->parts[i].pair, at = F->parts[i].begin, j = i;
        if (F->parts[i].whole) {
            F->kids[2 * q].end = F->kids[2 * q + 1].begin = at + F->parts[i].nl;
            i++;
            continue;
        }
        for (; j < t && F->parts[j].pair == q; j++) {
            F->parts[j].at_l = at;
            at += F->parts[j].nl;
        }
        F->kids[2 * q].end = F->kids[2 * q + 1].begin = at;
        for (; i < j; i++) {
            struct part *b = &F->parts[i];
            b->at_r = at;
            at += b->end - b->begin - b->nl;
            joined += b->end - b->begin;
        }
    }
    if (joined)
        pool_run(&F->pool, join_job_run, F, n_tasks, joined >= PART_BLOCK);
    if (t)
        F->idx_identity = false; /* only the root's rows are ever identity */
    return LIFT_OK;
}

/* The tasks of a level's histogram job (level_job_run) into F->ltask:
 * every pair with a histogram to build, in one column group or, when the
 * level has few pairs or the pair is large, in one per thread; largest
 * first, ties in pair and group order. Which thread builds what does not
 * change the histograms. */
static enum lift_code level_tasks(struct fit *F, size_t n_pairs, size_t *out,
                                  struct lift_error *err)
{
    size_t ng = col_tasks(F), na = F->n_active, n = 0;
    *out = 0;
    if (n_pairs * (ng ? ng : 1) > F->cap_ltask) {
        size_t cap = n_pairs * (ng ? ng : 1);
        struct ltask *t = lift_realloc_array(F->ltask, cap, sizeof *t);
        if (!t)
            return lift_error_nomem(err, "tree");
        F->ltask = t;
        F->cap_ltask = cap;
    }
    double rows = 0;
    for (size_t q = 0; q < n_pairs; q++) {
        const struct cand *kid = F->kids + 2 * q;
        if (kid[0].hist || kid[1].hist)
            rows += kid[0].total.n <= kid[1].total.n ? kid[0].total.n
                                                     : kid[1].total.n;
    }
    bool few = n_pairs < WHOLE_PAIRS * F->pool.n;
    for (size_t q = 0; q < n_pairs; q++) {
        const struct cand *kid = F->kids + 2 * q;
        if (!kid[0].hist && !kid[1].hist)
            continue; /* children at the depth limit */
        double m =
            kid[0].total.n <= kid[1].total.n ? kid[0].total.n : kid[1].total.n;
        size_t groups = 1;
        if (ng > 1 && (few || m * 2.0 * (double)F->pool.n > rows))
            groups = ng;
        for (size_t gi = 0; gi < groups; gi++) {
            size_t j0 = na * gi / groups, j1 = na * (gi + 1) / groups;
            struct ltask t = {(uint32_t)q, (uint32_t)gi, (uint32_t)groups,
                              m * (double)(j1 - j0)};
            size_t i = n++;
            for (; i > 0 && F->ltask[i - 1].cost < t.cost; i--)
                F->ltask[i] = F->ltask[i - 1];
            F->ltask[i] = t;
        }
    }
    *out = n;
    return LIFT_OK;
}

static enum lift_code grow_level(struct fit *F, struct gbdt *g,
                                 uint32_t tree_start, const double *gh,
                                 bool *grew, struct lift_error *err)
{
    size_t n0 = F->n_cand, n_pairs = 0, work = 0;
    *grew = false;
    for (size_t i = 0; i < n0; i++)
        n_pairs += F->cand[i].splittable;
    if (!n_pairs)
        return LIFT_OK;
    if (n_pairs * 2 > F->cap_kids) {
        size_t cap = n_pairs * 2;
        struct cand *k = lift_realloc_array(F->kids, cap, sizeof *k);
        struct lift_gbdt_split *cb =
            k ? lift_realloc_array(F->col_best, cap * (F->nc ? F->nc : 1),
                                   sizeof *cb)
              : NULL;
        uint8_t *pg =
            cb ? lift_realloc_array(F->pair_go, cap, LIFT_GBDT_SLOTS) : NULL;
        uint32_t *pc =
            pg ? lift_realloc_array(F->pair_col, cap, sizeof *pc) : NULL;
        if (k)
            F->kids = k;
        if (cb)
            F->col_best = cb;
        if (pg)
            F->pair_go = pg;
        if (pc)
            F->pair_col = pc;
        if (!k || !cb || !pg || !pc)
            return lift_error_nomem(err, "tree");
        F->cap_kids = cap;
    }
    size_t q = 0, kept = 0;
    enum lift_code rc;
    for (size_t i = 0; i < n0; i++) {
        struct cand *c = &F->cand[i];
        if (!c->splittable) {
            F->cand[kept++] = *c; /* a leaf for good */
            continue;
        }
        struct cand *kid = F->kids + 2 * q;
        if ((rc = make_split(g, tree_start, c, &kid[0], &kid[1],
                             F->pair_go + q * LIFT_GBDT_SLOTS, err)))
            return rc;
        F->pair_col[q++] = c->split.col;
        if (c->depth + 1 < F->depth) {
            bool left_small = kid[0].total.n <= kid[1].total.n;
            struct cand *small = kid + !left_small, *large = kid + left_small;
            if (!(small->hist = hist_get(F)))
                return lift_error_nomem(err, "histograms");
            large->hist = c->hist;
            c->hist = NULL;
            work += (size_t)small->total.n * F->n_active;
        } else if (F->k == 1) {
            /* two leaves: only the score update needs to know which
             * rows go where, and it reads the go table itself. (With
             * several outputs, the next output's tree partitions the
             * rows in the order this one leaves them: that order is
             * kept, so the trees stay those of a full partition.) */
            kid[0].unsplit = (uint32_t)q;
            kid[0].end = kid[1].begin = c->end;
        }
        hist_put(F, c->hist);
        c->hist = NULL;
    }
    if ((rc = partition_level(F, n_pairs, err)))
        return rc;
    size_t n_tasks;
    if ((rc = level_tasks(F, n_pairs, &n_tasks, err)))
        return rc;
    struct level_job lj = {F, gh, F->kids};
    pool_run(&F->pool, level_job_run, &lj, (unsigned)n_tasks,
             work >= PARALLEL_MIN_WORK);
    F->n_cand = kept;
    for (q = 0; q < n_pairs; q++)
        for (size_t side = 0; side < 2; side++) {
            struct cand kid = F->kids[2 * q + side], *slot;
            kid.splittable = false;
            memset(&kid.split, 0, sizeof kid.split);
            if (kid.hist && split_wanted(F, &kid))
                for (size_t j = 0; j < F->n_active; j++) {
                    const struct lift_gbdt_split *sj =
                        &F->col_best[(2 * q + side) * F->n_active + j];
                    if (sj->gain > kid.split.gain) {
                        kid.split = *sj;
                        kid.splittable = true;
                    }
                }
            if (!kid.splittable) {
                hist_put(F, kid.hist);
                kid.hist = NULL;
            }
            if ((rc = grow_cand(F, &slot, err)))
                return rc;
            *slot = kid;
        }
    *grew = true;
    return LIFT_OK;
}

/* Grows one tree on gh for the sampled rows; appends it to g. */
static enum lift_code grow_tree(struct fit *F, struct gbdt *g, const double *gh,
                                struct lift_error *err)
{
    uint32_t tree_start = (uint32_t)g->n_nodes;
    enum lift_code rc = add_nodes(g, 1, err);
    if (rc)
        return rc;
    g->n_nodes++;
    F->n_cand = 0;
    struct cand *root;
    if ((rc = grow_cand(F, &root, err)))
        return rc;
    root->begin = 0;
    root->end = F->n_sample;
    root->node = 0;
    if (!(root->hist = hist_get(F)))
        return lift_error_nomem(err, "histograms");
    /* the root's totals (summed with the histogram's first column group),
     * summed over workers like the histograms */
    double tot[3] = {0, 0, (double)F->n_sample};
    /* without a row sample the root's rows are 0..n-1: no index */
    const uint32_t *rows = F->n_sample == F->n ? NULL : F->idx;
    if ((rc = build_hist(F, rows, F->n_sample, gh, root->hist, tot, err)))
        return rc;
    const struct lift_reducer *red = F->p->reducer;
    if (red && red->size > 1 && (rc = red->sum(red->ctx, tot, 3, err)))
        return rc;
    root->total = (struct lift_gbdt_bin){tot[0], tot[1], tot[2], 0};
    find_split(F, root);
    if (!root->splittable) {
        hist_put(F, root->hist);
        root->hist = NULL;
    }
    if (!F->leaves && !(red && red->size > 1)) {
        for (bool grew = true; grew;)
            if ((rc = grow_level(F, g, tree_start, gh, &grew, err)))
                return rc;
    }
    size_t n_leaves = 1;
    size_t max_leaves = F->leaves ? F->leaves : SIZE_MAX;
    while (n_leaves < max_leaves) {
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < F->n_cand; i++) {
            if (!F->cand[i].splittable)
                continue;
            if (pick == SIZE_MAX ||
                (F->leaves && F->cand[i].split.gain > F->cand[pick].split.gain))
                pick = i;
            if (!F->leaves)
                break;
        }
        if (pick == SIZE_MAX)
            break;
        if ((rc = split_cand(F, g, tree_start, pick, gh, err)))
            return rc;
        n_leaves++;
    }
    for (size_t i = 0; i < F->n_cand; i++) {
        make_leaf(F, g, tree_start, &F->cand[i]);
        hist_put(F, F->cand[i].hist);
        F->cand[i].hist = NULL;
    }
    return LIFT_OK;
}

/* Adds the new tree's leaf values to the training scores: rows of the
 * sample through the candidates' ranges, the others by traversal. */
struct update_job {
    struct fit *F;
    const double *value; /* the tree's */
    size_t out;
};

/* Adds the value of block b's leaf to the scores of the block's rows
 * and, when the fit asks (F->fuse_grad), computes their next gradient
 * pairs while the score is at hand: the same operations on the same
 * values as grad_job, so the same pairs, without a second pass over the
 * rows. */
static void update_block(const struct update_job *u, const struct part *b)
{
    struct fit *F = u->F;
    const struct cand *c = &F->cand[b->pair];
    double v = u->value[c->node];
    if (c->unsplit) {
        /* a pair of leaves over their parent's rows: each row takes the
         * value of the side that the parent's split sends it to */
        double vs[2] = {u->value[c->node + 1], v};
        const uint8_t *go = F->pair_go + (c->unsplit - 1) * LIFT_GBDT_SLOTS;
        const uint8_t *code =
            F->x->codes + (size_t)F->pair_col[c->unsplit - 1] * F->n;
        if (F->fuse_grad) {
            for (size_t j = b->begin; j < b->end; j++) {
                size_t r = F->idx[j];
                double z = F->z[r] += vs[go[code[r]]];
                grad_one(F, r, z, F->gh);
            }
            return;
        }
        for (size_t j = b->begin; j < b->end; j++) {
            size_t r = F->idx[j];
            F->z[r * F->k + u->out] += vs[go[code[r]]];
        }
        return;
    }
    if (F->fuse_grad) {
        for (size_t j = b->begin; j < b->end; j++) {
            size_t r = F->idx[j];
            double z = F->z[r] += v;
            grad_one(F, r, z, F->gh);
        }
        return;
    }
    for (size_t j = b->begin; j < b->end; j++)
        F->z[(size_t)F->idx[j] * F->k + u->out] += v;
}

/* Task t updates the blocks of its group (group_parts). */
static void update_job_run(void *ctx, unsigned t)
{
    struct update_job *u = ctx;
    for (size_t i = u->F->task_at[t]; i < u->F->task_at[t + 1]; i++)
        update_block(u, &u->F->parts[i]);
}

/* Rows of a leaf that one task of the score update takes at most: a
 * large leaf is shared by the threads. */
#define UPDATE_BLOCK 2048

static enum lift_code update_train(struct fit *F, const struct gbdt *g,
                                   size_t tree, size_t out,
                                   struct lift_error *err)
{
    struct lift_gbdt_tree t = tree_view(g, tree);
    size_t k = F->k, n_parts = 0;
    if (F->idx_identity) {
        /* a tree whose root was not partitioned (a leaf, or two leaves
         * at depth 1): its leaves' ranges read idx */
        for (size_t r = 0; r < F->n; r++)
            F->idx[r] = (uint32_t)r;
        F->idx_identity = false;
    }
    for (size_t i = 0; i < F->n_cand; i++)
        n_parts += (F->cand[i].end - F->cand[i].begin) / UPDATE_BLOCK + 1;
    if (n_parts > F->cap_parts) {
        struct part *pt = lift_realloc_array(F->parts, n_parts, sizeof *pt);
        if (!pt)
            return lift_error_nomem(err, "tree");
        F->parts = pt;
        F->cap_parts = n_parts;
    }
    size_t m = 0;
    for (size_t i = 0; i < F->n_cand; i++) {
        size_t b0 = F->cand[i].begin, b1 = F->cand[i].end;
        size_t nb = (b1 - b0) / UPDATE_BLOCK + 1;
        for (size_t j = 0; j < nb; j++)
            F->parts[m++] = (struct part){i,
                                          b0 + (b1 - b0) * j / nb,
                                          b0 + (b1 - b0) * (j + 1) / nb,
                                          0,
                                          false,
                                          0,
                                          0};
    }
    struct update_job u = {F, t.value, out};
    unsigned n_tasks;
    enum lift_code rc = group_parts(F, m, F->n_sample, &n_tasks, err);
    if (rc)
        return rc;
    pool_run(&F->pool, update_job_run, &u, n_tasks, F->n_sample >= PART_BLOCK);
    if (F->n_sample == F->n)
        return LIFT_OK;
    uint8_t *row = F->vrow;
    for (size_t j = F->n_sample; j < F->n; j++) {
        uint32_t r = F->idx[j];
        for (size_t c = 0; c < F->nc; c++)
            row[c] = F->x->codes[c * F->n + r];
        F->z[(size_t)r * k + out] += lift_gbdt_tree_predict(&t, row);
    }
    return LIFT_OK;
}

/* Batch prediction of one tree over column-major rows: the tree is
 * walked for a block of rows at a time, each level reading one column,
 * so a tree's nodes stay in cache while the block streams through. */
#define BLOCK 256
static void tree_add_batch(const struct lift_gbdt_tree *t,
                           const struct lift_binned *x, double *z, size_t k,
                           size_t out)
{
    uint32_t at[BLOCK];
    for (size_t r0 = 0; r0 < x->n_rows; r0 += BLOCK) {
        size_t m = x->n_rows - r0 < BLOCK ? x->n_rows - r0 : BLOCK;
        for (size_t i = 0; i < m; i++)
            at[i] = 0;
        for (bool moved = true; moved;) {
            moved = false;
            for (size_t i = 0; i < m; i++) {
                const struct lift_gbdt_node *nd = t->node + at[i];
                if (nd->flags & LIFT_GBDT_LEAF)
                    continue;
                uint8_t code = x->codes[(size_t)nd->col * x->n_rows + r0 + i];
                at[i] = nd->left + !lift_gbdt_goes_left(nd, t->cats, code);
                moved = true;
            }
        }
        for (size_t i = 0; i < m; i++)
            z[(r0 + i) * k + out] += t->value[at[i]];
    }
}

static double valid_loss(const struct fit *F)
{
    const struct lift_binned *vx = F->d->vxb;
    const double *vy = F->d->vy, *vw = F->d->vw;
    double loss = 0, wsum = 0;
    for (size_t r = 0; r < vx->n_rows; r++) {
        double wt = vw ? vw[r] : 1.0;
        const double *z = F->vz + r * F->k;
        wsum += wt;
        if (F->obj == OBJ_LOGISTIC) {
            loss +=
                wt * ((z[0] > 0 ? z[0] + log1p(exp(-z[0])) : log1p(exp(z[0]))) -
                      vy[r] * z[0]);
        } else if (F->obj == OBJ_SQUARED) {
            loss += 0.5 * wt * (z[0] - vy[r]) * (z[0] - vy[r]);
        } else {
            double mx = z[0], sum = 0;
            for (size_t c = 1; c < F->k; c++)
                mx = z[c] > mx ? z[c] : mx;
            for (size_t c = 0; c < F->k; c++)
                sum += exp(z[c] - mx);
            loss += wt * (log(sum) + mx - z[(size_t)vy[r]]);
        }
    }
    return wsum > 0 ? loss / wsum : NAN;
}

static double valid_metric(const struct fit *F, double vloss)
{
    const struct lift_binned *vx = F->d->vxb;
    size_t n = vx->n_rows;
    if (F->obj == OBJ_LOGISTIC) {
        double auc = NAN;
        if (lift_auc(F->vlab, F->vz, F->d->vw, n, &auc, NULL))
            return NAN;
        return auc;
    }
    if (F->obj == OBJ_SQUARED)
        return sqrt(2.0 * vloss);
    double right = 0, all = 0;
    for (size_t r = 0; r < n; r++) {
        const double *z = F->vz + r * F->k;
        size_t top = 0;
        for (size_t c = 1; c < F->k; c++)
            if (z[c] > z[top])
                top = c;
        double wt = F->d->vw ? F->d->vw[r] : 1.0;
        all += wt;
        if ((double)top == F->d->vy[r])
            right += wt;
    }
    return all > 0 ? right / all : NAN;
}

/* Row and column samples of one round. */
static void sample_round(struct fit *F, const struct lift_train_params *p)
{
    size_t n = F->n;
    if (p->subsample > 0 && p->subsample < 1) {
        size_t m = 0, o = 0;
        for (size_t r = 0; r < n; r++) {
            if (lift_rng_uniform(&F->rng) < p->subsample)
                F->idx[m++] = (uint32_t)r;
            else
                F->tmp[o++] = (uint32_t)r;
        }
        memcpy(F->idx + m, F->tmp, o * sizeof *F->tmp);
        F->n_sample = m;
        F->idx_identity = false;
    } else {
        F->idx_identity = true;
        F->n_sample = n;
    }
    F->n_active = 0;
    for (size_t c = 0; c < F->nc; c++)
        if (F->x->n_bins[c] > 0)
            F->cols[F->n_active++] = (uint32_t)c;
    if (p->colsample > 0 && p->colsample < 1 && F->n_active > 1) {
        size_t want = (size_t)ceil(p->colsample * (double)F->n_active);
        if (want < 1)
            want = 1;
        /* partial Fisher-Yates, then the kept columns in column order */
        for (size_t i = 0; i < want; i++) {
            size_t j = i + (size_t)lift_rng_below(&F->rng, F->n_active - i);
            uint32_t t = F->cols[i];
            F->cols[i] = F->cols[j];
            F->cols[j] = t;
        }
        F->n_active = want;
        for (size_t i = 1; i < want; i++)
            for (size_t j = i; j > 0 && F->cols[j - 1] > F->cols[j]; j--) {
                uint32_t t = F->cols[j];
                F->cols[j] = F->cols[j - 1];
                F->cols[j - 1] = t;
            }
    }
    /* one group of columns per thread: each column is summed whole by
     * one thread, so the grouping does not change the sums */
    F->n_groups = F->pool.n < F->n_active ? F->pool.n : F->n_active;
}

static void fit_release(struct fit *F)
{
    for (size_t i = 0; i < F->n_all; i++)
        lift_free(F->all_hist[i]);
    lift_free(F->all_hist);
    lift_free(F->free_hist);
    lift_free(F->cand);
    lift_free(F->z);
    lift_free(F->gh);
    lift_free(F->loss_part);
    lift_free(F->idx);
    lift_free(F->tmp);
    lift_free(F->tmp2);
    lift_free(F->cols);
    lift_free(F->col_best);
    lift_free(F->kids);
    lift_free(F->pair_go);
    lift_free(F->pair_col);
    lift_free(F->parts);
    lift_free(F->ltask);
    lift_free(F->task_at);
    lift_free(F->vz);
    lift_free(F->vlab);
    lift_free(F->vrow);
    lift_gbdt_rows_release(&F->rows);
}

static enum lift_code check_data(const struct lift_train_data *d, size_t k,
                                 const struct lift_train_params *p,
                                 struct lift_error *err)
{
    const struct lift_binned *x = d->xb;
    if (!x || !d->y || x->n_rows == 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "gbdt needs binned training rows");
    if (x->n_rows > UINT32_MAX || x->n_cols > UINT16_MAX + 1u)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "gbdt takes at most 2^32 rows and 65536 "
                              "columns");
    for (size_t r = 0; r < x->n_rows; r++) {
        double y = d->y[r];
        if (!isfinite(y) ||
            (p->task != LIFT_TASK_REGRESSION &&
             (y < 0 || y >= (double)(k < 2 ? 2 : k) || y != floor(y))))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "row %zu: bad target %g for gbdt", r, y);
    }
    if (d->vxb && (d->vxb->n_cols != x->n_cols || !d->vy))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "validation rows do not match the training "
                              "rows");
    return LIFT_OK;
}

/* Base scores: logit of the positive share, mean, log class shares. */
static void base_scores(const struct fit *F, double *base)
{
    const double *y = F->d->y, *w = F->d->w;
    double wsum = 0;
    for (size_t c = 0; c < F->k; c++)
        base[c] = 0;
    double *acc = base;
    for (size_t r = 0; r < F->n; r++) {
        double wt = w ? w[r] : 1.0;
        wsum += wt;
        if (F->obj == OBJ_SOFTMAX)
            acc[(size_t)y[r]] += wt;
        else
            acc[0] += wt * y[r];
    }
    if (F->obj == OBJ_SQUARED) {
        base[0] = wsum > 0 ? base[0] / wsum : 0;
    } else if (F->obj == OBJ_LOGISTIC) {
        double q = wsum > 0 ? base[0] / wsum : 0.5;
        q = q < 1e-6 ? 1e-6 : q > 1 - 1e-6 ? 1 - 1e-6 : q;
        base[0] = log(q / (1 - q));
    } else {
        for (size_t c = 0; c < F->k; c++) {
            double q = wsum > 0 ? base[c] / wsum : 0;
            base[c] = log(q > 1e-6 ? q : 1e-6);
        }
    }
}

static enum lift_code gbdt_fit(struct lift_learner *l,
                               const struct lift_train_data *d,
                               const struct lift_train_params *p,
                               struct lift_error *err)
{
    size_t k = l->n_outputs ? l->n_outputs : 1;
    enum lift_code rc = check_data(d, k, p, err);
    if (rc)
        return rc;
    struct fit F;
    memset(&F, 0, sizeof F);
    F.d = d;
    F.p = p;
    F.x = d->xb;
    F.n = d->xb->n_rows;
    F.nc = d->xb->n_cols;
    F.k = k;
    F.obj = p->task == LIFT_TASK_BINARY       ? OBJ_LOGISTIC
            : p->task == LIFT_TASK_REGRESSION ? OBJ_SQUARED
                                              : OBJ_SOFTMAX;
    if (F.obj == OBJ_SOFTMAX && k < 2)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "multiclass gbdt needs at least 2 classes");
    F.sp = (struct lift_gbdt_split_params){
        .l2 = p->l2 >= 0 ? p->l2 : 1.0,
        .min_child_weight = p->min_child_weight > 0 ? p->min_child_weight : 0,
        .min_cat_count = MIN_CAT_COUNT,
        .cat_smooth = CAT_SMOOTH,
    };
    F.rounds = p->trees ? p->trees : DEFAULT_TREES;
    if ((uint64_t)F.rounds * k > MAX_TREES)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "%u rounds of %zu trees pass the limit of %llu "
                              "trees",
                              F.rounds, k, (unsigned long long)MAX_TREES);
    F.leaves = p->leaves;
    F.depth = p->depth ? p->depth : (p->leaves ? MAX_DEPTH : DEFAULT_DEPTH);
    if (F.depth > MAX_DEPTH)
        F.depth = MAX_DEPTH;
    F.lr = p->lr > 0 ? p->lr : DEFAULT_LR;
    lift_rng_seed(&F.rng, p->seed);

    struct gbdt *g = lift_calloc(1, sizeof *g);
    size_t nv = d->vxb ? d->vxb->n_rows : 0;
    if (!g)
        return lift_error_nomem(err, "gbdt");
    g->k = k;
    g->n_cols = F.nc;
    g->base = lift_malloc_array(k, sizeof *g->base);
    g->start = lift_malloc_array((size_t)F.rounds * k + 1, sizeof *g->start);
    F.z = lift_malloc_array(F.n * k, sizeof *F.z);
    F.gh = lift_malloc_array(F.n * 2 * k, sizeof *F.gh);
    F.loss_part = lift_calloc(GRAD_BLOCKS, sizeof *F.loss_part);
    F.idx = lift_malloc_array(F.n, sizeof *F.idx);
    F.tmp = lift_malloc_array(F.n, sizeof *F.tmp);
    F.tmp2 = lift_malloc_array(F.n, sizeof *F.tmp2);
    F.cols = lift_malloc_array(F.nc ? F.nc : 1, sizeof *F.cols);
    F.vrow = lift_malloc(F.nc ? F.nc : 1);
    F.col_best = lift_malloc_array(2 * (F.nc ? F.nc : 1), sizeof *F.col_best);
    if ((rc = lift_gbdt_rows_init(&F.rows, F.x, err))) {
        gbdt_free(g);
        fit_release(&F);
        return rc;
    }
    if (nv) {
        F.vz = lift_malloc_array(nv * k, sizeof *F.vz);
        F.vlab = lift_malloc_array(nv, 1);
    }
    if (!g->base || !g->start || !F.z || !F.gh || !F.loss_part || !F.idx ||
        !F.tmp || !F.tmp2 || !F.cols || !F.vrow || !F.col_best ||
        (nv && (!F.vz || !F.vlab))) {
        gbdt_free(g);
        fit_release(&F);
        return lift_error_nomem(err, "gbdt training buffers");
    }
    base_scores(&F, g->base);
    for (size_t r = 0; r < F.n; r++)
        memcpy(F.z + r * k, g->base, k * sizeof *F.z);
    for (size_t r = 0; r < nv; r++) {
        memcpy(F.vz + r * k, g->base, k * sizeof *F.vz);
        F.vlab[r] = d->vy[r] > 0.5;
    }
    g->start[0] = 0;
    unsigned threads = p->threads ? p->threads : 1;
    pool_start(&F.pool, threads > MAX_THREADS ? MAX_THREADS : threads);

    unsigned patience = p->patience ? p->patience : DEFAULT_PATIENCE;
    double best_loss = INFINITY;
    size_t best_round = 0, stale = 0;
    static const char *const metric_names[] = {"auc", "rmse", "accuracy"};
    double wsum = 0, loss = NAN, vloss = NAN, vmetric = NAN;
    for (size_t r = 0; r < F.n; r++)
        wsum += d->w ? d->w[r] : 1.0;
    for (unsigned round = 0; round < F.rounds; round++) {
        /* the training loss (logs and exps of every row) and the
         * validation metric (a sort) are refreshed every few rounds;
         * the reports in between repeat the last ones */
        bool due = round % REPORT_EVERY == 0 || round + 1 == F.rounds;
        F.want_loss = due && p->progress; /* only reported */
        bool parallel = F.n >= 4096;
        if (!F.fuse_grad)
            pool_run(&F.pool, grad_job, &F, GRAD_BLOCKS, parallel);
        if (due) {
            double sum = 0;
            for (unsigned t = 0; t < GRAD_BLOCKS; t++)
                sum += F.loss_part[t];
            loss = wsum > 0 ? sum / wsum : NAN;
        }
        sample_round(&F, p);
        /* the next round's gradients come with this round's score
         * update when one tree covers every row and no loss is due */
        bool due_next =
            (round + 1) % REPORT_EVERY == 0 || round + 2 == F.rounds;
        F.fuse_grad = k == 1 && F.obj != OBJ_SOFTMAX && F.n_sample == F.n &&
                      round + 1 < F.rounds && !(due_next && p->progress);
        for (size_t c = 0; c < k; c++) {
            size_t tree = (size_t)round * k + c;
            if ((rc = grow_tree(&F, g, F.gh + c * 2 * F.n, err)))
                goto done;
            g->start[tree + 1] = (uint32_t)g->n_nodes;
            g->n_trees = tree + 1;
            if ((rc = update_train(&F, g, tree, c, err)))
                goto done;
            if (nv) {
                struct lift_gbdt_tree t = tree_view(g, tree);
                tree_add_batch(&t, d->vxb, F.vz, k, c);
            }
        }
        bool stop = false;
        if (nv) {
            vloss = valid_loss(&F);
            if (vloss < best_loss) {
                best_loss = vloss;
                best_round = round + 1;
                stale = 0;
            } else if (++stale >= patience) {
                stop = true;
            }
        }
        if (nv && (due || stop))
            vmetric = valid_metric(&F, vloss);
        struct lift_progress pr = {
            .stage = "fit",
            .epoch = round + 1,
            .epochs = F.rounds,
            .loss = loss,
            .valid_loss = vloss,
            .valid_metric = vmetric,
            .metric = metric_names[F.obj],
        };
        if ((rc = lift_learner_report(p, &pr, err)))
            goto done;
        if (stop)
            break;
    }
    if (nv && best_round < g->n_trees / k) {
        g->n_trees = best_round * k;
        g->n_nodes = g->start[g->n_trees];
        size_t n_cats = 0;
        for (size_t i = 0; i < g->n_nodes; i++)
            if (!(g->node[i].flags & LIFT_GBDT_LEAF) &&
                (g->node[i].flags & LIFT_GBDT_CATEGORICAL) &&
                g->node[i].cat + 1 > n_cats)
                n_cats = g->node[i].cat + 1; /* sets follow split order */
        g->n_cats = n_cats;
    }
    rc = finish_trees(g, err);
done:
    pool_stop(&F.pool);
    fit_release(&F);
    if (rc) {
        gbdt_free(g);
        return rc;
    }
    gbdt_destroy(l);
    l->state = g;
    return LIFT_OK;
}

/* ---- the file ----------------------------------------------------------- */

static enum lift_code gbdt_save(const struct lift_learner *l,
                                struct lift_writer *w, struct lift_error *err)
{
    const struct gbdt *g = l->state;
    (void)err;
    lift_writer_u64(w, g->k);
    lift_writer_f64s(w, g->base, g->k);
    lift_writer_u64(w, g->n_trees);
    for (size_t i = 0; i < g->n_trees; i++)
        lift_writer_u32(w, g->start[i + 1] - g->start[i]);
    lift_writer_u64(w, g->n_cats);
    lift_writer_bytes(w, g->cats, g->n_cats * 32);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct lift_gbdt_node *nd = g->node + i;
        lift_writer_u32(w, (uint32_t)nd->col << 16 | (uint32_t)nd->thr << 8 |
                               nd->flags);
        lift_writer_u32(w, (uint32_t)g->cover[i]);
        if (nd->flags & LIFT_GBDT_LEAF) {
            lift_writer_f64(w, g->value[i]);
            continue;
        }
        lift_writer_u32(w, nd->left);
        if (nd->flags & LIFT_GBDT_CATEGORICAL)
            lift_writer_u32(w, nd->cat);
        lift_writer_f32(w, (float)g->gain[i]);
    }
    return LIFT_OK;
}

static enum lift_code gbdt_load(struct lift_learner *l, struct lift_reader *r,
                                struct lift_error *err)
{
    struct gbdt *g = lift_calloc(1, sizeof *g);
    if (!g)
        return lift_error_nomem(err, "gbdt");
    enum lift_code rc = LIFT_OK;
    uint64_t k = lift_reader_u64(r, "gbdt outputs");
    if (lift_reader_ok(r) && k != l->n_outputs)
        lift_reader_fail(r, "gbdt outputs do not match the model");
    if (!lift_reader_ok(r))
        goto fail;
    g->k = (size_t)k;
    g->n_cols = l->n_inputs;
    if (!(g->base = lift_malloc_array(g->k, sizeof *g->base)))
        goto nomem;
    lift_reader_f64s(r, g->base, g->k, "gbdt base scores");
    /* a tree takes at least 4 bytes here and 12 in its nodes */
    size_t nt = lift_reader_count(r, 16, MAX_TREES, "trees");
    if (!lift_reader_ok(r))
        goto fail;
    if (nt % g->k != 0) {
        lift_reader_fail(r, "gbdt tree count is not a multiple of outputs");
        goto fail;
    }
    g->n_trees = nt;
    if (!(g->start = lift_malloc_array(nt + 1, sizeof *g->start)))
        goto nomem;
    g->start[0] = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < nt; i++) {
        uint32_t sz = lift_reader_u32(r, "tree size");
        total += sz;
        if (!lift_reader_ok(r))
            goto fail;
        /* every node takes at least 12 bytes in the file */
        if (sz == 0 || sz % 2 == 0 || total > MAX_NODES ||
            total * 12 > lift_reader_left(r)) {
            lift_reader_fail(r, "bad gbdt tree size %u", sz);
            goto fail;
        }
        g->start[i + 1] = (uint32_t)total;
    }
    size_t nc = lift_reader_count(r, 32, MAX_NODES, "categorical sets");
    if (!lift_reader_ok(r))
        goto fail;
    g->n_cats = nc;
    const void *cats = lift_reader_bytes(r, nc * 32, "categorical sets");
    if (!cats)
        goto fail;
    size_t nn = (size_t)total;
    g->n_nodes = g->cap_nodes = nn;
    g->cats = lift_malloc(nc ? nc * 32 : 1);
    g->node = lift_malloc_array(nn ? nn : 1, sizeof *g->node);
    g->value = lift_calloc(nn ? nn : 1, sizeof *g->value);
    g->cover = lift_malloc_array(nn ? nn : 1, sizeof *g->cover);
    g->gain = lift_calloc(nn ? nn : 1, sizeof *g->gain);
    if (!g->cats || !g->node || !g->value || !g->cover || !g->gain)
        goto nomem;
    memcpy(g->cats, cats, nc * 32);
    for (size_t t = 0; t < nt && lift_reader_ok(r); t++) {
        uint32_t s = g->start[t], e = g->start[t + 1];
        for (uint32_t i = s; i < e; i++) {
            uint32_t packed = lift_reader_u32(r, "gbdt node");
            uint32_t cover = lift_reader_u32(r, "gbdt node cover");
            struct lift_gbdt_node *nd = g->node + i;
            nd->col = (uint16_t)(packed >> 16);
            nd->thr = (uint8_t)(packed >> 8);
            nd->flags = (uint8_t)packed;
            nd->left = nd->cat = 0;
            g->cover[i] = cover;
            if (!lift_reader_ok(r))
                goto fail;
            if (nd->flags & ~(LIFT_GBDT_LEAF | LIFT_GBDT_DEFAULT_LEFT |
                              LIFT_GBDT_CATEGORICAL)) {
                lift_reader_fail(r, "bad gbdt node flags");
                goto fail;
            }
            if (nd->flags & LIFT_GBDT_LEAF) {
                g->value[i] = lift_reader_f64(r, "leaf value");
                if (lift_reader_ok(r) && !isfinite(g->value[i]))
                    lift_reader_fail(r, "bad gbdt leaf value");
                continue;
            }
            nd->left = lift_reader_u32(r, "gbdt child");
            if (nd->flags & LIFT_GBDT_CATEGORICAL)
                nd->cat = lift_reader_u32(r, "gbdt categorical set");
            g->gain[i] = lift_reader_f32(r, "gbdt gain");
            if (!lift_reader_ok(r))
                goto fail;
            /* children after the node and inside the tree: no cycles */
            if (nd->left <= i - s || nd->left >= e - s - 1 ||
                nd->col >= g->n_cols ||
                ((nd->flags & LIFT_GBDT_CATEGORICAL) && nd->cat >= nc)) {
                lift_reader_fail(r, "bad gbdt node %u of tree %zu", i - s, t);
                goto fail;
            }
        }
        /* covers add up, so TreeSHAP's fractions are well defined */
        for (uint32_t i = s; i < e && lift_reader_ok(r); i++) {
            const struct lift_gbdt_node *nd = g->node + i;
            if (nd->flags & LIFT_GBDT_LEAF)
                continue;
            double cl = g->cover[s + nd->left], cr = g->cover[s + nd->left + 1];
            if (cl + cr != g->cover[i] || cl == 0 || cr == 0)
                lift_reader_fail(r, "bad gbdt covers in tree %zu", t);
        }
    }
    if (!lift_reader_ok(r))
        goto fail;
    if ((rc = finish_trees(g, err)))
        goto fail;
    if (g->max_depth > MAX_DEPTH) {
        lift_reader_fail(r, "gbdt tree deeper than %d", MAX_DEPTH);
        goto fail;
    }
    gbdt_destroy(l);
    l->state = g;
    return LIFT_OK;
nomem:
    rc = lift_error_nomem(err, "gbdt");
fail:
    if (!rc)
        rc = lift_reader_status(r, err);
    gbdt_free(g);
    return rc;
}

/* Gain importance: every kept inner node's gain (the double the split
 * search maximised, l2 included, before the file's f32 rounding) added to
 * its column, in node order - one add per split, the same sum at any
 * thread count since the trees are. */
static void gbdt_gains(const struct lift_learner *l, double *out)
{
    const struct gbdt *g = l->state;
    for (size_t c = 0; c < l->n_inputs; c++)
        out[c] = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!(g->node[i].flags & LIFT_GBDT_LEAF) &&
            g->node[i].col < l->n_inputs)
            out[g->node[i].col] += g->gain[i];
}

const struct lift_learner_ops lift_gbdt_ops = {
    .name = "gbdt",
    .binned = true,
    .predict_binned = gbdt_predict_binned,
    .explain_binned = gbdt_explain_binned,
    .fit = gbdt_fit,
    .predict = NULL,
    .explain = NULL,
    .save = gbdt_save,
    .load = gbdt_load,
    .destroy = gbdt_destroy,
    .gains = gbdt_gains,
};
