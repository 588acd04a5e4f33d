/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/geo.h - administrative boundaries and point tagging.
 *
 * Boundaries arrive as GeoJSON (RFC 7946, WGS 84 lon/lat), typically OCHA COD-AB country
 * outlines (level 0) and governorates (level 1). tq_geo_units_parse turns them into units with
 * valid polygonal geometry; tq_geo_index_build indexes them and derives the international
 * border between the loaded countries; tq_geo_tag answers, for one point, its country,
 * governorate and distance to that border. docs/internals/geo.md has the rules, the border
 * derivation, the distance method with its error bound, and the measured speed.
 *
 * Everything here needs GEOS: when the build has TQ_HAVE_GEOS=0 every function returns
 * TQ_ENOTSUP (the _free functions still accept what they are given).
 */
#ifndef TANSIQ_GEO_H
#define TANSIQ_GEO_H

#include <stdbool.h>
#include <stddef.h>

#include "tansiq/core.h"

/* Limits on untrusted boundary input. */
#define TQ_GEO_MAX_INPUT_BYTES ((size_t)256 << 20) /* GeoJSON text given to the parser */
#define TQ_GEO_MAX_FEATURES 100000                 /* features in one collection */
#define TQ_GEO_MAX_VERTICES 20000000               /* positions over all features */
#define TQ_GEO_MAX_STRING 1024                     /* bytes of one property value */

/* Property names; NULL members take the OCHA COD-AB defaults given beside them. */
struct tq_geo_fields {
    const char *country_pcode, *country_en, *country_ar; /* ADM0_PCODE, ADM0_EN, ADM0_AR */
    const char *pcode, *name_en, *name_ar;               /* ADM1_PCODE, ADM1_EN, ADM1_AR */
};

/* One administrative unit; every string is owned (tq_geo_units_free). */
struct tq_geo_unit {
    int level; /* 0: a country outline (no ADM1 fields), 1: a governorate */
    char *country_pcode, *country_en, *country_ar;
    char *pcode, *name_en, *name_ar; /* for level 0: the country's own */
    char *geometry;                  /* GeoJSON geometry text (Polygon/MultiPolygon), valid */
    bool repaired;                   /* it was invalid and was repaired with MakeValid */
};

#define TQ_GEO_REPORT_PROBLEMS 8
struct tq_geo_parse_report {
    size_t features; /* features read */
    size_t units;    /* units produced */
    size_t repaired; /* of which repaired */
    size_t skipped;  /* features skipped (no fields, not areal, empty) */
    size_t n_problems;
    char problems[TQ_GEO_REPORT_PROBLEMS][160]; /* the first repairs and skips, one line each */
};

/*
 * Parse a GeoJSON FeatureCollection (or a single Feature) into units. A feature whose
 * properties hold the ADM1 pcode is level 1; one with only the country fields is level 0 (its
 * pcode and names are the country's). The country pcode is required, names may be absent
 * (empty strings). Geometry must be Polygon or MultiPolygon; invalid polygons (self-
 * intersecting rings, say) are repaired with GEOS MakeValid and reported. Features without the
 * fields, with another geometry type or with nothing areal left are skipped and reported.
 *
 * Errors: TQ_ETOOBIG when geojson exceeds TQ_GEO_MAX_INPUT_BYTES or the feature/vertex limits,
 * TQ_EJSON for text that is not strict JSON, TQ_EINVAL for a malformed document or a position
 * that is not a finite [lon, lat] in [-180,180]x[-90,90] (the message names the feature).
 * On TQ_OK *out (free with tq_geo_units_free) and *n are set; rep (may be NULL) is filled in
 * either case. Thread-safe.
 */
tq_rc tq_geo_units_parse(struct tq_str geojson, const struct tq_geo_fields *f,
                         struct tq_geo_unit **out, size_t *n, struct tq_geo_parse_report *rep,
                         struct tq_err *err);
void tq_geo_units_free(struct tq_geo_unit *u, size_t n); /* NULL is a no-op */

/* Default distance within which a point outside every unit is given the nearest unit. */
#define TQ_GEO_DEFAULT_TOLERANCE_KM 5.0
/* Two countries' outlines closer than this are taken to share a border there. */
#define TQ_GEO_BORDER_TOLERANCE_KM 2.0

struct tq_geo_index_options {
    double tolerance_km; /* nearest-unit tolerance; 0: TQ_GEO_DEFAULT_TOLERANCE_KM */
};
struct tq_geo_index;

/*
 * Index units (borrowed; the index keeps its own copies). Level-1 units answer tags; a country
 * with no level-1 unit is answered by its level-0 outline. The border is every stretch where
 * the outlines of two loaded countries meet (docs/internals/geo.md). TQ_EINVAL for units whose
 * geometry is not valid GeoJSON Polygon/MultiPolygon text, for n == 0 or a negative or
 * non-finite tolerance; TQ_ETOOBIG beyond the limits above. *out is set only on TQ_OK.
 */
tq_rc tq_geo_index_build(const struct tq_geo_unit *units, size_t n,
                         const struct tq_geo_index_options *opt, struct tq_geo_index **out,
                         struct tq_err *err);
void tq_geo_index_free(struct tq_geo_index *ix); /* NULL is a no-op */

/* How many units answer tags, how many countries, and the border's length in km (the mean of
   the two producers' lines on each shared stretch; 0 with fewer than two countries). */
size_t tq_geo_index_units(const struct tq_geo_index *ix);
size_t tq_geo_index_countries(const struct tq_geo_index *ix);
double tq_geo_index_border_km(const struct tq_geo_index *ix);

enum { TQ_GEO_INSIDE = 1, TQ_GEO_NEAREST = 2, TQ_GEO_OUTSIDE = 4, TQ_GEO_SWAPPED = 8 };

/* The answer for one point. Strings are borrowed from the index (valid until it is freed) and
   NULL when OUTSIDE. */
struct tq_geo_tag {
    const char *country_pcode, *country_en, *country_ar, *pcode, *name_en, *name_ar;
    double border_km;  /* distance to the international border, km; -1 when the index has none */
    double nearest_km; /* with TQ_GEO_NEAREST: distance to the unit given, else 0 */
    double lon, lat;   /* the point used (swapped back when TQ_GEO_SWAPPED) */
    unsigned flags;    /* exactly one of INSIDE, NEAREST, OUTSIDE; SWAPPED may be added */
};

/*
 * Tag one point. Inside a unit: TQ_GEO_INSIDE. Outside every unit but within the tolerance of
 * one: TQ_GEO_NEAREST with nearest_km. Farther: TQ_GEO_OUTSIDE. When the point is OUTSIDE or
 * out of range and (lat, lon) lies inside a unit, the swapped point is answered with
 * TQ_GEO_SWAPPED added. TQ_EINVAL for NaN/inf or out-of-range coordinates (unless the swap is
 * in range and inside). out is written only on TQ_OK. Safe to call from several threads at once
 * on one index.
 */
tq_rc tq_geo_tag(const struct tq_geo_index *ix, double lon, double lat, struct tq_geo_tag *out,
                 struct tq_err *err);

/*
 * For the map. Appends to out a GeoJSON FeatureCollection of the indexed units (all levels),
 * each with its properties (level, country_pcode, country_en, country_ar, pcode, name_en,
 * name_ar, repaired), simplified topology-preservingly to simplify_km (0: as loaded). TQ_EINVAL
 * for a negative or non-finite simplify_km; TQ_ETOOBIG when out's cap is reached.
 */
tq_rc tq_geo_index_units_geojson(const struct tq_geo_index *ix, double simplify_km,
                                 struct tq_buf *out, struct tq_err *err);
/*
 * Appends a FeatureCollection with one MultiLineString feature per shared stretch and country
 * side: properties country_pcode (whose outline the line follows), other_pcode and length_km.
 */
tq_rc tq_geo_index_border_geojson(const struct tq_geo_index *ix, struct tq_buf *out,
                                  struct tq_err *err);

#endif
