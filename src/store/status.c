/* SPDX-License-Identifier: Apache-2.0
 *
 * store/status.c - TAXII status resources, private to their owner.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"

tq_rc tq__engine_status_put(struct tq_store *store, const char *status_id, const char *owner,
                            int64_t created_us, const char *json, size_t json_len,
                            struct tq_err *err)
{
    struct tq__store_result res;
    tq_rc rc;

    if (json_len > (size_t)INT32_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: status resource too large");
    rc = tq__store_write(tq__engine_of(store), ST_STATUS_PUT,
                         TQ__ARGS(TQ__ARG_TEXT(status_id), TQ__ARG_TEXT(owner),
                                  TQ__ARG_INT(created_us), TQ__ARG_TEXTN(json, (int)json_len)),
                         "write status", &res, err);
    if (rc == TQ_OK && res.changes == 0) /* the id exists under another owner */
        rc = tq_err_set(err, TQ_EEXIST, "store: status id already in use");
    return rc;
}

tq_rc tq__engine_status_get(struct tq_store *store, const char *status_id, const char *owner,
                            char **json_out, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    const char *row_owner;
    tq_rc rc;
    int src;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_STATUS_GET, &st, err);
    if (rc)
        goto out;
    tq__store_bind_text(st, 1, status_id);
    src = tq__db_step(st);
    if (src != TQ__DB_ROW && src != TQ__DB_DONE) {
        rc = tq__store_fail(err, c->db, src, "read status");
        goto out;
    }
    row_owner = src == TQ__DB_ROW ? tq__db_col_text(st, 0) : NULL;
    /* Another user's status answers exactly like a missing one. */
    if (!row_owner || strcmp((const char *)row_owner, owner) != 0) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no status '%.64s'", status_id);
        goto out;
    }
    *json_out = tq__store_column_dup(st, 1);
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_status_purge(struct tq_store *store, int64_t older_than_us, struct tq_err *err)
{
    return tq__store_write(tq__engine_of(store), ST_STATUS_PURGE,
                           TQ__ARGS(TQ__ARG_INT(older_than_us)), "purge status", NULL, err);
}
