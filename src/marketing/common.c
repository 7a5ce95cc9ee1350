/*
 * marketing/common.c - helpers shared by the marketing modules.
 */
#include "marketing/common.h"

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
