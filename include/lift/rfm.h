/*
 * lift/rfm.h - recency, frequency, monetary scores and named segments.
 *
 * Input, one of:
 *   columns       one row per customer with recency (smaller is more
 *                 recent), frequency and monetary columns (numeric)
 *   transactions  one row per purchase with a customer id, a date (an
 *                 ISO 8601 date column) and an amount (numeric); lift
 *                 aggregates per customer: recency = whole days from the
 *                 customer's last purchase to the as-of date (default:
 *                 the day after the latest purchase), frequency = number
 *                 of purchases, monetary = sum of amounts (a missing
 *                 amount counts as 0; a row without a date is skipped)
 * Scores 1..5 by quintile, ties sharing a score: with n scored customers,
 * F = 1 + floor(5 b / n) and M likewise, b the number of customers with a
 * strictly smaller value; R = 1 + floor(5 a / n), a the number with a
 * strictly larger recency. A customer missing any of the three values is
 * "unscored". Segments from R and F (M is reported, not used):
 *
 *           F=1          F=2          F=3          F=4        F=5
 *   R=5     new          potential    potential    champions  champions
 *   R=4     new          potential    potential    loyal      champions
 *   R=3     hibernating  hibernating  potential    loyal      loyal
 *   R=2     hibernating  hibernating  at risk      at risk    can't lose
 *   R=1     lost         lost         at risk      at risk    can't lose
 *
 * ("potential" is "potential loyalists".) Thread-safety: calls keep no
 * state.
 */
#ifndef LIFT_RFM_H
#define LIFT_RFM_H

#include <stdbool.h>
#include <stddef.h>

#include <lift/error.h>
#include <lift/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_table;
struct lift_rfm_opts;

enum lift_code lift_rfm_opts_new(struct lift_rfm_opts **out,
                                 struct lift_error *err);
void lift_rfm_opts_free(struct lift_rfm_opts *o);

/*
 * Sets one option from its text. Keys: recency, frequency, monetary
 * (columns mode); customer, date, amount, as-of (an ISO 8601 date;
 * transactions mode); customers ("true": list every customer in the
 * report). LIFT_ERR_INVALID names the key and the bad value.
 */
enum lift_code lift_rfm_opts_set(struct lift_rfm_opts *o, const char *key,
                                 const char *value, struct lift_error *err);

/*
 * Scores the customers of t; *json receives (free()):
 * {"mode","customers","scored","as_of" (transactions),
 *  "segments":[{"segment","customers","share","recency","frequency",
 *  "monetary" (means)}] for the eight names in the order of the table's
 *  overview, then "unscored" when any,
 *  "customer_rows" (with customers=true):[{"customer","recency",
 *  "frequency","monetary","r","f","m","segment"}]}
 * Errors: LIFT_ERR_INVALID (not exactly one mode complete),
 * LIFT_ERR_NOT_FOUND (a column), LIFT_ERR_UNPROCESSABLE (a
 * date column that is not a date, an amount, recency, frequency or
 * monetary column that is not numeric), LIFT_ERR_NOMEM.
 */
enum lift_code lift_rfm_run(const struct lift_table *t,
                            const struct lift_rfm_opts *o, char **json,
                            struct lift_error *err);

/* The segment of scores r and f (1..5): a static name. */
const char *lift_rfm_segment(unsigned r, unsigned f);

/*
 * Progress and cancellation: fn (NULL: none) is called from the running
 * thread at the run's safe points with p->stage naming the step (below)
 * and p->epoch of p->epochs its progress (0 of 0 when there is none to
 * count); a non-zero return stops the run there with LIFT_ERR_CANCELLED
 * and frees what it built. Stage "check" comes once, after every check of
 * the options against the table and before any fitting.
 * The one stage is "check", after reading and aggregating the columns
 * (the scores that follow take O(customers log customers)).
 */
void lift_rfm_opts_set_progress(struct lift_rfm_opts *o, lift_progress_fn fn,
                                void *user);

/*
 * Checks that lift_rfm_run would accept t and o - the same checks, in
 * the same order, with the same errors - without fitting anything: the
 * run up to its stage "check". Costs the aggregation (O(rows log rows)).
 * Thread-safe for distinct tables or options.
 */
enum lift_code lift_rfm_check(const struct lift_table *t,
                              const struct lift_rfm_opts *o,
                              struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
