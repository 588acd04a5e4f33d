/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/store.h - the storage interface.
 *
 * One interface, two backends under one engine: SQLite (embedded default, WAL mode) and
 * PostgreSQL (larger deployments, several serve processes on one database). The store keeps object
 * versions keyed by (collection, id, version) with a server-assigned date_added that is unique and
 * strictly increasing per collection, the canonical JSON as it will be served, TAXII status
 * resources, users, tokens and permissions.
 *
 * Thread rule: a struct tq_store may be used from any number of threads at once; each call
 * takes a connection from the store's pool for its duration.
 */
#ifndef TANSIQ_STORE_H
#define TANSIQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/stix.h"

struct tq_store;

struct tq_store_options {
    unsigned pool_size; /* connections kept open; 0 = default (8) */
    bool read_only;
    /*
     * Open an existing store only: a missing or empty file, or one holding no schema, is
     * TQ_ECONFIG instead of a fresh, empty store. Everything but `tansiq init` opens this way.
     */
    bool must_exist;
    /* A database server's limits (PostgreSQL): per statement, and per wait for a lock (the
     * node's write lock among them); 0 takes the defaults, 60 s and 10 s. */
    unsigned statement_timeout_ms;
    unsigned lock_timeout_ms;
};

/*
 * Open (creating when missing, unless opt->must_exist) the store at uri: a file path or
 * "sqlite:PATH" for SQLite, a libpq URI "postgresql://..." (or "postgres://...") for PostgreSQL
 * (TQ_ENOTSUP in a build without libpq; the database must exist, and the URI may not hold a
 * password: libpq reads it from passfile= or PGPASSFILE).
 * Creates or migrates the schema. A SQLite store's files are created 0600, and tightened to
 * 0600 when found looser (they hold password and token hashes and the cursor key). On TQ_OK
 * *out is owned by the caller (tq_store_close).
 */
tq_rc tq_store_open(const char *uri, const struct tq_store_options *opt, struct tq_store **out,
                    struct tq_err *err);
void tq_store_close(struct tq_store *store); /* NULL is a no-op */

/*
 * True when the store takes no writes: opened read-only (a replica on a PostgreSQL hot standby),
 * or a SQLite store whose disk was full at open. Its writes fail with TQ_EREADONLY (TQ_ENOSPACE
 * for the full disk), and what must be logged before it is served (a partner's read) is not
 * served from it.
 */
bool tq_store_read_only(struct tq_store *store);

/* ---- key/value node metadata ---------------------------------------------------------- */

/* *value_out is a new string (tq_free) on TQ_OK; TQ_ENOTFOUND when the key is absent. */
tq_rc tq_store_meta_get(struct tq_store *store, const char *key, char **value_out,
                        struct tq_err *err);
tq_rc tq_store_meta_set(struct tq_store *store, const char *key, const char *value,
                        struct tq_err *err);

/* ---- collections ---------------------------------------------------------------------- */

struct tq_collection {
    char id[37]; /* UUID */
    char *alias; /* optional short name, unique; may be NULL */
    char *title;
    char *description; /* may be NULL */
};

void tq_collection_cleanup(struct tq_collection *c);
void tq_collection_list_free(struct tq_collection *v, size_t n);

/* TQ_EEXIST when the id or alias is taken. */
tq_rc tq_store_collection_add(struct tq_store *store, const struct tq_collection *c,
                              struct tq_err *err);
/* Look up by UUID or alias; TQ_ENOTFOUND when neither matches. *out filled on TQ_OK. */
tq_rc tq_store_collection_get(struct tq_store *store, const char *id_or_alias,
                              struct tq_collection *out, struct tq_err *err);
/* All collections ordered by title; *out is an array of *n (tq_collection_list_free). */
tq_rc tq_store_collection_list(struct tq_store *store, struct tq_collection **out, size_t *n,
                               struct tq_err *err);

/* ---- objects -------------------------------------------------------------------------- */

enum tq_put_result {
    TQ_PUT_STORED = 0,  /* a new version was stored */
    TQ_PUT_PRESENT = 1, /* the same (id, version) is already in the collection: unchanged */
};

/*
 * Store n validated objects into a collection in one transaction, durable when this returns
 * TQ_OK (an acknowledged object survives kill -9 and power loss). results[i] (may be NULL)
 * tells what happened to objs[i]; date_added_us[i] (may be NULL) receives the date_added of the
 * stored or already present version. Either all n are applied or none (on error).
 */
tq_rc tq_store_put(struct tq_store *store, const char *collection_id,
                   const struct tq_stix_object *objs, size_t n, enum tq_put_result *results,
                   int64_t *date_added_us, struct tq_err *err);

/* match[version] selectors; several may be combined (OR). */
enum {
    TQ_MATCH_LAST = 1u << 0, /* the default when no version selector is given */
    TQ_MATCH_FIRST = 1u << 1,
    TQ_MATCH_ALL = 1u << 2,   /* overrides the others */
    TQ_MATCH_TIMES = 1u << 3, /* versions[] lists exact version timestamps */
};

#define TQ_QUERY_MAX_LIST 64 /* most values per match[] filter */

struct tq_store_cursor {
    int64_t date_added_us;
    char id[TQ_STIX_ID_MAX];
};

struct tq_store_query {
    const char *collection_id; /* required */
    const char *object_id;     /* NULL, or restrict to one object (object and versions routes) */
    bool has_added_after;
    int64_t added_after_us; /* exclusive */
    bool has_cursor;        /* resume strictly after this (date_added, id) */
    struct tq_store_cursor cursor;
    size_t limit;             /* rows per page, >= 1 */
    const struct tq_str *ids; /* match[id], OR-ed */
    size_t n_ids;
    const struct tq_str *types; /* match[type], OR-ed */
    size_t n_types;
    unsigned version_flags;  /* TQ_MATCH_*; 0 means TQ_MATCH_LAST */
    const int64_t *versions; /* with TQ_MATCH_TIMES */
    size_t n_versions;
    const struct tq_str *spec_versions; /* match[spec_version], OR-ed; none = any */
    size_t n_spec_versions;
    /*
     * NULL for a local principal (analysts, the CLI): no release filter. Otherwise the name of
     * a partner: only versions released to it are seen, the filter applied inside the query so
     * that limit, more, next and the date headers never count a withheld version.
     */
    const char *partner;
};

/* One row handed to a query callback; every pointer is borrowed for the callback only. */
struct tq_store_row {
    const char *id;
    /*
     * The row's date_added in the view queried: for a partner, when the version was released to
     * it (a version released later sorts later), else when the version was stored.
     */
    int64_t date_added_us;
    int64_t stored_us;  /* when the version was stored: its date_added in the collection */
    int64_t version_us; /* -1 for an unversioned object */
    const char *spec_version;
    const char *json; /* canonical JSON; NULL when the query asked for none */
    size_t json_len;
};

/* Return TQ_OK to continue; any other code stops the query and is returned by it. */
typedef tq_rc (*tq_store_row_cb)(void *ud, const struct tq_store_row *row);

struct tq_store_page_info {
    size_t n;                    /* rows delivered */
    bool more;                   /* rows remain after the last delivered one */
    int64_t first_date_added_us; /* of the rows delivered; -1 when n == 0 */
    int64_t last_date_added_us;
    struct tq_store_cursor next; /* the last delivered row, to resume after */
};

/*
 * Run a TAXII query: rows in ascending (date_added, id) order, at most q->limit of them, each
 * passed to cb. with_json selects whether rows carry the object JSON (objects) or not
 * (manifest, versions). TQ_ENOTFOUND is never returned for an empty result: n == 0 says it.
 */
tq_rc tq_store_query(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                     tq_store_row_cb cb, void *ud, struct tq_store_page_info *info,
                     struct tq_err *err);

/* tq_store_query page after page (q->limit rows each) until the last: every matching row. */
tq_rc tq_store_query_all(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                         tq_store_row_cb cb, void *ud, struct tq_err *err);

/*
 * Delete the versions of object_id in a collection that match q's version and spec_version
 * selectors (q->object_id and q->collection_id must be set; default: all versions). *deleted
 * receives the count. TQ_ENOTFOUND when nothing matched. Partners never delete: a query with
 * partner set is refused with TQ_EFORBIDDEN whatever it names, so the answer says nothing about
 * the object.
 */
tq_rc tq_store_delete(struct tq_store *store, const struct tq_store_query *q, size_t *deleted,
                      struct tq_err *err);

/* Number of object versions in a collection (all when collection_id is NULL). */
tq_rc tq_store_count(struct tq_store *store, const char *collection_id, uint64_t *count,
                     struct tq_err *err);

/* ---- partners, groups and releases ----------------------------------------------------- */

#define TQ_NAME_MAX 64 /* partner and group names: [a-z0-9][a-z0-9._-]{0,62} */

struct tq_partner {
    char name[TQ_NAME_MAX];
    char *taxii_url;         /* base URL of its TAXII server, e.g. https://10.1.2.3:8443 */
    char *cert_pem;          /* its pinned TLS certificate (server and client) */
    uint8_t cert_sha256[32]; /* SHA-256 of the certificate's DER encoding */
    char *sign_pubkey;       /* its Ed25519 public key, base64 */
    int64_t added_us;
};

void tq_partner_cleanup(struct tq_partner *p);
void tq_partner_list_free(struct tq_partner *v, size_t n);

/* Create or replace a partner. */
tq_rc tq_store_partner_put(struct tq_store *store, const struct tq_partner *p, struct tq_err *err);
/* TQ_ENOTFOUND when unknown. */
tq_rc tq_store_partner_get(struct tq_store *store, const char *name, struct tq_partner *out,
                           struct tq_err *err);
/* The partner whose pinned certificate has this SHA-256; TQ_ENOTFOUND when none. */
tq_rc tq_store_partner_find_cert(struct tq_store *store, const uint8_t sha256[32],
                                 struct tq_partner *out, struct tq_err *err);
tq_rc tq_store_partner_list(struct tq_store *store, struct tq_partner **out, size_t *n,
                            struct tq_err *err);
tq_rc tq_store_partner_delete(struct tq_store *store, const char *name, struct tq_err *err);

/*
 * Partners, groups and collection defaults below are configuration. The functions that change
 * it never widen what a partner sees: they only narrow it (removing a member, deleting a group
 * or a partner, changing a collection default drops the release rows that may depend on it).
 * tq_store_release_rewrite applies a change and recomputes the visibility it implies in one
 * transaction; tq_policy_* (policy.h) are the callers that do both, and what the CLI uses.
 */

/* Names of string lists returned below: an array of *n new strings (tq_store_names_free). */
void tq_store_names_free(char **names, size_t n);

/* TQ_EEXIST when the group exists; TQ_EINVAL for an empty name. */
tq_rc tq_store_group_add(struct tq_store *store, const char *name, struct tq_err *err);
/* Delete a group and its memberships; TQ_ENOTFOUND when unknown. */
tq_rc tq_store_group_delete(struct tq_store *store, const char *name, struct tq_err *err);
/* All group names in ascending order. */
tq_rc tq_store_group_list(struct tq_store *store, char ***names_out, size_t *n, struct tq_err *err);
/* Make a partner a member of a group or not; TQ_ENOTFOUND for an unknown group or partner. */
tq_rc tq_store_group_member_set(struct tq_store *store, const char *group, const char *partner,
                                bool member, struct tq_err *err);
/* Member partner names of a group, ascending; TQ_ENOTFOUND for an unknown group. */
tq_rc tq_store_group_members(struct tq_store *store, const char *group, char ***names_out,
                             size_t *n, struct tq_err *err);
/* Groups a partner belongs to, ascending; TQ_ENOTFOUND for an unknown partner. */
tq_rc tq_store_partner_groups(struct tq_store *store, const char *partner, char ***names_out,
                              size_t *n, struct tq_err *err);

/*
 * A collection's agreed default: the TLP of objects that carry none (an enum tq_tlp value of
 * policy.h; 0 = unset, which policy reads as TLP:AMBER) and the audience of local objects that
 * name none, as comma-separated "group:NAME" / "partner:NAME" entries (NULL or "" = nobody).
 */
struct tq_collection_policy {
    int default_tlp;
    char *audience; /* owned by the struct when filled by _get */
};

void tq_collection_policy_cleanup(struct tq_collection_policy *p);
/* TQ_ENOTFOUND for an unknown collection. The store does not check the audience's syntax. */
tq_rc tq_store_collection_policy_set(struct tq_store *store, const char *collection_id,
                                     const struct tq_collection_policy *p, struct tq_err *err);
/* A collection without a policy gives {0, NULL}; TQ_ENOTFOUND for an unknown collection. */
tq_rc tq_store_collection_policy_get(struct tq_store *store, const char *collection_id,
                                     struct tq_collection_policy *out, struct tq_err *err);

/*
 * The release facts of one object version, worked out by policy from its markings and its
 * provenance when it is stored, and kept with it. They change only when the node learns more
 * (a marking-definition the version waited for arrives: TQ_CHANGE_FACTS), while the decision
 * made from them is recomputed whenever the configuration changes.
 */
struct tq_store_facts {
    int tlp;                 /* enum tq_tlp; 0 = unset (the collection default applies) */
    bool no_further_sharing; /* from a releasability marking */
    /* explicit audience from object-level markings, as in tq_collection_policy; NULL: no
     * releasability marking; "": one that names no one */
    const char *release_to;
    /* audiences of granular releasability markings, ';'-separated, each of which a partner must
     * also be in; NULL: none */
    const char *restrict_to;
    /* referenced marking-definitions the node does not hold (comma-separated ids, lower case):
     * withheld from every partner until they arrive; NULL: none */
    const char *pending;
    /* a referenced marking the policy cannot read: withheld from every partner; NULL: none */
    const char *not_understood;
    const char *origin;            /* partner it was received from; NULL: created on this node */
    const char *remote_collection; /* the partner's collection it was pulled from, or NULL */
    int64_t received_us;           /* 0 for local objects */
};

/*
 * The configuration a release decision reads, loaded inside the writing transaction so that a
 * decision and the rows written from it always agree with one state of the configuration.
 * Borrowed for the callback only.
 */
struct tq_store_release_view {
    const char *const *partners; /* every partner known to the node, ascending */
    size_t n_partners;
    const char *const *member_groups; /* membership pairs (member_groups[i], member_partners[i]) */
    const char *const *member_partners;
    size_t n_members;
    const char *collection_id; /* UUID of the collection of the version being decided */
    int default_tlp;           /* its tq_collection_policy */
    const char *default_audience;
    const char *const *granted; /* partners granted read on that collection, ascending */
    size_t n_granted;
};

/*
 * Decide one version: set released[i] to true for each view->partners[i] the version goes to
 * (released[] arrives all false). Any return other than TQ_OK aborts the transaction.
 */
typedef tq_rc (*tq_store_decide_cb)(void *ud, const struct tq_store_release_view *view,
                                    const struct tq_store_facts *facts, bool *released);

/*
 * tq_store_put with release facts: objs[i] is stored with facts[i] (facts may be NULL: local,
 * unset TLP, no markings), and every stored version's release rows are written from
 * decide(ud, ...) in the same transaction. With decide NULL nothing is released (default deny)
 * until a tq_store_release_rewrite. A version already present keeps its facts. When a new
 * version of an object arrives, the object's other versions are decided again too, so that
 * match[version]=first|last are computed among the versions each partner may see.
 */
tq_rc tq_store_put_ex(struct tq_store *store, const char *collection_id,
                      const struct tq_stix_object *objs, const struct tq_store_facts *facts,
                      size_t n, tq_store_decide_cb decide, void *ud, enum tq_put_result *results,
                      int64_t *date_added_us, struct tq_err *err);

enum tq_store_change_kind {
    TQ_CHANGE_NONE = 0,
    TQ_CHANGE_PARTNER_PUT,       /* partner */
    TQ_CHANGE_PARTNER_DELETE,    /* name */
    TQ_CHANGE_GROUP_ADD,         /* name */
    TQ_CHANGE_GROUP_DELETE,      /* name */
    TQ_CHANGE_MEMBER_SET,        /* name (group), member (partner), is_member */
    TQ_CHANGE_COLLECTION_POLICY, /* collection_id, policy */
    TQ_CHANGE_PERM_SET,          /* name (principal), collection_id (or "*"), is_member (read) */
    TQ_CHANGE_FACTS,             /* collection_id, facts_at[i] gets facts[i], i < n_facts */
};

struct tq_store_change {
    enum tq_store_change_kind kind;
    const struct tq_partner *partner;
    const char *name;
    const char *member;
    bool is_member;
    const char *collection_id;
    const struct tq_collection_policy *policy;
    const int64_t *facts_at; /* date_added of the versions whose facts are replaced */
    const struct tq_store_facts *facts;
    size_t n_facts;
};

/*
 * In one write transaction: apply change (may be NULL), then decide every stored version of
 * collection_id (NULL: of every collection) again and replace its release rows, logging each
 * release row added ("released") or removed ("withdrawn") as an audit leaf. Returns the
 * change's own errors (TQ_ENOTFOUND, TQ_EEXIST, ...) with nothing changed.
 */
tq_rc tq_store_release_rewrite(struct tq_store *store, const struct tq_store_change *change,
                               const char *collection_id, tq_store_decide_cb decide, void *ud,
                               struct tq_err *err);

/* The configuration as tq_store_decide_cb sees it, for one collection (explain, tests). */
struct tq_store_release_view_data;
tq_rc tq_store_release_view_get(struct tq_store *store, const char *collection_id,
                                struct tq_store_release_view_data **out, struct tq_err *err);
const struct tq_store_release_view *
tq_store_release_view_of(const struct tq_store_release_view_data *data);
void tq_store_release_view_free(struct tq_store_release_view_data *data); /* NULL: no-op */

/* One stored version with its facts and the partners it is released to now. */
struct tq_store_version_info {
    char id[TQ_STIX_ID_MAX];
    int64_t version_us;
    int64_t date_added_us;
    struct tq_store_facts facts; /* strings owned by the struct */
    char **released_to;          /* partner names, ascending */
    size_t n_released;
};

void tq_store_version_info_cleanup(struct tq_store_version_info *v);
/*
 * Facts and releases of one version of object_id in a collection: version_us, or the newest
 * when version_us is TQ_STORE_VERSION_LATEST. TQ_ENOTFOUND when there is no such version.
 */
#define TQ_STORE_VERSION_LATEST INT64_MIN
tq_rc tq_store_version_info_get(struct tq_store *store, const char *collection_id,
                                const char *object_id, int64_t version_us,
                                struct tq_store_version_info *out, struct tq_err *err);

/* A marking-definition as the node holds it (tq_store_marking_get). */
struct tq_store_marking {
    char *json;         /* the canonical JSON of the newest version held, new (tq_free) */
    bool in_collection; /* it was found in the collection asked for */
    /*
     * How many different contents (by the SHA-256 of their canonical form) the node holds
     * under this id and provenance. A marking-definition is never versioned, so more than one
     * means someone redefined it: its meaning is ambiguous.
     */
    size_t n_contents;
    bool sha256_known;
    uint8_t sha256[32]; /* of the newest version */
};

/*
 * The marking-definition id (its UUID in any letter case) of one provenance: origin NULL for one
 * created on this node, else the partner it was received from. Looked up in collection_id
 * first, then in any collection. On TQ_OK *out is filled (out->json owned by the caller);
 * TQ_ENOTFOUND when the node holds none.
 */
tq_rc tq_store_marking_get(struct tq_store *store, const char *collection_id, const char *id,
                           const char *origin, struct tq_store_marking *out, struct tq_err *err);

/* A stored version waiting for marking-definitions (facts.pending set). */
struct tq_store_pending {
    char collection_id[37];
    char id[TQ_STIX_ID_MAX];
    int64_t version_us;
    int64_t date_added_us;
    char *json;                  /* its canonical JSON */
    struct tq_store_facts facts; /* strings owned by the struct */
};

void tq_store_pending_free(struct tq_store_pending *v, size_t n);
/*
 * The versions whose facts are pending on marking_id (lower case; NULL: on anything), by
 * collection and date_added.
 */
tq_rc tq_store_pending_list(struct tq_store *store, const char *marking_id,
                            struct tq_store_pending **out, size_t *n, struct tq_err *err);

/* ---- audit log leaves ------------------------------------------------------------------ */

/*
 * The audit log's leaves (audit.h builds the Merkle tree and checkpoints on top). Leaf idx
 * (from 0, no gaps) holds a random 32-byte salt, the event record (RFC 8785 JSON text), the
 * commitment SHA-256(salt || record) and the RFC 9162 leaf hash of the commitment. The store
 * writes a "stored" leaf for every new version tq_store_put_ex stores and a "released" leaf for
 * every release row it writes for a partner, in the transaction that stores them (at_us: the
 * version's date_added). A configuration change (tq_store_release_rewrite and the calls above
 * that only narrow) writes a "released" leaf for every release row it adds and a "withdrawn"
 * leaf for every row it removes, in its own transaction, all at the time of the change; rows it
 * leaves in place write nothing.
 */
#define TQ_STORE_AUDIT_KIND_MAX 16
#define TQ_STORE_AUDIT_FIELDS_MAX 16 /* fields of one event */
#define TQ_STORE_AUDIT_FIELD_MAX 32  /* longest field name, bytes with NUL */

/*
 * A member of an event record beyond the object-version ones, for events of other kinds (a
 * screening query, a private set intersection, an alert acknowledged, a login): name matches
 * [a-z][a-z0-9_]* (shorter than TQ_STORE_AUDIT_FIELD_MAX) and is none of the record's own
 * members (added, collection, kind, object, partner, sha256, time, v, version); value is UTF-8
 * text, written as a JSON string.
 */
struct tq_store_audit_field {
    const char *name;
    const char *value;
};

struct tq_store_audit_event {
    const char *kind;       /* "stored", "released", "withdrawn", "read" */
    int64_t at_us;          /* when it happened */
    const char *collection; /* collection UUID */
    const char *object;     /* STIX id */
    int64_t version_us;     /* -1: an unversioned object */
    const uint8_t *sha256;  /* tq_stix_object_sha256 of the version (32 bytes), or NULL */
    const char *partner;    /* the partner concerned; NULL for "stored" */
    /*
     * n_added > 0: a read of several versions (every version one response gave a partner),
     * named by their date_added in the collection, which is the "time" of each one's "stored"
     * leaf; object, version_us and sha256 above are then unused.
     */
    const int64_t *added_us;
    size_t n_added;
    /* Members of its own kind, in any order (the record sorts them); at most
     * TQ_STORE_AUDIT_FIELDS_MAX. */
    const struct tq_store_audit_field *fields;
    size_t n_fields;
};

/*
 * The record of an event: {"collection","kind","object","partner","sha256","time","v":1,
 * "version"} and the event's fields, in RFC 8785 form (absent members omitted), appended to
 * out. With added_us, "object", "sha256" and "version" give way to "added": [date_added_us, ...]
 * (integers). The kind matches [a-z][a-z0-9_-]*, shorter than TQ_STORE_AUDIT_KIND_MAX. The
 * object-version kinds ("stored", "released", "withdrawn", "read") need a collection and an
 * object (or added_us); any other kind needs neither. TQ_EINVAL when an event breaks these
 * rules or the field rules above.
 */
tq_rc tq_store_audit_record(const struct tq_store_audit_event *ev, struct tq_buf *out,
                            struct tq_err *err);

/* Append n events as leaves in one write transaction of their own (batched read events). */
tq_rc tq_store_audit_append(struct tq_store *store, const struct tq_store_audit_event *ev, size_t n,
                            struct tq_err *err);
/* Number of leaves (committed). */
tq_rc tq_store_audit_size(struct tq_store *store, uint64_t *size, struct tq_err *err);

enum tq_store_audit_column {
    TQ_AUDIT_LEAF_HASH = 0,  /* leaf_hash */
    TQ_AUDIT_COMMITMENT = 1, /* commitment */
};

/*
 * Copy the 32-byte hashes of leaves [from, from + n) into out (n * 32 bytes); *n_out receives
 * how many exist (fewer than n at the end of the log).
 */
tq_rc tq_store_audit_hashes(struct tq_store *store, enum tq_store_audit_column which, uint64_t from,
                            size_t n, uint8_t (*out)[32], size_t *n_out, struct tq_err *err);
/* tq_store_audit_hashes of the leaf hashes, for rebuilding the tree. */
tq_rc tq_store_audit_leaf_hashes(struct tq_store *store, uint64_t from, size_t n,
                                 uint8_t (*out)[32], size_t *n_out, struct tq_err *err);

/* One leaf with its opening (salt and record). */
struct tq_store_audit_entry {
    uint64_t idx;
    char kind[TQ_STORE_AUDIT_KIND_MAX];
    int64_t at_us;
    char *partner; /* NULL when none */
    uint8_t salt[32];
    char *record;
    uint8_t commitment[32];
    uint8_t leaf_hash[32];
};

void tq_store_audit_entry_cleanup(struct tq_store_audit_entry *e);
/* TQ_ENOTFOUND when idx >= size. */
tq_rc tq_store_audit_entry(struct tq_store *store, uint64_t idx, struct tq_store_audit_entry *out,
                           struct tq_err *err);

/*
 * Keep a signed checkpoint of size leaves: added to the table of past checkpoints and made the
 * latest (meta key "audit.checkpoint") in one transaction. The caller (audit.h) checks that it
 * is consistent with the previous one.
 */
tq_rc tq_store_audit_checkpoint_put(struct tq_store *store, uint64_t size, const char *note,
                                    struct tq_err *err);
/*
 * Run fn(ud, err) holding the store's signer lock: one process at a time, of every process on
 * the store, integrates the log's tree and signs a checkpoint. On PostgreSQL it is a session
 * advisory lock on a connection of its own, so a process that dies while holding it releases
 * it with its session and another takes over; on SQLite, a flock on a file beside the database
 * ("<file>-lock2"), which the kernel releases with a process that dies.
 * Returns fn's result, or TQ_EBUSY when the lock was not had within the lock timeout.
 */
tq_rc tq_store_signer_run(struct tq_store *store, tq_rc (*fn)(void *ud, struct tq_err *err),
                          void *ud, struct tq_err *err);
/* The latest signed checkpoint's note text; TQ_ENOTFOUND when none was signed. */
tq_rc tq_store_audit_checkpoint_get(struct tq_store *store, char **note_out, struct tq_err *err);

/*
 * Kept checkpoints of size >= min_size, largest first: cb gets each one's size, signing time and
 * note (with every signature it carries, cosignatures included) and returns false to stop.
 */
typedef bool (*tq_store_checkpoint_cb)(void *ud, uint64_t size, int64_t at_us, const char *note);
tq_rc tq_store_audit_checkpoints(struct tq_store *store, uint64_t min_size,
                                 tq_store_checkpoint_cb cb, void *ud, struct tq_err *err);
/* The kept checkpoint of this size, with every signature it carries; TQ_ENOTFOUND when none. */
tq_rc tq_store_audit_checkpoint_at(struct tq_store *store, uint64_t size, char **note_out,
                                   struct tq_err *err);
/*
 * Replace the note of the kept checkpoint of this size by note: the same checkpoint text with
 * more signatures (a partner's cosignature). The latest (meta "audit.checkpoint") follows when
 * it is that checkpoint. TQ_ENOTFOUND when no checkpoint of that size is kept; TQ_EINVAL when
 * note's text differs from the kept one's (only signature lines may be added).
 */
tq_rc tq_store_audit_checkpoint_update(struct tq_store *store, uint64_t size, const char *note,
                                       struct tq_err *err);

/* Leaves to look up by what they record (indexed by at_us). */
struct tq_store_audit_query {
    const char *kind;    /* NULL: any */
    const char *partner; /* NULL: any (a "stored" leaf has none) */
    int64_t at_min_us;   /* at_us >= at_min_us */
    int64_t at_max_us;   /* at_us <= at_max_us; 0: no upper bound */
};
/* Called per matching leaf, in (at_us, idx) order; return false to stop. */
typedef bool (*tq_store_audit_entry_cb)(void *ud, const struct tq_store_audit_entry *e);
tq_rc tq_store_audit_find(struct tq_store *store, const struct tq_store_audit_query *q,
                          tq_store_audit_entry_cb cb, void *ud, struct tq_err *err);

/*
 * This node's leaves that name partner (the partner column: "released", "withdrawn" and "read"
 * leaves) with from <= idx < below, in idx order: the openings that partner is given
 * (GET /log/openings). cb returns false to stop.
 */
tq_rc tq_store_audit_partner_leaves(struct tq_store *store, const char *partner, uint64_t from,
                                    uint64_t below, tq_store_audit_entry_cb cb, void *ud,
                                    struct tq_err *err);

/* ---- receipts: openings of partners' logs --------------------------------------------- */

/*
 * A receipt is the opening of a leaf of a partner's audit log that names this node, fetched
 * during a sync and checked against the partner's checkpoint of checkpoint_size leaves that
 * this node had just verified and cosigned: the leaf hash of SHA-256(salt || record) is the
 * hash the partner's tiles hold at idx below that size.
 */
struct tq_store_receipt {
    char partner[TQ_NAME_MAX]; /* the partner whose log holds the leaf */
    uint64_t idx;
    char kind[TQ_STORE_AUDIT_KIND_MAX];
    uint8_t salt[32];
    char *record; /* the event record, JCS text */
    uint8_t leaf_hash[32];
    uint64_t checkpoint_size; /* the partner's checkpoint it was checked against */
    int64_t at_us;            /* when this node kept it */
};

void tq_store_receipt_cleanup(struct tq_store_receipt *r);
/*
 * Keep the openings entries[0..n) (idx, kind, salt, record and leaf_hash are used) of partner's
 * log as receipts checked against its checkpoint of checkpoint_size leaves, in one write
 * transaction. An (partner, idx) already kept stays as it is.
 */
tq_rc tq_store_receipts_put(struct tq_store *store, const char *partner,
                            const struct tq_store_audit_entry *entries, size_t n,
                            uint64_t checkpoint_size, struct tq_err *err);
/* Called per receipt in (partner, idx) order; return false to stop. */
typedef bool (*tq_store_receipt_cb)(void *ud, const struct tq_store_receipt *r);
/* The receipts of partner (NULL: of every partner). */
tq_rc tq_store_receipts_find(struct tq_store *store, const char *partner, tq_store_receipt_cb cb,
                             void *ud, struct tq_err *err);

/* ---- witnessing (c2sp.org/tlog-witness) ----------------------------------------------- */

#define TQ_STORE_ORIGIN_MAX 256 /* a log origin line, NUL included */

/* What this node last cosigned of one partner's log. */
struct tq_store_witness {
    char origin[TQ_STORE_ORIGIN_MAX];
    char partner[TQ_NAME_MAX];
    uint64_t size;
    uint8_t root[32];
    char *note; /* the checkpoint as cosigned: the log's signature and this node's cosignature */
    int64_t at_us;
};

void tq_store_witness_cleanup(struct tq_store_witness *w);
void tq_store_witness_list_free(struct tq_store_witness *v, size_t n);
/* TQ_ENOTFOUND when this node never cosigned a checkpoint of origin. */
tq_rc tq_store_witness_get(struct tq_store *store, const char *origin, struct tq_store_witness *out,
                           struct tq_err *err);
/*
 * Make next the state of next->origin, in one write transaction, if the state's size is still
 * old_size (an origin never cosigned counts as size 0). TQ_ECONFLICT otherwise, with the
 * current size in *current (may be NULL) and nothing changed. at_us 0: now.
 */
tq_rc tq_store_witness_advance(struct tq_store *store, const struct tq_store_witness *next,
                               uint64_t old_size, uint64_t *current, struct tq_err *err);
/* Every state, by origin. */
tq_rc tq_store_witness_list(struct tq_store *store, struct tq_store_witness **out, size_t *n,
                            struct tq_err *err);

/*
 * An alarm: a partner's log presented a checkpoint that cannot extend one this node cosigned
 * before. The evidence is kept verbatim: both signed notes and the proof that failed.
 */
struct tq_store_alarm {
    int64_t id;    /* assigned by tq_store_alarm_add */
    int64_t at_us; /* 0 on add: now */
    char partner[TQ_NAME_MAX];
    char *origin;
    char *reason;     /* one line in words */
    char *old_note;   /* the checkpoint cosigned before (may be NULL) */
    char *new_note;   /* the checkpoint offered now */
    char *proof;      /* the consistency proof offered, "old N" then base64 lines (may be NULL) */
    char *acked_by;   /* the user who acknowledged it, NULL while unacknowledged */
    int64_t acked_us; /* when; 0 while unacknowledged */
};

void tq_store_alarm_list_free(struct tq_store_alarm *v, size_t n);
/*
 * Alarms kept per origin. Each is signed evidence against the partner, but a partner willing to
 * sign many inconsistent checkpoints must not fill this node's disk.
 */
#define TQ_STORE_ALARMS_PER_ORIGIN 64
/*
 * Keep an alarm (a->id and a->at_us are ignored); *id_out (may be NULL) receives its id, or 0
 * when TQ_STORE_ALARMS_PER_ORIGIN alarms of a->origin are kept already (nothing is written).
 */
tq_rc tq_store_alarm_add(struct tq_store *store, const struct tq_store_alarm *a, int64_t *id_out,
                         struct tq_err *err);
/* Every alarm, oldest first. */
tq_rc tq_store_alarm_list(struct tq_store *store, struct tq_store_alarm **out, size_t *n,
                          struct tq_err *err);
/*
 * Acknowledge alarm id as user (the alarm and its evidence stay). TQ_ENOTFOUND when there is no
 * such alarm, TQ_EEXIST when it is acknowledged already (nothing changes).
 */
tq_rc tq_store_alarm_ack(struct tq_store *store, int64_t id, const char *user, struct tq_err *err);

/* ---- TAXII status resources ----------------------------------------------------------- */

/*
 * Status resources are kept as the JSON the TAXII layer builds, with their owner so that only
 * the user who made the request can read them. Rows older than the retention are purged by
 * tq_store_status_purge (the server keeps them at least 24 hours).
 */
tq_rc tq_store_status_put(struct tq_store *store, const char *status_id, const char *owner,
                          int64_t created_us, const char *json, size_t json_len,
                          struct tq_err *err);
/* *json_out is new (tq_free); TQ_ENOTFOUND when absent or owned by another user. */
tq_rc tq_store_status_get(struct tq_store *store, const char *status_id, const char *owner,
                          char **json_out, struct tq_err *err);
tq_rc tq_store_status_purge(struct tq_store *store, int64_t older_than_us, struct tq_err *err);

/* ---- users, tokens and permissions ---------------------------------------------------- */

/* Create or replace a user's password hash (an Argon2id string from crypto_pwhash_str). */
tq_rc tq_store_user_put(struct tq_store *store, const char *name, const char *pwhash,
                        struct tq_err *err);
/* *pwhash_out is new (tq_free); TQ_ENOTFOUND for an unknown user. */
tq_rc tq_store_user_get(struct tq_store *store, const char *name, char **pwhash_out,
                        struct tq_err *err);
tq_rc tq_store_user_delete(struct tq_store *store, const char *name, struct tq_err *err);
/* Names of all users; *names_out is an array of *n new strings (free each, then the array). */
tq_rc tq_store_user_list(struct tq_store *store, char ***names_out, size_t *n, struct tq_err *err);

/* API tokens are kept only as the SHA-256 of the token. */
tq_rc tq_store_token_add(struct tq_store *store, const char *user, const uint8_t hash[32],
                         const char *label, struct tq_err *err);
/* *user_out is new (tq_free); TQ_ENOTFOUND for an unknown hash. */
tq_rc tq_store_token_lookup(struct tq_store *store, const uint8_t hash[32], char **user_out,
                            struct tq_err *err);

/* Read/write permission of a user on a collection ("*" as collection: every collection). */
tq_rc tq_store_perm_set(struct tq_store *store, const char *user, const char *collection_id,
                        bool can_read, bool can_write, struct tq_err *err);
/* Unknown pairs give false/false with TQ_OK. */
tq_rc tq_store_perm_get(struct tq_store *store, const char *user, const char *collection_id,
                        bool *can_read, bool *can_write, struct tq_err *err);

/* ---- copying a store (moving a node between backends) --------------------------------- */

/*
 * Called by tq_store_copy after each table is copied, with the table's name and the number of
 * rows copied into it. Any return other than TQ_OK stops the copy, which returns that code with
 * nothing written. It runs while the copy holds a connection of each store and the
 * destination's write lock: it must not call either store.
 */
typedef tq_rc (*tq_store_copy_cb)(void *ud, const char *table, uint64_t rows);

/*
 * Copy every row of every table of from into to, whatever their backends (a new SQLite file, an
 * empty PostgreSQL database), keys and all, so that the copy holds the same node: the same
 * audit log (same leaves, root, checkpoints and cosignatures), partners, releases, users and
 * metadata. from is read in one read transaction (a consistent snapshot, also while a node
 * serves from it); to is written in one write transaction, so a failed copy leaves it as it
 * was. cb (may be NULL) reports progress per table.
 *
 * to must hold no rows but node metadata: TQ_EEXIST otherwise, with nothing written. Metadata
 * keys present in both take from's values (they carry the node's identity binding). Before
 * committing, the row count of every table and every audit leaf hash are compared between the
 * two: TQ_EINTEGRITY when they differ, with nothing written. TQ_EINVAL when from is to. Store
 * failures as they come (TQ_ESTORE, TQ_EBUSY, TQ_ENOSPACE, ...), with nothing written.
 */
tq_rc tq_store_copy(struct tq_store *from, struct tq_store *to, tq_store_copy_cb cb, void *ud,
                    struct tq_err *err);

#endif
