/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_http.c - header parsers of the HTTP layer (Accept, Content-Type and its
 * charset, Authorization), the credential cache, API tokens and password hashes, and partner
 * nodes' client certificates: which principal a request gets, validity periods, and the pinned
 * fingerprint lookup with its per-connection cache (against a real SQLite store).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "tansiq/server.h"

static bool accept_ok(const char *s)
{
    return tq__http_accept_ok(s, s ? strlen(s) : 0);
}

static bool ctype_ok(const char *s)
{
    return tq__http_content_type_ok(s, s ? strlen(s) : 0);
}

static void accept_taxii_ranges(void **state)
{
    static const char *const good[] = {
        "application/taxii+json;version=2.1",
        "application/taxii+json",
        "Application/TAXII+JSON; Version=2.1",
        "application/taxii+json ; version = \"2.1\"",
        "text/html, application/taxii+json;version=2.1;q=0.5",
        "*/*",
        "application/*",
        "text/html;q=0.9, */*;q=0.1",
        "  ",
        "",
        "application/taxii+json;version=2.1, garbage",
        "garbage;;, application/taxii+json",
        "text/plain;x=\"a,b\", application/taxii+json",
    };
    static const char *const bad[] = {
        "text/html",
        "application/json",
        "application/taxii+json;version=2.0",
        "application/taxii+json;q=0",
        "application/taxii+json;version=2.1;q=0.000",
        "*/*;q=0",
        "application/stix+json;version=2.1",
        "application/taxii+jsonx",
        "application/taxii+json;version=2.1;q=2",
        "text/*",
        "application/taxii+json;version=\"2.1",
        "/",
        ",,,;",
    };
    size_t i;

    (void)state;
    assert_true(accept_ok(NULL));
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!accept_ok(good[i]))
            fail_msg("Accept '%s' should be acceptable", good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (accept_ok(bad[i]))
            fail_msg("Accept '%s' should be refused", bad[i]);
    }
}

static void content_type_needs_version(void **state)
{
    (void)state;
    assert_true(ctype_ok("application/taxii+json;version=2.1"));
    assert_true(ctype_ok("application/taxii+json; version=2.1"));
    assert_true(ctype_ok("APPLICATION/taxii+JSON;VERSION=\"2.1\""));
    assert_true(ctype_ok("application/taxii+json;charset=utf-8;version=2.1"));
    assert_true(ctype_ok("application/taxii+json ; version=2.1 "));
    assert_false(ctype_ok(NULL));
    assert_false(ctype_ok(""));
    assert_false(ctype_ok("application/taxii+json"));
    assert_false(ctype_ok("application/taxii+json;version=2.0"));
    assert_false(ctype_ok("application/json"));
    assert_false(ctype_ok("application/stix+json;version=2.1"));
    assert_false(ctype_ok("application/taxii+json;version=2.1, text/html"));
    assert_false(ctype_ok("application/taxii+json;version"));
    assert_false(ctype_ok("application/taxii+json;version=2.1 x"));
}

static bool charset_ok(const char *s)
{
    return tq__http_content_type_charset_ok(s, s ? strlen(s) : 0);
}

/* A TAXII body is JSON, so UTF-8: any other charset parameter is refused (400). */
/* RFC 9110 section 12.5.3: codings by name or "*", q-values, q=0 as "not acceptable". */
static void accept_encoding_gzip(void **state)
{
    static const struct {
        const char *value;
        bool gzip;
    } cases[] = {
        {"gzip", true},
        {"GZip", true},
        {"deflate, gzip;q=0.5", true},
        {"x-gzip", true},
        {"br, *", true},
        {"*;q=0.1", true},
        {"gzip;q=0", false},
        {"gzip;q=0.000, *", false},
        {"*;q=0", false},
        {"*, gzip;q=0", false},
        {"identity", false},
        {"deflate, br", false},
        {"", false},
        {"gzipx", false},
        {"gzip;q=2", false},
        {"gzip;q=abc", false},
        {" , gzip ; q=1.0 ", true},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (tq__http_accepts_gzip(cases[i].value, strlen(cases[i].value)) != cases[i].gzip)
            fail_msg("Accept-Encoding '%s': expected %d", cases[i].value, cases[i].gzip);
    assert_false(tq__http_accepts_gzip(NULL, 0));
}

static void content_type_charset_utf8_only(void **state)
{
    (void)state;
    assert_true(charset_ok(NULL));
    assert_true(charset_ok("application/taxii+json;version=2.1"));
    assert_true(charset_ok("application/taxii+json;version=2.1;charset=utf-8"));
    assert_true(charset_ok("application/taxii+json; Charset=UTF-8; version=2.1"));
    assert_true(charset_ok("application/taxii+json;version=2.1;charset=\"utf-8\""));
    assert_false(charset_ok("application/taxii+json;version=2.1;charset=utf-16"));
    assert_false(charset_ok("application/taxii+json;version=2.1; CHARSET=\"UTF-16LE\""));
    assert_false(charset_ok("application/taxii+json;charset=iso-8859-1;version=2.1"));
    assert_false(charset_ok("application/taxii+json;version=2.1;charset=utf8"));
    assert_false(charset_ok("application/taxii+json;version=2.1;charset=\"\""));
    assert_false(charset_ok("application/taxii+json;version=2.1;charset=utf-8-and-a-very-long-"
                            "label-that-overflows-the-value-buffer-of-sixty-four-bytes-x"));
}

static void b64(const char *plain, char *out, size_t out_size)
{
    sodium_bin2base64(out, out_size, (const unsigned char *)plain, strlen(plain),
                      sodium_base64_VARIANT_ORIGINAL);
}

static void basic_and_bearer_parse(void **state)
{
    struct tq__access_cred c;
    struct tq_err err;
    char enc[256], hdr[300];

    (void)state;
    b64("alice:s3cret:with:colons", enc, sizeof(enc));
    snprintf(hdr, sizeof(hdr), "Basic %s", enc);
    assert_int_equal(tq__http_auth_parse(hdr, strlen(hdr), &c, &err), TQ_OK);
    assert_int_equal(c.scheme, TQ_AUTH_BASIC);
    assert_string_equal(c.user, "alice");
    assert_string_equal(c.secret, "s3cret:with:colons");
    assert_int_equal(c.secret_len, 18);
    tq__access_cred_wipe(&c);

    snprintf(hdr, sizeof(hdr), "  bAsIc   %s  ", enc);
    assert_int_equal(tq__http_auth_parse(hdr, strlen(hdr), &c, &err), TQ_OK);
    assert_string_equal(c.user, "alice");
    tq__access_cred_wipe(&c);

    /* unpadded base64 is tolerated */
    b64("bob:pw", enc, sizeof(enc));
    enc[strcspn(enc, "=")] = '\0';
    snprintf(hdr, sizeof(hdr), "Basic %s", enc);
    assert_int_equal(tq__http_auth_parse(hdr, strlen(hdr), &c, &err), TQ_OK);
    assert_string_equal(c.user, "bob");
    tq__access_cred_wipe(&c);

    assert_int_equal(tq__http_auth_parse("Bearer tq_abc-DEF_123", 21, &c, &err), TQ_OK);
    assert_int_equal(c.scheme, TQ_AUTH_BEARER);
    assert_string_equal(c.secret, "tq_abc-DEF_123");
    tq__access_cred_wipe(&c);
}

static void auth_parse_refusals(void **state)
{
    static const char *const bad[] = {
        "",
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic YWxpY2U=",      /* "alice": no colon */
        "Basic OnB3",          /* ":pw": empty user */
        "Basic YWxpY2U6",      /* "alice:": empty password */
        "Basic YWxp Y2U6cHc=", /* space inside the credentials */
        "Digest username=alice",
        "Bearer",
        "Bearer a b",
        "Bearer tok\"en",
        "Negotiate abc",
        "BasicYWxpY2U6cHc=",
    };
    struct tq__access_cred c;
    struct tq_err err;
    char enc[64], hdr[128];
    size_t i;

    (void)state;
    assert_int_equal(tq__http_auth_parse(NULL, 0, &c, &err), TQ_EAUTH);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tq__http_auth_parse(bad[i], strlen(bad[i]), &c, &err) != TQ_EAUTH)
            fail_msg("Authorization '%s' should be refused", bad[i]);
        assert_int_equal(c.scheme, TQ_AUTH_NONE);
        assert_null(strstr(err.msg, "cHc")); /* never echo the credentials */
    }
    /* a control character inside the decoded credentials */
    b64("ali\x01"
        "ce:pw",
        enc, sizeof(enc));
    snprintf(hdr, sizeof(hdr), "Basic %s", enc);
    assert_int_equal(tq__http_auth_parse(hdr, strlen(hdr), &c, &err), TQ_EAUTH);
    /* NUL inside the header value */
    assert_int_equal(tq__http_auth_parse("Bearer ab\0cd", 12, &c, &err), TQ_EAUTH);
}

static void auth_cache_ttl_and_keys(void **state)
{
    struct tq__access_verifier *a = tq__access_verifier_new(16, 1000, 1);

    (void)state;
    assert_false(tq__access_cache_hit(a, "alice", "pw", 2, 0));
    tq__access_cache_put(a, "alice", "pw", 2, 0);
    assert_true(tq__access_cache_hit(a, "alice", "pw", 2, 10));
    assert_false(tq__access_cache_hit(a, "alice", "pW", 2, 10));
    assert_false(tq__access_cache_hit(a, "alicep", "w", 1, 10)); /* user/password boundary */
    assert_false(tq__access_cache_hit(a, "bob", "pw", 2, 10));
    assert_false(tq__access_cache_hit(a, "alice", "pw", 2, 1000)); /* expired */
    tq__access_verifier_free(a);
}

static void auth_cache_is_bounded(void **state)
{
    struct tq__access_verifier *a = tq__access_verifier_new(8, 1000000, 1);
    char user[32];
    int i, hits = 0;

    (void)state;
    for (i = 0; i < 1000; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        tq__access_cache_put(a, user, "pw", 2, 0);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        hits += tq__access_cache_hit(a, user, "pw", 2, 1);
    }
    assert_true(hits <= 8);
    assert_true(hits >= 1);
    tq__access_verifier_free(a);
}

static void token_shape_and_hash(void **state)
{
    char *tok = NULL;
    uint8_t h[32], h2[32];
    struct tq_err err;
    size_t i;

    (void)state;
    assert_int_equal(tq_auth_token_new(&tok, h, &err), TQ_OK);
    assert_int_equal(strlen(tok), 3 + 43);
    assert_memory_equal(tok, "tq_", 3);
    for (i = 3; tok[i]; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", tok[i]));
    tq_auth_token_hash(tok, strlen(tok), h2);
    assert_memory_equal(h, h2, 32);
    tq_auth_token_hash("tq_x", 4, h2);
    assert_memory_not_equal(h, h2, 32);
    tq_free(tok);
}

static void password_hash_verifies(void **state)
{
    char *hash = NULL;
    struct tq_err err;

    (void)state;
    assert_int_equal(tq_auth_password_hash("correct horse", &hash, &err), TQ_OK);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_int_equal(crypto_pwhash_str_verify(hash, "correct horse", 13), 0);
    assert_int_not_equal(crypto_pwhash_str_verify(hash, "correct horsE", 13), 0);
    tq_free(hash);
}

/* ---- partner nodes: client certificates ------------------------------------------------- */

static void principal_credentials_win(void **state)
{
    (void)state;
    assert_int_equal(tq__http_principal_source(false, false), TQ_PRINCIPAL_FROM_NONE);
    assert_int_equal(tq__http_principal_source(true, false), TQ_PRINCIPAL_FROM_CREDENTIALS);
    assert_int_equal(tq__http_principal_source(false, true), TQ_PRINCIPAL_FROM_CERT);
    /* a request with both is the user's: the certificate is not looked at */
    assert_int_equal(tq__http_principal_source(true, true), TQ_PRINCIPAL_FROM_CREDENTIALS);
}

/* A self-signed certificate valid from not_before to not_after (seconds), as DER. */
static gnutls_datum_t make_cert(const char *cn, time_t not_before, time_t not_after)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    gnutls_datum_t der = {NULL, 0};
    unsigned char serial[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(gnutls_x509_privkey_generate(
                         key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                     0);
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
    assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
    assert_int_equal(gnutls_x509_crt_set_activation_time(crt, not_before), 0);
    assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, not_after), 0);
    assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                                   (unsigned)strlen(cn)),
                     0);
    assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
    assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return der;
}

static void cert_validity_period(void **state)
{
    time_t now = time(NULL);
    gnutls_datum_t good = make_cert("good", now - 3600, now + 3600);
    gnutls_datum_t old = make_cert("old", now - 7200, now - 3600);
    gnutls_datum_t early = make_cert("early", now + 3600, now + 7200);

    (void)state;
    assert_true(tq__http_cert_time_ok(good.data, good.size, now));
    assert_false(tq__http_cert_time_ok(old.data, old.size, now));
    assert_false(tq__http_cert_time_ok(early.data, early.size, now));
    assert_false(tq__http_cert_time_ok("not a certificate", 17, now));
    assert_false(tq__http_cert_time_ok(NULL, 0, now));
    gnutls_free(good.data);
    gnutls_free(old.data);
    gnutls_free(early.data);
}

static void fingerprint_is_sha256_of_der(void **state)
{
    uint8_t fp[32], want[32];
    char hex[65];

    (void)state;
    tq__http_cert_sha256("abc", 3, fp);
    crypto_hash_sha256(want, (const unsigned char *)"abc", 3);
    assert_memory_equal(fp, want, 32);
    tq__http_fingerprint_hex(fp, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void peer_lookup_pins_and_recheck(void **state)
{
    char dir[] = "/tmp/tq-http-XXXXXX", path[64], cmd[96], name[TQ_NAME_MAX];
    time_t now = time(NULL);
    gnutls_datum_t mine = make_cert("damascus", now - 60, now + 3600);
    gnutls_datum_t other = make_cert("stranger", now - 60, now + 3600);
    gnutls_datum_t expired = make_cert("damascus-old", now - 7200, now - 60);
    struct tq__peer peer;
    struct tq_partner p;
    struct tq_store *store = NULL;
    struct tq_err err = {0};
    int64_t t = 1000000;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/store.db", dir);
    assert_int_equal(tq_store_open(path, NULL, &store, &err), TQ_OK);
    memset(&peer, 0, sizeof(peer));

    /* nobody pinned yet: refused, and the refusal is remembered for the connection */
    assert_int_equal(tq__http_peer_resolve(&peer, store, mine.data, mine.size, now, t, name, &err),
                     TQ_EAUTH);
    assert_true(peer.looked_up);
    assert_true(peer.warned);

    memset(&p, 0, sizeof(p));
    memcpy(p.name, "damascus", 9);
    p.taxii_url = "https://127.0.0.1:8443";
    p.cert_pem = "-";
    p.sign_pubkey = "-";
    tq__http_cert_sha256(mine.data, mine.size, p.cert_sha256);
    assert_int_equal(tq_store_partner_put(store, &p, &err), TQ_OK);

    /* within the recheck time the connection keeps its answer; after it, the pin is seen */
    assert_int_equal(
        tq__http_peer_resolve(&peer, store, mine.data, mine.size, now, t + 1000, name, &err),
        TQ_EAUTH);
    t += TQ_PEER_RECHECK_US + 1;
    assert_int_equal(tq__http_peer_resolve(&peer, store, mine.data, mine.size, now, t, name, &err),
                     TQ_OK);
    assert_string_equal(name, "damascus");

    /* another certificate on the same connection is looked up at once */
    assert_int_equal(
        tq__http_peer_resolve(&peer, store, other.data, other.size, now, t + 1, name, &err),
        TQ_EAUTH);
    assert_int_equal(
        tq__http_peer_resolve(&peer, store, mine.data, mine.size, now, t + 2, name, &err), TQ_OK);

    /* a pinned certificate outside its validity period is refused */
    tq__http_cert_sha256(expired.data, expired.size, p.cert_sha256);
    memcpy(p.name, "aleppo", 7);
    assert_int_equal(tq_store_partner_put(store, &p, &err), TQ_OK);
    assert_int_equal(
        tq__http_peer_resolve(&peer, store, expired.data, expired.size, now, t + 3, name, &err),
        TQ_EAUTH);

    /* a removed partner is refused once the recheck time has passed */
    assert_int_equal(tq_store_partner_delete(store, "damascus", &err), TQ_OK);
    t += TQ_PEER_RECHECK_US + 1;
    assert_int_equal(tq__http_peer_resolve(&peer, store, mine.data, mine.size, now, t, name, &err),
                     TQ_EAUTH);

    tq_store_close(store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    gnutls_free(mine.data);
    gnutls_free(other.data);
    gnutls_free(expired.data);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_taxii_ranges),
        cmocka_unit_test(content_type_needs_version),
        cmocka_unit_test(content_type_charset_utf8_only),
        cmocka_unit_test(accept_encoding_gzip),
        cmocka_unit_test(basic_and_bearer_parse),
        cmocka_unit_test(auth_parse_refusals),
        cmocka_unit_test(auth_cache_ttl_and_keys),
        cmocka_unit_test(auth_cache_is_bounded),
        cmocka_unit_test(token_shape_and_hash),
        cmocka_unit_test(password_hash_verifies),
        cmocka_unit_test(principal_credentials_win),
        cmocka_unit_test(cert_validity_period),
        cmocka_unit_test(fingerprint_is_sha256_of_der),
        cmocka_unit_test(peer_lookup_pins_and_recheck),
    };

    /* One test by name: test_http NAME (a cmocka filter pattern). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
