/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_events.c - event files into STIX incidents.
 *
 * The real UCDP GED extract for Iraq (read in place from TANSIQ_TESTDATA, default
 * ../shared/data; skipped with a count when absent) must give the 5,894 events its SOURCES.md
 * counts, with the same split by type of violence and the same fatality sum, and every event's
 * incident must pass the node's STIX validator. Small inline files cover the GeoJSON and simple
 * CSV formats, other column orders and delimiters, and every kind of bad input; the point
 * reader must give back what the writer wrote and refuse what it did not. Run one test by name
 * with its name as the first argument.
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

#include "tansiq/events.h"
#include "tansiq/json.h"
#include "tansiq/stix.h"

#define AUTHOR "identity--2d1a4a1e-7c1b-4a8e-9f4e-0c6a1b2c3d4e"

static size_t skipped;

static const char *testdata(void)
{
    const char *d = getenv("TANSIQ_TESTDATA");

    return d && *d ? d : "../shared/data";
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* What a parse produced: the events as STIX, and the problems as "line: what" lines. */
struct collect {
    struct tq_buf stix;     /* one incident per line */
    struct tq_buf problems; /* "line: what\n" */
    size_t n;
    size_t stix_errors;
    long fatalities;
    size_t by_kind[8];
    struct tq_event first; /* scalar fields of the first event */
    char first_name[256], first_desc[512], first_id[64];
    bool validate;
};

static const char *const kind_names[] = {"attack",   "clash",    "explosion", "seizure",
                                         "crossing", "sighting", "arrest",    "other"};

/* Validate one object with the node's validator: true when it has no error (warnings pass). */
static bool stix_ok(const char *json, size_t len, bool print)
{
    struct json_object *o = NULL;
    struct tq_stix_batch *b;
    struct tq_err err;
    bool ok;

    if (tq_json_parse((struct tq_str){json, len}, &o, &err) != TQ_OK) {
        print_message("not JSON: %s\n", err.msg);
        return false;
    }
    b = tq_stix_batch_of(o, json_object_is_type(o, json_type_object));
    ok = b->n_invalid == 0;
    for (size_t i = 0; print && i < b->n_problems; i++)
        if (!b->problems[i].warning)
            print_message("%s: %s: %s\n", b->problems[i].object_id ? b->problems[i].object_id : "?",
                          b->problems[i].property ? b->problems[i].property : "",
                          b->problems[i].reason);
    tq_stix_batch_free(b);
    json_object_put(o);
    return ok;
}

static tq_rc on_event(void *ud, const struct tq_event *e)
{
    struct collect *c = ud;
    struct tq_err err;
    size_t len0 = c->stix.len;

    if (c->n == 0) {
        c->first = *e;
        (void)snprintf(c->first_name, sizeof(c->first_name), "%s", e->name);
        (void)snprintf(c->first_desc, sizeof(c->first_desc), "%s",
                       e->description ? e->description : "");
        (void)snprintf(c->first_id, sizeof(c->first_id), "%s", e->source_id ? e->source_id : "");
    }
    c->n++;
    if (e->fatalities > 0)
        c->fatalities += e->fatalities;
    for (size_t k = 0; k < 8; k++)
        if (strcmp(e->kind, kind_names[k]) == 0)
            c->by_kind[k]++;
    assert_int_equal(tq_event_to_stix(e, AUTHOR, &c->stix, &err), TQ_OK);
    if (c->validate && !stix_ok(c->stix.ptr + len0, c->stix.len - len0, c->stix_errors < 3))
        c->stix_errors++;
    assert_int_equal(tq_buf_append_c(&c->stix, "\n"), TQ_OK);
    return TQ_OK;
}

static void on_problem(void *ud, size_t line, const char *what)
{
    struct collect *c = ud;

    assert_int_equal(tq_buf_printf(&c->problems, "%zu: %s\n", line, what), TQ_OK);
}

static void collect_init(struct collect *c)
{
    memset(c, 0, sizeof(*c));
    tq_buf_init(&c->stix, 64u << 20);
    tq_buf_init(&c->problems, 1u << 20);
    c->validate = true;
    (void)tq_buf_append_c(&c->problems, ""); /* allocated, so ptr is a string */
}

static void collect_cleanup(struct collect *c)
{
    tq_buf_cleanup(&c->stix);
    tq_buf_cleanup(&c->problems);
}

static tq_rc parse(const char *text, enum tq_events_format f, char delim, struct collect *c,
                   struct tq_events_stats *st, struct tq_err *err)
{
    struct tq_events_options o = {
        .format = f, .delimiter = delim, .source = "test.file", .problem = on_problem, .ud = c};

    return tq_events_parse(tq_str_c(text), &o, on_event, c, st, err);
}

static void has_problem(const struct collect *c, const char *what)
{
    if (!strstr(c->problems.ptr, what))
        fail_msg("no problem '%s' in:\n%s", what, c->problems.ptr);
}

/* The n-th incident (0-based) of a collect, parsed. */
static struct json_object *incident(const struct collect *c, size_t n)
{
    const char *p = c->stix.ptr, *nl;
    struct json_object *o = NULL;
    struct tq_err err;

    for (; n > 0; n--)
        p = strchr(p, '\n') + 1;
    nl = strchr(p, '\n');
    assert_int_equal(tq_json_parse((struct tq_str){p, (size_t)(nl - p)}, &o, &err), TQ_OK);
    return o;
}

static struct json_object *ext_of(struct json_object *o, const char *ext)
{
    struct json_object *exts, *e;

    if (!json_object_object_get_ex(o, "extensions", &exts) ||
        !json_object_object_get_ex(exts, ext, &e))
        return NULL;
    return e;
}

/* ---- the real UCDP extract ---------------------------------------------------------------- */

static void ucdp_iraq_file(void **state)
{
    char path[1024];
    struct tq_buf data;
    struct tq_err err;
    struct collect c, again;
    struct tq_events_stats st;

    (void)state;
    (void)snprintf(path, sizeof(path), "%s/conflict/ucdp-ged-iraq-1989-2015.csv", testdata());
    if (tq_file_read(path, 64u << 20, &data, &err) != TQ_OK) {
        print_message("events: %s absent, UCDP case skipped\n", path);
        skipped++;
        return;
    }
    collect_init(&c);
    assert_int_equal(parse(data.ptr, TQ_EVENTS_UCDP, 0, &c, &st, &err), TQ_OK);
    if (c.problems.len)
        print_message("%s", c.problems.ptr);
    /* SOURCES.md: 5,894 events; 4,462 state-based + 145 non-state (clash), 1,287 one-sided
     * (attack); 95,778 fatalities (best). */
    assert_int_equal(st.rows, 5894);
    assert_int_equal(st.events, 5894);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(c.n, 5894);
    assert_int_equal(c.by_kind[1], 4462 + 145);
    assert_int_equal(c.by_kind[0], 1287);
    assert_int_equal(c.fatalities, 95778);
    assert_int_equal(c.stix_errors, 0);
    /* The first row as the file gives it. */
    assert_string_equal(c.first_id, "114064");
    assert_string_equal(c.first_name, "Government of Iraq - IS");
    assert_string_equal(c.first_desc, "Iraq violence kills 14 as January toll tops 800 "
                                      "(Al Fallūjah town)");
    assert_true(c.first.lat == 33.355813 && c.first.lon == 43.786124);
    assert_int_equal(c.first.where_prec, 1);
    assert_int_equal(c.first.date_prec, 2);
    assert_int_equal(c.first.line, 3);
    assert_int_equal(c.first.fatalities, 8);
    {
        struct json_object *o = incident(&c, 0), *x = ext_of(o, TQ_EXT_INCIDENT), *v;

        assert_non_null(x);
        assert_true(json_object_object_get_ex(x, "start", &v));
        assert_string_equal(json_object_get_string(v), "2014-01-24T00:00:00.000Z");
        assert_true(json_object_object_get_ex(x, "end", &v));
        assert_string_equal(json_object_get_string(v), "2014-01-25T00:00:00.000Z");
        assert_true(json_object_object_get_ex(x, "reported_adm1", &v));
        assert_string_equal(json_object_get_string(v), "Al Anbār province");
        assert_true(json_object_object_get_ex(o, "modified", &v));
        assert_string_equal(json_object_get_string(v), "2014-01-25T00:00:00.000Z");
        json_object_put(o);
    }
    /* Importing again writes the same bytes: ids and timestamps come from the file. */
    collect_init(&again);
    again.validate = false;
    assert_int_equal(parse(data.ptr, TQ_EVENTS_UCDP, 0, &again, &st, &err), TQ_OK);
    assert_int_equal(again.stix.len, c.stix.len);
    assert_memory_equal(again.stix.ptr, c.stix.ptr, c.stix.len);
    /* Every incident gives its point back. */
    for (size_t i = 0; i < c.n; i += 97) {
        struct json_object *o = incident(&c, i);
        struct tq_event_point p;

        assert_true(tq_event_point_of(o, &p));
        assert_true(p.lat >= 29 && p.lat <= 38 && p.lon >= 38 && p.lon <= 49);
        json_object_put(o);
    }
    collect_cleanup(&again);
    collect_cleanup(&c);
    tq_buf_cleanup(&data);
}

/* ---- definitions -------------------------------------------------------------------------- */

static void definitions_validate(void **state)
{
    const char *d = tq_events_definitions_json();
    struct json_object *arr = NULL;
    struct tq_err err;
    const char *ids[] = {TQ_EVENTS_IDENTITY, TQ_EXT_INCIDENT, TQ_EXT_SEIZURE, TQ_EXT_PHONE,
                         TQ_EXT_PLATE};

    (void)state;
    assert_int_equal(strlen(d), 5546);
    assert_true(d == tq_events_definitions_json());
    assert_true(stix_ok(d, strlen(d), true));
    assert_int_equal(tq_json_parse(tq_str_c(d), &arr, &err), TQ_OK);
    assert_int_equal(json_object_array_length(arr), 5);
    for (size_t i = 0; i < 5; i++) {
        struct json_object *o = json_object_array_get_idx(arr, i), *v, *schema = NULL;

        assert_true(json_object_object_get_ex(o, "id", &v));
        assert_string_equal(json_object_get_string(v), ids[i]);
        if (i == 0)
            continue;
        /* each schema is itself JSON (a JSON Schema document) */
        assert_true(json_object_object_get_ex(o, "schema", &v));
        assert_int_equal(tq_json_parse(tq_str_c(json_object_get_string(v)), &schema, &err), TQ_OK);
        json_object_put(schema);
        assert_true(json_object_object_get_ex(o, "created_by_ref", &v));
        assert_string_equal(json_object_get_string(v), TQ_EVENTS_IDENTITY);
    }
    json_object_put(arr);
}

static void new_scos_validate(void **state)
{
    struct tq_buf b;
    struct tq_err err;
    struct json_object *o = NULL, *v;

    (void)state;
    tq_buf_init(&b, 4096);
    assert_int_equal(tq_events_phone_to_stix("+9647701234567", &b, &err), TQ_OK);
    assert_true(stix_ok(b.ptr, b.len, true));
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err), TQ_OK);
    assert_true(json_object_object_get_ex(o, "id", &v));
    /* UUIDv5 of {"value":"+9647701234567"} under the STIX namespace (computed with Python's
     * uuid.uuid5), as another STIX producer computes it. */
    assert_string_equal(json_object_get_string(v),
                        "phone-number--30691fcd-26dc-518a-b79e-519cd71375de");
    json_object_put(o);
    tq_buf_reset(&b);
    assert_int_equal(tq_events_plate_to_stix("12345 \xd8\xa8", "IQ", "Anbar", &b, &err), TQ_OK);
    assert_true(stix_ok(b.ptr, b.len, true));
    tq_buf_reset(&b);
    assert_int_equal(tq_events_phone_to_stix("+0964", &b, &err), TQ_EINVAL);
    assert_int_equal(tq_events_phone_to_stix("9647701234567", &b, &err), TQ_EINVAL);
    assert_int_equal(tq_events_phone_to_stix("+96477012345678901", &b, &err), TQ_EINVAL);
    assert_int_equal(tq_events_plate_to_stix("ab12", "IQ", NULL, &b, &err), TQ_EINVAL);
    assert_int_equal(tq_events_plate_to_stix("AB12", "iq", NULL, &b, &err), TQ_EINVAL);
    assert_int_equal(tq_events_plate_to_stix("AB\"12", "IQ", NULL, &b, &err), TQ_EINVAL);
    assert_int_equal(b.len, 0);
    tq_buf_cleanup(&b);
}

/* ---- GeoJSON ------------------------------------------------------------------------------ */

static const char geojson_ok[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"id\":\"seiz-1\",\"geometry\":{\"type\":\"Point\","
    "\"coordinates\":[41.0336,34.3786]},\"properties\":{\"kind\":\"seizure\","
    "\"time\":\"2023-05-02T10:30:00Z\",\"name\":\"Captagon at al-Qaim\","
    "\"quantities\":[{\"item\":\"captagon\",\"amount\":120000,\"unit\":\"pills\"},"
    "{\"item\":\"rifle\",\"amount\":4,\"unit\":\"items\"}]}},"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[40.14,34.45,210]},"
    "\"properties\":{\"kind\":\"Crossing\",\"date\":\"2023-05-03\",\"end\":\"2023-05-04\","
    "\"fatalities\":0,\"id\":7}},"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[40,34],[41,"
    "35]]},\"properties\":{\"kind\":\"crossing\",\"time\":\"2023-05-03\"}},"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[40.5,34.5]},"
    "\"properties\":{\"kind\":\"smuggling\",\"start\":\"2023-05-05 08:00\"}}"
    "]}";

static void geojson_happy(void **state)
{
    struct collect c;
    struct tq_events_stats st;
    struct tq_err err;
    struct json_object *o, *x, *v;

    (void)state;
    collect_init(&c);
    assert_int_equal(parse(geojson_ok, TQ_EVENTS_GEOJSON, 0, &c, &st, &err), TQ_OK);
    assert_int_equal(st.rows, 4);
    assert_int_equal(st.events, 3);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.repaired, 1);
    assert_int_equal(c.stix_errors, 0);
    has_problem(&c, "3: geometry LineString is not a Point: skipped");
    has_problem(&c, "4: unknown kind, set to other: 'smuggling'");
    assert_int_equal(c.by_kind[3], 1); /* seizure */
    assert_int_equal(c.by_kind[4], 1); /* crossing, whatever its case */
    assert_int_equal(c.by_kind[7], 1); /* other */
    o = incident(&c, 0);
    x = ext_of(o, TQ_EXT_SEIZURE);
    assert_non_null(x);
    assert_true(json_object_object_get_ex(x, "quantities", &v));
    assert_int_equal(json_object_array_length(v), 2);
    assert_true(json_object_is_type(
        json_object_object_get(json_object_array_get_idx(v, 0), "amount"), json_type_int));
    assert_int_equal(
        json_object_get_int64(json_object_object_get(json_object_array_get_idx(v, 0), "amount")),
        120000);
    assert_true(json_object_object_get_ex(o, "external_references", &v));
    assert_string_equal(json_object_get_string(
                            json_object_object_get(json_object_array_get_idx(v, 0), "source_name")),
                        "test.file");
    assert_string_equal(json_object_get_string(
                            json_object_object_get(json_object_array_get_idx(v, 0), "external_id")),
                        "seiz-1");
    json_object_put(o);
    o = incident(&c, 1);
    assert_null(ext_of(o, TQ_EXT_SEIZURE));
    assert_true(json_object_object_get_ex(o, "name", &v));
    assert_string_equal(json_object_get_string(v), "crossing 2023-05-03");
    json_object_put(o);
    collect_cleanup(&c);
}

static void geojson_bad(void **state)
{
    static const struct {
        const char *text;
        tq_rc rc;
        const char *problem;
    } cases[] = {
        {"{\"type\":\"FeatureCollection\",\"features\":[1,", TQ_EJSON, NULL},
        {"{\"type\":\"Feature\",\"features\":[]}", TQ_EINVAL, NULL},
        {"[]", TQ_EINVAL, NULL},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{"
         "\"type\":\"Point\",\"coordinates\":[43,95]},\"properties\":{\"kind\":\"attack\","
         "\"time\":\"2020-01-01\"}}]}",
         TQ_OK, "1: coordinates outside"},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{"
         "\"type\":\"Point\",\"coordinates\":[\"43\",33]},\"properties\":{\"kind\":\"attack\","
         "\"time\":\"2020-01-01\"}}]}",
         TQ_OK, "1: coordinates are not [longitude, latitude] numbers"},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{"
         "\"type\":\"Point\",\"coordinates\":[43]},\"properties\":{\"kind\":\"attack\","
         "\"time\":\"2020-01-01\"}}]}",
         TQ_OK, "1: coordinates are not"},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{"
         "\"type\":\"Point\",\"coordinates\":[43,33]},\"properties\":{\"kind\":\"attack\","
         "\"time\":\"2020-02-30\"}}]}",
         TQ_OK, "1: time '2020-02-30' is not a date"},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{"
         "\"type\":\"Point\",\"coordinates\":[43,33]},\"properties\":null}]}",
         TQ_OK, "1: time '' is not a date"},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":null}"
         ",7]}",
         TQ_OK, "2: not a GeoJSON Feature"},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{"
         "\"type\":\"Point\",\"coordinates\":[43,33]},\"properties\":{\"kind\":\"seizure\","
         "\"time\":\"2020-01-01\",\"quantities\":[{\"item\":\"x\",\"amount\":-1,\"unit\":\"kg\"}"
         "],\"fatalities\":-3}}]}",
         TQ_OK, "1: a quantity needs item, unit and an amount >= 0, dropped"},
        {"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{"
         "\"type\":\"Point\",\"coordinates\":[43,33]},\"properties\":{\"kind\":\"attack\","
         "\"time\":\"2020-01-02\",\"end\":\"2020-01-01\"}}]}",
         TQ_OK, "1: end before start: end set to start"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct collect c;
        struct tq_events_stats st;
        struct tq_err err = {0};
        tq_rc rc;

        collect_init(&c);
        rc = parse(cases[i].text, TQ_EVENTS_GEOJSON, 0, &c, &st, &err);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, err.msg);
        if (cases[i].problem)
            has_problem(&c, cases[i].problem);
        assert_int_equal(c.stix_errors, 0);
        collect_cleanup(&c);
    }
}

/* ---- simple CSV --------------------------------------------------------------------------- */

static void csv_orders_and_delimiters(void **state)
{
    static const char *const files[] = {
        "lat,lon,time,kind,name\n34.38,41.03,2023-05-02,attack,Ambush\n",
        "Kind;Name;Date;Longitude;Latitude\nattack;Ambush;2023-05-02;41.03;34.38\n",
        ("event_type\tdatetime\tlng\tlatitude\tname\nattack\t2023-05-02T00:00:00Z\t41.03\t34.38\t"
         "Ambush\n"),
        "name|long|lat|type|start\r\nAmbush|41.03|34.38|ATTACK|2023-05-02 00:00\r\n",
    };
    char first[4096] = "";

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct collect c;
        struct tq_events_stats st;
        struct tq_err err;

        collect_init(&c);
        assert_int_equal(parse(files[i], TQ_EVENTS_CSV, 0, &c, &st, &err), TQ_OK);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.repaired, 0);
        assert_int_equal(c.stix_errors, 0);
        /* the same event whatever the order and delimiter: the same incident, byte for byte */
        if (i == 0)
            (void)snprintf(first, sizeof(first), "%s", c.stix.ptr);
        else
            assert_string_equal(c.stix.ptr, first);
        collect_cleanup(&c);
    }
}

static void csv_quantities_and_options(void **state)
{
    struct collect c;
    struct tq_events_stats st;
    struct tq_err err;
    struct json_object *o, *x;

    (void)state;
    collect_init(&c);
    assert_int_equal(parse("id,lat,lon,date,kind,item,amount,unit,adm1,country,fatalities\n"
                           "s1,34.4,40.9,2024-01-02,seizure,captagon,\"120000\",pills,Anbar,"
                           "Iraq,\n"
                           "s2,34.4,40.9,2024-01-03,seizure,captagon,lots,pills,Anbar,Iraq,x\n",
                           TQ_EVENTS_CSV, 0, &c, &st, &err),
                     TQ_OK);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.repaired, 1);
    has_problem(&c, "3: amount is not a number >= 0, quantity dropped: 'lots'");
    has_problem(&c, "3: fatalities is not a count, set to unknown: 'x'");
    o = incident(&c, 0);
    assert_non_null(ext_of(o, TQ_EXT_SEIZURE));
    x = ext_of(o, TQ_EXT_INCIDENT);
    assert_string_equal(json_object_get_string(json_object_object_get(x, "reported_adm1")),
                        "Anbar");
    assert_null(json_object_object_get(x, "fatalities"));
    json_object_put(o);
    o = incident(&c, 1);
    assert_null(ext_of(o, TQ_EXT_SEIZURE));
    json_object_put(o);
    collect_cleanup(&c);
}

static void csv_bad_rows(void **state)
{
    static const struct {
        const char *row;
        const char *problem;
    } cases[] = {
        {"95.1,41,2020-01-01,attack", "latitude 95.1 outside [-90, 90]"},
        {"-90.5,41,2020-01-01,attack", "latitude -90.5 outside"},
        {"34,-181,2020-01-01,attack", "longitude -181 outside [-180, 180]"},
        {"34,180.0001,2020-01-01,attack", "longitude 180.0001 outside"},
        {"NaN,41,2020-01-01,attack", "latitude 'NaN' is not a number"},
        {"34,inf,2020-01-01,attack", "longitude 'inf' is not a number"},
        {"34,-Infinity,2020-01-01,attack", "longitude '-Infinity' is not a number"},
        {",41,2020-01-01,attack", "latitude '' is not a number"},
        {"  ,41,2020-01-01,attack", "latitude '' is not a number"},
        {"34,abc,2020-01-01,attack", "longitude 'abc' is not a number"},
        {"0x22,41,2020-01-01,attack", "latitude '0x22' is not a number"},
        {"34.1.2,41,2020-01-01,attack", "latitude '34.1.2' is not a number"},
        {"1e999,41,2020-01-01,attack", "latitude '1e999' is not a number"},
        {"34,41,2020-02-30,attack", "date '2020-02-30' is not a date"},
        {"34,41,2019-02-29,attack", "date '2019-02-29' is not a date"},
        {"34,41,02/01/2020,attack", "date '02/01/2020' is not a date"},
        {"34,41,1850-01-01,attack", "date '1850-01-01' is not a date"},
        {"34,41,2020-01-01T25:00,attack", "date '2020-01-01T25:00' is not a date"},
        {"34,41,2020-01-01T10:00:00+3,attack", "date '2020-01-01T10:00:00+3' is not"},
        {"34,41,,attack", "date '' is not a date"},
        {"34,41,2020-01-01", "3 fields where the header has 4"},
        {"34,41,2020-01-01,attack,extra", "5 fields where the header has 4"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        struct collect c;
        struct tq_events_stats st;
        struct tq_err err;
        char want[160];

        (void)snprintf(text, sizeof(text), "lat,lon,date,kind\n%s\n33,44,2020-01-01,clash\n",
                       cases[i].row);
        collect_init(&c);
        assert_int_equal(parse(text, TQ_EVENTS_CSV, 0, &c, &st, &err), TQ_OK);
        (void)snprintf(want, sizeof(want), "2: %s", cases[i].problem);
        has_problem(&c, want);
        /* the bad row is skipped and counted; the good one after it still arrives */
        assert_int_equal(st.rows, 2);
        assert_int_equal(st.skipped, 1);
        assert_int_equal(st.events, 1);
        assert_int_equal(c.by_kind[1], 1);
        collect_cleanup(&c);
    }
}

static void csv_repairs(void **state)
{
    struct collect c;
    struct tq_events_stats st;
    struct tq_err err;

    (void)state;
    collect_init(&c);
    assert_int_equal(parse("lat,lon,date,kind,end,where_prec\n"
                           "34,41,2020-01-01,looting,2020-01-02,9\n"
                           "34,41,2020-01-01T10:00:00.5+03:00,Battles,someday,2\n",
                           TQ_EVENTS_CSV, 0, &c, &st, &err),
                     TQ_OK);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.repaired, 2);
    has_problem(&c, "2: unknown kind, set to other: 'looting'");
    has_problem(&c, "2: where_prec is not 1-7, set to unknown: '9'");
    has_problem(&c, "3: end is not a date, set to the start: 'someday'");
    assert_int_equal(c.by_kind[7], 1);
    assert_int_equal(c.by_kind[1], 1); /* ACLED's "Battles" is a clash */
    {
        struct json_object *o = incident(&c, 1);

        assert_string_equal(
            json_object_get_string(json_object_object_get(ext_of(o, TQ_EXT_INCIDENT), "start")),
            "2020-01-01T07:00:00.500Z");
        json_object_put(o);
    }
    collect_cleanup(&c);
}

static void file_errors(void **state)
{
    struct collect c;
    struct tq_events_stats st;
    struct tq_err err;
    struct tq_events_options o = {.format = TQ_EVENTS_CSV, .max_bytes = 16};

    (void)state;
    collect_init(&c);
    assert_int_equal(parse("lat,lon,kind\n34,41,attack\n", TQ_EVENTS_CSV, 0, &c, &st, &err),
                     TQ_EINVAL);
    assert_non_null(strstr(err.msg, "no 'time' column (or date, datetime, start) in the header"));
    assert_int_equal(parse("latitude,longitude,date_start,id\n", TQ_EVENTS_UCDP, 0, &c, &st, &err),
                     TQ_EINVAL);
    assert_non_null(strstr(err.msg, "no 'type_of_violence' column"));
    assert_int_equal(
        parse("lat,lon,date,kind\n34,41,\"2020-01-01,attack\n", TQ_EVENTS_CSV, 0, &c, &st, &err),
        TQ_EINVAL);
    assert_non_null(strstr(err.msg, "line 2: unterminated quoted field"));
    assert_int_equal(
        parse("lat,lon,date,kind\n34,41,2020-01-01,\xff\n", TQ_EVENTS_CSV, 0, &c, &st, &err),
        TQ_EINVAL);
    assert_non_null(strstr(err.msg, "not UTF-8"));
    assert_int_equal(parse("", TQ_EVENTS_CSV, 0, &c, &st, &err), TQ_EINVAL);
    assert_int_equal(tq_events_parse(TQ_STR("lat,lon,date,kind\n34,41,2020-01-01,attack\n"), &o,
                                     on_event, &c, &st, &err),
                     TQ_ETOOBIG);
    o.format = TQ_EVENTS_GEOJSON;
    assert_int_equal(tq_events_parse(TQ_STR("{\"type\":\"FeatureCollection\",\"features\":[]}"), &o,
                                     on_event, &c, &st, &err),
                     TQ_ETOOBIG);
    assert_int_equal(c.n, 0);
    collect_cleanup(&c);
}

static tq_rc refuse_second(void *ud, const struct tq_event *e)
{
    size_t *n = ud;

    (void)e;
    return ++*n == 2 ? TQ_ESTORE : TQ_OK;
}

static void callback_stops(void **state)
{
    struct tq_events_options o = {.format = TQ_EVENTS_CSV};
    struct tq_events_stats st;
    struct tq_err err;
    size_t n = 0;

    (void)state;
    assert_int_equal(tq_events_parse(TQ_STR("lat,lon,date,kind\n1,1,2020-01-01,attack\n"
                                            "2,2,2020-01-01,attack\n3,3,2020-01-01,attack\n"),
                                     &o, refuse_second, &n, &st, &err),
                     TQ_ESTORE);
    assert_int_equal(n, 2);
    assert_non_null(strstr(err.msg, "line 3"));
}

/* The UCDP row shape: the HXL row is skipped, a row without an id is not an event. */
static void ucdp_small(void **state)
{
    struct collect c;
    struct tq_events_stats st;
    struct tq_err err;

    (void)state;
    collect_init(&c);
    assert_int_equal(
        parse("id,type_of_violence,dyad_name,latitude,longitude,date_start,date_end,best,"
              "where_prec,date_prec\n"
              "#id,,#group,#geo+lat,#geo+lon,#date+start,,,,\n"
              "1,3,A - civilians,33.1,43.2,2010-05-01,2010-05-01,4,2,1\n"
              ",1,A - B,33.1,43.2,2010-05-01,2010-05-01,4,2,1\n"
              "3,7,A - B,33.1,43.2,2010-05-01,2010-05-01,4.0,8,1\n",
              TQ_EVENTS_UCDP, 0, &c, &st, &err),
        TQ_OK);
    assert_int_equal(st.rows, 3);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.skipped, 1);
    has_problem(&c, "4: no UCDP id: row skipped");
    has_problem(&c, "5: type_of_violence is not 1, 2 or 3, kind set to other: '7'");
    has_problem(&c, "5: where_prec is not 1-7, set to unknown: '8'");
    assert_int_equal(c.by_kind[0], 1);
    assert_int_equal(c.by_kind[7], 1);
    assert_int_equal(c.fatalities, 8);
    assert_int_equal(c.stix_errors, 0);
    collect_cleanup(&c);
}

/* ---- ids, to_stix and the point reader ---------------------------------------------------- */

static struct tq_event sample(void)
{
    static const struct tq_event_quantity q[] = {{"captagon", 120000, "pills"}};

    return (struct tq_event){.kind = "seizure",
                             .lon = 41.0336,
                             .lat = 34.3786,
                             .where_prec = 1,
                             .date_prec = 1,
                             .start_us = 1683023400000000,
                             .end_us = 1683023400000000,
                             .name = "Captagon at al-Qaim",
                             .source = "border-post-7.csv",
                             .fatalities = -1,
                             .n_quantities = 1,
                             .quantities = q,
                             .line = 2};
}

static void id_of(const struct tq_event *e, char out[64])
{
    struct tq_buf b;
    struct tq_err err;
    struct json_object *o = NULL;

    tq_buf_init(&b, 1 << 16);
    assert_int_equal(tq_event_to_stix(e, NULL, &b, &err), TQ_OK);
    assert_true(stix_ok(b.ptr, b.len, true));
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err), TQ_OK);
    (void)snprintf(out, 64, "%s", json_object_get_string(json_object_object_get(o, "id")));
    json_object_put(o);
    tq_buf_cleanup(&b);
}

static void ids_deterministic(void **state)
{
    struct tq_event e = sample();
    char a[64], b[64], c[64], d[64];

    (void)state;
    id_of(&e, a);
    e.line = 99; /* where the row was is not what it says */
    id_of(&e, b);
    assert_string_equal(a, b);
    e.lat = 34.3787;
    id_of(&e, c);
    assert_string_not_equal(a, c);
    /* with a source id, only source and id count */
    e.source_id = "E-17";
    id_of(&e, c);
    e.lat = 10;
    id_of(&e, d);
    assert_string_equal(c, d);
    e.source = "other.csv";
    id_of(&e, d);
    assert_string_not_equal(c, d);
    /* UUIDv5 of "ucdp-ged:114064" under the tansiq namespace (Python's uuid.uuid5) */
    e.source = "ucdp-ged";
    e.source_id = "114064";
    id_of(&e, d);
    assert_string_equal(d, "incident--"
                           "3526f1d6-3cdd-5710-a544-c7e9cbf0430e");
}

static void to_stix_refuses(void **state)
{
    struct tq_event e = sample();
    struct tq_buf b;
    struct tq_err err;

    (void)state;
    tq_buf_init(&b, 1 << 16);
    e.lat = NAN;
    assert_int_equal(tq_event_to_stix(&e, NULL, &b, &err), TQ_EINVAL);
    e = sample();
    e.lon = 181;
    assert_int_equal(tq_event_to_stix(&e, NULL, &b, &err), TQ_EINVAL);
    e = sample();
    e.kind = "Seizure";
    assert_int_equal(tq_event_to_stix(&e, NULL, &b, &err), TQ_EINVAL);
    e = sample();
    e.end_us = e.start_us - 1;
    assert_int_equal(tq_event_to_stix(&e, NULL, &b, &err), TQ_EINVAL);
    e = sample();
    assert_int_equal(
        tq_event_to_stix(&e, "indicator--2d1a4a1e-7c1b-4a8e-9f4e-0c6a1b2c3d4e", &b, &err),
        TQ_EINVAL);
    assert_int_equal(b.len, 0);
    tq_buf_cleanup(&b);
    /* a full buffer leaves it as it was */
    tq_buf_init(&b, 100);
    assert_int_equal(tq_buf_append_c(&b, "keep"), TQ_OK);
    assert_int_equal(tq_event_to_stix(&e, AUTHOR, &b, &err), TQ_ETOOBIG);
    assert_string_equal(b.ptr, "keep");
    tq_buf_cleanup(&b);
}

static void point_roundtrip(void **state)
{
    struct tq_event e = sample();
    struct tq_buf b;
    struct tq_err err;
    struct json_object *o = NULL;
    struct tq_event_point p;

    (void)state;
    tq_buf_init(&b, 1 << 16);
    e.lon = -0.1234567890123;
    e.lat = 1e-7;
    assert_int_equal(tq_event_to_stix(&e, AUTHOR, &b, &err), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err), TQ_OK);
    assert_true(tq_event_point_of(o, &p));
    assert_string_equal(p.kind, "seizure");
    assert_true(p.lon == e.lon && p.lat == e.lat); /* exactly: shortest round-trip digits */
    assert_int_equal(p.where_prec, 1);
    assert_true(p.start_us == e.start_us);
    json_object_put(o);
    tq_buf_cleanup(&b);
}

static void point_refusals(void **state)
{
    static const char *const bad[] = {
        /* no extension */
        "{\"type\":\"incident\",\"name\":\"x\"}",
        /* another extension */
        "{\"type\":\"incident\",\"extensions\":{\"" TQ_EXT_SEIZURE "\":{\"kind\":\"attack\","
        "\"latitude\":1,\"longitude\":2}}}",
        /* out of range, wrong types, no kind, bad start */
        "{\"type\":\"incident\",\"extensions\":{\"" TQ_EXT_INCIDENT "\":{\"kind\":\"attack\","
        "\"latitude\":91,\"longitude\":2}}}",
        "{\"type\":\"incident\",\"extensions\":{\"" TQ_EXT_INCIDENT "\":{\"kind\":\"attack\","
        "\"latitude\":1,\"longitude\":-180.5}}}",
        "{\"type\":\"incident\",\"extensions\":{\"" TQ_EXT_INCIDENT "\":{\"kind\":\"attack\","
        "\"latitude\":\"1\",\"longitude\":2}}}",
        "{\"type\":\"incident\",\"extensions\":{\"" TQ_EXT_INCIDENT "\":{\"latitude\":1,"
        "\"longitude\":2}}}",
        "{\"type\":\"incident\",\"extensions\":{\"" TQ_EXT_INCIDENT "\":{\"kind\":\"attack\","
        "\"latitude\":1,\"longitude\":2,\"start\":\"yesterday\"}}}",
        "{\"type\":\"incident\",\"extensions\":{\"" TQ_EXT_INCIDENT "\":{\"kind\":\"attack\","
        "\"latitude\":1,\"longitude\":2,\"where_prec\":1.5}}}",
        /* a type that carries no point */
        "{\"type\":\"indicator\",\"extensions\":{\"" TQ_EXT_INCIDENT "\":{\"kind\":\"attack\","
        "\"latitude\":1,\"longitude\":2}}}",
        "[]",
    };
    struct tq_event_point p;
    struct tq_err err;

    (void)state;
    assert_false(tq_event_point_of(NULL, &p));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct json_object *o = NULL;

        assert_int_equal(tq_json_parse(tq_str_c(bad[i]), &o, &err), TQ_OK);
        if (tq_event_point_of(o, &p))
            fail_msg("case %zu accepted", i);
        json_object_put(o);
    }
    {
        struct json_object *o = NULL;

        assert_int_equal(
            tq_json_parse(TQ_STR("{\"type\":\"sighting\",\"extensions\":{\"" TQ_EXT_INCIDENT
                                 "\":{\"kind\":\"sighting\",\"latitude\":-90,"
                                 "\"longitude\":180}}}"),
                          &o, &err),
            TQ_OK);
        assert_true(tq_event_point_of(o, &p));
        assert_true(p.start_us == TQ_EVENT_TIME_UNKNOWN && p.lat == -90 && p.lon == 180);
        json_object_put(o);
    }
}

static void kind_vocabulary(void **state)
{
    (void)state;
    assert_string_equal(tq_event_kind_normal(" Seizure "), "seizure");
    assert_string_equal(tq_event_kind_normal("Explosions/Remote violence"), "explosion");
    assert_string_equal(tq_event_kind_normal("violence against civilians"), "attack");
    assert_null(tq_event_kind_normal("riot"));
    assert_null(tq_event_kind_normal(NULL));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ucdp_iraq_file),
        cmocka_unit_test(definitions_validate),
        cmocka_unit_test(new_scos_validate),
        cmocka_unit_test(geojson_happy),
        cmocka_unit_test(geojson_bad),
        cmocka_unit_test(csv_orders_and_delimiters),
        cmocka_unit_test(csv_quantities_and_options),
        cmocka_unit_test(csv_bad_rows),
        cmocka_unit_test(csv_repairs),
        cmocka_unit_test(file_errors),
        cmocka_unit_test(callback_stops),
        cmocka_unit_test(ucdp_small),
        cmocka_unit_test(ids_deterministic),
        cmocka_unit_test(to_stix_refuses),
        cmocka_unit_test(point_roundtrip),
        cmocka_unit_test(point_refusals),
        cmocka_unit_test(kind_vocabulary),
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("events", tests, NULL, NULL);
    if (skipped)
        print_message("events: %zu data-dependent case(s) skipped (TANSIQ_TESTDATA=%s)\n", skipped,
                      testdata());
    return failed;
}
