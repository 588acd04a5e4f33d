/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/pin.c - small pure helpers of sync: the public-key pin of a partner's certificate, the
 * local collection id of a remote collection, and the set of versions a manifest listed.
 *
 * The pin is computed with OpenSSL (the library libcurl's TLS backend uses as well) over the
 * DER SubjectPublicKeyInfo, the input CURLOPT_PINNEDPUBLICKEY hashes. Hashes of ids use
 * libsodium's BLAKE2b.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "sync/sync.h"

tq_rc tq__sync_pubkey_pin(const char *cert_pem, char out[TQ_SYNC_PIN_MAX], struct tq_err *err)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char *der = NULL;
    X509 *cert = NULL;
    BIO *bio = NULL;
    int len;
    tq_rc rc = TQ_OK;

    if (!cert_pem || !cert_pem[0])
        return tq_err_set(err, TQ_ECONFIG, "no pinned certificate");
    bio = BIO_new_mem_buf(cert_pem, -1);
    if (bio)
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (!cert) {
        rc = tq_err_set(err, TQ_ECONFIG, "the pinned certificate is not a PEM certificate");
        goto out;
    }
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (len <= 0) {
        rc = tq_err_set(err, TQ_ECONFIG, "the pinned certificate has no readable public key");
        goto out;
    }
    SHA256(der, (size_t)len, digest);
    memcpy(out, "sha256//", 8);
    EVP_EncodeBlock((unsigned char *)out + 8, digest, sizeof(digest));
out:
    OPENSSL_free(der);
    X509_free(cert);
    BIO_free(bio);
    return rc;
}

void tq__sync_local_id(const char *partner, const char *remote_id, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    crypto_generichash_state st;
    uint8_t h[16];
    size_t k = 0;

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)"tansiq-sync\n", 12);
    crypto_generichash_update(&st, (const unsigned char *)partner, strlen(partner) + 1);
    crypto_generichash_update(&st, (const unsigned char *)remote_id, strlen(remote_id));
    crypto_generichash_final(&st, h, sizeof(h));
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x80); /* version 8: custom */
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (size_t i = 0; i < sizeof(h); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[h[i] >> 4];
        out[k++] = hex[h[i] & 15];
    }
    out[k] = '\0';
}

/* ---- the set of listed versions -------------------------------------------------------- */

static void set_key(const char *id, int64_t version_us, uint8_t key[16])
{
    crypto_generichash_state st;
    uint8_t v[8];

    for (int i = 0; i < 8; i++)
        v[i] = (uint8_t)((uint64_t)version_us >> (8 * i));
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const unsigned char *)id, strlen(id) + 1);
    crypto_generichash_update(&st, v, sizeof(v));
    crypto_generichash_final(&st, key, 16);
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

void tq__sync_set_init(struct tq__sync_set *s, size_t max_entries)
{
    memset(s, 0, sizeof(*s));
    s->max = max_entries;
    s->sorted = true;
}

void tq__sync_set_cleanup(struct tq__sync_set *s)
{
    if (!s)
        return;
    tq_free(s->keys);
    memset(s, 0, sizeof(*s));
}

tq_rc tq__sync_set_add(struct tq__sync_set *s, const char *id, int64_t version_us)
{
    if (s->n >= s->max)
        return TQ_ETOOBIG;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->keys = tq_xrealloc(s->keys, s->cap * sizeof(*s->keys));
    }
    set_key(id, version_us, s->keys[s->n++]);
    s->sorted = false;
    return TQ_OK;
}

bool tq__sync_set_has(struct tq__sync_set *s, const char *id, int64_t version_us)
{
    uint8_t key[16];

    if (s->n == 0)
        return false;
    if (!s->sorted) {
        qsort(s->keys, s->n, sizeof(*s->keys), key_cmp);
        s->sorted = true;
    }
    set_key(id, version_us, key);
    return bsearch(key, s->keys, s->n, sizeof(*s->keys), key_cmp) != NULL;
}

tq_rc tq__sync_partner_client(struct tq_store *store, const char *partner, const char *cert_path,
                              const char *key_path, unsigned timeout_ms, size_t max_response,
                              struct tq_partner *p, struct tq_client **out, struct tq_err *err)
{
    struct tq_client_options co = {0};
    char pin[TQ_SYNC_PIN_MAX];
    tq_rc rc;

    *out = NULL;
    rc = tq_store_partner_get(store, partner, p, err);
    if (rc)
        return rc;
    if (!p->taxii_url || !p->taxii_url[0])
        return tq_err_set(err, TQ_ECONFIG, "partner %s has no URL", partner);
    rc = tq__sync_pubkey_pin(p->cert_pem, pin, err);
    if (rc)
        return rc;
    co.base_url = p->taxii_url;
    co.ca_pem = p->cert_pem;
    co.pinned_pubkey = pin;
    co.client_cert_file = cert_path;
    co.client_key_file = key_path;
    co.timeout_ms = timeout_ms;
    co.max_response_bytes = max_response;
    *out = tq_client_new(&co, err);
    if (!*out)
        return err && err->rc ? err->rc : TQ_EINVAL;
    return TQ_OK;
}
