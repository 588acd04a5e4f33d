/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_witness_request.c - add-checkpoint request bodies from untrusted bytes.
 *
 * The input is parsed as a c2sp.org/tlog-witness add-checkpoint body. Whatever parses must
 * keep its parts inside the input, format back to the same bytes (the parser accepts only
 * canonical spellings, so a parsed body is a fixed point) and parse again to the same old size,
 * proof hashes and note bytes. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tq_str in = {(const char *)data, size};
    struct tq_witness_request *r = tq_xmalloc(sizeof(*r));
    struct tq_witness_request *again = tq_xmalloc(sizeof(*again));
    struct tq_err err;
    struct tq_buf b;

    tq_buf_init(&b, TQ_WITNESS_BODY_MAX);
    if (tq_witness_request_parse(in, r, &err) != TQ_OK)
        goto out;
    if (r->proof.n > TQ_MERKLE_PROOF_MAX || r->checkpoint.len == 0 || r->checkpoint.ptr < in.ptr ||
        r->checkpoint.ptr + r->checkpoint.len != in.ptr + in.len)
        abort();
    if (tq_witness_request_format(r->old_size, &r->proof, r->checkpoint, &b, &err) != TQ_OK)
        abort();
    if (b.len != in.len || memcmp(b.ptr, in.ptr, in.len) != 0)
        abort();
    if (tq_witness_request_parse((struct tq_str){b.ptr, b.len}, again, &err) != TQ_OK)
        abort();
    if (again->old_size != r->old_size || again->proof.n != r->proof.n ||
        memcmp(again->proof.hash, r->proof.hash, r->proof.n * TQ_MERKLE_HASH_BYTES) != 0 ||
        !tq_str_eq(again->checkpoint, r->checkpoint))
        abort();
out:
    tq_buf_cleanup(&b);
    tq_free(r);
    tq_free(again);
    return 0;
}
