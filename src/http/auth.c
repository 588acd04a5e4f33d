/* SPDX-License-Identifier: Apache-2.0
 *
 * http/auth.c - the Authorization header: HTTP Basic and Bearer credentials.
 *
 * Only parsing lives here; what the credentials are worth is decided by src/access
 * (access/credentials.c), which the server calls with the parsed result. No credential ever
 * reaches the log.
 */
#include <string.h>

#include <sodium.h>

#include "http/http.h"

/* ---- Authorization header --------------------------------------------------------------- */

static bool scheme_is(const char *s, size_t n, const char *want)
{
    size_t i;

    if (n != strlen(want))
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return false;
    }
    return true;
}

tq_rc tq__http_auth_parse(const char *value, size_t len, struct tq__access_cred *out,
                          struct tq_err *err)
{
    uint8_t dec[TQ_AUTH_USER_MAX + TQ_AUTH_SECRET_MAX];
    size_t p = 0, s0, s1, c0, c1, dlen = 0, colon, i;
    tq_rc rc = TQ_OK;

    tq_sodium_init();
    memset(out, 0, sizeof(*out));
    if (value == NULL)
        return tq_err_set(err, TQ_EAUTH, "credentials are required");
    while (p < len && (value[p] == ' ' || value[p] == '\t'))
        p++;
    s0 = p;
    while (p < len && value[p] != ' ' && value[p] != '\t')
        p++;
    s1 = p;
    while (p < len && (value[p] == ' ' || value[p] == '\t'))
        p++;
    c0 = p;
    c1 = len;
    while (c1 > c0 && (value[c1 - 1] == ' ' || value[c1 - 1] == '\t'))
        c1--;
    if (c1 == c0)
        return tq_err_set(err, TQ_EAUTH, "malformed Authorization header");
    for (i = c0; i < c1; i++) {
        if (value[i] == ' ' || value[i] == '\t' || value[i] == '\0')
            return tq_err_set(err, TQ_EAUTH, "malformed Authorization header");
    }

    if (scheme_is(value + s0, s1 - s0, "basic")) {
        if (sodium_base642bin(dec, sizeof(dec), value + c0, c1 - c0, NULL, &dlen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 &&
            sodium_base642bin(dec, sizeof(dec), value + c0, c1 - c0, NULL, &dlen, NULL,
                              sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
            rc = tq_err_set(err, TQ_EAUTH, "malformed Basic credentials");
            goto out;
        }
        for (colon = 0; colon < dlen && dec[colon] != ':'; colon++)
            ;
        if (colon == dlen || colon == 0 || colon >= TQ_AUTH_USER_MAX ||
            dlen - colon - 1 >= TQ_AUTH_SECRET_MAX || dlen - colon - 1 == 0) {
            rc = tq_err_set(err, TQ_EAUTH, "malformed Basic credentials");
            goto out;
        }
        for (i = 0; i < dlen; i++) {
            if (dec[i] < 0x20 || dec[i] == 0x7f) {
                rc = tq_err_set(err, TQ_EAUTH, "control character in Basic credentials");
                goto out;
            }
        }
        out->scheme = TQ_AUTH_BASIC;
        memcpy(out->user, dec, colon);
        out->user[colon] = '\0';
        out->secret_len = dlen - colon - 1;
        memcpy(out->secret, dec + colon + 1, out->secret_len);
        out->secret[out->secret_len] = '\0';
    } else if (scheme_is(value + s0, s1 - s0, "bearer") ||
               scheme_is(value + s0, s1 - s0, "token")) {
        /* "Token" is what the OASIS taxii2-client's TokenAuth sends: the same API tokens. */
        if (c1 - c0 >= TQ_AUTH_SECRET_MAX)
            return tq_err_set(err, TQ_EAUTH, "bearer token too long");
        for (i = c0; i < c1; i++) {
            char c = value[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='))
                return tq_err_set(err, TQ_EAUTH, "malformed bearer token");
        }
        out->scheme = TQ_AUTH_BEARER;
        out->secret_len = c1 - c0;
        memcpy(out->secret, value + c0, out->secret_len);
        out->secret[out->secret_len] = '\0';
    } else {
        return tq_err_set(err, TQ_EAUTH, "unsupported authentication scheme");
    }
out:
    sodium_memzero(dec, sizeof(dec));
    if (rc)
        tq__access_cred_wipe(out);
    return rc;
}
