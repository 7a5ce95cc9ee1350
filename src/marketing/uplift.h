/*
 * marketing/uplift.h - the uplift evaluation's pieces, for the tests.
 *
 * uplift_order sorts row indices by decreasing score (NAN last, ties by
 * index); uplift_eval_sorted walks that order once with optional integer
 * weights (the bootstrap's resample counts) and, when cx and cq are given
 * (capacity n + 1), records the Qini curve's points from (0, 0); the
 * definitions are in include/lift/uplift.h. uplift_bootstrap draws b
 * resamples of the n rows from seed and gives the 2.5 and 97.5
 * percentiles of qini and the share of resamples where the top k share
 * has a larger uplift than a random k share, each resample drawing the
 * treated and the control rows apart (n_t among the n_t treated, n_c
 * among the n_c control rows), as the experiment fixed the arm sizes.
 *
 * uplift_perfect_qini gives the Qini of the best possible order of the
 * rows (treated responders first, control responders last, every other
 * row one tied step between), the scale of "qini_normalised" = qini /
 * that, 1 for a perfect ranking and 0 for a random one (NAN without
 * rows or an arm).
 *
 * uplift_partition assigns the rows that have an arm (arm_of[r] !=
 * LIFT_MISSING_CODE; arm_of and y per row, strata arm x outcome) to the
 * rounds of model fitting: folds 0 is one seeded holdout of
 * test_fraction (part[r] 1 test, 2 train; one round), folds K in 2..254
 * is seeded stratified K-fold cross-fitting (part[r] = fold + 1; K
 * rounds); part[r] 0 for a row without an arm. The predicates read it:
 * uplift_is_train(r, f) says row r trains the models of round f,
 * uplift_scored_by(r, f) that its uplift comes from round f's models,
 * uplift_is_test(r) that it is evaluated. Under K-fold every row with an
 * arm is scored by exactly one round, whose models it did not train;
 * under a holdout every row is scored by the one round and only the test
 * rows, which did not train it, are evaluated.
 */
#ifndef LIFT_MARKETING_UPLIFT_H
#define LIFT_MARKETING_UPLIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/uplift.h>

enum lift_code uplift_order(const double *score, size_t n, uint32_t *order,
                            struct lift_error *err);
void uplift_eval_sorted(const uint32_t *order, const double *score,
                        const uint8_t *arm, const uint8_t *y, const uint32_t *w,
                        size_t n, double k, struct lift_uplift_stats *out,
                        double *cx, double *cq, size_t *n_pts);
enum lift_code uplift_bootstrap(const uint32_t *order, const double *score,
                                const uint8_t *arm, const uint8_t *y, size_t n,
                                double k, size_t b, uint64_t seed, double *lo,
                                double *hi, double *beats,
                                struct lift_error *err);

enum lift_code uplift_perfect_qini(const uint8_t *arm, const uint8_t *y,
                                   size_t n, double *qini,
                                   struct lift_error *err);
enum lift_code uplift_partition(const uint32_t *arm_of, const uint8_t *y,
                                size_t nr, size_t n_levels, unsigned folds,
                                double test_fraction, uint64_t seed,
                                uint8_t *part, unsigned *n_rounds,
                                size_t *n_train, size_t *n_test,
                                struct lift_error *err);
bool uplift_is_test(const uint8_t *part, unsigned n_rounds, size_t r);
bool uplift_is_train(const uint8_t *part, unsigned n_rounds, size_t r,
                     unsigned f);
bool uplift_scored_by(const uint8_t *part, unsigned n_rounds, size_t r,
                      unsigned f);

#endif
