/*
 * cli/admin.c - `lift admin`: tenants, API keys and the check of a data
 * dir, on the dir directly (no server needed; a running server may have
 * it open at the same time).
 *
 *   lift admin tenant create NAME --data-dir DIR [--json]
 *   lift admin tenant list --data-dir DIR [--json]
 *   lift admin tenant delete NAME --data-dir DIR [--json]
 *   lift admin tenant quota NAME [--storage SIZE] [--datasets N]
 *       [--models N] [--jobs N] [--rps N[,BURST]] --data-dir DIR [--json]
 *   lift admin key create (--tenant NAME | --operator) --data-dir DIR [--json]
 *   lift admin key list [--tenant NAME] --data-dir DIR [--json]
 *   lift admin key revoke ID --data-dir DIR [--json]
 *   lift admin check --data-dir DIR [--repair] [--json]
 *   lift admin audit --data-dir DIR [--tenant NAME] [--format jsonl|csv]
 *                    [-o FILE]                       (cli/audit.c)
 *
 * A new key is printed once and never again: the store keeps only its
 * hash. `check` exits 1 when the data dir fails its check.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lift/store.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: lift admin tenant create NAME --data-dir DIR [--json]\n"
    "       lift admin tenant list --data-dir DIR [--json]\n"
    "       lift admin tenant delete NAME --data-dir DIR [--json]\n"
    "       lift admin tenant quota NAME [--storage SIZE] [--datasets N]\n"
    "           [--models N] [--jobs N] [--rps N[,BURST]] --data-dir DIR"
    " [--json]\n"
    "       lift admin key create (--tenant NAME | --operator) --data-dir DIR"
    " [--json]\n"
    "       lift admin key list [--tenant NAME] --data-dir DIR [--json]\n"
    "       lift admin key revoke ID --data-dir DIR [--json]\n"
    "       lift admin check --data-dir DIR [--repair] [--json]\n"
    "       lift admin audit --data-dir DIR [--tenant NAME]"
    " [--format jsonl|csv] [-o FILE]\n"
    "\n"
    "Manages the tenants and API keys of a `lift serve` data dir, and\n"
    "checks it: registry integrity, every blob present with its size, no\n"
    "blob without a row (--repair removes those and stale temp files).\n"
    "The dir is created (0700) when absent. A new key is shown once; only\n"
    "its keyed hash is stored. Names: 1 to 64 characters of A-Z a-z 0-9\n"
    ". _ -, not starting with '.'. Exit status: 0 ok, 1 failure (or a\n"
    "check that finds a fault), 2 usage.\n"
    "\n"
    "`tenant quota` sets a tenant's own limits, field by field: storage\n"
    "bytes (K, M, G, T suffixes), datasets, models, jobs queued or running,\n"
    "requests per second with an optional burst (default: the rate). A\n"
    "value may be 'unlimited', or 'default' to use the server's --quota-*\n"
    "flag again; fields not given stay as they are. A running server\n"
    "applies the change at once (the request rate within a second).\n"
    "`tenant list` shows each tenant's usage over its own limits ('-':\n"
    "the server's default).\n"
    "\n"
    "`tenant delete` erases a tenant for good: its keys, datasets, models\n"
    "and versions, jobs and their results, its quota, and their files;\n"
    "its audit entries stay, and the deletion is audited. Beside a running\n"
    "server, prefer DELETE /v1/tenants/NAME: it also stops the tenant's\n"
    "jobs at once and frees its loaded models (here, the server's jobs\n"
    "stop at their next progress report and its keys fail within a\n"
    "second).\n";

/* What one admin command accepts and what it was given. */
enum {
    OPT_TENANT = 1, /* --tenant NAME */
    OPT_OPERATOR = 2,
    OPT_REPAIR = 4,
    OPT_POSITIONAL = 8, /* NAME or ID */
    OPT_QUOTA = 16,     /* --storage, --datasets, --models, --jobs, --rps */
};

struct admin_opts {
    const char *data_dir;
    const char *tenant;
    const char *positional;
    bool operator_key;
    bool repair;
    bool json;
    bool help;               /* --help was printed: exit 0 */
    struct lift_quota quota; /* LIFT_QUOTA_KEEP where not given */
    bool quota_given;
};

/* One of the quota flags of `tenant quota`; true when it was one. */
static bool quota_flag(struct cli_args *a, struct admin_opts *o)
{
    static const struct {
        const char *flag;
        size_t offset;
        bool bytes;
    } counts[] = {
        {"--storage", offsetof(struct lift_quota, storage), true},
        {"--datasets", offsetof(struct lift_quota, datasets), false},
        {"--models", offsetof(struct lift_quota, models), false},
        {"--jobs", offsetof(struct lift_quota, jobs), false},
    };
    const char *v;
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        if (cli_opt(a, counts[k].flag, &v)) {
            int64_t *field =
                (int64_t *)(void *)((char *)&o->quota + counts[k].offset);
            if (v)
                cli_parse_quota(a, counts[k].flag, v, counts[k].bytes, true,
                                field);
            o->quota_given = true;
            return true;
        }
    if (cli_opt(a, "--rps", &v)) {
        if (v)
            cli_parse_rate(a, "--rps", v, true, &o->quota.rps, &o->quota.burst);
        o->quota_given = true;
        return true;
    }
    return false;
}

/* Parses argv[first..]; returns false after a usage error. */
static bool parse_opts(struct cli_args *a, unsigned allowed,
                       const char *positional_name, struct admin_opts *o)
{
    memset(o, 0, sizeof *o);
    lift_quota_fill(&o->quota, LIFT_QUOTA_KEEP);
    while (a->i < a->argc && !a->bad) {
        const char *p;
        if (cli_flag(a, "--help") || cli_flag(a, "-h")) {
            fputs(usage, stdout);
            o->help = true;
            return true;
        }
        if (cli_opt(a, "--data-dir", &o->data_dir))
            continue;
        if (cli_flag(a, "--json")) {
            o->json = true;
            continue;
        }
        if ((allowed & OPT_TENANT) && cli_opt(a, "--tenant", &o->tenant))
            continue;
        if ((allowed & OPT_OPERATOR) && cli_flag(a, "--operator")) {
            o->operator_key = true;
            continue;
        }
        if ((allowed & OPT_REPAIR) && cli_flag(a, "--repair")) {
            o->repair = true;
            continue;
        }
        if ((allowed & OPT_QUOTA) && quota_flag(a, o))
            continue;
        if ((p = cli_positional(a))) {
            if ((allowed & OPT_POSITIONAL) && !o->positional)
                o->positional = p;
            else
                cli_usage_error(a, "unexpected argument '%s'", p);
            continue;
        }
        cli_unknown(a);
    }
    if (!a->bad && !o->data_dir)
        cli_usage_error(a, "--data-dir DIR is required");
    if (!a->bad && (allowed & OPT_POSITIONAL) && !o->positional)
        cli_usage_error(a, "no %s given", positional_name);
    return !a->bad;
}

static int open_store(const char *dir, struct lift_store **s)
{
    struct lift_error err;
    if (lift_store_open(dir, s, &err))
        return cli_fail(&err);
    return CLI_OK;
}

/* Unix seconds as "2026-11-29 09:41:24Z". */
static void format_time(json_t *v, char *out, size_t cap)
{
    if (!json_is_integer(v)) {
        snprintf(out, cap, "-");
        return;
    }
    time_t t = (time_t)json_integer_value(v);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm))
        snprintf(out, cap, "%lld", (long long)t);
}

/* Parses the store's JSON text (freeing it); NULL after a message. */
static json_t *load_json(char *text)
{
    json_error_t jerr;
    json_t *doc = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    if (!doc)
        fprintf(stderr, "lift: error: bad JSON from the store\n");
    return doc;
}

/* "used/limit" of one quota field: the limit is the tenant's override,
 * "unlimited", or "-" for the server's default. */
static void format_usage(json_t *used_doc, json_t *quota, const char *key,
                         bool bytes, char *out, size_t cap)
{
    int64_t used = (int64_t)json_integer_value(json_object_get(used_doc, key));
    json_t *lim = json_object_get(quota, key);
    char u[16], l[16];
    if (bytes)
        cli_format_bytes(used, u, sizeof u);
    else
        snprintf(u, sizeof u, "%lld", (long long)used);
    if (!lim)
        snprintf(l, sizeof l, "-");
    else if (json_is_null(lim))
        snprintf(l, sizeof l, "unlimited");
    else if (bytes)
        cli_format_bytes((int64_t)json_integer_value(lim), l, sizeof l);
    else
        snprintf(l, sizeof l, "%lld", (long long)json_integer_value(lim));
    snprintf(out, cap, "%s/%s", u, l);
}

/* The rate override: "N,BURST", "N", "unlimited" or "-". */
static void format_rate(json_t *quota, char *out, size_t cap)
{
    json_t *rps = json_object_get(quota, "rps");
    json_t *burst = json_object_get(quota, "burst");
    if (!rps)
        snprintf(out, cap, "-");
    else if (json_is_null(rps))
        snprintf(out, cap, "unlimited");
    else if (json_is_integer(burst))
        snprintf(out, cap, "%lld,%lld", (long long)json_integer_value(rps),
                 (long long)json_integer_value(burst));
    else
        snprintf(out, cap, "%lld", (long long)json_integer_value(rps));
}

static int tenant_create(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, OPT_POSITIONAL, "tenant name", &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    int64_t id = 0;
    char key[LIFT_KEY_LEN + 1];
    if (lift_store_tenant_create(s, o.positional, &id, key, &err)) {
        rc = cli_fail(&err);
    } else if (o.json) {
        rc = cli_json_print(json_pack("{s:s,s:I,s:s}", "tenant", o.positional,
                                      "id", (json_int_t)id, "key", key));
    } else {
        printf("tenant '%s' created (id %lld)\n"
               "API key (shown once, store it now):\n%s\n",
               o.positional, (long long)id, key);
    }
    lift_store_close(s);
    return rc;
}

static int tenant_list(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, 0, NULL, &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    char *text = NULL;
    json_t *list = NULL;
    if (lift_store_tenants_json(s, &text, &err))
        rc = cli_fail(&err);
    else if (!(list = load_json(text)))
        rc = CLI_FAIL;
    lift_store_close(s);
    if (rc || o.json)
        return rc ? rc : cli_json_print(list);
    printf("%6s  %-24s %5s  %-15s %-9s %-9s %-9s %-9s %s\n", "id", "name",
           "keys", "storage", "datasets", "models", "jobs", "rps", "created");
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        char when[40], storage[32], datasets[32], models[32], jobs[32], rps[32];
        format_time(json_object_get(t, "created"), when, sizeof when);
        json_t *q = json_object_get(t, "quota"),
               *u = json_object_get(t, "usage");
        format_usage(u, q, "storage_bytes", true, storage, sizeof storage);
        format_usage(u, q, "datasets", false, datasets, sizeof datasets);
        format_usage(u, q, "models", false, models, sizeof models);
        format_usage(u, q, "jobs", false, jobs, sizeof jobs);
        format_rate(q, rps, sizeof rps);
        printf("%6lld  %-24s %5lld  %-15s %-9s %-9s %-9s %-9s %s\n",
               (long long)json_integer_value(json_object_get(t, "id")),
               json_string_value(json_object_get(t, "name")),
               (long long)json_integer_value(json_object_get(t, "keys")),
               storage, datasets, models, jobs, rps, when);
    }
    json_decref(list);
    return CLI_OK;
}

/* The tenant `name` of a tenant list (a new reference), or NULL. */
static json_t *find_tenant(json_t *list, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && strcmp(n, name) == 0)
            return json_incref(t);
    }
    return NULL;
}

static int tenant_quota(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, OPT_POSITIONAL | OPT_QUOTA, "tenant name", &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    int64_t id = 0;
    char *text = NULL;
    json_t *list = NULL, *t = NULL;
    if (lift_store_tenant_id(s, o.positional, &id, &err) ||
        (o.quota_given && lift_store_quota_set(s, id, &o.quota, &err)) ||
        lift_store_tenants_json(s, &text, &err))
        rc = cli_fail(&err);
    else if (!(list = load_json(text)))
        rc = CLI_FAIL;
    lift_store_close(s);
    if (!rc && !(t = find_tenant(list, o.positional))) {
        fprintf(stderr, "lift: error: tenant '%s' vanished\n", o.positional);
        rc = CLI_FAIL;
    }
    json_decref(list);
    if (rc || o.json)
        return rc ? rc : cli_json_print(t);
    json_t *q = json_object_get(t, "quota"), *u = json_object_get(t, "usage");
    char storage[32], datasets[32], models[32], jobs[32], rps[32];
    format_usage(u, q, "storage_bytes", true, storage, sizeof storage);
    format_usage(u, q, "datasets", false, datasets, sizeof datasets);
    format_usage(u, q, "models", false, models, sizeof models);
    format_usage(u, q, "jobs", false, jobs, sizeof jobs);
    format_rate(q, rps, sizeof rps);
    printf("tenant '%s' (used/limit, '-': the server's default)\n"
           "  storage   %s\n  datasets  %s\n  models    %s\n  jobs      %s\n"
           "  rps       %s\n",
           o.positional, storage, datasets, models, jobs, rps);
    json_decref(t);
    return CLI_OK;
}

static int tenant_delete(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, OPT_POSITIONAL, "tenant name", &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    struct lift_tenant_deletion d;
    if (lift_store_tenant_delete(s, o.positional, &d, &err)) {
        rc = cli_fail(&err);
        lift_store_close(s);
        return rc;
    }
    /* as the operator (tenant 0) with no key: the command line */
    if (lift_store_audit(s, 0, 0, "tenant.delete", o.positional, 200, &err))
        fprintf(stderr, "lift: warning: deleted, but not audited: %s\n",
                err.msg);
    lift_store_close(s);
    if (o.json)
        return cli_json_print(json_pack(
            "{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "deleted",
            o.positional, "id", (json_int_t)d.tenant_id, "keys",
            (json_int_t)d.keys, "datasets", (json_int_t)d.datasets, "models",
            (json_int_t)d.models, "versions", (json_int_t)d.versions, "jobs",
            (json_int_t)d.jobs, "results", (json_int_t)d.results, "files",
            (json_int_t)d.files, "bytes", (json_int_t)d.bytes));
    printf("tenant '%s' deleted (id %lld): %lld keys, %lld datasets, %lld "
           "models (%lld versions), %lld jobs (%lld results); %lld files, "
           "%lld bytes freed\n",
           o.positional, (long long)d.tenant_id, (long long)d.keys,
           (long long)d.datasets, (long long)d.models, (long long)d.versions,
           (long long)d.jobs, (long long)d.results, (long long)d.files,
           (long long)d.bytes);
    return CLI_OK;
}

static int key_create(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, OPT_TENANT | OPT_OPERATOR, NULL, &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    if (!o.tenant == !o.operator_key) {
        cli_usage_error(a, "give one of --tenant NAME and --operator");
        return CLI_USAGE;
    }
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    int64_t tenant = 0, id = 0;
    char key[LIFT_KEY_LEN + 1];
    if ((o.tenant && lift_store_tenant_id(s, o.tenant, &tenant, &err)) ||
        lift_store_key_create(s, tenant, o.operator_key, key, &id, &err)) {
        rc = cli_fail(&err);
    } else if (o.json) {
        rc = cli_json_print(
            json_pack("{s:I,s:o,s:b,s:s}", "id", (json_int_t)id, "tenant",
                      o.tenant ? json_string(o.tenant) : json_null(),
                      "operator", o.operator_key, "key", key));
    } else {
        printf("%s key created (id %lld)\n"
               "API key (shown once, store it now):\n%s\n",
               o.operator_key ? "operator" : "tenant", (long long)id, key);
    }
    lift_store_close(s);
    return rc;
}

static int key_list(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, OPT_TENANT, NULL, &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    int64_t tenant = -1;
    char *text = NULL;
    json_t *list = NULL;
    if ((o.tenant && lift_store_tenant_id(s, o.tenant, &tenant, &err)) ||
        lift_store_keys_json(s, tenant, &text, &err))
        rc = cli_fail(&err);
    else if (!(list = load_json(text)))
        rc = CLI_FAIL;
    lift_store_close(s);
    if (rc || o.json)
        return rc ? rc : cli_json_print(list);
    printf("%6s  %-24s %-8s  %-20s  %s\n", "id", "tenant", "role", "created",
           "revoked");
    size_t i;
    json_t *k;
    json_array_foreach(list, i, k)
    {
        char created[40], revoked[40];
        format_time(json_object_get(k, "created"), created, sizeof created);
        format_time(json_object_get(k, "revoked"), revoked, sizeof revoked);
        const char *name = json_string_value(json_object_get(k, "tenant"));
        printf("%6lld  %-24s %-8s  %-20s  %s\n",
               (long long)json_integer_value(json_object_get(k, "id")),
               name ? name : "-",
               json_is_true(json_object_get(k, "operator")) ? "operator"
                                                            : "tenant",
               created, revoked);
    }
    json_decref(list);
    return CLI_OK;
}

static int key_revoke(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, OPT_POSITIONAL, "key id", &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    char *end;
    errno = 0;
    long long id = strtoll(o.positional, &end, 10);
    if (!*o.positional || *end || errno || id <= 0) {
        cli_usage_error(a, "a key id is a positive whole number, not '%s'",
                        o.positional);
        return CLI_USAGE;
    }
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    if (lift_store_key_revoke(s, (int64_t)id, &err))
        rc = cli_fail(&err);
    else if (o.json)
        rc = cli_json_print(
            json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
    else
        printf("key %lld revoked\n", id);
    lift_store_close(s);
    return rc;
}

static void print_check(json_t *doc)
{
    json_t *integrity = json_object_get(doc, "integrity");
    printf("registry integrity: %s\n",
           json_is_string(integrity) ? json_string_value(integrity) : "FAILED");
    size_t i;
    json_t *e;
    json_array_foreach(integrity, i, e) printf("  %s\n", json_string_value(e));
    printf("objects: %lld\n",
           (long long)json_integer_value(json_object_get(doc, "objects")));
    json_array_foreach(json_object_get(doc, "missing"), i, e)
    {
        printf("missing blob: %s '%s' of tenant '%s' (%s)\n",
               json_string_value(json_object_get(e, "kind")),
               json_string_value(json_object_get(e, "name")),
               json_string_value(json_object_get(e, "tenant")),
               json_string_value(json_object_get(e, "blob")));
    }
    json_array_foreach(json_object_get(doc, "size_mismatch"), i, e)
    {
        printf("wrong size: %s '%s' of tenant '%s': %lld bytes, expected "
               "%lld\n",
               json_string_value(json_object_get(e, "kind")),
               json_string_value(json_object_get(e, "name")),
               json_string_value(json_object_get(e, "tenant")),
               (long long)json_integer_value(json_object_get(e, "actual")),
               (long long)json_integer_value(json_object_get(e, "expected")));
    }
    json_t *removed = json_object_get(doc, "removed");
    json_array_foreach(json_object_get(doc, "orphans"), i, e)
    {
        printf("unreferenced blob: %s%s\n", json_string_value(e),
               removed ? " (removed)" : "");
    }
    json_array_foreach(json_object_get(doc, "temp"), i, e)
    {
        printf("temp file: %s%s\n", json_string_value(e),
               removed ? " (removed)" : "");
    }
    json_t *repair = json_object_get(doc, "repair");
    if (repair)
        printf("repair %s\n", json_string_value(repair));
    printf("%s\n", json_is_true(json_object_get(doc, "ok")) ? "ok" : "FAILED");
}

static int check(struct cli_args *a)
{
    struct admin_opts o;
    if (!parse_opts(a, OPT_REPAIR, NULL, &o))
        return CLI_USAGE;
    if (o.help)
        return CLI_OK;
    struct lift_store *s = NULL;
    int rc = open_store(o.data_dir, &s);
    if (rc)
        return rc;
    struct lift_error err;
    char *text = NULL;
    enum lift_code code = lift_store_check(s, o.repair, &text, &err);
    lift_store_close(s);
    json_t *doc = text ? load_json(text) : NULL;
    if (doc && o.json) {
        rc = cli_json_print(doc);
    } else if (doc) {
        print_check(doc);
        json_decref(doc);
    }
    if (code)
        return cli_fail(&err);
    return doc ? rc : CLI_FAIL;
}

int cmd_admin(int argc, char **argv)
{
    struct cli_args a;
    const char *group = argc > 2 ? argv[2] : NULL;
    const char *action = argc > 3 ? argv[3] : NULL;
    if (!group || strcmp(group, "--help") == 0 || strcmp(group, "-h") == 0 ||
        strcmp(group, "help") == 0) {
        fputs(usage, group ? stdout : stderr);
        return group ? CLI_OK : CLI_USAGE;
    }
    if (strcmp(group, "check") == 0) {
        cli_args_init(&a, argc, argv, 3, "admin");
        return check(&a);
    }
    if (strcmp(group, "audit") == 0) {
        cli_args_init(&a, argc, argv, 3, "admin");
        return cmd_admin_audit(&a);
    }
    cli_args_init(&a, argc, argv, 4, "admin");
    if (strcmp(group, "tenant") == 0 && action) {
        if (strcmp(action, "create") == 0)
            return tenant_create(&a);
        if (strcmp(action, "list") == 0)
            return tenant_list(&a);
        if (strcmp(action, "quota") == 0)
            return tenant_quota(&a);
        if (strcmp(action, "delete") == 0)
            return tenant_delete(&a);
    } else if (strcmp(group, "key") == 0 && action) {
        if (strcmp(action, "create") == 0)
            return key_create(&a);
        if (strcmp(action, "list") == 0)
            return key_list(&a);
        if (strcmp(action, "revoke") == 0)
            return key_revoke(&a);
    } else if (strcmp(group, "tenant") != 0 && strcmp(group, "key") != 0) {
        cli_usage_error(&a, "unknown admin command '%s'", group);
        return CLI_USAGE;
    }
    if (action &&
        (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    const char *actions = strcmp(group, "key") == 0 ? "create, list or revoke"
                                                    : "create, list, quota "
                                                      "or delete";
    if (action)
        cli_usage_error(&a, "unknown action '%s %s': use %s", group, action,
                        actions);
    else
        cli_usage_error(&a, "'%s' needs an action: %s", group, actions);
    return CLI_USAGE;
}
