/* SPDX-License-Identifier: Apache-2.0
 *
 * http/http.h - internals of the HTTP layer: the route table and its handlers, the one
 * response type, header parsers (Accept, Content-Type, Authorization), connection governance
 * and the client-certificate check that turns a partner node's TLS certificate into a
 * principal.
 *
 * The parsers take header values straight from the network and are fuzzed
 * (fuzz/fuzz_http_auth.c). Nothing here leaves src/http except through
 * include/tansiq/server.h; docs/internals/http.md says where a new endpoint goes.
 */
#ifndef TQ_HTTP_HTTP_H
#define TQ_HTTP_HTTP_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "access/access.h"
#include "taxii/taxii.h"
#include "tansiq/core.h"
#include "tansiq/server.h"
#include "tansiq/store.h"
#include "tansiq/web.h"

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

/*
 * Parse an Authorization header value: "Basic base64(user:password)" or "Bearer token",
 * scheme case-insensitive. TQ_EAUTH for anything else (reason in err, never the secret).
 * Call tq__access_cred_wipe on *out after use, whatever the result. What the credentials are
 * worth is decided by src/access (tq__access_verify).
 */
tq_rc tq__http_auth_parse(const char *value, size_t len, struct tq__access_cred *out,
                          struct tq_err *err);

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

/* ---- connections: admission, deadlines, shedding (conn.c) ------------------------------- */

struct tq__http_gov;

struct tq__http_addr {
    uint8_t b[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
};

/*
 * One connection, from libmicrohttpd's STARTED notification to its CLOSED one (the socket
 * context): its place in the admission list and what its client certificate resolved to.
 */
struct tq__http_conn {
    struct tq__peer peer; /* the client certificate's resolution (http/peer.c) */
    struct tq__http_conn *prev, *next;
    int fd;
    struct tq__http_addr addr;
    int64_t started_mono_us;
    int64_t deadline_mono_us; /* headers of the awaited request, when waiting */
    int64_t waiting_mono_us;  /* when it started waiting (its start, or its last answer) */
    bool in_request;          /* between the first access-handler call and completion */
    bool served;              /* completed a request */
    bool shut;                /* shut down by us, closing */
};

struct tq__http_gov *tq__http_gov_new(unsigned max_conns, unsigned per_ip, unsigned timeout_s);
/* Start the sweeper thread (deadlines, the refusal log, heap trimming). */
tq_rc tq__http_gov_start(struct tq__http_gov *g, struct tq_err *err);
/* Stop the sweeper and free; after the daemon stopped (no connection is listed any more). */
void tq__http_gov_free(struct tq__http_gov *g);
/* libmicrohttpd's accept policy (cls: the gov) and its logger (cls: the gov). */
enum MHD_Result tq__http_gov_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void tq__http_gov_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void tq__http_gov_conn_started(struct tq__http_gov *g, struct MHD_Connection *mc,
                               struct tq__http_conn *c, bool tls);
void tq__http_gov_conn_closed(struct tq__http_gov *g, struct tq__http_conn *c);
/*
 * A request's headers are in (in_request); or its answer is done, or it was refused and only
 * its body is still read and dropped (not in_request: waiting again, under the next-request
 * deadline and sheddable). served: answered, not refused.
 */
void tq__http_gov_conn_set(struct tq__http_gov *g, struct tq__http_conn *c, bool in_request,
                           bool served);
/* The connection of a libmicrohttpd connection (its socket context); NULL when none. */
struct tq__http_conn *tq__http_conn_of(struct MHD_Connection *mc);

/* ---- framing (framing.c) ---------------------------------------------------------------- */

/*
 * Framing that leaves the request's extent ambiguous, or fields that break RFC 9110/9112:
 * NULL when the request is well-framed, else the reason. check_raw: also read the header
 * block as libmicrohttpd 0.9.75 left it (docs/internals/http.md, Strict HTTP).
 */
const char *tq__http_framing_error(struct MHD_Connection *conn, const char *method,
                                   const char *version, bool check_raw);

/* ---- responses (response.c) ------------------------------------------------------------- */

#define TQ_HTTP_RESP_HEADERS_MAX 10

/*
 * A streamed body's source, libmicrohttpd's content reader: fill up to max bytes of buf for
 * position pos, return how many, MHD_CONTENT_READER_END_OF_STREAM at the end or
 * MHD_CONTENT_READER_END_WITH_ERROR. It may suspend the connection when it has nothing yet.
 */
typedef ssize_t (*tq__http_stream_cb)(void *cls, uint64_t pos, char *buf, size_t max);

/*
 * One response: status, media type, a few headers and either a body (gzip-encoded for a client
 * that accepts it, when gzip is set) or a stream. Every answer of the server is one of these.
 */
struct tq__http_resp {
    unsigned status;
    const char *media_type;    /* Content-Type; static */
    const char *cache_control; /* static; "no-store" unless set */
    bool gzip;                 /* the body may be encoded (true after init) */
    struct tq_buf body;
    size_t n_headers;
    struct {
        const char *name; /* static */
        char *value;      /* owned */
    } headers[TQ_HTTP_RESP_HEADERS_MAX];
    tq__http_stream_cb stream; /* a stream instead of body, when set */
    void *stream_cls;
    void (*stream_free)(void *cls); /* called once the stream is done with, or never started */
};

void tq__http_resp_init(struct tq__http_resp *r, unsigned status, const char *media_type);
void tq__http_resp_cleanup(struct tq__http_resp *r);
/* Add a header; value is copied. Headers beyond TQ_HTTP_RESP_HEADERS_MAX are dropped (a bug). */
void tq__http_resp_header(struct tq__http_resp *r, const char *name, const char *value);
/* A plain-text answer (text/plain; charset=utf-8): status, text and a newline. */
void tq__http_resp_text(struct tq__http_resp *r, unsigned status, const char *text);
/* A JSON answer (application/json): status and body, which is taken (left empty). */
void tq__http_resp_json(struct tq__http_resp *r, unsigned status, struct tq_buf *body);
/* The JSON API's refusal: status and {"error":"what"}. */
void tq__http_resp_json_error(struct tq__http_resp *r, unsigned status, const char *what);
/*
 * A failure of the JSON API's own work as its status (tq_rc_http_status) and {"error": ...}:
 * the message for the caller's mistakes, only the class for the node's (5xx; the message goes
 * to the log, marked with what).
 */
void tq__http_resp_json_fail(struct tq__http_resp *r, tq_rc rc, const struct tq_err *err,
                             const char *what);

/*
 * The next name=value pair of the query string q from *pos (start at 0), both percent-decoded
 * ('+' as a space) into name and val, NUL-terminated, *val_len the value's length. Empty pairs
 * are skipped. 1: a pair; 0: no more; -1: a pair too long for its buffer, badly encoded or
 * holding a NUL (*why says so).
 */
int tq__http_query_next(struct tq_str q, size_t *pos, char *name, size_t name_size, char *val,
                        size_t val_size, size_t *val_len, const char **why);
/* Make r a stream: cb produces the body, free_cb (may be NULL) releases cls. */
void tq__http_resp_stream(struct tq__http_resp *r, tq__http_stream_cb cb, void *cls,
                          void (*free_cb)(void *cls));
/* Queue r on conn (the body is taken, the stream handed over). */
enum MHD_Result tq__http_resp_queue(struct MHD_Connection *conn, struct tq__http_resp *r);

/* ---- the route table -------------------------------------------------------------------- */

/* Who a route serves; the server authenticates by this before its headers callback runs. */
enum tq__http_auth {
    TQ_HTTP_AUTH_NONE = 0, /* anyone: no authentication at all */
    TQ_HTTP_AUTH_ANY,      /* a user or a partner node; 401 otherwise */
    TQ_HTTP_AUTH_USER,     /* a user; 401 without credentials, 403 for a partner */
    TQ_HTTP_AUTH_PARTNER,  /* a partner node (mutual TLS); 403 for anyone else */
};

enum tq__http_match {
    TQ_HTTP_MATCH_PREFIX = 0, /* the target starts with path */
    TQ_HTTP_MATCH_PATH,       /* the target is path, or path and a query */
    TQ_HTTP_MATCH_TARGET,     /* the target is exactly path */
};

struct tq_server;
struct tq__http_route;

/* One request, from the URI log callback to the completion callback. */
struct tq__http_req {
    struct tq_server *srv;
    struct MHD_Connection *conn;
    const struct tq__http_route *route;
    char *target; /* raw request target: path and query */
    unsigned method;
    struct tq_str query; /* after '?', without it; empty when none */
    struct tq__principal who;
    int64_t received_us;
    bool started; /* the first access-handler call has happened */

    /* a refusal decided before the body was read (err_status 0: none) */
    int err_status;
    char err_desc[256];
    bool err_www_auth;     /* add WWW-Authenticate */
    const char *err_allow; /* add Allow (static) */

    bool want_body; /* the body is collected into body, capped at the route's limit */
    uint64_t body_seen;
    uint64_t drain_max; /* bytes of a refused body we read before giving up on the connection */
    struct tq_buf body;

    void *data; /* the handler's per-request state (tq_free at completion) */

    /* The principal came from a dashboard session cookie (not an Authorization header): a
     * state-changing request must then carry X-CSRF-Token equal to csrf. */
    bool by_cookie;
    char csrf[TQ_WEB_CSRF_MAX];
};

/*
 * A route: h2o's model. The server matches the target against path (in table order), checks
 * the method, runs resolve (checks needing no principal: may refuse), authenticates by auth,
 * runs headers (may refuse, or ask for the body with tq__http_req_want_body), collects the
 * body, and on the last call asks complete for the response. Refusals are rendered by refusal
 * from rq->err_*, so that each family keeps its own error format (TAXII error resources, plain
 * text under /log/).
 */
struct tq__http_route {
    const char *path;
    enum tq__http_match match;
    unsigned methods;           /* TQ_HTTP_* bits; 0: resolve checks the method */
    const char *allow;          /* Allow of the 405 */
    const char *method_refusal; /* text of the 405 */
    enum tq__http_auth auth;
    const char *auth_refusal; /* text of the 403 for a principal of the wrong kind */
    size_t max_body_bytes;    /* 0: the server's max_content_length */
    const char *too_big;      /* text of the 413 */
    void (*resolve)(struct tq__http_req *rq);
    void (*headers)(struct tq__http_req *rq);
    void (*complete)(struct tq__http_req *rq, struct tq__http_resp *resp);
    void (*refusal)(struct tq__http_req *rq, struct tq__http_resp *resp);
};

/* Refuse the request with status and text (the route's refusal callback renders it). */
void tq__http_req_fail(struct tq__http_req *rq, int status, const char *desc);
/*
 * Ask for the body: refused with 413 (the route's text) when Content-Length announces more
 * than the route's limit; otherwise the upload calls collect it into rq->body.
 */
void tq__http_req_want_body(struct tq__http_req *rq);
/* A request header's value (not NUL-terminated at *len); NULL when absent. */
const char *tq__http_req_header(const struct tq__http_req *rq, const char *name, size_t *len);
/* The route's body limit: max_body_bytes, or the server's max_content_length. */
size_t tq__http_req_body_max(const struct tq__http_req *rq);

/* The routes of each family, in table order; each file defines its own. */
extern const struct tq__http_route tq__http_route_taxii; /* "/": the fallback, last */
extern const struct tq__http_route tq__http_route_log_openings;
extern const struct tq__http_route tq__http_route_log_add;
extern const struct tq__http_route tq__http_route_log;
extern const struct tq__http_route tq__http_route_events;
extern const struct tq__http_route tq__http_route_json; /* the node's JSON API (json_api.c) */
extern const struct tq__http_route tq__http_route_psi;  /* private set intersection (psi.c) */
/* The list named by a /psi/v1/request query ("list=NAME", nothing else); false when malformed. */
bool tq__http_psi_list(struct tq_str query, char out[65]);
/* Whether a /json/ query string parses (percent-decoding, known names, flags); *why when not. */
bool tq__http_json_query_check(struct tq_str query, const char **why);
/*
 * The dashboard's routes under /json/ (json_dash.c): incidents/summary, objects/ID[/proof],
 * partners, alarms, alarms/ID/ack. Answers the request and returns true when the path is one
 * of them (a partner gets 403); false leaves it to json_api.c.
 */
bool tq__http_dash_complete(struct tq__http_req *rq, struct tq__http_resp *resp);
/* Whether a query string parses for the dashboard route at path (after "/json/"); *why. */
bool tq__http_dash_query_check(const char *path, struct tq_str query, const char **why);
/* Name screening (screen_api.c): GET /json/screen and POST /json/screen/batch, before /json/. */
extern const struct tq__http_route tq__http_route_screen;
extern const struct tq__http_route tq__http_route_screen_batch;
/* Whether a screening query string parses (batch: the batch's parameters); *why when not. */
bool tq__http_screen_query_check(struct tq_str query, bool batch, const char **why);
/* The dashboard (web_route.c): the page at / and /index.html, its assets under /assets/. */
extern const struct tq__http_route tq__http_route_web_root;
extern const struct tq__http_route tq__http_route_web_index;
extern const struct tq__http_route tq__http_route_web_assets;
/* Its sessions and configuration (session_api.c), before /json/. */
extern const struct tq__http_route tq__http_route_session;
extern const struct tq__http_route tq__http_route_config;
/*
 * The principal of a dashboard session cookie: when the request carries a tq_session cookie,
 * TQ_OK with rq->who a user, rq->by_cookie and rq->csrf set, or TQ_EAUTH (expired, unknown);
 * TQ_ENOTFOUND when it carries none. Other codes: store failures.
 */
tq_rc tq__http_session_principal(struct tq__http_req *rq, struct tq_err *err);
/* The client's address as a short text (hex of its 16-byte form), for the login throttle. */
void tq__http_client_addr(const struct tq__http_req *rq, char out[33]);

/* ---- the server ------------------------------------------------------------------------- */

#define TQ_HTTP_ROUTES_MAX 16
#define TQ_HTTP_HOST_MAX 255

struct tq__http_events;
struct tq_screening;

struct tq_server {
    struct MHD_Daemon *daemon;
    struct tq_taxii_ctx taxii;
    struct tq_audit_log *audit;              /* borrowed; NULL: no /log/ */
    const struct tq_note_signer *log_signer; /* borrowed */
    const struct tq_note_signer *witness;    /* borrowed; NULL: no /log/add-checkpoint */
    struct tq__access_verifier *auth;
    char *title;
    char *api_root;
    char default_host[TQ_HTTP_HOST_MAX + 16]; /* listen address and port, for a missing Host */
    uint16_t port;
    bool tls;
    struct tq_buf cert_pem;
    struct tq_buf key_pem;
    _Atomic int64_t last_purge_us;
    struct tq__http_gov *gov;       /* connection admission, deadlines and shedding */
    struct tq__http_events *events; /* the event streams */
    struct tq_monitor *monitor;     /* borrowed; NULL: no /json/, no alerts on /events/ */
    struct tq_screening *screening; /* owned: the watchlists' indexes for /json/screen */
    struct tq_server_psi psi;       /* borrowed callbacks; request NULL: /psi/ answers 404 */
    bool raw_framing;         /* the library lays the header block out as framing_error expects */
    char *tile_url;           /* the map's tile URL template, "" when none */
    char csp[TQ_WEB_CSP_MAX]; /* Content-Security-Policy of the dashboard */
    struct tq_web_limits web_limits;       /* session timeouts */
    struct tq_web_throttle *throttle;      /* failed logins, this process */
    _Atomic int64_t last_session_sweep_us; /* expired sessions deleted at most once a minute */
    const struct tq__http_route *routes[TQ_HTTP_ROUTES_MAX];
    size_t n_routes;
};

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

#define TQ_HTTP_OPENINGS_PAGE 1000
/* Parse the query of /log/openings ("" or "?from=N&..."): false when from is malformed. */
bool tq__http_openings_from(const char *query, uint64_t *from);

/* ---- event streams (events.c) ----------------------------------------------------------- */

#define TQ_HTTP_HEARTBEAT_S_DEFAULT 15

/* The streams' hub and its ticker thread; heartbeat_s between two heartbeats. */
struct tq__http_events *tq__http_events_new(unsigned heartbeat_s);
tq_rc tq__http_events_start(struct tq__http_events *ev, struct tq_err *err);
/* Carry the alerts of monitor (may be NULL: heartbeats only), read from store. */
tq_rc tq__http_events_attach(struct tq__http_events *ev, struct tq_store *store,
                             struct tq_monitor *monitor, struct tq_err *err);
/*
 * End every stream: wake the suspended ones, which then finish, and refuse new ones. Called
 * before the daemon stops, which may not stop with suspended connections.
 */
void tq__http_events_close(struct tq__http_events *ev);
void tq__http_events_free(struct tq__http_events *ev);

#endif
