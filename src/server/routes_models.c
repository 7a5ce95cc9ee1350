/*
 * server/routes_models.c - models and their versions, training jobs,
 * scoring, explanations and evaluation.
 *
 * Scoring is the hot path: a plain body is read in one pass by
 * fast_parse (see there), any other by jansson; either way each record
 * becomes an array of struct lift_field pointing into the body or the
 * parsed document (no copies of values), and the answer is printed
 * straight into a growing buffer (jansson's dump would cost more than the
 * scoring).
 */
#include "server/http.h"

#include "server/bulk.h"
#include "server/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- training ----------------------------------------------------------- */

/* Sets one training option from a JSON value (string, number, bool). */
static enum lift_code set_json_opt(struct lift_train_opts *o, const char *key,
                                   json_t *v, struct lift_error *err)
{
    char buf[64];
    const char *text = buf;
    if (json_is_string(v))
        text = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        text = json_is_true(v) ? "true" : "false";
    else
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'%s' must be a string, number or boolean", key);
    if (lift_train_opts_set(o, key, text, err)) {
        err->code = LIFT_ERR_UNPROCESSABLE; /* a value the trainer refuses */
        return LIFT_ERR_UNPROCESSABLE;
    }
    return LIFT_OK;
}

/* Adds every string of a JSON array under one option key. */
static enum lift_code set_json_list(struct lift_train_opts *o, const char *key,
                                    json_t *arr, struct lift_error *err)
{
    if (!arr)
        return LIFT_OK;
    if (!json_is_array(arr))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'%s' must be an array of column names", key);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_string(e))
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "'%s[%zu]' must be a string", key, i);
        enum lift_code rc = set_json_opt(o, key, e, err);
        if (rc)
            return rc;
    }
    return LIFT_OK;
}

static bool schema_has_column(const char *schema, const char *col)
{
    json_t *doc = json_loads(schema ? schema : "{}", 0, NULL);
    bool found = false;
    size_t i;
    json_t *c;
    json_array_foreach(
        json_object_get(doc, "columns"), i,
        c) if (strcmp(json_string_value(json_object_get(c, "name")), col) == 0)
        found = true;
    json_decref(doc);
    return found;
}

void train_request_release(struct train_request *req)
{
    lift_train_opts_free(req->opts);
    free(req->params_json);
    memset(req, 0, sizeof *req);
}

static enum lift_code need_string(json_t *body, const char *key,
                                  const char **out, struct lift_error *err)
{
    json_t *v = json_object_get(body, key);
    if (!json_is_string(v))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'%s' must be a string%s", key,
                              v ? "" : " (it is required)");
    *out = json_string_value(v);
    return LIFT_OK;
}

enum lift_code train_request_parse(json_t *body, struct train_request *req,
                                   struct lift_error *err)
{
    memset(req, 0, sizeof *req);
    enum lift_code rc;
    if (!json_is_object(body))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "the request body must be a JSON object");
    if ((rc = need_string(body, "name", &req->name, err)) ||
        (rc = need_string(body, "dataset", &req->dataset, err)) ||
        (rc = need_string(body, "target", &req->target, err)))
        return rc;
    if (!lift_store_name_ok(req->name))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "model name '%.64s' must be 1 to %d characters "
                              "of A-Z a-z 0-9 . _ -",
                              req->name, LIFT_NAME_MAX);
    static const char *const known[] = {
        "name", "dataset", "target", "positive", "model",
        "drop", "text",    "cross",  "params",   "cv_folds"};
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        size_t i = 0;
        while (i < sizeof known / sizeof known[0] && strcmp(key, known[i]))
            i++;
        if (i == sizeof known / sizeof known[0])
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "unknown field '%.64s' (training options "
                                  "go in 'params')",
                                  key);
    }
    if ((rc = lift_train_opts_new(&req->opts, err)) ||
        (rc = set_json_opt(req->opts, "target", json_object_get(body, "target"),
                           err)) ||
        (json_object_get(body, "positive") &&
         (rc = set_json_opt(req->opts, "positive",
                            json_object_get(body, "positive"), err))) ||
        (json_object_get(body, "model") &&
         (rc = set_json_opt(req->opts, "model", json_object_get(body, "model"),
                            err))) ||
        (rc = set_json_list(req->opts, "drop", json_object_get(body, "drop"),
                            err)) ||
        (rc = set_json_list(req->opts, "text", json_object_get(body, "text"),
                            err)) ||
        (rc = set_json_list(req->opts, "cross", json_object_get(body, "cross"),
                            err)))
        goto fail;
    json_t *params = json_object_get(body, "params");
    if (params && !json_is_object(params)) {
        rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                            "'params' must be an object");
        goto fail;
    }
    json_object_foreach(params, key, v)
    {
        if (strcmp(key, "target") == 0 || strcmp(key, "positive") == 0 ||
            strcmp(key, "model") == 0) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "'%s' goes at the top level, not in 'params'",
                                key);
            goto fail;
        }
        if ((rc = set_json_opt(req->opts, key, v, err)))
            goto fail;
    }
    json_t *cvf = json_object_get(body, "cv_folds");
    if (cvf && !json_is_null(cvf)) {
        if (!json_is_integer(cvf) || json_integer_value(cvf) < 2 ||
            json_integer_value(cvf) > 20) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "'cv_folds' must be a whole number from 2 to "
                                "20");
            goto fail;
        }
        req->cv_folds = (unsigned)json_integer_value(cvf);
    }
    if (!(req->params_json = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (request)");
        goto fail;
    }
    return LIFT_OK;
fail:
    train_request_release(req);
    return rc;
}

void route_model_create(struct req *r)
{
    struct lift_error err;
    json_t *body = http_body_object(r);
    struct train_request tr = {0};
    struct train_job *job = NULL;
    struct lift_dataset_info info;
    memset(&info, 0, sizeof info);
    if (!body)
        goto done;
    if (train_request_parse(body, &tr, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    if (lift_store_dataset_get(r->srv->store, r->who.tenant_id, tr.dataset,
                               &info, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    if (!schema_has_column(info.schema_json, tr.target)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE, "dataset '%s' has no column '%s'",
                   tr.dataset, tr.target);
        goto done;
    }
    if (!quota_job_room(r))
        goto done;
    if (!(job = calloc(1, sizeof *job))) {
        http_error(r, LIFT_ERR_NOMEM, "out of memory (job)");
        goto done;
    }
    job->tenant = r->who.tenant_id;
    snprintf(job->model, sizeof job->model, "%s", tr.name);
    snprintf(job->dataset, sizeof job->dataset, "%s", tr.dataset);
    job->cv_folds = tr.cv_folds;
    job->opts = tr.opts;
    job->params_json = tr.params_json;
    tr.opts = NULL;
    tr.params_json = NULL;
    if (lift_store_version_reserve(r->srv->store, job->tenant, job->model,
                                   job->params_json, &job->version, &err) ||
        lift_store_job_create(r->srv->store, job->tenant, "train",
                              job->params_json, job->id, &err)) {
        if (job->version)
            lift_store_version_fail(r->srv->store, job->tenant, job->model,
                                    job->version, err.msg, NULL);
        http_error_from(r, &err);
        goto done;
    }
    int64_t version = job->version;
    char id[17];
    memcpy(id, job->id, sizeof id);
    if (jobs_submit(r->srv->jobs, job, &err)) {
        job = NULL; /* the pool released it */
        http_error_from(r, &err);
        goto done;
    }
    job = NULL;
    http_json(r, 202,
              json_pack("{s:{s:s,s:s},s:s,s:I}", "job", "id", id, "state",
                        "queued", "model", tr.name, "version",
                        (json_int_t)version));
done:
    if (tr.name && lift_store_name_ok(tr.name))
        http_audit(r, "model.train", tr.name);
    if (job) {
        lift_train_opts_free(job->opts);
        free(job->params_json);
        free(job);
    }
    train_request_release(&tr);
    lift_dataset_info_release(&info);
    json_decref(body);
}

void route_model_list(struct req *r)
{
    struct lift_error err;
    char *json;
    if (lift_store_models_json(r->srv->store, r->who.tenant_id, &json, &err)) {
        http_error_from(r, &err);
        return;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "models", json_loads(json, 0, NULL));
    free(json);
    http_json(r, 200, doc);
}

void route_model_get(struct req *r)
{
    struct lift_error err;
    char *json;
    if (lift_store_model_json(r->srv->store, r->who.tenant_id, r->name, &json,
                              &err)) {
        http_error_from(r, &err);
        return;
    }
    http_json_text(r, 200, json);
    free(json);
}

static void delete_version(struct req *r, int64_t version)
{
    struct lift_error err;
    if (lift_store_model_delete(r->srv->store, r->who.tenant_id, r->name,
                                version, &err)) {
        http_error_from(r, &err);
    } else {
        snapshots_invalidate(r->srv->snaps, r->who.tenant_id, r->name);
        json_t *doc = json_pack("{s:s}", "deleted", r->name);
        if (version)
            json_object_set_new(doc, "version", json_integer(version));
        http_json(r, 200, doc);
    }
}

void route_model_delete(struct req *r)
{
    delete_version(r, 0);
}

void route_version_delete(struct req *r)
{
    delete_version(r, r->version);
}

void route_version_promote(struct req *r)
{
    struct lift_error err;
    if (lift_store_model_promote(r->srv->store, r->who.tenant_id, r->name,
                                 r->version, &err)) {
        http_error_from(r, &err);
    } else {
        snapshots_refresh(r->srv, r->who.tenant_id, r->name);
        http_json(r, 200,
                  json_pack("{s:s,s:I}", "model", r->name, "serving",
                            (json_int_t)r->version));
    }
}

/* Reads a whole (small) file into memory. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)n + 1)) &&
            fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

void route_version_import(struct req *r)
{
    struct lift_error err;
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct || strncasecmp(ct, "application/octet-stream", 24) != 0) {
        http_error(r, LIFT_ERR_UNSUPPORTED,
                   "model files take Content-Type: application/octet-stream");
        return;
    }
    if (!lift_store_name_ok(r->name)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE, "bad model name '%s'", r->name);
        return;
    }
    size_t len = 0;
    char *data = slurp(r->upload_path, &len);
    struct lift_model *m = NULL;
    if (!data) {
        http_error(r, LIFT_ERR_IO, "cannot read the upload");
        return;
    }
    if (lift_model_from_bytes(data, len, &m, &err)) {
        if (err.code == LIFT_ERR_CORRUPT || err.code == LIFT_ERR_UNSUPPORTED)
            err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        goto done;
    }
    int64_t version;
    bool promoted;
    if (lift_store_version_import(r->srv->store, r->who.tenant_id, r->name,
                                  r->upload_path, lift_model_info_json(m),
                                  &version, &promoted, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    r->upload_adopted = true;
    if (promoted)
        snapshots_invalidate(r->srv->snaps, r->who.tenant_id, r->name);
    http_json(r, 201,
              json_pack("{s:s,s:I,s:b,s:s,s:s}", "model", r->name, "version",
                        (json_int_t)version, "promoted", promoted, "kind",
                        lift_model_kind(m), "task",
                        lift_task_name(lift_model_task(m))));
done:
    lift_model_free(m);
    free(data);
}

void route_version_file(struct req *r)
{
    struct lift_error err;
    char path[4096];
    if (lift_store_version_path(r->srv->store, r->who.tenant_id, r->name,
                                r->version, path, sizeof path, &err)) {
        http_error_from(r, &err);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        http_error(r, LIFT_ERR_IO, "cannot open the model file: %s",
                   strerror(errno));
        return;
    }
    r->status = 200;
    r->response_fd = fd;
    r->response_fd_len = (size_t)st.st_size;
    r->content_type = "application/octet-stream";
}

/* ---- scoring ------------------------------------------------------------ */

/* A growing response text. */
struct out {
    char *p;
    size_t len, cap;
    bool failed;
};

static void out_reserve(struct out *o, size_t n)
{
    if (o->failed || o->len + n + 1 <= o->cap)
        return;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + n + 1)
        cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
        o->failed = true;
        return;
    }
    o->p = p;
    o->cap = cap;
}

static void out_put(struct out *o, const char *s, size_t n)
{
    out_reserve(o, n);
    if (o->failed)
        return;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void out_str(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

static void out_num(struct out *o, double v)
{
    char buf[32];
    int n = isfinite(v) ? snprintf(buf, sizeof buf, "%.9g", v)
                        : snprintf(buf, sizeof buf, "null");
    out_put(o, buf, (size_t)n);
}

/* A JSON string literal (escaped by jansson for correctness). */
static void out_json_string(struct out *o, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    if (t)
        out_str(o, t);
    else
        out_str(o, "\"\"");
    free(t);
    json_decref(j);
}

/* Fields of one record object (pointing into the document). */
static enum lift_code record_fields(json_t *rec, size_t i, struct lift_field *f,
                                    size_t cap, size_t *n,
                                    struct lift_error *err)
{
    if (!json_is_object(rec))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "records[%zu] must be an object", i);
    if (json_object_size(rec) > cap)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "records[%zu] has more than %zu fields", i, cap);
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(rec, key, v)
    {
        f[k].name = key;
        f[k].str = NULL;
        f[k].len = 0;
        f[k].num = 0;
        switch (json_typeof(v)) {
        case JSON_NULL:
            f[k].kind = LIFT_VALUE_NULL;
            break;
        case JSON_INTEGER:
        case JSON_REAL:
            f[k].kind = LIFT_VALUE_NUMBER;
            f[k].num = json_number_value(v);
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            f[k].kind = LIFT_VALUE_BOOL;
            f[k].num = json_is_true(v);
            break;
        case JSON_STRING:
            f[k].kind = LIFT_VALUE_STRING;
            f[k].str = json_string_value(v);
            f[k].len = json_string_length(v);
            break;
        default:
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "records[%zu].%s must be a string, number, "
                                  "boolean or null",
                                  i, key);
        }
        k++;
    }
    *n = k;
    return LIFT_OK;
}

/* Distinct warning texts, at most 32. */
struct warnings {
    char *text[32];
    size_t n;
};

static void warn(struct warnings *w, const char *fmt, const char *name)
{
    char buf[LIFT_NAME_MAX * 4];
    snprintf(buf, sizeof buf, fmt, name);
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->text[i], buf) == 0)
            return;
    if (w->n < 32 && (w->text[w->n] = strdup(buf)))
        w->n++;
}

#define MAX_FIELDS 4096

/* ---- the predict body's fast path -----------------------------------------
 *
 * jansson builds a document before anything is scored: one hash table and
 * a handful of allocations per record, which cost ~70 % of the server's
 * time on 1000-record requests (bench/serve). The common body is plain: an
 * object with "records" (an array of flat objects whose strings have no
 * escapes and are ASCII) and perhaps "explain" and "strict". fast_parse
 * reads exactly that in one pass into struct lift_field arrays: values
 * point into the body, names are copied NUL-terminated into one scratch
 * buffer no longer than the body. Anything else (escapes, non-ASCII bytes,
 * nested values, duplicate or other keys, big integers, bad JSON, more
 * than max_records records) is declined, and jansson reads the body as
 * before: so every error, and every body the fast path does not know,
 * gets the answer it always got. When fast_parse accepts, the fields are
 * those record_fields would give (same order, kinds and values: integers
 * as (double) of the integer, reals by strtod as jansson does).
 */
struct fast {
    struct lift_field *fields;
    size_t n_fields, cap_fields;
    size_t *start; /* record i is fields[start[i] .. start[i + 1]) */
    size_t n, cap;
    char *names; /* scratch for the NUL-terminated names */
    size_t names_len;
    bool explain, strict;
};

static void fast_release(struct fast *f)
{
    free(f->fields);
    free(f->start);
    free(f->names);
}

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* A string without escapes, control or non-ASCII bytes: its content is
 * [*s, *s + *len); returns the byte after the closing quote or NULL. */
static const char *fast_string(const char *p, const char *end, const char **s,
                               size_t *len)
{
    if (p >= end || *p != '"')
        return NULL;
    const char *q = ++p;
    while (q < end && *q != '"') {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20 || c >= 0x80 || c == '\\')
            return NULL;
        q++;
    }
    if (q >= end)
        return NULL;
    *s = p;
    *len = (size_t)(q - p);
    return q + 1;
}

/* A JSON number: jansson's integers (at most 18 digits here) as (double),
 * its reals as strtod's value (overflow declined, as jansson refuses it). */
static const char *fast_number(const char *p, const char *end, double *v)
{
    const char *q = p;
    bool real = false;
    if (q < end && *q == '-')
        q++;
    if (q >= end || *q < '0' || *q > '9')
        return NULL;
    if (*q == '0')
        q++;
    else
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    if (q < end && *q == '.') {
        real = true;
        const char *d = ++q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == d)
            return NULL;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        real = true;
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        const char *d = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == d)
            return NULL;
    }
    char buf[64];
    size_t n = (size_t)(q - p);
    if (n >= sizeof buf || (!real && n > 18))
        return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (real) {
        *v = strtod(buf, NULL);
        if (isinf(*v))
            return NULL;
    } else {
        long long i = 0; /* at most 18 digits: no overflow */
        for (const char *d = buf + (*buf == '-'); *d; d++)
            i = 10 * i + (*d - '0');
        *v = (double)(*buf == '-' ? -i : i); /* -0 is 0, as in jansson */
    }
    return q;
}

static bool fast_literal(const char **p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
        return false;
    *p += n;
    return true;
}

static bool fast_push_field(struct fast *f)
{
    if (f->n_fields == f->cap_fields) {
        size_t cap = f->cap_fields ? 2 * f->cap_fields : 64;
        struct lift_field *a = realloc(f->fields, cap * sizeof *a);
        if (!a)
            return false;
        f->fields = a;
        f->cap_fields = cap;
    }
    f->n_fields++;
    return true;
}

static bool fast_push_record(struct fast *f, size_t first)
{
    if (f->n + 2 > f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        size_t *a = realloc(f->start, cap * sizeof *a);
        if (!a)
            return false;
        f->start = a;
        f->cap = cap;
    }
    f->start[f->n++] = first;
    return true;
}

/* One flat record object at p; its fields are appended to f. */
static const char *fast_record(struct fast *f, const char *p, const char *end)
{
    size_t first = f->n_fields;
    size_t klens[64]; /* the record's key lengths, for the duplicate check */
    if (p >= end || *p != '{')
        return NULL;
    p = ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        const char *key;
        size_t klen;
        if (!(p = fast_string(p, end, &key, &klen)))
            return NULL;
        size_t nk = f->n_fields - first;
        if (nk >= sizeof klens / sizeof *klens)
            return NULL;
        for (size_t i = 0; i < nk; i++)
            if (klens[i] == klen &&
                memcmp(f->fields[first + i].name, key, klen) == 0)
                return NULL; /* a duplicate: jansson's error */
        if (!fast_push_field(f))
            return NULL;
        klens[nk] = klen;
        struct lift_field *fd = &f->fields[f->n_fields - 1];
        char *name = f->names + f->names_len;
        memcpy(name, key, klen);
        name[klen] = '\0';
        f->names_len += klen + 1;
        fd->name = name;
        fd->str = NULL;
        fd->len = 0;
        fd->num = 0;
        p = ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = ws(p + 1, end);
        if (p >= end)
            return NULL;
        if (*p == '"') {
            fd->kind = LIFT_VALUE_STRING;
            if (!(p = fast_string(p, end, &fd->str, &fd->len)))
                return NULL;
        } else if (fast_literal(&p, end, "true")) {
            fd->kind = LIFT_VALUE_BOOL;
            fd->num = 1;
        } else if (fast_literal(&p, end, "false")) {
            fd->kind = LIFT_VALUE_BOOL;
        } else if (fast_literal(&p, end, "null")) {
            fd->kind = LIFT_VALUE_NULL;
        } else {
            fd->kind = LIFT_VALUE_NUMBER;
            if (!(p = fast_number(p, end, &fd->num)))
                return NULL;
        }
        p = ws(p, end);
        if (p < end && *p == ',') {
            p = ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}')
            return p + 1;
        return NULL;
    }
}

static const char *fast_records(struct fast *f, const char *p, const char *end,
                                size_t max_records)
{
    if (p >= end || *p != '[')
        return NULL;
    p = ws(p + 1, end);
    if (p < end && *p == ']')
        return p + 1;
    for (;;) {
        if (f->n >= max_records || !fast_push_record(f, f->n_fields))
            return NULL;
        if (!(p = fast_record(f, p, end)))
            return NULL;
        p = ws(p, end);
        if (p < end && *p == ',') {
            p = ws(p + 1, end);
            continue;
        }
        if (p < end && *p == ']')
            return p + 1;
        return NULL;
    }
}

/* true when the body is one the fast path reads (f then holds it; release
 * it either way). */
static bool fast_parse(struct fast *f, const char *body, size_t len,
                       size_t max_records)
{
    memset(f, 0, sizeof *f);
    if (!body || len == 0 || !(f->names = malloc(len)))
        return false;
    const char *p = ws(body, body + len), *end = body + len;
    bool seen_records = false, seen_explain = false, seen_strict = false;
    if (p >= end || *p != '{')
        return false;
    p = ws(p + 1, end);
    for (;;) {
        const char *key;
        size_t klen;
        if (!(p = fast_string(p, end, &key, &klen)))
            return false;
        p = ws(p, end);
        if (p >= end || *p != ':')
            return false;
        p = ws(p + 1, end);
        if (klen == 7 && memcmp(key, "records", 7) == 0 && !seen_records) {
            seen_records = true;
            if (!(p = fast_records(f, p, end, max_records)))
                return false;
        } else if (klen == 7 && memcmp(key, "explain", 7) == 0 &&
                   !seen_explain) {
            seen_explain = true;
            if (fast_literal(&p, end, "true"))
                f->explain = true;
            else if (!fast_literal(&p, end, "false"))
                return false;
        } else if (klen == 6 && memcmp(key, "strict", 6) == 0 && !seen_strict) {
            seen_strict = true;
            if (fast_literal(&p, end, "true"))
                f->strict = true;
            else if (!fast_literal(&p, end, "false"))
                return false;
        } else {
            return false;
        }
        p = ws(p, end);
        if (p < end && *p == ',') {
            p = ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}')
            break;
        return false;
    }
    if (!seen_records || ws(p + 1, end) != end)
        return false;
    if (f->n)
        f->start[f->n] = f->n_fields; /* the end of the last record */
    return true;
}

static enum lift_code predict(const struct lift_model *m, const char *name,
                              int64_t version, const char *body, size_t len,
                              size_t max_records, bool try_fast,
                              char **response, size_t *response_len,
                              size_t *n_scored, struct lift_error *err)
{
    json_error_t jerr;
    struct lift_field *fields = NULL;
    struct lift_contribution *contrib = NULL;
    double *scores = NULL;
    struct out o = {0}, ex_out = {0};
    struct warnings w = {{0}, 0};
    enum lift_code rc = LIFT_OK;
    json_t *doc = NULL, *records = NULL;
    struct fast fp;
    size_t n;
    bool explain, strict;
    *response = NULL;
    *response_len = 0;
    bool fast = fast_parse(&fp, body, try_fast ? len : 0, max_records);
    if (fast) {
        n = fp.n;
        explain = fp.explain;
        strict = fp.strict;
    } else {
        doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
            rc = lift_error_set(err, LIFT_ERR_PARSE,
                                "bad JSON at line %d, column %d: %s", jerr.line,
                                jerr.column, jerr.text);
            goto done;
        }
        records = json_object_get(doc, "records");
        if (!json_is_object(doc) || !json_is_array(records)) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "the body must be an object whose 'records' "
                                "is an array of objects");
            goto done;
        }
        n = json_array_size(records);
        if (n > max_records) {
            rc = lift_error_set(err, LIFT_ERR_LIMIT,
                                "%zu records are over the limit of %zu per "
                                "request",
                                n, max_records);
            goto done;
        }
        json_t *ex = json_object_get(doc, "explain");
        json_t *st = json_object_get(doc, "strict");
        if ((ex && !json_is_boolean(ex)) || (st && !json_is_boolean(st))) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "'explain' and 'strict' must be true or "
                                "false");
            goto done;
        }
        explain = json_is_true(ex);
        strict = json_is_true(st);
    }
    size_t k = lift_model_n_outputs(m), ni = lift_model_n_inputs(m);
    fields = fast ? NULL : malloc(MAX_FIELDS * sizeof *fields);
    scores = malloc(k * sizeof *scores);
    contrib = explain ? malloc((ni ? ni : 1) * sizeof *contrib) : NULL;
    if ((!fast && !fields) || !scores || (explain && !contrib)) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (scoring)");
        goto done;
    }
    bool multi = lift_model_task(m) == LIFT_TASK_MULTICLASS;
    out_str(&o, "{\"model\":");
    out_json_string(&o, name);
    char head[64];
    snprintf(head, sizeof head, ",\"version\":%lld,", (long long)version);
    out_str(&o, head);
    if (multi) {
        out_str(&o, "\"classes\":[");
        for (size_t c = 0; c < k; c++) {
            if (c)
                out_str(&o, ",");
            out_json_string(&o, lift_model_class(m, c));
        }
        out_str(&o, "],");
    }
    out_str(&o, "\"scores\":[");
    for (size_t i = 0; i < n; i++) {
        size_t nf = 0;
        struct lift_record_report rep;
        const struct lift_field *rf = fields;
        if (fast) {
            /* when every record is {}, there is no field array */
            if (fp.fields)
                rf = fp.fields + fp.start[i];
            nf = fp.start[i + 1] - fp.start[i];
        } else if ((rc = record_fields(json_array_get(records, i), i, fields,
                                       MAX_FIELDS, &nf, err))) {
            goto done;
        }
        if ((rc = lift_model_predict_record(m, rf, nf, strict, scores, &rep,
                                            err))) {
            char msg[LIFT_ERROR_MSG_MAX];
            memcpy(msg, err->msg, sizeof msg);
            lift_error_set(err, rc, "records[%zu]: %s", i, msg);
            goto done;
        }
        for (size_t a = 0; a < rep.n_absent && a < LIFT_WARN_NAMES; a++)
            warn(&w, "field '%s' is absent: read as missing", rep.absent[a]);
        for (size_t a = 0; a < rep.n_unknown && a < LIFT_WARN_NAMES; a++)
            warn(&w, "field '%s' is not used by the model", rep.unknown[a]);
        if (i)
            out_str(&o, ",");
        if (multi) {
            out_str(&o, "[");
            for (size_t c = 0; c < k; c++) {
                if (c)
                    out_str(&o, ",");
                out_num(&o, scores[c]);
            }
            out_str(&o, "]");
        } else {
            out_num(&o, scores[0]);
        }
        if (explain) {
            size_t nc;
            double base, raw, score;
            if ((rc =
                     lift_model_explain_record(m, rf, nf, 0, contrib, &nc,
                                               &base, &raw, &score, NULL, err)))
                goto done;
            out_str(&ex_out, i ? ",{\"base\":" : "{\"base\":");
            out_num(&ex_out, base);
            out_str(&ex_out, ",\"raw\":");
            out_num(&ex_out, raw);
            out_str(&ex_out, ",\"contributions\":{");
            for (size_t c = 0; c < nc; c++) {
                if (c)
                    out_str(&ex_out, ",");
                out_json_string(&ex_out, contrib[c].column);
                out_str(&ex_out, ":");
                out_num(&ex_out, contrib[c].value);
            }
            out_str(&ex_out, "}}");
        }
    }
    out_str(&o, "]");
    if (explain) {
        out_str(&o, ",\"explanations\":[");
        if (ex_out.p)
            out_put(&o, ex_out.p, ex_out.len);
        out_str(&o, "]");
    }
    out_str(&o, ",\"warnings\":[");
    for (size_t i = 0; i < w.n; i++) {
        if (i)
            out_str(&o, ",");
        out_json_string(&o, w.text[i]);
    }
    out_str(&o, "]}");
    if (o.failed || ex_out.failed) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (response)");
        goto done;
    }
    *response = o.p;
    *response_len = o.len;
    if (n_scored)
        *n_scored = n;
    o.p = NULL;
done:
    for (size_t i = 0; i < w.n; i++)
        free(w.text[i]);
    free(o.p);
    free(ex_out.p);
    free(fields);
    free(scores);
    free(contrib);
    fast_release(&fp);
    json_decref(doc);
    return rc;
}

enum lift_code predict_body(const struct lift_model *m, const char *name,
                            int64_t version, const char *body, size_t len,
                            size_t max_records, char **response,
                            size_t *response_len, size_t *n_scored,
                            struct lift_error *err)
{
    return predict(m, name, version, body, len, max_records, true, response,
                   response_len, n_scored, err);
}

enum lift_code predict_body_jansson(const struct lift_model *m,
                                    const char *name, int64_t version,
                                    const char *body, size_t len,
                                    size_t max_records, char **response,
                                    size_t *response_len,
                                    struct lift_error *err)
{
    return predict(m, name, version, body, len, max_records, false, response,
                   response_len, NULL, err);
}

void route_predict(struct req *r)
{
    struct lift_error err;
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && strncasecmp(ct, "text/csv", 8) == 0 &&
        (ct[8] == '\0' || ct[8] == ';')) {
        route_predict_csv(r); /* server/bulk.c */
        return;
    }
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';')) {
        http_error(r, LIFT_ERR_UNSUPPORTED,
                   "this route takes Content-Type: application/json or "
                   "text/csv");
        return;
    }
    struct snapshot *snap = NULL;
    if (snapshots_acquire(r->srv, r->who.tenant_id, r->name, &snap, &err)) {
        http_error_from(r, &err);
        return;
    }
    char *text;
    size_t len, n_scored = 0;
    if (predict_body(snap->model, r->name, snap->version, r->body, r->body_len,
                     r->srv->opts.max_records, &text, &len, &n_scored, &err)) {
        http_error_from(r, &err);
    } else {
        metrics_predictions(r->srv->metrics, n_scored);
        free(r->response);
        r->status = 200;
        r->response = text;
        r->response_len = len;
        r->content_type = "application/json";
    }
    snapshot_release(snap);
}

void route_evaluate(struct req *r)
{
    struct lift_error err;
    json_t *body = http_body_object(r);
    struct snapshot *snap = NULL;
    struct lift_table *t = NULL;
    char *text = NULL;
    if (!body)
        return;
    const char *dataset = NULL;
    if (need_string(body, "dataset", &dataset, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    if (snapshots_acquire(r->srv, r->who.tenant_id, r->name, &snap, &err) ||
        read_dataset(r->srv, r->who.tenant_id, dataset, &t, &err) ||
        lift_evaluate_json(snap->model, t, NULL, 0, &text, &err)) {
        if (err.code == LIFT_ERR_PARSE)
            err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        goto done;
    }
    json_t *doc = json_loads(text, 0, NULL);
    if (!doc) {
        http_error(r, LIFT_ERR_INTERNAL, "bad evaluation document");
        goto done;
    }
    json_object_set_new(doc, "model", json_string(r->name));
    json_object_set_new(doc, "version", json_integer(snap->version));
    json_object_set_new(doc, "dataset", json_string(dataset));
    http_json(r, 200, doc);
done:
    free(text);
    lift_table_free(t);
    if (snap)
        snapshot_release(snap);
    json_decref(body);
}

/* ---- jobs --------------------------------------------------------------- */

void route_job_get(struct req *r)
{
    struct lift_error err;
    char *json;
    if (lift_store_job_json(r->srv->store, r->who.tenant_id, r->id, &json,
                            &err)) {
        http_error_from(r, &err);
        return;
    }
    http_json_text(r, 200, json);
    free(json);
}

#define JOBS_DEFAULT_LIMIT 100
#define JOBS_MAX_LIMIT 1000

void route_job_list(struct req *r)
{
    struct lift_error err;
    int64_t limit = JOBS_DEFAULT_LIMIT;
    if (!http_query_int(r, "limit", 1, JOBS_MAX_LIMIT, &limit))
        return;
    const char *state = http_query(r, "state"), *kind = http_query(r, "kind");
    const char *before = http_query(r, "before");
    /* one more than asked tells whether there is a next page */
    char *json;
    enum lift_code rc =
        lift_store_jobs_json(r->srv->store, r->who.tenant_id, state, kind,
                             before, (size_t)limit + 1, &json, &err);
    if (rc) {
        /* a bad filter is the request's fault; a cursor naming no job of
         * this tenant, 404 */
        if (rc == LIFT_ERR_INVALID)
            err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        return;
    }
    http_json_page(r, json, (size_t)limit, "jobs", "next_before");
}

void route_job_cancel(struct req *r)
{
    struct lift_error err;
    char state[16];
    if (lift_store_job_state(r->srv->store, r->who.tenant_id, r->id, state,
                             &err)) {
        http_error_from(r, &err);
    } else if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0) {
        http_error(r, LIFT_ERR_CONFLICT, "job '%s' already %s", r->id, state);
    } else if (jobs_cancel(r->srv->jobs, r->who.tenant_id, r->id, &err)) {
        http_error_from(r, &err);
    } else {
        http_json(r, 202,
                  json_pack("{s:s,s:s}", "id", r->id, "state", "cancelling"));
    }
}
