/* SPDX-License-Identifier: Apache-2.0
 *
 * http/http.h - internals of the HTTP layer: header parsers (Accept, Content-Type,
 * Authorization), the credential check with its cache, and the client-certificate check that
 * turns a partner node's TLS certificate into a principal.
 *
 * The parsers take header values straight from the network and are fuzzed
 * (fuzz/fuzz_http_auth.c). The libmicrohttpd glue itself is in server.c and exposes nothing
 * beyond include/tansiq/server.h.
 */
#ifndef TQ_HTTP_HTTP_H
#define TQ_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/store.h"

struct MHD_Connection;
struct MHD_Response;

/* ---- media types ------------------------------------------------------------------------ */

/*
 * True when an Accept header value admits the TAXII media type: application/taxii+json with
 * version 2.1 or no version, application/ * or * / * (RFC 9110 ranges), with q > 0. A missing
 * (NULL) or blank header is acceptable. Malformed elements are skipped.
 */
bool tq__http_accept_ok(const char *accept, size_t len);
/*
 * True when a Content-Type value is application/taxii+json;version=2.1: type and parameter
 * names case-insensitive, whitespace around ';' and '=' allowed, the version possibly quoted,
 * other parameters ignored.
 */
bool tq__http_content_type_ok(const char *ctype, size_t len);
/*
 * False when a Content-Type value carries a charset parameter other than utf-8 (name and value
 * case-insensitive, the value possibly quoted): TAXII bodies are JSON, which is UTF-8 (RFC 8259
 * section 8.1), and a body in another encoding would be misread. True without a charset
 * parameter, and for a NULL or malformed value (the media type check refuses those).
 */
bool tq__http_content_type_charset_ok(const char *ctype, size_t len);

/* ---- response bodies (encode.c) --------------------------------------------------------- */

/* Whether an Accept-Encoding value accepts gzip (by name or "*", with a q-value above 0). */
bool tq__http_accepts_gzip(const char *value, size_t len);
/*
 * A response for body (taken: freed with the response, or here on failure; NULL for an empty
 * body), gzip-encoded when the request accepts it and the body is large enough to gain, with
 * Content-Encoding and Vary set. NULL when libmicrohttpd cannot make one.
 */
struct MHD_Response *tq__http_response_new(struct MHD_Connection *conn, char *body, size_t len);

/* ---- credentials ------------------------------------------------------------------------ */

#define TQ_AUTH_USER_MAX 256    /* bytes with NUL */
#define TQ_AUTH_SECRET_MAX 1024 /* bytes with NUL */

enum tq__auth_scheme { TQ_AUTH_NONE = 0, TQ_AUTH_BASIC, TQ_AUTH_BEARER };

struct tq__auth_cred {
    enum tq__auth_scheme scheme;
    char user[TQ_AUTH_USER_MAX];     /* Basic only */
    char secret[TQ_AUTH_SECRET_MAX]; /* Basic password or bearer token, NUL-terminated */
    size_t secret_len;
};

/*
 * Parse an Authorization header value: "Basic base64(user:password)" or "Bearer token",
 * scheme case-insensitive. TQ_EAUTH for anything else (reason in err, never the secret).
 * Call tq__auth_cred_wipe on *out after use, whatever the result.
 */
tq_rc tq__http_auth_parse(const char *value, size_t len, struct tq__auth_cred *out,
                          struct tq_err *err);
void tq__auth_cred_wipe(struct tq__auth_cred *c);

/*
 * The verifier: Argon2id checks against the store, a bounded in-memory cache of successful
 * checks (keyed BLAKE2b of user and password under a per-process random key, with a TTL),
 * and a cap on concurrent Argon2 runs, which each take ~50 ms and 64 MiB.
 */
struct tq__auth;

struct tq__auth *tq__auth_new(size_t cache_slots, int64_t ttl_us, unsigned max_parallel);
void tq__auth_free(struct tq__auth *a);

/*
 * Check cred against the store. On TQ_OK user_out holds the user name. TQ_EAUTH for unknown
 * users, wrong passwords and unknown tokens alike; other codes for store failures.
 */
tq_rc tq__auth_verify(struct tq__auth *a, struct tq_store *store, const struct tq__auth_cred *c,
                      char user_out[TQ_AUTH_USER_MAX], struct tq_err *err);

/* Cache probes, exposed for the unit tests. */
bool tq__auth_cache_hit(struct tq__auth *a, const char *user, const char *pw, size_t pw_len,
                        int64_t now_us);
void tq__auth_cache_put(struct tq__auth *a, const char *user, const char *pw, size_t pw_len,
                        int64_t now_us);

/* ---- partner nodes (mutual TLS) --------------------------------------------------------- */

#define TQ_PEER_RECHECK_US (5 * (int64_t)1000000) /* partner table lookups per connection */

/* Where a request's principal comes from; credentials win over a client certificate. */
enum tq__principal_source {
    TQ_PRINCIPAL_FROM_NONE = 0,    /* neither: 401 */
    TQ_PRINCIPAL_FROM_CREDENTIALS, /* an Authorization header: a user (analyst) */
    TQ_PRINCIPAL_FROM_CERT,        /* no Authorization header, a client certificate: a partner */
};

enum tq__principal_source tq__http_principal_source(bool has_authorization, bool has_client_cert);

/*
 * True when a certificate (DER) parses and now_s (seconds since the epoch) lies within its
 * validity period. Possession of the key is proved by the TLS handshake, not here.
 */
bool tq__http_cert_time_ok(const void *der, size_t len, int64_t now_s);

/* SHA-256 of a certificate's DER encoding, and its lowercase hex form (65 bytes with NUL). */
void tq__http_cert_sha256(const void *der, size_t len, uint8_t out[32]);
void tq__http_fingerprint_hex(const uint8_t fp[32], char out[65]);

/*
 * What one connection learned about its client certificate. Lives in libmicrohttpd's socket
 * context from connection start to close; zeroed memory is a valid empty state.
 */
struct tq__peer {
    bool looked_up;            /* a lookup ran for fp */
    uint8_t fp[32];            /* SHA-256 of the certificate DER */
    char partner[TQ_NAME_MAX]; /* the matching partner, "" when none */
    int64_t checked_mono_us;   /* when the partner table was last asked */
    bool warned;               /* the refusal of this fp was logged on this connection */
    bool period_known;         /* period_fp's validity period was read (parsed or not) */
    bool period_parsed;        /* ... and the certificate parsed: the two bounds hold */
    uint8_t period_fp[32];     /* the certificate whose period is cached */
    int64_t not_before_s;      /* its validity period, seconds since the epoch */
    int64_t not_after_s;
};

/*
 * Resolve a client certificate (DER, whose key the handshake proved the client holds) to a
 * partner through tq_store_partner_find_cert. The answer is cached in peer for
 * TQ_PEER_RECHECK_US (monotonic clock) and for as long as the certificate stays the same, so
 * a removed or re-pinned partner is noticed within that time. On TQ_OK partner_out holds the
 * partner name. TQ_EAUTH when the certificate is outside its validity period at now_s or no
 * partner pins it; the refusal is logged once per connection at WARN with the fingerprint.
 * Other codes: store failures.
 */
tq_rc tq__http_peer_resolve(struct tq__peer *peer, struct tq_store *store, const void *der,
                            size_t der_len, int64_t now_s, int64_t now_mono_us,
                            char partner_out[TQ_NAME_MAX], struct tq_err *err);

/* ---- the audit log (log.c) -------------------------------------------------------------- */

enum tq__http_log_kind { TQ__LOG_CHECKPOINT, TQ__LOG_TILE, TQ__LOG_ENTRIES };

struct tq__http_log_req {
    enum tq__http_log_kind kind;
    unsigned level; /* hash tiles */
    uint64_t index;
    unsigned width; /* 1..256 */
};

/*
 * Parse the path of a /log/ request (what follows "/log/"): "checkpoint",
 * "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" in canonical C2SP form only.
 */
bool tq__http_log_path(const char *path, struct tq__http_log_req *out);

struct MHD_Connection;
struct tq_audit_log;
struct tq_note_signer;
/* Answer a /log/ GET or HEAD (path after "/log/"); returns an enum MHD_Result. */
int tq__http_log_serve(struct MHD_Connection *conn, struct tq_audit_log *log,
                       const struct tq_note_signer *signer, const char *path);
/*
 * Answer POST /log/add-checkpoint with the request body as received (at most
 * TQ_WITNESS_BODY_MAX bytes): tq_witness_add_checkpoint with witness as the cosigner, its
 * status and body as the answer. Returns an enum MHD_Result.
 */
int tq__http_log_add_checkpoint(struct MHD_Connection *conn, struct tq_store *store,
                                const struct tq_note_signer *witness, struct tq_str body);
/*
 * Answer GET /log/openings for partner, authenticated by mTLS (the caller checked that): the
 * openings of this node's leaves naming partner with idx from N (query "?from=N", default 0)
 * below the size S of the latest signed checkpoint, at most TQ_HTTP_OPENINGS_PAGE, as
 * {"size":S,"entries":[{"idx","kind","salt","record"},...],"next":N} ("next" only when more
 * remain). query is what follows "openings" in the path ("" or "?..."); 400 when from is
 * malformed. Returns an enum MHD_Result.
 */
#define TQ_HTTP_OPENINGS_PAGE 1000
int tq__http_log_openings(struct MHD_Connection *conn, struct tq_store *store,
                          struct tq_audit_log *log, const char *partner, const char *query);
/* Parse the query of /log/openings ("" or "?from=N&..."): false when from is malformed. */
bool tq__http_openings_from(const char *query, uint64_t *from);
/* A plain-text answer under /log/ (a refusal): text and a newline; allow adds an Allow header. */
int tq__http_log_text(struct MHD_Connection *conn, unsigned status, const char *text,
                      const char *allow);

#endif
