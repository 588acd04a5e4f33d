/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_tlog_proof.c - tlog-proof@v1 proof files from untrusted bytes.
 *
 * Whatever tq_proof_parse accepts must format back to the same bytes and parse again to the
 * same blocks (a fixed point), and each block cut out on its own must be a valid one-block
 * file. The input is also verified against a fixed log key and a fixed witness key (the seed
 * corpus holds proofs signed with them, so verification runs to the end on those); a proof that
 * verifies must have been parsed, with one report entry per block. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_block(const struct tq_proof_block *a, const struct tq_proof_block *b)
{
    return a->has_extra == b->has_extra && a->extra_len == b->extra_len &&
           (a->extra_len == 0 || memcmp(a->extra, b->extra, a->extra_len) == 0) &&
           a->index == b->index && a->n_hashes == b->n_hashes &&
           (a->n_hashes == 0 ||
            memcmp(a->hashes, b->hashes, a->n_hashes * TQ_MERKLE_HASH_BYTES) == 0) &&
           tq_str_eq(a->checkpoint, b->checkpoint);
}

static void check_file(struct tq_str in)
{
    struct tq_proof_file *f = NULL, *again = NULL, *one = NULL;
    struct tq_err err;
    struct tq_buf b;

    if (tq_proof_parse(in, &f, &err) != TQ_OK)
        return;
    if (f->n == 0 || f->n > TQ_PROOF_BLOCKS_MAX)
        abort();
    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    if (tq_proof_format(f, &b, &err) != TQ_OK)
        abort();
    if (b.len != in.len || memcmp(b.ptr, in.ptr, in.len) != 0)
        abort();
    if (tq_proof_parse((struct tq_str){b.ptr, b.len}, &again, &err) != TQ_OK || again->n != f->n)
        abort();
    for (size_t i = 0; i < f->n; i++) {
        if (!same_block(&f->blocks[i], &again->blocks[i]))
            abort();
        tq_buf_reset(&b);
        if (tq_proof_block_format(&f->blocks[i], &b, &err) != TQ_OK)
            abort();
        if (tq_proof_parse((struct tq_str){b.ptr, b.len}, &one, &err) != TQ_OK || one->n != 1 ||
            !same_block(&f->blocks[i], &one->blocks[0]))
            abort();
        tq_proof_file_free(one);
        one = NULL;
    }
    tq_buf_cleanup(&b);
    tq_proof_file_free(again);
    tq_proof_file_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t seed[32] = {0x11};
    struct tq_str in = {(const char *)data, size};
    struct tq_proof_report report = {0};
    struct tq_note_verifier keys[2];
    struct tq_note_signer s;
    struct tq_err err;

    check_file(in);

    if (tq_note_signer_from_seed(TQ_STR("example.org/log"), TQ_NOTE_ALG_ED25519, seed, &s, &err) !=
        TQ_OK)
        abort();
    tq_note_signer_verifier(&s, &keys[0]);
    tq_note_signer_cleanup(&s);
    if (tq_note_signer_from_seed(TQ_STR("example.org/witness"), TQ_NOTE_ALG_COSIG_V1, seed, &s,
                                 &err) != TQ_OK)
        abort();
    tq_note_signer_verifier(&s, &keys[1]);
    tq_note_signer_cleanup(&s);
    if (tq_proof_verify(in, keys, 2, &report, &err) == TQ_OK) {
        struct tq_proof_file *f = NULL;

        if (tq_proof_parse(in, &f, &err) != TQ_OK || f->n != report.n_entries)
            abort();
        for (size_t i = 0; i < f->n; i++)
            if (report.entries[i].index != f->blocks[i].index || !report.entries[i].kind ||
                report.entries[i].size <= report.entries[i].index)
                abort();
        for (size_t i = 0; i < report.n_facts; i++)
            if (report.facts[i].entry >= report.n_entries)
                abort();
        tq_proof_file_free(f);
        tq_proof_report_cleanup(&report);
    }
    return 0;
}
