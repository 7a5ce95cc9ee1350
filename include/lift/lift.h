/*
 * lift/lift.h - the umbrella header of the lift library.
 *
 * lift is a self-hosted AI service for precision marketing. The library
 * reads customer tables, fits feature pipelines and models, evaluates and
 * explains them; the `lift` command and `lift serve` are thin layers over
 * this API. See docs/ARCHITECTURE.md.
 */
#ifndef LIFT_LIFT_H
#define LIFT_LIFT_H

#include <lift/error.h>
#include <lift/evaluate.h>
#include <lift/log.h>
#include <lift/marketing.h>
#include <lift/model.h>
#include <lift/server.h>
#include <lift/metrics.h>
#include <lift/split.h>
#include <lift/store.h>
#include <lift/rfm.h>
#include <lift/segment.h>
#include <lift/table.h>
#include <lift/text.h>
#include <lift/uplift.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library version, "MAJOR.MINOR.PATCH". */
const char *lift_version(void);

#ifdef __cplusplus
}
#endif
#endif
