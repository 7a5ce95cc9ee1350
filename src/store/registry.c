/*
 * store/registry.c - the SQLite connection: open, schema migrations, the
 * statement cache, binding and stepping with lift errors.
 *
 * Schema (version 4: job result blobs since 2, quotas since 3, deleted
 * tenants since 4). Times are unix seconds. Blobs are named by the
 * file name under DIR/blobs/ (32 hex characters), never by a path, so a
 * data dir can be moved. An operator key has no tenant; audit rows keep
 * tenant 0 for the operator and have no foreign keys, so that they
 * outlive what they describe. Every other table that names a tenant
 * does so with ON DELETE CASCADE (foreign_keys is on for every
 * connection), so deleting a tenant's row deletes what it owns.
 *
 * Migrations are an append-only list: migrations[v] takes a registry from
 * user_version v to v + 1. Never edit a shipped step; add one.
 */
#include "store/registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

static const char *const migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE tenants ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  tenant_id INTEGER REFERENCES tenants(id) ON DELETE CASCADE,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  operator INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  revoked INTEGER,"
    "  CHECK ((operator = 1) = (tenant_id IS NULL)));"
    "CREATE INDEX api_keys_tenant ON api_keys(tenant_id);"
    "CREATE TABLE datasets ("
    "  id INTEGER PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  blob TEXT NOT NULL UNIQUE,"
    "  bytes INTEGER NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  opts_json TEXT,"
    "  schema_json TEXT,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (tenant_id, name));"
    "CREATE TABLE models ("
    "  id INTEGER PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  serving_version INTEGER,"
    "  last_version INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (tenant_id, name));"
    "CREATE TABLE versions ("
    "  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('training', 'ready', 'failed')),"
    "  blob TEXT UNIQUE,"
    "  bytes INTEGER,"
    "  info_json TEXT,"
    "  params_json TEXT,"
    "  error TEXT,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (model_id, version));"
    "CREATE TABLE jobs ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('queued', 'running',"
    "    'succeeded', 'failed', 'cancelled')),"
    "  params_json TEXT,"
    "  progress_json TEXT,"
    "  error TEXT,"
    "  result_json TEXT,"
    "  created INTEGER NOT NULL,"
    "  started INTEGER,"
    "  finished INTEGER);"
    "CREATE INDEX jobs_state ON jobs(state);"
    "CREATE INDEX jobs_tenant ON jobs(tenant_id);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL,"
    "  key_id INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  time INTEGER NOT NULL);"
    "CREATE INDEX audit_tenant ON audit(tenant_id, id);",
    /* 1 -> 2: the result file of a job (bulk scoring): a blob named as
     * the others, referenced only once the job succeeded with it */
    "ALTER TABLE jobs ADD COLUMN result_blob TEXT;"
    "ALTER TABLE jobs ADD COLUMN result_bytes INTEGER;"
    "CREATE UNIQUE INDEX jobs_result_blob ON jobs(result_blob);",
    /* 2 -> 3: per-tenant quota overrides (NULL: the server's default,
     * -1: unlimited; a NULL burst follows rps), and the index that
     * counts a tenant's queued and running jobs */
    "CREATE TABLE quotas ("
    "  tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,"
    "  storage INTEGER,"
    "  datasets INTEGER,"
    "  models INTEGER,"
    "  jobs INTEGER,"
    "  rps INTEGER,"
    "  burst INTEGER);"
    "CREATE INDEX jobs_tenant_state ON jobs(tenant_id, state);",
    /* 3 -> 4: deleted tenants (lift_store_tenant_delete). Their audit
     * entries keep the tenant id and read its name here; the highest id
     * of the tenants and keys ever made is kept too, so that no new
     * tenant or key takes the id of a deleted one (INTEGER PRIMARY KEY
     * alone would reuse the largest id once its row is gone) */
    "CREATE TABLE tenants_deleted ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL,"
    "  last_key_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX tenants_deleted_name ON tenants_deleted(name, id);",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int reg_schema_version(void)
{
    return N_MIGRATIONS;
}

enum lift_code reg_error(struct registry *r, int rc, const char *what,
                         struct lift_error *err)
{
    const char *msg = r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return lift_error_set(err, LIFT_ERR_CORRUPT,
                              "registry is damaged: %s: %s", what, msg);
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE ||
            rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return lift_error_set(err, LIFT_ERR_CONFLICT,
                                  "cannot %s: it already exists", what);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                                  "cannot %s: what it refers to does not "
                                  "exist",
                                  what);
        return lift_error_set(err, LIFT_ERR_INVALID, "cannot %s: %s", what,
                              msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return lift_error_set(err, LIFT_ERR_UNAVAILABLE,
                              "cannot %s: the registry is busy (another "
                              "process held it for %d ms)",
                              what, REG_BUSY_MS);
    case SQLITE_NOMEM:
        return lift_error_nomem(err, "registry");
    default:
        return lift_error_set(err, LIFT_ERR_IO, "registry: cannot %s: %s", what,
                              msg);
    }
}

enum lift_code reg_exec(struct registry *r, const char *sql, const char *what,
                        struct lift_error *err)
{
    int rc = sqlite3_exec(r->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return reg_error(r, sqlite3_extended_errcode(r->db), what, err);
    return LIFT_OK;
}

enum lift_code reg_prepare(struct registry *r, const char *sql,
                           sqlite3_stmt **st, struct lift_error *err)
{
    *st = NULL;
    for (int i = 0; i < r->n_cache; i++) {
        if (r->cache[i].sql == sql) {
            sqlite3_reset(r->cache[i].st);
            sqlite3_clear_bindings(r->cache[i].st);
            *st = r->cache[i].st;
            return LIFT_OK;
        }
    }
    /* a full cache is a bug: raise REG_CACHE_MAX with the call sites */
    LIFT_ASSERT(r->n_cache < REG_CACHE_MAX);
    sqlite3_stmt *s = NULL;
    int rc =
        sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (rc != SQLITE_OK)
        return reg_error(r, sqlite3_extended_errcode(r->db),
                         "prepare a statement", err);
    r->cache[r->n_cache].sql = sql;
    r->cache[r->n_cache].st = s;
    r->n_cache++;
    *st = s;
    return LIFT_OK;
}

enum lift_code reg_bind(struct registry *r, sqlite3_stmt *st,
                        struct lift_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = SQLITE_OK;
    for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
        int col = i + 1;
        switch (fmt[i]) {
        case 't': {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, col);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int64(st, col, va_arg(ap, int64_t));
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            rc = sqlite3_bind_blob64(st, col, p, n, SQLITE_TRANSIENT);
            break;
        }
        case 'n':
            rc = sqlite3_bind_null(st, col);
            break;
        default:
            LIFT_ASSERT(!"reg_bind: unknown format character");
        }
    }
    va_end(ap);
    if (rc != SQLITE_OK)
        return reg_error(r, rc, "bind a parameter", err);
    return LIFT_OK;
}

enum lift_code reg_step(struct registry *r, sqlite3_stmt *st, bool *row,
                        const char *what, struct lift_error *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = true;
        return LIFT_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE)
        return LIFT_OK;
    /* sqlite3_prepare_v3 statements report the extended code directly */
    enum lift_code code =
        reg_error(r, sqlite3_extended_errcode(r->db), what, err);
    sqlite3_reset(st);
    return code;
}

enum lift_code reg_run(struct registry *r, sqlite3_stmt *st, const char *what,
                       struct lift_error *err)
{
    bool row = true;
    enum lift_code code;
    while ((code = reg_step(r, st, &row, what, err)) == LIFT_OK && row)
        ;
    sqlite3_reset(st);
    return code;
}

void reg_reset_all(struct registry *r)
{
    for (int i = 0; i < r->n_cache; i++)
        if (sqlite3_stmt_busy(r->cache[i].st))
            sqlite3_reset(r->cache[i].st);
}

enum lift_code reg_begin(struct registry *r, struct lift_error *err)
{
    return reg_exec(r, "BEGIN IMMEDIATE", "start a transaction", err);
}

enum lift_code reg_commit(struct registry *r, struct lift_error *err)
{
    enum lift_code code = reg_exec(r, "COMMIT", "commit", err);
    if (code)
        reg_rollback(r);
    return code;
}

void reg_rollback(struct registry *r)
{
    reg_reset_all(r);
    if (!sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

const char *reg_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int64_t reg_int(sqlite3_stmt *st, int i)
{
    return (int64_t)sqlite3_column_int64(st, i);
}

bool reg_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL;
}

/* One integer from a parameterless query (a PRAGMA). */
static enum lift_code query_int(struct registry *r, const char *sql,
                                const char *what, int64_t *out,
                                struct lift_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = (int64_t)sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    enum lift_code code = LIFT_OK;
    if (rc != SQLITE_OK)
        code = reg_error(r, sqlite3_extended_errcode(r->db), what, err);
    sqlite3_finalize(st);
    return code;
}

/* PRAGMA journal_mode=WAL answers with the mode in force. */
static enum lift_code set_wal(struct registry *r, struct lift_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(r->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    bool wal = false;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        wal = mode && strcmp(mode, "wal") == 0;
        rc = SQLITE_OK;
    }
    enum lift_code code = LIFT_OK;
    if (rc != SQLITE_OK)
        code = reg_error(r, sqlite3_extended_errcode(r->db),
                         "switch to WAL mode", err);
    else if (!wal)
        code = lift_error_set(err, LIFT_ERR_IO,
                              "registry: cannot switch to WAL mode");
    sqlite3_finalize(st);
    return code;
}

/* PRAGMA quick_check: O(size) but without the index cross-checks of
 * integrity_check, which lift_store_check runs. */
static enum lift_code quick_check(struct registry *r, struct lift_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    enum lift_code code = LIFT_OK;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        if (!res || strcmp(res, "ok") != 0)
            code = lift_error_set(err, LIFT_ERR_CORRUPT,
                                  "registry fails its integrity check: %s",
                                  res ? res : "no answer");
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        code = reg_error(r, sqlite3_extended_errcode(r->db),
                         "check its integrity", err);
    sqlite3_finalize(st);
    return code;
}

static enum lift_code migrate(struct registry *r, struct lift_error *err)
{
    for (;;) {
        int64_t v = 0;
        enum lift_code code = query_int(r, "PRAGMA user_version",
                                        "read the schema version", &v, err);
        if (code)
            return code;
        if (v > N_MIGRATIONS || v < 0)
            return lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                                  "registry schema version %lld is newer "
                                  "than this lift supports (%d)",
                                  (long long)v, N_MIGRATIONS);
        if (v == N_MIGRATIONS)
            return LIFT_OK;
        if ((code = reg_begin(r, err)))
            return code;
        /* another process may have migrated while we waited for the lock */
        int64_t again = 0;
        code = query_int(r, "PRAGMA user_version", "read the schema version",
                         &again, err);
        if (!code && again == v) {
            char what[64];
            snprintf(what, sizeof what, "migrate the schema to version %lld",
                     (long long)(v + 1));
            code = reg_exec(r, migrations[v], what, err);
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %lld",
                     (long long)(v + 1));
            if (!code)
                code = reg_exec(r, sql, what, err);
        }
        if (!code)
            code = reg_commit(r, err);
        if (code) {
            reg_rollback(r);
            return code;
        }
    }
}

enum lift_code reg_open(struct registry *r, const char *path,
                        struct lift_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = sqlite3_open_v2(path, &r->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE,
                             NULL);
    enum lift_code code;
    if (rc != SQLITE_OK) {
        code = r->db ? reg_error(r, sqlite3_extended_errcode(r->db), "open it",
                                 err)
                     : lift_error_nomem(err, "registry");
        goto fail;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, REG_BUSY_MS);
    if ((code = reg_exec(r, "PRAGMA foreign_keys = ON", "enable foreign keys",
                         err)))
        goto fail;
    /* FULL: a commit survives power loss, not only a crash of lift */
    if ((code = reg_exec(r, "PRAGMA synchronous = FULL", "set synchronous mode",
                         err)))
        goto fail;
    if ((code = set_wal(r, err)) || (code = quick_check(r, err)) ||
        (code = migrate(r, err)))
        goto fail;
    return LIFT_OK;
fail:
    reg_close(r);
    return code;
}

void reg_close(struct registry *r)
{
    for (int i = 0; i < r->n_cache; i++)
        sqlite3_finalize(r->cache[i].st);
    r->n_cache = 0;
    if (r->db)
        sqlite3_close(r->db);
    r->db = NULL;
}
