/*
 * store/store_int.h - what the files of src/store share: the struct
 * behind struct lift_store and small helpers.
 *
 * Locking: every public call takes s->mu for its whole registry work
 * (store_lock / store_unlock), so the one SQLite connection is used by
 * one thread at a time. The slow part of adopting a blob, fsyncing its
 * content, runs before the lock is taken; the rename into blobs/, the
 * folder fsync and the row that points to the blob run under it, so no
 * other call of this process ever sees a blob without its row.
 *
 * Across processes, DIR/lock carries a flock: shared while a store is
 * open, exclusive only during the clean-up on open. A process that gets
 * it exclusively is the only one using the dir, so temp files, blobs
 * without rows and jobs left queued or running are leftovers of a dead
 * process and safe to clean; otherwise the clean-up is skipped, as they
 * may belong to a live server.
 */
#ifndef LIFT_STORE_INT_H
#define LIFT_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <lift/store.h>

#include "store/blob.h"
#include "store/keys.h"
#include "store/registry.h"

#define STORE_DIR_MAX (BLOB_PATH_MAX - 64)
#define STORE_INTERRUPTED "interrupted: the server stopped"

/* Authentication cache: an SQLite read costs ~11 us (its file locks),
 * on every request, under the store's mutex; a hit costs the parse and
 * the hash (~1.6 us). Direct-mapped by the first byte of the keyed hash
 * (uniform: no client can aim at a slot). Entries live AUTH_TTL_NS, so
 * a key revoked by another process stops working within that time; a
 * revocation by this process empties the cache at once. Unknown keys are
 * never cached. The cache has its own mutex, auth_mu, so a hit never
 * waits for s->mu, which a write holds through its commit's fsync (the
 * scoring routes would otherwise stall behind every promotion); a miss
 * caches its answer only when no revocation emptied the cache
 * (auth_epoch) since it began. Lock order: s->mu, then auth_mu. */
#define AUTH_SLOTS 256
#define AUTH_TTL_NS 1000000000LL

struct auth_entry {
    unsigned char hash[KEYS_HASH_BYTES];
    struct lift_principal who;
    int64_t expires; /* CLOCK_MONOTONIC ns; 0: empty */
};

struct lift_store {
    pthread_mutex_t mu;
    struct registry reg;
    char dir[STORE_DIR_MAX]; /* absolute */
    unsigned char secret[KEYS_SECRET_BYTES];
    int lock_fd;
    pthread_mutex_t auth_mu;
    uint64_t auth_epoch; /* bumped when the cache is emptied */
    struct auth_entry auth[AUTH_SLOTS];
    struct lift_quota quota_defaults; /* under mu */
};

/* Empties the authentication cache (a key was revoked, a tenant
 * deleted): the next request of every key reads the registry. */
void store_auth_forget(struct lift_store *s);

void store_lock(struct lift_store *s);
/* Resets every statement (ending reads) and releases the mutex. */
void store_unlock(struct lift_store *s);

int64_t store_now(void);

/* INVALID unless name passes lift_store_name_ok; `what` is the kind of
 * object ("dataset"). */
enum lift_code store_check_name(const char *name, const char *what,
                                struct lift_error *err);
/* INVALID unless text is NULL or one JSON value (duplicate keys
 * rejected); `what` names it in the message. */
enum lift_code store_check_json(const char *text, const char *what,
                                struct lift_error *err);
/* The parsed value of a stored JSON text (json_null() for NULL); NULL
 * with CORRUPT when the stored text does not parse. */
json_t *store_parse_json(const char *text, const char *what,
                         struct lift_error *err);
/* Dumps doc (compact) to *out and releases doc; NOMEM when it fails. */
enum lift_code store_dump(json_t *doc, char **out, struct lift_error *err);
/* A JSON integer, or null when the column is NULL. */
json_t *store_json_int_or_null(sqlite3_stmt *st, int col);
/* A JSON string, or null when the column is NULL. */
json_t *store_json_text_or_null(sqlite3_stmt *st, int col);

/* Moves job id to state (NULL keeps it) and records what is given
 * (NULL keeps the stored value); CONFLICT when the job has finished,
 * NOT_FOUND when there is none. The caller holds the lock and a
 * transaction, so the move can commit with what the job made. */
enum lift_code store_job_set(struct lift_store *s, const char *id,
                             const char *state, const char *progress_json,
                             const char *error_msg, const char *result_json,
                             struct lift_error *err);

/* Removes tmp_path when it is a temp file of this data dir (directly in
 * DIR/tmp); leaves any other path alone. */
void store_discard_tmp(struct lift_store *s, const char *tmp_path);
/* Removes every file in DIR/tmp (the caller knows no upload is live). */
void store_clean_tmp(struct lift_store *s);
/* Removes blobs no row points to; n_removed counts them. Under the
 * mutex, and only when no other process uses the dir. */
enum lift_code store_clean_orphans(struct lift_store *s, size_t *n_removed,
                                   struct lift_error *err);
/* Tries to take DIR/lock exclusively (no other process has the dir
 * open): true when it did, and the caller must store_exclusive_end. On
 * false the lock is shared again (flock drops a lock it fails to
 * convert, so it is taken back, waiting if need be). */
bool store_exclusive_begin(struct lift_store *s);
/* Back to a shared lock. */
void store_exclusive_end(struct lift_store *s);

/* What an insert or update being checked adds (store_quota_check). */
struct quota_need {
    int64_t bytes;    /* bytes of a blob just added, 0 when none */
    bool room;        /* storage must have room left (a file to come) */
    bool dataset;     /* a dataset was just inserted */
    bool model;       /* a model was just created */
    bool job;         /* a job was just queued */
    const char *what; /* for the message: "the upload", "the model file" */
};
/* Checks the tenant's effective limits against its usage, which already
 * counts what `need` describes: QUOTA for storage, datasets and models,
 * RATE_LIMITED for jobs, with a message naming the limit and the usage.
 * The caller holds the lock and the transaction that added the object,
 * and rolls it back on failure. */
enum lift_code store_quota_check(struct lift_store *s, int64_t tenant,
                                 const struct quota_need *need,
                                 struct lift_error *err);
/* Adds "quota" (the override: a limit, null for unlimited, absent for
 * the default) and "usage" to a tenant's object. The caller holds the
 * lock. */
enum lift_code store_quota_describe(struct lift_store *s, int64_t tenant,
                                    json_t *obj, struct lift_error *err);

#endif
