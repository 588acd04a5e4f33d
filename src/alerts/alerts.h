/* SPDX-License-Identifier: Apache-2.0
 *
 * alerts/alerts.h - internals of the monitor: compiled alert rules (internal to src/alerts).
 */
#ifndef TQ_ALERTS_ALERTS_H
#define TQ_ALERTS_ALERTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tansiq/correl.h"

#include "tansiq/alerts.h"
#include "tansiq/screening.h"

enum tq__rule_kind {
    TQ__RULE_NONE = 0,
    TQ__RULE_BORDER,
    TQ__RULE_GOVERNORATE,
    TQ__RULE_HOTSPOT,
    TQ__RULE_CORRIDOR,
    TQ__RULE_CORREL,
    TQ__RULE_SCREENING,
};

#define TQ__RULE_LIST_MAX 16

/* The kind of a STIX location on the map: a place, not an event (left out of hotspots). */
#define TQ__PLACE_KIND "location"

/* A rule's parameters, read once. */
struct tq__rule {
    int64_t id;
    char name[128];
    enum tq__rule_kind kind;
    int64_t within_m;                                    /* border */
    char pcode[32];                                      /* governorate */
    char kinds[TQ__RULE_LIST_MAX][TQ_INCIDENT_KIND_MAX]; /* incident kinds; none: any */
    size_t n_kinds;
    unsigned values; /* correlation: bit (1 << enum tq_correl_kind) per kind */
    double cell_km;  /* hotspot, corridor */
    char list[128];  /* screening */
    double min_score;
};

#define TQ__MONITOR_SUBS_MAX 8

struct sub {
    tq_monitor_alert_fn fn;
    void *ud;
};

struct tq_monitor {
    struct tq_store *store;
    struct tq_correl_options correl;
    char region[8];
    pthread_rwlock_t lock; /* geo and rules */
    struct tq_geo_index *geo;
    pthread_mutex_t geo_mu; /* one build at a time */
    bool geo_stale;         /* the units changed (or were never read): build before use */
    struct tq__rule *rules;
    size_t n_rules;
    pthread_mutex_t sub_mu;
    struct sub subs[TQ__MONITOR_SUBS_MAX];
    size_t n_subs;
    char generation[32];            /* the store's monitor.generation at the last load */
    struct tq_screening *screening; /* the watchlists' indexes, for screening rules */
};

/*
 * Keep an alert raised by rule r (title, a JSON object detail, the collections it reveals, a
 * dedup key) and tell this process's subscribers; true when it is new.
 */
bool tq__monitor_raise(struct tq_monitor *m, const struct tq__rule *r, const char *title,
                       const struct tq_buf *detail, const char *const *colls, size_t n_colls,
                       const char *dedup);

/* Read a rule's kind and parameters (JSON text) into r; TQ_EINVAL with the reason. */
tq_rc tq__rule_compile(const char *kind, const char *params, struct tq__rule *r,
                       struct tq_err *err);
/* True when an incident of kind falls under r's "kinds" (none given: every kind). */
bool tq__rule_kind_matches(const struct tq__rule *r, const char *kind);

#endif
