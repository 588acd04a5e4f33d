/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/leaf.h - the leaf of the audit log: a salted commitment to a record (RFC 9162 §2.1).
 *
 * A leaf never holds the record itself. It holds commitment = SHA-256(salt || record) with a
 * fresh 32-byte salt, and the tree hashes the leaf as SHA-256(0x00 || commitment). Whoever is
 * given the opening (salt and record) can check it against the leaf hash; nobody else learns
 * anything from the log about what the record said, not even whether two records are equal.
 */
#ifndef TQ_LEAF_H
#define TQ_LEAF_H

#include <stddef.h>
#include <stdint.h>

#define TQ_LEAF_BYTES 32

/* A leaf and its salt; tq_leaf_cleanup wipes the salt. */
struct tq_leaf {
    uint8_t salt[TQ_LEAF_BYTES];
    uint8_t commitment[TQ_LEAF_BYTES];
    uint8_t leaf_hash[TQ_LEAF_BYTES];
};

/* A fresh salt (32 bytes from the kernel's CSPRNG, each handed out once). */
void tq_leaf_salt(uint8_t salt[TQ_LEAF_BYTES]);

/* commitment = SHA-256(salt || record). */
void tq_leaf_commitment(const uint8_t salt[TQ_LEAF_BYTES], const void *record, size_t len,
                        uint8_t commitment[TQ_LEAF_BYTES]);

/* The RFC 9162 leaf hash of a commitment: SHA-256(0x00 || commitment). */
void tq_leaf_hash(const uint8_t commitment[TQ_LEAF_BYTES], uint8_t leaf_hash[TQ_LEAF_BYTES]);

/* A new leaf for record: a fresh salt, its commitment and leaf hash. */
void tq_leaf_make(const void *record, size_t len, struct tq_leaf *out);

/* Wipe the salt of a leaf (the commitment and hash are public). NULL is a no-op. */
void tq_leaf_cleanup(struct tq_leaf *leaf);

#endif
