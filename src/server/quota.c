/*
 * server/quota.c - the request-rate quota (a token bucket per tenant),
 * the early checks of an upload against the storage and dataset quotas,
 * and GET /v1/quota.
 *
 * Rate: each tenant has a bucket of `burst` tokens refilled at `rps`
 * tokens a second; a request takes one, and finds none -> 429 with
 * Retry-After, the whole seconds until a token is back (at least 1).
 * Buckets live in memory only (a restart refills them), in a hash of
 * RATE_STRIPES chains, each behind its own mutex: a request holds one
 * uncontended lock for a few arithmetic operations. A bucket re-reads
 * its tenant's limits from the store at most every RATE_LIMITS_TTL
 * seconds, outside the lock, so `lift admin tenant quota` on a running
 * server takes effect within that time. If that read fails the old
 * limits stay (the request itself will meet the store's error).
 *
 * Uploads: the storage and count quotas are enforced by the store,
 * inside the transaction that adopts the blob, with its real size (a
 * client cannot lie its way past them). Here they are only checked
 * early, so that a body that cannot fit is refused before it is read:
 * a declared Content-Length over the room left is 403 at once, and
 * r->quota_room makes the receiver stop a body (chunked, or longer than
 * declared) as soon as it passes the room.
 */
#include "server/http.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE_STRIPES 64
#define RATE_LIMITS_TTL 1.0 /* seconds */

struct bucket {
    int64_t tenant;
    int64_t rps, burst; /* effective limits; LIFT_QUOTA_UNLIMITED */
    double tokens;
    double last;    /* last refill, monotonic seconds */
    double fetched; /* when the limits were read; < 0: never */
    struct bucket *next;
};

struct stripe {
    pthread_mutex_t mu;
    struct bucket *head;
};

struct rates {
    struct stripe stripes[RATE_STRIPES];
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum lift_code rates_new(struct rates **out, struct lift_error *err)
{
    *out = NULL;
    struct rates *rt = calloc(1, sizeof *rt);
    if (!rt)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (rates)");
    for (unsigned i = 0; i < RATE_STRIPES; i++)
        pthread_mutex_init(&rt->stripes[i].mu, NULL);
    *out = rt;
    return LIFT_OK;
}

void rates_free(struct rates *rt)
{
    if (!rt)
        return;
    for (unsigned i = 0; i < RATE_STRIPES; i++) {
        for (struct bucket *b = rt->stripes[i].head; b;) {
            struct bucket *next = b->next;
            free(b);
            b = next;
        }
        pthread_mutex_destroy(&rt->stripes[i].mu);
    }
    free(rt);
}

/* The tenant's bucket in a locked stripe, made on first use (NULL when
 * out of memory). */
static struct bucket *find_bucket(struct stripe *sp, int64_t tenant)
{
    for (struct bucket *b = sp->head; b; b = b->next)
        if (b->tenant == tenant)
            return b;
    struct bucket *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->tenant = tenant;
    b->rps = b->burst = LIFT_QUOTA_UNLIMITED;
    b->fetched = -1;
    b->next = sp->head;
    sp->head = b;
    return b;
}

/* New limits for a bucket (stripe locked): a bucket that was unlimited
 * starts full; otherwise it keeps its tokens, at most the new burst. */
static void set_limits(struct bucket *b, int64_t rps, int64_t burst, double t)
{
    bool was_unlimited = b->rps < 0;
    b->rps = rps;
    b->burst = burst;
    b->fetched = t;
    if (rps < 0)
        return;
    if (was_unlimited) {
        b->tokens = (double)burst;
        b->last = t;
    } else if (b->tokens > (double)burst) {
        b->tokens = (double)burst;
    }
}

/* Takes a token from a bucket (stripe locked): true when there was one,
 * else *retry_after, the whole seconds until one is back (>= 1). */
static bool take_token(struct bucket *b, double t, unsigned *retry_after)
{
    if (b->rps < 0)
        return true;
    double rate = (double)b->rps;
    if (t > b->last) {
        b->tokens = fmin((double)b->burst, b->tokens + (t - b->last) * rate);
        b->last = t;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    double wait = ceil((1.0 - b->tokens) / rate);
    *retry_after = wait < 1 ? 1u : (unsigned)wait;
    return false;
}

/*
 * Takes a token from the tenant's bucket: true when the request may go
 * on; false with *retry_after and the limits in force. One lock of one
 * stripe, except once a second per tenant when its limits are re-read
 * (outside the lock).
 */
static bool rate_take(struct srv *srv, int64_t tenant, unsigned *retry_after,
                      int64_t *rps, int64_t *burst)
{
    struct stripe *sp =
        &srv->rates->stripes[(uint64_t)tenant * 0x9e3779b97f4a7c15ull >> 58];
    double t = mono_now();
    pthread_mutex_lock(&sp->mu);
    struct bucket *b = find_bucket(sp, tenant);
    if (b && t - b->fetched >= RATE_LIMITS_TTL) {
        pthread_mutex_unlock(&sp->mu);
        struct lift_quota q;
        bool ok = lift_store_quota_get(srv->store, tenant, NULL, &q, NULL,
                                       NULL) == LIFT_OK;
        pthread_mutex_lock(&sp->mu);
        if (ok)
            set_limits(b, q.rps, q.burst, t);
        else
            b->fetched = t; /* keep the old limits; retry in a second */
    }
    /* out of memory for a bucket: let it through, it will fail anyway */
    bool allowed = !b || take_token(b, t, retry_after);
    if (!allowed) {
        *rps = b->rps;
        *burst = b->burst;
    }
    pthread_mutex_unlock(&sp->mu);
    return allowed;
}

/* The early upload checks (see the overview). */
static bool upload_admit(struct req *r)
{
    struct lift_error err;
    struct lift_quota q;
    struct lift_quota_usage u;
    if (lift_store_quota_get(r->srv->store, r->who.tenant_id, NULL, &q, &u,
                             &err)) {
        http_error_from(r, &err);
        return false;
    }
    if (r->handler == route_dataset_create && q.datasets >= 0 &&
        u.datasets >= q.datasets) {
        http_error(r, LIFT_ERR_QUOTA,
                   "dataset quota exceeded: %lld datasets exist, the limit "
                   "is %lld; delete one first",
                   (long long)u.datasets, (long long)q.datasets);
        return false;
    }
    if (q.storage < 0)
        return true;
    int64_t room = q.storage > u.storage ? q.storage - u.storage : 0;
    const char *cl = MHD_lookup_connection_value(
        r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (cl && declared > (unsigned long long)room) {
        http_error(r, LIFT_ERR_QUOTA,
                   "storage quota exceeded: the upload of %llu bytes would "
                   "bring the usage from %lld to %llu bytes, over the limit "
                   "of %lld",
                   declared, (long long)u.storage,
                   (unsigned long long)u.storage + declared,
                   (long long)q.storage);
        return false;
    }
    r->quota_room = (size_t)room;
    return true;
}

bool quota_admit(struct req *r)
{
    if (r->who.operator)
        return true; /* quotas are the tenants' */
    unsigned retry = 1;
    int64_t rps = 0, burst = 0;
    if (!rate_take(r->srv, r->who.tenant_id, &retry, &rps, &burst)) {
        char v[16];
        snprintf(v, sizeof v, "%u", retry);
        http_header(r, "Retry-After", v);
        http_error(r, LIFT_ERR_RATE_LIMITED,
                   "request rate quota exceeded: the limit is %lld requests "
                   "per second (burst %lld); retry after %u s",
                   (long long)rps, (long long)burst, retry);
        return false;
    }
    if (r->body_kind == BODY_FILE)
        return upload_admit(r);
    return true;
}

bool quota_job_room(struct req *r)
{
    struct lift_error err;
    struct lift_quota q;
    struct lift_quota_usage u;
    if (lift_store_quota_get(r->srv->store, r->who.tenant_id, NULL, &q, &u,
                             &err)) {
        http_error_from(r, &err);
        return false;
    }
    if (q.jobs >= 0 && u.jobs >= q.jobs) {
        http_error(r, LIFT_ERR_RATE_LIMITED,
                   "job quota exceeded: %lld jobs queued or running, the "
                   "limit is %lld; wait for one to finish or cancel one",
                   (long long)u.jobs, (long long)q.jobs);
        return false;
    }
    return true;
}

void route_quota(struct req *r)
{
    struct lift_error err;
    char *json = NULL;
    if (lift_store_quota_json(r->srv->store, r->who.tenant_id, &json, &err)) {
        http_error_from(r, &err);
        return;
    }
    http_json_text(r, 200, json);
    free(json);
}
