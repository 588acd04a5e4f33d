/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/web.h - the dashboard's side of the node: the assets built into the binary (the page,
 * its bundled script and style, fonts), the security policy they are served under, and the
 * browser sessions that sign a user in with a cookie.
 *
 * Assets: scripts/web-build.sh bundles web/ and tools/embed.py turns the result into a C table
 * (each asset's bytes, its gzip form when smaller, its content type and a SHA-256 ETag),
 * compiled into the library. Sessions: a token of 32 random bytes (base64url) in an HttpOnly
 * cookie; the store keeps its SHA-256 only (tansiq/web_store.h), with idle and absolute
 * limits checked on every use. Login attempts are throttled per user and per client address,
 * in the memory of the process. docs/internals/web.md has the rules and why.
 */
#ifndef TANSIQ_WEB_H
#define TANSIQ_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"
#include "tansiq/web_store.h"

/* ---- assets ----------------------------------------------------------------------------- */

/* One embedded asset. Everything is static, built into the binary. */
struct tq_web_asset {
    const char *name;         /* "index.html", "app-3f2a91c0.js", "noto-...-5d1a.woff2" */
    const char *content_type; /* "text/html; charset=utf-8", ... */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* the gzip form; NULL when it would not be smaller */
    size_t gz_len;
    const char *etag; /* a quoted strong ETag from the SHA-256 of data */
    bool immutable;   /* the name carries a content hash: cache for a year */
};

/* The asset named name (no leading '/'; "index.html" is the page); NULL when there is none. */
const struct tq_web_asset *tq_web_asset_find(struct tq_str name);
/* How many assets are built in, and the i-th (i < count), for listings and tests. */
size_t tq_web_asset_count(void);
const struct tq_web_asset *tq_web_asset_at(size_t i);
/*
 * Whether an If-None-Match value (a list of entity tags, or "*") names etag, weak comparison as
 * RFC 9110 section 13.1.2 asks for a GET. NULL (no header) is false.
 */
bool tq_web_etag_matches(const char *if_none_match, size_t len, const char *etag);

#define TQ_WEB_ORIGIN_MAX 256 /* "https://host:port" with NUL */
#define TQ_WEB_CSP_MAX 640

/*
 * The origin ("https://host[:port]", lowercase) of a map tile URL template such as
 * "https://tile.example.org/{z}/{x}/{y}.png". TQ_ECONFIG unless it is an https URL with a host
 * of letters, digits, '-', '.' (or a bracketed IPv6 address) and an optional port, and fits.
 */
tq_rc tq_web_tile_origin(const char *url, char out[TQ_WEB_ORIGIN_MAX], struct tq_err *err);
/* The Content-Security-Policy of every dashboard answer; tile_origin NULL or "" for none. */
void tq_web_csp(const char *tile_origin, char out[TQ_WEB_CSP_MAX]);

/* ---- sessions --------------------------------------------------------------------------- */

#define TQ_WEB_COOKIE "tq_session"
#define TQ_WEB_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */
#define TQ_WEB_SESSION_IDLE_S_DEFAULT 1800
#define TQ_WEB_SESSION_MAX_S_DEFAULT 43200
#define TQ_WEB_LOGIN_BODY_MAX 1024
#define TQ_WEB_PASSWORD_MAX 1024 /* bytes with NUL */

/* A session's limits, seconds; 0 takes the default. */
struct tq_web_limits {
    unsigned idle_s;
    unsigned max_s;
};

/*
 * Start a session for user (who has just proved its password): a new random token into
 * token_out (NUL-terminated, TQ_WEB_TOKEN_LEN characters; the only copy, for the cookie) and
 * the row into *out (csrf included). Store failures as the store reports them.
 */
tq_rc tq_web_session_create(struct tq_store *store, const char *user,
                            const struct tq_web_limits *lim, int64_t now_us,
                            char token_out[TQ_WEB_TOKEN_LEN + 1], struct tq_store_web_session *out,
                            struct tq_err *err);
/*
 * The live session of token into *out. TQ_EAUTH when the token is malformed, unknown or past
 * either limit at now_us (an expired row is deleted here). The last use is written back only
 * when it moved by a step (a quarter of the idle limit, at most 30 s), so that a busy page does
 * not write on every request; the idle limit is therefore honoured to within that step.
 */
tq_rc tq_web_session_lookup(struct tq_store *store, struct tq_str token,
                            const struct tq_web_limits *lim, int64_t now_us,
                            struct tq_store_web_session *out, struct tq_err *err);
/* End the session of token (logout); *ended (may be NULL) whether there was one. */
tq_rc tq_web_session_end(struct tq_store *store, struct tq_str token, bool *ended,
                         struct tq_err *err);
/* Delete every session past a limit at now_us; *n (may be NULL) how many. */
tq_rc tq_web_session_sweep(struct tq_store *store, const struct tq_web_limits *lim, int64_t now_us,
                           uint64_t *n, struct tq_err *err);

/*
 * The tq_session token of a Cookie header value (RFC 6265 section 5.4: "name=value" pairs
 * separated by "; "). False when the header is NULL, holds no tq_session, holds it twice, or
 * its value is not TQ_WEB_TOKEN_LEN base64url characters. *out borrows from value.
 */
bool tq_web_cookie_token(const char *value, size_t len, struct tq_str *out);

/*
 * The login body {"user":"...","password":"..."}: strict JSON (tq_json_parse), at most
 * TQ_WEB_LOGIN_BODY_MAX bytes, exactly those two string members, a non-empty user without
 * ':' or control characters that fits TQ_WEB_USER_MAX, a non-empty password without NUL that
 * fits TQ_WEB_PASSWORD_MAX. TQ_EINVAL (reason in err, never the password) otherwise; wipe
 * password after use whatever the result.
 */
tq_rc tq_web_login_parse(struct tq_str body, char user[TQ_WEB_USER_MAX],
                         char password[TQ_WEB_PASSWORD_MAX], struct tq_err *err);

/* ---- login throttling ------------------------------------------------------------------- */

#define TQ_WEB_THROTTLE_FAILS 5                         /* failures allowed in the window */
#define TQ_WEB_THROTTLE_WINDOW_US (15 * 60 * 1000000LL) /* 15 minutes */

/*
 * Failed logins counted per user name and per client address, in this process's memory (a
 * bounded table: 4096 entries of each kind, the oldest replaced). After TQ_WEB_THROTTLE_FAILS
 * failures within TQ_WEB_THROTTLE_WINDOW_US of the first, further attempts for that user or
 * from that address are refused until the window ends. Thread-safe.
 */
struct tq_web_throttle;

struct tq_web_throttle *tq_web_throttle_new(void);
void tq_web_throttle_free(struct tq_web_throttle *t); /* NULL is a no-op */
/* Whether an attempt for user from addr must be refused now; *retry_s when it is. */
bool tq_web_throttle_blocked(struct tq_web_throttle *t, const char *user, const char *addr,
                             int64_t now_us, unsigned *retry_s);
/* Count a failed attempt for user and for addr. */
void tq_web_throttle_fail(struct tq_web_throttle *t, const char *user, const char *addr,
                          int64_t now_us);
/* A success clears the user's count (not the address's: one good account must not reset it). */
void tq_web_throttle_ok(struct tq_web_throttle *t, const char *user);

#endif
