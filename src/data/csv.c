/*
 * data/csv.c - the RFC 4180 record scanner (see csv.h).
 *
 * The scan is a small state machine written as loops: unquoted text runs
 * until a byte marked in c->special (separator, CR, LF, quote, NUL, any
 * byte >= 0x80); quoted text runs until one marked in c->qspecial (quote,
 * LF, NUL, non-ASCII). Non-ASCII bytes are validated as UTF-8 where they stand
 * (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), so valid
 * input is never scanned twice. Line numbers count LF (and lone CR outside
 * quotes); columns in messages count characters, computed only when an error is
 * reported.
 */
#include "data/csv.h"

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/alloc.h"
#include "core/error.h"

static const unsigned char *ub(const char *p)
{
    return (const unsigned char *)p;
}

size_t lift_utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0; /* stray continuation byte or overlong 2-byte form */
    size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (n == 0 || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (c == 0xE0 && p[1] < 0xA0)
        return 0; /* overlong 3-byte */
    if (c == 0xED && p[1] >= 0xA0)
        return 0; /* UTF-16 surrogate */
    if (c == 0xF0 && p[1] < 0x90)
        return 0; /* overlong 4-byte */
    if (c == 0xF4 && p[1] >= 0x90)
        return 0; /* past U+10FFFF */
    return n;
}

void lift_csv_init(struct lift_csv *c, const char *data, size_t len,
                   const struct lift_read_opts *opts, char sep,
                   const char *name)
{
    memset(c, 0, sizeof *c);
    c->base = data;
    c->p = data;
    c->end = data + len;
    c->name = name;
    c->sep = sep;
    c->quote = !opts->no_quote;
    c->utf8 = opts->utf8;
    c->max_line = opts->max_line ? opts->max_line : LIFT_DEFAULT_MAX_LINE;
    c->max_field = opts->max_field ? opts->max_field : LIFT_DEFAULT_MAX_FIELD;
    c->max_cols = opts->max_cols ? opts->max_cols : LIFT_DEFAULT_MAX_COLS;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    c->line = 1;
    c->line_start = c->p;
    c->special[0] = 1;
    c->special['\n'] = 1;
    c->special['\r'] = 1;
    c->special[(unsigned char)sep] = 1;
    if (c->quote)
        c->special['"'] = 1;
    for (unsigned b = 0x80; b < 256; b++)
        c->special[b] = c->qspecial[b] = 1;
    c->qspecial[0] = 1;
    c->qspecial['\n'] = 1;
    c->qspecial['"'] = 1;
}

void lift_csv_release(struct lift_csv *c)
{
    lift_free(c->fields);
    c->fields = NULL;
    c->cap_fields = 0;
    c->n_fields = 0;
}

/* Returned inside this file only: the scan reached the end of a window
 * that more input follows (c->more), so the record is not complete. */
#define SCAN_MORE LIFT_CODE_COUNT

/* 1-based character column of `at` on the line that starts at ls. */
static size_t char_column(const char *ls, const char *at)
{
    size_t col = 1;
    for (const char *q = ls; q < at; q++)
        if ((*ub(q) & 0xC0) != 0x80)
            col++;
    return col;
}

static enum lift_code fail_at(struct lift_csv *c, struct lift_error *err,
                              enum lift_code code, size_t line, const char *ls,
                              const char *at, const char *what)
{
    return lift_error_set(err, code, "line %zu, column %zu: %s in '%s'", line,
                          char_column(ls, at), what, c->name);
}

/* Makes room for one more field, within the column cap. */
static enum lift_code grow_fields(struct lift_csv *c, struct lift_error *err)
{
    if (c->n_fields >= c->max_cols)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "line %zu: more fields than the limit of "
                              "%zu columns in '%s'",
                              c->rec_line, c->max_cols, c->name);
    size_t cap = c->cap_fields ? c->cap_fields * 2 : 32;
    if (cap > c->max_cols)
        cap = c->max_cols;
    struct lift_csv_field *f = lift_realloc_array(c->fields, cap, sizeof *f);
    if (!f)
        return lift_error_nomem(err, "csv fields");
    c->fields = f;
    c->cap_fields = cap;
    return LIFT_OK;
}

static inline enum lift_code push_field(struct lift_csv *c, const char *p,
                                        size_t len, unsigned flags, size_t line,
                                        size_t column, struct lift_error *err)
{
    if (LIFT_UNLIKELY(c->n_fields == c->cap_fields)) {
        enum lift_code rc = grow_fields(c, err);
        if (rc)
            return rc;
    }
    struct lift_csv_field *f = &c->fields[c->n_fields++];
    f->p = p;
    f->len = len;
    f->flags = flags;
    f->line = line;
    f->column = column;
    return LIFT_OK;
}

/*
 * The first byte at or after q that stops a scan (c->end if none): for
 * unquoted text the separator, CR, LF, NUL, a quote (when quoting is on)
 * or a byte >= 0x80; for quoted text a quote, LF, NUL or a byte >= 0x80.
 * With SSE2 (every x86-64) sixteen bytes are tested at once: a typical
 * cell is shorter, so its end is found without a byte loop and without
 * the mispredicted loop exit that costs more than the loop itself. The
 * vector path only runs while sixteen bytes remain, so it never reads
 * past the buffer; the table loop finishes the tail.
 */
/* The bytes that stop one kind of run, as a table and (with SSE2) as four
 * broadcast vectors, built once per record rather than once per field:
 * the library is built with -fno-strict-aliasing, so the compiler cannot
 * keep them in registers across the field stores by itself. */
struct stops {
    const unsigned char *table;
#ifdef __SSE2__
    __m128i v1, v2, v3, v4;
#endif
};

static inline void stops_init(struct stops *st, const unsigned char *table,
                              char b1, char b2, char b3, char b4)
{
    st->table = table;
#ifdef __SSE2__
    st->v1 = _mm_set1_epi8(b1);
    st->v2 = _mm_set1_epi8(b2);
    st->v3 = _mm_set1_epi8(b3);
    st->v4 = _mm_set1_epi8(b4);
#else
    (void)b1, (void)b2, (void)b3, (void)b4;
#endif
}

static inline const char *skip_run(const struct stops *st, const char *q,
                                   const char *end)
{
#ifdef __SSE2__
    while (end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, st->v1), _mm_cmpeq_epi8(v, st->v2)),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, st->v3),
                                      _mm_cmpeq_epi8(v, st->v4)),
                         _mm_cmpeq_epi8(v, _mm_setzero_si128())));
        /* movemask of v itself gives the bytes >= 0x80 */
        unsigned mask =
            (unsigned)_mm_movemask_epi8(hit) | (unsigned)_mm_movemask_epi8(v);
        if (mask)
            return q + __builtin_ctz(mask);
        q += 16;
    }
#endif
    while (q < end && !st->table[*ub(q)])
        q++;
    return q;
}

/* Validates the non-ASCII sequence at *q, advancing past it. */
static enum lift_code check_utf8(struct lift_csv *c, const char **q,
                                 unsigned *flags, struct lift_error *err)
{
    size_t n = lift_utf8_seq_len(ub(*q), ub(c->end));
    if (n) {
        *q += n;
        return LIFT_OK;
    }
    if (c->utf8 == LIFT_UTF8_STRICT) {
        char what[64];
        snprintf(what, sizeof what, "invalid UTF-8 byte 0x%02x", *ub(*q));
        return fail_at(c, err, LIFT_ERR_PARSE, c->line, c->line_start, *q,
                       what);
    }
    *flags |= LIFT_CSV_BADUTF8;
    c->n_replaced++;
    *q += 1;
    return LIFT_OK;
}

static enum lift_code scan_quoted(struct lift_csv *c, const char **pp,
                                  const struct stops *st,
                                  struct lift_error *err)
{
    const char *open = *pp;
    size_t open_line = c->line;
    const char *open_ls = c->line_start;
    size_t column = (size_t)(open - c->line_start) + 1;
    const char *q = open + 1;
    unsigned flags = LIFT_CSV_QUOTED;
    for (;;) {
        q = skip_run(st, q, c->end);
        if (q >= c->end) {
            if (c->more)
                return SCAN_MORE;
            return fail_at(c, err, LIFT_ERR_PARSE, open_line, open_ls, open,
                           "unterminated quoted field");
        }
        if (*q == '"') {
            if (q + 1 < c->end && q[1] == '"') {
                flags |= LIFT_CSV_ESCAPED;
                q += 2;
                continue;
            }
            break;
        }
        if (*q == '\n') {
            q++;
            c->line++;
            c->line_start = q;
            continue;
        }
        if (*q == '\0')
            return fail_at(c, err, LIFT_ERR_PARSE, c->line, c->line_start, q,
                           "NUL byte");
        enum lift_code rc = check_utf8(c, &q, &flags, err);
        if (rc)
            return rc;
    }
    size_t len = (size_t)(q - (open + 1));
    if (len > c->max_field)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "line %zu, column %zu: field longer than the "
                              "limit of %zu bytes in '%s'",
                              open_line, char_column(open_ls, open),
                              c->max_field, c->name);
    q++; /* the closing quote */
    if (q < c->end && *q != c->sep && *q != '\n' && *q != '\r') {
        char what[80];
        if (*ub(q) >= 0x20 && *ub(q) < 0x7F)
            snprintf(what, sizeof what, "unexpected '%c' after a closing quote",
                     *q);
        else
            snprintf(what, sizeof what,
                     "unexpected byte 0x%02x after a closing quote", *ub(q));
        return fail_at(c, err, LIFT_ERR_PARSE, c->line, c->line_start, q, what);
    }
    *pp = q;
    return push_field(c, open + 1, len, flags, open_line, column, err);
}

static enum lift_code scan_unquoted(struct lift_csv *c, const char **pp,
                                    const struct stops *st,
                                    struct lift_error *err)
{
    const char *start = *pp, *q = start;
    unsigned flags = 0;
    for (;;) {
        q = skip_run(st, q, c->end);
        if (q >= c->end)
            break;
        char ch = *q;
        if (ch == c->sep || ch == '\n' || ch == '\r')
            break;
        if (ch == '"')
            return fail_at(c, err, LIFT_ERR_PARSE, c->line, c->line_start, q,
                           "unexpected '\"' inside an unquoted field (read "
                           "with quoting off if the text holds bare quotes)");
        if (ch == '\0')
            return fail_at(c, err, LIFT_ERR_PARSE, c->line, c->line_start, q,
                           "NUL byte");
        enum lift_code rc = check_utf8(c, &q, &flags, err);
        if (rc)
            return rc;
    }
    size_t len = (size_t)(q - start);
    if (len > c->max_field)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "line %zu, column %zu: field longer than the "
                              "limit of %zu bytes in '%s'",
                              c->line, char_column(c->line_start, start),
                              c->max_field, c->name);
    *pp = q;
    return push_field(c, start, len, flags, c->line,
                      (size_t)(start - c->line_start) + 1, err);
}

enum lift_code lift_csv_next(struct lift_csv *c, bool *have,
                             struct lift_error *err)
{
    *have = false;
    c->need_more = false;
    for (;;) {
        const char *p = c->p;
        if (p >= c->end) {
            c->need_more = c->more;
            return LIFT_OK;
        }
        /* blank line */
        if (*p == '\n' || *p == '\r') {
            p += (*p == '\r' && p + 1 < c->end && p[1] == '\n') ? 2 : 1;
            c->p = p;
            c->line++;
            c->line_start = p;
            continue;
        }
        const char *rec_start = p;
        size_t line0 = c->line, replaced0 = c->n_replaced;
        struct stops unquoted, quoted;
        stops_init(&unquoted, c->special, c->sep, '\n', '\r',
                   c->quote ? '"' : c->sep);
        stops_init(&quoted, c->qspecial, '"', '\n', '"', '"');
        c->rec_line = c->line;
        c->n_fields = 0;
        enum lift_code rc = LIFT_OK;
        for (;;) {
            rc = (c->quote && p < c->end && *p == '"')
                     ? scan_quoted(c, &p, &quoted, err)
                     : scan_unquoted(c, &p, &unquoted, err);
            if (rc)
                break;
            if (p >= c->end) {
                /* the input's end closes the record; a window's does not */
                if (c->more)
                    rc = SCAN_MORE;
                break;
            }
            if (*p == c->sep) {
                p++;
                continue;
            }
            /* a line end closes the record */
            p += (*p == '\r' && p + 1 < c->end && p[1] == '\n') ? 2 : 1;
            c->line++;
            c->line_start = p;
            break;
        }
        if (rc == SCAN_MORE) {
            /* rewind to the record's start, to scan it again when the
             * window holds all of it */
            c->line = line0;
            c->line_start = rec_start;
            c->n_replaced = replaced0;
            c->n_fields = 0;
            c->need_more = true;
            return LIFT_OK;
        }
        if (rc)
            return rc;
        if ((size_t)(p - rec_start) > c->max_line)
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "line %zu: record longer than the limit of "
                                  "%zu bytes in '%s'",
                                  c->rec_line, c->max_line, c->name);
        c->p = p;
        *have = true;
        return LIFT_OK;
    }
}

void lift_csv_window(struct lift_csv *c, const char *data, size_t len,
                     bool more)
{
    c->base = data;
    c->p = data;
    c->end = data + len;
    c->line_start = data;
    c->more = more;
    c->need_more = false;
}

const char *lift_csv_field_text(const struct lift_csv_field *f,
                                struct lift_buf *scratch, size_t *len,
                                struct lift_error *err)
{
    if (!(f->flags & (LIFT_CSV_ESCAPED | LIFT_CSV_BADUTF8))) {
        *len = f->len;
        return f->p;
    }
    lift_buf_clear(scratch);
    if (lift_buf_reserve(scratch, f->len * 3, err))
        return NULL;
    const unsigned char *q = ub(f->p), *end = q + f->len;
    char *out = scratch->data;
    size_t n = 0;
    while (q < end) {
        if ((f->flags & LIFT_CSV_ESCAPED) && *q == '"' && q + 1 < end &&
            q[1] == '"') {
            out[n++] = '"';
            q += 2;
            continue;
        }
        if (*q < 0x80) {
            out[n++] = (char)*q++;
            continue;
        }
        size_t k = lift_utf8_seq_len(q, end);
        if (k) {
            memcpy(out + n, q, k);
            n += k;
            q += k;
        } else {
            memcpy(out + n, "\xEF\xBF\xBD", 3); /* U+FFFD */
            n += 3;
            q++;
        }
    }
    out[n] = '\0';
    scratch->len = n;
    *len = n;
    return out;
}

char lift_csv_detect_sep(const char *data, size_t len, bool quote)
{
    static const char cands[4] = {',', ';', '\t', '|'};
    size_t first[4] = {0}, cur[4] = {0};
    bool consistent[4] = {true, true, true, true};
    size_t lines = 0;
    bool in_quote = false;
    const char *p = data, *end = data + (len > 65536 ? 65536 : len);
    /* a line cut by the window is not counted: its counts are partial */
    const char *eof = data + len;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    const char *line_start = p;
    for (; p < end && lines < 20; p++) {
        char ch = *p;
        if (quote && ch == '"') {
            in_quote = !in_quote;
            continue;
        }
        if (in_quote)
            continue;
        if (ch == '\n' || p + 1 == eof) {
            if (ch != '\n')
                for (int i = 0; i < 4; i++)
                    cur[i] += ch == cands[i];
            bool blank =
                ch == '\n' && (p == line_start ||
                               (p == line_start + 1 && *line_start == '\r'));
            line_start = p + 1;
            if (blank)
                continue; /* the reader skips blank lines: so does this */
            for (int i = 0; i < 4; i++) {
                if (lines == 0)
                    first[i] = cur[i];
                else if (cur[i] != first[i])
                    consistent[i] = false;
                cur[i] = 0;
            }
            lines++;
            continue;
        }
        for (int i = 0; i < 4; i++)
            cur[i] += ch == cands[i];
    }
    if (lines == 0) /* one line longer than the window: use what it has */
        for (int i = 0; i < 4; i++)
            first[i] = cur[i];
    int best = -1;
    for (int i = 0; i < 4; i++)
        if (consistent[i] && first[i] > 0 &&
            (best < 0 || first[i] > first[best]))
            best = i;
    if (best < 0)
        for (int i = 0; i < 4; i++)
            if (first[i] > 0 && (best < 0 || first[i] > first[best]))
                best = i;
    return best < 0 ? ',' : cands[best];
}
