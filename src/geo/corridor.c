/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/corridor.c - hot cells linked in space and time into corridors.
 *
 * A corridor is what a smuggling route looks like in the counts: a chain of cells that turn
 * hot one after another as the route extends. Two hot cells are linked when they are at most
 * two grid steps apart (neighbours, or one cold cell between them, since a route does not
 * light every cell it crosses) and when their hot periods overlap or are less than one window
 * apart. Linked cells form a candidate (union-find); a candidate is a corridor when it has at
 * least min_corridor_cells cells, its cells turned hot over at least one window length (a
 * one-off burst lights its cells together and is not a corridor, however large), and the
 * order in which they turned hot follows their place along the chain. The
 * direction is the principal axis of the cells' centres (on the grid's km projection),
 * oriented so that it points from the cells that were hot first to those hot last.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/hot.h"
#include "tansiq/hotspot.h"

#define EARTH_KM 6371.0088
#define DEG (M_PI / 180.0)
/*
 * The least correlation between a cell's place along the axis and the window it turned hot
 * in: below it the cells did not light up in order (a chain of unrelated bursts, say).
 */
#define MIN_GROWTH_CORR 0.5

/* A cell hot at least once: its dense index and first and last hot window. */
struct hcell {
    int64_t id;
    size_t c, first, last;
    double x, y, along; /* centre on the projection (km); position along the axis */
};

static int by_id(const void *a, const void *b)
{
    const struct hcell *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_time_then_axis(const void *a, const void *b)
{
    const struct hcell *x = a, *y = b;

    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if (x->along != y->along)
        return x->along < y->along ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_first_us(const void *a, const void *b)
{
    const struct tq_corridor *x = a, *y = b;

    if (x->first_us != y->first_us)
        return x->first_us < y->first_us ? -1 : 1;
    return x->cells[0] < y->cells[0] ? -1 : x->cells[0] > y->cells[0];
}

static size_t find(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static struct hcell *lookup(struct hcell *hc, size_t n, int64_t id)
{
    struct hcell key = {.id = id};

    return bsearch(&key, hc, n, sizeof(*hc), by_id);
}

/* Link every hot cell to the hot cells within two steps whose hot periods touch. */
static void link_cells(const struct tq_hot_options *o, struct hcell *hc, size_t n, size_t *parent,
                       size_t m)
{
    int64_t ring1[8], ring2[8];
    size_t i, j, k, n1, n2;

    for (i = 0; i < n; i++) {
        n1 = tq_grid_neighbours(&o->grid, hc[i].id, ring1);
        for (j = 0; j < n1; j++) {
            n2 = tq_grid_neighbours(&o->grid, ring1[j], ring2);
            for (k = 0; k <= n2; k++) {
                struct hcell *b = lookup(hc, n, k < n2 ? ring2[k] : ring1[j]);

                if (!b || b == &hc[i])
                    continue;
                if (b->first > hc[i].last + m || hc[i].first > b->last + m)
                    continue;
                parent[find(parent, (size_t)(b - hc))] = find(parent, i);
            }
        }
    }
}

/* Fill cr from the cells of one component (g[0..k)); false when it is not a corridor. */
static bool make_corridor(const struct tq_hot_options *o, struct hcell *g, size_t k,
                          const uint32_t *prefix, size_t nslot, size_t e0, size_t nwin,
                          const uint8_t *hot, int64_t end_us, size_t m, struct tq_corridor *cr)
{
    double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0, st = 0, saa = 0, stt = 0, mt = 0, th, ux, uy,
           lo, hi;
    size_t i, w, fmin = SIZE_MAX, fmax = 0, lmax = 0, row = nslot + 1;

    for (i = 0; i < k; i++) {
        fmin = g[i].first < fmin ? g[i].first : fmin;
        fmax = g[i].first > fmax ? g[i].first : fmax;
        lmax = g[i].last > lmax ? g[i].last : lmax;
        mx += g[i].x / (double)k;
        my += g[i].y / (double)k;
        mt += (double)g[i].first / (double)k;
    }
    if (k < o->min_corridor_cells || fmax - fmin < m)
        return false;
    for (i = 0; i < k; i++) {
        double dx = g[i].x - mx, dy = g[i].y - my;

        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    /* The principal axis of the 2x2 covariance, then oriented by time. */
    th = 0.5 * atan2(2 * sxy, sxx - syy);
    ux = cos(th);
    uy = sin(th);
    for (i = 0; i < k; i++) {
        double a = (g[i].x - mx) * ux + (g[i].y - my) * uy, dt = (double)g[i].first - mt;

        st += a * dt;
        saa += a * a;
        stt += dt * dt;
    }
    /* A route grows along its axis: the time a cell turned hot must follow its place on it. */
    if (fabs(st) < MIN_GROWTH_CORR * sqrt(saa * stt))
        return false;
    if (st < 0) {
        ux = -ux;
        uy = -uy;
    }
    lo = INFINITY;
    hi = -INFINITY;
    for (i = 0; i < k; i++) {
        g[i].along = (g[i].x - mx) * ux + (g[i].y - my) * uy;
        lo = g[i].along < lo ? g[i].along : lo;
        hi = g[i].along > hi ? g[i].along : hi;
    }
    qsort(g, k, sizeof(*g), by_time_then_axis);

    cr->direction_deg = fmod(atan2(ux, uy) / DEG + 360.0, 360.0);
    cr->length_km = hi - lo;
    cr->n_cells = k;
    cr->cells = tq_xcalloc(k, sizeof(*cr->cells));
    for (i = 0; i < k; i++)
        cr->cells[i] = g[i].id;
    cr->first_us = end_us - (int64_t)(nwin - 1 - fmin) * o->step_us;
    cr->last_us = end_us - (int64_t)(nwin - 1 - lmax) * o->step_us;
    cr->n_windows = lmax - fmin + 1;
    cr->cells_per_window = tq_xcalloc(cr->n_windows, sizeof(unsigned));
    cr->events_per_window = tq_xcalloc(cr->n_windows, sizeof(unsigned));
    for (w = fmin; w <= lmax; w++) {
        size_t e = e0 + w;

        for (i = 0; i < k; i++) {
            const uint32_t *pc = prefix + g[i].c * row;

            cr->cells_per_window[w - fmin] += hot[g[i].c * nwin + w];
            cr->events_per_window[w - fmin] += pc[e + 1] - pc[e + 1 - m];
        }
    }
    return true;
}

/*
 * Find the corridors among the hot (cell, window) pairs of a run and append them to r.
 * ids[c] is cell c's id; prefix holds ncell rows of nslot + 1 prefix sums of counts per step;
 * tested window w ends at step e0 + w, and hot[c * nwin + w] says whether cell c was hot in
 * it. Corridors get ids 1, 2, ... in the order of their first hot window.
 */
tq_rc tq__hot_corridors(const struct tq_hot_options *o, const int64_t *ids, size_t ncell,
                        const uint32_t *prefix, size_t nslot, size_t e0, size_t nwin,
                        const uint8_t *hot, int64_t end_us, struct tq_hot_result *r,
                        struct tq_err *err)
{
    size_t m = (size_t)(o->window_us / o->step_us), n = 0, c, w, i, j, cap = 0;
    size_t *parent = NULL, *order = NULL;
    struct hcell *hc = NULL, *g = NULL;

    (void)err;
    hc = tq_xcalloc(ncell ? ncell : 1, sizeof(*hc));
    for (c = 0; c < ncell; c++) {
        size_t first = SIZE_MAX, last = 0;
        double lon, lat;

        for (w = 0; w < nwin; w++)
            if (hot[c * nwin + w]) {
                first = first == SIZE_MAX ? w : first;
                last = w;
            }
        if (first == SIZE_MAX)
            continue;
        tq_grid_center(&o->grid, ids[c], &lon, &lat);
        hc[n++] = (struct hcell){
            .id = ids[c],
            .c = c,
            .first = first,
            .last = last,
            .x = EARTH_KM * lon * DEG * cos(o->grid.lat0 * DEG),
            .y = EARTH_KM * (lat - o->grid.lat0) * DEG,
        };
    }
    if (n == 0)
        goto out;
    qsort(hc, n, sizeof(*hc), by_id);
    parent = tq_xcalloc(n, sizeof(*parent));
    for (i = 0; i < n; i++)
        parent[i] = i;
    link_cells(o, hc, n, parent, m);

    /* Group the cells by component: order[] lists them root by root. */
    order = tq_xcalloc(n, sizeof(*order));
    g = tq_xcalloc(n, sizeof(*g));
    for (i = 0; i < n; i++)
        order[i] = i;
    for (i = 0; i < n; i++)
        parent[i] = find(parent, i);
    for (i = 0; i < n;) {
        size_t root = parent[order[i]], k = 0;
        struct tq_corridor cr = {0};

        for (j = i; j < n; j++)
            if (parent[order[j]] == root) {
                size_t t = order[j];

                order[j] = order[i + k];
                order[i + k] = t;
                g[k++] = hc[t];
            }
        i += k;
        if (!make_corridor(o, g, k, prefix, nslot, e0, nwin, hot, end_us, m, &cr))
            continue;
        if (r->n_corridors == cap) {
            cap = cap ? cap * 2 : 4;
            r->corridors = tq_xrealloc(r->corridors, cap * sizeof(*r->corridors));
        }
        r->corridors[r->n_corridors++] = cr;
    }
    if (r->n_corridors > 1)
        qsort(r->corridors, r->n_corridors, sizeof(*r->corridors), by_first_us);
    for (i = 0; i < r->n_corridors; i++)
        r->corridors[i].id = (unsigned)(i + 1);
out:
    tq_free(hc);
    tq_free(parent);
    tq_free(order);
    tq_free(g);
    return TQ_OK;
}
