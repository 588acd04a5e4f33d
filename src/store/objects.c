/* SPDX-License-Identifier: Apache-2.0
 *
 * store/objects.c - collections and object versions: put, query, delete, count.
 * put assigns date_added under the write lock (max(now, last_date_added + 1), unique and
 * increasing per collection), keeps the first/last flags and writes each stored version's
 * facts, audit leaf and release rows in the same transaction. Queries page by a keyset cursor
 * on date_added; their SQL is built from fixed fragments, the driver's dialect fragments and
 * placeholders only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"

tq_rc tq__engine_collection_add(struct tq_store *store, const struct tq_collection *coll,
                                struct tq_err *err)
{
    struct tq__store_result res;
    tq_rc rc;

    rc = tq__store_write(tq__engine_of(store), ST_COLL_ADD,
                         TQ__ARGS(TQ__ARG_TEXT(coll->id), TQ__ARG_TEXT(coll->alias),
                                  TQ__ARG_TEXT(coll->title), TQ__ARG_TEXT(coll->description)),
                         "add collection", &res, err);
    if (rc && tq__store_is_duplicate(res.src))
        rc = tq_err_set(err, TQ_EEXIST, "store: collection id or alias already taken");
    return rc;
}

static void collection_from_row(struct tq__stmt *st, struct tq_collection *out)
{
    const char *id = tq__db_col_text(st, 0);

    memset(out, 0, sizeof(*out));
    if (id)
        snprintf(out->id, sizeof(out->id), "%s", (const char *)id);
    out->alias = tq__store_column_dup(st, 1);
    out->title = tq__store_column_dup(st, 2);
    out->description = tq__store_column_dup(st, 3);
}

static void collection_row(struct tq__stmt *st, void *elem)
{
    collection_from_row(st, elem);
}

tq_rc tq__engine_collection_get(struct tq_store *store, const char *id_or_alias,
                                struct tq_collection *out, struct tq_err *err)
{
    return tq__store_row_get(tq__engine_of(store), ST_COLL_GET, id_or_alias, 0, collection_row, out,
                             "collection", err);
}

static void collections_free(void *v, size_t n)
{
    tq_collection_list_free(v, n);
}

tq_rc tq__engine_collection_list(struct tq_store *store, struct tq_collection **out, size_t *n_out,
                                 struct tq_err *err)
{
    return tq__store_list_rows(tq__engine_of(store), ST_COLL_LIST, sizeof(**out), collection_row,
                               collections_free, "list collections", (void **)out, n_out, err);
}

static tq_rc check_object(const struct tq_stix_object *o, size_t i, struct tq_err *err)
{
    if (!o->id[0] || !o->type[0] || !o->spec_version[0] || !o->json)
        return tq_err_set(err, TQ_EINVAL, "store: object %zu lacks id, type, spec_version or json",
                          i);
    if (o->json_len > (size_t)INT32_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: object %zu is too large", i);
    if (o->version_us < -1)
        return tq_err_set(err, TQ_EINVAL, "store: object %zu has a negative version", i);
    return TQ_OK;
}

/* Store one object inside the open write transaction; see tq__engine_put_ex for the rules. */
static tq_rc put_one(struct tq__conn *c, int64_t cid, const struct tq_stix_object *o,
                     int64_t *last_da, enum tq_put_result *result, int64_t *da_out,
                     bool *had_versions, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    bool has = false, is_first, is_last;
    int64_t vmin = 0, vmax = 0, da, now;
    tq_rc rc;
    int src;

    rc = tq__store_stmt_get(c, ST_OBJ_MINMAX, &st, err);
    if (rc)
        goto out;
    tq__db_bind_int64(st, 1, cid);
    tq__db_bind_text(st, 2, o->id, -1);
    src = tq__db_step(st);
    if (src != TQ__DB_ROW) {
        rc = tq__store_fail(err, c->db, src, "read object versions");
        goto out;
    }
    if (!tq__db_col_is_null(st, 0)) {
        has = true;
        vmin = tq__db_col_int64(st, 0);
        vmax = tq__db_col_int64(st, 1);
    }
    tq__store_stmt_done(st);
    st = NULL;
    *had_versions = has;

    if (has && o->version_us >= vmin && o->version_us <= vmax) {
        rc = tq__store_stmt_get(c, ST_OBJ_LOOKUP, &st, err);
        if (rc)
            goto out;
        tq__db_bind_int64(st, 1, cid);
        tq__db_bind_text(st, 2, o->id, -1);
        tq__db_bind_int64(st, 3, o->version_us);
        src = tq__db_step(st);
        if (src == TQ__DB_ROW) {
            *result = TQ_PUT_PRESENT;
            *da_out = tq__db_col_int64(st, 0);
            goto out;
        }
        if (src != TQ__DB_DONE) {
            rc = tq__store_fail(err, c->db, src, "look up object version");
            goto out;
        }
        tq__store_stmt_done(st);
        st = NULL;
    }

    is_first = !has || o->version_us < vmin;
    is_last = !has || o->version_us > vmax;
    if (has && is_first) {
        rc = tq__store_run(c, ST_OBJ_CLEAR_FIRST, TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_TEXT(o->id)),
                           "update version flags", NULL, err);
        if (rc)
            goto out;
    }
    if (has && is_last) {
        rc = tq__store_run(c, ST_OBJ_CLEAR_LAST, TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_TEXT(o->id)),
                           "update version flags", NULL, err);
        if (rc)
            goto out;
    }

    now = tq_time_now_us();
    da = now > *last_da ? now : *last_da + 1;

    rc = tq__store_stmt_get(c, ST_OBJ_INSERT, &st, err);
    if (rc)
        goto out;
    tq__db_bind_int64(st, 1, cid);
    tq__db_bind_text(st, 2, o->id, -1);
    tq__db_bind_int64(st, 3, o->version_us);
    tq__db_bind_int64(st, 4, da);
    tq__db_bind_text(st, 5, o->type, -1);
    tq__db_bind_text(st, 6, o->spec_version, -1);
    tq__db_bind_int64(st, 7, is_first);
    tq__db_bind_int64(st, 8, is_last);
    tq__db_bind_text(st, 9, o->json, (int)o->json_len);
    src = tq__db_step(st);
    if (src != TQ__DB_DONE) {
        rc = tq__store_fail(err, c->db, src, "insert object");
        goto out;
    }
    *last_da = da;
    *result = TQ_PUT_STORED;
    *da_out = da;
out:
    tq__store_stmt_done(st);
    return rc;
}

/*
 * Store the objects in one write transaction. For each one: an (id, version) already in the
 * collection is reported PRESENT with its existing date_added and nothing changes; otherwise
 * the version is inserted with date_added = max(now, last_date_added + 1), and the first/last
 * flags of the object's versions are moved when the new version is older than the oldest or
 * newer than the newest. Its facts are written beside it and, with a decision callback, its
 * release rows; a new version of a known object has the visible first/last of every partner
 * recomputed from the release rows. The collection's last_date_added is written back before
 * COMMIT. Every stored version and every release row written for it gets its audit leaf in the
 * same transaction; the SHA-256 of each object's JCS form is computed before the write lock.
 */
tq_rc tq__engine_put_ex(struct tq_store *store, const char *collection_id,
                        const struct tq_stix_object *objs, const struct tq_store_facts *facts,
                        size_t n, tq_store_decide_cb decide, void *ud, enum tq_put_result *results,
                        int64_t *date_added_us, struct tq_err *err)
{
    static const struct tq_store_facts local = {0};
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__store_view v = {0};
    struct tq_store_audit_event ev = {0};
    struct tq__store_audit_put ap = {0};
    uint8_t(*sha)[32] = NULL;
    int64_t cid = 0, last_da = 0, last_da_before, da = 0;
    enum tq_put_result res = TQ_PUT_STORED;
    char uuid[37];
    bool had = false;
    size_t i;
    tq_rc rc;

    for (i = 0; i < n; i++) {
        rc = check_object(&objs[i], i, err);
        if (rc)
            return rc;
    }
    sha = tq_xcalloc(n ? n : 1, sizeof(*sha));
    for (i = 0; i < n; i++) {
        rc = tq_stix_object_sha256(&objs[i], sha[i], err);
        if (rc) {
            tq_free(sha);
            return rc;
        }
    }
    rc = tq__store_conn_get(s, &c, err);
    if (rc) {
        tq_free(sha);
        return rc;
    }
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = tq__store_collection_resolve(c, collection_id, &cid, &last_da, err);
    if (rc == TQ_OK)
        rc = tq__store_collection_uuid(c, collection_id, uuid, err);
    if (rc == TQ_OK && decide)
        rc = tq__store_view_load(c, &v, err);
    if (rc == TQ_OK && decide)
        rc = tq__store_view_collection(c, &v, cid, uuid, err);
    last_da_before = last_da;
    for (i = 0; rc == TQ_OK && i < n; i++) {
        const struct tq_store_facts *f = facts ? &facts[i] : &local;

        rc = put_one(c, cid, &objs[i], &last_da, &res, &da, &had, err);
        if (rc)
            break;
        if (results)
            results[i] = res;
        if (date_added_us)
            date_added_us[i] = da;
        if (res != TQ_PUT_STORED)
            continue;
        rc = tq__store_insert_facts(c, cid, da, f, sha[i], err);
        ev = (struct tq_store_audit_event){.kind = "stored",
                                           .at_us = da,
                                           .collection = uuid,
                                           .object = objs[i].id,
                                           .version_us = objs[i].version_us,
                                           .sha256 = sha[i]};
        if (rc == TQ_OK)
            rc = tq__store_audit_insert(c, &ev, err);
        ap = (struct tq__store_audit_put){
            .collection = uuid, .obj = &objs[i], .sha256 = sha[i], .at_us = da};
        if (rc == TQ_OK && decide)
            rc = tq__store_release_version(c, &v, cid, da, f, !had, decide, ud, &ap, err);
        if (rc == TQ_OK && decide && had)
            rc = tq__store_run(c, ST_REL_REFLAG,
                               TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_TEXT(objs[i].id)),
                               "update version flags", NULL, err);
    }
    if (rc == TQ_OK && last_da != last_da_before)
        rc = tq__store_run(c, ST_COLL_SET_LAST, TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_INT(last_da)),
                           "update last date_added", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_view_cleanup(&v);
    tq__store_conn_put(s, c);
    tq_free(sha);
    return rc;
}

/*
 * Values to bind, in placeholder order, collected while the SQL text is built. The capacity
 * covers every filter at its TQ_QUERY_MAX_LIST limit (checked by store.c) plus the scalars.
 */
#define MAX_BINDS (4 * TQ_QUERY_MAX_LIST + 8)

struct bind {
    bool is_text;
    int64_t i;
    struct tq_str s;
};

struct sql_build {
    struct tq_buf sql;
    struct bind binds[MAX_BINDS];
    size_t n_binds;
    tq_rc rc; /* first append failure; later appends are skipped */
};

static void sb_add(struct sql_build *b, const char *text)
{
    if (b->rc == TQ_OK)
        b->rc = tq_buf_append_c(&b->sql, text);
}

static void sb_int(struct sql_build *b, const char *text, int64_t v)
{
    sb_add(b, text);
    if (b->n_binds < MAX_BINDS) {
        b->binds[b->n_binds].is_text = false;
        b->binds[b->n_binds].i = v;
    }
    b->n_binds++;
}

/* " AND <hint>column IN (?, ?, ...)" for a list of strings (hint: the dialect's no_index or ""). */
static void sb_str_list(struct sql_build *b, const char *hint, const char *column,
                        const struct tq_str *v, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    sb_add(b, " AND ");
    sb_add(b, hint);
    sb_add(b, column);
    sb_add(b, " IN (");
    for (i = 0; i < n; i++) {
        sb_add(b, i ? ", ?" : "?");
        if (b->n_binds < MAX_BINDS) {
            b->binds[b->n_binds].is_text = true;
            b->binds[b->n_binds].s = v[i];
        }
        b->n_binds++;
    }
    sb_add(b, ")");
}

/*
 * The match[version] condition. flags == 0 takes the caller's default (LAST for reads, ALL for
 * deletes); ALL overrides everything; the other selectors are OR-ed.
 */
static void sb_versions(struct sql_build *b, const struct tq_store_query *q, unsigned dflt,
                        const char *col_first, const char *col_last, const char *col_version)
{
    unsigned flags = q->version_flags ? q->version_flags : dflt;
    const char *sep = "";
    size_t i;

    if (flags & TQ_MATCH_ALL)
        return;
    sb_add(b, " AND (");
    if (flags & TQ_MATCH_LAST) {
        sb_add(b, col_last);
        sep = " OR ";
    }
    if (flags & TQ_MATCH_FIRST) {
        sb_add(b, sep);
        sb_add(b, col_first);
        sep = " OR ";
    }
    if ((flags & TQ_MATCH_TIMES) && q->n_versions) {
        sb_add(b, sep);
        sb_add(b, col_version);
        sb_add(b, " IN (");
        for (i = 0; i < q->n_versions; i++)
            sb_int(b, i ? ", ?" : "?", q->versions[i]);
        sb_add(b, ")");
        sep = " OR ";
    }
    if (!*sep)
        sb_add(b, "1 = 0"); /* TIMES with no time: store.c refuses it, but never match all */
    sb_add(b, ")");
}

/* Prepare (or fetch from the cache) the built statement and bind its values. */
static tq_rc sb_prepare(struct tq__conn *c, struct sql_build *b, struct tq__stmt **out,
                        struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    size_t i;
    tq_rc rc;

    if (b->rc)
        return tq_err_set(err, b->rc, "store: query text too long");
    if (b->n_binds > MAX_BINDS)
        return tq_err_set(err, TQ_EINVAL, "store: too many query values");
    rc = tq__store_dyn_get(c, b->sql.ptr, &st, err);
    if (rc)
        return rc;
    for (i = 0; i < b->n_binds; i++) {
        if (b->binds[i].is_text)
            tq__store_bind_str(st, (int)i + 1, b->binds[i].s);
        else
            tq__db_bind_int64(st, (int)i + 1, b->binds[i].i);
    }
    *out = st;
    return TQ_OK;
}

#define SQL_TEXT_MAX (64 * 1024)
#define QUERY_LIMIT_MAX ((size_t)1 << 40)

/* The bounds of one page: collection and partner keys, the exclusive lower date_added. */
struct page_bounds {
    int64_t cid;
    int64_t pid; /* with q->partner */
    bool has_lower;
    int64_t lower;
    size_t limit;
};

/*
 * The SQL text and values of one page of q. With an id restriction the (collection, id,
 * version_us) key finds a handful of rows and sorting them is cheap; without statistics a
 * planner may rather walk the whole collection in date_added order to avoid that sort, or pick
 * the type index. The dialect's no_index prefix takes date_added_us and type out of index
 * selection for those queries only, and its ordered_join keeps the loop order of the partner
 * shapes (plans in docs/internals/store.md).
 */
static void query_sql(struct sql_build *b, const struct tq__store_dialect *d,
                      const struct tq_store_query *q, bool with_json, const struct page_bounds *pb)
{
    bool by_id = q->object_id || q->n_ids;
    const char *hint = by_id ? d->no_index : "";

    /* A partner's date_added is when the version was released to it (releases.added_us). */
    sb_add(b, q->partner ? "SELECT o.id, r.added_us, o.version_us, o.spec_version, o.date_added_us"
                         : "SELECT o.id, o.date_added_us, o.version_us, o.spec_version, "
                           "o.date_added_us");
    sb_add(b, with_json ? ", o.json" : "");
    if (!q->partner) {
        sb_int(b, " FROM objects o WHERE o.collection = ?", pb->cid);
    } else if (by_id) {
        /* Few versions of one object, each checked against the partner's release key. */
        sb_add(b, " FROM objects o");
        sb_add(b, d->ordered_join);
        sb_int(b, "releases r WHERE o.collection = ?", pb->cid);
        sb_int(b,
               " AND r.pid = ? AND r.collection = o.collection"
               " AND r.date_added_us = o.date_added_us",
               pb->pid);
    } else {
        /*
         * The partner's own rows in the order they were released to it (the releases primary
         * key), each joined to its object: a page reads only what the partner may see, however
         * much is withheld.
         */
        sb_add(b, " FROM releases r");
        sb_add(b, d->ordered_join);
        sb_int(b, "objects o WHERE r.pid = ?", pb->pid);
        sb_int(b, " AND r.collection = ? AND o.rid = r.rid", pb->cid);
    }
    if (q->object_id) {
        sb_add(b, " AND o.id = ?");
        b->binds[b->n_binds].is_text = true;
        b->binds[b->n_binds].s = tq_str_c(q->object_id);
        b->n_binds++;
    }
    if (pb->has_lower) {
        sb_add(b, " AND ");
        sb_add(b, q->partner ? "" : hint);
        sb_int(b, q->partner ? "r.added_us > ?" : "o.date_added_us > ?", pb->lower);
    }
    sb_str_list(b, "", "o.id", q->ids, q->n_ids);
    sb_str_list(b, hint, "o.type", q->types, q->n_types);
    sb_str_list(b, "", "o.spec_version", q->spec_versions, q->n_spec_versions);
    if (q->partner)
        sb_versions(b, q, TQ_MATCH_LAST, "r.vis_first", "r.vis_last", "o.version_us");
    else
        sb_versions(b, q, TQ_MATCH_LAST, "o.is_first", "o.is_last", "o.version_us");
    /* One row beyond the page tells whether more remain, without a COUNT. */
    sb_add(b, " ORDER BY ");
    sb_add(b, hint);
    sb_int(b, q->partner ? "r.added_us LIMIT ?" : "o.date_added_us LIMIT ?",
           (int64_t)pb->limit + 1);
}

tq_rc tq__engine_query(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                       tq_store_row_cb cb, void *ud, struct tq_store_page_info *info,
                       struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct sql_build *b = tq_xcalloc(1, sizeof(*b));
    struct tq_store_page_info pi = {.first_date_added_us = -1, .last_date_added_us = -1};
    struct tq_store_row row;
    size_t limit = q->limit < QUERY_LIMIT_MAX ? q->limit : QUERY_LIMIT_MAX;
    struct page_bounds pb;
    bool has_lower = false;
    int64_t cid = 0, lower = 0, pid = 0;
    tq_rc rc;
    int src;

    pi.next.date_added_us = -1;
    tq_buf_init(&b->sql, SQL_TEXT_MAX);
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = tq__store_collection_resolve(c, q->collection_id, &cid, NULL, err);
    if (rc)
        goto out;

    /*
     * date_added is unique within a collection (UNIQUE (collection, date_added_us)), and a
     * partner's within its view of it (the releases key), so the (date_added, id) order is the
     * date_added order and "strictly after the cursor" is "date_added greater than the
     * cursor's"; added_after is the same kind of bound.
     */
    if (q->has_added_after) {
        has_lower = true;
        lower = q->added_after_us;
    }
    if (q->has_cursor && (!has_lower || q->cursor.date_added_us > lower)) {
        has_lower = true;
        lower = q->cursor.date_added_us;
    }

    /*
     * A partner's query joins the releases table: an unknown partner sees nothing, exactly
     * like one to whom nothing is released.
     */
    if (q->partner) {
        rc = tq__store_partner_pid(c, q->partner, &pid, err);
        if (rc == TQ_ENOTFOUND) {
            *info = pi;
            rc = TQ_OK;
            goto out;
        }
        if (rc)
            goto out;
    }

    pb = (struct page_bounds){
        .cid = cid, .pid = pid, .has_lower = has_lower, .lower = lower, .limit = limit};
    query_sql(b, s->drv->dialect, q, with_json, &pb);
    rc = sb_prepare(c, b, &st, err);
    if (rc)
        goto out;
    for (;;) {
        src = tq__db_step(st);
        if (src == TQ__DB_DONE)
            break;
        if (src != TQ__DB_ROW) {
            rc = tq__store_fail(err, c->db, src, "query objects");
            goto out;
        }
        if (pi.n == limit) {
            pi.more = true;
            break;
        }
        /* Every pointer borrows SQLite's column memory, valid until the next step. */
        row.id = (const char *)tq__db_col_text(st, 0);
        row.date_added_us = tq__db_col_int64(st, 1);
        row.version_us = tq__db_col_int64(st, 2);
        row.spec_version = (const char *)tq__db_col_text(st, 3);
        row.stored_us = tq__db_col_int64(st, 4);
        row.json = NULL;
        row.json_len = 0;
        if (with_json) {
            row.json = (const char *)tq__db_col_text(st, 5);
            row.json_len = (size_t)tq__db_col_bytes(st, 5);
        }
        if (!row.id || !row.spec_version || (with_json && !row.json)) {
            rc = tq__store_fail(err, c->db, TQ__DB_NOMEM, "read object row");
            goto out;
        }
        if (pi.n == 0)
            pi.first_date_added_us = row.date_added_us;
        pi.last_date_added_us = row.date_added_us;
        pi.next.date_added_us = row.date_added_us;
        snprintf(pi.next.id, sizeof(pi.next.id), "%s", row.id);
        pi.n++;
        rc = cb(ud, &row);
        if (rc)
            goto out;
    }
    *info = pi;
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    tq_buf_cleanup(&b->sql);
    tq_free(b);
    return rc;
}

tq_rc tq__engine_del(struct tq_store *store, const struct tq_store_query *q, size_t *deleted,
                     struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct sql_build *b = tq_xcalloc(1, sizeof(*b));
    int64_t cid = 0;
    size_t n = 0;
    tq_rc rc;
    int src;

    tq_buf_init(&b->sql, SQL_TEXT_MAX);
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = tq__store_collection_resolve(c, q->collection_id, &cid, NULL, err);
    if (rc == TQ_OK) {
        sb_int(b, "DELETE FROM objects WHERE collection = ?", cid);
        sb_add(b, " AND id = ?");
        b->binds[b->n_binds].is_text = true;
        b->binds[b->n_binds].s = tq_str_c(q->object_id);
        b->n_binds++;
        sb_str_list(b, "", "spec_version", q->spec_versions, q->n_spec_versions);
        sb_versions(b, q, TQ_MATCH_ALL, "is_first", "is_last", "version_us");
        rc = sb_prepare(c, b, &st, err);
    }
    if (rc == TQ_OK) {
        src = tq__db_step(st);
        if (src != TQ__DB_DONE)
            rc = tq__store_fail(err, c->db, src, "delete object versions");
        else
            n = (size_t)tq__db_changes(c->db);
        tq__store_stmt_done(st);
        st = NULL;
    }
    if (rc == TQ_OK && n == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no matching version of '%.*s'", TQ_STIX_ID_MAX,
                        q->object_id);
    /* The survivors' oldest and newest may have changed. */
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_OBJ_REFLAG, TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_TEXT(q->object_id)),
                           "update version flags", NULL, err);
    /* The versions each partner sees may have lost their first or last one too. */
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_REL_REFLAG, TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_TEXT(q->object_id)),
                           "update version flags", NULL, err);
    /* Incidents went with the versions, and an older version may be the last again: the
     * in-memory summaries (inc_cache.c) are built again. */
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_INC_GEN_BUMP, NULL, 0, "bump incidents generation", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
    if (rc == TQ_OK)
        *deleted = n;
out:
    tq__store_conn_put(s, c);
    tq_buf_cleanup(&b->sql);
    tq_free(b);
    return rc;
}

tq_rc tq__engine_count(struct tq_store *store, const char *collection_id, uint64_t *count,
                       struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__store_arg arg;
    int64_t cid = 0, n = 0;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    if (collection_id) {
        rc = tq__store_collection_resolve(c, collection_id, &cid, NULL, err);
        if (rc)
            goto out;
    }
    arg = TQ__ARG_INT(cid);
    rc = tq__store_read_int64(c, collection_id ? ST_COUNT_COLL : ST_COUNT_ALL, &arg,
                              collection_id ? 1 : 0, &n, NULL, "count objects", err);
    if (rc == TQ_OK)
        *count = (uint64_t)n;
out:
    tq__store_conn_put(s, c);
    return rc;
}
