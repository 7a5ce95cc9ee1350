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
 * has a larger uplift than a random k share.
 */
#ifndef LIFT_MARKETING_UPLIFT_H
#define LIFT_MARKETING_UPLIFT_H

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

#endif
