/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/ingest.h - validate STIX text and store the valid objects.
 *
 * The path every bulk import takes (the CLI's import; later partner sync): the text is checked
 * strictly as a whole first, so malformed JSON stores nothing; then objects are parsed and
 * validated in chunks on a second thread while the caller's thread stores the previous chunk,
 * each chunk in one durable transaction.
 */
#ifndef TANSIQ_INGEST_H
#define TANSIQ_INGEST_H

#include <stddef.h>

#include "tansiq/core.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"

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
