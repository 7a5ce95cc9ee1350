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
 *
 * The operator reads and sets a tenant's quota at
 * /v1/tenants/{name}/quota (GET, PUT), as `lift admin tenant quota` does.
 */
#include "server/http.h"

#include <math.h>
#include <stddef.h>
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

static struct stripe *stripe_of(struct rates *rt, int64_t tenant)
{
    return &rt->stripes[(uint64_t)tenant * 0x9e3779b97f4a7c15ull >> 58];
}

void rates_forget_tenant(struct rates *rt, int64_t tenant)
{
    struct stripe *sp = stripe_of(rt, tenant);
    pthread_mutex_lock(&sp->mu);
    for (struct bucket **at = &sp->head; *at; at = &(*at)->next) {
        if ((*at)->tenant == tenant) {
            struct bucket *gone = *at;
            *at = gone->next;
            free(gone);
            break;
        }
    }
    pthread_mutex_unlock(&sp->mu);
}

int64_t *rates_tenants(struct rates *rt, size_t *n)
{
    *n = 0;
    size_t cap = 0;
    int64_t *ids = NULL;
    for (unsigned i = 0; i < RATE_STRIPES; i++) {
        struct stripe *sp = &rt->stripes[i];
        pthread_mutex_lock(&sp->mu);
        for (struct bucket *b = sp->head; b; b = b->next) {
            if (*n == cap) {
                size_t more = cap ? cap * 2 : 64;
                int64_t *grown = realloc(ids, more * sizeof *ids);
                if (!grown) {
                    pthread_mutex_unlock(&sp->mu);
                    free(ids);
                    return NULL; /* *n > 0: out of memory */
                }
                ids = grown;
                cap = more;
            }
            ids[(*n)++] = b->tenant;
        }
        pthread_mutex_unlock(&sp->mu);
    }
    return ids;
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
    struct stripe *sp = stripe_of(srv->rates, tenant);
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

/* The tenant's effective quota and usage: false after answering the
 * store's error. */
static bool tenant_quota(struct req *r, struct lift_quota *q,
                         struct lift_quota_usage *u)
{
    struct lift_error err;
    if (lift_store_quota_get(r->srv->store, r->who.tenant_id, NULL, q, u,
                             &err)) {
        http_error_from(r, &err);
        return false;
    }
    return true;
}

/* The early upload checks (see the overview). */
static bool upload_admit(struct req *r)
{
    struct lift_quota q;
    struct lift_quota_usage u;
    if (!tenant_quota(r, &q, &u))
        return false;
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
        r->throttled = true;
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
    struct lift_quota q;
    struct lift_quota_usage u;
    if (!tenant_quota(r, &q, &u))
        return false;
    if (q.jobs >= 0 && u.jobs >= q.jobs) {
        http_error(r, LIFT_ERR_RATE_LIMITED,
                   "job quota exceeded: %lld jobs queued or running, the "
                   "limit is %lld; wait for one to finish or cancel one",
                   (long long)u.jobs, (long long)q.jobs);
        return false;
    }
    return true;
}

/* The fewest bytes of a result of `rows` rows: the header "row,score\n"
 * or "ID,score\n" (at least 8), then per row its number (1-based, in
 * decimal), a comma, one character of score and a newline. */
static int64_t result_floor(int64_t rows)
{
    int64_t bytes = 8, width = 1, from = 1;
    while (from <= rows) {
        int64_t to = from <= INT64_MAX / 10 ? from * 10 - 1 : INT64_MAX;
        int64_t n = (rows < to ? rows : to) - from + 1;
        bytes += n * (width + 3);
        if (to == INT64_MAX)
            break;
        from = to + 1;
        width++;
    }
    return bytes;
}

bool quota_result_room(struct req *r, int64_t rows)
{
    struct lift_quota q;
    struct lift_quota_usage u;
    if (!tenant_quota(r, &q, &u))
        return false;
    if (q.storage < 0)
        return true;
    int64_t need = result_floor(rows);
    int64_t room = q.storage > u.storage ? q.storage - u.storage : 0;
    if (need > room) {
        http_error(r, LIFT_ERR_QUOTA,
                   "storage quota exceeded: the result of scoring %lld rows "
                   "needs at least %lld bytes, the quota of %lld bytes "
                   "leaves %lld (%lld used)",
                   (long long)rows, (long long)need, (long long)q.storage,
                   (long long)room, (long long)u.storage);
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

/* ---- the operator's routes ---------------------------------------------- */

static const struct {
    const char *key; /* as in GET /v1/quota */
    size_t offset;
} quota_fields[] = {
    {"storage_bytes", offsetof(struct lift_quota, storage)},
    {"datasets", offsetof(struct lift_quota, datasets)},
    {"models", offsetof(struct lift_quota, models)},
    {"jobs", offsetof(struct lift_quota, jobs)},
    {"rps", offsetof(struct lift_quota, rps)},
    {"burst", offsetof(struct lift_quota, burst)},
};

#define N_QUOTA_FIELDS (sizeof quota_fields / sizeof quota_fields[0])

static int64_t *quota_field(struct lift_quota *q, size_t i)
{
    return (int64_t *)(void *)((char *)q + quota_fields[i].offset);
}

/* The tenant of r->name: false after answering (422 bad name, 404). */
static bool quota_tenant(struct req *r, int64_t *id)
{
    struct lift_error err;
    if (!lift_store_name_ok(r->name)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "bad tenant name '%s' (1 to %d characters of A-Z a-z 0-9 "
                   ". _ -, not starting with '.')",
                   r->name, LIFT_NAME_MAX);
        return false;
    }
    if (lift_store_tenant_id(r->srv->store, r->name, id, &err)) {
        http_error_from(r, &err);
        return false;
    }
    return true;
}

/* GET /v1/quota's document of the tenant plus "override": its own
 * limits (a number, null for unlimited; absent: the server's default). */
static void answer_tenant_quota(struct req *r, int64_t id)
{
    struct lift_error err;
    struct lift_quota ov;
    char *json = NULL;
    if (lift_store_quota_get(r->srv->store, id, &ov, NULL, NULL, &err) ||
        lift_store_quota_json(r->srv->store, id, &json, &err)) {
        http_error_from(r, &err);
        return;
    }
    json_t *doc = json_loads(json, 0, NULL), *o = json_object();
    free(json);
    for (size_t i = 0; i < N_QUOTA_FIELDS; i++) {
        int64_t v = *quota_field(&ov, i);
        if (v != LIFT_QUOTA_DEFAULT)
            json_object_set_new(o, quota_fields[i].key,
                                v < 0 ? json_null()
                                      : json_integer((json_int_t)v));
    }
    json_object_set_new(doc, "override", o);
    http_json(r, 200, doc);
}

void route_tenant_quota_get(struct req *r)
{
    int64_t id;
    if (quota_tenant(r, &id))
        answer_tenant_quota(r, id);
}

void route_tenant_quota_set(struct req *r)
{
    int64_t id;
    json_t *body = http_body_object(r);
    if (!body || !quota_tenant(r, &id))
        goto done;
    struct lift_quota q;
    lift_quota_fill(&q, LIFT_QUOTA_KEEP);
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        size_t i = 0;
        while (i < N_QUOTA_FIELDS && strcmp(key, quota_fields[i].key) != 0)
            i++;
        if (i == N_QUOTA_FIELDS) {
            http_error(r, LIFT_ERR_UNPROCESSABLE,
                       "unknown field '%.64s' (storage_bytes, datasets, "
                       "models, jobs, rps, burst)",
                       key);
            goto done;
        }
        int64_t *f = quota_field(&q, i);
        if (json_is_null(v))
            *f = LIFT_QUOTA_UNLIMITED;
        else if (json_is_string(v) &&
                 strcmp(json_string_value(v), "default") == 0)
            *f = LIFT_QUOTA_DEFAULT;
        else if (json_is_integer(v) && json_integer_value(v) >= 0)
            *f = (int64_t)json_integer_value(v);
        else {
            http_error(r, LIFT_ERR_UNPROCESSABLE,
                       "'%s' must be a whole number >= 0, null (unlimited) "
                       "or \"default\"",
                       key);
            goto done;
        }
    }
    struct lift_error err;
    if (lift_store_quota_set(r->srv->store, id, &q, &err)) {
        if (err.code == LIFT_ERR_INVALID)
            err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        goto done;
    }
    answer_tenant_quota(r, id);
done:
    json_decref(body);
}
