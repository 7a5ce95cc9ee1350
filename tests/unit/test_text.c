/*
 * tests/unit/test_text.c - the Unicode analyser (text/analyze.c), its
 * stop words and keywords, on hand-made strings: one test per rule, then
 * the fixture tests/data/text_tokens.tsv (sentences mixing Chinese,
 * English, numbers, URLs and emoji with their exact tokens).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include <lift/table.h>
#include <lift/text.h>

#include "core/serial.h"
#include "text/analyze.h"

struct joined {
    char buf[8192];
    size_t len;
};

static int join(void *user, const char *tok, size_t len)
{
    struct joined *j = user;
    if (j->len)
        j->len +=
            (size_t)snprintf(j->buf + j->len, sizeof j->buf - j->len, " | ");
    j->len += (size_t)snprintf(j->buf + j->len, sizeof j->buf - j->len, "%.*s",
                               (int)len, tok);
    return 0;
}

/* Plain settings: unigrams, no stop words, no character n-grams. */
static void plain(struct lift_text_opts *o)
{
    lift_text_opts_init(o);
    o->stop = false;
    o->ngrams = 1;
    o->char_min = o->char_max = 0;
}

/* The terms of s under o, joined by " | ". */
static const char *terms_of(const struct lift_text_opts *o, const char *s)
{
    static struct joined j;
    struct lift_text_analyzer *a;
    struct lift_text_scratch *sc;
    struct lift_error err;
    j.len = 0;
    j.buf[0] = '\0';
    assert_int_equal(lift_text_analyzer_new(o, &a, &err), LIFT_OK);
    assert_int_equal(lift_text_scratch_new(&sc, &err), LIFT_OK);
    enum lift_code rc = lift_text_analyze(a, sc, s, strlen(s), join, &j, &err);
    if (rc)
        fail_msg("analyze failed: %s", err.msg);
    lift_text_scratch_free(sc);
    lift_text_analyzer_free(a);
    return j.buf;
}

static const char *plain_terms(const char *s)
{
    struct lift_text_opts o;
    plain(&o);
    return terms_of(&o, s);
}

static void analyze_ascii_words_lower_case_split_on_punctuation(void **state)
{
    (void)state;
    assert_string_equal(plain_terms("Hello, WORLD!  foo_bar-baz"),
                        "hello | world | foo | bar | baz");
}

static void analyze_nfkc_folds_fullwidth_and_ligatures(void **state)
{
    (void)state;
    assert_string_equal(plain_terms("\xef\xbc\xa6\xef\xbc\xa5\xef\xbc\xa5 "
                                    "\xef\xac\x81ne"),
                        "fee | fine");
}

static void analyze_case_folding_is_full(void **state)
{
    (void)state;
    /* German sharp s folds to "ss"; Greek final sigma to sigma */
    assert_string_equal(plain_terms("STRASSE Straße"), "strasse | strasse");
    assert_string_equal(plain_terms("\xce\xa3\xce\x9f\xce\xa6\xce\x9f\xce\xa3"),
                        "\xcf\x83\xce\xbf\xcf\x86\xce\xbf\xcf\x83");
}

static void analyze_combining_marks_compose(void **state)
{
    (void)state;
    /* e + U+0301 composes to U+00E9, the same term as the precomposed */
    assert_string_equal(plain_terms("cafe\xcc\x81 caf\xc3\xa9"),
                        "caf\xc3\xa9 | caf\xc3\xa9");
}

static void analyze_inner_apostrophes_stay_in_words(void **state)
{
    (void)state;
    assert_string_equal(plain_terms("don\xe2\x80\x99t 'quoted' it's"),
                        "don't | quoted | it's");
}

static void analyze_numbers_keep_inner_separators(void **state)
{
    (void)state;
    assert_string_equal(plain_terms("1,000.50 3.14. 42, 2nd 150p"),
                        "1,000.50 | 3.14 | 42 | 2nd | 150p");
}

static void analyze_urls_whole_without_trailing_punctuation(void **state)
{
    (void)state;
    assert_string_equal(
        plain_terms("see https://a.example/x?y=1&z=2). or www.shop.co.uk, "
                    "HTTP://UP.COM/Path"),
        "see | https://a.example/x?y=1&z=2 | or | www.shop.co.uk | "
        "http://up.com/path");
    /* a bare scheme is not a URL */
    assert_string_equal(plain_terms("http:// www"), "http | www");
}

static void analyze_emails_whole(void **state)
{
    (void)state;
    assert_string_equal(plain_terms("write Ann.Lee+x@Mail.Example.org."),
                        "write | ann.lee+x@mail.example.org");
    /* no dot in the domain: not an address */
    assert_string_equal(plain_terms("me@localhost"), "me | localhost");
}

static void analyze_currency_amounts_whole(void **state)
{
    (void)state;
    assert_string_equal(plain_terms("£1.50 100€ $ 5 ￥99"),
                        "£1.50 | 100€ | $ | 5 | ¥99");
}

static void analyze_emoji_sequences_one_token(void **state)
{
    (void)state;
    /* heart + VS16 reads as the heart; skin tone stays; a flag is a pair;
     * a ZWJ family is one token */
    assert_string_equal(
        plain_terms(
            "ok\xe2\x9d\xa4\xef\xb8\x8f \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"
            "\xf0\x9f\x87\xac\xf0\x9f\x87\xa7 "
            "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"),
        "ok | \xe2\x9d\xa4 | \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd | "
        "\xf0\x9f\x87\xac\xf0\x9f\x87\xa7 | "
        "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9");
}

static void analyze_cjk_unigrams_and_bigrams(void **state)
{
    (void)state;
    assert_string_equal(plain_terms("中文abc日本"),
                        "中 | 中文 | 文 | abc | 日 | 日本 | 本");
    assert_string_equal(plain_terms("好"), "好");
}

static void analyze_classes_replace_kinds(void **state)
{
    (void)state;
    struct lift_text_opts o;
    plain(&o);
    o.classes = true;
    assert_string_equal(terms_of(&o, "call 0800 or www.x.com, a@b.co £5 ok"),
                        "call | <num> | or | <url> | <email> | <money> | ok");
}

static void analyze_stop_words_per_language(void **state)
{
    (void)state;
    struct lift_text_opts o;
    plain(&o);
    o.stop = true;
    assert_string_equal(terms_of(&o, "The offer is for you"), "offer");
    o.lang = LIFT_LANG_DE;
    assert_string_equal(terms_of(&o, "Das Angebot ist für dich"), "angebot");
    o.lang = LIFT_LANG_FR;
    assert_string_equal(terms_of(&o, "Le prix est très bas"),
                        "prix | très | bas");
    o.lang = LIFT_LANG_ES;
    assert_string_equal(terms_of(&o, "El precio es muy bajo"), "precio | bajo");
    o.lang = LIFT_LANG_PT;
    assert_string_equal(terms_of(&o, "O preço é muito baixo"), "preço | baixo");
    o.lang = LIFT_LANG_ZH;
    /* 我们 and its characters are stop words; the rest stays */
    assert_string_equal(terms_of(&o, "我们的产品"),
                        "们的 | 的产 | 产 | 产品 | 品");
}

static void analyze_extra_stop_words_are_normalised(void **state)
{
    (void)state;
    struct lift_text_opts *o;
    struct lift_error err;
    assert_int_equal(lift_text_opts_new(&o, &err), LIFT_OK);
    assert_int_equal(lift_text_opts_set(o, "ngrams", "1", &err), LIFT_OK);
    assert_int_equal(lift_text_opts_set(o, "char-ngrams", "0", &err), LIFT_OK);
    assert_int_equal(
        lift_text_opts_set(o, "stop-words", "# shop words\nACME, Deal\n", &err),
        LIFT_OK);
    assert_string_equal(terms_of(o, "ACME deal today"), "today");
    lift_text_opts_free(o);
}

static void analyze_stemming_per_language(void **state)
{
    (void)state;
    struct lift_text_opts o;
    plain(&o);
    o.stem = true;
    assert_string_equal(terms_of(&o, "running offers 1,000 www.x.com"),
                        "run | offer | 1,000 | www.x.com");
    o.lang = LIFT_LANG_DE;
    assert_string_equal(terms_of(&o, "Angebote"), "angebot");
    o.lang = LIFT_LANG_ZH; /* no stemmer: unchanged */
    assert_string_equal(terms_of(&o, "offers"), "offers");
}

static void analyze_word_ngrams_skip_inside_cjk_runs(void **state)
{
    (void)state;
    struct lift_text_opts o;
    plain(&o);
    o.ngrams = 3;
    assert_string_equal(terms_of(&o, "a b c"), "a | b | c | a b | b c | a b c");
    /* no "中 文" bigram: the CJK bigram 中文 covers it */
    assert_string_equal(terms_of(&o, "go 中文"), "go | 中 | 中文 | 文 | go 中");
}

static void analyze_char_ngrams_span_words(void **state)
{
    (void)state;
    struct lift_text_opts o;
    plain(&o);
    o.char_min = 2;
    o.char_max = 3;
    assert_string_equal(terms_of(&o, "ab  c!"),
                        "ab | c | [ab] | [b ] | [ c] | [c!] | [ab ] | [b c] | "
                        "[ c!]");
}

static void analyze_char_ngrams_encode_every_utf8_length(void **state)
{
    (void)state;
    struct lift_text_opts o;
    plain(&o);
    o.char_min = 1;
    o.char_max = 2;
    /* 1-, 2-, 3- and 4-byte code points: a, é, 中, 😀 */
    assert_string_equal(terms_of(&o, "a\xc3\xa9 \xe4\xb8\xad\xf0\x9f\x98\x80"),
                        "a\xc3\xa9 | \xe4\xb8\xad | \xf0\x9f\x98\x80 | [a] | "
                        "[\xc3\xa9] | [\xe4\xb8\xad] | [\xf0\x9f\x98\x80] | "
                        "[a\xc3\xa9] | [\xc3\xa9 ] | [ \xe4\xb8\xad] | "
                        "[\xe4\xb8\xad\xf0\x9f\x98\x80]");
}

/* The ASCII shortcuts of analyze.c rest on these facts of Unicode. */
static void ascii_categories_are_what_the_shortcuts_assume(void **state)
{
    (void)state;
    for (utf8proc_int32_t c = 0; c < 0x80; c++) {
        utf8proc_category_t k = utf8proc_category(c);
        bool digit = c >= '0' && c <= '9';
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        assert_int_equal(k == UTF8PROC_CATEGORY_ND, digit);
        assert_int_equal(k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_ME,
                         letter);
        assert_int_equal(k == UTF8PROC_CATEGORY_SC, c == '$');
        assert_false(k == UTF8PROC_CATEGORY_SO);
        assert_int_equal(k == UTF8PROC_CATEGORY_ZS, c == ' ');
        /* NFKC + case folding of one ASCII character */
        utf8proc_uint8_t *dst = NULL;
        utf8proc_uint8_t in[1] = {(utf8proc_uint8_t)c};
        utf8proc_ssize_t n =
            utf8proc_map(in, 1, &dst,
                         UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                             UTF8PROC_CASEFOLD | UTF8PROC_STABLE);
        assert_int_equal(n, 1);
        assert_int_equal(dst[0], c >= 'A' && c <= 'Z' ? c + 32 : c);
        free(dst);
    }
}

struct all_terms {
    char *buf;
    size_t len, cap;
};

static int append_term(void *user, const char *tok, size_t len)
{
    struct all_terms *t = user;
    if (t->cap - t->len < len + 1) {
        t->cap = (t->cap + len + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, tok, len);
    t->buf[t->len + len] = '\n';
    t->len += len + 1;
    return 0;
}

static void analyze_all(const struct lift_text_analyzer *a,
                        struct lift_text_scratch *sc, const char *s, size_t len,
                        struct all_terms *t)
{
    struct lift_error err;
    t->len = 0;
    if (lift_text_analyze(a, sc, s, len, append_term, t, &err))
        fail_msg("analyze failed: %s", err.msg);
}

/* Pure ASCII text skips utf8proc (analyze.c's normalise): the terms must
 * be those of the same text read through it, which a full-width letter
 * (NFKC: U+FF21 is A) forces. Every ASCII byte but NUL, with words,
 * numbers, a URL, an e-mail, money, n-grams and character 1..6-grams. */
static void analyze_ascii_shortcut_gives_the_normalised_terms(void **state)
{
    (void)state;
    char ascii[512];
    size_t n = 0;
    const char *words = "A Call FREE 150p txt Www.Example.com/x "
                        "Me@Mail.Example.org $12.50 100$ don't x-y ";
    memcpy(ascii, words, strlen(words));
    n = strlen(words);
    for (int c = 1; c < 0x80; c++)
        ascii[n++] = (char)c;
    char wide[520];
    memcpy(wide, "\xef\xbc\xa1", 3); /* U+FF21 for the leading 'A' */
    memcpy(wide + 3, ascii + 1, n - 1);
    size_t wn = n + 2;
    struct lift_text_opts o;
    lift_text_opts_init(&o);
    o.ngrams = 3;
    o.char_min = 1;
    o.char_max = 6;
    for (int classes = 0; classes < 2; classes++) {
        o.classes = classes;
        struct lift_text_analyzer *a;
        struct lift_text_scratch *sc;
        struct lift_error err;
        assert_int_equal(lift_text_analyzer_new(&o, &a, &err), LIFT_OK);
        assert_int_equal(lift_text_scratch_new(&sc, &err), LIFT_OK);
        struct all_terms fast = {0}, slow = {0};
        analyze_all(a, sc, ascii, n, &fast);
        analyze_all(a, sc, wide, wn, &slow);
        assert_true(fast.len > 4000);
        assert_int_equal(fast.len, slow.len);
        assert_memory_equal(fast.buf, slow.buf, fast.len);
        free(fast.buf);
        free(slow.buf);
        lift_text_scratch_free(sc);
        lift_text_analyzer_free(a);
    }
}

static void analyze_long_tokens_cut_at_utf8_boundary(void **state)
{
    (void)state;
    char s[200];
    memset(s, 'a', 63);
    strcpy(s + 63, "\xc3\xa9xyz"); /* 63 + 2 bytes: the é does not fit */
    const char *t = plain_terms(s);
    assert_int_equal(strlen(t), 63);
}

static void analyze_invalid_utf8_is_parse_error_with_offset(void **state)
{
    (void)state;
    struct lift_text_opts o;
    plain(&o);
    struct lift_text_analyzer *a;
    struct lift_text_scratch *sc;
    struct lift_error err;
    struct joined j = {.len = 0};
    assert_int_equal(lift_text_analyzer_new(&o, &a, &err), LIFT_OK);
    assert_int_equal(lift_text_scratch_new(&sc, &err), LIFT_OK);
    const char *bad[] = {"ok \xff", "ok \xc3", "ok \xed\xa0\x80",
                         "ok \xc0\xaf"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            lift_text_analyze(a, sc, bad[i], strlen(bad[i]), join, &j, &err),
            LIFT_ERR_PARSE);
        assert_string_equal(err.msg, "invalid UTF-8 at byte 3");
    }
    lift_text_scratch_free(sc);
    lift_text_analyzer_free(a);
}

static void opts_set_rejects_bad_values(void **state)
{
    (void)state;
    struct lift_text_opts *o;
    struct lift_error err;
    assert_int_equal(lift_text_opts_new(&o, &err), LIFT_OK);
    assert_int_equal(lift_text_opts_set(o, "lang", "xx", &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_text_opts_set(o, "ngrams", "4", &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_text_opts_set(o, "char-ngrams", "5,2", &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_text_opts_set(o, "char-ngrams", "1,6", &err),
                     LIFT_OK);
    assert_int_equal(lift_text_opts_set(o, "stem", "maybe", &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_text_opts_set(o, "nope", "1", &err),
                     LIFT_ERR_INVALID);
    assert_string_equal(err.msg, "unknown option 'nope'");
    assert_int_equal(lift_text_opts_set(o, "stop-words", "\xff", &err),
                     LIFT_ERR_INVALID);
    lift_text_opts_free(o);
}

static void opts_save_load_round_trip(void **state)
{
    (void)state;
    struct lift_text_opts o, back;
    struct lift_error err;
    lift_text_opts_init(&o);
    assert_int_equal(lift_text_opts_set(&o, "lang", "fr", &err), LIFT_OK);
    assert_int_equal(lift_text_opts_set(&o, "stem", "true", &err), LIFT_OK);
    assert_int_equal(lift_text_opts_set(&o, "stop-words", "alpha beta", &err),
                     LIFT_OK);
    struct lift_writer w;
    lift_writer_init(&w);
    lift_text_opts_save(&o, &w);
    assert_int_equal(lift_writer_status(&w, &err), LIFT_OK);
    struct lift_reader r;
    lift_reader_init(&r, w.buf.data, w.buf.len);
    assert_true(lift_text_opts_load(&back, &r, &err));
    assert_int_equal(back.lang, LIFT_LANG_FR);
    assert_true(back.stem && back.stop && back.sublinear);
    assert_int_equal(back.ngrams, o.ngrams);
    assert_int_equal(back.char_max, o.char_max);
    assert_int_equal(back.n_extra, 2);
    assert_string_equal(back.extra[1], "beta");
    /* every truncation fails cleanly */
    for (size_t n = 0; n < w.buf.len; n++) {
        struct lift_text_opts t;
        lift_reader_init(&r, w.buf.data, n);
        assert_false(lift_text_opts_load(&t, &r, &err));
        lift_text_opts_release(&t);
    }
    lift_text_opts_release(&back);
    lift_text_opts_release(&o);
    lift_writer_release(&w);
}

static void stopwords_sizes_match_docs(void **state)
{
    (void)state;
    /* docs/TEXT.md quotes these sizes */
    const size_t want[LIFT_LANG_COUNT] = {
        [LIFT_LANG_EN] = 145, [LIFT_LANG_ZH] = 91,  [LIFT_LANG_DE] = 141,
        [LIFT_LANG_FR] = 98,  [LIFT_LANG_ES] = 100, [LIFT_LANG_PT] = 98};
    for (int l = 0; l < LIFT_LANG_COUNT; l++) {
        size_t n;
        lift_stopwords((enum lift_lang)l, &n);
        if (n != want[l])
            fail_msg("%s: %zu stop words", lift_lang_code((enum lift_lang)l),
                     n);
    }
}

static void fixture_sentences_give_exact_tokens(void **state)
{
    (void)state;
    const char *path = "tests/data/text_tokens.tsv";
    FILE *f = fopen(path, "r");
    if (!f)
        f = fopen("../tests/data/text_tokens.tsv", "r");
    if (!f) {
        char p[4096];
        const char *src = getenv("LIFT_SOURCE_DIR");
        snprintf(p, sizeof p, "%s/tests/data/text_tokens.tsv", src ? src : ".");
        f = fopen(p, "r");
    }
    assert_non_null(f);
    char line[8192];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *got = plain_terms(line);
        if (strcmp(got, tab + 1) != 0)
            fail_msg("'%s':\n  got  %s\n  want %s", line, got, tab + 1);
        n++;
    }
    fclose(f);
    assert_true(n >= 20);
}

static void keywords_log_odds_rank_outcome_terms(void **state)
{
    (void)state;
    const char csv[] = "label,text\n"
                       "spam,free prize call now\n"
                       "spam,free prize txt\n"
                       "spam,claim your free prize\n"
                       "ham,see you at lunch\n"
                       "ham,lunch at noon then call\n"
                       "ham,are you at lunch\n"
                       "ham,lunch is late\n";
    struct lift_read_opts ro;
    lift_read_opts_init(&ro);
    struct lift_table *t;
    struct lift_error err;
    assert_int_equal(lift_table_read_mem(csv, sizeof csv - 1, &ro, &t, &err),
                     LIFT_OK);
    struct lift_text_opts o;
    plain(&o);
    char *json = NULL;
    assert_int_equal(lift_text_keywords_json(t, "text", "label", "spam", &o, 2,
                                             2, &json, &err),
                     LIFT_OK);
    /* free and prize: in 3 of 3 spam, 0 of 4 ham; D = 7, alpha0 = 1.4,
     * alpha = 1.4 * 3 / 7 = 0.6: delta = ln(3.6 / 0.8) - ln(0.6 / 4.8)
     * = 3.583519, z = delta / sqrt(1 / 3.6 + 1 / 0.6) = 2.569875 */
    assert_non_null(strstr(json, "\"raise\":[{\"term\":\"free\""));
    assert_non_null(strstr(json, "\"z\":2.56987"));
    assert_non_null(strstr(json, "\"log_odds\":3.58352"));
    assert_non_null(strstr(json, "\"lower\":[{\"term\":\"lunch\""));
    free(json);
    assert_int_equal(
        lift_text_keywords_json(t, "text", NULL, NULL, &o, 3, 0, &json, &err),
        LIFT_OK);
    assert_non_null(strstr(json, "\"terms\":[{\"term\":"));
    free(json);
    assert_int_equal(lift_text_keywords_json(t, "text", "label", "maybe", &o, 3,
                                             0, &json, &err),
                     LIFT_ERR_NOT_FOUND);
    lift_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(analyze_ascii_words_lower_case_split_on_punctuation),
        cmocka_unit_test(analyze_nfkc_folds_fullwidth_and_ligatures),
        cmocka_unit_test(analyze_case_folding_is_full),
        cmocka_unit_test(analyze_combining_marks_compose),
        cmocka_unit_test(analyze_inner_apostrophes_stay_in_words),
        cmocka_unit_test(analyze_numbers_keep_inner_separators),
        cmocka_unit_test(analyze_urls_whole_without_trailing_punctuation),
        cmocka_unit_test(analyze_emails_whole),
        cmocka_unit_test(analyze_currency_amounts_whole),
        cmocka_unit_test(analyze_emoji_sequences_one_token),
        cmocka_unit_test(analyze_cjk_unigrams_and_bigrams),
        cmocka_unit_test(analyze_classes_replace_kinds),
        cmocka_unit_test(analyze_stop_words_per_language),
        cmocka_unit_test(analyze_extra_stop_words_are_normalised),
        cmocka_unit_test(analyze_stemming_per_language),
        cmocka_unit_test(analyze_word_ngrams_skip_inside_cjk_runs),
        cmocka_unit_test(analyze_char_ngrams_span_words),
        cmocka_unit_test(analyze_char_ngrams_encode_every_utf8_length),
        cmocka_unit_test(ascii_categories_are_what_the_shortcuts_assume),
        cmocka_unit_test(analyze_ascii_shortcut_gives_the_normalised_terms),
        cmocka_unit_test(analyze_long_tokens_cut_at_utf8_boundary),
        cmocka_unit_test(analyze_invalid_utf8_is_parse_error_with_offset),
        cmocka_unit_test(opts_set_rejects_bad_values),
        cmocka_unit_test(opts_save_load_round_trip),
        cmocka_unit_test(stopwords_sizes_match_docs),
        cmocka_unit_test(fixture_sentences_give_exact_tokens),
        cmocka_unit_test(keywords_log_odds_rank_outcome_terms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
