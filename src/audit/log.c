/* SPDX-License-Identifier: Apache-2.0
 *
 * audit/log.c - the audit log: the Merkle tree over the store's leaves, checkpoints, tiles and
 * the batch writer of partners' reads.
 *
 * The store is the log's only durable state. The tree here is a cache of its leaf hashes,
 * rebuilt at open and caught up by reading the leaves with idx >= its size, so it never holds a
 * leaf that is not committed. Other processes on the same store (`tansiq import`, `tansiq sync`,
 * `tansiq log checkpoint`) append leaves and sign checkpoints too, so nothing about the latest
 * checkpoint is cached here: whoever asks for it (to serve it, or the tiles and openings under
 * it) reads it from the store and brings the tree up to it first (latest_covered).
 *
 * Reads reach the log through a queue that one thread writes out in a single transaction every
 * flush_interval_ms or flush_max reads; a checkpoint writes the queue first, so it covers every
 * read acknowledged before it. tree_mu guards the tree, sign_mu makes checkpoints one at a time
 * in this process and the store's signer lock (tq_store_signer_run) one at a time among every
 * process of the node (several serve processes on one PostgreSQL database); q_mu guards the
 * queue. Lock order: sign_mu, the signer lock, then tree_mu; q_mu is always taken last and
 * released before any other lock is taken.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tansiq/audit.h"

#define SYNC_CHUNK 4096 /* leaf hashes read per store call when catching up */

/* One read event: a single version, or the versions of one response by date_added. */
struct queued_read {
    char *partner;
    char *collection;
    int64_t at_us;
    char *object; /* NULL when added is used */
    int64_t version_us;
    bool has_sha;
    uint8_t sha256[32];
    int64_t *added;
    size_t n_added;
};

struct tq_audit_log {
    struct tq_store *store;
    struct tq_merkle *tree;
    pthread_mutex_t tree_mu;
    pthread_mutex_t sign_mu;
    int64_t last_sign_mono_us;

    /* read queue and its writer */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    struct queued_read *q;
    size_t q_len, q_cap;
    unsigned flush_interval_ms;
    unsigned flush_max;
    bool stop;
    bool has_thread;
    pthread_t thread;
    pthread_mutex_t flush_mu; /* one batch written at a time, in queue order */
};

/* ---- tree ----------------------------------------------------------------------------- */

static tq_rc sync_locked(struct tq_audit_log *log, struct tq_err *err)
{
    uint8_t(*hashes)[32] = NULL;
    size_t got = 0, i;
    uint64_t from;
    tq_rc rc = TQ_OK;

    hashes = tq_xcalloc(SYNC_CHUNK, sizeof(*hashes));
    for (;;) {
        from = tq_merkle_size(log->tree);
        rc = tq_store_audit_leaf_hashes(log->store, from, SYNC_CHUNK, hashes, &got, err);
        if (rc)
            break;
        for (i = 0; rc == TQ_OK && i < got; i++)
            rc = tq_merkle_append(log->tree, hashes[i], err);
        if (rc || got < SYNC_CHUNK)
            break;
    }
    tq_free(hashes);
    return rc;
}

tq_rc tq_audit_sync(struct tq_audit_log *log, struct tq_err *err)
{
    tq_rc rc;

    if (!log)
        return tq_err_set(err, TQ_EINVAL, "audit: no log");
    pthread_mutex_lock(&log->tree_mu);
    rc = sync_locked(log, err);
    pthread_mutex_unlock(&log->tree_mu);
    return rc;
}

uint64_t tq_audit_size(struct tq_audit_log *log)
{
    uint64_t n;

    pthread_mutex_lock(&log->tree_mu);
    n = tq_merkle_size(log->tree);
    pthread_mutex_unlock(&log->tree_mu);
    return n;
}

tq_rc tq_audit_root(struct tq_audit_log *log, uint64_t size, uint8_t out[TQ_MERKLE_HASH_BYTES],
                    struct tq_err *err)
{
    tq_rc rc;

    pthread_mutex_lock(&log->tree_mu);
    rc = tq_merkle_root(log->tree, size, out, err);
    pthread_mutex_unlock(&log->tree_mu);
    return rc;
}

tq_rc tq_audit_inclusion(struct tq_audit_log *log, uint64_t index, uint64_t size,
                         struct tq_merkle_proof *out, struct tq_err *err)
{
    tq_rc rc;

    pthread_mutex_lock(&log->tree_mu);
    rc = tq_merkle_inclusion(log->tree, index, size, out, err);
    pthread_mutex_unlock(&log->tree_mu);
    return rc;
}

tq_rc tq_audit_consistency(struct tq_audit_log *log, uint64_t size1, uint64_t size2,
                           struct tq_merkle_proof *out, struct tq_err *err)
{
    tq_rc rc;

    pthread_mutex_lock(&log->tree_mu);
    rc = tq_merkle_consistency(log->tree, size1, size2, out, err);
    pthread_mutex_unlock(&log->tree_mu);
    return rc;
}

/*
 * The latest kept checkpoint, whichever process signed it, with the tree brought up to it: read
 * the note from the store first, then catch the tree up when it is shorter (the leaves a
 * checkpoint covers are committed before it is kept, so they are there), then check that the
 * tree's first size leaves hash to its root. So the tiles of the tree prove the checkpoint as
 * soon as it is returned. *size gets its size, *note_out (may be NULL) the note (tq_free).
 * TQ_ENOTFOUND when none is kept; TQ_EINTEGRITY when the stored leaves fall short of it or do
 * not hash to its root. Takes tree_mu.
 */
static tq_rc latest_covered(struct tq_audit_log *log, char **note_out, uint64_t *size,
                            struct tq_err *err)
{
    uint8_t root[TQ_MERKLE_HASH_BYTES];
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err why = {0};
    char *text = NULL;
    uint64_t have = 0;
    tq_rc rc;

    rc = tq_store_audit_checkpoint_get(log->store, &text, err);
    if (rc)
        goto out;
    rc = tq_note_parse(tq_str_c(text), &note, &why);
    if (rc == TQ_OK)
        rc = tq_checkpoint_parse(note->text, &cp, &why);
    if (rc) {
        rc = tq_err_set(err, TQ_EINTEGRITY, "audit: the latest kept checkpoint is malformed: %s",
                        why.msg);
        goto out;
    }
    pthread_mutex_lock(&log->tree_mu);
    if (cp.size > tq_merkle_size(log->tree))
        rc = sync_locked(log, err);
    if (rc == TQ_OK) {
        have = tq_merkle_size(log->tree);
        if (cp.size > have)
            rc = tq_err_set(err, TQ_EINTEGRITY,
                            "audit: the latest checkpoint covers %" PRIu64
                            " leaves, the store holds %" PRIu64,
                            cp.size, have);
    }
    if (rc == TQ_OK)
        rc = tq_merkle_root(log->tree, cp.size, root, err);
    if (rc == TQ_OK && memcmp(root, cp.root, sizeof(root)) != 0)
        rc = tq_err_set(err, TQ_EINTEGRITY,
                        "audit: the stored leaves do not hash to the root of the latest "
                        "checkpoint (%" PRIu64 " leaves)",
                        cp.size);
    pthread_mutex_unlock(&log->tree_mu);
    if (rc)
        goto out;
    *size = cp.size;
    if (note_out) {
        *note_out = text;
        text = NULL;
    }
out:
    tq_note_free(note);
    tq_free(text);
    return rc;
}

tq_rc tq_audit_checkpoint_size(struct tq_audit_log *log, uint64_t *size, struct tq_err *err)
{
    if (!log || !size)
        return tq_err_set(err, TQ_EINVAL, "audit: no log");
    return latest_covered(log, NULL, size, err);
}

/* ---- read queue ----------------------------------------------------------------------- */

static void queued_cleanup(struct queued_read *r)
{
    tq_free(r->object);
    tq_free(r->added);
    tq_free(r->partner);
    tq_free(r->collection);
}

/* Take the queue and write it in one transaction; flush_mu keeps batches in order. */
static tq_rc flush_queue(struct tq_audit_log *log, struct tq_err *err)
{
    struct tq_store_audit_event *ev = NULL;
    struct queued_read *batch;
    size_t n, i;
    tq_rc rc = TQ_OK;

    pthread_mutex_lock(&log->flush_mu);
    pthread_mutex_lock(&log->q_mu);
    batch = log->q;
    n = log->q_len;
    log->q = NULL;
    log->q_len = log->q_cap = 0;
    pthread_mutex_unlock(&log->q_mu);
    if (n) {
        ev = tq_xcalloc(n, sizeof(*ev));
        for (i = 0; i < n; i++) {
            ev[i] =
                (struct tq_store_audit_event){.kind = "read",
                                              .at_us = batch[i].at_us,
                                              .collection = batch[i].collection,
                                              .object = batch[i].object,
                                              .version_us = batch[i].version_us,
                                              .sha256 = batch[i].has_sha ? batch[i].sha256 : NULL,
                                              .partner = batch[i].partner,
                                              .added_us = batch[i].added,
                                              .n_added = batch[i].n_added};
        }
        rc = tq_store_audit_append(log->store, ev, n, err);
        if (rc)
            tq_log(TQ_LOG_ERROR, "audit: %zu read events not written: %s", n,
                   err ? err->msg : tq_rc_str(rc));
    }
    pthread_mutex_unlock(&log->flush_mu);
    for (i = 0; i < n; i++)
        queued_cleanup(&batch[i]);
    tq_free(batch);
    tq_free(ev);
    return rc;
}

static void *writer_main(void *arg)
{
    struct tq_audit_log *log = arg;
    struct tq_err err = {0};
    struct timespec ts;
    bool stop;

    for (;;) {
        pthread_mutex_lock(&log->q_mu);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(log->flush_interval_ms % 1000) * 1000000L;
        ts.tv_sec += log->flush_interval_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        while (!log->stop && log->q_len < log->flush_max) {
            if (pthread_cond_timedwait(&log->q_cv, &log->q_mu, &ts) != 0)
                break;
        }
        stop = log->stop;
        pthread_mutex_unlock(&log->q_mu);
        flush_queue(log, &err);
        if (stop)
            break;
    }
    return NULL;
}

/* Append r to the queue (taking its memory) and wake the writer when a batch is full. */
static void enqueue(struct tq_audit_log *log, struct queued_read *r)
{
    pthread_mutex_lock(&log->q_mu);
    if (log->q_len == log->q_cap) {
        log->q_cap = log->q_cap ? log->q_cap * 2 : 64;
        log->q = tq_xrealloc(log->q, log->q_cap * sizeof(*log->q));
    }
    log->q[log->q_len++] = *r;
    if (log->q_len >= log->flush_max)
        pthread_cond_signal(&log->q_cv);
    pthread_mutex_unlock(&log->q_mu);
}

tq_rc tq_audit_note_read(struct tq_audit_log *log, const char *partner, const char *collection,
                         const char *object, int64_t version_us, const uint8_t *sha256,
                         struct tq_err *err)
{
    struct queued_read r = {0};

    if (!log || !partner || !collection || !object)
        return tq_err_set(err, TQ_EINVAL, "audit: read event lacks partner, collection or object");
    r.partner = tq_xstrdup(partner);
    r.collection = tq_xstrdup(collection);
    r.object = tq_xstrdup(object);
    r.version_us = version_us;
    r.at_us = tq_time_now_us();
    if (sha256) {
        r.has_sha = true;
        memcpy(r.sha256, sha256, 32);
    }
    enqueue(log, &r);
    return TQ_OK;
}

tq_rc tq_audit_note_reads(struct tq_audit_log *log, const char *partner, const char *collection,
                          const int64_t *added_us, size_t n, struct tq_err *err)
{
    struct queued_read r = {0};

    if (!log || !partner || !collection || !added_us || n == 0)
        return tq_err_set(err, TQ_EINVAL, "audit: read event lacks partner, collection or objects");
    r.partner = tq_xstrdup(partner);
    r.collection = tq_xstrdup(collection);
    r.version_us = -1;
    r.at_us = tq_time_now_us();
    r.added = tq_xcalloc(n, sizeof(*r.added));
    memcpy(r.added, added_us, n * sizeof(*r.added));
    r.n_added = n;
    enqueue(log, &r);
    return TQ_OK;
}

tq_rc tq_audit_append_event(struct tq_audit_log *log, const struct tq_store_audit_event *ev,
                            struct tq_err *err)
{
    tq_rc rc;

    if (!log || !ev)
        return tq_err_set(err, TQ_EINVAL, "audit: no log or no event");
    rc = flush_queue(log, err); /* the reads queued before it come first */
    if (rc)
        return rc;
    pthread_mutex_lock(&log->flush_mu);
    rc = tq_store_audit_append(log->store, ev, 1, err);
    pthread_mutex_unlock(&log->flush_mu);
    return rc;
}

tq_rc tq_audit_flush(struct tq_audit_log *log, struct tq_err *err)
{
    tq_rc rc;

    if (!log)
        return tq_err_set(err, TQ_EINVAL, "audit: no log");
    rc = flush_queue(log, err);
    if (rc == TQ_OK)
        rc = tq_audit_sync(log, err);
    return rc;
}

/* ---- open and close ------------------------------------------------------------------- */

tq_rc tq_audit_log_open(struct tq_store *store, const struct tq_audit_options *opt,
                        struct tq_audit_log **out, struct tq_err *err)
{
    struct tq_audit_log *log;
    tq_rc rc;

    if (!store || !out)
        return tq_err_set(err, TQ_EINVAL, "audit: no store");
    log = tq_xcalloc(1, sizeof(*log));
    log->store = store;
    log->tree = tq_merkle_new(0);
    log->flush_interval_ms = opt && opt->flush_interval_ms ? opt->flush_interval_ms : 5000;
    log->flush_max = opt && opt->flush_max ? opt->flush_max : 16384;
    log->last_sign_mono_us = INT64_MIN / 2;
    pthread_mutex_init(&log->tree_mu, NULL);
    pthread_mutex_init(&log->sign_mu, NULL);
    pthread_mutex_init(&log->q_mu, NULL);
    pthread_mutex_init(&log->flush_mu, NULL);
    pthread_cond_init(&log->q_cv, NULL);
    rc = tq_audit_sync(log, err);
    if (rc)
        goto out;
    if (!(opt && opt->no_thread)) {
        if (pthread_create(&log->thread, NULL, writer_main, log) != 0) {
            rc = tq_err_set(err, TQ_ENOMEM, "audit: cannot start the read writer");
            goto out;
        }
        log->has_thread = true;
    }
    *out = log;
    log = NULL;
out:
    tq_audit_log_close(log);
    return rc;
}

void tq_audit_log_close(struct tq_audit_log *log)
{
    struct tq_err err = {0};

    if (!log)
        return;
    if (log->has_thread) {
        pthread_mutex_lock(&log->q_mu);
        log->stop = true;
        pthread_cond_signal(&log->q_cv);
        pthread_mutex_unlock(&log->q_mu);
        pthread_join(log->thread, NULL);
    }
    flush_queue(log, &err);
    pthread_cond_destroy(&log->q_cv);
    pthread_mutex_destroy(&log->flush_mu);
    pthread_mutex_destroy(&log->q_mu);
    pthread_mutex_destroy(&log->sign_mu);
    pthread_mutex_destroy(&log->tree_mu);
    tq_merkle_free(log->tree);
    tq_free(log);
}

/* ---- checkpoints ---------------------------------------------------------------------- */

void tq_audit_default_origin(const uint8_t cert_sha256[32], char out[TQ_AUDIT_ORIGIN_MAX])
{
    size_t n = strlen("tansiq/");

    memcpy(out, "tansiq/", n);
    tq_hex_encode(cert_sha256, 8, out + n);
}

/*
 * Prove that a tree of size leaves is consistent with the latest kept checkpoint prev (its note,
 * NULL when none), from the tree itself: RFC 9162 §2.1.4 proof, checked with the verifier a
 * partner would run. prev must have been read before the tree was synced: the tree then covers
 * it even when another process signed it, and a prev larger than the tree means lost leaves.
 * Called with tree_mu held.
 */
static tq_rc check_consistent(struct tq_audit_log *log, const char *prev, uint64_t size,
                              const uint8_t root[TQ_MERKLE_HASH_BYTES], struct tq_err *err)
{
    struct tq_str proof_v[TQ_MERKLE_PROOF_MAX];
    struct tq_merkle_proof *proof = NULL;
    struct tq_checkpoint cp;
    struct tq_note *note = NULL;
    size_t i;
    tq_rc rc;

    if (!prev)
        return TQ_OK;
    rc = tq_note_parse(tq_str_c(prev), &note, err);
    if (rc == TQ_OK)
        rc = tq_checkpoint_parse(note->text, &cp, err);
    if (rc)
        goto out;
    if (cp.size > size) {
        rc = tq_err_set(err, TQ_EINTEGRITY,
                        "audit: the log has %" PRIu64 " leaves, fewer than the %" PRIu64
                        " of its latest checkpoint",
                        size, cp.size);
        goto out;
    }
    proof = tq_xcalloc(1, sizeof(*proof));
    if (cp.size == 0)
        goto out; /* the empty tree is a prefix of every tree */
    rc = tq_merkle_consistency(log->tree, cp.size, size, proof, err);
    if (rc)
        goto out;
    for (i = 0; i < proof->n; i++)
        proof_v[i] = (struct tq_str){(const char *)proof->hash[i], TQ_MERKLE_HASH_BYTES};
    rc = tq_merkle_verify_consistency(cp.size, size, proof_v, proof->n,
                                      (struct tq_str){(const char *)cp.root, TQ_MERKLE_HASH_BYTES},
                                      (struct tq_str){(const char *)root, TQ_MERKLE_HASH_BYTES},
                                      err);
    if (rc)
        rc = tq_err_set(err, TQ_EINTEGRITY,
                        "audit: the tree of %" PRIu64 " leaves is not consistent with the "
                        "latest checkpoint (%" PRIu64 " leaves)",
                        size, cp.size);
out:
    tq_free(proof);
    tq_note_free(note);
    return rc;
}

struct sign_args {
    struct tq_audit_log *log;
    const struct tq_note_signer *signer;
    char **note_out;
};

/* Sign a checkpoint of the whole synced tree, holding the store's signer lock. */
static tq_rc sign_now(void *ud, struct tq_err *err)
{
    struct sign_args *a = ud;
    struct tq_audit_log *log = a->log;
    const struct tq_note_signer *signer = a->signer;
    char **note_out = a->note_out;
    uint8_t root[TQ_MERKLE_HASH_BYTES];
    struct tq_checkpoint cp = {0};
    struct tq_note *note = NULL;
    struct tq_buf text, signed_text;
    char *prev = NULL;
    uint64_t size = 0;
    tq_rc rc;

    tq_buf_init(&text, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&signed_text, TQ_NOTE_MAX_BYTES);
    rc = flush_queue(log, err);
    if (rc)
        goto out;
    /* The latest first, then the leaves: a checkpoint another process signs in between is then
     * either seen here or newer than ours, which the store refuses (TQ_ECONFLICT). */
    rc = tq_store_audit_checkpoint_get(log->store, &prev, err);
    if (rc == TQ_ENOTFOUND)
        rc = TQ_OK;
    if (rc)
        goto out;
    pthread_mutex_lock(&log->tree_mu);
    rc = sync_locked(log, err);
    if (rc == TQ_OK) {
        size = tq_merkle_size(log->tree);
        rc = tq_merkle_root(log->tree, size, root, err);
    }
    if (rc == TQ_OK)
        rc = check_consistent(log, prev, size, root, err);
    pthread_mutex_unlock(&log->tree_mu);
    if (rc)
        goto out;

    cp.origin = tq_str_c(signer->name);
    cp.size = size;
    memcpy(cp.root, root, sizeof(root));
    rc = tq_checkpoint_format(&cp, &text, err);
    if (rc == TQ_OK)
        rc = tq_note_new((struct tq_str){text.ptr, text.len}, &note, err);
    if (rc == TQ_OK)
        rc = tq_note_sign(note, signer, err);
    if (rc == TQ_OK)
        rc = tq_note_format(note, &signed_text, err);
    if (rc == TQ_OK)
        rc = tq_store_audit_checkpoint_put(log->store, size, signed_text.ptr, err);
    if (rc)
        goto out;
    log->last_sign_mono_us = tq_time_mono_us();
    if (note_out)
        *note_out = tq_buf_take(&signed_text, NULL);
out:
    tq_free(prev);
    tq_note_free(note);
    tq_buf_cleanup(&text);
    tq_buf_cleanup(&signed_text);
    return rc;
}

/*
 * Sign under the store's signer lock (one process of the node at a time), called with sign_mu
 * held (one thread of this process at a time).
 */
static tq_rc sign_locked(struct tq_audit_log *log, const struct tq_note_signer *signer,
                         char **note_out, struct tq_err *err)
{
    struct sign_args a = {log, signer, note_out};

    return tq_store_signer_run(log->store, sign_now, &a, err);
}

tq_rc tq_audit_checkpoint_sign(struct tq_audit_log *log, const struct tq_note_signer *signer,
                               char **note_out, struct tq_err *err)
{
    tq_rc rc;

    if (!log || !signer)
        return tq_err_set(err, TQ_EINVAL, "audit: no log or signer");
    pthread_mutex_lock(&log->sign_mu);
    rc = sign_locked(log, signer, note_out, err);
    pthread_mutex_unlock(&log->sign_mu);
    return rc;
}

tq_rc tq_audit_checkpoint_latest(struct tq_audit_log *log, char **note_out, struct tq_err *err)
{
    if (!log || !note_out)
        return tq_err_set(err, TQ_EINVAL, "audit: no log");
    return tq_store_audit_checkpoint_get(log->store, note_out, err);
}

tq_rc tq_audit_checkpoint_fresh(struct tq_audit_log *log, const struct tq_note_signer *signer,
                                unsigned min_interval_ms, char **note_out, struct tq_err *err)
{
    char *latest = NULL;
    bool recent, queued, none;
    uint64_t size = 0;
    tq_rc rc;

    if (!log || !signer || !note_out)
        return tq_err_set(err, TQ_EINVAL, "audit: no log or signer");
    pthread_mutex_lock(&log->sign_mu);
    /* The latest kept, covered by the tree, whichever process signed it; then every leaf. */
    rc = latest_covered(log, &latest, &size, err);
    none = rc == TQ_ENOTFOUND;
    if (rc && !none)
        goto out;
    rc = tq_audit_sync(log, err);
    if (rc)
        goto out;
    recent = tq_time_mono_us() - log->last_sign_mono_us < (int64_t)min_interval_ms * 1000;
    pthread_mutex_lock(&log->q_mu);
    queued = log->q_len > 0; /* reads answered but not yet written: signing writes them */
    pthread_mutex_unlock(&log->q_mu);
    if (none || (!recent && (queued || size != tq_audit_size(log)))) {
        char *fresh = NULL;

        rc = sign_locked(log, signer, &fresh, err);
        if (rc == TQ_OK) {
            tq_free(latest);
            latest = fresh;
        } else if (rc == TQ_ECONFLICT) {
            /* Another process kept a newer one meanwhile: serve that one. */
            tq_free(latest);
            latest = NULL;
            rc = latest_covered(log, &latest, &size, err);
        } else if ((rc == TQ_ENOSPACE || rc == TQ_EREADONLY) && latest) {
            /* A read-only store (full disk, replica): the latest kept one is still the log's
             * word. */
            tq_log(TQ_LOG_WARN,
                   "audit: store read-only: serving the checkpoint of %" PRIu64
                   " leaves without signing a newer one",
                   size);
            tq_err_clear(err);
            rc = TQ_OK;
        }
        if (rc)
            goto out;
    }
    *note_out = latest;
    latest = NULL;
out:
    pthread_mutex_unlock(&log->sign_mu);
    tq_free(latest);
    return rc;
}

/* ---- tiles ---------------------------------------------------------------------------- */

tq_rc tq_audit_tile(struct tq_audit_log *log, uint64_t size, unsigned level, uint64_t index,
                    unsigned width, struct tq_buf *out, struct tq_err *err)
{
    tq_rc rc;

    if (width == 0 || width > TQ_MERKLE_TILE_WIDTH ||
        width > tq_merkle_tile_width(size, level, index))
        return tq_err_set(err, TQ_ENOTFOUND, "audit: no such tile");
    pthread_mutex_lock(&log->tree_mu);
    if (size > tq_merkle_size(log->tree))
        rc = tq_err_set(err, TQ_ENOTFOUND, "audit: no such tile");
    else
        rc = tq_merkle_tile(log->tree, level, index, width, out, err);
    pthread_mutex_unlock(&log->tree_mu);
    return rc;
}

tq_rc tq_audit_entries(struct tq_audit_log *log, uint64_t size, uint64_t index, unsigned width,
                       struct tq_buf *out, struct tq_err *err)
{
    static const uint8_t len_be[2] = {0, 32};
    uint8_t(*c)[32] = NULL;
    size_t got = 0, i;
    tq_rc rc;

    if (width == 0 || width > tq_merkle_tile_width(size, 0, index))
        return tq_err_set(err, TQ_ENOTFOUND, "audit: no such entry bundle");
    c = tq_xcalloc(width, sizeof(*c));
    rc = tq_store_audit_hashes(log->store, TQ_AUDIT_COMMITMENT, index * TQ_MERKLE_TILE_WIDTH, width,
                               c, &got, err);
    if (rc == TQ_OK && got != width)
        rc = tq_err_set(err, TQ_ENOTFOUND, "audit: no such entry bundle");
    for (i = 0; rc == TQ_OK && i < got; i++) {
        rc = tq_buf_append(out, len_be, sizeof(len_be));
        if (rc == TQ_OK)
            rc = tq_buf_append(out, c[i], 32);
        if (rc)
            rc = tq_err_set(err, rc, "audit: entry bundle too large");
    }
    tq_free(c);
    return rc;
}
