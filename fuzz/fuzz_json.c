/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_json.c - libFuzzer target for the strict JSON layer (tq_json_parse).
 *
 * Whatever the input, parsing must not crash or leak; when it succeeds, the canonical text must
 * parse again and serialise to the same bytes (a fixed point), since the store hashes it.
 * tq_json_check must agree with tq_json_parse, and the object-list elements it records must be
 * exactly the list's elements, each valid JSON on its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The split must find the list json-c sees: the top array, or a top-level "objects" array. */
static void check_split(const uint8_t *data, size_t size, struct json_object *root)
{
    struct tq_json_split split;
    struct json_object *list = NULL;
    struct tq_err err;

    if (tq_json_check((struct tq_str){(const char *)data, size}, &split, &err) != TQ_OK)
        abort();
    if (json_object_is_type(root, json_type_array))
        list = root;
    else if (json_object_is_type(root, json_type_object) &&
             json_object_object_get_ex(root, "objects", &list) &&
             !json_object_is_type(list, json_type_array))
        list = NULL;
    if (split.found && list && split.n != json_object_array_length(list))
        abort();
    if (split.found && (split.list_start >= split.list_end || split.list_end > size))
        abort();
    for (size_t i = 0; i < split.n; i++) {
        const char *e = split.elems[i].ptr;

        if (e < (const char *)data + split.list_start ||
            e + split.elems[i].len > (const char *)data + split.list_end)
            abort();
        if (tq_json_check(split.elems[i], NULL, &err) != TQ_OK)
            abort();
    }
    tq_json_split_cleanup(&split);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    struct json_object *a = NULL, *b = NULL;
    struct tq_err err;
    const char *s;
    char *first;
    size_t len;

    if (tq_json_parse((struct tq_str){(const char *)data, size}, &a, &err) != TQ_OK) {
        if (tq_json_check((struct tq_str){(const char *)data, size}, NULL, &err) == TQ_OK &&
            size < (size_t)INT32_MAX)
            abort(); /* the pre-scan alone accepted what the parser refused */
        return 0;
    }
    check_split(data, size, a);
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
