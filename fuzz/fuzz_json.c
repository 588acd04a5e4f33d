/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_json.c - libFuzzer target for the strict JSON layer (tq_json_parse).
 *
 * Whatever the input, parsing must not crash or leak; when it succeeds, the canonical text must
 * parse again and serialise to the same bytes (a fixed point), since the store hashes it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    struct json_object *a = NULL, *b = NULL;
    struct tq_err err;
    const char *s;
    char *first;
    size_t len;

    if (tq_json_parse((struct tq_str){(const char *)data, size}, &a, &err) != TQ_OK)
        return 0;
    s = json_object_to_json_string_length(a, flags, &len);
    first = tq_xstrndup(s, len);
    if (tq_json_parse((struct tq_str){first, len}, &b, &err) != TQ_OK)
        abort(); /* canonical output must be acceptable input */
    s = json_object_to_json_string_ext(b, flags);
    if (strlen(s) != len || memcmp(s, first, len) != 0)
        abort();
    tq_free(first);
    json_object_put(a);
    json_object_put(b);
    return 0;
}
