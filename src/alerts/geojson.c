/* SPDX-License-Identifier: Apache-2.0
 *
 * alerts/geojson.c - incidents as GeoJSON (RFC 7946), the one writer for the command line and
 * the node's JSON API.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"

struct writer {
    struct tq_buf *out;
    struct tq_incidents_page *page;
    tq_rc rc;
};

static void prop(struct tq_buf *b, const char *key, const char *val)
{
    tq_buf_printf(b, ",\"%s\":", key);
    if (val)
        tq_buf_append_json_str(b, val, strlen(val));
    else
        tq_buf_append_c(b, "null");
}

static tq_rc feature(void *ud, const struct tq_store_incident *r)
{
    struct writer *w = ud;
    struct tq_buf *b = w->out;
    char at[TQ_TIME_STR_MAX];
    tq_rc rc;

    tq_time_format_ms(r->at_us, at);
    rc = tq_buf_printf(b,
                       "%s{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":{\"type\":\"Point\","
                       "\"coordinates\":[%.7f,%.7f]},\"properties\":{\"collection\":\"%s\"",
                       w->page->n ? "," : "", r->object_id, r->lon_e7 / 1e7, r->lat_e7 / 1e7,
                       r->collection_id);
    prop(b, "kind", r->kind);
    tq_buf_printf(b, ",\"time\":\"%s\",\"where_prec\":%d", at, r->where_prec);
    prop(b, "country", r->country);
    prop(b, "adm1_pcode", r->adm1_pcode);
    prop(b, "adm1_en", r->adm1_en);
    prop(b, "adm1_ar", r->adm1_ar);
    if (r->border_m >= 0)
        tq_buf_printf(b, ",\"border_km\":%.3f", (double)r->border_m / 1000.0);
    else
        tq_buf_append_c(b, ",\"border_km\":null");
    prop(b, "source", r->origin);
    tq_buf_printf(b, ",\"nearest\":%s,\"swapped\":%s}",
                  r->tag_flags & TQ_GEO_NEAREST ? "true" : "false",
                  r->tag_flags & TQ_GEO_SWAPPED ? "true" : "false");
    if (r->json) { /* the canonical JSON of a stored, validated version */
        tq_buf_append_c(b, ",\"stix\":");
        tq_buf_append(b, r->json, r->json_len);
    }
    rc = tq_buf_append_c(b, "}");
    if (rc)
        return tq_err_set(NULL, rc, "too large");
    w->page->n++;
    w->page->next_at_us = r->at_us;
    w->page->next_iid = r->iid;
    return TQ_OK;
}

bool tq_incidents_bbox_parse(const char *s, struct tq_store_incident_query *q)
{
    double v[4];
    const char *p = s;
    char *end;

    for (int i = 0; i < 4; i++) {
        v[i] = strtod(p, &end);
        if (end == p || (i < 3 && *end != ',') || (i == 3 && *end))
            return false;
        p = end + 1;
    }
    if (!(v[0] >= -180 && v[2] <= 180 && v[1] >= -90 && v[3] <= 90 && v[0] <= v[2] && v[1] <= v[3]))
        return false;
    q->has_bbox = true;
    q->min_lon_e7 = (int32_t)(v[0] * 1e7);
    q->min_lat_e7 = (int32_t)(v[1] * 1e7);
    q->max_lon_e7 = (int32_t)(v[2] * 1e7);
    q->max_lat_e7 = (int32_t)(v[3] * 1e7);
    return true;
}

tq_rc tq_incidents_geojson(struct tq_store *store, const struct tq_store_incident_query *q, bool fc,
                           struct tq_buf *out, struct tq_incidents_page *page, struct tq_err *err)
{
    struct writer w = {out, page, TQ_OK};
    tq_rc rc;

    memset(page, 0, sizeof(*page));
    if (fc)
        tq_buf_append_c(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    rc = tq_store_incidents(store, q, feature, &w, &page->more, err);
    if (rc == TQ_OK && fc)
        rc = tq_buf_append_c(out, "]}");
    if (rc == TQ_ETOOBIG || rc == TQ_ENOMEM)
        return tq_err_set(err, rc, "incidents: the answer does not fit");
    return rc;
}
