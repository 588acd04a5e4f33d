/* SPDX-License-Identifier: Apache-2.0
 *
 * taxii/route.c - the TAXII 2.1 URL space: path to route, and the methods of each route.
 *
 * There is one api root, named by configuration. Paths are matched segment by segment after
 * percent-decoding; the trailing slash TAXII writes is accepted but not required. Anything
 * else is not a route (404).
 */
#include <string.h>

#include "taxii/taxii.h"

#define MAX_SEGS 8

bool tq__taxii_route(struct tq_str path, const char *api_root, struct tq_taxii_path *out)
{
    struct tq_str seg[MAX_SEGS];
    size_t nseg = 0, i, start;
    char dec[TQ_TAXII_SEG_MAX];

    memset(out, 0, sizeof(*out));
    if (path.len == 0 || path.ptr[0] != '/')
        return false;
    if (path.len > 1 && path.ptr[path.len - 1] == '/')
        path.len--; /* one trailing slash */
    start = 1;
    for (i = 1; i <= path.len; i++) {
        if (i < path.len && path.ptr[i] != '/')
            continue;
        if (i == start)
            return false; /* empty segment */
        if (nseg == MAX_SEGS)
            return false;
        seg[nseg++] = (struct tq_str){path.ptr + start, i - start};
        start = i + 1;
    }

    /* Decode the two parameter segments when present; compare the fixed ones raw. */
    if (nseg == 1 && tq_str_eq_c(seg[0], "taxii2")) {
        out->route = TQ_ROUTE_DISCOVERY;
        return true;
    }
    if (nseg == 0 || !tq_str_eq_c(seg[0], api_root))
        return false;
    if (nseg == 1) {
        out->route = TQ_ROUTE_API_ROOT;
        return true;
    }
    for (i = 2; i < nseg; i += 2) {
        size_t n;
        if (seg[i].len >= sizeof(dec))
            return false;
        if (!tq__taxii_pct_decode(seg[i], dec, &n, false) || n == 0 ||
            memchr(dec, '\0', n) != NULL || memchr(dec, '/', n) != NULL)
            return false;
        if (i == 2) {
            memcpy(out->seg1, dec, n);
            out->seg1[n] = '\0';
        } else if (i == 4) {
            memcpy(out->seg2, dec, n);
            out->seg2[n] = '\0';
        } else {
            return false;
        }
    }
    if (tq_str_eq_c(seg[1], "status")) {
        if (nseg != 3)
            return false;
        out->route = TQ_ROUTE_STATUS;
        return true;
    }
    if (!tq_str_eq_c(seg[1], "collections"))
        return false;
    switch (nseg) {
    case 2:
        out->route = TQ_ROUTE_COLLECTIONS;
        return true;
    case 3:
        out->route = TQ_ROUTE_COLLECTION;
        return true;
    case 4:
        if (tq_str_eq_c(seg[3], "manifest"))
            out->route = TQ_ROUTE_MANIFEST;
        else if (tq_str_eq_c(seg[3], "objects"))
            out->route = TQ_ROUTE_OBJECTS;
        else
            return false;
        return true;
    case 5:
        if (!tq_str_eq_c(seg[3], "objects"))
            return false;
        out->route = TQ_ROUTE_OBJECT;
        return true;
    case 6:
        if (!tq_str_eq_c(seg[3], "objects") || !tq_str_eq_c(seg[5], "versions"))
            return false;
        out->route = TQ_ROUTE_VERSIONS;
        return true;
    default:
        return false;
    }
}

unsigned tq__taxii_route_methods(enum tq_taxii_route route)
{
    switch (route) {
    case TQ_ROUTE_NONE:
        return 0;
    case TQ_ROUTE_OBJECTS:
        return TQ_METHOD_GET | TQ_METHOD_HEAD | TQ_METHOD_POST;
    case TQ_ROUTE_OBJECT:
        return TQ_METHOD_GET | TQ_METHOD_HEAD | TQ_METHOD_DELETE;
    default:
        return TQ_METHOD_GET | TQ_METHOD_HEAD;
    }
}

const char *tq__taxii_route_allow(enum tq_taxii_route route)
{
    switch (route) {
    case TQ_ROUTE_OBJECTS:
        return "GET, HEAD, POST";
    case TQ_ROUTE_OBJECT:
        return "GET, HEAD, DELETE";
    default:
        return "GET, HEAD";
    }
}
