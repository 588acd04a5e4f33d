/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_psi_message.c - PSI messages from untrusted bytes.
 *
 * The input is parsed as a PSI message with small limits (so that a huge declared count is
 * refused before any work) and with the defaults. Whatever parses must hold only canonical,
 * non-identity, pairwise distinct points, with counts that add up to the input's length; its
 * header written back must give the input's first 36 bytes. A parsed request is also answered
 * by a responder holding a small fixed list, and the response must parse; any other message
 * is offered to a fresh responder, which must refuse it without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tansiq/psi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define P TQ_PSI_POINT_BYTES

static void check_message(const struct tq_psi_message *m, const uint8_t *data, size_t size)
{
    size_t i, j, n;

    if (size != TQ_PSI_HEADER_BYTES + ((size_t)m->n_points_a + m->n_points_b) * P)
        abort();
    if (memcmp(data, "TQPS", 4) != 0 || data[4] != TQ_PSI_VERSION || data[5] != m->type ||
        data[6] != m->mode || data[7] != m->keys_per_entry ||
        memcmp(data + 8, m->session_id, TQ_PSI_SESSION_ID_BYTES) != 0)
        abort();
    if (m->mode == TQ_PSI_MODE_CARDINALITY && m->keys_per_entry == 0)
        abort();
    for (int list = 0; list < 2; list++) {
        const uint8_t *pts = list ? m->points_b : m->points_a;

        n = list ? m->n_points_b : m->n_points_a;
        for (i = 0; i < n; i++) {
            if (sodium_is_zero(pts + i * P, P) || (pts[i * P + P - 1] & 0x80) ||
                crypto_core_ristretto255_is_valid_point(pts + i * P) != 1)
                abort();
            for (j = i + 1; j < n && n <= 64; j++) /* pairwise only for small lists */
                if (memcmp(pts + i * P, pts + j * P, P) == 0)
                    abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tq_str keys[3] = {{"jln", 3}, {"bkr bghdd", 9}, {"zrqw", 4}};
    static const struct tq_psi_entry entries[2] = {{&keys[0], 2}, {&keys[2], 1}};
    struct tq_psi_limits small = {.max_entries = 64, .max_points = 256, .threads = 1};
    struct tq_str in = {(const char *)data, size};
    struct tq_psi_message m, m2;
    struct tq_psi_session *s;
    struct tq_err err;
    struct tq_buf out;
    tq_rc rc;

    rc = tq_psi_message_parse(in, &small, &m, &err);
    if (rc == TQ_OK)
        check_message(&m, data, size);
    else if (rc != TQ_EINVAL && rc != TQ_ETOOBIG)
        abort();
    if (tq_psi_message_parse(in, NULL, &m2, &err) == TQ_OK) {
        check_message(&m2, data, size);
    } else if (rc == TQ_OK) {
        abort(); /* the defaults are wider than the small limits */
    }
    if (rc != TQ_OK)
        return 0;

    s = tq_psi_session_new(TQ_PSI_RESPONDER, &small);
    tq_buf_init(&out, 1u << 20);
    rc = tq_psi_respond(s, in, entries, 2, &out, &err);
    if (m.type == TQ_PSI_MSG_REQUEST) {
        /* the fixed list fits any padding but 1 (entry 0 has two keys) */
        if (rc == TQ_OK) {
            if (tq_psi_message_parse((struct tq_str){out.ptr, out.len}, &small, &m2, &err) != 0 ||
                m2.type != TQ_PSI_MSG_RESPONSE || m2.n_points_a != m.n_points_a)
                abort();
        } else if (!(rc == TQ_ETOOBIG && m.keys_per_entry == 1)) {
            abort();
        }
    } else if (rc != TQ_EINVAL) {
        abort();
    }
    tq_buf_cleanup(&out);
    tq_psi_session_free(s);
    return 0;
}
