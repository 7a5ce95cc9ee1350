/*
 * bench/ingest/ingest_bench.c - times one parse of a CSV file in process.
 *
 * usage: ingest_bench FILE [--sep S] [--mode table|scan|libcsv]
 *   table   lift_table_read_csv: read the file, scan it twice, infer the
 *           types, build the typed columns (what `lift inspect` loads);
 *           the default
 *   scan    only the record scanner (data/csv.c) over the file already in
 *           memory, materialising every field as the reader does
 *   libcsv  libcsv's csv_parse over the same in-memory bytes, with field
 *           and record callbacks (space trimming off, strict quoting), to
 *           compare the hand-written scanner with the library
 * Prints one JSON line: {"mode":..,"parse_s":..,"rows":..,"fields":..}.
 * The clock is CLOCK_MONOTONIC around the parse only (not the process
 * start, and for scan/libcsv not the file read). Exits 1 on any error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lift/table.h>

#include "core/buf.h"
#include "data/csv.h"

#ifdef LIFT_HAVE_LIBCSV
#include <csv.h>
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ingest_bench: cannot open '%s': %s\n", path,
                strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    if (!buf)
        fprintf(stderr, "ingest_bench: out of memory\n");
    *len = n;
    return buf;
}

static int run_table(const char *path, char sep)
{
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.sep = sep;
    struct lift_table *t;
    struct lift_error err;
    double t0 = now_s();
    enum lift_code rc = lift_table_read_csv(path, &o, &t, &err);
    double t1 = now_s();
    if (rc) {
        fprintf(stderr, "ingest_bench: %s\n", err.msg);
        return 1;
    }
    printf("{\"mode\":\"table\",\"parse_s\":%.6f,\"rows\":%zu,"
           "\"fields\":%zu}\n",
           t1 - t0, lift_table_n_rows(t),
           lift_table_n_rows(t) * lift_table_n_cols(t));
    lift_table_free(t);
    return 0;
}

static int run_scan(const char *path, char sep)
{
    size_t len;
    char *data = read_all(path, &len);
    if (!data)
        return 1;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    struct lift_csv csv;
    struct lift_buf scratch;
    struct lift_error err;
    lift_buf_init(&scratch, 0, "field");
    size_t rows = 0, fields = 0, bytes = 0;
    double t0 = now_s();
    lift_csv_init(&csv, data, len, &o, sep ? sep : ',', path);
    bool have;
    enum lift_code rc;
    while ((rc = lift_csv_next(&csv, &have, &err)) == LIFT_OK && have) {
        rows++;
        for (size_t i = 0; i < csv.n_fields; i++) {
            size_t n;
            const char *s =
                lift_csv_field_text(&csv.fields[i], &scratch, &n, &err);
            if (!s) {
                rc = err.code;
                break;
            }
            bytes += n;
        }
        fields += csv.n_fields;
    }
    double t1 = now_s();
    lift_csv_release(&csv);
    lift_buf_release(&scratch);
    free(data);
    if (rc) {
        fprintf(stderr, "ingest_bench: %s\n", err.msg);
        return 1;
    }
    printf("{\"mode\":\"scan\",\"parse_s\":%.6f,\"rows\":%zu,"
           "\"fields\":%zu,\"bytes\":%zu}\n",
           t1 - t0, rows, fields, bytes);
    return 0;
}

#ifdef LIFT_HAVE_LIBCSV
struct counts {
    size_t rows, fields, bytes;
};

static void on_field(void *s, size_t len, void *data)
{
    struct counts *c = data;
    (void)s;
    c->fields++;
    c->bytes += len;
}

static void on_record(int term, void *data)
{
    struct counts *c = data;
    (void)term;
    c->rows++;
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static int run_libcsv(const char *path, char sep)
{
    size_t len;
    char *data = read_all(path, &len);
    if (!data)
        return 1;
    struct csv_parser p;
    struct counts c = {0, 0, 0};
    double t0 = now_s();
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(data);
        fprintf(stderr, "ingest_bench: csv_init failed\n");
        return 1;
    }
    csv_set_delim(&p, (unsigned char)(sep ? sep : ','));
    csv_set_space_func(&p, no_space);
    size_t done = csv_parse(&p, data, len, on_field, on_record, &c);
    int fini = csv_fini(&p, on_field, on_record, &c);
    double t1 = now_s();
    int bad = done != len || fini != 0;
    if (bad)
        fprintf(stderr, "ingest_bench: libcsv: %s\n",
                csv_strerror(csv_error(&p)));
    csv_free(&p);
    free(data);
    if (bad)
        return 1;
    printf("{\"mode\":\"libcsv\",\"parse_s\":%.6f,\"rows\":%zu,"
           "\"fields\":%zu,\"bytes\":%zu}\n",
           t1 - t0, c.rows, c.fields, c.bytes);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    const char *path = NULL, *mode = "table";
    char sep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sep") == 0 && i + 1 < argc) {
            struct lift_error err;
            if (lift_parse_sep(argv[++i], &sep, &err)) {
                fprintf(stderr, "ingest_bench: %s\n", err.msg);
                return 2;
            }
        } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            mode = argv[++i];
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            path = NULL;
            break;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: ingest_bench FILE [--sep S] "
                        "[--mode table|scan|libcsv]\n");
        return 2;
    }
    if (strcmp(mode, "table") == 0)
        return run_table(path, sep);
    if (strcmp(mode, "scan") == 0)
        return run_scan(path, sep);
#ifdef LIFT_HAVE_LIBCSV
    if (strcmp(mode, "libcsv") == 0)
        return run_libcsv(path, sep);
#endif
    fprintf(stderr, "ingest_bench: mode '%s' is not available\n", mode);
    return 2;
}
