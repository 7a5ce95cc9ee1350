/*
 * text/tokenize.c - the simple lower-case word tokenizer.
 */
#include "text/tokenize.h"

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c >= 0x80;
}

/* Length of the longest prefix of a cut token that ends on a whole UTF-8
 * sequence. */
static size_t utf8_boundary(const char *tok, size_t n)
{
    size_t k = n - 1;
    while (k > 0 && ((unsigned char)tok[k] & 0xC0) == 0x80)
        k--;
    unsigned char lead = (unsigned char)tok[k];
    size_t want = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return k + want <= n ? n : k;
}

size_t lift_tokenize_simple(const char *s, size_t len, lift_token_fn fn,
                            void *user)
{
    char tok[LIFT_TOKEN_MAX];
    size_t n = 0, count = 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)s[i] : ' ';
        if (is_word_byte(c)) {
            if (n < LIFT_TOKEN_MAX)
                tok[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            continue;
        }
        if (n) {
            if (n == LIFT_TOKEN_MAX)
                n = utf8_boundary(tok, n);
            count++;
            if (n && fn(user, tok, n))
                return count;
            n = 0;
        }
    }
    return count;
}
