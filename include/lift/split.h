/*
 * lift/split.h - deterministic row splits: holdout, by time, k-fold.
 *
 * All take a seed and use the project's rng (integer arithmetic only), so
 * the same seed gives the same split on every machine. Stratification
 * keeps each class's share: per class, round(fraction * n_class) rows go
 * to the test side. Row indices are returned in increasing order.
 */
#ifndef LIFT_SPLIT_H
#define LIFT_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_table;

struct lift_split {
    uint32_t *train; /* row indices, increasing */
    size_t n_train;
    uint32_t *test;
    size_t n_test;
};

void lift_split_release(struct lift_split *s);

/*
 * Random holdout of n_rows rows, test_fraction in (0, 1). strata: NULL, or
 * one class id per row (< n_strata; LIFT_MISSING_CODE rows form their own
 * class). LIFT_ERR_INVALID for a fraction outside (0, 1) or a side that
 * would be empty.
 */
enum lift_code lift_split_holdout(size_t n_rows, const uint32_t *strata,
                                  size_t n_strata, double test_fraction,
                                  uint64_t seed, struct lift_split *out,
                                  struct lift_error *err);

/*
 * By time: the last test_fraction of rows, ordered by column `time_col`
 * (numeric or date; missing first; ties keep file order) or, when
 * time_col is (size_t)-1, by file order.
 */
enum lift_code lift_split_time(const struct lift_table *t, size_t time_col,
                               double test_fraction, struct lift_split *out,
                               struct lift_error *err);

/*
 * Stratified k-fold: fold[r] in [0, k) for every row; each class is dealt
 * round-robin over the folds after a seeded shuffle, so fold sizes differ
 * by at most one per class. 2 <= k <= n_rows, else LIFT_ERR_INVALID.
 * *fold is owned by the caller (lift_free... use free()).
 */
enum lift_code lift_split_kfold(size_t n_rows, const uint32_t *strata,
                                size_t n_strata, unsigned k, uint64_t seed,
                                uint32_t **fold, struct lift_error *err);

/* Rows of fold `f` as test and the rest as train. */
enum lift_code lift_split_fold(const uint32_t *fold, size_t n_rows,
                               unsigned f, struct lift_split *out,
                               struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
