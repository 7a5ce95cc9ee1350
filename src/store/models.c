/*
 * store/models.c - models and their versions.
 *
 * A model is a name with numbered versions; each version is "training"
 * (reserved by a job, no file yet), "ready" (a durable blob) or "failed"
 * (with the message). Numbers come from models.last_version and are never
 * reused, even after a delete, so "v3" always means one file. The
 * serving version is a ready one; the first version to become ready is
 * promoted, later ones only by lift_store_model_promote. Creating a model,
 * reserving a version and adopting a file are checked against the
 * tenant's quotas in the same transaction (store/quota.c).
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static const char sql_model_get[] =
    "SELECT id, serving_version FROM models WHERE tenant_id = ?1 "
    "AND name = ?2";
static const char sql_model_insert[] =
    "INSERT INTO models (tenant_id, name, created) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (tenant_id, name) DO NOTHING";
static const char sql_model_bump[] =
    "UPDATE models SET last_version = last_version + 1 WHERE tenant_id = ?1 "
    "AND name = ?2";
static const char sql_model_last[] =
    "SELECT id, last_version FROM models WHERE tenant_id = ?1 AND name = ?2";
static const char sql_version_reserve[] =
    "INSERT INTO versions (model_id, version, state, params_json, created) "
    "VALUES (?1, ?2, 'training', ?3, ?4)";
static const char sql_version_insert_ready[] =
    "INSERT INTO versions (model_id, version, state, blob, bytes, info_json, "
    "created) VALUES (?1, ?2, 'ready', ?3, ?4, ?5, ?6)";
static const char sql_version_get[] =
    "SELECT state, blob FROM versions WHERE model_id = ?1 AND version = ?2";
static const char sql_version_ready[] =
    "UPDATE versions SET state = 'ready', blob = ?3, bytes = ?4, "
    "info_json = ?5 WHERE model_id = ?1 AND version = ?2 "
    "AND state = 'training'";
static const char sql_version_fail[] =
    "UPDATE versions SET state = 'failed', error = ?3 WHERE model_id = ?1 "
    "AND version = ?2 AND state = 'training'";
static const char sql_model_first_serving[] =
    "UPDATE models SET serving_version = ?2 WHERE id = ?1 "
    "AND serving_version IS NULL";
static const char sql_model_set_serving[] =
    "UPDATE models SET serving_version = ?2 WHERE id = ?1";
static const char sql_models[] =
    "SELECT m.name, m.serving_version, (SELECT count(*) FROM versions v "
    "WHERE v.model_id = m.id), m.created FROM models m WHERE tenant_id = ?1 "
    "ORDER BY m.name";
static const char sql_versions[] =
    "SELECT version, state, created, info_json, params_json, error "
    "FROM versions WHERE model_id = ?1 ORDER BY version";
static const char sql_version_blobs[] =
    "SELECT blob FROM versions WHERE model_id = ?1 AND blob IS NOT NULL";
static const char sql_version_count[] =
    "SELECT count(*) FROM versions WHERE model_id = ?1";
static const char sql_model_delete[] = "DELETE FROM models WHERE id = ?1";
static const char sql_version_delete[] =
    "DELETE FROM versions WHERE model_id = ?1 AND version = ?2";

struct model_row {
    int64_t id;
    int64_t serving; /* 0: none */
};

/* The tenant's model `name`; NOT_FOUND. The caller holds the lock. */
static enum lift_code find_model(struct lift_store *s, int64_t tenant,
                                 const char *name, struct model_row *m,
                                 struct lift_error *err)
{
    if (!lift_store_name_ok(name))
        return lift_error_set(err, LIFT_ERR_NOT_FOUND, "no model '%.64s'",
                              name ? name : "");
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_model_get, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "it", tenant, name)))
        code = reg_step(&s->reg, st, &row, "look up a model", err);
    if (!code && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND, "no model '%s'", name);
    if (!code) {
        m->id = reg_int(st, 0);
        m->serving = reg_null(st, 1) ? 0 : reg_int(st, 1);
    }
    return code;
}

/* The state and blob of a version; NOT_FOUND. The caller holds the
 * lock. */
static enum lift_code find_version(struct lift_store *s, const char *name,
                                   const struct model_row *m, int64_t version,
                                   char state[16], char blob[BLOB_NAME_LEN + 1],
                                   struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_version_get, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "ii", m->id, version)))
        code = reg_step(&s->reg, st, &row, "look up a version", err);
    if (!code && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "model '%s' has no version %lld", name,
                              (long long)version);
    if (!code) {
        snprintf(state, 16, "%s", reg_text(st, 0));
        const char *b = reg_text(st, 1);
        snprintf(blob, BLOB_NAME_LEN + 1, "%s", b ? b : "");
    }
    return code;
}

static enum lift_code not_ready(struct lift_error *err, const char *name,
                                int64_t version, const char *state)
{
    return lift_error_set(err, LIFT_ERR_CONFLICT,
                          "version %lld of model '%s' is not ready (%s)",
                          (long long)version, name, state);
}

/* Creates the model when absent and takes its next version number. The
 * caller holds the lock and a transaction. */
static enum lift_code next_version(struct lift_store *s, int64_t tenant,
                                   const char *name, int64_t *model_id,
                                   int64_t *version, bool *created,
                                   struct lift_error *err)
{
    *created = false;
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_model_insert, &st, err);
    if (!code &&
        !(code = reg_bind(&s->reg, st, err, "iti", tenant, name, store_now())))
        code = reg_run(&s->reg, st, "create the model", err);
    if (!code)
        *created = sqlite3_changes(s->reg.db) > 0;
    if (code == LIFT_ERR_NOT_FOUND)
        return lift_error_set(err, code, "no tenant with id %lld",
                              (long long)tenant);
    if (!code && !(code = reg_prepare(&s->reg, sql_model_bump, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "it", tenant, name)))
        code = reg_run(&s->reg, st, "number the version", err);
    if (!code && !(code = reg_prepare(&s->reg, sql_model_last, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "it", tenant, name)))
        code = reg_step(&s->reg, st, &row, "number the version", err);
    if (!code && !row)
        code = lift_error_set(err, LIFT_ERR_INTERNAL,
                              "model '%s' vanished inside a transaction", name);
    if (!code) {
        *model_id = reg_int(st, 0);
        *version = reg_int(st, 1);
    }
    return code;
}

enum lift_code lift_store_version_reserve(struct lift_store *s, int64_t tenant,
                                          const char *name,
                                          const char *params_json,
                                          int64_t *version,
                                          struct lift_error *err)
{
    enum lift_code code = store_check_name(name, "model", err);
    if (!code)
        code = store_check_json(params_json, "the parameters", err);
    if (code)
        return code;
    store_lock(s);
    sqlite3_stmt *st;
    int64_t model_id = 0, v = 0;
    struct quota_need need = {.room = true, .what = "the model to train"};
    if (!(code = reg_begin(&s->reg, err)) &&
        !(code =
              next_version(s, tenant, name, &model_id, &v, &need.model, err)) &&
        !(code = reg_prepare(&s->reg, sql_version_reserve, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "iiti", model_id, v, params_json,
                          store_now())))
        code = reg_run(&s->reg, st, "reserve a version", err);
    if (!code)
        code = store_quota_check(s, tenant, &need, err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    store_unlock(s);
    if (!code)
        *version = v;
    return code;
}

/* Checks that the version exists and is training, before the fsync. */
static enum lift_code check_training(struct lift_store *s, int64_t tenant,
                                     const char *name, int64_t version,
                                     struct lift_error *err)
{
    struct model_row m;
    char state[16], blob[BLOB_NAME_LEN + 1];
    store_lock(s);
    enum lift_code code = find_model(s, tenant, name, &m, err);
    if (!code)
        code = find_version(s, name, &m, version, state, blob, err);
    if (!code && strcmp(state, "training") != 0)
        code = lift_error_set(err, LIFT_ERR_CONFLICT,
                              "version %lld of model '%s' is not training "
                              "(%s)",
                              (long long)version, name, state);
    store_unlock(s);
    return code;
}

/* The job's result: result_json (an object, or NULL for {}) with
 * "promoted" set; *out is jansson's (free). */
static enum lift_code job_result(const char *result_json, bool promoted,
                                 char **out, struct lift_error *err)
{
    *out = NULL;
    json_t *doc = store_parse_json(result_json, "job result", err);
    if (!doc)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "the job result is not valid JSON");
    if (json_is_null(doc)) {
        json_decref(doc);
        doc = json_object();
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "the job result must be a JSON object");
    }
    if (json_object_set_new(doc, "promoted", json_boolean(promoted))) {
        json_decref(doc);
        return lift_error_nomem(err, "job result");
    }
    return store_dump(doc, out, err);
}

/* lift_store_version_complete, and with job_id the job's move to
 * succeeded in the same transaction. */
static enum lift_code complete(struct lift_store *s, int64_t tenant,
                               const char *name, int64_t version,
                               const char *tmp_path, const char *info_json,
                               const char *job_id, const char *result_json,
                               bool *promoted, struct lift_error *err)
{
    if (promoted)
        *promoted = false;
    int64_t bytes = 0;
    char *result = NULL;
    bool first = false;
    enum lift_code code = store_check_json(info_json, "the model info", err);
    if (!code && job_id)
        code = store_check_json(result_json, "the job result", err);
    if (!code)
        code = check_training(s, tenant, name, version, err);
    if (!code)
        code = blob_sync_tmp(s->dir, tmp_path, &bytes, err);
    if (code) {
        store_discard_tmp(s, tmp_path);
        return code;
    }

    struct model_row m;
    char blob[BLOB_NAME_LEN + 1] = "";
    sqlite3_stmt *st;
    bool adopted = false;
    store_lock(s);
    if (!(code = reg_begin(&s->reg, err)) &&
        !(code = find_model(s, tenant, name, &m, err)) &&
        !(code = blob_adopt(s->dir, tmp_path, blob, err))) {
        adopted = true;
        if (!(code = reg_prepare(&s->reg, sql_version_ready, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "iitit", m.id, version, blob,
                              bytes, info_json)))
            code = reg_run(&s->reg, st, "store the version", err);
        /* failed, deleted or completed while the file was synced */
        if (!code && sqlite3_changes(s->reg.db) == 0)
            code = lift_error_set(err, LIFT_ERR_CONFLICT,
                                  "version %lld of model '%s' is no longer "
                                  "training",
                                  (long long)version, name);
    }
    struct quota_need need = {.bytes = bytes, .what = "the model file"};
    if (!code)
        code = store_quota_check(s, tenant, &need, err);
    if (!code &&
        !(code = reg_prepare(&s->reg, sql_model_first_serving, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "ii", m.id, version)) &&
        !(code = reg_run(&s->reg, st, "promote the version", err)))
        first = sqlite3_changes(s->reg.db) > 0;
    if (!code && job_id &&
        !(code = job_result(result_json, first, &result, err)))
        code = store_job_set(s, job_id, "succeeded", NULL, NULL, result, err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    if (code && adopted)
        blob_remove(s->dir, "blobs", blob);
    store_unlock(s);
    free(result);
    if (code) {
        if (!adopted)
            store_discard_tmp(s, tmp_path);
        return code;
    }
    if (promoted)
        *promoted = first;
    return LIFT_OK;
}

enum lift_code lift_store_version_complete(struct lift_store *s, int64_t tenant,
                                           const char *name, int64_t version,
                                           const char *tmp_path,
                                           const char *info_json,
                                           bool *promoted,
                                           struct lift_error *err)
{
    return complete(s, tenant, name, version, tmp_path, info_json, NULL, NULL,
                    promoted, err);
}

enum lift_code lift_store_version_complete_job(
    struct lift_store *s, int64_t tenant, const char *name, int64_t version,
    const char *tmp_path, const char *info_json, const char *job_id,
    const char *result_json, bool *promoted, struct lift_error *err)
{
    if (!job_id) {
        store_discard_tmp(s, tmp_path);
        return lift_error_set(err, LIFT_ERR_INVALID, "no job id");
    }
    return complete(s, tenant, name, version, tmp_path, info_json, job_id,
                    result_json, promoted, err);
}

enum lift_code lift_store_version_fail(struct lift_store *s, int64_t tenant,
                                       const char *name, int64_t version,
                                       const char *message,
                                       struct lift_error *err)
{
    struct model_row m;
    char state[16], blob[BLOB_NAME_LEN + 1];
    sqlite3_stmt *st;
    store_lock(s);
    enum lift_code code = find_model(s, tenant, name, &m, err);
    if (!code && !(code = reg_prepare(&s->reg, sql_version_fail, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "iit", m.id, version,
                          message ? message : "failed")))
        code = reg_run(&s->reg, st, "mark the version failed", err);
    if (!code && sqlite3_changes(s->reg.db) == 0 &&
        !(code = find_version(s, name, &m, version, state, blob, err)))
        code = lift_error_set(err, LIFT_ERR_CONFLICT,
                              "version %lld of model '%s' is not training "
                              "(%s)",
                              (long long)version, name, state);
    store_unlock(s);
    return code;
}

enum lift_code lift_store_version_import(struct lift_store *s, int64_t tenant,
                                         const char *name, const char *tmp_path,
                                         const char *info_json,
                                         int64_t *version, bool *promoted,
                                         struct lift_error *err)
{
    if (promoted)
        *promoted = false;
    int64_t bytes = 0;
    enum lift_code code = store_check_name(name, "model", err);
    if (!code)
        code = store_check_json(info_json, "the model info", err);
    if (!code)
        code = blob_sync_tmp(s->dir, tmp_path, &bytes, err);
    if (code) {
        store_discard_tmp(s, tmp_path);
        return code;
    }

    int64_t model_id = 0, v = 0;
    char blob[BLOB_NAME_LEN + 1] = "";
    sqlite3_stmt *st;
    bool adopted = false, first = false;
    struct quota_need need = {.bytes = bytes, .what = "the model file"};
    store_lock(s);
    if (!(code = reg_begin(&s->reg, err)) &&
        !(code =
              next_version(s, tenant, name, &model_id, &v, &need.model, err)) &&
        !(code = blob_adopt(s->dir, tmp_path, blob, err))) {
        adopted = true;
        if (!(code =
                  reg_prepare(&s->reg, sql_version_insert_ready, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "iititi", model_id, v, blob,
                              bytes, info_json, store_now())))
            code = reg_run(&s->reg, st, "store the version", err);
    }
    if (!code)
        code = store_quota_check(s, tenant, &need, err);
    if (!code &&
        !(code = reg_prepare(&s->reg, sql_model_first_serving, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "ii", model_id, v)) &&
        !(code = reg_run(&s->reg, st, "promote the version", err)))
        first = sqlite3_changes(s->reg.db) > 0;
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    if (code && adopted)
        blob_remove(s->dir, "blobs", blob);
    store_unlock(s);
    if (code) {
        if (!adopted)
            store_discard_tmp(s, tmp_path);
        return code;
    }
    if (version)
        *version = v;
    if (promoted)
        *promoted = first;
    return LIFT_OK;
}

enum lift_code lift_store_model_promote(struct lift_store *s, int64_t tenant,
                                        const char *name, int64_t version,
                                        struct lift_error *err)
{
    struct model_row m;
    char state[16], blob[BLOB_NAME_LEN + 1];
    sqlite3_stmt *st;
    store_lock(s);
    enum lift_code code = reg_begin(&s->reg, err);
    if (!code && !(code = find_model(s, tenant, name, &m, err)) &&
        !(code = find_version(s, name, &m, version, state, blob, err)) &&
        strcmp(state, "ready") != 0)
        code = not_ready(err, name, version, state);
    if (!code &&
        !(code = reg_prepare(&s->reg, sql_model_set_serving, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "ii", m.id, version)))
        code = reg_run(&s->reg, st, "promote the version", err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    store_unlock(s);
    return code;
}

enum lift_code lift_store_model_serving(struct lift_store *s, int64_t tenant,
                                        const char *name, int64_t *version,
                                        char *path, size_t cap,
                                        struct lift_error *err)
{
    struct model_row m;
    char state[16], blob[BLOB_NAME_LEN + 1];
    store_lock(s);
    enum lift_code code = find_model(s, tenant, name, &m, err);
    if (!code && m.serving == 0)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "model '%s' has no ready version", name);
    if (!code)
        code = find_version(s, name, &m, m.serving, state, blob, err);
    if (!code && strcmp(state, "ready") != 0)
        code = lift_error_set(err, LIFT_ERR_INTERNAL,
                              "serving version %lld of model '%s' is %s",
                              (long long)m.serving, name, state);
    if (!code)
        code = blob_path(s->dir, blob, path, cap, err);
    store_unlock(s);
    if (!code && version)
        *version = m.serving;
    return code;
}

enum lift_code lift_store_version_path(struct lift_store *s, int64_t tenant,
                                       const char *name, int64_t version,
                                       char *path, size_t cap,
                                       struct lift_error *err)
{
    struct model_row m;
    char state[16], blob[BLOB_NAME_LEN + 1];
    store_lock(s);
    enum lift_code code = find_model(s, tenant, name, &m, err);
    if (!code)
        code = find_version(s, name, &m, version, state, blob, err);
    if (!code && strcmp(state, "ready") != 0)
        code = not_ready(err, name, version, state);
    if (!code)
        code = blob_path(s->dir, blob, path, cap, err);
    store_unlock(s);
    return code;
}

enum lift_code lift_store_models_json(struct lift_store *s, int64_t tenant,
                                      char **json, struct lift_error *err)
{
    *json = NULL;
    json_t *list = json_array();
    if (!list)
        return lift_error_nomem(err, "model list");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_models, &st, err);
    if (!code)
        code = reg_bind(&s->reg, st, err, "i", tenant);
    while (!code && !(code = reg_step(&s->reg, st, &row, "list models", err)) &&
           row) {
        json_t *m = json_pack("{s:s,s:o,s:I,s:I}", "name", reg_text(st, 0),
                              "serving", store_json_int_or_null(st, 1),
                              "versions", (json_int_t)reg_int(st, 2), "created",
                              (json_int_t)reg_int(st, 3));
        if (!m || json_array_append_new(list, m))
            code = lift_error_nomem(err, "model list");
    }
    store_unlock(s);
    if (code) {
        json_decref(list);
        return code;
    }
    return store_dump(list, json, err);
}

/* One row of sql_versions as JSON; NULL with *err filled on failure. */
static json_t *version_json(sqlite3_stmt *st, struct lift_error *err)
{
    json_t *info = store_parse_json(reg_text(st, 3), "model info", err);
    if (!info)
        return NULL;
    json_t *params = store_parse_json(reg_text(st, 4), "parameters", err);
    if (!params) {
        json_decref(info);
        return NULL;
    }
    json_t *v = json_pack(
        "{s:I,s:s,s:I,s:o,s:o,s:o}", "version", (json_int_t)reg_int(st, 0),
        "state", reg_text(st, 1), "created", (json_int_t)reg_int(st, 2), "info",
        info, "params", params, "error", store_json_text_or_null(st, 5));
    if (!v)
        lift_error_nomem(err, "model description");
    return v;
}

enum lift_code lift_store_model_json(struct lift_store *s, int64_t tenant,
                                     const char *name, char **json,
                                     struct lift_error *err)
{
    *json = NULL;
    json_t *versions = json_array();
    if (!versions)
        return lift_error_nomem(err, "model description");
    struct model_row m;
    sqlite3_stmt *st;
    bool row = false;
    store_lock(s);
    enum lift_code code = find_model(s, tenant, name, &m, err);
    if (!code && !(code = reg_prepare(&s->reg, sql_versions, &st, err)))
        code = reg_bind(&s->reg, st, err, "i", m.id);
    while (!code &&
           !(code = reg_step(&s->reg, st, &row, "list versions", err)) && row) {
        json_t *v = version_json(st, err);
        if (!v)
            code = err ? err->code : LIFT_ERR_CORRUPT;
        else if (json_array_append_new(versions, v))
            code = lift_error_nomem(err, "model description");
    }
    store_unlock(s);
    if (code) {
        json_decref(versions);
        return code;
    }
    json_t *doc =
        json_pack("{s:s,s:o,s:o}", "name", name, "serving",
                  m.serving ? json_integer((json_int_t)m.serving) : json_null(),
                  "versions", versions);
    return store_dump(doc, json, err);
}

/* Blobs of a whole model, before its rows go (free with
 * blob_names_free). */
static enum lift_code model_blobs(struct lift_store *s, int64_t model_id,
                                  char ***blobs, size_t *n,
                                  struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    size_t cap = 0;
    enum lift_code code = reg_prepare(&s->reg, sql_version_blobs, &st, err);
    if (!code)
        code = reg_bind(&s->reg, st, err, "i", model_id);
    while (!code &&
           !(code = reg_step(&s->reg, st, &row, "list versions", err)) && row) {
        if (*n == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            char **grown = lift_realloc_array(*blobs, ncap, sizeof **blobs);
            if (!grown)
                return lift_error_nomem(err, "version list");
            *blobs = grown;
            cap = ncap;
        }
        if (!((*blobs)[*n] = lift_strdup(reg_text(st, 0))))
            return lift_error_nomem(err, "version list");
        (*n)++;
    }
    return code;
}

enum lift_code lift_store_model_delete(struct lift_store *s, int64_t tenant,
                                       const char *name, int64_t version,
                                       struct lift_error *err)
{
    struct model_row m;
    char state[16], blob[BLOB_NAME_LEN + 1] = "";
    char **blobs = NULL;
    size_t n_blobs = 0;
    sqlite3_stmt *st;
    bool row = false;
    if (version < 0)
        return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "model '%s' has no version %lld",
                              name ? name : "", (long long)version);
    store_lock(s);
    enum lift_code code = reg_begin(&s->reg, err);
    if (!code)
        code = find_model(s, tenant, name, &m, err);
    if (!code && version == 0) {
        if (!(code = model_blobs(s, m.id, &blobs, &n_blobs, err)) &&
            !(code = reg_prepare(&s->reg, sql_model_delete, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "i", m.id)))
            code = reg_run(&s->reg, st, "delete the model", err);
    } else if (!code) {
        code = find_version(s, name, &m, version, state, blob, err);
        int64_t count = 0;
        if (!code && version == m.serving &&
            !(code = reg_prepare(&s->reg, sql_version_count, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "i", m.id)) &&
            !(code = reg_step(&s->reg, st, &row, "count versions", err)))
            count = reg_int(st, 0);
        if (!code && count > 1)
            code = lift_error_set(err, LIFT_ERR_CONFLICT,
                                  "version %lld is the serving version of "
                                  "model '%s': promote another first",
                                  (long long)version, name);
        if (!code &&
            !(code = reg_prepare(&s->reg, sql_version_delete, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "ii", m.id, version)))
            code = reg_run(&s->reg, st, "delete the version", err);
        if (!code && version == m.serving &&
            !(code = reg_prepare(&s->reg, sql_model_set_serving, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "in", m.id)))
            code = reg_run(&s->reg, st, "clear the serving version", err);
    }
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    if (!code) {
        for (size_t i = 0; i < n_blobs; i++)
            if (blob_name_ok(blobs[i]))
                blob_remove(s->dir, "blobs", blobs[i]);
        if (blob_name_ok(blob))
            blob_remove(s->dir, "blobs", blob);
    }
    store_unlock(s);
    blob_names_free(blobs, n_blobs);
    return code;
}
