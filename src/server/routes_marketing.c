/*
 * server/routes_marketing.c - POST /v1/uplift, /v1/segments and /v1/rfm
 * (server/marketing.h).
 *
 * Each takes {"dataset": NAME, ...options}: every other member is one
 * option of the library call (lift_uplift_opts_set, lift_segment_opts_set,
 * lift_rfm_opts_set), its value a string, a number or a boolean, so the
 * HTTP keys are the CLI's flags without "--". The route checks the whole
 * request before it queues anything - the body, the dataset, and the
 * library's checks of the options against the dataset's table (columns,
 * types, levels, rows) - and answers a bad one at once with its 4xx; a
 * good one gets 202 and a job. The report, the document these routes
 * answered with when they computed in the request's thread, is the
 * job's result. There is no synchronous mode: an uplift fit with 1000
 * bootstrap resamples or a k-means on a large table takes seconds, and
 * the server has two HTTP threads by default; a client waits by polling
 * GET /v1/jobs/{id}, which costs one registry read.
 *
 * Checking reads the dataset in the request's thread (the reader is
 * linear and fast next to the fits) and the job reads it again, so a
 * queued job holds no table; a dataset deleted in between fails the job
 * with the store's error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/marketing.h"

#define PROGRESS_EVERY_S 0.2

const char *mkt_kind_name(enum mkt_kind kind)
{
    switch (kind) {
    case MKT_UPLIFT:
        return "uplift";
    case MKT_SEGMENTS:
        return "segments";
    case MKT_RFM:
        return "rfm";
    }
    return "marketing";
}

void mkt_job_free(struct mkt_job *mj)
{
    if (!mj)
        return;
    switch (mj->kind) {
    case MKT_UPLIFT:
        lift_uplift_opts_free(mj->opts);
        break;
    case MKT_SEGMENTS:
        lift_segment_opts_free(mj->opts);
        break;
    case MKT_RFM:
        lift_rfm_opts_free(mj->opts);
        break;
    }
    free(mj->params_json);
    free(mj);
}

static enum lift_code opts_new(struct mkt_job *mj, struct lift_error *err)
{
    switch (mj->kind) {
    case MKT_UPLIFT:
        return lift_uplift_opts_new((struct lift_uplift_opts **)&mj->opts, err);
    case MKT_SEGMENTS:
        return lift_segment_opts_new((struct lift_segment_opts **)&mj->opts,
                                     err);
    case MKT_RFM:
        return lift_rfm_opts_new((struct lift_rfm_opts **)&mj->opts, err);
    }
    return lift_error_set(err, LIFT_ERR_INTERNAL, "unknown marketing job");
}

static enum lift_code opts_set(struct mkt_job *mj, const char *key,
                               const char *value, struct lift_error *err)
{
    switch (mj->kind) {
    case MKT_UPLIFT:
        return lift_uplift_opts_set(mj->opts, key, value, err);
    case MKT_SEGMENTS:
        return lift_segment_opts_set(mj->opts, key, value, err);
    case MKT_RFM:
        return lift_rfm_opts_set(mj->opts, key, value, err);
    }
    return lift_error_set(err, LIFT_ERR_INTERNAL, "unknown marketing job");
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

enum lift_code mkt_job_parse(enum mkt_kind kind, const char *body, size_t len,
                             struct mkt_job **out, struct lift_error *err)
{
    *out = NULL;
    json_error_t jerr;
    json_t *doc =
        json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return lift_error_set(err, LIFT_ERR_PARSE,
                              "bad JSON at line %d, column %d: %s", jerr.line,
                              jerr.column, jerr.text);
    struct mkt_job *mj = NULL;
    enum lift_code rc = LIFT_OK;
    if (!json_is_object(doc)) {
        rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                            "the request body must be a JSON object");
        goto done;
    }
    json_t *ds = json_object_get(doc, "dataset");
    if (!json_is_string(ds)) {
        rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                            "'dataset' must be the name of a dataset (a "
                            "string)");
        goto done;
    }
    if (!lift_store_name_ok(json_string_value(ds))) {
        rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                            "'dataset' is not a dataset name (1 to %d "
                            "letters, digits, '.', '_' or '-')",
                            LIFT_NAME_MAX);
        goto done;
    }
    if (!(mj = calloc(1, sizeof *mj))) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (request)");
        goto done;
    }
    mj->kind = kind;
    snprintf(mj->dataset, sizeof mj->dataset, "%s", json_string_value(ds));
    if ((rc = opts_new(mj, err)))
        goto done;
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "dataset") == 0)
            continue;
        char buf[64];
        const char *val;
        if (!member_text(v, buf, sizeof buf, &val)) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "'%.64s' must be a string, a number or a "
                                "boolean",
                                key);
            goto done;
        }
        if ((rc = opts_set(mj, key, val, err))) {
            if (rc != LIFT_ERR_NOMEM)
                err->code = rc = LIFT_ERR_UNPROCESSABLE;
            goto done;
        }
    }
    if (!(mj->params_json = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)))
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (request)");
done:
    json_decref(doc);
    if (rc)
        mkt_job_free(mj);
    else
        *out = mj;
    return rc;
}

/* The routes' mapping of library errors: a bad option or value in the
 * request is 422; NOT_FOUND (a column, a label) stays 404. */
static enum lift_code request_code(enum lift_code rc)
{
    return rc == LIFT_ERR_PARSE || rc == LIFT_ERR_INVALID
               ? LIFT_ERR_UNPROCESSABLE
               : rc;
}

enum lift_code mkt_job_check(const struct mkt_job *mj,
                             const struct lift_table *t, struct lift_error *err)
{
    enum lift_code rc = LIFT_ERR_INTERNAL;
    switch (mj->kind) {
    case MKT_UPLIFT:
        rc = lift_uplift_check(t, mj->opts, err);
        break;
    case MKT_SEGMENTS:
        rc = lift_segment_check(t, mj->opts, err);
        break;
    case MKT_RFM:
        rc = lift_rfm_check(t, mj->opts, err);
        break;
    }
    if (rc)
        err->code = rc = request_code(rc);
    return rc;
}

/* ---- the job ------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct run_ctx {
    struct srv *srv;
    const char *id;
    atomic_int *cancel;
    double last;
};

/* The library's safe points: cancellation, and the stage on the job's
 * record at most every PROGRESS_EVERY_S. */
static int on_progress(void *user, const struct lift_progress *p)
{
    struct run_ctx *c = user;
    if (atomic_load(c->cancel))
        return 1;
    const char *stage = p->stage ? p->stage : "";
    if (strcmp(stage, "batch") == 0 || strcmp(stage, "check") == 0)
        return 0;
    double t = now();
    if (t - c->last < PROGRESS_EVERY_S)
        return 0;
    c->last = t;
    json_t *doc = json_pack("{s:s,s:i,s:i}", "stage", stage, "step",
                            (int)p->epoch, "steps", (int)p->epochs);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    /* a job whose row is gone (its tenant was deleted, maybe by another
     * process) stops here */
    if (text && lift_store_job_update(c->srv->store, c->id, NULL, text, NULL,
                                      NULL, NULL) == LIFT_ERR_NOT_FOUND)
        atomic_store(c->cancel, 1);
    free(text);
    return atomic_load(c->cancel) ? 1 : 0;
}

static enum lift_code run_call(struct mkt_job *mj, const struct lift_table *t,
                               struct run_ctx *ctx, char **json,
                               struct lift_error *err)
{
    switch (mj->kind) {
    case MKT_UPLIFT:
        lift_uplift_opts_set_progress(mj->opts, on_progress, ctx);
        return lift_uplift_run(t, mj->opts, json, err);
    case MKT_SEGMENTS:
        lift_segment_opts_set_progress(mj->opts, on_progress, ctx);
        return lift_segment_run(t, mj->opts, json, err);
    case MKT_RFM:
        lift_rfm_opts_set_progress(mj->opts, on_progress, ctx);
        return lift_rfm_run(t, mj->opts, json, err);
    }
    return lift_error_set(err, LIFT_ERR_INTERNAL, "unknown marketing job");
}

void mkt_job_run(struct srv *srv, const char *id, int64_t tenant,
                 struct mkt_job *mj, atomic_int *cancel)
{
    struct lift_error err;
    lift_error_clear(&err);
    struct lift_table *t = NULL;
    char *text = NULL, *res = NULL;
    json_t *doc = NULL;
    struct run_ctx ctx = {srv, id, cancel, 0};
    double t0 = now();
    /* the job holds one thread of the --train-threads budget (jobs.c):
     * its models train on that one */
    enum lift_code rc =
        mj->kind == MKT_UPLIFT
            ? lift_uplift_opts_set(mj->opts, "threads", "1", &err)
            : LIFT_OK;
    if (!rc)
        rc = read_dataset(srv, tenant, mj->dataset, &t, &err);
    if (!rc)
        rc = run_call(mj, t, &ctx, &text, &err);
    if (!rc && !(doc = json_loads(text, 0, NULL)))
        rc = lift_error_set(&err, LIFT_ERR_INTERNAL, "bad report document");
    if (!rc &&
        (json_object_set_new(doc, "dataset", json_string(mj->dataset)) ||
         !(res = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17)))))
        rc = lift_error_set(&err, LIFT_ERR_NOMEM, "out of memory (result)");
    if (!rc) {
        rc = lift_store_job_update(srv->store, id, "succeeded", NULL, NULL, res,
                                   &err);
        if (rc == LIFT_ERR_CONFLICT) /* cancelled meanwhile: it stays so */
            rc = LIFT_OK;
    } else {
        bool cancelled = rc == LIFT_ERR_CANCELLED;
        if (cancelled)
            snprintf(err.msg, sizeof err.msg,
                     "cancelled after %.1f s (at its next safe point)",
                     now() - t0);
        lift_store_job_update(srv->store, id,
                              cancelled ? "cancelled" : "failed", NULL, err.msg,
                              NULL, NULL);
    }
    json_decref(doc);
    free(res);
    free(text);
    lift_table_free(t);
}

/* ---- the routes --------------------------------------------------------- */

static bool json_content_type(struct req *r)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;
    return ct && strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void serve(struct req *r, enum mkt_kind kind)
{
    struct lift_error err;
    struct mkt_job *mj = NULL;
    struct lift_table *t = NULL;
    struct train_job *job = NULL;
    if (!json_content_type(r)) {
        http_error(r, LIFT_ERR_UNSUPPORTED,
                   "this route takes Content-Type: application/json");
        return;
    }
    if (mkt_job_parse(kind, r->body, r->body_len, &mj, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    static const char *const action[] = {"uplift.run", "segments.run",
                                         "rfm.run"};
    http_audit(r, action[kind], mj->dataset);
    char dataset[LIFT_NAME_MAX + 1];
    memcpy(dataset, mj->dataset, sizeof dataset);
    if (read_dataset(r->srv, r->who.tenant_id, mj->dataset, &t, &err)) {
        err.code = request_code(err.code);
        http_error_from(r, &err);
        goto done;
    }
    if (mkt_job_check(mj, t, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    lift_table_free(t);
    t = NULL;
    if (!quota_job_room(r)) /* the store checks again when it creates it */
        goto done;
    if (!(job = calloc(1, sizeof *job))) {
        http_error(r, LIFT_ERR_NOMEM, "out of memory (job)");
        goto done;
    }
    if (lift_store_job_create(r->srv->store, r->who.tenant_id,
                              mkt_kind_name(kind), mj->params_json, job->id,
                              &err)) {
        http_error_from(r, &err);
        goto done;
    }
    job->tenant = r->who.tenant_id;
    snprintf(job->dataset, sizeof job->dataset, "%s", mj->dataset);
    job->mkt = mj;
    mj = NULL;
    char id[17];
    memcpy(id, job->id, sizeof id);
    enum lift_code rc = jobs_submit(r->srv->jobs, job, &err);
    job = NULL; /* the pool has it, or released it */
    if (rc) {
        http_error_from(r, &err);
        goto done;
    }
    http_json(r, 202,
              json_pack("{s:{s:s,s:s,s:s},s:s}", "job", "id", id, "kind",
                        mkt_kind_name(kind), "state", "queued", "dataset",
                        dataset));
done:
    free(job);
    mkt_job_free(mj);
    lift_table_free(t);
}

void route_uplift(struct req *r)
{
    serve(r, MKT_UPLIFT);
}

void route_segments(struct req *r)
{
    serve(r, MKT_SEGMENTS);
}

void route_rfm(struct req *r)
{
    serve(r, MKT_RFM);
}
