/*
 * server/listener.c - starts and stops one libmicrohttpd daemon
 * (listener.h): address parsing, HTTPS from checked PEM files, the
 * request deadline wrapped around the caller's callbacks, and
 * libmicrohttpd's log.
 *
 * libmicrohttpd logs why it could not start (a bind error, a TLS setup
 * error) and returns NULL. Its log callback keeps the first message
 * logged before the daemon is up, and that message becomes the error's
 * reason; afterwards messages go to the caller's logger.
 *
 * File responses (MHD_create_response_from_fd) work over TLS too:
 * libmicrohttpd uses sendfile only on plain sockets and reads the file
 * into its buffer for GnuTLS otherwise.
 */
#include "server/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/conns.h"
#include "server/tls.h"

#define CONNECTION_LIMIT 10000
#define LISTEN_BACKLOG 1024

struct listener {
    struct listener_cfg cfg; /* strings not kept */
    char listen[128];
    struct sockaddr_in sa;
    bool tls;
    struct MHD_Daemon *daemon;
    struct conns *conns;
    struct tls_pem pem;
    unsigned port;
    pthread_mutex_t log_lock;
    bool started;                       /* under log_lock */
    char start_msg[LIFT_ERROR_MSG_MAX]; /* under log_lock */
};

static enum lift_code parse_listen(const char *listen, struct sockaddr_in *sa,
                                   struct lift_error *err)
{
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    char host[64];
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || hl == 0 || hl >= sizeof host || !colon[1] || *end ||
        port < 0 || port > 65535)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "bad listen address '%s' (expected HOST:PORT, "
                              "e.g. 127.0.0.1:8080)",
                              listen ? listen : "");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "bad listen host '%s' (an IPv4 address)", host);
    sa->sin_port = htons((uint16_t)port);
    return LIFT_OK;
}

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct listener *l = cls;
    char msg[LIFT_ERROR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    pthread_mutex_lock(&l->log_lock);
    bool started = l->started;
    if (!started && !l->start_msg[0])
        snprintf(l->start_msg, sizeof l->start_msg, "%s", msg);
    pthread_mutex_unlock(&l->log_lock);
    if (started && l->cfg.log.fn && LIFT_LOG_WARN >= l->cfg.log.min_level) {
        char line[LIFT_ERROR_MSG_MAX + 32];
        snprintf(line, sizeof line, "libmicrohttpd: %s", msg);
        l->cfg.log.fn(l->cfg.log.user, LIFT_LOG_WARN, line);
    }
}

/* The caller's access handler, with the deadline tracker told of the
 * request's progress. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc,
                                 const char *url, const char *method,
                                 const char *version, const char *data,
                                 size_t *size, void **con_cls)
{
    struct listener *l = cls;
    struct conn *c = conns_of(mc);
    size_t offered = *size;
    conn_access(l->conns, c, offered);
    enum MHD_Result r = l->cfg.on_request(l->cfg.request_cls, mc, url, method,
                                          version, data, size, con_cls);
    if (offered > *size)
        conn_body(c, offered - *size);
    return r;
}

static void on_done(void *cls, struct MHD_Connection *mc, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct listener *l = cls;
    conn_done(l->conns, conns_of(mc));
    if (l->cfg.on_completed)
        l->cfg.on_completed(l->cfg.completed_cls, mc, con_cls, toe);
}

enum lift_code listener_new(const struct listener_cfg *cfg,
                            struct listener **out, struct lift_error *err)
{
    *out = NULL;
    struct sockaddr_in sa;
    enum lift_code rc = parse_listen(cfg->listen, &sa, err);
    if (rc)
        return rc;
    bool tls = cfg->tls_cert || cfg->tls_key;
    if (tls && (!cfg->tls_cert || !cfg->tls_key))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "HTTPS needs both a certificate and its key "
                              "(--tls-cert and --tls-key); only the %s was "
                              "given",
                              cfg->tls_cert ? "certificate" : "key");
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return lift_error_set(err, LIFT_ERR_UNSUPPORTED,
                              "this libmicrohttpd was built without TLS "
                              "support; cannot serve HTTPS");
    struct listener *l = calloc(1, sizeof *l);
    if (!l)
        return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (listener)");
    l->cfg = *cfg;
    l->cfg.listen = l->cfg.tls_cert = l->cfg.tls_key = NULL;
    snprintf(l->listen, sizeof l->listen, "%s", cfg->listen);
    l->sa = sa;
    l->tls = tls;
    pthread_mutex_init(&l->log_lock, NULL);
    if ((tls &&
         (rc = tls_pem_load(cfg->tls_cert, cfg->tls_key, &l->pem, err))) ||
        (rc = conns_new(cfg->request_timeout_s, cfg->min_rate, cfg->log,
                        &l->conns, err))) {
        listener_free(l);
        return rc;
    }
    *out = l;
    return LIFT_OK;
}

enum lift_code listener_start(struct listener *l, struct lift_error *err)
{
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, l->pem.cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, l->pem.key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };
    /* suspend/resume: server.c runs slow handlers off the event
     * threads on a suspended connection (defer.c) */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
                     (l->tls ? MHD_USE_TLS : 0);
    l->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        l, MHD_OPTION_ARRAY, l->tls ? tls_opts : tls_opts + 3,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&l->sa,
        MHD_OPTION_THREAD_POOL_SIZE, l->cfg.threads ? l->cfg.threads : 2u,
        MHD_OPTION_CONNECTION_TIMEOUT, l->cfg.idle_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, l, MHD_OPTION_NOTIFY_CONNECTION,
        conns_notify, l->conns, MHD_OPTION_CONNECTION_LIMIT,
        l->cfg.connection_limit ? l->cfg.connection_limit
                                : (unsigned)CONNECTION_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
        MHD_OPTION_END);
    int e = errno;
    pthread_mutex_lock(&l->log_lock);
    l->started = true;
    pthread_mutex_unlock(&l->log_lock);
    if (!l->daemon) {
        /* "Failed to bind to port 0: Address already in use": the port
         * is the one MHD was given apart (none: we pass an address) */
        const char *why = strrchr(l->start_msg, ':');
        if (strncmp(l->start_msg, "Failed to bind", 14) == 0 && why)
            return lift_error_set(err, LIFT_ERR_IO, "cannot listen on '%s': %s",
                                  l->listen, why + 2);
        if (l->start_msg[0])
            return lift_error_set(err, LIFT_ERR_IO, "cannot listen on '%s': %s",
                                  l->listen, l->start_msg);
        return lift_error_sys(err, LIFT_ERR_IO, e, "cannot listen on '%s'",
                              l->listen);
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
    l->port = info ? info->port : ntohs(l->sa.sin_port);
    return LIFT_OK;
}

unsigned listener_port(const struct listener *l)
{
    return l->port;
}

void listener_free(struct listener *l)
{
    if (!l)
        return;
    if (l->daemon) {
        MHD_socket lfd = MHD_quiesce_daemon(l->daemon);
        if (lfd != MHD_INVALID_SOCKET)
            close(lfd);
        MHD_stop_daemon(l->daemon);
    }
    conns_free(l->conns);
    tls_pem_release(&l->pem);
    pthread_mutex_destroy(&l->log_lock);
    free(l);
}
