/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/hotspot.c - counting incidents per cell and window, and testing each cell against its
 * own past.
 *
 * Time is cut into steps ending at end_us; a window is a whole number m of steps, and the
 * baseline of a window is the B * m steps just before it (B = baseline_windows windows that
 * do not overlap it, so a burst inside the window never raises its own baseline). Every
 * occupied cell gets one row of prefix sums over the steps, so any window's count and any
 * baseline is one subtraction. In each window, each cell with an incident is tested:
 *
 *     expected = max(Y / B, floor),  floor = prior_share * (mean count per occupied cell and
 *                                            window over the whole run)
 *     p        = P(X >= count) for X ~ Poisson(expected)
 *
 * where Y is the cell's baseline count. The floor keeps a cell with an empty past from
 * making every new incident significant; a busy place (a town) is tested against its own
 * level. Benjamini-Hochberg at fdr_q runs over the cells tested in the window, and a rejected
 * cell with at least min_count incidents is hot. corridor.c then links hot cells into
 * corridors. docs/internals/hotspot.md has the reasoning and the limits.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/hot.h"
#include "tansiq/hotspot.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define EMPTY UINT32_MAX

/* ---- statistics ------------------------------------------------------------------------ */

double tq_hot_poisson_sf(unsigned k, double mu)
{
    double a = (double)k, lg, t, sum, b, c, d, h, an, del;
    int sign, i;

    if (k == 0)
        return 1.0;
    if (!(mu > 0))
        return 0.0;
    lg = lgamma_r(a, &sign);
    if (mu < a + 1) {
        /* P(a, mu) by its series: e^-mu mu^a / Gamma(a) * sum mu^n / (a (a+1) ... (a+n)). */
        t = sum = 1.0 / a;
        for (i = 1; i < 10000000; i++) {
            t *= mu / (a + i);
            sum += t;
            if (t < sum * 1e-15)
                break;
        }
        return sum * exp(-mu + a * log(mu) - lg);
    }
    /* Q(a, mu) by its continued fraction (modified Lentz); P = 1 - Q, here at least ~0.4. */
    b = mu + 1 - a;
    c = 1 / 1e-300;
    d = 1 / b;
    h = d;
    for (i = 1; i < 10000000; i++) {
        an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < 1e-300)
            d = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300)
            c = 1e-300;
        d = 1 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return 1.0 - exp(-mu + a * log(mu) - lg) * h;
}

struct ranked {
    double p;
    size_t i;
};

static int by_p(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

size_t tq_hot_bh(const double *p, size_t n, double q, bool *reject)
{
    struct ranked *rk;
    size_t i, m = 0, k = 0;

    for (i = 0; i < n; i++)
        reject[i] = false;
    if (n == 0)
        return 0;
    rk = tq_xcalloc(n, sizeof(*rk));
    for (i = 0; i < n; i++)
        if (!isnan(p[i]))
            rk[m++] = (struct ranked){p[i], i};
    qsort(rk, m, sizeof(*rk), by_p);
    /* The step-up rule: the largest rank j (1-based) with p_(j) <= j q / n. */
    for (i = m; i > 0; i--)
        if (rk[i - 1].p <= (double)i * q / (double)n) {
            k = i;
            break;
        }
    for (i = 0; i < k; i++)
        reject[rk[i].i] = true;
    tq_free(rk);
    return k;
}

/* ---- options --------------------------------------------------------------------------- */

void tq_hot_options_default(struct tq_hot_options *o, struct tq_grid grid)
{
    *o = (struct tq_hot_options){
        .grid = grid,
        .window_us = 7 * DAY_US,
        .step_us = DAY_US,
        .baseline_windows = 8,
        .fdr_q = 0.05,
        .min_count = 3,
        .min_corridor_cells = 4,
        .prior_share = 0.5,
    };
}

tq_rc tq_hot_options_check(const struct tq_hot_options *o, struct tq_err *err)
{
    tq_rc rc = tq_grid_check(&o->grid, err);

    if (rc)
        return rc;
    if (o->step_us < 1000000)
        return tq_err_set(err, TQ_EINVAL, "hotspot: step of %" PRId64 " us is under one second",
                          o->step_us);
    if (o->window_us < o->step_us || o->window_us % o->step_us != 0)
        return tq_err_set(err, TQ_EINVAL,
                          "hotspot: window of %" PRId64 " us is not a whole number of %" PRId64
                          " us steps",
                          o->window_us, o->step_us);
    if (o->window_us / o->step_us > TQ_HOT_SLOTS_MAX)
        return tq_err_set(err, TQ_EINVAL, "hotspot: window holds more than %d steps",
                          TQ_HOT_SLOTS_MAX);
    if (o->baseline_windows < 1 || o->baseline_windows > 64)
        return tq_err_set(err, TQ_EINVAL, "hotspot: baseline of %u windows is outside [1, 64]",
                          o->baseline_windows);
    if (!(o->fdr_q > 0 && o->fdr_q <= 0.5))
        return tq_err_set(err, TQ_EINVAL, "hotspot: FDR level %g is outside (0, 0.5]", o->fdr_q);
    if (o->min_count < 1)
        return tq_err_set(err, TQ_EINVAL, "hotspot: a hot cell needs at least one incident");
    if (o->min_corridor_cells < 2)
        return tq_err_set(err, TQ_EINVAL, "hotspot: a corridor needs at least two cells");
    if (!(o->prior_share >= 0 && o->prior_share <= 10))
        return tq_err_set(err, TQ_EINVAL, "hotspot: prior share %g is outside [0, 10]",
                          o->prior_share);
    return TQ_OK;
}

/* ---- cell index ------------------------------------------------------------------------ */

/* Open addressing from cell id to a dense index; the ids are kept in index order. */
struct cellmap {
    int64_t *keys;
    uint32_t *vals; /* EMPTY where free */
    size_t cap;     /* a power of two */
    int64_t *ids;   /* ids[index] */
    size_t n;
};

static size_t slot_of(int64_t key, size_t cap)
{
    uint64_t z = (uint64_t)key * 0x9e3779b97f4a7c15ULL;

    return (size_t)((z ^ (z >> 29)) & (cap - 1));
}

static void map_init(struct cellmap *m, size_t cap)
{
    m->cap = cap;
    m->keys = tq_xcalloc(cap, sizeof(*m->keys));
    m->vals = tq_xmalloc(cap * sizeof(*m->vals));
    memset(m->vals, 0xff, cap * sizeof(*m->vals));
    m->ids = tq_xcalloc(cap / 2, sizeof(*m->ids));
    m->n = 0;
}

static void map_cleanup(struct cellmap *m)
{
    tq_free(m->keys);
    tq_free(m->vals);
    tq_free(m->ids);
}

static uint32_t map_add(struct cellmap *m, int64_t key)
{
    size_t i = slot_of(key, m->cap);

    while (m->vals[i] != EMPTY) {
        if (m->keys[i] == key)
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    if (m->n + 1 > m->cap / 2) {
        struct cellmap bigger;
        size_t j;

        map_init(&bigger, m->cap * 2);
        for (j = 0; j < m->cap; j++)
            if (m->vals[j] != EMPTY) {
                size_t s = slot_of(m->keys[j], bigger.cap);

                while (bigger.vals[s] != EMPTY)
                    s = (s + 1) & (bigger.cap - 1);
                bigger.keys[s] = m->keys[j];
                bigger.vals[s] = m->vals[j];
            }
        memcpy(bigger.ids, m->ids, m->n * sizeof(*m->ids));
        bigger.n = m->n;
        map_cleanup(m);
        *m = bigger;
        return map_add(m, key);
    }
    m->keys[i] = key;
    m->vals[i] = (uint32_t)m->n;
    m->ids[m->n] = key;
    return (uint32_t)m->n++;
}

/* ---- the run --------------------------------------------------------------------------- */

static tq_rc check_events(const struct tq_hot_event *ev, size_t n, struct tq_err *err)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!(ev[i].lon >= -180 && ev[i].lon <= 180 && ev[i].lat >= -90 && ev[i].lat <= 90))
            return tq_err_set(err, TQ_EINVAL,
                              "hotspot: event %zu has coordinates (%g, %g) that are NaN or out "
                              "of range",
                              i, ev[i].lon, ev[i].lat);
    return TQ_OK;
}

static void push_cell(struct tq_hot_result *r, size_t *cap, const struct tq_hot_cell *c)
{
    if (r->n_cells == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        r->cells = tq_xrealloc(r->cells, *cap * sizeof(*r->cells));
    }
    r->cells[r->n_cells++] = *c;
}

tq_rc tq_hotspot_run(const struct tq_hot_event *ev, size_t n, const struct tq_hot_options *o,
                     struct tq_hot_result **out, struct tq_err *err)
{
    struct tq_hot_result *r = NULL;
    struct cellmap map = {0};
    uint32_t *ev_cell = NULL, *ev_slot = NULL, *prefix = NULL, *count = NULL;
    uint8_t *hot = NULL;
    double *p = NULL, *expected = NULL, floor_mu;
    bool *reject = NULL;
    size_t *tested = NULL, i, c, w, ncell, nslot, need, nwin, row, cap_cells = 0, used = 0;
    uint64_t m, kmax = 0;
    int64_t end;
    tq_rc rc;

    rc = tq_hot_options_check(o, err);
    if (rc)
        return rc;
    if (n > TQ_HOT_EVENTS_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "hotspot: %zu events, the limit is %zu", n,
                          TQ_HOT_EVENTS_MAX);
    if (n && !ev)
        return tq_err_set(err, TQ_EINVAL, "hotspot: no event array for %zu events", n);
    rc = check_events(ev, n, err);
    if (rc)
        return rc;

    r = tq_xcalloc(1, sizeof(*r));
    end = o->end_us;
    if (end == 0)
        for (i = 0; i < n; i++)
            end = i == 0 || ev[i].at_us > end ? ev[i].at_us : end;
    r->end_us = end;
    m = (uint64_t)(o->window_us / o->step_us);
    need = (size_t)m * (o->baseline_windows + 1);

    /* How many steps of history the events span, before anything is allocated for them. */
    for (i = 0; i < n; i++)
        if (ev[i].at_us <= end) {
            uint64_t k = ((uint64_t)end - (uint64_t)ev[i].at_us) / (uint64_t)o->step_us;

            used++;
            kmax = k > kmax ? k : kmax;
        }
    if (used == 0 || kmax + 1 < need)
        goto done; /* no window with a full baseline */
    if (kmax >= TQ_HOT_SLOTS_MAX) {
        rc = tq_err_set(err, TQ_ETOOBIG,
                        "hotspot: events span %" PRIu64 " steps before the end, the limit is %d",
                        kmax + 1, TQ_HOT_SLOTS_MAX);
        goto out;
    }
    nslot = (size_t)kmax + 1;
    nwin = nslot - need + 1;

    /* Bin: each event's cell (a dense index) and step. */
    map_init(&map, 1024);
    ev_cell = tq_xcalloc(n, sizeof(*ev_cell));
    ev_slot = tq_xcalloc(n, sizeof(*ev_slot));
    for (i = 0; i < n; i++) {
        if (ev[i].at_us > end) {
            ev_slot[i] = EMPTY;
            continue;
        }
        ev_slot[i] =
            (uint32_t)(nslot - 1 - ((uint64_t)end - (uint64_t)ev[i].at_us) / (uint64_t)o->step_us);
        ev_cell[i] = map_add(&map, tq_grid_cell(&o->grid, ev[i].lon, ev[i].lat));
        if (map.n > TQ_HOT_CELL_SLOTS_MAX / (nslot + 1)) {
            rc = tq_err_set(err, TQ_ETOOBIG,
                            "hotspot: more than %zu occupied cells x %zu steps to count",
                            TQ_HOT_CELL_SLOTS_MAX, nslot);
            goto out;
        }
    }
    ncell = map.n;
    row = nslot + 1;
    prefix = tq_xcalloc(ncell * row, sizeof(*prefix));
    for (i = 0; i < n; i++)
        if (ev_slot[i] != EMPTY)
            prefix[ev_cell[i] * row + ev_slot[i] + 1]++;
    for (c = 0; c < ncell; c++)
        for (i = 1; i < row; i++)
            prefix[c * row + i] += prefix[c * row + i - 1];
    tq_free(ev_cell);
    tq_free(ev_slot);
    ev_cell = ev_slot = NULL;

    floor_mu = (o->prior_share > 0 ? o->prior_share : 0.5) * (double)used * (double)m /
               ((double)nslot * (double)ncell);

    /* Test every window with a full baseline: e is the index of its last step. */
    hot = tq_xcalloc(ncell * nwin, 1);
    tested = tq_xcalloc(ncell, sizeof(*tested));
    count = tq_xcalloc(ncell, sizeof(*count));
    p = tq_xcalloc(ncell, sizeof(*p));
    expected = tq_xcalloc(ncell, sizeof(*expected));
    reject = tq_xcalloc(ncell, sizeof(*reject));
    for (w = 0; w < nwin; w++) {
        size_t e = need - 1 + w, nt = 0, j;
        int64_t wend = end - (int64_t)(nslot - 1 - e) * o->step_us;

        for (c = 0; c < ncell; c++) {
            const uint32_t *pc = prefix + c * row;
            uint32_t x = pc[e + 1] - pc[e + 1 - m];
            uint32_t y = pc[e + 1 - m] - pc[e + 1 - need];
            double mu = (double)y / o->baseline_windows;

            /* A cell with no incident in the window has p = 1 and is left out of the count of
             * tests, as it can never be rejected. */
            if (x == 0)
                continue;
            if (mu < floor_mu)
                mu = floor_mu;
            tested[nt] = c;
            count[nt] = x;
            expected[nt] = mu;
            p[nt] = tq_hot_poisson_sf(x, mu);
            nt++;
        }
        r->n_tests += nt;
        tq_hot_bh(p, nt, o->fdr_q, reject);
        for (j = 0; j < nt; j++) {
            struct tq_hot_cell hc;

            if (!reject[j] || count[j] < o->min_count)
                continue;
            hc = (struct tq_hot_cell){
                .cell = map.ids[tested[j]],
                .window_end_us = wend,
                .count = count[j],
                .expected = expected[j],
                .z = (count[j] - expected[j]) / sqrt(expected[j]),
                .p = p[j],
                .hot = true,
            };
            push_cell(r, &cap_cells, &hc);
            hot[tested[j] * nwin + w] = 1;
        }
    }
    r->n_windows_tested = nwin;
    rc = tq__hot_corridors(o, map.ids, ncell, prefix, nslot, need - 1, nwin, hot, end, r, err);
    if (rc)
        goto out;
done:
    *out = r;
    r = NULL;
    rc = TQ_OK;
out:
    tq_hot_result_free(r);
    map_cleanup(&map);
    tq_free(ev_cell);
    tq_free(ev_slot);
    tq_free(prefix);
    tq_free(hot);
    tq_free(tested);
    tq_free(count);
    tq_free(p);
    tq_free(expected);
    tq_free(reject);
    return rc;
}

void tq_hot_result_free(struct tq_hot_result *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n_corridors; i++) {
        tq_free(r->corridors[i].cells);
        tq_free(r->corridors[i].cells_per_window);
        tq_free(r->corridors[i].events_per_window);
    }
    tq_free(r->corridors);
    tq_free(r->cells);
    tq_free(r);
}

/* ---- GeoJSON --------------------------------------------------------------------------- */

static tq_rc geojson_cell(struct tq_buf *b, const struct tq_hot_options *o,
                          const struct tq_hot_cell *hc)
{
    double ring[TQ_GRID_POLYGON_MAX][2];
    char t[TQ_TIME_STR_MAX];
    size_t k, nv = tq_grid_polygon(&o->grid, hc->cell, ring, TQ_GRID_POLYGON_MAX);
    tq_rc rc = tq_buf_append_c(b, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\","
                                  "\"coordinates\":[[");

    for (k = 0; !rc && k <= nv; k++)
        rc = tq_buf_printf(b, "%s[%.6f,%.6f]", k ? "," : "", ring[k % nv][0], ring[k % nv][1]);
    tq_time_format(hc->window_end_us, t);
    if (!rc)
        rc = tq_buf_printf(b,
                           "]]},\"properties\":{\"kind\":\"hot-cell\",\"cell\":%" PRId64
                           ",\"count\":%u,\"expected\":%.6g,\"z\":%.6g,\"p\":%.6g,"
                           "\"window_end\":\"%s\"}}",
                           hc->cell, hc->count, hc->expected, hc->z, hc->p, t);
    return rc;
}

static tq_rc geojson_uints(struct tq_buf *b, const char *name, const unsigned *v, size_t n)
{
    tq_rc rc = tq_buf_printf(b, ",\"%s\":[", name);
    size_t k;

    for (k = 0; !rc && k < n; k++)
        rc = tq_buf_printf(b, "%s%u", k ? "," : "", v[k]);
    return rc ? rc : tq_buf_append_c(b, "]");
}

static tq_rc geojson_corridor(struct tq_buf *b, const struct tq_hot_options *o,
                              const struct tq_corridor *cr)
{
    char t0[TQ_TIME_STR_MAX], t1[TQ_TIME_STR_MAX];
    double lon, lat;
    size_t k;
    tq_rc rc = tq_buf_append_c(b, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                                  "\"coordinates\":[");

    for (k = 0; !rc && k < cr->n_cells; k++) {
        tq_grid_center(&o->grid, cr->cells[k], &lon, &lat);
        rc = tq_buf_printf(b, "%s[%.6f,%.6f]", k ? "," : "", lon, lat);
    }
    tq_time_format(cr->first_us, t0);
    tq_time_format(cr->last_us, t1);
    if (!rc)
        rc = tq_buf_printf(b,
                           "]},\"properties\":{\"kind\":\"corridor\",\"id\":%u,\"cells\":%zu,"
                           "\"direction_deg\":%.1f,\"length_km\":%.1f,\"first\":\"%s\","
                           "\"last\":\"%s\"",
                           cr->id, cr->n_cells, cr->direction_deg, cr->length_km, t0, t1);
    if (!rc)
        rc = geojson_uints(b, "cells_per_window", cr->cells_per_window, cr->n_windows);
    if (!rc)
        rc = geojson_uints(b, "events_per_window", cr->events_per_window, cr->n_windows);
    return rc ? rc : tq_buf_append_c(b, "}}");
}

tq_rc tq_hotspot_geojson(const struct tq_hot_result *r, const struct tq_hot_options *o,
                         bool latest_only, struct tq_buf *out, struct tq_err *err)
{
    size_t start = out->len, i, nf = 0;
    tq_rc rc = tq_buf_append_c(out, "{\"type\":\"FeatureCollection\",\"features\":[");

    for (i = 0; !rc && i < r->n_cells; i++) {
        if (latest_only && r->cells[i].window_end_us != r->end_us)
            continue;
        rc = nf++ ? tq_buf_append_c(out, ",") : TQ_OK;
        if (!rc)
            rc = geojson_cell(out, o, &r->cells[i]);
    }
    for (i = 0; !rc && i < r->n_corridors; i++) {
        rc = nf++ ? tq_buf_append_c(out, ",") : TQ_OK;
        if (!rc)
            rc = geojson_corridor(out, o, &r->corridors[i]);
    }
    if (!rc)
        rc = tq_buf_append_c(out, "]}");
    if (rc) {
        out->len = start;
        if (out->ptr)
            out->ptr[start] = '\0';
        return tq_err_set(err, rc, "hotspot: GeoJSON does not fit in the buffer (%zu bytes)",
                          out->max);
    }
    return TQ_OK;
}
