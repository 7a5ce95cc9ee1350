/*
 * core/buf.h - a growable byte buffer with a cap.
 *
 * The buffer always keeps a NUL after its contents (data[len] == 0 once
 * anything was added), so it can be read as a C string. Growth doubles;
 * a request that would pass `limit` (0: SIZE_MAX/2) fails with
 * LIFT_ERR_LIMIT and a message naming the limit and `what`, leaving the
 * contents as they were. Not thread-safe.
 */
#ifndef LIFT_CORE_BUF_H
#define LIFT_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include <lift/error.h>

#include "core/error.h"

struct lift_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
    const char *what; /* named in the limit error, e.g. "request body" */
};

void lift_buf_init(struct lift_buf *b, size_t limit, const char *what);
/* Makes room for `extra` more bytes (plus the NUL). */
enum lift_code lift_buf_reserve(struct lift_buf *b, size_t extra,
                                struct lift_error *err);
enum lift_code lift_buf_append(struct lift_buf *b, const void *p, size_t n,
                               struct lift_error *err);
enum lift_code lift_buf_putc(struct lift_buf *b, char c,
                             struct lift_error *err);
enum lift_code lift_buf_puts(struct lift_buf *b, const char *s,
                             struct lift_error *err);
enum lift_code lift_buf_printf(struct lift_buf *b, struct lift_error *err,
                               const char *fmt, ...) LIFT_PRINTF(3, 4);
enum lift_code lift_buf_vprintf(struct lift_buf *b, struct lift_error *err,
                                const char *fmt, va_list ap);
/* Empties the buffer, keeping its storage. */
void lift_buf_clear(struct lift_buf *b);
/* Hands the storage (NUL-terminated, possibly NULL when empty) to the
 * caller, who frees it with lift_free; the buffer is left empty. */
char *lift_buf_detach(struct lift_buf *b, size_t *len);
void lift_buf_release(struct lift_buf *b);

#endif
