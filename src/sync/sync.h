/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/sync.h - internal interface of the sync module.
 *
 * Helpers shared by the files of src/sync and exposed to the unit test: the public-key pin of a
 * partner's certificate, the local collection id a remote collection maps to, the set of
 * (id, version) pairs a full manifest walk has seen, the reader of a partner's tlog tiles
 * (tiles.c) and the two witnessing steps of a sync (witness.c).
 */
#ifndef TQ_SYNC_INTERNAL_H
#define TQ_SYNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tansiq/client.h"
#include "tansiq/merkle.h"
#include "tansiq/psi_node.h"
#include "tansiq/sync.h"

/* "sha256//" + base64 of SHA-256 (44 characters) + NUL */
#define TQ_SYNC_PIN_MAX 64

/*
 * The CURLOPT_PINNEDPUBLICKEY string for the first certificate of cert_pem: "sha256//" and the
 * base64 SHA-256 of its SubjectPublicKeyInfo. TQ_ECONFIG when cert_pem holds no certificate.
 */
tq_rc tq__sync_pubkey_pin(const char *cert_pem, char out[TQ_SYNC_PIN_MAX], struct tq_err *err);

/*
 * A TAXII client to the registered partner: its URL, its certificate as the only CA and pinned
 * by public key, ours (cert_path, key_path) presented. *p receives the partner's record (the
 * caller cleans it up, whatever the outcome). TQ_ECONFIG when the partner has no URL.
 */
tq_rc tq__sync_partner_client(struct tq_store *store, const char *partner, const char *cert_path,
                              const char *key_path, unsigned timeout_ms, size_t max_response,
                              struct tq_partner *p, struct tq_client **out, struct tq_err *err);

/*
 * The id of the local collection that receives partner's remote collection: a UUID (version 8,
 * RFC 9562) made from a hash of both names, the same on every call.
 */
void tq__sync_local_id(const char *partner, const char *remote_id, char out[37]);

/* A set of (object id, version) pairs, kept as 128-bit hashes. */
struct tq__sync_set {
    uint8_t (*keys)[16];
    size_t n, cap;
    size_t max; /* most entries; adding more fails with TQ_ETOOBIG */
    bool sorted;
};

/* version_us TQ__SYNC_ANY_VERSION stands for "some version of id". */
#define TQ__SYNC_ANY_VERSION INT64_MIN

void tq__sync_set_init(struct tq__sync_set *s, size_t max_entries);
void tq__sync_set_cleanup(struct tq__sync_set *s);
tq_rc tq__sync_set_add(struct tq__sync_set *s, const char *id, int64_t version_us);
/* Sorts on first use after adds. */
bool tq__sync_set_has(struct tq__sync_set *s, const char *id, int64_t version_us);

/* ---- raw requests of a running sync (sync.c) ------------------------------------------- */

/*
 * A raw request to the partner, as tq_client_fetch, with the sync's retries of transient
 * failures and its request count. body may be NULL for a GET.
 */
typedef tq_rc (*tq__sync_fetch_cb)(void *ud, enum tq_client_method method, const char *path,
                                   struct tq_str body, const char *content_type, size_t max_bytes,
                                   long *status, struct tq_buf *out, struct tq_err *err);

/* ---- a partner's log read from its tiles (tiles.c) -------------------------------------- */

/* One hash tile held for the run: width hashes of tree level 8 * level. */
struct tq__sync_tile {
    unsigned level;
    uint64_t index;
    unsigned width;
    uint8_t (*hashes)[TQ_MERKLE_HASH_BYTES];
};

/*
 * The hash tiles of one tree size of a partner's log (c2sp.org/tlog-tiles, below "/log/"),
 * fetched on first use and kept until cleanup. Zeroed memory is not a valid state: use init.
 */
struct tq__sync_tiles {
    uint64_t size;
    tq__sync_fetch_cb fetch;
    void *fetch_ud;
    struct tq__sync_tile *tiles;
    size_t n, cap;
    uint64_t fetched; /* tiles read from the partner (cache misses) */
    bool root_ok;     /* tq__sync_tiles_check_root succeeded once */
};

void tq__sync_tiles_init(struct tq__sync_tiles *t, uint64_t size, tq__sync_fetch_cb fetch,
                         void *fetch_ud);
void tq__sync_tiles_cleanup(struct tq__sync_tiles *t);

/*
 * Hash tile (level, index) at the reader's tree size, fetched from
 * "/log/tile/<L>/<N>[.p/<W>]" unless held already. *out points into the cache until cleanup.
 * TQ_EINVAL when that tile does not exist at the size; TQ_ENOTFOUND when the partner answers
 * 404; TQ_EIO another status; TQ_EINTEGRITY when the answer is not exactly width * 32 bytes
 * (a truncated or padded tile); fetch errors as they come. err says which tile.
 */
tq_rc tq__sync_tile_get(struct tq__sync_tiles *t, unsigned level, uint64_t index,
                        const struct tq__sync_tile **out, struct tq_err *err);

/*
 * A proof source over the tiles: get_hash(level, index) is the hash of the complete subtree of
 * 2^level leaves at leaf index << level, folded from 2^(level % 8) consecutive hashes of one
 * tile of tile level level / 8. Valid while t lives.
 */
struct tq_merkle_source tq__sync_tiles_source(struct tq__sync_tiles *t);
/*
 * The tiles hash to root (the root of the checkpoint of the reader's size): only then do their
 * hashes prove anything, and a proof or a leaf hash from tiles that do not must never be taken
 * for evidence against the log. Computed once per reader; TQ_EINTEGRITY when they do not.
 */
tq_rc tq__sync_tiles_check_root(struct tq__sync_tiles *t, const uint8_t root[TQ_MERKLE_HASH_BYTES],
                                struct tq_err *err);

/* ---- witnessing steps of a sync (witness.c) ---------------------------------------------- */

/* What both steps work with; everything borrowed for the call. */
struct tq__sync_witness {
    struct tq_store *store;
    const struct tq_partner *partner;
    struct tq_audit_log *audit;
    const struct tq_note_signer *log_signer;
    const struct tq_note_signer *witness_signer;
    tq__sync_fetch_cb fetch;
    void *fetch_ud;
    struct tq_sync_stats *stats;
};

/*
 * Watch the partner's log: fetch its checkpoint, prove it consistent from its tiles with the
 * one this node cosigned last and witness it (tq_witness_add_checkpoint). TQ_OK when it was
 * cosigned (stats->witnessed) and also when it could not be (a partner without a key or a log,
 * an unreachable or malformed answer, a refusal other than an alarm): those are warnings,
 * logged and kept in stats->watch_warning. TQ_EINTEGRITY with a message starting "ALARM:" when
 * the witness raised an alarm (stats->alarms). Other errors: this node's store or cosigner.
 */
tq_rc tq__sync_watch(const struct tq__sync_witness *w, struct tq_err *err);

/*
 * The receipts step, right after the watch step cosigned cp (tiles: the partner's tiles at
 * cp->size): fetch the openings of the partner's leaves naming this node from the cursor (meta
 * audit.receipts.<partner>) up to cp->size, check each against the tiles (after checking that
 * they hash to cp's root) and keep them (tq_store_receipts_put), moving the cursor past each
 * good page. An opening that does not verify, a malformed answer or an unreachable partner is a
 * warning (stats->receipts_warning and receipts_rc, TQ_EINTEGRITY for a contradiction), the
 * cursor staying where it was. Errors: this node's store only.
 */
struct tq_checkpoint;
tq_rc tq__sync_receipts(const struct tq__sync_witness *w, struct tq__sync_tiles *tiles,
                        const struct tq_checkpoint *cp, struct tq_err *err);

/*
 * Ask the partner to cosign a fresh checkpoint of this node's log, with a consistency proof
 * from the size it cosigned last (meta audit.cosigned.<partner>; on 409 once more from the size
 * it names), and keep its verified cosignature with the checkpoint. TQ_OK when cosigned
 * (stats->cosigned) and when the partner did not cosign (a warning in stats->ask_warning).
 * TQ_EINTEGRITY when the partner names a size larger than this node's log. Other errors: this
 * node's log or store.
 */
tq_rc tq__sync_ask(const struct tq__sync_witness *w, struct tq_err *err);

/* ---- private set intersection (psi_list.c) --------------------------------------------- */

/*
 * A watchlist as a PSI list: one entry per ref with names, each entry's keys the union of its
 * names' PSI keys in name order, cut at cap keys (trimmed: the refs that lost keys).
 */
struct tq__psi_list {
    size_t n;
    char **refs;                  /* n */
    char **names;                 /* n: the first name of each entry (its primary) */
    struct tq_psi_entry *entries; /* n; keys point into key_text */
    struct tq_str *key_slots;     /* the keys of all entries, in entry order */
    char **key_text;              /* owned text of each slot */
    size_t n_keys;
    char **trimmed;
    size_t n_trimmed;
    uint8_t digest[32]; /* SHA-256 of the sorted distinct keys, each with a 4-byte length */
};

/*
 * Load list from store with at most cap keys per entry (1..16). TQ_ENOTFOUND no such list;
 * TQ_EFORBIDDEN a list built from STIX; TQ_ETOOBIG more than TQ_PSI_NET_MAX_ENTRIES entries.
 */
tq_rc tq__psi_list_load(struct tq_store *store, const char *list, unsigned cap,
                        struct tq__psi_list *out, struct tq_err *err);
void tq__psi_list_cleanup(struct tq__psi_list *l);

/* The points and digest of a run's audit leaf, beside its store row. */
struct tq__psi_leaf {
    const struct tq_store_psi_run *run;
    const uint8_t *digest; /* NULL: none (a refusal before the list was read) */
    size_t own_points, peer_points;
};

/*
 * Append the run's leaf (kind "psi") to audit and log it. A failure is logged and returned;
 * the run's store row is the caller's.
 */
tq_rc tq__psi_leaf_append(struct tq_audit_log *audit, const struct tq__psi_leaf *leaf,
                          struct tq_err *err);
/* "matches" or "cardinality". */
const char *tq__psi_mode_name(enum tq_psi_mode m);

#endif
