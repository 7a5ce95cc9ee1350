/*
 * data/reader.h - the table reader's streaming entry, for its tests.
 *
 * lift_table_read_csv reads a regular file through this with a 256 KiB
 * window; the tests and the fuzz target call it with tiny windows so that
 * window ends fall everywhere in a record and check that the table, or
 * the error, is the one lift_table_read_mem gives for the same bytes.
 */
#ifndef LIFT_DATA_READER_H
#define LIFT_DATA_READER_H

#include <stddef.h>

#include <lift/table.h>

/*
 * As lift_table_read_csv, from the current offset of a regular file open
 * for reading (seekable: a column that changes type midway is read again
 * from offset 0). `window` is the first size of the read buffer (0: 256
 * KiB); it doubles while a record does not fit. opts is not NULL; its
 * name (or "input") names the input in messages.
 */
enum lift_code lift_table_read_fd(int fd, const struct lift_read_opts *opts,
                                  size_t window, struct lift_table **out,
                                  struct lift_error *err);

#endif
