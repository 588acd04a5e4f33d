/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/hotspot.h - hotspots and corridors of incidents over space and time.
 *
 * Incidents (a point and a time) are counted on a km-true grid of hexagons or squares over
 * sliding time windows. A cell is hot in a window when its count is significantly above its
 * OWN earlier level (a one-sided Poisson test), with the Benjamini-Hochberg procedure holding
 * the false discovery rate across the cells tested in that window. Hot cells connected in
 * space and time, that turn hot one after another, form a corridor: reported once, with its
 * cells, its bearing, its length and its growth per window. Pure computation on core only;
 * docs/internals/hotspot.md gives the formulas, the limits and the measured figures.
 *
 * Every function is thread-safe for distinct arguments; nothing is kept between calls.
 */
#ifndef TANSIQ_HOTSPOT_H
#define TANSIQ_HOTSPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"

/* ---- grid ------------------------------------------------------------------------------ */

enum tq_grid_kind { TQ_GRID_HEX = 0, TQ_GRID_SQUARE = 1 };

/*
 * A grid on a local equidistant projection around latitude lat0: x = R * lon * cos(lat0),
 * y = R * (lat - lat0), R = 6371.0088 km, angles in radians, so distances in km are true near
 * lat0 (within 1 % for 5 degrees of latitude either side at 35 N). Hexagons are pointy-topped.
 * cell_km is the distance between the centres of two neighbouring cells: the side of a square,
 * the width across the flats of a hexagon (whose area is then cell_km^2 * sqrt(3) / 2).
 */
struct tq_grid {
    enum tq_grid_kind kind;
    double cell_km; /* [TQ_GRID_CELL_KM_MIN, TQ_GRID_CELL_KM_MAX] */
    double lat0;    /* degrees, [-80, 80] */
};

#define TQ_GRID_CELL_KM_MIN 0.5
#define TQ_GRID_CELL_KM_MAX 500.0
#define TQ_GRID_POLYGON_MAX 6 /* vertices of a cell's outline, without the closing one */

/*
 * Check a grid: kind known, cell_km in range, lat0 in [-80, 80]. TQ_EINVAL with the reason.
 */
tq_rc tq_grid_check(const struct tq_grid *g, struct tq_err *err);
/*
 * The id of the cell holding (lon, lat), in degrees. The id packs the cell's two integer
 * coordinates (axial q, r for hexagons; column, row for squares) as q << 32 | (uint32_t)r.
 * The grid must have passed tq_grid_check and the point must be finite with |lon| <= 180 and
 * |lat| <= 90 (tq_hotspot_run checks both).
 */
int64_t tq_grid_cell(const struct tq_grid *g, double lon, double lat);
/* The centre of a cell, in degrees. */
void tq_grid_center(const struct tq_grid *g, int64_t cell, double *lon, double *lat);
/*
 * The vertices of a cell's outline in degrees, counter-clockwise, the first not repeated:
 * min(max, 6) for a hexagon, min(max, 4) for a square. Returns how many were written.
 */
size_t tq_grid_polygon(const struct tq_grid *g, int64_t cell, double lonlat[][2], size_t max);
/* The cells sharing an edge (hexagon: 6) or an edge or corner (square: 8). Returns the count. */
size_t tq_grid_neighbours(const struct tq_grid *g, int64_t cell, int64_t out[8]);
/*
 * Steps between two cells through neighbours: the hexagonal distance, or the Chebyshev
 * distance for squares. 1 for neighbours, 2 for cells with one cell between them.
 */
int64_t tq_grid_distance(const struct tq_grid *g, int64_t a, int64_t b);

/* ---- statistics ------------------------------------------------------------------------ */

/*
 * P(X >= k) for X ~ Poisson(mu), mu > 0: the regularised lower incomplete gamma function
 * P(k, mu), by its series or its continued fraction (relative error below 1e-12). 1 for k = 0.
 */
double tq_hot_poisson_sf(unsigned k, double mu);
/*
 * Benjamini-Hochberg at level q over n p-values: marks reject[i] for every p[i] at or below
 * the largest p_(j) with p_(j) <= j q / n (p sorted ascending) and returns how many it marked.
 * NaN p-values are never rejected. n is bounded by the caller (it allocates n indices).
 */
size_t tq_hot_bh(const double *p, size_t n, double q, bool *reject);

/* ---- hotspots and corridors ------------------------------------------------------------ */

struct tq_hot_event {
    double lon, lat; /* degrees, WGS 84 */
    int64_t at_us;   /* microseconds since the epoch */
};

#define TQ_HOT_EVENTS_MAX ((size_t)50 * 1000 * 1000)
#define TQ_HOT_SLOTS_MAX 100000                 /* steps between the oldest event and end_us */
#define TQ_HOT_CELL_SLOTS_MAX ((size_t)1 << 26) /* occupied cells x steps counted */

struct tq_hot_options {
    struct tq_grid grid;         /* several resolutions are several runs, e.g. 10 and 25 km */
    int64_t window_us;           /* window length, e.g. 7 days; a whole number of steps */
    int64_t step_us;             /* the windows slide by this, e.g. 1 day; at least 1 s */
    int64_t end_us;              /* the last window ends here (inclusive); 0: latest event */
    unsigned baseline_windows;   /* a cell's baseline: this many windows just before, 1..64 */
    double fdr_q;                /* Benjamini-Hochberg level, (0, 0.5] */
    unsigned min_count;          /* a hot cell holds at least this many incidents, >= 1 */
    unsigned min_corridor_cells; /* fewer cells than this is no corridor, >= 2 */
    /*
     * Floor of a cell's expected count, as a fraction of the mean count per occupied cell and
     * window over the whole run; 0 takes the default 0.5. See docs/internals/hotspot.md.
     */
    double prior_share;
};

/* Defaults for everything but the grid: 7-day windows, 1-day steps, 8 baseline windows,
 * q = 0.05, at least 3 incidents, corridors of 4 cells. */
void tq_hot_options_default(struct tq_hot_options *o, struct tq_grid grid);
/* Check options (grid included). TQ_EINVAL with the reason. */
tq_rc tq_hot_options_check(const struct tq_hot_options *o, struct tq_err *err);

/* One cell tested in one window (tq_hotspot_run reports the hot ones). */
struct tq_hot_cell {
    int64_t cell;
    int64_t window_end_us; /* the window is (window_end_us - window_us, window_end_us] */
    unsigned count;        /* incidents in the window */
    double expected;       /* the Poisson mean the count was tested against */
    double z;              /* (count - expected) / sqrt(expected), for display */
    double p;              /* P(X >= count), before the FDR step */
    bool hot;
};

struct tq_corridor {
    unsigned id;    /* 1, 2, ... in the order of first_us */
    int64_t *cells; /* in the order they turned hot (ties: along the direction) */
    size_t n_cells;
    double direction_deg;        /* bearing of the principal axis, 0 = north, clockwise, [0, 360),
                                    oriented from the cells hot first to the cells hot last */
    double length_km;            /* extent of the cell centres along that axis */
    int64_t first_us;            /* end of the first window with a hot cell of the corridor */
    int64_t last_us;             /* end of the last one */
    size_t n_windows;            /* windows from first_us to last_us, one per step */
    unsigned *cells_per_window;  /* hot corridor cells in each of those windows */
    unsigned *events_per_window; /* incidents in the corridor's cells in each window */
};

struct tq_hot_result {
    struct tq_hot_cell *cells; /* the hot cells of every tested window, by window then cell */
    size_t n_cells;
    struct tq_corridor *corridors;
    size_t n_corridors;
    int64_t end_us;          /* end of the last window */
    size_t n_windows_tested; /* windows with a full baseline, ending at end_us and before */
    size_t n_tests;          /* (cell, window) pairs tested */
};

/*
 * Find hot cells and corridors in n events (borrowed). On TQ_OK *out is a new result owned by
 * the caller (tq_hot_result_free); with no event, or too little history for one window and its
 * baseline, it holds nothing. Events after end_us are ignored, and so are those older than
 * the first window's baseline. Returns TQ_EINVAL for bad options or an event with a NaN or
 * out-of-range coordinate (the reason and the event's index in err), TQ_ETOOBIG beyond
 * TQ_HOT_EVENTS_MAX events, TQ_HOT_SLOTS_MAX steps of history or TQ_HOT_CELL_SLOTS_MAX
 * counters.
 */
tq_rc tq_hotspot_run(const struct tq_hot_event *ev, size_t n, const struct tq_hot_options *o,
                     struct tq_hot_result **out, struct tq_err *err);
void tq_hot_result_free(struct tq_hot_result *r); /* NULL is a no-op */

/*
 * Append a GeoJSON (RFC 7946) FeatureCollection to out: the hot cells (of the latest window
 * only, or of every window) as Polygons with count, expected, z, p and window_end; then each
 * corridor as a LineString through its cells' centres in the order they turned hot, with id,
 * direction_deg, length_km, first and last (RFC 3339), cells_per_window and
 * events_per_window. o must be the options of the run. TQ_ETOOBIG when out reaches its cap
 * (out then keeps its previous length).
 */
tq_rc tq_hotspot_geojson(const struct tq_hot_result *r, const struct tq_hot_options *o,
                         bool latest_only, struct tq_buf *out, struct tq_err *err);

#endif
