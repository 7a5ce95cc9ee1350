/*
 * data/csv.h - a strict RFC 4180 record scanner over a memory buffer.
 *
 * The scanner walks a buffer record by record and hands back, for each
 * record, the spans of its fields inside the buffer (no copy): a field
 * that was quoted is given without its outer quotes, with a flag when it
 * still holds "" escapes (or invalid UTF-8 to be replaced) so that the
 * caller can materialise it with lift_csv_field_text. Handled: CRLF, LF
 * and lone CR line ends; a UTF-8 BOM; no final newline; blank lines
 * (skipped); quoted fields with embedded separators and newlines; with
 * quoting off, '"' is an ordinary byte.
 *
 * Checked while scanning, each failure an error naming input, line and
 * column: unterminated quote, a quote inside an unquoted field, a byte
 * other than a separator or line end after a closing quote, NUL bytes,
 * invalid UTF-8 (strict policy; the replace policy flags the field and
 * counts the bytes), and the caps on record bytes, field bytes and fields
 * per record.
 *
 * Cost: sixteen bytes per step with SSE2 (a table lookup per byte
 * elsewhere and in the last bytes of the buffer) until a byte that ends
 * the run; UTF-8 validation only on bytes >= 0x80. Not thread-safe; the
 * buffer must outlive the scanner.
 */
#ifndef LIFT_DATA_CSV_H
#define LIFT_DATA_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include <lift/error.h>
#include <lift/table.h>

#include "core/buf.h"

enum {
    LIFT_CSV_QUOTED = 1u,  /* the field was quoted */
    LIFT_CSV_ESCAPED = 2u, /* it holds "" pairs to be collapsed */
    LIFT_CSV_BADUTF8 = 4u, /* it holds invalid UTF-8 to be replaced */
};

struct lift_csv_field {
    const char *p; /* first byte inside the quotes, if any */
    size_t len;    /* bytes up to the closing quote or separator */
    unsigned flags;
    size_t line;   /* 1-based line where the field starts */
    size_t column; /* 1-based byte column there */
};

struct lift_csv {
    const char *base, *p, *end;
    const char *name;
    char sep;
    bool quote;
    enum lift_utf8_policy utf8;
    size_t max_line, max_field, max_cols;

    size_t line;            /* line number at p (1-based) */
    const char *line_start; /* first byte of that line */
    size_t rec_line;        /* line where the current record starts */
    size_t n_replaced;      /* invalid bytes seen under the replace policy */
    bool more;              /* input goes on past end (see lift_csv_window) */
    bool need_more;         /* set by lift_csv_next: a record reached end */

    struct lift_csv_field *fields;
    size_t n_fields, cap_fields;
    unsigned char special[256];  /* bytes that stop the unquoted scan */
    unsigned char qspecial[256]; /* bytes that stop the quoted scan */
};

/* opts supplies sep (must not be 0 here), no_quote, utf8 and the caps. */
void lift_csv_init(struct lift_csv *c, const char *data, size_t len,
                   const struct lift_read_opts *opts, char sep,
                   const char *name);
/*
 * Scans the next non-blank record. On LIFT_OK, *have tells whether there
 * was one; its fields are c->fields[0..c->n_fields) and it started on
 * line c->rec_line. When c->more is set and the record (or the blank
 * lines before one) ran into the end of the buffer, *have is false and
 * c->need_more true: c->p is where that record starts, and the caller
 * hands the scanner a longer window with lift_csv_window.
 */
enum lift_code lift_csv_next(struct lift_csv *c, bool *have,
                             struct lift_error *err);
/*
 * Streaming: points the scanner at a new buffer whose first byte is the
 * byte c->p pointed at (the caller moved the unscanned bytes there and
 * read more after them), keeping the line count and the tallies. With
 * `more`, input follows the buffer; the buffer should then end just after
 * a line end (a LF, or a CR known not to be followed by a LF) so that
 * only a quoted field crossing it stops a record short. Call only at a
 * record start: before the first lift_csv_next, or when it has returned.
 */
void lift_csv_window(struct lift_csv *c, const char *data, size_t len,
                     bool more);
/*
 * The text of a field: its own span when clean (not NUL-terminated!), or
 * the unescaped / repaired copy in `scratch` (NUL-terminated). scratch is
 * cleared first.
 */
const char *lift_csv_field_text(const struct lift_csv_field *f,
                                struct lift_buf *scratch, size_t *len,
                                struct lift_error *err);
void lift_csv_release(struct lift_csv *c);

/*
 * Detects the separator from the first lines of data: among ',', ';',
 * TAB and '|', the one found the same non-zero number of times (outside
 * quotes) on each of the first lines, preferring the most frequent; ','
 * when none is.
 */
char lift_csv_detect_sep(const char *data, size_t len, bool quote);

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
size_t lift_utf8_seq_len(const unsigned char *p, const unsigned char *end);

#endif
