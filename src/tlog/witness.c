/* SPDX-License-Identifier: Apache-2.0
 *
 * tlog/witness.c - the body of a c2sp.org/tlog-witness add-checkpoint request: "old <size>",
 * the consistency proof one canonical base64 hash a line, an empty line, the signed note.
 *
 * Parsing and formatting only; the decision to cosign is audit/witness.c. Pure computation on
 * the caller's bytes, safe from any thread.
 */
#include <inttypes.h>
#include <string.h>

#include "tansiq/tlog.h"

#define HASH_B64_LEN TQ_BASE64_LEN(TQ_MERKLE_HASH_BYTES)

/* ---- the request body ------------------------------------------------------------------- */

/*
 * A proof hash: padded standard base64 of exactly 32 bytes, in its one canonical spelling
 * (re-encoding gives the same text, so non-zero unused bits are refused). out is written even
 * on failure; the caller keeps it only on success.
 */
static bool hash_decode(struct tq_str line, uint8_t out[TQ_MERKLE_HASH_BYTES])
{
    size_t n = 0;

    return line.len == HASH_B64_LEN && tq_base64_decode(line, out, &n) && n == TQ_MERKLE_HASH_BYTES;
}

tq_rc tq_witness_request_parse(struct tq_str body, struct tq_witness_request *out,
                               struct tq_err *err)
{
    struct tq_witness_request *r = NULL;
    struct tq_lines lines = {.text = body};
    struct tq_str line;
    size_t lineno = 1;
    tq_rc rc = TQ_OK;

    if (!out || (!body.ptr && body.len))
        return tq_err_set(err, TQ_EINVAL, "witness request: no body");
    if (body.len > TQ_WITNESS_BODY_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "witness request: body exceeds %u bytes",
                          (unsigned)TQ_WITNESS_BODY_MAX);
    r = tq_xcalloc(1, sizeof(*r));
    if (tq_lines_next(&lines, &line) != TQ_LINE_OK || !tq_str_starts_with(line, "old ") ||
        !tq_str_to_u64((struct tq_str){line.ptr + 4, line.len - 4}, &r->old_size)) {
        rc = tq_err_set(err, TQ_EINVAL,
                        "witness request: line 1: not \"old <size>\" (decimal, no sign or "
                        "leading zero, at most 2^64-1)");
        goto out;
    }
    for (;;) {
        lineno++;
        if (tq_lines_next(&lines, &line) != TQ_LINE_OK) {
            rc = tq_err_set(err, TQ_EINVAL,
                            "witness request: line %zu: no empty line before the checkpoint",
                            lineno);
            goto out;
        }
        if (line.len == 0)
            break;
        if (r->proof.n == TQ_MERKLE_PROOF_MAX) {
            rc = tq_err_set(err, TQ_EINVAL, "witness request: line %zu: more than %d proof hashes",
                            lineno, TQ_MERKLE_PROOF_MAX);
            goto out;
        }
        if (!hash_decode(line, r->proof.hash[r->proof.n])) {
            rc = tq_err_set(err, TQ_EINVAL,
                            "witness request: line %zu: not canonical base64 of a 32-byte hash",
                            lineno);
            goto out;
        }
        r->proof.n++;
    }
    if (lines.off == body.len) {
        rc = tq_err_set(err, TQ_EINVAL, "witness request: no checkpoint after the empty line");
        goto out;
    }
    r->checkpoint = (struct tq_str){body.ptr + lines.off, body.len - lines.off};
    *out = *r;
out:
    tq_free(r);
    return rc;
}

tq_rc tq_witness_request_proof_format(uint64_t old_size, const struct tq_merkle_proof *proof,
                                      struct tq_buf *out)
{
    size_t i, n = proof ? proof->n : 0;
    tq_rc rc;

    rc = tq_buf_printf(out, "old %" PRIu64 "\n", old_size);
    for (i = 0; rc == TQ_OK && i < n; i++) {
        rc = tq_buf_append_base64(out, proof->hash[i], TQ_MERKLE_HASH_BYTES);
        if (rc == TQ_OK)
            rc = tq_buf_append_c(out, "\n");
    }
    return rc;
}

tq_rc tq_witness_request_format(uint64_t old_size, const struct tq_merkle_proof *proof,
                                struct tq_str note, struct tq_buf *out, struct tq_err *err)
{
    size_t start;
    tq_rc rc;

    if (!out || (!note.ptr && note.len))
        return tq_err_set(err, TQ_EINVAL, "witness request: no output or note");
    if (proof && proof->n > TQ_MERKLE_PROOF_MAX)
        return tq_err_set(err, TQ_EINVAL, "witness request: more than %d proof hashes",
                          TQ_MERKLE_PROOF_MAX);
    /* An empty note would make a body the parser refuses. */
    if (note.len == 0)
        return tq_err_set(err, TQ_EINVAL, "witness request: empty checkpoint note");
    start = out->len;
    rc = tq_witness_request_proof_format(old_size, proof, out);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, "\n");
    if (rc == TQ_OK)
        rc = tq_buf_append_str(out, note);
    if (rc) {
        /* out keeps what it had. */
        out->len = start;
        if (out->ptr)
            out->ptr[start] = '\0';
        return tq_err_set(err, rc, "witness request: body does not fit (%s)", tq_rc_str(rc));
    }
    return TQ_OK;
}
