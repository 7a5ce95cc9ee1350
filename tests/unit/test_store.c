/*
 * tests/unit/test_store.c - the data dir of `lift serve` (src/store/):
 * layout and modes, tenants and keys (authentication, revocation,
 * operator keys, no key text in the registry), datasets and tenant
 * isolation, names, model versions (reserve, complete, fail, promote,
 * rollback, delete), jobs, the clean-up after a crash, lift_store_check
 * and its repair, the audit log, a schema from a newer lift, damaged
 * files, four threads sharing stores, and tenant quotas (overrides,
 * defaults, usage, each limit, and racing writers on two handles), and
 * deleting a tenant (what goes, what stays byte for byte, late writes,
 * ids never reused, the audit log, a crash before the unlinks).
 *
 * Every test makes its own data dir under a mkdtemp folder in /tmp and
 * removes it at the end.
 */
#define _GNU_SOURCE /* memmem, nftw, pthread_timedjoin_np */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include <lift/store.h>

#include "core/alloc.h"
#include "store/keys.h"
#include "store/store_int.h" /* store_lock: a write holding the mutex */

/* ---- helpers ------------------------------------------------------------ */

struct fixture {
    char base[64]; /* the mkdtemp folder */
    char dir[128]; /* base/data, the data dir */
    struct lift_store *s;
    int64_t a, b; /* tenants "acme" and "bravo" */
    char key_a[LIFT_KEY_LEN + 1];
    char key_b[LIFT_KEY_LEN + 1];
};

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->base, "/tmp/lift-store-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->dir, sizeof f->dir, "%s/data", f->base);
    struct lift_error err;
    assert_int_equal(lift_store_open(f->dir, &f->s, &err), LIFT_OK);
    assert_int_equal(
        lift_store_tenant_create(f->s, "acme", &f->a, f->key_a, &err), LIFT_OK);
    assert_int_equal(
        lift_store_tenant_create(f->s, "bravo", &f->b, f->key_b, &err),
        LIFT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lift_store_close(f->s);
    nftw(f->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void reopen(struct fixture *f)
{
    struct lift_error err;
    lift_store_close(f->s);
    f->s = NULL;
    assert_int_equal(lift_store_open(f->dir, &f->s, &err), LIFT_OK);
}

/* A temp file of the store holding text; its path in path. */
static void write_tmp(struct lift_store *s, const char *text, char *path,
                      size_t cap)
{
    struct lift_error err;
    int fd = -1;
    assert_int_equal(lift_store_tmp_create(s, &fd, path, cap, &err), LIFT_OK);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static void put_dataset(struct lift_store *s, int64_t tenant, const char *name,
                        const char *csv)
{
    char tmp[4096];
    struct lift_error err;
    write_tmp(s, csv, tmp, sizeof tmp);
    assert_int_equal(lift_store_dataset_put(s, tenant, name, tmp,
                                            "{\"sep\":\",\"}",
                                            "{\"columns\":[]}", 2, &err),
                     LIFT_OK);
}

static size_t count_files(const char *dir, const char *sub)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* The parsed JSON text; frees text. */
static json_t *parse(char *text)
{
    assert_non_null(text);
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    free(text);
    assert_non_null(v);
    return v;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

/* ---- layout ------------------------------------------------------------- */

static void open_new_dir_creates_layout_with_modes(void **state)
{
    struct fixture *f = *state;
    char path[256];
    assert_int_equal(mode_of(f->dir), 0700);
    snprintf(path, sizeof path, "%s/blobs", f->dir);
    assert_int_equal(mode_of(path), 0700);
    snprintf(path, sizeof path, "%s/tmp", f->dir);
    assert_int_equal(mode_of(path), 0700);
    snprintf(path, sizeof path, "%s/secret", f->dir);
    assert_int_equal(mode_of(path), 0600);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 32);
    snprintf(path, sizeof path, "%s/registry.db", f->dir);
    assert_int_equal(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/registry.db-wal", f->dir);
    assert_int_equal(mode_of(path), 0600);
    char real[PATH_MAX];
    assert_non_null(realpath(f->dir, real));
    assert_string_equal(lift_store_dir(f->s), real);
}

static void open_twice_same_secret_keys_still_valid(void **state)
{
    struct fixture *f = *state;
    reopen(f);
    struct lift_principal p;
    struct lift_error err;
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_a, strlen(f->key_a), &p, &err),
        LIFT_OK);
    assert_int_equal(p.tenant_id, f->a);
}

static void open_secret_wrong_size_corrupt(void **state)
{
    struct fixture *f = *state;
    lift_store_close(f->s);
    f->s = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/secret", f->dir);
    write_file(path, "short", 5);
    struct lift_error err;
    assert_int_equal(lift_store_open(f->dir, &f->s, &err), LIFT_ERR_CORRUPT);
    assert_null(f->s);
    assert_non_null(strstr(err.msg, "secret"));
}

static void open_registry_not_a_database_corrupt(void **state)
{
    struct fixture *f = *state;
    lift_store_close(f->s);
    f->s = NULL;
    char path[256];
    static const char junk[4096] = "this is not an SQLite database";
    snprintf(path, sizeof path, "%s/registry.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/registry.db-shm", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/registry.db", f->dir);
    write_file(path, junk, sizeof junk);
    struct lift_error err;
    assert_int_equal(lift_store_open(f->dir, &f->s, &err), LIFT_ERR_CORRUPT);
    assert_null(f->s);
}

static void open_newer_schema_unsupported(void **state)
{
    struct fixture *f = *state;
    lift_store_close(f->s);
    f->s = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/registry.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct lift_error err;
    assert_int_equal(lift_store_open(f->dir, &f->s, &err),
                     LIFT_ERR_UNSUPPORTED);
    assert_null(f->s);
    assert_non_null(strstr(err.msg, "99"));
}

static void open_unmakeable_dir_io(void **state)
{
    (void)state;
    struct lift_store *s = NULL;
    struct lift_error err;
    assert_int_equal(lift_store_open("/proc/lift-no/data", &s, &err),
                     LIFT_ERR_IO);
    assert_null(s);
}

/* ---- names -------------------------------------------------------------- */

static void name_ok_rules(void **state)
{
    (void)state;
    char long_name[LIFT_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name);
    long_name[LIFT_NAME_MAX] = '\0';
    assert_true(lift_store_name_ok(long_name));
    long_name[LIFT_NAME_MAX] = 'a';
    long_name[LIFT_NAME_MAX + 1] = '\0';
    assert_false(lift_store_name_ok(long_name));
    assert_true(lift_store_name_ok("a"));
    assert_true(lift_store_name_ok("Bank_v2.full-1"));
    assert_true(lift_store_name_ok("a.."));
    assert_false(lift_store_name_ok(""));
    assert_false(lift_store_name_ok(NULL));
    assert_false(lift_store_name_ok(".hidden"));
    assert_false(lift_store_name_ok(".."));
    assert_false(lift_store_name_ok("a/b"));
    assert_false(lift_store_name_ok("a b"));
    assert_false(lift_store_name_ok("caf\xc3\xa9"));
}

static void bad_names_invalid(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char key[LIFT_KEY_LEN + 1];
    int64_t id, v;
    assert_int_equal(lift_store_tenant_create(f->s, "a/b", &id, key, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "invalid tenant name 'a/b'"));
    char tmp[4096];
    write_tmp(f->s, "x\n1\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_dataset_put(f->s, f->a, ".x", tmp, NULL, NULL, 1, &err),
        LIFT_ERR_INVALID);
    assert_false(exists(tmp)); /* the temp file went with the failure */
    assert_int_equal(lift_store_version_reserve(f->s, f->a, "", NULL, &v, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_store_tenant_id(f->s, "no/such", &id, &err),
                     LIFT_ERR_INVALID);
}

/* ---- tenants and keys --------------------------------------------------- */

static void tenant_create_key_authenticates_to_tenant(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    assert_int_equal(strlen(f->key_a), LIFT_KEY_LEN);
    assert_memory_equal(f->key_a, "lift_", 5);
    for (size_t i = 5; i < LIFT_KEY_LEN; i++) {
        char c = f->key_a[i];
        assert_true((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_');
    }
    assert_string_not_equal(f->key_a, f->key_b);
    struct lift_principal p;
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_a, LIFT_KEY_LEN, &p, &err),
        LIFT_OK);
    assert_int_equal(p.tenant_id, f->a);
    assert_false(p.operator);
    assert_string_equal(p.tenant, "acme");
    assert_true(p.key_id > 0);
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_b, LIFT_KEY_LEN, &p, &err),
        LIFT_OK);
    assert_int_equal(p.tenant_id, f->b);
    assert_string_equal(p.tenant, "bravo");

    int64_t id = 0;
    assert_int_equal(lift_store_tenant_id(f->s, "bravo", &id, &err), LIFT_OK);
    assert_int_equal(id, f->b);
    assert_int_equal(lift_store_tenant_id(f->s, "zulu", &id, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "no tenant 'zulu'");
}

static void tenant_create_duplicate_conflict(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char key[LIFT_KEY_LEN + 1] = "";
    int64_t id = -1;
    assert_int_equal(lift_store_tenant_create(f->s, "acme", &id, key, &err),
                     LIFT_ERR_CONFLICT);
    assert_string_equal(err.msg, "tenant 'acme' already exists");
    assert_string_equal(key, "");
    char *json = NULL;
    assert_int_equal(lift_store_tenants_json(f->s, &json, &err), LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 2);
    json_t *t = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(t, "name")), "acme");
    assert_int_equal(json_integer_value(json_object_get(t, "id")), f->a);
    assert_int_equal(json_integer_value(json_object_get(t, "keys")), 1);
    assert_true(json_integer_value(json_object_get(t, "created")) > 0);
    json_decref(list);
}

static void authenticate_bad_keys_unauthorized(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_principal p;
    char key[LIFT_KEY_LEN + 1];
    /* unknown: a well-formed key never issued */
    strcpy(key, f->key_a);
    key[10] = key[10] == 'A' ? 'B' : 'A';
    assert_int_equal(lift_store_authenticate(f->s, key, LIFT_KEY_LEN, &p, &err),
                     LIFT_ERR_UNAUTHORIZED);
    assert_string_equal(err.msg, "invalid or revoked API key");
    /* malformed ones */
    const char *bad[] = {"", "lift_", "bearer", "lift_abc",
                         "LIFT_0123456789012345678901234567890123456789012"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            lift_store_authenticate(f->s, bad[i], strlen(bad[i]), &p, &err),
            LIFT_ERR_UNAUTHORIZED);
    assert_int_equal(lift_store_authenticate(f->s, NULL, 0, &p, &err),
                     LIFT_ERR_UNAUTHORIZED);
    strcpy(key, f->key_a);
    key[20] = '+'; /* standard base64, not base64url */
    assert_int_equal(lift_store_authenticate(f->s, key, LIFT_KEY_LEN, &p, &err),
                     LIFT_ERR_UNAUTHORIZED);
    /* a prefix of a valid key, and a valid key with a byte more */
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_a, LIFT_KEY_LEN - 1, &p, &err),
        LIFT_ERR_UNAUTHORIZED);
    char longer[LIFT_KEY_LEN + 2];
    snprintf(longer, sizeof longer, "%sA", f->key_a);
    assert_int_equal(
        lift_store_authenticate(f->s, longer, LIFT_KEY_LEN + 1, &p, &err),
        LIFT_ERR_UNAUTHORIZED);
    /* the last character carries 4 bits: changing a padding bit makes a
     * non-canonical text of the same bytes, which must not be accepted */
    strcpy(key, f->key_a);
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                   "qrstuvwxyz0123456789-_";
    const char *pos = strchr(alphabet, key[LIFT_KEY_LEN - 1]);
    assert_non_null(pos);
    key[LIFT_KEY_LEN - 1] = alphabet[(pos - alphabet) ^ 1];
    assert_int_equal(lift_store_authenticate(f->s, key, LIFT_KEY_LEN, &p, &err),
                     LIFT_ERR_UNAUTHORIZED);
}

/* Each key has one text: a byte from 0x80 up in place of any character
 * is refused (libsodium 1.0.18 alone reads those bytes as '_'), and so is
 * every ASCII character outside the alphabet. */
static void keys_parse_one_text_per_key(void **state)
{
    (void)state;
    struct lift_error err;
    assert_int_equal(keys_init(&err), LIFT_OK);
    char text[LIFT_KEY_LEN + 1];
    unsigned char raw[KEYS_RAW_BYTES], back[KEYS_RAW_BYTES];
    int with_underscore = 0;
    for (int k = 0; k < 200; k++) {
        keys_generate(text, raw);
        assert_true(keys_parse(text, LIFT_KEY_LEN, back));
        assert_memory_equal(raw, back, sizeof raw);
        char *u = strchr(text + 5, '_');
        if (u) {
            with_underscore++;
            for (int c = 0x80; c <= 0xff; c++) {
                *u = (char)c;
                assert_false(keys_parse(text, LIFT_KEY_LEN, back));
            }
            *u = '_';
        }
        size_t pos = 5 + (size_t)k % (LIFT_KEY_LEN - 5);
        char keep = text[pos];
        for (int c = 0; c <= 0xff; c++) {
            bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (alphabet)
                continue;
            text[pos] = (char)c;
            assert_false(keys_parse(text, LIFT_KEY_LEN, back));
        }
        text[pos] = keep;
    }
    assert_true(with_underscore > 0);
}

static void key_revoked_unauthorized(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_principal p;
    char key2[LIFT_KEY_LEN + 1];
    int64_t id2 = 0;
    assert_int_equal(lift_store_key_create(f->s, f->a, false, key2, &id2, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_authenticate(f->s, key2, LIFT_KEY_LEN, &p, &err), LIFT_OK);
    assert_int_equal(p.key_id, id2);
    assert_int_equal(p.tenant_id, f->a);
    assert_int_equal(lift_store_key_revoke(f->s, id2, &err), LIFT_OK);
    assert_int_equal(
        lift_store_authenticate(f->s, key2, LIFT_KEY_LEN, &p, &err),
        LIFT_ERR_UNAUTHORIZED);
    /* revoking again is fine; the tenant's first key still works */
    assert_int_equal(lift_store_key_revoke(f->s, id2, &err), LIFT_OK);
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_a, LIFT_KEY_LEN, &p, &err),
        LIFT_OK);
    assert_int_equal(lift_store_key_revoke(f->s, 9999, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "no key with id 9999");

    char *json = NULL;
    assert_int_equal(lift_store_keys_json(f->s, f->a, &json, &err), LIFT_OK);
    assert_null(strstr(json, key2 + 5));
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 2);
    json_t *k = json_array_get(list, 1);
    assert_int_equal(json_integer_value(json_object_get(k, "id")), id2);
    assert_string_equal(json_string_value(json_object_get(k, "tenant")),
                        "acme");
    assert_true(json_is_false(json_object_get(k, "operator")));
    assert_true(json_is_integer(json_object_get(k, "revoked")));
    assert_true(
        json_is_null(json_object_get(json_array_get(list, 0), "revoked")));
    json_decref(list);
}

static void key_revoked_by_other_process_within_a_second(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_principal p;
    char key[LIFT_KEY_LEN + 1];
    int64_t id = 0;
    assert_int_equal(lift_store_key_create(f->s, f->b, false, key, &id, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_authenticate(f->s, key, LIFT_KEY_LEN, &p, &err),
                     LIFT_OK);
    /* another connection, as `lift admin key revoke` would be */
    struct lift_store *other = NULL;
    assert_int_equal(lift_store_open(f->dir, &other, &err), LIFT_OK);
    assert_int_equal(lift_store_key_revoke(other, id, &err), LIFT_OK);
    assert_int_equal(
        lift_store_authenticate(other, key, LIFT_KEY_LEN, &p, &err),
        LIFT_ERR_UNAUTHORIZED);
    lift_store_close(other);
    usleep(1100 * 1000);
    assert_int_equal(lift_store_authenticate(f->s, key, LIFT_KEY_LEN, &p, &err),
                     LIFT_ERR_UNAUTHORIZED);
    /* the others' keys still work */
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_b, LIFT_KEY_LEN, &p, &err),
        LIFT_OK);
}

struct auth_call {
    struct lift_store *s;
    const char *key;
    enum lift_code code;
    struct lift_principal who;
};

static void *auth_thread(void *arg)
{
    struct auth_call *c = arg;
    struct lift_error err;
    c->code =
        lift_store_authenticate(c->s, c->key, LIFT_KEY_LEN, &c->who, &err);
    return NULL;
}

/* A key in the cache authenticates while a write holds the store's
 * mutex (through its commit's fsync: tens of ms on a busy disk). It
 * used to wait for the mutex, so every scoring request stalled behind
 * each promotion. */
static void authenticate_cached_key_does_not_wait_for_writes(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_principal p;
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_a, LIFT_KEY_LEN, &p, &err),
        LIFT_OK);
    struct auth_call c = {f->s, f->key_a, LIFT_ERR_INTERNAL, {0}};
    pthread_t t;
    store_lock(f->s); /* as a commit in progress */
    assert_int_equal(pthread_create(&t, NULL, auth_thread, &c), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int rc = pthread_timedjoin_np(t, NULL, &until);
    store_unlock(f->s);
    if (rc != 0)
        pthread_join(t, NULL);
    assert_int_equal(rc, 0); /* not still waiting after 5 s */
    assert_int_equal(c.code, LIFT_OK);
    assert_int_equal(c.who.tenant_id, f->a);
    /* an unknown key still goes to the registry: it waits, then fails */
    char bad[LIFT_KEY_LEN + 1];
    memcpy(bad, f->key_a, sizeof bad);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    assert_int_equal(lift_store_authenticate(f->s, bad, LIFT_KEY_LEN, &p, &err),
                     LIFT_ERR_UNAUTHORIZED);
}

static void operator_key_authenticates_as_operator(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_principal p;
    char key[LIFT_KEY_LEN + 1];
    int64_t id = 0;
    assert_int_equal(lift_store_key_create(f->s, 0, true, key, &id, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_authenticate(f->s, key, LIFT_KEY_LEN, &p, &err),
                     LIFT_OK);
    assert_true(p.operator);
    assert_int_equal(p.tenant_id, 0);
    assert_int_equal(p.key_id, id);
    assert_string_equal(p.tenant, "");

    assert_int_equal(lift_store_key_create(f->s, f->a, true, key, &id, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_store_key_create(f->s, 0, false, key, &id, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_store_key_create(f->s, 999, false, key, &id, &err),
                     LIFT_ERR_NOT_FOUND);

    char *json = NULL;
    assert_int_equal(lift_store_keys_json(f->s, -1, &json, &err), LIFT_OK);
    json_t *all = parse(json);
    assert_int_equal(json_array_size(all), 3);
    json_t *op = json_array_get(all, 2);
    assert_true(json_is_true(json_object_get(op, "operator")));
    assert_true(json_is_null(json_object_get(op, "tenant")));
    json_decref(all);
    assert_int_equal(lift_store_keys_json(f->s, 0, &json, &err), LIFT_OK);
    json_t *ops = parse(json);
    assert_int_equal(json_array_size(ops), 1);
    json_decref(ops);
    assert_int_equal(lift_store_keys_json(f->s, f->b, &json, &err), LIFT_OK);
    json_t *mine = parse(json);
    assert_int_equal(json_array_size(mine), 1);
    json_decref(mine);
}

/* True when the file holds the bytes needle. */
static bool file_contains(const char *path, const void *needle, size_t n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)size, fp);
    fclose(fp);
    bool found = got >= n && memmem(buf, got, needle, n) != NULL;
    free(buf);
    return found;
}

static void registry_holds_no_key_text(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char op[LIFT_KEY_LEN + 1];
    int64_t id;
    assert_int_equal(lift_store_key_create(f->s, 0, true, op, &id, &err),
                     LIFT_OK);
    const char *keys[] = {f->key_a, f->key_b, op};
    char path[3][256];
    snprintf(path[0], sizeof path[0], "%s/registry.db", f->dir);
    snprintf(path[1], sizeof path[1], "%s/registry.db-wal", f->dir);
    snprintf(path[2], sizeof path[2], "%s/registry.db-shm", f->dir);
    /* the WAL while open, the database after the checkpoint of close */
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k < 3; k++)
            for (size_t p = 0; p < 3; p++) {
                assert_false(file_contains(path[p], keys[k], LIFT_KEY_LEN));
                /* nor the base64 body, nor a long piece of it */
                assert_false(file_contains(path[p], keys[k] + 5, 20));
            }
        if (round == 0) {
            lift_store_close(f->s);
            f->s = NULL;
            assert_true(exists(path[0]));
        }
    }
    reopen(f);
}

/* ---- datasets ----------------------------------------------------------- */

static void dataset_put_get_list_delete(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    const char *csv = "age,y\n30,1\n41,0\n";
    put_dataset(f->s, f->a, "bank", csv);
    assert_int_equal(count_files(f->dir, "tmp"), 0);
    assert_int_equal(count_files(f->dir, "blobs"), 1);

    struct lift_dataset_info d;
    assert_int_equal(lift_store_dataset_get(f->s, f->a, "bank", &d, &err),
                     LIFT_OK);
    assert_true(d.id > 0);
    assert_int_equal(d.rows, 2);
    assert_int_equal(d.bytes, (int64_t)strlen(csv));
    assert_true(file_contains(d.blob, csv, strlen(csv)));
    assert_memory_equal(d.blob, lift_store_dir(f->s),
                        strlen(lift_store_dir(f->s)));
    assert_string_equal(d.opts_json, "{\"sep\":\",\"}");
    assert_string_equal(d.schema_json, "{\"columns\":[]}");
    char blob[4096];
    strcpy(blob, d.blob);
    lift_dataset_info_release(&d);
    lift_dataset_info_release(&d); /* twice is harmless */

    put_dataset(f->s, f->a, "again", "a\n1\n");
    char *json = NULL;
    assert_int_equal(lift_store_datasets_json(f->s, f->a, &json, &err),
                     LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 2);
    json_t *first = json_array_get(list, 0); /* by name */
    assert_string_equal(json_string_value(json_object_get(first, "name")),
                        "again");
    json_t *second = json_array_get(list, 1);
    assert_int_equal(json_integer_value(json_object_get(second, "bytes")),
                     (json_int_t)strlen(csv));
    assert_int_equal(json_integer_value(json_object_get(second, "rows")), 2);
    assert_non_null(json_object_get(second, "created"));
    json_decref(list);

    assert_int_equal(lift_store_dataset_json(f->s, f->a, "bank", &json, &err),
                     LIFT_OK);
    json_t *doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "name")),
                        "bank");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(doc, "options"), "sep")),
                        ",");
    assert_true(json_is_array(
        json_object_get(json_object_get(doc, "schema"), "columns")));
    json_decref(doc);

    /* a second put of the name: CONFLICT, and the temp file removed */
    char tmp[4096];
    write_tmp(f->s, "other\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_dataset_put(f->s, f->a, "bank", tmp, NULL, NULL, 0, &err),
        LIFT_ERR_CONFLICT);
    assert_string_equal(err.msg, "dataset 'bank' already exists");
    assert_false(exists(tmp));
    assert_int_equal(count_files(f->dir, "blobs"), 2);

    assert_int_equal(lift_store_dataset_delete(f->s, f->a, "bank", &err),
                     LIFT_OK);
    assert_false(exists(blob));
    assert_int_equal(count_files(f->dir, "blobs"), 1);
    assert_int_equal(lift_store_dataset_get(f->s, f->a, "bank", &d, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "no dataset 'bank'");
    assert_int_equal(lift_store_dataset_delete(f->s, f->a, "bank", &err),
                     LIFT_ERR_NOT_FOUND);
}

static void dataset_put_bad_input_invalid(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char tmp[4096];
    write_tmp(f->s, "a\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_dataset_put(f->s, f->a, "d", tmp, "{bad", NULL, 1, &err),
        LIFT_ERR_INVALID);
    assert_false(exists(tmp));
    /* a file outside DIR/tmp is refused and left alone */
    char outside[256];
    snprintf(outside, sizeof outside, "%s/outside.csv", f->base);
    write_file(outside, "a\n", 2);
    assert_int_equal(
        lift_store_dataset_put(f->s, f->a, "d", outside, NULL, NULL, 1, &err),
        LIFT_ERR_INVALID);
    assert_true(exists(outside));
    assert_int_equal(count_files(f->dir, "blobs"), 0);
}

static void dataset_other_tenant_not_found(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    put_dataset(f->s, f->a, "secret-list", "email\nx@y\n");
    struct lift_dataset_info d;
    assert_int_equal(
        lift_store_dataset_get(f->s, f->b, "secret-list", &d, &err),
        LIFT_ERR_NOT_FOUND);
    char *json = NULL;
    assert_int_equal(
        lift_store_dataset_json(f->s, f->b, "secret-list", &json, &err),
        LIFT_ERR_NOT_FOUND);
    assert_null(json);
    assert_int_equal(lift_store_datasets_json(f->s, f->b, &json, &err),
                     LIFT_OK);
    assert_string_equal(json, "[]");
    free(json);
    assert_int_equal(lift_store_dataset_delete(f->s, f->b, "secret-list", &err),
                     LIFT_ERR_NOT_FOUND);
    /* B may use the same name for its own dataset */
    put_dataset(f->s, f->b, "secret-list", "other\n1\n");
    assert_int_equal(
        lift_store_dataset_get(f->s, f->a, "secret-list", &d, &err), LIFT_OK);
    assert_int_equal(d.bytes, 10);
    lift_dataset_info_release(&d);
}

/* ---- models and versions ------------------------------------------------ */

static void complete_version(struct fixture *f, int64_t tenant,
                             const char *name, int64_t v, bool *promoted)
{
    char tmp[4096];
    struct lift_error err;
    write_tmp(f->s, "LIFTMODEL", tmp, sizeof tmp);
    assert_int_equal(lift_store_version_complete(f->s, tenant, name, v, tmp,
                                                 "{\"auc\":0.79}", promoted,
                                                 &err),
                     LIFT_OK);
    assert_false(exists(tmp));
}

static int64_t serving(struct fixture *f, int64_t tenant, const char *name)
{
    int64_t v = -1;
    char path[4096];
    struct lift_error err;
    assert_int_equal(lift_store_model_serving(f->s, tenant, name, &v, path,
                                              sizeof path, &err),
                     LIFT_OK);
    assert_true(exists(path));
    return v;
}

static void version_lifecycle_promote_rollback(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    int64_t v = 0;
    bool promoted = false;
    char path[4096];
    assert_int_equal(lift_store_model_serving(f->s, f->a, "churn", &v, path,
                                              sizeof path, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_version_reserve(f->s, f->a, "churn",
                                                "{\"l2\":0.001}", &v, &err),
                     LIFT_OK);
    assert_int_equal(v, 1);
    /* reserved, not ready: no serving version yet */
    assert_int_equal(lift_store_model_serving(f->s, f->a, "churn", &v, path,
                                              sizeof path, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "model 'churn' has no ready version");
    complete_version(f, f->a, "churn", 1, &promoted);
    assert_true(promoted);
    assert_int_equal(serving(f, f->a, "churn"), 1);

    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "churn", NULL, &v, &err),
        LIFT_OK);
    assert_int_equal(v, 2);
    complete_version(f, f->a, "churn", 2, &promoted);
    assert_false(promoted); /* only the first ready version */
    assert_int_equal(serving(f, f->a, "churn"), 1);
    assert_int_equal(lift_store_model_promote(f->s, f->a, "churn", 2, &err),
                     LIFT_OK);
    assert_int_equal(serving(f, f->a, "churn"), 2);
    /* rollback = promoting the older one */
    assert_int_equal(lift_store_model_promote(f->s, f->a, "churn", 1, &err),
                     LIFT_OK);
    assert_int_equal(serving(f, f->a, "churn"), 1);

    /* a failed version */
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "churn", NULL, &v, &err),
        LIFT_OK);
    assert_int_equal(v, 3);
    assert_int_equal(lift_store_model_promote(f->s, f->a, "churn", 3, &err),
                     LIFT_ERR_CONFLICT);
    assert_string_equal(err.msg,
                        "version 3 of model 'churn' is not ready (training)");
    assert_int_equal(
        lift_store_version_fail(f->s, f->a, "churn", 3, "loss diverged", &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_version_fail(f->s, f->a, "churn", 3, "again", &err),
        LIFT_ERR_CONFLICT);
    char tmp[4096];
    write_tmp(f->s, "late", tmp, sizeof tmp);
    assert_int_equal(lift_store_version_complete(f->s, f->a, "churn", 3, tmp,
                                                 NULL, &promoted, &err),
                     LIFT_ERR_CONFLICT);
    assert_false(exists(tmp));
    assert_int_equal(lift_store_version_path(f->s, f->a, "churn", 3, path,
                                             sizeof path, &err),
                     LIFT_ERR_CONFLICT);
    assert_int_equal(lift_store_version_path(f->s, f->a, "churn", 2, path,
                                             sizeof path, &err),
                     LIFT_OK);
    assert_true(exists(path));
    assert_int_equal(lift_store_version_path(f->s, f->a, "churn", 9, path,
                                             sizeof path, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_model_promote(f->s, f->a, "churn", 9, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "model 'churn' has no version 9");

    char *json = NULL;
    assert_int_equal(lift_store_model_json(f->s, f->a, "churn", &json, &err),
                     LIFT_OK);
    json_t *doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "name")),
                        "churn");
    assert_int_equal(json_integer_value(json_object_get(doc, "serving")), 1);
    json_t *vs = json_object_get(doc, "versions");
    assert_int_equal(json_array_size(vs), 3);
    json_t *v1 = json_array_get(vs, 0), *v3 = json_array_get(vs, 2);
    assert_string_equal(json_string_value(json_object_get(v1, "state")),
                        "ready");
    assert_true(json_real_value(json_object_get(json_object_get(v1, "info"),
                                                "auc")) > 0.78);
    assert_true(
        json_is_real(json_object_get(json_object_get(v1, "params"), "l2")));
    assert_true(json_is_null(json_object_get(v1, "error")));
    assert_string_equal(json_string_value(json_object_get(v3, "state")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(v3, "error")),
                        "loss diverged");
    assert_true(json_is_null(json_object_get(v3, "info")));
    json_decref(doc);

    assert_int_equal(lift_store_models_json(f->s, f->a, &json, &err), LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 1);
    json_t *m = json_array_get(list, 0);
    assert_int_equal(json_integer_value(json_object_get(m, "serving")), 1);
    assert_int_equal(json_integer_value(json_object_get(m, "versions")), 3);
    json_decref(list);
}

static void version_delete_rules(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    int64_t v = 0;
    bool promoted = false;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(
            lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err),
            LIFT_OK);
        complete_version(f, f->a, "m", v, &promoted);
    }
    assert_int_equal(count_files(f->dir, "blobs"), 3);
    /* the serving version while others exist */
    assert_int_equal(lift_store_model_delete(f->s, f->a, "m", 1, &err),
                     LIFT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "serving version"));
    assert_int_equal(lift_store_model_delete(f->s, f->a, "m", 3, &err),
                     LIFT_OK);
    assert_int_equal(count_files(f->dir, "blobs"), 2);
    assert_int_equal(lift_store_model_delete(f->s, f->a, "m", 3, &err),
                     LIFT_ERR_NOT_FOUND);
    /* numbers are not reused */
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    assert_int_equal(v, 4);
    /* another tenant cannot touch it */
    assert_int_equal(lift_store_model_delete(f->s, f->b, "m", 0, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_model_promote(f->s, f->b, "m", 2, &err),
                     LIFT_ERR_NOT_FOUND);
    char *json = NULL;
    assert_int_equal(lift_store_model_json(f->s, f->b, "m", &json, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_models_json(f->s, f->b, &json, &err), LIFT_OK);
    assert_string_equal(json, "[]");
    free(json);
    /* the whole model, training version and all */
    assert_int_equal(lift_store_model_delete(f->s, f->a, "m", 0, &err),
                     LIFT_OK);
    assert_int_equal(count_files(f->dir, "blobs"), 0);
    char path[4096];
    assert_int_equal(
        lift_store_model_serving(f->s, f->a, "m", &v, path, sizeof path, &err),
        LIFT_ERR_NOT_FOUND);
    /* a job finishing after its model went away */
    char tmp[4096];
    write_tmp(f->s, "late", tmp, sizeof tmp);
    assert_int_equal(lift_store_version_complete(f->s, f->a, "m", 4, tmp, NULL,
                                                 &promoted, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_false(exists(tmp));
    /* the only version, serving, can go */
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "solo", NULL, &v, &err),
        LIFT_OK);
    complete_version(f, f->a, "solo", v, &promoted);
    assert_int_equal(lift_store_model_delete(f->s, f->a, "solo", v, &err),
                     LIFT_OK);
    assert_int_equal(count_files(f->dir, "blobs"), 0);
}

static void version_import_promotes_first(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    int64_t v = 0;
    bool promoted = false;
    char tmp[4096];
    write_tmp(f->s, "LIFTMODEL-1", tmp, sizeof tmp);
    assert_int_equal(lift_store_version_import(f->s, f->b, "imported", tmp,
                                               "{}", &v, &promoted, &err),
                     LIFT_OK);
    assert_int_equal(v, 1);
    assert_true(promoted);
    write_tmp(f->s, "LIFTMODEL-2", tmp, sizeof tmp);
    assert_int_equal(lift_store_version_import(f->s, f->b, "imported", tmp,
                                               NULL, &v, &promoted, &err),
                     LIFT_OK);
    assert_int_equal(v, 2);
    assert_false(promoted);
    assert_int_equal(serving(f, f->b, "imported"), 1);
}

/* ---- jobs --------------------------------------------------------------- */

static void job_create_update_get(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char id[17];
    assert_int_equal(lift_store_job_create(f->s, f->a, "train",
                                           "{\"model\":\"churn\"}", id, &err),
                     LIFT_OK);
    assert_int_equal(strlen(id), 16);
    assert_int_equal(strspn(id, "0123456789abcdef"), 16);
    char state_[16];
    assert_int_equal(lift_store_job_state(f->s, f->a, id, state_, &err),
                     LIFT_OK);
    assert_string_equal(state_, "queued");

    char *json = NULL;
    assert_int_equal(lift_store_job_json(f->s, f->a, id, &json, &err), LIFT_OK);
    json_t *doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "id")), id);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")),
                        "train");
    assert_true(json_is_null(json_object_get(doc, "started")));
    assert_true(json_is_null(json_object_get(doc, "progress")));
    json_decref(doc);

    assert_int_equal(lift_store_job_update(f->s, id, "running",
                                           "{\"epoch\":1,\"loss\":0.4}", NULL,
                                           NULL, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_job_update(f->s, id, NULL,
                                           "{\"epoch\":2,\"loss\":0.3}", NULL,
                                           NULL, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_job_json(f->s, f->a, id, &json, &err), LIFT_OK);
    doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "state")),
                        "running");
    assert_true(json_is_integer(json_object_get(doc, "started")));
    assert_true(json_is_null(json_object_get(doc, "finished")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(doc, "progress"), "epoch")),
                     2);
    json_decref(doc);

    assert_int_equal(lift_store_job_update(f->s, id, "succeeded", NULL, NULL,
                                           "{\"version\":1}", &err),
                     LIFT_OK);
    assert_int_equal(lift_store_job_json(f->s, f->a, id, &json, &err), LIFT_OK);
    doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "state")),
                        "succeeded");
    assert_true(json_is_integer(json_object_get(doc, "finished")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(doc, "result"), "version")),
                     1);
    assert_true(json_is_null(json_object_get(doc, "error")));
    json_decref(doc);
    /* finished: no more changes */
    assert_int_equal(
        lift_store_job_update(f->s, id, "running", NULL, NULL, NULL, &err),
        LIFT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "has finished"));

    assert_int_equal(lift_store_job_create(f->s, f->a, "train", "{x", id, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_store_job_create(f->s, f->a, "score", NULL, id, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id, "exploded", NULL, NULL, NULL, &err),
        LIFT_ERR_INVALID);
    assert_int_equal(lift_store_job_update(f->s, id, "cancelled", NULL,
                                           "cancelled by the client", NULL,
                                           &err),
                     LIFT_OK);
    assert_int_equal(lift_store_job_update(f->s, id, NULL, "{\"epoch\":3}",
                                           NULL, NULL, &err),
                     LIFT_ERR_CONFLICT);
    assert_int_equal(lift_store_job_update(f->s, "0123456789abcdef", "running",
                                           NULL, NULL, NULL, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(
        lift_store_job_update(f->s, "../x", "running", NULL, NULL, NULL, &err),
        LIFT_ERR_NOT_FOUND);
}

static void job_other_tenant_not_found(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char id[17];
    assert_int_equal(lift_store_job_create(f->s, f->a, "train", NULL, id, &err),
                     LIFT_OK);
    char *json = NULL;
    char st[16];
    assert_int_equal(lift_store_job_json(f->s, f->b, id, &json, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_null(json);
    assert_int_equal(lift_store_job_state(f->s, f->b, id, st, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_job_state(f->s, f->a, "nope", st, &err),
                     LIFT_ERR_NOT_FOUND);
}

/* The ids of a job list page, in order, into ids (at most 8). */
static size_t page_ids(const char *json, char ids[8][17])
{
    json_t *list = json_loads(json, 0, NULL);
    assert_non_null(list);
    size_t n = json_array_size(list);
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        json_t *job = json_array_get(list, i);
        snprintf(ids[i], 17, "%s",
                 json_string_value(json_object_get(job, "id")));
        assert_non_null(json_object_get(job, "kind"));
        assert_null(json_object_get(job, "params"));
    }
    json_decref(list);
    return n;
}

static void jobs_list_filters_and_pages(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char made[4][17], other[17], got[8][17];
    const char *kinds[4] = {"train", "score", "score", "uplift"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(
            lift_store_job_create(f->s, f->a, kinds[i], NULL, made[i], &err),
            LIFT_OK);
    assert_int_equal(
        lift_store_job_create(f->s, f->b, "score", NULL, other, &err), LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, made[1], "running", NULL, NULL, NULL, &err),
        LIFT_OK);
    char *json = NULL;
    /* newest first, one tenant's only */
    assert_int_equal(
        lift_store_jobs_json(f->s, f->a, NULL, NULL, NULL, 10, &json, &err),
        LIFT_OK);
    assert_int_equal(page_ids(json, got), 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(got[i], made[3 - i]);
    free(json);
    /* filters */
    assert_int_equal(
        lift_store_jobs_json(f->s, f->a, NULL, "score", NULL, 10, &json, &err),
        LIFT_OK);
    assert_int_equal(page_ids(json, got), 2);
    assert_string_equal(got[0], made[2]);
    assert_string_equal(got[1], made[1]);
    free(json);
    assert_int_equal(lift_store_jobs_json(f->s, f->a, "running", "score", NULL,
                                          10, &json, &err),
                     LIFT_OK);
    assert_int_equal(page_ids(json, got), 1);
    assert_string_equal(got[0], made[1]);
    free(json);
    /* pages: two, then the rest after the second's id */
    assert_int_equal(
        lift_store_jobs_json(f->s, f->a, NULL, NULL, NULL, 2, &json, &err),
        LIFT_OK);
    assert_int_equal(page_ids(json, got), 2);
    free(json);
    char cursor[17];
    memcpy(cursor, got[1], sizeof cursor);
    assert_int_equal(
        lift_store_jobs_json(f->s, f->a, NULL, NULL, cursor, 2, &json, &err),
        LIFT_OK);
    assert_int_equal(page_ids(json, got), 2);
    assert_string_equal(got[0], made[1]);
    assert_string_equal(got[1], made[0]);
    free(json);
    /* errors: another tenant's job as the cursor, a bad state or kind */
    json = NULL;
    assert_int_equal(
        lift_store_jobs_json(f->s, f->a, NULL, NULL, other, 2, &json, &err),
        LIFT_ERR_NOT_FOUND);
    assert_null(json);
    assert_int_equal(
        lift_store_jobs_json(f->s, f->a, "done", NULL, NULL, 2, &json, &err),
        LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "unknown job state 'done'"));
    assert_int_equal(
        lift_store_jobs_json(f->s, f->a, NULL, "a b", NULL, 2, &json, &err),
        LIFT_ERR_INVALID);
    assert_null(json);
}

/* A score job of tenant `tenant`, moved to running. */
static void running_job(struct fixture *f, int64_t tenant, char id[17])
{
    struct lift_error err;
    assert_int_equal(lift_store_job_create(f->s, tenant, "score",
                                           "{\"dataset\":\"d\"}", id, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id, "running", NULL, NULL, NULL, &err),
        LIFT_OK);
}

static char *slurp_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void job_result_put_get_check(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char id[17], tmp[4096], path[4096];
    int64_t bytes = 0;
    running_job(f, f->a, id);
    /* not there while the job runs */
    assert_int_equal(lift_store_job_result_get(f->s, f->a, id, path,
                                               sizeof path, &bytes, &err),
                     LIFT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "running"));
    const char *csv = "row,score\n1,0.25\n2,0.5\n";
    write_tmp(f->s, csv, tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->a, id, tmp, "{\"rows\":2}", &err),
        LIFT_OK);
    assert_false(exists(tmp));
    assert_int_equal(count_files(f->dir, "blobs"), 1);
    assert_int_equal(lift_store_job_result_get(f->s, f->a, id, path,
                                               sizeof path, &bytes, &err),
                     LIFT_OK);
    assert_int_equal(bytes, (int64_t)strlen(csv));
    assert_string_equal(slurp_file(path), csv);
    char *json = NULL;
    assert_int_equal(lift_store_job_json(f->s, f->a, id, &json, &err), LIFT_OK);
    json_t *doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "state")),
                        "succeeded");
    assert_true(json_is_integer(json_object_get(doc, "finished")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(doc, "result"), "rows")),
                     2);
    json_decref(doc);
    /* another tenant's job is no job; an unknown one neither */
    assert_int_equal(lift_store_job_result_get(f->s, f->b, id, path,
                                               sizeof path, &bytes, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_job_result_get(f->s, f->a, "0123456789abcdef",
                                               path, sizeof path, &bytes, &err),
                     LIFT_ERR_NOT_FOUND);
    /* the result blob is referenced: the check counts it, no orphan */
    char *report = NULL;
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    doc = parse(report);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_int_equal(json_integer_value(json_object_get(doc, "objects")), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "orphans")), 0);
    json_decref(doc);
    /* a second result for a finished job: refused, its file dropped */
    write_tmp(f->s, "row,score\n", tmp, sizeof tmp);
    assert_int_equal(lift_store_job_result_put(f->s, f->a, id, tmp, "{}", &err),
                     LIFT_ERR_CONFLICT);
    assert_false(exists(tmp));
    assert_int_equal(count_files(f->dir, "blobs"), 1);

    /* a job cancelled while it wrote: refused, nothing kept */
    char id2[17];
    running_job(f, f->a, id2);
    assert_int_equal(lift_store_job_update(f->s, id2, "cancelled", NULL,
                                           "cancelled", NULL, &err),
                     LIFT_OK);
    write_tmp(f->s, "row,score\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->a, id2, tmp, "{}", &err),
        LIFT_ERR_CONFLICT);
    assert_false(exists(tmp));
    assert_int_equal(count_files(f->dir, "blobs"), 1);
    assert_int_equal(lift_store_job_result_get(f->s, f->a, id2, path,
                                               sizeof path, &bytes, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "cancelled"));
    /* another tenant cannot put a result on the job either */
    char id3[17];
    running_job(f, f->a, id3);
    write_tmp(f->s, "row,score\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->b, id3, tmp, "{}", &err),
        LIFT_ERR_NOT_FOUND);
    assert_false(exists(tmp));
    /* bad JSON, and a path that is not a temp file of the store */
    write_tmp(f->s, "row,score\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->a, id3, tmp, "{x", &err),
        LIFT_ERR_INVALID);
    char outside[256];
    snprintf(outside, sizeof outside, "%s/outside.csv", f->base);
    write_file(outside, "row\n", 4);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->a, id3, outside, "{}", &err),
        LIFT_ERR_INVALID);
    assert_true(exists(outside));
    /* a training job that succeeded has no result file */
    char id4[17];
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id4, &err), LIFT_OK);
    assert_int_equal(lift_store_job_update(f->s, id4, "succeeded", NULL, NULL,
                                           "{\"version\":1}", &err),
                     LIFT_OK);
    assert_int_equal(lift_store_job_result_get(f->s, f->a, id4, path,
                                               sizeof path, &bytes, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no result"));

    /* a missing result file is a fault of the check */
    char saved[4200];
    assert_int_equal(lift_store_job_result_get(f->s, f->a, id, path,
                                               sizeof path, &bytes, &err),
                     LIFT_OK);
    snprintf(saved, sizeof saved, "%s.saved", path);
    assert_int_equal(rename(path, saved), 0);
    assert_int_equal(lift_store_check(f->s, false, &report, &err),
                     LIFT_ERR_CORRUPT);
    doc = parse(report);
    json_t *m0 = json_array_get(json_object_get(doc, "missing"), 0);
    assert_string_equal(json_string_value(json_object_get(m0, "kind")),
                        "job result");
    assert_string_equal(json_string_value(json_object_get(m0, "name")), id);
    json_decref(doc);
    assert_int_equal(rename(saved, path), 0);

    /* a crash mid-job: its temp file, and a result blob renamed in but
     * never recorded, are gone after the next open; the recorded one
     * stays and is still served */
    char orphan[256];
    write_tmp(f->s, "row,score\n1,0.", tmp, sizeof tmp);
    snprintf(orphan, sizeof orphan, "%s/blobs/%s", f->dir,
             "abcdefabcdefabcdefabcdefabcdef00");
    write_file(orphan, "row,score\n", 10);
    reopen(f);
    assert_false(exists(tmp));
    assert_false(exists(orphan));
    assert_int_equal(count_files(f->dir, "blobs"), 1);
    assert_int_equal(lift_store_job_result_get(f->s, f->a, id, path,
                                               sizeof path, &bytes, &err),
                     LIFT_OK);
    assert_string_equal(slurp_file(path), csv);
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    free(report);
}

/* A registry of schema 1 (before job results and quotas) opens and
 * migrates. */
static void open_schema_1_registry_migrates(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char id[17], path[256];
    assert_int_equal(lift_store_job_create(f->s, f->a, "train", NULL, id, &err),
                     LIFT_OK);
    lift_store_close(f->s);
    f->s = NULL;
    snprintf(path, sizeof path, "%s/registry.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX jobs_result_blob;"
                                  "ALTER TABLE jobs DROP COLUMN result_blob;"
                                  "ALTER TABLE jobs DROP COLUMN result_bytes;"
                                  "DROP TABLE quotas;"
                                  "DROP INDEX jobs_tenant_state;"
                                  "DROP TABLE tenants_deleted;"
                                  "PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(lift_store_open(f->dir, &f->s, &err), LIFT_OK);
    char st[16];
    assert_int_equal(lift_store_job_state(f->s, f->a, id, st, &err), LIFT_OK);
    char id2[17], tmp[4096], out[4096];
    int64_t bytes;
    running_job(f, f->a, id2);
    write_tmp(f->s, "row,score\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->a, id2, tmp, "{}", &err), LIFT_OK);
    assert_int_equal(lift_store_job_result_get(f->s, f->a, id2, out, sizeof out,
                                               &bytes, &err),
                     LIFT_OK);
    assert_int_equal(bytes, 10);
    /* and the quotas of schema 3 */
    struct lift_quota q, eff;
    struct lift_quota_usage u;
    lift_quota_fill(&q, LIFT_QUOTA_KEEP);
    q.jobs = 5;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(lift_store_quota_get(f->s, f->a, NULL, &eff, &u, &err),
                     LIFT_OK);
    assert_int_equal(eff.jobs, 5);
    assert_int_equal(u.storage, 10);
}

/* ---- crash recovery and checks ------------------------------------------ */

static void reopen_after_crash_cleans_and_fails_jobs(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char id_run[17], id_queued[17], id_done[17];
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id_run, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id_run, "running", NULL, NULL, NULL, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id_queued, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id_done, &err),
        LIFT_OK);
    assert_int_equal(lift_store_job_update(f->s, id_done, "succeeded", NULL,
                                           NULL, NULL, &err),
                     LIFT_OK);
    int64_t v;
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    put_dataset(f->s, f->a, "kept", "a\n1\n");
    /* an upload cut short, and a blob renamed in but never recorded */
    char tmp[4096], orphan[256];
    write_tmp(f->s, "half an upl", tmp, sizeof tmp);
    snprintf(orphan, sizeof orphan, "%s/blobs/%s", f->dir,
             "0123456789abcdef0123456789abcdef");
    write_file(orphan, "x", 1);
    reopen(f);

    assert_false(exists(tmp));
    assert_false(exists(orphan));
    assert_int_equal(count_files(f->dir, "blobs"), 1);
    struct lift_dataset_info d;
    assert_int_equal(lift_store_dataset_get(f->s, f->a, "kept", &d, &err),
                     LIFT_OK);
    assert_true(exists(d.blob));
    lift_dataset_info_release(&d);

    const char *ids[] = {id_run, id_queued};
    for (int i = 0; i < 2; i++) {
        char *json = NULL;
        assert_int_equal(lift_store_job_json(f->s, f->a, ids[i], &json, &err),
                         LIFT_OK);
        json_t *doc = parse(json);
        assert_string_equal(json_string_value(json_object_get(doc, "state")),
                            "failed");
        assert_string_equal(json_string_value(json_object_get(doc, "error")),
                            "interrupted: the server stopped");
        assert_true(json_is_integer(json_object_get(doc, "finished")));
        json_decref(doc);
    }
    char st[16];
    assert_int_equal(lift_store_job_state(f->s, f->a, id_done, st, &err),
                     LIFT_OK);
    assert_string_equal(st, "succeeded");
    char *json = NULL;
    assert_int_equal(lift_store_model_json(f->s, f->a, "m", &json, &err),
                     LIFT_OK);
    json_t *doc = parse(json);
    json_t *v1 = json_array_get(json_object_get(doc, "versions"), 0);
    assert_string_equal(json_string_value(json_object_get(v1, "state")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(v1, "error")),
                        "interrupted: the server stopped");
    json_decref(doc);
}

/* The state and error of version v of model name. */
static char *version_state(struct fixture *f, const char *name, int64_t v)
{
    char *json = NULL;
    struct lift_error err;
    assert_int_equal(lift_store_model_json(f->s, f->a, name, &json, &err),
                     LIFT_OK);
    json_t *doc = parse(json);
    json_t *ver =
        json_array_get(json_object_get(doc, "versions"), (size_t)(v - 1));
    char *state_ = strdup(json_string_value(json_object_get(ver, "state")));
    json_decref(doc);
    return state_;
}

/* A training job finished by lift_store_version_complete_job: a
 * reopen after a crash (which fails jobs left running) finds the job
 * succeeded beside its ready version. Before, the server completed the
 * version and then, in a second call, the job: a kill between the two
 * left a ready version whose job the next open marked failed. */
static void version_complete_job_commits_job_with_version(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    int64_t v = 0;
    char id[17], tmp[4096];
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    assert_int_equal(lift_store_job_create(f->s, f->a, "train", NULL, id, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id, "running", NULL, NULL, NULL, &err),
        LIFT_OK);
    write_tmp(f->s, "LIFTMODEL", tmp, sizeof tmp);
    bool promoted = false;
    assert_int_equal(lift_store_version_complete_job(
                         f->s, f->a, "m", v, tmp, "{\"auc\":0.79}", id,
                         "{\"model\":\"m\",\"version\":1,\"train_s\":0.5}",
                         &promoted, &err),
                     LIFT_OK);
    assert_true(promoted);
    assert_false(exists(tmp));
    reopen(f); /* as after a kill: jobs left running become failed */

    char *json = NULL;
    assert_int_equal(lift_store_job_json(f->s, f->a, id, &json, &err), LIFT_OK);
    json_t *doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "state")),
                        "succeeded");
    assert_true(json_is_null(json_object_get(doc, "error")));
    assert_true(json_is_integer(json_object_get(doc, "finished")));
    json_t *res = json_object_get(doc, "result");
    assert_true(json_is_true(json_object_get(res, "promoted")));
    assert_int_equal(json_integer_value(json_object_get(res, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(res, "model")), "m");
    json_decref(doc);
    char *vs = version_state(f, "m", v);
    assert_string_equal(vs, "ready");
    free(vs);
    char *report = NULL;
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    free(report);
}

/* A job that finished meanwhile (cancelled) cannot complete: nothing
 * changes, and neither the temp file nor a blob stays behind. */
static void version_complete_job_finished_job_conflict(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    int64_t v = 0;
    char id[17], tmp[4096];
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    assert_int_equal(lift_store_job_create(f->s, f->a, "train", NULL, id, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_job_update(f->s, id, "cancelled", NULL,
                                           "cancelled", NULL, &err),
                     LIFT_OK);
    write_tmp(f->s, "LIFTMODEL", tmp, sizeof tmp);
    bool promoted = true;
    assert_int_equal(lift_store_version_complete_job(f->s, f->a, "m", v, tmp,
                                                     NULL, id, NULL, &promoted,
                                                     &err),
                     LIFT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "has finished (cancelled)"));
    assert_false(promoted);
    assert_false(exists(tmp));
    assert_int_equal(count_files(f->dir, "blobs"), 0);
    assert_int_equal(count_files(f->dir, "tmp"), 0);
    char *vs = version_state(f, "m", v);
    assert_string_equal(vs, "training");
    free(vs);
    char st[16];
    assert_int_equal(lift_store_job_state(f->s, f->a, id, st, &err), LIFT_OK);
    assert_string_equal(st, "cancelled");

    /* a result that is not an object is refused and leaves nothing */
    write_tmp(f->s, "LIFTMODEL", tmp, sizeof tmp);
    assert_int_equal(lift_store_version_complete_job(
                         f->s, f->a, "m", v, tmp, NULL, id, "[1]", NULL, &err),
                     LIFT_ERR_INVALID);
    assert_false(exists(tmp));
    assert_int_equal(count_files(f->dir, "blobs"), 0);
}

static void second_open_leaves_live_work_alone(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char id[17];
    assert_int_equal(lift_store_job_create(f->s, f->a, "train", NULL, id, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id, "running", NULL, NULL, NULL, &err),
        LIFT_OK);
    char tmp[4096];
    write_tmp(f->s, "uploading", tmp, sizeof tmp);
    /* as `lift admin` would, while the server has the dir open */
    struct lift_store *other = NULL;
    assert_int_equal(lift_store_open(f->dir, &other, &err), LIFT_OK);
    char st[16];
    assert_int_equal(lift_store_job_state(other, f->a, id, st, &err), LIFT_OK);
    assert_string_equal(st, "running");
    assert_true(exists(tmp));
    char *report = NULL;
    assert_int_equal(lift_store_check(other, true, &report, &err), LIFT_OK);
    assert_true(exists(tmp));
    free(report);
    lift_store_close(other);
    unlink(tmp);
}

static void check_finds_missing_and_orphan_blobs(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char *report = NULL;
    put_dataset(f->s, f->a, "d1", "a\n1\n");
    put_dataset(f->s, f->a, "d2", "a\n2\n");
    int64_t v;
    bool promoted;
    char tmp[4096];
    write_tmp(f->s, "MODEL", tmp, sizeof tmp);
    assert_int_equal(lift_store_version_import(f->s, f->a, "m", tmp, NULL, &v,
                                               &promoted, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    json_t *doc = parse(report);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_string_equal(json_string_value(json_object_get(doc, "integrity")),
                        "ok");
    assert_int_equal(json_integer_value(json_object_get(doc, "objects")), 3);
    json_decref(doc);

    /* an orphan: found, then removed by repair */
    char orphan[256];
    snprintf(orphan, sizeof orphan, "%s/blobs/%s", f->dir,
             "ffffffffffffffffffffffffffffffff");
    write_file(orphan, "x", 1);
    assert_int_equal(lift_store_check(f->s, false, &report, &err),
                     LIFT_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "1 unreferenced"));
    doc = parse(report);
    assert_true(json_is_false(json_object_get(doc, "ok")));
    assert_int_equal(json_array_size(json_object_get(doc, "orphans")), 1);
    json_decref(doc);
    assert_true(exists(orphan));
    assert_int_equal(lift_store_check(f->s, true, &report, &err), LIFT_OK);
    doc = parse(report);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(doc, "removed"), "orphans")),
                     1);
    json_decref(doc);
    assert_false(exists(orphan));

    /* a missing blob and one of the wrong size: found, not repairable */
    struct lift_dataset_info d;
    assert_int_equal(lift_store_dataset_get(f->s, f->a, "d1", &d, &err),
                     LIFT_OK);
    unlink(d.blob);
    lift_dataset_info_release(&d);
    assert_int_equal(lift_store_dataset_get(f->s, f->a, "d2", &d, &err),
                     LIFT_OK);
    write_file(d.blob, "truncat", 7);
    lift_dataset_info_release(&d);
    assert_int_equal(lift_store_check(f->s, true, &report, &err),
                     LIFT_ERR_CORRUPT);
    doc = parse(report);
    json_t *missing = json_object_get(doc, "missing");
    assert_int_equal(json_array_size(missing), 1);
    json_t *m0 = json_array_get(missing, 0);
    assert_string_equal(json_string_value(json_object_get(m0, "name")), "d1");
    assert_string_equal(json_string_value(json_object_get(m0, "tenant")),
                        "acme");
    json_t *mm = json_object_get(doc, "size_mismatch");
    assert_int_equal(json_array_size(mm), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(mm, 0), "actual")),
        7);
    json_decref(doc);
}

/* ---- deleting a tenant -------------------------------------------------- */

/* The bytes of a whole (small) file, malloc'd; *n its size. */
static char *file_bytes(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 16, fp);
    fclose(fp);
    return buf;
}

/* What tenant bravo owns, as the store describes it and byte for byte:
 * its lists, its model, its job and the content of every blob. */
struct bravo_view {
    char *datasets, *dataset, *models, *model, *job;
    char *blob[3];
    size_t len[3];
};

static void bravo_view_take(struct fixture *f, const char *job,
                            struct bravo_view *v)
{
    struct lift_error err;
    char path[4096];
    int64_t version, bytes;
    assert_int_equal(lift_store_datasets_json(f->s, f->b, &v->datasets, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_dataset_json(f->s, f->b, "bd", &v->dataset, &err), LIFT_OK);
    assert_int_equal(lift_store_models_json(f->s, f->b, &v->models, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_model_json(f->s, f->b, "bm", &v->model, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_job_json(f->s, f->b, job, &v->job, &err),
                     LIFT_OK);
    struct lift_dataset_info d;
    assert_int_equal(lift_store_dataset_get(f->s, f->b, "bd", &d, &err),
                     LIFT_OK);
    v->blob[0] = file_bytes(d.blob, &v->len[0]);
    lift_dataset_info_release(&d);
    assert_int_equal(lift_store_model_serving(f->s, f->b, "bm", &version, path,
                                              sizeof path, &err),
                     LIFT_OK);
    v->blob[1] = file_bytes(path, &v->len[1]);
    assert_int_equal(lift_store_job_result_get(f->s, f->b, job, path,
                                               sizeof path, &bytes, &err),
                     LIFT_OK);
    v->blob[2] = file_bytes(path, &v->len[2]);
}

static void bravo_view_equal_release(struct bravo_view *a, struct bravo_view *b)
{
    assert_string_equal(a->datasets, b->datasets);
    assert_string_equal(a->dataset, b->dataset);
    assert_string_equal(a->models, b->models);
    assert_string_equal(a->model, b->model);
    assert_string_equal(a->job, b->job);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a->len[i], b->len[i]);
        assert_memory_equal(a->blob[i], b->blob[i], a->len[i]);
    }
    struct bravo_view *both[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        free(both[k]->datasets);
        free(both[k]->dataset);
        free(both[k]->models);
        free(both[k]->model);
        free(both[k]->job);
        for (int i = 0; i < 3; i++)
            free(both[k]->blob[i]);
    }
}

/* A version imported into model `name` of tenant; its file holds text. */
static void import_version(struct fixture *f, int64_t tenant, const char *name,
                           const char *text)
{
    struct lift_error err;
    char tmp[4096];
    int64_t v;
    bool promoted;
    write_tmp(f->s, text, tmp, sizeof tmp);
    assert_int_equal(lift_store_version_import(f->s, tenant, name, tmp,
                                               "{\"auc\":0.7}", &v, &promoted,
                                               &err),
                     LIFT_OK);
}

/* A finished scoring job of tenant with a result file holding csv. */
static void job_with_result(struct fixture *f, int64_t tenant, const char *csv,
                            char id[17])
{
    struct lift_error err;
    char tmp[4096];
    running_job(f, tenant, id);
    write_tmp(f->s, csv, tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, tenant, id, tmp, "{\"rows\":2}", &err),
        LIFT_OK);
}

/* acme: two datasets, a model of two versions and a failed one, a
 * scoring job with its result file, a running job, a second key and a
 * quota override; bravo: a dataset, a model and a job with a result.
 * acme's running job goes to run, bravo's job to bjob. */
static void two_tenants_with_data(struct fixture *f, char run[17],
                                  char bjob[17])
{
    struct lift_error err;
    char job[17], key[LIFT_KEY_LEN + 1];
    int64_t v, kid;
    put_dataset(f->s, f->a, "d1", "a,b\n1,2\n3,4\n");
    put_dataset(f->s, f->a, "d2", "x\n1\n2\n");
    import_version(f, f->a, "m", "MODEL-ONE");
    import_version(f, f->a, "m", "MODEL-TWO!");
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    assert_int_equal(
        lift_store_version_fail(f->s, f->a, "m", v, "diverged", &err), LIFT_OK);
    job_with_result(f, f->a, "row,score\n1,0.5\n", job);
    running_job(f, f->a, run);
    assert_int_equal(lift_store_key_create(f->s, f->a, false, key, &kid, &err),
                     LIFT_OK);
    struct lift_quota q;
    lift_quota_fill(&q, LIFT_QUOTA_KEEP);
    q.datasets = 9;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    put_dataset(f->s, f->b, "bd", "c\n7\n8\n");
    import_version(f, f->b, "bm", "BRAVO-MODEL");
    job_with_result(f, f->b, "row,score\n1,0.25\n2,0.75\n", bjob);
}

static void tenant_delete_removes_rows_and_files_only_its_own(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_principal who;
    char run[17], bjob[17];
    two_tenants_with_data(f, run, bjob);
    assert_int_equal(count_files(f->dir, "blobs"), 8);
    struct lift_quota_usage before;
    assert_int_equal(
        lift_store_quota_get(f->s, f->a, NULL, NULL, &before, &err), LIFT_OK);
    struct bravo_view b0, b1;
    bravo_view_take(f, bjob, &b0);
    /* the key is in the authentication cache */
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_a, strlen(f->key_a), &who, &err),
        LIFT_OK);

    struct lift_tenant_deletion d;
    assert_int_equal(lift_store_tenant_delete(f->s, "acme", &d, &err), LIFT_OK);
    assert_int_equal(d.tenant_id, f->a);
    assert_int_equal(d.keys, 2);
    assert_int_equal(d.datasets, 2);
    assert_int_equal(d.models, 1);
    assert_int_equal(d.versions, 3);
    assert_int_equal(d.jobs, 2);
    assert_int_equal(d.results, 1);
    assert_int_equal(d.files, 5);
    assert_int_equal(d.bytes, before.storage);
    assert_int_equal(d.bytes, 12 + 6 + 9 + 10 + 16);

    /* its key fails at once, cached or not */
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_a, strlen(f->key_a), &who, &err),
        LIFT_ERR_UNAUTHORIZED);
    /* its rows are gone */
    int64_t id;
    assert_int_equal(lift_store_tenant_id(f->s, "acme", &id, &err),
                     LIFT_ERR_NOT_FOUND);
    char *json = NULL;
    assert_int_equal(lift_store_tenants_json(f->s, &json, &err), LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "name")),
        "bravo");
    json_decref(list);
    assert_int_equal(lift_store_keys_json(f->s, f->a, &json, &err), LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_int_equal(lift_store_datasets_json(f->s, f->a, &json, &err),
                     LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_int_equal(lift_store_models_json(f->s, f->a, &json, &err), LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    char st[16];
    assert_int_equal(lift_store_job_state(f->s, f->a, run, st, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(
        lift_store_quota_get(f->s, f->a, NULL, NULL, &before, &err),
        LIFT_ERR_NOT_FOUND);
    struct lift_store_counts c;
    assert_int_equal(lift_store_counts(f->s, -1, &c, &err), LIFT_OK);
    assert_int_equal(c.tenants, 1);
    assert_int_equal(c.datasets, 1);
    assert_int_equal(c.models, 1);
    assert_int_equal(lift_store_job_counts_json(f->s, &json, &err), LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 1); /* bravo's score job */
    json_decref(list);

    /* its files are gone; bravo's, and all it sees, are byte-identical */
    assert_int_equal(count_files(f->dir, "blobs"), 3);
    bravo_view_take(f, bjob, &b1);
    bravo_view_equal_release(&b0, &b1);
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_b, strlen(f->key_b), &who, &err),
        LIFT_OK);
    char *report = NULL;
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    json_t *doc = parse(report);
    assert_int_equal(json_integer_value(json_object_get(doc, "objects")), 3);
    assert_int_equal(json_array_size(json_object_get(doc, "orphans")), 0);
    json_decref(doc);

    /* twice, or a name never seen: not found; a bad name: invalid */
    assert_int_equal(lift_store_tenant_delete(f->s, "acme", &d, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "no tenant 'acme'");
    assert_int_equal(d.tenant_id, 0);
    assert_int_equal(lift_store_tenant_delete(f->s, "nobody", NULL, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_tenant_delete(f->s, "../x", NULL, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_store_tenant_delete(f->s, NULL, NULL, &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(count_files(f->dir, "blobs"), 3);
}

static void tenant_delete_running_job_late_writes_refused(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char run[17], job[17], tmp[4096];
    int64_t v;
    /* a running scoring job and a training job holding a version */
    running_job(f, f->a, run);
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, job, &err), LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, job, "running", NULL, NULL, NULL, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    struct lift_tenant_deletion d;
    assert_int_equal(lift_store_tenant_delete(f->s, "acme", &d, &err), LIFT_OK);
    assert_int_equal(d.jobs, 2);
    assert_int_equal(d.versions, 1);
    assert_int_equal(d.files, 0);
    /* what the jobs' workers would do next is refused, and leaves no
     * file behind */
    assert_int_equal(lift_store_job_update(f->s, run, NULL, "{\"rows\":1}",
                                           NULL, NULL, &err),
                     LIFT_ERR_NOT_FOUND);
    write_tmp(f->s, "row,score\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->a, run, tmp, "{}", &err),
        LIFT_ERR_NOT_FOUND);
    assert_false(exists(tmp));
    write_tmp(f->s, "MODEL", tmp, sizeof tmp);
    bool promoted;
    assert_int_equal(lift_store_version_complete_job(f->s, f->a, "m", v, tmp,
                                                     "{}", job, NULL, &promoted,
                                                     &err),
                     LIFT_ERR_NOT_FOUND);
    assert_false(exists(tmp));
    /* and nothing new can be made for the deleted tenant's id */
    write_tmp(f->s, "a\n1\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_dataset_put(f->s, f->a, "late", tmp, NULL, NULL, 1, &err),
        LIFT_ERR_NOT_FOUND);
    assert_false(exists(tmp));
    assert_int_not_equal(
        lift_store_version_reserve(f->s, f->a, "m2", NULL, &v, &err), LIFT_OK);
    char late[17];
    assert_int_not_equal(
        lift_store_job_create(f->s, f->a, "score", NULL, late, &err), LIFT_OK);
    char key[LIFT_KEY_LEN + 1];
    int64_t kid;
    assert_int_equal(lift_store_key_create(f->s, f->a, false, key, &kid, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(count_files(f->dir, "blobs"), 0);
    assert_int_equal(count_files(f->dir, "tmp"), 0);
}

static void tenant_delete_ids_never_reused_audit_kept(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_principal who;
    assert_int_equal(
        lift_store_authenticate(f->s, f->key_b, strlen(f->key_b), &who, &err),
        LIFT_OK);
    int64_t bravo_key = who.key_id;
    assert_int_equal(lift_store_audit(f->s, f->b, bravo_key, "dataset.create",
                                      "bd", 201, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_tenant_delete(f->s, "bravo", NULL, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_audit(f->s, 0, 0, "tenant.delete", "bravo", 200, &err),
        LIFT_OK);
    /* bravo had the largest tenant and key ids: neither comes back */
    int64_t carol, id;
    char key[LIFT_KEY_LEN + 1];
    assert_int_equal(lift_store_tenant_create(f->s, "carol", &carol, key, &err),
                     LIFT_OK);
    assert_true(carol > f->b);
    assert_int_equal(
        lift_store_authenticate(f->s, key, strlen(key), &who, &err), LIFT_OK);
    assert_true(who.key_id > bravo_key);
    char *json = NULL;
    assert_int_equal(lift_store_audit_json(f->s, carol, 10, &json, &err),
                     LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    /* bravo's entries stay, named, by its id and in the whole log */
    assert_int_equal(lift_store_audit_json(f->s, f->b, 10, &json, &err),
                     LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 1);
    json_t *e = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(e, "tenant")),
                        "bravo");
    assert_string_equal(json_string_value(json_object_get(e, "action")),
                        "dataset.create");
    json_decref(list);
    assert_int_equal(lift_store_audit_json(f->s, -1, 10, &json, &err), LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 2);
    e = json_array_get(list, 0);
    assert_true(json_is_null(json_object_get(e, "tenant")));
    assert_string_equal(json_string_value(json_object_get(e, "action")),
                        "tenant.delete");
    assert_string_equal(json_string_value(json_object_get(e, "object")),
                        "bravo");
    json_decref(list);
    /* the lookup for the audit log finds the deleted name */
    bool deleted = false;
    assert_int_equal(
        lift_store_tenant_lookup(f->s, "bravo", &id, &deleted, &err), LIFT_OK);
    assert_int_equal(id, f->b);
    assert_true(deleted);
    assert_int_equal(
        lift_store_tenant_lookup(f->s, "acme", &id, &deleted, &err), LIFT_OK);
    assert_int_equal(id, f->a);
    assert_false(deleted);
    assert_int_equal(lift_store_tenant_lookup(f->s, "nobody", &id, NULL, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(lift_store_tenant_id(f->s, "bravo", &id, &err),
                     LIFT_ERR_NOT_FOUND);
    /* the name is free again, under a new id, also after a reopen */
    reopen(f);
    int64_t bravo2;
    assert_int_equal(
        lift_store_tenant_create(f->s, "bravo", &bravo2, key, &err), LIFT_OK);
    assert_true(bravo2 > carol);
    assert_int_equal(
        lift_store_tenant_lookup(f->s, "bravo", &id, &deleted, &err), LIFT_OK);
    assert_int_equal(id, bravo2);
    assert_false(deleted);
    assert_int_equal(lift_store_audit_json(f->s, bravo2, 10, &json, &err),
                     LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

/* Out of memory while listing the files: nothing deleted, nothing lost;
 * once memory is there, the delete goes through. */
static void tenant_delete_out_of_memory_deletes_nothing(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    put_dataset(f->s, f->a, "d1", "a\n1\n");
    put_dataset(f->s, f->a, "d2", "a\n2\n");
    import_version(f, f->a, "m", "MODEL");
    if (!lift_alloc_fail_at(0))
        skip();
    bool completed = false;
    long nth = 1;
    for (; nth < 50 && !completed; nth++) {
        lift_alloc_fail_at(nth);
        enum lift_code c = lift_store_tenant_delete(f->s, "acme", NULL, &err);
        lift_alloc_fail_at(0);
        if (c == LIFT_OK) {
            completed = true;
            break;
        }
        assert_int_equal(c, LIFT_ERR_NOMEM);
        int64_t id;
        assert_int_equal(lift_store_tenant_id(f->s, "acme", &id, &err),
                         LIFT_OK);
        assert_int_equal(count_files(f->dir, "blobs"), 3);
        struct lift_principal who;
        assert_int_equal(lift_store_authenticate(f->s, f->key_a,
                                                 strlen(f->key_a), &who, &err),
                         LIFT_OK);
    }
    assert_true(completed);
    assert_true(nth > 1); /* at least one failure was walked */
    assert_int_equal(count_files(f->dir, "blobs"), 0);
}

/* The state a crash between the delete's commit and its unlinks leaves:
 * files no row points to. The check reports them; the next open that
 * has the dir to itself removes them. */
static void tenant_delete_crash_before_unlink_cleaned_on_open(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    put_dataset(f->s, f->a, "d1", "a\n1\n2\n");
    put_dataset(f->s, f->b, "bd", "b\n3\n");
    struct lift_dataset_info d;
    assert_int_equal(lift_store_dataset_get(f->s, f->a, "d1", &d, &err),
                     LIFT_OK);
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", d.blob);
    lift_dataset_info_release(&d);
    size_t n;
    char *content = file_bytes(saved, &n);
    assert_int_equal(lift_store_tenant_delete(f->s, "acme", NULL, &err),
                     LIFT_OK);
    assert_false(exists(saved));
    write_file(saved, content, n); /* as if the unlink never ran */
    free(content);
    char *report = NULL;
    assert_int_equal(lift_store_check(f->s, false, &report, &err),
                     LIFT_ERR_CORRUPT);
    json_t *doc = parse(report);
    assert_int_equal(json_array_size(json_object_get(doc, "orphans")), 1);
    json_decref(doc);
    reopen(f);
    assert_false(exists(saved));
    assert_int_equal(count_files(f->dir, "blobs"), 1);
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    free(report);
}

/* Another process's deletion moves the count this one polls, and the
 * tenant no longer exists for it (what the server's sweep relies on). */
static void tenant_deletions_seen_by_another_connection(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_store *other = NULL;
    assert_int_equal(lift_store_open(f->dir, &other, &err), LIFT_OK);
    int64_t n = -1;
    bool exists = false;
    assert_int_equal(lift_store_tenant_deletions(f->s, &n, &err), LIFT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(lift_store_tenant_exists(f->s, f->a, &exists, &err),
                     LIFT_OK);
    assert_true(exists);
    assert_int_equal(lift_store_tenant_delete(other, "acme", NULL, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_tenant_deletions(f->s, &n, &err), LIFT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lift_store_tenant_exists(f->s, f->a, &exists, &err),
                     LIFT_OK);
    assert_false(exists);
    assert_int_equal(lift_store_tenant_exists(f->s, f->b, &exists, &err),
                     LIFT_OK);
    assert_true(exists);
    assert_int_equal(lift_store_tenant_exists(f->s, 999, &exists, &err),
                     LIFT_OK);
    assert_false(exists);
    assert_int_equal(lift_store_tenant_delete(f->s, "bravo", NULL, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_tenant_deletions(other, &n, &err), LIFT_OK);
    assert_int_equal(n, 2);
    lift_store_close(other);
}

/* ---- audit -------------------------------------------------------------- */

static void audit_written_and_listed_per_tenant(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    assert_int_equal(
        lift_store_audit(f->s, f->a, 1, "dataset.put", "bank", 201, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_audit(f->s, f->b, 2, "model.train", "churn", 202, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_audit(f->s, f->a, 1, "dataset.delete", "bank", 404, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_audit(f->s, 0, 7, "tenant.create", "carol", 201, &err),
        LIFT_OK);
    char *json = NULL;
    assert_int_equal(lift_store_audit_json(f->s, f->a, 10, &json, &err),
                     LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 2);
    json_t *newest = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(newest, "action")),
                        "dataset.delete");
    assert_int_equal(json_integer_value(json_object_get(newest, "status")),
                     404);
    assert_string_equal(json_string_value(json_object_get(newest, "tenant")),
                        "acme");
    assert_int_equal(json_integer_value(json_object_get(newest, "key")), 1);
    assert_string_equal(json_string_value(json_object_get(newest, "object")),
                        "bank");
    assert_true(json_integer_value(json_object_get(newest, "time")) > 0);
    json_decref(list);

    assert_int_equal(lift_store_audit_json(f->s, f->a, 1, &json, &err),
                     LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    assert_int_equal(lift_store_audit_json(f->s, -1, 100, &json, &err),
                     LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 4);
    assert_true(
        json_is_null(json_object_get(json_array_get(list, 0), "tenant")));
    json_decref(list);
}

static void audit_page_before_cursor_pages_without_overlap(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    for (int i = 0; i < 7; i++)
        assert_int_equal(lift_store_audit(f->s, i % 2 ? f->b : f->a, 1,
                                          "dataset.create", "d", 201, &err),
                         LIFT_OK);
    /* acme has entries 1, 3, 5, 7: pages of 3, then the rest */
    char *json = NULL;
    assert_int_equal(lift_store_audit_page(f->s, f->a, 0, 3, &json, &err),
                     LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 3);
    int64_t ids[3];
    for (size_t i = 0; i < 3; i++)
        ids[i] =
            json_integer_value(json_object_get(json_array_get(list, i), "id"));
    json_decref(list);
    assert_true(ids[0] > ids[1] && ids[1] > ids[2]);
    assert_int_equal(lift_store_audit_page(f->s, f->a, ids[2], 3, &json, &err),
                     LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 1);
    assert_true(json_integer_value(
                    json_object_get(json_array_get(list, 0), "id")) < ids[2]);
    json_decref(list);
    /* every tenant, below the newest */
    assert_int_equal(lift_store_audit_page(f->s, -1, ids[0], 100, &json, &err),
                     LIFT_OK);
    list = parse(json);
    assert_int_equal(json_array_size(list), 6);
    json_decref(list);
}

static void counts_per_tenant_and_all(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_store_counts c;
    assert_int_equal(lift_store_counts(f->s, -1, &c, &err), LIFT_OK);
    assert_int_equal(c.tenants, 2);
    assert_int_equal(c.datasets, 0);
    assert_int_equal(c.models, 0);
    put_dataset(f->s, f->a, "one", "a,b\n1,2\n");
    put_dataset(f->s, f->a, "two", "a,b\n1,2\n");
    put_dataset(f->s, f->b, "three", "a,b\n1,2\n");
    int64_t v;
    assert_int_equal(
        lift_store_version_reserve(f->s, f->b, "m", "{}", &v, &err), LIFT_OK);
    assert_int_equal(lift_store_counts(f->s, -1, &c, &err), LIFT_OK);
    assert_int_equal(c.datasets, 3);
    assert_int_equal(c.models, 1);
    assert_int_equal(lift_store_counts(f->s, f->a, &c, &err), LIFT_OK);
    assert_int_equal(c.tenants, 1);
    assert_int_equal(c.datasets, 2);
    assert_int_equal(c.models, 0);
}

static void job_counts_by_kind_and_state(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    char id[3][17];
    for (int i = 0; i < 3; i++)
        assert_int_equal(lift_store_job_create(f->s, i ? f->a : f->b, "train",
                                               "{}", id[i], &err),
                         LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id[0], "running", NULL, NULL, NULL, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id[1], "failed", NULL, "x", NULL, &err),
        LIFT_OK);
    char *json = NULL;
    assert_int_equal(lift_store_job_counts_json(f->s, &json, &err), LIFT_OK);
    json_t *list = parse(json);
    assert_int_equal(json_array_size(list), 3); /* failed, queued, running */
    const char *want[] = {"failed", "queued", "running"};
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(e, "kind")),
                            "train");
        assert_string_equal(json_string_value(json_object_get(e, "state")),
                            want[i]);
        assert_int_equal(json_integer_value(json_object_get(e, "count")), 1);
    }
    json_decref(list);
}

/* ---- allocation failures ----------------------------------------------- */

/* One pass over the calls that allocate through the project's wrappers;
 * each either works or says NOMEM. */
static enum lift_code alloc_pass(struct fixture *f, struct lift_store **s2)
{
    struct lift_error err;
    struct lift_dataset_info d;
    char *json = NULL;
    enum lift_code c = lift_store_open(f->dir, s2, &err);
    if (c)
        return c;
    if ((c = lift_store_dataset_get(*s2, f->a, "d", &d, &err)))
        return c;
    lift_dataset_info_release(&d);
    if ((c = lift_store_check(*s2, false, &json, &err)))
        return c;
    free(json);
    int64_t v;
    if ((c = lift_store_version_reserve(*s2, f->a, "m", NULL, &v, &err)))
        return c;
    return lift_store_model_delete(*s2, f->a, "m", 0, &err);
}

static void allocation_failures_nomem_never_crash(void **state)
{
    struct fixture *f = *state;
    put_dataset(f->s, f->a, "d", "a\n1\n");
    lift_store_close(f->s);
    f->s = NULL;
    if (!lift_alloc_fail_at(0))
        skip();
    bool completed = false;
    for (long nth = 1; nth < 200 && !completed; nth++) {
        struct lift_store *s2 = NULL;
        lift_alloc_fail_at(nth);
        enum lift_code c = alloc_pass(f, &s2);
        lift_alloc_fail_at(0);
        lift_store_close(s2);
        if (c == LIFT_OK)
            completed = true;
        else
            assert_int_equal(c, LIFT_ERR_NOMEM);
    }
    assert_true(completed);
    reopen(f);
}

/* ---- concurrency -------------------------------------------------------- */

#define N_THREADS 4
#define N_OPS 200

struct worker {
    struct lift_store *s;
    int64_t tenant;
    int index;
    int kept; /* datasets left */
    int versions;
    enum lift_code failed;
    char msg[LIFT_ERROR_MSG_MAX];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct lift_error err;
    char name[64], tmp[4096], id[17];
    lift_error_clear(&err);
    for (int j = 0; j < N_OPS && !w->failed; j++) {
        enum lift_code c = LIFT_OK;
        int fd = -1;
        switch (j % 4) {
        case 0: /* a dataset, every other one deleted again */
            snprintf(name, sizeof name, "w%d-d%d", w->index, j);
            if (!(c = lift_store_tmp_create(w->s, &fd, tmp, sizeof tmp,
                                            &err))) {
                (void)!write(fd, "a,b\n1,2\n", 8);
                close(fd);
                c = lift_store_dataset_put(w->s, w->tenant, name, tmp, NULL,
                                           NULL, 1, &err);
            }
            if (!c && j % 8 == 0)
                c = lift_store_dataset_delete(w->s, w->tenant, name, &err);
            else if (!c)
                w->kept++;
            break;
        case 1: /* a job through its states */
            if (!(c = lift_store_job_create(w->s, w->tenant, "train", NULL, id,
                                            &err)) &&
                !(c = lift_store_job_update(w->s, id, "running", "{}", NULL,
                                            NULL, &err)))
                c = lift_store_job_update(w->s, id, "succeeded", NULL, NULL,
                                          "{}", &err);
            break;
        case 2: { /* a model version, all threads on one model name */
            int64_t v;
            bool promoted;
            if (!(c = lift_store_version_reserve(w->s, w->tenant, "shared",
                                                 NULL, &v, &err)) &&
                !(c = lift_store_tmp_create(w->s, &fd, tmp, sizeof tmp,
                                            &err))) {
                (void)!write(fd, "M", 1);
                close(fd);
                c = lift_store_version_complete(w->s, w->tenant, "shared", v,
                                                tmp, NULL, &promoted, &err);
            }
            if (!c)
                w->versions++;
            break;
        }
        default: { /* reads and an audit entry */
            char *json = NULL;
            if (!(c = lift_store_datasets_json(w->s, w->tenant, &json, &err)))
                c = lift_store_audit(w->s, w->tenant, 1, "op", "x", 200, &err);
            free(json);
            break;
        }
        }
        if (c) {
            w->failed = c;
            snprintf(w->msg, sizeof w->msg, "%s", err.msg);
        }
    }
    return NULL;
}

static void threads_mixed_operations_consistent_counts(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    /* two threads on the fixture's store, two on a second one (another
     * SQLite connection, as a second process would have) */
    struct lift_store *second = NULL;
    assert_int_equal(lift_store_open(f->dir, &second, &err), LIFT_OK);
    pthread_t th[N_THREADS];
    struct worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].s = i % 2 ? second : f->s;
        w[i].tenant = i < 2 ? f->a : f->b;
        w[i].index = i;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    int kept[2] = {0, 0}, versions[2] = {0, 0};
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failed)
            fail_msg("thread %d: %s: %s", i, lift_code_name(w[i].failed),
                     w[i].msg);
        kept[i < 2 ? 0 : 1] += w[i].kept;
        versions[i < 2 ? 0 : 1] += w[i].versions;
    }
    lift_store_close(second);

    int64_t tenants[2] = {f->a, f->b};
    for (int t = 0; t < 2; t++) {
        char *json = NULL;
        assert_int_equal(
            lift_store_datasets_json(f->s, tenants[t], &json, &err), LIFT_OK);
        json_t *list = parse(json);
        assert_int_equal(json_array_size(list), (size_t)kept[t]);
        json_decref(list);
        assert_int_equal(
            lift_store_model_json(f->s, tenants[t], "shared", &json, &err),
            LIFT_OK);
        json_t *doc = parse(json);
        json_t *vs = json_object_get(doc, "versions");
        assert_int_equal(json_array_size(vs), (size_t)versions[t]);
        /* numbered 1..n without gaps or repeats */
        for (size_t i = 0; i < json_array_size(vs); i++)
            assert_int_equal(json_integer_value(json_object_get(
                                 json_array_get(vs, i), "version")),
                             (json_int_t)i + 1);
        /* whichever version was ready first */
        assert_true(json_integer_value(json_object_get(doc, "serving")) >= 1);
        json_decref(doc);
        assert_int_equal(
            lift_store_audit_json(f->s, tenants[t], 100000, &json, &err),
            LIFT_OK);
        list = parse(json);
        assert_int_equal(json_array_size(list), 2 * (N_OPS / 4));
        json_decref(list);
    }
    assert_int_equal(count_files(f->dir, "blobs"),
                     (size_t)(kept[0] + kept[1] + versions[0] + versions[1]));
    assert_int_equal(count_files(f->dir, "tmp"), 0);
    char *report = NULL;
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    free(report);
}

/* ---- quotas ------------------------------------------------------------- */

/* A dataset of exactly n bytes ("a\n" then digits); the code of the put. */
static enum lift_code put_sized(struct lift_store *s, int64_t tenant,
                                const char *name, size_t n,
                                struct lift_error *err)
{
    char tmp[4096];
    int fd = -1;
    enum lift_code c = lift_store_tmp_create(s, &fd, tmp, sizeof tmp, err);
    if (c)
        return c;
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, '7', n);
    if (n >= 2)
        memcpy(buf, "a\n", 2);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
    free(buf);
    c = lift_store_dataset_put(s, tenant, name, tmp, NULL, NULL, 1, err);
    /* adopted or removed, never left behind */
    assert_false(exists(tmp));
    return c;
}

static struct lift_quota keep_all(void)
{
    struct lift_quota q;
    lift_quota_fill(&q, LIFT_QUOTA_KEEP);
    return q;
}

static void quota_set_get_override_defaults_effective(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_quota ov, eff, def;
    struct lift_quota_usage u;
    /* nothing set: all unlimited, no override */
    assert_int_equal(lift_store_quota_get(f->s, f->a, &ov, &eff, &u, &err),
                     LIFT_OK);
    assert_int_equal(ov.storage, LIFT_QUOTA_DEFAULT);
    assert_int_equal(ov.rps, LIFT_QUOTA_DEFAULT);
    assert_int_equal(eff.storage, LIFT_QUOTA_UNLIMITED);
    assert_int_equal(eff.burst, LIFT_QUOTA_UNLIMITED);
    assert_int_equal(u.storage + u.datasets + u.models + u.jobs, 0);

    /* defaults of the handle apply to tenants without an override */
    lift_quota_fill(&def, LIFT_QUOTA_UNLIMITED);
    def.datasets = 5;
    def.rps = 10;
    def.burst = LIFT_QUOTA_DEFAULT;
    assert_int_equal(lift_store_quota_defaults(f->s, &def, &err), LIFT_OK);
    struct lift_quota q = keep_all();
    q.storage = 1000;
    q.models = LIFT_QUOTA_UNLIMITED;
    q.rps = 3;
    q.burst = 6;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(lift_store_quota_get(f->s, f->a, &ov, &eff, NULL, &err),
                     LIFT_OK);
    assert_int_equal(ov.storage, 1000);
    assert_int_equal(ov.datasets, LIFT_QUOTA_DEFAULT);
    assert_int_equal(ov.models, LIFT_QUOTA_UNLIMITED);
    assert_int_equal(eff.storage, 1000);
    assert_int_equal(eff.datasets, 5); /* the default */
    assert_int_equal(eff.models, LIFT_QUOTA_UNLIMITED);
    assert_int_equal(eff.rps, 3);
    assert_int_equal(eff.burst, 6);
    /* bravo has only the defaults; its burst follows the rate */
    assert_int_equal(lift_store_quota_get(f->s, f->b, NULL, &eff, NULL, &err),
                     LIFT_OK);
    assert_int_equal(eff.datasets, 5);
    assert_int_equal(eff.rps, 10);
    assert_int_equal(eff.burst, 10);

    /* KEEP leaves fields; a new rate without burst: the burst follows */
    q = keep_all();
    q.jobs = 2;
    q.rps = 8;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(lift_store_quota_get(f->s, f->a, &ov, &eff, NULL, &err),
                     LIFT_OK);
    assert_int_equal(ov.storage, 1000);
    assert_int_equal(ov.jobs, 2);
    assert_int_equal(eff.rps, 8);
    assert_int_equal(eff.burst, 8);

    /* the tenant list shows the override (null: unlimited) and usage */
    char *json = NULL;
    assert_int_equal(lift_store_tenants_json(f->s, &json, &err), LIFT_OK);
    json_t *list = parse(json);
    json_t *a = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "acme");
    json_t *qa = json_object_get(a, "quota");
    assert_int_equal(json_object_size(qa), 4);
    assert_int_equal(json_integer_value(json_object_get(qa, "storage_bytes")),
                     1000);
    assert_true(json_is_null(json_object_get(qa, "models")));
    assert_int_equal(json_integer_value(json_object_get(qa, "jobs")), 2);
    assert_int_equal(json_integer_value(json_object_get(qa, "rps")), 8);
    assert_int_equal(
        json_object_size(json_object_get(json_array_get(list, 1), "quota")), 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(a, "usage"), "storage_bytes")),
                     0);
    json_decref(list);

    /* everything back to the defaults drops the override */
    lift_quota_fill(&q, LIFT_QUOTA_DEFAULT);
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(lift_store_quota_get(f->s, f->a, &ov, &eff, NULL, &err),
                     LIFT_OK);
    assert_int_equal(ov.storage, LIFT_QUOTA_DEFAULT);
    assert_int_equal(eff.datasets, 5);
    assert_int_equal(eff.rps, 10);

    /* bad values and an unknown tenant */
    q = keep_all();
    q.rps = 0;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "rps"));
    q = keep_all();
    q.datasets = -7;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err),
                     LIFT_ERR_INVALID);
    q = keep_all();
    q.burst = 4; /* a burst without a rate */
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err),
                     LIFT_ERR_INVALID);
    q = keep_all();
    q.jobs = 1;
    assert_int_equal(lift_store_quota_set(f->s, 999, &q, &err),
                     LIFT_ERR_NOT_FOUND);
    def.storage = LIFT_QUOTA_KEEP;
    assert_int_equal(lift_store_quota_defaults(f->s, &def, &err),
                     LIFT_ERR_INVALID);
    /* an override survives a reopen (it is in the registry) */
    q = keep_all();
    q.models = 4;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    reopen(f);
    assert_int_equal(lift_store_quota_get(f->s, f->a, &ov, &eff, NULL, &err),
                     LIFT_OK);
    assert_int_equal(ov.models, 4);
    assert_int_equal(eff.datasets, LIFT_QUOTA_UNLIMITED); /* new handle */
}

static void quota_usage_counts_bytes_and_objects(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_quota_usage u;
    assert_int_equal(put_sized(f->s, f->a, "d1", 1000, &err), LIFT_OK);
    assert_int_equal(put_sized(f->s, f->a, "d2", 234, &err), LIFT_OK);
    assert_int_equal(put_sized(f->s, f->b, "d1", 5000, &err), LIFT_OK);
    int64_t v;
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    complete_version(f, f->a, "m", v, NULL); /* "LIFTMODEL": 9 bytes */
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m", NULL, &v, &err), LIFT_OK);
    char id1[17], id2[17], id3[17];
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id1, &err), LIFT_OK);
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id2, &err), LIFT_OK);
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id3, &err), LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id2, "running", NULL, NULL, NULL, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id3, "failed", NULL, "x", NULL, &err),
        LIFT_OK);
    assert_int_equal(lift_store_quota_get(f->s, f->a, NULL, NULL, &u, &err),
                     LIFT_OK);
    /* the version in training has no bytes yet; a failed job is done */
    assert_int_equal(u.storage, 1000 + 234 + 9);
    assert_int_equal(u.datasets, 2);
    assert_int_equal(u.models, 1);
    assert_int_equal(u.jobs, 2);
    char *json = NULL;
    assert_int_equal(lift_store_quota_json(f->s, f->a, &json, &err), LIFT_OK);
    json_t *doc = parse(json);
    assert_string_equal(json_string_value(json_object_get(doc, "tenant")),
                        "acme");
    json_t *sb = json_object_get(doc, "storage_bytes");
    assert_int_equal(json_integer_value(json_object_get(sb, "used")), 1243);
    assert_true(json_is_null(json_object_get(sb, "limit")));
    assert_true(
        json_is_null(json_object_get(json_object_get(doc, "rps"), "limit")));
    json_decref(doc);
    /* deletes give it back; the other tenant's objects never counted */
    assert_int_equal(lift_store_dataset_delete(f->s, f->a, "d1", &err),
                     LIFT_OK);
    assert_int_equal(lift_store_model_delete(f->s, f->a, "m", 0, &err),
                     LIFT_OK);
    assert_int_equal(lift_store_quota_get(f->s, f->a, NULL, NULL, &u, &err),
                     LIFT_OK);
    assert_int_equal(u.storage, 234);
    assert_int_equal(u.datasets, 1);
    assert_int_equal(u.models, 0);
    assert_int_equal(lift_store_quota_get(f->s, f->b, NULL, NULL, &u, &err),
                     LIFT_OK);
    assert_int_equal(u.storage, 5000);
    assert_int_equal(u.jobs, 0);
}

static void quota_datasets_and_storage_refused_nothing_kept(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_quota q = keep_all();
    q.datasets = 2;
    q.storage = 2500;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(put_sized(f->s, f->a, "d1", 1000, &err), LIFT_OK);
    /* 1000 + 1600 > 2500 */
    assert_int_equal(put_sized(f->s, f->a, "d2", 1600, &err), LIFT_ERR_QUOTA);
    assert_non_null(strstr(err.msg, "storage quota exceeded"));
    assert_non_null(strstr(err.msg, "from 1000 to 2600"));
    assert_non_null(strstr(err.msg, "2500"));
    /* exactly at the limit passes */
    assert_int_equal(put_sized(f->s, f->a, "d2", 1500, &err), LIFT_OK);
    q = keep_all();
    q.storage = LIFT_QUOTA_UNLIMITED;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(put_sized(f->s, f->a, "d3", 10, &err), LIFT_ERR_QUOTA);
    assert_non_null(strstr(err.msg, "dataset quota exceeded"));
    assert_non_null(strstr(err.msg, "2 datasets exist, the limit is 2"));
    /* nothing of the refused uploads is left */
    struct lift_dataset_info d;
    assert_int_equal(lift_store_dataset_get(f->s, f->a, "d3", &d, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_int_equal(count_files(f->dir, "blobs"), 2);
    assert_int_equal(count_files(f->dir, "tmp"), 0);
    /* another tenant is not limited by acme's quota */
    assert_int_equal(put_sized(f->s, f->b, "d3", 10, &err), LIFT_OK);
    /* a delete frees a slot */
    assert_int_equal(lift_store_dataset_delete(f->s, f->a, "d1", &err),
                     LIFT_OK);
    assert_int_equal(put_sized(f->s, f->a, "d3", 10, &err), LIFT_OK);
    char *report = NULL;
    assert_int_equal(lift_store_check(f->s, false, &report, &err), LIFT_OK);
    free(report);
}

static void quota_models_versions_and_jobs(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_quota q = keep_all();
    q.models = 1;
    q.jobs = 1;
    q.storage = 20;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    int64_t v;
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m1", NULL, &v, &err), LIFT_OK);
    /* a second model: refused and not created */
    int64_t v2;
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m2", NULL, &v2, &err),
        LIFT_ERR_QUOTA);
    assert_non_null(strstr(err.msg, "model quota exceeded"));
    char *json = NULL;
    assert_int_equal(lift_store_model_json(f->s, f->a, "m2", &json, &err),
                     LIFT_ERR_NOT_FOUND);
    char tmp[4096];
    write_tmp(f->s, "LIFTMODEL", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_version_import(f->s, f->a, "m2", tmp, NULL, &v2, NULL, &err),
        LIFT_ERR_QUOTA);
    assert_false(exists(tmp));
    /* more versions of the same model are fine while storage lasts */
    complete_version(f, f->a, "m1", v, NULL); /* 9 bytes */
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m1", NULL, &v, &err), LIFT_OK);
    complete_version(f, f->a, "m1", v, NULL); /* 18 of 20 */
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m1", NULL, &v, &err), LIFT_OK);
    write_tmp(f->s, "LIFTMODEL", tmp, sizeof tmp);
    bool promoted = true;
    assert_int_equal(lift_store_version_complete(f->s, f->a, "m1", v, tmp, NULL,
                                                 &promoted, &err),
                     LIFT_ERR_QUOTA);
    assert_false(promoted);
    assert_false(exists(tmp));
    assert_non_null(strstr(err.msg, "the model file of 9 bytes"));
    /* the version is still training: its job marks it failed */
    assert_int_equal(
        lift_store_version_fail(f->s, f->a, "m1", v, err.msg, &err), LIFT_OK);
    assert_int_equal(count_files(f->dir, "blobs"), 2);
    /* at the limit, no room for another model to train */
    q = keep_all();
    q.storage = 18;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(
        lift_store_version_reserve(f->s, f->a, "m1", NULL, &v, &err),
        LIFT_ERR_QUOTA);
    assert_non_null(strstr(err.msg, "no room left"));

    /* jobs: one queued or running at a time */
    char id[17], id2[17];
    assert_int_equal(lift_store_job_create(f->s, f->a, "train", NULL, id, &err),
                     LIFT_OK);
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id2, &err),
        LIFT_ERR_RATE_LIMITED);
    assert_non_null(strstr(err.msg, "job quota exceeded"));
    assert_int_equal(
        lift_store_job_create(f->s, f->b, "train", NULL, id2, &err), LIFT_OK);
    assert_int_equal(
        lift_store_job_update(f->s, id, "succeeded", NULL, NULL, NULL, &err),
        LIFT_OK);
    assert_int_equal(
        lift_store_job_create(f->s, f->a, "train", NULL, id2, &err), LIFT_OK);
    /* the defaults of the handle count for tenants without an override */
    struct lift_quota def;
    lift_quota_fill(&def, LIFT_QUOTA_UNLIMITED);
    def.burst = LIFT_QUOTA_DEFAULT;
    def.models = 0;
    assert_int_equal(lift_store_quota_defaults(f->s, &def, &err), LIFT_OK);
    assert_int_equal(
        lift_store_version_reserve(f->s, f->b, "x", NULL, &v, &err),
        LIFT_ERR_QUOTA);
}

static void quota_job_results_counted_and_refused(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_quota_usage u;
    char id[17], id2[17], tmp[4096], state_text[16];
    assert_int_equal(put_sized(f->s, f->a, "d", 100, &err), LIFT_OK);
    running_job(f, f->a, id);
    write_tmp(f->s, "row,score\n1,0.5\n", tmp, sizeof tmp); /* 16 bytes */
    assert_int_equal(lift_store_job_result_put(f->s, f->a, id, tmp, "{}", &err),
                     LIFT_OK);
    assert_int_equal(lift_store_quota_get(f->s, f->a, NULL, NULL, &u, &err),
                     LIFT_OK);
    assert_int_equal(u.storage, 116);
    assert_int_equal(u.jobs, 0);
    /* a result over the room left: refused, the job still running, no
     * file kept */
    struct lift_quota q = keep_all();
    q.storage = 130;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    running_job(f, f->a, id2);
    write_tmp(f->s, "row,score\n1,0.5\n", tmp, sizeof tmp);
    assert_int_equal(
        lift_store_job_result_put(f->s, f->a, id2, tmp, "{}", &err),
        LIFT_ERR_QUOTA);
    assert_non_null(strstr(err.msg, "the result file of 16 bytes"));
    assert_false(exists(tmp));
    assert_int_equal(lift_store_job_state(f->s, f->a, id2, state_text, &err),
                     LIFT_OK);
    assert_string_equal(state_text, "running");
    assert_int_equal(count_files(f->dir, "blobs"), 2);
    assert_int_equal(lift_store_quota_get(f->s, f->a, NULL, NULL, &u, &err),
                     LIFT_OK);
    assert_int_equal(u.storage, 116);
}

/* Racing writers: QUOTA_RACERS threads on two store handles (two SQLite
 * connections, as two processes have) start together. */
#define QUOTA_RACERS 4

struct racer {
    struct lift_store *s;
    int64_t tenant;
    pthread_barrier_t *go;
    int index, round;
    size_t bytes;
    enum lift_code code;
    char msg[LIFT_ERROR_MSG_MAX];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct lift_error err;
    char name[32], tmp[4096];
    snprintf(name, sizeof name, "r%d-%d", r->round, r->index);
    int fd = -1;
    r->code = lift_store_tmp_create(r->s, &fd, tmp, sizeof tmp, &err);
    if (!r->code) {
        char *buf = malloc(r->bytes);
        memset(buf, 'x', r->bytes);
        (void)!write(fd, buf, r->bytes);
        free(buf);
        close(fd);
    }
    pthread_barrier_wait(r->go);
    if (!r->code)
        r->code = lift_store_dataset_put(r->s, r->tenant, name, tmp, NULL, NULL,
                                         1, &err);
    if (r->code)
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
    return NULL;
}

static int run_race(struct fixture *f, struct lift_store *second, int round,
                    size_t bytes)
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, QUOTA_RACERS);
    pthread_t th[QUOTA_RACERS];
    struct racer r[QUOTA_RACERS];
    for (int i = 0; i < QUOTA_RACERS; i++) {
        r[i] = (struct racer){
            i % 2 ? second : f->s, f->a, &go, i, round, bytes, LIFT_OK, ""};
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    int passed = 0;
    for (int i = 0; i < QUOTA_RACERS; i++) {
        pthread_join(th[i], NULL);
        if (r[i].code == LIFT_OK)
            passed++;
        else if (r[i].code != LIFT_ERR_QUOTA)
            fail_msg("racer %d: %s: %s", i, lift_code_name(r[i].code),
                     r[i].msg);
    }
    pthread_barrier_destroy(&go);
    return passed;
}

static void quota_race_threads_two_handles_never_pass_limit(void **state)
{
    struct fixture *f = *state;
    struct lift_error err;
    struct lift_store *second = NULL;
    assert_int_equal(lift_store_open(f->dir, &second, &err), LIFT_OK);
    struct lift_quota_usage u;
    /* storage: room for two of the four 1000-byte uploads, per round */
    for (int round = 0; round < 5; round++) {
        struct lift_quota q = keep_all();
        q.storage = 2000 * (round + 1) + 500;
        assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
        assert_int_equal(run_race(f, second, round, 1000), 2);
        assert_int_equal(lift_store_quota_get(f->s, f->a, NULL, NULL, &u, &err),
                         LIFT_OK);
        assert_int_equal(u.storage, 2000 * (round + 1));
    }
    /* the dataset count: one more allowed, four try */
    struct lift_quota q = keep_all();
    q.storage = LIFT_QUOTA_UNLIMITED;
    q.datasets = 11;
    assert_int_equal(lift_store_quota_set(f->s, f->a, &q, &err), LIFT_OK);
    assert_int_equal(run_race(f, second, 9, 10), 1);
    assert_int_equal(lift_store_quota_get(f->s, f->a, NULL, NULL, &u, &err),
                     LIFT_OK);
    assert_int_equal(u.datasets, 11);
    lift_store_close(second);
    assert_int_equal(count_files(f->dir, "blobs"), 11);
    assert_int_equal(count_files(f->dir, "tmp"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(open_new_dir_creates_layout_with_modes),
        T(open_twice_same_secret_keys_still_valid),
        T(open_secret_wrong_size_corrupt),
        T(open_registry_not_a_database_corrupt),
        T(open_newer_schema_unsupported),
        cmocka_unit_test(open_unmakeable_dir_io),
        cmocka_unit_test(name_ok_rules),
        T(bad_names_invalid),
        T(tenant_create_key_authenticates_to_tenant),
        T(tenant_create_duplicate_conflict),
        T(authenticate_bad_keys_unauthorized),
        cmocka_unit_test(keys_parse_one_text_per_key),
        T(key_revoked_unauthorized),
        T(key_revoked_by_other_process_within_a_second),
        T(authenticate_cached_key_does_not_wait_for_writes),
        T(operator_key_authenticates_as_operator),
        T(registry_holds_no_key_text),
        T(dataset_put_get_list_delete),
        T(dataset_put_bad_input_invalid),
        T(dataset_other_tenant_not_found),
        T(version_lifecycle_promote_rollback),
        T(version_delete_rules),
        T(version_import_promotes_first),
        T(job_create_update_get),
        T(job_other_tenant_not_found),
        T(jobs_list_filters_and_pages),
        T(job_result_put_get_check),
        T(open_schema_1_registry_migrates),
        T(reopen_after_crash_cleans_and_fails_jobs),
        T(version_complete_job_commits_job_with_version),
        T(version_complete_job_finished_job_conflict),
        T(second_open_leaves_live_work_alone),
        T(check_finds_missing_and_orphan_blobs),
        T(quota_set_get_override_defaults_effective),
        T(quota_usage_counts_bytes_and_objects),
        T(quota_datasets_and_storage_refused_nothing_kept),
        T(quota_models_versions_and_jobs),
        T(quota_job_results_counted_and_refused),
        T(quota_race_threads_two_handles_never_pass_limit),
        T(tenant_delete_removes_rows_and_files_only_its_own),
        T(tenant_delete_running_job_late_writes_refused),
        T(tenant_delete_ids_never_reused_audit_kept),
        T(tenant_delete_out_of_memory_deletes_nothing),
        T(tenant_delete_crash_before_unlink_cleaned_on_open),
        T(tenant_deletions_seen_by_another_connection),
        T(audit_written_and_listed_per_tenant),
        T(audit_page_before_cursor_pages_without_overlap),
        T(counts_per_tenant_and_all),
        T(job_counts_by_kind_and_state),
        T(allocation_failures_nomem_never_crash),
        T(threads_mixed_operations_consistent_counts),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
