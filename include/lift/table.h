/*
 * lift/table.h - reading customer files into a typed, columnar table.
 *
 * A table is immutable once read. Each column has one type:
 *   NUMERIC      double; missing is NAN
 *   BOOLEAN      double 0 or 1 (from true/false, case-insensitive); NAN
 *   DATE         double, seconds since 1970-01-01T00:00:00Z (ISO 8601 date
 *                or date-time, optional Z or +hh:mm offset); NAN
 *   CATEGORICAL  uint32 code per row into interned levels; LIFT_MISSING_CODE
 *   TEXT         as categorical (each distinct text stored once)
 * Cells that are empty, "NA", "NaN", "null" (exactly these spellings), or
 * equal to a sentinel declared for the column, are missing. Types are
 * inferred from all values of a column unless overridden: numeric when
 * every non-missing value is a decimal number, boolean when every one is
 * true/false, date when every one is an ISO 8601 date, text when values
 * are long and mostly distinct, categorical otherwise.
 *
 * Thread-safety: a table may be read from many threads at once.
 */
#ifndef LIFT_TABLE_H
#define LIFT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lift_col_type {
    LIFT_COL_NUMERIC = 0,
    LIFT_COL_CATEGORICAL,
    LIFT_COL_TEXT,
    LIFT_COL_BOOLEAN,
    LIFT_COL_DATE,
};

#define LIFT_MISSING_CODE UINT32_MAX

enum lift_utf8_policy {
    LIFT_UTF8_STRICT = 0, /* invalid UTF-8 is an error naming line, column */
    LIFT_UTF8_REPLACE,    /* replaced by U+FFFD and counted */
};

/* Default caps; 0 in struct lift_read_opts means the default. */
#define LIFT_DEFAULT_MAX_LINE ((size_t)16 << 20) /* bytes in one record */
#define LIFT_DEFAULT_MAX_FIELD ((size_t)1 << 20) /* bytes in one field */
#define LIFT_DEFAULT_MAX_COLS ((size_t)4096)
#define LIFT_DEFAULT_MAX_ROWS ((size_t)100000000)
#define LIFT_DEFAULT_MAX_BYTES ((size_t)16 << 30) /* whole input */

struct lift_read_opts {
    /* Separator: 0 = detect among ',', ';', TAB, '|' from the first
     * (non-blank) lines: the one found equally often outside quotes on
     * each, else the most frequent on the first. */
    char sep;
    /* The first line is data; names come from `columns` or are c1..cN. */
    bool no_header;
    /* '"' is an ordinary character (files whose text holds bare quotes). */
    bool no_quote;
    /* Comma-separated column names; with no_header, names the columns;
     * with a header, must match its count and replaces its names. */
    const char *columns;
    /* Missing-value sentinels, each "col=v1,v2" (for one column) or
     * "v1,v2" (for every column). */
    const char *const *missing;
    size_t n_missing;
    /* Type overrides, each "col=numeric|categorical|text|boolean|date". */
    const char *const *types;
    size_t n_types;
    enum lift_utf8_policy utf8;
    /* Caps (0: the LIFT_DEFAULT_* above). */
    size_t max_line, max_field, max_cols, max_rows, max_bytes;
    /* Name used in messages (default: the path, or "input"). */
    const char *name;
};

/* Fills *opts with the defaults (all zero/false/NULL). */
void lift_read_opts_init(struct lift_read_opts *opts);

/* Parses a separator spelling: one character, or "tab", "comma",
 * "semicolon", "pipe", "\t". LIFT_ERR_INVALID naming the spelling. */
enum lift_code lift_parse_sep(const char *spelling, char *sep,
                              struct lift_error *err);

struct lift_table;

/*
 * Reads a CSV/TSV file (RFC 4180: quoted fields with "" escapes and
 * embedded newlines; CRLF or LF; a UTF-8 BOM; no final newline). Blank
 * lines are skipped. Errors name file, line and column:
 *   LIFT_ERR_IO        the file cannot be opened or read
 *   LIFT_ERR_PARSE     unterminated quote, bad quoting, ragged row, NUL
 *                      byte, invalid UTF-8 (strict), empty file, no data
 *                      record, duplicate column name (an empty header
 *                      name becomes c<i>), a value not of a forced type
 *   LIFT_ERR_LIMIT     a line, field, column count, row count or input
 *                      size past its cap (the message names the cap)
 *   LIFT_ERR_INVALID   bad options (a line end, a non-ASCII byte or, with
 *                      quoting on, '"' as separator; --columns with the
 *                      wrong count or an empty name; an unknown column or
 *                      a bad type in missing/types)
 *   LIFT_ERR_NOMEM
 * On success *out owns the table (free with lift_table_free); on failure
 * *out is NULL.
 */
enum lift_code lift_table_read_csv(const char *path,
                                   const struct lift_read_opts *opts,
                                   struct lift_table **out,
                                   struct lift_error *err);

/* As lift_table_read_csv, from memory (not modified, not kept). */
enum lift_code lift_table_read_mem(const char *data, size_t len,
                                   const struct lift_read_opts *opts,
                                   struct lift_table **out,
                                   struct lift_error *err);

void lift_table_free(struct lift_table *t);

size_t lift_table_n_rows(const struct lift_table *t);
size_t lift_table_n_cols(const struct lift_table *t);
/* The separator that was used (given or detected). */
char lift_table_sep(const struct lift_table *t);
/* Bytes replaced under LIFT_UTF8_REPLACE (0 otherwise). */
size_t lift_table_n_replaced(const struct lift_table *t);
/* 1-based line of the file where data record `row` (0-based) starts
 * (saturates at UINT32_MAX for inputs with more lines). */
size_t lift_table_row_line(const struct lift_table *t, size_t row);

const char *lift_table_col_name(const struct lift_table *t, size_t col);
enum lift_col_type lift_table_col_type(const struct lift_table *t, size_t col);
/* Index of the column named `name`; LIFT_ERR_NOT_FOUND naming it. */
enum lift_code lift_table_col_index(const struct lift_table *t,
                                    const char *name, size_t *col,
                                    struct lift_error *err);

/* "numeric", "categorical", "text", "boolean", "date". */
const char *lift_col_type_name(enum lift_col_type type);
/* The inverse; false for an unknown spelling. */
bool lift_col_type_parse(const char *name, enum lift_col_type *type);

/* True when the cell is missing (any type). */
bool lift_table_is_missing(const struct lift_table *t, size_t col, size_t row);
/* Numeric, boolean and date columns: the values (NAN when missing), one
 * per row; NULL for other types. Valid while the table lives. */
const double *lift_table_values(const struct lift_table *t, size_t col);
/* Categorical and text columns: the level code of each row
 * (LIFT_MISSING_CODE when missing); NULL for other types. */
const uint32_t *lift_table_codes(const struct lift_table *t, size_t col);
/* Levels of a categorical or text column, in order of first appearance. */
size_t lift_table_n_levels(const struct lift_table *t, size_t col);
/* The text of level `code` (NUL-terminated; *len its length if len). */
const char *lift_table_level(const struct lift_table *t, size_t col,
                             uint32_t code, size_t *len);
/* How many rows hold level `code`. */
size_t lift_table_level_count(const struct lift_table *t, size_t col,
                              uint32_t code);
/* The code of the level spelled `text`, or LIFT_MISSING_CODE. */
uint32_t lift_table_find_level(const struct lift_table *t, size_t col,
                               const char *text, size_t len);

/* The column's missing-value sentinels declared when reading (beyond the
 * default spellings), so that a model can treat the same spellings as
 * missing when it scores records later. */
size_t lift_table_n_sentinels(const struct lift_table *t, size_t col);
const char *lift_table_sentinel(const struct lift_table *t, size_t col,
                                size_t i);

#define LIFT_TOP_LEVELS 5

struct lift_col_stats {
    size_t count;    /* non-missing cells */
    size_t missing;  /* missing cells */
    size_t distinct; /* distinct non-missing values */
    /* numeric, boolean, date: over non-missing values (NAN if none) */
    double min, max, mean, std; /* std: sample (n - 1) */
    /* categorical, text: most frequent levels, ties by first appearance;
     * n_top <= LIFT_TOP_LEVELS */
    size_t n_top;
    uint32_t top_code[LIFT_TOP_LEVELS];
    size_t top_count[LIFT_TOP_LEVELS];
    /* text: mean length in bytes of non-missing values */
    double mean_len;
};

/* Computes the statistics of one column: O(n) for categorical and text,
 * O(n log n) for the others (distinct values are counted by sorting).
 * LIFT_ERR_NOMEM is the only failure. */
enum lift_code lift_table_col_stats(const struct lift_table *t, size_t col,
                                    struct lift_col_stats *out,
                                    struct lift_error *err);

/*
 * The table's schema and statistics as a JSON object text (free()):
 * {"rows","cols","sep","replaced_bytes","columns":[{"name","type","count",
 * "missing","distinct", numeric: "min","max","mean","std"; categorical
 * and text: "top":[{"value","count"}],"mean_length"}], and with a target
 * "target":{"column","levels":{value:count},"rates":{value:share},
 * "missing", with a positive label "positive","positive_rate"}}.
 * LIFT_ERR_NOT_FOUND for an unknown target or a positive label it does
 * not hold.
 */
enum lift_code lift_table_describe_json(const struct lift_table *t,
                                        const char *target,
                                        const char *positive, char **json,
                                        struct lift_error *err);

#ifdef __cplusplus
}
#endif
#endif
