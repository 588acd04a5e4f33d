/* SPDX-License-Identifier: Apache-2.0
 *
 * http/session_api.c - the dashboard's sign-in: POST, GET and DELETE of /json/session, the
 * session cookie's principal for /json/ and /events/ (server.c asks tq__http_session_principal),
 * and GET /json/config, what the page needs before anyone signs in.
 *
 * A login is the same Argon2id check as Basic authentication (tq__access_verify), behind a
 * throttle per user name and per client address (tansiq/web.h). Its answer sets the cookie
 *   tq_session=TOKEN; Path=/; Secure; HttpOnly; SameSite=Strict
 * and returns the session's CSRF token, which the page sends back in X-CSRF-Token on every
 * state-changing request (server.c refuses one without it with 403). The body must be
 * application/json: a form of another site cannot send that without a CORS preflight, which
 * this node never grants. Logins, failed logins and logouts are "session" events of the audit
 * log (user and outcome only).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "http/http.h"
#include "tansiq/audit.h"

#define COOKIE_ATTRS "; Path=/; Secure; HttpOnly; SameSite=Strict"
#define SWEEP_EVERY_US (60 * 1000000LL)
#define BAD_LOGIN "invalid user or password"

/* ---- answers ------------------------------------------------------------------------------ */

static void answer_rc(struct tq__http_resp *resp, tq_rc rc, const struct tq_err *err)
{
    tq_log(TQ_LOG_ERROR, "http: session: %s", err->msg);
    tq__http_resp_json_error(resp, (unsigned)tq_rc_http_status(rc), tq_rc_str(rc));
}

static void session_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    tq__http_resp_json_error(resp, (unsigned)rq->err_status, rq->err_desc);
}

/* A "session" event in the audit log: who and what happened; never a secret. */
static void audit_session(struct tq__http_req *rq, const char *user, const char *outcome)
{
    struct tq_audit_log *log = rq->srv->taxii.audit;
    struct tq_store_audit_field f[2];
    struct tq_store_audit_event ev = {.kind = "session", .version_us = -1, .fields = f};
    struct tq_err err = {0};

    if (!log)
        return;
    ev.at_us = tq_time_now_us();
    f[ev.n_fields++] = (struct tq_store_audit_field){"user", user ? user : ""};
    f[ev.n_fields++] = (struct tq_store_audit_field){"outcome", outcome};
    if (tq_audit_append_event(log, &ev, &err) != TQ_OK)
        tq_log(TQ_LOG_WARN, "http: session: audit event not kept: %s", err.msg);
}

/* The session's JSON: user, csrf, idle_s, expires and, when asked, the permissions. */
static tq_rc session_json(struct tq__http_req *rq, const struct tq_store_web_session *s,
                          bool with_perms, struct tq_buf *b, struct tq_err *err)
{
    char expires[TQ_TIME_STR_MAX];
    struct tq_collection *cols = NULL;
    size_t n = 0;
    tq_rc rc = TQ_OK;

    tq_time_format(s->expires_us, expires);
    tq_buf_append_c(b, "{\"user\":");
    tq_buf_append_json_str(b, s->user, strlen(s->user));
    tq_buf_append_c(b, ",\"csrf\":");
    tq_buf_append_json_str(b, s->csrf, strlen(s->csrf));
    tq_buf_printf(b, ",\"idle_s\":%u,\"expires\":\"%s\"", rq->srv->web_limits.idle_s, expires);
    if (with_perms) {
        bool first = true;

        rc = tq_store_collection_list(rq->srv->taxii.store, &cols, &n, err);
        tq_buf_append_c(b, ",\"permissions\":[");
        for (size_t i = 0; rc == TQ_OK && i < n; i++) {
            bool r = false, w = false;

            rc = tq__access_perm(rq->srv->taxii.store, &rq->who, cols[i].id, &r, &w, err);
            if (rc || (!r && !w))
                continue;
            tq_buf_printf(b, "%s{\"collection\":\"%s\",\"title\":", first ? "" : ",", cols[i].id);
            tq_buf_append_json_str(b, cols[i].title ? cols[i].title : "",
                                   cols[i].title ? strlen(cols[i].title) : 0);
            tq_buf_printf(b, ",\"read\":%s,\"write\":%s}", r ? "true" : "false",
                          w ? "true" : "false");
            first = false;
        }
        tq_buf_append_c(b, "]");
        tq_collection_list_free(cols, n);
    }
    tq_buf_append_c(b, "}");
    return rc;
}

/* ---- the cookie's principal -------------------------------------------------------------- */

static bool cookie_token(const struct tq__http_req *rq, struct tq_str *tok)
{
    size_t len;
    const char *v = tq__http_req_header(rq, "Cookie", &len);

    return v && tq_web_cookie_token(v, len, tok);
}

static bool has_session_cookie(const struct tq__http_req *rq)
{
    size_t len;
    const char *v = tq__http_req_header(rq, "Cookie", &len);

    return v && memmem(v, len, TQ_WEB_COOKIE "=", sizeof(TQ_WEB_COOKIE)) != NULL;
}

tq_rc tq__http_session_principal(struct tq__http_req *rq, struct tq_err *err)
{
    struct tq_store_web_session s;
    struct tq_str tok;
    tq_rc rc;

    if (!cookie_token(rq, &tok)) {
        if (has_session_cookie(rq))
            return tq_err_set(err, TQ_EAUTH, "the session is not valid");
        return tq_err_set(err, TQ_ENOTFOUND, "no session cookie");
    }
    rc = tq_web_session_lookup(rq->srv->taxii.store, tok, &rq->srv->web_limits, tq_time_now_us(),
                               &s, err);
    if (rc)
        return rc;
    if (!tq__principal_set(&rq->who, TQ_PRINCIPAL_USER, s.user))
        return tq_err_set(err, TQ_EAUTH, "the session is not valid");
    rq->by_cookie = true;
    memcpy(rq->csrf, s.csrf, sizeof(rq->csrf));
    sodium_memzero(&s, sizeof(s));
    return TQ_OK;
}

void tq__http_client_addr(const struct tq__http_req *rq, char out[33])
{
    const struct tq__http_conn *c = tq__http_conn_of(rq->conn);

    if (!c) {
        out[0] = '\0';
        return;
    }
    sodium_bin2hex(out, 33, c->addr.b, sizeof(c->addr.b));
}

/* ---- /json/session ------------------------------------------------------------------------ */

static bool json_content_type(const struct tq__http_req *rq)
{
    size_t len, n = 16;
    const char *v = tq__http_req_header(rq, "Content-Type", &len);

    if (!v || len < n || strncasecmp(v, "application/json", n) != 0)
        return false;
    while (n < len && (v[n] == ' ' || v[n] == '\t'))
        n++;
    return n == len || v[n] == ';';
}

static void session_headers(struct tq__http_req *rq)
{
    if (rq->method == TQ_METHOD_POST) {
        if (!json_content_type(rq)) {
            tq__http_req_fail(rq, 415, "the login body must be application/json");
            return;
        }
        tq__http_req_want_body(rq);
    }
}

/* Delete the expired sessions now and then, from a login (the one writer that creates them). */
static void sweep_now_and_then(struct tq__http_req *rq, int64_t now_us)
{
    int64_t last = atomic_load(&rq->srv->last_session_sweep_us);
    struct tq_err err = {0};
    uint64_t n = 0;

    if (now_us - last < SWEEP_EVERY_US ||
        !atomic_compare_exchange_strong(&rq->srv->last_session_sweep_us, &last, now_us))
        return;
    if (tq_web_session_sweep(rq->srv->taxii.store, &rq->srv->web_limits, now_us, &n, &err))
        tq_log(TQ_LOG_WARN, "http: session sweep failed: %s", err.msg);
    else if (n)
        tq_log(TQ_LOG_INFO, "http: expired sessions deleted n=%" PRIu64, n);
}

static void login(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_server *srv = rq->srv;
    struct tq__access_cred cred;
    struct tq_store_web_session s;
    char user[TQ_WEB_USER_MAX], name[TQ_AUTH_USER_MAX], addr[33];
    char token[TQ_WEB_TOKEN_LEN + 1], cookie[TQ_WEB_TOKEN_LEN + 64];
    int64_t now_us = tq_time_now_us();
    struct tq_err err = {0};
    unsigned retry_s = 0;
    struct tq_buf b;
    tq_rc rc;

    memset(&cred, 0, sizeof(cred));
    rc = tq_web_login_parse((struct tq_str){rq->body.ptr, rq->body.len}, user, cred.secret, &err);
    if (rc) {
        tq__access_cred_wipe(&cred);
        tq__http_resp_json_error(resp, 400, err.msg);
        return;
    }
    tq__http_client_addr(rq, addr);
    if (tq_web_throttle_blocked(srv->throttle, user, addr, now_us, &retry_s)) {
        char ra[16];

        tq__access_cred_wipe(&cred);
        snprintf(ra, sizeof(ra), "%u", retry_s);
        tq__http_resp_header(resp, "Retry-After", ra);
        audit_session(rq, user, "throttled");
        tq__http_resp_json_error(resp, 429, "too many failed sign-ins: try again later");
        return;
    }
    cred.scheme = TQ_AUTH_BASIC;
    memcpy(cred.user, user, strlen(user) + 1);
    cred.secret_len = strlen(cred.secret);
    rc = tq__access_verify(srv->auth, srv->taxii.store, &cred, name, &err);
    tq__access_cred_wipe(&cred);
    if (rc == TQ_EAUTH) {
        tq_web_throttle_fail(srv->throttle, user, addr, now_us);
        audit_session(rq, user, "failed");
        tq__http_resp_json_error(resp, 401, BAD_LOGIN);
        return;
    }
    if (rc) {
        answer_rc(resp, rc, &err);
        return;
    }
    tq_web_throttle_ok(srv->throttle, user);
    sweep_now_and_then(rq, now_us);
    rc = tq_web_session_create(srv->taxii.store, name, &srv->web_limits, now_us, token, &s, &err);
    if (rc) {
        answer_rc(resp, rc, &err);
        return;
    }
    snprintf(cookie, sizeof(cookie), TQ_WEB_COOKIE "=%s" COOKIE_ATTRS, token);
    sodium_memzero(token, sizeof(token));
    tq__http_resp_header(resp, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof(cookie));
    audit_session(rq, name, "login");
    tq_buf_init(&b, 4096);
    (void)tq__principal_set(&rq->who, TQ_PRINCIPAL_USER, name);
    (void)session_json(rq, &s, false, &b, &err);
    tq__http_resp_json(resp, 200, &b);
    tq_buf_cleanup(&b);
    tq_log(TQ_LOG_INFO, "http: session started user=%s", name);
}

/* Nobody signed in. GET answers 200 {"user":null}: the page asks on every load, and a browser
 * logs each 401 as an error in its console. DELETE (a logout) of no session stays 401. */
static void not_signed_in(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_buf b;

    if (rq->method == TQ_METHOD_DELETE) {
        tq__http_resp_json_error(resp, 401, "not signed in");
        return;
    }
    tq_buf_init(&b, 64);
    tq_buf_append_c(&b, "{\"user\":null}");
    tq__http_resp_json(resp, 200, &b);
    tq_buf_cleanup(&b);
}

/* GET and DELETE: the session of the cookie; without one, see not_signed_in. */
static void current(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_store_web_session s;
    struct tq_err err = {0};
    struct tq_str tok;
    struct tq_buf b;
    tq_rc rc;

    if (!cookie_token(rq, &tok)) {
        not_signed_in(rq, resp);
        return;
    }
    rc = tq_web_session_lookup(rq->srv->taxii.store, tok, &rq->srv->web_limits, tq_time_now_us(),
                               &s, &err);
    if (rc == TQ_EAUTH) {
        not_signed_in(rq, resp);
        return;
    }
    if (rc) {
        answer_rc(resp, rc, &err);
        return;
    }
    (void)tq__principal_set(&rq->who, TQ_PRINCIPAL_USER, s.user);
    if (rq->method == TQ_METHOD_DELETE) {
        size_t len;
        const char *h = tq__http_req_header(rq, "X-CSRF-Token", &len);

        if (!h || len != strlen(s.csrf) || !tq_secret_eq(h, s.csrf, len)) {
            tq__http_resp_json_error(resp, 403, "missing or wrong X-CSRF-Token");
            return;
        }
        rc = tq_web_session_end(rq->srv->taxii.store, tok, NULL, &err);
        if (rc) {
            answer_rc(resp, rc, &err);
            return;
        }
        audit_session(rq, s.user, "logout");
        tq__http_resp_header(resp, "Set-Cookie", TQ_WEB_COOKIE "=; Max-Age=0" COOKIE_ATTRS);
        resp->status = 204;
        return;
    }
    tq_buf_init(&b, 1u << 20);
    rc = session_json(rq, &s, true, &b, &err);
    if (rc)
        answer_rc(resp, rc, &err);
    else
        tq__http_resp_json(resp, 200, &b);
    tq_buf_cleanup(&b);
}

static void session_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    if (rq->method == TQ_METHOD_POST)
        login(rq, resp);
    else
        current(rq, resp);
}

const struct tq__http_route tq__http_route_session = {
    .path = "/json/session",
    .match = TQ_HTTP_MATCH_PATH,
    .methods = TQ_METHOD_GET | TQ_METHOD_POST | TQ_METHOD_DELETE,
    .allow = "GET, POST, DELETE",
    .method_refusal = "a session is opened with POST, read with GET and closed with DELETE",
    .auth = TQ_HTTP_AUTH_NONE,
    .max_body_bytes = TQ_WEB_LOGIN_BODY_MAX,
    .too_big = "the login body exceeds 1 KiB",
    .headers = session_headers,
    .complete = session_complete,
    .refusal = session_refusal,
};

/* ---- /json/config -------------------------------------------------------------------------- */

static void config_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    const char *title = rq->srv->title, *tile = rq->srv->tile_url;
    struct tq_buf b;

    tq_buf_init(&b, 8192);
    tq_buf_append_c(&b, "{\"title\":");
    tq_buf_append_json_str(&b, title, strlen(title));
    tq_buf_append_c(&b, ",\"tile_url\":");
    if (tile && *tile)
        tq_buf_append_json_str(&b, tile, strlen(tile));
    else
        tq_buf_append_c(&b, "null");
    tq_buf_append_c(&b, ",\"languages\":[\"ar\",\"en\"]}");
    tq__http_resp_json(resp, 200, &b);
    tq_buf_cleanup(&b);
}

const struct tq__http_route tq__http_route_config = {
    .path = "/json/config",
    .match = TQ_HTTP_MATCH_PATH,
    .methods = TQ_METHOD_GET | TQ_METHOD_HEAD,
    .allow = "GET, HEAD",
    .method_refusal = "the configuration is read with GET",
    .auth = TQ_HTTP_AUTH_NONE,
    .max_body_bytes = 1,
    .too_big = "no request body here",
    .complete = config_complete,
    .refusal = session_refusal,
};
