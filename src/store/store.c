/*
 * store/store.c - opening and closing a data dir, the clean-up of a dead
 * process's leftovers, names, temp files and the JSON helpers of the
 * store's files.
 *
 * Open: layout (0700 folders), DIR/lock (shared flock), the secret, the
 * registry (checked and migrated), then, when no other process has the
 * dir open, the clean-up: temp files, blobs without rows, and jobs and
 * versions a dead process left unfinished, marked failed with
 * STORE_INTERRUPTED.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

void store_lock(struct lift_store *s)
{
    int rc = pthread_mutex_lock(&s->mu);
    LIFT_ASSERT(rc == 0);
}

void store_unlock(struct lift_store *s)
{
    reg_reset_all(&s->reg);
    int rc = pthread_mutex_unlock(&s->mu);
    LIFT_ASSERT(rc == 0);
}

int64_t store_now(void)
{
    return (int64_t)time(NULL);
}

bool lift_store_name_ok(const char *name)
{
    if (!name || !name[0] || name[0] == '.')
        return false;
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (n >= LIFT_NAME_MAX)
            return false;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

enum lift_code store_check_name(const char *name, const char *what,
                                struct lift_error *err)
{
    if (lift_store_name_ok(name))
        return LIFT_OK;
    if (!name || !name[0])
        return lift_error_set(err, LIFT_ERR_INVALID, "%s name is empty", what);
    /* never echo a long or binary name whole */
    return lift_error_set(err, LIFT_ERR_INVALID,
                          "invalid %s name '%.64s': use 1 to %d characters "
                          "of A-Z a-z 0-9 . _ -, not starting with '.'",
                          what, name, LIFT_NAME_MAX);
}

enum lift_code store_check_json(const char *text, const char *what,
                                struct lift_error *err)
{
    if (!text)
        return LIFT_OK;
    json_error_t jerr;
    json_t *v =
        json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "line %d, column %d: %s in %s", jerr.line,
                              jerr.column, jerr.text, what);
    json_decref(v);
    return LIFT_OK;
}

json_t *store_parse_json(const char *text, const char *what,
                         struct lift_error *err)
{
    if (!text)
        return json_null();
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v)
        lift_error_set(err, LIFT_ERR_CORRUPT,
                       "stored %s is not valid JSON: line %d, column %d: %s",
                       what, jerr.line, jerr.column, jerr.text);
    return v;
}

enum lift_code store_dump(json_t *doc, char **out, struct lift_error *err)
{
    *out = NULL;
    if (!doc)
        return lift_error_nomem(err, "JSON document");
    *out = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(doc);
    if (!*out)
        return lift_error_nomem(err, "JSON text");
    return LIFT_OK;
}

json_t *store_json_int_or_null(sqlite3_stmt *st, int col)
{
    return reg_null(st, col) ? json_null()
                             : json_integer((json_int_t)reg_int(st, col));
}

json_t *store_json_text_or_null(sqlite3_stmt *st, int col)
{
    const char *t = reg_text(st, col);
    return t ? json_string(t) : json_null();
}

bool store_exclusive_begin(struct lift_store *s)
{
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return true;
    while (flock(s->lock_fd, LOCK_SH) != 0 && errno == EINTR)
        ;
    return false;
}

void store_exclusive_end(struct lift_store *s)
{
    while (flock(s->lock_fd, LOCK_SH) != 0 && errno == EINTR)
        ;
}

void store_discard_tmp(struct lift_store *s, const char *tmp_path)
{
    char prefix[BLOB_PATH_MAX];
    int n = snprintf(prefix, sizeof prefix, "%s/tmp/", s->dir);
    if (tmp_path && n > 0 && (size_t)n < sizeof prefix &&
        strncmp(tmp_path, prefix, (size_t)n) == 0 && !strchr(tmp_path + n, '/'))
        blob_remove(s->dir, "tmp", tmp_path + n);
}

void store_clean_tmp(struct lift_store *s)
{
    char **names = NULL;
    size_t n = 0;
    if (blob_list(s->dir, "tmp", &names, &n, NULL) != LIFT_OK)
        return;
    for (size_t i = 0; i < n; i++)
        blob_remove(s->dir, "tmp", names[i]);
    blob_names_free(names, n);
}

static const char sql_blob_used[] =
    "SELECT 1 FROM datasets WHERE blob = ?1 "
    "UNION ALL SELECT 1 FROM versions WHERE blob = ?1 "
    "UNION ALL SELECT 1 FROM jobs WHERE result_blob = ?1";

enum lift_code store_clean_orphans(struct lift_store *s, size_t *n_removed,
                                   struct lift_error *err)
{
    *n_removed = 0;
    char **names = NULL;
    size_t n = 0;
    enum lift_code code = blob_list(s->dir, "blobs", &names, &n, err);
    for (size_t i = 0; !code && i < n; i++) {
        sqlite3_stmt *st;
        bool used = false;
        if (!(code = reg_prepare(&s->reg, sql_blob_used, &st, err)) &&
            !(code = reg_bind(&s->reg, st, err, "t", names[i])))
            code = reg_step(&s->reg, st, &used, "look up a blob", err);
        if (!code && !used) {
            blob_remove(s->dir, "blobs", names[i]);
            (*n_removed)++;
        }
    }
    blob_names_free(names, n);
    return code;
}

static const char sql_interrupt_jobs[] =
    "UPDATE jobs SET state = 'failed', error = ?1, finished = ?2 "
    "WHERE state IN ('queued', 'running')";
static const char sql_interrupt_versions[] =
    "UPDATE versions SET state = 'failed', error = ?1 "
    "WHERE state = 'training'";

/* The leftovers of a dead process, cleaned when no other one has the
 * dir open. */
static enum lift_code clean_leftovers(struct lift_store *s,
                                      struct lift_error *err)
{
    store_clean_tmp(s);
    sqlite3_stmt *st;
    size_t n_orphans = 0;
    enum lift_code code = reg_begin(&s->reg, err);
    if (!code && !(code = reg_prepare(&s->reg, sql_interrupt_jobs, &st, err)) &&
        !(code =
              reg_bind(&s->reg, st, err, "ti", STORE_INTERRUPTED, store_now())))
        code = reg_run(&s->reg, st, "mark interrupted jobs failed", err);
    if (!code &&
        !(code = reg_prepare(&s->reg, sql_interrupt_versions, &st, err)) &&
        !(code = reg_bind(&s->reg, st, err, "t", STORE_INTERRUPTED)))
        code = reg_run(&s->reg, st, "mark interrupted versions failed", err);
    if (!code)
        code = reg_commit(&s->reg, err);
    else
        reg_rollback(&s->reg);
    if (!code)
        code = store_clean_orphans(s, &n_orphans, err);
    reg_reset_all(&s->reg);
    return code;
}

static enum lift_code open_lock(struct lift_store *s, bool *sole,
                                struct lift_error *err)
{
    char path[BLOB_PATH_MAX];
    snprintf(path, sizeof path, "%s/lock", s->dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot open '%s'",
                              path);
    *sole = store_exclusive_begin(s);
    return LIFT_OK;
}

enum lift_code lift_store_open(const char *dir, struct lift_store **out,
                               struct lift_error *err)
{
    *out = NULL;
    if (!dir || !dir[0])
        return lift_error_set(err, LIFT_ERR_INVALID, "data dir is empty");
    enum lift_code code = keys_init(err);
    if (code)
        return code;
    if (strlen(dir) >= STORE_DIR_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "data dir path is longer than %d bytes",
                              STORE_DIR_MAX - 1);
    if ((code = blob_layout(dir, err)))
        return code;
    struct lift_store *s = lift_calloc(1, sizeof *s);
    if (!s)
        return lift_error_nomem(err, "store");
    s->lock_fd = -1;
    lift_quota_fill(&s->quota_defaults, LIFT_QUOTA_UNLIMITED);
    s->quota_defaults.burst = LIFT_QUOTA_DEFAULT;
    char *abs = realpath(dir, NULL);
    if (!abs) {
        code = lift_error_sys(err, LIFT_ERR_IO, errno,
                              "cannot resolve the data dir '%s'", dir);
        lift_free(s);
        return code;
    }
    if (strlen(abs) >= STORE_DIR_MAX) {
        free(abs);
        lift_free(s);
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "data dir path is longer than %d bytes",
                              STORE_DIR_MAX - 1);
    }
    strcpy(s->dir, abs);
    free(abs);
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        lift_free(s);
        return lift_error_set(err, LIFT_ERR_INTERNAL,
                              "cannot create the store's mutex");
    }
    if (pthread_mutex_init(&s->auth_mu, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        lift_free(s);
        return lift_error_set(err, LIFT_ERR_INTERNAL,
                              "cannot create the store's mutex");
    }

    bool sole = false;
    char path[BLOB_PATH_MAX];
    snprintf(path, sizeof path, "%s/registry.db", s->dir);
    /* SQLite would create it 0644; its -wal and -shm take its mode */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
    if (!(code = open_lock(s, &sole, err)) &&
        !(code = keys_load_secret(s->dir, s->secret, err))) {
        if (!(code = reg_open(&s->reg, path, err)) && sole)
            code = clean_leftovers(s, err);
        if (code) {
            char where[STORE_DIR_MAX + 16];
            snprintf(where, sizeof where, "data dir '%s'", s->dir);
            lift_error_prefix(err, where);
        }
    }
    if (sole)
        store_exclusive_end(s);
    if (code) {
        lift_store_close(s);
        return code;
    }
    *out = s;
    return LIFT_OK;
}

void lift_store_close(struct lift_store *s)
{
    if (!s)
        return;
    reg_close(&s->reg);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    keys_wipe(s->secret, sizeof s->secret);
    pthread_mutex_destroy(&s->auth_mu);
    pthread_mutex_destroy(&s->mu);
    lift_free(s);
}

const char *lift_store_dir(const struct lift_store *s)
{
    return s->dir;
}

enum lift_code lift_store_tmp_create(struct lift_store *s, int *fd, char *path,
                                     size_t cap, struct lift_error *err)
{
    return blob_tmp_create(s->dir, fd, path, cap, err);
}
