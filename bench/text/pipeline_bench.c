/*
 * bench/text/pipeline_bench.c - times lift's text pipeline in process:
 * reading a CSV, fitting the pipeline on every row and mapping every row
 * into the training matrix, as `lift train --text COL` does before its
 * learner runs.
 *
 * usage: pipeline_bench FILE --text COL [--target COL] [--repeat N]
 *                       [--no-memo]
 *   The pipeline reads COL as text with the default settings
 *   (docs/TEXT.md) in dict mode; --target names a column left out of the
 *   inputs (as lift train leaves its target out). --no-memo maps the rows
 *   by analysing every value again (lift_pipeline_fit, then
 *   lift_pipeline_transform) instead of from the fit's memo.
 * Each of N repeats (default 5) reads the file and fits and maps it
 * again; prints one JSON line with the median and the minimum of each
 * phase's seconds (CLOCK_MONOTONIC; the process's CPU time instead with
 * LIFT_BENCH_CPU=1 in the environment) and the size of the matrix.
 * Exits 1 on any error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lift/table.h>

#include "features/pipeline.h"

#define MAX_REPEAT 1000

/* Wall seconds (CLOCK_MONOTONIC) or, with LIFT_BENCH_CPU set, the
 * process's CPU seconds, which a loaded machine disturbs less. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(getenv("LIFT_BENCH_CPU") ? CLOCK_PROCESS_CPUTIME_ID
                                           : CLOCK_MONOTONIC,
                  &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double minimum(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

/* One repeat: the three phases' seconds into t[0..3); the matrix size
 * into *nnz. Returns 0 or 1 (error printed). */
static int run_once(const char *path, const char *text, const char *target,
                    bool memo_on, double t[3], size_t *nnz, size_t *n_rows,
                    size_t *n_features)
{
    struct lift_read_opts ro;
    lift_read_opts_init(&ro);
    struct lift_table *tab = NULL;
    struct lift_pipeline *p = NULL;
    struct lift_pipeline_memo *memo = NULL;
    struct lift_binding *b = NULL;
    struct lift_csr x = {0};
    struct lift_error err;
    int ret = 1;
    double t0 = now_s();
    if (lift_table_read_csv(path, &ro, &tab, &err))
        goto done;
    double t1 = now_s();
    const char *texts[1] = {text};
    struct lift_pipeline_spec spec = {0};
    spec.target = target;
    spec.text = texts;
    spec.n_text = 1;
    spec.index = LIFT_INDEX_DICT;
    enum lift_code rc =
        memo_on ? lift_pipeline_fit_memo(tab, NULL, 0, &spec, &p, &memo, &err)
                : lift_pipeline_fit(tab, NULL, 0, &spec, &p, &err);
    if (rc)
        goto done;
    double t2 = now_s();
    if (lift_pipeline_bind(p, tab, false, &b, NULL, &err) ||
        lift_pipeline_transform_memo(b, memo, NULL, lift_table_n_rows(tab), &x,
                                     &err))
        goto done;
    double t3 = now_s();
    t[0] = t1 - t0;
    t[1] = t2 - t1;
    t[2] = t3 - t2;
    *nnz = x.indptr[x.n_rows];
    *n_rows = x.n_rows;
    *n_features = lift_pipeline_n_features(p);
    ret = 0;
done:
    if (ret)
        fprintf(stderr, "pipeline_bench: %s\n", err.msg);
    lift_csr_release(&x);
    lift_binding_free(b);
    lift_pipeline_memo_free(memo);
    lift_pipeline_free(p);
    lift_table_free(tab);
    return ret;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *text = NULL, *target = NULL;
    int repeat = 5;
    bool memo_on = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--text") == 0 && i + 1 < argc)
            text = argv[++i];
        else if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            target = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-memo") == 0)
            memo_on = false;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path || !text || repeat < 1 || repeat > MAX_REPEAT) {
        fprintf(stderr, "usage: pipeline_bench FILE --text COL [--target "
                        "COL] [--repeat N (1..1000)] [--no-memo]\n");
        return 2;
    }
    static double t[3][MAX_REPEAT];
    size_t nnz = 0, n_rows = 0, n_features = 0;
    for (int r = 0; r < repeat; r++) {
        double one[3];
        if (run_once(path, text, target, memo_on, one, &nnz, &n_rows,
                     &n_features))
            return 1;
        for (int k = 0; k < 3; k++)
            t[k][r] = one[k];
    }
    const char *names[3] = {"read", "fit", "map"};
    printf("{\"clock\":\"%s\",\"memo\":%s,\"repeat\":%d,\"rows\":%zu,"
           "\"features\":%zu,"
           "\"nnz\":%zu",
           getenv("LIFT_BENCH_CPU") ? "cpu" : "wall",
           memo_on ? "true" : "false", repeat, n_rows, n_features, nnz);
    for (int k = 0; k < 3; k++)
        printf(",\"%s_min_s\":%.6f,\"%s_median_s\":%.6f", names[k],
               minimum(t[k], repeat), names[k], median(t[k], repeat));
    printf("}\n");
    return 0;
}
