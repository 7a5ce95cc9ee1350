/*
 * text/keywords.c - the terms that characterise a text column: top tf-idf
 * terms, or the terms that most raise and lower the odds of an outcome.
 *
 * One pass tokenises every row into a term table (open addressing on
 * xxh3 keys) counting document frequency df and, with a target, the
 * positive documents' df. Without a target a second pass weighs each
 * row's terms by tf x idf (idf = ln((1 + N) / (1 + df)) + 1, tf sublinear
 * when the options say so), L2-normalises the row and sums the weights
 * per term, so a term scores high when it is frequent and specific.
 * With a target the score is the log-odds ratio smoothed by an
 * informative Dirichlet prior (Monroe, Colaresi and Quinn, "Fightin'
 * Words", 2008), over documents: a term in a of P positive and b of N
 * negative documents, df = a + b of D, gets prior counts
 * alpha = alpha0 * df / D with alpha0 = D / 5, and
 *   delta = ln((a + alpha) / (P + alpha0 - a - alpha))
 *         - ln((b + alpha) / (N + alpha0 - b - alpha)),
 *   z = delta / sqrt(1 / (a + alpha) + 1 / (b + alpha)).
 * Terms are ranked by z: a word in 170 of 747 spam texts outranks one in
 * 9 of them that happens never to occur in ham, yet a frequent word
 * found in both classes does not float up on its count alone. (On the
 * SMS file: call, free, txt, mobile, claim, stop, now, text, reply,
 * prize, won, cash.) Character n-grams are left out: keywords are read
 * by people. O(total terms).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hash.h"
#include "text/analyze.h"

#define MAX_TERMS ((size_t)1 << 26)

struct terms {
    size_t n, cap;
    char **s;
    uint32_t *len, *df, *pos, *last;
    double *score;
    uint64_t *hash;
    uint32_t *slots;
    size_t mask;
};

static void terms_release(struct terms *t)
{
    for (size_t i = 0; i < t->n; i++)
        lift_free(t->s[i]);
    lift_free(t->s);
    lift_free(t->len);
    lift_free(t->df);
    lift_free(t->pos);
    lift_free(t->last);
    lift_free(t->score);
    lift_free(t->hash);
    lift_free(t->slots);
}

static bool terms_grow(struct terms *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
#define G(f)                                                                   \
    do {                                                                       \
        void *p = lift_realloc_array(t->f, cap, sizeof *t->f);                 \
        if (!p)                                                                \
            return false;                                                      \
        t->f = p;                                                              \
    } while (0)
    G(s);
    G(len);
    G(df);
    G(pos);
    G(last);
    G(score);
    G(hash);
#undef G
    lift_free(t->slots);
    t->slots = lift_calloc(cap * 2, sizeof *t->slots);
    if (!t->slots)
        return false;
    t->mask = cap * 2 - 1;
    for (size_t e = 0; e < t->n; e++) {
        size_t i = (size_t)t->hash[e] & t->mask;
        while (t->slots[i])
            i = (i + 1) & t->mask;
        t->slots[i] = (uint32_t)(e + 1);
    }
    t->cap = cap;
    return true;
}

/* Entry of term s, added when new; -1 when out of memory or full. */
static long terms_get(struct terms *t, const char *s, size_t len, bool add)
{
    uint64_t h = lift_hash(s, len, 0);
    if (t->slots)
        for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
            uint32_t e = t->slots[i];
            if (!e)
                break;
            e--;
            if (t->hash[e] == h && t->len[e] == len &&
                memcmp(t->s[e], s, len) == 0)
                return (long)e;
        }
    if (!add || t->n >= MAX_TERMS)
        return -1;
    if (t->n == t->cap && !terms_grow(t))
        return -1;
    size_t e = t->n;
    if (!(t->s[e] = lift_malloc(len + 1)))
        return -1;
    memcpy(t->s[e], s, len);
    t->s[e][len] = '\0';
    t->len[e] = (uint32_t)len;
    t->hash[e] = h;
    t->df[e] = t->pos[e] = t->last[e] = 0;
    t->score[e] = 0;
    size_t i = (size_t)h & t->mask;
    while (t->slots[i])
        i = (i + 1) & t->mask;
    t->slots[i] = (uint32_t)(e + 1);
    t->n++;
    return (long)e;
}

struct kw_ctx {
    struct terms *t;
    uint32_t doc; /* 1-based */
    bool positive, count_pass;
    uint32_t *row; /* entries of this row (second pass) */
    size_t n_row, cap_row;
    bool failed;
};

static int on_term(void *user, const char *tok, size_t len)
{
    struct kw_ctx *c = user;
    long e = terms_get(c->t, tok, len, c->count_pass);
    if (e < 0) {
        c->failed = c->count_pass;
        return c->failed;
    }
    if (c->count_pass) {
        if (c->t->last[e] != c->doc) {
            c->t->last[e] = c->doc;
            c->t->df[e]++;
            c->t->pos[e] += c->positive;
        }
        return 0;
    }
    if (c->n_row == c->cap_row) {
        size_t cap = c->cap_row ? c->cap_row * 2 : 256;
        uint32_t *g = lift_realloc_array(c->row, cap, sizeof *g);
        if (!g) {
            c->failed = true;
            return 1;
        }
        c->row = g;
        c->cap_row = cap;
    }
    c->row[c->n_row++] = (uint32_t)e;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Adds the L2-normalised tf-idf weights of the row's entries. */
static void add_row(struct terms *t, struct kw_ctx *c, double n_docs,
                    bool sublinear)
{
    if (!c->n_row)
        return;
    qsort(c->row, c->n_row, sizeof *c->row, cmp_u32);
    double norm = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->n_row;) {
            size_t j = i;
            while (j < c->n_row && c->row[j] == c->row[i])
                j++;
            uint32_t e = c->row[i];
            double tf = (double)(j - i);
            if (sublinear)
                tf = 1.0 + log(tf);
            double w = tf * (log((1.0 + n_docs) / (1.0 + t->df[e])) + 1.0);
            if (pass == 0)
                norm += w * w;
            else
                t->score[e] += w / sqrt(norm);
            i = j;
        }
}

struct ranked {
    uint32_t e;
    double score;
};

static int cmp_desc(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->e > y->e) - (x->e < y->e);
}

/* The row's label: 1 positive, 0 negative, -1 missing. */
static int label_of(const struct lift_table *t, size_t tc, size_t row,
                    uint32_t pos_code, double pos_value)
{
    enum lift_col_type ty = lift_table_col_type(t, tc);
    if (lift_table_is_missing(t, tc, row))
        return -1;
    if (ty == LIFT_COL_CATEGORICAL || ty == LIFT_COL_TEXT)
        return lift_table_codes(t, tc)[row] == pos_code;
    return lift_table_values(t, tc)[row] == pos_value;
}

static enum lift_code resolve_target(const struct lift_table *t,
                                     const char *target, const char *positive,
                                     size_t *tc, uint32_t *pos_code,
                                     double *pos_value, struct lift_error *err)
{
    enum lift_code rc = lift_table_col_index(t, target, tc, err);
    if (rc)
        return rc;
    enum lift_col_type ty = lift_table_col_type(t, *tc);
    *pos_code = UINT32_MAX;
    *pos_value = 1.0;
    if (ty == LIFT_COL_CATEGORICAL || ty == LIFT_COL_TEXT) {
        size_t nl = lift_table_n_levels(t, *tc);
        if (positive) {
            *pos_code =
                lift_table_find_level(t, *tc, positive, strlen(positive));
            if (*pos_code == LIFT_MISSING_CODE || *pos_code >= nl)
                return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                                      "target '%s' has no level '%s'", target,
                                      positive);
            return LIFT_OK;
        }
        if (nl != 2)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "target '%s' has %zu levels: name the "
                                  "positive one",
                                  target, nl);
        /* the rarer level is the outcome of interest */
        *pos_code = lift_table_level_count(t, *tc, 1) <=
                            lift_table_level_count(t, *tc, 0)
                        ? 1
                        : 0;
        return LIFT_OK;
    }
    if (positive) {
        char *end;
        *pos_value = strtod(positive, &end);
        if (end == positive || *end)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "positive label '%s' of numeric target "
                                  "'%s' is not a number",
                                  positive, target);
    }
    return LIFT_OK;
}

static json_t *entry_json(const struct terms *t, uint32_t e, const char *key,
                          double score, bool target)
{
    json_t *o = json_object();
    json_object_set_new(o, "term", json_stringn(t->s[e], t->len[e]));
    json_object_set_new(o, key, json_real(score));
    if (target)
        json_object_set_new(o, "log_odds", json_real(t->score[e]));
    json_object_set_new(o, "docs", json_integer(t->df[e]));
    if (target) {
        json_object_set_new(o, "positive_docs", json_integer(t->pos[e]));
        json_object_set_new(o, "negative_docs",
                            json_integer(t->df[e] - t->pos[e]));
    }
    return o;
}

enum lift_code lift_text_keywords_json(const struct lift_table *t,
                                       const char *col, const char *target,
                                       const char *positive,
                                       const struct lift_text_opts *o,
                                       size_t top, size_t min_docs, char **out,
                                       struct lift_error *err)
{
    *out = NULL;
    size_t c, tc = 0;
    uint32_t pos_code = 0;
    double pos_value = 1;
    enum lift_code rc = lift_table_col_index(t, col, &c, err);
    if (rc)
        return rc;
    enum lift_col_type ty = lift_table_col_type(t, c);
    if (ty != LIFT_COL_TEXT && ty != LIFT_COL_CATEGORICAL)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "column '%s' is %s, not text", col,
                              lift_col_type_name(ty));
    if (target && (rc = resolve_target(t, target, positive, &tc, &pos_code,
                                       &pos_value, err)))
        return rc;
    if (!top)
        top = 20;
    if (!min_docs)
        min_docs = 3;
    struct lift_text_analyzer *a = NULL;
    struct lift_text_scratch *sc = NULL;
    struct terms terms = {0};
    struct ranked *rk = NULL;
    json_t *doc = NULL;
    struct kw_ctx ctx = {&terms, 0, false, true, NULL, 0, 0, false};
    struct lift_text_opts words = *o; /* shallow: extra is only read */
    words.char_min = words.char_max = 0;
    if ((rc = lift_text_analyzer_new(&words, &a, err)) ||
        (rc = lift_text_scratch_new(&sc, err)))
        goto done;
    const uint32_t *codes = lift_table_codes(t, c);
    size_t n_rows = lift_table_n_rows(t), n_docs = 0, n_pos = 0;
    for (int pass = 0; pass < (target ? 1 : 2); pass++) {
        ctx.count_pass = pass == 0;
        for (size_t r = 0; r < n_rows; r++) {
            if (codes[r] == LIFT_MISSING_CODE)
                continue;
            int label = 0;
            if (target && (label = label_of(t, tc, r, pos_code, pos_value)) < 0)
                continue;
            size_t len;
            const char *s = lift_table_level(t, c, codes[r], &len);
            ctx.doc = (uint32_t)(r + 1);
            ctx.positive = label == 1;
            ctx.n_row = 0;
            if ((rc = lift_text_analyze(a, sc, s, len, on_term, &ctx, err))) {
                char where[64];
                snprintf(where, sizeof where, "line %zu, column '%s'",
                         lift_table_row_line(t, r), col);
                lift_error_prefix(err, where);
                goto done;
            }
            if (ctx.failed) {
                rc = lift_error_nomem(err, "keyword terms");
                goto done;
            }
            if (pass == 0) {
                n_docs++;
                n_pos += label == 1;
            } else {
                add_row(&terms, &ctx, (double)n_docs, o->sublinear);
            }
        }
    }
    rk = lift_malloc_array(terms.n ? terms.n : 1, sizeof *rk);
    doc = json_object();
    if (!rk || !doc) {
        rc = lift_error_nomem(err, "keywords");
        goto done;
    }
    json_object_set_new(doc, "column", json_string(col));
    json_object_set_new(doc, "rows", json_integer((json_int_t)n_docs));
    json_object_set_new(doc, "terms_seen", json_integer((json_int_t)terms.n));
    size_t n = 0;
    double P = (double)n_pos, N = (double)(n_docs - n_pos);
    for (size_t e = 0; e < terms.n; e++) {
        if (target && terms.df[e] < min_docs)
            continue;
        double s = terms.score[e];
        if (target) {
            double pa = terms.pos[e], nb = terms.df[e] - terms.pos[e];
            double a0 = (P + N) / 5, al = a0 * terms.df[e] / (P + N);
            double lo = log((pa + al) / (P + a0 - pa - al)) -
                        log((nb + al) / (N + a0 - nb - al));
            double se = sqrt(1 / (pa + al) + 1 / (nb + al));
            terms.score[e] = lo;
            s = lo / se;
        }
        rk[n].e = (uint32_t)e;
        rk[n++].score = s;
    }
    qsort(rk, n, sizeof *rk, cmp_desc);
    if (!target) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n && i < top; i++)
            json_array_append_new(
                arr, entry_json(&terms, rk[i].e, "score", rk[i].score, false));
        json_object_set_new(doc, "terms", arr);
    } else {
        json_object_set_new(doc, "target", json_string(target));
        json_object_set_new(doc, "positives", json_integer((json_int_t)n_pos));
        json_object_set_new(doc, "min_docs",
                            json_integer((json_int_t)min_docs));
        json_t *up = json_array(), *down = json_array();
        for (size_t i = 0; i < n && i < top && rk[i].score > 0; i++)
            json_array_append_new(
                up, entry_json(&terms, rk[i].e, "z", rk[i].score, true));
        for (size_t i = 0; i < n && i < top && rk[n - 1 - i].score < 0; i++)
            json_array_append_new(down, entry_json(&terms, rk[n - 1 - i].e, "z",
                                                   rk[n - 1 - i].score, true));
        json_object_set_new(doc, "raise", up);
        json_object_set_new(doc, "lower", down);
    }
    *out = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (!*out)
        rc = lift_error_nomem(err, "keywords");
done:
    json_decref(doc);
    lift_free(rk);
    lift_free(ctx.row);
    terms_release(&terms);
    lift_text_analyzer_free(a);
    lift_text_scratch_free(sc);
    return rc;
}
