/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_merkle_proof.c - the Merkle proof verifiers and generators.
 *
 * The first byte picks a mode. Modes 0 and 1 read (flags, sizes, hashes, proof) for the
 * inclusion and consistency verifiers, which must agree with a second verifier written here in
 * the style of transparency-dev/merkle (inner/border decomposition instead of RFC 9162's fn/sn
 * loop). Mode 2 builds a tree of up to 300 leaves from the input and compares root, inclusion
 * and consistency proofs with a naive recursive reference (RFC 9162 sections 2.1.1-2.1.4),
 * then checks that every proof verifies and a proof with a flipped bit does not.
 *
 * Layout, modes 0 and 1: mode(1) flags(1) a(8) b(8) hash1(32) hash2(32) proof(32 each; a short
 * tail is a short hash). Flags bit 0 keeps a and b below 1024, bit 1 shortens hash1 to
 * flags >> 3 bytes. Mode 2: mode(1) n(2) x(2) y(2) flip(2) seed(rest).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define H TQ_MERKLE_HASH_BYTES
#define MAX_PROOF (TQ_MERKLE_PROOF_MAX + 4)

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void nh(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
    if (tq_merkle_node_hash(l, r, out, NULL) != TQ_OK)
        abort();
}

/* ---- a second verifier, transparency-dev style -------------------------------------------- */

static unsigned blen(uint64_t x)
{
    unsigned n = 0;

    while (x) {
        n++;
        x >>= 1;
    }
    return n;
}

static unsigned ones(uint64_t x)
{
    unsigned n = 0;

    for (; x; x &= x - 1)
        n++;
    return n;
}

static unsigned tz(uint64_t x)
{
    unsigned n = 0;

    while (n < 64 && !(x >> n & 1))
        n++;
    return n;
}

/* inclusion proof decomposition of index in size: inner and border lengths */
static void decomp(uint64_t index, uint64_t size, unsigned *inner, unsigned *border)
{
    *inner = blen(index ^ (size - 1));
    *border = *inner >= 64 ? 0 : ones(index >> *inner);
}

static void chain_inner(uint8_t *seed, const struct tq_str *p, unsigned n, uint64_t index)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if ((index >> i & 1) == 0)
            nh(seed, (const uint8_t *)p[i].ptr, seed);
        else
            nh((const uint8_t *)p[i].ptr, seed, seed);
    }
}

static void chain_inner_right(uint8_t *seed, const struct tq_str *p, unsigned n, uint64_t index)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (index >> i & 1)
            nh((const uint8_t *)p[i].ptr, seed, seed);
}

static void chain_border_right(uint8_t *seed, const struct tq_str *p, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++)
        nh((const uint8_t *)p[i].ptr, seed, seed);
}

static int all32(const struct tq_str *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i].len != H)
            return 0;
    return 1;
}

static int alt_inclusion(struct tq_str leaf, uint64_t index, uint64_t size, const struct tq_str *p,
                         size_t n, struct tq_str root)
{
    unsigned inner, border;
    uint8_t r[H];

    if (index >= size || leaf.len != H || root.len != H || !all32(p, n))
        return 0;
    decomp(index, size, &inner, &border);
    if (n != (size_t)inner + border)
        return 0;
    memcpy(r, leaf.ptr, H);
    chain_inner(r, p, inner, index);
    chain_border_right(r, p + inner, border);
    return memcmp(r, root.ptr, H) == 0;
}

static int alt_consistency(uint64_t s1, uint64_t s2, const struct tq_str *p, size_t n,
                           struct tq_str r1, struct tq_str r2)
{
    unsigned inner, border, shift, start = 1;
    uint8_t seed[H], h1[H], h2[H];
    uint64_t mask;

    if (s2 < s1 || s1 == 0 || r1.len != H || r2.len != H || !all32(p, n))
        return 0;
    if (s1 == s2)
        return n == 0 && memcmp(r1.ptr, r2.ptr, H) == 0;
    if (n == 0)
        return 0;
    decomp(s1 - 1, s2, &inner, &border);
    shift = tz(s1);
    inner -= shift;
    memcpy(seed, p[0].ptr, H);
    if (s1 == (uint64_t)1 << shift) {
        memcpy(seed, r1.ptr, H);
        start = 0;
    }
    if (n != (size_t)start + inner + border)
        return 0;
    p += start;
    mask = (s1 - 1) >> shift;
    memcpy(h1, seed, H);
    chain_inner_right(h1, p, inner, mask);
    chain_border_right(h1, p + inner, border);
    if (memcmp(h1, r1.ptr, H) != 0)
        return 0;
    memcpy(h2, seed, H);
    chain_inner(h2, p, inner, mask);
    chain_border_right(h2, p + inner, border);
    return memcmp(h2, r2.ptr, H) == 0;
}

static int raw_verifiers(int consistency, const uint8_t *data, size_t size)
{
    struct tq_str proof[MAX_PROOF], h1, h2;
    uint64_t a, b;
    size_t n = 0, l1;
    uint8_t flags;
    int ours, theirs;

    if (size < 2 + 16 + 2 * H)
        return 0;
    flags = data[1];
    a = rd64(data + 2);
    b = rd64(data + 10);
    if (flags & 1) {
        a %= 1024;
        b %= 1024;
    }
    l1 = (flags & 2) ? (size_t)(flags >> 3) : H;
    h1 = (struct tq_str){(const char *)data + 18, l1};
    h2 = (struct tq_str){(const char *)data + 18 + H, H};
    data += 18 + 2 * H;
    size -= 18 + 2 * H;
    while (size > 0 && n < MAX_PROOF) {
        size_t len = size < H ? size : H;

        proof[n++] = (struct tq_str){(const char *)data, len};
        data += len;
        size -= len;
    }
    if (consistency) {
        ours = tq_merkle_verify_consistency(a, b, proof, n, h1, h2, NULL) == TQ_OK;
        theirs = alt_consistency(a, b, proof, n, h1, h2);
    } else {
        ours = tq_merkle_verify_inclusion(h1, a, b, proof, n, h2, NULL) == TQ_OK;
        theirs = alt_inclusion(h1, a, b, proof, n, h2);
    }
    if (ours != theirs)
        abort();
    return 0;
}

/* ---- naive reference, RFC 9162 sections 2.1.1-2.1.4 ---------------------------------------- */

static uint64_t kk(uint64_t n)
{
    uint64_t k = 1;

    while (k * 2 < n)
        k *= 2;
    return k;
}

static void mth(const uint8_t (*d)[H], uint64_t n, uint8_t *out)
{
    uint8_t l[H], r[H];

    if (n == 0) {
        tq_merkle_empty_root(out);
    } else if (n == 1) {
        memcpy(out, d[0], H);
    } else {
        mth(d, kk(n), l);
        mth(d + kk(n), n - kk(n), r);
        nh(l, r, out);
    }
}

static void path(uint64_t m, const uint8_t (*d)[H], uint64_t n, struct tq_merkle_proof *p)
{
    uint64_t k = kk(n);

    if (n == 1)
        return;
    if (m < k) {
        path(m, d, k, p);
        mth(d + k, n - k, p->hash[p->n++]);
    } else {
        path(m - k, d + k, n - k, p);
        mth(d, k, p->hash[p->n++]);
    }
}

static void subproof(uint64_t m, const uint8_t (*d)[H], uint64_t n, int b,
                     struct tq_merkle_proof *p)
{
    uint64_t k;

    if (m == n) {
        if (!b)
            mth(d, n, p->hash[p->n++]);
        return;
    }
    k = kk(n);
    if (m <= k) {
        subproof(m, d, k, b, p);
        mth(d + k, n - k, p->hash[p->n++]);
    } else {
        subproof(m - k, d + k, n - k, 0, p);
        mth(d, k, p->hash[p->n++]);
    }
}

static void same(const struct tq_merkle_proof *a, const struct tq_merkle_proof *b)
{
    if (a->n != b->n || memcmp(a->hash, b->hash, a->n * H) != 0)
        abort();
}

static void as_strs(const struct tq_merkle_proof *p, struct tq_str *s)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        s[i] = (struct tq_str){(const char *)p->hash[i], H};
}

#define S(h) ((struct tq_str){(const char *)(h), H})

static int differential(const uint8_t *data, size_t size)
{
    static uint8_t d[300][H];
    struct tq_merkle_proof p, want;
    struct tq_str s[TQ_MERKLE_PROOF_MAX];
    uint8_t r1[H], r2[H], got[H];
    struct tq_merkle *m;
    uint64_t n, idx, s1, i;
    unsigned flip;

    if (size < 9)
        return 0;
    n = 1 + ((uint64_t)data[1] << 8 | data[2]) % 300;
    idx = ((uint64_t)data[3] << 8 | data[4]) % n;
    s1 = 1 + ((uint64_t)data[5] << 8 | data[6]) % n;
    flip = (unsigned)data[7] << 8 | data[8];
    m = tq_merkle_new(0);
    for (i = 0; i < n; i++) {
        uint8_t in[9];

        in[0] = (uint8_t)i;
        in[1] = (uint8_t)(i >> 8);
        memset(in + 2, size > 9 ? data[9 + i % (size - 9)] : 0, 7);
        if (tq_merkle_append_data(m, in, sizeof(in), d[i], NULL) != TQ_OK)
            abort();
    }
    mth((const uint8_t(*)[H])d, n, r2);
    mth((const uint8_t(*)[H])d, s1, r1);
    if (tq_merkle_root(m, n, got, NULL) != TQ_OK || memcmp(got, r2, H) != 0)
        abort();
    if (tq_merkle_root(m, s1, got, NULL) != TQ_OK || memcmp(got, r1, H) != 0)
        abort();

    /* inclusion of idx in n */
    want.n = 0;
    path(idx, (const uint8_t(*)[H])d, n, &want);
    if (tq_merkle_inclusion(m, idx, n, &p, NULL) != TQ_OK)
        abort();
    same(&p, &want);
    as_strs(&p, s);
    if (tq_merkle_verify_inclusion(S(d[idx]), idx, n, s, p.n, S(r2), NULL) != TQ_OK)
        abort();
    if (p.n) {
        p.hash[flip % p.n][(flip >> 8) % H] ^= (uint8_t)(1u << (flip % 8));
        if (tq_merkle_verify_inclusion(S(d[idx]), idx, n, s, p.n, S(r2), NULL) == TQ_OK)
            abort();
    }

    /* consistency from s1 to n */
    want.n = 0;
    subproof(s1, (const uint8_t(*)[H])d, n, 1, &want);
    if (tq_merkle_consistency(m, s1, n, &p, NULL) != TQ_OK)
        abort();
    same(&p, &want);
    as_strs(&p, s);
    if (tq_merkle_verify_consistency(s1, n, s, p.n, S(r1), S(r2), NULL) != TQ_OK)
        abort();
    if (p.n) {
        p.hash[flip % p.n][(flip >> 8) % H] ^= (uint8_t)(1u << (flip % 8));
        if (tq_merkle_verify_consistency(s1, n, s, p.n, S(r1), S(r2), NULL) == TQ_OK)
            abort();
    }
    tq_merkle_free(m);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        return raw_verifiers(0, data, size);
    case 1:
        return raw_verifiers(1, data, size);
    default:
        return differential(data, size);
    }
}
