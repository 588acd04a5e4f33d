/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/ingest.h - the one door through which objects enter a collection.
 *
 * Every write goes through tq_ingest_put: bulk import (tq_ingest_text), TAXII POST, partner
 * sync, marking-definitions made by `tansiq marking add`, and the node's own objects at init.
 * It stores through the release policy (tq_policy_put: facts, decisions, leaves, in one
 * transaction) and then calls the after-commit hooks, where alerts, geography tagging and
 * correlation attach. tq_ingest_text checks the text strictly as a whole first, so malformed
 * JSON stores nothing; then objects are parsed and validated in chunks on a second thread
 * while the caller's thread stores the previous chunk, each chunk in one durable transaction.
 */
#ifndef TANSIQ_INGEST_H
#define TANSIQ_INGEST_H

#include <stddef.h>

#include "tansiq/core.h"
#include "tansiq/policy.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"

/*
 * What one committed put stored: objs[i] was stored anew (results[i] == TQ_PUT_STORED) or was
 * already present, with its date_added in the collection. origin is NULL for local objects.
 */
struct tq_ingest_commit {
    struct tq_store *store;
    const char *collection_id;
    const struct tq_policy_origin *origin;
    const struct tq_stix_object *objs;
    const enum tq_put_result *results;
    const int64_t *date_added_us;
    size_t n;
};

/*
 * An after-commit hook: called after every committed tq_ingest_put, in the caller's thread, in
 * the order the hooks were added (a hook added during a put is called from the next one). It
 * must not fail the put (the objects are stored and acknowledged): what it cannot do it logs,
 * or queues for later.
 */
typedef void (*tq_ingest_hook_fn)(void *ud, const struct tq_ingest_commit *c);

/* Add a hook for every store in the process (at most 64: one per open node and a few); remove it
 * with the same fn and ud. */
tq_rc tq_ingest_hook_add(tq_ingest_hook_fn fn, void *ud, struct tq_err *err);
void tq_ingest_hook_remove(tq_ingest_hook_fn fn, void *ud);

/*
 * Store n validated objects in collection_id: tq_policy_put, then the after-commit hooks.
 * results and date_added_us (n entries each) may be NULL. Errors as tq_policy_put; on an error
 * no hook runs.
 */
tq_rc tq_ingest_put(struct tq_store *store, const char *collection_id,
                    const struct tq_stix_object *objs, size_t n,
                    const struct tq_policy_origin *origin, enum tq_put_result *results,
                    int64_t *date_added_us, struct tq_err *err);

struct tq_ingest_hooks {
    /* Each validation problem (errors and warnings), in object order. May be NULL. */
    void (*problem)(void *ud, const struct tq_stix_problem *p);
    /* After each stored chunk: objects handled so far and in all. May be NULL. */
    void (*progress)(void *ud, size_t done, size_t total);
    void *ud;
};

struct tq_ingest_stats {
    size_t objects;  /* objects in the text */
    size_t stored;   /* new versions stored */
    size_t present;  /* versions the collection already had */
    size_t rejected; /* invalid objects, not stored */
};

#define TQ_INGEST_CHUNK_DEFAULT 5000

/*
 * Validate text (a bundle, a TAXII envelope, an array or one object) and store its valid objects
 * in collection_id, chunk_objects per transaction (0: TQ_INGEST_CHUNK_DEFAULT). Returns TQ_EJSON
 * or TQ_EUNPROCESSABLE for a container that is not acceptable (nothing stored), a store error
 * if storing fails (chunks before it stay stored, and stats says how many), TQ_OK otherwise,
 * invalid objects included: they are counted in stats->rejected and reported through hooks.
 * Uses one extra thread for the duration of the call.
 */
tq_rc tq_ingest_text(struct tq_store *store, const char *collection_id, struct tq_str text,
                     size_t chunk_objects, const struct tq_ingest_hooks *hooks,
                     struct tq_ingest_stats *stats, struct tq_err *err);

#endif
