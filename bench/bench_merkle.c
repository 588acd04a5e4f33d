/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_merkle.c - in-memory Merkle appends against this machine's SHA-256 limit, and
 * proof generation and verification on a 10-million-leaf log.
 *
 * The reference is measured in the same run with the same API the tree uses (OpenSSL EVP, a
 * prefetched SHA-256 and one reused context): the rate of SHA-256 compression-function calls,
 * from hashing a 1 MiB buffer over and over (16384 compressions per call, so per-call overhead
 * vanishes). Appending a leaf hash costs one interior node hash on average, SHA-256 over 65
 * bytes, which is two compressions; the goal is at least half of that limit. Leaf hashes come
 * from a cheap generator so that the timing is the tree's alone. The headline builds the log
 * the way a log grows, one append at a time from an empty tree, so every page the tree maps and
 * touches is in the figure. A second tree is built after tq_merkle_reserve for comparison, with
 * the reserve time printed on its own and included in its overall rate. BENCH_LEAVES overrides
 * the log size (default 10,000,000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tansiq/merkle.h"

#define H TQ_MERKLE_HASH_BYTES

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void fake_leaf(uint64_t i, uint8_t out[H])
{
    uint64_t w[4] = {i, rnd(), rnd(), rnd()};

    memcpy(out, w, H);
}

static double secs(void)
{
    return (double)tq_time_mono_us() / 1e6;
}

/* SHA-256 compressions per second through EVP with a fetched EVP_MD and a reused context. */
static double sha256_compressions_per_s(void)
{
    static uint8_t buf[1 << 20];
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t out[H];
    double t0, t;
    long calls = 0;

    if (!md || !c) {
        fprintf(stderr, "bench: no SHA-256 in OpenSSL\n");
        exit(1);
    }
    memset(buf, 0x5a, sizeof(buf));
    t0 = secs();
    do {
        if (!EVP_DigestInit_ex2(c, md, NULL) || !EVP_DigestUpdate(c, buf, sizeof(buf)) ||
            !EVP_DigestFinal_ex(c, out, NULL))
            exit(1);
        calls++;
        t = secs() - t0;
    } while (t < 1.0);
    EVP_MD_CTX_free(c);
    EVP_MD_free(md);
    return (double)calls * (sizeof(buf) / 64) / t;
}

static void die(const char *what, const struct tq_err *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    exit(1);
}

int main(void)
{
    const char *env = getenv("BENCH_LEAVES");
    uint64_t leaves = env && *env ? strtoull(env, NULL, 10) : 10000000ULL;
    struct tq_merkle *m = tq_merkle_new(0), *small, *reserved;
    struct tq_merkle_proof p;
    struct tq_str s[TQ_MERKLE_PROOF_MAX];
    struct tq_err err = {0};
    uint8_t lh[H], root[H], r1[H];
    double comp, t0, t, tr, appends, limit;
    uint64_t i, n, idx, s1;
    size_t j;

    comp = sha256_compressions_per_s();
    limit = comp / 2;

    /* (1) appends: building the whole log is the measurement */
    t0 = secs();
    for (i = 0; i < leaves; i++) {
        fake_leaf(i, lh);
        if (tq_merkle_append(m, lh, &err))
            die("append", &err);
    }
    t = secs() - t0;
    appends = (double)leaves / t;
    printf("merkle append: %.0f leaves/s; sha256 limit (2 compressions per leaf) %.0f/s; "
           "ratio %.2f (goal >= 0.50)\n",
           appends, limit, appends / limit);
    printf("  %llu-leaf log built in %.2f s; sha256 %.1f M compressions/s\n",
           (unsigned long long)leaves, t, comp / 1e6);

    /* the same log after reserving its memory up front: reserve, then appends */
    reserved = tq_merkle_new(0);
    rng = 0x243f6a8885a308d3ULL;
    t0 = secs();
    if (tq_merkle_reserve(reserved, leaves, &err))
        die("reserve", &err);
    tr = secs() - t0;
    t0 = secs();
    for (i = 0; i < leaves; i++) {
        fake_leaf(i, lh);
        if (tq_merkle_append(reserved, lh, &err))
            die("append", &err);
    }
    t = secs() - t0;
    printf("  after tq_merkle_reserve: appends %.0f leaves/s, ratio %.2f; reserve took %.2f s, "
           "so reserve + appends %.0f leaves/s, ratio %.2f\n",
           (double)leaves / t, (double)leaves / t / limit, tr, (double)leaves / (t + tr),
           (double)leaves / (t + tr) / limit);
    tq_merkle_free(reserved);

    /* appending raw entries adds the leaf hash: three compressions per 40-byte entry */
    small = tq_merkle_new(0);
    t0 = secs();
    for (i = 0; i < 1000000; i++) {
        uint8_t entry[40] = {0};

        memcpy(entry, &i, sizeof(i));
        if (tq_merkle_append_data(small, entry, sizeof(entry), NULL, &err))
            die("append_data", &err);
    }
    t = secs() - t0;
    printf("  append_data (leaf hash included): %.0f leaves/s; ratio to 3 compressions per "
           "leaf %.2f\n",
           1e6 / t, (1e6 / t) / (comp / 3));
    tq_merkle_free(small);

    if (tq_merkle_root(m, leaves, root, &err))
        die("root", &err);
    t0 = secs();
    for (n = 0; secs() - t0 < 0.5; n++)
        if (tq_merkle_root(m, leaves - n % 1000, r1, &err))
            die("root", &err);
    printf("root at a past size: %.0f/s\n", (double)n / (secs() - t0));

    /* (2) inclusion proofs in the full log: generate, then verify what was generated */
    t0 = secs();
    for (n = 0; secs() - t0 < 1.0; n++)
        if (tq_merkle_inclusion(m, rnd() % leaves, leaves, &p, &err))
            die("inclusion", &err);
    printf("inclusion proof generation (%llu leaves): %.0f/s\n", (unsigned long long)leaves,
           (double)n / (secs() - t0));
    idx = rnd() % leaves;
    if (tq_merkle_inclusion(m, idx, leaves, &p, &err) || tq_merkle_hash_get(m, 0, idx, lh, &err))
        die("inclusion", &err);
    for (j = 0; j < p.n; j++)
        s[j] = (struct tq_str){(const char *)p.hash[j], H};
    t0 = secs();
    for (n = 0; secs() - t0 < 1.0; n++)
        if (tq_merkle_verify_inclusion((struct tq_str){(const char *)lh, H}, idx, leaves, s, p.n,
                                       (struct tq_str){(const char *)root, H}, &err))
            die("verify inclusion", &err);
    printf("inclusion proof verification (%zu hashes): %.0f/s\n", p.n, (double)n / (secs() - t0));

    /* consistency proofs from random earlier sizes to the full log */
    t0 = secs();
    for (n = 0; secs() - t0 < 1.0; n++)
        if (tq_merkle_consistency(m, 1 + rnd() % leaves, leaves, &p, &err))
            die("consistency", &err);
    printf("consistency proof generation (size1 random, size2 %llu): %.0f/s\n",
           (unsigned long long)leaves, (double)n / (secs() - t0));
    s1 = 1 + rnd() % (leaves - 1);
    if (tq_merkle_root(m, s1, r1, &err) || tq_merkle_consistency(m, s1, leaves, &p, &err))
        die("consistency", &err);
    for (j = 0; j < p.n; j++)
        s[j] = (struct tq_str){(const char *)p.hash[j], H};
    t0 = secs();
    for (n = 0; secs() - t0 < 1.0; n++)
        if (tq_merkle_verify_consistency(s1, leaves, s, p.n, (struct tq_str){(const char *)r1, H},
                                         (struct tq_str){(const char *)root, H}, &err))
            die("verify consistency", &err);
    printf("consistency proof verification (%zu hashes): %.0f/s\n", p.n, (double)n / (secs() - t0));
    tq_merkle_free(m);
    return 0;
}
