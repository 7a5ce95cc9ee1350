/*
 * models/calibrate.c - Platt scaling and isotonic regression.
 *
 * Platt's Newton step on (a, b): with p_i = sigmoid(a z_i + b) and
 * targets t_i, the gradient is sum (p_i - t_i) (z_i, 1) and the Hessian
 * sum p_i (1 - p_i) (z_i, 1)(z_i, 1)^T (+ a small ridge); a backtracking
 * line search keeps every step a descent. PAV merges adjacent blocks
 * whose means violate monotonicity; O(n log n) with the sort.
 */
#include "models/calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static double sigmoid(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

static double platt_loss(const double *z, const double *t, size_t n, double a,
                         double b)
{
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        double s = a * z[i] + b;
        /* log(1 + e^s) - t s, stable */
        double l = s > 0 ? s + log1p(exp(-s)) : log1p(exp(s));
        loss += l - t[i] * s;
    }
    return loss;
}

static enum lift_code fit_platt(struct lift_calibrator *c, const double *z,
                                const double *y, size_t n,
                                struct lift_error *err)
{
    double *t = lift_malloc_array(n, sizeof *t);
    if (!t)
        return lift_error_nomem(err, "calibration");
    size_t npos = 0;
    for (size_t i = 0; i < n; i++)
        npos += y[i] > 0.5;
    double hi = ((double)npos + 1) / ((double)npos + 2);
    double lo = 1.0 / ((double)(n - npos) + 2);
    for (size_t i = 0; i < n; i++)
        t[i] = y[i] > 0.5 ? hi : lo;
    double a = 1.0, b = 0.0, f = platt_loss(z, t, n, a, b);
    for (int it = 0; it < 100; it++) {
        double ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;
        for (size_t i = 0; i < n; i++) {
            double p = sigmoid(a * z[i] + b), d = p - t[i];
            double h = p * (1 - p);
            ga += d * z[i];
            gb += d;
            haa += h * z[i] * z[i];
            hab += h * z[i];
            hbb += h;
        }
        if (fabs(ga) < 1e-10 * (double)n && fabs(gb) < 1e-10 * (double)n)
            break;
        double det = haa * hbb - hab * hab;
        if (!(det > 0))
            break;
        double da = -(hbb * ga - hab * gb) / det;
        double db = -(haa * gb - hab * ga) / det;
        double step = 1.0, fn;
        for (;;) {
            fn = platt_loss(z, t, n, a + step * da, b + step * db);
            if (fn <= f + 1e-4 * step * (ga * da + gb * db) || step < 1e-10)
                break;
            step /= 2;
        }
        if (step < 1e-10)
            break;
        a += step * da;
        b += step * db;
        if (f - fn < 1e-12 * (fabs(f) + 1)) {
            f = fn;
            break;
        }
        f = fn;
    }
    lift_free(t);
    c->a = a;
    c->b = b;
    return LIFT_OK;
}

struct pair {
    double p, y;
};

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *a = x, *b = y;
    return (a->p > b->p) - (a->p < b->p);
}

static enum lift_code fit_isotonic(struct lift_calibrator *c, const double *z,
                                   const double *y, size_t n,
                                   struct lift_error *err)
{
    struct pair *v = lift_malloc_array(n, sizeof *v);
    double *bx = lift_malloc_array(n, sizeof *bx);
    double *by = lift_malloc_array(n, sizeof *by);
    double *bw = lift_malloc_array(n, sizeof *bw);
    if (!v || !bx || !by || !bw) {
        lift_free(v);
        lift_free(bx);
        lift_free(by);
        lift_free(bw);
        return lift_error_nomem(err, "calibration");
    }
    for (size_t i = 0; i < n; i++) {
        v[i].p = sigmoid(z[i]);
        v[i].y = y[i] > 0.5 ? 1.0 : 0.0;
    }
    qsort(v, n, sizeof *v, cmp_pair);
    /* blocks of equal x first, then PAV; bx = mean x of the block */
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double sy = 0;
        while (j < n && v[j].p == v[i].p)
            sy += v[j++].y;
        bx[m] = v[i].p;
        by[m] = sy / (double)(j - i);
        bw[m] = (double)(j - i);
        m++;
        while (m > 1 && by[m - 2] >= by[m - 1]) {
            double w = bw[m - 2] + bw[m - 1];
            by[m - 2] = (by[m - 2] * bw[m - 2] + by[m - 1] * bw[m - 1]) / w;
            bx[m - 2] = (bx[m - 2] * bw[m - 2] + bx[m - 1] * bw[m - 1]) / w;
            bw[m - 2] = w;
            m--;
        }
        i = j;
    }
    lift_free(v);
    lift_free(bw);
    c->n = m;
    c->x = bx;
    c->y = by;
    return LIFT_OK;
}

enum lift_code lift_calibrator_fit(struct lift_calibrator *c,
                                   enum lift_calibration method,
                                   const double *z, const double *y, size_t n,
                                   struct lift_error *err)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    if (method == LIFT_CALIB_NONE)
        return LIFT_OK;
    if (n < 2)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "too few rows to calibrate on (%zu)", n);
    return method == LIFT_CALIB_PLATT ? fit_platt(c, z, y, n, err)
                                      : fit_isotonic(c, z, y, n, err);
}

double lift_calibrator_apply(const struct lift_calibrator *c, double z)
{
    switch (c->method) {
    case LIFT_CALIB_NONE:
        return sigmoid(z);
    case LIFT_CALIB_PLATT:
        return sigmoid(c->a * z + c->b);
    case LIFT_CALIB_ISOTONIC:
        break;
    }
    double p = sigmoid(z);
    if (c->n == 0)
        return p;
    if (p <= c->x[0])
        return c->y[0];
    if (p >= c->x[c->n - 1])
        return c->y[c->n - 1];
    size_t lo = 0, hi = c->n - 1; /* x[lo] < p <= x[hi] */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (c->x[mid] < p)
            lo = mid;
        else
            hi = mid;
    }
    double t = (p - c->x[lo]) / (c->x[hi] - c->x[lo]);
    return c->y[lo] + t * (c->y[hi] - c->y[lo]);
}

void lift_calibrator_release(struct lift_calibrator *c)
{
    lift_free(c->x);
    lift_free(c->y);
    memset(c, 0, sizeof *c);
}

void lift_calibrator_save(const struct lift_calibrator *c,
                          struct lift_writer *w)
{
    lift_writer_u8(w, (uint8_t)c->method);
    lift_writer_f64(w, c->a);
    lift_writer_f64(w, c->b);
    lift_writer_u64(w, c->n);
    lift_writer_f64s(w, c->x, c->n);
    lift_writer_f64s(w, c->y, c->n);
}

enum lift_code lift_calibrator_load(struct lift_calibrator *c,
                                    struct lift_reader *r,
                                    struct lift_error *err)
{
    memset(c, 0, sizeof *c);
    uint8_t m = lift_reader_u8(r, "calibration");
    c->a = lift_reader_f64(r, "calibration");
    c->b = lift_reader_f64(r, "calibration");
    size_t n = lift_reader_count(r, 16, (size_t)1 << 32, "calibration knots");
    if (lift_reader_ok(r) &&
        (m > LIFT_CALIB_ISOTONIC || !isfinite(c->a) || !isfinite(c->b) ||
         (m == LIFT_CALIB_ISOTONIC && n == 0)))
        lift_reader_fail(r, "bad calibration in the model file");
    if (!lift_reader_ok(r))
        return lift_reader_status(r, err);
    c->method = (enum lift_calibration)m;
    if (n) {
        c->x = lift_malloc_array(n, sizeof *c->x);
        c->y = lift_malloc_array(n, sizeof *c->y);
        if (!c->x || !c->y) {
            lift_calibrator_release(c);
            return lift_error_nomem(err, "calibration");
        }
        c->n = n;
        lift_reader_f64s(r, c->x, n, "calibration knots");
        lift_reader_f64s(r, c->y, n, "calibration knots");
        for (size_t i = 0; i < n && lift_reader_ok(r); i++)
            if (!isfinite(c->x[i]) || !isfinite(c->y[i]) ||
                (i && (c->x[i] <= c->x[i - 1] || c->y[i] < c->y[i - 1])))
                lift_reader_fail(r, "bad calibration knots in the model "
                                    "file");
    }
    if (!lift_reader_ok(r)) {
        lift_calibrator_release(c);
        return lift_reader_status(r, err);
    }
    return LIFT_OK;
}
