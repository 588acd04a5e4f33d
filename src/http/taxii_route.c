/* SPDX-License-Identifier: Apache-2.0
 *
 * http/taxii_route.c - TAXII 2.1 as a route of the server: the fallback route, which takes
 * every path no other route claims.
 *
 * Before authentication it routes the path to a TAXII resource (404), checks the method
 * against the resource (405 with its Allow) and the Accept header (406); the server then
 * authenticates a user or a partner node (401); for a POST the headers callback checks the
 * Content-Type (400 for a charset other than utf-8, 415), Content-Length (413) and write access
 * to the collection (404/403, src/access) before the body is read. src/taxii builds the answer.
 * Every answer, refusals included, is application/taxii+json;version=2.1; refusals are TAXII
 * error resources.
 */
#include <stdatomic.h>
#include <string.h>

#include "http/http.h"

#define PURGE_EVERY_US (600 * (int64_t)1000000)

/* Only host names, IPv4 and bracketed IPv6 literals with a port are reflected. */
static bool host_ok(const char *h, size_t len)
{
    size_t i;

    if (len == 0 || len > TQ_HTTP_HOST_MAX)
        return false;
    for (i = 0; i < len; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return false;
    }
    return true;
}

static void base_url(const struct tq__http_req *rq, char *out, size_t out_size)
{
    const struct tq_server *srv = rq->srv;
    size_t len;
    const char *h = tq__http_req_header(rq, MHD_HTTP_HEADER_HOST, &len);
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

/* The TAXII path of the request (the handler's per-request state); NULL before routing. */
static struct tq_taxii_path *taxii_path(struct tq__http_req *rq)
{
    return rq->data;
}

static void taxii_resolve(struct tq__http_req *rq)
{
    const char *q = strchr(rq->target, '?'), *v;
    struct tq_taxii_path *path = tq_xcalloc(1, sizeof(*path));
    size_t len;

    rq->data = path;
    if (!tq__taxii_route(
            (struct tq_str){rq->target, q ? (size_t)(q - rq->target) : strlen(rq->target)},
            rq->srv->api_root, path)) {
        tq__http_req_fail(rq, 404, "no such resource");
        return;
    }
    if (!(tq__taxii_route_methods(path->route) & rq->method)) {
        tq__http_req_fail(rq, 405, "method not allowed on this resource");
        rq->err_allow = tq__taxii_route_allow(path->route);
        return;
    }
    v = tq__http_req_header(rq, MHD_HTTP_HEADER_ACCEPT, &len);
    if (!tq__http_accept_ok(v, len))
        tq__http_req_fail(rq, 406, "the Accept header must admit " TQ_TAXII_MEDIA);
}

/* A POST: media type, size and write access to the collection, before the body is read. */
static void taxii_headers(struct tq__http_req *rq)
{
    struct tq_collection c;
    struct tq_err err = {0};
    const char *v;
    size_t len;
    bool r, w;
    tq_rc rc;

    if (rq->method != TQ_METHOD_POST)
        return;
    v = tq__http_req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE, &len);
    if (!tq__http_content_type_charset_ok(v, len)) {
        tq__http_req_fail(rq, 400, "the request body must be UTF-8 (Content-Type charset)");
        return;
    }
    if (!tq__http_content_type_ok(v, len)) {
        tq__http_req_fail(rq, 415, "the Content-Type must be " TQ_TAXII_MEDIA);
        return;
    }
    tq__http_req_want_body(rq);
    if (rq->err_status)
        return;
    rc = tq__access_collection(rq->srv->taxii.store, &rq->who, taxii_path(rq)->seg1, TQ_NEED_WRITE,
                               &c, &r, &w, &err);
    if (rc) {
        tq__http_req_fail(rq, tq_rc_http_status(rc),
                          tq_rc_http_status(rc) >= 500 ? tq_rc_str(rc) : err.msg);
        return;
    }
    tq_collection_cleanup(&c);
}

/* The TAXII answer as the server's response: its body moves, its headers are copied. */
static void taxii_resp_move(struct tq_taxii_resp *tr, struct tq__http_resp *resp)
{
    struct tq_buf tmp = resp->body;

    resp->status = (unsigned)tr->status;
    resp->media_type = TQ_TAXII_MEDIA;
    resp->body = tr->body;
    tr->body = tmp;
    if (tr->has_dates) {
        tq__http_resp_header(resp, "X-TAXII-Date-Added-First", tr->date_first);
        tq__http_resp_header(resp, "X-TAXII-Date-Added-Last", tr->date_last);
    }
    if (tr->ignored[0])
        tq__http_resp_header(resp, "Tansiq-Ignored-Filters", tr->ignored);
    if (tr->allow)
        tq__http_resp_header(resp, MHD_HTTP_HEADER_ALLOW, tr->allow);
}

static void taxii_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_server *srv = rq->srv;
    struct tq_taxii_req treq;
    struct tq_taxii_resp tr;
    char base[TQ_HTTP_HOST_MAX + 16];

    memset(&treq, 0, sizeof(treq));
    base_url(rq, base, sizeof(base));
    treq.method = rq->method == TQ_METHOD_HEAD ? TQ_METHOD_GET : (enum tq_taxii_method)rq->method;
    treq.path = *taxii_path(rq);
    treq.who = rq->who;
    treq.base_url = base;
    treq.query = rq->query;
    treq.body = (struct tq_str){rq->body.ptr ? rq->body.ptr : "", rq->body.len};
    treq.received_us = rq->received_us;
    if (rq->method == TQ_METHOD_POST)
        maybe_purge(srv);

    tq__taxii_resp_init(&tr);
    tq__taxii_handle(&srv->taxii, &treq, &tr);
    tq_log(TQ_LOG_DEBUG, "http: route=%d status=%d %s=%s bytes=%zu", (int)treq.path.route,
           tr.status, tq__principal_kind_str(&rq->who), tq__principal_name(&rq->who), tr.body.len);
    taxii_resp_move(&tr, resp);
    tq__taxii_resp_cleanup(&tr);
}

static void taxii_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_taxii_resp tr;

    tq__taxii_resp_init(&tr);
    tq__taxii_error(&tr, rq->err_status, NULL, rq->err_desc);
    tq_log(TQ_LOG_DEBUG, "http: route=%d status=%d %s=%s",
           taxii_path(rq) ? (int)taxii_path(rq)->route : 0, rq->err_status,
           tq__principal_kind_str(&rq->who), tq__principal_name(&rq->who));
    taxii_resp_move(&tr, resp);
    tq__taxii_resp_cleanup(&tr);
}

const struct tq__http_route tq__http_route_taxii = {
    .path = "/",
    .match = TQ_HTTP_MATCH_PREFIX,
    .methods = 0, /* per resource: taxii_resolve */
    .auth = TQ_HTTP_AUTH_ANY,
    .max_body_bytes = 0, /* max_content_length */
    .too_big = "the request body exceeds max_content_length",
    .resolve = taxii_resolve,
    .headers = taxii_headers,
    .complete = taxii_complete,
    .refusal = taxii_refusal,
};
