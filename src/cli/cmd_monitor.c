/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_monitor.c - border monitoring from the command line: `tansiq incidents` (GeoJSON),
 * `tansiq hotspots`, `tansiq correlate VALUE` (who else has seen it) and `tansiq alert ...`
 * (rules, the alerts they raised, acknowledging them, evaluating the hotspot rules now).
 *
 * The command line is the node's operator: it reads everything the node holds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tansiq/alerts.h"
#include "tansiq/correl.h"

#define OUT_MAX ((size_t)1 << 30)

static bool parse_time(const char *s, int64_t *out)
{
    return s && tq_time_parse(tq_str_c(s), out, NULL) == TQ_OK;
}

struct inc_text {
    size_t n;
    int64_t last_at, last_iid;
};

static tq_rc incident_line(void *ud, const struct tq_store_incident *r)
{
    struct inc_text *x = ud;
    char at[TQ_TIME_STR_MAX], km[32] = "-";

    tq_time_format(r->at_us, at);
    if (r->border_m >= 0)
        snprintf(km, sizeof(km), "%.1f km", (double)r->border_m / 1000.0);
    printf("%s %-10s %9.5f %10.5f %-6s %-8s %-20s %10s %s\n", at, r->kind, r->lat_e7 / 1e7,
           r->lon_e7 / 1e7, r->country ? r->country : "-", r->adm1_pcode ? r->adm1_pcode : "-",
           r->adm1_en ? r->adm1_en : "-", km, r->origin ? r->origin : "");
    x->n++;
    x->last_at = r->at_us;
    x->last_iid = r->iid;
    return TQ_OK;
}

static int run_incidents(struct cli_ctx *c)
{
    struct tq_store_incident_query q = {0};
    struct tq_incidents_page page = {0};
    struct inc_text x = {0};
    const char *limit = cli_opt(c, "limit");
    size_t total = 0, max = limit ? strtoul(limit, NULL, 10) : SIZE_MAX;
    struct tq_err err = {0};
    struct tq_buf out;
    bool more = false;
    tq_rc rc = TQ_OK;

    if ((cli_has(c, "bbox") && !tq_incidents_bbox_parse(cli_opt(c, "bbox"), &q)) ||
        (cli_has(c, "since") && !parse_time(cli_opt(c, "since"), &q.since_us)) ||
        (cli_has(c, "until") && !parse_time(cli_opt(c, "until"), &q.until_us)) || max == 0)
        return cli_usage(c);
    q.kind = cli_opt(c, "kind");
    q.adm1_pcode = cli_opt(c, "adm1");
    q.origin = cli_opt(c, "source");
    q.with_json = cli_has(c, "stix");
    tq_buf_init(&out, OUT_MAX);
    if (c->common.json)
        printf("{\"type\":\"FeatureCollection\",\"features\":[");
    do {
        q.limit = max - total < 1000 ? max - total : 1000;
        if (c->common.json) {
            tq_buf_reset(&out);
            rc = tq_incidents_geojson(tq_node_store(c->node), &q, false, &out, &page, &err);
            if (rc == TQ_OK && page.n)
                printf("%s%.*s", total ? "," : "", (int)out.len, out.ptr);
            more = page.more;
            total += page.n;
            q.cursor_at_us = page.next_at_us;
            q.cursor_iid = page.next_iid;
        } else {
            x.n = 0;
            rc = tq_store_incidents(tq_node_store(c->node), &q, incident_line, &x, &more, &err);
            total += x.n;
            q.cursor_at_us = x.last_at;
            q.cursor_iid = x.last_iid;
        }
        q.has_cursor = true;
    } while (rc == TQ_OK && more && total < max);
    if (c->common.json)
        printf("]}\n");
    tq_buf_cleanup(&out);
    if (rc)
        return cli_fail("incidents", rc, &err);
    if (!c->common.json)
        printf("%zu incidents\n", total);
    return CLI_OK;
}

static int run_hotspots(struct cli_ctx *c)
{
    struct tq_hot_options o;
    struct tq_hot_result *r = NULL;
    struct tq_err err = {0};
    struct tq_buf out;
    const char *cell = cli_opt(c, "cell-km");
    tq_rc rc;

    tq_monitor_hot_defaults(&o);
    if (cell)
        o.grid.cell_km = strtod(cell, NULL);
    if (cli_has(c, "square"))
        o.grid.kind = TQ_GRID_SQUARE;
    if (cli_has(c, "at") && !parse_time(cli_opt(c, "at"), &o.end_us))
        return cli_usage(c);
    rc = tq_monitor_hotspots(tq_node_monitor(c->node), NULL, &o, &r, &err);
    if (rc)
        return cli_fail("hotspots", rc, &err);
    tq_buf_init(&out, OUT_MAX);
    if (c->common.json) {
        rc = tq_hotspot_geojson(r, &o, !cli_has(c, "all-windows"), &out, &err);
        if (rc == TQ_OK)
            printf("%.*s\n", (int)out.len, out.ptr);
    } else {
        size_t hot = 0;

        for (size_t i = 0; i < r->n_cells; i++)
            hot += r->cells[i].hot;
        printf("%zu hot cells over the windows analysed, %zu corridors\n", hot, r->n_corridors);
        for (size_t i = 0; i < r->n_corridors; i++) {
            char at[TQ_TIME_STR_MAX];

            tq_time_format(r->corridors[i].first_us, at);
            printf("  corridor %u: %zu cells, %.0f km, heading %.0f degrees, since %s\n",
                   r->corridors[i].id, r->corridors[i].n_cells, r->corridors[i].length_km,
                   r->corridors[i].direction_deg, at);
        }
    }
    tq_buf_cleanup(&out);
    tq_hot_result_free(r);
    return rc ? cli_fail("hotspots", rc, &err) : CLI_OK;
}

/* ---- correlate -------------------------------------------------------------------------- */

struct seen_ctx {
    bool json;
    size_t n;
};

static tq_rc seen_row(void *ud, const struct tq_store_sighting *s)
{
    struct seen_ctx *x = ud;
    char at[TQ_TIME_STR_MAX];

    tq_time_format_ms(s->date_added_us, at);
    if (x->json) {
        printf("%s{\"id\":", x->n ? "," : "");
        cli_json_str(stdout, s->object_id);
        printf(",\"type\":");
        cli_json_str(stdout, s->type);
        printf(",\"collection\":\"%s\",\"date_added\":\"%s\",\"source\":", s->collection_id, at);
        cli_json_str(stdout, s->origin);
        printf("}");
    } else {
        printf("%-60s %-36s %s %s\n", s->object_id, s->collection_id, at,
               s->origin ? s->origin : "(this node)");
    }
    x->n++;
    return TQ_OK;
}

static int run_correlate(struct cli_ctx *c)
{
    struct tq_correl_options o = {.default_region = cli_opt(c, "region")};
    struct tq_correl_value v;
    struct seen_ctx x = {c->common.json, 0};
    const char *kind = cli_opt(c, "kind");
    struct tq_err err = {0};
    bool more = false, ok;
    enum tq_correl_kind k;
    tq_rc rc;

    if (kind && !tq_correl_kind_parse(kind, &k))
        return cli_usage(c);
    ok = kind ? tq_correl_normalise(k, c->argv[0], strlen(c->argv[0]), &o, &v)
              : tq_correl_normalise_any(c->argv[0], strlen(c->argv[0]), &o, &v);
    if (!ok) {
        fprintf(stderr, "tansiq: '%s' is not a value tansiq indexes%s%s\n", c->argv[0],
                kind ? " as " : "", kind ? kind : "");
        return CLI_REFUSED;
    }
    if (c->common.json) {
        printf("{\"kind\":\"%s\",\"value\":", tq_correl_kind_name(v.kind));
        cli_json_str(stdout, v.value);
        printf(",\"seen\":[");
    } else {
        printf("%s %s\n", tq_correl_kind_name(v.kind), v.value);
    }
    rc = tq_store_correl_find(tq_node_store(c->node), NULL, (int)v.kind, v.value, 1000, seen_row,
                              &x, &more, &err);
    if (c->common.json)
        printf("],\"more\":%s}\n", more ? "true" : "false");
    if (rc)
        return cli_fail("correlate", rc, &err);
    if (!c->common.json)
        printf("seen in %zu object versions%s\n", x.n, more ? " (and more)" : "");
    return x.n ? CLI_OK : CLI_REFUSED;
}

/* ---- alert rules and alerts ------------------------------------------------------------- */

static int run_alert_add(struct cli_ctx *c)
{
    struct tq_store_alert_rule r = {0};
    const char *kind = cli_opt(c, "kind");
    const char *params = cli_has(c, "params") ? cli_opt(c, "params") : NULL;
    struct tq_buf p;
    struct tq_err err = {0};
    char *canon = NULL;
    int64_t id = 0;
    tq_rc rc;

    if (!kind)
        return cli_usage(c);
    /* The common parameters as options, or the JSON object itself with --params. */
    tq_buf_init(&p, 4096);
    if (!params) {
        const char *within = cli_opt(c, "within-km"), *pcode = cli_opt(c, "pcode");
        const char *ik = cli_opt(c, "incident-kind"), *vk = cli_opt(c, "value-kind");
        const char *cell = cli_opt(c, "cell-km"), *list = cli_opt(c, "list");
        bool first = true;

        tq_buf_append_c(&p, "{");
#define ADD_NUM(key, v)                                                                            \
    if (v) {                                                                                       \
        tq_buf_printf(&p, "%s\"%s\":%s", first ? "" : ",", key, v);                                \
        first = false;                                                                             \
    }
#define ADD_STR(key, v, arr)                                                                       \
    if (v) {                                                                                       \
        tq_buf_printf(&p, "%s\"%s\":%s", first ? "" : ",", key, arr ? "[" : "");                   \
        tq_buf_append_json_str(&p, v, strlen(v));                                                  \
        tq_buf_append_c(&p, arr ? "]" : "");                                                       \
        first = false;                                                                             \
    }
        ADD_NUM("within_km", within);
        ADD_NUM("cell_km", cell);
        ADD_STR("pcode", pcode, false);
        ADD_STR("list", list, false);
        ADD_STR("kinds", ik, true);
        ADD_STR("values", vk, true);
#undef ADD_NUM
#undef ADD_STR
        tq_buf_append_c(&p, "}");
        params = p.ptr;
    }
    rc = tq_alert_rule_check(kind, params, &canon, &err);
    tq_buf_cleanup(&p);
    if (rc)
        return cli_fail("alert add", rc, &err);
    r.name = c->argv[0];
    r.kind = (char *)kind;
    r.params = canon;
    r.created_by = "cli";
    r.enabled = true;
    rc = tq_store_alert_rule_add(tq_node_store(c->node), &r, &id, &err);
    tq_free(canon);
    if (rc == TQ_OK)
        rc = tq_monitor_changed(tq_node_monitor(c->node), &err);
    if (rc)
        return cli_fail("alert add", rc, &err);
    printf("%s\n", c->argv[0]);
    return CLI_OK;
}

static int run_alert_rules(struct cli_ctx *c)
{
    struct tq_store_alert_rule *r = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    tq_rc rc;

    rc = tq_store_alert_rule_list(tq_node_store(c->node), &r, &n, &err);
    if (rc)
        return cli_fail("alert rules", rc, &err);
    if (c->common.json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (c->common.json) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_str(stdout, r[i].name);
            printf(",\"kind\":");
            cli_json_str(stdout, r[i].kind);
            printf(",\"params\":%s,\"enabled\":%s}", r[i].params, r[i].enabled ? "true" : "false");
        } else {
            printf("%-24s %-12s %s\n", r[i].name, r[i].kind, r[i].params);
        }
    }
    if (c->common.json)
        printf("]\n");
    tq_store_alert_rules_free(r, n);
    return CLI_OK;
}

static int run_alert_remove(struct cli_ctx *c)
{
    struct tq_err err = {0};
    tq_rc rc = tq_store_alert_rule_delete(tq_node_store(c->node), c->argv[0], &err);

    if (rc == TQ_OK)
        rc = tq_monitor_changed(tq_node_monitor(c->node), &err);
    return rc ? cli_fail("alert remove", rc, &err) : CLI_OK;
}

struct list_ctx {
    bool json;
    size_t n;
};

static tq_rc list_row(void *ud, const struct tq_store_alert *a)
{
    struct list_ctx *x = ud;
    struct tq_buf b;
    char at[TQ_TIME_STR_MAX];

    if (x->json) {
        tq_buf_init(&b, 1 << 20);
        if (tq_alert_json(a, &b, NULL) == TQ_OK)
            printf("%s%.*s", x->n ? "," : "", (int)b.len, b.ptr);
        tq_buf_cleanup(&b);
    } else {
        tq_time_format(a->at_us, at);
        printf("%6" PRId64 " %s %-12s %s%s\n", a->id, at, a->kind, a->title,
               a->acked_us ? "  [acknowledged]" : "");
    }
    x->n++;
    return TQ_OK;
}

static int run_alert_list(struct cli_ctx *c)
{
    struct tq_store_alert_query q = {0};
    struct list_ctx x = {c->common.json, 0};
    const char *limit = cli_opt(c, "limit");
    struct tq_err err = {0};
    bool more = false;
    tq_rc rc;

    q.newest_first = true;
    q.unacked_only = cli_has(c, "unacked");
    q.kind = cli_opt(c, "kind");
    q.limit = limit ? strtoul(limit, NULL, 10) : 100;
    if (q.limit == 0 || q.limit > TQ_STORE_INCIDENTS_PAGE_MAX)
        return cli_usage(c);
    if (c->common.json)
        printf("[");
    rc = tq_store_alerts(tq_node_store(c->node), &q, list_row, &x, &more, &err);
    if (c->common.json)
        printf("]\n");
    return rc ? cli_fail("alert list", rc, &err) : CLI_OK;
}

static int run_alert_ack(struct cli_ctx *c)
{
    const char *user = cli_has(c, "as") ? cli_opt(c, "as") : "cli";
    struct tq_err err = {0};
    char *end;
    long long id = strtoll(c->argv[0], &end, 10);
    tq_rc rc;

    if (end == c->argv[0] || *end || id <= 0)
        return cli_usage(c);
    rc = tq_store_alert_ack(tq_node_store(c->node), NULL, id, user, &err);
    return rc ? cli_fail("alert ack", rc, &err) : CLI_OK;
}

static int run_alert_scan(struct cli_ctx *c)
{
    struct tq_err err = {0};
    int64_t at = 0;
    size_t raised = 0;
    tq_rc rc;

    if (cli_has(c, "at") && !parse_time(cli_opt(c, "at"), &at))
        return cli_usage(c);
    rc = tq_monitor_scan(tq_node_monitor(c->node), at, &raised, &err);
    if (rc)
        return cli_fail("alert scan", rc, &err);
    if (c->common.json)
        printf("{\"raised\":%zu}\n", raised);
    else
        printf("%zu new alerts\n", raised);
    return CLI_OK;
}

static const struct cli_opt incidents_opts[] = {{"bbox", true},  {"since", true}, {"until", true},
                                                {"kind", true},  {"adm1", true},  {"source", true},
                                                {"limit", true}, {"stix", false}, {NULL, false}};
static const struct cli_opt hotspots_opts[] = {
    {"cell-km", true}, {"square", false}, {"at", true}, {"all-windows", false}, {NULL, false}};
static const struct cli_opt correlate_opts[] = {{"kind", true}, {"region", true}, {NULL, false}};
static const struct cli_opt alert_add_opts[] = {
    {"kind", true},    {"params", true},        {"within-km", true},
    {"pcode", true},   {"incident-kind", true}, {"value-kind", true},
    {"cell-km", true}, {"list", true},          {NULL, false}};
static const struct cli_opt alert_list_opts[] = {
    {"unacked", false}, {"kind", true}, {"limit", true}, {NULL, false}};
static const struct cli_opt alert_ack_opts[] = {{"as", true}, {NULL, false}};
static const struct cli_opt alert_scan_opts[] = {{"at", true}, {NULL, false}};
static const struct cli_opt none_opts[] = {{NULL, false}};

static const struct cli_cmd incidents_cmds[] = {
    {NULL,
     "incidents [--bbox W,S,E,N] [--since TIME] [--until TIME] [--kind K] [--adm1 PCODE]\n"
     " [--source PARTNER] [--limit N] [--stix] [--json]",
     incidents_opts, 0, 0, CLI_NODE, NULL, NULL, run_incidents},
};

const struct cli_family cli_incidents = {
    .name = "incidents",
    .summary = "incidents on the map, as GeoJSON",
    .help = "The latest version of every located incident, newest first, as a GeoJSON\n"
            "FeatureCollection with --json. Each feature carries country, adm1_pcode, adm1_en,\n"
            "adm1_ar and border_km. --source \"\" keeps this node's own incidents only.\n",
    .cmds = incidents_cmds,
    .n_cmds = CLI_N(incidents_cmds),
};

static const struct cli_cmd hotspots_cmds[] = {
    {NULL, "hotspots [--cell-km N] [--square] [--at TIME] [--all-windows] [--json]", hotspots_opts,
     0, 0, CLI_NODE, NULL, NULL, run_hotspots},
};

const struct cli_family cli_hotspots = {
    .name = "hotspots",
    .summary = "hot cells and corridors over the kept incidents",
    .help = "Aggregate the incidents on a grid (hexagons, 10 km by default) over 7-day windows\n"
            "sliding by a day, flag the cells significantly above their own baseline (false\n"
            "discovery rate 5%), and report the chains of hot cells as corridors. GeoJSON with\n"
            "--json (the latest window's cells unless --all-windows).\n",
    .cmds = hotspots_cmds,
    .n_cmds = CLI_N(hotspots_cmds),
};

static const struct cli_cmd correlate_cmds[] = {
    {NULL,
     "correlate VALUE [--kind phone|plate|wallet|email|ipv4|ipv6|domain|md5|sha1|...]\n"
     " [--region CC] [--json]",
     correlate_opts, 1, 1, CLI_NODE, NULL, NULL, run_correlate},
};

const struct cli_family cli_correlate = {
    .name = "correlate",
    .summary = "who else has seen this value",
    .help = "Normalise a phone number, vehicle plate, wallet, e-mail, IP, domain, file hash or\n"
            "name, and list every object version that mentions it, whoever sent it. Exit 1 when\n"
            "none does.\n",
    .cmds = correlate_cmds,
    .n_cmds = CLI_N(correlate_cmds),
};

static const struct cli_cmd alert_cmds[] = {
    {"add",
     "alert add NAME --kind border|governorate|hotspot|corridor|correlation|screening\n"
     " [--within-km N] [--pcode P] [--incident-kind K] [--value-kind K] [--cell-km N]\n"
     " [--list L] [--params JSON]",
     alert_add_opts, 1, 1, CLI_NODE, NULL, NULL, run_alert_add},
    {"rules", "alert rules [--json]", none_opts, 0, 0, CLI_NODE, NULL, NULL, run_alert_rules},
    {"remove", "alert remove NAME", none_opts, 1, 1, CLI_NODE, NULL, NULL, run_alert_remove},
    {"list", "alert list [--unacked] [--kind K] [--limit N] [--json]", alert_list_opts, 0, 0,
     CLI_NODE, NULL, NULL, run_alert_list},
    {"ack", "alert ack ID [--as USER]", alert_ack_opts, 1, 1, CLI_NODE, NULL, NULL, run_alert_ack},
    {"scan", "alert scan [--at TIME] [--json]", alert_scan_opts, 0, 0, CLI_NODE, NULL, NULL,
     run_alert_scan},
};

const struct cli_family cli_alert = {
    .name = "alert",
    .summary = "alert rules, and the alerts they raised",
    .help = "Rules: border (an incident within --within-km of the border), governorate (in\n"
            "--pcode), hotspot and corridor (a hot cell or a corridor appearing; evaluated by\n"
            "'tansiq serve' every monitor_scan_interval_s, or now by 'alert scan'),\n"
            "correlation (a value also seen in another side's report), screening (a screening\n"
            "hit). --incident-kind and --value-kind narrow a rule. Alerts are listed newest\n"
            "first and acknowledged by id; 'tansiq serve' pushes them to the dashboard live.\n",
    .cmds = alert_cmds,
    .n_cmds = CLI_N(alert_cmds),
};
