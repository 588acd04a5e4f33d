/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/sync.h - pulling partners' collections (federation, receiving side).
 *
 * A sync connects to a partner's TAXII server over mutual TLS (the partner's pinned certificate
 * as the only trust anchor, this node's certificate as the client certificate), lists the
 * collections the partner lets us read, maps each to a local collection of its own, reads the
 * manifest after a stored cursor, fetches only the versions missing here, checks each against
 * the inbound policy and stores it with provenance. Every so often (or on request) it walks the
 * partner's whole manifest and withdraws local versions the partner no longer lists.
 * docs/internals/sync.md has the protocol and the exactly-once argument.
 *
 * Each remote collection R of partner P maps to one local collection whose id is derived from
 * (P, R), so a crash between creating it and recording anything cannot leave a stray copy; it
 * is created on first sight with the alias "P.<R's alias, else R's first 8 characters>" and
 * the title "<R's title> (from P)". Store metadata used (meta table):
 *   sync.P.R.cursor   date_added (partner's clock) of the last manifest row fully handled
 *   sync.P.R.runs     syncs of this collection so far (drives the periodic full walk)
 *   audit.cosigned.P  size of the latest checkpoint of ours that P cosigned (witnessing)
 *
 * With witnessing on (an audit log and both signers in the options), every sync of P also
 * (1) before any collection, watches P's log as its witness: fetches P's /log/checkpoint,
 * proves it consistent with the checkpoint of P cosigned last from P's hash tiles and passes it
 * to tq_witness_add_checkpoint (witness.h), so a rewritten or truncated log raises an alarm and
 * stops the sync before any data is pulled from it; (2) after the collections, asks P to
 * cosign a fresh checkpoint of this node's log (POST /log/add-checkpoint with a consistency
 * proof from the size P cosigned last) and keeps P's verified cosignature with it. Right after
 * (1), the openings of P's log entries that name this node (GET /log/openings) are fetched,
 * checked against the checkpoint just cosigned and kept as receipts (tq_store_receipts_put);
 * meta audit.receipts.P is the leaf index they were fetched up to.
 *
 * Thread rule: calls for different partners may run on different threads at once; two syncs
 * of the same partner at once are harmless (each version is stored once) but wasteful.
 */
#ifndef TANSIQ_SYNC_H
#define TANSIQ_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"

struct tq_audit_log;
struct tq_note_signer;

#define TQ_SYNC_PAGE_DEFAULT 1000      /* manifest rows per request */
#define TQ_SYNC_FETCH_MAX 64           /* object ids per objects request (match[id]) */
#define TQ_SYNC_ATTEMPTS_DEFAULT 5     /* tries per request on transient failures */
#define TQ_SYNC_BACKOFF_DEFAULT_MS 500 /* first wait; doubles after each failed try */
#define TQ_SYNC_BACKOFF_MAX_DEFAULT_MS 8000
#define TQ_SYNC_FULL_EVERY_DEFAULT 24 /* a full manifest walk every N syncs of a collection */

/* Return true to stop a running sync at the next request boundary (it ends with TQ_EBUSY). */
typedef bool (*tq_sync_cancel_cb)(void *ud);

struct tq_sync_options {
    bool full;               /* walk the whole manifest now and withdraw what it lacks */
    unsigned full_every;     /* periodic full walk; 0: TQ_SYNC_FULL_EVERY_DEFAULT */
    size_t page_limit;       /* manifest rows per request; 0: TQ_SYNC_PAGE_DEFAULT */
    size_t max_pages;        /* stop each collection after this many manifest pages; 0: none */
    unsigned max_attempts;   /* 0: TQ_SYNC_ATTEMPTS_DEFAULT */
    unsigned backoff_ms;     /* 0: TQ_SYNC_BACKOFF_DEFAULT_MS */
    unsigned backoff_max_ms; /* 0: TQ_SYNC_BACKOFF_MAX_DEFAULT_MS */
    unsigned timeout_ms;     /* per request; 0: the client's default */
    tq_sync_cancel_cb cancel;
    void *cancel_ud;
    /*
     * Witnessing: all three set (borrowed for the call) turns it on, any NULL leaves it off.
     * audit is this node's log, log_signer signs its checkpoints (tq_node_log_signer) and
     * witness_signer cosigns partners' checkpoints (tq_node_witness_signer).
     */
    struct tq_audit_log *audit;
    const struct tq_note_signer *log_signer;
    const struct tq_note_signer *witness_signer;
};

/* What happened to one remote collection. */
struct tq_sync_collection_stats {
    char *remote_id;
    char *local_id;
    char *local_alias;  /* may be NULL */
    uint64_t listed;    /* manifest rows read */
    uint64_t fetched;   /* objects received */
    uint64_t stored;    /* new versions stored */
    uint64_t present;   /* versions already here (a re-fetch after a crash, or a race) */
    uint64_t refused;   /* refused by the inbound policy, or not asked for: not stored */
    uint64_t invalid;   /* failed STIX validation: not stored */
    uint64_t withdrawn; /* local versions deleted because the partner no longer lists them */
    bool full;          /* this run walked the whole manifest */
    bool complete;      /* the manifest was read to its end (false after max_pages) */
    tq_rc rc;           /* TQ_OK, or why this collection stopped */
};

struct tq_sync_stats {
    struct tq_sync_collection_stats *colls;
    size_t n_colls;
    uint64_t requests;    /* HTTP requests made, retries included */
    uint64_t retries;     /* requests repeated after a transient failure */
    uint64_t connections; /* TLS connections opened (1 when keep-alive held) */

    /* Witnessing (all zero when it is off). */
    uint64_t alarms;         /* alarms raised against the partner's log by this sync (0 or 1) */
    bool witnessed;          /* this node cosigned the partner's current checkpoint */
    uint64_t witnessed_size; /* ... of this many leaves */
    bool cosigned;           /* the partner cosigned a checkpoint of this node's log */
    uint64_t cosigned_size;  /* ... of this many leaves */
    char *watch_warning;     /* why watching the partner's log did not complete, or NULL */
    char *ask_warning;       /* why the partner did not cosign, or NULL */
    uint64_t receipts;       /* openings of the partner's log naming this node kept this run */
    tq_rc receipts_rc;       /* TQ_OK, or why the receipts step stopped (TQ_EINTEGRITY: an */
    char *receipts_warning;  /* opening contradicts the checkpoint); its reason, or NULL */
};

void tq_sync_stats_cleanup(struct tq_sync_stats *s); /* leaves *s empty; NULL is a no-op */

/*
 * Pull every collection partner lets us read into its local collection. cert_path and
 * key_path are this node's TLS certificate and key (tq_node_tls_paths), presented as the
 * client certificate. stats (may be NULL) is filled as far as the sync got, also on failure;
 * the caller cleans it up in either case.
 *
 * A failure in one collection does not stop the others; the call returns the first error.
 * With witnessing on, an alarm against the partner's log stops the sync before any collection
 * with TQ_EINTEGRITY and a message starting "ALARM:" (stats->alarms is 1, the evidence is kept,
 * tq_store_alarm_list); TQ_EINTEGRITY also when the partner claims to have cosigned more of
 * this node's log than it holds. Other witnessing failures are warnings (logged, and kept in
 * stats) that do not fail the sync.
 * Errors: TQ_ENOTFOUND unknown partner; TQ_ECONFIG partner without a TAXII URL or with an
 * unreadable pinned certificate; TQ_ETLS the partner's certificate is not the pinned one or
 * it refused ours; TQ_EIO / TQ_EBUSY still failing after the retries; TQ_EBUSY cancelled;
 * TQ_EAUTH / TQ_EFORBIDDEN the partner refused us; TQ_EUNPROCESSABLE / TQ_EJSON a malformed
 * answer; store errors. Whatever was stored before an error stays stored, and the cursor
 * covers exactly it, so the next sync resumes where this one stopped.
 */
tq_rc tq_sync_partner(struct tq_store *store, const char *cert_path, const char *key_path,
                      const char *partner, const struct tq_sync_options *opts,
                      struct tq_sync_stats *stats, struct tq_err *err);

/* Called by tq_sync_all after each partner (rc and err tell how it went). May be NULL. */
typedef void (*tq_sync_partner_cb)(void *ud, const char *partner, tq_rc rc,
                                   const struct tq_err *err, const struct tq_sync_stats *stats);

/*
 * tq_sync_partner for every registered partner in name order. *failed (may be NULL) receives
 * the number of partners whose sync failed. Returns TQ_OK when the partner list could be read,
 * whatever the partners' outcomes (each is logged and passed to cb).
 */
tq_rc tq_sync_all(struct tq_store *store, const char *cert_path, const char *key_path,
                  const struct tq_sync_options *opts, tq_sync_partner_cb cb, void *ud,
                  size_t *failed, struct tq_err *err);

#endif
