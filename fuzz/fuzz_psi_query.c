/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_psi_query.c - the query string of POST /psi/v1/request (?list=NAME), straight from
 * a partner: the only thing of that route read before the grant. It is either exactly
 * "list=" and a name of 1..64 bytes of [A-Za-z0-9._-], copied out NUL-terminated, or refused;
 * there is no percent-decoding, so %00, %zz and any byte outside the set are refused too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_byte(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[65 + 1];
    size_t n;

    memset(out, 0x5a, sizeof(out));
    if (!tq__http_psi_list((struct tq_str){(const char *)data, size}, out)) {
        if (out[0] != 0x5a)
            abort(); /* a refusal leaves the caller's buffer alone */
        return 0;
    }
    if (out[65] != 0x5a)
        abort(); /* never past the 65 bytes it was given */
    n = strnlen(out, 65);
    if (n == 0 || n > 64 || size != 5 + n || memcmp(data, "list=", 5) != 0 ||
        memcmp(data + 5, out, n) != 0)
        abort(); /* an accepted query is exactly list=NAME, and NAME is what was copied */
    for (size_t i = 0; i < n; i++)
        if (!name_byte(out[i]))
            abort();
    return 0;
}
