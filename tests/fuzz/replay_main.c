/*
 * tests/fuzz/replay_main.c - runs a fuzz target over saved inputs without
 * libFuzzer, so corpora and past crashes replay in every build (with the
 * sanitizers of that build).
 *
 * usage: replay_<name> PATH...
 * Each PATH is a file or a directory; a directory contributes its regular
 * files (not recursively, names starting with '.' skipped) in sorted
 * order, so runs are repeatable. Every input is read into a buffer of
 * exactly its size, so that ASan catches a read past the end as it would
 * under libFuzzer. Each input is named on stderr before it runs, so that a
 * crash report follows the name of its input. Prints "<prog>: ran N
 * inputs" and exits 0; exits 1 when a path cannot be read (a crash in the
 * target ends the process as it would in the fuzzer).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads a regular file into a malloc'd buffer of exactly its size, so
 * that a read one byte too far is caught. *data is never NULL on success. */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fclose(f);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t got = fread(buf, 1, len, f);
    int failed = got != len || ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        errno = EIO;
        return -1;
    }
    *data = buf;
    *size = len;
    return 0;
}

static int run_file(const char *path, size_t *n_run)
{
    uint8_t *data;
    size_t size;
    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "replay: cannot read '%s': %s\n", path,
                strerror(errno));
        return -1;
    }
    fprintf(stderr, "replay: %s\n", path);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    (*n_run)++;
    return 0;
}

static int skip_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int run_dir(const char *dir, size_t *n_run)
{
    struct dirent **names;
    int n = scandir(dir, &names, skip_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = -1;
        } else {
            snprintf(path, len, "%s/%s", dir, names[i]->d_name);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                run_file(path, n_run) != 0)
                rc = -1;
            free(path);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    const char *prog = strrchr(argv[0], '/');
    prog = prog ? prog + 1 : argv[0];
    size_t n_run = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: cannot read '%s': %s\n", argv[i],
                    strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            rc |= run_dir(argv[i], &n_run) != 0;
        } else {
            rc |= run_file(argv[i], &n_run) != 0;
        }
    }
    printf("%s: ran %zu inputs\n", prog, n_run);
    return rc;
}
