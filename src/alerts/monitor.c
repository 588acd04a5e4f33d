/* SPDX-License-Identifier: Apache-2.0
 *
 * alerts/monitor.c - the monitor: after each committed put, the incidents of the new versions
 * are tagged (geo) and kept, their observable values are kept as occurrences (correl), and the
 * incident and correlation rules raise alerts (hotspot and corridor rules: hotspots.c).
 *
 * The administrative units live in the store; the monitor builds the spatial index from them
 * on first use after they changed, and swaps it under a write lock while taggers hold the read
 * lock (the strings of a tag are the index's, so a tag is used only under that lock).
 *
 * Alerts reveal the content of the versions they are about, so each names the collections of
 * those versions, and a reader sees it only when it may read every one (the store filters).
 * A correlation hit is raised on the node that holds both versions: a partner's version is here
 * only when the partner released it to this node, so each side is alerted with exactly what it
 * was given.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/correl.h"
#include "tansiq/events.h"
#include "tansiq/json.h"
#include "alerts/alerts.h"

#define HITS_PER_VALUE 16 /* other versions looked at per value and commit */

#define META_GENERATION "monitor.generation"

static void read_generation(struct tq_store *store, char out[32])
{
    char *v = NULL;

    out[0] = '\0';
    if (tq_store_meta_get(store, META_GENERATION, &v, NULL) == TQ_OK)
        snprintf(out, 32, "%s", v);
    tq_free(v);
}

static void json_kv(struct tq_buf *b, const char *key, const char *val, bool first)
{
    tq_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    if (val)
        tq_buf_append_json_str(b, val, strlen(val));
    else
        tq_buf_append_c(b, "null");
}

/* ---- loading ---------------------------------------------------------------------------- */

static tq_rc load_geo(struct tq_store *store, struct tq_geo_index **out, struct tq_err *err)
{
    struct tq_store_geo_unit *su = NULL;
    struct tq_geo_unit *gu = NULL;
    size_t n = 0;
    tq_rc rc;

    *out = NULL;
    rc = tq_store_geo_units_list(store, &su, &n, err);
    if (rc || n == 0)
        goto out;
    gu = tq_xcalloc(n, sizeof(*gu));
    for (size_t i = 0; i < n; i++) { /* borrowed: the index copies what it keeps */
        gu[i].level = su[i].level;
        gu[i].country_pcode = su[i].country_pcode;
        gu[i].country_en = su[i].country_en;
        gu[i].country_ar = su[i].country_ar;
        gu[i].pcode = su[i].pcode;
        gu[i].name_en = su[i].name_en;
        gu[i].name_ar = su[i].name_ar;
        gu[i].geometry = su[i].geometry;
        gu[i].repaired = su[i].repaired;
    }
    rc = tq_geo_index_build(gu, n, NULL, out, err);
    if (rc == TQ_ENOTSUP) {
        tq_log(TQ_LOG_WARN,
               "monitor: %zu administrative units kept, but this build has no "
               "GEOS: incidents are kept untagged",
               n);
        tq_err_clear(err);
        rc = TQ_OK;
    }
out:
    tq_free(gu);
    tq_store_geo_units_free(su, n);
    return rc;
}

static tq_rc load_rules(struct tq_store *store, struct tq__rule **out, size_t *n_out,
                        struct tq_err *err)
{
    struct tq_store_alert_rule *r = NULL;
    struct tq__rule *c;
    size_t n = 0, k = 0;
    tq_rc rc;

    *out = NULL;
    *n_out = 0;
    rc = tq_store_alert_rule_list(store, &r, &n, err);
    if (rc)
        return rc;
    c = tq_xcalloc(n ? n : 1, sizeof(*c));
    for (size_t i = 0; i < n; i++) {
        struct tq_err e = {0};

        if (!r[i].enabled)
            continue;
        if (tq__rule_compile(r[i].kind, r[i].params, &c[k], &e) != TQ_OK) {
            tq_log(TQ_LOG_WARN, "monitor: alert rule %s skipped: %s", r[i].name, e.msg);
            continue;
        }
        c[k].id = r[i].id;
        snprintf(c[k].name, sizeof(c[k].name), "%s", r[i].name);
        k++;
    }
    tq_store_alert_rules_free(r, n);
    *out = c;
    *n_out = k;
    return TQ_OK;
}

/*
 * Build the spatial index from the kept units when they changed since it was built: on first
 * use, not at open, since building it takes about a second for two countries' governorates and
 * most commands that open a node never tag a point. A failure leaves incidents untagged (and
 * logged), as a node without units has them.
 */
static void geo_ensure(struct tq_monitor *m)
{
    struct tq_geo_index *geo = NULL, *old = NULL;
    struct tq_err err = {0};
    bool stale;

    pthread_mutex_lock(&m->geo_mu);
    pthread_rwlock_rdlock(&m->lock);
    stale = m->geo_stale;
    pthread_rwlock_unlock(&m->lock);
    if (stale) {
        if (load_geo(m->store, &geo, &err) != TQ_OK)
            tq_log(TQ_LOG_WARN, "monitor: administrative units not loaded: %s", err.msg);
        pthread_rwlock_wrlock(&m->lock);
        old = m->geo;
        m->geo = geo;
        m->geo_stale = false;
        pthread_rwlock_unlock(&m->lock);
        tq_geo_index_free(old);
    }
    pthread_mutex_unlock(&m->geo_mu);
}

tq_rc tq_monitor_reload(struct tq_monitor *m, struct tq_err *err)
{
    struct tq__rule *rules = NULL, *old_rules;
    size_t n_rules = 0;
    tq_rc rc;

    if (!m)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    read_generation(m->store, m->generation);
    rc = load_rules(m->store, &rules, &n_rules, err);
    if (rc)
        return rc;
    pthread_rwlock_wrlock(&m->lock);
    old_rules = m->rules;
    m->rules = rules;
    m->n_rules = n_rules;
    m->geo_stale = true; /* built again at its next use */
    pthread_rwlock_unlock(&m->lock);
    tq_free(old_rules);
    return TQ_OK;
}

tq_rc tq_monitor_changed(struct tq_monitor *m, struct tq_err *err)
{
    char now[32];
    tq_rc rc;

    if (!m)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    snprintf(now, sizeof(now), "%" PRId64, tq_time_now_us());
    rc = tq_store_meta_set(m->store, META_GENERATION, now, err);
    return rc ? rc : tq_monitor_reload(m, err);
}

tq_rc tq_monitor_refresh(struct tq_monitor *m, struct tq_err *err)
{
    char gen[32];

    if (!m)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    read_generation(m->store, gen);
    return strcmp(gen, m->generation) == 0 ? TQ_OK : tq_monitor_reload(m, err);
}

tq_rc tq_monitor_open(struct tq_store *store, const struct tq_monitor_options *opt,
                      struct tq_monitor **out, struct tq_err *err)
{
    struct tq_monitor *m;
    tq_rc rc;

    if (!store || !out)
        return tq_err_set(err, TQ_EINVAL, "monitor: no store");
    m = tq_xcalloc(1, sizeof(*m));
    m->store = store;
    if (opt && opt->phone_region) {
        snprintf(m->region, sizeof(m->region), "%s", opt->phone_region);
        m->correl.default_region = m->region;
    }
    pthread_rwlock_init(&m->lock, NULL);
    pthread_mutex_init(&m->sub_mu, NULL);
    pthread_mutex_init(&m->geo_mu, NULL);
    rc = tq_screening_new(store, &m->screening, err);
    if (rc == TQ_OK)
        rc = tq_monitor_reload(m, err);
    if (rc) {
        tq_monitor_close(m);
        return rc;
    }
    *out = m;
    return TQ_OK;
}

void tq_monitor_close(struct tq_monitor *m)
{
    if (!m)
        return;
    tq_geo_index_free(m->geo);
    tq_screening_free(m->screening);
    tq_free(m->rules);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->sub_mu);
    pthread_mutex_destroy(&m->geo_mu);
    tq_free(m);
}

bool tq_monitor_has_geo(struct tq_monitor *m)
{
    bool has;

    if (!m)
        return false;
    geo_ensure(m);
    pthread_rwlock_rdlock(&m->lock);
    has = m->geo != NULL;
    pthread_rwlock_unlock(&m->lock);
    return has;
}

tq_rc tq_monitor_tag(struct tq_monitor *m, double lon, double lat, struct tq_geo_tag *out,
                     struct tq_err *err)
{
    tq_rc rc;

    if (!m || !out)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    geo_ensure(m);
    pthread_rwlock_rdlock(&m->lock);
    if (m->geo)
        rc = tq_geo_tag(m->geo, lon, lat, out, err);
    else
        rc = tq_err_set(err, TQ_ENOTFOUND, "monitor: no administrative units loaded");
    /* The strings of out are the index's: callers here use only the point and flags. */
    if (rc == TQ_OK) {
        out->country_pcode = out->country_en = out->country_ar = NULL;
        out->pcode = out->name_en = out->name_ar = NULL;
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

tq_rc tq_monitor_tag_describe(struct tq_monitor *m, double lon, double lat, bool json,
                              struct tq_buf *out, struct tq_err *err)
{
    struct tq_geo_tag t;
    tq_rc rc;

    if (!m || !out)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    geo_ensure(m);
    pthread_rwlock_rdlock(&m->lock);
    if (m->geo)
        rc = tq_geo_tag(m->geo, lon, lat, &t, err);
    else
        rc = tq_err_set(err, TQ_ENOTFOUND, "monitor: no administrative units loaded");
    if (rc == TQ_OK && json) {
        tq_buf_printf(out, "{\"lon\":%.7f,\"lat\":%.7f", t.lon, t.lat);
        json_kv(out, "country", t.country_pcode, false);
        json_kv(out, "adm1_pcode", t.pcode, false);
        json_kv(out, "adm1_en", t.name_en, false);
        json_kv(out, "adm1_ar", t.name_ar, false);
        tq_buf_printf(out, ",\"border_km\":%.3f,\"nearest\":%s,\"outside\":%s,\"swapped\":%s}",
                      t.border_km, t.flags & TQ_GEO_NEAREST ? "true" : "false",
                      t.flags & TQ_GEO_OUTSIDE ? "true" : "false",
                      t.flags & TQ_GEO_SWAPPED ? "true" : "false");
    } else if (rc == TQ_OK) {
        tq_buf_printf(out, "%s %s (%s / %s), %.1f km from the border%s%s%s",
                      t.country_pcode ? t.country_pcode : "-", t.pcode ? t.pcode : "-",
                      t.name_en ? t.name_en : "-", t.name_ar ? t.name_ar : "-", t.border_km,
                      t.flags & TQ_GEO_NEAREST ? ", the nearest unit (outside every polygon)" : "",
                      t.flags & TQ_GEO_OUTSIDE ? ", outside every unit" : "",
                      t.flags & TQ_GEO_SWAPPED ? ", latitude and longitude swapped" : "");
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

tq_rc tq_monitor_geo_geojson(struct tq_monitor *m, bool border, double simplify_km,
                             struct tq_buf *out, struct tq_err *err)
{
    tq_rc rc;

    if (!m || !out)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    geo_ensure(m);
    pthread_rwlock_rdlock(&m->lock);
    if (!m->geo)
        rc = tq_err_set(err, TQ_ENOTFOUND, "monitor: no administrative units loaded");
    else if (border)
        rc = tq_geo_index_border_geojson(m->geo, out, err);
    else
        rc = tq_geo_index_units_geojson(m->geo, simplify_km, out, err);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

/* ---- subscribers and raising ------------------------------------------------------------ */

tq_rc tq_monitor_subscribe(struct tq_monitor *m, tq_monitor_alert_fn fn, void *ud,
                           struct tq_err *err)
{
    tq_rc rc = TQ_OK;

    if (!m || !fn)
        return tq_err_set(err, TQ_EINVAL, "monitor: no subscriber");
    pthread_mutex_lock(&m->sub_mu);
    if (m->n_subs == TQ__MONITOR_SUBS_MAX)
        rc = tq_err_set(err, TQ_ETOOBIG, "monitor: at most %d subscribers", TQ__MONITOR_SUBS_MAX);
    else
        m->subs[m->n_subs++] = (struct sub){fn, ud};
    pthread_mutex_unlock(&m->sub_mu);
    return rc;
}

void tq_monitor_unsubscribe(struct tq_monitor *m, tq_monitor_alert_fn fn, void *ud)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->sub_mu);
    for (size_t i = 0; i < m->n_subs; i++)
        if (m->subs[i].fn == fn && m->subs[i].ud == ud) {
            m->subs[i] = m->subs[--m->n_subs];
            break;
        }
    pthread_mutex_unlock(&m->sub_mu);
}

bool tq__monitor_raise(struct tq_monitor *m, const struct tq__rule *r, const char *title,
                       const struct tq_buf *detail, const char *const *colls, size_t n_colls,
                       const char *dedup)
{
    struct tq_store_alert a = {0};
    struct tq_err err = {0};
    int64_t id = 0;

    if (n_colls > TQ_ALERT_COLLECTIONS_MAX) {
        tq_log(TQ_LOG_WARN,
               "monitor: rule %s: an alert over %zu collections is not raised (at most %d): "
               "no reader could be shown only what it may see",
               r->name, n_colls, TQ_ALERT_COLLECTIONS_MAX);
        return false;
    }
    a.rule = (char *)r->name;
    a.kind = (char *)(r->kind == TQ__RULE_BORDER        ? "border"
                      : r->kind == TQ__RULE_GOVERNORATE ? "governorate"
                      : r->kind == TQ__RULE_HOTSPOT     ? "hotspot"
                      : r->kind == TQ__RULE_CORRIDOR    ? "corridor"
                      : r->kind == TQ__RULE_CORREL      ? "correlation"
                                                        : "screening");
    a.title = (char *)title;
    a.detail = detail->ptr;
    for (size_t i = 0; i < n_colls; i++)
        a.collections[i] = (char *)colls[i];
    a.n_collections = n_colls;
    a.dedup = (char *)dedup;
    if (tq_store_alert_add(m->store, &a, &id, &err) != TQ_OK) {
        tq_log(TQ_LOG_WARN, "monitor: rule %s: alert not kept: %s", r->name, err.msg);
        return false;
    }
    if (id == 0)
        return false;
    tq_log(TQ_LOG_DEBUG, "monitor: alert %" PRId64 " rule=%s", id, r->name);
    pthread_mutex_lock(&m->sub_mu);
    for (size_t i = 0; i < m->n_subs; i++)
        m->subs[i].fn(m->subs[i].ud, id);
    pthread_mutex_unlock(&m->sub_mu);
    return true;
}

/* ---- incidents -------------------------------------------------------------------------- */

static void incident_rules(struct tq_monitor *m, const struct tq_store_incident *inc,
                           const char *object_id, const char *origin)
{
    char title[512], dedup[512];
    struct tq_buf detail;
    const char *coll = inc->collection_id;

    for (size_t i = 0; i < m->n_rules; i++) {
        const struct tq__rule *r = &m->rules[i];
        bool hit;

        if (r->kind == TQ__RULE_BORDER)
            hit = inc->border_m >= 0 && inc->border_m <= r->within_m;
        else if (r->kind == TQ__RULE_GOVERNORATE)
            hit = inc->adm1_pcode && strcmp(inc->adm1_pcode, r->pcode) == 0;
        else
            continue;
        if (!hit || !tq__rule_kind_matches(r, inc->kind))
            continue;
        if (r->kind == TQ__RULE_BORDER)
            snprintf(title, sizeof(title), "%s %.1f km from the border%s%s%s%s%s", inc->kind,
                     (double)inc->border_m / 1000.0, inc->adm1_en ? ", " : "",
                     inc->adm1_en ? inc->adm1_en : "", inc->adm1_pcode ? " (" : "",
                     inc->adm1_pcode ? inc->adm1_pcode : "", inc->adm1_pcode ? ")" : "");
        else
            snprintf(title, sizeof(title), "%s in %s (%s)", inc->kind,
                     inc->adm1_en ? inc->adm1_en : r->pcode, r->pcode);
        tq_buf_init(&detail, 8192);
        tq_buf_append_c(&detail, "{");
        json_kv(&detail, "object", object_id, true);
        json_kv(&detail, "collection", coll, false);
        json_kv(&detail, "incident_kind", inc->kind, false);
        json_kv(&detail, "origin", origin, false);
        json_kv(&detail, "country", inc->country, false);
        json_kv(&detail, "adm1_pcode", inc->adm1_pcode, false);
        json_kv(&detail, "adm1_en", inc->adm1_en, false);
        json_kv(&detail, "adm1_ar", inc->adm1_ar, false);
        tq_buf_printf(&detail, ",\"lon\":%.7f,\"lat\":%.7f", inc->lon_e7 / 1e7, inc->lat_e7 / 1e7);
        if (inc->border_m >= 0)
            tq_buf_printf(&detail, ",\"border_km\":%.3f", (double)inc->border_m / 1000.0);
        tq_buf_append_c(&detail, "}");
        snprintf(dedup, sizeof(dedup), "rule:%" PRId64 ":%s:%s", r->id, coll, object_id);
        tq__monitor_raise(m, r, title, &detail, &coll, 1, dedup);
        tq_buf_cleanup(&detail);
    }
}

/* Fill inc's tagging from the index; called with the read lock held (strings borrowed). */
static void tag_incident(struct tq_monitor *m, struct tq_store_incident *inc, double lon,
                         double lat)
{
    struct tq_geo_tag t;
    struct tq_err err = {0};

    inc->lon_e7 = (int32_t)llround(lon * 1e7);
    inc->lat_e7 = (int32_t)llround(lat * 1e7);
    inc->border_m = -1;
    inc->tag_flags = 0;
    inc->country = inc->adm1_pcode = inc->adm1_en = inc->adm1_ar = NULL;
    if (!m->geo)
        return;
    if (tq_geo_tag(m->geo, lon, lat, &t, &err) != TQ_OK) {
        inc->tag_flags = TQ_GEO_OUTSIDE;
        return;
    }
    if (t.flags & TQ_GEO_SWAPPED) { /* the documented repair: the point as it must have been */
        inc->lon_e7 = (int32_t)llround(t.lon * 1e7);
        inc->lat_e7 = (int32_t)llround(t.lat * 1e7);
    }
    inc->country = t.country_pcode;
    inc->adm1_pcode = t.pcode;
    inc->adm1_en = t.name_en;
    inc->adm1_ar = t.name_ar;
    inc->border_m = isfinite(t.border_km) ? (int64_t)llround(t.border_km * 1000) : -1;
    inc->tag_flags = t.flags;
}

static void keep_incident(struct tq_monitor *m, const char *coll, const char *origin,
                          const struct tq_stix_object *o, int64_t da,
                          const struct tq_event_point *pt)
{
    struct tq_store_incident inc = {0};
    struct tq_err err = {0};

    inc.collection_id = coll;
    inc.date_added_us = da;
    snprintf(inc.kind, sizeof(inc.kind), "%s", pt->kind);
    inc.at_us = pt->start_us;
    inc.where_prec = pt->where_prec;
    geo_ensure(m);
    pthread_rwlock_rdlock(&m->lock);
    tag_incident(m, &inc, pt->lon, pt->lat);
    if (tq_store_incident_put(m->store, &inc, &err) != TQ_OK)
        tq_log(TQ_LOG_WARN, "monitor: incident %s not kept: %s", o->id, err.msg);
    else
        incident_rules(m, &inc, o->id, origin);
    pthread_rwlock_unlock(&m->lock);
}

/* ---- correlation ------------------------------------------------------------------------ */

struct hits {
    const char *coll, *object_id, *origin;
    struct tq_store_sighting other[HITS_PER_VALUE];
    char *strings[HITS_PER_VALUE][3];
    size_t n;
};

static bool same_origin(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static tq_rc hit_cb(void *ud, const struct tq_store_sighting *s)
{
    struct hits *h = ud;

    if (h->n == HITS_PER_VALUE)
        return TQ_OK;
    if (same_origin(s->origin, h->origin))
        return TQ_OK; /* the same side's own reports: not a cross-partner hit */
    h->other[h->n] = *s;
    h->strings[h->n][0] = tq_xstrdup(s->collection_id);
    h->strings[h->n][1] = tq_xstrdup(s->object_id);
    h->strings[h->n][2] = s->origin ? tq_xstrdup(s->origin) : NULL;
    h->other[h->n].collection_id = h->strings[h->n][0];
    h->other[h->n].object_id = h->strings[h->n][1];
    h->other[h->n].origin = h->strings[h->n][2];
    h->other[h->n].type = NULL;
    h->n++;
    return TQ_OK;
}

static void correl_alerts(struct tq_monitor *m, const struct tq__rule *r,
                          const struct tq_correl_value *v, struct hits *h)
{
    char title[768], dedup[768];
    struct tq_buf detail;

    for (size_t i = 0; i < h->n; i++) {
        const struct tq_store_sighting *s = &h->other[i];
        const char *colls[2] = {h->coll, s->collection_id};
        const char *a = h->object_id, *b = s->object_id;

        snprintf(title, sizeof(title), "%s %s seen by %s and by %s", tq_correl_kind_name(v->kind),
                 v->value, h->origin ? h->origin : "this node",
                 s->origin ? s->origin : "this node");
        tq_buf_init(&detail, 8192);
        tq_buf_append_c(&detail, "{");
        json_kv(&detail, "value_kind", tq_correl_kind_name(v->kind), true);
        json_kv(&detail, "value", v->value, false);
        tq_buf_append_c(&detail, ",\"objects\":[{");
        json_kv(&detail, "id", h->object_id, true);
        json_kv(&detail, "collection", h->coll, false);
        json_kv(&detail, "origin", h->origin, false);
        tq_buf_append_c(&detail, "},{");
        json_kv(&detail, "id", s->object_id, true);
        json_kv(&detail, "collection", s->collection_id, false);
        json_kv(&detail, "origin", s->origin, false);
        tq_buf_append_c(&detail, "}]}");
        if (strcmp(a, b) > 0) { /* one alert per pair, whichever arrived second */
            const char *t = a;
            a = b;
            b = t;
        }
        snprintf(dedup, sizeof(dedup), "correl:%" PRId64 ":%s:%s:%s:%s", r->id,
                 tq_correl_kind_name(v->kind), v->value, a, b);
        tq__monitor_raise(m, r, title, &detail, colls,
                          colls[0] && strcmp(colls[0], colls[1]) ? 2 : 1, dedup);
        tq_buf_cleanup(&detail);
    }
}

static void keep_occurrences(struct tq_monitor *m, const char *coll, const char *origin,
                             const struct tq_stix_object *o, int64_t da, json_object *jo)
{
    struct tq_correl_value *vals = NULL;
    struct tq_store_occurrence *occ;
    struct tq_err err = {0};
    size_t n = 0;

    if (tq_correl_extract(jo, &m->correl, &vals, &n, &err) != TQ_OK) {
        tq_log(TQ_LOG_WARN, "monitor: values of %s not indexed: %s", o->id, err.msg);
        return;
    }
    if (n == 0) {
        tq_free(vals);
        return;
    }
    occ = tq_xcalloc(n, sizeof(*occ));
    for (size_t i = 0; i < n; i++)
        occ[i] = (struct tq_store_occurrence){(int)vals[i].kind, vals[i].value};
    if (tq_store_correl_put(m->store, coll, da, occ, n, &err) != TQ_OK) {
        tq_log(TQ_LOG_WARN, "monitor: values of %s not indexed: %s", o->id, err.msg);
        goto out;
    }
    pthread_rwlock_rdlock(&m->lock);
    /* One lookup per value, whatever the number of correlation rules that want its kind. */
    for (size_t i = 0; i < n; i++) {
        struct hits h = {.coll = coll, .object_id = o->id, .origin = origin};
        unsigned bit = 1u << vals[i].kind;
        bool wanted = false, more = false;

        for (size_t k = 0; k < m->n_rules; k++)
            wanted = wanted || (m->rules[k].kind == TQ__RULE_CORREL && (m->rules[k].values & bit));
        if (!wanted)
            continue;
        if (tq_store_correl_find(m->store, NULL, (int)vals[i].kind, vals[i].value, 64, hit_cb, &h,
                                 &more, &err) == TQ_OK) {
            for (size_t k = 0; k < m->n_rules; k++)
                if (m->rules[k].kind == TQ__RULE_CORREL && (m->rules[k].values & bit))
                    correl_alerts(m, &m->rules[k], &vals[i], &h);
        } else {
            tq_log(TQ_LOG_WARN, "monitor: correlation of %s: %s", o->id, err.msg);
        }
        for (size_t j = 0; j < h.n; j++)
            for (int k = 0; k < 3; k++)
                tq_free(h.strings[j][k]);
    }
    pthread_rwlock_unlock(&m->lock);
out:
    tq_free(occ);
    tq_free(vals);
}

/* Types whose versions may hold observable values (tq_correl_extract reads them). */
static bool correl_type(const char *type)
{
    static const char *const types[] = {
        "phone-number",
        "vehicle-plate",
        "ipv4-addr",
        "ipv6-addr",
        "email-addr",
        "domain-name",
        "file",
        "indicator",
        "observed-data",
        "identity",
        "threat-actor",
        "intrusion-set",
        "cryptocurrency-wallet",
    };

    if (strncmp(type, "x-", 2) == 0)
        return true;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

static bool point_type(const struct tq_stix_object *o)
{
    return strcmp(o->type, "location") == 0 ||
           ((strcmp(o->type, "incident") == 0 || strcmp(o->type, "sighting") == 0 ||
             strcmp(o->type, "observed-data") == 0) &&
            strstr(o->json, TQ_EXT_INCIDENT) != NULL);
}

/*
 * A STIX location with coordinates is a place on the map too (kind "location", at its
 * version's time), tagged like an incident, so that a partner's plain STIX locations are seen
 * where they lie; hotspot runs leave places out (they are not events).
 */
static bool location_point(json_object *jo, const struct tq_stix_object *o,
                           struct tq_event_point *pt)
{
    json_object *lat, *lon;

    if (strcmp(o->type, "location") != 0 || !json_object_object_get_ex(jo, "latitude", &lat) ||
        !json_object_object_get_ex(jo, "longitude", &lon) ||
        (!json_object_is_type(lat, json_type_double) && !json_object_is_type(lat, json_type_int)) ||
        (!json_object_is_type(lon, json_type_double) && !json_object_is_type(lon, json_type_int)))
        return false;
    memset(pt, 0, sizeof(*pt));
    snprintf(pt->kind, sizeof(pt->kind), "%s", TQ__PLACE_KIND);
    pt->lat = json_object_get_double(lat);
    pt->lon = json_object_get_double(lon);
    pt->start_us = o->version_us;
    return isfinite(pt->lat) && isfinite(pt->lon) && fabs(pt->lat) <= 90 && fabs(pt->lon) <= 180;
}

/* ---- screening ------------------------------------------------------------------------- */

#define SCREEN_NAMES_MAX 8 /* names of one object screened (its name and first aliases) */

/* Objects that name a person or an organisation: what a screening rule looks at. */
static bool screen_type(const char *type)
{
    return strcmp(type, "identity") == 0 || strcmp(type, "threat-actor") == 0 ||
           strcmp(type, "email-addr") == 0 || strcmp(type, "user-account") == 0;
}

/* The names of o: name and aliases (identity, threat-actor), display_name (email, account). */
static size_t object_names(json_object *jo, const char *names[SCREEN_NAMES_MAX])
{
    json_object *v = NULL;
    size_t n = 0;

    if (json_object_object_get_ex(jo, "name", &v) && json_object_is_type(v, json_type_string))
        names[n++] = json_object_get_string(v);
    if (json_object_object_get_ex(jo, "display_name", &v) &&
        json_object_is_type(v, json_type_string))
        names[n++] = json_object_get_string(v);
    if (json_object_object_get_ex(jo, "aliases", &v) && json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v) && n < SCREEN_NAMES_MAX; i++) {
            json_object *x = json_object_array_get_idx(v, i);

            if (json_object_is_type(x, json_type_string))
                names[n++] = json_object_get_string(x);
        }
    return n;
}

static void screening_alert(struct tq_monitor *m, const struct tq__rule *r, const char *coll,
                            const char *origin, const struct tq_stix_object *o, const char *name,
                            const struct tq_screening_hit *h)
{
    char title[768], dedup[768];
    const char *colls[2] = {coll, h->collection};
    struct tq_buf detail;

    snprintf(title, sizeof(title), "%s \"%.200s\" screens %.2f against %s %s (%.200s)", o->type,
             name, h->score, h->list, h->ref, h->name);
    tq_buf_init(&detail, 16384);
    tq_buf_append_c(&detail, "{");
    json_kv(&detail, "object", o->id, true);
    json_kv(&detail, "collection", coll, false);
    json_kv(&detail, "origin", origin, false);
    json_kv(&detail, "name", name, false);
    json_kv(&detail, "list", h->list, false);
    json_kv(&detail, "ref", h->ref, false);
    json_kv(&detail, "matched", h->name, false);
    json_kv(&detail, "primary", h->primary, false);
    tq_buf_printf(&detail, ",\"score\":%.4f}", h->score);
    snprintf(dedup, sizeof(dedup), "rule:%" PRId64 ":%s:%s:%s:%s", r->id, coll, o->id, h->list,
             h->ref);
    /* A stix list's entry reveals its own collection too: readers of both only. */
    tq__monitor_raise(m, r, title, &detail, colls, h->collection[0] ? 2 : 1, dedup);
    tq_buf_cleanup(&detail);
}

/*
 * Screen the names of a newly stored object against each screening rule's list, as the node
 * (the alert names the collections it reveals, so its readers are filtered there). An entry
 * that is the object itself (a stix list built from this collection) is not a hit.
 */
static void screening_rules(struct tq_monitor *m, const char *coll, const char *origin,
                            const struct tq_stix_object *o, json_object *jo)
{
    struct tq__rule *rules = NULL;
    const char *names[SCREEN_NAMES_MAX];
    size_t n_rules = 0, n_names = object_names(jo, names);

    if (n_names == 0)
        return;
    pthread_rwlock_rdlock(&m->lock);
    for (size_t i = 0; i < m->n_rules; i++)
        if (m->rules[i].kind == TQ__RULE_SCREENING) {
            rules = tq_xrealloc(rules, (n_rules + 1) * sizeof(*rules));
            rules[n_rules++] = m->rules[i];
        }
    pthread_rwlock_unlock(&m->lock);
    for (size_t i = 0; i < n_rules; i++) {
        const struct tq__rule *r = &rules[i];

        for (size_t k = 0; k < n_names; k++) {
            struct tq_screening_query q = {.name = tq_str_c(names[k]),
                                           .list = r->list,
                                           .limit = 5,
                                           .min_score = r->min_score > 0 ? r->min_score : 1e-9};
            struct tq_screening_answer a = {0};
            struct tq_err err = {0};

            if (tq_screening_query(m->screening, &q, &a, &err) != TQ_OK) {
                tq_log(TQ_LOG_DEBUG, "monitor: rule %s: %s not screened: %s", r->name, o->id,
                       err.msg);
                continue;
            }
            for (size_t h = 0; h < a.n_hits; h++)
                if (strcmp(a.hits[h].ref, o->id) != 0) {
                    screening_alert(m, r, coll, origin, o, names[k], &a.hits[h]);
                    break;
                }
            tq_screening_answer_cleanup(&a);
        }
    }
    tq_free(rules);
}

void tq_monitor_on_commit(struct tq_monitor *m, const char *collection_id, const char *origin,
                          const struct tq_stix_object *objs, const enum tq_put_result *results,
                          const int64_t *date_added_us, size_t n)
{
    if (!m || !collection_id || !objs || !date_added_us)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct tq_stix_object *o = &objs[i];
        bool point, correl, named;
        json_object *jo = NULL;
        struct tq_err err = {0};
        struct tq_event_point pt;

        if (results && results[i] != TQ_PUT_STORED)
            continue;
        point = point_type(o);
        correl = correl_type(o->type);
        named = screen_type(o->type);
        if (!point && !correl && !named)
            continue;
        if (tq_json_parse((struct tq_str){o->json, o->json_len}, &jo, &err) != TQ_OK) {
            tq_log(TQ_LOG_WARN, "monitor: %s not read: %s", o->id, err.msg);
            continue;
        }
        if (point && (tq_event_point_of(jo, &pt) || location_point(jo, o, &pt)))
            keep_incident(m, collection_id, origin, o, date_added_us[i], &pt);
        if (correl)
            keep_occurrences(m, collection_id, origin, o, date_added_us[i], jo);
        if (named)
            screening_rules(m, collection_id, origin, o, jo);
        json_object_put(jo);
    }
}

tq_rc tq_monitor_geo_import(struct tq_monitor *m, const struct tq_geo_unit *units, size_t n,
                            const char *source, size_t *retagged, struct tq_err *err)
{
    struct tq_store_geo_unit *su;
    tq_rc rc;

    if (!m || (!units && n))
        return tq_err_set(err, TQ_EINVAL, "monitor: no units");
    su = tq_xcalloc(n ? n : 1, sizeof(*su));
    for (size_t i = 0; i < n; i++) /* borrowed from units for the put */
        su[i] = (struct tq_store_geo_unit){
            .level = units[i].level,
            .pcode = units[i].pcode,
            .country_pcode = units[i].country_pcode,
            .country_en = units[i].country_en,
            .country_ar = units[i].country_ar,
            .name_en = units[i].name_en,
            .name_ar = units[i].name_ar,
            .geometry = units[i].geometry,
            .repaired = units[i].repaired,
            .source = (char *)source,
        };
    rc = tq_store_geo_units_put(m->store, su, n, err);
    tq_free(su);
    if (rc == TQ_OK)
        rc = tq_monitor_changed(m, err);
    if (rc == TQ_OK)
        rc = tq_monitor_retag(m, retagged, err);
    return rc;
}

/* ---- retagging -------------------------------------------------------------------------- */

static tq_rc retag_fn(void *ud, const struct tq_store_incident *row, struct tq_store_incident *next,
                      bool *changed)
{
    struct tq_monitor *m = ud;

    *next = *row;
    tag_incident(m, next, row->lon_e7 / 1e7, row->lat_e7 / 1e7);
    *changed = next->border_m != row->border_m || next->tag_flags != row->tag_flags ||
               !same_origin(next->adm1_pcode, row->adm1_pcode) || next->lon_e7 != row->lon_e7 ||
               next->lat_e7 != row->lat_e7;
    return TQ_OK;
}

tq_rc tq_monitor_retag(struct tq_monitor *m, size_t *n, struct tq_err *err)
{
    tq_rc rc;

    if (!m)
        return tq_err_set(err, TQ_EINVAL, "monitor: none");
    geo_ensure(m);
    pthread_rwlock_rdlock(&m->lock);
    rc = tq_store_incidents_retag(m->store, retag_fn, m, n, err);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}
