/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/merkle.h - RFC 9162 Merkle tree: hashing, an append-only tree, proofs and verifiers.
 *
 * Hashing is RFC 9162 section 2.1 with SHA-256: a leaf hash is SHA-256(0x00 || d), an interior
 * node SHA-256(0x01 || left || right), and the root of the empty tree the hash of the empty
 * string. Sizes and indices are 64-bit throughout. The in-memory tree keeps every leaf hash and
 * the hash of every complete subtree, level by level (level k holds the subtrees of 2^k leaves),
 * which is the layout of C2SP tlog-tiles: a tile at tile level L is 256 consecutive hashes of
 * tree level 8 * L. Proof generation reads hashes through struct tq_merkle_source, so a
 * persistent log can serve proofs from its own storage with the same code.
 *
 * The verifiers take untrusted input (struct tq_str hashes of any length) and apply every check
 * of RFC 9162 sections 2.1.3.2 and 2.1.4.2. They return TQ_EINVAL for a malformed proof (wrong
 * hash length, wrong number of hashes, index or sizes out of range) and TQ_EINTEGRITY when a
 * well-formed proof does not lead to the given root. docs/internals/tlog.md has the details.
 *
 * Thread rule: the free functions are safe to call from any thread (each thread hashes with its
 * own OpenSSL context). A struct tq_merkle is not: callers serialise access to one tree.
 */
#ifndef TANSIQ_MERKLE_H
#define TANSIQ_MERKLE_H

#include <stdint.h>

#include "tansiq/core.h"

#define TQ_MERKLE_HASH_BYTES 32
/* Longest inclusion proof for 64-bit sizes: one hash per level below the root. */
#define TQ_MERKLE_INCLUSION_MAX 64
/*
 * Longest consistency proof for 64-bit sizes: 65 hashes, reached for example by size1 =
 * 2^64 - 3, size2 = 2^64 - 1 (docs/internals/tlog.md derives the bound).
 */
#define TQ_MERKLE_CONSISTENCY_MAX 65
#define TQ_MERKLE_PROOF_MAX TQ_MERKLE_CONSISTENCY_MAX
/* C2SP tlog-tiles: tiles are 8 tree levels high and 256 hashes wide. */
#define TQ_MERKLE_TILE_HEIGHT 8
#define TQ_MERKLE_TILE_WIDTH 256

/* A generated proof: n hashes, ordered from the leaf (or the older tree) towards the root. */
struct tq_merkle_proof {
    size_t n;
    uint8_t hash[TQ_MERKLE_PROOF_MAX][TQ_MERKLE_HASH_BYTES];
};

/* ---- hashing ------------------------------------------------------------------------------ */

/*
 * SHA-256(0x00 || data) into out. TQ_ENOTSUP when OpenSSL offers no SHA-256 (a broken provider
 * configuration), TQ_ENOMEM when it cannot allocate its context; detail in err.
 */
tq_rc tq_merkle_leaf_hash(const void *data, size_t len, uint8_t out[TQ_MERKLE_HASH_BYTES],
                          struct tq_err *err);
/* SHA-256(0x01 || left || right) into out; failures as for tq_merkle_leaf_hash. */
tq_rc tq_merkle_node_hash(const uint8_t left[TQ_MERKLE_HASH_BYTES],
                          const uint8_t right[TQ_MERKLE_HASH_BYTES],
                          uint8_t out[TQ_MERKLE_HASH_BYTES], struct tq_err *err);
/* The root of the empty tree, SHA-256 of the empty string. Cannot fail: it is a constant. */
void tq_merkle_empty_root(uint8_t out[TQ_MERKLE_HASH_BYTES]);

/* ---- proof generation over any hash store ----------------------------------------------- */

/*
 * Where proof generation reads hashes. get_hash copies into out the hash of the complete
 * subtree of 2^level leaves that starts at leaf index << level (level 0: the leaf hashes). It is
 * only asked for subtrees that lie wholly inside the tree size the caller passed; it returns
 * TQ_OK, or any error (with detail in err), which the generator passes on unchanged.
 */
typedef tq_rc (*tq_merkle_get_hash_cb)(void *ctx, unsigned level, uint64_t index,
                                       uint8_t out[TQ_MERKLE_HASH_BYTES], struct tq_err *err);

struct tq_merkle_source {
    tq_merkle_get_hash_cb get_hash;
    void *ctx;
};

/* MTH of the first size leaves (size 0 gives the empty root). Errors come from the source. */
tq_rc tq_merkle_source_root(const struct tq_merkle_source *src, uint64_t size,
                            uint8_t out[TQ_MERKLE_HASH_BYTES], struct tq_err *err);
/* PATH(index, D[0:size]); TQ_EINVAL unless index < size. */
tq_rc tq_merkle_source_inclusion(const struct tq_merkle_source *src, uint64_t index, uint64_t size,
                                 struct tq_merkle_proof *out, struct tq_err *err);
/*
 * PROOF(size1, D[0:size2]). TQ_EINVAL unless 0 < size1 <= size2; size1 == size2 gives an empty
 * proof.
 */
tq_rc tq_merkle_source_consistency(const struct tq_merkle_source *src, uint64_t size1,
                                   uint64_t size2, struct tq_merkle_proof *out, struct tq_err *err);

/* ---- the in-memory append-only tree ----------------------------------------------------- */

struct tq_merkle;

/*
 * An empty tree that accepts at most max_leaves leaves (0: as many as memory addressing
 * allows). The result belongs to the caller; free it with tq_merkle_free. Aborts when memory is
 * exhausted, like tq_xmalloc.
 */
struct tq_merkle *tq_merkle_new(uint64_t max_leaves);
void tq_merkle_free(struct tq_merkle *m); /* NULL is a no-op */
uint64_t tq_merkle_size(const struct tq_merkle *m);
/*
 * Map and fault in the memory a tree of leaves leaves needs, for a caller that knows its size
 * up front (a log being reloaded, a benchmark): appends up to that size then allocate nothing.
 * Never needed for correctness: appends grow the tree on their own, cheaply, in fixed chunks
 * that are never moved. TQ_ETOOBIG above max_leaves, TQ_ENOMEM when memory cannot be mapped
 * (what was reserved before the failure stays reserved). Memory is given back by
 * tq_merkle_free only, not by tq_merkle_truncate.
 */
tq_rc tq_merkle_reserve(struct tq_merkle *m, uint64_t leaves, struct tq_err *err);

/*
 * Append one leaf hash (already SHA-256(0x00 || entry)) and the complete subtrees it closes:
 * one interior hash per leaf on average. TQ_ETOOBIG at max_leaves; hashing failures as for
 * tq_merkle_leaf_hash. On failure the tree is unchanged.
 */
tq_rc tq_merkle_append(struct tq_merkle *m, const uint8_t leaf_hash[TQ_MERKLE_HASH_BYTES],
                       struct tq_err *err);
/* Hash an entry as a leaf and append it; its leaf hash goes to leaf_hash_out (may be NULL). */
tq_rc tq_merkle_append_data(struct tq_merkle *m, const void *data, size_t len,
                            uint8_t leaf_hash_out[TQ_MERKLE_HASH_BYTES], struct tq_err *err);
/*
 * Drop the leaves from size on (size <= current size, else TQ_EINVAL): undoes appends whose
 * durable write failed, so the tree never runs ahead of the stored log.
 */
tq_rc tq_merkle_truncate(struct tq_merkle *m, uint64_t size, struct tq_err *err);

/* MTH of the first size leaves, for any size <= the current size (else TQ_EINVAL). */
tq_rc tq_merkle_root(struct tq_merkle *m, uint64_t size, uint8_t out[TQ_MERKLE_HASH_BYTES],
                     struct tq_err *err);
/* Inclusion proof of leaf index in the tree of the given size (index < size <= current size). */
tq_rc tq_merkle_inclusion(struct tq_merkle *m, uint64_t index, uint64_t size,
                          struct tq_merkle_proof *out, struct tq_err *err);
/* Consistency proof between sizes 0 < size1 <= size2 <= current size. */
tq_rc tq_merkle_consistency(struct tq_merkle *m, uint64_t size1, uint64_t size2,
                            struct tq_merkle_proof *out, struct tq_err *err);
/*
 * The stored hash of the complete subtree (level, index), as a source's get_hash would give
 * it; TQ_ENOTFOUND when that subtree is not complete yet.
 */
tq_rc tq_merkle_hash_get(struct tq_merkle *m, unsigned level, uint64_t index,
                         uint8_t out[TQ_MERKLE_HASH_BYTES], struct tq_err *err);
/* A source reading from m; valid while m lives and is not modified by another thread. */
struct tq_merkle_source tq_merkle_source_of(struct tq_merkle *m);

/* Longest tile path, NUL included: "tile/" level "/" seven index groups ".p/" width. */
#define TQ_MERKLE_TILE_PATH_MAX 64
/*
 * The C2SP tlog-tiles path of hash tile (tile_level, index) of the given width into out:
 * "tile/<L>/<N>[.p/<W>]", N written as 3-digit groups, all but the last prefixed with "x"
 * (1234067 is "x001/x234/067"); the ".p/<W>" suffix only for a width below 256.
 */
void tq_merkle_tile_path(unsigned tile_level, uint64_t index, unsigned width,
                         char out[TQ_MERKLE_TILE_PATH_MAX]);
/*
 * Width of hash tile (tile_level, index) in a tree of the given size, per C2SP tlog-tiles:
 * TQ_MERKLE_TILE_WIDTH for a full tile, 1..255 for the rightmost partial tile, 0 when the tile
 * does not exist at that size.
 */
unsigned tq_merkle_tile_width(uint64_t size, unsigned tile_level, uint64_t index);
/*
 * Append to out the width hashes (32 bytes each) of hash tile (tile_level, index): the hashes
 * of tree level 8 * tile_level at indices index * 256 ... index * 256 + width - 1. TQ_EINVAL for
 * a width outside 1..256, TQ_ENOTFOUND when those hashes do not all exist yet, TQ_ETOOBIG when
 * out is full (out keeps what it had on any failure).
 */
tq_rc tq_merkle_tile(struct tq_merkle *m, unsigned tile_level, uint64_t index, unsigned width,
                     struct tq_buf *out, struct tq_err *err);

/* ---- verification of untrusted proofs --------------------------------------------------- */

/*
 * Check that leaf_hash is leaf index of the tree of the given size whose root is root (RFC
 * 9162 section 2.1.3.2). Every hash must be 32 bytes, index < size, and n exactly the length
 * the proof of that index in that size has (at most TQ_MERKLE_INCLUSION_MAX). TQ_OK when the
 * proof holds; TQ_EINVAL for a malformed input, TQ_EINTEGRITY when the root differs.
 */
tq_rc tq_merkle_verify_inclusion(struct tq_str leaf_hash, uint64_t index, uint64_t size,
                                 const struct tq_str *proof, size_t n, struct tq_str root,
                                 struct tq_err *err);
/*
 * Check that the tree of size2 with root root2 extends the tree of size1 with root root1 (RFC
 * 9162 section 2.1.4.2). Requires 0 < size1 <= size2 (a consistency proof from the empty tree
 * is meaningless and refused), 32-byte hashes, and exactly the proof length those sizes give (at
 * most TQ_MERKLE_CONSISTENCY_MAX). size1 == size2 needs an empty proof and equal roots. Return
 * codes as for tq_merkle_verify_inclusion.
 */
tq_rc tq_merkle_verify_consistency(uint64_t size1, uint64_t size2, const struct tq_str *proof,
                                   size_t n, struct tq_str root1, struct tq_str root2,
                                   struct tq_err *err);

/*
 * The root an inclusion proof leads to, with every structural check of the verifier; out is
 * written only on TQ_OK. For callers that hold hashes as fixed arrays already.
 */
tq_rc tq_merkle_root_from_inclusion(const uint8_t leaf_hash[TQ_MERKLE_HASH_BYTES], uint64_t index,
                                    uint64_t size, const struct tq_merkle_proof *proof,
                                    uint8_t out[TQ_MERKLE_HASH_BYTES], struct tq_err *err);
/*
 * The newer root a consistency proof leads to, after checking that it also leads to root1
 * (TQ_EINTEGRITY when not). Checks and codes as for tq_merkle_verify_consistency.
 */
tq_rc tq_merkle_root_from_consistency(uint64_t size1, uint64_t size2,
                                      const struct tq_merkle_proof *proof,
                                      const uint8_t root1[TQ_MERKLE_HASH_BYTES],
                                      uint8_t out[TQ_MERKLE_HASH_BYTES], struct tq_err *err);

/* Number of hashes in the inclusion proof of index in size (0 when index >= size). */
size_t tq_merkle_inclusion_len(uint64_t index, uint64_t size);
/* Number of hashes in the consistency proof from size1 to size2 (0 unless 0 < size1 <= size2). */
size_t tq_merkle_consistency_len(uint64_t size1, uint64_t size2);

#endif
