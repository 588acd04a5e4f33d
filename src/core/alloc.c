/* SPDX-License-Identifier: Apache-2.0
 *
 * core/alloc.c - the only file that calls malloc and free.
 *
 * Small, fixed-size allocations abort on exhaustion (there is no sensible recovery from failing
 * to allocate 64 bytes); anything sized by input goes through struct tq_buf, whose cap turns
 * runaway sizes into TQ_ETOOBIG before memory runs out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/core.h"

static void oom(size_t n)
{
    fprintf(stderr, "tansiq: out of memory allocating %zu bytes\n", n);
    abort();
}

void *tq_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        oom(n);
    return p;
}

void *tq_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);

    if (!p)
        oom(count * n);
    return p;
}

void *tq_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        oom(n);
    return q;
}

char *tq_xstrndup(const char *s, size_t n)
{
    char *d = tq_xmalloc(n + 1);

    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *tq_xstrdup(const char *s)
{
    return s ? tq_xstrndup(s, strlen(s)) : NULL;
}

void tq_free(void *p)
{
    free(p);
}
