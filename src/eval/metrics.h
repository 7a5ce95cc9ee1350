/*
 * eval/metrics.h - internals of the metrics shared within src/eval.
 *
 * The public calls are in include/lift/metrics.h. What is here is the
 * ranking they rest on, so that later tables over scored rows (profit
 * curves, targeting) order rows exactly as the gain table does.
 */
#ifndef LIFT_EVAL_METRICS_H
#define LIFT_EVAL_METRICS_H

#include <stddef.h>

#include <lift/error.h>
#include <lift/metrics.h>

struct lift_ranked {
    double score;
    size_t row;
};

/*
 * Ranks rows 0..n-1 by score descending, equal scores in increasing row
 * order (a stable merge sort, so the order does not depend on the
 * platform's qsort). No score may be NaN (the caller checks; NaN breaks
 * the order but not memory safety). On success *out holds n entries,
 * owned by the caller (lift_free); on failure *out is NULL and the code
 * is LIFT_ERR_NOMEM. O(n log n) time, 2n entries of memory at the peak.
 */
enum lift_code lift_rank_desc(const double *score, size_t n,
                              struct lift_ranked **out, struct lift_error *err);

#endif
