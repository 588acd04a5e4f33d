/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/geo.h - what the boundary parser and the index share: a GEOS context per thread, the
 * reading of GeoJSON geometry from a json-c tree with its checks, the repair to valid polygonal
 * geometry, and the spherical distance.
 */
#ifndef TQ_GEO_INTERNAL_H
#define TQ_GEO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"
#include "tansiq/geo.h"

#define TQ__GEO_EARTH_KM 6371.0088 /* mean Earth radius (IUGG), for haversine */
#define TQ__GEO_KM_PER_DEG (TQ__GEO_EARTH_KM * 0.017453292519943295)

/* Great-circle distance in km between two lon/lat points (haversine, spherical Earth). */
double tq__geo_haversine_km(double lon1, double lat1, double lon2, double lat2);

#if TQ_HAVE_GEOS
#include <geos_c.h>

struct json_object;

/*
 * The calling thread's GEOS context, made on first use and finished when the thread exits.
 * GEOS handles are not to be shared between threads; geometries are (read-only), so one index
 * serves every thread, each through its own handle. msg holds the last GEOS error text.
 */
struct tq__geo_ctx {
    GEOSContextHandle_t h;
    char msg[256];
};
struct tq__geo_ctx *tq__geo_ctx(void);

/*
 * Geometry from a GeoJSON geometry object. Polygon and MultiPolygon are read into *out (owned,
 * GEOSGeom_destroy_r), any other type leaves *out NULL (the caller skips it). Every position
 * must be a finite [lon, lat] in range and each ring closed with at least 4 positions: TQ_EINVAL
 * naming `what` otherwise. *vertices grows by the positions read; beyond max_vertices TQ_ETOOBIG.
 */
tq_rc tq__geo_geom_from_json(struct tq__geo_ctx *c, struct json_object *g, const char *what,
                             size_t *vertices, size_t max_vertices, GEOSGeometry **out,
                             struct tq_err *err);

/*
 * Make *g valid polygonal geometry: a valid input is kept (*repaired false); an invalid one is
 * replaced by the polygonal part of GEOSMakeValid (*repaired true). *g becomes NULL when
 * nothing areal is left. TQ_ENOMEM when GEOS fails.
 */
tq_rc tq__geo_make_areal(struct tq__geo_ctx *c, GEOSGeometry **g, bool *repaired,
                         struct tq_err *err);

/* GeoJSON text of g as a new string (tq_free); NULL when GEOS fails. */
char *tq__geo_geom_to_json(struct tq__geo_ctx *c, const GEOSGeometry *g);
#endif

#endif
