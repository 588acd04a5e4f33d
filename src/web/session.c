/* SPDX-License-Identifier: Apache-2.0
 *
 * web/session.c - the dashboard's browser sessions: making a token, finding the session of a
 * cookie, the idle and absolute limits, logout and the sweep; and the two parsers of what a
 * browser sends (the Cookie header, the login body).
 *
 * The token is 32 bytes from libsodium's randombytes, base64url without padding; only its
 * SHA-256 reaches the store (tansiq/web_store.h), so a copy of the database signs nobody in.
 * The CSRF token is made the same way and kept in the row: the page reads it from the login
 * answer and sends it back in X-CSRF-Token, which a page of another site cannot do.
 */
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "tansiq/json.h"
#include "web/web.h"

#define TOUCH_STEP_MAX_US (30 * 1000000LL)

static int64_t idle_us(const struct tq_web_limits *lim)
{
    return (int64_t)(lim && lim->idle_s ? lim->idle_s : TQ_WEB_SESSION_IDLE_S_DEFAULT) * 1000000;
}

static int64_t max_us(const struct tq_web_limits *lim)
{
    return (int64_t)(lim && lim->max_s ? lim->max_s : TQ_WEB_SESSION_MAX_S_DEFAULT) * 1000000;
}

static void random_b64url(char out[TQ_WEB_TOKEN_LEN + 1])
{
    uint8_t raw[32];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, TQ_WEB_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

static bool token_ok(struct tq_str t)
{
    if (!t.ptr || t.len != TQ_WEB_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

tq_rc tq_web_session_create(struct tq_store *store, const char *user,
                            const struct tq_web_limits *lim, int64_t now_us,
                            char token_out[TQ_WEB_TOKEN_LEN + 1], struct tq_store_web_session *out,
                            struct tq_err *err)
{
    struct tq_store_web_session s;
    char token[TQ_WEB_TOKEN_LEN + 1];
    size_t n = user ? strlen(user) : 0;
    tq_rc rc;

    tq_sodium_init();
    if (n == 0 || n >= sizeof(s.user))
        return tq_err_set(err, TQ_EINVAL, "web: a session needs a user name");
    memset(&s, 0, sizeof(s));
    memcpy(s.user, user, n + 1);
    random_b64url(token);
    random_b64url(s.csrf);
    tq_sha256(token, TQ_WEB_TOKEN_LEN, s.hash);
    s.created_us = now_us;
    s.last_us = now_us;
    s.expires_us = now_us + max_us(lim);
    rc = tq_store_web_session_put(store, &s, err);
    if (rc == TQ_OK) {
        memcpy(token_out, token, sizeof(token));
        *out = s;
    }
    sodium_memzero(token, sizeof(token));
    return rc;
}

tq_rc tq_web_session_lookup(struct tq_store *store, struct tq_str token,
                            const struct tq_web_limits *lim, int64_t now_us,
                            struct tq_store_web_session *out, struct tq_err *err)
{
    struct tq_store_web_session s;
    uint8_t hash[32];
    int64_t step;
    tq_rc rc;

    if (!token_ok(token))
        return tq_err_set(err, TQ_EAUTH, "the session is not valid");
    tq_sha256(token.ptr, token.len, hash);
    rc = tq_store_web_session_get(store, hash, &s, err);
    if (rc == TQ_ENOTFOUND)
        return tq_err_set(err, TQ_EAUTH, "the session is not valid");
    if (rc)
        return rc;
    if (now_us >= s.expires_us || now_us - s.last_us >= idle_us(lim)) {
        rc = tq_store_web_session_delete(store, hash, NULL, err);
        if (rc)
            return rc;
        return tq_err_set(err, TQ_EAUTH, "the session has expired");
    }
    step = idle_us(lim) / 4;
    if (step > TOUCH_STEP_MAX_US)
        step = TOUCH_STEP_MAX_US;
    if (now_us - s.last_us >= step) {
        rc = tq_store_web_session_touch(store, hash, now_us, err);
        if (rc)
            return rc;
        s.last_us = now_us;
    }
    *out = s;
    return TQ_OK;
}

tq_rc tq_web_session_end(struct tq_store *store, struct tq_str token, bool *ended,
                         struct tq_err *err)
{
    uint8_t hash[32];

    if (ended)
        *ended = false;
    if (!token_ok(token))
        return TQ_OK;
    tq_sha256(token.ptr, token.len, hash);
    return tq_store_web_session_delete(store, hash, ended, err);
}

tq_rc tq_web_session_sweep(struct tq_store *store, const struct tq_web_limits *lim, int64_t now_us,
                           uint64_t *n, struct tq_err *err)
{
    return tq_store_web_session_sweep(store, now_us, now_us - idle_us(lim), n, err);
}

/* ---- what a browser sends ----------------------------------------------------------------- */

bool tq_web_cookie_token(const char *value, size_t len, struct tq_str *out)
{
    static const char name[] = TQ_WEB_COOKIE;
    struct tq_str found = TQ_STR_NULL;
    size_t p = 0;

    if (!value)
        return false;
    while (p < len) {
        size_t s, e, eq;

        while (p < len && (value[p] == ' ' || value[p] == '\t' || value[p] == ';'))
            p++;
        s = p;
        while (p < len && value[p] != ';')
            p++;
        e = p;
        while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
            e--;
        for (eq = s; eq < e && value[eq] != '='; eq++)
            ;
        if (eq == e || eq - s != sizeof(name) - 1 || memcmp(value + s, name, eq - s) != 0)
            continue;
        if (found.ptr)
            return false; /* twice: which one the browser meant is unknown */
        found = (struct tq_str){value + eq + 1, e - eq - 1};
        if (found.len >= 2 && found.ptr[0] == '"' && found.ptr[found.len - 1] == '"') {
            found.ptr++;
            found.len -= 2;
        }
    }
    if (!token_ok(found))
        return false;
    *out = found;
    return true;
}

/* A member that must be a string, copied into out (size bytes with NUL). */
static tq_rc member_str(struct json_object *obj, const char *key, char *out, size_t size,
                        size_t *n_out, struct tq_err *err)
{
    struct json_object *v = NULL;
    const char *s;
    int n;

    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return tq_err_set(err, TQ_EINVAL, "web: \"%s\" must be a string", key);
    s = json_object_get_string(v);
    n = json_object_get_string_len(v);
    if (n <= 0 || (size_t)n >= size)
        return tq_err_set(err, TQ_EINVAL, "web: \"%s\" must be 1 to %zu bytes", key, size - 1);
    if (memchr(s, '\0', (size_t)n))
        return tq_err_set(err, TQ_EINVAL, "web: \"%s\" holds a NUL", key);
    memcpy(out, s, (size_t)n);
    out[n] = '\0';
    *n_out = (size_t)n;
    return TQ_OK;
}

tq_rc tq_web_login_parse(struct tq_str body, char user[TQ_WEB_USER_MAX],
                         char password[TQ_WEB_PASSWORD_MAX], struct tq_err *err)
{
    struct json_object *obj = NULL;
    size_t n = 0;
    tq_rc rc;

    if (body.len > TQ_WEB_LOGIN_BODY_MAX)
        return tq_err_set(err, TQ_EINVAL, "web: the login body exceeds %d bytes",
                          TQ_WEB_LOGIN_BODY_MAX);
    rc = tq_json_parse(body, &obj, err);
    if (rc) {
        rc = tq_err_set(err, TQ_EINVAL, "web: the login body is not JSON");
        goto out;
    }
    if (!json_object_is_type(obj, json_type_object) || json_object_object_length(obj) != 2) {
        rc = tq_err_set(err, TQ_EINVAL, "web: the login body is {\"user\",\"password\"} only");
        goto out;
    }
    rc = member_str(obj, "user", user, TQ_WEB_USER_MAX, &n, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)user[i];
        if (c < 0x20 || c == 0x7f || c == ':') {
            rc = tq_err_set(err, TQ_EINVAL, "web: the user name holds a control character or ':'");
            goto out;
        }
    }
    rc = member_str(obj, "password", password, TQ_WEB_PASSWORD_MAX, &n, err);
out:
    if (obj) {
        /* json-c keeps its own copy of the password: wipe it before the object goes. */
        struct json_object *v = NULL;
        if (json_object_object_get_ex(obj, "password", &v) &&
            json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
            sodium_memzero((void *)json_object_get_string(v),
                           (size_t)json_object_get_string_len(v));
        json_object_put(obj);
    }
    if (rc) {
        user[0] = '\0';
        sodium_memzero(password, TQ_WEB_PASSWORD_MAX);
    }
    return rc;
}
