/*
 * server/bulk.h - bulk scoring: a stored dataset scored by a job into a
 * CSV result file the store keeps (POST /v1/models/{name}:score, GET
 * /v1/jobs/{id}/result), and CSV bodies on :predict.
 *
 * The CSV a job writes and the CSV answer of :predict share one layout
 * (docs/HTTP_API.md): the key column (row, the 1-based data record
 * number, or the value of the "id" column), then "score" (binary:
 * P(positive); regression: the value) or, for multiclass models,
 * "class" (the most probable one, as `lift predict` writes it) and one
 * "score_<class>" column per class; with explain, "base", "raw" and one
 * "contrib_<input>" column per model input, summing with base to raw.
 * Numbers are printed as `lift predict` and the JSON answer print them
 * (%.9g), so the three agree to the printed digit.
 */
#ifndef LIFT_SERVER_BULK_H
#define LIFT_SERVER_BULK_H

#include "server/http.h"

#define BULK_NUM_MAX 32

/* v as snprintf(buf, BULK_NUM_MAX, "%.9g", v) prints it, byte for byte,
 * mostly without printf; returns the length. */
size_t bulk_format_g9(double v, char buf[BULK_NUM_MAX]);

/* What a scoring job needs besides its id and tenant. */
struct score_job {
    struct snapshot *snap; /* owned reference: the model to score with */
    char dataset[LIFT_NAME_MAX + 1];
    char *id_col; /* malloc'd column name, or NULL: row numbers */
    bool explain;
};

void score_job_free(struct score_job *sj);

/* Runs a scoring job in a job worker: reads the dataset, scores it in
 * chunks (checking *cancel and reporting progress between chunks),
 * writes the CSV to a store temp file and hands it to the store with
 * the job's result; marks the job failed or cancelled otherwise. */
void score_job_run(struct srv *srv, const char *id, int64_t tenant,
                   struct score_job *sj, atomic_int *cancel);

/* POST /v1/models/{name}:score */
void route_model_score(struct req *r);
/* GET /v1/jobs/{id}/result */
void route_job_result(struct req *r);
/* POST /v1/models/{name}:predict with Content-Type: text/csv */
void route_predict_csv(struct req *r);

#endif
