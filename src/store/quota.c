/*
 * store/quota.c - per-tenant quotas: the overrides in table quotas, the
 * defaults of the store handle, the usage and the check that runs inside
 * the transaction adding an object.
 *
 * A row of quotas holds a tenant's overrides: NULL for "the default",
 * -1 for "unlimited", else the limit; a NULL burst follows rps. A tenant
 * without a row uses the defaults.
 *
 * Usage is computed, never stored, so it cannot drift from the objects:
 * the sum of datasets.bytes, versions.bytes (a version being trained has
 * no bytes yet) and jobs.result_bytes (bulk scoring results), and three
 * counts, each over an index that starts with the tenant (datasets and
 * models by their UNIQUE (tenant_id, name), versions by their primary
 * key through models, jobs by jobs_tenant and jobs_tenant_state):
 * O(the tenant's objects), a few microseconds for hundreds.
 *
 * The check (store_quota_check) runs after the insert or update it
 * guards, in the same IMMEDIATE transaction, and counts the new object
 * with the rest: no other writer, in this process or another, can add
 * between the check and the commit, so two uploads racing for the last
 * room cannot both pass.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

static const char sql_quota_get[] =
    "SELECT t.name, q.storage, q.datasets, q.models, q.jobs, q.rps, q.burst "
    "FROM tenants t LEFT JOIN quotas q ON q.tenant_id = t.id WHERE t.id = ?1";
static const char sql_quota_put[] =
    "INSERT INTO quotas (tenant_id, storage, datasets, models, jobs, rps, "
    "burst) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (tenant_id) DO "
    "UPDATE SET storage = excluded.storage, datasets = excluded.datasets, "
    "models = excluded.models, jobs = excluded.jobs, rps = excluded.rps, "
    "burst = excluded.burst";
static const char sql_quota_drop[] = "DELETE FROM quotas WHERE tenant_id = ?1";
static const char sql_usage[] =
    "SELECT (SELECT coalesce(sum(bytes), 0) FROM datasets WHERE tenant_id = "
    "?1) + (SELECT coalesce(sum(v.bytes), 0) FROM models m JOIN versions v "
    "ON v.model_id = m.id WHERE m.tenant_id = ?1) + (SELECT "
    "coalesce(sum(result_bytes), 0) FROM jobs WHERE tenant_id = ?1), "
    "(SELECT count(*) FROM datasets WHERE tenant_id = ?1), "
    "(SELECT count(*) FROM models WHERE tenant_id = ?1), "
    "(SELECT count(*) FROM jobs WHERE tenant_id = ?1 AND state IN "
    "('queued', 'running'))";

void lift_quota_fill(struct lift_quota *q, int64_t value)
{
    q->storage = q->datasets = q->models = q->jobs = q->rps = q->burst = value;
}

/* One field of the API as a column value: NULL for DEFAULT. */
static bool is_default(int64_t v)
{
    return v == LIFT_QUOTA_DEFAULT;
}

static int64_t column_limit(sqlite3_stmt *st, int col)
{
    return reg_null(st, col) ? LIFT_QUOTA_DEFAULT : reg_int(st, col);
}

/* The effective limits of an override over the defaults. */
static void effective_of(const struct lift_quota *ov,
                         const struct lift_quota *def, struct lift_quota *out)
{
    out->storage = is_default(ov->storage) ? def->storage : ov->storage;
    out->datasets = is_default(ov->datasets) ? def->datasets : ov->datasets;
    out->models = is_default(ov->models) ? def->models : ov->models;
    out->jobs = is_default(ov->jobs) ? def->jobs : ov->jobs;
    const struct lift_quota *src = is_default(ov->rps) ? def : ov;
    out->rps = src->rps;
    out->burst = is_default(src->burst) ? src->rps : src->burst;
    if (out->rps == LIFT_QUOTA_UNLIMITED)
        out->burst = LIFT_QUOTA_UNLIMITED;
}

/* The tenant's name (may be NULL) and override; NOT_FOUND. The caller
 * holds the lock. */
static enum lift_code load_override(struct lift_store *s, int64_t tenant,
                                    char *name, size_t cap,
                                    struct lift_quota *ov,
                                    struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_quota_get, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "i", tenant)))
        code = reg_step(&s->reg, st, &row, "read the quota", err);
    if (!code && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND, "no tenant with id %lld",
                              (long long)tenant);
    if (code)
        return code;
    if (name)
        snprintf(name, cap, "%s", reg_text(st, 0) ? reg_text(st, 0) : "");
    ov->storage = column_limit(st, 1);
    ov->datasets = column_limit(st, 2);
    ov->models = column_limit(st, 3);
    ov->jobs = column_limit(st, 4);
    ov->rps = column_limit(st, 5);
    ov->burst = column_limit(st, 6);
    return LIFT_OK;
}

/* The caller holds the lock. */
static enum lift_code load_usage(struct lift_store *s, int64_t tenant,
                                 struct lift_quota_usage *u,
                                 struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_usage, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "i", tenant)))
        code = reg_step(&s->reg, st, &row, "measure the usage", err);
    if (!code && !row)
        code =
            lift_error_set(err, LIFT_ERR_INTERNAL, "usage query gave no row");
    if (!code) {
        u->storage = reg_int(st, 0);
        u->datasets = reg_int(st, 1);
        u->models = reg_int(st, 2);
        u->jobs = reg_int(st, 3);
    }
    return code;
}

/* A limit (>= lo) or one of the markers allowed. */
static bool value_ok(int64_t v, int64_t lo, bool unlimited, bool def, bool keep)
{
    return v >= lo || (unlimited && v == LIFT_QUOTA_UNLIMITED) ||
           (def && v == LIFT_QUOTA_DEFAULT) || (keep && v == LIFT_QUOTA_KEEP);
}

static enum lift_code bad_value(struct lift_error *err, const char *field,
                                int64_t v, const char *expected)
{
    return lift_error_set(err, LIFT_ERR_INVALID,
                          "bad %s quota %lld (expected %s)", field,
                          (long long)v, expected);
}

enum lift_code lift_store_quota_defaults(struct lift_store *s,
                                         const struct lift_quota *q,
                                         struct lift_error *err)
{
    static const char *const count = "a number >= 0 or unlimited";
    if (!value_ok(q->storage, 0, true, false, false))
        return bad_value(err, "storage", q->storage, count);
    if (!value_ok(q->datasets, 0, true, false, false))
        return bad_value(err, "datasets", q->datasets, count);
    if (!value_ok(q->models, 0, true, false, false))
        return bad_value(err, "models", q->models, count);
    if (!value_ok(q->jobs, 0, true, false, false))
        return bad_value(err, "jobs", q->jobs, count);
    if (!value_ok(q->rps, 1, true, false, false))
        return bad_value(err, "rps", q->rps, "a number >= 1 or unlimited");
    if (!value_ok(q->burst, 1, false, true, false))
        return bad_value(err, "burst", q->burst, "a number >= 1");
    store_lock(s);
    s->quota_defaults = *q;
    store_unlock(s);
    return LIFT_OK;
}

/* Binds an override field: NULL for DEFAULT. */
static enum lift_code bind_limit(struct lift_store *s, sqlite3_stmt *st,
                                 int col, int64_t v, struct lift_error *err)
{
    int rc = is_default(v) ? sqlite3_bind_null(st, col)
                           : sqlite3_bind_int64(st, col, v);
    if (rc != SQLITE_OK)
        return reg_error(&s->reg, rc, "bind a parameter", err);
    return LIFT_OK;
}

static int64_t merge(int64_t old, int64_t v)
{
    return v == LIFT_QUOTA_KEEP ? old : v;
}

enum lift_code lift_store_quota_set(struct lift_store *s, int64_t tenant,
                                    const struct lift_quota *q,
                                    struct lift_error *err)
{
    static const char *const count =
        "a number >= 0, unlimited, default or keep";
    if (!value_ok(q->storage, 0, true, true, true))
        return bad_value(err, "storage", q->storage, count);
    if (!value_ok(q->datasets, 0, true, true, true))
        return bad_value(err, "datasets", q->datasets, count);
    if (!value_ok(q->models, 0, true, true, true))
        return bad_value(err, "models", q->models, count);
    if (!value_ok(q->jobs, 0, true, true, true))
        return bad_value(err, "jobs", q->jobs, count);
    if (!value_ok(q->rps, 1, true, true, true))
        return bad_value(err, "rps", q->rps,
                         "a number >= 1, unlimited, default or keep");
    if (!value_ok(q->burst, 1, false, true, true))
        return bad_value(err, "burst", q->burst, "a number >= 1");
    if (q->burst >= 1 && q->rps < 1)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "a burst is set together with a rate (rps)");
    struct lift_quota ov;
    sqlite3_stmt *st;
    store_lock(s);
    enum lift_code code = reg_begin(&s->reg, err);
    if (!code)
        code = load_override(s, tenant, NULL, 0, &ov, err);
    if (!code) {
        ov.storage = merge(ov.storage, q->storage);
        ov.datasets = merge(ov.datasets, q->datasets);
        ov.models = merge(ov.models, q->models);
        ov.jobs = merge(ov.jobs, q->jobs);
        if (q->rps != LIFT_QUOTA_KEEP) {
            ov.rps = q->rps;
            ov.burst =
                q->rps >= 1 && q->burst >= 1 ? q->burst : LIFT_QUOTA_DEFAULT;
        }
        bool none = is_default(ov.storage) && is_default(ov.datasets) &&
                    is_default(ov.models) && is_default(ov.jobs) &&
                    is_default(ov.rps);
        if (none) {
            if (!(code = reg_prepare(&s->reg, sql_quota_drop, &st, err)) &&
                !(code = reg_bind(&s->reg, st, err, "i", tenant)))
                code = reg_run(&s->reg, st, "drop the quota", err);
        } else if (!(code = reg_prepare(&s->reg, sql_quota_put, &st, err)) &&
                   !(code = reg_bind(&s->reg, st, err, "i", tenant)) &&
                   !(code = bind_limit(s, st, 2, ov.storage, err)) &&
                   !(code = bind_limit(s, st, 3, ov.datasets, err)) &&
                   !(code = bind_limit(s, st, 4, ov.models, err)) &&
                   !(code = bind_limit(s, st, 5, ov.jobs, err)) &&
                   !(code = bind_limit(s, st, 6, ov.rps, err)) &&
                   !(code = bind_limit(s, st, 7, ov.burst, err))) {
            code = reg_run(&s->reg, st, "store the quota", err);
        }
    }
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    store_unlock(s);
    return code;
}

enum lift_code lift_store_quota_get(struct lift_store *s, int64_t tenant,
                                    struct lift_quota *override,
                                    struct lift_quota *effective,
                                    struct lift_quota_usage *usage,
                                    struct lift_error *err)
{
    struct lift_quota ov;
    struct lift_quota_usage u = {0, 0, 0, 0};
    store_lock(s);
    enum lift_code code = load_override(s, tenant, NULL, 0, &ov, err);
    if (!code && usage)
        code = load_usage(s, tenant, &u, err);
    if (!code) {
        if (override)
            *override = ov;
        if (effective)
            effective_of(&ov, &s->quota_defaults, effective);
        if (usage)
            *usage = u;
    }
    store_unlock(s);
    return code;
}

/* A limit as JSON: null for unlimited. */
static json_t *limit_json(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *pair_json(int64_t limit, int64_t used)
{
    return json_pack("{s:o,s:I}", "limit", limit_json(limit), "used",
                     (json_int_t)used);
}

enum lift_code lift_store_quota_json(struct lift_store *s, int64_t tenant,
                                     char **json, struct lift_error *err)
{
    *json = NULL;
    char name[LIFT_NAME_MAX + 1] = "";
    struct lift_quota ov, eff;
    struct lift_quota_usage u;
    store_lock(s);
    enum lift_code code = load_override(s, tenant, name, sizeof name, &ov, err);
    if (!code)
        code = load_usage(s, tenant, &u, err);
    if (!code)
        effective_of(&ov, &s->quota_defaults, &eff);
    store_unlock(s);
    if (code)
        return code;
    json_t *doc = json_pack(
        "{s:s,s:o,s:o,s:o,s:o,s:{s:o,s:o}}", "tenant", name, "storage_bytes",
        pair_json(eff.storage, u.storage), "datasets",
        pair_json(eff.datasets, u.datasets), "models",
        pair_json(eff.models, u.models), "jobs", pair_json(eff.jobs, u.jobs),
        "rps", "limit", limit_json(eff.rps), "burst", limit_json(eff.burst));
    return store_dump(doc, json, err);
}

/* An override field for the tenant list: absent when DEFAULT. */
static int add_override(json_t *obj, const char *key, int64_t v)
{
    if (is_default(v))
        return 0;
    return json_object_set_new(obj, key, limit_json(v));
}

enum lift_code store_quota_describe(struct lift_store *s, int64_t tenant,
                                    json_t *obj, struct lift_error *err)
{
    struct lift_quota ov;
    struct lift_quota_usage u;
    enum lift_code code = load_override(s, tenant, NULL, 0, &ov, err);
    if (!code)
        code = load_usage(s, tenant, &u, err);
    if (code)
        return code;
    json_t *q = json_object();
    json_t *used =
        json_pack("{s:I,s:I,s:I,s:I}", "storage_bytes", (json_int_t)u.storage,
                  "datasets", (json_int_t)u.datasets, "models",
                  (json_int_t)u.models, "jobs", (json_int_t)u.jobs);
    if (!q || !used || add_override(q, "storage_bytes", ov.storage) ||
        add_override(q, "datasets", ov.datasets) ||
        add_override(q, "models", ov.models) ||
        add_override(q, "jobs", ov.jobs) || add_override(q, "rps", ov.rps) ||
        add_override(q, "burst", ov.burst) ||
        json_object_set_new(obj, "quota", q) ||
        json_object_set_new(obj, "usage", used))
        return lift_error_nomem(err, "tenant list");
    return LIFT_OK;
}

enum lift_code store_quota_check(struct lift_store *s, int64_t tenant,
                                 const struct quota_need *need,
                                 struct lift_error *err)
{
    struct lift_quota ov, lim;
    struct lift_quota_usage u;
    enum lift_code code = load_override(s, tenant, NULL, 0, &ov, err);
    if (code)
        return code;
    effective_of(&ov, &s->quota_defaults, &lim);
    bool storage = lim.storage >= 0 && (need->bytes > 0 || need->room);
    if (!storage && !(need->dataset && lim.datasets >= 0) &&
        !(need->model && lim.models >= 0) && !(need->job && lim.jobs >= 0))
        return LIFT_OK; /* nothing limited: skip the usage query */
    if ((code = load_usage(s, tenant, &u, err)))
        return code;
    const char *what = need->what ? need->what : "the object";
    if (storage && need->bytes > 0 && u.storage > lim.storage)
        return lift_error_set(err, LIFT_ERR_QUOTA,
                              "storage quota exceeded: %s of %lld bytes "
                              "would bring the usage from %lld to %lld "
                              "bytes, over the limit of %lld",
                              what, (long long)need->bytes,
                              (long long)(u.storage - need->bytes),
                              (long long)u.storage, (long long)lim.storage);
    if (storage && need->room && u.storage >= lim.storage)
        return lift_error_set(err, LIFT_ERR_QUOTA,
                              "storage quota exceeded: %lld of %lld bytes "
                              "used, no room left for %s",
                              (long long)u.storage, (long long)lim.storage,
                              what);
    if (need->dataset && lim.datasets >= 0 && u.datasets > lim.datasets)
        return lift_error_set(err, LIFT_ERR_QUOTA,
                              "dataset quota exceeded: %lld datasets exist, "
                              "the limit is %lld; delete one first",
                              (long long)(u.datasets - 1),
                              (long long)lim.datasets);
    if (need->model && lim.models >= 0 && u.models > lim.models)
        return lift_error_set(err, LIFT_ERR_QUOTA,
                              "model quota exceeded: %lld models exist, the "
                              "limit is %lld; delete one first",
                              (long long)(u.models - 1), (long long)lim.models);
    if (need->job && lim.jobs >= 0 && u.jobs > lim.jobs)
        return lift_error_set(err, LIFT_ERR_RATE_LIMITED,
                              "job quota exceeded: %lld jobs queued or "
                              "running, the limit is %lld; wait for one to "
                              "finish or cancel one",
                              (long long)(u.jobs - 1), (long long)lim.jobs);
    return LIFT_OK;
}
