/*
 * features/csr.c - releasing a compressed-sparse-row matrix.
 *
 * The three arrays are owned by the struct (allocated through
 * core/alloc.h by whoever built it); release frees them and leaves an
 * empty matrix, so releasing twice is safe.
 */
#include "features/csr.h"

#include <string.h>

#include "core/alloc.h"

void lift_csr_release(struct lift_csr *m)
{
    if (!m)
        return;
    lift_free(m->indptr);
    lift_free(m->idx);
    lift_free(m->val);
    memset(m, 0, sizeof *m);
}
