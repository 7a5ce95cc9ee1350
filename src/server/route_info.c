/*
 * server/route_info.c - the table of routes (route_info.h): metrics
 * label, role and audit action of every handler.
 *
 * Reads are every GET and the POSTs that compute without storing
 * anything (:predict, :evaluate, campaigns): they have no action and are
 * never audited. Uplift, segments and RFM make a job, so they are writes
 * (their handler names the dataset as the audit object). The lookup is a linear
 * scan of pointers (a few dozen compares per request).
 */
#include "server/route_info.h"

#include "server/bulk.h"
#include "server/ops.h"

static const struct route_info table[] = {
    {route_health, "/healthz", "GET", ROLE_NONE, NULL, AUDIT_OBJ_NONE},
    {route_ready, "/readyz", "GET", ROLE_NONE, NULL, AUDIT_OBJ_NONE},
    /* tenant data */
    {route_dataset_create, "/v1/datasets", "POST", ROLE_TENANT,
     "dataset.create", AUDIT_OBJ_QUERY_NAME},
    {route_dataset_list, "/v1/datasets", "GET", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_dataset_get, "/v1/datasets/{name}", "GET", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_dataset_delete, "/v1/datasets/{name}", "DELETE", ROLE_TENANT,
     "dataset.delete", AUDIT_OBJ_NAME},
    {route_model_create, "/v1/models", "POST", ROLE_TENANT, "model.train",
     AUDIT_OBJ_NONE},
    {route_model_list, "/v1/models", "GET", ROLE_TENANT, NULL, AUDIT_OBJ_NONE},
    {route_model_get, "/v1/models/{name}", "GET", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_model_delete, "/v1/models/{name}", "DELETE", ROLE_TENANT,
     "model.delete", AUDIT_OBJ_NAME},
    {route_model_report, "/v1/models/{name}/report", "GET", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_version_import, "/v1/models/{name}/versions", "PUT", ROLE_TENANT,
     "version.import", AUDIT_OBJ_NAME},
    {route_version_delete, "/v1/models/{name}/versions/{v}", "DELETE",
     ROLE_TENANT, "version.delete", AUDIT_OBJ_NAME_VERSION},
    {route_version_promote, "/v1/models/{name}/versions/{v}:promote", "POST",
     ROLE_TENANT, "version.promote", AUDIT_OBJ_NAME_VERSION},
    {route_version_file, "/v1/models/{name}/versions/{v}/file", "GET",
     ROLE_TENANT, NULL, AUDIT_OBJ_NONE},
    {route_predict, "/v1/models/{name}:predict", "POST", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_evaluate, "/v1/models/{name}:evaluate", "POST", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_model_score, "/v1/models/{name}:score", "POST", ROLE_TENANT,
     "model.score", AUDIT_OBJ_NAME},
    {route_job_list, "/v1/jobs", "GET", ROLE_TENANT, NULL, AUDIT_OBJ_NONE},
    {route_job_get, "/v1/jobs/{id}", "GET", ROLE_TENANT, NULL, AUDIT_OBJ_NONE},
    {route_job_result, "/v1/jobs/{id}/result", "GET", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_job_cancel, "/v1/jobs/{id}", "DELETE", ROLE_TENANT, "job.cancel",
     AUDIT_OBJ_ID},
    {route_campaign_target, "/v1/campaigns:target", "POST", ROLE_TENANT, NULL,
     AUDIT_OBJ_NONE},
    {route_uplift, "/v1/uplift", "POST", ROLE_TENANT, "uplift.run",
     AUDIT_OBJ_NONE},
    {route_segments, "/v1/segments", "POST", ROLE_TENANT, "segments.run",
     AUDIT_OBJ_NONE},
    {route_rfm, "/v1/rfm", "POST", ROLE_TENANT, "rfm.run", AUDIT_OBJ_NONE},
    {route_quota, "/v1/quota", "GET", ROLE_TENANT, NULL, AUDIT_OBJ_NONE},
    /* the audit log: a tenant its own, the operator any tenant's */
    {route_audit, "/v1/audit", "GET", ROLE_ANY, NULL, AUDIT_OBJ_NONE},
    /* operator */
    {route_metrics, "/metrics", "GET", ROLE_OPERATOR, NULL, AUDIT_OBJ_NONE},
    {route_tenant_create, "/v1/tenants", "POST", ROLE_OPERATOR, "tenant.create",
     AUDIT_OBJ_NONE},
    {route_tenant_list, "/v1/tenants", "GET", ROLE_OPERATOR, NULL,
     AUDIT_OBJ_NONE},
    {route_tenant_get, "/v1/tenants/{name}", "GET", ROLE_OPERATOR, NULL,
     AUDIT_OBJ_NONE},
    {route_tenant_delete, "/v1/tenants/{name}", "DELETE", ROLE_OPERATOR,
     "tenant.delete", AUDIT_OBJ_NAME},
    {route_tenant_key_create, "/v1/tenants/{name}/keys", "POST", ROLE_OPERATOR,
     "key.create", AUDIT_OBJ_NAME},
    {route_tenant_key_list, "/v1/tenants/{name}/keys", "GET", ROLE_OPERATOR,
     NULL, AUDIT_OBJ_NONE},
    {route_key_revoke, "/v1/keys/{id}", "DELETE", ROLE_OPERATOR, "key.revoke",
     AUDIT_OBJ_ID},
    {route_tenant_quota_get, "/v1/tenants/{name}/quota", "GET", ROLE_OPERATOR,
     NULL, AUDIT_OBJ_NONE},
    {route_tenant_quota_set, "/v1/tenants/{name}/quota", "PUT", ROLE_OPERATOR,
     "tenant.quota", AUDIT_OBJ_NAME},
    /* the fallback: keep it last */
    {NULL, "other", "", ROLE_TENANT, "write", AUDIT_OBJ_NAME},
};

#define N_ROWS (sizeof table / sizeof table[0])

const struct route_info *route_info_of(route_fn handler)
{
    for (size_t i = 0; i + 1 < N_ROWS; i++)
        if (table[i].handler == handler)
            return &table[i];
    return &table[N_ROWS - 1];
}

size_t route_info_count(void)
{
    return N_ROWS;
}

const struct route_info *route_info_at(size_t i)
{
    return i < N_ROWS ? &table[i] : &table[N_ROWS - 1];
}

size_t route_info_index(const struct route_info *info)
{
    return (size_t)(info - table);
}
