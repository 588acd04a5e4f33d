/* SPDX-License-Identifier: Apache-2.0
 *
 * policy/markings.c - release facts from STIX markings, and the markings the node publishes.
 *
 * An object's object_marking_refs name marking-definitions. The five TLP 2.0 ids (and the four
 * TLP 1.0 ones, read as their TLP 2.0 equivalents) are known by id. Any other reference is
 * resolved to the marking-definition itself - first among the objects being stored with it,
 * then in the store (the same collection first, then any) - and counts when it carries the
 * tansiq releasability extension (or the TLP 2.0 extension). A reference the node cannot
 * resolve counts for nothing. The text parsed here is the canonical JSON the stix module
 * produced, so json-c's plain tokener is enough.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/policy.h"

#define TLP2_EXTENSION_ID "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define RELEASE_TO_MAX (64 * 1024) /* bytes of one object's union of audiences */

static const struct {
    const char *id;
    enum tq_tlp tlp;
} known_tlp[] = {
    {TQ_TLP_CLEAR_ID, TQ_TLP_CLEAR},
    {TQ_TLP_GREEN_ID, TQ_TLP_GREEN},
    {TQ_TLP_AMBER_ID, TQ_TLP_AMBER},
    {TQ_TLP_AMBER_STRICT_ID, TQ_TLP_AMBER_STRICT},
    {TQ_TLP_RED_ID, TQ_TLP_RED},
    /* TLP 1.0 (STIX 2.1 section 7.2.1.4) */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", TQ_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", TQ_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", TQ_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", TQ_TLP_RED},
};

static struct json_object *parse_json(const char *text, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o;

    if (!tok)
        return NULL;
    o = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

void tq__policy_marks_init(struct tq__policy_marks_ctx *ctx, struct tq_store *store,
                           const char *collection_id, const struct tq_stix_object *batch,
                           size_t n_batch)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->store = store;
    ctx->collection_id = collection_id;
    ctx->batch = batch;
    ctx->n_batch = n_batch;
}

void tq__policy_marks_cleanup(struct tq__policy_marks_ctx *ctx)
{
    size_t i;

    for (i = 0; i < ctx->n_cache; i++)
        tq_free(ctx->cache[i].release_to);
    tq_free(ctx->cache);
    memset(ctx, 0, sizeof(*ctx));
}

static tq_rc append_entry(struct tq_buf *b, const char *s, size_t len)
{
    tq_rc rc = TQ_OK;

    if (b->len)
        rc = tq_buf_append(b, ",", 1);
    if (rc == TQ_OK)
        rc = tq_buf_append(b, s, len);
    return rc;
}

/* Fill d from a marking-definition's parsed JSON. */
static void mdef_read(struct json_object *o, struct tq__policy_mdef *d)
{
    struct json_object *ext, *rel, *v, *list;
    struct tq_buf b;
    size_t i, n;

    if (!json_object_object_get_ex(o, "extensions", &ext) ||
        !json_object_is_type(ext, json_type_object))
        return;
    if (json_object_object_get_ex(ext, TLP2_EXTENSION_ID, &v) &&
        json_object_object_get_ex(v, "tlp_2_0", &v) && json_object_is_type(v, json_type_string))
        tq_tlp_parse(json_object_get_string(v), &d->tlp);
    if (!json_object_object_get_ex(ext, TQ_POLICY_EXTENSION_ID, &rel) ||
        !json_object_is_type(rel, json_type_object))
        return;
    d->is_release = true;
    if (json_object_object_get_ex(rel, "no_further_sharing", &v))
        d->nfs = json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
    if (!json_object_object_get_ex(rel, "release_to", &list) ||
        !json_object_is_type(list, json_type_array))
        return;
    tq_buf_init(&b, RELEASE_TO_MAX);
    n = json_object_array_length(list);
    for (i = 0; i < n; i++) {
        const char *s;
        size_t len;

        v = json_object_array_get_idx(list, i);
        if (!json_object_is_type(v, json_type_string))
            continue;
        s = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
        /* Entries that could never match are dropped; they cannot widen anything either. */
        if (tq__policy_entry_valid(s, len) && append_entry(&b, s, len) != TQ_OK)
            break;
    }
    if (b.len)
        d->release_to = tq_buf_take(&b, NULL);
    tq_buf_cleanup(&b);
}

/* Resolve a non-TLP marking reference, through the cache. */
static tq_rc mdef_get(struct tq__policy_marks_ctx *ctx, const char *id,
                      const struct tq__policy_mdef **out, struct tq_err *err)
{
    struct tq__policy_mdef *d;
    struct json_object *o = NULL;
    char *json = NULL;
    struct tq_err lerr = {0};
    size_t i;
    tq_rc rc;

    for (i = 0; i < ctx->n_cache; i++) {
        if (strcmp(ctx->cache[i].id, id) == 0) {
            *out = &ctx->cache[i];
            return TQ_OK;
        }
    }
    for (i = 0; i < ctx->n_batch && !o; i++)
        if (strcmp(ctx->batch[i].id, id) == 0)
            o = parse_json(ctx->batch[i].json, ctx->batch[i].json_len);
    if (!o && ctx->store) {
        rc = tq_store_object_json_get(ctx->store, ctx->collection_id, id, &json, &lerr);
        if (rc == TQ_ENOMEM || rc == TQ_ESTORE || rc == TQ_EBUSY)
            return tq_err_set(err, rc, "%s", lerr.msg);
        if (rc == TQ_OK)
            o = parse_json(json, strlen(json));
        tq_free(json);
    }
    if (ctx->n_cache == ctx->cap_cache) {
        ctx->cap_cache = ctx->cap_cache ? ctx->cap_cache * 2 : 8;
        ctx->cache = tq_xrealloc(ctx->cache, ctx->cap_cache * sizeof(*ctx->cache));
    }
    d = &ctx->cache[ctx->n_cache++];
    memset(d, 0, sizeof(*d));
    snprintf(d->id, sizeof(d->id), "%s", id);
    if (o)
        mdef_read(o, d);
    json_object_put(o);
    *out = d;
    return TQ_OK;
}

static enum tq_tlp tlp_max(enum tq_tlp a, enum tq_tlp b)
{
    return a > b ? a : b;
}

/* The releasability facts of one list of marking references. */
static tq_rc marks_of_refs(struct tq__policy_marks_ctx *ctx, const struct tq_stix_object *obj,
                           const char *const *ids, size_t n, struct tq__policy_marks *out,
                           struct tq_err *err)
{
    const struct tq__policy_mdef *d;
    struct tq_buf rel;
    bool any_release = false;
    size_t i, k;
    tq_rc rc = TQ_OK;

    tq_buf_init(&rel, RELEASE_TO_MAX);
    for (i = 0; i < n && rc == TQ_OK; i++) {
        const char *id = ids[i];
        bool known = false;

        for (k = 0; k < sizeof(known_tlp) / sizeof(known_tlp[0]); k++) {
            if (strcmp(id, known_tlp[k].id) == 0) {
                out->tlp = tlp_max(out->tlp, known_tlp[k].tlp);
                known = true;
                break;
            }
        }
        if (known || strlen(id) >= TQ_STIX_ID_MAX)
            continue;
        rc = mdef_get(ctx, id, &d, err);
        if (rc)
            break;
        out->tlp = tlp_max(out->tlp, d->tlp);
        if (!d->is_release)
            continue;
        any_release = true;
        out->no_further_sharing = out->no_further_sharing || d->nfs;
        if (d->release_to)
            rc = append_entry(&rel, d->release_to, strlen(d->release_to));
        if (rc)
            rc = tq_err_set(err, rc, "policy: releasability of '%.*s' too long", TQ_STIX_ID_MAX,
                            obj->id);
    }
    /*
     * A releasability marking is an explicit audience even when it names no one (or only
     * entries that cannot match): "" then, never NULL, so no default replaces it.
     */
    if (rc == TQ_OK && any_release)
        out->release_to = rel.len ? tq_buf_take(&rel, NULL) : tq_xstrdup("");
    tq_buf_cleanup(&rel);
    return rc;
}

tq_rc tq__policy_marks_of(struct tq__policy_marks_ctx *ctx, const struct tq_stix_object *obj,
                          struct tq__policy_marks *out, struct tq_err *err)
{
    struct json_object *o = NULL, *refs;
    const char **ids;
    size_t i, n;
    tq_rc rc;

    memset(out, 0, sizeof(*out));
    /* Validated objects carry their references: no second parse on the import path. */
    if (obj->refs_known)
        return marks_of_refs(ctx, obj, (const char *const *)obj->marking_refs, obj->n_marking_refs,
                             out, err);
    /* An object built by hand: read its JSON, unless the name is not even in it. */
    if (!obj->json || !strstr(obj->json, "\"object_marking_refs\""))
        return TQ_OK;
    o = parse_json(obj->json, obj->json_len);
    if (!o)
        return tq_err_set(err, TQ_EJSON, "policy: the stored text of '%.*s' is not JSON",
                          TQ_STIX_ID_MAX, obj->id);
    if (!json_object_object_get_ex(o, "object_marking_refs", &refs) ||
        !json_object_is_type(refs, json_type_array)) {
        json_object_put(o);
        return TQ_OK;
    }
    n = json_object_array_length(refs);
    ids = tq_xcalloc(n ? n : 1, sizeof(*ids));
    for (i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(refs, i);

        ids[i] = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    }
    rc = marks_of_refs(ctx, obj, ids, n, out, err);
    tq_free(ids);
    json_object_put(o);
    return rc;
}

void tq__policy_created_by(const struct tq_stix_object *obj, char out[TQ_STIX_ID_MAX])
{
    struct json_object *o, *v;

    out[0] = '\0';
    if (obj->refs_known) {
        snprintf(out, TQ_STIX_ID_MAX, "%s", obj->created_by_ref);
        return;
    }
    if (!obj->json || !strstr(obj->json, "\"created_by_ref\""))
        return;
    o = parse_json(obj->json, obj->json_len);
    if (o && json_object_object_get_ex(o, "created_by_ref", &v) &&
        json_object_is_type(v, json_type_string))
        snprintf(out, TQ_STIX_ID_MAX, "%s", json_object_get_string(v));
    json_object_put(o);
}

/* ---- the markings the node publishes -------------------------------------------------- */

/* A fixed creation time: every node publishes the same definition under the same id. */
#define EXTENSION_CREATED "2026-01-01T00:00:00.000Z"

tq_rc tq_policy_extension_definition_json(const char *created_by_ref, char **json_out,
                                          struct tq_err *err)
{
    struct tq_buf b;
    tq_rc rc;

    if (!created_by_ref || !tq_stix_id_valid(tq_str_c(created_by_ref)) || !json_out)
        return tq_err_set(err, TQ_EINVAL, "policy: extension-definition needs an identity id");
    tq_buf_init(&b, 8192);
    rc = tq_buf_printf(
        &b,
        "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
        "\"created_by_ref\":\"%s\",\"created\":\"%s\",\"modified\":\"%s\","
        "\"name\":\"tansiq releasability\","
        "\"description\":\"Who an object may be released to by the node that holds it. Used on "
        "marking-definitions referenced from object_marking_refs.\","
        "\"schema\":\"A property-extension object: release_to, an array of strings "
        "'group:NAME' or 'partner:NAME' (NAME matching [a-z0-9][a-z0-9._-]{0,62}), naming the "
        "sharing groups and partners the object may be released to; no_further_sharing, a "
        "boolean, true when recipients must not release it onward.\","
        "\"version\":\"1.0.0\",\"extension_types\":[\"property-extension\"]}",
        TQ_POLICY_EXTENSION_ID, created_by_ref, EXTENSION_CREATED, EXTENSION_CREATED);
    if (rc) {
        tq_buf_cleanup(&b);
        return tq_err_set(err, rc, "policy: extension-definition too long");
    }
    *json_out = tq_buf_take(&b, NULL);
    return TQ_OK;
}

tq_rc tq_policy_make_marking(const char *const *release_to, size_t n, bool no_further_sharing,
                             const char *created_by_ref, char **json_out,
                             char id_out[TQ_STIX_ID_MAX], struct tq_err *err)
{
    char uuid[37], id[TQ_STIX_ID_MAX], created[TQ_TIME_STR_MAX];
    struct tq_buf b, name;
    size_t i;
    tq_rc rc = TQ_OK;

    if (!json_out || (n && !release_to))
        return tq_err_set(err, TQ_EINVAL, "policy: marking without output or audience");
    if (created_by_ref && !tq_stix_id_valid(tq_str_c(created_by_ref)))
        return tq_err_set(err, TQ_EINVAL, "policy: created_by_ref is not a STIX id");
    for (i = 0; i < n; i++)
        if (!release_to[i] || !tq__policy_entry_valid(release_to[i], strlen(release_to[i])))
            return tq_err_set(err, TQ_EINVAL, "policy: '%.80s' is not group:NAME or partner:NAME",
                              release_to[i] ? release_to[i] : "");
    tq_uuid4(uuid);
    snprintf(id, sizeof(id), "marking-definition--%s", uuid);
    tq_time_format_ms(tq_time_now_us(), created);
    tq_buf_init(&b, 64 * 1024);
    tq_buf_init(&name, 16 * 1024);
    rc = tq_buf_append_c(&name, "tansiq release to");
    for (i = 0; i < n && rc == TQ_OK; i++)
        rc = tq_buf_printf(&name, " %s", release_to[i]);
    if (rc == TQ_OK && n == 0)
        rc = tq_buf_append_c(&name, " nobody");
    if (rc == TQ_OK && no_further_sharing)
        rc = tq_buf_append_c(&name, " (no further sharing)");
    if (rc == TQ_OK)
        rc = tq_buf_printf(&b,
                           "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
                           "\"id\":\"%s\",\"created\":\"%s\",",
                           id, created);
    if (rc == TQ_OK && created_by_ref)
        rc = tq_buf_printf(&b, "\"created_by_ref\":\"%s\",", created_by_ref);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&b, "\"name\":");
    if (rc == TQ_OK)
        rc = tq_buf_append_json_str(&b, name.ptr, name.len);
    if (rc == TQ_OK)
        rc = tq_buf_printf(&b,
                           ",\"extensions\":{\"%s\":{\"extension_type\":\"property-extension\","
                           "\"no_further_sharing\":%s,\"release_to\":[",
                           TQ_POLICY_EXTENSION_ID, no_further_sharing ? "true" : "false");
    for (i = 0; i < n && rc == TQ_OK; i++) {
        if (i)
            rc = tq_buf_append_c(&b, ",");
        if (rc == TQ_OK)
            rc = tq_buf_append_json_str(&b, release_to[i], strlen(release_to[i]));
    }
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&b, "]}}}");
    if (rc == TQ_OK) {
        *json_out = tq_buf_take(&b, NULL);
        if (id_out)
            snprintf(id_out, TQ_STIX_ID_MAX, "%s", id);
    } else {
        rc = tq_err_set(err, rc, "policy: marking too long");
    }
    tq_buf_cleanup(&b);
    tq_buf_cleanup(&name);
    return rc;
}
