/* SPDX-License-Identifier: Apache-2.0
 *
 * store/web_session.c - the dashboard's sessions in the store (tansiq/web_store.h).
 *
 * Each call is one statement in its own transaction; a session is keyed by the SHA-256 of its
 * token, so a reader of the database (or of a copy of it) cannot sign in with what it finds.
 */
#include <stdio.h>
#include <string.h>

#include "store/engine.h"
#include "tansiq/web_store.h"

static void session_from_row(struct tq__stmt *st, void *out)
{
    struct tq_store_web_session *s = out;
    const char *t;

    t = tq__db_col_text(st, 0);
    snprintf(s->user, sizeof(s->user), "%s", t ? t : "");
    t = tq__db_col_text(st, 1);
    snprintf(s->csrf, sizeof(s->csrf), "%s", t ? t : "");
    s->created_us = tq__db_col_int64(st, 2);
    s->last_us = tq__db_col_int64(st, 3);
    s->expires_us = tq__db_col_int64(st, 4);
}

tq_rc tq_store_web_session_put(struct tq_store *store, const struct tq_store_web_session *s,
                               struct tq_err *err)
{
    size_t ul, cl;

    if (!store || !s)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or session");
    ul = strnlen(s->user, sizeof(s->user));
    cl = strnlen(s->csrf, sizeof(s->csrf));
    if (ul == 0 || ul == sizeof(s->user) || cl == 0 || cl == sizeof(s->csrf))
        return tq_err_set(err, TQ_EINVAL, "store: a session needs a user and a csrf token");
    return tq__store_write(tq__engine_of(store), ST_WEB_SESSION_PUT,
                           TQ__ARGS(TQ__ARG_BLOB(s->hash, 32), TQ__ARG_TEXT(s->user),
                                    TQ__ARG_TEXT(s->csrf), TQ__ARG_INT(s->created_us),
                                    TQ__ARG_INT(s->last_us), TQ__ARG_INT(s->expires_us)),
                           "put web session", NULL, err);
}

tq_rc tq_store_web_session_get(struct tq_store *store, const uint8_t hash[32],
                               struct tq_store_web_session *out, struct tq_err *err)
{
    struct tq__engine *s;
    struct tq__conn *c = NULL;
    struct tq_store_web_session row = {0};
    bool found = false;
    tq_rc rc;

    if (!store || !hash || !out)
        return tq_err_set(err, TQ_EINVAL, "store: missing store, hash or output");
    s = tq__engine_of(store);
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_read_row(c, ST_WEB_SESSION_GET, TQ__ARGS(TQ__ARG_BLOB(hash, 32)),
                            session_from_row, &row, &found, "read web session", err);
    tq__store_conn_put(s, c);
    if (rc == TQ_OK && !found)
        return tq_err_set(err, TQ_ENOTFOUND, "store: no such web session");
    if (rc == TQ_OK) {
        memcpy(row.hash, hash, 32);
        *out = row;
    }
    return rc;
}

tq_rc tq_store_web_session_touch(struct tq_store *store, const uint8_t hash[32], int64_t last_us,
                                 struct tq_err *err)
{
    if (!store || !hash)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or hash");
    return tq__store_write(tq__engine_of(store), ST_WEB_SESSION_TOUCH,
                           TQ__ARGS(TQ__ARG_BLOB(hash, 32), TQ__ARG_INT(last_us)),
                           "touch web session", NULL, err);
}

tq_rc tq_store_web_session_delete(struct tq_store *store, const uint8_t hash[32], bool *deleted,
                                  struct tq_err *err)
{
    struct tq__store_result res = {0};
    tq_rc rc;

    if (!store || !hash)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or hash");
    rc = tq__store_write(tq__engine_of(store), ST_WEB_SESSION_DELETE,
                         TQ__ARGS(TQ__ARG_BLOB(hash, 32)), "delete web session", &res, err);
    if (rc == TQ_OK && deleted)
        *deleted = res.changes > 0;
    return rc;
}

tq_rc tq_store_web_session_sweep(struct tq_store *store, int64_t now_us, int64_t idle_before_us,
                                 uint64_t *n, struct tq_err *err)
{
    struct tq__store_result res = {0};
    tq_rc rc;

    if (!store)
        return tq_err_set(err, TQ_EINVAL, "store: no store");
    rc = tq__store_write(tq__engine_of(store), ST_WEB_SESSION_SWEEP,
                         TQ__ARGS(TQ__ARG_INT(now_us), TQ__ARG_INT(idle_before_us)),
                         "sweep web sessions", &res, err);
    if (rc == TQ_OK && n)
        *n = res.changes > 0 ? (uint64_t)res.changes : 0;
    return rc;
}
