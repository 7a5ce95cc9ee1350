/*
 * models/learner.c - the registry of learner kinds, the local reducer and
 * progress reporting shared by every learner.
 *
 * The registry is a static const table searched by name (a handful of
 * kinds: a linear scan is the fastest lookup there is). The local
 * reducer stands for a one-process "all-reduce": the sum over one worker
 * is the buffer itself, so it does nothing.
 */
#include "models/learner.h"

#include <string.h>

#include "core/error.h"
#include "models/gbdt.h"
#include "models/linear.h"
#include "models/mlp.h"

static const struct lift_learner_ops *const registry[] = {
    &lift_logistic_ops, &lift_linear_ops, &lift_softmax_ops,
    &lift_gbdt_ops,     &lift_mlp_ops,
};

const struct lift_learner_ops *lift_learner_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

static enum lift_code local_sum(void *ctx, double *buf, size_t n,
                                struct lift_error *err)
{
    (void)ctx;
    (void)buf;
    (void)n;
    (void)err;
    return LIFT_OK;
}

const struct lift_reducer lift_reducer_local = {
    .ctx = NULL,
    .rank = 0,
    .size = 1,
    .sum = local_sum,
};

enum lift_code lift_learner_report(const struct lift_train_params *p,
                                   const struct lift_progress *prog,
                                   struct lift_error *err)
{
    if (p->progress && p->progress(p->progress_user, prog) != 0)
        return lift_error_set(err, LIFT_ERR_CANCELLED, "training cancelled");
    return LIFT_OK;
}
