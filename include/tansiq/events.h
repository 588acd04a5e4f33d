/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/events.h - georeferenced event files (UCDP GED, GeoJSON, simple CSV) into STIX 2.1.
 *
 * Part of geo. An event file is read row by row into struct tq_event (one callback per event;
 * every row skipped or value repaired is reported with its line), and each event becomes a STIX
 * incident carrying the node's incident extension (and the seizure extension when it counts
 * seized items). The extension-definitions and the identity that authored them are fixed
 * bytes, the same on every node. docs/internals/events.md has the formats, the mapping tables
 * and the JSON Schemas of the extensions.
 */
#ifndef TANSIQ_EVENTS_H
#define TANSIQ_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"

struct json_object;

/* The identity that authored the extension-definitions (fixed on every node). */
#define TQ_EVENTS_IDENTITY "identity--5a0c7e1b-3d2f-4b6a-8c9e-1f2a3b4c5d6e"
/* property-extension: kind, latitude, longitude, where_prec, date_prec, start, end,
 * fatalities, reported_adm1, reported_adm2, country. */
#define TQ_EXT_INCIDENT "extension-definition--f1fc3882-b2d1-4d3a-b4a8-12bad3930960"
/* property-extension: quantities [{item, amount, unit}]. */
#define TQ_EXT_SEIZURE "extension-definition--044a88c2-c0b1-45dd-bb1d-d18ddd6dbd7a"
/* new-sco phone-number: value (E.164). */
#define TQ_EXT_PHONE "extension-definition--6dd5bd38-4412-41db-a106-171b83a16d44"
/* new-sco vehicle-plate: value, country (ISO 3166-1 alpha-2), region. */
#define TQ_EXT_PLATE "extension-definition--0aba0dfa-5095-4097-b67d-40035824d9b1"

#define TQ_EVENTS_MAX_BYTES (64u << 20) /* default limit of an event file */
#define TQ_EVENTS_MAX_FEATURES 1000000  /* GeoJSON features in one file */
#define TQ_EVENTS_MAX_QUANTITIES 64     /* quantities of one event */
#define TQ_EVENT_TIME_UNKNOWN INT64_MIN /* tq_event_point.start_us without a start */

enum tq_events_format { TQ_EVENTS_UCDP, TQ_EVENTS_GEOJSON, TQ_EVENTS_CSV };

/* One counted item of a seizure: 120000 "pills" of "captagon". */
struct tq_event_quantity {
    const char *item;
    double amount; /* finite, >= 0 */
    const char *unit;
};

/* One event; every pointer is borrowed for the callback only. */
struct tq_event {
    const char *kind; /* attack, clash, explosion, seizure, crossing, sighting, arrest, other */
    double lon, lat;  /* WGS 84 degrees, range-checked, finite */
    int where_prec;   /* UCDP precision codes as the file gives them; 0 when unknown */
    int date_prec;
    int64_t start_us, end_us; /* end_us >= start_us */
    const char *name;         /* never NULL (made from kind and date when the file has none) */
    const char *description;  /* NULL when none */
    const char *source;       /* "ucdp-ged", or the file name the caller gave */
    const char *source_id;    /* the file's own id of the event; NULL when none */
    const char *reported_adm1, *reported_adm2, *country; /* as the file says; NULL when none */
    long fatalities;                                     /* -1 unknown */
    size_t n_quantities;
    const struct tq_event_quantity *quantities;
    size_t line; /* line of the row (CSV), or 1-based index of the feature (GeoJSON) */
};

typedef tq_rc (*tq_event_cb)(void *ud, const struct tq_event *e);
/* A row skipped or a value repaired, with its line and the reason in words. */
typedef void (*tq_event_problem_cb)(void *ud, size_t line, const char *what);

struct tq_events_options {
    enum tq_events_format format;
    char delimiter;              /* CSV formats: 0 sniffs among , ; TAB | */
    const char *source;          /* source name of GeoJSON and CSV events; NULL: the format */
    tq_event_problem_cb problem; /* may be NULL */
    void *ud;                    /* for problem */
    size_t max_bytes;            /* 0: TQ_EVENTS_MAX_BYTES */
};

struct tq_events_stats {
    size_t rows;     /* data rows or features read */
    size_t events;   /* events passed to the callback */
    size_t skipped;  /* rows refused (each reported) */
    size_t repaired; /* rows passed with a value repaired (each reported) */
};

/*
 * Parse an event file (text borrowed) and call cb once per good event, in file order. Rows
 * with a bad location (outside [-90,90] x [-180,180], NaN, inf, empty, not a number), a bad
 * date, a ragged row or a non-Point feature are skipped and reported; an unknown kind becomes
 * "other", a bad precision code 0 and a bad fatality count -1, each reported as a repair.
 * Returns TQ_ETOOBIG above max_bytes, TQ_EINVAL for a file that cannot be read as the format
 * (not UTF-8, a missing required column named in err, an unterminated quote, not a
 * FeatureCollection), TQ_EJSON for GeoJSON that is not strict JSON, or the first non-OK code
 * cb returns (parsing stops there). *st (may be NULL) is filled in every case.
 */
tq_rc tq_events_parse(struct tq_str text, const struct tq_events_options *o, tq_event_cb cb,
                      void *ud, struct tq_events_stats *st, struct tq_err *err);

/*
 * Append one event as a STIX 2.1 incident (compact JSON) to out. The id is a UUIDv5 under a
 * fixed tansiq namespace of "<source>:<source_id>" when source_id is set (re-importing a file
 * gives the same ids), else of the event's content; created and modified are the event's end
 * (milliseconds), never the wall clock. created_by_ref (an identity id, may be NULL) is the
 * caller's. TQ_EINVAL for an event that breaks tq_events_parse's guarantees (range, kind,
 * times) or a malformed created_by_ref; TQ_ETOOBIG when out is full (out is then unchanged).
 */
tq_rc tq_event_to_stix(const struct tq_event *e, const char *created_by_ref, struct tq_buf *out,
                       struct tq_err *err);

/*
 * A phone-number (value E.164: '+' and 2-15 digits, no leading zero) or vehicle-plate (value
 * 1-32 of A-Z, 0-9, '-', ' ', Arabic letters and digits; country two upper-case letters; region
 * may be NULL) SCO with its deterministic id (UUIDv5 of the JCS form of its id-contributing
 * properties, STIX namespace 00abedb4-...), appended to out. TQ_EINVAL for a malformed value.
 */
tq_rc tq_events_phone_to_stix(const char *e164, struct tq_buf *out, struct tq_err *err);
tq_rc tq_events_plate_to_stix(const char *value, const char *country, const char *region,
                              struct tq_buf *out, struct tq_err *err);

/*
 * The kind vocabulary: the canonical spelling of s (ASCII case-insensitive, surrounding spaces
 * ignored; a few ACLED event types map too: "Battles" is clash, "Explosions/Remote violence"
 * explosion, "Violence against civilians" attack), NULL when s is not in it. The result is a
 * static string.
 */
const char *tq_event_kind_normal(const char *s);

/* The node's extension-definitions and their identity: a JSON array, fixed bytes. */
const char *tq_events_definitions_json(void);

/* The point of a stored object, for tagging and the map. */
struct tq_event_point {
    char kind[32];
    double lon, lat;
    int where_prec;   /* 0 when absent */
    int64_t start_us; /* TQ_EVENT_TIME_UNKNOWN when absent */
};

/*
 * True when obj (borrowed; an incident, sighting or observed-data) carries the incident
 * extension with a kind and a finite latitude in [-90,90] and longitude in [-180,180]; *out is
 * written only then. A start that is present but not a STIX timestamp refuses the object.
 */
bool tq_event_point_of(const struct json_object *obj, struct tq_event_point *out);

#endif
