/* SPDX-License-Identifier: Apache-2.0
 *
 * store/inc_cache.c - the map's summary of the incidents (tq_store_incidents_summary) answered
 * from columns kept in this process.
 *
 * The two GROUP BY statements join every incident to its version and its collection: about
 * 57 s at a million incidents. The summary needs five numbers of an incident (point, time,
 * kind, collection) and whether its version is its object's last, so this process keeps them
 * as columns (29 bytes an incident), built on the first summary, and scans them per request
 * into the grid and the histogram: a few milliseconds at a million.
 *
 * Before each answer the columns are brought up to date from the store, in this order:
 *  - incidents.generation (store meta) is bumped by every change the columns cannot follow by
 *    appending: a deleted version (its incident goes, an older version may be last again) and a
 *    put that replaces a version's incident in place. Another value than the one built from:
 *    built again from nothing.
 *  - the collections' date_added clocks: a version added since a collection's clock may make
 *    an older version of its object no longer the last; those incidents are looked up
 *    (ST_INC_SUPERSEDED) and marked.
 *  - rows with an iid above the highest kept are appended (iids only grow between bumps).
 * The generation and the clocks are read before the rows, so a change that lands meanwhile is
 * seen again on the next answer; each step may be repeated without harm.
 *
 * The reader's filter is the statements': the node and a user count each object's last
 * version, a user only in the collections it may read (its permissions are read per answer). A
 * partner sees the versions released to it, which these columns do not hold: its summary is the
 * statements' (tq__engine_incidents_summary), as is any summary when the columns cannot be kept
 * (more than 65,535 kinds or collections).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/engine.h"

#define PAGE_ROWS 20000
#define TABLE_MAX 65535 /* kinds and collections, as uint16_t */

struct coll {
    int64_t cid;
    char uuid[64];
    int64_t clock;
    bool seen; /* in the last read of the clocks */
};

struct tq__inc_cache {
    bool built, broken;
    int64_t gen, max_iid;
    size_t n, cap;
    int64_t *iid, *at;
    int32_t *lon, *lat;
    uint16_t *kind, *coll;
    uint8_t *last;
    char (*kinds)[TQ_INCIDENT_KIND_MAX];
    size_t n_kinds;
    struct coll *colls;
    size_t n_colls;
};

static void cache_reset(struct tq__inc_cache *ic)
{
    tq_free(ic->iid);
    tq_free(ic->at);
    tq_free(ic->lon);
    tq_free(ic->lat);
    tq_free(ic->kind);
    tq_free(ic->coll);
    tq_free(ic->last);
    tq_free(ic->kinds);
    tq_free(ic->colls);
    memset(ic, 0, sizeof(*ic));
}

void tq__inc_cache_free(struct tq__inc_cache *ic)
{
    if (!ic)
        return;
    cache_reset(ic);
    tq_free(ic);
}

static void cache_grow(struct tq__inc_cache *ic, size_t want)
{
    size_t cap = ic->cap ? ic->cap : 1024;

    if (want <= ic->cap)
        return;
    while (cap < want)
        cap *= 2;
    ic->iid = tq_xrealloc(ic->iid, cap * sizeof(*ic->iid));
    ic->at = tq_xrealloc(ic->at, cap * sizeof(*ic->at));
    ic->lon = tq_xrealloc(ic->lon, cap * sizeof(*ic->lon));
    ic->lat = tq_xrealloc(ic->lat, cap * sizeof(*ic->lat));
    ic->kind = tq_xrealloc(ic->kind, cap * sizeof(*ic->kind));
    ic->coll = tq_xrealloc(ic->coll, cap * sizeof(*ic->coll));
    ic->last = tq_xrealloc(ic->last, cap * sizeof(*ic->last));
    ic->cap = cap;
}

/* The index of a collection by its key; -1 when the table is full. */
static int coll_index(struct tq__inc_cache *ic, int64_t cid, const char *uuid)
{
    for (size_t i = 0; i < ic->n_colls; i++)
        if (ic->colls[i].cid == cid)
            return (int)i;
    if (ic->n_colls >= TABLE_MAX)
        return -1;
    ic->colls = tq_xrealloc(ic->colls, (ic->n_colls + 1) * sizeof(*ic->colls));
    ic->colls[ic->n_colls] = (struct coll){.cid = cid, .clock = -1};
    snprintf(ic->colls[ic->n_colls].uuid, sizeof(ic->colls[0].uuid), "%s", uuid ? uuid : "");
    return (int)ic->n_colls++;
}

static int kind_index(struct tq__inc_cache *ic, const char *kind)
{
    /* The last kind seen first: rows come in runs of one kind more often than not. */
    for (size_t i = ic->n_kinds; i-- > 0;)
        if (strcmp(ic->kinds[i], kind) == 0)
            return (int)i;
    if (ic->n_kinds >= TABLE_MAX)
        return -1;
    ic->kinds = tq_xrealloc(ic->kinds, (ic->n_kinds + 1) * sizeof(*ic->kinds));
    snprintf(ic->kinds[ic->n_kinds], sizeof(ic->kinds[0]), "%s", kind);
    return (int)ic->n_kinds++;
}

/* The position of iid among the kept rows (sorted, since appended in iid order); -1: none. */
static ptrdiff_t find_iid(const struct tq__inc_cache *ic, int64_t iid)
{
    size_t lo = 0, hi = ic->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ic->iid[mid] < iid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ic->n && ic->iid[lo] == iid ? (ptrdiff_t)lo : -1;
}

/* The generation and every collection's clock, into gen and ic->colls[].seen / clocks[]. */
static tq_rc read_marks(struct tq__conn *c, struct tq__inc_cache *ic, int64_t *gen,
                        int64_t **clocks, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    bool found = false;
    int src;
    tq_rc rc;

    *gen = 0;
    rc = tq__store_read_int64(c, ST_INC_GEN_GET, NULL, 0, gen, &found, "read incidents generation",
                              err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_INC_CLOCKS, &st, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < ic->n_colls; i++)
        ic->colls[i].seen = false;
    for (;;) {
        int k;

        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        k = coll_index(ic, tq__db_col_int64(st, 0), tq__db_col_text(st, 1));
        if (k < 0) {
            ic->broken = true;
            continue;
        }
        ic->colls[k].seen = true;
        if (!ic->colls[k].uuid[0]) /* first met in a row, before its clock */
            snprintf(ic->colls[k].uuid, sizeof(ic->colls[k].uuid), "%s",
                     tq__db_col_text(st, 1) ? tq__db_col_text(st, 1) : "");
        *clocks = tq_xrealloc(*clocks, ic->n_colls * sizeof(**clocks));
        (*clocks)[k] = tq__db_col_int64(st, 2);
    }
    tq__store_stmt_done(st);
    if (src != TQ__DB_DONE)
        return tq__store_fail(err, c->db, src, "read collection clocks");
    return TQ_OK;
}

/* Append the rows after ic->max_iid, a page at a time. */
static tq_rc append_rows(struct tq__conn *c, struct tq__inc_cache *ic, struct tq_err *err)
{
    for (;;) {
        struct tq__stmt *st = NULL;
        size_t got = 0;
        int src;
        tq_rc rc;

        rc = tq__store_stmt_get(c, ST_INC_CACHE_PAGE, &st, err);
        if (rc)
            return rc;
        tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(ic->max_iid), TQ__ARG_INT(PAGE_ROWS)));
        for (;;) {
            const char *kind;
            int k, cl;
            size_t i = ic->n;

            src = tq__db_step(st);
            if (src != TQ__DB_ROW)
                break;
            got++;
            kind = tq__db_col_text(st, 2);
            k = kind_index(ic, kind ? kind : "");
            cl = coll_index(ic, tq__db_col_int64(st, 1), NULL);
            ic->max_iid = tq__db_col_int64(st, 0);
            if (k < 0 || cl < 0) {
                ic->broken = true;
                continue;
            }
            cache_grow(ic, i + 1);
            ic->iid[i] = ic->max_iid;
            ic->kind[i] = (uint16_t)k;
            ic->coll[i] = (uint16_t)cl;
            ic->at[i] = tq__db_col_int64(st, 3);
            ic->lon[i] = (int32_t)tq__db_col_int64(st, 4);
            ic->lat[i] = (int32_t)tq__db_col_int64(st, 5);
            ic->last[i] = tq__db_col_int64(st, 6) != 0;
            ic->n++;
        }
        tq__store_stmt_done(st);
        if (src != TQ__DB_DONE)
            return tq__store_fail(err, c->db, src, "read incidents");
        if (got < PAGE_ROWS)
            return TQ_OK;
    }
}

/* Mark the incidents of collection k whose versions were superseded since its clock. */
static tq_rc mark_superseded(struct tq__conn *c, struct tq__inc_cache *ic, size_t k,
                             struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    int src;
    tq_rc rc;

    rc = tq__store_stmt_get(c, ST_INC_SUPERSEDED, &st, err);
    if (rc)
        return rc;
    tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(ic->colls[k].cid),
                                     TQ__ARG_INT(ic->colls[k].clock > 0 ? ic->colls[k].clock : 0)));
    for (;;) {
        ptrdiff_t at;

        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        at = find_iid(ic, tq__db_col_int64(st, 0));
        if (at >= 0)
            ic->last[at] = 0;
    }
    tq__store_stmt_done(st);
    if (src != TQ__DB_DONE)
        return tq__store_fail(err, c->db, src, "read superseded incidents");
    return TQ_OK;
}

/* Bring the columns up to date (see the top of this file). */
static tq_rc cache_refresh(struct tq__engine *s, struct tq__inc_cache *ic, struct tq_err *err)
{
    struct tq__conn *c = NULL;
    int64_t gen = 0, *clocks = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = read_marks(c, ic, &gen, &clocks, err);
    if (rc == TQ_OK && ic->built) {
        bool rebuild = gen != ic->gen;

        for (size_t k = 0; k < ic->n_colls && !rebuild; k++)
            if (!ic->colls[k].seen && ic->colls[k].clock >= 0)
                rebuild = true; /* a collection went, and its incidents with it */
        if (rebuild) {
            tq_free(clocks);
            clocks = NULL;
            cache_reset(ic);
            rc = read_marks(c, ic, &gen, &clocks, err);
        }
    }
    /* Superseded versions first, among the rows kept until now: rows appended below carry the
     * flag as it is now. A collection first met in a row has no clock yet: all its versions. */
    for (size_t k = 0; rc == TQ_OK && ic->built && k < ic->n_colls; k++)
        if (ic->colls[k].seen && clocks[k] != ic->colls[k].clock)
            rc = mark_superseded(c, ic, k, err);
    if (rc == TQ_OK)
        rc = append_rows(c, ic, err);
    if (rc == TQ_OK) {
        for (size_t k = 0; k < ic->n_colls; k++)
            if (ic->colls[k].seen)
                ic->colls[k].clock = clocks[k];
        ic->gen = gen;
        ic->built = true;
    } else {
        cache_reset(ic); /* half brought up to date: built again next time */
    }
    tq__store_conn_put(s, c);
    tq_free(clocks);
    return rc;
}

/* ---- aggregation ------------------------------------------------------------------------ */

struct cell_slot {
    int64_t cx, cy;
    int64_t count, sum_lon, sum_lat;
    uint16_t kind;
    bool used;
};

struct bin_slot {
    int64_t bin, count;
    bool used;
};

struct agg {
    struct cell_slot *cells;
    size_t n_cells, cap_cells; /* cap a power of two */
    struct bin_slot *bins;
    size_t n_bins, cap_bins;
};

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t cell_hash(int64_t cx, int64_t cy, uint16_t kind)
{
    return mix((uint64_t)cx * 0x9e3779b97f4a7c15ULL ^ mix((uint64_t)cy) ^ kind);
}

static struct cell_slot *cell_find(struct cell_slot *t, size_t cap, int64_t cx, int64_t cy,
                                   uint16_t kind)
{
    size_t i = cell_hash(cx, cy, kind) & (cap - 1);

    while (t[i].used && (t[i].cx != cx || t[i].cy != cy || t[i].kind != kind))
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static void cells_grow(struct agg *a)
{
    size_t cap = a->cap_cells ? a->cap_cells * 2 : 1024;
    struct cell_slot *t = tq_xcalloc(cap, sizeof(*t));

    for (size_t i = 0; i < a->cap_cells; i++)
        if (a->cells[i].used)
            *cell_find(t, cap, a->cells[i].cx, a->cells[i].cy, a->cells[i].kind) = a->cells[i];
    tq_free(a->cells);
    a->cells = t;
    a->cap_cells = cap;
}

static struct bin_slot *bin_find(struct bin_slot *t, size_t cap, int64_t bin)
{
    size_t i = mix((uint64_t)bin) & (cap - 1);

    while (t[i].used && t[i].bin != bin)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static void bins_grow(struct agg *a)
{
    size_t cap = a->cap_bins ? a->cap_bins * 2 : 256;
    struct bin_slot *t = tq_xcalloc(cap, sizeof(*t));

    for (size_t i = 0; i < a->cap_bins; i++)
        if (a->bins[i].used)
            *bin_find(t, cap, a->bins[i].bin) = a->bins[i];
    tq_free(a->bins);
    a->bins = t;
    a->cap_bins = cap;
}

static void agg_add(struct agg *a, int64_t cx, int64_t cy, uint16_t kind, int32_t lon, int32_t lat,
                    int64_t bin)
{
    struct cell_slot *c;
    struct bin_slot *b;

    if ((a->n_cells + 1) * 2 > a->cap_cells)
        cells_grow(a);
    c = cell_find(a->cells, a->cap_cells, cx, cy, kind);
    if (!c->used) {
        *c = (struct cell_slot){.cx = cx, .cy = cy, .kind = kind, .used = true};
        a->n_cells++;
    }
    c->count++;
    c->sum_lon += lon;
    c->sum_lat += lat;
    if ((a->n_bins + 1) * 2 > a->cap_bins)
        bins_grow(a);
    b = bin_find(a->bins, a->cap_bins, bin);
    if (!b->used) {
        *b = (struct bin_slot){.bin = bin, .used = true};
        a->n_bins++;
    }
    b->count++;
}

/* Which collections the reader may read: all for the node, else by its permissions. */
static tq_rc readable(struct tq_store *store, const struct tq__inc_cache *ic,
                      const struct tq_store_reader *r, uint8_t *ok, struct tq_err *err)
{
    for (size_t k = 0; k < ic->n_colls; k++) {
        bool can_read = true, can_write = false;
        tq_rc rc;

        if (r) {
            rc = tq_store_perm_get(store, r->perm_key, ic->colls[k].uuid, &can_read, &can_write,
                                   err);
            if (rc)
                return rc;
        }
        ok[k] = can_read;
    }
    return TQ_OK;
}

/* The scan: every kept row through the filter into a. */
static void scan(const struct tq__inc_cache *ic, const struct tq_store_incident_summary_query *q,
                 const uint8_t *coll_ok, int kind, struct agg *a)
{
    int64_t since = q->since_us ? q->since_us : INT64_MIN;
    int64_t until = q->until_us ? q->until_us : INT64_MAX;
    int32_t w = q->has_bbox ? q->min_lon_e7 : INT32_MIN,
            e = q->has_bbox ? q->max_lon_e7 : INT32_MAX;
    int32_t so = q->has_bbox ? q->min_lat_e7 : INT32_MIN,
            n = q->has_bbox ? q->max_lat_e7 : INT32_MAX;

    for (size_t i = 0; i < ic->n; i++) {
        if (!ic->last[i] || !coll_ok[ic->coll[i]])
            continue;
        if (ic->at[i] < since || ic->at[i] >= until)
            continue;
        if (ic->lon[i] < w || ic->lon[i] > e || ic->lat[i] < so || ic->lat[i] > n)
            continue;
        if (kind >= 0 && ic->kind[i] != kind)
            continue;
        agg_add(a, ((int64_t)ic->lon[i] + 1800000000) / q->cell_e7,
                ((int64_t)ic->lat[i] + 900000000) / q->cell_e7, ic->kind[i], ic->lon[i], ic->lat[i],
                (ic->at[i] - q->bin_origin_us) / q->bin_us);
    }
}

tq_rc tq__inc_cache_summary(struct tq_store *store, const struct tq_store_incident_summary_query *q,
                            tq_store_incident_cell_cb cell_cb, tq_store_incident_bin_cb bin_cb,
                            void *ud, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__inc_cache *ic;
    struct agg a = {0};
    uint8_t *coll_ok = NULL;
    int kind = -1;
    tq_rc rc;

    if (q->reader && q->reader->partner)
        return tq__engine_incidents_summary(store, q, cell_cb, bin_cb, ud, err);
    pthread_mutex_lock(&s->inc_mu);
    if (!s->inc_cache)
        s->inc_cache = tq_xcalloc(1, sizeof(*s->inc_cache));
    ic = s->inc_cache;
    rc = cache_refresh(s, ic, err);
    if (rc || ic->broken) {
        pthread_mutex_unlock(&s->inc_mu);
        return rc ? rc : tq__engine_incidents_summary(store, q, cell_cb, bin_cb, ud, err);
    }
    coll_ok = tq_xcalloc(ic->n_colls ? ic->n_colls : 1, 1);
    rc = readable(store, ic, q->reader, coll_ok, err);
    if (rc == TQ_OK && q->kind) {
        for (size_t k = 0; k < ic->n_kinds && kind < 0; k++)
            if (strcmp(ic->kinds[k], q->kind) == 0)
                kind = (int)k;
        if (kind < 0)
            goto out; /* a kind no incident has: nothing counted */
    }
    if (rc == TQ_OK)
        scan(ic, q, coll_ok, kind, &a);
    for (size_t i = 0; rc == TQ_OK && i < a.cap_cells; i++) {
        const struct cell_slot *c = &a.cells[i];
        struct tq_store_incident_cell cell;

        if (!c->used)
            continue;
        cell = (struct tq_store_incident_cell){.cx = c->cx,
                                               .cy = c->cy,
                                               .kind = ic->kinds[c->kind],
                                               .count = c->count,
                                               .sum_lon_e7 = c->sum_lon,
                                               .sum_lat_e7 = c->sum_lat};
        rc = cell_cb(ud, &cell);
    }
    for (size_t i = 0; rc == TQ_OK && i < a.cap_bins; i++)
        if (a.bins[i].used)
            rc = bin_cb(ud, a.bins[i].bin, a.bins[i].count);
out:
    pthread_mutex_unlock(&s->inc_mu);
    tq_free(coll_ok);
    tq_free(a.cells);
    tq_free(a.bins);
    return rc;
}
