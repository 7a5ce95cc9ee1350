/*
 * lift/marketing.h - campaign targeting under a budget, and the HTML
 * report of a model.
 *
 * A campaign plan turns calibrated scores into a decision. Each customer
 * i has an expected profit
 *
 *     e_i = p_i * v_i - c
 *
 * where p_i is the model's calibrated P(positive), v_i the value of a
 * conversion (a constant, or a numeric column such as the expected order
 * value) and c the cost of one contact. Customers are ranked by e_i
 * (highest first, ties in row order); contacting the first k earns, in
 * expectation, sum(p_i v_i) - k c. The plan picks the k that maximises
 * this within the limit: a budget (k c <= budget), a number of contacts,
 * a minimum ROI (profit / cost of the whole selection >= min_roi), or
 * none. It reports the totals there, next to contacting everyone and
 * contacting k customers at random, the profit and cumulative gain
 * curves, and - when the table holds the model's target - the profit the
 * plan would have realised on the true labels, at the cut-off, at the
 * fixed top 10/20/30 % and for everyone.
 *
 * Thread-safety: reentrant; the model and table are only read, a plan is
 * immutable once made.
 */
#ifndef LIFT_MARKETING_H
#define LIFT_MARKETING_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>
#include <lift/model.h>
#include <lift/table.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Points of the sampled curves: k = round(j n / N) for j = 0..N, plus the
 * chosen cut-off. */
#define LIFT_CURVE_POINTS 100

/*
 * The economics of a campaign. Fill with lift_campaign_opts_init, then
 * set what applies. At most one limit may be set; the others stay NAN.
 */
struct lift_campaign_opts {
    double cost;           /* per contact, >= 0 and finite */
    double value;          /* per conversion, > 0 (ignored with value_col) */
    const char *value_col; /* numeric column of values per row, or NULL */
    double budget;         /* NAN, or >= cost (at least one contact) */
    double max_contacts;   /* NAN, or a whole number >= 1 */
    double min_roi;        /* NAN, or finite (0.5 = earn 50 % over cost) */
};

/* cost 0, value NAN (unset), no value column, no limit. */
void lift_campaign_opts_init(struct lift_campaign_opts *o);

/*
 * Checks the economics alone (before any data is read): a negative or
 * non-finite cost, a value <= 0 or unset without value_col, more than
 * one limit, a budget below the cost of one contact, a budget or minimum
 * ROI with cost 0, max_contacts not a whole number >= 1. Each is
 * LIFT_ERR_INVALID with a sentence naming the setting.
 */
enum lift_code lift_campaign_opts_check(const struct lift_campaign_opts *o,
                                        struct lift_error *err);

struct lift_campaign;

/*
 * Plans a campaign over every row of t with binary model m. Errors: those
 * of lift_campaign_opts_check; LIFT_ERR_INVALID for a model that is not
 * binary or an empty table; LIFT_ERR_NOT_FOUND for an unknown value
 * column; LIFT_ERR_UNPROCESSABLE for a value column that is not numeric
 * or holds a negative or infinite value (naming the line), and those of
 * lift_model_predict_table. A missing value in the value column counts
 * as 0 (the row is never worth contacting). *out owns the plan (free
 * with lift_campaign_free); NULL on failure.
 */
enum lift_code lift_campaign_plan(const struct lift_model *m,
                                  const struct lift_table *t,
                                  const struct lift_campaign_opts *o,
                                  struct lift_campaign **out,
                                  struct lift_error *err);

void lift_campaign_free(struct lift_campaign *c);

/* Rows in the table, and rows chosen (the cut-off k). */
size_t lift_campaign_n_rows(const struct lift_campaign *c);
size_t lift_campaign_n_selected(const struct lift_campaign *c);

/* The i-th customer by expected profit (i < n_rows; the first
 * n_selected are the selection): its 0-based table row, calibrated score
 * and expected profit. */
void lift_campaign_ranked(const struct lift_campaign *c, size_t i, size_t *row,
                          double *score, double *profit);

/*
 * The plan as a JSON object text (free()): {"rows","economics":{...},
 * "limit":{"kind":"none|budget|max_contacts|min_roi","value"},
 * "cutoff":{"contacts","fraction","score","expected_profit_last"},
 * "plan"/"everyone"/"random":{"contacts","conversions","revenue","cost",
 * "profit","roi"} (expected), "profit_curve" and "gain_curve" (arrays
 * of {"contacts","fraction",...}), and with labels "realised":{"plan",
 * "everyone","top_10","top_20","top_30"} (conversions, revenue, cost,
 * profit, roi on the true labels), "lift_table" (10 deciles) and
 * "positives". The first n_list selected rows (at most n_selected) go to
 * "selected":[{"row","score","expected_profit"}] with row 1-based (and
 * "id" when t and id_col name a column).
 */
enum lift_code lift_campaign_json(const struct lift_campaign *c,
                                  const struct lift_table *t,
                                  const char *id_col, size_t n_list,
                                  char **json, struct lift_error *err);

/*
 * The selection as CSV text (free()): a header `row,score,expected_profit`
 * (or `<id_col>,score,expected_profit`), then one line per selected
 * customer in rank order; row is 1-based. LIFT_ERR_NOT_FOUND for an
 * unknown id_col.
 */
enum lift_code lift_campaign_csv(const struct lift_campaign *c,
                                 const struct lift_table *t, const char *id_col,
                                 char **text, size_t *len,
                                 struct lift_error *err);

/*
 * One self-contained HTML page (inline CSS, inline SVG drawn here, no
 * script, nothing fetched) about binary model m on table t, which must
 * hold the model's target: the headline metrics, the cumulative gain
 * curve and lift by decile, the calibration (reliability) curve, the
 * ROC curve, the top feature importances, and - when o is not NULL - the
 * campaign plan with its profit curve and chosen cut-off. Each chart is
 * an <svg class="chart" id="..." data-points="N"> whose N data points
 * are the elements with class "pt" inside it. *html (free()) and *len.
 * Errors: those of lift_campaign_plan and lift_evaluate_json;
 * LIFT_ERR_INVALID when t lacks the target or no row has one.
 */
enum lift_code lift_report_html(const struct lift_model *m,
                                const struct lift_table *t, const char *title,
                                const struct lift_campaign_opts *o, char **html,
                                size_t *len, struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
