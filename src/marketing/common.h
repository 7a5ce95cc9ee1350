/*
 * marketing/common.h - small helpers shared by the marketing modules
 * (uplift, segmentation, RFM): option text and JSON report building.
 */
#ifndef LIFT_MARKETING_COMMON_H
#define LIFT_MARKETING_COMMON_H

#include <jansson.h>
#include <lift/error.h>

/* Replaces *dst with a copy of value; LIFT_ERR_INVALID naming key when
 * value is empty. */
enum lift_code lift_mkt_text(char **dst, const char *key, const char *value,
                             struct lift_error *err);

/* Sets obj[key] = v, stealing v; LIFT_ERR_NOMEM when v is NULL (a failed
 * json_* constructor) or the set fails. */
enum lift_code lift_mkt_json_add(json_t *obj, const char *key, json_t *v,
                                 struct lift_error *err);

#endif
