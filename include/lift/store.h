/*
 * lift/store.h - the data dir of `lift serve`: a registry (SQLite, WAL)
 * of tenants, API keys, datasets, models and their versions, jobs and an
 * audit log, with blob files (uploaded data, model files) beside it.
 *
 * Layout of DIR (created 0700 by whichever command opens it first):
 *   registry.db (+ -wal, -shm)   the registry; schema versioned with
 *                                PRAGMA user_version, migrated forward
 *   secret                       32 random bytes (0600): the key of the
 *                                keyed BLAKE2b hashes of API keys
 *   blobs/                       datasets, model files and job results
 *                                (bulk scoring), immutable
 *   tmp/                         uploads in progress (cleaned on open)
 *   lock                         flock: shared while a process has the
 *                                dir open, exclusive during the clean-up
 *                                on open
 *
 * Durability: a blob is written to tmp/, fsynced, renamed into blobs/
 * and the folder fsynced before the row that points to it commits; a
 * crash leaves at most an orphaned temp file or an unreferenced blob,
 * both removed by the next open (and by lift_store_check with repair).
 * The clean-up runs only when no other process has the dir open, so
 * `lift admin` beside a running server leaves its uploads and jobs alone.
 *
 * API keys are "lift_" + 43 characters of base64url (32 random bytes);
 * only their keyed hash is stored, so a stolen registry reveals none.
 *
 * Thread-safety: one struct lift_store serves every thread of a process
 * (calls are serialised on an internal mutex and are short). Several
 * processes may open the same DIR; SQLite's locking keeps them
 * consistent.
 *
 * Tenancy: every call that names a dataset, model or job takes the
 * caller's tenant id and sees only that tenant's objects; another
 * tenant's object is LIFT_ERR_NOT_FOUND, exactly as a missing one.
 * Names: 1..64 characters of [A-Za-z0-9._-], not starting with '.'.
 *
 * Lists and descriptions come back as JSON text (caller frees with
 * free()), the form the CLI and the server print.
 */
#ifndef LIFT_STORE_H
#define LIFT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_store;

#define LIFT_KEY_LEN 48 /* "lift_" + 43 base64url characters */
#define LIFT_NAME_MAX 64

/* Opens (creating when absent) the data dir: migrates the schema, makes
 * the secret, removes orphaned temp files and unreferenced blobs, and
 * marks jobs left queued or running, and versions left training, by a
 * previous process as failed ("interrupted: the server stopped") - the
 * clean-up only when no other process has the dir open. LIFT_ERR_IO for
 * a dir that cannot be created or opened, LIFT_ERR_CORRUPT for a registry
 * that fails its integrity check (PRAGMA quick_check) or a secret of the
 * wrong size, LIFT_ERR_UNSUPPORTED for a schema newer than this lift.
 * Any call may also fail with LIFT_ERR_UNAVAILABLE when another process
 * holds the registry's write lock for more than 5 s, LIFT_ERR_IO or
 * LIFT_ERR_CORRUPT for a failing disk or file, LIFT_ERR_NOMEM. */
enum lift_code lift_store_open(const char *dir, struct lift_store **out,
                               struct lift_error *err);
void lift_store_close(struct lift_store *s);
const char *lift_store_dir(const struct lift_store *s);

/* True when `name` is a valid object name (see above). */
bool lift_store_name_ok(const char *name);

/* ---- tenants and keys --------------------------------------------------- */

struct lift_principal {
    int64_t tenant_id; /* 0 for an operator key */
    int64_t key_id;
    bool operator;
    char tenant[LIFT_NAME_MAX + 1]; /* "" for an operator key */
};

/* Creates a tenant and its first key (written to key, NUL-terminated,
 * shown once). LIFT_ERR_CONFLICT when the name exists. */
enum lift_code lift_store_tenant_create(struct lift_store *s, const char *name,
                                        int64_t *tenant_id,
                                        char key[LIFT_KEY_LEN + 1],
                                        struct lift_error *err);
/* [{"id","name","created","keys","quota":{..},"usage":{..}}]: "quota"
 * holds the tenant's overrides ("storage_bytes", "datasets", "models",
 * "jobs", "rps", "burst": a limit, or null for unlimited; a field absent
 * uses the default), "usage" its "storage_bytes", "datasets", "models"
 * and "jobs" (see lift_store_quota_get). */
enum lift_code lift_store_tenants_json(struct lift_store *s, char **json,
                                       struct lift_error *err);
/* Tenant by name; LIFT_ERR_NOT_FOUND. */
enum lift_code lift_store_tenant_id(struct lift_store *s, const char *name,
                                    int64_t *tenant_id, struct lift_error *err);

/* Tenant by name, a deleted one too (lift_store_tenant_delete): the
 * tenant of that name when one exists, else the one last deleted under
 * it (*deleted true; deleted may be NULL). For reading the audit entries
 * of a deleted tenant. LIFT_ERR_NOT_FOUND when no tenant ever had the
 * name, LIFT_ERR_INVALID for a bad name. */
enum lift_code lift_store_tenant_lookup(struct lift_store *s, const char *name,
                                        int64_t *tenant_id, bool *deleted,
                                        struct lift_error *err);

/* What lift_store_tenant_delete removed. */
struct lift_tenant_deletion {
    int64_t tenant_id;
    int64_t keys; /* API keys, revoked ones included */
    int64_t datasets;
    int64_t models;
    int64_t versions; /* of every state */
    int64_t jobs;     /* of every state; running ones included */
    int64_t results;  /* job result files */
    int64_t files;    /* blob files: datasets, model files, job results */
    int64_t bytes;    /* their recorded size: the storage freed */
};

/* Deletes tenant `name` and everything it owns, for good. In one
 * transaction: the tenant's row and (foreign keys ON DELETE CASCADE) its
 * API keys, datasets, models with every version, jobs of every state
 * with their result records, and its quota override; a record of the
 * deleted tenant (id, name, times, its last key id) is kept, so that its
 * audit entries, which are kept with its id, still name it, and so that
 * no tenant or key made later takes one of its ids. After the commit the
 * blob files (datasets, model files, job results) are removed, and the
 * authentication cache is emptied: its keys fail at once in this
 * process, within a second in another one on the same dir. A crash
 * between the commit and the removal leaves unreferenced blobs, which
 * the next lift_store_open that has the dir to itself removes (and
 * lift_store_check reports, and removes with repair). A job of the
 * tenant still running in some process finds its rows gone
 * (LIFT_ERR_NOT_FOUND) at its next write; a server cancels its own
 * first. Writes no audit entry: the caller records the action. out (may
 * be NULL) says what went. LIFT_ERR_INVALID for a bad name,
 * LIFT_ERR_NOT_FOUND for an unknown tenant (a deleted one included). */
enum lift_code lift_store_tenant_delete(struct lift_store *s, const char *name,
                                        struct lift_tenant_deletion *out,
                                        struct lift_error *err);

/* How many tenants were ever deleted, by any process (a cheap count of
 * the deleted tenants' records): a long-running process polls it, and
 * when it moves, asks lift_store_tenant_exists of the tenants it holds
 * in memory, to drop what a deletion elsewhere (`lift admin tenant
 * delete` beside a running server) left behind. */
enum lift_code lift_store_tenant_deletions(struct lift_store *s, int64_t *n,
                                           struct lift_error *err);
/* *exists: whether tenant tenant_id exists now (false once deleted). */
enum lift_code lift_store_tenant_exists(struct lift_store *s, int64_t tenant_id,
                                        bool *exists, struct lift_error *err);

/* A new key for tenant_id, or an operator key (tenant_id 0, op true). */
enum lift_code lift_store_key_create(struct lift_store *s, int64_t tenant_id,
                                     bool op, char key[LIFT_KEY_LEN + 1],
                                     int64_t *key_id, struct lift_error *err);
/* [{"id","tenant","operator","created","revoked"}] of one tenant (the
 * operator keys when tenant_id is 0, all keys when < 0); never the
 * secret. "tenant" is the name (null for an operator key), "revoked" the
 * time of revocation or null. Revoking twice is not an error; an unknown
 * key_id is LIFT_ERR_NOT_FOUND. */
enum lift_code lift_store_keys_json(struct lift_store *s, int64_t tenant_id,
                                    char **json, struct lift_error *err);
enum lift_code lift_store_key_revoke(struct lift_store *s, int64_t key_id,
                                     struct lift_error *err);
/* Checks a presented key (constant time in the key's content):
 * LIFT_ERR_UNAUTHORIZED for an unknown, malformed or revoked key. Keys
 * found are cached for a second: a revocation through this store takes
 * effect at once, one by another process within a second. */
enum lift_code lift_store_authenticate(struct lift_store *s, const char *key,
                                       size_t len, struct lift_principal *out,
                                       struct lift_error *err);

/* ---- blobs -------------------------------------------------------------- */

/* A temp file in DIR/tmp for an upload: *fd open for writing, path
 * filled (caller owns both; on abandon, close and unlink). */
enum lift_code lift_store_tmp_create(struct lift_store *s, int *fd, char *path,
                                     size_t cap, struct lift_error *err);

/* ---- datasets ----------------------------------------------------------- */

/* Adopts tmp_path (written and closed by the caller; fsynced here) as the
 * blob of a new dataset. opts_json: the reader options used to parse it;
 * schema_json: its columns and stats. LIFT_ERR_CONFLICT if the name
 * exists for the tenant. On any failure the temp file is removed;
 * LIFT_ERR_INVALID for a bad name, JSON text that does not parse, or a
 * tmp_path not directly in DIR/tmp (then left alone); LIFT_ERR_QUOTA
 * when the tenant's dataset count or storage would pass its quota. */
enum lift_code lift_store_dataset_put(struct lift_store *s, int64_t tenant,
                                      const char *name, const char *tmp_path,
                                      const char *opts_json,
                                      const char *schema_json, int64_t rows,
                                      struct lift_error *err);

struct lift_dataset_info {
    int64_t id;
    int64_t rows, bytes;
    char blob[4096];   /* absolute path of the CSV */
    char *opts_json;   /* free() */
    char *schema_json; /* free() */
};
void lift_dataset_info_release(struct lift_dataset_info *d);

enum lift_code lift_store_dataset_get(struct lift_store *s, int64_t tenant,
                                      const char *name,
                                      struct lift_dataset_info *out,
                                      struct lift_error *err);
/* [{"name","rows","bytes","created"}] */
enum lift_code lift_store_datasets_json(struct lift_store *s, int64_t tenant,
                                        char **json, struct lift_error *err);
/* {"name","rows","bytes","created","options":{...},"schema":{...}} */
enum lift_code lift_store_dataset_json(struct lift_store *s, int64_t tenant,
                                       const char *name, char **json,
                                       struct lift_error *err);
/* Removes the row, then the blob. */
enum lift_code lift_store_dataset_delete(struct lift_store *s, int64_t tenant,
                                         const char *name,
                                         struct lift_error *err);

/* ---- models and versions ------------------------------------------------ */

/* Reserves the next version number of model `name` (creating the model),
 * for a training job that will fill it; state "training". LIFT_ERR_QUOTA
 * when a new model would pass the model quota, or the storage quota has
 * no room left. */
enum lift_code lift_store_version_reserve(struct lift_store *s, int64_t tenant,
                                          const char *name,
                                          const char *params_json,
                                          int64_t *version,
                                          struct lift_error *err);
/* Adopts tmp_path as the file of a reserved version (state "ready") with
 * its info JSON (lift_model_info_json plus metrics). The first ready
 * version of a model is promoted; *promoted says so. LIFT_ERR_NOT_FOUND
 * for an unknown model or version, LIFT_ERR_CONFLICT for a version no
 * longer training (failed, or completed), LIFT_ERR_QUOTA when the file
 * would pass the storage quota; on any failure the temp file is removed,
 * as in lift_store_dataset_put. */
enum lift_code lift_store_version_complete(struct lift_store *s, int64_t tenant,
                                           const char *name, int64_t version,
                                           const char *tmp_path,
                                           const char *info_json,
                                           bool *promoted,
                                           struct lift_error *err);
/* lift_store_version_complete for the job that trained the version: in
 * the same transaction job_id moves to "succeeded" with result_json (a
 * JSON object, or NULL for {}) as its result, to which the store adds
 * "promoted". So a crash leaves both done or neither: never a ready
 * version beside a job that the next open marks failed. Also
 * LIFT_ERR_CONFLICT when the job has finished (nothing changes then),
 * LIFT_ERR_INVALID without a job id or for a result that is not a JSON
 * object. */
enum lift_code lift_store_version_complete_job(
    struct lift_store *s, int64_t tenant, const char *name, int64_t version,
    const char *tmp_path, const char *info_json, const char *job_id,
    const char *result_json, bool *promoted, struct lift_error *err);
/* Marks a reserved version failed (state "failed", message kept).
 * LIFT_ERR_CONFLICT when it is not training. */
enum lift_code lift_store_version_fail(struct lift_store *s, int64_t tenant,
                                       const char *name, int64_t version,
                                       const char *message,
                                       struct lift_error *err);
/* Reserve + complete in one step (an imported .lift file); the quotas
 * of both. */
enum lift_code lift_store_version_import(struct lift_store *s, int64_t tenant,
                                         const char *name, const char *tmp_path,
                                         const char *info_json,
                                         int64_t *version, bool *promoted,
                                         struct lift_error *err);
/* Makes a ready version the serving one. LIFT_ERR_NOT_FOUND, or
 * LIFT_ERR_CONFLICT for a version that is not ready. */
enum lift_code lift_store_model_promote(struct lift_store *s, int64_t tenant,
                                        const char *name, int64_t version,
                                        struct lift_error *err);
/* The serving version and its file (absolute path). LIFT_ERR_NOT_FOUND
 * when the model does not exist or has no ready version. */
enum lift_code lift_store_model_serving(struct lift_store *s, int64_t tenant,
                                        const char *name, int64_t *version,
                                        char *path, size_t cap,
                                        struct lift_error *err);
/* The file of a given ready version. LIFT_ERR_NOT_FOUND, or
 * LIFT_ERR_CONFLICT for a version that is not ready. */
enum lift_code lift_store_version_path(struct lift_store *s, int64_t tenant,
                                       const char *name, int64_t version,
                                       char *path, size_t cap,
                                       struct lift_error *err);
/* [{"name","serving","versions","created"}] */
enum lift_code lift_store_models_json(struct lift_store *s, int64_t tenant,
                                      char **json, struct lift_error *err);
/* {"name","serving","versions":[{"version","state","created","info":{..},
 * "params":{..},"error"}]} */
enum lift_code lift_store_model_json(struct lift_store *s, int64_t tenant,
                                     const char *name, char **json,
                                     struct lift_error *err);
/* Deletes a version (not the serving one while others exist: CONFLICT)
 * or, with version 0, the model and every version; files removed after
 * the rows. */
enum lift_code lift_store_model_delete(struct lift_store *s, int64_t tenant,
                                       const char *name, int64_t version,
                                       struct lift_error *err);

/* ---- jobs --------------------------------------------------------------- */

/* A new job (state "queued"), id: 16 hex characters.
 * LIFT_ERR_RATE_LIMITED when the tenant has its quota of jobs queued or
 * running already. */
enum lift_code lift_store_job_create(struct lift_store *s, int64_t tenant,
                                     const char *kind, const char *params_json,
                                     char id[17], struct lift_error *err);
/* Updates state ("queued", "running", "succeeded", "failed",
 * "cancelled"), progress JSON, error message and result JSON; NULLs
 * leave a field as it is. The first move to "running" sets "started",
 * a move to one of the last three "finished". A job in one of those
 * three is finished for good: any update is LIFT_ERR_CONFLICT (how a
 * worker learns its job was cancelled). LIFT_ERR_NOT_FOUND for an
 * unknown id, LIFT_ERR_INVALID for an unknown state or bad JSON. */
enum lift_code
lift_store_job_update(struct lift_store *s, const char *id, const char *state,
                      const char *progress_json, const char *error_msg,
                      const char *result_json, struct lift_error *err);
/* {"id","kind","state","created","started","finished","progress":{..},
 * "error","result":{..}} of a tenant's job. */
enum lift_code lift_store_job_json(struct lift_store *s, int64_t tenant,
                                   const char *id, char **json,
                                   struct lift_error *err);
/* A page of the tenant's jobs, newest first, as a JSON array of
 * {"id","kind","state","created","started","finished","error"}: at most
 * `limit`, only those in `state` and of `kind` when not NULL, and only
 * those created before the job `before` when not NULL (a page's last id
 * gives the next page). LIFT_ERR_INVALID for an unknown state or a bad
 * kind; LIFT_ERR_NOT_FOUND when `before` names no job of the tenant. */
enum lift_code lift_store_jobs_json(struct lift_store *s, int64_t tenant,
                                    const char *state, const char *kind,
                                    const char *before, size_t limit,
                                    char **json, struct lift_error *err);
/* The state of a job (for cancellation checks). */
enum lift_code lift_store_job_state(struct lift_store *s, int64_t tenant,
                                    const char *id, char state[16],
                                    struct lift_error *err);

/* Adopts tmp_path (written and closed by the caller; fsynced here) as
 * the result file of a tenant's queued or running job and marks the job
 * succeeded with result_json, in one transaction: the row points to the
 * file only once it is durable. LIFT_ERR_NOT_FOUND for an unknown job,
 * LIFT_ERR_CONFLICT for a job that has finished (cancelled meanwhile),
 * LIFT_ERR_INVALID for bad JSON or a tmp_path not in DIR/tmp (left
 * alone), LIFT_ERR_QUOTA when the file would pass the tenant's storage
 * quota. On any other failure the temp file is removed. The file lives
 * as long as the job's row: it goes with the job's tenant. */
enum lift_code lift_store_job_result_put(struct lift_store *s, int64_t tenant,
                                         const char *id, const char *tmp_path,
                                         const char *result_json,
                                         struct lift_error *err);
/* The result file of a tenant's job: its absolute path and size.
 * LIFT_ERR_CONFLICT naming the state for a job still queued or running;
 * LIFT_ERR_NOT_FOUND for an unknown job (or another tenant's) and for a
 * finished job without a result file (training, failed, cancelled). */
enum lift_code lift_store_job_result_get(struct lift_store *s, int64_t tenant,
                                         const char *id, char *path, size_t cap,
                                         int64_t *bytes,
                                         struct lift_error *err);

/* ---- audit -------------------------------------------------------------- */

/* Records one write: who (tenant, 0 for the operator; key), what
 * (action, object), outcome (HTTP status). Never record values or keys. */
enum lift_code lift_store_audit(struct lift_store *s, int64_t tenant,
                                int64_t key_id, const char *action,
                                const char *object, int status,
                                struct lift_error *err);
/* The newest `limit` entries of a tenant (all tenants when < 0), newest
 * first: [{"id","tenant","key","action","object","status","time"}],
 * "tenant" the name (null for the operator). */
enum lift_code lift_store_audit_json(struct lift_store *s, int64_t tenant,
                                     size_t limit, char **json,
                                     struct lift_error *err);
/* One page of lift_store_audit_json: the newest `limit` entries whose id
 * is below `before` (no bound when before <= 0), newest first. Paging:
 * pass the smallest id of a page as the next page's `before`. */
enum lift_code lift_store_audit_page(struct lift_store *s, int64_t tenant,
                                     int64_t before, size_t limit, char **json,
                                     struct lift_error *err);

/* ---- counts ------------------------------------------------------------- */

struct lift_store_counts {
    int64_t tenants, datasets, models;
};
/* How many tenants, datasets and models there are (of one tenant, or all
 * when tenant < 0). Cheap: meant for every scrape of /metrics. */
enum lift_code lift_store_counts(struct lift_store *s, int64_t tenant,
                                 struct lift_store_counts *out,
                                 struct lift_error *err);
/* Jobs by kind and state, every tenant:
 * [{"kind","state","count"}], ordered by kind then state. */
enum lift_code lift_store_job_counts_json(struct lift_store *s, char **json,
                                          struct lift_error *err);

/* ---- quotas ------------------------------------------------------------- */

/*
 * Per-tenant limits. Storage is the bytes of every blob a tenant owns
 * (datasets, model files and job results); datasets and models are
 * counts; jobs
 * counts the tenant's jobs queued or running; rps and burst are the
 * rate and the size of the request token bucket the server keeps (the
 * store only records them). A limit is a number >= 0 (rps and burst
 * >= 1) or LIFT_QUOTA_UNLIMITED.
 *
 * Effective limits: the tenant's override when it has one, else the
 * defaults of this store handle (lift_store_quota_defaults; unlimited
 * until set). A tenant's burst follows its rps: an override of rps
 * without a burst, or defaults without one, use burst = rps.
 *
 * Enforcement is inside the transaction that adds the object, so two
 * concurrent writers (threads or processes) cannot both slip under a
 * limit: lift_store_dataset_put (datasets, storage),
 * lift_store_version_reserve (models when the model is new; storage
 * must have room left), lift_store_version_complete and
 * lift_store_version_import (storage with the file's real size; models
 * for a new model) and lift_store_job_result_put (storage) fail with
 * LIFT_ERR_QUOTA, and lift_store_job_create
 * with LIFT_ERR_RATE_LIMITED (a slot frees when a job finishes). The
 * message names the limit, the usage and the limit's value. Lowering a
 * limit below the usage deletes nothing; it refuses further additions.
 */
#define LIFT_QUOTA_UNLIMITED (-1)
#define LIFT_QUOTA_DEFAULT (-2) /* in an override: use the defaults */
#define LIFT_QUOTA_KEEP (-3)    /* lift_store_quota_set: leave as it is */

struct lift_quota {
    int64_t storage; /* bytes */
    int64_t datasets;
    int64_t models;
    int64_t jobs; /* queued + running */
    int64_t rps;  /* requests per second */
    int64_t burst;
};

struct lift_quota_usage {
    int64_t storage, datasets, models, jobs;
};

/* Sets every field of q to value. */
void lift_quota_fill(struct lift_quota *q, int64_t value);

/* The limits of tenants without an override, for this handle (the
 * server sets its flags here). LIFT_ERR_INVALID for a field that is
 * neither a limit nor LIFT_QUOTA_UNLIMITED (a burst may be
 * LIFT_QUOTA_DEFAULT: = rps). */
enum lift_code lift_store_quota_defaults(struct lift_store *s,
                                         const struct lift_quota *q,
                                         struct lift_error *err);
/* Changes a tenant's override, field by field: a limit,
 * LIFT_QUOTA_UNLIMITED, LIFT_QUOTA_DEFAULT (drop the override of that
 * field) or LIFT_QUOTA_KEEP. Setting rps sets burst too (to q->burst,
 * or to follow rps when that is KEEP or DEFAULT). LIFT_ERR_INVALID for
 * a bad value, LIFT_ERR_NOT_FOUND for an unknown tenant. */
enum lift_code lift_store_quota_set(struct lift_store *s, int64_t tenant,
                                    const struct lift_quota *q,
                                    struct lift_error *err);
/* A tenant's override (fields LIFT_QUOTA_DEFAULT where it has none),
 * its effective limits and its usage; any pointer may be NULL. The
 * usage is a few indexed sums and counts over the tenant's rows.
 * LIFT_ERR_NOT_FOUND for an unknown tenant. */
enum lift_code lift_store_quota_get(struct lift_store *s, int64_t tenant,
                                    struct lift_quota *override,
                                    struct lift_quota *effective,
                                    struct lift_quota_usage *usage,
                                    struct lift_error *err);
/* {"tenant","storage_bytes":{"limit","used"},"datasets":{..},"models":
 * {..},"jobs":{..},"rps":{"limit","burst"}} with the effective limits,
 * null for unlimited: what GET /v1/quota answers. */
enum lift_code lift_store_quota_json(struct lift_store *s, int64_t tenant,
                                     char **json, struct lift_error *err);

/* ---- checks ------------------------------------------------------------- */

/* PRAGMA integrity_check, every ready version's and dataset's blob
 * present with its recorded size, no blob without a row. With repair,
 * unreferenced blobs and temp files are removed - only when no other
 * process has the dir open, and the caller must have no upload of its
 * own in progress. *report: JSON text of what was found (free()), also
 * on LIFT_ERR_CORRUPT: {"ok","integrity","objects","missing",
 * "size_mismatch","orphans","temp"[,"removed"][,"repair"]}.
 * LIFT_ERR_CORRUPT when something is wrong (temp files are not). */
enum lift_code lift_store_check(struct lift_store *s, bool repair,
                                char **report, struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
