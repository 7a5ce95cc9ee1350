/*
 * tests/fuzz/fuzz_csv.c - libFuzzer target for the CSV reader.
 *
 * The first input byte picks the reader options, the rest is the file:
 *   bits 0-1  separator: detect, ';', TAB, ','
 *   bit 2     quoting off          bit 3  no header
 *   bit 4     UTF-8 replace        bit 5  small caps (line, field, cols,
 *                                         rows), so the limit paths run
 *   bit 6     global sentinels     bit 7  --columns a,b,c with a type
 *                                         override and a column sentinel
 * When a table results, every cell is read back and checked against the
 * table's own invariants (missing flags agree with values and codes, each
 * level is valid UTF-8 without NUL and finds itself, level counts add up,
 * record lines never go back), and col_stats runs on every column. The
 * same bytes are then read again as a file through a small window (4 to
 * 64 bytes, from the input's length), and the result must be the same
 * table or the same error: the streaming reader differs only in that a
 * record longer than the line cap may be reported as such before an
 * error further inside it. A broken invariant traps, so the fuzzer
 * reports it as a crash.
 */
#define _GNU_SOURCE /* memfd_create */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lift/table.h>

#include "data/csv.h"
#include "data/reader.h"
#include "fuzz.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static void check_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        CHECK(*p != 0);
        size_t n = lift_utf8_seq_len(p, end);
        CHECK(n > 0);
        p += n;
    }
    CHECK(s[len] == '\0');
}

static void check_categorical(const struct lift_table *t, size_t col,
                              const uint32_t *codes)
{
    size_t n_rows = lift_table_n_rows(t),
           n_levels = lift_table_n_levels(t, col);
    size_t present = 0, counted = 0;
    for (size_t r = 0; r < n_rows; r++) {
        CHECK(codes[r] == LIFT_MISSING_CODE || codes[r] < n_levels);
        CHECK(lift_table_is_missing(t, col, r) ==
              (codes[r] == LIFT_MISSING_CODE));
        present += codes[r] != LIFT_MISSING_CODE;
    }
    for (uint32_t k = 0; k < n_levels; k++) {
        size_t len = 0;
        const char *s = lift_table_level(t, col, k, &len);
        check_utf8(s, len);
        CHECK(lift_table_find_level(t, col, s, len) == k);
        size_t cnt = lift_table_level_count(t, col, k);
        CHECK(cnt > 0);
        counted += cnt;
    }
    CHECK(counted == present);
}

static void check_values(const struct lift_table *t, size_t col,
                         const double *values)
{
    enum lift_col_type type = lift_table_col_type(t, col);
    for (size_t r = 0; r < lift_table_n_rows(t); r++) {
        double v = values[r];
        CHECK(lift_table_is_missing(t, col, r) == (isnan(v) != 0));
        if (!isnan(v) && type != LIFT_COL_DATE)
            CHECK(isfinite(v));
        if (!isnan(v) && type == LIFT_COL_BOOLEAN)
            CHECK(v == 0.0 || v == 1.0);
    }
}

static void check_table(const struct lift_table *t)
{
    size_t n_rows = lift_table_n_rows(t), n_cols = lift_table_n_cols(t);
    CHECK(n_rows > 0 && n_cols > 0);
    for (size_t r = 1; r < n_rows; r++)
        CHECK(lift_table_row_line(t, r) > lift_table_row_line(t, r - 1));
    for (size_t c = 0; c < n_cols; c++) {
        const char *name = lift_table_col_name(t, c);
        CHECK(name && name[0]);
        size_t idx = n_cols;
        CHECK(lift_table_col_index(t, name, &idx, NULL) == LIFT_OK);
        CHECK(idx == c);
        const uint32_t *codes = lift_table_codes(t, c);
        const double *values = lift_table_values(t, c);
        CHECK((codes == NULL) != (values == NULL));
        if (codes)
            check_categorical(t, c, codes);
        else
            check_values(t, c, values);
        struct lift_col_stats st;
        CHECK(lift_table_col_stats(t, c, &st, NULL) == LIFT_OK);
        CHECK(st.count + st.missing == n_rows);
        CHECK(st.distinct <= st.count);
        CHECK(st.n_top <= LIFT_TOP_LEVELS);
        if (!codes && st.count)
            CHECK(st.min <= st.max);
    }
}

static void check_same(const struct lift_table *a, const struct lift_table *b)
{
    size_t rows = lift_table_n_rows(a);
    CHECK(rows == lift_table_n_rows(b));
    CHECK(lift_table_n_cols(a) == lift_table_n_cols(b));
    CHECK(lift_table_sep(a) == lift_table_sep(b));
    CHECK(lift_table_n_replaced(a) == lift_table_n_replaced(b));
    for (size_t r = 0; r < rows; r++)
        CHECK(lift_table_row_line(a, r) == lift_table_row_line(b, r));
    for (size_t c = 0; c < lift_table_n_cols(a); c++) {
        CHECK(strcmp(lift_table_col_name(a, c), lift_table_col_name(b, c)) ==
              0);
        CHECK(lift_table_col_type(a, c) == lift_table_col_type(b, c));
        const double *va = lift_table_values(a, c),
                     *vb = lift_table_values(b, c);
        const uint32_t *ka = lift_table_codes(a, c),
                       *kb = lift_table_codes(b, c);
        CHECK((va == NULL) == (vb == NULL) && (ka == NULL) == (kb == NULL));
        if (va)
            CHECK(memcmp(va, vb, rows * sizeof *va) == 0);
        if (!ka)
            continue;
        CHECK(memcmp(ka, kb, rows * sizeof *ka) == 0);
        CHECK(lift_table_n_levels(a, c) == lift_table_n_levels(b, c));
        for (uint32_t k = 0; k < lift_table_n_levels(a, c); k++) {
            size_t la, lb;
            const char *sa = lift_table_level(a, c, k, &la);
            const char *sb = lift_table_level(b, c, k, &lb);
            CHECK(la == lb && memcmp(sa, sb, la) == 0);
        }
    }
}

/* Reads the bytes again as a file through a small window; the outcome
 * must be the one read_mem gave (rc, message, table). */
static void check_streaming(const uint8_t *csv, size_t len,
                            const struct lift_read_opts *o,
                            enum lift_code want_rc,
                            const struct lift_error *want_err,
                            const struct lift_table *want)
{
    static int fd = -1; /* one memory file for the whole run */
    if (fd < 0 && (fd = memfd_create("fuzz_csv", 0)) < 0)
        return;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, csv, len, 0) != (ssize_t)len ||
        lseek(fd, 0, SEEK_SET) != 0)
        return;
    struct lift_read_opts so = *o;
    if (!so.sep) /* as read_mem detects it: on all the bytes */
        so.sep = lift_csv_detect_sep((const char *)csv, len, !o->no_quote);
    struct lift_table *got = (struct lift_table *)1;
    struct lift_error err;
    enum lift_code rc = lift_table_read_fd(fd, &so, 4 + len % 61, &got, &err);
    if (rc == LIFT_OK) {
        CHECK(want_rc == LIFT_OK && got != NULL);
        check_same(want, got);
        lift_table_free(got);
        return;
    }
    CHECK(got == NULL);
    if (rc == LIFT_ERR_LIMIT && strstr(err.msg, "record longer than") &&
        want_rc != LIFT_OK)
        return;
    CHECK(rc == want_rc);
    CHECK(strcmp(err.msg, want_err->msg) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char seps[4] = {0, ';', '\t', ','};
    static const char *const global_missing[] = {"unknown,?,-"};
    static const char *const col_missing[] = {"b=x,y"};
    static const char *const col_types[] = {"a=numeric"};
    uint8_t mode = data[0];
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.sep = seps[mode & 3];
    o.no_quote = (mode & 4) != 0;
    o.no_header = (mode & 8) != 0;
    o.utf8 = (mode & 16) ? LIFT_UTF8_REPLACE : LIFT_UTF8_STRICT;
    if (mode & 32) {
        o.max_line = 64;
        o.max_field = 16;
        o.max_cols = 8;
        o.max_rows = 32;
    }
    if (mode & 64) {
        o.missing = global_missing;
        o.n_missing = 1;
    }
    if (mode & 128) {
        o.columns = "a,b,c";
        o.missing = col_missing;
        o.n_missing = 1;
        o.types = col_types;
        o.n_types = 1;
    }
    o.name = "fuzz";
    struct lift_table *t = (struct lift_table *)1;
    struct lift_error err;
    enum lift_code rc =
        lift_table_read_mem((const char *)data + 1, size - 1, &o, &t, &err);
    if (rc != LIFT_OK) {
        CHECK(t == NULL);
        CHECK(err.code == rc);
        CHECK(err.msg[0] != '\0');
        check_streaming(data + 1, size - 1, &o, rc, &err, NULL);
        return 0;
    }
    CHECK(t != NULL);
    if (!(mode & 16))
        CHECK(lift_table_n_replaced(t) == 0);
    check_table(t);
    check_streaming(data + 1, size - 1, &o, rc, &err, t);
    lift_table_free(t);
    return 0;
}
