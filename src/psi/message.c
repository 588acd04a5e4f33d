/* SPDX-License-Identifier: Apache-2.0
 *
 * psi/message.c - the PSI wire format: a fixed 36-byte header, then raw 32-byte points.
 *
 *   0  "TQPS"                      4  version (1)     5  type (1 request, 2 response, 3 final)
 *   6  mode (1 matches, 2 cardinality)                7  keys per entry (0, or 1..16)
 *   8  session id (16 bytes)
 *  24  entries (u32, big-endian)  28  points in list A (u32)  32  points in list B (u32)
 *  36  list A, then list B, 32 bytes a point
 *
 * The parser is the first thing a peer's bytes meet, so it checks everything it can before
 * any multiplication: counts within limits and consistent with the length and with each
 * other, every point a canonical ristretto255 encoding, never the identity, and no point twice
 * in a list (an honest sender never repeats one, and a repeated point would let a peer count
 * one key twice).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "psi/psi.h"

#define P TQ_PSI_POINT_BYTES

void tq__psi_limits_fill(const struct tq_psi_limits *in, struct tq_psi_limits *out)
{
    *out = in ? *in : (struct tq_psi_limits){0};
    if (!out->max_entries || out->max_entries > UINT32_MAX)
        out->max_entries = TQ_PSI_DEFAULT_MAX_ENTRIES;
    if (!out->max_points || out->max_points > UINT32_MAX)
        out->max_points = TQ_PSI_DEFAULT_MAX_POINTS;
    if (!out->max_key_bytes)
        out->max_key_bytes = TQ_PSI_DEFAULT_MAX_KEY_BYTES;
    if (!out->threads)
        out->threads = 2;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

tq_rc tq__psi_header_write(struct tq_buf *out, const struct tq_psi_message *m, struct tq_err *err)
{
    uint8_t h[TQ_PSI_HEADER_BYTES];

    memcpy(h, TQ__PSI_MAGIC, 4);
    h[4] = TQ_PSI_VERSION;
    h[5] = (uint8_t)m->type;
    h[6] = (uint8_t)m->mode;
    h[7] = (uint8_t)m->keys_per_entry;
    memcpy(h + 8, m->session_id, TQ_PSI_SESSION_ID_BYTES);
    put_u32(h + 24, m->n_entries);
    put_u32(h + 28, m->n_points_a);
    put_u32(h + 32, m->n_points_b);
    if (tq_buf_append(out, h, sizeof(h)))
        return tq_err_set(err, TQ_ETOOBIG, "psi: message over the output buffer's limit");
    return TQ_OK;
}

/* ---- point checks ---------------------------------------------------------------------- */

struct check_ctx {
    const uint8_t *pts;
};

/*
 * A canonical ristretto255 encoding (RFC 9496 section 4.3.1) that is not the identity (whose
 * encoding is all zero bytes). libsodium 1.0.18's check ignores the top bit of the last byte,
 * so two spellings of one point would pass it and escape the duplicate check; the bit is
 * tested here.
 */
static bool point_ok(const uint8_t *p)
{
    return !(p[P - 1] & 0x80) && !sodium_is_zero(p, P) &&
           crypto_core_ristretto255_is_valid_point(p) == 1;
}

/* Counts the points that point_ok refuses. */
static size_t check_points(void *arg, size_t begin, size_t end)
{
    const struct check_ctx *c = arg;
    size_t i, bad = 0;

    for (i = begin; i < end; i++) {
        if (!point_ok(c->pts + i * P))
            bad++;
    }
    return bad;
}

/* The first bad point, searched again on one thread so that the error can name it. */
static size_t first_bad_point(const uint8_t *pts, size_t n, bool *identity)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const uint8_t *p = pts + i * P;

        *identity = sodium_is_zero(p, P);
        if (!point_ok(p))
            break;
    }
    return i;
}

int tq__psi_point_cmp(const void *a, const void *b)
{
    return memcmp(a, b, P);
}

static bool has_duplicate(const uint8_t *pts, size_t n)
{
    uint8_t *copy;
    bool dup = false;
    size_t i;

    if (n < 2)
        return false;
    copy = tq_xmalloc(n * P);
    memcpy(copy, pts, n * P);
    qsort(copy, n, P, tq__psi_point_cmp);
    for (i = 1; i < n && !dup; i++)
        dup = memcmp(copy + (i - 1) * P, copy + i * P, P) == 0;
    tq_free(copy);
    return dup;
}

static tq_rc check_list(const char *name, const uint8_t *pts, size_t n, unsigned threads,
                        struct tq_err *err)
{
    struct check_ctx c = {pts};

    if (tq__psi_parallel(threads, n, check_points, &c)) {
        bool identity = false;
        size_t i = first_bad_point(pts, n, &identity);

        return tq_err_set(err, TQ_EINVAL, "psi: point %zu of list %s is %s", i, name,
                          identity ? "the identity" : "not a canonical ristretto255 encoding");
    }
    if (has_duplicate(pts, n))
        return tq_err_set(err, TQ_EINVAL, "psi: list %s holds the same point twice", name);
    return TQ_OK;
}

/* ---- the parser -------------------------------------------------------------------------- */

tq_rc tq_psi_message_parse(struct tq_str in, const struct tq_psi_limits *limits,
                           struct tq_psi_message *out, struct tq_err *err)
{
    const uint8_t *b = (const uint8_t *)in.ptr;
    struct tq_psi_limits lim;
    struct tq_psi_message m = {0};
    uint64_t want;
    tq_rc rc;

    tq_sodium_init();
    tq__psi_limits_fill(limits, &lim);
    if (in.len < TQ_PSI_HEADER_BYTES)
        return tq_err_set(err, TQ_EINVAL, "psi: truncated message: %zu bytes, the header needs %d",
                          in.len, TQ_PSI_HEADER_BYTES);
    if (memcmp(b, TQ__PSI_MAGIC, 4) != 0)
        return tq_err_set(err, TQ_EINVAL, "psi: not a PSI message (bad magic)");
    if (b[4] != TQ_PSI_VERSION)
        return tq_err_set(err, TQ_EINVAL, "psi: unsupported version %u (this node speaks %d)", b[4],
                          TQ_PSI_VERSION);
    if (b[5] < TQ_PSI_MSG_REQUEST || b[5] > TQ_PSI_MSG_FINAL)
        return tq_err_set(err, TQ_EINVAL, "psi: unknown message type %u", b[5]);
    if (b[6] != TQ_PSI_MODE_MATCHES && b[6] != TQ_PSI_MODE_CARDINALITY)
        return tq_err_set(err, TQ_EINVAL, "psi: unknown mode %u", b[6]);
    if (b[7] > TQ_PSI_MAX_KEYS_PER_ENTRY)
        return tq_err_set(err, TQ_EINVAL, "psi: %u keys per entry, at most %d", b[7],
                          TQ_PSI_MAX_KEYS_PER_ENTRY);
    if (b[6] == TQ_PSI_MODE_CARDINALITY && b[7] == 0)
        return tq_err_set(err, TQ_EINVAL, "psi: cardinality mode needs padded entries");
    m.type = b[5];
    m.mode = b[6];
    m.keys_per_entry = b[7];
    memcpy(m.session_id, b + 8, TQ_PSI_SESSION_ID_BYTES);
    m.n_entries = get_u32(b + 24);
    m.n_points_a = get_u32(b + 28);
    m.n_points_b = get_u32(b + 32);

    if (m.n_entries > lim.max_entries)
        return tq_err_set(err, TQ_ETOOBIG, "psi: %" PRIu32 " entries, the limit is %zu",
                          m.n_entries, lim.max_entries);
    if (m.n_points_a > lim.max_points || m.n_points_b > lim.max_points)
        return tq_err_set(err, TQ_ETOOBIG, "psi: %" PRIu32 " points in one list, the limit is %zu",
                          m.n_points_a > m.n_points_b ? m.n_points_a : m.n_points_b,
                          lim.max_points);
    if (m.type != TQ_PSI_MSG_RESPONSE && m.n_points_b)
        return tq_err_set(err, TQ_EINVAL, "psi: only a response carries a second list");
    if (m.type == TQ_PSI_MSG_FINAL && m.n_entries)
        return tq_err_set(err, TQ_EINVAL, "psi: a final message declares no entries");
    if (m.keys_per_entry) {
        uint64_t own = m.type == TQ_PSI_MSG_REQUEST ? m.n_points_a : m.n_points_b;

        if (m.type != TQ_PSI_MSG_FINAL && own != (uint64_t)m.n_entries * m.keys_per_entry)
            return tq_err_set(err, TQ_EINVAL,
                              "psi: %" PRIu64 " points for %" PRIu32 " entries of %u keys", own,
                              m.n_entries, m.keys_per_entry);
        if (m.n_points_a % m.keys_per_entry)
            return tq_err_set(err, TQ_EINVAL,
                              "psi: %" PRIu32 " points are not whole entries of %u keys",
                              m.n_points_a, m.keys_per_entry);
    }

    want = TQ_PSI_HEADER_BYTES + ((uint64_t)m.n_points_a + m.n_points_b) * P;
    if (in.len < want)
        return tq_err_set(err, TQ_EINVAL,
                          "psi: truncated message: %zu bytes, its counts need %" PRIu64, in.len,
                          want);
    if (in.len > want)
        return tq_err_set(err, TQ_EINVAL, "psi: %" PRIu64 " bytes after the last point",
                          in.len - want);
    m.points_a = b + TQ_PSI_HEADER_BYTES;
    m.points_b = m.points_a + (size_t)m.n_points_a * P;
    rc = check_list("A", m.points_a, m.n_points_a, lim.threads, err);
    if (!rc)
        rc = check_list("B", m.points_b, m.n_points_b, lim.threads, err);
    if (rc)
        return rc;
    *out = m;
    return TQ_OK;
}
