/* SPDX-License-Identifier: Apache-2.0
 *
 * core/str.c - length-delimited strings, a line reader and constant-time comparison.
 */
#include <string.h>

#include "tansiq/core.h"

struct tq_str tq_str_c(const char *s)
{
    struct tq_str r = {s, s ? strlen(s) : 0};

    return r;
}

bool tq_str_eq(struct tq_str a, struct tq_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool tq_str_eq_c(struct tq_str a, const char *b)
{
    return tq_str_eq(a, tq_str_c(b));
}

bool tq_str_starts_with(struct tq_str s, const char *prefix)
{
    size_t n = strlen(prefix);

    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

bool tq_secret_eq(const void *a, const void *b, size_t len)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned char diff = 0;
    size_t i;

    for (i = 0; i < len; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}

size_t tq_utf8_len(const unsigned char *p, size_t i, size_t n)
{
    unsigned char c = p[i], lo = 0x80, hi = 0xBF;
    size_t len;

    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong 3-byte forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* no overlong 4-byte forms */
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n - i < len)
        return 0;
    if (p[i + 1] < lo || p[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[i + k] & 0xC0) != 0x80)
            return 0;
    return len;
}

bool tq_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t len = 1;

        if (p[i] >= 0x80) {
            len = tq_utf8_len(p, i, n);
            if (!len)
                return false;
        }
        i += len;
    }
    return true;
}

bool tq_str_to_u64(struct tq_str s, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0 || (s.len > 1 && s.ptr[0] == '0'))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(unsigned char)s.ptr[i] - '0';

        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool tq_is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

enum tq_line_result tq_lines_next(struct tq_lines *r, struct tq_str *line)
{
    const char *nl;

    if (r->off >= r->text.len)
        return TQ_LINE_END;
    r->lineno++;
    nl = memchr(r->text.ptr + r->off, '\n', r->text.len - r->off);
    if (!nl)
        return TQ_LINE_UNTERMINATED;
    *line = (struct tq_str){r->text.ptr + r->off, (size_t)(nl - (r->text.ptr + r->off))};
    r->off += line->len + 1;
    return TQ_LINE_OK;
}
