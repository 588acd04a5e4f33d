/* SPDX-License-Identifier: Apache-2.0
 *
 * policy/markings.c - release facts from STIX markings, and the markings the node publishes.
 *
 * An object's marking references are its object_marking_refs and the marking_ref of each of its
 * granular markings, their UUIDs compared in any letter case. Granular markings count for the
 * whole object: nothing is redacted, so the strictest part decides. The official TLP 1.0 and 2.0
 * ids are constants (tq_stix_tlp_official; validation refuses other content under them). Any
 * other reference is resolved to a marking-definition of the same provenance as the object -
 * first among the objects being stored with it, then in the store (the same collection first,
 * then any) - and read in full: what it says must be a TLP level (1.0 or 2.0 form), a
 * statement, or the tansiq releasability extension. A reference the node cannot resolve leaves
 * the version pending, one that says anything else leaves it not understood; both withhold it
 * from every partner (docs/internals/policy.md, "Failing closed"). The text parsed here is the
 * canonical JSON the stix module produced, so json-c's plain tokener is enough.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "policy/policy.h"

#define RELEASE_TO_MAX (64 * 1024) /* bytes of one object's union of audiences */

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
                           const char *collection_id, const char *origin,
                           const struct tq_stix_object *batch, size_t n_batch)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->store = store;
    ctx->collection_id = collection_id;
    ctx->origin = origin;
    ctx->batch = batch;
    ctx->n_batch = n_batch;
}

void tq__policy_marks_ctx_cleanup(struct tq__policy_marks_ctx *ctx)
{
    size_t i;

    for (i = 0; i < ctx->n_cache; i++) {
        tq_free(ctx->cache[i].release_to);
        tq_free(ctx->cache[i].json_elsewhere);
    }
    tq_free(ctx->cache);
    memset(ctx, 0, sizeof(*ctx));
}

void tq__policy_marks_cleanup(struct tq__policy_marks *m)
{
    tq_free(m->release_to);
    tq_free(m->restrict_to);
    tq_free(m->pending);
    tq_free(m->not_understood);
    memset(m, 0, sizeof(*m));
}

static tq_rc append_entry(struct tq_buf *b, char sep, const char *s, size_t len)
{
    tq_rc rc = TQ_OK;

    if (b->len)
        rc = tq_buf_append(b, &sep, 1);
    if (rc == TQ_OK)
        rc = tq_buf_append(b, s, len);
    return rc;
}

/* The string value of member name of o, or NULL. */
static const char *str_member(struct json_object *o, const char *name)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/*
 * The tansiq releasability extension: {"extension_type": "property-extension", "release_to":
 * [strings], "no_further_sharing": boolean}, nothing else. False when it says anything else.
 * Entries that are not group:NAME / partner:NAME are dropped: they could never match anyone.
 */
static bool read_release(struct json_object *rel, struct tq__policy_mdef *d)
{
    struct json_object *list = NULL;
    struct tq_buf b;
    size_t i, n;
    bool ok = true;

    if (!json_object_is_type(rel, json_type_object))
        return false;
    json_object_object_foreach(rel, key, val)
    {
        if (strcmp(key, "extension_type") == 0)
            ok = ok && json_object_is_type(val, json_type_string) &&
                 strcmp(json_object_get_string(val), "property-extension") == 0;
        else if (strcmp(key, "no_further_sharing") == 0)
            ok = ok && json_object_is_type(val, json_type_boolean);
        else if (strcmp(key, "release_to") == 0)
            ok = ok && json_object_is_type(val, json_type_array);
        else
            ok = false;
    }
    if (!ok || !str_member(rel, "extension_type"))
        return false;
    d->is_release = true;
    if (json_object_object_get_ex(rel, "no_further_sharing", &list))
        d->nfs = json_object_get_boolean(list);
    if (!json_object_object_get_ex(rel, "release_to", &list))
        return true; /* an audience of no one */
    tq_buf_init(&b, RELEASE_TO_MAX);
    n = json_object_array_length(list);
    for (i = 0; i < n && ok; i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        const char *s;
        size_t len;

        if (!json_object_is_type(v, json_type_string)) {
            ok = false;
            break;
        }
        s = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
        if (tq__policy_entry_valid(s, len) && append_entry(&b, ',', s, len) != TQ_OK)
            ok = false; /* too long to hold: not understood rather than cut short */
    }
    if (ok && b.len)
        d->release_to = tq_buf_take(&b, NULL);
    tq_buf_cleanup(&b);
    return ok;
}

static enum tq_tlp tlp_max(enum tq_tlp a, enum tq_tlp b)
{
    return a > b ? a : b;
}

/* A TLP level by its name in a definition ("white" only in TLP 1.0, "amber+strict" only in 2.0). */
static bool tlp_level(const char *name, bool v2, enum tq_tlp *out)
{
    if (!name || (v2 && strcmp(name, "white") == 0) || (!v2 && strcmp(name, "clear") == 0) ||
        (!v2 && strcmp(name, "amber+strict") == 0))
        return false;
    /* tq_tlp_parse takes any case and a "TLP:" prefix; a definition states the bare value. */
    for (const char *p = name; *p; p++)
        if (!(islower((unsigned char)*p) || *p == '+'))
            return false;
    return tq_tlp_parse(name, out) == TQ_OK;
}

/*
 * Read a marking-definition in full. It is understood only when everything it states is one of:
 * a TLP 1.0 definition ({"definition_type": "tlp", "definition": {"tlp": level}}), a statement
 * ({"definition_type": "statement", "definition": {"statement": text}}), the TLP 2.0 extension
 * (tlp_2_0) or the tansiq releasability extension. Any other definition type or extension, or
 * a malformed value of these, leaves it TQ__MDEF_UNKNOWN.
 */
static void mdef_read(struct json_object *o, struct tq__policy_mdef *d)
{
    struct json_object *def = NULL, *ext = NULL, *v;
    const char *type = str_member(o, "definition_type");
    bool has_def = json_object_object_get_ex(o, "definition", &def);
    bool has_ext = json_object_object_get_ex(o, "extensions", &ext);
    enum tq_tlp level;

    d->state = TQ__MDEF_UNKNOWN;
    if (!type != !has_def || (!type && !has_ext))
        return;
    if (type) {
        if (!json_object_is_type(def, json_type_object) || json_object_object_length(def) != 1)
            return;
        if (strcmp(type, "tlp") == 0) {
            if (!tlp_level(str_member(def, "tlp"), false, &level))
                return;
            d->tlp = level;
        } else if (strcmp(type, "statement") != 0 || !str_member(def, "statement")) {
            return;
        }
    }
    if (has_ext) {
        if (!json_object_is_type(ext, json_type_object))
            return;
        json_object_object_foreach(ext, key, val)
        {
            if (strcmp(key, TQ_POLICY_EXTENSION_ID) == 0) {
                if (!read_release(val, d))
                    return;
            } else if (strcmp(key, TQ_TLP2_EXTENSION_ID) == 0) {
                if (!json_object_is_type(val, json_type_object) ||
                    json_object_object_length(val) != 2 ||
                    !json_object_object_get_ex(val, "extension_type", &v) ||
                    strcmp(json_object_get_string(v), "property-extension") != 0 ||
                    !tlp_level(str_member(val, "tlp_2_0"), true, &level))
                    return;
                d->tlp = tlp_max(d->tlp, level);
            } else {
                return;
            }
        }
    }
    d->state = TQ__MDEF_OK;
}

void tq__policy_id_lower(const char *id, char out[TQ_STIX_ID_MAX])
{
    size_t i;

    for (i = 0; id[i] && i < TQ_STIX_ID_MAX - 1; i++)
        out[i] = (char)tolower((unsigned char)id[i]);
    out[i] = '\0';
}

/* Whether two copies of one marking-definition say the same (their canonical forms agree). */
static bool same_content(const char *json_a, const uint8_t *sha_a, const char *json_b,
                         const uint8_t *sha_b)
{
    if (sha_a && sha_b)
        return memcmp(sha_a, sha_b, 32) == 0;
    return strcmp(json_a, json_b) == 0;
}

static const uint8_t *sha_of(const struct tq_stix_object *o)
{
    return o->sha256_known ? o->sha256 : NULL;
}

/*
 * A marking-definition of the batch by id (any case), or NULL. *ambiguous is set when the batch
 * holds it with two different contents.
 */
static const struct tq_stix_object *batch_find(const struct tq__policy_marks_ctx *ctx,
                                               const char *id, bool *ambiguous)
{
    const struct tq_stix_object *found = NULL, *o;

    for (size_t i = 0; i < ctx->n_batch; i++) {
        o = &ctx->batch[i];
        if (strcmp(o->type, "marking-definition") != 0 || strcasecmp(o->id, id) != 0)
            continue;
        if (!found)
            found = o;
        else if (!same_content(found->json, sha_of(found), o->json, sha_of(o)))
            *ambiguous = true;
    }
    return found;
}

/*
 * Resolve a marking reference that is not an official TLP id, through the cache. A
 * marking-definition is never versioned: one held (or sent) with two different contents under
 * one id has no single meaning, and counts as not understood.
 */
static tq_rc mdef_get(struct tq__policy_marks_ctx *ctx, const char *ref,
                      const struct tq__policy_mdef **out, struct tq_err *err)
{
    const struct tq_stix_object *in_batch;
    struct tq_store_marking held;
    struct tq__policy_mdef *d;
    struct json_object *o = NULL;
    struct tq_err lerr = {0};
    char id[TQ_STIX_ID_MAX];
    bool ambiguous = false, found = false;
    size_t i;
    tq_rc rc;

    memset(&held, 0, sizeof(held));
    tq__policy_id_lower(ref, id);
    for (i = 0; i < ctx->n_cache; i++) {
        if (strcmp(ctx->cache[i].id, id) == 0) {
            *out = &ctx->cache[i];
            return TQ_OK;
        }
    }
    in_batch = batch_find(ctx, id, &ambiguous);
    if (ctx->store) {
        rc = tq_store_marking_get(ctx->store, ctx->collection_id, id, ctx->origin, &held, &lerr);
        if (rc == TQ_ENOMEM || rc == TQ_ESTORE || rc == TQ_EBUSY)
            return tq_err_set(err, rc, "%s", lerr.msg);
        found = rc == TQ_OK;
    }
    if (found)
        ambiguous = ambiguous || held.n_contents > 1 ||
                    (in_batch && !same_content(in_batch->json, sha_of(in_batch), held.json,
                                               held.sha256_known ? held.sha256 : NULL));
    if (in_batch)
        o = parse_json(in_batch->json, in_batch->json_len);
    else if (found)
        o = parse_json(held.json, strlen(held.json));
    if (ctx->n_cache == ctx->cap_cache) {
        ctx->cap_cache = ctx->cap_cache ? ctx->cap_cache * 2 : 8;
        ctx->cache = tq_xrealloc(ctx->cache, ctx->cap_cache * sizeof(*ctx->cache));
    }
    d = &ctx->cache[ctx->n_cache++];
    memset(d, 0, sizeof(*d));
    snprintf(d->id, sizeof(d->id), "%s", id);
    if (o && !ambiguous) {
        mdef_read(o, d);
        if (!in_batch && !held.in_collection && !ctx->origin) {
            d->json_elsewhere = held.json;
            held.json = NULL;
        }
    } else if (in_batch || found) {
        /* held, but with two meanings, or not as JSON the policy can read */
        d->state = TQ__MDEF_UNKNOWN;
    }
    json_object_put(o);
    tq_free(held.json);
    *out = d;
    return TQ_OK;
}

/* The facts being gathered for one object. */
struct gather {
    struct tq_buf release, restrict_to, pending;
    bool any_release;
};

/* Add one marking reference, object-level or granular, to what the object's markings say. */
static tq_rc gather_ref(struct tq__policy_marks_ctx *ctx, const char *ref, bool granular,
                        struct gather *g, struct tq__policy_marks *out, struct tq_err *err)
{
    const struct tq__policy_mdef *d;
    enum tq_tlp tlp = tq_stix_tlp_official(tq_str_c(ref), NULL);
    tq_rc rc;

    if (tlp != TQ_TLP_UNSET) {
        out->tlp = tlp_max(out->tlp, tlp);
        return TQ_OK;
    }
    if (strlen(ref) >= TQ_STIX_ID_MAX) {
        if (!out->not_understood)
            out->not_understood = tq_xstrndup(ref, 80);
        return TQ_OK;
    }
    rc = mdef_get(ctx, ref, &d, err);
    if (rc)
        return rc;
    if (d->state == TQ__MDEF_MISSING) {
        /* Each id once: the list is searched when a definition arrives. */
        if (!strstr(g->pending.len ? g->pending.ptr : "", d->id))
            rc = append_entry(&g->pending, ',', d->id, strlen(d->id));
        return rc ? tq_err_set(err, rc, "policy: too many pending markings") : TQ_OK;
    }
    if (d->state == TQ__MDEF_UNKNOWN) {
        if (!out->not_understood)
            out->not_understood = tq_xstrdup(d->id);
        return TQ_OK;
    }
    out->tlp = tlp_max(out->tlp, d->tlp);
    if (!d->is_release)
        return TQ_OK;
    out->no_further_sharing = out->no_further_sharing || d->nfs;
    if (granular) {
        /* Every granular audience is one more that a partner must be in; "" names no one. */
        if (g->restrict_to.len)
            rc = tq_buf_append(&g->restrict_to, ";", 1);
        if (rc == TQ_OK && d->release_to)
            rc = tq_buf_append_c(&g->restrict_to, d->release_to);
        if (rc == TQ_OK && !d->release_to)
            rc = tq_buf_append_c(&g->restrict_to, ",");
    } else {
        g->any_release = true;
        if (d->release_to)
            rc = append_entry(&g->release, ',', d->release_to, strlen(d->release_to));
    }
    return rc ? tq_err_set(err, rc, "policy: releasability too long") : TQ_OK;
}

static char *take_or_null(struct tq_buf *b)
{
    return b->len ? tq_buf_take(b, NULL) : NULL;
}

/*
 * A marking-definition that carries no markings of its own is read as marking itself: a
 * releasability marking goes, like the objects it governs, to its own audience (at TLP:CLEAR:
 * it holds no intelligence, and a receiving node must be able to pass it on to the partners it
 * names); one the policy does not understand goes nowhere; others are ordinary objects.
 */
static tq_rc marks_of_self(struct tq__policy_marks_ctx *ctx, const struct tq_stix_object *obj,
                           struct tq__policy_marks *out, struct tq_err *err)
{
    struct tq__policy_mdef d;
    struct json_object *o = parse_json(obj->json, obj->json_len);

    (void)ctx;
    memset(&d, 0, sizeof(d));
    if (!o)
        return tq_err_set(err, TQ_EJSON, "policy: the stored text of '%.*s' is not JSON",
                          TQ_STIX_ID_MAX, obj->id);
    mdef_read(o, &d);
    json_object_put(o);
    if (d.state != TQ__MDEF_OK) {
        out->not_understood = tq_xstrdup(obj->id);
    } else if (d.is_release) {
        out->tlp = TQ_TLP_CLEAR;
        out->no_further_sharing = d.nfs;
        out->release_to = d.release_to ? d.release_to : tq_xstrdup("");
        d.release_to = NULL;
    }
    tq_free(d.release_to);
    return TQ_OK;
}

/*
 * The strings of the array member name of o, or with sub the member sub of each element
 * (granular_markings[].marking_ref). A value that is not a string is kept as one that nothing
 * can resolve, so that it withholds rather than vanishes.
 */
static void strings_of(struct json_object *o, const char *name, const char *sub, char ***out,
                       size_t *n_out)
{
    struct json_object *v, *e;
    size_t i, n;

    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_array))
        return;
    n = json_object_array_length(v);
    *out = tq_xcalloc(n ? n : 1, sizeof(char *));
    for (i = 0; i < n; i++) {
        e = json_object_array_get_idx(v, i);
        if (sub && !json_object_object_get_ex(e, sub, &e))
            continue;
        (*out)[(*n_out)++] =
            tq_xstrdup(json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "?");
    }
}

/* The reference lists of an object built by hand (refs_known false), from its JSON. */
static tq_rc refs_from_json(const struct tq_stix_object *obj, struct tq_stix_object *refs,
                            struct tq_err *err)
{
    struct json_object *o;

    memset(refs, 0, sizeof(*refs));
    if (!obj->json || (!strstr(obj->json, "\"object_marking_refs\"") &&
                       !strstr(obj->json, "\"granular_markings\"")))
        return TQ_OK;
    o = parse_json(obj->json, obj->json_len);
    if (!o)
        return tq_err_set(err, TQ_EJSON, "policy: the stored text of '%.*s' is not JSON",
                          TQ_STIX_ID_MAX, obj->id);
    strings_of(o, "object_marking_refs", NULL, &refs->marking_refs, &refs->n_marking_refs);
    strings_of(o, "granular_markings", "marking_ref", &refs->granular_refs, &refs->n_granular_refs);
    json_object_put(o);
    return TQ_OK;
}

tq_rc tq__policy_marks_of(struct tq__policy_marks_ctx *ctx, const struct tq_stix_object *obj,
                          struct tq__policy_marks *out, struct tq_err *err)
{
    struct tq_stix_object parsed;
    const struct tq_stix_object *refs = obj;
    struct gather g;
    size_t i;
    tq_rc rc = TQ_OK;

    memset(out, 0, sizeof(*out));
    memset(&parsed, 0, sizeof(parsed));
    if (!obj->refs_known) {
        rc = refs_from_json(obj, &parsed, err);
        if (rc)
            return rc;
        refs = &parsed;
    }
    if (strcmp(obj->type, "marking-definition") == 0 && refs->n_marking_refs == 0 &&
        refs->n_granular_refs == 0) {
        tq_stix_object_cleanup(&parsed);
        return marks_of_self(ctx, obj, out, err);
    }
    memset(&g, 0, sizeof(g));
    tq_buf_init(&g.release, RELEASE_TO_MAX);
    tq_buf_init(&g.restrict_to, RELEASE_TO_MAX);
    tq_buf_init(&g.pending, RELEASE_TO_MAX);
    for (i = 0; rc == TQ_OK && i < refs->n_marking_refs; i++)
        rc = gather_ref(ctx, refs->marking_refs[i], false, &g, out, err);
    for (i = 0; rc == TQ_OK && i < refs->n_granular_refs; i++)
        rc = gather_ref(ctx, refs->granular_refs[i], true, &g, out, err);
    /*
     * A releasability marking is an explicit audience even when it names no one (or only
     * entries that cannot match): "" then, never NULL, so no default replaces it.
     */
    if (rc == TQ_OK && g.any_release)
        out->release_to = g.release.len ? tq_buf_take(&g.release, NULL) : tq_xstrdup("");
    if (rc == TQ_OK) {
        out->restrict_to = take_or_null(&g.restrict_to);
        out->pending = take_or_null(&g.pending);
    } else {
        tq__policy_marks_cleanup(out);
    }
    tq_buf_cleanup(&g.release);
    tq_buf_cleanup(&g.restrict_to);
    tq_buf_cleanup(&g.pending);
    tq_stix_object_cleanup(&parsed);
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
