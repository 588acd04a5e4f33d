/* SPDX-License-Identifier: Apache-2.0
 *
 * policy/explain.c - why a partner may or may not see a version, and what partners may send.
 *
 * Explain reads the version's stored facts and the configuration as one snapshot, runs the
 * same tq_policy_decide the store's release rows were written from, and says it in words for
 * the local operator (group names and members appear here, never in anything a partner
 * receives). The inbound check runs before a received object is stored.
 */
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

#define EXPLAIN_MAX (64 * 1024)

static tq_rc explain_text(const struct tq_store_version_info *vi,
                          const struct tq_store_release_view *view, const char *partner,
                          const struct tq_policy_decision *d, struct tq_buf *b)
{
    char ver[TQ_TIME_STR_MAX], added[TQ_TIME_STR_MAX], recv[TQ_TIME_STR_MAX];
    const struct tq_store_facts *f = &vi->facts;
    size_t i;
    tq_rc rc;

    if (vi->version_us >= 0)
        tq_time_format_exact(vi->version_us, ver);
    else
        snprintf(ver, sizeof(ver), "unversioned");
    tq_time_format(vi->date_added_us, added);
    rc = tq_buf_printf(b, "object %s version %s in collection %s (added %s)\n", vi->id, ver,
                       view->collection_id, added);
    if (!rc)
        rc = tq_buf_printf(b, "tlp: %s%s\n", tq_tlp_name(d->tlp),
                           d->tlp_from_default ? " (the collection default: the object has none)"
                                               : " (from the object's markings)");
    if (!rc)
        rc = tq_buf_printf(b, "release_to: %s\n",
                           !f->release_to   ? "none (no releasability marking held by this node)"
                           : *f->release_to ? f->release_to
                                            : "no one (its releasability markings name no one)");
    if (!rc && f->restrict_to)
        rc = tq_buf_printf(b, "granular releasability (each audience must name the partner): %s\n",
                           f->restrict_to);
    if (!rc)
        rc = tq_buf_printf(b, "no further sharing: %s\n", f->no_further_sharing ? "yes" : "no");
    if (!rc && f->pending)
        rc = tq_buf_printf(b,
                           "markings not held: %s (withheld from every partner until they "
                           "arrive)\n",
                           f->pending);
    if (!rc && f->not_understood)
        rc = tq_buf_printf(b, "marking not understood: %s (withheld from every partner)\n",
                           f->not_understood);
    if (!rc && f->origin) {
        tq_time_format(f->received_us, recv);
        rc =
            tq_buf_printf(b, "origin: received from partner %s (its collection %s) at %s\n",
                          f->origin, f->remote_collection ? f->remote_collection : "unknown", recv);
    } else if (!rc) {
        rc = tq_buf_printf(b, "origin: created on this node\n");
    }
    if (!rc && !f->origin)
        rc = tq_buf_printf(
            b, "collection default audience: %s\n",
            view->default_audience && *view->default_audience ? view->default_audience : "nobody");
    if (!rc)
        rc = tq_buf_printf(b, "partner %s: %s - %s", partner, d->released ? "RELEASED" : "WITHHELD",
                           tq_policy_rule_str(d->rule));
    if (!rc && d->via[0] && d->rule == TQ_POLICY_DENY_GRANULAR)
        rc = tq_buf_printf(b, " (not in %s)", d->via);
    else if (!rc && d->via[0])
        rc = tq_buf_printf(b, " (%s%s)", d->via,
                           strncmp(d->via, "group:", 6) == 0 ? ", of which it is a member" : "");
    if (!rc)
        rc = tq_buf_append_c(b, "\nreleased now to:");
    for (i = 0; !rc && i < vi->n_released; i++)
        rc = tq_buf_printf(b, " %s", vi->released_to[i]);
    if (!rc && vi->n_released == 0)
        rc = tq_buf_append_c(b, " nobody");
    if (!rc)
        rc = tq_buf_append_c(b, "\n");
    return rc;
}

tq_rc tq_policy_explain(struct tq_store *store, const char *collection_id, const char *object_id,
                        int64_t version_us, const char *partner, bool *released, char **text_out,
                        struct tq_err *err)
{
    struct tq_store_version_info vi;
    struct tq_store_release_view_data *vd = NULL;
    struct tq_policy_decision d;
    struct tq_buf b;
    tq_rc rc;

    if (!store || !collection_id || !object_id || !partner || !released || !text_out)
        return tq_err_set(err, TQ_EINVAL, "policy: explain needs collection, object and partner");
    memset(&vi, 0, sizeof(vi));
    tq_buf_init(&b, EXPLAIN_MAX);
    rc = tq_store_version_info_get(store, collection_id, object_id,
                                   version_us == -1 ? TQ_STORE_VERSION_LATEST : version_us, &vi,
                                   err);
    if (rc == TQ_OK)
        rc = tq_store_release_view_get(store, collection_id, &vd, err);
    if (rc)
        goto out;
    tq_policy_decide(&vi.facts, tq_store_release_view_of(vd), partner, &d);
    rc = explain_text(&vi, tq_store_release_view_of(vd), partner, &d, &b);
    if (rc) {
        rc = tq_err_set(err, rc, "policy: explanation too long");
        goto out;
    }
    *released = d.released;
    *text_out = tq_buf_take(&b, NULL);
out:
    tq_buf_cleanup(&b);
    tq_store_release_view_free(vd);
    tq_store_version_info_cleanup(&vi);
    return rc;
}

tq_rc tq_policy_check_inbound(struct tq_store *store, const char *partner,
                              const struct tq_stix_object *obj, struct tq_err *err)
{
    struct tq__policy_marks_ctx ctx;
    struct tq__policy_marks m;
    enum tq_tlp tlp;
    bool nfs;
    char creator[TQ_STIX_ID_MAX], key[TQ_STIX_ID_MAX + 32];
    char *owner = NULL;
    struct tq_err lerr = {0};
    tq_rc rc;

    if (!store || !partner || !obj)
        return tq_err_set(err, TQ_EINVAL, "policy: inbound check needs partner and object");
    tq__policy_marks_init(&ctx, store, NULL, partner, obj, 1);
    rc = tq__policy_marks_of(&ctx, obj, &m, err);
    tq__policy_marks_ctx_cleanup(&ctx);
    if (rc)
        return rc;
    tlp = m.tlp;
    nfs = m.no_further_sharing;
    tq__policy_marks_cleanup(&m);
    if (tlp == TQ_TLP_RED)
        return tq_err_set(err, TQ_EFORBIDDEN,
                          "policy: '%.*s' from partner %.64s is TLP:RED, which never leaves its "
                          "node",
                          TQ_STIX_ID_MAX, obj->id, partner);
    tq__policy_created_by(obj, creator);
    if (!creator[0])
        return TQ_OK;
    snprintf(key, sizeof(key), "%s%s", TQ__POLICY_IDENTITY_KEY, creator);
    rc = tq_store_meta_get(store, key, &owner, &lerr);
    if (rc == TQ_ENOTFOUND)
        return TQ_OK; /* an identity nobody recorded proves nothing */
    if (rc)
        return tq_err_set(err, rc, "%s", lerr.msg);
    if (strcmp(owner, TQ__POLICY_SELF) == 0)
        rc = tq_err_set(err, TQ_EFORBIDDEN,
                        "policy: '%.*s' from partner %.64s claims this node as its creator",
                        TQ_STIX_ID_MAX, obj->id, partner);
    else if ((tlp == TQ_TLP_AMBER_STRICT || nfs) && strcmp(owner, partner) != 0)
        rc = tq_err_set(err, TQ_EFORBIDDEN,
                        "policy: '%.*s' is %s and was created by partner %.64s; partner %.64s "
                        "may not pass it on",
                        TQ_STIX_ID_MAX, obj->id,
                        tlp == TQ_TLP_AMBER_STRICT ? "TLP:AMBER+STRICT" : "no-further-sharing",
                        owner, partner);
    tq_free(owner);
    return rc;
}
