/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/watchlist.h - reading watchlists: the UN Security Council consolidated list (XML),
 * simple CSV lists and the identities and threat actors of a STIX collection.
 *
 * Part of screen. Every reader turns untrusted input into struct tq_watch_entry
 * (tansiq/watchlist_store.h), the form the store keeps and the screening index is built from.
 * Readers are bounded: the XML reader refuses any document type declaration (and so every
 * entity declaration and external entity), caps element depth, attribute and text sizes and the
 * number of entries, and reports a malformed or truncated file with its line.
 * docs/internals/watchlist.md has the rules.
 */
#ifndef TANSIQ_WATCHLIST_H
#define TANSIQ_WATCHLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "tansiq/core.h"
#include "tansiq/store.h"
#include "tansiq/watchlist_store.h"

#define TQ_WATCHLIST_FILE_MAX ((size_t)256 << 20) /* bytes of a list file */
#define TQ_WATCHLIST_TEXT_MAX (64u << 10)         /* default: bytes of one kept text element */
#define TQ_WATCHLIST_ATTR_MAX 4096u               /* default: bytes of one attribute value */
#define TQ_WATCHLIST_DEPTH_MAX 16u                /* default: element nesting */

/* Limits of one read; 0 in a member takes its default. */
struct tq_watchlist_limits {
    size_t max_entries;    /* default TQ_WATCH_ENTRIES_MAX */
    size_t max_text_bytes; /* default TQ_WATCHLIST_TEXT_MAX */
    size_t max_attr_bytes; /* default TQ_WATCHLIST_ATTR_MAX */
    unsigned max_depth;    /* default TQ_WATCHLIST_DEPTH_MAX */
};

/*
 * Read the UN consolidated list XML (CONSOLIDATED_LIST with INDIVIDUALS and ENTITIES; lim may be
 * NULL). Each INDIVIDUAL or ENTITY becomes an entry: ref its REFERENCE_NUMBER, the primary name
 * its FIRST_NAME to FOURTH_NAME joined, NAME_ORIGINAL_SCRIPT as original-script names, its
 * aliases with their quality, dates of birth (a date, a year or a range of years), nationalities
 * (with ISO codes where tq_watch_country_iso knows the name), listed_on and UN_LIST_TYPE as the
 * program; comments, addresses and documents are left out. On TQ_OK *out (owned,
 * tq_watch_entries_free) holds *n entries in file order. Errors name the line: TQ_EINVAL for
 * malformed or truncated XML, a document type declaration, a record without a reference number
 * or a name, or another root; TQ_ETOOBIG for a limit.
 */
tq_rc tq_watchlist_parse_un(struct tq_str xml, const struct tq_watchlist_limits *lim,
                            struct tq_watch_entry **out, size_t *n, struct tq_err *err);

/*
 * Read a CSV list (tq_csv_* rules: the delimiter sniffed, a header row). Columns by header name,
 * any case: ref (or id, reference) and name (or full_name) are required; aliases, dob,
 * nationality (or nationalities, country), kind (individual/person or entity/organization),
 * original (or name_original, original_script), listed_on and program are optional. Several
 * aliases, dates or nationalities in one field are separated by ';' or '|'. TQ_EINVAL (with the
 * line) for a missing column, an empty ref, a row without any name, an unknown kind or date.
 */
tq_rc tq_watchlist_parse_csv(struct tq_str text, const struct tq_watchlist_limits *lim,
                             struct tq_watch_entry **out, size_t *n, struct tq_err *err);

/*
 * The latest versions of the identity and threat-actor objects of a collection (by id or
 * alias) as entries: ref the STIX id, the object's name as the primary name and its aliases as
 * good-quality aliases; identity_class "individual" makes an individual, other classes an
 * entity, a threat actor is an entity unless its threat_actor_types say otherwise. Revoked
 * objects are left out. TQ_ENOTFOUND for an unknown collection.
 */
tq_rc tq_watchlist_from_stix(struct tq_store *store, const char *collection,
                             const struct tq_watchlist_limits *lim, struct tq_watch_entry **out,
                             size_t *n, struct tq_err *err);

/*
 * The ISO 3166-1 alpha-2 code of a country as lists name it ("Iraq", "Syrian Arab Republic",
 * "Türkiye", "IQ"), ASCII case ignored and surrounding spaces trimmed; NULL when unknown.
 */
const char *tq_watch_country_iso(struct tq_str name);

/*
 * A name as lists should have written it: surrounding white space trimmed, runs of white space
 * and control characters inside collapsed to one space. Returns a new string (tq_free), NULL
 * when nothing is left; TQ_EINVAL in *rc for invalid UTF-8, TQ_ETOOBIG over TQ_WATCH_NAME_MAX.
 */
char *tq_watch_name_clean(struct tq_str s, tq_rc *rc);

#endif
