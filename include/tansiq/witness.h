/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/witness.h - this node as a C2SP tlog-witness of its partners' audit logs.
 *
 * A partner's log is known by its origin ("tansiq/" and 16 hex digits of its certificate's
 * SHA-256, tq_audit_default_origin) and its Ed25519 identity key, which signs its checkpoints
 * (signed-note type 0x01) and, as a witness, its cosignatures (cosignature/v1, type 0x04), both
 * under the origin as key name. The witness keeps, per origin, the latest checkpoint it
 * cosigned (store.h, "witnessing") and cosigns a new one only when a consistency proof shows it
 * extends that one; the new state is durable before the cosignature leaves this module.
 *
 * Both ways a checkpoint reaches the witness take the same path, tq_witness_add_checkpoint:
 * the partner POSTs it to /log/add-checkpoint (the partner asks for a cosignature during its
 * sync), or this node's sync fetches the partner's /log/checkpoint and proves it consistent
 * from the partner's tiles (the partner is watched even when it does not ask).
 *
 * A verified checkpoint that cannot extend the one cosigned before (smaller, the same size with
 * another root, or a consistency proof that fails) is an alarm: the evidence (both signed notes
 * and the failed proof) is kept in the store and logged at error level.
 *
 * Pure functions and store calls only: no HTTP, no threads; safe from any thread.
 */
#ifndef TANSIQ_WITNESS_H
#define TANSIQ_WITNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "tansiq/audit.h"
#include "tansiq/core.h"
#include "tansiq/merkle.h"
#include "tansiq/note.h"
#include "tansiq/store.h"
#include "tansiq/tlog.h"

/*
 * Alarms kept per origin (the store's cap): past it an alarm is still raised and logged, its
 * evidence no longer kept (alarm_id 0).
 */
#define TQ_WITNESS_ALARMS_MAX TQ_STORE_ALARMS_PER_ORIGIN

/* ---- the logs this node witnesses ------------------------------------------------------- */

struct tq_witness_log {
    char partner[TQ_NAME_MAX];
    char origin[TQ_AUDIT_ORIGIN_MAX];
    struct tq_note_verifier log_key;   /* checks the partner's checkpoints (type 0x01) */
    struct tq_note_verifier cosig_key; /* checks the partner's cosignatures (type 0x04) */
};

/*
 * The log of partner p: origin from its certificate's SHA-256, both keys from its Ed25519
 * public key. TQ_ECONFIG when p has no valid public key or no pinned certificate (no origin).
 */
tq_rc tq_witness_log_of(const struct tq_partner *p, struct tq_witness_log *out, struct tq_err *err);
/* The partner whose log has this origin; TQ_ENOTFOUND when none. */
tq_rc tq_witness_log_find(struct tq_store *store, struct tq_str origin, struct tq_witness_log *out,
                          struct tq_err *err);

/* ---- witnessing ------------------------------------------------------------------------- */

struct tq_witness_answer {
    /*
     * The HTTP status c2sp.org/tlog-witness gives: 200 cosigned; 400 malformed request or old
     * size above the checkpoint's; 403 no valid signature by the log's key; 404 unknown origin;
     * 409 old size is not the size cosigned last; 422 the proof does not verify.
     */
    int status;
    /*
     * 200: the cosignature line ("— <name> <base64>\n"); 409: the size cosigned last, "N\n"
     * (content type text/x.tlog.size); otherwise one line saying why.
     */
    struct tq_buf body;
    uint64_t size; /* 200: the checkpoint's size; 409: the size cosigned last */
    bool alarm;    /* evidence of an inconsistent log was kept (tq_store_alarm_list) */
    int64_t alarm_id;
};

void tq_witness_answer_init(struct tq_witness_answer *a);
void tq_witness_answer_cleanup(struct tq_witness_answer *a);

/*
 * Decide one add-checkpoint request (body as received) and, when it is cosigned, persist the
 * new state before returning: parse (400), find the log by origin (404), verify its signature
 * (403), old size <= checkpoint size (400), old size = the size cosigned last (409), the
 * consistency proof from the state's root to the checkpoint's (422; size 0 needs an empty proof
 * and takes any root for the first checkpoint, but a checkpoint of 0 leaves must carry the empty
 * tree's root), then cosign with cosigner (type 0x04) at now_s. The same checkpoint offered
 * again is cosigned again without changing the state. A state moved by a concurrent request
 * between the read and the write answers 409 with its size. Alarms as the header says: one
 * alarm at most per request, kept whatever the status. Returns TQ_OK whenever an answer was
 * decided (out->status), an error only when the store or the cosigner failed. out must have
 * been initialised (tq_witness_answer_init); its previous answer is replaced.
 */
tq_rc tq_witness_add_checkpoint(struct tq_store *store, const struct tq_note_signer *cosigner,
                                struct tq_str body, uint64_t now_s, struct tq_witness_answer *out,
                                struct tq_err *err);

#endif
