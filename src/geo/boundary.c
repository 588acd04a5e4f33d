/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/boundary.c - administrative units from GeoJSON (OCHA COD-AB style).
 *
 * The text goes through the project's strict JSON parser (tq_json_parse), and geometry is built
 * from the json-c tree here rather than by GEOS's GeoJSON reader: every position has to be
 * checked (finite, in range, rings closed) and counted against the vertex limit before GEOS
 * sees it, and a refusal must name the feature. GEOS then checks validity; invalid polygons are
 * repaired with GEOSMakeValid and flagged. The unit keeps its geometry as GeoJSON text written
 * by GEOS, so what the store keeps and what the index reads are the same valid geometry.
 * Also here: the per-thread GEOS context and the haversine distance both files use.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "geo/geo.h"
#include "tansiq/json.h"

double tq__geo_haversine_km(double lon1, double lat1, double lon2, double lat2)
{
    const double r = 0.017453292519943295;
    double dlat = (lat2 - lat1) * r, dlon = (lon2 - lon1) * r;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * r) * cos(lat2 * r) * sin(dlon / 2) * sin(dlon / 2);

    if (a > 1)
        a = 1;
    return 2 * TQ__GEO_EARTH_KM * asin(sqrt(a));
}

void tq_geo_units_free(struct tq_geo_unit *u, size_t n)
{
    size_t i;

    if (!u)
        return;
    for (i = 0; i < n; i++) {
        tq_free(u[i].country_pcode);
        tq_free(u[i].country_en);
        tq_free(u[i].country_ar);
        tq_free(u[i].pcode);
        tq_free(u[i].name_en);
        tq_free(u[i].name_ar);
        tq_free(u[i].geometry);
    }
    tq_free(u);
}

#if !TQ_HAVE_GEOS

tq_rc tq_geo_units_parse(struct tq_str geojson, const struct tq_geo_fields *f,
                         struct tq_geo_unit **out, size_t *n, struct tq_geo_parse_report *rep,
                         struct tq_err *err)
{
    (void)geojson;
    (void)f;
    (void)out;
    (void)n;
    if (rep)
        memset(rep, 0, sizeof(*rep));
    return tq_err_set(err, TQ_ENOTSUP, "geo: built without GEOS (TQ_HAVE_GEOS=0)");
}

#else

/* ---- per-thread GEOS context ----------------------------------------------------------- */

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_destroy(void *p)
{
    struct tq__geo_ctx *c = p;

    GEOS_finish_r(c->h);
    tq_free(c);
}

static void ctx_key_make(void)
{
    if (pthread_key_create(&ctx_key, ctx_destroy) != 0)
        abort();
}

static void ctx_message(const char *message, void *userdata)
{
    struct tq__geo_ctx *c = userdata;

    snprintf(c->msg, sizeof(c->msg), "%s", message);
}

struct tq__geo_ctx *tq__geo_ctx(void)
{
    struct tq__geo_ctx *c;

    pthread_once(&ctx_once, ctx_key_make);
    c = pthread_getspecific(ctx_key);
    if (c)
        return c;
    c = tq_xcalloc(1, sizeof(*c));
    c->h = GEOS_init_r();
    if (!c->h)
        abort(); /* GEOS allocates its context with new: only memory exhaustion fails here */
    GEOSContext_setErrorMessageHandler_r(c->h, ctx_message, c);
    GEOSContext_setNoticeMessageHandler_r(c->h, NULL, NULL);
    if (pthread_setspecific(ctx_key, c) != 0)
        abort();
    return c;
}

/* ---- geometry from json-c ------------------------------------------------------------- */

static bool num(struct json_object *v, double *out)
{
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_double(v);
    return true;
}

static GEOSGeometry *ring_from_json(struct tq__geo_ctx *c, struct json_object *r, const char *what,
                                    size_t *vertices, size_t max_vertices, struct tq_err *err,
                                    tq_rc *rc)
{
    GEOSCoordSequence *seq;
    GEOSGeometry *ring;
    size_t i, n;
    double x0 = 0, y0 = 0, x = 0, y = 0;

    if (!json_object_is_type(r, json_type_array)) {
        *rc = tq_err_set(err, TQ_EINVAL, "geo: %s: a ring is not an array of positions", what);
        return NULL;
    }
    n = json_object_array_length(r);
    if (n < 4) {
        *rc = tq_err_set(err, TQ_EINVAL, "geo: %s: a ring has %zu positions (at least 4)", what, n);
        return NULL;
    }
    if (n > max_vertices - *vertices) {
        *rc = tq_err_set(err, TQ_ETOOBIG, "geo: %s: more than %zu vertices in the input", what,
                         max_vertices);
        return NULL;
    }
    *vertices += n;
    seq = GEOSCoordSeq_create_r(c->h, (unsigned)n, 2);
    if (!seq) {
        *rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(r, i);

        if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) < 2 ||
            !num(json_object_array_get_idx(p, 0), &x) ||
            !num(json_object_array_get_idx(p, 1), &y)) {
            *rc = tq_err_set(err, TQ_EINVAL, "geo: %s: position %zu is not [lon, lat]", what, i);
            goto fail;
        }
        if (!isfinite(x) || !isfinite(y) || x < -180 || x > 180 || y < -90 || y > 90) {
            *rc = tq_err_set(err, TQ_EINVAL,
                             "geo: %s: position %zu (%g, %g) is outside [-180,180]x[-90,90]", what,
                             i, x, y);
            goto fail;
        }
        if (i == 0) {
            x0 = x;
            y0 = y;
        }
        GEOSCoordSeq_setXY_r(c->h, seq, (unsigned)i, x, y);
    }
    if (x != x0 || y != y0) {
        *rc = tq_err_set(err, TQ_EINVAL, "geo: %s: a ring is not closed", what);
        goto fail;
    }
    ring = GEOSGeom_createLinearRing_r(c->h, seq);
    if (!ring)
        *rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
    return ring;
fail:
    GEOSCoordSeq_destroy_r(c->h, seq);
    return NULL;
}

static GEOSGeometry *polygon_from_json(struct tq__geo_ctx *c, struct json_object *rings,
                                       const char *what, size_t *vertices, size_t max_vertices,
                                       struct tq_err *err, tq_rc *rc)
{
    GEOSGeometry *shell = NULL, **holes = NULL, *poly = NULL;
    size_t i, n, nh = 0;

    if (!json_object_is_type(rings, json_type_array)) {
        *rc = tq_err_set(err, TQ_EINVAL, "geo: %s: polygon coordinates are not an array", what);
        return NULL;
    }
    n = json_object_array_length(rings);
    if (n == 0)
        return GEOSGeom_createEmptyPolygon_r(c->h);
    shell = ring_from_json(c, json_object_array_get_idx(rings, 0), what, vertices, max_vertices,
                           err, rc);
    if (!shell)
        return NULL;
    holes = tq_xcalloc(n, sizeof(*holes));
    for (i = 1; i < n; i++) {
        holes[nh] = ring_from_json(c, json_object_array_get_idx(rings, i), what, vertices,
                                   max_vertices, err, rc);
        if (!holes[nh])
            goto out;
        nh++;
    }
    poly = GEOSGeom_createPolygon_r(c->h, shell, holes, (unsigned)nh);
    if (!poly)
        *rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
    shell = NULL;
    nh = 0;
out:
    for (i = 0; i < nh; i++)
        GEOSGeom_destroy_r(c->h, holes[i]);
    if (shell)
        GEOSGeom_destroy_r(c->h, shell);
    tq_free(holes);
    return poly;
}

tq_rc tq__geo_geom_from_json(struct tq__geo_ctx *c, struct json_object *g, const char *what,
                             size_t *vertices, size_t max_vertices, GEOSGeometry **out,
                             struct tq_err *err)
{
    struct json_object *type, *coords;
    const char *t;
    GEOSGeometry **polys = NULL, *res = NULL;
    size_t i, n, np = 0;
    tq_rc rc = TQ_OK;

    *out = NULL;
    if (!json_object_is_type(g, json_type_object) || !json_object_object_get_ex(g, "type", &type) ||
        !json_object_is_type(type, json_type_string))
        return TQ_OK; /* not a geometry object: nothing areal, the caller skips it */
    t = json_object_get_string(type);
    if (strcmp(t, "Polygon") != 0 && strcmp(t, "MultiPolygon") != 0)
        return TQ_OK;
    if (!json_object_object_get_ex(g, "coordinates", &coords) ||
        !json_object_is_type(coords, json_type_array))
        return tq_err_set(err, TQ_EINVAL, "geo: %s: %s without a coordinates array", what, t);
    if (strcmp(t, "Polygon") == 0) {
        res = polygon_from_json(c, coords, what, vertices, max_vertices, err, &rc);
        if (!res)
            return rc ? rc : tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
        *out = res;
        return TQ_OK;
    }
    n = json_object_array_length(coords);
    polys = tq_xcalloc(n ? n : 1, sizeof(*polys));
    for (i = 0; i < n; i++) {
        polys[np] = polygon_from_json(c, json_object_array_get_idx(coords, i), what, vertices,
                                      max_vertices, err, &rc);
        if (!polys[np]) {
            if (!rc)
                rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
            goto out;
        }
        np++;
    }
    res = GEOSGeom_createCollection_r(c->h, GEOS_MULTIPOLYGON, polys, (unsigned)np);
    if (!res) {
        rc = tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
        goto out;
    }
    np = 0; /* the collection owns them now */
    *out = res;
out:
    for (i = 0; i < np; i++)
        GEOSGeom_destroy_r(c->h, polys[i]);
    tq_free(polys);
    return rc;
}

/* Polygonal parts of g (any type) gathered into parts[]; clones, owned by the caller. */
static void gather_polygons(struct tq__geo_ctx *c, const GEOSGeometry *g, GEOSGeometry ***parts,
                            size_t *n, size_t *cap)
{
    int type = GEOSGeomTypeId_r(c->h, g), i, k;

    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(c->h, g))
            return;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *parts = tq_xrealloc(*parts, *cap * sizeof(**parts));
        }
        (*parts)[(*n)++] = GEOSGeom_clone_r(c->h, g);
        return;
    }
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        k = GEOSGetNumGeometries_r(c->h, g);
        for (i = 0; i < k; i++)
            gather_polygons(c, GEOSGetGeometryN_r(c->h, g, i), parts, n, cap);
    }
}

tq_rc tq__geo_make_areal(struct tq__geo_ctx *c, GEOSGeometry **g, bool *repaired,
                         struct tq_err *err)
{
    GEOSGeometry *fixed, **parts = NULL, *res = NULL;
    size_t n = 0, cap = 0, i;
    char valid = GEOSisValid_r(c->h, *g);

    *repaired = false;
    if (valid == 2)
        return tq_err_set(err, TQ_ENOMEM, "geo: GEOS validity check failed: %s", c->msg);
    if (valid == 1) {
        if (GEOSisEmpty_r(c->h, *g) == 1) {
            GEOSGeom_destroy_r(c->h, *g);
            *g = NULL;
        }
        return TQ_OK;
    }
    fixed = GEOSMakeValid_r(c->h, *g);
    if (!fixed)
        return tq_err_set(err, TQ_ENOMEM, "geo: GEOS MakeValid failed: %s", c->msg);
    GEOSGeom_destroy_r(c->h, *g);
    *g = NULL;
    *repaired = true;
    gather_polygons(c, fixed, &parts, &n, &cap);
    GEOSGeom_destroy_r(c->h, fixed);
    if (n == 1)
        res = parts[0];
    else if (n > 1)
        res = GEOSGeom_createCollection_r(c->h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
    if (n > 1 && !res) {
        for (i = 0; i < n; i++)
            GEOSGeom_destroy_r(c->h, parts[i]);
        tq_free(parts);
        return tq_err_set(err, TQ_ENOMEM, "geo: GEOS: %s", c->msg);
    }
    tq_free(parts);
    *g = res;
    return TQ_OK;
}

char *tq__geo_geom_to_json(struct tq__geo_ctx *c, const GEOSGeometry *g)
{
    GEOSGeoJSONWriter *w = GEOSGeoJSONWriter_create_r(c->h);
    char *s, *copy = NULL;

    if (!w)
        return NULL;
    s = GEOSGeoJSONWriter_writeGeometry_r(c->h, w, g, -1);
    if (s) {
        copy = tq_xstrdup(s);
        GEOSFree_r(c->h, s);
    }
    GEOSGeoJSONWriter_destroy_r(c->h, w);
    return copy;
}

/* ---- features ------------------------------------------------------------------------- */

static void problem(struct tq_geo_parse_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct tq_geo_parse_report *rep, const char *fmt, ...)
{
    va_list ap;

    if (rep->n_problems >= TQ_GEO_REPORT_PROBLEMS)
        return;
    va_start(ap, fmt);
    vsnprintf(rep->problems[rep->n_problems++], sizeof(rep->problems[0]), fmt, ap);
    va_end(ap);
}

/* A property's string value, or NULL when absent, null, not a string or empty. */
static const char *prop(struct json_object *props, const char *name)
{
    struct json_object *v;
    const char *s;

    if (!props || !json_object_object_get_ex(props, name, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    s = json_object_get_string(v);
    return *s ? s : NULL;
}

static char *dup_prop(const char *s)
{
    return tq_xstrndup(s ? s : "", s ? strnlen(s, TQ_GEO_MAX_STRING) : 0);
}

struct parse_state {
    struct tq__geo_ctx *c;
    struct tq_geo_fields f;
    struct tq_geo_unit *units;
    size_t n, cap, vertices;
    struct tq_geo_parse_report *rep;
};

static tq_rc one_feature(struct parse_state *st, struct json_object *feat, size_t idx,
                         struct tq_err *err)
{
    struct json_object *type, *props = NULL, *geom = NULL;
    const char *cp, *pc;
    char what[96];
    GEOSGeometry *g = NULL;
    struct tq_geo_unit *u;
    bool repaired;
    tq_rc rc;

    st->rep->features++;
    if (!json_object_is_type(feat, json_type_object))
        return tq_err_set(err, TQ_EINVAL, "geo: feature %zu is not an object", idx);
    if (!json_object_object_get_ex(feat, "type", &type) ||
        !json_object_is_type(type, json_type_string) ||
        strcmp(json_object_get_string(type), "Feature") != 0)
        return tq_err_set(err, TQ_EINVAL, "geo: feature %zu has no \"type\": \"Feature\"", idx);
    json_object_object_get_ex(feat, "properties", &props);
    if (props && !json_object_is_type(props, json_type_object))
        props = NULL;
    json_object_object_get_ex(feat, "geometry", &geom);
    cp = prop(props, st->f.country_pcode);
    pc = prop(props, st->f.pcode);
    snprintf(what, sizeof(what), "feature %zu (%.40s)", idx, pc ? pc : cp ? cp : "no pcode");
    if (!cp || strlen(cp) > TQ_GEO_MAX_STRING || (pc && strlen(pc) > TQ_GEO_MAX_STRING)) {
        st->rep->skipped++;
        problem(st->rep, "%s skipped: no %s property", what, st->f.country_pcode);
        return TQ_OK;
    }
    rc = tq__geo_geom_from_json(st->c, geom, what, &st->vertices, TQ_GEO_MAX_VERTICES, &g, err);
    if (rc)
        return rc;
    if (!g) {
        st->rep->skipped++;
        problem(st->rep, "%s skipped: geometry is not a Polygon or MultiPolygon", what);
        return TQ_OK;
    }
    rc = tq__geo_make_areal(st->c, &g, &repaired, err);
    if (rc)
        return rc;
    if (!g) {
        st->rep->skipped++;
        problem(st->rep, "%s skipped: no area%s", what, repaired ? " once repaired" : "");
        return TQ_OK;
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 16;
        st->units = tq_xrealloc(st->units, st->cap * sizeof(*st->units));
    }
    u = &st->units[st->n];
    memset(u, 0, sizeof(*u));
    u->geometry = tq__geo_geom_to_json(st->c, g);
    GEOSGeom_destroy_r(st->c->h, g);
    if (!u->geometry)
        return tq_err_set(err, TQ_ENOMEM, "geo: %s: GEOS could not write it: %s", what, st->c->msg);
    st->n++;
    u->level = pc ? 1 : 0;
    u->repaired = repaired;
    u->country_pcode = dup_prop(cp);
    u->country_en = dup_prop(prop(props, st->f.country_en));
    u->country_ar = dup_prop(prop(props, st->f.country_ar));
    u->pcode = dup_prop(pc ? pc : cp);
    u->name_en = dup_prop(prop(props, pc ? st->f.name_en : st->f.country_en));
    u->name_ar = dup_prop(prop(props, pc ? st->f.name_ar : st->f.country_ar));
    st->rep->units++;
    if (repaired) {
        st->rep->repaired++;
        problem(st->rep, "%s repaired: the polygon was invalid (GEOS MakeValid)", what);
    }
    return TQ_OK;
}

tq_rc tq_geo_units_parse(struct tq_str geojson, const struct tq_geo_fields *f,
                         struct tq_geo_unit **out, size_t *n, struct tq_geo_parse_report *rep,
                         struct tq_err *err)
{
    struct tq_geo_parse_report local;
    struct parse_state st = {0};
    struct json_object *root = NULL, *type, *feats;
    const char *t;
    size_t i, nf;
    tq_rc rc;

    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    st.rep = rep;
    if (geojson.len > TQ_GEO_MAX_INPUT_BYTES)
        return tq_err_set(err, TQ_ETOOBIG,
                          "geo: boundary file of %zu bytes exceeds the %zu MiB "
                          "limit",
                          geojson.len, TQ_GEO_MAX_INPUT_BYTES >> 20);
    st.f.country_pcode = f && f->country_pcode ? f->country_pcode : "ADM0_PCODE";
    st.f.country_en = f && f->country_en ? f->country_en : "ADM0_EN";
    st.f.country_ar = f && f->country_ar ? f->country_ar : "ADM0_AR";
    st.f.pcode = f && f->pcode ? f->pcode : "ADM1_PCODE";
    st.f.name_en = f && f->name_en ? f->name_en : "ADM1_EN";
    st.f.name_ar = f && f->name_ar ? f->name_ar : "ADM1_AR";
    rc = tq_json_parse(geojson, &root, err);
    if (rc)
        return rc;
    st.c = tq__geo_ctx();
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "type", &type) ||
        !json_object_is_type(type, json_type_string)) {
        rc = tq_err_set(err, TQ_EINVAL, "geo: not a GeoJSON object (no \"type\")");
        goto out;
    }
    t = json_object_get_string(type);
    if (strcmp(t, "Feature") == 0) {
        rc = one_feature(&st, root, 0, err);
    } else if (strcmp(t, "FeatureCollection") == 0) {
        if (!json_object_object_get_ex(root, "features", &feats) ||
            !json_object_is_type(feats, json_type_array)) {
            rc = tq_err_set(err, TQ_EINVAL, "geo: FeatureCollection without a features array");
            goto out;
        }
        nf = json_object_array_length(feats);
        if (nf > TQ_GEO_MAX_FEATURES) {
            rc = tq_err_set(err, TQ_ETOOBIG, "geo: %zu features exceed the limit of %d", nf,
                            TQ_GEO_MAX_FEATURES);
            goto out;
        }
        for (i = 0; i < nf && !rc; i++)
            rc = one_feature(&st, json_object_array_get_idx(feats, i), i, err);
    } else {
        rc = tq_err_set(err, TQ_EINVAL,
                        "geo: GeoJSON type \"%.40s\" is not a Feature or "
                        "FeatureCollection",
                        t);
    }
    if (rc)
        goto out;
    *out = st.units;
    *n = st.n;
    st.units = NULL;
    st.n = 0;
out:
    tq_geo_units_free(st.units, st.n);
    json_object_put(root);
    return rc;
}

#endif
