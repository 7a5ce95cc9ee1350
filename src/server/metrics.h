/*
 * server/metrics.h - the counters behind GET /metrics and their
 * Prometheus text exposition (format version 0.0.4).
 *
 * Counters are fixed arrays of atomics, indexed by route slot (the row
 * of route_info.c), method and status, updated lock-free when a request
 * is answered; nothing here allocates after metrics_new. Labels are the
 * route templates given at creation, never a path as sent: a tenant's
 * object names and record values cannot reach /metrics.
 *
 * The request duration histogram has METRICS_N_BUCKETS upper bounds
 * (seconds) and an implicit +Inf; a duration falls into the first bucket
 * whose bound is >= it, as Prometheus's `le` says. Buckets are stored
 * per bucket and summed into cumulative counts when rendered.
 *
 * Thread-safety: metrics_request and metrics_predictions may run on any
 * thread at once; metrics_render reads with relaxed atomics, so a scrape
 * during traffic sees each counter at some recent value (counters never
 * go down).
 */
#ifndef LIFT_SERVER_METRICS_H
#define LIFT_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#define METRICS_N_BUCKETS 14

/* The bucket bounds in seconds, ascending. */
extern const double metrics_bucket_bounds[METRICS_N_BUCKETS];

enum metrics_method {
    METRICS_GET = 0,
    METRICS_POST,
    METRICS_PUT,
    METRICS_DELETE,
    METRICS_HEAD,
    METRICS_OTHER_METHOD,
    METRICS_N_METHODS,
};

struct metrics;

/* Counters for n_routes route slots named by labels (the array is
 * copied, not the strings: they must outlive m). LIFT_ERR_INVALID for no
 * routes, LIFT_ERR_NOMEM. */
enum lift_code metrics_new(size_t n_routes, const char *const *labels,
                           struct metrics **out, struct lift_error *err);
void metrics_free(struct metrics *m);

/* The bucket a duration falls in: 0..METRICS_N_BUCKETS, the last being
 * +Inf (also for NaN). */
size_t metrics_bucket_of(double seconds);
/* The method slot of an HTTP method (GET, POST, PUT, DELETE, HEAD, any
 * other: METRICS_OTHER_METHOD). */
enum metrics_method metrics_method_of(const char *method);

/* Counts one answered request of a route slot (an index past the last
 * counts in the last slot) with its status and duration. */
void metrics_request(struct metrics *m, size_t route, const char *method,
                     unsigned status, double seconds);
/* Counts records scored. */
void metrics_predictions(struct metrics *m, uint64_t n);

/* Jobs of one kind in one state (from the registry). */
struct metrics_jobs {
    const char *kind, *state;
    int64_t count;
};

/* The values read at scrape time, beside the counters. */
struct metrics_state {
    int64_t tenants, datasets, models;
    const struct metrics_jobs *jobs;
    size_t n_jobs;
    int64_t snapshots;      /* model versions loaded */
    int64_t resident_bytes; /* < 0: unknown, left out */
    double uptime_s;
};

/* The whole exposition text (HELP and TYPE before each family; series
 * with a zero count are left out, except the scalar ones). *out is
 * malloc'd and NUL-terminated. LIFT_ERR_NOMEM. */
enum lift_code metrics_render(const struct metrics *m,
                              const struct metrics_state *st, char **out,
                              size_t *len, struct lift_error *err);

/* The resident set size of this process in bytes (/proc/self/statm), or
 * -1 when it cannot be read. */
int64_t metrics_resident_bytes(void);

#endif
