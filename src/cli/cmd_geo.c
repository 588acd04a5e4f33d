/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_geo.c - `tansiq geo ...` (administrative boundaries, the border, tagging a point) and
 * `tansiq events import` (georeferenced event files as STIX incidents).
 *
 * Boundaries are parsed and repaired by geo (tq_geo_units_parse), kept in the store, and every
 * incident already kept is tagged again with them. Event files become STIX objects through
 * events (tq_events_parse, tq_event_to_stix) and enter the collection through ingest like any
 * import: released, synced and logged like any other object. A point outside every unit whose
 * swap falls inside one is stored swapped back, and said so.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tansiq/alerts.h"
#include "tansiq/events.h"
#include "tansiq/geo.h"
#include "tansiq/ingest.h"

#define GEO_FILE_MAX ((size_t)256 << 20)

/* ---- geo import ------------------------------------------------------------------------- */

static int run_geo_import(struct cli_ctx *c)
{
    struct tq_geo_fields f = {
        .country_pcode = cli_opt(c, "country-pcode-field"),
        .country_en = cli_opt(c, "country-en-field"),
        .country_ar = cli_opt(c, "country-ar-field"),
        .pcode = cli_opt(c, "pcode-field"),
        .name_en = cli_opt(c, "name-en-field"),
        .name_ar = cli_opt(c, "name-ar-field"),
    };
    struct tq_geo_parse_report rep = {0};
    struct tq_geo_unit *units = NULL;
    struct tq_monitor *mon = tq_node_monitor(c->node);
    struct tq_err err = {0};
    struct tq_buf text;
    size_t n = 0, retagged = 0;
    int status = CLI_OK;
    tq_rc rc;

    rc = cli_read_input(c->argv[0], GEO_FILE_MAX, &text, &err);
    if (rc)
        return cli_fail(c->argv[0], rc, &err);
    rc = tq_geo_units_parse((struct tq_str){text.ptr, text.len}, &f, &units, &n, &rep, &err);
    tq_buf_cleanup(&text);
    if (rc)
        return cli_fail(c->argv[0], rc, &err);
    if (n == 0) {
        fprintf(stderr, "tansiq: %s: no administrative unit (%zu features, %zu skipped)\n",
                c->argv[0], rep.features, rep.skipped);
        tq_geo_units_free(units, n);
        return CLI_REFUSED;
    }
    rc = tq_monitor_geo_import(mon, units, n, c->argv[0], &retagged, &err);
    if (rc) {
        status = cli_fail("geo import", rc, &err);
    } else if (c->common.json) {
        printf("{\"units\":%zu,\"features\":%zu,\"repaired\":%zu,\"skipped\":%zu,"
               "\"incidents_retagged\":%zu}\n",
               n, rep.features, rep.repaired, rep.skipped, retagged);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%-10s %-4s %s%s\n", units[i].pcode, units[i].level ? "adm1" : "adm0",
                   units[i].name_en ? units[i].name_en : "-",
                   units[i].repaired ? "  (invalid geometry repaired)" : "");
        printf("kept %zu units (%zu features, %zu repaired, %zu skipped); %zu incidents "
               "tagged again\n",
               n, rep.features, rep.repaired, rep.skipped, retagged);
    }
    tq_geo_units_free(units, n);
    return status;
}

static int run_geo_list(struct cli_ctx *c)
{
    struct tq_store_geo_unit *u = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    tq_rc rc;

    rc = tq_store_geo_units_list(tq_node_store(c->node), &u, &n, &err);
    if (rc)
        return cli_fail("geo list", rc, &err);
    if (c->common.json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (c->common.json) {
            printf("%s{\"pcode\":", i ? "," : "");
            cli_json_str(stdout, u[i].pcode);
            printf(",\"level\":%d,\"country\":", u[i].level);
            cli_json_str(stdout, u[i].country_pcode);
            printf(",\"name_en\":");
            cli_json_str(stdout, u[i].name_en);
            printf(",\"name_ar\":");
            cli_json_str(stdout, u[i].name_ar);
            printf(",\"repaired\":%s}", u[i].repaired ? "true" : "false");
        } else {
            printf("%-10s %-4s %-6s %-28s %s\n", u[i].pcode, u[i].level ? "adm1" : "adm0",
                   u[i].country_pcode ? u[i].country_pcode : "-", u[i].name_en ? u[i].name_en : "-",
                   u[i].name_ar ? u[i].name_ar : "");
        }
    }
    if (c->common.json)
        printf("]\n");
    tq_store_geo_units_free(u, n);
    return CLI_OK;
}

static int run_geo_border(struct cli_ctx *c)
{
    struct tq_err err = {0};
    struct tq_buf out;
    tq_rc rc;

    tq_buf_init(&out, (size_t)64 << 20);
    rc = tq_monitor_geo_geojson(tq_node_monitor(c->node), true, 0, &out, &err);
    if (rc == TQ_OK)
        printf("%.*s\n", (int)out.len, out.ptr);
    tq_buf_cleanup(&out);
    return rc ? cli_fail("geo border", rc, &err) : CLI_OK;
}

static bool parse_double(const char *s, double *out)
{
    char *end;

    *out = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*out);
}

static int run_geo_tag(struct cli_ctx *c)
{
    struct tq_err err = {0};
    struct tq_buf out;
    double lat, lon;
    tq_rc rc;

    if (!parse_double(c->argv[0], &lat) || !parse_double(c->argv[1], &lon))
        return cli_usage(c);
    tq_buf_init(&out, 1 << 16);
    rc = tq_monitor_tag_describe(tq_node_monitor(c->node), lon, lat, c->common.json, &out, &err);
    if (rc == TQ_OK)
        printf("%.*s\n", (int)out.len, out.ptr);
    tq_buf_cleanup(&out);
    return rc ? cli_fail("geo tag", rc, &err) : CLI_OK;
}

static const struct cli_opt geo_import_opts[] = {{"country-pcode-field", true},
                                                 {"country-en-field", true},
                                                 {"country-ar-field", true},
                                                 {"pcode-field", true},
                                                 {"name-en-field", true},
                                                 {"name-ar-field", true},
                                                 {NULL, false}};
static const struct cli_opt none_opts[] = {{NULL, false}};

static const struct cli_cmd geo_cmds[] = {
    {"import",
     "geo import FILE [--pcode-field F] [--name-en-field F] [--name-ar-field F]\n"
     " [--country-pcode-field F] [--country-en-field F] [--country-ar-field F]",
     geo_import_opts, 1, 1, CLI_NODE,
     "Load administrative boundaries from a GeoJSON FeatureCollection of Polygons and\n"
     "MultiPolygons. The OCHA COD-AB fields are read by default: ADM1_PCODE, ADM1_EN, ADM1_AR\n"
     "for a governorate and ADM0_PCODE, ADM0_EN, ADM0_AR for its country (a file of country\n"
     "outlines has only the ADM0 fields). Invalid polygons are repaired and said so. Units are\n"
     "kept by P-code (a newer file replaces them), and every kept incident is tagged again.\n",
     NULL, run_geo_import},
    {"list", "geo list", none_opts, 0, 0, CLI_NODE, "The units kept, by P-code.\n", NULL,
     run_geo_list},
    {"border", "geo border", none_opts, 0, 0, CLI_NODE,
     "The international border between the loaded countries, as GeoJSON.\n", NULL, run_geo_border},
    {"tag", "geo tag LAT LON", none_opts, 2, 2, CLI_NODE,
     "The country, governorate and border distance of one point.\n", NULL, run_geo_tag},
};

const struct cli_family cli_geo = {
    .name = "geo",
    .summary = "administrative boundaries, the border, tagging points",
    .help = "Governorates and the border between the partners' countries, from the boundaries\n"
            "loaded with 'geo import'. Every incident is tagged with its country, governorate\n"
            "(P-code, English and Arabic name) and distance to the border.\n",
    .cmds = geo_cmds,
    .n_cmds = CLI_N(geo_cmds),
};

/* ---- events import ---------------------------------------------------------------------- */

struct ev_ctx {
    struct tq_monitor *mon;
    const char *file;
    const char *creator;
    struct tq_buf bundle;
    size_t n, swapped, problems;
    bool quiet;
    tq_rc rc;
};

static void ev_problem(void *ud, size_t line, const char *what)
{
    struct ev_ctx *x = ud;

    x->problems++;
    fprintf(stderr, "%s:%zu: %s\n", x->file, line, what);
}

static tq_rc ev_one(void *ud, const struct tq_event *e)
{
    struct ev_ctx *x = ud;
    struct tq_event fixed = *e;
    struct tq_geo_tag t;
    struct tq_err err = {0};
    tq_rc rc;

    /* A point outside both countries whose swap lies inside one: the file swapped them. */
    if (tq_monitor_tag(x->mon, e->lon, e->lat, &t, NULL) == TQ_OK && (t.flags & TQ_GEO_SWAPPED)) {
        fixed.lon = t.lon;
        fixed.lat = t.lat;
        x->swapped++;
        fprintf(stderr,
                "%s:%zu: latitude and longitude swapped: %.5f, %.5f lies outside every unit "
                "and its swap inside one; stored as %.5f N %.5f E\n",
                x->file, e->line, e->lat, e->lon, t.lat, t.lon);
    }
    if (x->n)
        tq_buf_append_c(&x->bundle, ",");
    rc = tq_event_to_stix(&fixed, x->creator, &x->bundle, &err);
    if (rc) {
        ev_problem(x, e->line, err.msg);
        return TQ_OK;
    }
    x->n++;
    return TQ_OK;
}

/* The node's extension-definitions, in its "node" collection (present already: unchanged). */
static tq_rc publish_definitions(struct tq_store *store, struct tq_err *err)
{
    struct tq_collection about = {0};
    struct tq_ingest_stats st = {0};
    const char *defs = tq_events_definitions_json();
    tq_rc rc;

    rc = tq_store_collection_get(store, "node", &about, err);
    if (rc == TQ_OK)
        rc = tq_ingest_text(store, about.id, tq_str_c(defs), 0, NULL, &st, err);
    if (rc == TQ_OK && st.rejected)
        rc = tq_err_set(err, TQ_ESTIX, "events: the node's extension-definitions do not validate");
    tq_collection_cleanup(&about);
    return rc;
}

static int run_events_import(struct cli_ctx *c)
{
    const char *format = cli_has(c, "format") ? cli_opt(c, "format") : "csv";
    const char *collection = cli_has(c, "collection") ? cli_opt(c, "collection") : "shared";
    struct tq_events_options o = {0};
    struct tq_events_stats es = {0};
    struct tq_ingest_stats st = {0};
    struct tq_collection col = {0};
    struct ev_ctx x = {0};
    struct tq_store *store = tq_node_store(c->node);
    struct tq_err err = {0};
    struct tq_buf text;
    int status = CLI_OK;
    tq_rc rc;

    if (strcmp(format, "ucdp") == 0)
        o.format = TQ_EVENTS_UCDP;
    else if (strcmp(format, "geojson") == 0)
        o.format = TQ_EVENTS_GEOJSON;
    else if (strcmp(format, "csv") == 0)
        o.format = TQ_EVENTS_CSV;
    else
        return cli_usage(c);
    rc = tq_store_collection_get(store, collection, &col, &err);
    if (rc)
        return cli_fail("collection", rc, &err);
    rc = publish_definitions(store, &err);
    if (rc == TQ_OK)
        rc = cli_read_input(c->argv[0], GEO_FILE_MAX, &text, &err);
    if (rc) {
        status = cli_fail(c->argv[0], rc, &err);
        goto out;
    }
    x.mon = tq_node_monitor(c->node);
    x.file = c->argv[0];
    x.quiet = c->common.json;
    tq_buf_init(&x.bundle, (size_t)2 << 30);
    tq_buf_append_c(&x.bundle, "[");
    o.problem = ev_problem;
    o.ud = &x;
    rc = tq_events_parse((struct tq_str){text.ptr, text.len}, &o, ev_one, &x, &es, &err);
    tq_buf_cleanup(&text);
    tq_buf_append_c(&x.bundle, "]");
    if (rc == TQ_OK && x.n)
        rc = tq_ingest_text(store, col.id, (struct tq_str){x.bundle.ptr, x.bundle.len}, 0, NULL,
                            &st, &err);
    tq_buf_cleanup(&x.bundle);
    if (rc) {
        status = cli_fail(c->argv[0], rc, &err);
        goto out;
    }
    if (c->common.json)
        printf("{\"events\":%zu,\"stored\":%zu,\"already_present\":%zu,\"rejected\":%zu,"
               "\"skipped\":%zu,\"swapped\":%zu}\n",
               x.n, st.stored, st.present, st.rejected, x.problems, x.swapped);
    else
        printf("%zu events: stored %zu, already present %zu, rejected %zu; %zu rows skipped or "
               "repaired, %zu swapped back\n",
               x.n, st.stored, st.present, st.rejected, x.problems, x.swapped);
    status = st.rejected ? CLI_REFUSED : CLI_OK;
out:
    tq_collection_cleanup(&col);
    return status;
}

static const struct cli_opt events_import_opts[] = {
    {"format", true}, {"collection", true}, {NULL, false}};

static const struct cli_cmd events_cmds[] = {
    {"import", "events import FILE [--format ucdp|geojson|csv] [--collection ID|ALIAS]",
     events_import_opts, 1, 1, CLI_NODE,
     "Turn a file of georeferenced events into STIX incidents (with the node's incident and\n"
     "seizure extensions) and store them in the collection (default 'shared'), where they are\n"
     "tagged, released, synced and logged like any object. Formats: ucdp (UCDP GED CSV, with\n"
     "its HXL tag row), geojson (Point features), csv (latitude, longitude, time and kind\n"
     "columns in any order, by header name; ',', ';', TAB or '|'). Rows that cannot be read\n"
     "are skipped and reported with their line; re-importing a file stores nothing new.\n",
     NULL, run_events_import},
};

const struct cli_family cli_events = {
    .name = "events",
    .summary = "import georeferenced event files as STIX incidents",
    .help = NULL,
    .cmds = events_cmds,
    .n_cmds = CLI_N(events_cmds),
};
