/*
 * models/gbdt.h - gradient-boosted trees on the binned view (gbdt.c).
 *
 * The learner is registered as "gbdt" in models/learner.c; this header
 * also exposes the pieces that the unit tests check against obvious
 * implementations: histogram building, split finding, single-tree
 * prediction and TreeSHAP.
 *
 * Histograms: one slot per code (0..255) per column, so that a code
 * indexes its slot directly: numeric bins 0..n_bins-1, categorical
 * levels 0..n_bins-1 and LIFT_BIN_RARE, and LIFT_BIN_MISSING (255).
 */
#ifndef LIFT_MODELS_GBDT_H
#define LIFT_MODELS_GBDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/learner.h"

extern const struct lift_learner_ops lift_gbdt_ops;

#define LIFT_GBDT_SLOTS 256

/* Sums of gradient, hessian and row count of the rows in one slot; pad
 * is 0 and makes a slot four doubles, so that adding a row to it is one
 * vector add. */
struct lift_gbdt_bin {
    double g, h, n, pad;
};

struct lift_gbdt_split_params {
    double l2;               /* on leaf values */
    double min_child_weight; /* least hessian sum of a child */
    double min_cat_count;    /* least rows of a level to be sorted */
    double cat_smooth;       /* added to h when sorting levels by g / h */
};

/* A candidate split of one node on one column. */
struct lift_gbdt_split {
    double gain; /* loss reduction, > 0 when the split is valid */
    uint32_t col;
    uint8_t thr; /* numeric: codes <= thr go left */
    bool categorical;
    bool default_left;    /* missing rows go left */
    uint8_t left_set[32]; /* categorical: bit c set = code c goes left
                             (bit 255: missing) */
    struct lift_gbdt_bin left, right;
};

/* Adds rows[0..n) of the columns cols[0..n_cols) of x, with gradient
 * pairs gh[2 r], gh[2 r + 1], into h[c * LIFT_GBDT_SLOTS + code] for
 * each column c (the caller zeroes those slots). Each column sums its
 * rows in order, so the result does not depend on the other columns. */
void lift_gbdt_hist_build(const struct lift_binned *x, const uint32_t *cols,
                          size_t n_cols, const uint32_t *rows, size_t n,
                          const double *gh, struct lift_gbdt_bin *h);

/* The fit's compact histograms: a column has lift_gbdt_slots(n_bins,
 * categorical) slots (0 for a numeric column without bins): its bins
 * 0..n_bins-1, then, categorical only, the rare level, then the missing
 * rows. lift_gbdt_slot gives the slot of a code, -1 for a code outside
 * the column's bins. */
unsigned lift_gbdt_slots(unsigned n_bins, bool categorical);
int lift_gbdt_slot(unsigned n_bins, bool categorical, uint8_t code);

/* The training rows as the fit's histogram passes read them: column c
 * has the slots off[c]..off[c + 1] of a histogram of off[n_cols] slots,
 * and row r's slot of column c is at record r, that is in slot16[r *
 * n_cols + c] as off[c] + its slot when off[n_cols] <= 65536 (a pass
 * then reads one short record per row and adds it to h[slot] directly),
 * else in slot8[r * n_cols + c] as its slot. */
struct lift_gbdt_rows {
    size_t n_rows, n_cols;
    uint32_t *off;
    uint16_t *slot16;
    uint8_t *slot8;
};

/* Fills *rows from x; a code outside its column's bins is an error. */
enum lift_code lift_gbdt_rows_init(struct lift_gbdt_rows *rows,
                                   const struct lift_binned *x,
                                   struct lift_error *err);
void lift_gbdt_rows_release(struct lift_gbdt_rows *rows);

/* Adds rows[0..n) (rows NULL: the rows 0..n-1) of the columns
 * cols[0..n_cols), with gradient pairs gh[2 r], gh[2 r + 1], into the
 * compact histogram h (the caller zeroes the columns' slots). Each column sums
 * its rows in order, as lift_gbdt_hist_build does, so both give the same sums
 * bit for bit. */
void lift_gbdt_hist_rows(const struct lift_gbdt_rows *x, const uint32_t *cols,
                         size_t n_cols, const uint32_t *rows, size_t n,
                         const double *gh, struct lift_gbdt_bin *h);

/* Best split of a node on one column from its histogram h and the node's
 * totals; numeric columns try every threshold with missing rows on
 * either side, categorical ones every prefix of the levels sorted by
 * g / (h + cat_smooth) (from both ends; levels with fewer than
 * min_cat_count rows, and unseen ones, stay right). Writes *best and
 * returns true when a split with positive gain exists. */
bool lift_gbdt_best_split(const struct lift_gbdt_bin *h, size_t col,
                          unsigned n_bins, bool categorical,
                          const struct lift_gbdt_bin *total,
                          const struct lift_gbdt_split_params *sp,
                          struct lift_gbdt_split *best);

/* Node flags */
#define LIFT_GBDT_LEAF 1u
#define LIFT_GBDT_DEFAULT_LEFT 2u
#define LIFT_GBDT_CATEGORICAL 4u

/* One node: 12 bytes. Children of an inner node are left and left + 1
 * (indices in the tree, always after the node itself). */
struct lift_gbdt_node {
    uint32_t left;
    uint32_t cat; /* categorical: index of its 32-byte set in cats */
    uint16_t col;
    uint8_t thr;
    uint8_t flags;
};

/* A tree as stored: nodes[0] is the root. value[] holds leaf values,
 * cover[] the training rows that reached each node (cover of an inner
 * node = the sum of its children's). */
struct lift_gbdt_tree {
    const struct lift_gbdt_node *node;
    const double *value;
    const double *cover;
    const uint8_t *cats;
    size_t n_nodes;
};

/* Whether code goes to the left child of inner node nd. */
static inline bool lift_gbdt_goes_left(const struct lift_gbdt_node *nd,
                                       const uint8_t *cats, uint8_t code)
{
    if (nd->flags & LIFT_GBDT_CATEGORICAL) {
        const uint8_t *set = cats + (size_t)nd->cat * 32;
        return (set[code >> 3] >> (code & 7)) & 1;
    }
    if (code == 255)
        return nd->flags & LIFT_GBDT_DEFAULT_LEFT;
    return code <= nd->thr;
}

/* Leaf value of the row codes[0..n_cols). */
double lift_gbdt_tree_predict(const struct lift_gbdt_tree *t,
                              const uint8_t *codes);

/* Scratch doubles lift_gbdt_tree_shap needs for a tree of depth d. */
size_t lift_gbdt_shap_scratch(unsigned depth);

/* Exact path-dependent TreeSHAP of one tree for the row codes: adds each
 * column's Shapley value to contrib[col] and returns the tree's expected
 * value (the cover-weighted mean of its leaves), so that the return
 * value plus the added contributions equal lift_gbdt_tree_predict.
 * scratch holds lift_gbdt_shap_scratch(depth) doubles, depth the tree's
 * depth (edges from the root to its deepest leaf). */
double lift_gbdt_tree_shap(const struct lift_gbdt_tree *t, const uint8_t *codes,
                           unsigned depth, double *contrib, double *scratch);

#endif
