/* SPDX-License-Identifier: Apache-2.0
 *
 * core/sha256.c - SHA-256 of byte strings, through OpenSSL.
 *
 * One digest for the whole node (object digests, audit commitments, certificate and token
 * hashes). OpenSSL uses the CPU's SHA extensions where present: on the development machine
 * 23-25 M compression calls/s against 4.7 M/s for libsodium's portable crypto_hash_sha256,
 * which matters on the import path (every object's canonical form is hashed, every audit leaf
 * twice). The algorithm is fetched once per process; EVP_MD is immutable and shared.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "tansiq/core.h"

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md;

static void md_fetch(void)
{
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* OpenSSL fails here only without memory or without a SHA-256 provider: like tq_xmalloc, stop. */
static void digest_failed(void)
{
    fputs("tansiq: fatal: SHA-256 unavailable from OpenSSL\n", stderr);
    abort();
}

void tq_sha256_parts(const struct tq_bytes *parts, size_t n, uint8_t out[TQ_SHA256_BYTES])
{
    EVP_MD_CTX *ctx;
    unsigned int len = 0;
    int ok;

    pthread_once(&md_once, md_fetch);
    ctx = md ? EVP_MD_CTX_new() : NULL;
    ok = ctx && EVP_DigestInit_ex2(ctx, md, NULL);
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len);
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) && len == TQ_SHA256_BYTES;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        digest_failed();
}

void tq_sha256(const void *data, size_t len, uint8_t out[TQ_SHA256_BYTES])
{
    struct tq_bytes part = {data, len};

    tq_sha256_parts(&part, 1, out);
}
