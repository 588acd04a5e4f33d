/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_hotspot.c - grids, the Poisson and FDR steps, and corridor detection on
 * synthetic incidents over the Syria-Iraq border region.
 *
 * The generator draws 16 weeks of background over 38-44 E, 32-37.5 N: sparse incidents
 * uniform in space and time, towns with a constant rate each, and short bursts (a day or two,
 * a few km across) at random places. A corridor is planted on top: incidents along a segment
 * whose far end advances week after week over the last six weeks, more of them each week.
 * The acceptance cases: one planted corridor is found once, in the right direction; the same
 * incidents with their times shuffled, and the background alone, give none; and over 40
 * random plantings the detection rate and the false alarms are printed and bounded. No test
 * data from outside is needed. Run one test by name with the first argument, e.g.
 * `build/tests/test_hotspot corridor_many_seeds`.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tansiq/hotspot.h"
#include "tansiq/json.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define WEEK_US (7 * DAY_US)
#define T0_US ((int64_t)1736121600 * 1000000) /* 2025-01-06T00:00:00Z, a Monday */
#define WEEKS 16
#define LAT0 34.75
#define EARTH_KM 6371.0088
#define DEG (M_PI / 180.0)

/* ---- random numbers -------------------------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
    double u = unif(), v = unif();

    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* ---- generator ------------------------------------------------------------------------- */

struct evs {
    struct tq_hot_event *e;
    size_t n, cap;
};

static void add(struct evs *s, double lon, double lat, int64_t at)
{
    if (lon < 38 || lon > 44 || lat < 32 || lat > 37.5)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->e = tq_xrealloc(s->e, s->cap * sizeof(*s->e));
    }
    s->e[s->n++] = (struct tq_hot_event){lon, lat, at};
}

/* Move (lon, lat) by (dx east, dy north) km on the grid's projection. */
static void offset(double lon, double lat, double dx, double dy, double *olon, double *olat)
{
    *olon = lon + dx / (EARTH_KM * DEG * cos(LAT0 * DEG));
    *olat = lat + dy / (EARTH_KM * DEG);
}

/* Towns with a steady rate of incidents: (lon, lat, incidents per week). */
static const double towns[][3] = {
    {40.14, 35.33, 30}, /* Deir ez-Zor */
    {40.92, 34.45, 20}, /* al-Bukamal */
    {41.03, 34.37, 20}, /* al-Qaim */
    {42.36, 34.14, 15}, /* Haditha */
    {43.30, 33.42, 40}, /* Ramadi */
    {39.01, 35.95, 30}, /* Raqqa */
    {40.28, 33.04, 10}, /* Rutba */
    {42.83, 33.64, 15}, /* Hit */
};

static void background(struct evs *s)
{
    size_t i, j, k;

    /* Sparse incidents anywhere, 200 a week. */
    for (i = 0; i < 200 * WEEKS; i++)
        add(s, 38 + 6 * unif(), 32 + 5.5 * unif(), T0_US + (int64_t)(unif() * WEEKS * WEEK_US));
    /* Towns: Poisson-like counts at a constant rate, spread over about 6 km. */
    for (i = 0; i < sizeof(towns) / sizeof(towns[0]); i++)
        for (j = 0; j < (size_t)(towns[i][2] * WEEKS); j++) {
            double lon, lat;

            offset(towns[i][0], towns[i][1], 6 * gauss(), 6 * gauss(), &lon, &lat);
            add(s, lon, lat, T0_US + (int64_t)(unif() * WEEKS * WEEK_US));
        }
    /* Bursts: about one a week, 8-20 incidents within two days and about 3 km. */
    for (i = 0; i < WEEKS; i++) {
        double clon = 38.3 + 5.4 * unif(), clat = 32.3 + 4.9 * unif();
        int64_t at = T0_US + (int64_t)(unif() * (WEEKS * WEEK_US - 2 * DAY_US));
        size_t nb = 8 + (size_t)(unif() * 13);

        for (k = 0; k < nb; k++) {
            double lon, lat;

            offset(clon, clat, 3 * gauss(), 3 * gauss(), &lon, &lat);
            add(s, lon, lat, at + (int64_t)(unif() * 2 * DAY_US));
        }
    }
}

struct plant {
    double lon, lat;    /* start */
    double bearing_deg; /* 0 = north, clockwise */
    double length_km;   /* when fully grown */
    double intensity;   /* 1: 10, 16, ..., 40 incidents in its six weeks */
};

/*
 * A corridor over the last six weeks: in week j (0..5) its far end is at (j + 1) / 6 of the
 * length, and round(intensity * (10 + 6 j)) incidents fall uniformly along the grown part,
 * about 2 km either side of the line.
 */
static void plant(struct evs *s, const struct plant *p)
{
    double ux = sin(p->bearing_deg * DEG), uy = cos(p->bearing_deg * DEG);
    int j, k;

    for (j = 0; j < 6; j++) {
        int64_t w0 = T0_US + (int64_t)(WEEKS - 6 + j) * WEEK_US;
        double front = p->length_km * (j + 1) / 6;
        int nj = (int)lround(p->intensity * (10 + 6 * j));

        for (k = 0; k < nj; k++) {
            double d = front * unif(), side = 2 * gauss(), lon, lat;

            offset(p->lon, p->lat, d * ux + side * uy, d * uy - side * ux, &lon, &lat);
            add(s, lon, lat, w0 + (int64_t)(unif() * WEEK_US));
        }
    }
}

/* The cells the planted line crosses, sampled every 500 m. */
static size_t plant_cells(const struct tq_grid *g, const struct plant *p, int64_t *out, size_t max)
{
    double ux = sin(p->bearing_deg * DEG), uy = cos(p->bearing_deg * DEG), d, lon, lat;
    size_t n = 0, i;

    for (d = 0; d <= p->length_km; d += 0.5) {
        int64_t c;

        offset(p->lon, p->lat, d * ux, d * uy, &lon, &lat);
        c = tq_grid_cell(g, lon, lat);
        for (i = 0; i < n && out[i] != c; i++)
            ;
        if (i == n && n < max)
            out[n++] = c;
    }
    return n;
}

static void shuffle_times(struct evs *s)
{
    size_t i;

    for (i = s->n; i > 1; i--) {
        size_t j = (size_t)(rnd() % i);
        int64_t t = s->e[i - 1].at_us;

        s->e[i - 1].at_us = s->e[j].at_us;
        s->e[j].at_us = t;
    }
}

static struct tq_grid grid10(void)
{
    return (struct tq_grid){.kind = TQ_GRID_HEX, .cell_km = 10, .lat0 = LAT0};
}

static struct tq_hot_options opts(void)
{
    struct tq_hot_options o;

    tq_hot_options_default(&o, grid10());
    o.end_us = T0_US + WEEKS * WEEK_US - 1;
    return o;
}

static struct tq_hot_result *run(const struct evs *s, const struct tq_hot_options *o)
{
    struct tq_hot_result *r = NULL;
    struct tq_err err = {0};

    if (tq_hotspot_run(s->e, s->n, o, &r, &err) != TQ_OK)
        fail_msg("tq_hotspot_run: %s", err.msg);
    return r;
}

static double angle_diff(double a, double b)
{
    double d = fmod(fabs(a - b), 360.0);

    return d > 180 ? 360 - d : d;
}

/* Share of the planted cells that corridor c holds. */
static double overlap(const struct tq_corridor *c, const int64_t *pc, size_t np)
{
    size_t i, j, hit = 0;

    for (i = 0; i < np; i++)
        for (j = 0; j < c->n_cells; j++)
            if (c->cells[j] == pc[i]) {
                hit++;
                break;
            }
    return np ? (double)hit / (double)np : 0;
}

/* ---- statistics ------------------------------------------------------------------------ */

static void poisson_tail_known_values(void **state)
{
    /* P(X >= k), X ~ Poisson(mu), by exact summation in 60-digit decimal arithmetic. */
    static const struct {
        unsigned k;
        double mu, p;
    } v[] = {
        {1, 1, 0.63212055882855767},        {5, 2, 0.05265301734371116},
        {10, 3, 0.0011024881301154798},     {3, 0.05, 2.0067493624397941e-05},
        {50, 30, 0.00051889146254803433},   {200, 150, 5.7096885742082446e-05},
        {1, 0.001, 0.00099950016662500823}, {100, 100, 0.5132987982791487},
        {20, 60, 0.99999999936480821},      {7, 0.0625, 6.9982498924610243e-13},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        double got = tq_hot_poisson_sf(v[i].k, v[i].mu);

        if (fabs(got - v[i].p) > 1e-12 * v[i].p)
            fail_msg("P(X >= %u; %g) = %.17g, expected %.17g", v[i].k, v[i].mu, got, v[i].p);
    }
    assert_true(tq_hot_poisson_sf(0, 5) == 1.0);
    /* Monotone in k and in mu. */
    for (i = 1; i < 60; i++) {
        assert_true(tq_hot_poisson_sf((unsigned)i + 1, 7.5) < tq_hot_poisson_sf((unsigned)i, 7.5));
        assert_true(tq_hot_poisson_sf(8, 0.25 * (double)i) <
                    tq_hot_poisson_sf(8, 0.25 * (double)(i + 1)));
    }
}

static void bh_known_example(void **state)
{
    /* Benjamini and Hochberg (1995), section 4: 15 p-values, q = 0.05, four rejected. */
    static const double sorted[15] = {0.0001, 0.0004, 0.0019, 0.0095, 0.0201,
                                      0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
                                      0.4262, 0.5719, 0.6528, 0.7590, 1.0000};
    static const size_t perm[15] = {7, 3, 12, 0, 14, 9, 5, 1, 11, 8, 2, 13, 6, 10, 4};
    double p[15];
    bool rej[15];
    size_t i, k;

    (void)state;
    for (i = 0; i < 15; i++)
        p[perm[i]] = sorted[i];
    k = tq_hot_bh(p, 15, 0.05, rej);
    assert_int_equal(k, 4);
    for (i = 0; i < 15; i++)
        assert_int_equal(rej[perm[i]], i < 4);
    /* Step-up: a p-value above its own line is rejected when a later one passes. */
    {
        double q[4] = {0.02, 0.03, 0.035, 0.04}; /* 0.02 > 0.0125 but 0.04 <= 0.05 */

        assert_int_equal(tq_hot_bh(q, 4, 0.05, rej), 4);
        q[3] = 0.9; /* now 0.035 <= 3 * 0.05 / 4 is the largest that passes */
        assert_int_equal(tq_hot_bh(q, 4, 0.05, rej), 3);
        assert_false(rej[3]);
        q[2] = 0.04; /* 0.04 > 0.0375, 0.03 > 0.025, 0.02 > 0.0125: none */
        assert_int_equal(tq_hot_bh(q, 4, 0.05, rej), 0);
    }
    /* NaN is never rejected; an empty set rejects nothing. */
    {
        double q[3] = {NAN, 1e-9, 1e-9};

        assert_int_equal(tq_hot_bh(q, 3, 0.05, rej), 2);
        assert_false(rej[0]);
        assert_int_equal(tq_hot_bh(q, 0, 0.05, rej), 0);
    }
}

/* ---- grid ------------------------------------------------------------------------------ */

/* Ray casting in lon/lat: the projection is affine, so containment carries over exactly. */
static bool inside(double (*ring)[2], size_t n, double x, double y)
{
    size_t i, j;
    bool in = false;

    for (i = 0, j = n - 1; i < n; j = i++)
        if ((ring[i][1] > y) != (ring[j][1] > y) &&
            x < (ring[j][0] - ring[i][0]) * (y - ring[i][1]) / (ring[j][1] - ring[i][1]) +
                    ring[i][0])
            in = !in;
    return in;
}

static double haversine_km(double lon1, double lat1, double lon2, double lat2)
{
    double a = pow(sin((lat2 - lat1) * DEG / 2), 2) +
               cos(lat1 * DEG) * cos(lat2 * DEG) * pow(sin((lon2 - lon1) * DEG / 2), 2);

    return 2 * EARTH_KM * asin(sqrt(a));
}

static void grid_point_in_its_cell(void **state)
{
    static const double sizes[] = {0.5, 2.5, 10, 25, 137, 500};
    size_t k, s, i;

    (void)state;
    rng = 1;
    for (k = 0; k < 2; k++)
        for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            struct tq_grid g = {
                .kind = k ? TQ_GRID_SQUARE : TQ_GRID_HEX, .cell_km = sizes[s], .lat0 = LAT0};

            assert_int_equal(tq_grid_check(&g, NULL), TQ_OK);
            for (i = 0; i < 5000; i++) {
                double lon = 38 + 6 * unif(), lat = 32 + 5.5 * unif(), ring[6][2];
                int64_t c = tq_grid_cell(&g, lon, lat), nb[8];
                size_t nv = tq_grid_polygon(&g, c, ring, 6), j, nn;

                assert_int_equal(nv, k ? 4 : 6);
                if (!inside(ring, nv, lon, lat))
                    fail_msg("(%f, %f) not in the polygon of its cell, size %g kind %zu", lon, lat,
                             sizes[s], k);
                /* ... and in none of the neighbours' polygons (up to boundary ties). */
                nn = tq_grid_neighbours(&g, c, nb);
                for (j = 0; j < nn; j++) {
                    tq_grid_polygon(&g, nb[j], ring, 6);
                    assert_false(inside(ring, nv, lon, lat));
                }
            }
        }
}

static void grid_neighbours_adjacent(void **state)
{
    size_t k, i, j, v, w;

    (void)state;
    for (k = 0; k < 2; k++) {
        struct tq_grid g = {.kind = k ? TQ_GRID_SQUARE : TQ_GRID_HEX, .cell_km = 10, .lat0 = LAT0};
        int64_t c = tq_grid_cell(&g, 40.6, 34.9), nb[8];
        double clon, clat, ring[6][2], nring[6][2];
        size_t nn = tq_grid_neighbours(&g, c, nb), nv = tq_grid_polygon(&g, c, ring, 6);

        assert_int_equal(nn, k ? 8 : 6);
        tq_grid_center(&g, c, &clon, &clat);
        assert_int_equal(tq_grid_cell(&g, clon, clat), c);
        for (i = 0; i < nn; i++) {
            double lon, lat, d;
            size_t shared = 0;

            assert_int_equal(tq_grid_distance(&g, c, nb[i]), 1);
            for (j = 0; j < i; j++)
                assert_true(nb[j] != nb[i]);
            tq_grid_center(&g, nb[i], &lon, &lat);
            d = haversine_km(clon, clat, lon, lat);
            /* Edge neighbours are cell_km apart on the ground (corner ones sqrt 2 times). */
            if (k == 0 || i % 2 == 0) {
                if (fabs(d - 10) > 0.02)
                    fail_msg("neighbour %zu centre %.4f km away", i, d);
            } else if (fabs(d - 10 * sqrt(2)) > 0.03) {
                fail_msg("corner neighbour %zu centre %.4f km away", i, d);
            }
            /* Neighbours share an edge (two vertices), or a corner (one) for square corners. */
            tq_grid_polygon(&g, nb[i], nring, 6);
            for (v = 0; v < nv; v++)
                for (w = 0; w < nv; w++)
                    if (fabs(ring[v][0] - nring[w][0]) < 1e-9 &&
                        fabs(ring[v][1] - nring[w][1]) < 1e-9)
                        shared++;
            assert_int_equal(shared, (k == 0 || i % 2 == 0) ? 2 : 1);
        }
        /* Two steps away: a neighbour of a neighbour that is not one itself. */
        {
            int64_t nb2[8];

            tq_grid_neighbours(&g, nb[0], nb2);
            assert_int_equal(tq_grid_distance(&g, c, nb2[0]), 2);
        }
    }
}

static void grid_cell_size(void **state)
{
    size_t k;

    (void)state;
    for (k = 0; k < 2; k++) {
        struct tq_grid g = {.kind = k ? TQ_GRID_SQUARE : TQ_GRID_HEX, .cell_km = 25, .lat0 = 35};
        int64_t c = tq_grid_cell(&g, 41, 35);
        double ring[6][2], area = 0, want = k ? 625 : 625 * sqrt(3) / 2;
        size_t nv = tq_grid_polygon(&g, c, ring, 6), i;

        /* Shoelace on a local plane through the cell: the area is right on the ground. */
        for (i = 0; i < nv; i++) {
            size_t j = (i + 1) % nv;
            double xi = EARTH_KM * ring[i][0] * DEG * cos(35 * DEG),
                   yi = EARTH_KM * ring[i][1] * DEG;
            double xj = EARTH_KM * ring[j][0] * DEG * cos(35 * DEG),
                   yj = EARTH_KM * ring[j][1] * DEG;

            area += xi * yj - xj * yi;
        }
        area /= 2;
        assert_true(area > 0); /* counter-clockwise */
        if (fabs(area - want) > 1e-6 * want)
            fail_msg("cell area %.6f km2, expected %.6f", area, want);
        /* Fewer vertices when the caller has less room. */
        assert_int_equal(tq_grid_polygon(&g, c, ring, 3), 3);
    }
}

/* ---- options and edge cases ------------------------------------------------------------ */

static void expect_invalid(const struct tq_hot_options *o, const char *needle)
{
    struct tq_hot_result *r = NULL;
    struct tq_hot_event e = {40, 34, T0_US};
    struct tq_err err = {0};

    assert_int_equal(tq_hotspot_run(&e, 1, o, &r, &err), TQ_EINVAL);
    assert_null(r);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' does not say '%s'", err.msg, needle);
}

/* Options spoiled one way each, with a word the refusal must contain. */
static const char *spoil(struct tq_hot_options *o, int i)
{
    switch (i) {
    case 0:
        o->grid.cell_km = 0.4;
        return "cell size";
    case 1:
        o->grid.cell_km = 501;
        return "cell size";
    case 2:
        o->grid.cell_km = NAN;
        return "cell size";
    case 3:
        o->grid.kind = 7;
        return "kind";
    case 4:
        o->grid.lat0 = 85;
        return "latitude";
    case 5:
        o->window_us = 0;
        return "whole number";
    case 6:
        o->step_us = 2 * o->window_us;
        return "whole number";
    case 7:
        o->step_us = 5 * 3600 * (int64_t)1000000;
        return "whole number"; /* 7 d / 5 h */
    case 8:
        o->step_us = 0;
        return "second";
    case 9:
        o->baseline_windows = 0;
        return "baseline";
    case 10:
        o->baseline_windows = 65;
        return "baseline";
    case 11:
        o->fdr_q = 0;
        return "FDR";
    case 12:
        o->fdr_q = NAN;
        return "FDR";
    case 13:
        o->min_count = 0;
        return "incident";
    case 14:
        o->min_corridor_cells = 1;
        return "corridor";
    case 15:
        o->prior_share = -1;
        return "prior";
    default:
        return NULL;
    }
}

static void options_validation(void **state)
{
    struct tq_hot_options o = opts();
    struct tq_err err = {0};
    const char *needle;
    int i;

    (void)state;
    assert_int_equal(tq_hot_options_check(&o, &err), TQ_OK);
    for (i = 0;; i++) {
        o = opts();
        needle = spoil(&o, i);
        if (!needle)
            break;
        expect_invalid(&o, needle);
    }
    assert_int_equal(i, 16);
}

static void events_validation(void **state)
{
    struct tq_hot_options o = opts();
    struct tq_hot_result *r = NULL;
    struct tq_hot_event e[3] = {{40, 34, T0_US}, {NAN, 34, T0_US}, {40, 34, T0_US}};
    struct tq_err err = {0};

    (void)state;
    assert_int_equal(tq_hotspot_run(e, 3, &o, &r, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "event 1"));
    e[1] = (struct tq_hot_event){40, 91, T0_US};
    assert_int_equal(tq_hotspot_run(e, 3, &o, &r, &err), TQ_EINVAL);
    e[1] = (struct tq_hot_event){-181, 30, T0_US};
    assert_int_equal(tq_hotspot_run(e, 3, &o, &r, &err), TQ_EINVAL);
    assert_int_equal(tq_hotspot_run(NULL, 3, &o, &r, &err), TQ_EINVAL);
    assert_int_equal(tq_hotspot_run(e, TQ_HOT_EVENTS_MAX + 1, &o, &r, &err), TQ_ETOOBIG);
    assert_null(r);
    /* Too many steps of history: one-second steps over two days. */
    o.step_us = o.window_us = 1000000;
    e[1] = (struct tq_hot_event){40, 34, T0_US - 2 * DAY_US};
    assert_int_equal(tq_hotspot_run(e, 3, &o, &r, &err), TQ_ETOOBIG);
    assert_non_null(strstr(err.msg, "steps"));
    assert_null(r);
}

static void empty_and_single(void **state)
{
    struct tq_hot_options o = opts();
    struct tq_hot_result *r = NULL;
    struct tq_hot_event e = {40.6, 34.9, T0_US};
    struct tq_err err = {0};
    struct tq_buf b;
    struct json_object *j = NULL;

    (void)state;
    assert_int_equal(tq_hotspot_run(NULL, 0, &o, &r, &err), TQ_OK);
    assert_non_null(r);
    assert_int_equal(r->n_cells, 0);
    assert_int_equal(r->n_corridors, 0);
    tq_buf_init(&b, 1 << 20);
    assert_int_equal(tq_hotspot_geojson(r, &o, true, &b, &err), TQ_OK);
    assert_string_equal(b.ptr, "{\"type\":\"FeatureCollection\",\"features\":[]}");
    tq_hot_result_free(r);
    r = NULL;

    /* One event: no window has a baseline before it, so nothing is tested. */
    o.end_us = 0;
    assert_int_equal(tq_hotspot_run(&e, 1, &o, &r, &err), TQ_OK);
    assert_int_equal(r->end_us, e.at_us);
    assert_int_equal(r->n_tests, 0);
    assert_int_equal(r->n_cells, 0);
    tq_hot_result_free(r);
    r = NULL;
    /* ... and with a long enough history it is tested once and is not hot (min_count 3). */
    o.end_us = T0_US + 20 * WEEK_US;
    assert_int_equal(tq_hotspot_run(&e, 1, &o, &r, &err), TQ_OK);
    assert_int_equal(r->n_cells, 0);
    assert_int_equal(r->n_corridors, 0);
    tq_hot_result_free(r);
    r = NULL;
    /* An event after end_us is ignored. */
    o.end_us = T0_US - 1;
    assert_int_equal(tq_hotspot_run(&e, 1, &o, &r, &err), TQ_OK);
    assert_int_equal(r->n_tests, 0);
    tq_buf_reset(&b);
    assert_int_equal(tq_hotspot_geojson(r, &o, false, &b, &err), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &j, &err), TQ_OK);
    json_object_put(j);
    tq_hot_result_free(r);
    tq_hot_result_free(NULL);
    tq_buf_cleanup(&b);
}

/* A cell that jumps from quiet to busy is hot; a town at its usual rate is not. */
static void own_baseline(void **state)
{
    struct tq_hot_options o = opts();
    struct tq_hot_result *r;
    struct evs s = {0};
    int64_t town, spike;
    size_t i, hot_town = 0, hot_spike = 0;

    (void)state;
    rng = 99;
    for (i = 0; i < 200 * WEEKS; i++) /* sparse incidents anywhere, so that the FDR step bites */
        add(&s, 38 + 6 * unif(), 32 + 5.5 * unif(), T0_US + (int64_t)(unif() * WEEKS * WEEK_US));
    for (i = 0; i < 30 * WEEKS; i++) /* 30 a week in one place, all the time */
        add(&s, 40.14, 35.33, T0_US + (int64_t)(unif() * WEEKS * WEEK_US));
    for (i = 0; i < 12; i++) /* 12 in the last week where nothing happened before */
        add(&s, 42.0, 33.5, T0_US + (WEEKS - 1) * WEEK_US + (int64_t)(unif() * WEEK_US));
    r = run(&s, &o);
    town = tq_grid_cell(&o.grid, 40.14, 35.33);
    spike = tq_grid_cell(&o.grid, 42.0, 33.5);
    for (i = 0; i < r->n_cells; i++) {
        hot_town += r->cells[i].cell == town;
        hot_spike += r->cells[i].cell == spike;
        assert_true(r->cells[i].p < 0.05 && r->cells[i].count >= 3);
    }
    print_message("town hot in %zu windows, the new cluster in %zu\n", hot_town, hot_spike);
    assert_int_equal(hot_town, 0);
    assert_true(hot_spike > 0);
    assert_int_equal(r->n_windows_tested, (WEEKS - 9) * 7 + 1);
    assert_int_equal(r->n_corridors, 0);
    tq_hot_result_free(r);
    tq_free(s.e);
}

/* ---- corridors ------------------------------------------------------------------------- */

static const struct plant deir_to_anbar = {40.6, 34.9, 0, 0, 1.0};

/* The bearing and length from Deir ez-Zor side (40.6 E, 34.9 N) to al-Anbar (41.5 E, 34.2 N). */
static struct plant planted_fixed(void)
{
    struct plant p = deir_to_anbar;
    double dx = EARTH_KM * (41.5 - 40.6) * DEG * cos(LAT0 * DEG),
           dy = EARTH_KM * (34.2 - 34.9) * DEG;

    p.bearing_deg = fmod(atan2(dx, dy) / DEG + 360, 360);
    p.length_km = hypot(dx, dy);
    return p;
}

static void corridor_planted_found(void **state)
{
    struct tq_hot_options o = opts();
    struct plant p = planted_fixed();
    struct tq_hot_result *r;
    struct evs s = {0};
    int64_t pc[256];
    size_t np, k;
    const struct tq_corridor *c;
    struct tq_buf b;
    struct tq_err err = {0};
    struct json_object *j = NULL, *feats;

    (void)state;
    rng = 2025;
    background(&s);
    plant(&s, &p);
    np = plant_cells(&o.grid, &p, pc, 256);
    r = run(&s, &o);
    print_message("planted: %zu events, %zu hot cells, %zu corridors; planted bearing %.1f, "
                  "length %.1f km, %zu cells\n",
                  s.n, r->n_cells, r->n_corridors, p.bearing_deg, p.length_km, np);
    assert_int_equal(r->n_corridors, 1);
    c = &r->corridors[0];
    print_message("found: %zu cells, bearing %.1f, length %.1f km, overlap %.2f, growth",
                  c->n_cells, c->direction_deg, c->length_km, overlap(c, pc, np));
    for (k = 0; k < c->n_windows; k += 7)
        print_message(" %u/%u", c->cells_per_window[k], c->events_per_window[k]);
    print_message("\n");
    assert_true(overlap(c, pc, np) >= 0.5);
    assert_true(angle_diff(c->direction_deg, p.bearing_deg) <= 30);
    assert_int_equal(c->id, 1);
    assert_true(c->first_us < c->last_us && c->last_us <= o.end_us);
    assert_int_equal(c->n_windows, (size_t)((c->last_us - c->first_us) / o.step_us) + 1);
    /* It grows: more incidents in it at the end than at the start. */
    assert_true(c->events_per_window[c->n_windows - 1] > 2 * c->events_per_window[0]);

    /* GeoJSON: valid JSON, the latest window's hot cells and the corridor. */
    tq_buf_init(&b, 16 << 20);
    assert_int_equal(tq_hotspot_geojson(r, &o, true, &b, &err), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &j, &err), TQ_OK);
    feats = json_object_object_get(j, "features");
    assert_true(json_object_array_length(feats) >= 1);
    {
        struct json_object *last =
            json_object_array_get_idx(feats, json_object_array_length(feats) - 1);
        struct json_object *geom = json_object_object_get(last, "geometry");
        struct json_object *props = json_object_object_get(last, "properties");

        assert_string_equal(json_object_get_string(json_object_object_get(geom, "type")),
                            "LineString");
        assert_int_equal(json_object_array_length(json_object_object_get(geom, "coordinates")),
                         c->n_cells);
        assert_int_equal(
            json_object_array_length(json_object_object_get(props, "events_per_window")),
            c->n_windows);
    }
    json_object_put(j);
    /* A small cap is refused cleanly and leaves the buffer as it was. */
    {
        struct tq_buf small;

        tq_buf_init(&small, 64);
        assert_int_equal(tq_buf_append_c(&small, "x"), TQ_OK);
        assert_int_equal(tq_hotspot_geojson(r, &o, false, &small, &err), TQ_ETOOBIG);
        assert_int_equal(small.len, 1);
        assert_string_equal(small.ptr, "x");
        tq_buf_cleanup(&small);
    }
    tq_buf_cleanup(&b);
    tq_hot_result_free(r);

    /* The same incidents with their times shuffled: no corridor. */
    shuffle_times(&s);
    r = run(&s, &o);
    print_message("shuffled: %zu hot cells, %zu corridors\n", r->n_cells, r->n_corridors);
    assert_int_equal(r->n_corridors, 0);
    tq_hot_result_free(r);
    tq_free(s.e);
}

static void corridor_background_none(void **state)
{
    struct tq_hot_options o = opts();
    struct tq_hot_result *r;
    struct evs s = {0};
    double floor_mu = INFINITY;
    size_t i;

    (void)state;
    rng = 2025;
    background(&s);
    r = run(&s, &o);
    for (i = 0; i < r->n_cells; i++) /* the floor, where a hot cell had a quiet past */
        floor_mu = r->cells[i].expected < floor_mu ? r->cells[i].expected : floor_mu;
    print_message("background: %zu events, %zu tests, %zu hot cells (lowest expected %.3f), %zu "
                  "corridors\n",
                  s.n, r->n_tests, r->n_cells, floor_mu, r->n_corridors);
    assert_int_equal(r->n_corridors, 0);
    tq_hot_result_free(r);
    tq_free(s.e);
}

static void corridor_many_seeds(void **state)
{
    struct tq_hot_options o = opts();
    size_t seed, detected = 0, fa_shuffled = 0, fa_background = 0, extra = 0;
    const size_t runs = 40;

    (void)state;
    for (seed = 1; seed <= runs; seed++) {
        struct evs s = {0}, bg = {0};
        struct plant p;
        struct tq_hot_result *r;
        int64_t pc[256];
        size_t np, i, hits = 0;
        double ux, uy, elon, elat;

        rng = 0x5eed0000 + seed;
        /* A start and bearing whose whole segment stays 0.3 degrees inside the region. */
        do {
            p.lon = 38.5 + 5 * unif();
            p.lat = 32.5 + 4.5 * unif();
            p.bearing_deg = 360 * unif();
            p.length_km = 80 + 70 * unif();
            ux = sin(p.bearing_deg * DEG);
            uy = cos(p.bearing_deg * DEG);
            offset(p.lon, p.lat, p.length_km * ux, p.length_km * uy, &elon, &elat);
        } while (elon < 38.3 || elon > 43.7 || elat < 32.3 || elat > 37.2);
        p.intensity = 1.0 + 0.6 * unif();

        background(&s);
        memcpy(&bg, &s, sizeof(bg));
        bg.e = tq_xmalloc(s.n * sizeof(*s.e));
        memcpy(bg.e, s.e, s.n * sizeof(*s.e));
        bg.cap = s.n;
        plant(&s, &p);
        np = plant_cells(&o.grid, &p, pc, 256);

        r = run(&s, &o);
        for (i = 0; i < r->n_corridors; i++) {
            const struct tq_corridor *c = &r->corridors[i];

            if (overlap(c, pc, np) >= 0.5 && angle_diff(c->direction_deg, p.bearing_deg) <= 30)
                hits++;
            else
                print_message("seed %zu: corridor %zu of %zu: overlap %.2f bearing %.0f vs %.0f\n",
                              seed, i + 1, r->n_corridors, overlap(c, pc, np), c->direction_deg,
                              p.bearing_deg);
        }
        detected += hits == 1;
        extra += r->n_corridors - hits;
        if (hits != 1)
            print_message("seed %zu: missed (start %.2f %.2f, bearing %.0f, %.0f km, x%.2f)\n",
                          seed, p.lon, p.lat, p.bearing_deg, p.length_km, p.intensity);
        tq_hot_result_free(r);

        shuffle_times(&s);
        r = run(&s, &o);
        fa_shuffled += r->n_corridors > 0;
        tq_hot_result_free(r);

        r = run(&bg, &o);
        fa_background += r->n_corridors > 0;
        tq_hot_result_free(r);
        tq_free(s.e);
        tq_free(bg.e);
    }
    print_message("corridors over %zu random plantings: detection %.3f (%zu), other corridors "
                  "beside a planted one %zu; false alarms: shuffled %zu/%zu, background %zu/%zu\n",
                  runs, (double)detected / (double)runs, detected, extra, fa_shuffled, runs,
                  fa_background, runs);
    assert_true((double)detected / (double)runs >= 0.9);
    assert_true(fa_shuffled + fa_background <= 2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(poisson_tail_known_values),
        cmocka_unit_test(bh_known_example),
        cmocka_unit_test(grid_point_in_its_cell),
        cmocka_unit_test(grid_neighbours_adjacent),
        cmocka_unit_test(grid_cell_size),
        cmocka_unit_test(options_validation),
        cmocka_unit_test(events_validation),
        cmocka_unit_test(empty_and_single),
        cmocka_unit_test(own_baseline),
        cmocka_unit_test(corridor_planted_found),
        cmocka_unit_test(corridor_background_none),
        cmocka_unit_test(corridor_many_seeds),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("hotspot", tests, NULL, NULL);
}
