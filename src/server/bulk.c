/*
 * server/bulk.c - bulk scoring (see bulk.h for the CSV layout).
 *
 * A scoring job holds a reference to the model snapshot it was given
 * when it was accepted (the serving version then, or the version the
 * request named), so a promotion while it waits or runs changes nothing
 * for it. It reads the dataset with its stored reader options, then
 * scores it CHUNK_ROWS rows at a time through the library's table path
 * (lift_model_predict_table, and lift_model_explain_table with explain):
 * one binding of the columns per chunk, no per-record parsing. Each
 * chunk is printed into a buffer and written to a store temp file;
 * between chunks the job checks for cancellation and, at most every
 * 200 ms, records its progress. At the end the store fsyncs the file,
 * renames it into blobs/ and marks the job succeeded with its result in
 * one transaction (lift_store_job_result_put). The result's "seconds"
 * covers scoring, printing and writing the rows (not reading the
 * dataset, reported as "read_s", nor the final fsync).
 *
 * A CSV body on :predict goes through the same table path: it is read
 * by the dataset reader from memory, capped at max_records data records,
 * and answered as CSV (Accept: text/csv) or as the JSON of a JSON body.
 */
#include "server/bulk.h"

#include "server/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_ROWS 16384
#define PROGRESS_EVERY_S 0.2

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- text output -------------------------------------------------------- */

/* A growing text buffer; a failed allocation sticks in `failed`. */
struct text {
    char *p;
    size_t len, cap;
    bool failed;
};

static bool text_reserve(struct text *o, size_t n)
{
    if (o->failed)
        return false;
    if (o->len + n + 1 <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap : 1 << 16;
    while (cap < o->len + n + 1)
        cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
        o->failed = true;
        return false;
    }
    o->p = p;
    o->cap = cap;
    return true;
}

static void text_put(struct text *o, const char *s, size_t n)
{
    if (!text_reserve(o, n))
        return;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void text_str(struct text *o, const char *s)
{
    text_put(o, s, strlen(s));
}

static void text_char(struct text *o, char c)
{
    text_put(o, &c, 1);
}

/*
 * %.9g without printf: printing was half the time of scoring the bank
 * file (glibc formats through its multi-precision path). Fixed notation
 * (decimal exponent e in [-4, 8]) is done here: m = |v| * 10^(8 - e) is
 * computed with one rounding (10^0..10^12 are exact doubles), so it is
 * within half an ulp (< 1.2e-7) of the exact value; when its fraction is
 * not that close to one half, rounding it to the nearest integer gives
 * the 9 significant digits printf's correctly rounded result has.
 * Anything else (ties within the error, exponents outside the range,
 * zero, non-finite values) goes to snprintf. tests/unit/test_bulk.c
 * compares the two on millions of values.
 */
size_t bulk_format_g9(double v, char buf[BULK_NUM_MAX])
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3,  1e4,  1e5, 1e6,
                                   1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
    double a = fabs(v);
    if (a >= 1e-4 && a < 1e9) {
        int e = (int)floor(log10(a));
        if (e >= -4 && e <= 8) {
            double m = a * pow10[8 - e];
            double r = nearbyint(m);
            bool clear = fabs(m - floor(m) - 0.5) > 1e-6;
            if (clear && r >= 1e9 && e < 8) {
                /* rounds up to the next power of ten (or log10 fell
                 * short, and m holds 10 digits: then the exponent is
                 * one more, and those are rounded again below) */
                if (m >= 1e9) {
                    e++;
                    m = a * pow10[8 - e];
                    r = nearbyint(m);
                    clear = fabs(m - floor(m) - 0.5) > 1e-6;
                } else {
                    e++;
                    r = 1e8;
                }
            }
            if (clear && r >= 1e8 && r < 1e9) {
                char digits[10], *p = buf;
                uint32_t d = (uint32_t)r;
                for (int i = 8; i >= 0; i--, d /= 10)
                    digits[i] = (char)('0' + d % 10);
                int last = 8; /* the last digit printed: no trailing 0 */
                while (last > 0 && last > e && digits[last] == '0')
                    last--;
                if (v < 0)
                    *p++ = '-';
                if (e < 0) {
                    *p++ = '0';
                    *p++ = '.';
                    for (int i = -1; i > e; i--)
                        *p++ = '0';
                    for (int i = 0; i <= last; i++)
                        *p++ = digits[i];
                } else {
                    for (int i = 0; i <= last; i++) {
                        *p++ = digits[i];
                        if (i == e && i < last)
                            *p++ = '.';
                    }
                }
                *p = '\0';
                return (size_t)(p - buf);
            }
        }
    }
    int n = snprintf(buf, BULK_NUM_MAX, "%.9g", v);
    return n > 0 && n < BULK_NUM_MAX ? (size_t)n : 0;
}

/* A number as `lift predict` and the JSON answer print it (%.9g);
 * non-finite values as `none` (CSV: an empty field, JSON: null). */
static void text_num(struct text *o, double v, const char *none)
{
    if (!isfinite(v)) {
        text_str(o, none);
        return;
    }
    if (!text_reserve(o, BULK_NUM_MAX))
        return;
    o->len += bulk_format_g9(v, o->p + o->len);
    o->p[o->len] = '\0';
}

/* One CSV field prefix + s, quoted (RFC 4180) when it holds a comma, a
 * quote or a line end, as `lift predict` quotes. */
static void csv_field(struct text *o, const char *prefix, const char *s)
{
    if (!strpbrk(s, ",\"\r\n") && !strpbrk(prefix, ",\"\r\n")) {
        text_str(o, prefix);
        text_str(o, s);
        return;
    }
    text_char(o, '"');
    for (int part = 0; part < 2; part++)
        for (const char *c = part ? s : prefix; *c; c++) {
            if (*c == '"')
                text_char(o, '"');
            text_char(o, *c);
        }
    text_char(o, '"');
}

/* A JSON string literal (escaped by jansson). */
static void json_str(struct text *o, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    if (t)
        text_str(o, t);
    else
        o->failed = true;
    free(t);
    json_decref(j);
}

/* ---- scoring a table in chunks ------------------------------------------ */

/* What is scored and how it is printed. */
struct layout {
    const struct lift_model *m;
    const struct lift_table *t;
    size_t k, ni; /* outputs, inputs */
    bool multi, explain;
    bool has_id;
    size_t id_col;
    const char *key_name; /* "row" or the id column */
};

static enum lift_code layout_init(struct layout *l, const struct lift_model *m,
                                  const struct lift_table *t,
                                  const char *id_col, bool explain,
                                  struct lift_error *err)
{
    memset(l, 0, sizeof *l);
    l->m = m;
    l->t = t;
    l->k = lift_model_n_outputs(m);
    l->ni = lift_model_n_inputs(m);
    l->multi = lift_model_task(m) == LIFT_TASK_MULTICLASS;
    l->explain = explain;
    l->key_name = id_col ? id_col : "row";
    if (id_col) {
        l->has_id = true;
        return lift_table_col_index(t, id_col, &l->id_col, err);
    }
    return LIFT_OK;
}

/* Scratch of one chunk: scores, the best class, explanations. */
struct chunk {
    uint32_t *rows;
    double *scores; /* n * k */
    size_t *best;   /* n */
    double *contrib, *base, *raw;
};

static void chunk_release(struct chunk *c)
{
    free(c->rows);
    free(c->scores);
    free(c->best);
    free(c->contrib);
    free(c->base);
    free(c->raw);
    memset(c, 0, sizeof *c);
}

static enum lift_code chunk_init(struct chunk *c, const struct layout *l,
                                 size_t cap, struct lift_error *err)
{
    memset(c, 0, sizeof *c);
    if (cap == 0)
        cap = 1;
    c->rows = malloc(cap * sizeof *c->rows);
    c->scores = calloc(cap * l->k, sizeof *c->scores);
    c->best = malloc(cap * sizeof *c->best);
    if (l->explain) {
        c->contrib = calloc(cap * (l->ni ? l->ni : 1), sizeof *c->contrib);
        c->base = malloc(cap * sizeof *c->base);
        c->raw = malloc(cap * sizeof *c->raw);
    }
    if (!c->rows || !c->scores || !c->best ||
        (l->explain && (!c->contrib || !c->base || !c->raw))) {
        chunk_release(c);
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (scoring)");
    }
    return LIFT_OK;
}

/* Scores rows [first, first + n); explains output `explain_k` of each
 * row, or the best class when explain_k is SIZE_MAX. */
static enum lift_code score_chunk(const struct layout *l, struct chunk *c,
                                  size_t first, size_t n, size_t explain_k,
                                  struct lift_error *err)
{
    for (size_t i = 0; i < n; i++)
        c->rows[i] = (uint32_t)(first + i);
    enum lift_code rc =
        lift_model_predict_table(l->m, l->t, c->rows, n, c->scores, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const double *s = c->scores + i * l->k;
        size_t best = 0;
        for (size_t j = 1; j < l->k; j++)
            if (s[j] > s[best])
                best = j;
        c->best[i] = explain_k == SIZE_MAX ? best : explain_k;
    }
    if (l->explain)
        rc = lift_model_explain_table(l->m, l->t, c->rows, n,
                                      l->multi ? c->best : NULL, c->contrib,
                                      c->base, c->raw, err);
    return rc;
}

static void csv_header(struct text *o, const struct layout *l)
{
    csv_field(o, "", l->key_name);
    if (l->multi) {
        text_str(o, ",class");
        for (size_t j = 0; j < l->k; j++) {
            text_char(o, ',');
            csv_field(o, "score_", lift_model_class(l->m, j));
        }
    } else {
        text_str(o, ",score");
    }
    if (l->explain) {
        text_str(o, ",base,raw");
        for (size_t g = 0; g < l->ni; g++) {
            text_char(o, ',');
            csv_field(o, "contrib_", lift_model_input_name(l->m, g));
        }
    }
    text_char(o, '\n');
}

/* The key cell of data row `row`: its 1-based number, or the id column's
 * value as `lift predict --id` prints it (empty when missing). */
static void csv_key(struct text *o, const struct layout *l, size_t row)
{
    if (!l->has_id) {
        char num[24], *p = num + sizeof num;
        size_t v = row + 1;
        do
            *--p = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        text_put(o, p, (size_t)(num + sizeof num - p));
        return;
    }
    const uint32_t *codes = lift_table_codes(l->t, l->id_col);
    if (codes) {
        if (codes[row] != LIFT_MISSING_CODE)
            csv_field(o, "",
                      lift_table_level(l->t, l->id_col, codes[row], NULL));
        return;
    }
    double v = lift_table_values(l->t, l->id_col)[row];
    if (!isnan(v)) {
        char num[64];
        int n = snprintf(num, sizeof num, "%.15g", v);
        text_put(o, num, (size_t)n);
    }
}

static void csv_rows(struct text *o, const struct layout *l,
                     const struct chunk *c, size_t first, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        csv_key(o, l, first + i);
        const double *s = c->scores + i * l->k;
        if (l->multi) {
            text_char(o, ',');
            csv_field(o, "", lift_model_class(l->m, c->best[i]));
            for (size_t j = 0; j < l->k; j++) {
                text_char(o, ',');
                text_num(o, s[j], "");
            }
        } else {
            text_char(o, ',');
            text_num(o, s[0], "");
        }
        if (l->explain) {
            text_char(o, ',');
            text_num(o, c->base[i], "");
            text_char(o, ',');
            text_num(o, c->raw[i], "");
            const double *v = c->contrib + i * l->ni;
            for (size_t g = 0; g < l->ni; g++) {
                text_char(o, ',');
                text_num(o, v[g], "");
            }
        }
        text_char(o, '\n');
    }
}

/* ---- the job ------------------------------------------------------------ */

void score_job_free(struct score_job *sj)
{
    if (!sj)
        return;
    snapshot_release(sj->snap);
    free(sj->id_col);
    free(sj);
}

static enum lift_code write_all(int fd, struct text *o, struct lift_error *err)
{
    if (o->failed)
        return lift_error_set(err, LIFT_ERR_NOMEM,
                              "out of memory (result rows)");
    const char *p = o->p;
    size_t left = o->len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return lift_error_sys(err, LIFT_ERR_IO, errno,
                                  "cannot write the result file");
        p += w;
        left -= (size_t)w;
    }
    o->len = 0;
    return LIFT_OK;
}

/* A job whose row is gone (its tenant was deleted, maybe by another
 * process) stops at the next chunk. */
static void report_progress(struct srv *srv, const char *id, size_t done,
                            size_t n, atomic_int *cancel)
{
    char text[128];
    snprintf(text, sizeof text,
             "{\"stage\":\"score\",\"rows_done\":%zu,\"rows\":%zu}", done, n);
    if (lift_store_job_update(srv->store, id, NULL, text, NULL, NULL, NULL) ==
        LIFT_ERR_NOT_FOUND)
        atomic_store(cancel, 1);
}

static char *result_json(const struct score_job *sj, size_t rows,
                         double seconds, double read_s, const char *tmp)
{
    struct stat st;
    json_int_t bytes = stat(tmp, &st) == 0 ? (json_int_t)st.st_size : 0;
    json_t *doc = json_pack(
        "{s:s,s:I,s:s,s:I,s:I,s:b,s:f,s:f,s:f}", "model", sj->snap->name,
        "version", (json_int_t)sj->snap->version, "dataset", sj->dataset,
        "rows", (json_int_t)rows, "bytes", bytes, "explain", sj->explain,
        "seconds", seconds, "rows_per_second",
        seconds > 0 ? (double)rows / seconds : 0.0, "read_s", read_s);
    if (doc && sj->id_col)
        json_object_set_new(doc, "id", json_string(sj->id_col));
    char *text =
        doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(doc);
    return text;
}

void score_job_run(struct srv *srv, const char *id, int64_t tenant,
                   struct score_job *sj, atomic_int *cancel)
{
    struct lift_error err;
    lift_error_clear(&err);
    struct lift_table *t = NULL;
    struct chunk c = {0};
    struct text o = {0};
    struct layout l = {0};
    char tmp[4096] = "", *res = NULL;
    int fd = -1;
    size_t n = 0;
    double t0 = now();
    enum lift_code rc = read_dataset(srv, tenant, sj->dataset, &t, &err);
    double read_s = now() - t0;
    if (!rc)
        rc = layout_init(&l, sj->snap->model, t, sj->id_col, sj->explain, &err);
    if (!rc) {
        n = lift_table_n_rows(t);
        rc = chunk_init(&c, &l, n < CHUNK_ROWS ? n : CHUNK_ROWS, &err);
    }
    if (!rc)
        rc = lift_store_tmp_create(srv->store, &fd, tmp, sizeof tmp, &err);
    t0 = now();
    double last = t0;
    if (!rc)
        csv_header(&o, &l);
    for (size_t first = 0; !rc && first < n; first += CHUNK_ROWS) {
        if (atomic_load(cancel)) {
            rc = lift_error_set(&err, LIFT_ERR_CANCELLED,
                                "cancelled after %zu of %zu rows", first, n);
            break;
        }
        size_t m = n - first < CHUNK_ROWS ? n - first : CHUNK_ROWS;
        if ((rc = score_chunk(&l, &c, first, m, SIZE_MAX, &err)))
            break;
        csv_rows(&o, &l, &c, first, m);
        if ((rc = write_all(fd, &o, &err)))
            break;
        double tn = now();
        if (tn - last >= PROGRESS_EVERY_S && first + m < n) {
            last = tn;
            report_progress(srv, id, first + m, n, cancel);
        }
    }
    if (!rc)
        rc = write_all(fd, &o, &err); /* the header of an empty table */
    double seconds = now() - t0;
    if (fd >= 0 && close(fd) != 0 && !rc)
        rc = lift_error_sys(&err, LIFT_ERR_IO, errno,
                            "cannot write the result file");
    if (!rc && !(res = result_json(sj, n, seconds, read_s, tmp)))
        rc = lift_error_set(&err, LIFT_ERR_NOMEM, "out of memory (result)");
    if (!rc) {
        /* the store owns the temp file from here, whatever happens */
        rc = lift_store_job_result_put(srv->store, tenant, id, tmp, res, &err);
        tmp[0] = '\0';
        if (!rc)
            metrics_predictions(srv->metrics, n);
    }
    if (rc) {
        if (tmp[0])
            unlink(tmp);
        lift_store_job_update(srv->store, id,
                              rc == LIFT_ERR_CANCELLED ? "cancelled" : "failed",
                              NULL, err.msg, NULL, NULL);
    }
    free(res);
    free(o.p);
    chunk_release(&c);
    lift_table_free(t);
}

/* ---- POST /v1/models/{name}:score --------------------------------------- */

static bool schema_has_column(const char *schema, const char *col)
{
    json_t *doc = json_loads(schema ? schema : "{}", 0, NULL);
    bool found = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "columns"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name && strcmp(name, col) == 0)
            found = true;
    }
    json_decref(doc);
    return found;
}

/* Checks the body: {"dataset", "explain"?, "version"?, "id"?}. */
static enum lift_code score_body(json_t *body, const char **dataset,
                                 bool *explain, int64_t *version,
                                 const char **id, struct lift_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "dataset") != 0 && strcmp(key, "explain") != 0 &&
            strcmp(key, "version") != 0 && strcmp(key, "id") != 0)
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "unknown field '%.64s' (a score request "
                                  "takes dataset, explain, version and id)",
                                  key);
    }
    v = json_object_get(body, "dataset");
    if (!json_is_string(v))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'dataset' must be a string%s",
                              v ? "" : " (it is required)");
    *dataset = json_string_value(v);
    v = json_object_get(body, "explain");
    if (v && !json_is_boolean(v))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'explain' must be true or false");
    *explain = json_is_true(v);
    v = json_object_get(body, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'version' must be a version number (1 or "
                              "more)");
    *version = v ? (int64_t)json_integer_value(v) : 0;
    v = json_object_get(body, "id");
    if (v && (!json_is_string(v) || !*json_string_value(v)))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'id' must be the name of a column");
    *id = v ? json_string_value(v) : NULL;
    return LIFT_OK;
}

/* A snapshot of a given ready version, outside the cache (its only
 * reference is the caller's). */
static enum lift_code version_snapshot(struct srv *srv, int64_t tenant,
                                       const char *name, int64_t version,
                                       struct snapshot **out,
                                       struct lift_error *err)
{
    char path[4096];
    *out = NULL;
    enum lift_code rc = lift_store_version_path(
        srv->store, tenant, name, version, path, sizeof path, err);
    if (rc)
        return rc;
    struct snapshot *snap = calloc(1, sizeof *snap);
    if (!snap)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (model)");
    if ((rc = lift_model_load(path, &snap->model, err))) {
        free(snap);
        return rc;
    }
    snap->tenant = tenant;
    snap->version = version;
    snprintf(snap->name, sizeof snap->name, "%s", name);
    atomic_init(&snap->refs, 1);
    *out = snap;
    return LIFT_OK;
}

/* UNSUPPORTED when the model's kind cannot explain. */
static enum lift_code check_explain(const struct lift_model *m,
                                    struct lift_error *err)
{
    size_t ni = lift_model_n_inputs(m), n;
    struct lift_contribution *c = malloc((ni ? ni : 1) * sizeof *c);
    double base, raw, score;
    if (!c)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (explain)");
    enum lift_code rc = lift_model_explain_record(m, NULL, 0, 0, c, &n, &base,
                                                  &raw, &score, NULL, err);
    free(c);
    return rc;
}

void route_model_score(struct req *r)
{
    struct lift_error err;
    json_t *body = http_body_object(r);
    struct lift_dataset_info info;
    memset(&info, 0, sizeof info);
    struct score_job *sj = NULL;
    struct train_job *job = NULL;
    char *params = NULL;
    const char *dataset = NULL, *id_col = NULL;
    bool explain = false;
    int64_t version = 0;
    if (!body)
        goto done;
    if (score_body(body, &dataset, &explain, &version, &id_col, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    if (!(sj = calloc(1, sizeof *sj)) || !(job = calloc(1, sizeof *job)) ||
        (id_col && !(sj->id_col = strdup(id_col)))) {
        http_error(r, LIFT_ERR_NOMEM, "out of memory (job)");
        goto done;
    }
    sj->explain = explain;
    snprintf(sj->dataset, sizeof sj->dataset, "%s", dataset);
    enum lift_code rc =
        version ? version_snapshot(r->srv, r->who.tenant_id, r->name, version,
                                   &sj->snap, &err)
                : snapshots_acquire(r->srv, r->who.tenant_id, r->name,
                                    &sj->snap, &err);
    if (!rc)
        rc = lift_store_dataset_get(r->srv->store, r->who.tenant_id, dataset,
                                    &info, &err);
    if (!rc && id_col && !schema_has_column(info.schema_json, id_col))
        rc = lift_error_set(&err, LIFT_ERR_UNPROCESSABLE,
                            "dataset '%s' has no column '%s' (the id)", dataset,
                            id_col);
    if (!rc && explain && (rc = check_explain(sj->snap->model, &err)))
        err.code = rc = LIFT_ERR_UNPROCESSABLE;
    if (rc) {
        http_error_from(r, &err);
        goto done;
    }
    if (!quota_job_room(r) || !quota_result_room(r, info.rows))
        goto done;
    json_object_set_new(body, "model", json_string(r->name));
    json_object_set_new(body, "version", json_integer(sj->snap->version));
    if (!(params = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS))) {
        http_error(r, LIFT_ERR_NOMEM, "out of memory (job)");
        goto done;
    }
    if (lift_store_job_create(r->srv->store, r->who.tenant_id, "score", params,
                              job->id, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    job->tenant = r->who.tenant_id;
    snprintf(job->model, sizeof job->model, "%s", r->name);
    snprintf(job->dataset, sizeof job->dataset, "%s", dataset);
    job->version = sj->snap->version;
    job->score = sj;
    sj = NULL;
    char id[17];
    memcpy(id, job->id, sizeof id);
    version = job->version;
    rc = jobs_submit(r->srv->jobs, job, &err);
    job = NULL; /* the pool has it, or released it */
    if (rc) {
        http_error_from(r, &err);
        goto done;
    }
    http_json(r, 202,
              json_pack("{s:{s:s,s:s},s:s,s:I,s:s}", "job", "id", id, "state",
                        "queued", "model", r->name, "version",
                        (json_int_t)version, "dataset", dataset));
done:
    score_job_free(sj);
    free(job);
    free(params);
    lift_dataset_info_release(&info);
    json_decref(body);
}

/* ---- GET /v1/jobs/{id}/result ------------------------------------------- */

void route_job_result(struct req *r)
{
    struct lift_error err;
    char path[4096];
    int64_t bytes = 0;
    if (lift_store_job_result_get(r->srv->store, r->who.tenant_id, r->id, path,
                                  sizeof path, &bytes, &err)) {
        http_error_from(r, &err);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        http_error(r, e == ENOENT ? LIFT_ERR_NOT_FOUND : LIFT_ERR_IO,
                   "cannot open the result of job '%s': %s", r->id,
                   strerror(e));
        return;
    }
    if ((int64_t)st.st_size != bytes) {
        close(fd);
        http_error(r, LIFT_ERR_CORRUPT,
                   "the result file of job '%s' has %lld bytes, not %lld",
                   r->id, (long long)st.st_size, (long long)bytes);
        r->status = 500;
        return;
    }
    r->status = 200;
    r->response_fd = fd;
    r->response_fd_len = (size_t)st.st_size;
    r->content_type = "text/csv";
}

/* ---- POST /v1/models/{name}:predict, CSV body --------------------------- */

static bool accepts_csv(struct req *r)
{
    const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_ACCEPT);
    for (const char *p = a; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncasecmp(p, "text/csv", 8) == 0 &&
            (p[8] == '\0' || p[8] == ',' || p[8] == ';' || p[8] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

static bool query_true(struct req *r, const char *key, bool *bad)
{
    const char *v = http_query(r, key);
    if (!v || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return false;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || !*v)
        return true;
    *bad = true;
    return false;
}

/* Warnings as the JSON answer gives them: model inputs the CSV lacks,
 * CSV columns the model does not use. */
static void csv_warnings(struct text *o, const struct lift_model *m,
                         const struct lift_table *t)
{
    size_t ni = lift_model_n_inputs(m), nc = lift_table_n_cols(t), nw = 0;
    char buf[LIFT_NAME_MAX * 4 + 64];
    for (size_t g = 0; g < ni && nw < 32; g++) {
        const char *name = lift_model_input_name(m, g);
        size_t col;
        if (lift_table_col_index(t, name, &col, NULL) == LIFT_OK ||
            strchr(name, '&')) /* a cross of two inputs, not a column */
            continue;
        snprintf(buf, sizeof buf, "field '%s' is absent: read as missing",
                 name);
        text_str(o, nw++ ? "," : "");
        json_str(o, buf);
    }
    for (size_t c = 0; c < nc && nw < 32; c++) {
        const char *name = lift_table_col_name(t, c);
        size_t g = 0;
        while (g < ni && strcmp(lift_model_input_name(m, g), name) != 0)
            g++;
        if (g < ni)
            continue;
        snprintf(buf, sizeof buf, "field '%s' is not used by the model", name);
        text_str(o, nw++ ? "," : "");
        json_str(o, buf);
    }
}

static int cmp_abs_desc(const void *a, const void *b)
{
    double x = fabs(((const struct lift_contribution *)a)->value);
    double y = fabs(((const struct lift_contribution *)b)->value);
    return (x < y) - (x > y);
}

/* The JSON answer of a JSON body: scores, explanations (output 0, as
 * there), warnings. */
static void json_answer(struct text *o, const struct layout *l,
                        const struct chunk *c, size_t n, const char *name,
                        int64_t version)
{
    char head[64];
    text_str(o, "{\"model\":");
    json_str(o, name);
    snprintf(head, sizeof head, ",\"version\":%lld,", (long long)version);
    text_str(o, head);
    if (l->multi) {
        text_str(o, "\"classes\":[");
        for (size_t j = 0; j < l->k; j++) {
            text_str(o, j ? "," : "");
            json_str(o, lift_model_class(l->m, j));
        }
        text_str(o, "],");
    }
    text_str(o, "\"scores\":[");
    for (size_t i = 0; i < n; i++) {
        text_str(o, i ? "," : "");
        const double *s = c->scores + i * l->k;
        if (l->multi) {
            text_char(o, '[');
            for (size_t j = 0; j < l->k; j++) {
                text_str(o, j ? "," : "");
                text_num(o, s[j], "null");
            }
            text_char(o, ']');
        } else {
            text_num(o, s[0], "null");
        }
    }
    text_char(o, ']');
    if (l->explain) {
        struct lift_contribution *sorted =
            malloc((l->ni ? l->ni : 1) * sizeof *sorted);
        if (!sorted)
            o->failed = true;
        text_str(o, ",\"explanations\":[");
        for (size_t i = 0; sorted && i < n; i++) {
            text_str(o, i ? ",{\"base\":" : "{\"base\":");
            text_num(o, c->base[i], "null");
            text_str(o, ",\"raw\":");
            text_num(o, c->raw[i], "null");
            text_str(o, ",\"contributions\":{");
            for (size_t g = 0; g < l->ni; g++) {
                sorted[g].column = lift_model_input_name(l->m, g);
                sorted[g].value = c->contrib[i * l->ni + g];
            }
            qsort(sorted, l->ni, sizeof *sorted, cmp_abs_desc);
            for (size_t g = 0; g < l->ni; g++) {
                text_str(o, g ? "," : "");
                json_str(o, sorted[g].column);
                text_char(o, ':');
                text_num(o, sorted[g].value, "null");
            }
            text_str(o, "}}");
        }
        text_char(o, ']');
        free(sorted);
    }
    text_str(o, ",\"warnings\":[");
    csv_warnings(o, l->m, l->t);
    text_str(o, "]}");
}

void route_predict_csv(struct req *r)
{
    struct lift_error err;
    struct snapshot *snap = NULL;
    struct lift_table *t = NULL;
    struct chunk c = {0};
    struct text o = {0};
    struct layout l = {0};
    bool bad = false, explain = query_true(r, "explain", &bad);
    bool csv = accepts_csv(r);
    const char *sep = http_query(r, "sep"), *id_col = http_query(r, "id");
    struct lift_read_opts opts;
    lift_read_opts_init(&opts);
    opts.name = "request body";
    opts.max_rows = r->srv->opts.max_records;
    if (bad) {
        http_error(r, LIFT_ERR_INVALID, "explain takes true or false");
        return;
    }
    if (sep && lift_parse_sep(sep, &opts.sep, &err)) {
        http_error_from(r, &err);
        return;
    }
    if (snapshots_acquire(r->srv, r->who.tenant_id, r->name, &snap, &err))
        goto fail;
    if (lift_table_read_mem(r->body ? r->body : "", r->body_len, &opts, &t,
                            &err)) {
        if (err.code == LIFT_ERR_INVALID)
            err.code = LIFT_ERR_PARSE;
        goto fail;
    }
    if (explain && check_explain(snap->model, &err)) {
        err.code = LIFT_ERR_UNPROCESSABLE;
        goto fail;
    }
    if (layout_init(&l, snap->model, t, id_col, explain, &err)) {
        if (err.code == LIFT_ERR_NOT_FOUND) /* the id names no column */
            err.code = LIFT_ERR_UNPROCESSABLE;
        goto fail;
    }
    size_t n = lift_table_n_rows(t);
    if (chunk_init(&c, &l, n, &err) ||
        score_chunk(&l, &c, 0, n, csv ? SIZE_MAX : 0, &err))
        goto fail;
    metrics_predictions(r->srv->metrics, n);
    if (csv) {
        csv_header(&o, &l);
        csv_rows(&o, &l, &c, 0, n);
    } else {
        json_answer(&o, &l, &c, n, r->name, snap->version);
    }
    if (o.failed) {
        lift_error_set(&err, LIFT_ERR_NOMEM, "out of memory (response)");
        goto fail;
    }
    free(r->response);
    r->status = 200;
    r->response = o.p;
    r->response_len = o.len;
    r->content_type = csv ? "text/csv" : "application/json";
    o.p = NULL;
    goto done;
fail:
    http_error_from(r, &err);
done:
    free(o.p);
    chunk_release(&c);
    lift_table_free(t);
    snapshot_release(snap);
}
