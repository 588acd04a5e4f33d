/* SPDX-License-Identifier: Apache-2.0
 *
 * core/str.c - length-delimited strings and constant-time comparison.
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
