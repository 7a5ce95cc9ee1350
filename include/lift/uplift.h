/*
 * lift/uplift.h - who is persuadable: uplift models on a randomised
 * campaign, evaluated on a held-out split.
 *
 * Input: a table with a treatment column (categorical: one control label,
 * every other level a treatment), a binary outcome and features. The rows
 * are split once (seeded, stratified by arm and outcome). Two estimators:
 *   t_learner             one model of P(y | x) per arm (any lift model
 *                         kind); uplift = p_treatment(x) - p_control(x)
 *   class_transformation  one model of P(z = 1 | x) per treatment, with
 *                         z = y for treated and 1 - y for control rows on
 *                         arms balanced by subsampling the larger one, so
 *                         that uplift = 2 P(z = 1 | x) - 1 (Jaskowski and
 *                         Jaroszewicz 2012)
 * On the test rows of each treatment and its control, rows ordered by
 * predicted uplift (ties form one step of the curve):
 *   Qini curve   Q(x) = (Y_t - Y_c N_t / N_c) / N at the fraction x of the
 *                N test rows taken, Y and N the positives and rows of each
 *                arm in the prefix
 *   qini         area between Q and the random line from (0,0) to
 *                (1, Q(1)), trapezoids; 0 for random order;
 *                qini_normalised divides it by the qini of the perfect
 *                order (treated responders first, control responders
 *                last), so a perfect ranking gives 1
 *   auuc         area under U(x) = (Y_t / N_t - Y_c / N_c) x; auuc_random
 *                = U(1) / 2
 *   uplift_at_k  rate_t - rate_c among the top k (fraction) rows
 * with a percentile bootstrap (B resamples of the test rows, seeded,
 * drawn within each arm so that every resample keeps the arm sizes) of
 * qini and the share of resamples where the top k beats a random k.
 * The evaluation is named in the report: "holdout" (one split; only the
 * test rows, which trained no model, are evaluated) or "cross_fitting"
 * (K folds; every row is evaluated with the uplift of the models trained
 * on the other folds).
 * The average effect (mean predicted uplift on the test rows) is given
 * next to the randomised difference in means with its normal 95 %
 * interval.
 * Thread-safety: calls keep no state; options are not shared.
 */
#ifndef LIFT_UPLIFT_H
#define LIFT_UPLIFT_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>
#include <lift/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_table;
struct lift_uplift_opts;

enum lift_code lift_uplift_opts_new(struct lift_uplift_opts **out,
                                    struct lift_error *err);
void lift_uplift_opts_free(struct lift_uplift_opts *o);

/*
 * Sets one option from its text. Keys: treatment, control, target,
 * positive, estimators ("t_learner,class_transformation", the default),
 * test-fraction (0.3), k (top fraction, 0.3), bootstrap (resamples, 1000;
 * 0 none), folds (0: one holdout; 2..20: cross-fitting, every row
 * scored by the models of the other folds), value (1), cost (0), seed
 * (42), customers ("true": list every row's uplifts and best treatment);
 * every other key is a training
 * option (lift_train_opts_set: model, drop, epochs, ...), checked here.
 * LIFT_ERR_INVALID names the key and the bad value.
 */
enum lift_code lift_uplift_opts_set(struct lift_uplift_opts *o, const char *key,
                                    const char *value, struct lift_error *err);

/*
 * Fits and evaluates the estimators; *json receives the report (free()):
 * {"treatment","control","target","positive","rows","train_rows",
 *  "test_rows","test_fraction","folds","evaluation" ("holdout" or
 *  "cross_fitting"),"k","bootstrap","seed","value","cost",
 *  "arms":[{"label","rows","rate"}],
 *  "treatments":[{"label","difference_in_means":{"effect","lo","hi",
 *    "treated_rate","control_rate","treated","control"},
 *    "estimators":{name:{"qini","qini_lo","qini_hi","qini_perfect",
 *      "qini_normalised","auuc","auuc_random",
 *      "uplift_at_k","top_beats_random","average_effect",
 *      "qini_curve":[[x,q],...]}}}],
 *  "best_treatment":{name:{label or "none": customers}},
 *  "targeting":{name:{"targeted","expected_responses","expected_profit"}},
 *  with customers: "customer_estimator" (t_learner when used) and
 *  "customer_rows":[{"line","uplift":{label:uplift},"best"}]}
 * Best treatment and targeting cover every row with a treatment and an
 * outcome: the treatment of largest uplift x value - cost when that is
 * above 0, else "none".
 * Errors: LIFT_ERR_INVALID (no treatment, control or target given),
 * LIFT_ERR_NOT_FOUND (a column or the control label absent),
 * LIFT_ERR_UNPROCESSABLE (a treatment column that is not categorical or
 * has a single level, an outcome that is not binary, an arm too small to
 * split), the errors of lift_model_train, LIFT_ERR_NOMEM.
 */
enum lift_code lift_uplift_run(const struct lift_table *t,
                               const struct lift_uplift_opts *o, char **json,
                               struct lift_error *err);

/* One evaluation of ordered uplift scores (see the overview). */
struct lift_uplift_stats {
    double qini, auuc, auuc_random, uplift_at_k;
};

/*
 * Evaluates score[0..n) against arm (1 treated, 0 control) and outcome y
 * (0/1), each row counted w[i] times (w NULL: once), k the top fraction
 * in (0, 1]. Values are NAN where an arm is empty. LIFT_ERR_INVALID for
 * n == 0 or k outside (0, 1]; LIFT_ERR_NOMEM. Thread-safe.
 */
enum lift_code lift_uplift_evaluate(const double *score, const uint8_t *arm,
                                    const uint8_t *y, const uint32_t *w,
                                    size_t n, double k,
                                    struct lift_uplift_stats *out,
                                    struct lift_error *err);

/*
 * Progress and cancellation: fn (NULL: none) is called from the running
 * thread at the run's safe points with p->stage naming the step (below)
 * and p->epoch of p->epochs its progress (0 of 0 when there is none to
 * count); a non-zero return stops the run there with LIFT_ERR_CANCELLED
 * and frees what it built. Stage "check" comes once, after every check of
 * the options against the table and before any fitting.
 * Stages: "check"; "round" (round of the rounds: 1,
 * or the folds) before each round's models, then the stages of their
 * training (include/lift/model.h: "fit", "batch", ...); "bootstrap" (resample
 * of bootstrap) before every resample of each treatment and estimator.
 */
void lift_uplift_opts_set_progress(struct lift_uplift_opts *o,
                                   lift_progress_fn fn, void *user);

/*
 * Checks that lift_uplift_run would accept t and o - the same checks, in
 * the same order, with the same errors - without fitting anything: the
 * run up to its stage "check". Costs O(rows) (the outcome of every row and the
 * split). Thread-safe for distinct tables or options.
 */
enum lift_code lift_uplift_check(const struct lift_table *t,
                                 const struct lift_uplift_opts *o,
                                 struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
