/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_geo.c - point tagging (governorate + border distance) on the OCHA boundaries of
 * Syria and Iraq, against brute-force GEOS measured in the same run.
 *
 * Loads Syria and Iraq ADM1 and ADM0 from $TANSIQ_TESTDATA/borders (prints a skip line and
 * exits 0 when they are absent), builds the index and prints the build time, then tags
 * 1,000,000 random points of the two countries' bounding box (fixed seed) on one thread. The
 * reference is what tagging costs without the index: GEOSContains_r of the point against every
 * unit's plain geometry (no STRtree, no preparation) plus GEOSDistance_r to the border, over
 * 2,000 of the same points, extrapolated. The goal is 1,000,000 points/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/geo.h"

#if !TQ_HAVE_GEOS

int main(void)
{
    printf("geo tag: skipped (built without GEOS)\n");
    return 0;
}

#else
#include <geos_c.h>

static const char *const files[] = {
    "borders/syr_admbnda_adm1_uncs_unocha.json",
    "borders/irq_admbnda_adm1_cso_20190603.geojson",
    "borders/syr_admbnda_adm0_uncs_unocha.json",
    "borders/irq_admbnda_adm0_cso_itos_20190603.geojson",
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double rnd01(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static double secs(void)
{
    return (double)tq_time_mono_us() / 1e6;
}

static void die(const char *what, const struct tq_err *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    exit(1);
}

int main(void)
{
    const char *env = getenv("TANSIQ_TESTDATA");
    const char *dir = env && *env ? env : "../shared/data";
    struct tq_geo_unit *all = NULL;
    size_t n_all = 0, i, f, k, n_points = 1000000, n_ref = 2000, inside = 0;
    struct tq_geo_index *ix = NULL;
    struct tq_err err = {0};
    double t0, t_build, t_tag, t_ref, x0 = 35.7, x1 = 48.7, y0 = 29.0, y1 = 37.4, rate, ref,
                                      sink = 0;
    double *pts;

    for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[1024];
        struct tq_buf b;
        struct tq_geo_unit *u;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
        tq_buf_init(&b, TQ_GEO_MAX_INPUT_BYTES);
        if (tq_file_read(path, TQ_GEO_MAX_INPUT_BYTES, &b, &err)) {
            printf("geo tag: skipped (%s absent; set TANSIQ_TESTDATA)\n", path);
            tq_geo_units_free(all, n_all);
            return 0;
        }
        if (tq_geo_units_parse((struct tq_str){b.ptr, b.len}, NULL, &u, &n, NULL, &err))
            die(files[f], &err);
        all = tq_xrealloc(all, (n_all + n) * sizeof(*all));
        memcpy(all + n_all, u, n * sizeof(*u));
        n_all += n;
        tq_free(u);
        tq_buf_cleanup(&b);
    }

    t0 = secs();
    if (tq_geo_index_build(all, n_all, NULL, &ix, &err))
        die("index", &err);
    t_build = secs() - t0;

    pts = tq_xmalloc(n_points * 2 * sizeof(double));
    for (i = 0; i < n_points; i++) {
        pts[2 * i] = x0 + (x1 - x0) * rnd01();
        pts[2 * i + 1] = y0 + (y1 - y0) * rnd01();
    }
    t0 = secs();
    for (i = 0; i < n_points; i++) {
        struct tq_geo_tag t;

        if (tq_geo_tag(ix, pts[2 * i], pts[2 * i + 1], &t, &err))
            die("tag", &err);
        inside += (t.flags & TQ_GEO_INSIDE) != 0;
        sink += t.border_km;
    }
    t_tag = secs() - t0;
    rate = (double)n_points / t_tag;

    /* The reference: every unit's plain geometry, no index, no preparation. */
    {
        GEOSContextHandle_t h = GEOS_init_r();
        GEOSGeoJSONReader *rd = GEOSGeoJSONReader_create_r(h);
        GEOSGeometry **g = tq_xcalloc(n_all, sizeof(*g)), *border;
        struct tq_buf bj;

        tq_buf_init(&bj, 64u << 20);
        if (tq_geo_index_border_geojson(ix, &bj, &err))
            die("border", &err);
        /* the border's FeatureCollection, read back as one geometry collection */
        border = GEOSGeoJSONReader_readGeometry_r(h, rd, bj.ptr);
        for (k = 0; k < n_all; k++)
            g[k] =
                all[k].level == 1 ? GEOSGeoJSONReader_readGeometry_r(h, rd, all[k].geometry) : NULL;
        t0 = secs();
        for (i = 0; i < n_ref; i++) {
            GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, pts[2 * i], pts[2 * i + 1]);
            double d = 0;

            for (k = 0; k < n_all; k++)
                if (g[k] && GEOSContains_r(h, g[k], pt) == 1)
                    break;
            if (border)
                GEOSDistance_r(h, border, pt, &d);
            sink += d + (double)k;
            GEOSGeom_destroy_r(h, pt);
        }
        t_ref = secs() - t0;
        for (k = 0; k < n_all; k++)
            if (g[k])
                GEOSGeom_destroy_r(h, g[k]);
        if (border)
            GEOSGeom_destroy_r(h, border);
        tq_free(g);
        tq_buf_cleanup(&bj);
        GEOSGeoJSONReader_destroy_r(h, rd);
        GEOS_finish_r(h);
    }
    ref = (double)n_ref / t_ref;

    printf("geo tag: %.0f points/s (unit + border_km, one thread); brute-force GEOS %.0f "
           "points/s; ratio %.1f (goal >= 1,000,000 points/s)\n",
           rate, ref, rate / ref);
    printf("  index of %zu units (%zu countries, border %.1f km) built in %.3f s; %zu of %zu "
           "random points inside a unit; reference over %zu points (checksum %.0f)\n",
           tq_geo_index_units(ix), tq_geo_index_countries(ix), tq_geo_index_border_km(ix), t_build,
           inside, n_points, n_ref, sink);
    tq_free(pts);
    tq_geo_index_free(ix);
    tq_geo_units_free(all, n_all);
    return 0;
}

#endif
