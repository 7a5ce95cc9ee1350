/*
 * lift/segment.h - customer segments by k-means.
 *
 * Encoding: every chosen numeric, boolean or date column is standardised
 * ((x - mean) / population std; a constant column is only centred; a
 * missing value becomes 0, the mean), every categorical column becomes
 * one 0/1 indicator per level (a missing value sets none). Text columns
 * are left out. Clustering: k-means++ seeding (greedy, 2 + floor(ln k)
 * candidates per centre, as scikit-learn), then Lloyd iterations until
 * the squared movement of all centres is at most tol x the mean variance
 * of the encoded columns, or max-iter; n-init seeded restarts keep the
 * lowest inertia (sum of squared distances to the nearest centre). With
 * no k, k = 2..k-max are fitted and the one of largest mean silhouette,
 * computed on a seeded sample of at most `sample` rows, is chosen.
 * Thread-safety: calls keep no state.
 */
#ifndef LIFT_SEGMENT_H
#define LIFT_SEGMENT_H

#include <stddef.h>

#include <lift/error.h>
#include <lift/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_table;
struct lift_segment_opts;

enum lift_code lift_segment_opts_new(struct lift_segment_opts **out,
                                     struct lift_error *err);
void lift_segment_opts_free(struct lift_segment_opts *o);

/*
 * Sets one option from its text. Keys: k (2..1000, or "auto", the
 * default), columns (comma list: only these), drop (comma list: all but
 * these), target, positive (a categorical target's positive level), seed
 * (42), n-init (10), max-iter (300), tol (1e-4), k-max (10), sample
 * (5000). LIFT_ERR_INVALID names the key and the bad value.
 */
enum lift_code lift_segment_opts_set(struct lift_segment_opts *o,
                                     const char *key, const char *value,
                                     struct lift_error *err);

/*
 * Segments the rows of t; *json receives (free()):
 * {"k","inertia","rows","features","iterations","silhouette" (when k was
 *  chosen: {k: mean silhouette}),"target",
 *  "segments":[{"segment","size","share","centroid":{numeric column:
 *  mean in original units},"levels":{categorical column:{level:share}},
 *  "distinguishing":[{"column","level","share","overall","lift"}],
 *  "response_rate"}]}
 * segments sorted by decreasing size; "distinguishing" lists up to five
 * levels whose share in the segment most exceeds their overall share.
 * Errors: LIFT_ERR_NOT_FOUND (an unknown column), LIFT_ERR_INVALID (k
 * larger than the rows, no column to cluster, a categorical target
 * without a positive level), LIFT_ERR_NOMEM.
 */
enum lift_code lift_segment_run(const struct lift_table *t,
                                const struct lift_segment_opts *o, char **json,
                                struct lift_error *err);

/*
 * Progress and cancellation: fn (NULL: none) is called from the running
 * thread at the run's safe points with p->stage naming the step (below)
 * and p->epoch of p->epochs its progress (0 of 0 when there is none to
 * count); a non-zero return stops the run there with LIFT_ERR_CANCELLED
 * and frees what it built. Stage "check" comes once, after every check of
 * the options against the table and before any fitting.
 * Stages: "check"; "choose_k" (candidate k - 1 of
 * k-max - 1, without k); "kmeans" (restart of n-init, before every
 * Lloyd iteration).
 */
void lift_segment_opts_set_progress(struct lift_segment_opts *o,
                                    lift_progress_fn fn, void *user);

/*
 * Checks that lift_segment_run would accept t and o - the same checks, in
 * the same order, with the same errors - without fitting anything: the
 * run up to its stage "check". Costs the encoding of the chosen columns (O(rows
 * x features) time and memory). Thread-safe for distinct tables or options.
 */
enum lift_code lift_segment_check(const struct lift_table *t,
                                  const struct lift_segment_opts *o,
                                  struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
