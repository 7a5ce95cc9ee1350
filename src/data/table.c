/*
 * data/table.c - the typed columnar table and the CSV-to-table reader.
 *
 * Reading scans the input once and stores each cell in its final typed
 * column as it goes, so that no per-cell intermediate is kept. A regular
 * file is read through a window of 256 KiB (see struct source), so peak
 * memory is the final columns plus the window; read_mem's input is
 * scanned where it lies.
 *   - a column's type is open until its first present (non-missing) cell;
 *     that cell's type (number, boolean, date, else string) decides it,
 *     as the four are mutually exclusive, and the column's array is then
 *     allocated, earlier rows filled as missing. Arrays double with the
 *     row count (realloc of large blocks remaps pages rather than copying
 *     them) and are shrunk to it at the end;
 *   - numeric, boolean and date cells are parsed into doubles; string
 *     cells get level codes (each distinct string interned once in an
 *     open-addressing table keyed by xxh3);
 *   - a typed column that meets a cell of another type can only be
 *     categorical: its values are dropped and it is marked for a second
 *     scan, which interns just those columns (a forced type makes such a
 *     cell an error instead). Files with clean types never scan twice.
 * Categorical and text differ only in the tag, decided at the end from
 * lengths, spaces and distinctness. Scanning is linear in the input;
 * interning is expected O(1) per cell.
 */
#include <lift/table.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "data/csv.h"
#include "data/parse.h"
#include "data/reader.h"

struct level {
    uint64_t hash;
    const char *s;
    uint32_t len;
    uint32_t count;
};

struct span {
    const char *s;
    size_t len;
};

struct column {
    char *name;
    enum lift_col_type type;
    bool forced;
    double *values;  /* numeric, boolean, date */
    uint32_t *codes; /* categorical, text */
    struct level *levels;
    size_t n_levels, cap_levels;
    uint32_t *slots; /* level index + 1; 0 = empty */
    size_t slot_mask;
    /* while reading */
    struct span *sentinels;
    size_t n_sentinels;
    enum { KIND_OPEN, KIND_VALUES, KIND_CODES, KIND_REDO } kind;
    /* the previous present cell: runs of one value are common (files
     * sorted by date or segment), so it is tried before parsing or
     * hashing. Its text is a copy (the input window moves); last_len 0
     * means none (an empty cell is missing, never parsed). */
    char last_text[32];
    size_t last_len;
    double last_v;
    uint32_t last_code;
};

struct lift_table {
    size_t n_rows, n_cols;
    size_t cap_rows, n_redo; /* while reading */
    struct column *cols;
    uint32_t *row_line;
    char sep;
    size_t n_replaced;
    struct lift_arena strings;
};

void lift_read_opts_init(struct lift_read_opts *opts)
{
    memset(opts, 0, sizeof *opts);
}

enum lift_code lift_parse_sep(const char *spelling, char *sep,
                              struct lift_error *err)
{
    static const struct {
        const char *name;
        char sep;
    } names[] = {{"tab", '\t'},      {"\\t", '\t'}, {"comma", ','},
                 {"semicolon", ';'}, {"pipe", '|'}, {"space", ' '}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(spelling, names[i].name) == 0) {
            *sep = names[i].sep;
            return LIFT_OK;
        }
    if (strlen(spelling) == 1 && spelling[0] != '"' && spelling[0] != '\n' &&
        spelling[0] != '\r' && (unsigned char)spelling[0] < 0x80) {
        *sep = spelling[0];
        return LIFT_OK;
    }
    return lift_error_set(err, LIFT_ERR_INVALID,
                          "bad separator '%s' (one ASCII character other than "
                          "a quote or line end, or tab, comma, semicolon, "
                          "pipe, space, \\t)",
                          spelling);
}

static const char *const type_names[] = {
    [LIFT_COL_NUMERIC] = "numeric", [LIFT_COL_CATEGORICAL] = "categorical",
    [LIFT_COL_TEXT] = "text",       [LIFT_COL_BOOLEAN] = "boolean",
    [LIFT_COL_DATE] = "date",
};

const char *lift_col_type_name(enum lift_col_type type)
{
    if ((unsigned)type >= sizeof type_names / sizeof type_names[0])
        return "unknown";
    return type_names[type];
}

bool lift_col_type_parse(const char *name, enum lift_col_type *type)
{
    for (unsigned i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(name, type_names[i]) == 0) {
            *type = (enum lift_col_type)i;
            return true;
        }
    return false;
}

void lift_table_free(struct lift_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        lift_free(c->values);
        lift_free(c->codes);
        lift_free(c->levels);
        lift_free(c->slots);
        lift_free(c->sentinels);
    }
    lift_free(t->cols);
    lift_free(t->row_line);
    lift_arena_release(&t->strings);
    lift_free(t);
}

/* ---- interning ---------------------------------------------------------- */

static enum lift_code grow_slots(struct column *c, struct lift_error *err)
{
    size_t cap = c->slots ? (c->slot_mask + 1) * 2 : 64;
    uint32_t *slots = lift_calloc(cap, sizeof *slots);
    if (!slots)
        return lift_error_nomem(err, "level index");
    size_t mask = cap - 1;
    for (size_t k = 0; k < c->n_levels; k++) {
        size_t i = (size_t)c->levels[k].hash & mask;
        while (slots[i])
            i = (i + 1) & mask;
        slots[i] = (uint32_t)(k + 1);
    }
    lift_free(c->slots);
    c->slots = slots;
    c->slot_mask = mask;
    return LIFT_OK;
}

static inline uint64_t load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint16_t load16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* memcmp(a, b, len) == 0, inlined: cells are short, and a library call or
 * a byte loop per cell costs more than the comparison itself. Two
 * overlapping loads cover a length between one word and two, so no load
 * reaches past either string. */
static inline bool same_text(const char *a, const char *b, size_t len)
{
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8)
            if (load64(a + i) != load64(b + i))
                return false;
        return load64(a + len - 8) == load64(b + len - 8);
    }
    if (len >= 4)
        return load32(a) == load32(b) &&
               load32(a + len - 4) == load32(b + len - 4);
    if (len >= 2)
        return load16(a) == load16(b) &&
               load16(a + len - 2) == load16(b + len - 2);
    return len == 0 || *a == *b;
}

static uint32_t lookup(const struct column *c, const char *s, size_t len,
                       uint64_t h, size_t *slot)
{
    size_t i = (size_t)h & c->slot_mask;
    for (;;) {
        uint32_t v = c->slots[i];
        if (!v)
            break;
        const struct level *l = &c->levels[v - 1];
        if (l->hash == h && l->len == len && same_text(l->s, s, len))
            return v - 1;
        i = (i + 1) & c->slot_mask;
    }
    *slot = i;
    return LIFT_MISSING_CODE;
}

static enum lift_code intern(struct lift_table *t, struct column *c,
                             const char *s, size_t len, uint32_t *code,
                             struct lift_error *err)
{
    enum lift_code rc;
    if (!c->slots || (c->n_levels + 1) * 2 > c->slot_mask + 1)
        if ((rc = grow_slots(c, err)))
            return rc;
    uint64_t h = lift_hash(s, len, 0);
    size_t slot = 0;
    uint32_t found = lookup(c, s, len, h, &slot);
    if (found != LIFT_MISSING_CODE) {
        c->levels[found].count++;
        *code = found;
        return LIFT_OK;
    }
    if (c->n_levels == c->cap_levels) {
        size_t cap = c->cap_levels ? c->cap_levels * 2 : 16;
        struct level *lv = lift_realloc_array(c->levels, cap, sizeof *lv);
        if (!lv)
            return lift_error_nomem(err, "levels");
        c->levels = lv;
        c->cap_levels = cap;
    }
    char *copy = lift_arena_strndup(&t->strings, s, len);
    if (!copy)
        return lift_error_nomem(err, "level text");
    struct level *l = &c->levels[c->n_levels];
    l->hash = h;
    l->s = copy;
    l->len = (uint32_t)len;
    l->count = 1;
    c->slots[slot] = (uint32_t)(c->n_levels + 1);
    *code = (uint32_t)c->n_levels++;
    return LIFT_OK;
}

/* ---- options ------------------------------------------------------------ */

static enum lift_code add_sentinel(struct lift_table *t, struct column *c,
                                   const char *s, size_t len,
                                   struct lift_error *err)
{
    struct span *sp =
        lift_realloc_array(c->sentinels, c->n_sentinels + 1, sizeof *sp);
    if (!sp)
        return lift_error_nomem(err, "missing-value list");
    c->sentinels = sp;
    char *copy = lift_arena_strndup(&t->strings, s, len);
    if (!copy)
        return lift_error_nomem(err, "missing-value list");
    sp[c->n_sentinels].s = copy;
    sp[c->n_sentinels].len = len;
    c->n_sentinels++;
    return LIFT_OK;
}

static long find_column(const struct lift_table *t, const char *name,
                        size_t len)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strlen(t->cols[i].name) == len &&
            memcmp(t->cols[i].name, name, len) == 0)
            return (long)i;
    return -1;
}

static enum lift_code apply_missing(struct lift_table *t, const char *spec,
                                    struct lift_error *err)
{
    const char *eq = strchr(spec, '=');
    const char *vals = eq ? eq + 1 : spec;
    long col = -1;
    if (eq) {
        col = find_column(t, spec, (size_t)(eq - spec));
        if (col < 0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "unknown column '%.*s' in missing-value "
                                  "spec '%s'",
                                  (int)(eq - spec), spec, spec);
    }
    for (const char *p = vals;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        for (size_t i = 0; i < t->n_cols; i++) {
            if (col >= 0 && (size_t)col != i)
                continue;
            enum lift_code rc = add_sentinel(t, &t->cols[i], p, len, err);
            if (rc)
                return rc;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return LIFT_OK;
}

static enum lift_code apply_type(struct lift_table *t, const char *spec,
                                 struct lift_error *err)
{
    const char *eq = strchr(spec, '=');
    enum lift_col_type type;
    if (!eq || !lift_col_type_parse(eq + 1, &type))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "bad type spec '%s' (expected column=numeric, "
                              "categorical, text, boolean or date)",
                              spec);
    long col = find_column(t, spec, (size_t)(eq - spec));
    if (col < 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "unknown column '%.*s' in type spec '%s'",
                              (int)(eq - spec), spec, spec);
    t->cols[col].type = type;
    t->cols[col].forced = true;
    return LIFT_OK;
}

/* ---- header ------------------------------------------------------------- */

static enum lift_code set_names(struct lift_table *t, struct lift_csv *csv,
                                const struct lift_read_opts *o,
                                const char *name, struct lift_buf *scratch,
                                struct lift_error *err)
{
    size_t n = csv->n_fields;
    t->cols = lift_calloc(n, sizeof *t->cols);
    if (!t->cols)
        return lift_error_nomem(err, "columns");
    t->n_cols = n;
    if (o->columns) {
        size_t count = 1;
        for (const char *p = o->columns; *p; p++)
            count += *p == ',';
        if (count != n)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "%zu column names given, but line %zu of "
                                  "'%s' has %zu fields",
                                  count, csv->rec_line, name, n);
        const char *p = o->columns;
        for (size_t i = 0; i < n; i++) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len == 0)
                return lift_error_set(err, LIFT_ERR_INVALID,
                                      "empty column name %zu in the column "
                                      "list '%s'",
                                      i + 1, o->columns);
            if (!(t->cols[i].name = lift_arena_strndup(&t->strings, p, len)))
                return lift_error_nomem(err, "column names");
            p = comma ? comma + 1 : p + len;
        }
    } else if (o->no_header) {
        for (size_t i = 0; i < n; i++) {
            char tmp[32];
            int len = snprintf(tmp, sizeof tmp, "c%zu", i + 1);
            if (!(t->cols[i].name =
                      lift_arena_strndup(&t->strings, tmp, (size_t)len)))
                return lift_error_nomem(err, "column names");
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *s =
                lift_csv_field_text(&csv->fields[i], scratch, &len, err);
            if (!s)
                return err ? err->code : LIFT_ERR_NOMEM;
            char tmp[32];
            if (len == 0) { /* an unnamed column, as spreadsheets export */
                int k = snprintf(tmp, sizeof tmp, "c%zu", i + 1);
                s = tmp;
                len = (size_t)k;
            }
            if (!(t->cols[i].name = lift_arena_strndup(&t->strings, s, len)))
                return lift_error_nomem(err, "column names");
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->cols[i].name, t->cols[j].name) == 0)
                return lift_error_set(err, LIFT_ERR_PARSE,
                                      "duplicate column name '%s' (columns "
                                      "%zu and %zu) in '%s'",
                                      t->cols[i].name, j + 1, i + 1, name);
    return LIFT_OK;
}

/* ---- passes ------------------------------------------------------------- */

static bool is_missing(const struct column *c, const char *s, size_t len)
{
    if (lift_is_default_missing(s, len))
        return true;
    for (size_t i = 0; i < c->n_sentinels; i++)
        if (c->sentinels[i].len == len &&
            memcmp(c->sentinels[i].s, s, len) == 0)
            return true;
    return false;
}

static enum lift_code bad_value(const struct lift_csv_field *f,
                                const struct column *c, const char *s,
                                size_t len, const char *name,
                                struct lift_error *err)
{
    return lift_error_set(err, LIFT_ERR_PARSE,
                          "line %zu, column %zu: '%.*s' is not a %s value "
                          "(column '%s' is %s) in '%s'",
                          f->line, f->column, (int)(len > 40 ? 40 : len), s,
                          lift_col_type_name(c->type), c->name,
                          lift_col_type_name(c->type), name);
}

/* The field's text: its own span when clean (the common case, inline). */
static const char *field_text(const struct lift_csv_field *f,
                              struct lift_buf *scratch, size_t *len,
                              struct lift_error *err)
{
    if (LIFT_LIKELY(!(f->flags & (LIFT_CSV_ESCAPED | LIFT_CSV_BADUTF8)))) {
        *len = f->len;
        return f->p;
    }
    return lift_csv_field_text(f, scratch, len, err);
}

/* Fixes the column's type and allocates its array for t->cap_rows rows,
 * the first `row` of them missing. */
static enum lift_code open_column(struct lift_table *t, struct column *c,
                                  enum lift_col_type type, size_t row,
                                  struct lift_error *err)
{
    c->type = type;
    if (type == LIFT_COL_CATEGORICAL || type == LIFT_COL_TEXT) {
        c->codes = lift_malloc_array(t->cap_rows, sizeof *c->codes);
        if (!c->codes)
            return lift_error_nomem(err, "column values");
        for (size_t r = 0; r < row; r++)
            c->codes[r] = LIFT_MISSING_CODE;
        c->kind = KIND_CODES;
    } else {
        c->values = lift_malloc_array(t->cap_rows, sizeof *c->values);
        if (!c->values)
            return lift_error_nomem(err, "column values");
        for (size_t r = 0; r < row; r++)
            c->values[r] = NAN;
        c->kind = KIND_VALUES;
    }
    return LIFT_OK;
}

static bool parse_as(enum lift_col_type type, const char *s, size_t len,
                     double *v)
{
    switch (type) {
    case LIFT_COL_NUMERIC:
        return lift_parse_number(s, len, v);
    case LIFT_COL_BOOLEAN:
        return lift_parse_bool(s, len, v);
    case LIFT_COL_DATE:
        return lift_parse_date(s, len, v);
    default:
        return false;
    }
}

/* The type a present cell has; *v its value unless a string. */
static enum lift_col_type sniff(const char *s, size_t len, double *v)
{
    if (lift_parse_number(s, len, v))
        return LIFT_COL_NUMERIC;
    if (lift_parse_bool(s, len, v))
        return LIFT_COL_BOOLEAN;
    if (lift_parse_date(s, len, v))
        return LIFT_COL_DATE;
    return LIFT_COL_CATEGORICAL;
}

/* The rest of intern_cell, out of line so that the common case inlines. */
static enum lift_code intern_new(struct lift_table *t, struct column *c,
                                 const char *s, size_t len, size_t row,
                                 struct lift_error *err)
{
    enum lift_code rc = intern(t, c, s, len, &c->codes[row], err);
    if (rc == LIFT_OK)
        c->last_code = c->codes[row];
    return rc;
}

static inline enum lift_code intern_cell(struct lift_table *t, struct column *c,
                                         const char *s, size_t len, size_t row,
                                         struct lift_error *err)
{
    if (c->n_levels) {
        struct level *l = &c->levels[c->last_code];
        if (l->len == len && same_text(l->s, s, len)) {
            l->count++;
            c->codes[row] = c->last_code;
            return LIFT_OK;
        }
    }
    return intern_new(t, c, s, len, row, err);
}

/* Parses a cell of a typed column, reusing the previous cell's value
 * when the text is the same. */
static bool parse_cell(struct column *c, const char *s, size_t len, double *v)
{
    if (len == c->last_len && same_text(s, c->last_text, len)) {
        *v = c->last_v;
        return true;
    }
    if (!parse_as(c->type, s, len, v))
        return false;
    if (len <= sizeof c->last_text) {
        memcpy(c->last_text, s, len);
        c->last_len = len;
        c->last_v = *v;
    }
    return true;
}

/* Stores one cell of the first scan. */
static enum lift_code store_cell(struct lift_table *t, struct column *c,
                                 const struct lift_csv_field *f, size_t row,
                                 const char *name, struct lift_buf *scratch,
                                 struct lift_error *err)
{
    if (c->kind == KIND_REDO)
        return LIFT_OK;
    size_t len;
    const char *s = field_text(f, scratch, &len, err);
    if (!s)
        return err ? err->code : LIFT_ERR_NOMEM;
    bool miss = is_missing(c, s, len);
    double v;
    enum lift_code rc;
    switch (c->kind) {
    case KIND_OPEN: {
        if (miss)
            return LIFT_OK;
        enum lift_col_type type = sniff(s, len, &v);
        if ((rc = open_column(t, c, type, row, err)))
            return rc;
        if (c->kind == KIND_CODES)
            return intern_cell(t, c, s, len, row, err);
        c->values[row] = v;
        return LIFT_OK;
    }
    case KIND_VALUES:
        if (miss) {
            c->values[row] = NAN;
            return LIFT_OK;
        }
        if (parse_cell(c, s, len, &c->values[row]))
            return LIFT_OK;
        if (c->forced)
            return bad_value(f, c, s, len, name, err);
        /* numbers (or booleans, or dates) and something else: strings */
        lift_free(c->values);
        c->values = NULL;
        c->kind = KIND_REDO;
        t->n_redo++;
        return LIFT_OK;
    case KIND_CODES:
        if (miss) {
            c->codes[row] = LIFT_MISSING_CODE;
            return LIFT_OK;
        }
        return intern_cell(t, c, s, len, row, err);
    case KIND_REDO:
        break;
    }
    return LIFT_OK;
}

static enum lift_code ragged(const struct lift_csv *csv, size_t want,
                             const char *name, struct lift_error *err)
{
    return lift_error_set(err, LIFT_ERR_PARSE,
                          "line %zu: expected %zu fields, found %zu in '%s'",
                          csv->rec_line, want, csv->n_fields, name);
}

/* Sets the row capacity of the row lines and of every open column to
 * cap (at most max_rows, at least 16). */
static enum lift_code resize_rows(struct lift_table *t, size_t cap,
                                  size_t max_rows, struct lift_error *err)
{
    if (cap < 16)
        cap = 16;
    if (cap > max_rows)
        cap = max_rows;
    uint32_t *lines = lift_realloc_array(t->row_line, cap, sizeof *lines);
    if (!lines)
        return lift_error_nomem(err, "row lines");
    t->row_line = lines;
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        if (c->values) {
            double *v = lift_realloc_array(c->values, cap, sizeof *v);
            if (!v)
                return lift_error_nomem(err, "column values");
            c->values = v;
        }
        if (c->codes) {
            uint32_t *k = lift_realloc_array(c->codes, cap, sizeof *k);
            if (!k)
                return lift_error_nomem(err, "column values");
            c->codes = k;
        }
    }
    t->cap_rows = cap;
    return LIFT_OK;
}

/* ---- input -------------------------------------------------------------- */

#define WINDOW ((size_t)256 << 10)

/*
 * Where the bytes come from. In memory, the scanner sees all of them at
 * once. From a regular file they come through one buffer a window at a
 * time (so peak memory is the columns plus a window, not the whole file):
 * the window handed to the scanner ends just after its last line end, so
 * a record stops short of it only inside a quoted field; then the bytes
 * from that record's start are moved to the front and more are read after
 * them. When not one record fits, the buffer doubles (and a record longer
 * than the line cap is an error), so each byte is scanned O(1) times.
 */
struct source {
    const char *name;
    const char *mem; /* memory input when fd < 0 */
    size_t mem_len;
    int fd;
    char *buf;
    size_t window;   /* the buffer's first size */
    size_t cap, len; /* buffer size, bytes in it */
    size_t total, max_bytes, max_line;
    size_t size; /* the file's size from its start offset, when known */
    off_t start; /* the file offset the input starts at */
    bool eof;
};

/* Reads until the buffer is full or the file ends. */
static enum lift_code fill(struct source *s, struct lift_error *err)
{
    while (!s->eof && s->len < s->cap) {
        ssize_t r = read(s->fd, s->buf + s->len, s->cap - s->len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot read '%s'",
                                  s->name);
        }
        if (r == 0) {
            s->eof = true;
            break;
        }
        s->len += (size_t)r;
        s->total += (size_t)r;
        if (s->total > s->max_bytes)
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "'%s' is larger than the limit of %zu bytes",
                                  s->name, s->max_bytes);
    }
    return LIFT_OK;
}

/* Where the window may end: just after the buffer's last LF, or after a
 * later CR whose next byte is in the buffer and is not a LF; 0 if none. */
static size_t window_cut(const char *buf, size_t len)
{
    for (size_t i = len; i > 0; i--) {
        char ch = buf[i - 1];
        if (ch == '\n' || (ch == '\r' && i < len && buf[i] != '\n'))
            return i;
    }
    return 0;
}

/* Hands the scanner the bytes of the buffer up to the cut (all of them at
 * the end of the file). */
static void set_window(struct source *s, struct lift_csv *c)
{
    size_t cut = s->eof ? s->len : window_cut(s->buf, s->len);
    lift_csv_window(c, s->buf, cut, !s->eof);
}

/* The scanner stopped at the window's end inside a record (or blank lines
 * before one): keeps the bytes from c->p on, reads more after them. */
static enum lift_code refill(struct source *s, struct lift_csv *c,
                             struct lift_error *err)
{
    bool stalled = c->p == s->buf; /* not one record in this window */
    size_t keep = s->len - (size_t)(c->p - s->buf);
    if (stalled && keep > s->max_line + 1)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "line %zu: record longer than the limit of %zu "
                              "bytes in '%s'",
                              c->line, s->max_line, s->name);
    memmove(s->buf, c->p, keep);
    s->len = keep;
    if (stalled && s->len == s->cap) {
        size_t cap = s->cap * 2;
        char *buf = lift_realloc_array(s->buf, cap, 1);
        if (!buf)
            return lift_error_nomem(err, "read buffer");
        s->buf = buf;
        s->cap = cap;
    }
    enum lift_code rc = fill(s, err);
    if (rc)
        return rc;
    set_window(s, c);
    return LIFT_OK;
}

/* The next record, refilling the window from the file as needed. */
static enum lift_code next_record(struct source *s, struct lift_csv *c,
                                  bool *have, struct lift_error *err)
{
    for (;;) {
        enum lift_code rc = lift_csv_next(c, have, err);
        if (rc || *have || !c->need_more)
            return rc;
        if ((rc = refill(s, c, err)))
            return rc;
    }
}

/* Records the input may hold: the line ends of the first window (of all
 * the input in memory), scaled to the input's size, plus a margin. */
static size_t estimate_rows(const struct source *s)
{
    const char *p = s->fd < 0 ? s->mem : s->buf;
    size_t n = s->fd < 0 ? s->mem_len : s->len;
    size_t total = s->fd < 0 ? s->mem_len : s->size;
    if (n > WINDOW)
        n = WINDOW;
    size_t ends = 1;
    for (const char *q = p, *end = p + n;
         (q = memchr(q, '\n', (size_t)(end - q))); q++)
        ends++;
    if (ends == 1) /* no LF: lone CRs, or one long line */
        for (const char *q = p, *end = p + n;
             (q = memchr(q, '\r', (size_t)(end - q))); q++)
            ends++;
    if (total <= n || n == 0)
        return ends + 16;
    double est = (double)ends * ((double)total / (double)n) * 1.05 + 16.0;
    return est > 1e9 ? (size_t)1e9 : (size_t)est;
}

/* Starts a scan from the first byte: the whole input in memory, or the
 * first window of the file (where *sep is detected when it is 0). */
static enum lift_code source_start(struct source *s, struct lift_csv *c,
                                   const struct lift_read_opts *o, char *sep,
                                   struct lift_error *err)
{
    if (s->fd < 0) {
        if (!*sep)
            *sep = lift_csv_detect_sep(s->mem, s->mem_len, !o->no_quote);
        lift_csv_init(c, s->mem, s->mem_len, o, *sep, s->name);
        return LIFT_OK;
    }
    if (!s->buf) {
        /* at least the three bytes of a BOM */
        s->cap = s->window < 4 ? 4 : s->window;
        if (!(s->buf = lift_malloc(s->cap)))
            return lift_error_nomem(err, "read buffer");
    }
    s->len = 0;
    s->total = 0;
    s->eof = false;
    enum lift_code rc = fill(s, err);
    if (rc)
        return rc;
    if (!*sep) {
        size_t cut = s->eof ? s->len : window_cut(s->buf, s->len);
        *sep = lift_csv_detect_sep(s->buf, cut ? cut : s->len, !o->no_quote);
    }
    /* init skips a BOM at the start; the window then ends at the cut */
    lift_csv_init(c, s->buf, s->len, o, *sep, s->name);
    const char *first = c->p;
    set_window(s, c);
    c->p = first;
    c->line_start = first;
    if (c->end < first)
        c->end = first;
    return LIFT_OK;
}

/* The one full scan: checks every record and stores every cell. The
 * scanner holds the first record; it is data when there is no header. */
static enum lift_code scan_all(struct lift_table *t, struct source *src,
                               struct lift_csv *csv, bool first_is_data,
                               size_t max_rows, const char *name,
                               struct lift_buf *scratch, struct lift_error *err)
{
    bool have = first_is_data;
    enum lift_code rc;
    size_t row = 0;
    for (;;) {
        if (!have && (rc = next_record(src, csv, &have, err)))
            return rc;
        if (!have)
            break;
        have = false;
        if (csv->n_fields != t->n_cols)
            return ragged(csv, t->n_cols, name, err);
        if (row == max_rows)
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "more data records than the limit of %zu "
                                  "in '%s'",
                                  max_rows, name);
        if (row == t->cap_rows &&
            (rc = resize_rows(t, t->cap_rows * 2, max_rows, err)))
            return rc;
        t->row_line[row] =
            csv->rec_line > UINT32_MAX ? UINT32_MAX : (uint32_t)csv->rec_line;
        for (size_t i = 0; i < t->n_cols; i++)
            if ((rc = store_cell(t, &t->cols[i], &csv->fields[i], row, name,
                                 scratch, err)))
                return rc;
        row++;
    }
    t->n_rows = row;
    return LIFT_OK;
}

/* The second scan, for the columns that turned out to hold strings after
 * typed cells: interns all their cells. A file that no longer matches the
 * first scan has changed under the reader. */
static enum lift_code rescan_strings(struct lift_table *t, struct source *src,
                                     struct lift_csv *csv, bool skip_first,
                                     struct lift_buf *scratch,
                                     struct lift_error *err)
{
    bool have;
    enum lift_code rc;
    size_t row = 0;
    for (bool first = true;; first = false) {
        if ((rc = next_record(src, csv, &have, err)))
            return rc;
        if (!have)
            break;
        if (first && skip_first)
            continue;
        if (row == t->n_rows || csv->n_fields != t->n_cols)
            return lift_error_set(err, LIFT_ERR_IO,
                                  "'%s' changed while it was read", src->name);
        for (size_t i = 0; i < t->n_cols; i++) {
            struct column *c = &t->cols[i];
            if (c->kind != KIND_REDO)
                continue;
            size_t len;
            const char *s = field_text(&csv->fields[i], scratch, &len, err);
            if (!s)
                return err ? err->code : LIFT_ERR_NOMEM;
            if (is_missing(c, s, len))
                c->codes[row] = LIFT_MISSING_CODE;
            else if ((rc = intern_cell(t, c, s, len, row, err)))
                return rc;
        }
        row++;
    }
    if (row != t->n_rows)
        return lift_error_set(err, LIFT_ERR_IO,
                              "'%s' changed while it was read", src->name);
    return LIFT_OK;
}

/* Text: mostly multi-word values that are long or mostly distinct. */
static enum lift_col_type string_type(const struct column *c)
{
    size_t n = 0, n_space = 0, total_len = 0;
    for (size_t k = 0; k < c->n_levels; k++) {
        const struct level *l = &c->levels[k];
        n += l->count;
        total_len += (size_t)l->count * l->len;
        if (memchr(l->s, ' ', l->len))
            n_space += l->count;
    }
    if (n == 0)
        return LIFT_COL_CATEGORICAL;
    double mean_len = (double)total_len / (double)n;
    bool wordy = n_space * 2 >= n;
    bool distinct = c->n_levels * 10 >= n * 3;
    if (wordy && (distinct || mean_len >= 30.0) && c->n_levels > 1)
        return LIFT_COL_TEXT;
    return LIFT_COL_CATEGORICAL;
}

/* Gives the arrays back the pages past the last row (kept when the
 * smaller block cannot be had: the larger one is as good). */
static void *shrink(void *p, size_t n, size_t size)
{
    void *q = p ? lift_realloc_array(p, n, size) : NULL;
    return q ? q : p;
}

static enum lift_code build(struct source *src, const struct lift_read_opts *o,
                            struct lift_table **out, struct lift_error *err)
{
    const char *name = src->name;
    /* the scanner's byte classes need a separator that is not a line end,
     * not the quote (while quoting is on) and not part of UTF-8 text */
    unsigned char sep_byte = (unsigned char)o->sep;
    if (sep_byte == '\n' || sep_byte == '\r' || sep_byte >= 0x80 ||
        (sep_byte == '"' && !o->no_quote))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "bad separator 0x%02x (one ASCII character "
                              "other than a quote or line end)",
                              sep_byte);
    struct lift_table *t = lift_calloc(1, sizeof *t);
    if (!t)
        return lift_error_nomem(err, "table");
    lift_arena_init(&t->strings, 0, 0);
    struct lift_csv csv;
    memset(&csv, 0, sizeof csv);
    struct lift_buf scratch;
    lift_buf_init(&scratch, 0, "field");
    size_t max_rows = o->max_rows ? o->max_rows : LIFT_DEFAULT_MAX_ROWS;
    if (max_rows > UINT32_MAX - 1)
        max_rows = UINT32_MAX - 1;
    char sep = o->sep;
    bool have;
    enum lift_code rc = source_start(src, &csv, o, &sep, err);
    if (rc)
        goto done;
    t->sep = sep;
    if ((rc = next_record(src, &csv, &have, err)))
        goto done;
    if (!have) {
        rc = lift_error_set(err, LIFT_ERR_PARSE, "empty input '%s'", name);
        goto done;
    }
    if ((rc = set_names(t, &csv, o, name, &scratch, err)))
        goto done;
    for (size_t i = 0; i < o->n_missing; i++)
        if ((rc = apply_missing(t, o->missing[i], err)))
            goto done;
    for (size_t i = 0; i < o->n_types; i++)
        if ((rc = apply_type(t, o->types[i], err)))
            goto done;
    /* sized from the first window's records per byte, so that a file
     * read once needs no copy of its columns (and leaves no freed blocks
     * in the heap) */
    if ((rc = resize_rows(t, estimate_rows(src), max_rows, err)))
        goto done;
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        if (c->forced && (rc = open_column(t, c, c->type, 0, err)))
            goto done;
    }
    if ((rc = scan_all(t, src, &csv, o->no_header, max_rows, name, &scratch,
                       err)))
        goto done;
    if (t->n_rows == 0) {
        rc = lift_error_set(err, LIFT_ERR_PARSE,
                            "no data records after the header in '%s'", name);
        goto done;
    }
    t->n_replaced = csv.n_replaced;
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        if (c->kind == KIND_OPEN &&
            (rc = open_column(t, c, LIFT_COL_CATEGORICAL, t->n_rows, err)))
            goto done;
        if (c->kind == KIND_REDO) {
            c->type = LIFT_COL_CATEGORICAL;
            c->codes = lift_malloc_array(t->n_rows, sizeof *c->codes);
            if (!c->codes) {
                rc = lift_error_nomem(err, "column values");
                goto done;
            }
        }
    }
    if (t->n_redo) {
        if (src->fd >= 0 && lseek(src->fd, src->start, SEEK_SET) < 0) {
            rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot read '%s'",
                                name);
            goto done;
        }
        lift_csv_release(&csv);
        if ((rc = source_start(src, &csv, o, &sep, err)) ||
            (rc = rescan_strings(t, src, &csv, !o->no_header, &scratch, err)))
            goto done;
    }
    t->row_line = shrink(t->row_line, t->n_rows, sizeof *t->row_line);
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        c->kind = c->codes ? KIND_CODES : KIND_VALUES;
        c->values = shrink(c->values, t->n_rows, sizeof *c->values);
        c->codes = shrink(c->codes, t->n_rows, sizeof *c->codes);
        if (!c->forced && c->type == LIFT_COL_CATEGORICAL)
            c->type = string_type(c);
    }
done:
    lift_csv_release(&csv);
    lift_buf_release(&scratch);
    if (rc) {
        lift_table_free(t);
        t = NULL;
    }
    *out = t;
    return rc;
}

enum lift_code lift_table_read_mem(const char *data, size_t len,
                                   const struct lift_read_opts *opts,
                                   struct lift_table **out,
                                   struct lift_error *err)
{
    struct lift_read_opts defaults;
    *out = NULL;
    if (!opts) {
        lift_read_opts_init(&defaults);
        opts = &defaults;
    }
    struct source src = {.name = opts->name ? opts->name : "input",
                         .mem = data,
                         .mem_len = len,
                         .fd = -1};
    size_t max_bytes =
        opts->max_bytes ? opts->max_bytes : LIFT_DEFAULT_MAX_BYTES;
    if (len > max_bytes)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "'%s' is larger than the limit of %zu bytes",
                              src.name, max_bytes);
    return build(&src, opts, out, err);
}

/* Reads a whole stream (a pipe, a device) into a malloc'd buffer, up to
 * max_bytes: what cannot be read twice or sized beforehand. */
static enum lift_code slurp(int fd, const char *path, size_t max_bytes,
                            char **data, size_t *len, struct lift_error *err)
{
    struct source s = {.name = path, .fd = fd, .max_bytes = max_bytes};
    *data = NULL;
    *len = 0;
    s.cap = 65536;
    if (!(s.buf = lift_malloc(s.cap)))
        return lift_error_nomem(err, "file contents");
    enum lift_code rc;
    while (!(rc = fill(&s, err)) && !s.eof) {
        char *buf = lift_realloc_array(s.buf, s.cap * 2, 1);
        if (!buf) {
            rc = lift_error_nomem(err, "file contents");
            break;
        }
        s.buf = buf;
        s.cap *= 2;
    }
    if (rc) {
        lift_free(s.buf);
        return rc;
    }
    *data = s.buf;
    *len = s.len;
    return LIFT_OK;
}

enum lift_code lift_table_read_fd(int fd, const struct lift_read_opts *opts,
                                  size_t window, struct lift_table **out,
                                  struct lift_error *err)
{
    *out = NULL;
    struct stat st;
    size_t max_bytes =
        opts->max_bytes ? opts->max_bytes : LIFT_DEFAULT_MAX_BYTES;
    const char *name = opts->name ? opts->name : "input";
    bool sized = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (sized && (uint64_t)st.st_size > max_bytes)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "'%s' is larger than the limit of %zu bytes",
                              name, max_bytes);
    struct source src = {.name = name,
                         .fd = fd,
                         .window = window ? window : WINDOW,
                         .max_bytes = max_bytes,
                         .max_line = opts->max_line ? opts->max_line
                                                    : LIFT_DEFAULT_MAX_LINE,
                         .start = lseek(fd, 0, SEEK_CUR)};
    if (sized && src.start >= 0 && st.st_size > src.start)
        src.size = (size_t)(st.st_size - src.start);
    enum lift_code rc = build(&src, opts, out, err);
    lift_free(src.buf);
    return rc;
}

enum lift_code lift_table_read_csv(const char *path,
                                   const struct lift_read_opts *opts,
                                   struct lift_table **out,
                                   struct lift_error *err)
{
    struct lift_read_opts o;
    *out = NULL;
    if (opts)
        o = *opts;
    else
        lift_read_opts_init(&o);
    if (!o.name)
        o.name = path;
    size_t max_bytes = o.max_bytes ? o.max_bytes : LIFT_DEFAULT_MAX_BYTES;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot open '%s'",
                              path);
    struct stat st;
    enum lift_code rc;
    if (fstat(fd, &st) != 0) {
        rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot read '%s'", path);
    } else if (S_ISDIR(st.st_mode)) {
        rc = lift_error_set(err, LIFT_ERR_IO, "'%s' is a directory", path);
    } else if (S_ISREG(st.st_mode)) {
        rc = lift_table_read_fd(fd, &o, WINDOW, out, err);
    } else {
        char *data;
        size_t len;
        rc = slurp(fd, path, max_bytes, &data, &len, err);
        if (!rc) {
            struct source src = {
                .name = o.name, .mem = data, .mem_len = len, .fd = -1};
            rc = build(&src, &o, out, err);
            lift_free(data);
        }
    }
    close(fd);
    return rc;
}

/* ---- access ------------------------------------------------------------- */

size_t lift_table_n_rows(const struct lift_table *t)
{
    return t->n_rows;
}

size_t lift_table_n_cols(const struct lift_table *t)
{
    return t->n_cols;
}

char lift_table_sep(const struct lift_table *t)
{
    return t->sep;
}

size_t lift_table_n_replaced(const struct lift_table *t)
{
    return t->n_replaced;
}

size_t lift_table_row_line(const struct lift_table *t, size_t row)
{
    LIFT_ASSERT(row < t->n_rows);
    return t->row_line[row];
}

const char *lift_table_col_name(const struct lift_table *t, size_t col)
{
    LIFT_ASSERT(col < t->n_cols);
    return t->cols[col].name;
}

enum lift_col_type lift_table_col_type(const struct lift_table *t, size_t col)
{
    LIFT_ASSERT(col < t->n_cols);
    return t->cols[col].type;
}

enum lift_code lift_table_col_index(const struct lift_table *t,
                                    const char *name, size_t *col,
                                    struct lift_error *err)
{
    long i = find_column(t, name, strlen(name));
    if (i < 0)
        return lift_error_set(err, LIFT_ERR_NOT_FOUND, "no column '%s'", name);
    *col = (size_t)i;
    return LIFT_OK;
}

bool lift_table_is_missing(const struct lift_table *t, size_t col, size_t row)
{
    LIFT_ASSERT(col < t->n_cols && row < t->n_rows);
    const struct column *c = &t->cols[col];
    return c->codes ? c->codes[row] == LIFT_MISSING_CODE
                    : isnan(c->values[row]);
}

const double *lift_table_values(const struct lift_table *t, size_t col)
{
    LIFT_ASSERT(col < t->n_cols);
    return t->cols[col].values;
}

const uint32_t *lift_table_codes(const struct lift_table *t, size_t col)
{
    LIFT_ASSERT(col < t->n_cols);
    return t->cols[col].codes;
}

size_t lift_table_n_levels(const struct lift_table *t, size_t col)
{
    LIFT_ASSERT(col < t->n_cols);
    return t->cols[col].n_levels;
}

const char *lift_table_level(const struct lift_table *t, size_t col,
                             uint32_t code, size_t *len)
{
    LIFT_ASSERT(col < t->n_cols && code < t->cols[col].n_levels);
    const struct level *l = &t->cols[col].levels[code];
    if (len)
        *len = l->len;
    return l->s;
}

size_t lift_table_level_count(const struct lift_table *t, size_t col,
                              uint32_t code)
{
    LIFT_ASSERT(col < t->n_cols && code < t->cols[col].n_levels);
    return t->cols[col].levels[code].count;
}

uint32_t lift_table_find_level(const struct lift_table *t, size_t col,
                               const char *text, size_t len)
{
    LIFT_ASSERT(col < t->n_cols);
    const struct column *c = &t->cols[col];
    if (!c->slots)
        return LIFT_MISSING_CODE;
    size_t slot;
    return lookup(c, text, len, lift_hash(text, len, 0), &slot);
}

size_t lift_table_n_sentinels(const struct lift_table *t, size_t col)
{
    LIFT_ASSERT(col < t->n_cols);
    return t->cols[col].n_sentinels;
}

const char *lift_table_sentinel(const struct lift_table *t, size_t col,
                                size_t i)
{
    LIFT_ASSERT(col < t->n_cols && i < t->cols[col].n_sentinels);
    return t->cols[col].sentinels[i].s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum lift_code lift_table_col_stats(const struct lift_table *t, size_t col,
                                    struct lift_col_stats *out,
                                    struct lift_error *err)
{
    LIFT_ASSERT(col < t->n_cols);
    const struct column *c = &t->cols[col];
    memset(out, 0, sizeof *out);
    out->min = out->max = out->mean = out->std = NAN;
    out->mean_len = NAN;
    if (c->codes) {
        size_t total = 0;
        for (size_t k = 0; k < c->n_levels; k++) {
            out->count += c->levels[k].count;
            total += (size_t)c->levels[k].count * c->levels[k].len;
        }
        out->missing = t->n_rows - out->count;
        out->distinct = c->n_levels;
        if (out->count)
            out->mean_len = (double)total / (double)out->count;
        /* top levels by count, ties by first appearance (lower code) */
        for (size_t k = 0; k < c->n_levels; k++) {
            size_t cnt = c->levels[k].count, pos = out->n_top;
            while (pos > 0 && out->top_count[pos - 1] < cnt)
                pos--;
            if (pos >= LIFT_TOP_LEVELS)
                continue;
            size_t last =
                out->n_top < LIFT_TOP_LEVELS ? out->n_top : LIFT_TOP_LEVELS - 1;
            for (size_t m = last; m > pos; m--) {
                out->top_code[m] = out->top_code[m - 1];
                out->top_count[m] = out->top_count[m - 1];
            }
            out->top_code[pos] = (uint32_t)k;
            out->top_count[pos] = cnt;
            if (out->n_top < LIFT_TOP_LEVELS)
                out->n_top++;
        }
        return LIFT_OK;
    }
    double *sorted = lift_malloc_array(t->n_rows, sizeof *sorted);
    if (!sorted)
        return lift_error_nomem(err, "column statistics");
    double mean = 0.0, m2 = 0.0;
    size_t n = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        double v = c->values[r];
        if (isnan(v))
            continue;
        sorted[n++] = v;
        double d = v - mean; /* Welford */
        mean += d / (double)n;
        m2 += d * (v - mean);
    }
    out->count = n;
    out->missing = t->n_rows - n;
    if (n) {
        qsort(sorted, n, sizeof *sorted, cmp_double);
        out->min = sorted[0];
        out->max = sorted[n - 1];
        out->mean = mean;
        out->std = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0.0;
        out->distinct = 1;
        for (size_t k = 1; k < n; k++)
            out->distinct += sorted[k] != sorted[k - 1];
    }
    lift_free(sorted);
    return LIFT_OK;
}
