/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/hot.h - what the hotspot test (hotspot.c) hands the corridor builder (corridor.c).
 */
#ifndef TQ_GEO_HOT_H
#define TQ_GEO_HOT_H

#include <stddef.h>
#include <stdint.h>

#include "tansiq/hotspot.h"

/*
 * Link the hot (cell, window) pairs into corridors and add them to r: ids[ncell] the cells,
 * hot[cell * nwin + window] whether it was hot, prefix/nslot/e0 the binned events (see
 * hotspot.c), end_us the end of the last window.
 */
tq_rc tq__hot_corridors(const struct tq_hot_options *o, const int64_t *ids, size_t ncell,
                        const uint32_t *prefix, size_t nslot, size_t e0, size_t nwin,
                        const uint8_t *hot, int64_t end_us, struct tq_hot_result *r,
                        struct tq_err *err);

#endif
