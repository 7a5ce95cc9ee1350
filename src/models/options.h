/*
 * models/options.h - the inside of struct lift_train_opts.
 */
#ifndef LIFT_MODELS_OPTIONS_H
#define LIFT_MODELS_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include <lift/model.h>

#include "features/pipeline.h"
#include "models/calibrate.h"
#include "models/learner.h"

struct lift_strlist {
    char **items;
    size_t n;
};

struct lift_train_opts {
    char *target, *positive, *model;
    int task; /* -1: inferred */
    struct lift_strlist drop, text, cross;
    struct lift_pipeline_spec spec;  /* lists filled at train time */
    struct lift_text_opts text_opts; /* spec.text_opts points here */
    struct lift_train_params params;
    bool balanced;
    double valid;
    enum lift_calibration calibration;
    double calib_fraction;
    struct lift_logger log;
};

#endif
