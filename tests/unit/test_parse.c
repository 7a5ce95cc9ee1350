/*
 * tests/unit/test_parse.c - cell parsers (data/parse.c): numbers (every
 * accepted and rejected form, and bit-exact agreement with glibc's
 * correctly rounded strtod on many random decimal strings), ISO 8601
 * dates (leap years, offsets, fractions, every invalid form, and every day
 * of eight centuries against timegm), booleans and the default missing
 * spellings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "data/parse.h"

static bool num(const char *s, double *v)
{
    return lift_parse_number(s, strlen(s), v);
}

static double num_ok(const char *s)
{
    double v = -12345.0;
    if (!num(s, &v))
        fail_msg("'%s' was not read as a number", s);
    return v;
}

static bool same_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

/* ---- numbers ------------------------------------------------------------ */

static void parse_number_common_forms_values(void **state)
{
    (void)state;
    assert_true(num_ok("0") == 0.0);
    assert_true(num_ok("56") == 56.0);
    assert_true(num_ok("-1.8") == -1.8);
    assert_true(num_ok("+7") == 7.0);
    assert_true(num_ok(".5") == 0.5);
    assert_true(num_ok("-.25") == -0.25);
    assert_true(num_ok("3.") == 3.0);
    assert_true(num_ok("4e-3") == 0.004);
    assert_true(num_ok("1E3") == 1000.0);
    assert_true(num_ok("2.5e+2") == 250.0);
    assert_true(num_ok("93.994") == 93.994);
    assert_true(num_ok("4.857") == 4.857);
    assert_true(num_ok("5191.0") == 5191.0);
    assert_true(num_ok("999") == 999.0);
    assert_true(num_ok("  12 ") == 12.0);
    assert_true(num_ok("\t-3\t") == -3.0);
    assert_true(num_ok("000123.50") == 123.5);
    double z = num_ok("-0");
    assert_true(z == 0.0 && signbit(z));
}

static void parse_number_span_not_terminated_reads_only_len(void **state)
{
    (void)state;
    double v = 0.0;
    assert_true(lift_parse_number("12345", 3, &v));
    assert_true(v == 123.0);
    assert_true(lift_parse_number("1.5e9x", 5, &v));
    assert_true(v == 1.5e9);
    assert_false(lift_parse_number("1.5e9x", 4, &v)); /* "1.5e" */
}

static void parse_number_malformed_rejected_untouched(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      " ",     "-",        "+",    ".",   "-.",   "e5",
        "1e",    "1e+",   "1e-",      "0x10", "inf", "-inf", "nan",
        "NaN",   "1,000", "1.2.3",    "12a",  "--1", "1 2",  "1e5.5",
        "1_000", "1d",    "Infinity", "$5",   "5%",  "1e 5", ". 5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42.0;
        if (num(bad[i], &v))
            fail_msg("'%s' was read as a number", bad[i]);
        assert_true(v == 42.0);
    }
}

static void parse_number_overflow_rejected_underflow_rounded(void **state)
{
    (void)state;
    double v = 0.0;
    assert_false(num("1e309", &v));
    assert_false(num("-1.7976931348623159e308", &v));
    assert_false(num("1e99999999999", &v));
    assert_true(num_ok("1.7976931348623157e308") == 1.7976931348623157e308);
    assert_true(num_ok("4.9e-324") == 4.9e-324);
    assert_true(num_ok("2.4703282292062328e-324") == 4.9e-324);
    assert_true(num_ok("2.2250738585072011e-308") == 2.2250738585072011e-308);
    assert_true(num_ok("1e-400") == 0.0);
    assert_true(num_ok("0e99999") == 0.0);
}

static void parse_number_hard_roundings_exact(void **state)
{
    (void)state;
    /* beyond the fast path: more than 2^53, 19+ digits, exponent > 22 */
    static const char *const hard[] = {
        "9007199254740993",
        "9007199254740992.5",
        "123456789012345678901234567890",
        "0.1000000000000000055511151231257827",
        "1e23",
        "8.98846567431158e307",
        "7.2057594037927933e16",
        "0.000000000000000000000000000001234",
        "1234567890123456789.5",
        "12345678901234567890e-10",
        "2.2250738585072012e-308",
        "179769313486231580793728971405303415079934132710037826936173778980"
        "444968292764750946649017977587207096330286416692887910946555547851"
        "9404026306574886715058206819089020007083836762738548458177115317644"
        "75706252548e-5", /* > 127 bytes: documented as not a number */
    };
    for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++) {
        double v = 0.0;
        bool ok = num(hard[i], &v);
        if (strlen(hard[i]) >= 128) {
            assert_false(ok);
            continue;
        }
        assert_true(ok);
        double want = strtod(hard[i], NULL);
        if (!same_bits(v, want))
            fail_msg("'%s': got %.17g, strtod %.17g", hard[i], v, want);
    }
}

/* Writes a random decimal string of the given shape into buf. */
static void random_decimal(struct lift_rng *r, char *buf, size_t cap,
                           int max_int, int max_frac, int max_exp)
{
    size_t n = 0;
    uint64_t sign = lift_rng_below(r, 3);
    if (sign == 1)
        buf[n++] = '-';
    else if (sign == 2 && lift_rng_below(r, 4) == 0)
        buf[n++] = '+';
    int n_int = (int)lift_rng_below(r, (uint64_t)max_int + 1);
    int n_frac = (int)lift_rng_below(r, (uint64_t)max_frac + 1);
    if (n_int == 0 && n_frac == 0)
        n_int = 1;
    for (int i = 0; i < n_int; i++)
        buf[n++] = (char)('0' + lift_rng_below(r, 10));
    if (n_frac > 0 || lift_rng_below(r, 8) == 0) {
        buf[n++] = '.';
        for (int i = 0; i < n_frac; i++)
            buf[n++] = (char)('0' + lift_rng_below(r, 10));
    }
    if (max_exp > 0 && lift_rng_below(r, 2) == 0) {
        buf[n++] = lift_rng_below(r, 2) ? 'e' : 'E';
        int e = (int)lift_rng_below(r, (uint64_t)(2 * max_exp + 1)) - max_exp;
        n += (size_t)snprintf(buf + n, cap - n, "%+d", e);
    }
    buf[n] = '\0';
    assert_true(n < cap);
}

/* Compares lift_parse_number with strtod on `count` random strings. */
static void compare_random(uint64_t seed, size_t count, int max_int,
                           int max_frac, int max_exp)
{
    struct lift_rng r;
    lift_rng_seed(&r, seed);
    char buf[128];
    size_t n_ok = 0;
    for (size_t i = 0; i < count; i++) {
        random_decimal(&r, buf, sizeof buf, max_int, max_frac, max_exp);
        double want = strtod(buf, NULL), got = 0.0;
        bool ok = num(buf, &got);
        if (isinf(want)) {
            if (ok)
                fail_msg("'%s' overflows but was read as %.17g", buf, got);
            continue;
        }
        if (!ok)
            fail_msg("'%s' was not read as a number", buf);
        if (!same_bits(got, want))
            fail_msg("'%s': got %.17g (%a), strtod %.17g (%a)", buf, got, got,
                     want, want);
        n_ok++;
    }
    assert_true(n_ok > count / 2);
}

static void parse_number_random_short_equal_strtod(void **state)
{
    (void)state;
    /* the fast path: up to 15 digits, small exponents */
    compare_random(1, 200000, 8, 7, 22);
}

static void parse_number_random_long_equal_strtod(void **state)
{
    (void)state;
    /* 16..40 digits: mantissas past 2^53 and past 19 digits */
    compare_random(2, 100000, 25, 15, 30);
}

static void parse_number_random_wide_exponent_equal_strtod(void **state)
{
    (void)state;
    /* exponents to +-330: huge, subnormal, overflow and zero */
    compare_random(3, 100000, 20, 20, 330);
}

static void parse_number_random_bits_roundtrip_exact(void **state)
{
    (void)state;
    struct lift_rng r;
    lift_rng_seed(&r, 4);
    char buf[64];
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = lift_rng_next(&r);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        /* shortest-ish and full-precision spellings both read back */
        snprintf(buf, sizeof buf, "%.17g", d);
        double got = 0.0;
        assert_true(num(buf, &got));
        if (!same_bits(got, d))
            fail_msg("'%s' read as %a, want %a", buf, got, d);
        snprintf(buf, sizeof buf, "%.6e", d);
        assert_true(num(buf, &got));
        assert_true(same_bits(got, strtod(buf, NULL)));
    }
}

/* ---- dates -------------------------------------------------------------- */

static double date_ok(const char *s)
{
    double v = -1.0;
    if (!lift_parse_date(s, strlen(s), &v))
        fail_msg("'%s' was not read as a date", s);
    return v;
}

static void parse_date_plain_dates_epoch_seconds(void **state)
{
    (void)state;
    assert_true(date_ok("1970-01-01") == 0.0);
    assert_true(date_ok("1970-01-02") == 86400.0);
    assert_true(date_ok("1969-12-31") == -86400.0);
    assert_true(date_ok("2008-05-05") == 1209945600.0);
    assert_true(date_ok("2038-01-19") == 2147472000.0);
    assert_true(date_ok("0001-01-01") == -62135596800.0);
    assert_true(date_ok("9999-12-31") == 253402214400.0);
}

static void parse_date_leap_years_gregorian_rules(void **state)
{
    (void)state;
    double v = 0.0;
    assert_true(date_ok("2000-02-29") == 951782400.0);  /* div by 400 */
    assert_true(date_ok("2024-02-29") == 1709164800.0); /* div by 4 */
    assert_true(date_ok("1600-02-29") == -11670998400.0);
    assert_false(lift_parse_date("1900-02-29", 10, &v)); /* div by 100 */
    assert_false(lift_parse_date("2100-02-29", 10, &v));
    assert_false(lift_parse_date("2023-02-29", 10, &v));
    assert_false(lift_parse_date("2024-02-30", 10, &v));
    assert_true(date_ok("2024-03-01") - date_ok("2024-02-28") == 2 * 86400.0);
    assert_true(date_ok("2023-03-01") - date_ok("2023-02-28") == 86400.0);
}

static void parse_date_times_and_offsets_utc_seconds(void **state)
{
    (void)state;
    const double day = 1577836800.0; /* 2020-01-01T00:00:00Z */
    assert_true(date_ok("2020-01-01") == day);
    assert_true(date_ok("2020-01-01T00:00:00Z") == day);
    assert_true(date_ok("2020-01-01 12:30") == day + 45000.0);
    assert_true(date_ok("2020-01-01T12:30:15") == day + 45015.0);
    assert_true(date_ok("2020-01-01T00:00:00+01:00") == day - 3600.0);
    assert_true(date_ok("2020-01-01T00:00:00-05:30") == day + 19800.0);
    assert_true(date_ok("2020-01-01T00:00+0530") == day - 19800.0);
    assert_true(date_ok("2020-01-01T00:00-08") == day + 28800.0);
    assert_true(date_ok("2020-01-01T10:00Z") == day + 36000.0);
    assert_true(date_ok("2020-01-01T00:00:00.25Z") == day + 0.25);
    assert_true(date_ok("2020-01-01T00:00:00,5") == day + 0.5);
    assert_true(date_ok("2019-12-31T23:00:00-01:00") == day);
    /* a leap second reads as the next minute */
    assert_true(date_ok("2016-12-31T23:59:60Z") == 1483228800.0);
}

static void parse_date_malformed_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2020",
        "2020-01",
        "2020-13-01",
        "2020-00-10",
        "2020-01-00",
        "2020-01-32",
        "2020-04-31",
        "2020-1-01",
        "2020-01-1",
        "20-01-01",
        "2020/01/01",
        "01-01-2020",
        " 2020-01-01",
        "2020-01-01 ",
        "2020-01-01Z",
        "2020-01-01T",
        "2020-01-01T10",
        "2020-01-01T10:5",
        "2020-01-01T24:00",
        "2020-01-01T23:60",
        "2020-01-01T23:59:61",
        "2020-01-01T10:00:5",
        "2020-01-01T10:00:00.",
        "2020-01-01T10:00:00.x",
        "2020-01-01T10:00Zx",
        "2020-01-01T10:00+24:00",
        "2020-01-01T10:00+05:60",
        "2020-01-01T10:00+5",
        "2020-01-01T10:00+05:3",
        "2020-01-01T10:00+05:",
        "2020-01-01T10:00 UTC",
        "2020-01-01x10:00",
        "yyyy-mm-dd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 7.0;
        if (lift_parse_date(bad[i], strlen(bad[i]), &v))
            fail_msg("'%s' was read as a date (%.17g)", bad[i], v);
    }
}

static void parse_date_every_day_1600_2400_equals_timegm(void **state)
{
    (void)state;
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    char buf[64];
    size_t n_days = 0;
    for (int y = 1600; y <= 2400; y++) {
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (int m = 1; m <= 12; m++) {
            int last = dm[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= last; d++) {
                struct tm tm;
                memset(&tm, 0, sizeof tm);
                tm.tm_year = y - 1900;
                tm.tm_mon = m - 1;
                tm.tm_mday = d;
                tm.tm_hour = d % 24;
                tm.tm_min = m * 4;
                snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d", y, m, d,
                         d % 24, m * 4);
                double v = 0.0;
                assert_true(lift_parse_date(buf, strlen(buf), &v));
                if (v != (double)timegm(&tm))
                    fail_msg("'%s': %.0f, timegm %lld", buf, v,
                             (long long)timegm(&tm));
                n_days++;
            }
            /* the day after the last is invalid */
            snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, last + 1);
            double v = 0.0;
            assert_false(lift_parse_date(buf, strlen(buf), &v));
        }
    }
    assert_int_equal(n_days, 292560);
}

/* ---- booleans and missing ---------------------------------------------- */

static void parse_bool_any_case_values(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "True", "tRuE"};
    static const char *const no[] = {"false", "FALSE", "False", "fAlSe"};
    for (size_t i = 0; i < 4; i++) {
        double v = -1.0;
        assert_true(lift_parse_bool(yes[i], strlen(yes[i]), &v));
        assert_true(v == 1.0);
        assert_true(lift_parse_bool(no[i], strlen(no[i]), &v));
        assert_true(v == 0.0);
    }
}

static void parse_bool_other_words_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {"",      "t",      "f",    "yes",   "no",
                                      "1",     "0",      "tru",  "truee", "on",
                                      " true", "false ", "T RUE"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 5.0;
        if (lift_parse_bool(bad[i], strlen(bad[i]), &v))
            fail_msg("'%s' was read as a boolean", bad[i]);
        assert_true(v == 5.0);
    }
    double v = 5.0;
    assert_false(lift_parse_bool("truex", 5, &v));
    assert_true(lift_parse_bool("truex", 4, &v));
    assert_true(v == 1.0);
}

static void is_default_missing_exact_spellings_only(void **state)
{
    (void)state;
    assert_true(lift_is_default_missing("", 0));
    assert_true(lift_is_default_missing("NA", 2));
    assert_true(lift_is_default_missing("NaN", 3));
    assert_true(lift_is_default_missing("null", 4));
    assert_true(lift_is_default_missing("NAB", 2)); /* a span, not a string */
    static const char *const present[] = {"na",  "nan", "NAN", "NULL", "Null",
                                          "N/A", " ",   "NA ", "none", "None",
                                          "-",   "?",   "0",   "nulls"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        if (lift_is_default_missing(present[i], strlen(present[i])))
            fail_msg("'%s' was taken as missing", present[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_number_common_forms_values),
        cmocka_unit_test(parse_number_span_not_terminated_reads_only_len),
        cmocka_unit_test(parse_number_malformed_rejected_untouched),
        cmocka_unit_test(parse_number_overflow_rejected_underflow_rounded),
        cmocka_unit_test(parse_number_hard_roundings_exact),
        cmocka_unit_test(parse_number_random_short_equal_strtod),
        cmocka_unit_test(parse_number_random_long_equal_strtod),
        cmocka_unit_test(parse_number_random_wide_exponent_equal_strtod),
        cmocka_unit_test(parse_number_random_bits_roundtrip_exact),
        cmocka_unit_test(parse_date_plain_dates_epoch_seconds),
        cmocka_unit_test(parse_date_leap_years_gregorian_rules),
        cmocka_unit_test(parse_date_times_and_offsets_utc_seconds),
        cmocka_unit_test(parse_date_malformed_rejected),
        cmocka_unit_test(parse_date_every_day_1600_2400_equals_timegm),
        cmocka_unit_test(parse_bool_any_case_values),
        cmocka_unit_test(parse_bool_other_words_rejected),
        cmocka_unit_test(is_default_missing_exact_spellings_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
