/*
 * server/defer.c - runs slow request handlers off the HTTP threads.
 *
 * libmicrohttpd's thread pool pins each connection to one event thread:
 * a handler that blocks (a registry commit waits for its fsync, a few ms;
 * a promotion also loads the new model) stalls every other connection of
 * that thread, and scoring requests queued behind it take that much
 * longer (with a promotion a second, enough to move the p99). So the
 * event thread suspends such a connection and hands its request here; a
 * worker runs the handler, queues the answer (libmicrohttpd allows that
 * on a suspended connection) and resumes the connection. The event
 * thread goes on with its other connections meanwhile.
 *
 * One worker, FIFO: the deferred routes are rare writes. defer_stop runs
 * what is queued first and must come before MHD_stop_daemon (which must
 * not meet a suspended connection); from then on defer_submit refuses
 * and the caller runs the handler on its own thread; defer_free, after
 * the daemon has stopped, frees the rest.
 */
#include "server/http.h"

#include <stdlib.h>

struct task {
    defer_fn fn;
    void *arg;
    struct task *next;
};

struct defer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct task *head, *tail;
    bool stopping;
    bool started;
    pthread_t thread;
};

static void *worker(void *arg)
{
    struct defer *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->head && !d->stopping)
            pthread_cond_wait(&d->cv, &d->mu);
        struct task *t = d->head;
        if (!t)
            break; /* stopping, and nothing left */
        d->head = t->next;
        if (!d->head)
            d->tail = NULL;
        pthread_mutex_unlock(&d->mu);
        t->fn(t->arg);
        free(t);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

enum lift_code defer_start(struct defer **out, struct lift_error *err)
{
    *out = NULL;
    struct defer *d = calloc(1, sizeof *d);
    if (!d)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (defer)");
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, worker, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return lift_error_set(err, LIFT_ERR_INTERNAL,
                              "cannot start the deferred-request worker");
    }
    d->started = true;
    *out = d;
    return LIFT_OK;
}

bool defer_submit(struct defer *d, defer_fn fn, void *arg)
{
    if (!d)
        return false;
    struct task *t = malloc(sizeof *t);
    if (!t)
        return false;
    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    pthread_mutex_lock(&d->mu);
    if (d->stopping) {
        pthread_mutex_unlock(&d->mu);
        free(t);
        return false;
    }
    if (d->tail)
        d->tail->next = t;
    else
        d->head = t;
    d->tail = t;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return true;
}

void defer_stop(struct defer *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    bool join = d->started;
    d->stopping = true;
    d->started = false;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (join)
        pthread_join(d->thread, NULL);
}

void defer_free(struct defer *d)
{
    if (!d)
        return;
    defer_stop(d);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
