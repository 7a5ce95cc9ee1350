/*
 * data/split.c - deterministic holdout, time and stratified k-fold splits.
 *
 * Buckets: rows are grouped by class with a counting sort (one bucket when
 * there are no strata; LIFT_MISSING_CODE rows get the bucket after the
 * n_strata real ones). Inside a bucket rows stay in increasing order, so
 * the input to every shuffle depends only on the data.
 *
 * Holdout: bucket c draws m_c = round(fraction * n_c) test rows by a
 * partial Fisher-Yates shuffle (m_c swaps) on the stream
 * lift_rng_split(seed, c). Streams are per class so that one class's draw
 * does not depend on how many rows other classes have. A mark per row then
 * yields both sides in increasing order without sorting.
 *
 * K-fold: each bucket is fully shuffled on its own stream and dealt over
 * the folds by one round-robin position that carries on from one bucket
 * to the next. Per class the fold sizes differ by at most one; overall
 * too, so with k <= n_rows every fold has at least one row.
 *
 * Time: rows are sorted by (missing first, value, row). The key is a
 * total order, so the result does not depend on qsort's stability; the
 * last round(fraction * n) rows are the test side.
 *
 * Complexity: holdout, k-fold and fold extraction O(n_rows + n_strata)
 * time and memory; time split O(n_rows log n_rows).
 */
#include <lift/split.h>
#include <lift/table.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"

struct buckets {
    size_t n_buckets;
    size_t *start;  /* n_buckets + 1 offsets into rows */
    uint32_t *rows; /* row indices grouped by bucket */
};

static void buckets_release(struct buckets *b)
{
    lift_free(b->start);
    lift_free(b->rows);
    memset(b, 0, sizeof *b);
}

static enum lift_code check_n_rows(size_t n_rows, struct lift_error *err)
{
    if (n_rows > UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "too many rows for 32-bit row indices (%zu)",
                              n_rows);
    return LIFT_OK;
}

static enum lift_code check_fraction(double fraction, struct lift_error *err)
{
    if (!(fraction > 0.0 && fraction < 1.0))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "test fraction %g outside (0, 1)", fraction);
    return LIFT_OK;
}

/* Groups rows 0..n_rows-1 by class; checks every class id. */
static enum lift_code bucket_rows(size_t n_rows, const uint32_t *strata,
                                  size_t n_strata, struct buckets *b,
                                  struct lift_error *err)
{
    memset(b, 0, sizeof *b);
    if (strata && n_strata > UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "too many classes (%zu) for 32-bit class ids",
                              n_strata);
    b->n_buckets = strata ? n_strata + 1 : 1;
    b->start = lift_calloc(b->n_buckets + 1, sizeof *b->start);
    b->rows = lift_malloc_array(n_rows, sizeof *b->rows);
    if (!b->start || !b->rows) {
        buckets_release(b);
        return lift_error_nomem(err, "split buckets");
    }
    /* start[c + 1] counts class c, then a prefix sum makes it an offset */
    for (size_t r = 0; r < n_rows; r++) {
        size_t c = 0;
        if (strata) {
            uint32_t s = strata[r];
            if (s == LIFT_MISSING_CODE) {
                c = n_strata;
            } else if (s >= n_strata) {
                buckets_release(b);
                return lift_error_set(err, LIFT_ERR_INVALID,
                                      "row %zu: class %u out of range "
                                      "(%zu classes)",
                                      r, s, n_strata);
            } else {
                c = s;
            }
        }
        b->start[c + 1]++;
    }
    for (size_t c = 0; c < b->n_buckets; c++)
        b->start[c + 1] += b->start[c];
    /* fill from the back so each bucket ends up in increasing row order */
    for (size_t r = n_rows; r-- > 0;) {
        size_t c = 0;
        if (strata)
            c = strata[r] == LIFT_MISSING_CODE ? n_strata : strata[r];
        b->rows[--b->start[c + 1]] = (uint32_t)r;
    }
    /* the back fill left the start of bucket c in start[c + 1]; shift the
     * offsets down one place */
    memmove(b->start, b->start + 1, b->n_buckets * sizeof *b->start);
    b->start[b->n_buckets] = n_rows;
    return LIFT_OK;
}

/* Fills *out with the rows whose label equals test_label (test) and the
 * rest (train); n_test is that count, known to the caller. */
static enum lift_code split_by_label(const uint32_t *label, size_t n_rows,
                                     uint32_t test_label, size_t n_test,
                                     struct lift_split *out,
                                     struct lift_error *err)
{
    size_t n_train = n_rows - n_test;
    out->test = lift_malloc_array(n_test, sizeof *out->test);
    out->train = lift_malloc_array(n_train, sizeof *out->train);
    if (!out->test || !out->train) {
        lift_split_release(out);
        return lift_error_nomem(err, "split indices");
    }
    size_t i_test = 0, i_train = 0;
    for (size_t r = 0; r < n_rows; r++) {
        if (label[r] == test_label)
            out->test[i_test++] = (uint32_t)r;
        else
            out->train[i_train++] = (uint32_t)r;
    }
    LIFT_ASSERT(i_test == n_test && i_train == n_train);
    out->n_test = n_test;
    out->n_train = n_train;
    return LIFT_OK;
}

/* The common check of a two-sided split: both sides non-empty. */
static enum lift_code check_sides(size_t n_rows, size_t n_test, double fraction,
                                  struct lift_error *err)
{
    if (n_test == 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "test fraction %g leaves the test side empty "
                              "(%zu rows)",
                              fraction, n_rows);
    if (n_test == n_rows)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "test fraction %g leaves the training side "
                              "empty (%zu rows)",
                              fraction, n_rows);
    return LIFT_OK;
}

void lift_split_release(struct lift_split *s)
{
    if (!s)
        return;
    lift_free(s->train);
    lift_free(s->test);
    memset(s, 0, sizeof *s);
}

enum lift_code lift_split_holdout(size_t n_rows, const uint32_t *strata,
                                  size_t n_strata, double test_fraction,
                                  uint64_t seed, struct lift_split *out,
                                  struct lift_error *err)
{
    struct buckets b = {0};
    uint32_t *mark = NULL;
    enum lift_code rc;

    if (!out)
        return lift_error_set(err, LIFT_ERR_INVALID, "no split to fill");
    memset(out, 0, sizeof *out);
    if ((rc = check_n_rows(n_rows, err)) != LIFT_OK ||
        (rc = check_fraction(test_fraction, err)) != LIFT_OK)
        return rc;
    if ((rc = bucket_rows(n_rows, strata, n_strata, &b, err)) != LIFT_OK)
        return rc;

    size_t n_test = 0;
    for (size_t c = 0; c < b.n_buckets; c++) {
        size_t n_c = b.start[c + 1] - b.start[c];
        n_test += (size_t)round(test_fraction * (double)n_c);
    }
    if ((rc = check_sides(n_rows, n_test, test_fraction, err)) != LIFT_OK)
        goto done;

    mark = lift_calloc(n_rows, sizeof *mark);
    if (!mark) {
        rc = lift_error_nomem(err, "split marks");
        goto done;
    }
    for (size_t c = 0; c < b.n_buckets; c++) {
        uint32_t *rows = b.rows + b.start[c];
        size_t n_c = b.start[c + 1] - b.start[c];
        size_t m_c = (size_t)round(test_fraction * (double)n_c);
        struct lift_rng rng;
        lift_rng_split(&rng, seed, c);
        /* partial Fisher-Yates: rows[0..m_c) become a uniform sample */
        for (size_t i = 0; i < m_c; i++) {
            size_t j = i + (size_t)lift_rng_below(&rng, n_c - i);
            uint32_t t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
            mark[rows[i]] = 1;
        }
    }
    rc = split_by_label(mark, n_rows, 1, n_test, out, err);

done:
    lift_free(mark);
    buckets_release(&b);
    return rc;
}

struct time_key {
    double value;
    uint32_t row;
    int present; /* 0 for missing, so missing sorts first */
};

static int cmp_time_key(const void *pa, const void *pb)
{
    const struct time_key *a = pa, *b = pb;
    if (a->present != b->present)
        return a->present - b->present;
    if (a->present && a->value != b->value)
        return a->value < b->value ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

enum lift_code lift_split_time(const struct lift_table *t, size_t time_col,
                               double test_fraction, struct lift_split *out,
                               struct lift_error *err)
{
    struct time_key *keys = NULL;
    uint32_t *mark = NULL;
    enum lift_code rc;

    if (!out)
        return lift_error_set(err, LIFT_ERR_INVALID, "no split to fill");
    memset(out, 0, sizeof *out);
    if (!t)
        return lift_error_set(err, LIFT_ERR_INVALID, "no table to split");
    size_t n_rows = lift_table_n_rows(t);
    if ((rc = check_n_rows(n_rows, err)) != LIFT_OK ||
        (rc = check_fraction(test_fraction, err)) != LIFT_OK)
        return rc;

    const double *values = NULL;
    if (time_col != (size_t)-1) {
        size_t n_cols = lift_table_n_cols(t);
        if (time_col >= n_cols)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "time column %zu out of range "
                                  "(%zu columns)",
                                  time_col, n_cols);
        enum lift_col_type type = lift_table_col_type(t, time_col);
        if (type != LIFT_COL_NUMERIC && type != LIFT_COL_DATE)
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "time column '%s' is %s, not numeric or "
                                  "date",
                                  lift_table_col_name(t, time_col),
                                  lift_col_type_name(type));
        values = lift_table_values(t, time_col);
        LIFT_ASSERT(values != NULL || n_rows == 0);
    }

    size_t n_test = (size_t)round(test_fraction * (double)n_rows);
    if ((rc = check_sides(n_rows, n_test, test_fraction, err)) != LIFT_OK)
        return rc;

    mark = lift_calloc(n_rows, sizeof *mark);
    if (!mark) {
        rc = lift_error_nomem(err, "split marks");
        goto done;
    }
    if (!values) {
        for (size_t r = n_rows - n_test; r < n_rows; r++)
            mark[r] = 1;
    } else {
        keys = lift_malloc_array(n_rows, sizeof *keys);
        if (!keys) {
            rc = lift_error_nomem(err, "time split keys");
            goto done;
        }
        for (size_t r = 0; r < n_rows; r++) {
            keys[r].present = !isnan(values[r]);
            keys[r].value = keys[r].present ? values[r] : 0.0;
            keys[r].row = (uint32_t)r;
        }
        qsort(keys, n_rows, sizeof *keys, cmp_time_key);
        for (size_t i = n_rows - n_test; i < n_rows; i++)
            mark[keys[i].row] = 1;
    }
    rc = split_by_label(mark, n_rows, 1, n_test, out, err);

done:
    lift_free(keys);
    lift_free(mark);
    return rc;
}

enum lift_code lift_split_kfold(size_t n_rows, const uint32_t *strata,
                                size_t n_strata, unsigned k, uint64_t seed,
                                uint32_t **fold, struct lift_error *err)
{
    struct buckets b = {0};
    uint32_t *f = NULL;
    enum lift_code rc;

    if (!fold)
        return lift_error_set(err, LIFT_ERR_INVALID, "no fold array to fill");
    *fold = NULL;
    if ((rc = check_n_rows(n_rows, err)) != LIFT_OK)
        return rc;
    if (n_rows < 2)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "k-fold needs at least 2 rows, got %zu", n_rows);
    if (k < 2 || k > n_rows)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "k %u outside [2, %zu] (the row count)", k,
                              n_rows);
    if ((rc = bucket_rows(n_rows, strata, n_strata, &b, err)) != LIFT_OK)
        return rc;

    f = lift_malloc_array(n_rows, sizeof *f);
    if (!f) {
        rc = lift_error_nomem(err, "fold array");
        goto done;
    }
    uint32_t pos = 0;
    for (size_t c = 0; c < b.n_buckets; c++) {
        uint32_t *rows = b.rows + b.start[c];
        size_t n_c = b.start[c + 1] - b.start[c];
        struct lift_rng rng;
        lift_rng_split(&rng, seed, c);
        lift_rng_shuffle(&rng, rows, n_c);
        for (size_t i = 0; i < n_c; i++) {
            f[rows[i]] = pos;
            pos = pos + 1 == k ? 0 : pos + 1;
        }
    }
    *fold = f;
    f = NULL;

done:
    lift_free(f);
    buckets_release(&b);
    return rc;
}

enum lift_code lift_split_fold(const uint32_t *fold, size_t n_rows, unsigned f,
                               struct lift_split *out, struct lift_error *err)
{
    enum lift_code rc;

    if (!out)
        return lift_error_set(err, LIFT_ERR_INVALID, "no split to fill");
    memset(out, 0, sizeof *out);
    if ((rc = check_n_rows(n_rows, err)) != LIFT_OK)
        return rc;
    if (!fold)
        return lift_error_set(err, LIFT_ERR_INVALID, "no fold array");
    size_t n_test = 0;
    for (size_t r = 0; r < n_rows; r++)
        n_test += fold[r] == f;
    if (n_test == 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "fold %u holds no row (%zu rows)", f, n_rows);
    if (n_test == n_rows)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "fold %u holds every row (%zu rows)", f, n_rows);
    return split_by_label(fold, n_rows, f, n_test, out, err);
}
