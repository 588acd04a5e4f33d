/* SPDX-License-Identifier: Apache-2.0
 *
 * core/encode.c - hex and canonical base64.
 *
 * Transparency-log formats (signed notes, checkpoints, proofs, witness requests) give each byte
 * string exactly one accepted base64 spelling, so the decoder here is strict: padded standard
 * base64 (RFC 4648 section 4) whose re-encoding is the input itself. Everything is plain table
 * lookup on the caller's memory: no allocation but the tq_buf the caller passes, no state.
 */
#include <string.h>

#include "tansiq/core.h"

/* ---- hex ------------------------------------------------------------------------------- */

void tq_hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = in;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int tq_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- base64 (RFC 4648 section 4, padded, canonical) ------------------------------------ */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

void tq_base64_encode(const void *in, size_t n, char *out)
{
    const uint8_t *p = in;
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;

        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64_alphabet[v >> 18 & 63];
        out[o++] = b64_alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

tq_rc tq_buf_append_base64(struct tq_buf *b, const void *in, size_t n)
{
    char chunk[TQ_BASE64_LEN(48) + 1];
    const uint8_t *p = in;
    size_t start = b->len;
    tq_rc rc = TQ_OK;

    if (n == 0)
        return tq_buf_append(b, "", 0); /* as tq_buf_append: the buffer exists afterwards */
    /* Whole 3-byte groups per chunk, so the chunks' encodings simply concatenate. */
    for (size_t i = 0; rc == TQ_OK && i < n; i += 48) {
        size_t k = n - i < 48 ? n - i : 48;

        tq_base64_encode(p + i, k, chunk);
        rc = tq_buf_append(b, chunk, TQ_BASE64_LEN(k));
    }
    if (rc && b->ptr) {
        b->len = start;
        b->ptr[start] = '\0';
    }
    return rc;
}

bool tq_base64_decode(struct tq_str in, uint8_t *out, size_t *out_len)
{
    size_t o = 0;

    if (in.len % 4 != 0)
        return false;
    for (size_t i = 0; i < in.len; i += 4) {
        int v[4];
        int pad = 0;
        bool last = i + 4 == in.len;

        for (int k = 0; k < 4; k++) {
            char c = in.ptr[i + (size_t)k];

            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad)
                return false; /* data after padding */
            v[k] = b64_value(c);
            if (v[k] < 0)
                return false;
        }
        if (pad == 2 && (v[1] & 0x0f) != 0)
            return false;
        if (pad == 1 && (v[2] & 0x03) != 0)
            return false;
        out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        if (pad < 2)
            out[o++] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
        if (pad < 1)
            out[o++] = (uint8_t)((v[2] & 0x03) << 6 | v[3]);
    }
    *out_len = o;
    return true;
}
