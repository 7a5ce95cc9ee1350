/*
 * server/route_info.h - what each route is, in one table: the label it
 * has in /metrics (its template, never a tenant's object name), which
 * keys may call it, and the audit action of a write.
 *
 * Adding a route: match it in server.c's route() (or, for an operator
 * route, in routes_ops.c's route_ops()) and add one row to the table in
 * route_info.c. A handler missing from the table is served with the
 * defaults of route_info_of (tenant keys only, label "other", every
 * POST/PUT/DELETE audited as "write").
 */
#ifndef LIFT_SERVER_ROUTE_INFO_H
#define LIFT_SERVER_ROUTE_INFO_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http.h"

/* Who may call a route. */
enum route_role {
    ROLE_NONE = 0, /* no key: health checks */
    ROLE_TENANT,   /* tenant keys only (operator: 403) */
    ROLE_OPERATOR, /* operator keys only (tenant: 403) */
    ROLE_ANY,      /* either; the handler looks at r->who.operator */
};

/* What the audit entry of a write names as its object. */
enum audit_object {
    AUDIT_OBJ_NONE = 0,
    AUDIT_OBJ_NAME,         /* r->name */
    AUDIT_OBJ_NAME_VERSION, /* "r->name/r->version" */
    AUDIT_OBJ_ID,           /* r->id */
    AUDIT_OBJ_QUERY_NAME,   /* the query parameter 'name', when valid */
};

struct route_info {
    route_fn handler;
    const char *label;  /* route template, e.g. "/v1/models/{name}:predict" */
    const char *method; /* for the documentation of the table */
    enum route_role role;
    const char *action; /* audit action of a write; NULL: a read */
    enum audit_object object;
};

/* The row of a handler; a fallback row (label "other") for one that is
 * not in the table. Never NULL. */
const struct route_info *route_info_of(route_fn handler);
/* Rows, by index (the index is the route's slot in /metrics); the
 * fallback row is the last, index route_info_count() - 1. /metrics has
 * one slot more, route_info_count(), labelled "unmatched": requests that
 * matched no route (404, 405). */
size_t route_info_count(void);
const struct route_info *route_info_at(size_t i);
size_t route_info_index(const struct route_info *info);

#endif
