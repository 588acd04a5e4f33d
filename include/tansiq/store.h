/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/store.h - the storage interface.
 *
 * One interface, several backends behind an ops struct: SQLite (embedded default, WAL mode)
 * today, PostgreSQL next. The store keeps object versions keyed by (collection, id, version)
 * with a server-assigned date_added that is unique and strictly increasing per collection, the
 * canonical JSON as it will be served, TAXII status resources, users, tokens and permissions.
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
};

/*
 * Open (creating when missing) the store at uri: a file path or "sqlite:PATH" for SQLite,
 * "postgres://..." once that backend exists (TQ_ENOTSUP until then). Creates or migrates the
 * schema. On TQ_OK *out is owned by the caller (tq_store_close).
 */
tq_rc tq_store_open(const char *uri, const struct tq_store_options *opt, struct tq_store **out,
                    struct tq_err *err);
void tq_store_close(struct tq_store *store); /* NULL is a no-op */

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
    int64_t date_added_us;
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

/*
 * Delete the versions of object_id in a collection that match q's version and spec_version
 * selectors (q->object_id and q->collection_id must be set; default: all versions). *deleted
 * receives the count. TQ_ENOTFOUND when nothing matched.
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
tq_rc tq_store_partner_put(struct tq_store *store, const struct tq_partner *p,
                           struct tq_err *err);
/* TQ_ENOTFOUND when unknown. */
tq_rc tq_store_partner_get(struct tq_store *store, const char *name, struct tq_partner *out,
                           struct tq_err *err);
/* The partner whose pinned certificate has this SHA-256; TQ_ENOTFOUND when none. */
tq_rc tq_store_partner_find_cert(struct tq_store *store, const uint8_t sha256[32],
                                 struct tq_partner *out, struct tq_err *err);
tq_rc tq_store_partner_list(struct tq_store *store, struct tq_partner **out, size_t *n,
                            struct tq_err *err);
tq_rc tq_store_partner_delete(struct tq_store *store, const char *name, struct tq_err *err);

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

#endif
