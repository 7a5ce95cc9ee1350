/*
 * server/server.c - the HTTP front of `lift serve`: the request
 * lifecycle, authentication, routing and the error envelope (the
 * libmicrohttpd daemon, HTTPS and the request deadline: listener.c).
 *
 * Lifecycle of a request (libmicrohttpd calls the access handler several
 * times): on the first call the route is matched, then the bearer key is
 * checked before anything else, then the tenant's request rate and, for
 * an upload, its storage room (quota.c), then the declared length and
 * the content type; any failure is answered at once (the rest of the body is
 * discarded and the connection closed). Body chunks go to a capped
 * memory buffer (JSON) or to a temp file in the store (uploads); a body
 * past the cap is drained and answered 413. On the last call the handler
 * runs and its answer is queued; a promotion's handler (a commit and a
 * model load) and a tenant's delete (it waits for the tenant's jobs to
 * stop) run instead in the defer worker on the suspended
 * connection (defer.c), so this event thread's other connections do not
 * wait for it. The completion callback frees the request and removes an
 * upload the store did not adopt.
 *
 * Every error, from any layer, leaves as
 * {"error":{"code":"...","message":"..."}} with the status of
 * http_status_of.
 */
#include "server/http.h"

#include "server/bulk.h"
#include "server/listener.h"
#include "server/metrics.h"
#include "server/ops.h"
#include "server/route_info.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY ((size_t)64 << 20)
#define DEFAULT_MAX_RECORDS 10000
#define DEFAULT_TIMEOUT 30
#define DEFAULT_REQUEST_TIMEOUT 30
#define DEFAULT_MIN_RATE ((size_t)16 << 10)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void lift_server_opts_init(struct lift_server_opts *o)
{
    memset(o, 0, sizeof *o);
    lift_quota_fill(&o->quota, LIFT_QUOTA_UNLIMITED);
    o->quota.burst = LIFT_QUOTA_DEFAULT;
}

unsigned http_status_of(enum lift_code code)
{
    switch (code) {
    case LIFT_OK:
        return 200;
    case LIFT_ERR_INVALID:
    case LIFT_ERR_PARSE:
        return 400;
    case LIFT_ERR_UNAUTHORIZED:
        return 401;
    case LIFT_ERR_FORBIDDEN:
    case LIFT_ERR_QUOTA:
        return 403;
    case LIFT_ERR_NOT_FOUND:
        return 404;
    case LIFT_ERR_CONFLICT:
    case LIFT_ERR_CANCELLED:
        return 409;
    case LIFT_ERR_LIMIT:
        return 413;
    case LIFT_ERR_UNSUPPORTED:
        return 415;
    case LIFT_ERR_UNPROCESSABLE:
    case LIFT_ERR_CORRUPT:
        return 422;
    case LIFT_ERR_RATE_LIMITED:
        return 429;
    case LIFT_ERR_UNAVAILABLE:
        return 503;
    case LIFT_ERR_NOMEM:
    case LIFT_ERR_IO:
    case LIFT_ERR_INTERNAL:
    case LIFT_CODE_COUNT:
        break;
    }
    return 500;
}

static void set_response(struct req *r, unsigned status, char *text)
{
    free(r->response);
    r->status = status;
    r->response = text;
    r->response_len = text ? strlen(text) : 0;
    r->content_type = "application/json";
}

void http_json(struct req *r, unsigned status, json_t *doc)
{
    char *text =
        doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(doc);
    if (!text) {
        set_response(r, 500,
                     strdup("{\"error\":{\"code\":\"no_memory\",\"message\":"
                            "\"out of memory (response)\"}}"));
        return;
    }
    set_response(r, status, text);
}

void http_json_text(struct req *r, unsigned status, const char *text)
{
    char *copy = strdup(text);
    if (!copy) {
        http_json(r, 500, NULL);
        return;
    }
    set_response(r, status, copy);
}

void http_header(struct req *r, const char *name, const char *value)
{
    unsigned i = 0;
    while (i < r->n_headers && strcasecmp(r->headers[i].name, name) != 0)
        i++;
    if (i == HTTP_MAX_HEADERS)
        return;
    r->headers[i].name = name;
    snprintf(r->headers[i].value, sizeof r->headers[i].value, "%s", value);
    if (i == r->n_headers)
        r->n_headers++;
}

static bool has_header(const struct req *r, const char *name)
{
    for (unsigned i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return true;
    return false;
}

static void error_doc(struct req *r, enum lift_code code, const char *msg)
{
    /* a 429 always says when to come back */
    if (http_status_of(code) == 429 && !has_header(r, "Retry-After"))
        http_header(r, "Retry-After", "1");
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(lift_code_name(code)));
    json_object_set_new(e, "message", json_string(msg));
    json_t *doc = json_object();
    json_object_set_new(doc, "error", e);
    http_json(r, http_status_of(code), doc);
}

void http_error(struct req *r, enum lift_code code, const char *fmt, ...)
{
    char msg[LIFT_ERROR_MSG_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_doc(r, code, msg);
}

void http_error_from(struct req *r, const struct lift_error *err)
{
    error_doc(r, err->code ? err->code : LIFT_ERR_INTERNAL, err->msg);
}

const char *http_query(struct req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool http_query_int(struct req *r, const char *key, int64_t lo, int64_t hi,
                    int64_t *out)
{
    const char *v = http_query(r, key);
    if (!v)
        return true;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi || v[0] == '+' ||
        v[0] == ' ') {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "query parameter '%s' must be a whole number from %lld to "
                   "%lld (got '%.40s')",
                   key, (long long)lo, (long long)hi, v);
        return false;
    }
    *out = x;
    return true;
}

void http_json_page(struct req *r, char *json, size_t limit, const char *items,
                    const char *next_key)
{
    json_t *list = json_loads(json, 0, NULL);
    free(json);
    if (!list) {
        http_error(r, LIFT_ERR_NOMEM, "out of memory (%s)", items);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(list) > limit) {
        json_array_remove(list, limit);
        next = json_object_get(json_array_get(list, limit - 1), "id");
        json_incref(next);
    }
    http_json(r, 200, json_pack("{s:o,s:o}", items, list, next_key, next));
}

struct query_all {
    const char *key;
    const char **out;
    size_t n, cap;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    (void)kind;
    struct query_all *q = cls;
    if (strcmp(key, q->key) == 0 && value && q->n < q->cap)
        q->out[q->n++] = value;
    return MHD_YES;
}

size_t http_query_all(struct req *r, const char *key, const char **out,
                      size_t cap)
{
    struct query_all q = {key, out, 0, cap};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    return q.n;
}

static bool content_type_is(struct req *r, const char *want)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return false;
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

json_t *http_body_object(struct req *r)
{
    if (!content_type_is(r, "application/json")) {
        http_error(r, LIFT_ERR_UNSUPPORTED,
                   "this route takes Content-Type: application/json");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(r->body ? r->body : "", r->body_len,
                             JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        http_error(r, LIFT_ERR_PARSE, "bad JSON at line %d, column %d: %s",
                   jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "the request body must be a JSON object");
        return NULL;
    }
    return doc;
}

void http_audit(struct req *r, const char *action, const char *object)
{
    r->audit_action = action;
    snprintf(r->audit_object, sizeof r->audit_object, "%s",
             object ? object : "");
}

static bool is_write(const struct req *r)
{
    return r->info && r->info->action &&
           (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
            strcmp(r->method, "DELETE") == 0);
}

/* The audit entry of an authenticated write: the route's action and
 * object unless the handler named them (http_audit). Only names and ids
 * from the path or the request's own object name: never a body value. */
static void audit(struct req *r)
{
    /* a throttled client must not turn its excess into registry writes */
    if (!r->authed || r->throttled || !is_write(r))
        return;
    const char *action = r->audit_action ? r->audit_action : r->info->action;
    if (!r->audit_action) {
        const char *q;
        switch (r->info->object) {
        case AUDIT_OBJ_NAME:
            snprintf(r->audit_object, sizeof r->audit_object, "%s", r->name);
            break;
        case AUDIT_OBJ_NAME_VERSION:
            snprintf(r->audit_object, sizeof r->audit_object, "%s/%lld",
                     r->name, (long long)r->version);
            break;
        case AUDIT_OBJ_ID:
            snprintf(r->audit_object, sizeof r->audit_object, "%s", r->id);
            break;
        case AUDIT_OBJ_QUERY_NAME:
            q = http_query(r, "name");
            snprintf(r->audit_object, sizeof r->audit_object, "%s",
                     q && lift_store_name_ok(q) ? q : "");
            break;
        case AUDIT_OBJ_NONE:
            break;
        }
    }
    lift_store_audit(r->srv->store, r->who.tenant_id, r->who.key_id, action,
                     r->audit_object, (int)r->status, NULL);
}

/* Counts the answer in /metrics and audits a write, once per request,
 * before the answer is queued: a client that reads /metrics or
 * /v1/audit after its answer sees its request there. */
static void finish(struct req *r)
{
    if (r->finished)
        return;
    r->finished = true;
    size_t slot = r->info ? route_info_index(r->info) : route_info_count();
    metrics_request(r->srv->metrics, slot, r->method, r->status,
                    now() - r->start);
    audit(r);
}

/* ---- routing ------------------------------------------------------------ */

void route_health(struct req *r)
{
    http_json_text(r, 200, "{\"status\":\"ok\"}");
}

void route_ready(struct req *r)
{
    http_json_text(r, 200, "{\"status\":\"ready\"}");
}

/* Copies one path segment [p, next '/' or end) into out; false when it
 * is empty or too long. */
static bool segment(const char **p, char *out, size_t cap)
{
    const char *s = *p, *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = e ? e + 1 : s + n;
    return true;
}

static bool method_is(const struct req *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

/* Splits "name:verb" in place; verb NULL when there is none. */
static char *split_verb(char *s)
{
    char *colon = strchr(s, ':');
    if (!colon)
        return NULL;
    *colon = '\0';
    return colon + 1;
}

static bool parse_version(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || errno || x < 1)
        return false;
    *v = x;
    return true;
}

/*
 * Matches r->path and r->method to a handler; sets r->body_kind. Returns
 * false (answered) for an unknown path (404) or method (405 as invalid).
 */
static bool route(struct req *r)
{
    const char *p = r->path;
    char seg[128], rest[LIFT_NAME_MAX + 64];
    bool get = method_is(r, "GET"), post = method_is(r, "POST"),
         del = method_is(r, "DELETE"), put = method_is(r, "PUT");
    enum route_match ops = route_ops(r); /* operator routes, /v1/audit */
    if (ops != ROUTE_NO_MATCH)
        return ops == ROUTE_MATCHED;
    if (strcmp(p, "/healthz") == 0 && get) {
        r->handler = route_health;
        return true;
    }
    if (strcmp(p, "/readyz") == 0 && get) {
        r->handler = route_ready;
        return true;
    }
    if (strncmp(p, "/v1/", 4) != 0)
        goto not_found;
    p += 4;
    if (!segment(&p, seg, sizeof seg))
        goto not_found;
    bool more = *p != '\0';
    if (strcmp(seg, "datasets") == 0) {
        if (!more) {
            if (post) {
                r->handler = route_dataset_create;
                r->body_kind = BODY_FILE;
            } else if (get) {
                r->handler = route_dataset_list;
            } else {
                goto bad_method;
            }
            return true;
        }
        if (!segment(&p, r->name, sizeof r->name) || *p)
            goto not_found;
        if (get)
            r->handler = route_dataset_get;
        else if (del)
            r->handler = route_dataset_delete;
        else
            goto bad_method;
        return true;
    }
    if (strcmp(seg, "jobs") == 0) {
        if (!more) {
            if (!get)
                goto bad_method;
            r->handler = route_job_list;
            return true;
        }
        if (!segment(&p, r->id, sizeof r->id))
            goto not_found;
        if (strcmp(p, "result") == 0) { /* bulk scoring: server/bulk.c */
            if (!get)
                goto bad_method;
            r->handler = route_job_result;
            return true;
        }
        if (*p)
            goto not_found;
        if (get)
            r->handler = route_job_get;
        else if (del)
            r->handler = route_job_cancel;
        else
            goto bad_method;
        return true;
    }
    if (strcmp(seg, "quota") == 0 && !more) {
        if (!get)
            goto bad_method;
        r->handler = route_quota;
        return true;
    }
    if (strcmp(seg, "campaigns:target") == 0 && !more) {
        if (!post)
            goto bad_method;
        r->handler = route_campaign_target;
        r->body_kind = BODY_JSON;
        return true;
    }
    if (!more && (strcmp(seg, "uplift") == 0 || strcmp(seg, "segments") == 0 ||
                  strcmp(seg, "rfm") == 0)) {
        if (!post)
            goto bad_method;
        r->handler = seg[0] == 'u'   ? route_uplift
                     : seg[0] == 's' ? route_segments
                                     : route_rfm;
        r->body_kind = BODY_JSON;
        return true;
    }
    if (strcmp(seg, "models") != 0)
        goto not_found;
    if (!more) {
        if (post) {
            r->handler = route_model_create;
            r->body_kind = BODY_JSON;
        } else if (get) {
            r->handler = route_model_list;
        } else {
            goto bad_method;
        }
        return true;
    }
    if (!segment(&p, rest, sizeof rest))
        goto not_found;
    char *verb = split_verb(rest);
    if (strlen(rest) > LIFT_NAME_MAX)
        goto not_found;
    strcpy(r->name, rest);
    if (verb) {
        if (*p)
            goto not_found;
        if (!post)
            goto bad_method;
        if (strcmp(verb, "predict") == 0)
            r->handler = route_predict;
        else if (strcmp(verb, "evaluate") == 0)
            r->handler = route_evaluate;
        else if (strcmp(verb, "score") == 0)
            r->handler = route_model_score;
        else
            goto not_found;
        r->body_kind = BODY_JSON;
        return true;
    }
    if (!*p) {
        if (get)
            r->handler = route_model_get;
        else if (del)
            r->handler = route_model_delete;
        else
            goto bad_method;
        return true;
    }
    if (!segment(&p, seg, sizeof seg))
        goto not_found;
    if (strcmp(seg, "report") == 0 && !*p) {
        if (!get)
            goto bad_method;
        r->handler = route_model_report;
        return true;
    }
    if (strcmp(seg, "versions") != 0)
        goto not_found;
    if (!*p) {
        if (!put)
            goto bad_method;
        r->handler = route_version_import;
        r->body_kind = BODY_FILE;
        return true;
    }
    if (!segment(&p, rest, sizeof rest))
        goto not_found;
    verb = split_verb(rest);
    if (!parse_version(rest, &r->version))
        goto not_found;
    if (verb) {
        if (*p || strcmp(verb, "promote") != 0)
            goto not_found;
        if (!post)
            goto bad_method;
        r->handler = route_version_promote;
        return true;
    }
    if (!*p) {
        if (!del)
            goto bad_method;
        r->handler = route_version_delete;
        return true;
    }
    if (!segment(&p, seg, sizeof seg) || strcmp(seg, "file") != 0 || *p)
        goto not_found;
    if (!get)
        goto bad_method;
    r->handler = route_version_file;
    return true;
not_found:
    http_error(r, LIFT_ERR_NOT_FOUND, "no route %s %s", r->method, r->path);
    return false;
bad_method:
    http_error(r, LIFT_ERR_INVALID, "method %s is not allowed on %s", r->method,
               r->path);
    r->status = 405;
    return false;
}

/* ---- authentication ----------------------------------------------------- */

/* Checks the bearer key, then that its role may call the route
 * (route_info.c): 401 without a valid key, 403 for the wrong role. */
static bool authenticate(struct req *r)
{
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, "Bearer ", 7) != 0) {
        http_error(r, LIFT_ERR_UNAUTHORIZED,
                   "missing 'Authorization: Bearer <key>' header");
        return false;
    }
    const char *key = h + 7;
    struct lift_error err;
    if (lift_store_authenticate(r->srv->store, key, strlen(key), &r->who,
                                &err)) {
        http_error_from(r, &err);
        return false;
    }
    bool op = r->who.operator;
    if (op && r->info->role == ROLE_TENANT) {
        http_error(r, LIFT_ERR_FORBIDDEN,
                   "operator keys manage the service; use a tenant key here");
        return false;
    }
    if (!op && r->info->role == ROLE_OPERATOR) {
        http_error(r, LIFT_ERR_FORBIDDEN, "this route needs an operator key");
        return false;
    }
    r->authed = true;
    return true;
}

/* ---- the libmicrohttpd callbacks ---------------------------------------- */

static enum MHD_Result send_answer(struct req *r)
{
    finish(r);
    struct MHD_Response *resp;
    if (r->response_fd >= 0) {
        resp = MHD_create_response_from_fd((uint64_t)r->response_fd_len,
                                           r->response_fd);
        r->response_fd = -1; /* owned by the response now */
    } else {
        resp = MHD_create_response_from_buffer(
            r->response_len, r->response ? r->response : (char *)"",
            MHD_RESPMEM_MUST_FREE);
        r->response = NULL;
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type
                                            : "application/json");
    for (unsigned i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static struct req *new_req(struct srv *srv, struct MHD_Connection *conn,
                           const char *url, const char *method)
{
    struct req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = srv;
    r->conn = conn;
    r->method = method;
    r->fd = -1;
    r->response_fd = -1;
    r->quota_room = SIZE_MAX;
    r->start = now();
    snprintf(r->path, sizeof r->path, "%s", url);
    return r;
}

/* First call: route, authenticate, check the declared body. true when
 * the request goes on to receive its body. */
static bool admit(struct req *r)
{
    if (strlen(r->path) >= sizeof r->path - 1) {
        http_error(r, LIFT_ERR_LIMIT, "request path too long");
        return false;
    }
    if (!route(r))
        return false;
    r->info = route_info_of(r->handler);
    if (r->info->role == ROLE_NONE)
        return true;
    if (!authenticate(r) || !quota_admit(r))
        return false;
    const char *cl = MHD_lookup_connection_value(
        r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t max = r->srv->opts.max_body;
    if (cl && strtoull(cl, NULL, 10) > max) {
        http_error(r, LIFT_ERR_LIMIT,
                   "request body of %s bytes is over the limit of %zu bytes",
                   cl, max);
        return false;
    }
    if (r->body_kind == BODY_FILE) {
        struct lift_error err;
        if (lift_store_tmp_create(r->srv->store, &r->fd, r->upload_path,
                                  sizeof r->upload_path, &err)) {
            http_error_from(r, &err);
            return false;
        }
    }
    return true;
}

static void receive(struct req *r, const char *data, size_t size)
{
    if (r->early)
        return;
    if (r->received + size > r->srv->opts.max_body) {
        r->early = LIFT_ERR_LIMIT;
        snprintf(r->early_msg, sizeof r->early_msg,
                 "request body is over the limit of %zu bytes",
                 r->srv->opts.max_body);
        return;
    }
    if (r->received + size > r->quota_room) {
        r->early = LIFT_ERR_QUOTA;
        snprintf(r->early_msg, sizeof r->early_msg,
                 "storage quota exceeded: the upload is over the %zu bytes "
                 "the storage quota leaves",
                 r->quota_room);
        return;
    }
    r->received += size;
    if (r->body_kind == BODY_FILE) {
        while (size) {
            ssize_t w = write(r->fd, data, size);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                r->early = LIFT_ERR_IO;
                snprintf(r->early_msg, sizeof r->early_msg,
                         "cannot store the upload: %s", strerror(errno));
                return;
            }
            data += w;
            size -= (size_t)w;
        }
        return;
    }
    if (r->body_kind == BODY_NONE) {
        r->early = LIFT_ERR_INVALID;
        snprintf(r->early_msg, sizeof r->early_msg,
                 "%s %.200s takes no request body", r->method, r->path);
        return;
    }
    if (r->body_len + size + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + size + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) {
            r->early = LIFT_ERR_NOMEM;
            snprintf(r->early_msg, sizeof r->early_msg,
                     "out of memory (request body)");
            return;
        }
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, size);
    r->body_len += size;
    r->body[r->body_len] = '\0';
}

/* Routes whose handler commits to the registry (an fsync) and loads a
 * model, or waits for jobs to stop and removes files (a tenant's
 * delete): run by the defer worker, so that the other connections of
 * this event thread (scoring) do not wait for them. */
static bool deferred_route(const struct req *r)
{
    return r->handler == route_version_promote ||
           r->handler == route_tenant_delete;
}

/* The defer worker's part: the handler, then the answer queued on the
 * suspended connection, which then resumes. */
static void run_deferred(void *arg)
{
    struct req *r = arg;
    r->handler(r);
    (void)send_answer(r); /* on failure the connection closes on resume */
    MHD_resume_connection(r->conn);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)version;
    struct srv *srv = cls;
    struct req *r = *con_cls;
    if (!r) {
        if (!(r = new_req(srv, conn, url, method)))
            return MHD_NO;
        *con_cls = r;
        if (!admit(r))
            return send_answer(r);
        return MHD_YES;
    }
    if (*size) {
        receive(r, data, *size);
        *size = 0;
        return MHD_YES;
    }
    if (r->fd >= 0) {
        if (!r->early && fsync(r->fd) != 0) {
            r->early = LIFT_ERR_IO;
            snprintf(r->early_msg, sizeof r->early_msg,
                     "cannot store the upload: %s", strerror(errno));
        }
        close(r->fd);
        r->fd = -1;
    }
    if (r->deferred) /* resumed without an answer: it could not be queued */
        return MHD_NO;
    if (r->early) {
        http_error(r, r->early, "%s", r->early_msg);
    } else if (deferred_route(r)) {
        r->deferred = true;
        MHD_suspend_connection(conn);
        if (defer_submit(srv->defer, run_deferred, r))
            return MHD_YES;
        MHD_resume_connection(conn); /* stopping: run it here */
        r->deferred = false;
        r->handler(r);
    } else {
        r->handler(r);
    }
    return send_answer(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    struct req *r = *con_cls;
    if (!r)
        return;
    /* the upload's temp file goes before the audit entry, so a client
     * that sees the entry never sees the file */
    if (r->fd >= 0)
        close(r->fd);
    if (r->upload_path[0] && !r->upload_adopted)
        unlink(r->upload_path);
    if (!r->finished) { /* the client went away before an answer */
        r->finished = true;
        r->status = 0;
        audit(r);
    }
    if (r->response_fd >= 0)
        close(r->response_fd);
    free(r->body);
    free(r->response);
    free(r);
    *con_cls = NULL;
}

/* ---- start and stop ----------------------------------------------------- */

struct lift_server {
    struct srv srv;
};

/* The counters of /metrics, one slot per row of route_info.c and one
 * for requests that matched no route. */
static enum lift_code metrics_new_for_routes(struct metrics **out,
                                             struct lift_error *err)
{
    size_t n = route_info_count();
    const char **labels = calloc(n + 1, sizeof *labels);
    if (!labels)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (metrics)");
    for (size_t i = 0; i < n; i++)
        labels[i] = route_info_at(i)->label;
    labels[n] = "unmatched";
    enum lift_code rc = metrics_new(n + 1, labels, out, err);
    free(labels);
    return rc;
}

enum lift_code lift_server_start(const struct lift_server_opts *o,
                                 struct lift_server **out,
                                 struct lift_error *err)
{
    *out = NULL;
    struct lift_server *s = calloc(1, sizeof *s);
    if (!s)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (server)");
    struct srv *srv = &s->srv;
    srv->opts = *o;
    if (!srv->opts.threads)
        srv->opts.threads = 2;
    if (!srv->opts.job_threads)
        srv->opts.job_threads = 1;
    if (!srv->opts.max_body)
        srv->opts.max_body = DEFAULT_MAX_BODY;
    if (!srv->opts.max_records)
        srv->opts.max_records = DEFAULT_MAX_RECORDS;
    if (!srv->opts.timeout_s)
        srv->opts.timeout_s = DEFAULT_TIMEOUT;
    if (!srv->opts.request_timeout_s)
        srv->opts.request_timeout_s = DEFAULT_REQUEST_TIMEOUT;
    if (!srv->opts.min_rate)
        srv->opts.min_rate = DEFAULT_MIN_RATE;
    srv->started = now();
    struct listener_cfg lc = {
        .listen = o->listen,
        .threads = srv->opts.threads,
        .idle_timeout_s = srv->opts.timeout_s,
        .request_timeout_s = srv->opts.request_timeout_s,
        .min_rate = srv->opts.min_rate,
        .tls_cert = o->tls_cert,
        .tls_key = o->tls_key,
        .on_request = on_request,
        .request_cls = srv,
        .on_completed = on_completed,
        .completed_cls = srv,
        .log = o->log,
    };
    enum lift_code rc;
    /* OpenBLAS workers must never compete with the HTTP threads */
    lift_blas_single_thread();
    if ((rc = listener_new(&lc, &srv->listener, err)) ||
        (rc = metrics_new_for_routes(&srv->metrics, err)) ||
        (rc = lift_store_open(o->data_dir, &srv->store, err)) ||
        (rc = lift_store_quota_defaults(srv->store, &o->quota, err)) ||
        (rc = rates_new(&srv->rates, err)) ||
        (rc = snapshots_new(&srv->snaps, err)) ||
        (rc = jobs_start(srv, &srv->jobs, err)) ||
        (rc = defer_start(&srv->defer, err)) ||
        (rc = sweep_start(srv, &srv->sweep, err)))
        goto fail;
    if (o->metrics_listen && (rc = ops_metrics_listen(srv, err)))
        goto fail;
    if ((rc = listener_start(srv->listener, err)))
        goto fail;
    srv->port = listener_port(srv->listener);
    *out = s;
    return LIFT_OK;
fail:
    ops_metrics_stop(srv);
    listener_free(srv->listener);
    defer_free(srv->defer);
    sweep_stop(srv->sweep);
    if (srv->jobs)
        jobs_stop(srv->jobs);
    snapshots_free(srv->snaps);
    rates_free(srv->rates);
    lift_store_close(srv->store);
    metrics_free(srv->metrics);
    free(s);
    return rc;
}

unsigned lift_server_port(const struct lift_server *s)
{
    return s->srv.port;
}

unsigned lift_server_metrics_port(const struct lift_server *s)
{
    return s->srv.metrics_port;
}

void lift_server_stop(struct lift_server *s)
{
    if (!s)
        return;
    struct srv *srv = &s->srv;
    defer_stop(srv->defer); /* queued promotions finish; later ones
                               run inline: no suspended connection
                               may meet the daemon's stop */
    listener_free(srv->listener);
    defer_free(srv->defer);
    ops_metrics_stop(srv);
    sweep_stop(srv->sweep);
    jobs_stop(srv->jobs);
    snapshots_free(srv->snaps);
    rates_free(srv->rates);
    lift_store_close(srv->store);
    metrics_free(srv->metrics);
    free(s);
}
