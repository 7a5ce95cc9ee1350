/*
 * server/sweep.c - forgets what a tenant deleted by another process left
 * in this server's memory.
 *
 * `lift admin tenant delete` beside a running server removes the tenant
 * from the registry: its keys fail within a second (the key cache) and
 * its running jobs stop at their next write, which finds their rows
 * gone. But its loaded models, its request-rate bucket and its queued
 * jobs live in this process only. So a thread wakes every SWEEP_TICK_S,
 * counts the registry's deleted tenants (one small query), and when the
 * count moved, asks the registry about each tenant this process has
 * seen a request of (every such tenant has a rate bucket: see quota.c)
 * and forgets every one that is gone: its models, its bucket, its jobs.
 * A deletion through the API (DELETE /v1/tenants/{name}) does all this
 * at once; the sweep then finds nothing left of it.
 *
 * A store error leaves the count unseen, so the next tick tries again.
 */
#include "server/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SWEEP_TICK_S 1

struct sweep {
    struct srv *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    pthread_t thread;
    int64_t seen; /* deletions counted at the last look */
};

static void note(struct srv *srv, int64_t tenant, size_t models, unsigned jobs)
{
    const struct lift_logger *log = &srv->opts.log;
    if (!log->fn || LIFT_LOG_INFO < log->min_level)
        return;
    char msg[200];
    snprintf(msg, sizeof msg,
             "tenant %lld was deleted by another process: dropped %zu "
             "loaded models, cancelled %u jobs",
             (long long)tenant, models, jobs);
    log->fn(log->user, LIFT_LOG_INFO, msg);
}

/* One look; false when the store failed (the next tick looks again). */
static bool look(struct sweep *sw)
{
    struct srv *srv = sw->srv;
    int64_t n;
    if (lift_store_tenant_deletions(srv->store, &n, NULL))
        return false;
    if (n == sw->seen)
        return true;
    size_t count = 0;
    int64_t *ids = rates_tenants(srv->rates, &count);
    if (count && !ids)
        return false; /* out of memory: again at the next tick */
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        bool exists = true;
        if (lift_store_tenant_exists(srv->store, ids[i], &exists, NULL)) {
            ok = false;
            continue;
        }
        if (exists)
            continue;
        unsigned jobs = 0;
        jobs_cancel_tenant(srv->jobs, ids[i], 0, &jobs, NULL);
        size_t models = snapshots_forget_tenant(srv->snaps, ids[i]);
        rates_forget_tenant(srv->rates, ids[i]);
        note(srv, ids[i], models, jobs);
    }
    free(ids);
    if (ok)
        sw->seen = n;
    return ok;
}

static void *sweeper(void *arg)
{
    struct sweep *sw = arg;
    pthread_mutex_lock(&sw->mu);
    while (!sw->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += SWEEP_TICK_S;
        while (!sw->stop &&
               pthread_cond_timedwait(&sw->cv, &sw->mu, &until) == 0)
            ;
        if (sw->stop)
            break;
        pthread_mutex_unlock(&sw->mu);
        look(sw);
        pthread_mutex_lock(&sw->mu);
    }
    pthread_mutex_unlock(&sw->mu);
    return NULL;
}

enum lift_code sweep_start(struct srv *srv, struct sweep **out,
                           struct lift_error *err)
{
    *out = NULL;
    struct sweep *sw = calloc(1, sizeof *sw);
    if (!sw)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (sweep)");
    sw->srv = srv;
    enum lift_code code =
        lift_store_tenant_deletions(srv->store, &sw->seen, err);
    if (code) {
        free(sw);
        return code;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&sw->mu, NULL);
    pthread_cond_init(&sw->cv, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&sw->thread, NULL, sweeper, sw);
    if (rc != 0) {
        pthread_cond_destroy(&sw->cv);
        pthread_mutex_destroy(&sw->mu);
        free(sw);
        return lift_error_sys(err, LIFT_ERR_INTERNAL, rc,
                              "cannot start the deleted-tenant sweep");
    }
    *out = sw;
    return LIFT_OK;
}

void sweep_stop(struct sweep *sw)
{
    if (!sw)
        return;
    pthread_mutex_lock(&sw->mu);
    sw->stop = true;
    pthread_cond_signal(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
    pthread_join(sw->thread, NULL);
    pthread_cond_destroy(&sw->cv);
    pthread_mutex_destroy(&sw->mu);
    free(sw);
}
