/* SPDX-License-Identifier: Apache-2.0
 *
 * policy/policy.h - what the files of the policy module share.
 *
 * markings.c reads an object's release facts from its markings; policy.c decides and hooks
 * the configuration; explain.c explains decisions and checks what partners send.
 */
#ifndef TQ_POLICY_INTERNAL_H
#define TQ_POLICY_INTERNAL_H

#include "tansiq/policy.h"

/* Meta keys of recorded STIX identities: TQ__POLICY_IDENTITY_KEY + id -> partner or SELF. */
#define TQ__POLICY_IDENTITY_KEY "policy.identity."
#define TQ__POLICY_SELF "@self" /* not a valid partner name, so it cannot collide with one */

/* The release facts an object's markings give. */
struct tq__policy_marks {
    enum tq_tlp tlp;         /* most restrictive TLP marking; UNSET when none */
    bool no_further_sharing; /* any releasability marking says so */
    char *release_to;        /* union of the releasability markings' audiences, new; "" when
                                they name no one, NULL when the object carries none */
};

/* A marking-definition resolved once per put. */
struct tq__policy_mdef {
    char id[TQ_STIX_ID_MAX];
    enum tq_tlp tlp; /* a TLP 2.0 marking under another id, else UNSET */
    bool is_release; /* carries the tansiq releasability extension */
    bool nfs;
    char *release_to; /* comma-separated valid entries, or NULL */
};

/* Where marking-definitions are looked up: the batch being stored, then the store. */
struct tq__policy_marks_ctx {
    struct tq_store *store; /* may be NULL: the batch only */
    const char *collection_id;
    const struct tq_stix_object *batch;
    size_t n_batch;
    struct tq__policy_mdef *cache;
    size_t n_cache, cap_cache;
};

void tq__policy_marks_init(struct tq__policy_marks_ctx *ctx, struct tq_store *store,
                           const char *collection_id, const struct tq_stix_object *batch,
                           size_t n_batch);
void tq__policy_marks_cleanup(struct tq__policy_marks_ctx *ctx);

/*
 * The release facts of obj from its object_marking_refs. On TQ_OK *out is filled and
 * out->release_to is owned by the caller. TQ_EJSON when obj->json does not parse; a failed
 * store lookup of a marking counts as "not held" except for TQ_ENOMEM / TQ_ESTORE / TQ_EBUSY,
 * which are returned.
 */
tq_rc tq__policy_marks_of(struct tq__policy_marks_ctx *ctx, const struct tq_stix_object *obj,
                          struct tq__policy_marks *out, struct tq_err *err);

/* obj's created_by_ref into out (empty when it has none). */
void tq__policy_created_by(const struct tq_stix_object *obj, char out[TQ_STIX_ID_MAX]);

/* True when [entry, entry + len) is a valid "group:NAME" or "partner:NAME". */
bool tq__policy_entry_valid(const char *entry, size_t len);

#endif
