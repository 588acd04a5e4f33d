/* SPDX-License-Identifier: Apache-2.0
 *
 * http/server.c - the server core on libmicrohttpd: start and stop, per-request state,
 * authentication and the dispatch of each request to its route.
 *
 * One request goes through three access-handler calls at most. The first runs what needs no
 * body: framing checks, the route (matched in table order), its method, its resolve callback,
 * authentication by the route's auth kind, and its headers callback; answering already there
 * makes libmicrohttpd close keep-alive connections, so the answer waits for the next call.
 * Upload calls append the body to a buffer capped at the route's limit, or discard it when the
 * request already failed. The final call asks the route for its response (a body or a stream).
 * Per-request state is created in the URI log callback (which also gives the raw request
 * target, query string included) and freed in the completion callback. Connection admission,
 * deadlines and shedding are in conn.c, the routes in taxii_route.c, log.c and events.c;
 * docs/internals/http.md explains the daemon options and where a new endpoint goes.
 *
 * A request's principal is a user (Authorization header: Basic or Bearer) or, when the request
 * carries no Authorization header, a partner node known by the TLS client certificate it
 * presented (http/peer.c pins it by SHA-256). The server asks every TLS client for a
 * certificate but requires none.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <sodium.h>

#include "http/http.h"
#include "tansiq/server.h"
#include "tansiq/screening.h"
#include "tansiq/witness.h"

#define DEFAULT_MAX_CONTENT (10u << 20)
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_PER_IP 256
#define CONN_MEMORY_LIMIT (64u << 10) /* per connection: request line, headers, read buffer */
#define AUTH_CACHE_SLOTS 4096
#define AUTH_CACHE_TTL_US (60 * (int64_t)1000000)

/* ---- request state ---------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct tq__http_req *rq = tq_xcalloc(1, sizeof(*rq));

    rq->srv = cls;
    rq->conn = conn;
    rq->target = tq_xstrdup(uri ? uri : "");
    rq->received_us = tq_time_now_us();
    tq_buf_init(&rq->body, rq->srv->taxii.max_content_length);
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct tq__http_req *rq = *con_cls;
    struct tq_server *srv = cls;
    struct tq__http_conn *c = tq__http_conn_of(conn);

    if (c)
        tq__http_gov_conn_set(srv->gov, c, false,
                              rq && rq->started && rq->err_status == 0 &&
                                  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    if (!rq)
        return;
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        tq_log(TQ_LOG_DEBUG, "http: request timed out");
    tq_buf_cleanup(&rq->body);
    tq_free(rq->data);
    tq_free(rq->target);
    tq_free(rq);
    *con_cls = NULL;
}

/* Per-connection state: struct tq__http_conn (its place in the admission list, and what the
 * client certificate resolved to). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct tq_server *srv = cls;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct tq__http_conn *c = tq_xcalloc(1, sizeof(*c));
        tq__http_gov_conn_started(srv->gov, conn, c, srv->tls);
        *socket_context = c;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        tq__http_gov_conn_closed(srv->gov, *socket_context);
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

/* The request announces a body: a Content-Length above 0, or a Transfer-Encoding. */
static bool has_body(struct MHD_Connection *conn)
{
    uint64_t cl = 0;
    size_t len;

    if (header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING, &len))
        return true;
    return content_length(conn, &cl) && cl > 0;
}

void tq__http_req_fail(struct tq__http_req *rq, int status, const char *desc)
{
    size_t n = strnlen(desc, sizeof(rq->err_desc) - 1);

    rq->err_status = status;
    memcpy(rq->err_desc, desc, n);
    rq->err_desc[n] = '\0';
    rq->want_body = false;
}

const char *tq__http_req_header(const struct tq__http_req *rq, const char *name, size_t *len)
{
    return header(rq->conn, name, len);
}

size_t tq__http_req_body_max(const struct tq__http_req *rq)
{
    return rq->route && rq->route->max_body_bytes ? rq->route->max_body_bytes
                                                  : rq->srv->taxii.max_content_length;
}

void tq__http_req_want_body(struct tq__http_req *rq)
{
    size_t max = tq__http_req_body_max(rq);
    uint64_t cl;

    if (content_length(rq->conn, &cl) && cl > max) {
        tq__http_req_fail(rq, 413, rq->route->too_big);
        return;
    }
    if (max != rq->body.cap) {
        tq_buf_cleanup(&rq->body);
        tq_buf_init(&rq->body, max);
    }
    rq->want_body = true;
}

static unsigned parse_method(const char *m)
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

/* The paths where a session cookie authenticates: the dashboard's JSON API and event stream. */
static bool session_cookie_applies(const char *target)
{
    return strncmp(target, "/json/", 6) == 0 || strncmp(target, "/events/", 8) == 0;
}

/* A cookie-authenticated request that changes state must prove it comes from the page, which
 * alone can read the session's CSRF token (browsers send cookies with any site's requests). */
static bool csrf_ok(const struct tq__http_req *rq)
{
    size_t len, n = strlen(rq->csrf);
    const char *v;

    if (!rq->by_cookie || rq->method == TQ_METHOD_GET || rq->method == TQ_METHOD_HEAD)
        return true;
    v = header(rq->conn, "X-CSRF-Token", &len);
    return v && n > 0 && len == n && sodium_memcmp(v, rq->csrf, n) == 0;
}

/*
 * Find the request's principal: the user of the Authorization header when there is one
 * (credentials win), else on /json/ and /events/ the user of a dashboard session cookie, else
 * the partner whose pinned certificate the client presented, else
 * nobody (TQ_EAUTH). Fills rq->who on TQ_OK.
 */
static tq_rc authenticate(struct tq_server *srv, struct tq__http_req *rq, struct tq_err *err)
{
    struct tq__http_conn *c;
    struct tq__access_cred cred;
    gnutls_datum_t der = {NULL, 0};
    char name[TQ_AUTH_USER_MAX];
    bool has_cert = false;
    const char *v;
    size_t len;
    tq_rc rc;

    v = header(rq->conn, MHD_HTTP_HEADER_AUTHORIZATION, &len);
    /* A dashboard session cookie names a user on the dashboard's own API and event stream,
     * never on TAXII or /log/; an Authorization header wins over it. */
    if (!v && session_cookie_applies(rq->target)) {
        rc = tq__http_session_principal(rq, err);
        if (rc != TQ_ENOTFOUND)
            return rc;
    }
    if (srv->tls && !v)
        has_cert = client_cert(rq->conn, &der);
    switch (tq__http_principal_source(v != NULL, has_cert)) {
    case TQ_PRINCIPAL_FROM_CERT:
        c = tq__http_conn_of(rq->conn);
        if (!c)
            return tq_err_set(err, TQ_EAUTH, "the client certificate is not a partner's");
        rc = tq__http_peer_resolve(&c->peer, srv->taxii.store, der.data, der.size,
                                   tq_time_now_us() / 1000000, tq_time_mono_us(), name, err);
        if (rc == TQ_OK && !tq__principal_set(&rq->who, TQ_PRINCIPAL_PARTNER, name))
            rc = tq_err_set(err, TQ_EAUTH, "the client certificate is not a partner's");
        return rc;
    case TQ_PRINCIPAL_FROM_CREDENTIALS:
    case TQ_PRINCIPAL_FROM_NONE:
    default:
        rc = tq__http_auth_parse(v, len, &cred, err);
        if (rc == TQ_OK)
            rc = tq__access_verify(srv->auth, srv->taxii.store, &cred, name, err);
        if (rc == TQ_OK && !tq__principal_set(&rq->who, TQ_PRINCIPAL_USER, name))
            rc = tq_err_set(err, TQ_EAUTH, "invalid credentials");
        tq__access_cred_wipe(&cred);
        return rc;
    }
}

/*
 * Authenticate by the route's auth kind. A missing or wrong credential is 401 with
 * WWW-Authenticate, except on partner-only routes, where anyone but a partner gets 403 with
 * the route's text (a user, whatever its credentials, included); a principal of the wrong kind
 * is 403 as well. Store failures are logged and answered by the error table.
 */
static void admit_principal(struct tq_server *srv, struct tq__http_req *rq)
{
    const struct tq__http_route *rt = rq->route;
    struct tq_err err = {0};
    tq_rc rc;

    if (rt->auth == TQ_HTTP_AUTH_NONE)
        return;
    rc = authenticate(srv, rq, &err);
    if (rc && rc != TQ_EAUTH) {
        memset(&rq->who, 0, sizeof(rq->who));
        tq_log(TQ_LOG_ERROR, "http: authentication failed rc=%s detail=%s", tq_rc_name(rc),
               err.msg);
        tq__http_req_fail(rq, tq_rc_http_status(rc), tq_rc_str(rc));
        return;
    }
    if (rt->auth == TQ_HTTP_AUTH_PARTNER) {
        if (rc == TQ_OK && rq->who.kind == TQ_PRINCIPAL_PARTNER)
            return;
        memset(&rq->who, 0, sizeof(rq->who));
        tq__http_req_fail(rq, 403, rt->auth_refusal);
        return;
    }
    if (rc == TQ_EAUTH) {
        memset(&rq->who, 0, sizeof(rq->who));
        tq__http_req_fail(rq, 401, err.msg);
        rq->err_www_auth = true;
        return;
    }
    if (rt->auth == TQ_HTTP_AUTH_USER && rq->who.kind != TQ_PRINCIPAL_USER) {
        tq__http_req_fail(rq, 403, rt->auth_refusal);
        return;
    }
    if (!csrf_ok(rq))
        tq__http_req_fail(rq, 403, "missing or wrong X-CSRF-Token");
}

/* ---- dispatch --------------------------------------------------------------------------- */

static bool route_matches(const struct tq__http_route *rt, const char *target)
{
    size_t n = strlen(rt->path);

    if (strncmp(target, rt->path, n) != 0)
        return false;
    switch (rt->match) {
    case TQ_HTTP_MATCH_TARGET:
        return target[n] == '\0';
    case TQ_HTTP_MATCH_PATH:
        return target[n] == '\0' || target[n] == '?';
    case TQ_HTTP_MATCH_PREFIX:
    default:
        return true;
    }
}

/* The route of a target: the first in table order that matches; the last one takes "/". */
static const struct tq__http_route *route_find(const struct tq_server *srv, const char *target)
{
    size_t i;

    for (i = 0; i < srv->n_routes; i++) {
        if (route_matches(srv->routes[i], target))
            return srv->routes[i];
    }
    return srv->routes[srv->n_routes - 1];
}

/* Everything that can be decided from the request line and headers alone. */
static void admit(struct tq_server *srv, struct tq__http_req *rq, const char *method)
{
    const struct tq__http_route *rt = route_find(srv, rq->target);
    const char *q = strchr(rq->target, '?');

    rq->route = rt;
    rq->method = parse_method(method);
    rq->query = q ? (struct tq_str){q + 1, strlen(q + 1)}
                  : (struct tq_str){rq->target + strlen(rq->target), 0};
    if (rt->methods && !(rt->methods & rq->method)) {
        tq__http_req_fail(rq, 405, rt->method_refusal);
        rq->err_allow = rt->allow;
        return;
    }
    if (rt->resolve) {
        rt->resolve(rq);
        if (rq->err_status)
            return;
    }
    admit_principal(srv, rq);
    if (rq->err_status)
        return;
    if (rt->headers)
        rt->headers(rq);
}

static enum MHD_Result send_refusal(struct tq__http_req *rq)
{
    struct tq__http_resp resp;
    enum MHD_Result ret;

    tq__http_resp_init(&resp, (unsigned)rq->err_status, NULL);
    rq->route->refusal(rq, &resp);
    if (rq->err_allow)
        tq__http_resp_header(&resp, MHD_HTTP_HEADER_ALLOW, rq->err_allow);
    if (rq->err_www_auth)
        tq__http_resp_header(&resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                             "Basic realm=\"tansiq\", Bearer realm=\"tansiq\"");
    ret = tq__http_resp_queue(rq->conn, &resp);
    tq__http_resp_cleanup(&resp);
    return ret;
}

static enum MHD_Result send_answer(struct tq__http_req *rq)
{
    struct tq__http_resp resp;
    enum MHD_Result ret;

    tq__http_resp_init(&resp, 200, NULL);
    rq->route->complete(rq, &resp);
    ret = tq__http_resp_queue(rq->conn, &resp);
    tq__http_resp_cleanup(&resp);
    return ret;
}

/* The first access-handler call: framing, then admit; a refusal may be answered at once. */
static enum MHD_Result first_call(struct tq_server *srv, struct tq__http_req *rq,
                                  const char *method, const char *version)
{
    struct tq__http_conn *c = tq__http_conn_of(rq->conn);
    const char *bad;
    uint64_t cl = 0;

    rq->started = true;
    if (c)
        tq__http_gov_conn_set(srv->gov, c, true, false);
    /* Ambiguous framing is answered at once: the connection is closed after the answer,
     * since where this request ends, and the next begins, is unknown. */
    bad = tq__http_framing_error(rq->conn, method, version, srv->raw_framing);
    if (bad) {
        rq->route = srv->routes[srv->n_routes - 1];
        rq->method = parse_method(method);
        tq__http_req_fail(rq, 400, bad);
        return send_refusal(rq);
    }
    rq->drain_max = 2 * (uint64_t)srv->taxii.max_content_length + (64u << 10);
    admit(srv, rq, method);
    /* A refused request with a body: answer now when the client waits for
     * "100 Continue" (it will not send the body) or announced more than we are willing
     * to drain; otherwise read and drop the body first, so that the client, still
     * writing, is not reset before it reads the answer. */
    if (rq->err_status &&
        (expects_continue(rq->conn) || (content_length(rq->conn, &cl) && cl > rq->drain_max)))
        return send_refusal(rq);
    /* A refused request whose body is still to come: an unauthenticated client trickling
     * a body must not count as a request in progress, which is never shed. */
    if (rq->err_status && c && has_body(rq->conn))
        tq__http_gov_conn_set(srv->gov, c, false, false);
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct tq_server *srv = cls;
    struct tq__http_req *rq = *con_cls;

    if (!rq) {
        rq = on_uri(srv, url, conn);
        *con_cls = rq;
    }
    if (!rq->started)
        return first_call(srv, rq, method, version);
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        rq->body_seen += n;
        if (rq->err_status == 0) {
            if (rq->want_body) {
                if (tq_buf_append(&rq->body, upload_data, n) != TQ_OK) {
                    tq_buf_cleanup(&rq->body);
                    tq_buf_init(&rq->body, 0);
                    tq__http_req_fail(rq, 413, rq->route->too_big);
                }
            } else if (rq->body_seen > srv->taxii.max_content_length) {
                tq__http_req_fail(rq, 413, "the request body exceeds max_content_length");
            }
        }
        if (rq->err_status && rq->body_seen > rq->drain_max)
            return send_refusal(rq);
        return MHD_YES;
    }
    if (rq->err_status)
        return send_refusal(rq);
    return send_answer(rq);
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

/* The listen address as a socket address; false when it is not a numeric address. */
static bool listen_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss, bool *v6,
                            bool *loopback)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    *v6 = false;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
        return true;
    }
    if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        *v6 = true;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
        return true;
    }
    return false;
}

static void tls_options(struct tq_server *srv, struct MHD_OptionItem ops[5])
{
    memset(ops, 0, 5 * sizeof(ops[0]));
    if (!srv->tls) {
        ops[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        return;
    }
    ops[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem.ptr};
    ops[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem.ptr};
    ops[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                     (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:"
                                             "+VERS-TLS1.2"};
    /* A trust list makes libmicrohttpd ask every client for a certificate
     * (GNUTLS_CERT_REQUEST: asked, not required, so analysts without one still connect).
     * It holds only our own certificate: partners are pinned by fingerprint, not trusted
     * as issuers. */
    ops[3] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->cert_pem.ptr};
    ops[4] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

/* Writing to a socket the peer closed must fail with EPIPE, not end the process; the TLS path
 * does not always pass MSG_NOSIGNAL. An application that set its own handler keeps it. */
static void ignore_sigpipe(void)
{
    struct sigaction sa;

    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

/*
 * The route table, in match order: the audit log's routes when this node serves its log, the
 * event stream, the JSON API (sessions and configuration before its prefix), the dashboard's
 * page and assets (/, /index.html, /assets/), and TAXII last, which takes every other path (and
 * answers 404 for those that are not TAXII resources). A new endpoint adds its route here
 * (docs/internals/http.md).
 */
static void routes_init(struct tq_server *srv)
{
    if (srv->audit) {
        srv->routes[srv->n_routes++] = &tq__http_route_log_openings;
        srv->routes[srv->n_routes++] = &tq__http_route_log_add;
        srv->routes[srv->n_routes++] = &tq__http_route_log;
    }
    srv->routes[srv->n_routes++] = &tq__http_route_events;
    srv->routes[srv->n_routes++] = &tq__http_route_screen_batch;
    srv->routes[srv->n_routes++] = &tq__http_route_screen;
    srv->routes[srv->n_routes++] = &tq__http_route_session;
    srv->routes[srv->n_routes++] = &tq__http_route_config;
    srv->routes[srv->n_routes++] = &tq__http_route_json;
    srv->routes[srv->n_routes++] = &tq__http_route_psi;
    srv->routes[srv->n_routes++] = &tq__http_route_web_root;
    srv->routes[srv->n_routes++] = &tq__http_route_web_index;
    srv->routes[srv->n_routes++] = &tq__http_route_web_assets;
    srv->routes[srv->n_routes++] = &tq__http_route_taxii;
}

/*
 * The node's own routes come before TAXII in the table, so an api root whose path one of them
 * takes would be unreachable: the root's path must reach TAXII. (Discovery's own segment is
 * refused by segment_ok.)
 */
static tq_rc api_root_free(const struct tq_server *srv, struct tq_err *err)
{
    char probe[TQ_HTTP_HOST_MAX + 8];

    snprintf(probe, sizeof(probe), "/%s/", srv->api_root);
    if (route_find(srv, probe) != &tq__http_route_taxii)
        return tq_err_set(err, TQ_ECONFIG, "api root '%.64s' is taken by the node's own routes",
                          srv->api_root);
    return TQ_OK;
}

/* The server's own state from cfg: strings, the TAXII context and the TLS material. */
static tq_rc server_new(struct tq_store *store, const struct tq_server_config *cfg,
                        const char *api_root, struct tq_server **out, struct tq_err *err)
{
    struct tq_server *srv = tq_xcalloc(1, sizeof(*srv));
    tq_rc rc;

    tq_buf_init(&srv->cert_pem, 1u << 20);
    tq_buf_init(&srv->key_pem, 1u << 20);
    *out = srv;
    srv->tls = !cfg->plain_http;
    srv->title = tq_xstrdup(cfg->title ? cfg->title : "tansiq");
    srv->tile_url = tq_xstrdup(cfg->map_tile_url ? cfg->map_tile_url : "");
    srv->web_limits.idle_s =
        cfg->web_session_idle_s ? cfg->web_session_idle_s : TQ_WEB_SESSION_IDLE_S_DEFAULT;
    srv->web_limits.max_s =
        cfg->web_session_max_s ? cfg->web_session_max_s : TQ_WEB_SESSION_MAX_S_DEFAULT;
    srv->throttle = tq_web_throttle_new();
    if (srv->tile_url[0]) {
        char origin[TQ_WEB_ORIGIN_MAX];

        rc = tq_web_tile_origin(srv->tile_url, origin, err);
        if (rc)
            return rc;
        tq_web_csp(origin, srv->csp);
    } else {
        tq_web_csp(NULL, srv->csp);
    }
    srv->api_root = tq_xstrdup(api_root);
    srv->taxii.store = store;
    rc = tq_screening_new(store, &srv->screening, err);
    if (rc)
        return rc;
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
    routes_init(srv);
    rc = api_root_free(srv, err);
    if (rc == TQ_OK)
        rc = tq__taxii_cursor_key_load(store, srv->taxii.cursor_key, err);
    if (rc || !srv->tls)
        return rc;
    rc = tq_file_read(cfg->cert_pem_path, 1u << 20, &srv->cert_pem, err);
    if (rc)
        return rc;
    rc = tq_file_read(cfg->key_pem_path, 1u << 20, &srv->key_pem, err);
    if (rc)
        return rc;
    /* Best effort: the TLS key stays out of swap and core files (RLIMIT_MEMLOCK). */
    (void)sodium_mlock(srv->key_pem.ptr, srv->key_pem.cap);
    return TQ_OK;
}

tq_rc tq_server_start(struct tq_store *store, const struct tq_server_config *cfg,
                      struct tq_server **out, struct tq_err *err)
{
    struct tq_server *srv = NULL;
    struct sockaddr_storage ss;
    const char *addr = cfg->listen_addr ? cfg->listen_addr : "127.0.0.1";
    const char *api_root = cfg->api_root ? cfg->api_root : "api";
    unsigned timeout_s = cfg->conn_timeout_s ? cfg->conn_timeout_s : DEFAULT_TIMEOUT_S;
    bool v6, loopback;
    unsigned flags, threads, max_conns;
    const union MHD_DaemonInfo *info;
    struct MHD_OptionItem tls_ops[5];
    tq_rc rc;

    tq_sodium_init();
    /*
     * A page of objects is a few hundred KiB. Above glibc's mmap threshold every response body
     * would be a fresh mmap, first-touch page faults and a munmap (16% of HTTPS time in a
     * profile of GET objects?limit=100); keep such buffers in the heap instead. Each arena keeps
     * up to 16 MiB free at its top, so a steady load does not give pages back and fault them in
     * again; beyond that, a free gives the rest back. (glibc's malloc_trim cannot shrink the
     * top of a worker thread's arena: with a higher threshold every arena stayed at its
     * high-water mark after a load, ~150 MB after 1,000 TLS connections.)
     */
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
    if (!listen_sockaddr(addr, cfg->port, &ss, &v6, &loopback))
        return tq_err_set(err, TQ_ECONFIG, "listen address '%.64s' is not a numeric address", addr);
    if (cfg->plain_http && !loopback)
        return tq_err_set(err, TQ_ECONFIG,
                          "plain HTTP is refused on %.64s: it is allowed on loopback only", addr);
    if (!cfg->plain_http && (!cfg->cert_pem_path || !cfg->key_pem_path))
        return tq_err_set(err, TQ_ECONFIG, "TLS needs a certificate and a key");
    if (!segment_ok(api_root))
        return tq_err_set(err, TQ_ECONFIG, "api root '%.64s' is not a plain path segment",
                          api_root);

    rc = server_new(store, cfg, api_root, &srv, err);
    if (rc)
        goto fail;
    srv->auth = tq__access_verifier_new(AUTH_CACHE_SLOTS, AUTH_CACHE_TTL_US, default_threads() / 2);
    threads = cfg->threads ? cfg->threads : default_threads();
    tls_options(srv, tls_ops);
    ignore_sigpipe();

    max_conns = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNS;
    srv->gov = tq__http_gov_new(
        max_conns, cfg->max_connections_per_ip ? cfg->max_connections_per_ip : DEFAULT_PER_IP,
        timeout_s);
    srv->events = tq__http_events_new(cfg->events_heartbeat_s ? cfg->events_heartbeat_s
                                                              : TQ_HTTP_HEARTBEAT_S_DEFAULT);
    /* framing_error reads the header block as 0.9.75 leaves it; other versions parse
     * differently (and more strictly themselves). */
    srv->raw_framing = strcmp(MHD_get_version(), "0.9.75") == 0;
    if (!srv->raw_framing)
        tq_log(TQ_LOG_WARN, "http: libmicrohttpd %s: the header-block framing checks are off",
               MHD_get_version());

    /* Suspend and resume: an event stream with nothing to send waits suspended (events.c). */
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (srv->tls)
        flags |= MHD_USE_TLS;
    srv->daemon = MHD_start_daemon(
        flags, cfg->port, tq__http_gov_accept, srv->gov, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
        tq__http_gov_mhd_log, srv->gov, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)max_conns, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_ARRAY, tls_ops,
        MHD_OPTION_END);
    if (!srv->daemon) {
        rc = tq_err_set(err, srv->tls ? TQ_ETLS : TQ_EIO,
                        "cannot serve on %.64s port %u (address in use, or bad certificate/key)",
                        addr, (unsigned)cfg->port);
        goto fail;
    }
    srv->monitor = cfg->monitor;
    srv->psi = cfg->psi;
    rc = tq__http_gov_start(srv->gov, err);
    if (!rc)
        rc = tq__http_events_attach(srv->events, store, cfg->monitor, err);
    if (!rc)
        rc = tq__http_events_start(srv->events, err);
    if (rc)
        goto fail;
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
    /* Streams end first: libmicrohttpd may not stop with suspended connections. */
    tq__http_events_close(srv->events);
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    tq__http_events_free(srv->events);
    tq__http_gov_free(srv->gov); /* after the daemon: no connection is listed any more */
    tq__access_verifier_free(srv->auth);
    if (srv->key_pem.ptr)
        sodium_munlock(srv->key_pem.ptr, srv->key_pem.cap); /* zeroes it too */
    tq_buf_cleanup(&srv->key_pem);
    tq_buf_cleanup(&srv->cert_pem);
    sodium_memzero(srv->taxii.cursor_key, sizeof(srv->taxii.cursor_key));
    tq_screening_free(srv->screening);
    tq_web_throttle_free(srv->throttle);
    tq_free(srv->tile_url);
    tq_free(srv->title);
    tq_free(srv->api_root);
    tq_free(srv);
}
