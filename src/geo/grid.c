/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/grid.c - km-true hexagonal and square grids for counting incidents.
 *
 * The grid lives on a local equidistant projection around lat0 (x = R lon cos(lat0),
 * y = R (lat - lat0)), so that a cell measures cell_km on the ground near the monitored region
 * whatever its latitude, and cells are cheap to find: a point's cell is two multiplications
 * and a rounding, with no trigonometry per point. The price is distortion away from lat0
 * (x scales with cos(lat) / cos(lat0)): about 1 % for 5 degrees at 35 N, 10 % for 15 degrees,
 * which is why one grid serves a region, not the globe. No wrap at the antimeridian.
 *
 * Hexagons are pointy-topped, in axial coordinates (q, r) with the third cube coordinate
 * -q - r implied (the conventions of Amit Patel's "Hexagonal Grids"); squares use column and
 * row. Both pack into one int64 as q << 32 | (uint32_t)r.
 */
#include <math.h>
#include <stdlib.h>

#include "tansiq/hotspot.h"

#define EARTH_KM 6371.0088 /* IUGG mean radius */
#define DEG (M_PI / 180.0)
#define SQRT3 1.7320508075688772

static int64_t pack(int64_t q, int64_t r)
{
    return (int64_t)((uint64_t)(uint32_t)(int32_t)q << 32 | (uint32_t)(int32_t)r);
}

static void unpack(int64_t id, int64_t *q, int64_t *r)
{
    *q = (int32_t)(uint32_t)((uint64_t)id >> 32);
    *r = (int32_t)(uint32_t)(uint64_t)id;
}

/* Circumradius of a hexagon whose neighbours' centres are cell_km apart. */
static double hex_size(const struct tq_grid *g)
{
    return g->cell_km / SQRT3;
}

static void to_km(const struct tq_grid *g, double lon, double lat, double *x, double *y)
{
    *x = EARTH_KM * lon * DEG * cos(g->lat0 * DEG);
    *y = EARTH_KM * (lat - g->lat0) * DEG;
}

static void from_km(const struct tq_grid *g, double x, double y, double *lon, double *lat)
{
    *lon = x / (EARTH_KM * DEG * cos(g->lat0 * DEG));
    *lat = g->lat0 + y / (EARTH_KM * DEG);
}

static void center_km(const struct tq_grid *g, int64_t cell, double *x, double *y)
{
    int64_t q, r;

    unpack(cell, &q, &r);
    if (g->kind == TQ_GRID_HEX) {
        double s = hex_size(g);

        *x = s * SQRT3 * ((double)q + (double)r / 2);
        *y = s * 1.5 * (double)r;
    } else {
        *x = ((double)q + 0.5) * g->cell_km;
        *y = ((double)r + 0.5) * g->cell_km;
    }
}

tq_rc tq_grid_check(const struct tq_grid *g, struct tq_err *err)
{
    if (g->kind != TQ_GRID_HEX && g->kind != TQ_GRID_SQUARE)
        return tq_err_set(err, TQ_EINVAL, "hotspot: grid kind %d is neither hex nor square",
                          (int)g->kind);
    if (!(g->cell_km >= TQ_GRID_CELL_KM_MIN && g->cell_km <= TQ_GRID_CELL_KM_MAX))
        return tq_err_set(err, TQ_EINVAL, "hotspot: cell size %g km is outside [%g, %g]",
                          g->cell_km, TQ_GRID_CELL_KM_MIN, TQ_GRID_CELL_KM_MAX);
    if (!(g->lat0 >= -80 && g->lat0 <= 80))
        return tq_err_set(err, TQ_EINVAL,
                          "hotspot: projection latitude %g is outside [-80, 80] degrees", g->lat0);
    return TQ_OK;
}

int64_t tq_grid_cell(const struct tq_grid *g, double lon, double lat)
{
    double x, y;

    to_km(g, lon, lat, &x, &y);
    if (g->kind == TQ_GRID_HEX) {
        double s = hex_size(g);
        double fq = (SQRT3 / 3 * x - y / 3) / s, fr = 2.0 / 3 * y / s, fs = -fq - fr;
        double q = round(fq), r = round(fr), t = round(fs);
        double dq = fabs(q - fq), dr = fabs(r - fr), ds = fabs(t - fs);

        /* Cube rounding: the coordinate that moved most is rebuilt from the other two. */
        if (dq > dr && dq > ds)
            q = -r - t;
        else if (dr > ds)
            r = -q - t;
        return pack((int64_t)q, (int64_t)r);
    }
    return pack((int64_t)floor(x / g->cell_km), (int64_t)floor(y / g->cell_km));
}

void tq_grid_center(const struct tq_grid *g, int64_t cell, double *lon, double *lat)
{
    double x, y;

    center_km(g, cell, &x, &y);
    from_km(g, x, y, lon, lat);
}

size_t tq_grid_polygon(const struct tq_grid *g, int64_t cell, double lonlat[][2], size_t max)
{
    static const double sq[4][2] = {{-0.5, -0.5}, {0.5, -0.5}, {0.5, 0.5}, {-0.5, 0.5}};
    double cx, cy, x, y;
    size_t i, n = g->kind == TQ_GRID_HEX ? 6 : 4;

    if (n > max)
        n = max;
    center_km(g, cell, &cx, &cy);
    for (i = 0; i < n; i++) {
        if (g->kind == TQ_GRID_HEX) {
            double a = (60.0 * (double)i - 30.0) * DEG;

            x = cx + hex_size(g) * cos(a);
            y = cy + hex_size(g) * sin(a);
        } else {
            x = cx + sq[i][0] * g->cell_km;
            y = cy + sq[i][1] * g->cell_km;
        }
        from_km(g, x, y, &lonlat[i][0], &lonlat[i][1]);
    }
    return n;
}

size_t tq_grid_neighbours(const struct tq_grid *g, int64_t cell, int64_t out[8])
{
    static const int hex[6][2] = {{1, 0}, {1, -1}, {0, -1}, {-1, 0}, {-1, 1}, {0, 1}};
    static const int sq[8][2] = {{1, 0},  {1, 1},   {0, 1},  {-1, 1},
                                 {-1, 0}, {-1, -1}, {0, -1}, {1, -1}};
    int64_t q, r;
    size_t i, n = g->kind == TQ_GRID_HEX ? 6 : 8;

    unpack(cell, &q, &r);
    for (i = 0; i < n; i++) {
        const int *d = g->kind == TQ_GRID_HEX ? hex[i] : sq[i];

        out[i] = pack(q + d[0], r + d[1]);
    }
    return n;
}

int64_t tq_grid_distance(const struct tq_grid *g, int64_t a, int64_t b)
{
    int64_t qa, ra, qb, rb, dq, dr;

    unpack(a, &qa, &ra);
    unpack(b, &qb, &rb);
    dq = qa - qb;
    dr = ra - rb;
    if (g->kind == TQ_GRID_HEX)
        return (llabs(dq) + llabs(dr) + llabs(dq + dr)) / 2;
    return llabs(dq) > llabs(dr) ? llabs(dq) : llabs(dr);
}
