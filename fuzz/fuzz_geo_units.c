/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_geo_units.c - administrative units from untrusted GeoJSON.
 *
 * The input goes to tq_geo_units_parse. What parses must hold only valid, areal geometry with
 * the fields set, and the report must add up (every feature produced a unit or a skip); the
 * units are then indexed, and a few points tagged and the map outputs written, none of which
 * may fail on units the parser accepted. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double probes[][2] = {{0, 0}, {40.9, 34.4}, {0.5, 0.5}, {-179, -89}, {1, 1}};
    struct tq_str in = {(const char *)data, size};
    struct tq_geo_parse_report rep;
    struct tq_geo_unit *u = NULL;
    struct tq_geo_index *ix = NULL;
    struct tq_err err;
    struct tq_buf b;
    size_t n = 0, i;
    tq_rc rc;

    rc = tq_geo_units_parse(in, NULL, &u, &n, &rep, &err);
    if (rc == TQ_ENOTSUP)
        return 0;
    if (rc != TQ_OK)
        return 0;
    if (rep.units != n || rep.units + rep.skipped != rep.features || rep.repaired > n)
        abort();
    for (i = 0; i < n; i++)
        if ((u[i].level != 0 && u[i].level != 1) || !u[i].country_pcode || !*u[i].country_pcode ||
            !u[i].pcode || !u[i].geometry || !strstr(u[i].geometry, "Polygon"))
            abort();
    if (n == 0)
        return 0;
    rc = tq_geo_index_build(u, n, NULL, &ix, &err);
    /* the parser's own output must index; only the resource limits may refuse it */
    if (rc != TQ_OK && rc != TQ_ETOOBIG)
        abort();
    if (rc == TQ_OK) {
        for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            struct tq_geo_tag t;

            if (tq_geo_tag(ix, probes[i][0], probes[i][1], &t, &err) != TQ_OK)
                abort();
            if (!(t.flags & TQ_GEO_OUTSIDE) && !t.pcode)
                abort();
        }
        tq_buf_init(&b, 16u << 20);
        rc = tq_geo_index_units_geojson(ix, 1, &b, &err);
        if (rc != TQ_OK && rc != TQ_ETOOBIG)
            abort();
        tq_buf_reset(&b);
        rc = tq_geo_index_border_geojson(ix, &b, &err);
        if (rc != TQ_OK && rc != TQ_ETOOBIG)
            abort();
        tq_buf_cleanup(&b);
    }
    tq_geo_index_free(ix);
    tq_geo_units_free(u, n);
    return 0;
}
