/*
 * server/routes_ops.c - operator routes, the audit log and the metrics
 * listener.
 *
 * Roles are checked in server.c before a handler runs (route_info.c says
 * which keys each route takes), so these handlers only do their work:
 *   GET    /metrics                    Prometheus text (operator)
 *   POST   /v1/tenants                 {"name"} -> tenant + first key
 *   GET    /v1/tenants, /v1/tenants/{name}
 *   DELETE /v1/tenants/{name}          the tenant and all it owns
 *   POST   /v1/tenants/{name}/keys     a new key (shown once)
 *   GET    /v1/tenants/{name}/keys     the keys, never their secret
 *   DELETE /v1/keys/{id}               revoke, effective at once
 *   GET    /v1/audit                   a tenant its own entries, the
 *                                      operator any tenant's (?tenant=)
 * The metrics listener (--metrics-listen) is a second, single-threaded
 * libmicrohttpd daemon that answers GET /metrics without a key and
 * nothing else; it is meant for an internal address a scraper reaches.
 */
#include "server/ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/listener.h"
#include "server/metrics.h"
#include "server/route_info.h"

#define AUDIT_DEFAULT_LIMIT 100
#define AUDIT_MAX_LIMIT 1000
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

/* ---- matching ----------------------------------------------------------- */

/* Copies the path segment at *p (up to '/' or the end) into out and
 * moves *p past it and its '/'; false when empty or too long. */
static bool take(const char **p, char *out, size_t cap)
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

static enum route_match not_found(struct req *r)
{
    http_error(r, LIFT_ERR_NOT_FOUND, "no route %s %s", r->method, r->path);
    return ROUTE_ANSWERED;
}

static enum route_match bad_method(struct req *r)
{
    http_error(r, LIFT_ERR_INVALID, "method %s is not allowed on %s", r->method,
               r->path);
    r->status = 405;
    return ROUTE_ANSWERED;
}

static enum route_match matched(struct req *r, route_fn h, enum body_kind kind)
{
    r->handler = h;
    r->body_kind = kind;
    return ROUTE_MATCHED;
}

enum route_match route_ops(struct req *r)
{
    bool get = strcmp(r->method, "GET") == 0;
    bool post = strcmp(r->method, "POST") == 0;
    bool del = strcmp(r->method, "DELETE") == 0;
    const char *p = r->path;
    char seg[32];
    if (strcmp(p, "/metrics") == 0)
        return get ? matched(r, route_metrics, BODY_NONE) : bad_method(r);
    if (strncmp(p, "/v1/", 4) != 0)
        return ROUTE_NO_MATCH;
    p += 4;
    if (strcmp(p, "audit") == 0)
        return get ? matched(r, route_audit, BODY_NONE) : bad_method(r);
    if (strncmp(p, "keys/", 5) == 0) {
        p += 5;
        if (!take(&p, r->id, sizeof r->id) || *p)
            return not_found(r);
        return del ? matched(r, route_key_revoke, BODY_NONE) : bad_method(r);
    }
    if (strcmp(p, "tenants") == 0) {
        if (post)
            return matched(r, route_tenant_create, BODY_JSON);
        return get ? matched(r, route_tenant_list, BODY_NONE) : bad_method(r);
    }
    if (strncmp(p, "tenants/", 8) != 0)
        return ROUTE_NO_MATCH;
    p += 8;
    if (!take(&p, r->name, sizeof r->name))
        return not_found(r);
    if (!*p) {
        if (del)
            return matched(r, route_tenant_delete, BODY_NONE);
        return get ? matched(r, route_tenant_get, BODY_NONE) : bad_method(r);
    }
    if (!take(&p, seg, sizeof seg) || *p)
        return not_found(r);
    if (strcmp(seg, "keys") == 0) {
        if (post)
            return matched(r, route_tenant_key_create, BODY_NONE);
        return get ? matched(r, route_tenant_key_list, BODY_NONE)
                   : bad_method(r);
    }
    if (strcmp(seg, "quota") == 0) {
        if (strcmp(r->method, "PUT") == 0)
            return matched(r, route_tenant_quota_set, BODY_JSON);
        return get ? matched(r, route_tenant_quota_get, BODY_NONE)
                   : bad_method(r);
    }
    return not_found(r);
}

/* ---- helpers ------------------------------------------------------------ */

/* Answers with the store's JSON text (freed) under `key`. */
static void answer_list(struct req *r, const char *key, char *json)
{
    json_t *doc = json_object();
    json_object_set_new(doc, key, json_loads(json, 0, NULL));
    free(json);
    http_json(r, 200, doc);
}

/* The tenant of r->name, or false after a 404 (422 for a bad name). */
static bool path_tenant(struct req *r, int64_t *id)
{
    struct lift_error err;
    if (!lift_store_name_ok(r->name)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "bad tenant name '%s' (1 to %d characters of A-Z a-z 0-9 "
                   ". _ -, not starting with '.')",
                   r->name, LIFT_NAME_MAX);
        return false;
    }
    if (lift_store_tenant_id(r->srv->store, r->name, id, &err)) {
        http_error_from(r, &err);
        return false;
    }
    return true;
}

/* ---- /metrics ----------------------------------------------------------- */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum lift_code ops_metrics_text(struct srv *srv, char **text, size_t *len,
                                struct lift_error *err)
{
    struct lift_store_counts counts;
    struct metrics_state st;
    char *jobs_text = NULL;
    json_t *jobs = NULL;
    struct metrics_jobs *rows = NULL;
    memset(&st, 0, sizeof st);
    *text = NULL;
    enum lift_code rc = lift_store_counts(srv->store, -1, &counts, err);
    if (!rc)
        rc = lift_store_job_counts_json(srv->store, &jobs_text, err);
    if (rc)
        goto done;
    jobs = json_loads(jobs_text, 0, NULL);
    size_t n = json_array_size(jobs);
    rows = calloc(n ? n : 1, sizeof *rows);
    if (!jobs || !rows) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (metrics)");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_array_get(jobs, i);
        rows[i].kind = json_string_value(json_object_get(j, "kind"));
        rows[i].state = json_string_value(json_object_get(j, "state"));
        rows[i].count = json_integer_value(json_object_get(j, "count"));
    }
    st.tenants = counts.tenants;
    st.datasets = counts.datasets;
    st.models = counts.models;
    st.jobs = rows;
    st.n_jobs = n;
    st.snapshots = (int64_t)snapshots_loaded(srv->snaps);
    st.resident_bytes = metrics_resident_bytes();
    st.uptime_s = mono_now() - srv->started;
    rc = metrics_render(srv->metrics, &st, text, len, err);
done:
    free(rows);
    json_decref(jobs);
    free(jobs_text);
    return rc;
}

void route_metrics(struct req *r)
{
    struct lift_error err;
    char *text;
    size_t len;
    if (ops_metrics_text(r->srv, &text, &len, &err)) {
        http_error_from(r, &err);
        return;
    }
    free(r->response);
    r->status = 200;
    r->response = text;
    r->response_len = len;
    r->content_type = METRICS_CONTENT_TYPE;
}

/* ---- tenants and keys --------------------------------------------------- */

void route_tenant_create(struct req *r)
{
    struct lift_error err;
    json_t *body = http_body_object(r);
    if (!body)
        return;
    json_t *jname = json_object_get(body, "name");
    const char *name = json_string_value(jname);
    if (json_object_size(body) != 1 || !name) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "the body must be {\"name\": \"...\"} and nothing else");
        goto done;
    }
    if (!lift_store_name_ok(name)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "'name' must be 1 to %d characters of A-Z a-z 0-9 . _ -, "
                   "not starting with '.'",
                   LIFT_NAME_MAX);
        goto done;
    }
    http_audit(r, "tenant.create", name);
    int64_t id = 0;
    char key[LIFT_KEY_LEN + 1], *keys = NULL;
    if (lift_store_tenant_create(r->srv->store, name, &id, key, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    /* the first key is the tenant's only one: its id from the list */
    json_int_t key_id = 0;
    if (!lift_store_keys_json(r->srv->store, id, &keys, &err)) {
        json_t *list = json_loads(keys, 0, NULL);
        key_id =
            json_integer_value(json_object_get(json_array_get(list, 0), "id"));
        json_decref(list);
        free(keys);
    }
    http_json(r, 201,
              json_pack("{s:I,s:s,s:{s:I,s:s}}", "id", (json_int_t)id, "name",
                        name, "key", "id", key_id, "key", key));
    memset(key, 0, sizeof key);
done:
    json_decref(body);
}

void route_tenant_list(struct req *r)
{
    struct lift_error err;
    char *json;
    if (lift_store_tenants_json(r->srv->store, &json, &err)) {
        http_error_from(r, &err);
        return;
    }
    answer_list(r, "tenants", json);
}

void route_tenant_get(struct req *r)
{
    struct lift_error err;
    int64_t id;
    char *json = NULL;
    struct lift_store_counts counts;
    if (!path_tenant(r, &id))
        return;
    if (lift_store_tenants_json(r->srv->store, &json, &err) ||
        lift_store_counts(r->srv->store, id, &counts, &err)) {
        free(json);
        http_error_from(r, &err);
        return;
    }
    json_t *list = json_loads(json, 0, NULL), *t, *found = NULL;
    free(json);
    size_t i;
    json_array_foreach(list, i, t)
    {
        if (json_integer_value(json_object_get(t, "id")) == id)
            found = t;
    }
    if (!found) {
        json_decref(list);
        http_error(r, LIFT_ERR_NOT_FOUND, "no tenant '%s'", r->name);
        return;
    }
    json_incref(found);
    json_decref(list);
    json_object_set_new(found, "datasets", json_integer(counts.datasets));
    json_object_set_new(found, "models", json_integer(counts.models));
    http_json(r, 200, found);
}

/* How long DELETE /v1/tenants/{name} waits for the tenant's running jobs
 * to stop before it deletes anyway (they stop at their next safe point,
 * or at their next write, which finds their rows gone). */
#define TENANT_DELETE_WAIT_S 10.0

void route_tenant_delete(struct req *r)
{
    struct lift_error err;
    struct srv *srv = r->srv;
    int64_t id;
    if (!path_tenant(r, &id))
        return;
    /* its jobs stop first, so that none writes after the delete */
    unsigned stopped = 0;
    jobs_cancel_tenant(srv->jobs, id, TENANT_DELETE_WAIT_S, &stopped, NULL);
    struct lift_tenant_deletion d;
    if (lift_store_tenant_delete(srv->store, r->name, &d, &err)) {
        http_error_from(r, &err);
        return;
    }
    /* a job that a request of its key queued meanwhile, the models loaded
     * for scoring: gone too (its keys failed from the commit on) */
    jobs_cancel_tenant(srv->jobs, d.tenant_id, 0, NULL, NULL);
    snapshots_forget_tenant(srv->snaps, d.tenant_id);
    rates_forget_tenant(srv->rates, d.tenant_id);
    json_t *doc = json_pack(
        "{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "deleted", r->name,
        "id", (json_int_t)d.tenant_id, "keys", (json_int_t)d.keys, "datasets",
        (json_int_t)d.datasets, "models", (json_int_t)d.models, "versions",
        (json_int_t)d.versions, "jobs", (json_int_t)d.jobs, "jobs_cancelled",
        (json_int_t)stopped, "results", (json_int_t)d.results, "files",
        (json_int_t)d.files, "bytes", (json_int_t)d.bytes);
    http_json(r, 200, doc);
}

void route_tenant_key_create(struct req *r)
{
    struct lift_error err;
    int64_t tenant, id;
    char key[LIFT_KEY_LEN + 1];
    if (!path_tenant(r, &tenant))
        return;
    if (lift_store_key_create(r->srv->store, tenant, false, key, &id, &err)) {
        http_error_from(r, &err);
        return;
    }
    http_json(r, 201,
              json_pack("{s:I,s:s,s:b,s:s}", "id", (json_int_t)id, "tenant",
                        r->name, "operator", 0, "key", key));
    memset(key, 0, sizeof key);
}

void route_tenant_key_list(struct req *r)
{
    struct lift_error err;
    int64_t tenant;
    char *json;
    if (!path_tenant(r, &tenant))
        return;
    if (lift_store_keys_json(r->srv->store, tenant, &json, &err)) {
        http_error_from(r, &err);
        return;
    }
    answer_list(r, "keys", json);
}

void route_key_revoke(struct req *r)
{
    struct lift_error err;
    char *end;
    errno = 0;
    long long id = strtoll(r->id, &end, 10);
    if (*end || errno || id <= 0 || r->id[0] == '+') {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "a key id is a positive whole number, not '%s'", r->id);
        return;
    }
    if (lift_store_key_revoke(r->srv->store, (int64_t)id, &err)) {
        http_error_from(r, &err);
        return;
    }
    http_json(r, 200,
              json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
}

/* ---- the audit log ------------------------------------------------------ */

void route_audit(struct req *r)
{
    struct lift_error err;
    int64_t limit = AUDIT_DEFAULT_LIMIT, before = 0;
    if (!http_query_int(r, "limit", 1, AUDIT_MAX_LIMIT, &limit) ||
        !http_query_int(r, "before", 1, INT64_MAX, &before))
        return;
    const char *name = http_query(r, "tenant");
    int64_t tenant = r->who.tenant_id;
    if (r->who.operator) {
        tenant = -1; /* every tenant's and the operator's own */
        if (name && strlen(name) > LIFT_NAME_MAX) {
            http_error(r, LIFT_ERR_UNPROCESSABLE,
                       "query parameter 'tenant' is longer than %d characters",
                       LIFT_NAME_MAX);
            return;
        }
        /* a deleted tenant's entries stay: its name still finds them */
        struct lift_error lerr;
        if (name && lift_store_tenant_lookup(r->srv->store, name, &tenant, NULL,
                                             &lerr)) {
            http_error(r,
                       lerr.code == LIFT_ERR_INVALID ? LIFT_ERR_UNPROCESSABLE
                                                     : lerr.code,
                       "%s", lerr.msg);
            return;
        }
    } else if (name && strcmp(name, r->who.tenant) != 0) {
        http_error(r, LIFT_ERR_FORBIDDEN,
                   "a tenant key reads only its own audit log; another "
                   "tenant's needs an operator key");
        return;
    }
    /* one more than asked tells whether there is a next page */
    char *json;
    if (lift_store_audit_page(r->srv->store, tenant, before, (size_t)limit + 1,
                              &json, &err)) {
        http_error_from(r, &err);
        return;
    }
    http_json_page(r, json, (size_t)limit, "entries", "next_before");
}

/* ---- the metrics listener ----------------------------------------------- */

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status,
                                   const char *ctype, char *text, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    enum MHD_Result ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result on_metrics_request(void *cls,
                                          struct MHD_Connection *conn,
                                          const char *url, const char *method,
                                          const char *version, const char *data,
                                          size_t *size, void **con_cls)
{
    (void)version;
    (void)data;
    (void)size;
    (void)con_cls;
    struct srv *srv = cls;
    double t0 = mono_now();
    const char *msg = NULL;
    unsigned status = 200;
    char *text = NULL;
    size_t len = 0;
    size_t slot = route_info_index(route_info_of(route_metrics));
    if (strcmp(url, "/metrics") != 0) {
        status = 404;
        msg = "{\"error\":{\"code\":\"not_found\",\"message\":\"this address "
              "serves only GET /metrics\"}}";
        slot = route_info_count(); /* "unmatched" */
    } else if (strcmp(method, "GET") != 0) {
        status = 405;
        msg = "{\"error\":{\"code\":\"invalid\",\"message\":\"/metrics takes "
              "GET only\"}}";
    } else {
        struct lift_error err;
        if (ops_metrics_text(srv, &text, &len, &err)) {
            status = http_status_of(err.code);
            msg = "{\"error\":{\"code\":\"internal\",\"message\":\"cannot "
                  "read the metrics\"}}";
        }
    }
    if (msg) {
        text = strdup(msg);
        len = text ? strlen(text) : 0;
        if (!text)
            return MHD_NO;
    }
    metrics_request(srv->metrics, slot, method, status, mono_now() - t0);
    return answer_text(conn, status,
                       msg ? "application/json" : METRICS_CONTENT_TYPE, text,
                       len);
}

enum lift_code ops_metrics_listen(struct srv *srv, struct lift_error *err)
{
    /* plain HTTP even with --tls-cert: an internal address for a scraper;
     * the request deadline of the main listener applies */
    struct listener_cfg lc = {
        .listen = srv->opts.metrics_listen,
        .threads = 1,
        .idle_timeout_s = 10,
        .request_timeout_s = srv->opts.request_timeout_s,
        .min_rate = srv->opts.min_rate,
        .connection_limit = 64,
        .on_request = on_metrics_request,
        .request_cls = srv,
        .log = srv->opts.log,
    };
    enum lift_code rc;
    if ((rc = listener_new(&lc, &srv->metrics_listener, err)) ||
        (rc = listener_start(srv->metrics_listener, err))) {
        listener_free(srv->metrics_listener);
        srv->metrics_listener = NULL;
        lift_error_prefix(err, "metrics listener");
        return rc;
    }
    srv->metrics_port = listener_port(srv->metrics_listener);
    return LIFT_OK;
}

void ops_metrics_stop(struct srv *srv)
{
    listener_free(srv->metrics_listener);
    srv->metrics_listener = NULL;
}
