/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_http_auth.c - header values from the network: Authorization, Accept and
 * Content-Type.
 *
 * Each input is fed to all three parsers as one header value. A parsed Basic credential must
 * hold a non-empty user without ':' or control characters and a non-empty password.
 */
#include <stdint.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct tq__access_cred cred;
    struct tq_err err;
    size_t i;

    (void)tq__http_accept_ok(s, size);
    (void)tq__http_content_type_ok(s, size);
    if (tq__http_auth_parse(s, size, &cred, &err) == TQ_OK) {
        if (cred.scheme == TQ_AUTH_BASIC) {
            if (cred.user[0] == '\0' || strchr(cred.user, ':') || cred.secret_len == 0)
                __builtin_trap();
            for (i = 0; cred.user[i]; i++) {
                if ((unsigned char)cred.user[i] < 0x20)
                    __builtin_trap();
            }
        }
        if (cred.secret_len >= TQ_AUTH_SECRET_MAX || cred.secret[cred.secret_len] != '\0')
            __builtin_trap();
    }
    tq__access_cred_wipe(&cred);
    return 0;
}
