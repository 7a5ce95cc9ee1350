/*
 * text/analyze.h - the Unicode text analyser behind include/lift/text.h
 * and the feature pipeline's text inputs.
 *
 * struct lift_text_opts is the stored form of the settings (the pipeline
 * writes it per text input). An analyser (the settings compiled: the
 * stop-word set) is immutable and shared by threads; all mutable state -
 * the code point buffer, the token list, the Snowball stemmer, which is
 * not thread-safe - lives in a per-thread scratch.
 */
#ifndef LIFT_TEXT_ANALYZE_H
#define LIFT_TEXT_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lift/text.h>

#include "core/serial.h"

enum lift_lang {
    LIFT_LANG_EN = 0,
    LIFT_LANG_ZH,
    LIFT_LANG_DE,
    LIFT_LANG_FR,
    LIFT_LANG_ES,
    LIFT_LANG_PT,
    LIFT_LANG_COUNT
};

/* Longest term passed on (bytes); single tokens are cut at 64 bytes on a
 * UTF-8 boundary, so a trigram always fits. */
#define LIFT_TERM_MAX 256
#define LIFT_TEXT_TOKEN_MAX 64
#define LIFT_TEXT_MAX_EXTRA 65536 /* extra stop words */

struct lift_text_opts {
    enum lift_lang lang;
    bool stop, stem, classes, sublinear;
    unsigned ngrams;             /* 1..3 */
    unsigned char_min, char_max; /* 0, 0: no character n-grams */
    char **extra;                /* extra stop words, normalised */
    size_t n_extra;
};

/* Defaults (as lift_text_opts_new). */
void lift_text_opts_init(struct lift_text_opts *o);
void lift_text_opts_release(struct lift_text_opts *o);
enum lift_code lift_text_opts_copy(struct lift_text_opts *dst,
                                   const struct lift_text_opts *src,
                                   struct lift_error *err);
/* Language code ("en") and parse. */
const char *lift_lang_code(enum lift_lang lang);
bool lift_lang_parse(const char *s, enum lift_lang *lang);

/* Stored form (pipeline section of the model file). */
void lift_text_opts_save(const struct lift_text_opts *o, struct lift_writer *w);
/* False (reader failed with a message) on a bad record. */
bool lift_text_opts_load(struct lift_text_opts *o, struct lift_reader *r,
                         struct lift_error *err);

struct lift_text_analyzer;
struct lift_text_scratch;

enum lift_code lift_text_analyzer_new(const struct lift_text_opts *o,
                                      struct lift_text_analyzer **out,
                                      struct lift_error *err);
void lift_text_analyzer_free(struct lift_text_analyzer *a);
const struct lift_text_opts *
lift_text_analyzer_opts(const struct lift_text_analyzer *a);

enum lift_code lift_text_scratch_new(struct lift_text_scratch **out,
                                     struct lift_error *err);
void lift_text_scratch_free(struct lift_text_scratch *s);

/* As lift_text_tokenize, with an explicit per-thread scratch. */
enum lift_code lift_text_analyze(const struct lift_text_analyzer *a,
                                 struct lift_text_scratch *sc, const char *s,
                                 size_t len, lift_text_term_fn fn, void *user,
                                 struct lift_error *err);

/* Built-in stop words of a language (lower-case, NFC), NULL-terminated,
 * and their count (text/stopwords.c). */
const char *const *lift_stopwords(enum lift_lang lang, size_t *n);

#endif
