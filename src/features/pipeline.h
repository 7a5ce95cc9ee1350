/*
 * features/pipeline.h - the fitted feature pipeline: raw values in,
 * sparse feature rows out.
 *
 * Fitted on training rows only. Each input column becomes:
 *   numeric (numeric, boolean, date columns)
 *       (x - mean) / std in one feature, plus a missing flag when the
 *       training rows had missing values (missing then reads as the mean);
 *       or, with bins > 0, a one-hot of its quantile bin. Quantile edges
 *       (up to 254, so 255 bins) are fitted either way: they are the
 *       binned view that trees use.
 *   categorical
 *       one-hot over the levels seen at least min_count times; levels cut
 *       by min_count or the max_features cap share a per-column rare
 *       feature, as do levels never seen in training (only when such a
 *       feature exists; otherwise an unseen level activates nothing);
 *       missing has its own feature when training had missing values.
 *   text
 *       terms of the Unicode analyser (text/analyze.h: NFKC, case
 *       folding, stop words, stemming, n-grams, with the settings stored
 *       per input) with tf-idf weights, tf sublinear (1 + ln tf) when the
 *       settings say so, idf fitted on the training rows
 *       (ln((1 + N) / (1 + df)) + 1), each row's text vector
 *       L2-normalised; unseen terms are dropped. Models saved before the
 *       analyser keep the simple tokenizer (text/tokenize.h).
 *   crosses (a, b of two categorical inputs)
 *       one-hot of the pair of levels.
 * Index modes: dict gives each (input, value) its own exact index; hash
 * maps xxh3(value, seed of the input) to 2^bits slots with no vocabulary
 * (text weights are tf only), for very wide or streaming data.
 *
 * Missing-value sentinels of the training table (e.g. "unknown", 999) are
 * kept, so records scored later read the same spellings as missing.
 *
 * A fitted pipeline is immutable and thread-safe; mapping needs a
 * per-thread struct lift_row scratch.
 */
#ifndef LIFT_FEATURES_PIPELINE_H
#define LIFT_FEATURES_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/model.h>
#include <lift/table.h>

#include "core/serial.h"
#include "features/csr.h"
#include "text/analyze.h"

enum lift_index_mode {
    LIFT_INDEX_DICT = 0,
    LIFT_INDEX_HASH,
};

#define LIFT_FEATURE_NONE UINT32_MAX

struct lift_pipeline_spec {
    const char *target; /* excluded from the inputs; may be NULL */
    const char *const *drop;
    size_t n_drop;
    const char *const *text; /* columns to read as text */
    size_t n_text;
    const char *const *cross; /* each "a,b" */
    size_t n_cross;
    enum lift_index_mode index;
    unsigned bits;       /* hash mode: 16..28 */
    size_t min_count;    /* 0: 1 for levels, 2 for text terms */
    size_t max_features; /* 0 means no cap (dict mode) */
    unsigned bins;       /* 0: standardise numbers; else quantile one-hot */
    unsigned max_tokens; /* distinct tokens kept per text value; 0: 4096 */
    /* analysis of text inputs (text/analyze.h); NULL: the defaults */
    const struct lift_text_opts *text_opts;
    /* trees: each text input also gives binned columns of its top
     * text_terms terms (dict mode); 0: none */
    unsigned text_terms;
};

#define LIFT_PIPELINE_MAX_TEXT_TERMS 4096
/* text_terms of gbdt models when the options leave it unset */
#define LIFT_DEFAULT_TEXT_TERMS 200

struct lift_pipeline;

/* One mapped row: entries in pipeline order; src[j] is the input (or
 * n_inputs + cross index) that produced entry j. */
struct lift_row {
    uint32_t *idx;
    float *val;
    uint32_t *src;
    size_t nnz, cap;
    struct lift_text_scratch *text; /* made on first text value */
};

enum lift_code lift_pipeline_fit(const struct lift_table *t,
                                 const uint32_t *rows, size_t n_rows,
                                 const struct lift_pipeline_spec *spec,
                                 struct lift_pipeline **out,
                                 struct lift_error *err);
void lift_pipeline_free(struct lift_pipeline *p);

/*
 * What fitting learnt about the training table's text values, kept so
 * that mapping rows of that table afterwards need not analyse each value
 * again: per text input (dict mode), each distinct value's terms as
 * entries of the vocabulary seen while fitting, with their counts.
 * lift_pipeline_fit_memo is lift_pipeline_fit that also returns it
 * (*memo NULL on failure); lift_pipeline_transform_memo gives exactly
 * what lift_pipeline_transform gives, and uses the memo for the values
 * it holds when b binds the pipeline and table it was fitted from (any
 * other memo, or NULL, is ignored). Values with more terms than
 * max_tokens, values past the memo's cap (2^26 terms per input) and
 * values fitting never saw are analysed as usual. The memo refers to the
 * table and the pipeline: free it first.
 */
struct lift_pipeline_memo;

enum lift_code lift_pipeline_fit_memo(const struct lift_table *t,
                                      const uint32_t *rows, size_t n_rows,
                                      const struct lift_pipeline_spec *spec,
                                      struct lift_pipeline **out,
                                      struct lift_pipeline_memo **memo,
                                      struct lift_error *err);
void lift_pipeline_memo_free(struct lift_pipeline_memo *m);

size_t lift_pipeline_n_features(const struct lift_pipeline *p);
size_t lift_pipeline_n_inputs(const struct lift_pipeline *p);
size_t lift_pipeline_n_groups(const struct lift_pipeline *p);
/* Name of input i, or of a cross "a&b" for i >= n_inputs. */
const char *lift_pipeline_group_name(const struct lift_pipeline *p, size_t i);
/* Dict mode: the group (input, or n_inputs + cross) that feature f
 * belongs to; every entry with index f comes from that group. */
uint32_t lift_pipeline_feature_group(const struct lift_pipeline *p, uint32_t f);
/* Largest number of entries one row can produce. */
size_t lift_pipeline_max_nnz(const struct lift_pipeline *p);
enum lift_index_mode lift_pipeline_mode(const struct lift_pipeline *p);
/* Name of feature f in dict mode ("age", "age:missing", "job=admin.",
 * "job=<rare>", "text:free", "a&b=x&y"); NULL in hash mode. Writes into
 * buf. */
const char *lift_pipeline_feature_name(const struct lift_pipeline *p,
                                       uint32_t f, char *buf, size_t cap);

enum lift_code lift_row_init(struct lift_row *r, const struct lift_pipeline *p,
                             struct lift_error *err);
void lift_row_release(struct lift_row *r);

/* A table bound to a pipeline: columns matched by name once. */
struct lift_binding;

/* Binds t; *n_absent counts inputs the table lacks (read as missing);
 * with strict they are LIFT_ERR_UNPROCESSABLE naming the first one. */
enum lift_code lift_pipeline_bind(const struct lift_pipeline *p,
                                  const struct lift_table *t, bool strict,
                                  struct lift_binding **out, size_t *n_absent,
                                  struct lift_error *err);
void lift_binding_free(struct lift_binding *b);

/* Maps table row `row` through a binding. LIFT_ERR_UNPROCESSABLE for a
 * value of the wrong type, naming column and line. */
enum lift_code lift_pipeline_map_table_row(const struct lift_binding *b,
                                           size_t row, struct lift_row *out,
                                           struct lift_error *err);

/* Maps a record of named values (JSON). */
enum lift_code lift_pipeline_map_record(const struct lift_pipeline *p,
                                        const struct lift_field *fields,
                                        size_t n_fields, bool strict,
                                        struct lift_row *out,
                                        struct lift_record_report *report,
                                        struct lift_error *err);

/* Maps rows[0..n) of a bound table into a CSR matrix (owned by out). */
enum lift_code lift_pipeline_transform(const struct lift_binding *b,
                                       const uint32_t *rows, size_t n,
                                       struct lift_csr *out,
                                       struct lift_error *err);
enum lift_code
lift_pipeline_transform_memo(const struct lift_binding *b,
                             const struct lift_pipeline_memo *memo,
                             const uint32_t *rows, size_t n,
                             struct lift_csr *out, struct lift_error *err);

/*
 * The binned view for trees: one uint8 code per input column (crosses
 * are not binned), then, when fitted with text_terms, each text input's
 * top-term columns in input order (lift_pipeline_bin_col_group names
 * the input of a column). A term column holds the term's tf-idf weight in
 * the row's (L2-normalised) text vector: code 0 when the term is absent
 * (or the text missing), else 1 + the quantile bin of the weight among
 * the training rows' non-zero weights (up to 253 edges); bin_upper of
 * code 0 is 0. Numeric inputs: the quantile bin 0..n_bins-1 (bin b
 * holds values <= lift_pipeline_bin_upper(b)); categorical inputs (dict
 * mode): the vocabulary entry 0..n_bins-1, LIFT_BIN_RARE for levels cut
 * from or unseen in the vocabulary; LIFT_BIN_MISSING for missing values.
 * Text inputs and hash-mode categorical inputs have n_bins 0 (always
 * missing): trees need the dict index.
 */
#define LIFT_BIN_RARE 254u
#define LIFT_BIN_MISSING 255u

size_t lift_pipeline_n_bin_cols(const struct lift_pipeline *p);
/* The input (group) binned column col belongs to. */
uint32_t lift_pipeline_bin_col_group(const struct lift_pipeline *p, size_t col);
/* Term column col's term (text of its vocabulary entry), or NULL when
 * col is an input column. */
const char *lift_pipeline_bin_term(const struct lift_pipeline *p, size_t col);
void lift_pipeline_bin_col(const struct lift_pipeline *p, size_t col,
                           unsigned *n_bins, bool *categorical);
/* Upper edge of numeric bin `bin` (INFINITY for the last). */
double lift_pipeline_bin_upper(const struct lift_pipeline *p, size_t col,
                               unsigned bin);
/* Level text of categorical bin `bin`, or NULL. */
const char *lift_pipeline_bin_level(const struct lift_pipeline *p, size_t col,
                                    unsigned bin);
/* Codes of one table row into codes[n_bin_cols]. */
enum lift_code lift_pipeline_bin_table_row(const struct lift_binding *b,
                                           size_t row, uint8_t *codes,
                                           struct lift_error *err);
/* Codes of rows[0..n) column-major: codes[c * n + r]. */
enum lift_code lift_pipeline_bin_transform(const struct lift_binding *b,
                                           const uint32_t *rows, size_t n,
                                           uint8_t *codes,
                                           struct lift_error *err);
/* The same, the text of term columns read from the fit's memo where it
 * applies (as lift_pipeline_transform_memo). */
enum lift_code lift_pipeline_bin_transform_memo(
    const struct lift_binding *b, const struct lift_pipeline_memo *memo,
    const uint32_t *rows, size_t n, uint8_t *codes, struct lift_error *err);
/* Codes of one record into codes[n_bin_cols]. */
enum lift_code lift_pipeline_bin_record(const struct lift_pipeline *p,
                                        const struct lift_field *fields,
                                        size_t n_fields, bool strict,
                                        uint8_t *codes,
                                        struct lift_record_report *report,
                                        struct lift_error *err);

enum lift_code lift_pipeline_save(const struct lift_pipeline *p,
                                  struct lift_writer *w,
                                  struct lift_error *err);
enum lift_code lift_pipeline_load(struct lift_reader *r,
                                  struct lift_pipeline **out,
                                  struct lift_error *err);

#endif
