/* SPDX-License-Identifier: Apache-2.0
 *
 * core/buf.c - growable byte buffers with a hard cap.
 *
 * A buffer is always NUL-terminated once it holds memory, so its contents can be handed to
 * C APIs without a copy. Growth doubles the capacity; the cap is checked before every growth.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tansiq/core.h"

void tq_buf_init(struct tq_buf *b, size_t max_bytes)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max_bytes;
}

void tq_buf_cleanup(struct tq_buf *b)
{
    tq_free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void tq_buf_reset(struct tq_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

/* Make room for extra more bytes plus the terminating NUL. */
static tq_rc reserve(struct tq_buf *b, size_t extra)
{
    size_t want, cap;

    if (extra > b->max || b->len > b->max - extra)
        return TQ_ETOOBIG;
    want = b->len + extra + 1;
    if (want <= b->cap)
        return TQ_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    b->ptr = tq_xrealloc(b->ptr, cap);
    b->cap = cap;
    return TQ_OK;
}

tq_rc tq_buf_append(struct tq_buf *b, const void *data, size_t len)
{
    tq_rc rc = reserve(b, len);

    if (rc)
        return rc;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return TQ_OK;
}

tq_rc tq_buf_append_str(struct tq_buf *b, struct tq_str s)
{
    return tq_buf_append(b, s.ptr, s.len);
}

tq_rc tq_buf_append_c(struct tq_buf *b, const char *s)
{
    return tq_buf_append(b, s, strlen(s));
}

tq_rc tq_buf_printf(struct tq_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    tq_rc rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TQ_EINVAL;
    rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TQ_OK;
}

tq_rc tq_buf_append_json_str(struct tq_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0;
    tq_rc rc;

    rc = tq_buf_append(b, "\"", 1);
    for (i = 0; !rc && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t n = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = tq_buf_append(b, s + start, i - start);
        if (rc)
            break;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        rc = tq_buf_append(b, esc, n);
        start = i + 1;
    }
    if (!rc)
        rc = tq_buf_append(b, s + start, len - start);
    if (!rc)
        rc = tq_buf_append(b, "\"", 1);
    return rc;
}

tq_rc tq_buf_append_json_cstr(struct tq_buf *b, const char *s)
{
    return s ? tq_buf_append_json_str(b, s, strlen(s)) : tq_buf_append_c(b, "null");
}

char *tq_buf_take(struct tq_buf *b, size_t *len_out)
{
    char *p;

    if (!b->ptr)
        reserve(b, 0);
    p = b->ptr;
    if (len_out)
        *len_out = b->len;
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}
