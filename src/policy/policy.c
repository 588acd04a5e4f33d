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

/* ---- the decision --------------------------------------------------------------------- */

static bool known_partner(const struct tq_store_release_view *v, const char *partner)
{
    size_t i;

    for (i = 0; i < v->n_partners; i++)
        if (strcmp(v->partners[i], partner) == 0)
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
    if (!partner || !known_partner(v, partner))
        return;
    if (out->tlp == TQ_TLP_RED) {
        out->rule = TQ_POLICY_DENY_RED;
        return;
    }
    if (f->origin) {
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
    if (!out->released)
        out->rule = TQ_POLICY_DENY_AUDIENCE;
    else
        out->rule =
            out->audience_from_default ? TQ_POLICY_ALLOW_DEFAULT : TQ_POLICY_ALLOW_RELEASE_TO;
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
    case TQ_POLICY_ALLOW_RELEASE_TO:
        return "named by the object's releasability markings";
    case TQ_POLICY_ALLOW_DEFAULT:
        return "rule 3: named by the collection's default audience";
    }
    return "unknown rule";
}

/* ---- the policy-aware put ------------------------------------------------------------- */

tq_rc tq_policy_put(struct tq_store *store, const char *collection_id,
                    const struct tq_stix_object *objs, size_t n,
                    const struct tq_policy_origin *origin, enum tq_put_result *results,
                    int64_t *date_added_us, struct tq_err *err)
{
    struct tq__policy_marks_ctx ctx;
    struct tq_store_facts *facts = NULL;
    char **release = NULL;
    size_t i;
    tq_rc rc = TQ_OK;

    if (!store || !collection_id || (!objs && n))
        return tq_err_set(err, TQ_EINVAL, "policy: put without store, collection or objects");
    if (origin && origin->partner && !tq_policy_name_valid(origin->partner))
        return tq_err_set(err, TQ_EINVAL, "policy: origin '%.64s' is not a partner name",
                          origin->partner);
    tq__policy_marks_init(&ctx, store, collection_id, objs, n);
    facts = tq_xcalloc(n ? n : 1, sizeof(*facts));
    release = tq_xcalloc(n ? n : 1, sizeof(*release));
    for (i = 0; i < n && rc == TQ_OK; i++) {
        struct tq__policy_marks m;

        rc = tq__policy_marks_of(&ctx, &objs[i], &m, err);
        if (rc)
            break;
        release[i] = m.release_to;
        facts[i].tlp = (int)m.tlp;
        facts[i].no_further_sharing = m.no_further_sharing;
        facts[i].release_to = m.release_to;
        if (origin && origin->partner) {
            facts[i].origin = origin->partner;
            facts[i].remote_collection = origin->remote_collection;
            facts[i].received_us = origin->received_us ? origin->received_us : tq_time_now_us();
        }
    }
    if (rc == TQ_OK)
        rc = tq_store_put_ex(store, collection_id, objs, facts, n, tq_policy_decide_cb, NULL,
                             results, date_added_us, err);
    for (i = 0; i < n; i++)
        tq_free(release[i]);
    tq_free(release);
    tq_free(facts);
    tq__policy_marks_cleanup(&ctx);
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
