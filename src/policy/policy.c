/* SPDX-License-Identifier: Apache-2.0
 *
 * policy/policy.c - release decisions, the policy-aware put and the configuration hooks.
 *
 * tq_policy_decide is the one decision: a pure function of a version's release facts and a
 * view of the configuration (partners, group members, the collection default) that the store
 * loads inside its writing transaction. Everything that releases anything - the put, the
 * recompute after a configuration change, explain - goes through it. The facts themselves are
 * read from the object's markings once, when the version is stored (markings.c), and kept by
 * the store beside the version. docs/internals/policy.md gives the rules and their reasoning.
 */
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "tansiq/access.h"

/* ---- TLP and names -------------------------------------------------------------------- */

const char *tq_tlp_name(enum tq_tlp tlp)
{
    switch (tlp) {
    case TQ_TLP_UNSET:
        return "unset";
    case TQ_TLP_CLEAR:
        return "TLP:CLEAR";
    case TQ_TLP_GREEN:
        return "TLP:GREEN";
    case TQ_TLP_AMBER:
        return "TLP:AMBER";
    case TQ_TLP_AMBER_STRICT:
        return "TLP:AMBER+STRICT";
    case TQ_TLP_RED:
        return "TLP:RED";
    }
    return "unknown";
}

tq_rc tq_tlp_parse(const char *s, enum tq_tlp *out)
{
    static const struct {
        const char *name;
        enum tq_tlp tlp;
    } names[] = {
        {"clear", TQ_TLP_CLEAR}, {"white", TQ_TLP_CLEAR}, /* TLP 1.0 spelling */
        {"green", TQ_TLP_GREEN}, {"amber", TQ_TLP_AMBER}, {"amber+strict", TQ_TLP_AMBER_STRICT},
        {"red", TQ_TLP_RED}};
    size_t i;

    if (!s || !out)
        return TQ_EINVAL;
    if (strncasecmp(s, "TLP:", 4) == 0)
        s += 4;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].tlp;
            return TQ_OK;
        }
    }
    return TQ_EINVAL;
}

bool tq_policy_name_valid(const char *name)
{
    size_t i;

    if (!name || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
        return false;
    for (i = 1; name[i]; i++) {
        char ch = name[i];

        if (i >= TQ_NAME_MAX - 1)
            return false;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

/* ---- audiences ------------------------------------------------------------------------ */

/*
 * Walk the entries of a comma-separated audience. *pos is the cursor (start at 0); each call
 * yields the next entry without surrounding spaces as [*start, *start + *len). False at the end.
 */
static bool audience_next(const char *aud, size_t *pos, const char **start, size_t *len)
{
    const char *p, *e;

    if (!aud)
        return false;
    for (;;) {
        p = aud + *pos;
        if (!*p)
            return false;
        e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        *pos = (size_t)(e - aud) + (*e ? 1 : 0);
        while (p < e && *p == ' ')
            p++;
        while (e > p && e[-1] == ' ')
            e--;
        if (e > p) {
            *start = p;
            *len = (size_t)(e - p);
            return true;
        }
    }
}

/* Split an entry into kind ("group" / "partner") and name; false when it is neither. */
static bool entry_parse(const char *start, size_t len, bool *is_group, char name[TQ_NAME_MAX])
{
    size_t skip;

    if (len > 6 && memcmp(start, "group:", 6) == 0) {
        *is_group = true;
        skip = 6;
    } else if (len > 8 && memcmp(start, "partner:", 8) == 0) {
        *is_group = false;
        skip = 8;
    } else {
        return false;
    }
    if (len - skip >= TQ_NAME_MAX)
        return false;
    memcpy(name, start + skip, len - skip);
    name[len - skip] = '\0';
    return tq_policy_name_valid(name);
}

tq_rc tq_policy_audience_check(const char *audience, struct tq_err *err)
{
    const char *start;
    char name[TQ_NAME_MAX];
    size_t pos = 0, len;
    bool is_group;

    while (audience_next(audience, &pos, &start, &len))
        if (!entry_parse(start, len, &is_group, name))
            return tq_err_set(err, TQ_EINVAL,
                              "policy: audience entry '%.*s' is not group:NAME or partner:NAME",
                              (int)(len > 80 ? 80 : len), start);
    return TQ_OK;
}

bool tq__policy_entry_valid(const char *entry, size_t len)
{
    char name[TQ_NAME_MAX];
    bool is_group;

    return entry_parse(entry, len, &is_group, name);
}

static bool is_member(const struct tq_store_release_view *v, const char *group, const char *partner)
{
    size_t i;

    for (i = 0; i < v->n_members; i++)
        if (strcmp(v->member_groups[i], group) == 0 && strcmp(v->member_partners[i], partner) == 0)
            return true;
    return false;
}

/* The first entry of audience that names partner, directly or through a group it is in. */
/*
 * Whether partner is in audience. groups says whether "group:" entries count: they do for
 * objects this node originated, and not for received ones, whose groups were the originator's:
 * only it knows their members, and a receiving node's own idea of a group (mistaken or
 * malicious) must never widen what the originator allowed.
 */
static bool audience_match(const struct tq_store_release_view *v, const char *audience, bool groups,
                           const char *partner, char via[TQ_NAME_MAX + 8])
{
    const char *start;
    char name[TQ_NAME_MAX];
    size_t pos = 0, len;
    bool is_group;

    while (audience_next(audience, &pos, &start, &len)) {
        if (!entry_parse(start, len, &is_group, name) || (is_group && !groups))
            continue;
        if (is_group ? is_member(v, name, partner) : strcmp(name, partner) == 0) {
            snprintf(via, TQ_NAME_MAX + 8, "%.*s", (int)len, start);
            return true;
        }
    }
    return false;
}

/*
 * Whether partner is in every audience of restrict_to (';'-separated, the granular
 * releasability markings); the first audience it is missing from goes to miss.
 */
static bool restrictions_match(const struct tq_store_release_view *v, const char *restrict_to,
                               bool groups, const char *partner, char miss[TQ_NAME_MAX + 8])
{
    char via[TQ_NAME_MAX + 8], *clause;
    const char *p = restrict_to, *end;
    bool ok = true;

    while (p && *p && ok) {
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        clause = tq_xstrndup(p, (size_t)(end - p));
        ok = audience_match(v, clause, groups, partner, via);
        if (!ok)
            snprintf(miss, TQ_NAME_MAX + 8, "%.*s", TQ_NAME_MAX, clause);
        tq_free(clause);
        p = *end ? end + 1 : end;
    }
    return ok;
}

/* ---- the decision --------------------------------------------------------------------- */

static bool in_list(const char *const *names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static enum tq_tlp tlp_of(int v)
{
    return v >= TQ_TLP_CLEAR && v <= TQ_TLP_RED ? (enum tq_tlp)v : TQ_TLP_UNSET;
}

void tq_policy_decide(const struct tq_store_facts *f, const struct tq_store_release_view *v,
                      const char *partner, struct tq_policy_decision *out)
{
    bool has_release = f->release_to != NULL; /* "" is an explicit audience of no one */
    const char *audience;

    memset(out, 0, sizeof(*out));
    out->tlp = tlp_of(f->tlp);
    if (out->tlp == TQ_TLP_UNSET) {
        /* A stored value outside the table counts as unset, then as the default: never CLEAR. */
        out->tlp_from_default = true;
        out->tlp = tlp_of(v->default_tlp);
        if (out->tlp == TQ_TLP_UNSET)
            out->tlp = TQ_TLP_AMBER;
    }
    out->rule = TQ_POLICY_DENY_UNKNOWN_PARTNER;
    if (!partner || !in_list(v->partners, v->n_partners, partner))
        return;
    if (!in_list(v->granted, v->n_granted, partner)) {
        out->rule = TQ_POLICY_DENY_NOT_GRANTED;
        return;
    }
    if (f->not_understood) {
        out->rule = TQ_POLICY_DENY_NOT_UNDERSTOOD;
        return;
    }
    if (f->pending) {
        out->rule = TQ_POLICY_DENY_PENDING;
        return;
    }
    if (out->tlp == TQ_TLP_RED) {
        out->rule = TQ_POLICY_DENY_RED;
        return;
    }
    if (f->origin) {
        if (out->tlp_from_default) {
            out->rule = TQ_POLICY_DENY_NO_OWN_TLP;
            return;
        }
        if (out->tlp == TQ_TLP_AMBER_STRICT) {
            out->rule = TQ_POLICY_DENY_STRICT;
            return;
        }
        if (f->no_further_sharing) {
            out->rule = TQ_POLICY_DENY_NFS;
            return;
        }
        if (!has_release) {
            out->rule = TQ_POLICY_DENY_NO_RELEASE_TO;
            return;
        }
        if (strcmp(partner, f->origin) == 0) {
            out->rule = TQ_POLICY_DENY_ORIGIN;
            return;
        }
        audience = f->release_to;
    } else {
        out->audience_from_default = !has_release;
        audience = has_release ? f->release_to : v->default_audience;
    }
    out->released = audience_match(v, audience, !f->origin, partner, out->via);
    if (!out->released) {
        out->rule = TQ_POLICY_DENY_AUDIENCE;
        return;
    }
    if (!restrictions_match(v, f->restrict_to, !f->origin, partner, out->via)) {
        out->released = false;
        out->rule = TQ_POLICY_DENY_GRANULAR;
        return;
    }
    out->rule = out->audience_from_default ? TQ_POLICY_ALLOW_DEFAULT : TQ_POLICY_ALLOW_RELEASE_TO;
}

tq_rc tq_policy_decide_cb(void *ud, const struct tq_store_release_view *view,
                          const struct tq_store_facts *facts, bool *released)
{
    struct tq_policy_decision d;
    size_t i;

    (void)ud;
    for (i = 0; i < view->n_partners; i++) {
        tq_policy_decide(facts, view, view->partners[i], &d);
        released[i] = d.released;
    }
    return TQ_OK;
}

const char *tq_policy_rule_str(enum tq_policy_rule rule)
{
    switch (rule) {
    case TQ_POLICY_DENY_UNKNOWN_PARTNER:
        return "not a partner of this node";
    case TQ_POLICY_DENY_RED:
        return "rule 1: TLP:RED never leaves the node";
    case TQ_POLICY_DENY_STRICT:
        return "rule 2: a received TLP:AMBER+STRICT object is never released onward";
    case TQ_POLICY_DENY_NFS:
        return "rule 2: a received no-further-sharing object is never released onward";
    case TQ_POLICY_DENY_NO_RELEASE_TO:
        return "rule 2: a received object goes onward only to partners its own markings name, "
               "and it names none";
    case TQ_POLICY_DENY_ORIGIN:
        return "rule 2: never back to the partner it came from";
    case TQ_POLICY_DENY_AUDIENCE:
        return "not in the audience";
    case TQ_POLICY_DENY_NOT_GRANTED:
        return "rule 4: the partner was not granted read on this collection";
    case TQ_POLICY_DENY_NOT_UNDERSTOOD:
        return "fail closed: the object references a marking this node does not understand";
    case TQ_POLICY_DENY_PENDING:
        return "fail closed: the object references a marking-definition this node does not hold "
               "(yet)";
    case TQ_POLICY_DENY_NO_OWN_TLP:
        return "rule 2: a received object without its own TLP marking is never released onward "
               "(its originator's default is not known here)";
    case TQ_POLICY_DENY_GRANULAR:
        return "not in the audience of a granular releasability marking";
    case TQ_POLICY_ALLOW_RELEASE_TO:
        return "named by the object's releasability markings";
    case TQ_POLICY_ALLOW_DEFAULT:
        return "rule 3: named by the collection's default audience";
    }
    return "unknown rule";
}

/* ---- the policy-aware put ------------------------------------------------------------- */

/* Facts from marks and origin; strings borrowed from m and origin. */
static void facts_set(struct tq_store_facts *f, const struct tq__policy_marks *m,
                      const struct tq_policy_origin *origin)
{
    memset(f, 0, sizeof(*f));
    f->tlp = (int)m->tlp;
    f->no_further_sharing = m->no_further_sharing;
    f->release_to = m->release_to;
    f->restrict_to = m->restrict_to;
    f->pending = m->pending;
    f->not_understood = m->not_understood;
    if (origin && origin->partner) {
        f->origin = origin->partner;
        f->remote_collection = origin->remote_collection;
        f->received_us = origin->received_us ? origin->received_us : tq_time_now_us();
    }
}

/*
 * The local marking-definitions the objects reference that the node holds only in other
 * collections, parsed and validated again, so that they are stored beside the objects and go to
 * the partners who read them. *copies is new (tq_stix_batch_free), NULL when there are none.
 */
static tq_rc marking_copies(struct tq__policy_marks_ctx *ctx, struct tq_stix_batch **copies,
                            struct tq_err *err)
{
    struct tq_buf b;
    size_t i, n = 0;
    tq_rc rc = TQ_OK;

    *copies = NULL;
    tq_buf_init(&b, (size_t)64 << 20);
    rc = tq_buf_append_c(&b, "[");
    for (i = 0; rc == TQ_OK && i < ctx->n_cache; i++) {
        if (!ctx->cache[i].json_elsewhere)
            continue;
        if (n++)
            rc = tq_buf_append_c(&b, ",");
        if (rc == TQ_OK)
            rc = tq_buf_append_c(&b, ctx->cache[i].json_elsewhere);
    }
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&b, "]");
    if (rc == TQ_OK && n)
        rc = tq_stix_parse_batch((struct tq_str){b.ptr, b.len}, copies, err);
    else if (rc)
        rc = tq_err_set(err, rc, "policy: marking-definitions to copy too large");
    tq_buf_cleanup(&b);
    return rc;
}

/* The ids (lower case) of the marking-definitions a put wrote or found: pending versions may
 * resolve. */
struct stored_marks {
    char (*ids)[TQ_STIX_ID_MAX];
    size_t n;
};

static void stored_marks_add(struct stored_marks *sm, const char *id)
{
    sm->ids = tq_xrealloc(sm->ids, (sm->n + 1) * sizeof(*sm->ids));
    tq__policy_id_lower(id, sm->ids[sm->n++]);
}

/*
 * Work out the facts of n objects and store them with their releases in one transaction,
 * preceded by copies of the local marking-definitions they reference from other collections.
 * Marking-definitions stored are added to sm (may be NULL).
 */
static tq_rc put_objects(struct tq_store *store, const char *collection_id,
                         const struct tq_stix_object *objs, size_t n,
                         const struct tq_policy_origin *origin, enum tq_put_result *results,
                         int64_t *date_added_us, struct stored_marks *sm, struct tq_err *err)
{
    const char *from = origin && origin->partner ? origin->partner : NULL;
    struct tq__policy_marks_ctx ctx;
    struct tq__policy_marks *marks = NULL;
    struct tq_store_facts *facts = NULL;
    struct tq_stix_batch *copies = NULL;
    struct tq_stix_object *all = NULL;
    enum tq_put_result *res = NULL;
    int64_t *added = NULL;
    size_t i, k = 0, total = n;
    tq_rc rc = TQ_OK;

    tq__policy_marks_init(&ctx, store, collection_id, from, objs, n);
    marks = tq_xcalloc(n ? n : 1, sizeof(*marks));
    for (i = 0; i < n && rc == TQ_OK; i++)
        rc = tq__policy_marks_of(&ctx, &objs[i], &marks[i], err);
    if (rc == TQ_OK && !from)
        rc = marking_copies(&ctx, &copies, err);
    if (rc)
        goto out;
    if (copies)
        for (i = 0; i < copies->n; i++)
            k += copies->items[i].ok;
    total = k + n;
    all = tq_xcalloc(total ? total : 1, sizeof(*all));
    facts = tq_xcalloc(total ? total : 1, sizeof(*facts));
    marks = tq_xrealloc(marks, (total ? total : 1) * sizeof(*marks));
    memmove(marks + k, marks, n * sizeof(*marks));
    memset(marks, 0, k * sizeof(*marks));
    for (i = 0, k = 0; copies && i < copies->n && rc == TQ_OK; i++) {
        if (!copies->items[i].ok)
            continue;
        all[k] = copies->items[i].obj;
        rc = tq__policy_marks_of(&ctx, &all[k], &marks[k], err);
        k++;
    }
    for (i = 0; i < n; i++)
        all[k + i] = objs[i];
    for (i = 0; i < total; i++)
        facts_set(&facts[i], &marks[i], origin);
    res = tq_xcalloc(total ? total : 1, sizeof(*res));
    added = tq_xcalloc(total ? total : 1, sizeof(*added));
    if (rc == TQ_OK)
        rc = tq_store_put_ex(store, collection_id, all, facts, total, tq_policy_decide_cb, NULL,
                             res, added, err);
    for (i = 0; rc == TQ_OK && i < total; i++) {
        /* Present ones too: a definition sent again retries a refresh that failed. */
        if (sm && strcmp(all[i].type, "marking-definition") == 0)
            stored_marks_add(sm, all[i].id);
        if (i >= k && results)
            results[i - k] = res[i];
        if (i >= k && date_added_us)
            date_added_us[i - k] = added[i];
    }
out:
    for (i = 0; marks && i < total; i++)
        tq__policy_marks_cleanup(&marks[i]);
    tq_free(marks);
    tq_free(facts);
    tq_free(all);
    tq_free(res);
    tq_free(added);
    tq_stix_batch_free(copies);
    tq__policy_marks_ctx_cleanup(&ctx);
    return rc;
}

static bool facts_same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether a new reading of a version's markings changes its facts. */
static bool marks_differ(const struct tq_store_facts *f, const struct tq__policy_marks *m)
{
    return f->tlp != (int)m->tlp || f->no_further_sharing != m->no_further_sharing ||
           !facts_same_str(f->release_to, m->release_to) ||
           !facts_same_str(f->restrict_to, m->restrict_to) ||
           !facts_same_str(f->pending, m->pending) ||
           !facts_same_str(f->not_understood, m->not_understood);
}

/* Read the markings of pending versions [from, to) of one collection again. */
static tq_rc reread(struct tq_store *store, const struct tq_store_pending *v, size_t from,
                    size_t to, struct tq__policy_marks *marks, bool allow_copy, bool *copied,
                    struct tq_err *err)
{
    struct tq__policy_marks_ctx ctx;
    struct tq_stix_batch *copies = NULL;
    struct tq_policy_origin local = {0};
    enum tq_put_result *res = NULL;
    size_t i;
    tq_rc rc = TQ_OK;

    /* Each version's markings are read in its own provenance (local, or its partner's). */
    for (i = from; i < to && rc == TQ_OK; i++) {
        struct tq_stix_object o;

        memset(&o, 0, sizeof(o));
        snprintf(o.id, sizeof(o.id), "%s", v[i].id);
        snprintf(o.type, sizeof(o.type), "%.*s", (int)(strstr(v[i].id, "--") - v[i].id), v[i].id);
        o.json = v[i].json;
        o.json_len = strlen(v[i].json);
        tq__policy_marks_init(&ctx, store, v[i].collection_id, v[i].facts.origin, NULL, 0);
        rc = tq__policy_marks_of(&ctx, &o, &marks[i - from], err);
        if (rc == TQ_OK && !v[i].facts.origin && allow_copy)
            rc = marking_copies(&ctx, &copies, err);
        if (rc == TQ_OK && copies) {
            res = tq_xcalloc(copies->n ? copies->n : 1, sizeof(*res));
            for (size_t j = 0; j < copies->n && rc == TQ_OK; j++)
                if (copies->items[j].ok)
                    rc = put_objects(store, v[i].collection_id, &copies->items[j].obj, 1, &local,
                                     res, NULL, NULL, err);
            *copied = true;
            tq_free(res);
            res = NULL;
        }
        tq_stix_batch_free(copies);
        copies = NULL;
        tq__policy_marks_ctx_cleanup(&ctx);
    }
    return rc;
}

/*
 * Decide again the versions that waited for a marking-definition: read their markings anew
 * and, for each collection where that changes anything, replace their facts and rewrite the
 * collection's release rows in one transaction ("released" leaves for what they now give).
 */
static tq_rc refresh_pending(struct tq_store *store, const char *marking_id, struct tq_err *err)
{
    struct tq_store_pending *v = NULL;
    size_t n = 0, from, to, i, k;
    tq_rc rc;

    rc = tq_store_pending_list(store, marking_id, &v, &n, err);
    for (from = 0; rc == TQ_OK && from < n; from = to) {
        struct tq__policy_marks *marks;
        struct tq_store_facts *facts;
        int64_t *at;
        bool copied = false;

        for (to = from; to < n && strcmp(v[to].collection_id, v[from].collection_id) == 0; to++)
            ;
        marks = tq_xcalloc(to - from, sizeof(*marks));
        facts = tq_xcalloc(to - from, sizeof(*facts));
        at = tq_xcalloc(to - from, sizeof(*at));
        rc = reread(store, v, from, to, marks, true, &copied, err);
        if (rc == TQ_OK && copied) {
            /* Copies now stand in the collection: read again so nothing points elsewhere. */
            for (i = 0; i < to - from; i++)
                tq__policy_marks_cleanup(&marks[i]);
            rc = reread(store, v, from, to, marks, false, &copied, err);
        }
        for (i = from, k = 0; rc == TQ_OK && i < to; i++) {
            struct tq_policy_origin o = {.partner = v[i].facts.origin,
                                         .remote_collection = v[i].facts.remote_collection,
                                         .received_us = v[i].facts.received_us};

            if (!marks_differ(&v[i].facts, &marks[i - from]))
                continue;
            facts_set(&facts[k], &marks[i - from], &o);
            at[k++] = v[i].date_added_us;
        }
        if (rc == TQ_OK && k) {
            struct tq_store_change ch = {.kind = TQ_CHANGE_FACTS,
                                         .collection_id = v[from].collection_id,
                                         .facts_at = at,
                                         .facts = facts,
                                         .n_facts = k};

            rc = tq_store_release_rewrite(store, &ch, v[from].collection_id, tq_policy_decide_cb,
                                          NULL, err);
        }
        for (i = 0; i < to - from; i++)
            tq__policy_marks_cleanup(&marks[i]);
        tq_free(marks);
        tq_free(facts);
        tq_free(at);
    }
    tq_store_pending_free(v, n);
    return rc;
}

tq_rc tq_policy_put(struct tq_store *store, const char *collection_id,
                    const struct tq_stix_object *objs, size_t n,
                    const struct tq_policy_origin *origin, enum tq_put_result *results,
                    int64_t *date_added_us, struct tq_err *err)
{
    struct stored_marks sm = {0};
    tq_rc rc;

    if (!store || !collection_id || (!objs && n))
        return tq_err_set(err, TQ_EINVAL, "policy: put without store, collection or objects");
    if (origin && origin->partner && !tq_policy_name_valid(origin->partner))
        return tq_err_set(err, TQ_EINVAL, "policy: origin '%.64s' is not a partner name",
                          origin->partner);
    rc = put_objects(store, collection_id, objs, n, origin, results, date_added_us, &sm, err);
    /*
     * The objects are stored (and acknowledged) whatever happens next; a failure to decide
     * waiting versions again leaves them withheld (failing closed) until one of the markings
     * is put again (a later full sync or import).
     */
    for (size_t i = 0; rc == TQ_OK && i < sm.n; i++) {
        struct tq_err lerr = {0};

        if (refresh_pending(store, sm.ids[i], &lerr) != TQ_OK)
            tq_log(TQ_LOG_WARN, "policy: versions waiting for %s not decided again: %s", sm.ids[i],
                   lerr.msg);
    }
    tq_free(sm.ids);
    return rc;
}

/* ---- configuration hooks -------------------------------------------------------------- */

static tq_rc rewrite(struct tq_store *store, const struct tq_store_change *ch,
                     const char *collection_id, struct tq_err *err)
{
    return tq_store_release_rewrite(store, ch, collection_id, tq_policy_decide_cb, NULL, err);
}

static tq_rc check_name(const char *name, const char *what, struct tq_err *err)
{
    if (!tq_policy_name_valid(name))
        return tq_err_set(err, TQ_EINVAL, "policy: '%.64s' is not a valid %s name",
                          name ? name : "", what);
    return TQ_OK;
}

tq_rc tq_policy_partner_add(struct tq_store *store, const struct tq_partner *p, struct tq_err *err)
{
    struct tq_store_change ch = {.kind = TQ_CHANGE_PARTNER_PUT, .partner = p};
    tq_rc rc;

    if (!p)
        return tq_err_set(err, TQ_EINVAL, "policy: no partner");
    rc = check_name(memchr(p->name, 0, sizeof(p->name)) ? p->name : NULL, "partner", err);
    if (rc)
        return rc;
    return rewrite(store, &ch, NULL, err);
}

tq_rc tq_policy_partner_remove(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct tq_store_change ch = {.kind = TQ_CHANGE_PARTNER_DELETE, .name = name};

    if (!name)
        return tq_err_set(err, TQ_EINVAL, "policy: no partner name");
    /* Its release rows go with it; nothing else can change, so no rewrite is needed. */
    return tq_store_partner_delete(store, ch.name, err);
}

tq_rc tq_policy_group_add(struct tq_store *store, const char *name, struct tq_err *err)
{
    tq_rc rc = check_name(name, "group", err);

    if (rc)
        return rc;
    /* An empty group releases nothing: no visibility can change. */
    return tq_store_group_add(store, name, err);
}

tq_rc tq_policy_group_remove(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct tq_store_change ch = {.kind = TQ_CHANGE_GROUP_DELETE, .name = name};

    if (!name)
        return tq_err_set(err, TQ_EINVAL, "policy: no group name");
    return rewrite(store, &ch, NULL, err);
}

tq_rc tq_policy_group_member_set(struct tq_store *store, const char *group, const char *partner,
                                 bool member, struct tq_err *err)
{
    struct tq_store_change ch = {
        .kind = TQ_CHANGE_MEMBER_SET, .name = group, .member = partner, .is_member = member};

    if (!group || !partner)
        return tq_err_set(err, TQ_EINVAL, "policy: no group or partner name");
    return rewrite(store, &ch, NULL, err);
}

tq_rc tq_policy_collection_default_set(struct tq_store *store, const char *collection_id,
                                       enum tq_tlp tlp, const char *audience, struct tq_err *err)
{
    struct tq_collection_policy pol = {.default_tlp = (int)tlp, .audience = (char *)audience};
    struct tq_store_change ch = {
        .kind = TQ_CHANGE_COLLECTION_POLICY, .collection_id = collection_id, .policy = &pol};
    tq_rc rc;

    if (!collection_id)
        return tq_err_set(err, TQ_EINVAL, "policy: no collection");
    if (tlp < TQ_TLP_UNSET || tlp > TQ_TLP_RED)
        return tq_err_set(err, TQ_EINVAL, "policy: unknown TLP value %d", (int)tlp);
    rc = tq_policy_audience_check(audience, err);
    if (rc)
        return rc;
    return rewrite(store, &ch, collection_id, err);
}

tq_rc tq_policy_partner_grant(struct tq_store *store, const char *partner,
                              const char *collection_id, bool read, struct tq_err *err)
{
    char who[TQ_NAME_MAX + 16];
    struct tq_store_change ch = {
        .kind = TQ_CHANGE_PERM_SET, .name = who, .collection_id = collection_id, .is_member = read};
    tq_rc rc = check_name(partner, "partner", err);

    if (rc)
        return rc;
    if (!collection_id)
        return tq_err_set(err, TQ_EINVAL, "policy: no collection");
    if (!tq_access_partner_key(partner, who, sizeof(who)))
        return tq_err_set(err, TQ_EINVAL, "policy: partner name too long");
    return rewrite(store, &ch, strcmp(collection_id, "*") == 0 ? NULL : collection_id, err);
}

tq_rc tq_policy_recompute(struct tq_store *store, const char *collection_id, struct tq_err *err)
{
    return rewrite(store, NULL, collection_id, err);
}

tq_rc tq_policy_identity_set(struct tq_store *store, const char *identity_ref, const char *partner,
                             struct tq_err *err)
{
    char key[TQ_STIX_ID_MAX + 32];

    if (!identity_ref || !tq_str_starts_with(tq_str_c(identity_ref), "identity--") ||
        !tq_stix_id_valid(tq_str_c(identity_ref)))
        return tq_err_set(err, TQ_EINVAL, "policy: '%.64s' is not an identity id",
                          identity_ref ? identity_ref : "");
    if (partner && !tq_policy_name_valid(partner))
        return tq_err_set(err, TQ_EINVAL, "policy: '%.64s' is not a partner name", partner);
    snprintf(key, sizeof(key), "%s%s", TQ__POLICY_IDENTITY_KEY, identity_ref);
    return tq_store_meta_set(store, key, partner ? partner : TQ__POLICY_SELF, err);
}
