/* SPDX-License-Identifier: Apache-2.0
 *
 * correl/wallet.c - cryptocurrency addresses: Base58Check, bech32/bech32m and Ethereum.
 *
 * An address is accepted only when its checksum holds, so a mistyped address never meets a
 * real one: Base58Check (double SHA-256, core's tq_sha256) for Bitcoin, Litecoin, Dogecoin and
 * Tron (the usual carrier of USDT in the region); BIP-173/BIP-350 for segwit addresses; EIP-55
 * for Ethereum addresses written in mixed case. Keccak-256 is here because OpenSSL 3.0 offers
 * only SHA3-256, whose padding differs. Monero is not read yet (docs/internals/correl.md).
 */
#include <string.h>

#include "correl/correl.h"

/* ---- Keccak-256 ------------------------------------------------------------------------- */

static const uint64_t keccak_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
static const unsigned keccak_rotc[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                         27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned keccak_piln[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                         15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static uint64_t rotl64(uint64_t x, unsigned n)
{
    return x << n | x >> (64 - n);
}

static void keccak_f1600(uint64_t st[25])
{
    uint64_t bc[5], t;

    for (int r = 0; r < 24; r++) {
        for (int i = 0; i < 5; i++)
            bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
        for (int i = 0; i < 5; i++) {
            t = bc[(i + 4) % 5] ^ rotl64(bc[(i + 1) % 5], 1);
            for (int j = 0; j < 25; j += 5)
                st[j + i] ^= t;
        }
        t = st[1];
        for (int i = 0; i < 24; i++) {
            unsigned j = keccak_piln[i];

            bc[0] = st[j];
            st[j] = rotl64(t, keccak_rotc[i]);
            t = bc[0];
        }
        for (int j = 0; j < 25; j += 5) {
            for (int i = 0; i < 5; i++)
                bc[i] = st[j + i];
            for (int i = 0; i < 5; i++)
                st[j + i] ^= ~bc[(i + 1) % 5] & bc[(i + 2) % 5];
        }
        st[0] ^= keccak_rc[r];
    }
}

static void keccak_xor_byte(uint64_t st[25], size_t pos, uint8_t b)
{
    st[pos / 8] ^= (uint64_t)b << (8 * (pos % 8)); /* lanes are little-endian */
}

void tq__correl_keccak256(const void *data, size_t len, uint8_t out[32])
{
    enum { RATE = 136 };
    const uint8_t *p = data;
    uint64_t st[25] = {0};
    size_t pos = 0;

    for (size_t i = 0; i < len; i++) {
        keccak_xor_byte(st, pos++, p[i]);
        if (pos == RATE) {
            keccak_f1600(st);
            pos = 0;
        }
    }
    keccak_xor_byte(st, pos, 0x01);
    keccak_xor_byte(st, RATE - 1, 0x80);
    keccak_f1600(st);
    for (size_t i = 0; i < 32; i++)
        out[i] = (uint8_t)(st[i / 8] >> (8 * (i % 8)));
}

/* ---- Ethereum --------------------------------------------------------------------------- */

static bool eth_normalise(const char *in, size_t len, char out[TQ_CORREL_VALUE_MAX])
{
    bool has_lower = false, has_upper = false;
    char low[40];
    uint8_t h[32];

    if (len != 42 || in[0] != '0' || (in[1] != 'x' && in[1] != 'X'))
        return false;
    for (size_t i = 0; i < 40; i++) {
        char c = in[2 + i];

        if (tq_hex_digit(c) < 0)
            return false;
        has_lower |= c >= 'a' && c <= 'f';
        has_upper |= c >= 'A' && c <= 'F';
        low[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
    }
    if (has_lower && has_upper) {
        /* EIP-55: a letter is upper-case exactly when its nibble of the hash is 8 or more. */
        tq__correl_keccak256(low, sizeof(low), h);
        for (size_t i = 0; i < 40; i++) {
            int nib = i % 2 ? h[i / 2] & 0x0f : h[i / 2] >> 4;
            char c = in[2 + i];

            if (c >= 'a' && c <= 'f' && nib >= 8)
                return false;
            if (c >= 'A' && c <= 'F' && nib < 8)
                return false;
        }
    }
    out[0] = '0';
    out[1] = 'x';
    memcpy(out + 2, low, 40);
    out[42] = '\0';
    return true;
}

/* ---- Base58Check ------------------------------------------------------------------------ */

#define B58_PAYLOAD 21 /* version byte + 20-byte hash */
#define B58_TOTAL (B58_PAYLOAD + 4)

static int b58_value(char c)
{
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    const char *p = c ? strchr(alphabet, c) : NULL;

    return p ? (int)(p - alphabet) : -1;
}

static bool b58_normalise(const char *in, size_t len, char out[TQ_CORREL_VALUE_MAX])
{
    /* Version bytes: Bitcoin P2PKH and P2SH, Litecoin L and M, Dogecoin D and A, Tron T. */
    static const uint8_t versions[] = {0x00, 0x05, 0x30, 0x32, 0x1e, 0x16, 0x41};
    uint8_t b[40] = {0}, digest[TQ_SHA256_BYTES];
    size_t zeros = 0, start = 0, total;

    if (len < 26 || len > 35)
        return false;
    for (size_t i = 0; i < len; i++) {
        int v = b58_value(in[i]);
        unsigned carry;

        if (v < 0)
            return false;
        carry = (unsigned)v;
        for (size_t j = sizeof(b); j-- > 0;) {
            carry += 58u * b[j];
            b[j] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry)
            return false;
    }
    while (zeros < len && in[zeros] == '1')
        zeros++;
    while (start < sizeof(b) && b[start] == 0)
        start++;
    total = zeros + sizeof(b) - start;
    if (total != B58_TOTAL || start < zeros)
        return false;
    start -= zeros; /* the leading '1's are leading zero bytes */
    if (!memchr(versions, b[start], sizeof(versions)))
        return false;
    tq_sha256(b + start, B58_PAYLOAD, digest);
    tq_sha256(digest, sizeof(digest), digest);
    if (memcmp(digest, b + start + B58_PAYLOAD, 4) != 0)
        return false;
    memcpy(out, in, len);
    out[len] = '\0';
    return true;
}

/* ---- bech32 / bech32m ------------------------------------------------------------------- */

#define BECH32_MAX 90
#define BECH32_CONST 1u
#define BECH32M_CONST 0x2bc830a3u

static uint32_t bech32_polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t top = chk >> 25;

    chk = (chk & 0x1ffffff) << 5 ^ v;
    for (int i = 0; i < 5; i++)
        if (top >> i & 1)
            chk ^= gen[i];
    return chk;
}

static bool bech32_normalise(const char *in, size_t len, char out[TQ_CORREL_VALUE_MAX])
{
    static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    char low[BECH32_MAX + 1];
    uint8_t data[BECH32_MAX], prog[64];
    bool has_lower = false, has_upper = false;
    size_t sep = 0, nd = 0, np = 0, hrp_len;
    uint32_t chk = 1, acc = 0;
    unsigned bits = 0;

    if (len < 8 || len > BECH32_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];

        if (c < 33 || c > 126)
            return false;
        has_lower |= c >= 'a' && c <= 'z';
        has_upper |= c >= 'A' && c <= 'Z';
        low[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        if (low[i] == '1')
            sep = i;
    }
    low[len] = '\0';
    if (has_lower && has_upper) /* BIP-173: mixed case is invalid */
        return false;
    hrp_len = sep;
    if (!((hrp_len == 2 && memcmp(low, "bc", 2) == 0) ||
          (hrp_len == 3 && memcmp(low, "ltc", 3) == 0)))
        return false;
    if (len - sep - 1 < 7) /* witness version + at least one program symbol + 6 checksum */
        return false;
    for (size_t i = 0; i < hrp_len; i++)
        chk = bech32_polymod_step(chk, (uint8_t)(low[i] >> 5));
    chk = bech32_polymod_step(chk, 0);
    for (size_t i = 0; i < hrp_len; i++)
        chk = bech32_polymod_step(chk, (uint8_t)(low[i] & 31));
    for (size_t i = sep + 1; i < len; i++) {
        const char *p = strchr(charset, low[i]);

        if (!p)
            return false;
        data[nd] = (uint8_t)(p - charset);
        chk = bech32_polymod_step(chk, data[nd++]);
    }
    if (data[0] > 16)
        return false;
    if (chk != (data[0] == 0 ? BECH32_CONST : BECH32M_CONST))
        return false;
    for (size_t i = 1; i < nd - 6; i++) {
        acc = (acc << 5 | data[i]) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (np == sizeof(prog))
                return false;
            prog[np++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 5 || (acc << (8 - bits) & 0xff) != 0)
        return false; /* padding must be short and zero */
    if (np < 2 || np > 40 || (data[0] == 0 && np != 20 && np != 32))
        return false;
    memcpy(out, low, len + 1);
    return true;
}

bool tq__correl_wallet_normalise(const char *in, size_t len, char out[TQ_CORREL_VALUE_MAX])
{
    if (len >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
        return eth_normalise(in, len, out);
    if (len >= 3 && (in[2] == '1' || (len >= 4 && in[3] == '1')))
        if (bech32_normalise(in, len, out))
            return true;
    return b58_normalise(in, len, out);
}
