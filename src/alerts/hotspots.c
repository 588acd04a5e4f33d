/* SPDX-License-Identifier: Apache-2.0
 *
 * alerts/hotspots.c - hotspots and corridors over the kept incidents: the incidents a reader
 * may see, read in pages over the windows analysed and their baselines, handed to
 * tq_hotspot_run (geo); and the scan of the hotspot and corridor rules, which raises an alert
 * when a hot cell appears or a corridor forms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alerts/alerts.h"

#define HOT_PAGE 10000 /* incidents read per page for a hotspot run */
#define HOT_EVENTS_MAX ((size_t)20000000)

/* ---- hotspots and corridors ------------------------------------------------------------- */

void tq_monitor_hot_defaults(struct tq_hot_options *o)
{
    /* 10 km hexagons on a projection centred on the Syria-Iraq border region. */
    tq_hot_options_default(o, (struct tq_grid){.kind = TQ_GRID_HEX, .cell_km = 10, .lat0 = 34.5});
}

/* The incidents a run reads: points and times, and each one's collection (interned). */
struct hot_load {
    struct tq_hot_event *ev;
    uint16_t *coll; /* index into colls */
    size_t n, cap;
    char **colls;
    size_t n_colls;
    int64_t last_at, last_iid;
    bool too_many;
};

static tq_rc hot_row(void *ud, const struct tq_store_incident *row)
{
    struct hot_load *l = ud;
    size_t c;

    l->last_at = row->at_us;
    l->last_iid = row->iid;
    if (strcmp(row->kind, TQ__PLACE_KIND) == 0)
        return TQ_OK; /* a place, not an event */
    if (l->n == HOT_EVENTS_MAX) {
        l->too_many = true;
        return TQ_OK;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->ev = tq_xrealloc(l->ev, l->cap * sizeof(*l->ev));
        l->coll = tq_xrealloc(l->coll, l->cap * sizeof(*l->coll));
    }
    for (c = 0; c < l->n_colls; c++)
        if (strcmp(l->colls[c], row->collection_id) == 0)
            break;
    if (c == l->n_colls) {
        if (l->n_colls == UINT16_MAX)
            return tq_err_set(NULL, TQ_ETOOBIG, "too many collections");
        l->colls = tq_xrealloc(l->colls, (l->n_colls + 1) * sizeof(*l->colls));
        l->colls[l->n_colls++] = tq_xstrdup(row->collection_id);
    }
    l->ev[l->n] = (struct tq_hot_event){row->lon_e7 / 1e7, row->lat_e7 / 1e7, row->at_us};
    l->coll[l->n] = (uint16_t)c;
    l->n++;
    return TQ_OK;
}

static void hot_load_cleanup(struct hot_load *l)
{
    for (size_t i = 0; i < l->n_colls; i++)
        tq_free(l->colls[i]);
    tq_free(l->colls);
    tq_free(l->ev);
    tq_free(l->coll);
    memset(l, 0, sizeof(*l));
}

static tq_rc hot_read(struct tq_monitor *m, const struct tq_store_reader *reader, int64_t since,
                      int64_t until, struct hot_load *l, struct tq_err *err)
{
    struct tq_store_incident_query q = {0};
    bool more = true;
    tq_rc rc = TQ_OK;

    q.reader = reader;
    q.since_us = since;
    q.until_us = until;
    q.limit = HOT_PAGE;
    while (rc == TQ_OK && more && !l->too_many) {
        rc = tq_store_incidents(m->store, &q, hot_row, l, &more, err);
        q.has_cursor = true;
        q.cursor_at_us = l->last_at;
        q.cursor_iid = l->last_iid;
    }
    if (rc == TQ_OK && l->too_many)
        rc = tq_err_set(err, TQ_ETOOBIG, "monitor: more than %zu incidents in the period",
                        HOT_EVENTS_MAX);
    return rc;
}

static tq_rc hot_run(struct tq_monitor *m, const struct tq_store_reader *reader,
                     const struct tq_hot_options *opt, struct hot_load *l,
                     struct tq_hot_result **out, struct tq_err *err)
{
    struct tq_hot_options o;
    int64_t since;
    tq_rc rc;

    if (opt)
        o = *opt;
    else
        tq_monitor_hot_defaults(&o);
    /* Windows end on whole steps (days by default, UTC): two runs on one day see the same
     * windows, so that a hot cell or a corridor keeps its name (its alert's dedup key). */
    if (o.end_us == 0)
        o.end_us = tq_time_now_us();
    if (o.step_us > 0 && o.end_us % o.step_us)
        o.end_us += o.step_us - o.end_us % o.step_us;
    /*
     * The windows tested are those with a full baseline in what is read: reading twice the
     * baseline (and a window) tests the last baseline_windows windows, so that a corridor
     * growing over weeks is seen growing, each window against the weeks before it.
     */
    since = o.end_us - o.window_us * (int64_t)(2 * o.baseline_windows + 2);
    rc = hot_read(m, reader, since, o.end_us, l, err);
    if (rc == TQ_OK)
        rc = tq_hotspot_run(l->ev, l->n, &o, out, err);
    return rc;
}

tq_rc tq_monitor_hotspots(struct tq_monitor *m, const struct tq_store_reader *reader,
                          const struct tq_hot_options *o, struct tq_hot_result **out,
                          struct tq_err *err)
{
    struct hot_load l = {0};
    tq_rc rc;

    if (!m || !out)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    rc = hot_run(m, reader, o, &l, out, err);
    hot_load_cleanup(&l);
    return rc;
}

/* The collections of the incidents that fall in cells (any window of the run). */
static size_t cells_collections(const struct hot_load *l, const struct tq_grid *g,
                                const int64_t *cells, size_t n_cells, const char **out, size_t max)
{
    bool *seen = tq_xcalloc(l->n_colls ? l->n_colls : 1, sizeof(*seen));
    size_t k = 0;

    for (size_t i = 0; i < l->n; i++) {
        int64_t c = tq_grid_cell(g, l->ev[i].lon, l->ev[i].lat);

        if (seen[l->coll[i]])
            continue;
        for (size_t j = 0; j < n_cells; j++)
            if (cells[j] == c) {
                seen[l->coll[i]] = true;
                if (k < max)
                    out[k] = l->colls[l->coll[i]];
                k++;
                break;
            }
    }
    tq_free(seen);
    return k;
}

/* Whether cell was hot in the window ending at end_us. */
static bool hot_before(const struct tq_hot_result *res, int64_t cell, int64_t end_us)
{
    for (size_t i = 0; i < res->n_cells; i++)
        if (res->cells[i].cell == cell && res->cells[i].window_end_us == end_us &&
            res->cells[i].hot)
            return true;
    return false;
}

static void scan_rule(struct tq_monitor *m, const struct tq__rule *r, int64_t now, size_t *raised)
{
    struct tq_hot_options o;
    struct tq_hot_result *res = NULL;
    struct hot_load l = {0};
    struct tq_err err = {0};
    const char *colls[TQ_ALERT_COLLECTIONS_MAX + 1];
    char title[256], dedup[256], at[TQ_TIME_STR_MAX];
    struct tq_buf detail;
    double lon, lat;

    tq_monitor_hot_defaults(&o);
    o.grid.cell_km = r->cell_km > 0 ? r->cell_km : o.grid.cell_km;
    o.end_us = now;
    if (hot_run(m, NULL, &o, &l, &res, &err) != TQ_OK) {
        tq_log(TQ_LOG_WARN, "monitor: rule %s not evaluated: %s", r->name, err.msg);
        goto out;
    }
    tq_buf_init(&detail, 1 << 20);
    if (r->kind == TQ__RULE_HOTSPOT) {
        for (size_t i = 0; i < res->n_cells; i++) {
            const struct tq_hot_cell *c = &res->cells[i];
            size_t nc;

            if (!c->hot || c->window_end_us != res->cells[res->n_cells - 1].window_end_us ||
                hot_before(res, c->cell, c->window_end_us - o.step_us))
                continue; /* the latest window's, newly hot: appearing, not staying */
            nc = cells_collections(&l, &o.grid, &c->cell, 1, colls, TQ_ALERT_COLLECTIONS_MAX);
            tq_grid_center(&o.grid, c->cell, &lon, &lat);
            tq_time_format(c->window_end_us, at);
            snprintf(title, sizeof(title),
                     "hot cell at %.3f N %.3f E: %u incidents, %.1f expected (window to %s)", lat,
                     lon, c->count, c->expected, at);
            tq_buf_reset(&detail);
            tq_buf_printf(&detail,
                          "{\"cell\":%" PRId64 ",\"cell_km\":%g,\"lon\":%.5f,\"lat\":%.5f,"
                          "\"count\":%u,\"expected\":%.3f,\"z\":%.3f,\"p\":%.3g,"
                          "\"window_end\":\"%s\"}",
                          c->cell, o.grid.cell_km, lon, lat, c->count, c->expected, c->z, c->p, at);
            snprintf(dedup, sizeof(dedup), "hot:%" PRId64 ":%g:%" PRId64 ":%" PRId64, r->id,
                     o.grid.cell_km, c->cell, c->window_end_us);
            if (tq__monitor_raise(m, r, title, &detail, colls, nc, dedup) && raised)
                (*raised)++;
        }
    } else {
        for (size_t i = 0; i < res->n_corridors; i++) {
            const struct tq_corridor *c = &res->corridors[i];
            size_t nc = cells_collections(&l, &o.grid, c->cells, c->n_cells, colls,
                                          TQ_ALERT_COLLECTIONS_MAX);

            tq_time_format(c->first_us, at);
            snprintf(title, sizeof(title),
                     "corridor of %zu cells, %.0f km, heading %.0f degrees, since %s", c->n_cells,
                     c->length_km, c->direction_deg, at);
            tq_buf_reset(&detail);
            tq_buf_printf(&detail,
                          "{\"cells\":%zu,\"cell_km\":%g,\"length_km\":%.1f,"
                          "\"direction_deg\":%.1f,\"first\":\"%s\"}",
                          c->n_cells, o.grid.cell_km, c->length_km, c->direction_deg, at);
            /* One alert per corridor: named by where and when it started. */
            snprintf(dedup, sizeof(dedup), "corridor:%" PRId64 ":%g:%" PRId64 ":%" PRId64, r->id,
                     o.grid.cell_km, c->n_cells ? c->cells[0] : 0, c->first_us);
            if (tq__monitor_raise(m, r, title, &detail, colls, nc, dedup) && raised)
                (*raised)++;
        }
    }
    tq_buf_cleanup(&detail);
out:
    tq_hot_result_free(res);
    hot_load_cleanup(&l);
}

tq_rc tq_monitor_scan(struct tq_monitor *m, int64_t now_us, size_t *raised, struct tq_err *err)
{
    struct tq__rule *rules;
    size_t n;

    if (!m)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    if (raised)
        *raised = 0;
    /* A copy of the rules: a run may take a while and must not hold the lock meanwhile. */
    pthread_rwlock_rdlock(&m->lock);
    n = m->n_rules;
    rules = tq_xcalloc(n ? n : 1, sizeof(*rules));
    memcpy(rules, m->rules, n * sizeof(*rules));
    pthread_rwlock_unlock(&m->lock);
    for (size_t i = 0; i < n; i++)
        if (rules[i].kind == TQ__RULE_HOTSPOT || rules[i].kind == TQ__RULE_CORRIDOR)
            scan_rule(m, &rules[i], now_us ? now_us : tq_time_now_us(), raised);
    tq_free(rules);
    return TQ_OK;
}
