/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/monitor_store.h - what border monitoring keeps in the store: administrative units,
 * located incidents, the correlation index, alert rules and alerts.
 *
 * Part of the store (both backends, one engine). Incidents and correlation occurrences hang off
 * an object version (its collection and date_added): deleting the version deletes them, and
 * every read of them joins the version, so that what a caller may read is decided by the same
 * rules as TAXII (read permission on the collection for a user, a release row for a partner),
 * inside the query: limits, pages and counts never see a withheld version.
 *
 * Coordinates are kept as integers of 1e-7 degree (about 1 cm) and distances in metres, so that
 * both backends compare them exactly. The bounding-box filter uses a spatial index on each
 * backend (an R*Tree on SQLite, PostGIS with GiST on PostgreSQL).
 */
#ifndef TANSIQ_MONITOR_STORE_H
#define TANSIQ_MONITOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"

/*
 * Who reads, for the filtered reads below: NULL for the node itself (the CLI, the node's own
 * jobs: no filter); else the principal's permission key (a user name, or "partner:NAME",
 * tq_access_partner_key) whose read permission on the collection is required, and for a partner
 * also its name, whose release row for the version is required (the latest version released to
 * it, as TAXII's match[version]=last in its view).
 */
struct tq_store_reader {
    const char *perm_key; /* required when the reader is not the node */
    const char *partner;  /* NULL for a user */
};

/* ---- administrative units ------------------------------------------------------------- */

struct tq_store_geo_unit {
    int level;   /* 0 a country outline, 1 a governorate */
    char *pcode; /* the key: a unit's P-code (a level-0 unit: the country's) */
    char *country_pcode, *country_en, *country_ar;
    char *name_en, *name_ar;
    char *geometry; /* GeoJSON geometry text */
    bool repaired;  /* repaired on import (MakeValid) */
    char *source;   /* the file it came from, may be NULL */
    int64_t loaded_us;
};

void tq_store_geo_units_free(struct tq_store_geo_unit *v, size_t n);
/* Insert or replace n units by pcode, in one transaction (loaded_us 0: now). */
tq_rc tq_store_geo_units_put(struct tq_store *store, const struct tq_store_geo_unit *u, size_t n,
                             struct tq_err *err);
/* Every unit, by pcode. */
tq_rc tq_store_geo_units_list(struct tq_store *store, struct tq_store_geo_unit **out, size_t *n,
                              struct tq_err *err);
/* Delete the units of a country (by its pcode; NULL: all); *deleted may be NULL. */
tq_rc tq_store_geo_units_delete(struct tq_store *store, const char *country_pcode, size_t *deleted,
                                struct tq_err *err);

/* ---- incidents ------------------------------------------------------------------------ */

#define TQ_INCIDENT_KIND_MAX 32
#define TQ_STORE_INCIDENTS_PAGE_MAX 10000

/* One located object version: an incident on the map. Strings borrowed (a row handed to a
 * callback) or the caller's (a put). */
struct tq_store_incident {
    int64_t iid;               /* assigned by the store; the paging key with at_us */
    const char *collection_id; /* UUID */
    int64_t date_added_us;     /* the version's, in its collection */
    const char *object_id;     /* read back only */
    int64_t version_us;        /* read back only */
    char kind[TQ_INCIDENT_KIND_MAX];
    int64_t at_us;          /* when it happened */
    int32_t lon_e7, lat_e7; /* the point, 1e-7 degree */
    int where_prec;         /* UCDP precision code, 0 unknown */
    const char *country;    /* country P-code, NULL when outside every unit */
    const char *adm1_pcode, *adm1_en, *adm1_ar;
    int64_t border_m;   /* distance to the border, metres; -1 unknown (no boundaries loaded) */
    unsigned tag_flags; /* TQ_GEO_* of the tagging */
    const char *origin; /* read back: the partner it came from, NULL for local */
    const char *json;   /* read back with q->with_json: the version's canonical JSON */
    size_t json_len;
};

/*
 * Keep the incident of one stored version (inc->collection_id and inc->date_added_us name it;
 * TQ_ENOTFOUND when no such version is stored), replacing its earlier tagging.
 */
tq_rc tq_store_incident_put(struct tq_store *store, const struct tq_store_incident *inc,
                            struct tq_err *err);

struct tq_store_incident_query {
    const struct tq_store_reader *reader; /* NULL: the node */
    bool has_bbox;
    int32_t min_lon_e7, min_lat_e7, max_lon_e7, max_lat_e7; /* inclusive */
    int64_t since_us, until_us;                             /* at_us in [since, until); 0: open */
    const char *kind;                                       /* NULL: any */
    const char *adm1_pcode;                                 /* NULL: any */
    const char *origin; /* NULL: any; "" local only; else that partner's */
    bool has_cursor;    /* resume strictly after (cursor_at_us, cursor_iid) */
    int64_t cursor_at_us, cursor_iid;
    size_t limit; /* rows per page, 1..TQ_STORE_INCIDENTS_PAGE_MAX */
    bool with_json;
};

typedef tq_rc (*tq_store_incident_cb)(void *ud, const struct tq_store_incident *row);

/*
 * The latest visible version of each located object matching q, newest first (at_us
 * descending, then iid descending), at most q->limit; *more says whether rows follow.
 */
tq_rc tq_store_incidents(struct tq_store *store, const struct tq_store_incident_query *q,
                         tq_store_incident_cb cb, void *ud, bool *more, struct tq_err *err);

/*
 * The map's summary of the incidents a reader may see (the same visibility as
 * tq_store_incidents): counted per grid cell and kind, and per time bin, in the store, so that a
 * million incidents answer with a few thousand rows. Cell (cx, cy) holds the points with
 * cx = (lon_e7 + 180e7) / cell_e7 and cy = (lat_e7 + 90e7) / cell_e7; bin b the incidents with
 * b = (at_us - bin_origin_us) / bin_us (at_us >= bin_origin_us is the caller's to ensure).
 */
struct tq_store_incident_summary_query {
    const struct tq_store_reader *reader; /* NULL: the node */
    bool has_bbox;
    int32_t min_lon_e7, min_lat_e7, max_lon_e7, max_lat_e7; /* inclusive */
    int64_t since_us, until_us;                             /* at_us in [since, until); 0: open */
    const char *kind;                                       /* NULL: any */
    int64_t cell_e7;                                        /* 1 .. 360e7 */
    int64_t bin_us, bin_origin_us;                          /* bin_us >= 1 */
};

struct tq_store_incident_cell {
    int64_t cx, cy;
    const char *kind;
    int64_t count;
    int64_t sum_lon_e7, sum_lat_e7; /* for the cell's centroid */
};

/*
 * Called for each (cell, kind) and then for each bin; while the store's connection (or its
 * in-memory summary) is held, so they must not call the store. Rows come in no particular order.
 *
 * For the node and for users the answer comes from columns this process keeps of every incident
 * (about 29 bytes each), built on the first call and brought up to date from the store before
 * each (docs/internals/store.md); for a partner, from the store's statements.
 * tq_store_incidents_summary_sql always asks the statements: the same answer, the reference.
 */
typedef tq_rc (*tq_store_incident_cell_cb)(void *ud, const struct tq_store_incident_cell *cell);
typedef tq_rc (*tq_store_incident_bin_cb)(void *ud, int64_t bin, int64_t count);
tq_rc tq_store_incidents_summary(struct tq_store *store,
                                 const struct tq_store_incident_summary_query *q,
                                 tq_store_incident_cell_cb cell_cb, tq_store_incident_bin_cb bin_cb,
                                 void *ud, struct tq_err *err);
tq_rc tq_store_incidents_summary_sql(struct tq_store *store,
                                     const struct tq_store_incident_summary_query *q,
                                     tq_store_incident_cell_cb cell_cb,
                                     tq_store_incident_bin_cb bin_cb, void *ud, struct tq_err *err);

/*
 * Every incident row of the store (all versions, no filter), in iid order, for retagging after
 * new boundaries; fn may return a new tagging for the row in *next (then it is written), or
 * leave *changed false. Runs in pages with no connection held while fn runs.
 */
typedef tq_rc (*tq_store_retag_fn)(void *ud, const struct tq_store_incident *row,
                                   struct tq_store_incident *next, bool *changed);
tq_rc tq_store_incidents_retag(struct tq_store *store, tq_store_retag_fn fn, void *ud,
                               size_t *retagged, struct tq_err *err);

/* ---- correlation ---------------------------------------------------------------------- */

/* One occurrence: a normalised value (kind, value) mentioned by an object version. */
struct tq_store_occurrence {
    int kind; /* enum tq_correl_kind */
    const char *value;
};

/*
 * Keep the occurrences of one stored version (replacing what it had), in one transaction.
 * TQ_ENOTFOUND when no such version is stored.
 */
tq_rc tq_store_correl_put(struct tq_store *store, const char *collection_id, int64_t date_added_us,
                          const struct tq_store_occurrence *occ, size_t n, struct tq_err *err);

/* One version that mentions a value; strings borrowed for the callback. */
struct tq_store_sighting {
    const char *collection_id;
    const char *object_id;
    const char *type;
    int64_t version_us;
    int64_t date_added_us;
    const char *origin; /* NULL: local */
};

typedef tq_rc (*tq_store_sighting_cb)(void *ud, const struct tq_store_sighting *s);

/*
 * The versions visible to reader (NULL: all) that mention (kind, value), newest date_added
 * first, at most limit (1..TQ_STORE_INCIDENTS_PAGE_MAX); *more says whether more follow.
 * One index lookup whatever the number of occurrences.
 */
tq_rc tq_store_correl_find(struct tq_store *store, const struct tq_store_reader *reader, int kind,
                           const char *value, size_t limit, tq_store_sighting_cb cb, void *ud,
                           bool *more, struct tq_err *err);

/* ---- alert rules and alerts ----------------------------------------------------------- */

struct tq_store_alert_rule {
    int64_t id;
    char *name;   /* unique */
    char *kind;   /* border, governorate, hotspot, corridor, correlation, screening */
    char *params; /* JSON object */
    char *created_by;
    int64_t created_us;
    bool enabled;
};

void tq_store_alert_rules_free(struct tq_store_alert_rule *v, size_t n);
/* Add a rule (r->id, created_us ignored); TQ_EEXIST when the name is taken. */
tq_rc tq_store_alert_rule_add(struct tq_store *store, const struct tq_store_alert_rule *r,
                              int64_t *id_out, struct tq_err *err);
tq_rc tq_store_alert_rule_list(struct tq_store *store, struct tq_store_alert_rule **out, size_t *n,
                               struct tq_err *err);
/* TQ_ENOTFOUND when no rule has that name. */
tq_rc tq_store_alert_rule_delete(struct tq_store *store, const char *name, struct tq_err *err);

#define TQ_ALERT_COLLECTIONS_MAX 16

struct tq_store_alert {
    int64_t id; /* assigned, increasing: the Server-Sent Events id */
    char *rule; /* the rule's name */
    char *kind;
    int64_t at_us;
    char *title;  /* one line */
    char *detail; /* JSON object */
    /* The collections whose content the alert reveals (UUIDs): a reader sees the alert only
     * when it may read every one of them. */
    char *collections[TQ_ALERT_COLLECTIONS_MAX];
    size_t n_collections;
    char *dedup; /* the same condition alerts once: unique when set */
    char *acked_by;
    int64_t acked_us; /* 0: not acknowledged */
};

void tq_store_alert_cleanup(struct tq_store_alert *a);
/*
 * Keep an alert (id, acked_* ignored; at_us 0: now); *id_out receives its id, or 0 when an
 * alert with the same dedup key exists (nothing written).
 */
tq_rc tq_store_alert_add(struct tq_store *store, const struct tq_store_alert *a, int64_t *id_out,
                         struct tq_err *err);

struct tq_store_alert_query {
    const struct tq_store_reader *reader; /* NULL: the node */
    int64_t after_id;                     /* ids > after_id, ascending; with newest_first: ids
                                             < before_id (0: from the newest), descending */
    bool newest_first;
    int64_t before_id;
    bool unacked_only;
    const char *kind; /* NULL: any */
    size_t limit;     /* 1..TQ_STORE_INCIDENTS_PAGE_MAX */
};

typedef tq_rc (*tq_store_alert_cb)(void *ud, const struct tq_store_alert *a);
tq_rc tq_store_alerts(struct tq_store *store, const struct tq_store_alert_query *q,
                      tq_store_alert_cb cb, void *ud, bool *more, struct tq_err *err);
/*
 * Acknowledge alert id as user (visible to reader, NULL: the node) at now; TQ_ENOTFOUND for an
 * alert the reader may not see (as for a missing one), TQ_EEXIST when already acknowledged.
 */
tq_rc tq_store_alert_ack(struct tq_store *store, const struct tq_store_reader *reader, int64_t id,
                         const char *user, struct tq_err *err);

/* ---- the dashboard's feed ------------------------------------------------------------- */

/*
 * What crossed the border of this node, newest first: versions that arrived from a partner by
 * sync ("in": facts.origin names the partner, the time is the version's date_added here) and
 * versions released to a partner ("out": a releases row, the time its added_us). A user reads
 * only the collections it may read; partners never read the feed. Rows are ordered by
 * (at_us, dir, rid, pid) descending, which is total: the key of the last row of a page is the
 * cursor of the next.
 */
#define TQ_STORE_FEED_PAGE_MAX 500
#define TQ_STORE_FEED_Q_MAX 128 /* bytes of the substring asked for */
#define TQ_STORE_FEED_BINS_MAX 1000

enum tq_store_feed_dir { TQ_FEED_ANY = 0, TQ_FEED_IN = 1, TQ_FEED_OUT = 2 };

struct tq_store_feed_key {
    int64_t at_us;
    int dir;     /* TQ_FEED_IN or TQ_FEED_OUT */
    int64_t rid; /* the version's row */
    int64_t pid; /* the partner's row (0 for "in") */
};

struct tq_store_feed_query {
    const struct tq_store_reader *reader; /* NULL: the node; a user; never a partner */
    int64_t since_us, until_us;           /* [since, until); 0: open */
    const char *partner;                  /* NULL: any */
    int direction;                        /* enum tq_store_feed_dir */
    const char *q;   /* NULL or a substring of the id or name (ASCII case folded) */
    size_t limit;    /* 1 .. TQ_STORE_FEED_PAGE_MAX */
    bool has_cursor; /* rows strictly after cursor in the order */
    struct tq_store_feed_key cursor;
};

struct tq_store_feed_item {
    struct tq_store_feed_key key;
    const char *partner, *collection, *id, *type;
    const char *name; /* the object's "name", NULL when it has none */
    int tlp;          /* enum tq_tlp, 0 when unmarked */
};

typedef tq_rc (*tq_store_feed_cb)(void *ud, const struct tq_store_feed_item *item);
/* A page of the feed; cb runs with no connection held; *more says whether rows follow. */
tq_rc tq_store_feed(struct tq_store *store, const struct tq_store_feed_query *q,
                    tq_store_feed_cb cb, void *ud, bool *more, struct tq_err *err);

/*
 * The feed counted per time bin, direction and partner: bin b holds the rows with
 * b = (at_us - since_us) / bin_us, over [since_us, until_us). Called while the connection is
 * held: cb must not call the store.
 */
typedef tq_rc (*tq_store_feed_bin_cb)(void *ud, int64_t bin, int dir, const char *partner,
                                      int64_t count);
tq_rc tq_store_feed_histogram(struct tq_store *store, const struct tq_store_reader *reader,
                              int64_t since_us, int64_t until_us, int64_t bin_us,
                              tq_store_feed_bin_cb cb, void *ud, struct tq_err *err);

/* How many versions came in from partner and how many are released to it, as reader sees. */
tq_rc tq_store_feed_counts(struct tq_store *store, const struct tq_store_reader *reader,
                           const char *partner, int64_t *in, int64_t *out, struct tq_err *err);

#endif
