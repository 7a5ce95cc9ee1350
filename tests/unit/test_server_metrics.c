/*
 * tests/unit/test_server_metrics.c - the counters of GET /metrics and
 * their Prometheus text (server/metrics.c): histogram bucketing at and
 * around the bounds, method slots, and the rendered text parsed back
 * line by line - HELP and TYPE before every family, well-formed labels
 * and values, cumulative buckets ending in +Inf equal to _count, counter
 * values equal to what was recorded (also from several threads at once),
 * label escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/metrics.h"

/* ---- a small parser of the exposition text ------------------------------ */

#define MAX_SAMPLES 2048
#define MAX_FAMILIES 64
#define MAX_LABELS 4

struct sample {
    char name[96];
    int n_labels;
    char key[MAX_LABELS][32];
    char value[MAX_LABELS][128];
    double v;
};

struct parsed {
    int n_families;
    char family[MAX_FAMILIES][96];
    char type[MAX_FAMILIES][16];
    bool help[MAX_FAMILIES];
    int n;
    struct sample s[MAX_SAMPLES];
};

static int family_index(struct parsed *p, const char *name)
{
    for (int i = 0; i < p->n_families; i++)
        if (strcmp(p->family[i], name) == 0)
            return i;
    return -1;
}

/* The family a sample name belongs to: itself, or a histogram's base. */
static int family_of_sample(struct parsed *p, const char *name)
{
    int i = family_index(p, name);
    if (i >= 0)
        return i;
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(name), m = strlen(suffixes[k]);
        if (n > m && strcmp(name + n - m, suffixes[k]) == 0) {
            char base[96];
            snprintf(base, sizeof base, "%.*s", (int)(n - m), name);
            i = family_index(p, base);
            if (i >= 0 && strcmp(p->type[i], "histogram") == 0)
                return i;
        }
    }
    return -1;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

/* Parses one sample line; fails the test on a malformed one. */
static void parse_sample(struct parsed *p, const char *line)
{
    assert_true(p->n < MAX_SAMPLES);
    struct sample *s = &p->s[p->n++];
    memset(s, 0, sizeof *s);
    size_t n = strcspn(line, "{ ");
    assert_true(name_ok(line, n));
    assert_true(n < sizeof s->name);
    memcpy(s->name, line, n);
    const char *c = line + n;
    if (*c == '{') {
        c++;
        while (*c != '}') {
            assert_true(s->n_labels < MAX_LABELS);
            size_t k = strcspn(c, "=");
            assert_true(name_ok(c, k) && k < sizeof s->key[0]);
            memcpy(s->key[s->n_labels], c, k);
            c += k;
            assert_true(c[0] == '=' && c[1] == '"');
            c += 2;
            size_t o = 0;
            while (*c != '"') {
                assert_true(*c != '\0' && *c != '\n');
                char ch = *c++;
                if (ch == '\\') {
                    ch = *c++;
                    assert_true(ch == '\\' || ch == '"' || ch == 'n');
                    if (ch == 'n')
                        ch = '\n';
                }
                assert_true(o + 1 < sizeof s->value[0]);
                s->value[s->n_labels][o++] = ch;
            }
            c++;
            s->n_labels++;
            if (*c == ',')
                c++;
            else
                assert_int_equal(*c, '}');
        }
        c++;
    }
    assert_int_equal(*c, ' ');
    c++;
    char *end;
    if (strcmp(c, "+Inf") == 0 || strcmp(c, "NaN") == 0) {
        s->v = strtod(c, &end);
    } else {
        s->v = strtod(c, &end);
        assert_true(end != c && *end == '\0');
    }
    assert_true(family_of_sample(p, s->name) >= 0);
}

/* Parses the whole text: every line ends in '\n'; a family's HELP and
 * TYPE come before its samples; a family is declared once. */
static void parse(const char *text, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    size_t len = strlen(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    char line[1024];
    for (const char *at = text; *at;) {
        const char *nl = strchr(at, '\n');
        size_t n = (size_t)(nl - at);
        assert_true(n < sizeof line);
        memcpy(line, at, n);
        line[n] = '\0';
        at = nl + 1;
        char name[96], rest[256];
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%95s %255[^\n]", name, rest), 2);
            assert_int_equal(family_index(p, name), -1);
            assert_true(p->n_families < MAX_FAMILIES);
            snprintf(p->family[p->n_families], sizeof p->family[0], "%s", name);
            p->help[p->n_families++] = true;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%95s %15s", name, rest), 2);
            int i = family_index(p, name);
            assert_true(i == p->n_families - 1); /* right after its HELP */
            assert_true(strcmp(rest, "counter") == 0 ||
                        strcmp(rest, "gauge") == 0 ||
                        strcmp(rest, "histogram") == 0);
            snprintf(p->type[i], sizeof p->type[0], "%.15s", rest);
        } else {
            assert_true(line[0] != '#' && line[0] != '\0');
            parse_sample(p, line);
        }
    }
}

static const char *label(const struct sample *s, const char *key)
{
    for (int i = 0; i < s->n_labels; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->value[i];
    return NULL;
}

/* The value of the sample with this name and labels (pairs, NULL-ended);
 * -1 when there is none. */
static double value_of(const struct parsed *p, const char *name, ...)
{
    for (int i = 0; i < p->n; i++) {
        const struct sample *s = &p->s[i];
        if (strcmp(s->name, name) != 0)
            continue;
        va_list ap;
        va_start(ap, name);
        bool all = true;
        int n_given = 0;
        const char *k;
        while ((k = va_arg(ap, const char *))) {
            const char *v = va_arg(ap, const char *);
            const char *have = label(s, k);
            n_given++;
            if (!have || strcmp(have, v) != 0)
                all = false;
        }
        va_end(ap);
        if (all && n_given == s->n_labels)
            return s->v;
    }
    return -1;
}

/* ---- fixtures ----------------------------------------------------------- */

static const char *const labels[] = {
    "/v1/models/{name}:predict",
    "/v1/datasets",
    "odd \"label\" \\ with\nnewline",
    "unmatched",
};
#define N_LABELS (sizeof labels / sizeof labels[0])

static struct metrics_state empty_state(void)
{
    struct metrics_state st;
    memset(&st, 0, sizeof st);
    st.resident_bytes = -1;
    return st;
}

static char *render(struct metrics *m, const struct metrics_state *st)
{
    struct lift_error err;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(metrics_render(m, st, &text, &len, &err), LIFT_OK);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    return text;
}

/* ---- tests -------------------------------------------------------------- */

static void bucket_of_bounds_inclusive_and_inf(void **state)
{
    (void)state;
    assert_int_equal(metrics_bucket_of(0), 0);
    assert_int_equal(metrics_bucket_of(-1), 0);
    assert_int_equal(metrics_bucket_of(0.0005), 0); /* le is inclusive */
    assert_int_equal(metrics_bucket_of(0.0005000001), 1);
    assert_int_equal(metrics_bucket_of(0.001), 1);
    assert_int_equal(metrics_bucket_of(0.3), 9); /* (0.25, 0.5] */
    assert_int_equal(metrics_bucket_of(10), METRICS_N_BUCKETS - 1);
    assert_int_equal(metrics_bucket_of(10.0001), METRICS_N_BUCKETS);
    assert_int_equal(metrics_bucket_of(1e300), METRICS_N_BUCKETS);
    assert_int_equal(metrics_bucket_of(NAN), METRICS_N_BUCKETS);
    for (size_t b = 1; b < METRICS_N_BUCKETS; b++)
        assert_true(metrics_bucket_bounds[b] > metrics_bucket_bounds[b - 1]);
}

static void method_of_known_and_other(void **state)
{
    (void)state;
    assert_int_equal(metrics_method_of("GET"), METRICS_GET);
    assert_int_equal(metrics_method_of("POST"), METRICS_POST);
    assert_int_equal(metrics_method_of("PUT"), METRICS_PUT);
    assert_int_equal(metrics_method_of("DELETE"), METRICS_DELETE);
    assert_int_equal(metrics_method_of("HEAD"), METRICS_HEAD);
    assert_int_equal(metrics_method_of("get"), METRICS_OTHER_METHOD);
    assert_int_equal(metrics_method_of("BREW"), METRICS_OTHER_METHOD);
    assert_int_equal(metrics_method_of(NULL), METRICS_OTHER_METHOD);
}

static void new_no_routes_invalid(void **state)
{
    (void)state;
    struct metrics *m = (struct metrics *)1;
    struct lift_error err;
    assert_int_equal(metrics_new(0, labels, &m, &err), LIFT_ERR_INVALID);
    assert_null(m);
    metrics_free(NULL);
}

static void render_empty_families_declared_scalars_present(void **state)
{
    (void)state;
    struct metrics *m;
    struct lift_error err;
    assert_int_equal(metrics_new(N_LABELS, labels, &m, &err), LIFT_OK);
    struct metrics_state st = empty_state();
    st.tenants = 3;
    st.datasets = 5;
    st.models = 7;
    st.snapshots = 2;
    st.uptime_s = 12.5;
    char *text = render(m, &st);
    struct parsed *p = malloc(sizeof *p);
    parse(text, p);
    assert_true(family_index(p, "lift_http_requests_total") >= 0);
    assert_string_equal(
        p->type[family_index(p, "lift_http_request_duration_seconds")],
        "histogram");
    assert_string_equal(p->type[family_index(p, "lift_predictions_total")],
                        "counter");
    assert_int_equal(family_index(p, "lift_process_resident_memory_bytes"),
                     -1); /* unknown: left out */
    assert_true(value_of(p, "lift_http_requests_total", NULL) < 0);
    assert_true(value_of(p, "lift_predictions_total", NULL) == 0);
    assert_true(value_of(p, "lift_tenants", NULL) == 3);
    assert_true(value_of(p, "lift_datasets", NULL) == 5);
    assert_true(value_of(p, "lift_models", NULL) == 7);
    assert_true(value_of(p, "lift_snapshots_loaded", NULL) == 2);
    assert_true(value_of(p, "lift_uptime_seconds", NULL) == 12.5);
    assert_true(value_of(p, "lift_jobs", "state", "queued", NULL) == 0);
    assert_true(value_of(p, "lift_jobs", "state", "running", NULL) == 0);
    free(p);
    free(text);
    metrics_free(m);
}

static void render_requests_counted_by_route_method_status(void **state)
{
    (void)state;
    struct metrics *m;
    struct lift_error err;
    assert_int_equal(metrics_new(N_LABELS, labels, &m, &err), LIFT_OK);
    for (int i = 0; i < 5; i++)
        metrics_request(m, 0, "POST", 200, 0.0002);
    metrics_request(m, 0, "POST", 422, 0.003);
    metrics_request(m, 0, "POST", 200, 20.0);
    metrics_request(m, 1, "GET", 200, 0.0007);
    metrics_request(m, 1, "POST", 201, 0.3);
    metrics_request(m, 99, "BREW", 418, 0.0001); /* past the end: last */
    metrics_predictions(m, 40);
    metrics_predictions(m, 2);
    struct metrics_state st = empty_state();
    st.resident_bytes = 4096;
    char *text = render(m, &st);
    struct parsed *p = malloc(sizeof *p);
    parse(text, p);
    const char *r0 = labels[0];
    assert_true(value_of(p, "lift_http_requests_total", "route", r0, "method",
                         "POST", "status", "200", NULL) == 6);
    assert_true(value_of(p, "lift_http_requests_total", "route", r0, "method",
                         "POST", "status", "422", NULL) == 1);
    assert_true(value_of(p, "lift_http_requests_total", "route", "/v1/datasets",
                         "method", "GET", "status", "200", NULL) == 1);
    assert_true(value_of(p, "lift_http_requests_total", "route", "/v1/datasets",
                         "method", "POST", "status", "201", NULL) == 1);
    assert_true(value_of(p, "lift_http_requests_total", "route", "unmatched",
                         "method", "other", "status", "other", NULL) == 1);
    assert_true(value_of(p, "lift_predictions_total", NULL) == 42);
    assert_true(value_of(p, "lift_process_resident_memory_bytes", NULL) ==
                4096);
    /* the histogram of the predict route: cumulative, +Inf = count */
    const char *h = "lift_http_request_duration_seconds";
    char bucket[128], sum[128], count[128];
    snprintf(bucket, sizeof bucket, "%s_bucket", h);
    snprintf(sum, sizeof sum, "%s_sum", h);
    snprintf(count, sizeof count, "%s_count", h);
    assert_true(value_of(p, bucket, "route", r0, "method", "POST", "le",
                         "0.0005", NULL) == 5);
    assert_true(value_of(p, bucket, "route", r0, "method", "POST", "le",
                         "0.0025", NULL) == 5);
    assert_true(value_of(p, bucket, "route", r0, "method", "POST", "le",
                         "0.005", NULL) == 6);
    assert_true(value_of(p, bucket, "route", r0, "method", "POST", "le", "10",
                         NULL) == 6);
    assert_true(value_of(p, bucket, "route", r0, "method", "POST", "le", "+Inf",
                         NULL) == 7);
    assert_true(value_of(p, count, "route", r0, "method", "POST", NULL) == 7);
    double s = value_of(p, sum, "route", r0, "method", "POST", NULL);
    assert_true(fabs(s - (5 * 0.0002 + 0.003 + 20.0)) < 1e-6);
    /* every histogram series: buckets non-decreasing, ending at count */
    for (int i = 0; i < p->n; i++) {
        const struct sample *b = &p->s[i];
        if (strcmp(b->name, bucket) != 0 || strcmp(label(b, "le"), "+Inf") != 0)
            continue;
        assert_true(b->v == value_of(p, count, "route", label(b, "route"),
                                     "method", label(b, "method"), NULL));
    }
    double prev = -1;
    for (int i = 0; i < p->n; i++) {
        const struct sample *b = &p->s[i];
        if (strcmp(b->name, bucket) != 0 || strcmp(label(b, "route"), r0) != 0)
            continue;
        assert_true(b->v >= prev);
        prev = b->v;
    }
    free(p);
    free(text);
    metrics_free(m);
}

static void render_label_escaped_and_read_back(void **state)
{
    (void)state;
    struct metrics *m;
    struct lift_error err;
    assert_int_equal(metrics_new(N_LABELS, labels, &m, &err), LIFT_OK);
    metrics_request(m, 2, "GET", 200, 0.01);
    char *text = render(m, &(struct metrics_state){.resident_bytes = -1});
    assert_non_null(
        strstr(text, "route=\"odd \\\"label\\\" \\\\ with\\nnewline\""));
    struct parsed *p = malloc(sizeof *p);
    parse(text, p);
    assert_true(value_of(p, "lift_http_requests_total", "route", labels[2],
                         "method", "GET", "status", "200", NULL) == 1);
    free(p);
    free(text);
    metrics_free(m);
}

static void render_jobs_finished_counter_live_gauges(void **state)
{
    (void)state;
    struct metrics *m;
    struct lift_error err;
    assert_int_equal(metrics_new(N_LABELS, labels, &m, &err), LIFT_OK);
    const struct metrics_jobs jobs[] = {
        {"score", "queued", 1},    {"score", "succeeded", 4},
        {"train", "cancelled", 1}, {"train", "failed", 2},
        {"train", "queued", 2},    {"train", "running", 1},
        {"train", "succeeded", 9},
    };
    struct metrics_state st = empty_state();
    st.jobs = jobs;
    st.n_jobs = sizeof jobs / sizeof jobs[0];
    char *text = render(m, &st);
    struct parsed *p = malloc(sizeof *p);
    parse(text, p);
    assert_true(value_of(p, "lift_jobs_total", "kind", "train", "state",
                         "succeeded", NULL) == 9);
    assert_true(value_of(p, "lift_jobs_total", "kind", "train", "state",
                         "failed", NULL) == 2);
    assert_true(value_of(p, "lift_jobs_total", "kind", "score", "state",
                         "succeeded", NULL) == 4);
    assert_true(value_of(p, "lift_jobs_total", "kind", "train", "state",
                         "queued", NULL) < 0); /* not finished */
    assert_true(value_of(p, "lift_jobs", "state", "queued", NULL) == 3);
    assert_true(value_of(p, "lift_jobs", "state", "running", NULL) == 1);
    free(p);
    free(text);
    metrics_free(m);
}

#define N_THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
    struct metrics *m = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        metrics_request(m, 0, "POST", 200, 0.001 * (i % 7));
        metrics_predictions(m, 3);
    }
    return NULL;
}

static void request_from_threads_no_count_lost(void **state)
{
    (void)state;
    struct metrics *m;
    struct lift_error err;
    assert_int_equal(metrics_new(N_LABELS, labels, &m, &err), LIFT_OK);
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, m), 0);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = render(m, &(struct metrics_state){.resident_bytes = -1});
    struct parsed *p = malloc(sizeof *p);
    parse(text, p);
    double total = N_THREADS * PER_THREAD;
    assert_true(value_of(p, "lift_http_requests_total", "route", labels[0],
                         "method", "POST", "status", "200", NULL) == total);
    assert_true(value_of(p, "lift_http_request_duration_seconds_count", "route",
                         labels[0], "method", "POST", NULL) == total);
    assert_true(value_of(p, "lift_predictions_total", NULL) == 3 * total);
    free(p);
    free(text);
    metrics_free(m);
}

static void resident_bytes_positive(void **state)
{
    (void)state;
    int64_t rss = metrics_resident_bytes();
    assert_true(rss > 0);
    assert_true(rss % 4096 == 0 || rss % 1024 == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_of_bounds_inclusive_and_inf),
        cmocka_unit_test(method_of_known_and_other),
        cmocka_unit_test(new_no_routes_invalid),
        cmocka_unit_test(render_empty_families_declared_scalars_present),
        cmocka_unit_test(render_requests_counted_by_route_method_status),
        cmocka_unit_test(render_label_escaped_and_read_back),
        cmocka_unit_test(render_jobs_finished_counter_live_gauges),
        cmocka_unit_test(request_from_threads_no_count_lost),
        cmocka_unit_test(resident_bytes_positive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
