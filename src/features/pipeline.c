/*
 * features/pipeline.c - fitting and applying the feature pipeline.
 *
 * Layout: inputs in table order (numeric, categorical, text), then
 * crosses; feature indices are assigned group by group in that order, so
 * a dict-mode model's features read like the table. Vocabularies are
 * open-addressing hash tables (xxh3 keys) of their strings.
 *
 * Mapping writes into a caller-owned struct lift_row (no allocation per
 * row). Text values are tokenised, their entries sorted by index and
 * merged (term counts), weighted by idf and L2-normalised.
 *
 * Fitting is O(rows x inputs) plus a sort per numeric column (quantile
 * edges) and per vocabulary cap.
 */
#include "features/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/sort.h"
#include "data/parse.h"
#include "features/vocab.h"
#include "text/analyze.h"
#include "text/tokenize.h"

enum pl_kind { PL_NUMERIC = 0, PL_CATEGORICAL = 1, PL_TEXT = 2 };

#define MAX_EDGES 254 /* bins 0..254; code 255 is missing for trees */
#define DEFAULT_MAX_TOKENS 4096
#define CROSS_PART_MAX 500
#define MISSING_SALT 0x6d697373696e6721ull
/* feature parts (feat_part) beyond vocabulary entries and bins */
#define PART_VALUE 0xFFFFFFF0u
#define PART_MISSING 0xFFFFFFF1u
#define PART_RARE 0xFFFFFFF2u
#define PART_BIN 0x80000000u
/* set in the stored index mode when text inputs carry their analysis
 * settings (files written before the Unicode analyser lack it and keep
 * the simple tokenizer) */
#define MODE_TEXT_OPTS 0x100u
/* set when text inputs carry top-term columns for trees (text_terms) */
#define MODE_TEXT_TERMS 0x200u
#define TERM_EDGES (MAX_EDGES - 1) /* code 0 absent, 1..254 the bins */

/* One top-term column of a text input: its feature (a vocabulary entry
 * of the input) and the quantile edges of its non-zero weights. */
struct pl_term {
    uint32_t feat;
    uint32_t n_edges;
    double *edges;
};

struct pl_input {
    char *name;
    enum pl_kind kind;
    enum lift_col_type src_type;
    size_t n_sentinels;
    char **sentinels;
    double *sentinel_num; /* NAN where the sentinel is not a number */
    double mean, scale;
    uint32_t f_value, f_missing, f_rare, f_bins;
    uint32_t n_edges;
    double *edges;
    struct lift_vocab vocab;
    uint64_t seed;
    struct lift_text_analyzer *ta; /* text; NULL: the simple tokenizer */
    /* text, for trees: the top terms' columns of the binned view */
    uint32_t n_terms;
    struct pl_term *terms;
    uint32_t *term_of; /* per vocabulary entry: its term, or UINT32_MAX */
    size_t term_col0;  /* binned column of terms[0] */
};

struct pl_cross {
    uint32_t a, b;
    char *name;
    struct lift_vocab vocab;
    uint32_t f_rare;
    uint64_t seed;
};

struct lift_pipeline {
    enum lift_index_mode mode;
    unsigned bits;
    uint32_t mask;
    unsigned bins, max_tokens;
    size_t n_inputs;
    size_t n_bin_cols; /* n_inputs + every text input's n_terms */
    struct pl_input *in;
    size_t n_cross;
    struct pl_cross *cross;
    size_t n_features, max_nnz;
    uint32_t *feat_group; /* dict mode */
    uint32_t *feat_part;
};

/*
 * The memo of a fit: for each text input (dict mode), the analysis of
 * every distinct training value (a level of the table's column) as the
 * sorted list of its terms' entries in the seen vocabulary (an entry
 * repeated as often as the term occurs), and, once features are
 * assigned, each seen entry's feature. Features of a text input are
 * numbered in seen-entry order (assign_features), so a level's list maps
 * to features already sorted, and its runs are the counts: exactly what
 * map_text leaves before weighting, without analysing the value again.
 * A level whose value has more than max_tokens terms (where map_text
 * would cut the list) is not used, nor one past the memo's cap: those
 * are analysed as usual. Lists live in blocks that never move (no
 * copying as the memo grows).
 */
#define MEMO_MAX_TERMS ((size_t)1 << 26) /* entries per input, 256 MB */
#define MEMO_BLOCK ((size_t)1 << 16)     /* entries per block, at least */

enum level_state {
    LV_NONE = 0, /* not analysed (or not kept): map as usual */
    LV_MEMO,     /* pairs kept */
    LV_LONG,     /* pairs kept for counting; mapping analyses again */
};

struct memo_input {
    bool active;
    size_t col, n_levels;
    const uint32_t **ids; /* per level: its sorted seen entries */
    uint32_t *n;          /* per level: their number */
    uint8_t *state;       /* per level: enum level_state */
    uint32_t **blocks;    /* storage of the lists */
    size_t n_blocks, cap_blocks;
    uint32_t *free_at; /* free room in the last block */
    size_t n_free, n_kept;
    uint32_t *feat; /* per seen entry: feature or LIFT_FEATURE_NONE */
};

struct lift_pipeline_memo {
    const struct lift_table *t;
    const struct lift_pipeline *p;
    size_t n_inputs;
    struct memo_input *in;
};

void lift_pipeline_memo_free(struct lift_pipeline_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_inputs; i++) {
        struct memo_input *mi = &m->in[i];
        lift_free(mi->ids);
        lift_free(mi->n);
        lift_free(mi->state);
        for (size_t b = 0; b < mi->n_blocks; b++)
            lift_free(mi->blocks[b]);
        lift_free(mi->blocks);
        lift_free(mi->feat);
    }
    lift_free(m->in);
    lift_free(m);
}

/* ---- lifetime ----------------------------------------------------------- */

void lift_pipeline_free(struct lift_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_inputs; i++) {
        struct pl_input *in = &p->in[i];
        lift_free(in->name);
        for (size_t k = 0; k < in->n_sentinels; k++)
            lift_free(in->sentinels[k]);
        lift_free(in->sentinels);
        lift_free(in->sentinel_num);
        lift_free(in->edges);
        lift_vocab_release(&in->vocab);
        lift_text_analyzer_free(in->ta);
        for (uint32_t k = 0; k < in->n_terms; k++)
            lift_free(in->terms[k].edges);
        lift_free(in->terms);
        lift_free(in->term_of);
    }
    lift_free(p->in);
    for (size_t i = 0; i < p->n_cross; i++) {
        lift_free(p->cross[i].name);
        lift_vocab_release(&p->cross[i].vocab);
    }
    lift_free(p->cross);
    lift_free(p->feat_group);
    lift_free(p->feat_part);
    lift_free(p);
}

size_t lift_pipeline_n_features(const struct lift_pipeline *p)
{
    return p->n_features;
}

size_t lift_pipeline_n_inputs(const struct lift_pipeline *p)
{
    return p->n_inputs;
}

size_t lift_pipeline_n_groups(const struct lift_pipeline *p)
{
    return p->n_inputs + p->n_cross;
}

const char *lift_pipeline_group_name(const struct lift_pipeline *p, size_t i)
{
    LIFT_ASSERT(i < p->n_inputs + p->n_cross);
    return i < p->n_inputs ? p->in[i].name : p->cross[i - p->n_inputs].name;
}

uint32_t lift_pipeline_feature_group(const struct lift_pipeline *p, uint32_t f)
{
    LIFT_ASSERT(p->mode == LIFT_INDEX_DICT && f < p->n_features);
    return p->feat_group[f];
}

size_t lift_pipeline_max_nnz(const struct lift_pipeline *p)
{
    return p->max_nnz;
}

enum lift_index_mode lift_pipeline_mode(const struct lift_pipeline *p)
{
    return p->mode;
}

const char *lift_pipeline_feature_name(const struct lift_pipeline *p,
                                       uint32_t f, char *buf, size_t cap)
{
    if (p->mode != LIFT_INDEX_DICT || f >= p->n_features)
        return NULL;
    uint32_t g = p->feat_group[f], part = p->feat_part[f];
    const char *gname = lift_pipeline_group_name(p, g);
    const struct lift_vocab *v =
        g < p->n_inputs ? &p->in[g].vocab : &p->cross[g - p->n_inputs].vocab;
    bool text = g < p->n_inputs && p->in[g].kind == PL_TEXT;
    if (part == PART_VALUE)
        snprintf(buf, cap, "%s", gname);
    else if (part == PART_MISSING)
        snprintf(buf, cap, "%s:missing", gname);
    else if (part == PART_RARE)
        snprintf(buf, cap, "%s=<rare>", gname);
    else if (part & PART_BIN)
        snprintf(buf, cap, "%s:bin%u", gname, part & ~PART_BIN);
    else if (text)
        snprintf(buf, cap, "%s:%s", gname, lift_vocab_key(v, part, NULL));
    else
        snprintf(buf, cap, "%s=%s", gname, lift_vocab_key(v, part, NULL));
    if (g >= p->n_inputs) /* a cross: "a&b=x&y", not the internal key */
        for (char *q = buf; *q; q++)
            if (*q == '\x1f')
                *q = '&';
    return buf;
}

/* ---- rows --------------------------------------------------------------- */

enum lift_code lift_row_init(struct lift_row *r, const struct lift_pipeline *p,
                             struct lift_error *err)
{
    memset(r, 0, sizeof *r);
    size_t cap = p->max_nnz ? p->max_nnz : 1;
    r->idx = lift_malloc_array(cap, sizeof *r->idx);
    r->val = lift_malloc_array(cap, sizeof *r->val);
    r->src = lift_malloc_array(cap, sizeof *r->src);
    if (!r->idx || !r->val || !r->src) {
        lift_row_release(r);
        return lift_error_nomem(err, "feature row");
    }
    r->cap = cap;
    return LIFT_OK;
}

void lift_row_release(struct lift_row *r)
{
    lift_text_scratch_free(r->text);
    lift_free(r->idx);
    lift_free(r->val);
    lift_free(r->src);
    memset(r, 0, sizeof *r);
}

static void put(struct lift_row *r, uint32_t idx, float val, uint32_t src)
{
    LIFT_ASSERT(r->nnz < r->cap);
    r->idx[r->nnz] = idx;
    r->val[r->nnz] = val;
    r->src[r->nnz] = src;
    r->nnz++;
}

/* ---- cells: one raw value, from a table or a record -------------------- */

enum cell_kind { CELL_MISSING = 0, CELL_NUM, CELL_STR };

struct cell {
    enum cell_kind kind;
    double num;
    const char *s;
    size_t len;
};

/* Where a value came from, for messages: a table line or a record. */
struct origin {
    size_t line; /* 0: a record */
};

static enum lift_code bad_value(const struct pl_input *in, const struct cell *c,
                                struct origin o, const char *what,
                                struct lift_error *err)
{
    int n = (int)(c->len > 40 ? 40 : c->len);
    if (o.line)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "line %zu: '%.*s' is not %s (column '%s' is "
                              "%s in the model)",
                              o.line, n, c->s, what, in->name,
                              lift_col_type_name(in->src_type));
    return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                          "field '%s': '%.*s' is not %s (the model reads it "
                          "as %s)",
                          in->name, n, c->s, what,
                          lift_col_type_name(in->src_type));
}

static bool is_sentinel(const struct pl_input *in, const char *s, size_t len)
{
    for (size_t k = 0; k < in->n_sentinels; k++)
        if (strlen(in->sentinels[k]) == len &&
            memcmp(in->sentinels[k], s, len) == 0)
            return true;
    return false;
}

/* The numeric value of a cell for a numeric input; *missing when absent. */
static enum lift_code numeric_of(const struct pl_input *in,
                                 const struct cell *c, struct origin o,
                                 double *v, bool *missing,
                                 struct lift_error *err)
{
    *missing = false;
    if (c->kind == CELL_MISSING) {
        *missing = true;
        return LIFT_OK;
    }
    if (c->kind == CELL_STR) {
        if (lift_is_default_missing(c->s, c->len) ||
            is_sentinel(in, c->s, c->len)) {
            *missing = true;
            return LIFT_OK;
        }
        bool ok;
        switch (in->src_type) {
        case LIFT_COL_DATE:
            ok = lift_parse_date(c->s, c->len, v);
            if (!ok)
                return bad_value(in, c, o, "a date", err);
            break;
        case LIFT_COL_BOOLEAN:
            ok = lift_parse_bool(c->s, c->len, v) ||
                 lift_parse_number(c->s, c->len, v);
            if (!ok)
                return bad_value(in, c, o, "true or false", err);
            break;
        default:
            ok = lift_parse_number(c->s, c->len, v);
            if (!ok)
                return bad_value(in, c, o, "a number", err);
        }
    } else {
        *v = c->num;
    }
    if (isnan(*v)) {
        *missing = true;
        return LIFT_OK;
    }
    for (size_t k = 0; k < in->n_sentinels; k++)
        if (in->sentinel_num[k] == *v) {
            *missing = true;
            break;
        }
    return LIFT_OK;
}

/* The text of a cell for a categorical or text input (numbers formatted
 * as the table reader would have kept them); NULL s when missing. */
static void text_of(const struct pl_input *in, const struct cell *c, char *buf,
                    size_t cap, const char **s, size_t *len)
{
    *s = NULL;
    *len = 0;
    if (c->kind == CELL_MISSING)
        return;
    if (c->kind == CELL_NUM) {
        if (isnan(c->num))
            return;
        int n = snprintf(buf, cap, "%.15g", c->num);
        *s = buf;
        *len = (size_t)n;
    } else {
        *s = c->s;
        *len = c->len;
    }
    if (lift_is_default_missing(*s, *len) || is_sentinel(in, *s, *len)) {
        *s = NULL;
        *len = 0;
    }
}

static uint32_t hash_slot(const struct lift_pipeline *p, const char *s,
                          size_t len, uint64_t seed)
{
    return (uint32_t)(lift_hash(s, len, seed) & p->mask);
}

static uint32_t bin_of(const struct pl_input *in, double v)
{
    uint32_t lo = 0, hi = in->n_edges; /* first edge >= v */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (in->edges[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void map_numeric(const struct lift_pipeline *p,
                        const struct pl_input *in, uint32_t g, double v,
                        bool missing, struct lift_row *r)
{
    if (missing) {
        if (in->f_missing != LIFT_FEATURE_NONE)
            put(r, in->f_missing, 1.0f, g);
        return;
    }
    if (p->bins) {
        uint32_t b = bin_of(in, v);
        uint32_t f = p->mode == LIFT_INDEX_HASH
                         ? hash_slot(p, (const char *)&b, sizeof b, in->seed)
                         : in->f_bins + b;
        put(r, f, 1.0f, g);
        return;
    }
    put(r, in->f_value, (float)((v - in->mean) / in->scale), g);
}

/* Feature of a categorical value (s NULL = missing). */
static uint32_t categorical_feature(const struct lift_pipeline *p,
                                    const struct pl_input *in, const char *s,
                                    size_t len)
{
    if (!s)
        return in->f_missing;
    if (p->mode == LIFT_INDEX_HASH)
        return hash_slot(p, s, len, in->seed);
    long e = lift_vocab_find(&in->vocab, s, len);
    return e >= 0 ? in->vocab.feat[e] : in->f_rare;
}

struct text_ctx {
    const struct lift_pipeline *p;
    const struct pl_input *in;
    struct lift_row *r;
    uint32_t g;
    size_t start, limit;
};

static int text_token(void *user, const char *tok, size_t len)
{
    struct text_ctx *t = user;
    uint32_t f;
    if (t->p->mode == LIFT_INDEX_HASH) {
        f = hash_slot(t->p, tok, len, t->in->seed);
    } else {
        long e = lift_vocab_find(&t->in->vocab, tok, len);
        if (e < 0)
            return 0;
        f = t->in->vocab.feat[e];
    }
    if (t->r->nnz - t->start >= t->limit)
        return 1;
    put(t->r, f, 1.0f, t->g);
    return 0;
}

/* Weights the merged text entries from `start` on (sorted by index,
 * values the term counts) by sublinear tf and idf, then L2-normalises
 * them. */
static void weigh_text(const struct lift_pipeline *p, const struct pl_input *in,
                       struct lift_row *r, size_t start)
{
    size_t m = r->nnz - start;
    const uint32_t *idx = r->idx + start;
    bool sublinear = in->ta && lift_text_analyzer_opts(in->ta)->sublinear;
    double norm = 0.0;
    for (size_t i = 0; i < m; i++) {
        float w = r->val[start + i];
        if (sublinear && w != 1.0f) /* 1 + ln 1 is 1 */
            w = 1.0f + logf(w);
        if (p->mode == LIFT_INDEX_DICT) {
            /* feature -> entry: text features are contiguous per input */
            uint32_t e = p->feat_part[idx[i]];
            w *= in->vocab.idf[e];
        }
        r->val[start + i] = w;
        norm += (double)w * w;
    }
    float inv = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
    for (size_t i = 0; i < m; i++)
        r->val[start + i] *= inv;
}

/* Sorts and merges the entries added since `start` (counts), then
 * weighs them. Their r->src, all the input's number, serve as the
 * sort's scratch and are written back. */
static void finish_text(const struct lift_pipeline *p,
                        const struct pl_input *in, struct lift_row *r,
                        size_t start)
{
    size_t n = r->nnz - start;
    if (n == 0)
        return;
    uint32_t *idx = r->idx + start, g = r->src[start];
    lift_sort_u32(idx, r->src + start, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && idx[m - 1] == idx[i]) {
            r->val[start + m - 1] += 1.0f;
            continue;
        }
        idx[m] = idx[i];
        r->val[start + m] = 1.0f;
        m++;
    }
    for (size_t i = 0; i < n; i++)
        r->src[start + i] = g;
    r->nnz = start + m;
    weigh_text(p, in, r, start);
}

/* Tokens of a text value through the input's analyser (the simple
 * tokenizer for models saved before it). */
static enum lift_code tokenize_value(const struct pl_input *in,
                                     struct lift_text_scratch **scratch,
                                     const char *s, size_t len,
                                     lift_text_term_fn fn, void *user,
                                     struct lift_error *err)
{
    if (!in->ta) {
        lift_tokenize_simple(s, len, fn, user);
        return LIFT_OK;
    }
    enum lift_code rc;
    if (!*scratch && (rc = lift_text_scratch_new(scratch, err)))
        return rc;
    return lift_text_analyze(in->ta, *scratch, s, len, fn, user, err);
}

/* Names the line (or the field) of a value the analyser refused. */
static enum lift_code text_error(const struct pl_input *in, size_t line,
                                 struct lift_error *err)
{
    char where[300];
    if (line)
        snprintf(where, sizeof where, "line %zu, column '%s'", line, in->name);
    else
        snprintf(where, sizeof where, "field '%s'", in->name);
    lift_error_prefix(err, where);
    return err ? err->code : LIFT_ERR_PARSE;
}

static enum lift_code map_text(const struct lift_pipeline *p,
                               const struct pl_input *in, uint32_t g,
                               const char *s, size_t len, size_t line,
                               struct lift_row *r, struct lift_error *err)
{
    if (!s)
        return LIFT_OK;
    struct text_ctx t = {p, in, r, g, r->nnz, p->max_tokens};
    if (tokenize_value(in, &r->text, s, len, text_token, &t, err)) {
        r->nnz = t.start;
        return text_error(in, line, err);
    }
    finish_text(p, in, r, t.start);
    return LIFT_OK;
}

/* Maps one cell of input g. key/key_len receive the categorical text for
 * crosses (NULL when missing or not categorical). */
static enum lift_code map_cell(const struct lift_pipeline *p, uint32_t g,
                               const struct cell *c, struct origin o,
                               struct lift_row *r, char *buf, size_t cap,
                               const char **key, size_t *key_len,
                               struct lift_error *err)
{
    const struct pl_input *in = &p->in[g];
    *key = NULL;
    *key_len = 0;
    if (in->kind == PL_NUMERIC) {
        double v = 0;
        bool missing;
        enum lift_code rc = numeric_of(in, c, o, &v, &missing, err);
        if (rc)
            return rc;
        map_numeric(p, in, g, v, missing, r);
        return LIFT_OK;
    }
    const char *s;
    size_t len;
    text_of(in, c, buf, cap, &s, &len);
    if (in->kind == PL_TEXT)
        return map_text(p, in, g, s, len, o.line, r, err);
    uint32_t f = categorical_feature(p, in, s, len);
    if (f != LIFT_FEATURE_NONE)
        put(r, f, 1.0f, g);
    *key = s;
    *key_len = len;
    return LIFT_OK;
}

/* Builds "a\x1fb" for a cross into buf (parts cut to CROSS_PART_MAX). */
static size_t cross_key(char *buf, const char *a, size_t la, const char *b,
                        size_t lb)
{
    if (la > CROSS_PART_MAX)
        la = CROSS_PART_MAX;
    if (lb > CROSS_PART_MAX)
        lb = CROSS_PART_MAX;
    memcpy(buf, a, la);
    buf[la] = '\x1f';
    memcpy(buf + la + 1, b, lb);
    return la + 1 + lb;
}

static void map_crosses(const struct lift_pipeline *p, const char **keys,
                        const size_t *key_lens, struct lift_row *r)
{
    char buf[2 * CROSS_PART_MAX + 2];
    for (size_t i = 0; i < p->n_cross; i++) {
        const struct pl_cross *x = &p->cross[i];
        if (!keys[x->a] || !keys[x->b])
            continue;
        size_t n = cross_key(buf, keys[x->a], key_lens[x->a], keys[x->b],
                             key_lens[x->b]);
        uint32_t f;
        if (p->mode == LIFT_INDEX_HASH) {
            f = hash_slot(p, buf, n, x->seed);
        } else {
            long e = lift_vocab_find(&x->vocab, buf, n);
            f = e >= 0 ? x->vocab.feat[e] : x->f_rare;
        }
        if (f != LIFT_FEATURE_NONE)
            put(r, f, 1.0f, (uint32_t)(p->n_inputs + i));
    }
}

/* ---- records ------------------------------------------------------------ */

static void note(const char **list, size_t *n, const char *name)
{
    if (*n < LIFT_WARN_NAMES)
        list[*n] = name;
    (*n)++;
}

/* Matches a record's fields to the inputs: cells[i] is input i's value
 * (missing when absent); unknown and absent names go to the report, or
 * are errors in strict mode. */
static enum lift_code
record_cells(const struct lift_pipeline *p, const struct lift_field *fields,
             size_t n_fields, bool strict, struct cell *cells,
             struct lift_record_report *report, struct lift_error *err)
{
    memset(report, 0, sizeof *report);
    for (size_t i = 0; i < p->n_inputs; i++)
        cells[i] = (struct cell){CELL_MISSING, 0, NULL, 0};
    bool *seen = lift_calloc(p->n_inputs ? p->n_inputs : 1, sizeof *seen);
    if (!seen)
        return lift_error_nomem(err, "record mapping");
    enum lift_code rc = LIFT_OK;
    for (size_t f = 0; f < n_fields; f++) {
        const char *name = fields[f].name;
        size_t i = 0;
        for (; i < p->n_inputs; i++)
            if (p->in[i].name[0] == name[0] && strcmp(p->in[i].name, name) == 0)
                break;
        if (i == p->n_inputs) {
            if (strict) {
                rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                    "field '%s' is not an input of the model",
                                    name);
                goto done;
            }
            note(report->unknown, &report->n_unknown, name);
            continue;
        }
        if (seen[i]) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "field '%s' appears twice", name);
            goto done;
        }
        seen[i] = true;
        const struct lift_field *fl = &fields[f];
        struct cell *c = &cells[i];
        switch (fl->kind) {
        case LIFT_VALUE_NULL:
            break;
        case LIFT_VALUE_NUMBER:
            c->kind = CELL_NUM;
            c->num = fl->num;
            break;
        case LIFT_VALUE_BOOL:
            if (p->in[i].kind == PL_NUMERIC) {
                c->kind = CELL_NUM;
                c->num = fl->num;
            } else {
                c->kind = CELL_STR;
                c->s = fl->num != 0 ? "true" : "false";
                c->len = strlen(c->s);
            }
            break;
        case LIFT_VALUE_STRING:
            c->kind = CELL_STR;
            c->s = fl->str;
            c->len = fl->len;
            break;
        }
    }
    for (size_t i = 0; i < p->n_inputs; i++) {
        if (seen[i])
            continue;
        if (strict) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "field '%s' is missing from the record",
                                p->in[i].name);
            goto done;
        }
        note(report->absent, &report->n_absent, p->in[i].name);
    }
done:
    lift_free(seen);
    return rc;
}

/* Per-input scratch of a record: cells, cross keys and number texts. */
struct record_scratch {
    struct cell *cells;
    const char **keys;
    size_t *lens;
    char (*num)[32];
};

static void record_scratch_release(struct record_scratch *s)
{
    lift_free(s->cells);
    lift_free(s->keys);
    lift_free(s->lens);
    lift_free(s->num);
}

static enum lift_code record_scratch_init(struct record_scratch *s, size_t n,
                                          struct lift_error *err)
{
    n = n ? n : 1;
    s->cells = lift_malloc_array(n, sizeof *s->cells);
    s->keys = lift_malloc_array(n, sizeof *s->keys);
    s->lens = lift_malloc_array(n, sizeof *s->lens);
    s->num = lift_malloc_array(n, sizeof *s->num);
    if (!s->cells || !s->keys || !s->lens || !s->num) {
        record_scratch_release(s);
        return lift_error_nomem(err, "record mapping");
    }
    return LIFT_OK;
}

enum lift_code lift_pipeline_map_record(const struct lift_pipeline *p,
                                        const struct lift_field *fields,
                                        size_t n_fields, bool strict,
                                        struct lift_row *out,
                                        struct lift_record_report *report,
                                        struct lift_error *err)
{
    struct lift_record_report local;
    if (!report)
        report = &local;
    out->nnz = 0;
    struct record_scratch s;
    enum lift_code rc = record_scratch_init(&s, p->n_inputs, err);
    if (rc)
        return rc;
    if ((rc = record_cells(p, fields, n_fields, strict, s.cells, report, err)))
        goto done;
    for (size_t i = 0; i < p->n_inputs; i++)
        if ((rc = map_cell(p, (uint32_t)i, &s.cells[i], (struct origin){0}, out,
                           s.num[i], sizeof s.num[i], &s.keys[i], &s.lens[i],
                           err)))
            goto done;
    map_crosses(p, s.keys, s.lens, out);
done:
    record_scratch_release(&s);
    return rc;
}

/* ---- tables ------------------------------------------------------------- */

/* How an input reads its table column. */
enum bind_how {
    BIND_ABSENT = 0,
    BIND_VALUES, /* numeric input, numeric-like column: direct */
    BIND_CODES,  /* categorical input, string column: code_map */
    BIND_CELLS,  /* anything else: through cells */
};

#define MAP_MISSING 0xFFFFFFFEu

struct bind_input {
    enum bind_how how;
    size_t col;
    uint32_t *code_map; /* BIND_CODES: table code -> feature or MAP_* */
    size_t n_codes;
};

struct lift_binding {
    const struct lift_pipeline *p;
    const struct lift_table *t;
    struct bind_input *in;
};

void lift_binding_free(struct lift_binding *b)
{
    if (!b)
        return;
    if (b->in)
        for (size_t i = 0; i < b->p->n_inputs; i++)
            lift_free(b->in[i].code_map);
    lift_free(b->in);
    lift_free(b);
}

enum lift_code lift_pipeline_bind(const struct lift_pipeline *p,
                                  const struct lift_table *t, bool strict,
                                  struct lift_binding **out, size_t *n_absent,
                                  struct lift_error *err)
{
    *out = NULL;
    size_t absent = 0;
    struct lift_binding *b = lift_calloc(1, sizeof *b);
    if (!b)
        return lift_error_nomem(err, "binding");
    b->p = p;
    b->t = t;
    b->in = lift_calloc(p->n_inputs ? p->n_inputs : 1, sizeof *b->in);
    if (!b->in) {
        lift_binding_free(b);
        return lift_error_nomem(err, "binding");
    }
    for (size_t i = 0; i < p->n_inputs; i++) {
        const struct pl_input *in = &p->in[i];
        struct bind_input *bi = &b->in[i];
        size_t col;
        if (lift_table_col_index(t, in->name, &col, NULL)) {
            if (strict) {
                lift_binding_free(b);
                return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                      "the data has no column '%s', which "
                                      "the model reads",
                                      in->name);
            }
            bi->how = BIND_ABSENT;
            absent++;
            continue;
        }
        bi->col = col;
        enum lift_col_type ty = lift_table_col_type(t, col);
        bool numeric_col = ty == LIFT_COL_NUMERIC || ty == LIFT_COL_BOOLEAN ||
                           ty == LIFT_COL_DATE;
        if (in->kind == PL_NUMERIC && numeric_col) {
            bi->how = BIND_VALUES;
        } else if (in->kind == PL_CATEGORICAL && !numeric_col) {
            size_t n = lift_table_n_levels(t, col);
            bi->code_map = lift_malloc_array(n ? n : 1, sizeof(uint32_t));
            if (!bi->code_map) {
                lift_binding_free(b);
                return lift_error_nomem(err, "binding");
            }
            bi->n_codes = n;
            for (uint32_t c = 0; c < n; c++) {
                size_t len;
                const char *s = lift_table_level(t, col, c, &len);
                if (lift_is_default_missing(s, len) || is_sentinel(in, s, len))
                    bi->code_map[c] = MAP_MISSING;
                else
                    bi->code_map[c] = categorical_feature(p, in, s, len);
            }
            bi->how = BIND_CODES;
        } else {
            bi->how = BIND_CELLS;
        }
    }
    if (n_absent)
        *n_absent = absent;
    *out = b;
    return LIFT_OK;
}

static void table_cell(const struct lift_table *t, size_t col, size_t row,
                       struct cell *c)
{
    const uint32_t *codes = lift_table_codes(t, col);
    c->kind = CELL_MISSING;
    if (codes) {
        if (codes[row] != LIFT_MISSING_CODE) {
            c->kind = CELL_STR;
            c->s = lift_table_level(t, col, codes[row], &c->len);
        }
        return;
    }
    double v = lift_table_values(t, col)[row];
    if (!isnan(v)) {
        c->kind = CELL_NUM;
        c->num = v;
    }
}

/* The memo of text input i when it applies to the binding's table. */
static const struct memo_input *memo_for(const struct lift_binding *b,
                                         const struct lift_pipeline_memo *m,
                                         size_t i)
{
    if (!m || m->p != b->p || m->t != b->t || i >= m->n_inputs ||
        !m->in[i].active || !m->in[i].feat || b->in[i].how != BIND_CELLS ||
        b->in[i].col != m->in[i].col)
        return NULL;
    return &m->in[i];
}

/* Maps text input g's value at `row` from the memo; false when the memo
 * lacks it (map it as usual). */
static bool memo_row(const struct lift_pipeline *p, const struct memo_input *mi,
                     const struct lift_table *t, size_t row, uint32_t g,
                     struct lift_row *r)
{
    uint32_t code = lift_table_codes(t, mi->col)[row];
    if (code == LIFT_MISSING_CODE || code >= mi->n_levels)
        return false;
    if (mi->state[code] != LV_MEMO)
        return false;
    size_t start = r->nnz;
    const uint32_t *ids = mi->ids[code];
    for (uint32_t k = 0, n = mi->n[code]; k < n;) {
        uint32_t id = ids[k], run = 1;
        while (k + run < n && ids[k + run] == id)
            run++;
        k += run;
        uint32_t f = mi->feat[id];
        if (f != LIFT_FEATURE_NONE)
            put(r, f, (float)run, g);
    }
    if (r->nnz > start)
        weigh_text(p, &p->in[g], r, start);
    return true;
}

static enum lift_code map_row(const struct lift_binding *b,
                              const struct lift_pipeline_memo *memo, size_t row,
                              struct lift_row *out, struct lift_error *err)
{
    const struct lift_pipeline *p = b->p;
    const struct lift_table *t = b->t;
    out->nnz = 0;
    enum { MAX_STACK = 256 };
    const char *keys_stack[MAX_STACK];
    size_t lens_stack[MAX_STACK];
    char nums_stack[MAX_STACK][32];
    bool crossed = p->n_cross > 0 && p->n_inputs <= MAX_STACK;
    LIFT_ASSERT(p->n_cross == 0 || crossed);
    for (size_t i = 0; i < p->n_inputs; i++) {
        const struct pl_input *in = &p->in[i];
        const struct bind_input *bi = &b->in[i];
        if (crossed) {
            keys_stack[i] = NULL;
            lens_stack[i] = 0;
        }
        switch (bi->how) {
        case BIND_ABSENT: {
            struct cell c = {CELL_MISSING, 0, NULL, 0};
            const char *k;
            size_t kl;
            char buf[32];
            map_cell(p, (uint32_t)i, &c, (struct origin){0}, out, buf,
                     sizeof buf, &k, &kl, err);
            break;
        }
        case BIND_VALUES: {
            double v = lift_table_values(t, bi->col)[row];
            bool missing = isnan(v);
            for (size_t k = 0; !missing && k < in->n_sentinels; k++)
                missing = in->sentinel_num[k] == v;
            map_numeric(p, in, (uint32_t)i, v, missing, out);
            break;
        }
        case BIND_CODES: {
            uint32_t code = lift_table_codes(t, bi->col)[row];
            uint32_t f =
                code == LIFT_MISSING_CODE ? MAP_MISSING : bi->code_map[code];
            if (f == MAP_MISSING)
                f = in->f_missing;
            if (f != LIFT_FEATURE_NONE)
                put(out, f, 1.0f, (uint32_t)i);
            if (crossed && code != LIFT_MISSING_CODE &&
                bi->code_map[code] != MAP_MISSING)
                keys_stack[i] =
                    lift_table_level(t, bi->col, code, &lens_stack[i]);
            break;
        }
        case BIND_CELLS: {
            const struct memo_input *mi = memo_for(b, memo, i);
            if (mi && memo_row(p, mi, t, row, (uint32_t)i, out))
                break;
            struct cell c;
            table_cell(t, bi->col, row, &c);
            struct origin o = {lift_table_row_line(t, row)};
            const char *k;
            size_t kl;
            char *buf = crossed ? nums_stack[i] : nums_stack[0];
            enum lift_code rc =
                map_cell(p, (uint32_t)i, &c, o, out, buf, 32, &k, &kl, err);
            if (rc)
                return rc;
            if (crossed) {
                keys_stack[i] = k;
                lens_stack[i] = kl;
            }
            break;
        }
        }
    }
    if (crossed)
        map_crosses(p, keys_stack, lens_stack, out);
    return LIFT_OK;
}

/* The text entries of text input i at table row `row` into r (from the
 * memo when it holds the value). */
static enum lift_code text_row(const struct lift_binding *b,
                               const struct lift_pipeline_memo *memo, size_t i,
                               size_t row, struct lift_row *r,
                               struct lift_error *err)
{
    r->nnz = 0;
    const struct bind_input *bi = &b->in[i];
    if (bi->how == BIND_ABSENT)
        return LIFT_OK;
    const struct memo_input *mi = memo_for(b, memo, i);
    if (mi && memo_row(b->p, mi, b->t, row, (uint32_t)i, r))
        return LIFT_OK;
    struct cell c;
    table_cell(b->t, bi->col, row, &c);
    char buf[32];
    const char *k;
    size_t kl;
    return map_cell(b->p, (uint32_t)i, &c,
                    (struct origin){lift_table_row_line(b->t, row)}, r, buf,
                    sizeof buf, &k, &kl, err);
}

/* The code of weight w in a term column: 0 when the term is absent, else
 * 1 + its quantile bin (bin b holds edges[b-1] < w <= edges[b]). */
static uint8_t term_code(const struct pl_term *t, float w)
{
    if (!(w > 0.0f))
        return 0;
    double v = w;
    uint32_t lo = 0, hi = t->n_edges;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->edges[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)(1 + lo);
}

/* Codes of text input in's term columns, codes[k * stride] for term k,
 * from its mapped entries r->idx/val[0..nnz). */
static void term_codes(const struct lift_pipeline *p, const struct pl_input *in,
                       const struct lift_row *r, uint8_t *codes, size_t stride)
{
    for (uint32_t k = 0; k < in->n_terms; k++)
        codes[k * stride] = 0;
    for (size_t j = 0; j < r->nnz; j++) {
        uint32_t t = in->term_of[p->feat_part[r->idx[j]]];
        if (t != UINT32_MAX)
            codes[t * stride] = term_code(&in->terms[t], r->val[j]);
    }
}

enum lift_code lift_pipeline_map_table_row(const struct lift_binding *b,
                                           size_t row, struct lift_row *out,
                                           struct lift_error *err)
{
    return map_row(b, NULL, row, out, err);
}

enum lift_code lift_pipeline_transform(const struct lift_binding *b,
                                       const uint32_t *rows, size_t n,
                                       struct lift_csr *out,
                                       struct lift_error *err)
{
    return lift_pipeline_transform_memo(b, NULL, rows, n, out, err);
}

/* Entries to allocate for mapping rows[0..n): 8 a row, or with a memo
 * that applies, the length of each memoised value's list (at least its
 * entries) and 2 a row for every other input, 64 for a text value the
 * memo lacks; the matrix grows past it if need be. Allocating once
 * spares copying a large matrix as it doubles. */
static size_t matrix_estimate(const struct lift_binding *b,
                              const struct lift_pipeline_memo *memo,
                              const uint32_t *rows, size_t n)
{
    const struct lift_pipeline *p = b->p;
    bool any = false;
    for (size_t i = 0; i < p->n_inputs; i++)
        any = any || memo_for(b, memo, i);
    if (!any)
        return n * 8 + 16;
    size_t total = 16;
    for (size_t i = 0; i < p->n_inputs; i++) {
        const struct memo_input *mi = memo_for(b, memo, i);
        if (!mi) {
            total += (p->in[i].kind == PL_TEXT ? 64 : 2) * n;
            continue;
        }
        const uint32_t *codes = lift_table_codes(b->t, mi->col);
        for (size_t k = 0; k < n; k++) {
            uint32_t code = codes[rows ? rows[k] : k];
            if (code == LIFT_MISSING_CODE || code >= mi->n_levels)
                continue;
            total += mi->state[code] == LV_MEMO ? mi->n[code] : 64;
        }
    }
    return total + p->n_cross * n;
}

enum lift_code
lift_pipeline_transform_memo(const struct lift_binding *b,
                             const struct lift_pipeline_memo *memo,
                             const uint32_t *rows, size_t n,
                             struct lift_csr *out, struct lift_error *err)
{
    memset(out, 0, sizeof *out);
    struct lift_row r;
    enum lift_code rc = lift_row_init(&r, b->p, err);
    if (rc)
        return rc;
    size_t cap = matrix_estimate(b, memo, rows, n), nnz = 0;
    out->n_rows = n;
    out->n_cols = b->p->n_features;
    out->indptr = lift_malloc_array(n + 1, sizeof *out->indptr);
    out->idx = lift_malloc_array(cap, sizeof *out->idx);
    out->val = lift_malloc_array(cap, sizeof *out->val);
    if (!out->indptr || !out->idx || !out->val) {
        rc = lift_error_nomem(err, "feature matrix");
        goto done;
    }
    out->indptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t row = rows ? rows[i] : i;
        if ((rc = map_row(b, memo, row, &r, err)))
            goto done;
        if (nnz + r.nnz > cap) {
            size_t ncap = cap * 2 > nnz + r.nnz ? cap * 2 : nnz + r.nnz;
            uint32_t *idx = lift_realloc_array(out->idx, ncap, sizeof *idx);
            if (!idx) {
                rc = lift_error_nomem(err, "feature matrix");
                goto done;
            }
            out->idx = idx;
            float *val = lift_realloc_array(out->val, ncap, sizeof *val);
            if (!val) {
                rc = lift_error_nomem(err, "feature matrix");
                goto done;
            }
            out->val = val;
            cap = ncap;
        }
        memcpy(out->idx + nnz, r.idx, r.nnz * sizeof *r.idx);
        memcpy(out->val + nnz, r.val, r.nnz * sizeof *r.val);
        nnz += r.nnz;
        out->indptr[i + 1] = nnz;
    }
done:
    lift_row_release(&r);
    if (rc)
        lift_csr_release(out);
    return rc;
}

/* ---- fitting ------------------------------------------------------------ */

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile edges of sorted values v[0..n): every distinct value but the
 * largest when there are at most `bins` of them, else the values at
 * ranks q * n / bins, deduplicated. Bin b holds edges[b-1] < x <=
 * edges[b]. */
static enum lift_code edges_of(double *v, size_t n, unsigned bins,
                               double **edges, uint32_t *n_edges,
                               struct lift_error *err)
{
    *n_edges = 0;
    *edges = NULL;
    if (n == 0)
        return LIFT_OK;
    qsort(v, n, sizeof *v, cmp_double);
    size_t distinct = 1;
    for (size_t i = 1; i < n; i++)
        distinct += v[i] != v[i - 1];
    size_t max_edges = bins - 1;
    double *e = lift_malloc_array(max_edges ? max_edges : 1, sizeof(double));
    if (!e)
        return lift_error_nomem(err, "quantile edges");
    uint32_t k = 0;
    if (distinct <= bins) {
        for (size_t i = 0; i + 1 < n; i++)
            if (v[i] != v[i + 1])
                e[k++] = v[i];
    } else {
        for (size_t q = 1; q < bins; q++) {
            double x = v[(q * n) / bins];
            if (x < v[n - 1] && (k == 0 || x > e[k - 1]))
                e[k++] = x;
        }
    }
    *edges = e;
    *n_edges = k;
    return LIFT_OK;
}

static enum lift_code fit_edges(struct pl_input *in, double *v, size_t n,
                                unsigned bins, struct lift_error *err)
{
    return edges_of(v, n, bins, &in->edges, &in->n_edges, err);
}

/* A vocabulary candidate while fitting. */
struct cand {
    uint32_t group;
    uint32_t order; /* first appearance within the group */
    size_t count;
    bool keep;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

/* Working state of one group (input or cross) while fitting. */
struct fit_group {
    struct lift_vocab seen; /* every value seen, in first-appearance order */
    size_t *count; /* per seen entry: rows (categorical) or df (text) */
    size_t count_cap;
    size_t n_missing;
};

static void fit_group_release(struct fit_group *g)
{
    lift_vocab_release(&g->seen);
    lift_free(g->count);
}

static enum lift_code count_categorical(const struct lift_table *t, size_t col,
                                        const uint32_t *rows, size_t n,
                                        const struct pl_input *in,
                                        struct fit_group *g,
                                        struct lift_error *err)
{
    const uint32_t *codes = lift_table_codes(t, col);
    size_t nl = lift_table_n_levels(t, col);
    size_t *per_code = lift_calloc(nl ? nl : 1, sizeof *per_code);
    if (!per_code)
        return lift_error_nomem(err, "level counts");
    uint32_t *first = lift_malloc_array(nl ? nl : 1, sizeof *first);
    if (!first) {
        lift_free(per_code);
        return lift_error_nomem(err, "level counts");
    }
    enum lift_code rc = LIFT_OK;
    /* order levels by first appearance among the training rows */
    size_t n_order = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = codes[rows ? rows[i] : i];
        if (c == LIFT_MISSING_CODE) {
            g->n_missing++;
            continue;
        }
        if (per_code[c]++ == 0)
            first[n_order++] = c;
    }
    g->count = lift_malloc_array(n_order ? n_order : 1, sizeof *g->count);
    if (!g->count) {
        rc = lift_error_nomem(err, "level counts");
        goto done;
    }
    for (size_t k = 0; k < n_order; k++) {
        size_t len;
        const char *s = lift_table_level(t, col, first[k], &len);
        if (is_sentinel(in, s, len)) {
            g->n_missing += per_code[first[k]];
            continue;
        }
        size_t entry;
        if ((rc = lift_vocab_add(&g->seen, s, len, 0, 0, &entry, err)))
            goto done;
        g->count[entry] = per_code[first[k]];
    }
done:
    lift_free(per_code);
    lift_free(first);
    return rc;
}

/* The terms of one value while counting, in emission order: their
 * bytes end to end, and then their entries in the group's seen
 * vocabulary. */
struct collect {
    char *bytes;
    size_t n_bytes, bytes_cap;
    size_t *ends;  /* per term: end of its bytes */
    uint32_t *ids; /* per term: seen entry (lift_vocab_intern_many) */
    size_t n, cap;
    enum lift_code rc;
    struct lift_error *err;
};

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

static int collect_term(void *user, const char *tok, size_t len)
{
    struct collect *c = user;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        size_t *ends = lift_realloc_array(c->ends, cap, sizeof *ends);
        if (ends)
            c->ends = ends;
        uint32_t *ids =
            ends ? lift_realloc_array(c->ids, cap, sizeof *ids) : NULL;
        if (!ids) {
            c->rc = lift_error_nomem(c->err, "text terms");
            return 1;
        }
        c->ids = ids;
        c->cap = cap;
    }
    if (c->bytes_cap - c->n_bytes < len) {
        size_t cap = c->bytes_cap ? c->bytes_cap : 8192;
        while (cap - c->n_bytes < len)
            cap *= 2;
        char *b = lift_realloc_array(c->bytes, cap, 1);
        if (!b) {
            c->rc = lift_error_nomem(c->err, "text terms");
            return 1;
        }
        c->bytes = b;
        c->bytes_cap = cap;
    }
    if (len <= 16)
        copy_short(c->bytes + c->n_bytes, tok, len);
    else
        memcpy(c->bytes + c->n_bytes, tok, len);
    c->n_bytes += len;
    c->ends[c->n++] = c->n_bytes;
    return 0;
}

/* Keeps ids[0..n) as level `code`'s list in the memo input, unless the
 * memo is full (then the level stays LV_NONE). */
static enum lift_code memo_keep(struct memo_input *mi, uint32_t code,
                                const uint32_t *ids, size_t n, bool long_value,
                                struct lift_error *err)
{
    if (n > MEMO_MAX_TERMS - mi->n_kept)
        return LIFT_OK;
    if (mi->n_free < n) {
        if (mi->n_blocks == mi->cap_blocks) {
            size_t cap = mi->cap_blocks ? mi->cap_blocks * 2 : 16;
            uint32_t **b = lift_realloc_array(mi->blocks, cap, sizeof *b);
            if (!b)
                return lift_error_nomem(err, "text terms");
            mi->blocks = b;
            mi->cap_blocks = cap;
        }
        size_t size = n > MEMO_BLOCK ? n : MEMO_BLOCK;
        uint32_t *block = lift_malloc_array(size, sizeof *block);
        if (!block)
            return lift_error_nomem(err, "text terms");
        mi->blocks[mi->n_blocks++] = block;
        mi->free_at = block;
        mi->n_free = size;
    }
    if (n)
        memcpy(mi->free_at, ids, n * sizeof *ids);
    mi->ids[code] = mi->free_at;
    mi->n[code] = (uint32_t)n;
    mi->state[code] = long_value ? LV_LONG : LV_MEMO;
    mi->free_at += n;
    mi->n_free -= n;
    mi->n_kept += n;
    return LIFT_OK;
}

/* Document frequencies of the terms of a text column over the training
 * rows. Each distinct value (table level) is analysed once: its terms'
 * entries in g->seen (added in first-appearance order), sorted, are kept
 * in mi per level while they fit MEMO_MAX_TERMS, and a repeated value
 * only adds its distinct entries' df. That list is what mapping the row
 * gives, so lift_pipeline_transform can use it instead of analysing the
 * value again (memo_row). */
static enum lift_code count_text(const struct lift_table *t, size_t col,
                                 const uint32_t *rows, size_t n,
                                 const struct pl_input *in, unsigned max_tokens,
                                 struct fit_group *g, struct memo_input *mi,
                                 struct lift_error *err)
{
    struct lift_text_scratch *scratch = NULL;
    const uint32_t *codes = lift_table_codes(t, col);
    size_t nl = lift_table_n_levels(t, col);
    struct collect c = {NULL, 0, 0, NULL, NULL, 0, 0, LIFT_OK, err};
    uint32_t *tmp = NULL;
    size_t tmp_cap = 0;
    enum lift_code rc = LIFT_OK;
    mi->col = col;
    mi->n_levels = nl;
    mi->ids = lift_malloc_array(nl ? nl : 1, sizeof *mi->ids);
    mi->n = lift_malloc_array(nl ? nl : 1, sizeof *mi->n);
    mi->state = lift_calloc(nl ? nl : 1, sizeof *mi->state);
    if (!mi->ids || !mi->n || !mi->state) {
        rc = lift_error_nomem(err, "text terms");
        goto done;
    }
    mi->active = true;
    for (size_t i = 0; i < n; i++) {
        size_t row = rows ? rows[i] : i;
        uint32_t code = codes[row];
        if (code == LIFT_MISSING_CODE) {
            g->n_missing++;
            continue;
        }
        const uint32_t *ids;
        size_t m;
        if (mi->state[code] != LV_NONE) {
            ids = mi->ids[code];
            m = mi->n[code];
        } else {
            size_t len;
            const char *s = lift_table_level(t, col, code, &len);
            c.n = c.n_bytes = 0;
            if (tokenize_value(in, &scratch, s, len, collect_term, &c, err)) {
                rc = text_error(in, lift_table_row_line(t, row), err);
                goto done;
            }
            if ((rc = c.rc) ||
                (rc = lift_vocab_intern_many(&g->seen, c.bytes, c.ends, c.n,
                                             c.ids, err)))
                goto done;
            if (g->count_cap < g->seen.n) {
                size_t cap = g->count_cap ? g->count_cap : 1024;
                while (cap < g->seen.n)
                    cap *= 2;
                size_t *cnt = lift_realloc_array(g->count, cap, sizeof *cnt);
                if (!cnt) {
                    rc = lift_error_nomem(err, "token counts");
                    goto done;
                }
                memset(cnt + g->count_cap, 0,
                       (cap - g->count_cap) * sizeof *cnt);
                g->count = cnt;
                g->count_cap = cap;
            }
            if (tmp_cap < c.n) {
                uint32_t *nt = lift_realloc_array(tmp, c.n, sizeof *nt);
                if (!nt) {
                    rc = lift_error_nomem(err, "text terms");
                    goto done;
                }
                tmp = nt;
                tmp_cap = c.n;
            }
            lift_sort_u32(c.ids, tmp, c.n);
            if (c.n <= UINT32_MAX &&
                (rc = memo_keep(mi, code, c.ids, c.n, c.n > max_tokens, err)))
                goto done;
            ids = c.ids;
            m = c.n;
        }
        for (size_t k = 0; k < m; k++)
            if (k == 0 || ids[k] != ids[k - 1])
                g->count[ids[k]]++;
    }
done:
    lift_text_scratch_free(scratch);
    lift_free(c.bytes);
    lift_free(c.ends);
    lift_free(c.ids);
    lift_free(tmp);
    return rc;
}

static enum lift_code count_cross(const struct lift_table *t, size_t ca,
                                  size_t cb, const struct pl_input *ia,
                                  const struct pl_input *ib,
                                  const uint32_t *rows, size_t n,
                                  struct fit_group *g, struct lift_error *err)
{
    const uint32_t *a = lift_table_codes(t, ca), *b = lift_table_codes(t, cb);
    char buf[2 * CROSS_PART_MAX + 2];
    for (size_t i = 0; i < n; i++) {
        size_t row = rows ? rows[i] : i;
        if (a[row] == LIFT_MISSING_CODE || b[row] == LIFT_MISSING_CODE)
            continue;
        size_t la, lb;
        const char *sa = lift_table_level(t, ca, a[row], &la);
        const char *sb = lift_table_level(t, cb, b[row], &lb);
        if (is_sentinel(ia, sa, la) || is_sentinel(ib, sb, lb))
            continue;
        size_t k = cross_key(buf, sa, la, sb, lb);
        long e = lift_vocab_find(&g->seen, buf, k);
        if (e < 0) {
            size_t entry;
            enum lift_code rc =
                lift_vocab_add(&g->seen, buf, k, 0, 0, &entry, err);
            if (rc)
                return rc;
            if (entry >= g->count_cap) {
                size_t cap = g->count_cap ? g->count_cap * 2 : 256;
                size_t *c = lift_realloc_array(g->count, cap, sizeof *c);
                if (!c)
                    return lift_error_nomem(err, "cross counts");
                g->count = c;
                g->count_cap = cap;
            }
            g->count[entry] = 0;
            e = (long)entry;
        }
        g->count[e]++;
    }
    return LIFT_OK;
}

static enum lift_code copy_sentinels(struct pl_input *in,
                                     const struct lift_table *t, size_t col,
                                     struct lift_error *err)
{
    size_t n = lift_table_n_sentinels(t, col);
    if (n == 0)
        return LIFT_OK;
    in->sentinels = lift_calloc(n, sizeof *in->sentinels);
    in->sentinel_num = lift_malloc_array(n, sizeof *in->sentinel_num);
    if (!in->sentinels || !in->sentinel_num)
        return lift_error_nomem(err, "missing-value list");
    in->n_sentinels = n;
    for (size_t k = 0; k < n; k++) {
        const char *s = lift_table_sentinel(t, col, k);
        if (!(in->sentinels[k] = lift_strdup(s)))
            return lift_error_nomem(err, "missing-value list");
        double v;
        in->sentinel_num[k] =
            lift_parse_number(s, strlen(s), &v) ? v : (double)NAN;
    }
    return LIFT_OK;
}

static uint64_t group_seed(const char *name)
{
    return lift_hash(name, strlen(name), 0x6c696674u);
}

static enum lift_code choose_inputs(struct lift_pipeline *p,
                                    const struct lift_table *t,
                                    const struct lift_pipeline_spec *spec,
                                    size_t **cols, struct lift_error *err)
{
    size_t nc = lift_table_n_cols(t);
    const char *const *lists[2] = {spec->drop, spec->text};
    size_t counts[2] = {spec->n_drop, spec->n_text};
    const char *what[2] = {"dropped", "text"};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            size_t c;
            if (lift_table_col_index(t, lists[l][i], &c, NULL))
                return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                                      "no column '%s' (named as %s)",
                                      lists[l][i], what[l]);
        }
    *cols = lift_malloc_array(nc ? nc : 1, sizeof **cols);
    p->in = lift_calloc(nc ? nc : 1, sizeof *p->in);
    if (!*cols || !p->in)
        return lift_error_nomem(err, "inputs");
    for (size_t c = 0; c < nc; c++) {
        const char *name = lift_table_col_name(t, c);
        if ((spec->target && strcmp(name, spec->target) == 0) ||
            in_list(name, spec->drop, spec->n_drop))
            continue;
        enum lift_col_type ty = lift_table_col_type(t, c);
        struct pl_input *in = &p->in[p->n_inputs];
        in->src_type = ty;
        bool text = in_list(name, spec->text, spec->n_text);
        if (text && ty != LIFT_COL_TEXT && ty != LIFT_COL_CATEGORICAL)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "column '%s' is %s, not text", name,
                                  lift_col_type_name(ty));
        if (text || ty == LIFT_COL_TEXT)
            in->kind = PL_TEXT;
        else if (ty == LIFT_COL_CATEGORICAL)
            in->kind = PL_CATEGORICAL;
        else
            in->kind = PL_NUMERIC;
        if (!(in->name = lift_strdup(name)))
            return lift_error_nomem(err, "inputs");
        in->seed = group_seed(name);
        in->scale = 1.0;
        in->f_value = in->f_missing = in->f_rare = in->f_bins =
            LIFT_FEATURE_NONE;
        enum lift_code rc = copy_sentinels(in, t, c, err);
        if (rc)
            return rc;
        (*cols)[p->n_inputs++] = c;
    }
    if (p->n_inputs == 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "no input columns left to learn from");
    return LIFT_OK;
}

static enum lift_code choose_crosses(struct lift_pipeline *p,
                                     const struct lift_pipeline_spec *spec,
                                     struct lift_error *err)
{
    if (spec->n_cross == 0)
        return LIFT_OK;
    if (p->n_inputs > 256)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "crosses need at most 256 input columns, the "
                              "data has %zu",
                              p->n_inputs);
    p->cross = lift_calloc(spec->n_cross, sizeof *p->cross);
    if (!p->cross)
        return lift_error_nomem(err, "crosses");
    for (size_t i = 0; i < spec->n_cross; i++) {
        const char *s = spec->cross[i], *comma = strchr(s, ',');
        long ab[2] = {-1, -1};
        if (comma && !strchr(comma + 1, ','))
            for (size_t k = 0; k < p->n_inputs; k++) {
                const char *nm = p->in[k].name;
                if (strlen(nm) == (size_t)(comma - s) &&
                    memcmp(nm, s, (size_t)(comma - s)) == 0)
                    ab[0] = (long)k;
                if (strcmp(nm, comma + 1) == 0)
                    ab[1] = (long)k;
            }
        if (ab[0] < 0 || ab[1] < 0 || ab[0] == ab[1] ||
            p->in[ab[0]].kind != PL_CATEGORICAL ||
            p->in[ab[1]].kind != PL_CATEGORICAL)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad cross '%s' (two different categorical "
                                  "input columns, as a,b)",
                                  s);
        struct pl_cross *x = &p->cross[p->n_cross];
        x->a = (uint32_t)ab[0];
        x->b = (uint32_t)ab[1];
        size_t la = strlen(p->in[ab[0]].name), lb = strlen(p->in[ab[1]].name);
        x->name = lift_malloc(la + lb + 2);
        if (!x->name)
            return lift_error_nomem(err, "crosses");
        snprintf(x->name, la + lb + 2, "%s&%s", p->in[ab[0]].name,
                 p->in[ab[1]].name);
        x->seed = group_seed(x->name);
        x->f_rare = LIFT_FEATURE_NONE;
        p->n_cross++;
    }
    return LIFT_OK;
}

static enum lift_code fit_numeric(struct pl_input *in,
                                  const struct lift_table *t, size_t col,
                                  const uint32_t *rows, size_t n, unsigned bins,
                                  double *scratch, bool *has_missing,
                                  struct lift_error *err)
{
    const double *v = lift_table_values(t, col);
    double mean = 0, m2 = 0;
    size_t k = 0;
    *has_missing = false;
    for (size_t i = 0; i < n; i++) {
        double x = v[rows ? rows[i] : i];
        bool miss = isnan(x);
        for (size_t s = 0; !miss && s < in->n_sentinels; s++)
            miss = in->sentinel_num[s] == x;
        if (miss) {
            *has_missing = true;
            continue;
        }
        scratch[k++] = x;
        double d = x - mean;
        mean += d / (double)k;
        m2 += d * (x - mean);
    }
    double sd = k > 1 ? sqrt(m2 / (double)k) : 0.0; /* population sd */
    in->mean = k ? mean : 0.0;
    in->scale = sd > 0 ? sd : 1.0;
    return fit_edges(in, scratch, k, bins ? bins : MAX_EDGES + 1, err);
}

/* Assigns feature indices group by group (dict mode). */
static enum lift_code assign_features(struct lift_pipeline *p,
                                      struct fit_group *groups,
                                      const bool *missing, struct cand *cands,
                                      size_t n_cands, size_t n_rows,
                                      struct lift_pipeline_memo *memo,
                                      struct lift_error *err)
{
    size_t n_groups = p->n_inputs + p->n_cross;
    /* upper bound of features, for the name tables */
    size_t bound = n_cands;
    for (size_t g = 0; g < n_groups; g++)
        bound += 3 + (g < p->n_inputs ? p->in[g].n_edges + 1 : 0);
    p->feat_group = lift_malloc_array(bound, sizeof *p->feat_group);
    p->feat_part = lift_malloc_array(bound, sizeof *p->feat_part);
    if (!p->feat_group || !p->feat_part)
        return lift_error_nomem(err, "feature names");
    uint32_t f = 0;
    size_t c = 0; /* cands are grouped and in order */
#define NEW_FEATURE(group, part)                                               \
    (p->feat_group[f] = (uint32_t)(group), p->feat_part[f] = (part), f++)
    for (size_t g = 0; g < n_groups; g++) {
        struct fit_group *fg = &groups[g];
        struct lift_vocab *dst;
        uint32_t *rare, *feat = NULL;
        bool text = false;
        if (g < p->n_inputs) {
            struct pl_input *in = &p->in[g];
            dst = &in->vocab;
            rare = &in->f_rare;
            if (in->kind == PL_NUMERIC) {
                if (p->bins) {
                    in->f_bins = f;
                    for (uint32_t b = 0; b <= in->n_edges; b++)
                        NEW_FEATURE(g, PART_BIN | b);
                } else {
                    in->f_value = NEW_FEATURE(g, PART_VALUE);
                }
                if (missing[g])
                    in->f_missing = NEW_FEATURE(g, PART_MISSING);
                continue;
            }
            text = in->kind == PL_TEXT;
            if (text && memo && memo->in[g].active) {
                /* seen entry -> feature, for mapping from the memo */
                feat = lift_malloc_array(fg->seen.n ? fg->seen.n : 1,
                                         sizeof *feat);
                if (!feat)
                    return lift_error_nomem(err, "text terms");
                memo->in[g].feat = feat;
            }
        } else {
            dst = &p->cross[g - p->n_inputs].vocab;
            rare = &p->cross[g - p->n_inputs].f_rare;
        }
        bool dropped = false;
        for (; c < n_cands && cands[c].group == g; c++) {
            const struct cand *cd = &cands[c];
            if (feat)
                feat[cd->order] = cd->keep ? f : LIFT_FEATURE_NONE;
            if (!cd->keep) {
                dropped = true;
                continue;
            }
            float idf = 0.0f;
            if (text)
                idf = (float)(log((1.0 + (double)n_rows) /
                                  (1.0 + (double)cd->count)) +
                              1.0);
            size_t entry, len;
            const char *key = lift_vocab_key(&fg->seen, cd->order, &len);
            enum lift_code rc =
                lift_vocab_add(dst, key, len, f, idf, &entry, err);
            if (rc)
                return rc;
            NEW_FEATURE(g, (uint32_t)entry);
        }
        if (text)
            continue;
        if (g < p->n_inputs && missing[g])
            p->in[g].f_missing = NEW_FEATURE(g, PART_MISSING);
        if (dropped)
            *rare = NEW_FEATURE(g, PART_RARE);
    }
#undef NEW_FEATURE
    p->n_features = f;
    return LIFT_OK;
}

/* A text term ranked for the trees' term columns. */
struct term_rank {
    uint32_t entry;
    size_t df;
    const char *key;
    size_t len;
};

/* Higher document frequency first, then the term's bytes, so the choice
 * does not depend on the order rows came in. */
static int cmp_term_rank(const void *a, const void *b)
{
    const struct term_rank *x = a, *y = b;
    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->key, y->key, n) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* A term's weight in one training row, while fitting edges. */
struct term_value {
    uint32_t term;
    float w;
};

/* Chooses each text input's top n_want terms of the vocabulary by
 * document frequency (the candidates' counts) and fits the quantile
 * edges of their non-zero weights over the training rows, mapped from
 * the memo when it applies. */
static enum lift_code fit_terms(struct lift_pipeline *p,
                                const struct lift_table *t,
                                const uint32_t *rows, size_t n_rows,
                                unsigned n_want, const struct fit_group *groups,
                                const struct cand *cands, size_t n_cands,
                                const struct lift_pipeline_memo *memo,
                                struct lift_error *err)
{
    struct term_rank *ranks = NULL;
    struct term_value *tv = NULL;
    size_t *start = NULL;
    double *vals = NULL;
    struct lift_binding *b = NULL;
    struct lift_row r = {0};
    enum lift_code rc = LIFT_OK;
    size_t col = p->n_inputs, max_terms = 0;
    for (size_t g = 0; g < p->n_inputs; g++) {
        struct pl_input *in = &p->in[g];
        if (in->kind != PL_TEXT)
            continue;
        size_t nv = in->vocab.n, k = 0;
        lift_free(ranks);
        ranks = lift_malloc_array(nv ? nv : 1, sizeof *ranks);
        in->term_of = lift_malloc_array(nv ? nv : 1, sizeof *in->term_of);
        if (!ranks || !in->term_of) {
            rc = lift_error_nomem(err, "text terms");
            goto done;
        }
        for (size_t c = 0; c < n_cands; c++) {
            if (cands[c].group != g || !cands[c].keep)
                continue;
            size_t len;
            const char *key =
                lift_vocab_key(&groups[g].seen, cands[c].order, &len);
            long e = lift_vocab_find(&in->vocab, key, len);
            LIFT_ASSERT(e >= 0 && k < nv);
            ranks[k++] =
                (struct term_rank){(uint32_t)e, cands[c].count, key, len};
        }
        LIFT_ASSERT(k == nv);
        qsort(ranks, nv, sizeof *ranks, cmp_term_rank);
        uint32_t nt = nv < n_want ? (uint32_t)nv : n_want;
        in->terms = lift_calloc(nt ? nt : 1, sizeof *in->terms);
        if (!in->terms) {
            rc = lift_error_nomem(err, "text terms");
            goto done;
        }
        for (size_t e = 0; e < nv; e++)
            in->term_of[e] = UINT32_MAX;
        for (uint32_t j = 0; j < nt; j++) {
            in->terms[j].feat = in->vocab.feat[ranks[j].entry];
            in->term_of[ranks[j].entry] = j;
        }
        in->n_terms = nt;
        in->term_col0 = col;
        col += nt;
        if (nt > max_terms)
            max_terms = nt;
    }
    p->n_bin_cols = col;
    if (col == p->n_inputs)
        goto done;
    if ((rc = lift_pipeline_bind(p, t, false, &b, NULL, err)) ||
        (rc = lift_row_init(&r, p, err)))
        goto done;
    start = lift_malloc_array(max_terms + 1, sizeof *start);
    if (!start) {
        rc = lift_error_nomem(err, "text terms");
        goto done;
    }
    size_t cap = 0;
    for (size_t g = 0; g < p->n_inputs; g++) {
        struct pl_input *in = &p->in[g];
        if (in->kind != PL_TEXT || in->n_terms == 0)
            continue;
        size_t n = 0;
        for (size_t i = 0; i < n_rows; i++) {
            if ((rc = text_row(b, memo, g, rows ? rows[i] : i, &r, err)))
                goto done;
            for (size_t j = 0; j < r.nnz; j++) {
                uint32_t term = in->term_of[p->feat_part[r.idx[j]]];
                if (term == UINT32_MAX || !(r.val[j] > 0.0f))
                    continue;
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 4096;
                    struct term_value *x =
                        lift_realloc_array(tv, nc, sizeof *x);
                    if (!x) {
                        rc = lift_error_nomem(err, "text terms");
                        goto done;
                    }
                    tv = x;
                    cap = nc;
                }
                tv[n++] = (struct term_value){term, r.val[j]};
            }
        }
        /* bucket the values by term, then fit each term's edges */
        lift_free(vals);
        vals = lift_malloc_array(n ? n : 1, sizeof *vals);
        if (!vals) {
            rc = lift_error_nomem(err, "text terms");
            goto done;
        }
        memset(start, 0, (in->n_terms + 1) * sizeof *start);
        for (size_t i = 0; i < n; i++)
            start[tv[i].term + 1]++;
        for (uint32_t k = 0; k < in->n_terms; k++)
            start[k + 1] += start[k];
        for (size_t i = 0; i < n; i++)
            vals[start[tv[i].term]++] = tv[i].w;
        size_t from = 0;
        for (uint32_t k = 0; k < in->n_terms; k++) {
            size_t to = start[k];
            struct pl_term *pt = &in->terms[k];
            if ((rc = edges_of(vals + from, to - from, TERM_EDGES + 1,
                               &pt->edges, &pt->n_edges, err)))
                goto done;
            from = to;
        }
    }
done:
    lift_free(ranks);
    lift_free(tv);
    lift_free(start);
    lift_free(vals);
    lift_row_release(&r);
    lift_binding_free(b);
    return rc;
}

enum lift_code lift_pipeline_fit(const struct lift_table *t,
                                 const uint32_t *rows, size_t n_rows,
                                 const struct lift_pipeline_spec *spec,
                                 struct lift_pipeline **out,
                                 struct lift_error *err)
{
    return lift_pipeline_fit_memo(t, rows, n_rows, spec, out, NULL, err);
}

enum lift_code lift_pipeline_fit_memo(const struct lift_table *t,
                                      const uint32_t *rows, size_t n_rows,
                                      const struct lift_pipeline_spec *spec,
                                      struct lift_pipeline **out,
                                      struct lift_pipeline_memo **memo_out,
                                      struct lift_error *err)
{
    *out = NULL;
    if (memo_out)
        *memo_out = NULL;
    if (!rows)
        n_rows = lift_table_n_rows(t);
    struct lift_pipeline *p = lift_calloc(1, sizeof *p);
    if (!p)
        return lift_error_nomem(err, "pipeline");
    size_t *cols = NULL;
    struct fit_group *groups = NULL;
    bool *missing = NULL;
    double *scratch = NULL;
    struct cand *cands = NULL;
    struct lift_pipeline_memo *memo = NULL;
    size_t n_groups = 0, n_cands = 0;
    enum lift_code rc;
    p->mode = spec->index;
    p->bins = spec->bins;
    p->max_tokens = spec->max_tokens ? spec->max_tokens : DEFAULT_MAX_TOKENS;
    if (p->bins == 1 || p->bins > MAX_EDGES + 1) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "bins must be between 2 and %d, not %u",
                            MAX_EDGES + 1, p->bins);
        goto done;
    }
    if (spec->text_terms > LIFT_PIPELINE_MAX_TEXT_TERMS) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "text terms must be between 1 and %d, not %u",
                            LIFT_PIPELINE_MAX_TEXT_TERMS, spec->text_terms);
        goto done;
    }
    if (p->mode == LIFT_INDEX_HASH) {
        if (spec->bits < 16 || spec->bits > 28) {
            rc = lift_error_set(err, LIFT_ERR_INVALID,
                                "bits must be between 16 and 28, not %u",
                                spec->bits);
            goto done;
        }
        p->bits = spec->bits;
        p->mask = (uint32_t)((1u << spec->bits) - 1);
    }
    if (n_rows == 0) {
        rc = lift_error_set(err, LIFT_ERR_INVALID, "no training rows");
        goto done;
    }
    if ((rc = choose_inputs(p, t, spec, &cols, err)) ||
        (rc = choose_crosses(p, spec, err)))
        goto done;
    p->n_bin_cols = p->n_inputs;
    for (size_t g = 0; spec->text_terms && g < p->n_inputs; g++)
        if (p->in[g].kind == PL_TEXT && p->mode == LIFT_INDEX_HASH) {
            rc = lift_error_set(err, LIFT_ERR_INVALID,
                                "text terms for trees need the dict index, "
                                "not hashing (text column '%s')",
                                p->in[g].name);
            goto done;
        }
    struct lift_text_opts defaults;
    lift_text_opts_init(&defaults);
    for (size_t g = 0; g < p->n_inputs; g++)
        if (p->in[g].kind == PL_TEXT &&
            (rc = lift_text_analyzer_new(spec->text_opts ? spec->text_opts
                                                         : &defaults,
                                         &p->in[g].ta, err)))
            goto done;
    n_groups = p->n_inputs + p->n_cross;
    groups = lift_calloc(n_groups, sizeof *groups);
    missing = lift_calloc(n_groups, sizeof *missing);
    scratch = lift_malloc_array(n_rows, sizeof *scratch);
    if ((memo = lift_calloc(1, sizeof *memo))) {
        memo->n_inputs = p->n_inputs;
        memo->in = lift_calloc(p->n_inputs ? p->n_inputs : 1, sizeof *memo->in);
    }
    if (!groups || !missing || !scratch || !memo || !memo->in) {
        rc = lift_error_nomem(err, "pipeline fit");
        goto done;
    }
    size_t min_count = spec->min_count ? spec->min_count : 1;
    for (size_t g = 0; g < p->n_inputs; g++) {
        struct pl_input *in = &p->in[g];
        if (in->kind == PL_NUMERIC)
            rc = fit_numeric(in, t, cols[g], rows, n_rows, p->bins, scratch,
                             &missing[g], err);
        else if (p->mode == LIFT_INDEX_HASH)
            rc = LIFT_OK; /* no vocabulary */
        else if (in->kind == PL_CATEGORICAL)
            rc = count_categorical(t, cols[g], rows, n_rows, in, &groups[g],
                                   err);
        else
            rc = count_text(t, cols[g], rows, n_rows, in, p->max_tokens,
                            &groups[g], &memo->in[g], err);
        if (rc)
            goto done;
        if (in->kind != PL_NUMERIC)
            missing[g] = groups[g].n_missing > 0;
    }
    for (size_t i = 0; i < p->n_cross && p->mode == LIFT_INDEX_DICT; i++) {
        const struct pl_cross *x = &p->cross[i];
        if ((rc = count_cross(t, cols[x->a], cols[x->b], &p->in[x->a],
                              &p->in[x->b], rows, n_rows,
                              &groups[p->n_inputs + i], err)))
            goto done;
    }
    if (p->mode == LIFT_INDEX_HASH) {
        p->n_features = (size_t)1 << p->bits;
        for (size_t g = 0; g < p->n_inputs; g++) {
            struct pl_input *in = &p->in[g];
            char key[8] = "\0value";
            in->f_value = hash_slot(p, key, sizeof key, in->seed);
            if (in->kind != PL_TEXT)
                in->f_missing = hash_slot(p, "", 0, in->seed ^ MISSING_SALT);
        }
    } else {
        /* candidates: every seen value, grouped, in first-appearance order */
        for (size_t g = 0; g < n_groups; g++)
            n_cands += groups[g].seen.n;
        cands = lift_malloc_array(n_cands ? n_cands : 1, sizeof *cands);
        if (!cands) {
            rc = lift_error_nomem(err, "pipeline fit");
            goto done;
        }
        size_t k = 0, n_keep = 0, fixed = 0;
        for (size_t g = 0; g < n_groups; g++) {
            for (size_t e = 0; e < groups[g].seen.n; e++, k++) {
                cands[k].group = (uint32_t)g;
                cands[k].order = (uint32_t)e;
                cands[k].count = groups[g].count[e];
                /* unset, a text term needs two training rows: one seen
                 * once cannot generalise (lift cv on the SMS split) */
                size_t mc = spec->min_count ? min_count
                            : g < p->n_inputs && p->in[g].kind == PL_TEXT ? 2
                                                                          : 1;
                cands[k].keep = cands[k].count >= mc;
                n_keep += cands[k].keep;
            }
            fixed += 2; /* value/missing or missing/rare at most */
        }
        if (spec->max_features && n_keep + fixed > spec->max_features) {
            size_t budget =
                spec->max_features > fixed ? spec->max_features - fixed : 0;
            struct cand *sorted =
                lift_malloc_array(n_cands ? n_cands : 1, sizeof *sorted);
            if (!sorted) {
                rc = lift_error_nomem(err, "pipeline fit");
                goto done;
            }
            memcpy(sorted, cands, n_cands * sizeof *sorted);
            qsort(sorted, n_cands, sizeof *sorted, cmp_cand);
            size_t kept = 0;
            for (size_t i = 0; i < n_cands; i++) {
                struct cand *orig = NULL;
                /* locate the original by (group, order): groups are
                 * contiguous, so index = group start + order */
                size_t start = 0;
                for (uint32_t g = 0; g < sorted[i].group; g++)
                    start += groups[g].seen.n;
                orig = &cands[start + sorted[i].order];
                if (orig->keep && kept < budget)
                    kept++;
                else
                    orig->keep = false;
            }
            lift_free(sorted);
        }
        if ((rc = assign_features(p, groups, missing, cands, n_cands, n_rows,
                                  memo_out || spec->text_terms ? memo : NULL,
                                  err)))
            goto done;
    }
    /* the largest row */
    p->max_nnz = p->n_cross;
    for (size_t g = 0; g < p->n_inputs; g++)
        p->max_nnz += p->in[g].kind == PL_TEXT ? p->max_tokens : 2;
    if (memo_out || spec->text_terms) {
        /* mapping reads a missing spelling (or sentinel) as missing; the
         * table reader makes such cells missing, so no level should be
         * one, but should one be, it is left to the usual mapping */
        for (size_t g = 0; g < p->n_inputs; g++) {
            struct memo_input *mi = &memo->in[g];
            for (uint32_t l = 0; mi->active && l < mi->n_levels; l++) {
                if (mi->state[l] != LV_MEMO)
                    continue;
                size_t len;
                const char *s = lift_table_level(t, mi->col, l, &len);
                if (lift_is_default_missing(s, len) ||
                    is_sentinel(&p->in[g], s, len))
                    mi->state[l] = LV_NONE;
            }
        }
    }
    if (memo_out || spec->text_terms) {
        memo->p = p;
        memo->t = t;
    }
    if (spec->text_terms && p->mode == LIFT_INDEX_DICT &&
        (rc = fit_terms(p, t, rows, n_rows, spec->text_terms, groups, cands,
                        n_cands, memo, err)))
        goto done;
    if (memo_out) {
        *memo_out = memo;
        memo = NULL;
    }
done:
    for (size_t g = 0; groups && g < n_groups; g++)
        fit_group_release(&groups[g]);
    lift_free(groups);
    lift_free(missing);
    lift_free(scratch);
    lift_free(cands);
    lift_free(cols);
    lift_pipeline_memo_free(memo);
    if (rc) {
        lift_pipeline_free(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

/* ---- serialisation ------------------------------------------------------ */

#define NAME_MAX_LEN 4096
#define VALUE_MAX_LEN ((size_t)1 << 20)
#define MAX_GROUPS ((size_t)1 << 20)
#define MAX_VOCAB ((size_t)1 << 28)

static void save_vocab(struct lift_writer *w, const struct lift_vocab *v)
{
    lift_writer_u64(w, v->n);
    for (size_t e = 0; e < v->n; e++) {
        size_t len;
        const char *key = lift_vocab_key(v, e, &len);
        lift_writer_u32(w, (uint32_t)len);
        lift_writer_bytes(w, key, len);
        lift_writer_u32(w, v->feat[e]);
        lift_writer_f32(w, v->idf[e]);
    }
}

enum lift_code lift_pipeline_save(const struct lift_pipeline *p,
                                  struct lift_writer *w, struct lift_error *err)
{
    bool text_opts = false;
    for (size_t i = 0; i < p->n_inputs; i++)
        text_opts = text_opts || p->in[i].ta;
    bool terms = p->n_bin_cols > p->n_inputs;
    lift_writer_u32(w, (uint32_t)p->mode | (text_opts ? MODE_TEXT_OPTS : 0) |
                           (terms ? MODE_TEXT_TERMS : 0));
    lift_writer_u32(w, p->bits);
    lift_writer_u32(w, p->bins);
    lift_writer_u32(w, p->max_tokens);
    lift_writer_u64(w, p->n_features);
    lift_writer_u64(w, p->n_inputs);
    for (size_t i = 0; i < p->n_inputs; i++) {
        const struct pl_input *in = &p->in[i];
        lift_writer_str(w, in->name);
        lift_writer_u8(w, (uint8_t)in->kind);
        lift_writer_u8(w, (uint8_t)in->src_type);
        lift_writer_u64(w, in->n_sentinels);
        for (size_t k = 0; k < in->n_sentinels; k++)
            lift_writer_str(w, in->sentinels[k]);
        lift_writer_f64(w, in->mean);
        lift_writer_f64(w, in->scale);
        lift_writer_u32(w, in->f_value);
        lift_writer_u32(w, in->f_missing);
        lift_writer_u32(w, in->f_rare);
        lift_writer_u32(w, in->f_bins);
        lift_writer_u64(w, in->n_edges);
        lift_writer_f64s(w, in->edges, in->n_edges);
        save_vocab(w, &in->vocab);
        if (text_opts && in->kind == PL_TEXT) {
            /* a text input without an analyser cannot be written beside
             * ones with: fitting gives every text input one */
            LIFT_ASSERT(in->ta);
            lift_text_opts_save(lift_text_analyzer_opts(in->ta), w);
        }
    }
    lift_writer_u64(w, p->n_cross);
    for (size_t i = 0; i < p->n_cross; i++) {
        const struct pl_cross *x = &p->cross[i];
        lift_writer_u32(w, x->a);
        lift_writer_u32(w, x->b);
        lift_writer_u32(w, x->f_rare);
        save_vocab(w, &x->vocab);
    }
    for (size_t i = 0; terms && i < p->n_inputs; i++) {
        const struct pl_input *in = &p->in[i];
        if (in->kind != PL_TEXT)
            continue;
        lift_writer_u32(w, in->n_terms);
        for (uint32_t k = 0; k < in->n_terms; k++) {
            lift_writer_u32(w, in->terms[k].feat);
            lift_writer_u32(w, in->terms[k].n_edges);
            lift_writer_f64s(w, in->terms[k].edges, in->terms[k].n_edges);
        }
    }
    return lift_writer_status(w, err);
}

static bool load_vocab(struct lift_reader *r, struct lift_vocab *v, bool text,
                       size_t n_features, struct lift_error *err)
{
    size_t n = lift_reader_count(r, 12, MAX_VOCAB, "vocabulary");
    for (size_t e = 0; e < n && lift_reader_ok(r); e++) {
        uint32_t len = lift_reader_u32(r, "vocabulary entry");
        if (len > VALUE_MAX_LEN) {
            lift_reader_fail(r, "vocabulary entry too long in the model file");
            break;
        }
        const char *s = lift_reader_bytes(r, len, "vocabulary entry");
        uint32_t feat = lift_reader_u32(r, "vocabulary feature");
        float idf = lift_reader_f32(r, "idf");
        if (!lift_reader_ok(r))
            break;
        if (feat >= n_features || !isfinite(idf) || (text && idf <= 0)) {
            lift_reader_fail(r, "bad vocabulary entry in the model file");
            break;
        }
        if (lift_vocab_find(v, s, len) >= 0) {
            lift_reader_fail(r, "duplicate vocabulary entry in the model "
                                "file");
            break;
        }
        if (lift_vocab_add(v, s, len, feat, idf, NULL, err))
            return false;
    }
    return lift_reader_ok(r);
}

/* Checks that feature f is in range and unclaimed, and claims it. */
static bool claim(struct lift_pipeline *p, struct lift_reader *r, uint32_t f,
                  uint32_t group, uint32_t part)
{
    if (f == LIFT_FEATURE_NONE)
        return true;
    if (f >= p->n_features || p->feat_group[f] != UINT32_MAX) {
        lift_reader_fail(r, "bad feature index %u in the model file", f);
        return false;
    }
    p->feat_group[f] = group;
    p->feat_part[f] = part;
    return true;
}

static bool check_dict(struct lift_pipeline *p, struct lift_reader *r,
                       struct lift_error *err)
{
    p->feat_group = lift_malloc_array(p->n_features, sizeof *p->feat_group);
    p->feat_part = lift_malloc_array(p->n_features, sizeof *p->feat_part);
    if (!p->feat_group || !p->feat_part) {
        lift_error_nomem(err, "feature names");
        return false;
    }
    for (size_t f = 0; f < p->n_features; f++)
        p->feat_group[f] = UINT32_MAX;
    for (size_t g = 0; g < p->n_inputs; g++) {
        const struct pl_input *in = &p->in[g];
        uint32_t gg = (uint32_t)g;
        if (!claim(p, r, in->f_value, gg, PART_VALUE) ||
            !claim(p, r, in->f_missing, gg, PART_MISSING) ||
            !claim(p, r, in->f_rare, gg, PART_RARE))
            return false;
        if (in->f_bins != LIFT_FEATURE_NONE)
            for (uint32_t b = 0; b <= in->n_edges; b++)
                if (in->f_bins > p->n_features - 1 - b ||
                    !claim(p, r, in->f_bins + b, gg, PART_BIN | b)) {
                    lift_reader_fail(r, "bad bin features in the model file");
                    return false;
                }
        for (size_t e = 0; e < in->vocab.n; e++)
            if (!claim(p, r, in->vocab.feat[e], gg, (uint32_t)e))
                return false;
    }
    for (size_t i = 0; i < p->n_cross; i++) {
        const struct pl_cross *x = &p->cross[i];
        uint32_t gg = (uint32_t)(p->n_inputs + i);
        if (!claim(p, r, x->f_rare, gg, PART_RARE))
            return false;
        for (size_t e = 0; e < x->vocab.n; e++)
            if (!claim(p, r, x->vocab.feat[e], gg, (uint32_t)e))
                return false;
    }
    for (size_t f = 0; f < p->n_features; f++)
        if (p->feat_group[f] == UINT32_MAX) {
            lift_reader_fail(r,
                             "feature %zu is not defined in the model "
                             "file",
                             f);
            return false;
        }
    return true;
}

static bool load_input(struct lift_pipeline *p, struct lift_reader *r,
                       struct pl_input *in, bool text_opts,
                       struct lift_error *err)
{
    in->name = lift_reader_str(r, NAME_MAX_LEN, "input name");
    uint8_t kind = lift_reader_u8(r, "input kind");
    uint8_t src = lift_reader_u8(r, "input type");
    if (!lift_reader_ok(r))
        return false;
    if (kind > PL_TEXT || src > LIFT_COL_DATE) {
        lift_reader_fail(r, "bad input kind in the model file");
        return false;
    }
    in->kind = (enum pl_kind)kind;
    in->src_type = (enum lift_col_type)src;
    in->seed = group_seed(in->name);
    size_t ns = lift_reader_count(r, 4, 1024, "sentinels");
    if (ns) {
        in->sentinels = lift_calloc(ns, sizeof *in->sentinels);
        in->sentinel_num = lift_malloc_array(ns, sizeof *in->sentinel_num);
        if (!in->sentinels || !in->sentinel_num) {
            lift_error_nomem(err, "model");
            return false;
        }
        in->n_sentinels = ns;
        for (size_t k = 0; k < ns; k++) {
            in->sentinels[k] = lift_reader_str(r, VALUE_MAX_LEN, "sentinel");
            if (!in->sentinels[k])
                return false;
            double v;
            in->sentinel_num[k] =
                lift_parse_number(in->sentinels[k], strlen(in->sentinels[k]),
                                  &v)
                    ? v
                    : (double)NAN;
        }
    }
    in->mean = lift_reader_f64(r, "mean");
    in->scale = lift_reader_f64(r, "scale");
    in->f_value = lift_reader_u32(r, "feature");
    in->f_missing = lift_reader_u32(r, "feature");
    in->f_rare = lift_reader_u32(r, "feature");
    in->f_bins = lift_reader_u32(r, "feature");
    size_t ne = lift_reader_count(r, 8, MAX_EDGES, "quantile edges");
    if (!lift_reader_ok(r))
        return false;
    if (!isfinite(in->mean) || !isfinite(in->scale) || !(in->scale > 0)) {
        lift_reader_fail(r, "bad scaling of input '%s' in the model file",
                         in->name);
        return false;
    }
    in->edges = lift_malloc_array(ne ? ne : 1, sizeof *in->edges);
    if (!in->edges) {
        lift_error_nomem(err, "model");
        return false;
    }
    in->n_edges = (uint32_t)ne;
    lift_reader_f64s(r, in->edges, ne, "quantile edges");
    for (size_t k = 0; k < ne && lift_reader_ok(r); k++)
        if (!isfinite(in->edges[k]) || (k && in->edges[k] <= in->edges[k - 1]))
            lift_reader_fail(r, "bad quantile edges in the model file");
    if (in->kind == PL_NUMERIC && p->mode == LIFT_INDEX_DICT &&
        (p->bins ? in->f_bins : in->f_value) == LIFT_FEATURE_NONE)
        lift_reader_fail(r,
                         "numeric input '%s' has no feature in the model "
                         "file",
                         in->name);
    if (!lift_reader_ok(r))
        return false;
    if (!load_vocab(r, &in->vocab, in->kind == PL_TEXT, p->n_features, err))
        return false;
    if (!text_opts || in->kind != PL_TEXT)
        return true;
    struct lift_text_opts o;
    bool ok = lift_text_opts_load(&o, r, err) &&
              lift_text_analyzer_new(&o, &in->ta, err) == LIFT_OK;
    lift_text_opts_release(&o);
    return ok;
}

/* The top-term columns of the text inputs (after check_dict): each
 * term a distinct vocabulary feature of its input, its edges finite,
 * positive and increasing. */
static bool load_terms(struct lift_pipeline *p, struct lift_reader *r,
                       struct lift_error *err)
{
    size_t col = p->n_inputs;
    for (size_t i = 0; i < p->n_inputs; i++) {
        struct pl_input *in = &p->in[i];
        if (in->kind != PL_TEXT)
            continue;
        uint32_t nt = lift_reader_u32(r, "text terms");
        if (!lift_reader_ok(r))
            return false;
        if (nt > LIFT_PIPELINE_MAX_TEXT_TERMS || nt > in->vocab.n) {
            lift_reader_fail(r,
                             "bad text terms of input '%s' in the model "
                             "file",
                             in->name);
            return false;
        }
        size_t nv = in->vocab.n;
        in->terms = lift_calloc(nt ? nt : 1, sizeof *in->terms);
        in->term_of = lift_malloc_array(nv ? nv : 1, sizeof *in->term_of);
        if (!in->terms || !in->term_of) {
            lift_error_nomem(err, "model");
            return false;
        }
        for (size_t e = 0; e < nv; e++)
            in->term_of[e] = UINT32_MAX;
        in->term_col0 = col;
        for (uint32_t k = 0; k < nt; k++) {
            struct pl_term *t = &in->terms[k];
            t->feat = lift_reader_u32(r, "text term");
            uint32_t ne = lift_reader_u32(r, "text term edges");
            if (!lift_reader_ok(r))
                return false;
            uint32_t e = t->feat < p->n_features ? p->feat_part[t->feat] : 0;
            if (t->feat >= p->n_features || p->feat_group[t->feat] != i ||
                e >= nv || in->term_of[e] != UINT32_MAX || ne > TERM_EDGES) {
                lift_reader_fail(r,
                                 "bad text term of input '%s' in the model "
                                 "file",
                                 in->name);
                return false;
            }
            in->term_of[e] = k;
            in->n_terms = k + 1;
            if (!(t->edges =
                      lift_malloc_array(ne ? ne : 1, sizeof *t->edges))) {
                lift_error_nomem(err, "model");
                return false;
            }
            t->n_edges = ne;
            lift_reader_f64s(r, t->edges, ne, "text term edges");
            for (uint32_t j = 0; j < ne && lift_reader_ok(r); j++)
                if (!isfinite(t->edges[j]) || !(t->edges[j] > 0) ||
                    (j && t->edges[j] <= t->edges[j - 1]))
                    lift_reader_fail(r, "bad text term edges in the model "
                                        "file");
            if (!lift_reader_ok(r))
                return false;
        }
        col += nt;
    }
    p->n_bin_cols = col;
    return true;
}

enum lift_code lift_pipeline_load(struct lift_reader *r,
                                  struct lift_pipeline **out,
                                  struct lift_error *err)
{
    *out = NULL;
    struct lift_error local;
    if (!err)
        err = &local;
    lift_error_clear(err);
    struct lift_pipeline *p = lift_calloc(1, sizeof *p);
    if (!p)
        return lift_error_nomem(err, "model");
    enum lift_code rc = LIFT_OK;
    uint32_t mode = lift_reader_u32(r, "index mode");
    bool text_opts = (mode & MODE_TEXT_OPTS) != 0;
    bool terms = (mode & MODE_TEXT_TERMS) != 0;
    mode &= ~(MODE_TEXT_OPTS | MODE_TEXT_TERMS);
    p->bits = lift_reader_u32(r, "bits");
    p->bins = lift_reader_u32(r, "bins");
    p->max_tokens = lift_reader_u32(r, "max tokens");
    uint64_t nf = lift_reader_u64(r, "feature count");
    size_t ni = lift_reader_count(r, 40, MAX_GROUPS, "inputs");
    if (!lift_reader_ok(r))
        goto done;
    if (mode > LIFT_INDEX_HASH || p->bins == 1 || p->bins > MAX_EDGES + 1 ||
        p->max_tokens == 0 || p->max_tokens > (1u << 20) || ni == 0 ||
        (mode == LIFT_INDEX_HASH &&
         (p->bits < 16 || p->bits > 28 || nf != (1ull << p->bits))) ||
        nf == 0 || nf > (1ull << 31)) {
        lift_reader_fail(r, "bad pipeline header in the model file");
        goto done;
    }
    p->mode = (enum lift_index_mode)mode;
    p->mask = p->mode == LIFT_INDEX_HASH ? (uint32_t)(nf - 1) : 0;
    p->n_features = (size_t)nf;
    p->in = lift_calloc(ni, sizeof *p->in);
    if (!p->in) {
        rc = lift_error_nomem(err, "model");
        goto done;
    }
    for (size_t i = 0; i < ni; i++) {
        p->n_inputs = i + 1;
        p->in[i].f_value = p->in[i].f_missing = LIFT_FEATURE_NONE;
        if (!load_input(p, r, &p->in[i], text_opts, err))
            goto done;
    }
    size_t nx = lift_reader_count(r, 20, 1u << 16, "crosses");
    if (nx && ni > 256)
        lift_reader_fail(r, "crosses with more than 256 inputs in the model "
                            "file");
    if (!lift_reader_ok(r))
        goto done;
    if (nx && !(p->cross = lift_calloc(nx, sizeof *p->cross))) {
        rc = lift_error_nomem(err, "model");
        goto done;
    }
    for (size_t i = 0; i < nx; i++) {
        struct pl_cross *x = &p->cross[i];
        p->n_cross = i + 1;
        x->a = lift_reader_u32(r, "cross");
        x->b = lift_reader_u32(r, "cross");
        x->f_rare = lift_reader_u32(r, "cross");
        if (!lift_reader_ok(r))
            goto done;
        if (x->a >= ni || x->b >= ni || x->a == x->b ||
            p->in[x->a].kind != PL_CATEGORICAL ||
            p->in[x->b].kind != PL_CATEGORICAL) {
            lift_reader_fail(r, "bad cross in the model file");
            goto done;
        }
        size_t la = strlen(p->in[x->a].name), lb = strlen(p->in[x->b].name);
        if (!(x->name = lift_malloc(la + lb + 2))) {
            rc = lift_error_nomem(err, "model");
            goto done;
        }
        snprintf(x->name, la + lb + 2, "%s&%s", p->in[x->a].name,
                 p->in[x->b].name);
        x->seed = group_seed(x->name);
        if (!load_vocab(r, &x->vocab, false, p->n_features, err))
            goto done;
    }
    if (p->mode == LIFT_INDEX_DICT) {
        /* every feature must be claimed (check_dict), so a count beyond
         * what the inputs and crosses can claim is corrupt: checked before
         * it sizes check_dict's tables, so a small file cannot make the
         * loader allocate and fill gigabytes */
        uint64_t claimable = 0;
        for (size_t i = 0; i < ni; i++)
            claimable += 4 + (uint64_t)p->in[i].n_edges + p->in[i].vocab.n;
        for (size_t i = 0; i < nx; i++)
            claimable += 1 + (uint64_t)p->cross[i].vocab.n;
        if (p->n_features > claimable) {
            lift_reader_fail(r,
                             "feature count %zu is more than the inputs "
                             "define in the model file",
                             p->n_features);
            goto done;
        }
        if (!check_dict(p, r, err))
            goto done;
    }
    p->n_bin_cols = p->n_inputs;
    if (terms && (p->mode != LIFT_INDEX_DICT || !load_terms(p, r, err)))
        goto done;
    if (p->mode == LIFT_INDEX_HASH)
        for (size_t i = 0; i < ni; i++) {
            const struct pl_input *in = &p->in[i];
            if ((in->f_value != LIFT_FEATURE_NONE &&
                 in->f_value >= p->n_features) ||
                (in->f_missing != LIFT_FEATURE_NONE &&
                 in->f_missing >= p->n_features) ||
                in->vocab.n) {
                lift_reader_fail(r, "bad hashed input in the model file");
                goto done;
            }
        }
    p->max_nnz = p->n_cross;
    for (size_t g = 0; g < p->n_inputs; g++)
        p->max_nnz += p->in[g].kind == PL_TEXT ? p->max_tokens : 2;
done:
    if (!rc && !lift_reader_ok(r))
        rc = lift_reader_status(r, err);
    if (!rc && err->code != LIFT_OK)
        rc = err->code;
    if (rc) {
        lift_pipeline_free(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

/* ---- binned view (trees) ------------------------------------------------ */

size_t lift_pipeline_n_bin_cols(const struct lift_pipeline *p)
{
    return p->n_bin_cols;
}

/* The text input of term column col (>= n_inputs), its term in *k. */
static const struct pl_input *term_input(const struct lift_pipeline *p,
                                         size_t col, uint32_t *k,
                                         uint32_t *group)
{
    LIFT_ASSERT(col >= p->n_inputs && col < p->n_bin_cols);
    for (size_t i = 0; i < p->n_inputs; i++) {
        const struct pl_input *in = &p->in[i];
        if (in->n_terms && col >= in->term_col0 &&
            col - in->term_col0 < in->n_terms) {
            *k = (uint32_t)(col - in->term_col0);
            *group = (uint32_t)i;
            return in;
        }
    }
    LIFT_ASSERT(!"term column without an input");
    return NULL;
}

uint32_t lift_pipeline_bin_col_group(const struct lift_pipeline *p, size_t col)
{
    if (col < p->n_inputs)
        return (uint32_t)col;
    uint32_t k, g;
    term_input(p, col, &k, &g);
    return g;
}

const char *lift_pipeline_bin_term(const struct lift_pipeline *p, size_t col)
{
    if (col < p->n_inputs)
        return NULL;
    uint32_t k, g;
    const struct pl_input *in = term_input(p, col, &k, &g);
    return lift_vocab_key(&in->vocab, p->feat_part[in->terms[k].feat], NULL);
}

void lift_pipeline_bin_col(const struct lift_pipeline *p, size_t col,
                           unsigned *n_bins, bool *categorical)
{
    LIFT_ASSERT(col < p->n_bin_cols);
    if (col >= p->n_inputs) {
        uint32_t k, g;
        const struct pl_input *in = term_input(p, col, &k, &g);
        *categorical = false;
        *n_bins = in->terms[k].n_edges + 2;
        return;
    }
    const struct pl_input *in = &p->in[col];
    *categorical = in->kind != PL_NUMERIC;
    if (in->kind == PL_NUMERIC)
        *n_bins = in->n_edges + 1;
    else if (in->kind == PL_CATEGORICAL && p->mode == LIFT_INDEX_DICT)
        *n_bins =
            in->vocab.n < LIFT_BIN_RARE ? (unsigned)in->vocab.n : LIFT_BIN_RARE;
    else
        *n_bins = 0;
}

double lift_pipeline_bin_upper(const struct lift_pipeline *p, size_t col,
                               unsigned bin)
{
    LIFT_ASSERT(col < p->n_bin_cols);
    if (col >= p->n_inputs) {
        uint32_t k, g;
        const struct pl_term *t = &term_input(p, col, &k, &g)->terms[k];
        if (bin == 0)
            return 0.0;
        return bin - 1 < t->n_edges ? t->edges[bin - 1] : (double)INFINITY;
    }
    const struct pl_input *in = &p->in[col];
    return bin < in->n_edges ? in->edges[bin] : (double)INFINITY;
}

const char *lift_pipeline_bin_level(const struct lift_pipeline *p, size_t col,
                                    unsigned bin)
{
    LIFT_ASSERT(col < p->n_bin_cols);
    if (col >= p->n_inputs)
        return NULL;
    const struct pl_input *in = &p->in[col];
    if (in->kind != PL_CATEGORICAL || bin >= in->vocab.n ||
        bin >= LIFT_BIN_RARE)
        return NULL;
    return lift_vocab_key(&in->vocab, bin, NULL);
}

static uint8_t bin_entry(long e)
{
    return e < 0 || e >= LIFT_BIN_RARE ? LIFT_BIN_RARE : (uint8_t)e;
}

static enum lift_code bin_cell(const struct lift_pipeline *p, size_t i,
                               const struct cell *c, struct origin o,
                               uint8_t *code, struct lift_error *err)
{
    const struct pl_input *in = &p->in[i];
    *code = LIFT_BIN_MISSING;
    if (in->kind == PL_NUMERIC) {
        double v = 0;
        bool missing;
        enum lift_code rc = numeric_of(in, c, o, &v, &missing, err);
        if (rc)
            return rc;
        if (!missing)
            *code = (uint8_t)bin_of(in, v);
        return LIFT_OK;
    }
    if (in->kind != PL_CATEGORICAL || p->mode != LIFT_INDEX_DICT)
        return LIFT_OK;
    char buf[32];
    const char *s;
    size_t len;
    text_of(in, c, buf, sizeof buf, &s, &len);
    if (s)
        *code = bin_entry(lift_vocab_find(&in->vocab, s, len));
    return LIFT_OK;
}

enum lift_code lift_pipeline_bin_record(const struct lift_pipeline *p,
                                        const struct lift_field *fields,
                                        size_t n_fields, bool strict,
                                        uint8_t *codes,
                                        struct lift_record_report *report,
                                        struct lift_error *err)
{
    struct lift_record_report local;
    if (!report)
        report = &local;
    struct cell *cells =
        lift_malloc_array(p->n_inputs ? p->n_inputs : 1, sizeof *cells);
    if (!cells)
        return lift_error_nomem(err, "record mapping");
    enum lift_code rc =
        record_cells(p, fields, n_fields, strict, cells, report, err);
    for (size_t i = 0; !rc && i < p->n_inputs; i++)
        rc = bin_cell(p, i, &cells[i], (struct origin){0}, &codes[i], err);
    struct lift_row r = {0};
    if (!rc && p->n_bin_cols > p->n_inputs)
        rc = lift_row_init(&r, p, err);
    for (size_t i = 0; !rc && p->n_bin_cols > p->n_inputs && i < p->n_inputs;
         i++) {
        const struct pl_input *in = &p->in[i];
        if (!in->n_terms)
            continue;
        char buf[32];
        const char *k;
        size_t kl;
        r.nnz = 0;
        rc = map_cell(p, (uint32_t)i, &cells[i], (struct origin){0}, &r, buf,
                      sizeof buf, &k, &kl, err);
        if (!rc)
            term_codes(p, in, &r, codes + in->term_col0, 1);
    }
    lift_row_release(&r);
    lift_free(cells);
    return rc;
}

/* The bin of a table cell through the binding's fast paths. */
static enum lift_code bin_table_cell(const struct lift_binding *b, size_t i,
                                     size_t row, uint8_t *code,
                                     struct lift_error *err)
{
    const struct lift_pipeline *p = b->p;
    const struct pl_input *in = &p->in[i];
    const struct bind_input *bi = &b->in[i];
    switch (bi->how) {
    case BIND_ABSENT:
        *code = LIFT_BIN_MISSING;
        return LIFT_OK;
    case BIND_VALUES: {
        double v = lift_table_values(b->t, bi->col)[row];
        bool missing = isnan(v);
        for (size_t k = 0; !missing && k < in->n_sentinels; k++)
            missing = in->sentinel_num[k] == v;
        *code = missing ? LIFT_BIN_MISSING : (uint8_t)bin_of(in, v);
        return LIFT_OK;
    }
    case BIND_CODES: {
        uint32_t c = lift_table_codes(b->t, bi->col)[row];
        uint32_t f = c == LIFT_MISSING_CODE ? MAP_MISSING : bi->code_map[c];
        if (f == MAP_MISSING || (f != LIFT_FEATURE_NONE && f == in->f_missing))
            *code = LIFT_BIN_MISSING;
        else if (f == LIFT_FEATURE_NONE || f == in->f_rare ||
                 p->mode != LIFT_INDEX_DICT)
            *code = LIFT_BIN_RARE;
        else
            *code = bin_entry((long)p->feat_part[f]);
        return LIFT_OK;
    }
    case BIND_CELLS:
        break;
    }
    struct cell c;
    table_cell(b->t, bi->col, row, &c);
    return bin_cell(p, i, &c, (struct origin){lift_table_row_line(b->t, row)},
                    code, err);
}

/* Codes of the term columns of rows[0..n): codes[(c - n_inputs) *
 * stride + r] for term column c. */
static enum lift_code bin_terms(const struct lift_binding *b,
                                const struct lift_pipeline_memo *memo,
                                const uint32_t *rows, size_t n, uint8_t *codes,
                                size_t stride, struct lift_error *err)
{
    const struct lift_pipeline *p = b->p;
    if (p->n_bin_cols == p->n_inputs)
        return LIFT_OK;
    struct lift_row r;
    enum lift_code rc = lift_row_init(&r, p, err);
    for (size_t i = 0; !rc && i < p->n_inputs; i++) {
        const struct pl_input *in = &p->in[i];
        if (!in->n_terms)
            continue;
        uint8_t *col = codes + (in->term_col0 - p->n_inputs) * stride;
        for (size_t k = 0; !rc && k < n; k++) {
            rc = text_row(b, memo, i, rows ? rows[k] : k, &r, err);
            if (!rc)
                term_codes(p, in, &r, col + k, stride);
        }
    }
    lift_row_release(&r);
    return rc;
}

enum lift_code lift_pipeline_bin_table_row(const struct lift_binding *b,
                                           size_t row, uint8_t *codes,
                                           struct lift_error *err)
{
    for (size_t i = 0; i < b->p->n_inputs; i++) {
        enum lift_code rc = bin_table_cell(b, i, row, &codes[i], err);
        if (rc)
            return rc;
    }
    uint32_t r = (uint32_t)row;
    return row <= UINT32_MAX
               ? bin_terms(b, NULL, &r, 1, codes + b->p->n_inputs, 1, err)
               : lift_error_set(err, LIFT_ERR_INVALID, "row %zu out of range",
                                row);
}

enum lift_code lift_pipeline_bin_transform(const struct lift_binding *b,
                                           const uint32_t *rows, size_t n,
                                           uint8_t *codes,
                                           struct lift_error *err)
{
    return lift_pipeline_bin_transform_memo(b, NULL, rows, n, codes, err);
}

enum lift_code lift_pipeline_bin_transform_memo(
    const struct lift_binding *b, const struct lift_pipeline_memo *memo,
    const uint32_t *rows, size_t n, uint8_t *codes, struct lift_error *err)
{
    for (size_t i = 0; i < b->p->n_inputs; i++)
        for (size_t r = 0; r < n; r++) {
            enum lift_code rc = bin_table_cell(b, i, rows ? rows[r] : r,
                                               &codes[i * n + r], err);
            if (rc)
                return rc;
        }
    return bin_terms(b, memo, rows, n, codes + b->p->n_inputs * n, n, err);
}
