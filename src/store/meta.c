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
    return tq__store_write(tq__engine_of(store), ST_META_SET,
                           TQ__ARGS(TQ__ARG_TEXT(key), TQ__ARG_TEXT(value)), "write meta", NULL,
                           err);
}
