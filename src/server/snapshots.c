/*
 * server/snapshots.c - loaded model versions, shared by requests.
 *
 * The cache maps (tenant, model name) to the snapshot of its serving
 * version. A snapshot is immutable and reference-counted: the cache holds
 * one reference, every request in flight another. Promotion, rollback and
 * deletion only drop the cache's reference (invalidate); the next request
 * loads the new serving version, while requests that hold the old one
 * finish on it and the last of them frees it. So a promotion never blocks
 * or breaks scoring.
 *
 * The table is an array searched linearly under a mutex: a server holds
 * few models, and the lookup is a string compare of at most a few dozen
 * entries. Loading happens outside the lock.
 */
#include "server/http.h"

#include <stdlib.h>
#include <string.h>

struct snapshots {
    pthread_mutex_t mu;
    struct snapshot **items;
    size_t n, cap;
};

enum lift_code snapshots_new(struct snapshots **out, struct lift_error *err)
{
    struct snapshots *s = calloc(1, sizeof *s);
    if (!s)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (models)");
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return LIFT_OK;
}

void snapshot_release(struct snapshot *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        lift_model_free(s->model);
        free(s);
    }
}

void snapshots_free(struct snapshots *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        snapshot_release(s->items[i]);
    free(s->items);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

size_t snapshots_loaded(struct snapshots *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static long find(struct snapshots *s, int64_t tenant, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i]->tenant == tenant &&
            strcmp(s->items[i]->name, name) == 0)
            return (long)i;
    return -1;
}

enum lift_code snapshots_acquire(struct srv *srv, int64_t tenant,
                                 const char *name, struct snapshot **out,
                                 struct lift_error *err)
{
    struct snapshots *s = srv->snaps;
    *out = NULL;
    pthread_mutex_lock(&s->mu);
    long i = find(s, tenant, name);
    if (i >= 0) {
        atomic_fetch_add(&s->items[i]->refs, 1);
        *out = s->items[i];
        pthread_mutex_unlock(&s->mu);
        return LIFT_OK;
    }
    pthread_mutex_unlock(&s->mu);

    char path[4096];
    int64_t version;
    enum lift_code rc = lift_store_model_serving(
        srv->store, tenant, name, &version, path, sizeof path, err);
    if (rc)
        return rc;
    struct snapshot *snap = calloc(1, sizeof *snap);
    if (!snap)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (model)");
    if ((rc = lift_model_load(path, &snap->model, err))) {
        free(snap);
        return rc;
    }
    snap->tenant = tenant;
    snap->version = version;
    snprintf(snap->name, sizeof snap->name, "%s", name);
    atomic_init(&snap->refs, 2); /* the cache's and the caller's */

    pthread_mutex_lock(&s->mu);
    i = find(s, tenant, name);
    if (i >= 0) { /* another request loaded it meanwhile */
        struct snapshot *have = s->items[i];
        atomic_fetch_add(&have->refs, 1);
        pthread_mutex_unlock(&s->mu);
        lift_model_free(snap->model);
        free(snap);
        *out = have;
        return LIFT_OK;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct snapshot **items = realloc(s->items, cap * sizeof *items);
        if (!items) {
            pthread_mutex_unlock(&s->mu);
            atomic_store(&snap->refs, 1); /* the caller's only */
            *out = snap;
            return LIFT_OK; /* served, just not cached */
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n++] = snap;
    pthread_mutex_unlock(&s->mu);
    *out = snap;
    return LIFT_OK;
}

void snapshots_invalidate(struct snapshots *s, int64_t tenant, const char *name)
{
    pthread_mutex_lock(&s->mu);
    long i = find(s, tenant, name);
    struct snapshot *old = NULL;
    if (i >= 0) {
        old = s->items[i];
        s->items[i] = s->items[--s->n];
    }
    pthread_mutex_unlock(&s->mu);
    snapshot_release(old);
}
