/*
 * store/jobs.c - background jobs (training, bulk scoring): their state,
 * progress, error and result, as the job threads report them.
 *
 * States: queued -> running -> succeeded | failed | cancelled (queued
 * may go straight to cancelled or failed). A job in one of the three
 * final states is finished: further updates are CONFLICT, which is how
 * a worker learns that its job was cancelled under it. started is set
 * by the first move to running, finished by the move to a final state.
 *
 * Result files (bulk scoring): the worker writes the file to tmp/, and
 * lift_store_job_result_put fsyncs it (before the lock), renames it into
 * blobs/ and, in one transaction, marks the job succeeded with its result
 * and the blob's name; so a job row points to a result blob only once the
 * blob is durable, and a crash before the commit leaves at most a temp
 * file or an unreferenced blob, which the next open removes. A job that
 * finished meanwhile (cancelled) is CONFLICT and the file is dropped.
 * Retention: the blob lives as long as its job row; the rows of a tenant
 * go with the tenant (ON DELETE CASCADE), and the blobs they pointed to
 * become unreferenced and are removed by the next open or check --repair.
 */
#include "store/store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define JOB_ID_BYTES 8

static const char sql_job_insert[] =
    "INSERT INTO jobs (id, tenant_id, kind, state, params_json, created) "
    "VALUES (?1, ?2, ?3, 'queued', ?4, ?5)";
static const char sql_job_state_any[] = "SELECT state FROM jobs WHERE id = ?1";
static const char sql_job_update[] =
    "UPDATE jobs SET state = coalesce(?2, state), "
    "progress_json = coalesce(?3, progress_json), "
    "error = coalesce(?4, error), result_json = coalesce(?5, result_json), "
    "started = CASE WHEN ?2 = 'running' AND started IS NULL THEN ?6 "
    "ELSE started END, "
    "finished = CASE WHEN ?2 IN ('succeeded', 'failed', 'cancelled') "
    "THEN ?6 ELSE finished END WHERE id = ?1";
static const char sql_job_get[] =
    "SELECT id, kind, state, created, started, finished, progress_json, "
    "error, result_json FROM jobs WHERE id = ?1 AND tenant_id = ?2";

/* rowid grows with every insert: newest first, and a stable cursor */
static const char sql_jobs_page[] =
    "SELECT id, kind, state, created, started, finished, error FROM jobs "
    "WHERE tenant_id = ?1 AND (?2 IS NULL OR state = ?2) "
    "AND (?3 IS NULL OR kind = ?3) AND rowid < ?4 "
    "ORDER BY rowid DESC LIMIT ?5";
static const char sql_job_rowid[] =
    "SELECT rowid FROM jobs WHERE id = ?1 AND tenant_id = ?2";

static const char sql_job_result_put[] =
    "UPDATE jobs SET state = 'succeeded', result_json = ?2, "
    "result_blob = ?3, result_bytes = ?4, finished = ?5 WHERE id = ?1";
static const char sql_job_result_get[] =
    "SELECT state, result_blob, result_bytes, kind FROM jobs "
    "WHERE id = ?1 AND tenant_id = ?2";

static bool final_state(const char *state)
{
    return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "cancelled") == 0;
}

static bool known_state(const char *state)
{
    return strcmp(state, "queued") == 0 || strcmp(state, "running") == 0 ||
           final_state(state);
}

/* Job ids are 16 lowercase hex characters; anything else names no job. */
static bool id_ok(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (; id[n]; n++)
        if (n >= 2 * JOB_ID_BYTES ||
            !((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
            return false;
    return n == 2 * JOB_ID_BYTES;
}

static enum lift_code no_job(struct lift_error *err, const char *id)
{
    return lift_error_set(err, LIFT_ERR_NOT_FOUND, "no job '%.32s'",
                          id ? id : "");
}

enum lift_code lift_store_job_create(struct lift_store *s, int64_t tenant,
                                     const char *kind, const char *params_json,
                                     char id[17], struct lift_error *err)
{
    enum lift_code code = store_check_name(kind, "job kind", err);
    if (!code)
        code = store_check_json(params_json, "the job parameters", err);
    if (code)
        return code;
    char new_id[2 * JOB_ID_BYTES + 1];
    store_lock(s);
    /* 64 random bits: a clash is next to impossible, but cheap to retry
     * (a failed INSERT ends only its statement, not the transaction) */
    code = reg_begin(&s->reg, err);
    for (int attempt = 0; !code && attempt < 4; attempt++) {
        keys_random_hex(new_id, JOB_ID_BYTES);
        sqlite3_stmt *st;
        if (!(code = reg_prepare(&s->reg, sql_job_insert, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "titti", new_id, tenant, kind,
                              params_json, store_now())))
            code = reg_run(&s->reg, st, "create the job", err);
        if (code == LIFT_ERR_CONFLICT && attempt < 3)
            code = LIFT_OK;
        else
            break;
    }
    if (code == LIFT_ERR_NOT_FOUND)
        lift_error_set(err, code, "no tenant with id %lld", (long long)tenant);
    struct quota_need need = {.job = true, .what = "the job"};
    if (!code)
        code = store_quota_check(s, tenant, &need, err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    store_unlock(s);
    if (!code)
        memcpy(id, new_id, sizeof new_id);
    return code;
}

enum lift_code store_job_set(struct lift_store *s, const char *id,
                             const char *state, const char *progress_json,
                             const char *error_msg, const char *result_json,
                             struct lift_error *err)
{
    if (!id_ok(id))
        return no_job(err, id);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_job_state_any, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "t", id)))
        code = reg_step(&s->reg, st, &row, "look up a job", err);
    if (!code && !row)
        code = no_job(err, id);
    if (!code && final_state(reg_text(st, 0)))
        code =
            lift_error_set(err, LIFT_ERR_CONFLICT, "job '%s' has finished (%s)",
                           id, reg_text(st, 0));
    if (!code && !(code = reg_prepare(&s->reg, sql_job_update, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "ttttti", id, state, progress_json,
                          error_msg, result_json, store_now())))
        code = reg_run(&s->reg, st, "update the job", err);
    return code;
}

enum lift_code
lift_store_job_update(struct lift_store *s, const char *id, const char *state,
                      const char *progress_json, const char *error_msg,
                      const char *result_json, struct lift_error *err)
{
    if (!id_ok(id))
        return no_job(err, id);
    if (state && !known_state(state))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "unknown job state '%.32s'", state);
    enum lift_code code = store_check_json(progress_json, "the progress", err);
    if (!code)
        code = store_check_json(result_json, "the result", err);
    if (code)
        return code;
    store_lock(s);
    if (!(code = reg_begin(&s->reg, err)))
        code = store_job_set(s, id, state, progress_json, error_msg,
                             result_json, err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    store_unlock(s);
    return code;
}

/* Reads the tenant's job into a statement row; the caller holds the
 * lock. */
static enum lift_code get_job(struct lift_store *s, int64_t tenant,
                              const char *id, sqlite3_stmt **out,
                              struct lift_error *err)
{
    if (!id_ok(id))
        return no_job(err, id);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_job_get, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "ti", id, tenant)))
        code = reg_step(&s->reg, st, &row, "look up a job", err);
    if (!code && !row)
        code = no_job(err, id);
    *out = st;
    return code;
}

enum lift_code lift_store_job_json(struct lift_store *s, int64_t tenant,
                                   const char *id, char **json,
                                   struct lift_error *err)
{
    *json = NULL;
    sqlite3_stmt *st;
    json_t *doc = NULL, *progress = NULL, *result = NULL;
    store_lock(s);
    enum lift_code code = get_job(s, tenant, id, &st, err);
    if (!code &&
        (!(progress = store_parse_json(reg_text(st, 6), "progress", err)) ||
         !(result = store_parse_json(reg_text(st, 8), "result", err))))
        code = err ? err->code : LIFT_ERR_CORRUPT;
    if (!code) {
        doc = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:O,s:o,s:O}", "id",
                        reg_text(st, 0), "kind", reg_text(st, 1), "state",
                        reg_text(st, 2), "created", (json_int_t)reg_int(st, 3),
                        "started", store_json_int_or_null(st, 4), "finished",
                        store_json_int_or_null(st, 5), "progress", progress,
                        "error", store_json_text_or_null(st, 7), "result",
                        result);
        if (!doc)
            code = lift_error_nomem(err, "job description");
    }
    json_decref(progress);
    json_decref(result);
    store_unlock(s);
    if (code)
        return code;
    return store_dump(doc, json, err);
}

/* One page of jobs into the array list; the caller holds the lock. */
static enum lift_code jobs_page(struct lift_store *s, int64_t tenant,
                                const char *state, const char *kind,
                                const char *before, size_t limit, json_t *list,
                                struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = LIFT_OK;
    int64_t cursor = INT64_MAX;
    if (before) {
        if (!id_ok(before))
            return no_job(err, before);
        if (!(code = reg_prepare(&s->reg, sql_job_rowid, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "ti", before, tenant)))
            code = reg_step(&s->reg, st, &row, "look up a job", err);
        if (!code && !row)
            return no_job(err, before);
        if (code)
            return code;
        cursor = reg_int(st, 0);
    }
    /* a NULL filter binds as SQL NULL: "any" */
    if ((code = reg_prepare(&s->reg, sql_jobs_page, &st, err)) ||
        (code = reg_bind(&s->reg, st, err, "ittii", tenant, state, kind, cursor,
                         (int64_t)limit)))
        return code;
    while (!(code = reg_step(&s->reg, st, &row, "list the jobs", err)) && row) {
        json_t *job =
            json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:o}", "id", reg_text(st, 0),
                      "kind", reg_text(st, 1), "state", reg_text(st, 2),
                      "created", (json_int_t)reg_int(st, 3), "started",
                      store_json_int_or_null(st, 4), "finished",
                      store_json_int_or_null(st, 5), "error",
                      store_json_text_or_null(st, 6));
        if (!job || json_array_append_new(list, job))
            return lift_error_nomem(err, "job list");
    }
    return code;
}

enum lift_code lift_store_jobs_json(struct lift_store *s, int64_t tenant,
                                    const char *state, const char *kind,
                                    const char *before, size_t limit,
                                    char **json, struct lift_error *err)
{
    *json = NULL;
    if (state && !known_state(state))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "unknown job state '%.32s' (queued, running, "
                              "succeeded, failed or cancelled)",
                              state);
    enum lift_code code =
        kind ? store_check_name(kind, "job kind", err) : LIFT_OK;
    if (code)
        return code;
    json_t *list = json_array();
    if (!list)
        return lift_error_nomem(err, "job list");
    store_lock(s);
    code = jobs_page(s, tenant, state, kind, before, limit, list, err);
    store_unlock(s);
    if (code) {
        json_decref(list);
        return code;
    }
    return store_dump(list, json, err);
}

enum lift_code lift_store_job_state(struct lift_store *s, int64_t tenant,
                                    const char *id, char state[16],
                                    struct lift_error *err)
{
    sqlite3_stmt *st;
    store_lock(s);
    enum lift_code code = get_job(s, tenant, id, &st, err);
    if (!code)
        snprintf(state, 16, "%s", reg_text(st, 2));
    store_unlock(s);
    return code;
}

enum lift_code lift_store_job_result_put(struct lift_store *s, int64_t tenant,
                                         const char *id, const char *tmp_path,
                                         const char *result_json,
                                         struct lift_error *err)
{
    enum lift_code code = id_ok(id) ? LIFT_OK : no_job(err, id);
    if (!code)
        code = store_check_json(result_json, "the result", err);
    int64_t bytes = 0;
    if (!code)
        code = blob_sync_tmp(s->dir, tmp_path, &bytes, err);
    if (code) {
        store_discard_tmp(s, tmp_path);
        return code;
    }
    char blob[BLOB_NAME_LEN + 1];
    sqlite3_stmt *st;
    bool row = false;
    store_lock(s);
    if (!(code = reg_begin(&s->reg, err)) &&
        !(code = reg_prepare(&s->reg, sql_job_result_get, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "ti", id, tenant)))
        code = reg_step(&s->reg, st, &row, "look up a job", err);
    if (!code && !row)
        code = no_job(err, id);
    if (!code && final_state(reg_text(st, 0)))
        code =
            lift_error_set(err, LIFT_ERR_CONFLICT, "job '%s' has finished (%s)",
                           id, reg_text(st, 0));
    bool adopted = false;
    if (!code && !(code = blob_adopt(s->dir, tmp_path, blob, err)))
        adopted = true;
    if (!code && !(code = reg_prepare(&s->reg, sql_job_result_put, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "tttii", id, result_json, blob,
                          bytes, store_now())))
        code = reg_run(&s->reg, st, "store the job result", err);
    struct quota_need need = {.bytes = bytes, .what = "the result file"};
    if (!code)
        code = store_quota_check(s, tenant, &need, err);
    if (!code)
        code = reg_commit(&s->reg, err);
    if (code) {
        reg_rollback(&s->reg);
        if (adopted)
            blob_remove(s->dir, "blobs", blob);
    }
    store_unlock(s);
    if (code && !adopted)
        store_discard_tmp(s, tmp_path);
    return code;
}

enum lift_code lift_store_job_result_get(struct lift_store *s, int64_t tenant,
                                         const char *id, char *path, size_t cap,
                                         int64_t *bytes, struct lift_error *err)
{
    if (!id_ok(id))
        return no_job(err, id);
    sqlite3_stmt *st;
    bool row = false;
    store_lock(s);
    enum lift_code code = reg_prepare(&s->reg, sql_job_result_get, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "ti", id, tenant)))
        code = reg_step(&s->reg, st, &row, "look up a job", err);
    if (!code && !row)
        code = no_job(err, id);
    const char *state = code ? NULL : reg_text(st, 0);
    const char *blob = code ? NULL : reg_text(st, 1);
    if (!code && !blob && !final_state(state))
        code = lift_error_set(err, LIFT_ERR_CONFLICT,
                              "job '%s' is %s: its result is there once it "
                              "has succeeded",
                              id, state);
    else if (!code && !blob)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "job '%s' (%s, %s) has no result file", id,
                              reg_text(st, 3), state);
    if (!code && !blob_name_ok(blob))
        code = lift_error_set(err, LIFT_ERR_CORRUPT,
                              "job '%s' names a bad result blob", id);
    if (!code)
        code = blob_path(s->dir, blob, path, cap, err);
    if (!code)
        *bytes = reg_int(st, 2);
    store_unlock(s);
    return code;
}
