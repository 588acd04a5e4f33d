/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_events_csv.c - CSV text and CSV event files (UCDP GED and simple CSV).
 *
 * The input is read by core's CSV reader with ragged rows allowed (every field must lie inside
 * the row limits), then parsed as a UCDP GED file and as a simple CSV event file with the
 * delimiter sniffed and with ';' given. Every event delivered must be in range, become an
 * incident that the node's STIX validator accepts without error, and give its point back
 * exactly through tq_event_point_of. Any disagreement aborts.
 */
#include <stdint.h>

#include "events_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void raw_csv(struct tq_str in)
{
    struct tq_csv_options o = {.allow_ragged = true, .max_field_bytes = 4096, .max_columns = 64};
    struct tq_csv *c = NULL;
    struct tq_csv_row row;
    struct tq_err err;
    size_t last = 0;

    if (tq_csv_new(in, &o, &c, &err) != TQ_OK)
        return;
    while (tq_csv_next(c, &row, &err) == TQ_OK) {
        if (row.n == 0 || row.n > 64 || row.line <= last)
            abort();
        last = row.line;
        for (size_t i = 0; i < row.n; i++)
            if (row.fields[i].len > 4096)
                abort();
    }
    if (tq_csv_next(c, &row, &err) != TQ_ENOTFOUND)
        abort();
    tq_csv_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tq_str in = {(const char *)data, size};
    static const struct {
        enum tq_events_format f;
        char delim;
    } runs[] = {{TQ_EVENTS_UCDP, 0}, {TQ_EVENTS_CSV, 0}, {TQ_EVENTS_CSV, ';'}};

    raw_csv(in);
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct tq_events_options o = {.format = runs[i].f,
                                      .delimiter = runs[i].delim,
                                      .source = "fuzz.csv",
                                      .problem = problem,
                                      .max_bytes = 1u << 20};
        struct tq_events_stats st;
        struct tq_err err;

        (void)tq_events_parse(in, &o, check_event, NULL, &st, &err);
        if (st.events + st.skipped > st.rows)
            abort();
    }
    return 0;
}
