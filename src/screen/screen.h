/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/screen.h - what the files of the screen module share.
 *
 * normal.c reads names (normalisation, transliteration, tokens, keys); metric.c holds the
 * string metrics; match.c aligns and scores two parsed names; index.c blocks a list by keys.
 */
#ifndef TQ_SCREEN_INTERNAL_H
#define TQ_SCREEN_INTERNAL_H

#include "tansiq/screen.h"
#include "core/core.h"

/* Tokens below this similarity are never aligned: they are different name parts. */
#define TQ__SCREEN_SIM_FLOOR 0.70f

/*
 * The similarity of two tokens in [0,1] and how it was reached (enum tq_screen_how); 0 with
 * TQ_SCREEN_CONFLICT when they do not meet.
 */
float tq__screen_token_sim(const struct tq_screen_token *x, const struct tq_screen_token *y,
                           uint8_t *how);

/* tq_screen_damerau(a, la, b, lb) <= k, without the full table when a cheaper bound settles it. */
bool tq__screen_damerau_within(const char *a, size_t la, const char *b, size_t lb, size_t k);

#endif
