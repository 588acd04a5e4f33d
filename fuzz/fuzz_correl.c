/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_correl.c - observables: normalisation, kind guessing and extraction.
 *
 * The input is offered as a value of every kind and to tq_correl_normalise_any (with and
 * without a default region), parsed as JSON and extracted from, and wrapped as the pattern of
 * an indicator. Besides not crashing, every value produced must be a fixed point (normalising
 * it again as its kind gives it back), fit its buffer, and an extraction must come out sorted,
 * without duplicates and within its limit. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/correl.h"
#include "tansiq/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const struct tq_correl_value *v)
{
    struct tq_correl_value again;
    size_t len = strnlen(v->value, TQ_CORREL_VALUE_MAX);

    if (len == 0 || len == TQ_CORREL_VALUE_MAX || !tq_correl_kind_name(v->kind))
        abort();
    if (!tq_correl_normalise(v->kind, v->value, len, NULL, &again) || again.kind != v->kind ||
        strcmp(again.value, v->value) != 0)
        abort();
}

static void check_extract(struct json_object *obj)
{
    struct tq_correl_options o = {.default_region = "IQ"};
    struct tq_correl_value *v = NULL;
    struct tq_err err;
    size_t n = 0;

    if (tq_correl_extract(obj, &o, &v, &n, &err) != TQ_OK)
        return;
    if (n > TQ_CORREL_PER_OBJECT_MAX || (n == 0) != (v == NULL))
        abort();
    for (size_t i = 0; i < n; i++) {
        check_value(&v[i]);
        if (i > 0 && (v[i - 1].kind > v[i].kind ||
                      (v[i - 1].kind == v[i].kind && strcmp(v[i - 1].value, v[i].value) >= 0)))
            abort();
    }
    tq_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const regions[] = {NULL, "SY", "IQ", "JO"};
    const char *in = (const char *)data;
    struct json_object *obj = NULL, *ind;
    struct tq_correl_value v;
    struct tq_err err;

    for (size_t r = 0; r < sizeof(regions) / sizeof(regions[0]); r++) {
        struct tq_correl_options o = {.default_region = regions[r]};

        if (tq_correl_normalise_any(in, size, &o, &v))
            check_value(&v);
    }
    for (int k = TQ_CORREL_PHONE; k <= TQ_CORREL_NAME; k++) {
        struct tq_correl_options o = {.default_region = "SY"};

        if (tq_correl_normalise((enum tq_correl_kind)k, in, size, &o, &v))
            check_value(&v);
    }

    if (tq_json_parse((struct tq_str){in, size}, &obj, &err) == TQ_OK) {
        if (json_object_is_type(obj, json_type_object))
            check_extract(obj);
        json_object_put(obj);
    }

    /* The bytes as an indicator's pattern, so the lexer sees them unescaped. */
    if (size <= TQ_CORREL_PATTERN_MAX) {
        ind = json_object_new_object();
        json_object_object_add(ind, "type", json_object_new_string("indicator"));
        json_object_object_add(ind, "pattern", json_object_new_string_len(in, (int)size));
        check_extract(ind);
        json_object_put(ind);
    }
    return 0;
}
