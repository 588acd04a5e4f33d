/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/policy.h - partners, sharing groups and release decisions.
 *
 * Releasability is a property of each object version, decided once by tq_policy_decide() and
 * enforced at every exit. An object is never altered to carry policy: what its own markings do
 * not say comes from node metadata (the collection's agreed default, and the provenance of
 * objects received from partners).
 *
 * Markings read from an object's object_marking_refs:
 *   - the official TLP 2.0 marking-definition ids (CLEAR, GREEN, AMBER, AMBER+STRICT, RED);
 *   - marking-definitions of the tansiq releasability extension (TQ_POLICY_EXTENSION_ID), whose
 *     extension body is {"extension_type": "property-extension", "release_to": ["group:IQ-SY",
 *     "partner:damascus"], "no_further_sharing": true}. They are STIX objects like any other:
 *     the node must hold the marking-definition for a reference to count.
 *
 * Decision rules, default deny (docs/internals/policy.md has the reasoning):
 *   1. TLP:RED never leaves the node.
 *   2. An object received from a partner is released onward only if it is neither AMBER+STRICT
 *      nor no-further-sharing, only to partners its own release_to markings name explicitly
 *      ("partner:X"; a "group:G" entry names the originator's group, whose members only the
 *      originator knows, so it never counts here), never by a default of the receiving node,
 *      and never back to the partner it came from.
 *   3. An object this node originated goes to the partners of its release_to markings, or, when
 *      it has none, to those of its collection's default audience.
 *   4. A version is released to a partner only when the partner was also granted read on its
 *      collection (tq_policy_partner_grant).
 */
#ifndef TANSIQ_POLICY_H
#define TANSIQ_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"

/* The extension-definition every tansiq node publishes for its releasability markings. */
#define TQ_POLICY_EXTENSION_ID "extension-definition--2f6f5c1e-8a4b-4c3d-9e1f-7a6b5c4d3e21"
/*
 * The identity that creates that extension-definition: the same on every node, so that every
 * node publishes byte-identical copies of both (one id and version must mean one content).
 */
#define TQ_POLICY_EXTENSION_CREATOR "identity--5a0c7e1b-3d2f-4b6a-8c9e-1f2a3b4c5d6e"

const char *tq_tlp_name(enum tq_tlp tlp); /* "TLP:AMBER+STRICT", ... */
/* Parse "clear", "green", "amber", "amber+strict", "red" (any case, optional "TLP:"). */
tq_rc tq_tlp_parse(const char *s, enum tq_tlp *out);

/* Partner and group names: [a-z0-9][a-z0-9._-]{0,62} (TQ_NAME_MAX with its NUL). */
bool tq_policy_name_valid(const char *name);

/* Where objects being stored come from. */
struct tq_policy_origin {
    const char *partner;           /* NULL: created on this node */
    const char *remote_collection; /* the partner's collection id they were pulled from */
    int64_t received_us;
};

/*
 * The policy-aware put: the one way objects enter a collection (CLI import, TAXII POST, sync).
 * Works out each version's release facts (TLP, release_to, no-further-sharing, origin) from its
 * markings and node metadata, decides which partners it is released to, and stores objects,
 * facts and decisions in one transaction (tq_store_put semantics otherwise).
 */
tq_rc tq_policy_put(struct tq_store *store, const char *collection_id,
                    const struct tq_stix_object *objs, size_t n,
                    const struct tq_policy_origin *origin, enum tq_put_result *results,
                    int64_t *date_added_us, struct tq_err *err);

/*
 * Refuse an object a partner may not send us (called by sync before tq_policy_put): TLP:RED
 * (it should never have left its node), an object created_by this node's own identity, and an
 * AMBER+STRICT or no-further-sharing object the partner did not originate. TQ_EFORBIDDEN with
 * the reason in err.
 */
tq_rc tq_policy_check_inbound(struct tq_store *store, const char *partner,
                              const struct tq_stix_object *obj, struct tq_err *err);

/*
 * Explain in plain words why a partner may or may not see a stored object version (the latest
 * when version_us is -1): the facts, the rule that decided, the groups involved (named only to
 * the local operator). *text_out is new (tq_free). *released says the outcome.
 */
tq_rc tq_policy_explain(struct tq_store *store, const char *collection_id, const char *object_id,
                        int64_t version_us, const char *partner, bool *released, char **text_out,
                        struct tq_err *err);

/* ---- the decision --------------------------------------------------------------------- */

/* Which rule decided, for explain and tests. */
enum tq_policy_rule {
    TQ_POLICY_DENY_UNKNOWN_PARTNER = 0, /* the name is not a partner of this node */
    TQ_POLICY_DENY_RED,                 /* rule 1 */
    TQ_POLICY_DENY_STRICT,              /* rule 2: received TLP:AMBER+STRICT */
    TQ_POLICY_DENY_NFS,                 /* rule 2: received no-further-sharing */
    TQ_POLICY_DENY_NO_RELEASE_TO,       /* rule 2: received without release_to markings */
    TQ_POLICY_DENY_ORIGIN,              /* rule 2: never back to the partner it came from */
    TQ_POLICY_DENY_AUDIENCE,            /* rules 2 and 3: not in the audience */
    TQ_POLICY_ALLOW_RELEASE_TO,         /* rules 2 and 3: named by the object's markings */
    TQ_POLICY_ALLOW_DEFAULT,            /* rule 3: named by the collection's default audience */
    TQ_POLICY_DENY_NOT_GRANTED,         /* rule 4: no read grant on the collection */
    TQ_POLICY_DENY_NOT_UNDERSTOOD,      /* rule 0: a marking the policy cannot read */
    TQ_POLICY_DENY_PENDING,             /* rule 0: a marking-definition not held (yet) */
    TQ_POLICY_DENY_NO_OWN_TLP,          /* rule 2: received without its own TLP marking */
    TQ_POLICY_DENY_GRANULAR,            /* rules 2 and 3: outside a granular audience */
};

struct tq_policy_decision {
    bool released;
    enum tq_policy_rule rule;
    enum tq_tlp tlp;            /* effective TLP */
    bool tlp_from_default;      /* the object carries none: the collection default applied */
    bool audience_from_default; /* local object without release_to: the default audience */
    char via[TQ_NAME_MAX + 8];  /* the audience entry that matched ("group:iq-sy"), or "" */
};

/*
 * The one release decision: may the version with these facts go to partner, given the
 * configuration in view (partners, group members, the collection's default)? Pure: reads only
 * its arguments, so put, recompute and explain (and later features) agree by construction.
 */
void tq_policy_decide(const struct tq_store_facts *facts, const struct tq_store_release_view *view,
                      const char *partner, struct tq_policy_decision *out);

/* tq_policy_decide for every partner of the view, as a tq_store_decide_cb (ud unused). */
tq_rc tq_policy_decide_cb(void *ud, const struct tq_store_release_view *view,
                          const struct tq_store_facts *facts, bool *released);

/* A one-line name for a rule ("TLP:RED never leaves the node", ...). */
const char *tq_policy_rule_str(enum tq_policy_rule rule);

/* ---- configuration: each call changes it and recomputes visibility in one transaction ---- */

/*
 * An audience: comma-separated "group:NAME" / "partner:NAME" entries with valid names (spaces
 * around entries allowed), or "" for nobody. TQ_EINVAL naming the first bad entry.
 */
tq_rc tq_policy_audience_check(const char *audience, struct tq_err *err);

/* Register or update a partner (tq_store_partner_put); TQ_EINVAL for a bad name. */
tq_rc tq_policy_partner_add(struct tq_store *store, const struct tq_partner *p, struct tq_err *err);
/* Forget a partner, its memberships and everything released to it; TQ_ENOTFOUND if unknown. */
tq_rc tq_policy_partner_remove(struct tq_store *store, const char *name, struct tq_err *err);
/* TQ_EEXIST when the group exists, TQ_EINVAL for a bad name. */
tq_rc tq_policy_group_add(struct tq_store *store, const char *name, struct tq_err *err);
tq_rc tq_policy_group_remove(struct tq_store *store, const char *name, struct tq_err *err);
/* TQ_ENOTFOUND for an unknown group or partner. Adding an existing member changes nothing. */
tq_rc tq_policy_group_member_set(struct tq_store *store, const char *group, const char *partner,
                                 bool member, struct tq_err *err);
/*
 * A collection's agreed default: tlp for objects that carry none (TQ_TLP_UNSET: AMBER) and the
 * audience of local objects without release_to markings (NULL or "": nobody).
 */
tq_rc tq_policy_collection_default_set(struct tq_store *store, const char *collection_id,
                                       enum tq_tlp tlp, const char *audience, struct tq_err *err);
/*
 * Grant partner read on a collection (an id or alias, or "*" for every collection), or revoke
 * it, and decide the collection's versions again in the same transaction: a release needs the
 * policy and the grant (rule 4), so revoking withdraws every release of the collection to the
 * partner ("withdrawn" leaves) and granting releases what the policy allows ("released" leaves,
 * dated now in the partner's view so that its next sync pulls them). TQ_ENOTFOUND for an
 * unknown partner or collection.
 */
tq_rc tq_policy_partner_grant(struct tq_store *store, const char *partner,
                              const char *collection_id, bool read, struct tq_err *err);

/* Decide every version of a collection (NULL: of all) again, e.g. after tq_store_put. */
tq_rc tq_policy_recompute(struct tq_store *store, const char *collection_id, struct tq_err *err);

/*
 * Record who a STIX identity belongs to, for tq_policy_check_inbound: partner NULL means this
 * node. An object created_by this node's identity is refused from partners; an AMBER+STRICT or
 * no-further-sharing object created_by another partner's identity is refused from any partner
 * but that one. Identities not recorded prove nothing either way.
 */
tq_rc tq_policy_identity_set(struct tq_store *store, const char *identity_ref, const char *partner,
                             struct tq_err *err);

/* ---- the marking vocabulary ------------------------------------------------------------ */

/*
 * The extension-definition object (TQ_POLICY_EXTENSION_ID) that defines the releasability
 * marking, as STIX JSON created_by created_by_ref (an identity id). *json_out is new (tq_free).
 */
tq_rc tq_policy_extension_definition_json(const char *created_by_ref, char **json_out,
                                          struct tq_err *err);

/*
 * A new releasability marking-definition (fresh id, created now) releasing to release_to[]
 * ("group:NAME" / "partner:NAME"), with no_further_sharing, created_by created_by_ref (may be
 * NULL). *json_out is new (tq_free); *id_out (may be NULL) receives its id.
 */
tq_rc tq_policy_make_marking(const char *const *release_to, size_t n, bool no_further_sharing,
                             const char *created_by_ref, char **json_out,
                             char id_out[TQ_STIX_ID_MAX], struct tq_err *err);

#endif
