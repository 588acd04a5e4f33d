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

/* The release facts an object's markings give (every string new, NULL when absent). */
struct tq__policy_marks {
    enum tq_tlp tlp;         /* most restrictive TLP marking, object-level or granular; UNSET */
    bool no_further_sharing; /* any releasability marking says so */
    char *release_to;        /* union of the object-level releasability markings' audiences; ""
                                when they name no one, NULL when the object carries none */
    char *restrict_to;       /* each granular releasability marking's audience, ';'-separated */
    char *pending;           /* referenced marking-definitions not held, comma-separated ids */
    char *not_understood;    /* the first referenced marking the policy cannot read */
};

void tq__policy_marks_cleanup(struct tq__policy_marks *m);

/* What one marking-definition says, as far as releasability goes. */
enum tq__policy_mdef_state {
    TQ__MDEF_MISSING = 0, /* not held (of the object's provenance) */
    TQ__MDEF_UNKNOWN,     /* held, but it says something the policy does not understand */
    TQ__MDEF_OK,
};

/* A marking-definition resolved once per put. */
struct tq__policy_mdef {
    char id[TQ_STIX_ID_MAX]; /* lower case */
    enum tq__policy_mdef_state state;
    enum tq_tlp tlp; /* the TLP it states (1.0 or 2.0 form), else UNSET */
    bool is_release; /* carries the tansiq releasability extension */
    bool nfs;
    char *release_to;     /* comma-separated valid entries, or NULL */
    char *json_elsewhere; /* a local definition held only in another collection: its JSON */
};

/*
 * Where marking-definitions are looked up: the batch being stored, then the store, among those
 * of the same provenance as the objects (origin NULL: created on this node).
 */
struct tq__policy_marks_ctx {
    struct tq_store *store; /* may be NULL: the batch only */
    const char *collection_id;
    const char *origin;
    const struct tq_stix_object *batch;
    size_t n_batch;
    struct tq__policy_mdef *cache;
    size_t n_cache, cap_cache;
};

void tq__policy_marks_init(struct tq__policy_marks_ctx *ctx, struct tq_store *store,
                           const char *collection_id, const char *origin,
                           const struct tq_stix_object *batch, size_t n_batch);
void tq__policy_marks_ctx_cleanup(struct tq__policy_marks_ctx *ctx);

/*
 * The release facts of obj from its object_marking_refs and granular markings (a
 * marking-definition without markings of its own is read as marking itself). On TQ_OK *out is
 * filled and owned by the caller (tq__policy_marks_cleanup). TQ_EJSON when obj->json does not
 * parse; a failed store lookup counts as "not held" except for TQ_ENOMEM / TQ_ESTORE / TQ_EBUSY,
 * which are returned.
 */
tq_rc tq__policy_marks_of(struct tq__policy_marks_ctx *ctx, const struct tq_stix_object *obj,
                          struct tq__policy_marks *out, struct tq_err *err);

/*
 * A STIX id in lower case, the one form marking ids are compared in (RFC 4122 hex digits are
 * case-insensitive on input); cut at TQ_STIX_ID_MAX - 1 bytes.
 */
void tq__policy_id_lower(const char *id, char out[TQ_STIX_ID_MAX]);

/* obj's created_by_ref into out (empty when it has none). */
void tq__policy_created_by(const struct tq_stix_object *obj, char out[TQ_STIX_ID_MAX]);

/* True when [entry, entry + len) is a valid "group:NAME" or "partner:NAME". */
bool tq__policy_entry_valid(const char *entry, size_t len);

#endif
