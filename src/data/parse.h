/*
 * data/parse.h - cell parsers shared by the table reader and the feature
 * pipeline (which parses JSON strings and CSV cells the same way).
 *
 * All take a span (not NUL-terminated) and never allocate.
 */
#ifndef LIFT_DATA_PARSE_H
#define LIFT_DATA_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A decimal number: optional surrounding spaces, sign, digits with an
 * optional fraction, optional exponent ("12", "-1.8", ".5", "4e-3").
 * Correctly rounded (Clinger's fast path for up to 19 significant digits
 * and |exponent| <= 22, strtod beyond). Infinite results and anything
 * else (hex, "inf", thousands separators) are not numbers.
 */
bool lift_parse_number(const char *s, size_t len, double *out);

/* "true" / "false", any case. */
bool lift_parse_bool(const char *s, size_t len, double *out);

/*
 * ISO 8601: YYYY-MM-DD, optionally followed by 'T' or ' ' and
 * HH:MM[:SS[.fraction]] and an optional 'Z' or +hh[:mm] / -hh[:mm]
 * offset. *out is seconds since 1970-01-01T00:00:00Z (proleptic
 * Gregorian, no leap seconds; :60 is accepted as the next minute).
 */
bool lift_parse_date(const char *s, size_t len, double *out);

/* The default missing spellings: "", "NA", "NaN", "null". Inline: the
 * reader asks it of every cell. */
static inline bool lift_is_default_missing(const char *s, size_t len)
{
    switch (len) {
    case 0:
        return true;
    case 2:
        return s[0] == 'N' && s[1] == 'A';
    case 3:
        return s[0] == 'N' && s[1] == 'a' && s[2] == 'N';
    case 4:
        return s[0] == 'n' && s[1] == 'u' && s[2] == 'l' && s[3] == 'l';
    default:
        return false;
    }
}

#endif
