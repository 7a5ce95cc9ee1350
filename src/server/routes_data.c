/*
 * server/routes_data.c - datasets: upload (CSV body streamed to a temp
 * file, parsed with the reader flags given as query parameters, then
 * adopted by the store), list, describe, delete; and reading a stored
 * dataset back with the options it was uploaded with.
 */
#include "server/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPECS 64

/* Reader options and the storage their strings need. */
struct reader {
    struct lift_read_opts opts;
    const char *missing[MAX_SPECS];
    const char *types[MAX_SPECS];
    json_t *doc; /* owns the strings when read from JSON */
};

static void reader_init(struct reader *rd)
{
    memset(rd, 0, sizeof *rd);
    lift_read_opts_init(&rd->opts);
    rd->opts.missing = rd->missing;
    rd->opts.types = rd->types;
}

static bool is_false(const char *v)
{
    return v && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
                 strcmp(v, "no") == 0);
}

/* The reader options of an upload, from its query; *opts_json records
 * them for reading the dataset again. */
static enum lift_code reader_from_query(struct req *r, struct reader *rd,
                                        json_t **opts_json,
                                        struct lift_error *err)
{
    const char *v;
    json_t *o = json_object();
    *opts_json = o;
    if ((v = http_query(r, "sep"))) {
        enum lift_code rc = lift_parse_sep(v, &rd->opts.sep, err);
        if (rc)
            return rc;
        json_object_set_new(o, "sep", json_string(v));
    }
    if (is_false(http_query(r, "header"))) {
        rd->opts.no_header = true;
        json_object_set_new(o, "header", json_false());
    }
    if (is_false(http_query(r, "quote"))) {
        rd->opts.no_quote = true;
        json_object_set_new(o, "quote", json_false());
    }
    if ((v = http_query(r, "columns"))) {
        rd->opts.columns = v;
        json_object_set_new(o, "columns", json_string(v));
    }
    if ((v = http_query(r, "utf8"))) {
        if (strcmp(v, "replace") == 0)
            rd->opts.utf8 = LIFT_UTF8_REPLACE;
        else if (strcmp(v, "strict") != 0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "utf8 takes strict or replace, not '%s'", v);
        json_object_set_new(o, "utf8", json_string(v));
    }
    rd->opts.n_missing = http_query_all(r, "missing", rd->missing, MAX_SPECS);
    rd->opts.n_types = http_query_all(r, "type", rd->types, MAX_SPECS);
    json_t *m = json_array(), *t = json_array();
    for (size_t i = 0; i < rd->opts.n_missing; i++)
        json_array_append_new(m, json_string(rd->missing[i]));
    for (size_t i = 0; i < rd->opts.n_types; i++)
        json_array_append_new(t, json_string(rd->types[i]));
    json_object_set_new(o, "missing", m);
    json_object_set_new(o, "types", t);
    return LIFT_OK;
}

/* The same options from a stored dataset's JSON (rd->doc keeps it). */
static enum lift_code reader_from_json(const char *text, struct reader *rd,
                                       struct lift_error *err)
{
    json_error_t jerr;
    json_t *o = json_loads(text ? text : "{}", 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return lift_error_set(err, LIFT_ERR_CORRUPT,
                              "stored reader options are not valid JSON");
    }
    rd->doc = o;
    const char *v;
    if ((v = json_string_value(json_object_get(o, "sep")))) {
        enum lift_code rc = lift_parse_sep(v, &rd->opts.sep, err);
        if (rc)
            return rc;
    }
    rd->opts.no_header = json_is_false(json_object_get(o, "header"));
    rd->opts.no_quote = json_is_false(json_object_get(o, "quote"));
    rd->opts.columns = json_string_value(json_object_get(o, "columns"));
    v = json_string_value(json_object_get(o, "utf8"));
    if (v && strcmp(v, "replace") == 0)
        rd->opts.utf8 = LIFT_UTF8_REPLACE;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(o, "missing"), i,
                       e) if (rd->opts.n_missing < MAX_SPECS &&
                              json_is_string(e))
        rd->missing[rd->opts.n_missing++] = json_string_value(e);
    json_array_foreach(json_object_get(o, "types"), i,
                       e) if (rd->opts.n_types < MAX_SPECS && json_is_string(e))
        rd->types[rd->opts.n_types++] = json_string_value(e);
    return LIFT_OK;
}

enum lift_code read_dataset(struct srv *srv, int64_t tenant, const char *name,
                            struct lift_table **out, struct lift_error *err)
{
    struct lift_dataset_info info;
    memset(&info, 0, sizeof info);
    *out = NULL;
    enum lift_code rc =
        lift_store_dataset_get(srv->store, tenant, name, &info, err);
    if (rc)
        return rc;
    struct reader rd;
    reader_init(&rd);
    if (!(rc = reader_from_json(info.opts_json, &rd, err))) {
        rd.opts.name = name;
        rc = lift_table_read_csv(info.blob, &rd.opts, out, err);
    }
    json_decref(rd.doc);
    lift_dataset_info_release(&info);
    return rc;
}

static bool csv_content_type(struct req *r)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    static const char *const ok[] = {"text/csv", "text/plain",
                                     "text/tab-separated-values",
                                     "application/octet-stream"};
    if (!ct)
        return false;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';'))
            return true;
    }
    return false;
}

void route_dataset_create(struct req *r)
{
    struct lift_error err;
    const char *name = http_query(r, "name");
    if (!name || !lift_store_name_ok(name)) {
        http_error(r, LIFT_ERR_UNPROCESSABLE,
                   "query parameter 'name' must be 1 to %d characters of "
                   "A-Z a-z 0-9 . _ - (got '%s')",
                   LIFT_NAME_MAX, name ? name : "");
        return;
    }
    if (!csv_content_type(r)) {
        http_error(r, LIFT_ERR_UNSUPPORTED,
                   "datasets take Content-Type: text/csv");
        return;
    }
    struct reader rd;
    reader_init(&rd);
    json_t *opts_json = NULL;
    struct lift_table *t = NULL;
    char *schema = NULL, *opts_text = NULL;
    if (reader_from_query(r, &rd, &opts_json, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    rd.opts.name = name;
    const char *target = http_query(r, "target");
    if (lift_table_read_csv(r->upload_path, &rd.opts, &t, &err) ||
        lift_table_describe_json(t, target, NULL, &schema, &err)) {
        http_error_from(r, &err);
        goto done;
    }
    opts_text = json_dumps(opts_json, JSON_COMPACT);
    if (!opts_text) {
        http_error(r, LIFT_ERR_NOMEM, "out of memory (options)");
        goto done;
    }
    if (lift_store_dataset_put(r->srv->store, r->who.tenant_id, name,
                               r->upload_path, opts_text, schema,
                               (int64_t)lift_table_n_rows(t), &err)) {
        http_error_from(r, &err);
        goto done;
    }
    r->upload_adopted = true;
    json_t *doc = json_object();
    json_object_set_new(doc, "name", json_string(name));
    json_object_set_new(doc, "rows",
                        json_integer((json_int_t)lift_table_n_rows(t)));
    json_object_set_new(doc, "bytes", json_integer((json_int_t)r->received));
    json_object_set_new(doc, "options", opts_json);
    opts_json = NULL;
    json_object_set_new(doc, "schema", json_loads(schema, 0, NULL));
    http_json(r, 201, doc);
done:
    json_decref(opts_json);
    free(opts_text);
    free(schema);
    lift_table_free(t);
}

void route_dataset_list(struct req *r)
{
    struct lift_error err;
    char *json;
    if (lift_store_datasets_json(r->srv->store, r->who.tenant_id, &json,
                                 &err)) {
        http_error_from(r, &err);
        return;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "datasets", json_loads(json, 0, NULL));
    free(json);
    http_json(r, 200, doc);
}

void route_dataset_get(struct req *r)
{
    struct lift_error err;
    char *json;
    if (lift_store_dataset_json(r->srv->store, r->who.tenant_id, r->name, &json,
                                &err)) {
        http_error_from(r, &err);
        return;
    }
    http_json_text(r, 200, json);
    free(json);
}

void route_dataset_delete(struct req *r)
{
    struct lift_error err;
    if (lift_store_dataset_delete(r->srv->store, r->who.tenant_id, r->name,
                                  &err))
        http_error_from(r, &err);
    else
        http_json(r, 200, json_pack("{s:s}", "deleted", r->name));
}
