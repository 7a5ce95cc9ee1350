/*
 * store/tenant_delete.c - lift_store_tenant_delete: a tenant and all it
 * owns, gone.
 *
 * One transaction (BEGIN IMMEDIATE, so no writer of any process comes
 * between the reads and the delete): read the tenant, count what it
 * owns, list its blob files, keep a record of it in tenants_deleted,
 * and delete its row. Every table that names a tenant does so with ON
 * DELETE CASCADE (registry.c; versions cascade from models), so that one
 * DELETE takes its keys, datasets, models, versions, jobs and quota
 * override; the audit table has no foreign key and keeps its entries.
 * Only after the commit are the blob files unlinked, as every delete of
 * the store does: a crash in between leaves files no row points to,
 * which the clean-up on open removes. The other order would leave rows
 * pointing to missing files, which nothing repairs.
 *
 * Writers that raced the delete (an upload, a training job, a scoring
 * job of that tenant, in this or another process) meet the foreign keys
 * or the missing rows and fail, removing their own files (datasets.c,
 * models.c, jobs.c), so nothing of the tenant can come back.
 *
 * Cost: a few indexed counts and one scan of the tenant's rows, plus one
 * unlink per blob after the commit; the store's mutex is held
 * throughout (the unlinks included, so that no call of this process
 * sees a blob of a deleted tenant).
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static const char sql_find[] =
    "SELECT id, created FROM tenants WHERE name = ?1";
static const char sql_counts[] =
    "SELECT (SELECT count(*) FROM api_keys WHERE tenant_id = ?1), "
    "(SELECT coalesce(max(id), 0) FROM api_keys WHERE tenant_id = ?1), "
    "(SELECT count(*) FROM datasets WHERE tenant_id = ?1), "
    "(SELECT count(*) FROM models WHERE tenant_id = ?1), "
    "(SELECT count(*) FROM versions v JOIN models m ON m.id = v.model_id "
    " WHERE m.tenant_id = ?1), "
    "(SELECT count(*) FROM jobs WHERE tenant_id = ?1), "
    "(SELECT count(*) FROM jobs WHERE tenant_id = ?1 "
    " AND result_blob IS NOT NULL)";
static const char sql_blobs[] =
    "SELECT blob, bytes FROM datasets WHERE tenant_id = ?1 "
    "UNION ALL SELECT v.blob, v.bytes FROM versions v "
    "JOIN models m ON m.id = v.model_id "
    "WHERE m.tenant_id = ?1 AND v.blob IS NOT NULL "
    "UNION ALL SELECT result_blob, result_bytes FROM jobs "
    "WHERE tenant_id = ?1 AND result_blob IS NOT NULL";
static const char sql_remember[] =
    "INSERT INTO tenants_deleted (id, name, created, deleted, last_key_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_delete[] = "DELETE FROM tenants WHERE id = ?1";
static const char sql_deletions[] = "SELECT count(*) FROM tenants_deleted";

struct blob_list {
    char **names;
    size_t n, cap;
};

static void blob_list_release(struct blob_list *b)
{
    blob_names_free(b->names, b->n);
    memset(b, 0, sizeof *b);
}

/* The tenant's blob names into b and their recorded bytes into *bytes.
 * The caller holds the lock and the transaction. */
static enum lift_code list_blobs(struct lift_store *s, int64_t tenant,
                                 struct blob_list *b, int64_t *bytes,
                                 struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_blobs, &st, err);
    if (!code)
        code = reg_bind(&s->reg, st, err, "i", tenant);
    while (
        !code &&
        !(code = reg_step(&s->reg, st, &row, "list the tenant's files", err)) &&
        row) {
        const char *name = reg_text(st, 0);
        if (!name)
            continue;
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 16;
            char **grown = lift_realloc_array(b->names, cap, sizeof *grown);
            if (!grown)
                return lift_error_nomem(err, "tenant's file list");
            b->names = grown;
            b->cap = cap;
        }
        if (!(b->names[b->n] = lift_strdup(name)))
            return lift_error_nomem(err, "tenant's file list");
        b->n++;
        *bytes += reg_null(st, 1) ? 0 : reg_int(st, 1);
    }
    return code;
}

enum lift_code lift_store_tenant_delete(struct lift_store *s, const char *name,
                                        struct lift_tenant_deletion *out,
                                        struct lift_error *err)
{
    struct lift_tenant_deletion d;
    memset(&d, 0, sizeof d);
    if (out)
        memset(out, 0, sizeof *out);
    enum lift_code code = store_check_name(name, "tenant", err);
    if (code)
        return code;
    struct blob_list blobs = {NULL, 0, 0};
    sqlite3_stmt *st;
    bool row = false;
    int64_t created = 0, last_key = 0;
    store_lock(s);
    if (!(code = reg_begin(&s->reg, err)) &&
        !(code = reg_prepare(&s->reg, sql_find, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "t", name)) &&
        !(code = reg_step(&s->reg, st, &row, "look up a tenant", err)) && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND, "no tenant '%s'", name);
    if (!code) {
        d.tenant_id = reg_int(st, 0);
        created = reg_int(st, 1);
    }
    if (!code && !(code = reg_prepare(&s->reg, sql_counts, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "i", d.tenant_id)) &&
        !(code =
              reg_step(&s->reg, st, &row, "count the tenant's objects", err)) &&
        row) {
        d.keys = reg_int(st, 0);
        last_key = reg_int(st, 1);
        d.datasets = reg_int(st, 2);
        d.models = reg_int(st, 3);
        d.versions = reg_int(st, 4);
        d.jobs = reg_int(st, 5);
        d.results = reg_int(st, 6);
    }
    if (!code)
        code = list_blobs(s, d.tenant_id, &blobs, &d.bytes, err);
    if (!code && !(code = reg_prepare(&s->reg, sql_remember, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "itiii", d.tenant_id, name, created,
                          store_now(), last_key)))
        code = reg_run(&s->reg, st, "record the deleted tenant", err);
    if (!code && !(code = reg_prepare(&s->reg, sql_delete, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "i", d.tenant_id)))
        code = reg_run(&s->reg, st, "delete the tenant", err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    if (!code) {
        /* its keys must fail from the next request on */
        store_auth_forget(s);
        for (size_t i = 0; i < blobs.n; i++)
            if (blob_name_ok(blobs.names[i])) {
                blob_remove(s->dir, "blobs", blobs.names[i]);
                d.files++;
            }
    }
    store_unlock(s);
    blob_list_release(&blobs);
    if (!code && out)
        *out = d;
    return code;
}

enum lift_code lift_store_tenant_deletions(struct lift_store *s, int64_t *n,
                                           struct lift_error *err)
{
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_deletions, &st, err);
    if (!code)
        code = reg_step(&s->reg, st, &row, "count the deleted tenants", err);
    *n = !code && row ? reg_int(st, 0) : 0;
    store_unlock(s);
    return code;
}
