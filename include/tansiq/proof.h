/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/proof.h - offline proofs of audit log entries in the C2SP tlog-proof@v1 format.
 *
 * A proof block (c2sp.org/tlog-proof) is text:
 *
 *     c2sp.org/tlog-proof@v1
 *     extra <standard padded base64>      (optional)
 *     index <decimal>
 *     <base64 hash>                        (zero or more, the inclusion proof, at most 64)
 *                                          (an empty line)
 *     <the checkpoint, a signed note, verbatim>
 *
 * In tansiq the logged entry of a leaf is its commitment SHA-256(salt || record), so a block's
 * extra is the leaf's opening, salt (32 bytes) || record (the JCS text of the event): the
 * verifier recomputes the commitment and the leaf hash from it and checks inclusion against the
 * checkpoint's root. A proof file is one or more complete blocks one after the other, each valid
 * on its own, so that any block can be cut out and handed on. A checkpoint's text lines are never
 * empty, so its text ends at the first empty line after it begins; its signature lines ("— "
 * U+2014 and a space) follow, and the next block starts with the header line.
 *
 * Parsing is strict, so that a proof has exactly one spelling: canonical base64, decimals
 * without leading zeros up to 2^64-1, 32-byte hashes, index < checkpoint size, a note that
 * parses as a checkpoint, at most TQ_PROOF_FILE_MAX bytes, TQ_PROOF_BLOCKS_MAX blocks and
 * TQ_PROOF_EXTRA_MAX bytes of extra data. Every refusal is TQ_EINVAL with a reason naming the
 * block and the line. Formatting a parsed file gives back its input byte for byte.
 *
 * Parsing, formatting and verification are pure computation: no I/O, safe from any thread.
 * Building proofs from the node's log is tq_proof_build (audit.h).
 * docs/internals/audit.md ("Proofs") says what a proof reveals and what it does not.
 */
#ifndef TANSIQ_PROOF_H
#define TANSIQ_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/merkle.h"
#include "tansiq/note.h"

#define TQ_PROOF_HEADER "c2sp.org/tlog-proof@v1"
#define TQ_PROOF_FILE_MAX (1024u * 1024u) /* bytes of a proof file */
#define TQ_PROOF_BLOCKS_MAX 256           /* blocks in a proof file */
#define TQ_PROOF_EXTRA_MAX (64u * 1024u)  /* decoded bytes of one block's extra data */
#define TQ_PROOF_SALT_BYTES 32            /* the salt that starts a tansiq opening */

/* ---- the format ----------------------------------------------------------------------- */

/*
 * One block. Every pointer is borrowed: from the parsed file (tq_proof_parse), or from the
 * caller's data when a block is put together to be formatted.
 */
struct tq_proof_block {
    bool has_extra;
    const uint8_t *extra; /* decoded extra data (has_extra), may be empty */
    size_t extra_len;
    uint64_t index;
    const uint8_t (*hashes)[TQ_MERKLE_HASH_BYTES]; /* the inclusion proof, leaf side first */
    size_t n_hashes;                               /* <= TQ_MERKLE_INCLUSION_MAX */
    struct tq_str checkpoint; /* the signed note, verbatim, final newline included */
};

/* A parsed proof file: n >= 1 blocks in file order, borrowing from the file's own memory. */
struct tq_proof_file {
    struct tq_proof_block *blocks;
    size_t n;
    /* private: owned storage */
    char *text;
    uint8_t *mem;
};

/*
 * Parse a proof file of one or more blocks. Each block's checkpoint must parse as a signed
 * note and a checkpoint (signatures are not verified here) whose size exceeds the index; the
 * inclusion proof's length is checked by tq_proof_verify. On TQ_OK *out is new
 * (tq_proof_file_free) and holds its own copy of text. TQ_EINVAL otherwise, the reason naming
 * the block and the line of the file ("block 2, line 9: ...").
 */
tq_rc tq_proof_parse(struct tq_str text, struct tq_proof_file **out, struct tq_err *err);
void tq_proof_file_free(struct tq_proof_file *f); /* NULL is a no-op */

/*
 * Append one block's text to out. TQ_EINVAL when the block could not be parsed back (more than
 * TQ_MERKLE_INCLUSION_MAX hashes, extra data past TQ_PROOF_EXTRA_MAX, a checkpoint that is empty
 * or does not end in a newline); TQ_ETOOBIG when out is full. out keeps what it had on failure.
 */
tq_rc tq_proof_block_format(const struct tq_proof_block *b, struct tq_buf *out, struct tq_err *err);
/* Append every block of f, in order (as tq_proof_block_format). */
tq_rc tq_proof_format(const struct tq_proof_file *f, struct tq_buf *out, struct tq_err *err);

/* ---- verification --------------------------------------------------------------------- */

/* A verified cosignature (cosignature/v1) on a block's checkpoint. */
struct tq_proof_cosig {
    char *name;
    uint64_t time_s; /* the time the cosigner attests, POSIX seconds */
};

/*
 * What one verified block shows: the checkpoint, and the record of the leaf. Record members
 * that are absent are NULL; strings are copies owned by the report.
 */
struct tq_proof_entry {
    uint64_t index;
    char *origin; /* the checkpoint's origin, the name of the log key that signed it */
    uint64_t size;
    uint8_t root[TQ_MERKLE_HASH_BYTES];
    struct tq_proof_cosig *cosigs; /* by the given witness keys, in note order */
    size_t n_cosigs;

    char *record; /* the record text as logged (JCS) */
    char *kind;   /* "stored", "released", "read", ... */
    char *time;   /* RFC 3339, as recorded */
    int64_t time_us;
    char *collection;
    char *object;   /* NULL for a read that names versions by date_added */
    char *version;  /* NULL for an unversioned object, or a read by date_added */
    char *sha256;   /* hex SHA-256 of the version's JCS form, or NULL */
    char *partner;  /* NULL for "stored" */
    int64_t *added; /* a read: date_added of every version given, which are "stored" times */
    size_t n_added;
};

enum tq_proof_fact_kind {
    TQ_PROOF_FACT_STORED = 0,    /* the node stored the version */
    TQ_PROOF_FACT_RELEASED = 1,  /* the version was released to partner */
    TQ_PROOF_FACT_WITHDRAWN = 2, /* the release to partner was withdrawn */
    TQ_PROOF_FACT_RECEIVED = 3,  /* partner received the version in a response */
};

/*
 * A statement the verified blocks prove, alone or together. A read names the versions it gave
 * by their date_added, so "partner received X" is proved by the read block with the stored
 * block whose time is in its added list. Strings are borrowed from the report's entries.
 */
struct tq_proof_fact {
    enum tq_proof_fact_kind kind;
    const char *partner; /* NULL for STORED */
    const char *collection;
    const char *object;
    const char *version; /* may be NULL */
    const char *sha256;  /* may be NULL */
    const char *time;    /* when it happened: the event's own record time */
    size_t entry;        /* the block that records the event */
    size_t stored_entry; /* the stored block naming the version; SIZE_MAX when none is needed */
};

struct tq_proof_report {
    struct tq_proof_entry *entries; /* one per block, in file order */
    size_t n_entries;
    struct tq_proof_fact *facts;
    size_t n_facts;
};

void tq_proof_report_cleanup(struct tq_proof_report *r); /* safe on a zeroed report */

/*
 * Verify every block of a proof file offline. For each block: the checkpoint must carry a
 * valid signature by a given key of type TQ_NOTE_ALG_ED25519 whose name is the checkpoint's
 * origin (tq_checkpoint_open); signatures by given keys of type TQ_NOTE_ALG_COSIG_V1 are
 * verified and reported (a line by a given key that does not verify refuses the block; lines
 * by unknown keys are ignored); the extra data must be an opening, salt || record, whose
 * commitment SHA-256(extra) has a leaf hash included at index in the checkpoint's tree; and
 * the record must be a tansiq event record (JSON object, "v":1, string kind, time, collection).
 * Identical keys given twice count once.
 *
 * On TQ_OK every block verified and *out is filled (tq_proof_report_cleanup); nothing is
 * written otherwise. Errors name the block: TQ_EINVAL for a malformed file, record or proof,
 * or no given key for a block's origin; TQ_EAUTH when the log's signature is missing;
 * TQ_EINTEGRITY when a signature by a given key or the inclusion proof does not verify.
 */
tq_rc tq_proof_verify(struct tq_str text, const struct tq_note_verifier *keys, size_t n_keys,
                      struct tq_proof_report *out, struct tq_err *err);

#endif
