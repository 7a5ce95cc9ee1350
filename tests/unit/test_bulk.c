/*
 * tests/unit/test_bulk.c - the server's bulk scoring helpers
 * (server/bulk.c): the fast %.9g printer against snprintf, byte for byte.
 *
 * The scores of a bulk job must read exactly as `lift predict` and the
 * JSON answer print them, so every value class the printer takes a
 * shortcut for (and the ones it hands to snprintf) is compared: uniform
 * probabilities, values spread over every decimal exponent of both
 * notations, both signs, integers, values at and next to rounding ties,
 * powers of ten and their neighbours, zero and non-finite values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "server/bulk.h"

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static void same_as_printf(double v)
{
    char want[64], got[BULK_NUM_MAX];
    int n = snprintf(want, sizeof want, "%.9g", v);
    size_t len = bulk_format_g9(v, got);
    if ((size_t)n != len || strcmp(want, got) != 0)
        fail_msg("%.17g: printf gives '%s', bulk_format_g9 '%s'", v, want, got);
}

static void format_g9_probabilities_equal_printf(void **state)
{
    (void)state;
    uint64_t s = 1;
    for (int i = 0; i < 1000000; i++)
        same_as_printf(uniform(&s));
}

static void format_g9_every_exponent_both_signs_equal_printf(void **state)
{
    (void)state;
    uint64_t s = 2;
    for (int i = 0; i < 1000000; i++) {
        double v = pow(10.0, uniform(&s) * 24 - 12);
        same_as_printf(i & 1 ? -v : v);
    }
}

static void format_g9_ties_and_edges_equal_printf(void **state)
{
    (void)state;
    /* 9-digit decimals with a 5 in the 10th place: the rounding ties of
     * %.9g (not exact in binary, so each falls on one side), and their
     * neighbours one ulp away */
    uint64_t s = 3;
    for (int i = 0; i < 200000; i++) {
        double mant = 100000000 + (double)(next_u64(&s) % 900000000);
        int e = (int)(next_u64(&s) % 14) - 5;
        double v = (mant + 0.5) * pow(10.0, e - 8);
        same_as_printf(v);
        same_as_printf(nextafter(v, 0));
        same_as_printf(nextafter(v, INFINITY));
        same_as_printf(mant * pow(10.0, e - 8)); /* trailing zeros */
    }
    for (int e = -12; e <= 12; e++) {
        double p = pow(10.0, e);
        same_as_printf(p);
        same_as_printf(nextafter(p, 0));
        same_as_printf(nextafter(p, INFINITY));
        same_as_printf(-p);
        same_as_printf(p * 0.9999999995);
        same_as_printf(p * 0.99999999949);
        same_as_printf(p * 0.99999999951);
    }
    static const double fixed[] = {0.0,     -0.0,       1.0,   0.5,
                                   0.1,     123456789,  1e9,   999999999.5,
                                   0.0001,  0.00009999, 42.0,  1.5e-300,
                                   DBL_MAX, DBL_MIN,    5e-324};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        same_as_printf(fixed[i]);
        same_as_printf(-fixed[i]);
    }
    for (int i = 0; i < 100000; i++)
        same_as_printf((double)(int64_t)(next_u64(&s) % 2000000000) -
                       1000000000);
    char buf[BULK_NUM_MAX];
    bulk_format_g9(NAN, buf);
    assert_string_equal(buf, "nan");
    bulk_format_g9(-INFINITY, buf);
    assert_string_equal(buf, "-inf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_g9_probabilities_equal_printf),
        cmocka_unit_test(format_g9_every_exponent_both_signs_equal_printf),
        cmocka_unit_test(format_g9_ties_and_edges_equal_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
