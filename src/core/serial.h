/*
 * core/serial.h - little-endian binary writing and bounds-checked reading
 * for the .lift model file (docs/MODEL_FORMAT.md).
 *
 * A writer appends to a capped buffer; the first failure sticks (later
 * puts are no-ops) and lift_writer_finish reports it, so serialisers can
 * write straight-line code. A reader walks an untrusted buffer: every get
 * checks the remaining length first and the first failure sticks too, so a
 * truncated or hostile file yields LIFT_ERR_CORRUPT naming what was being
 * read, never an out-of-bounds access. Counts read from a file must be
 * checked with lift_reader_count before they size an allocation.
 */
#ifndef LIFT_CORE_SERIAL_H
#define LIFT_CORE_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#include "core/buf.h"

struct lift_writer {
    struct lift_buf buf;
    enum lift_code rc;
    struct lift_error err;
};

void lift_writer_init(struct lift_writer *w);
void lift_writer_u8(struct lift_writer *w, uint8_t v);
void lift_writer_u32(struct lift_writer *w, uint32_t v);
void lift_writer_u64(struct lift_writer *w, uint64_t v);
void lift_writer_f32(struct lift_writer *w, float v);
void lift_writer_f64(struct lift_writer *w, double v);
void lift_writer_bytes(struct lift_writer *w, const void *p, size_t n);
/* u32 length then the bytes (no NUL). */
void lift_writer_str(struct lift_writer *w, const char *s);
void lift_writer_f32s(struct lift_writer *w, const float *v, size_t n);
void lift_writer_f64s(struct lift_writer *w, const double *v, size_t n);
void lift_writer_u32s(struct lift_writer *w, const uint32_t *v, size_t n);
/* The first error, copied to err (LIFT_OK if none). */
enum lift_code lift_writer_status(const struct lift_writer *w,
                                  struct lift_error *err);
void lift_writer_release(struct lift_writer *w);

struct lift_reader {
    const uint8_t *p, *end;
    enum lift_code rc;
    struct lift_error err;
};

void lift_reader_init(struct lift_reader *r, const void *data, size_t len);
uint8_t lift_reader_u8(struct lift_reader *r, const char *what);
uint32_t lift_reader_u32(struct lift_reader *r, const char *what);
uint64_t lift_reader_u64(struct lift_reader *r, const char *what);
float lift_reader_f32(struct lift_reader *r, const char *what);
double lift_reader_f64(struct lift_reader *r, const char *what);
/* n bytes in place (NULL on failure). */
const void *lift_reader_bytes(struct lift_reader *r, size_t n,
                              const char *what);
/* A u32-length string copied to a new NUL-terminated heap string (caller
 * frees with lift_free); NULL on failure. Rejects lengths over max_len. */
char *lift_reader_str(struct lift_reader *r, size_t max_len, const char *what);
/* Reads a u64 count and checks count * elem_size <= remaining bytes and
 * count <= max; on failure returns 0 and sets the error. */
size_t lift_reader_count(struct lift_reader *r, size_t elem_size, size_t max,
                         const char *what);
/* Arrays into caller storage of n elements. */
void lift_reader_f32s(struct lift_reader *r, float *v, size_t n,
                      const char *what);
void lift_reader_f64s(struct lift_reader *r, double *v, size_t n,
                      const char *what);
void lift_reader_u32s(struct lift_reader *r, uint32_t *v, size_t n,
                      const char *what);
/* Marks the reader failed with a LIFT_ERR_CORRUPT message (first wins). */
void lift_reader_fail(struct lift_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool lift_reader_ok(const struct lift_reader *r);
size_t lift_reader_left(const struct lift_reader *r);
enum lift_code lift_reader_status(const struct lift_reader *r,
                                  struct lift_error *err);

#endif
