/*
 * lift/text.h - reading what customers write: tokens and keywords.
 *
 * Text is analysed in one fixed order (docs/TEXT.md has every rule):
 *   1. strict UTF-8 validation (invalid input is LIFT_ERR_PARSE naming the
 *      byte offset; callers that read tables add the row);
 *   2. NFKC + case folding (utf8proc: COMPOSE | COMPAT | CASEFOLD | STABLE);
 *   3. tokens split on Unicode categories: words (letters, marks, digits,
 *      inner apostrophes), numbers, URLs, e-mail addresses, currency
 *      amounts, emoji and other symbols, and CJK runs as character
 *      unigrams and bigrams;
 *   4. optional classes: numbers, URLs, e-mails and amounts become
 *      "<num>", "<url>", "<email>", "<money>";
 *   5. stop words of the language (plus the caller's) are dropped;
 *   6. optional Snowball stemming of words (libstemmer);
 *   7. word n-grams up to 3, joined by one space, and optional character
 *      n-grams of each word, written "[gram]" with spaces at the word's
 *      edges.
 * The same settings are stored with a trained model, so a saved model
 * tokenizes exactly as at training.
 */
#ifndef LIFT_TEXT_H
#define LIFT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <lift/error.h>
#include <lift/table.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Text analysis settings, defaults as `lift train` uses them. */
struct lift_text_opts;

enum lift_code lift_text_opts_new(struct lift_text_opts **out,
                                  struct lift_error *err);
void lift_text_opts_free(struct lift_text_opts *o);

/*
 * Sets one option by its key, as the CLI flag without "--" and the
 * server's JSON param spell it:
 *   lang           en, zh, de, fr, es or pt (stop words, stemmer)
 *   stop-words     extra stop words: words separated by white space or
 *                  commas, '#' starts a comment to the end of the line
 *                  (the CLI reads them from a file)
 *   no-stop-words  true: keep stop words
 *   stem           true/false: Snowball stemming of words
 *   ngrams         1..3: word n-grams
 *   char-ngrams    0 (off), N, or MIN,MAX with 1 <= MIN <= MAX <= 6
 *   token-classes  true/false: <num>, <url>, <email>, <money>
 *   sublinear-tf   true/false: term weight 1 + ln(count) instead of count
 * LIFT_ERR_INVALID for an unknown key ("unknown option '...'") or a bad
 * value; the options are then unchanged.
 */
enum lift_code lift_text_opts_set(struct lift_text_opts *o, const char *key,
                                  const char *value, struct lift_error *err);
/* True when key is one of lift_text_opts_set's keys. */
bool lift_text_opts_has_key(const char *key);

/* A tokenizer: the settings compiled (stop-word set, stemmer) with its
 * scratch. One per thread. */
struct lift_text_tokenizer;

enum lift_code lift_text_tokenizer_new(const struct lift_text_opts *o,
                                       struct lift_text_tokenizer **out,
                                       struct lift_error *err);
void lift_text_tokenizer_free(struct lift_text_tokenizer *t);

/* Called per term; tok is valid only during the call. Non-zero stops. */
typedef int (*lift_text_term_fn)(void *user, const char *tok, size_t len);

/* Passes the terms of s[0..len) to fn in text order: unigrams (CJK
 * bigrams after their first character), then word bigrams, trigrams,
 * then character n-grams. LIFT_ERR_PARSE for invalid UTF-8 ("invalid
 * UTF-8 at byte 12"), LIFT_ERR_LIMIT past 16 Mi code points,
 * LIFT_ERR_NOMEM. */
enum lift_code lift_text_tokenize(struct lift_text_tokenizer *t, const char *s,
                                  size_t len, lift_text_term_fn fn, void *user,
                                  struct lift_error *err);

/*
 * Keywords of text column `col` of t, as a JSON document (owned by the
 * caller, free()):
 *   without target: {"rows", "terms": [{"term", "docs", "score"}]} - the
 *   top terms by summed tf-idf weight over the rows;
 *   with target (and positive, which may be NULL for a two-level or
 *   boolean target whose second level is positive):
 *   {"rows", "positives", "raise": [...], "lower": [...]}, each entry
 *   {"term", "z", "log_odds", "docs", "positive_docs", "negative_docs"}:
 *   the log-odds ratio of the documents with the term among positives
 *   (a of P) and negatives (b of N), smoothed by an informative
 *   Dirichlet prior (text/keywords.c), and its z-score (over its
 *   standard error), for terms in at least min_docs documents (0: 3);
 *   "raise" is the top by z, "lower" the bottom. Character n-grams are
 *   left out.
 * Missing text is skipped; LIFT_ERR_PARSE names the line of invalid
 * UTF-8; LIFT_ERR_NOT_FOUND for unknown columns or a positive label
 * the target lacks.
 */
enum lift_code lift_text_keywords_json(const struct lift_table *t,
                                       const char *col, const char *target,
                                       const char *positive,
                                       const struct lift_text_opts *o,
                                       size_t top, size_t min_docs, char **out,
                                       struct lift_error *err);

#ifdef __cplusplus
}
#endif

#endif
