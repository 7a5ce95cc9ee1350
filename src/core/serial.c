/*
 * core/serial.c - little-endian encoding with sticky errors.
 *
 * Values are encoded byte by byte (not memcpy of host integers), so the
 * format is the same on any host; floats go through their IEEE bit
 * patterns.
 */
#include "core/serial.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#define MODEL_FILE_MAX ((size_t)4 << 30)

void lift_writer_init(struct lift_writer *w)
{
    lift_buf_init(&w->buf, MODEL_FILE_MAX, "model file");
    w->rc = LIFT_OK;
    lift_error_clear(&w->err);
}

void lift_writer_bytes(struct lift_writer *w, const void *p, size_t n)
{
    if (w->rc)
        return;
    w->rc = lift_buf_append(&w->buf, p, n, &w->err);
}

static void put_le(struct lift_writer *w, uint64_t v, int n)
{
    unsigned char b[8];
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    lift_writer_bytes(w, b, (size_t)n);
}

void lift_writer_u8(struct lift_writer *w, uint8_t v)
{
    put_le(w, v, 1);
}

void lift_writer_u32(struct lift_writer *w, uint32_t v)
{
    put_le(w, v, 4);
}

void lift_writer_u64(struct lift_writer *w, uint64_t v)
{
    put_le(w, v, 8);
}

void lift_writer_f32(struct lift_writer *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_le(w, u, 4);
}

void lift_writer_f64(struct lift_writer *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(w, u, 8);
}

void lift_writer_str(struct lift_writer *w, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT32_MAX) {
        if (!w->rc)
            w->rc = lift_error_set(&w->err, LIFT_ERR_LIMIT,
                                   "string too long for the model file");
        return;
    }
    lift_writer_u32(w, (uint32_t)n);
    lift_writer_bytes(w, s, n);
}

void lift_writer_f32s(struct lift_writer *w, const float *v, size_t n)
{
    for (size_t i = 0; i < n && !w->rc; i++)
        lift_writer_f32(w, v[i]);
}

void lift_writer_f64s(struct lift_writer *w, const double *v, size_t n)
{
    for (size_t i = 0; i < n && !w->rc; i++)
        lift_writer_f64(w, v[i]);
}

void lift_writer_u32s(struct lift_writer *w, const uint32_t *v, size_t n)
{
    for (size_t i = 0; i < n && !w->rc; i++)
        lift_writer_u32(w, v[i]);
}

enum lift_code lift_writer_status(const struct lift_writer *w,
                                  struct lift_error *err)
{
    if (w->rc && err)
        *err = w->err;
    return w->rc;
}

void lift_writer_release(struct lift_writer *w)
{
    lift_buf_release(&w->buf);
}

void lift_reader_init(struct lift_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p + len;
    r->rc = LIFT_OK;
    lift_error_clear(&r->err);
}

void lift_reader_fail(struct lift_reader *r, const char *fmt, ...)
{
    if (r->rc)
        return;
    r->rc = LIFT_ERR_CORRUPT;
    r->err.code = LIFT_ERR_CORRUPT;
    r->err.sys_errno = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err.msg, sizeof r->err.msg, fmt, ap);
    va_end(ap);
}

bool lift_reader_ok(const struct lift_reader *r)
{
    return r->rc == LIFT_OK;
}

size_t lift_reader_left(const struct lift_reader *r)
{
    return (size_t)(r->end - r->p);
}

enum lift_code lift_reader_status(const struct lift_reader *r,
                                  struct lift_error *err)
{
    if (r->rc && err)
        *err = r->err;
    return r->rc;
}

const void *lift_reader_bytes(struct lift_reader *r, size_t n, const char *what)
{
    if (r->rc)
        return NULL;
    if (lift_reader_left(r) < n) {
        lift_reader_fail(r, "truncated model file (reading %s)", what);
        return NULL;
    }
    const void *p = r->p;
    r->p += n;
    return p;
}

static uint64_t get_le(struct lift_reader *r, int n, const char *what)
{
    const unsigned char *b = lift_reader_bytes(r, (size_t)n, what);
    if (!b)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

uint8_t lift_reader_u8(struct lift_reader *r, const char *what)
{
    return (uint8_t)get_le(r, 1, what);
}

uint32_t lift_reader_u32(struct lift_reader *r, const char *what)
{
    return (uint32_t)get_le(r, 4, what);
}

uint64_t lift_reader_u64(struct lift_reader *r, const char *what)
{
    return get_le(r, 8, what);
}

float lift_reader_f32(struct lift_reader *r, const char *what)
{
    uint32_t u = (uint32_t)get_le(r, 4, what);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

double lift_reader_f64(struct lift_reader *r, const char *what)
{
    uint64_t u = get_le(r, 8, what);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

char *lift_reader_str(struct lift_reader *r, size_t max_len, const char *what)
{
    uint32_t n = lift_reader_u32(r, what);
    if (r->rc)
        return NULL;
    if (n > max_len) {
        lift_reader_fail(r, "%s longer than %zu bytes in the model file", what,
                         max_len);
        return NULL;
    }
    const char *p = lift_reader_bytes(r, n, what);
    if (!p)
        return NULL;
    if (memchr(p, '\0', n)) {
        lift_reader_fail(r, "NUL byte inside %s in the model file", what);
        return NULL;
    }
    char *s = lift_strndup(p, n);
    if (!s) {
        r->rc = lift_error_nomem(&r->err, what);
        return NULL;
    }
    return s;
}

size_t lift_reader_count(struct lift_reader *r, size_t elem_size, size_t max,
                         const char *what)
{
    uint64_t n = lift_reader_u64(r, what);
    if (r->rc)
        return 0;
    size_t bytes;
    if (n > max || lift_mul_overflow((size_t)n, elem_size, &bytes) ||
        bytes > lift_reader_left(r)) {
        lift_reader_fail(r, "bad %s count %llu in the model file", what,
                         (unsigned long long)n);
        return 0;
    }
    return (size_t)n;
}

void lift_reader_f32s(struct lift_reader *r, float *v, size_t n,
                      const char *what)
{
    for (size_t i = 0; i < n && !r->rc; i++)
        v[i] = lift_reader_f32(r, what);
}

void lift_reader_f64s(struct lift_reader *r, double *v, size_t n,
                      const char *what)
{
    for (size_t i = 0; i < n && !r->rc; i++)
        v[i] = lift_reader_f64(r, what);
}

void lift_reader_u32s(struct lift_reader *r, uint32_t *v, size_t n,
                      const char *what)
{
    for (size_t i = 0; i < n && !r->rc; i++)
        v[i] = lift_reader_u32(r, what);
}
