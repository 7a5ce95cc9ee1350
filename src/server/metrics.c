/*
 * server/metrics.c - request counters, the duration histogram and the
 * Prometheus text exposition of GET /metrics (metrics.h).
 *
 * Layout: one flat array of atomic counters per kind, indexed
 * [route][method][status slot] for requests and [route][method][bucket]
 * for durations (the sum in integer nanoseconds, so it too is one atomic
 * add). Statuses are mapped to a short fixed list; one the server never
 * sends lands in the "other" slot. With ~35 routes the arrays take
 * ~40 KiB. Rendering visits every slot once (O(routes x methods x
 * (statuses + buckets))), a few microseconds.
 *
 * Text format 0.0.4: "# HELP name text" and "# TYPE name type" lines
 * before the samples of a family; a sample is `name{label="value",...}
 * value`; label values escape backslash, double quote and line feed.
 */
#include "server/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const double metrics_bucket_bounds[METRICS_N_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,  0.5,    1,     2.5,  5,     10,
};

static const unsigned statuses[] = {
    200, 201, 202, 204, 206, 400, 401, 403, 404,
    405, 409, 413, 415, 422, 429, 500, 503,
};
#define N_STATUS (sizeof statuses / sizeof statuses[0] + 1) /* + other */
#define N_BUCKET_SLOTS (METRICS_N_BUCKETS + 1)              /* + +Inf */
#define NS 1000000000ull

static const char *const method_names[METRICS_N_METHODS] = {
    "GET", "POST", "PUT", "DELETE", "HEAD", "other",
};

struct metrics {
    size_t n_routes;
    const char **labels;            /* the caller's strings */
    atomic_uint_fast64_t *requests; /* [route][method][status] */
    atomic_uint_fast64_t *buckets;  /* [route][method][bucket] */
    atomic_uint_fast64_t *sum_ns;   /* [route][method] */
    atomic_uint_fast64_t predictions;
};

enum lift_code metrics_new(size_t n_routes, const char *const *labels,
                           struct metrics **out, struct lift_error *err)
{
    *out = NULL;
    if (n_routes == 0 || !labels)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "metrics need at least one route");
    struct metrics *m = calloc(1, sizeof *m);
    size_t rm = n_routes * METRICS_N_METHODS;
    if (m) {
        m->requests = calloc(rm * N_STATUS, sizeof *m->requests);
        m->buckets = calloc(rm * N_BUCKET_SLOTS, sizeof *m->buckets);
        m->sum_ns = calloc(rm, sizeof *m->sum_ns);
        m->labels = calloc(n_routes, sizeof *m->labels);
    }
    if (!m || !m->requests || !m->buckets || !m->sum_ns || !m->labels) {
        metrics_free(m);
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (metrics)");
    }
    /* calloc's zero bytes are a valid zero for the lock-free atomics of
     * every platform lift builds on; initialise anyway, as C11 asks */
    for (size_t i = 0; i < rm * N_STATUS; i++)
        atomic_init(&m->requests[i], 0);
    for (size_t i = 0; i < rm * N_BUCKET_SLOTS; i++)
        atomic_init(&m->buckets[i], 0);
    for (size_t i = 0; i < rm; i++)
        atomic_init(&m->sum_ns[i], 0);
    atomic_init(&m->predictions, 0);
    m->n_routes = n_routes;
    for (size_t i = 0; i < n_routes; i++)
        m->labels[i] = labels[i] ? labels[i] : "";
    *out = m;
    return LIFT_OK;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    free(m->requests);
    free(m->buckets);
    free(m->sum_ns);
    free(m->labels);
    free(m);
}

size_t metrics_bucket_of(double seconds)
{
    for (size_t b = 0; b < METRICS_N_BUCKETS; b++)
        if (seconds <= metrics_bucket_bounds[b])
            return b;
    return METRICS_N_BUCKETS;
}

enum metrics_method metrics_method_of(const char *method)
{
    for (int i = 0; i < METRICS_OTHER_METHOD; i++)
        if (method && strcmp(method, method_names[i]) == 0)
            return (enum metrics_method)i;
    return METRICS_OTHER_METHOD;
}

static size_t status_slot(unsigned status)
{
    for (size_t i = 0; i + 1 < N_STATUS; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

void metrics_request(struct metrics *m, size_t route, const char *method,
                     unsigned status, double seconds)
{
    if (!m)
        return;
    if (route >= m->n_routes)
        route = m->n_routes - 1;
    size_t rm = route * METRICS_N_METHODS + (size_t)metrics_method_of(method);
    atomic_fetch_add_explicit(&m->requests[rm * N_STATUS + status_slot(status)],
                              1, memory_order_relaxed);
    atomic_fetch_add_explicit(
        &m->buckets[rm * N_BUCKET_SLOTS + metrics_bucket_of(seconds)], 1,
        memory_order_relaxed);
    double ns = seconds > 0 && seconds < 1e9 ? seconds * 1e9 : 0;
    atomic_fetch_add_explicit(&m->sum_ns[rm], (uint_fast64_t)ns,
                              memory_order_relaxed);
}

void metrics_predictions(struct metrics *m, uint64_t n)
{
    if (m)
        atomic_fetch_add_explicit(&m->predictions, n, memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *a)
{
    return (uint64_t)atomic_load_explicit(a, memory_order_relaxed);
}

/* ---- the text ----------------------------------------------------------- */

struct text {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL,
                          t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *q = realloc(t->p, cap);
        if (!q) {
            t->failed = true;
            return;
        }
        t->p = q;
        t->cap = cap;
    }
}

/* A label value with \\, \" and \n escaped. */
static void put_label(struct text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(t, "\\\\");
        else if (*s == '"')
            put(t, "\\\"");
        else if (*s == '\n')
            put(t, "\\n");
        else
            put(t, "%c", *s);
    }
}

static void family(struct text *t, const char *name, const char *type,
                   const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A float as Prometheus reads it (Go's ParseFloat): the shortest of
 * %.15g and %.17g that reads back as the same double. */
static void put_double(struct text *t, double v)
{
    if (isnan(v)) {
        put(t, "NaN");
    } else if (isinf(v)) {
        put(t, v > 0 ? "+Inf" : "-Inf");
    } else {
        char buf[40];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof buf, "%.17g", v);
        put(t, "%s", buf);
    }
}

static void route_labels(struct text *t, const struct metrics *m, size_t r,
                         size_t meth)
{
    put(t, "route=\"");
    put_label(t, m->labels[r]);
    put(t, "\",method=\"%s\"", method_names[meth]);
}

static void render_requests(struct text *t, const struct metrics *m)
{
    family(t, "lift_http_requests_total", "counter",
           "HTTP requests answered, by route template, method and status.");
    for (size_t r = 0; r < m->n_routes; r++)
        for (size_t meth = 0; meth < METRICS_N_METHODS; meth++)
            for (size_t s = 0; s < N_STATUS; s++) {
                size_t i = (r * METRICS_N_METHODS + meth) * N_STATUS + s;
                uint64_t v = load(&m->requests[i]);
                if (!v)
                    continue;
                put(t, "lift_http_requests_total{");
                route_labels(t, m, r, meth);
                if (s + 1 < N_STATUS)
                    put(t, ",status=\"%u\"} %llu\n", statuses[s],
                        (unsigned long long)v);
                else
                    put(t, ",status=\"other\"} %llu\n", (unsigned long long)v);
            }
}

static void render_durations(struct text *t, const struct metrics *m)
{
    static const char name[] = "lift_http_request_duration_seconds";
    family(t, name, "histogram",
           "Time from a request's headers to its answer being queued, by "
           "route template and method.");
    for (size_t r = 0; r < m->n_routes; r++)
        for (size_t meth = 0; meth < METRICS_N_METHODS; meth++) {
            size_t rm = r * METRICS_N_METHODS + meth;
            uint64_t counts[N_BUCKET_SLOTS], total = 0;
            for (size_t b = 0; b < N_BUCKET_SLOTS; b++)
                total += counts[b] = load(&m->buckets[rm * N_BUCKET_SLOTS + b]);
            if (!total)
                continue;
            uint64_t cum = 0;
            for (size_t b = 0; b < N_BUCKET_SLOTS; b++) {
                cum += counts[b];
                put(t, "%s_bucket{", name);
                route_labels(t, m, r, meth);
                put(t, ",le=\"");
                if (b < METRICS_N_BUCKETS)
                    put_double(t, metrics_bucket_bounds[b]);
                else
                    put(t, "+Inf");
                put(t, "\"} %llu\n", (unsigned long long)cum);
            }
            put(t, "%s_sum{", name);
            route_labels(t, m, r, meth);
            uint64_t ns = load(&m->sum_ns[rm]);
            put(t, "} %llu.%09llu\n%s_count{", (unsigned long long)(ns / NS),
                (unsigned long long)(ns % NS), name);
            route_labels(t, m, r, meth);
            put(t, "} %llu\n", (unsigned long long)total);
        }
}

static bool finished_state(const char *state)
{
    return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "cancelled") == 0;
}

static void render_jobs(struct text *t, const struct metrics_state *st)
{
    family(t, "lift_jobs_total", "counter",
           "Jobs finished, by kind and outcome (from the registry, so it "
           "counts since the data dir was made).");
    for (size_t i = 0; i < st->n_jobs; i++) {
        const struct metrics_jobs *j = &st->jobs[i];
        if (!j->kind || !j->state || !finished_state(j->state))
            continue;
        put(t, "lift_jobs_total{kind=\"");
        put_label(t, j->kind);
        put(t, "\",state=\"");
        put_label(t, j->state);
        put(t, "\"} %lld\n", (long long)j->count);
    }
    family(t, "lift_jobs", "gauge", "Jobs waiting or running now, by state.");
    static const char *const live[] = {"queued", "running"};
    for (size_t k = 0; k < 2; k++) {
        int64_t n = 0;
        for (size_t i = 0; i < st->n_jobs; i++)
            if (st->jobs[i].state && strcmp(st->jobs[i].state, live[k]) == 0)
                n += st->jobs[i].count;
        put(t, "lift_jobs{state=\"%s\"} %lld\n", live[k], (long long)n);
    }
}

static void scalar(struct text *t, const char *name, const char *type,
                   const char *help, double v)
{
    family(t, name, type, help);
    put(t, "%s ", name);
    put_double(t, v);
    put(t, "\n");
}

enum lift_code metrics_render(const struct metrics *m,
                              const struct metrics_state *st, char **out,
                              size_t *len, struct lift_error *err)
{
    struct text t = {0};
    *out = NULL;
    *len = 0;
    render_requests(&t, m);
    render_durations(&t, m);
    scalar(&t, "lift_predictions_total", "counter",
           "Records scored by POST /v1/models/{name}:predict.",
           (double)load(&m->predictions));
    render_jobs(&t, st);
    scalar(&t, "lift_tenants", "gauge", "Tenants in the registry.",
           (double)st->tenants);
    scalar(&t, "lift_datasets", "gauge", "Datasets of every tenant.",
           (double)st->datasets);
    scalar(&t, "lift_models", "gauge", "Models of every tenant.",
           (double)st->models);
    scalar(&t, "lift_snapshots_loaded", "gauge",
           "Model versions loaded in memory for scoring.",
           (double)st->snapshots);
    if (st->resident_bytes >= 0)
        scalar(&t, "lift_process_resident_memory_bytes", "gauge",
               "Resident memory of the server process in bytes.",
               (double)st->resident_bytes);
    scalar(&t, "lift_uptime_seconds", "gauge",
           "Seconds since the server started.", st->uptime_s);
    if (t.failed) {
        free(t.p);
        return lift_error_set(err, LIFT_ERR_NOMEM,
                              "out of memory (metrics text)");
    }
    *out = t.p;
    *len = t.len;
    return LIFT_OK;
}

int64_t metrics_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (n != 2 || page <= 0)
        return -1;
    return (int64_t)(resident * (unsigned long long)page);
}
