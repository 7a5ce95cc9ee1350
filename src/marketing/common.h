/*
 * marketing/common.h - small helpers shared by the marketing modules
 * (uplift, segmentation, RFM): option text and JSON report building.
 */
#ifndef LIFT_MARKETING_COMMON_H
#define LIFT_MARKETING_COMMON_H

#include <stdbool.h>

#include <jansson.h>
#include <lift/error.h>
#include <lift/model.h>

/* Replaces *dst with a copy of value; LIFT_ERR_INVALID naming key when
 * value is empty. */
enum lift_code lift_mkt_text(char **dst, const char *key, const char *value,
                             struct lift_error *err);

/* Sets obj[key] = v, stealing v; LIFT_ERR_NOMEM when v is NULL (a failed
 * json_* constructor) or the set fails. */
enum lift_code lift_mkt_json_add(json_t *obj, const char *key, json_t *v,
                                 struct lift_error *err);

/*
 * Progress and cancellation of a run (the options' set_progress): the
 * runs call lift_mkt_progress at their safe points (after the checks,
 * between Lloyd iterations, k candidates, model fits and bootstrap
 * resamples); a callback that returns non-zero stops the run there with
 * LIFT_ERR_CANCELLED. Stage "check" is reported once, when every check
 * of the options against the table has passed and before any fitting:
 * lift_mkt_check_stop stops there, which is how the lift_*_check calls
 * run only a run's checks.
 */
struct lift_mkt_progress {
    lift_progress_fn fn; /* NULL: no reports */
    void *user;
};

/* Reports stage at step of steps (1-based; steps 0 when unknown).
 * LIFT_ERR_CANCELLED ("cancelled during <stage>") when fn asks to stop. */
enum lift_code lift_mkt_progress(const struct lift_mkt_progress *p,
                                 const char *stage, unsigned step,
                                 unsigned steps, struct lift_error *err);

/* A progress callback for a check: stops at stage "check", setting
 * *(bool *)user. */
int lift_mkt_check_stop(void *user, const struct lift_progress *p);

/* The result of a run made with lift_mkt_check_stop: LIFT_OK when it
 * stopped at "check", else the run's own error (rc). */
enum lift_code lift_mkt_check_result(enum lift_code rc, bool reached,
                                     struct lift_error *err);

#endif
