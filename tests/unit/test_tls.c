/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_tls.c - the node's TLS material (node/tls.c), read back with GnuTLS.
 *
 * A home made by tq_node_init gets a self-signed ECDSA P-256 certificate: its subject and
 * subjectAltNames name the host given (and localhost, 127.0.0.1, ::1), it is valid two years, it
 * is signed by its own key, and tls/key.pem holds that key with mode 0600. The fingerprint the
 * node hands to partners is compared with the one GnuTLS computes on the DER. curl, with only
 * that certificate as trust anchor, reaches a server started with it under the host name, and
 * refuses another name. Then the refusals: a certificate or key that does not parse, a key of
 * another certificate, half of a --cert/--key pair, and a key file that cannot be written.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "node/node.h"
#include "tansiq/server.h"

#include "fixture.h"

#define HOST "border-7.example.org"
#define TWO_YEARS_S (2L * 365 * 24 * 3600)

struct tls_fixture {
    char dir[64];
    char home[96];
    char cert[128];
    char key[128];
};

static int setup(void **state)
{
    struct tls_fixture *f = calloc(1, sizeof(*f));
    struct tq_node_init_opts opts = {.hostname = HOST};
    struct tq_err err = {0};

    if (!f)
        return -1;
    umask(022); /* the modes asserted below are the ones init asks for, not a umask's */
    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-tls-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->home, sizeof(f->home), "%s/home", f->dir);
    snprintf(f->cert, sizeof(f->cert), "%s/tls/cert.pem", f->home);
    snprintf(f->key, sizeof(f->key), "%s/tls/key.pem", f->home);
    if (tq_node_init(f->home, &opts, &err)) {
        fprintf(stderr, "init: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct tls_fixture *f = *state;

    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* The PEM certificate at path, parsed by GnuTLS. */
static gnutls_x509_crt_t load_crt(const char *path)
{
    char *pem = read_text(path);
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    gnutls_x509_crt_t crt;

    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    tq_free(pem);
    return crt;
}

/* SHA-256 key id of the public key in the PEM private key at path, computed by GnuTLS. */
static void key_id_of_key_file(const char *path, unsigned char id[32])
{
    char *pem = read_text(path);
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    gnutls_x509_privkey_t key;
    size_t len = 32;

    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0), 0);
    assert_int_equal(gnutls_x509_privkey_get_pk_algorithm(key), GNUTLS_PK_ECDSA);
    assert_int_equal(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, id, &len), 0);
    assert_int_equal(len, 32);
    gnutls_x509_privkey_deinit(key);
    tq_free(pem);
}

static void assert_mode(const char *path, mode_t want)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    if ((st.st_mode & 0777) != want)
        fail_msg("%s is mode %o, expected %o", path, (unsigned)(st.st_mode & 0777), (unsigned)want);
}

/* ---- what init writes ------------------------------------------------------------------ */

static void init_writes_key_0600_and_a_matching_pair(void **state)
{
    struct tls_fixture *f = *state;
    char tls_dir[128];
    unsigned char crt_id[32], key_id[32];
    size_t len = sizeof(crt_id);
    gnutls_x509_crt_t crt = load_crt(f->cert);
    struct tq_err err = {0};

    snprintf(tls_dir, sizeof(tls_dir), "%s/tls", f->home);
    assert_mode(f->key, 0600);
    assert_mode(f->cert, 0644);
    assert_mode(tls_dir, 0700);
    assert_int_equal(tq__node_tls_check(f->cert, f->key, &err), TQ_OK);
    /* The key file holds the certificate's key, as GnuTLS sees both. */
    assert_int_equal(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, crt_id, &len), 0);
    key_id_of_key_file(f->key, key_id);
    assert_memory_equal(crt_id, key_id, 32);
    gnutls_x509_crt_deinit(crt);
}

static void fingerprint_matches_gnutls(void **state)
{
    struct tls_fixture *f = *state;
    struct tq_node *node = NULL;
    struct tq_node_identity id;
    struct tq_err err = {0};
    gnutls_x509_crt_t crt = load_crt(f->cert);
    unsigned char want[32];
    size_t len = sizeof(want);
    uint8_t direct[32];
    char *pem = read_text(f->cert);

    assert_int_equal(gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, want, &len), 0);
    assert_int_equal(len, 32);
    assert_int_equal(tq_node_open(f->home, &node, &err), TQ_OK);
    assert_int_equal(tq_node_identity(node, &id, &err), TQ_OK);
    assert_memory_equal(id.cert_sha256, want, 32);
    /* The identity hands out the file's text, less its final newline. */
    assert_int_equal(strlen(id.cert_pem) + 1, strlen(pem));
    assert_memory_equal(id.cert_pem, pem, strlen(id.cert_pem));
    assert_int_equal(tq_node_cert_sha256(pem, strlen(pem), direct, &err), TQ_OK);
    assert_memory_equal(direct, want, 32);
    /* The fixture's own reading of the DER agrees. */
    cert_sha256(pem, direct);
    assert_memory_equal(direct, want, 32);
    assert_int_equal(tq_node_cert_sha256("-----BEGIN CERTIFICATE-----\nAAAA\n", 33, direct, &err),
                     TQ_EINVAL);
    tq_node_identity_cleanup(&id);
    tq_node_close(node);
    gnutls_x509_crt_deinit(crt);
    tq_free(pem);
}

/* The subjectAltNames as "DNS:name" / "IP:a.b.c.d" / "IP:v6" strings, joined by commas. */
static void san_list(gnutls_x509_crt_t crt, char *out, size_t cap)
{
    size_t used = 0;

    out[0] = '\0';
    for (unsigned i = 0;; i++) {
        unsigned char v[256];
        size_t len = sizeof(v) - 1;
        char ip[64];
        int type = gnutls_x509_crt_get_subject_alt_name(crt, i, v, &len, NULL);

        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        assert_true(type >= 0);
        if (type == GNUTLS_SAN_DNSNAME) {
            v[len] = '\0';
            used += (size_t)snprintf(out + used, cap - used, "%sDNS:%s", i ? "," : "", v);
        } else {
            assert_int_equal(type, GNUTLS_SAN_IPADDRESS);
            assert_true(len == 4 || len == 16);
            if (len == 4)
                snprintf(ip, sizeof(ip), "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
            else
                snprintf(ip, sizeof(ip), "%s",
                         memcmp(v, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) ? "other-v6" : "::1");
            used += (size_t)snprintf(out + used, cap - used, "%sIP:%s", i ? "," : "", ip);
        }
        assert_true(used < cap);
    }
}

static void certificate_names_host_and_loopback(void **state)
{
    struct tls_fixture *f = *state;
    gnutls_x509_crt_t crt = load_crt(f->cert);
    char buf[256], sans[512];
    size_t len = sizeof(buf);

    assert_int_equal(gnutls_x509_crt_get_version(crt), 3);
    assert_int_equal(
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len), 0);
    assert_string_equal(buf, HOST);
    len = sizeof(buf);
    assert_int_equal(
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, 0, buf, &len), 0);
    assert_string_equal(buf, "tansiq");
    san_list(crt, sans, sizeof(sans));
    assert_string_equal(sans, "DNS:" HOST ",DNS:localhost,IP:127.0.0.1,IP:::1");
    assert_true(gnutls_x509_crt_check_hostname(crt, HOST));
    assert_true(gnutls_x509_crt_check_hostname(crt, "localhost"));
    assert_false(gnutls_x509_crt_check_hostname(crt, "border-8.example.org"));
    assert_true(gnutls_x509_crt_check_ip(crt, (const unsigned char *)"\x7f\0\0\1", 4, 0));
    assert_false(gnutls_x509_crt_check_ip(crt, (const unsigned char *)"\x7f\0\0\2", 4, 0));
    gnutls_x509_crt_deinit(crt);
}

static void certificate_is_p256_self_signed_for_two_years(void **state)
{
    struct tls_fixture *f = *state;
    gnutls_x509_crt_t crt = load_crt(f->cert);
    gnutls_ecc_curve_t curve;
    gnutls_datum_t x = {0}, y = {0}, subj = {0}, issuer = {0};
    unsigned critical = 0, ca = 1, usage = 0;
    int pathlen;
    unsigned char serial[32], oid[64];
    size_t len = sizeof(serial);
    time_t before, after;
    char *pem = read_text(f->cert);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);

    assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, NULL), GNUTLS_PK_ECDSA);
    assert_int_equal(gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y), 0);
    assert_int_equal(curve, GNUTLS_ECC_CURVE_SECP256R1);
    assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_ECDSA_SHA256);
    /* Self-signed: issuer is subject, and the signature verifies with the certificate's key. */
    assert_int_equal(gnutls_x509_crt_get_raw_dn(crt, &subj), 0);
    assert_int_equal(gnutls_x509_crt_get_raw_issuer_dn(crt, &issuer), 0);
    assert_int_equal(subj.size, issuer.size);
    assert_memory_equal(subj.data, issuer.data, subj.size);
    assert_non_null(x509);
    assert_int_equal(X509_verify(x509, X509_get0_pubkey(x509)), 1);
    /* A random 128-bit serial that stays positive in DER (its top bit is cleared, so no 17th
     * byte); leading zero bytes drop out, so it may be shorter. */
    assert_int_equal(gnutls_x509_crt_get_serial(crt, serial, &len), 0);
    assert_true(len >= 8 && len <= 16);
    assert_int_equal(serial[0] & 0x80, 0);
    /* An end-entity certificate for TLS servers and clients alike. */
    assert_true(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen) >= 0);
    assert_int_equal(ca, 0);
    assert_int_equal(critical, 1);
    assert_int_equal(gnutls_x509_crt_get_key_usage(crt, &usage, &critical), 0);
    assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
    assert_int_equal(critical, 1);
    len = sizeof(oid);
    assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &len, NULL), 0);
    assert_string_equal((char *)oid, GNUTLS_KP_TLS_WWW_SERVER);
    len = sizeof(oid);
    assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(crt, 1, oid, &len, NULL), 0);
    assert_string_equal((char *)oid, GNUTLS_KP_TLS_WWW_CLIENT);
    /* From an hour back (clock skew) to two years on; the two ends come from two clock reads. */
    before = gnutls_x509_crt_get_activation_time(crt);
    after = gnutls_x509_crt_get_expiration_time(crt);
    assert_true(before <= time(NULL));
    assert_true(after - before >= TWO_YEARS_S + 3600 && after - before <= TWO_YEARS_S + 3601);
    gnutls_free(x.data);
    gnutls_free(y.data);
    gnutls_free(subj.data);
    gnutls_free(issuer.data);
    X509_free(x509);
    BIO_free(bio);
    tq_free(pem);
    gnutls_x509_crt_deinit(crt);
}

/* Each node its own key and serial; a home without a hostname is "localhost". */
static void second_home_new_key_default_host(void **state)
{
    struct tls_fixture *f = *state;
    char home[128], cert[160], key[160], cn[64];
    unsigned char id1[32], id2[32], s1[32], s2[32];
    size_t n1 = sizeof(s1), n2 = sizeof(s2), len = sizeof(cn);
    gnutls_x509_crt_t a = load_crt(f->cert), b;
    struct tq_err err = {0};

    snprintf(home, sizeof(home), "%s/second", f->dir);
    snprintf(cert, sizeof(cert), "%s/tls/cert.pem", home);
    snprintf(key, sizeof(key), "%s/tls/key.pem", home);
    assert_int_equal(tq_node_init(home, NULL, &err), TQ_OK);
    b = load_crt(cert);
    assert_int_equal(gnutls_x509_crt_get_dn_by_oid(b, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len),
                     0);
    assert_string_equal(cn, "localhost");
    key_id_of_key_file(f->key, id1);
    key_id_of_key_file(key, id2);
    assert_memory_not_equal(id1, id2, 32);
    assert_int_equal(gnutls_x509_crt_get_serial(a, s1, &n1), 0);
    assert_int_equal(gnutls_x509_crt_get_serial(b, s2, &n2), 0);
    assert_false(n1 == n2 && memcmp(s1, s2, n1) == 0);
    /* The two pairs do not mix. */
    assert_int_equal(tq__node_tls_check(cert, f->key, &err), TQ_ETLS);
    assert_non_null(strstr(err.msg, "does not belong to"));
    assert_int_equal(tq__node_tls_check(f->cert, key, &err), TQ_ETLS);
    gnutls_x509_crt_deinit(a);
    gnutls_x509_crt_deinit(b);
}

/* ---- the certificate in use --------------------------------------------------------------- */

/* GET https://<name>:port/log/checkpoint with name resolved to 127.0.0.1, trusting only cert. */
static CURLcode get_as(const char *name, uint16_t port, const char *cert, long *status)
{
    struct curl_slist *resolve;
    char entry[128], url[160];
    CURLcode cc;

    snprintf(entry, sizeof(entry), "%s:%u:127.0.0.1", name, port);
    snprintf(url, sizeof(url), "https://%s:%u/log/checkpoint", name, port);
    resolve = curl_slist_append(NULL, entry);
    cc = fixture_https_get(url, cert, resolve, status, NULL);
    curl_slist_free_all(resolve);
    return cc;
}

static void curl_trusts_it_under_the_host_name(void **state)
{
    struct tls_fixture *f = *state;
    struct tq_node *node = NULL;
    struct tq_server_config cfg;
    struct tq_server *srv = NULL;
    struct tq_err err = {0};
    uint16_t port;
    long status;

    assert_int_equal(tq_node_open(f->home, &node, &err), TQ_OK);
    assert_int_equal(tq_node_server_config(node, &cfg, &err), TQ_OK);
    assert_string_equal(cfg.cert_pem_path, f->cert);
    assert_string_equal(cfg.key_pem_path, f->key);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 1;
    if (tq_server_start(tq_node_store(node), &cfg, &srv, &err))
        fail_msg("server: %s", err.msg);
    port = tq_server_port(srv);
    assert_int_equal(get_as(HOST, port, f->cert, &status), CURLE_OK);
    assert_true(status >= 200); /* an answer over the verified connection is what counts */
    assert_int_equal(get_as("localhost", port, f->cert, &status), CURLE_OK);
    assert_int_equal(get_as("border-8.example.org", port, f->cert, &status),
                     CURLE_PEER_FAILED_VERIFICATION);
    tq_server_stop(srv);
    tq_node_close(node);
}

/* ---- refusals ------------------------------------------------------------------------------ */

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void check_refuses_corrupt_files(void **state)
{
    struct tls_fixture *f = *state;
    char bad_cert[128], bad_key[128];
    char *cert = read_text(f->cert), *key = read_text(f->key);
    struct tq_err err = {0};

    snprintf(bad_cert, sizeof(bad_cert), "%s/bad-cert.pem", f->dir);
    snprintf(bad_key, sizeof(bad_key), "%s/bad-key.pem", f->dir);

    /* Half a certificate, no file, the key in place of it. */
    write_text(bad_cert, cert, strlen(cert) / 2);
    assert_int_equal(tq__node_tls_check(bad_cert, f->key, &err), TQ_ETLS);
    assert_non_null(strstr(err.msg, "not a PEM certificate"));
    assert_int_equal(tq__node_tls_check("/nonexistent/cert.pem", f->key, &err), TQ_ETLS);
    assert_int_equal(tq__node_tls_check(f->key, f->key, &err), TQ_ETLS);
    assert_non_null(strstr(err.msg, "not a PEM certificate"));

    /* A key cut short, garbage, no file, the certificate in place of it. */
    write_text(bad_key, key, strlen(key) / 2);
    assert_int_equal(tq__node_tls_check(f->cert, bad_key, &err), TQ_ETLS);
    assert_non_null(strstr(err.msg, "not a PEM private key"));
    write_text(bad_key, "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", 65);
    assert_int_equal(tq__node_tls_check(f->cert, bad_key, &err), TQ_ETLS);
    assert_int_equal(tq__node_tls_check(f->cert, "/nonexistent/key.pem", &err), TQ_ETLS);
    assert_int_equal(tq__node_tls_check(f->cert, f->cert, &err), TQ_ETLS);
    assert_non_null(strstr(err.msg, "not a PEM private key"));
    tq_free(cert);
    tq_free(key);
}

/* init with --cert and --key: a mismatched pair or half a pair leaves no home behind. */
static void init_refuses_bad_given_pairs(void **state)
{
    struct tls_fixture *f = *state;
    char other[128], other_cert[160], other_key[160], home[128];
    struct tq_node_init_opts opts = {0};
    struct tq_err err = {0};

    snprintf(other, sizeof(other), "%s/other", f->dir);
    snprintf(other_cert, sizeof(other_cert), "%s/tls/cert.pem", other);
    snprintf(other_key, sizeof(other_key), "%s/tls/key.pem", other);
    snprintf(home, sizeof(home), "%s/given", f->dir);
    assert_int_equal(tq_node_init(other, NULL, &err), TQ_OK);

    opts.cert_pem = f->cert;
    opts.key_pem = other_key;
    assert_int_equal(tq_node_init(home, &opts, &err), TQ_ETLS);
    assert_false(tq_node_exists(home));
    opts.key_pem = NULL;
    assert_int_equal(tq_node_init(home, &opts, &err), TQ_EINVAL);
    assert_false(tq_node_exists(home));
    opts.cert_pem = NULL;
    opts.key_pem = other_key;
    assert_int_equal(tq_node_init(home, &opts, &err), TQ_EINVAL);
    assert_false(tq_node_exists(home));
}

/* A given pair is installed as it is, the key with mode 0600 whatever the source's mode. */
static void init_installs_given_pair(void **state)
{
    struct tls_fixture *f = *state;
    char home[128], cert[160], key[160], *want_cert, *want_key, *got_cert, *got_key;
    struct tq_node_init_opts opts = {.cert_pem = f->cert, .key_pem = f->key};
    struct tq_err err = {0};
    char src_key[128];

    snprintf(src_key, sizeof(src_key), "%s/readable-key.pem", f->dir);
    want_key = read_text(f->key);
    write_text(src_key, want_key, strlen(want_key));
    assert_int_equal(chmod(src_key, 0644), 0);
    opts.key_pem = src_key;
    snprintf(home, sizeof(home), "%s/installed", f->dir);
    snprintf(cert, sizeof(cert), "%s/tls/cert.pem", home);
    snprintf(key, sizeof(key), "%s/tls/key.pem", home);
    assert_int_equal(tq_node_init(home, &opts, &err), TQ_OK);
    want_cert = read_text(f->cert);
    got_cert = read_text(cert);
    got_key = read_text(key);
    assert_string_equal(got_cert, want_cert);
    assert_string_equal(got_key, want_key);
    assert_mode(key, 0600);
    tq_free(want_cert);
    tq_free(want_key);
    tq_free(got_cert);
    tq_free(got_key);
}

static void selfsigned_reports_unwritable_key(void **state)
{
    struct tls_fixture *f = *state;
    char cert[128];
    struct tq_err err = {0};

    snprintf(cert, sizeof(cert), "%s/lone-cert.pem", f->dir);
    assert_int_equal(tq__node_tls_selfsigned("x", cert, "/nonexistent/dir/key.pem", &err), TQ_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/key.pem"));
    assert_int_equal(access(cert, F_OK), -1); /* the key is written first: no orphan cert */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_writes_key_0600_and_a_matching_pair),
        cmocka_unit_test(fingerprint_matches_gnutls),
        cmocka_unit_test(certificate_names_host_and_loopback),
        cmocka_unit_test(certificate_is_p256_self_signed_for_two_years),
        cmocka_unit_test(second_home_new_key_default_host),
        cmocka_unit_test(curl_trusts_it_under_the_host_name),
        cmocka_unit_test(check_refuses_corrupt_files),
        cmocka_unit_test(init_refuses_bad_given_pairs),
        cmocka_unit_test(init_installs_given_pair),
        cmocka_unit_test(selfsigned_reports_unwritable_key),
    };
    int rc;

    /* One test by name: test_tls NAME (a cmocka filter pattern). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    gnutls_global_init();
    rc = cmocka_run_group_tests_name("tls", tests, setup, teardown);
    gnutls_global_deinit();
    curl_global_cleanup();
    return rc;
}
