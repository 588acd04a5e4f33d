/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/psi_node.h - private set intersection between two nodes: the requester's run
 * (`tansiq psi PARTNER --list NAME`) and the responder that a serving node hands to its HTTP
 * server (tq_server_config.psi).
 *
 * A watchlist becomes a PSI list entry by entry: an entry's keys are the union of the PSI keys
 * (tq_screen_psi_keys) of all its names, in the order the list gives the names (the primary
 * name first), deduplicated and cut at K keys per entry; an entry that had more is "trimmed"
 * (its first K keys are kept, the same way every time, and the run says which refs). Lists
 * built from STIX (format "stix") are refused on both sides: they may hold other partners'
 * data. Both sides record the run in the store (tansiq/psi_store.h) and as a leaf of the audit
 * log (kind "psi"); docs/internals/psi.md has the leaf, the limits and the multi-process note.
 */
#ifndef TANSIQ_PSI_NODE_H
#define TANSIQ_PSI_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/psi.h"
#include "tansiq/psi_store.h"
#include "tansiq/store.h"

struct tq_audit_log;

#define TQ_PSI_NODE_KEYS_DEFAULT 8        /* keys per entry K, the padding of a run */
#define TQ_PSI_NODE_STALL_S_DEFAULT 60    /* the responder keeps a session this long for FINAL */
#define TQ_PSI_NODE_TIMEOUT_S_DEFAULT 300 /* the requester's whole run */
#define TQ_PSI_NODE_PENDING_MAX 64        /* sessions awaiting FINAL in one process */
#define TQ_PSI_NODE_REFUSALS_PER_DAY_DEFAULT 100 /* refusals of a partner recorded one by one */

/* ---- requester ------------------------------------------------------------------------ */

struct tq_psi_run_options {
    const char *list;        /* the local watchlist */
    const char *peer_list;   /* the partner's list; NULL: the same name */
    enum tq_psi_mode mode;   /* 0: matches */
    unsigned keys_per_entry; /* K, 1..16; 0: TQ_PSI_NODE_KEYS_DEFAULT */
    unsigned timeout_s;      /* the whole run; 0: TQ_PSI_NODE_TIMEOUT_S_DEFAULT */
    /* The FINAL message is withheld (the partner learns nothing) when the partner's list is
     * smaller than this: a list of one is a probe. 0: TQ_PSI_MIN_ENTRIES_DEFAULT. */
    unsigned min_peer_entries;
    struct tq_audit_log *audit; /* this node's log, borrowed; required */
};

/* One of the requester's own entries that the partner also holds. */
struct tq_psi_match {
    char *ref;
    char *name; /* its primary (first) name; may be NULL */
};

struct tq_psi_run_result {
    char session[2 * TQ_PSI_SESSION_ID_BYTES + 1]; /* hex */
    enum tq_psi_mode mode;
    unsigned keys_per_entry;
    size_t own_entries, peer_entries;
    size_t own_points, peer_points;
    size_t count;                 /* own entries the partner also holds */
    struct tq_psi_match *matched; /* MATCHES mode: count of them, in ref order; else NULL */
    char **trimmed;               /* refs of own entries cut at K keys */
    size_t n_trimmed;
    uint8_t list_digest[32];          /* SHA-256 of the key set sent (docs/internals/psi.md) */
    char outcome[TQ_PSI_OUTCOME_MAX]; /* "finished", "final-withheld", ... */
};

void tq_psi_run_result_cleanup(struct tq_psi_run_result *r); /* NULL is a no-op */

/*
 * Run PSI with partner over mutual TLS (cert_path and key_path: this node's certificate and
 * key, tq_node_tls_paths; the partner's pinned certificate is the only trust anchor, as for a
 * sync). The run is recorded (store and audit leaf) whatever its end. On TQ_OK *out holds what
 * this side learned (clean up with tq_psi_run_result_cleanup; also filled as far as the run got
 * on failure). Errors: TQ_ENOTFOUND unknown partner or list; TQ_EFORBIDDEN a STIX list here, or
 * the partner refused (not opened to us: its text in err); TQ_EBUSY the partner's rate limit;
 * TQ_EUNPROCESSABLE the partner found our list too small; TQ_EIO, TQ_ETLS transport; TQ_EINVAL
 * a malformed answer; TQ_ETOOBIG a list over TQ_PSI_NET_MAX_ENTRIES.
 */
tq_rc tq_psi_run(struct tq_store *store, const char *cert_path, const char *key_path,
                 const char *partner, const struct tq_psi_run_options *opts,
                 struct tq_psi_run_result *out, struct tq_err *err);

/* ---- responder ------------------------------------------------------------------------ */

struct tq_psi_responder;

struct tq_psi_responder_options {
    unsigned stall_s; /* keep a session awaiting FINAL this long; 0: the default */
    /* Refusals of one partner recorded one by one (row and leaf) in 24 hours; past them they are
     * counted and summed up in one row and leaf when the window ends or the responder stops
     * (docs/internals/psi.md, "Abuse model"). 0: TQ_PSI_NODE_REFUSALS_PER_DAY_DEFAULT. */
    unsigned refusals_per_day;
};

/*
 * A responder for store and audit (both borrowed, must outlive it), with a thread that expires
 * stalled sessions (each logged as final-withheld). Thread-safe: the HTTP server calls it from
 * its worker threads.
 */
tq_rc tq_psi_responder_new(struct tq_store *store, struct tq_audit_log *audit,
                           const struct tq_psi_responder_options *opts,
                           struct tq_psi_responder **out, struct tq_err *err);
/* Stop the thread, log every pending session as final-withheld and free. NULL is a no-op. */
void tq_psi_responder_free(struct tq_psi_responder *r);

/*
 * Answer a REQUEST of partner for list, appending the RESPONSE to out, and keep the session
 * for the FINAL. Refusals (each recorded as a run and a leaf, up to refusals_per_day of a
 * partner; past them counted, with the same answer): TQ_EFORBIDDEN with one text for
 * no such list, a list not opened to partner, a mode not granted and a STIX list; TQ_EBUSY the
 * rate limit or too many pending sessions; TQ_EUNPROCESSABLE the request's list is smaller than
 * the grant's min_entries; TQ_EINVAL, TQ_ETOOBIG a malformed or oversized message.
 */
tq_rc tq_psi_responder_request(struct tq_psi_responder *r, const char *partner, const char *list,
                               struct tq_str body, struct tq_buf *out, struct tq_err *err);
/*
 * Conclude the session the FINAL names, for the same partner only. TQ_ENOTFOUND when this
 * process holds no such session (expired, or answered by another serve process); TQ_EINVAL for
 * a malformed FINAL (the run is then recorded as final-invalid).
 */
tq_rc tq_psi_responder_final(struct tq_psi_responder *r, const char *partner, struct tq_str body,
                             struct tq_err *err);
/* Sessions awaiting their FINAL. */
size_t tq_psi_responder_pending(struct tq_psi_responder *r);

#endif
