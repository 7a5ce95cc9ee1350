/*
 * server/routes_marketing.c - POST /v1/uplift, /v1/segments and /v1/rfm.
 *
 * Each takes {"dataset": NAME, ...options}: every other member is one
 * option of the library call (lift_uplift_opts_set, lift_segment_opts_set,
 * lift_rfm_opts_set), its value a string, a number or a boolean, so the
 * HTTP keys are the CLI's flags without "--". The answer is the library's
 * report with "dataset" added. The work runs in the request's thread:
 * these calls read one stored dataset and return in seconds on the data
 * they are meant for (an uplift fit of 64000 rows takes about 3 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"

typedef enum lift_code (*set_fn)(void *opts, const char *key, const char *value,
                                 struct lift_error *err);
typedef enum lift_code (*run_fn)(const struct lift_table *t, const void *opts,
                                 char **json, struct lift_error *err);

static enum lift_code set_uplift(void *o, const char *k, const char *v,
                                 struct lift_error *err)
{
    return lift_uplift_opts_set(o, k, v, err);
}

static enum lift_code run_uplift(const struct lift_table *t, const void *o,
                                 char **json, struct lift_error *err)
{
    return lift_uplift_run(t, o, json, err);
}

static enum lift_code set_segment(void *o, const char *k, const char *v,
                                  struct lift_error *err)
{
    return lift_segment_opts_set(o, k, v, err);
}

static enum lift_code run_segment(const struct lift_table *t, const void *o,
                                  char **json, struct lift_error *err)
{
    return lift_segment_run(t, o, json, err);
}

static enum lift_code set_rfm(void *o, const char *k, const char *v,
                              struct lift_error *err)
{
    return lift_rfm_opts_set(o, k, v, err);
}

static enum lift_code run_rfm(const struct lift_table *t, const void *o,
                              char **json, struct lift_error *err)
{
    return lift_rfm_run(t, o, json, err);
}

/* The option text of a JSON member; false for arrays, objects, null. */
static bool member_text(json_t *v, char *buf, size_t cap, const char **out)
{
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return true;
    }
    if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    else
        return false;
    *out = buf;
    return true;
}

static void serve(struct req *r, void *opts, set_fn set, run_fn run)
{
    struct lift_error err;
    struct lift_table *t = NULL;
    char *text = NULL;
    json_t *body = http_body_object(r);
    if (!body)
        return;
    json_t *ds = json_object_get(body, "dataset");
    if (!json_is_string(ds)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "'dataset' must be the name of a dataset (a string)");
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "dataset") == 0)
            continue;
        char buf[64];
        const char *val;
        if (!member_text(v, buf, sizeof buf, &val)) {
            http_error(r, LIFT_ERR_UNPROCESSABLE,
                       "'%s' must be a string, a number or a boolean", key);
            goto done;
        }
        if (set(opts, key, val, &err)) {
            err.code = LIFT_ERR_UNPROCESSABLE;
            http_error_from(r, &err);
            goto done;
        }
    }
    if (read_dataset(r->srv, r->who.tenant_id, json_string_value(ds), &t,
                     &err) ||
        run(t, opts, &text, &err)) {
        if (err.code == LIFT_ERR_PARSE || err.code == LIFT_ERR_INVALID)
            err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        goto done;
    }
    json_t *doc = json_loads(text, 0, NULL);
    if (!doc) {
        http_error(r, LIFT_ERR_INTERNAL, "bad report document");
        goto done;
    }
    json_object_set(doc, "dataset", ds);
    http_json(r, 200, doc);
done:
    free(text);
    lift_table_free(t);
    json_decref(body);
}

void route_uplift(struct req *r)
{
    struct lift_error err;
    struct lift_uplift_opts *o = NULL;
    if (lift_uplift_opts_new(&o, &err)) {
        http_error_from(r, &err);
        return;
    }
    serve(r, o, set_uplift, run_uplift);
    lift_uplift_opts_free(o);
}

void route_segments(struct req *r)
{
    struct lift_error err;
    struct lift_segment_opts *o = NULL;
    if (lift_segment_opts_new(&o, &err)) {
        http_error_from(r, &err);
        return;
    }
    serve(r, o, set_segment, run_segment);
    lift_segment_opts_free(o);
}

void route_rfm(struct req *r)
{
    struct lift_error err;
    struct lift_rfm_opts *o = NULL;
    if (lift_rfm_opts_new(&o, &err)) {
        http_error_from(r, &err);
        return;
    }
    serve(r, o, set_rfm, run_rfm);
    lift_rfm_opts_free(o);
}
