/*
 * tests/fuzz/fuzz_key.c - libFuzzer target for the two inputs of the
 * data dir that come straight from a client: the API key of an
 * Authorization header and object names in URLs.
 *
 * The input, as bytes, is presented as a key to lift_store_authenticate
 * (it must fail with UNAUTHORIZED unless it is the one valid key) and, cut
 * at its first NUL, checked by lift_store_name_ok against the rule
 * written out by hand. An input starting with '=' is taken as the valid
 * key with the rest of the input written over its start, so the fuzzer
 * works near a key that exists instead of wasting runs on the prefix.
 *
 * One store serves the whole run: opened on the first input in a
 * mkdtemp folder under /tmp, with one tenant, and removed at exit (a
 * fuzzer killed by a signal leaves it).
 *
 * Corpus (tests/fuzz/corpus/key/): "=" (the valid key), "=A" and "=lift-"
 * (one and five bytes changed), a key of the right shape never issued, a
 * key in standard base64, one a byte short, one with a NUL, names.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lift/store.h>

#include "fuzz.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

struct fixture {
    struct lift_store *s;
    int64_t tenant;
    char key[LIFT_KEY_LEN + 1];
    char base[32];
};

/* test harness state, not the library's */
static struct fixture the_fixture;

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_fixture(void)
{
    lift_store_close(the_fixture.s);
    the_fixture.s = NULL;
    nftw(the_fixture.base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct fixture *fixture(void)
{
    struct fixture *f = &the_fixture;
    if (f->s)
        return f;
    strcpy(f->base, "/tmp/lift-fuzz-key-XXXXXX");
    CHECK(mkdtemp(f->base) != NULL);
    struct lift_error err;
    CHECK(lift_store_open(f->base, &f->s, &err) == LIFT_OK);
    atexit(remove_fixture);
    CHECK(lift_store_tenant_create(f->s, "fuzz", &f->tenant, f->key, &err) ==
          LIFT_OK);
    return f;
}

static bool name_rule(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > LIFT_NAME_MAX || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789._-",
                    s[i]))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fixture *f = fixture();
    char *text = malloc(size + LIFT_KEY_LEN + 1);
    CHECK(text != NULL);
    size_t len = size;
    if (size > 0 && data[0] == '=') {
        memcpy(text, f->key, LIFT_KEY_LEN);
        size_t over = size - 1 < LIFT_KEY_LEN ? size - 1 : LIFT_KEY_LEN;
        memcpy(text, data + 1, over);
        len = LIFT_KEY_LEN;
    } else if (size > 0) {
        memcpy(text, data, size);
    }
    text[len] = '\0';

    struct lift_principal who;
    struct lift_error err;
    enum lift_code code = lift_store_authenticate(f->s, text, len, &who, &err);
    bool valid = len == LIFT_KEY_LEN && memcmp(text, f->key, len) == 0;
    if (valid)
        CHECK(code == LIFT_OK && who.tenant_id == f->tenant);
    else
        CHECK(code == LIFT_ERR_UNAUTHORIZED);

    CHECK(lift_store_name_ok(text) == name_rule(text));
    free(text);
    return 0;
}
