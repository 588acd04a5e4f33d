/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/index.c - the point-tagging index: units in a GEOS STRtree of prepared geometries, the
 * international border derived from the countries' outlines, and two grids that answer most
 * points without GEOS.
 *
 * Why the grids: tagging must reach 1,000,000 points/s on one core, border distance included.
 * GEOS alone does not: brute force (every unit's plain geometry, GEOSDistance_r to the border)
 * measured 8-11 k points/s on the Syria + Iraq data, and an STRtree with prepared geometry
 * still spends microseconds per point on the border distance and 50 us on points near a unit,
 * since GEOS 3.11's prepared nearest-points query is not indexed. With the grids below,
 * bench/bench_geo.c measures 1.3-1.4 M points/s on one core. So:
 *
 *  - a fine grid (up to 1024 x 1024 cells over the units' extent) records, for each cell that
 *    no unit boundary touches, the unit that holds the whole cell, or that the cell lies
 *    farther than the tolerance from every unit. Only cells that a boundary crosses, or that
 *    lie outside every unit but within the tolerance of one, go to GEOS (a few per cent);
 *  - a coarser distance grid (4 x 4 fine cells) lists, per cell, the border segments that can
 *    be nearest to some point of the cell: those whose distance to the cell is at most the
 *    smallest distance from the cell's farthest corner to any segment. A point then measures
 *    only its cell's list, in a plane scaled for the cell's latitude, and reports the
 *    haversine distance to the nearest point found.
 *
 * Threads: the index is read-only once built. GEOS structures that build themselves lazily
 * (the STRtree, each prepared geometry's point locator and facet index) are exercised once at
 * build time, and each thread calls GEOS through its own context (geo.h), so tq_geo_tag needs
 * no lock.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "geo/geo.h"
#include "tansiq/json.h"

#if !TQ_HAVE_GEOS

tq_rc tq_geo_index_build(const struct tq_geo_unit *units, size_t n,
                         const struct tq_geo_index_options *opt, struct tq_geo_index **out,
                         struct tq_err *err)
{
    (void)units;
    (void)n;
    (void)opt;
    (void)out;
    return tq_err_set(err, TQ_ENOTSUP, "geo: built without GEOS (TQ_HAVE_GEOS=0)");
}

void tq_geo_index_free(struct tq_geo_index *ix)
{
    (void)ix;
}

size_t tq_geo_index_units(const struct tq_geo_index *ix)
{
    (void)ix;
    return 0;
}

size_t tq_geo_index_countries(const struct tq_geo_index *ix)
{
    (void)ix;
    return 0;
}

double tq_geo_index_border_km(const struct tq_geo_index *ix)
{
    (void)ix;
    return 0;
}

tq_rc tq_geo_tag(const struct tq_geo_index *ix, double lon, double lat, struct tq_geo_tag *out,
                 struct tq_err *err)
{
    (void)ix;
    (void)lon;
    (void)lat;
    (void)out;
    return tq_err_set(err, TQ_ENOTSUP, "geo: built without GEOS (TQ_HAVE_GEOS=0)");
}

tq_rc tq_geo_index_units_geojson(const struct tq_geo_index *ix, double simplify_km,
                                 struct tq_buf *out, struct tq_err *err)
{
    (void)ix;
    (void)simplify_km;
    (void)out;
    return tq_err_set(err, TQ_ENOTSUP, "geo: built without GEOS (TQ_HAVE_GEOS=0)");
}

tq_rc tq_geo_index_border_geojson(const struct tq_geo_index *ix, struct tq_buf *out,
                                  struct tq_err *err)
{
    (void)ix;
    (void)out;
    return tq_err_set(err, TQ_ENOTSUP, "geo: built without GEOS (TQ_HAVE_GEOS=0)");
}

#else

#define DEG (0.017453292519943295)
#define GRID_MAX_SIDE 2048 /* fine grid cells along the longer side */
#define DGRID_FACTOR 4     /* distance-grid cell = 4 x 4 fine cells */
#define CHUNK 16           /* border segments per chunk for building the distance grid */
#define CELL_SLOW (-1)     /* fine cell: ask GEOS */
#define CELL_FAR (-2)      /* fine cell: farther than the tolerance from every unit */
#define MAX_CANDIDATES ((size_t)64 << 20)

struct unit {
    struct tq_geo_unit u; /* owned copies */
    GEOSGeometry *g;
    const GEOSPreparedGeometry *prep;
    size_t country;
    bool answers; /* level 1, or level 0 of a country without level-1 units */
};

struct country {
    char *pcode;
    GEOSGeometry *outline; /* owned: the level-0 outline or the union of the level-1 units */
};

struct side { /* one country's line along a shared stretch */
    size_t country, other;
    GEOSGeometry *line;
    double km;
};

struct seg {
    double x1, y1, x2, y2;
};

struct useg {
    double x1, y1, x2, y2;
    size_t unit;
};

struct tq_geo_index {
    struct unit *units;
    size_t n_units, n_answer;
    struct country *countries;
    size_t n_countries;
    struct side *sides;
    size_t n_sides;
    double border_km;
    double tol_km;
    GEOSSTRtree *tree;
    GEOSGeometry *border; /* every side's line, for points beyond the distance grid */
    const GEOSPreparedGeometry *border_prep;

    struct seg *segs; /* border segments, lon/lat */
    size_t n_segs;

    double gx0, gy0, gcell; /* fine grid origin and cell size, degrees */
    int gw, gh;
    int32_t *cells;

    struct useg *usegs; /* unit boundary segments, for the nearest unit */
    size_t n_usegs;
    uint32_t *uoff; /* dw * dh + 1 offsets into uidx: the segments touching each bucket */
    uint32_t *uidx;

    double dcell; /* distance grid: same origin */
    int dw, dh;
    double *dcos;   /* per row: cos of the row's central latitude */
    uint32_t *doff; /* dw * dh + 1 offsets into dsegs */
    uint32_t *dsegs;
};

size_t tq_geo_index_units(const struct tq_geo_index *ix)
{
    return ix ? ix->n_answer : 0;
}

size_t tq_geo_index_countries(const struct tq_geo_index *ix)
{
    return ix ? ix->n_countries : 0;
}

double tq_geo_index_border_km(const struct tq_geo_index *ix)
{
    return ix ? ix->border_km : 0;
}

void tq_geo_index_free(struct tq_geo_index *ix)
{
    struct tq__geo_ctx *c;
    size_t i;

    if (!ix)
        return;
    c = tq__geo_ctx();
    if (ix->tree)
        GEOSSTRtree_destroy_r(c->h, ix->tree);
    for (i = 0; i < ix->n_units; i++) {
        struct unit *u = &ix->units[i];

        if (u->prep)
            GEOSPreparedGeom_destroy_r(c->h, u->prep);
        if (u->g)
            GEOSGeom_destroy_r(c->h, u->g);
        tq_free(u->u.country_pcode);
        tq_free(u->u.country_en);
        tq_free(u->u.country_ar);
        tq_free(u->u.pcode);
        tq_free(u->u.name_en);
        tq_free(u->u.name_ar);
    }
    for (i = 0; i < ix->n_countries; i++)
        if (ix->countries[i].outline)
            GEOSGeom_destroy_r(c->h, ix->countries[i].outline);
    tq_free(ix->countries);
    for (i = 0; i < ix->n_sides; i++)
        if (ix->sides[i].line)
            GEOSGeom_destroy_r(c->h, ix->sides[i].line);
    tq_free(ix->sides);
    if (ix->border_prep)
        GEOSPreparedGeom_destroy_r(c->h, ix->border_prep);
    if (ix->border)
        GEOSGeom_destroy_r(c->h, ix->border);
    tq_free(ix->units);
    tq_free(ix->segs);
    tq_free(ix->cells);
    tq_free(ix->dcos);
    tq_free(ix->doff);
    tq_free(ix->dsegs);
    tq_free(ix->usegs);
    tq_free(ix->uoff);
    tq_free(ix->uidx);
    tq_free(ix);
}

/* ---- GEOS lookups (the slow path, and the build's reference) --------------------------- */

struct hits {
    const struct unit *ix_units;
    size_t *idx;
    size_t n, cap;
};

static void hit(void *item, void *userdata)
{
    struct hits *h = userdata;

    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->idx = tq_xrealloc(h->idx, h->cap * sizeof(*h->idx));
    }
    h->idx[h->n++] = (size_t)((const struct unit *)item - h->ix_units);
}

/* Degrees of longitude and latitude that are at least km kilometres at latitude lat. */
static void km_to_deg(double km, double lat, double *dlon, double *dlat)
{
    double c = cos((fabs(lat) + km / TQ__GEO_KM_PER_DEG) * DEG);

    *dlat = km / TQ__GEO_KM_PER_DEG * 1.01;
    *dlon = c > 0.01 ? *dlat / c : 360;
}

/*
 * The unit covering (x, y): the lowest-numbered answering unit that intersects the point, so a
 * point on a shared boundary gets one answer whatever the tree's order. Returns the unit index
 * or -1.
 */
static long locate_geos(const struct tq_geo_index *ix, struct tq__geo_ctx *c, double x, double y)
{
    struct hits h = {.ix_units = ix->units};
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(c->h, x, y);
    long best = -1;
    size_t i;

    if (!pt)
        return -1;
    GEOSSTRtree_query_r(c->h, ix->tree, pt, hit, &h);
    for (i = 0; i < h.n; i++)
        if ((best < 0 || (long)h.idx[i] < best) &&
            GEOSPreparedIntersects_r(c->h, ix->units[h.idx[i]].prep, pt) == 1)
            best = (long)h.idx[i];
    GEOSGeom_destroy_r(c->h, pt);
    tq_free(h.idx);
    return best;
}

/* Border distance by GEOS (points beyond the distance grid): nearest point, then haversine. */
static double border_geos(const struct tq_geo_index *ix, struct tq__geo_ctx *c, double x, double y)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(c->h, x, y);
    GEOSCoordSequence *np;
    double nx, ny, km = -1;

    if (!pt)
        return -1;
    np = GEOSPreparedNearestPoints_r(c->h, ix->border_prep, pt);
    if (np && GEOSCoordSeq_getXY_r(c->h, np, 0, &nx, &ny))
        km = tq__geo_haversine_km(x, y, nx, ny);
    if (np)
        GEOSCoordSeq_destroy_r(c->h, np);
    GEOSGeom_destroy_r(c->h, pt);
    return km;
}

/* ---- geometry helpers ------------------------------------------------------------------ */

/* Calls fn for every segment of every line or ring in g. */
static void each_segment(struct tq__geo_ctx *c, const GEOSGeometry *g,
                         void (*fn)(void *arg, double, double, double, double), void *arg)
{
    int type = GEOSGeomTypeId_r(c->h, g), i, k;
    const GEOSCoordSequence *s;
    unsigned n, j;
    double x0, y0, x1, y1;

    switch (type) {
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        s = GEOSGeom_getCoordSeq_r(c->h, g);
        if (!s || !GEOSCoordSeq_getSize_r(c->h, s, &n) || n < 2)
            return;
        GEOSCoordSeq_getXY_r(c->h, s, 0, &x0, &y0);
        for (j = 1; j < n; j++) {
            GEOSCoordSeq_getXY_r(c->h, s, j, &x1, &y1);
            fn(arg, x0, y0, x1, y1);
            x0 = x1;
            y0 = y1;
        }
        return;
    case GEOS_POLYGON:
        each_segment(c, GEOSGetExteriorRing_r(c->h, g), fn, arg);
        k = GEOSGetNumInteriorRings_r(c->h, g);
        for (i = 0; i < k; i++)
            each_segment(c, GEOSGetInteriorRingN_r(c->h, g, i), fn, arg);
        return;
    case GEOS_MULTILINESTRING:
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION:
        k = GEOSGetNumGeometries_r(c->h, g);
        for (i = 0; i < k; i++)
            each_segment(c, GEOSGetGeometryN_r(c->h, g, i), fn, arg);
        return;
    default:
        return;
    }
}

static void gather_lines(struct tq__geo_ctx *c, const GEOSGeometry *g, GEOSGeometry ***v, size_t *n,
                         size_t *cap)
{
    int type = GEOSGeomTypeId_r(c->h, g), i, k;

    if (type == GEOS_LINESTRING || type == GEOS_LINEARRING) {
        const GEOSCoordSequence *s = GEOSGeom_getCoordSeq_r(c->h, g);
        GEOSCoordSequence *copy;

        if (GEOSisEmpty_r(c->h, g) || !s)
            return;
        copy = GEOSCoordSeq_clone_r(c->h, s);
        if (!copy)
            return;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *v = tq_xrealloc(*v, *cap * sizeof(**v));
        }
        (*v)[*n] = GEOSGeom_createLineString_r(c->h, copy);
        if ((*v)[*n])
            (*n)++;
        return;
    }
    if (type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
        k = GEOSGetNumGeometries_r(c->h, g);
        for (i = 0; i < k; i++)
            gather_lines(c, GEOSGetGeometryN_r(c->h, g, i), v, n, cap);
    }
}

/* The line parts of g as one MultiLineString (owned), or NULL when there are none. */
static GEOSGeometry *lines_of(struct tq__geo_ctx *c, const GEOSGeometry *g)
{
    GEOSGeometry **v = NULL, *res = NULL;
    size_t n = 0, cap = 0, i;

    gather_lines(c, g, &v, &n, &cap);
    if (n)
        res = GEOSGeom_createCollection_r(c->h, GEOS_MULTILINESTRING, v, (unsigned)n);
    if (n && !res)
        for (i = 0; i < n; i++)
            GEOSGeom_destroy_r(c->h, v[i]);
    tq_free(v);
    return res;
}

static void add_km(void *arg, double x0, double y0, double x1, double y1)
{
    *(double *)arg += tq__geo_haversine_km(x0, y0, x1, y1);
}

struct segv {
    struct seg *v;
    size_t n, cap;
};

static void add_seg(void *arg, double x0, double y0, double x1, double y1)
{
    struct segv *s = arg;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = tq_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = (struct seg){x0, y0, x1, y1};
}

/* ---- building: units, countries, border ------------------------------------------------ */

static tq_rc load_units(struct tq_geo_index *ix, struct tq__geo_ctx *c,
                        const struct tq_geo_unit *units, size_t n, struct tq_err *err)
{
    size_t i, j, vertices = 0;
    tq_rc rc;

    ix->units = tq_xcalloc(n, sizeof(*ix->units));
    for (i = 0; i < n; i++) {
        const struct tq_geo_unit *src = &units[i];
        struct unit *u = &ix->units[i];
        struct json_object *j_geom = NULL;
        char what[96];
        bool repaired;

        ix->n_units = i + 1;
        snprintf(what, sizeof(what), "unit %zu (%.40s)", i, src->pcode ? src->pcode : "?");
        if (!src->country_pcode || !*src->country_pcode || !src->geometry ||
            (src->level != 0 && src->level != 1))
            return tq_err_set(err, TQ_EINVAL, "geo: %s: no country pcode, geometry or level", what);
        rc = tq_json_parse(tq_str_c(src->geometry), &j_geom, err);
        if (rc)
            return rc;
        rc = tq__geo_geom_from_json(c, j_geom, what, &vertices, TQ_GEO_MAX_VERTICES, &u->g, err);
        json_object_put(j_geom);
        if (rc)
            return rc;
        if (!u->g)
            return tq_err_set(err, TQ_EINVAL,
                              "geo: %s: geometry is not a Polygon or "
                              "MultiPolygon",
                              what);
        rc = tq__geo_make_areal(c, &u->g, &repaired, err);
        if (rc)
            return rc;
        if (!u->g)
            return tq_err_set(err, TQ_EINVAL, "geo: %s: geometry has no area", what);
        u->u.level = src->level;
        u->u.repaired = src->repaired || repaired;
        u->u.country_pcode = tq_xstrdup(src->country_pcode);
        u->u.country_en = tq_xstrdup(src->country_en ? src->country_en : "");
        u->u.country_ar = tq_xstrdup(src->country_ar ? src->country_ar : "");
        u->u.pcode = tq_xstrdup(src->pcode ? src->pcode : src->country_pcode);
        u->u.name_en = tq_xstrdup(src->name_en ? src->name_en : "");
        u->u.name_ar = tq_xstrdup(src->name_ar ? src->name_ar : "");
        for (j = 0; j < ix->n_countries; j++)
            if (strcmp(ix->countries[j].pcode, u->u.country_pcode) == 0)
                break;
        if (j == ix->n_countries) {
            ix->countries = tq_xrealloc(ix->countries, (j + 1) * sizeof(*ix->countries));
            ix->countries[j] = (struct country){.pcode = u->u.country_pcode};
            ix->n_countries++;
        }
        u->country = j;
    }
    return TQ_OK;
}

/* Which units answer, and each country's outline. */
static tq_rc outlines(struct tq_geo_index *ix, struct tq__geo_ctx *c, struct tq_err *err)
{
    size_t k, i, m;

    for (k = 0; k < ix->n_countries; k++) {
        struct country *co = &ix->countries[k];
        GEOSGeometry **parts = tq_xcalloc(ix->n_units, sizeof(*parts)), *coll;
        bool has1 = false;

        for (i = 0; i < ix->n_units; i++)
            if (ix->units[i].country == k && ix->units[i].u.level == 1)
                has1 = true;
        m = 0;
        for (i = 0; i < ix->n_units; i++) {
            struct unit *u = &ix->units[i];

            if (u->country != k)
                continue;
            u->answers = (u->u.level == 1) == has1;
            if (u->u.level == 0 && !co->outline)
                co->outline = GEOSGeom_clone_r(c->h, u->g);
            if (u->u.level == 1)
                parts[m++] = GEOSGeom_clone_r(c->h, u->g);
        }
        if (co->outline || m == 0) {
            for (i = 0; i < m; i++)
                GEOSGeom_destroy_r(c->h, parts[i]);
            tq_free(parts);
            continue;
        }
        coll = GEOSGeom_createCollection_r(c->h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)m);
        tq_free(parts);
        if (!coll)
            return tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
        co->outline = GEOSUnaryUnion_r(c->h, coll);
        GEOSGeom_destroy_r(c->h, coll);
        if (!co->outline)
            return tq_err_set(err, TQ_ENOMEM, "geo: union of %s's units failed: %s", co->pcode,
                              c->msg);
    }
    for (i = 0; i < ix->n_units; i++)
        ix->n_answer += ix->units[i].answers;
    return TQ_OK;
}

/*
 * The border between countries a and b as two lines: a's boundary within the tolerance of b,
 * and b's boundary within the tolerance of a. Two producers' outlines leave gaps and overlaps
 * along a shared border; each line is its producer's version of it, so both are kept and the
 * distance to the border is the distance to the nearer one. A coast or a border with a country
 * that is not loaded is never within the tolerance of another loaded outline, so it never
 * counts.
 */
static tq_rc border_pair(struct tq_geo_index *ix, struct tq__geo_ctx *c, size_t a, size_t b,
                         struct tq_err *err)
{
    size_t pair[2][2] = {{a, b}, {b, a}}, s;
    double y0, y1, x0, x1, dlon, dlat;

    for (s = 0; s < 2; s++) {
        const GEOSGeometry *mine = ix->countries[pair[s][0]].outline;
        const GEOSGeometry *other = ix->countries[pair[s][1]].outline;
        GEOSGeometry *bnd = NULL, *buf = NULL, *cut = NULL, *lines;
        double km = 0;

        if (!GEOSGeom_getExtent_r(c->h, other, &x0, &y0, &x1, &y1))
            return tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
        /* A buffer in degrees, wide enough east-west at the pair's highest latitude. */
        km_to_deg(TQ_GEO_BORDER_TOLERANCE_KM, fmax(fabs(y0), fabs(y1)), &dlon, &dlat);
        bnd = GEOSBoundary_r(c->h, mine);
        buf = GEOSBuffer_r(c->h, other, dlon, 8);
        if (bnd && buf)
            cut = GEOSIntersection_r(c->h, bnd, buf);
        if (bnd)
            GEOSGeom_destroy_r(c->h, bnd);
        if (buf)
            GEOSGeom_destroy_r(c->h, buf);
        if (!cut)
            return tq_err_set(err, TQ_ENOMEM, "geo: border of %s and %s failed: %s",
                              ix->countries[a].pcode, ix->countries[b].pcode, c->msg);
        lines = lines_of(c, cut);
        GEOSGeom_destroy_r(c->h, cut);
        if (!lines)
            continue;
        each_segment(c, lines, add_km, &km);
        ix->sides = tq_xrealloc(ix->sides, (ix->n_sides + 1) * sizeof(*ix->sides));
        ix->sides[ix->n_sides++] =
            (struct side){.country = pair[s][0], .other = pair[s][1], .line = lines, .km = km};
    }
    return TQ_OK;
}

static tq_rc build_border(struct tq_geo_index *ix, struct tq__geo_ctx *c, struct tq_err *err)
{
    struct segv sv = {0};
    GEOSGeometry **parts;
    size_t a, b, i, first;
    double sum;
    tq_rc rc;

    for (a = 0; a < ix->n_countries; a++)
        for (b = a + 1; b < ix->n_countries; b++) {
            first = ix->n_sides;
            rc = border_pair(ix, c, a, b, err);
            if (rc)
                return rc;
            sum = 0;
            for (i = first; i < ix->n_sides; i++)
                sum += ix->sides[i].km;
            if (ix->n_sides > first)
                ix->border_km += sum / (double)(ix->n_sides - first);
        }
    if (!ix->n_sides)
        return TQ_OK;
    for (i = 0; i < ix->n_sides; i++)
        each_segment(c, ix->sides[i].line, add_seg, &sv);
    ix->segs = sv.v;
    ix->n_segs = sv.n;
    parts = tq_xcalloc(ix->n_sides, sizeof(*parts));
    for (i = 0; i < ix->n_sides; i++)
        parts[i] = GEOSGeom_clone_r(c->h, ix->sides[i].line);
    ix->border =
        GEOSGeom_createCollection_r(c->h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)ix->n_sides);
    tq_free(parts);
    if (!ix->border)
        return tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
    ix->border_prep = GEOSPrepare_r(c->h, ix->border);
    if (!ix->border_prep)
        return tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
    return TQ_OK;
}

/* ---- building: the fine grid ------------------------------------------------------------ */

struct marker {
    struct tq_geo_index *ix;
    uint8_t *touched;
};

/* Marks every fine cell that the segment may touch: the boxes of pieces no longer than half a
   cell, widened by a hair so that a segment along a cell edge marks both neighbours. */
static void mark_seg(void *arg, double x0, double y0, double x1, double y1)
{
    struct marker *m = arg;
    const struct tq_geo_index *ix = m->ix;
    double len = fmax(fabs(x1 - x0), fabs(y1 - y0)), eps = ix->gcell * 1e-6;
    long pieces = (long)ceil(len / (ix->gcell * 0.5)) + 1, p;

    for (p = 0; p < pieces; p++) {
        double t0 = (double)p / (double)pieces, t1 = (double)(p + 1) / (double)pieces;
        double ax = x0 + (x1 - x0) * t0, ay = y0 + (y1 - y0) * t0;
        double bx = x0 + (x1 - x0) * t1, by = y0 + (y1 - y0) * t1;
        long cx0 = (long)floor((fmin(ax, bx) - eps - ix->gx0) / ix->gcell);
        long cx1 = (long)floor((fmax(ax, bx) + eps - ix->gx0) / ix->gcell);
        long cy0 = (long)floor((fmin(ay, by) - eps - ix->gy0) / ix->gcell);
        long cy1 = (long)floor((fmax(ay, by) + eps - ix->gy0) / ix->gcell);
        long i, j;

        cx0 = cx0 < 0 ? 0 : cx0;
        cy0 = cy0 < 0 ? 0 : cy0;
        cx1 = cx1 >= ix->gw ? ix->gw - 1 : cx1;
        cy1 = cy1 >= ix->gh ? ix->gh - 1 : cy1;
        for (j = cy0; j <= cy1; j++)
            for (i = cx0; i <= cx1; i++)
                m->touched[(size_t)j * (size_t)ix->gw + (size_t)i] = 1;
    }
}

/* near[i] = 1 when a touched cell lies within r cells (a square neighbourhood) of cell i. */
static uint8_t *dilate(const uint8_t *touched, int w, int h, int r)
{
    size_t n = (size_t)w * (size_t)h;
    uint8_t *rowpass = tq_xcalloc(n, 1), *out = tq_xcalloc(n, 1);
    int *run = tq_xcalloc((size_t)(w > h ? w : h) + 1, sizeof(int));
    int x, y;

    for (y = 0; y < h; y++) {
        const uint8_t *t = touched + (size_t)y * (size_t)w;

        run[0] = 0;
        for (x = 0; x < w; x++)
            run[x + 1] = run[x] + t[x];
        for (x = 0; x < w; x++) {
            int lo = x - r < 0 ? 0 : x - r, hi = x + r + 1 > w ? w : x + r + 1;

            rowpass[(size_t)y * (size_t)w + (size_t)x] = run[hi] - run[lo] > 0;
        }
    }
    for (x = 0; x < w; x++) {
        run[0] = 0;
        for (y = 0; y < h; y++)
            run[y + 1] = run[y] + rowpass[(size_t)y * (size_t)w + (size_t)x];
        for (y = 0; y < h; y++) {
            int lo = y - r < 0 ? 0 : y - r, hi = y + r + 1 > h ? h : y + r + 1;

            out[(size_t)y * (size_t)w + (size_t)x] = run[hi] - run[lo] > 0;
        }
    }
    tq_free(run);
    tq_free(rowpass);
    return out;
}

static void build_grid(struct tq_geo_index *ix, struct tq__geo_ctx *c)
{
    double x0 = DBL_MAX, y0 = DBL_MAX, x1 = -DBL_MAX, y1 = -DBL_MAX, ex, ey, dlon, dlat, w, h;
    double ccell;
    struct marker m = {.ix = ix};
    uint8_t *near;
    size_t i, n;
    int x, y, r;

    for (i = 0; i < ix->n_units; i++) {
        double a, b, cc, d;

        if (!ix->units[i].answers || !GEOSGeom_getExtent_r(c->h, ix->units[i].g, &a, &b, &cc, &d))
            continue;
        x0 = fmin(x0, a);
        y0 = fmin(y0, b);
        x1 = fmax(x1, cc);
        y1 = fmax(y1, d);
    }
    /* Widen by the tolerance, so that a point beyond the grid is farther from every unit. */
    km_to_deg(ix->tol_km, fmax(fabs(y0), fabs(y1)), &dlon, &dlat);
    x0 -= dlon;
    x1 += dlon;
    y0 -= dlat;
    y1 += dlat;
    w = x1 - x0;
    h = y1 - y0;
    ix->gcell = fmax(w, h) / GRID_MAX_SIDE;
    if (ix->gcell < 1e-6)
        ix->gcell = 1e-6;
    ix->gx0 = x0;
    ix->gy0 = y0;
    ix->gw = (int)ceil(w / ix->gcell) + 1;
    ix->gh = (int)ceil(h / ix->gcell) + 1;
    n = (size_t)ix->gw * (size_t)ix->gh;
    ix->dcell = ix->gcell * DGRID_FACTOR;
    ix->dw = (ix->gw + DGRID_FACTOR - 1) / DGRID_FACTOR;
    ix->dh = (ix->gh + DGRID_FACTOR - 1) / DGRID_FACTOR;
    m.touched = tq_xcalloc(n, 1);
    for (i = 0; i < ix->n_units; i++)
        if (ix->units[i].answers)
            each_segment(c, ix->units[i].g, mark_seg, &m);
    /* Cells within the tolerance of a boundary: r cells, with the cell's east-west width taken
       at the grid's highest latitude (the narrowest) so that r is never too small. */
    ex = fmax(fabs(y0), fabs(y1));
    ccell = ix->gcell * TQ__GEO_KM_PER_DEG * cos(fmin(ex, 89.9) * DEG);
    ey = ix->tol_km / (ccell > 1e-9 ? ccell : 1e-9) + 1;
    r = ey > ix->gw + ix->gh ? ix->gw + ix->gh : (int)ceil(ey);
    near = dilate(m.touched, ix->gw, ix->gh, r);
    ix->cells = tq_xmalloc(n * sizeof(*ix->cells));
    for (y = 0; y < ix->gh; y++) {
        long run_unit = 0;
        bool in_run = false;

        for (x = 0; x < ix->gw; x++) {
            size_t k = (size_t)y * (size_t)ix->gw + (size_t)x;

            if (m.touched[k]) {
                ix->cells[k] = CELL_SLOW;
                in_run = false;
                continue;
            }
            /* Untouched neighbours in a row share their answer: no boundary separates them. */
            if (!in_run) {
                run_unit = locate_geos(ix, c, ix->gx0 + (x + 0.5) * ix->gcell,
                                       ix->gy0 + (y + 0.5) * ix->gcell);
                in_run = true;
            }
            ix->cells[k] = run_unit >= 0 ? (int32_t)run_unit : near[k] ? CELL_SLOW : CELL_FAR;
        }
    }
    tq_free(near);
    tq_free(m.touched);
}

/* ---- building: the distance grid -------------------------------------------------------- */

/* Squared distance from (px, py) to segment (ax, ay)-(bx, by) with x scaled by cx; the
   parameter of the nearest point goes to *t. */
static double seg_d2(double px, double py, const struct seg *s, double cx, double *t)
{
    double ax = s->x1 * cx, ay = s->y1, bx = s->x2 * cx, by = s->y2;
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy, u = 0, qx, qy;

    px *= cx;
    if (l2 > 0) {
        u = ((px - ax) * dx + (py - ay) * dy) / l2;
        u = u < 0 ? 0 : u > 1 ? 1 : u;
    }
    qx = ax + u * dx - px;
    qy = ay + u * dy - py;
    *t = u;
    return qx * qx + qy * qy;
}

static bool seg_cross(double ax, double ay, double bx, double by, double cx, double cy, double dx,
                      double dy)
{
    double d1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    double d2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax);
    double d3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx);
    double d4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx);

    return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0));
}

/* Smallest scaled distance from the box [x0,x1]x[y0,y1] to the segment. */
static double box_seg_min(double x0, double y0, double x1, double y1, const struct seg *s,
                          double cx)
{
    double cs[4][2] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, best = DBL_MAX, t, dx, dy;
    double e[2][2] = {{s->x1, s->y1}, {s->x2, s->y2}};
    int i;

    for (i = 0; i < 2; i++) {
        if (e[i][0] >= x0 && e[i][0] <= x1 && e[i][1] >= y0 && e[i][1] <= y1)
            return 0;
        dx = fmax(0, fmax(x0 - e[i][0], e[i][0] - x1)) * cx;
        dy = fmax(0, fmax(y0 - e[i][1], e[i][1] - y1));
        best = fmin(best, dx * dx + dy * dy);
    }
    for (i = 0; i < 4; i++) {
        if (seg_cross(cs[i][0], cs[i][1], cs[(i + 1) % 4][0], cs[(i + 1) % 4][1], s->x1, s->y1,
                      s->x2, s->y2))
            return 0;
        best = fmin(best, seg_d2(cs[i][0], cs[i][1], s, cx, &t));
    }
    return sqrt(best);
}

/* Largest scaled distance from the box to the segment (at a corner: distance is convex). */
static double box_seg_max(double x0, double y0, double x1, double y1, const struct seg *s,
                          double cx)
{
    double t, m = 0;

    m = fmax(m, seg_d2(x0, y0, s, cx, &t));
    m = fmax(m, seg_d2(x1, y0, s, cx, &t));
    m = fmax(m, seg_d2(x1, y1, s, cx, &t));
    m = fmax(m, seg_d2(x0, y1, s, cx, &t));
    return sqrt(m);
}

struct chunk {
    double x0, y0, x1, y1;
    size_t first, n;
};

static double box_box_min(double ax0, double ay0, double ax1, double ay1, const struct chunk *b,
                          double cx)
{
    double dx = fmax(0, fmax(b->x0 - ax1, ax0 - b->x1)) * cx;
    double dy = fmax(0, fmax(b->y0 - ay1, ay0 - b->y1));

    return sqrt(dx * dx + dy * dy);
}

static tq_rc build_dgrid(struct tq_geo_index *ix, struct tq_err *err)
{
    size_t n_chunks = (ix->n_segs + CHUNK - 1) / CHUNK, k, i, n_cells, used = 0, cap;
    struct chunk *ch = tq_xcalloc(n_chunks ? n_chunks : 1, sizeof(*ch));
    uint8_t *live = tq_xcalloc(n_chunks ? n_chunks : 1, 1);
    int x, y;

    for (k = 0; k < n_chunks; k++) {
        ch[k] = (struct chunk){DBL_MAX, DBL_MAX, -DBL_MAX, -DBL_MAX, k * CHUNK, CHUNK};
        if (ch[k].first + ch[k].n > ix->n_segs)
            ch[k].n = ix->n_segs - ch[k].first;
        for (i = ch[k].first; i < ch[k].first + ch[k].n; i++) {
            const struct seg *s = &ix->segs[i];

            ch[k].x0 = fmin(ch[k].x0, fmin(s->x1, s->x2));
            ch[k].x1 = fmax(ch[k].x1, fmax(s->x1, s->x2));
            ch[k].y0 = fmin(ch[k].y0, fmin(s->y1, s->y2));
            ch[k].y1 = fmax(ch[k].y1, fmax(s->y1, s->y2));
        }
    }
    n_cells = (size_t)ix->dw * (size_t)ix->dh;
    ix->dcos = tq_xmalloc((size_t)ix->dh * sizeof(*ix->dcos));
    ix->doff = tq_xmalloc((n_cells + 1) * sizeof(*ix->doff));
    cap = n_cells * 4 + 64;
    ix->dsegs = tq_xmalloc(cap * sizeof(*ix->dsegs));
    for (y = 0; y < ix->dh; y++) {
        double y0 = ix->gy0 + y * ix->dcell, y1 = y0 + ix->dcell;
        double cx = cos(fmin(fabs((y0 + y1) / 2), 89.9) * DEG);

        ix->dcos[y] = cx;
        for (x = 0; x < ix->dw; x++) {
            double x0 = ix->gx0 + x * ix->dcell, x1 = x0 + ix->dcell, u = DBL_MAX;

            ix->doff[(size_t)y * (size_t)ix->dw + (size_t)x] = (uint32_t)used;
            /* An upper bound first: the farthest corner's distance to each chunk's first
               vertex, then the exact smallest farthest-corner distance over the chunks whose
               box can beat it. */
            for (k = 0; k < n_chunks; k++) {
                const struct seg *s = &ix->segs[ch[k].first];
                struct seg pt = {s->x1, s->y1, s->x1, s->y1};

                u = fmin(u, box_seg_max(x0, y0, x1, y1, &pt, cx));
            }
            for (k = 0; k < n_chunks; k++) {
                live[k] = box_box_min(x0, y0, x1, y1, &ch[k], cx) <= u;
                if (!live[k])
                    continue;
                for (i = ch[k].first; i < ch[k].first + ch[k].n; i++)
                    u = fmin(u, box_seg_max(x0, y0, x1, y1, &ix->segs[i], cx));
            }
            /* A little slack for rounding; the list stays exact for this cell's metric. */
            u = u * (1 + 1e-9) + 1e-12;
            for (k = 0; k < n_chunks; k++) {
                if (!live[k] || box_box_min(x0, y0, x1, y1, &ch[k], cx) > u)
                    continue;
                for (i = ch[k].first; i < ch[k].first + ch[k].n; i++) {
                    if (box_seg_min(x0, y0, x1, y1, &ix->segs[i], cx) > u)
                        continue;
                    if (used == cap) {
                        if (cap >= MAX_CANDIDATES) {
                            tq_free(ch);
                            tq_free(live);
                            return tq_err_set(err, TQ_ETOOBIG,
                                              "geo: border distance index beyond %zu entries",
                                              MAX_CANDIDATES);
                        }
                        cap *= 2;
                        ix->dsegs = tq_xrealloc(ix->dsegs, cap * sizeof(*ix->dsegs));
                    }
                    ix->dsegs[used++] = (uint32_t)i;
                }
            }
        }
    }
    ix->doff[n_cells] = (uint32_t)used;
    tq_free(ch);
    tq_free(live);
    return TQ_OK;
}

/* ---- building: buckets of unit boundary segments, for the nearest unit --------------- */

struct usegv {
    struct useg *v;
    size_t n, cap, unit;
};

static void add_useg(void *arg, double x0, double y0, double x1, double y1)
{
    struct usegv *s = arg;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = tq_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = (struct useg){x0, y0, x1, y1, s->unit};
}

/* Distance-grid cells covered by the segment's box (widened by a hair), clamped. */
static void useg_cells(const struct tq_geo_index *ix, const struct useg *s, long *cx0, long *cy0,
                       long *cx1, long *cy1)
{
    double eps = ix->dcell * 1e-6;

    *cx0 = (long)floor((fmin(s->x1, s->x2) - eps - ix->gx0) / ix->dcell);
    *cx1 = (long)floor((fmax(s->x1, s->x2) + eps - ix->gx0) / ix->dcell);
    *cy0 = (long)floor((fmin(s->y1, s->y2) - eps - ix->gy0) / ix->dcell);
    *cy1 = (long)floor((fmax(s->y1, s->y2) + eps - ix->gy0) / ix->dcell);
    *cx0 = *cx0 < 0 ? 0 : *cx0;
    *cy0 = *cy0 < 0 ? 0 : *cy0;
    *cx1 = *cx1 >= ix->dw ? ix->dw - 1 : *cx1;
    *cy1 = *cy1 >= ix->dh ? ix->dh - 1 : *cy1;
}

/*
 * Each unit boundary segment listed in every bucket (distance-grid cell) its box covers. GEOS
 * 3.11's prepared nearest-points query is not indexed (a scan of the polygon's vertices, about
 * 50 us per point on a governorate), which made points just outside the units the slowest of
 * all; a bucket search over the few cells within the tolerance replaces it.
 */
static tq_rc build_buckets(struct tq_geo_index *ix, struct tq__geo_ctx *c, struct tq_err *err)
{
    struct usegv sv = {0};
    size_t n_cells = (size_t)ix->dw * (size_t)ix->dh, i, total = 0;
    long cx0, cy0, cx1, cy1, x, y;
    uint32_t *fillp;

    for (i = 0; i < ix->n_units; i++) {
        if (!ix->units[i].answers)
            continue;
        sv.unit = i;
        each_segment(c, ix->units[i].g, add_useg, &sv);
    }
    ix->usegs = sv.v;
    ix->n_usegs = sv.n;
    ix->uoff = tq_xcalloc(n_cells + 1, sizeof(*ix->uoff));
    for (i = 0; i < sv.n; i++) {
        useg_cells(ix, &sv.v[i], &cx0, &cy0, &cx1, &cy1);
        total += (size_t)(cx1 - cx0 + 1) * (size_t)(cy1 - cy0 + 1);
        if (total > MAX_CANDIDATES)
            return tq_err_set(err, TQ_ETOOBIG, "geo: unit segment buckets beyond %zu entries",
                              MAX_CANDIDATES);
        for (y = cy0; y <= cy1; y++)
            for (x = cx0; x <= cx1; x++)
                ix->uoff[(size_t)y * (size_t)ix->dw + (size_t)x + 1]++;
    }
    for (i = 0; i < n_cells; i++)
        ix->uoff[i + 1] += ix->uoff[i];
    ix->uidx = tq_xmalloc((total ? total : 1) * sizeof(*ix->uidx));
    fillp = tq_xcalloc(n_cells ? n_cells : 1, sizeof(*fillp));
    for (i = 0; i < sv.n; i++) {
        useg_cells(ix, &sv.v[i], &cx0, &cy0, &cx1, &cy1);
        for (y = cy0; y <= cy1; y++)
            for (x = cx0; x <= cx1; x++) {
                size_t k = (size_t)y * (size_t)ix->dw + (size_t)x;

                ix->uidx[ix->uoff[k] + fillp[k]++] = (uint32_t)i;
            }
    }
    tq_free(fillp);
    return TQ_OK;
}

/* The answering unit nearest to (x, y) within the tolerance, or -1; *km its distance. */
static long nearest_unit(const struct tq_geo_index *ix, double x, double y, double *km)
{
    double dlon, dlat, cs = cos(fmin(fabs(y), 89.9) * DEG), best = DBL_MAX, bt = 0, t, d2;
    const struct useg *bs = NULL;
    long cx0, cy0, cx1, cy1, cx, cy;
    const uint32_t *p, *end;

    km_to_deg(ix->tol_km, y, &dlon, &dlat);
    cx0 = (long)floor((x - dlon - ix->gx0) / ix->dcell);
    cx1 = (long)floor((x + dlon - ix->gx0) / ix->dcell);
    cy0 = (long)floor((y - dlat - ix->gy0) / ix->dcell);
    cy1 = (long)floor((y + dlat - ix->gy0) / ix->dcell);
    cx0 = cx0 < 0 ? 0 : cx0;
    cy0 = cy0 < 0 ? 0 : cy0;
    cx1 = cx1 >= ix->dw ? ix->dw - 1 : cx1;
    cy1 = cy1 >= ix->dh ? ix->dh - 1 : cy1;
    for (cy = cy0; cy <= cy1; cy++)
        for (cx = cx0; cx <= cx1; cx++) {
            size_t k = (size_t)cy * (size_t)ix->dw + (size_t)cx;

            end = ix->uidx + ix->uoff[k + 1];
            for (p = ix->uidx + ix->uoff[k]; p < end; p++) {
                const struct useg *u = &ix->usegs[*p];
                struct seg s = {u->x1, u->y1, u->x2, u->y2};

                d2 = seg_d2(x, y, &s, cs, &t);
                if (d2 < best || (d2 == best && bs && u->unit < bs->unit)) {
                    best = d2;
                    bt = t;
                    bs = u;
                }
            }
        }
    if (!bs)
        return -1;
    *km = tq__geo_haversine_km(x, y, bs->x1 + bt * (bs->x2 - bs->x1),
                               bs->y1 + bt * (bs->y2 - bs->y1));
    return *km <= ix->tol_km ? (long)bs->unit : -1;
}

/* ---- build ------------------------------------------------------------------------------ */

tq_rc tq_geo_index_build(const struct tq_geo_unit *units, size_t n,
                         const struct tq_geo_index_options *opt, struct tq_geo_index **out,
                         struct tq_err *err)
{
    struct tq__geo_ctx *c = tq__geo_ctx();
    struct tq_geo_index *ix;
    double tol = opt ? opt->tolerance_km : 0;
    size_t i;
    tq_rc rc;

    if (n == 0 || !units)
        return tq_err_set(err, TQ_EINVAL, "geo: no units to index");
    if (n > TQ_GEO_MAX_FEATURES)
        return tq_err_set(err, TQ_ETOOBIG, "geo: %zu units exceed the limit of %d", n,
                          TQ_GEO_MAX_FEATURES);
    if (!isfinite(tol) || tol < 0 || tol > 1000)
        return tq_err_set(err, TQ_EINVAL, "geo: tolerance %g km is not in [0, 1000]", tol);
    ix = tq_xcalloc(1, sizeof(*ix));
    ix->tol_km = tol > 0 ? tol : TQ_GEO_DEFAULT_TOLERANCE_KM;
    rc = load_units(ix, c, units, n, err);
    if (rc)
        goto fail;
    rc = outlines(ix, c, err);
    if (rc)
        goto fail;
    ix->tree = GEOSSTRtree_create_r(c->h, 10);
    if (!ix->tree) {
        rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
        goto fail;
    }
    for (i = 0; i < ix->n_units; i++) {
        struct unit *u = &ix->units[i];
        GEOSGeometry *pt;
        double a, b, cc, d;

        if (!u->answers)
            continue;
        u->prep = GEOSPrepare_r(c->h, u->g);
        if (!u->prep || !GEOSGeom_getExtent_r(c->h, u->g, &a, &b, &cc, &d)) {
            rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
            goto fail;
        }
        GEOSSTRtree_insert_r(c->h, ix->tree, u->g, u);
        /* Prepared geometries build their point locator and facet index on first use; build
           them now, while one thread owns the index. */
        pt = GEOSGeom_createPointFromXY_r(c->h, (a + cc) / 2, (b + d) / 2);
        if (pt) {
            GEOSCoordSequence *np;

            GEOSPreparedIntersects_r(c->h, u->prep, pt);
            GEOSPreparedContains_r(c->h, u->prep, pt);
            np = GEOSPreparedNearestPoints_r(c->h, u->prep, pt);
            if (np)
                GEOSCoordSeq_destroy_r(c->h, np);
            GEOSGeom_destroy_r(c->h, pt);
        }
    }
    locate_geos(ix, c, 0, 0); /* the STRtree also builds itself on first query */
    rc = build_border(ix, c, err);
    if (rc)
        goto fail;
    if (ix->border_prep)
        border_geos(ix, c, 0, 0);
    build_grid(ix, c);
    rc = build_buckets(ix, c, err);
    if (rc)
        goto fail;
    rc = build_dgrid(ix, err);
    if (rc)
        goto fail;
    *out = ix;
    return TQ_OK;
fail:
    tq_geo_index_free(ix);
    return rc;
}

/* ---- tagging ---------------------------------------------------------------------------- */

static double border_km(const struct tq_geo_index *ix, double x, double y)
{
    long cx, cy;
    const uint32_t *p, *end;
    double best = DBL_MAX, bt = 0, t, cs, d2, qx, qy;
    const struct seg *bs = NULL;

    if (!ix->n_segs)
        return -1;
    cx = (long)floor((x - ix->gx0) / ix->dcell);
    cy = (long)floor((y - ix->gy0) / ix->dcell);
    if (cx < 0 || cy < 0 || cx >= ix->dw || cy >= ix->dh)
        return border_geos(ix, tq__geo_ctx(), x, y);
    cs = ix->dcos[cy];
    p = ix->dsegs + ix->doff[(size_t)cy * (size_t)ix->dw + (size_t)cx];
    end = ix->dsegs + ix->doff[(size_t)cy * (size_t)ix->dw + (size_t)cx + 1];
    for (; p < end; p++) {
        d2 = seg_d2(x, y, &ix->segs[*p], cs, &t);
        if (d2 < best) {
            best = d2;
            bt = t;
            bs = &ix->segs[*p];
        }
    }
    if (!bs)
        return border_geos(ix, tq__geo_ctx(), x, y);
    qx = bs->x1 + bt * (bs->x2 - bs->x1);
    qy = bs->y1 + bt * (bs->y2 - bs->y1);
    return tq__geo_haversine_km(x, y, qx, qy);
}

static void fill(const struct tq_geo_index *ix, long u, double x, double y, unsigned flags,
                 double near_km, struct tq_geo_tag *t)
{
    memset(t, 0, sizeof(*t));
    t->lon = x;
    t->lat = y;
    t->flags = flags;
    t->nearest_km = near_km;
    if (u >= 0) {
        const struct tq_geo_unit *g = &ix->units[u].u;

        t->country_pcode = g->country_pcode;
        t->country_en = g->country_en;
        t->country_ar = g->country_ar;
        t->pcode = g->pcode;
        t->name_en = g->name_en;
        t->name_ar = g->name_ar;
    }
}

/* The unit for an in-range point, without the border distance. */
static void locate(const struct tq_geo_index *ix, double x, double y, struct tq_geo_tag *t)
{
    long cx = (long)floor((x - ix->gx0) / ix->gcell), cy = (long)floor((y - ix->gy0) / ix->gcell);
    long u;
    int32_t v;
    double nk;

    if (cx < 0 || cy < 0 || cx >= ix->gw || cy >= ix->gh) {
        fill(ix, -1, x, y, TQ_GEO_OUTSIDE, 0, t);
        return;
    }
    v = ix->cells[(size_t)cy * (size_t)ix->gw + (size_t)cx];
    if (v >= 0) {
        fill(ix, v, x, y, TQ_GEO_INSIDE, 0, t);
        return;
    }
    if (v == CELL_FAR) {
        fill(ix, -1, x, y, TQ_GEO_OUTSIDE, 0, t);
        return;
    }
    u = locate_geos(ix, tq__geo_ctx(), x, y);
    if (u >= 0) {
        fill(ix, u, x, y, TQ_GEO_INSIDE, 0, t);
        return;
    }
    u = nearest_unit(ix, x, y, &nk);
    fill(ix, u, x, y, u < 0 ? TQ_GEO_OUTSIDE : TQ_GEO_NEAREST, u < 0 ? 0 : nk, t);
}

static bool in_range(double lon, double lat)
{
    return isfinite(lon) && isfinite(lat) && lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90;
}

tq_rc tq_geo_tag(const struct tq_geo_index *ix, double lon, double lat, struct tq_geo_tag *out,
                 struct tq_err *err)
{
    struct tq_geo_tag t, s;
    bool ok = in_range(lon, lat);

    if (ok) {
        locate(ix, lon, lat, &t);
        if (!(t.flags & TQ_GEO_OUTSIDE)) {
            t.border_km = border_km(ix, lon, lat);
            *out = t;
            return TQ_OK;
        }
    }
    /* Latitude and longitude written the wrong way round: take the swap only when it lands
       inside a unit, so that a point merely near nothing is never moved. */
    if (in_range(lat, lon)) {
        locate(ix, lat, lon, &s);
        if (s.flags & TQ_GEO_INSIDE) {
            s.flags |= TQ_GEO_SWAPPED;
            s.border_km = border_km(ix, lat, lon);
            *out = s;
            return TQ_OK;
        }
    }
    if (!ok)
        return tq_err_set(err, TQ_EINVAL,
                          "geo: point (%g, %g) is not a finite lon/lat in "
                          "[-180,180]x[-90,90]",
                          lon, lat);
    t.border_km = border_km(ix, lon, lat);
    *out = t;
    return TQ_OK;
}

/* ---- GeoJSON for the map ---------------------------------------------------------------- */

static tq_rc prop_str(struct tq_buf *b, const char *name, const char *v)
{
    tq_rc rc = tq_buf_printf(b, ",\"%s\":", name);

    return rc ? rc : tq_buf_append_json_str(b, v, strlen(v));
}

tq_rc tq_geo_index_units_geojson(const struct tq_geo_index *ix, double simplify_km,
                                 struct tq_buf *out, struct tq_err *err)
{
    struct tq__geo_ctx *c = tq__geo_ctx();
    size_t i, start = out->len;
    tq_rc rc;

    if (!isfinite(simplify_km) || simplify_km < 0)
        return tq_err_set(err, TQ_EINVAL, "geo: simplify_km %g is not a distance", simplify_km);
    rc = tq_buf_append_c(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (i = 0; i < ix->n_units && !rc; i++) {
        const struct unit *u = &ix->units[i];
        GEOSGeometry *simple = NULL;
        char *gj;

        if (simplify_km > 0)
            simple = GEOSTopologyPreserveSimplify_r(c->h, u->g, simplify_km / TQ__GEO_KM_PER_DEG);
        gj = tq__geo_geom_to_json(c, simple ? simple : u->g);
        if (simple)
            GEOSGeom_destroy_r(c->h, simple);
        if (!gj) {
            rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS could not write unit %s: %s", u->u.pcode,
                            c->msg);
            break;
        }
        rc = tq_buf_printf(out,
                           "%s{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{"
                           "\"level\":%d",
                           i ? "," : "", gj, u->u.level);
        tq_free(gj);
        if (!rc)
            rc = prop_str(out, "country_pcode", u->u.country_pcode);
        if (!rc)
            rc = prop_str(out, "country_en", u->u.country_en);
        if (!rc)
            rc = prop_str(out, "country_ar", u->u.country_ar);
        if (!rc)
            rc = prop_str(out, "pcode", u->u.pcode);
        if (!rc)
            rc = prop_str(out, "name_en", u->u.name_en);
        if (!rc)
            rc = prop_str(out, "name_ar", u->u.name_ar);
        if (!rc)
            rc = tq_buf_printf(out, ",\"repaired\":%s}}", u->u.repaired ? "true" : "false");
    }
    if (!rc)
        rc = tq_buf_append_c(out, "]}");
    if (rc) {
        out->len = start;
        if (out->ptr)
            out->ptr[start] = '\0';
        if (rc == TQ_ETOOBIG)
            tq_err_set(err, rc, "geo: units GeoJSON exceeds the output limit of %zu bytes",
                       out->max);
        else if (rc != TQ_ENOMEM || !err || !err->msg[0])
            tq_err_set(err, rc, "geo: units GeoJSON could not be written");
    }
    return rc;
}

tq_rc tq_geo_index_border_geojson(const struct tq_geo_index *ix, struct tq_buf *out,
                                  struct tq_err *err)
{
    struct tq__geo_ctx *c = tq__geo_ctx();
    size_t i, start = out->len;
    tq_rc rc;

    rc = tq_buf_append_c(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (i = 0; i < ix->n_sides && !rc; i++) {
        const struct side *s = &ix->sides[i];
        char *gj = tq__geo_geom_to_json(c, s->line);

        if (!gj)
            return tq_err_set(err, TQ_ENOMEM, "geo: GEOS could not write the border: %s", c->msg);
        rc = tq_buf_printf(out,
                           "%s{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{"
                           "\"length_km\":%.3f",
                           i ? "," : "", gj, s->km);
        tq_free(gj);
        if (!rc)
            rc = prop_str(out, "country_pcode", ix->countries[s->country].pcode);
        if (!rc)
            rc = prop_str(out, "other_pcode", ix->countries[s->other].pcode);
        if (!rc)
            rc = tq_buf_append_c(out, "}}");
    }
    if (!rc)
        rc = tq_buf_append_c(out, "]}");
    if (rc) {
        out->len = start;
        if (out->ptr)
            out->ptr[start] = '\0';
        return tq_err_set(err, rc, "geo: border GeoJSON exceeds the output limit of %zu bytes",
                          out->max);
    }
    return TQ_OK;
}

#endif
