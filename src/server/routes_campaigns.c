/*
 * server/routes_campaigns.c - POST /v1/campaigns:target (the campaign
 * plan of include/lift/marketing.h over a stored dataset or inline
 * records) and GET /v1/models/{name}/report (the HTML page).
 *
 * Inline records become a table through the CSV reader: the union of
 * their field names (in order of first appearance) is the header, and
 * each value a cell (numbers in full precision, booleans as true/false,
 * null as empty), so that types are inferred as for an uploaded file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"

/* Rows listed in the answer's "selected" unless "list" says otherwise. */
#define DEFAULT_LIST 100

static void put_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The records array as a table; LIFT_ERR_UNPROCESSABLE naming the record
 * or field that is not of the expected shape. */
static enum lift_code records_table(json_t *records, size_t max_records,
                                    struct lift_table **out,
                                    struct lift_error *err)
{
    size_t n = json_array_size(records);
    if (n == 0)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'records' must be a non-empty array");
    if (n > max_records)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "%zu records is over the limit of %zu", n,
                              max_records);
    json_t *names = json_object(); /* name -> column index */
    json_t *order = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_array_get(records, i);
        if (!json_is_object(rec)) {
            json_decref(names);
            json_decref(order);
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "records[%zu] is not an object", i);
        }
        const char *k;
        json_t *v;
        json_object_foreach(rec, k, v)
        {
            if (json_is_object(v) || json_is_array(v)) {
                json_decref(names);
                json_decref(order);
                return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                      "records[%zu].%s is not a number, "
                                      "string, boolean or null",
                                      i, k);
            }
            if (!json_object_get(names, k)) {
                json_object_set_new(names, k, json_true());
                json_array_append_new(order, json_string(k));
            }
        }
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    enum lift_code rc = LIFT_OK;
    if (!f) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (records)");
        goto done;
    }
    size_t n_cols = json_array_size(order);
    for (size_t c = 0; c < n_cols; c++) {
        if (c)
            fputc(',', f);
        put_csv_field(f, json_string_value(json_array_get(order, c)));
    }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_array_get(records, i);
        for (size_t c = 0; c < n_cols; c++) {
            if (c)
                fputc(',', f);
            json_t *v = json_object_get(
                rec, json_string_value(json_array_get(order, c)));
            if (json_is_string(v))
                put_csv_field(f, json_string_value(v));
            else if (json_is_integer(v))
                fprintf(f, "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v))
                fprintf(f, "%.17g", json_real_value(v));
            else if (json_is_boolean(v))
                fputs(json_is_true(v) ? "true" : "false", f);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (records)");
        goto done;
    }
    struct lift_read_opts opts;
    lift_read_opts_init(&opts);
    opts.sep = ',';
    opts.name = "records";
    rc = lift_table_read_mem(text, len, &opts, out, err);
    if (rc == LIFT_ERR_PARSE)
        rc = err->code = LIFT_ERR_UNPROCESSABLE;
done:
    free(text);
    json_decref(names);
    json_decref(order);
    return rc;
}

/* A number member: absent leaves *out; present must be a number. */
static enum lift_code num_member(json_t *body, const char *key, double *out,
                                 bool *seen, struct lift_error *err)
{
    json_t *v = json_object_get(body, key);
    if (!v)
        return LIFT_OK;
    if (!json_is_number(v))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'%s' must be a number", key);
    *out = json_number_value(v);
    if (seen)
        *seen = true;
    return LIFT_OK;
}

static enum lift_code str_member(json_t *body, const char *key,
                                 const char **out, struct lift_error *err)
{
    json_t *v = json_object_get(body, key);
    if (!v)
        return LIFT_OK;
    if (!json_is_string(v))
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'%s' must be a string", key);
    *out = json_string_value(v);
    return LIFT_OK;
}

/* Reads the economics of a request body; LIFT_ERR_UNPROCESSABLE for a
 * wrong type or bad economics (the library's sentence). */
static enum lift_code economics(json_t *body, struct lift_campaign_opts *o,
                                struct lift_error *err)
{
    lift_campaign_opts_init(o);
    bool has_cost = false;
    enum lift_code rc;
    if ((rc = num_member(body, "cost", &o->cost, &has_cost, err)) ||
        (rc = num_member(body, "value", &o->value, NULL, err)) ||
        (rc = str_member(body, "value_col", &o->value_col, err)) ||
        (rc = num_member(body, "budget", &o->budget, NULL, err)) ||
        (rc = num_member(body, "max_contacts", &o->max_contacts, NULL, err)) ||
        (rc = num_member(body, "min_roi", &o->min_roi, NULL, err)))
        return rc;
    if (!has_cost)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "'cost' (per contact) is required");
    if (lift_campaign_opts_check(o, err))
        return err->code = LIFT_ERR_UNPROCESSABLE;
    return LIFT_OK;
}

void route_campaign_target(struct req *r)
{
    struct lift_error err;
    json_t *body = http_body_object(r);
    struct snapshot *snap = NULL;
    struct lift_table *t = NULL;
    struct lift_campaign *c = NULL;
    char *text = NULL;
    if (!body)
        return;
    const char *model = NULL, *dataset = NULL, *id = NULL;
    json_t *records = json_object_get(body, "records");
    double list = DEFAULT_LIST;
    struct lift_campaign_opts o;
    if (str_member(body, "model", &model, &err) ||
        str_member(body, "dataset", &dataset, &err) ||
        str_member(body, "id", &id, &err) ||
        num_member(body, "list", &list, NULL, &err) ||
        economics(body, &o, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    if (!model) {
        http_error(r, LIFT_ERR_UNPROCESSABLE, "'model' is required");
        goto done;
    }
    if (!dataset == !records) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "give one of 'dataset' (a stored dataset's name) or "
                   "'records' (an array of objects)");
        goto done;
    }
    if (records && !json_is_array(records)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE, "'records' must be an array");
        goto done;
    }
    if (!(list >= 0 && list <= 1e6 && list == floor(list))) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "'list' must be a whole number from 0 to 1000000");
        goto done;
    }
    size_t max_records =
        r->srv->opts.max_records ? r->srv->opts.max_records : 10000;
    if (snapshots_acquire(r->srv, r->who.tenant_id, model, &snap, &err) ||
        (dataset ? read_dataset(r->srv, r->who.tenant_id, dataset, &t, &err)
                 : records_table(records, max_records, &t, &err))) {
        http_error_from(r, &err);
        goto done;
    }
    if (lift_campaign_plan(snap->model, t, &o, &c, &err) ||
        lift_campaign_json(c, t, id, (size_t)list, &text, &err)) {
        if (err.code == LIFT_ERR_PARSE || err.code == LIFT_ERR_INVALID)
            err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        goto done;
    }
    json_t *doc = json_loads(text, 0, NULL);
    if (!doc) {
        http_error(r, LIFT_ERR_INTERNAL, "bad plan document");
        goto done;
    }
    json_object_set_new(doc, "model", json_string(model));
    json_object_set_new(doc, "version", json_integer(snap->version));
    if (dataset)
        json_object_set_new(doc, "dataset", json_string(dataset));
    http_json(r, 200, doc);
done:
    free(text);
    lift_campaign_free(c);
    lift_table_free(t);
    if (snap)
        snapshot_release(snap);
    json_decref(body);
}

/* A query number: absent leaves *out; otherwise it must parse. */
static bool query_num(struct req *r, const char *key, double *out, bool *seen)
{
    const char *s = http_query(r, key);
    if (!s)
        return true;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "query parameter '%s' must be a number, not '%s'", key, s);
        return false;
    }
    *out = v;
    if (seen)
        *seen = true;
    return true;
}

void route_model_report(struct req *r)
{
    struct lift_error err;
    struct snapshot *snap = NULL;
    struct lift_table *t = NULL;
    char *html = NULL;
    size_t len = 0;
    const char *dataset = http_query(r, "dataset");
    if (!dataset) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "query parameter 'dataset' is required");
        return;
    }
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    bool has_cost = false, has_value = false;
    o.value_col = http_query(r, "value_col");
    if (!query_num(r, "cost", &o.cost, &has_cost) ||
        !query_num(r, "value", &o.value, &has_value) ||
        !query_num(r, "budget", &o.budget, NULL) ||
        !query_num(r, "max_contacts", &o.max_contacts, NULL) ||
        !query_num(r, "min_roi", &o.min_roi, NULL))
        return;
    bool eco = has_cost || has_value || o.value_col;
    if (eco && (!has_cost || (!has_value && !o.value_col))) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "give both 'cost' and 'value' (or 'value_col'), or "
                   "neither");
        return;
    }
    if (eco && lift_campaign_opts_check(&o, &err)) {
        err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        return;
    }
    if (snapshots_acquire(r->srv, r->who.tenant_id, r->name, &snap, &err) ||
        read_dataset(r->srv, r->who.tenant_id, dataset, &t, &err) ||
        lift_report_html(snap->model, t, r->name, eco ? &o : NULL, &html, &len,
                         &err)) {
        if (err.code == LIFT_ERR_PARSE || err.code == LIFT_ERR_INVALID)
            err.code = LIFT_ERR_UNPROCESSABLE;
        http_error_from(r, &err);
        goto done;
    }
    free(r->response);
    r->status = 200;
    r->response = html;
    r->response_len = len;
    r->content_type = "text/html; charset=utf-8";
    html = NULL;
done:
    free(html);
    lift_table_free(t);
    if (snap)
        snapshot_release(snap);
}
