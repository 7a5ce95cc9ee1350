/*
 * models/linear.h - the sparse linear learners (models/linear.c).
 *
 *   logistic  binary: one logit w.x + b, logistic loss
 *   linear    regression: one value w.x + b, squared error / 2
 *   softmax   multiclass: K logits W x + b, softmax cross-entropy
 *
 * Each minimises  (sum_i w_i loss_i) / (sum_i w_i)
 *                 + (l2 / 2) ||W||^2 + l1 ||W||_1   (biases unpenalised)
 * with L-BFGS (optimizer AUTO and l1 == 0, or LBFGS) or minibatch SGD,
 * AdaGrad (AUTO with l1 > 0) or Adam. The tables are registered in
 * models/learner.c; everything else about them is in linear.c.
 */
#ifndef LIFT_MODELS_LINEAR_H
#define LIFT_MODELS_LINEAR_H

#include "models/learner.h"

extern const struct lift_learner_ops lift_logistic_ops;
extern const struct lift_learner_ops lift_linear_ops;
extern const struct lift_learner_ops lift_softmax_ops;

/*
 * The smooth part of the objective of kind `name` ("logistic", "linear",
 * "softmax": F(w) without the L1 term) and its gradient at w, over the
 * training rows of d with p's l2, n_classes, task and reducer;
 * w and g hold (n_cols + 1) K values in the learners' layout (w[j K + c],
 * biases last). For gradient checks and tools. Errors as fit's checks of
 * data and parameters, NOMEM.
 */
enum lift_code lift_linear_objective(const char *name,
                                     const struct lift_train_data *d,
                                     const struct lift_train_params *p,
                                     const double *w, double *f, double *g,
                                     struct lift_error *err);

#endif
