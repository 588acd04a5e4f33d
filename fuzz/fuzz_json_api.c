/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_json_api.c - the query strings of the node's JSON API (/json/...), straight from
 * the network: percent-decoding, parameter names, flags and lengths. A query either parses or
 * is refused with a reason; nothing else may happen. The same bytes go through the screening
 * routes' stricter reading (unknown and repeated parameters refused), single and batch, and
 * through the dashboard routes' (json_dash.c), for each of their paths.
 */
#include <stdint.h>
#include <stdlib.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;

    if (!tq__http_json_query_check((struct tq_str){(const char *)data, size}, &why) && !why)
        abort(); /* a refusal always says why */
    why = NULL;
    if (!tq__http_screen_query_check((struct tq_str){(const char *)data, size}, false, &why) &&
        !why)
        abort();
    why = NULL;
    if (!tq__http_screen_query_check((struct tq_str){(const char *)data, size}, true, &why) && !why)
        abort();
    {
        static const char *const paths[] = {
            "incidents/summary", "objects/x--1/proof", "partners", "alarms", "objects/x--1", "feed",
            "feed/histogram"};

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
            why = NULL;
            if (!tq__http_dash_query_check(paths[i], (struct tq_str){(const char *)data, size},
                                           &why) &&
                !why)
                abort();
        }
    }
    return 0;
}
