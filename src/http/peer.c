/* SPDX-License-Identifier: Apache-2.0
 *
 * http/peer.c - partner nodes authenticated by their TLS client certificate.
 *
 * Partners pin each other's self-signed certificates: a partner is known by the SHA-256 of its
 * certificate's DER encoding (tq_store_partner_find_cert), not by a CA. What proves the client
 * is that partner is the TLS handshake itself: GnuTLS refuses a handshake in which a client
 * presents a certificate without signing the transcript with its private key
 * (CertificateVerify, TLS 1.2 and 1.3), so a copy of a partner's public certificate is
 * worthless without the key. Chain verification (gnutls_certificate_verify_peers2) is of no
 * use for pinned self-signed leaf certificates: it reports "signer not found", "signer not a
 * CA" and a failed self-signature for a perfectly good one, so this file does not rely on it.
 * It checks the validity period, then the pin, with a short per-connection cache so that a
 * keep-alive connection does not ask the store on every request yet notices a removed
 * partner within seconds; the period itself is read once per connection and certificate
 * (the time is still compared on every request). Nothing secret is involved: a refusal is logged
 * with the certificate's fingerprint only.
 */
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "http/http.h"

enum tq__principal_source tq__http_principal_source(bool has_authorization, bool has_client_cert)
{
    /* An analyst whose browser or tool also presents a certificate still logs in as the user
     * the credentials name: the certificate says which machine, the credentials which person,
     * and a person's permissions are the narrower, audited ones. */
    if (has_authorization)
        return TQ_PRINCIPAL_FROM_CREDENTIALS;
    if (has_client_cert)
        return TQ_PRINCIPAL_FROM_CERT;
    return TQ_PRINCIPAL_FROM_NONE;
}

/* The validity period of a certificate (DER); false when it does not parse. */
static bool cert_period(const void *der, size_t len, int64_t *from_s, int64_t *until_s)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d = {(unsigned char *)der, (unsigned)len};
    time_t from, until;
    bool ok = false;

    if (!der || len == 0 || len > UINT32_MAX || gnutls_x509_crt_init(&crt) < 0)
        return false;
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0) {
        from = gnutls_x509_crt_get_activation_time(crt);
        until = gnutls_x509_crt_get_expiration_time(crt);
        ok = from != (time_t)-1 && until != (time_t)-1;
        *from_s = (int64_t)from;
        *until_s = (int64_t)until;
    }
    gnutls_x509_crt_deinit(crt);
    return ok;
}

bool tq__http_cert_time_ok(const void *der, size_t len, int64_t now_s)
{
    int64_t from, until;

    return cert_period(der, len, &from, &until) && from <= now_s && now_s <= until;
}

void tq__http_cert_sha256(const void *der, size_t len, uint8_t out[32])
{
    tq__access_sodium_init();
    tq_sha256(der, len, out);
}

void tq__http_fingerprint_hex(const uint8_t fp[32], char out[65])
{
    sodium_bin2hex(out, 65, fp, 32);
}

tq_rc tq__http_peer_resolve(struct tq__peer *peer, struct tq_store *store, const void *der,
                            size_t der_len, int64_t now_s, int64_t now_mono_us,
                            char partner_out[TQ_NAME_MAX], struct tq_err *err)
{
    struct tq_partner p;
    uint8_t fp[32];
    char hex[65];
    tq_rc rc;

    tq__http_cert_sha256(der, der_len, fp);
    /* Parsing the certificate builds and frees an ASN.1 tree, a visible share of every
     * partner request: read its period once per connection and certificate. */
    if (!peer->period_known || memcmp(peer->period_fp, fp, sizeof(fp)) != 0) {
        peer->period_parsed = cert_period(der, der_len, &peer->not_before_s, &peer->not_after_s);
        memcpy(peer->period_fp, fp, sizeof(fp));
        peer->period_known = true;
    }
    if (!peer->period_parsed || now_s < peer->not_before_s || now_s > peer->not_after_s) {
        if (!peer->warned || memcmp(peer->fp, fp, sizeof(fp)) != 0) {
            tq__http_fingerprint_hex(fp, hex);
            tq_log(TQ_LOG_WARN,
                   "http: client certificate refused sha256=%s reason=outside-validity-period",
                   hex);
        }
        memcpy(peer->fp, fp, sizeof(fp));
        peer->looked_up = false;
        peer->partner[0] = '\0';
        peer->warned = true;
        return tq_err_set(err, TQ_EAUTH, "the client certificate is expired or not yet valid");
    }
    if (peer->looked_up && memcmp(peer->fp, fp, sizeof(fp)) == 0 &&
        now_mono_us - peer->checked_mono_us < TQ_PEER_RECHECK_US) {
        if (!peer->partner[0])
            return tq_err_set(err, TQ_EAUTH, "the client certificate is not a partner's");
        memcpy(partner_out, peer->partner, TQ_NAME_MAX);
        return TQ_OK;
    }

    memset(&p, 0, sizeof(p));
    rc = tq_store_partner_find_cert(store, fp, &p, err);
    if (rc && rc != TQ_ENOTFOUND) {
        tq_partner_cleanup(&p);
        peer->looked_up = false;
        return rc;
    }
    if (memcmp(peer->fp, fp, sizeof(fp)) != 0)
        peer->warned = false;
    memcpy(peer->fp, fp, sizeof(fp));
    peer->looked_up = true;
    peer->checked_mono_us = now_mono_us;
    if (rc == TQ_ENOTFOUND) {
        peer->partner[0] = '\0';
        if (!peer->warned) {
            tq__http_fingerprint_hex(fp, hex);
            tq_log(TQ_LOG_WARN, "http: client certificate matches no partner sha256=%s", hex);
            peer->warned = true;
        }
        return tq_err_set(err, TQ_EAUTH, "the client certificate is not a partner's");
    }
    memcpy(peer->partner, p.name, TQ_NAME_MAX);
    peer->partner[TQ_NAME_MAX - 1] = '\0';
    tq_partner_cleanup(&p);
    memcpy(partner_out, peer->partner, TQ_NAME_MAX);
    return TQ_OK;
}
