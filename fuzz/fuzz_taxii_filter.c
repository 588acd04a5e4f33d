/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_taxii_filter.c - TAXII query strings, next cursors and request paths.
 *
 * The first byte picks the endpoint whose filter set applies; the rest is a raw query string.
 * When it parses and carries a next value, that value goes through the cursor decoder under a
 * fixed key; a cursor made from the input must always decode again. The same bytes are also
 * tried as a request path.
 */
#include <stdint.h>
#include <string.h>

#include "taxii/taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum tq_taxii_route routes[] = {TQ_ROUTE_OBJECTS, TQ_ROUTE_MANIFEST, TQ_ROUTE_OBJECT,
                                             TQ_ROUTE_VERSIONS, TQ_ROUTE_COLLECTIONS};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    struct tq_taxii_filter f;
    struct tq_taxii_path path;
    struct tq_store_cursor c, d;
    struct tq_err err;
    struct tq_str q;
    enum tq_taxii_route route;
    uint8_t binding[32];
    char text[TQ_TAXII_NEXT_MAX + 1];

    if (size == 0)
        return 0;
    route = routes[data[0] % (sizeof(routes) / sizeof(routes[0]))];
    q = (struct tq_str){(const char *)data + 1, size - 1};

    (void)tq__taxii_route(q, "api", &path);

    if (tq__taxii_filter_parse(q, tq__taxii_route_filters(route), &f, &err) != TQ_OK)
        return 0;
    tq__taxii_cursor_binding(route, "collection", NULL, &f, binding);
    if (f.next[0])
        (void)tq__taxii_cursor_decode(key, binding, f.next, &c, &err);

    /* A cursor built from the input round-trips exactly. */
    memset(&c, 0, sizeof(c));
    c.date_added_us = (int64_t)size * 7919;
    memcpy(c.id, q.ptr, q.len < 200 ? q.len : 200);
    if (c.id[0] && strlen(c.id) <= 255 &&
        tq__taxii_cursor_encode(key, binding, &c, text, sizeof(text), &err) == TQ_OK) {
        if (tq__taxii_cursor_decode(key, binding, text, &d, &err) != TQ_OK ||
            d.date_added_us != c.date_added_us || strcmp(d.id, c.id) != 0)
            __builtin_trap();
    }
    tq__taxii_filter_cleanup(&f);
    return 0;
}
