/* SPDX-License-Identifier: Apache-2.0
 *
 * web/web.h - internals of the web module: the table of embedded assets, which the build
 * generates ($(BUILD)/gen/web_assets.c, from tools/embed.py) and assets.c reads.
 */
#ifndef TQ_WEB_WEB_H
#define TQ_WEB_WEB_H

#include <stddef.h>

#include "tansiq/web.h"

/* Sorted by name (strcmp), so that a lookup is a binary search. */
extern const struct tq_web_asset tq__web_assets[];
extern const size_t tq__web_assets_n;

#endif
