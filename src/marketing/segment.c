/*
 * marketing/segment.c - customer segments: encoding, k-means++, Lloyd,
 * silhouette, and the per-segment report.
 *
 * The encoded matrix is dense (n x d doubles, row-major): customer tables
 * have tens of encoded columns, where a dense row is both smaller and
 * faster than a sparse one. Seeding follows scikit-learn's greedy
 * k-means++ (Arthur and Vassilvitskii 2007): the first centre is a
 * uniform row; each next one is the best, by the potential (sum of
 * squared distances to the nearest centre) it leaves, of 2 + floor(ln k)
 * rows drawn with probability proportional to the squared distance to
 * the nearest centre so far. Lloyd's iterations then alternate the
 * nearest-centre assignment (O(n k d)) and the means; an empty cluster
 * takes the row farthest from its centre. The loop stops when no label
 * changes or when the summed squared centre movement is at most tol x
 * the mean column variance; a last assignment gives the labels and the
 * inertia of the final centres. The silhouette uses the sample's
 * distances once per k: O(m^2 d) for m sampled rows.
 */
#include <lift/segment.h>
#include <lift/table.h>

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/parse.h"
#include "marketing/common.h"
#include "marketing/segment.h"

#define MAX_K 1000
#define TOP_LEVELS 10
#define N_DISTINGUISH 5

struct lift_segment_opts {
    size_t k; /* 0: choose by silhouette */
    char *columns, *drop, *target, *positive;
    uint64_t seed;
    unsigned n_init, max_iter;
    double tol;
    size_t k_max, sample;
    struct lift_mkt_progress pg;
};

enum lift_code lift_segment_opts_new(struct lift_segment_opts **out,
                                     struct lift_error *err)
{
    struct lift_segment_opts *o = lift_calloc(1, sizeof *o);
    *out = NULL;
    if (!o)
        return lift_error_nomem(err, "segment options");
    o->seed = 42;
    o->n_init = 10;
    o->max_iter = 300;
    o->tol = 1e-4;
    o->k_max = 10;
    o->sample = 5000;
    *out = o;
    return LIFT_OK;
}

void lift_segment_opts_free(struct lift_segment_opts *o)
{
    if (!o)
        return;
    lift_free(o->columns);
    lift_free(o->drop);
    lift_free(o->target);
    lift_free(o->positive);
    lift_free(o);
}

static enum lift_code whole(const char *key, const char *value, double lo,
                            double hi, double *out, struct lift_error *err)
{
    double v;
    if (!lift_parse_number(value, strlen(value), &v) || v != floor(v) ||
        v < lo || v > hi)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "bad value '%s' for '%s': want a whole number "
                              "from %g to %g",
                              value, key, lo, hi);
    *out = v;
    return LIFT_OK;
}

enum lift_code lift_segment_opts_set(struct lift_segment_opts *o,
                                     const char *key, const char *value,
                                     struct lift_error *err)
{
    double v;
    enum lift_code rc;
    if (!key || !value)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "missing option key or value");
    if (strcmp(key, "k") == 0) {
        if (strcmp(value, "auto") == 0) {
            o->k = 0;
            return LIFT_OK;
        }
        if ((rc = whole(key, value, 1, MAX_K, &v, err)))
            return rc;
        o->k = (size_t)v;
        return LIFT_OK;
    }
    if (strcmp(key, "columns") == 0)
        return lift_mkt_text(&o->columns, key, value, err);
    if (strcmp(key, "drop") == 0)
        return lift_mkt_text(&o->drop, key, value, err);
    if (strcmp(key, "target") == 0)
        return lift_mkt_text(&o->target, key, value, err);
    if (strcmp(key, "positive") == 0)
        return lift_mkt_text(&o->positive, key, value, err);
    if (strcmp(key, "seed") == 0) {
        if ((rc = whole(key, value, 0, 9007199254740992.0, &v, err)))
            return rc;
        o->seed = (uint64_t)v;
        return LIFT_OK;
    }
    if (strcmp(key, "n-init") == 0) {
        if ((rc = whole(key, value, 1, 1000, &v, err)))
            return rc;
        o->n_init = (unsigned)v;
        return LIFT_OK;
    }
    if (strcmp(key, "max-iter") == 0) {
        if ((rc = whole(key, value, 1, 100000, &v, err)))
            return rc;
        o->max_iter = (unsigned)v;
        return LIFT_OK;
    }
    if (strcmp(key, "k-max") == 0) {
        if ((rc = whole(key, value, 2, 100, &v, err)))
            return rc;
        o->k_max = (size_t)v;
        return LIFT_OK;
    }
    if (strcmp(key, "sample") == 0) {
        if ((rc = whole(key, value, 10, 20000, &v, err)))
            return rc;
        o->sample = (size_t)v;
        return LIFT_OK;
    }
    if (strcmp(key, "tol") == 0) {
        if (!lift_parse_number(value, strlen(value), &v) || !(v >= 0) || v > 1)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad value '%s' for 'tol': want a number "
                                  "from 0 to 1",
                                  value);
        o->tol = v;
        return LIFT_OK;
    }
    return lift_error_set(err, LIFT_ERR_INVALID, "unknown option '%s'", key);
}

/* ---- k-means ------------------------------------------------------------ */

static double sqdist(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* Nearest centre of every row; returns the inertia. */
static double assign(const double *x, size_t n, size_t d, const double *c,
                     size_t k, uint32_t *label, double *dist, size_t *changed)
{
    double total = 0;
    size_t ch = 0;
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        double best = INFINITY;
        uint32_t bl = 0;
        for (size_t c0 = 0; c0 < k; c0++) {
            double s = sqdist(xi, c + c0 * d, d);
            if (s < best) {
                best = s;
                bl = (uint32_t)c0;
            }
        }
        ch += label[i] != bl;
        label[i] = bl;
        dist[i] = best;
        total += best;
    }
    if (changed)
        *changed = ch;
    return total;
}

/* Index of the row where the cumulative sum of w first passes r. */
static size_t pick(const double *w, size_t n, double r)
{
    double cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += w[i];
        if (cum > r)
            return i;
    }
    /* r at the very top (rounding): the last row of positive weight */
    for (size_t i = n; i-- > 0;)
        if (w[i] > 0)
            return i;
    return n - 1;
}

static void plusplus(const double *x, size_t n, size_t d, size_t k,
                     struct lift_rng *rng, double *c, double *closest,
                     double *cand_d, double *best_d)
{
    size_t trials = 2 + (size_t)log((double)k);
    size_t first = (size_t)lift_rng_below(rng, n);
    memcpy(c, x + first * d, d * sizeof *c);
    double pot = 0;
    for (size_t i = 0; i < n; i++) {
        closest[i] = sqdist(x + i * d, c, d);
        pot += closest[i];
    }
    for (size_t m = 1; m < k; m++) {
        double best_pot = INFINITY;
        size_t best = 0;
        for (size_t t = 0; t < trials; t++) {
            size_t cand = pot > 0
                              ? pick(closest, n, lift_rng_uniform(rng) * pot)
                              : (size_t)lift_rng_below(rng, n);
            const double *xc = x + cand * d;
            double p = 0;
            for (size_t i = 0; i < n; i++) {
                double s = sqdist(x + i * d, xc, d);
                cand_d[i] = s < closest[i] ? s : closest[i];
                p += cand_d[i];
            }
            if (p < best_pot) {
                best_pot = p;
                best = cand;
                memcpy(best_d, cand_d, n * sizeof *best_d);
            }
        }
        memcpy(c + m * d, x + best * d, d * sizeof *c);
        memcpy(closest, best_d, n * sizeof *closest);
        pot = best_pot;
    }
}

enum lift_code kmeans_fit(const double *x, size_t n, size_t d, size_t k,
                          unsigned n_init, unsigned max_iter, double tol,
                          uint64_t seed, double *centers, uint32_t *label,
                          double *inertia, unsigned *iters,
                          const struct lift_mkt_progress *pg,
                          struct lift_error *err)
{
    LIFT_ASSERT(k >= 1 && k <= n);
    double *c = lift_malloc_array(k * d, sizeof *c);
    double *nc = lift_malloc_array(k * d, sizeof *nc);
    size_t *cnt = lift_malloc_array(k, sizeof *cnt);
    uint32_t *lab = lift_malloc_array(n, sizeof *lab);
    double *dist = lift_malloc_array(n, sizeof *dist);
    double *s1 = lift_malloc_array(n, sizeof *s1);
    double *s2 = lift_malloc_array(n, sizeof *s2);
    enum lift_code rc = LIFT_OK;
    if (!c || !nc || !cnt || !lab || !dist || !s1 || !s2) {
        rc = lift_error_nomem(err, "k-means");
        goto done;
    }
    /* Absolute tolerance: tol x the mean column variance. */
    double var = 0;
    for (size_t j = 0; j < d; j++) {
        double m = 0, q = 0;
        for (size_t i = 0; i < n; i++)
            m += x[i * d + j];
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            q += (x[i * d + j] - m) * (x[i * d + j] - m);
        var += q / (double)n;
    }
    double tol_abs = d ? tol * var / (double)d : 0;
    *inertia = INFINITY;
    for (unsigned run = 0; run < n_init; run++) {
        struct lift_rng rng;
        lift_rng_split(&rng, seed, run);
        plusplus(x, n, d, k, &rng, c, dist, s1, s2);
        for (size_t i = 0; i < n; i++)
            lab[i] = UINT32_MAX;
        unsigned it = 0;
        while (it < max_iter) {
            if ((rc = lift_mkt_progress(pg, "kmeans", run + 1, n_init, err)))
                goto done;
            size_t changed;
            assign(x, n, d, c, k, lab, dist, &changed);
            it++;
            if (changed == 0)
                break;
            memset(nc, 0, k * d * sizeof *nc);
            memset(cnt, 0, k * sizeof *cnt);
            for (size_t i = 0; i < n; i++) {
                double *dst = nc + (size_t)lab[i] * d;
                const double *xi = x + i * d;
                cnt[lab[i]]++;
                for (size_t j = 0; j < d; j++)
                    dst[j] += xi[j];
            }
            for (size_t m = 0; m < k; m++) {
                if (cnt[m] == 0) {
                    /* Empty: the row farthest from its centre. */
                    size_t far = 0;
                    for (size_t i = 1; i < n; i++)
                        if (dist[i] > dist[far])
                            far = i;
                    memcpy(nc + m * d, x + far * d, d * sizeof *nc);
                    dist[far] = 0;
                    continue;
                }
                for (size_t j = 0; j < d; j++)
                    nc[m * d + j] /= (double)cnt[m];
            }
            double shift = 0;
            for (size_t j = 0; j < k * d; j++)
                shift += (nc[j] - c[j]) * (nc[j] - c[j]);
            memcpy(c, nc, k * d * sizeof *c);
            if (shift <= tol_abs)
                break;
        }
        double in = assign(x, n, d, c, k, lab, dist, NULL);
        if (in < *inertia) {
            *inertia = in;
            *iters = it;
            memcpy(centers, c, k * d * sizeof *c);
            memcpy(label, lab, n * sizeof *lab);
        }
    }
done:
    lift_free(c);
    lift_free(nc);
    lift_free(cnt);
    lift_free(lab);
    lift_free(dist);
    lift_free(s1);
    lift_free(s2);
    return rc;
}

enum lift_code silhouette_mean(const double *x, size_t d, const uint32_t *rows,
                               size_t m, const uint32_t *label, size_t k,
                               double *out, struct lift_error *err)
{
    double *sum = lift_malloc_array(k, sizeof *sum);
    size_t *cnt = lift_calloc(k, sizeof *cnt);
    if (!sum || !cnt) {
        lift_free(sum);
        lift_free(cnt);
        return lift_error_nomem(err, "silhouette");
    }
    for (size_t i = 0; i < m; i++)
        cnt[label[rows[i]]]++;
    double total = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t li = label[rows[i]];
        memset(sum, 0, k * sizeof *sum);
        const double *xi = x + (size_t)rows[i] * d;
        for (size_t j = 0; j < m; j++)
            sum[label[rows[j]]] += sqrt(sqdist(xi, x + (size_t)rows[j] * d, d));
        if (cnt[li] < 2)
            continue;
        double a = sum[li] / (double)(cnt[li] - 1), b = INFINITY;
        for (size_t c = 0; c < k; c++)
            if (c != li && cnt[c] && sum[c] / (double)cnt[c] < b)
                b = sum[c] / (double)cnt[c];
        double den = a > b ? a : b;
        if (isfinite(b) && den > 0)
            total += (b - a) / den;
    }
    *out = m ? total / (double)m : 0;
    lift_free(sum);
    lift_free(cnt);
    return LIFT_OK;
}

/* ---- encoding ----------------------------------------------------------- */

struct feature {
    size_t col;
    uint32_t level; /* LIFT_MISSING_CODE for a numeric column */
};

struct enc {
    size_t n, d;
    double *x;
    struct feature *f;
    bool *use; /* per table column */
};

static bool in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, ",");
        if (l == len && strncmp(p, name, len) == 0)
            return true;
        p += l + (p[l] == ',');
    }
    return false;
}

static enum lift_code check_list(const struct lift_table *t, const char *list,
                                 struct lift_error *err)
{
    char name[1024];
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, ",");
        if (l >= sizeof name)
            return lift_error_set(err, LIFT_ERR_NOT_FOUND, "no column '%.*s'",
                                  (int)l, p);
        memcpy(name, p, l);
        name[l] = '\0';
        size_t c;
        enum lift_code rc = lift_table_col_index(t, name, &c, err);
        if (rc)
            return rc;
        p += l + (p[l] == ',');
    }
    return LIFT_OK;
}

static bool is_numeric(enum lift_col_type ty)
{
    return ty == LIFT_COL_NUMERIC || ty == LIFT_COL_BOOLEAN ||
           ty == LIFT_COL_DATE;
}

static enum lift_code encode(const struct lift_table *t,
                             const struct lift_segment_opts *o, size_t tcol,
                             struct enc *e, struct lift_error *err)
{
    size_t nc = lift_table_n_cols(t), n = lift_table_n_rows(t);
    enum lift_code rc;
    if ((rc = check_list(t, o->columns, err)) ||
        (rc = check_list(t, o->drop, err)))
        return rc;
    e->n = n;
    e->use = lift_calloc(nc, sizeof *e->use);
    if (!e->use)
        return lift_error_nomem(err, "segment columns");
    size_t d = 0;
    for (size_t c = 0; c < nc; c++) {
        const char *name = lift_table_col_name(t, c);
        enum lift_col_type ty = lift_table_col_type(t, c);
        if (c == tcol || ty == LIFT_COL_TEXT ||
            (o->columns && !in_list(o->columns, name)) ||
            in_list(o->drop, name))
            continue;
        e->use[c] = true;
        if (is_numeric(ty)) {
            d++;
        } else {
            uint32_t L = (uint32_t)lift_table_n_levels(t, c);
            for (uint32_t l = 0; l < L; l++)
                d += lift_table_level_count(t, c, l) > 0;
        }
    }
    if (d == 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no numeric or categorical column to segment "
                              "by");
    e->d = d;
    e->f = lift_malloc_array(d, sizeof *e->f);
    e->x = lift_calloc(n * d, sizeof *e->x);
    if (!e->f || !e->x)
        return lift_error_nomem(err, "segment matrix");
    size_t j = 0;
    for (size_t c = 0; c < nc; c++) {
        if (!e->use[c])
            continue;
        if (is_numeric(lift_table_col_type(t, c))) {
            const double *v = lift_table_values(t, c);
            double m = 0, q = 0;
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++)
                if (!isnan(v[i])) {
                    m += v[i];
                    cnt++;
                }
            m = cnt ? m / (double)cnt : 0;
            for (size_t i = 0; i < n; i++)
                if (!isnan(v[i]))
                    q += (v[i] - m) * (v[i] - m);
            double sd = cnt ? sqrt(q / (double)cnt) : 0;
            if (!(sd > 0))
                sd = 1;
            for (size_t i = 0; i < n; i++)
                e->x[i * d + j] = isnan(v[i]) ? 0 : (v[i] - m) / sd;
            e->f[j].col = c;
            e->f[j].level = LIFT_MISSING_CODE;
            j++;
            continue;
        }
        const uint32_t *codes = lift_table_codes(t, c);
        uint32_t L = (uint32_t)lift_table_n_levels(t, c);
        size_t base = j;
        uint32_t *slot = lift_malloc_array(L ? L : 1, sizeof *slot);
        if (!slot)
            return lift_error_nomem(err, "segment matrix");
        for (uint32_t l = 0; l < L; l++) {
            slot[l] = UINT32_MAX;
            if (lift_table_level_count(t, c, l) == 0)
                continue;
            slot[l] = (uint32_t)(j - base);
            e->f[j].col = c;
            e->f[j].level = l;
            j++;
        }
        for (size_t i = 0; i < n; i++)
            if (codes[i] != LIFT_MISSING_CODE && slot[codes[i]] != UINT32_MAX)
                e->x[i * d + base + slot[codes[i]]] = 1;
        lift_free(slot);
    }
    return LIFT_OK;
}

/* ---- the report --------------------------------------------------------- */

static json_t *real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

struct distinct {
    size_t col;
    uint32_t level;
    double share, overall;
};

static int by_gain(const void *a, const void *b)
{
    const struct distinct *x = a, *y = b;
    double gx = x->share - x->overall, gy = y->share - y->overall;
    return (gx < gy) - (gx > gy);
}

struct seg_order {
    size_t size;
    uint32_t id;
};

static int by_size(const void *a, const void *b)
{
    const struct seg_order *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Response of each row to the target (NAN when missing). */
static enum lift_code response(const struct lift_table *t,
                               const struct lift_segment_opts *o, size_t tcol,
                               double *y, struct lift_error *err)
{
    size_t n = lift_table_n_rows(t);
    const double *v = lift_table_values(t, tcol);
    if (v) {
        double pos = NAN;
        if (o->positive &&
            !lift_parse_number(o->positive, strlen(o->positive), &pos))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "positive label '%s' is not a number, but "
                                  "target '%s' is numeric",
                                  o->positive, o->target);
        for (size_t i = 0; i < n; i++)
            y[i] = isnan(v[i]) || isnan(pos) ? v[i] : (double)(v[i] == pos);
        return LIFT_OK;
    }
    if (!o->positive)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "target '%s' is categorical: name its "
                              "positive level (--positive)",
                              o->target);
    uint32_t pc =
        lift_table_find_level(t, tcol, o->positive, strlen(o->positive));
    if (pc == LIFT_MISSING_CODE)
        return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "no value '%s' in target column '%s'",
                              o->positive, o->target);
    const uint32_t *codes = lift_table_codes(t, tcol);
    for (size_t i = 0; i < n; i++)
        y[i] = codes[i] == LIFT_MISSING_CODE ? NAN : (double)(codes[i] == pc);
    return LIFT_OK;
}

static enum lift_code segment_json(const struct lift_table *t,
                                   const struct enc *e, const uint32_t *label,
                                   uint32_t seg, uint32_t rank, size_t size,
                                   const double *y, json_t *arr,
                                   struct lift_error *err)
{
    size_t n = e->n, nc = lift_table_n_cols(t);
    json_t *s = json_object(), *cent = json_object(), *lev = json_object(),
           *dist = json_array();
    enum lift_code rc;
    if (!s || json_array_append_new(arr, s) ||
        (rc = lift_mkt_json_add(s, "segment", json_integer(rank), err)) ||
        (rc = lift_mkt_json_add(s, "size", json_integer((json_int_t)size),
                                err)) ||
        (rc = lift_mkt_json_add(s, "share", json_real((double)size / (double)n),
                                err)) ||
        (rc = lift_mkt_json_add(s, "centroid", cent, err)) ||
        (rc = lift_mkt_json_add(s, "levels", lev, err)) ||
        (rc = lift_mkt_json_add(s, "distinguishing", dist, err))) {
        json_decref(cent);
        json_decref(lev);
        json_decref(dist);
        return lift_error_nomem(err, "segment report");
    }
    struct distinct *cand = lift_malloc_array(e->d, sizeof *cand);
    if (!cand)
        return lift_error_nomem(err, "segment report");
    size_t n_cand = 0;
    rc = LIFT_OK;
    for (size_t c = 0; c < nc && !rc; c++) {
        if (!e->use[c])
            continue;
        const char *name = lift_table_col_name(t, c);
        if (is_numeric(lift_table_col_type(t, c))) {
            const double *v = lift_table_values(t, c);
            double sum = 0;
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++)
                if (label[i] == seg && !isnan(v[i])) {
                    sum += v[i];
                    cnt++;
                }
            rc = lift_mkt_json_add(cent, name,
                                   real(cnt ? sum / (double)cnt : NAN), err);
            continue;
        }
        uint32_t L = (uint32_t)lift_table_n_levels(t, c);
        size_t *in = lift_calloc(L ? L : 1, sizeof *in);
        if (!in) {
            rc = lift_error_nomem(err, "segment report");
            break;
        }
        const uint32_t *codes = lift_table_codes(t, c);
        for (size_t i = 0; i < n; i++)
            if (label[i] == seg && codes[i] != LIFT_MISSING_CODE)
                in[codes[i]]++;
        json_t *cl = json_object();
        rc = lift_mkt_json_add(lev, name, cl, err);
        /* The TOP_LEVELS most frequent levels in the segment. */
        for (size_t r = 0; r < TOP_LEVELS && !rc; r++) {
            uint32_t best = UINT32_MAX;
            for (uint32_t l = 0; l < L; l++)
                if (in[l] && (best == UINT32_MAX || in[l] > in[best]))
                    best = l;
            if (best == UINT32_MAX)
                break;
            rc = lift_mkt_json_add(cl, lift_table_level(t, c, best, NULL),
                                   json_real((double)in[best] / (double)size),
                                   err);
            in[best] = 0;
        }
        for (size_t i = 0; i < n; i++)
            if (label[i] == seg && codes[i] != LIFT_MISSING_CODE)
                in[codes[i]] = 0;
        for (size_t i = 0; i < n; i++)
            if (label[i] == seg && codes[i] != LIFT_MISSING_CODE)
                in[codes[i]]++;
        for (uint32_t l = 0; l < L; l++) {
            size_t all = lift_table_level_count(t, c, l);
            if (!all || !in[l])
                continue;
            cand[n_cand].col = c;
            cand[n_cand].level = l;
            cand[n_cand].share = (double)in[l] / (double)size;
            cand[n_cand].overall = (double)all / (double)n;
            n_cand++;
        }
        lift_free(in);
    }
    qsort(cand, n_cand, sizeof *cand, by_gain);
    for (size_t i = 0; i < n_cand && i < N_DISTINGUISH && !rc; i++) {
        if (cand[i].share <= cand[i].overall)
            break;
        json_t *dj =
            json_pack("{s:s,s:s,s:f,s:f,s:f}", "column",
                      lift_table_col_name(t, cand[i].col), "level",
                      lift_table_level(t, cand[i].col, cand[i].level, NULL),
                      "share", cand[i].share, "overall", cand[i].overall,
                      "lift", cand[i].share / cand[i].overall);
        if (!dj || json_array_append_new(dist, dj))
            rc = lift_error_nomem(err, "segment report");
    }
    lift_free(cand);
    if (!rc && y) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++)
            if (label[i] == seg && !isnan(y[i])) {
                sum += y[i];
                cnt++;
            }
        rc = lift_mkt_json_add(s, "response_rate",
                               real(cnt ? sum / (double)cnt : NAN), err);
    }
    return rc;
}

/* Chooses k by the mean silhouette of a seeded sample. */
static enum lift_code choose_k(const struct enc *e,
                               const struct lift_segment_opts *o,
                               double *centers, uint32_t *label, size_t *k,
                               json_t *sil, struct lift_error *err)
{
    size_t n = e->n, m = n < o->sample ? n : o->sample;
    size_t kmax = o->k_max < n - 1 ? o->k_max : n - 1;
    uint32_t *rows = lift_malloc_array(n, sizeof *rows);
    if (!rows)
        return lift_error_nomem(err, "silhouette sample");
    for (size_t i = 0; i < n; i++)
        rows[i] = (uint32_t)i;
    struct lift_rng rng;
    lift_rng_split(&rng, o->seed, 0x5111);
    for (size_t i = 0; i < m; i++) {
        size_t j = i + (size_t)lift_rng_below(&rng, n - i);
        uint32_t tmp = rows[i];
        rows[i] = rows[j];
        rows[j] = tmp;
    }
    double best = -INFINITY;
    enum lift_code rc = LIFT_OK;
    *k = 0;
    for (size_t kk = 2; kk <= kmax && !rc; kk++) {
        double inertia, s;
        unsigned it;
        rc = lift_mkt_progress(&o->pg, "choose_k", (unsigned)(kk - 1),
                               (unsigned)(kmax - 1), err);
        if (!rc)
            rc =
                kmeans_fit(e->x, n, e->d, kk, o->n_init, o->max_iter, o->tol,
                           o->seed, centers, label, &inertia, &it, &o->pg, err);
        if (!rc)
            rc = silhouette_mean(e->x, e->d, rows, m, label, kk, &s, err);
        char key[24];
        snprintf(key, sizeof key, "%zu", kk);
        if (!rc)
            rc = lift_mkt_json_add(sil, key, real(s), err);
        if (!rc && s > best) {
            best = s;
            *k = kk;
        }
    }
    lift_free(rows);
    return rc;
}

enum lift_code lift_segment_run(const struct lift_table *t,
                                const struct lift_segment_opts *o, char **json,
                                struct lift_error *err)
{
    *json = NULL;
    struct enc e = {0};
    size_t n = lift_table_n_rows(t), tcol = (size_t)-1, k = o->k;
    double *centers = NULL, *y = NULL;
    uint32_t *label = NULL;
    json_t *doc = NULL, *sil = NULL;
    struct seg_order *ord = NULL;
    enum lift_code rc = LIFT_OK;
    if (n > UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT, "more than %u rows",
                              UINT32_MAX);
    if (k > n)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "k = %zu is larger than the %zu rows", k, n);
    if (!k && n < 3)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "choosing k needs at least 3 rows; the table "
                              "has %zu",
                              n);
    if (o->target && (rc = lift_table_col_index(t, o->target, &tcol, err)))
        return rc;
    if ((rc = encode(t, o, tcol, &e, err)))
        goto done;
    size_t kcap = k ? k : (o->k_max < n - 1 ? o->k_max : n - 1);
    centers = lift_malloc_array(kcap * e.d, sizeof *centers);
    label = lift_malloc_array(n, sizeof *label);
    doc = json_object();
    if (!centers || !label || !doc) {
        rc = lift_error_nomem(err, "segments");
        goto done;
    }
    if (o->target) {
        if (!(y = lift_malloc_array(n, sizeof *y))) {
            rc = lift_error_nomem(err, "segments");
            goto done;
        }
        if ((rc = response(t, o, tcol, y, err)))
            goto done;
    }
    if ((rc = lift_mkt_progress(&o->pg, "check", 0, 0, err)))
        goto done;
    if (!k) {
        sil = json_object();
        if (!sil) {
            rc = lift_error_nomem(err, "segments");
            goto done;
        }
        if ((rc = choose_k(&e, o, centers, label, &k, sil, err)))
            goto done;
    }
    double inertia;
    unsigned iters;
    if ((rc =
             kmeans_fit(e.x, n, e.d, k, o->n_init, o->max_iter, o->tol, o->seed,
                        centers, label, &inertia, &iters, &o->pg, err)))
        goto done;
    json_t *segs = json_array();
    if ((rc = lift_mkt_json_add(doc, "k", json_integer((json_int_t)k), err)) ||
        (rc = lift_mkt_json_add(doc, "inertia", json_real(inertia), err)) ||
        (rc = lift_mkt_json_add(doc, "rows", json_integer((json_int_t)n),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "features", json_integer((json_int_t)e.d),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "iterations", json_integer(iters), err)) ||
        (rc = lift_mkt_json_add(
             doc, "target", o->target ? json_string(o->target) : json_null(),
             err)) ||
        (rc = lift_mkt_json_add(doc, "silhouette", sil ? sil : json_null(),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "segments", segs, err))) {
        sil = NULL;
        goto done;
    }
    sil = NULL;
    ord = lift_calloc(k, sizeof *ord);
    if (!ord) {
        rc = lift_error_nomem(err, "segments");
        goto done;
    }
    for (size_t i = 0; i < k; i++)
        ord[i].id = (uint32_t)i;
    for (size_t i = 0; i < n; i++)
        ord[label[i]].size++;
    qsort(ord, k, sizeof *ord, by_size);
    for (size_t r = 0; r < k && !rc; r++)
        rc = segment_json(t, &e, label, ord[r].id, (uint32_t)r, ord[r].size, y,
                          segs, err);
    if (!rc &&
        !(*json = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12))))
        rc = lift_error_nomem(err, "segment report");
done:
    json_decref(doc);
    json_decref(sil);
    lift_free(ord);
    lift_free(e.x);
    lift_free(e.f);
    lift_free(e.use);
    lift_free(centers);
    lift_free(label);
    lift_free(y);
    return rc;
}

void lift_segment_opts_set_progress(struct lift_segment_opts *o,
                                    lift_progress_fn fn, void *user)
{
    o->pg.fn = fn;
    o->pg.user = user;
}

enum lift_code lift_segment_check(const struct lift_table *t,
                                  const struct lift_segment_opts *o,
                                  struct lift_error *err)
{
    struct lift_segment_opts c = *o;
    bool reached = false;
    char *json = NULL;
    c.pg.fn = lift_mkt_check_stop;
    c.pg.user = &reached;
    enum lift_code rc = lift_segment_run(t, &c, &json, err);
    free(json);
    return lift_mkt_check_result(rc, reached, err);
}
