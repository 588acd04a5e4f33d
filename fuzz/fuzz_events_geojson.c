/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_events_geojson.c - GeoJSON event files.
 *
 * The input is parsed as a GeoJSON FeatureCollection of events. Every event delivered must be
 * in range, become an incident that the node's STIX validator accepts without error, and give
 * its point back exactly through tq_event_point_of; quantities must be finite and not
 * negative. Any disagreement aborts.
 */
#include <stdint.h>

#include "events_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tq_str in = {(const char *)data, size};
    struct tq_events_options o = {.format = TQ_EVENTS_GEOJSON,
                                  .source = "fuzz.geojson",
                                  .problem = problem,
                                  .max_bytes = 1u << 20};
    struct tq_events_stats st;
    struct tq_err err;

    (void)tq_events_parse(in, &o, check_event, NULL, &st, &err);
    if (st.events + st.skipped > st.rows)
        abort();
    return 0;
}
