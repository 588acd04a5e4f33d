/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/web_store.h - what the store keeps of the dashboard's sessions: one row per session,
 * keyed by the SHA-256 of its cookie token (the token itself is never stored), with its user,
 * its CSRF token and its times.
 *
 * Part of the store (both backends, one engine), so that every serve process of a node on
 * PostgreSQL honours a login and a logout made through another. The rules (timeouts, token
 * making) are the web module's (tansiq/web.h); this is only the table.
 */
#ifndef TANSIQ_WEB_STORE_H
#define TANSIQ_WEB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"

#define TQ_WEB_USER_MAX 256 /* a session's user name, bytes with NUL */
#define TQ_WEB_CSRF_MAX 64  /* its CSRF token (base64url of 32 bytes is 43), bytes with NUL */

/* One session row. */
struct tq_store_web_session {
    uint8_t hash[32];           /* SHA-256 of the cookie token */
    char user[TQ_WEB_USER_MAX]; /* an existing user (the row goes with it) */
    char csrf[TQ_WEB_CSRF_MAX]; /* what X-CSRF-Token must equal */
    int64_t created_us;         /* login */
    int64_t last_us;            /* last use (kept to a granularity, see tq_web_session_lookup) */
    int64_t expires_us;         /* the absolute limit */
};

/* Insert a session. TQ_EINVAL for an empty or too long user or csrf; TQ_ECONFLICT for a hash
 * already present; a user that does not exist is refused by the store (TQ_ESTORE class). */
tq_rc tq_store_web_session_put(struct tq_store *store, const struct tq_store_web_session *s,
                               struct tq_err *err);
/* The session of hash into *out; TQ_ENOTFOUND when there is none. */
tq_rc tq_store_web_session_get(struct tq_store *store, const uint8_t hash[32],
                               struct tq_store_web_session *out, struct tq_err *err);
/* Move its last use forward to last_us (never backward); no session: TQ_OK, nothing done. */
tq_rc tq_store_web_session_touch(struct tq_store *store, const uint8_t hash[32], int64_t last_us,
                                 struct tq_err *err);
/* Delete it; *deleted (may be NULL) says whether a row went. */
tq_rc tq_store_web_session_delete(struct tq_store *store, const uint8_t hash[32], bool *deleted,
                                  struct tq_err *err);
/* Delete every session with expires_us <= now_us or last_us <= idle_before_us; *n (may be
 * NULL) the count. */
tq_rc tq_store_web_session_sweep(struct tq_store *store, int64_t now_us, int64_t idle_before_us,
                                 uint64_t *n, struct tq_err *err);

#endif
