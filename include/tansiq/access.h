/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/access.h - credentials kept by the store (Argon2id password hashes and API tokens),
 * and the name a partner's permissions are kept under.
 *
 * The node's users log in with a password (checked against its Argon2id string) or an API
 * token (kept only as its SHA-256). These helpers make what `tansiq user` stores; the server
 * checks requests against the same forms (src/access).
 */
#ifndef TANSIQ_ACCESS_H
#define TANSIQ_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"

/* Argon2id hash of password (crypto_pwhash_str, interactive limits); *hash_out new (tq_free). */
tq_rc tq_auth_password_hash(const char *password, char **hash_out, struct tq_err *err);
/*
 * A new random API token ("tq_" + 43 base64url characters, 256 bits) in *token_out (new, shown
 * once, never stored) and its SHA-256 in hash_out, which is what the store keeps.
 */
tq_rc tq_auth_token_new(char **token_out, uint8_t hash_out[32], struct tq_err *err);
void tq_auth_token_hash(const char *token, size_t len, uint8_t hash_out[32]);

/*
 * The name a partner's permissions are kept under in the store ("partner:NAME"), into out;
 * false when partner is empty or the name does not fit. The same writer as the server's.
 */
bool tq_access_partner_key(const char *partner, char *out, size_t out_size);

#endif
