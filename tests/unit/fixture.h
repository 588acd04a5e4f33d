/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/fixture.h - helpers several unit tests share: temporary stores and homes, files,
 * certificates and test objects. Each test is its own program, so these are static inline (a
 * test that uses none of them pays nothing and gets no unused-function warning).
 */
#ifndef TQ_TEST_FIXTURE_H
#define TQ_TEST_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "tansiq/core.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"

/* Remove a temporary store directory: the database, its WAL, shared memory and journal. */
static inline void tmpdir_remove(const char *dir)
{
    static const char *const suffixes[] = {"/store.db", "/store.db-wal", "/store.db-shm",
                                           "/store.db-journal", "/store.db-lock2"};
    char p[128];
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", dir, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* nftw callback that removes a whole tree (FTW_DEPTH | FTW_PHYS). */
static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* A whole file (at most 1 MiB) as a C string; fails the test when unreadable. */
static inline char *read_text(const char *path)
{
    struct tq_buf b;
    struct tq_err err = {0};

    if (tq_file_read(path, 1u << 20, &b, &err))
        fail_msg("%s", err.msg);
    return tq_buf_take(&b, NULL);
}

/* SHA-256 of the DER form of the first certificate in PEM text. */
static inline void cert_sha256(const char *pem, uint8_t out[32])
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    unsigned char *der = NULL;
    int len;

    assert_non_null(x);
    len = i2d_X509(x, &der);
    assert_true(len > 0);
    SHA256(der, (size_t)len, out);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
}

/* curl write callback appending to the struct tq_buf in ud. */
static inline size_t fixture_collect(char *p, size_t size, size_t n, void *ud)
{
    return tq_buf_append(ud, p, size * n) ? 0 : size * n;
}

/*
 * GET url over HTTPS trusting only the certificates in cafile; resolve (may be NULL) maps host
 * names to addresses (CURLOPT_RESOLVE). The body goes to body (may be NULL: discarded), the
 * status to *status (0 when no answer came). What curl_easy_perform returns.
 */
static inline CURLcode fixture_https_get(const char *url, const char *cafile,
                                         struct curl_slist *resolve, long *status,
                                         struct tq_buf *body)
{
    CURL *c = curl_easy_init();
    struct tq_buf sink;
    CURLcode cc;

    assert_non_null(c);
    tq_buf_init(&sink, 1u << 20);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fixture_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body ? body : &sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    cc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    tq_buf_cleanup(&sink);
    return cc;
}

/* The store at path, created when missing; fails the test when it cannot be opened. */
static inline struct tq_store *fixture_store_open(const char *path)
{
    struct tq_store *s = NULL;
    struct tq_err err = {0};

    if (tq_store_open(path, NULL, &s, &err))
        fail_msg("open %s: %s", path, err.msg);
    return s;
}

/* A release decision: every partner whose name starts with one of the letters in ud ("" =
 * nobody). */
static inline tq_rc fixture_decide_letters(void *ud, const struct tq_store_release_view *view,
                                           const struct tq_store_facts *facts, bool *released)
{
    const char *letters = ud;

    (void)facts;
    for (size_t i = 0; i < view->n_partners; i++)
        released[i] = strchr(letters, view->partners[i][0]) != NULL;
    return TQ_OK;
}

/* Indicator n at version_us, with canonical JSON, for tests that store objects directly. */
static inline void fixture_indicator(struct tq_stix_object *o, unsigned n, int64_t version_us)
{
    char json[256];
    int len;

    memset(o, 0, sizeof(*o));
    snprintf(o->type, sizeof(o->type), "indicator");
    snprintf(o->id, sizeof(o->id), "indicator--%08x-0000-4000-8000-000000000000", n);
    snprintf(o->spec_version, sizeof(o->spec_version), "2.1");
    o->version_us = version_us;
    o->modified_us = version_us;
    o->created_us = version_us;
    len = snprintf(json, sizeof(json),
                   "{\"type\":\"indicator\",\"id\":\"%s\",\"spec_version\":\"2.1\",\"n\":%u}",
                   o->id, n);
    o->json = tq_xstrndup(json, (size_t)len);
    o->json_len = (size_t)len;
}

#endif
