/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/watchlist_store.h - watchlists kept in the store: named lists of screened persons and
 * entities, each entry with its names, dates of birth and nationalities.
 *
 * Part of the store (both backends, one engine). The entry type lives here rather than in
 * tansiq/watchlist.h because the store, ranked below screening, keeps it: the importers of
 * screen (tansiq/watchlist.h) fill it, the store diffs and keeps it, and the screening index is
 * rebuilt from tq_store_watchlist_names without reading any file again.
 *
 * An entry is identified in its list by its ref (a UN reference number such as QDi.001, a CSV
 * row's id, a STIX id). Each entry is kept whole as JSON (tq_watch_entry_json) beside the
 * columns a search needs, and every name (primary, original script, aliases) is a row of its
 * own. docs/internals/watchlist.md has the tables and the rules.
 */
#ifndef TANSIQ_WATCHLIST_STORE_H
#define TANSIQ_WATCHLIST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"

/* ---- entries -------------------------------------------------------------------------- */

#define TQ_WATCH_LIST_NAME_MAX 64    /* bytes of a list's name */
#define TQ_WATCH_REF_MAX 256         /* bytes of an entry's ref */
#define TQ_WATCH_NAME_MAX 1024       /* bytes of one name */
#define TQ_WATCH_NAMES_MAX 512       /* names of one entry */
#define TQ_WATCH_VALUES_MAX 64       /* dates of birth, or nationalities, of one entry */
#define TQ_WATCH_ENTRIES_MAX 2000000 /* entries of one list */
#define TQ_WATCH_PAGE_MAX 10000      /* entries of one page of tq_store_watchlist_get */

enum tq_watch_kind {
    TQ_WATCH_INDIVIDUAL = 0,
    TQ_WATCH_ENTITY = 1,
    TQ_WATCH_UNKNOWN = 2, /* a CSV row without a kind, say */
};

/* What a name is to its entry, as the list gives it. */
enum tq_watch_quality {
    TQ_WATCH_PRIMARY = 0,  /* the entry's own name (the UN list: its name parts joined) */
    TQ_WATCH_ORIGINAL = 1, /* the name in its original script (NAME_ORIGINAL_SCRIPT) */
    TQ_WATCH_GOOD = 2,     /* an alias of good quality (UN "Good", an entity's "a.k.a.") */
    TQ_WATCH_LOW = 3,      /* an alias of low quality (UN "Low": often a nickname or kunya) */
    TQ_WATCH_FORMER = 4,   /* a former name (UN "f.k.a.") */
};

struct tq_watch_name {
    char *name;                    /* trimmed, inner whitespace collapsed, valid UTF-8 */
    enum tq_watch_quality quality; /* */
    char script[5];                /* ISO 15924 of its letters: Latn Arab Cyrl Hang Hani, Zyyy
                                      mixed or none (tq_watch_script) */
};

/* A date of birth as lists give them: an exact date, a year, or a range of years. */
enum tq_watch_dob_kind { TQ_WATCH_DOB_DATE, TQ_WATCH_DOB_YEAR, TQ_WATCH_DOB_RANGE };

struct tq_watch_dob {
    enum tq_watch_dob_kind kind;
    int year, month, day; /* month and day 0 unless DATE */
    int to_year;          /* RANGE: the last year (year is the first) */
    bool approximate;     /* the list says "approximately" */
};

struct tq_watch_nationality {
    char *name;  /* as the list gives it ("Iraq", "Syrian Arab Republic") */
    char iso[3]; /* ISO 3166-1 alpha-2 when known ("IQ"), else "" */
};

/*
 * One entry of a list; every member owned (tq_watch_entries_free). names[0] is the primary name
 * when the entry has one.
 */
struct tq_watch_entry {
    char *ref;
    enum tq_watch_kind kind;
    char *program;   /* the list's own grouping (UN_LIST_TYPE: "Al-Qaida"), may be NULL */
    char *listed_on; /* YYYY-MM-DD, may be NULL */
    struct tq_watch_name *names;
    size_t n_names;
    struct tq_watch_dob *dobs;
    size_t n_dobs;
    struct tq_watch_nationality *nats;
    size_t n_nats;
};

void tq_watch_entry_cleanup(struct tq_watch_entry *e);
void tq_watch_entries_free(struct tq_watch_entry *v, size_t n); /* NULL is a no-op */

/* "individual", "entity", "unknown"; and the quality's word ("primary", "good", ...). */
const char *tq_watch_kind_str(enum tq_watch_kind k);
const char *tq_watch_quality_str(enum tq_watch_quality q);
/* A date of birth as text into out[24]: "1961-01-01", "1961", "1958/1960", "~" before an
 * approximate one. */
void tq_watch_dob_format(const struct tq_watch_dob *d, char out[24]);
/*
 * A date of birth from that text form (and from a list's plain "1961", "1961-01-01" or
 * "1958/1960"); false, *out untouched, for anything else.
 */
bool tq_watch_dob_parse(struct tq_str s, struct tq_watch_dob *out);
/*
 * The ISO 15924 code of the letters of a UTF-8 name into out[5]: "Latn", "Arab", "Cyrl",
 * "Hang", "Hani" (Han and kana), "Zyyy" when letters of several scripts or none are present.
 */
void tq_watch_script(const char *name, char out[5]);

/*
 * The entry as one JSON object in a fixed form (members in a fixed order, no whitespace), the
 * form the store keeps and compares: two entries are the same exactly when their forms are.
 * Appends to out; TQ_ETOOBIG when out's cap is reached.
 */
tq_rc tq_watch_entry_json(const struct tq_watch_entry *e, struct tq_buf *out);
/* The entry back from that JSON (TQ_EJSON or TQ_EINVAL for anything else); *out owned. */
tq_rc tq_watch_entry_from_json(struct tq_str json, struct tq_watch_entry *out, struct tq_err *err);

/* ---- lists ---------------------------------------------------------------------------- */

struct tq_store_watchlist {
    char *name;
    char *source; /* the file or collection it came from, may be NULL */
    char *format; /* "un-xml", "csv", "stix" */
    int64_t imported_us;
    uint64_t entries;
};

void tq_store_watchlist_cleanup(struct tq_store_watchlist *w);
void tq_store_watchlists_free(struct tq_store_watchlist *v, size_t n);

/* What a put changed, by ref: each array sorted, owned (tq_store_watchlist_diff_cleanup). */
struct tq_store_watchlist_diff {
    bool created; /* the list did not exist before */
    char **added, **changed, **removed;
    size_t n_added, n_changed, n_removed;
    size_t unchanged;
};

void tq_store_watchlist_diff_cleanup(struct tq_store_watchlist_diff *d);

/*
 * Make list w->name hold exactly entries e[0..n) (w->source and w->format recorded, imported_us
 * set to now): a new list is created; an existing one is brought to the new state in one
 * transaction, entries compared by ref, and *diff (may be NULL) says which refs were added,
 * changed (any field differs) and removed. The refs of e must be distinct (TQ_EINVAL names the
 * first duplicate), non-empty and at most TQ_WATCH_REF_MAX bytes; n at most
 * TQ_WATCH_ENTRIES_MAX (TQ_ETOOBIG). On failure nothing is changed.
 */
tq_rc tq_store_watchlist_put(struct tq_store *store, const struct tq_store_watchlist *w,
                             const struct tq_watch_entry *e, size_t n,
                             struct tq_store_watchlist_diff *diff, struct tq_err *err);

/* Every list, by name; *out owned (tq_store_watchlists_free). */
tq_rc tq_store_watchlist_list(struct tq_store *store, struct tq_store_watchlist **out, size_t *n,
                              struct tq_err *err);

/*
 * One list (its row into *info, may be NULL) and a page of its entries in ref order: at most
 * limit (1..TQ_WATCH_PAGE_MAX) entries whose ref is after after_ref (NULL: from the first),
 * into *entries (owned, tq_watch_entries_free); *more says whether more follow (resume after
 * the last ref). TQ_ENOTFOUND when there is no such list.
 */
tq_rc tq_store_watchlist_get(struct tq_store *store, const char *list, const char *after_ref,
                             size_t limit, struct tq_store_watchlist *info,
                             struct tq_watch_entry **entries, size_t *n, bool *more,
                             struct tq_err *err);

/* Delete a list and everything in it. TQ_ENOTFOUND when there is no such list. */
tq_rc tq_store_watchlist_remove(struct tq_store *store, const char *list, struct tq_err *err);

/* One name of a list as tq_store_watchlist_names hands it; every pointer borrowed for the call. */
struct tq_store_watch_name {
    const char *ref;
    enum tq_watch_kind kind;
    const char *name;
    enum tq_watch_quality quality;
    const char *script;
    const char *dob;         /* the entry's first date of birth (tq_watch_dob_format), or NULL */
    const char *nationality; /* the entry's ISO codes (else names) joined by ',', or NULL */
};

typedef tq_rc (*tq_store_watch_name_cb)(void *ud, const struct tq_store_watch_name *row);

/*
 * Every name of a list, in (ref, position) order, for building the screening index: read a page
 * at a time with no connection held while cb runs (cb may use the store; a list changed
 * meanwhile is seen page by page). cb returning anything but TQ_OK stops the walk with that
 * code. TQ_ENOTFOUND when there is no such list.
 */
tq_rc tq_store_watchlist_names(struct tq_store *store, const char *list, tq_store_watch_name_cb cb,
                               void *ud, struct tq_err *err);

#endif
