/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/tlog.h - the transparency-log module: the Merkle tree (merkle.h), signed notes and
 * checkpoints (note.h), tlog-proof files (proof.h), and here the body of a c2sp.org/tlog-witness
 * add-checkpoint request, which a log sends to a witness and the witness parses.
 *
 * Everything in the module is pure computation on the caller's bytes, built on core alone: no
 * store, no network, safe from any thread. The node's own log and its witness decisions are
 * the audit module (audit.h, witness.h).
 */
#ifndef TANSIQ_TLOG_H
#define TANSIQ_TLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/merkle.h"
#include "tansiq/note.h"
#include "tansiq/proof.h"

/* ---- the add-checkpoint request body ---------------------------------------------------- */

/* Largest add-checkpoint request body: the old line, 65 proof lines, a blank line, a note. */
#define TQ_WITNESS_BODY_MAX (TQ_NOTE_MAX_BYTES + 4096)

/*
 * "old <size>\n", then zero or more consistency proof hashes, one standard padded base64 line
 * each, then an empty line, then the checkpoint as a signed note.
 */
struct tq_witness_request {
    uint64_t old_size;
    struct tq_merkle_proof proof;
    struct tq_str checkpoint; /* the signed note, borrowed from the body */
};

/*
 * Parse a request body (at most TQ_WITNESS_BODY_MAX bytes, else TQ_ETOOBIG). TQ_EINVAL with the
 * line at fault: a missing or malformed old line (decimal, no sign, no leading zeros, up to
 * 2^64-1), a hash line that is not canonical base64 of exactly 32 bytes, more than
 * TQ_MERKLE_PROOF_MAX of them, no empty line, an empty note. The note itself is parsed later
 * (tq_checkpoint_open). *out is written only on TQ_OK; its checkpoint borrows from body.
 */
tq_rc tq_witness_request_parse(struct tq_str body, struct tq_witness_request *out,
                               struct tq_err *err);
/*
 * Append the request body for (old_size, proof, note) to out (proof NULL: none). TQ_EINVAL for
 * what the parser would refuse (more than TQ_MERKLE_PROOF_MAX hashes, an empty note); TQ_ETOOBIG
 * when out is full, which then keeps what it had.
 */
tq_rc tq_witness_request_format(uint64_t old_size, const struct tq_merkle_proof *proof,
                                struct tq_str note, struct tq_buf *out, struct tq_err *err);
/*
 * Append the proof part of a request body, "old <old_size>\n" and one base64 line per hash of
 * proof (NULL: none), without the empty line and the note: the form in which a witness keeps
 * the proof of an alarm. What tq_buf_append returns; out may hold part of it on failure.
 */
tq_rc tq_witness_request_proof_format(uint64_t old_size, const struct tq_merkle_proof *proof,
                                      struct tq_buf *out);

#endif
