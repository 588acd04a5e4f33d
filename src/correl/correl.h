/* SPDX-License-Identifier: Apache-2.0
 *
 * correl/correl.h - what the files of module correl share.
 *
 * normal.c owns the normal forms and dispatches by kind; wallet.c checks cryptocurrency
 * addresses; name.c is the name normaliser (its own file so that name screening can replace
 * it without touching the rest); pattern.c reads STIX patterns; extract.c walks objects.
 */
#ifndef TQ_CORREL_INTERNAL_H
#define TQ_CORREL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "tansiq/correl.h"

/*
 * Decode the UTF-8 sequence at s[*i] (i < n) into *cp and advance *i; false when it is
 * malformed (tq_utf8_len's rules), *i untouched.
 */
bool tq__correl_utf8_next(const char *s, size_t n, size_t *i, uint32_t *cp);
/* Append code point cp as UTF-8 to out[*len], which holds cap bytes; false when it does not fit. */
bool tq__correl_utf8_put(char *out, size_t cap, size_t *len, uint32_t cp);

/*
 * A cryptocurrency address in its normal form into out[TQ_CORREL_VALUE_MAX]: Base58Check
 * (Bitcoin, Litecoin, Dogecoin, Tron) kept as written, bech32/bech32m (bc1, ltc1) and
 * Ethereum (0x + 40 hex, EIP-55 checked when mixed case) lower-cased. in is trimmed already.
 */
bool tq__correl_wallet_normalise(const char *in, size_t len, char out[TQ_CORREL_VALUE_MAX]);
/* Keccak-256 (the original padding, as Ethereum uses it, not SHA3-256). */
void tq__correl_keccak256(const void *data, size_t len, uint8_t out[32]);

/*
 * A person's or group's name in its normal form into out[TQ_CORREL_VALUE_MAX]: trimmed,
 * white space collapsed to one space, invisible direction marks dropped, ASCII letters
 * lower-cased, everything else unchanged. False for empty or invalid text.
 */
bool tq__correl_name_normalise(const char *in, size_t len, char out[TQ_CORREL_VALUE_MAX]);

/* The kind a STIX hash name stands for ("MD5", "SHA-1", "SHA-256", "SHA256", ... in any case). */
bool tq__correl_hash_kind(const char *name, size_t len, enum tq_correl_kind *out);

/*
 * Called for each literal a pattern compares a known object path with: the value should be
 * tried as kinds[0], then kinds[1] ... (n_kinds >= 1).
 */
typedef void (*tq__correl_emit_cb)(void *ctx, const enum tq_correl_kind *kinds, size_t n_kinds,
                                   const char *s, size_t len);

/*
 * Scan a STIX pattern for `path = 'literal'` and `path IN ('a', 'b')` with a known path and
 * call emit for each literal. Negated comparisons are skipped, anything not understood is
 * ignored; patterns longer than TQ_CORREL_PATTERN_MAX are skipped whole.
 */
void tq__correl_pattern_scan(const char *p, size_t len, tq__correl_emit_cb emit, void *ctx);

#endif
