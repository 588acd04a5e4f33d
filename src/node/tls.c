/* SPDX-License-Identifier: Apache-2.0
 *
 * node/tls.c - the node's TLS certificate.
 *
 * At init a node without a certificate of its own gets a self-signed ECDSA P-256 certificate
 * (OpenSSL 3), valid two years, with subjectAltNames for its hostname and the loopback names.
 * P-256 rather than Ed25519 because every TLS client (curl, Python, browsers) accepts it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "node/node.h"

static tq_rc ssl_fail(struct tq_err *err, const char *what)
{
    char detail[256];

    ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
    ERR_clear_error();
    return tq_err_set(err, TQ_ETLS, "%s: %s", what, detail);
}

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static tq_rc write_pem(const char *path, int mode, EVP_PKEY *key, X509 *cert, struct tq_err *err)
{
    FILE *f;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int ok;

    if (fd < 0)
        return tq_err_set(err, TQ_EIO, "cannot create %s", path);
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return tq_err_set(err, TQ_EIO, "cannot open %s", path);
    }
    ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    fclose(f);
    return ok ? TQ_OK : ssl_fail(err, path);
}

tq_rc tq__node_tls_selfsigned(const char *hostname, const char *cert_path, const char *key_path,
                              struct tq_err *err)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    X509_NAME *name;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    char san[512];
    tq_rc rc;

    key = EVP_EC_gen("P-256");
    if (!key) {
        rc = ssl_fail(err, "generating the TLS key");
        goto out;
    }
    cert = X509_new();
    if (!cert || !X509_set_version(cert, 2)) {
        rc = ssl_fail(err, "creating the certificate");
        goto out;
    }
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        rc = ssl_fail(err, "random serial");
        goto out;
    }
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))) {
        rc = ssl_fail(err, "certificate serial");
        goto out;
    }
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 2L * 365 * 24 * 3600);
    X509_set_pubkey(cert, key);
    name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tansiq", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
    if (!add_ext(cert, NID_subject_alt_name, san) ||
        !add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(cert, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(cert, NID_ext_key_usage, "serverAuth,clientAuth")) {
        rc = ssl_fail(err, "certificate extensions");
        goto out;
    }
    if (!X509_sign(cert, key, EVP_sha256())) {
        rc = ssl_fail(err, "signing the certificate");
        goto out;
    }
    rc = write_pem(key_path, 0600, key, NULL, err);
    if (!rc)
        rc = write_pem(cert_path, 0644, NULL, cert, err);
out:
    BN_free(bn);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

tq_rc tq__node_tls_check(const char *cert_path, const char *key_path, struct tq_err *err)
{
    FILE *f;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    tq_rc rc = TQ_OK;

    f = fopen(cert_path, "r");
    if (f) {
        cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    f = fopen(key_path, "r");
    if (f) {
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (!cert)
        rc = tq_err_set(err, TQ_ETLS, "%s: not a PEM certificate", cert_path);
    else if (!key)
        rc = tq_err_set(err, TQ_ETLS, "%s: not a PEM private key", key_path);
    else if (X509_check_private_key(cert, key) != 1)
        rc = tq_err_set(err, TQ_ETLS, "%s does not belong to %s", key_path, cert_path);
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
