/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/sync.h - internal interface of the sync module.
 *
 * Helpers shared by the files of src/sync and exposed to the unit test: the public-key pin of a
 * partner's certificate, the local collection id a remote collection maps to, and the set of
 * (id, version) pairs a full manifest walk has seen.
 */
#ifndef TQ_SYNC_INTERNAL_H
#define TQ_SYNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tansiq/sync.h"

/* "sha256//" + base64 of SHA-256 (44 characters) + NUL */
#define TQ_SYNC_PIN_MAX 64

/*
 * The CURLOPT_PINNEDPUBLICKEY string for the first certificate of cert_pem: "sha256//" and the
 * base64 SHA-256 of its SubjectPublicKeyInfo. TQ_ECONFIG when cert_pem holds no certificate.
 */
tq_rc tq__sync_pubkey_pin(const char *cert_pem, char out[TQ_SYNC_PIN_MAX], struct tq_err *err);

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

#endif
