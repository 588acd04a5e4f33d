/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/screening.h - screening names against the watchlists kept in the store.
 *
 * Part of screen. A struct tq_screening holds one candidate index (tansiq/screen.h) per stored
 * list, built from tq_store_watchlist_names on first use and rebuilt when the list changed (its
 * imported_us). A list of format "stix" follows its collection: when identities or threat
 * actors were stored there after the list was built (by sync, say), the list is read again from
 * the collection and put back before it is screened. Hits of a stix list are shown only to a
 * reader who may read the entry's STIX object under the same rules as TAXII (read permission on
 * the collection, and for a partner a release of the object to it); the others are dropped
 * before ranking and limit, so they show in no count. docs/internals/screening.md has the
 * rules.
 */
#ifndef TANSIQ_SCREENING_H
#define TANSIQ_SCREENING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/monitor_store.h"
#include "tansiq/screen.h"
#include "tansiq/store.h"
#include "tansiq/watchlist_store.h"

#define TQ_SCREENING_LIMIT_DEFAULT 10
#define TQ_SCREENING_LIMIT_MAX 100                     /* hits of one query */
#define TQ_SCREENING_BATCH_ROWS_MAX 10000              /* rows of one batch */
#define TQ_SCREENING_BATCH_BYTES_MAX ((size_t)4 << 20) /* bytes of one batch's CSV */
#define TQ_SCREENING_ID_MAX 128                        /* bytes of a batch row's id */

struct tq_screening;

/*
 * A screening service over store (borrowed: it must outlive the service). Nothing is read
 * until the first query. Thread-safe: queries may run in parallel; a rebuild of one list runs
 * once while the others wait for it. *out owned (tq_screening_free).
 */
tq_rc tq_screening_new(struct tq_store *store, struct tq_screening **out, struct tq_err *err);
void tq_screening_free(struct tq_screening *s); /* NULL is a no-op */

/* One query. */
struct tq_screening_query {
    struct tq_str name;
    struct tq_str dob;         /* "1971", "1971-05-01", "1968/1970"; empty: unknown */
    struct tq_str nationality; /* ISO alpha-2 or a country's name; empty: unknown */
    const char *list;          /* NULL: every list */
    size_t limit;              /* 0: TQ_SCREENING_LIMIT_DEFAULT; at most TQ_SCREENING_LIMIT_MAX */
    double min_score;          /* hits below are dropped; 0: TQ_SCREEN_THRESHOLD */
    const struct tq_store_reader *reader; /* NULL: the node itself (the CLI), sees every list */
};

/* One candidate: an entry of a list and the name of it that matched best. */
struct tq_screening_hit {
    char list[TQ_WATCH_LIST_NAME_MAX + 1];
    char collection[37]; /* a stix list's collection (UUID): the entry's object is there; "" */
    char *ref;           /* the entry's own reference (QDi.001, a CSV id, a STIX id) */
    char *name;          /* the matched name as the list gives it */
    char *primary;       /* the entry's primary name */
    char *dob;           /* the entry's first date of birth as text, or NULL */
    char *nationality;   /* the entry's nationalities (ISO codes joined by ','), or NULL */
    enum tq_watch_kind kind;
    enum tq_watch_quality quality; /* what the matched name is to its entry */
    double score;                  /* in [0,1], facts included */
    struct tq_screen_result result;
    struct tq_screen_name matched; /* the matched name parsed, for the explanation */
};

struct tq_screening_answer {
    struct tq_screen_name query;   /* the query name parsed */
    struct tq_screen_facts facts;  /* the query's facts as read */
    struct tq_screening_hit *hits; /* best first */
    size_t n_hits;
    size_t lists; /* lists searched */
};

void tq_screening_answer_cleanup(struct tq_screening_answer *a);

/*
 * Screen q->name against q->list (or every list) as q->reader. On TQ_OK *out holds at most
 * q->limit hits at or above the threshold, best first, one per entry (owned:
 * tq_screening_answer_cleanup). Errors: TQ_EINVAL for a name tq_screen_name_parse refuses, an
 * unreadable dob or nationality, a limit out of range; TQ_ETOOBIG for an over-long name;
 * TQ_ENOTFOUND for an unknown list, and for a stix list the reader may not read (the same
 * answer, so that a list's existence is not told); store errors.
 */
tq_rc tq_screening_query(struct tq_screening *s, const struct tq_screening_query *q,
                         struct tq_screening_answer *out, struct tq_err *err);

/*
 * The answer as one JSON object appended to out: {"query":{"name","normal","birth_year",
 * "country"},"lists":N,"hits":[{"list","ref","kind","name","quality","primary","dob",
 * "nationality","score","explain":{...tq_screen_explain_json...,"dob":E,"nationality":E}}]},
 * E one of "agrees", "conflicts", "unknown". with_query false leaves "query" out (its name).
 */
tq_rc tq_screening_answer_json(const struct tq_screening_answer *a, bool with_query,
                               struct tq_buf *out);

/*
 * One hit's explanation in words appended to out: each aligned name part with how it matched
 * and its role ("julani~jwlani skeleton (nisba)", "-omar missing (nasab)"), then the effect of
 * the date of birth and the nationality.
 */
tq_rc tq_screening_explain_text(const struct tq_screening_answer *a, size_t i, struct tq_buf *out);

/*
 * Bring every list's index up to date now: stix lists whose collection changed are read again
 * and put back, changed lists rebuilt. *rebuilt (may be NULL) counts indexes built.
 */
tq_rc tq_screening_refresh(struct tq_screening *s, size_t *rebuilt, struct tq_err *err);

/* ---- batches -------------------------------------------------------------------------- */

/* One row of a batch, as handed to the callback; every pointer borrowed for the call. */
struct tq_screening_row {
    size_t row;        /* 1-based data row */
    size_t line;       /* line of the CSV text where it starts */
    size_t rows_total; /* data rows in the batch */
    const char *id;    /* the row's id column, or NULL */
    tq_rc rc;          /* TQ_OK: answer holds its hits; else err says why the row failed */
    const struct tq_err *err;
    const struct tq_screening_answer *answer; /* NULL when rc is not TQ_OK */
};

typedef tq_rc (*tq_screening_row_cb)(void *ud, const struct tq_screening_row *row);

struct tq_screening_batch_summary {
    size_t rows, screened, failed, with_hits, hits;
};

/*
 * Screen each row of a CSV text with a header (column name required; dob, nationality and id
 * optional, any case): q gives list, limit, min_score and reader, its name, dob and nationality
 * are ignored. A bad row (empty name, invalid UTF-8, over-long, a bad date) is handed to cb with
 * its error and the batch goes on. TQ_ETOOBIG for more than TQ_SCREENING_BATCH_BYTES_MAX bytes
 * or TQ_SCREENING_BATCH_ROWS_MAX rows, TQ_EINVAL for a missing name column or malformed CSV
 * (checked before any row is screened), TQ_ENOTFOUND for the list as tq_screening_query.
 * cb returning other than TQ_OK stops the batch with that code. *sum (may be NULL) counts.
 */
tq_rc tq_screening_batch(struct tq_screening *s, struct tq_str csv,
                         const struct tq_screening_query *q, tq_screening_row_cb cb, void *ud,
                         struct tq_screening_batch_summary *sum, struct tq_err *err);

#endif
