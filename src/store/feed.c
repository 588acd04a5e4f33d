/* SPDX-License-Identifier: Apache-2.0
 *
 * store/feed.c - the dashboard's feed (tansiq/monitor_store.h): what came in from partners and
 * what was released to them, newest first, counted per bin and per partner.
 *
 * "In" rows are the versions whose facts name an origin (a partner, set by sync when it stores
 * what the partner sent); "out" rows are the release rows (releases.c), one per version and
 * partner it is released to, dated by added_us, when the partner could first see it. Both are
 * read with the reader's permission inside the statement, as the monitor's reads are; a page
 * takes up to limit + 1 rows of each direction and merges them here, so that the order and the
 * cursor are one key over both: (at_us, dir, rid, pid), descending.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"
#include "tansiq/monitor_store.h"

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return tq_err_set(err, TQ_EINVAL, "store: feed: %s", (what));                          \
    } while (0)

struct feed_row {
    struct tq_store_feed_item it;
    char *partner, *collection, *id, *type, *name;
};

static void feed_row_from(struct tq__stmt *st, void *elem)
{
    struct feed_row *r = elem;

    memset(r, 0, sizeof(*r));
    r->it.key.at_us = tq__db_col_int64(st, 0);
    r->it.key.rid = tq__db_col_int64(st, 1);
    r->it.key.pid = tq__db_col_int64(st, 2);
    r->it.key.dir = r->it.key.pid ? TQ_FEED_OUT : TQ_FEED_IN;
    r->partner = tq__store_column_dup(st, 3);
    r->collection = tq__store_column_dup(st, 4);
    r->id = tq__store_column_dup(st, 5);
    r->type = tq__store_column_dup(st, 6);
    r->name = tq__store_column_dup(st, 7);
    r->it.tlp = (int)tq__db_col_int64(st, 8);
}

static void feed_rows_free(struct feed_row *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        tq_free(v[i].partner);
        tq_free(v[i].collection);
        tq_free(v[i].id);
        tq_free(v[i].type);
        tq_free(v[i].name);
    }
    tq_free(v);
}

/* Order of the feed: <0 when a comes first (is newer). */
static int key_cmp(const struct tq_store_feed_key *a, const struct tq_store_feed_key *b)
{
    if (a->at_us != b->at_us)
        return a->at_us > b->at_us ? -1 : 1;
    if (a->dir != b->dir)
        return a->dir > b->dir ? -1 : 1;
    if (a->rid != b->rid)
        return a->rid > b->rid ? -1 : 1;
    if (a->pid != b->pid)
        return a->pid > b->pid ? -1 : 1;
    return 0;
}

static bool reader_ok(const struct tq_store_reader *r)
{
    return !r || (r->perm_key && *r->perm_key && !r->partner);
}

tq_rc tq_store_feed(struct tq_store *store, const struct tq_store_feed_query *q,
                    tq_store_feed_cb cb, void *ud, bool *more, struct tq_err *err)
{
    struct tq__engine *s;
    struct tq__conn *c = NULL;
    struct feed_row *rows[2] = {NULL, NULL};
    size_t n[2] = {0, 0}, i[2] = {0, 0}, shown = 0;
    char qlow[TQ_STORE_FEED_Q_MAX + 1];
    struct tq_store_feed_key cur = {INT64_MAX, 3, INT64_MAX, INT64_MAX};
    tq_rc rc = TQ_OK;

    CHECK(store && q && cb && more, "missing store, query, callback or output");
    CHECK(reader_ok(q->reader), "the reader must be the node or a user");
    CHECK(q->limit >= 1 && q->limit <= TQ_STORE_FEED_PAGE_MAX, "page limit out of range");
    CHECK(q->direction >= TQ_FEED_ANY && q->direction <= TQ_FEED_OUT, "bad direction");
    CHECK(!q->q || strlen(q->q) <= TQ_STORE_FEED_Q_MAX, "substring too long");
    *more = false;
    if (q->has_cursor)
        cur = q->cursor;
    if (q->q) {
        size_t k = 0;

        /* Lower-case ASCII only, as SQL's lower() does in SQLite. */
        for (; q->q[k]; k++)
            qlow[k] = (q->q[k] >= 'A' && q->q[k] <= 'Z') ? (char)(q->q[k] + 32) : q->q[k];
        qlow[k] = '\0';
    }
    s = tq__engine_of(store);
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    for (int d = 0; rc == TQ_OK && d < 2; d++) {
        struct tq__stmt *st = NULL;

        if (q->direction == (d ? TQ_FEED_IN : TQ_FEED_OUT))
            continue;
        rc = tq__store_stmt_get(c, d ? ST_FEED_OUT : ST_FEED_IN, &st, err);
        if (rc)
            break;
        tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(q->reader ? 1 : 0),
                                         TQ__ARG_TEXT(q->reader ? q->reader->perm_key : NULL),
                                         TQ__ARG_INT(q->since_us ? q->since_us : INT64_MIN),
                                         TQ__ARG_INT(q->until_us ? q->until_us : INT64_MAX),
                                         TQ__ARG_TEXT(q->partner), TQ__ARG_INT(cur.at_us),
                                         TQ__ARG_INT(cur.dir), TQ__ARG_INT(cur.rid),
                                         TQ__ARG_INT(cur.pid), TQ__ARG_TEXT(q->q ? qlow : NULL),
                                         TQ__ARG_INT((int64_t)q->limit + 1)));
        rc = tq__store_collect_rows(c, st, q->limit + 1, sizeof(struct feed_row), feed_row_from,
                                    (void **)&rows[d], &n[d], "read the feed", err);
    }
    tq__store_conn_put(s, c);
    /* Merge the two pages, newest first. */
    while (rc == TQ_OK && (i[0] < n[0] || i[1] < n[1])) {
        int d = i[0] == n[0]                                                ? 1
                : i[1] == n[1]                                              ? 0
                : key_cmp(&rows[0][i[0]].it.key, &rows[1][i[1]].it.key) < 0 ? 0
                                                                            : 1;
        struct feed_row *r = &rows[d][i[d]++];

        if (shown == q->limit) {
            *more = true;
            break;
        }
        r->it.partner = r->partner ? r->partner : "";
        r->it.collection = r->collection ? r->collection : "";
        r->it.id = r->id ? r->id : "";
        r->it.type = r->type ? r->type : "";
        r->it.name = r->name;
        rc = cb(ud, &r->it);
        shown++;
    }
    feed_rows_free(rows[0], n[0]);
    feed_rows_free(rows[1], n[1]);
    return rc;
}

tq_rc tq_store_feed_histogram(struct tq_store *store, const struct tq_store_reader *reader,
                              int64_t since_us, int64_t until_us, int64_t bin_us,
                              tq_store_feed_bin_cb cb, void *ud, struct tq_err *err)
{
    struct tq__engine *s;
    struct tq__conn *c = NULL;
    tq_rc rc;

    CHECK(store && cb, "missing store or callback");
    CHECK(reader_ok(reader), "the reader must be the node or a user");
    CHECK(bin_us >= 1 && since_us < until_us, "bin or range out of order");
    CHECK((until_us - since_us) / bin_us < TQ_STORE_FEED_BINS_MAX, "too many bins");
    s = tq__engine_of(store);
    rc = tq__store_conn_get(s, &c, err);
    for (int d = 0; rc == TQ_OK && d < 2; d++) {
        struct tq__stmt *st = NULL;
        int src = TQ__DB_DONE;

        rc = tq__store_stmt_get(c, d ? ST_FEED_HIST_OUT : ST_FEED_HIST_IN, &st, err);
        if (rc)
            break;
        tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(reader ? 1 : 0),
                                         TQ__ARG_TEXT(reader ? reader->perm_key : NULL),
                                         TQ__ARG_INT(since_us), TQ__ARG_INT(until_us),
                                         TQ__ARG_INT(bin_us)));
        while (rc == TQ_OK) {
            const char *partner;

            src = tq__db_step(st);
            if (src != TQ__DB_ROW)
                break;
            partner = tq__db_col_text(st, 1);
            rc = cb(ud, tq__db_col_int64(st, 0), d ? TQ_FEED_OUT : TQ_FEED_IN,
                    partner ? partner : "", tq__db_col_int64(st, 2));
        }
        if (rc == TQ_OK && src != TQ__DB_DONE)
            rc = tq__store_fail(err, c->db, src, "count the feed");
        tq__store_stmt_done(st);
    }
    if (c)
        tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq_store_feed_counts(struct tq_store *store, const struct tq_store_reader *reader,
                           const char *partner, int64_t *in, int64_t *out, struct tq_err *err)
{
    struct tq__engine *s;
    struct tq__conn *c = NULL;
    bool found = false;
    tq_rc rc;

    CHECK(store && partner && in && out, "missing store, partner or output");
    CHECK(reader_ok(reader), "the reader must be the node or a user");
    *in = *out = 0;
    s = tq__engine_of(store);
    rc = tq__store_conn_get(s, &c, err);
    for (int d = 0; rc == TQ_OK && d < 2; d++)
        rc = tq__store_read_int64(c, d ? ST_FEED_COUNT_OUT : ST_FEED_COUNT_IN,
                                  TQ__ARGS(TQ__ARG_INT(reader ? 1 : 0),
                                           TQ__ARG_TEXT(reader ? reader->perm_key : NULL),
                                           TQ__ARG_TEXT(partner)),
                                  d ? out : in, &found, "count a partner's feed", err);
    if (c)
        tq__store_conn_put(s, c);
    return rc;
}
