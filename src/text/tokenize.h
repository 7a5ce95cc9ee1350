/*
 * text/tokenize.h - splitting text into tokens for the feature pipeline.
 *
 * This is the interface the pipeline uses. The current tokenizer is the
 * simple one: ASCII letters and digits (and every byte >= 0x80, so UTF-8
 * words stay whole) form tokens, lower-cased; everything else separates.
 * The Unicode tokenizer (NFKC, case folding, CJK, URLs, stop words,
 * stemming) replaces it behind the same call.
 */
#ifndef LIFT_TEXT_TOKENIZE_H
#define LIFT_TEXT_TOKENIZE_H

#include <stddef.h>

/* Called per token; tok is valid only during the call. Return non-zero
 * to stop early. */
typedef int (*lift_token_fn)(void *user, const char *tok, size_t len);

/* Longest token kept; longer runs are cut. */
#define LIFT_TOKEN_MAX 64

/* Tokenizes s[0..len); returns the number of tokens passed to fn. */
size_t lift_tokenize_simple(const char *s, size_t len, lift_token_fn fn,
                            void *user);

#endif
