/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_policy_marks.c - libFuzzer target for reading an object's markings
 * (tq__policy_marks_of), the step that turns what a partner or analyst wrote into release facts.
 *
 * Arbitrary bytes are parsed as a batch; every valid object is read with the batch as the only
 * place marking-definitions are found. Besides not crashing, it checks that reading fails
 * closed: the TLP read is never less restrictive than any official TLP id the object references
 * (in whatever letter case, object-level or granular), and a reference that names no
 * definition of the batch leaves the object pending.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_batch(const struct tq_stix_batch *b, const char *id)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].ok && strcmp(b->items[i].obj.type, "marking-definition") == 0 &&
            strcasecmp(b->items[i].obj.id, id) == 0)
            return true;
    return false;
}

/* The strictest official TLP among refs; abort when a ref is neither official nor held and
 * the facts do not say pending. */
static enum tq_tlp check_refs(const struct tq_stix_batch *b, char **refs, size_t n,
                              const struct tq__policy_marks *m)
{
    enum tq_tlp most = TQ_TLP_UNSET;

    for (size_t i = 0; i < n; i++) {
        enum tq_tlp t = tq_stix_tlp_official(tq_str_c(refs[i]), NULL);

        if (t > most)
            most = t;
        if (t == TQ_TLP_UNSET && !in_batch(b, refs[i]) && !m->pending && !m->not_understood)
            abort();
    }
    return most;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tq_stix_batch *b = NULL;
    struct tq_stix_object *objs;
    struct tq__policy_marks_ctx ctx;
    struct tq_err err;
    size_t n = 0;

    if (tq_stix_parse_batch((struct tq_str){(const char *)data, size}, &b, &err) != TQ_OK)
        return 0;
    objs = tq_xcalloc(b->n ? b->n : 1, sizeof(*objs));
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].ok)
            objs[n++] = b->items[i].obj;
    tq__policy_marks_init(&ctx, NULL, NULL, NULL, objs, n);
    for (size_t i = 0; i < n; i++) {
        struct tq__policy_marks m;
        enum tq_tlp most;

        if (tq__policy_marks_of(&ctx, &objs[i], &m, &err) != TQ_OK)
            continue;
        if (strcmp(objs[i].type, "marking-definition") != 0 || objs[i].n_marking_refs ||
            objs[i].n_granular_refs) {
            most = check_refs(b, objs[i].marking_refs, objs[i].n_marking_refs, &m);
            if (check_refs(b, objs[i].granular_refs, objs[i].n_granular_refs, &m) > most)
                most = check_refs(b, objs[i].granular_refs, objs[i].n_granular_refs, &m);
            if (m.tlp < most)
                abort();
        }
        tq__policy_marks_cleanup(&m);
    }
    tq__policy_marks_ctx_cleanup(&ctx);
    tq_free(objs);
    tq_stix_batch_free(b);
    return 0;
}
