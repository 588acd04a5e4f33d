/* SPDX-License-Identifier: Apache-2.0
 *
 * http/server.c - the TAXII 2.1 server on libmicrohttpd: TLS, limits, authentication and
 * routing; the resources themselves are in src/taxii.
 *
 * One request goes through three access-handler calls at most. The first only records the
 * request and runs the checks that need no body (route, method, Accept, credentials,
 * Content-Type, Content-Length, collection access); answering already there makes
 * libmicrohttpd close keep-alive connections, so the answer waits for the next call. Upload
 * calls append the body to a buffer capped at max_content_length, or discard it when the
 * request already failed. The final call answers. Per-request state is created in the URI
 * log callback (which also gives the raw request target, query string included) and freed in
 * the completion callback. docs/internals/http.md explains the daemon options.
 *
 * A request's principal is a user (Authorization header: Basic or Bearer) or, when the request
 * carries no Authorization header, a partner node known by the TLS client certificate it
 * presented (http/peer.c pins it by SHA-256). The server asks every TLS client for a
 * certificate but requires none; a request with neither is answered 401.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <malloc.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <sodium.h>

#include "http/http.h"
#include "tansiq/server.h"
#include "tansiq/witness.h"
#include "taxii/taxii.h"

#define DEFAULT_MAX_CONTENT (10u << 20)
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_PER_IP 256
#define CONN_MEMORY_LIMIT (64u << 10) /* per connection: request line, headers, read buffer */
#define AUTH_CACHE_SLOTS 4096
#define AUTH_CACHE_TTL_US (60 * (int64_t)1000000)
#define PURGE_EVERY_US (600 * (int64_t)1000000)
#define HOST_MAX 255

struct tq_server {
    struct MHD_Daemon *daemon;
    struct tq_taxii_ctx taxii;
    struct tq_audit_log *audit;              /* borrowed; NULL: no /log/ */
    const struct tq_note_signer *log_signer; /* borrowed */
    const struct tq_note_signer *witness;    /* borrowed; NULL: no /log/add-checkpoint */
    struct tq__auth *auth;
    char *title;
    char *api_root;
    char default_host[HOST_MAX + 16]; /* listen address and port, for a missing Host */
    uint16_t port;
    bool tls;
    struct tq_buf cert_pem;
    struct tq_buf key_pem;
    _Atomic int64_t last_purge_us;
};

/* Per-request state, from the URI log callback to the completion callback. */
struct req {
    struct tq_server *srv;
    char *target;          /* raw request target: path and query */
    bool started;          /* the first access-handler call has happened */
    const char *log_path;  /* a /log/ request: the path after "/log/" (in target) */
    bool log_add;          /* ... that is POST /log/add-checkpoint */
    bool log_openings;     /* ... that is GET /log/openings by an authenticated partner */
    const char *log_allow; /* the Allow header of a 405 under /log/ */
    enum tq_taxii_method method;
    struct tq_taxii_path path;
    struct tq_str query;
    char user[TQ_AUTH_USER_MAX]; /* the principal: a user, */
    char partner[TQ_NAME_MAX];   /* or a partner node (exactly one is non-empty) */
    int64_t received_us;

    /* an answer decided before the body was read */
    int err_status;
    char err_desc[256];
    bool err_auth;  /* add WWW-Authenticate */
    bool err_allow; /* add Allow */

    bool want_body; /* POST to objects that passed the checks */
    uint64_t body_seen;
    uint64_t drain_max; /* bytes of a refused body we read before giving up on the connection */
    struct tq_buf body;
};

/* ---- logging ---------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    tq_log(TQ_LOG_WARN, "http: mhd=\"%s\"", line);
}

/* ---- request state ---------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct req *rq = tq_xcalloc(1, sizeof(*rq));

    (void)conn;
    rq->srv = cls;
    rq->target = tq_xstrdup(uri ? uri : "");
    rq->received_us = tq_time_now_us();
    tq_buf_init(&rq->body, rq->srv->taxii.max_content_length);
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;

    (void)cls;
    (void)conn;
    if (!rq)
        return;
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        tq_log(TQ_LOG_DEBUG, "http: request timed out");
    tq_buf_cleanup(&rq->body);
    tq_free(rq->target);
    tq_free(rq);
    *con_cls = NULL;
}

/* Per-connection state: what the client certificate resolved to (struct tq__peer). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = tq_xcalloc(1, sizeof(struct tq__peer));
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        tq_free(*socket_context);
        *socket_context = NULL;
    }
}

/* ---- helpers ---------------------------------------------------------------------------- */

static const char *header(struct MHD_Connection *conn, const char *name, size_t *len)
{
    const char *v = NULL;

    *len = 0;
    if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, name, strlen(name), &v, len) !=
        MHD_YES)
        return NULL;
    return v;
}

static void fail(struct req *rq, int status, const char *desc)
{
    size_t n = strnlen(desc, sizeof(rq->err_desc) - 1);

    rq->err_status = status;
    memcpy(rq->err_desc, desc, n);
    rq->err_desc[n] = '\0';
    rq->want_body = false;
}

static enum tq_taxii_method parse_method(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return TQ_METHOD_GET;
    if (strcmp(m, "HEAD") == 0)
        return TQ_METHOD_HEAD;
    if (strcmp(m, "POST") == 0)
        return TQ_METHOD_POST;
    if (strcmp(m, "DELETE") == 0)
        return TQ_METHOD_DELETE;
    return TQ_METHOD_OTHER;
}

/* Decimal Content-Length; false when absent or malformed. Saturates instead of wrapping. */
static bool content_length(struct MHD_Connection *conn, uint64_t *out)
{
    size_t len, i;
    const char *v = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH, &len);
    uint64_t n = 0;

    if (!v || len == 0)
        return false;
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + (uint64_t)(v[i] - '0');
    }
    *out = n;
    return true;
}

static bool expects_continue(struct MHD_Connection *conn)
{
    size_t len;
    const char *v = header(conn, MHD_HTTP_HEADER_EXPECT, &len);

    return v && len == 12 && strncasecmp(v, "100-continue", 12) == 0;
}

/* Only host names, IPv4 and bracketed IPv6 literals with a port are reflected. */
static bool host_ok(const char *h, size_t len)
{
    size_t i;

    if (len == 0 || len > HOST_MAX)
        return false;
    for (i = 0; i < len; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return false;
    }
    return true;
}

static void base_url(const struct tq_server *srv, struct MHD_Connection *conn, char *out,
                     size_t out_size)
{
    size_t len;
    const char *h = header(conn, MHD_HTTP_HEADER_HOST, &len);
    const char *scheme = srv->tls ? "https://" : "http://";
    size_t sl = strlen(scheme);

    if (!h || !host_ok(h, len)) {
        h = srv->default_host;
        len = strlen(h);
    }
    if (sl + len + 1 > out_size)
        len = out_size - sl - 1;
    memcpy(out, scheme, sl);
    memcpy(out + sl, h, len);
    out[sl + len] = '\0';
}

static void maybe_purge(struct tq_server *srv)
{
    int64_t now = tq_time_now_us();
    int64_t last = atomic_load(&srv->last_purge_us);

    if (now - last < PURGE_EVERY_US)
        return;
    if (atomic_compare_exchange_strong(&srv->last_purge_us, &last, now))
        tq__taxii_status_purge(&srv->taxii, now);
}

/* ---- responses -------------------------------------------------------------------------- */

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct tq_taxii_resp *resp,
                                 bool www_auth)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = 0;
    char *body = tq_buf_take(&resp->body, &len);

    if (body)
        r = MHD_create_response_from_buffer_with_free_callback(len, body, tq_free);
    else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        tq_free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, TQ_TAXII_MEDIA);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp->has_dates) {
        MHD_add_response_header(r, "X-TAXII-Date-Added-First", resp->date_first);
        MHD_add_response_header(r, "X-TAXII-Date-Added-Last", resp->date_last);
    }
    if (resp->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (www_auth)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"tansiq\", Bearer realm=\"tansiq\"");
    ret = MHD_queue_response(conn, (unsigned int)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *principal_kind(const struct req *rq)
{
    return rq->partner[0] ? "partner" : "user";
}

static const char *principal_name(const struct req *rq)
{
    if (rq->partner[0])
        return rq->partner;
    return rq->user[0] ? rq->user : "-";
}

static enum MHD_Result send_error(struct MHD_Connection *conn, struct req *rq)
{
    struct tq_taxii_resp resp;
    enum MHD_Result ret;

    if (rq->log_path)
        return (enum MHD_Result)tq__http_log_text(conn, (unsigned)rq->err_status, rq->err_desc,
                                                  rq->log_allow);
    tq__taxii_resp_init(&resp);
    tq__taxii_error(&resp, rq->err_status, NULL, rq->err_desc);
    if (rq->err_allow)
        resp.allow = tq__taxii_route_allow(rq->path.route);
    tq_log(TQ_LOG_DEBUG, "http: route=%d status=%d %s=%s", (int)rq->path.route, rq->err_status,
           principal_kind(rq), principal_name(rq));
    ret = send_resp(conn, &resp, rq->err_auth);
    tq__taxii_resp_cleanup(&resp);
    return ret;
}

/* ---- authentication --------------------------------------------------------------------- */

/*
 * The client certificate of a TLS connection: its leaf DER, borrowed from the session. False
 * when the client presented none. GnuTLS completed the handshake only if the client signed it
 * with the key of this certificate (CertificateVerify): that is the proof of possession this
 * server relies on; the certificate itself is then checked against the partners' pins.
 */
static bool client_cert(struct MHD_Connection *conn, gnutls_datum_t *der)
{
    const union MHD_ConnectionInfo *ci;
    const gnutls_datum_t *peers;
    gnutls_session_t session;
    unsigned n = 0;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    session = (gnutls_session_t)ci->tls_session;
    if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
        return false;
    peers = gnutls_certificate_get_peers(session, &n);
    if (!peers || n == 0 || !peers[0].data || peers[0].size == 0)
        return false;
    *der = peers[0];
    return true;
}

/*
 * Find the request's principal: the user of the Authorization header when there is one
 * (credentials win), else the partner whose pinned certificate the client presented, else
 * nobody (TQ_EAUTH). Fills rq->user or rq->partner on TQ_OK.
 */
static tq_rc authenticate(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq,
                          struct tq_err *err)
{
    const union MHD_ConnectionInfo *ci;
    struct tq__auth_cred cred;
    gnutls_datum_t der = {NULL, 0};
    bool has_cert = false;
    const char *v;
    size_t len;
    tq_rc rc;

    v = header(conn, MHD_HTTP_HEADER_AUTHORIZATION, &len);
    if (srv->tls && !v)
        has_cert = client_cert(conn, &der);
    switch (tq__http_principal_source(v != NULL, has_cert)) {
    case TQ_PRINCIPAL_FROM_CERT:
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (!ci || !ci->socket_context)
            return tq_err_set(err, TQ_EAUTH, "the client certificate is not a partner's");
        return tq__http_peer_resolve(ci->socket_context, srv->taxii.store, der.data, der.size,
                                     tq_time_now_us() / 1000000, tq_time_mono_us(), rq->partner,
                                     err);
    case TQ_PRINCIPAL_FROM_CREDENTIALS:
    case TQ_PRINCIPAL_FROM_NONE:
    default:
        rc = tq__http_auth_parse(v, len, &cred, err);
        if (rc == TQ_OK)
            rc = tq__auth_verify(srv->auth, srv->taxii.store, &cred, rq->user, err);
        tq__auth_cred_wipe(&cred);
        return rc;
    }
}

/* ---- the three phases ------------------------------------------------------------------- */

/*
 * GET /log/openings: the one resource under /log/ that is not public. It hands a partner node
 * the openings of the leaves naming it, so only a request authenticated by a partner's pinned
 * client certificate gets it; users, whatever their credentials, and anonymous callers get 403.
 */
static void check_openings(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq)
{
    struct tq_err err = {0};
    tq_rc rc;

    if (rq->method != TQ_METHOD_GET && rq->method != TQ_METHOD_HEAD) {
        fail(rq, 405, "the log is read-only");
        rq->log_allow = "GET, HEAD";
        return;
    }
    rc = authenticate(srv, conn, rq, &err);
    if (rc == TQ_OK && rq->partner[0]) {
        rq->log_openings = true;
        return;
    }
    rq->user[0] = '\0';
    rq->partner[0] = '\0';
    if (rc && rc != TQ_EAUTH) {
        tq_log(TQ_LOG_ERROR, "http: authentication failed rc=%s detail=%s", tq_rc_name(rc),
               err.msg);
        fail(rq, tq_rc_http_status(rc), tq_rc_str(rc));
        return;
    }
    fail(rq, 403,
         "openings are given only to a partner node, authenticated by its pinned client "
         "certificate");
}

/* Everything that can be decided from the request line and headers alone. */
static void check_headers(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq,
                          const char *method)
{
    struct tq_err err = {0};
    const char *v, *q;
    size_t len;
    uint64_t cl;
    tq_rc rc;

    rq->method = parse_method(method);
    /*
     * The audit log is public (tlog-tiles): no authentication, no TAXII content negotiation.
     * add-checkpoint (tlog-witness) is the one POST: its body is read like a TAXII POST's,
     * capped at TQ_WITNESS_BODY_MAX, and judged on the final call.
     */
    if (srv->audit && strncmp(rq->target, "/log/", 5) == 0) {
        rq->log_path = rq->target + 5;
        if (strncmp(rq->log_path, "openings", 8) == 0 &&
            (rq->log_path[8] == '\0' || rq->log_path[8] == '?')) {
            check_openings(srv, conn, rq);
            return;
        }
        if (strcmp(rq->log_path, "add-checkpoint") != 0) {
            if (rq->method != TQ_METHOD_GET && rq->method != TQ_METHOD_HEAD) {
                fail(rq, 405, "the log is read-only");
                rq->log_allow = "GET, HEAD";
            }
            return;
        }
        if (rq->method != TQ_METHOD_POST) {
            fail(rq, 405, "add-checkpoint takes POST only");
            rq->log_allow = "POST";
            return;
        }
        if (!srv->witness) {
            fail(rq, 404, "this node witnesses no log");
            return;
        }
        if (content_length(conn, &cl) && cl > TQ_WITNESS_BODY_MAX) {
            fail(rq, 413, "the request body exceeds the add-checkpoint limit");
            return;
        }
        tq_buf_cleanup(&rq->body);
        tq_buf_init(&rq->body, TQ_WITNESS_BODY_MAX);
        rq->log_add = true;
        rq->want_body = true;
        return;
    }
    q = strchr(rq->target, '?');
    if (q) {
        rq->query = (struct tq_str){q + 1, strlen(q + 1)};
    } else {
        rq->query = (struct tq_str){rq->target + strlen(rq->target), 0};
    }
    if (!tq__taxii_route(
            (struct tq_str){rq->target, q ? (size_t)(q - rq->target) : strlen(rq->target)},
            srv->api_root, &rq->path)) {
        fail(rq, 404, "no such resource");
        return;
    }
    if (!(tq__taxii_route_methods(rq->path.route) & (unsigned)rq->method)) {
        fail(rq, 405, "method not allowed on this resource");
        rq->err_allow = true;
        return;
    }
    v = header(conn, MHD_HTTP_HEADER_ACCEPT, &len);
    if (!tq__http_accept_ok(v, len)) {
        fail(rq, 406, "the Accept header must admit " TQ_TAXII_MEDIA);
        return;
    }

    rc = authenticate(srv, conn, rq, &err);
    if (rc == TQ_EAUTH) {
        rq->user[0] = '\0';
        rq->partner[0] = '\0';
        fail(rq, 401, err.msg);
        rq->err_auth = true;
        return;
    }
    if (rc) {
        rq->user[0] = '\0';
        rq->partner[0] = '\0';
        tq_log(TQ_LOG_ERROR, "http: authentication failed rc=%s detail=%s", tq_rc_name(rc),
               err.msg);
        fail(rq, tq_rc_http_status(rc), tq_rc_str(rc));
        return;
    }

    if (rq->method == TQ_METHOD_POST) {
        struct tq_collection c;
        bool r, w;

        v = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE, &len);
        if (!tq__http_content_type_ok(v, len)) {
            fail(rq, 415, "the Content-Type must be " TQ_TAXII_MEDIA);
            return;
        }
        if (content_length(conn, &cl) && cl > srv->taxii.max_content_length) {
            fail(rq, 413, "the request body exceeds max_content_length");
            return;
        }
        rc = tq__taxii_collection_access(&srv->taxii, rq->partner[0] ? NULL : rq->user,
                                         rq->partner[0] ? rq->partner : NULL, rq->path.seg1,
                                         TQ_NEED_WRITE, &c, &r, &w, &err);
        if (rc) {
            fail(rq, tq_rc_http_status(rc), tq_rc_http_status(rc) >= 500 ? tq_rc_str(rc) : err.msg);
            return;
        }
        tq_collection_cleanup(&c);
        rq->want_body = true;
    }
}

static enum MHD_Result serve(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq)
{
    struct tq_taxii_req treq;
    struct tq_taxii_resp resp;
    char base[HOST_MAX + 16];
    enum MHD_Result ret;

    memset(&treq, 0, sizeof(treq));
    base_url(srv, conn, base, sizeof(base));
    treq.method = rq->method == TQ_METHOD_HEAD ? TQ_METHOD_GET : rq->method;
    treq.path = rq->path;
    treq.user = rq->partner[0] ? NULL : rq->user;
    treq.partner = rq->partner[0] ? rq->partner : NULL;
    treq.base_url = base;
    treq.query = rq->query;
    treq.body = (struct tq_str){rq->body.ptr ? rq->body.ptr : "", rq->body.len};
    treq.received_us = rq->received_us;
    if (rq->method == TQ_METHOD_POST)
        maybe_purge(srv);

    tq__taxii_resp_init(&resp);
    tq__taxii_handle(&srv->taxii, &treq, &resp);
    tq_log(TQ_LOG_DEBUG, "http: route=%d status=%d %s=%s bytes=%zu", (int)rq->path.route,
           resp.status, principal_kind(rq), principal_name(rq), resp.body.len);
    ret = send_resp(conn, &resp, false);
    tq__taxii_resp_cleanup(&resp);
    return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct tq_server *srv = cls;
    struct req *rq = *con_cls;
    uint64_t cl = 0;

    (void)version;
    if (!rq) {
        rq = on_uri(srv, url, conn);
        *con_cls = rq;
    }
    if (!rq->started) {
        rq->started = true;
        rq->drain_max = 2 * (uint64_t)srv->taxii.max_content_length + (64u << 10);
        check_headers(srv, conn, rq, method);
        /* A refused request with a body: answer now when the client waits for
         * "100 Continue" (it will not send the body) or announced more than we are willing
         * to drain; otherwise read and drop the body first, so that the client, still
         * writing, is not reset before it reads the answer. */
        if (rq->err_status &&
            (expects_continue(conn) || (content_length(conn, &cl) && cl > rq->drain_max)))
            return send_error(conn, rq);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        rq->body_seen += n;
        if (rq->err_status == 0) {
            if (rq->want_body) {
                if (tq_buf_append(&rq->body, upload_data, n) != TQ_OK) {
                    tq_buf_cleanup(&rq->body);
                    tq_buf_init(&rq->body, 0);
                    fail(rq, 413,
                         rq->log_add ? "the request body exceeds the add-checkpoint limit"
                                     : "the request body exceeds max_content_length");
                }
            } else if (rq->body_seen > srv->taxii.max_content_length) {
                fail(rq, 413, "the request body exceeds max_content_length");
            }
        }
        if (rq->err_status && rq->body_seen > rq->drain_max)
            return send_error(conn, rq);
        return MHD_YES;
    }
    if (rq->err_status)
        return send_error(conn, rq);
    if (rq->log_add)
        return (enum MHD_Result)tq__http_log_add_checkpoint(
            conn, srv->taxii.store, srv->witness,
            (struct tq_str){rq->body.ptr ? rq->body.ptr : "", rq->body.len});
    if (rq->log_openings)
        return (enum MHD_Result)tq__http_log_openings(conn, srv->taxii.store, srv->audit,
                                                      rq->partner, rq->log_path + 8);
    if (rq->log_path)
        return (enum MHD_Result)tq__http_log_serve(conn, srv->audit, srv->log_signer, rq->log_path);
    return serve(srv, conn, rq);
}

/* ---- start and stop --------------------------------------------------------------------- */

static bool segment_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 64 || strcmp(s, "taxii2") == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    n *= 2;
    if (n < 2)
        n = 2;
    if (n > 64)
        n = 64;
    return (unsigned)n;
}

tq_rc tq_server_start(struct tq_store *store, const struct tq_server_config *cfg,
                      struct tq_server **out, struct tq_err *err)
{
    struct tq_server *srv = NULL;
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    const char *addr = cfg->listen_addr ? cfg->listen_addr : "127.0.0.1";
    const char *api_root = cfg->api_root ? cfg->api_root : "api";
    bool v6 = false, loopback;
    unsigned flags, threads, ncpu;
    const union MHD_DaemonInfo *info;
    struct MHD_OptionItem tls_ops[5];
    tq_rc rc;

    tq__http_sodium_init();
    /*
     * A page of objects is a few hundred KiB. Above glibc's mmap threshold every response body
     * would be a fresh mmap, first-touch page faults and a munmap (16% of HTTPS time in a
     * profile of GET objects?limit=100); keep such buffers in the heap instead, and do not hand
     * freed memory back to the kernel on every request.
     */
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->port);
        loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        v6 = true;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->port);
        loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    } else {
        return tq_err_set(err, TQ_ECONFIG, "listen address '%.64s' is not a numeric address", addr);
    }
    if (cfg->plain_http && !loopback)
        return tq_err_set(err, TQ_ECONFIG,
                          "plain HTTP is refused on %.64s: it is allowed on loopback only", addr);
    if (!cfg->plain_http && (!cfg->cert_pem_path || !cfg->key_pem_path))
        return tq_err_set(err, TQ_ECONFIG, "TLS needs a certificate and a key");
    if (!segment_ok(api_root))
        return tq_err_set(err, TQ_ECONFIG, "api root '%.64s' is not a plain path segment",
                          api_root);

    srv = tq_xcalloc(1, sizeof(*srv));
    tq_buf_init(&srv->cert_pem, 1u << 20);
    tq_buf_init(&srv->key_pem, 1u << 20);
    srv->tls = !cfg->plain_http;
    srv->title = tq_xstrdup(cfg->title ? cfg->title : "tansiq");
    srv->api_root = tq_xstrdup(api_root);
    srv->taxii.store = store;
    srv->taxii.audit = cfg->audit;
    srv->audit = cfg->log_signer ? cfg->audit : NULL;
    srv->log_signer = cfg->log_signer;
    srv->witness = cfg->witness_signer;
    srv->taxii.title = srv->title;
    srv->taxii.api_root = srv->api_root;
    srv->taxii.max_content_length =
        cfg->max_content_length ? cfg->max_content_length : DEFAULT_MAX_CONTENT;
    srv->taxii.status_retention_us =
        (int64_t)(cfg->status_retention_h > 24 ? cfg->status_retention_h : 24) * 3600 * 1000000;
    rc = tq__taxii_cursor_key_load(store, srv->taxii.cursor_key, err);
    if (rc)
        goto fail;
    if (srv->tls) {
        rc = tq_file_read(cfg->cert_pem_path, 1u << 20, &srv->cert_pem, err);
        if (rc)
            goto fail;
        rc = tq_file_read(cfg->key_pem_path, 1u << 20, &srv->key_pem, err);
        if (rc)
            goto fail;
    }
    ncpu = default_threads() / 2;
    srv->auth = tq__auth_new(AUTH_CACHE_SLOTS, AUTH_CACHE_TTL_US, ncpu);
    threads = cfg->threads ? cfg->threads : default_threads();

    memset(tls_ops, 0, sizeof(tls_ops));
    if (srv->tls) {
        tls_ops[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem.ptr};
        tls_ops[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem.ptr};
        tls_ops[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                             (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:"
                                                     "+VERS-TLS1.2"};
        /* A trust list makes libmicrohttpd ask every client for a certificate
         * (GNUTLS_CERT_REQUEST: asked, not required, so analysts without one still connect).
         * It holds only our own certificate: partners are pinned by fingerprint, not trusted
         * as issuers. */
        tls_ops[3] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->cert_pem.ptr};
        tls_ops[4] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    } else {
        tls_ops[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }

    /* Writing to a socket the peer closed must fail with EPIPE, not end the process; the TLS
     * path does not always pass MSG_NOSIGNAL. An application that set its own handler keeps
     * it. */
    {
        struct sigaction sa;
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = SIG_IGN;
            sigaction(SIGPIPE, &sa, NULL);
        }
    }

    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (srv->tls)
        flags |= MHD_USE_TLS;
    srv->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)(cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNS),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)(cfg->max_connections_per_ip ? cfg->max_connections_per_ip : DEFAULT_PER_IP),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)(cfg->conn_timeout_s ? cfg->conn_timeout_s : DEFAULT_TIMEOUT_S),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
        srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, srv, MHD_OPTION_ARRAY, tls_ops, MHD_OPTION_END);
    if (!srv->daemon) {
        rc = tq_err_set(err, srv->tls ? TQ_ETLS : TQ_EIO,
                        "cannot serve on %.64s port %u (address in use, or bad certificate/key)",
                        addr, (unsigned)cfg->port);
        goto fail;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->port;
    if (v6)
        snprintf(srv->default_host, sizeof(srv->default_host), "[%s]:%u", addr,
                 (unsigned)srv->port);
    else
        snprintf(srv->default_host, sizeof(srv->default_host), "%s:%u", addr, (unsigned)srv->port);
    atomic_store(&srv->last_purge_us, tq_time_now_us());
    tq__taxii_status_purge(&srv->taxii, tq_time_now_us());
    tq_log(TQ_LOG_INFO, "http: listening addr=%s port=%u tls=%s threads=%u", addr,
           (unsigned)srv->port, srv->tls ? "yes" : "no", threads);
    *out = srv;
    return TQ_OK;
fail:
    tq_server_stop(srv);
    return rc;
}

uint16_t tq_server_port(const struct tq_server *srv)
{
    return srv ? srv->port : 0;
}

void tq_server_stop(struct tq_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    tq__auth_free(srv->auth);
    if (srv->key_pem.ptr)
        sodium_memzero(srv->key_pem.ptr, srv->key_pem.len);
    tq_buf_cleanup(&srv->key_pem);
    tq_buf_cleanup(&srv->cert_pem);
    sodium_memzero(srv->taxii.cursor_key, sizeof(srv->taxii.cursor_key));
    tq_free(srv->title);
    tq_free(srv->api_root);
    tq_free(srv);
}
