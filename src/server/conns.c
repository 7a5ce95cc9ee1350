/*
 * server/conns.c - the request deadline tracker (conns.h has the rule
 * and the locking argument).
 *
 * Connections sit in one doubly-linked list under the tracker's mutex;
 * the reaper walks it every CONNS_TICK_MS, so a connection is shut down
 * at most one tick after its deadline. The walk is O(connections) with
 * no allocation; 10 000 connections take well under a millisecond.
 */
#include "server/conns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum phase {
    PHASE_HEADERS = 0, /* waiting for (the rest of) the headers */
    PHASE_BODY,        /* the handler runs; body bytes arrive */
    PHASE_RECEIVED,    /* the whole request is in */
};

struct conn {
    struct conn *prev, *next;
    int fd;
    enum phase phase; /* under cs->lock */
    double start;     /* under cs->lock */
    bool reaped;      /* under cs->lock */
    _Atomic uint64_t received;
};

struct conns {
    unsigned timeout_s;
    size_t min_rate;
    struct lift_logger log;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop; /* under lock */
    struct conn *head;
    _Atomic uint64_t n_reaped;
    pthread_t reaper;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double conns_deadline(double start, unsigned request_timeout_s,
                      uint64_t received, size_t min_rate)
{
    double d = start + (double)request_timeout_s;
    if (min_rate)
        d += (double)received / (double)min_rate;
    return d;
}

uint64_t conns_reaped(struct conns *cs)
{
    return cs ? atomic_load(&cs->n_reaped) : 0;
}

/* "127.0.0.1:54321", or "unknown" */
static void peer_name(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    if (host[0])
        snprintf(out, cap, "%s:%u", host, port);
    else
        snprintf(out, cap, "unknown");
}

/* What the reaper tells the log about one connection, written under the
 * lock and logged after it is released: a logger blocked on a full pipe
 * must not stall the HTTP threads waiting for the lock. */
struct reaped {
    char peer[INET6_ADDRSTRLEN + 8];
    enum phase phase;
    uint64_t received;
    double elapsed;
    int err; /* errno of a failed shutdown, else 0 */
};

#define REPORTS_MAX 32

/* Shuts down every connection past its deadline; cs->lock held. Fills
 * out[0..REPORTS_MAX) and returns how many were shut down. */
static size_t reap(struct conns *cs, double t, struct reaped *out)
{
    size_t n = 0;
    for (struct conn *c = cs->head; c; c = c->next) {
        if (c->reaped || c->phase == PHASE_RECEIVED)
            continue;
        uint64_t got = atomic_load_explicit(&c->received, memory_order_relaxed);
        if (t <= conns_deadline(c->start, cs->timeout_s, got, cs->min_rate))
            continue;
        c->reaped = true;
        atomic_fetch_add(&cs->n_reaped, 1);
        struct reaped r = {"", c->phase, got, t - c->start, 0};
        peer_name(c->fd, r.peer, sizeof r.peer);
        if (shutdown(c->fd, SHUT_RDWR) != 0)
            r.err = errno;
        if (n < REPORTS_MAX)
            out[n] = r;
        n++;
    }
    return n;
}

static void report(struct conns *cs, const struct reaped *r, size_t n)
{
    if (!cs->log.fn || LIFT_LOG_INFO < cs->log.min_level)
        return;
    char msg[320];
    for (size_t i = 0; i < n && i < REPORTS_MAX; i++) {
        if (r[i].err)
            snprintf(msg, sizeof msg,
                     "cannot shut down the connection from %.60s: %s",
                     r[i].peer, strerror(r[i].err));
        else if (r[i].phase == PHASE_HEADERS)
            snprintf(msg, sizeof msg,
                     "closed the connection from %.60s: request headers not "
                     "received within %u s (--request-timeout)",
                     r[i].peer, cs->timeout_s);
        else
            snprintf(msg, sizeof msg,
                     "closed the connection from %.60s: request body too slow "
                     "(%llu bytes in %.1f s; --request-timeout %u s, "
                     "--min-rate %zu bytes/s)",
                     r[i].peer, (unsigned long long)r[i].received, r[i].elapsed,
                     cs->timeout_s, cs->min_rate);
        cs->log.fn(cs->log.user, LIFT_LOG_INFO, msg);
    }
    if (n > REPORTS_MAX) {
        snprintf(msg, sizeof msg,
                 "closed %zu more connections past their request deadline",
                 n - REPORTS_MAX);
        cs->log.fn(cs->log.user, LIFT_LOG_INFO, msg);
    }
}

static void *reaper_main(void *arg)
{
    struct conns *cs = arg;
    struct reaped reports[REPORTS_MAX];
    pthread_mutex_lock(&cs->lock);
    while (!cs->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)CONNS_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
        }
        int rc = 0;
        while (!cs->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
        if (cs->stop)
            break;
        size_t n = reap(cs, now(), reports);
        if (n) {
            pthread_mutex_unlock(&cs->lock);
            report(cs, reports, n);
            pthread_mutex_lock(&cs->lock);
        }
    }
    pthread_mutex_unlock(&cs->lock);
    return NULL;
}

enum lift_code conns_new(unsigned request_timeout_s, size_t min_rate,
                         struct lift_logger log, struct conns **out,
                         struct lift_error *err)
{
    *out = NULL;
    struct conns *cs = calloc(1, sizeof *cs);
    if (!cs)
        return lift_error_set(err, LIFT_ERR_NOMEM,
                              "out of memory (connection tracker)");
    cs->timeout_s = request_timeout_s;
    cs->min_rate = min_rate;
    cs->log = log;
    if (!request_timeout_s) {
        *out = cs;
        return LIFT_OK;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&cs->lock, NULL);
    pthread_cond_init(&cs->wake, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&cs->reaper, NULL, reaper_main, cs);
    if (rc != 0) {
        pthread_cond_destroy(&cs->wake);
        pthread_mutex_destroy(&cs->lock);
        free(cs);
        return lift_error_sys(err, LIFT_ERR_INTERNAL, rc,
                              "cannot start the connection reaper");
    }
    *out = cs;
    return LIFT_OK;
}

void conns_free(struct conns *cs)
{
    if (!cs)
        return;
    if (cs->timeout_s) {
        pthread_mutex_lock(&cs->lock);
        cs->stop = true;
        pthread_cond_signal(&cs->wake);
        pthread_mutex_unlock(&cs->lock);
        pthread_join(cs->reaper, NULL);
        /* the daemon is stopped: anything left was never closed */
        while (cs->head) {
            struct conn *c = cs->head;
            cs->head = c->next;
            free(c);
        }
        pthread_cond_destroy(&cs->wake);
        pthread_mutex_destroy(&cs->lock);
    }
    free(cs);
}

struct conn *conn_open(struct conns *cs, int fd)
{
    return conn_open_at(cs, fd, now());
}

struct conn *conn_open_at(struct conns *cs, int fd, double start)
{
    if (!cs || !cs->timeout_s || fd < 0)
        return NULL;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->phase = PHASE_HEADERS;
    atomic_init(&c->received, 0);
    pthread_mutex_lock(&cs->lock);
    c->start = start;
    c->next = cs->head;
    if (cs->head)
        cs->head->prev = c;
    cs->head = c;
    pthread_mutex_unlock(&cs->lock);
    return c;
}

void conn_close(struct conns *cs, struct conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&cs->lock);
    free(c);
}

void conn_access(struct conns *cs, struct conn *c, size_t offered)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->lock);
    if (c->phase == PHASE_HEADERS)
        c->phase = PHASE_BODY;
    else if (offered == 0)
        c->phase = PHASE_RECEIVED;
    pthread_mutex_unlock(&cs->lock);
}

void conn_body(struct conn *c, size_t n)
{
    if (c)
        atomic_fetch_add_explicit(&c->received, n, memory_order_relaxed);
}

void conn_done(struct conns *cs, struct conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->lock);
    c->phase = PHASE_HEADERS;
    c->start = now();
    atomic_store(&c->received, 0);
    pthread_mutex_unlock(&cs->lock);
}

void conns_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                  enum MHD_ConnectionNotificationCode toe)
{
    struct conns *cs = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = info ? conn_open(cs, info->connect_fd) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_close(cs, *socket_context);
        *socket_context = NULL;
    }
}

struct conn *conns_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}
