/*
 * models/loss.c - numerically stable losses and links.
 *
 * The logistic loss is evaluated as
 *     l(z, y) = (max(z, 0) - y z) + log1p(e^-|z|)
 * which is log(1 + e^z) - y z rearranged: the exponential never sees a
 * positive argument, and for y in {0, 1} the bracket is exact, so a
 * confident right answer (z = 40, y = 1) gives its tiny true loss
 * (4e-18) rather than 0 or a cancellation error. The sigmoid likewise
 * uses e^-|z|: for z < 0 it is e^z / (1 + e^z).
 *
 * Its gradient sigmoid(z) - y is formed as (1 - y) - e^-z / (1 + e^-z)
 * for z >= 0, so that it too keeps its tiny value when right.
 *
 * Log-sum-exp subtracts the maximum first: log sum e^z = m + log s with
 * m = max z and s = sum e^(z - m) >= 1, so nothing overflows. Softmax is
 * e^(z - m) / s (not e^(z - lse), whose rounding at large |z| would cost
 * digits) and the cross-entropy (m - z_c) + log s.
 */
#include "models/loss.h"

#include <math.h>

#include "core/error.h"

double lift_sigmoid(double z)
{
    double e = exp(-fabs(z));
    return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

double lift_softplus(double z)
{
    return fmax(z, 0.0) + log1p(exp(-fabs(z)));
}

/* sum_i e^(z[i] - m) with m = max z into *m; at least 1. */
static double shifted_sum(const double *z, size_t k, double *m)
{
    double top = z[0], s = 0.0;
    for (size_t i = 1; i < k; i++)
        if (z[i] > top)
            top = z[i];
    *m = top;
    if (isinf(top))
        return 1.0; /* every term is -inf, or one is +inf */
    for (size_t i = 0; i < k; i++)
        s += exp(z[i] - top);
    return s;
}

double lift_logsumexp(const double *z, size_t k)
{
    double m, s = shifted_sum(z, k, &m);
    return m + log(s);
}

void lift_softmax(const double *z, size_t k, double *p)
{
    double m, s = shifted_sum(z, k, &m);
    for (size_t i = 0; i < k; i++)
        p[i] = exp(z[i] - m) / s;
}

double lift_loss_logistic(double z, double y, double w, double *grad)
{
    double e = exp(-fabs(z));
    if (grad) /* sigmoid(z) - y without rounding sigmoid to 1 first */
        *grad = w * (z >= 0 ? (1.0 - y) - e / (1.0 + e) : e / (1.0 + e) - y);
    return w * ((fmax(z, 0.0) - y * z) + log1p(e));
}

double lift_loss_squared(double f, double y, double w, double *grad)
{
    double r = f - y;
    if (grad)
        *grad = w * r;
    return 0.5 * w * r * r;
}

double lift_loss_softmax(const double *z, size_t k, size_t c, double w,
                         double *grad)
{
    double m, s = shifted_sum(z, k, &m);
    if (grad) {
        for (size_t i = 0; i < k; i++)
            grad[i] = w * (exp(z[i] - m) / s - (i == c ? 1.0 : 0.0));
    }
    return w * ((m - z[c]) + log(s));
}

enum lift_code lift_loss_check_rows(enum lift_task task, size_t n_classes,
                                    const double *y, const double *w, size_t n,
                                    const char *what, struct lift_error *err)
{
    for (size_t r = 0; r < n; r++) {
        double v = y[r];
        if (task == LIFT_TASK_BINARY && v != 0.0 && v != 1.0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "%s label %g of row %zu is not 0 or 1", what,
                                  v, r);
        if (task == LIFT_TASK_REGRESSION && !isfinite(v))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "%s target of row %zu is not finite", what,
                                  r);
        if (task == LIFT_TASK_MULTICLASS &&
            !(v >= 0 && v < (double)n_classes && v == floor(v)))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "%s label %g of row %zu is not a class id "
                                  "below %zu",
                                  what, v, r, n_classes);
        if (w && !(isfinite(w[r]) && w[r] >= 0))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "%s weight %g of row %zu is not a finite "
                                  "number >= 0",
                                  what, w[r], r);
    }
    return LIFT_OK;
}
