/*
 * server/ops.h - the operator's side of `lift serve`: GET /metrics,
 * tenant and key management over the API, the audit log (GET /v1/audit)
 * and the separate metrics listener (--metrics-listen).
 */
#ifndef LIFT_SERVER_OPS_H
#define LIFT_SERVER_OPS_H

#include "server/http.h"

enum route_match {
    ROUTE_NO_MATCH = 0, /* not one of these routes: route() goes on */
    ROUTE_MATCHED,      /* r->handler and r->body_kind set */
    ROUTE_ANSWERED,     /* a 404 or 405 was answered */
};

/* Matches /metrics, /v1/tenants[/{name}[/keys|/quota]] (DELETE
 * /v1/tenants/{name} too), /v1/keys/{id} and
 * /v1/audit. server.c's route() asks it first. New operator routes go
 * here (and in route_info.c's table). */
enum route_match route_ops(struct req *r);

void route_metrics(struct req *r);
void route_audit(struct req *r);
void route_tenant_create(struct req *r);
void route_tenant_list(struct req *r);
void route_tenant_get(struct req *r);
/* DELETE /v1/tenants/{name}: cancels the tenant's jobs (waiting a while
 * for the running ones), deletes it with lift_store_tenant_delete and
 * drops its loaded models; a deferred route (server.c). */
void route_tenant_delete(struct req *r);
void route_tenant_key_create(struct req *r);
void route_tenant_key_list(struct req *r);
void route_key_revoke(struct req *r);

/* The exposition text of /metrics (malloc'd): the counters of
 * srv->metrics and the gauges read now from the store and the process. */
enum lift_code ops_metrics_text(struct srv *srv, char **text, size_t *len,
                                struct lift_error *err);

/* Starts the metrics listener on srv->opts.metrics_listen (a second
 * listener.h daemon, one thread, at most 64 connections, plain HTTP, the
 * same request deadline, GET /metrics only, no key: see
 * docs/HTTP_API.md); sets srv->metrics_listener and srv->metrics_port.
 * LIFT_ERR_INVALID for a bad address, LIFT_ERR_IO when it cannot bind
 * (messages prefixed "metrics listener: "). */
enum lift_code ops_metrics_listen(struct srv *srv, struct lift_error *err);
void ops_metrics_stop(struct srv *srv);

#endif
