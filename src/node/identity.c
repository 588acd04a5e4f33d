/* SPDX-License-Identifier: Apache-2.0
 *
 * node/identity.c - what a node hands to its partners: its TLS certificate (and the SHA-256
 * of its DER encoding, the pin partners check) and its Ed25519 public key.
 *
 * Only public material is read here. Certificates are parsed with OpenSSL, which also gives
 * the DER encoding the fingerprint is taken over, so that the fingerprint printed by
 * `tansiq identity` is the one `openssl x509 -noout -fingerprint -sha256` shows (without the
 * colons) and the one the server computes for a client certificate.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "node/node.h"
#include "tansiq/audit.h"

#define PEM_MAX (1u << 20)
#define PUBKEY_B64_MAX 256

tq_rc tq_node_cert_sha256(const char *pem, size_t len, uint8_t out[32], struct tq_err *err)
{
    BIO *bio = NULL;
    X509 *cert = NULL;
    unsigned char *der = NULL;
    int der_len;
    tq_rc rc = TQ_OK;

    if (!pem || len == 0 || len > PEM_MAX || len > INT32_MAX)
        return tq_err_set(err, TQ_EINVAL, "no PEM certificate given");
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio)
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (!cert) {
        rc = tq_err_set(err, TQ_EINVAL, "not a PEM certificate");
        goto out;
    }
    der_len = i2d_X509(cert, &der);
    if (der_len <= 0) {
        rc = tq_err_set(err, TQ_EINVAL, "the certificate cannot be DER-encoded");
        goto out;
    }
    tq_sha256(der, der_len, out);
out:
    ERR_clear_error();
    OPENSSL_free(der);
    X509_free(cert);
    BIO_free(bio);
    return rc;
}

tq_rc tq_node_pubkey_check(const char *b64, struct tq_err *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES + 1];
    size_t n = 0;

    if (!b64 ||
        sodium_base642bin(pk, sizeof(pk), b64, strlen(b64), " \r\n\t", &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != crypto_sign_PUBLICKEYBYTES)
        return tq_err_set(err, TQ_EINVAL, "not a base64 Ed25519 public key (32 bytes)");
    return TQ_OK;
}

void tq_node_identity_cleanup(struct tq_node_identity *id)
{
    if (!id)
        return;
    tq_free(id->title);
    tq_free(id->cert_pem);
    tq_free(id->sign_pubkey);
    tq_free(id->stix_identity);
    memset(id, 0, sizeof(*id));
}

tq_rc tq_node_identity(struct tq_node *node, struct tq_node_identity *out, struct tq_err *err)
{
    struct tq_node_identity id;
    struct tq_node_config cfg;
    struct tq_buf path;
    tq_rc rc;

    memset(&id, 0, sizeof(id));
    tq_buf_init(&path, TQ_NODE_PATH_MAX);
    rc = tq_file_read_text(node->cert_path, PEM_MAX, &id.cert_pem, err);
    if (rc)
        goto out;
    rc = tq_node_cert_sha256(id.cert_pem, strlen(id.cert_pem), id.cert_sha256, err);
    if (rc) {
        rc = tq_err_set(err, rc, "%s is not a PEM certificate", node->cert_path);
        goto out;
    }
    rc = tq_buf_printf(&path, "%s/identity.pub", node->home);
    if (rc) {
        rc = tq_err_set(err, rc, "home path too long");
        goto out;
    }
    rc = tq_file_read_text(path.ptr, PUBKEY_B64_MAX, &id.sign_pubkey, err);
    if (rc)
        goto out;
    rc = tq_node_config_load(node, &cfg, err);
    if (rc)
        goto out;
    id.title = tq_xstrdup(cfg.http.title ? cfg.http.title : "tansiq");
    rc = tq_store_meta_get(node->store, "node.identity", &id.stix_identity, err);
    if (rc == TQ_ENOTFOUND)
        rc = TQ_OK; /* a home made before nodes had a STIX identity */
    if (rc)
        goto out;
    *out = id;
    memset(&id, 0, sizeof(id));
out:
    tq_node_identity_cleanup(&id);
    tq_buf_cleanup(&path);
    return rc;
}

/* The identity key (libsodium's 64-byte secret key: seed || public key) into sk. */
static tq_rc read_secret(struct tq_node *node, uint8_t sk[crypto_sign_SECRETKEYBYTES],
                         struct tq_err *err)
{
    struct tq_buf path;
    char *key_b64 = NULL;
    size_t sk_len = 0;
    tq_rc rc;

    tq_buf_init(&path, TQ_NODE_PATH_MAX);
    rc = tq_buf_printf(&path, "%s/identity.key", node->home);
    if (rc) {
        rc = tq_err_set(err, rc, "home path too long");
        goto out;
    }
    rc = tq_file_read_text(path.ptr, 256, &key_b64, err);
    if (rc)
        goto out;
    if (sodium_base642bin(sk, crypto_sign_SECRETKEYBYTES, key_b64, strlen(key_b64), " \t\r\n",
                          &sk_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        sk_len != crypto_sign_SECRETKEYBYTES)
        rc = tq_err_set(err, TQ_EINVAL, "%s is not a base64 Ed25519 secret key", path.ptr);
out:
    if (key_b64)
        sodium_memzero(key_b64, strlen(key_b64));
    tq_free(key_b64);
    tq_buf_cleanup(&path);
    return rc;
}

tq_rc tq__node_identity_sign(struct tq_node *node, const void *msg, size_t len, uint8_t sig[64],
                             struct tq_err *err)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    tq_rc rc = read_secret(node, sk, err);

    if (rc == TQ_OK)
        crypto_sign_detached(sig, NULL, msg, len, sk);
    sodium_memzero(sk, sizeof(sk));
    return rc;
}

/* The identity key as a note signer of type alg, named after the log's origin. */
static tq_rc identity_signer(struct tq_node *node, uint8_t alg, struct tq_note_signer *out,
                             struct tq_err *err)
{
    struct tq_node_identity id;
    struct tq_node_config cfg;
    char origin[TQ_AUDIT_ORIGIN_MAX];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    const char *name = origin;
    tq_rc rc;

    memset(&id, 0, sizeof(id));
    rc = tq_node_identity(node, &id, err);
    if (rc)
        goto out;
    rc = tq_node_config_load(node, &cfg, err);
    if (rc)
        goto out;
    tq_audit_default_origin(id.cert_sha256, origin);
    if (cfg.audit.log_origin && *cfg.audit.log_origin)
        name = cfg.audit.log_origin;
    rc = read_secret(node, sk, err);
    if (rc)
        goto out;
    /* libsodium's secret key is seed || public key. */
    rc = tq_note_signer_from_seed(tq_str_c(name), alg, sk, out, err);
    /* Best effort: keep the key out of swap and core files (RLIMIT_MEMLOCK may refuse). */
    if (rc == TQ_OK)
        (void)sodium_mlock(out, sizeof(*out));
out:
    sodium_memzero(sk, sizeof(sk));
    tq_node_identity_cleanup(&id);
    return rc;
}

tq_rc tq_node_log_signer(struct tq_node *node, struct tq_note_signer *out, struct tq_err *err)
{
    return identity_signer(node, TQ_NOTE_ALG_ED25519, out, err);
}

tq_rc tq_node_witness_signer(struct tq_node *node, struct tq_note_signer *out, struct tq_err *err)
{
    return identity_signer(node, TQ_NOTE_ALG_COSIG_V1, out, err);
}
