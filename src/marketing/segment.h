/*
 * marketing/segment.h - k-means and the silhouette, on a dense matrix.
 *
 * x is n rows of d doubles, row-major. kmeans_fit runs n_init seeded
 * k-means++ + Lloyd fits (restart i draws from lift_rng_split(seed, i))
 * and keeps the lowest inertia: centers (k x d), label (n) and *inertia
 * are the best fit's, *iters its Lloyd iterations. tol is relative to
 * the mean variance of x's columns (see include/lift/segment.h).
 * Requires 1 <= k <= n. pg (NULL: none) hears stage "kmeans" (restart
 * of n_init) before every Lloyd iteration and may cancel there.
 * LIFT_ERR_NOMEM and LIFT_ERR_CANCELLED are the failures.
 * silhouette_mean is the mean silhouette of rows[0..m) of x under label
 * (a row alone in its cluster scores 0): O(m^2 d).
 */
#ifndef LIFT_MARKETING_SEGMENT_H
#define LIFT_MARKETING_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#include "marketing/common.h"

enum lift_code kmeans_fit(const double *x, size_t n, size_t d, size_t k,
                          unsigned n_init, unsigned max_iter, double tol,
                          uint64_t seed, double *centers, uint32_t *label,
                          double *inertia, unsigned *iters,
                          const struct lift_mkt_progress *pg,
                          struct lift_error *err);

enum lift_code silhouette_mean(const double *x, size_t d, const uint32_t *rows,
                               size_t m, const uint32_t *label, size_t k,
                               double *out, struct lift_error *err);

#endif
