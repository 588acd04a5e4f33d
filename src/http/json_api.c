/* SPDX-License-Identifier: Apache-2.0
 *
 * http/json_api.c - the node's own JSON API under /json/, for the dashboard: incidents,
 * hotspots and corridors, alerts, "who else has seen this value", and the boundaries.
 *
 *   GET  /json/incidents?bbox=W,S,E,N&since=T&until=T&kind=K&adm1=P&source=S&limit=N&next=C
 *        a GeoJSON FeatureCollection, newest first, with "more" and "next" (foreign members)
 *   GET  /json/hotspots?cell_km=N&square=1&at=T&all=1   hot cells and corridors, GeoJSON
 *   GET  /json/alerts?after=ID&before=ID&unacked=1&kind=K&limit=N   {"alerts":[...],"more"}
 *   POST /json/alerts/ID/ack                            acknowledge (users only)
 *   GET  /json/correlate?value=V&kind=K                 {"kind","value","seen":[...],"more"}
 *   GET  /json/geo/units?simplify_km=N, /json/geo/border     GeoJSON
 *
 * Users (password or token) and partner nodes (mutual TLS) are served; every answer is read
 * through the store's reader filter, the same rules as TAXII: read permission on the
 * collection, and for a partner a release of the version to it. Nothing is counted outside
 * that filter: a hotspot cell counts only the incidents the caller may see. The boundaries are
 * the node's own reference data and carry nothing a partner sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "tansiq/alerts.h"
#include "tansiq/correl.h"

#define PARAM_MAX 512
#define ANSWER_MAX ((size_t)256 << 20)

struct params {
    char bbox[PARAM_MAX], since[PARAM_MAX], until[PARAM_MAX], kind[PARAM_MAX], adm1[PARAM_MAX],
        source[PARAM_MAX], limit[PARAM_MAX], next[PARAM_MAX], value[PARAM_MAX], after[PARAM_MAX],
        before[PARAM_MAX], cell_km[PARAM_MAX], at[PARAM_MAX], simplify[PARAM_MAX];
    bool has_source, stix, unacked, square, all;
};

/* The query string into p; false (with the reason) for anything malformed or unknown. */
static bool params_parse(struct tq_str q, struct params *p, const char **why)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"bbox", offsetof(struct params, bbox)},
        {"since", offsetof(struct params, since)},
        {"until", offsetof(struct params, until)},
        {"kind", offsetof(struct params, kind)},
        {"adm1", offsetof(struct params, adm1)},
        {"source", offsetof(struct params, source)},
        {"limit", offsetof(struct params, limit)},
        {"next", offsetof(struct params, next)},
        {"value", offsetof(struct params, value)},
        {"after", offsetof(struct params, after)},
        {"before", offsetof(struct params, before)},
        {"cell_km", offsetof(struct params, cell_km)},
        {"at", offsetof(struct params, at)},
        {"simplify_km", offsetof(struct params, simplify)},
    };
    size_t pos = 0;

    memset(p, 0, sizeof(*p));
    if (q.len > 8192) {
        *why = "query string too long";
        return false;
    }
    for (;;) {
        char name[64], val[PARAM_MAX];
        size_t vl;
        bool known = false;
        int more = tq__http_query_next(q, &pos, name, sizeof(name), val, sizeof(val), &vl, why);

        if (more <= 0)
            return more == 0;
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
            if (strcmp(name, fields[f].name) == 0) {
                memcpy((char *)p + fields[f].off, val, vl + 1);
                known = true;
            }
        if (strcmp(name, "source") == 0)
            p->has_source = true;
        if (strcmp(name, "stix") == 0 || strcmp(name, "unacked") == 0 ||
            strcmp(name, "square") == 0 || strcmp(name, "all") == 0) {
            bool on = strcmp(val, "1") == 0 || strcmp(val, "true") == 0;

            if (!on && strcmp(val, "0") != 0 && strcmp(val, "false") != 0) {
                *why = "a flag takes 1, true, 0 or false";
                return false;
            }
            if (name[0] == 's' && name[1] == 't')
                p->stix = on;
            else if (name[0] == 'u')
                p->unacked = on;
            else if (name[0] == 's')
                p->square = on;
            else
                p->all = on;
            known = true;
        }
        if (!known) {
            *why = "an unknown query parameter";
            return false;
        }
    }
}

int tq__http_query_next(struct tq_str q, size_t *pos, char *name, size_t name_size, char *val,
                        size_t val_size, size_t *val_len, const char **why)
{
    while (*pos <= q.len) {
        size_t start = *pos, end = start, eq = 0, nl;
        struct tq_str pair, rn, rv;

        while (end < q.len && q.ptr[end] != '&')
            end++;
        *pos = end + 1;
        pair = (struct tq_str){q.ptr + start, end - start};
        if (pair.len == 0)
            continue;
        while (eq < pair.len && pair.ptr[eq] != '=')
            eq++;
        rn = (struct tq_str){pair.ptr, eq};
        rv = eq < pair.len ? (struct tq_str){pair.ptr + eq + 1, pair.len - eq - 1}
                           : (struct tq_str){pair.ptr + pair.len, 0};
        /* Decoding never lengthens: a raw text shorter than the buffer fits once decoded. */
        if (rn.len >= name_size || rv.len >= val_size ||
            !tq__taxii_pct_decode(rn, name, &nl, true) ||
            !tq__taxii_pct_decode(rv, val, val_len, true) || memchr(val, '\0', *val_len)) {
            *why = "a malformed or too long query parameter";
            return -1;
        }
        name[nl] = val[*val_len] = '\0';
        return 1;
    }
    return 0;
}

bool tq__http_json_query_check(struct tq_str query, const char **why)
{
    struct params p;

    return params_parse(query, &p, why);
}

static bool num_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long v;

    if (!*s)
        return false;
    v = strtoll(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool num_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    if (!*s)
        return false;
    v = strtod(s, &end);
    if (*end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static bool time_param(const char *s, int64_t *out)
{
    return !*s || tq_time_parse(tq_str_c(s), out, NULL) == TQ_OK;
}

/* The reader of the request's principal. */
struct who {
    char key[TQ_AUTH_USER_MAX + 16];
    struct tq_store_reader r;
};

static bool reader_of(const struct tq__http_req *rq, struct who *w)
{
    memset(w, 0, sizeof(*w));
    if (!tq__access_principal_key(&rq->who, w->key, sizeof(w->key)))
        return false;
    w->r.perm_key = w->key;
    w->r.partner = tq__principal_partner(&rq->who);
    return true;
}

static void answer_json(struct tq__http_resp *resp, unsigned status, const char *media,
                        struct tq_buf *body)
{
    resp->status = status;
    resp->media_type = media;
    tq_buf_cleanup(&resp->body);
    resp->body = *body;
    tq_buf_init(body, 0);
}

/* ---- the endpoints ---------------------------------------------------------------------- */

static void get_incidents(struct tq__http_req *rq, const struct params *p, const struct who *w,
                          struct tq__http_resp *resp)
{
    struct tq_store_incident_query q = {0};
    struct tq_incidents_page page;
    struct tq_err err = {0};
    struct tq_buf b;
    int64_t limit = 100;
    tq_rc rc;

    q.reader = &w->r;
    if ((p->bbox[0] && !tq_incidents_bbox_parse(p->bbox, &q)) ||
        !time_param(p->since, &q.since_us) || !time_param(p->until, &q.until_us) ||
        (p->limit[0] && !num_i64(p->limit, 1, 1000, &limit))) {
        tq__http_resp_json_error(resp, 400, "bad bbox (W,S,E,N), since, until or limit (1..1000)");
        return;
    }
    /* next: "<at_us>.<iid>" as this endpoint wrote it; the filter applies again on resume. */
    if (p->next[0]) {
        char next[PARAM_MAX], *dot;

        memcpy(next, p->next, sizeof(next));
        dot = strchr(next, '.');
        if (!dot || !num_i64(dot + 1, 1, INT64_MAX, &q.cursor_iid)) {
            tq__http_resp_json_error(resp, 400, "bad next");
            return;
        }
        *dot = '\0';
        if (!num_i64(next, INT64_MIN, INT64_MAX, &q.cursor_at_us)) {
            tq__http_resp_json_error(resp, 400, "bad next");
            return;
        }
        q.has_cursor = true;
    }
    q.kind = p->kind[0] ? p->kind : NULL;
    q.adm1_pcode = p->adm1[0] ? p->adm1 : NULL;
    q.origin = p->has_source ? p->source : NULL;
    q.limit = (size_t)limit;
    q.with_json = p->stix;
    tq_buf_init(&b, ANSWER_MAX);
    rc = tq_incidents_geojson(rq->srv->taxii.store, &q, false, &b, &page, &err);
    if (rc) {
        tq_buf_cleanup(&b);
        tq__http_resp_json_fail(resp, rc, &err, "json api");
        return;
    }
    {
        struct tq_buf fc;

        tq_buf_init(&fc, ANSWER_MAX);
        tq_buf_append_c(&fc, "{\"type\":\"FeatureCollection\",\"features\":[");
        tq_buf_append(&fc, b.ptr, b.len);
        tq_buf_printf(&fc, "],\"more\":%s", page.more ? "true" : "false");
        if (page.more)
            tq_buf_printf(&fc, ",\"next\":\"%" PRId64 ".%" PRId64 "\"", page.next_at_us,
                          page.next_iid);
        tq_buf_append_c(&fc, "}");
        answer_json(resp, 200, "application/geo+json", &fc);
        tq_buf_cleanup(&fc);
    }
    tq_buf_cleanup(&b);
}

static void get_hotspots(struct tq__http_req *rq, const struct params *p, const struct who *w,
                         struct tq__http_resp *resp)
{
    struct tq_hot_options o;
    struct tq_hot_result *r = NULL;
    struct tq_err err = {0};
    struct tq_buf b;
    tq_rc rc;

    tq_monitor_hot_defaults(&o);
    if ((p->cell_km[0] && !num_double(p->cell_km, 1, 200, &o.grid.cell_km)) ||
        !time_param(p->at, &o.end_us)) {
        tq__http_resp_json_error(resp, 400, "bad cell_km (1..200) or at");
        return;
    }
    if (p->square)
        o.grid.kind = TQ_GRID_SQUARE;
    rc = tq_monitor_hotspots(rq->srv->monitor, &w->r, &o, &r, &err);
    tq_buf_init(&b, ANSWER_MAX);
    if (rc == TQ_OK)
        rc = tq_hotspot_geojson(r, &o, !p->all, &b, &err);
    tq_hot_result_free(r);
    if (rc)
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    else
        answer_json(resp, 200, "application/geo+json", &b);
    tq_buf_cleanup(&b);
}

struct alerts_out {
    struct tq_buf *b;
    size_t n;
};

static tq_rc alert_row(void *ud, const struct tq_store_alert *a)
{
    struct alerts_out *o = ud;

    if (o->n++)
        tq_buf_append_c(o->b, ",");
    return tq_alert_json(a, o->b, NULL);
}

static void get_alerts(struct tq__http_req *rq, const struct params *p, const struct who *w,
                       struct tq__http_resp *resp)
{
    struct tq_store_alert_query q = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    struct alerts_out o;
    int64_t limit = 100;
    bool more = false;
    tq_rc rc;

    q.reader = &w->r;
    if ((p->after[0] && !num_i64(p->after, 0, INT64_MAX, &q.after_id)) ||
        (p->before[0] && !num_i64(p->before, 1, INT64_MAX, &q.before_id)) ||
        (p->limit[0] && !num_i64(p->limit, 1, 1000, &limit))) {
        tq__http_resp_json_error(resp, 400, "bad after, before or limit (1..1000)");
        return;
    }
    q.newest_first = !p->after[0];
    q.unacked_only = p->unacked;
    q.kind = p->kind[0] ? p->kind : NULL;
    q.limit = (size_t)limit;
    tq_buf_init(&b, ANSWER_MAX);
    o = (struct alerts_out){&b, 0};
    tq_buf_append_c(&b, "{\"alerts\":[");
    rc = tq_store_alerts(rq->srv->taxii.store, &q, alert_row, &o, &more, &err);
    tq_buf_printf(&b, "],\"more\":%s}", more ? "true" : "false");
    if (rc)
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    else
        answer_json(resp, 200, "application/json", &b);
    tq_buf_cleanup(&b);
}

static void post_ack(struct tq__http_req *rq, const char *id_text, const struct who *w,
                     struct tq__http_resp *resp)
{
    const char *user = tq__principal_user(&rq->who);
    struct tq_err err = {0};
    int64_t id;
    tq_rc rc;

    if (!user) {
        tq__http_resp_json_error(resp, 403, "alerts are acknowledged by users");
        return;
    }
    if (!num_i64(id_text, 1, INT64_MAX, &id)) {
        tq__http_resp_json_error(resp, 404, "no such alert");
        return;
    }
    rc = tq_store_alert_ack(rq->srv->taxii.store, &w->r, id, user, &err);
    if (rc == TQ_ENOTFOUND)
        tq__http_resp_json_error(resp, 404, "no such alert");
    else if (rc == TQ_EEXIST)
        tq__http_resp_json_error(resp, 409, "already acknowledged");
    else if (rc)
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    else {
        struct tq_buf b;

        tq_buf_init(&b, 256);
        tq_buf_printf(&b, "{\"id\":%" PRId64 ",\"acknowledged\":true}", id);
        answer_json(resp, 200, "application/json", &b);
        tq_buf_cleanup(&b);
    }
}

struct seen_out {
    struct tq_buf *b;
    size_t n;
};

static tq_rc seen_row(void *ud, const struct tq_store_sighting *s)
{
    struct seen_out *o = ud;
    struct tq_buf *b = o->b;
    char at[TQ_TIME_STR_MAX];

    tq_time_format_ms(s->date_added_us, at);
    tq_buf_printf(b, "%s{\"id\":", o->n++ ? "," : "");
    tq_buf_append_json_str(b, s->object_id, strlen(s->object_id));
    tq_buf_printf(b, ",\"type\":");
    tq_buf_append_json_str(b, s->type ? s->type : "", strlen(s->type ? s->type : ""));
    tq_buf_printf(b, ",\"collection\":\"%s\",\"date_added\":\"%s\",\"source\":", s->collection_id,
                  at);
    tq_buf_append_json_cstr(b, s->origin);
    return tq_buf_append_c(b, "}");
}

static void get_correlate(struct tq__http_req *rq, const struct params *p, const struct who *w,
                          struct tq__http_resp *resp)
{
    struct tq_correl_value v;
    struct tq_correl_options co = {0};
    enum tq_correl_kind k;
    struct tq_err err = {0};
    struct tq_buf b;
    struct seen_out o;
    bool more = false, ok;
    tq_rc rc;

    if (p->kind[0] && !tq_correl_kind_parse(p->kind, &k)) {
        tq__http_resp_json_error(resp, 400, "unknown value kind");
        return;
    }
    ok = p->kind[0] ? tq_correl_normalise(k, p->value, strlen(p->value), &co, &v)
                    : tq_correl_normalise_any(p->value, strlen(p->value), &co, &v);
    if (!ok) {
        tq__http_resp_json_error(resp, 400, "not a value that is indexed");
        return;
    }
    tq_buf_init(&b, ANSWER_MAX);
    o = (struct seen_out){&b, 0};
    tq_buf_printf(&b, "{\"kind\":\"%s\",\"value\":", tq_correl_kind_name(v.kind));
    tq_buf_append_json_str(&b, v.value, strlen(v.value));
    tq_buf_append_c(&b, ",\"seen\":[");
    rc = tq_store_correl_find(rq->srv->taxii.store, &w->r, (int)v.kind, v.value, 1000, seen_row, &o,
                              &more, &err);
    tq_buf_printf(&b, "],\"more\":%s}", more ? "true" : "false");
    if (rc)
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    else
        answer_json(resp, 200, "application/json", &b);
    tq_buf_cleanup(&b);
}

static void get_geo(struct tq__http_req *rq, const struct params *p, bool border,
                    struct tq__http_resp *resp)
{
    struct tq_err err = {0};
    double simplify = 0;
    struct tq_buf b;
    tq_rc rc;

    if (p->simplify[0] && !num_double(p->simplify, 0, 50, &simplify)) {
        tq__http_resp_json_error(resp, 400, "bad simplify_km (0..50)");
        return;
    }
    tq_buf_init(&b, ANSWER_MAX);
    rc = tq_monitor_geo_geojson(rq->srv->monitor, border, simplify, &b, &err);
    if (rc)
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    else
        answer_json(resp, 200, "application/geo+json", &b);
    tq_buf_cleanup(&b);
}

static void json_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    const char *path = rq->target + strlen("/json/");
    size_t plen = strcspn(path, "?");
    bool post = rq->method == TQ_METHOD_POST;
    const char *why = NULL;
    struct params p;
    struct who w;

#define IS(s) (plen == strlen(s) && strncmp(path, s, plen) == 0)
    /* The dashboard's own reads (json_dash.c) need no monitor and take their own parameters. */
    if (tq__http_dash_complete(rq, resp))
        return;
    if (!rq->srv->monitor) {
        tq__http_resp_json_error(resp, 404, "no monitoring on this server");
        return;
    }
    if (!reader_of(rq, &w)) {
        tq__http_resp_json_error(resp, 403, "not permitted");
        return;
    }
    if (!params_parse(rq->query, &p, &why)) {
        tq__http_resp_json_error(resp, 400, why);
        return;
    }
    if (post) {
        /* alerts/ID/ack */
        if (plen > 11 && strncmp(path, "alerts/", 7) == 0 &&
            strncmp(path + plen - 4, "/ack", 4) == 0 && plen - 11 < 24) {
            char id[24];

            memcpy(id, path + 7, plen - 11);
            id[plen - 11] = '\0';
            post_ack(rq, id, &w, resp);
        } else {
            tq__http_resp_json_error(resp, 405, "only alerts/ID/ack takes POST");
        }
        return;
    }
    if (IS("incidents"))
        get_incidents(rq, &p, &w, resp);
    else if (IS("hotspots"))
        get_hotspots(rq, &p, &w, resp);
    else if (IS("alerts"))
        get_alerts(rq, &p, &w, resp);
    else if (IS("correlate"))
        get_correlate(rq, &p, &w, resp);
    else if (IS("geo/units"))
        get_geo(rq, &p, false, resp);
    else if (IS("geo/border"))
        get_geo(rq, &p, true, resp);
    else
        tq__http_resp_json_error(resp, 404, "no such resource");
#undef IS
}

static void json_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    tq__http_resp_json_error(resp, (unsigned)rq->err_status, rq->err_desc);
}

const struct tq__http_route tq__http_route_json = {
    .path = "/json/",
    .match = TQ_HTTP_MATCH_PREFIX,
    .methods = TQ_METHOD_GET | TQ_METHOD_POST,
    .allow = "GET, POST",
    .method_refusal = "the JSON API takes GET, and POST to acknowledge an alert",
    .auth = TQ_HTTP_AUTH_ANY,
    .max_body_bytes = 1024,
    .too_big = "the JSON API takes no request body",
    .complete = json_complete,
    .refusal = json_refusal,
};
