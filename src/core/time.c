/* SPDX-License-Identifier: Apache-2.0
 *
 * core/time.c - clocks and RFC 3339 timestamps.
 *
 * tansiq holds every timestamp as int64 microseconds since the Unix epoch (UTC). The parser
 * accepts exactly the STIX form (upper-case T and Z, no offsets) and converts calendar dates
 * without the C library's time-zone machinery, so it is thread-safe and fast.
 */
#include <time.h>

#include "tansiq/core.h"

int64_t tq_time_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t tq_time_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

tq_rc tq_time_parse(struct tq_str s, int64_t *us_out, int *frac_digits)
{
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s.ptr;
    int year, mon, day, hour, min, sec;
    int64_t frac = 0;
    size_t i = 19;
    int nfrac = 0;
    bool leap;

    if (s.len < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return TQ_EINVAL;
    year = digits(p, 4);
    mon = digits(p + 5, 2);
    day = digits(p + 8, 2);
    hour = digits(p + 11, 2);
    min = digits(p + 14, 2);
    sec = digits(p + 17, 2);
    if (year < 0 || mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 ||
        min > 59 || sec < 0 || sec > 60)
        return TQ_EINVAL;
    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > mdays[mon - 1] || (mon == 2 && day == 29 && !leap))
        return TQ_EINVAL;
    if (p[i] == '.') {
        for (i++; i < s.len && p[i] >= '0' && p[i] <= '9'; i++, nfrac++) {
            if (nfrac < 6)
                frac = frac * 10 + (p[i] - '0');
            else if (p[i] != '0')
                return TQ_EINVAL; /* sub-microsecond precision is not kept */
        }
        if (nfrac == 0)
            return TQ_EINVAL;
    }
    if (i != s.len - 1 || p[i] != 'Z')
        return TQ_EINVAL;
    for (int k = nfrac; k < 6; k++)
        frac *= 10;
    if (sec == 60)
        sec = 59; /* a leap second is kept as the last second of its minute */
    *us_out = (days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 +
               min * 60 + sec) *
                  1000000 +
              frac;
    if (frac_digits)
        *frac_digits = nfrac;
    return TQ_OK;
}

static void put_digits(char *p, unsigned v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Written by hand rather than with snprintf: manifests format one timestamp per row. */
static void format(int64_t us, char out[TQ_TIME_STR_MAX], int nfrac)
{
    int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
    int64_t frac = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    unsigned rem = (unsigned)(secs - days * 86400);
    int64_t y;
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, rem / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, rem / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, rem % 60, 2);
    out[19] = '.';
    if (nfrac == 3)
        put_digits(out + 20, (unsigned)(frac / 1000), 3);
    else
        put_digits(out + 20, (unsigned)frac, 6);
    out[20 + nfrac] = 'Z';
    out[21 + nfrac] = '\0';
}

void tq_time_format(int64_t us, char out[TQ_TIME_STR_MAX])
{
    format(us, out, 6);
}

void tq_time_format_ms(int64_t us, char out[TQ_TIME_STR_MAX])
{
    format(us, out, 3);
}

void tq_time_format_exact(int64_t us, char out[TQ_TIME_STR_MAX])
{
    format(us, out, us % 1000 == 0 ? 3 : 6);
}
