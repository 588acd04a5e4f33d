/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_watchlist_xml.c - watchlists from untrusted bytes: the UN list XML reader, and the
 * CSV reader on the same bytes.
 *
 * Small limits (depth, text, attributes, entries) so that the fuzzer reaches them. Whatever
 * parses must hold the entry invariants (a ref, at least one name, every name clean UTF-8 within
 * its limit) and its stored JSON form must read back to the same form (a fixed point). Any
 * disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/watchlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct tq_watch_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct tq_watch_entry back;
        struct tq_buf a, b;
        struct tq_err err;

        if (!v[i].ref || !*v[i].ref || v[i].n_names == 0)
            abort();
        for (size_t k = 0; k < v[i].n_names; k++) {
            size_t len = strlen(v[i].names[k].name);

            if (len == 0 || len > TQ_WATCH_NAME_MAX || !tq_utf8_valid(v[i].names[k].name, len) ||
                v[i].names[k].name[0] == ' ' || v[i].names[k].name[len - 1] == ' ')
                abort();
        }
        tq_buf_init(&a, 1u << 24);
        tq_buf_init(&b, 1u << 24);
        if (tq_watch_entry_json(&v[i], &a) != TQ_OK)
            abort();
        if (tq_watch_entry_from_json((struct tq_str){a.ptr, a.len}, &back, &err) != TQ_OK)
            abort();
        if (tq_watch_entry_json(&back, &b) != TQ_OK || a.len != b.len ||
            memcmp(a.ptr, b.ptr, a.len) != 0)
            abort();
        tq_watch_entry_cleanup(&back);
        tq_buf_cleanup(&a);
        tq_buf_cleanup(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tq_watchlist_limits lim = {
        .max_entries = 64, .max_text_bytes = 4096, .max_attr_bytes = 256, .max_depth = 12};
    struct tq_str in = {(const char *)data, size};
    struct tq_watch_entry *v = NULL;
    struct tq_err err;
    size_t n = 0;

    if (tq_watchlist_parse_un(in, &lim, &v, &n, &err) == TQ_OK) {
        check(v, n);
        tq_watch_entries_free(v, n);
    }
    if (tq_watchlist_parse_csv(in, &lim, &v, &n, &err) == TQ_OK) {
        check(v, n);
        tq_watch_entries_free(v, n);
    }
    return 0;
}
