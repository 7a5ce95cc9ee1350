/*
 * server/jobs.c - the job pool: training and bulk scoring.
 *
 * Jobs wait in a FIFO queue; job_threads workers take them one at a time,
 * so training never runs on an HTTP thread and at most job_threads models
 * train at once. A job reads its dataset, optionally cross-validates,
 * trains, writes the model file to a store temp file and completes the
 * reserved version (the store promotes a model's first version). Progress
 * goes to the job's record at most every 200 ms; the progress callback is
 * also where cancellation is noticed, so a cancelled job stops at its
 * next epoch or fold and is marked cancelled. Scoring jobs (a struct
 * train_job whose `score` is set) run in the same workers and queue;
 * server/bulk.c does their work and checks the same cancel flag between
 * chunks of rows. Uplift, segments and RFM jobs (`mkt` set) likewise run
 * in server/routes_marketing.c, whose progress callback stops the
 * library at its next safe point once the cancel flag is up.
 *
 * Threads: all running jobs share a budget of opts.train_threads
 * (lift serve --train-threads). A worker that takes a job asks for the
 * threads the job would use (a training job: lift_train_opts_threads; a
 * scoring, uplift, segments or RFM job: its one worker thread, an uplift
 * job's models training with threads 1) and is granted min(asked, left),
 * waiting, with the job still queued, while nothing is left; a training
 * job's `threads` option is lowered to the grant, which its result
 * records ("threads", "threads_requested"). With the default budget
 * (cores - 1) on two cores, background jobs take one core and online
 * scoring keeps the other.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "server/http.h"

#include "server/bulk.h"
#include "server/marketing.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct node {
    struct train_job *job;
    atomic_int cancel;
    bool running;
    unsigned threads, threads_asked; /* granted from the budget, asked */
    struct node *next;
};

struct jobs {
    struct srv *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct node *head, *tail;
    struct node **running; /* one slot per worker */
    bool stopping;
    pthread_t *threads;
    unsigned n_threads;
    unsigned threads_left; /* of the training-thread budget, under mu */
    pthread_cond_t freed;  /* threads_left grew, or stopping */
    pthread_cond_t ended;  /* a running job left its worker */
};

/* One less than the cores this process may run on, at least 1. */
static unsigned default_train_threads(void)
{
    long n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 1 ? (unsigned)(n - 1) : 1u;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void free_job(struct train_job *job)
{
    if (!job)
        return;
    lift_train_opts_free(job->opts);
    free(job->params_json);
    score_job_free(job->score);
    mkt_job_free(job->mkt);
    free(job);
}

/* A training job (one that fills a reserved model version). */
static bool trains(const struct train_job *job)
{
    return !job->score && !job->mkt;
}

struct progress_ctx {
    struct jobs *jobs;
    struct node *node;
    double last;
};

static int on_progress(void *user, const struct lift_progress *p)
{
    struct progress_ctx *c = user;
    if (atomic_load(&c->node->cancel))
        return 1;
    /* learners call between batches (stage "batch") only to let a
     * cancellation in: nothing to show */
    if (p->stage && strcmp(p->stage, "batch") == 0)
        return 0;
    double t = now();
    if (t - c->last < 0.2 && p->epoch != p->epochs)
        return 0;
    c->last = t;
    json_t *doc = json_object();
    json_object_set_new(doc, "stage", json_string(p->stage ? p->stage : ""));
    json_object_set_new(doc, "epoch", json_integer(p->epoch));
    json_object_set_new(doc, "epochs", json_integer(p->epochs));
    if (isfinite(p->loss))
        json_object_set_new(doc, "loss", json_real(p->loss));
    if (isfinite(p->valid_loss))
        json_object_set_new(doc, "valid_loss", json_real(p->valid_loss));
    if (p->metric && isfinite(p->valid_metric)) {
        json_object_set_new(doc, "metric", json_string(p->metric));
        json_object_set_new(doc, "valid_metric", json_real(p->valid_metric));
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(8));
    json_decref(doc);
    /* a job whose row is gone (its tenant was deleted, maybe by another
     * process) stops here */
    if (text &&
        lift_store_job_update(c->jobs->srv->store, c->node->job->id, NULL, text,
                              NULL, NULL, NULL) == LIFT_ERR_NOT_FOUND)
        atomic_store(&c->node->cancel, 1);
    free(text);
    return atomic_load(&c->node->cancel) ? 1 : 0;
}

/* Writes the model to a store temp file; *path filled. */
static enum lift_code write_model(struct srv *srv, const struct lift_model *m,
                                  char *path, size_t cap,
                                  struct lift_error *err)
{
    void *data;
    size_t len;
    enum lift_code rc = lift_model_to_bytes(m, &data, &len, err);
    if (rc)
        return rc;
    int fd;
    if ((rc = lift_store_tmp_create(srv->store, &fd, path, cap, err))) {
        free(data);
        return rc;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = lift_error_sys(err, LIFT_ERR_IO, errno,
                                "cannot write the model file");
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!rc && fsync(fd) != 0)
        rc = lift_error_sys(err, LIFT_ERR_IO, errno,
                            "cannot write the model file");
    close(fd);
    if (rc)
        unlink(path);
    free(data);
    return rc;
}

/* The version record's info: the model's own plus cv and importance. */
static char *version_info(const struct lift_model *m, const char *cv,
                          double train_s)
{
    json_t *doc = json_loads(lift_model_info_json(m), 0, NULL);
    if (!doc)
        doc = json_object();
    if (cv)
        json_object_set_new(doc, "cv", json_loads(cv, 0, NULL));
    size_t ni = lift_model_n_inputs(m);
    struct lift_contribution *c = malloc((ni ? ni : 1) * sizeof *c);
    struct lift_contribution *gc = malloc((ni ? ni : 1) * sizeof *gc);
    double *graw = malloc((ni ? ni : 1) * sizeof *graw);
    if (c && gc && graw) {
        size_t n = lift_model_importance(m, c);
        size_t ngain = lift_model_gain_importance(m, gc, graw);
        json_t *imp = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *e =
                json_pack("{s:s,s:f}", "column", c[i].column, "importance",
                          isfinite(c[i].value) ? c[i].value : 0.0);
            /* trees: the column's share of the split gain, and the total */
            for (size_t j = 0; e && j < ngain; j++)
                if (strcmp(gc[j].column, c[i].column) == 0) {
                    json_object_set_new(e, "gain", json_real(gc[j].value));
                    json_object_set_new(e, "gain_total", json_real(graw[j]));
                    break;
                }
            json_array_append_new(imp, e);
        }
        json_object_set_new(doc, "importance", imp);
    }
    free(c);
    free(gc);
    free(graw);
    json_object_set_new(doc, "train_s", json_real(train_s));
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(doc);
    return text;
}

/* The job's result but "promoted", which the store adds; with the
 * threads it was granted and those it asked for. */
static char *job_result(const struct node *node, double train_s)
{
    const struct train_job *job = node->job;
    json_t *res = json_pack("{s:s,s:I,s:f,s:i,s:i}", "model", job->model,
                            "version", (json_int_t)job->version, "train_s",
                            train_s, "threads", (int)node->threads,
                            "threads_requested", (int)node->threads_asked);
    char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
    json_decref(res);
    return text;
}

static void run(struct jobs *jobs, struct node *node)
{
    struct srv *srv = jobs->srv;
    struct train_job *job = node->job;
    struct lift_error err;
    lift_error_clear(&err);
    struct lift_table *t = NULL;
    struct lift_model *m = NULL;
    char *cv = NULL, *info = NULL, tmp[4096] = "";
    struct progress_ctx ctx = {jobs, node, 0};
    lift_train_opts_set_progress(job->opts, on_progress, &ctx);
    enum lift_code rc = read_dataset(srv, job->tenant, job->dataset, &t, &err);
    if (!rc && job->cv_folds) {
        struct lift_cv_opts cvo = {job->cv_folds, false, NULL, 0, 42};
        rc = lift_cv_json(t, job->opts, &cvo, &cv, &err);
    }
    double t0 = now();
    if (!rc)
        rc = lift_model_train(t, NULL, 0, job->opts, &m, &err);
    double train_s = now() - t0;
    bool promoted = false;
    char *result = NULL;
    if (!rc && (!(info = version_info(m, cv, train_s)) ||
                !(result = job_result(node, train_s))))
        rc = lift_error_set(&err, LIFT_ERR_NOMEM, "out of memory (info)");
    if (!rc)
        rc = write_model(srv, m, tmp, sizeof tmp, &err);
    /* the version and the job's success commit together: a crash
     * leaves both or neither */
    if (!rc)
        rc = lift_store_version_complete_job(
            srv->store, job->tenant, job->model, job->version, tmp, info,
            job->id, result, &promoted, &err);
    if (rc) {
        if (tmp[0])
            unlink(tmp);
        bool cancelled = rc == LIFT_ERR_CANCELLED;
        lift_store_version_fail(srv->store, job->tenant, job->model,
                                job->version, err.msg, NULL);
        lift_store_job_update(srv->store, job->id,
                              cancelled ? "cancelled" : "failed", NULL, err.msg,
                              NULL, NULL);
    } else if (promoted) {
        snapshots_invalidate(srv->snaps, job->tenant, job->model);
    }
    free(result);
    free(cv);
    free(info);
    lift_model_free(m);
    lift_table_free(t);
}

/* Grants a taken job its threads from the budget (j->mu held), waiting
 * while none is left; false when the job was cancelled or the pool is
 * stopping meanwhile (nothing granted). */
static bool take_threads(struct jobs *j, struct node *n)
{
    /* scoring and marketing jobs run on their worker thread alone (an
     * uplift job's models train with threads 1: mkt_job_run) */
    unsigned asked =
        trains(n->job) ? lift_train_opts_threads(n->job->opts) : 1u;
    n->threads_asked = asked;
    while (!j->threads_left && !j->stopping && !atomic_load(&n->cancel))
        pthread_cond_wait(&j->freed, &j->mu);
    if (j->stopping || atomic_load(&n->cancel))
        return false;
    unsigned got = asked < j->threads_left ? asked : j->threads_left;
    j->threads_left -= got;
    n->threads = got;
    if (got != asked && trains(n->job)) {
        char text[16];
        snprintf(text, sizeof text, "%u", got);
        lift_train_opts_set(n->job->opts, "threads", text, NULL);
    }
    return true;
}

static void *worker(void *arg)
{
    struct jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    unsigned slot = 0;
    while (slot < j->n_threads && j->running[slot] != (struct node *)j)
        slot++;
    j->running[slot] = NULL;
    for (;;) {
        while (!j->head && !j->stopping)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->stopping)
            break;
        struct node *n = j->head;
        j->head = n->next;
        if (!j->head)
            j->tail = NULL;
        n->running = true;
        j->running[slot] = n;
        bool go = take_threads(j, n);
        pthread_mutex_unlock(&j->mu);
        if (!go) {
            if (trains(n->job))
                lift_store_version_fail(j->srv->store, n->job->tenant,
                                        n->job->model, n->job->version,
                                        "cancelled", NULL);
            lift_store_job_update(j->srv->store, n->job->id, "cancelled", NULL,
                                  "cancelled before it started", NULL, NULL);
        } else {
            lift_store_job_update(j->srv->store, n->job->id, "running", NULL,
                                  NULL, NULL, NULL);
            if (n->job->score)
                score_job_run(j->srv, n->job->id, n->job->tenant, n->job->score,
                              &n->cancel);
            else if (n->job->mkt)
                mkt_job_run(j->srv, n->job->id, n->job->tenant, n->job->mkt,
                            &n->cancel);
            else
                run(j, n);
        }
        pthread_mutex_lock(&j->mu);
        j->threads_left += n->threads;
        pthread_cond_broadcast(&j->freed);
        j->running[slot] = NULL;
        pthread_cond_broadcast(&j->ended);
        free_job(n->job);
        free(n);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

enum lift_code jobs_start(struct srv *srv, struct jobs **out,
                          struct lift_error *err)
{
    struct jobs *j = calloc(1, sizeof *j);
    *out = NULL;
    if (!j)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (jobs)");
    j->srv = srv;
    j->n_threads = srv->opts.job_threads;
    if (!srv->opts.train_threads)
        srv->opts.train_threads = default_train_threads();
    j->threads_left = srv->opts.train_threads;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    pthread_cond_init(&j->freed, NULL);
    pthread_cond_init(&j->ended, NULL);
    j->threads = calloc(j->n_threads, sizeof *j->threads);
    j->running = calloc(j->n_threads, sizeof *j->running);
    if (!j->threads || !j->running) {
        free(j->threads);
        free(j->running);
        free(j);
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (jobs)");
    }
    unsigned started = 0;
    for (; started < j->n_threads; started++) {
        /* a worker finds its slot by the marker we leave in it */
        pthread_mutex_lock(&j->mu);
        j->running[started] = (struct node *)j;
        pthread_mutex_unlock(&j->mu);
        if (pthread_create(&j->threads[started], NULL, worker, j) != 0)
            break;
    }
    j->n_threads = started;
    if (started == 0) {
        free(j->threads);
        free(j->running);
        free(j);
        return lift_error_set(err, LIFT_ERR_INTERNAL,
                              "cannot start the training workers");
    }
    *out = j;
    return LIFT_OK;
}

enum lift_code jobs_submit(struct jobs *j, struct train_job *job,
                           struct lift_error *err)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n) {
        lift_store_job_update(j->srv->store, job->id, "failed", NULL,
                              "out of memory", NULL, NULL);
        free_job(job);
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (job)");
    }
    n->job = job;
    atomic_init(&n->cancel, 0);
    pthread_mutex_lock(&j->mu);
    if (j->stopping) {
        pthread_mutex_unlock(&j->mu);
        lift_store_job_update(j->srv->store, job->id, "cancelled", NULL,
                              "the server is stopping", NULL, NULL);
        free_job(job);
        free(n);
        return lift_error_set(err, LIFT_ERR_UNAVAILABLE,
                              "the server is stopping");
    }
    if (j->tail)
        j->tail->next = n;
    else
        j->head = n;
    j->tail = n;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return LIFT_OK;
}

/* A job taken out of the queue before it started: recorded cancelled
 * (with its reserved version, for training), then freed. j->mu not held. */
static void finish_unstarted(struct jobs *j, struct node *n)
{
    if (trains(n->job))
        lift_store_version_fail(j->srv->store, n->job->tenant, n->job->model,
                                n->job->version, "cancelled", NULL);
    lift_store_job_update(j->srv->store, n->job->id, "cancelled", NULL,
                          "cancelled before it started", NULL, NULL);
    free_job(n->job);
    free(n);
}

enum lift_code jobs_cancel(struct jobs *j, int64_t tenant, const char *id,
                           struct lift_error *err)
{
    pthread_mutex_lock(&j->mu);
    for (unsigned s = 0; s < j->n_threads; s++) {
        struct node *n = j->running[s];
        if (n && n != (struct node *)j && n->job->tenant == tenant &&
            strcmp(n->job->id, id) == 0) {
            atomic_store(&n->cancel, 1);
            pthread_cond_broadcast(&j->freed); /* it may wait for threads */
            pthread_mutex_unlock(&j->mu);
            return LIFT_OK;
        }
    }
    for (struct node **pp = &j->head; *pp; pp = &(*pp)->next) {
        struct node *n = *pp;
        if (n->job->tenant != tenant || strcmp(n->job->id, id) != 0)
            continue;
        *pp = n->next;
        if (j->tail == n) {
            j->tail = NULL;
            for (struct node *q = j->head; q; q = q->next)
                j->tail = q;
        }
        pthread_mutex_unlock(&j->mu);
        finish_unstarted(j, n);
        return LIFT_OK;
    }
    pthread_mutex_unlock(&j->mu);
    return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                          "job '%s' is not queued or running here", id);
}

void jobs_stop(struct jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    for (unsigned s = 0; s < j->n_threads; s++)
        if (j->running[s] && j->running[s] != (struct node *)j)
            atomic_store(&j->running[s]->cancel, 1);
    struct node *queued = j->head;
    j->head = j->tail = NULL;
    pthread_cond_broadcast(&j->cv);
    pthread_cond_broadcast(&j->freed);
    pthread_mutex_unlock(&j->mu);
    for (struct node *n = queued; n;) {
        struct node *next = n->next;
        if (trains(n->job))
            lift_store_version_fail(j->srv->store, n->job->tenant,
                                    n->job->model, n->job->version,
                                    "the server stopped", NULL);
        lift_store_job_update(j->srv->store, n->job->id, "cancelled", NULL,
                              "the server stopped", NULL, NULL);
        free_job(n->job);
        free(n);
        n = next;
    }
    for (unsigned s = 0; s < j->n_threads; s++)
        pthread_join(j->threads[s], NULL);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    pthread_cond_destroy(&j->freed);
    pthread_cond_destroy(&j->ended);
    free(j->threads);
    free(j->running);
    free(j);
}

/* How many jobs of tenant the workers run now (j->mu held). */
static unsigned running_of(struct jobs *j, int64_t tenant)
{
    unsigned n = 0;
    for (unsigned s = 0; s < j->n_threads; s++) {
        struct node *r = j->running[s];
        if (r && r != (struct node *)j && r->job->tenant == tenant)
            n++;
    }
    return n;
}

enum lift_code jobs_cancel_tenant(struct jobs *j, int64_t tenant, double wait_s,
                                  unsigned *n_cancelled, struct lift_error *err)
{
    unsigned n = 0;
    struct node *taken = NULL;
    pthread_mutex_lock(&j->mu);
    /* queued: out of the queue at once */
    for (struct node **pp = &j->head; *pp;) {
        struct node *q = *pp;
        if (q->job->tenant != tenant) {
            pp = &q->next;
            continue;
        }
        *pp = q->next;
        q->next = taken;
        taken = q;
        n++;
    }
    j->tail = NULL;
    for (struct node *q = j->head; q; q = q->next)
        j->tail = q;
    /* running: flagged, then waited for */
    for (unsigned s = 0; s < j->n_threads; s++) {
        struct node *r = j->running[s];
        if (r && r != (struct node *)j && r->job->tenant == tenant &&
            !atomic_exchange(&r->cancel, 1))
            n++;
    }
    pthread_cond_broadcast(&j->freed); /* one may wait for threads */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double whole = floor(wait_s);
    until.tv_sec += (time_t)whole;
    until.tv_nsec += (long)((wait_s - whole) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    unsigned left;
    while ((left = running_of(j, tenant)) > 0 &&
           pthread_cond_timedwait(&j->ended, &j->mu, &until) == 0)
        ;
    left = running_of(j, tenant);
    pthread_mutex_unlock(&j->mu);
    for (struct node *q = taken; q;) {
        struct node *next = q->next;
        finish_unstarted(j, q);
        q = next;
    }
    if (n_cancelled)
        *n_cancelled = n;
    if (left)
        return lift_error_set(err, LIFT_ERR_UNAVAILABLE,
                              "%u jobs of the tenant did not stop within "
                              "%.0f s",
                              left, wait_s);
    return LIFT_OK;
}
