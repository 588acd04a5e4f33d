/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/alerts.h - border monitoring over the store: the monitor that tags every stored
 * incident with its governorate and border distance, indexes every observable value for
 * correlation, and raises alerts by the node's rules.
 *
 * The node runs one monitor per store and calls tq_monitor_on_commit after each committed put
 * (the ingest after-commit hook), in the writing thread: tagging, occurrences and the alerts of
 * incident and correlation rules are written then. Hotspot and corridor rules are evaluated by
 * tq_monitor_scan, which the serve process runs periodically. Alerts are rows of the store
 * (tansiq/monitor_store.h); subscribers of this process hear of new ones at once, those of other
 * processes when they next read the store.
 */
#ifndef TANSIQ_ALERTS_H
#define TANSIQ_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/geo.h"
#include "tansiq/hotspot.h"
#include "tansiq/monitor_store.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"

struct tq_monitor;

struct tq_monitor_options {
    /* Region of national phone numbers without a country code ("IQ", "SY", "JO"); NULL: such
     * numbers are not indexed. */
    const char *phone_region;
};

/*
 * A monitor over store: loads the administrative units kept in it (none: incidents are kept
 * untagged, border_m -1) and the alert rules. *out owned by the caller (tq_monitor_close).
 */
tq_rc tq_monitor_open(struct tq_store *store, const struct tq_monitor_options *opt,
                      struct tq_monitor **out, struct tq_err *err);
void tq_monitor_close(struct tq_monitor *m); /* NULL is a no-op */

/* Read the units and rules again. */
tq_rc tq_monitor_reload(struct tq_monitor *m, struct tq_err *err);
/*
 * Say that the units or the rules changed (after `geo import`, `alert add`): this monitor
 * reloads them, and those of the node's other processes do at their next tq_monitor_refresh.
 */
tq_rc tq_monitor_changed(struct tq_monitor *m, struct tq_err *err);
/* Reload when another process said a change since the last load; one small read otherwise. */
tq_rc tq_monitor_refresh(struct tq_monitor *m, struct tq_err *err);

/*
 * After a committed put of n objects into collection_id (origin: the partner they came from,
 * NULL for local): the versions stored anew (results[i] TQ_PUT_STORED; results NULL: all) get
 * their incident tagged and kept, their occurrences kept, and the rules applied. Never fails
 * the put: what it cannot do it logs.
 */
void tq_monitor_on_commit(struct tq_monitor *m, const char *collection_id, const char *origin,
                          const struct tq_stix_object *objs, const enum tq_put_result *results,
                          const int64_t *date_added_us, size_t n);

/* Tag one point with the loaded units; TQ_ENOTFOUND when none are loaded. */
tq_rc tq_monitor_tag(struct tq_monitor *m, double lon, double lat, struct tq_geo_tag *out,
                     struct tq_err *err);
/* The tagging of one point in words, or as a JSON object with json. */
tq_rc tq_monitor_tag_describe(struct tq_monitor *m, double lon, double lat, bool json,
                              struct tq_buf *out, struct tq_err *err);
/* True when units are loaded. */
bool tq_monitor_has_geo(struct tq_monitor *m);
/* The units and the border as GeoJSON (tq_geo_index_units_geojson / _border_geojson);
 * TQ_ENOTFOUND when no units are loaded. */
tq_rc tq_monitor_geo_geojson(struct tq_monitor *m, bool border, double simplify_km,
                             struct tq_buf *out, struct tq_err *err);

/*
 * Keep n administrative units parsed from source (tq_geo_units_parse), replacing those of the
 * same P-code, then reload them here and in the node's other processes (tq_monitor_changed)
 * and tag every kept incident again; *retagged (may be NULL) receives how many changed.
 */
tq_rc tq_monitor_geo_import(struct tq_monitor *m, const struct tq_geo_unit *units, size_t n,
                            const char *source, size_t *retagged, struct tq_err *err);

/* Tag every kept incident again with the loaded units; *n receives how many changed. */
tq_rc tq_monitor_retag(struct tq_monitor *m, size_t *n, struct tq_err *err);

/*
 * Hotspots and corridors over the incidents reader may see (NULL: all), with options o (NULL:
 * the defaults: 10 km hexagons, 7-day windows sliding by a day, 8 baseline windows, FDR 0.05),
 * ending at o->end_us (0: now). *out owned by the caller (tq_hot_result_free).
 */
void tq_monitor_hot_defaults(struct tq_hot_options *o);
tq_rc tq_monitor_hotspots(struct tq_monitor *m, const struct tq_store_reader *reader,
                          const struct tq_hot_options *o, struct tq_hot_result **out,
                          struct tq_err *err);

/* Evaluate the hotspot and corridor rules now; *raised (may be NULL) counts new alerts. */
tq_rc tq_monitor_scan(struct tq_monitor *m, int64_t now_us, size_t *raised, struct tq_err *err);

/* Called in this process after each new alert (its id); at most 8 subscribers. */
typedef void (*tq_monitor_alert_fn)(void *ud, int64_t id);
tq_rc tq_monitor_subscribe(struct tq_monitor *m, tq_monitor_alert_fn fn, void *ud,
                           struct tq_err *err);
void tq_monitor_unsubscribe(struct tq_monitor *m, tq_monitor_alert_fn fn, void *ud);

/* ---- incidents as GeoJSON ------------------------------------------------------------ */

struct tq_incidents_page {
    size_t n;  /* features written */
    bool more; /* more follow: resume after next_at_us, next_iid */
    int64_t next_at_us, next_iid;
};

/*
 * One page of tq_store_incidents as a GeoJSON FeatureCollection (RFC 7946) into out: a Point
 * feature per incident, whose id is the STIX id and whose properties are collection, kind,
 * time, where_prec, country, adm1_pcode, adm1_en, adm1_ar, border_km, source (the partner,
 * null for local), nearest and swapped (the tagging's flags), and with q->with_json the STIX
 * object itself under "stix". With fc false only the features are written, comma-separated
 * (to join pages into one collection).
 */
/*
 * "W,S,E,N" in degrees (west, south, east, north; WGS 84) into q's box; false (q unchanged)
 * for anything else: four numbers, in range, west <= east, south <= north.
 */
bool tq_incidents_bbox_parse(const char *s, struct tq_store_incident_query *q);

tq_rc tq_incidents_geojson(struct tq_store *store, const struct tq_store_incident_query *q, bool fc,
                           struct tq_buf *out, struct tq_incidents_page *page, struct tq_err *err);

/* ---- rules ------------------------------------------------------------------------------ */

/*
 * Rule kinds and their parameters (a JSON object):
 *   border       {"within_km": N, "kinds": [...]}   an incident within N km of the border
 *   governorate  {"pcode": "SY09", "kinds": [...]}  an incident in that governorate
 *   hotspot      {"cell_km": N}                     a hot cell in the latest window
 *   corridor     {"cell_km": N}                     a corridor appears or grows
 *   correlation  {"values": ["phone", ...]}         a value also seen in another origin's report
 *   screening    {"list": NAME, "min_score": S}     a screening hit (name screening)
 * "kinds" (incident kinds) and "values" (observable kinds) are optional: absent means any.
 * Check a rule's kind and parameters; *canonical (may be NULL) receives the parameters as the
 * store keeps them (tq_free). TQ_EINVAL with the reason.
 */
tq_rc tq_alert_rule_check(const char *kind, const char *params, char **canonical,
                          struct tq_err *err);

/* An alert as JSON (id, rule, kind, time, title, detail, acknowledgement) into out. */
tq_rc tq_alert_json(const struct tq_store_alert *a, struct tq_buf *out, struct tq_err *err);

#endif
