/*
 * tests/unit/test_table.c - the CSV-to-table reader and the table
 * (data/table.c): every malformed input gives its exact code and message
 * (with line and column where there is one); line ends, BOM, blank lines,
 * quoting, separator detection, column names, missing sentinels, type
 * overrides and inference, column statistics and level lookup; the four
 * real files of ../shared/data (their shapes and the counts measured in
 * its README); and a torture walk that fails every allocation of a load
 * in turn.
 *
 * The data folder comes from LIFT_DATA (set by tests/unit/meson.build),
 * else ../shared/data from the working directory (scripts/check.sh runs
 * from the repository root); the real-file tests skip when neither exists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lift/table.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/reader.h"

/* ---- helpers ------------------------------------------------------------ */

static struct lift_table *load_opts(const char *csv, size_t len,
                                    struct lift_read_opts *o)
{
    struct lift_table *t = NULL;
    struct lift_error err;
    memset(&err, 0, sizeof err);
    if (!o->name)
        o->name = "x.csv";
    enum lift_code rc = lift_table_read_mem(csv, len, o, &t, &err);
    if (rc != LIFT_OK)
        fail_msg("read failed (%s): %s", lift_code_name(rc), err.msg);
    assert_non_null(t);
    return t;
}

static struct lift_table *load(const char *csv)
{
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    return load_opts(csv, strlen(csv), &o);
}

static void expect_fail_opts(const char *csv, size_t len,
                             struct lift_read_opts *o, enum lift_code code,
                             const char *msg)
{
    struct lift_table *t = (struct lift_table *)&t; /* must become NULL */
    struct lift_error err;
    memset(&err, 0, sizeof err);
    if (!o->name)
        o->name = "x.csv";
    enum lift_code rc = lift_table_read_mem(csv, len, o, &t, &err);
    assert_null(t);
    if (rc != code)
        fail_msg("got %s (%s), want %s", lift_code_name(rc), err.msg,
                 lift_code_name(code));
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, msg);
}

static void expect_fail(const char *csv, enum lift_code code, const char *msg)
{
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    expect_fail_opts(csv, strlen(csv), &o, code, msg);
}

static size_t col(const struct lift_table *t, const char *name)
{
    size_t c = SIZE_MAX;
    struct lift_error err;
    if (lift_table_col_index(t, name, &c, &err) != LIFT_OK)
        fail_msg("%s", err.msg);
    return c;
}

/* The text of a categorical or text cell ("" when missing). */
static const char *cell(const struct lift_table *t, const char *name,
                        size_t row)
{
    size_t c = col(t, name);
    const uint32_t *codes = lift_table_codes(t, c);
    assert_non_null(codes);
    if (codes[row] == LIFT_MISSING_CODE)
        return "";
    return lift_table_level(t, c, codes[row], NULL);
}

static double value(const struct lift_table *t, const char *name, size_t row)
{
    const double *v = lift_table_values(t, col(t, name));
    assert_non_null(v);
    return v[row];
}

static size_t level_count(const struct lift_table *t, size_t c,
                          const char *text)
{
    uint32_t code = lift_table_find_level(t, c, text, strlen(text));
    if (code == LIFT_MISSING_CODE)
        fail_msg("no level '%s' in column '%s'", text,
                 lift_table_col_name(t, c));
    return lift_table_level_count(t, c, code);
}

static size_t n_missing(const struct lift_table *t, size_t c)
{
    size_t n = 0;
    for (size_t r = 0; r < lift_table_n_rows(t); r++)
        n += lift_table_is_missing(t, c, r);
    return n;
}

/* ---- malformed input ---------------------------------------------------- */

static void read_mem_unterminated_quote_parse_error(void **state)
{
    (void)state;
    expect_fail("id,note\n1,\"ok\"\n2,\"never closed\n3,x\n", LIFT_ERR_PARSE,
                "line 3, column 3: unterminated quoted field in 'x.csv'");
    expect_fail("\"a", LIFT_ERR_PARSE,
                "line 1, column 1: unterminated quoted field in 'x.csv'");
}

static void read_mem_ragged_rows_parse_error_naming_counts(void **state)
{
    (void)state;
    /* 21 columns, as the bank file has, and a row one short */
    char csv[512];
    size_t n = 0;
    for (int i = 0; i < 21; i++)
        n +=
            (size_t)snprintf(csv + n, sizeof csv - n, "%sc%d", i ? ";" : "", i);
    n += (size_t)snprintf(csv + n, sizeof csv - n, "\r\n");
    for (int r = 0; r < 2; r++) {
        int fields = r == 1 ? 20 : 21;
        for (int i = 0; i < fields; i++)
            n += (size_t)snprintf(csv + n, sizeof csv - n, "%s%d", i ? ";" : "",
                                  i);
        n += (size_t)snprintf(csv + n, sizeof csv - n, "\r\n");
    }
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.name = "bank.csv";
    expect_fail_opts(csv, n, &o, LIFT_ERR_PARSE,
                     "line 3: expected 21 fields, found 20 in 'bank.csv'");
    expect_fail("a,b\n1,2\n\n3,4,5\n", LIFT_ERR_PARSE,
                "line 4: expected 2 fields, found 3 in 'x.csv'");
}

static void read_mem_nul_byte_parse_error(void **state)
{
    (void)state;
    static const char csv[] = "a,b\n1,2\n3,4\0\n";
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    expect_fail_opts(csv, sizeof csv - 1, &o, LIFT_ERR_PARSE,
                     "line 3, column 4: NUL byte in 'x.csv'");
}

static void read_mem_invalid_utf8_strict_parse_error(void **state)
{
    (void)state;
    expect_fail("name,city\nJos\xC3\xA9,S\xE3o Paulo\n", LIFT_ERR_PARSE,
                "line 2, column 7: invalid UTF-8 byte 0xe3 in 'x.csv'");
    expect_fail("na\xFFme\nx\n", LIFT_ERR_PARSE,
                "line 1, column 3: invalid UTF-8 byte 0xff in 'x.csv'");
}

static void read_mem_invalid_utf8_replace_counted_and_stored(void **state)
{
    (void)state;
    static const char csv[] = "name,city\n"
                              "Jos\xC3\xA9,S\xE3o Paulo\n"
                              "Ana,\"M\xFC\xFCnchen\"\n"
                              "Bo,S\xE3o Paulo\n";
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.utf8 = LIFT_UTF8_REPLACE;
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(lift_table_n_replaced(t), 4);
    assert_string_equal(cell(t, "name", 0), "Jos\xC3\xA9");
    assert_string_equal(cell(t, "city", 0), "S\xEF\xBF\xBDo Paulo");
    assert_string_equal(cell(t, "city", 1), "M\xEF\xBF\xBD\xEF\xBF\xBDnchen");
    /* the same repaired text is one level */
    assert_int_equal(lift_table_n_levels(t, 1), 2);
    assert_int_equal(level_count(t, 1, "S\xEF\xBF\xBDo Paulo"), 2);
    lift_table_free(t);
    struct lift_table *clean = load("a\n\xC3\xA9\n");
    assert_int_equal(lift_table_n_replaced(clean), 0);
    lift_table_free(clean);
}

static void read_mem_field_over_cap_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_field = 5;
    static const char csv[] = "id,name\n1,Alice\n2,Bernard\n";
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_LIMIT,
                     "line 3, column 3: field longer than the limit of 5 "
                     "bytes in 'x.csv'");
}

static void read_mem_line_over_cap_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_line = 10;
    static const char csv[] = "id,name\n1,Alice\n2,Bernadette\n";
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_LIMIT,
                     "line 3: record longer than the limit of 10 bytes in "
                     "'x.csv'");
}

static void read_mem_too_many_columns_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_cols = 2;
    static const char csv[] = "a,b,c\n1,2,3\n";
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_LIMIT,
                     "line 1: more fields than the limit of 2 columns in "
                     "'x.csv'");
}

static void read_mem_too_many_rows_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_rows = 2;
    static const char csv[] = "a\n1\n2\n3\n";
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_LIMIT,
                     "more data records than the limit of 2 in 'x.csv'");
    /* exactly at the cap is fine */
    static const char two[] = "a\n1\n2\n";
    struct lift_table *t = load_opts(two, strlen(two), &o);
    assert_int_equal(lift_table_n_rows(t), 2);
    lift_table_free(t);
}

static void read_mem_input_over_cap_limit_error(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_bytes = 8;
    static const char csv[] = "a,b\n1,2\n3\n";
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_LIMIT,
                     "'x.csv' is larger than the limit of 8 bytes");
}

static void read_mem_empty_input_parse_error(void **state)
{
    (void)state;
    expect_fail("", LIFT_ERR_PARSE, "empty input 'x.csv'");
    expect_fail("\n\r\n\n", LIFT_ERR_PARSE, "empty input 'x.csv'");
    expect_fail("\xEF\xBB\xBF", LIFT_ERR_PARSE, "empty input 'x.csv'");
}

static void read_mem_header_only_parse_error(void **state)
{
    (void)state;
    expect_fail("a,b,c\n", LIFT_ERR_PARSE,
                "no data records after the header in 'x.csv'");
    expect_fail("\"a\";\"b\"\r\n\r\n", LIFT_ERR_PARSE,
                "no data records after the header in 'x.csv'");
    expect_fail("a,b", LIFT_ERR_PARSE,
                "no data records after the header in 'x.csv'");
}

static void read_mem_duplicate_column_names_parse_error(void **state)
{
    (void)state;
    expect_fail("id,age,id\n1,2,3\n", LIFT_ERR_PARSE,
                "duplicate column name 'id' (columns 1 and 3) in 'x.csv'");
    /* an empty name becomes c<i>, which may collide too */
    expect_fail("a,,c2\n1,2,3\n", LIFT_ERR_PARSE,
                "duplicate column name 'c2' (columns 2 and 3) in 'x.csv'");
}

static void read_mem_char_after_closing_quote_parse_error(void **state)
{
    (void)state;
    expect_fail("a,b\n\"x\"y,2\n", LIFT_ERR_PARSE,
                "line 2, column 4: unexpected 'y' after a closing quote in "
                "'x.csv'");
}

static void read_mem_bare_quote_unquoted_parse_error(void **state)
{
    (void)state;
    static const char csv[] = "label\ttext\nham\tsay \"hi\"\n";
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_PARSE,
                     "line 2, column 9: unexpected '\"' inside an unquoted "
                     "field (read with quoting off if the text holds bare "
                     "quotes) in 'x.csv'");
}

static void read_mem_bare_quote_no_quote_kept(void **state)
{
    (void)state;
    static const char csv[] = "label\ttext\nham\tsay \"hi\"\nspam\t\"\"\n";
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.no_quote = true;
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(lift_table_sep(t), '\t');
    assert_int_equal(lift_table_n_rows(t), 2);
    assert_string_equal(cell(t, "text", 0), "say \"hi\"");
    assert_string_equal(cell(t, "text", 1), "\"\"");
    lift_table_free(t);
}

static void read_mem_bad_separator_option_invalid(void **state)
{
    (void)state;
    static const char csv[] = "a,b\n1,2\n";
    static const char bad[] = {'"', '\n', '\r'};
    for (size_t i = 0; i < sizeof bad; i++) {
        struct lift_read_opts o;
        lift_read_opts_init(&o);
        o.sep = bad[i];
        struct lift_table *t = (struct lift_table *)&o;
        struct lift_error err;
        assert_int_equal(lift_table_read_mem(csv, strlen(csv), &o, &t, &err),
                         LIFT_ERR_INVALID);
        assert_null(t);
        assert_non_null(strstr(err.msg, "bad separator"));
    }
}

/* ---- line ends, BOM, quoting -------------------------------------------- */

static void read_mem_line_end_styles_same_table(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "a,b\n1,x\n2,y\n",
        "a,b\r\n1,x\r\n2,y\r\n",
        "a,b\r1,x\r2,y\r",
        "a,b\r\n1,x\n2,y",
        "\xEF\xBB\xBF"
        "a,b\r\n1,x\r\n2,y",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct lift_table *t = load(inputs[i]);
        assert_int_equal(lift_table_n_rows(t), 2);
        assert_int_equal(lift_table_n_cols(t), 2);
        assert_string_equal(lift_table_col_name(t, 0), "a");
        assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_NUMERIC);
        assert_true(value(t, "a", 1) == 2.0);
        assert_string_equal(cell(t, "b", 0), "x");
        assert_string_equal(cell(t, "b", 1), "y");
        assert_int_equal(lift_table_row_line(t, 1), 3);
        lift_table_free(t);
    }
}

static void read_mem_bom_not_in_first_name(void **state)
{
    (void)state;
    struct lift_table *t = load("\xEF\xBB\xBF\"id\",\"v\"\n1,2\n");
    assert_string_equal(lift_table_col_name(t, 0), "id");
    size_t c = 99;
    assert_int_equal(lift_table_col_index(t, "id", &c, NULL), LIFT_OK);
    assert_int_equal(c, 0);
    lift_table_free(t);
}

static void read_mem_no_final_newline_last_row_kept(void **state)
{
    (void)state;
    struct lift_table *t = load("a,b\r\n1,2\r\n3,\"4\"");
    assert_int_equal(lift_table_n_rows(t), 2);
    assert_true(value(t, "b", 1) == 4.0);
    lift_table_free(t);
}

static void read_mem_embedded_newlines_row_lines_follow(void **state)
{
    (void)state;
    static const char csv[] = "id,note\n"
                              "1,\"two\nlines\"\n"
                              "2,\"three\r\nlines\r\nhere\"\n"
                              "3,plain\n";
    struct lift_table *t = load(csv);
    assert_int_equal(lift_table_n_rows(t), 3);
    assert_int_equal(lift_table_row_line(t, 0), 2);
    assert_int_equal(lift_table_row_line(t, 1), 4);
    assert_int_equal(lift_table_row_line(t, 2), 7);
    assert_string_equal(cell(t, "note", 0), "two\nlines");
    assert_string_equal(cell(t, "note", 1), "three\r\nlines\r\nhere");
    lift_table_free(t);
    /* and an error after them names the right line */
    expect_fail("id,note\n1,\"a\nb\"\n2,\"c\n\nd\"\n3\n", LIFT_ERR_PARSE,
                "line 7: expected 2 fields, found 1 in 'x.csv'");
    expect_fail("id,note\n1,\"a\nb\"\n2,x\"\n", LIFT_ERR_PARSE,
                "line 4, column 4: unexpected '\"' inside an unquoted field "
                "(read with quoting off if the text holds bare quotes) in "
                "'x.csv'");
}

static void read_mem_blank_lines_skipped(void **state)
{
    (void)state;
    struct lift_table *t = load("\n\na,b\n\n1,2\r\n\r\n\n3,4\n\n");
    assert_int_equal(lift_table_n_rows(t), 2);
    assert_int_equal(lift_table_row_line(t, 0), 5);
    assert_int_equal(lift_table_row_line(t, 1), 8);
    assert_true(value(t, "a", 1) == 3.0);
    lift_table_free(t);
}

static void read_mem_doubled_quotes_unescaped(void **state)
{
    (void)state;
    struct lift_table *t =
        load("\"the \"\"name\"\"\",q\n\"say \"\"hi\"\", ok\",\"\"\"\"\"\"\n");
    assert_string_equal(lift_table_col_name(t, 0), "the \"name\"");
    assert_string_equal(cell(t, "the \"name\"", 0), "say \"hi\", ok");
    assert_string_equal(cell(t, "q", 0), "\"\"");
    lift_table_free(t);
}

/* ---- separators and names ----------------------------------------------- */

static void read_mem_separator_detected(void **state)
{
    (void)state;
    static const struct {
        const char *csv;
        char sep;
    } cases[] = {
        {"\"a\";\"b,c\"\r\n1;2\r\n", ';'},
        {"a,b\n1,\"x;y;z\"\n", ','},
        {"label\ttext\nham\tok, fine; yes\n", '\t'},
        {"a|b|c\n1|2|3\n", '|'},
        {"single\n1\n", ','},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lift_table *t = load(cases[i].csv);
        assert_int_equal(lift_table_sep(t), cases[i].sep);
        lift_table_free(t);
    }
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.sep = ';';
    static const char csv[] = "a,b\n1,2\n";
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(lift_table_sep(t), ';');
    assert_int_equal(lift_table_n_cols(t), 1);
    assert_string_equal(lift_table_col_name(t, 0), "a,b");
    lift_table_free(t);
}

static void parse_sep_spellings_mapped(void **state)
{
    (void)state;
    static const struct {
        const char *spelling;
        char sep;
    } ok[] = {{"tab", '\t'}, {"\\t", '\t'},  {"comma", ','}, {"semicolon", ';'},
              {"pipe", '|'}, {"space", ' '}, {";", ';'},     {"\t", '\t'}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char sep = 0;
        assert_int_equal(lift_parse_sep(ok[i].spelling, &sep, NULL), LIFT_OK);
        assert_int_equal(sep, ok[i].sep);
    }
    struct lift_error err;
    char sep = 'x';
    assert_int_equal(lift_parse_sep("\"", &sep, &err), LIFT_ERR_INVALID);
    assert_int_equal(lift_parse_sep("ab", &sep, &err), LIFT_ERR_INVALID);
    assert_int_equal(lift_parse_sep("", &sep, &err), LIFT_ERR_INVALID);
    assert_int_equal(lift_parse_sep("\xC3\xA9", &sep, &err), LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "bad separator '\xC3\xA9'"));
    assert_int_equal(sep, 'x');
}

static void read_mem_no_header_default_names(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.no_header = true;
    static const char csv[] = "1,a\n2,b\n";
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(lift_table_n_rows(t), 2);
    assert_string_equal(lift_table_col_name(t, 0), "c1");
    assert_string_equal(lift_table_col_name(t, 1), "c2");
    assert_true(value(t, "c1", 0) == 1.0);
    assert_int_equal(lift_table_row_line(t, 0), 1);
    lift_table_free(t);
}

static void read_mem_columns_option_names_columns(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.no_header = true;
    o.columns = "label,text";
    static const char csv[] = "ham\thello there\nspam\twin now\n";
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(lift_table_n_rows(t), 2);
    assert_string_equal(lift_table_col_name(t, 0), "label");
    assert_string_equal(cell(t, "text", 1), "win now");
    lift_table_free(t);
    /* with a header: the names replace it, the header is not data */
    lift_read_opts_init(&o);
    o.columns = "x,y";
    static const char hdr[] = "a,b\n1,2\n";
    t = load_opts(hdr, strlen(hdr), &o);
    assert_int_equal(lift_table_n_rows(t), 1);
    assert_string_equal(lift_table_col_name(t, 1), "y");
    assert_true(value(t, "y", 0) == 2.0);
    struct lift_error err;
    size_t c;
    assert_int_equal(lift_table_col_index(t, "a", &c, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "no column 'a'");
    lift_table_free(t);
}

static void read_mem_columns_option_bad_count_or_names_invalid(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.columns = "x,y,z";
    static const char hdr[] = "a,b\n1,2\n";
    expect_fail_opts(hdr, strlen(hdr), &o, LIFT_ERR_INVALID,
                     "3 column names given, but line 1 of 'x.csv' has 2 "
                     "fields");
    lift_read_opts_init(&o);
    o.no_header = true;
    o.columns = "x";
    expect_fail_opts(hdr, strlen(hdr), &o, LIFT_ERR_INVALID,
                     "1 column names given, but line 1 of 'x.csv' has 2 "
                     "fields");
    o.columns = "x,x";
    expect_fail_opts(hdr, strlen(hdr), &o, LIFT_ERR_PARSE,
                     "duplicate column name 'x' (columns 1 and 2) in 'x.csv'");
    o.columns = "x,";
    expect_fail_opts(hdr, strlen(hdr), &o, LIFT_ERR_INVALID,
                     "empty column name 2 in the column list 'x,'");
}

/* ---- missing values and types ------------------------------------------- */

static void read_mem_default_missing_spellings_missing(void **state)
{
    (void)state;
    struct lift_table *t =
        load("n,s\n1,a\nNA,NA\n,\nNaN,null\nnull,b\n2.5,na\n");
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_NUMERIC);
    assert_int_equal(n_missing(t, 0), 4);
    assert_true(isnan(value(t, "n", 1)));
    assert_true(value(t, "n", 5) == 2.5);
    /* "na" is not a default spelling: a level */
    assert_int_equal(n_missing(t, 1), 3);
    assert_int_equal(lift_table_n_levels(t, 1), 3);
    assert_true(lift_table_is_missing(t, 1, 2));
    assert_false(lift_table_is_missing(t, 1, 5));
    lift_table_free(t);
}

static void read_mem_missing_sentinels_per_column_and_global(void **state)
{
    (void)state;
    static const char csv[] = "job,pdays,edu\n"
                              "admin,999,unknown\n"
                              "unknown,3,basic\n"
                              "?,999,?\n"
                              "tech,6,high\n";
    /* per column: only pdays' 999 */
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *per_col[] = {"pdays=999"};
    o.missing = per_col;
    o.n_missing = 1;
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(lift_table_col_type(t, 1), LIFT_COL_NUMERIC);
    assert_int_equal(n_missing(t, 1), 2);
    assert_int_equal(n_missing(t, 0), 0);
    assert_int_equal(n_missing(t, 2), 0);
    lift_table_free(t);
    /* global values, then one more for a column */
    const char *both[] = {"unknown,?", "job=tech"};
    o.missing = both;
    o.n_missing = 2;
    t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(n_missing(t, 0), 3);
    assert_int_equal(n_missing(t, 1), 0);
    assert_int_equal(n_missing(t, 2), 2);
    assert_int_equal(lift_table_n_levels(t, 0), 1);
    assert_string_equal(cell(t, "job", 0), "admin");
    assert_int_equal(lift_table_find_level(t, 0, "unknown", 7),
                     LIFT_MISSING_CODE);
    assert_int_equal(lift_table_find_level(t, 2, "basic", 5), 0);
    lift_table_free(t);
    /* a sentinel turns a mixed column numeric */
    const char *dash[] = {"x=-"};
    o.missing = dash;
    o.n_missing = 1;
    static const char mixed[] = "x\n1\n-\n3\n";
    t = load_opts(mixed, strlen(mixed), &o);
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_NUMERIC);
    assert_true(isnan(value(t, "x", 1)));
    lift_table_free(t);
}

static void read_mem_missing_unknown_column_invalid(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *spec[] = {"nope=1,2"};
    o.missing = spec;
    o.n_missing = 1;
    static const char csv[] = "a\n1\n";
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_INVALID,
                     "unknown column 'nope' in missing-value spec "
                     "'nope=1,2'");
}

static void read_mem_type_override_applied(void **state)
{
    (void)state;
    static const char csv[] = "zip,flag,day,n\n"
                              "02134,true,2020-01-01,1\n"
                              "10001,false,2020-01-02,2\n"
                              "02134,,2020-01-03,3\n";
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *types[] = {"zip=categorical", "flag=boolean", "day=text",
                           "n=date"};
    o.types = types;
    o.n_types = 3;
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_CATEGORICAL);
    assert_string_equal(cell(t, "zip", 0), "02134");
    assert_int_equal(lift_table_n_levels(t, 0), 2);
    assert_int_equal(lift_table_col_type(t, 1), LIFT_COL_BOOLEAN);
    assert_true(isnan(value(t, "flag", 2)));
    assert_int_equal(lift_table_col_type(t, 2), LIFT_COL_TEXT);
    assert_string_equal(cell(t, "day", 1), "2020-01-02");
    assert_int_equal(lift_table_col_type(t, 3), LIFT_COL_NUMERIC);
    lift_table_free(t);
    /* a value not of the forced type */
    o.n_types = 4;
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_PARSE,
                     "line 2, column 23: '1' is not a date value (column "
                     "'n' is date) in 'x.csv'");
}

static void read_mem_type_override_bad_value_parse_error(void **state)
{
    (void)state;
    static const char csv[] = "\"id\";\"age\"\r\n1;41\r\n2;\"forty\"\r\n";
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *types[] = {"age=numeric"};
    o.types = types;
    o.n_types = 1;
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_PARSE,
                     "line 3, column 3: 'forty' is not a numeric value "
                     "(column 'age' is numeric) in 'x.csv'");
}

static void read_mem_type_spec_malformed_invalid(void **state)
{
    (void)state;
    static const char csv[] = "a\n1\n";
    static const struct {
        const char *spec, *msg;
    } cases[] = {
        {"a=float", "bad type spec 'a=float' (expected column=numeric, "
                    "categorical, text, boolean or date)"},
        {"a", "bad type spec 'a' (expected column=numeric, categorical, "
              "text, boolean or date)"},
        {"b=numeric", "unknown column 'b' in type spec 'b=numeric'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lift_read_opts o;
        lift_read_opts_init(&o);
        o.types = &cases[i].spec;
        o.n_types = 1;
        expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_INVALID, cases[i].msg);
    }
}

static void read_mem_types_inferred(void **state)
{
    (void)state;
    static const char csv[] =
        "num,flag,day,cat,text,empty,bin,mixed\n"
        "1.5,true,2020-01-01,red,the quick brown fox,,1,1\n"
        "-2,FALSE,2020-02-29T10:00Z,blue,jumps over the dog,NA,0,x\n"
        "3e2,,2021-12-31,red,a lazy afternoon nap,,1,2\n"
        "NA,True,,green,never again,,0,3\n";
    struct lift_table *t = load(csv);
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_NUMERIC);
    assert_int_equal(lift_table_col_type(t, 1), LIFT_COL_BOOLEAN);
    assert_int_equal(lift_table_col_type(t, 2), LIFT_COL_DATE);
    assert_int_equal(lift_table_col_type(t, 3), LIFT_COL_CATEGORICAL);
    assert_int_equal(lift_table_col_type(t, 4), LIFT_COL_TEXT);
    assert_int_equal(lift_table_col_type(t, 5), LIFT_COL_CATEGORICAL);
    assert_int_equal(lift_table_col_type(t, 6), LIFT_COL_NUMERIC);
    assert_int_equal(lift_table_col_type(t, 7), LIFT_COL_CATEGORICAL);
    assert_true(value(t, "num", 2) == 300.0);
    assert_true(value(t, "flag", 1) == 0.0);
    assert_true(value(t, "flag", 3) == 1.0);
    assert_true(value(t, "day", 1) == 1582970400.0);
    assert_true(isnan(value(t, "day", 3)));
    assert_int_equal(lift_table_n_levels(t, 5), 0);
    assert_int_equal(n_missing(t, 5), 4);
    assert_null(lift_table_values(t, 3));
    assert_null(lift_table_codes(t, 0));
    assert_string_equal(cell(t, "mixed", 1), "x");
    lift_table_free(t);
}

static void read_mem_type_change_midway_rescanned(void **state)
{
    (void)state;
    static const char csv[] = "n,b,d,late,clean,gone\n"
                              "1,true,2020-01-01,NA,7,\n"
                              "2,false,NA,,8,NA\n"
                              "x,maybe,\"la,ter\",5,9,\n"
                              "3,TRUE,2020-01-02,\"6\",10,null\n";
    struct lift_table *t = load(csv);
    assert_int_equal(lift_table_n_rows(t), 4);
    /* numbers, then a string: every cell interned, in order */
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_CATEGORICAL);
    assert_int_equal(lift_table_n_levels(t, 0), 4);
    static const char *const n_want[] = {"1", "2", "x", "3"};
    for (size_t r = 0; r < 4; r++) {
        assert_string_equal(cell(t, "n", r), n_want[r]);
        assert_int_equal(lift_table_codes(t, 0)[r], r);
    }
    assert_null(lift_table_values(t, 0));
    /* booleans, then a word */
    assert_int_equal(lift_table_col_type(t, 1), LIFT_COL_CATEGORICAL);
    assert_string_equal(cell(t, "b", 3), "TRUE");
    assert_int_equal(lift_table_n_levels(t, 1), 4);
    /* dates and a missing one, then a quoted string */
    assert_int_equal(lift_table_col_type(t, 2), LIFT_COL_CATEGORICAL);
    assert_true(lift_table_is_missing(t, 2, 1));
    assert_string_equal(cell(t, "d", 2), "la,ter");
    assert_int_equal(lift_table_n_levels(t, 2), 3);
    /* missing first, numbers after */
    assert_int_equal(lift_table_col_type(t, 3), LIFT_COL_NUMERIC);
    assert_true(isnan(value(t, "late", 0)) && isnan(value(t, "late", 1)));
    assert_true(value(t, "late", 2) == 5.0 && value(t, "late", 3) == 6.0);
    assert_int_equal(lift_table_col_type(t, 4), LIFT_COL_NUMERIC);
    assert_true(value(t, "clean", 3) == 10.0);
    /* never present */
    assert_int_equal(lift_table_col_type(t, 5), LIFT_COL_CATEGORICAL);
    assert_int_equal(n_missing(t, 5), 4);
    lift_table_free(t);
    /* a forced type makes the late string an error, at its own line */
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *types[] = {"n=numeric"};
    o.types = types;
    o.n_types = 1;
    expect_fail_opts(csv, strlen(csv), &o, LIFT_ERR_PARSE,
                     "line 4, column 1: 'x' is not a numeric value (column "
                     "'n' is numeric) in 'x.csv'");
}

static void read_mem_text_needs_words_and_variety(void **state)
{
    (void)state;
    /* multi-word but few distinct, short values: categorical */
    struct lift_table *t = load("seg\nNo E-Mail\nMens E-Mail\nNo E-Mail\n"
                                "No E-Mail\nMens E-Mail\nNo E-Mail\n"
                                "Mens E-Mail\nNo E-Mail\nNo E-Mail\n"
                                "Mens E-Mail\nNo E-Mail\n");
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_CATEGORICAL);
    lift_table_free(t);
    /* distinct single words: categorical (ids, names) */
    t = load("name\nann\nbob\ncyd\ndee\n");
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_CATEGORICAL);
    lift_table_free(t);
    /* long repeated sentences: text */
    t = load("msg\n\"please call me back when you are free today\"\n"
             "\"please call me back when you are free today\"\n"
             "\"please call me back when you are free today\"\n"
             "\"sorry, I will call you later this evening ok\"\n");
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_TEXT);
    lift_table_free(t);
}

/* ---- statistics and levels ---------------------------------------------- */

static void col_stats_numeric_values(void **state)
{
    (void)state;
    struct lift_table *t = load("v\n2\n4\nNA\n4\n5\n5\n7\n9\n");
    struct lift_col_stats st;
    assert_int_equal(lift_table_col_stats(t, 0, &st, NULL), LIFT_OK);
    assert_int_equal(st.count, 7);
    assert_int_equal(st.missing, 1);
    assert_int_equal(st.distinct, 5);
    assert_true(st.min == 2.0);
    assert_true(st.max == 9.0);
    assert_true(fabs(st.mean - 36.0 / 7.0) < 1e-12);
    /* sample variance of 2,4,4,5,5,7,9: sum sq dev 32.857.../6 */
    double ss = 0.0;
    static const double xs[] = {2, 4, 4, 5, 5, 7, 9};
    for (int i = 0; i < 7; i++)
        ss += (xs[i] - 36.0 / 7.0) * (xs[i] - 36.0 / 7.0);
    assert_true(fabs(st.std - sqrt(ss / 6.0)) < 1e-12);
    assert_int_equal(st.n_top, 0);
    assert_true(isnan(st.mean_len));
    lift_table_free(t);
}

static void col_stats_all_missing_nan(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *types[] = {"v=numeric"};
    o.types = types;
    o.n_types = 1;
    static const char csv[] = "v,w\nNA,1\n,2\n";
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    struct lift_col_stats st;
    assert_int_equal(lift_table_col_stats(t, 0, &st, NULL), LIFT_OK);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.missing, 2);
    assert_int_equal(st.distinct, 0);
    assert_true(isnan(st.min) && isnan(st.max) && isnan(st.mean));
    assert_true(isnan(st.std));
    assert_int_equal(lift_table_col_stats(t, 1, &st, NULL), LIFT_OK);
    assert_true(st.std == sqrt(0.5));
    lift_table_free(t);
}

static void col_stats_categorical_top_levels_ties_first_seen(void **state)
{
    (void)state;
    struct lift_table *t = load("c\nb\na\nc\na\nd\ne\nf\ng\nc\nNA\nf\nb\n");
    struct lift_col_stats st;
    assert_int_equal(lift_table_col_stats(t, 0, &st, NULL), LIFT_OK);
    assert_int_equal(st.count, 11);
    assert_int_equal(st.missing, 1);
    assert_int_equal(st.distinct, 7);
    assert_int_equal(st.n_top, 5);
    /* counts: b2 a2 c2 d1 e1 f2 g1 -> b, a, c, f (ties by first seen), d */
    static const char *const want[] = {"b", "a", "c", "f", "d"};
    static const size_t want_n[] = {2, 2, 2, 2, 1};
    for (size_t k = 0; k < 5; k++) {
        assert_string_equal(lift_table_level(t, 0, st.top_code[k], NULL),
                            want[k]);
        assert_int_equal(st.top_count[k], want_n[k]);
    }
    assert_true(st.mean_len == 1.0);
    assert_true(isnan(st.mean));
    lift_table_free(t);
}

static void col_stats_text_mean_length(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *types[] = {"t=text"};
    o.types = types;
    o.n_types = 1;
    static const char csv[] = "t\nab\nabcd\n\"\"\nab\n";
    struct lift_table *t = load_opts(csv, strlen(csv), &o);
    struct lift_col_stats st;
    assert_int_equal(lift_table_col_stats(t, 0, &st, NULL), LIFT_OK);
    assert_int_equal(st.count, 3);
    assert_int_equal(st.missing, 1);
    assert_int_equal(st.distinct, 2);
    assert_true(st.mean_len == 8.0 / 3.0);
    assert_int_equal(st.n_top, 2);
    assert_int_equal(st.top_count[0], 2);
    lift_table_free(t);
}

static void find_level_present_and_absent(void **state)
{
    (void)state;
    struct lift_table *t = load("c,n\nyes,1\nno,2\nyes,3\n\"ye\"\"s\",4\n");
    assert_int_equal(lift_table_n_levels(t, 0), 3);
    assert_int_equal(lift_table_find_level(t, 0, "yes", 3), 0);
    assert_int_equal(lift_table_find_level(t, 0, "no", 2), 1);
    assert_int_equal(lift_table_find_level(t, 0, "ye\"s", 4), 2);
    assert_int_equal(lift_table_find_level(t, 0, "yesno", 3), 0);
    assert_int_equal(lift_table_find_level(t, 0, "Yes", 3), LIFT_MISSING_CODE);
    assert_int_equal(lift_table_find_level(t, 0, "", 0), LIFT_MISSING_CODE);
    assert_int_equal(lift_table_level_count(t, 0, 0), 2);
    size_t len = 0;
    assert_string_equal(lift_table_level(t, 0, 2, &len), "ye\"s");
    assert_int_equal(len, 4);
    /* a numeric column has no levels */
    assert_int_equal(lift_table_find_level(t, 1, "1", 1), LIFT_MISSING_CODE);
    assert_int_equal(lift_table_n_levels(t, 1), 0);
    lift_table_free(t);
}

static void find_level_many_levels_all_found(void **state)
{
    (void)state;
    /* 3000 distinct levels force the level index to grow many times */
    char *csv = malloc(64 * 1024);
    assert_non_null(csv);
    size_t n = (size_t)sprintf(csv, "id\n");
    for (int i = 0; i < 3000; i++)
        n += (size_t)sprintf(csv + n, "k%d\n", (i * 7919) % 3000);
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    struct lift_table *t = load_opts(csv, n, &o);
    assert_int_equal(lift_table_n_levels(t, 0), 3000);
    char key[16];
    for (int i = 0; i < 3000; i++) {
        int k = snprintf(key, sizeof key, "k%d", i);
        uint32_t code = lift_table_find_level(t, 0, key, (size_t)k);
        assert_true(code < 3000);
        assert_string_equal(lift_table_level(t, 0, code, NULL), key);
    }
    assert_int_equal(lift_table_find_level(t, 0, "k3000", 5),
                     LIFT_MISSING_CODE);
    lift_table_free(t);
    free(csv);
}

static void col_type_names_round_trip(void **state)
{
    (void)state;
    static const enum lift_col_type all[] = {
        LIFT_COL_NUMERIC, LIFT_COL_CATEGORICAL, LIFT_COL_TEXT, LIFT_COL_BOOLEAN,
        LIFT_COL_DATE};
    for (size_t i = 0; i < 5; i++) {
        enum lift_col_type back = LIFT_COL_NUMERIC;
        assert_true(lift_col_type_parse(lift_col_type_name(all[i]), &back));
        assert_int_equal(back, all[i]);
    }
    assert_string_equal(lift_col_type_name(LIFT_COL_DATE), "date");
    assert_string_equal(lift_col_type_name((enum lift_col_type)99), "unknown");
    enum lift_col_type x = LIFT_COL_DATE;
    assert_false(lift_col_type_parse("Numeric", &x));
    assert_int_equal(x, LIFT_COL_DATE);
}

static void read_csv_missing_file_io_error(void **state)
{
    (void)state;
    struct lift_table *t = (struct lift_table *)&t;
    struct lift_error err;
    assert_int_equal(
        lift_table_read_csv("/nonexistent/lift.csv", NULL, &t, &err),
        LIFT_ERR_IO);
    assert_null(t);
    assert_string_equal(err.msg, "cannot open '/nonexistent/lift.csv': No "
                                 "such file or directory");
    t = (struct lift_table *)&t;
    assert_int_equal(lift_table_read_csv("/", NULL, &t, &err), LIFT_ERR_IO);
    assert_null(t);
    assert_string_equal(err.msg, "'/' is a directory");
}

/* ---- real files -----------------------------------------------------------
 */

static const char *data_dir(void)
{
    const char *d = getenv("LIFT_DATA");
    struct stat st;
    if (d && *d && stat(d, &st) == 0 && S_ISDIR(st.st_mode))
        return d;
    if (stat("../shared/data", &st) == 0 && S_ISDIR(st.st_mode))
        return "../shared/data";
    return NULL;
}

/* Reads DATA/rel with the options; skips when there is no data folder. */
static struct lift_table *read_real(const char *rel, struct lift_read_opts *o)
{
    const char *dir = data_dir();
    if (!dir) {
        skip();
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    struct lift_table *t = NULL;
    struct lift_error err;
    enum lift_code rc = lift_table_read_csv(path, o, &t, &err);
    if (rc != LIFT_OK)
        fail_msg("%s: %s", path, err.msg);
    return t;
}

static void real_bank_full_shape_types_target(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    struct lift_table *t =
        read_real("bank-marketing/bank-additional-full.csv", &o);
    assert_int_equal(lift_table_n_rows(t), 41188);
    assert_int_equal(lift_table_n_cols(t), 21);
    assert_int_equal(lift_table_sep(t), ';');
    assert_string_equal(lift_table_col_name(t, 0), "age");
    assert_string_equal(lift_table_col_name(t, 20), "y");
    assert_int_equal(lift_table_col_type(t, col(t, "age")), LIFT_COL_NUMERIC);
    assert_int_equal(lift_table_col_type(t, col(t, "job")),
                     LIFT_COL_CATEGORICAL);
    assert_int_equal(lift_table_col_type(t, col(t, "emp.var.rate")),
                     LIFT_COL_NUMERIC);
    assert_int_equal(lift_table_col_type(t, col(t, "y")), LIFT_COL_CATEGORICAL);
    size_t y = col(t, "y");
    assert_int_equal(lift_table_n_levels(t, y), 2);
    assert_int_equal(level_count(t, y, "yes"), 4640);
    assert_int_equal(level_count(t, y, "no"), 36548);
    /* nothing is missing without sentinels */
    for (size_t c = 0; c < 21; c++)
        assert_int_equal(n_missing(t, c), 0);
    /* first and last rows, CRLF line ends */
    assert_true(value(t, "age", 0) == 56.0);
    assert_true(value(t, "emp.var.rate", 0) == 1.1);
    assert_true(value(t, "cons.conf.idx", 0) == -36.4);
    assert_string_equal(cell(t, "job", 0), "housemaid");
    assert_int_equal(lift_table_row_line(t, 41187), 41189);
    assert_string_equal(cell(t, "y", 41187), "no");
    struct lift_col_stats st;
    assert_int_equal(lift_table_col_stats(t, col(t, "age"), &st, NULL),
                     LIFT_OK);
    assert_true(st.min == 17.0 && st.max == 98.0);
    assert_int_equal(st.distinct, 78);
    assert_int_equal(lift_table_col_stats(t, col(t, "duration"), &st, NULL),
                     LIFT_OK);
    assert_true(st.min == 0.0);
    lift_table_free(t);
}

static void real_bank_full_missing_unknown_and_pdays(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *missing[] = {"unknown", "pdays=999"};
    o.missing = missing;
    o.n_missing = 2;
    struct lift_table *t =
        read_real("bank-marketing/bank-additional-full.csv", &o);
    static const struct {
        const char *name;
        size_t missing;
    } want[] = {{"default", 8597}, {"education", 1731}, {"housing", 990},
                {"loan", 990},     {"job", 330},        {"marital", 80}};
    size_t total = 0;
    for (size_t c = 0; c < lift_table_n_cols(t); c++)
        if (strcmp(lift_table_col_name(t, c), "pdays") != 0)
            total += n_missing(t, c);
    assert_int_equal(total, 12718);
    for (size_t i = 0; i < 6; i++) {
        size_t c = col(t, want[i].name);
        assert_int_equal(n_missing(t, c), want[i].missing);
        struct lift_col_stats st;
        assert_int_equal(lift_table_col_stats(t, c, &st, NULL), LIFT_OK);
        assert_int_equal(st.missing, want[i].missing);
        assert_int_equal(lift_table_find_level(t, c, "unknown", 7),
                         LIFT_MISSING_CODE);
    }
    size_t pdays = col(t, "pdays");
    assert_int_equal(lift_table_col_type(t, pdays), LIFT_COL_NUMERIC);
    assert_int_equal(n_missing(t, pdays), 39673);
    struct lift_col_stats st;
    assert_int_equal(lift_table_col_stats(t, pdays, &st, NULL), LIFT_OK);
    assert_int_equal(st.count, 41188 - 39673);
    assert_true(st.max == 27.0);
    lift_table_free(t);
}

static void real_bank_full_ragged_row_names_line(void **state)
{
    (void)state;
    const char *dir = data_dir();
    if (!dir)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/bank-marketing/bank-additional-full.csv",
             dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(6u << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 6u << 20, f);
    fclose(f);
    assert_int_equal(n, 5834924);
    /* drop the last field (";"no"") of the record on line 1000 */
    char *p = buf;
    for (int line = 1; line < 1000; line++)
        p = (char *)memchr(p, '\n', n - (size_t)(p - buf)) + 1;
    char *eol = (char *)memchr(p, '\r', n - (size_t)(p - buf));
    char *last = eol;
    while (last[-1] != ';')
        last--;
    last--;
    memmove(last, eol, n - (size_t)(eol - buf));
    n -= (size_t)(eol - last);
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.name = "bank-additional-full.csv";
    expect_fail_opts(buf, n, &o, LIFT_ERR_PARSE,
                     "line 1000: expected 21 fields, found 20 in "
                     "'bank-additional-full.csv'");
    free(buf);
}

static void real_bank_sample_shape_target(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    struct lift_table *t = read_real("bank-marketing/bank-additional.csv", &o);
    assert_int_equal(lift_table_n_rows(t), 4119);
    assert_int_equal(lift_table_n_cols(t), 21);
    assert_int_equal(level_count(t, col(t, "y"), "yes"), 451);
    lift_table_free(t);
}

static void real_sms_shape_labels_longest_text(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.sep = '\t';
    o.no_header = true;
    o.no_quote = true;
    o.columns = "label,text";
    struct lift_table *t =
        read_real("sms-spam-collection/SMSSpamCollection", &o);
    assert_int_equal(lift_table_n_rows(t), 5574);
    assert_int_equal(lift_table_n_cols(t), 2);
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_CATEGORICAL);
    assert_int_equal(lift_table_col_type(t, 1), LIFT_COL_TEXT);
    assert_int_equal(level_count(t, 0, "ham"), 4827);
    assert_int_equal(level_count(t, 0, "spam"), 747);
    assert_int_equal(lift_table_n_levels(t, 1), 5171);
    size_t longest = 0, n_quoted = 0;
    for (uint32_t k = 0; k < lift_table_n_levels(t, 1); k++) {
        size_t len = 0, chars = 0;
        const char *s = lift_table_level(t, 1, k, &len);
        for (size_t i = 0; i < len; i++)
            chars += ((unsigned char)s[i] & 0xC0) != 0x80;
        if (chars > longest)
            longest = chars;
        if (memchr(s, '"', len))
            n_quoted += lift_table_level_count(t, 1, k);
    }
    assert_int_equal(longest, 910);
    assert_int_equal(n_quoted, 145);
    assert_int_equal(lift_table_n_replaced(t), 0);
    lift_table_free(t);
}

static void real_hillstrom_shape_visit_zip(void **state)
{
    (void)state;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    struct lift_table *t = read_real("hillstrom/hillstrom.csv", &o);
    assert_int_equal(lift_table_n_rows(t), 64000);
    assert_int_equal(lift_table_n_cols(t), 12);
    assert_int_equal(lift_table_sep(t), ',');
    size_t visit = col(t, "visit");
    assert_int_equal(lift_table_col_type(t, visit), LIFT_COL_NUMERIC);
    const double *v = lift_table_values(t, visit);
    size_t visits = 0, converted = 0, spenders = 0;
    const double *conv = lift_table_values(t, col(t, "conversion"));
    const double *spend = lift_table_values(t, col(t, "spend"));
    for (size_t r = 0; r < 64000; r++) {
        visits += v[r] == 1.0;
        converted += conv[r] == 1.0;
        spenders += spend[r] > 0.0;
    }
    assert_int_equal(visits, 9394);
    assert_int_equal(converted, 578);
    assert_int_equal(spenders, 578);
    size_t zip = col(t, "zip_code");
    assert_int_equal(level_count(t, zip, "Surburban"), 28776);
    size_t hs = col(t, "history_segment");
    assert_int_equal(lift_table_n_levels(t, hs), 7);
    assert_true(lift_table_find_level(t, hs, "6) $750 - $1,000", 16) !=
                LIFT_MISSING_CODE);
    assert_true(lift_table_find_level(t, hs, "7) $1,000 +", 11) !=
                LIFT_MISSING_CODE);
    assert_int_equal(level_count(t, col(t, "segment"), "Mens E-Mail"), 21307);
    /* the last line has no line end */
    assert_int_equal(lift_table_row_line(t, 63999), 64001);
    assert_string_equal(cell(t, "segment", 63999), "Mens E-Mail");
    lift_table_free(t);
}

/* ---- streaming ---------------------------------------------------------- */

/* Fails unless a and b hold the same table. */
static void assert_same_table(const struct lift_table *a,
                              const struct lift_table *b)
{
    assert_int_equal(lift_table_n_rows(a), lift_table_n_rows(b));
    assert_int_equal(lift_table_n_cols(a), lift_table_n_cols(b));
    assert_int_equal(lift_table_sep(a), lift_table_sep(b));
    assert_int_equal(lift_table_n_replaced(a), lift_table_n_replaced(b));
    size_t rows = lift_table_n_rows(a);
    for (size_t r = 0; r < rows; r++)
        assert_int_equal(lift_table_row_line(a, r), lift_table_row_line(b, r));
    for (size_t c = 0; c < lift_table_n_cols(a); c++) {
        assert_string_equal(lift_table_col_name(a, c),
                            lift_table_col_name(b, c));
        assert_int_equal(lift_table_col_type(a, c), lift_table_col_type(b, c));
        const double *va = lift_table_values(a, c),
                     *vb = lift_table_values(b, c);
        const uint32_t *ka = lift_table_codes(a, c),
                       *kb = lift_table_codes(b, c);
        assert_true((va == NULL) == (vb == NULL));
        assert_true((ka == NULL) == (kb == NULL));
        if (va)
            assert_memory_equal(va, vb, rows * sizeof *va);
        if (ka) {
            assert_memory_equal(ka, kb, rows * sizeof *ka);
            assert_int_equal(lift_table_n_levels(a, c),
                             lift_table_n_levels(b, c));
            for (uint32_t k = 0; k < lift_table_n_levels(a, c); k++) {
                size_t la, lb;
                const char *sa = lift_table_level(a, c, k, &la);
                const char *sb = lift_table_level(b, c, k, &lb);
                assert_int_equal(la, lb);
                assert_memory_equal(sa, sb, la);
                assert_int_equal(lift_table_level_count(a, c, k),
                                 lift_table_level_count(b, c, k));
            }
        }
    }
}

/* A random CSV of 3 columns: numbers, words, quoted text with separators,
 * doubled quotes, LF, CRLF and CR inside, UTF-8; blank lines; every line
 * end; sometimes a column that turns from numbers to words (a second
 * scan), invalid UTF-8, a ragged row, a bare quote or an unclosed one. */
static size_t random_csv(struct lift_rng *r, char *buf, size_t cap)
{
    static const char *const words[] = {"a",
                                        "yes",
                                        "no",
                                        "S\xC3\xA3o Paulo",
                                        "\xE2\x82\xAC"
                                        "5",
                                        "NA",
                                        "",
                                        "x y z",
                                        "2020-02-29",
                                        "true"};
    static const char *const quoted[] = {
        "\"a,b\"",        "\"say \"\"hi\"\"\"",
        "\"two\nlines\"", "\"cr\r\nlf\"",
        "\"lone\rcr\"",   "\"\"",
        "\"\n\n\n\"",     "\"x\xC3\xA9;\xF0\x9F\x98\x80\""};
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    size_t n = (size_t)snprintf(buf, cap, "%sn,w,q%s",
                                lift_rng_below(r, 4) ? "" : "\xEF\xBB\xBF",
                                ends[lift_rng_below(r, 3)]);
    size_t rows = 1 + lift_rng_below(r, 30);
    size_t change_at = lift_rng_below(r, 3) ? SIZE_MAX : lift_rng_below(r, 30);
    size_t defect = lift_rng_below(r, 4) ? SIZE_MAX : lift_rng_below(r, 4);
    size_t defect_row = lift_rng_below(r, rows);
    for (size_t row = 0; row < rows; row++) {
        if (lift_rng_below(r, 8) == 0)
            n += (size_t)snprintf(buf + n, cap - n, "%s",
                                  ends[lift_rng_below(r, 3)]);
        if (row >= change_at)
            n += (size_t)snprintf(buf + n, cap - n, "w%zu", row % 3);
        else
            n += (size_t)snprintf(buf + n, cap - n, "%d.%02d",
                                  (int)lift_rng_below(r, 1000),
                                  (int)lift_rng_below(r, 100));
        n += (size_t)snprintf(buf + n, cap - n, ",%s,%s",
                              words[lift_rng_below(r, 10)],
                              quoted[lift_rng_below(r, 8)]);
        if (row == defect_row && defect != SIZE_MAX) {
            static const char *const bad[] = {",extra", "\xFF", "x\"y",
                                              ",\"open"};
            n += (size_t)snprintf(buf + n, cap - n, "%s", bad[defect]);
        }
        if (row + 1 < rows || lift_rng_below(r, 2))
            n += (size_t)snprintf(buf + n, cap - n, "%s",
                                  ends[lift_rng_below(r, 3)]);
    }
    assert_true(n < cap);
    return n;
}

static void read_fd_small_windows_same_as_memory(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    int fd = fileno(f);
    struct lift_rng r;
    lift_rng_seed(&r, 7);
    char csv[8192];
    static const size_t windows[] = {1, 2, 3, 5, 8, 17, 64, 4096};
    for (int round = 0; round < 300; round++) {
        size_t n = random_csv(&r, csv, sizeof csv);
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, csv, n, 0), (ssize_t)n);
        struct lift_read_opts o;
        lift_read_opts_init(&o);
        o.sep = ',';
        o.utf8 = round % 2 ? LIFT_UTF8_REPLACE : LIFT_UTF8_STRICT;
        o.name = "s.csv";
        struct lift_table *want = NULL;
        struct lift_error want_err;
        memset(&want_err, 0, sizeof want_err);
        enum lift_code want_rc =
            lift_table_read_mem(csv, n, &o, &want, &want_err);
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
            assert_true(lseek(fd, 0, SEEK_SET) == 0);
            struct lift_table *got = (struct lift_table *)&got;
            struct lift_error got_err;
            memset(&got_err, 0, sizeof got_err);
            enum lift_code rc =
                lift_table_read_fd(fd, &o, windows[w], &got, &got_err);
            if (rc != want_rc || strcmp(got_err.msg, want_err.msg) != 0)
                fail_msg("round %d, window %zu: got %s '%s', want %s '%s'",
                         round, windows[w], lift_code_name(rc), got_err.msg,
                         lift_code_name(want_rc), want_err.msg);
            if (rc == LIFT_OK)
                assert_same_table(want, got);
            else
                assert_null(got);
            lift_table_free(got);
        }
        lift_table_free(want);
    }
    fclose(f);
}

static void read_fd_offset_and_type_change_reads_from_start(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    int fd = fileno(f);
    static const char junk[] = "skipped by the offset\n";
    static const char csv[] = "n,w\n1,a\n2,b\nthree,c\n";
    assert_int_equal(write(fd, junk, strlen(junk)), (ssize_t)strlen(junk));
    assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    assert_true(lseek(fd, (off_t)strlen(junk), SEEK_SET) > 0);
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    struct lift_table *t = NULL;
    struct lift_error err;
    assert_int_equal(lift_table_read_fd(fd, &o, 4, &t, &err), LIFT_OK);
    assert_int_equal(lift_table_n_rows(t), 3);
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_CATEGORICAL);
    assert_string_equal(cell(t, "n", 0), "1");
    assert_string_equal(cell(t, "n", 2), "three");
    lift_table_free(t);
    fclose(f);
}

static void read_fd_record_over_line_cap_limit_error(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    int fd = fileno(f);
    /* a quoted field that never closes within the cap */
    char csv[600];
    size_t n = (size_t)snprintf(csv, sizeof csv, "a,b\n1,\"");
    memset(csv + n, 'x', 500);
    n += 500;
    assert_int_equal(write(fd, csv, n), (ssize_t)n);
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.max_line = 100;
    o.name = "big.csv";
    struct lift_table *t = (struct lift_table *)&t;
    struct lift_error err;
    assert_int_equal(lift_table_read_fd(fd, &o, 16, &t, &err), LIFT_ERR_LIMIT);
    assert_null(t);
    assert_string_equal(err.msg, "line 2: record longer than the limit of 100 "
                                 "bytes in 'big.csv'");
    fclose(f);
}

/* ---- torture --------------------------------------------------------------
 */

/* A small file that touches every allocation site: BOM, quoted names,
 * escapes, embedded newlines, all five types, sentinels, a forced type,
 * replaced UTF-8, 40 fields per record (past the first field array),
 * 150 distinct levels (the level index grows) and a column of numbers
 * that turns to strings (the second scan). */
static size_t rich_csv(char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap,
                                "\xEF\xBB\xBF\"id\",\"the \"\"name"
                                "\"\"\",flag,day,note,score");
    for (int i = 0; i < 34; i++)
        n += (size_t)snprintf(buf + n, cap - n, ",x%d", i);
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    for (int r = 0; r < 150; r++) {
        n += (size_t)snprintf(
            buf + n, cap - n,
            "%d,\"n%d \"\"q\"\"\",%s,2020-01-%02d,\"a note,\nline %d "
            "and some more words\",%s",
            r, r, r % 3 ? "true" : "FALSE", 1 + r % 28, r % 7,
            r % 5 == 0   ? "-1"
            : r % 5 == 1 ? "NA"
                         : "3.5");
        for (int i = 0; i < 34; i++)
            n += (size_t)snprintf(buf + n, cap - n, ",%s%d",
                                  i == 0 && r % 9 == 0 ? "\xFF"
                                  : i == 33            ? (r < 100 ? "" : "s")
                                                       : "v",
                                  (r + i) % 4);
        n += (size_t)snprintf(buf + n, cap - n, "%s", r % 2 ? "\n" : "\r\n");
    }
    assert_true(n < cap);
    return n;
}

static void read_mem_every_alloc_failure_nomem_no_table(void **state)
{
    (void)state;
    if (!lift_alloc_fail_at(0))
        skip();
    size_t cap = 64 * 1024;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t n = rich_csv(csv, cap);
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    const char *missing[] = {"score=-1", "?"};
    const char *types[] = {"x1=categorical"};
    o.missing = missing;
    o.n_missing = 2;
    o.types = types;
    o.n_types = 1;
    o.utf8 = LIFT_UTF8_REPLACE;
    o.name = "rich.csv";
    long nth;
    bool loaded = false;
    for (nth = 1; nth < 100000 && !loaded; nth++) {
        struct lift_table *t = (struct lift_table *)&t;
        struct lift_error err;
        memset(&err, 0, sizeof err);
        lift_alloc_fail_at(nth);
        enum lift_code rc = lift_table_read_mem(csv, n, &o, &t, &err);
        lift_alloc_fail_at(0);
        if (rc == LIFT_OK) {
            loaded = true;
            assert_non_null(t);
            assert_int_equal(lift_table_n_rows(t), 150);
            assert_int_equal(lift_table_n_cols(t), 40);
            assert_int_equal(lift_table_n_replaced(t), 17);
            assert_int_equal(lift_table_n_levels(t, 1), 150);
            assert_int_equal(lift_table_col_type(t, 2), LIFT_COL_BOOLEAN);
            assert_int_equal(lift_table_col_type(t, 3), LIFT_COL_DATE);
            assert_int_equal(lift_table_col_type(t, 4), LIFT_COL_TEXT);
            assert_int_equal(lift_table_col_type(t, 5), LIFT_COL_NUMERIC);
            assert_int_equal(n_missing(t, 5), 60);
            assert_int_equal(lift_table_row_line(t, 149), 300);
            /* numbers, then strings: rescanned as categorical */
            assert_int_equal(lift_table_col_type(t, 39), LIFT_COL_CATEGORICAL);
            assert_int_equal(lift_table_n_levels(t, 39), 8);
            /* col_stats' one allocation fails cleanly too */
            struct lift_col_stats st;
            lift_alloc_fail_at(1);
            rc = lift_table_col_stats(t, 5, &st, &err);
            lift_alloc_fail_at(0);
            assert_int_equal(rc, LIFT_ERR_NOMEM);
            assert_int_equal(lift_table_col_stats(t, 5, &st, &err), LIFT_OK);
            assert_int_equal(st.count, 90);
            lift_table_free(t);
        } else {
            if (rc != LIFT_ERR_NOMEM)
                fail_msg("allocation %ld: %s (%s)", nth, lift_code_name(rc),
                         err.msg);
            assert_int_equal(err.code, LIFT_ERR_NOMEM);
            assert_non_null(strstr(err.msg, "out of memory"));
            assert_null(t);
        }
    }
    assert_true(loaded);
    /* every allocation of the load was failed once */
    assert_true(nth > 20);
    free(csv);
}

static void read_csv_every_alloc_failure_nomem_no_table(void **state)
{
    (void)state;
    if (!lift_alloc_fail_at(0))
        skip();
    char path[] = "/tmp/lift_test_table_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char csv[] = "a;b\r\n1;\"x\"\r\n2;y\r\n";
    assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    bool loaded = false;
    for (long nth = 1; nth < 1000 && !loaded; nth++) {
        struct lift_table *t = (struct lift_table *)&t;
        struct lift_error err;
        lift_alloc_fail_at(nth);
        enum lift_code rc = lift_table_read_csv(path, NULL, &t, &err);
        lift_alloc_fail_at(0);
        if (rc == LIFT_OK) {
            loaded = true;
            assert_int_equal(lift_table_n_rows(t), 2);
            assert_string_equal(cell(t, "b", 0), "x");
            lift_table_free(t);
        } else {
            assert_int_equal(rc, LIFT_ERR_NOMEM);
            assert_null(t);
        }
    }
    unlink(path);
    assert_true(loaded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_mem_unterminated_quote_parse_error),
        cmocka_unit_test(read_mem_ragged_rows_parse_error_naming_counts),
        cmocka_unit_test(read_mem_nul_byte_parse_error),
        cmocka_unit_test(read_mem_invalid_utf8_strict_parse_error),
        cmocka_unit_test(read_mem_invalid_utf8_replace_counted_and_stored),
        cmocka_unit_test(read_mem_field_over_cap_limit_error),
        cmocka_unit_test(read_mem_line_over_cap_limit_error),
        cmocka_unit_test(read_mem_too_many_columns_limit_error),
        cmocka_unit_test(read_mem_too_many_rows_limit_error),
        cmocka_unit_test(read_mem_input_over_cap_limit_error),
        cmocka_unit_test(read_mem_empty_input_parse_error),
        cmocka_unit_test(read_mem_header_only_parse_error),
        cmocka_unit_test(read_mem_duplicate_column_names_parse_error),
        cmocka_unit_test(read_mem_char_after_closing_quote_parse_error),
        cmocka_unit_test(read_mem_bare_quote_unquoted_parse_error),
        cmocka_unit_test(read_mem_bare_quote_no_quote_kept),
        cmocka_unit_test(read_mem_bad_separator_option_invalid),
        cmocka_unit_test(read_mem_line_end_styles_same_table),
        cmocka_unit_test(read_mem_bom_not_in_first_name),
        cmocka_unit_test(read_mem_no_final_newline_last_row_kept),
        cmocka_unit_test(read_mem_embedded_newlines_row_lines_follow),
        cmocka_unit_test(read_mem_blank_lines_skipped),
        cmocka_unit_test(read_mem_doubled_quotes_unescaped),
        cmocka_unit_test(read_mem_separator_detected),
        cmocka_unit_test(parse_sep_spellings_mapped),
        cmocka_unit_test(read_mem_no_header_default_names),
        cmocka_unit_test(read_mem_columns_option_names_columns),
        cmocka_unit_test(read_mem_columns_option_bad_count_or_names_invalid),
        cmocka_unit_test(read_mem_default_missing_spellings_missing),
        cmocka_unit_test(read_mem_missing_sentinels_per_column_and_global),
        cmocka_unit_test(read_mem_missing_unknown_column_invalid),
        cmocka_unit_test(read_mem_type_override_applied),
        cmocka_unit_test(read_mem_type_override_bad_value_parse_error),
        cmocka_unit_test(read_mem_type_spec_malformed_invalid),
        cmocka_unit_test(read_mem_types_inferred),
        cmocka_unit_test(read_mem_type_change_midway_rescanned),
        cmocka_unit_test(read_mem_text_needs_words_and_variety),
        cmocka_unit_test(col_stats_numeric_values),
        cmocka_unit_test(col_stats_all_missing_nan),
        cmocka_unit_test(col_stats_categorical_top_levels_ties_first_seen),
        cmocka_unit_test(col_stats_text_mean_length),
        cmocka_unit_test(find_level_present_and_absent),
        cmocka_unit_test(find_level_many_levels_all_found),
        cmocka_unit_test(col_type_names_round_trip),
        cmocka_unit_test(read_csv_missing_file_io_error),
        cmocka_unit_test(real_bank_full_shape_types_target),
        cmocka_unit_test(real_bank_full_missing_unknown_and_pdays),
        cmocka_unit_test(real_bank_full_ragged_row_names_line),
        cmocka_unit_test(real_bank_sample_shape_target),
        cmocka_unit_test(real_sms_shape_labels_longest_text),
        cmocka_unit_test(real_hillstrom_shape_visit_zip),
        cmocka_unit_test(read_fd_small_windows_same_as_memory),
        cmocka_unit_test(read_fd_offset_and_type_change_reads_from_start),
        cmocka_unit_test(read_fd_record_over_line_cap_limit_error),
        cmocka_unit_test(read_mem_every_alloc_failure_nomem_no_table),
        cmocka_unit_test(read_csv_every_alloc_failure_nomem_no_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
