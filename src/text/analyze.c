/*
 * text/analyze.c - the Unicode text analyser: validation, NFKC + case
 * folding, tokens by Unicode category, classes, stop words, stemming,
 * n-grams.
 *
 * Data flow per text value, all in the caller's scratch:
 *   bytes --utf8proc_iterate--> validated
 *         --utf8proc_decompose(COMPAT|CASEFOLD|STABLE)
 *           + utf8proc_normalize_utf32(COMPOSE|STABLE)--> code points
 *   This is utf8proc_map(COMPOSE|COMPAT|CASEFOLD|STABLE) without its
 *   malloc per call (utf8proc_map is exactly decompose + reencode).
 *   code points --scan--> tokens (kind, UTF-8 bytes, CJK run id) in the
 *   scratch's token list --filter--> stop words dropped, words stemmed
 *   --emit--> unigrams (CJK bigrams after their first character), word
 *   bigrams and trigrams (not inside one CJK run: the CJK bigrams cover
 *   those), character n-grams of words.
 *
 * Scanning is one left-to-right pass, O(code points); URL and e-mail
 * checks look ahead only from a token start. Stop words are a sorted
 * array searched by bsearch, O(log n) per token.
 */
#include "text/analyze.h"

#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/alloc.h"
#include "core/error.h"

#define MAX_CODEPOINTS ((size_t)1 << 24)

enum tok_kind {
    TOK_WORD = 0,
    TOK_NUM,
    TOK_URL,
    TOK_EMAIL,
    TOK_MONEY,
    TOK_SYMBOL, /* emoji and other symbols (category So) */
    TOK_CJK,    /* one CJK character */
    TOK_CJK2,   /* a CJK bigram: a unigram term, never part of n-grams */
};

struct token {
    uint32_t off, len; /* in the scratch's byte buffer */
    uint32_t run;      /* CJK run id, 0 when not CJK */
    uint8_t kind;
    uint8_t dropped;
};

struct lift_text_scratch {
    utf8proc_int32_t *cp;
    size_t cp_cap, n_cp;
    char *bytes;
    size_t n_bytes, bytes_cap;
    struct token *tok;
    size_t n_tok, tok_cap;
    struct sb_stemmer *stemmer;
    int stem_lang; /* language of stemmer; -1 none */
    char term[LIFT_TERM_MAX];
    /* character n-grams: the collapsed text's UTF-8 and where each code
     * point starts in it (one more for the end) */
    char *utf8;
    size_t utf8_cap;
    uint32_t *start;
    size_t start_cap;
};

struct lift_text_analyzer {
    struct lift_text_opts o;
    char **stop; /* sorted, normalised */
    size_t n_stop;
};

struct lift_text_tokenizer {
    struct lift_text_analyzer *a;
    struct lift_text_scratch *sc;
};

static const char *const lang_codes[LIFT_LANG_COUNT] = {"en", "zh", "de",
                                                        "fr", "es", "pt"};
/* libstemmer's algorithm names; NULL: no stemmer (Chinese) */
static const char *const stem_names[LIFT_LANG_COUNT] = {
    "english", NULL, "german", "french", "spanish", "portuguese"};

/* ---- options ------------------------------------------------------------ */

void lift_text_opts_init(struct lift_text_opts *o)
{
    memset(o, 0, sizeof *o);
    o->lang = LIFT_LANG_EN;
    o->stop = true;
    o->stem = false;
    o->classes = false;
    o->sublinear = true;
    o->ngrams = 2;
    o->char_min = 2;
    o->char_max = 4;
}

void lift_text_opts_release(struct lift_text_opts *o)
{
    for (size_t i = 0; i < o->n_extra; i++)
        lift_free(o->extra[i]);
    lift_free(o->extra);
    o->extra = NULL;
    o->n_extra = 0;
}

enum lift_code lift_text_opts_copy(struct lift_text_opts *dst,
                                   const struct lift_text_opts *src,
                                   struct lift_error *err)
{
    *dst = *src;
    dst->extra = NULL;
    dst->n_extra = 0;
    if (!src->n_extra)
        return LIFT_OK;
    dst->extra = lift_calloc(src->n_extra, sizeof *dst->extra);
    if (!dst->extra)
        return lift_error_nomem(err, "stop words");
    for (size_t i = 0; i < src->n_extra; i++) {
        if (!(dst->extra[i] = lift_strdup(src->extra[i]))) {
            dst->n_extra = i;
            lift_text_opts_release(dst);
            return lift_error_nomem(err, "stop words");
        }
    }
    dst->n_extra = src->n_extra;
    return LIFT_OK;
}

const char *lift_lang_code(enum lift_lang lang)
{
    return (unsigned)lang < LIFT_LANG_COUNT ? lang_codes[lang] : "?";
}

bool lift_lang_parse(const char *s, enum lift_lang *lang)
{
    for (int i = 0; i < LIFT_LANG_COUNT; i++)
        if (strcmp(s, lang_codes[i]) == 0) {
            *lang = (enum lift_lang)i;
            return true;
        }
    return false;
}

enum lift_code lift_text_opts_new(struct lift_text_opts **out,
                                  struct lift_error *err)
{
    *out = lift_malloc(sizeof **out);
    if (!*out)
        return lift_error_nomem(err, "text options");
    lift_text_opts_init(*out);
    return LIFT_OK;
}

void lift_text_opts_free(struct lift_text_opts *o)
{
    if (!o)
        return;
    lift_text_opts_release(o);
    lift_free(o);
}

static const char *const opt_keys[] = {
    "lang",   "stop-words",  "no-stop-words", "stem",
    "ngrams", "char-ngrams", "token-classes", "sublinear-tf"};

bool lift_text_opts_has_key(const char *key)
{
    for (size_t i = 0; i < sizeof opt_keys / sizeof opt_keys[0]; i++)
        if (strcmp(key, opt_keys[i]) == 0)
            return true;
    return false;
}

static enum lift_code bad_value(struct lift_error *err, const char *key,
                                const char *value, const char *want)
{
    return lift_error_set(err, LIFT_ERR_INVALID,
                          "bad value '%s' for %s: expected %s", value, key,
                          want);
}

static bool parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
        strcmp(v, "off") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* NFKC + case fold of one stop word into a new string (NULL on error). */
static char *normalise_word(const char *s, size_t len)
{
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
                     UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                         UTF8PROC_STABLE);
    if (n < 0)
        return NULL;
    char *r = lift_malloc((size_t)n + 1);
    if (r) {
        memcpy(r, dst, (size_t)n);
        r[n] = '\0';
    }
    free(dst);
    return r;
}

/* Adds the words of `value` (white space or commas between, '#' to the
 * end of a line is a comment) to o->extra. */
static enum lift_code add_stop_words(struct lift_text_opts *o,
                                     const char *value, struct lift_error *err)
{
    size_t n = o->n_extra, cap = n;
    char **list = o->extra;
    const char *p = value;
    while (*p) {
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ',') {
            p++;
            continue;
        }
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
               *p != ',' && *p != '#')
            p++;
        size_t len = (size_t)(p - w);
        if (n == LIFT_TEXT_MAX_EXTRA)
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "more than %d extra stop words",
                                  LIFT_TEXT_MAX_EXTRA);
        if (len > LIFT_TEXT_TOKEN_MAX)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "stop word longer than %d bytes: '%.20s...'",
                                  LIFT_TEXT_TOKEN_MAX, w);
        char *word = normalise_word(w, len);
        if (!word)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "stop word '%.*s' is not valid UTF-8",
                                  (int)(len > 20 ? 20 : len), w);
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **g = lift_realloc_array(list, nc, sizeof *g);
            if (!g) {
                lift_free(word);
                return lift_error_nomem(err, "stop words");
            }
            list = g;
            cap = nc;
            o->extra = list;
        }
        list[n++] = word;
        o->n_extra = n;
    }
    return LIFT_OK;
}

static enum lift_code get_small(const char *key, const char *v, unsigned lo,
                                unsigned hi, unsigned *out,
                                struct lift_error *err)
{
    if (v[0] < '0' || v[0] > '9' || v[1] != '\0' ||
        (unsigned)(v[0] - '0') < lo || (unsigned)(v[0] - '0') > hi) {
        char want[48];
        snprintf(want, sizeof want, "a whole number from %u to %u", lo, hi);
        return bad_value(err, key, v, want);
    }
    *out = (unsigned)(v[0] - '0');
    return LIFT_OK;
}

enum lift_code lift_text_opts_set(struct lift_text_opts *o, const char *key,
                                  const char *value, struct lift_error *err)
{
    if (!key || !value)
        return lift_error_set(err, LIFT_ERR_INVALID, "empty option");
    bool b;
#define IS(k) (strcmp(key, k) == 0)
    if (IS("lang")) {
        enum lift_lang l;
        if (!lift_lang_parse(value, &l))
            return bad_value(err, key, value, "en, zh, de, fr, es or pt");
        o->lang = l;
        return LIFT_OK;
    }
    if (IS("stop-words")) {
        struct lift_text_opts tmp;
        enum lift_code rc = lift_text_opts_copy(&tmp, o, err);
        if (rc)
            return rc;
        if ((rc = add_stop_words(&tmp, value, err))) {
            lift_text_opts_release(&tmp);
            return rc;
        }
        lift_text_opts_release(o);
        *o = tmp;
        return LIFT_OK;
    }
    if (IS("ngrams"))
        return get_small(key, value, 1, 3, &o->ngrams, err);
    if (IS("char-ngrams")) {
        unsigned lo, hi;
        const char *comma = strchr(value, ',');
        if (strcmp(value, "0") == 0) {
            o->char_min = o->char_max = 0;
            return LIFT_OK;
        }
        char a[4] = "", c[4] = "";
        size_t la = comma ? (size_t)(comma - value) : strlen(value);
        if (la >= sizeof a || (comma && strlen(comma + 1) >= sizeof c))
            return bad_value(err, key, value, "0, N or MIN,MAX from 1 to 6");
        memcpy(a, value, la);
        if (comma)
            strcpy(c, comma + 1);
        else
            memcpy(c, a, sizeof c);
        if (get_small(key, a, 1, 6, &lo, err) ||
            get_small(key, c, 1, 6, &hi, err) || lo > hi)
            return bad_value(err, key, value, "0, N or MIN,MAX from 1 to 6");
        o->char_min = lo;
        o->char_max = hi;
        return LIFT_OK;
    }
    if (IS("no-stop-words") || IS("stem") || IS("token-classes") ||
        IS("sublinear-tf")) {
        if (!parse_bool(value, &b))
            return bad_value(err, key, value, "true or false");
        if (IS("no-stop-words"))
            o->stop = !b;
        else if (IS("stem"))
            o->stem = b;
        else if (IS("token-classes"))
            o->classes = b;
        else
            o->sublinear = b;
        return LIFT_OK;
    }
#undef IS
    return lift_error_set(err, LIFT_ERR_INVALID, "unknown option '%s'", key);
}

/* Stored form: u8 lang, u8 flags (1 stop, 2 stem, 4 classes, 8 sublinear),
 * u8 ngrams, u8 char_min, u8 char_max, u64 n_extra, n_extra strings
 * (u32 length, bytes). */
void lift_text_opts_save(const struct lift_text_opts *o, struct lift_writer *w)
{
    lift_writer_u8(w, (uint8_t)o->lang);
    lift_writer_u8(w, (uint8_t)((o->stop ? 1 : 0) | (o->stem ? 2 : 0) |
                                (o->classes ? 4 : 0) | (o->sublinear ? 8 : 0)));
    lift_writer_u8(w, (uint8_t)o->ngrams);
    lift_writer_u8(w, (uint8_t)o->char_min);
    lift_writer_u8(w, (uint8_t)o->char_max);
    lift_writer_u64(w, o->n_extra);
    for (size_t i = 0; i < o->n_extra; i++)
        lift_writer_str(w, o->extra[i]);
}

bool lift_text_opts_load(struct lift_text_opts *o, struct lift_reader *r,
                         struct lift_error *err)
{
    lift_text_opts_init(o);
    uint8_t lang = lift_reader_u8(r, "text language");
    uint8_t flags = lift_reader_u8(r, "text flags");
    uint8_t ng = lift_reader_u8(r, "text n-grams");
    uint8_t cmin = lift_reader_u8(r, "text char n-grams");
    uint8_t cmax = lift_reader_u8(r, "text char n-grams");
    size_t n = lift_reader_count(r, 4, LIFT_TEXT_MAX_EXTRA, "stop words");
    if (!lift_reader_ok(r))
        return false;
    if (lang >= LIFT_LANG_COUNT || flags > 15 || ng < 1 || ng > 3 || cmin > 6 ||
        cmax > 6 || cmin > cmax || (cmin == 0) != (cmax == 0)) {
        lift_reader_fail(r, "bad text settings in the model file");
        return false;
    }
    o->lang = (enum lift_lang)lang;
    o->stop = flags & 1;
    o->stem = flags & 2;
    o->classes = flags & 4;
    o->sublinear = flags & 8;
    o->ngrams = ng;
    o->char_min = cmin;
    o->char_max = cmax;
    if (!n)
        return true;
    o->extra = lift_calloc(n, sizeof *o->extra);
    if (!o->extra) {
        lift_error_nomem(err, "model");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        o->extra[i] = lift_reader_str(r, LIFT_TEXT_TOKEN_MAX * 4, "stop word");
        if (!o->extra[i])
            return false;
        o->n_extra = i + 1;
    }
    return true;
}

/* ---- analyser ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void lift_text_analyzer_free(struct lift_text_analyzer *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_stop; i++)
        lift_free(a->stop[i]);
    lift_free(a->stop);
    lift_text_opts_release(&a->o);
    lift_free(a);
}

enum lift_code lift_text_analyzer_new(const struct lift_text_opts *o,
                                      struct lift_text_analyzer **out,
                                      struct lift_error *err)
{
    *out = NULL;
    struct lift_text_analyzer *a = lift_calloc(1, sizeof *a);
    if (!a)
        return lift_error_nomem(err, "text analyser");
    enum lift_code rc = lift_text_opts_copy(&a->o, o, err);
    if (rc) {
        lift_free(a);
        return rc;
    }
    if (o->stop) {
        size_t nb;
        const char *const *base = lift_stopwords(o->lang, &nb);
        a->stop = lift_calloc(nb + o->n_extra + 1, sizeof *a->stop);
        if (!a->stop) {
            lift_text_analyzer_free(a);
            return lift_error_nomem(err, "stop words");
        }
        for (size_t i = 0; i < nb + o->n_extra; i++) {
            const char *w = i < nb ? base[i] : o->extra[i - nb];
            /* built-in lists are written by hand: normalise them as text
             * is normalised (e.g. German sharp s folds to "ss") */
            char *s = normalise_word(w, strlen(w));
            if (!s) {
                lift_text_analyzer_free(a);
                return lift_error_nomem(err, "stop words");
            }
            a->stop[a->n_stop++] = s;
        }
        qsort(a->stop, a->n_stop, sizeof *a->stop, cmp_str);
    }
    *out = a;
    return LIFT_OK;
}

const struct lift_text_opts *
lift_text_analyzer_opts(const struct lift_text_analyzer *a)
{
    return &a->o;
}

enum lift_code lift_text_scratch_new(struct lift_text_scratch **out,
                                     struct lift_error *err)
{
    *out = lift_calloc(1, sizeof **out);
    if (!*out)
        return lift_error_nomem(err, "text scratch");
    (*out)->stem_lang = -1;
    return LIFT_OK;
}

void lift_text_scratch_free(struct lift_text_scratch *s)
{
    if (!s)
        return;
    lift_free(s->cp);
    lift_free(s->bytes);
    lift_free(s->tok);
    lift_free(s->utf8);
    lift_free(s->start);
    if (s->stemmer)
        sb_stemmer_delete(s->stemmer);
    lift_free(s);
}

static bool is_stop(const struct lift_text_analyzer *a, const char *s,
                    size_t len)
{
    size_t lo = 0, hi = a->n_stop;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *w = a->stop[mid];
        int c = strncmp(w, s, len);
        if (c == 0)
            c = w[len] == '\0' ? 0 : 1;
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* ---- character classes -------------------------------------------------- */

static bool is_cjk(utf8proc_int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2FA1F) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x3040 && c <= 0x30FF) || c == 0x3005 || c == 0x3007;
}

/* ASCII answers without a table lookup: its only decimal digits are
 * 0-9, its only letters a-z and A-Z, its only currency sign '$', and it
 * has no other symbol (So) (tests/unit/test_text.c checks these against
 * utf8proc_category). */
static bool is_digit(utf8proc_int32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_ND;
}

/* Letters, marks and numbers that form words (CJK excluded). */
static bool is_word(utf8proc_int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               (c >= 'A' && c <= 'Z');
    if (is_cjk(c))
        return false;
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_NO);
}

static bool is_letter(utf8proc_int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    utf8proc_category_t k = utf8proc_category(c);
    return is_word(c) && k <= UTF8PROC_CATEGORY_ME;
}

static bool is_currency(utf8proc_int32_t c)
{
    if (c < 0x80)
        return c == '$';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_SC;
}

static bool is_symbol(utf8proc_int32_t c)
{
    if (c < 0x80)
        return false;
    return utf8proc_category(c) == UTF8PROC_CATEGORY_SO;
}

/* Code points that join an emoji sequence to its base. */
static bool is_emoji_modifier(utf8proc_int32_t c)
{
    return c == 0xFE0F || c == 0xFE0E || c == 0x20E3 ||
           (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0020 && c <= 0xE007F);
}

static bool is_regional(utf8proc_int32_t c)
{
    return c >= 0x1F1E6 && c <= 0x1F1FF;
}

static bool is_url_char(utf8proc_int32_t c)
{
    if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == '`' || c == '{' ||
        c == '}' || c == '|' || c == '\\' || c == '^')
        return false;
    return !is_cjk(c) && c != 0x3002 && c != 0xFF0C;
}

static bool is_email_local(utf8proc_int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '%' || c == '+' || c == '-';
}

static bool is_domain_char(utf8proc_int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* ---- scanning ----------------------------------------------------------- */

static bool starts_with(const utf8proc_int32_t *cp, size_t n, size_t i,
                        const char *lit)
{
    for (size_t k = 0; lit[k]; k++)
        if (i + k >= n || cp[i + k] != (utf8proc_int32_t)lit[k])
            return false;
    return true;
}

/* End of a URL starting at i ("http://", "https://" or "www."), or i. */
static size_t url_end(const utf8proc_int32_t *cp, size_t n, size_t i)
{
    size_t j;
    if (starts_with(cp, n, i, "https://"))
        j = i + 8;
    else if (starts_with(cp, n, i, "http://"))
        j = i + 7;
    else if (starts_with(cp, n, i, "www.") && i + 4 < n &&
             is_domain_char(cp[i + 4]))
        j = i + 4;
    else
        return i;
    while (j < n && is_url_char(cp[j]))
        j++;
    /* trailing punctuation belongs to the sentence */
    while (j > i && (cp[j - 1] == '.' || cp[j - 1] == ',' || cp[j - 1] == ';' ||
                     cp[j - 1] == ':' || cp[j - 1] == '!' || cp[j - 1] == '?' ||
                     cp[j - 1] == ')' || cp[j - 1] == ']' ||
                     cp[j - 1] == '\'' || cp[j - 1] == '}'))
        j--;
    if (j <= i + 8 && !starts_with(cp, n, i, "www."))
        return i; /* a bare "http://" */
    return j;
}

/* End of an e-mail address starting at i, or i: local@label(.label)+ with
 * ASCII labels and an alphanumeric end. */
static size_t email_end(const utf8proc_int32_t *cp, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && is_email_local(cp[j]))
        j++;
    if (j == i || j >= n || cp[j] != '@' || cp[j - 1] == '.')
        return i;
    size_t at = j++;
    size_t dots = 0, end = at;
    while (j < n) {
        size_t s = j;
        while (j < n && is_domain_char(cp[j]))
            j++;
        if (j == s)
            break;
        end = j;
        if (j + 1 < n && cp[j] == '.' && is_domain_char(cp[j + 1])) {
            dots++;
            j++;
            continue;
        }
        break;
    }
    return dots ? end : i;
}

/* End of a number (digits, with '.' or ',' between digits) at i. */
static size_t number_end(const utf8proc_int32_t *cp, size_t n, size_t i)
{
    size_t j = i;
    while (j < n) {
        if (is_digit(cp[j]))
            j++;
        else if ((cp[j] == '.' || cp[j] == ',') && j > i && j + 1 < n &&
                 is_digit(cp[j + 1]))
            j++;
        else
            break;
    }
    return j;
}

static enum lift_code grow(void **p, size_t *cap, size_t need, size_t elem,
                           struct lift_error *err)
{
    if (need <= *cap)
        return LIFT_OK;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    void *g = lift_realloc_array(*p, nc, elem);
    if (!g)
        return lift_error_nomem(err, "text scratch");
    *p = g;
    *cap = nc;
    return LIFT_OK;
}

/* UTF-8 of code point c (a Unicode scalar value, as normalisation
 * leaves) into out; returns its length. What utf8proc_encode_char
 * writes, without a call into the library per code point. */
static size_t encode(utf8proc_int32_t c, char *out)
{
    uint32_t u = (uint32_t)c;
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        out[0] = (char)(0xE0 | (u >> 12));
        out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        out[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (u >> 18));
    out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

/* Appends code points cp[i..j) as one token (cut at the token cap). */
static enum lift_code push(struct lift_text_scratch *sc,
                           const utf8proc_int32_t *cp, size_t i, size_t j,
                           enum tok_kind kind, uint32_t run,
                           struct lift_error *err)
{
    enum lift_code rc;
    if ((rc = grow((void **)&sc->tok, &sc->tok_cap, sc->n_tok + 1,
                   sizeof *sc->tok, err)) ||
        (rc = grow((void **)&sc->bytes, &sc->bytes_cap,
                   sc->n_bytes + LIFT_TEXT_TOKEN_MAX + 4, 1, err)))
        return rc;
    size_t start = sc->n_bytes, len = 0;
    for (size_t k = i; k < j; k++) {
        utf8proc_int32_t c = cp[k];
        if (c == 0xFE0F || c == 0xFE0E)
            continue; /* presentation selectors: same emoji */
        if (c == 0x2019)
            c = '\'';
        char enc[4];
        size_t m = encode(c, enc);
        if (len + m > LIFT_TEXT_TOKEN_MAX)
            break;
        memcpy(sc->bytes + start + len, enc, m);
        len += m;
    }
    if (!len)
        return LIFT_OK;
    sc->n_bytes += len;
    struct token *t = &sc->tok[sc->n_tok++];
    t->off = (uint32_t)start;
    t->len = (uint32_t)len;
    t->run = run;
    t->kind = (uint8_t)kind;
    t->dropped = 0;
    return LIFT_OK;
}

/* Splits cp[0..n) into the scratch's token list. */
static enum lift_code scan(struct lift_text_scratch *sc,
                           const utf8proc_int32_t *cp, size_t n,
                           struct lift_error *err)
{
    enum lift_code rc = LIFT_OK;
    uint32_t run = 0;
    size_t i = 0;
    while (i < n && !rc) {
        utf8proc_int32_t c = cp[i];
        bool start = i == 0 || !is_word(cp[i - 1]);
        size_t j;
        if (start && (c == 'h' || c == 'w') && (j = url_end(cp, n, i)) > i) {
            rc = push(sc, cp, i, j, TOK_URL, 0, err);
            i = j;
            continue;
        }
        if (start && is_email_local(c) && c != '.' &&
            (j = email_end(cp, n, i)) > i) {
            rc = push(sc, cp, i, j, TOK_EMAIL, 0, err);
            i = j;
            continue;
        }
        if (is_currency(c)) {
            j = i + 1;
            if (j < n && is_digit(cp[j])) {
                size_t e = number_end(cp, n, j);
                if (e >= n || !is_word(cp[e])) {
                    rc = push(sc, cp, i, e, TOK_MONEY, 0, err);
                    i = e;
                    continue;
                }
            }
            rc = push(sc, cp, i, j, TOK_SYMBOL, 0, err);
            i = j;
            continue;
        }
        if (is_cjk(c)) {
            run++;
            j = i;
            while (j < n && is_cjk(cp[j]))
                j++;
            for (size_t k = i; k < j && !rc; k++) {
                rc = push(sc, cp, k, k + 1, TOK_CJK, run, err);
                if (!rc && k + 1 < j)
                    rc = push(sc, cp, k, k + 2, TOK_CJK2, run, err);
            }
            i = j;
            continue;
        }
        if (is_word(c)) {
            bool letters = false;
            j = i;
            while (j < n) {
                if (is_digit(cp[j])) {
                    size_t e = number_end(cp, n, j);
                    j = e;
                    continue;
                }
                if (is_word(cp[j])) {
                    letters = letters || is_letter(cp[j]);
                    j++;
                    continue;
                }
                if ((cp[j] == '\'' || cp[j] == 0x2019) && j + 1 < n &&
                    is_letter(cp[j - 1]) && is_letter(cp[j + 1])) {
                    j++;
                    continue;
                }
                break;
            }
            if (!letters && j < n && is_currency(cp[j])) {
                rc = push(sc, cp, i, j + 1, TOK_MONEY, 0, err);
                i = j + 1;
                continue;
            }
            rc = push(sc, cp, i, j, letters ? TOK_WORD : TOK_NUM, 0, err);
            i = j;
            continue;
        }
        if (is_symbol(c) || is_regional(c)) {
            j = i + 1;
            if (is_regional(c) && j < n && is_regional(cp[j]))
                j++;
            for (;;) {
                while (j < n && is_emoji_modifier(cp[j]))
                    j++;
                if (j + 1 < n && cp[j] == 0x200D && is_symbol(cp[j + 1])) {
                    j += 2;
                    continue;
                }
                break;
            }
            rc = push(sc, cp, i, j, TOK_SYMBOL, 0, err);
            i = j;
            continue;
        }
        i++;
    }
    return rc;
}

/* ---- analysis ----------------------------------------------------------- */

/* Validates s and leaves its NFKC case-folded code points in sc->cp;
 * returns their count through *n. */
static enum lift_code normalise(struct lift_text_scratch *sc, const char *s,
                                size_t len, size_t *n, struct lift_error *err)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    size_t count = 0, ascii = 0;
    *n = 0;
    while (ascii < len && u[ascii] < 0x80)
        ascii++;
    if (ascii == len) {
        /* ASCII is valid UTF-8, NFKC leaves it as it is and case folding
         * maps A-Z to a-z and nothing else (tests/unit/test_text.c checks
         * this against utf8proc_map) */
        if (len + 16 > MAX_CODEPOINTS)
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "text longer than %zu code points after "
                                  "normalisation",
                                  MAX_CODEPOINTS);
        enum lift_code rc = grow((void **)&sc->cp, &sc->cp_cap, len ? len : 1,
                                 sizeof *sc->cp, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < len; i++)
            sc->cp[i] = u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i];
        *n = len;
        return LIFT_OK;
    }
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t m =
            utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &c);
        if (m < 0)
            return lift_error_set(err, LIFT_ERR_PARSE,
                                  "invalid UTF-8 at byte %zu", i);
        i += (size_t)m;
        count++;
    }
    *n = 0;
    if (!len)
        return LIFT_OK;
    /* decompose needs COMPOSE (or DECOMPOSE) to decompose at all */
    const utf8proc_option_t dopt = UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                   UTF8PROC_CASEFOLD | UTF8PROC_STABLE;
    size_t want = count + 16;
    for (;;) {
        if (want > MAX_CODEPOINTS)
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "text longer than %zu code points after "
                                  "normalisation",
                                  MAX_CODEPOINTS);
        enum lift_code rc =
            grow((void **)&sc->cp, &sc->cp_cap, want, sizeof *sc->cp, err);
        if (rc)
            return rc;
        utf8proc_ssize_t got =
            utf8proc_decompose(u, (utf8proc_ssize_t)len, sc->cp,
                               (utf8proc_ssize_t)sc->cp_cap, dopt);
        if (got < 0)
            return lift_error_set(err, LIFT_ERR_PARSE, "cannot normalise: %s",
                                  utf8proc_errmsg(got));
        if ((size_t)got <= sc->cp_cap) {
            got = utf8proc_normalize_utf32(sc->cp, got,
                                           UTF8PROC_COMPOSE | UTF8PROC_STABLE);
            if (got < 0)
                return lift_error_set(err, LIFT_ERR_PARSE,
                                      "cannot normalise: %s",
                                      utf8proc_errmsg(got));
            *n = (size_t)got;
            return LIFT_OK;
        }
        want = (size_t)got;
    }
}

static const char *tok_text(const struct lift_text_scratch *sc,
                            const struct token *t)
{
    return sc->bytes + t->off;
}

/* Drops stop words, applies classes and stems words (rewriting the
 * token's bytes at the end of the byte buffer). */
static enum lift_code filter(const struct lift_text_analyzer *a,
                             struct lift_text_scratch *sc,
                             struct lift_error *err)
{
    const struct lift_text_opts *o = &a->o;
    static const char *const class_names[] = {[TOK_NUM] = "<num>",
                                              [TOK_URL] = "<url>",
                                              [TOK_EMAIL] = "<email>",
                                              [TOK_MONEY] = "<money>"};
    if (o->stem && stem_names[o->lang] && sc->stem_lang != (int)o->lang) {
        if (sc->stemmer)
            sb_stemmer_delete(sc->stemmer);
        sc->stemmer = sb_stemmer_new(stem_names[o->lang], "UTF_8");
        sc->stem_lang = sc->stemmer ? (int)o->lang : -1;
        if (!sc->stemmer)
            return lift_error_nomem(err, "stemmer");
    }
    for (size_t i = 0; i < sc->n_tok; i++) {
        struct token *t = &sc->tok[i];
        if (o->stop &&
            (t->kind == TOK_WORD || t->kind == TOK_CJK ||
             t->kind == TOK_CJK2) &&
            is_stop(a, tok_text(sc, t), t->len)) {
            t->dropped = 1;
            continue;
        }
        if (o->classes && t->kind >= TOK_NUM && t->kind <= TOK_MONEY) {
            const char *cn = class_names[t->kind];
            enum lift_code rc = grow((void **)&sc->bytes, &sc->bytes_cap,
                                     sc->n_bytes + 8, 1, err);
            if (rc)
                return rc;
            size_t l = strlen(cn);
            memcpy(sc->bytes + sc->n_bytes, cn, l);
            t->off = (uint32_t)sc->n_bytes;
            t->len = (uint32_t)l;
            sc->n_bytes += l;
            continue;
        }
        if (o->stem && t->kind == TOK_WORD && sc->stemmer) {
            const sb_symbol *st = sb_stemmer_stem(
                sc->stemmer, (const sb_symbol *)tok_text(sc, t), (int)t->len);
            if (!st)
                return lift_error_nomem(err, "stemmer");
            int sl = sb_stemmer_length(sc->stemmer);
            if (sl <= 0 || sl > LIFT_TEXT_TOKEN_MAX)
                continue;
            enum lift_code rc = grow((void **)&sc->bytes, &sc->bytes_cap,
                                     sc->n_bytes + (size_t)sl, 1, err);
            if (rc)
                return rc;
            memcpy(sc->bytes + sc->n_bytes, st, (size_t)sl);
            t->off = (uint32_t)sc->n_bytes;
            t->len = (uint32_t)sl;
            sc->n_bytes += (size_t)sl;
        }
    }
    return LIFT_OK;
}

/* memcpy of a few bytes without a call: two overlapping loads and
 * stores for 4 to 16 bytes (terms are mostly that short). */
static void copy_short(char *dst, const char *src, size_t len)
{
    if (len >= 8 && len <= 16) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + len - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + len - 8, &b, 8);
    } else if (len >= 4 && len < 8) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + len - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + len - 4, &b, 4);
    } else {
        for (size_t i = 0; i < len; i++)
            dst[i] = src[i];
    }
}

/* Character n-grams of the whole normalised text (white space runs read
 * as one space, so grams span word edges and punctuation, which carries
 * signal in short messages: "£1", "!!", ".co"), each passed as "[gram]".
 * Rewrites sc->cp in place: scanning is done with it. The collapsed text
 * is encoded once, so a gram is a copy of its bytes; sc->utf8 and
 * sc->start have room for sc->n_cp code points (lift_text_analyze). */
static int char_grams(const struct lift_text_opts *o,
                      struct lift_text_scratch *sc, lift_text_term_fn fn,
                      void *user)
{
    utf8proc_int32_t *cp = sc->cp;
    size_t m = 0;
    bool space = true;
    for (size_t i = 0; i < sc->n_cp; i++) {
        utf8proc_int32_t c = cp[i];
        bool ws = c <= ' ' ||
                  (c >= 0x80 && (utf8proc_category(c) == UTF8PROC_CATEGORY_ZS ||
                                 c == 0x85 || c == 0x2028 || c == 0x2029));
        if (!ws)
            cp[m++] = c;
        else if (!space)
            cp[m++] = ' ';
        space = ws;
    }
    if (m && cp[m - 1] == ' ')
        m--;
    const uint32_t *at = sc->start;
    uint32_t pos = 0;
    for (size_t k = 0; k < m; k++) {
        sc->start[k] = pos;
        pos += (uint32_t)encode(cp[k], sc->utf8 + pos);
    }
    sc->start[m] = pos;
    for (unsigned g = o->char_min; g <= o->char_max; g++)
        for (size_t k = 0; k + g <= m; k++) {
            if (g == 1 && cp[k] == ' ')
                continue;
            size_t bl = at[k + g] - at[k];
            sc->term[0] = '[';
            if (bl <= 16)
                copy_short(sc->term + 1, sc->utf8 + at[k], bl);
            else
                memcpy(sc->term + 1, sc->utf8 + at[k], bl);
            sc->term[bl + 1] = ']';
            if (fn(user, sc->term, bl + 2))
                return 1;
        }
    return 0;
}

static int emit(const struct lift_text_analyzer *a,
                struct lift_text_scratch *sc, lift_text_term_fn fn, void *user)
{
    const struct lift_text_opts *o = &a->o;
    for (size_t i = 0; i < sc->n_tok; i++) {
        const struct token *t = &sc->tok[i];
        if (!t->dropped && fn(user, tok_text(sc, t), t->len))
            return 1;
    }
    /* word n-grams over the kept tokens, CJK bigrams excluded */
    for (unsigned g = 2; g <= o->ngrams; g++) {
        size_t idx[3], have = 0;
        for (size_t i = 0; i < sc->n_tok; i++) {
            const struct token *t = &sc->tok[i];
            if (t->dropped || t->kind == TOK_CJK2)
                continue;
            if (have == g) {
                memmove(idx, idx + 1, (g - 1) * sizeof *idx);
                have--;
            }
            idx[have++] = i;
            if (have < g)
                continue;
            bool inside_run = false;
            for (size_t k = 1; k < g; k++) {
                const struct token *p = &sc->tok[idx[k - 1]],
                                   *q = &sc->tok[idx[k]];
                inside_run = inside_run || (p->run && p->run == q->run);
            }
            if (inside_run)
                continue;
            size_t tl = 0;
            for (size_t k = 0; k < g; k++) {
                const struct token *p = &sc->tok[idx[k]];
                if (k)
                    sc->term[tl++] = ' ';
                memcpy(sc->term + tl, tok_text(sc, p), p->len);
                tl += p->len;
            }
            if (fn(user, sc->term, tl))
                return 1;
        }
    }
    if (o->char_max && char_grams(o, sc, fn, user))
        return 1;
    return 0;
}

enum lift_code lift_text_analyze(const struct lift_text_analyzer *a,
                                 struct lift_text_scratch *sc, const char *s,
                                 size_t len, lift_text_term_fn fn, void *user,
                                 struct lift_error *err)
{
    size_t n;
    enum lift_code rc = normalise(sc, s, len, &n, err);
    if (rc)
        return rc;
    sc->n_tok = 0;
    sc->n_bytes = 0;
    sc->n_cp = n;
    if ((rc = scan(sc, sc->cp, n, err)) || (rc = filter(a, sc, err)))
        return rc;
    if (a->o.char_max &&
        ((rc = grow((void **)&sc->utf8, &sc->utf8_cap, 4 * n + 1, 1, err)) ||
         (rc = grow((void **)&sc->start, &sc->start_cap, n + 1,
                    sizeof *sc->start, err))))
        return rc;
    emit(a, sc, fn, user);
    return LIFT_OK;
}

/* ---- the public single-threaded tokenizer ------------------------------- */

enum lift_code lift_text_tokenizer_new(const struct lift_text_opts *o,
                                       struct lift_text_tokenizer **out,
                                       struct lift_error *err)
{
    *out = NULL;
    struct lift_text_tokenizer *t = lift_calloc(1, sizeof *t);
    if (!t)
        return lift_error_nomem(err, "tokenizer");
    enum lift_code rc = lift_text_analyzer_new(o, &t->a, err);
    if (!rc)
        rc = lift_text_scratch_new(&t->sc, err);
    if (rc) {
        lift_text_tokenizer_free(t);
        return rc;
    }
    *out = t;
    return LIFT_OK;
}

void lift_text_tokenizer_free(struct lift_text_tokenizer *t)
{
    if (!t)
        return;
    lift_text_analyzer_free(t->a);
    lift_text_scratch_free(t->sc);
    lift_free(t);
}

enum lift_code lift_text_tokenize(struct lift_text_tokenizer *t, const char *s,
                                  size_t len, lift_text_term_fn fn, void *user,
                                  struct lift_error *err)
{
    return lift_text_analyze(t->a, t->sc, s, len, fn, user, err);
}
