/*
 * data/parse.c - number, boolean and date parsing of cells.
 *
 * Numbers: the digits are gathered into a 64-bit mantissa m (at most 19
 * significant digits) and a decimal exponent e. When m <= 2^53 and
 * |e| <= 22 both m and 10^|e| are exact doubles, so one IEEE multiply or
 * divide gives the correctly rounded result (Clinger, 1990). Other inputs
 * go to strtod on a bounded stack copy; lift never calls setlocale, so the
 * C locale's '.' applies unless the host program changed it.
 *
 * Dates: days from civil uses the era decomposition of the proleptic
 * Gregorian calendar (400-year eras of 146097 days, March-based years so
 * that the leap day is the last day of the year).
 */
#include "data/parse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool lift_parse_number(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    const char *start = p;
    if (p == e)
        return false;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    uint64_t m = 0;
    int nd = 0, exp10 = 0;
    bool any = false, truncated = false;
    for (; p < e && is_digit(*p); p++) {
        any = true;
        if (nd < 19) {
            m = m * 10 + (uint64_t)(*p - '0');
            nd += m != 0;
        } else {
            exp10++;
            truncated |= *p != '0';
        }
    }
    if (p < e && *p == '.') {
        for (p++; p < e && is_digit(*p); p++) {
            any = true;
            if (nd < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                nd += m != 0;
                exp10--;
            } else {
                truncated |= *p != '0';
            }
        }
    }
    if (!any)
        return false;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int esign = 1;
        if (p < e && (*p == '+' || *p == '-'))
            esign = *p++ == '-' ? -1 : 1;
        if (p == e || !is_digit(*p))
            return false;
        int ev = 0;
        for (; p < e && is_digit(*p); p++)
            if (ev < 100000)
                ev = ev * 10 + (*p - '0');
        exp10 += esign * ev;
    }
    if (p != e)
        return false;
    if (!truncated && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        *out = neg ? -v : v;
        return true;
    }
    char tmp[128];
    size_t n = (size_t)(e - start);
    if (n >= sizeof tmp)
        return false; /* a 128-digit literal is not a customer number */
    memcpy(tmp, start, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (isinf(v) || isnan(v))
        return false;
    *out = v;
    return true;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool equal_nocase(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != word[i])
            return false;
    return true;
}

bool lift_parse_bool(const char *s, size_t len, double *out)
{
    if (equal_nocase(s, len, "true")) {
        *out = 1.0;
        return true;
    }
    if (equal_nocase(s, len, "false")) {
        *out = 0.0;
        return true;
    }
    return false;
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, const char *e, int n, int *v)
{
    if (e - *p < n)
        return false;
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (!is_digit(c))
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                         /* [0, 399] */
    int64_t mp = (m + 9) % 12;                           /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

bool lift_parse_date(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    int y, mo, d, hh = 0, mi = 0, ss = 0;
    double frac = 0.0;
    if (!digits(&p, e, 4, &y) || p == e || *p++ != '-' ||
        !digits(&p, e, 2, &mo) || p == e || *p++ != '-' ||
        !digits(&p, e, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    int offset_min = 0;
    if (p < e) {
        if (*p != 'T' && *p != ' ')
            return false;
        p++;
        if (!digits(&p, e, 2, &hh) || p == e || *p++ != ':' ||
            !digits(&p, e, 2, &mi))
            return false;
        if (p < e && *p == ':') {
            p++;
            if (!digits(&p, e, 2, &ss))
                return false;
            if (p < e && (*p == '.' || *p == ',')) {
                p++;
                double scale = 0.1;
                if (p == e || !is_digit(*p))
                    return false;
                for (; p < e && is_digit(*p); p++, scale /= 10)
                    frac += (*p - '0') * scale;
            }
        }
        if (hh > 23 || mi > 59 || ss > 60)
            return false;
        if (p < e) {
            if (*p == 'Z' && p + 1 == e) {
                p++;
            } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
                if (!digits(&p, e, 2, &oh))
                    return false;
                bool colon = p < e && *p == ':';
                p += colon;
                /* "+05" and "+0530" stand alone; "+05:" needs minutes */
                if ((colon || p < e) && !digits(&p, e, 2, &om))
                    return false;
                if (oh > 23 || om > 59)
                    return false;
                offset_min = sign * (oh * 60 + om);
            } else {
                return false;
            }
        }
    }
    if (p != e)
        return false;
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs =
        days * 86400 + hh * 3600 + mi * 60 + ss - (int64_t)offset_min * 60;
    *out = (double)secs + frac;
    return true;
}
