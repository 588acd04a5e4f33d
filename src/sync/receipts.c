/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/receipts.c - the openings of a partner's log entries that name this node, as receipts.
 *
 * Right after the watch step cosigned the partner's checkpoint of S leaves, the sync asks the
 * partner for the openings of the leaves of its log that name this node (GET /log/openings,
 * answered only over mutual TLS, a page of at most 1000 at a time), from a cursor kept in the
 * meta table (audit.receipts.<partner>) up to S. Each opening (idx, kind, salt, record) is
 * checked against the very tiles the watch step read for S, once they are known to hash to the
 * checkpoint's root: SHA-256(salt || record) is the commitment, its RFC 9162 leaf hash must be
 * the tiles' hash at idx, and the record must be an event record of that kind naming a partner.
 * What verifies is kept (tq_store_receipts_put) with S, and the cursor moves past it. An opening
 * that does not verify stops the step with a warning (TQ_EINTEGRITY, in stats): the partner
 * served something that its own checkpoint contradicts, which is worth an operator's look but
 * says nothing about its log's consistency (that is the watch step's concern). The cursor then
 * stays, so the next sync asks again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "tansiq/note.h"
#include "tansiq/json.h"
#include "sync/sync.h"

#define OPENINGS_MAX_BYTES ((size_t)64 << 20)
#define META_KEY_MAX (32 + TQ_NAME_MAX)
#define PAGES_MAX 100000 /* a partner whose "next" never ends is stopped */

struct step {
    const struct tq__sync_witness *w;
    struct tq__sync_tiles *tiles;
    const struct tq_checkpoint *cp;
    struct tq_store_audit_entry *batch;
    size_t n, cap;
};

/* A warning of the receipts step: logged, kept in the stats (the first one), not a failure. */
static tq_rc warn(const struct step *s, const struct tq_err *e)
{
    tq_log(TQ_LOG_WARN, "sync: partner=%s receipts rc=%s: %s", s->w->partner->name,
           tq_rc_name(e->rc), e->msg);
    if (!s->w->stats->receipts_warning)
        s->w->stats->receipts_warning = tq_xstrdup(e->msg[0] ? e->msg : tq_rc_str(e->rc));
    if (s->w->stats->receipts_rc == TQ_OK)
        s->w->stats->receipts_rc = e->rc;
    return TQ_OK;
}

static void batch_clear(struct step *s)
{
    for (size_t i = 0; i < s->n; i++)
        tq_store_audit_entry_cleanup(&s->batch[i]);
    s->n = 0;
}

static bool get_u64(struct json_object *o, const char *key, uint64_t *out)
{
    struct json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    x = json_object_get_int64(v);
    if (x < 0)
        return false;
    *out = (uint64_t)x;
    return true;
}

static const char *get_string(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/*
 * Check one opening against the checkpoint and add it to the batch. TQ_EINTEGRITY (with the
 * reason) when it does not verify; tile fetch errors as they come.
 */
static tq_rc check_opening(struct step *s, struct json_object *o, uint64_t *idx_out,
                           struct tq_err *err)
{
    struct tq_merkle_source src = tq__sync_tiles_source(s->tiles);
    struct tq_store_audit_entry e = {0};
    struct json_object *rec = NULL;
    uint8_t commitment[TQ_SHA256_BYTES], leaf[TQ_MERKLE_HASH_BYTES], at[TQ_MERKLE_HASH_BYTES];
    const char *kind, *salt, *record, *rkind;
    struct tq_bytes parts[2];
    struct tq_err why = {0};
    size_t n = 0;
    tq_rc rc;

    kind = get_string(o, "kind");
    salt = get_string(o, "salt");
    record = get_string(o, "record");
    if (!json_object_is_type(o, json_type_object) || !get_u64(o, "idx", &e.idx) || !kind || !salt ||
        !record || strlen(kind) >= sizeof(e.kind))
        return tq_err_set(err, TQ_EINTEGRITY, "the partner sent a malformed opening");
    *idx_out = e.idx;
    if (sodium_base642bin(e.salt, sizeof(e.salt), salt, strlen(salt), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != sizeof(e.salt))
        return tq_err_set(err, TQ_EINTEGRITY,
                          "the partner's opening %" PRIu64 " has no 32-byte salt", e.idx);
    rc = tq__sync_tiles_check_root(s->tiles, s->cp->root, err);
    if (rc)
        return rc;
    parts[0] = (struct tq_bytes){e.salt, sizeof(e.salt)};
    parts[1] = (struct tq_bytes){record, strlen(record)};
    tq_sha256_parts(parts, 2, commitment);
    rc = tq_merkle_leaf_hash(commitment, sizeof(commitment), leaf, err);
    if (rc == TQ_OK)
        rc = src.get_hash(src.ctx, 0, e.idx, at, err);
    if (rc)
        return rc;
    if (memcmp(leaf, at, sizeof(leaf)) != 0)
        return tq_err_set(err, TQ_EINTEGRITY,
                          "the partner's opening %" PRIu64 " does not match leaf %" PRIu64
                          " of its checkpoint of %" PRIu64 " leaves",
                          e.idx, e.idx, s->cp->size);
    if (tq_json_parse(tq_str_c(record), &rec, &why) != TQ_OK)
        return tq_err_set(err, TQ_EINTEGRITY,
                          "the record of the partner's opening %" PRIu64 " is not JSON: %s", e.idx,
                          why.msg);
    rkind = json_object_is_type(rec, json_type_object) ? get_string(rec, "kind") : NULL;
    if (!rkind || strcmp(rkind, kind) != 0 || !get_string(rec, "partner")) {
        json_object_put(rec);
        return tq_err_set(err, TQ_EINTEGRITY,
                          "the record of the partner's opening %" PRIu64
                          " is not a '%s' event naming a partner",
                          e.idx, kind);
    }
    json_object_put(rec);
    snprintf(e.kind, sizeof(e.kind), "%s", kind);
    memcpy(e.commitment, commitment, sizeof(commitment));
    memcpy(e.leaf_hash, leaf, sizeof(leaf));
    e.record = tq_xstrdup(record);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->batch = tq_xrealloc(s->batch, s->cap * sizeof(*s->batch));
    }
    s->batch[s->n++] = e;
    return TQ_OK;
}

/*
 * One page of openings from *cursor. On TQ_OK the verified entries are in the batch and *cursor
 * is where the next page starts (*done when nothing below the checkpoint's size remains).
 * TQ_EINTEGRITY and others: a warning for the caller (err says why), the batch holds what
 * verified before the failure.
 */
static tq_rc fetch_page(struct step *s, uint64_t *cursor, bool *done, struct tq_err *err)
{
    struct json_object *doc = NULL, *entries = NULL;
    const uint64_t size = s->cp->size;
    struct tq_buf body;
    char path[64];
    uint64_t served = 0, next = 0, last = 0;
    bool has_last = false, has_next;
    long status = 0;
    size_t n;
    tq_rc rc;

    *done = false;
    snprintf(path, sizeof(path), "/log/openings?from=%" PRIu64, *cursor);
    tq_buf_init(&body, OPENINGS_MAX_BYTES);
    rc = s->w->fetch(s->w->fetch_ud, TQ_CLIENT_GET, path, (struct tq_str){NULL, 0}, NULL,
                     OPENINGS_MAX_BYTES, &status, &body, err);
    if (rc == TQ_OK && status != 200)
        rc = tq_err_set(err, status == 404 ? TQ_ENOTFOUND : TQ_EIO,
                        "the partner answered %ld for /log/openings", status);
    if (rc == TQ_OK)
        rc = tq_json_parse((struct tq_str){body.ptr ? body.ptr : "", body.len}, &doc, err);
    if (rc == TQ_OK &&
        (!json_object_is_type(doc, json_type_object) || !get_u64(doc, "size", &served) ||
         !json_object_object_get_ex(doc, "entries", &entries) ||
         !json_object_is_type(entries, json_type_array)))
        rc = tq_err_set(err, TQ_EUNPROCESSABLE, "the partner's openings are malformed");
    if (rc)
        goto out;
    has_next = json_object_object_get_ex(doc, "next", NULL);
    if (has_next && !get_u64(doc, "next", &next)) {
        rc = tq_err_set(err, TQ_EUNPROCESSABLE, "the partner's openings have a malformed next");
        goto out;
    }
    n = json_object_array_length(entries);
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(entries, i);
        uint64_t idx = 0;

        if (json_object_is_type(o, json_type_object) && get_u64(o, "idx", &idx) && idx >= size &&
            idx >= *cursor && (!has_last || idx > last)) {
            *done = true; /* beyond the checkpoint cosigned: for a later sync */
            break;
        }
        rc = check_opening(s, o, &idx, err);
        if (rc == TQ_OK && (idx < *cursor || (has_last && idx <= last)))
            rc = tq_err_set(err, TQ_EINTEGRITY,
                            "the partner's opening %" PRIu64 " is out of order (from %" PRIu64 ")",
                            idx, *cursor);
        if (rc)
            goto out;
        last = idx;
        has_last = true;
    }
    if (*done) {
        *cursor = size;
    } else if (has_next) {
        if (next <= *cursor || (has_last && next <= last)) {
            rc = tq_err_set(err, TQ_EINTEGRITY,
                            "the partner's openings name a next page (%" PRIu64
                            ") that does not advance",
                            next);
            goto out;
        }
        *cursor = next < size ? next : size;
        *done = *cursor >= size;
    } else {
        *cursor = served < size ? served : size;
        *done = true;
    }
out:
    json_object_put(doc);
    tq_buf_cleanup(&body);
    return rc;
}

static void meta_key(const struct tq__sync_witness *w, char out[META_KEY_MAX])
{
    snprintf(out, META_KEY_MAX, "audit.receipts.%s", w->partner->name);
}

tq_rc tq__sync_receipts(const struct tq__sync_witness *w, struct tq__sync_tiles *tiles,
                        const struct tq_checkpoint *cp, struct tq_err *err)
{
    struct step s = {.w = w, .tiles = tiles, .cp = cp};
    struct tq_err e = {0};
    char key[META_KEY_MAX], num[24], *v = NULL;
    uint64_t cursor = 0, before;
    bool done = false;
    tq_rc rc;

    meta_key(w, key);
    rc = tq_store_meta_get(w->store, key, &v, err);
    if (rc == TQ_OK) {
        if (!tq_str_to_u64(tq_str_c(v), &cursor))
            cursor = 0;
        tq_free(v);
    } else if (rc != TQ_ENOTFOUND) {
        return rc;
    }
    rc = TQ_OK;
    for (unsigned page = 0; !done && cursor < cp->size && page < PAGES_MAX; page++) {
        tq_rc prc;

        before = cursor;
        tq_err_clear(&e);
        prc = fetch_page(&s, &cursor, &done, &e);
        /* What verified is kept, also before a failure; the cursor moves only past a good page. */
        rc = tq_store_receipts_put(w->store, w->partner->name, s.batch, s.n, cp->size, err);
        if (rc)
            break;
        w->stats->receipts += s.n;
        batch_clear(&s);
        if (prc) {
            rc = warn(&s, &e);
            cursor = before;
            break;
        }
        snprintf(num, sizeof(num), "%" PRIu64, cursor);
        rc = tq_store_meta_set(w->store, key, num, err);
        if (rc)
            break;
    }
    batch_clear(&s);
    tq_free(s.batch);
    if (rc == TQ_OK)
        tq_log(TQ_LOG_INFO, "sync: partner=%s receipts=%" PRIu64 " cursor=%" PRIu64,
               w->partner->name, w->stats->receipts, cursor);
    return rc;
}
