/* SPDX-License-Identifier: Apache-2.0
 *
 * tlog/leaf.c - salted leaf commitments and RFC 9162 leaf hashes.
 *
 * Salts come from a per-thread pool that one randombytes_buf call refills for SALT_POOL leaves:
 * a getrandom(2) call per leaf was about a tenth of a durable append's cost (bench_audit). Each
 * salt is still 32 bytes from the kernel's CSPRNG, handed out once and wiped from the pool as it
 * is taken. tansiq never forks after opening a store, so no two processes share a pool.
 */
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "tansiq/core.h"
#include "tansiq/leaf.h"

#define SALT_POOL 128

static _Thread_local struct {
    uint8_t salt[SALT_POOL][TQ_LEAF_BYTES];
    unsigned next; /* SALT_POOL: empty */
    bool filled;
} salt_pool;

void tq_leaf_salt(uint8_t salt[TQ_LEAF_BYTES])
{
    if (!salt_pool.filled || salt_pool.next == SALT_POOL) {
        randombytes_buf(salt_pool.salt, sizeof(salt_pool.salt));
        salt_pool.next = 0;
        salt_pool.filled = true;
    }
    memcpy(salt, salt_pool.salt[salt_pool.next], TQ_LEAF_BYTES);
    sodium_memzero(salt_pool.salt[salt_pool.next], TQ_LEAF_BYTES);
    salt_pool.next++;
}

void tq_leaf_commitment(const uint8_t salt[TQ_LEAF_BYTES], const void *record, size_t len,
                        uint8_t commitment[TQ_LEAF_BYTES])
{
    struct tq_bytes parts[2];

    parts[0] = (struct tq_bytes){salt, TQ_LEAF_BYTES};
    parts[1] = (struct tq_bytes){record, len};
    tq_sha256_parts(parts, 2, commitment);
}

void tq_leaf_hash(const uint8_t commitment[TQ_LEAF_BYTES], uint8_t leaf_hash[TQ_LEAF_BYTES])
{
    static const uint8_t leaf_prefix = 0x00;
    struct tq_bytes parts[2];

    parts[0] = (struct tq_bytes){&leaf_prefix, 1};
    parts[1] = (struct tq_bytes){commitment, TQ_LEAF_BYTES};
    tq_sha256_parts(parts, 2, leaf_hash);
}

void tq_leaf_make(const void *record, size_t len, struct tq_leaf *out)
{
    tq_leaf_salt(out->salt);
    tq_leaf_commitment(out->salt, record, len, out->commitment);
    tq_leaf_hash(out->commitment, out->leaf_hash);
}

void tq_leaf_cleanup(struct tq_leaf *leaf)
{
    if (leaf)
        sodium_memzero(leaf->salt, sizeof(leaf->salt));
}
