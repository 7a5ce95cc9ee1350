/*
 * models/mlp.h - the multi-layer perceptron learner (models/mlp.c).
 *
 *   mlp   sparse input -> embedding bag (first layer) -> Dense + ReLU/tanh
 *         (n_hidden layers in all, dropout after each) -> output layer:
 *         1 logit (binary, cross-entropy), 1 value (regression, squared
 *         error / 2) or K logits (multiclass, softmax cross-entropy).
 *
 * Trained by minibatch Adam in float32 with OpenBLAS sgemm for the dense
 * layers. The table is registered in models/learner.c; everything else
 * about it is in mlp.c. The functions below exist for tests and tools
 * (gradient checks); the model layer uses only lift_mlp_ops.
 */
#ifndef LIFT_MODELS_MLP_H
#define LIFT_MODELS_MLP_H

#include "models/learner.h"

extern const struct lift_learner_ops lift_mlp_ops;

/*
 * Shapes l for d and p and draws the initial weights exactly as fit does
 * before its first step, without training. Errors as fit's checks of
 * data and parameters (LIFT_ERR_INVALID, LIFT_ERR_LIMIT), NOMEM. l's old
 * state is freed on success only.
 */
enum lift_code lift_mlp_init(struct lift_learner *l,
                             const struct lift_train_data *d,
                             const struct lift_train_params *p,
                             struct lift_error *err);

/* The parameter vector of a fitted or initialised mlp and its length
 * *n (the order of mlp.c's overview); NULL when l holds no mlp. */
float *lift_mlp_params(const struct lift_learner *l, size_t *n);

/*
 * The training objective at l's parameters over all rows of d taken as
 * one batch:  f = (1 / W) sum_i w_i loss_i + (l2 / 2) sum ||W_l||^2
 * (biases unpenalised), with p's l2 and, when p->dropout > 0, dropout
 * masks drawn from p->seed (the same masks on every call, so f is a
 * function of the parameters). g (may be NULL) receives df/dpar in the
 * parameter layout (n floats of lift_mlp_params). Errors as fit's data
 * checks, NOMEM.
 */
enum lift_code lift_mlp_objective(const struct lift_learner *l,
                                  const struct lift_train_data *d,
                                  const struct lift_train_params *p, double *f,
                                  float *g, struct lift_error *err);

#endif
