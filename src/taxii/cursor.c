/* SPDX-License-Identifier: Apache-2.0
 *
 * taxii/cursor.c - stateless, authenticated "next" cursors.
 *
 * A cursor carries the keyset position (date_added, id) of the last row of a page and a
 * 128-bit keyed BLAKE2b tag over that position and a digest of the query it belongs to. The
 * key lives in the store's meta table (created once), so any instance sharing the database
 * accepts the cursors of any other, across restarts. Nothing is kept per cursor.
 */
#include <string.h>

#include <sodium.h>

#include "taxii/taxii.h"

#define CURSOR_VERSION 1
#define TAG_BYTES 16
#define META_KEY "taxii.cursor_key"

/* Raw cursor: version, date_added (8), id length (1), id, tag. */
#define RAW_MAX (1 + 8 + 1 + TQ_STIX_ID_MAX + TAG_BYTES)

static void key_to_hex(const uint8_t key[32], char hex[65])
{
    tq_hex_encode(key, 32, hex);
}

tq_rc tq__taxii_cursor_key_load(struct tq_store *store, uint8_t key[32], struct tq_err *err)
{
    char *val = NULL;
    char hex[65];
    size_t bin_len = 0;
    tq_rc rc;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        rc = tq_store_meta_get(store, META_KEY, &val, err);
        if (rc == TQ_OK) {
            if (sodium_hex2bin(key, 32, val, strlen(val), NULL, &bin_len, NULL) != 0 ||
                bin_len != 32) {
                rc = tq_err_set(err, TQ_ECONFIG, "stored cursor key is malformed");
            }
            goto out;
        }
        if (rc != TQ_ENOTFOUND)
            goto out;
        /* First start on this database: create the key, then read back whatever won, so
         * two instances starting at once converge on one key. */
        randombytes_buf(key, 32);
        key_to_hex(key, hex);
        rc = tq_store_meta_set(store, META_KEY, hex, err);
        sodium_memzero(hex, sizeof(hex));
        if (rc == TQ_ENOSPACE || rc == TQ_EREADONLY) {
            /* A read-only store (full disk, or a replica whose primary never served, so no key
             * was made yet): cursors of this run do not outlive it, nor reach other processes. */
            tq_log(TQ_LOG_WARN, "taxii: read-only store: next cursors are valid until restart");
            tq_err_clear(err);
            rc = TQ_OK;
            goto out;
        }
        if (rc)
            goto out;
    }
    rc = tq_err_set(err, TQ_ESTORE, "cursor key could not be created");
out:
    if (val) {
        sodium_memzero(val, strlen(val));
        tq_free(val);
    }
    return rc;
}

static void hash_str(crypto_generichash_state *st, const char *s, size_t len)
{
    uint8_t lenb[8];
    uint64_t l = len;
    int i;

    for (i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(l >> (56 - 8 * i));
    crypto_generichash_update(st, lenb, sizeof(lenb));
    if (len)
        crypto_generichash_update(st, (const unsigned char *)s, len);
}

static void hash_i64(crypto_generichash_state *st, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    int i;

    for (i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (56 - 8 * i));
    crypto_generichash_update(st, b, sizeof(b));
}

void tq__taxii_cursor_binding(enum tq_taxii_route route, const char *collection_id,
                              const char *object_id, const struct tq_taxii_filter *f,
                              uint8_t binding[32])
{
    crypto_generichash_state st;
    size_t i;

    crypto_generichash_init(&st, NULL, 0, 32);
    hash_str(&st, "tansiq-taxii-cursor-v1", 22);
    hash_i64(&st, (int64_t)route);
    hash_str(&st, collection_id ? collection_id : "", collection_id ? strlen(collection_id) : 0);
    hash_str(&st, object_id ? object_id : "", object_id ? strlen(object_id) : 0);
    hash_i64(&st, f->has_added_after ? 1 : 0);
    hash_i64(&st, f->has_added_after ? f->added_after_us : 0);
    hash_i64(&st, (int64_t)f->n_ids);
    for (i = 0; i < f->n_ids; i++)
        hash_str(&st, f->ids[i].ptr, f->ids[i].len);
    hash_i64(&st, (int64_t)f->n_types);
    for (i = 0; i < f->n_types; i++)
        hash_str(&st, f->types[i].ptr, f->types[i].len);
    hash_i64(&st, (int64_t)f->version_flags);
    hash_i64(&st, (int64_t)f->n_versions);
    for (i = 0; i < f->n_versions; i++)
        hash_i64(&st, f->versions[i]);
    hash_i64(&st, (int64_t)f->n_spec_versions);
    for (i = 0; i < f->n_spec_versions; i++)
        hash_str(&st, f->spec_versions[i].ptr, f->spec_versions[i].len);
    crypto_generichash_final(&st, binding, 32);
}

void tq__taxii_cursor_bind_partner(uint8_t binding[32], const char *partner)
{
    crypto_generichash_state st;

    if (!partner)
        return;
    crypto_generichash_init(&st, NULL, 0, 32);
    hash_str(&st, "tansiq-taxii-cursor-partner-v1", 30);
    crypto_generichash_update(&st, binding, 32);
    hash_str(&st, partner, strlen(partner));
    crypto_generichash_final(&st, binding, 32);
}

static void cursor_tag(const uint8_t key[32], const uint8_t binding[32], const uint8_t *raw,
                       size_t raw_len, uint8_t tag[TAG_BYTES])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, key, 32, TAG_BYTES);
    crypto_generichash_update(&st, binding, 32);
    crypto_generichash_update(&st, raw, raw_len);
    crypto_generichash_final(&st, tag, TAG_BYTES);
}

tq_rc tq__taxii_cursor_encode(const uint8_t key[32], const uint8_t binding[32],
                              const struct tq_store_cursor *c, char *out, size_t out_size,
                              struct tq_err *err)
{
    uint8_t raw[RAW_MAX];
    size_t idlen = strnlen(c->id, sizeof(c->id)), n = 0;
    uint64_t u = (uint64_t)c->date_added_us;
    int i;

    if (idlen == 0 || idlen > 255 || idlen >= sizeof(c->id))
        return tq_err_set(err, TQ_EINVAL, "cursor id length out of range");
    raw[n++] = CURSOR_VERSION;
    for (i = 0; i < 8; i++)
        raw[n++] = (uint8_t)(u >> (56 - 8 * i));
    raw[n++] = (uint8_t)idlen;
    memcpy(raw + n, c->id, idlen);
    n += idlen;
    cursor_tag(key, binding, raw, n, raw + n);
    n += TAG_BYTES;
    if (out_size < sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return tq_err_set(err, TQ_ETOOBIG, "cursor buffer too small");
    sodium_bin2base64(out, out_size, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return TQ_OK;
}

tq_rc tq__taxii_cursor_decode(const uint8_t key[32], const uint8_t binding[32], const char *text,
                              struct tq_store_cursor *c, struct tq_err *err)
{
    uint8_t raw[RAW_MAX];
    uint8_t tag[TAG_BYTES];
    size_t raw_len = 0, tlen = strlen(text), idlen;
    uint64_t u = 0;
    int i;

    if (tlen == 0 || tlen > TQ_TAXII_NEXT_MAX)
        goto bad;
    if (sodium_base642bin(raw, sizeof(raw), text, tlen, NULL, &raw_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        goto bad;
    if (raw_len < 1 + 8 + 1 + 1 + TAG_BYTES || raw[0] != CURSOR_VERSION)
        goto bad;
    idlen = raw[9];
    if (raw_len != 1 + 8 + 1 + idlen + TAG_BYTES)
        goto bad;
    cursor_tag(key, binding, raw, raw_len - TAG_BYTES, tag);
    if (sodium_memcmp(tag, raw + raw_len - TAG_BYTES, TAG_BYTES) != 0)
        goto bad;
    if (memchr(raw + 10, '\0', idlen) != NULL || idlen >= sizeof(c->id))
        goto bad;
    for (i = 0; i < 8; i++)
        u = (u << 8) | raw[1 + i];
    c->date_added_us = (int64_t)u;
    memcpy(c->id, raw + 10, idlen);
    c->id[idlen] = '\0';
    return TQ_OK;
bad:
    return tq_err_set(err, TQ_EINVAL, "next is not a cursor issued for this query");
}
