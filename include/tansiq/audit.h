/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/audit.h - the node's audit log: an RFC 9162 Merkle tree over the store's audit leaves,
 * signed C2SP checkpoints of it, and the batched recording of partners' reads.
 *
 * The leaves live in the store (store.h, "audit log leaves"): stored versions and releases are
 * appended by tq_store_put_ex in the transaction that makes them, releases added and withdrawn
 * by a configuration change by tq_store_release_rewrite in its own, reads by this module's batch
 * writer. A struct tq_audit_log keeps the tree in memory, rebuilt from the leaf hashes at open
 * and caught up with every committed leaf before it is used (tq_audit_sync), so a checkpoint is
 * only ever signed over durable leaves. Two checkpoints of one log are always consistent: the
 * signer proves the new one against the latest kept before it signs, and refuses otherwise.
 * Several processes may open logs of one store (`serve` beside `sync`, `import`, `log
 * checkpoint`): the latest checkpoint is always read from the store, never remembered, and
 * the tree is caught up to it before it or a tile under it is served.
 *
 * Thread rule: every function may be called from any thread at once.
 */
#ifndef TANSIQ_AUDIT_H
#define TANSIQ_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/merkle.h"
#include "tansiq/note.h"
#include "tansiq/proof.h"
#include "tansiq/store.h"

struct tq_audit_log;

struct tq_audit_options {
    unsigned flush_interval_ms; /* queued reads are written this often; 0 = 5000 */
    unsigned flush_max;         /* ... or as soon as this many are queued; 0 = 16384 */
    bool no_thread;             /* no writer thread: reads are written by tq_audit_flush only */
};

/*
 * Open the log of store (borrowed; must outlive the log): rebuild the tree from the stored leaf
 * hashes and start the read writer. opt may be NULL. *out is the caller's (tq_audit_log_close).
 */
tq_rc tq_audit_log_open(struct tq_store *store, const struct tq_audit_options *opt,
                        struct tq_audit_log **out, struct tq_err *err);
/* Write the queued reads, stop the writer, free everything. NULL is a no-op. */
void tq_audit_log_close(struct tq_audit_log *log);

/* Catch the tree up with the leaves committed since (idx >= current size). */
tq_rc tq_audit_sync(struct tq_audit_log *log, struct tq_err *err);
/* Tree size after the last sync. */
uint64_t tq_audit_size(struct tq_audit_log *log);
/* Root of the tree's first size leaves (size <= tq_audit_size). */
tq_rc tq_audit_root(struct tq_audit_log *log, uint64_t size, uint8_t out[TQ_MERKLE_HASH_BYTES],
                    struct tq_err *err);
/* Inclusion and consistency proofs from the in-memory tree (sizes <= tq_audit_size). */
tq_rc tq_audit_inclusion(struct tq_audit_log *log, uint64_t index, uint64_t size,
                         struct tq_merkle_proof *out, struct tq_err *err);
tq_rc tq_audit_consistency(struct tq_audit_log *log, uint64_t size1, uint64_t size2,
                           struct tq_merkle_proof *out, struct tq_err *err);

/*
 * Queue one read event for the n versions of one collection that one response gave a partner,
 * named by their date_added (each one's "stored" leaf has it as its time and holds the object
 * id, version and digest): one leaf, {"added":[...],"collection","kind":"read","partner",...}.
 * The writer thread appends queued events in one transaction every flush_interval_ms or
 * flush_max events. Copies everything, never blocks on the database; TQ_EINVAL for missing
 * names or n == 0.
 */
tq_rc tq_audit_note_reads(struct tq_audit_log *log, const char *partner, const char *collection,
                          const int64_t *added_us, size_t n, struct tq_err *err);
/* Queue a read event of one version named by id, version and digest (sha256 may be NULL). */
tq_rc tq_audit_note_read(struct tq_audit_log *log, const char *partner, const char *collection,
                         const char *object, int64_t version_us, const uint8_t *sha256,
                         struct tq_err *err);
/*
 * Append one event of any kind as a leaf (tansiq/store.h: a kind and fields of its own; only
 * the object-version kinds name a collection and an object), durably, in its own transaction,
 * after the reads queued before it. For events that are rare beside reads: a screening query,
 * a private set intersection, an alert acknowledged, a login. TQ_EINVAL for a malformed event.
 */
tq_rc tq_audit_append_event(struct tq_audit_log *log, const struct tq_store_audit_event *ev,
                            struct tq_err *err);
/* Write every queued read now (durable on TQ_OK), then sync the tree. */
tq_rc tq_audit_flush(struct tq_audit_log *log, struct tq_err *err);

/* ---- checkpoints ---------------------------------------------------------------------- */

/* "tansiq/" + the first 16 hex digits of the node certificate's SHA-256, into out. */
#define TQ_AUDIT_ORIGIN_MAX 64
void tq_audit_default_origin(const uint8_t cert_sha256[32], char out[TQ_AUDIT_ORIGIN_MAX]);

/*
 * Write queued reads, sync, and sign a checkpoint of every committed leaf with signer (an
 * Ed25519 note signer whose name is the origin), after proving it consistent with the latest
 * kept checkpoint (TQ_EINTEGRITY when it is not, with nothing kept). The signed note becomes the
 * latest and joins the table of past checkpoints. *note_out (may be NULL) is the note text
 * with its signature (tq_free).
 */
tq_rc tq_audit_checkpoint_sign(struct tq_audit_log *log, const struct tq_note_signer *signer,
                               char **note_out, struct tq_err *err);
/*
 * The latest checkpoint for serving, whichever process signed it, with the tree caught up to it
 * and checked against its root (as tq_audit_checkpoint_size), so the tiles prove it at once.
 * When the log grew past it and this log signed none in the last min_interval_ms, sign a fresh
 * one first (or serve the newer one another process kept meanwhile). *note_out new (tq_free);
 * TQ_ENOTFOUND never: an empty log gets a checkpoint of size 0. TQ_EINTEGRITY as
 * tq_audit_checkpoint_size.
 */
tq_rc tq_audit_checkpoint_fresh(struct tq_audit_log *log, const struct tq_note_signer *signer,
                                unsigned min_interval_ms, char **note_out, struct tq_err *err);
/*
 * Size of the latest kept checkpoint, whichever process signed it (this one, `tansiq sync`,
 * `tansiq log checkpoint`): read from the store, with the tree caught up to it and checked to
 * hash to its root, so tq_audit_tile and tq_audit_inclusion answer for every size up to it.
 * TQ_ENOTFOUND when none was signed yet; TQ_EINTEGRITY when the stored leaves fall short of it
 * or do not hash to its root.
 */
tq_rc tq_audit_checkpoint_size(struct tq_audit_log *log, uint64_t *size, struct tq_err *err);
/* The latest signed checkpoint note; TQ_ENOTFOUND when none was signed yet. */
tq_rc tq_audit_checkpoint_latest(struct tq_audit_log *log, char **note_out, struct tq_err *err);

/* ---- tiles (c2sp.org/tlog-tiles) ------------------------------------------------------ */

/*
 * Append hash tile (level, index) of width hashes to out, within a tree of size leaves
 * (TQ_ENOTFOUND when the tile is not part of that tree).
 */
tq_rc tq_audit_tile(struct tq_audit_log *log, uint64_t size, unsigned level, uint64_t index,
                    unsigned width, struct tq_buf *out, struct tq_err *err);
/*
 * Append entry bundle index of width entries to out: each entry is a 2-byte big-endian length
 * (32) and the leaf's 32-byte commitment. TQ_ENOTFOUND beyond size.
 */
tq_rc tq_audit_entries(struct tq_audit_log *log, uint64_t size, uint64_t index, unsigned width,
                       struct tq_buf *out, struct tq_err *err);

/* ---- building proofs (tlog-proof@v1, proof.h) ---------------------------------------- */

#define TQ_PROOF_SCAN_MAX 100000 /* leaves one search of a partner's leaves looks at */

struct tq_proof_build_info {
    size_t n_leaves;
    size_t n_stored, n_released, n_withdrawn, n_read;
    uint64_t checkpoint_size;
    bool cosigned;       /* false: some blocks rest on a checkpoint signed now, not cosigned yet */
    size_t n_uncosigned; /* blocks on that checkpoint (leaves newer than every cosigned one) */
    char *cosigners;     /* names of the other signers of the checkpoint, ", "-separated, or NULL */
};

void tq_proof_build_info_cleanup(struct tq_proof_build_info *info); /* safe when zeroed */

/*
 * Build the proof that partner received object_id: for every stored version of the object
 * (in collection_id, or in every collection when it is NULL) that the log shows released to or
 * read by partner, the "stored" leaf of the version, the "released" and "withdrawn" leaves of
 * partner for it (at its date_added, or later for releases changed by a configuration change),
 * and the first "read" leaf of partner at or after its date_added whose added list names it.
 * Each search after the date_added looks at no more than TQ_PROOF_SCAN_MAX leaves. Leaves about
 * other partners are never included, nor versions partner was not given.
 *
 * Each block rests on the largest kept checkpoint (store.h) that carries a cosignature and covers
 * the first chosen leaf, when it covers that block's leaf; blocks of newer leaves rest on a new
 * checkpoint signer (the log signer, tq_node_log_signer) signs now, and info->cosigned is false.
 * log must be the open log of store. The blocks, one per leaf in log order, are appended to out;
 * *info (may be NULL) is filled on TQ_OK (cleanup with tq_proof_build_info_cleanup). TQ_ENOTFOUND
 * when the object is unknown or was never released to partner; store and log errors as they come.
 */
tq_rc tq_proof_build(struct tq_store *store, struct tq_audit_log *log,
                     const struct tq_note_signer *signer, const char *object_id,
                     const char *partner, const char *collection_id, struct tq_buf *out,
                     struct tq_proof_build_info *info, struct tq_err *err);

#endif
