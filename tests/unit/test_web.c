/* SPDX-License-Identifier: Apache-2.0
 *
 * test_web - the dashboard's side of the node (tansiq/web.h): the embedded assets (lookup,
 * the ETag is the SHA-256 of the bytes, the gzip form decodes to them and is kept only when
 * smaller), If-None-Match, the tile origin and the CSP; the session cookie and login body
 * parsers; the throttle; and the sessions in the store on the backend of TQ_TEST_STORE
 * (SQLite by default, PostgreSQL with TQ_TEST_STORE=postgres): create, look up, the idle and
 * absolute limits (expired rows deleted), logout, the sweep, a removed user's sessions gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <zlib.h>

#include "tansiq/store.h"
#include "tansiq/web.h"
#include "backend.h"
#include "fixture.h"

#define S 1000000LL

/* ---- assets ------------------------------------------------------------------------------ */

static void assets_table(void **state)
{
    size_t n = tq_web_asset_count(), js = 0, css = 0;
    const char *prev = "";

    (void)state;
    assert_true(n >= 3);
    assert_non_null(tq_web_asset_find(TQ_STR("index.html")));
    assert_false(tq_web_asset_find(TQ_STR("index.html"))->immutable);
    assert_null(tq_web_asset_find(TQ_STR("index.htm")));
    assert_null(tq_web_asset_find(TQ_STR("index.html2")));
    assert_null(tq_web_asset_find(TQ_STR("")));
    assert_null(tq_web_asset_find(TQ_STR("../index.html")));
    assert_null(tq_web_asset_at(n));
    for (size_t i = 0; i < n; i++) {
        const struct tq_web_asset *a = tq_web_asset_at(i);
        uint8_t h[32];
        char hex[65], want[68];

        assert_true(strcmp(prev, a->name) < 0); /* sorted: the lookup is a binary search */
        prev = a->name;
        assert_ptr_equal(tq_web_asset_find(tq_str_c(a->name)), a);
        tq_sha256(a->data, a->len, h);
        sodium_bin2hex(hex, sizeof(hex), h, 32);
        snprintf(want, sizeof(want), "\"%s\"", hex);
        assert_string_equal(a->etag, want);
        if (a->gz) {
            unsigned char *out = tq_xmalloc(a->len + 1);
            z_stream z = {0};

            assert_true(a->gz_len < a->len);
            assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
            z.next_in = (unsigned char *)a->gz;
            z.avail_in = (uInt)a->gz_len;
            z.next_out = out;
            z.avail_out = (uInt)a->len + 1;
            assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
            assert_int_equal(z.total_out, a->len);
            assert_memory_equal(out, a->data, a->len);
            inflateEnd(&z);
            tq_free(out);
        }
        js += strstr(a->name, ".js") && a->immutable;
        css += strstr(a->name, ".css") && a->immutable;
    }
    assert_int_equal(js, 1);
    assert_int_equal(css, 1);
}

static void etag_matching(void **state)
{
    const char *e = "\"abc\"";

    (void)state;
    assert_false(tq_web_etag_matches(NULL, 0, e));
    assert_true(tq_web_etag_matches("\"abc\"", 5, e));
    assert_true(tq_web_etag_matches("W/\"abc\"", 7, e));
    assert_true(tq_web_etag_matches("\"x\", \"abc\"", 10, e));
    assert_true(tq_web_etag_matches("*", 1, e));
    assert_false(tq_web_etag_matches("\"abcd\"", 6, e));
    assert_false(tq_web_etag_matches("abc", 3, e));
    assert_false(tq_web_etag_matches("", 0, e));
    assert_false(tq_web_etag_matches(" , ,", 4, e));
}

static void tile_origin_and_csp(void **state)
{
    char o[TQ_WEB_ORIGIN_MAX], csp[TQ_WEB_CSP_MAX];
    struct tq_err err = {0};

    (void)state;
    assert_int_equal(tq_web_tile_origin("https://Tile.OSM.org/{z}/{x}/{y}.png", o, &err), TQ_OK);
    assert_string_equal(o, "https://tile.osm.org");
    assert_int_equal(tq_web_tile_origin("https://t.example:8443/a/{z}", o, &err), TQ_OK);
    assert_string_equal(o, "https://t.example:8443");
    assert_int_equal(tq_web_tile_origin("https://[::1]:9/x", o, &err), TQ_OK);
    assert_string_equal(o, "https://[::1]:9");
    assert_int_equal(tq_web_tile_origin("https://t.example", o, &err), TQ_OK);
    const char *bad[] = {"http://t.example/x",
                         "https:///x",
                         "https://t.example:0/",
                         "https://t.ex ample/",
                         "https://t.example:99999/",
                         "https://t.example/'",
                         "https://a@b/",
                         "https://.x/",
                         "ftp://x/",
                         "https://t.example/a b",
                         "https://[zz]/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tq_web_tile_origin(bad[i], o, &err), TQ_ECONFIG);
    tq_web_csp(NULL, csp);
    assert_non_null(strstr(csp, "img-src 'self' data:; "));
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    tq_web_csp("https://t.example", csp);
    assert_non_null(strstr(csp, "img-src 'self' data: https://t.example; "));
}

/* ---- what a browser sends ------------------------------------------------------------------ */

#define TOK "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK0123-_"

static void cookie_parse(void **state)
{
    struct tq_str t;
    const char *ok[] = {"tq_session=" TOK, "a=b; tq_session=" TOK, "tq_session=" TOK "; lang=ar",
                        "x=1;tq_session=" TOK, "tq_session=\"" TOK "\""};

    (void)state;
    assert_int_equal(strlen(TOK), TQ_WEB_TOKEN_LEN);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(tq_web_cookie_token(ok[i], strlen(ok[i]), &t));
        assert_true(tq_str_eq_c(t, TOK));
    }
    const char *bad[] = {"",
                         "tq_session=",
                         "tq_session=short",
                         "xtq_session=" TOK,
                         "tq_session=" TOK "x",
                         "tq_session=" TOK "; tq_session=" TOK,
                         "tq_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJK0123-+",
                         "TQ_SESSION=" TOK};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(tq_web_cookie_token(bad[i], strlen(bad[i]), &t));
    assert_false(tq_web_cookie_token(NULL, 0, &t));
}

static void login_parse(void **state)
{
    char user[TQ_WEB_USER_MAX], pw[TQ_WEB_PASSWORD_MAX], big[1200];
    struct tq_err err = {0};

    (void)state;
    assert_int_equal(
        tq_web_login_parse(TQ_STR("{\"user\":\"analyst\",\"password\":\"p w\"}"), user, pw, &err),
        TQ_OK);
    assert_string_equal(user, "analyst");
    assert_string_equal(pw, "p w");
    const char *bad[] = {"",
                         "[]",
                         "{}",
                         "{\"user\":\"a\"}",
                         "{\"user\":\"a\",\"password\":\"\"}",
                         "{\"user\":\"\",\"password\":\"b\"}",
                         "{\"user\":\"a:b\",\"password\":\"b\"}",
                         "{\"user\":\"a\\u0001\",\"password\":\"b\"}",
                         "{\"user\":\"a\",\"password\":\"b\\u0000c\"}",
                         "{\"user\":\"a\",\"password\":\"b\",\"x\":1}",
                         "{\"user\":\"a\",\"user\":\"b\",\"password\":\"b\"}",
                         "{\"user\":1,\"password\":\"b\"}",
                         "{\"user\":\"a\",\"password\":[\"b\"]}",
                         "{\"user\":\"a\",\"password\":\"b\"} x",
                         "user=a&password=b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tq_web_login_parse(tq_str_c(bad[i]), user, pw, &err), TQ_EINVAL);
        assert_null(strstr(err.msg, "b\\u0000c"));
    }
    memset(big, 'a', sizeof(big));
    assert_int_equal(tq_web_login_parse((struct tq_str){big, sizeof(big)}, user, pw, &err),
                     TQ_EINVAL);
}

static void throttle_counts(void **state)
{
    struct tq_web_throttle *t = tq_web_throttle_new();
    int64_t now = 1000 * S;
    unsigned retry = 0;

    (void)state;
    for (int i = 0; i < TQ_WEB_THROTTLE_FAILS - 1; i++) {
        tq_web_throttle_fail(t, "u", "a1", now + i * S);
        assert_false(tq_web_throttle_blocked(t, "u", "a1", now + i * S, &retry));
    }
    tq_web_throttle_fail(t, "u", "a1", now + 10 * S);
    assert_true(tq_web_throttle_blocked(t, "u", "a2", now + 11 * S, &retry)); /* the user */
    assert_true(retry > 0 && retry <= TQ_WEB_THROTTLE_WINDOW_US / S);
    assert_true(tq_web_throttle_blocked(t, "v", "a1", now + 11 * S, &retry)); /* the address */
    assert_false(tq_web_throttle_blocked(t, "v", "a2", now + 11 * S, &retry));
    /* the window ends: attempts are welcome again */
    assert_false(tq_web_throttle_blocked(t, "u", "a1", now + TQ_WEB_THROTTLE_WINDOW_US, &retry));
    /* a success clears the user, not the address */
    tq_web_throttle_ok(t, "u");
    assert_false(tq_web_throttle_blocked(t, "u", "a2", now + 12 * S, &retry));
    assert_true(tq_web_throttle_blocked(t, "w", "a1", now + 12 * S, &retry));
    /* many other names do not crash it nor unblock a1 in its window */
    for (int i = 0; i < 20000; i++) {
        char name[32];

        snprintf(name, sizeof(name), "n%d", i);
        tq_web_throttle_fail(t, name, NULL, now + 13 * S);
    }
    tq_web_throttle_free(t);
    tq_web_throttle_free(NULL);
}

/* ---- sessions in the store ------------------------------------------------------------------ */

struct fixture {
    char dir[64];
    char path[256];
    struct tq_store *store;
};

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_err err = {0};

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-web-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    backend_target(f->dir, f->path, sizeof(f->path));
    f->store = fixture_store_open(f->path);
    assert_int_equal(tq_store_user_put(f->store, "analyst", "$argon2id$x", &err), TQ_OK);
    assert_int_equal(tq_store_user_put(f->store, "other", "$argon2id$x", &err), TQ_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_store_close(f->store);
    backend_target_drop(f->dir);
    tmpdir_remove(f->dir);
    tq_free(f);
    return 0;
}

static void session_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct tq_web_limits lim = {.idle_s = 100, .max_s = 1000};
    struct tq_store_web_session s, got, raw;
    char tok[TQ_WEB_TOKEN_LEN + 1], tok2[TQ_WEB_TOKEN_LEN + 1];
    struct tq_err err = {0};
    int64_t t0 = 1700000000 * S;
    uint8_t h[32];
    bool ended = false;
    uint64_t n = 0;

    assert_int_equal(tq_web_session_create(f->store, "analyst", &lim, t0, tok, &s, &err), TQ_OK);
    assert_int_equal(strlen(tok), TQ_WEB_TOKEN_LEN);
    assert_int_equal(strlen(s.csrf), TQ_WEB_TOKEN_LEN);
    assert_string_not_equal(tok, s.csrf);
    assert_true(s.expires_us == t0 + 1000 * S);
    /* the store holds the SHA-256 of the token, never the token */
    tq_sha256(tok, TQ_WEB_TOKEN_LEN, h);
    assert_int_equal(tq_store_web_session_get(f->store, h, &raw, &err), TQ_OK);
    assert_string_equal(raw.user, "analyst");
    assert_memory_equal(raw.hash, h, 32);

    assert_int_equal(tq_web_session_lookup(f->store, tq_str_c(tok), &lim, t0 + 10 * S, &got, &err),
                     TQ_OK);
    assert_string_equal(got.user, "analyst");
    assert_string_equal(got.csrf, s.csrf);
    /* a use within the step (a quarter of the idle limit) is not written back; one past it is */
    assert_int_equal(tq_store_web_session_get(f->store, h, &raw, &err), TQ_OK);
    assert_true(raw.last_us == t0);
    assert_int_equal(tq_web_session_lookup(f->store, tq_str_c(tok), &lim, t0 + 30 * S, &got, &err),
                     TQ_OK);
    assert_int_equal(tq_store_web_session_get(f->store, h, &raw, &err), TQ_OK);
    assert_true(raw.last_us == t0 + 30 * S);
    /* kept alive by use beyond one idle period */
    for (int i = 1; i <= 5; i++)
        assert_int_equal(
            tq_web_session_lookup(f->store, tq_str_c(tok), &lim, t0 + i * 80 * S, &got, &err),
            TQ_OK);
    /* the absolute limit, however busy */
    assert_int_equal(
        tq_web_session_lookup(f->store, tq_str_c(tok), &lim, t0 + 1000 * S, &got, &err), TQ_EAUTH);
    assert_int_equal(tq_store_web_session_get(f->store, h, &raw, &err), TQ_ENOTFOUND);

    /* the idle limit */
    assert_int_equal(tq_web_session_create(f->store, "analyst", &lim, t0, tok, &s, &err), TQ_OK);
    assert_int_equal(tq_web_session_lookup(f->store, tq_str_c(tok), &lim, t0 + 100 * S, &got, &err),
                     TQ_EAUTH);
    assert_int_equal(tq_web_session_lookup(f->store, tq_str_c(tok), &lim, t0 + 1 * S, &got, &err),
                     TQ_EAUTH); /* deleted, not just refused */

    /* logout */
    assert_int_equal(tq_web_session_create(f->store, "analyst", &lim, t0, tok, &s, &err), TQ_OK);
    assert_int_equal(tq_web_session_end(f->store, tq_str_c(tok), &ended, &err), TQ_OK);
    assert_true(ended);
    assert_int_equal(tq_web_session_end(f->store, tq_str_c(tok), &ended, &err), TQ_OK);
    assert_false(ended);
    assert_int_equal(tq_web_session_lookup(f->store, tq_str_c(tok), &lim, t0, &got, &err),
                     TQ_EAUTH);
    assert_int_equal(tq_web_session_lookup(f->store, TQ_STR("short"), &lim, t0, &got, &err),
                     TQ_EAUTH);

    /* the sweep: one idle, one past its end, one live */
    assert_int_equal(tq_web_session_create(f->store, "analyst", &lim, t0, tok, &s, &err), TQ_OK);
    assert_int_equal(tq_web_session_create(f->store, "other", &lim, t0 + 500 * S, tok2, &s, &err),
                     TQ_OK);
    assert_int_equal(tq_web_session_sweep(f->store, &lim, t0 + 550 * S, &n, &err), TQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(
        tq_web_session_lookup(f->store, tq_str_c(tok2), &lim, t0 + 560 * S, &got, &err), TQ_OK);
    assert_string_equal(got.user, "other");
    /* a removed user's sessions go with it */
    assert_int_equal(tq_store_user_delete(f->store, "other", &err), TQ_OK);
    assert_int_equal(
        tq_web_session_lookup(f->store, tq_str_c(tok2), &lim, t0 + 561 * S, &got, &err), TQ_EAUTH);
    /* an unknown user cannot hold one */
    assert_int_not_equal(tq_web_session_create(f->store, "nobody", &lim, t0, tok, &s, &err), TQ_OK);
    assert_int_equal(tq_web_session_create(f->store, "", &lim, t0, tok, &s, &err), TQ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assets_table),
        cmocka_unit_test(etag_matching),
        cmocka_unit_test(tile_origin_and_csp),
        cmocka_unit_test(cookie_parse),
        cmocka_unit_test(login_parse),
        cmocka_unit_test(throttle_counts),
        cmocka_unit_test_setup_teardown(session_lifecycle, setup, teardown),
    };

    fprintf(stderr, "web sessions on %s\n", backend_name());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
