/*
 * models/calibrate.h - probability calibration of binary scores, fitted on
 * held-out rows and stored in the model.
 *
 * Platt: p = sigmoid(a * z + b) over the raw logit z, fitted by Newton's
 * method on the log loss with Platt's smoothed targets
 * ((n+ + 1) / (n+ + 2) and 1 / (n- + 2)), which keeps a and b finite on
 * separable data. Isotonic: the pool-adjacent-violators fit of y on the
 * uncalibrated probability, predicted by linear interpolation between the
 * block means and clipped at the ends (as scikit-learn does).
 */
#ifndef LIFT_MODELS_CALIBRATE_H
#define LIFT_MODELS_CALIBRATE_H

#include <stddef.h>

#include <lift/error.h>

#include "core/serial.h"

enum lift_calibration {
    LIFT_CALIB_NONE = 0,
    LIFT_CALIB_PLATT,
    LIFT_CALIB_ISOTONIC,
};

struct lift_calibrator {
    enum lift_calibration method;
    double a, b;   /* platt */
    size_t n;      /* isotonic knots */
    double *x, *y; /* increasing x; non-decreasing y */
};

/* z: raw logits; y: 0/1 labels; w: weights or NULL. */
enum lift_code lift_calibrator_fit(struct lift_calibrator *c,
                                   enum lift_calibration method,
                                   const double *z, const double *y, size_t n,
                                   struct lift_error *err);
/* Calibrated probability of raw logit z. */
double lift_calibrator_apply(const struct lift_calibrator *c, double z);
void lift_calibrator_release(struct lift_calibrator *c);
void lift_calibrator_save(const struct lift_calibrator *c,
                          struct lift_writer *w);
enum lift_code lift_calibrator_load(struct lift_calibrator *c,
                                    struct lift_reader *r,
                                    struct lift_error *err);

#endif
