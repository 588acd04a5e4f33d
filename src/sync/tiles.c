/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/tiles.c - a partner's audit log read from its C2SP tlog-tiles, for one tree size.
 *
 * The partner serves hash tiles at /log/tile/<L>/<N>[.p/<W>]: tile (L, N) holds the hashes of
 * tree level 8L at indices 256N ... 256N + W - 1, W being the tile's width at the tree size
 * (tq_merkle_tile_width). A tile must be exactly W * 32 bytes; anything else is refused with
 * the tile named, before any hash of it is used. Tiles are kept for the reader's life, so a root
 * and a consistency proof at one size fetch each tile once. The reader is a struct
 * tq_merkle_source: the proofs are the ones src/tlog/merkle.c generates for our own log, from
 * the partner's hashes instead of ours. Every request goes through the sync's fetch callback
 * (retries, request count); nothing here talks to the network itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sync/sync.h"

#define TILE_BYTES_MAX (TQ_MERKLE_TILE_WIDTH * TQ_MERKLE_HASH_BYTES)

void tq__sync_tiles_init(struct tq__sync_tiles *t, uint64_t size, tq__sync_fetch_cb fetch,
                         void *fetch_ud)
{
    memset(t, 0, sizeof(*t));
    t->size = size;
    t->fetch = fetch;
    t->fetch_ud = fetch_ud;
}

void tq__sync_tiles_cleanup(struct tq__sync_tiles *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        tq_free(t->tiles[i].hashes);
    tq_free(t->tiles);
    t->tiles = NULL;
    t->n = t->cap = 0;
}

static const struct tq__sync_tile *cached(const struct tq__sync_tiles *t, unsigned level,
                                          uint64_t index)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->tiles[i].level == level && t->tiles[i].index == index)
            return &t->tiles[i];
    return NULL;
}

tq_rc tq__sync_tile_get(struct tq__sync_tiles *t, unsigned level, uint64_t index,
                        const struct tq__sync_tile **out, struct tq_err *err)
{
    char tile[TQ_MERKLE_TILE_PATH_MAX], path[TQ_MERKLE_TILE_PATH_MAX + 8];
    const struct tq__sync_tile *hit = cached(t, level, index);
    struct tq__sync_tile *slot;
    struct tq_buf body;
    unsigned width;
    long status = 0;
    tq_rc rc;

    if (hit) {
        *out = hit;
        return TQ_OK;
    }
    width = level < 8 ? tq_merkle_tile_width(t->size, level, index) : 0;
    if (width == 0)
        return tq_err_set(err, TQ_EINVAL,
                          "tile %u/%" PRIu64 " is not part of a tree of %" PRIu64 " leaves", level,
                          index, t->size);
    tq_merkle_tile_path(level, index, width, tile);
    snprintf(path, sizeof(path), "/log/%s", tile);
    tq_buf_init(&body, TILE_BYTES_MAX);
    rc = t->fetch(t->fetch_ud, TQ_CLIENT_GET, path, (struct tq_str){NULL, 0}, NULL, TILE_BYTES_MAX,
                  &status, &body, err);
    if (rc == TQ_ETOOBIG)
        rc = tq_err_set(err, TQ_EINTEGRITY, "the partner's %s is longer than %u bytes", path,
                        TILE_BYTES_MAX);
    else if (rc == TQ_OK && status == 404)
        rc = tq_err_set(err, TQ_ENOTFOUND, "the partner has no %s", path);
    else if (rc == TQ_OK && status != 200)
        rc = tq_err_set(err, TQ_EIO, "the partner answered %ld for %s", status, path);
    else if (rc == TQ_OK && body.len != (size_t)width * TQ_MERKLE_HASH_BYTES)
        rc = tq_err_set(err, TQ_EINTEGRITY,
                        "the partner's %s holds %zu bytes, not %u hashes of 32 bytes (%u): "
                        "refused",
                        path, body.len, width, width * TQ_MERKLE_HASH_BYTES);
    if (rc) {
        tq_buf_cleanup(&body);
        return rc;
    }
    t->fetched++;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->tiles = tq_xrealloc(t->tiles, t->cap * sizeof(*t->tiles));
    }
    slot = &t->tiles[t->n++];
    slot->level = level;
    slot->index = index;
    slot->width = width;
    slot->hashes = (uint8_t(*)[TQ_MERKLE_HASH_BYTES])tq_buf_take(&body, NULL);
    *out = slot;
    return TQ_OK;
}

/*
 * get_hash of the source: the subtree (level, index) spans 2^h hashes of tree level 8t, with
 * t = level / 8 and h = level % 8, starting at index << h. Those are aligned on 2^h, so they lie
 * in one tile and fold pairwise into the subtree's hash in h rounds.
 */
static tq_rc tiles_get_hash(void *ctx, unsigned level, uint64_t index,
                            uint8_t out[TQ_MERKLE_HASH_BYTES], struct tq_err *err)
{
    uint8_t work[1u << (TQ_MERKLE_TILE_HEIGHT - 1)][TQ_MERKLE_HASH_BYTES];
    struct tq__sync_tiles *t = ctx;
    const struct tq__sync_tile *tile;
    unsigned tl = level / TQ_MERKLE_TILE_HEIGHT, h = level % TQ_MERKLE_TILE_HEIGHT;
    uint64_t first, n = (uint64_t)1 << h;
    size_t off;
    tq_rc rc;

    if (level >= 64 || index > (UINT64_MAX >> h))
        return tq_err_set(err, TQ_EINVAL, "subtree %u/%" PRIu64 " is out of range", level, index);
    first = index << h;
    rc = tq__sync_tile_get(t, tl, first / TQ_MERKLE_TILE_WIDTH, &tile, err);
    if (rc)
        return rc;
    off = (size_t)(first % TQ_MERKLE_TILE_WIDTH);
    if (off + n > tile->width)
        return tq_err_set(err, TQ_EINVAL,
                          "subtree %u/%" PRIu64 " is not complete in a tree of %" PRIu64 " leaves",
                          level, index, t->size);
    if (h == 0) {
        memcpy(out, tile->hashes[off], TQ_MERKLE_HASH_BYTES);
        return TQ_OK;
    }
    /* First round straight from the tile, the others in place. */
    for (uint64_t i = 0; i < n / 2; i++) {
        rc = tq_merkle_node_hash(tile->hashes[off + 2 * i], tile->hashes[off + 2 * i + 1], work[i],
                                 err);
        if (rc)
            return rc;
    }
    for (n /= 2; n > 1; n /= 2) {
        for (uint64_t i = 0; i < n / 2; i++) {
            rc = tq_merkle_node_hash(work[2 * i], work[2 * i + 1], work[i], err);
            if (rc)
                return rc;
        }
    }
    memcpy(out, work[0], TQ_MERKLE_HASH_BYTES);
    return TQ_OK;
}

struct tq_merkle_source tq__sync_tiles_source(struct tq__sync_tiles *t)
{
    return (struct tq_merkle_source){.get_hash = tiles_get_hash, .ctx = t};
}

tq_rc tq__sync_tiles_check_root(struct tq__sync_tiles *t, const uint8_t root[TQ_MERKLE_HASH_BYTES],
                                struct tq_err *err)
{
    struct tq_merkle_source src = tq__sync_tiles_source(t);
    uint8_t computed[TQ_MERKLE_HASH_BYTES];
    tq_rc rc;

    if (t->root_ok)
        return TQ_OK;
    rc = tq_merkle_source_root(&src, t->size, computed, err);
    if (rc)
        return rc;
    if (memcmp(computed, root, sizeof(computed)) != 0)
        return tq_err_set(err, TQ_EINTEGRITY,
                          "the partner's tiles do not hash to the root of its checkpoint of "
                          "%" PRIu64 " leaves",
                          t->size);
    t->root_ok = true;
    return TQ_OK;
}
