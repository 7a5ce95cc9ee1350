/*
 * marketing/common.c - helpers shared by the marketing modules.
 */
#include "marketing/common.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

enum lift_code lift_mkt_text(char **dst, const char *key, const char *value,
                             struct lift_error *err)
{
    if (!*value)
        return lift_error_set(err, LIFT_ERR_INVALID, "'%s' is empty", key);
    char *s = lift_strdup(value);
    if (!s)
        return lift_error_nomem(err, key);
    lift_free(*dst);
    *dst = s;
    return LIFT_OK;
}

enum lift_code lift_mkt_json_add(json_t *obj, const char *key, json_t *v,
                                 struct lift_error *err)
{
    if (!v || json_object_set_new(obj, key, v))
        return lift_error_nomem(err, "report");
    return LIFT_OK;
}

enum lift_code lift_mkt_progress(const struct lift_mkt_progress *p,
                                 const char *stage, unsigned step,
                                 unsigned steps, struct lift_error *err)
{
    if (!p || !p->fn)
        return LIFT_OK;
    struct lift_progress pr = {stage, step, steps, NAN, NAN, NAN, NULL};
    if (p->fn(p->user, &pr))
        return lift_error_set(err, LIFT_ERR_CANCELLED, "cancelled during %s",
                              stage);
    return LIFT_OK;
}

int lift_mkt_check_stop(void *user, const struct lift_progress *p)
{
    if (strcmp(p->stage, "check") != 0)
        return 0;
    *(bool *)user = true;
    return 1;
}

enum lift_code lift_mkt_check_result(enum lift_code rc, bool reached,
                                     struct lift_error *err)
{
    if (rc == LIFT_ERR_CANCELLED && reached) {
        lift_error_clear(err);
        return LIFT_OK;
    }
    if (rc == LIFT_OK) /* a run that never reached its checkpoint */
        return lift_error_set(err, LIFT_ERR_INTERNAL,
                              "the run finished without its checks");
    return rc;
}
