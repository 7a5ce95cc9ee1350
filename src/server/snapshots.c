/*
 * server/snapshots.c - loaded model versions, shared by requests.
 *
 * The cache maps (tenant, model name) to the snapshot of its serving
 * version. A snapshot is immutable and reference-counted: the cache holds
 * one reference, every request in flight another; the last holder frees
 * it. So a promotion never blocks or breaks scoring:
 *
 * - Promotion and rollback refresh: the new serving version is loaded
 *   outside the lock while requests go on with the old snapshot, then
 *   swapped in (one pointer, under the lock) before the promotion is
 *   answered. No request waits for a load.
 * - Deletion invalidates: the entry goes, the next request loads.
 * - A miss loads outside the lock too.
 *
 * Loads race with changes: a request that read the serving version just
 * before a promotion committed must not put that old version into the
 * cache after the promotion swapped or dropped its entry (the server
 * would then answer with the old version until the next change). So
 * every change bumps a generation counter after its commit, and a load
 * installs its snapshot only when the counter did not move since it
 * started; else a miss serves its snapshot uncached (its request
 * overlapped the change, so either version is a right answer) and a
 * refresh drops the entry, leaving the next request to load what serves
 * by then.
 *
 * The table is an array searched linearly under a mutex: a server holds
 * few models, and the lookup is a string compare of at most a few dozen
 * entries.
 */
#include "server/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct snapshots {
    pthread_mutex_t mu;
    struct snapshot **items;
    size_t n, cap;
    uint64_t gen; /* bumped by every change (see above) */
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

/* Loads the serving version of (tenant, name) as a snapshot holding one
 * reference (the caller's). */
static enum lift_code load(struct srv *srv, int64_t tenant, const char *name,
                           struct snapshot **out, struct lift_error *err)
{
    char path[4096];
    int64_t version;
    *out = NULL;
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
    atomic_init(&snap->refs, 1);
    *out = snap;
    return LIFT_OK;
}

/* Adds snap (taking its reference) to the table; false when the table
 * cannot grow. The caller holds the lock. */
static bool insert(struct snapshots *s, struct snapshot *snap)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct snapshot **items = realloc(s->items, cap * sizeof *items);
        if (!items)
            return false;
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n++] = snap;
    return true;
}

/* Takes the entry of (tenant, name) out of the table and bumps the
 * generation; returns the cache's reference to release (or NULL). The
 * caller holds the lock. */
static struct snapshot *drop(struct snapshots *s, int64_t tenant,
                             const char *name)
{
    long i = find(s, tenant, name);
    struct snapshot *old = NULL;
    if (i >= 0) {
        old = s->items[i];
        s->items[i] = s->items[--s->n];
    }
    s->gen++;
    return old;
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
    uint64_t gen = s->gen;
    pthread_mutex_unlock(&s->mu);

    struct snapshot *snap;
    enum lift_code rc = load(srv, tenant, name, &snap, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->mu);
    i = find(s, tenant, name);
    if (i >= 0) { /* another request or a refresh put one in meanwhile */
        struct snapshot *have = s->items[i];
        atomic_fetch_add(&have->refs, 1);
        pthread_mutex_unlock(&s->mu);
        snapshot_release(snap);
        *out = have;
        return LIFT_OK;
    }
    /* unchanged since the load began: cache it (the cache's reference
     * and the caller's); else, or when the table cannot grow, serve it
     * uncached */
    if (s->gen == gen && insert(s, snap))
        atomic_fetch_add(&snap->refs, 1);
    pthread_mutex_unlock(&s->mu);
    *out = snap;
    return LIFT_OK;
}

void snapshots_refresh(struct srv *srv, int64_t tenant, const char *name)
{
    struct snapshots *s = srv->snaps;
    pthread_mutex_lock(&s->mu);
    uint64_t gen = ++s->gen;
    pthread_mutex_unlock(&s->mu);

    struct snapshot *snap = NULL, *old = NULL;
    struct lift_error err;
    enum lift_code rc = load(srv, tenant, name, &snap, &err);
    pthread_mutex_lock(&s->mu);
    if (rc || s->gen != gen) {
        /* a later change decides, or there is nothing to serve: the
         * next request loads whatever serves then */
        old = drop(s, tenant, name);
    } else {
        long i = find(s, tenant, name);
        if (i >= 0) {
            old = s->items[i];
            s->items[i] = snap; /* the swap: takes the load's reference */
            snap = NULL;
        } else if (insert(s, snap)) {
            snap = NULL;
        }
    }
    pthread_mutex_unlock(&s->mu);
    snapshot_release(old);
    snapshot_release(snap);
}

void snapshots_invalidate(struct snapshots *s, int64_t tenant, const char *name)
{
    pthread_mutex_lock(&s->mu);
    struct snapshot *old = drop(s, tenant, name);
    pthread_mutex_unlock(&s->mu);
    snapshot_release(old);
}

size_t snapshots_forget_tenant(struct snapshots *s, int64_t tenant)
{
    pthread_mutex_lock(&s->mu);
    /* the generation moves even when nothing is cached: a load that began
     * before the delete must not cache what it read */
    s->gen++;
    size_t n_gone = 0;
    for (size_t i = 0; i < s->n; i++)
        n_gone += s->items[i]->tenant == tenant;
    /* the cache's references are released outside the lock (a release
     * may free a model); without memory for the list, inside it */
    struct snapshot **gone = n_gone ? malloc(n_gone * sizeof *gone) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < s->n;) {
        if (s->items[i]->tenant != tenant) {
            i++;
            continue;
        }
        if (gone)
            gone[k++] = s->items[i];
        else
            snapshot_release(s->items[i]);
        s->items[i] = s->items[--s->n];
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < k; i++)
        snapshot_release(gone[i]);
    free(gone);
    return n_gone;
}
