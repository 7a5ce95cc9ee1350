/*
 * data/table.c - the typed columnar table and the CSV-to-table reader.
 *
 * Reading makes two passes over the input held in memory, so that no
 * per-cell intermediate is ever stored (peak memory is the input plus the
 * final columns):
 *   pass 1  scans every record, checks field counts and caps, and for each
 *           column keeps whether every non-missing cell could be a number,
 *           a boolean or a date; the column types follow.
 *   pass 2  scans again and stores each cell in its typed column: doubles
 *           for numeric/boolean/date, level codes for categorical/text
 *           (each distinct string interned once in an open-addressing
 *           table keyed by xxh3). Categorical and text differ only in the
 *           tag, decided after pass 2 from lengths, spaces and distinctness.
 * Scanning is linear in the input; interning is expected O(1) per cell.
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
    size_t n_missing;
    /* while reading */
    struct span *sentinels;
    size_t n_sentinels;
    bool may_num, may_bool, may_date;
    size_t n_present, n_space, total_len;
};

struct lift_table {
    size_t n_rows, n_cols;
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

static uint32_t lookup(const struct column *c, const char *s, size_t len,
                       uint64_t h, size_t *slot)
{
    size_t i = (size_t)h & c->slot_mask;
    for (;;) {
        uint32_t v = c->slots[i];
        if (!v)
            break;
        const struct level *l = &c->levels[v - 1];
        if (l->hash == h && l->len == len && memcmp(l->s, s, len) == 0)
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

static enum lift_code ragged(const struct lift_csv *csv, size_t want,
                             const char *name, struct lift_error *err)
{
    return lift_error_set(err, LIFT_ERR_PARSE,
                          "line %zu: expected %zu fields, found %zu in '%s'",
                          csv->rec_line, want, csv->n_fields, name);
}

static enum lift_code pass1(struct lift_table *t, struct lift_csv *csv,
                            bool skip_first, size_t max_rows, const char *name,
                            struct lift_buf *scratch, struct lift_error *err)
{
    bool have;
    enum lift_code rc;
    size_t rows = 0;
    for (bool first = true;; first = false) {
        if ((rc = lift_csv_next(csv, &have, err)))
            return rc;
        if (!have)
            break;
        if (first && skip_first)
            continue;
        if (csv->n_fields != t->n_cols)
            return ragged(csv, t->n_cols, name, err);
        if (rows == max_rows)
            return lift_error_set(err, LIFT_ERR_LIMIT,
                                  "more data records than the limit of %zu "
                                  "in '%s'",
                                  max_rows, name);
        rows++;
        for (size_t i = 0; i < t->n_cols; i++) {
            struct column *c = &t->cols[i];
            size_t len;
            const char *s =
                lift_csv_field_text(&csv->fields[i], scratch, &len, err);
            if (!s)
                return err ? err->code : LIFT_ERR_NOMEM;
            if (is_missing(c, s, len))
                continue;
            c->n_present++;
            double v;
            if (c->may_num && !lift_parse_number(s, len, &v))
                c->may_num = false;
            if (c->may_bool && !lift_parse_bool(s, len, &v))
                c->may_bool = false;
            if (c->may_date && !lift_parse_date(s, len, &v))
                c->may_date = false;
        }
    }
    t->n_rows = rows;
    return LIFT_OK;
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

static enum lift_code pass2(struct lift_table *t, struct lift_csv *csv,
                            bool skip_first, const char *name,
                            struct lift_buf *scratch, struct lift_error *err)
{
    bool have;
    enum lift_code rc;
    size_t row = 0;
    for (bool first = true;; first = false) {
        if ((rc = lift_csv_next(csv, &have, err)))
            return rc;
        if (!have)
            break;
        if (first && skip_first)
            continue;
        LIFT_ASSERT(row < t->n_rows && csv->n_fields == t->n_cols);
        t->row_line[row] =
            csv->rec_line > UINT32_MAX ? UINT32_MAX : (uint32_t)csv->rec_line;
        for (size_t i = 0; i < t->n_cols; i++) {
            struct column *c = &t->cols[i];
            const struct lift_csv_field *f = &csv->fields[i];
            size_t len;
            const char *s = lift_csv_field_text(f, scratch, &len, err);
            if (!s)
                return err ? err->code : LIFT_ERR_NOMEM;
            bool miss = is_missing(c, s, len);
            bool ok = true;
            switch (c->type) {
            case LIFT_COL_NUMERIC:
                c->values[row] = NAN;
                if (!miss)
                    ok = lift_parse_number(s, len, &c->values[row]);
                break;
            case LIFT_COL_BOOLEAN:
                c->values[row] = NAN;
                if (!miss)
                    ok = lift_parse_bool(s, len, &c->values[row]);
                break;
            case LIFT_COL_DATE:
                c->values[row] = NAN;
                if (!miss)
                    ok = lift_parse_date(s, len, &c->values[row]);
                break;
            case LIFT_COL_CATEGORICAL:
            case LIFT_COL_TEXT:
                c->codes[row] = LIFT_MISSING_CODE;
                if (!miss) {
                    if ((rc = intern(t, c, s, len, &c->codes[row], err)))
                        return rc;
                    c->total_len += len;
                    c->n_space += memchr(s, ' ', len) != NULL;
                }
                break;
            }
            if (!ok)
                return bad_value(f, c, s, len, name, err);
            c->n_missing += miss;
        }
        row++;
    }
    LIFT_ASSERT(row == t->n_rows);
    return LIFT_OK;
}

/* Text: mostly multi-word values that are long or mostly distinct. */
static enum lift_col_type string_type(const struct column *c)
{
    size_t n = c->n_present;
    if (n == 0)
        return LIFT_COL_CATEGORICAL;
    double mean_len = (double)c->total_len / (double)n;
    bool wordy = c->n_space * 2 >= n;
    bool distinct = c->n_levels * 10 >= n * 3;
    if (wordy && (distinct || mean_len >= 30.0) && c->n_levels > 1)
        return LIFT_COL_TEXT;
    return LIFT_COL_CATEGORICAL;
}

static enum lift_code allocate_columns(struct lift_table *t,
                                       struct lift_error *err)
{
    t->row_line = lift_malloc_array(t->n_rows, sizeof *t->row_line);
    if (!t->row_line)
        return lift_error_nomem(err, "row lines");
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        if (!c->forced) {
            if (c->n_present == 0)
                c->type = LIFT_COL_CATEGORICAL;
            else if (c->may_bool)
                c->type = LIFT_COL_BOOLEAN;
            else if (c->may_num)
                c->type = LIFT_COL_NUMERIC;
            else if (c->may_date)
                c->type = LIFT_COL_DATE;
            else
                c->type = LIFT_COL_CATEGORICAL; /* or text, after pass 2 */
        }
        if (c->type == LIFT_COL_CATEGORICAL || c->type == LIFT_COL_TEXT)
            c->codes = lift_malloc_array(t->n_rows, sizeof *c->codes);
        else
            c->values = lift_malloc_array(t->n_rows, sizeof *c->values);
        if (!c->codes && !c->values)
            return lift_error_nomem(err, "column values");
    }
    return LIFT_OK;
}

static enum lift_code build(const char *data, size_t len,
                            const struct lift_read_opts *o, const char *name,
                            struct lift_table **out, struct lift_error *err)
{
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
    struct lift_buf scratch;
    lift_buf_init(&scratch, 0, "field");
    char sep = o->sep ? o->sep : lift_csv_detect_sep(data, len, !o->no_quote);
    t->sep = sep;
    lift_csv_init(&csv, data, len, o, sep, name);
    size_t max_rows = o->max_rows ? o->max_rows : LIFT_DEFAULT_MAX_ROWS;
    if (max_rows > UINT32_MAX - 1)
        max_rows = UINT32_MAX - 1;
    bool have;
    enum lift_code rc = lift_csv_next(&csv, &have, err);
    if (rc)
        goto done;
    if (!have) {
        rc = lift_error_set(err, LIFT_ERR_PARSE, "empty input '%s'", name);
        goto done;
    }
    if ((rc = set_names(t, &csv, o, name, &scratch, err)))
        goto done;
    for (size_t i = 0; i < t->n_cols; i++) {
        t->cols[i].may_num = t->cols[i].may_bool = t->cols[i].may_date = true;
        t->cols[i].type = LIFT_COL_CATEGORICAL;
    }
    for (size_t i = 0; i < o->n_missing; i++)
        if ((rc = apply_missing(t, o->missing[i], err)))
            goto done;
    for (size_t i = 0; i < o->n_types; i++)
        if ((rc = apply_type(t, o->types[i], err)))
            goto done;

    /* each pass restarts the scanner; init forgets the field array */
    lift_csv_release(&csv);
    lift_csv_init(&csv, data, len, o, sep, name);
    if ((rc = pass1(t, &csv, !o->no_header, max_rows, name, &scratch, err)))
        goto done;
    if (t->n_rows == 0) {
        rc = lift_error_set(err, LIFT_ERR_PARSE,
                            "no data records after the header in '%s'", name);
        goto done;
    }
    if ((rc = allocate_columns(t, err)))
        goto done;
    t->n_replaced = csv.n_replaced;
    lift_csv_release(&csv);
    lift_csv_init(&csv, data, len, o, sep, name);
    if ((rc = pass2(t, &csv, !o->no_header, name, &scratch, err)))
        goto done;
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
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
    const char *name = opts->name ? opts->name : "input";
    size_t max_bytes =
        opts->max_bytes ? opts->max_bytes : LIFT_DEFAULT_MAX_BYTES;
    if (len > max_bytes)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "'%s' is larger than the limit of %zu bytes",
                              name, max_bytes);
    return build(data, len, opts, name, out, err);
}

/* Reads the whole file into a malloc'd buffer, up to max_bytes. */
static enum lift_code slurp(const char *path, size_t max_bytes, char **data,
                            size_t *len, struct lift_error *err)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot open '%s'",
                              path);
    enum lift_code rc = LIFT_OK;
    struct stat st;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = lift_error_set(err, LIFT_ERR_IO, "'%s' is a directory", path);
        goto done;
    }
    cap = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
              ? (size_t)st.st_size + 1
              : 65536;
    if (cap > max_bytes + 1)
        cap = max_bytes + 1;
    if (!(buf = lift_malloc(cap))) {
        rc = lift_error_nomem(err, "file contents");
        goto done;
    }
    for (;;) {
        if (n == cap) {
            if (cap > max_bytes) {
                rc = lift_error_set(err, LIFT_ERR_LIMIT,
                                    "'%s' is larger than the limit of %zu "
                                    "bytes",
                                    path, max_bytes);
                goto done;
            }
            size_t ncap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *nb = lift_realloc_array(buf, ncap, 1);
            if (!nb) {
                rc = lift_error_nomem(err, "file contents");
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot read '%s'",
                                path);
            goto done;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max_bytes)
        rc = lift_error_set(err, LIFT_ERR_LIMIT,
                            "'%s' is larger than the limit of %zu bytes", path,
                            max_bytes);
done:
    close(fd);
    if (rc) {
        lift_free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return LIFT_OK;
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
    char *data;
    size_t len;
    enum lift_code rc = slurp(path, max_bytes, &data, &len, err);
    if (rc)
        return rc;
    rc = build(data, len, &o, o.name, out, err);
    lift_free(data);
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
