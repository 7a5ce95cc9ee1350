/*
 * features/csr.h - compressed sparse rows, the learners' input.
 *
 * Row r holds the nnz entries idx[indptr[r] .. indptr[r+1]) with values
 * val[...]. Within a row, indices are in pipeline order, not sorted, and
 * may repeat (hash collisions): every learner treats entries additively
 * (x[idx] += val), which keeps per-column attribution exact for
 * explanations. Values are float: enough for standardised numbers and
 * tf-idf weights, half the memory of double.
 */
#ifndef LIFT_FEATURES_CSR_H
#define LIFT_FEATURES_CSR_H

#include <stddef.h>
#include <stdint.h>

struct lift_csr {
    size_t n_rows;
    size_t n_cols;    /* width of the feature space */
    uint64_t *indptr; /* n_rows + 1 */
    uint32_t *idx;
    float *val;
};

void lift_csr_release(struct lift_csr *m);

#endif
