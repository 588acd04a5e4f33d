/* SPDX-License-Identifier: Apache-2.0
 *
 * store/releases.c - release facts, the release rows of each partner and configuration
 * changes with their audit leaves.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"

void tq__store_view_cleanup(struct tq__store_view *v)
{
    tq_store_release_view_free(v->d);
    tq_free(v->pids);
    tq_free(v->released);
    memset(v, 0, sizeof(*v));
}

/* Load partners and memberships (the parts of a view that do not depend on the collection). */
tq_rc tq__store_view_load(struct tq__conn *c, struct tq__store_view *v, struct tq_err *err)
{
    struct tq_store_release_view_data *d = tq_xcalloc(1, sizeof(*d));
    struct tq__stmt *st = NULL;
    size_t cap = 0, pcap = 0, cap2 = 0;
    tq_rc rc;
    int src;

    memset(v, 0, sizeof(*v));
    v->d = d;
    rc = tq__store_stmt_get(c, ST_PARTNER_NAMES, &st, err);
    if (rc)
        return rc;
    for (;;) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        tq__store_vec_push(&d->partners, d->view.n_partners, &cap, tq__store_column_dup(st, 1));
        if (d->view.n_partners == pcap) {
            pcap = pcap ? pcap * 2 : 8;
            v->pids = tq_xrealloc(v->pids, pcap * sizeof(*v->pids));
        }
        v->pids[d->view.n_partners++] = tq__db_col_int64(st, 0);
    }
    tq__store_stmt_done(st);
    if (src != TQ__DB_DONE)
        return tq__store_fail(err, c->db, src, "load partners");
    rc = tq__store_stmt_get(c, ST_ALL_MEMBERS, &st, err);
    if (rc)
        return rc;
    cap = 0;
    for (;;) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        tq__store_vec_push(&d->member_groups, d->view.n_members, &cap, tq__store_column_dup(st, 0));
        tq__store_vec_push(&d->member_partners, d->view.n_members, &cap2,
                           tq__store_column_dup(st, 1));
        d->view.n_members++;
    }
    tq__store_stmt_done(st);
    if (src != TQ__DB_DONE)
        return tq__store_fail(err, c->db, src, "load group members");
    d->view.partners = (const char *const *)d->partners;
    d->view.member_groups = (const char *const *)d->member_groups;
    d->view.member_partners = (const char *const *)d->member_partners;
    v->released = tq_xcalloc(d->view.n_partners + 1, sizeof(*v->released));
    return TQ_OK;
}

/* Point the view at one collection: its UUID, its agreed default and its grants. */
tq_rc tq__store_view_collection(struct tq__conn *c, struct tq__store_view *v, int64_t cid,
                                const char *uuid, struct tq_err *err)
{
    struct tq_store_release_view_data *d = v->d;
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    tq_free(d->collection_id);
    tq_free(d->default_audience);
    d->collection_id = tq_xstrdup(uuid);
    d->default_audience = NULL;
    d->view.default_tlp = 0;
    rc = tq__store_stmt_get(c, ST_CPOL_GET, &st, err);
    if (rc)
        return rc;
    tq__db_bind_int64(st, 1, cid);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW) {
        d->view.default_tlp = (int)tq__db_col_int64(st, 0);
        d->default_audience = tq__store_column_dup(st, 1);
    } else if (src != TQ__DB_DONE) {
        rc = tq__store_fail(err, c->db, src, "read collection policy");
    }
    tq__store_stmt_done(st);
    d->view.collection_id = d->collection_id;
    d->view.default_audience = d->default_audience;
    tq_store_names_free(d->granted, d->view.n_granted);
    d->granted = NULL;
    d->view.n_granted = 0;
    if (rc == TQ_OK)
        rc = tq__store_stmt_get(c, ST_GRANTED, &st, err);
    if (rc == TQ_OK) {
        tq__store_bind_text(st, 1, uuid);
        rc = tq__store_collect_names(c, st, &d->granted, &d->view.n_granted, err);
        tq__store_stmt_done(st);
    }
    d->view.granted = (const char *const *)d->granted;
    return rc;
}

/*
 * Decide one version and write its release rows. fresh: the version is its object's only one,
 * so it is first and last for every partner it goes to; otherwise the flags are written 0 and
 * the caller recomputes them for the whole object (release_reflag).
 */
/*
 * The date a rewrite gives release row (pid, cid, da) in the partner's view: the one it had
 * before the rewrite when it existed, else the next tick of the collection's clock.
 */
static tq_rc release_added(struct tq__conn *c, struct tq__store_view *v, int64_t pid, int64_t cid,
                           int64_t da, int64_t *added, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = tq__store_stmt_get(c, ST_REL_BEFORE_ADDED, &st, err);
    if (rc)
        return rc;
    tq__db_bind_int64(st, 1, pid);
    tq__db_bind_int64(st, 2, cid);
    tq__db_bind_int64(st, 3, da);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW) {
        *added = tq__db_col_int64(st, 0);
    } else if (src == TQ__DB_DONE) {
        int64_t now = tq_time_now_us();

        v->last_added = now > v->last_added ? now : v->last_added + 1;
        *added = v->last_added;
    } else {
        rc = tq__store_fail(err, c->db, src, "read earlier release");
    }
    tq__store_stmt_done(st);
    return rc;
}

tq_rc tq__store_release_version(struct tq__conn *c, struct tq__store_view *v, int64_t cid,
                                int64_t da, const struct tq_store_facts *f, bool fresh,
                                tq_store_decide_cb decide, void *ud,
                                const struct tq__store_audit_put *audit, struct tq_err *err)
{
    struct tq_store_audit_event ev = {0};
    struct tq__stmt *st = NULL;
    size_t i, n = v->d->view.n_partners;
    int64_t added = da;
    tq_rc rc;
    int src;

    if (n == 0)
        return TQ_OK;
    memset(v->released, 0, n * sizeof(*v->released));
    rc = decide(ud, &v->d->view, f, v->released);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_REL_INSERT, &st, err);
    if (rc)
        return rc;
    for (i = 0; i < n && rc == TQ_OK; i++) {
        if (!v->released[i])
            continue;
        /* A put releases a version as it is stored; a rewrite may release it later. */
        if (!audit)
            rc = release_added(c, v, v->pids[i], cid, da, &added, err);
        if (rc)
            break;
        tq__db_bind_int64(st, 1, v->pids[i]);
        tq__db_bind_int64(st, 2, cid);
        tq__db_bind_int64(st, 3, da);
        tq__db_bind_int64(st, 4, fresh);
        tq__db_bind_int64(st, 5, fresh);
        tq__db_bind_int64(st, 6, added);
        src = tq__db_step(st);
        if (src != TQ__DB_DONE)
            rc = tq__store_fail(err, c->db, src, "write release");
        tq__db_reset(st);
        if (rc == TQ_OK && audit) {
            ev.kind = "released";
            ev.at_us = audit->at_us;
            ev.collection = audit->collection;
            ev.object = audit->obj->id;
            ev.version_us = audit->obj->version_us;
            ev.sha256 = audit->sha256;
            ev.partner = v->d->view.partners[i];
            rc = tq__store_audit_insert(c, &ev, err);
        }
    }
    tq__store_stmt_done(st);
    return rc;
}

tq_rc tq__store_insert_facts(struct tq__conn *c, int64_t cid, int64_t da,
                             const struct tq_store_facts *f, const uint8_t sha256[32],
                             struct tq_err *err)
{
    /* release_to "" (an audience of no one) differs from NULL. */
    return tq__store_run(c, ST_FACTS_INSERT,
                         TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_INT(da), TQ__ARG_INT(f->tlp),
                                  TQ__ARG_INT(f->no_further_sharing), TQ__ARG_TEXT(f->release_to),
                                  TQ__ARG_TEXT(f->origin), TQ__ARG_TEXT(f->remote_collection),
                                  TQ__ARG_INT(f->received_us), TQ__ARG_BLOB(sha256, 32),
                                  TQ__ARG_TEXT(f->restrict_to), TQ__ARG_TEXT(f->pending),
                                  TQ__ARG_TEXT(f->not_understood)),
                         "write release facts", NULL, err);
}

tq_rc tq__engine_collection_policy_get(struct tq_store *store, const char *collection_id,
                                       struct tq_collection_policy *out, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    int64_t cid = 0;
    tq_rc rc;
    int src;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_collection_resolve(c, collection_id, &cid, NULL, err);
    if (rc)
        goto out;
    rc = tq__store_stmt_get(c, ST_CPOL_GET, &st, err);
    if (rc)
        goto out;
    tq__db_bind_int64(st, 1, cid);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW) {
        out->default_tlp = (int)tq__db_col_int64(st, 0);
        out->audience = tq__store_column_dup(st, 1);
    } else if (src == TQ__DB_DONE) {
        out->default_tlp = 0;
        out->audience = NULL;
    } else {
        rc = tq__store_fail(err, c->db, src, "read collection policy");
    }
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

static tq_rc change_partner_put(struct tq__conn *c, const struct tq_partner *p, struct tq_err *err)
{
    struct tq__store_result res;
    tq_rc rc;

    rc = tq__store_run(
        c, ST_PARTNER_UPSERT,
        TQ__ARGS(TQ__ARG_TEXT(p->name), TQ__ARG_TEXT(p->taxii_url), TQ__ARG_TEXT(p->cert_pem),
                 tq_is_zero(p->cert_sha256, 32) ? TQ__ARG_NULL : TQ__ARG_BLOB(p->cert_sha256, 32),
                 TQ__ARG_TEXT(p->sign_pubkey),
                 TQ__ARG_INT(p->added_us ? p->added_us : tq_time_now_us())),
        "write partner", &res, err);
    if (rc && tq__store_is_duplicate(res.src))
        rc = tq_err_set(err, TQ_EEXIST, "store: certificate already pinned for another partner");
    return rc;
}

/* A grant of read (is_member) on a collection or "*" to a principal; never write for partners. */
static tq_rc change_perm(struct tq__conn *c, const struct tq_store_change *ch, struct tq_err *err)
{
    struct tq__store_result res;
    char key[37];
    tq_rc rc;

    rc = tq__store_perm_collection_key(c, ch->collection_id, true, key, err);
    if (rc)
        return rc;
    rc = tq__store_run(c, ST_PERM_SET,
                       TQ__ARGS(TQ__ARG_TEXT(ch->name), TQ__ARG_TEXT(key),
                                TQ__ARG_INT(ch->is_member), TQ__ARG_INT(0)),
                       "set permission", &res, err);
    if (rc && (res.src == TQ__DB_FOREIGN_KEY || res.src == TQ__DB_REFUSED ||
               res.src == TQ__DB_CONSTRAINT))
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user or partner '%.64s'", ch->name);
    return rc;
}

/* New facts for stored versions of one collection (a marking they were waiting for arrived). */
static tq_rc change_facts(struct tq__conn *c, const struct tq_store_change *ch, struct tq_err *err)
{
    int64_t cid = 0;
    tq_rc rc;

    rc = tq__store_collection_resolve(c, ch->collection_id, &cid, NULL, err);
    for (size_t i = 0; rc == TQ_OK && i < ch->n_facts; i++) {
        const struct tq_store_facts *f = &ch->facts[i];

        rc = tq__store_run(c, ST_FACTS_UPDATE,
                           TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_INT(ch->facts_at[i]),
                                    TQ__ARG_INT(f->tlp), TQ__ARG_INT(f->no_further_sharing),
                                    TQ__ARG_TEXT(f->release_to), TQ__ARG_TEXT(f->restrict_to),
                                    TQ__ARG_TEXT(f->pending), TQ__ARG_TEXT(f->not_understood)),
                           "update release facts", NULL, err);
    }
    return rc;
}

/*
 * Apply one configuration change inside the open write transaction. Whatever visibility the
 * change could take away is dropped here, so that the change alone never leaves a partner
 * seeing more than the new configuration allows; what it could add waits for a rewrite.
 */
static tq_rc change_apply(struct tq__conn *c, const struct tq_store_change *ch, struct tq_err *err)
{
    struct tq__store_result res = {0};
    int64_t gid = 0, pid = 0, cid = 0;
    tq_rc rc = TQ_OK;

    switch (ch->kind) {
    case TQ_CHANGE_NONE:
        return TQ_OK;
    case TQ_CHANGE_PARTNER_PUT:
        return change_partner_put(c, ch->partner, err);
    case TQ_CHANGE_PARTNER_DELETE:
        /* Memberships and release rows go with the partner (ON DELETE CASCADE). */
        rc = tq__store_partner_pid(c, ch->name, &pid, err);
        if (rc == TQ_OK)
            rc = tq__store_run(c, ST_PARTNER_DELETE, TQ__ARGS(TQ__ARG_TEXT(ch->name)),
                               "delete partner", NULL, err);
        return rc;
    case TQ_CHANGE_GROUP_ADD:
        rc = tq__store_run(c, ST_GROUP_ADD, TQ__ARGS(TQ__ARG_TEXT(ch->name)), "add group", &res,
                           err);
        if (rc && tq__store_is_duplicate(res.src))
            rc = tq_err_set(err, TQ_EEXIST, "store: group '%.64s' exists", ch->name);
        return rc;
    case TQ_CHANGE_GROUP_DELETE:
        rc = tq__store_lookup_key(c, ST_GROUP_GID, ch->name, &gid, "group", err);
        if (rc == TQ_OK)
            rc = tq__store_run(c, ST_REL_DEL_GROUP, TQ__ARGS(TQ__ARG_INT(gid)),
                               "drop group releases", NULL, err);
        if (rc == TQ_OK)
            rc = tq__store_run(c, ST_GROUP_DELETE, TQ__ARGS(TQ__ARG_INT(gid)), "delete group", NULL,
                               err);
        return rc;
    case TQ_CHANGE_MEMBER_SET:
        rc = tq__store_lookup_key(c, ST_GROUP_GID, ch->name, &gid, "group", err);
        if (rc == TQ_OK)
            rc = tq__store_partner_pid(c, ch->member, &pid, err);
        if (rc == TQ_OK)
            rc = tq__store_run(c, ch->is_member ? ST_MEMBER_ADD : ST_MEMBER_DELETE,
                               TQ__ARGS(TQ__ARG_INT(gid), TQ__ARG_INT(pid)), "set group member",
                               &res, err);
        if (rc == TQ_OK && !ch->is_member && res.changes)
            rc = tq__store_run(c, ST_REL_DEL_PARTNER, TQ__ARGS(TQ__ARG_INT(pid)),
                               "drop partner releases", NULL, err);
        return rc;
    case TQ_CHANGE_COLLECTION_POLICY:
        rc = tq__store_collection_resolve(c, ch->collection_id, &cid, NULL, err);
        if (rc == TQ_OK)
            rc = tq__store_run(c, ST_CPOL_SET,
                               TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_INT(ch->policy->default_tlp),
                                        TQ__ARG_TEXT(ch->policy->audience && *ch->policy->audience
                                                         ? ch->policy->audience
                                                         : NULL)),
                               "write collection policy", NULL, err);
        if (rc == TQ_OK)
            rc = tq__store_run(c, ST_REL_DEL_COLL, TQ__ARGS(TQ__ARG_INT(cid)),
                               "drop collection releases", NULL, err);
        return rc;
    case TQ_CHANGE_PERM_SET:
        return change_perm(c, ch, err);
    case TQ_CHANGE_FACTS:
        return change_facts(c, ch, err);
    }
    return tq_err_set(err, TQ_EINVAL, "store: unknown configuration change");
}

/* Facts of a version from FACTS_COLS starting at column col; strings borrowed from st. */
static void facts_from_row(struct tq__stmt *st, int col, struct tq_store_facts *f)
{
    f->tlp = (int)tq__db_col_int64(st, col);
    f->no_further_sharing = (int)tq__db_col_int64(st, col + 1) != 0;
    f->release_to = (const char *)tq__db_col_text(st, col + 2);
    f->origin = (const char *)tq__db_col_text(st, col + 3);
    f->remote_collection = (const char *)tq__db_col_text(st, col + 4);
    f->received_us = tq__db_col_int64(st, col + 5);
    f->restrict_to = (const char *)tq__db_col_text(st, col + 6);
    f->pending = (const char *)tq__db_col_text(st, col + 7);
    f->not_understood = (const char *)tq__db_col_text(st, col + 8);
}

/* Owned copies of borrowed facts (tq__store_facts_cleanup frees them). */
static void facts_dup(const struct tq_store_facts *f, struct tq_store_facts *out)
{
    *out = *f;
    out->release_to = tq__store_dup_or_null(f->release_to);
    out->restrict_to = tq__store_dup_or_null(f->restrict_to);
    out->pending = tq__store_dup_or_null(f->pending);
    out->not_understood = tq__store_dup_or_null(f->not_understood);
    out->origin = tq__store_dup_or_null(f->origin);
    out->remote_collection = tq__store_dup_or_null(f->remote_collection);
}

/*
 * Decide every version of one collection again. The release rows of the collection are
 * dropped first; versions are then visited in (id, version) order, each new row written as
 * first and last, and the flags of objects with several versions recomputed at the end of the
 * object.
 */
static tq_rc rewrite_collection(struct tq__conn *c, struct tq__store_view *v, int64_t cid,
                                const char *uuid, tq_store_decide_cb decide, void *ud,
                                struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    struct tq_store_facts f;
    char *prev = NULL;
    size_t versions = 0;
    tq_rc rc;
    int src;

    int64_t last_before = 0;

    rc = tq__store_view_collection(c, v, cid, uuid, err);
    if (rc == TQ_OK)
        rc = tq__store_collection_resolve(c, uuid, &cid, &last_before, err);
    v->last_added = last_before;
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_REL_DEL_COLL, TQ__ARGS(TQ__ARG_INT(cid)),
                           "drop collection releases", NULL, err);
    if (rc == TQ_OK)
        rc = tq__store_stmt_get(c, ST_VERSIONS_COLL, &st, err);
    if (rc)
        return rc;
    tq__db_bind_int64(st, 1, cid);
    for (;;) {
        const char *id;

        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        id = (const char *)tq__db_col_text(st, 0);
        if (!id) {
            src = TQ__DB_NOMEM;
            break;
        }
        if (!prev || strcmp(prev, id) != 0) {
            if (prev && versions > 1)
                rc = tq__store_run(c, ST_REL_REFLAG, TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_TEXT(prev)),
                                   "update version flags", NULL, err);
            tq_free(prev);
            prev = tq_xstrdup(id);
            versions = 0;
        }
        versions++;
        facts_from_row(st, 2, &f);
        if (rc == TQ_OK)
            rc = tq__store_release_version(c, v, cid, tq__db_col_int64(st, 1), &f, true, decide, ud,
                                           NULL, err);
        if (rc)
            break;
    }
    if (rc == TQ_OK && src != TQ__DB_DONE && src != TQ__DB_ROW)
        rc = tq__store_fail(err, c->db, src, "read release facts");
    tq__store_stmt_done(st);
    if (rc == TQ_OK && prev && versions > 1)
        rc = tq__store_run(c, ST_REL_REFLAG, TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_TEXT(prev)),
                           "update version flags", NULL, err);
    tq_free(prev);
    if (rc == TQ_OK && v->last_added != last_before)
        rc = tq__store_run(c, ST_COLL_SET_LAST,
                           TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_INT(v->last_added)),
                           "update last date_added", NULL, err);
    return rc;
}

/* Every collection's key and UUID, for a rewrite of all of them. */
static tq_rc collection_keys(struct tq__conn *c, int64_t **cids, char ***uuids, size_t *n,
                             struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    size_t cap = 0, cap2 = 0;
    tq_rc rc;
    int src;

    *cids = NULL;
    *uuids = NULL;
    *n = 0;
    rc = tq__store_stmt_get(c, ST_COLL_CIDS, &st, err);
    if (rc)
        return rc;
    for (;;) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        if (*n == cap2) {
            cap2 = cap2 ? cap2 * 2 : 8;
            *cids = tq_xrealloc(*cids, cap2 * sizeof(**cids));
        }
        (*cids)[*n] = tq__db_col_int64(st, 0);
        tq__store_vec_push(uuids, *n, &cap, tq__store_column_dup(st, 1));
        (*n)++;
    }
    tq__store_stmt_done(st);
    if (src != TQ__DB_DONE)
        return tq__store_fail(err, c->db, src, "list collections");
    return TQ_OK;
}

/*
 * Inside the open write transaction, before ch is applied: copy the release rows that applying
 * ch and then (rewrite) deciding collection_id (NULL: every collection) again may remove. Rows
 * outside that scope cannot change, and a rewrite only adds rows inside it. *track is false
 * when neither step can change any release row, so that there is nothing to log.
 */
static tq_rc rel_copy(struct tq__conn *c, const struct tq_store_change *ch, bool rewrite,
                      const char *collection_id, bool *track, struct tq_err *err)
{
    static const char what[] = "copy release rows";
    tq_rc rc;

    *track = false;
    rc = tq__store_run(c, ST_REL_SNAP_CLEAR, NULL, 0, what, NULL, err);
    if (rc)
        return rc;
    if (rewrite) {
        *track = true;
        if (!collection_id)
            return tq__store_run(c, ST_REL_SNAP_ALL, NULL, 0, what, NULL, err);
        rc = tq__store_run(c, ST_REL_SNAP_COLL, TQ__ARGS(TQ__ARG_TEXT(collection_id)), what, NULL,
                           err);
        if (rc)
            return rc;
    }
    switch (ch->kind) {
    case TQ_CHANGE_PARTNER_DELETE:
        *track = true;
        return tq__store_run(c, ST_REL_SNAP_PARTNER, TQ__ARGS(TQ__ARG_TEXT(ch->name)), what, NULL,
                             err);
    case TQ_CHANGE_MEMBER_SET:
        if (ch->is_member)
            return TQ_OK;
        *track = true;
        return tq__store_run(c, ST_REL_SNAP_PARTNER, TQ__ARGS(TQ__ARG_TEXT(ch->member)), what, NULL,
                             err);
    case TQ_CHANGE_GROUP_DELETE:
        *track = true;
        return tq__store_run(c, ST_REL_SNAP_GROUP, TQ__ARGS(TQ__ARG_TEXT(ch->name)), what, NULL,
                             err);
    case TQ_CHANGE_COLLECTION_POLICY:
    case TQ_CHANGE_FACTS:
        *track = true;
        return tq__store_run(c, ST_REL_SNAP_COLL, TQ__ARGS(TQ__ARG_TEXT(ch->collection_id)), what,
                             NULL, err);
    case TQ_CHANGE_PERM_SET:
        *track = true;
        return strcmp(ch->collection_id, "*") == 0
                   ? tq__store_run(c, ST_REL_SNAP_ALL, NULL, 0, what, NULL, err)
                   : tq__store_run(c, ST_REL_SNAP_COLL, TQ__ARGS(TQ__ARG_TEXT(ch->collection_id)),
                                   what, NULL, err);
    case TQ_CHANGE_NONE:
    case TQ_CHANGE_PARTNER_PUT:
    case TQ_CHANGE_GROUP_ADD:
        break;
    }
    return TQ_OK;
}

/*
 * One leaf of kind per row of a diff statement (partner, collection UUID, object id, version,
 * digest), recorded like the "released" leaves of a put but at at_us, the time of the change.
 */
static tq_rc rel_log_rows(struct tq__conn *c, enum tq__stmt_id id, int64_t cid, const char *kind,
                          int64_t at_us, struct tq_err *err)
{
    struct tq_store_audit_event ev = {0};
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = tq__store_stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    if (cid >= 0)
        tq__db_bind_int64(st, 1, cid);
    for (;;) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        ev = (struct tq_store_audit_event){
            .kind = kind,
            .at_us = at_us,
            .partner = (const char *)tq__db_col_text(st, 0),
            .collection = (const char *)tq__db_col_text(st, 1),
            .object = (const char *)tq__db_col_text(st, 2),
            .version_us = tq__db_col_int64(st, 3),
            .sha256 = tq__db_col_bytes(st, 4) == 32 ? tq__db_col_blob(st, 4) : NULL,
        };
        if (!ev.partner || !ev.collection || !ev.object) {
            src = TQ__DB_NOMEM;
            break;
        }
        rc = tq__store_audit_insert(c, &ev, err);
        if (rc)
            break;
    }
    if (rc == TQ_OK && src != TQ__DB_DONE)
        rc = tq__store_fail(err, c->db, src, "read changed release rows");
    tq__store_stmt_done(st);
    return rc;
}

/*
 * After the change (and the rewrite): a "withdrawn" leaf for every copied row that is gone,
 * then a "released" leaf for every row of the rewritten scope (cid, or every collection when
 * cid < 0) that was not there before; rows that stayed write nothing. Each group is ordered by
 * collection, date_added and partner name.
 */
static tq_rc rel_log(struct tq__conn *c, bool rewrite, int64_t cid, int64_t at_us,
                     struct tq_err *err)
{
    tq_rc rc;

    rc = rel_log_rows(c, ST_REL_WITHDRAWN, -1, "withdrawn", at_us, err);
    if (rc == TQ_OK && rewrite)
        rc = rel_log_rows(c, cid >= 0 ? ST_REL_ADDED_COLL : ST_REL_ADDED_ALL, cid, "released",
                          at_us, err);
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_REL_SNAP_CLEAR, NULL, 0, "clear release copy", NULL, err);
    return rc;
}

/*
 * Apply a configuration change and, with rewrite, decide collection_id's versions (NULL: every
 * collection's) again, in one write transaction that also logs the release rows this removed
 * and added (rel_copy, rel_log), all at one time taken under the write lock.
 */
tq_rc tq__engine_release_rewrite(struct tq_store *store, const struct tq_store_change *change,
                                 bool rewrite, const char *collection_id, tq_store_decide_cb decide,
                                 void *ud, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__store_view v = {0};
    int64_t *cids = NULL;
    char **uuids = NULL;
    size_t n = 0, i;
    int64_t now;
    bool track = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    now = tq_time_now_us();
    rc = rel_copy(c, change, rewrite, collection_id, &track, err);
    if (rc == TQ_OK)
        rc = change_apply(c, change, err);
    if (rc == TQ_OK && rewrite) {
        if (collection_id) {
            cids = tq_xcalloc(1, sizeof(*cids));
            uuids = tq_xcalloc(1, sizeof(*uuids));
            uuids[0] = tq_xcalloc(1, 37);
            n = 1;
            rc = tq__store_collection_resolve(c, collection_id, &cids[0], NULL, err);
            if (rc == TQ_OK)
                rc = tq__store_collection_uuid(c, collection_id, uuids[0], err);
        } else {
            rc = collection_keys(c, &cids, &uuids, &n, err);
        }
        if (rc == TQ_OK)
            rc = tq__store_view_load(c, &v, err);
        for (i = 0; rc == TQ_OK && i < n; i++)
            rc = rewrite_collection(c, &v, cids[i], uuids[i], decide, ud, err);
    }
    if (rc == TQ_OK && track)
        rc = rel_log(c, rewrite, rewrite && collection_id ? cids[0] : -1, now, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_view_cleanup(&v);
    tq_free(cids);
    tq_store_names_free(uuids, n);
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_release_view_get(struct tq_store *store, const char *collection_id,
                                  struct tq_store_release_view_data **out, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__store_view v = {0};
    int64_t cid = 0;
    char uuid[37];
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    /* One read transaction, so that partners, members and the default agree. */
    rc = tq__store_run(c, ST_BEGIN, NULL, 0, "begin read", NULL, err);
    if (rc == TQ_OK)
        rc = tq__store_collection_resolve(c, collection_id, &cid, NULL, err);
    if (rc == TQ_OK)
        rc = tq__store_collection_uuid(c, collection_id, uuid, err);
    if (rc == TQ_OK)
        rc = tq__store_view_load(c, &v, err);
    if (rc == TQ_OK)
        rc = tq__store_view_collection(c, &v, cid, uuid, err);
    if (rc == TQ_OK) {
        *out = v.d;
        v.d = NULL;
    }
    tq__store_view_cleanup(&v);
    tq__store_conn_put(s, c); /* ends the read transaction */
    return rc;
}

tq_rc tq__engine_version_info_get(struct tq_store *store, const char *collection_id,
                                  const char *object_id, int64_t version_us,
                                  struct tq_store_version_info *out, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq_store_version_info vi;
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct tq_store_facts f;
    const char *id;
    int64_t cid = 0;
    tq_rc rc;
    int src;

    memset(&vi, 0, sizeof(vi));
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_run(c, ST_BEGIN, NULL, 0, "begin read", NULL, err);
    if (rc == TQ_OK)
        rc = tq__store_collection_resolve(c, collection_id, &cid, NULL, err);
    if (rc == TQ_OK)
        rc = tq__store_stmt_get(
            c, version_us == TQ_STORE_VERSION_LATEST ? ST_VINFO_LAST : ST_VINFO_AT, &st, err);
    if (rc)
        goto out;
    tq__db_bind_int64(st, 1, cid);
    tq__store_bind_text(st, 2, object_id);
    if (version_us != TQ_STORE_VERSION_LATEST)
        tq__db_bind_int64(st, 3, version_us);
    src = tq__db_step(st);
    if (src == TQ__DB_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no such version of '%.*s'", TQ_STIX_ID_MAX,
                        object_id);
        goto out;
    }
    if (src != TQ__DB_ROW) {
        rc = tq__store_fail(err, c->db, src, "read version");
        goto out;
    }
    id = tq__db_col_text(st, 0);
    snprintf(vi.id, sizeof(vi.id), "%s", id ? (const char *)id : "");
    vi.version_us = tq__db_col_int64(st, 1);
    vi.date_added_us = tq__db_col_int64(st, 2);
    facts_from_row(st, 3, &f);
    facts_dup(&f, &vi.facts);
    tq__store_stmt_done(st);
    st = NULL;
    rc = tq__store_stmt_get(c, ST_VINFO_RELEASED, &st, err);
    if (rc)
        goto out;
    tq__db_bind_int64(st, 1, cid);
    tq__db_bind_int64(st, 2, vi.date_added_us);
    rc = tq__store_collect_names(c, st, &vi.released_to, &vi.n_released, err);
    if (rc == TQ_OK) {
        *out = vi;
        memset(&vi, 0, sizeof(vi));
    }
out:
    tq_store_version_info_cleanup(&vi);
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_marking_get(struct tq_store *store, const char *collection_id, const char *id,
                             const char *origin, struct tq_store_marking *out, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    int64_t cid = -1;
    tq_rc rc;
    int src;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    if (collection_id) {
        rc = tq__store_collection_resolve(c, collection_id, &cid, NULL, err);
        if (rc == TQ_ENOTFOUND)
            rc = TQ_OK; /* then any collection */
        if (rc)
            goto out;
    }
    rc = tq__store_stmt_get(c, ST_MARKING_GET, &st, err);
    if (rc)
        goto out;
    tq__db_bind_int64(st, 1, cid);
    tq__store_bind_text(st, 2, id);
    tq__store_bind_text(st, 3, origin);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW) {
        out->json = tq__store_column_dup(st, 0);
        out->in_collection = (int)tq__db_col_int64(st, 1) != 0;
        out->sha256_known = tq__db_col_bytes(st, 2) == 32;
        if (out->sha256_known)
            memcpy(out->sha256, tq__db_col_blob(st, 2), 32);
        out->n_contents = (size_t)tq__db_col_int64(st, 3);
    } else if (src == TQ__DB_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no marking-definition '%.*s'", TQ_STIX_ID_MAX,
                        id);
    } else {
        rc = tq__store_fail(err, c->db, src, "read marking-definition");
    }
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_pending_list(struct tq_store *store, const char *marking_id,
                              struct tq_store_pending **out, size_t *n, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct tq_store_pending *v = NULL;
    struct tq_store_facts f;
    size_t cap = 0, k = 0;
    tq_rc rc;
    int src = TQ__DB_DONE;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_FACTS_PENDING, &st, err);
    if (rc == TQ_OK)
        tq__store_bind_text(st, 1, marking_id);
    while (rc == TQ_OK) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        if (k == cap) {
            cap = cap ? cap * 2 : 16;
            v = tq_xrealloc(v, cap * sizeof(*v));
        }
        memset(&v[k], 0, sizeof(v[k]));
        snprintf(v[k].collection_id, sizeof(v[k].collection_id), "%s",
                 (const char *)tq__db_col_text(st, 0));
        snprintf(v[k].id, sizeof(v[k].id), "%s", (const char *)tq__db_col_text(st, 1));
        v[k].version_us = tq__db_col_int64(st, 2);
        v[k].date_added_us = tq__db_col_int64(st, 3);
        v[k].json = tq__store_column_dup(st, 4);
        facts_from_row(st, 5, &f);
        facts_dup(&f, &v[k].facts);
        k++;
    }
    if (rc == TQ_OK && src != TQ__DB_DONE)
        rc = tq__store_fail(err, c->db, src, "list pending versions");
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    if (rc) {
        tq_store_pending_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return TQ_OK;
}
