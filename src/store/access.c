/* SPDX-License-Identifier: Apache-2.0
 *
 * store/access.c - principals and their rights: users, API tokens, permissions, partners,
 * sharing groups.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"

tq_rc tq__engine_user_put(struct tq_store *store, const char *name, const char *pwhash,
                          struct tq_err *err)
{
    return tq__store_write(tq__engine_of(store), ST_USER_PUT,
                           TQ__ARGS(TQ__ARG_TEXT(name), TQ__ARG_TEXT(pwhash)), "write user", NULL,
                           err);
}

tq_rc tq__engine_user_get(struct tq_store *store, const char *name, char **pwhash_out,
                          struct tq_err *err)
{
    return tq__store_lookup_text(tq__engine_of(store), ST_USER_GET, name, -1, false, pwhash_out,
                                 "user", err);
}

tq_rc tq__engine_user_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct tq__store_result res;
    tq_rc rc;

    /* Tokens and permissions go with the user (ON DELETE CASCADE). */
    rc = tq__store_write(tq__engine_of(store), ST_USER_DELETE, TQ__ARGS(TQ__ARG_TEXT(name)),
                         "delete user", &res, err);
    if (rc == TQ_OK && res.changes == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user '%.64s'", name);
    return rc;
}

tq_rc tq__engine_user_list(struct tq_store *store, char ***names_out, size_t *n_out,
                           struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_USER_LIST, &st, err);
    if (!rc)
        rc = tq__store_collect_names(c, st, names_out, n_out, err);
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_token_add(struct tq_store *store, const char *user, const uint8_t hash[32],
                           const char *label, struct tq_err *err)
{
    struct tq__store_result res;
    tq_rc rc;

    rc = tq__store_write(tq__engine_of(store), ST_TOKEN_ADD,
                         TQ__ARGS(TQ__ARG_BLOB(hash, 32), TQ__ARG_TEXT(user), TQ__ARG_TEXT(label),
                                  TQ__ARG_INT(tq_time_now_us())),
                         "add token", &res, err);
    if (rc && res.src == TQ__DB_FOREIGN_KEY)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user '%.64s'", user);
    else if (rc && tq__store_is_duplicate(res.src))
        rc = tq_err_set(err, TQ_EEXIST, "store: token already registered");
    return rc;
}

tq_rc tq__engine_token_lookup(struct tq_store *store, const uint8_t hash[32], char **user_out,
                              struct tq_err *err)
{
    return tq__store_lookup_text(tq__engine_of(store), ST_TOKEN_LOOKUP, hash, 32, true, user_out,
                                 "token", err);
}

/*
 * Permissions are keyed by the collection's UUID, so a grant made with an alias and a check
 * made with the id (or the reverse) meet. "*" stays as it is.
 */
tq_rc tq__store_perm_collection_key(struct tq__conn *c, const char *collection, bool must_exist,
                                    char key[37], struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    const char *id;
    tq_rc rc;
    int src;

    if (strcmp(collection, "*") == 0) {
        snprintf(key, 37, "*");
        return TQ_OK;
    }
    rc = tq__store_stmt_get(c, ST_COLL_GET, &st, err);
    if (rc)
        return rc;
    tq__store_bind_text(st, 1, collection);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW) {
        id = tq__db_col_text(st, 0);
        snprintf(key, 37, "%s", id ? (const char *)id : "");
    } else if (src == TQ__DB_DONE) {
        if (must_exist)
            rc = tq_err_set(err, TQ_ENOTFOUND, "store: no collection '%.64s'", collection);
        else
            snprintf(key, 37, "%.36s", collection);
    } else {
        rc = tq__store_fail(err, c->db, src, "resolve collection");
    }
    tq__store_stmt_done(st);
    return rc;
}

tq_rc tq__engine_perm_set(struct tq_store *store, const char *user, const char *collection_id,
                          bool can_read, bool can_write, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__store_result res;
    struct tq__conn *c = NULL;
    char key[37];
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_perm_collection_key(c, collection_id, true, key, err);
    if (rc)
        goto out;
    rc = tq__store_write_on(s, c, ST_PERM_SET,
                            TQ__ARGS(TQ__ARG_TEXT(user), TQ__ARG_TEXT(key), TQ__ARG_INT(can_read),
                                     TQ__ARG_INT(can_write)),
                            "set permission", &res, err);
    if (rc && (res.src == TQ__DB_FOREIGN_KEY || res.src == TQ__DB_REFUSED))
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user or partner '%.64s'", user);
out:
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_perm_get(struct tq_store *store, const char *user, const char *collection_id,
                          bool *can_read, bool *can_write, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    char key[37];
    tq_rc rc;
    int src;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_perm_collection_key(c, collection_id, false, key, err);
    if (rc)
        goto out;
    rc = tq__store_stmt_get(c, ST_PERM_GET, &st, err);
    if (rc)
        goto out;
    tq__store_bind_text(st, 1, user);
    tq__store_bind_text(st, 2, key);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW) {
        /* max() over no rows is NULL, which reads as 0: unknown pairs are false/false. */
        *can_read = (int)tq__db_col_int64(st, 0) != 0;
        *can_write = (int)tq__db_col_int64(st, 1) != 0;
    } else {
        rc = tq__store_fail(err, c->db, src, "read permission");
    }
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

static void partner_from_row(struct tq__stmt *st, struct tq_partner *out)
{
    const char *name = tq__db_col_text(st, 0);
    const void *sha = tq__db_col_blob(st, 3);

    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", name ? (const char *)name : "");
    out->taxii_url = tq__store_column_dup(st, 1);
    out->cert_pem = tq__store_column_dup(st, 2);
    if (sha && tq__db_col_bytes(st, 3) == 32)
        memcpy(out->cert_sha256, sha, 32);
    out->sign_pubkey = tq__store_column_dup(st, 4);
    out->added_us = tq__db_col_int64(st, 5);
}

tq_rc tq__engine_partner_get(struct tq_store *store, const char *name, const uint8_t *sha256,
                             struct tq_partner *out, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    /* No certificate pinned is stored as NULL, which no hash finds. */
    if (!name && tq_is_zero(sha256, 32))
        return tq_err_set(err, TQ_ENOTFOUND, "store: no partner with that certificate");
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, name ? ST_PARTNER_BY_NAME : ST_PARTNER_BY_CERT, &st, err);
    if (rc)
        goto out;
    if (name)
        tq__store_bind_text(st, 1, name);
    else
        tq__db_bind_blob(st, 1, sha256, 32);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW)
        partner_from_row(st, out);
    else if (src == TQ__DB_DONE && name)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no partner '%.64s'", name);
    else if (src == TQ__DB_DONE)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no partner with that certificate");
    else
        rc = tq__store_fail(err, c->db, src, "read partner");
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

static void partner_row(struct tq__stmt *st, void *elem)
{
    partner_from_row(st, elem);
}

static void partners_free(void *v, size_t n)
{
    tq_partner_list_free(v, n);
}

tq_rc tq__engine_partner_list(struct tq_store *store, struct tq_partner **out, size_t *n_out,
                              struct tq_err *err)
{
    return tq__store_list_rows(tq__engine_of(store), ST_PARTNER_LIST, sizeof(**out), partner_row,
                               partners_free, "list partners", (void **)out, n_out, err);
}

tq_rc tq__engine_names_list(struct tq_store *store, enum tq__store_names what, const char *key,
                            char ***names_out, size_t *n, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    int64_t k = 0;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    switch (what) {
    case TQ__NAMES_GROUPS:
        rc = tq__store_stmt_get(c, ST_GROUP_LIST, &st, err);
        break;
    case TQ__NAMES_GROUP_MEMBERS:
        rc = tq__store_lookup_key(c, ST_GROUP_GID, key, &k, "group", err);
        if (rc == TQ_OK)
            rc = tq__store_stmt_get(c, ST_GROUP_MEMBERS, &st, err);
        break;
    case TQ__NAMES_PARTNER_GROUPS:
        rc = tq__store_partner_pid(c, key, &k, err);
        if (rc == TQ_OK)
            rc = tq__store_stmt_get(c, ST_PARTNER_GROUPS, &st, err);
        break;
    }
    if (rc)
        goto out;
    if (what != TQ__NAMES_GROUPS)
        tq__db_bind_int64(st, 1, k);
    rc = tq__store_collect_names(c, st, names_out, n, err);
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}
