/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_web_session.c - what a browser sends the dashboard: the Cookie header, the login
 * body of POST /json/session, and the If-None-Match header.
 *
 * Each input is fed to the three parsers. A token found in a cookie must be TQ_WEB_TOKEN_LEN
 * base64url characters lying inside the input; a parsed login must hold a non-empty user
 * without ':' or control characters and a non-empty, NUL-terminated password.
 */
#include <stdint.h>
#include <string.h>

#include "tansiq/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char user[TQ_WEB_USER_MAX], pw[TQ_WEB_PASSWORD_MAX];
    struct tq_err err;
    struct tq_str tok;

    if (tq_web_cookie_token(s, size, &tok)) {
        if (tok.len != TQ_WEB_TOKEN_LEN || tok.ptr < s || tok.ptr + tok.len > s + size)
            __builtin_trap();
        for (size_t i = 0; i < tok.len; i++) {
            char c = tok.ptr[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                __builtin_trap();
        }
    }
    if (tq_web_login_parse((struct tq_str){s, size}, user, pw, &err) == TQ_OK) {
        size_t ul = strnlen(user, sizeof(user)), pl = strnlen(pw, sizeof(pw));

        if (ul == 0 || ul == sizeof(user) || pl == 0 || pl == sizeof(pw) || strchr(user, ':'))
            __builtin_trap();
        for (size_t i = 0; i < ul; i++) {
            if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
                __builtin_trap();
        }
    }
    (void)tq_web_etag_matches(s, size, "\"0123abcd\"");
    return 0;
}
