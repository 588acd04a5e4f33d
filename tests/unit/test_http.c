/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_http.c - header parsers of the HTTP layer (Accept, Content-Type,
 * Authorization), the credential cache, API tokens and password hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

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

static void b64(const char *plain, char *out, size_t out_size)
{
    sodium_bin2base64(out, out_size, (const unsigned char *)plain, strlen(plain),
                      sodium_base64_VARIANT_ORIGINAL);
}

static void basic_and_bearer_parse(void **state)
{
    struct tq__auth_cred c;
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
    tq__auth_cred_wipe(&c);

    snprintf(hdr, sizeof(hdr), "  bAsIc   %s  ", enc);
    assert_int_equal(tq__http_auth_parse(hdr, strlen(hdr), &c, &err), TQ_OK);
    assert_string_equal(c.user, "alice");
    tq__auth_cred_wipe(&c);

    /* unpadded base64 is tolerated */
    b64("bob:pw", enc, sizeof(enc));
    enc[strcspn(enc, "=")] = '\0';
    snprintf(hdr, sizeof(hdr), "Basic %s", enc);
    assert_int_equal(tq__http_auth_parse(hdr, strlen(hdr), &c, &err), TQ_OK);
    assert_string_equal(c.user, "bob");
    tq__auth_cred_wipe(&c);

    assert_int_equal(tq__http_auth_parse("Bearer tq_abc-DEF_123", 21, &c, &err), TQ_OK);
    assert_int_equal(c.scheme, TQ_AUTH_BEARER);
    assert_string_equal(c.secret, "tq_abc-DEF_123");
    tq__auth_cred_wipe(&c);
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
    struct tq__auth_cred c;
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
    struct tq__auth *a = tq__auth_new(16, 1000, 1);

    (void)state;
    assert_false(tq__auth_cache_hit(a, "alice", "pw", 2, 0));
    tq__auth_cache_put(a, "alice", "pw", 2, 0);
    assert_true(tq__auth_cache_hit(a, "alice", "pw", 2, 10));
    assert_false(tq__auth_cache_hit(a, "alice", "pW", 2, 10));
    assert_false(tq__auth_cache_hit(a, "alicep", "w", 1, 10)); /* user/password boundary */
    assert_false(tq__auth_cache_hit(a, "bob", "pw", 2, 10));
    assert_false(tq__auth_cache_hit(a, "alice", "pw", 2, 1000)); /* expired */
    tq__auth_free(a);
}

static void auth_cache_is_bounded(void **state)
{
    struct tq__auth *a = tq__auth_new(8, 1000000, 1);
    char user[32];
    int i, hits = 0;

    (void)state;
    for (i = 0; i < 1000; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        tq__auth_cache_put(a, user, "pw", 2, 0);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        hits += tq__auth_cache_hit(a, user, "pw", 2, 1);
    }
    assert_true(hits <= 8);
    assert_true(hits >= 1);
    tq__auth_free(a);
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_taxii_ranges),     cmocka_unit_test(content_type_needs_version),
        cmocka_unit_test(basic_and_bearer_parse),  cmocka_unit_test(auth_parse_refusals),
        cmocka_unit_test(auth_cache_ttl_and_keys), cmocka_unit_test(auth_cache_is_bounded),
        cmocka_unit_test(token_shape_and_hash),    cmocka_unit_test(password_hash_verifies),
    };

    /* One test by name: test_http NAME (a cmocka filter pattern). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
