/*
 * store/datasets.c - uploaded tables: a blob (the CSV as sent) and a row
 * with the reader options and the schema found when it was parsed.
 *
 * Put: the temp file is fsynced before the lock is taken (the slow part),
 * then, under the lock, renamed into blobs/, the folder fsynced and the
 * row inserted and checked against the tenant's quotas (store/quota.c)
 * in one transaction; a failure after the rename removes the blob again.
 * Delete: the row first, then the file, so a crash between the two leaves
 * only an unreferenced blob, which the next open removes.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static const char sql_dataset_exists[] =
    "SELECT 1 FROM datasets WHERE tenant_id = ?1 AND name = ?2";
static const char sql_dataset_insert[] =
    "INSERT INTO datasets (tenant_id, name, blob, bytes, rows, opts_json, "
    "schema_json, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char sql_dataset_get[] =
    "SELECT id, rows, bytes, blob, opts_json, schema_json, created "
    "FROM datasets WHERE tenant_id = ?1 AND name = ?2";
static const char sql_datasets[] =
    "SELECT name, rows, bytes, created FROM datasets WHERE tenant_id = ?1 "
    "ORDER BY name";
static const char sql_dataset_delete[] = "DELETE FROM datasets WHERE id = ?1";

static enum lift_code not_found(struct lift_error *err, const char *name)
{
    return lift_error_set(err, LIFT_ERR_NOT_FOUND, "no dataset '%s'", name);
}

enum lift_code lift_store_dataset_put(struct lift_store *s, int64_t tenant,
                                      const char *name, const char *tmp_path,
                                      const char *opts_json,
                                      const char *schema_json, int64_t rows,
                                      struct lift_error *err)
{
    enum lift_code code = store_check_name(name, "dataset", err);
    if (!code)
        code = store_check_json(opts_json, "the reader options", err);
    if (!code)
        code = store_check_json(schema_json, "the schema", err);
    if (!code && rows < 0)
        code =
            lift_error_set(err, LIFT_ERR_INVALID,
                           "a dataset cannot have %lld rows", (long long)rows);
    sqlite3_stmt *st;
    bool row = false;
    if (!code) {
        /* fail early, before the fsync of a large upload */
        store_lock(s);
        if (!(code = reg_prepare(&s->reg, sql_dataset_exists, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "it", tenant, name)))
            code = reg_step(&s->reg, st, &row, "look up a dataset", err);
        store_unlock(s);
        if (!code && row)
            code = lift_error_set(err, LIFT_ERR_CONFLICT,
                                  "dataset '%s' already exists", name);
    }
    int64_t bytes = 0;
    if (!code)
        code = blob_sync_tmp(s->dir, tmp_path, &bytes, err);
    if (code) {
        store_discard_tmp(s, tmp_path);
        return code;
    }

    char blob[BLOB_NAME_LEN + 1];
    store_lock(s);
    code = blob_adopt(s->dir, tmp_path, blob, err);
    if (code) {
        store_unlock(s);
        store_discard_tmp(s, tmp_path);
        return code;
    }
    struct quota_need need = {
        .bytes = bytes, .dataset = true, .what = "the upload"};
    if (!(code = reg_begin(&s->reg, err)) &&
        !(code = reg_prepare(&s->reg, sql_dataset_insert, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "ittiitti", tenant, name, blob,
                          bytes, rows, opts_json, schema_json, store_now()))) {
        code = reg_run(&s->reg, st, "store the dataset", err);
        if (code == LIFT_ERR_CONFLICT)
            lift_error_set(err, code, "dataset '%s' already exists", name);
        else if (code == LIFT_ERR_NOT_FOUND)
            lift_error_set(err, code, "no tenant with id %lld",
                           (long long)tenant);
    }
    /* in the insert's transaction: no other writer can pass in between */
    if (!code)
        code = store_quota_check(s, tenant, &need, err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    if (code)
        blob_remove(s->dir, "blobs", blob);
    store_unlock(s);
    return code;
}

void lift_dataset_info_release(struct lift_dataset_info *d)
{
    if (!d)
        return;
    lift_free(d->opts_json);
    lift_free(d->schema_json);
    d->opts_json = NULL;
    d->schema_json = NULL;
}

/* strdup of a column that may be NULL; false when out of memory. */
static bool dup_column(sqlite3_stmt *st, int col, char **out)
{
    const char *t = reg_text(st, col);
    *out = t ? lift_strdup(t) : NULL;
    return !t || *out;
}

enum lift_code lift_store_dataset_get(struct lift_store *s, int64_t tenant,
                                      const char *name,
                                      struct lift_dataset_info *out,
                                      struct lift_error *err)
{
    memset(out, 0, sizeof *out);
    if (!lift_store_name_ok(name))
        return not_found(err, name ? name : "");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_dataset_get, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "it", tenant, name)))
        code = reg_step(&s->reg, st, &row, "look up a dataset", err);
    if (!code && !row)
        code = not_found(err, name);
    if (!code) {
        out->id = reg_int(st, 0);
        out->rows = reg_int(st, 1);
        out->bytes = reg_int(st, 2);
        code = blob_path(s->dir, reg_text(st, 3), out->blob, sizeof out->blob,
                         err);
    }
    if (!code && (!dup_column(st, 4, &out->opts_json) ||
                  !dup_column(st, 5, &out->schema_json)))
        code = lift_error_nomem(err, "dataset description");
    store_unlock(s);
    if (code)
        lift_dataset_info_release(out);
    return code;
}

enum lift_code lift_store_datasets_json(struct lift_store *s, int64_t tenant,
                                        char **json, struct lift_error *err)
{
    *json = NULL;
    json_t *list = json_array();
    if (!list)
        return lift_error_nomem(err, "dataset list");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_datasets, &st, err);
    if (!code)
        code = reg_bind(&s->reg, st, err, "i", tenant);
    while (!code &&
           !(code = reg_step(&s->reg, st, &row, "list datasets", err)) && row) {
        json_t *d = json_pack("{s:s,s:I,s:I,s:I}", "name", reg_text(st, 0),
                              "rows", (json_int_t)reg_int(st, 1), "bytes",
                              (json_int_t)reg_int(st, 2), "created",
                              (json_int_t)reg_int(st, 3));
        if (!d || json_array_append_new(list, d))
            code = lift_error_nomem(err, "dataset list");
    }
    store_unlock(s);
    if (code) {
        json_decref(list);
        return code;
    }
    return store_dump(list, json, err);
}

enum lift_code lift_store_dataset_json(struct lift_store *s, int64_t tenant,
                                       const char *name, char **json,
                                       struct lift_error *err)
{
    *json = NULL;
    if (!lift_store_name_ok(name))
        return not_found(err, name ? name : "");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    json_t *doc = NULL;
    enum lift_code code = reg_prepare(&s->reg, sql_dataset_get, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "it", tenant, name)))
        code = reg_step(&s->reg, st, &row, "look up a dataset", err);
    if (!code && !row)
        code = not_found(err, name);
    json_t *opts = NULL, *schema = NULL;
    if (!code &&
        (!(opts = store_parse_json(reg_text(st, 4), "reader options", err)) ||
         !(schema = store_parse_json(reg_text(st, 5), "schema", err))))
        code = err ? err->code : LIFT_ERR_CORRUPT;
    if (!code) {
        doc = json_pack("{s:s,s:I,s:I,s:I,s:O,s:O}", "name", name, "rows",
                        (json_int_t)reg_int(st, 1), "bytes",
                        (json_int_t)reg_int(st, 2), "created",
                        (json_int_t)reg_int(st, 6), "options", opts, "schema",
                        schema);
        if (!doc)
            code = lift_error_nomem(err, "dataset description");
    }
    json_decref(opts);
    json_decref(schema);
    store_unlock(s);
    if (code)
        return code;
    return store_dump(doc, json, err);
}

enum lift_code lift_store_dataset_delete(struct lift_store *s, int64_t tenant,
                                         const char *name,
                                         struct lift_error *err)
{
    if (!lift_store_name_ok(name))
        return not_found(err, name ? name : "");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    char blob[BLOB_NAME_LEN + 1] = "";
    int64_t id = 0;
    enum lift_code code = reg_begin(&s->reg, err);
    if (!code && !(code = reg_prepare(&s->reg, sql_dataset_get, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "it", tenant, name)))
        code = reg_step(&s->reg, st, &row, "look up a dataset", err);
    if (!code && !row)
        code = not_found(err, name);
    if (!code) {
        id = reg_int(st, 0);
        snprintf(blob, sizeof blob, "%s", reg_text(st, 3));
        if (!(code = reg_prepare(&s->reg, sql_dataset_delete, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "i", id)))
            code = reg_run(&s->reg, st, "delete the dataset", err);
    }
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    if (!code && blob_name_ok(blob))
        blob_remove(s->dir, "blobs", blob);
    store_unlock(s);
    return code;
}
