/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/fuzz_alert_rule.c - alert rules: a kind (the first input byte picks one, or none) and
 * parameters as JSON text. A rule is accepted with canonical parameters that are accepted again
 * unchanged (a fixed point), or refused with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kinds[] = {"border",      "governorate", "hotspot",  "corridor",
                                        "correlation", "screening",   "nonsense", ""};
    struct tq_err err = {0};
    char *params, *canon = NULL, *again = NULL;

    if (size == 0)
        return 0;
    params = malloc(size);
    if (!params)
        return 0;
    memcpy(params, data + 1, size - 1);
    params[size - 1] = '\0';
    if (tq_alert_rule_check(kinds[data[0] % 8], params, &canon, &err) == TQ_OK) {
        if (!canon || tq_alert_rule_check(kinds[data[0] % 8], canon, &again, &err) != TQ_OK ||
            strcmp(canon, again) != 0)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    free(canon);
    free(again);
    free(params);
    return 0;
}
