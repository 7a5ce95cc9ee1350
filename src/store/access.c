/*
 * store/access.c - tenants, API keys, authentication and the audit log.
 *
 * A key row holds the keyed hash of the key (store/keys.h), never its
 * text; authentication hashes the presented key and looks the hash up
 * through its UNIQUE index. Every failure of authentication, whatever
 * its cause, gives the same code and sentence, so a client learns
 * nothing about which keys exist. Keys found are cached for a second
 * (store_int.h).
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

/* Ids are never reused: past every live and every deleted tenant's
 * (the audit log names tenants by id) */
static const char sql_tenant_insert[] =
    "INSERT INTO tenants (id, name, created) VALUES ("
    "max(coalesce((SELECT max(id) FROM tenants), 0),"
    " coalesce((SELECT max(id) FROM tenants_deleted), 0)) + 1, ?1, ?2)";
static const char sql_tenant_by_name[] =
    "SELECT id FROM tenants WHERE name = ?1";
static const char sql_tenant_by_id[] = "SELECT name FROM tenants WHERE id = ?1";
static const char sql_tenant_deleted_by_name[] =
    "SELECT id FROM tenants_deleted WHERE name = ?1 ORDER BY id DESC LIMIT 1";
static const char sql_tenants[] =
    "SELECT t.id, t.name, t.created, (SELECT count(*) FROM api_keys k "
    "WHERE k.tenant_id = t.id AND k.revoked IS NULL) FROM tenants t "
    "ORDER BY t.id";
/* Key ids, like tenant ids, are never reused (the audit log names keys
 * by id): past every key that exists and every deleted tenant's */
static const char sql_key_insert[] =
    "INSERT INTO api_keys (id, tenant_id, hash, operator, created) VALUES ("
    "max(coalesce((SELECT max(id) FROM api_keys), 0),"
    " coalesce((SELECT max(last_key_id) FROM tenants_deleted), 0)) + 1,"
    " ?1, ?2, ?3, ?4)";
static const char sql_keys[] =
    "SELECT k.id, t.name, k.operator, k.created, k.revoked FROM api_keys k "
    "LEFT JOIN tenants t ON t.id = k.tenant_id WHERE ?1 < 0 "
    "OR (?1 = 0 AND k.tenant_id IS NULL) OR k.tenant_id = ?1 ORDER BY k.id";
static const char sql_key_revoke[] =
    "UPDATE api_keys SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL";
static const char sql_key_exists[] = "SELECT 1 FROM api_keys WHERE id = ?1";
static const char sql_key_by_hash[] =
    "SELECT k.id, k.tenant_id, k.operator, k.revoked, k.hash, t.name "
    "FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id "
    "WHERE k.hash = ?1";
static const char sql_audit_insert[] =
    "INSERT INTO audit (tenant_id, key_id, action, object, status, time) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_audit[] =
    "SELECT a.id, coalesce(t.name, d.name), a.key_id, a.action, a.object, "
    "a.status, a.time FROM audit a LEFT JOIN tenants t ON t.id = a.tenant_id "
    "LEFT JOIN tenants_deleted d ON d.id = a.tenant_id "
    "WHERE (?1 < 0 OR a.tenant_id = ?1) AND a.id < ?3 "
    "ORDER BY a.id DESC LIMIT ?2";
/* Each count uses an index or the table's b-tree count: cheap enough for
 * every scrape of /metrics. */
static const char sql_counts[] =
    "SELECT (SELECT count(*) FROM tenants WHERE ?1 < 0 OR id = ?1), "
    "(SELECT count(*) FROM datasets WHERE ?1 < 0 OR tenant_id = ?1), "
    "(SELECT count(*) FROM models WHERE ?1 < 0 OR tenant_id = ?1)";
static const char sql_job_counts[] =
    "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state "
    "ORDER BY kind, state";

#define BAD_KEY_MSG "invalid or revoked API key"

/* Makes a key, stores its hash; the caller holds the lock and a
 * transaction when it needs one. */
static enum lift_code insert_key(struct lift_store *s, int64_t tenant_id,
                                 bool op, char key[LIFT_KEY_LEN + 1],
                                 int64_t *key_id, struct lift_error *err)
{
    unsigned char raw[KEYS_RAW_BYTES], hash[KEYS_HASH_BYTES];
    char text[LIFT_KEY_LEN + 1];
    keys_generate(text, raw);
    keys_hash(s->secret, raw, hash);
    keys_wipe(raw, sizeof raw);
    sqlite3_stmt *st;
    enum lift_code code = reg_prepare(&s->reg, sql_key_insert, &st, err);
    if (!code) {
        if (op)
            code = reg_bind(&s->reg, st, err, "nbii", (const void *)hash,
                            sizeof hash, (int64_t)1, store_now());
        else
            code = reg_bind(&s->reg, st, err, "ibii", tenant_id,
                            (const void *)hash, sizeof hash, (int64_t)0,
                            store_now());
    }
    if (!code)
        code = reg_run(&s->reg, st, "store an API key", err);
    if (!code) {
        memcpy(key, text, sizeof text);
        if (key_id)
            *key_id = (int64_t)sqlite3_last_insert_rowid(s->reg.db);
    }
    keys_wipe(text, sizeof text);
    return code;
}

enum lift_code lift_store_tenant_create(struct lift_store *s, const char *name,
                                        int64_t *tenant_id,
                                        char key[LIFT_KEY_LEN + 1],
                                        struct lift_error *err)
{
    enum lift_code code = store_check_name(name, "tenant", err);
    if (code)
        return code;
    store_lock(s);
    sqlite3_stmt *st;
    int64_t id = 0;
    if (!(code = reg_begin(&s->reg, err)) &&
        !(code = reg_prepare(&s->reg, sql_tenant_insert, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "ti", name, store_now()))) {
        code = reg_run(&s->reg, st, "create the tenant", err);
        if (code == LIFT_ERR_CONFLICT)
            lift_error_set(err, code, "tenant '%s' already exists", name);
    }
    if (!code) {
        id = (int64_t)sqlite3_last_insert_rowid(s->reg.db);
        code = insert_key(s, id, false, key, NULL, err);
    }
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    store_unlock(s);
    if (!code && tenant_id)
        *tenant_id = id;
    return code;
}

enum lift_code lift_store_tenants_json(struct lift_store *s, char **json,
                                       struct lift_error *err)
{
    *json = NULL;
    json_t *list = json_array();
    if (!list)
        return lift_error_nomem(err, "tenant list");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_tenants, &st, err);
    while (!code &&
           !(code = reg_step(&s->reg, st, &row, "list tenants", err)) && row) {
        json_t *t = json_pack(
            "{s:I,s:s,s:I,s:I}", "id", (json_int_t)reg_int(st, 0), "name",
            reg_text(st, 1), "created", (json_int_t)reg_int(st, 2), "keys",
            (json_int_t)reg_int(st, 3));
        if (!t)
            code = lift_error_nomem(err, "tenant list");
        else if (!(code = store_quota_describe(s, reg_int(st, 0), t, err)) &&
                 json_array_append_new(list, t))
            code = lift_error_nomem(err, "tenant list");
        else if (code)
            json_decref(t);
    }
    store_unlock(s);
    if (code) {
        json_decref(list);
        return code;
    }
    return store_dump(list, json, err);
}

/* The caller holds the lock. */
static enum lift_code tenant_exists(struct lift_store *s, int64_t tenant_id,
                                    struct lift_error *err)
{
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_tenant_by_id, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "i", tenant_id)))
        code = reg_step(&s->reg, st, &row, "look up a tenant", err);
    if (!code && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND, "no tenant with id %lld",
                              (long long)tenant_id);
    return code;
}

enum lift_code lift_store_tenant_exists(struct lift_store *s, int64_t tenant_id,
                                        bool *exists, struct lift_error *err)
{
    struct lift_error e;
    store_lock(s);
    enum lift_code code = tenant_exists(s, tenant_id, &e);
    store_unlock(s);
    *exists = code == LIFT_OK;
    if (code == LIFT_ERR_NOT_FOUND)
        return LIFT_OK;
    if (code && err)
        *err = e;
    return code;
}

enum lift_code lift_store_tenant_id(struct lift_store *s, const char *name,
                                    int64_t *tenant_id, struct lift_error *err)
{
    enum lift_code code = store_check_name(name, "tenant", err);
    if (code)
        return code;
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    if (!(code = reg_prepare(&s->reg, sql_tenant_by_name, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "t", name)))
        code = reg_step(&s->reg, st, &row, "look up a tenant", err);
    if (!code && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND, "no tenant '%s'", name);
    if (!code)
        *tenant_id = reg_int(st, 0);
    store_unlock(s);
    return code;
}

enum lift_code lift_store_tenant_lookup(struct lift_store *s, const char *name,
                                        int64_t *tenant_id, bool *deleted,
                                        struct lift_error *err)
{
    enum lift_code code = store_check_name(name, "tenant", err);
    if (code)
        return code;
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false, gone = false;
    if (!(code = reg_prepare(&s->reg, sql_tenant_by_name, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "t", name)))
        code = reg_step(&s->reg, st, &row, "look up a tenant", err);
    if (!code && !row &&
        !(code = reg_prepare(&s->reg, sql_tenant_deleted_by_name, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "t", name)) &&
        !(code = reg_step(&s->reg, st, &row, "look up a tenant", err)))
        gone = row;
    if (!code && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "no tenant '%s', now or deleted", name);
    if (!code) {
        *tenant_id = reg_int(st, 0);
        if (deleted)
            *deleted = gone;
    }
    store_unlock(s);
    return code;
}

enum lift_code lift_store_key_create(struct lift_store *s, int64_t tenant_id,
                                     bool op, char key[LIFT_KEY_LEN + 1],
                                     int64_t *key_id, struct lift_error *err)
{
    if (op && tenant_id != 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "an operator key belongs to no tenant "
                              "(tenant id %lld given)",
                              (long long)tenant_id);
    if (!op && tenant_id <= 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "a tenant key needs a tenant id, not %lld",
                              (long long)tenant_id);
    store_lock(s);
    enum lift_code code = op ? LIFT_OK : tenant_exists(s, tenant_id, err);
    if (!code)
        code = insert_key(s, tenant_id, op, key, key_id, err);
    store_unlock(s);
    return code;
}

enum lift_code lift_store_keys_json(struct lift_store *s, int64_t tenant_id,
                                    char **json, struct lift_error *err)
{
    *json = NULL;
    json_t *list = json_array();
    if (!list)
        return lift_error_nomem(err, "key list");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_keys, &st, err);
    if (!code)
        code = reg_bind(&s->reg, st, err, "i", tenant_id);
    while (!code && !(code = reg_step(&s->reg, st, &row, "list keys", err)) &&
           row) {
        json_t *k = json_pack(
            "{s:I,s:o,s:b,s:I,s:o}", "id", (json_int_t)reg_int(st, 0), "tenant",
            store_json_text_or_null(st, 1), "operator", reg_int(st, 2) != 0,
            "created", (json_int_t)reg_int(st, 3), "revoked",
            store_json_int_or_null(st, 4));
        if (!k || json_array_append_new(list, k))
            code = lift_error_nomem(err, "key list");
    }
    store_unlock(s);
    if (code) {
        json_decref(list);
        return code;
    }
    return store_dump(list, json, err);
}

enum lift_code lift_store_key_revoke(struct lift_store *s, int64_t key_id,
                                     struct lift_error *err)
{
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_key_revoke, &st, err);
    if (!code &&
        !(code = reg_bind(&s->reg, st, err, "ii", key_id, store_now())))
        code = reg_run(&s->reg, st, "revoke a key", err);
    if (!code)
        store_auth_forget(s);
    /* no row changed: revoked already (fine) or no such key */
    if (!code && sqlite3_changes(s->reg.db) == 0 &&
        !(code = reg_prepare(&s->reg, sql_key_exists, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "i", key_id)) &&
        !(code = reg_step(&s->reg, st, &row, "look up a key", err)) && !row)
        code = lift_error_set(err, LIFT_ERR_NOT_FOUND, "no key with id %lld",
                              (long long)key_id);
    store_unlock(s);
    return code;
}

void store_auth_forget(struct lift_store *s)
{
    pthread_mutex_lock(&s->auth_mu);
    memset(s->auth, 0, sizeof s->auth);
    s->auth_epoch++;
    pthread_mutex_unlock(&s->auth_mu);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec;
}

/* The cached principal of a hash, if fresh. The caller holds auth_mu. */
static bool auth_cached(struct lift_store *s, const unsigned char *hash,
                        int64_t now, struct lift_principal *out)
{
    struct auth_entry *e = &s->auth[hash[0]];
    if (e->expires <= now || !keys_hash_equal(e->hash, hash))
        return false;
    *out = e->who;
    return true;
}

static void auth_remember(struct lift_store *s, const unsigned char *hash,
                          int64_t now, const struct lift_principal *who)
{
    struct auth_entry *e = &s->auth[hash[0]];
    memcpy(e->hash, hash, KEYS_HASH_BYTES);
    e->who = *who;
    e->expires = now + AUTH_TTL_NS;
}

enum lift_code lift_store_authenticate(struct lift_store *s, const char *key,
                                       size_t len, struct lift_principal *out,
                                       struct lift_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char raw[KEYS_RAW_BYTES], hash[KEYS_HASH_BYTES];
    if (!keys_parse(key, len, raw)) {
        keys_wipe(raw, sizeof raw);
        return lift_error_set(err, LIFT_ERR_UNAUTHORIZED, BAD_KEY_MSG);
    }
    keys_hash(s->secret, raw, hash);
    keys_wipe(raw, sizeof raw);

    int64_t now = monotonic_ns();
    pthread_mutex_lock(&s->auth_mu);
    bool hit = auth_cached(s, hash, now, out);
    uint64_t epoch = s->auth_epoch;
    pthread_mutex_unlock(&s->auth_mu);
    if (hit)
        return LIFT_OK;
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_key_by_hash, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "b", (const void *)hash,
                                   sizeof hash)))
        code = reg_step(&s->reg, st, &row, "look up a key", err);
    if (!code) {
        const void *stored = row ? sqlite3_column_blob(st, 4) : NULL;
        if (!row || !reg_null(st, 3) || !stored ||
            sqlite3_column_bytes(st, 4) != KEYS_HASH_BYTES ||
            !keys_hash_equal(stored, hash)) {
            code = lift_error_set(err, LIFT_ERR_UNAUTHORIZED, BAD_KEY_MSG);
        } else {
            bool op = reg_int(st, 2) != 0;
            const char *name = reg_text(st, 5);
            out->key_id = reg_int(st, 0);
            out->tenant_id = op ? 0 : reg_int(st, 1);
            if (name && !op)
                snprintf(out->tenant, sizeof out->tenant, "%s", name);
            /* `operator` is a C++ keyword to clang-format */
            // clang-format off
            out->operator = op;
            // clang-format on
            pthread_mutex_lock(&s->auth_mu);
            if (s->auth_epoch == epoch)
                auth_remember(s, hash, now, out);
            pthread_mutex_unlock(&s->auth_mu);
        }
    }
    store_unlock(s);
    return code;
}

enum lift_code lift_store_audit(struct lift_store *s, int64_t tenant,
                                int64_t key_id, const char *action,
                                const char *object, int status,
                                struct lift_error *err)
{
    store_lock(s);
    sqlite3_stmt *st;
    enum lift_code code = reg_prepare(&s->reg, sql_audit_insert, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "iittii", tenant, key_id,
                                   action ? action : "", object ? object : "",
                                   (int64_t)status, store_now())))
        code = reg_run(&s->reg, st, "write an audit entry", err);
    store_unlock(s);
    return code;
}

enum lift_code lift_store_audit_json(struct lift_store *s, int64_t tenant,
                                     size_t limit, char **json,
                                     struct lift_error *err)
{
    return lift_store_audit_page(s, tenant, 0, limit, json, err);
}

enum lift_code lift_store_audit_page(struct lift_store *s, int64_t tenant,
                                     int64_t before, size_t limit, char **json,
                                     struct lift_error *err)
{
    *json = NULL;
    json_t *list = json_array();
    if (!list)
        return lift_error_nomem(err, "audit list");
    int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    if (before <= 0)
        before = INT64_MAX;
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_audit, &st, err);
    if (!code)
        code = reg_bind(&s->reg, st, err, "iii", tenant, lim, before);
    while (!code &&
           !(code = reg_step(&s->reg, st, &row, "read the audit log", err)) &&
           row) {
        json_t *a = json_pack(
            "{s:I,s:o,s:I,s:s,s:s,s:I,s:I}", "id", (json_int_t)reg_int(st, 0),
            "tenant", store_json_text_or_null(st, 1), "key",
            (json_int_t)reg_int(st, 2), "action", reg_text(st, 3), "object",
            reg_text(st, 4), "status", (json_int_t)reg_int(st, 5), "time",
            (json_int_t)reg_int(st, 6));
        if (!a || json_array_append_new(list, a))
            code = lift_error_nomem(err, "audit list");
    }
    store_unlock(s);
    if (code) {
        json_decref(list);
        return code;
    }
    return store_dump(list, json, err);
}

enum lift_code lift_store_counts(struct lift_store *s, int64_t tenant,
                                 struct lift_store_counts *out,
                                 struct lift_error *err)
{
    memset(out, 0, sizeof *out);
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_counts, &st, err);
    if (!code && !(code = reg_bind(&s->reg, st, err, "i", tenant)))
        code = reg_step(&s->reg, st, &row, "count objects", err);
    if (!code && row) {
        out->tenants = reg_int(st, 0);
        out->datasets = reg_int(st, 1);
        out->models = reg_int(st, 2);
    }
    store_unlock(s);
    return code;
}

enum lift_code lift_store_job_counts_json(struct lift_store *s, char **json,
                                          struct lift_error *err)
{
    *json = NULL;
    json_t *list = json_array();
    if (!list)
        return lift_error_nomem(err, "job counts");
    store_lock(s);
    sqlite3_stmt *st;
    bool row = false;
    enum lift_code code = reg_prepare(&s->reg, sql_job_counts, &st, err);
    while (!code && !(code = reg_step(&s->reg, st, &row, "count jobs", err)) &&
           row) {
        json_t *c =
            json_pack("{s:s,s:s,s:I}", "kind", reg_text(st, 0), "state",
                      reg_text(st, 1), "count", (json_int_t)reg_int(st, 2));
        if (!c || json_array_append_new(list, c))
            code = lift_error_nomem(err, "job counts");
    }
    store_unlock(s);
    if (code) {
        json_decref(list);
        return code;
    }
    return store_dump(list, json, err);
}
