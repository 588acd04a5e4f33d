/* SPDX-License-Identifier: Apache-2.0
 *
 * store/monitor.c - what border monitoring keeps (tansiq/monitor_store.h): administrative units,
 * located incidents, the correlation index, alert rules and alerts.
 *
 * Incidents and occurrences hang off an object version and cascade from it. Every read of them
 * is filtered inside its statement by who reads (struct tq_store_reader): the node sees each
 * object's latest version, a user the same in the collections it may read, a partner the latest
 * version released to it; a page's limit and its "more" are counted over visible rows only.
 * Reads fetch a whole page, give the connection back, then call the callback, so a callback may
 * use the store itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"
#include "tansiq/monitor_store.h"

/* ---- readers -------------------------------------------------------------------------- */

/* How a statement sees its reader: ?1 mode, ?2 permission key, ?3 partner key. */
enum reader_mode { READ_NODE = 0, READ_USER = 1, READ_PARTNER = 2 };

struct reader_args {
    int64_t mode;
    const char *key;
    int64_t pid;
};

/*
 * The reader's arguments; *none is set when the reader can see nothing at all (a partner this
 * node does not know), which the caller answers as an empty page.
 */
static tq_rc reader_resolve(struct tq__conn *c, const struct tq_store_reader *r,
                            struct reader_args *out, bool *none, struct tq_err *err)
{
    tq_rc rc;

    int64_t one = 0;
    bool any = false;

    *out = (struct reader_args){.mode = READ_NODE, .pid = -1};
    *none = false;
    if (!r)
        return TQ_OK;
    out->key = r->perm_key;
    out->mode = r->partner ? READ_PARTNER : READ_USER;
    /* A reader who may read nothing at all is answered at once, rather than by a walk of every
     * row that finds none of them visible. */
    rc = tq__store_read_int64(c, ST_READER_ANY, TQ__ARGS(TQ__ARG_TEXT(r->perm_key)), &one, &any,
                              "read permissions", err);
    if (rc == TQ_OK && !any)
        *none = true;
    if (rc || !any || !r->partner)
        return rc;
    rc = tq__store_partner_pid(c, r->partner, &out->pid, err);
    if (rc == TQ_ENOTFOUND) {
        *none = true;
        rc = TQ_OK;
    }
    return rc;
}

/* Grow a vector of elem_size elements to hold one more. */
static void *grow(void *v, size_t n, size_t *cap, size_t elem_size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 16;
    return tq_xrealloc(v, *cap * elem_size);
}

/* ---- administrative units ------------------------------------------------------------- */

void tq_store_geo_units_free(struct tq_store_geo_unit *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        tq_free(v[i].pcode);
        tq_free(v[i].country_pcode);
        tq_free(v[i].country_en);
        tq_free(v[i].country_ar);
        tq_free(v[i].name_en);
        tq_free(v[i].name_ar);
        tq_free(v[i].geometry);
        tq_free(v[i].source);
    }
    tq_free(v);
}

tq_rc tq__engine_geo_units_put(struct tq_store *store, const struct tq_store_geo_unit *u, size_t n,
                               struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    int64_t now = tq_time_now_us();
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    for (size_t i = 0; rc == TQ_OK && i < n; i++)
        rc = tq__store_run(c, ST_UNIT_PUT,
                           TQ__ARGS(TQ__ARG_TEXT(u[i].pcode), TQ__ARG_INT(u[i].level),
                                    TQ__ARG_TEXT(u[i].country_pcode), TQ__ARG_TEXT(u[i].country_en),
                                    TQ__ARG_TEXT(u[i].country_ar), TQ__ARG_TEXT(u[i].name_en),
                                    TQ__ARG_TEXT(u[i].name_ar), TQ__ARG_TEXT(u[i].geometry),
                                    TQ__ARG_INT(u[i].repaired ? 1 : 0), TQ__ARG_TEXT(u[i].source),
                                    TQ__ARG_INT(u[i].loaded_us ? u[i].loaded_us : now)),
                           "write administrative unit", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

static void unit_row(struct tq__stmt *st, void *elem)
{
    struct tq_store_geo_unit *u = elem;

    u->pcode = tq__store_column_dup(st, 0);
    u->level = (int)tq__db_col_int64(st, 1);
    u->country_pcode = tq__store_column_dup(st, 2);
    u->country_en = tq__store_column_dup(st, 3);
    u->country_ar = tq__store_column_dup(st, 4);
    u->name_en = tq__store_column_dup(st, 5);
    u->name_ar = tq__store_column_dup(st, 6);
    u->geometry = tq__store_column_dup(st, 7);
    u->repaired = tq__db_col_int64(st, 8) != 0;
    u->source = tq__store_column_dup(st, 9);
    u->loaded_us = tq__db_col_int64(st, 10);
}

static void units_free(void *v, size_t n)
{
    tq_store_geo_units_free(v, n);
}

tq_rc tq__engine_geo_units_list(struct tq_store *store, struct tq_store_geo_unit **out, size_t *n,
                                struct tq_err *err)
{
    return tq__store_list_rows(tq__engine_of(store), ST_UNIT_LIST, sizeof(**out), unit_row,
                               units_free, "list administrative units", (void **)out, n, err);
}

tq_rc tq__engine_geo_units_delete(struct tq_store *store, const char *country_pcode,
                                  size_t *deleted, struct tq_err *err)
{
    struct tq__store_result res;
    tq_rc rc;

    rc =
        tq__store_write(tq__engine_of(store), ST_UNIT_DELETE, TQ__ARGS(TQ__ARG_TEXT(country_pcode)),
                        "delete administrative units", &res, err);
    if (rc == TQ_OK && deleted)
        *deleted = (size_t)res.changes;
    return rc;
}

/* ---- incidents ------------------------------------------------------------------------ */

/* An incident row read from the store, its strings owned beside it. */
struct inc_held {
    struct tq_store_incident inc;
    char *collection_id, *object_id, *country, *adm1_pcode, *adm1_en, *adm1_ar, *origin, *json;
};

static void inc_held_cleanup(struct inc_held *h)
{
    tq_free(h->collection_id);
    tq_free(h->object_id);
    tq_free(h->country);
    tq_free(h->adm1_pcode);
    tq_free(h->adm1_en);
    tq_free(h->adm1_ar);
    tq_free(h->origin);
    tq_free(h->json);
}

static void inc_held_free(struct inc_held *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        inc_held_cleanup(&v[i]);
    tq_free(v);
}

/* The columns of INC_COLS (the drivers' text) and the json column after them. */
static void inc_from_row(struct tq__stmt *st, struct inc_held *h)
{
    const char *kind = tq__db_col_text(st, 5);
    struct tq_store_incident *i = &h->inc;

    memset(h, 0, sizeof(*h));
    i->iid = tq__db_col_int64(st, 0);
    h->collection_id = tq__store_column_dup(st, 1);
    i->date_added_us = tq__db_col_int64(st, 2);
    h->object_id = tq__store_column_dup(st, 3);
    i->version_us = tq__db_col_int64(st, 4);
    snprintf(i->kind, sizeof(i->kind), "%s", kind ? kind : "");
    i->at_us = tq__db_col_int64(st, 6);
    i->lon_e7 = (int32_t)tq__db_col_int64(st, 7);
    i->lat_e7 = (int32_t)tq__db_col_int64(st, 8);
    i->where_prec = (int)tq__db_col_int64(st, 9);
    h->country = tq__store_column_dup(st, 10);
    h->adm1_pcode = tq__store_column_dup(st, 11);
    h->adm1_en = tq__store_column_dup(st, 12);
    h->adm1_ar = tq__store_column_dup(st, 13);
    i->border_m = tq__db_col_int64(st, 14);
    i->tag_flags = (unsigned)tq__db_col_int64(st, 15);
    h->origin = tq__store_column_dup(st, 16);
    h->json = tq__store_column_dup(st, 17);
    i->collection_id = h->collection_id;
    i->object_id = h->object_id;
    i->country = h->country;
    i->adm1_pcode = h->adm1_pcode;
    i->adm1_en = h->adm1_en;
    i->adm1_ar = h->adm1_ar;
    i->origin = h->origin;
    i->json = h->json;
    i->json_len = h->json ? strlen(h->json) : 0;
}

static void inc_row(struct tq__stmt *st, void *elem)
{
    inc_from_row(st, elem);
}

/*
 * A put that replaces a version's incident changes a row in place, which the in-memory summary
 * (inc_cache.c) cannot see by its high-water mark: it bumps incidents.generation in the same
 * transaction, so that every process builds its summary again.
 */
tq_rc tq__engine_incident_put(struct tq_store *store, const struct tq_store_incident *inc,
                              struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__store_result res = {0};
    int64_t iid = 0;
    bool kept = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = tq__store_read_int64(
        c, ST_INC_EXISTS,
        TQ__ARGS(TQ__ARG_TEXT(inc->collection_id), TQ__ARG_INT(inc->date_added_us)), &iid, &kept,
        "look up incident", err);
    if (rc == TQ_OK)
        rc = tq__store_run(
            c, ST_INCIDENT_PUT,
            TQ__ARGS(TQ__ARG_TEXT(inc->collection_id), TQ__ARG_INT(inc->date_added_us),
                     TQ__ARG_TEXT(inc->kind), TQ__ARG_INT(inc->at_us), TQ__ARG_INT(inc->lon_e7),
                     TQ__ARG_INT(inc->lat_e7), TQ__ARG_INT(inc->where_prec),
                     TQ__ARG_TEXT(inc->country), TQ__ARG_TEXT(inc->adm1_pcode),
                     TQ__ARG_TEXT(inc->adm1_en), TQ__ARG_TEXT(inc->adm1_ar),
                     TQ__ARG_INT(inc->border_m), TQ__ARG_INT((int64_t)inc->tag_flags)),
            "write incident", &res, err);
    if (rc == TQ_OK && res.changes == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no version added at %" PRId64 " in '%.64s'",
                        inc->date_added_us, inc->collection_id);
    if (rc == TQ_OK && kept)
        rc = tq__store_run(c, ST_INC_GEN_BUMP, NULL, 0, "bump incidents generation", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

/*
 * How a box is answered. The spatial index finds the incidents inside it, but they must then
 * be ordered by time: joining each to its version before keeping the newest (what one statement
 * does) costs about 4 us a row, 30 ms for a box of 7,500 at a million incidents. So a box is
 * two steps: the spatial index gives the box's incidents newest first, ids only (sorted with a
 * top-N sort on the incidents table alone), BOX_BATCH at a time; then one statement joins just
 * those to their versions, applies the reader's filter and the rest, and keeps them in order;
 * batches follow until the page is full or the box is exhausted.
 *
 * A box that holds most of the store would still sort all of it in the first step, while the
 * time walk with the box as a filter reads about limit x all / inside rows. So the box's
 * incidents are first counted through the spatial index up to BOX_SORT_MAX (about
 * sqrt(limit x rows) for a page of 100 over a million, where the two costs meet): at or above
 * it the time walk answers (ST_INCIDENTS, whose filter holds the box too).
 */
#define BOX_SORT_MAX 10000
#define BOX_BATCH_MIN 256

static tq_rc box_count(struct tq__conn *c, const struct tq_store_incident_query *q, int64_t *inside,
                       struct tq_err *err)
{
    return tq__store_read_int64(c, ST_INCIDENTS_BOX_COUNT,
                                TQ__ARGS(TQ__ARG_INT(q->min_lon_e7), TQ__ARG_INT(q->min_lat_e7),
                                         TQ__ARG_INT(q->max_lon_e7), TQ__ARG_INT(q->max_lat_e7),
                                         TQ__ARG_INT(BOX_SORT_MAX)),
                                inside, NULL, "count incidents in a box", err);
}

/* Bind the parameters every incidents statement shares (INC_FILTER's ?1..?17). */
static void bind_query(struct tq__stmt *st, const struct reader_args *ra,
                       const struct tq_store_incident_query *q, int64_t cur_at, int64_t cur_iid,
                       int64_t origin_mode, size_t limit)
{
    tq__store_bind_args(
        st, TQ__ARGS(TQ__ARG_INT(ra->mode), TQ__ARG_TEXT(ra->key), TQ__ARG_INT(ra->pid),
                     TQ__ARG_INT(q->since_us ? q->since_us : INT64_MIN),
                     TQ__ARG_INT(q->until_us ? q->until_us : INT64_MAX), TQ__ARG_TEXT(q->kind),
                     TQ__ARG_TEXT(q->adm1_pcode), TQ__ARG_INT(origin_mode),
                     TQ__ARG_TEXT(origin_mode == 2 ? q->origin : NULL), TQ__ARG_INT(cur_at),
                     TQ__ARG_INT(cur_iid), TQ__ARG_INT(q->has_bbox ? q->min_lon_e7 : INT32_MIN),
                     TQ__ARG_INT(q->has_bbox ? q->min_lat_e7 : INT32_MIN),
                     TQ__ARG_INT(q->has_bbox ? q->max_lon_e7 : INT32_MAX),
                     TQ__ARG_INT(q->has_bbox ? q->max_lat_e7 : INT32_MAX),
                     TQ__ARG_INT(q->with_json ? 1 : 0), TQ__ARG_INT((int64_t)limit)));
}

/* Append src[0..n) to *dst (of *n_dst), taking its strings. */
static void rows_append(struct inc_held **dst, size_t *n_dst, struct inc_held *src, size_t n)
{
    if (!n)
        return;
    *dst = tq_xrealloc(*dst, (*n_dst + n) * sizeof(**dst));
    memcpy(*dst + *n_dst, src, n * sizeof(*src));
    *n_dst += n;
}

/* The box's rows, in batches (see above): at most want of them into *rows. */
static tq_rc box_rows(struct tq__conn *c, const struct tq_store_incident_query *q,
                      const struct reader_args *ra, int64_t origin_mode, size_t want,
                      struct inc_held **rows, size_t *n, struct tq_err *err)
{
    size_t batch = want * 4 > BOX_BATCH_MIN ? want * 4 : BOX_BATCH_MIN;
    int64_t cur_at = q->has_cursor ? q->cursor_at_us : INT64_MAX;
    int64_t cur_iid = q->has_cursor ? q->cursor_iid : INT64_MAX;
    struct tq_buf ids;
    tq_rc rc = TQ_OK;

    tq_buf_init(&ids, batch * 24 + 16); /* "[" and up to batch keys of 20 digits and a comma */
    while (rc == TQ_OK && *n < want) {
        struct tq__stmt *st = NULL;
        struct inc_held *got = NULL;
        size_t n_ids = 0, n_got = 0;
        int src = TQ__DB_DONE;

        rc = tq__store_stmt_get(c, ST_INCIDENTS_BOX_IDS, &st, err);
        if (rc)
            break;
        tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(q->min_lon_e7), TQ__ARG_INT(q->min_lat_e7),
                                         TQ__ARG_INT(q->max_lon_e7), TQ__ARG_INT(q->max_lat_e7),
                                         TQ__ARG_INT(q->since_us ? q->since_us : INT64_MIN),
                                         TQ__ARG_INT(q->until_us ? q->until_us : INT64_MAX),
                                         TQ__ARG_TEXT(q->kind), TQ__ARG_TEXT(q->adm1_pcode),
                                         TQ__ARG_INT(cur_at), TQ__ARG_INT(cur_iid),
                                         TQ__ARG_INT((int64_t)batch)));
        tq_buf_reset(&ids);
        tq_buf_append_c(&ids, "[");
        for (;;) {
            src = tq__db_step(st);
            if (src != TQ__DB_ROW)
                break;
            cur_iid = tq__db_col_int64(st, 0);
            cur_at = tq__db_col_int64(st, 1);
            tq_buf_printf(&ids, "%s%" PRId64, n_ids++ ? "," : "", cur_iid);
        }
        tq__store_stmt_done(st);
        if (src != TQ__DB_DONE) {
            rc = tq__store_fail(err, c->db, src, "read a box's incidents");
            break;
        }
        if (n_ids == 0)
            break;
        if (tq_buf_append_c(&ids, "]")) {
            rc = tq_err_set(err, TQ_ENOMEM, "store: out of memory");
            break;
        }
        rc = tq__store_stmt_get(c, ST_INCIDENTS_IDS, &st, err);
        if (rc)
            break;
        bind_query(st, ra, q, q->has_cursor ? q->cursor_at_us : INT64_MAX,
                   q->has_cursor ? q->cursor_iid : INT64_MAX, origin_mode, want - *n);
        tq__store_bind_text(st, 18, ids.ptr);
        rc = tq__store_collect_rows(c, st, want - *n, sizeof(*got), inc_row, (void **)&got, &n_got,
                                    "read incidents", err);
        rows_append(rows, n, got, n_got);
        tq_free(got);
        if (n_ids < batch)
            break; /* the box is exhausted */
    }
    tq_buf_cleanup(&ids);
    return rc;
}

tq_rc tq__engine_incidents(struct tq_store *store, const struct tq_store_incident_query *q,
                           tq_store_incident_cb cb, void *ud, bool *more, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct reader_args ra;
    struct inc_held *rows = NULL;
    size_t n = 0;
    bool none;
    int64_t origin_mode = !q->origin ? 0 : !*q->origin ? 1 : 2, inside = BOX_SORT_MAX;
    enum tq__stmt_id id = q->adm1_pcode ? ST_INCIDENTS_ADM1 : ST_INCIDENTS;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = reader_resolve(c, q->reader, &ra, &none, err);
    if (rc || none)
        goto out;
    if (q->has_bbox)
        rc = box_count(c, q, &inside, err);
    if (rc == TQ_OK && q->has_bbox && inside < BOX_SORT_MAX) {
        rc = box_rows(c, q, &ra, origin_mode, q->limit + 1, &rows, &n, err);
        goto out;
    }
    if (rc == TQ_OK)
        rc = tq__store_stmt_get(c, id, &st, err);
    if (rc)
        goto out;
    bind_query(st, &ra, q, q->has_cursor ? q->cursor_at_us : INT64_MAX,
               q->has_cursor ? q->cursor_iid : INT64_MAX, origin_mode, q->limit + 1);
    rc = tq__store_collect_rows(c, st, q->limit + 1, sizeof(*rows), inc_row, (void **)&rows, &n,
                                "read incidents", err);
out:
    tq__store_conn_put(s, c);
    for (size_t i = 0; rc == TQ_OK && i < n && i < q->limit; i++)
        rc = cb(ud, &rows[i].inc);
    if (rc == TQ_OK)
        *more = n > q->limit;
    inc_held_free(rows, n);
    return rc;
}

tq_rc tq__engine_incidents_summary(struct tq_store *store,
                                   const struct tq_store_incident_summary_query *q,
                                   tq_store_incident_cell_cb cell_cb,
                                   tq_store_incident_bin_cb bin_cb, void *ud, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct reader_args ra;
    bool none;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = reader_resolve(c, q->reader, &ra, &none, err);
    for (int pass = 0; rc == TQ_OK && !none && pass < 2; pass++) {
        struct tq__stmt *st = NULL;
        int src = TQ__DB_DONE;

        rc = tq__store_stmt_get(c, pass ? ST_INC_SUM_HIST : ST_INC_SUM_CELLS, &st, err);
        if (rc)
            break;
        tq__store_bind_args(
            st,
            TQ__ARGS(TQ__ARG_INT(ra.mode), TQ__ARG_TEXT(ra.key), TQ__ARG_INT(ra.pid),
                     TQ__ARG_INT(q->since_us ? q->since_us : INT64_MIN),
                     TQ__ARG_INT(q->until_us ? q->until_us : INT64_MAX), TQ__ARG_TEXT(q->kind),
                     TQ__ARG_INT(q->has_bbox ? q->min_lon_e7 : INT32_MIN),
                     TQ__ARG_INT(q->has_bbox ? q->min_lat_e7 : INT32_MIN),
                     TQ__ARG_INT(q->has_bbox ? q->max_lon_e7 : INT32_MAX),
                     TQ__ARG_INT(q->has_bbox ? q->max_lat_e7 : INT32_MAX),
                     TQ__ARG_INT(pass ? q->bin_us : q->cell_e7), TQ__ARG_INT(q->bin_origin_us)));
        while (rc == TQ_OK) {
            src = tq__db_step(st);
            if (src != TQ__DB_ROW)
                break;
            if (pass) {
                rc = bin_cb(ud, tq__db_col_int64(st, 0), tq__db_col_int64(st, 1));
            } else {
                const char *kind = tq__db_col_text(st, 2);
                struct tq_store_incident_cell cell = {
                    .cx = tq__db_col_int64(st, 0),
                    .cy = tq__db_col_int64(st, 1),
                    .kind = kind ? kind : "",
                    .count = tq__db_col_int64(st, 3),
                    .sum_lon_e7 = tq__db_col_int64(st, 4),
                    .sum_lat_e7 = tq__db_col_int64(st, 5),
                };

                rc = cell_cb(ud, &cell);
            }
        }
        if (rc == TQ_OK && src != TQ__DB_DONE)
            rc = tq__store_fail(err, c->db, src, "summarise incidents");
        tq__store_stmt_done(st);
    }
    tq__store_conn_put(s, c);
    return rc;
}

/* Rows read per page by tq_store_incidents_retag. */
#define RETAG_PAGE 256

/* A new tagging, its strings owned. */
struct retag {
    int64_t iid;
    char *country, *adm1_pcode, *adm1_en, *adm1_ar;
    int64_t border_m;
    unsigned tag_flags;
};

static void retags_free(struct retag *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tq_free(v[i].country);
        tq_free(v[i].adm1_pcode);
        tq_free(v[i].adm1_en);
        tq_free(v[i].adm1_ar);
    }
    tq_free(v);
}

static char *dup_or_null(const char *s)
{
    return s ? tq_xstrdup(s) : NULL;
}

/* Write the new taggings of one page in one transaction. */
static tq_rc retag_write(struct tq__engine *s, const struct retag *v, size_t n, struct tq_err *err)
{
    struct tq__conn *c = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    for (size_t i = 0; rc == TQ_OK && i < n; i++)
        rc = tq__store_run(c, ST_INCIDENT_RETAG,
                           TQ__ARGS(TQ__ARG_INT(v[i].iid), TQ__ARG_TEXT(v[i].country),
                                    TQ__ARG_TEXT(v[i].adm1_pcode), TQ__ARG_TEXT(v[i].adm1_en),
                                    TQ__ARG_TEXT(v[i].adm1_ar), TQ__ARG_INT(v[i].border_m),
                                    TQ__ARG_INT((int64_t)v[i].tag_flags)),
                           "retag incident", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_incidents_retag(struct tq_store *store, tq_store_retag_fn fn, void *ud,
                                 size_t *retagged, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    int64_t last = 0;
    size_t total = 0;
    tq_rc rc = TQ_OK;

    for (;;) {
        struct tq__conn *c = NULL;
        struct tq__stmt *st = NULL;
        struct inc_held *rows = NULL;
        struct retag *changes = NULL;
        size_t n = 0, n_changes = 0, cap = 0;

        rc = tq__store_conn_get(s, &c, err);
        if (rc)
            break;
        rc = tq__store_stmt_get(c, ST_INCIDENT_PAGE, &st, err);
        if (rc == TQ_OK) {
            tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(last), TQ__ARG_INT(RETAG_PAGE)));
            rc = tq__store_collect_rows(c, st, RETAG_PAGE, sizeof(*rows), inc_row, (void **)&rows,
                                        &n, "read incidents", err);
        }
        tq__store_conn_put(s, c);
        /* fn runs with no connection held: it may read the store itself. */
        for (size_t i = 0; rc == TQ_OK && i < n; i++) {
            struct tq_store_incident next = rows[i].inc;
            bool changed = false;

            rc = fn(ud, &rows[i].inc, &next, &changed);
            if (rc || !changed)
                continue;
            changes = grow(changes, n_changes, &cap, sizeof(*changes));
            changes[n_changes++] = (struct retag){
                .iid = rows[i].inc.iid,
                .country = dup_or_null(next.country),
                .adm1_pcode = dup_or_null(next.adm1_pcode),
                .adm1_en = dup_or_null(next.adm1_en),
                .adm1_ar = dup_or_null(next.adm1_ar),
                .border_m = next.border_m,
                .tag_flags = next.tag_flags,
            };
        }
        if (rc == TQ_OK && n_changes)
            rc = retag_write(s, changes, n_changes, err);
        if (rc == TQ_OK)
            total += n_changes;
        if (n)
            last = rows[n - 1].inc.iid;
        retags_free(changes, n_changes);
        inc_held_free(rows, n);
        if (rc || n < RETAG_PAGE)
            break;
    }
    if (rc == TQ_OK && retagged)
        *retagged = total;
    return rc;
}

/* ---- correlation ---------------------------------------------------------------------- */

tq_rc tq__engine_correl_put(struct tq_store *store, const char *collection_id,
                            int64_t date_added_us, const struct tq_store_occurrence *occ, size_t n,
                            struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    int64_t cid = 0;
    bool found = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = tq__store_read_int64(c, ST_VERSION_EXISTS,
                              TQ__ARGS(TQ__ARG_TEXT(collection_id), TQ__ARG_INT(date_added_us)),
                              &cid, &found, "find version", err);
    if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no version added at %" PRId64 " in '%.64s'",
                        date_added_us, collection_id);
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_CORREL_CLEAR,
                           TQ__ARGS(TQ__ARG_INT(cid), TQ__ARG_INT(date_added_us)),
                           "clear occurrences", NULL, err);
    for (size_t i = 0; rc == TQ_OK && i < n; i++)
        rc = tq__store_run(c, ST_CORREL_ADD,
                           TQ__ARGS(TQ__ARG_INT(occ[i].kind), TQ__ARG_TEXT(occ[i].value),
                                    TQ__ARG_INT(date_added_us), TQ__ARG_INT(cid)),
                           "write occurrence", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

/* A sighting read from the store, its strings owned beside it. */
struct sight_held {
    struct tq_store_sighting s;
    char *collection_id, *object_id, *type, *origin;
};

static void sight_row(struct tq__stmt *st, void *elem)
{
    struct sight_held *h = elem;

    memset(h, 0, sizeof(*h));
    h->collection_id = tq__store_column_dup(st, 0);
    h->object_id = tq__store_column_dup(st, 1);
    h->type = tq__store_column_dup(st, 2);
    h->s.version_us = tq__db_col_int64(st, 3);
    h->s.date_added_us = tq__db_col_int64(st, 4);
    h->origin = tq__store_column_dup(st, 5);
    h->s.collection_id = h->collection_id;
    h->s.object_id = h->object_id;
    h->s.type = h->type;
    h->s.origin = h->origin;
}

static void sights_free(struct sight_held *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tq_free(v[i].collection_id);
        tq_free(v[i].object_id);
        tq_free(v[i].type);
        tq_free(v[i].origin);
    }
    tq_free(v);
}

tq_rc tq__engine_correl_find(struct tq_store *store, const struct tq_store_reader *reader, int kind,
                             const char *value, size_t limit, tq_store_sighting_cb cb, void *ud,
                             bool *more, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct sight_held *rows = NULL;
    struct reader_args ra;
    size_t n = 0;
    bool none;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = reader_resolve(c, reader, &ra, &none, err);
    if (rc || none)
        goto out;
    rc = tq__store_stmt_get(c, ST_CORREL_FIND, &st, err);
    if (rc)
        goto out;
    tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(ra.mode), TQ__ARG_TEXT(ra.key),
                                     TQ__ARG_INT(ra.pid), TQ__ARG_INT(kind), TQ__ARG_TEXT(value),
                                     TQ__ARG_INT((int64_t)limit + 1)));
    rc = tq__store_collect_rows(c, st, limit + 1, sizeof(*rows), sight_row, (void **)&rows, &n,
                                "read occurrences", err);
out:
    tq__store_conn_put(s, c);
    for (size_t i = 0; rc == TQ_OK && i < n && i < limit; i++)
        rc = cb(ud, &rows[i].s);
    if (rc == TQ_OK)
        *more = n > limit;
    sights_free(rows, n);
    return rc;
}

/* ---- alert rules ---------------------------------------------------------------------- */

void tq_store_alert_rules_free(struct tq_store_alert_rule *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        tq_free(v[i].name);
        tq_free(v[i].kind);
        tq_free(v[i].params);
        tq_free(v[i].created_by);
    }
    tq_free(v);
}

/*
 * The next key of a table whose keys the engine assigns (max + 1, read inside the write
 * transaction, so that no other writer takes it).
 */
static tq_rc next_id(struct tq__conn *c, enum tq__stmt_id id, int64_t *out, struct tq_err *err)
{
    return tq__store_read_int64(c, id, NULL, 0, out, NULL, "assign key", err);
}

tq_rc tq__engine_alert_rule_add(struct tq_store *store, const struct tq_store_alert_rule *r,
                                int64_t *id_out, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__store_result res;
    int64_t id = 0;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = next_id(c, ST_RULE_NEXT_ID, &id, err);
    if (rc == TQ_OK) {
        rc = tq__store_run(c, ST_RULE_ADD,
                           TQ__ARGS(TQ__ARG_INT(id), TQ__ARG_TEXT(r->name), TQ__ARG_TEXT(r->kind),
                                    TQ__ARG_TEXT(r->params), TQ__ARG_TEXT(r->created_by),
                                    TQ__ARG_INT(tq_time_now_us()), TQ__ARG_INT(r->enabled ? 1 : 0)),
                           "add alert rule", &res, err);
        if (rc && tq__store_is_duplicate(res.src))
            rc = tq_err_set(err, TQ_EEXIST, "store: an alert rule named '%.64s' exists", r->name);
    }
    rc = tq__store_write_end(s, c, rc, err);
    if (rc == TQ_OK && id_out)
        *id_out = id;
out:
    tq__store_conn_put(s, c);
    return rc;
}

static void rule_row(struct tq__stmt *st, void *elem)
{
    struct tq_store_alert_rule *r = elem;

    r->id = tq__db_col_int64(st, 0);
    r->name = tq__store_column_dup(st, 1);
    r->kind = tq__store_column_dup(st, 2);
    r->params = tq__store_column_dup(st, 3);
    r->created_by = tq__store_column_dup(st, 4);
    r->created_us = tq__db_col_int64(st, 5);
    r->enabled = tq__db_col_int64(st, 6) != 0;
}

static void rules_free(void *v, size_t n)
{
    tq_store_alert_rules_free(v, n);
}

tq_rc tq__engine_alert_rule_list(struct tq_store *store, struct tq_store_alert_rule **out,
                                 size_t *n, struct tq_err *err)
{
    return tq__store_list_rows(tq__engine_of(store), ST_RULE_LIST, sizeof(**out), rule_row,
                               rules_free, "list alert rules", (void **)out, n, err);
}

tq_rc tq__engine_alert_rule_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct tq__store_result res;
    tq_rc rc;

    rc = tq__store_write(tq__engine_of(store), ST_RULE_DELETE, TQ__ARGS(TQ__ARG_TEXT(name)),
                         "delete alert rule", &res, err);
    if (rc == TQ_OK && res.changes == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no alert rule '%.64s'", name);
    return rc;
}

/* ---- alerts --------------------------------------------------------------------------- */

void tq_store_alert_cleanup(struct tq_store_alert *a)
{
    if (!a)
        return;
    tq_free(a->rule);
    tq_free(a->kind);
    tq_free(a->title);
    tq_free(a->detail);
    for (size_t i = 0; i < a->n_collections && i < TQ_ALERT_COLLECTIONS_MAX; i++)
        tq_free(a->collections[i]);
    tq_free(a->dedup);
    tq_free(a->acked_by);
    memset(a, 0, sizeof(*a));
}

tq_rc tq__engine_alert_add(struct tq_store *store, const struct tq_store_alert *a, int64_t *id_out,
                           struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__store_result res = {0};
    int64_t id = 0;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = next_id(c, ST_ALERT_NEXT_ID, &id, err);
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_ALERT_ADD,
                           TQ__ARGS(TQ__ARG_INT(id), TQ__ARG_TEXT(a->rule), TQ__ARG_TEXT(a->kind),
                                    TQ__ARG_INT(a->at_us ? a->at_us : tq_time_now_us()),
                                    TQ__ARG_TEXT(a->title), TQ__ARG_TEXT(a->detail),
                                    TQ__ARG_TEXT(a->dedup)),
                           "add alert", &res, err);
    /* The same condition alerted already: nothing is written. */
    if (rc == TQ_OK && res.changes == 0)
        id = 0;
    for (size_t i = 0; rc == TQ_OK && id && i < a->n_collections; i++)
        rc = tq__store_run(c, ST_ALERT_COLL_ADD,
                           TQ__ARGS(TQ__ARG_INT(id), TQ__ARG_TEXT(a->collections[i])),
                           "add alert collection", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
    if (rc == TQ_OK && id_out)
        *id_out = id;
out:
    tq__store_conn_put(s, c);
    return rc;
}

static void alert_row(struct tq__stmt *st, void *elem)
{
    struct tq_store_alert *a = elem;

    memset(a, 0, sizeof(*a));
    a->id = tq__db_col_int64(st, 0);
    a->rule = tq__store_column_dup(st, 1);
    a->kind = tq__store_column_dup(st, 2);
    a->at_us = tq__db_col_int64(st, 3);
    a->title = tq__store_column_dup(st, 4);
    a->detail = tq__store_column_dup(st, 5);
    a->dedup = tq__store_column_dup(st, 6);
    a->acked_by = tq__store_column_dup(st, 7);
    a->acked_us = tq__db_col_int64(st, 8);
}

/* The collections an alert names, read on c after its row. */
static tq_rc alert_collections(struct tq__conn *c, struct tq_store_alert *a, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = tq__store_stmt_get(c, ST_ALERT_COLLS, &st, err);
    if (rc)
        return rc;
    tq__db_bind_int64(st, 1, a->id);
    for (;;) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        if (a->n_collections < TQ_ALERT_COLLECTIONS_MAX)
            a->collections[a->n_collections++] = tq__store_column_dup(st, 0);
    }
    if (src != TQ__DB_DONE)
        rc = tq__store_fail(err, c->db, src, "read alert collections");
    tq__store_stmt_done(st);
    return rc;
}

static void alerts_free(struct tq_store_alert *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tq_store_alert_cleanup(&v[i]);
    tq_free(v);
}

tq_rc tq__engine_alerts(struct tq_store *store, const struct tq_store_alert_query *q,
                        tq_store_alert_cb cb, void *ud, bool *more, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct tq_store_alert *rows = NULL;
    struct reader_args ra = {.mode = READ_NODE};
    size_t n = 0;
    int64_t bound;
    tq_rc rc = TQ_OK;

    /* A partner never sees alerts: they summarise content beyond what was released to it. */
    if (q->reader && q->reader->partner)
        goto done;
    if (q->reader)
        ra = (struct reader_args){.mode = READ_USER, .key = q->reader->perm_key};
    bound = q->newest_first ? (q->before_id ? q->before_id : INT64_MAX) : q->after_id;
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, q->newest_first ? ST_ALERTS_DESC : ST_ALERTS_ASC, &st, err);
    if (rc)
        goto out;
    tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(ra.mode), TQ__ARG_TEXT(ra.key), TQ__ARG_INT(bound),
                                     TQ__ARG_INT(q->unacked_only ? 1 : 0), TQ__ARG_TEXT(q->kind),
                                     TQ__ARG_INT((int64_t)q->limit + 1)));
    rc = tq__store_collect_rows(c, st, q->limit + 1, sizeof(*rows), alert_row, (void **)&rows, &n,
                                "read alerts", err);
    for (size_t i = 0; rc == TQ_OK && i < n && i < q->limit; i++)
        rc = alert_collections(c, &rows[i], err);
out:
    tq__store_conn_put(s, c);
done:
    for (size_t i = 0; rc == TQ_OK && i < n && i < q->limit; i++)
        rc = cb(ud, &rows[i]);
    if (rc == TQ_OK)
        *more = n > q->limit;
    alerts_free(rows, n);
    return rc;
}

tq_rc tq__engine_alert_ack(struct tq_store *store, const struct tq_store_reader *reader, int64_t id,
                           const char *user, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct reader_args ra = {.mode = READ_NODE};
    int64_t acked = 0;
    bool found = false;
    tq_rc rc;

    if (reader)
        ra = (struct reader_args){.mode = reader->partner ? READ_PARTNER : READ_USER,
                                  .key = reader->perm_key};
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = tq__store_read_int64(c, ST_ALERT_STATE,
                              TQ__ARGS(TQ__ARG_INT(ra.mode), TQ__ARG_TEXT(ra.key), TQ__ARG_INT(id)),
                              &acked, &found, "read alert", err);
    /* An alert the reader may not see answers exactly like a missing one. */
    if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no alert %" PRId64, id);
    else if (rc == TQ_OK && acked)
        rc = tq_err_set(err, TQ_EEXIST, "store: alert %" PRId64 " is already acknowledged", id);
    if (rc == TQ_OK)
        rc = tq__store_run(
            c, ST_ALERT_ACK,
            TQ__ARGS(TQ__ARG_INT(id), TQ__ARG_TEXT(user), TQ__ARG_INT(tq_time_now_us())),
            "acknowledge alert", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}
