/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/witness.c - the two witnessing steps of a partner sync (c2sp.org/tlog-witness).
 *
 * Watch, before any collection is pulled: this node is the partner's witness. It fetches the
 * partner's /log/checkpoint, opens it with the partner's log key, computes from the partner's
 * hash tiles (tiles.c) the consistency proof from the checkpoint it cosigned last to this one,
 * after checking that the tiles hash to the checkpoint's root, and hands the request to
 * tq_witness_add_checkpoint, the same decision a POST to our /log/add-checkpoint gets. An alarm
 * (a checkpoint that cannot extend the one cosigned before) stops the sync: nothing is pulled
 * from a log that rewrote its history. A checkpoint smaller than the one cosigned goes with the
 * old size and an empty proof, so that the witness sees the shrinking and keeps the evidence.
 *
 * Ask, after the collections: the partner is our witness. A fresh checkpoint of our log (it
 * covers what this sync stored) goes to the partner's /log/add-checkpoint with a proof from the
 * size it cosigned last (meta audit.cosigned.<partner>, a hint: on 409 the partner's own figure
 * is used, once). The cosignature it answers is verified with its cosignature key and kept with
 * the checkpoint (tq_store_audit_checkpoint_update), replacing an older one by the same key.
 *
 * Between the two, right after the watch step, receipts.c fetches the openings of the
 * partner's entries that name this node and checks them against the checkpoint just cosigned.
 *
 * Failures that say nothing about the integrity of either log (no key, no log, an unreachable
 * partner, a malformed answer, a refusal) are warnings: logged, kept in the stats, and the sync
 * goes on. Only an alarm, a partner claiming more of our log than we have, and failures of this
 * node's own store or log are errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tansiq/audit.h"
#include "tansiq/note.h"
#include "tansiq/witness.h"
#include "sync/sync.h"

#define SHOWN_MAX 200 /* bytes of a partner's answer repeated in a warning */
#define META_KEY_MAX (32 + TQ_NAME_MAX)
#define EM_DASH "\xe2\x80\x94"

/* ---- small helpers ---------------------------------------------------------------------- */

/* The first line of an answer, control bytes replaced, at most SHOWN_MAX bytes. */
static void first_line(const struct tq_buf *b, char out[SHOWN_MAX + 1])
{
    size_t i;

    for (i = 0; b->ptr && i < b->len && i < SHOWN_MAX && b->ptr[i] != '\n'; i++) {
        unsigned char ch = (unsigned char)b->ptr[i];

        out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[i] = '\0';
}

/* Log a warning of one step and keep it in the stats (the first one of the step). */
static tq_rc warn(const struct tq__sync_witness *w, char **slot, const char *step,
                  const struct tq_err *e)
{
    tq_log(TQ_LOG_WARN, "sync: partner=%s witness %s rc=%s: %s", w->partner->name, step,
           tq_rc_name(e->rc), e->msg);
    if (!*slot)
        *slot = tq_xstrdup(e->msg[0] ? e->msg : tq_rc_str(e->rc));
    return TQ_OK;
}

/* A tree size as written in a 409 answer (text/x.tlog.size): decimal, then a newline. */
static bool parse_size(const struct tq_buf *b, uint64_t *out)
{
    size_t len = b->len;

    if (len > 0 && b->ptr[len - 1] == '\n')
        len--;
    return len > 0 && tq_str_to_u64((struct tq_str){b->ptr, len}, out);
}

static struct tq_str buf_str(const struct tq_buf *b)
{
    return (struct tq_str){b->ptr ? b->ptr : "", b->len};
}

/* ---- watch: this node as the partner's witness ------------------------------------------ */

/*
 * The consistency proof from old to cp->size out of the partner's tiles, after checking that
 * the tiles are those of cp: a proof from tiles that do not hash to the checkpoint's root would
 * prove nothing, and must not be taken for evidence against the log.
 */
static tq_rc prove_from_tiles(struct tq__sync_tiles *tiles, uint64_t old,
                              const struct tq_checkpoint *cp, struct tq_merkle_proof *proof,
                              struct tq_err *err)
{
    struct tq_merkle_source src = tq__sync_tiles_source(tiles);
    tq_rc rc;

    rc = tq__sync_tiles_check_root(tiles, cp->root, err);
    if (rc)
        return rc;
    return tq_merkle_source_consistency(&src, old, cp->size, proof, err);
}

tq_rc tq__sync_watch(const struct tq__sync_witness *w, struct tq_err *err)
{
    struct tq_merkle_proof *proof = tq_xcalloc(1, sizeof(*proof));
    struct tq_store_witness state;
    struct tq_witness_answer ans;
    struct tq_witness_log wl;
    struct tq__sync_tiles tiles;
    struct tq_checkpoint cp;
    struct tq_note *note = NULL;
    struct tq_buf body, req;
    struct tq_err e = {0};
    char line[SHOWN_MAX + 1];
    long status = 0;
    tq_rc rc;

    memset(&state, 0, sizeof(state));
    tq_buf_init(&body, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&req, TQ_WITNESS_BODY_MAX);
    tq_witness_answer_init(&ans);
    tq__sync_tiles_init(&tiles, 0, w->fetch, w->fetch_ud);

    rc = tq_witness_log_of(w->partner, &wl, &e);
    if (rc) {
        rc = warn(w, &w->stats->watch_warning, "watch", &e);
        goto out;
    }
    rc = w->fetch(w->fetch_ud, TQ_CLIENT_GET, "/log/checkpoint", (struct tq_str){NULL, 0}, NULL,
                  TQ_NOTE_MAX_BYTES, &status, &body, &e);
    if (rc == TQ_OK && status != 200) {
        first_line(&body, line);
        rc = tq_err_set(&e, status == 404 ? TQ_ENOTFOUND : TQ_EIO,
                        "the partner answered %ld for /log/checkpoint: %s", status, line);
    }
    if (rc == TQ_OK)
        rc = tq_checkpoint_open(buf_str(&body), tq_str_c(wl.origin), &wl.log_key, NULL, 0, &note,
                                &cp, &e);
    if (rc) {
        rc = warn(w, &w->stats->watch_warning, "watch", &e);
        goto out;
    }
    tiles.size = cp.size;

    /* A second round only after a 409: the state moved meanwhile (the partner asked at once). */
    for (int attempt = 0; attempt < 2; attempt++) {
        uint64_t old;

        tq_store_witness_cleanup(&state);
        memset(&state, 0, sizeof(state));
        rc = tq_store_witness_get(w->store, wl.origin, &state, err);
        if (rc == TQ_ENOTFOUND)
            state.size = 0;
        else if (rc)
            goto out;
        old = state.size;
        proof->n = 0;
        if (old > 0 && cp.size > old) {
            rc = prove_from_tiles(&tiles, old, &cp, proof, &e);
            if (rc) {
                rc = warn(w, &w->stats->watch_warning, "watch", &e);
                goto out;
            }
        }
        tq_buf_reset(&req);
        rc = tq_witness_request_format(old, proof, buf_str(&body), &req, err);
        if (rc)
            goto out;
        tq_witness_answer_cleanup(&ans);
        tq_witness_answer_init(&ans);
        rc = tq_witness_add_checkpoint(w->store, w->witness_signer, buf_str(&req),
                                       (uint64_t)(tq_time_now_us() / 1000000), &ans, err);
        if (rc)
            goto out;
        if (ans.status != 409)
            break;
    }
    first_line(&ans.body, line);
    if (ans.alarm) {
        w->stats->alarms++;
        rc = tq_err_set(err, TQ_EINTEGRITY,
                        "ALARM: the audit log of partner %s (%s) is not consistent with the "
                        "checkpoint this node cosigned before: %s (evidence kept, alarm %" PRId64
                        "); nothing was pulled",
                        w->partner->name, wl.origin, line, ans.alarm_id);
        goto out;
    }
    if (ans.status != 200) {
        tq_err_set(&e, TQ_EINVAL,
                   "the partner's checkpoint of %" PRIu64 " leaves was not cosigned: %d %s",
                   cp.size, ans.status, line);
        rc = warn(w, &w->stats->watch_warning, "watch", &e);
        goto out;
    }
    w->stats->witnessed = true;
    w->stats->witnessed_size = ans.size;
    tq_log(TQ_LOG_INFO, "sync: partner=%s witnessed origin=%s size=%" PRIu64 " tiles=%" PRIu64,
           w->partner->name, wl.origin, ans.size, tiles.fetched);
    /* The openings of the entries naming us, checked against the checkpoint just cosigned. */
    if (ans.size == cp.size)
        rc = tq__sync_receipts(w, &tiles, &cp, err);
out:
    tq__sync_tiles_cleanup(&tiles);
    tq_witness_answer_cleanup(&ans);
    tq_store_witness_cleanup(&state);
    tq_note_free(note);
    tq_buf_cleanup(&body);
    tq_buf_cleanup(&req);
    tq_free(proof);
    return rc;
}

/* ---- ask: the partner as this node's witness -------------------------------------------- */

static void meta_key(const struct tq__sync_witness *w, char out[META_KEY_MAX])
{
    snprintf(out, META_KEY_MAX, "audit.cosigned.%s", w->partner->name);
}

/* The size the partner cosigned last, as far as this node knows; 0 when unknown. */
static tq_rc cosigned_hint(const struct tq__sync_witness *w, uint64_t *out, struct tq_err *err)
{
    char key[META_KEY_MAX], *v = NULL;
    struct tq_buf b;
    tq_rc rc;

    *out = 0;
    meta_key(w, key);
    rc = tq_store_meta_get(w->store, key, &v, err);
    if (rc == TQ_ENOTFOUND)
        return TQ_OK;
    if (rc)
        return rc;
    b = (struct tq_buf){.ptr = v, .len = strlen(v)};
    if (!parse_size(&b, out))
        *out = 0;
    tq_free(v);
    return TQ_OK;
}

/* Sign a fresh checkpoint of our log; its note in *note_out (tq_free), its size in *size. */
static tq_rc sign_fresh(const struct tq__sync_witness *w, char **note_out, uint64_t *size,
                        struct tq_err *err)
{
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    char *text = NULL;
    tq_rc rc;

    rc = tq_audit_checkpoint_sign(w->audit, w->log_signer, &text, err);
    if (rc == TQ_OK)
        rc = tq_note_parse(tq_str_c(text), &note, err);
    if (rc == TQ_OK)
        rc = tq_checkpoint_parse(note->text, &cp, err);
    if (rc) {
        tq_free(text);
        tq_note_free(note);
        return rc;
    }
    *size = cp.size;
    *note_out = text;
    tq_note_free(note);
    return TQ_OK;
}

/*
 * The note of msg without the signature lines of key: an older cosignature by the same witness
 * gives way to the new one, as tq_note_cosign does for signatures made here.
 */
static tq_rc note_without(struct tq_str msg, const struct tq_note_verifier *key,
                          struct tq_note **out, struct tq_err *err)
{
    struct tq_note *note = NULL;
    struct tq_buf b;
    bool dropped = false;
    tq_rc rc;

    rc = tq_note_parse(msg, &note, err);
    if (rc)
        return rc;
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    rc = tq_buf_append_str(&b, note->text);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&b, "\n");
    for (size_t i = 0; rc == TQ_OK && i < note->n_sigs; i++) {
        const struct tq_note_sig *s = &note->sigs[i];

        if (s->key_id == key->key_id && tq_str_eq_c(s->name, key->name)) {
            dropped = true;
            continue;
        }
        rc = tq_buf_printf(&b, EM_DASH " %.*s %.*s\n", (int)s->name.len, s->name.ptr,
                           (int)s->b64.len, s->b64.ptr);
    }
    if (rc) {
        rc = tq_err_set(err, rc, "checkpoint note too large");
    } else if (dropped) {
        tq_note_free(note);
        note = NULL;
        rc = tq_note_parse((struct tq_str){b.ptr, b.len}, &note, err);
    }
    tq_buf_cleanup(&b);
    if (rc) {
        tq_note_free(note);
        return rc;
    }
    *out = note;
    return TQ_OK;
}

/*
 * Add the partner's cosignature lines to the kept checkpoint of size leaves (signed is our own
 * note of it, used when the store no longer holds that size), verify them with the partner's
 * cosignature key and keep the result. TQ_EINTEGRITY / TQ_EAUTH / TQ_EINVAL when the lines do
 * not verify or do not parse; store errors as they come.
 */
static tq_rc keep_cosignature(const struct tq__sync_witness *w, const struct tq_witness_log *wl,
                              uint64_t size, const char *signed_note, const struct tq_buf *lines,
                              struct tq_err *err)
{
    struct tq_note *note = NULL;
    char *kept = NULL;
    struct tq_err why = {0};
    struct tq_buf out;
    tq_rc rc;

    tq_buf_init(&out, TQ_NOTE_MAX_BYTES);
    rc = tq_store_audit_checkpoint_at(w->store, size, &kept, err);
    if (rc && rc != TQ_ENOTFOUND)
        goto out;
    rc = note_without(tq_str_c(kept ? kept : signed_note), &wl->cosig_key, &note, err);
    if (rc)
        goto out;
    rc = tq_note_add_sig_lines(note, buf_str(lines), err);
    if (rc)
        goto out;
    rc = tq_note_verify(note, &wl->cosig_key, 1, &why);
    if (rc) {
        rc = tq_err_set(err, rc == TQ_EAUTH ? TQ_EINTEGRITY : rc,
                        "the partner's cosignature does not verify with its key: %s", why.msg);
        goto out;
    }
    rc = tq_note_format(note, &out, err);
    if (rc == TQ_OK)
        rc = tq_store_audit_checkpoint_update(w->store, size, out.ptr, err);
out:
    tq_note_free(note);
    tq_free(kept);
    tq_buf_cleanup(&out);
    return rc;
}

tq_rc tq__sync_ask(const struct tq__sync_witness *w, struct tq_err *err)
{
    struct tq_merkle_proof *proof = tq_xcalloc(1, sizeof(*proof));
    struct tq_witness_log wl;
    struct tq_buf req, resp;
    struct tq_err e = {0};
    char line[SHOWN_MAX + 1], key[META_KEY_MAX], num[24];
    char *note = NULL;
    uint64_t size = 0, old = 0, named;
    long status = 0;
    tq_rc rc;

    tq_buf_init(&req, TQ_WITNESS_BODY_MAX);
    tq_buf_init(&resp, TQ_NOTE_MAX_BYTES);
    rc = tq_witness_log_of(w->partner, &wl, &e);
    if (rc) {
        rc = warn(w, &w->stats->ask_warning, "ask", &e);
        goto out;
    }
    rc = sign_fresh(w, &note, &size, err);
    if (rc == TQ_OK)
        rc = cosigned_hint(w, &old, err);
    if (rc)
        goto out;
    if (old > size)
        old = 0; /* a stale hint: the partner's 409 will say */

    for (int attempt = 0;; attempt++) {
        proof->n = 0;
        if (old > 0 && old < size) {
            rc = tq_audit_consistency(w->audit, old, size, proof, err);
            if (rc)
                goto out;
        }
        tq_buf_reset(&req);
        tq_buf_reset(&resp);
        rc = tq_witness_request_format(old, proof, tq_str_c(note), &req, err);
        if (rc)
            goto out;
        rc = w->fetch(w->fetch_ud, TQ_CLIENT_POST, "/log/add-checkpoint", buf_str(&req),
                      "text/plain", TQ_NOTE_MAX_BYTES, &status, &resp, &e);
        if (rc) {
            rc = warn(w, &w->stats->ask_warning, "ask", &e);
            goto out;
        }
        if (status != 409 || attempt > 0)
            break;
        /* The partner cosigned another size of ours last: prove from that one. */
        if (!parse_size(&resp, &named)) {
            first_line(&resp, line);
            tq_err_set(&e, TQ_EUNPROCESSABLE, "the partner answered 409 without a size: %s", line);
            rc = warn(w, &w->stats->ask_warning, "ask", &e);
            goto out;
        }
        rc = tq_audit_sync(w->audit, err);
        if (rc)
            goto out;
        if (named > tq_audit_size(w->audit)) {
            rc = tq_err_set(err, TQ_EINTEGRITY,
                            "partner %s cosigned %" PRIu64 " leaves of this node's audit log, "
                            "which holds only %" PRIu64
                            ": the log lost leaves, or the partner's witness state is wrong",
                            w->partner->name, named, tq_audit_size(w->audit));
            goto out;
        }
        if (named > size) {
            /* It saw a newer checkpoint of ours meanwhile (its own sync watched us). */
            tq_free(note);
            note = NULL;
            rc = sign_fresh(w, &note, &size, err);
            if (rc)
                goto out;
        }
        old = named;
    }
    if (status != 200) {
        first_line(&resp, line);
        tq_err_set(&e, TQ_EINVAL,
                   "the partner did not cosign this node's checkpoint of %" PRIu64
                   " leaves: %ld %s",
                   size, status, line);
        rc = warn(w, &w->stats->ask_warning, "ask", &e);
        goto out;
    }
    rc = keep_cosignature(w, &wl, size, note, &resp, &e);
    if (rc == TQ_ESTORE || rc == TQ_ENOMEM) {
        if (err)
            *err = e;
        goto out;
    }
    if (rc) {
        rc = warn(w, &w->stats->ask_warning, "ask", &e);
        goto out;
    }
    meta_key(w, key);
    snprintf(num, sizeof(num), "%" PRIu64, size);
    rc = tq_store_meta_set(w->store, key, num, err);
    if (rc)
        goto out;
    w->stats->cosigned = true;
    w->stats->cosigned_size = size;
    tq_log(TQ_LOG_INFO, "sync: partner=%s cosigned our checkpoint size=%" PRIu64, w->partner->name,
           size);
out:
    tq_free(note);
    tq_free(proof);
    tq_buf_cleanup(&req);
    tq_buf_cleanup(&resp);
    return rc;
}
