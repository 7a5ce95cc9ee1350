/*
 * store/check.c - lift_store_check: is the data dir whole?
 *
 * Three questions: does SQLite's integrity_check pass; does every
 * dataset, ready version and job result have its blob, of the recorded
 * size; is every file in blobs/ pointed to by a row. Temp files are
 * listed but are not a fault (a live server has uploads in progress,
 * scoring jobs their results being written). Repair
 * removes unreferenced blobs and temp files, only when no other process
 * has the dir open (DIR/lock); missing or damaged blobs cannot be
 * repaired and stay faults.
 *
 * The checks read the registry live, statement by statement: a blob
 * that another process has renamed into blobs/ but whose row it has not
 * committed yet shows as unreferenced for that instant.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"

static const char sql_integrity[] = "PRAGMA integrity_check(100)";
static const char sql_all_blobs[] =
    "SELECT 'dataset', t.name, d.name, d.blob, d.bytes FROM datasets d "
    "JOIN tenants t ON t.id = d.tenant_id "
    "UNION ALL SELECT 'model', t.name, m.name || ' v' || v.version, v.blob, "
    "v.bytes FROM versions v JOIN models m ON m.id = v.model_id "
    "JOIN tenants t ON t.id = m.tenant_id WHERE v.state = 'ready' "
    "UNION ALL SELECT 'job result', t.name, j.id, j.result_blob, "
    "j.result_bytes FROM jobs j JOIN tenants t ON t.id = j.tenant_id "
    "WHERE j.result_blob IS NOT NULL";
static const char sql_blob_used[] =
    "SELECT 1 FROM datasets WHERE blob = ?1 "
    "UNION ALL SELECT 1 FROM versions WHERE blob = ?1 "
    "UNION ALL SELECT 1 FROM jobs WHERE result_blob = ?1";

struct findings {
    json_t *integrity; /* array of messages; empty when ok */
    json_t *missing;
    json_t *size_mismatch;
    json_t *orphans;
    json_t *temp;
    size_t n_objects;
};

static enum lift_code check_integrity(struct lift_store *s, struct findings *f,
                                      struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_integrity, &st, err);
    while (!code &&
           !(code = reg_step(&s->reg, st, &row, "check integrity", err)) &&
           row) {
        const char *msg = reg_text(st, 0);
        if (msg && strcmp(msg, "ok") != 0)
            json_array_append_new(f->integrity, json_string(msg));
    }
    /* a registry too damaged to check is itself the finding */
    if (code == LIFT_ERR_CORRUPT) {
        json_array_append_new(f->integrity,
                              json_string(err ? err->msg : "corrupt"));
        code = LIFT_OK;
    }
    return code;
}

static enum lift_code check_blobs(struct lift_store *s, struct findings *f,
                                  struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_all_blobs, &st, err);
    while (!code && !(code = reg_step(&s->reg, st, &row, "list blobs", err)) &&
           row) {
        f->n_objects++;
        const char *blob = reg_text(st, 3);
        char path[BLOB_PATH_MAX];
        struct stat sb;
        json_t *what = json_pack("{s:s,s:s,s:s,s:s}", "kind", reg_text(st, 0),
                                 "tenant", reg_text(st, 1), "name",
                                 reg_text(st, 2), "blob", blob ? blob : "");
        if (!what)
            return lift_error_nomem(err, "check report");
        if (!blob || !blob_name_ok(blob) ||
            blob_path(s->dir, blob, path, sizeof path, NULL) != LIFT_OK ||
            stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            json_array_append_new(f->missing, what);
        } else if ((int64_t)sb.st_size != reg_int(st, 4)) {
            json_object_set_new(what, "expected",
                                json_integer((json_int_t)reg_int(st, 4)));
            json_object_set_new(what, "actual",
                                json_integer((json_int_t)sb.st_size));
            json_array_append_new(f->size_mismatch, what);
        } else {
            json_decref(what);
        }
    }
    return code;
}

static enum lift_code find_orphans(struct lift_store *s, struct findings *f,
                                   struct lift_error *err)
{
    char **names = NULL;
    size_t n = 0;
    enum lift_code code = blob_list(s->dir, "blobs", &names, &n, err);
    for (size_t i = 0; !code && i < n; i++) {
        sqlite3_stmt *st;
        bool used = false;
        if (!(code = reg_prepare(&s->reg, sql_blob_used, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "t", names[i])))
            code = reg_step(&s->reg, st, &used, "look up a blob", err);
        if (!code && !used)
            json_array_append_new(f->orphans, json_string(names[i]));
    }
    blob_names_free(names, n);
    if (code)
        return code;
    code = blob_list(s->dir, "tmp", &names, &n, err);
    for (size_t i = 0; !code && i < n; i++)
        json_array_append_new(f->temp, json_string(names[i]));
    blob_names_free(names, n);
    return code;
}

/* Removes what f lists as orphans and temp files; counts them. */
static void repair(struct lift_store *s, const struct findings *f,
                   json_t *report)
{
    size_t i;
    json_t *name;
    json_array_foreach(f->orphans, i, name)
        blob_remove(s->dir, "blobs", json_string_value(name));
    json_array_foreach(f->temp, i, name)
        blob_remove(s->dir, "tmp", json_string_value(name));
    json_object_set_new(report, "removed",
                        json_pack("{s:I,s:I}", "orphans",
                                  (json_int_t)json_array_size(f->orphans),
                                  "temp",
                                  (json_int_t)json_array_size(f->temp)));
}

enum lift_code lift_store_check(struct lift_store *s, bool do_repair,
                                char **report, struct lift_error *err)
{
    *report = NULL;
    struct findings f = {json_array(), json_array(), json_array(),
                         json_array(), json_array(), 0};
    json_t *doc = json_object();
    enum lift_code code = LIFT_OK;
    if (!f.integrity || !f.missing || !f.size_mismatch || !f.orphans ||
        !f.temp || !doc)
        code = lift_error_nomem(err, "check report");
    store_lock(s);
    if (!code)
        code = check_integrity(s, &f, err);
    if (!code)
        code = check_blobs(s, &f, err);
    if (!code)
        code = find_orphans(s, &f, err);
    bool repaired = false, skipped = false;
    size_t n_orphans = json_array_size(f.orphans);
    if (!code && do_repair && (n_orphans > 0 || json_array_size(f.temp) > 0)) {
        if (store_exclusive_begin(s)) {
            repair(s, &f, doc);
            store_exclusive_end(s);
            repaired = true;
        } else {
            skipped = true;
        }
    }
    store_unlock(s);

    size_t n_integrity = json_array_size(f.integrity);
    size_t n_missing = json_array_size(f.missing);
    size_t n_mismatch = json_array_size(f.size_mismatch);
    size_t n_left = repaired ? 0 : n_orphans;
    bool ok = !n_integrity && !n_missing && !n_mismatch && !n_left;
    if (!code) {
        json_object_set_new(doc, "ok", json_boolean(ok));
        json_object_set_new(doc, "integrity",
                            n_integrity ? json_incref(f.integrity)
                                        : json_string("ok"));
        json_object_set_new(doc, "objects",
                            json_integer((json_int_t)f.n_objects));
        json_object_set(doc, "missing", f.missing);
        json_object_set(doc, "size_mismatch", f.size_mismatch);
        json_object_set(doc, "orphans", f.orphans);
        json_object_set(doc, "temp", f.temp);
        if (skipped)
            json_object_set_new(doc, "repair",
                                json_string("skipped: another process has "
                                            "the data dir open"));
        code = store_dump(doc, report, err);
        doc = NULL;
    }
    json_decref(doc);
    json_decref(f.integrity);
    json_decref(f.missing);
    json_decref(f.size_mismatch);
    json_decref(f.orphans);
    json_decref(f.temp);
    if (code)
        return code;
    if (!ok)
        return lift_error_set(
            err, LIFT_ERR_CORRUPT,
            "data dir '%s' fails its check: %zu integrity errors, %zu "
            "missing blobs, %zu blobs of the wrong size, %zu unreferenced "
            "blobs",
            s->dir, n_integrity, n_missing, n_mismatch, n_left);
    return LIFT_OK;
}
