/* SPDX-License-Identifier: Apache-2.0
 *
 * store/meta.c - node metadata: a small key/value table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"

tq_rc tq__engine_meta_get(struct tq_store *store, const char *key, char **value_out,
                          struct tq_err *err)
{
    return tq__store_row_get(tq__engine_of(store), ST_META_GET, key, 0, tq__store_text_from_row,
                             value_out, "meta key", err);
}

tq_rc tq__engine_meta_set(struct tq_store *store, const char *key, const char *value,
                          struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_META_SET, &st, err);
    if (rc)
        goto out;
    tq__store_bind_text(st, 1, key);
    tq__store_bind_text(st, 2, value);
    rc = tq__store_step_write(s, c, st, "write meta", NULL, err);
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}
