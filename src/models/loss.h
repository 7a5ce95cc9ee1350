/*
 * models/loss.h - losses of the learners and their gradients in the raw
 * score, plus the links (sigmoid, softmax) the model applies to scores.
 *
 * Every loss takes the row's weight w and returns w * loss; when grad is
 * not NULL it receives w * d(loss)/d(score). Learners sum these over rows
 * and divide by the total weight, so "weighted mean loss" is one formula
 * for every model kind (linear, MLP). The formulas:
 *
 *   logistic   l(z, y)  = log(1 + e^z) - y z,   dl/dz = sigmoid(z) - y
 *              (y in [0, 1]; the binary cross-entropy of p = sigmoid(z))
 *   squared    l(f, y)  = (f - y)^2 / 2,         dl/df = f - y
 *   softmax    l(z, c)  = logsumexp(z) - z_c,    dl/dz_k = p_k - [k == c]
 *              (p = softmax(z), c the class id; multiclass cross-entropy)
 *
 * All are pure functions of their arguments: thread-safe, no allocation.
 * None overflows for any finite score; a NaN score gives NaN.
 */
#ifndef LIFT_MODELS_LOSS_H
#define LIFT_MODELS_LOSS_H

#include <stddef.h>

#include <lift/error.h>
#include <lift/model.h>

/* 1 / (1 + e^-z), computed from e^-|z| so neither side overflows. */
double lift_sigmoid(double z);

/* log(1 + e^z) = max(z, 0) + log1p(e^-|z|): exact to rounding for any z,
 * z itself for large z, e^z (not 0) for very negative z. */
double lift_softplus(double z);

/* log(sum_k e^z[k]) over z[0..k), k >= 1, shifted by max(z). */
double lift_logsumexp(const double *z, size_t k);

/* p[i] = e^z[i] / sum_k e^z[k] for i < k (k >= 1); p may equal z. The
 * p sum to 1 within rounding and none is NaN for finite z. */
void lift_softmax(const double *z, size_t k, double *p);

/* w * logistic loss of logit z for label y; *grad = w * (sigmoid(z) - y)
 * when grad is not NULL. */
double lift_loss_logistic(double z, double y, double w, double *grad);

/* w * (f - y)^2 / 2; *grad = w * (f - y) when grad is not NULL. */
double lift_loss_squared(double f, double y, double w, double *grad);

/* w * softmax cross-entropy of logits z[0..k) for class c < k; when grad
 * is not NULL, grad[i] = w * (softmax(z)[i] - [i == c]) for i < k (grad
 * may not alias z). */
double lift_loss_softmax(const double *z, size_t k, size_t c, double w,
                         double *grad);

/*
 * Checks rows' targets and weights before a fit: binary labels must be
 * 0 or 1, regression targets finite, multiclass labels class ids (whole
 * numbers below n_classes); weights (w may be NULL: all 1) finite and
 * >= 0. LIFT_ERR_INVALID names the first bad row and `what` ("training",
 * "validation"): "training label 2 of row 5 is not 0 or 1".
 */
enum lift_code lift_loss_check_rows(enum lift_task task, size_t n_classes,
                                    const double *y, const double *w, size_t n,
                                    const char *what, struct lift_error *err);

#endif
