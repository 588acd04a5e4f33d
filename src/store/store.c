/* SPDX-License-Identifier: Apache-2.0
 *
 * store/store.c - the public store API: URI parsing, argument checks and dispatch.
 *
 * The functions here are thin: they refuse what the engine could not accept (NULL arguments, a
 * zero page limit, a delete without an object id) and call the engine's entry point of the
 * same name (store/store.h). The URI chooses the driver the engine runs on: "postgresql://" and
 * "postgres://" the PostgreSQL driver (TQ_ENOTSUP in a build without libpq), anything else a
 * SQLite file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "store/store.h"
#include "tansiq/json.h"
#include "tansiq/note.h"

/* ---- URI parsing ---------------------------------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

tq_rc tq_store_open(const char *uri, const struct tq_store_options *opt, struct tq_store **out,
                    struct tq_err *err)
{
    static const struct tq_store_options defaults = {0};
    struct tq_store_options o;
    const char *path;
    const char *sep;

    if (!uri || !*uri || !out)
        return tq_err_set(err, TQ_EINVAL, "store: no URI given");
    o = opt ? *opt : defaults;
    if (o.pool_size == 0)
        o.pool_size = TQ_STORE_POOL_DEFAULT;

    if (has_prefix(uri, "postgres://") || has_prefix(uri, "postgresql://")) {
        tq_rc rc = tq__store_postgres_open(uri, &o, out, err);

        /* The monitoring migration's own refusal: the server lacks PostGIS, a setup matter. */
        if (rc == TQ_ESTORE && err && strstr(err->msg, TQ__STORE_NO_POSTGIS))
            rc = err->rc = TQ_ECONFIG;
        return rc;
    }

    path = uri;
    if (has_prefix(uri, "sqlite:")) {
        path = uri + strlen("sqlite:");
        /* "sqlite:///abs/path" is accepted as a spelling of "/abs/path". */
        if (has_prefix(path, "//"))
            path += 2;
    } else {
        sep = strstr(uri, "://");
        if (sep)
            return tq_err_set(err, TQ_EINVAL, "store: unknown URI scheme '%.*s'", (int)(sep - uri),
                              uri);
    }
    if (!*path)
        return tq_err_set(err, TQ_EINVAL, "store: empty database path");
    /* A private in-memory database per pooled connection would silently lose data. */
    if (strcmp(path, ":memory:") == 0)
        return tq_err_set(err, TQ_EINVAL, "store: in-memory databases are not supported");
    return tq__store_sqlite_open(path, &o, out, err);
}

bool tq_store_read_only(struct tq_store *store)
{
    return store && tq__engine_read_only(store);
}

void tq_store_close(struct tq_store *store)
{
    if (!store)
        return;
    tq__engine_close(store);
}

/* ---- collections ---------------------------------------------------------------------- */

void tq_collection_cleanup(struct tq_collection *c)
{
    if (!c)
        return;
    tq_free(c->alias);
    tq_free(c->title);
    tq_free(c->description);
    c->alias = NULL;
    c->title = NULL;
    c->description = NULL;
}

void tq_collection_list_free(struct tq_collection *v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        tq_collection_cleanup(&v[i]);
    tq_free(v);
}

/* ---- dispatch ------------------------------------------------------------------------- */

#define CHECK_STORE(store)                                                                         \
    do {                                                                                           \
        if (!(store))                                                                              \
            return tq_err_set(err, TQ_EINVAL, "store: no store");                                  \
    } while (0)

#define CHECK_ARG(cond, what)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return tq_err_set(err, TQ_EINVAL, "store: missing %s", (what));                        \
    } while (0)

tq_rc tq_store_signer_run(struct tq_store *store, tq_rc (*fn)(void *ud, struct tq_err *err),
                          void *ud, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(fn, "function");
    return tq__engine_signer_run(store, fn, ud, err);
}

tq_rc tq_store_meta_get(struct tq_store *store, const char *key, char **value_out,
                        struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(key && value_out, "key");
    return tq__engine_meta_get(store, key, value_out, err);
}

tq_rc tq_store_meta_set(struct tq_store *store, const char *key, const char *value,
                        struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(key && value, "key or value");
    return tq__engine_meta_set(store, key, value, err);
}

tq_rc tq_store_collection_add(struct tq_store *store, const struct tq_collection *c,
                              struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(c && c->title, "collection title");
    if (!tq_uuid_valid(tq_str_c(c->id)))
        return tq_err_set(err, TQ_EINVAL, "store: collection id '%.40s' is not a UUID", c->id);
    /* An alias that looks like a UUID could shadow another collection's id. */
    if (c->alias && (!*c->alias || tq_uuid_valid(tq_str_c(c->alias))))
        return tq_err_set(err, TQ_EINVAL, "store: collection alias must be a non-UUID name");
    return tq__engine_collection_add(store, c, err);
}

tq_rc tq_store_collection_get(struct tq_store *store, const char *id_or_alias,
                              struct tq_collection *out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(id_or_alias && out, "collection id");
    return tq__engine_collection_get(store, id_or_alias, out, err);
}

tq_rc tq_store_collection_list(struct tq_store *store, struct tq_collection **out, size_t *n,
                               struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_collection_list(store, out, n, err);
}

tq_rc tq_store_put(struct tq_store *store, const char *collection_id,
                   const struct tq_stix_object *objs, size_t n, enum tq_put_result *results,
                   int64_t *date_added_us, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(collection_id, "collection id");
    CHECK_ARG(objs || n == 0, "objects");
    return tq__engine_put_ex(store, collection_id, objs, NULL, n, NULL, NULL, results,
                             date_added_us, err);
}

tq_rc tq_store_put_ex(struct tq_store *store, const char *collection_id,
                      const struct tq_stix_object *objs, const struct tq_store_facts *facts,
                      size_t n, tq_store_decide_cb decide, void *ud, enum tq_put_result *results,
                      int64_t *date_added_us, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(collection_id, "collection id");
    CHECK_ARG(objs || n == 0, "objects");
    return tq__engine_put_ex(store, collection_id, objs, facts, n, decide, ud, results,
                             date_added_us, err);
}

static tq_rc check_lists(const struct tq_store_query *q, struct tq_err *err)
{
    if (q->n_ids > TQ_QUERY_MAX_LIST || q->n_types > TQ_QUERY_MAX_LIST ||
        q->n_versions > TQ_QUERY_MAX_LIST || q->n_spec_versions > TQ_QUERY_MAX_LIST)
        return tq_err_set(err, TQ_EINVAL, "store: more than %d values in one match filter",
                          TQ_QUERY_MAX_LIST);
    if ((q->n_ids && !q->ids) || (q->n_types && !q->types) || (q->n_versions && !q->versions) ||
        (q->n_spec_versions && !q->spec_versions))
        return tq_err_set(err, TQ_EINVAL, "store: match filter without values");
    if ((q->version_flags & TQ_MATCH_TIMES) && !(q->version_flags & TQ_MATCH_ALL) &&
        q->n_versions == 0 && !(q->version_flags & (TQ_MATCH_FIRST | TQ_MATCH_LAST)))
        return tq_err_set(err, TQ_EINVAL, "store: match[version] by time without a time");
    return TQ_OK;
}

tq_rc tq_store_query(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                     tq_store_row_cb cb, void *ud, struct tq_store_page_info *info,
                     struct tq_err *err)
{
    tq_rc rc;

    CHECK_STORE(store);
    CHECK_ARG(q && q->collection_id, "collection id");
    CHECK_ARG(cb && info, "callback or page info");
    if (q->limit == 0)
        return tq_err_set(err, TQ_EINVAL, "store: page limit must be at least 1");
    rc = check_lists(q, err);
    if (rc)
        return rc;
    return tq__engine_query(store, q, with_json, cb, ud, info, err);
}

tq_rc tq_store_query_all(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                         tq_store_row_cb cb, void *ud, struct tq_err *err)
{
    struct tq_store_query page = *q;
    struct tq_store_page_info info;
    tq_rc rc;

    do {
        rc = tq_store_query(store, &page, with_json, cb, ud, &info, err);
        if (rc)
            return rc;
        page.has_cursor = true;
        page.cursor = info.next;
    } while (info.more);
    return TQ_OK;
}

tq_rc tq_store_delete(struct tq_store *store, const struct tq_store_query *q, size_t *deleted,
                      struct tq_err *err)
{
    tq_rc rc;

    CHECK_STORE(store);
    CHECK_ARG(q && q->collection_id, "collection id");
    CHECK_ARG(q->object_id, "object id");
    CHECK_ARG(deleted, "output");
    if (q->partner)
        return tq_err_set(err, TQ_EFORBIDDEN, "store: partners do not delete objects");
    rc = check_lists(q, err);
    if (rc)
        return rc;
    return tq__engine_del(store, q, deleted, err);
}

tq_rc tq_store_count(struct tq_store *store, const char *collection_id, uint64_t *count,
                     struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(count, "output");
    return tq__engine_count(store, collection_id, count, err);
}

tq_rc tq_store_status_put(struct tq_store *store, const char *status_id, const char *owner,
                          int64_t created_us, const char *json, size_t json_len, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(status_id && owner && json, "status id, owner or JSON");
    return tq__engine_status_put(store, status_id, owner, created_us, json, json_len, err);
}

tq_rc tq_store_status_get(struct tq_store *store, const char *status_id, const char *owner,
                          char **json_out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(status_id && owner && json_out, "status id or owner");
    return tq__engine_status_get(store, status_id, owner, json_out, err);
}

tq_rc tq_store_status_purge(struct tq_store *store, int64_t older_than_us, struct tq_err *err)
{
    CHECK_STORE(store);
    return tq__engine_status_purge(store, older_than_us, err);
}

tq_rc tq_store_user_put(struct tq_store *store, const char *name, const char *pwhash,
                        struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(name && *name && pwhash, "user name or password hash");
    return tq__engine_user_put(store, name, pwhash, err);
}

tq_rc tq_store_user_get(struct tq_store *store, const char *name, char **pwhash_out,
                        struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(name && pwhash_out, "user name");
    return tq__engine_user_get(store, name, pwhash_out, err);
}

tq_rc tq_store_user_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(name, "user name");
    return tq__engine_user_delete(store, name, err);
}

tq_rc tq_store_user_list(struct tq_store *store, char ***names_out, size_t *n, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(names_out && n, "output");
    return tq__engine_user_list(store, names_out, n, err);
}

tq_rc tq_store_token_add(struct tq_store *store, const char *user, const uint8_t hash[32],
                         const char *label, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(user && hash, "user or token hash");
    return tq__engine_token_add(store, user, hash, label, err);
}

tq_rc tq_store_token_lookup(struct tq_store *store, const uint8_t hash[32], char **user_out,
                            struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(hash && user_out, "token hash");
    return tq__engine_token_lookup(store, hash, user_out, err);
}

tq_rc tq_store_perm_set(struct tq_store *store, const char *user, const char *collection_id,
                        bool can_read, bool can_write, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(user && collection_id, "user or collection");
    return tq__engine_perm_set(store, user, collection_id, can_read, can_write, err);
}

tq_rc tq_store_perm_get(struct tq_store *store, const char *user, const char *collection_id,
                        bool *can_read, bool *can_write, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(user && collection_id && can_read && can_write, "user or collection");
    return tq__engine_perm_get(store, user, collection_id, can_read, can_write, err);
}

/* ---- partners, groups and releases ---------------------------------------------------- */

void tq_partner_cleanup(struct tq_partner *p)
{
    if (!p)
        return;
    tq_free(p->taxii_url);
    tq_free(p->cert_pem);
    tq_free(p->sign_pubkey);
    p->taxii_url = NULL;
    p->cert_pem = NULL;
    p->sign_pubkey = NULL;
}

void tq_partner_list_free(struct tq_partner *v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        tq_partner_cleanup(&v[i]);
    tq_free(v);
}

void tq_store_names_free(char **names, size_t n)
{
    size_t i;

    if (!names)
        return;
    for (i = 0; i < n; i++)
        tq_free(names[i]);
    tq_free(names);
}

void tq_collection_policy_cleanup(struct tq_collection_policy *p)
{
    if (!p)
        return;
    tq_free(p->audience);
    p->audience = NULL;
}

void tq__store_facts_cleanup(struct tq_store_facts *f)
{
    tq_free((char *)f->release_to);
    tq_free((char *)f->restrict_to);
    tq_free((char *)f->pending);
    tq_free((char *)f->not_understood);
    tq_free((char *)f->origin);
    tq_free((char *)f->remote_collection);
    memset(f, 0, sizeof(*f));
}

void tq_store_version_info_cleanup(struct tq_store_version_info *v)
{
    if (!v)
        return;
    tq__store_facts_cleanup(&v->facts);
    tq_store_names_free(v->released_to, v->n_released);
    memset(v, 0, sizeof(*v));
}

void tq_store_pending_free(struct tq_store_pending *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        tq_free(v[i].json);
        tq__store_facts_cleanup(&v[i].facts);
    }
    tq_free(v);
}

tq_rc tq_store_pending_list(struct tq_store *store, const char *marking_id,
                            struct tq_store_pending **out, size_t *n, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_pending_list(store, marking_id, out, n, err);
}

static void free_vec(char **v, size_t n)
{
    tq_store_names_free(v, n);
}

void tq_store_release_view_free(struct tq_store_release_view_data *d)
{
    if (!d)
        return;
    free_vec(d->partners, d->view.n_partners);
    free_vec(d->member_groups, d->view.n_members);
    free_vec(d->member_partners, d->view.n_members);
    free_vec(d->granted, d->view.n_granted);
    tq_free(d->collection_id);
    tq_free(d->default_audience);
    tq_free(d);
}

const struct tq_store_release_view *
tq_store_release_view_of(const struct tq_store_release_view_data *data)
{
    return data ? &data->view : NULL;
}

/* A change the backend can apply as it is: every name it needs is present. */
static tq_rc check_change(const struct tq_store_change *ch, struct tq_err *err)
{
    switch (ch->kind) {
    case TQ_CHANGE_NONE:
        return TQ_OK;
    case TQ_CHANGE_PARTNER_PUT:
        CHECK_ARG(ch->partner && ch->partner->name[0], "partner name");
        CHECK_ARG(memchr(ch->partner->name, 0, sizeof(ch->partner->name)), "partner name end");
        return TQ_OK;
    case TQ_CHANGE_PARTNER_DELETE:
    case TQ_CHANGE_GROUP_ADD:
    case TQ_CHANGE_GROUP_DELETE:
        CHECK_ARG(ch->name && *ch->name, "name");
        return TQ_OK;
    case TQ_CHANGE_MEMBER_SET:
        CHECK_ARG(ch->name && *ch->name && ch->member && *ch->member, "group or partner name");
        return TQ_OK;
    case TQ_CHANGE_COLLECTION_POLICY:
        CHECK_ARG(ch->collection_id && ch->policy, "collection or policy");
        return TQ_OK;
    case TQ_CHANGE_PERM_SET:
        CHECK_ARG(ch->name && *ch->name && ch->collection_id, "principal or collection");
        return TQ_OK;
    case TQ_CHANGE_FACTS:
        CHECK_ARG(ch->collection_id && (ch->n_facts == 0 || (ch->facts_at && ch->facts)),
                  "collection or facts");
        return TQ_OK;
    }
    return tq_err_set(err, TQ_EINVAL, "store: unknown configuration change");
}

static tq_rc apply_change(struct tq_store *store, const struct tq_store_change *ch,
                          struct tq_err *err)
{
    tq_rc rc;

    CHECK_STORE(store);
    rc = check_change(ch, err);
    if (rc)
        return rc;
    return tq__engine_release_rewrite(store, ch, false, NULL, NULL, NULL, err);
}

tq_rc tq_store_partner_put(struct tq_store *store, const struct tq_partner *p, struct tq_err *err)
{
    struct tq_store_change ch = {.kind = TQ_CHANGE_PARTNER_PUT, .partner = p};

    return apply_change(store, &ch, err);
}

tq_rc tq_store_partner_get(struct tq_store *store, const char *name, struct tq_partner *out,
                           struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(name && out, "partner name");
    return tq__engine_partner_get(store, name, NULL, out, err);
}

tq_rc tq_store_partner_find_cert(struct tq_store *store, const uint8_t sha256[32],
                                 struct tq_partner *out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(sha256 && out, "certificate hash");
    return tq__engine_partner_get(store, NULL, sha256, out, err);
}

tq_rc tq_store_partner_list(struct tq_store *store, struct tq_partner **out, size_t *n,
                            struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_partner_list(store, out, n, err);
}

tq_rc tq_store_partner_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct tq_store_change ch = {.kind = TQ_CHANGE_PARTNER_DELETE, .name = name};

    return apply_change(store, &ch, err);
}

tq_rc tq_store_group_add(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct tq_store_change ch = {.kind = TQ_CHANGE_GROUP_ADD, .name = name};

    return apply_change(store, &ch, err);
}

tq_rc tq_store_group_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct tq_store_change ch = {.kind = TQ_CHANGE_GROUP_DELETE, .name = name};

    return apply_change(store, &ch, err);
}

tq_rc tq_store_group_member_set(struct tq_store *store, const char *group, const char *partner,
                                bool member, struct tq_err *err)
{
    struct tq_store_change ch = {
        .kind = TQ_CHANGE_MEMBER_SET, .name = group, .member = partner, .is_member = member};

    return apply_change(store, &ch, err);
}

static tq_rc names_list(struct tq_store *store, enum tq__store_names what, const char *key,
                        char ***names_out, size_t *n, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(names_out && n, "output");
    CHECK_ARG(what == TQ__NAMES_GROUPS || key, "name");
    return tq__engine_names_list(store, what, key, names_out, n, err);
}

tq_rc tq_store_group_list(struct tq_store *store, char ***names_out, size_t *n, struct tq_err *err)
{
    return names_list(store, TQ__NAMES_GROUPS, NULL, names_out, n, err);
}

tq_rc tq_store_group_members(struct tq_store *store, const char *group, char ***names_out,
                             size_t *n, struct tq_err *err)
{
    return names_list(store, TQ__NAMES_GROUP_MEMBERS, group, names_out, n, err);
}

tq_rc tq_store_partner_groups(struct tq_store *store, const char *partner, char ***names_out,
                              size_t *n, struct tq_err *err)
{
    return names_list(store, TQ__NAMES_PARTNER_GROUPS, partner, names_out, n, err);
}

tq_rc tq_store_collection_policy_set(struct tq_store *store, const char *collection_id,
                                     const struct tq_collection_policy *p, struct tq_err *err)
{
    struct tq_store_change ch = {
        .kind = TQ_CHANGE_COLLECTION_POLICY, .collection_id = collection_id, .policy = p};

    return apply_change(store, &ch, err);
}

tq_rc tq_store_collection_policy_get(struct tq_store *store, const char *collection_id,
                                     struct tq_collection_policy *out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(collection_id && out, "collection id");
    return tq__engine_collection_policy_get(store, collection_id, out, err);
}

tq_rc tq_store_release_rewrite(struct tq_store *store, const struct tq_store_change *change,
                               const char *collection_id, tq_store_decide_cb decide, void *ud,
                               struct tq_err *err)
{
    static const struct tq_store_change none = {.kind = TQ_CHANGE_NONE};
    tq_rc rc;

    CHECK_STORE(store);
    CHECK_ARG(decide, "decision callback");
    rc = check_change(change ? change : &none, err);
    if (rc)
        return rc;
    return tq__engine_release_rewrite(store, change ? change : &none, true, collection_id, decide,
                                      ud, err);
}

tq_rc tq_store_release_view_get(struct tq_store *store, const char *collection_id,
                                struct tq_store_release_view_data **out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(collection_id && out, "collection id");
    return tq__engine_release_view_get(store, collection_id, out, err);
}

tq_rc tq_store_version_info_get(struct tq_store *store, const char *collection_id,
                                const char *object_id, int64_t version_us,
                                struct tq_store_version_info *out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(collection_id && object_id && out, "collection or object id");
    return tq__engine_version_info_get(store, collection_id, object_id, version_us, out, err);
}

tq_rc tq_store_marking_get(struct tq_store *store, const char *collection_id, const char *id,
                           const char *origin, struct tq_store_marking *out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(id && out, "marking id");
    memset(out, 0, sizeof(*out));
    return tq__engine_marking_get(store, collection_id, id, origin, out, err);
}

/* ---- audit log leaves ------------------------------------------------------------------ */

/* The members every record may have; an event's own fields take other names. */
static const char *const record_names[] = {"added",  "collection", "kind", "object", "partner",
                                           "sha256", "time",       "v",    "version"};
/* The kinds about one object version (or several, "read"): they name a collection and object. */
static const char *const object_kinds[] = {"stored", "released", "withdrawn", "read"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* [a-z][a-z0-9_]* (and '-' when dash), shorter than max. */
static bool audit_name_ok(const char *s, size_t max, bool dash)
{
    size_t i;

    if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (i = 1; s[i]; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (dash && c == '-')))
            return false;
    }
    return i < max;
}

static tq_rc check_event(const struct tq_store_audit_event *ev, struct tq_err *err)
{
    size_t i, j;

    if (!ev || !audit_name_ok(ev->kind, TQ_STORE_AUDIT_KIND_MAX, true))
        return tq_err_set(err, TQ_EINVAL, "store: audit event kind missing or malformed");
    /* Its own members are written as they are: text that is not UTF-8 has no canonical form. */
    if ((ev->collection && !tq_utf8_valid(ev->collection, strlen(ev->collection))) ||
        (ev->object && !tq_utf8_valid(ev->object, strlen(ev->object))) ||
        (ev->partner && !tq_utf8_valid(ev->partner, strlen(ev->partner))))
        return tq_err_set(err, TQ_EINVAL, "store: an audit event member is not UTF-8");
    if (in_list(ev->kind, object_kinds, sizeof(object_kinds) / sizeof(object_kinds[0])) &&
        (!ev->collection || (!ev->object && !ev->n_added)))
        return tq_err_set(err, TQ_EINVAL, "store: a '%s' event needs a collection and an object",
                          ev->kind);
    if (ev->n_fields > TQ_STORE_AUDIT_FIELDS_MAX || (ev->n_fields && !ev->fields))
        return tq_err_set(err, TQ_EINVAL, "store: an audit event has at most %d fields",
                          TQ_STORE_AUDIT_FIELDS_MAX);
    for (i = 0; i < ev->n_fields; i++) {
        const struct tq_store_audit_field *f = &ev->fields[i];
        if (!audit_name_ok(f->name, TQ_STORE_AUDIT_FIELD_MAX, false) || !f->value ||
            in_list(f->name, record_names, sizeof(record_names) / sizeof(record_names[0])))
            return tq_err_set(err, TQ_EINVAL,
                              "store: audit event field %zu is malformed or "
                              "takes a record member's name",
                              i);
        for (j = 0; j < i; j++)
            if (strcmp(f->name, ev->fields[j].name) == 0)
                return tq_err_set(err, TQ_EINVAL, "store: audit event field '%s' given twice",
                                  f->name);
    }
    return TQ_OK;
}

static void put_str(struct json_object *o, const char *name, const char *value)
{
    if (value)
        json_object_object_add(o, name, json_object_new_string(value));
}

/* An event with fields of its own: every member into one object, written in RFC 8785 form. */
static tq_rc record_with_fields(const struct tq_store_audit_event *ev, struct tq_buf *out,
                                struct tq_err *err)
{
    struct json_object *o = json_object_new_object();
    char time[TQ_TIME_STR_MAX], version[TQ_TIME_STR_MAX], hex[65];
    tq_rc rc;

    if (ev->n_added) {
        struct json_object *a = json_object_new_array_ext((int)ev->n_added);
        for (size_t i = 0; i < ev->n_added; i++)
            json_object_array_add(a, json_object_new_int64(ev->added_us[i]));
        json_object_object_add(o, "added", a);
    }
    put_str(o, "collection", ev->collection);
    put_str(o, "kind", ev->kind);
    put_str(o, "partner", ev->partner);
    tq_time_format(ev->at_us, time);
    put_str(o, "time", time);
    json_object_object_add(o, "v", json_object_new_int(1));
    if (!ev->n_added) {
        put_str(o, "object", ev->object);
        if (ev->sha256) {
            tq_hex_encode(ev->sha256, 32, hex);
            put_str(o, "sha256", hex);
        }
        if (ev->object && ev->version_us >= 0) {
            tq_time_format_exact(ev->version_us, version);
            put_str(o, "version", version);
        }
    }
    for (size_t i = 0; i < ev->n_fields; i++)
        put_str(o, ev->fields[i].name, ev->fields[i].value);
    rc = tq_jcs_serialize(o, out, err);
    json_object_put(o);
    return rc;
}

static tq_rc record_member(struct tq_buf *out, bool *first, const char *name, const char *value)
{
    tq_rc rc;

    if (!value)
        return TQ_OK;
    rc = tq_buf_append_c(out, *first ? "{\"" : ",\"");
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, name);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, "\":");
    if (rc == TQ_OK)
        rc = tq_buf_append_json_str(out, value, strlen(value));
    *first = false;
    return rc;
}

static const char *hex_of(const uint8_t sha256[32], char hex[65])
{
    tq_hex_encode(sha256, 32, hex);
    return hex;
}

/*
 * The members are written in RFC 8785 order (all names are ASCII, so UTF-16 order is byte
 * order) and every value is a string but "v", which JCS writes as 1: the text is its own
 * canonical form.
 */
tq_rc tq_store_audit_record(const struct tq_store_audit_event *ev, struct tq_buf *out,
                            struct tq_err *err)
{
    char time[TQ_TIME_STR_MAX], version[TQ_TIME_STR_MAX], hex[65];
    bool first = true;
    tq_rc rc;
    size_t i;

    if (!out)
        return tq_err_set(err, TQ_EINVAL, "store: no output for the audit record");
    rc = check_event(ev, err);
    if (rc)
        return rc;
    if (ev->n_fields)
        return record_with_fields(ev, out, err);
    tq_time_format(ev->at_us, time);
    if (ev->n_added) {
        /* "added" sorts before "collection"; JCS writes these integers (< 2^53) as is. */
        rc = tq_buf_append_c(out, "{\"added\":[");
        for (i = 0; rc == TQ_OK && i < ev->n_added; i++)
            rc = tq_buf_printf(out, i ? ",%" PRId64 : "%" PRId64, ev->added_us[i]);
        if (rc == TQ_OK)
            rc = tq_buf_append_c(out, "]");
        first = false;
    }
    if (rc == TQ_OK)
        rc = record_member(out, &first, "collection", ev->collection);
    if (rc == TQ_OK)
        rc = record_member(out, &first, "kind", ev->kind);
    if (rc == TQ_OK && !ev->n_added)
        rc = record_member(out, &first, "object", ev->object);
    if (rc == TQ_OK)
        rc = record_member(out, &first, "partner", ev->partner);
    if (rc == TQ_OK && !ev->n_added)
        rc = record_member(out, &first, "sha256", ev->sha256 ? hex_of(ev->sha256, hex) : NULL);
    if (rc == TQ_OK)
        rc = record_member(out, &first, "time", time);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, ",\"v\":1");
    if (rc == TQ_OK && !ev->n_added && ev->object && ev->version_us >= 0) {
        tq_time_format_exact(ev->version_us, version);
        rc = record_member(out, &first, "version", version);
    }
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, "}");
    if (rc)
        return tq_err_set(err, rc, "store: audit record too large");
    return TQ_OK;
}

tq_rc tq_store_audit_append(struct tq_store *store, const struct tq_store_audit_event *ev, size_t n,
                            struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(ev || n == 0, "audit events");
    if (n == 0)
        return TQ_OK;
    return tq__engine_audit_append(store, ev, n, err);
}

tq_rc tq_store_audit_size(struct tq_store *store, uint64_t *size, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(size, "size");
    return tq__engine_audit_size(store, size, err);
}

tq_rc tq_store_audit_hashes(struct tq_store *store, enum tq_store_audit_column which, uint64_t from,
                            size_t n, uint8_t (*out)[32], size_t *n_out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG((out || n == 0) && n_out, "output");
    CHECK_ARG(from <= INT64_MAX && n <= INT32_MAX, "leaf range");
    return tq__engine_audit_hashes(store, which, from, n, out, n_out, err);
}

tq_rc tq_store_audit_leaf_hashes(struct tq_store *store, uint64_t from, size_t n,
                                 uint8_t (*out)[32], size_t *n_out, struct tq_err *err)
{
    return tq_store_audit_hashes(store, TQ_AUDIT_LEAF_HASH, from, n, out, n_out, err);
}

void tq_store_audit_entry_cleanup(struct tq_store_audit_entry *e)
{
    if (!e)
        return;
    tq_free(e->partner);
    tq_free(e->record);
    memset(e, 0, sizeof(*e));
}

tq_rc tq_store_audit_entry(struct tq_store *store, uint64_t idx, struct tq_store_audit_entry *out,
                           struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out, "entry");
    if (idx > INT64_MAX)
        return tq_err_set(err, TQ_ENOTFOUND, "store: no audit leaf %" PRIu64, idx);
    return tq__engine_audit_entry(store, idx, out, err);
}

tq_rc tq_store_audit_checkpoint_put(struct tq_store *store, uint64_t size, const char *note,
                                    struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(note && size <= INT64_MAX, "checkpoint");
    return tq__engine_audit_checkpoint_put(store, size, note, err);
}

tq_rc tq_store_audit_checkpoint_get(struct tq_store *store, char **note_out, struct tq_err *err)
{
    return tq_store_meta_get(store, TQ__STORE_META_CHECKPOINT, note_out, err);
}

tq_rc tq__store_note_same_text(const char *kept, const char *note, bool *same, struct tq_err *err)
{
    struct tq_note *a = NULL, *b = NULL;
    struct tq_err why = {0};
    tq_rc rc;

    rc = tq_note_parse(tq_str_c(kept), &a, &why);
    if (rc) {
        rc = tq_err_set(err, TQ_EINVAL, "store: the kept checkpoint is not a signed note: %s",
                        why.msg);
        goto out;
    }
    rc = tq_note_parse(tq_str_c(note), &b, &why);
    if (rc) {
        rc = tq_err_set(err, TQ_EINVAL, "store: the new checkpoint note is malformed: %s", why.msg);
        goto out;
    }
    *same = tq_str_eq(a->text, b->text);
out:
    tq_note_free(a);
    tq_note_free(b);
    return rc;
}

tq_rc tq_store_audit_checkpoints(struct tq_store *store, uint64_t min_size,
                                 tq_store_checkpoint_cb cb, void *ud, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(cb, "callback");
    if (min_size > INT64_MAX)
        return TQ_OK; /* no kept checkpoint is that large */
    return tq__engine_audit_checkpoints(store, min_size, cb, ud, err);
}

tq_rc tq_store_audit_checkpoint_at(struct tq_store *store, uint64_t size, char **note_out,
                                   struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(note_out, "output");
    if (size > INT64_MAX)
        return tq_err_set(err, TQ_ENOTFOUND, "store: no checkpoint of %" PRIu64 " leaves", size);
    return tq__engine_audit_checkpoint_at(store, size, note_out, err);
}

tq_rc tq_store_audit_checkpoint_update(struct tq_store *store, uint64_t size, const char *note,
                                       struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(note, "checkpoint note");
    if (size > INT64_MAX)
        return tq_err_set(err, TQ_ENOTFOUND, "store: no checkpoint of %" PRIu64 " leaves", size);
    return tq__engine_audit_checkpoint_update(store, size, note, err);
}

tq_rc tq_store_audit_find(struct tq_store *store, const struct tq_store_audit_query *q,
                          tq_store_audit_entry_cb cb, void *ud, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(q && cb, "query or callback");
    if (q->at_max_us != 0 && q->at_max_us < q->at_min_us)
        return TQ_OK; /* an empty range */
    return tq__engine_audit_find(store, q, cb, ud, err);
}

tq_rc tq_store_audit_partner_leaves(struct tq_store *store, const char *partner, uint64_t from,
                                    uint64_t below, tq_store_audit_entry_cb cb, void *ud,
                                    struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(partner && cb, "partner or callback");
    if (from >= below || from > INT64_MAX)
        return TQ_OK; /* an empty range */
    return tq__engine_audit_partner_leaves(store, partner, from, below, cb, ud, err);
}

/* ---- receipts -------------------------------------------------------------------------- */

void tq_store_receipt_cleanup(struct tq_store_receipt *r)
{
    if (!r)
        return;
    tq_free(r->record);
    r->record = NULL;
}

tq_rc tq_store_receipts_put(struct tq_store *store, const char *partner,
                            const struct tq_store_audit_entry *entries, size_t n,
                            uint64_t checkpoint_size, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(partner && (entries || n == 0), "partner or entries");
    for (size_t i = 0; i < n; i++) {
        CHECK_ARG(entries[i].record, "receipt record");
        if (entries[i].idx > INT64_MAX || entries[i].idx >= checkpoint_size)
            return tq_err_set(err, TQ_EINVAL,
                              "store: receipt %" PRIu64 " is not below its checkpoint's size",
                              entries[i].idx);
    }
    if (n == 0)
        return TQ_OK;
    if (checkpoint_size > INT64_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: checkpoint size out of range");
    return tq__engine_receipts_put(store, partner, entries, n, checkpoint_size, err);
}

tq_rc tq_store_receipts_find(struct tq_store *store, const char *partner, tq_store_receipt_cb cb,
                             void *ud, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(cb, "callback");
    return tq__engine_receipts_find(store, partner, cb, ud, err);
}

/* ---- witnessing ------------------------------------------------------------------------ */

void tq_store_witness_cleanup(struct tq_store_witness *w)
{
    if (!w)
        return;
    tq_free(w->note);
    w->note = NULL;
}

void tq_store_witness_list_free(struct tq_store_witness *v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        tq_store_witness_cleanup(&v[i]);
    tq_free(v);
}

/* A NUL-terminated, non-empty string within a fixed array. */
static bool fixed_str_ok(const char *s, size_t size)
{
    return s[0] && memchr(s, 0, size);
}

tq_rc tq_store_witness_get(struct tq_store *store, const char *origin, struct tq_store_witness *out,
                           struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(origin && out, "origin");
    if (strlen(origin) >= TQ_STORE_ORIGIN_MAX)
        return tq_err_set(err, TQ_ENOTFOUND, "store: no witness state for that origin");
    return tq__engine_witness_get(store, origin, out, err);
}

tq_rc tq_store_witness_advance(struct tq_store *store, const struct tq_store_witness *next,
                               uint64_t old_size, uint64_t *current, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(next && next->note, "witness state");
    CHECK_ARG(fixed_str_ok(next->origin, sizeof(next->origin)), "origin");
    CHECK_ARG(fixed_str_ok(next->partner, sizeof(next->partner)), "partner");
    return tq__engine_witness_advance(store, next, old_size, current, err);
}

tq_rc tq_store_witness_list(struct tq_store *store, struct tq_store_witness **out, size_t *n,
                            struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_witness_list(store, out, n, err);
}

/* ---- alarms ---------------------------------------------------------------------------- */

void tq_store_alarm_list_free(struct tq_store_alarm *v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++) {
        tq_free(v[i].origin);
        tq_free(v[i].reason);
        tq_free(v[i].old_note);
        tq_free(v[i].new_note);
        tq_free(v[i].proof);
        tq_free(v[i].acked_by);
    }
    tq_free(v);
}

tq_rc tq_store_alarm_add(struct tq_store *store, const struct tq_store_alarm *a, int64_t *id_out,
                         struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(a && a->origin && a->reason && a->new_note, "alarm evidence");
    CHECK_ARG(fixed_str_ok(a->partner, sizeof(a->partner)), "partner");
    return tq__engine_alarm_add(store, a, id_out, err);
}

tq_rc tq_store_alarm_list(struct tq_store *store, struct tq_store_alarm **out, size_t *n,
                          struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_alarm_list(store, out, n, err);
}

tq_rc tq_store_alarm_ack(struct tq_store *store, int64_t id, const char *user, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(user && *user && strlen(user) < 256, "user");
    if (id < 1)
        return tq_err_set(err, TQ_ENOTFOUND, "store: no alarm %" PRId64, id);
    return tq__engine_alarm_ack(store, id, user, err);
}

/* ---- border monitoring ---------------------------------------------------------------- */

/* A reader other than the node names its permission key (and a partner its name). */
static bool reader_ok(const struct tq_store_reader *r)
{
    return !r || (r->perm_key && *r->perm_key && (!r->partner || *r->partner));
}

/* The longest text a monitoring row may carry (a unit's geometry may be large). */
#define MONITOR_TEXT_MAX (64u << 20)

static bool text_fits(const char *s)
{
    return !s || strlen(s) <= MONITOR_TEXT_MAX;
}

tq_rc tq_store_geo_units_put(struct tq_store *store, const struct tq_store_geo_unit *u, size_t n,
                             struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(u || n == 0, "units");
    for (size_t i = 0; i < n; i++) {
        CHECK_ARG(u[i].pcode && *u[i].pcode && u[i].country_pcode && *u[i].country_pcode,
                  "unit P-code or country P-code");
        CHECK_ARG(u[i].geometry && text_fits(u[i].geometry), "unit geometry");
    }
    return tq__engine_geo_units_put(store, u, n, err);
}

tq_rc tq_store_geo_units_list(struct tq_store *store, struct tq_store_geo_unit **out, size_t *n,
                              struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_geo_units_list(store, out, n, err);
}

tq_rc tq_store_geo_units_delete(struct tq_store *store, const char *country_pcode, size_t *deleted,
                                struct tq_err *err)
{
    CHECK_STORE(store);
    return tq__engine_geo_units_delete(store, country_pcode, deleted, err);
}

tq_rc tq_store_incident_put(struct tq_store *store, const struct tq_store_incident *inc,
                            struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(inc && inc->collection_id, "incident or its collection");
    CHECK_ARG(fixed_str_ok(inc->kind, sizeof(inc->kind)) && inc->kind[0], "incident kind");
    if (inc->lon_e7 < -1800000000 || inc->lon_e7 > 1800000000 || inc->lat_e7 < -900000000 ||
        inc->lat_e7 > 900000000)
        return tq_err_set(err, TQ_EINVAL, "store: incident point outside the globe");
    return tq__engine_incident_put(store, inc, err);
}

tq_rc tq_store_incidents(struct tq_store *store, const struct tq_store_incident_query *q,
                         tq_store_incident_cb cb, void *ud, bool *more, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(q && cb && more, "query, callback or output");
    CHECK_ARG(reader_ok(q->reader), "reader's permission key");
    if (q->limit < 1 || q->limit > TQ_STORE_INCIDENTS_PAGE_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: incident page limit must be 1..%d",
                          TQ_STORE_INCIDENTS_PAGE_MAX);
    if (q->has_bbox && (q->min_lon_e7 > q->max_lon_e7 || q->min_lat_e7 > q->max_lat_e7))
        return tq_err_set(err, TQ_EINVAL, "store: bounding box with min above max");
    return tq__engine_incidents(store, q, cb, ud, more, err);
}

tq_rc tq_store_incidents_summary(struct tq_store *store,
                                 const struct tq_store_incident_summary_query *q,
                                 tq_store_incident_cell_cb cell_cb, tq_store_incident_bin_cb bin_cb,
                                 void *ud, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(q && cell_cb && bin_cb, "query or callbacks");
    CHECK_ARG(reader_ok(q->reader), "reader's permission key");
    if (q->cell_e7 < 1 || q->cell_e7 > 3600000000LL || q->bin_us < 1)
        return tq_err_set(err, TQ_EINVAL, "store: summary cell or bin out of range");
    if (q->has_bbox && (q->min_lon_e7 > q->max_lon_e7 || q->min_lat_e7 > q->max_lat_e7))
        return tq_err_set(err, TQ_EINVAL, "store: bounding box with min above max");
    return tq__inc_cache_summary(store, q, cell_cb, bin_cb, ud, err);
}

tq_rc tq_store_incidents_summary_sql(struct tq_store *store,
                                     const struct tq_store_incident_summary_query *q,
                                     tq_store_incident_cell_cb cell_cb,
                                     tq_store_incident_bin_cb bin_cb, void *ud, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(q && cell_cb && bin_cb, "query or callbacks");
    CHECK_ARG(reader_ok(q->reader), "reader's permission key");
    if (q->cell_e7 < 1 || q->cell_e7 > 3600000000LL || q->bin_us < 1)
        return tq_err_set(err, TQ_EINVAL, "store: summary cell or bin out of range");
    if (q->has_bbox && (q->min_lon_e7 > q->max_lon_e7 || q->min_lat_e7 > q->max_lat_e7))
        return tq_err_set(err, TQ_EINVAL, "store: bounding box with min above max");
    return tq__engine_incidents_summary(store, q, cell_cb, bin_cb, ud, err);
}

tq_rc tq_store_incidents_retag(struct tq_store *store, tq_store_retag_fn fn, void *ud,
                               size_t *retagged, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(fn, "function");
    return tq__engine_incidents_retag(store, fn, ud, retagged, err);
}

tq_rc tq_store_correl_put(struct tq_store *store, const char *collection_id, int64_t date_added_us,
                          const struct tq_store_occurrence *occ, size_t n, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(collection_id && (occ || n == 0), "collection or occurrences");
    for (size_t i = 0; i < n; i++)
        CHECK_ARG(occ[i].value && text_fits(occ[i].value), "occurrence value");
    return tq__engine_correl_put(store, collection_id, date_added_us, occ, n, err);
}

tq_rc tq_store_correl_find(struct tq_store *store, const struct tq_store_reader *reader, int kind,
                           const char *value, size_t limit, tq_store_sighting_cb cb, void *ud,
                           bool *more, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(value && cb && more, "value, callback or output");
    CHECK_ARG(reader_ok(reader), "reader's permission key");
    if (limit < 1 || limit > TQ_STORE_INCIDENTS_PAGE_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: correlation page limit must be 1..%d",
                          TQ_STORE_INCIDENTS_PAGE_MAX);
    return tq__engine_correl_find(store, reader, kind, value, limit, cb, ud, more, err);
}

tq_rc tq_store_alert_rule_add(struct tq_store *store, const struct tq_store_alert_rule *r,
                              int64_t *id_out, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(r && r->name && *r->name && r->kind && *r->kind && r->params,
              "rule name, kind or parameters");
    return tq__engine_alert_rule_add(store, r, id_out, err);
}

tq_rc tq_store_alert_rule_list(struct tq_store *store, struct tq_store_alert_rule **out, size_t *n,
                               struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_alert_rule_list(store, out, n, err);
}

tq_rc tq_store_alert_rule_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(name, "rule name");
    return tq__engine_alert_rule_delete(store, name, err);
}

tq_rc tq_store_alert_add(struct tq_store *store, const struct tq_store_alert *a, int64_t *id_out,
                         struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(a && a->rule && a->kind && a->title && a->detail,
              "alert rule, kind, title or detail");
    if (a->n_collections > TQ_ALERT_COLLECTIONS_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: an alert names at most %d collections",
                          TQ_ALERT_COLLECTIONS_MAX);
    for (size_t i = 0; i < a->n_collections; i++)
        CHECK_ARG(a->collections[i] && *a->collections[i], "alert collection");
    return tq__engine_alert_add(store, a, id_out, err);
}

tq_rc tq_store_alerts(struct tq_store *store, const struct tq_store_alert_query *q,
                      tq_store_alert_cb cb, void *ud, bool *more, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(q && cb && more, "query, callback or output");
    CHECK_ARG(reader_ok(q->reader), "reader's permission key");
    if (q->limit < 1 || q->limit > TQ_STORE_INCIDENTS_PAGE_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: alert page limit must be 1..%d",
                          TQ_STORE_INCIDENTS_PAGE_MAX);
    return tq__engine_alerts(store, q, cb, ud, more, err);
}

tq_rc tq_store_alert_ack(struct tq_store *store, const struct tq_store_reader *reader, int64_t id,
                         const char *user, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(user && *user, "user");
    CHECK_ARG(reader_ok(reader), "reader's permission key");
    return tq__engine_alert_ack(store, reader, id, user, err);
}

/* ---- watchlists ----------------------------------------------------------------------- */

/* A list's name: 1..TQ_WATCH_LIST_NAME_MAX of letters, digits, '-', '_' and '.'. */
static bool watch_list_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > TQ_WATCH_LIST_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

#define CHECK_LIST_NAME(name)                                                                      \
    do {                                                                                           \
        if (!watch_list_name_ok(name))                                                             \
            return tq_err_set(err, TQ_EINVAL,                                                      \
                              "store: a watchlist's name is 1 to %d letters, digits, '-', '_' "    \
                              "or '.'",                                                            \
                              TQ_WATCH_LIST_NAME_MAX);                                             \
    } while (0)

/* What every entry must be before the engine compares and keeps it. */
static tq_rc watch_entry_check(const struct tq_watch_entry *e, struct tq_err *err)
{
    size_t len = e->ref ? strlen(e->ref) : 0;

    if (len == 0 || len > TQ_WATCH_REF_MAX || !tq_utf8_valid(e->ref, len))
        return tq_err_set(err, TQ_EINVAL,
                          "store: a watchlist entry's ref must be 1 to %d bytes of "
                          "UTF-8",
                          TQ_WATCH_REF_MAX);
    if (e->n_names > TQ_WATCH_NAMES_MAX || e->n_dobs > TQ_WATCH_VALUES_MAX ||
        e->n_nats > TQ_WATCH_VALUES_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: watchlist entry '%s' has too many values",
                          e->ref);
    if ((e->n_names && !e->names) || (e->n_dobs && !e->dobs) || (e->n_nats && !e->nats))
        return tq_err_set(err, TQ_EINVAL, "store: watchlist entry '%s' lacks its arrays", e->ref);
    for (size_t i = 0; i < e->n_names; i++) {
        const char *nm = e->names[i].name;
        size_t nl = nm ? strlen(nm) : 0;

        if (nl == 0 || nl > TQ_WATCH_NAME_MAX || !tq_utf8_valid(nm, nl))
            return tq_err_set(err, TQ_EINVAL,
                              "store: watchlist entry '%s': name %zu must be 1 to %d bytes of "
                              "UTF-8",
                              e->ref, i, TQ_WATCH_NAME_MAX);
    }
    for (size_t i = 0; i < e->n_nats; i++)
        if (!e->nats[i].name || !*e->nats[i].name)
            return tq_err_set(err, TQ_EINVAL, "store: watchlist entry '%s': empty nationality",
                              e->ref);
    return TQ_OK;
}

tq_rc tq_store_watchlist_put(struct tq_store *store, const struct tq_store_watchlist *w,
                             const struct tq_watch_entry *e, size_t n,
                             struct tq_store_watchlist_diff *diff, struct tq_err *err)
{
    tq_rc rc;

    CHECK_STORE(store);
    CHECK_ARG(w && (e || n == 0), "watchlist or entries");
    CHECK_LIST_NAME(w->name);
    CHECK_ARG(w->format && *w->format, "watchlist format");
    if (n > TQ_WATCH_ENTRIES_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: a watchlist holds at most %d entries",
                          TQ_WATCH_ENTRIES_MAX);
    for (size_t i = 0; i < n; i++) {
        rc = watch_entry_check(&e[i], err);
        if (rc)
            return rc;
    }
    return tq__engine_watchlist_put(store, w, e, n, diff, err);
}

tq_rc tq_store_watchlist_list(struct tq_store *store, struct tq_store_watchlist **out, size_t *n,
                              struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(out && n, "output");
    return tq__engine_watchlist_list(store, out, n, err);
}

tq_rc tq_store_watchlist_get(struct tq_store *store, const char *list, const char *after_ref,
                             size_t limit, struct tq_store_watchlist *info,
                             struct tq_watch_entry **entries, size_t *n, bool *more,
                             struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(entries && n && more, "output");
    CHECK_LIST_NAME(list);
    if (limit < 1 || limit > TQ_WATCH_PAGE_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: watchlist page limit must be 1..%d",
                          TQ_WATCH_PAGE_MAX);
    return tq__engine_watchlist_get(store, list, after_ref, limit, info, entries, n, more, err);
}

tq_rc tq_store_watchlist_remove(struct tq_store *store, const char *list, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_LIST_NAME(list);
    return tq__engine_watchlist_remove(store, list, err);
}

tq_rc tq_store_watchlist_names(struct tq_store *store, const char *list, tq_store_watch_name_cb cb,
                               void *ud, struct tq_err *err)
{
    CHECK_STORE(store);
    CHECK_ARG(cb, "callback");
    CHECK_LIST_NAME(list);
    return tq__engine_watchlist_names(store, list, cb, ud, err);
}

/* ---- copying a store ------------------------------------------------------------------ */

tq_rc tq_store_copy(struct tq_store *from, struct tq_store *to, tq_store_copy_cb cb, void *ud,
                    struct tq_err *err)
{
    if (!from || !to)
        return tq_err_set(err, TQ_EINVAL, "store: no store");
    /* One pool would lend both connections, and the copy would read what it writes. */
    if (from == to)
        return tq_err_set(err, TQ_EINVAL, "store: a store cannot be copied into itself");
    return tq__engine_copy(from, to, cb, ud, err);
}
