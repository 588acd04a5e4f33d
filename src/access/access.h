/* SPDX-License-Identifier: Apache-2.0
 *
 * access/access.h - who a request comes from and what it may touch (internal to src/access,
 * src/taxii and src/http).
 *
 * A principal is a local user (an analyst, known by password or API token) or a partner node
 * (known by its pinned TLS client certificate; src/http resolves that). Permissions are kept by
 * the store under one name per principal: the user name, or "partner:NAME" for a partner, and
 * tq__access_principal_key is the one place that writes that form. tq__access_collection is the
 * one check of a principal against a collection, used by TAXII and by every other endpoint that
 * serves a collection's content. Credentials (Argon2id passwords with a bounded cache of
 * successful checks, API tokens kept as SHA-256) are checked here too; parsing them out of a
 * request is the transport's business.
 *
 * Rank: above store (it reads users, tokens and permissions through the public store API),
 * below taxii and http, which call it.
 */
#ifndef TQ_ACCESS_ACCESS_H
#define TQ_ACCESS_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"

/* ---- principals ------------------------------------------------------------------------- */

#define TQ_AUTH_USER_MAX 256    /* bytes with NUL */
#define TQ_AUTH_SECRET_MAX 1024 /* bytes with NUL */

enum tq__principal_kind {
    TQ_PRINCIPAL_NOBODY = 0, /* not authenticated */
    TQ_PRINCIPAL_USER,       /* a local user: name is the user name */
    TQ_PRINCIPAL_PARTNER,    /* a partner node: name is the partner's name */
};

/* Who a request comes from; zeroed memory is nobody. */
struct tq__principal {
    enum tq__principal_kind kind;
    char name[TQ_AUTH_USER_MAX];
};

/* The user's name, or NULL when the principal is not a user. */
const char *tq__principal_user(const struct tq__principal *p);
/* The partner's name, or NULL when the principal is not a partner. */
const char *tq__principal_partner(const struct tq__principal *p);
/* "user" or "partner" (for log lines), and the name or "-". */
const char *tq__principal_kind_str(const struct tq__principal *p);
const char *tq__principal_name(const struct tq__principal *p);
/* Make p a user or a partner named name; false (p is then nobody) when name is empty or does
 * not fit. */
bool tq__principal_set(struct tq__principal *p, enum tq__principal_kind kind, const char *name);

/*
 * The name the store keeps a principal's permissions under: the user name, or "partner:NAME"
 * for a partner. False (no permission at all) for nobody, for a user name containing ':', which
 * could otherwise pass for a partner, and for names that do not fit out.
 */
bool tq__access_principal_key(const struct tq__principal *p, char *out, size_t out_size);

/* ---- collections ------------------------------------------------------------------------ */

enum tq__access_need { TQ_NEED_ANY = 0, TQ_NEED_READ, TQ_NEED_WRITE };

/*
 * Read and write permission of a principal on a collection (by id); a partner never writes.
 * Both false for a principal that holds none, nobody included. Other codes: store failures.
 */
tq_rc tq__access_perm(struct tq_store *store, const struct tq__principal *p,
                      const char *collection_id, bool *can_read, bool *can_write,
                      struct tq_err *err);

/*
 * Check that a principal may use collection cid_or_alias for a request needing any access,
 * read or write access. TQ_ENOTFOUND for an unknown collection and for one the principal has
 * no permission on at all (existence is not revealed: both take the same path, a permission
 * lookup included), TQ_EFORBIDDEN when it holds the other permission only. On TQ_OK *coll is
 * filled (tq_collection_cleanup) and the two flags are written.
 */
tq_rc tq__access_collection(struct tq_store *store, const struct tq__principal *p,
                            const char *cid_or_alias, enum tq__access_need need,
                            struct tq_collection *coll, bool *can_read, bool *can_write,
                            struct tq_err *err);

/* ---- credentials (credentials.c) -------------------------------------------------------- */

enum tq__auth_scheme { TQ_AUTH_NONE = 0, TQ_AUTH_BASIC, TQ_AUTH_BEARER };

/* A user's credentials as the request carried them. */
struct tq__access_cred {
    enum tq__auth_scheme scheme;
    char user[TQ_AUTH_USER_MAX];     /* Basic only */
    char secret[TQ_AUTH_SECRET_MAX]; /* Basic password or bearer token, NUL-terminated */
    size_t secret_len;
};

void tq__access_cred_wipe(struct tq__access_cred *c);

/*
 * The verifier: Argon2id checks against the store, a bounded in-memory cache of successful
 * checks (keyed BLAKE2b of user and password under a per-process random key, with a TTL),
 * and a cap on concurrent Argon2 runs, which each take ~50 ms and 64 MiB.
 */
struct tq__access_verifier;

struct tq__access_verifier *tq__access_verifier_new(size_t cache_slots, int64_t ttl_us,
                                                    unsigned max_parallel);
void tq__access_verifier_free(struct tq__access_verifier *a);

/*
 * Check cred against the store. On TQ_OK user_out holds the user name. TQ_EAUTH for unknown
 * users, wrong passwords and unknown tokens alike; other codes for store failures.
 */
tq_rc tq__access_verify(struct tq__access_verifier *a, struct tq_store *store,
                        const struct tq__access_cred *c, char user_out[TQ_AUTH_USER_MAX],
                        struct tq_err *err);

/* Cache probes, exposed for the unit tests. */
bool tq__access_cache_hit(struct tq__access_verifier *a, const char *user, const char *pw,
                          size_t pw_len, int64_t now_us);
void tq__access_cache_put(struct tq__access_verifier *a, const char *user, const char *pw,
                          size_t pw_len, int64_t now_us);

#endif
