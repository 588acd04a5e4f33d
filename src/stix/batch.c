/* SPDX-License-Identifier: Apache-2.0
 *
 * stix/batch.c - one batch of STIX objects from untrusted text.
 *
 * Accepts the four shapes objects arrive in: a STIX bundle, a TAXII envelope ({"objects": [...]}),
 * a bare JSON array and a single object. Problems with the container fail the whole call
 * (TQ_EJSON, TQ_EUNPROCESSABLE); problems with an object only mark that object's item invalid, so
 * a TAXII status can report successes and failures per object.
 */
#include <string.h>

#include <json-c/json.h>

#include "stix/stix.h"

void tq_stix_batch_free(struct tq_stix_batch *batch)
{
    if (!batch)
        return;
    for (size_t i = 0; i < batch->n; i++)
        tq_stix_object_cleanup(&batch->items[i].obj);
    for (size_t i = 0; i < batch->n_problems; i++) {
        tq_free(batch->problems[i].object_id);
        tq_free(batch->problems[i].property);
        tq_free(batch->problems[i].reason);
    }
    tq_free(batch->items);
    tq_free(batch->problems);
    tq_free(batch);
}

tq_rc tq_stix_container(struct json_object *root, struct json_object **list, bool *single,
                        struct tq_err *err)
{
    struct json_object *type = NULL, *objs = NULL, *id = NULL;
    struct tq_str t, ids;
    size_t tl;

    *list = NULL;
    *single = false;
    if (json_object_get_type(root) == json_type_array) {
        *list = root;
        return TQ_OK;
    }
    if (json_object_get_type(root) != json_type_object)
        return tq_err_set(err, TQ_EUNPROCESSABLE,
                          "expected a bundle, a TAXII envelope, an array or an object, got %s",
                          root ? json_type_to_name(json_object_get_type(root)) : "null");
    json_object_object_get_ex(root, "type", &type);
    json_object_object_get_ex(root, "objects", &objs);
    t = tq__stix_jstr(type);
    if (type && !t.ptr)
        return tq_err_set(err, TQ_EUNPROCESSABLE, "member \"type\" must be a string");
    if (tq_str_eq_c(t, "bundle")) {
        if (!json_object_object_get_ex(root, "id", &id))
            return tq_err_set(err, TQ_EUNPROCESSABLE, "bundle: \"id\" is missing");
        ids = tq__stix_jstr(id);
        if (!tq__stix_id_parse(ids, &tl) || tl != 6 || memcmp(ids.ptr, "bundle", 6) != 0)
            return tq_err_set(err, TQ_EUNPROCESSABLE,
                              "bundle: \"id\" must be bundle--<RFC 4122 UUID>");
        if (!objs)
            return TQ_OK; /* an empty bundle is allowed */
        if (json_object_get_type(objs) != json_type_array)
            return tq_err_set(err, TQ_EUNPROCESSABLE, "bundle: \"objects\" must be an array");
        if (json_object_array_length(objs) == 0)
            return tq_err_set(err, TQ_EUNPROCESSABLE, "bundle: \"objects\" must not be empty");
        *list = objs;
        return TQ_OK;
    }
    if (!type) {
        /* A TAXII envelope: objects (optional), more, next. */
        if (!objs)
            return tq_err_set(err, TQ_EUNPROCESSABLE,
                              "neither a STIX object (no \"type\") nor an envelope (no "
                              "\"objects\")");
        if (json_object_get_type(objs) != json_type_array)
            return tq_err_set(err, TQ_EUNPROCESSABLE, "envelope: \"objects\" must be an array");
        *list = objs;
        return TQ_OK;
    }
    *list = root;
    *single = true;
    return TQ_OK;
}

struct tq_stix_batch *tq_stix_batch_of(struct json_object *list, bool single)
{
    size_t n = !list ? 0 : single ? 1 : json_object_array_length(list);
    struct tq_stix_batch *b = tq_xcalloc(1, sizeof(*b));

    b->items = tq_xcalloc(n ? n : 1, sizeof(*b->items));
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = single ? list : json_object_array_get_idx(list, i);
        struct tq_stix_item *it = &b->items[i];

        it->ok = tq_stix_object_from_json(o, i, b, &it->obj, NULL) == TQ_OK;
        if (!it->ok)
            b->n_invalid++;
    }
    return b;
}

tq_rc tq_stix_parse_batch(struct tq_str text, struct tq_stix_batch **out, struct tq_err *err)
{
    struct json_object *root = NULL, *list = NULL;
    bool single;
    tq_rc rc;

    rc = tq_json_parse(text, &root, err);
    if (rc)
        return rc;
    rc = tq_stix_container(root, &list, &single, err);
    if (!rc)
        *out = tq_stix_batch_of(list, single);
    json_object_put(root);
    return rc;
}
