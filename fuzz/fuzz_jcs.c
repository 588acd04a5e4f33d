/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_jcs.c - libFuzzer target for RFC 8785 canonicalisation (tq_jcs_serialize).
 *
 * Whatever tq_json_parse accepts must canonicalise, except numbers that overflow to Infinity
 * (refused with TQ_EINVAL). The canonical text must then be a fixed point: parsed again and
 * canonicalised, it gives the same bytes, and the tree it parses to equals the input tree,
 * numbers compared as the IEEE 754 doubles JCS writes. The one canonical text tq_json_parse may
 * refuse is an integer literal beyond 64 bits, which JCS writes for doubles in [2^64, 1e21).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_number(struct json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static double number_of(struct json_object *v)
{
    int64_t i;

    if (json_object_is_type(v, json_type_double))
        return json_object_get_double(v);
    i = json_object_get_int64(v);
    return i == INT64_MAX ? (double)json_object_get_uint64(v) : (double)i;
}

/* Equal trees, numbers compared by value. */
static bool same_tree(struct json_object *a, struct json_object *b)
{
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

    if (is_number(a) || is_number(b))
        return is_number(a) && is_number(b) && number_of(a) == number_of(b);
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_null:
        return true;
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string:
        return json_object_get_string_len(a) == json_object_get_string_len(b) &&
               memcmp(json_object_get_string(a), json_object_get_string(b),
                      (size_t)json_object_get_string_len(a)) == 0;
    case json_type_array:
        if (json_object_array_length(a) != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < json_object_array_length(a); i++)
            if (!same_tree(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return false;
        return true;
    case json_type_object:
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        json_object_object_foreach(a, key, va)
        {
            struct json_object *vb = NULL;

            if (!json_object_object_get_ex(b, key, &vb) || !same_tree(va, vb))
                return false;
        }
        return true;
    default:
        return false; /* numbers were handled above */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object *a = NULL, *b = NULL;
    struct tq_buf first, second;
    struct tq_err err;
    tq_rc rc;

    if (tq_json_parse((struct tq_str){(const char *)data, size}, &a, &err) != TQ_OK)
        return 0;
    /* JCS output is at most about five times its input ("1e20" has 21 digits). */
    tq_buf_init(&first, size * 6 + 64);
    tq_buf_init(&second, size * 6 + 64);
    rc = tq_jcs_serialize(a, &first, &err);
    if (rc) {
        if (rc != TQ_EINVAL || !strstr(err.msg, "NaN or Infinity"))
            abort();
        goto out;
    }
    if (tq_json_parse((struct tq_str){first.ptr, first.len}, &b, &err) != TQ_OK) {
        if (!strstr(err.msg, "integer outside the 64-bit range"))
            abort(); /* canonical text must be strict JSON */
        goto out;
    }
    if (tq_jcs_serialize(b, &second, &err) != TQ_OK)
        abort();
    if (first.len != second.len || memcmp(first.ptr, second.ptr, first.len) != 0)
        abort();
    if (!same_tree(a, b))
        abort();
out:
    tq_buf_cleanup(&first);
    tq_buf_cleanup(&second);
    json_object_put(a);
    json_object_put(b);
    return 0;
}
