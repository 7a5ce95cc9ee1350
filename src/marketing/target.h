/*
 * marketing/target.h - internals of campaign planning shared with the
 * report (marketing/report.c): the plan's arrays, so that the report
 * draws exactly the curves the plan's JSON lists.
 *
 * The public calls are in include/lift/marketing.h.
 */
#ifndef LIFT_MARKETING_TARGET_H
#define LIFT_MARKETING_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/marketing.h>

#include "eval/metrics.h"

enum campaign_limit {
    LIMIT_NONE = 0,
    LIMIT_BUDGET,
    LIMIT_CONTACTS,
    LIMIT_ROI,
};

struct lift_campaign {
    size_t n; /* rows */
    size_t k; /* chosen cut-off: the first k of rank are contacted */
    double cost;
    double value;    /* NAN with a value column */
    char *value_col; /* owned, or NULL */
    enum campaign_limit limit;
    double limit_value;
    size_t value_missing;     /* rows whose value was missing (taken as 0) */
    struct lift_ranked *rank; /* n entries: score = expected profit */
    double *p;                /* n calibrated scores, by table row */
    double *v;                /* n values per conversion, by table row */
    /* through the first k ranked rows, k = 0..n (n + 1 entries) */
    double *cum_conv; /* expected conversions: sum p */
    double *cum_rev;  /* expected revenue: sum p v */
    /* with labels (the table holds the target) */
    bool has_labels;
    uint8_t *y;        /* n labels by table row (missing target: 0) */
    size_t positives;  /* rows with y == 1 */
    size_t no_target;  /* rows whose target was missing */
    double *real_conv; /* n + 1: sum y through k */
    double *real_rev;  /* n + 1: sum y v through k */
};

/* Expected totals of contacting the first k ranked rows. */
struct campaign_totals {
    size_t contacts;
    double conversions, revenue, cost, profit, roi; /* roi NAN at cost 0 */
};

void campaign_expected(const struct lift_campaign *c, size_t k,
                       struct campaign_totals *out);
/* Realised on the labels (c->has_labels). */
void campaign_realised(const struct lift_campaign *c, size_t k,
                       struct campaign_totals *out);
/* The k of point j of the sampled curves (j = 0..LIFT_CURVE_POINTS). */
size_t campaign_curve_k(const struct lift_campaign *c, size_t j);

#endif
