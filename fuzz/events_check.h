/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/events_check.h - what every event an event-file parser delivers must satisfy, shared
 * by the CSV and GeoJSON event targets: in range, quantities finite and not negative, an
 * incident the node's STIX validator accepts without error, and its point given back exactly
 * by tq_event_point_of; every problem reported with a line and a reason. Any disagreement
 * aborts.
 */
#ifndef TQ_FUZZ_EVENTS_CHECK_H
#define TQ_FUZZ_EVENTS_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/events.h"
#include "tansiq/json.h"
#include "tansiq/stix.h"

static tq_rc check_event(void *ud, const struct tq_event *e)
{
    struct tq_buf b;
    struct tq_err err;
    struct json_object *o = NULL;
    struct tq_stix_batch *batch;
    struct tq_event_point p;

    (void)ud;
    if (!isfinite(e->lat) || !isfinite(e->lon) || fabs(e->lat) > 90 || fabs(e->lon) > 180 ||
        e->end_us < e->start_us || !tq_event_kind_normal(e->kind) || !e->name || !e->name[0])
        abort();
    for (size_t i = 0; i < e->n_quantities; i++)
        if (!isfinite(e->quantities[i].amount) || e->quantities[i].amount < 0)
            abort();
    tq_buf_init(&b, 1u << 20);
    if (tq_event_to_stix(e, TQ_EVENTS_IDENTITY, &b, &err) != TQ_OK)
        abort();
    if (tq_json_parse((struct tq_str){b.ptr, b.len}, &o, &err) != TQ_OK)
        abort();
    batch = tq_stix_batch_of(o, true);
    if (batch->n_invalid != 0)
        abort();
    tq_stix_batch_free(batch);
    if (!tq_event_point_of(o, &p) || p.lat != e->lat || p.lon != e->lon ||
        p.start_us != e->start_us || strcmp(p.kind, e->kind) != 0)
        abort();
    json_object_put(o);
    tq_buf_cleanup(&b);
    return TQ_OK;
}

static void problem(void *ud, size_t line, const char *what)
{
    (void)ud;
    if (line == 0 || !what[0])
        abort();
}

#endif
