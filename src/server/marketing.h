/*
 * server/marketing.h - POST /v1/uplift, /v1/segments and /v1/rfm as jobs.
 *
 * A request is parsed (mkt_job_parse, a pure function the fuzz target
 * calls), its dataset read and the library's checks run on it
 * (mkt_job_check: lift_uplift_check, lift_segment_check, lift_rfm_check)
 * in the request's thread, so every bad request is answered at once with
 * its 4xx. The work itself then runs in the job pool (server/jobs.c) as
 * a job of kind "uplift", "segments" or "rfm": mkt_job_run reads the
 * dataset again, runs the library call with a progress callback that
 * records the stage at most every 200 ms and stops the run at its next
 * safe point once the job is cancelled, and stores the report - the
 * document the routes used to answer, with "dataset" added - as the
 * job's result (GET /v1/jobs/{id}).
 */
#ifndef LIFT_SERVER_MARKETING_H
#define LIFT_SERVER_MARKETING_H

#include "server/http.h"

enum mkt_kind {
    MKT_UPLIFT = 0,
    MKT_SEGMENTS,
    MKT_RFM,
};

/* A parsed request: what a marketing job needs besides its id and
 * tenant. */
struct mkt_job {
    enum mkt_kind kind;
    char dataset[LIFT_NAME_MAX + 1];
    void *opts;        /* lift_{uplift,segment,rfm}_opts, owned */
    char *params_json; /* the request as the job records it, owned */
};

/* "uplift", "segments", "rfm": the job kind and audit prefix. */
const char *mkt_kind_name(enum mkt_kind kind);

/*
 * Parses a request body (JSON text, body[0..len)): an object with
 * "dataset" (a dataset name) and options, each a string, a number or a
 * boolean, set through the library's opts_set (the CLI's flags without
 * "--"). *out (mkt_job_free) on success, NULL otherwise. Errors:
 * LIFT_ERR_PARSE (bad JSON or a duplicate key, with line and column),
 * LIFT_ERR_UNPROCESSABLE (not an object, a missing or bad dataset name,
 * a member of another type, an option the library refuses: its message),
 * LIFT_ERR_NOMEM. Thread-safe.
 */
enum lift_code mkt_job_parse(enum mkt_kind kind, const char *body, size_t len,
                             struct mkt_job **out, struct lift_error *err);

/* The library's checks of the request's options against table t: the
 * errors the run would give before any fitting, every one
 * LIFT_ERR_UNPROCESSABLE but LIFT_ERR_NOMEM. */
enum lift_code mkt_job_check(const struct mkt_job *mj,
                             const struct lift_table *t,
                             struct lift_error *err);

void mkt_job_free(struct mkt_job *mj);

/* Runs a marketing job in a job worker (see the overview); marks the job
 * succeeded with its report, or failed or cancelled. */
void mkt_job_run(struct srv *srv, const char *id, int64_t tenant,
                 struct mkt_job *mj, atomic_int *cancel);

#endif
