/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/psi_store.h - what the store keeps for private set intersection between partners: the
 * grants (which watchlist this node opens to which partner, in which modes, with which rate
 * limit and least peer list size) and one row per run, on either side, which the rate limit
 * counts.
 *
 * Part of the store (both backends, one engine). The runs table is the node's own record: it
 * holds the count of shared entries, which the audit leaf of a run leaves out
 * (docs/internals/psi.md, "Grants and runs").
 */
#ifndef TANSIQ_PSI_STORE_H
#define TANSIQ_PSI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"
#include "tansiq/watchlist_store.h"

#define TQ_PSI_GRANT_MATCHES 1u        /* modes: the partner may learn which entries are shared */
#define TQ_PSI_GRANT_CARDINALITY 2u    /* ... or only how many */
#define TQ_PSI_RUNS_PER_DAY_DEFAULT 10 /* answered runs per partner and list in 24 hours */
#define TQ_PSI_MIN_ENTRIES_DEFAULT                                                                 \
    10                            /* the least peer list size answered (a list of one probes)      \
                                   */
#define TQ_PSI_RUNS_PAGE_MAX 1000 /* runs of one tq_store_psi_run_list */
#define TQ_PSI_OUTCOME_MAX 48     /* "finished", "final-withheld", "refused: ..." */

/* One grant: partner may run PSI against list in modes. */
struct tq_store_psi_grant {
    char partner[TQ_NAME_MAX];
    char list[TQ_WATCH_LIST_NAME_MAX + 1];
    unsigned modes;        /* TQ_PSI_GRANT_* bits, at least one */
    unsigned runs_per_day; /* 0: no limit */
    unsigned min_entries;  /* the least peer list size answered; 0: any */
    int64_t created_us;    /* set by put */
};

/*
 * Open list to partner (insert, or replace the modes and limits of an existing grant, with a
 * new created_us). The list need not exist yet; the node checks it at each run. TQ_EINVAL for
 * a malformed partner or list name or modes without a known bit.
 */
tq_rc tq_store_psi_grant_put(struct tq_store *store, const struct tq_store_psi_grant *g,
                             struct tq_err *err);
/* The grant of (partner, list) into *out; TQ_ENOTFOUND when there is none. */
tq_rc tq_store_psi_grant_get(struct tq_store *store, const char *partner, const char *list,
                             struct tq_store_psi_grant *out, struct tq_err *err);
/* Close list to partner; TQ_ENOTFOUND when it was not open. */
tq_rc tq_store_psi_grant_delete(struct tq_store *store, const char *partner, const char *list,
                                struct tq_err *err);
/* Every grant, by partner and list; *out owned (tq_free), NULL when there are none. */
tq_rc tq_store_psi_grant_list(struct tq_store *store, struct tq_store_psi_grant **out, size_t *n,
                              struct tq_err *err);

/* One run as this node saw it. */
struct tq_store_psi_run {
    int64_t id;    /* set by admit */
    int64_t at_us; /* when the request was sent or arrived */
    char partner[TQ_NAME_MAX];
    char list[TQ_WATCH_LIST_NAME_MAX + 1]; /* the local list; "" when the request named none */
    char role[12];                         /* "requester" or "responder" */
    char session[2 * 16 + 1];              /* the session id, hex; "" when unknown */
    char mode[12];                         /* "matches" or "cardinality" */
    unsigned keys_per_entry;               /* */
    uint64_t own_entries, peer_entries;    /* */
    int64_t count;                         /* own entries shared; -1 unknown */
    char outcome[TQ_PSI_OUTCOME_MAX];      /* "started" until updated */
};

/*
 * Record a run, under a rate limit: in one write transaction, count the runs of the same
 * partner, list and role at or after since_us whose outcome is not a refusal, and insert run
 * (run->id set) unless that count has reached max_runs (0: no limit), which is TQ_EBUSY with
 * nothing written. Concurrent admits in several processes are serialised by the write lock,
 * so the limit holds across them.
 */
tq_rc tq_store_psi_run_admit(struct tq_store *store, struct tq_store_psi_run *run, int64_t since_us,
                             unsigned max_runs, struct tq_err *err);
/* Set the outcome, counts and session of run id (from *run). TQ_ENOTFOUND for an unknown id. */
tq_rc tq_store_psi_run_update(struct tq_store *store, const struct tq_store_psi_run *run,
                              struct tq_err *err);
/*
 * The latest runs (at most limit, 1..TQ_PSI_RUNS_PAGE_MAX), newest first, of partner (NULL:
 * every partner); *out owned (tq_free).
 */
tq_rc tq_store_psi_run_list(struct tq_store *store, const char *partner, size_t limit,
                            struct tq_store_psi_run **out, size_t *n, struct tq_err *err);

#endif
