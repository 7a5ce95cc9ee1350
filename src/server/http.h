/*
 * server/http.h - internals shared by the server's modules: the request
 * being served, responses, the route handlers.
 *
 * A request lives from its headers to its completion callback. The
 * handler reads r->body (JSON routes) or r->upload_path (CSV and model
 * uploads, streamed to a temp file in the store), and answers through
 * http_json / http_error, which set r->status and r->response.
 */
#ifndef LIFT_SERVER_HTTP_H
#define LIFT_SERVER_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include <jansson.h>
#include <lift/lift.h>
#include <lift/server.h>
#include <lift/store.h>
#include <microhttpd.h>
#include <pthread.h>

struct jobs;
struct score_job;
struct listener;
struct mkt_job;
struct snapshots;
struct metrics;
struct route_info;
struct rates;

struct srv {
    struct lift_server_opts opts;
    struct lift_store *store;
    struct listener *listener;
    struct jobs *jobs;
    struct snapshots *snaps;
    struct rates *rates;
    unsigned port;
    struct metrics *metrics;           /* server/metrics.h */
    struct listener *metrics_listener; /* --metrics-listen, or NULL */
    unsigned metrics_port;
    double started;      /* CLOCK_MONOTONIC seconds */
    struct defer *defer; /* slow handlers off the HTTP threads */
    struct sweep *sweep; /* tenants deleted by another process */
};

enum body_kind {
    BODY_NONE = 0,
    BODY_JSON, /* buffered in memory, capped */
    BODY_FILE, /* streamed to a temp file in the store */
};

struct req;
typedef void (*route_fn)(struct req *r);

/* A response header beyond Content-Type (Retry-After...). */
#define HTTP_MAX_HEADERS 4
struct http_header {
    const char *name; /* a string literal */
    char value[64];
};

struct req {
    struct srv *srv;
    struct MHD_Connection *conn;
    const char *method;
    char path[1024];
    /* path parameters */
    char name[LIFT_NAME_MAX + 1];
    char id[64];
    int64_t version;
    route_fn handler;
    enum body_kind body_kind;
    struct lift_principal who;
    const struct route_info *info; /* the matched route, or NULL */
    bool authed;                   /* the key passed: audit its writes */
    bool throttled; /* refused by the request-rate quota: not audited */
    bool finished;  /* counted and audited */
    bool deferred;  /* handed to the defer worker */
    const char *audit_action; /* NULL: the route's own */
    char audit_object[LIFT_NAME_MAX + 32];
    /* body */
    char *body;
    size_t body_len, body_cap;
    int fd;
    char upload_path[4096];
    bool upload_adopted; /* the store took the file */
    size_t received;
    size_t quota_room;    /* upload bytes the storage quota leaves */
    enum lift_code early; /* an error found while receiving */
    char early_msg[LIFT_ERROR_MSG_MAX];
    /* the answer */
    unsigned status;
    char *response; /* malloc'd, NUL-terminated */
    size_t response_len;
    const char *content_type;
    int response_fd; /* file responses (model download), or -1 */
    size_t response_fd_len;
    struct http_header headers[HTTP_MAX_HEADERS];
    unsigned n_headers;
    double start;
};

/* The HTTP status of a library error code (STYLE.md's table). */
unsigned http_status_of(enum lift_code code);
/* {"error":{"code":"...","message":"..."}} */
void http_error(struct req *r, enum lift_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void http_error_from(struct req *r, const struct lift_error *err);
/* Adds a response header (name: a string literal), replacing an
 * earlier value of the same name; past HTTP_MAX_HEADERS it is dropped.
 * A 429 answer without Retry-After gets "Retry-After: 1". */
void http_header(struct req *r, const char *name, const char *value);
/* Answers with doc (stolen) as JSON. */
void http_json(struct req *r, unsigned status, json_t *doc);
/* Answers with a JSON text that is already made (copied). */
void http_json_text(struct req *r, unsigned status, const char *text);

/* The request body parsed as a JSON object (400 with line and column for
 * bad JSON, 415 for another Content-Type, 422 when not an object);
 * NULL after answering. */
json_t *http_body_object(struct req *r);
/* A query parameter, or NULL. */
const char *http_query(struct req *r, const char *key);
/* A whole number in [lo, hi] from a query parameter (*out untouched when
 * absent); false after a 422 naming the parameter and the range. */
bool http_query_int(struct req *r, const char *key, int64_t lo, int64_t hi,
                    int64_t *out);
/* Answers 200 {items: [...], next_key: id or null} from json, a JSON
 * array of objects with an "id" fetched with limit + 1 rows: the extra
 * row, when there, is dropped and tells that the last kept id starts the
 * next page. Takes json (freed). */
void http_json_page(struct req *r, char *json, size_t limit, const char *items,
                    const char *next_key);
/* Every value of a repeated query parameter (at most cap). */
size_t http_query_all(struct req *r, const char *key, const char **out,
                      size_t cap);
/* Names the action and object of this write for its audit entry, which
 * server.c writes once, when the request is answered (also when it
 * fails). Without a call the route's own action and object (its path
 * parameters, see route_info.c) are recorded. action must be a string
 * constant; object never a record value or a key. */
void http_audit(struct req *r, const char *action, const char *object);

/* Scores a predict request body (JSON text) with model m: the whole
 * answer of POST /v1/models/{name}:predict, without HTTP. *response is a
 * malloc'd JSON text; *n_scored (when not NULL) the records scored. Errors:
 * LIFT_ERR_PARSE (bad JSON, with line and column), LIFT_ERR_UNPROCESSABLE
 * (shape, types, values), LIFT_ERR_LIMIT (more than max_records). */
enum lift_code predict_body(const struct lift_model *m, const char *name,
                            int64_t version, const char *body, size_t len,
                            size_t max_records, char **response,
                            size_t *response_len, size_t *n_scored,
                            struct lift_error *err);
/* predict_body with jansson reading every body (no fast path): the
 * obvious path the fuzz target checks the fast one against. */
enum lift_code predict_body_jansson(const struct lift_model *m,
                                    const char *name, int64_t version,
                                    const char *body, size_t len,
                                    size_t max_records, char **response,
                                    size_t *response_len,
                                    struct lift_error *err);

/* A parsed POST /v1/models body. */
struct train_request {
    const char *name, *dataset, *target; /* into the document */
    struct lift_train_opts *opts;        /* owned */
    unsigned cv_folds;
    char *params_json; /* the canonical request, owned */
};
/* Parses and checks a training request (shape, names, every option
 * through lift_train_opts_set): LIFT_ERR_UNPROCESSABLE naming the field.
 * body must outlive req's string fields. */
enum lift_code train_request_parse(json_t *body, struct train_request *req,
                                   struct lift_error *err);
void train_request_release(struct train_request *req);

/* route handlers */
void route_health(struct req *r);
void route_ready(struct req *r);
void route_dataset_create(struct req *r);
void route_dataset_list(struct req *r);
void route_dataset_get(struct req *r);
void route_dataset_delete(struct req *r);
void route_model_create(struct req *r);
void route_model_list(struct req *r);
void route_model_get(struct req *r);
void route_model_delete(struct req *r);
void route_version_delete(struct req *r);
void route_version_promote(struct req *r);
void route_version_import(struct req *r);
void route_version_file(struct req *r);
void route_predict(struct req *r);
void route_evaluate(struct req *r);
void route_job_get(struct req *r);
void route_job_list(struct req *r);
void route_job_cancel(struct req *r);
void route_campaign_target(struct req *r);
void route_uplift(struct req *r);
void route_segments(struct req *r);
void route_rfm(struct req *r);
void route_model_report(struct req *r);
void route_quota(struct req *r);

/* ---- quotas (quota.c) --------------------------------------------------- */

/* The per-tenant request token buckets (memory only). */
enum lift_code rates_new(struct rates **out, struct lift_error *err);
void rates_free(struct rates *rt);
/* Drops a deleted tenant's bucket, if it has one. */
void rates_forget_tenant(struct rates *rt, int64_t tenant);
/* The tenants that have a bucket (every tenant this process has had a
 * request of since it started, less the forgotten), malloc'd, *n of
 * them; NULL with *n 0 when there are none, NULL with *n > 0 when out
 * of memory. */
int64_t *rates_tenants(struct rates *rt, size_t *n);
/* Right after authentication, for every route: takes a token from the
 * tenant's bucket (429 with Retry-After when empty), and for an upload
 * checks its declared Content-Length and the dataset count against the
 * tenant's quotas and sets r->quota_room (403 quota_exceeded). false
 * after answering. */
bool quota_admit(struct req *r);
/* Before a job reserves anything: 429 when the tenant has its quota of
 * jobs queued or running (the store checks again, atomically, when the
 * job is created). false after answering. */
bool quota_job_room(struct req *r);
/* Before a bulk scoring job of `rows` rows is queued: 403 quota_exceeded
 * when the tenant's storage quota cannot hold even the smallest result
 * file of that many rows (a row number, a comma, one digit and a newline
 * a row). The real size is checked when the result is adopted; this only
 * spares a job that cannot succeed. false after answering. */
bool quota_result_room(struct req *r, int64_t rows);
/* GET and PUT /v1/tenants/{name}/quota (operator). */
void route_tenant_quota_get(struct req *r);
void route_tenant_quota_set(struct req *r);

/* ---- snapshots ---------------------------------------------------------- */

/* An immutable, reference-counted loaded model version. */
struct snapshot {
    atomic_int refs;
    int64_t tenant;
    char name[LIFT_NAME_MAX + 1];
    int64_t version;
    struct lift_model *model;
};

enum lift_code snapshots_new(struct snapshots **out, struct lift_error *err);
void snapshots_free(struct snapshots *s);
/* The serving snapshot of (tenant, name), loading it on first use; the
 * caller releases it. */
enum lift_code snapshots_acquire(struct srv *srv, int64_t tenant,
                                 const char *name, struct snapshot **out,
                                 struct lift_error *err);
void snapshot_release(struct snapshot *s);
/* How many model versions the cache holds loaded. */
size_t snapshots_loaded(struct snapshots *s);
/* Forgets the cached snapshot of (tenant, name): the next acquire loads
 * the serving version again. In-flight holders keep theirs. */
void snapshots_invalidate(struct snapshots *s, int64_t tenant,
                          const char *name);
/* Forgets every cached snapshot of tenant (deleted); returns how many
 * it held. In-flight holders keep theirs. */
size_t snapshots_forget_tenant(struct snapshots *s, int64_t tenant);
/* After a promotion or rollback has committed: loads the serving version
 * of (tenant, name) while requests go on with the cached one, then swaps
 * it in; when that fails, forgets the entry as snapshots_invalidate. */
void snapshots_refresh(struct srv *srv, int64_t tenant, const char *name);

/* ---- deferred handlers (defer.c) ---------------------------------------- */

struct defer;
typedef void (*defer_fn)(void *arg);

enum lift_code defer_start(struct defer **out, struct lift_error *err);
/* Queues fn(arg) for the worker; false when stopping or out of memory
 * (the caller then runs it itself). Thread-safe. */
bool defer_submit(struct defer *d, defer_fn fn, void *arg);
/* Runs what is queued, stops the worker; later submits are refused. */
void defer_stop(struct defer *d);
/* defer_stop, then frees d. */
void defer_free(struct defer *d);

/* ---- tenants deleted by another process (sweep.c) ----------------------- */

struct sweep;

/* Starts the thread that forgets, within a second or so, the models,
 * rate bucket and jobs of a tenant that `lift admin tenant delete`
 * removed beside this server (srv's store, rates, snaps and jobs must
 * exist). */
enum lift_code sweep_start(struct srv *srv, struct sweep **out,
                           struct lift_error *err);
/* Stops and frees it (before the jobs, snapshots and rates go). NULL is
 * a no-op. */
void sweep_stop(struct sweep *sw);

/* ---- jobs --------------------------------------------------------------- */

enum lift_code jobs_start(struct srv *srv, struct jobs **out,
                          struct lift_error *err);
/* Cancels running jobs at their next safe point and joins the workers. */
void jobs_stop(struct jobs *j);

struct train_job {
    char id[17];
    int64_t tenant;
    char model[LIFT_NAME_MAX + 1];
    int64_t version;
    char dataset[LIFT_NAME_MAX + 1];
    struct lift_train_opts *opts; /* owned by the job */
    unsigned cv_folds;
    char *params_json; /* the request's options, for the version record */
    /* set: a bulk scoring job (server/bulk.h), which owns it */
    struct score_job *score;
    /* set: an uplift, segments or RFM job (server/marketing.h), owned */
    struct mkt_job *mkt;
};

/* Queues a training job (takes ownership of job). */
enum lift_code jobs_submit(struct jobs *j, struct train_job *job,
                           struct lift_error *err);
/* Asks a queued or running job to stop: LIFT_ERR_NOT_FOUND when this
 * process does not run it. */
enum lift_code jobs_cancel(struct jobs *j, int64_t tenant, const char *id,
                           struct lift_error *err);

/* Cancels every job of tenant: the queued ones leave the queue at once,
 * the running ones are asked to stop and waited for, up to wait_s
 * seconds. *n_cancelled (may be NULL): how many were queued or running.
 * LIFT_ERR_UNAVAILABLE when some still run after wait_s (they stop at
 * their next safe point, or when their rows are gone). */
enum lift_code jobs_cancel_tenant(struct jobs *j, int64_t tenant, double wait_s,
                                  unsigned *n_cancelled,
                                  struct lift_error *err);

/* Reads a stored dataset into a table with its stored reader options. */
enum lift_code read_dataset(struct srv *srv, int64_t tenant, const char *name,
                            struct lift_table **out, struct lift_error *err);

#endif
