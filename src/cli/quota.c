/*
 * cli/quota.c - the quota values of `lift serve --quota-*` and `lift
 * admin tenant quota`: parsing ("1G", "20", "unlimited", "default",
 * "10,40") and printing sizes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* A whole number with an optional K, M, G or T suffix (powers of 1024)
 * when bytes; false when it is not one or passes 2^62. */
static bool parse_count(const char *s, bool bytes, int64_t *out)
{
    if (!s || !*s || s[0] == '-' || s[0] == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno)
        return false;
    unsigned shift = 0;
    if (bytes && *end) {
        const char *units = "KMGT", *u = strchr(units, *end & ~0x20);
        if (!u || !*u)
            return false;
        shift = 10 * (unsigned)(u - units + 1);
        end++;
    }
    if (*end || v > (1ull << 62) >> shift)
        return false;
    *out = (int64_t)(v << shift);
    return true;
}

bool cli_parse_quota(struct cli_args *a, const char *flag, const char *s,
                     bool bytes, bool allow_default, int64_t *out)
{
    if (s && strcmp(s, "unlimited") == 0) {
        *out = LIFT_QUOTA_UNLIMITED;
        return true;
    }
    if (s && allow_default && strcmp(s, "default") == 0) {
        *out = LIFT_QUOTA_DEFAULT;
        return true;
    }
    if (parse_count(s, bytes, out))
        return true;
    cli_usage_error(a, "%s takes %s, unlimited%s, not '%s'", flag,
                    bytes ? "a size such as 500M or 2G" : "a whole number",
                    allow_default ? " or default" : "", s ? s : "");
    return false;
}

bool cli_parse_rate(struct cli_args *a, const char *flag, const char *s,
                    bool allow_default, int64_t *rps, int64_t *burst)
{
    *burst = LIFT_QUOTA_DEFAULT;
    if (s && (strcmp(s, "unlimited") == 0 ||
              (allow_default && strcmp(s, "default") == 0))) {
        *rps = s[0] == 'u' ? LIFT_QUOTA_UNLIMITED : LIFT_QUOTA_DEFAULT;
        return true;
    }
    char head[32];
    const char *comma = s ? strchr(s, ',') : NULL;
    size_t n = comma ? (size_t)(comma - s) : (s ? strlen(s) : 0);
    bool ok = s && n < sizeof head;
    if (ok) {
        memcpy(head, s, n);
        head[n] = '\0';
        ok = parse_count(head, false, rps) && *rps >= 1 &&
             (!comma || (parse_count(comma + 1, false, burst) && *burst >= 1));
    }
    if (!ok)
        cli_usage_error(a,
                        "%s takes requests per second and an optional burst "
                        "(N or N,BURST, each at least 1), unlimited%s, not "
                        "'%s'",
                        flag, allow_default ? " or default" : "", s ? s : "");
    return ok;
}

void cli_format_bytes(int64_t v, char *out, size_t cap)
{
    static const char units[] = "KMGT";
    if (v < 1024) {
        snprintf(out, cap, "%" PRId64, v);
        return;
    }
    double x = (double)v;
    int u = -1;
    while (x >= 1024 && u < 3) {
        x /= 1024;
        u++;
    }
    snprintf(out, cap, x < 10 ? "%.1f%c" : "%.0f%c", x, units[u]);
}
