/*
 * marketing/rfm.h - the quintile scores, for the tests.
 *
 * rfm_scores gives each of v[0..n) its score 1..5 (0 for NAN): higher is
 * better unless `lower_better`; the rule is in include/lift/rfm.h. NAN
 * values are not counted in n. O(n log n); LIFT_ERR_NOMEM.
 */
#ifndef LIFT_MARKETING_RFM_H
#define LIFT_MARKETING_RFM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/rfm.h>

enum lift_code rfm_scores(const double *v, size_t n, bool lower_better,
                          uint8_t *score, struct lift_error *err);

#endif
