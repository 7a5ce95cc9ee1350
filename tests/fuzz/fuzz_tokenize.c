/*
 * tests/fuzz/fuzz_tokenize.c - libFuzzer target for the text analyser.
 *
 * The first input byte picks the settings, the rest is the text:
 *   bits 0-2  language (mod 6)     bit 3  stop words
 *   bit 4     stemming             bit 5  token classes
 *   bit 6     word n-grams 1 or 3  bit 7  character n-grams 1..4
 * Checks: the call returns LIFT_OK, or LIFT_ERR_PARSE exactly when the
 * text is not valid UTF-8 (checked independently here); every term is
 * non-empty, at most LIFT_TERM_MAX bytes, valid UTF-8 without NUL bytes
 * unless the text had them; a second call with the same scratch gives the
 * same terms (no state leaks between values). A broken invariant traps.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "text/analyze.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF),
 * written independently of utf8proc. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

struct record {
    uint64_t hash;
    size_t n;
    bool has_nul;
};

static int on_term(void *user, const char *tok, size_t len)
{
    struct record *r = user;
    CHECK(len > 0 && len <= LIFT_TERM_MAX);
    CHECK(valid_utf8((const uint8_t *)tok, len));
    CHECK(r->has_nul || memchr(tok, 0, len) == NULL);
    for (size_t i = 0; i < len; i++)
        r->hash = (r->hash ^ (uint8_t)tok[i]) * 0x100000001b3ull;
    r->hash = (r->hash ^ 0xff) * 0x100000001b3ull;
    r->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t b = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct lift_text_opts o;
    lift_text_opts_init(&o);
    o.lang = (enum lift_lang)((b & 7u) % LIFT_LANG_COUNT);
    o.stop = (b & 8u) != 0;
    o.stem = (b & 16u) != 0;
    o.classes = (b & 32u) != 0;
    o.ngrams = (b & 64u) ? 3 : 1;
    o.char_min = (b & 128u) ? 1 : 0;
    o.char_max = (b & 128u) ? 4 : 0;
    struct lift_text_analyzer *a = NULL;
    struct lift_text_scratch *sc = NULL;
    struct lift_error err;
    if (lift_text_analyzer_new(&o, &a, &err) ||
        lift_text_scratch_new(&sc, &err))
        goto done;
    bool valid = valid_utf8((const uint8_t *)text, len);
    struct record r1 = {0xcbf29ce484222325ull, 0, memchr(text, 0, len) != 0};
    struct record r2 = r1;
    enum lift_code rc = lift_text_analyze(a, sc, text, len, on_term, &r1, &err);
    if (rc == LIFT_ERR_NOMEM || rc == LIFT_ERR_LIMIT)
        goto done;
    CHECK(valid ? rc == LIFT_OK : rc == LIFT_ERR_PARSE);
    if (rc == LIFT_OK) {
        rc = lift_text_analyze(a, sc, text, len, on_term, &r2, &err);
        CHECK(rc == LIFT_OK && r1.n == r2.n && r1.hash == r2.hash);
    }
done:
    lift_text_scratch_free(sc);
    lift_text_analyzer_free(a);
    return 0;
}
