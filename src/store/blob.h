/*
 * store/blob.h - the files of a data dir: its layout, temp files and
 * immutable blobs.
 *
 * A blob is written to DIR/tmp/ (mkstemp), fsynced, renamed to
 * DIR/blobs/<32 hex characters> and the blobs folder fsynced: after
 * blob_adopt returns, the blob survives a crash or power loss under its
 * final name, and only then may a registry row point to it. Names are 128
 * random bits, never derived from what the client sent.
 */
#ifndef LIFT_STORE_BLOB_H
#define LIFT_STORE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#define BLOB_NAME_LEN 32
#define BLOB_PATH_MAX 4096

/* Creates DIR, DIR/blobs and DIR/tmp (0700) where absent; IO when one
 * cannot be made or is not a folder. */
enum lift_code blob_layout(const char *dir, struct lift_error *err);

/* A new temp file DIR/tmp/upload.XXXXXX: *fd (close-on-exec) and its
 * path. */
enum lift_code blob_tmp_create(const char *dir, int *fd, char *path, size_t cap,
                               struct lift_error *err);

/* Checks that tmp_path is a regular file directly in DIR/tmp/, fsyncs
 * it and returns its size. INVALID for a path elsewhere, IO when the
 * file cannot be opened or synced. */
enum lift_code blob_sync_tmp(const char *dir, const char *tmp_path,
                             int64_t *bytes, struct lift_error *err);
/* Renames a synced temp file to DIR/blobs/<new name> and fsyncs the
 * folder; name receives the new name. */
enum lift_code blob_adopt(const char *dir, const char *tmp_path,
                          char name[BLOB_NAME_LEN + 1], struct lift_error *err);

/* DIR/blobs/name. LIMIT when it does not fit. */
enum lift_code blob_path(const char *dir, const char *name, char *path,
                         size_t cap, struct lift_error *err);
/* Removes DIR/<sub>/name; a missing file is not an error. */
void blob_remove(const char *dir, const char *sub, const char *name);

/* The file names in DIR/<sub> (no dot files): an array of strings,
 * caller frees with blob_names_free. */
enum lift_code blob_list(const char *dir, const char *sub, char ***names,
                         size_t *n, struct lift_error *err);
void blob_names_free(char **names, size_t n);

/* True when the name has the form of a blob name. */
bool blob_name_ok(const char *name);

#endif
