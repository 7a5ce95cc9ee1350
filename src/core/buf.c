/*
 * core/buf.c - capped growable buffer.
 */
#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

void lift_buf_init(struct lift_buf *b, size_t limit, const char *what)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : SIZE_MAX / 2;
    b->what = what ? what : "buffer";
}

enum lift_code lift_buf_reserve(struct lift_buf *b, size_t extra,
                                struct lift_error *err)
{
    size_t need;
    if (lift_add_overflow(b->len, extra, &need) || need > b->limit)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "%s is larger than the limit of %zu bytes",
                              b->what, b->limit);
    if (need + 1 <= b->cap)
        return LIFT_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
    if (cap > b->limit + 1)
        cap = b->limit + 1;
    char *p = lift_realloc_array(b->data, cap, 1);
    if (!p)
        return lift_error_nomem(err, b->what);
    b->data = p;
    b->cap = cap;
    return LIFT_OK;
}

enum lift_code lift_buf_append(struct lift_buf *b, const void *p, size_t n,
                               struct lift_error *err)
{
    enum lift_code rc = lift_buf_reserve(b, n, err);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return LIFT_OK;
}

enum lift_code lift_buf_putc(struct lift_buf *b, char c, struct lift_error *err)
{
    return lift_buf_append(b, &c, 1, err);
}

enum lift_code lift_buf_puts(struct lift_buf *b, const char *s,
                             struct lift_error *err)
{
    return lift_buf_append(b, s, strlen(s), err);
}

enum lift_code lift_buf_vprintf(struct lift_buf *b, struct lift_error *err,
                                const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return lift_error_set(err, LIFT_ERR_INTERNAL, "cannot format text");
    if ((size_t)n < sizeof small)
        return lift_buf_append(b, small, (size_t)n, err);
    enum lift_code rc = lift_buf_reserve(b, (size_t)n, err);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return LIFT_OK;
}

enum lift_code lift_buf_printf(struct lift_buf *b, struct lift_error *err,
                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum lift_code rc = lift_buf_vprintf(b, err, fmt, ap);
    va_end(ap);
    return rc;
}

void lift_buf_clear(struct lift_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *lift_buf_detach(struct lift_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void lift_buf_release(struct lift_buf *b)
{
    lift_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
