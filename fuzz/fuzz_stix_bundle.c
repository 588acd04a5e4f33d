/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_stix_bundle.c - libFuzzer target for tq_stix_parse_batch.
 *
 * Feeds arbitrary bytes as a bundle / envelope / array / object. Besides not crashing, it checks
 * the batch's invariants: n_invalid counts the refused items, every valid item has canonical
 * JSON that is again a valid batch of one, and every problem names a property and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tq_stix_batch *b = NULL;
    struct tq_err err;
    size_t invalid = 0;

    if (tq_stix_parse_batch((struct tq_str){(const char *)data, size}, &b, &err) != TQ_OK)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct tq_stix_object *o = &b->items[i].obj;
        struct tq_stix_batch *again = NULL;

        if (!b->items[i].ok) {
            invalid++;
            continue;
        }
        if (!o->json || strlen(o->json) != o->json_len)
            abort();
        if (tq_stix_parse_batch((struct tq_str){o->json, o->json_len}, &again, &err) != TQ_OK ||
            again->n != 1 || !again->items[0].ok ||
            strcmp(again->items[0].obj.json, o->json) != 0 ||
            again->items[0].obj.version_us != o->version_us)
            abort();
        tq_stix_batch_free(again);
    }
    if (invalid != b->n_invalid)
        abort();
    for (size_t i = 0; i < b->n_problems; i++)
        if (!b->problems[i].property || !b->problems[i].reason || b->problems[i].index >= b->n)
            abort();
    tq_stix_batch_free(b);
    return 0;
}
