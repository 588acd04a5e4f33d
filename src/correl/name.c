/* SPDX-License-Identifier: Apache-2.0
 *
 * correl/name.c - the interim normal form of names (identities, threat actors, aliases).
 *
 * Deliberately simple: white space trimmed and collapsed, invisible direction marks dropped,
 * ASCII letters lower-cased, every other character (Arabic included) kept as written. Name
 * screening will bring a real normaliser (transliteration, Arabic letter variants); it replaces
 * this one file, whose only contract is tq__correl_name_normalise in correl/correl.h.
 */
#include <string.h>

#include "correl/correl.h"

static bool name_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f || c == 0x3000;
}

static bool name_invisible(uint32_t c)
{
    return c == 0x200e || c == 0x200f || c == 0x061c || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

bool tq__correl_name_normalise(const char *in, size_t len, char out[TQ_CORREL_VALUE_MAX])
{
    size_t i = 0, n = 0;
    bool pending_space = false;

    while (i < len) {
        uint32_t c;

        if (!tq__correl_utf8_next(in, len, &i, &c))
            return false;
        if (name_space(c)) {
            pending_space = n > 0;
            continue;
        }
        if (name_invisible(c))
            continue;
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
            return false; /* control characters are never part of a name */
        if (pending_space) {
            if (n + 1 >= TQ_CORREL_VALUE_MAX)
                return false;
            out[n++] = ' ';
            pending_space = false;
        }
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (!tq__correl_utf8_put(out, TQ_CORREL_VALUE_MAX, &n, c))
            return false; /* too long: a truncated name could meet a different one */
    }
    if (n == 0)
        return false;
    out[n] = '\0';
    return true;
}
