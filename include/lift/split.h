/*
 * lift/split.h - deterministic row splits: holdout, by time, k-fold.
 *
 * All take a seed and use the project's rng (integer arithmetic only), so
 * the same seed gives the same split on every machine. Stratification
 * keeps each class's share: per class, round(fraction * n_class) rows go
 * to the test side (round half away from zero, as C's round()). Row
 * indices are returned in increasing order.
 *
 * Row indices are uint32_t, so n_rows may be at most UINT32_MAX; more is
 * LIFT_ERR_LIMIT. Every call may also fail with LIFT_ERR_NOMEM.
 *
 * Thread-safety: the calls keep no state; any number may run at once on
 * distinct outputs.
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

/* Frees both index arrays and zeroes *s. s may be NULL; a zeroed split may
 * be released any number of times. */
void lift_split_release(struct lift_split *s);

/*
 * Random holdout of n_rows rows, test_fraction in (0, 1). strata: NULL, or
 * one class id per row (< n_strata; LIFT_MISSING_CODE rows form their own
 * class). Each class draws its test rows from its own rng stream derived
 * from (seed, class), so one class's draw does not depend on the others.
 * LIFT_ERR_INVALID for a fraction outside (0, 1), a class id >= n_strata
 * (other than LIFT_MISSING_CODE), n_strata > UINT32_MAX, or a side that
 * would be empty. On success *out owns two arrays (lift_split_release);
 * on failure *out is zeroed.
 */
enum lift_code lift_split_holdout(size_t n_rows, const uint32_t *strata,
                                  size_t n_strata, double test_fraction,
                                  uint64_t seed, struct lift_split *out,
                                  struct lift_error *err);

/*
 * By time: the last round(test_fraction * n_rows) rows, ordered by column
 * `time_col` (numeric or date; missing first; ties keep file order) or,
 * when time_col is (size_t)-1, by file order. LIFT_ERR_INVALID for a NULL
 * table, a column index out of range, a fraction outside (0, 1) or a side
 * that would be empty; LIFT_ERR_UNPROCESSABLE for a column that is
 * neither numeric nor date. *out as for lift_split_holdout.
 */
enum lift_code lift_split_time(const struct lift_table *t, size_t time_col,
                               double test_fraction, struct lift_split *out,
                               struct lift_error *err);

/*
 * Stratified k-fold: fold[r] in [0, k) for every row. Each class (strata
 * as for lift_split_holdout; NULL: one class) is shuffled with its own
 * stream from (seed, class) and dealt round-robin over the folds, the deal
 * continuing from one class to the next, so fold sizes differ by at most
 * one per class and at most one overall, and no fold is empty.
 * 2 <= k <= n_rows, else LIFT_ERR_INVALID (also for bad strata as above).
 * On success *fold is an array of n_rows entries owned by the caller, who
 * frees it with free(); on failure *fold is NULL.
 */
enum lift_code lift_split_kfold(size_t n_rows, const uint32_t *strata,
                                size_t n_strata, unsigned k, uint64_t seed,
                                uint32_t **fold, struct lift_error *err);

/*
 * Rows of fold `f` as test and the rest as train, both increasing.
 * LIFT_ERR_INVALID when fold is NULL, or when fold f holds no row or every
 * row. *out as for lift_split_holdout.
 */
enum lift_code lift_split_fold(const uint32_t *fold, size_t n_rows, unsigned f,
                               struct lift_split *out, struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
