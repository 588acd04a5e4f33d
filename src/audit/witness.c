/* SPDX-License-Identifier: Apache-2.0
 *
 * audit/witness.c - this node as a c2sp.org/tlog-witness of its partners' audit logs.
 *
 * One decision, tq_witness_add_checkpoint, takes an add-checkpoint request body, finds the
 * partner whose log has the checkpoint's origin, verifies the log's signature, and cosigns the
 * checkpoint only when a consistency proof shows that it extends the one cosigned last for that
 * origin (store.h, "witnessing"); the new state is committed, by compare and swap on its size,
 * before the cosignature is handed out. A checkpoint the log signed that cannot extend the
 * state (smaller, another root at the same size, a failing proof) is an alarm: both notes and
 * the proof are kept in the store and the event is logged at error level. The statuses are
 * those of the spec; docs/internals/audit.md ("Witness") has the order and the rationale.
 *
 * Pure computation plus store calls; no global state, safe from any thread.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "tansiq/witness.h"

#define ANSWER_MAX 8192        /* the longest answer body: a cosignature line or a reason */
#define REASON_MAX 640         /* a reason line, the error detail it quotes included */
#define EM_DASH "\xe2\x80\x94" /* U+2014, the start of a signature line */

/* ---- the logs this node witnesses ------------------------------------------------------- */

tq_rc tq_witness_log_of(const struct tq_partner *p, struct tq_witness_log *out, struct tq_err *err)
{
    struct tq_witness_log wl;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES + 1];
    size_t n = 0;
    tq_rc rc;

    if (!p || !out || !p->name[0] || !memchr(p->name, 0, sizeof(p->name)))
        return tq_err_set(err, TQ_EINVAL, "witness: no partner");
    /* A store's "no certificate pinned" reads as zeroes: such a partner has no origin. */
    if (tq_is_zero(p->cert_sha256, sizeof(p->cert_sha256)))
        return tq_err_set(err, TQ_ECONFIG,
                          "witness: partner %s has no pinned certificate, so its log has no origin",
                          p->name);
    /* The whitespace tq_node_pubkey_check tolerates (a key read from a file) is tolerated too. */
    if (!p->sign_pubkey ||
        sodium_base642bin(pk, sizeof(pk), p->sign_pubkey, strlen(p->sign_pubkey), " \r\n\t", &n,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != crypto_sign_PUBLICKEYBYTES)
        return tq_err_set(err, TQ_ECONFIG,
                          "witness: partner %s has no valid Ed25519 public key (base64, 32 bytes)",
                          p->name);
    memset(&wl, 0, sizeof(wl));
    snprintf(wl.partner, sizeof(wl.partner), "%s", p->name);
    tq_audit_default_origin(p->cert_sha256, wl.origin);
    rc = tq_note_verifier_from_pubkey(tq_str_c(wl.origin), TQ_NOTE_ALG_ED25519, pk, &wl.log_key,
                                      err);
    if (rc == TQ_OK)
        rc = tq_note_verifier_from_pubkey(tq_str_c(wl.origin), TQ_NOTE_ALG_COSIG_V1, pk,
                                          &wl.cosig_key, err);
    if (rc)
        return tq_err_set(err, TQ_ECONFIG, "witness: partner %s: no verifier for its log key",
                          p->name);
    *out = wl;
    return TQ_OK;
}

tq_rc tq_witness_log_find(struct tq_store *store, struct tq_str origin, struct tq_witness_log *out,
                          struct tq_err *err)
{
    struct tq_partner *v = NULL;
    struct tq_witness_log wl;
    struct tq_err ignored = {0};
    size_t n = 0, i;
    tq_rc rc;

    if (!store || !out || (!origin.ptr && origin.len))
        return tq_err_set(err, TQ_EINVAL, "witness: no store or origin");
    rc = tq_store_partner_list(store, &v, &n, err);
    if (rc)
        return rc;
    rc = TQ_ENOTFOUND;
    /* Partners without a usable key or certificate have no log to find. */
    for (i = 0; i < n && rc == TQ_ENOTFOUND; i++) {
        if (tq_witness_log_of(&v[i], &wl, &ignored) == TQ_OK && tq_str_eq_c(origin, wl.origin)) {
            *out = wl;
            rc = TQ_OK;
        }
    }
    tq_partner_list_free(v, n);
    if (rc == TQ_ENOTFOUND)
        return tq_err_set(err, TQ_ENOTFOUND, "witness: no partner's log has the origin '%.*s'",
                          (int)(origin.len > 64 ? 64 : origin.len), origin.ptr ? origin.ptr : "");
    return rc;
}

/* ---- answers ---------------------------------------------------------------------------- */

void tq_witness_answer_init(struct tq_witness_answer *a)
{
    if (!a)
        return;
    memset(a, 0, sizeof(*a));
    tq_buf_init(&a->body, ANSWER_MAX);
}

void tq_witness_answer_cleanup(struct tq_witness_answer *a)
{
    if (!a)
        return;
    tq_buf_cleanup(&a->body);
    memset(a, 0, sizeof(*a));
}

/* One line in words: control characters (from quoted input or details) become spaces. */
__attribute__((format(printf, 2, 0))) static void reason_vformat(char out[REASON_MAX],
                                                                 const char *fmt, va_list ap)
{
    size_t i;

    vsnprintf(out, REASON_MAX, fmt, ap);
    for (i = 0; out[i]; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = ' ';
}

static void reason_format(char out[REASON_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reason_format(char out[REASON_MAX], const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    reason_vformat(out, fmt, ap);
    va_end(ap);
}

/* A refusal: status and one line saying why. The body is small and bounded, so it fits. */
static void refuse(struct tq_witness_answer *a, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct tq_witness_answer *a, int status, const char *fmt, ...)
{
    char line[REASON_MAX];
    va_list ap;

    va_start(ap, fmt);
    reason_vformat(line, fmt, ap);
    va_end(ap);
    a->status = status;
    tq_buf_reset(&a->body);
    if (tq_buf_append_c(&a->body, line) == TQ_OK)
        tq_buf_append_c(&a->body, "\n");
}

/* 409: the size cosigned last, "N\n" (text/x.tlog.size). */
static void conflict(struct tq_witness_answer *a, uint64_t size)
{
    a->status = 409;
    a->size = size;
    tq_buf_reset(&a->body);
    tq_buf_printf(&a->body, "%" PRIu64 "\n", size);
}

/* ---- witnessing ------------------------------------------------------------------------- */

/* Append a signature line "— <name> <base64>\n" of sig to out. */
static tq_rc sig_line_append(struct tq_buf *out, const struct tq_note_sig *sig)
{
    tq_rc rc;

    rc = tq_buf_append_c(out, EM_DASH " ");
    if (rc == TQ_OK)
        rc = tq_buf_append_str(out, sig->name);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, " ");
    if (rc == TQ_OK)
        rc = tq_buf_append_str(out, sig->b64);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, "\n");
    return rc;
}

/* The first signature of note by (name, key id) that is marked verified (or any when !verified). */
static const struct tq_note_sig *sig_find(const struct tq_note *note, const char *name,
                                          uint32_t key_id, bool verified)
{
    size_t i;

    for (i = 0; i < note->n_sigs; i++) {
        const struct tq_note_sig *s = &note->sigs[i];

        if (s->key_id == key_id && tq_str_eq_c(s->name, name) && (!verified || s->verified))
            return s;
    }
    return NULL;
}

/*
 * Cosign the verified checkpoint: a note of its text with the log's verified signature line and
 * this node's cosignature (what the state keeps), and the cosignature line alone (the answer).
 */
static tq_rc cosign(const struct tq_note *verified, const struct tq_witness_log *wl,
                    const struct tq_note_signer *cosigner, uint64_t now_s,
                    struct tq_buf *state_note, struct tq_buf *line, struct tq_err *err)
{
    const struct tq_note_sig *log_sig, *ours;
    struct tq_note *note = NULL;
    struct tq_buf lines;
    tq_rc rc;

    tq_buf_init(&lines, TQ_NOTE_MAX_BYTES);
    log_sig = sig_find(verified, wl->log_key.name, wl->log_key.key_id, true);
    if (!log_sig) { /* tq_checkpoint_open returned TQ_OK, so the log signed */
        rc = tq_err_set(err, TQ_EINTEGRITY, "witness: the verified checkpoint lost its signature");
        goto out;
    }
    rc = tq_note_new(verified->text, &note, err);
    if (rc == TQ_OK)
        rc = sig_line_append(&lines, log_sig);
    if (rc == TQ_OK)
        rc = tq_note_add_sig_lines(note, (struct tq_str){lines.ptr, lines.len}, err);
    if (rc == TQ_OK)
        rc = tq_note_cosign(note, cosigner, now_s, err);
    if (rc)
        goto out;
    ours = sig_find(note, cosigner->name, cosigner->key_id, false);
    if (!ours) {
        rc = tq_err_set(err, TQ_EINTEGRITY, "witness: the cosignature line is missing");
        goto out;
    }
    rc = sig_line_append(line, ours);
    if (rc == TQ_OK)
        rc = tq_note_format(note, state_note, err);
    if (rc)
        rc = tq_err_set(err, rc, "witness: cosigned note does not fit (%s)", tq_rc_str(rc));
out:
    tq_note_free(note);
    tq_buf_cleanup(&lines);
    return rc;
}

/*
 * Keep the evidence of an inconsistent log and log it at error level (ids and sizes only).
 * A failure to keep it is a store failure, returned to the caller; the log line is written
 * either way.
 */
static tq_rc alarm(struct tq_store *store, const struct tq_witness_log *wl,
                   const struct tq_store_witness *state, const struct tq_witness_request *req,
                   uint64_t offered_size, const char *reason, struct tq_witness_answer *out,
                   struct tq_err *err)
{
    struct tq_store_alarm a;
    struct tq_buf proof, note;
    int64_t id = 0;
    tq_rc rc;

    memset(&a, 0, sizeof(a));
    tq_buf_init(&proof, TQ_WITNESS_BODY_MAX);
    tq_buf_init(&note, TQ_WITNESS_BODY_MAX);
    rc = tq_witness_request_proof_format(req->old_size, &req->proof, &proof);
    if (rc == TQ_OK)
        rc = tq_buf_append_str(&note, req->checkpoint);
    if (rc) {
        rc = tq_err_set(err, rc, "witness: alarm evidence does not fit");
    } else {
        snprintf(a.partner, sizeof(a.partner), "%s", wl->partner);
        a.origin = (char *)wl->origin;
        a.reason = (char *)reason;
        a.old_note = state->note;
        a.new_note = note.ptr;
        a.proof = proof.ptr;
        rc = tq_store_alarm_add(store, &a, &id, err);
    }
    tq_log(TQ_LOG_ERROR,
           "ALARM witness: partner=%s origin=%s cosigned_size=%" PRIu64 " offered_size=%" PRIu64
           " old=%" PRIu64 " alarm=%" PRId64 " kept=%s reason=\"%s\"",
           wl->partner, wl->origin, state->size, offered_size, req->old_size, id,
           rc   ? "NO"
           : id ? "yes"
                : "no (the cap of alarms for this origin is reached)",
           reason);
    if (rc == TQ_OK) {
        out->alarm = true;
        out->alarm_id = id;
    }
    tq_buf_cleanup(&proof);
    tq_buf_cleanup(&note);
    return rc;
}

/* Map the failure of tq_checkpoint_open to the spec's status: 403 signature, 400 otherwise. */
static bool open_refusal(tq_rc rc, int *status)
{
    switch (rc) {
    case TQ_EAUTH:
    case TQ_EINTEGRITY:
        *status = 403;
        return true;
    case TQ_EINVAL:
    case TQ_ETOOBIG:
        *status = 400;
        return true;
    default:
        return false;
    }
}

/* One add-checkpoint request on its way to an answer: what each step found for the next. */
struct add_ctx {
    struct tq_store *store;
    struct tq_witness_answer *out;
    struct tq_witness_request *req;
    struct tq_note *pre;  /* the checkpoint as parsed before its log's key is known */
    struct tq_note *note; /* the checkpoint as opened with the log's key */
    struct tq_checkpoint cp;
    struct tq_witness_log wl;
    struct tq_store_witness state; /* the state cosigned last; zeroes when there is none */
    bool have_state;
    bool inconsistent; /* the log cannot extend the state; reason says how */
    bool advance;      /* cosigning moves the state to the checkpoint */
    uint64_t size;     /* the checkpoint's */
    char reason[REASON_MAX];
    char origin[TQ_STORE_ORIGIN_MAX];
    struct tq_err why; /* the detail of the last failure, quoted in refusals */
};

/* Clear the previous answer: no status yet, so a refusal is the first status set. */
static void answer_reset(struct tq_witness_answer *out)
{
    out->status = 0;
    out->size = 0;
    out->alarm = false;
    out->alarm_id = 0;
    tq_buf_reset(&out->body);
}

/* 400: the body and the checkpoint's shape; the origin is read before any key is known. */
static void parse_request(struct add_ctx *c, struct tq_str body)
{
    tq_rc rc;

    rc = tq_witness_request_parse(body, c->req, &c->why);
    if (rc) {
        refuse(c->out, 400, "malformed request: %s", c->why.msg);
        return;
    }
    rc = tq_note_parse(c->req->checkpoint, &c->pre, &c->why);
    if (rc == TQ_OK)
        rc = tq_checkpoint_parse(c->pre->text, &c->cp, &c->why);
    if (rc)
        refuse(c->out, 400, "malformed checkpoint: %s", c->why.msg);
}

/* 404: no partner's log has this origin. */
static tq_rc find_log(struct add_ctx *c, struct tq_err *err)
{
    tq_rc rc;

    rc = tq_witness_log_find(c->store, c->cp.origin, &c->wl, &c->why);
    if (rc == TQ_ENOTFOUND) {
        refuse(c->out, 404, "unknown log origin");
        return TQ_OK;
    }
    if (rc)
        tq_err_set(err, rc, "%s", c->why.msg);
    return rc;
}

/* 403: the log's own key must have signed; other lines are ignored. */
static tq_rc open_checkpoint(struct add_ctx *c, struct tq_err *err)
{
    int status = 0;
    tq_rc rc;

    rc = tq_checkpoint_open(c->req->checkpoint, tq_str_c(c->wl.origin), &c->wl.log_key, NULL, 0,
                            &c->note, &c->cp, &c->why);
    if (rc && open_refusal(rc, &status)) {
        refuse(c->out, status, "%s: %s",
               status == 403 ? "no valid signature by the log's key" : "malformed checkpoint",
               c->why.msg);
        return TQ_OK;
    }
    if (rc) {
        tq_err_set(err, rc, "%s", c->why.msg);
        return rc;
    }
    c->size = c->cp.size;
    snprintf(c->origin, sizeof(c->origin), "%s", c->wl.origin);
    return TQ_OK;
}

/* The state cosigned last for the origin, or zeroes when it was never cosigned. */
static tq_rc read_state(struct add_ctx *c, struct tq_err *err)
{
    tq_rc rc;

    rc = tq_store_witness_get(c->store, c->wl.origin, &c->state, &c->why);
    if (rc == TQ_OK)
        c->have_state = true;
    if (rc == TQ_ENOTFOUND) {
        memset(&c->state, 0, sizeof(c->state)); /* never cosigned: size 0, trust on first use */
        rc = TQ_OK;
    }
    if (rc)
        tq_err_set(err, rc, "%s", c->why.msg);
    return rc;
}

/*
 * The log signed this checkpoint. When it cannot extend the state, that is evidence of an
 * inconsistent log whatever the request's old size says, so it is kept before any status.
 */
static void find_inconsistency(struct add_ctx *c)
{
    if (c->have_state && c->size < c->state.size) {
        c->inconsistent = true;
        reason_format(c->reason,
                      "rollback: the log signed a checkpoint of %" PRIu64
                      " leaves after this node cosigned one of %" PRIu64,
                      c->size, c->state.size);
    } else if (c->have_state && c->size == c->state.size &&
               memcmp(c->cp.root, c->state.root, 32) != 0) {
        c->inconsistent = true;
        reason_format(c->reason,
                      "fork: the log signed a checkpoint of %" PRIu64
                      " leaves with another root than the one this node cosigned",
                      c->size);
    }
}

/* From the empty tree any tree extends; only the proof's form can be wrong. */
static void check_from_empty(struct add_ctx *c)
{
    uint8_t empty[TQ_MERKLE_HASH_BYTES];

    tq_merkle_empty_root(empty);
    if (c->req->proof.n != 0)
        refuse(c->out, 422, "a consistency proof from size 0 must be empty");
    else if (c->size == 0 && memcmp(c->cp.root, empty, sizeof(empty)) != 0)
        refuse(c->out, 422, "a checkpoint of 0 leaves must carry the empty tree's root");
    else
        c->advance = !(c->have_state && c->size == 0);
}

/* 422 unless the request's consistency proof leads from the state's root to the checkpoint's. */
static void check_consistency(struct add_ctx *c)
{
    struct tq_str pv[TQ_MERKLE_PROOF_MAX];
    size_t i;
    tq_rc rc;

    for (i = 0; i < c->req->proof.n; i++)
        pv[i] = (struct tq_str){(const char *)c->req->proof.hash[i], TQ_MERKLE_HASH_BYTES};
    rc = tq_merkle_verify_consistency(
        c->state.size, c->size, pv, c->req->proof.n,
        (struct tq_str){(const char *)c->state.root, TQ_MERKLE_HASH_BYTES},
        (struct tq_str){(const char *)c->cp.root, TQ_MERKLE_HASH_BYTES}, &c->why);
    if (rc == TQ_OK) {
        c->advance = c->size > c->state.size; /* the same checkpoint again: cosigned, unchanged */
        return;
    }
    refuse(c->out, 422,
           "the consistency proof from %" PRIu64 " to %" PRIu64 " leaves does not verify: %s",
           c->state.size, c->size, c->why.msg);
    if (c->size > c->state.size && !c->inconsistent) {
        c->inconsistent = true;
        reason_format(c->reason,
                      "inconsistent: the consistency proof from the %" PRIu64
                      " leaves cosigned to the %" PRIu64 " offered does not verify: %s",
                      c->state.size, c->size, c->why.msg);
    }
}

/* The request against the state: 400 or 409 on the old size, else the proof's verdict. */
static void check_against_state(struct add_ctx *c)
{
    if (c->req->old_size > c->size) {
        refuse(c->out, 400, "old size %" PRIu64 " is above the checkpoint's size %" PRIu64,
               c->req->old_size, c->size);
    } else if (c->req->old_size != c->state.size) {
        conflict(c->out, c->state.size);
    } else if (c->have_state && c->size == c->state.size &&
               memcmp(c->cp.root, c->state.root, 32) != 0) {
        /* c2sp.org/tlog-witness: the old size is the checkpoint's, the roots differ: 409. */
        conflict(c->out, c->state.size);
    } else if (c->state.size == 0) {
        check_from_empty(c);
    } else {
        check_consistency(c);
    }
}

/*
 * Make the cosigned state_note the origin's state, by compare and swap on the size read. A state
 * another request moved since answers 409 with its size, and TQ_OK.
 */
static tq_rc advance_state(struct add_ctx *c, const struct tq_buf *state_note, struct tq_err *err)
{
    struct tq_store_witness next;
    uint64_t current = 0;
    tq_rc rc;

    memset(&next, 0, sizeof(next));
    snprintf(next.origin, sizeof(next.origin), "%s", c->origin);
    snprintf(next.partner, sizeof(next.partner), "%s", c->wl.partner);
    next.size = c->size;
    memcpy(next.root, c->cp.root, sizeof(next.root));
    next.note = state_note->ptr;
    rc = tq_store_witness_advance(c->store, &next, c->state.size, &current, err);
    if (rc == TQ_ECONFLICT) {
        /* Another request moved the state since it was read: the caller retries from it. */
        conflict(c->out, current);
        return TQ_OK;
    }
    if (rc)
        return rc;
    tq_log(TQ_LOG_INFO, "witness: cosigned partner=%s origin=%s size=%" PRIu64 " from=%" PRIu64,
           c->wl.partner, c->origin, c->size, c->state.size);
    return TQ_OK;
}

/* 200: the checkpoint's size and the cosignature line. */
static tq_rc answer_cosigned(struct tq_witness_answer *out, uint64_t size,
                             const struct tq_buf *line, struct tq_err *err)
{
    tq_rc rc;

    out->status = 200;
    out->size = size;
    tq_buf_reset(&out->body);
    rc = tq_buf_append(&out->body, line->ptr, line->len);
    if (rc)
        rc = tq_err_set(err, rc, "witness: cosignature line does not fit");
    return rc;
}

tq_rc tq_witness_add_checkpoint(struct tq_store *store, const struct tq_note_signer *cosigner,
                                struct tq_str body, uint64_t now_s, struct tq_witness_answer *out,
                                struct tq_err *err)
{
    struct add_ctx c;
    struct tq_buf state_note, line;
    tq_rc rc = TQ_OK;

    if (!store || !cosigner || !out)
        return tq_err_set(err, TQ_EINVAL, "witness: no store, cosigner or answer");
    answer_reset(out);
    memset(&c, 0, sizeof(c));
    c.store = store;
    c.out = out;
    tq_buf_init(&state_note, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&line, ANSWER_MAX);
    c.req = tq_xcalloc(1, sizeof(*c.req));

    /* Each step either answers (out->status) and ends the request, or hands on to the next. */
    parse_request(&c, body);
    if (out->status)
        goto out;
    rc = find_log(&c, err);
    if (rc || out->status)
        goto out;
    rc = open_checkpoint(&c, err);
    if (rc || out->status)
        goto out;
    rc = read_state(&c, err);
    if (rc)
        goto out;
    find_inconsistency(&c);
    check_against_state(&c);
    if (c.inconsistent) {
        rc = alarm(store, &c.wl, &c.state, c.req, c.size, c.reason, out, err);
        if (rc)
            goto out;
    }
    if (out->status)
        goto out; /* refused: nothing but the alarm was written */

    /* 200: cosign, and make the new state durable before the cosignature leaves. */
    rc = cosign(c.note, &c.wl, cosigner, now_s, &state_note, &line, err);
    if (rc)
        goto out;
    if (c.advance) {
        rc = advance_state(&c, &state_note, err);
        if (rc || out->status)
            goto out;
    }
    rc = answer_cosigned(out, c.size, &line, err);
out:
    tq_note_free(c.pre);
    tq_note_free(c.note);
    tq_store_witness_cleanup(&c.state);
    tq_buf_cleanup(&state_note);
    tq_buf_cleanup(&line);
    tq_free(c.req);
    return rc;
}
