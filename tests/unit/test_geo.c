/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_geo.c - boundaries, point tagging and the border (needs GEOS).
 *
 * Hand-made fixtures: two countries AA (two governorates, a coast on the west) and BB whose
 * shared edge has a 1 km gap in the south and a 0.55 km overlap in the north, as two producers'
 * outlines do; a bow-tie polygon to be repaired; features to skip and inputs to refuse. Real
 * data read in place from TANSIQ_TESTDATA (default ../shared/data): the OCHA boundaries of
 * Syria and Iraq (the border's length and latitude, known towns) and the UCDP GED events of
 * Iraq, whose governorate must agree with the event's own adm_1 (mapped to OCHA P-codes by a
 * table) for at least 97% of precisely located events. Cases whose data is absent are counted
 * and reported as skipped. Run one test by name with the first argument, e.g.
 * `build/tests/test_geo ucdp_agreement`.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tansiq/geo.h"
#include "tansiq/json.h"

static size_t skipped;

static const char *testdata(void)
{
    const char *d = getenv("TANSIQ_TESTDATA");

    return d && *d ? d : "../shared/data";
}

static double hav(double lon1, double lat1, double lon2, double lat2)
{
    const double r = 0.017453292519943295;
    double a =
        sin((lat2 - lat1) * r / 2) * sin((lat2 - lat1) * r / 2) +
        cos(lat1 * r) * cos(lat2 * r) * sin((lon2 - lon1) * r / 2) * sin((lon2 - lon1) * r / 2);

    return 2 * 6371.0088 * asin(sqrt(a));
}

#if TQ_HAVE_GEOS

/* ---- fixtures --------------------------------------------------------------------------- */

#define FEAT(props, geom) "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":" geom "}"
#define AA(pc, en)                                                                                 \
    "{\"ADM0_PCODE\":\"AA\",\"ADM0_EN\":\"Aland\",\"ADM1_PCODE\":\"" pc "\","                      \
    "\"ADM1_EN\":\"" en "\",\"ADM1_AR\":\"\\u0623\"}"
#define POLY(c) "{\"type\":\"Polygon\",\"coordinates\":[" c "]}"

/* AA: [0,1] x [0,1] in two governorates; BB east of it: its west edge is at 1.009 (a 1 km
   gap) south of 0.5 and at 0.995 (a 0.55 km overlap) north of it. AA's west edge is a coast. */
/* clang-format off */
static const char fixture[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    FEAT(AA("AA01", "South"), POLY("[[0,0],[1,0],[1,0.5],[0,0.5],[0,0]]")) ","
    FEAT(AA("AA02", "North"), POLY("[[0,0.5],[1,0.5],[1,1],[0,1],[0,0.5]]")) ","
    FEAT("{\"ADM0_PCODE\":\"BB\",\"ADM0_EN\":\"Bland\",\"ADM1_PCODE\":\"BB01\","
         "\"ADM1_EN\":\"East\"}",
         POLY("[[1.009,0],[2,0],[2,1],[0.995,1],[0.995,0.5],[1.009,0.5],[1.009,0]]")) "]}";
/* clang-format on */

static struct tq_geo_index *fixture_index(void)
{
    struct tq_geo_unit *u = NULL;
    struct tq_geo_index *ix = NULL;
    struct tq_geo_parse_report rep;
    struct tq_err err = {0};
    size_t n = 0;

    assert_int_equal(tq_geo_units_parse(TQ_STR(fixture), NULL, &u, &n, &rep, &err), TQ_OK);
    assert_int_equal(n, 3);
    assert_int_equal(rep.units, 3);
    assert_int_equal(rep.repaired, 0);
    assert_int_equal(tq_geo_index_build(u, n, NULL, &ix, &err), TQ_OK);
    tq_geo_units_free(u, n);
    return ix;
}

static void tag_ok(const struct tq_geo_index *ix, double lon, double lat, struct tq_geo_tag *t)
{
    struct tq_err err = {0};

    if (tq_geo_tag(ix, lon, lat, t, &err) != TQ_OK)
        fail_msg("tag (%g, %g): %s", lon, lat, err.msg);
}

/* The border is the line x = 1 (AA's) and x = 1.009 / 0.995 (BB's); a point's distance to it
   is the haversine distance to the nearer line, which the index must give within its bound:
   0.2% + 50 m. */
static void near_km(double got, double want)
{
    if (fabs(got - want) > 0.002 * want + 0.05)
        fail_msg("border_km %.4f, expected %.4f", got, want);
}

static void fixture_inside_and_border(void **state)
{
    struct tq_geo_index *ix = fixture_index();
    struct tq_geo_tag t;

    (void)state;
    assert_int_equal(tq_geo_index_units(ix), 3);
    assert_int_equal(tq_geo_index_countries(ix), 2);
    tag_ok(ix, 0.5, 0.25, &t);
    assert_int_equal(t.flags, TQ_GEO_INSIDE);
    assert_string_equal(t.pcode, "AA01");
    assert_string_equal(t.country_pcode, "AA");
    assert_string_equal(t.name_en, "South");
    assert_string_equal(t.name_ar, "\xd8\xa3");
    near_km(t.border_km, hav(0.5, 0.25, 1, 0.25));
    tag_ok(ix, 0.5, 0.75, &t);
    assert_string_equal(t.pcode, "AA02");
    /* in the north BB's line (0.995) is the nearer one */
    near_km(t.border_km, hav(0.5, 0.75, 0.995, 0.75));
    tag_ok(ix, 1.5, 0.3, &t);
    assert_int_equal(t.flags, TQ_GEO_INSIDE);
    assert_string_equal(t.pcode, "BB01");
    near_km(t.border_km, hav(1.5, 0.3, 1.009, 0.3));
    /* in the overlap both answer; the lower-numbered unit wins, the same every time */
    tag_ok(ix, 0.998, 0.75, &t);
    assert_int_equal(t.flags, TQ_GEO_INSIDE);
    assert_string_equal(t.pcode, "AA02");
    assert_true(t.border_km < 0.35);
    tq_geo_index_free(ix);
}

static void fixture_coast_is_not_border(void **state)
{
    struct tq_geo_index *ix = fixture_index();
    struct tq_geo_tag t;

    (void)state;
    /* 1 km from the coast, 110 km from the border */
    tag_ok(ix, 0.01, 0.25, &t);
    assert_int_equal(t.flags, TQ_GEO_INSIDE);
    near_km(t.border_km, hav(0.01, 0.25, 1, 0.25));
    /* BB's far (east) side is no border either */
    tag_ok(ix, 1.99, 0.25, &t);
    near_km(t.border_km, hav(1.99, 0.25, 1.009, 0.25));
    /* the border's length: 111 km of shared edge, each side's line with its short ends */
    assert_true(tq_geo_index_border_km(ix) > 105 && tq_geo_index_border_km(ix) < 120);
    tq_geo_index_free(ix);
}

static void fixture_nearest_and_outside(void **state)
{
    struct tq_geo_index *ix = fixture_index();
    struct tq_geo_tag t;

    (void)state;
    /* in the 1 km gap: AA01 is 0.44 km away */
    tag_ok(ix, 1.004, 0.25, &t);
    assert_int_equal(t.flags, TQ_GEO_NEAREST);
    assert_string_equal(t.pcode, "AA01");
    near_km(t.nearest_km, hav(1.004, 0.25, 1, 0.25));
    near_km(t.border_km, hav(1.004, 0.25, 1, 0.25));
    /* 3 km off the coast: within the 5 km tolerance */
    tag_ok(ix, -0.027, 0.25, &t);
    assert_int_equal(t.flags, TQ_GEO_NEAREST);
    assert_string_equal(t.pcode, "AA01");
    assert_true(t.nearest_km > 2.9 && t.nearest_km < 3.1);
    /* 22 km off the coast: outside, border distance still given */
    tag_ok(ix, -0.2, 0.25, &t);
    assert_int_equal(t.flags, TQ_GEO_OUTSIDE);
    assert_null(t.pcode);
    assert_null(t.country_pcode);
    near_km(t.border_km, hav(-0.2, 0.25, 1, 0.25));
    /* far away: beyond every grid, the border distance comes from GEOS */
    tag_ok(ix, 30, 20, &t);
    assert_int_equal(t.flags, TQ_GEO_OUTSIDE);
    assert_true(fabs(t.border_km - hav(30, 20, 1, 1)) < 0.01 * t.border_km);
    tq_geo_index_free(ix);
}

static void fixture_tolerance_option(void **state)
{
    struct tq_geo_unit *u = NULL;
    struct tq_geo_index *ix = NULL;
    struct tq_geo_index_options opt = {.tolerance_km = 1};
    struct tq_err err = {0};
    struct tq_geo_tag t;
    size_t n;

    (void)state;
    assert_int_equal(tq_geo_units_parse(TQ_STR(fixture), NULL, &u, &n, NULL, &err), TQ_OK);
    assert_int_equal(tq_geo_index_build(u, n, &opt, &ix, &err), TQ_OK);
    tag_ok(ix, -0.027, 0.25, &t); /* 3 km off the coast, beyond 1 km */
    assert_int_equal(t.flags, TQ_GEO_OUTSIDE);
    tq_geo_index_free(ix);
    opt.tolerance_km = -1;
    assert_int_equal(tq_geo_index_build(u, n, &opt, &ix, &err), TQ_EINVAL);
    opt.tolerance_km = NAN;
    assert_int_equal(tq_geo_index_build(u, n, &opt, &ix, &err), TQ_EINVAL);
    assert_int_equal(tq_geo_index_build(u, 0, NULL, &ix, &err), TQ_EINVAL);
    tq_geo_units_free(u, n);
}

static void fixture_swapped_and_errors(void **state)
{
    struct tq_geo_index *ix = fixture_index();
    struct tq_geo_tag t = {0};
    struct tq_err err = {0};

    (void)state;
    /* (0.25, 1.5) lies 55 km north of AA; (1.5, 0.25) is inside BB01 */
    tag_ok(ix, 0.25, 1.5, &t);
    assert_int_equal(t.flags, TQ_GEO_INSIDE | TQ_GEO_SWAPPED);
    assert_string_equal(t.pcode, "BB01");
    assert_true(t.lon == 1.5 && t.lat == 0.25);
    /* a point near a unit is never swapped */
    tag_ok(ix, 0.25, 1.02, &t);
    assert_int_equal(t.flags, TQ_GEO_NEAREST);
    assert_string_equal(t.pcode, "AA02");
    assert_int_equal(tq_geo_tag(ix, NAN, 0.5, &t, &err), TQ_EINVAL);
    assert_int_equal(tq_geo_tag(ix, 0.5, INFINITY, &t, &err), TQ_EINVAL);
    assert_int_equal(tq_geo_tag(ix, 200, 0.5, &t, &err), TQ_EINVAL);
    assert_int_equal(tq_geo_tag(ix, 0.5, -91, &t, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "-91"));
    tq_geo_index_free(ix);
}

/* ---- parsing ---------------------------------------------------------------------------- */

static void parse_repair_and_skip(void **state)
{
    /* clang-format off */
    static const char in[] =
        "{\"type\":\"FeatureCollection\",\"features\":["
        FEAT(AA("AA09", "Bowtie"), POLY("[[0,0],[1,1],[1,0],[0,1],[0,0]]")) ","
        FEAT(AA("AA08", "Line"), "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}") ","
        FEAT("{\"name\":\"no fields\"}", POLY("[[0,0],[1,0],[1,1],[0,0]]")) ","
        FEAT(AA("AA07", "Nothing"), "null") ","
        FEAT("{\"ADM0_PCODE\":\"AA\",\"ADM0_EN\":\"Aland\",\"ADM1_PCODE\":null}",
             "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[2,0],[2,2],[0,2],[0,0]]]]}")
        "]}";
    /* clang-format on */
    struct tq_geo_unit *u = NULL;
    struct tq_geo_parse_report rep;
    struct tq_geo_index *ix = NULL;
    struct tq_err err = {0};
    struct tq_geo_tag t;
    size_t n;

    (void)state;
    assert_int_equal(tq_geo_units_parse(TQ_STR(in), NULL, &u, &n, &rep, &err), TQ_OK);
    assert_int_equal(rep.features, 5);
    assert_int_equal(n, 2);
    assert_int_equal(rep.units, 2);
    assert_int_equal(rep.repaired, 1);
    assert_int_equal(rep.skipped, 3);
    assert_true(rep.n_problems == 4);
    assert_non_null(strstr(rep.problems[0], "AA09"));
    assert_non_null(strstr(rep.problems[0], "repaired"));
    assert_int_equal(u[0].level, 1);
    assert_true(u[0].repaired);
    assert_non_null(strstr(u[0].geometry, "MultiPolygon")); /* two triangles */
    assert_int_equal(u[1].level, 0);
    assert_string_equal(u[1].pcode, "AA");
    assert_string_equal(u[1].name_en, "Aland");
    assert_false(u[1].repaired);
    /* the repaired bow-tie answers for its triangles */
    assert_int_equal(tq_geo_index_build(u, n, NULL, &ix, &err), TQ_OK);
    tag_ok(ix, 0.2, 0.5, &t);
    assert_int_equal(t.flags, TQ_GEO_INSIDE);
    assert_string_equal(t.pcode, "AA09");
    /* (0.5, 0.2) lies between the triangles, not inside: only its swap is */
    tag_ok(ix, 0.5, 0.2, &t);
    assert_int_equal(t.flags, TQ_GEO_INSIDE | TQ_GEO_SWAPPED);
    assert_int_equal(tq_geo_index_countries(ix), 1);
    assert_true(t.border_km == -1); /* one country: no border */
    tq_geo_index_free(ix);
    tq_geo_units_free(u, n);
}

static void parse_refusals(void **state)
{
    static const struct {
        const char *text;
        tq_rc rc;
        const char *needle;
    } cases[] = {
        {"{\"type\":\"FeatureCollection\",\"features\":[" FEAT(
             AA("AA01", "x"), POLY("[[0,0],[200,0],[1,1],[0,0]]")) "]}",
         TQ_EINVAL, "feature 0 (AA01)"},
        {FEAT(AA("AA01", "x"), POLY("[[0,0],[1,0],[1,1e999],[0,0]]")), TQ_EJSON, "JSON"},
        {FEAT(AA("AA01", "x"), POLY("[[0,0],[1,0],[1,1],[0,0.5]]")), TQ_EINVAL, "not closed"},
        {FEAT(AA("AA01", "x"), POLY("[[0,0],[1,0],[0,0]]")), TQ_EINVAL, "at least 4"},
        {FEAT(AA("AA01", "x"), POLY("[[0,0],[1,\"a\"],[1,1],[0,0]]")), TQ_EINVAL, "position 1"},
        {FEAT(AA("AA01", "x"), "{\"type\":\"Polygon\"}"), TQ_EINVAL, "coordinates"},
        {"{\"type\":\"Topology\"}", TQ_EINVAL, "Topology"},
        {"[1,2]", TQ_EINVAL, "GeoJSON"},
        {"{\"type\":\"FeatureCollection\",\"features\":[3]}", TQ_EINVAL, "feature 0"},
    };
    struct tq_geo_unit *u = NULL;
    struct tq_err err;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_int_equal(tq_geo_units_parse(tq_str_c(cases[i].text), NULL, &u, &n, NULL, &err),
                         cases[i].rc);
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].needle);
    }
    /* the size limit is checked before a byte is read */
    assert_int_equal(tq_geo_units_parse((struct tq_str){"{", TQ_GEO_MAX_INPUT_BYTES + 1}, NULL, &u,
                                        &n, NULL, &err),
                     TQ_ETOOBIG);
    assert_non_null(strstr(err.msg, "256 MiB"));
}

static void custom_fields(void **state)
{
    static const char in[] = FEAT("{\"iso\":\"ZZ\",\"code\":\"ZZ1\",\"nm\":\"Zed\"}",
                                  POLY("[[0,0],[1,0],[1,1],[0,1],[0,0]]"));
    struct tq_geo_fields f = {.country_pcode = "iso", .pcode = "code", .name_en = "nm"};
    struct tq_geo_unit *u = NULL;
    struct tq_err err = {0};
    size_t n;

    (void)state;
    assert_int_equal(tq_geo_units_parse(TQ_STR(in), &f, &u, &n, NULL, &err), TQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].pcode, "ZZ1");
    assert_string_equal(u[0].name_en, "Zed");
    assert_string_equal(u[0].country_pcode, "ZZ");
    assert_string_equal(u[0].name_ar, "");
    tq_geo_units_free(u, n);
}

static void geojson_out(void **state)
{
    struct tq_geo_index *ix = fixture_index();
    struct json_object *o = NULL, *feats;
    struct tq_err err = {0};
    struct tq_buf b;

    (void)state;
    tq_buf_init(&b, 1 << 20);
    assert_int_equal(tq_geo_index_units_geojson(ix, 0.5, &b, &err), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err), TQ_OK);
    assert_true(json_object_object_get_ex(o, "features", &feats));
    assert_int_equal(json_object_array_length(feats), 3);
    assert_non_null(strstr(b.ptr, "\"pcode\":\"BB01\""));
    json_object_put(o);
    tq_buf_reset(&b);
    assert_int_equal(tq_geo_index_border_geojson(ix, &b, &err), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err), TQ_OK);
    assert_true(json_object_object_get_ex(o, "features", &feats));
    assert_int_equal(json_object_array_length(feats), 2); /* AA's line and BB's */
    assert_non_null(strstr(b.ptr, "MultiLineString"));
    json_object_put(o);
    tq_buf_cleanup(&b);
    /* an output cap is honoured and leaves the buffer as it was */
    tq_buf_init(&b, 100);
    assert_int_equal(tq_geo_index_units_geojson(ix, 0, &b, &err), TQ_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(tq_geo_index_units_geojson(ix, -1, &b, &err), TQ_EINVAL);
    tq_buf_cleanup(&b);
    tq_geo_index_free(ix);
}

/* ---- real data -------------------------------------------------------------------------- */

static const char *const real_files[] = {
    "borders/syr_admbnda_adm1_uncs_unocha.json",
    "borders/irq_admbnda_adm1_cso_20190603.geojson",
    "borders/syr_admbnda_adm0_uncs_unocha.json",
    "borders/irq_admbnda_adm0_cso_itos_20190603.geojson",
};

static struct tq_geo_index *real_ix;

/* Syria + Iraq ADM1 and ADM0, built once; NULL (and one skip counted) when absent. */
static struct tq_geo_index *real_index(void)
{
    static bool tried;
    struct tq_geo_unit *all = NULL;
    size_t n_all = 0, f;
    struct tq_err err = {0};

    if (tried)
        return real_ix;
    tried = true;
    for (f = 0; f < sizeof(real_files) / sizeof(real_files[0]); f++) {
        char path[1024];
        struct tq_buf b;
        struct tq_geo_unit *u;
        struct tq_geo_parse_report rep;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", testdata(), real_files[f]);
        if (tq_file_read(path, TQ_GEO_MAX_INPUT_BYTES, &b, &err) != TQ_OK) {
            tq_geo_units_free(all, n_all);
            return NULL;
        }
        if (tq_geo_units_parse((struct tq_str){b.ptr, b.len}, NULL, &u, &n, &rep, &err))
            fail_msg("%s: %s", path, err.msg);
        if (rep.skipped)
            fail_msg("%s: %zu features skipped", path, rep.skipped);
        all = tq_xrealloc(all, (n_all + n) * sizeof(*all));
        memcpy(all + n_all, u, n * sizeof(*u));
        n_all += n;
        tq_free(u);
        tq_buf_cleanup(&b);
    }
    assert_int_equal(n_all, 14 + 18 + 2);
    if (tq_geo_index_build(all, n_all, NULL, &real_ix, &err))
        fail_msg("index: %s", err.msg);
    tq_geo_units_free(all, n_all);
    return real_ix;
}

static void real_border_and_towns(void **state)
{
    struct tq_geo_index *ix = real_index();
    struct json_object *o = NULL, *feats;
    struct tq_err err = {0};
    struct tq_geo_tag t;
    struct tq_buf b;
    double lat_min = 90, lat_max = -90, km;
    size_t i, j, k;

    (void)state;
    if (!ix) {
        skipped += 2;
        return;
    }
    assert_int_equal(tq_geo_index_units(ix), 32);
    km = tq_geo_index_border_km(ix);
    print_message("geo: Syria-Iraq border %.1f km\n", km);
    assert_true(km > 560 && km < 660); /* about 605 km */
    tq_buf_init(&b, 16 << 20);
    assert_int_equal(tq_geo_index_border_geojson(ix, &b, &err), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err), TQ_OK);
    json_object_object_get_ex(o, "features", &feats);
    assert_int_equal(json_object_array_length(feats), 2);
    for (i = 0; i < json_object_array_length(feats); i++) {
        struct json_object *g, *lines;

        json_object_object_get_ex(json_object_array_get_idx(feats, i), "geometry", &g);
        json_object_object_get_ex(g, "coordinates", &lines);
        for (j = 0; j < json_object_array_length(lines); j++) {
            struct json_object *line = json_object_array_get_idx(lines, j);

            for (k = 0; k < json_object_array_length(line); k++) {
                double lat = json_object_get_double(
                    json_object_array_get_idx(json_object_array_get_idx(line, k), 1));

                lat_min = fmin(lat_min, lat);
                lat_max = fmax(lat_max, lat);
            }
        }
    }
    print_message("geo: border between %.3f N and %.3f N\n", lat_min, lat_max);
    /* The south end is the tripoint with Jordan near 33.37 N (al-Tanf), the north end the
       tripoint with Turkey on the Tigris near 37.1 N. */
    assert_true(lat_min > 33.2 && lat_min < 34.1 && lat_max > 37.0 && lat_max < 37.45);
    json_object_put(o);
    tq_buf_cleanup(&b);

    /* Abu Kamal and al-Qa'im face each other across the border, 15.6 km apart at these
       coordinates (town centres): the two distances must add up to about that. */
    tag_ok(ix, 40.92, 34.45, &t); /* Abu Kamal */
    assert_string_equal(t.country_pcode, "SY");
    assert_string_equal(t.pcode, "SY09");
    km = t.border_km;
    print_message("geo: Abu Kamal %.2f km from the border\n", t.border_km);
    assert_true(t.border_km < 10);
    tag_ok(ix, 41.09, 34.37, &t); /* al-Qa'im */
    assert_string_equal(t.country_pcode, "IQ");
    assert_string_equal(t.pcode, "IQG01");
    print_message("geo: al-Qa'im %.2f km from the border\n", t.border_km);
    assert_true(t.border_km < 10);
    assert_true(km + t.border_km > 13 && km + t.border_km < hav(40.92, 34.45, 41.09, 34.37) + 0.5);
    /* Baghdad: the nearest border point is the Euphrates crossing at Abu Kamal/al-Qa'im, about
       335 km away in a straight line (~400 km by road) */
    tag_ok(ix, 44.36, 33.31, &t);
    assert_string_equal(t.pcode, "IQG08");
    print_message("geo: Baghdad %.1f km from the border\n", t.border_km);
    assert_true(t.border_km > 300 && t.border_km < 370);
    tag_ok(ix, 33.31, 44.36, &t); /* Baghdad, written lat first */
    assert_int_equal(t.flags, TQ_GEO_INSIDE | TQ_GEO_SWAPPED);
    assert_string_equal(t.pcode, "IQG08");
}

/*
 * border_km against brute force: the haversine distance to the border lines sampled every
 * 50 m, for random points over the two countries. The documented bound is 0.2% + 50 m (the
 * sampling itself adds up to 25 m); the worst relative difference seen is printed.
 */
static void real_border_km_bound(void **state)
{
    struct tq_geo_index *ix = real_index();
    struct json_object *o = NULL, *feats;
    struct tq_err err = {0};
    struct tq_buf b;
    double *pts = NULL, worst = 0;
    size_t np = 0, cap = 0, i, j, k, s;
    uint64_t seed = 12345;

    (void)state;
    if (!ix) {
        skipped++;
        return;
    }
    tq_buf_init(&b, 16 << 20);
    assert_int_equal(tq_geo_index_border_geojson(ix, &b, &err), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err), TQ_OK);
    json_object_object_get_ex(o, "features", &feats);
    for (i = 0; i < json_object_array_length(feats); i++) {
        struct json_object *g, *lines;

        json_object_object_get_ex(json_object_array_get_idx(feats, i), "geometry", &g);
        json_object_object_get_ex(g, "coordinates", &lines);
        for (j = 0; j < json_object_array_length(lines); j++) {
            struct json_object *line = json_object_array_get_idx(lines, j);

            for (k = 0; k + 1 < json_object_array_length(line); k++) {
                struct json_object *p0 = json_object_array_get_idx(line, k);
                struct json_object *p1 = json_object_array_get_idx(line, k + 1);
                double x0 = json_object_get_double(json_object_array_get_idx(p0, 0));
                double y0 = json_object_get_double(json_object_array_get_idx(p0, 1));
                double x1 = json_object_get_double(json_object_array_get_idx(p1, 0));
                double y1 = json_object_get_double(json_object_array_get_idx(p1, 1));
                size_t steps = (size_t)(hav(x0, y0, x1, y1) / 0.05) + 1;

                for (s = 0; s <= steps; s++) {
                    if (np == cap) {
                        cap = cap ? cap * 2 : 4096;
                        pts = tq_xrealloc(pts, cap * 2 * sizeof(double));
                    }
                    pts[2 * np] = x0 + (x1 - x0) * (double)s / (double)steps;
                    pts[2 * np + 1] = y0 + (y1 - y0) * (double)s / (double)steps;
                    np++;
                }
            }
        }
    }
    print_message("geo: border_km vs brute force over %zu border samples (seed %llu)\n", np,
                  (unsigned long long)seed);
    srand((unsigned)seed);
    for (i = 0; i < 300; i++) {
        double x = 35.7 + 13.0 * rand() / (double)RAND_MAX, y = 29.0 + 8.4 * rand() / RAND_MAX;
        double best = 1e9;
        struct tq_geo_tag t;

        if (i < 60) { /* a fifth of them close to the border */
            x = 40.5 + 2.0 * rand() / (double)RAND_MAX;
            y = 34.0 + 3.0 * rand() / (double)RAND_MAX;
        }
        tag_ok(ix, x, y, &t);
        x = t.lon; /* a point outside both countries may have been answered swapped */
        y = t.lat;
        for (k = 0; k < np; k++)
            best = fmin(best, hav(x, y, pts[2 * k], pts[2 * k + 1]));
        worst = fmax(worst, fabs(t.border_km - best) / (best + 0.05));
        if (fabs(t.border_km - best) > 0.002 * best + 0.05)
            fail_msg("(%f, %f): border_km %.4f, brute force %.4f", x, y, t.border_km, best);
    }
    print_message("geo: worst relative difference %.5f\n", worst);
    json_object_put(o);
    tq_free(pts);
    tq_buf_cleanup(&b);
}

/* ---- threads ------------------------------------------------------------------------------ */

struct worker {
    const struct tq_geo_index *ix;
    const double *pts;
    size_t n;
    struct tq_geo_tag *out;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct tq_err err;
    size_t i;

    for (i = 0; i < w->n; i++)
        if (tq_geo_tag(w->ix, w->pts[2 * i], w->pts[2 * i + 1], &w->out[i], &err))
            memset(&w->out[i], 0xff, sizeof(w->out[i]));
    return NULL;
}

static void threads_agree(void **state)
{
    struct tq_geo_index *ix = fixture_index();
    enum { N = 4000, T = 4 };
    double *pts = tq_xmalloc(N * 2 * sizeof(double));
    struct tq_geo_tag *ref = tq_xcalloc(N, sizeof(*ref)), *got[T];
    struct worker w[T], one = {ix, pts, N, ref};
    pthread_t th[T];
    size_t i, k;

    (void)state;
    srand(7);
    for (i = 0; i < N; i++) {
        pts[2 * i] = -0.1 + 2.2 * rand() / (double)RAND_MAX;
        pts[2 * i + 1] = -0.1 + 1.2 * rand() / (double)RAND_MAX;
    }
    work(&one);
    for (k = 0; k < T; k++) {
        got[k] = tq_xcalloc(N, sizeof(*got[k]));
        w[k] = (struct worker){ix, pts, N, got[k]};
        assert_int_equal(pthread_create(&th[k], NULL, work, &w[k]), 0);
    }
    for (k = 0; k < T; k++) {
        pthread_join(th[k], NULL);
        for (i = 0; i < N; i++)
            assert_memory_equal(&got[k][i], &ref[i], sizeof(ref[i]));
        tq_free(got[k]);
    }
    tq_free(ref);
    tq_free(pts);
    tq_geo_index_free(ix);
}

/* ---- UCDP agreement --------------------------------------------------------------------- */

/* UCDP's adm_1 names for Iraq, mapped to OCHA COD-AB P-codes. */
static const struct {
    const char *ucdp, *pcode;
} adm1_map[] = {
    {"Al Anb\xc4\x81r province", "IQG01"},
    {"Al Ba\xc5\x9frah  province", "IQG02"},
    {"Al Muthann\xc3\xa1 province", "IQG03"},
    {"An Najaf province", "IQG04"},
    {"Al Q\xc4\x81"
     "dis\xc4\xabyah province",
     "IQG05"},
    {"As Sulaym\xc4\x81n\xc4\xabyah province", "IQG06"},
    {"B\xc4\x81"
     "bil province",
     "IQG07"},
    {"Baghd\xc4\x81"
     "d province",
     "IQG08"},
    {"Dah\xc5\xab"
     "k province",
     "IQG09"},
    {"Diy\xc4\x81l\xc3\xa1 province", "IQG10"},
    {"Arb\xc4\xabl province", "IQG11"},
    {"Karbal\xc4\x81\xe2\x80\x99 province", "IQG12"},
    {"Kirk\xc5\xab"
     "k province",
     "IQG13"},
    {"At-Ta'mim province", "IQG13"}, /* Kirkuk's name 1976-2006 */
    {"Mays\xc4\x81n  province", "IQG14"},
    {"N\xc4\xabnaw\xc3\xa1 province", "IQG15"},
    {"\xc5\x9e"
     "al\xc4\x81\xe1\xb8\xa9 ad D\xc4\xabn province",
     "IQG16"},
    {"Dh\xc4\xab Q\xc4\x81r province", "IQG17"},
    {"W\xc4\x81si\xc5\xa3 province", "IQG18"},
};

static const char *map_adm1(const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(adm1_map) / sizeof(adm1_map[0]); i++)
        if (strcmp(adm1_map[i].ucdp, s) == 0)
            return adm1_map[i].pcode;
    return NULL;
}

/* One CSV record (RFC 4180 quoting) from *p; fields point into buf, NUL-terminated. */
static size_t csv_record(const char **p, const char *end, char *buf, size_t bufsz, char **fields,
                         size_t max_fields)
{
    size_t nf = 0, o = 0;
    bool quoted = false;

    if (*p >= end)
        return 0;
    fields[nf++] = buf;
    while (*p < end) {
        char ch = *(*p)++;

        if (quoted) {
            if (ch == '"' && *p < end && **p == '"') {
                (*p)++;
                buf[o++] = '"';
            } else if (ch == '"') {
                quoted = false;
            } else {
                buf[o++] = ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == ',') {
            buf[o++] = '\0';
            if (nf < max_fields)
                fields[nf++] = buf + o;
        } else if (ch == '\n') {
            break;
        } else if (ch != '\r') {
            buf[o++] = ch;
        }
        if (o + 2 >= bufsz)
            break;
    }
    buf[o] = '\0';
    return nf;
}

static int col(char **f, size_t nf, const char *name)
{
    size_t i;

    for (i = 0; i < nf; i++)
        if (strcmp(f[i], name) == 0)
            return (int)i;
    fail_msg("UCDP CSV has no column %s", name);
    return -1;
}

static void ucdp_agreement(void **state)
{
    struct tq_geo_index *ix = real_index();
    char path[1024], hbuf[8192], rbuf[65536], *hf[64] = {0}, *rf[64] = {0};
    size_t nh, nr, events = 0, compared = 0, agree = 0, unmapped = 0, nearest = 0;
    int c_prec, c_adm1, c_lat, c_lon, c_id;
    struct tq_err err = {0};
    struct tq_buf b;
    const char *p, *end;

    (void)state;
    if (!ix) {
        skipped++;
        return;
    }
    snprintf(path, sizeof(path), "%s/conflict/ucdp-ged-iraq-1989-2015.csv", testdata());
    if (tq_file_read(path, 64u << 20, &b, &err) != TQ_OK) {
        skipped++;
        return;
    }
    p = b.ptr;
    end = b.ptr + b.len;
    nh = csv_record(&p, end, hbuf, sizeof(hbuf), hf, 64);
    c_prec = col(hf, nh, "where_prec");
    c_adm1 = col(hf, nh, "adm_1");
    c_lat = col(hf, nh, "latitude");
    c_lon = col(hf, nh, "longitude");
    c_id = col(hf, nh, "id");
    csv_record(&p, end, rbuf, sizeof(rbuf), rf, 64); /* the HXL hashtag row */
    assert_true(rf[0][0] == '\0' && strchr(rf[1], '#'));
    while ((nr = csv_record(&p, end, rbuf, sizeof(rbuf), rf, 64)) > 0) {
        double lat, lon;
        struct tq_geo_tag t;
        const char *want;
        int prec;

        if (nr < nh)
            continue;
        lat = strtod(rf[c_lat], NULL);
        lon = strtod(rf[c_lon], NULL);
        prec = (int)strtol(rf[c_prec], NULL, 10);
        events++;
        if (tq_geo_tag(ix, lon, lat, &t, &err))
            fail_msg("event %s (%s, %s): %s", rf[c_id], rf[c_lon], rf[c_lat], err.msg);
        assert_true(t.border_km >= 0); /* every event gets a border distance */
        if (prec != 1 && prec != 2)
            continue;
        if (!rf[c_adm1][0])
            continue; /* no adm_1 to compare with */
        want = map_adm1(rf[c_adm1]);
        compared++;
        nearest += (t.flags & TQ_GEO_NEAREST) != 0;
        if (want && t.pcode && strcmp(want, t.pcode) == 0) {
            agree++;
            continue;
        }
        {
            const char *why;
            char reason[160];
            int d;

            if (!want) {
                unmapped++;
                why = "spelling map missing";
            } else if (t.flags & TQ_GEO_OUTSIDE) {
                why = "outside every outline (coast or data error)";
            } else {
                why = "data error: the named governorate is farther than ~5 km";
                for (d = 1; d <= 10 && strncmp(why, "data", 4) == 0; d++) {
                    static const double off[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
                    int q;

                    for (q = 0; q < 4; q++) {
                        struct tq_geo_tag s;

                        if (tq_geo_tag(ix, lon + off[q][0] * 0.009 * d, lat + off[q][1] * 0.009 * d,
                                       &s, &err) == TQ_OK &&
                            s.pcode && strcmp(s.pcode, want) == 0) {
                            snprintf(reason, sizeof(reason),
                                     "on a governorate boundary: %s within %d km", want, d);
                            why = reason;
                            break;
                        }
                    }
                }
                if (t.flags & TQ_GEO_NEAREST && strncmp(why, "data", 4) == 0)
                    why = "in a gap between outlines";
            }
            print_message("geo: UCDP %s (%s, %s) prec %d adm_1 '%s' -> %s, tagged %s: %s\n",
                          rf[c_id], rf[c_lon], rf[c_lat], prec, rf[c_adm1], want ? want : "?",
                          t.pcode ? t.pcode : "none", why);
        }
    }
    print_message("geo: UCDP agreement %.2f%% (%zu of %zu events with where_prec 1-2 and an "
                  "adm_1; %zu events tagged, %zu nearest-unit answers, %zu unmapped names)\n",
                  100.0 * (double)agree / (double)(compared ? compared : 1), agree, compared,
                  events, nearest, unmapped);
    assert_true(events > 5800);
    assert_true(compared > 4900);
    assert_int_equal(unmapped, 0);
    assert_true((double)agree >= 0.97 * (double)compared);
    tq_buf_cleanup(&b);
}

#else /* !TQ_HAVE_GEOS */

static void not_built(void **state)
{
    struct tq_geo_unit *u = NULL;
    struct tq_geo_index *ix = NULL;
    struct tq_err err = {0};
    size_t n;

    (void)state;
    assert_int_equal(tq_geo_units_parse(TQ_STR("{}"), NULL, &u, &n, NULL, &err), TQ_ENOTSUP);
    assert_int_equal(tq_geo_index_build(u, 0, NULL, &ix, &err), TQ_ENOTSUP);
    (void)hav;
    skipped++;
}

#endif

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#if TQ_HAVE_GEOS
        cmocka_unit_test(fixture_inside_and_border),
        cmocka_unit_test(fixture_coast_is_not_border),
        cmocka_unit_test(fixture_nearest_and_outside),
        cmocka_unit_test(fixture_tolerance_option),
        cmocka_unit_test(fixture_swapped_and_errors),
        cmocka_unit_test(parse_repair_and_skip),
        cmocka_unit_test(parse_refusals),
        cmocka_unit_test(custom_fields),
        cmocka_unit_test(geojson_out),
        cmocka_unit_test(threads_agree),
        cmocka_unit_test(real_border_and_towns),
        cmocka_unit_test(real_border_km_bound),
        cmocka_unit_test(ucdp_agreement),
#else
        cmocka_unit_test(not_built),
#endif
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("geo", tests, NULL, NULL);
#if TQ_HAVE_GEOS
    tq_geo_index_free(real_ix);
#endif
#if TQ_HAVE_GEOS
    if (skipped)
        print_message("geo: %zu data-dependent case(s) skipped (TANSIQ_TESTDATA=%s)\n", skipped,
                      testdata());
#else
    print_message(
        "geo: built without GEOS (TQ_HAVE_GEOS=0): %zu case(s) skipped, TANSIQ_TESTDATA=%s "
        "unused\n",
        skipped, testdata());
#endif
    return failed;
}
