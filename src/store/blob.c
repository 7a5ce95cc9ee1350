/*
 * store/blob.c - data dir layout, temp files and durable blobs.
 */
#include "store/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/keys.h"

static enum lift_code make_dir(const char *path, struct lift_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return lift_error_sys(err, LIFT_ERR_IO, errno,
                              "cannot create the folder '%s'", path);
    struct stat st;
    if (stat(path, &st) != 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot stat '%s'",
                              path);
    if (!S_ISDIR(st.st_mode))
        return lift_error_set(err, LIFT_ERR_IO, "'%s' is not a folder", path);
    return LIFT_OK;
}

static enum lift_code join(char *out, size_t cap, const char *dir,
                           const char *sub, const char *name,
                           struct lift_error *err)
{
    int n = name ? snprintf(out, cap, "%s/%s/%s", dir, sub, name)
                 : snprintf(out, cap, "%s/%s", dir, sub);
    if (n < 0 || (size_t)n >= cap)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "path in the data dir '%s' is longer than %zu "
                              "bytes",
                              dir, cap - 1);
    return LIFT_OK;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

enum lift_code blob_layout(const char *dir, struct lift_error *err)
{
    char path[BLOB_PATH_MAX];
    enum lift_code code = make_dir(dir, err);
    if (!code)
        code = join(path, sizeof path, dir, "blobs", NULL, err);
    if (!code)
        code = make_dir(path, err);
    if (!code)
        code = join(path, sizeof path, dir, "tmp", NULL, err);
    if (!code)
        code = make_dir(path, err);
    return code;
}

enum lift_code blob_tmp_create(const char *dir, int *fd, char *path, size_t cap,
                               struct lift_error *err)
{
    *fd = -1;
    enum lift_code code = join(path, cap, dir, "tmp", "upload.XXXXXX", err);
    if (code)
        return code;
    int f = mkstemp(path);
    if (f < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno,
                              "cannot create a temp file in '%s/tmp'", dir);
    (void)fcntl(f, F_SETFD, FD_CLOEXEC);
    *fd = f;
    return LIFT_OK;
}

enum lift_code blob_sync_tmp(const char *dir, const char *tmp_path,
                             int64_t *bytes, struct lift_error *err)
{
    char prefix[BLOB_PATH_MAX];
    enum lift_code code = join(prefix, sizeof prefix, dir, "tmp", "", err);
    if (code)
        return code;
    size_t n = strlen(prefix);
    if (!tmp_path || strncmp(tmp_path, prefix, n) != 0 || !tmp_path[n] ||
        strchr(tmp_path + n, '/') || tmp_path[n] == '.')
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "'%s' is not a temp file of the data dir",
                              tmp_path ? tmp_path : "(null)");
    int fd = open(tmp_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot open '%s'",
                              tmp_path);
    struct stat st;
    if (fstat(fd, &st) != 0)
        code = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot stat '%s'",
                              tmp_path);
    else if (!S_ISREG(st.st_mode))
        code = lift_error_set(err, LIFT_ERR_INVALID,
                              "'%s' is not a regular file", tmp_path);
    else if (fsync(fd) != 0)
        code = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot fsync '%s'",
                              tmp_path);
    else
        *bytes = (int64_t)st.st_size;
    close(fd);
    return code;
}

enum lift_code blob_adopt(const char *dir, const char *tmp_path,
                          char name[BLOB_NAME_LEN + 1], struct lift_error *err)
{
    char path[BLOB_PATH_MAX], folder[BLOB_PATH_MAX];
    keys_random_hex(name, BLOB_NAME_LEN / 2);
    enum lift_code code = join(path, sizeof path, dir, "blobs", name, err);
    if (!code)
        code = join(folder, sizeof folder, dir, "blobs", NULL, err);
    if (code)
        return code;
    if (rename(tmp_path, path) != 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno,
                              "cannot move '%s' into '%s'", tmp_path, folder);
    if (fsync_dir(folder) != 0) {
        code = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot fsync '%s'",
                              folder);
        unlink(path);
        return code;
    }
    return LIFT_OK;
}

enum lift_code blob_path(const char *dir, const char *name, char *path,
                         size_t cap, struct lift_error *err)
{
    return join(path, cap, dir, "blobs", name, err);
}

void blob_remove(const char *dir, const char *sub, const char *name)
{
    char path[BLOB_PATH_MAX];
    if (join(path, sizeof path, dir, sub, name, NULL) == LIFT_OK)
        (void)unlink(path);
}

bool blob_name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (!((name[n] >= '0' && name[n] <= '9') ||
              (name[n] >= 'a' && name[n] <= 'f')))
            return false;
    return n == BLOB_NAME_LEN;
}

void blob_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        lift_free(names[i]);
    lift_free(names);
}

enum lift_code blob_list(const char *dir, const char *sub, char ***names,
                         size_t *n, struct lift_error *err)
{
    *names = NULL;
    *n = 0;
    char path[BLOB_PATH_MAX];
    enum lift_code code = join(path, sizeof path, dir, sub, NULL, err);
    if (code)
        return code;
    DIR *d = opendir(path);
    if (!d)
        return lift_error_sys(err, LIFT_ERR_IO, errno,
                              "cannot list the folder '%s'", path);
    char **list = NULL;
    size_t len = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            char **grown = lift_realloc_array(list, ncap, sizeof *list);
            if (!grown) {
                code = lift_error_nomem(err, "folder listing");
                break;
            }
            list = grown;
            cap = ncap;
        }
        if (!(list[len] = lift_strdup(e->d_name))) {
            code = lift_error_nomem(err, "folder listing");
            break;
        }
        len++;
        errno = 0;
    }
    if (!code && errno != 0)
        code = lift_error_sys(err, LIFT_ERR_IO, errno,
                              "cannot list the folder '%s'", path);
    closedir(d);
    if (code) {
        blob_names_free(list, len);
        return code;
    }
    *names = list;
    *n = len;
    return LIFT_OK;
}
