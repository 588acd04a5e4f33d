/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/watchlist_stix.c - the identities and threat actors of a STIX collection as watchlist
 * entries.
 *
 * The latest version of each identity and threat-actor object of the collection is read through
 * the store's query (as the node itself: no release filter); its name and aliases become the
 * entry's names and its STIX id the ref, so that a re-import after new versions reports them as
 * changed. This is the reader a partner's list arriving by sync will build on.
 */
#include <string.h>

#include <json-c/json.h>

#include "screen/watchlist_int.h"
#include "tansiq/json.h"

struct stix_read {
    struct tq__watch_vec vec;
    struct tq_err *err;
};

static const char *str_member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Whether an open-vocabulary list member of o holds word. */
static bool list_has(struct json_object *o, const char *key, const char *word)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *x = json_object_array_get_idx(v, i);

        if (json_object_is_type(x, json_type_string) &&
            strcmp(json_object_get_string(x), word) == 0)
            return true;
    }
    return false;
}

static tq_rc object_entry(struct json_object *o, struct tq_watch_entry *e)
{
    const char *type = str_member(o, "type"), *name = str_member(o, "name");
    const char *cls = str_member(o, "identity_class");
    struct json_object *aliases = NULL;
    tq_rc rc;

    e->ref = tq_xstrdup(str_member(o, "id"));
    if (strcmp(type, "identity") == 0)
        e->kind = cls && strcmp(cls, "individual") == 0 ? TQ_WATCH_INDIVIDUAL : TQ_WATCH_ENTITY;
    else
        e->kind =
            list_has(o, "threat_actor_types", "individual") ? TQ_WATCH_INDIVIDUAL : TQ_WATCH_ENTITY;
    rc = tq__watch_add_name(e, tq_str_c(name), TQ_WATCH_PRIMARY);
    if (rc == TQ_OK && json_object_object_get_ex(o, "aliases", &aliases) &&
        json_object_is_type(aliases, json_type_array))
        for (size_t i = 0; rc == TQ_OK && i < json_object_array_length(aliases); i++) {
            struct json_object *x = json_object_array_get_idx(aliases, i);

            if (json_object_is_type(x, json_type_string))
                rc = tq__watch_add_name(e, tq_str_c(json_object_get_string(x)), TQ_WATCH_GOOD);
        }
    return rc;
}

static tq_rc on_row(void *ud, const struct tq_store_row *row)
{
    struct stix_read *r = ud;
    struct tq_watch_entry e = {0};
    struct json_object *o = NULL, *revoked = NULL;
    tq_rc rc;

    rc = tq_json_parse((struct tq_str){row->json, row->json_len}, &o, r->err);
    if (rc)
        return rc;
    /* The store keeps validated objects: an id, a type and (for these two types) a name. */
    if (!str_member(o, "id") || !str_member(o, "type") || !str_member(o, "name") ||
        (json_object_object_get_ex(o, "revoked", &revoked) && json_object_get_boolean(revoked)))
        goto out;
    rc = object_entry(o, &e);
    if (rc) {
        tq_err_set(r->err, rc, "watchlist: %s: a name is empty of letters, not UTF-8 or too long",
                   row->id);
        goto out;
    }
    if (e.n_names && tq__watch_vec_take(&r->vec, &e))
        rc = tq_err_set(r->err, TQ_ETOOBIG, "watchlist: more than %zu entries", r->vec.max);
out:
    tq_watch_entry_cleanup(&e);
    json_object_put(o);
    return rc;
}

tq_rc tq_watchlist_from_stix(struct tq_store *store, const char *collection,
                             const struct tq_watchlist_limits *lim, struct tq_watch_entry **out,
                             size_t *n, struct tq_err *err)
{
    const struct tq_str types[] = {TQ_STR("identity"), TQ_STR("threat-actor")};
    struct tq_watchlist_limits l;
    struct tq_collection col = {0};
    struct stix_read r = {.err = err};
    struct tq_store_query q = {.limit = 500, .types = types, .n_types = 2};
    tq_rc rc;

    if (!store || !collection || !out || !n)
        return tq_err_set(err, TQ_EINVAL, "watchlist: no store or collection");
    tq__watch_limits(lim, &l);
    r.vec.max = l.max_entries;
    rc = tq_store_collection_get(store, collection, &col, err);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(err, rc, "watchlist: no collection '%s'", collection);
    if (rc == TQ_OK) {
        q.collection_id = col.id;
        rc = tq_store_query_all(store, &q, true, on_row, &r, err);
    }
    tq_collection_cleanup(&col);
    if (rc) {
        tq_watch_entries_free(r.vec.v, r.vec.n);
        return rc;
    }
    *out = r.vec.v ? r.vec.v : tq_xcalloc(1, sizeof(**out));
    *n = r.vec.n;
    return TQ_OK;
}
