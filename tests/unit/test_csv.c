/*
 * tests/unit/test_csv.c - the RFC 4180 record scanner (data/csv.c): field
 * spans and flags, line ends (CRLF, LF, lone CR), BOM, blank lines,
 * quoting and "" escapes, line numbers after embedded newlines, every
 * malformed case with its code and the line and column in the message,
 * the caps, UTF-8 validation (strict and replace), and separator
 * detection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/rng.h"
#include "data/csv.h"

/* One scan over a NUL-terminated input with the given options. */
struct scan {
    struct lift_csv csv;
    struct lift_read_opts opts;
    struct lift_buf scratch;
    struct lift_error err;
};

static void scan_open(struct scan *s, const char *data, size_t len, char sep)
{
    lift_csv_init(&s->csv, data, len, &s->opts, sep, "t.csv");
    lift_buf_init(&s->scratch, 0, "field");
    memset(&s->err, 0, sizeof s->err);
}

static void scan_close(struct scan *s)
{
    lift_csv_release(&s->csv);
    lift_buf_release(&s->scratch);
}

/* Scans one record and asserts that there was one. */
static void next_record(struct scan *s)
{
    bool have = false;
    assert_int_equal(lift_csv_next(&s->csv, &have, &s->err), LIFT_OK);
    assert_true(have);
}

static void next_end(struct scan *s)
{
    bool have = true;
    assert_int_equal(lift_csv_next(&s->csv, &have, &s->err), LIFT_OK);
    assert_false(have);
}

/* The text of field i, copied into out (NUL-terminated). */
static void field(struct scan *s, size_t i, char *out, size_t cap)
{
    size_t len = 0;
    assert_true(i < s->csv.n_fields);
    const char *p =
        lift_csv_field_text(&s->csv.fields[i], &s->scratch, &len, &s->err);
    assert_non_null(p);
    assert_true(len < cap);
    memcpy(out, p, len);
    out[len] = '\0';
}

static void assert_field(struct scan *s, size_t i, const char *want)
{
    char got[256];
    field(s, i, got, sizeof got);
    assert_string_equal(got, want);
}

/* Scans the whole input and expects a failure with code and message. */
static void expect_error(struct scan *s, enum lift_code code, const char *msg)
{
    bool have = true;
    enum lift_code rc;
    while ((rc = lift_csv_next(&s->csv, &have, &s->err)) == LIFT_OK && have)
        ;
    assert_int_equal(rc, code);
    assert_int_equal(s->err.code, code);
    assert_string_equal(s->err.msg, msg);
}

static void expect_scan_error(const char *data, size_t len, char sep,
                              const struct lift_read_opts *opts,
                              enum lift_code code, const char *msg)
{
    struct scan s;
    if (opts)
        s.opts = *opts;
    else
        lift_read_opts_init(&s.opts);
    scan_open(&s, data, len, sep);
    expect_error(&s, code, msg);
    scan_close(&s);
}

/* ---- records and fields ------------------------------------------------ */

static void csv_next_simple_lf_spans_and_positions(void **state)
{
    (void)state;
    static const char in[] = "a,bb,ccc\n1,22,333\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    assert_int_equal(s.csv.n_fields, 3);
    assert_int_equal(s.csv.rec_line, 1);
    assert_ptr_equal(s.csv.fields[1].p, in + 2);
    assert_int_equal(s.csv.fields[1].len, 2);
    assert_int_equal(s.csv.fields[1].flags, 0);
    assert_int_equal(s.csv.fields[2].line, 1);
    assert_int_equal(s.csv.fields[2].column, 6);
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 2);
    assert_field(&s, 0, "1");
    assert_field(&s, 1, "22");
    assert_field(&s, 2, "333");
    assert_int_equal(s.csv.fields[2].column, 6);
    next_end(&s);
    next_end(&s);
    scan_close(&s);
}

static void csv_next_crlf_line_ends_stripped(void **state)
{
    (void)state;
    static const char in[] = "x;y\r\n1;2\r\n3;4\r\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ';');
    next_record(&s);
    assert_field(&s, 1, "y");
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 2);
    assert_field(&s, 0, "1");
    assert_field(&s, 1, "2");
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 3);
    assert_int_equal(s.csv.fields[1].len, 1);
    next_end(&s);
    scan_close(&s);
}

static void csv_next_lone_cr_ends_records(void **state)
{
    (void)state;
    static const char in[] = "a,b\r1,2\r3,4";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    assert_field(&s, 1, "b");
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 2);
    assert_field(&s, 1, "2");
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 3);
    assert_field(&s, 0, "3");
    assert_field(&s, 1, "4");
    next_end(&s);
    scan_close(&s);
}

static void csv_next_no_final_newline_last_record_kept(void **state)
{
    (void)state;
    static const char in[] = "a,b\r\n1,\"two\"";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    next_record(&s);
    assert_int_equal(s.csv.n_fields, 2);
    assert_field(&s, 1, "two");
    assert_int_equal(s.csv.fields[1].flags, LIFT_CSV_QUOTED);
    next_end(&s);
    scan_close(&s);
}

static void csv_next_bom_skipped_columns_after_it(void **state)
{
    (void)state;
    static const char in[] = "\xEF\xBB\xBF"
                             "id,name\n7,x\"y\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    assert_field(&s, 0, "id");
    assert_int_equal(s.csv.fields[0].column, 1);
    expect_error(&s, LIFT_ERR_PARSE,
                 "line 2, column 4: unexpected '\"' inside an unquoted field "
                 "(read with quoting off if the text holds bare quotes) in "
                 "'t.csv'");
    scan_close(&s);
}

static void csv_next_blank_lines_skipped_lines_counted(void **state)
{
    (void)state;
    static const char in[] = "\n\r\na\n\n\r\n\rb\n\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 3);
    assert_field(&s, 0, "a");
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 7);
    assert_field(&s, 0, "b");
    next_end(&s);
    scan_close(&s);
}

static void csv_next_empty_fields_counted(void **state)
{
    (void)state;
    static const char in[] = ",\na,,\n\"\",x\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    assert_int_equal(s.csv.n_fields, 2);
    assert_int_equal(s.csv.fields[0].len, 0);
    assert_int_equal(s.csv.fields[1].len, 0);
    next_record(&s);
    assert_int_equal(s.csv.n_fields, 3);
    assert_field(&s, 0, "a");
    assert_field(&s, 2, "");
    next_record(&s);
    assert_int_equal(s.csv.n_fields, 2);
    assert_int_equal(s.csv.fields[0].len, 0);
    assert_int_equal(s.csv.fields[0].flags, LIFT_CSV_QUOTED);
    next_end(&s);
    scan_close(&s);
}

static void csv_next_quoted_separator_and_newline_kept(void **state)
{
    (void)state;
    static const char in[] = "id,note\n1,\"a,b\nc\r\nd\"\n2,\"e\"\n3,f\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 2);
    assert_int_equal(s.csv.n_fields, 2);
    assert_field(&s, 1, "a,b\nc\r\nd");
    assert_int_equal(s.csv.fields[1].line, 2);
    assert_int_equal(s.csv.fields[1].column, 3);
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 5);
    assert_field(&s, 1, "e");
    next_record(&s);
    assert_int_equal(s.csv.rec_line, 6);
    next_end(&s);
    scan_close(&s);
}

static void csv_next_line_numbers_after_multiline_field_in_errors(void **state)
{
    (void)state;
    static const char in[] = "a,b\n1,\"x\n\ny\"\n2,3\n4,5\"\n";
    expect_scan_error(in, strlen(in), ',', NULL, LIFT_ERR_PARSE,
                      "line 6, column 4: unexpected '\"' inside an unquoted "
                      "field (read with quoting off if the text holds bare "
                      "quotes) in 't.csv'");
}

static void csv_field_text_doubled_quotes_collapsed(void **state)
{
    (void)state;
    static const char in[] = "\"say \"\"hi\"\"\",\"\"\"\"\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    assert_int_equal(s.csv.fields[0].flags, LIFT_CSV_QUOTED | LIFT_CSV_ESCAPED);
    assert_int_equal(s.csv.fields[0].len, 10);
    assert_field(&s, 0, "say \"hi\"");
    assert_int_equal(s.scratch.len, 8);
    assert_field(&s, 1, "\"");
    next_end(&s);
    scan_close(&s);
}

static void csv_next_no_quote_quotes_ordinary(void **state)
{
    (void)state;
    static const char in[] = "ham\tsay \"hi\" now\nspam\t\"x\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    s.opts.no_quote = true;
    scan_open(&s, in, strlen(in), '\t');
    next_record(&s);
    assert_field(&s, 1, "say \"hi\" now");
    next_record(&s);
    assert_field(&s, 1, "\"x");
    assert_int_equal(s.csv.fields[1].flags, 0);
    next_end(&s);
    scan_close(&s);
}

/* ---- malformed input -------------------------------------------------- */

static void csv_next_unterminated_quote_names_opening(void **state)
{
    (void)state;
    static const char in[] = "a,b\n1,2\n3,\"abc\n4,5\n";
    expect_scan_error(in, strlen(in), ',', NULL, LIFT_ERR_PARSE,
                      "line 3, column 3: unterminated quoted field in "
                      "'t.csv'");
}

static void csv_next_char_after_closing_quote_parse_error(void **state)
{
    (void)state;
    static const char in[] = "a,b\n\"ab\"c,d\n";
    expect_scan_error(in, strlen(in), ',', NULL, LIFT_ERR_PARSE,
                      "line 2, column 5: unexpected 'c' after a closing "
                      "quote in 't.csv'");
    static const char in2[] = "\"x\"\x01\n";
    expect_scan_error(in2, strlen(in2), ',', NULL, LIFT_ERR_PARSE,
                      "line 1, column 4: unexpected byte 0x01 after a "
                      "closing quote in 't.csv'");
    static const char in3[] = "\"x\" ,y\n";
    expect_scan_error(in3, strlen(in3), ',', NULL, LIFT_ERR_PARSE,
                      "line 1, column 4: unexpected ' ' after a closing "
                      "quote in 't.csv'");
}

static void csv_next_bare_quote_unquoted_parse_error(void **state)
{
    (void)state;
    static const char in[] = "a,b\n12,x\"y\n";
    expect_scan_error(in, strlen(in), ',', NULL, LIFT_ERR_PARSE,
                      "line 2, column 5: unexpected '\"' inside an unquoted "
                      "field (read with quoting off if the text holds bare "
                      "quotes) in 't.csv'");
}

static void csv_next_nul_byte_parse_error(void **state)
{
    (void)state;
    static const char in[] = "a,b\n1,x\0y\n";
    expect_scan_error(in, sizeof in - 1, ',', NULL, LIFT_ERR_PARSE,
                      "line 2, column 4: NUL byte in 't.csv'");
    static const char in2[] = "a,b\n1,\"x\n\0\"\n";
    expect_scan_error(in2, sizeof in2 - 1, ',', NULL, LIFT_ERR_PARSE,
                      "line 3, column 1: NUL byte in 't.csv'");
}

static void csv_next_invalid_utf8_strict_names_char_column(void **state)
{
    (void)state;
    /* "é" is one character: the bad byte is character 6 of line 2 */
    static const char in[] = "a,b\n\xC3\xA9,x\xFFy\n";
    expect_scan_error(in, strlen(in), ',', NULL, LIFT_ERR_PARSE,
                      "line 2, column 4: invalid UTF-8 byte 0xff in 't.csv'");
    static const char in2[] = "a\n\"ok\n\xC0\xAF\"\n";
    expect_scan_error(in2, strlen(in2), ',', NULL, LIFT_ERR_PARSE,
                      "line 3, column 1: invalid UTF-8 byte 0xc0 in 't.csv'");
    static const char in3[] = "a,\xED\xA0\x80\n";
    expect_scan_error(in3, strlen(in3), ',', NULL, LIFT_ERR_PARSE,
                      "line 1, column 3: invalid UTF-8 byte 0xed in 't.csv'");
}

static void csv_next_invalid_utf8_in_long_fields_found(void **state)
{
    (void)state;
    /* the bad byte sits past the first 16 bytes of long fields, quoted
     * and not, so that the vector scan has to find it */
    static const char unq[] = "id,text\n1,abcdefghijklmnopqrst\xFFuvwxyz "
                              "and more text after it\n";
    expect_scan_error(unq, strlen(unq), ',', NULL, LIFT_ERR_PARSE,
                      "line 2, column 23: invalid UTF-8 byte 0xff in "
                      "'t.csv'");
    static const char quo[] = "id,text\n1,\"abcdefghijklmnopqrst\xC3(uvwxyz "
                              "and more, text after it\"\n";
    expect_scan_error(quo, strlen(quo), ',', NULL, LIFT_ERR_PARSE,
                      "line 2, column 24: invalid UTF-8 byte 0xc3 in "
                      "'t.csv'");
    struct scan s;
    lift_read_opts_init(&s.opts);
    s.opts.utf8 = LIFT_UTF8_REPLACE;
    scan_open(&s, quo, strlen(quo), ',');
    next_record(&s);
    next_record(&s);
    assert_int_equal(s.csv.n_replaced, 1);
    assert_int_equal(s.csv.fields[1].flags, LIFT_CSV_QUOTED | LIFT_CSV_BADUTF8);
    assert_field(&s, 1,
                 "abcdefghijklmnopqrst\xEF\xBF\xBD(uvwxyz and more, "
                 "text after it");
    scan_close(&s);
}

static void csv_next_invalid_utf8_replace_counted_and_replaced(void **state)
{
    (void)state;
    static const char in[] = "\xFF"
                             "a\xC3,\"\xE2\x82\"\n\xC3\xA9\n";
    struct scan s;
    lift_read_opts_init(&s.opts);
    s.opts.utf8 = LIFT_UTF8_REPLACE;
    scan_open(&s, in, strlen(in), ',');
    next_record(&s);
    assert_int_equal(s.csv.fields[0].flags, LIFT_CSV_BADUTF8);
    assert_int_equal(s.csv.fields[1].flags, LIFT_CSV_QUOTED | LIFT_CSV_BADUTF8);
    assert_field(&s, 0,
                 "\xEF\xBF\xBD"
                 "a\xEF\xBF\xBD");
    assert_field(&s, 1, "\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_int_equal(s.csv.n_replaced, 4);
    next_record(&s);
    assert_int_equal(s.csv.fields[0].flags, 0);
    assert_field(&s, 0, "\xC3\xA9");
    next_end(&s);
    assert_int_equal(s.csv.n_replaced, 4);
    scan_close(&s);
}

static void csv_next_field_over_cap_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_field = 4;
    static const char in[] = "abcd,e\nf,abcde\n";
    expect_scan_error(in, strlen(in), ',', &o, LIFT_ERR_LIMIT,
                      "line 2, column 3: field longer than the limit of 4 "
                      "bytes in 't.csv'");
    static const char in2[] = "\"abcd\"\n\"ab\ncd\"\n";
    expect_scan_error(in2, strlen(in2), ',', &o, LIFT_ERR_LIMIT,
                      "line 2, column 1: field longer than the limit of 4 "
                      "bytes in 't.csv'");
}

static void csv_next_record_over_cap_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_line = 8;
    static const char in[] = "a,b,c,d\n1,2,3,4\n10,2,3,4\n";
    expect_scan_error(in, strlen(in), ',', &o, LIFT_ERR_LIMIT,
                      "line 3: record longer than the limit of 8 bytes in "
                      "'t.csv'");
}

static void csv_next_too_many_fields_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_cols = 3;
    static const char in[] = "a,b,c\n1,2,3,4\n";
    expect_scan_error(in, strlen(in), ',', &o, LIFT_ERR_LIMIT,
                      "line 2: more fields than the limit of 3 columns in "
                      "'t.csv'");
}

static void csv_next_many_fields_grow_past_first_capacity(void **state)
{
    (void)state;
    char in[400];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(in + n, sizeof in - n, "%s%d", i ? "," : "",
                              i % 10);
    in[n++] = '\n';
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, in, n, ',');
    next_record(&s);
    assert_int_equal(s.csv.n_fields, 100);
    assert_field(&s, 99, "9");
    assert_int_equal(s.csv.fields[99].column, 199);
    scan_close(&s);
}

/* Random fields over an alphabet rich in bytes the scanner stops at. */
static size_t random_field(struct lift_rng *r, char *out, bool *needs_quote)
{
    static const char *const atoms[] = {"a",
                                        "b",
                                        "z",
                                        "0",
                                        "9",
                                        " ",
                                        ".",
                                        "-",
                                        ",",
                                        ";",
                                        "\"",
                                        "\n",
                                        "\r",
                                        "\t",
                                        "\xC3\xA9",
                                        "\xE2\x82\xAC",
                                        "\xF0\x9F\x98\x80",
                                        "xyzw",
                                        "0123456789abcdef"};
    size_t n_atoms = sizeof atoms / sizeof atoms[0];
    /* lengths around the 16-byte vector width and past it */
    size_t want = (size_t)lift_rng_below(r, 48), n = 0;
    *needs_quote = false;
    while (n < want) {
        const char *a = atoms[lift_rng_below(r, n_atoms)];
        size_t k = strlen(a);
        memcpy(out + n, a, k);
        n += k;
        *needs_quote |= strpbrk(a, ",\"\n\r") != NULL;
    }
    out[n] = '\0';
    return n;
}

/* Writes `rows` random records of COLS fields (quoted when they must be,
 * and at random), scans them from a buffer of exactly their size and
 * checks every field and record line. */
static void round_trip(uint64_t seed, size_t rows)
{
    struct lift_rng r;
    lift_rng_seed(&r, seed);
    enum { COLS = 5 };
    size_t cap = rows * COLS * 256;
    char *in = malloc(cap);
    char(*want)[128] = malloc(sizeof *want * rows * COLS);
    size_t *line_of = malloc(sizeof *line_of * rows);
    assert_non_null(in);
    assert_non_null(want);
    assert_non_null(line_of);
    size_t n = 0, line = 1;
    for (size_t row = 0; row < rows; row++) {
        line_of[row] = line;
        for (size_t col = 0; col < COLS; col++) {
            bool quote = false;
            char *f = want[row * COLS + col];
            size_t len = random_field(&r, f, &quote);
            quote |= lift_rng_below(&r, 4) == 0;
            if (col)
                in[n++] = ',';
            if (quote)
                in[n++] = '"';
            for (size_t i = 0; i < len; i++) {
                if (f[i] == '"')
                    in[n++] = '"';
                in[n++] = f[i];
                line += f[i] == '\n';
            }
            if (quote)
                in[n++] = '"';
        }
        /* LF, CRLF or a lone CR */
        switch (lift_rng_below(&r, 3)) {
        case 0:
            in[n++] = '\n';
            break;
        case 1:
            in[n++] = '\r';
            in[n++] = '\n';
            break;
        default:
            in[n++] = '\r';
        }
        line++;
    }
    assert_true(n < cap);
    /* exactly n bytes, so that a read past the end shows under ASan */
    char *exact = malloc(n);
    assert_non_null(exact);
    memcpy(exact, in, n);
    struct scan s;
    lift_read_opts_init(&s.opts);
    scan_open(&s, exact, n, ',');
    for (size_t row = 0; row < rows; row++) {
        next_record(&s);
        assert_int_equal(s.csv.n_fields, COLS);
        assert_int_equal(s.csv.rec_line, line_of[row]);
        for (size_t col = 0; col < COLS; col++)
            assert_field(&s, col, want[row * COLS + col]);
    }
    next_end(&s);
    scan_close(&s);
    free(exact);
    free(in);
    free(want);
    free(line_of);
}

static void csv_next_random_round_trip_fields_equal(void **state)
{
    (void)state;
    round_trip(42, 400);
    /* many short inputs: every way for a field to meet the buffer's end */
    for (uint64_t seed = 1; seed <= 400; seed++)
        round_trip(seed, 1 + seed % 3);
}

/* ---- UTF-8 -------------------------------------------------------------- */

static size_t seq_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    return lift_utf8_seq_len(p, p + n);
}

static void utf8_seq_len_valid_forms_lengths(void **state)
{
    (void)state;
    assert_int_equal(seq_len("A", 1), 1);
    assert_int_equal(seq_len("\x7F", 1), 1);
    assert_int_equal(seq_len("\xC2\x80", 2), 2);
    assert_int_equal(seq_len("\xDF\xBF", 2), 2);
    assert_int_equal(seq_len("\xE0\xA0\x80", 3), 3);
    assert_int_equal(seq_len("\xE2\x82\xAC", 3), 3);
    assert_int_equal(seq_len("\xED\x9F\xBF", 3), 3); /* U+D7FF */
    assert_int_equal(seq_len("\xEF\xBF\xBF", 3), 3);
    assert_int_equal(seq_len("\xF0\x90\x80\x80", 4), 4);
    assert_int_equal(seq_len("\xF4\x8F\xBF\xBF", 4), 4); /* U+10FFFF */
}

static void utf8_seq_len_invalid_forms_zero(void **state)
{
    (void)state;
    assert_int_equal(seq_len("\x80", 1), 0);         /* continuation */
    assert_int_equal(seq_len("\xC0\x80", 2), 0);     /* overlong NUL */
    assert_int_equal(seq_len("\xC1\xBF", 2), 0);     /* overlong */
    assert_int_equal(seq_len("\xE0\x9F\xBF", 3), 0); /* overlong */
    assert_int_equal(seq_len("\xED\xA0\x80", 3), 0); /* surrogate */
    assert_int_equal(seq_len("\xF0\x8F\xBF\xBF", 4), 0);
    assert_int_equal(seq_len("\xF4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    assert_int_equal(seq_len("\xF5\x80\x80\x80", 4), 0);
    assert_int_equal(seq_len("\xFF", 1), 0);
    assert_int_equal(seq_len("\xC3"
                             "A",
                             2),
                     0);                         /* bad continuation */
    assert_int_equal(seq_len("\xE2\x82", 2), 0); /* truncated by end */
    assert_int_equal(seq_len("\xF0\x9F\x98", 3), 0);
}

/* ---- separator detection ----------------------------------------------- */

static void csv_detect_sep_each_candidate_found(void **state)
{
    (void)state;
    static const char semi[] = "\"age\";\"job\";\"y\"\r\n56;\"x,y\";\"no\"\r\n";
    assert_int_equal(lift_csv_detect_sep(semi, strlen(semi), true), ';');
    static const char comma[] = "a,b,c\n1,2,3\n";
    assert_int_equal(lift_csv_detect_sep(comma, strlen(comma), true), ',');
    static const char tab[] =
        "ham\tOk lar, joking, wif\nspam\tFree win | now\n";
    assert_int_equal(lift_csv_detect_sep(tab, strlen(tab), true), '\t');
    static const char pipe[] = "a|b\n1|2\n3|4";
    assert_int_equal(lift_csv_detect_sep(pipe, strlen(pipe), true), '|');
}

static void csv_detect_sep_quoted_separators_ignored(void **state)
{
    (void)state;
    /* outside quotes: 1 comma per line; inside, 2 semicolons */
    static const char in[] = "\"a;b;c\",x\n\"d;e;f\",y\n";
    assert_int_equal(lift_csv_detect_sep(in, strlen(in), true), ',');
    /* with quoting off the semicolons count: 2 per line beats 1 comma */
    assert_int_equal(lift_csv_detect_sep(in, strlen(in), false), ';');
}

static void csv_detect_sep_inconsistent_most_frequent(void **state)
{
    (void)state;
    static const char in[] = "a;b;c\n1;2\n";
    assert_int_equal(lift_csv_detect_sep(in, strlen(in), true), ';');
    static const char none[] = "hello\nworld\n";
    assert_int_equal(lift_csv_detect_sep(none, strlen(none), true), ',');
    assert_int_equal(lift_csv_detect_sep("", 0, true), ',');
    static const char bom[] = "\xEF\xBB\xBF"
                              "a|b\n1|2\n";
    assert_int_equal(lift_csv_detect_sep(bom, strlen(bom), true), '|');
}

static void csv_detect_sep_blank_first_lines_skipped(void **state)
{
    (void)state;
    static const char in[] = "\n\r\n\"a\";\"b\"\r\n\r\n1;2\r\n3;4";
    assert_int_equal(lift_csv_detect_sep(in, strlen(in), true), ';');
    static const char last[] = "a;b\n1;2\n3";
    assert_int_equal(lift_csv_detect_sep(last, strlen(last), true), ';');
}

static void csv_detect_sep_line_cut_by_window_ignored(void **state)
{
    (void)state;
    /* long lines: 10 ';' each, and a varying number of ',' (more on the
     * first line than ';'); the 64 KiB window cuts the 14th line short */
    size_t cap = 200000, n = 0;
    char *in = malloc(cap);
    assert_non_null(in);
    for (int line = 0; line < 30; line++) {
        for (int f = 0; f < 11; f++) {
            if (f)
                in[n++] = ';';
            int commas = f == 0 ? 20 + line % 3 : 0;
            for (int k = 0; k < 450; k++)
                in[n++] = k < commas ? ',' : 'x';
        }
        in[n++] = '\n';
    }
    assert_true(n > 65536 && n < cap);
    assert_int_equal(lift_csv_detect_sep(in, n, false), ';');
    /* one header line longer than the window still counts */
    memset(in, 'x', 70000);
    for (size_t k = 0; k < 70000; k += 7)
        in[k] = '|';
    assert_int_equal(lift_csv_detect_sep(in, 70000, false), '|');
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_next_simple_lf_spans_and_positions),
        cmocka_unit_test(csv_next_crlf_line_ends_stripped),
        cmocka_unit_test(csv_next_lone_cr_ends_records),
        cmocka_unit_test(csv_next_no_final_newline_last_record_kept),
        cmocka_unit_test(csv_next_bom_skipped_columns_after_it),
        cmocka_unit_test(csv_next_blank_lines_skipped_lines_counted),
        cmocka_unit_test(csv_next_empty_fields_counted),
        cmocka_unit_test(csv_next_quoted_separator_and_newline_kept),
        cmocka_unit_test(csv_next_line_numbers_after_multiline_field_in_errors),
        cmocka_unit_test(csv_field_text_doubled_quotes_collapsed),
        cmocka_unit_test(csv_next_no_quote_quotes_ordinary),
        cmocka_unit_test(csv_next_unterminated_quote_names_opening),
        cmocka_unit_test(csv_next_char_after_closing_quote_parse_error),
        cmocka_unit_test(csv_next_bare_quote_unquoted_parse_error),
        cmocka_unit_test(csv_next_nul_byte_parse_error),
        cmocka_unit_test(csv_next_invalid_utf8_strict_names_char_column),
        cmocka_unit_test(csv_next_invalid_utf8_in_long_fields_found),
        cmocka_unit_test(csv_next_invalid_utf8_replace_counted_and_replaced),
        cmocka_unit_test(csv_next_field_over_cap_limit_error),
        cmocka_unit_test(csv_next_record_over_cap_limit_error),
        cmocka_unit_test(csv_next_too_many_fields_limit_error),
        cmocka_unit_test(csv_next_many_fields_grow_past_first_capacity),
        cmocka_unit_test(csv_next_random_round_trip_fields_equal),
        cmocka_unit_test(utf8_seq_len_valid_forms_lengths),
        cmocka_unit_test(utf8_seq_len_invalid_forms_zero),
        cmocka_unit_test(csv_detect_sep_each_candidate_found),
        cmocka_unit_test(csv_detect_sep_quoted_separators_ignored),
        cmocka_unit_test(csv_detect_sep_inconsistent_most_frequent),
        cmocka_unit_test(csv_detect_sep_blank_first_lines_skipped),
        cmocka_unit_test(csv_detect_sep_line_cut_by_window_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
