/* SPDX-License-Identifier: Apache-2.0
 *
 * audit/proof.c - building C2SP tlog-proof@v1 proofs from the node's audit log: select the
 * leaves about one object and one partner, pick the checkpoint each block rests on (a cosigned
 * one when it covers the leaf, else one signed now) and format the blocks (tlog/proof.c).
 *
 * Reads the store and the log and follows their thread rules. docs/internals/audit.md
 * ("Proofs") has what a proof reveals and how the leaves are chosen.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/audit.h"
#include "tansiq/json.h"
#include "tansiq/proof.h"

/* ---- building ------------------------------------------------------------------------- */

/* A chosen leaf with its opening. */
struct chosen {
    uint64_t idx;
    char kind[TQ_STORE_AUDIT_KIND_MAX];
    uint8_t salt[TQ_PROOF_SALT_BYTES];
    char *record;
};

struct leaf_set {
    struct chosen *v;
    size_t n, cap;
};

static void leaf_set_cleanup(struct leaf_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        tq_free(s->v[i].record);
    tq_free(s->v);
}

static void leaf_set_add(struct leaf_set *s, const struct tq_store_audit_entry *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].idx == e->idx)
            return; /* a read that named two versions of the object */
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = tq_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n].idx = e->idx;
    snprintf(s->v[s->n].kind, sizeof(s->v[s->n].kind), "%s", e->kind);
    memcpy(s->v[s->n].salt, e->salt, TQ_PROOF_SALT_BYTES);
    s->v[s->n].record = tq_xstrdup(e->record);
    s->n++;
}

/* One stored version of the object, and what a leaf about it must say. */
struct version_ref {
    char collection[37];
    int64_t date_added_us;
    int64_t version_us;
};

/* A search of the log for leaves about one version. */
struct find_ctx {
    const char *object;
    const struct version_ref *ver;
    const char *version; /* the record's spelling of version_us; NULL when unversioned */
    bool by_added;       /* read leaves: the added list names the version */
    bool first_only;
    size_t seen, found;
    struct leaf_set *set;
};

static bool json_str_is(struct json_object *rec, const char *name, const char *want)
{
    struct json_object *v;

    if (!json_object_object_get_ex(rec, name, &v))
        return want == NULL;
    return want && json_object_is_type(v, json_type_string) &&
           strcmp(json_object_get_string(v), want) == 0;
}

/* True when the record of a leaf found by kind, partner and time is about ctx's version. */
static bool record_matches(const struct find_ctx *ctx, const char *record)
{
    struct json_object *rec = NULL, *v;
    struct tq_err err = {0};
    bool ok = false;

    if (tq_json_parse(tq_str_c(record), &rec, &err) != TQ_OK)
        return false;
    if (!json_object_is_type(rec, json_type_object) ||
        !json_str_is(rec, "collection", ctx->ver->collection))
        goto out;
    if (ctx->by_added && json_object_object_get_ex(rec, "added", &v) &&
        json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v) && !ok; i++) {
            struct json_object *x = json_object_array_get_idx(v, i);

            ok = json_object_is_type(x, json_type_int) &&
                 json_object_get_int64(x) == ctx->ver->date_added_us;
        }
        goto out;
    }
    ok = json_str_is(rec, "object", ctx->object) && json_str_is(rec, "version", ctx->version);
out:
    json_object_put(rec);
    return ok;
}

static bool find_cb(void *ud, const struct tq_store_audit_entry *e)
{
    struct find_ctx *ctx = ud;

    ctx->seen++;
    if (e->record && record_matches(ctx, e->record)) {
        leaf_set_add(ctx->set, e);
        ctx->found++;
        if (ctx->first_only)
            return false;
    }
    return ctx->seen < TQ_PROOF_SCAN_MAX;
}

/* Add the leaves of kind (by partner, in [at_min, at_max]) about ver; *found counts them. */
static tq_rc find_leaves(struct tq_store *store, const char *kind, const char *partner,
                         int64_t at_min, int64_t at_max, struct find_ctx *ctx, size_t *found,
                         struct tq_err *err)
{
    struct tq_store_audit_query q = {
        .kind = kind, .partner = partner, .at_min_us = at_min, .at_max_us = at_max};
    tq_rc rc;

    ctx->seen = ctx->found = 0;
    rc = tq_store_audit_find(store, &q, find_cb, ctx, err);
    *found += ctx->found;
    return rc;
}

/* The leaves about one version, when partner was given it: its release, withdrawal, read. */
static tq_rc version_leaves(struct tq_store *store, const char *object, const char *partner,
                            const struct version_ref *ver, struct leaf_set *set, struct tq_err *err)
{
    char version[TQ_TIME_STR_MAX];
    struct find_ctx ctx = {.object = object, .ver = ver, .set = set};
    size_t given = 0, stored = 0;
    tq_rc rc;

    if (ver->version_us >= 0) {
        tq_time_format_exact(ver->version_us, version);
        ctx.version = version;
    }
    /*
     * A release made when the version was stored carries its date_added as time; one made or
     * withdrawn later by a configuration change carries the time of that change.
     */
    rc = find_leaves(store, "released", partner, ver->date_added_us, ver->date_added_us, &ctx,
                     &given, err);
    if (rc == TQ_OK && ver->date_added_us < INT64_MAX)
        rc = find_leaves(store, "released", partner, ver->date_added_us + 1, 0, &ctx, &given, err);
    if (rc == TQ_OK)
        rc = find_leaves(store, "withdrawn", partner, ver->date_added_us, 0, &ctx, &given, err);
    if (rc == TQ_OK) {
        ctx.by_added = true;
        ctx.first_only = true;
        rc = find_leaves(store, "read", partner, ver->date_added_us, 0, &ctx, &given, err);
        ctx.by_added = false;
        ctx.first_only = false;
    }
    if (rc || given == 0)
        return rc;
    ctx.first_only = true;
    rc = find_leaves(store, "stored", NULL, ver->date_added_us, ver->date_added_us, &ctx, &stored,
                     err);
    if (rc == TQ_OK && stored == 0)
        tq_log(TQ_LOG_WARN, "proof: no stored leaf for %s date_added=%" PRId64, object,
               ver->date_added_us);
    return rc;
}

struct versions {
    struct version_ref *v;
    size_t n, cap;
    const char *collection;
};

static tq_rc version_row(void *ud, const struct tq_store_row *row)
{
    struct versions *vs = ud;

    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? vs->cap * 2 : 8;
        vs->v = tq_xrealloc(vs->v, vs->cap * sizeof(*vs->v));
    }
    snprintf(vs->v[vs->n].collection, sizeof(vs->v[vs->n].collection), "%s", vs->collection);
    vs->v[vs->n].date_added_us = row->date_added_us;
    vs->v[vs->n].version_us = row->version_us;
    vs->n++;
    return TQ_OK;
}

/* Every stored version of object_id in collection_id, appended to vs. */
static tq_rc collect_versions(struct tq_store *store, const char *collection_id,
                              const char *object_id, struct versions *vs, struct tq_err *err)
{
    struct tq_store_query q = {.collection_id = collection_id,
                               .object_id = object_id,
                               .limit = 1000,
                               .version_flags = TQ_MATCH_ALL};

    vs->collection = collection_id;
    return tq_store_query_all(store, &q, false, version_row, vs, err);
}

/* The checkpoint search: the largest kept one covering the leaves, with a cosignature. */
struct ckpt_pick {
    struct tq_audit_log *log;
    const struct tq_note_verifier *log_key;
    uint64_t tree_size;
    char *note; /* chosen */
    uint64_t size;
};

static bool ckpt_cb(void *ud, uint64_t size, int64_t at_us, const char *text)
{
    struct ckpt_pick *p = ud;
    uint8_t root[TQ_MERKLE_HASH_BYTES];
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err err = {0};
    bool ok;

    (void)at_us;
    if (size > p->tree_size)
        return true;
    /*
     * Most kept checkpoints carry the log's signature alone (one is signed a second while the
     * log grows and is served): count the signature lines before verifying any.
     */
    if (tq_note_parse(tq_str_c(text), &note, &err) != TQ_OK || note->n_sigs < 2) {
        tq_note_free(note);
        return true;
    }
    tq_note_free(note);
    note = NULL;
    /* Only a checkpoint this log signed, of this tree, is handed out. */
    ok = tq_checkpoint_open(tq_str_c(text), tq_str_c(p->log_key->name), p->log_key, NULL, 0, &note,
                            &cp, &err) == TQ_OK &&
         cp.size == size && tq_audit_root(p->log, size, root, &err) == TQ_OK &&
         memcmp(root, cp.root, sizeof(root)) == 0;
    tq_note_free(note);
    if (!ok)
        return true;
    p->note = tq_xstrdup(text);
    p->size = size;
    return false;
}

/* The names of the checkpoint's signers other than the log, ", "-separated, or NULL. */
static char *cosigner_names(const char *text, const struct tq_note_verifier *log_key)
{
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    struct tq_buf b;

    if (tq_note_parse(tq_str_c(text), &note, &err) != TQ_OK)
        return NULL;
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    for (size_t i = 0; i < note->n_sigs; i++) {
        const struct tq_note_sig *s = &note->sigs[i];

        if (s->key_id == log_key->key_id && tq_str_eq_c(s->name, log_key->name))
            continue;
        if (b.len)
            tq_buf_append_c(&b, ", ");
        tq_buf_append_str(&b, s->name);
    }
    tq_note_free(note);
    if (b.len == 0) {
        tq_buf_cleanup(&b);
        return NULL;
    }
    return tq_buf_take(&b, NULL);
}

/* Sign a checkpoint of every committed leaf now; *note_out (tq_free) and its size. */
static tq_rc sign_fresh(struct tq_audit_log *log, const struct tq_note_signer *signer,
                        char **note_out, uint64_t *size_out, struct tq_err *err)
{
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    tq_rc rc;

    rc = tq_audit_checkpoint_sign(log, signer, note_out, err);
    if (rc == TQ_OK)
        rc = tq_note_parse(tq_str_c(*note_out), &note, err);
    if (rc == TQ_OK)
        rc = tq_checkpoint_parse(note->text, &cp, err);
    if (rc == TQ_OK)
        *size_out = cp.size;
    tq_note_free(note);
    return rc;
}

static int chosen_cmp(const void *a, const void *b)
{
    const struct chosen *x = a, *y = b;

    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void tq_proof_build_info_cleanup(struct tq_proof_build_info *info)
{
    if (!info)
        return;
    tq_free(info->cosigners);
    info->cosigners = NULL;
}

/* One proof on its way: what each step found for the next, and the blocks formatted so far. */
struct build_ctx {
    struct tq_store *store;
    struct tq_audit_log *log;
    const struct tq_note_signer *signer;
    const char *object_id;
    const char *partner;
    const char *collection_id; /* NULL: every collection */
    struct tq_note_verifier log_key;
    struct tq_collection *cols;
    size_t n_cols;
    struct versions vs;
    struct leaf_set set;
    struct ckpt_pick pick;
    struct tq_merkle_proof *proof;
    char *fresh; /* a checkpoint signed now, for leaves no cosigned one covers */
    uint64_t fresh_size;
    struct tq_buf extra, blocks;
    struct tq_proof_build_info res;
};

/* The stored versions of the object, in the one collection given or in all. */
static tq_rc find_versions(struct build_ctx *b, struct tq_err *err)
{
    tq_rc rc;

    if (b->collection_id) {
        rc = collect_versions(b->store, b->collection_id, b->object_id, &b->vs, err);
    } else {
        rc = tq_store_collection_list(b->store, &b->cols, &b->n_cols, err);
        for (size_t i = 0; rc == TQ_OK && i < b->n_cols; i++)
            rc = collect_versions(b->store, b->cols[i].id, b->object_id, &b->vs, err);
    }
    if (rc)
        return rc;
    if (b->vs.n == 0)
        return tq_err_set(err, TQ_ENOTFOUND, "proof: no version of %s is stored%s%s", b->object_id,
                          b->collection_id ? " in collection " : "",
                          b->collection_id ? b->collection_id : "");
    return TQ_OK;
}

/* The leaves about the versions that show the partner was given the object, in log order. */
static tq_rc find_leaves_given(struct build_ctx *b, struct tq_err *err)
{
    tq_rc rc;

    /* The reads queued before now are in the log when a proof is asked for. */
    rc = tq_audit_flush(b->log, err);
    for (size_t i = 0; rc == TQ_OK && i < b->vs.n; i++)
        rc = version_leaves(b->store, b->object_id, b->partner, &b->vs.v[i], &b->set, err);
    if (rc)
        return rc;
    if (b->set.n == 0)
        return tq_err_set(err, TQ_ENOTFOUND, "proof: the log shows no release of %s to %s",
                          b->object_id, b->partner);
    qsort(b->set.v, b->set.n, sizeof(*b->set.v), chosen_cmp);
    return TQ_OK;
}

/*
 * The checkpoints: the largest cosigned one covering the first leaf, for every leaf it
 * covers; a new one for the leaves no cosigned checkpoint covers yet.
 */
static tq_rc pick_checkpoints(struct build_ctx *b, struct tq_err *err)
{
    tq_rc rc;

    rc = tq_audit_sync(b->log, err);
    if (rc)
        return rc;
    b->pick.log = b->log;
    b->pick.log_key = &b->log_key;
    b->pick.tree_size = tq_audit_size(b->log);
    rc = tq_store_audit_checkpoints(b->store, b->set.v[0].idx + 1, ckpt_cb, &b->pick, err);
    if (rc)
        return rc;
    if (!b->pick.note || b->set.v[b->set.n - 1].idx >= b->pick.size) {
        rc = sign_fresh(b->log, b->signer, &b->fresh, &b->fresh_size, err);
        if (rc)
            return rc;
    }
    b->res.cosigned = b->fresh == NULL;
    b->res.checkpoint_size = b->fresh ? b->fresh_size : b->pick.size;
    b->res.cosigners = b->pick.note ? cosigner_names(b->pick.note, &b->log_key) : NULL;
    return TQ_OK;
}

/* Append the block of leaf c to b->blocks and count it in b->res. */
static tq_rc format_block(struct build_ctx *b, const struct chosen *c, struct tq_err *err)
{
    struct tq_proof_block blk = {0};
    bool cosigned = b->pick.note && c->idx < b->pick.size;
    tq_rc rc;

    rc = tq_audit_inclusion(b->log, c->idx, cosigned ? b->pick.size : b->fresh_size, b->proof, err);
    if (rc)
        return rc;
    tq_buf_reset(&b->extra);
    rc = tq_buf_append(&b->extra, c->salt, sizeof(c->salt));
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&b->extra, c->record);
    if (rc)
        return tq_err_set(err, rc, "proof: leaf %" PRIu64 ": record too large", c->idx);
    blk.has_extra = true;
    blk.extra = (const uint8_t *)b->extra.ptr;
    blk.extra_len = b->extra.len;
    blk.index = c->idx;
    blk.hashes = (const uint8_t(*)[TQ_MERKLE_HASH_BYTES])b->proof->hash;
    blk.n_hashes = b->proof->n;
    blk.checkpoint = tq_str_c(cosigned ? b->pick.note : b->fresh);
    b->res.n_uncosigned += !cosigned;
    rc = tq_proof_block_format(&blk, &b->blocks, err);
    if (rc)
        return rc;
    b->res.n_stored += strcmp(c->kind, "stored") == 0;
    b->res.n_released += strcmp(c->kind, "released") == 0;
    b->res.n_withdrawn += strcmp(c->kind, "withdrawn") == 0;
    b->res.n_read += strcmp(c->kind, "read") == 0;
    return TQ_OK;
}

/* One block per leaf, in log order. */
static tq_rc format_blocks(struct build_ctx *b, struct tq_err *err)
{
    tq_rc rc = TQ_OK;

    b->proof = tq_xcalloc(1, sizeof(*b->proof));
    for (size_t i = 0; rc == TQ_OK && i < b->set.n; i++)
        rc = format_block(b, &b->set.v[i], err);
    if (rc)
        return rc;
    b->res.n_leaves = b->set.n;
    return TQ_OK;
}

tq_rc tq_proof_build(struct tq_store *store, struct tq_audit_log *log,
                     const struct tq_note_signer *signer, const char *object_id,
                     const char *partner, const char *collection_id, struct tq_buf *out,
                     struct tq_proof_build_info *info, struct tq_err *err)
{
    struct build_ctx b = {.store = store,
                          .log = log,
                          .signer = signer,
                          .object_id = object_id,
                          .partner = partner,
                          .collection_id = collection_id};
    tq_rc rc;

    tq_buf_init(&b.extra, TQ_PROOF_EXTRA_MAX);
    tq_buf_init(&b.blocks, TQ_PROOF_FILE_MAX);
    if (!store || !log || !signer || !object_id || !partner || !out) {
        rc = tq_err_set(err, TQ_EINVAL, "proof: store, log, signer, object and partner needed");
        goto out;
    }
    tq_note_signer_verifier(signer, &b.log_key);

    rc = find_versions(&b, err);
    if (rc)
        goto out;
    rc = find_leaves_given(&b, err);
    if (rc)
        goto out;
    rc = pick_checkpoints(&b, err);
    if (rc)
        goto out;
    rc = format_blocks(&b, err);
    if (rc)
        goto out;
    rc = tq_buf_append(out, b.blocks.ptr, b.blocks.len);
    if (rc) {
        rc = tq_err_set(err, rc, "proof: output buffer limit");
        goto out;
    }
    if (info) {
        *info = b.res;
        b.res.cosigners = NULL;
    }
out:
    tq_proof_build_info_cleanup(&b.res);
    tq_free(b.proof);
    tq_free(b.pick.note);
    tq_free(b.fresh);
    leaf_set_cleanup(&b.set);
    tq_free(b.vs.v);
    tq_collection_list_free(b.cols, b.n_cols);
    tq_buf_cleanup(&b.blocks);
    tq_buf_cleanup(&b.extra);
    return rc;
}
